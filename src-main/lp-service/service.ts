// LP self-service (docs/lp-rpc.md): the console key answers a registered, active LP about its own money — by
// NIP-17 DM (`balance`, `history`, `statement 2026-Q4`, `help`) and by the NIP-44 RPC (kinds 25079/25080,
// src-shared/lp-service/rpc.ts). Role by pubkey: the caller is whoever signed the request (the seal signer for a
// DM, the event author for the RPC), looked up in lp_profile; an unknown or deactivated pubkey gets no answer at
// all, so the service is no oracle for who is an LP. An LP is only ever told about the LP registered with its own
// key. Every request is logged in the ledger before any answer leaves (src-main/lp-service/procedures.ts), which
// is also the replay memory: an event id, an RPC id or a DM rumor id seen once is refused ever after, across
// restarts. A token bucket per pubkey (src-shared/lp-service/rate-limit.ts) is taken before any ledger work, so
// one pubkey's flood is refused while others are still answered.
//
// I/O behind small interfaces: the relay pool (subscribe/publish), the console Signer (no raw key here), the
// ledger, and `sendDm` (the notice service's NIP-17 sender, which finds the LP's DM relays).
import type { Clock } from '../../src-shared/clock'
import type { Logger } from '../../src-shared/log'
import {
  PeriodError,
  parseDmCommand,
  parsePeriod,
  periodLabel,
  periodRange,
} from '../../src-shared/lp-service/commands'
import { DEFAULT_RATE_LIMIT, type RateLimitOptions, TokenBuckets } from '../../src-shared/lp-service/rate-limit'
import type { BalanceResult, ConfigResult } from '../../src-shared/lp-service/rpc'
import {
  checkRequestEnvelope,
  KIND_LP_RPC_REQUEST,
  KIND_LP_RPC_RESPONSE,
  parseRpcRequest,
  RESPONSE_LIFETIME_SEC,
  type RpcErrorCode,
  type RpcRequest,
  RpcRequestError,
  type RpcResponse,
  requestIdOf,
  type StatementResult,
  type TransactionsResult,
} from '../../src-shared/lp-service/rpc'
import { balanceText, HELP_TEXT, historyText, statementText } from '../../src-shared/lp-service/texts'
import { copyEvent, type NostrEvent, singleTagValue } from '../../src-shared/nostr/event'
import { GiftWrapError, KIND_GIFT_WRAP, TIMESTAMP_WINDOW_SEC, unwrapGiftWrap } from '../../src-shared/nostr/nip17'
import type { MessageText } from '../../src-shared/notices/texts'
import { type Signer, signEventChecked } from '../../src-shared/signer'
import type { LedgerStore } from '../ledger/types'
import type { PoolSubscription, PublishResult, SignedEvent, SubscriptionSpec, VerifiedEvent } from '../nostr/relay-pool'
import type { ResolvedCaller } from './procedures'

export interface SelfServicePool {
  publish(event: SignedEvent, opts?: { relays?: readonly string[]; timeoutMs?: number }): Promise<PublishResult[]>
  subscribe(spec: SubscriptionSpec): PoolSubscription
}

export interface LpSelfServiceOptions {
  pool: SelfServicePool
  consoleSigner: Signer
  ledger: LedgerStore
  clock: Clock
  log: Logger
  /** Sends a NIP-17 DM from the console key (the notice service's sendDirectMessage). */
  sendDm(to: { pubkey: string; relays?: readonly string[] }, text: MessageText): Promise<unknown>
  /** The operator's time zone (IANA), read per request. */
  timeZone: () => string
  rateLimit?: RateLimitOptions
  /** Relays to listen on (default: all of the pool's). */
  relays?: readonly string[]
  /** DMs whose rumor is older than this are not answered (a console that was off does not answer stale asks). */
  dmMaxAgeSec?: number
  publishTimeoutMs?: number
  /** Called after each request was logged (and answered, when it was): the UI's push event, tests. */
  onHandled?: (h: HandledRequest) => void
}

export type RefusalReason =
  | 'unknown_pubkey'
  | 'inactive'
  | 'rate_limited'
  | 'replayed'
  | 'expired'
  | 'no_expiration'
  | 'lifetime_too_long'
  | 'too_large'
  | 'decrypt_failed'
  | 'bad_request'
  | 'unknown_method'
  | 'disabled_global'
  | 'disabled_lp'
  | 'stale'
  | 'internal'

export interface HandledRequest {
  channel: 'dm' | 'rpc'
  pubkey: string
  eventId: string
  method: string
  outcome: 'answered' | 'refused'
  reason: RefusalReason | null
  /** Whether anything was sent back. */
  replied: boolean
}

export interface LpSelfService {
  start(): Promise<void>
  /** Handles one event as if it arrived on `relay` (the subscriptions call this). */
  handle(ev: NostrEvent, relay: string): Promise<HandledRequest | null>
  /** Resolves after every request received so far has been handled (tests, shutdown). */
  idle(): Promise<void>
  close(): void
}

const RPC_CODE: Partial<Record<RefusalReason, RpcErrorCode>> = {
  replayed: 'replayed',
  expired: 'expired',
  no_expiration: 'expired',
  lifetime_too_long: 'expired',
  too_large: 'bad_request',
  decrypt_failed: 'bad_request',
  bad_request: 'bad_request',
  unknown_method: 'unknown_method',
  disabled_global: 'disabled',
  disabled_lp: 'disabled',
  internal: 'internal',
}

const DISABLED_TEXT = 'Self-service answers are turned off by the operator. Please ask the operator directly.'

export function createLpSelfService(opts: LpSelfServiceOptions): LpSelfService {
  const { pool, consoleSigner, ledger, clock } = opts
  const log = opts.log
  const buckets = new TokenBuckets(opts.rateLimit ?? DEFAULT_RATE_LIMIT)
  const dmMaxAgeSec = opts.dmMaxAgeSec ?? 3600
  const publishTimeoutMs = opts.publishTimeoutMs ?? 10_000
  const subs: PoolSubscription[] = []
  const pending = new Set<Promise<unknown>>()
  // Ids seen in this process, checked synchronously on arrival so two copies of one request racing through the
  // ledger cannot both pass; the ledger log covers restarts. Bounded: oldest dropped first.
  const seen = new Set<string>()
  const remember = (k: string) => {
    seen.add(k)
    if (seen.size > 50_000) seen.delete(seen.values().next().value as string)
  }
  let consolePk = ''
  let closed = false

  const nowSec = () => Math.floor(clock.nowMs() / 1000)

  async function logIt(
    h: HandledRequest,
    lpId: string | null,
    requestId: string | null,
    answerEventId: string | null,
  ): Promise<void> {
    await ledger.call('lpss.log', {
      atMs: clock.nowMs(),
      pubkey: h.pubkey,
      lpId,
      channel: h.channel,
      eventId: h.eventId,
      requestId,
      method: h.method,
      outcome: h.outcome,
      reason: h.reason,
      answerEventId,
    })
    const fields = { channel: h.channel, pubkey: h.pubkey, lpId, method: h.method, eventId: h.eventId }
    if (h.outcome === 'answered') log.info('self-service request answered', fields)
    else log.info('self-service request refused', { ...fields, reason: h.reason, replied: h.replied })
  }

  /** Who may be answered: null = silence (unknown or deactivated pubkey). */
  function gate(c: ResolvedCaller, rateOk: boolean): { reason: RefusalReason | null; silent: boolean } {
    if (!c.lp) return { reason: 'unknown_pubkey', silent: true }
    if (!c.lp.active) return { reason: 'inactive', silent: true }
    if (!rateOk) return { reason: 'rate_limited', silent: true }
    if (c.replay) return { reason: 'replayed', silent: false }
    if (!c.globalEnabled) return { reason: 'disabled_global', silent: false }
    if (!c.lp.enabled) return { reason: 'disabled_lp', silent: false }
    return { reason: null, silent: false }
  }

  // ---- RPC -------------------------------------------------------------------------------------------------------

  async function rpcResult(lpId: string, req: RpcRequest): Promise<RpcResponse> {
    const p = req.params
    const tz = opts.timeZone()
    switch (p.method) {
      case 'getBalance':
        return { id: req.id, result: await ledger.call<BalanceResult>('lpss.balance', { lpId, nowMs: clock.nowMs() }) }
      case 'getConfig':
        return { id: req.id, result: await ledger.call<ConfigResult>('lpss.config', { lpId }) }
      case 'getTransactions': {
        const range = p.period === null ? {} : periodRange(parsePeriod(p.period), tz)
        return {
          id: req.id,
          result: await ledger.call<TransactionsResult>('lpss.transactions', {
            lpId,
            limit: p.limit,
            ...(p.before === null ? {} : { before: p.before }),
            ...range,
          }),
        }
      }
      case 'getStatement': {
        const spec = parsePeriod(p.period)
        return {
          id: req.id,
          result: await ledger.call<StatementResult>('lpss.statement', {
            lpId,
            period: periodLabel(spec),
            timeZone: tz,
            ...periodRange(spec, tz),
          }),
        }
      }
    }
  }

  async function buildAnswer(to: string, requestEventId: string, body: RpcResponse): Promise<NostrEvent> {
    const content = await consoleSigner.nip44Encrypt(to, JSON.stringify(body))
    return signEventChecked(
      consoleSigner,
      {
        kind: KIND_LP_RPC_RESPONSE,
        created_at: nowSec(),
        tags: [
          ['p', to],
          ['e', requestEventId],
          ['expiration', String(nowSec() + RESPONSE_LIFETIME_SEC)],
        ],
        content,
      },
      consolePk,
    )
  }

  async function handleRpc(ev: NostrEvent, relay: string): Promise<HandledRequest | null> {
    const envelope = checkRequestEnvelope(ev, consolePk, nowSec())
    if (!envelope.ok && envelope.reason === 'not_for_us') return null
    const replayedHere = seen.has(ev.id)
    remember(ev.id)
    const rateOk = buckets.take(ev.pubkey, clock.nowMs())
    let text: string | null = null
    let decryptFailed = false
    if (envelope.ok || envelope.reason !== 'too_large') {
      try {
        text = await consoleSigner.nip44Decrypt(ev.pubkey, ev.content)
      } catch {
        decryptFailed = true
      }
    }
    const requestId = text === null ? null : requestIdOf(text)
    const idKey = requestId === null ? null : `${ev.pubkey}:${requestId}`
    const replayedId = idKey !== null && seen.has(idKey)
    if (idKey !== null) remember(idKey)
    const caller = await ledger.call<ResolvedCaller>('lpss.resolve', {
      pubkey: ev.pubkey,
      eventId: ev.id,
      requestId,
    })
    if (replayedHere || replayedId) caller.replay = true
    const h: HandledRequest = {
      channel: 'rpc',
      pubkey: ev.pubkey,
      eventId: ev.id,
      method: 'unknown',
      outcome: 'refused',
      reason: null,
      replied: false,
    }
    let req: RpcRequest | null = null
    let parseError: RpcRequestError | null = null
    if (text !== null) {
      try {
        req = parseRpcRequest(text)
        h.method = req.params.method
      } catch (e) {
        parseError = e instanceof RpcRequestError ? e : new RpcRequestError('bad_request', 'content', String(e))
      }
    }
    const g = gate(caller, rateOk)
    let reason: RefusalReason | null = g.reason
    if (reason === null && !envelope.ok) reason = envelope.reason as RefusalReason
    if (reason === null && decryptFailed) reason = 'decrypt_failed'
    if (reason === null && parseError) reason = parseError.code === 'unknown_method' ? 'unknown_method' : 'bad_request'
    h.reason = reason
    const lpId = caller.lp?.id ?? null
    if (g.silent || lpId === null) {
      await logIt(h, lpId, requestId, null)
      return h
    }
    let body: RpcResponse
    if (reason !== null) {
      const message =
        reason === 'bad_request' || reason === 'unknown_method'
          ? (parseError?.message ?? 'bad request')
          : reason === 'decrypt_failed'
            ? 'content does not decrypt (NIP-44 v2 to the console key)'
            : reason.replace(/_/g, ' ')
      body = { id: requestId, error: { code: RPC_CODE[reason] ?? 'bad_request', message } }
    } else {
      try {
        body = await rpcResult(lpId, req!)
        h.outcome = 'answered'
      } catch (e) {
        log.error('self-service RPC failed', { lpId, method: h.method, reason: (e as Error).message })
        h.reason = 'internal'
        body = { id: requestId, error: { code: 'internal', message: 'the console could not answer; try again later' } }
      }
    }
    const answer = await buildAnswer(ev.pubkey, ev.id, body)
    // Logged before it leaves: a crash after the publish can never lead to a second answer to the same request.
    await logIt({ ...h, replied: true }, lpId, requestId, answer.id)
    h.replied = true
    const results = await pool.publish(answer, { relays: [relay], timeoutMs: publishTimeoutMs })
    if (!results.some((r) => r.ok))
      log.warn('self-service answer not accepted by the relay', {
        relay,
        reason: results.map((r) => r.message).join('; '),
      })
    return h
  }

  // ---- DMs -------------------------------------------------------------------------------------------------------

  async function dmAnswer(lpId: string, body: string): Promise<{ method: string; text: MessageText }> {
    const tz = opts.timeZone()
    let cmd: ReturnType<typeof parseDmCommand>
    try {
      cmd = parseDmCommand(body)
    } catch (e) {
      if (!(e instanceof PeriodError)) throw e
      return { method: 'bad_period', text: { subject: 'Self-service', body: `${e.message}\n\n${HELP_TEXT}` } }
    }
    switch (cmd.kind) {
      case 'balance': {
        const b = await ledger.call<BalanceResult>('lpss.balance', { lpId, nowMs: clock.nowMs() })
        return { method: 'balance', text: { subject: 'Balance', body: balanceText(b, tz) } }
      }
      case 'history': {
        const range = cmd.period === null ? {} : periodRange(cmd.period, tz)
        const t = await ledger.call<TransactionsResult>('lpss.transactions', {
          lpId,
          limit: cmd.period === null ? 10 : 100,
          settlementsOnly: true,
          ...range,
        })
        const label = cmd.period === null ? 'recently' : `in ${periodLabel(cmd.period)}`
        return { method: 'history', text: { subject: 'History', body: historyText(t, tz, label) } }
      }
      case 'statement': {
        const s = await ledger.call<StatementResult>('lpss.statement', {
          lpId,
          period: periodLabel(cmd.period),
          timeZone: tz,
          ...periodRange(cmd.period, tz),
        })
        return { method: 'statement', text: { subject: `Statement ${s.period}`, body: statementText(s) } }
      }
      default:
        return { method: cmd.kind, text: { subject: 'Self-service', body: HELP_TEXT } }
    }
  }

  async function handleDm(wrap: NostrEvent, relay: string): Promise<HandledRequest | null> {
    if (seen.has(wrap.id)) return null // the pool or a second relay delivered the same wrap: one answer
    remember(wrap.id)
    let opened: Awaited<ReturnType<typeof unwrapGiftWrap>>
    try {
      opened = await unwrapGiftWrap(wrap, consoleSigner)
    } catch (e) {
      // Not a DM we can attribute to anyone: nothing to log against a pubkey, nobody to answer.
      log.debug('gift wrap not opened', { wrapId: wrap.id, reason: e instanceof GiftWrapError ? e.reason : 'error' })
      return null
    }
    const sender = opened.senderPubkey
    const rumorKey = `${sender}:${opened.rumor.id}`
    const replayedHere = seen.has(rumorKey)
    remember(rumorKey)
    const rateOk = buckets.take(sender, clock.nowMs())
    const caller = await ledger.call<ResolvedCaller>('lpss.resolve', {
      pubkey: sender,
      eventId: wrap.id,
      requestId: opened.rumor.id,
    })
    if (replayedHere) caller.replay = true
    const h: HandledRequest = {
      channel: 'dm',
      pubkey: sender,
      eventId: wrap.id,
      method: opened.rumor.kind === 14 ? 'dm' : `kind_${opened.rumor.kind}`,
      outcome: 'refused',
      reason: null,
      replied: false,
    }
    const g = gate(caller, rateOk)
    let reason = g.reason
    const age = nowSec() - opened.rumor.created_at
    if (reason === null && (age > dmMaxAgeSec || age < -300)) reason = 'stale'
    const exp = singleTagValue(opened.rumor, 'expiration')
    if (reason === null && exp !== undefined && exp !== 'many' && Number(exp) <= nowSec()) reason = 'expired'
    if (reason === null && opened.rumor.kind !== 14) reason = 'bad_request'
    h.reason = reason
    const lpId = caller.lp?.id ?? null
    // A replayed, stale or expired DM is not answered: those come back from relays after a restart, and the LP
    // already had (or no longer wants) its answer. Only the operator's off switch gets a short reply.
    if (lpId === null || (reason !== null && reason !== 'disabled_global' && reason !== 'disabled_lp')) {
      await logIt(h, lpId, opened.rumor.id, null)
      return h
    }
    let text: MessageText
    if (reason !== null) {
      text = { subject: 'Self-service', body: DISABLED_TEXT }
    } else {
      try {
        const a = await dmAnswer(lpId, opened.rumor.content)
        h.method = a.method
        text = a.text
        h.outcome = 'answered'
      } catch (e) {
        log.error('self-service DM failed', { lpId, reason: (e as Error).message })
        h.reason = 'internal'
        text = { subject: 'Self-service', body: 'The console could not answer right now; please try again later.' }
      }
    }
    await logIt({ ...h, replied: true }, lpId, opened.rumor.id, null)
    h.replied = true
    const contact = await ledger
      .call<{ relays: string[] } | null>('notices.getContact', { recipientKind: 'lp', recipientId: lpId })
      .catch(() => null)
    const relays = [...new Set([relay, ...(contact?.relays ?? [])])]
    try {
      await opts.sendDm({ pubkey: sender, relays }, text)
    } catch (e) {
      log.warn('self-service DM answer not sent', { lpId, reason: (e as Error).message })
    }
    return h
  }

  function track<T>(p: Promise<T>): Promise<T> {
    pending.add(p)
    void p.finally(() => pending.delete(p)).catch(() => undefined)
    return p
  }

  async function handle(ev: NostrEvent, relay: string): Promise<HandledRequest | null> {
    if (closed) return null
    if (!consolePk) consolePk = await consoleSigner.getPublicKey()
    try {
      const h =
        ev.kind === KIND_LP_RPC_REQUEST
          ? await handleRpc(ev, relay)
          : ev.kind === KIND_GIFT_WRAP
            ? await handleDm(ev, relay)
            : null
      if (h) opts.onHandled?.(h)
      return h
    } catch (e) {
      log.error('self-service request not handled', { eventId: ev.id, reason: (e as Error).message })
      return null
    }
  }

  return {
    async start() {
      if (closed) throw new Error('self-service is closed')
      consolePk = await consoleSigner.getPublicKey()
      const relays = opts.relays ? { relays: opts.relays } : {}
      const onEvent = (ev: VerifiedEvent, ctx: { relay: string }) => {
        void track(handle(copyEvent(ev as NostrEvent), ctx.relay))
      }
      subs.push(
        pool.subscribe({
          filters: [{ kinds: [KIND_LP_RPC_REQUEST], '#p': [consolePk], since: nowSec() - 60 }],
          ...relays,
          onEvent,
        }),
        // Gift wraps carry created_at up to two days in the past (NIP-59), so the window reaches that far back;
        // the ledger log makes the wraps already handled a no-op.
        pool.subscribe({
          filters: [{ kinds: [KIND_GIFT_WRAP], '#p': [consolePk], since: nowSec() - TIMESTAMP_WINDOW_SEC - 3600 }],
          ...relays,
          onEvent,
        }),
      )
      log.info('LP self-service listening', { consolePubkey: consolePk })
    },
    handle: (ev, relay) => track(handle(ev, relay)),
    async idle() {
      while (pending.size > 0) await Promise.allSettled([...pending])
    },
    close() {
      closed = true
      for (const s of subs.splice(0)) s.close()
    },
  }
}
