// Date formatting in the operator's zone: the same instant shows the wall-clock time of the chosen zone.
import { describe, expect, it } from 'vitest'
import { formatDateTime, formatFiatAmount, formatFiatCode, formatSatsAmount, formatWhen, timeZones } from './format'

// 2026-11-21T23:30:00Z
const T = Date.UTC(2026, 10, 21, 23, 30)

describe('formatDateTime', () => {
  it('renders the wall clock of the given zone', () => {
    expect(formatDateTime(T, 'UTC')).toBe('2026-11-21 23:30')
    expect(formatDateTime(T, 'Europe/Lisbon')).toBe('2026-11-21 23:30')
    expect(formatDateTime(T, 'Europe/Berlin')).toBe('2026-11-22 00:30')
    expect(formatDateTime(T, 'America/New_York')).toBe('2026-11-21 18:30')
  })

  it('uses 00 for midnight, not 24', () => {
    expect(formatDateTime(Date.UTC(2026, 0, 1, 0, 5), 'UTC')).toBe('2026-01-01 00:05')
  })
})

describe('formatWhen', () => {
  it('says "today" only when the day matches in that zone', () => {
    const now = Date.UTC(2026, 10, 21, 23, 50)
    expect(formatWhen(T, 'UTC', now)).toBe('today 23:30')
    // In Berlin both instants fall on the 22nd.
    expect(formatWhen(T, 'Europe/Berlin', now)).toBe('today 00:30')
    expect(formatWhen(T - 86_400_000, 'UTC', now)).toBe('2026-11-20 23:30')
  })
})

describe('timeZones', () => {
  it('puts UTC first, once, and includes common zones', () => {
    const z = timeZones()
    expect(z[0]).toBe('UTC')
    expect(z.filter((x) => x === 'UTC')).toHaveLength(1)
    expect(z).toContain('Europe/Lisbon')
  })
})

describe('formatFiatAmount / formatSatsAmount', () => {
  it('formats exact minor units per locale and currency exponent, without floats', () => {
    expect(formatFiatAmount('200000', 'USD', 'en-US')).toBe('$2,000.00')
    expect(formatFiatAmount('200000', 'EUR', 'de-DE')).toBe('2.000,00\u00a0€')
    expect(formatFiatAmount('5', 'JPY', 'en-US')).toBe('¥5')
    expect(formatFiatAmount('1234', 'BHD', 'en-US')).toMatch(/1\.234/)
    // Beyond 2^53 the digits stay exact.
    expect(formatFiatAmount('900719925474099312', 'USD', 'en-US')).toBe('$9,007,199,254,740,993.12')
    expect(formatFiatAmount('x', 'USD', 'en-US')).toBe('x USD')
  })

  it('shows sats with grouping and keeps a sub-sat remainder', () => {
    expect(formatSatsAmount('266800000', 'en-US')).toBe('266,800 sats')
    expect(formatSatsAmount('1500', 'en-US')).toBe('1.5 sats')
    expect(formatSatsAmount('1000', 'de-DE')).toBe('1 sat')
    expect(formatSatsAmount('123456789000', 'de-DE')).toBe('123.456.789 sats')
    expect(formatSatsAmount('-2000', 'en-US')).toBe('-2 sats')
  })
})

describe('formatFiatCode / formatSatsAmount (LP screen)', () => {
  it('formats fiat minor units per locale with the currency exponent, exactly (Intl puts a no-break space)', () => {
    expect(formatFiatCode('123450', 'GTQ', 'en-US')).toBe('GTQ\u00a01,234.50')
    expect(formatFiatCode('123450', 'EUR', 'de-DE')).toBe('1.234,50\u00a0EUR')
    expect(formatFiatCode('5', 'JPY', 'en-US')).toBe('JPY\u00a05')
    // Beyond 2^53: digit for digit, no float rounding.
    expect(formatFiatCode('900719925474099312', 'USD', 'en-US')).toBe('USD\u00a09,007,199,254,740,993.12')
    expect(formatFiatCode(-250n, 'USD', 'en-US')).toBe('-USD\u00a02.50')
  })

  it('shows msat as sats, keeping a sub-sat rest', () => {
    expect(formatSatsAmount('1234000', 'en-US')).toBe('1,234 sats')
    expect(formatSatsAmount('1234567', 'en-US')).toBe('1,234.567 sats')
    expect(formatSatsAmount('1000', 'en-US')).toBe('1 sat')
    expect(formatSatsAmount('1234000', 'de-DE')).toBe('1.234 sats')
  })
})
