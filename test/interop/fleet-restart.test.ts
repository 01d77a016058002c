// Interop, crash side: records keep coming while the relay process is SIGKILLed and restarted (it keeps what it
// acknowledged, like a relay with a database) and while the console (fleet service + relay pool + ledger) is shut
// down and opened again. After catch-up the set of accepted records must equal the set the ATM got published:
// none missed, none doubled. Synchronisation is on ledger state and sale counts with deadlines, never sleeps.
import { afterAll, beforeAll, expect, it } from 'vitest'
import type { AtmSimulator, Sale } from '../../src-main/atm-sim/simulator'
import { type FleetHarness, startFleetHarness, waitFor } from '../support/fleet-harness'

let h: FleetHarness
let sim: AtmSimulator

beforeAll(async () => {
  h = await startFleetHarness({ recordRelays: 1, persist: true })
  const c = await h.startConsole({ retryIntervalMs: 500 })
  sim = (await h.pairAtm({ machineId: 'atm-crash-01', members: [] })).sim
  await waitFor('machine known to the console', async () =>
    (await c.fleet.machines()).some((m) => m.atmPubkey === sim.atmPubkey && m.rosterStatus === 'member'),
  )
}, 120_000)

afterAll(async () => {
  await h?.close()
})

it('relay SIGKILL + restart and console restart mid-stream: accepted set = published set, none twice', async () => {
  const relay = h.recordRelays[0]!
  const sales: Sale[] = []
  let stop = false
  let failure: unknown = null
  // The ATM sells continuously; its publish retries until the relay acknowledges (an ATM queues its records).
  const seller = (async () => {
    let i = 0
    while (!stop) {
      const s = await sim.sell({ fiatMinor: BigInt(1_500 + i++) })
      if (!s.accepted) throw new Error(`sale ${s.record?.txId} was never acknowledged: ${JSON.stringify(s.published)}`)
      sales.push(s)
    }
  })().catch((e: unknown) => {
    failure = e
  })
  const salesReach = (n: number) => waitFor(`${n} sales`, () => failure === null && sales.length >= n, 120_000)

  await salesReach(10)
  // 1. The relay process dies hard while the ATM keeps selling, and comes back on the same port.
  await relay.kill('SIGKILL')
  const atKill = sales.length
  const logMark = h.logs.length
  // Wait until the ATM has tried to publish into the dead relay, so a record really is in flight across the outage.
  await waitFor('a publish retried while the relay is down', () =>
    h.logs.slice(logMark).some((r) => r.msg === 'publish not accepted yet; retrying'),
  )
  await relay.restart()
  await salesReach(atKill + 5)

  // 2. The console goes down (cleanly, as on quit) while records keep coming, then starts again.
  const before = h.console!
  await waitFor('a persisted record cursor', async () => {
    const rows = await before.ledger.query<{ n: number }>(
      `SELECT COUNT(*) AS n FROM fleet_cursor WHERE key LIKE 'fleet-records@%' AND created_at > 0`,
    )
    return Number(rows[0]?.n) > 0
  })
  await before.close()
  const atConsoleDown = sales.length
  await salesReach(atConsoleDown + 15)
  // 3. And the relay dies once more while the console is down.
  await relay.kill('SIGKILL')
  await relay.restart()
  await salesReach(atConsoleDown + 20)
  const c = await h.startConsole({ retryIntervalMs: 500 })
  await salesReach(atConsoleDown + 30)
  stop = true
  await seller
  expect(failure).toBeNull()

  const published = new Set(sales.map((s) => s.event.id))
  expect(published.size).toBe(sales.length)
  const booked = await waitFor(
    'every published record booked',
    async () => {
      const rows = await c.ledger.query<{ event_id: string }>(
        `SELECT event_id FROM fleet_record_outcome WHERE outcome = 'booked' AND atm_pubkey = ?`,
        [sim.atmPubkey],
      )
      return rows.length >= published.size ? rows : undefined
    },
    120_000,
  )
  const bookedIds = booked.map((r) => r.event_id)
  expect(new Set(bookedIds)).toEqual(published)
  expect(bookedIds).toHaveLength(published.size)
  const settlements = await c.ledger.query<{ n: number; d: number }>(
    `SELECT COUNT(*) AS n, COUNT(DISTINCT payment_hash) AS d FROM acct_settlement WHERE machine_id = 'atm-crash-01'`,
  )
  expect(settlements[0]).toEqual({ n: published.size, d: published.size })
  // Nothing was rejected along the way (no record lost to a transient failure).
  const rejected = await c.ledger.query(
    `SELECT reason FROM fleet_record_outcome WHERE outcome = 'rejected' AND retryable = 0`,
  )
  expect(rejected).toEqual([])
}, 300_000)
