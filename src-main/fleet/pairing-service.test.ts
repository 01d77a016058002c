// The pure parts of the pairing service: delegation status and days left, the worklist warnings, the once-a-day
// expiry notice, the roster state pairing builds on, and the ATM key extraction at the boundary.
import { npubEncode } from 'nostr-tools/nip19'
import { describe, expect, it } from 'vitest'
import { ApiError } from '../../src-shared/ipc/contract'
import type { IssuedDelegation } from '../../src-shared/nostr/pairing'
import type { Roster } from '../../src-shared/nostr/roster'
import { delegationViews, delegationWarnings, dueExpiryNotices, extractAtmKey, rosterState } from './pairing-service'

const DAY = 86_400
const NOW = 1_800_000_000
const A = 'aa'.repeat(32)
const B = 'bb'.repeat(32)
const C = 'cc'.repeat(32)

function deleg(atmPubkey: string, untilSec: number, issuedAt: number): IssuedDelegation {
  return {
    atmPubkey,
    delegatorPubkey: 'dd'.repeat(32),
    conditions: `kind=30079&created_at>${untilSec - 90 * DAY}&created_at<${untilSec}`,
    token: 'ee'.repeat(64),
    createdAfter: untilSec - 90 * DAY,
    createdBefore: untilSec,
    issuedAt,
  }
}

const roster = (members: string[], createdAt: number): Roster =>
  ({ members, createdAt, eventId: String(createdAt).padStart(64, '0') }) as unknown as Roster

describe('delegationViews', () => {
  it('derives status and whole days left, flags the newest per ATM, and marks ATMs dropped from the roster', () => {
    const views = delegationViews(
      [
        deleg(A, NOW + 20 * DAY, NOW - 70 * DAY),
        deleg(A, NOW + 14 * DAY, NOW - 76 * DAY),
        deleg(B, NOW - 1, 1),
        deleg(C, NOW + DAY, 2),
      ],
      { members: [A, B], createdAt: NOW - 5 },
      new Map([[A, 'atm-a']]),
      NOW,
    )
    expect(views.map((v) => [v.atmPubkey, v.status, v.daysLeft, v.newest])).toEqual([
      [A, 'active', 20, true],
      [A, 'expiring', 14, false],
      [C, 'revoked', 1, true],
      [B, 'expired', 0, true],
    ])
    expect(views[0]?.machineId).toBe('atm-a')
    expect(views[2]?.machineId).toBeNull()
  })

  it('no roster yet: nothing is revoked', () => {
    const [v] = delegationViews([deleg(A, NOW + 30 * DAY, 1)], { members: [], createdAt: null }, new Map(), NOW)
    expect(v?.status).toBe('active')
  })
})

describe('delegationWarnings', () => {
  it('lists only the newest delegation of non-revoked ATMs that expire within 14 days or expired, soonest first', () => {
    const views = delegationViews(
      [deleg(A, NOW + 3 * DAY, 1), deleg(B, NOW - DAY, 2), deleg(C, NOW + 2 * DAY, 3), deleg(A, NOW + 60 * DAY, 4)],
      { members: [A, B], createdAt: NOW },
      new Map(),
      NOW,
    )
    expect(delegationWarnings(views)).toEqual([
      { atmPubkey: B, machineId: null, untilSec: NOW - DAY, daysLeft: 0, state: 'expired' },
    ])
  })
})

describe('dueExpiryNotices', () => {
  const w = (atmPubkey: string, daysLeft: number) => ({
    atmPubkey,
    machineId: atmPubkey === A ? 'atm-a' : null,
    untilSec: NOW + daysLeft * DAY,
    daysLeft,
    state: 'expiring' as const,
  })

  it('notices each ATM once per UTC day, again the next day', () => {
    const t0 = NOW * 1000
    const first = dueExpiryNotices([w(A, 10), w(B, 3)], new Map(), t0)
    expect(first.notices.map((n) => n.text)).toEqual([
      'The delegation of ATM atm-a expires in 10 day(s): renew it',
      `The delegation of ATM ${B.slice(0, 12)}… expires in 3 day(s): renew it`,
    ])
    expect(first.notices.every((n) => n.level === 'warn' && n.atMs === t0)).toBe(true)
    const again = dueExpiryNotices([w(A, 10), w(B, 3)], first.lastNoticeDay, t0 + 3_600_000)
    expect(again.notices).toEqual([])
    const nextDay = dueExpiryNotices([w(A, 9)], again.lastNoticeDay, t0 + DAY * 1000)
    expect(nextDay.notices).toHaveLength(1)
    expect(nextDay.lastNoticeDay.get(B)).toBe(first.lastNoticeDay.get(B))
  })

  it('says expired for an expired delegation and leaves the input map untouched', () => {
    const last = new Map<string, number>()
    const r = dueExpiryNotices([{ ...w(A, 0), state: 'expired' }], last, NOW * 1000)
    expect(r.notices[0]?.text).toMatch(/has expired/)
    expect(last.size).toBe(0)
  })
})

describe('rosterState', () => {
  it('takes the members of the newest version and its created_at', () => {
    expect(rosterState([])).toEqual({ members: [], createdAt: null })
    expect(rosterState([roster([A], 10), roster([A, B], 12), roster([B], 11)])).toEqual({
      members: [A, B],
      createdAt: 12,
    })
  })
})

describe('extractAtmKey', () => {
  const realPk = '79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798'
  it('accepts hex, npub, and a text holding exactly one key', () => {
    expect(extractAtmKey(` ${realPk} `)).toBe(realPk)
    expect(extractAtmKey(npubEncode(realPk))).toBe(npubEncode(realPk))
    expect(extractAtmKey(`Pair me: ${npubEncode(realPk)} (ATM 7)`)).toBe(realPk)
    expect(extractAtmKey(`npub: ${npubEncode(realPk)} hex: ${realPk}`)).toBe(realPk)
    expect(extractAtmKey(`key=${realPk.toUpperCase()};`)).toBe(realPk)
  })

  it('refuses text with no key or two keys, naming args[0].atm', () => {
    for (const t of ['hello', `${realPk} ${'ab'.repeat(32)}`, 'a'.repeat(65)]) {
      try {
        extractAtmKey(t)
        expect.unreachable(t)
      } catch (e) {
        expect(e).toBeInstanceOf(ApiError)
        expect((e as ApiError).field).toBe('args[0].atm')
      }
    }
  })
})
