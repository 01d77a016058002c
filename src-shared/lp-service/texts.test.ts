import { describe, expect, it } from 'vitest'
import type { BalanceResult, StatementResult, TransactionsResult } from './rpc'
import { balanceText, historyText, statementText } from './texts'

const balance: BalanceResult = {
  lpId: 'ana',
  name: 'Ana',
  currency: 'GTQ',
  active: true,
  balanceMinor: '350001',
  pendingDepositsMinor: '0',
  accruedMsat: '15410171',
  earnedMsat: '165410171',
  paidMsat: '150000000',
  lastPayouts: [
    {
      payoutId: 'p1',
      paidAtMs: Date.UTC(2026, 11, 2, 14, 10),
      amountMsat: '150000000',
      paymentHash: 'ab'.repeat(32),
      receiptIds: ['e1'.repeat(32)],
    },
  ],
  asOfMs: Date.UTC(2026, 11, 2, 14, 15),
}

describe('answer texts', () => {
  it('prints the balance exactly in fiat and sats, with payouts and receipt ids', () => {
    const t = balanceText(balance, 'America/Guatemala')
    expect(t).toContain('Balance of Ana (2026-12-02 08:15 America/Guatemala)')
    expect(t).toContain('Remaining fiat: GTQ 3,500.01')
    expect(t).toContain('Sats accrued, not yet paid: 15,410.171 sats')
    expect(t).toContain('Sats paid out in total: 150,000 sats')
    expect(t).toContain(`2026-12-02 08:10  150,000 sats  payment ${'ab'.repeat(8)}…  receipts ${'e1'.repeat(32)}`)
    expect(t).not.toContain('awaiting')
    expect(balanceText({ ...balance, lastPayouts: [], pendingDepositsMinor: '500' }, 'UTC')).toContain(
      'Deposits awaiting confirmation: GTQ 5.00',
    )
  })

  it('prints settlements and statements', () => {
    const h: TransactionsResult = {
      currency: 'JPY',
      next: null,
      lines: [
        {
          entryId: 3,
          atMs: Date.UTC(2026, 10, 3),
          kind: 'allocation',
          deltaMinor: '-1500',
          balanceAfterMinor: '8500',
          msat: '1000001',
          settlementId: 7,
          receiptId: 'f0'.repeat(32),
        },
      ],
    }
    expect(historyText(h, 'UTC', 'in 2026-11')).toBe(
      `Settlements that used your money in 2026-11:\n  2026-11-03 00:00  settlement #7: JPY 1,500 → 1,000.001 sats  receipt ${'f0'.repeat(32)}`,
    )
    expect(historyText({ ...h, lines: [] }, 'UTC', 'recently')).toBe('No settlements used your money recently.')
    const s: StatementResult = {
      period: '2026-Q4',
      fromMs: 0,
      untilMs: 1,
      timeZone: 'UTC',
      currency: 'GTQ',
      openingBalanceMinor: '100000',
      depositedMinor: '50000',
      depositReversedMinor: '0',
      allocatedMinor: '30000',
      dustSettledMinor: '0',
      closingBalanceMinor: '120000',
      earnedMsat: '40000500',
      paidOutMsat: '0',
      openingAccruedMsat: '0',
      closingAccruedMsat: '40000500',
      pendingDepositsMinor: '0',
      settlementCount: 2,
      payouts: [],
    }
    const t = statementText(s)
    expect(t).toContain('Statement 2026-Q4 (UTC)')
    expect(t).toContain('Used by 2 settlement(s): GTQ 300.00')
    expect(t).toContain('Closing balance: GTQ 1,200.00')
    expect(t).toContain('Sats earned: 40,000.500 sats')
  })
})
