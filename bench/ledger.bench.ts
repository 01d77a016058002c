// Ledger benchmark (issue "Foundation" item 5, docs/architecture.md §5): commit latency p50/p99 of one settlement-like
// transaction with 1k, 100k and 1M rows already stored, plus snapshot time, reload time and peak RSS at each
// size. Each size runs in a fresh child process (bench/ledger-child.ts) against a fresh directory; the rows are
// stored in bulk (one unjournaled transaction, then a snapshot) rather than as 1M journaled commits.
// Done-when: p50 commit at 1M within 2x of p50 at 1k.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect, it } from 'vitest'
import { buildLedgerWorker } from '../src-main/ledger/test-support'
import { recordBench } from './lib'

const SIZES = (process.env.LEDGER_BENCH_SIZES ?? '1000,100000,1000000').split(',').map(Number)
const COMMITS = Number(process.env.LEDGER_BENCH_COMMITS ?? 1000)

it('ledger: commit latency, snapshot, reload and RSS by size', async () => {
  const built = await buildLedgerWorker({
    procedureModules: ['bench/ledger-procedures.ts'],
    extraEntries: { 'ledger-bench-child': 'bench/ledger-child.ts' },
  })
  const results: Record<string, unknown>[] = []
  try {
    for (const rows of SIZES) {
      const dir = mkdtempSync(join(tmpdir(), 'ledger-bench-'))
      try {
        const r = spawnSync(
          process.execPath,
          [built.entries['ledger-bench-child']!, dir, built.workerUrl.href, String(rows), String(COMMITS)],
          { encoding: 'utf8', maxBuffer: 1 << 20 },
        )
        if (r.status !== 0) throw new Error(`bench child failed at ${rows} rows: ${r.stderr}`)
        const res = { rows, ...(JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Record<string, unknown>) }
        console.log('[bench ledger]', JSON.stringify(res))
        results.push(res)
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    }
  } finally {
    built.dispose()
  }
  const first = results[0]!
  const last = results.at(-1)!
  const ratio = (last.commitP50Ms as number) / (first.commitP50Ms as number)
  recordBench('ledger', {
    note: 'commit = one settlement-like procedure call (1 settlement + 4 legs + 4 balance upserts), sequential, each acknowledged after its journal fdatasync',
    commitsPerSize: COMMITS,
    sizes: results,
    p50RatioLargestToSmallest: Number(ratio.toFixed(2)),
    doneWhenP50Within2x: ratio <= 2,
  })
  expect(results.length).toBe(SIZES.length)
}, 1_800_000)
