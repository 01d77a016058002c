// `demo-seed` benchmark (first-run issue, done-when): time and peak RSS of seeding 100,000 and 1,000,000
// settlements through the console's own ledger procedures (src-main/demo/seed.ts), each in a fresh child process
// and data directory, plus the size of the resulting snapshot and the time the console takes to reopen it.
// Sizes: DEMO_SEED_BENCH_SIZES (default "100000,1000000"). The period and fleet grow with the size so the
// history stays plausible (a 1M history is ~two years of 20 ATMs, not three months of two).
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect, it } from 'vitest'
import { buildLedgerWorker } from '../src-main/ledger/test-support'
import { recordBench } from './lib'

const SIZES = (process.env.DEMO_SEED_BENCH_SIZES ?? '100000,1000000').split(',').map(Number)

/** The history each size is seeded with: [from, to, machines, LPs]. */
function shape(n: number): [string, string, number, number] {
  if (n >= 500_000) return ['2025-01-01', '2026-11-30', 20, 30]
  return ['2026-06-01', '2026-11-30', 5, 8]
}

it('demo-seed: time and peak RSS by size', async () => {
  const built = await buildLedgerWorker({ extraEntries: { 'demo-seed-child': 'bench/demo-seed-child.ts' } })
  const results: Record<string, unknown>[] = []
  try {
    for (const n of SIZES) {
      const dir = mkdtempSync(join(tmpdir(), 'demo-seed-bench-'))
      const [from, to, machines, lps] = shape(n)
      try {
        const loadBefore = loadavg().map((x) => Number(x.toFixed(2)))
        const t0 = performance.now()
        const r = spawnSync(
          process.execPath,
          [built.entries['demo-seed-child']!, dir, String(n), from, to, String(machines), String(lps)],
          { encoding: 'utf8', maxBuffer: 1 << 22, stdio: ['ignore', 'pipe', 'inherit'] },
        )
        if (r.status !== 0) throw new Error(`demo-seed child failed at ${n}: exit ${r.status}`)
        const res = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Record<string, unknown>
        const wallMs = Math.round(performance.now() - t0)
        const row = {
          settlementsAsked: n,
          command: `demo-seed --settlements ${n} --from ${from} --to ${to} --machines ${machines} --lps ${lps}`,
          wallMsWithReopen: wallMs,
          // The machine is shared: 1/5/15-minute load averages around the run (2 cores).
          loadAverageBefore: loadBefore,
          loadAverageAfter: loadavg().map((x) => Number(x.toFixed(2))),
          ...res,
        }
        delete (row as Record<string, unknown>).ledgerDir
        console.log('[bench demo-seed]', JSON.stringify(row))
        results.push(row)
        // Recorded after each size, so a long run that is stopped still leaves the sizes it finished.
        record(results)
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    }
  } finally {
    built.dispose()
  }
  record(results)
  expect(results.length).toBe(SIZES.length)
  for (const r of results) expect(r.settlements).toBe(r.settlementsAsked)
}, 3_600_000)

function record(results: Record<string, unknown>[]): void {
  recordBench('demo-seed', {
    note:
      'satmachine demo-seed: settlements booked by accounting.bookSettlement (the newest 1,000 from signed ATM ' +
      'records through fleet.acceptRecord, with published receipts), claimed and processed, deposits, refunds, ' +
      'refused records and weekly payouts through their ledger procedures, every row with its audit entry (the ' +
      'commit hook), 10,000 settlements per bulk ledger transaction, one snapshot at the end; one child process ' +
      'per size (peak RSS = its maxRSS). seedCpuMs is the figure that does not depend on the other work on the ' +
      'machine; wall times include waiting for the CPU under the load averages noted.',
    doneWhen: '1,000,000 settlements in under 15 minutes',
    sizes: results,
  })
}
