// Crash-test child program (plain Node, bundled by test-support.ts): opens the ledger through the real
// worker-backed store, reports what survived the previous kill, then commits an endless stream of
// `ledgertest.book` transactions with several in flight at once (so group commit and background snapshots
// run) and prints `ACK <n>` for each one only after its promise resolved, i.e. after its journal fsync.
//
// argv: <ledger dir> <worker url> <transactions in flight>
import { openLedger } from '../../src-main/ledger/worker-host'

const [dir, workerUrl, inFlight] = process.argv.slice(2)
const out = (line: string) => process.stdout.write(`${line}\n`)

try {
  const s = await openLedger({ dir: dir!, workerUrl: workerUrl!, snapshotEveryRecords: 40 })
  const [sum] = await s.query<{ total: number; lo: number; hi: number }>(
    'SELECT count(*) AS total, coalesce(min(n), 0) AS lo, coalesce(max(n), 0) AS hi FROM ledgertest_tx',
  )
  // A transaction is whole when it has exactly three legs that add up to its wire amount.
  const [bad] = await s.query<{ n: number }>(`
    SELECT count(*) AS n FROM ledgertest_tx t
    WHERE (SELECT count(*) FROM ledgertest_leg l WHERE l.n = t.n) != 3
       OR t.wire_msat != (SELECT sum(amount_msat) FROM ledgertest_leg l WHERE l.n = t.n)`)
  const [orphans] = await s.query<{ n: number }>(
    'SELECT count(*) AS n FROM ledgertest_leg l WHERE NOT EXISTS (SELECT 1 FROM ledgertest_tx t WHERE t.n = l.n)',
  )
  const st = await s.status()
  out(`READY total=${sum!.total} lo=${sum!.lo} hi=${sum!.hi} bad=${bad!.n} orphans=${orphans!.n} seq=${st.seq}`)
  let next = sum!.hi + 1
  const pump = (): void => {
    const n = next++
    s.call('ledgertest.book', { n, wireMsat: 2n ** 54n + BigInt(n) * 1000n }).then(
      () => {
        out(`ACK ${n}`)
        pump()
      },
      (e: Error) => {
        out(`ERR ${n} ${e.name} ${e.message}`)
        process.exit(3)
      },
    )
  }
  for (let i = 0; i < Number(inFlight ?? 4); i++) pump()
} catch (e) {
  out(`OPENFAIL ${(e as Error).name} ${(e as Error).message}`)
  process.exit(2)
}
