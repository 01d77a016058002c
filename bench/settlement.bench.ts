// Settlement benchmark (issue "Settlement engine and ledger accounting", done-when): settlements computed per
// second by the pure engine (README scenario, and a 6-LP scenario), and booking latency p50/p99 of
// `accounting.bookSettlement` through the real in-process ledger store (journal fsync included) with 1k and 1M
// settlements already in the ledger. The prior settlements are generated inside SQLite by one journaled
// statement per table (a recursive CTE), so the journal stays small and no multi-GB snapshot is needed; each
// carries a result, platform-fee and LP legs, their accruals and the LP debit, like a real booking.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect, it } from 'vitest'
import { accountingMigrations, accountingProcedures } from '../src-main/accounting/procedures'
import { hashOf, readmeRecord, seedReadme, T0_MS } from '../src-main/accounting/test-support'
import { openLedgerInProcess } from '../src-main/ledger/store'
import type { Procedure, TxDb } from '../src-main/ledger/types'
import { README_CASH_OUT } from '../src-shared/money/readme-example'
import { computeSettlement, type SettlementInput } from '../src-shared/money/settlement'
import { percentile, recordBench, round } from './lib'

const SIZES = (process.env.SETTLEMENT_BENCH_SIZES ?? '1000,1000000').split(',').map(Number)
const BOOKINGS = Number(process.env.SETTLEMENT_BENCH_BOOKINGS ?? 1000)
const WARMUP = 100
const ENGINE_ITERATIONS = Number(process.env.SETTLEMENT_BENCH_ENGINE ?? 200_000)

function engineRate(input: SettlementInput): { perSecond: number; iterations: number } {
  // Warm up the JIT before timing.
  for (let i = 0; i < 5_000; i++) computeSettlement({ ...input, wireMsat: input.wireMsat + BigInt(i) })
  const t0 = performance.now()
  let check = 0n
  for (let i = 0; i < ENGINE_ITERATIONS; i++) {
    check += computeSettlement({ ...input, wireMsat: input.wireMsat + BigInt(i) }).principalMsat
  }
  const ms = performance.now() - t0
  if (check <= 0n) throw new Error('engine produced nothing')
  return { perSecond: Math.round((ENGINE_ITERATIONS / ms) * 1000), iterations: ENGINE_ITERATIONS }
}

/** Generates `n` prior settlements (ids 1..n) with their result, two legs, two accruals and one LP debit each. */
const fill: Procedure<{ n: number }, number> = (db: TxDb, { n }) => {
  const seq = 'WITH RECURSIVE c(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM c WHERE k < ?)'
  const day0 = Math.floor(T0_MS / 86_400_000) - 1 - Math.ceil(n / 500)
  db.run(
    `${seq} INSERT INTO acct_settlement (payment_hash, machine_id, direction, atm_event_id, record_created_at,
     booked_at_ms, wire_msat, fiat_minor, fiat_requested_minor, currency, config_seq, platform_ppm, operator_ppm,
     discount_ppm, splits_json, lps_json, time_zone, local_day, status, status_changed_at_ms, generation)
     SELECT printf('%064x', k), 'atm-1', 'cash_out', 'bulk-' || k, 1700000000 + k, 1700000000000 + k, 105000000,
     100000, 100000, 'GTQ', 1, 30000, 20000, 0, '[]', '[{"id":"lp-a","mode":"flow","remainingMinor":"1"}]',
     'America/Guatemala', date((? + k / 500) * 86400, 'unixepoch'), 'processed', 1700000000000 + k, 0 FROM c`,
    [n, day0],
  )
  db.run(
    `${seq} INSERT INTO acct_result (settlement_id, generation, fiat_minor, principal_msat, commission_msat,
     platform_fee_msat, operator_fee_msat, refund_due_msat, created_at_ms, author)
     SELECT k, 0, 100000, 100000000, 5000000, 3000000, 2000000, 0, 1700000000000 + k, 'bulk' FROM c`,
    [n],
  )
  db.run(
    `${seq} INSERT INTO acct_leg (settlement_id, generation, kind, recipient_id, msat, fiat_minor, created_at_ms, paid_ref)
     SELECT (k + 1) / 2, 0, CASE k % 2 WHEN 1 THEN 'platform_fee' ELSE 'lp' END,
       CASE k % 2 WHEN 1 THEN 'platform' ELSE 'lp-a' END, CASE k % 2 WHEN 1 THEN 3000000 ELSE 100000000 END,
       CASE k % 2 WHEN 1 THEN 0 ELSE 100000 END, 1700000000000 + k, 'bulk-payout' FROM c`,
    [2 * n],
  )
  db.run(
    `${seq} INSERT INTO acct_accrual (recipient_kind, recipient_id, leg_id, delta_msat, balance_after_msat, created_at_ms)
     SELECT CASE k % 2 WHEN 1 THEN 'platform' ELSE 'lp' END, CASE k % 2 WHEN 1 THEN 'platform' ELSE 'lp-a' END,
       k, CASE k % 2 WHEN 1 THEN 3000000 ELSE 100000000 END,
       CASE k % 2 WHEN 1 THEN 3000000 * ((k + 1) / 2) ELSE 100000000 * (k / 2) END, 1700000000000 + k FROM c`,
    [2 * n],
  )
  // lp-a's deposit must cover every bulk allocation; the running balance goes down by 1,000 GTQ each.
  const depositMinor = BigInt(n) * 100_000n + 10n ** 12n
  db.run(
    `INSERT INTO acct_deposit (id, lp_id, amount_minor, status, created_at_ms, confirmed_at_ms)
     VALUES ('bulk-deposit', 'lp-a', ?, 'confirmed', 1, 1)`,
    [depositMinor],
  )
  db.run(
    `INSERT INTO acct_lp_entry (lp_id, kind, delta_minor, balance_after_minor, deposit_id, created_at_ms)
     VALUES ('lp-a', 'deposit', ?, ?, 'bulk-deposit', 1)`,
    [depositMinor, depositMinor],
  )
  db.run(
    `${seq} INSERT INTO acct_lp_entry (lp_id, kind, delta_minor, balance_after_minor, leg_id, local_day, created_at_ms)
     SELECT 'lp-a', 'allocation', -100000, ? - 100000 * k, 2 * k, date((? + k / 500) * 86400, 'unixepoch'),
       1700000000000 + k FROM c`,
    [n, depositMinor, day0],
  )
  return n
}

async function bookingLatency(priorSettlements: number): Promise<Record<string, number>> {
  const dir = mkdtempSync(join(tmpdir(), 'settlement-bench-'))
  const procedures = new Map<string, Procedure>(Object.entries(accountingProcedures))
  procedures.set('bench.fill', fill as Procedure)
  const store = await openLedgerInProcess({ dir, migrations: accountingMigrations, procedures, autoSnapshot: false })
  try {
    await seedReadme(store)
    const t0 = performance.now()
    await store.call('bench.fill', { n: priorSettlements })
    const fillMs = performance.now() - t0
    // Warm-up bookings (untimed) so the JIT and the statement cache are hot before timing, as in a running app.
    for (let i = 0; i < WARMUP; i++) {
      const rec = readmeRecord(0, { paymentHash: hashOf(2 ** 41 + i), atmEventId: `warm-${i}`, bookedAtMs: T0_MS })
      await store.call('accounting.bookSettlement', rec)
    }
    const times: number[] = []
    for (let i = 0; i < BOOKINGS; i++) {
      const rec = readmeRecord(0, { paymentHash: hashOf(2 ** 40 + i), atmEventId: `bench-${i}`, bookedAtMs: T0_MS + i })
      const s = performance.now()
      const r = await store.call<{ status: string }>('accounting.bookSettlement', rec)
      times.push(performance.now() - s)
      if (r.status !== 'pending') throw new Error(`booking ${i} was ${r.status}`)
    }
    const count = await store.query<{ n: number }>('SELECT COUNT(*) AS n FROM acct_settlement')
    if (count[0]!.n !== priorSettlements + WARMUP + BOOKINGS) throw new Error('settlement count mismatch')
    times.sort((a, b) => a - b)
    return {
      priorSettlements,
      warmupBookings: WARMUP,
      bookings: BOOKINGS,
      fillMs: Math.round(fillMs),
      bookP50Ms: round(percentile(times, 50)),
      bookP99Ms: round(percentile(times, 99)),
      bookMaxMs: round(times.at(-1)!),
      rssMB: Math.round(process.memoryUsage().rss / 2 ** 20),
    }
  } finally {
    await store.close()
    rmSync(dir, { recursive: true, force: true })
  }
}

it('settlement: engine throughput and booking latency by ledger size', async () => {
  const engineReadme = engineRate(README_CASH_OUT)
  const sixLps = {
    ...README_CASH_OUT,
    lps: ['a', 'b', 'c', 'd', 'e', 'f'].map((id, i) => ({
      id,
      mode: 'flow' as const,
      remainingMinor: BigInt(37_000 * (i + 1)),
    })),
  }
  const engineSix = engineRate(sixLps)
  console.log('[bench settlement] engine', JSON.stringify({ engineReadme, engineSix }))
  const booking: Record<string, number>[] = []
  for (const n of SIZES) {
    const r = await bookingLatency(n)
    console.log('[bench settlement] booking', JSON.stringify(r))
    booking.push(r)
  }
  recordBench('settlement', {
    note:
      'engine = computeSettlement in one thread; booking = sequential accounting.bookSettlement calls on the ' +
      'in-process ledger store, each acknowledged after its journal fdatasync',
    engineSettlementsPerSecond: { readme: engineReadme.perSecond, sixLps: engineSix.perSecond },
    engineIterations: ENGINE_ITERATIONS,
    booking,
  })
  expect(booking.length).toBe(SIZES.length)
}, 1_800_000)
