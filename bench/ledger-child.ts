// One ledger benchmark run at one size, in its own process so peak RSS is this size's alone. Prints one JSON
// line. argv: <dir> <worker url> <rows> <commits>
import { statSync } from 'node:fs'
import { join } from 'node:path'
import { listLedgerDir } from '../src-main/ledger/files'
import { openLedger } from '../src-main/ledger/worker-host'
import { percentile, round } from './lib'

const [dir, workerUrl, rowsArg, commitsArg] = process.argv.slice(2)
const rows = Number(rowsArg)
const commits = Number(commitsArg)
const t = () => performance.now()

let s = await openLedger({ dir: dir!, workerUrl: workerUrl! })
let t0 = t()
const stored = await s.bulkLoad<number>('ledgerbench.bulk', { rows })
const bulkLoadMs = t() - t0
await s.close()

t0 = t()
s = await openLedger({ dir: dir!, workerUrl: workerUrl! })
const openAfterBulkMs = t() - t0

// Warm-up, then sequential commits: each waits for its own fsync, so this is the latency a service sees.
for (let i = 0; i < 50; i++) await s.call('ledgerbench.settle', { ref: `w${i}`, wireMsat: 123_456_789n, createdAt: i })
const lat: number[] = []
for (let i = 0; i < commits; i++) {
  const c0 = t()
  await s.call('ledgerbench.settle', { ref: `c${i}`, wireMsat: 2n ** 55n + BigInt(i), createdAt: 1_800_000_000 + i })
  lat.push(t() - c0)
}
lat.sort((a, b) => a - b)

t0 = t()
await s.snapshot()
const snapshotMs = t() - t0
const snap = listLedgerDir(dir!).snapshots.at(-1)!
const snapshotBytes = statSync(join(dir!, snap.name)).size
await s.close()

t0 = t()
s = await openLedger({ dir: dir!, workerUrl: workerUrl! })
const reloadMs = t() - t0
const [count] = await s.query<{ n: number }>(
  'SELECT (SELECT count(*) FROM bench_leg) + (SELECT count(*) FROM bench_settlement) AS n',
)
await s.close()

process.stdout.write(
  `${JSON.stringify({
    rowsStored: stored,
    rowsAfter: count!.n,
    commits,
    commitP50Ms: round(percentile(lat, 50)),
    commitP99Ms: round(percentile(lat, 99)),
    commitMaxMs: round(lat.at(-1)!),
    bulkLoadMs: Math.round(bulkLoadMs),
    openAfterBulkMs: Math.round(openAfterBulkMs),
    snapshotMs: Math.round(snapshotMs),
    snapshotBytes,
    reloadMs: Math.round(reloadMs),
    peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
  })}\n`,
)
