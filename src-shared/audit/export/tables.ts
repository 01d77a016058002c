// The audit export's CSV tables (docs/audit-export.md "The files"): one column list per table — the single
// source for the CSV header, the report's column dictionary and the documentation — and a pure builder per table
// from the period's ledger rows (./model.ts). Amounts are integers whose unit is in the column name: `_msat`
// (millisatoshi), `_minor_<CUR>` (minor units of an ISO 4217 currency, e.g. cents for `_minor_EUR`), `_ppm`
// (parts per million). A fiat column exists once per currency in the period; a row fills only its own currency's
// column and leaves the others empty. Times are UTC in ISO 8601 with milliseconds.
import { currencyExponent } from '../../money/iso4217'
import type { AuditData, ConfigAuditRow, LegAuditRow, SettlementAuditRow } from './model'

export interface ColumnSpec {
  name: string
  /** A fiat column: the header is `<name>_<CUR>` for each currency of the period. */
  fiat?: boolean
  help: string
}

export interface TableSpec {
  file: string
  title: string
  help: string
  columns: ColumnSpec[]
}

export interface CsvTable {
  file: string
  header: string[]
  rows: string[][]
}

const c = (name: string, help: string): ColumnSpec => ({ name, help })
const f = (name: string, help: string): ColumnSpec => ({ name, fiat: true, help })

export const TRANSACTIONS: TableSpec = {
  file: 'transactions.csv',
  title: 'Transaction ledger',
  help: 'One row per settlement whose ATM record was created in the period, in settlement id order.',
  columns: [
    c('settlement_id', 'ledger id of the settlement'),
    c('created_at_utc', "the ATM record's creation time (the transaction time)"),
    c('local_time', 'the same instant in the time zone of the fee configuration in force'),
    c('local_day', "the operator-local day the settlement counts on (for fixed LPs' daily limits)"),
    c('machine_id', 'the ATM (its public key)'),
    c('machine_name', "the ATM's name at export time"),
    c('direction', 'cash_out (customer sells bitcoin for cash) or cash_in (customer buys bitcoin with cash)'),
    c('status', 'pending, processing, processed, errored or rejected'),
    c('reason', 'why a settlement was rejected or errored'),
    c('payment_hash', 'the Lightning payment hash (the idempotency key)'),
    c('preimage', 'the payment preimage from the receipt; sha256(preimage) = payment_hash'),
    c('atm_event_id', 'id of the kind 30079 ATM record event that was booked'),
    c('receipt_event_id', 'id of the console-signed kind 3079 receipt'),
    c('amount_msat', 'the amount paid over Lightning (wire amount)'),
    f('fiat_minor', 'cash dispensed (cash-out) or inserted (cash-in)'),
    f('fiat_requested_minor', 'cash the customer asked for (differs on a partial dispense)'),
    c(
      'rate_msat_per_major',
      'transaction-time rate: floor(amount_msat x 10^exponent / fiat_minor), msat per major unit',
    ),
    c('principal_msat', 'the part that buys or sells the cash'),
    c('commission_msat', 'total customer fee (platform fee + operator fee)'),
    c('platform_fee_msat', 'the platform fee'),
    c('operator_fee_msat', "the operator's commission, split into the split legs"),
    c('refund_due_msat', 'owed back to the customer after a partial dispense'),
    f(
      'commission_fiat_minor',
      'commission at the transaction-time rate: floor(commission_msat x fiat_minor / amount_msat)',
    ),
    c('platform_ppm', 'platform fee fraction in force'),
    c('operator_ppm', 'operator fee fraction in force'),
    c('discount_ppm', 'discount in force'),
    c('claimed_fee_msat', 'the fee the ATM claimed (compared, never trusted)'),
    c('fee_mismatch_msat', 'claimed fee minus the computed commission'),
    c('fee_mismatch_flagged', '1 when the mismatch is above the tolerance'),
    c('generation', 'result generation (above 0 after a partial-dispense recompute)'),
    c('notes', 'number of notes on the settlement (see exceptions.csv)'),
  ],
}

export const LEGS: TableSpec = {
  file: 'legs.csv',
  title: 'Settlement legs',
  help: 'Every money movement of the settlements in transactions.csv, including reversing entries (negative).',
  columns: [
    c('leg_id', 'ledger id of the leg'),
    c('settlement_id', 'the settlement it belongs to'),
    c('generation', 'result generation that booked it'),
    c('kind', 'platform_fee, split (operator commission share), lp, float (operator float) or refund_due'),
    c('recipient_id', 'who the leg accrues to'),
    c('amount_msat', 'msat of the leg (negative for a reversing entry)'),
    f('fiat_minor', 'fiat of the leg (LP and float legs)'),
    c('reverses_leg_id', 'the leg this entry reverses'),
    c('created_at_utc', 'when it was booked'),
    c('paid_ref', 'payout or reference that paid it'),
    c('paid_at_utc', 'when it was marked paid'),
  ],
}

export const PAYOUTS: TableSpec = {
  file: 'payouts.csv',
  title: 'Payouts register',
  help: 'One row per payout planned in the period: one Lightning payment of accrued legs to one recipient.',
  columns: [
    c('payout_id', 'ledger id of the payout'),
    c('planned_at_utc', 'when it was planned'),
    c('updated_at_utc', 'its last state change'),
    c('recipient_kind', 'platform, split or lp'),
    c('recipient_id', 'who is paid'),
    c('connection_id', 'the wallet connection it is paid from'),
    c('state', 'planned, sending, paid, failed_retryable, failed_final or unknown'),
    c('attempt', 'attempts made'),
    c('amount_msat', 'amount paid (whole sats)'),
    c('routing_fee_msat', 'Lightning routing fee paid'),
    c('max_fee_msat', 'fee budget of the payment'),
    f('fiat_minor', 'amount at the rate of the last settlement in that currency before the payout'),
    c('rate_msat_per_major', 'the rate used for fiat_minor'),
    c('payment_hash', 'the payment hash of the paid invoice'),
    c('preimage', 'the preimage returned when paid'),
    c('reason', 'failure reason'),
  ],
}

export const LP_STATEMENTS: TableSpec = {
  file: 'lp-statements.csv',
  title: 'LP statement entries',
  help: "Every entry of each liquidity provider's fiat account in the period, in entry order.",
  columns: [
    c('entry_id', 'ledger id of the entry'),
    c('lp_id', 'the liquidity provider'),
    c('created_at_utc', 'when it was booked'),
    c('kind', 'deposit, deposit_reversal, allocation (cash paid out for the LP), allocation_reversal or dust'),
    f('delta_minor', 'change of the balance (negative for an allocation)'),
    f('balance_after_minor', 'balance after this entry: previous balance + delta'),
    c('deposit_id', 'the deposit it books'),
    c('leg_id', 'the settlement leg it books'),
    c('dust_id', 'the dust settlement it books'),
  ],
}

export const LP_BALANCES: TableSpec = {
  file: 'lp-balances.csv',
  title: 'LP roll-up',
  help: 'One row per liquidity provider: opening balance, movements by kind and closing balance.',
  columns: [
    c('lp_id', 'the liquidity provider'),
    c('lp_name', 'its name'),
    c('mode', 'flow or fixed'),
    f('opening_minor', 'balance before the period'),
    f('deposits_minor', 'sum of deposit and deposit_reversal entries'),
    f('allocations_minor', 'sum of allocation and allocation_reversal entries'),
    f('dust_minor', 'sum of dust entries'),
    f('closing_minor', 'opening + deposits + allocations + dust'),
    c('sats_received_msat', 'sum of its lp legs in transactions.csv'),
    c('entries', 'entries in lp-statements.csv'),
  ],
}

export const DEPOSITS: TableSpec = {
  file: 'deposits.csv',
  title: 'Deposits',
  help: 'LP deposits created in the period, with their state (pending ones are listed apart in the report).',
  columns: [
    c('deposit_id', 'ledger id of the deposit'),
    c('lp_id', 'the liquidity provider'),
    c('status', 'pending, confirmed or cancelled'),
    f('amount_minor', 'amount deposited'),
    c('created_at_utc', 'when it was recorded'),
    c('confirmed_at_utc', 'when it was confirmed'),
    c('closed_at_utc', 'when it was confirmed or cancelled'),
    c('note', 'operator note'),
  ],
}

export const CASH_BY_MACHINE: TableSpec = {
  file: 'cash-by-machine.csv',
  title: 'Cash reconciliation per machine',
  help: 'Cash each machine should have taken in and paid out, derived from its booked transactions.',
  columns: [
    c('machine_id', 'the ATM'),
    c('machine_name', 'its name'),
    c('cash_in_count', 'booked cash-in transactions'),
    f('cash_inserted_minor', 'cash inserted by customers'),
    c('cash_out_count', 'booked cash-out transactions'),
    f('cash_dispensed_minor', 'cash dispensed to customers'),
    f('net_cash_minor', 'expected change of the cash held: inserted minus dispensed'),
    c('counted', 'cassette counts recorded by the console (none: compare with your collection reports)'),
  ],
}

export const WALLET: TableSpec = {
  file: 'wallet-reconciliation.csv',
  title: 'Wallet reconciliation',
  help:
    "The ledger's flows through the operator wallet (row kind ledger), and each reconciliation run against the " +
    'wallet in the period with the differences it found.',
  columns: [
    c('kind', 'ledger (flows derived from the other files) or run (a reconciliation against the wallet)'),
    c('ref', 'run id'),
    c('from_utc', 'start of the window'),
    c('until_utc', 'end of the window'),
    c('inflow_msat', 'cash-out amounts received'),
    c('outflow_msat', 'cash-in amounts paid plus paid payouts'),
    c('fees_msat', 'routing fees paid'),
    c('net_msat', 'inflow - outflow - fees: the expected change of the wallet balance'),
    c('matched', 'payments the run matched'),
    c('differences', 'differences the run found'),
    c('detail', 'the differences, one per line'),
  ],
}

export const EXCEPTIONS: TableSpec = {
  file: 'exceptions.csv',
  title: 'Exceptions',
  help: 'Errored, rejected, flagged, partially dispensed or recomputed settlements, rejected records and notes.',
  columns: [
    c('kind', 'errored, rejected, fee_mismatch, partial_dispense, recomputed, refund_due, rejected_record or note'),
    c('ref', 'settlement id, rejected record id or note id'),
    c('at_utc', 'when it happened'),
    c('machine_id', 'the ATM, when known'),
    c('payment_hash', 'the payment hash, when known'),
    c('amount_msat', 'the amount concerned, when there is one'),
    c('author', 'who wrote a note'),
    c('detail', 'reason or text'),
  ],
}

export const CONFIG_CHANGES: TableSpec = {
  file: 'config-changes.csv',
  title: 'Configuration change log',
  help: 'Every fee configuration recorded in the period, one row per field that changed (old -> new).',
  columns: [
    c('seq', 'configuration version'),
    c('recorded_at_utc', 'when it was recorded'),
    c('effective_from_utc', 'from when it applies'),
    c('scope', 'fleet (all machines) or a machine id'),
    c('author', 'who recorded it'),
    c('field', 'the field that changed'),
    c('old', 'value before'),
    c('new', 'value after'),
    c('note', 'the note given with the change'),
  ],
}

export const SUMMARY: TableSpec = {
  file: 'summary.csv',
  title: 'Tie-out totals',
  help: 'Every total of the report, each recomputable from the other files (docs/audit-export.md gives the formula).',
  columns: [
    c('metric', 'what is totalled'),
    c('scope', 'total or machine:<id> or split:<id>'),
    c('unit', 'count, msat or minor_<CUR>'),
    c('value', 'the total (an integer)'),
  ],
}

/** In the order the files are listed in the manifest and the report. */
export const TABLES: readonly TableSpec[] = [
  TRANSACTIONS,
  LEGS,
  PAYOUTS,
  LP_STATEMENTS,
  LP_BALANCES,
  DEPOSITS,
  CASH_BY_MACHINE,
  WALLET,
  EXCEPTIONS,
  CONFIG_CHANGES,
  SUMMARY,
]

/** The header of `spec` for the period's currencies. */
export function headerOf(spec: TableSpec, currencies: readonly string[]): string[] {
  const out: string[] = []
  for (const col of spec.columns) {
    if (col.fiat) for (const cur of currencies) out.push(`${col.name}_${cur}`)
    else out.push(col.name)
  }
  return out
}

// ---- cell formatting ----

export const iso = (ms: number | null): string => (ms === null ? '' : new Date(ms).toISOString())
const s = (v: string | null | undefined): string => v ?? ''
const n = (v: number | bigint | null | undefined): string => (v === null || v === undefined ? '' : v.toString())

const formatters = new Map<string, Intl.DateTimeFormat>()

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone)
  if (!f) {
    f = new Intl.DateTimeFormat('en-CA', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
    })
    formatters.set(timeZone, f)
  }
  return f
}

/** `2026-10-01 14:03:07 Europe/Madrid`: the instant in `timeZone` (UTC for an unknown or missing zone). */
export function localTime(ms: number, timeZone: string | null): string {
  let zone = timeZone ?? 'UTC'
  let f: Intl.DateTimeFormat
  try {
    f = formatterFor(zone)
  } catch {
    zone = 'UTC'
    f = formatterFor(zone)
  }
  const parts = f.formatToParts(new Date(ms))
  const p = (t: string) => parts.find((x) => x.type === t)?.value ?? '00'
  return `${p('year')}-${p('month')}-${p('day')} ${p('hour')}:${p('minute')}:${p('second')} ${zone}`
}

/** msat per major unit: floor(msat × 10^exp / minor); null for zero fiat. */
export function rateOf(msat: bigint, fiatMinor: bigint, currency: string): bigint | null {
  if (fiatMinor <= 0n) return null
  return (msat * 10n ** BigInt(currencyExponent(currency))) / fiatMinor
}

/** Commission at the transaction-time rate: floor(commission × fiat / wire). */
export function commissionFiat(commissionMsat: bigint | null, fiatMinor: bigint, wireMsat: bigint): bigint | null {
  if (commissionMsat === null || wireMsat <= 0n) return null
  return (commissionMsat * fiatMinor) / wireMsat
}

/** A row builder that places fiat values in their currency's column. */
class RowBuilder {
  private readonly cells: string[] = []
  constructor(private readonly currencies: readonly string[]) {}
  add(v: string): this {
    this.cells.push(v)
    return this
  }
  fiat(currency: string | null, v: bigint | null): this {
    for (const cur of this.currencies) this.cells.push(cur === currency ? n(v) : '')
    return this
  }
  done(): string[] {
    return this.cells
  }
}

/** The currencies of the period, sorted (every machine's, so an idle machine's currency still has columns). */
export function currenciesOf(d: AuditData): string[] {
  const set = new Set<string>()
  for (const m of d.machines) set.add(m.currency)
  for (const x of d.settlements) set.add(x.currency)
  for (const lp of d.lps) set.add(lp.currency)
  return [...set].sort()
}

function transactionRow(x: SettlementAuditRow, machineName: string, cur: readonly string[]): string[] {
  return new RowBuilder(cur)
    .add(n(x.id))
    .add(iso(x.createdAtSec * 1000))
    .add(localTime(x.createdAtSec * 1000, x.timeZone))
    .add(s(x.localDay))
    .add(x.machineId)
    .add(machineName)
    .add(x.direction)
    .add(x.status)
    .add(s(x.reason))
    .add(x.paymentHash)
    .add(s(x.preimage))
    .add(s(x.atmEventId))
    .add(s(x.receiptEventId))
    .add(n(x.wireMsat))
    .fiat(x.currency, x.fiatMinor)
    .fiat(x.currency, x.fiatRequestedMinor)
    .add(n(rateOf(x.wireMsat, x.fiatMinor, x.currency)))
    .add(n(x.principalMsat))
    .add(n(x.commissionMsat))
    .add(n(x.platformFeeMsat))
    .add(n(x.operatorFeeMsat))
    .add(n(x.refundDueMsat))
    .fiat(x.currency, commissionFiat(x.commissionMsat, x.fiatMinor, x.wireMsat))
    .add(n(x.platformPpm))
    .add(n(x.operatorPpm))
    .add(n(x.discountPpm))
    .add(n(x.claimedFeeMsat))
    .add(n(x.feeMismatchMsat))
    .add(x.feeMismatchFlagged ? '1' : '0')
    .add(n(x.generation))
    .add(n(x.notes))
    .done()
}

function legRow(l: LegAuditRow, cur: readonly string[]): string[] {
  return new RowBuilder(cur)
    .add(n(l.id))
    .add(n(l.settlementId))
    .add(n(l.generation))
    .add(l.kind)
    .add(l.recipientId)
    .add(n(l.msat))
    .fiat(l.currency, l.fiatMinor)
    .add(n(l.reversesLegId))
    .add(iso(l.createdAtMs))
    .add(s(l.paidRef))
    .add(iso(l.paidAtMs))
    .done()
}

function configRows(x: ConfigAuditRow): string[][] {
  const out: string[][] = []
  const keys = Object.keys(x.fields).sort()
  for (const k of keys) {
    const before = x.previous ? (x.previous[k] ?? '') : ''
    const after = x.fields[k] ?? ''
    if (x.previous && before === after) continue
    out.push([
      n(x.seq),
      iso(x.recordedAtMs),
      iso(x.effectiveFromMs),
      x.machineId ?? 'fleet',
      x.author,
      k,
      before,
      after,
      s(x.note),
    ])
  }
  return out
}

/** Builds every table except summary.csv (which ./totals.ts computes from these). */
export function buildTables(d: AuditData): CsvTable[] {
  const cur = currenciesOf(d)
  const machineName = new Map(d.machines.map((m) => [m.id, m.name]))
  const table = (spec: TableSpec, rows: string[][]): CsvTable => ({
    file: spec.file,
    header: headerOf(spec, cur),
    rows,
  })
  const booked = d.settlements.filter((x) => x.status !== 'rejected')
  const lpCurrency = new Map(d.lps.map((lp) => [lp.id, lp.currency]))

  const lpRows = d.lpEntries.map((e) =>
    new RowBuilder(cur)
      .add(n(e.id))
      .add(e.lpId)
      .add(iso(e.createdAtMs))
      .add(e.kind)
      .fiat(lpCurrency.get(e.lpId) ?? null, e.deltaMinor)
      .fiat(lpCurrency.get(e.lpId) ?? null, e.balanceAfterMinor)
      .add(s(e.depositId))
      .add(n(e.legId))
      .add(n(e.dustId))
      .done(),
  )

  const lpLegMsat = new Map<string, bigint>()
  const counted = new Set(booked.map((x) => x.id))
  for (const l of d.legs)
    if (l.kind === 'lp' && counted.has(l.settlementId))
      lpLegMsat.set(l.recipientId, (lpLegMsat.get(l.recipientId) ?? 0n) + l.msat)
  const balanceRows = d.lps.map((lp) => {
    const entries = d.lpEntries.filter((e) => e.lpId === lp.id)
    const sum = (kinds: string[]) =>
      entries.filter((e) => kinds.includes(e.kind)).reduce((a, e) => a + e.deltaMinor, 0n)
    const deposits = sum(['deposit', 'deposit_reversal'])
    const allocations = sum(['allocation', 'allocation_reversal'])
    const dust = sum(['dust'])
    return new RowBuilder(cur)
      .add(lp.id)
      .add(lp.name)
      .add(lp.mode)
      .fiat(lp.currency, lp.openingMinor)
      .fiat(lp.currency, deposits)
      .fiat(lp.currency, allocations)
      .fiat(lp.currency, dust)
      .fiat(lp.currency, lp.openingMinor + deposits + allocations + dust)
      .add(n(lpLegMsat.get(lp.id) ?? 0n))
      .add(n(entries.length))
      .done()
  })

  const cashRows = d.machines.map((m) => {
    const mine = booked.filter((x) => x.machineId === m.id)
    const ins = mine.filter((x) => x.direction === 'cash_in')
    const outs = mine.filter((x) => x.direction === 'cash_out')
    const inserted = ins.reduce((a, x) => a + x.fiatMinor, 0n)
    const dispensed = outs.reduce((a, x) => a + x.fiatMinor, 0n)
    return new RowBuilder(cur)
      .add(m.id)
      .add(m.name)
      .add(n(ins.length))
      .fiat(m.currency, inserted)
      .add(n(outs.length))
      .fiat(m.currency, dispensed)
      .fiat(m.currency, inserted - dispensed)
      .add('none')
      .done()
  })

  const inflow = booked.filter((x) => x.direction === 'cash_out').reduce((a, x) => a + x.wireMsat, 0n)
  const paid = d.payouts.filter((p) => p.state === 'paid')
  const outflow =
    booked.filter((x) => x.direction === 'cash_in').reduce((a, x) => a + x.wireMsat, 0n) +
    paid.reduce((a, p) => a + p.amountMsat, 0n)
  const fees = paid.reduce((a, p) => a + (p.feesPaidMsat ?? 0n), 0n)
  const walletRows: string[][] = [
    [
      'ledger',
      '',
      iso(d.period.fromMs),
      iso(d.period.untilMs),
      n(inflow),
      n(outflow),
      n(fees),
      n(inflow - outflow - fees),
      '',
      '',
      '',
    ],
    ...d.walletRuns.map((r) => [
      'run',
      n(r.id),
      iso(r.fromSec * 1000),
      iso(r.untilSec * 1000),
      '',
      '',
      '',
      '',
      n(r.matched),
      n(r.differences),
      r.differenceLines.join('\n'),
    ]),
  ]

  const exceptions: string[][] = []
  const ex = (
    kind: string,
    ref: string,
    at: number,
    machine: string,
    hash: string,
    msat: string,
    author: string,
    detail: string,
  ) => exceptions.push([kind, ref, iso(at), machine, hash, msat, author, detail])
  for (const x of d.settlements) {
    const at = x.createdAtSec * 1000
    const id = n(x.id)
    if (x.status === 'errored' || x.status === 'rejected')
      ex(x.status, id, at, x.machineId, x.paymentHash, n(x.wireMsat), '', s(x.reason))
    if (x.feeMismatchFlagged)
      ex(
        'fee_mismatch',
        id,
        at,
        x.machineId,
        x.paymentHash,
        n(x.feeMismatchMsat),
        '',
        'claimed fee differs from the computed commission',
      )
    if (x.direction === 'cash_out' && x.fiatMinor < x.fiatRequestedMinor)
      ex(
        'partial_dispense',
        id,
        at,
        x.machineId,
        x.paymentHash,
        n(x.wireMsat),
        '',
        `dispensed ${x.fiatMinor} of ${x.fiatRequestedMinor} ${x.currency} minor units`,
      )
    if (x.generation > 0)
      ex('recomputed', id, at, x.machineId, x.paymentHash, n(x.wireMsat), '', `result generation ${x.generation}`)
    if (x.refundDueMsat !== null && x.refundDueMsat > 0n && x.status !== 'rejected')
      ex('refund_due', id, at, x.machineId, x.paymentHash, n(x.refundDueMsat), '', 'owed back to the customer')
  }
  for (const r of d.rejected)
    ex(
      'rejected_record',
      n(r.id),
      r.receivedAtMs,
      s(r.machineId),
      s(r.paymentHash),
      '',
      '',
      `${r.reason}${r.field ? ` (${r.field})` : ''}`,
    )
  for (const note of d.notes)
    ex(
      'note',
      n(note.id),
      note.createdAtMs,
      '',
      '',
      '',
      note.author,
      `${note.settlementId !== null ? `settlement ${note.settlementId}: ` : note.lpId ? `LP ${note.lpId}: ` : ''}${note.text}`,
    )

  return [
    table(
      TRANSACTIONS,
      d.settlements.map((x) => transactionRow(x, machineName.get(x.machineId) ?? '', cur)),
    ),
    table(
      LEGS,
      d.legs.map((l) => legRow(l, cur)),
    ),
    table(
      PAYOUTS,
      d.payouts.map((p) =>
        new RowBuilder(cur)
          .add(p.id)
          .add(iso(p.plannedAtMs))
          .add(iso(p.updatedAtMs))
          .add(p.recipientKind)
          .add(p.recipientId)
          .add(p.connectionId)
          .add(p.state)
          .add(n(p.attempt))
          .add(n(p.amountMsat))
          .add(n(p.feesPaidMsat))
          .add(n(p.maxFeeMsat))
          .fiat(p.currency, payoutFiat(p.amountMsat, p.rateMsatPerMajor, p.currency))
          .add(n(p.rateMsatPerMajor))
          .add(s(p.paymentHash))
          .add(s(p.preimage))
          .add(s(p.reason))
          .done(),
      ),
    ),
    table(LP_STATEMENTS, lpRows),
    table(LP_BALANCES, balanceRows),
    table(
      DEPOSITS,
      d.deposits.map((x) =>
        new RowBuilder(cur)
          .add(x.id)
          .add(x.lpId)
          .add(x.status)
          .fiat(x.currency, x.amountMinor)
          .add(iso(x.createdAtMs))
          .add(iso(x.confirmedAtMs))
          .add(iso(x.closedAtMs))
          .add(s(x.note))
          .done(),
      ),
    ),
    table(CASH_BY_MACHINE, cashRows),
    table(WALLET, walletRows),
    table(EXCEPTIONS, exceptions),
    table(CONFIG_CHANGES, d.configs.flatMap(configRows)),
  ]
}

/** A payout's fiat at a rate: floor(msat × 10^exp / rate). */
export function payoutFiat(msat: bigint, rate: bigint | null, currency: string | null): bigint | null {
  if (rate === null || currency === null || rate <= 0n) return null
  return (msat * 10n ** BigInt(currencyExponent(currency))) / rate
}
