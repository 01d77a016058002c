// Clock interface: every service takes time from here so tests can move it and fault-inject skew.

export interface Clock {
  /** Milliseconds since the Unix epoch. */
  nowMs(): number
}

export const systemClock: Clock = { nowMs: () => Date.now() }

/** A clock that only moves when told to; for deterministic tests. */
export function manualClock(startMs: number): Clock & { advanceMs(deltaMs: number): void; setMs(ms: number): void } {
  let t = startMs
  return {
    nowMs: () => t,
    advanceMs: (d) => {
      t += d
    },
    setMs: (ms) => {
      t = ms
    },
  }
}

export const nowSec = (c: Clock): number => Math.floor(c.nowMs() / 1000)
