// Amounts per locale: fiat by its currency's exponent with the ISO code, msat as sats, exact beyond 2^53.
import { describe, expect, it } from 'vitest'
import { formatFiatAmount, formatSatsAmount } from './format-amounts'

describe('formatFiatAmount / formatSatsAmount', () => {
  it('formats fiat minor units per locale with the currency exponent, exactly (Intl puts a no-break space)', () => {
    expect(formatFiatAmount('123450', 'GTQ', 'en-US')).toBe('GTQ\u00a01,234.50')
    expect(formatFiatAmount('123450', 'EUR', 'de-DE')).toBe('1.234,50\u00a0EUR')
    expect(formatFiatAmount('5', 'JPY', 'en-US')).toBe('JPY\u00a05')
    // Beyond 2^53: digit for digit, no float rounding.
    expect(formatFiatAmount('900719925474099312', 'USD', 'en-US')).toBe('USD\u00a09,007,199,254,740,993.12')
    expect(formatFiatAmount(-250n, 'USD', 'en-US')).toBe('-USD\u00a02.50')
  })

  it('shows msat as sats, keeping a sub-sat rest', () => {
    expect(formatSatsAmount('1234000', 'en-US')).toBe('1,234 sats')
    expect(formatSatsAmount('1234567', 'en-US')).toBe('1,234.567 sats')
    expect(formatSatsAmount('1000', 'en-US')).toBe('1 sat')
    expect(formatSatsAmount('1234000', 'de-DE')).toBe('1.234 sats')
  })
})
