// NIP-47 (Nostr Wallet Connect) client: the thin I/O shell around the pure protocol in src-shared/nostr/nip47.ts.
// It reads the wallet's kind 13194 info event to pick the encryption, signs requests with an `expiration` tag,
// waits for the answer that carries the request's `e` tag, is signed by the wallet key and decrypts with our key
// (everything else is logged and ignored), takes the first valid answer and ignores duplicates.
//
// For exactly-once payouts (src-main/payouts/README.md) signing and sending are separate steps:
// `buildRequest()` returns the signed event to store first; `send(event)` publishes it, and after a crash the
// SAME stored event can be sent again (its id is unchanged, so a wallet that records event ids drops the repeat);
// `awaitResponse(id)` waits for the answer. Call awaitResponse before send: send then waits until the response
// subscription is live on the relay, because responses are ephemeral and one sent before it would be lost.

import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js'
import { type Clock, nowSec, systemClock } from '../../src-shared/clock'
import { createLogger, type Logger } from '../../src-shared/log'
import {
  type BuiltRequest,
  buildRequestEvent,
  checkResponseEvent,
  chooseEncryption,
  inspectOwnRequest,
  interpretResponse,
  invoiceAmountMsat,
  invoicePaymentHash,
  type ListTransactionsParams,
  type LookupInvoiceParams,
  type MakeInvoiceParams,
  NIP47_KIND,
  NIP47_METHODS,
  type Nip47Encryption,
  type Nip47Method,
  type Nip47Notification,
  type Nip47ParamsMap,
  type Nip47ResultMap,
  type Nip47Transaction,
  type NostrEvent,
  type NwcConnection,
  NwcError,
  NwcParamError,
  openNotification,
  type PayKeysendParams,
  type PaymentProof,
  type PaymentReconciliation,
  type PayResult,
  parseConnectionUri,
  parseInfoEvent,
  type RawResponse,
  reconcilePaymentLookup,
  verifyPaymentProof,
  type WalletServiceInfo,
} from '../../src-shared/nostr/nip47'
import { nwcCrypto } from './nwc-crypto'
import {
  createDirectTransport,
  type NwcTransport,
  type PublishResult,
  type TransportSubscription,
} from './nwc-transport'

export interface NwcClientOptions {
  /** The connection URI, or an already parsed connection. */
  connection: string | NwcConnection
  /** Relay transport; defaults to a direct WebSocket transport to the URI's relays. */
  transport?: NwcTransport
  logger?: Logger
  clock?: Clock
  /** Lifetime of a request (its `expiration` tag), in seconds. Default 60. */
  requestTtlSec?: number
  /** How long awaitResponse waits by default. Default 60 s. */
  replyTimeoutMs?: number
  /** How long to wait for the info event before treating it as absent. Default 5 s. */
  infoTimeoutMs?: number
  /** Force a scheme instead of negotiating from the info event ('auto', the default, negotiates). */
  encryption?: 'auto' | Nip47Encryption
}

/** pay_invoice / pay_keysend outcome: the wallet said it paid, and this is what its proof is worth. */
export interface PaymentOutcome {
  requestId: string
  proof: PaymentProof
  feesPaidMsat: bigint | null
}

export interface NotificationSubscription {
  /** Resolves once the subscription is live on at least one relay. */
  ready: Promise<void>
  close(): void
}

interface Waiter {
  id: string
  method: Nip47Method | undefined
  promise: Promise<unknown>
  resolve: (v: unknown) => void
  reject: (e: unknown) => void
  sub: TransportSubscription
  timer: ReturnType<typeof setTimeout>
  seenEvents: Set<string>
}

interface RequestRecord {
  method: Nip47Method
  encryption: Nip47Encryption
  expiresAtSec: number
}

const ANSWERED_MEMORY = 1000
const RECORD_MEMORY = 10_000

export class NwcClient {
  readonly connection: NwcConnection
  private readonly transport: NwcTransport
  private readonly log: Logger
  private readonly clock: Clock
  private readonly requestTtlSec: number
  private readonly replyTimeoutMs: number
  private readonly infoTimeoutMs: number
  private readonly encryptionOption: 'auto' | Nip47Encryption
  private infoPromise: Promise<WalletServiceInfo | null> | null = null
  private readonly records = new Map<string, RequestRecord>()
  private readonly waiters = new Map<string, Waiter>()
  private readonly answered = new Set<string>()
  private closed = false
  private warnedNip04 = false

  constructor(opts: NwcClientOptions) {
    this.connection = typeof opts.connection === 'string' ? parseConnectionUri(opts.connection) : opts.connection
    this.transport = opts.transport ?? createDirectTransport(this.connection.relays)
    this.log = opts.logger ?? createLogger(() => undefined, 'nwc')
    this.clock = opts.clock ?? systemClock
    this.requestTtlSec = opts.requestTtlSec ?? 60
    this.replyTimeoutMs = opts.replyTimeoutMs ?? 60_000
    this.infoTimeoutMs = opts.infoTimeoutMs ?? 5_000
    this.encryptionOption = opts.encryption ?? 'auto'
    if (!Number.isSafeInteger(this.requestTtlSec) || this.requestTtlSec <= 0) {
      throw new NwcParamError('requestTtlSec', 'must be a positive integer')
    }
  }

  // ------------------------------------------------------------------------------------------------------------
  // Info and encryption

  /** The wallet's newest valid kind 13194 info event (cached), or null when none arrives in time. */
  walletInfo(refresh = false): Promise<WalletServiceInfo | null> {
    if (!this.infoPromise || refresh) this.infoPromise = this.fetchInfo()
    return this.infoPromise
  }

  private async fetchInfo(): Promise<WalletServiceInfo | null> {
    const found: WalletServiceInfo[] = []
    const sub = this.transport.subscribe(
      { kinds: [NIP47_KIND.info], authors: [this.connection.walletPubkey], limit: 1 },
      (ev, relay) => {
        try {
          found.push(parseInfoEvent(ev, this.connection.walletPubkey))
        } catch (e) {
          this.log.warn('info event ignored', { relay, eventId: ev.id, reason: (e as Error).message })
        }
      },
    )
    let timer: ReturnType<typeof setTimeout> | undefined
    await Promise.race([sub.ready, new Promise<void>((r) => (timer = setTimeout(r, this.infoTimeoutMs)))])
    clearTimeout(timer)
    sub.close()
    if (found.length === 0) {
      this.log.warn('wallet published no info event; assuming NIP-04', { wallet: this.connection.walletPubkey })
      return null
    }
    found.sort((a, b) => b.createdAtSec - a.createdAtSec)
    return found[0]!
  }

  /** The scheme requests will use: NIP-44 v2 unless the wallet's info event lacks it. */
  async encryption(): Promise<Nip47Encryption> {
    if (this.encryptionOption !== 'auto') return this.encryptionOption
    const enc = chooseEncryption(await this.walletInfo())
    if (enc === 'nip04' && !this.warnedNip04) {
      this.warnedNip04 = true
      this.log.warn('wallet lacks nip44_v2; falling back to NIP-04', { wallet: this.connection.walletPubkey })
    }
    return enc
  }

  // ------------------------------------------------------------------------------------------------------------
  // The three steps: build (sign), send (publish), await the response

  /** Validates params, signs the request and returns it without sending anything. */
  async buildRequest<M extends Nip47Method>(
    method: M,
    params: Nip47ParamsMap[M],
    opts: { ttlSec?: number } = {},
  ): Promise<BuiltRequest<M>> {
    const ttlSec = opts.ttlSec ?? this.requestTtlSec
    if (!Number.isSafeInteger(ttlSec) || ttlSec <= 0) throw new NwcParamError('ttlSec', 'must be a positive integer')
    const encryption = await this.encryption()
    const createdAtSec = nowSec(this.clock)
    const built = buildRequestEvent({
      conn: this.connection,
      method,
      params,
      encryption,
      createdAtSec,
      expiresAtSec: createdAtSec + ttlSec,
      crypto: nwcCrypto(),
    })
    this.rememberRecord(built.id, { method, encryption, expiresAtSec: built.expiresAtSec })
    this.log.debug('request built', { method, requestId: built.id, encryption, expiresAtSec: built.expiresAtSec })
    return built
  }

  /**
   * Publishes a signed request (new, or re-sent from storage after a crash). Refuses an expired one (EXPIRED,
   * nothing sent). Throws PUBLISH_FAILED when no relay accepted it.
   */
  async send(event: NostrEvent): Promise<PublishResult> {
    if (this.closed) throw new NwcError('PUBLISH_FAILED', 'client is closed', 'not_sent')
    let rec = this.records.get(event.id)
    if (!rec) {
      const own = inspectOwnRequest(this.connection, event)
      rec = { method: own.method, encryption: own.encryption, expiresAtSec: own.expiresAtSec }
      this.rememberRecord(event.id, rec)
    }
    const ctx = { method: rec.method, requestId: event.id }
    if (nowSec(this.clock) >= rec.expiresAtSec) {
      this.log.warn('request expired before sending; not sent', { ...ctx, expiresAtSec: rec.expiresAtSec })
      throw new NwcError('EXPIRED', `request expired at ${rec.expiresAtSec}`, 'not_sent', ctx)
    }
    const waiter = this.waiters.get(event.id)
    if (waiter) await waiter.sub.ready
    const result = await this.transport.publish(event)
    if (result.accepted.length === 0) {
      const reasons = result.rejected.map((r) => `${r.relay}: ${r.reason}`).join('; ')
      const outcome = result.rejected.every((r) => r.explicit) ? 'not_sent' : 'unknown'
      this.log.warn('request not accepted by any relay', { ...ctx, reasons })
      throw new NwcError('PUBLISH_FAILED', reasons || 'no relay', outcome, ctx)
    }
    this.log.info('request sent', {
      ...ctx,
      relays: result.accepted.join(' '),
      duplicateAt: result.duplicate.join(' ') || undefined,
    })
    return result
  }

  /**
   * Waits for the wallet's answer to request `id` and returns the typed result, or throws NwcError (the wallet's
   * error code, TIMEOUT, or BAD_RESPONSE). `method` is needed only for a request this process neither built nor
   * sent; otherwise it is known. Calling it twice for one id returns the same promise.
   */
  awaitResponse<M extends Nip47Method>(
    id: string,
    opts: { method?: M; timeoutMs?: number } = {},
  ): Promise<Nip47ResultMap[M]> {
    const existing = this.waiters.get(id)
    if (existing) return existing.promise as Promise<Nip47ResultMap[M]>
    let resolve!: (v: unknown) => void
    let reject!: (e: unknown) => void
    const promise = new Promise<unknown>((res, rej) => {
      resolve = res
      reject = rej
    })
    const timeoutMs = opts.timeoutMs ?? this.replyTimeoutMs
    const waiter: Waiter = {
      id,
      method: opts.method,
      promise,
      resolve,
      reject,
      seenEvents: new Set(),
      sub: undefined as unknown as TransportSubscription,
      timer: setTimeout(() => {
        const method = waiter.method ?? this.records.get(id)?.method
        this.log.warn('no response in time', { requestId: id, method, timeoutMs })
        this.finish(
          waiter,
          new NwcError('TIMEOUT', `no response within ${timeoutMs} ms`, 'unknown', { method, requestId: id }),
        )
      }, timeoutMs),
    }
    this.waiters.set(id, waiter)
    waiter.sub = this.transport.subscribe(
      { kinds: [NIP47_KIND.response], authors: [this.connection.walletPubkey], '#e': [id] },
      (ev, relay) => this.onResponseEvent(waiter, ev, relay),
    )
    return promise as Promise<Nip47ResultMap[M]>
  }

  private onResponseEvent(waiter: Waiter, ev: NostrEvent, relay: string): void {
    if (waiter.seenEvents.has(ev.id)) return // the same event again from another relay
    waiter.seenEvents.add(ev.id)
    const ctx = { requestId: waiter.id, eventId: ev.id, relay }
    if (!this.waiters.has(waiter.id) || this.answered.has(waiter.id)) {
      this.log.info('duplicate response ignored', ctx)
      return
    }
    const rec = this.records.get(waiter.id)
    const tries: Nip47Encryption[] = rec ? [rec.encryption] : ['nip44_v2', 'nip04']
    let raw: RawResponse | null = null
    let refusal = ''
    for (const encryption of tries) {
      const c = checkResponseEvent(this.connection, { id: waiter.id, encryption }, ev, nwcCrypto())
      if (c.ok) {
        raw = c.response
        break
      }
      refusal = `${c.reason}: ${c.detail}`
    }
    if (!raw) {
      this.log.warn('response refused', { ...ctx, reason: refusal })
      return
    }
    const method = waiter.method ?? rec?.method ?? asMethod(raw.resultType)
    if (!method) {
      this.finish(waiter, new NwcError('BAD_RESPONSE', `unknown result_type ${raw.resultType}`, 'unknown', ctx))
      return
    }
    try {
      const result = interpretResponse(method, waiter.id, raw)
      this.log.info('response received', { ...ctx, method })
      this.finish(waiter, null, result)
    } catch (e) {
      const err = e as NwcError
      this.log.warn('wallet answered with an error', { ...ctx, method, code: err.code, reason: err.message })
      this.finish(waiter, err)
    }
  }

  private finish(waiter: Waiter, err: unknown, value?: unknown): void {
    if (this.waiters.get(waiter.id) !== waiter) return
    this.waiters.delete(waiter.id)
    // The record is needed only until the answer; a later re-send reads the stored event again.
    this.records.delete(waiter.id)
    clearTimeout(waiter.timer)
    waiter.sub.close()
    this.remember(waiter.id)
    if (err) waiter.reject(err)
    else waiter.resolve(value)
  }

  private rememberRecord(id: string, rec: RequestRecord): void {
    this.records.set(id, rec)
    // Requests built but never awaited would otherwise pile up; the oldest are re-read from their event if needed.
    if (this.records.size > RECORD_MEMORY) {
      const oldest = this.records.keys().next().value
      if (oldest !== undefined) this.records.delete(oldest)
    }
  }

  private remember(id: string): void {
    this.answered.add(id)
    if (this.answered.size > ANSWERED_MEMORY) {
      const oldest = this.answered.values().next().value
      if (oldest !== undefined) this.answered.delete(oldest)
    }
  }

  /** Build, subscribe, send, await: one full request. */
  async request<M extends Nip47Method>(
    method: M,
    params: Nip47ParamsMap[M],
    opts: { ttlSec?: number; timeoutMs?: number } = {},
  ): Promise<Nip47ResultMap[M]> {
    return (await this.requestWithId(method, params, opts)).result
  }

  private async requestWithId<M extends Nip47Method>(
    method: M,
    params: Nip47ParamsMap[M],
    opts: { ttlSec?: number; timeoutMs?: number } = {},
  ): Promise<{ id: string; result: Nip47ResultMap[M] }> {
    const built = await this.buildRequest(method, params, opts.ttlSec === undefined ? {} : { ttlSec: opts.ttlSec })
    const pending = this.awaitResponse<M>(built.id, {
      method,
      ...(opts.timeoutMs === undefined ? {} : { timeoutMs: opts.timeoutMs }),
    })
    try {
      await this.send(built.event)
    } catch (e) {
      // The request never went out (or we cannot tell): stop waiting, and report the send error instead.
      pending.catch(() => undefined)
      const w = this.waiters.get(built.id)
      if (w) this.finish(w, e)
      throw e
    }
    return { id: built.id, result: await pending }
  }

  // ------------------------------------------------------------------------------------------------------------
  // Methods

  getInfo(): Promise<Nip47ResultMap['get_info']> {
    return this.request('get_info', {})
  }

  async getBalance(): Promise<bigint> {
    return (await this.request('get_balance', {})).balanceMsat
  }

  /** Creates an invoice and checks that what came back is the invoice asked for. */
  async makeInvoice(params: MakeInvoiceParams): Promise<Nip47Transaction> {
    const tx = await this.request('make_invoice', params)
    const bad = (why: string) => new NwcError('BAD_RESPONSE', why, 'unknown', { method: 'make_invoice' })
    if (tx.invoice === null) throw bad('make_invoice returned no invoice')
    let hash: string
    let amount: bigint | null
    try {
      hash = invoicePaymentHash(tx.invoice)
      amount = invoiceAmountMsat(tx.invoice)
    } catch (e) {
      throw bad(`returned invoice does not decode: ${(e as Error).message}`)
    }
    if (hash !== tx.paymentHash) throw bad('payment_hash differs from the invoice it returned')
    if (amount !== params.amountMsat || tx.amountMsat !== params.amountMsat) {
      throw bad(`invoice amount ${amount} msat differs from the ${params.amountMsat} msat requested`)
    }
    return tx
  }

  /** Looks an invoice up; an answer about a different payment hash is a BAD_RESPONSE. */
  async lookupInvoice(params: LookupInvoiceParams): Promise<Nip47Transaction> {
    const tx = await this.request('lookup_invoice', params)
    const want = 'paymentHash' in params ? params.paymentHash.toLowerCase() : invoicePaymentHash(params.invoice)
    if (tx.paymentHash !== want) {
      throw new NwcError('BAD_RESPONSE', `answer is about ${tx.paymentHash}, asked for ${want}`, 'unknown', {
        method: 'lookup_invoice',
      })
    }
    return tx
  }

  /**
   * Settles an unknown payment outcome by asking the wallet (lookup_invoice by payment hash). NOT_FOUND becomes
   * `not_paid`; any other error is thrown, because then we still do not know.
   */
  async reconcilePayment(expected: { paymentHash: string; amountMsat: bigint }): Promise<PaymentReconciliation> {
    let tx: Nip47Transaction | null
    try {
      tx = await this.lookupInvoice({ paymentHash: expected.paymentHash })
    } catch (e) {
      if (e instanceof NwcError && e.code === 'NOT_FOUND') tx = null
      else throw e
    }
    const r = reconcilePaymentLookup(tx, expected)
    this.log.info('payment reconciled', { paymentHash: expected.paymentHash, status: r.status })
    return r
  }

  /** Pays an invoice and checks sha256(preimage) against the invoice's payment hash. */
  async payInvoice(
    invoice: string,
    opts: { amountMsat?: bigint; ttlSec?: number; timeoutMs?: number } = {},
  ): Promise<PaymentOutcome> {
    const params = opts.amountMsat === undefined ? { invoice } : { invoice, amountMsat: opts.amountMsat }
    const { id, result } = await this.requestWithId('pay_invoice', params, opts)
    return verifyPayInvoice(invoice, id, result, this.log)
  }

  /** Keysend. The proof can be checked only when we chose the preimage; otherwise it is reported as unverified. */
  async payKeysend(params: PayKeysendParams): Promise<PaymentOutcome> {
    const { id, result } = await this.requestWithId('pay_keysend', params)
    if (params.preimage !== undefined) {
      const paymentHash = bytesToHex(sha256(hexToBytes(params.preimage)))
      return verifyPayResult(paymentHash, id, result, this.log)
    }
    const proof: PaymentProof =
      result.preimage === null
        ? { status: 'preimage_missing', paymentHash: null, preimage: null }
        : { status: 'unverified', paymentHash: null, preimage: result.preimage }
    return { requestId: id, proof, feesPaidMsat: result.feesPaidMsat }
  }

  async listTransactions(params: ListTransactionsParams = {}): Promise<Nip47Transaction[]> {
    return (await this.request('list_transactions', params)).transactions
  }

  // ------------------------------------------------------------------------------------------------------------
  // Notifications

  /**
   * Subscribes to payment notifications: kind 23197 under NIP-44, 23196 under NIP-04 (only the kind matching the
   * negotiated scheme, so a wallet sending both does not deliver everything twice). Invalid events are logged.
   */
  async subscribeNotifications(
    onNotification: (n: Nip47Notification) => void,
    opts: { sinceSec?: number } = {},
  ): Promise<NotificationSubscription> {
    const enc = await this.encryption()
    const kind = enc === 'nip44_v2' ? NIP47_KIND.notificationNip44 : NIP47_KIND.notificationNip04
    const seen = new Set<string>()
    const sub = this.transport.subscribe(
      {
        kinds: [kind],
        authors: [this.connection.walletPubkey],
        '#p': [this.connection.clientPubkey],
        since: opts.sinceSec ?? nowSec(this.clock),
      },
      (ev, relay) => {
        if (seen.has(ev.id)) return
        seen.add(ev.id)
        const n = openNotification(this.connection, ev, nwcCrypto())
        if ('error' in n) {
          this.log.warn('notification ignored', { relay, eventId: ev.id, reason: n.error })
          return
        }
        const key = `${n.type}:${n.transaction.paymentHash}`
        if (seen.has(key)) return
        seen.add(key)
        onNotification(n)
      },
    )
    return { ready: sub.ready, close: () => sub.close() }
  }

  /** Rejects every waiting request with TIMEOUT (outcome unknown) and closes the transport. */
  close(): void {
    if (this.closed) return
    this.closed = true
    for (const w of [...this.waiters.values()]) {
      this.finish(w, new NwcError('TIMEOUT', 'client closed while waiting', 'unknown', { requestId: w.id }))
    }
    this.transport.close()
  }
}

function asMethod(s: string): Nip47Method | undefined {
  return (NIP47_METHODS as readonly string[]).includes(s) ? (s as Nip47Method) : undefined
}

/**
 * Checks a pay_invoice result against the invoice. Exported for the payout state machine, which drives
 * buildRequest/send/awaitResponse itself. A mismatch or a missing preimage is logged and marked, never thrown:
 * the wallet may well have paid, so the caller must reconcile instead of retrying.
 */
export function verifyPayInvoice(invoice: string, requestId: string, r: PayResult, log?: Logger): PaymentOutcome {
  return verifyPayResult(invoicePaymentHash(invoice), requestId, r, log)
}

/** As verifyPayInvoice, for a known payment hash. */
export function verifyPayResult(paymentHash: string, requestId: string, r: PayResult, log?: Logger): PaymentOutcome {
  const proof = verifyPaymentProof(paymentHash, r.preimage)
  if (proof.status !== 'verified') {
    log?.warn('payment proof does not verify', { requestId, paymentHash: proof.paymentHash, status: proof.status })
  }
  return { requestId, proof, feesPaidMsat: r.feesPaidMsat }
}
