// Exact money formatting for notices and statements (docs/settlement.md): amounts arrive as bigint msat or bigint fiat minor
// units and are printed digit by digit, never through a float. Fiat uses the ISO 4217 exponent of its currency
// (src-shared/money/iso4217.ts). Grouping uses a thin comma every three digits so an LP reading on a phone sees the
// same string the statement PDF shows.
import { currencyExponent, isCurrency } from '../money/iso4217'

/** "1234567" → "1,234,567". Only digits are accepted. */
export function groupThousands(digits: string): string {
  if (!/^[0-9]+$/.test(digits)) throw new RangeError(`not a digit string: ${JSON.stringify(digits)}`)
  return digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',')
}

/**
 * msat as sats: whole sats are printed without decimals ("1,234 sats"); a sub-sat remainder is printed with the
 * three msat digits ("1,234.567 sats") so nothing is rounded away. Negative amounts keep their sign.
 */
export function formatSats(msat: bigint): string {
  const neg = msat < 0n
  const abs = neg ? -msat : msat
  const whole = groupThousands((abs / 1000n).toString())
  const rem = abs % 1000n
  const frac = rem === 0n ? '' : `.${rem.toString().padStart(3, '0')}`
  const unit = abs === 1000n ? 'sat' : 'sats'
  return `${neg ? '-' : ''}${whole}${frac} ${unit}`
}

/** Fiat minor units with the currency code and grouping: (200000n, 'GTQ') → "GTQ 2,000.00", (5n, 'JPY') → "JPY 5". */
export function formatFiat(minor: bigint, currency: string): string {
  if (!isCurrency(currency)) throw new RangeError(`unknown ISO 4217 currency code: ${JSON.stringify(currency)}`)
  const e = currencyExponent(currency)
  const neg = minor < 0n
  const digits = (neg ? -minor : minor).toString().padStart(e + 1, '0')
  const whole = groupThousands(e === 0 ? digits : digits.slice(0, -e))
  const frac = e === 0 ? '' : `.${digits.slice(-e)}`
  return `${neg ? '-' : ''}${currency} ${whole}${frac}`
}

/**
 * Fiat per whole bitcoin implied by `fiatMinor` bought for `msat`, floored to a minor unit: fiatMinor · 10^11 / msat
 * (10^11 msat = 1 BTC). Null when msat is 0 (no rate).
 */
export function fiatPerBtcMinor(fiatMinor: bigint, msat: bigint): bigint | null {
  if (msat <= 0n) return null
  return (fiatMinor * 100_000_000_000n) / msat
}

/** The fiat value of `msat` at the rate `refFiatMinor` per `refMsat`, floored (used for "fiat equivalent"). */
export function fiatAtRate(msat: bigint, refFiatMinor: bigint, refMsat: bigint): bigint {
  if (refMsat <= 0n) throw new RangeError('refMsat must be > 0')
  return (msat * refFiatMinor) / refMsat
}

/**
 * One formatter per zone: building an Intl.DateTimeFormat costs far more than formatting with it, and a list screen
 * formats one time per row (a page of the settlement history is 50 of them).
 */
const dateTimeFormatters = new Map<string, Intl.DateTimeFormat>()
function localDateTimeFormatter(timeZone: string | undefined): Intl.DateTimeFormat {
  const key = timeZone ?? ''
  let f = dateTimeFormatters.get(key)
  if (!f) {
    f = new Intl.DateTimeFormat('en-CA', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    })
    // A zone name comes from settings; the map stays as small as the zones the operator ever picked.
    dateTimeFormatters.set(key, f)
  }
  return f
}

/**
 * "2026-11-21 14:03" in `timeZone` (IANA; the runtime's own zone when omitted). Intl is part of the language, so
 * this stays pure. `hourCycle: 'h23'` so midnight reads 00, never 24.
 */
export function formatLocalDateTime(ms: number, timeZone?: string): string {
  const parts = localDateTimeFormatter(timeZone).formatToParts(new Date(ms))
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? ''
  return `${get('year')}-${get('month')}-${get('day')} ${get('hour')}:${get('minute')}`
}
