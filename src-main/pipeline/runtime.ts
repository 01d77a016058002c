// The console's money pipeline as ONE composition (issue 5 "Payouts over Nostr Wallet Connect, exactly once";
// docs/protocol.md–§4, §6): record intake → booking → settlement processing → payout planning → payout runner → receipts
// → LP notices. Each stage is its own module; this file only connects them and owns the loops that drive them:
//
//   fleet service (src-main/fleet/service.ts)   verifies kind 30079 records and books them (fleet.acceptRecord →
//                                               accounting.bookSettlement: legs and per-recipient accruals);
//   settlement processing (this file)          claims each pending settlement and completes it (pending →
//                                               processing → processed, accounting's claim protocol), after
//                                               checking that its live legs conserve the wire amount (a
//                                               tripwire: the legs were accrued at booking already);
//   payout runner (src-main/payouts/runner.ts)  plans payouts from the accruals and pays them over NIP-47;
//   receipts (src-main/receipts/service.ts)     signs, stores, publishes and reads back a kind 3079 receipt for
//                                               every processed settlement;
//   notices (src-main/notices/)                 sends each paid LP payout's NIP-17 DM and raises operator alerts
//                                               (the runner's events reach it through the payout notice bridge);
//   reconciliation (src-main/reconcile/loop.ts) checks the operator wallet's list_transactions against the ledger
//                                               after every payout batch that moved money and on a timer, over
//                                               windows that end `lagSec` before now (payments in flight are
//                                               not reported); differences reach the worklist and the Audit screen.
//
// Exactly once comes from the stages themselves (the ledger procedures are the idempotency keys: payment hash for
// bookings, the claim token for processing, one open payout per recipient and a journaled request before any
// publish for payouts, the settlement id for receipts, `payout-paid:<id>` for DMs). The runtime adds no state of
// its own: after a crash it is rebuilt from the ledger and simply starts its loops again.
//
// All I/O is injected (ledger, relay pool, the operator wallet's NWC client, the console key's signer, clock, log,
// destination resolver, notice service), so the same composition runs in the app (src-main/pipeline/feature.ts
// wires it into the services) and in the interop suite over a real relay and wallet service.
import { randomBytes } from 'node:crypto'
import type { Clock } from '../../src-shared/clock'
import type { Logger } from '../../src-shared/log'
import type { Signer } from '../../src-shared/signer'
import type { LedgerCursorStore } from '../fleet/cursor-store'
import { createFleetService, type FleetService, type FleetWallet, type RecordOutcome } from '../fleet/service'
import type { LedgerStore } from '../ledger/types'
import { createLpSelfService, type LpSelfService, type LpSelfServiceOptions } from '../lp-service/service'
import type { PoolSubscription, PublishResult, SignedEvent, SubscriptionSpec } from '../nostr/relay-pool'
import type { DebounceRules } from '../notices/alert-debouncer'
import { createPayoutNoticeBridge, type PayoutNoticeBridge } from '../notices/payout-bridge'
import { createNoticeService, type DesktopNotificationSink, type NoticeService } from '../notices/service'
import type { DestinationResolver } from '../payouts/destinations/types'
import {
  type CycleReport,
  createPayoutRunner,
  type PayoutRunner,
  type PayoutRunnerEvent,
  type PayoutRunnerOptions,
  type PayoutWallet,
} from '../payouts/runner'
import {
  createReceiptService,
  type PreimageWallet,
  type ReceiptRunReport,
  type ReceiptService,
} from '../receipts/service'
import { createReconcileLoop, forgetReconcileLoop, type ReconcileLoop } from '../reconcile/loop'
import type { ReconcileWallet } from '../reconcile/service'

/** The relay pool as the pipeline uses it (subscribe for records and read-backs, publish for receipts and DMs). */
export interface PipelinePool {
  subscribe(spec: SubscriptionSpec): PoolSubscription
  publish(event: SignedEvent, opts?: { relays?: readonly string[]; timeoutMs?: number }): Promise<PublishResult[]>
}

/**
 * The operator wallet's NWC client: lookups for intake and receipts, pay/balance for payouts, and (when it has it)
 * list_transactions for the reconciliation (NwcClient fits).
 */
export type PipelineWallet = FleetWallet & PreimageWallet & PayoutWallet & Partial<ReconcileWallet>

export interface PipelineTiming {
  /** Payout cycles run at least this often (and at once after a booking). Default 30 s. */
  payoutIntervalMs?: number
  /** Receipt runs at least this often (and soon after a settlement is processed). Default 30 s. */
  receiptIntervalMs?: number
  /** Pending settlements are looked for at least this often (a crash may leave some). Default 10 s. */
  settlementIntervalMs?: number
  /** How often the wallet balance is compared with the low-balance threshold (when one is set). Default 5 min. */
  balanceCheckIntervalMs?: number
  /** The wallet reconciliation runs at least this often (and after every payout batch that paid). Default 10 min. */
  reconcileIntervalMs?: number
}

/** The scheduled wallet reconciliation (src-main/reconcile/loop.ts); false turns it off. */
export type PipelineReconcileOptions =
  | false
  | { lagSec?: number; maxWindowSec?: number; firstWindowSec?: number; marginSec?: number }

export interface ConsoleRuntimeOptions {
  ledger: LedgerStore
  pool: PipelinePool
  /** The operator's wallet: the console's own full NWC connection, the only one allowed to pay legs. */
  wallet: PipelineWallet
  /** Id of that wallet connection; payouts are pinned to it. Default 'operator'. */
  connectionId?: string
  /** The console key: decrypts records, signs receipts and DMs. */
  consoleSigner: Signer
  operatorPubkey: string
  /** The console's relays: records are read from them, receipts go to them, DM-relay lists are looked up there. */
  relays: readonly string[]
  clock: Clock
  log: Logger
  /** Where each recipient's payout goes (Lightning address, the LP's own NWC, keysend). */
  destinations: DestinationResolver
  /**
   * Intake. Absent: the runtime builds its own fleet service on `pool`. Given: the runtime follows that service's
   * bookings (the app's fleet feature owns it and its lifetime).
   */
  fleet?: FleetService
  cursorStore?: LedgerCursorStore
  /** The notice sender. Absent: built on `pool` with the console key (DMs to LPs, alerts to `desktop`). */
  notices?: NoticeService
  /** Where operator alerts appear when the runtime builds the notice service. Default: the log only. */
  desktop?: DesktopNotificationSink
  /** Operator time zone (IANA) for LP days and notice texts. Default UTC. */
  timeZone?: () => string
  timing?: PipelineTiming
  /** Passed through to the payout runner (back-off, request lifetime, reply timeout, concurrency). */
  payouts?: Pick<
    PayoutRunnerOptions,
    'backoff' | 'requestTtlSec' | 'replyTimeoutMs' | 'recheckMs' | 'concurrency' | 'crashPoint'
  >
  /** Passed through to the fleet service when the runtime builds it. */
  intake?: { concurrency?: number; retryIntervalMs?: number; operatorCatchUpMs?: number }
  /** Passed through to the receipt service. */
  receipts?: { publishTimeoutMs?: number; readBackTimeoutMs?: number; retryInitialMs?: number; batch?: number }
  /** Alert debounce rules when the runtime builds the notice service (default: the notice service's). */
  noticeDebounce?: Partial<DebounceRules>
  /** Start the notice service's own timers (alert reminders, monthly statements). Default true. */
  noticeTimers?: boolean
  /**
   * The operator's low-balance threshold, read at each check (null or absent: no check). Below it, a "wallet low"
   * alert is raised through the notice bridge, with what the accruals owe.
   */
  walletLowMsat?: () => bigint | null
  /**
   * LP self-service on the console key (docs/lp-rpc.md): LPs ask for their own figures by DM or RPC. Default on;
   * false = not started. An object passes the rate limit / DM age through.
   */
  lpSelfService?: false | Pick<LpSelfServiceOptions, 'rateLimit' | 'dmMaxAgeSec' | 'onHandled'>
  /** Wallet reconciliation: on by default when the wallet answers list_transactions. */
  reconcile?: PipelineReconcileOptions
}

/** What one settlement-processing pass did. */
export interface ProcessReport {
  processed: number
  errored: number
}

export interface PipelineStats {
  settlementsProcessed: number
  settlementsErrored: number
  payoutCycles: number
  payoutsPaid: number
  receiptRuns: number
  receiptsVerified: number
  reconcileRuns: number
  lastCycle: CycleReport | null
  lastReceiptRun: ReceiptRunReport | null
}

export interface ConsoleRuntime {
  readonly fleet: FleetService
  readonly payouts: PayoutRunner
  readonly receipts: ReceiptService
  readonly notices: NoticeService
  readonly bridge: PayoutNoticeBridge
  /** LP self-service (null when turned off in the options). */
  readonly lpSelfService: LpSelfService | null
  /** Starts intake (when the runtime owns it) and the loops. */
  start(): Promise<void>
  /** Claims and completes every pending settlement now. */
  processSettlements(): Promise<ProcessReport>
  /** The wallet reconciliation (null when off or the wallet cannot list transactions). */
  readonly reconcile: ReconcileLoop | null
  /** Asks every loop for a pass soon (after a booking, an operator action, a reconnect). */
  kick(): void
  /** Resolves once no loop is running and no kick is pending, and the notice bridge is idle. */
  idle(): Promise<void>
  /** Listens to the payout runner's events (state changes, alerts). */
  onPayoutEvent(cb: (e: PayoutRunnerEvent) => void): () => void
  stats(): PipelineStats
  close(): Promise<void>
}

/**
 * A loop that runs `fn` on `kick()` and every `intervalMs`, one pass at a time; a kick during a pass runs one
 * more pass right after it, so no kick is lost and passes never overlap.
 */
interface KickLoop {
  kick(): void
  start(): void
  /** Resolves when the loop is between passes with nothing pending. */
  idle(): Promise<void>
  stop(): Promise<void>
}

function kickLoop(name: string, fn: () => Promise<void>, intervalMs: number, log: Logger): KickLoop {
  let running: Promise<void> | null = null
  let again = false
  let stopped = true
  let timer: ReturnType<typeof setInterval> | null = null
  let idleWaiters: (() => void)[] = []
  const pass = () => {
    if (stopped) return
    if (running) {
      again = true
      return
    }
    again = false
    running = fn()
      .catch((e: unknown) => log.error(`${name} pass failed`, { reason: e instanceof Error ? e.message : String(e) }))
      .finally(() => {
        running = null
        if (again && !stopped) pass()
        else {
          const w = idleWaiters
          idleWaiters = []
          for (const r of w) r()
        }
      })
  }
  return {
    kick: pass,
    start() {
      if (!stopped) return
      stopped = false
      timer = setInterval(pass, intervalMs)
      timer.unref?.()
      pass()
    },
    idle() {
      if (!running) return Promise.resolve()
      return new Promise((r) => idleWaiters.push(r))
    },
    async stop() {
      stopped = true
      if (timer) clearInterval(timer)
      timer = null
      await running
      const w = idleWaiters
      idleWaiters = []
      for (const r of w) r()
    },
  }
}

interface LegSum {
  [k: string]: bigint | string | number | null
  id: bigint
  wire_msat: bigint
  direction: string
  legs_msat: bigint
}

export async function createConsoleRuntime(o: ConsoleRuntimeOptions): Promise<ConsoleRuntime> {
  const { ledger, clock } = o
  const log = o.log
  const connectionId = o.connectionId ?? 'operator'
  const timing = o.timing ?? {}
  // One claim token per runtime instance: a settlement left in `processing` by an earlier (crashed) instance is not
  // ours to complete; accounting's worklist shows it as stuck and the operator retries it.
  const claimToken = `pipeline:${randomBytes(8).toString('hex')}`
  const payoutListeners = new Set<(e: PayoutRunnerEvent) => void>()
  const stats: PipelineStats = {
    settlementsProcessed: 0,
    settlementsErrored: 0,
    payoutCycles: 0,
    payoutsPaid: 0,
    receiptRuns: 0,
    receiptsVerified: 0,
    reconcileRuns: 0,
    lastCycle: null,
    lastReceiptRun: null,
  }

  const ownsFleet = o.fleet === undefined
  const fleet =
    o.fleet ??
    (await createFleetService({
      ledger,
      pool: o.pool,
      nwc: o.wallet,
      consoleSigner: o.consoleSigner,
      operatorPubkey: o.operatorPubkey,
      clock,
      log: log.child('fleet'),
      ...(o.cursorStore ? { cursorStore: o.cursorStore } : {}),
      ...(o.timeZone ? { timeZone: o.timeZone } : {}),
      ...(o.intake?.concurrency !== undefined ? { concurrency: o.intake.concurrency } : {}),
      ...(o.intake?.retryIntervalMs !== undefined ? { retryIntervalMs: o.intake.retryIntervalMs } : {}),
      ...(o.intake?.operatorCatchUpMs !== undefined ? { operatorCatchUpMs: o.intake.operatorCatchUpMs } : {}),
      relays: o.relays,
    }))

  const ownsNotices = o.notices === undefined
  const notices =
    o.notices ??
    createNoticeService({
      pool: o.pool,
      consoleSigner: o.consoleSigner,
      clock,
      log: log.child('notices'),
      ledger,
      desktop: o.desktop ?? {
        show: (n) => log.child('alerts').warn('operator alert', { title: n.title, body: n.body, level: n.level }),
      },
      lookupRelays: o.relays,
      ...(o.timeZone ? { timeZone: o.timeZone } : {}),
      ...(o.noticeDebounce ? { debounce: o.noticeDebounce } : {}),
    })
  const bridge = createPayoutNoticeBridge(notices, { log: log.child('payout-notices'), clock })
  const lpSelfService =
    o.lpSelfService === false
      ? null
      : createLpSelfService({
          pool: o.pool,
          consoleSigner: o.consoleSigner,
          ledger,
          clock,
          log: log.child('lp-service'),
          sendDm: (to, text) => notices.sendDirectMessage(to, text),
          timeZone: o.timeZone ?? (() => 'UTC'),
          relays: o.relays,
          ...(o.lpSelfService ?? {}),
        })

  const payouts = createPayoutRunner({
    ledger,
    nwcClient: o.wallet,
    connectionId,
    clock,
    log: log.child('payouts'),
    destinations: o.destinations,
    ...o.payouts,
    onEvent: (e) => {
      if (e.type === 'state' && e.state === 'paid') stats.payoutsPaid++
      bridge.onRunnerEvent(e)
      for (const cb of payoutListeners) {
        try {
          cb(e)
        } catch (err) {
          log.warn('payout event listener threw', { reason: (err as Error).message })
        }
      }
    },
  })

  const receipts = await createReceiptService({
    ledger,
    pool: o.pool,
    consoleSigner: o.consoleSigner,
    operatorPubkey: o.operatorPubkey,
    wallet: o.wallet,
    relays: o.relays,
    clock,
    log: log.child('receipts'),
    ...o.receipts,
  })

  /**
   * One settlement: pending → processing under our claim; its live legs must add up to the wire amount for a
   * cash-out (docs/settlement.md conservation, re-checked from the ledger rows that payouts will read); → processed.
   * A failed check leaves it `errored` with the reason, on the operator's worklist. Note: accounting accrues a
   * settlement's legs when it books it, so this check is a tripwire for the operator, not a gate on payouts.
   */
  async function processOne(heldId?: number): Promise<'processed' | 'errored' | null> {
    let id: number
    if (heldId !== undefined) id = heldId
    else {
      const c = await ledger.call<{ claimed: boolean; settlementId: number | null }>('accounting.claimSettlement', {
        token: claimToken,
        atMs: clock.nowMs(),
        author: 'pipeline',
      })
      if (!c.claimed || c.settlementId === null) return null
      id = c.settlementId
    }
    const [row] = await ledger.query<LegSum>(
      `SELECT s.id, s.wire_msat, s.direction,
              COALESCE((SELECT SUM(l.msat) FROM acct_leg l WHERE l.settlement_id = s.id AND l.generation = s.generation),
                       0) AS legs_msat
       FROM acct_settlement s WHERE s.id = ?`,
      [id],
      { bigint: true },
    )
    let problem: string | null = null
    if (!row) problem = 'settlement row not found after claiming it'
    else if (row.direction === 'cash_out' && BigInt(row.legs_msat) !== BigInt(row.wire_msat)) {
      problem = `legs add up to ${row.legs_msat} msat, the wire amount is ${row.wire_msat} msat`
    }
    if (problem !== null) {
      await ledger.call('accounting.failSettlement', {
        settlementId: id,
        token: claimToken,
        error: problem,
        atMs: clock.nowMs(),
        author: 'pipeline',
      })
      log.error('settlement failed its processing check', { settlementId: id, reason: problem })
      return 'errored'
    }
    await ledger.call('accounting.completeSettlement', {
      settlementId: id,
      token: claimToken,
      atMs: clock.nowMs(),
      author: 'pipeline',
    })
    return 'processed'
  }

  async function processSettlements(): Promise<ProcessReport> {
    const report: ProcessReport = { processed: 0, errored: 0 }
    // Settlements this instance claimed but did not finish (a ledger call failed between the two steps) first.
    const held = await ledger.query<{ id: number }>(
      "SELECT id FROM acct_settlement WHERE status = 'processing' AND claim_token = ? ORDER BY id",
      [claimToken],
    )
    for (const h of held) {
      const r = await processOne(Number(h.id))
      if (r !== null) report[r]++
    }
    for (;;) {
      const r = await processOne()
      if (r === null) break
      report[r]++
    }
    stats.settlementsProcessed += report.processed
    stats.settlementsErrored += report.errored
    if (report.processed > 0) log.info('settlements processed', { ...report })
    return report
  }

  const receiptLoop = kickLoop(
    'receipt',
    async () => {
      // Runs until nothing is left to sign or publish now (a run handles one batch).
      for (;;) {
        const r = await receipts.runOnce()
        stats.receiptRuns++
        stats.receiptsVerified += r.verified
        stats.lastReceiptRun = r
        if (r.signed === 0 && r.verified === 0) break
      }
    },
    timing.receiptIntervalMs ?? 30_000,
    log,
  )
  const payoutLoop = kickLoop(
    'payout',
    async () => {
      const rep = await payouts.runCycle()
      stats.payoutCycles++
      stats.lastCycle = rep
      bridge.onCycle(rep)
      // A cycle that planned payouts may leave more due at once (sats accrued while it paid). Retries and
      // rechecks wait for their own time, so they do not re-kick (that would spin on a wallet that is down).
      if (rep.planned > 0 && rep.paused === null) payoutLoop.kick()
      // Money moved: check the wallet against the ledger (over the windows now due).
      if (rep.paid > 0 || rep.reconciled > 0) reconcileLoop?.kick()
    },
    timing.payoutIntervalMs ?? 30_000,
    log,
  )
  const settlementLoop = kickLoop(
    'settlement',
    async () => {
      const r = await processSettlements()
      if (r.processed > 0) {
        payoutLoop.kick()
        receiptLoop.kick()
      }
    },
    timing.settlementIntervalMs ?? 10_000,
    log,
  )

  const balanceLoop = kickLoop(
    'balance',
    async () => {
      const threshold = o.walletLowMsat?.() ?? null
      if (threshold === null) return
      const balanceMsat = await o.wallet.getBalance()
      const [due] = await ledger.query<{ s: bigint | null }>(
        `SELECT SUM(a.balance_after_msat) AS s FROM acct_accrual a
         WHERE a.balance_after_msat > 0 AND a.id = (SELECT MAX(x.id) FROM acct_accrual x
               WHERE x.recipient_kind = a.recipient_kind AND x.recipient_id = a.recipient_id)`,
        [],
        { bigint: true },
      )
      bridge.onWalletBalance(balanceMsat, threshold, BigInt(due?.s ?? 0n))
    },
    timing.balanceCheckIntervalMs ?? 300_000,
    log,
  )

  const wallet = o.wallet
  const reconcile: ReconcileLoop | null =
    o.reconcile === false || typeof wallet.listTransactions !== 'function'
      ? null
      : createReconcileLoop({
          ledger,
          wallet: {
            listTransactions: (p) => wallet.listTransactions!(p),
            // Lets a run find a payment the wallet dated far from its booking (the console was off).
            lookupInvoice: (p) => wallet.lookupInvoice(p),
          },
          clock,
          log: log.child('reconcile'),
          ...(o.reconcile ?? {}),
        })
  const reconcileLoop = reconcile
    ? kickLoop(
        'reconcile',
        async () => {
          stats.reconcileRuns += await reconcile.runDue()
        },
        timing.reconcileIntervalMs ?? 600_000,
        log,
      )
    : null

  const offOutcome = fleet.onOutcome((oc: RecordOutcome) => {
    if (oc.outcome === 'booked') settlementLoop.kick()
  })

  let started = false
  let closed = false
  const runtime: ConsoleRuntime = {
    fleet,
    payouts,
    receipts,
    notices,
    bridge,
    lpSelfService,
    async start() {
      if (started) return
      started = true
      if (ownsFleet) await fleet.start()
      settlementLoop.start()
      payoutLoop.start()
      receiptLoop.start()
      if (o.walletLowMsat) balanceLoop.start()
      reconcileLoop?.start()
      if (ownsNotices && o.noticeTimers !== false) notices.start()
      await lpSelfService?.start()
      log.info('pipeline started', { connectionId, relays: o.relays.length, ownsFleet })
    },
    processSettlements,
    reconcile,
    kick() {
      settlementLoop.kick()
      payoutLoop.kick()
      receiptLoop.kick()
    },
    async idle() {
      await Promise.all([settlementLoop.idle(), payoutLoop.idle(), receiptLoop.idle(), reconcileLoop?.idle()])
      await bridge.idle()
    },
    onPayoutEvent(cb) {
      payoutListeners.add(cb)
      return () => payoutListeners.delete(cb)
    },
    stats: () => ({ ...stats }),
    async close() {
      if (closed) return
      closed = true
      offOutcome()
      // Intake first (no new bookings), then the loops finish their pass; notices last so a paid payout's DM that
      // is already on its way is still sent.
      if (ownsFleet) await fleet.close()
      await settlementLoop.stop()
      await payoutLoop.stop()
      await receiptLoop.stop()
      await balanceLoop.stop()
      await reconcileLoop?.stop()
      forgetReconcileLoop(ledger)
      await receipts.close()
      await bridge.idle()
      lpSelfService?.close()
      await lpSelfService?.idle()
      if (ownsNotices) notices.close()
      log.info('pipeline closed', { ...stats, lastCycle: undefined, lastReceiptRun: undefined })
    },
  }
  return runtime
}
