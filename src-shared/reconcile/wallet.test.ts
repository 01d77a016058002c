// Wallet reconciliation matcher: every difference kind, period edges, margins, totals, and input validation.
import { describe, expect, it } from 'vitest'
import { type LedgerPayment, ReconcileError, reconcileWallet, reportToJson, type WalletTransaction } from './wallet'

const h = (n: number) => n.toString(16).padStart(64, '0')
const FROM = 1_800_000_000
const UNTIL = FROM + 86_400
const period = { fromSec: FROM, untilSec: UNTIL }

const lp = (n: number, over: Partial<LedgerPayment> = {}): LedgerPayment => ({
  ref: `payout:${n}`,
  source: 'payout',
  direction: 'outgoing',
  paymentHash: h(n),
  amountMsat: 1_000_000n,
  atMs: (FROM + 100 + n) * 1000,
  ...over,
})
const wt = (n: number, over: Partial<WalletTransaction> = {}): WalletTransaction => ({
  type: 'outgoing',
  state: 'settled',
  paymentHash: h(n),
  amountMsat: 1_000_000n,
  feesPaidMsat: 3_000n,
  createdAtSec: FROM + 100 + n,
  settledAtSec: FROM + 100 + n,
  ...over,
})

describe('reconcileWallet', () => {
  it('matches equal payments and reports nothing else', () => {
    const r = reconcileWallet({
      period,
      ledgerPayments: [
        lp(1),
        lp(2, { ref: 'settlement:2', source: 'settlement', direction: 'incoming', amountMsat: 5n }),
      ],
      walletTransactions: [wt(1), wt(2, { type: 'incoming', amountMsat: 5n, feesPaidMsat: 0n })],
    })
    expect(r.differences).toEqual([])
    expect(r.matched.map((m) => m.ref)).toEqual(['payout:1', 'settlement:2'])
    expect(r.totals).toEqual({
      incoming: { ledgerMsat: 5n, walletMsat: 5n },
      outgoing: { ledgerMsat: 1_000_000n, walletMsat: 1_000_000n },
      walletFeesMsat: 3_000n,
    })
  })

  it('finds a missing payment, an unexpected wallet payment and an amount mismatch, with amounts', () => {
    const r = reconcileWallet({
      period,
      ledgerPayments: [lp(1), lp(2), lp(3, { amountMsat: 2_000_000n })],
      walletTransactions: [wt(1), wt(3, { amountMsat: 2_000_500n }), wt(4, { amountMsat: 777_000n })],
    })
    expect(r.differences.map((d) => [d.kind, d.paymentHash, d.ledgerMsat, d.walletMsat, d.deltaMsat])).toEqual([
      ['missing_in_wallet', h(2), 1_000_000n, null, null],
      ['amount_mismatch', h(3), 2_000_000n, 2_000_500n, 500n],
      ['unexpected_in_wallet', h(4), null, 777_000n, null],
    ])
    expect(r.differences[0]!.refs).toEqual(['payout:2'])
    expect(r.matched.map((m) => m.ref)).toEqual(['payout:1'])
  })

  it('treats a failed or pending wallet entry as missing and reports its state', () => {
    const r = reconcileWallet({
      period,
      ledgerPayments: [lp(1)],
      walletTransactions: [wt(1, { state: 'failed' })],
    })
    expect(r.differences).toMatchObject([{ kind: 'missing_in_wallet', walletState: 'failed' }])
    // A failed attempt followed by a settled retry of the same hash matches.
    const r2 = reconcileWallet({
      period,
      ledgerPayments: [lp(1)],
      walletTransactions: [wt(1, { state: 'failed' }), wt(1)],
    })
    expect(r2.differences).toEqual([])
  })

  it('reports direction mismatches, duplicates and ledger payments without a hash', () => {
    const r = reconcileWallet({
      period,
      ledgerPayments: [lp(1), lp(2), lp(2, { ref: 'payout:22' }), lp(5, { paymentHash: null, ref: 'payout:5' })],
      walletTransactions: [wt(1, { type: 'incoming' }), wt(2, { amountMsat: 2_000_000n })],
    })
    const kinds = r.differences.map((d) => d.kind)
    expect(kinds).toContain('direction_mismatch')
    expect(kinds).toContain('duplicate_in_ledger')
    expect(kinds).toContain('no_payment_hash')
    const dup = r.differences.find((d) => d.kind === 'duplicate_in_ledger')!
    expect(dup.refs).toEqual(['payout:2', 'payout:22'])
    // The two entries sum to what the wallet paid, so there is no amount mismatch, but the duplicate is flagged.
    expect(kinds).not.toContain('amount_mismatch')
  })

  it('flags a wallet payment of an attempt the ledger recorded as not made (double payment)', () => {
    const r = reconcileWallet({
      period,
      ledgerPayments: [lp(1), lp(2, { ref: 'payout:1#1', expectedSettled: false }), lp(3, { expectedSettled: false })],
      walletTransactions: [wt(1), wt(2)],
    })
    expect(r.differences).toMatchObject([
      {
        kind: 'settled_unexpectedly',
        paymentHash: h(2),
        refs: ['payout:1#1'],
        ledgerMsat: 1_000_000n,
        walletMsat: 1_000_000n,
      },
    ])
    // Not-expected entries do not count toward the ledger totals.
    expect(r.totals.outgoing.ledgerMsat).toBe(1_000_000n)
  })

  it('uses the margin: items outside the period are matched but not reported', () => {
    const before = FROM - 10
    const r = reconcileWallet({
      period,
      // Booked inside the period, paid (wallet time) just before it: matched, no difference.
      ledgerPayments: [lp(1), lp(7, { atMs: (before - 5) * 1000 })],
      walletTransactions: [
        wt(1, { createdAtSec: before, settledAtSec: before }),
        // Outside the period on both sides and unknown to the ledger: not this period's business.
        wt(9, { createdAtSec: before, settledAtSec: before }),
      ],
    })
    expect(r.matched.map((m) => m.ref)).toEqual(['payout:1'])
    expect(r.differences).toEqual([])
    expect(r.totals.outgoing).toEqual({ ledgerMsat: 1_000_000n, walletMsat: 0n })
  })

  it('validates input naming the field and serialises to JSON', () => {
    expect(() =>
      reconcileWallet({ period: { fromSec: 5, untilSec: 5 }, ledgerPayments: [], walletTransactions: [] }),
    ).toThrow(/period.untilSec/)
    try {
      reconcileWallet({
        period,
        ledgerPayments: [lp(1, { amountMsat: 5 as unknown as bigint })],
        walletTransactions: [],
      })
      throw new Error('no error')
    } catch (e) {
      expect(e).toBeInstanceOf(ReconcileError)
      expect((e as ReconcileError).field).toBe('ledgerPayments[0].amountMsat')
    }
    const json = reportToJson(
      reconcileWallet({ period, ledgerPayments: [lp(1)], walletTransactions: [wt(1, { amountMsat: 3n })] }),
    ) as { differences: Array<{ deltaMsat: string }> }
    expect(json.differences[0]!.deltaMsat).toBe('-999997')
  })
})
