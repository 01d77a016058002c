// Notice texts and exact money formatting: bigint in, digits out, ISO 4217 exponents respected, bad input refused.
import { describe, expect, it } from 'vitest'
import { fiatAtRate, fiatPerBtcMinor, formatFiat, formatLocalDateTime, formatSats, groupThousands } from './format'
import {
  checkStatement,
  type MonthlyStatement,
  monthlyStatementText,
  NoticeError,
  operatorAlertText,
  payoutPaidText,
} from './texts'

const HASH = 'ab'.repeat(32)

describe('format', () => {
  it('groups digits and prints sats exactly', () => {
    expect(groupThousands('1')).toBe('1')
    expect(groupThousands('1234567')).toBe('1,234,567')
    expect(formatSats(0n)).toBe('0 sats')
    expect(formatSats(1000n)).toBe('1 sat')
    expect(formatSats(1_234_000n)).toBe('1,234 sats')
    expect(formatSats(1_234_567n)).toBe('1,234.567 sats')
    expect(formatSats(5n)).toBe('0.005 sats')
    expect(formatSats(-2_000n)).toBe('-2 sats')
    // Beyond 2^53 msat: still exact.
    expect(formatSats(2_100_000_000_000_000_001n)).toBe('2,100,000,000,000,000.001 sats')
  })

  it('prints fiat by the ISO 4217 exponent', () => {
    expect(formatFiat(200_000n, 'GTQ')).toBe('GTQ 2,000.00')
    expect(formatFiat(5n, 'USD')).toBe('USD 0.05')
    expect(formatFiat(1_500n, 'JPY')).toBe('JPY 1,500')
    expect(formatFiat(1_234_567n, 'KWD')).toBe('KWD 1,234.567')
    expect(formatFiat(-150n, 'EUR')).toBe('-EUR 1.50')
    expect(() => formatFiat(1n, 'XXX')).toThrow(/ISO 4217/)
  })

  it('computes rates with floors and no floats', () => {
    // 100 GTQ (10000 minor) for 100,000 sats (1e8 msat) → 100,000 GTQ per BTC.
    expect(fiatPerBtcMinor(10_000n, 100_000_000n)).toBe(10_000_000n)
    expect(fiatPerBtcMinor(1n, 0n)).toBeNull()
    expect(fiatAtRate(1_000n, 10_000n, 3_000n)).toBe(3_333n)
    expect(() => fiatAtRate(1n, 1n, 0n)).toThrow(RangeError)
  })

  it('formats local time in the given zone', () => {
    const ms = Date.UTC(2026, 10, 21, 18, 5)
    expect(formatLocalDateTime(ms, 'UTC')).toBe('2026-11-21 18:05')
    expect(formatLocalDateTime(ms, 'America/Guatemala')).toBe('2026-11-21 12:05')
  })
})

describe('payoutPaidText', () => {
  const base = {
    recipientName: 'Ana',
    paidMsat: 123_456_000n,
    fiatEquivalentMinor: 7_890n,
    currency: 'GTQ',
    remainingBalanceMinor: 1_000_000n,
    paymentHash: HASH,
    paidAtMs: Date.UTC(2026, 10, 21, 18, 5),
    timeZone: 'America/Guatemala',
  }

  it('states sats, fiat at the settlement rate, remaining balance, time and hash', () => {
    const t = payoutPaidText({ ...base, stillAccruedMsat: 999n, operatorName: 'Lobby ATM' })
    expect(t.subject).toBe('Payout: 123,456 sats')
    expect(t.body).toContain('Lobby ATM has paid you 123,456 sats.')
    expect(t.body).toContain('Fiat equivalent at the settlement rate: GTQ 78.90 (GTQ 63,909.40 per BTC).')
    expect(t.body).toContain('Your remaining balance: GTQ 10,000.00.')
    expect(t.body).toContain('Still accrued for your next payout: 0.999 sats.')
    expect(t.body).toContain('Paid 2026-11-21 12:05 (America/Guatemala).')
    expect(t.body).toContain(HASH)
  })

  it('refuses bad input naming the field', () => {
    const field = (over: Record<string, unknown>) => {
      try {
        payoutPaidText({ ...base, ...over } as typeof base)
      } catch (e) {
        expect(e).toBeInstanceOf(NoticeError)
        return (e as NoticeError).field
      }
      return 'no error'
    }
    expect(field({ paidMsat: 0n })).toBe('paidMsat')
    expect(field({ paidMsat: 5 })).toBe('paidMsat')
    expect(field({ currency: 'ZZZ' })).toBe('currency')
    expect(field({ paymentHash: 'x' })).toBe('paymentHash')
    expect(field({ timeZone: 'Mars/Base' })).toBe('timeZone')
    expect(field({ recipientName: ' ' })).toBe('recipientName')
    expect(field({ remainingBalanceMinor: -1n })).toBe('remainingBalanceMinor')
  })
})

describe('monthlyStatementText', () => {
  const s: MonthlyStatement = {
    recipientName: 'Ana',
    period: '2026-10',
    timeZone: 'America/Guatemala',
    currency: 'GTQ',
    openingBalanceMinor: 500_000n,
    depositsMinor: 200_000n,
    allocatedMinor: 150_050n,
    dustMinor: 50n,
    closingBalanceMinor: 549_900n,
    allocatedMsat: 2_000_000_500n,
    payoutsPaidCount: 3,
    payoutsPaidMsat: 1_999_000_000n,
    pendingDepositsMinor: 10_000n,
  }

  it('lists every line and the average rate', () => {
    const t = monthlyStatementText(s)
    expect(t.subject).toBe('Statement 2026-10')
    expect(t.body).toContain('Opening balance:        GTQ 5,000.00')
    expect(t.body).toContain('Deposits confirmed:   + GTQ 2,000.00')
    expect(t.body).toContain('Converted at the ATMs: − GTQ 1,500.50')
    expect(t.body).toContain('Dust settled:         − GTQ 0.50')
    expect(t.body).toContain('Closing balance:        GTQ 5,499.00')
    expect(t.body).toContain('Sats distributed to you: 2,000,000.500 sats')
    // 150050 · 1e11 / 2000000500 = 7502498.12… → 7502498 minor = GTQ 75,024.98
    expect(t.body).toContain('Average acquisition rate: GTQ 75,024.98 per BTC')
    expect(t.body).toContain('Payouts paid: 3 (1,999,000 sats)')
    expect(t.body).toContain('Deposits awaiting confirmation: GTQ 100.00')
  })

  it('refuses a statement that does not add up', () => {
    expect(() => checkStatement({ ...s, closingBalanceMinor: 549_901n })).toThrow(/closingBalanceMinor/)
    expect(() => checkStatement({ ...s, period: '2026-13' })).toThrow(/period/)
  })
})

describe('operatorAlertText', () => {
  it('words each alert by phase', () => {
    const low = { kind: 'wallet_low' as const, balanceMsat: 50_000_000n, thresholdMsat: 100_000_000n, dueMsat: 70_000n }
    expect(operatorAlertText(low, 'raised')).toEqual({
      level: 'warn',
      subject: 'Wallet balance low',
      body: 'The operator wallet holds 50,000 sats, below the 100,000 sats threshold. Payouts due: 70 sats.',
    })
    expect(operatorAlertText(low, 'reminder').subject).toBe('Still: Wallet balance low')
    expect(operatorAlertText(low, 'resolved')).toMatchObject({ level: 'info', subject: 'Resolved: Wallet balance low' })
    const paused = operatorAlertText(
      { kind: 'payouts_paused', reason: 'wallet unreachable', sinceMs: Date.UTC(2026, 0, 1) },
      'raised',
    )
    expect(paused).toMatchObject({ level: 'error', subject: 'Payouts paused' })
    expect(paused.body).toBe('Payouts are paused since 2026-01-01 00:00: wallet unreachable.')
    const fail = operatorAlertText(
      { kind: 'repeated_failures', recipient: 'Ana', failures: 4, lastError: 'no route' },
      'raised',
    )
    expect(fail.body).toBe('The payout to Ana failed 4 times in a row; last error: no route.')
    expect(() =>
      operatorAlertText({ kind: 'repeated_failures', recipient: 'Ana', failures: 0, lastError: 'x' }, 'raised'),
    ).toThrow(NoticeError)
  })
})
