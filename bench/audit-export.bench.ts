// Audit export benchmark (issue 10 done-when): export time, PDF page count and peak RSS of `audit-export` for a
// quarter of 10k and 100k seeded settlements, and how long verify-audit takes on the result. Seeding (through the
// real booking procedure, one receipt signed per 10 settlements, a console-signed head) happens here; each export
// runs in a fresh child process (bench/audit-export-child.ts) so its peak RSS is its own. The PDF is printed by
// Debian's Chromium through playwright-core. Sizes: AUDIT_BENCH_SIZES (default 10000,100000).
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { expect, it } from 'vitest'
import { seedAuditLedger, signHead } from '../src-main/audit-export/test-support'
import { buildLedgerWorker } from '../src-main/ledger/test-support'
import { recordBench } from './lib'

const SIZES = (process.env.AUDIT_BENCH_SIZES ?? '10000,100000').split(',').map(Number)

it('audit export: time, pages and peak RSS by size', async () => {
  const built = await buildLedgerWorker({ extraEntries: { 'audit-export-child': 'bench/audit-export-child.ts' } })
  const results: Record<string, unknown>[] = []
  try {
    for (const n of SIZES) {
      const s0 = performance.now()
      const s = await seedAuditLedger({ settlements: n, receiptsEvery: 10, batch: 1500 })
      try {
        await signHead(s, Date.now())
        await s.store.snapshot()
        await s.store.close()
        const seedMs = Math.round(performance.now() - s0)
        const out = join(s.dataDir, 'export')
        const r = spawnSync(process.execPath, [built.entries['audit-export-child']!, s.dataDir, s.quarter, out], {
          encoding: 'utf8',
          maxBuffer: 1 << 22,
        })
        if (r.status !== 0) throw new Error(`bench child failed at ${n}: ${r.stderr}`)
        const res = {
          requested: n,
          seedMs,
          ...(JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Record<string, unknown>),
        }
        console.log('[bench audit-export]', JSON.stringify(res))
        results.push(res)
        // Recorded after each size, so a long 100k run still leaves the smaller figures behind.
        record(results)
      } finally {
        await s.dispose()
      }
    }
  } finally {
    built.dispose()
  }
  record(results)
  expect(results.length).toBe(SIZES.length)
}, 3_600_000)

function record(results: Record<string, unknown>[]): void {
  recordBench('auditExport', {
    note:
      'satmachine audit-export --draft on a seeded quarter: CSV files, manifest, audit log copy, report HTML and PDF ' +
      '(headless Chromium via playwright-core); exportMs includes opening the ledger and printing; peakRssMB is the ' +
      'Node process (Chromium runs in its own processes); verifyMs is verify-audit on the same folder',
    sizes: results,
  })
}
