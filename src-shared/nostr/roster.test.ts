import { describe, expect, it } from 'vitest'
import { keys, signers, T0 } from '../../test/support/fleet-fixture'
import {
  buildRosterTemplate,
  membershipAt,
  parseRosterEvent,
  type Roster,
  RosterError,
  rosterAt,
  rosterChanges,
} from './roster'

const s = signers()
const A = keys.atmPk
const B = keys.otherPk

async function roster(members: string[], at: number): Promise<Roster> {
  return parseRosterEvent(await s.operator.signEvent(buildRosterTemplate(members, at)), keys.operatorPk)
}

describe('roster', () => {
  it('template: kind 30000, d satmachine:fleet, one p per ATM', () => {
    const t = buildRosterTemplate([A, B], T0)
    expect(t.kind).toBe(30000)
    expect(t.tags).toEqual([
      ['d', 'satmachine:fleet'],
      ['title', 'Satmachine fleet'],
      ['p', A],
      ['p', B],
    ])
    expect(() => buildRosterTemplate([A, A], T0)).toThrow(RosterError)
    expect(() => buildRosterTemplate(['xyz'], T0)).toThrow('members')
  })
  it('parse refuses foreign authors, wrong d and repeated members', async () => {
    const ev = await s.other.signEvent(buildRosterTemplate([A], T0))
    expect(() => parseRosterEvent(ev, keys.operatorPk)).toThrow('pubkey')
    const wrongD = await s.operator.signEvent({
      ...buildRosterTemplate([A], T0),
      tags: [
        ['d', 'x'],
        ['p', A],
      ],
    })
    expect(() => parseRosterEvent(wrongD, keys.operatorPk)).toThrow('tags.d')
    const dup = await s.operator.signEvent({
      ...buildRosterTemplate([A], T0),
      tags: [
        ['d', 'satmachine:fleet'],
        ['p', A],
        ['p', A],
      ],
    })
    expect(() => parseRosterEvent(dup, keys.operatorPk)).toThrow('repeats')
  })
  it('membership over history: member, revoked from the dropping version on, re-added, never listed', async () => {
    const r1 = await roster([A], T0 - 1000)
    const r2 = await roster([A, B], T0 - 500)
    const r3 = await roster([B], T0 - 100)
    const r4 = await roster([A, B], T0 + 100)
    const h = [r3, r1, r4, r2]
    expect(membershipAt(h, A, T0 - 1001).status).toBe('no_roster')
    expect(membershipAt(h, A, T0 - 1000).status).toBe('member')
    expect(membershipAt(h, B, T0 - 1000).status).toBe('not_listed')
    expect(membershipAt(h, A, T0 - 101).status).toBe('member')
    expect(membershipAt(h, A, T0 - 100)).toMatchObject({ status: 'revoked', revokedAt: T0 - 100 })
    expect(membershipAt(h, A, T0 + 99)).toMatchObject({ status: 'revoked', revokedAt: T0 - 100 })
    expect(membershipAt(h, A, T0 + 100).status).toBe('member')
    expect(rosterAt(h, T0)?.eventId).toBe(r3.eventId)
    expect(rosterChanges(r2, r3)).toEqual({ added: [], removed: [A] })
    expect(rosterChanges(null, r1)).toEqual({ added: [A], removed: [] })
  })
  it('two versions with the same created_at: the lower id is in force (NIP-01)', async () => {
    const x = await roster([A], T0)
    const y = await roster([B], T0)
    const low = x.eventId < y.eventId ? x : y
    expect(rosterAt([x, y], T0)?.eventId).toBe(low.eventId)
    expect(rosterAt([y, x], T0)?.eventId).toBe(low.eventId)
  })
})
