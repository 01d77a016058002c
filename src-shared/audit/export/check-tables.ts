// The row-level half of `verify-audit` (docs/audit-export.md "Verification recipe", steps 3–6): every derived
// cell of the CSV files is recomputed from the cells it derives from, and every derived table and summary.csv is
// rebuilt from the others and compared row by row. Pure: the CLI reads the files, this says what differs, naming
// the file, the line and the column.
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js'
import { currencyExponent } from '../../money/iso4217'
import { Cols, computeSummary, type ReadTable, TableCellError } from './totals'

export interface Problem {
  file: string
  /** 1-based line in the file (the header is line 1); 0 when the problem is the file as a whole. */
  line: number
  column?: string
  message: string
}

export const problemText = (p: Problem): string =>
  `${p.file}${p.line > 0 ? ` line ${p.line}` : ''}${p.column ? `, column ${p.column}` : ''}: ${p.message}`

const HEX64 = /^[0-9a-f]{64}$/

/** sha256(preimage) = paymentHash, both 64 lower-case hex. */
export function preimageMatches(preimage: string, paymentHash: string): boolean {
  if (!HEX64.test(preimage) || !HEX64.test(paymentHash)) return false
  return bytesToHex(sha256(hexToBytes(preimage))) === paymentHash
}

class Sink {
  readonly list: Problem[] = []
  constructor(private readonly max: number) {}
  add(p: Problem): void {
    if (this.list.length < this.max) this.list.push(p)
  }
  /** Runs `fn`, turning a TableCellError into a problem; answers false when it threw. */
  guard(fn: () => void): boolean {
    try {
      fn()
      return true
    } catch (e) {
      if (e instanceof TableCellError) {
        this.add({ file: e.file, line: e.line, column: e.column, message: e.message.replace(/^.*?: /, '') })
        return false
      }
      throw e
    }
  }
}

/** Checks every derived cell and table. `max` caps the list (the first problems are the useful ones). */
export function checkTables(tables: ReadonlyMap<string, ReadTable>, max = 50): Problem[] {
  const sink = new Sink(max)
  const get = (f: string) => {
    const t = tables.get(f)
    if (!t) sink.add({ file: f, line: 0, message: 'missing from the export' })
    return t
  }
  const txT = get('transactions.csv')
  const legsT = get('legs.csv')
  const payT = get('payouts.csv')
  const lpT = get('lp-statements.csv')
  const balT = get('lp-balances.csv')
  const cashT = get('cash-by-machine.csv')
  const walletT = get('wallet-reconciliation.csv')
  const sumT = get('summary.csv')
  if (!txT || !legsT || !payT || !lpT || !balT || !cashT || !walletT || !sumT) return sink.list

  const tx = new Cols(txT)
  const settlementInfo = new Map<
    string,
    {
      line: number
      dir: string
      status: string
      amount: bigint
      commission: bigint | null
      platform: bigint | null
      operator: bigint | null
      fiat: bigint | null
      currency: string | null
    }
  >()
  for (let r = 0; r < tx.size; r++) {
    sink.guard(() => {
      const line = tx.line(r)
      const id = tx.str(r, 'settlement_id')
      const at = (column: string, message: string) => sink.add({ file: txT.file, line, column, message })
      if (settlementInfo.has(id)) at('settlement_id', `settlement ${id} is listed twice`)
      const status = tx.str(r, 'status')
      const dir = tx.str(r, 'direction')
      const amount = tx.int(r, 'amount_msat')
      const cur = tx.currencyOf(r, 'fiat_minor')
      const fiat = cur ? tx.int(r, `fiat_minor_${cur}`) : null
      const commission = tx.int(r, 'commission_msat', true)
      const principal = tx.int(r, 'principal_msat', true)
      const platform = tx.int(r, 'platform_fee_msat', true)
      const operator = tx.int(r, 'operator_fee_msat', true)
      const refund = tx.int(r, 'refund_due_msat', true)
      settlementInfo.set(id, { line, dir, status, amount, commission, platform, operator, fiat, currency: cur })
      const hash = tx.str(r, 'payment_hash')
      const pre = tx.str(r, 'preimage')
      if (pre !== '' && !preimageMatches(pre, hash))
        at('preimage', `sha256(preimage) is not the payment hash ${hash.slice(0, 16)}…`)
      if (cur && fiat !== null) {
        const rate = tx.int(r, 'rate_msat_per_major', true)
        const want = fiat > 0n ? (amount * 10n ** BigInt(currencyExponent(cur))) / fiat : null
        if (rate !== want)
          at('rate_msat_per_major', `is ${rate ?? 'empty'}; amount_msat and fiat_minor_${cur} give ${want ?? 'empty'}`)
        const cf = tx.int(r, `commission_fiat_minor_${cur}`, true)
        const wantCf = commission !== null && amount > 0n ? (commission * fiat) / amount : null
        if (cf !== wantCf)
          at(
            `commission_fiat_minor_${cur}`,
            `is ${cf ?? 'empty'}; commission_msat, fiat and amount give ${wantCf ?? 'empty'}`,
          )
      }
      if (status === 'rejected') return
      if (commission === null || principal === null || platform === null || operator === null || refund === null) {
        at('commission_msat', 'a booked settlement needs principal, commission, fees and refund')
        return
      }
      if (platform + operator !== commission)
        at('commission_msat', `is ${commission}; platform_fee_msat + operator_fee_msat = ${platform + operator}`)
      if (dir === 'cash_out' && principal + commission + refund !== amount)
        at('amount_msat', `is ${amount}; principal + commission + refund due = ${principal + commission + refund}`)
      if (dir === 'cash_in' && principal - commission !== amount)
        at('amount_msat', `is ${amount}; principal - commission = ${principal - commission}`)
    })
  }

  // Legs against their settlement: cash-out legs share the wire amount and the fiat; the splits make the
  // operator fee and the platform leg the platform fee.
  const legs = new Cols(legsT)
  const legCur = legs.currencies('fiat_minor')
  const perSettlement = new Map<
    string,
    { all: bigint; platform: bigint; split: bigint; fiat: bigint; firstLine: number }
  >()
  for (let r = 0; r < legs.size; r++) {
    sink.guard(() => {
      const sid = legs.str(r, 'settlement_id')
      if (!settlementInfo.has(sid)) {
        sink.add({
          file: legsT.file,
          line: legs.line(r),
          column: 'settlement_id',
          message: `settlement ${sid} is not in transactions.csv`,
        })
        return
      }
      const e = perSettlement.get(sid) ?? { all: 0n, platform: 0n, split: 0n, fiat: 0n, firstLine: legs.line(r) }
      const msat = legs.int(r, 'amount_msat')
      const kind = legs.str(r, 'kind')
      e.all += msat
      if (kind === 'platform_fee') e.platform += msat
      if (kind === 'split') e.split += msat
      for (const cur of legCur) e.fiat += legs.int(r, `fiat_minor_${cur}`, true) ?? 0n
      perSettlement.set(sid, e)
    })
  }
  for (const [sid, s] of settlementInfo) {
    if (s.status === 'rejected' || s.commission === null) continue
    const e = perSettlement.get(sid) ?? { all: 0n, platform: 0n, split: 0n, fiat: 0n, firstLine: 0 }
    const at = (message: string) =>
      sink.add({
        file: legsT.file,
        line: e.firstLine,
        column: 'amount_msat',
        message: `settlement ${sid} (transactions.csv line ${s.line}): ${message}`,
      })
    if (s.dir === 'cash_out' && e.all !== s.amount) at(`its legs sum to ${e.all} msat; its amount_msat is ${s.amount}`)
    if (s.dir === 'cash_in' && e.all !== s.commission)
      at(`its legs sum to ${e.all} msat; its commission_msat is ${s.commission}`)
    if (e.platform !== s.platform) at(`its platform_fee legs sum to ${e.platform}; platform_fee_msat is ${s.platform}`)
    if (e.split !== s.operator) at(`its split legs sum to ${e.split}; operator_fee_msat is ${s.operator}`)
    if (s.fiat !== null && e.fiat !== s.fiat) at(`its legs' fiat sums to ${e.fiat}; fiat_minor is ${s.fiat}`)
  }

  // Payout preimages.
  const pay = new Cols(payT)
  for (let r = 0; r < pay.size; r++) {
    sink.guard(() => {
      const pre = pay.str(r, 'preimage')
      if (pre !== '' && !preimageMatches(pre, pay.str(r, 'payment_hash')))
        sink.add({
          file: payT.file,
          line: pay.line(r),
          column: 'preimage',
          message: 'sha256(preimage) is not the payment hash',
        })
      if (pay.str(r, 'state') === 'paid' && pre === '')
        sink.add({
          file: payT.file,
          line: pay.line(r),
          column: 'preimage',
          message: 'a paid payout without its preimage',
        })
    })
  }

  // LP statements: each balance is the previous one plus the delta, starting from the roll-up's opening.
  const bal = new Cols(balT)
  const lp = new Cols(lpT)
  const running = new Map<string, bigint>()
  const balLine = new Map<string, number>()
  for (let r = 0; r < bal.size; r++) {
    sink.guard(() => {
      const cur = bal.currencyOf(r, 'opening_minor')
      if (cur) running.set(bal.str(r, 'lp_id'), bal.int(r, `opening_minor_${cur}`))
      balLine.set(bal.str(r, 'lp_id'), r)
    })
  }
  const sums = new Map<string, { dep: bigint; alloc: bigint; dust: bigint; n: number }>()
  for (let r = 0; r < lp.size; r++) {
    sink.guard(() => {
      const id = lp.str(r, 'lp_id')
      const cur = lp.currencyOf(r, 'delta_minor')
      const prev = running.get(id)
      if (prev === undefined || !cur) {
        sink.add({
          file: lpT.file,
          line: lp.line(r),
          column: 'lp_id',
          message: `LP ${id} has no row in lp-balances.csv`,
        })
        return
      }
      const delta = lp.int(r, `delta_minor_${cur}`)
      const after = lp.int(r, `balance_after_minor_${cur}`)
      if (prev + delta !== after)
        sink.add({
          file: lpT.file,
          line: lp.line(r),
          column: `balance_after_minor_${cur}`,
          message: `is ${after}; the previous balance ${prev} + delta ${delta} = ${prev + delta}`,
        })
      running.set(id, after)
      const s = sums.get(id) ?? { dep: 0n, alloc: 0n, dust: 0n, n: 0 }
      const kind = lp.str(r, 'kind')
      if (kind.startsWith('deposit')) s.dep += delta
      else if (kind.startsWith('allocation')) s.alloc += delta
      else if (kind === 'dust') s.dust += delta
      s.n++
      sums.set(id, s)
    })
  }
  for (let r = 0; r < bal.size; r++) {
    sink.guard(() => {
      const id = bal.str(r, 'lp_id')
      const cur = bal.currencyOf(r, 'opening_minor')
      if (!cur) return
      const s = sums.get(id) ?? { dep: 0n, alloc: 0n, dust: 0n, n: 0 }
      const opening = bal.int(r, `opening_minor_${cur}`)
      const checks: [string, bigint, bigint][] = [
        [`deposits_minor_${cur}`, bal.int(r, `deposits_minor_${cur}`), s.dep],
        [`allocations_minor_${cur}`, bal.int(r, `allocations_minor_${cur}`), s.alloc],
        [`dust_minor_${cur}`, bal.int(r, `dust_minor_${cur}`), s.dust],
        [`closing_minor_${cur}`, bal.int(r, `closing_minor_${cur}`), opening + s.dep + s.alloc + s.dust],
        ['entries', bal.int(r, 'entries'), BigInt(s.n)],
      ]
      for (const [column, have, want] of checks)
        if (have !== want)
          sink.add({
            file: balT.file,
            line: bal.line(r),
            column,
            message: `is ${have}; lp-statements.csv gives ${want}`,
          })
    })
  }

  // Cash per machine, from the booked transactions.
  const cash = new Cols(cashT)
  const perMachine = new Map<string, { ins: bigint; outs: bigint; inserted: bigint; dispensed: bigint }>()
  for (const r of rowsOf(tx)) {
    if (tx.str(r, 'status') === 'rejected') continue
    const s = settlementInfo.get(tx.str(r, 'settlement_id'))
    if (!s || s.fiat === null) continue
    const m = tx.str(r, 'machine_id')
    const e = perMachine.get(m) ?? { ins: 0n, outs: 0n, inserted: 0n, dispensed: 0n }
    if (s.dir === 'cash_in') {
      e.ins++
      e.inserted += s.fiat
    } else {
      e.outs++
      e.dispensed += s.fiat
    }
    perMachine.set(m, e)
  }
  for (let r = 0; r < cash.size; r++) {
    sink.guard(() => {
      const m = cash.str(r, 'machine_id')
      const e = perMachine.get(m) ?? { ins: 0n, outs: 0n, inserted: 0n, dispensed: 0n }
      perMachine.delete(m)
      const cur = cash.currencyOf(r, 'cash_inserted_minor')
      const checks: [string, bigint, bigint][] = [
        ['cash_in_count', cash.int(r, 'cash_in_count'), e.ins],
        ['cash_out_count', cash.int(r, 'cash_out_count'), e.outs],
      ]
      if (cur)
        checks.push(
          [`cash_inserted_minor_${cur}`, cash.int(r, `cash_inserted_minor_${cur}`), e.inserted],
          [`cash_dispensed_minor_${cur}`, cash.int(r, `cash_dispensed_minor_${cur}`), e.dispensed],
          [`net_cash_minor_${cur}`, cash.int(r, `net_cash_minor_${cur}`), e.inserted - e.dispensed],
        )
      for (const [column, have, want] of checks)
        if (have !== want)
          sink.add({
            file: cashT.file,
            line: cash.line(r),
            column,
            message: `is ${have}; transactions.csv gives ${want}`,
          })
    })
  }
  for (const m of perMachine.keys())
    sink.add({ file: cashT.file, line: 0, column: 'machine_id', message: `machine ${m} has transactions but no row` })

  // The wallet's ledger row, from the transactions and the paid payouts.
  const wallet = new Cols(walletT)
  sink.guard(() => {
    let inflow = 0n
    let outflow = 0n
    let fees = 0n
    for (const s of settlementInfo.values()) {
      if (s.status === 'rejected') continue
      if (s.dir === 'cash_out') inflow += s.amount
      else outflow += s.amount
    }
    for (let r = 0; r < pay.size; r++) {
      if (pay.str(r, 'state') !== 'paid') continue
      outflow += pay.int(r, 'amount_msat')
      fees += pay.int(r, 'routing_fee_msat', true) ?? 0n
    }
    const r = rowsOf(wallet).find((i) => wallet.str(i, 'kind') === 'ledger')
    if (r === undefined) {
      sink.add({ file: walletT.file, line: 0, column: 'kind', message: 'no ledger row' })
      return
    }
    const checks: [string, bigint, bigint][] = [
      ['inflow_msat', wallet.int(r, 'inflow_msat'), inflow],
      ['outflow_msat', wallet.int(r, 'outflow_msat'), outflow],
      ['fees_msat', wallet.int(r, 'fees_msat'), fees],
      ['net_msat', wallet.int(r, 'net_msat'), inflow - outflow - fees],
    ]
    for (const [column, have, want] of checks)
      if (have !== want)
        sink.add({
          file: walletT.file,
          line: wallet.line(r),
          column,
          message: `is ${have}; transactions.csv and payouts.csv give ${want}`,
        })
  })

  // summary.csv, recomputed whole and compared line by line.
  sink.guard(() => {
    const want = computeSummary(tables)
    const sum = new Cols(sumT)
    const key = (m: string, s: string, u: string) => `${m} ${s} ${u}`
    const wantMap = new Map(want.map((l) => [key(l.metric, l.scope, l.unit), l.value]))
    const seen = new Set<string>()
    for (let r = 0; r < sum.size; r++) {
      const k = key(sum.str(r, 'metric'), sum.str(r, 'scope'), sum.str(r, 'unit'))
      const have = sum.int(r, 'value')
      const w = wantMap.get(k)
      if (seen.has(k))
        sink.add({ file: sumT.file, line: sum.line(r), column: 'metric', message: `${k} is listed twice` })
      seen.add(k)
      if (w === undefined)
        sink.add({
          file: sumT.file,
          line: sum.line(r),
          column: 'metric',
          message: `${k} is not a total of the other files`,
        })
      else if (w !== have)
        sink.add({
          file: sumT.file,
          line: sum.line(r),
          column: 'value',
          message: `${k} is ${have}; the other files give ${w}`,
        })
    }
    for (const k of wantMap.keys())
      if (!seen.has(k)) sink.add({ file: sumT.file, line: 0, column: 'metric', message: `${k} is missing` })
  })
  return sink.list
}

function rowsOf(c: Cols): number[] {
  return Array.from({ length: c.size }, (_, i) => i)
}
