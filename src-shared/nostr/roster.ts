// Fleet roster (kind 30000 NIP-51 follow set, d = "satmachine:fleet"), operator-signed: one p tag per authorised
// ATM key. Every version is kept; the roster in force at time t is the newest with created_at ≤ t, so dropping a
// key revokes it from that version's created_at on (docs/protocol.md §7). Two versions sharing a created_at are
// resolved as NIP-01 relays resolve them (lowest id wins), and the console never signs such a pair: each new
// version's created_at is strictly after the previous one's (`nextRosterCreatedAt`).
import type { EventTemplate, NostrEvent } from './event'
import { checkEvent, isHex64 } from './event'
import { D_FLEET_ROSTER, KIND_FOLLOW_SET } from './kinds'
import { compareVersions } from './machine-config'

export interface Roster {
  eventId: string
  createdAt: number
  signerPubkey: string
  /** Authorised ATM keys, lowercase hex, in tag order. */
  members: string[]
}

export class RosterError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`)
    this.name = 'RosterError'
  }
}

export const MAX_ROSTER_MEMBERS = 1000

/**
 * The created_at of a new roster version: now, or one second after the version it replaces when that is not
 * earlier. Two versions signed within the same second would otherwise share a created_at, and NIP-01 relays keep
 * only the one with the lowest id for an addressable event, which may be the older list (an ATM paired a moment
 * ago would silently drop out of the fleet).
 */
export function nextRosterCreatedAt(nowSec: number, previousCreatedAt: number | null | undefined): number {
  if (!Number.isSafeInteger(nowSec) || nowSec < 0) throw new RosterError('nowSec', 'must be a non-negative integer')
  if (previousCreatedAt === null || previousCreatedAt === undefined) return nowSec
  if (!Number.isSafeInteger(previousCreatedAt) || previousCreatedAt < 0)
    throw new RosterError('previousCreatedAt', 'must be a non-negative integer')
  return Math.max(nowSec, previousCreatedAt + 1)
}

/** The unsigned roster event: d, title, then one p per member in the given order (duplicates refused). */
export function buildRosterTemplate(members: readonly string[], createdAt: number): EventTemplate {
  const seen = new Set<string>()
  for (const m of members) {
    if (!isHex64(m)) throw new RosterError('members', `${m} is not a 64-hex public key`)
    if (seen.has(m)) throw new RosterError('members', `${m} is listed twice`)
    seen.add(m)
  }
  if (members.length > MAX_ROSTER_MEMBERS) throw new RosterError('members', `more than ${MAX_ROSTER_MEMBERS}`)
  return {
    kind: KIND_FOLLOW_SET,
    created_at: createdAt,
    tags: [['d', D_FLEET_ROSTER], ['title', 'Satmachine fleet'], ...members.map((m) => ['p', m])],
    content: '',
  }
}

/** Verifies a fetched roster event (id, signature, operator author, kind, d) and reads its members. */
export function parseRosterEvent(ev: NostrEvent, operatorPubkey: string): Roster {
  const check = checkEvent(ev)
  if (!check.ok) throw new RosterError('event', check.detail)
  if (ev.pubkey !== operatorPubkey) throw new RosterError('pubkey', 'roster is not signed by the operator key')
  if (ev.kind !== KIND_FOLLOW_SET) throw new RosterError('kind', `must be ${KIND_FOLLOW_SET}`)
  const ds = ev.tags.filter((t) => t[0] === 'd')
  if (ds.length !== 1 || ds[0]![1] !== D_FLEET_ROSTER) throw new RosterError('tags.d', `must be "${D_FLEET_ROSTER}"`)
  const members: string[] = []
  const seen = new Set<string>()
  ev.tags.forEach((t, i) => {
    if (t[0] !== 'p') return
    if (!isHex64(t[1])) throw new RosterError(`tags[${i}]`, 'p value must be 64 lowercase hex characters')
    if (seen.has(t[1]!)) throw new RosterError(`tags[${i}]`, 'p value repeats an earlier member')
    seen.add(t[1]!)
    members.push(t[1]!)
  })
  if (members.length > MAX_ROSTER_MEMBERS) throw new RosterError('tags.p', `more than ${MAX_ROSTER_MEMBERS} members`)
  return { eventId: ev.id, createdAt: ev.created_at, signerPubkey: ev.pubkey, members }
}

/**
 * The versions that are ever in force: of several versions sharing a created_at only the one with the lowest id
 * counts (the NIP-01 tie-break, so the console agrees with what relays keep); the others were superseded within
 * their own second and never authorised or revoked anyone. Sorted oldest first.
 */
export function effectiveRosterHistory(history: readonly Roster[]): Roster[] {
  const bySecond = new Map<number, Roster>()
  for (const r of history) {
    const cur = bySecond.get(r.createdAt)
    if (cur === undefined || compareVersions(r, cur) > 0) bySecond.set(r.createdAt, r)
  }
  return [...bySecond.values()].sort(compareVersions)
}

/** The roster version in force at time t: newest with createdAt ≤ t (tie: lowest id), or null. */
export function rosterAt(history: readonly Roster[], t: number): Roster | null {
  let best: Roster | null = null
  for (const r of history) if (r.createdAt <= t && (best === null || compareVersions(r, best) > 0)) best = r
  return best
}

export type Membership =
  | { status: 'member'; roster: Roster }
  /** Listed by an earlier version, dropped by `roster` (in force at t): revoked since roster.createdAt. */
  | { status: 'revoked'; roster: Roster; revokedAt: number }
  /** Never listed by a version in force at or before t. */
  | { status: 'not_listed'; roster: Roster }
  | { status: 'no_roster' }

/**
 * Membership of `pubkey` at time t according to the roster history. Versions superseded within their own second
 * (see effectiveRosterHistory) are left out, so a key listed only by such a version is `not_listed`, and the
 * answer does not depend on the order of `history`.
 */
export function membershipAt(history: readonly Roster[], pubkey: string, t: number): Membership {
  const effective = effectiveRosterHistory(history)
  const r = rosterAt(effective, t)
  if (r === null) return { status: 'no_roster' }
  if (r.members.includes(pubkey)) return { status: 'member', roster: r }
  const upTo = effective.filter((x) => x.createdAt <= r.createdAt)
  let lastListed = -1
  for (let i = 0; i < upTo.length; i++) if (upTo[i]!.members.includes(pubkey)) lastListed = i
  if (lastListed < 0) return { status: 'not_listed', roster: r }
  // The revocation time is that of the first version after the last listing: the one that dropped the key.
  return { status: 'revoked', roster: r, revokedAt: upTo[lastListed + 1]!.createdAt }
}

/** Keys added and removed between two versions (for the UI and the audit log). */
export function rosterChanges(prev: Roster | null, next: Roster): { added: string[]; removed: string[] } {
  const before = new Set(prev?.members ?? [])
  const after = new Set(next.members)
  return { added: next.members.filter((m) => !before.has(m)), removed: [...before].filter((m) => !after.has(m)) }
}
