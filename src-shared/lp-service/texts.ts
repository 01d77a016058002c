// Plain-text answers to LP self-service DMs (docs/lp-rpc.md §2): the RPC result shapes (./rpc.ts) printed in the
// operator's currency and in sats, exactly (amounts are parsed as bigint and printed digit by digit through
// src-shared/notices/format.ts; a sub-sat remainder is shown, never rounded). Pure.
import { formatFiat, formatLocalDateTime, formatSats } from '../notices/format'
import type { BalanceResult, PayoutLine, StatementResult, TransactionLine, TransactionsResult } from './rpc'

const B = (s: string): bigint => BigInt(s)
const short = (hex: string) => `${hex.slice(0, 16)}…`

export const HELP_TEXT = [
  'Commands you can send me:',
  '  balance — remaining fiat, sats accrued and paid, last payouts',
  '  history — the last 10 settlements that used your money',
  '  history 2026-11 — the settlements of one month',
  '  statement 2026-11 or statement 2026-Q4 — a month or quarter statement',
  '  help — this list',
].join('\n')

function payoutLines(ps: PayoutLine[], tz: string): string[] {
  return ps.map(
    (p) =>
      `  ${formatLocalDateTime(p.paidAtMs, tz)}  ${formatSats(B(p.amountMsat))}  payment ${short(p.paymentHash)}` +
      (p.receiptIds.length > 0 ? `  receipts ${p.receiptIds.join(', ')}` : ''),
  )
}

export function balanceText(b: BalanceResult, tz: string): string {
  const out = [
    `Balance of ${b.name} (${formatLocalDateTime(b.asOfMs, tz)} ${tz})${b.active ? '' : ' — deactivated'}`,
    `Remaining fiat: ${formatFiat(B(b.balanceMinor), b.currency)}`,
  ]
  if (B(b.pendingDepositsMinor) !== 0n)
    out.push(`Deposits awaiting confirmation: ${formatFiat(B(b.pendingDepositsMinor), b.currency)}`)
  out.push(
    `Sats accrued, not yet paid: ${formatSats(B(b.accruedMsat))}`,
    `Sats earned in total: ${formatSats(B(b.earnedMsat))}`,
    `Sats paid out in total: ${formatSats(B(b.paidMsat))}`,
  )
  if (b.lastPayouts.length === 0) out.push('No payouts yet.')
  else out.push('Last payouts:', ...payoutLines(b.lastPayouts, tz))
  return out.join('\n')
}

function txLine(l: TransactionLine, currency: string, tz: string): string {
  const used = -B(l.deltaMinor)
  const what =
    l.kind === 'allocation'
      ? `settlement #${l.settlementId}: ${formatFiat(used, currency)} → ${formatSats(B(l.msat))}`
      : l.kind === 'allocation_reversal'
        ? `settlement #${l.settlementId} reversed: ${formatFiat(-used, currency)} back, ${formatSats(B(l.msat))}`
        : l.kind === 'dust'
          ? `dust settled: ${formatFiat(used, currency)} → ${formatSats(B(l.msat))}`
          : `${l.kind.replace('_', ' ')}: ${formatFiat(-used, currency)}`
  return `  ${formatLocalDateTime(l.atMs, tz)}  ${what}${l.receiptId ? `  receipt ${l.receiptId}` : ''}`
}

export function historyText(t: TransactionsResult, tz: string, label: string): string {
  if (t.lines.length === 0) return `No settlements used your money ${label}.`
  return [`Settlements that used your money ${label}:`, ...t.lines.map((l) => txLine(l, t.currency, tz))].join('\n')
}

export function statementText(s: StatementResult): string {
  const c = s.currency
  const f = (v: string) => formatFiat(B(v), c)
  const out = [
    `Statement ${s.period} (${s.timeZone})`,
    `Opening balance: ${f(s.openingBalanceMinor)}`,
    `Deposits: ${f(s.depositedMinor)}`,
  ]
  if (B(s.depositReversedMinor) !== 0n) out.push(`Deposits reversed: ${f(s.depositReversedMinor)}`)
  out.push(`Used by ${s.settlementCount} settlement(s): ${f(s.allocatedMinor)}`)
  if (B(s.dustSettledMinor) !== 0n) out.push(`Dust settled: ${f(s.dustSettledMinor)}`)
  out.push(
    `Closing balance: ${f(s.closingBalanceMinor)}`,
    `Sats earned: ${formatSats(B(s.earnedMsat))}`,
    `Sats paid out: ${formatSats(B(s.paidOutMsat))}`,
    `Sats accrued at the start: ${formatSats(B(s.openingAccruedMsat))}, at the end: ${formatSats(B(s.closingAccruedMsat))}`,
  )
  if (B(s.pendingDepositsMinor) !== 0n)
    out.push(`Deposits awaiting confirmation at the end: ${f(s.pendingDepositsMinor)}`)
  if (s.payouts.length > 0) out.push('Payouts:', ...payoutLines(s.payouts, s.timeZone))
  return out.join('\n')
}
