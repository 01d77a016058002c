// Payout benchmark (issue 5, Done-when 3): payouts per second, and the latency from a record arriving (booked in
// the ledger) to all of its payout requests being published, p50/p99. Everything on the path is real: the
// worker-backed ledger with its journal fsync before each publish, NIP-47 requests signed and NIP-44 encrypted,
// the relay process on 127.0.0.1, the @getalby/sdk wallet service, and make_invoice on each recipient's own
// wallet connection before the pay request is built. Each record's legs go to five recipients (platform fee,
// two splits, two LPs), so each record causes five payouts (threshold 1 sat).
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
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
import { percentile, recordBench, round } from './lib'

const RECORDS = Number(process.env.PAYOUT_BENCH_RECORDS ?? 200)
const WARMUP = 10

it('payouts per second and record → requests published latency', async () => {
  const built = await buildLedgerWorker()
  const dir = mkdtempSync(join(tmpdir(), 'payout-bench-'))
  const relay = await startRelay()
  const net = new LightningNetwork()
  const svc = await startWalletService({ relayUrls: [relay.url], network: net })
  const op = await svc.fundedConnection('operator', 10n ** 14n)
  const uris: Record<string, string> = {}
  for (const r of SEEDED_RECIPIENTS) {
    const c = await svc.addConnection({ wallet: net.createWallet(recipientKey(r), 0n), methods: ['make_invoice'] })
    uris[recipientKey(r)] = c.uri
  }
  const store = await openLedger({ dir, workerUrl: built.workerUrl })
  const nwc = new NwcClient({ connection: op.uri, replyTimeoutMs: 10_000 })
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
    const latencies: number[] = []
    let paid = 0
    let measuredMs = 0
    for (let i = 0; i < WARMUP + RECORDS; i++) {
      published = []
      planned = []
      const t0 = performance.now()
      await store.call('accounting.bookSettlement', cashOutRecord(i, atMs))
      if (i === WARMUP) spans.clear()
      const rep = await span('cycle', () => runner.runCycle())
      const t1 = performance.now()
      expect(rep.paid).toBe(rep.planned)
      const last = Math.max(...planned.map((id) => published.find((p) => p.payoutId === id)!.atMs))
      if (i >= WARMUP) {
        latencies.push(last - t0)
        paid += rep.paid
        measuredMs += t1 - t0
      }
    }
    latencies.sort((a, b) => a - b)
    const data = {
      records: RECORDS,
      payoutsPerRecord: round(paid / RECORDS, 2),
      payouts: paid,
      payoutsPerSecond: round((paid * 1000) / measuredMs, 1),
      recordToAllRequestsPublishedMs: {
        p50: round(percentile(latencies, 50), 1),
        p99: round(percentile(latencies, 99), 1),
        max: round(latencies[latencies.length - 1]!, 1),
      },
      spansMeanMs: Object.fromEntries(
        [...spans].map(([k, v]) => [
          k,
          { calls: v.n, meanMs: round(v.ms / v.n, 2), perRecordMs: round(v.ms / RECORDS, 2) },
        ]),
      ),
      path: 'book → plan → make_invoice on recipient wallet → attachInvoice → sign → markSending (fsync) → publish; concurrency 5; relay process on 127.0.0.1',
    }
    console.log('[bench payouts]', JSON.stringify(data))
    recordBench('payouts', data)
    expect(paid).toBe(RECORDS * 5)
  } finally {
    nwc.close()
    resolver.close()
    await store.close()
    await svc.close()
    await relay.stop()
    built.dispose()
    rmSync(dir, { recursive: true, force: true })
  }
})
