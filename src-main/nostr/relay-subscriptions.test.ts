// Relay pool subscriptions and cursors: filter validation naming the field, the NIP-01 match every relayed event
// must pass, NIP-40 expiry, and the in-memory cursor store.
import { describe, expect, it } from 'vitest'
import type { VerifiedEvent } from './event-verifier'
import { RelayPoolError } from './relay-errors'
import { isExpired, matchesFilter, memoryCursorStore, validateFilter } from './relay-subscriptions'

const A = 'a'.repeat(64)
const B = 'b'.repeat(64)
const ev = (over: Partial<VerifiedEvent> = {}): VerifiedEvent =>
  ({
    id: '1'.repeat(64),
    pubkey: A,
    kind: 30079,
    created_at: 1000,
    tags: [['p', B]],
    content: '',
    sig: '',
    ...over,
  }) as VerifiedEvent

describe('filters', () => {
  it('rejects bad filters with a typed error naming the field', () => {
    try {
      validateFilter({ authors: ['nothex'] }, 2)
      expect.unreachable()
    } catch (e) {
      expect(e).toBeInstanceOf(RelayPoolError)
      expect((e as RelayPoolError).field).toBe('filters[2].authors')
    }
    expect(() => validateFilter({ kinds: [1.5] })).toThrow(/kinds/)
    expect(() => validateFilter({ since: -1 })).toThrow(/since/)
    expect(() => validateFilter({ bogus: 1 } as never)).toThrow(/bogus/)
    expect(() => validateFilter({ authors: [A], kinds: [1], '#p': [B], since: 0, limit: 10 })).not.toThrow()
  })

  it('matches by ids, authors, kinds, since/until and tag values; a relay sending anything else is not believed', () => {
    expect(matchesFilter(ev(), { authors: [A], kinds: [30079], '#p': [B], since: 1000, until: 1000 })).toBe(true)
    expect(matchesFilter(ev(), { authors: [B] })).toBe(false)
    expect(matchesFilter(ev(), { kinds: [1] })).toBe(false)
    expect(matchesFilter(ev(), { since: 1001 })).toBe(false)
    expect(matchesFilter(ev(), { until: 999 })).toBe(false)
    expect(matchesFilter(ev(), { '#p': [A] })).toBe(false)
    expect(matchesFilter(ev(), { ids: [B] })).toBe(false)
  })

  it('NIP-40: expired at or before now, never without a parsable tag', () => {
    expect(isExpired(ev({ tags: [['expiration', '100']] }), 100)).toBe(true)
    expect(isExpired(ev({ tags: [['expiration', '101']] }), 100)).toBe(false)
    expect(isExpired(ev({ tags: [['expiration', 'soon']] }), 100)).toBe(false)
    expect(isExpired(ev({ tags: [] }), 100)).toBe(false)
  })
})

describe('cursor store', () => {
  it('remembers the last value per key', async () => {
    const c = memoryCursorStore()
    expect(await c.get('k')).toBeUndefined()
    await c.set('k', 5)
    await c.set('k', 7)
    expect(await c.get('k')).toBe(7)
    expect(c.values.size).toBe(1)
  })
})
