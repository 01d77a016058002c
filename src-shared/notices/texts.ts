// Message texts sent to people (issue 5 "Payouts" item 5): the NIP-17 DM an LP gets when a payout is paid, the
// monthly LP statement (what bookkeepers expect: opening balance → deposits → fiat equivalent of sats
// distributed → dust → closing balance, plus sats received and the average acquisition rate), and the operator's
// alerts (payouts paused, repeated failures, wallet low). Pure: inputs are bigint amounts and IANA zones, outputs
// are strings; formatting is exact (./format.ts). Inputs are validated here because a DM, once sent, cannot be
// taken back: a statement whose balances do not add up is refused rather than sent.
import { FieldError } from '../field-error'
import { isCurrency } from '../money/iso4217'
import { fiatPerBtcMinor, formatFiat, formatLocalDateTime, formatSats } from './format'

/** A notice input is wrong; `field` names it. */
export class NoticeError extends FieldError {
  override readonly name = 'NoticeError'
}

export interface MessageText {
  /** Short title: the NIP-17 `subject` tag and the desktop notification title. */
  subject: string
  body: string
}

const HEX64 = /^[0-9a-f]{64}$/
const PERIOD = /^(\d{4})-(0[1-9]|1[0-2])$/

function nonEmpty(field: string, v: unknown, max = 200): string {
  if (typeof v !== 'string' || v.trim().length === 0 || v.length > max)
    throw new NoticeError(field, `must be a non-empty string of at most ${max} characters`)
  return v
}
function nonNegative(field: string, v: unknown): bigint {
  if (typeof v !== 'bigint' || v < 0n) throw new NoticeError(field, 'must be a non-negative bigint')
  return v
}
function currency(field: string, v: unknown): string {
  if (!isCurrency(v)) throw new NoticeError(field, 'must be an ISO 4217 code')
  return v
}
function timeZoneOf(field: string, v: unknown): string {
  if (typeof v !== 'string') throw new NoticeError(field, 'must be an IANA time zone')
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: v })
  } catch {
    throw new NoticeError(field, 'must be an IANA time zone')
  }
  return v
}

// ---------------------------------------------------------------------------------------------------------------
// Payout paid

export interface PayoutPaidNotice {
  /** How the LP is addressed ("Ana"). */
  recipientName: string
  /** What the payment delivered, msat (whole sats for a payout, docs/settlement.md). */
  paidMsat: bigint
  /** Fiat equivalent of the paid sats at the settlement rate(s) they were bought at, minor units. */
  fiatEquivalentMinor: bigint
  currency: string
  /** The LP's remaining fiat balance with the operator after this payout's settlements, minor units. */
  remainingBalanceMinor: bigint
  /** Sats still accrued for the LP below the payout threshold (sub-sat remainders included), msat. */
  stillAccruedMsat?: bigint
  paymentHash: string
  paidAtMs: number
  /** The operator's time zone, used for the date shown. */
  timeZone: string
  /** Who sends it ("Satmachine Lobby"). */
  operatorName?: string
}

export function payoutPaidText(n: PayoutPaidNotice): MessageText {
  const name = nonEmpty('recipientName', n.recipientName)
  const paid = nonNegative('paidMsat', n.paidMsat)
  if (paid === 0n) throw new NoticeError('paidMsat', 'must be > 0')
  const fiat = nonNegative('fiatEquivalentMinor', n.fiatEquivalentMinor)
  const cur = currency('currency', n.currency)
  const remaining = nonNegative('remainingBalanceMinor', n.remainingBalanceMinor)
  if (!HEX64.test(n.paymentHash)) throw new NoticeError('paymentHash', 'must be 64 lowercase hex characters')
  if (!Number.isSafeInteger(n.paidAtMs) || n.paidAtMs < 0) throw new NoticeError('paidAtMs', 'must be epoch ms')
  const tz = timeZoneOf('timeZone', n.timeZone)
  const rate = fiatPerBtcMinor(fiat, paid)
  const lines = [
    `Hello ${name},`,
    '',
    `${n.operatorName ? `${n.operatorName} has` : 'We have'} paid you ${formatSats(paid)}.`,
    `Fiat equivalent at the settlement rate: ${formatFiat(fiat, cur)}${
      rate === null ? '' : ` (${formatFiat(rate, cur)} per BTC)`
    }.`,
    `Your remaining balance: ${formatFiat(remaining, cur)}.`,
  ]
  if (n.stillAccruedMsat !== undefined && nonNegative('stillAccruedMsat', n.stillAccruedMsat) > 0n)
    lines.push(`Still accrued for your next payout: ${formatSats(n.stillAccruedMsat)}.`)
  lines.push('', `Paid ${formatLocalDateTime(n.paidAtMs, tz)} (${tz}).`, `Payment hash: ${n.paymentHash}`)
  return { subject: `Payout: ${formatSats(paid)}`, body: lines.join('\n') }
}

// ---------------------------------------------------------------------------------------------------------------
// Monthly statement

export interface MonthlyStatement {
  recipientName: string
  /** Calendar month in the operator's time zone, "YYYY-MM". */
  period: string
  timeZone: string
  currency: string
  openingBalanceMinor: bigint
  /** Confirmed deposits minus deposit reversals in the month. */
  depositsMinor: bigint
  /** Fiat converted into sats at the ATMs in the month (allocations minus allocation reversals). */
  allocatedMinor: bigint
  /** Small balances closed by dust settlement in the month. */
  dustMinor: bigint
  closingBalanceMinor: bigint
  /** Sats distributed to the LP in the month (LP legs), msat. */
  allocatedMsat: bigint
  /** Payouts paid to the LP in the month. */
  payoutsPaidCount: number
  payoutsPaidMsat: bigint
  /** Deposits announced but not yet confirmed at the end of the month. */
  pendingDepositsMinor?: bigint
  operatorName?: string
}

/** Refuses a statement whose lines do not add up: opening + deposits − allocated − dust must equal closing. */
export function checkStatement(s: MonthlyStatement): void {
  nonEmpty('recipientName', s.recipientName)
  if (typeof s.period !== 'string' || !PERIOD.test(s.period)) throw new NoticeError('period', 'must be YYYY-MM')
  timeZoneOf('timeZone', s.timeZone)
  currency('currency', s.currency)
  for (const k of ['openingBalanceMinor', 'closingBalanceMinor', 'allocatedMsat', 'payoutsPaidMsat'] as const)
    nonNegative(k, s[k])
  for (const k of ['depositsMinor', 'allocatedMinor', 'dustMinor'] as const)
    if (typeof s[k] !== 'bigint') throw new NoticeError(k, 'must be a bigint')
  if (!Number.isSafeInteger(s.payoutsPaidCount) || s.payoutsPaidCount < 0)
    throw new NoticeError('payoutsPaidCount', 'must be a non-negative integer')
  const expected = s.openingBalanceMinor + s.depositsMinor - s.allocatedMinor - s.dustMinor
  if (expected !== s.closingBalanceMinor)
    throw new NoticeError(
      'closingBalanceMinor',
      `is ${s.closingBalanceMinor} but opening + deposits − allocated − dust = ${expected}`,
    )
}

export function monthlyStatementText(s: MonthlyStatement): MessageText {
  checkStatement(s)
  const f = (m: bigint) => formatFiat(m, s.currency)
  const rate = fiatPerBtcMinor(s.allocatedMinor, s.allocatedMsat)
  const lines = [
    `Hello ${s.recipientName},`,
    '',
    `${s.operatorName ? `${s.operatorName}: s` : 'S'}tatement for ${s.period} (${s.timeZone}).`,
    '',
    `Opening balance:        ${f(s.openingBalanceMinor)}`,
    `Deposits confirmed:   + ${f(s.depositsMinor)}`,
    `Converted at the ATMs: − ${f(s.allocatedMinor)}`,
    `Dust settled:         − ${f(s.dustMinor)}`,
    `Closing balance:        ${f(s.closingBalanceMinor)}`,
    '',
    `Sats distributed to you: ${formatSats(s.allocatedMsat)}`,
    `Average acquisition rate: ${rate === null ? 'n/a' : `${f(rate)} per BTC`}`,
    `Payouts paid: ${s.payoutsPaidCount} (${formatSats(s.payoutsPaidMsat)})`,
  ]
  if (s.pendingDepositsMinor !== undefined && nonNegative('pendingDepositsMinor', s.pendingDepositsMinor) > 0n)
    lines.push(`Deposits awaiting confirmation: ${f(s.pendingDepositsMinor)}`)
  return { subject: `Statement ${s.period}`, body: lines.join('\n') }
}

// ---------------------------------------------------------------------------------------------------------------
// Operator alerts

export type OperatorAlert =
  | { kind: 'payouts_paused'; reason: string; sinceMs: number }
  | { kind: 'repeated_failures'; recipient: string; failures: number; lastError: string }
  | { kind: 'wallet_low'; balanceMsat: bigint; thresholdMsat: bigint; dueMsat?: bigint }

export type OperatorAlertKind = OperatorAlert['kind']

/** raised: first notice; reminder: still true after the repeat interval; resolved: the condition cleared. */
export type AlertPhase = 'raised' | 'reminder' | 'resolved'

export interface AlertText extends MessageText {
  level: 'info' | 'warn' | 'error'
}

function alertDetail(a: OperatorAlert, timeZone: string): { title: string; detail: string } {
  switch (a.kind) {
    case 'payouts_paused':
      return {
        title: 'Payouts paused',
        detail: `Payouts are paused since ${formatLocalDateTime(a.sinceMs, timeZone)}: ${nonEmpty('reason', a.reason, 500)}.`,
      }
    case 'repeated_failures':
      if (!Number.isSafeInteger(a.failures) || a.failures < 1) throw new NoticeError('failures', 'must be ≥ 1')
      return {
        title: 'Payout failing repeatedly',
        detail: `The payout to ${nonEmpty('recipient', a.recipient)} failed ${a.failures} times in a row; last error: ${nonEmpty('lastError', a.lastError, 500)}.`,
      }
    case 'wallet_low': {
      const bal = nonNegative('balanceMsat', a.balanceMsat)
      const thr = nonNegative('thresholdMsat', a.thresholdMsat)
      const due = a.dueMsat === undefined ? '' : ` Payouts due: ${formatSats(nonNegative('dueMsat', a.dueMsat))}.`
      return {
        title: 'Wallet balance low',
        detail: `The operator wallet holds ${formatSats(bal)}, below the ${formatSats(thr)} threshold.${due}`,
      }
    }
    default:
      throw new NoticeError('kind', `unknown alert kind ${JSON.stringify((a as { kind: unknown }).kind)}`)
  }
}

export function operatorAlertText(a: OperatorAlert, phase: AlertPhase, timeZone = 'UTC'): AlertText {
  timeZoneOf('timeZone', timeZone)
  const { title, detail } = alertDetail(a, timeZone)
  if (phase === 'resolved')
    return { level: 'info', subject: `Resolved: ${title}`, body: `${title}: the condition has cleared.` }
  const level = a.kind === 'wallet_low' ? 'warn' : 'error'
  return { level, subject: phase === 'reminder' ? `Still: ${title}` : title, body: detail }
}
