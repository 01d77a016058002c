// Tests of the settlement JSON codec (the `satmachine settle` document format): decimal-string amounts, defaults,
// and a rejection naming the field for every malformed value.

import { describe, expect, it } from 'vitest'
import { computeSettlement, SettlementInputError } from './settlement'
import { parseSettlementInput, parseSettlementJson, settlementResultToJson } from './settlement-json'

const base = {
  direction: 'cash_out',
  wireMsat: '266800000',
  fiatMinor: '200000',
  currency: 'GTQ',
  platformPpm: 30000,
  operatorPpm: 20000,
}

function fieldOf(doc: unknown): string {
  try {
    parseSettlementInput(doc)
  } catch (e) {
    if (e instanceof SettlementInputError) return e.field
    throw e
  }
  throw new Error('expected a rejection')
}

describe('parseSettlementInput', () => {
  it('defaults fiatRequestedMinor, discount, splits and lps', () => {
    const input = parseSettlementInput(base)
    expect(input.fiatRequestedMinor).toBe(200_000n)
    expect(input.discountPpm).toBe(0)
    expect(input.splits).toEqual([])
    expect(input.lps).toEqual([])
  })
  it('keeps amounts beyond 2^53 exact', () => {
    const input = parseSettlementInput({ ...base, wireMsat: '2100000000000000000', fiatMinor: '9007199254740993' })
    expect(input.wireMsat).toBe(2_100_000_000_000_000_000n)
    expect(input.fiatMinor).toBe(9_007_199_254_740_993n)
  })
  it('rejects each malformed field by name', () => {
    expect(fieldOf({ ...base, wireMsat: '-5' })).toBe('wireMsat')
    expect(fieldOf({ ...base, wireMsat: '1.5' })).toBe('wireMsat')
    expect(fieldOf({ ...base, wireMsat: 1.5 })).toBe('wireMsat')
    expect(fieldOf({ ...base, wireMsat: '1e9' })).toBe('wireMsat')
    expect(fieldOf({ ...base, wireMsat: 2 ** 60 })).toBe('wireMsat')
    expect(fieldOf({ ...base, fiatMinor: '0' })).toBe('fiatMinor')
    expect(fieldOf({ ...base, fiatRequestedMinor: '199999' })).toBe('fiatMinor')
    expect(fieldOf({ ...base, operatorPpm: 120001 })).toBe('operatorPpm')
    expect(fieldOf({ ...base, direction: 'sideways' })).toBe('direction')
    expect(fieldOf({ ...base, splits: [{ id: 'a', weightPpm: 600000 }] })).toBe('splits')
    expect(
      fieldOf({
        ...base,
        splits: [
          { id: 'a', weightPpm: 500000 },
          { id: 'a', weightPpm: 500000 },
        ],
      }),
    ).toBe('splits[1].id')
    expect(
      fieldOf({
        ...base,
        lps: [
          { id: 'x', mode: 'flow', remainingMinor: '1' },
          { id: 'x', mode: 'flow', remainingMinor: '1' },
        ],
      }),
    ).toBe('lps[1].id')
    expect(fieldOf({ ...base, lps: [{ id: 'x', mode: 'fixed', remainingMinor: '1' }] })).toBe('lps[0].dailyLimitMinor')
    expect(fieldOf({ ...base, lps: [{ id: 'x', mode: 'flow', remainingMinor: '-1' }] })).toBe('lps[0].remainingMinor')
    expect(fieldOf({ ...base, lps: [{ id: 'x', mode: 'daily', remainingMinor: '1' }] })).toBe('lps[0].mode')
    expect(fieldOf({ ...base, platformPPM: 1 })).toBe('platformPPM')
    expect(fieldOf([])).toBe('(root)')
  })
  it('reports broken JSON against the root', () => {
    expect(() => parseSettlementJson('{')).toThrow(/\(root\): not valid JSON/)
  })
})

describe('settlementResultToJson', () => {
  it('renders every amount as a decimal string, fee mismatch only when a claim was given', () => {
    const withClaim = settlementResultToJson(
      computeSettlement(parseSettlementInput({ ...base, claimedFeeMsat: '12704762' })),
    ) as Record<string, unknown>
    expect(withClaim.feeMismatch).toEqual({ msat: '0', flagged: false })
    const plain = settlementResultToJson(computeSettlement(parseSettlementInput(base))) as Record<string, unknown>
    expect(Object.keys(plain)).toEqual([
      'principalMsat',
      'commissionMsat',
      'platformFeeMsat',
      'operatorFeeMsat',
      'refundDueMsat',
      'splits',
      'lps',
      'operatorFloat',
    ])
    expect(plain.principalMsat).toBe('254095238')
    expect(plain.operatorFloat).toEqual({ msat: '254095238', fiatMinor: '200000' })
  })
})
