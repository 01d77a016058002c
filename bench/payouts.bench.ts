// Payout benchmark (issue 5, Done-when 3; issue 11): payouts per second, and the latency from a record arriving
// (booked in the ledger) to all of its payout requests being published, p50/p99, over PAYOUT_BENCH_RUNS runs (min /
// median / max), next to the same wallet work without the ledger measured in the same run (the ratio shows what
// exactly-once costs on top of the wallet round trips, whatever else loads the machine). Everything on the path is real: the
// worker-backed ledger with its journal fsync before each publish, NIP-47 requests signed and NIP-44 encrypted,
// the relay process on 127.0.0.1, the @getalby/sdk wallet service, and make_invoice on each recipient's own
// wallet connection before the pay request is built. Each record's legs go to five recipients (platform fee,
// two splits, two LPs), so each record causes five payouts (threshold 1 sat).
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect, it } from 'vitest'
import { buildLedgerWorker } from '../src-main/ledger/test-support'
import { openLedger } from '../src-main/ledger/worker-host'
import { createPayoutRunner, type PayoutRunnerEvent } from '../src-main/payouts/runner'
import { NwcClient } from '../src-main/wallet/nwc-client'
import { systemClock } from '../src-shared/clock'
import { createLogger } from '../src-shared/log'
import { LightningNetwork } from '../test/support/lightning'
import {
  cashOutRecord,
  recipientKey,
  SEEDED_RECIPIENTS,
  seedAccounting,
  setPolicies,
  walletInvoiceResolver,
} from '../test/support/payout-fixture'
import { startRelay } from '../test/support/relay'
import { startWalletService } from '../test/support/wallet-service'
import { percentile, recordBench, round, spread } from './lib'

const RECORDS = Number(process.env.PAYOUT_BENCH_RECORDS ?? 200)
const RUNS = Number(process.env.PAYOUT_BENCH_RUNS ?? 3)
const WARMUP = 10
/** Where the wallets live: `child` (default, their own process, as a real wallet) or `inprocess` (this process). */
const WALLET_PLACE = process.env.PAYOUT_BENCH_WALLET === 'inprocess' ? 'inprocess' : 'child'

interface Wallets {
  operatorUri: string
  recipientUris: Record<string, string>
  close(): Promise<void>
}

/**
 * The operator's wallet and the recipients' wallets: in a child process (bench/wallet-service-child.ts) unless
 * PAYOUT_BENCH_WALLET=inprocess asks for the wallet service inside this process (the earlier set-up, to compare).
 */
async function startWallets(relayUrl: string, childEntry: string): Promise<Wallets> {
  const recipients = SEEDED_RECIPIENTS.map(recipientKey)
  if (WALLET_PLACE === 'inprocess') {
    const net = new LightningNetwork()
    const svc = await startWalletService({ relayUrls: [relayUrl], network: net })
    const op = await svc.fundedConnection('operator', 10n ** 14n)
    const recipientUris: Record<string, string> = {}
    for (const key of recipients) {
      const c = await svc.addConnection({ wallet: net.createWallet(key, 0n), methods: ['make_invoice'] })
      recipientUris[key] = c.uri
    }
    return { operatorUri: op.uri, recipientUris, close: () => svc.close() }
  }
  const config = JSON.stringify({ relayUrl, operatorBalanceMsat: (10n ** 14n).toString(), recipients })
  const child = spawn(process.execPath, [childEntry, config], { stdio: ['pipe', 'pipe', 'inherit'] })
  const exited = new Promise<void>((res) => child.once('exit', () => res()))
  const ready = await new Promise<{ operatorUri: string; recipientUris: Record<string, string> }>((res, rej) => {
    let buf = ''
    child.once('exit', (code) => rej(new Error(`wallet service child ended early (exit ${code})`)))
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString()
      const line = buf.split('\n').find((l) => l.startsWith('READY '))
      if (line) res(JSON.parse(line.slice('READY '.length)))
    })
  })
  return {
    ...ready,
    async close() {
      child.stdin!.end()
      await exited
    },
  }
}

it('payouts per second and record → requests published latency', async () => {
  const built = await buildLedgerWorker({ extraEntries: { 'wallet-service-child': 'bench/wallet-service-child.ts' } })
  const dir = mkdtempSync(join(tmpdir(), 'payout-bench-'))
  const relay = await startRelay()
  const wallets = await startWallets(relay.url, built.entries['wallet-service-child']!)
  const uris = wallets.recipientUris
  const store = await openLedger({ dir, workerUrl: built.workerUrl })
  const nwc = new NwcClient({ connection: wallets.operatorUri, replyTimeoutMs: 10_000 })
  const resolver = walletInvoiceResolver(uris)
  // Where the time goes: every ledger call (by procedure), ledger query, wallet call and invoice fetch the runner
  // makes, timed (they overlap when payouts run concurrently, so the sums exceed the wall time).
  const spans = new Map<string, { n: number; ms: number }>()
  const span = async <T>(name: string, f: () => Promise<T>): Promise<T> => {
    const s0 = performance.now()
    try {
      return await f()
    } finally {
      const e = spans.get(name) ?? { n: 0, ms: 0 }
      e.n++
      e.ms += performance.now() - s0
      spans.set(name, e)
    }
  }
  const timedStore: typeof store = {
    ...store,
    call: (proc, args) => span(`ledger ${proc}`, () => store.call(proc, args)),
    query: (sql, params, o) => span('ledger query', () => store.query(sql, params, o)),
  }
  const timedNwc = {
    buildRequest: ((...a: Parameters<NwcClient['buildRequest']>) =>
      span('sign (buildRequest)', () => nwc.buildRequest(...a))) as NwcClient['buildRequest'],
    send: (e: Parameters<NwcClient['send']>[0]) => span('publish (send)', () => nwc.send(e)),
    awaitResponse: ((...a: Parameters<NwcClient['awaitResponse']>) =>
      span('pay_invoice response', () => nwc.awaitResponse(...a))) as NwcClient['awaitResponse'],
    reconcilePayment: (p: Parameters<NwcClient['reconcilePayment']>[0]) =>
      span('lookup', () => nwc.reconcilePayment(p)),
    getBalance: () => span('get_balance', () => nwc.getBalance()),
  }
  const timedResolver = {
    resolveInvoice: (r: Parameters<typeof resolver.resolveInvoice>[0], amountMsat: bigint) =>
      span('make_invoice (recipient)', () => resolver.resolveInvoice(r, amountMsat)),
  }
  try {
    const atMs = Date.now()
    await seedAccounting(store, atMs)
    await setPolicies(store, atMs, { thresholdMsat: 1000n })
    let published: Array<{ payoutId: string; atMs: number }> = []
    let planned: string[] = []
    const runner = createPayoutRunner({
      ledger: timedStore,
      nwcClient: timedNwc,
      connectionId: 'operator',
      clock: systemClock,
      log: createLogger(() => undefined),
      destinations: timedResolver,
      concurrency: 5,
      onEvent: (e: PayoutRunnerEvent) => {
        if (e.type === 'published') published.push({ payoutId: e.payoutId, atMs: performance.now() })
        if (e.type === 'planned') planned.push(e.payoutId)
      },
    })
    // The floor the runner is measured against, in the same run: the same wallet work with no ledger at all —
    // get_balance, then five recipients' make_invoice, sign and pay_invoice at once — per "bare cycle".
    const bareCycles = Math.min(40, RECORDS)
    const bareRate = async (): Promise<number> => {
      const t0 = performance.now()
      for (let c = 0; c < bareCycles; c++) {
        // As the runner does: the balance is asked while the invoices are.
        await Promise.all([
          nwc.getBalance(),
          ...SEEDED_RECIPIENTS.map(async (r) => {
            const inv = await resolver.resolveInvoice({ recipientKind: r.kind, recipientId: r.id }, 1000n)
            if (inv.kind !== 'invoice') throw new Error('expected an invoice')
            const built = await nwc.buildRequest('pay_invoice', { invoice: inv.bolt11 })
            const answer = nwc.awaitResponse(built.id, { method: 'pay_invoice', timeoutMs: 10_000 })
            await nwc.send(built.event)
            await answer
          }),
        ])
      }
      return (bareCycles * SEEDED_RECIPIENTS.length * 1000) / (performance.now() - t0)
    }
    const runs: Array<{
      payoutsPerSec: number
      barePaysPerSec: number
      ratio: number
      p50Ms: number
      p99Ms: number
      loadAverage: number[]
    }> = []
    let booked = 0
    let paidTotal = 0
    for (let run = 0; run < RUNS; run++) {
      const barePaysPerSec = await bareRate()
      const latencies: number[] = []
      let paid = 0
      let measuredMs = 0
      for (let i = 0; i < (run === 0 ? WARMUP : 0) + RECORDS; i++) {
        published = []
        planned = []
        const t0 = performance.now()
        await store.call('accounting.bookSettlement', cashOutRecord(booked++, atMs))
        if (run === 0 && i === WARMUP) spans.clear()
        const rep = await span('cycle', () => runner.runCycle())
        const t1 = performance.now()
        expect(rep.paid).toBe(rep.planned)
        const last = Math.max(...planned.map((id) => published.find((p) => p.payoutId === id)!.atMs))
        if (run > 0 || i >= WARMUP) {
          latencies.push(last - t0)
          paid += rep.paid
          measuredMs += t1 - t0
        }
      }
      expect(paid).toBe(RECORDS * 5)
      paidTotal += paid
      latencies.sort((a, b) => a - b)
      const payoutsPerSec = (paid * 1000) / measuredMs
      runs.push({
        payoutsPerSec,
        barePaysPerSec,
        ratio: payoutsPerSec / barePaysPerSec,
        p50Ms: percentile(latencies, 50),
        p99Ms: percentile(latencies, 99),
        loadAverage: loadavg().map((x) => round(x, 2)),
      })
      console.log(
        `[bench payouts] run ${run + 1}: ${round(payoutsPerSec, 1)} payouts/s, bare ${round(barePaysPerSec, 1)}/s, p99 ${round(percentile(latencies, 99), 1)} ms`,
      )
    }
    const data = {
      records: RECORDS,
      runs: RUNS,
      payoutsPerRecord: 5,
      payoutsPerRun: RECORDS * 5,
      payoutsPerSecond: spread(runs.map((r) => r.payoutsPerSec)),
      barePayInvoicePerSecond: {
        note: 'same wallet work, no ledger: get_balance ∥ 5 × (make_invoice, sign, pay_invoice) at once, per cycle',
        ...spread(runs.map((r) => r.barePaysPerSec)),
      },
      ratioPayoutsToBarePayInvoice: spread(
        runs.map((r) => r.ratio),
        3,
      ),
      goalPayoutsPerSecondAtLeast: 50,
      goalMetInEveryRun: runs.every((r) => r.payoutsPerSec >= 50 && r.p99Ms < 1000),
      recordToAllRequestsPublishedMs: {
        p50: spread(
          runs.map((r) => r.p50Ms),
          1,
        ),
        p99: spread(
          runs.map((r) => r.p99Ms),
          1,
        ),
        goalP99BelowMs: 1000,
      },
      loadAverageAfterEachRun: runs.map((r) => r.loadAverage),
      spansMeanMs: {
        note: 'every call the runner made, summed over all runs (they overlap: 5 payouts at once)',
        ...Object.fromEntries(
          [...spans].map(([k, v]) => [
            k,
            { calls: v.n, meanMs: round(v.ms / v.n, 2), perRecordMs: round(v.ms / (RECORDS * RUNS), 2) },
          ]),
        ),
      },
      wallets: WALLET_PLACE === 'child' ? 'wallet service in its own process' : 'wallet service in the bench process',
      path: 'book → plan → get_balance ∥ make_invoice on recipient wallet → attachInvoice → sign (WASM) → markSending (fsync) → publish → pay_invoice answer → markPaid; concurrency 5; relay process on 127.0.0.1',
    }
    console.log('[bench payouts]', JSON.stringify(data))
    recordBench('payouts', data)
    expect(paidTotal).toBe(RECORDS * 5 * RUNS)
  } finally {
    nwc.close()
    resolver.close()
    await store.close()
    await wallets.close()
    await relay.stop()
    built.dispose()
    rmSync(dir, { recursive: true, force: true })
  }
})
