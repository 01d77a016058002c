// The dust settlement's rate in the operator's words (docs/settlement.md, dust settlement): the operator quotes the
// price of one bitcoin in the LP's currency; the ledger settles at msat per major unit of that currency. Both
// conversions are integer arithmetic, floored, so a settlement never pays more sats than the quoted price buys.
// Pure: the Liquidity providers screen previews with it and sends the rate it computed to `lps.dustSettle`.
import { minorPerMajor } from './iso4217'
import { fiatToMsatAtRate } from './settlement'

const MSAT_PER_BTC = 100_000_000_000n

/** msat per major unit for a bitcoin price of `priceMinor` (minor units per BTC): ⌊10^11 · minorPerMajor / price⌋. */
export function rateMsatPerMajorFromBtcPrice(priceMinor: bigint, currency: string): bigint {
  if (priceMinor <= 0n) throw new RangeError('the bitcoin price must be positive')
  const rate = (MSAT_PER_BTC * minorPerMajor(currency)) / priceMinor
  if (rate < 1n) throw new RangeError('the bitcoin price is too high to settle at (less than 1 msat per unit)')
  return rate
}

/** What a dust settlement of `fiatMinor` (default: the whole balance) closes and what the LP accrues for it. */
export function dustPreview(
  balanceMinor: bigint,
  fiatMinor: bigint | null,
  rateMsatPerMajor: bigint,
  currency: string,
): { fiatMinor: bigint; msat: bigint } {
  const fiat = fiatMinor ?? balanceMinor
  if (fiat <= 0n) throw new RangeError('nothing to settle')
  if (fiat > balanceMinor) throw new RangeError('more than the remaining balance')
  return { fiatMinor: fiat, msat: fiatToMsatAtRate(fiat, rateMsatPerMajor, minorPerMajor(currency)) }
}
