// Relay pool, subscriptions and cursors (NIP-01 filters, NIP-40 expiry): what a subscriber asks for, the checks a
// filter passes at the boundary (naming the field), the match every relayed event must pass before it is believed,
// and the persisted cursor store that lets a console resume where it stopped (the cursor rule is explained at the
// top of relay-pool.ts).
import type { VerifiedEvent } from './event-verifier'
import { RelayPoolError } from './relay-errors'

/** NIP-01 filter. Tag filters use `#<letter>` keys. */
export interface Filter {
  ids?: string[]
  authors?: string[]
  kinds?: number[]
  since?: number
  until?: number
  limit?: number
  [tag: `#${string}`]: string[] | undefined
}

/** Persisted subscription cursors (the lead backs this with the ledger). Values are created_at in seconds. */
export interface CursorStore {
  get(key: string): Promise<number | undefined>
  set(key: string, createdAtSec: number): Promise<void>
}

export interface SubscriptionSpec {
  /** Cursor key; required to resume across restarts. Unique among open subscriptions. */
  key?: string
  filters: Filter[]
  /** Re-fetch this many seconds before the cursor on resume. Default 600. */
  overlapSec?: number
  /** Relays to use; default all. */
  relays?: readonly string[]
  onEvent(ev: VerifiedEvent, ctx: { relay: string }): void | Promise<void>
  /** Called after the stored events of one relay (all pages) have been delivered. */
  onCaughtUp?(relay: string): void
}

export interface PoolSubscription {
  readonly key: string
  close(): void
}

const HEX64 = /^[0-9a-f]{64}$/

/** Checks a filter at the boundary and names the offending field. */
export function validateFilter(f: Filter, index = 0): void {
  const at = (k: string) => `filters[${index}].${k}`
  if (typeof f !== 'object' || f === null) throw new RelayPoolError('invalid-filter', 'filter is not an object', at(''))
  for (const [k, v] of Object.entries(f)) {
    if (v === undefined) continue
    if (k === 'ids' || k === 'authors' || k === '#e' || k === '#p') {
      if (!Array.isArray(v) || !v.every((x) => typeof x === 'string' && HEX64.test(x)))
        throw new RelayPoolError('invalid-filter', `${at(k)} must be 64-char lowercase hex strings`, at(k))
    } else if (k === 'kinds') {
      if (!Array.isArray(v) || !v.every((x) => Number.isInteger(x) && x >= 0 && x <= 65535))
        throw new RelayPoolError('invalid-filter', `${at(k)} must be integers 0..65535`, at(k))
    } else if (k === 'since' || k === 'until' || k === 'limit') {
      if (!Number.isSafeInteger(v) || (v as number) < 0)
        throw new RelayPoolError('invalid-filter', `${at(k)} must be a non-negative integer`, at(k))
    } else if (/^#[a-zA-Z]$/.test(k)) {
      if (!Array.isArray(v) || !v.every((x) => typeof x === 'string'))
        throw new RelayPoolError('invalid-filter', `${at(k)} must be an array of strings`, at(k))
    } else {
      throw new RelayPoolError('invalid-filter', `${at(k)} is not a NIP-01 filter field`, at(k))
    }
  }
}

/** NIP-01 match (limit ignored). A relay that sends events outside our filter is not believed. */
export function matchesFilter(ev: VerifiedEvent, f: Filter): boolean {
  if (f.ids && !f.ids.includes(ev.id)) return false
  if (f.authors && !f.authors.includes(ev.pubkey)) return false
  if (f.kinds && !f.kinds.includes(ev.kind)) return false
  if (f.since !== undefined && ev.created_at < f.since) return false
  if (f.until !== undefined && ev.created_at > f.until) return false
  for (const [k, vals] of Object.entries(f)) {
    if (k.length !== 2 || k[0] !== '#' || !Array.isArray(vals)) continue
    const name = k[1]
    if (!ev.tags.some((t) => t[0] === name && t[1] !== undefined && (vals as string[]).includes(t[1]))) return false
  }
  return true
}

/** NIP-40: true when the event carries an expiration at or before `nowSec`. */
export function isExpired(ev: VerifiedEvent, nowSec: number): boolean {
  const tag = ev.tags.find((t) => t[0] === 'expiration')
  if (!tag || tag[1] === undefined) return false
  const at = Number(tag[1])
  return Number.isFinite(at) && at <= nowSec
}

/** An in-memory CursorStore, for tests and for running without a ledger. */
export function memoryCursorStore(): CursorStore & { values: Map<string, number> } {
  const values = new Map<string, number>()
  return {
    values,
    get: async (key) => values.get(key),
    set: async (key, v) => {
      values.set(key, v)
    },
  }
}
