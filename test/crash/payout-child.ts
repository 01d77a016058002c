// Crash-harness child program: "the console" — the worker-backed ledger plus the payout runner, paying over the
// real relay to the wallet service that lives in the TEST process (so the wallet and its simulated Lightning
// ledger survive this process's SIGKILL). Bundled by test/crash/payout-crash.test.ts via buildLedgerWorker.
//
// It books the scenario's settlements ten at a time (each booking is a record arriving), runs a payout cycle
// after each chunk, and prints `STEP <point>` at every crash point the runner passes, so the parent can kill it
// mid-payment by counting steps (never by a timer). With `selfKill = <point>:<n>` it SIGKILLs itself at the n-th
// pass of that point, to land exactly between "journaled" and "published". Prints `DONE` when every settlement
// is booked and no payout is left open.
//
// argv: <config json path> <worker url> [<point>:<n>]
import { readFileSync } from 'node:fs'
import { openLedger } from '../../src-main/ledger/worker-host'
import { createPayoutRunner, type PayoutCrashPoint } from '../../src-main/payouts/runner'
import { NwcClient } from '../../src-main/wallet/nwc-client'
import { systemClock } from '../../src-shared/clock'
import { createLogger } from '../../src-shared/log'
import { cashOutRecord, walletInvoiceResolver } from '../support/payout-fixture'

interface ChildConfig {
  dir: string
  operatorUri: string
  recipientUris: Record<string, string>
  settlements: number
  bookedAtMs: number
  chunk: number
}

const [configPath, workerUrl, selfKill] = process.argv.slice(2)
const out = (line: string) => process.stdout.write(`${line}\n`)
const cfg = JSON.parse(readFileSync(configPath!, 'utf8')) as ChildConfig
const [killPoint, killAtRaw] = (selfKill ?? '').split(':')
let killIn = Number(killAtRaw ?? 0)

try {
  const store = await openLedger({ dir: cfg.dir, workerUrl: workerUrl!, snapshotEveryRecords: 500 })
  const nwc = new NwcClient({ connection: cfg.operatorUri, replyTimeoutMs: 2000, requestTtlSec: 3 })
  const resolver = walletInvoiceResolver(cfg.recipientUris)
  const log = createLogger((r) => {
    if (r.level === 'error')
      process.stderr.write(
        `${r.msg} ${JSON.stringify(r.fields ?? {}, (_k, v) => (typeof v === 'bigint' ? String(v) : v))}\n`,
      )
  }, 'payouts')
  const runner = createPayoutRunner({
    ledger: store,
    nwcClient: nwc,
    connectionId: 'operator',
    clock: systemClock,
    log,
    destinations: resolver,
    backoff: { baseMs: 300, maxMs: 2000, maxAttempts: 50 },
    requestTtlSec: 3,
    replyTimeoutMs: 2000,
    recheckMs: 300,
    concurrency: 5,
    onEvent: (e) => {
      if (e.type === 'state' && e.state === 'paid') out(`PAID ${e.payoutId}`)
    },
    crashPoint: (point: PayoutCrashPoint) => {
      out(`STEP ${point}`)
      if (point === killPoint && --killIn === 0) process.kill(process.pid, 'SIGKILL')
    },
  })
  const [b] = await store.query<{ n: number }>('SELECT count(*) AS n FROM acct_settlement')
  out(`READY booked=${b!.n}`)
  let booked = Number(b!.n)
  for (;;) {
    const upTo = Math.min(cfg.settlements, booked + cfg.chunk)
    for (; booked < upTo; booked++) {
      await store.call('accounting.bookSettlement', cashOutRecord(booked, cfg.bookedAtMs))
    }
    const rep = await runner.runCycle()
    const [open] = await store.query<{ n: number }>(
      "SELECT count(*) AS n FROM payout WHERE state IN ('planned', 'sending', 'unknown', 'failed_retryable')",
    )
    if (booked >= cfg.settlements && Number(open!.n) === 0 && rep.planned === 0) {
      out('DONE')
      await store.close()
      nwc.close()
      resolver.close()
      process.exit(0)
    }
    // Waiting payouts (back-off, a live request) are due in a few hundred ms; poll at that pace.
    if (booked >= cfg.settlements && rep.sent === 0) await new Promise((r) => setTimeout(r, 100))
  }
} catch (e) {
  out(`FAIL ${(e as Error).name} ${(e as Error).message}`)
  process.exit(2)
}
