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

// ---- amounts (Liquidity providers screen, issue 9) ----
// Amounts arrive as decimal strings of integer units (fiat minor units, msat). They are turned into a decimal
// string by digit shifting (formatMinor) and only then handed to Intl.NumberFormat, which formats a decimal string
// exactly — no float ever holds money. `locale` defaults to the runtime's (the operator's system) locale.

/** Fiat minor units per locale: ("123450", "GTQ") → "GTQ 1,234.50" (en-US), "1.234,50 GTQ" (de-DE). */
export function formatFiatAmount(minor: string | bigint, currency: string, locale?: string): string {
  if (!isCurrency(currency)) return `${minor} ${currency}`
  const e = currencyExponent(currency)
  const nf = new Intl.NumberFormat(locale, {
    style: 'currency',
    currency,
    currencyDisplay: 'code',
    minimumFractionDigits: e,
    maximumFractionDigits: e,
  })
  // A decimal string is formatted exactly (ECMA-402 "Intl.NumberFormat v3"); the cast is for older lib typings.
  return nf.format(formatMinor(BigInt(minor), currency) as unknown as number)
}

/** msat as sats per locale: whole sats plain ("1,234 sats"), a sub-sat rest kept ("1,234.567 sats"). */
export function formatSatsAmount(msat: string | bigint, locale?: string): string {
  const m = BigInt(msat)
  const neg = m < 0n
  const abs = neg ? -m : m
  const rest = abs % 1000n
  const text = `${neg ? '-' : ''}${abs / 1000n}${rest === 0n ? '' : `.${rest.toString().padStart(3, '0')}`}`
  const nf = new Intl.NumberFormat(locale, { maximumFractionDigits: 3 })
  return `${nf.format(text as unknown as number)} ${abs === 1000n ? 'sat' : 'sats'}`
}
