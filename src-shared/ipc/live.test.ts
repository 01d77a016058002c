// The live push's pure parts (src-shared/ipc/live.ts): which ledger tables move which area, how changed tables fold
// into one change per area, and the coalescing rule — a burst of pokes costs a bounded number of runs, a steady
// stream still runs every maxWaitMs, a poke during a run is never lost, and stop() ends it. Time is driven by hand.
import { describe, expect, it } from 'vitest'
import { Coalescer, type CoalesceTimers, groupChangesByArea, liveAreasOfTable } from './live'

/** Hand-driven timers: `advance(ms)` fires every timer due by then, in order. */
function manualTimers(): CoalesceTimers & { advance(ms: number): Promise<void>; pending(): number } {
  let now = 0
  let next = 1
  const timers = new Map<number, { at: number; fn: () => void }>()
  return {
    nowMs: () => now,
    set(fn, ms) {
      const id = next++
      timers.set(id, { at: now + ms, fn })
      return id
    },
    clear(h) {
      timers.delete(h as number)
    },
    pending: () => timers.size,
    async advance(ms) {
      const end = now + ms
      for (;;) {
        const due = [...timers.entries()].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at)[0]
        if (!due) break
        timers.delete(due[0])
        now = due[1].at
        due[1].fn()
        // Let the task's promise settle before looking at the timers again.
        for (let i = 0; i < 5; i++) await Promise.resolve()
      }
      now = end
    },
  }
}

describe('liveAreasOfTable', () => {
  it('maps the ledger tables to the areas whose screens show them', () => {
    expect(liveAreasOfTable('acct_machine')).toEqual(['fleet'])
    expect(liveAreasOfTable('fleet_record_outcome')).toEqual(['fleet'])
    expect(liveAreasOfTable('fleet_delegation')).toEqual(['fleet', 'worklist'])
    expect(liveAreasOfTable('acct_deposit')).toEqual(['lps'])
    expect(liveAreasOfTable('acct_accrual')).toEqual(['lps'])
    expect(liveAreasOfTable('lp_check')).toEqual(['lps'])
    expect(liveAreasOfTable('payout')).toEqual(['payouts', 'worklist'])
    expect(liveAreasOfTable('payout_event')).toEqual(['payouts'])
    expect(liveAreasOfTable('acct_settlement')).toEqual(['worklist'])
  })
  it('leaves out relay cursors and the audit log itself', () => {
    expect(liveAreasOfTable('fleet_cursor')).toEqual([])
    expect(liveAreasOfTable('audit_leaf')).toEqual([])
    expect(liveAreasOfTable('ledger_meta')).toEqual([])
  })
})

describe('groupChangesByArea', () => {
  it('keeps the newest position and adds up the rows of each area', () => {
    const m = groupChangesByArea([
      { table: 'acct_deposit', newest: 10, rows: 2 },
      { table: 'acct_accrual', newest: 14, rows: 3 },
      { table: 'payout', newest: 12, rows: 1 },
      { table: 'fleet_cursor', newest: 99, rows: 50 },
    ])
    expect(Object.fromEntries(m)).toEqual({
      lps: { version: 14, rows: 5 },
      payouts: { version: 12, rows: 1 },
      worklist: { version: 12, rows: 1 },
    })
  })
})

describe('Coalescer', () => {
  it('runs once for a burst of 1,000 pokes that pause afterwards', async () => {
    const t = manualTimers()
    let runs = 0
    const c = new Coalescer(() => void runs++, { quietMs: 150, maxWaitMs: 750 }, t)
    for (let i = 0; i < 1000; i++) c.poke()
    expect(runs).toBe(0)
    await t.advance(149)
    expect(runs).toBe(0)
    await t.advance(1)
    expect(runs).toBe(1)
    await t.advance(10_000)
    expect(runs).toBe(1)
    expect(t.pending()).toBe(0)
  })

  it('still runs every maxWaitMs while pokes keep coming, within the bound', async () => {
    const t = manualTimers()
    let runs = 0
    const c = new Coalescer(() => void runs++, { quietMs: 150, maxWaitMs: 750 }, t)
    // One poke every 10 ms for 3 s: 300 pokes, never a 150 ms pause.
    for (let i = 0; i < 300; i++) {
      c.poke()
      await t.advance(10)
    }
    await t.advance(1_000)
    expect(runs).toBeGreaterThanOrEqual(4) // the screen saw the stream while it flowed
    expect(runs).toBeLessThanOrEqual(Math.ceil(3_000 / 750) + 1)
  })

  it('a poke that lands while the task runs leads to one more run after it', async () => {
    const t = manualTimers()
    let release: () => void = () => {}
    let runs = 0
    const c = new Coalescer(
      () => {
        runs++
        return new Promise<void>((r) => {
          release = r
        })
      },
      { quietMs: 100, maxWaitMs: 500 },
      t,
    )
    c.poke()
    await t.advance(100)
    expect(runs).toBe(1)
    c.poke()
    c.poke()
    await t.advance(1_000)
    expect(runs).toBe(1) // never two at once
    release()
    for (let i = 0; i < 5; i++) await Promise.resolve()
    await t.advance(100)
    expect(runs).toBe(2)
    release()
    for (let i = 0; i < 5; i++) await Promise.resolve()
    await t.advance(1_000)
    expect(runs).toBe(2)
  })

  it('a failing task does not stop later runs, and stop() ends everything', async () => {
    const t = manualTimers()
    let runs = 0
    const c = new Coalescer(
      () => {
        runs++
        throw new Error('ledger busy')
      },
      { quietMs: 50, maxWaitMs: 200 },
      t,
    )
    c.poke()
    await t.advance(50)
    c.poke()
    await t.advance(50)
    expect(runs).toBe(2)
    c.poke()
    c.stop()
    await t.advance(1_000)
    c.poke()
    await t.advance(1_000)
    expect(runs).toBe(2)
    expect(t.pending()).toBe(0)
  })
})
