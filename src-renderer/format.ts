// Display formatting for the renderer. Time zone is the operator's configured IANA zone so every time on screen
// matches the day boundaries the ledger uses (docs/settlement.md, "used today").
import { currencyExponent, formatMinor, isCurrency } from '../src-shared/money/iso4217'
import { formatLocalDateTime } from '../src-shared/notices/format'

/**
 * Formats an epoch-ms instant as `2026-11-21 19:42` in the given IANA zone (or the system zone): the same
 * formatter the notices and statements use, so a time reads the same on screen and in an LP's DM.
 */
export function formatDateTime(ms: number, timeZone?: string): string {
  return formatLocalDateTime(ms, timeZone)
}

/** Like formatDateTime, but `today 19:42` when the instant falls on the current day in that zone. */
export function formatWhen(ms: number, timeZone?: string, nowMs: number = Date.now()): string {
  const then = formatDateTime(ms, timeZone)
  const now = formatDateTime(nowMs, timeZone)
  return then.slice(0, 10) === now.slice(0, 10) ? `today ${then.slice(11)}` : then
}

/** The IANA zones the runtime knows, with UTC first; falls back to a short list on runtimes without the API. */
export function timeZones(): string[] {
  const all = typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : []
  const list = all.length > 0 ? all : ['Europe/Berlin', 'Europe/London', 'America/New_York', 'America/Los_Angeles']
  return ['UTC', ...list.filter((z) => z !== 'UTC')]
}

export function systemTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC'
}

// ---- amounts per locale and currency (issue 9) ----
// The main side sends amounts as decimal strings of integer minor units / msat. They are shown through
// Intl.NumberFormat with the exact decimal string (formatMinor prints the digits; NumberFormat accepts a decimal
// string without turning it into a float), so grouping and symbols follow the operator's locale and nothing is
// rounded. The renderer never computes with these amounts.

/** The locale amounts are shown in: the browser's (Electron follows the OS). */
export function uiLocale(): string {
  return typeof navigator !== 'undefined' && navigator.language ? navigator.language : 'en-US'
}

const fiatFormatters = new Map<string, Intl.NumberFormat>()

/**
 * How the currency is named: `symbol` ("Q2,000.00", the default on the dashboard and settlements) or `code`
 * ("GTQ 2,000.00", on the LP screen and statements, where an LP may hold a currency other than the operator's and a
 * symbol such as "$" would not say which).
 */
export type CurrencyDisplay = 'symbol' | 'code'

function fiat(minor: string | bigint, currency: string, locale: string, display: CurrencyDisplay): string {
  const value = typeof minor === 'bigint' ? minor : /^-?\d+$/.test(minor) ? BigInt(minor) : null
  if (value === null) return `${minor} ${currency}`
  if (!isCurrency(currency)) return `${currency} ${value.toString()}`
  const key = `${locale}|${currency}|${display}`
  let f = fiatFormatters.get(key)
  if (!f) {
    const e = currencyExponent(currency)
    f = new Intl.NumberFormat(locale, {
      style: 'currency',
      currency,
      currencyDisplay: display,
      minimumFractionDigits: e,
      maximumFractionDigits: e,
    })
    fiatFormatters.set(key, f)
  }
  // A decimal string is formatted exactly (Intl.NumberFormat v3); the cast is for older DOM typings.
  return f.format(formatMinor(value, currency) as unknown as number)
}

/** "200000" GTQ → "Q2,000.00" (en-US) or "2.000,00 GTQ" (de-DE); an unknown code falls back to "GTQ 2000.00". */
export function formatFiatAmount(minor: string | bigint, currency: string, locale: string = uiLocale()): string {
  return fiat(minor, currency, locale, 'symbol')
}

/** Like formatFiatAmount with the ISO code instead of the symbol: "123450" GTQ → "GTQ 1,234.50" (en-US). */
export function formatFiatCode(minor: string | bigint, currency: string, locale: string = uiLocale()): string {
  return fiat(minor, currency, locale, 'code')
}

const satFormatters = new Map<string, Intl.NumberFormat>()

/** msat as whole sats with the locale's grouping ("266,800 sats"); a sub-sat remainder keeps its three digits. */
export function formatSatsAmount(msat: string | bigint, locale: string = uiLocale()): string {
  const value = typeof msat === 'bigint' ? msat : /^-?\d+$/.test(msat) ? BigInt(msat) : null
  if (value === null) return `${msat} msat`
  let f = satFormatters.get(locale)
  if (!f) {
    f = new Intl.NumberFormat(locale, { maximumFractionDigits: 3 })
    satFormatters.set(locale, f)
  }
  const neg = value < 0n
  const abs = neg ? -value : value
  const whole = abs / 1000n
  const rem = abs % 1000n
  const text = rem === 0n ? whole.toString() : `${whole}.${rem.toString().padStart(3, '0')}`
  return `${neg ? '-' : ''}${f.format(text as unknown as number)} ${abs === 1000n ? 'sat' : 'sats'}`
}

/** A count with the locale's grouping. */
export function formatCount(n: number, locale: string = uiLocale()): string {
  return new Intl.NumberFormat(locale).format(n)
}
