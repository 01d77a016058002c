// Per-pubkey token buckets for LP self-service (docs/lp-rpc.md §5): each pubkey has `capacity` tokens, refilled
// at `refillPerSec`; a request takes one token or is refused. One pubkey's flood empties only its own bucket, so
// everyone else is still answered. Time comes in as an argument (ms), so the limiter is pure and testable. The
// number of buckets is capped (oldest-touched evicted first) so a stream of throwaway keys cannot grow memory.
// Integer arithmetic only: tokens are kept in thousandths.

export interface RateLimitOptions {
  /** Burst size: requests a quiet pubkey may send at once. */
  capacity: number
  /** Sustained rate (tokens per second), as tokens per `perMs` to stay in integers. */
  refillTokens: number
  perMs: number
  /** Buckets kept; the least recently used is dropped beyond this. */
  maxBuckets?: number
}

export const DEFAULT_RATE_LIMIT: RateLimitOptions = { capacity: 10, refillTokens: 1, perMs: 3000, maxBuckets: 10_000 }

interface Bucket {
  milliTokens: number
  atMs: number
}

export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>()
  private readonly o: Required<RateLimitOptions>

  constructor(opts: RateLimitOptions = DEFAULT_RATE_LIMIT) {
    for (const k of ['capacity', 'refillTokens', 'perMs'] as const)
      if (!Number.isSafeInteger(opts[k]) || opts[k] <= 0) throw new RangeError(`${k} must be a positive integer`)
    this.o = { maxBuckets: 10_000, ...opts }
  }

  /** Takes one token for `key` at `nowMs`; false when the bucket is empty (the request is refused). */
  take(key: string, nowMs: number): boolean {
    const full = this.o.capacity * 1000
    let b = this.buckets.get(key)
    if (b) {
      this.buckets.delete(key)
      const elapsed = Math.max(0, nowMs - b.atMs)
      const refill = Math.floor((elapsed * this.o.refillTokens * 1000) / this.o.perMs)
      b = { milliTokens: Math.min(full, b.milliTokens + refill), atMs: refill > 0 ? nowMs : b.atMs }
    } else {
      b = { milliTokens: full, atMs: nowMs }
    }
    const ok = b.milliTokens >= 1000
    if (ok) b.milliTokens -= 1000
    this.buckets.set(key, b)
    while (this.buckets.size > this.o.maxBuckets) this.buckets.delete(this.buckets.keys().next().value as string)
    return ok
  }

  get size(): number {
    return this.buckets.size
  }
}
