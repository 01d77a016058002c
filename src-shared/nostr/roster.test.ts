import { describe, expect, it } from 'vitest'
import { keys, signers, T0 } from '../../test/support/fleet-fixture'
import {
  buildRosterTemplate,
  effectiveRosterHistory,
  membershipAt,
  nextRosterCreatedAt,
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

  it('nextRosterCreatedAt is monotonic: max(now, previous + 1)', () => {
    expect(nextRosterCreatedAt(T0, null)).toBe(T0)
    expect(nextRosterCreatedAt(T0, undefined)).toBe(T0)
    expect(nextRosterCreatedAt(T0, T0)).toBe(T0 + 1)
    expect(nextRosterCreatedAt(T0, T0 + 5)).toBe(T0 + 6)
    expect(nextRosterCreatedAt(T0, T0 - 10)).toBe(T0)
    expect(() => nextRosterCreatedAt(T0, -1)).toThrow('previousCreatedAt')
    expect(() => nextRosterCreatedAt(1.5, null)).toThrow('nowSec')
  })
  it('two versions with the same created_at: the lowest id is in force, the other never counts', async () => {
    // Sign two different lists at the same second; which one wins depends only on the ids (NIP-01 tie-break).
    const x = await roster([A], T0)
    const y = await roster([B], T0)
    const [winner, loser] = x.eventId < y.eventId ? [x, y] : [y, x]
    const winnerKey = winner.members[0]!
    const loserKey = loser.members[0]!
    for (const h of [
      [x, y],
      [y, x],
    ]) {
      expect(rosterAt(h, T0)?.eventId).toBe(winner.eventId)
      expect(effectiveRosterHistory(h).map((r) => r.eventId)).toEqual([winner.eventId])
      expect(membershipAt(h, winnerKey, T0).status).toBe('member')
      // Listed only by the superseded version: never authorised, so not "revoked" either.
      expect(membershipAt(h, loserKey, T0).status).toBe('not_listed')
      expect(membershipAt(h, loserKey, T0 + 100).status).toBe('not_listed')
    }
    // A later version dropping the winner's key revokes it from that version's created_at.
    const drop = await roster([], T0 + 10)
    for (const h of [
      [x, y, drop],
      [drop, y, x],
    ]) {
      expect(membershipAt(h, winnerKey, T0 + 10)).toMatchObject({ status: 'revoked', revokedAt: T0 + 10 })
      expect(membershipAt(h, loserKey, T0 + 10).status).toBe('not_listed')
    }
  })
})
