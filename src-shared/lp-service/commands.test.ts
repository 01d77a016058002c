import { describe, expect, it } from 'vitest'
import { localMonthStartMs } from '../notices/period'
import { PeriodError, parseDmCommand, parsePeriod, periodLabel, periodRange } from './commands'

describe('DM commands', () => {
  it('parses the four commands, case- and slash-insensitively', () => {
    expect(parseDmCommand('  Balance ')).toEqual({ kind: 'balance' })
    expect(parseDmCommand('/history')).toEqual({ kind: 'history', period: null })
    expect(parseDmCommand('history 2026-11')).toEqual({
      kind: 'history',
      period: { kind: 'month', year: 2026, month: 11 },
    })
    expect(parseDmCommand('STATEMENT 2026-q4')).toEqual({
      kind: 'statement',
      period: { kind: 'quarter', year: 2026, quarter: 4 },
    })
    expect(parseDmCommand('help')).toEqual({ kind: 'help' })
    expect(parseDmCommand('hola')).toEqual({ kind: 'unknown', word: 'hola' })
  })

  it('refuses a bad or missing period with a PeriodError naming the field', () => {
    for (const t of ['statement', 'statement 2026-13', 'history 2026-Q5', 'statement 1999-01', 'history nov']) {
      let err: unknown
      try {
        parseDmCommand(t)
      } catch (e) {
        err = e
      }
      expect(err, t).toBeInstanceOf(PeriodError)
      expect((err as PeriodError).field).toBe('period')
    }
  })

  it('turns months and quarters into local-midnight windows, across the year end', () => {
    const tz = 'America/Guatemala'
    expect(periodRange(parsePeriod('2026-11'), tz)).toEqual({
      fromMs: localMonthStartMs(2026, 11, tz),
      untilMs: localMonthStartMs(2026, 12, tz),
    })
    expect(periodRange(parsePeriod('2026-Q4'), tz)).toEqual({
      fromMs: localMonthStartMs(2026, 10, tz),
      untilMs: localMonthStartMs(2027, 1, tz),
    })
    expect(periodRange(parsePeriod('2026-12'), 'UTC')).toEqual({
      fromMs: Date.UTC(2026, 11, 1),
      untilMs: Date.UTC(2027, 0, 1),
    })
    expect(periodLabel(parsePeriod('2026-q1'))).toBe('2026-Q1')
    expect(periodLabel(parsePeriod('2026-03'))).toBe('2026-03')
  })
})
