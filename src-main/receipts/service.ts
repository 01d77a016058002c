// Settlement receipt publisher (issue 5 "Payouts" item 6; docs/protocol.md): for every processed settlement, a kind 3079
// receipt signed by the console key, published to the console's relays and read back by id to prove it is there.
//
// Order of effects (docs/architecture.md §5: the journal before any external effect):
//   1. sign the receipt (preimage from the operator wallet's lookup_invoice, sha256-checked by the receipt builder);
//   2. store it in the ledger (`receipts.store`); if a receipt was already stored for the settlement (a crash after
//      step 2), the stored one is used, so one settlement never gets two different receipts;
//   3. publish it; 4. REQ it back by id from each relay that accepted it, re-verify it (id, signature, console
//      author, sha256(preimage) = payment_hash, same tags) and record `verified`.
// Every publish and read-back is logged in the ledger (append-only); failures are retried with exponential backoff
// computed from that log, so the schedule survives restarts.
import type { Clock } from '../../src-shared/clock'
import type { Logger } from '../../src-shared/log'
import { copyEvent, type NostrEvent } from '../../src-shared/nostr/event'
import { buildReceiptTemplate, parseReceiptEvent, type Receipt } from '../../src-shared/nostr/receipt'
import type { Signer } from '../../src-shared/signer'
import { signEventChecked } from '../../src-shared/signer'
import type { LedgerStore } from '../ledger/types'
import type { PoolSubscription, PublishResult, SignedEvent, SubscriptionSpec } from '../nostr/relay-pool'
import type { DueReceipt, UnverifiedReceipt } from './procedures'
import { queryOnce } from './query'

export interface ReceiptPool {
  publish(event: SignedEvent, opts?: { relays?: readonly string[]; timeoutMs?: number }): Promise<PublishResult[]>
  subscribe(spec: SubscriptionSpec): PoolSubscription
}

/** Where the preimage comes from: the operator wallet (NwcClient.lookupInvoice fits). */
export interface PreimageWallet {
  lookupInvoice(params: { paymentHash: string }): Promise<{ paymentHash: string; preimage: string | null }>
}

export interface ReceiptServiceOptions {
  ledger: LedgerStore
  pool: ReceiptPool
  consoleSigner: Signer
  operatorPubkey: string
  wallet: PreimageWallet
  /** Relays the receipts go to (the console's relays). */
  relays: readonly string[]
  clock: Clock
  log: Logger
  publishTimeoutMs?: number
  readBackTimeoutMs?: number
  /** Retry backoff after a failed publish or read-back. */
  retryInitialMs?: number
  retryMaxMs?: number
  /** Receipts handled per run. Default 50. */
  batch?: number
}

export interface ReceiptRunReport {
  signed: number
  verified: number
  failed: Array<{ settlementId: number; stage: 'sign' | 'publish' | 'read_back'; reason: string }>
  /** Unverified receipts whose retry time has not come yet. */
  waiting: number
}

export interface ReceiptService {
  readonly consolePubkey: string
  /** Signs and stores receipts for newly processed settlements, then publishes and verifies what is unverified. */
  runOnce(): Promise<ReceiptRunReport>
  /** Runs `runOnce` every `intervalMs` (default 30 s), one run at a time. */
  start(intervalMs?: number): void
  close(): Promise<void>
}

/** Retry delay after `attempts` failed attempts: initial · 2^(attempts−1), capped. */
export function receiptRetryDelayMs(attempts: number, initialMs: number, maxMs: number): number {
  if (attempts <= 0) return 0
  return Math.min(maxMs, initialMs * 2 ** Math.min(attempts - 1, 30))
}

const sameTags = (a: string[][], b: string[][]) => JSON.stringify(a) === JSON.stringify(b)

export async function createReceiptService(opts: ReceiptServiceOptions): Promise<ReceiptService> {
  const { ledger, pool, clock, log } = opts
  const consolePubkey = await opts.consoleSigner.getPublicKey()
  const publishTimeoutMs = opts.publishTimeoutMs ?? 10_000
  const readBackTimeoutMs = opts.readBackTimeoutMs ?? 10_000
  const retryInitialMs = opts.retryInitialMs ?? 30_000
  const retryMaxMs = opts.retryMaxMs ?? 60 * 60_000
  const batch = opts.batch ?? 50
  let timer: ReturnType<typeof setInterval> | null = null
  let running: Promise<ReceiptRunReport> | null = null

  async function signOne(d: DueReceipt): Promise<void> {
    const tx = await opts.wallet.lookupInvoice({ paymentHash: d.paymentHash })
    if (!tx.preimage) throw new Error('the wallet returned no preimage for this payment hash')
    const template = buildReceiptTemplate(
      {
        recordEventId: d.recordEventId,
        operatorPubkey: opts.operatorPubkey,
        atmPubkey: d.atmPubkey,
        paymentHash: d.paymentHash,
        preimage: tx.preimage.toLowerCase(),
        amountMsat: BigInt(d.amountMsat),
      },
      Math.floor(clock.nowMs() / 1000),
    )
    const ev = await signEventChecked(opts.consoleSigner, template, consolePubkey)
    const stored = await ledger.call<{ created: boolean; eventId: string }>('receipts.store', {
      settlementId: d.settlementId,
      eventJson: JSON.stringify(ev),
      atMs: clock.nowMs(),
    })
    log.info(stored.created ? 'receipt signed and stored' : 'receipt already stored; keeping the stored one', {
      settlementId: d.settlementId,
      eventId: stored.eventId,
    })
  }

  async function readBack(ev: NostrEvent, relays: string[]): Promise<{ found: string[]; problem: string | null }> {
    const found: string[] = []
    let problem: string | null = null
    await Promise.all(
      relays.map(async (relay) => {
        const r = await queryOnce(pool, [{ ids: [ev.id] }], {
          relays: [relay],
          timeoutMs: readBackTimeoutMs,
          stopWhen: (evs) => evs.some((e) => e.id === ev.id),
        })
        const got = r.events.find((e) => e.id === ev.id)
        if (!got) return
        let parsed: Receipt
        try {
          parsed = parseReceiptEvent(copyEvent(got as NostrEvent), consolePubkey)
        } catch (e) {
          problem = `${relay}: ${(e as Error).message}`
          return
        }
        if (!sameTags(got.tags as string[][], ev.tags) || parsed.eventId !== ev.id) {
          problem = `${relay}: the event read back differs from the one stored`
          return
        }
        found.push(relay)
      }),
    )
    return { found, problem }
  }

  async function publishOne(u: UnverifiedReceipt, report: ReceiptRunReport): Promise<void> {
    const ev = JSON.parse(u.eventJson) as NostrEvent
    // Every outcome is one attempt row in the ledger; `relays` are the relays that accepted or returned it.
    const record = (
      kind: 'published' | 'publish_failed' | 'verified' | 'verify_failed',
      relays: string[],
      detail?: string,
    ) =>
      ledger.call('receipts.recordAttempt', {
        eventId: u.eventId,
        kind,
        relaysOk: relays.length,
        detail: detail ?? relays.join(' '),
        atMs: clock.nowMs(),
      })
    // A failed stage is recorded, logged and reported; the next run retries it.
    const fail = async (stage: 'publish' | 'read_back', reason: string, message: string) => {
      await record(stage === 'publish' ? 'publish_failed' : 'verify_failed', [], reason)
      log.warn(message, { eventId: u.eventId, reason })
      report.failed.push({ settlementId: u.settlementId, stage, reason })
    }
    let results: PublishResult[]
    try {
      results = await pool.publish(ev, { relays: opts.relays, timeoutMs: publishTimeoutMs })
    } catch (e) {
      results = []
      log.error('receipt publish threw', { eventId: u.eventId, reason: (e as Error).message })
    }
    const accepted = results.filter((r) => r.ok).map((r) => r.relay)
    if (accepted.length === 0) {
      const reason = results.map((r) => `${r.relay}: ${r.outcome} ${r.message}`).join('; ') || 'publish failed'
      await fail('publish', reason, 'receipt not accepted by any relay; will retry')
      return
    }
    await record('published', accepted)
    const rb = await readBack(ev, accepted)
    if (rb.found.length === 0) {
      await fail(
        'read_back',
        rb.problem ?? 'not found on any relay that accepted it',
        'receipt read-back failed; will retry',
      )
      return
    }
    await record('verified', rb.found)
    report.verified++
    log.info('receipt verified on relays', { eventId: u.eventId, relays: rb.found.length })
  }

  async function run(): Promise<ReceiptRunReport> {
    const report: ReceiptRunReport = { signed: 0, verified: 0, failed: [], waiting: 0 }
    const dueList = await ledger.call<DueReceipt[]>('receipts.due', { limit: batch })
    for (const d of dueList) {
      try {
        await signOne(d)
        report.signed++
      } catch (e) {
        const reason = (e as Error).message
        log.error('receipt not signed', { settlementId: d.settlementId, paymentHash: d.paymentHash, reason })
        report.failed.push({ settlementId: d.settlementId, stage: 'sign', reason })
      }
    }
    const pending = await ledger.call<UnverifiedReceipt[]>('receipts.unverified', { limit: batch })
    const now = clock.nowMs()
    for (const u of pending) {
      // Attempts are logged in pairs (publish + read-back) when a publish succeeds; count failures by rounds.
      const rounds = Math.ceil(u.attempts / 2)
      const due =
        u.lastAttemptAtMs === null ? 0 : u.lastAttemptAtMs + receiptRetryDelayMs(rounds, retryInitialMs, retryMaxMs)
      if (now < due) {
        report.waiting++
        continue
      }
      await publishOne(u, report)
    }
    return report
  }

  // One run at a time: a timer tick during a run joins it instead of publishing the same receipt twice at once.
  const runOnce = (): Promise<ReceiptRunReport> => {
    if (!running)
      running = run().finally(() => {
        running = null
      })
    return running
  }

  return {
    consolePubkey,
    runOnce,
    start(intervalMs = 30_000) {
      if (timer) return
      const tick = () =>
        void runOnce().catch((e: unknown) => log.error('receipt run failed', { reason: (e as Error).message }))
      timer = setInterval(tick, intervalMs)
      tick()
    },
    async close() {
      if (timer) clearInterval(timer)
      timer = null
      await running?.catch(() => undefined)
    },
  }
}
