// Interop, crash with records in flight: the console's ledger goes away while three records wait on the wallet
// (their lookup_invoice hangs) and two later records are already booked. The relay cursor stored in the ledger must
// stay below the unfinished records — with no re-fetch overlap, that alone brings them back — so after the restart
// all five are booked, each once. Real relay process, real wallet service; no sleeps.
import { afterAll, beforeAll, expect, it } from 'vitest'
import type { AtmSimulator, Sale } from '../../src-main/atm-sim/simulator'
import { openLedgerInProcess } from '../../src-main/ledger/store'
import { nowSec, systemClock } from '../../src-shared/clock'
import { type FleetHarness, startFleetHarness, waitFor } from '../support/fleet-harness'

let h: FleetHarness
let sim: AtmSimulator

beforeAll(async () => {
  h = await startFleetHarness({ recordRelays: 1, persist: true })
  const c = await h.startConsole({ overlapSec: 0 })
  // Paired two minutes ago, so records can be dated in the past and still lie after the roster and delegation.
  sim = (await h.pairAtm({ machineId: 'atm-crash-02', members: [], clock: { nowMs: () => Date.now() - 120_000 } })).sim
  await waitFor('machine known to the console', async () =>
    (await c.fleet.machines()).some((m) => m.atmPubkey === sim.atmPubkey && m.rosterStatus === 'member'),
  )
}, 120_000)

afterAll(async () => {
  await h?.close()
})

it('crash with records in flight: the cursor is held below them and they are booked after the restart', async () => {
  const c1 = h.console!
  const now = nowSec(systemClock)
  const hangsBefore = h.op.handled.filter((r) => r.fault === 'hang').length
  for (let i = 0; i < 3; i++) h.op.inject({ kind: 'hang' }, { method: 'lookup_invoice' })
  const stuck: Sale[] = []
  for (let i = 0; i < 3; i++) stuck.push(await sim.sell({ createdAt: now - 100 + i }))
  await waitFor('three lookups hanging in the wallet', () =>
    h.op.handled.filter((r) => r.fault === 'hang').length >= hangsBefore + 3 ? true : undefined,
  )
  // Watch what the pool asks the cursor store to save (the store itself decides what is written).
  const asked: number[] = []
  const set = c1.cursorStore.set.bind(c1.cursorStore)
  c1.cursorStore.set = async (key, at) => {
    await set(key, at)
    if (key.startsWith('fleet-records@')) asked.push(at)
  }
  const later = [await sim.sell({ createdAt: now - 10 }), await sim.sell({ createdAt: now - 10 })]
  for (const s of later) expect(await c1.outcomeOf(s.event.id)).toMatchObject({ outcome: 'booked' })
  // The pool moved its cursor past the later records; the stored value must still be below the stuck ones.
  await waitFor('the pool saving a cursor past the later records', () => asked.some((at) => at >= now - 10))
  const [cursor] = await c1.ledger.query<{ created_at: number }>(
    `SELECT created_at FROM fleet_cursor WHERE key LIKE 'fleet-records@%'`,
  )
  expect(cursor!.created_at).toBeLessThan(now - 100)
  for (const s of stuck) expect(c1.outcomes.get(s.event.id)).toBeUndefined()

  await c1.crash()
  // What the ledger holds after the crash: the two later records, nothing for the three in flight.
  const peek = await openLedgerInProcess({ dir: h.ledgerDir })
  const rows = await peek.query<{ event_id: string }>('SELECT event_id FROM fleet_record_outcome')
  expect(new Set(rows.map((r) => r.event_id))).toEqual(new Set(later.map((s) => s.event.id)))
  await peek.close()

  const c2 = await h.startConsole({ overlapSec: 0 })
  for (const s of stuck) expect(await c2.outcomeOf(s.event.id, 60_000)).toMatchObject({ outcome: 'booked' })
  const booked = await c2.ledger.query<{ event_id: string; n: number }>(
    `SELECT event_id, COUNT(*) AS n FROM fleet_record_outcome WHERE outcome = 'booked' GROUP BY event_id`,
  )
  expect(new Set(booked.map((r) => r.event_id))).toEqual(new Set([...stuck, ...later].map((s) => s.event.id)))
  expect(booked.every((r) => r.n === 1)).toBe(true)
  const [n] = await c2.ledger.query<{ n: number }>(`SELECT COUNT(*) AS n FROM acct_settlement`)
  expect(n!.n).toBe(5)
}, 180_000)
