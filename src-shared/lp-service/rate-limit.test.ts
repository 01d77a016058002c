import { describe, expect, it } from 'vitest'
import { TokenBuckets } from './rate-limit'

describe('token buckets', () => {
  it('allows a burst of `capacity`, then refills at the set rate, per key', () => {
    const b = new TokenBuckets({ capacity: 3, refillTokens: 1, perMs: 1000 })
    const t0 = 1_000_000
    expect([1, 2, 3, 4].map(() => b.take('a', t0))).toEqual([true, true, true, false])
    // Another key is untouched by a's flood.
    expect(b.take('b', t0)).toBe(true)
    expect(b.take('a', t0 + 999)).toBe(false)
    expect(b.take('a', t0 + 1000)).toBe(true)
    expect(b.take('a', t0 + 1000)).toBe(false)
    // A long pause refills to capacity, never beyond.
    expect([1, 2, 3, 4].map(() => b.take('a', t0 + 60_000))).toEqual([true, true, true, false])
  })

  it('keeps at most maxBuckets, dropping the least recently used', () => {
    const b = new TokenBuckets({ capacity: 1, refillTokens: 1, perMs: 1_000_000, maxBuckets: 2 })
    expect(b.take('a', 0)).toBe(true)
    expect(b.take('b', 0)).toBe(true)
    expect(b.take('c', 0)).toBe(true)
    expect(b.size).toBe(2)
    // 'a' was evicted, so it starts full again; 'c' is still empty.
    expect(b.take('c', 0)).toBe(false)
    expect(b.take('a', 0)).toBe(true)
  })

  it('refuses non-integer settings', () => {
    expect(() => new TokenBuckets({ capacity: 1.5, refillTokens: 1, perMs: 1 })).toThrow(/capacity/)
    expect(() => new TokenBuckets({ capacity: 1, refillTokens: 0, perMs: 1 })).toThrow(/refillTokens/)
  })
})
