// An ATM written only from docs/protocol.md §5.7 computes the same principal and fee as the console (protocol 1.1,
// issue point 5). The ATM side below is written from the spec's table — its own bigint arithmetic, importing nothing
// of the console's money code — and is compared with the console's settlement engine (src-shared/money) for
// cash-out and cash-in, with and without a discount, over random cases (seed printed; replay with PROPS_SEED), and
// on the worked example the spec itself prints.
import { readFileSync } from 'node:fs'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { computeSettlement } from '../../src-shared/money/settlement'

const RUNS = Math.min(Number(process.env.PROPS_RUNS ?? 1000), 20_000)
const SEED = process.env.PROPS_SEED ? Number(process.env.PROPS_SEED) : (Date.now() ^ (Math.random() * 2 ** 31)) | 0

/** The ATM's implementation, from the §5.7 table. */
function atmPrincipalAndFee(
  direction: 'cash_out' | 'cash_in',
  wireMsat: bigint,
  feePpm: bigint,
  discountPpm: bigint,
): { principalMsat: bigint; feeMsat: bigint } {
  const scale = 10n ** 12n
  const effective = feePpm * (10n ** 6n - discountPpm)
  if (direction === 'cash_out') {
    const principalMsat = (wireMsat * scale) / (scale + effective)
    return { principalMsat, feeMsat: wireMsat - principalMsat }
  }
  const principalMsat = (wireMsat * scale) / (scale - effective)
  return { principalMsat, feeMsat: principalMsat - wireMsat }
}

/** The console's engine on the same inputs (no LPs, one operator split). */
function consolePrincipalAndFee(
  direction: 'cash_out' | 'cash_in',
  wireMsat: bigint,
  platformPpm: number,
  operatorPpm: number,
  discountPpm: number,
) {
  const r = computeSettlement({
    direction,
    wireMsat,
    fiatMinor: 1000n,
    fiatRequestedMinor: 1000n,
    currency: 'EUR',
    platformPpm,
    operatorPpm,
    discountPpm,
    splits: [],
    lps: [],
  })
  return { principalMsat: r.principalMsat, feeMsat: r.commissionMsat }
}

describe('principal and fee from the spec alone (docs/protocol.md §5.7)', () => {
  it('the worked example printed in §5.7 holds for the ATM formulas', () => {
    const doc = readFileSync(new URL('../../docs/protocol.md', import.meta.url), 'utf8')
    const m = doc.match(
      /`W` = ([\d,]+), `F` = ([\d,]+), `D` = (\d+) →\s+`P` = floor\([^)]*\) = ([\d,]+) and `C` = ([\d,]+)/,
    )
    expect(m, 'the §5.7 example is in the doc').not.toBeNull()
    const n = (s: string) => BigInt(s.replaceAll(',', ''))
    const [w, f, d, p, c] = [m![1], m![2], m![3], m![4], m![5]].map((x) => n(x as string))
    expect(atmPrincipalAndFee('cash_out', w!, f!, d!)).toEqual({ principalMsat: p, feeMsat: c })
    expect(consolePrincipalAndFee('cash_out', w!, 10_000, Number(f) - 10_000, Number(d))).toEqual({
      principalMsat: p,
      feeMsat: c,
    })
  })

  for (const direction of ['cash_out', 'cash_in'] as const)
    for (const withDiscount of [false, true])
      it(`${direction}, ${withDiscount ? 'with' : 'without'} a discount: the ATM and the console agree to the msat`, () => {
        console.log(`[atm-formulas] ${direction} discount=${withDiscount} seed=${SEED} runs=${RUNS}`)
        fc.assert(
          fc.property(
            fc.bigInt({ min: 1n, max: 2_100_000_000_000_000_000n }),
            fc.integer({ min: 0, max: 150_000 }),
            fc.integer({ min: 0, max: 1_000_000 }),
            withDiscount ? fc.integer({ min: 1, max: 1_000_000 }) : fc.constant(0),
            (wireMsat, feePpm, platformShare, discountPpm) => {
              const platformPpm = Math.floor((feePpm * platformShare) / 1_000_000)
              const operatorPpm = feePpm - platformPpm
              const atm = atmPrincipalAndFee(direction, wireMsat, BigInt(feePpm), BigInt(discountPpm))
              const console_ = consolePrincipalAndFee(direction, wireMsat, platformPpm, operatorPpm, discountPpm)
              expect(atm).toEqual(console_)
              // What the spec promises about the direction of the fee.
              if (direction === 'cash_out') expect(atm.principalMsat + atm.feeMsat).toBe(wireMsat)
              else expect(atm.principalMsat - atm.feeMsat).toBe(wireMsat)
              expect(atm.feeMsat >= 0n).toBe(true)
            },
          ),
          { seed: SEED, numRuns: RUNS },
        )
      })
})
