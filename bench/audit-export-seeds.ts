// Seeded data directories for the audit export benchmark, kept between runs: seeding 100,000 settlements through
// the real booking procedure takes many minutes, so each size is seeded once (with a console-signed head, then a
// snapshot) into AUDIT_BENCH_SEED_DIR (default: <tmp>/satmachine-audit-bench-seeds/<n>) and every run works on a
// fresh copy of it, so an export never sees another run's leftovers.
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { seedAuditLedger, signHead } from '../src-main/audit-export/test-support'

export const SEED_ROOT = process.env.AUDIT_BENCH_SEED_DIR ?? join(tmpdir(), 'satmachine-audit-bench-seeds')
const READY = 'seeded.json'

export interface SeedCopy {
  dataDir: string
  quarter: string
  /** How long seeding took when it was done (0 when an earlier run's seed was reused). */
  seedMs: number
  reused: boolean
  dispose(): void
}

/** A fresh copy of the seeded data directory for `n` settlements, seeding it first if no earlier run did. */
export async function seededCopy(n: number): Promise<SeedCopy> {
  const cached = join(SEED_ROOT, String(n))
  let seedMs = 0
  const reused = existsSync(join(cached, READY))
  if (!reused) {
    const t0 = performance.now()
    const s = await seedAuditLedger({ settlements: n, receiptsEvery: 10, batch: 1500 })
    try {
      await signHead(s, Date.now())
      await s.store.snapshot()
      await s.store.close()
      seedMs = Math.round(performance.now() - t0)
      rmSync(cached, { recursive: true, force: true })
      mkdirSync(SEED_ROOT, { recursive: true })
      cpSync(s.dataDir, cached, { recursive: true })
      writeFileSync(join(cached, READY), JSON.stringify({ settlements: s.settlements, quarter: s.quarter, seedMs }))
    } finally {
      await s.dispose()
    }
  }
  const dataDir = mkdtempSync(join(tmpdir(), `audit-bench-${n}-`))
  cpSync(cached, dataDir, { recursive: true })
  return {
    dataDir,
    quarter: '2026Q3',
    seedMs,
    reused,
    dispose: () => rmSync(dataDir, { recursive: true, force: true }),
  }
}
