// Amounts per locale for the Liquidity providers screen (docs/lp-screen.md, "Amounts and errors"): fiat minor
// units with the ISO 4217 code and exponent of their currency, msat as sats. Amounts arrive as decimal strings of
// integer units; they are turned into a decimal string by digit shifting (formatMinor) and only then handed to
// Intl.NumberFormat, which formats a decimal string exactly — no float ever holds money. `locale` defaults to the
// runtime's (the operator's system) locale.
import { currencyExponent, formatMinor, isCurrency } from '../src-shared/money/iso4217'

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
