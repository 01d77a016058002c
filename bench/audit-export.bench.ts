// Audit export benchmark (issue 10 done-when): export time (total and printing), PDF page count and peak RSS of
// `audit-export` for a quarter of 10k and 100k seeded settlements, and how long verify-audit takes on the result.
// Seeding (through the real booking procedure, one receipt signed per 10 settlements, a console-signed head) is done
// once per size and kept between runs (bench/audit-export-seeds.ts); each export runs on a fresh copy in a fresh
// child process (bench/audit-export-child.ts) so its peak RSS is its own. The PDF is printed by Debian's Chromium
// through playwright-core, in parts joined into one file (src-main/audit-export/print-report.ts).
// AUDIT_BENCH_SIZES (default 10000,100000) and AUDIT_BENCH_RUNS (runs per size, default 3 for 10k and 1 above).
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { expect, it } from 'vitest'
import { buildLedgerWorker } from '../src-main/ledger/test-support'
import { seededCopy } from './audit-export-seeds'
import { RESULTS_PATH, recordBench, spread } from './lib'

const SIZES = (process.env.AUDIT_BENCH_SIZES ?? '10000,100000').split(',').map(Number)
const runsFor = (n: number) => Number(process.env.AUDIT_BENCH_RUNS ?? (n <= 10_000 ? 3 : 1))

type Run = Record<string, unknown> & { exportMs: number; peakRssMB: number; verifyMs: number; pages: number }

it('audit export: time, pages and peak RSS by size', async () => {
  const built = await buildLedgerWorker({ extraEntries: { 'audit-export-child': 'bench/audit-export-child.ts' } })
  const bySize = new Map<number, Record<string, unknown>>()
  try {
    for (const n of SIZES) {
      const runs: Run[] = []
      let seed = { seedMs: 0, reused: true }
      for (let k = 0; k < runsFor(n); k++) {
        const c = await seededCopy(n)
        if (k === 0) seed = { seedMs: c.seedMs, reused: c.reused }
        try {
          const out = join(c.dataDir, 'export')
          const r = spawnSync(process.execPath, [built.entries['audit-export-child']!, c.dataDir, c.quarter, out], {
            encoding: 'utf8',
            maxBuffer: 1 << 22,
          })
          if (r.status !== 0) throw new Error(`bench child failed at ${n}: ${r.stderr}`)
          const run = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Run
          console.log('[bench audit-export]', n, JSON.stringify(run))
          runs.push(run)
        } finally {
          c.dispose()
        }
        bySize.set(n, summarise(n, seed, runs))
        // Recorded after each run, so a long 100k run still leaves the smaller figures behind.
        record([...bySize.values()])
      }
    }
  } finally {
    built.dispose()
  }
  expect(bySize.size).toBe(SIZES.length)
}, 7_200_000)

function summarise(n: number, seed: { seedMs: number; reused: boolean }, runs: Run[]): Record<string, unknown> {
  const printTotal = (r: Run) => {
    const p = r.printMs as { parts: number; furniture: number; merge: number } | null
    return p ? p.parts + p.furniture + p.merge : Number.NaN
  }
  return {
    requested: n,
    runs: runs.length,
    seed: seed.reused ? 'reused from an earlier run (seeded once, copied per run)' : { seedMs: seed.seedMs },
    exportMs: spread(
      runs.map((r) => r.exportMs),
      0,
    ),
    printMs: spread(runs.map(printTotal), 0),
    pages: spread(
      runs.map((r) => r.pages),
      0,
    ),
    peakRssMB: spread(
      runs.map((r) => r.peakRssMB),
      0,
    ),
    verifyMs: spread(
      runs.map((r) => r.verifyMs),
      0,
    ),
    lastRun: runs.at(-1),
  }
}

/** Keeps the sizes an earlier invocation recorded (e.g. 10k) when this one measures others (e.g. 100k). */
function record(measured: Record<string, unknown>[]): void {
  const doc = existsSync(RESULTS_PATH)
    ? (JSON.parse(readFileSync(RESULTS_PATH, 'utf8')) as {
        sections?: { auditExport?: { data?: { sizes?: { requested?: number; runs?: unknown }[] } } }
      })
    : {}
  const earlier = (doc.sections?.auditExport?.data?.sizes ?? []).filter(
    // Only figures of this benchmark's current form (they have a run count); the one-job printer's are in the note.
    (x) => x.runs !== undefined && !measured.some((m) => m.requested === x.requested),
  )
  const results = [...earlier, ...measured].sort((a, b) => Number(a.requested) - Number(b.requested))
  recordBench('auditExport', {
    note:
      'satmachine audit-export --draft on a seeded quarter: CSV files, manifest, audit log copy, report HTML and PDF ' +
      '(headless Chromium via playwright-core, printed in parts of ~1,000 table rows, joined with the page ' +
      'furniture); exportMs includes opening the ledger and printing; printMs is parts + furniture + merge; ' +
      'peakRssMB is the Node process (Chromium runs in its own processes); verifyMs is verify-audit on the same ' +
      'folder. Before the parts (one print job): 10k = 134.8 s export, 111.9 s printing, 184 pages, 583 MB; 100k ' +
      'failed in Chromium ("Printing failed").',
    sizes: results,
  })
}
