// Seeding for the settlements benchmark: `satmachine demo-seed` books a base history through the console's own
// procedures (base size SETTLEMENTS_BENCH_BASE, default 100,000), then the base is replicated in SQL until the ledger holds N
// settlements. demo-seed books every settlement through the full money path (claim, process, payouts), which on a
// busy 2-core machine runs at a few hundred settlements a second: a million would take more than an hour, so the
// bench books the realistic base and copies it. Each copy gets new ids, a new payment hash (its first 8 bytes replaced
// by the new id) and booking times a few ms later, with its result and legs (reversing entries keep pointing
// at their own copy). The copies are what the list, its filters and the drawer read; they are not money anyone owes.
import { spawnSync } from 'node:child_process'
import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import '../src-main/ledger/registry'
import { registeredProcedures } from '../src-main/ledger/define'
import { openLedgerInProcess } from '../src-main/ledger/store'
import type { TxDb } from '../src-main/ledger/types'

const SETTLEMENT_COLS =
  'machine_id, direction, atm_event_id, record_created_at, booked_at_ms, wire_msat, fiat_minor, fiat_requested_minor, ' +
  'currency, claimed_fee_msat, config_seq, platform_ppm, operator_ppm, discount_ppm, splits_json, lps_json, time_zone, ' +
  'local_day, fee_mismatch_msat, fee_mismatch_flagged, status, reason, claim_token, claimed_at_ms, status_changed_at_ms, generation'

/** Copies settlements 1..base `copies` times (copy k: ids + k·base, legs + k·legs). Bench only. */
function replicate(db: TxDb, a: { copies: number }): { settlements: number } {
  const m = Number(db.get<{ m: number }>('SELECT MAX(id) AS m FROM acct_settlement')?.m ?? 0)
  const l = Number(db.get<{ m: number }>('SELECT MAX(id) AS m FROM acct_leg')?.m ?? 0)
  for (let k = 1; k <= a.copies; k++) {
    const shifted = SETTLEMENT_COLS.replace('booked_at_ms', `booked_at_ms + ${k * 37}`).replace(
      'status_changed_at_ms',
      `status_changed_at_ms + ${k * 37}`,
    )
    db.run(
      `INSERT INTO acct_settlement (id, payment_hash, ${SETTLEMENT_COLS})
       SELECT id + ${k * m}, printf('%016x', id + ${k * m}) || substr(payment_hash, 17), ${shifted}
       FROM acct_settlement WHERE id <= ${m}`,
    )
    db.run(
      `INSERT INTO acct_result (settlement_id, generation, fiat_minor, principal_msat, commission_msat, platform_fee_msat,
         operator_fee_msat, refund_due_msat, created_at_ms, author)
       SELECT settlement_id + ${k * m}, generation, fiat_minor, principal_msat, commission_msat, platform_fee_msat,
         operator_fee_msat, refund_due_msat, created_at_ms, author FROM acct_result WHERE settlement_id <= ${m}`,
    )
    db.run(
      `INSERT INTO acct_leg (id, settlement_id, generation, kind, recipient_id, msat, fiat_minor, reverses_leg_id,
         created_at_ms, paid_ref, paid_at_ms)
       SELECT id + ${k * l}, settlement_id + ${k * m}, generation, kind, recipient_id, msat, fiat_minor,
         CASE WHEN reverses_leg_id IS NULL THEN NULL ELSE reverses_leg_id + ${k * l} END, created_at_ms, paid_ref, paid_at_ms
       FROM acct_leg WHERE id <= ${l} AND settlement_id <= ${m}`,
    )
  }
  return { settlements: Number(db.get<{ n: number }>('SELECT COUNT(*) AS n FROM acct_settlement')?.n ?? 0) }
}

export interface BenchSeed {
  base: number
  settlements: number
  /** null when the base was copied from an already seeded directory (`baseDir`). */
  demoSeedMs: number | null
  replicateMs: number
}

/**
 * Seeds `dir` with `base` settlements by demo-seed (or copies `baseDir`, a directory demo-seed filled with `base`
 * settlements earlier), then replicates them to `n` (n a multiple of base).
 */
export async function seedSettlementsBench(
  root: string,
  dir: string,
  n: number,
  base: number,
  baseDir?: string,
): Promise<BenchSeed> {
  let demoSeedMs: number | null = null
  if (baseDir) cpSync(baseDir, dir, { recursive: true })
  else demoSeedMs = runDemoSeed(root, dir, base)
  const t1 = performance.now()
  const settlements = await replicateTo(dir, n, base)
  const seed = { base, settlements, demoSeedMs, replicateMs: Math.round(performance.now() - t1) }
  // Kept beside the ledger, so a later run on this directory still says how its rows were made.
  writeFileSync(join(dir, SEED_MARKER), `${JSON.stringify(seed, null, 1)}\n`)
  return seed
}

/** The file in a data directory this seeding leaves behind; a directory without it was seeded by other means. */
export const SEED_MARKER = 'settlements-bench-seed.json'

/** How a data directory's settlements were made, when this module replicated them (else null). */
export function readBenchSeed(dir: string): BenchSeed | null {
  const p = join(dir, SEED_MARKER)
  return existsSync(p) ? (JSON.parse(readFileSync(p, 'utf8')) as BenchSeed) : null
}

function runDemoSeed(root: string, dir: string, base: number): number {
  const t0 = performance.now()
  const r = spawnSync(
    process.execPath,
    [
      join(root, 'bin', 'satmachine.mjs'),
      'demo-seed',
      '--data-dir',
      dir,
      '--settlements',
      String(base),
      '--from',
      '2025-01-01',
      '--to',
      '2026-11-30',
      '--machines',
      '20',
      '--lps',
      '30',
    ],
    { encoding: 'utf8', stdio: ['ignore', 'inherit', 'inherit'] },
  )
  if (r.status !== 0) throw new Error(`demo-seed failed: exit ${r.status}`)
  return Math.round(performance.now() - t0)
}

async function replicateTo(dir: string, n: number, base: number): Promise<number> {
  const procedures = new Map(registeredProcedures())
  procedures.set('bench.replicateSettlements', replicate as (db: TxDb, a: unknown) => unknown)
  const ledger = await openLedgerInProcess({ dir: join(dir, 'ledger'), procedures, autoSnapshot: false })
  try {
    const copies = Math.max(0, Math.round(n / base) - 1)
    return (await ledger.bulkLoad<{ settlements: number }>('bench.replicateSettlements', { copies })).settlements
  } finally {
    await ledger.close()
  }
}
