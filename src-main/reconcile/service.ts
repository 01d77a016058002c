// Wallet reconciliation adapter (issue 5 "Payouts" item 7): pages through the operator wallet's NIP-47
// list_transactions for a period (plus a margin), reads the ledger's payments for the same window through
// `reconcile.ledgerPayments`, runs the pure matcher (src-shared/reconcile/wallet.ts), stores the run in the ledger
// and turns its differences into worklist items with amounts.
import type { Clock } from '../../src-shared/clock'
import type { Logger } from '../../src-shared/log'
import {
  type Difference,
  type LedgerPayment,
  type ReconcilePeriod,
  type ReconcileReport,
  reconcileWallet,
  reportToJson,
  type WalletTransaction,
} from '../../src-shared/reconcile/wallet'
import type { LedgerStore } from '../ledger/types'
import type { LedgerPaymentRow } from './procedures'

/** One wallet transaction as the NIP-47 client answers it. */
export interface ReconcileWalletTx {
  type: 'incoming' | 'outgoing'
  state: WalletTransaction['state']
  paymentHash: string
  amountMsat: bigint
  feesPaidMsat: bigint | null
  createdAtSec: number | null
  settledAtSec: number | null
}

/** The part of NwcClient reconciliation uses. */
export interface ReconcileWallet {
  /**
   * lookup_invoice by payment hash (optional): a ledger payment of the period that the listed window does not show
   * is looked up by its hash, because the wallet may date it far from when the ledger booked it (a console that was
   * off overnight books the night's sales in the morning). Throws (e.g. NOT_FOUND) when the wallet has no trace.
   */
  lookupInvoice?(params: { paymentHash: string }): Promise<ReconcileWalletTx>
  listTransactions(params: {
    fromSec?: number
    untilSec?: number
    limit?: number
    offset?: number
    unpaid?: boolean
  }): Promise<
    Array<{
      type: 'incoming' | 'outgoing'
      state: WalletTransaction['state']
      paymentHash: string
      amountMsat: bigint
      feesPaidMsat: bigint | null
      createdAtSec: number | null
      settledAtSec: number | null
    }>
  >
}

/** NIP-47 asks clients to request at most 20 transactions per page. */
export const WALLET_PAGE_SIZE = 20

/**
 * Every wallet transaction created in [fromSec, untilSec] (NIP-47 `from`/`until`, both inclusive), page by page
 * with `offset` until a short page. `maxPages` bounds a wallet that never stops answering full pages.
 */
export async function fetchWalletTransactions(
  wallet: ReconcileWallet,
  range: { fromSec: number; untilSec: number },
  opts: { maxPages?: number; includeUnpaid?: boolean } = {},
): Promise<WalletTransaction[]> {
  const maxPages = opts.maxPages ?? 5_000
  const out: WalletTransaction[] = []
  for (let page = 0; page < maxPages; page++) {
    const txs = await wallet.listTransactions({
      fromSec: range.fromSec,
      untilSec: range.untilSec,
      limit: WALLET_PAGE_SIZE,
      offset: page * WALLET_PAGE_SIZE,
      ...(opts.includeUnpaid ? { unpaid: true } : {}),
    })
    for (const t of txs)
      out.push({
        type: t.type,
        state: t.state,
        paymentHash: t.paymentHash,
        amountMsat: t.amountMsat,
        feesPaidMsat: t.feesPaidMsat,
        createdAtSec: t.createdAtSec,
        settledAtSec: t.settledAtSec,
      })
    if (txs.length < WALLET_PAGE_SIZE) return out
  }
  throw new Error(`list_transactions still returned full pages after ${maxPages} pages`)
}

/** The ledger's payments in [fromMs, untilMs) as matcher input. */
export async function loadLedgerPayments(
  ledger: LedgerStore,
  fromMs: number,
  untilMs: number,
): Promise<LedgerPayment[]> {
  const rows = await ledger.call<LedgerPaymentRow[]>('reconcile.ledgerPayments', { fromMs, untilMs })
  return rows.map((r) => ({
    ref: r.ref,
    source: r.source,
    direction: r.direction,
    paymentHash: r.paymentHash,
    amountMsat: BigInt(r.amountMsat),
    atMs: r.atMs,
    expectedSettled: r.expectedSettled,
  }))
}

export interface ReconcileRunOptions {
  ledger: LedgerStore
  wallet: ReconcileWallet
  period: ReconcilePeriod
  /** Seconds fetched on both sides of the period so boundary payments still match. Default 1 day. */
  marginSec?: number
  clock: Clock
  log: Logger
  /** Store the run in the ledger (default true). */
  save?: boolean
  /** At most this many lookups of ledger payments the listed window did not show (default 500). */
  maxLookups?: number
}

export interface ReconcileRun {
  runId: number | null
  report: ReconcileReport
}

export async function runWalletReconciliation(o: ReconcileRunOptions): Promise<ReconcileRun> {
  const margin = o.marginSec ?? 86_400
  const from = Math.max(0, o.period.fromSec - margin)
  const until = o.period.untilSec + margin
  const [ledgerPayments, walletTransactions] = await Promise.all([
    loadLedgerPayments(o.ledger, from * 1000, until * 1000),
    fetchWalletTransactions(o.wallet, { fromSec: from, untilSec: until }),
  ])
  // Ledger payments of the period the window did not show: ask the wallet by hash (see ReconcileWallet.lookupInvoice).
  let lookedUp = 0
  if (o.wallet.lookupInvoice) {
    const seen = new Set(walletTransactions.map((t) => t.paymentHash))
    const fromMs = o.period.fromSec * 1000
    const untilMs = o.period.untilSec * 1000
    const missing = ledgerPayments.filter(
      (p) =>
        p.expectedSettled !== false &&
        p.paymentHash !== null &&
        !seen.has(p.paymentHash) &&
        p.atMs >= fromMs &&
        p.atMs < untilMs,
    )
    for (const p of missing.slice(0, o.maxLookups ?? 500)) {
      const hash = p.paymentHash!
      if (seen.has(hash)) continue
      seen.add(hash)
      try {
        const t = await o.wallet.lookupInvoice({ paymentHash: hash })
        lookedUp++
        walletTransactions.push({
          type: t.type,
          state: t.state,
          paymentHash: t.paymentHash,
          amountMsat: t.amountMsat,
          feesPaidMsat: t.feesPaidMsat,
          createdAtSec: t.createdAtSec,
          settledAtSec: t.settledAtSec,
        })
      } catch (e) {
        // No trace in the wallet: the matcher reports it missing, which is what it is.
        o.log.debug('reconciliation lookup found nothing', { paymentHash: hash, reason: (e as Error).message })
      }
    }
  }
  const report = reconcileWallet({ period: o.period, ledgerPayments, walletTransactions })
  o.log.info('wallet reconciled', {
    fromSec: o.period.fromSec,
    untilSec: o.period.untilSec,
    matched: report.matched.length,
    differences: report.differences.length,
    walletTransactions: walletTransactions.length,
    lookedUp,
  })
  for (const d of report.differences)
    o.log.warn('reconciliation difference', {
      kind: d.kind,
      paymentHash: d.paymentHash,
      refs: d.refs.join(' '),
      ledgerMsat: d.ledgerMsat,
      walletMsat: d.walletMsat,
      deltaMsat: d.deltaMsat,
    })
  let runId: number | null = null
  if (o.save !== false) {
    const saved = await o.ledger.call<{ id: number }>('reconcile.saveRun', {
      fromSec: o.period.fromSec,
      untilSec: o.period.untilSec,
      matched: report.matched.length,
      differences: report.differences.length,
      reportJson: JSON.stringify(reportToJson(report)),
      atMs: o.clock.nowMs(),
    })
    runId = saved.id
  }
  return { runId, report }
}

/** One worklist line per difference; amounts are decimal msat strings (JSON-safe for the IPC). */
export interface ReconcileWorklistItem {
  kind: `reconcile_${Difference['kind']}`
  paymentHash: string | null
  refs: string[]
  direction: 'incoming' | 'outgoing'
  ledgerMsat: string | null
  walletMsat: string | null
  deltaMsat: string | null
  walletState: string | null
  atMs: number | null
  /** One sentence for the operator. */
  text: string
}

const s = (v: bigint | null) => (v === null ? null : v.toString())

/** One sentence for the operator about a difference. */
export function describeDifference(d: Difference): string {
  const refs = d.refs.length > 0 ? d.refs.join(', ') : 'no ledger entry'
  switch (d.kind) {
    case 'missing_in_wallet':
      return `${refs}: ${d.ledgerMsat} msat ${d.direction} booked, but the wallet shows no settled payment${
        d.walletState ? ` (it says ${d.walletState})` : ''
      }.`
    case 'unexpected_in_wallet':
      return `The wallet settled ${d.walletMsat} msat ${d.direction} that no settlement or payout accounts for.`
    case 'amount_mismatch':
      return `${refs}: ledger ${d.ledgerMsat} msat, wallet ${d.walletMsat} msat (difference ${d.deltaMsat} msat).`
    case 'direction_mismatch':
      return `${refs}: the ledger books it ${d.direction}, the wallet reports the opposite direction.`
    case 'duplicate_in_ledger':
      return `${refs} claim the same payment.`
    case 'no_payment_hash':
      return `${refs}: ${d.ledgerMsat} msat booked without a payment hash; it cannot be matched.`
    case 'settled_unexpectedly':
      return `Double payment? ${refs}: the wallet paid ${d.walletMsat} msat for an attempt the ledger recorded as not paid.`
  }
}

export function reconcileWorklistItems(report: ReconcileReport): ReconcileWorklistItem[] {
  return report.differences.map((d) => ({
    kind: `reconcile_${d.kind}` as const,
    paymentHash: d.paymentHash,
    refs: [...d.refs],
    direction: d.direction,
    ledgerMsat: s(d.ledgerMsat),
    walletMsat: s(d.walletMsat),
    deltaMsat: s(d.deltaMsat),
    walletState: d.walletState,
    atMs: d.atMs,
    text: describeDifference(d),
  }))
}

/** Worklist items of the newest stored run (what the worklist shows between runs and after a restart). */
export async function latestReconcileWorklist(
  ledger: LedgerStore,
): Promise<{ runId: number; fromSec: number; untilSec: number; items: ReconcileWorklistItem[] } | null> {
  const runs = await ledger.call<Array<{ id: number; fromSec: number; untilSec: number; reportJson: string }>>(
    'reconcile.runs',
    { limit: 1 },
  )
  const r = runs[0]
  if (!r) return null
  const json = JSON.parse(r.reportJson) as { differences: Array<Record<string, unknown>> }
  const big = (v: unknown) => (v === null || v === undefined ? null : BigInt(v as string))
  const report: ReconcileReport = {
    period: { fromSec: r.fromSec, untilSec: r.untilSec },
    matched: [],
    differences: json.differences.map((d) => ({
      kind: d.kind as Difference['kind'],
      paymentHash: (d.paymentHash as string | null) ?? null,
      refs: (d.refs as string[]) ?? [],
      direction: d.direction as Difference['direction'],
      ledgerMsat: big(d.ledgerMsat),
      walletMsat: big(d.walletMsat),
      deltaMsat: big(d.deltaMsat),
      walletState: (d.walletState as Difference['walletState']) ?? null,
      atMs: (d.atMs as number | null) ?? null,
    })),
    totals: {
      incoming: { ledgerMsat: 0n, walletMsat: 0n },
      outgoing: { ledgerMsat: 0n, walletMsat: 0n },
      walletFeesMsat: 0n,
    },
  }
  return { runId: r.id, fromSec: r.fromSec, untilSec: r.untilSec, items: reconcileWorklistItems(report) }
}
