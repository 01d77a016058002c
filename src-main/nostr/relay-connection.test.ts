// Relay pool connection helpers: the reconnect backoff and relay URL normalisation.
import { describe, expect, it } from 'vitest'
import { backoffDelayMs, DEFAULT_BACKOFF, normalizeRelayUrl } from './relay-connection'
import { RelayPoolError } from './relay-errors'

describe('reconnect backoff', () => {
  it('grows exponentially, is capped, and jitter only shortens it', () => {
    const p = { ...DEFAULT_BACKOFF, initialMs: 100, maxMs: 1000, factor: 2, jitterRatio: 0.5 }
    expect([0, 1, 2, 3, 4, 10].map((a) => backoffDelayMs(a, p, () => 0))).toEqual([100, 200, 400, 800, 1000, 1000])
    expect(backoffDelayMs(2, p, () => 0.999999)).toBe(200)
    expect(backoffDelayMs(2, p, () => 0.5)).toBe(300)
  })

  it('never goes negative, whatever the random source returns', () => {
    const p = { ...DEFAULT_BACKOFF, initialMs: 100, maxMs: 1000, factor: 2, jitterRatio: 1 }
    expect(backoffDelayMs(-3, p, () => 5)).toBe(0)
    expect(backoffDelayMs(1, p, () => -1)).toBe(200)
  })
})

describe('relay URLs', () => {
  it('accepts ws:// and wss:// only, without a trailing slash on a bare host, with a typed error naming the field', () => {
    expect(() => normalizeRelayUrl('http://x')).toThrow(RelayPoolError)
    expect(() => normalizeRelayUrl('not a url')).toThrow(/not a URL/)
    expect(normalizeRelayUrl('ws://127.0.0.1:7000/')).toBe('ws://127.0.0.1:7000')
    expect(normalizeRelayUrl('wss://relay.example/path/')).toBe('wss://relay.example/path/')
    try {
      normalizeRelayUrl('ftp://x')
      expect.unreachable()
    } catch (e) {
      expect((e as RelayPoolError).code).toBe('invalid-relay-url')
      expect((e as RelayPoolError).field).toBe('relays')
    }
  })
})
