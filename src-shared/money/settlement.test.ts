// Unit tests of the settlement engine (docs/settlement.md): worked examples recomputed from the predecessor's study
// (docs/settlement.md, "Where we differ from the predecessor") under our exact rules, every rejection, and the tie-breaks.
// Each pinned number was checked by hand; the comments say where and why ours differ from the predecessor's.

import { describe, expect, it } from 'vitest'
import { currencyExponent, formatMinor, isCurrency, minorPerMajor } from './iso4217'
import { largestRemainder } from './largest-remainder'
import { formatPpmPercent } from './ppm'
import { README_CASH_OUT } from './readme-example'
import {
  computeSettlement,
  feeMismatch,
  fiatToMsatAtRate,
  type LpInput,
  type SettlementInput,
  SettlementInputError,
} from './settlement'

const flow = (id: string, remainingMinor: bigint): LpInput => ({ id, mode: 'flow', remainingMinor })

/** A cash-out in GTQ with the predecessor's single commission (all of it operator fee) and no splits. */
function cashOut(over: Partial<SettlementInput>): SettlementInput {
  const fiatMinor = over.fiatMinor ?? 0n
  return {
    direction: 'cash_out',
    wireMsat: 0n,
    fiatMinor,
    fiatRequestedMinor: fiatMinor,
    currency: 'GTQ',
    platformPpm: 0,
    operatorPpm: 0,
    discountPpm: 0,
    splits: [],
    lps: [],
    ...over,
  }
}

const lpRows = (r: ReturnType<typeof computeSettlement>) => r.lps.map((l) => [l.id, l.msat, l.fiatMinor])

describe('largestRemainder', () => {
  it('gives leftover units to the largest remainders', () => {
    // 10 over 1:1:1 → bases 3,3,3, remainders equal; equal weights → smaller id first.
    expect(
      largestRemainder(10n, [
        { id: 'b', weight: 1n },
        { id: 'a', weight: 1n },
        { id: 'c', weight: 1n },
      ]),
    ).toEqual([3n, 4n, 3n])
  })
  it('breaks remainder ties by larger weight before id', () => {
    // 3 over 1:2 (Σ=3): exact, no leftover. 1 over 2:2:1 → remainders 2,2,1 → weight tie → id "x" < "y".
    expect(
      largestRemainder(1n, [
        { id: 'y', weight: 2n },
        { id: 'x', weight: 2n },
        { id: 'a', weight: 1n },
      ]),
    ).toEqual([0n, 1n, 0n])
    // 1 over weights 3 and 1, Σ=4: remainders 3 and 1 → the larger remainder wins regardless of id.
    expect(
      largestRemainder(1n, [
        { id: 'a', weight: 1n },
        { id: 'z', weight: 3n },
      ]),
    ).toEqual([0n, 1n])
  })
  it('lets an entry marked last lose every remainder tie, even with the larger weight', () => {
    // 1 over 1:1 with the second marked last: remainders tie → the other entry wins.
    expect(
      largestRemainder(1n, [
        { id: 'z', weight: 1n },
        { id: '', weight: 1n, last: true },
      ]),
    ).toEqual([1n, 0n])
    // 1 over 3:3 (float last) → the LP wins although '' < 'lp' in string order.
    expect(
      largestRemainder(1n, [
        { id: '', weight: 3n, last: true },
        { id: 'lp', weight: 3n },
      ]),
    ).toEqual([0n, 1n])
  })
  it('refuses all-zero weights and negative input', () => {
    expect(() => largestRemainder(5n, [{ id: 'a', weight: 0n }])).toThrow(RangeError)
    expect(() => largestRemainder(-1n, [{ id: 'a', weight: 1n }])).toThrow(RangeError)
    expect(() => largestRemainder(1n, [{ id: 'a', weight: -1n }])).toThrow(RangeError)
  })
  it('is exact on the predecessor float edges (E8: 100 at 29/100, 170 at 7/10)', () => {
    // v1 computed int(100 × 0.29) = 28 and int(170 × 0.7) = 118 because of float error.
    expect(
      largestRemainder(100n, [
        { id: 'a', weight: 29n },
        { id: 'b', weight: 71n },
      ]),
    ).toEqual([29n, 71n])
    expect(
      largestRemainder(170n, [
        { id: 'a', weight: 7n },
        { id: 'b', weight: 3n },
      ]),
    ).toEqual([119n, 51n])
  })
})

describe('ISO 4217 and ppm helpers', () => {
  it('knows the exponents', () => {
    expect(currencyExponent('GTQ')).toBe(2)
    expect(currencyExponent('USD')).toBe(2)
    expect(currencyExponent('JPY')).toBe(0)
    expect(currencyExponent('KWD')).toBe(3)
    expect(currencyExponent('CLF')).toBe(4)
    expect(minorPerMajor('BHD')).toBe(1000n)
    expect(isCurrency('XXX')).toBe(false)
    expect(isCurrency('gtq')).toBe(false)
    expect(() => currencyExponent('ABC')).toThrow(/unknown ISO 4217/)
  })
  it('formats minor units without floats', () => {
    expect(formatMinor(200000n, 'GTQ')).toBe('2000.00')
    expect(formatMinor(5n, 'GTQ')).toBe('0.05')
    expect(formatMinor(-7n, 'KWD')).toBe('-0.007')
    expect(formatMinor(1234n, 'JPY')).toBe('1234')
    expect(formatPpmPercent(27_700)).toBe('2.77%')
    expect(formatPpmPercent(150_000)).toBe('15%')
  })
})

describe('the README example', () => {
  it('settles the documented GTQ cash-out', () => {
    const r = computeSettlement(README_CASH_OUT)
    // P = floor(266,800,000 / 1.05) = 254,095,238; C = 12,704,762; PF = floor(C·3/5) = 7,622,857.
    expect(r.principalMsat).toBe(254_095_238n)
    expect(r.commissionMsat).toBe(12_704_762n)
    expect(r.platformFeeMsat).toBe(7_622_857n)
    expect(r.operatorFeeMsat).toBe(5_081_905n)
    // OF·0.7 = 3,557,333.5 and OF·0.3 = 1,524,571.5: equal remainders → the larger weight (owner) gets the unit.
    expect(r.splits).toEqual([
      { id: 'owner', msat: 3_557_334n },
      { id: 'tech', msat: 1_524_571n },
    ])
    // lp-b can take only its unused daily limit (500.00 GTQ); 2,000 GTQ split 900,000:50,000 → 189,473.68 / 10,526.31.
    expect(lpRows(r)).toEqual([
      ['lp-a', 240_722_206n, 189_474n],
      ['lp-b', 13_373_032n, 10_526n],
    ])
    expect(r.operatorFloat).toEqual({ msat: 0n, fiatMinor: 0n })
    expect(r.refundDueMsat).toBe(0n)
  })
})

describe('worked examples from the predecessor study, under our rules', () => {
  it('E1: 266,800 sats / 2,000 GTQ at 3 %, LPs 9,000 and 1,000 GTQ', () => {
    const r = computeSettlement(
      cashOut({
        wireMsat: 266_800_000n,
        fiatMinor: 200_000n,
        operatorPpm: 30_000,
        lps: [flow('A', 900_000n), flow('B', 100_000n)],
      }),
    )
    // v1: base 259,029 sats, A 233,126 sats debited 1,799 GTQ, B 25,902 sats debited 199 GTQ, 1 sat of dust and
    // 2 GTQ never debited. Ours: principal exact to the msat (259,029,126), the whole 2,000 GTQ debited (1,800 +
    // 200) and every msat assigned: B's remainder (.6) beats A's (.4) for the last msat.
    expect(r.principalMsat).toBe(259_029_126n)
    expect(r.commissionMsat).toBe(7_770_874n)
    expect(lpRows(r)).toEqual([
      ['A', 233_126_213n, 180_000n],
      ['B', 25_902_913n, 20_000n],
    ])
  })

  it('E2: 100 %-of-rate discount 90 → effective 0.55 %', () => {
    const r = computeSettlement(
      cashOut({
        wireMsat: 512_400_000n,
        fiatMinor: 400_000n,
        operatorPpm: 55_000,
        discountPpm: 900_000,
        lps: [flow('A', 500_000n), flow('B', 300_000n), flow('C', 200_000n)],
      }),
    )
    // v1: 254,798 / 152,879 / 101,919 sats with debits 1,999 / 1,199 / 799 (3,997 of 4,000 GTQ); dust 1 sat.
    // Ours: A and B tie on remainder .5 → the larger weight (A) takes the last msat; debits exactly 4,000 GTQ.
    expect(r.principalMsat).toBe(509_597_215n)
    expect(r.commissionMsat).toBe(2_802_785n)
    expect(lpRows(r)).toEqual([
      ['A', 254_798_608n, 200_000n],
      ['B', 152_879_164n, 120_000n],
      ['C', 101_919_443n, 80_000n],
    ])
  })

  it('E3: 100 % discount → zero commission, balances 333/333/334 GTQ', () => {
    const r = computeSettlement(
      cashOut({
        wireMsat: 31_100_000n,
        fiatMinor: 10_000n,
        operatorPpm: 45_000,
        discountPpm: 1_000_000,
        lps: [flow('A', 33_300n), flow('B', 33_300n), flow('C', 33_400n)],
      }),
    )
    // v1 debited 33 GTQ each (99 of 100) and left 1 sat of dust; ours debits 33.30/33.30/33.40, no dust.
    expect(r.commissionMsat).toBe(0n)
    expect(lpRows(r)).toEqual([
      ['A', 10_356_300n, 3_330n],
      ['B', 10_356_300n, 3_330n],
      ['C', 10_387_400n, 3_340n],
    ])
  })

  it('E4: the admin test defaults (103 sats, 100 GTQ, 3 %), empty and zero LPs get zeros', () => {
    const r = computeSettlement(
      cashOut({
        wireMsat: 103_000n,
        fiatMinor: 10_000n,
        operatorPpm: 30_000,
        lps: [flow('A', 50_000n), flow('B', 0n), flow('C', 0n)],
      }),
    )
    // v1 had C at −20 GTQ; our ledger cannot hold a negative balance, so C is 0 here and reported with zeros.
    expect(r.principalMsat).toBe(100_000n)
    expect(r.commissionMsat).toBe(3_000n)
    expect(lpRows(r)).toEqual([
      ['A', 100_000n, 10_000n],
      ['B', 0n, 0n],
      ['C', 0n, 0n],
    ])
  })

  it('E5: a cash-out larger than the LP pool (690/7/2/0 GTQ) — the float covers the rest', () => {
    const r = computeSettlement(
      cashOut({
        wireMsat: 317_700_000n,
        fiatMinor: 200_000n,
        lps: [flow('A', 69_000n), flow('B', 700n), flow('C', 200n), flow('D', 0n)],
      }),
    )
    // v1 sent A 313,609 sats and drove balances to −1,284 / −13 / −3 GTQ. Ours caps each LP at its balance
    // (all three end at exactly 0) and the operator float takes 1,301 GTQ and its 206,663.85 sats.
    expect(lpRows(r)).toEqual([
      ['A', 109_606_500n, 69_000n],
      ['B', 1_111_950n, 700n],
      ['C', 317_700n, 200n],
      ['D', 0n, 0n],
    ])
    expect(r.operatorFloat).toEqual({ msat: 206_663_850n, fiatMinor: 130_100n })
  })

  it('E10: the same incident with decimal balances 690/7.54/2.38/0.07 GTQ', () => {
    const r = computeSettlement(
      cashOut({
        wireMsat: 317_700_000n,
        fiatMinor: 200_000n,
        lps: [flow('A', 69_000n), flow('B', 754n), flow('C', 238n), flow('D', 7n)],
      }),
    )
    // PR #2 capped LPs at balance×rate in whole sats (109,606 / 1,197 / 378 / 11) and left 206,508 "orphan"
    // sats unbooked. Ours books the same shares to the msat and the remainder as the operator float's purchase.
    expect(lpRows(r)).toEqual([
      ['A', 109_606_500n, 69_000n],
      ['B', 1_197_729n, 754n],
      ['C', 378_063n, 238n],
      ['D', 11_120n, 7n],
    ])
    expect(r.operatorFloat).toEqual({ msat: 206_506_588n, fiatMinor: 130_001n })
  })

  it('E6: three equal LPs, 800 GTQ — equal remainders go to the smaller ids', () => {
    const r = computeSettlement(
      cashOut({
        wireMsat: 100_000_000n,
        fiatMinor: 80_000n,
        lps: [flow('C', 100_000n), flow('A', 100_000n), flow('B', 100_000n)],
      }),
    )
    // v1: 33,333 sats and 266 GTQ each (798 of 800 debited, 1 sat dust). Ours: fiat 266.67/266.67/266.66 with the
    // two extra centavos to A and B (equal weights → smaller id), sats proportional to the fiat each LP gave.
    expect(lpRows(r)).toEqual([
      ['C', 33_332_500n, 26_666n],
      ['A', 33_333_750n, 26_667n],
      ['B', 33_333_750n, 26_667n],
    ])
  })

  it('E7: real 8.75 % rate, LPs 1,200/800/500/0 GTQ', () => {
    const r = computeSettlement(
      cashOut({
        wireMsat: 220_000_000n,
        fiatMinor: 150_000n,
        operatorPpm: 87_500,
        lps: [flow('A', 120_000n), flow('B', 80_000n), flow('C', 50_000n), flow('D', 0n)],
      }),
    )
    // v1: 97,103 / 64,735 / 40,459 sats, debits 719 / 479 / 299 (1,497 of 1,500), dust 1. Ours divides exactly.
    expect(r.principalMsat).toBe(202_298_850n)
    expect(r.commissionMsat).toBe(17_701_150n)
    expect(lpRows(r)).toEqual([
      ['A', 97_103_448n, 72_000n],
      ['B', 64_735_632n, 48_000n],
      ['C', 40_459_770n, 30_000n],
      ['D', 0n, 0n],
    ])
  })

  it('E8: the float edges of total/(1+eff) come out exact', () => {
    const p = (wireMsat: bigint, operatorPpm: number, discountPpm = 0) =>
      computeSettlement(cashOut({ wireMsat, fiatMinor: 1n, operatorPpm, discountPpm })).principalMsat
    // v1 gave 999 / 1,999 / 61,999 sats through float error; the exact answers are round numbers.
    expect(p(1_070_000n, 70_000)).toBe(1_000_000n)
    expect(p(2_099_000n, 55_000, 100_000)).toBe(2_000_000n)
    expect(p(62_341_000n, 55_000, 900_000)).toBe(62_000_000n)
  })

  it('E9: principal-based platform/operator fees (issue #37 settlement) and the fee-mismatch check', () => {
    const r = computeSettlement(
      cashOut({
        wireMsat: 239_594_000n, // principal 222,320 + fee 17,274 sats as the ATM reported them
        fiatMinor: 150_000n,
        platformPpm: 50_000,
        operatorPpm: 27_700,
        claimedFeeMsat: 17_274_000n,
      }),
    )
    // Their reconstruction: super 11,116, operator 6,158 sats. Ours derives P from W: 222,319.755 sats, so the
    // ATM's whole-sat fee is 245 msat under ours — far inside the tolerance of max(1,000, P/1000) = 222,319 msat.
    expect(r.principalMsat).toBe(222_319_755n)
    expect(r.commissionMsat).toBe(17_274_245n)
    expect(r.platformFeeMsat).toBe(11_115_987n)
    expect(r.operatorFeeMsat).toBe(6_158_258n)
    expect(r.feeMismatch).toEqual({ msat: -245n, flagged: false })
    // No LPs: the operator float buys the whole principal.
    expect(r.operatorFloat).toEqual({ msat: 222_319_755n, fiatMinor: 150_000n })
  })

  it('E11: partial dispense at 50 % keeps the landed platform ratio and owes the customer a refund', () => {
    const r = computeSettlement(
      cashOut({
        wireMsat: 1_100_000n, // principal 1,000 sats + fee 100 sats at 10 %, platform 3/10 of it
        fiatMinor: 5_000n,
        fiatRequestedMinor: 10_000n,
        platformPpm: 30_000,
        operatorPpm: 70_000,
      }),
    )
    // Theirs: fee 50, platform 15, operator 35 sats — the same here; they never booked the customer's refund,
    // ours states it: 1,100 − 500 − 50 = 550 sats due.
    expect(r.principalMsat).toBe(500_000n)
    expect(r.commissionMsat).toBe(50_000n)
    expect(r.platformFeeMsat).toBe(15_000n)
    expect(r.operatorFeeMsat).toBe(35_000n)
    expect(r.refundDueMsat).toBe(550_000n)
  })

  it('E12: dust settlement of 37.50 GTQ at 130 sats/GTQ', () => {
    // Theirs: round(37.5 × 130) = 4,875 sats. Ours: the same, in msat and without a float.
    expect(fiatToMsatAtRate(3_750n, 130_000n, minorPerMajor('GTQ'))).toBe(4_875_000n)
    // A rate that does not divide evenly is floored to the msat (never overpays).
    expect(fiatToMsatAtRate(1n, 130_001n, 100n)).toBe(1_300n)
  })
})

describe('cash-in', () => {
  it('grosses the wire amount up to the principal and ignores LPs', () => {
    const r = computeSettlement({
      direction: 'cash_in',
      wireMsat: 95_000_000n,
      fiatMinor: 10_000n,
      fiatRequestedMinor: 10_000n,
      currency: 'USD',
      platformPpm: 20_000,
      operatorPpm: 30_000,
      discountPpm: 0,
      splits: [],
      lps: [flow('A', 1_000_000n)],
    })
    // P = floor(95,000,000 / 0.95) = 100,000,000; C = 5,000,000; PF = 2/5 of it.
    expect(r.principalMsat).toBe(100_000_000n)
    expect(r.commissionMsat).toBe(5_000_000n)
    expect(r.platformFeeMsat).toBe(2_000_000n)
    expect(r.splits).toEqual([{ id: 'operator', msat: 3_000_000n }])
    expect(lpRows(r)).toEqual([['A', 0n, 0n]])
    expect(r.operatorFloat).toEqual({ msat: 0n, fiatMinor: 10_000n })
  })
})

describe('fixed-mode LPs', () => {
  it('caps a fixed LP at its unused daily limit, and the float covers what the pool lacks', () => {
    const r = computeSettlement(
      cashOut({
        wireMsat: 10_000_000n,
        fiatMinor: 10_000n,
        lps: [
          { id: 'f', mode: 'fixed', remainingMinor: 50_000n, dailyLimitMinor: 5_000n, usedTodayMinor: 4_000n },
          { id: 'g', mode: 'fixed', remainingMinor: 50_000n, dailyLimitMinor: 5_000n, usedTodayMinor: 9_000n },
        ],
      }),
    )
    // f has 1,000 left today, g is over its limit (0); the float pays 9,000 and buys 9/10 of the principal.
    expect(lpRows(r)).toEqual([
      ['f', 1_000_000n, 1_000n],
      ['g', 0n, 0n],
    ])
    expect(r.operatorFloat).toEqual({ msat: 9_000_000n, fiatMinor: 9_000n })
  })
})

describe('fee mismatch threshold', () => {
  it('flags only beyond max(1,000 msat, P/1000)', () => {
    expect(feeMismatch(1_000n, 0n, 0n).flagged).toBe(false)
    expect(feeMismatch(1_001n, 0n, 0n).flagged).toBe(true)
    expect(feeMismatch(-1_001n, 0n, 0n).flagged).toBe(true)
    // P = 5,000,000 → tolerance 5,000 msat.
    expect(feeMismatch(5_000n, 0n, 5_000_000n).flagged).toBe(false)
    expect(feeMismatch(5_001n, 0n, 5_000_000n).flagged).toBe(true)
  })
})

describe('rejections name the field', () => {
  const good = cashOut({ wireMsat: 1_000n, fiatMinor: 100n, operatorPpm: 10_000, lps: [flow('a', 5n)] })
  const cases: [string, Partial<SettlementInput>, string][] = [
    ['negative wire', { wireMsat: -1n }, 'wireMsat'],
    ['negative fiat', { fiatMinor: -1n }, 'fiatMinor'],
    ['fees above 15 %', { platformPpm: 100_000, operatorPpm: 50_001 }, 'operatorPpm'],
    ['split weights not summing', { splits: [{ id: 'a', weightPpm: 999_999 }] }, 'splits'],
    [
      'duplicate split ids',
      {
        splits: [
          { id: 'a', weightPpm: 500_000 },
          { id: 'a', weightPpm: 500_000 },
        ],
      },
      'splits[1].id',
    ],
    ['duplicate LP ids', { lps: [flow('x', 1n), flow('x', 2n)] }, 'lps[1].id'],
    ['zero fiat on a cash-out', { fiatMinor: 0n, fiatRequestedMinor: 0n }, 'fiatMinor'],
    ['fiat above the requested fiat', { fiatMinor: 101n, fiatRequestedMinor: 100n }, 'fiatMinor'],
    ['unknown currency', { currency: 'XYZ' }, 'currency'],
    ['non-integer ppm', { platformPpm: 1.5 }, 'platformPpm'],
    ['discount above 100 %', { discountPpm: 1_000_001 }, 'discountPpm'],
    ['negative LP balance', { lps: [flow('x', -1n)] }, 'lps[0].remainingMinor'],
  ]
  for (const [name, over, field] of cases) {
    it(`rejects ${name}`, () => {
      let caught: unknown
      try {
        computeSettlement({ ...good, ...over })
      } catch (e) {
        caught = e
      }
      expect(caught).toBeInstanceOf(SettlementInputError)
      expect((caught as SettlementInputError).field).toBe(field)
    })
  }
  it('accepts the unmodified base case', () => {
    expect(computeSettlement(good).lps[0]?.fiatMinor).toBe(5n)
  })
})

describe('localDay', () => {
  it('cuts days at local midnight in the configured zone', async () => {
    const { localDay, isTimeZone } = await import('./local-day')
    // 2026-03-01 05:59:59Z is still Feb 28 in Guatemala (UTC−6); one second later it is March 1.
    expect(localDay(Date.UTC(2026, 2, 1, 5, 59, 59), 'America/Guatemala')).toBe('2026-02-28')
    expect(localDay(Date.UTC(2026, 2, 1, 6, 0, 0), 'America/Guatemala')).toBe('2026-03-01')
    expect(localDay(Date.UTC(2026, 2, 1, 5, 59, 59), 'UTC')).toBe('2026-03-01')
    expect(isTimeZone('Mars/Olympus')).toBe(false)
  })
})
