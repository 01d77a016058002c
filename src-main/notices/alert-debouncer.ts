// Operator alert debouncer with hysteresis (issue 5 item 5; Lamassu operators got
// false "machine down/up" alerts 5–10 times a day and asked for alerts "without repeats"). Pure and clock-injected:
// callers report whether a condition holds (`update`) and call `tick` periodically; both return the decisions to
// act on (raise, remind, resolve), so the service decides where messages go and the rules stay testable.
//
// Per condition key, a small state machine:
//   idle ──active──▶ pending ──held raiseAfterMs (and minGapMs since the last message)──▶ alerted  ⇒ "raised"
//   pending ──inactive──▶ idle                               (a blip shorter than raiseAfterMs never alerts)
//   alerted ──inactive──▶ clearing ──held clearAfterMs──▶ idle  ⇒ "resolved"
//   clearing ──active──▶ alerted                             (flapping while alerted sends nothing more)
//   alerted ── every remindEveryMs ──▶ alerted               ⇒ "reminder"
import type { Clock } from '../../src-shared/clock'

export interface DebounceRules {
  /** The condition must hold this long before the first message. */
  raiseAfterMs: number
  /** It must stay clear this long before "resolved" is sent (and a new raise can start). */
  clearAfterMs: number
  /** While it holds, remind this often; 0 = never. */
  remindEveryMs: number
  /** At least this long between two messages about the same key (a resolve followed by a fresh raise). */
  minGapMs: number
}

export const DEFAULT_DEBOUNCE: DebounceRules = {
  raiseAfterMs: 60_000,
  clearAfterMs: 5 * 60_000,
  remindEveryMs: 6 * 60 * 60_000,
  minGapMs: 15 * 60_000,
}

export type AlertPhase = 'raised' | 'reminder' | 'resolved'

export interface AlertDecision<T> {
  key: string
  phase: AlertPhase
  /** The newest details reported for the condition. */
  alert: T
  atMs: number
}

type State = 'idle' | 'pending' | 'alerted' | 'clearing'

interface KeyState<T> {
  state: State
  sinceMs: number
  lastMessageAtMs: number | null
  alert: T
}

export class AlertDebouncer<T> {
  private readonly keys = new Map<string, KeyState<T>>()
  private readonly defaults: DebounceRules

  constructor(
    private readonly clock: Clock,
    rules: Partial<DebounceRules> = {},
    private readonly rulesFor: (key: string) => Partial<DebounceRules> = () => ({}),
  ) {
    this.defaults = { ...DEFAULT_DEBOUNCE, ...rules }
    checkRules(this.defaults)
  }

  /** Reports the condition's current truth; `alert` (its details) is required while it is active. */
  update(key: string, active: boolean, alert?: T): AlertDecision<T>[] {
    if (typeof key !== 'string' || key.length === 0) throw new TypeError('key must be a non-empty string')
    const now = this.clock.nowMs()
    let k = this.keys.get(key)
    if (active) {
      if (alert === undefined) throw new TypeError('alert details are required while the condition is active')
      if (!k) {
        k = { state: 'pending', sinceMs: now, lastMessageAtMs: null, alert }
        this.keys.set(key, k)
      } else {
        k.alert = alert
        if (k.state === 'idle') {
          k.state = 'pending'
          k.sinceMs = now
        } else if (k.state === 'clearing') {
          k.state = 'alerted'
          k.sinceMs = now
        }
      }
    } else if (k) {
      if (k.state === 'pending') k.state = 'idle'
      else if (k.state === 'alerted') {
        k.state = 'clearing'
        k.sinceMs = now
      }
    }
    return this.evaluate(key, now)
  }

  /** Re-evaluates every key against the clock (timers fire "raised" after the hold time, reminders, resolves). */
  tick(): AlertDecision<T>[] {
    const now = this.clock.nowMs()
    const out: AlertDecision<T>[] = []
    for (const key of [...this.keys.keys()]) out.push(...this.evaluate(key, now))
    return out
  }

  /** Current state of a key, for the UI and tests. */
  stateOf(key: string): State {
    return this.keys.get(key)?.state ?? 'idle'
  }

  /** The keys that are alerted (or clearing) now. */
  activeKeys(): string[] {
    return [...this.keys].filter(([, k]) => k.state === 'alerted' || k.state === 'clearing').map(([key]) => key)
  }

  private rules(key: string): DebounceRules {
    const r = { ...this.defaults, ...this.rulesFor(key) }
    checkRules(r)
    return r
  }

  private evaluate(key: string, now: number): AlertDecision<T>[] {
    const k = this.keys.get(key)
    if (!k) return []
    const r = this.rules(key)
    const decide = (phase: AlertPhase): AlertDecision<T>[] => {
      k.lastMessageAtMs = now
      return [{ key, phase, alert: k.alert, atMs: now }]
    }
    const gapOk = k.lastMessageAtMs === null || now - k.lastMessageAtMs >= r.minGapMs
    switch (k.state) {
      case 'pending':
        if (now - k.sinceMs >= r.raiseAfterMs && gapOk) {
          k.state = 'alerted'
          k.sinceMs = now
          return decide('raised')
        }
        return []
      case 'alerted':
        if (r.remindEveryMs > 0 && k.lastMessageAtMs !== null && now - k.lastMessageAtMs >= r.remindEveryMs)
          return decide('reminder')
        return []
      case 'clearing':
        if (now - k.sinceMs >= r.clearAfterMs) {
          k.state = 'idle'
          k.sinceMs = now
          return decide('resolved')
        }
        return []
      default:
        return []
    }
  }
}

function checkRules(r: DebounceRules): void {
  for (const [name, v] of Object.entries(r))
    if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`${name} must be a non-negative integer (ms)`)
}
