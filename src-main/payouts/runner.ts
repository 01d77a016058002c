// The payout runner: the outbox loop that drives payouts through the state machine over NIP-47 pay_invoice
// (docs/settlement.md "Payouts", src-main/payouts/README.md).
//
// One cycle:
//  1. after a (re)start, every payout left in `sending` becomes `unknown`: a request may have left before the
//     crash, and the relay caches events by id, so re-sending it proves nothing; only a lookup decides;
//  2. `unknown` payouts are reconciled with lookup_invoice on their pinned connection: paid (verified preimage)
//     → paid; no trace and the stored request still live → the SAME stored event is re-sent; no trace and the
//     request expired (the wallet ignores it from now on) → failed_retryable; pending → looked up again later;
//  3. due `failed_retryable` payouts are looked up again (a wallet may have paid after all) and, when unpaid,
//     planned for their next attempt; the attempt cap makes them final;
//  4. payouts are planned from the accruals (threshold, schedule, whole sats);
//  5. get_balance before the batch: when the wallet cannot cover every planned payout plus its fee cap, payouts
//     on the connection pause and an operator alert is raised — no part of the batch is paid;
//  6. each planned payout: the invoice is obtained from the recipient's destination (the first wave's already
//     while step 5 waits for the balance) and stored, the request is built and signed, `markSending` stores it
//     (journal fsync; handed to the ledger right behind the invoice, see payOne), and only then is it published.
// Every state change is one ledger procedure (src-main/payouts/procedures.ts) that resolves only after its
// journal record is durable; nothing is published before the state that explains it is on disk.

import { decode as decodeBolt11 } from 'light-bolt11-decoder'
import { type Clock, nowSec } from '../../src-shared/clock'
import type { Logger } from '../../src-shared/log'
import {
  invoiceAmountMsat,
  invoicePaymentHash,
  type NostrEvent,
  NwcError,
  type PaymentReconciliation,
} from '../../src-shared/nostr/nip47'
import {
  type BackoffPolicy,
  backoffMs,
  DEFAULT_BACKOFF,
  type LookupVerdict,
  PAUSING_CODES,
  type PayoutState,
  preimageProvesPayment,
} from '../../src-shared/payouts/state-machine'
import type { LedgerStore, SqlValue } from '../ledger/types'
import { type NwcClient, verifyPayResult } from '../wallet/nwc-client'
import type { DestinationResolver, ResolvedDestination } from './destinations/types'
import type { PayoutView } from './procedures'

// The destination types are shared with src-main/payouts/destinations/ (Lightning address, the LP's own NWC,
// keysend), which implements DestinationResolver; re-exported here so services import them from one place.
export type { DestinationResolver, PayoutRecipient, ResolvedDestination } from './destinations/types'

/** The part of NwcClient the runner uses (so a test can wrap it). */
export type PayoutWallet = Pick<
  NwcClient,
  'buildRequest' | 'send' | 'awaitResponse' | 'reconcilePayment' | 'getBalance'
>

/** Points where the crash harness may kill the process (all after the step named). */
export type PayoutCrashPoint = 'invoice_stored' | 'sending_journaled' | 'published' | 'response_received'

export type PayoutRunnerEvent =
  | { type: 'planned'; payoutId: string; amountMsat: bigint; atMs: number }
  | { type: 'published'; payoutId: string; requestId: string; resent: boolean; atMs: number }
  | { type: 'state'; payoutId: string; state: PayoutState; reason: string | null; atMs: number }
  | { type: 'alert'; kind: string; message: string; atMs: number }

export interface PayoutRunnerOptions {
  ledger: LedgerStore
  nwcClient: PayoutWallet
  /** Id of the wallet connection `nwcClient` speaks for; payouts are pinned to it. */
  connectionId: string
  clock: Clock
  log: Logger
  destinations: DestinationResolver
  backoff?: BackoffPolicy
  /** Lifetime of a pay_invoice request (its NIP-47 `expiration`). Default 60 s. */
  requestTtlSec?: number
  /** How long to wait for a pay_invoice answer before the outcome counts as unknown. Default 45 s. */
  replyTimeoutMs?: number
  /** How soon an unknown payout whose payment is pending (or whose request is still live) is looked up again. */
  recheckMs?: number
  /** Payouts sent at once. Default 4. */
  concurrency?: number
  onEvent?: (e: PayoutRunnerEvent) => void
  /** Test seam for the crash harness; never set in the app. */
  crashPoint?: (point: PayoutCrashPoint, payoutId: string) => void
}

export interface CycleReport {
  recovered: number
  reconciled: number
  retried: number
  planned: number
  sent: number
  paid: number
  failed: number
  unknown: number
  paused: string | null
}

export interface PayoutRunner {
  /** One full cycle (see the file comment). Cycles never overlap: a call during a cycle waits for it. */
  runCycle(): Promise<CycleReport>
  /** Runs cycles every `intervalMs` (and on `kick()`) until stop(). */
  start(intervalMs: number): void
  /** Asks for a cycle soon (e.g. after a settlement was booked). */
  kick(): void
  stop(): Promise<void>
}

interface FullRow {
  [k: string]: SqlValue
  id: string
  state: PayoutState
  recipient_kind: 'platform' | 'split' | 'lp'
  recipient_id: string
  amount_msat: bigint
  max_fee_msat: bigint
  bolt11: string | null
  payment_hash: string | null
  attempt: bigint
  request_id: string | null
  request_json: string | null
  request_expires_at_sec: bigint | null
  next_attempt_at_ms: bigint | null
}

function verdictOf(r: PaymentReconciliation): LookupVerdict {
  if (r.status === 'paid') return { status: 'paid', preimage: r.preimage, feesPaidMsat: r.feesPaidMsat }
  if (r.status === 'pending') return { status: 'pending' }
  return { status: r.status, reason: r.reason }
}

export function createPayoutRunner(o: PayoutRunnerOptions): PayoutRunner {
  const { ledger, clock, log } = o
  const wallet = o.nwcClient
  const policy = o.backoff ?? DEFAULT_BACKOFF
  const ttlSec = o.requestTtlSec ?? 60
  const replyTimeoutMs = o.replyTimeoutMs ?? 45_000
  const recheckMs = o.recheckMs ?? 5_000
  const concurrency = o.concurrency ?? 4
  const conn = o.connectionId
  let recovered = false
  let running: Promise<CycleReport> | null = null
  let timer: ReturnType<typeof setTimeout> | null = null
  let stopped = true
  let kicked = false
  let loopPromise: Promise<void> | null = null
  let wake: (() => void) | null = null

  const emit = (e: PayoutRunnerEvent) => {
    try {
      o.onEvent?.(e)
    } catch (err) {
      log.warn('payout event listener threw', { reason: (err as Error).message })
    }
  }
  const crash = (point: PayoutCrashPoint, id: string) => o.crashPoint?.(point, id)
  const call = async (proc: string, args: Record<string, unknown>): Promise<PayoutView> => {
    const v = await ledger.call<PayoutView>(`payouts.${proc}`, args)
    emit({ type: 'state', payoutId: v.id, state: v.state, reason: v.reason, atMs: clock.nowMs() })
    return v
  }
  const rows = (where: string, params: (string | number)[] = []) =>
    ledger.query<FullRow>(
      `SELECT * FROM payout WHERE connection_id = ? AND ${where} ORDER BY planned_at_ms, id`,
      [conn, ...params],
      {
        bigint: true,
      },
    )

  async function pausedReason(): Promise<string | null> {
    const [r] = await ledger.query<{ paused: number; reason: string | null }>(
      'SELECT paused, reason FROM payout_control WHERE connection_id = ?',
      [conn],
    )
    return r && Number(r.paused) === 1 ? (r.reason ?? 'paused') : null
  }

  async function pauseWith(kind: string, reason: string, payoutId: string | null, data?: unknown): Promise<void> {
    const nowMs = clock.nowMs()
    await ledger.call('payouts.pause', { connectionId: conn, kind, reason, nowMs, payoutId, data })
    log.error('payouts paused', { connectionId: conn, kind, reason, payoutId })
    emit({ type: 'alert', kind, message: reason, atMs: nowMs })
  }

  /** Looks a payment up on the pinned connection; null when the lookup itself failed (still unknown). */
  async function lookup(r: FullRow): Promise<LookupVerdict | null> {
    if (r.payment_hash === null) return { status: 'not_paid', reason: 'no invoice was ever requested' }
    try {
      return verdictOf(await wallet.reconcilePayment({ paymentHash: r.payment_hash, amountMsat: r.amount_msat }))
    } catch (e) {
      log.warn('lookup failed; payout stays as it is', { payoutId: r.id, reason: (e as Error).message })
      return null
    }
  }

  /** Publishes the stored request of a payout in `sending` and settles its outcome. */
  async function sendAndSettle(
    id: string,
    event: NostrEvent,
    target: string,
    paymentHash: string,
    attempt: number,
    resent: boolean,
  ) {
    const pending = wallet.awaitResponse(event.id, { method: methodOf(target), timeoutMs: replyTimeoutMs })
    pending.catch(() => undefined)
    try {
      await wallet.send(event)
      emit({ type: 'published', payoutId: id, requestId: event.id, resent, atMs: clock.nowMs() })
    } catch (e) {
      // The wallet may still see it (or have seen it before a crash); only a lookup can tell.
      log.warn('publishing the pay request failed', { payoutId: id, reason: (e as Error).message })
    }
    crash('published', id)
    let result: Awaited<ReturnType<PayoutWallet['awaitResponse']>>
    try {
      result = await pending
    } catch (e) {
      return settleError(id, e, attempt)
    }
    crash('response_received', id)
    const outcome = verifyPayResult(
      paymentHash,
      event.id,
      result as { preimage: string | null; feesPaidMsat: bigint | null },
      log,
    )
    const nowMs = clock.nowMs()
    if (outcome.proof.status === 'verified') {
      return call('markPaid', {
        payoutId: id,
        preimage: outcome.proof.preimage,
        feesPaidMsat: outcome.feesPaidMsat,
        nowMs,
        via: 'response',
      })
    }
    // The wallet says it paid but cannot prove it: money may have moved, so never retry blindly; reconcile now.
    const v = await call('markUnknown', {
      payoutId: id,
      reason: `wallet answered without a valid proof (${outcome.proof.status})`,
      code: outcome.proof.status.toUpperCase(),
      checkAtMs: nowMs,
      nowMs,
    })
    const [row] = await rows('id = ?', [v.id])
    return row ? reconcileOne(row) : v
  }

  async function settleError(id: string, e: unknown, attempt: number): Promise<PayoutView> {
    const nowMs = clock.nowMs()
    if (!(e instanceof NwcError)) {
      log.error('unexpected error while paying', { payoutId: id, reason: String(e) })
      return call('markUnknown', { payoutId: id, reason: `unexpected: ${String(e)}`, checkAtMs: nowMs, nowMs })
    }
    if (e.outcome !== 'rejected') {
      // No answer, or one we do not trust: the outcome is unknown until a lookup decides.
      return call('markUnknown', { payoutId: id, reason: e.message, code: e.code, checkAtMs: nowMs + recheckMs, nowMs })
    }
    // The wallet answered with an error: by its own word it did not pay this request.
    if (PAUSING_CODES.includes(e.code)) {
      // Nothing else on this connection will go through until the operator acts (top up, raise the budget, fix
      // permissions): pause it and raise the alert. The payout itself stays valid and is retried after resume.
      const v = await call('markFailedRetryable', {
        payoutId: id,
        code: e.code,
        reason: e.message,
        nextAttemptAtMs: nowMs + backoffMs(attempt, policy),
        nowMs,
      })
      await pauseWith(e.code.toLowerCase(), `wallet refused payout ${id}: ${e.message}`, id)
      return v
    }
    if (e.retryable && attempt < policy.maxAttempts) {
      return call('markFailedRetryable', {
        payoutId: id,
        code: e.code,
        reason: e.message,
        nextAttemptAtMs: nowMs + backoffMs(attempt, policy),
        nowMs,
      })
    }
    const why = e.retryable ? `${e.message} (after ${attempt} attempts)` : e.message
    return call('markFailedFinal', { payoutId: id, code: e.code, reason: why, nowMs })
  }

  /** Step 2 for one unknown payout. */
  async function reconcileOne(r: FullRow): Promise<PayoutView | null> {
    const v = await lookup(r)
    if (v === null) return null
    const nowMs = clock.nowMs()
    const sec = nowSec(clock)
    const live = r.request_expires_at_sec !== null && sec < Number(r.request_expires_at_sec)
    if (v.status === 'not_paid' && live && r.request_json !== null && r.payment_hash !== null) {
      await call('resumeSending', { payoutId: r.id, nowSec: sec, nowMs })
      return sendAndSettle(
        r.id,
        JSON.parse(r.request_json) as NostrEvent,
        r.bolt11 ?? '',
        r.payment_hash,
        Number(r.attempt),
        true,
      )
    }
    const expiresMs = r.request_expires_at_sec === null ? nowMs : Number(r.request_expires_at_sec) * 1000
    return call('reconcileUnknown', {
      payoutId: r.id,
      verdict: v,
      nowMs,
      nowSec: sec,
      // A live request is looked at again once it has expired; a pending payment after the usual pause.
      recheckAtMs: Math.max(nowMs + recheckMs, v.status === 'pending' ? 0 : expiresMs + 1000),
      retryAtMs: nowMs,
    })
  }

  /** Step 3 for one due failed_retryable payout. */
  async function retryOne(r: FullRow): Promise<PayoutView | null> {
    const attempt = Number(r.attempt)
    const nowMs = clock.nowMs()
    // A payout with no request since its last proof of non-payment needs no lookup.
    const v = r.request_id === null ? ({ status: 'not_paid', reason: 'no request since' } as const) : await lookup(r)
    if (v === null) return null
    if (v.status === 'paid') {
      return call('markPaid', {
        payoutId: r.id,
        preimage: v.preimage,
        feesPaidMsat: v.feesPaidMsat,
        nowMs,
        via: 'lookup',
      })
    }
    if (v.status === 'unverifiable') {
      return call('markFailedFinal', { payoutId: r.id, code: 'UNVERIFIABLE', reason: `lookup: ${v.reason}`, nowMs })
    }
    if (v.status === 'pending') return null
    if (attempt >= policy.maxAttempts) {
      return call('markFailedFinal', {
        payoutId: r.id,
        code: 'RETRIES_EXHAUSTED',
        reason: `gave up after ${attempt} attempts; last: ${r.error_code ?? ''} ${r.reason ?? ''}`.trim(),
        nowMs,
      })
    }
    const newInvoice =
      !methodOf(r.bolt11).endsWith('keysend') && (v.reason === 'expired' || invoiceExpired(r.bolt11, nowSec(clock)))
    return call('scheduleRetry', { payoutId: r.id, nowMs, lookup: v, newInvoice })
  }

  /** Signs the pay request for a stored target: a BOLT11 invoice, or `keysend:<node id>:<preimage we chose>`. */
  function buildPay(target: string, amountMsat: bigint) {
    if (target.startsWith('keysend:')) {
      const [, pubkey, preimage] = target.split(':')
      return wallet.buildRequest('pay_keysend', { amountMsat, pubkey: pubkey!, preimage: preimage! }, { ttlSec })
    }
    return wallet.buildRequest('pay_invoice', { invoice: target }, { ttlSec })
  }

  const askInvoice = (r: FullRow): Promise<ResolvedDestination> =>
    o.destinations.resolveInvoice({ recipientKind: r.recipient_kind, recipientId: r.recipient_id }, r.amount_msat)

  /** Step 6 for one planned payout; `asked`: its invoice, already requested while the balance was checked. */
  async function payOne(r: FullRow, asked?: Promise<ResolvedDestination>): Promise<PayoutView | null> {
    const bolt11 = r.bolt11
    const paymentHash = r.payment_hash
    const attempt = Number(r.attempt)
    if (bolt11 === null || paymentHash === null) {
      let inv: ResolvedDestination
      try {
        inv = await (asked ?? askInvoice(r))
        if (inv.amountMsat !== r.amount_msat) throw new Error(`destination amount differs from ${r.amount_msat} msat`)
        if (inv.kind === 'invoice') {
          if (invoicePaymentHash(inv.bolt11) !== inv.paymentHash) throw new Error('invoice payment hash differs')
          if (invoiceAmountMsat(inv.bolt11) !== r.amount_msat) {
            throw new Error(`invoice amount differs from ${r.amount_msat} msat`)
          }
        } else if (!preimageProvesPayment(inv.preimage, inv.paymentHash)) {
          throw new Error('keysend preimage does not hash to its payment hash')
        }
      } catch (e) {
        const nowMs = clock.nowMs()
        log.warn('destination gave no usable invoice', { payoutId: r.id, reason: (e as Error).message })
        if (attempt >= policy.maxAttempts) {
          return call('markFailedFinal', { payoutId: r.id, code: 'NO_INVOICE', reason: (e as Error).message, nowMs })
        }
        return call('markFailedRetryable', {
          payoutId: r.id,
          code: 'NO_INVOICE',
          reason: (e as Error).message,
          nextAttemptAtMs: nowMs + backoffMs(attempt, policy),
          nowMs,
        })
      }
      const target = inv.kind === 'invoice' ? inv.bolt11 : `keysend:${inv.nodeId}:${inv.preimage}`
      // The invoice is stored, the request signed and `markSending` handed to the ledger one behind the other,
      // without waiting for the invoice's own fsync in between: the ledger commits in message order and
      // journals a prefix, so once `markSending` is durable the invoice is too, and `markSending` refuses a
      // request for any invoice other than the stored one. What exactly-once needs still holds: nothing is
      // published before the `sending` record that explains it is on disk.
      const attached = ledger.call('payouts.attachInvoice', {
        payoutId: r.id,
        bolt11: target,
        paymentHash: inv.paymentHash,
        amountMsat: inv.amountMsat,
        nowMs: clock.nowMs(),
      })
      attached.catch(() => undefined) // awaited below, after markSending has been handed over
      const built = await buildPay(target, r.amount_msat)
      const sending = markSendingCall(r.id, target, built)
      sending.catch(() => undefined) // awaited below
      await attached
      crash('invoice_stored', r.id)
      await sending
      crash('sending_journaled', r.id)
      return sendAndSettle(r.id, built.event, target, inv.paymentHash, attempt, false)
    }
    // A retry with its invoice already stored: sign, journal `sending`, then publish.
    const built = await buildPay(bolt11, r.amount_msat)
    await markSendingCall(r.id, bolt11, built)
    crash('sending_journaled', r.id)
    return sendAndSettle(r.id, built.event, bolt11, paymentHash, attempt, false)
  }

  /** The `markSending` transition for a signed request that pays `target` (journal fsync before it resolves). */
  function markSendingCall(id: string, target: string, built: Awaited<ReturnType<typeof buildPay>>) {
    return call('markSending', {
      payoutId: id,
      bolt11: target,
      requestId: built.id,
      requestJson: JSON.stringify(built.event),
      requestExpiresAtSec: built.expiresAtSec,
      nowMs: clock.nowMs(),
    })
  }

  async function pool<T>(items: T[], fn: (t: T) => Promise<PayoutView | null>): Promise<(PayoutView | null)[]> {
    const out: (PayoutView | null)[] = []
    let i = 0
    const worker = async () => {
      while (i < items.length) {
        const item = items[i++]!
        try {
          out.push(await fn(item))
        } catch (e) {
          log.error('payout step failed', { reason: (e as Error).message })
          out.push(null)
        }
      }
    }
    await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker))
    return out
  }

  async function cycle(): Promise<CycleReport> {
    const report: CycleReport = {
      recovered: 0,
      reconciled: 0,
      retried: 0,
      planned: 0,
      sent: 0,
      paid: 0,
      failed: 0,
      unknown: 0,
      paused: null,
    }
    const tally = (vs: (PayoutView | null)[]) => {
      for (const v of vs) {
        if (v?.state === 'paid') report.paid++
        else if (v?.state === 'failed_final' || v?.state === 'failed_retryable') report.failed++
        else if (v?.state === 'unknown') report.unknown++
      }
    }
    if (!recovered) {
      for (const r of await rows("state = 'sending'")) {
        const nowMs = clock.nowMs()
        await call('markUnknown', { payoutId: r.id, reason: 'restart while sending', checkAtMs: nowMs, nowMs })
        report.recovered++
      }
      recovered = true
    }
    const now = clock.nowMs()
    const unknown = await rows("state = 'unknown' AND COALESCE(next_attempt_at_ms, 0) <= ?", [now])
    report.reconciled = unknown.length
    tally(await pool(unknown, reconcileOne))
    const due = await rows("state = 'failed_retryable' AND COALESCE(next_attempt_at_ms, 0) <= ?", [clock.nowMs()])
    report.retried = due.length
    tally(await pool(due, retryOne))

    const planned = await ledger.call<PayoutView[]>('payouts.plan', { nowMs: clock.nowMs(), connectionId: conn })
    report.planned = planned.length
    for (const p of planned)
      emit({ type: 'planned', payoutId: p.id, amountMsat: BigInt(p.amountMsat), atMs: clock.nowMs() })

    report.paused = await pausedReason()
    if (report.paused !== null) return report
    const batch = await rows("state = 'planned'")
    if (batch.length === 0) return report
    const needMsat = batch.reduce((s, r) => s + r.amount_msat + r.max_fee_msat, 0n)
    // The first wave's invoices are asked for while the balance is checked: asking a recipient for an invoice
    // moves no money and writes nothing, so it need not wait. An invoice is stored (attachInvoice) and paid only
    // after the check passed; when it fails, the invoices asked for are simply never used.
    const asked = new Map<string, Promise<ResolvedDestination>>()
    for (const r of batch.slice(0, concurrency)) {
      if (r.bolt11 !== null && r.payment_hash !== null) continue
      const p = askInvoice(r)
      p.catch(() => undefined) // handled in payOne; a batch that is not sent must not leave an unhandled rejection
      asked.set(r.id, p)
    }
    let balanceMsat: bigint
    try {
      balanceMsat = await wallet.getBalance()
    } catch (e) {
      log.warn('get_balance failed; batch postponed', { reason: (e as Error).message })
      return report
    }
    if (balanceMsat < needMsat) {
      const reason = `wallet balance ${balanceMsat} msat cannot cover ${batch.length} payouts needing ${needMsat} msat with fees`
      await pauseWith('insufficient_balance', reason, null, {
        balanceMsat: balanceMsat.toString(),
        needMsat: needMsat.toString(),
      })
      report.paused = reason
      return report
    }
    report.sent = batch.length
    tally(await pool(batch, (r) => payOne(r, asked.get(r.id))))
    return report
  }

  const runCycle = (): Promise<CycleReport> => {
    if (running) return running.then(() => runCycle())
    running = cycle().finally(() => {
      running = null
    })
    return running
  }

  return {
    runCycle,
    kick() {
      kicked = true
      wake?.()
    },
    start(intervalMs: number) {
      if (!stopped) return
      stopped = false
      loopPromise = (async () => {
        while (!stopped) {
          kicked = false
          try {
            await runCycle()
          } catch (e) {
            log.error('payout cycle failed', { reason: (e as Error).message })
          }
          if (stopped) break
          if (kicked) continue
          await new Promise<void>((res) => {
            wake = res
            timer = setTimeout(res, intervalMs)
          })
          wake = null
          if (timer) clearTimeout(timer)
        }
      })()
    },
    async stop() {
      stopped = true
      wake?.()
      await loopPromise
      await running
    },
  }
}

/** The NIP-47 method that pays a stored target. */
function methodOf(target: string | null): 'pay_invoice' | 'pay_keysend' {
  return target?.startsWith('keysend:') ? 'pay_keysend' : 'pay_invoice'
}

/** True when the invoice's own expiry (BOLT11 timestamp + expiry, default 3600 s) has passed. */
function invoiceExpired(bolt11: string | null, nowSecValue: number): boolean {
  if (bolt11 === null) return false
  try {
    const d = decodeBolt11(bolt11)
    const ts = Number(d.sections.find((s) => s.name === 'timestamp')?.value)
    const expiry = Number(d.expiry ?? 3600)
    return Number.isFinite(ts) && nowSecValue >= ts + expiry
  } catch {
    return false
  }
}
