// Wallet reconciliation (issue 5 "Payouts" item 7): the operator wallet's
// NIP-47 list_transactions for a period matched against the ledger's money movements. Every settled wallet
// payment must belong to a settlement (cash-out: incoming; cash-in: outgoing, paid by the ATM's connection to the
// same wallet) or a payout (outgoing), and every ledger payment must have a settled wallet payment of the same
// direction and amount. What does not match is listed with its amounts; nothing is fixed automatically.
//
// Pure: the adapter (src-main/reconcile/) reads the ledger and pages through the wallet. Matching is by payment
// hash (unique per Lightning payment). Both sides are fetched with a margin around the period so a payment created
// just before the period but booked inside it still matches; only items that fall inside the period are reported.
import { FieldError } from '../field-error'

export type PaymentDirection = 'incoming' | 'outgoing'

/** One money movement the ledger says happened through the operator's wallet. */
export interface LedgerPayment {
  /** Stable reference shown to the operator: `settlement:12`, `payout:7`. */
  ref: string
  source: 'settlement' | 'payout' | 'refund'
  direction: PaymentDirection
  /** Null when the ledger has no hash yet (a payout that never reached the wallet). */
  paymentHash: string | null
  /** Amount the ledger expects to have moved, msat (for an outgoing payment: without routing fees). */
  amountMsat: bigint
  /** When the ledger booked it (epoch ms). */
  atMs: number
  /**
   * False for a payment the ledger recorded as NOT made (the invoice of a failed or superseded payout attempt):
   * it is not expected in the wallet, and a settled wallet payment for it is a `settled_unexpectedly` difference.
   * Default true.
   */
  expectedSettled?: boolean
}

/** One wallet transaction as list_transactions reports it (amounts in msat, NIP-47). */
export interface WalletTransaction {
  type: PaymentDirection
  state: 'pending' | 'settled' | 'accepted' | 'expired' | 'failed'
  paymentHash: string
  amountMsat: bigint
  feesPaidMsat: bigint | null
  createdAtSec: number | null
  settledAtSec: number | null
}

export interface ReconcilePeriod {
  /** Inclusive start, unix seconds. */
  fromSec: number
  /** Exclusive end, unix seconds. */
  untilSec: number
}

export type DifferenceKind =
  /** The ledger has a payment the wallet does not show as settled. */
  | 'missing_in_wallet'
  /** The wallet shows a settled payment the ledger cannot account for. */
  | 'unexpected_in_wallet'
  /** Both sides have it, with different amounts. */
  | 'amount_mismatch'
  /** Both sides have it, in opposite directions. */
  | 'direction_mismatch'
  /** Two ledger entries claim the same payment hash. */
  | 'duplicate_in_ledger'
  /** A ledger payment without a payment hash: it cannot be matched at all. */
  | 'no_payment_hash'
  /** The wallet settled a payment the ledger recorded as not made (a failed or superseded payout attempt). */
  | 'settled_unexpectedly'

export interface Difference {
  kind: DifferenceKind
  paymentHash: string | null
  /** Ledger reference(s) involved, empty for an unexpected wallet payment. */
  refs: string[]
  direction: PaymentDirection
  ledgerMsat: bigint | null
  walletMsat: bigint | null
  /** wallet − ledger, when both are known. */
  deltaMsat: bigint | null
  /** The wallet's state when it has the payment but not as settled. */
  walletState: WalletTransaction['state'] | null
  atMs: number | null
}

export interface Match {
  ref: string
  paymentHash: string
  direction: PaymentDirection
  amountMsat: bigint
  feesPaidMsat: bigint
}

export interface DirectionTotals {
  ledgerMsat: bigint
  walletMsat: bigint
}

export interface ReconcileReport {
  period: ReconcilePeriod
  matched: Match[]
  differences: Difference[]
  totals: {
    incoming: DirectionTotals
    outgoing: DirectionTotals
    /** Routing fees the wallet paid on outgoing payments in the period. */
    walletFeesMsat: bigint
  }
}

export interface ReconcileInput {
  period: ReconcilePeriod
  ledgerPayments: readonly LedgerPayment[]
  walletTransactions: readonly WalletTransaction[]
}

export class ReconcileError extends FieldError {
  override readonly name = 'ReconcileError'
}

const HEX64 = /^[0-9a-f]{64}$/

function checkInput(input: ReconcileInput): void {
  const { fromSec, untilSec } = input.period
  if (!Number.isSafeInteger(fromSec) || fromSec < 0) throw new ReconcileError('period.fromSec', 'must be unix seconds')
  if (!Number.isSafeInteger(untilSec) || untilSec <= fromSec)
    throw new ReconcileError('period.untilSec', 'must be unix seconds after fromSec')
  input.ledgerPayments.forEach((p, i) => {
    const at = `ledgerPayments[${i}]`
    if (typeof p.ref !== 'string' || p.ref.length === 0) throw new ReconcileError(`${at}.ref`, 'must be non-empty')
    if (p.paymentHash !== null && !HEX64.test(p.paymentHash))
      throw new ReconcileError(`${at}.paymentHash`, 'must be 64 lowercase hex or null')
    if (typeof p.amountMsat !== 'bigint' || p.amountMsat < 0n)
      throw new ReconcileError(`${at}.amountMsat`, 'must be a non-negative bigint')
    if (p.direction !== 'incoming' && p.direction !== 'outgoing')
      throw new ReconcileError(`${at}.direction`, 'must be incoming or outgoing')
    if (!Number.isSafeInteger(p.atMs)) throw new ReconcileError(`${at}.atMs`, 'must be epoch ms')
  })
  input.walletTransactions.forEach((t, i) => {
    const at = `walletTransactions[${i}]`
    if (!HEX64.test(t.paymentHash)) throw new ReconcileError(`${at}.paymentHash`, 'must be 64 lowercase hex')
    if (typeof t.amountMsat !== 'bigint' || t.amountMsat < 0n)
      throw new ReconcileError(`${at}.amountMsat`, 'must be a non-negative bigint')
  })
}

/** Wallet time of a transaction: settled_at, else created_at (seconds), or null when the wallet gave neither. */
const walletTimeSec = (t: WalletTransaction): number | null => t.settledAtSec ?? t.createdAtSec

const inPeriod = (sec: number, p: ReconcilePeriod) => sec >= p.fromSec && sec < p.untilSec

/**
 * Matches ledger payments against wallet transactions. Ledger payments are reported when booked inside the
 * period; wallet payments when their wallet time falls inside it (a wallet entry without any time is always
 * considered, so it cannot hide). Differences come out sorted by time, then payment hash, then kind.
 */
export function reconcileWallet(input: ReconcileInput): ReconcileReport {
  checkInput(input)
  const { period } = input
  const periodFromMs = period.fromSec * 1000
  const periodUntilMs = period.untilSec * 1000
  const ledgerInPeriod = (p: LedgerPayment) => p.atMs >= periodFromMs && p.atMs < periodUntilMs

  // Wallet side: a payment hash may appear more than once (a failed attempt, then a settled one); the settled one
  // wins, otherwise the newest state is kept for the report.
  const wallet = new Map<string, WalletTransaction>()
  for (const t of input.walletTransactions) {
    const prev = wallet.get(t.paymentHash)
    if (!prev || (prev.state !== 'settled' && t.state === 'settled')) wallet.set(t.paymentHash, t)
  }

  const byHash = new Map<string, LedgerPayment[]>()
  const differences: Difference[] = []
  const matched: Match[] = []
  const totals = {
    incoming: { ledgerMsat: 0n, walletMsat: 0n },
    outgoing: { ledgerMsat: 0n, walletMsat: 0n },
    walletFeesMsat: 0n,
  }

  const notExpected = new Map<string, LedgerPayment[]>()
  for (const p of input.ledgerPayments) {
    if (p.expectedSettled === false) {
      if (p.paymentHash === null) continue
      const list = notExpected.get(p.paymentHash) ?? []
      list.push(p)
      notExpected.set(p.paymentHash, list)
      continue
    }
    if (ledgerInPeriod(p)) totals[p.direction].ledgerMsat += p.amountMsat
    if (p.paymentHash === null) {
      if (ledgerInPeriod(p))
        differences.push({
          kind: 'no_payment_hash',
          paymentHash: null,
          refs: [p.ref],
          direction: p.direction,
          ledgerMsat: p.amountMsat,
          walletMsat: null,
          deltaMsat: null,
          walletState: null,
          atMs: p.atMs,
        })
      continue
    }
    const list = byHash.get(p.paymentHash) ?? []
    list.push(p)
    byHash.set(p.paymentHash, list)
  }

  for (const [hash, entries] of byHash) {
    const reportable = entries.some(ledgerInPeriod)
    const first = entries[0]!
    if (entries.length > 1 && reportable) {
      differences.push({
        kind: 'duplicate_in_ledger',
        paymentHash: hash,
        refs: entries.map((e) => e.ref),
        direction: first.direction,
        ledgerMsat: entries.reduce((s, e) => s + e.amountMsat, 0n),
        walletMsat: wallet.get(hash)?.amountMsat ?? null,
        deltaMsat: null,
        walletState: wallet.get(hash)?.state ?? null,
        atMs: first.atMs,
      })
    }
    const ledgerMsat = entries.reduce((s, e) => s + e.amountMsat, 0n)
    const w = wallet.get(hash)
    const wSettled = w !== undefined && w.state === 'settled'
    const wTime = w ? walletTimeSec(w) : null
    const walletReportable = w !== undefined && (wTime === null || inPeriod(wTime, period))
    if (!reportable && !walletReportable) continue
    const base = {
      paymentHash: hash,
      refs: entries.map((e) => e.ref),
      direction: first.direction,
      ledgerMsat,
      atMs: first.atMs,
    }
    if (!wSettled) {
      if (reportable)
        differences.push({
          ...base,
          kind: 'missing_in_wallet',
          walletMsat: null,
          deltaMsat: null,
          walletState: w?.state ?? null,
        })
      continue
    }
    if (w.type !== first.direction) {
      differences.push({
        ...base,
        kind: 'direction_mismatch',
        walletMsat: w.amountMsat,
        deltaMsat: null,
        walletState: w.state,
      })
      continue
    }
    if (w.amountMsat !== ledgerMsat) {
      differences.push({
        ...base,
        kind: 'amount_mismatch',
        walletMsat: w.amountMsat,
        deltaMsat: w.amountMsat - ledgerMsat,
        walletState: w.state,
      })
      continue
    }
    if (entries.length === 1)
      matched.push({
        ref: first.ref,
        paymentHash: hash,
        direction: first.direction,
        amountMsat: ledgerMsat,
        feesPaidMsat: w.feesPaidMsat ?? 0n,
      })
  }

  for (const [hash, w] of wallet) {
    if (w.state !== 'settled') continue
    const t = walletTimeSec(w)
    const reportable = t === null || inPeriod(t, period)
    if (!reportable) continue
    totals[w.type].walletMsat += w.amountMsat
    if (w.type === 'outgoing') totals.walletFeesMsat += w.feesPaidMsat ?? 0n
    if (byHash.has(hash)) continue
    const attempts = notExpected.get(hash)
    differences.push({
      kind: attempts ? 'settled_unexpectedly' : 'unexpected_in_wallet',
      paymentHash: hash,
      refs: attempts ? attempts.map((a) => a.ref) : [],
      direction: w.type,
      ledgerMsat: attempts ? attempts[0]!.amountMsat : null,
      walletMsat: w.amountMsat,
      deltaMsat: null,
      walletState: w.state,
      atMs: t === null ? null : t * 1000,
    })
  }

  differences.sort(
    (a, b) =>
      (a.atMs ?? 0) - (b.atMs ?? 0) ||
      (a.paymentHash ?? '').localeCompare(b.paymentHash ?? '') ||
      a.kind.localeCompare(b.kind),
  )
  matched.sort((a, b) => a.ref.localeCompare(b.ref))
  return { period, matched, differences, totals }
}

/** A JSON-safe copy of a report (bigints as decimal strings) for the worklist, the IPC and the audit export. */
export function reportToJson(r: ReconcileReport): unknown {
  return JSON.parse(JSON.stringify(r, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)))
}
