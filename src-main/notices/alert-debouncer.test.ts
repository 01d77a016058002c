// Alert debouncer with a manual clock: hold times, flapping, reminders, minimum gap, per-key rules.
import { describe, expect, it } from 'vitest'
import { manualClock } from '../../src-shared/clock'
import { AlertDebouncer } from './alert-debouncer'

const rules = { raiseAfterMs: 1_000, clearAfterMs: 5_000, remindEveryMs: 60_000, minGapMs: 10_000 }
const phases = (ds: Array<{ phase: string }>) => ds.map((d) => d.phase)

describe('AlertDebouncer', () => {
  it('raises only after the condition held raiseAfterMs, and a short blip never alerts', () => {
    const clock = manualClock(0)
    const d = new AlertDebouncer<string>(clock, rules)
    expect(d.update('low', true, 'a')).toEqual([])
    clock.advanceMs(500)
    expect(d.update('low', false)).toEqual([])
    clock.advanceMs(5_000)
    expect(d.tick()).toEqual([])
    expect(d.update('low', true, 'b')).toEqual([])
    clock.advanceMs(999)
    expect(d.tick()).toEqual([])
    clock.advanceMs(1)
    expect(d.tick()).toEqual([{ key: 'low', phase: 'raised', alert: 'b', atMs: 6_500 }])
    expect(d.stateOf('low')).toBe('alerted')
  })

  it('sends one message for a flapping condition, then one resolve after it stays clear', () => {
    const clock = manualClock(0)
    const d = new AlertDebouncer<number>(clock, rules)
    const sent: string[] = []
    d.update('fail', true, 1)
    clock.advanceMs(1_000)
    sent.push(...phases(d.tick()))
    // Flap every 2 s for 48 s: never clear for 5 s, so nothing more is sent (the reminder is due only at 60 s).
    for (let i = 0; i < 24; i++) {
      clock.advanceMs(1_000)
      sent.push(...phases(d.update('fail', i % 2 === 1, i)))
      clock.advanceMs(1_000)
      sent.push(...phases(d.tick()))
    }
    expect(sent).toEqual(['raised'])
    d.update('fail', false)
    clock.advanceMs(4_999)
    expect(d.tick()).toEqual([])
    clock.advanceMs(1)
    expect(phases(d.tick())).toEqual(['resolved'])
    expect(d.stateOf('fail')).toBe('idle')
  })

  it('reminds while the condition holds and respects the minimum gap after a resolve', () => {
    const clock = manualClock(0)
    const d = new AlertDebouncer<string>(clock, rules)
    d.update('k', true, 'x')
    clock.advanceMs(1_000)
    expect(phases(d.tick())).toEqual(['raised'])
    clock.advanceMs(60_000)
    expect(phases(d.tick())).toEqual(['reminder'])
    clock.advanceMs(59_999)
    expect(d.tick()).toEqual([])
    d.update('k', false)
    clock.advanceMs(5_000)
    expect(phases(d.tick())).toEqual(['resolved'])
    // Comes back 2 s later and holds: the raise waits until 10 s after the resolve message.
    clock.advanceMs(2_000)
    d.update('k', true, 'y')
    clock.advanceMs(2_000)
    expect(d.tick()).toEqual([])
    clock.advanceMs(6_000)
    expect(d.tick()).toMatchObject([{ phase: 'raised', alert: 'y' }])
  })

  it('applies per-key rules (an immediate alert) and refuses bad use', () => {
    const clock = manualClock(0)
    const d = new AlertDebouncer<string>(clock, rules, (key) => (key === 'paused' ? { raiseAfterMs: 0 } : {}))
    expect(phases(d.update('paused', true, 'p'))).toEqual(['raised'])
    expect(d.activeKeys()).toEqual(['paused'])
    expect(() => d.update('x', true)).toThrow(/alert details/)
    expect(() => d.update('', true, 'x')).toThrow(/key/)
    expect(() => new AlertDebouncer(clock, { raiseAfterMs: -1 })).toThrow(/raiseAfterMs/)
  })
})
