// Tests of the fee preview: the engine's split of a typed sample transaction, and refusals in the typed units.
import { describe, expect, it } from 'vitest'
import { feeCapProblem, feePreview, parsePercent, ppmToPercentText } from './fee-preview'

const base = {
  direction: 'cash_out' as const,
  currency: 'EUR',
  amount: '200',
  btcPrice: '50000',
  platformPercent: '1',
  commissionPercent: '4',
  splits: [
    { id: 'owner', weightPpm: 750_000 },
    { id: 'maint', weightPpm: 250_000 },
  ],
}

describe('feePreview', () => {
  it('splits a 200 EUR cash-out at 50,000 EUR/BTC with 1 % + 4 %: conservation holds', () => {
    const r = feePreview(base)
    if (!r.ok) throw new Error(r.message)
    // 200/50000 BTC = 400,000 sat = 400,000,000 msat; the customer pays 5 % on top.
    expect(r.wireMsat).toBe(420_000_000n)
    expect(r.principalMsat).toBe(400_000_000n)
    expect(r.commissionMsat).toBe(20_000_000n)
    expect(r.platformFeeMsat).toBe(4_000_000n)
    expect(r.lines.map((l) => [l.label, l.msat])).toEqual([
      ['Platform fee', 4_000_000n],
      ['Commission: owner', 12_000_000n],
      ['Commission: maint', 4_000_000n],
      ['Bitcoin for the cash (liquidity)', 400_000_000n],
    ])
    expect(r.fiatText).toBe('200.00')
  })

  it('a cash-in: the customer receives the value minus the fees', () => {
    const r = feePreview({ ...base, direction: 'cash_in' })
    if (!r.ok) throw new Error(r.message)
    expect(r.wireMsat).toBe(380_000_000n)
    expect(r.commissionMsat).toBe(20_000_000n)
  })

  it('refuses in the units typed, naming the field', () => {
    expect(feePreview({ ...base, amount: '12.345' })).toEqual({
      ok: false,
      field: 'amount',
      message: 'Amount: EUR has no amounts smaller than EUR 0.01',
    })
    expect(feePreview({ ...base, amount: 'abc' })).toMatchObject({ ok: false, field: 'amount' })
    expect(feePreview({ ...base, platformPercent: '6', commissionPercent: '10' })).toEqual({
      ok: false,
      field: 'commissionPercent',
      message: 'Cash-out: the platform fee and your commission together may be at most 15 %; they add up to 16 %',
    })
    const r = feePreview({ ...base, platformPercent: '1.00001' })
    expect(r).toMatchObject({ ok: false, field: 'platformPercent' })
    if (!r.ok) expect(r.message).not.toMatch(/ppm|\[0,|integer/)
    expect(feePreview({ ...base, currency: 'XXX' })).toMatchObject({ ok: false, field: 'currency' })
  })

  it('percent text and ppm round-trip', () => {
    expect(parsePercent('2.5', 'x')).toEqual({ ok: true, ppm: 25_000 })
    expect(parsePercent('0,75', 'x')).toEqual({ ok: true, ppm: 7_500 })
    expect(ppmToPercentText(25_000)).toBe('2.5')
    expect(ppmToPercentText(0)).toBe('0')
    expect(feeCapProblem(50_000, 100_000, 'cash_in')).toBeNull()
  })
})
