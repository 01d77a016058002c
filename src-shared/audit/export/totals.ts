// The tie-out totals (summary.csv) and the derived tables, computed FROM THE CSV TEXT of the other files — the
// exporter writes summary.csv with this code after building the other tables, and `verify-audit` runs the same
// code over the files it was handed, so a total in the report can only agree with the files if it is the sum of
// their rows. docs/audit-export.md states each formula for auditors who write their own verifier.
import type { CsvTable } from './tables'

/** A table as read back: header, rows and the 1-based file line of each row. */
export interface ReadTable {
  file: string
  header: string[]
  rows: string[][]
  lines: number[]
}

export function asReadTable(t: CsvTable): ReadTable {
  return { file: t.file, header: t.header, rows: t.rows, lines: t.rows.map((_, i) => i + 2) }
}

/** A cell that does not hold what its column promises. */
export class TableCellError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly column: string,
    message: string,
  ) {
    super(`${file} line ${line}, column ${column}: ${message}`)
    this.name = 'TableCellError'
  }
}

const INT = /^-?(0|[1-9][0-9]*)$/

/** Column access by name, with integer parsing that names the cell it refuses. */
export class Cols {
  private readonly index: Map<string, number>
  constructor(readonly t: ReadTable) {
    this.index = new Map(t.header.map((h, i) => [h, i]))
  }
  has(name: string): boolean {
    return this.index.has(name)
  }
  /** The fiat currencies of this table's `<base>_<CUR>` columns. */
  currencies(base: string): string[] {
    const p = `${base}_`
    return this.t.header
      .filter((h) => h.startsWith(p) && /^[A-Z]{3}$/.test(h.slice(p.length)))
      .map((h) => h.slice(p.length))
  }
  str(r: number, name: string): string {
    const i = this.index.get(name)
    if (i === undefined) throw new TableCellError(this.t.file, 1, name, 'the column is missing from the header')
    return (this.t.rows[r] as string[])[i] as string
  }
  line(r: number): number {
    return this.t.lines[r] as number
  }
  /** An integer cell; '' is refused unless `optional` (then null). */
  int(r: number, name: string, optional?: false): bigint
  int(r: number, name: string, optional: true): bigint | null
  int(r: number, name: string, optional = false): bigint | null {
    const v = this.str(r, name)
    if (v === '') {
      if (optional) return null
      throw new TableCellError(this.t.file, this.line(r), name, 'empty where an integer is required')
    }
    if (!INT.test(v)) throw new TableCellError(this.t.file, this.line(r), name, `'${v.slice(0, 40)}' is not an integer`)
    return BigInt(v)
  }
  /** The row's currency: the one `<base>_<CUR>` column that is filled (null if none is). */
  currencyOf(r: number, base: string): string | null {
    let found: string | null = null
    for (const cur of this.currencies(base)) {
      if (this.str(r, `${base}_${cur}`) === '') continue
      if (found !== null)
        throw new TableCellError(this.t.file, this.line(r), base, `filled for two currencies (${found}, ${cur})`)
      found = cur
    }
    return found
  }
  get size(): number {
    return this.t.rows.length
  }
}

export interface SummaryLine {
  metric: string
  scope: string
  unit: string
  value: bigint
}

class Acc {
  private readonly m = new Map<string, SummaryLine>()
  add(metric: string, scope: string, unit: string, v: bigint): void {
    const k = `${metric}\u0000${scope}\u0000${unit}`
    const cur = this.m.get(k)
    if (cur) cur.value += v
    else this.m.set(k, { metric, scope, unit, value: v })
  }
  /** Makes sure a line exists (value 0) so an empty period still lists it. */
  touch(metric: string, scope: string, unit: string): void {
    this.add(metric, scope, unit, 0n)
  }
  lines(): SummaryLine[] {
    return [...this.m.values()]
  }
}

const DIRECTIONS = ['cash_out', 'cash_in'] as const
const LEG_KINDS = ['platform_fee', 'split', 'lp', 'float', 'refund_due'] as const

/**
 * Every tie-out total from transactions.csv, legs.csv, payouts.csv and lp-balances.csv. Settlements with status
 * `rejected` are not counted (their legs, if any, were reversed). Throws TableCellError naming a bad cell.
 */
export function computeSummary(tables: ReadonlyMap<string, ReadTable>): SummaryLine[] {
  const acc = new Acc()
  const tx = new Cols(need(tables, 'transactions.csv'))
  const legs = new Cols(need(tables, 'legs.csv'))
  const payouts = new Cols(need(tables, 'payouts.csv'))
  const lpBal = new Cols(need(tables, 'lp-balances.csv'))
  const currencies = tx.currencies('fiat_minor')

  for (const dir of DIRECTIONS) {
    for (const m of ['count']) acc.touch(`${dir}.${m}`, 'total', 'count')
    for (const m of ['amount', 'principal', 'commission', 'platform_fee', 'operator_fee', 'refund_due', 'residual'])
      acc.touch(`${dir}.${m}`, 'total', 'msat')
    for (const k of LEG_KINDS) acc.touch(`${dir}.legs.${k}`, 'total', 'msat')
    for (const cur of currencies) {
      acc.touch(`${dir}.fiat`, 'total', `minor_${cur}`)
      acc.touch(`${dir}.commission_fiat`, 'total', `minor_${cur}`)
      acc.touch(`${dir}.legs.fiat`, 'total', `minor_${cur}`)
    }
  }

  // Settlements: volumes per direction, in total and per machine.
  const counted = new Map<string, { dir: string; currency: string | null }>()
  for (let r = 0; r < tx.size; r++) {
    const status = tx.str(r, 'status')
    if (status === 'rejected') {
      acc.add('settlements.rejected', 'total', 'count', 1n)
      continue
    }
    if (status === 'errored') acc.add('settlements.errored', 'total', 'count', 1n)
    const dir = tx.str(r, 'direction')
    if (dir !== 'cash_out' && dir !== 'cash_in')
      throw new TableCellError(
        tx.t.file,
        tx.line(r),
        'direction',
        `'${dir.slice(0, 20)}' is neither cash_out nor cash_in`,
      )
    const cur = tx.currencyOf(r, 'fiat_minor')
    counted.set(tx.str(r, 'settlement_id'), { dir, currency: cur })
    const scopes = ['total', `machine:${tx.str(r, 'machine_id')}`]
    const amount = tx.int(r, 'amount_msat')
    const principal = tx.int(r, 'principal_msat')
    for (const scope of scopes) {
      acc.add(`${dir}.count`, scope, 'count', 1n)
      acc.add(`${dir}.amount`, scope, 'msat', amount)
      if (cur) {
        acc.add(`${dir}.fiat`, scope, `minor_${cur}`, tx.int(r, `fiat_minor_${cur}`))
        acc.add(`${dir}.commission_fiat`, scope, `minor_${cur}`, tx.int(r, `commission_fiat_minor_${cur}`))
      }
      acc.add(`${dir}.principal`, scope, 'msat', principal)
      acc.add(`${dir}.commission`, scope, 'msat', tx.int(r, 'commission_msat'))
      acc.add(`${dir}.platform_fee`, scope, 'msat', tx.int(r, 'platform_fee_msat'))
      acc.add(`${dir}.operator_fee`, scope, 'msat', tx.int(r, 'operator_fee_msat'))
      acc.add(`${dir}.refund_due`, scope, 'msat', tx.int(r, 'refund_due_msat'))
    }
    // The waterfall's start: cash-out legs share the wire amount; cash-in legs plus the wire make the principal.
    acc.add(`${dir}.residual`, 'total', 'msat', dir === 'cash_out' ? amount : principal - amount)
  }

  // Legs: the waterfall per direction, and what each split earned.
  const legFiatCurrencies = legs.currencies('fiat_minor')
  let operatorCommission = 0n
  for (let r = 0; r < legs.size; r++) {
    const s = counted.get(legs.str(r, 'settlement_id'))
    if (!s) continue
    const kind = legs.str(r, 'kind')
    if (!(LEG_KINDS as readonly string[]).includes(kind))
      throw new TableCellError(legs.t.file, legs.line(r), 'kind', `unknown leg kind '${kind.slice(0, 20)}'`)
    const msat = legs.int(r, 'amount_msat')
    acc.add(`${s.dir}.legs.${kind}`, 'total', 'msat', msat)
    acc.add(`${s.dir}.residual`, 'total', 'msat', -msat)
    if (kind === 'split') {
      acc.add(`${s.dir}.legs.split`, `split:${legs.str(r, 'recipient_id')}`, 'msat', msat)
      operatorCommission += msat
    }
    for (const cur of legFiatCurrencies) {
      const v = legs.int(r, `fiat_minor_${cur}`, true)
      if (v !== null) acc.add(`${s.dir}.legs.fiat`, 'total', `minor_${cur}`, v)
    }
  }

  // Payouts: what left the wallet to recipients, and what routing cost.
  acc.touch('payouts.paid.count', 'total', 'count')
  acc.touch('payouts.paid.amount', 'total', 'msat')
  acc.touch('payouts.routing_fees', 'total', 'msat')
  let routing = 0n
  for (let r = 0; r < payouts.size; r++) {
    const state = payouts.str(r, 'state')
    if (state === 'paid') {
      acc.add('payouts.paid.count', 'total', 'count', 1n)
      acc.add('payouts.paid.amount', 'total', 'msat', payouts.int(r, 'amount_msat'))
      const fee = payouts.int(r, 'routing_fee_msat', true) ?? 0n
      acc.add('payouts.routing_fees', 'total', 'msat', fee)
      routing += fee
    } else acc.add(`payouts.${state}.count`, 'total', 'count', 1n)
  }
  acc.add('operator.commission', 'total', 'msat', operatorCommission)
  acc.add('operator.net_result', 'total', 'msat', operatorCommission - routing)

  // LPs: opening and closing fiat per currency.
  for (let r = 0; r < lpBal.size; r++) {
    const cur = lpBal.currencyOf(r, 'opening_minor')
    if (!cur) continue
    for (const [metric, col] of [
      ['lps.opening', 'opening_minor'],
      ['lps.deposits', 'deposits_minor'],
      ['lps.allocations', 'allocations_minor'],
      ['lps.dust', 'dust_minor'],
      ['lps.closing', 'closing_minor'],
    ] as const)
      acc.add(metric, 'total', `minor_${cur}`, lpBal.int(r, `${col}_${cur}`))
  }
  return acc.lines()
}

/** summary.csv's rows, in the order computeSummary produced them. */
export function summaryRows(lines: readonly SummaryLine[]): string[][] {
  return lines.map((l) => [l.metric, l.scope, l.unit, l.value.toString()])
}

function need(tables: ReadonlyMap<string, ReadTable>, file: string): ReadTable {
  const t = tables.get(file)
  if (!t) throw new TableCellError(file, 0, '-', 'the file is missing from the export')
  return t
}

/** Looks a line up by metric and scope (and unit), for the report. */
export function summaryValue(lines: readonly SummaryLine[], metric: string, scope = 'total', unit?: string): bigint {
  const l = lines.find((x) => x.metric === metric && x.scope === scope && (unit === undefined || x.unit === unit))
  return l?.value ?? 0n
}
