// Dust rate from a bitcoin price: floored so a settlement never overpays, and the preview is what the ledger books
// (the same fiatToMsatAtRate the accounting module's dust settlement uses).
import { describe, expect, it } from 'vitest'
import { dustPreview, rateMsatPerMajorFromBtcPrice } from './dust-rate'

describe('rateMsatPerMajorFromBtcPrice', () => {
  it('turns a price per bitcoin into msat per major unit, floored', () => {
    // 1 BTC = GTQ 750,000.00 → 10^11 / 750,000 = 133,333.33 msat per quetzal → 133,333.
    expect(rateMsatPerMajorFromBtcPrice(75_000_000n, 'GTQ')).toBe(133_333n)
    // 1 BTC = JPY 15,000,000 (exponent 0) → 6,666 msat per yen.
    expect(rateMsatPerMajorFromBtcPrice(15_000_000n, 'JPY')).toBe(6_666n)
    expect(() => rateMsatPerMajorFromBtcPrice(0n, 'GTQ')).toThrow(/positive/)
  })
})

describe('dustPreview', () => {
  it('settles the whole balance by default and never more than it', () => {
    const rate = rateMsatPerMajorFromBtcPrice(75_000_000n, 'GTQ')
    // GTQ 3.20 at 133,333 msat per quetzal = 426,665.6 → 426,665 msat.
    expect(dustPreview(320n, null, rate, 'GTQ')).toEqual({ fiatMinor: 320n, msat: 426_665n })
    expect(dustPreview(320n, 100n, rate, 'GTQ')).toEqual({ fiatMinor: 100n, msat: 133_333n })
    expect(() => dustPreview(320n, 321n, rate, 'GTQ')).toThrow(/remaining balance/)
    expect(() => dustPreview(0n, null, rate, 'GTQ')).toThrow(/nothing/)
  })
})
