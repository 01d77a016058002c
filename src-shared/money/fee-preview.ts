// Fee preview (docs/settings.md "Fees and splits"): the sample transaction the Settings screen shows while the
// operator edits the platform fee and their commission. It reads what the operator TYPED (a fiat amount in major
// units, percentages, a bitcoin price) and runs the settlement engine (./settlement.ts) on it, so the screen shows
// exactly what booking would compute; the renderer does no money math of its own.
//
// Every refusal names the field and speaks in the units typed ("15 %", "EUR 0.01"), never in ppm or minor units.
// Pure code: no I/O, no floats on the money path (decimal text is parsed into integers digit by digit).
import { currencyExponent, formatMinor, isCurrency } from './iso4217'
import { MAX_FEE_PPM, PPM_ONE } from './ppm'
import { computeSettlement, type Direction, type SettlementResult, type SplitInput } from './settlement'

/** The fields of the form, as typed. */
export interface FeePreviewInput {
  direction: Direction
  currency: string
  /** Fiat amount in major units, e.g. "200" or "200.50". */
  amount: string
  /** Bitcoin price in the currency, per whole BTC, e.g. "60000". */
  btcPrice: string
  /** Percentages, e.g. "1", "2.5". */
  platformPercent: string
  commissionPercent: string
  /** The commission split weights in force (ppm, summing to 100 %); empty = everything to the operator. */
  splits: readonly SplitInput[]
}

export type FeePreviewField = 'amount' | 'btcPrice' | 'platformPercent' | 'commissionPercent' | 'currency'

export interface FeePreviewLine {
  /** What the line is ("Platform fee", "Split owner", "Liquidity / your float"). */
  label: string
  msat: bigint
}

export interface FeePreviewOk {
  ok: true
  direction: Direction
  /** What crosses the wire: what the customer pays (cash-out) or receives (cash-in). */
  wireMsat: bigint
  principalMsat: bigint
  commissionMsat: bigint
  platformFeeMsat: bigint
  operatorFeeMsat: bigint
  lines: FeePreviewLine[]
  /** The amount the preview was computed for, in minor units, and formatted in major units ("200.00"). */
  fiatMinor: bigint
  fiatText: string
  result: SettlementResult
  platformPpm: number
  operatorPpm: number
}

export interface FeePreviewError {
  ok: false
  field: FeePreviewField
  message: string
}

/** Parses an unsigned decimal with at most `maxDecimals` digits after the point into an integer scaled by 10^scale. */
function parseDecimal(text: string, scale: number): bigint | 'syntax' | 'precision' {
  const t = text.trim().replace(/,/g, '.')
  const m = /^(\d{1,15})(?:\.(\d*))?$/.exec(t) ?? /^()\.(\d+)$/.exec(t)
  if (!m) return 'syntax'
  const frac = m[2] ?? ''
  if (frac.replace(/0+$/, '').length > scale) return 'precision'
  return BigInt((m[1] || '0') + frac.padEnd(scale, '0').slice(0, scale))
}

/** Percent text → ppm ("2.5" → 25,000). Up to four decimals (1 ppm = 0.0001 %). */
export function parsePercent(text: string, label: string): { ok: true; ppm: number } | { ok: false; message: string } {
  if (text.trim() === '') return { ok: false, message: `${label}: enter a percentage, e.g. 1.5` }
  const v = parseDecimal(text, 4)
  if (v === 'syntax') return { ok: false, message: `${label}: enter a number of percent, e.g. 1.5` }
  if (v === 'precision') return { ok: false, message: `${label}: use at most four decimals (0.0001 %)` }
  if (v > BigInt(PPM_ONE)) return { ok: false, message: `${label}: at most 100 %` }
  return { ok: true, ppm: Number(v) }
}

/** ppm → the percent text an operator types ("25000" → "2.5"). */
export function ppmToPercentText(ppm: number): string {
  const whole = Math.trunc(ppm / 10_000)
  const frac = String(ppm % 10_000)
    .padStart(4, '0')
    .replace(/0+$/, '')
  return frac ? `${whole}.${frac}` : String(whole)
}

const percentWords = (ppm: number) => `${ppmToPercentText(ppm)} %`

/** Checks platform + commission against the cap, in percent; null when fine. */
export function feeCapProblem(platformPpm: number, operatorPpm: number, direction: Direction): string | null {
  if (platformPpm + operatorPpm <= MAX_FEE_PPM) return null
  const d = direction === 'cash_out' ? 'Cash-out' : 'Cash-in'
  return `${d}: the platform fee and your commission together may be at most ${percentWords(MAX_FEE_PPM)}; they add up to ${percentWords(platformPpm + operatorPpm)}`
}

const MSAT_PER_BTC = 100_000_000_000n
const TEN_12 = 10n ** 12n

/**
 * The sample transaction for the typed values, or the first refusal naming its field. A cash-out: the customer
 * takes `amount` in cash and pays its bitcoin value at `btcPrice` plus the fees; a cash-in: the customer inserts
 * `amount` and receives its value minus the fees. The wire amount comes from the fee rule the ATM applies; the
 * split of it comes from the engine, which also checks conservation.
 */
export function feePreview(input: FeePreviewInput): FeePreviewOk | FeePreviewError {
  if (!isCurrency(input.currency))
    return { ok: false, field: 'currency', message: 'Currency: choose an ISO 4217 currency code, e.g. EUR' }
  const cur = input.currency
  const exp = currencyExponent(cur)
  const smallest = `${cur} ${formatMinor(1n, cur)}`
  const amount = parseDecimal(input.amount, exp)
  if (input.amount.trim() === '' || amount === 'syntax')
    return { ok: false, field: 'amount', message: `Amount: enter an amount in ${cur}, e.g. 200` }
  if (amount === 'precision')
    return { ok: false, field: 'amount', message: `Amount: ${cur} has no amounts smaller than ${smallest}` }
  if (amount <= 0n) return { ok: false, field: 'amount', message: `Amount: at least ${smallest}` }
  const price = parseDecimal(input.btcPrice, exp)
  if (input.btcPrice.trim() === '' || price === 'syntax')
    return { ok: false, field: 'btcPrice', message: `Bitcoin price: enter the price of one bitcoin in ${cur}` }
  if (price === 'precision')
    return { ok: false, field: 'btcPrice', message: `Bitcoin price: ${cur} has no amounts smaller than ${smallest}` }
  if (price <= 0n) return { ok: false, field: 'btcPrice', message: `Bitcoin price: at least ${smallest}` }
  const pf = parsePercent(input.platformPercent, 'Platform fee')
  if (!pf.ok) return { ok: false, field: 'platformPercent', message: pf.message }
  const of = parsePercent(input.commissionPercent, 'Your commission')
  if (!of.ok) return { ok: false, field: 'commissionPercent', message: of.message }
  const cap = feeCapProblem(pf.ppm, of.ppm, input.direction)
  if (cap) return { ok: false, field: 'commissionPercent', message: cap }

  // The bitcoin value of the amount at the price (floor to the msat): amount/price BTC.
  const valueMsat = (amount * MSAT_PER_BTC) / price
  if (valueMsat === 0n)
    return { ok: false, field: 'amount', message: `Amount: worth less than 1 msat at this bitcoin price` }
  const feeFactor = BigInt(pf.ppm + of.ppm) * BigInt(PPM_ONE) // (X+Y)·(10^6 − D) with no discount
  const wireMsat =
    input.direction === 'cash_out'
      ? (valueMsat * (TEN_12 + feeFactor)) / TEN_12 // the customer pays value + fees
      : (valueMsat * (TEN_12 - feeFactor)) / TEN_12 // the customer receives value − fees
  if (wireMsat <= 0n) return { ok: false, field: 'amount', message: 'Amount: too small to leave anything after fees' }
  const result = computeSettlement({
    direction: input.direction,
    wireMsat,
    fiatMinor: amount,
    fiatRequestedMinor: amount,
    currency: cur,
    platformPpm: pf.ppm,
    operatorPpm: of.ppm,
    discountPpm: 0,
    splits: input.splits,
    lps: [],
  })
  const lines: FeePreviewLine[] = [{ label: 'Platform fee', msat: result.platformFeeMsat }]
  for (const s of result.splits) lines.push({ label: `Commission: ${s.id}`, msat: s.msat })
  if (input.direction === 'cash_out')
    lines.push({ label: 'Bitcoin for the cash (liquidity)', msat: result.principalMsat })
  else lines.push({ label: 'Bitcoin the customer receives', msat: wireMsat })
  return {
    ok: true,
    direction: input.direction,
    wireMsat,
    principalMsat: result.principalMsat,
    commissionMsat: result.commissionMsat,
    platformFeeMsat: result.platformFeeMsat,
    operatorFeeMsat: result.operatorFeeMsat,
    lines,
    fiatMinor: amount,
    fiatText: formatMinor(amount, cur),
    result,
    platformPpm: pf.ppm,
    operatorPpm: of.ppm,
  }
}
