// Calendar months in the operator's zone: bounds at local midnight, across DST changes and the year boundary.
import { describe, expect, it } from 'vitest'
import { localDayStartMs, localMonthStartMs, monthOf, previousMonth } from './period'

describe('month periods', () => {
  it('starts months at local midnight, including across a DST change', () => {
    expect(localMonthStartMs(2026, 3, 'UTC')).toBe(Date.UTC(2026, 2, 1))
    expect(localMonthStartMs(2026, 3, 'America/Guatemala')).toBe(Date.UTC(2026, 2, 1, 6))
    // New York: EST (−5) on 1 March, EDT (−4) on 1 April.
    expect(monthOf(Date.UTC(2026, 2, 15), 'America/New_York')).toEqual({
      period: '2026-03',
      fromMs: Date.UTC(2026, 2, 1, 5),
      untilMs: Date.UTC(2026, 3, 1, 4),
    })
    // A zone ahead of UTC: Tokyo's April starts on 31 March 15:00 UTC.
    expect(localMonthStartMs(2026, 4, 'Asia/Tokyo')).toBe(Date.UTC(2026, 2, 31, 15))
  })

  it('takes the month in the zone, not in UTC, and wraps the year', () => {
    // 1 Jan 03:00 UTC is still 31 Dec in Guatemala: the month is December, the previous one November.
    expect(monthOf(Date.UTC(2026, 0, 1, 3), 'America/Guatemala').period).toBe('2025-12')
    expect(previousMonth(Date.UTC(2026, 0, 1, 3), 'America/Guatemala')).toEqual({
      period: '2025-11',
      fromMs: Date.UTC(2025, 10, 1, 6),
      untilMs: Date.UTC(2025, 11, 1, 6),
    })
    expect(previousMonth(Date.UTC(2026, 0, 15), 'UTC').period).toBe('2025-12')
  })
})

describe('localDayStartMs', () => {
  it('is local midnight of that day in the zone, across a DST change', () => {
    expect(localDayStartMs('2026-11-21', 'UTC')).toBe(Date.UTC(2026, 10, 21))
    expect(localDayStartMs('2026-11-21', 'Europe/Berlin')).toBe(Date.UTC(2026, 10, 20, 23))
    // Berlin goes to summer time on 2026-03-29: that day starts at 23:00 UTC the day before (still winter time).
    expect(localDayStartMs('2026-03-29', 'Europe/Berlin')).toBe(Date.UTC(2026, 2, 28, 23))
    expect(localDayStartMs('2026-03-30', 'Europe/Berlin')).toBe(Date.UTC(2026, 2, 29, 22))
    expect(() => localDayStartMs('21.11.2026', 'UTC')).toThrow(/not a day/)
  })
})
