// The notice service (issue 5 "Payouts" item 5): NIP-17 gift-wrapped DMs from the console key to LPs (payout paid,
// monthly statement) and operator alerts (payouts paused, repeated failures, wallet low) shown as desktop
// notifications and, when the operator configured a phone npub, also sent to it as NIP-17 DMs. Alerts pass
// through the debouncer (./alert-debouncer.ts) so a flapping condition does not spam.
//
// Delivery rules (NIP-17): a DM goes only to the recipient's DM relays — the relays configured for that
// recipient, else the relays of their newest kind 10050 list; a recipient with neither is "not ready for DMs" and
// gets nothing (logged, returned as `no_dm_relays`). The console's own copy (sender copy) goes to the pool's
// relays. A notice with an idempotency key is sent at most once: the key is recorded in the ledger after at least
// one relay accepted the wrap; if the process dies between the relay's OK and that record, the notice is sent
// again on retry (a duplicate DM is harmless; a lost payout notice is not).
//
// No Electron import: the desktop sink is injected (Electron's Notification in the shell, the `notice` push event
// in headless mode).
import type { Clock } from '../../src-shared/clock'
import type { Emit } from '../../src-shared/ipc/contract'
import type { Logger } from '../../src-shared/log'
import { copyEvent, type NostrEvent } from '../../src-shared/nostr/event'
import { GiftWrapError, KIND_DM_RELAYS, parseDmRelayList, wrapDirectMessage } from '../../src-shared/nostr/nip17'
import { previousMonth } from '../../src-shared/notices/period'
import {
  type AlertText,
  type MessageText,
  type MonthlyStatement,
  monthlyStatementText,
  type OperatorAlert,
  operatorAlertText,
  type PayoutPaidNotice,
  payoutPaidText,
} from '../../src-shared/notices/texts'
import type { Signer } from '../../src-shared/signer'
import type { LedgerStore } from '../ledger/types'
import type { PoolSubscription, PublishResult, SignedEvent, SubscriptionSpec } from '../nostr/relay-pool'
import { queryOnce } from '../receipts/query'
import { AlertDebouncer, type AlertDecision, type DebounceRules } from './alert-debouncer'
import type { NoticeContact, PayoutNoticeData, StatementData } from './procedures'

// ---------------------------------------------------------------------------------------------------------------
// Injected edges

/** The part of the relay pool the service uses. */
export interface NoticePool {
  publish(event: SignedEvent, opts?: { relays?: readonly string[]; timeoutMs?: number }): Promise<PublishResult[]>
  subscribe(spec: SubscriptionSpec): PoolSubscription
}

export interface DesktopNotification {
  title: string
  body: string
  level: 'info' | 'warn' | 'error'
}

/** Where operator alerts appear on the PC. */
export interface DesktopNotificationSink {
  show(n: DesktopNotification): void
}

/** Headless mode (and the renderer's own toast list): push a `notice` event through the existing IPC event. */
export function emitNoticeSink(emit: Emit, clock: Clock): DesktopNotificationSink {
  return { show: (n) => emit('notice', { level: n.level, text: `${n.title}: ${n.body}`, atMs: clock.nowMs() }) }
}

/** The shape of Electron's `Notification` class, passed in by the shell so this file never imports electron. */
export interface NotificationClass {
  new (opts: { title: string; body: string; urgency?: 'normal' | 'critical' | 'low' }): { show(): void }
  isSupported(): boolean
}

/** Desktop notifications through Electron's Notification class, which the shell passes in. */
export function electronNotificationSink(Notification: NotificationClass, fallback?: DesktopNotificationSink) {
  const sink: DesktopNotificationSink = {
    show: (n) => {
      if (!Notification.isSupported()) {
        fallback?.show(n)
        return
      }
      new Notification({ title: n.title, body: n.body, urgency: n.level === 'error' ? 'critical' : 'normal' }).show()
      fallback?.show(n)
    },
  }
  return sink
}

/** Where a DM goes: the recipient's key and, when known, their DM relays. */
export interface DmRecipient {
  pubkey: string
  relays?: readonly string[]
}

// ---------------------------------------------------------------------------------------------------------------

export type NoticeSendErrorCode = 'no_dm_relays' | 'all_relays_failed' | 'bad_recipient'

export class NoticeSendError extends Error {
  override readonly name = 'NoticeSendError'
  constructor(
    readonly code: NoticeSendErrorCode,
    readonly field: string,
    message: string,
    readonly results: PublishResult[] = [],
  ) {
    super(message)
  }
}

export interface DmSendResult {
  status: 'sent' | 'already_sent'
  /** Id of the recipient's gift wrap (what relays store). */
  wrapId: string | null
  /** Rumor id: the message's id as both sides' clients show it. */
  rumorId: string | null
  relays: string[]
  results: PublishResult[]
}

export interface NoticeServiceOptions {
  pool: NoticePool
  /** The console key (docs/architecture.md §3: it signs DMs to LPs). */
  consoleSigner: Signer
  clock: Clock
  log: Logger
  /** For idempotency keys, contacts and notice data; without it every send goes out and nothing is recorded. */
  ledger?: LedgerStore
  desktop: DesktopNotificationSink
  /** The operator's phone key for alert DMs; read on every alert so a settings change applies at once. */
  operatorPhone?: () => DmRecipient | null
  /** Operator time zone (IANA) for dates in texts and statement months. Default UTC. */
  timeZone?: () => string
  operatorName?: () => string | undefined
  /** Relays where kind 10050 DM-relay lists are looked up (default: the sender-copy relays). */
  lookupRelays?: readonly string[]
  /** Relays for the console's own copy of each DM; empty = no sender copy. */
  senderCopyRelays?: readonly string[]
  debounce?: Partial<DebounceRules>
  debounceFor?: (key: string) => Partial<DebounceRules>
  publishTimeoutMs?: number
  lookupTimeoutMs?: number
  randomBytes?: (n: number) => Uint8Array
}

export interface StatementRunReport {
  period: string
  sent: string[]
  alreadySent: string[]
  skipped: Array<{ lpId: string; reason: string }>
  failed: Array<{ lpId: string; reason: string }>
}

export interface NoticeService {
  /** Sends one NIP-17 DM; with `idempotencyKey`, at most once. */
  sendDirectMessage(
    to: DmRecipient,
    text: MessageText,
    opts?: { idempotencyKey?: string; kind?: string },
  ): Promise<DmSendResult>
  /** The LP "payout paid" DM, keyed `payout-paid:<payoutId>`. */
  notifyPayoutPaid(to: DmRecipient, notice: PayoutPaidNotice, payoutId: string): Promise<DmSendResult>
  /**
   * Reads a paid LP payout and the LP's contact from the ledger and sends its notice. Resolves with null when
   * there is nothing to send (not an LP payout, not paid, no contact or DMs off for that LP).
   */
  notifyPayoutPaidById(payoutId: string): Promise<DmSendResult | null>
  /**
   * Sends the notices of LP payouts paid in the last `lookbackMs` (default 7 days) that were never sent (a lost
   * runner event, an LP without DM relays at the time). Returns the payout ids sent now.
   */
  retryPayoutNotices(lookbackMs?: number): Promise<string[]>
  /** The monthly statement DM, keyed `statement:<lpId>:<period>`. */
  sendMonthlyStatement(to: DmRecipient, statement: MonthlyStatement, lpId: string): Promise<DmSendResult>
  /** Sends last month's statement to every active LP with a contact (idempotent; safe to call often). */
  runMonthlyStatements(): Promise<StatementRunReport>
  /** Reports whether an operator condition holds; messages go out as the debouncer decides. */
  reportCondition(key: string, active: boolean, alert?: OperatorAlert): Promise<AlertDecision<OperatorAlert>[]>
  /** Re-evaluates hold times and reminders (call on a timer; `start` does). */
  tick(): Promise<AlertDecision<OperatorAlert>[]>
  /** Starts the alert tick, the statement schedule (hourly check) and the payout-notice retry sweep. */
  start(opts?: { tickMs?: number; statementCheckMs?: number; payoutNoticeRetryMs?: number }): void
  close(): void
}

const HEX64 = /^[0-9a-f]{64}$/

export function createNoticeService(opts: NoticeServiceOptions): NoticeService {
  const { pool, consoleSigner, clock, ledger } = opts
  const log = opts.log
  const tz = () => opts.timeZone?.() ?? 'UTC'
  const publishTimeoutMs = opts.publishTimeoutMs ?? 10_000
  const lookupTimeoutMs = opts.lookupTimeoutMs ?? 5_000
  const lookupRelays = opts.lookupRelays ?? opts.senderCopyRelays ?? []
  const debouncer = new AlertDebouncer<OperatorAlert>(clock, opts.debounce, opts.debounceFor)
  const timers: ReturnType<typeof setInterval>[] = []
  let closed = false

  async function dmRelaysOf(to: DmRecipient): Promise<string[]> {
    if (to.relays && to.relays.length > 0) return [...to.relays]
    if (lookupRelays.length === 0) return []
    const r = await queryOnce(pool, [{ kinds: [KIND_DM_RELAYS], authors: [to.pubkey] }], {
      relays: lookupRelays,
      timeoutMs: lookupTimeoutMs,
    })
    const newest = r.events.filter((e) => e.pubkey === to.pubkey).sort((a, b) => b.created_at - a.created_at)[0]
    if (!newest) return []
    try {
      return parseDmRelayList(copyEvent(newest as NostrEvent))
    } catch (e) {
      log.warn('unusable DM relay list', { pubkey: to.pubkey, reason: (e as Error).message })
      return []
    }
  }

  // Sends with the same idempotency key that overlap in time join the first one, so two callers racing on one
  // payout (the runner event and a manual "resend") cannot both pass the "already sent?" check.
  const inFlight = new Map<string, Promise<DmSendResult>>()

  function sendDirectMessage(
    to: DmRecipient,
    text: MessageText,
    o: { idempotencyKey?: string; kind?: string } = {},
  ): Promise<DmSendResult> {
    const key = o.idempotencyKey
    if (!key) return sendNow(to, text, o)
    const running = inFlight.get(key)
    if (running) return running
    const p = sendNow(to, text, o).finally(() => inFlight.delete(key))
    inFlight.set(key, p)
    return p
  }

  async function sendNow(
    to: DmRecipient,
    text: MessageText,
    o: { idempotencyKey?: string; kind?: string },
  ): Promise<DmSendResult> {
    if (!HEX64.test(to.pubkey)) throw new NoticeSendError('bad_recipient', 'pubkey', 'recipient pubkey must be 64 hex')
    const key = o.idempotencyKey
    if (key && ledger) {
      const prior = await ledger.call<{ sent: boolean; wrapId: string | null }>('notices.wasSent', { key })
      if (prior.sent) {
        log.info('notice already sent', { key, wrapId: prior.wrapId })
        return { status: 'already_sent', wrapId: prior.wrapId, rumorId: null, relays: [], results: [] }
      }
    }
    const relays = await dmRelaysOf(to)
    if (relays.length === 0) {
      log.warn('recipient has no DM relays; notice not sent', { pubkey: to.pubkey, key: key ?? null })
      throw new NoticeSendError('no_dm_relays', 'relays', `recipient ${to.pubkey} has no DM relays (NIP-17 kind 10050)`)
    }
    const senderCopy = (opts.senderCopyRelays ?? []).length > 0
    const wrapped = await wrapDirectMessage(
      consoleSigner,
      [to.pubkey],
      { content: text.body, subject: text.subject },
      {
        nowSec: Math.floor(clock.nowMs() / 1000),
        senderCopy,
        ...(opts.randomBytes ? { randomBytes: opts.randomBytes } : {}),
      },
    )
    const mine = wrapped.wraps.find((w) => w.recipientPubkey === to.pubkey)!.wrap
    const results = await pool.publish(mine, { relays, timeoutMs: publishTimeoutMs })
    const ok = results.filter((r) => r.ok)
    if (ok.length === 0) {
      log.error('notice not accepted by any DM relay', {
        pubkey: to.pubkey,
        key: key ?? null,
        reasons: results.map((r) => `${r.relay}: ${r.message}`).join('; '),
      })
      throw new NoticeSendError('all_relays_failed', 'relays', 'no DM relay accepted the notice', results)
    }
    if (senderCopy) {
      const own = wrapped.wraps.find((w) => w.recipientPubkey !== to.pubkey)
      if (own)
        void pool
          .publish(own.wrap, { relays: opts.senderCopyRelays!, timeoutMs: publishTimeoutMs })
          .catch((e) => log.warn('sender copy not published', { reason: (e as Error).message }))
    }
    if (key && ledger)
      await ledger.call('notices.markSent', {
        key,
        kind: o.kind ?? 'dm',
        recipientPubkey: to.pubkey,
        wrapId: mine.id,
        relaysOk: ok.length,
        atMs: clock.nowMs(),
      })
    log.info('notice sent', { pubkey: to.pubkey, key: key ?? null, wrapId: mine.id, relaysOk: ok.length })
    return { status: 'sent', wrapId: mine.id, rumorId: wrapped.rumor.id, relays, results }
  }

  const recipientOf = (c: NoticeContact | null): DmRecipient | null =>
    c?.pubkey ? { pubkey: c.pubkey, relays: c.relays } : null

  async function notifyPayoutPaid(to: DmRecipient, n: PayoutPaidNotice, payoutId: string): Promise<DmSendResult> {
    const name = opts.operatorName?.()
    const text = payoutPaidText({ ...n, ...(name && n.operatorName === undefined ? { operatorName: name } : {}) })
    return sendDirectMessage(to, text, { idempotencyKey: `payout-paid:${payoutId}`, kind: 'payout_paid' })
  }

  async function notifyPayoutPaidById(payoutId: string): Promise<DmSendResult | null> {
    if (!ledger) throw new TypeError('notifyPayoutPaidById needs the ledger')
    const d = await ledger.call<PayoutNoticeData | null>('notices.payoutNotice', { payoutId })
    if (!d) return null
    const contact = recipientOf(
      await ledger.call<NoticeContact | null>('notices.getContact', { recipientKind: 'lp', recipientId: d.lpId }),
    )
    if (!contact) {
      log.info('LP has no DM contact; payout notice skipped', { payoutId, lpId: d.lpId })
      return null
    }
    return notifyPayoutPaid(
      contact,
      {
        recipientName: d.lpName,
        paidMsat: BigInt(d.paidMsat),
        fiatEquivalentMinor: BigInt(d.fiatEquivalentMinor),
        currency: d.currency,
        remainingBalanceMinor: BigInt(d.remainingBalanceMinor),
        stillAccruedMsat: BigInt(d.stillAccruedMsat),
        paymentHash: d.paymentHash,
        paidAtMs: d.paidAtMs,
        timeZone: tz(),
      },
      payoutId,
    )
  }

  async function retryPayoutNotices(lookbackMs = 7 * 86_400_000): Promise<string[]> {
    if (!ledger) throw new TypeError('retryPayoutNotices needs the ledger')
    const ids = await ledger.call<string[]>('notices.unnotifiedPayouts', {
      sinceMs: Math.max(0, clock.nowMs() - lookbackMs),
    })
    const sent: string[] = []
    for (const id of ids) {
      try {
        const r = await notifyPayoutPaidById(id)
        if (r?.status === 'sent') sent.push(id)
      } catch (e) {
        log.warn('payout notice still not sent', { payoutId: id, reason: (e as Error).message })
      }
    }
    return sent
  }

  async function sendMonthlyStatement(to: DmRecipient, s: MonthlyStatement, lpId: string): Promise<DmSendResult> {
    const name = opts.operatorName?.()
    const text = monthlyStatementText({ ...s, ...(name && s.operatorName === undefined ? { operatorName: name } : {}) })
    return sendDirectMessage(to, text, { idempotencyKey: `statement:${lpId}:${s.period}`, kind: 'statement' })
  }

  async function runMonthlyStatements(): Promise<StatementRunReport> {
    if (!ledger) throw new TypeError('runMonthlyStatements needs the ledger')
    const zone = tz()
    const month = previousMonth(clock.nowMs(), zone)
    const report: StatementRunReport = { period: month.period, sent: [], alreadySent: [], skipped: [], failed: [] }
    const lps =
      await ledger.call<Array<{ lpId: string; name: string; contact: NoticeContact | null }>>('notices.lpRecipients')
    for (const lp of lps) {
      const to = recipientOf(lp.contact)
      if (!to) {
        report.skipped.push({ lpId: lp.lpId, reason: 'no DM contact' })
        continue
      }
      try {
        const d = await ledger.call<StatementData | null>('notices.lpStatement', {
          lpId: lp.lpId,
          fromMs: month.fromMs,
          untilMs: month.untilMs,
        })
        if (!d) {
          report.skipped.push({ lpId: lp.lpId, reason: 'LP not found' })
          continue
        }
        const r = await sendMonthlyStatement(
          to,
          {
            recipientName: d.lpName,
            period: month.period,
            timeZone: zone,
            currency: d.currency,
            openingBalanceMinor: BigInt(d.openingBalanceMinor),
            depositsMinor: BigInt(d.depositsMinor),
            allocatedMinor: BigInt(d.allocatedMinor),
            dustMinor: BigInt(d.dustMinor),
            closingBalanceMinor: BigInt(d.closingBalanceMinor),
            allocatedMsat: BigInt(d.allocatedMsat),
            payoutsPaidCount: d.payoutsPaidCount,
            payoutsPaidMsat: BigInt(d.payoutsPaidMsat),
            pendingDepositsMinor: BigInt(d.pendingDepositsMinor),
          },
          lp.lpId,
        )
        ;(r.status === 'sent' ? report.sent : report.alreadySent).push(lp.lpId)
      } catch (e) {
        const reason = (e as Error).message
        log.error('monthly statement not sent', { lpId: lp.lpId, period: month.period, reason })
        report.failed.push({ lpId: lp.lpId, reason })
      }
    }
    return report
  }

  async function dispatch(decisions: AlertDecision<OperatorAlert>[]): Promise<void> {
    for (const d of decisions) {
      let text: AlertText
      try {
        text = operatorAlertText(d.alert, d.phase, tz())
      } catch (e) {
        log.error('operator alert has bad details; not shown', { key: d.key, reason: (e as Error).message })
        continue
      }
      log.info('operator alert', { key: d.key, phase: d.phase, subject: text.subject })
      try {
        opts.desktop.show({ title: text.subject, body: text.body, level: text.level })
      } catch (e) {
        log.error('desktop notification failed', { key: d.key, reason: (e as Error).message })
      }
      const phone = opts.operatorPhone?.()
      if (!phone) continue
      try {
        await sendDirectMessage(phone, text, { kind: `alert_${d.phase}` })
      } catch (e) {
        // The desktop copy was shown; a failed phone DM is logged, not retried (the next reminder will try again).
        log.warn('operator alert DM not sent', {
          key: d.key,
          reason: e instanceof NoticeSendError || e instanceof GiftWrapError ? e.message : String(e),
        })
      }
    }
  }

  async function reportCondition(key: string, active: boolean, alert?: OperatorAlert) {
    const decisions = debouncer.update(key, active, alert)
    await dispatch(decisions)
    return decisions
  }

  async function tick() {
    const decisions = debouncer.tick()
    await dispatch(decisions)
    return decisions
  }

  return {
    sendDirectMessage,
    notifyPayoutPaid,
    notifyPayoutPaidById,
    retryPayoutNotices,
    sendMonthlyStatement,
    runMonthlyStatements,
    reportCondition,
    tick,
    start(o = {}) {
      if (closed) throw new Error('notice service is closed')
      timers.push(
        setInterval(() => {
          void tick().catch((e) => log.error('alert tick failed', { reason: (e as Error).message }))
        }, o.tickMs ?? 15_000),
      )
      if (ledger) {
        const run = () =>
          void runMonthlyStatements().catch((e) => log.error('statement run failed', { reason: (e as Error).message }))
        timers.push(setInterval(run, o.statementCheckMs ?? 60 * 60_000))
        run()
        const retry = () =>
          void retryPayoutNotices().catch((e) =>
            log.error('payout notice retry failed', { reason: (e as Error).message }),
          )
        timers.push(setInterval(retry, o.payoutNoticeRetryMs ?? 10 * 60_000))
        retry()
      }
    },
    close() {
      closed = true
      for (const t of timers.splice(0)) clearInterval(t)
    },
  }
}
