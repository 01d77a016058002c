// One `demo-seed` benchmark run, in its own process so its peak RSS is this size's alone (bench/demo-seed.bench.ts).
// Seeds a fresh data directory, then reopens its ledger once the way the console would, and prints one JSON line.
// argv: <data dir> <settlements> <from> <to> <machines> <lps>
import { statSync } from 'node:fs'
import { join } from 'node:path'
import { seedDemoLedger } from '../src-main/demo/seed'
import { listLedgerDir } from '../src-main/ledger/files'
import { openLedgerInProcess } from '../src-main/ledger/store'

const [dataDir, n, from, to, machines, lps] = process.argv.slice(2)
const report = await seedDemoLedger({
  dataDir: dataDir!,
  settlements: Number(n),
  from: from!,
  to: to!,
  machines: Number(machines),
  lps: Number(lps),
  progress: (line) => process.stderr.write(`${line}\n`),
})
const seedPeakRssMB = Math.round(process.resourceUsage().maxRSS / 1024)
const dir = join(dataDir!, 'ledger')
const snap = listLedgerDir(dir).snapshots.at(-1)!
const t0 = performance.now()
const store = await openLedgerInProcess({ dir, autoSnapshot: false })
const reopenMs = Math.round(performance.now() - t0)
const [{ n: rows }] = (await store.query<{ n: number }>('SELECT COUNT(*) AS n FROM acct_settlement')) as [{ n: number }]
await store.close()
process.stdout.write(
  `${JSON.stringify({
    ...report,
    seedMs: report.ms,
    settlementsPerSecond: Math.round((report.settlements / report.ms) * 1000),
    seedPeakRssMB,
    snapshotBytes: statSync(join(dir, snap.name)).size,
    reopenMs,
    settlementsAfterReopen: rows,
    peakRssMBWithReopen: Math.round(process.resourceUsage().maxRSS / 1024),
  })}\n`,
)
