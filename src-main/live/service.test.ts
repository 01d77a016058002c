// The live push over the real services (createServices with an in-process ledger holding every registered module):
// a deposit recorded and confirmed through the IPC dispatcher pushes `lps.changed`; a machine added pushes
// `fleet.changed`; a burst of 1,000 bookings reaches the renderer as a handful of `worklist.changed` pushes, not a
// thousand, each row counted once. Every wait is on an event, never a sleep.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { systemClock } from '../../src-shared/clock'
import type { EventName, Result } from '../../src-shared/ipc/contract'
import type { LiveChangeView } from '../../src-shared/ipc/live'
import { readmeRecord, seedReadme, T0_MS } from '../accounting/test-support'
import { createAppLog } from '../app-log'
import { createDispatcher, type Dispatch } from '../ipc'
import '../ledger/registry'
import { type InProcessLedger, openLedgerInProcess } from '../ledger/store'
import { createServices, type Services } from '../services'

const caller = { transport: 'ws', caller: 'test' } as const
let dir: string
let services: Services
let ledger: InProcessLedger
let d: Dispatch
const appLog = createAppLog()
const pushed: Array<{ event: EventName; payload: LiveChangeView }> = []
const waiters: Array<() => void> = []

const ok = <T>(r: Result<unknown>): T => {
  if (!r.ok) throw new Error(`expected ok, got ${r.error.code}: ${r.error.message}`)
  return r.value as T
}

/** Resolves once an `event` push arrives after index `from` of the pushes seen (30 s at most). */
function pushOf(event: EventName, from: number): Promise<LiveChangeView> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no ${event} push within 30 s`)), 30_000)
    const look = () => {
      const hit = pushed.slice(from).find((p) => p.event === event)
      if (!hit) {
        waiters.push(look)
        return
      }
      clearTimeout(t)
      resolve(hit.payload)
    }
    look()
  })
}

/** Resolves once no live push arrived for `quietMs` (the coalescer's window has passed with nothing left). */
function settled(quietMs = 1_500): Promise<void> {
  return new Promise((resolve) => {
    let n = pushed.length
    const tick = () => {
      if (pushed.length === n) return resolve()
      n = pushed.length
      setTimeout(tick, quietMs)
    }
    setTimeout(tick, quietMs)
  })
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'live-push-'))
  services = await createServices({
    runtime: 'node',
    dataDir: dir,
    appLog,
    emit: (event, payload) => {
      if (!event.endsWith('.changed') || event === 'settlements.changed') return
      pushed.push({ event, payload: payload as LiveChangeView })
      for (const w of waiters.splice(0)) w()
    },
    clock: systemClock,
    openLedger: async (o) => {
      ledger = await openLedgerInProcess({ dir: o.dir, autoSnapshot: false })
      return ledger
    },
  })
  await services.ledgerReady
  d = createDispatcher(services.handlers, appLog.log)
}, 60_000)
afterAll(async () => {
  await services?.close()
  rmSync(dir, { recursive: true, force: true })
})

describe('live push', () => {
  it('a machine added pushes fleet.changed, and nothing about the LPs', async () => {
    // The README fleet first; the watcher notes where the ledger stands while this runs (changes from before it
    // looked are no push), so the push asserted on is the one of the machine added afterwards.
    await seedReadme(ledger)
    await settled()
    const from = pushed.length
    await ledger.call('accounting.upsertMachine', { id: 'atm-2', name: 'Station', currency: 'GTQ', atMs: T0_MS })
    const fleet = await pushOf('fleet.changed', from)
    expect(Number(fleet.version)).toBeGreaterThan(0)
    expect(fleet.rows).toBeGreaterThanOrEqual(1)
    await settled()
    expect(pushed.slice(from).some((p) => p.event === 'lps.changed')).toBe(false)
  }, 60_000)

  it('a deposit recorded and confirmed through IPC pushes lps.changed each time, with a newer version', async () => {
    const from = pushed.length
    const dep = ok<{ depositId: string }>(
      await d('lps.deposit.record', [{ lpId: 'lp-a', amountMinor: '12345', note: 'cash run' }], caller),
    )
    const first = await pushOf('lps.changed', from)
    const mid = pushed.length
    ok(await d('lps.deposit.confirm', [{ depositId: dep.depositId }], caller))
    const second = await pushOf('lps.changed', mid)
    expect(Number(second.version)).toBeGreaterThan(Number(first.version))
    // Nothing about the fleet moved.
    expect(pushed.slice(from).some((p) => p.event === 'fleet.changed')).toBe(false)
    await settled()
  }, 60_000)

  it('a burst of 1,000 bookings reaches the renderer as a few pushes, not a thousand', async () => {
    const from = pushed.length
    const N = 1000
    const bookings: Array<Promise<unknown>> = []
    for (let i = 1; i <= N; i++)
      bookings.push(
        ledger.call('accounting.bookSettlement', readmeRecord(10_000 + i, { bookedAtMs: T0_MS + 1000 + i })),
      )
    await Promise.all(bookings)
    await pushOf('worklist.changed', from)
    await settled()
    const work = pushed.slice(from).filter((p) => p.event === 'worklist.changed')
    expect(work.length).toBeGreaterThanOrEqual(1)
    expect(work.length).toBeLessThanOrEqual(20)
    // Every booked settlement row is counted in some push: the pushes add up to at least the thousand rows.
    const rows = work.reduce((a, p) => a + p.payload.rows, 0)
    console.info(`[live push] ${N} bookings: ${work.length} worklist.changed pushes, ${rows} rows`)
    expect(rows).toBeGreaterThanOrEqual(N)
    // Versions only grow.
    const versions = work.map((p) => Number(p.payload.version))
    expect([...versions].sort((a, b) => a - b)).toEqual(versions)
  }, 120_000)
})
