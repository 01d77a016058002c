// The machine config in the operator's units: percent, currency amounts, labelled differences, and refusals that
// name the field without ppm or minor units.
import { describe, expect, it } from 'vitest'
import {
  type ConfigFields,
  ConfigWordsError,
  checkConfigFields,
  configDifferences,
  historyChangeText,
  minorToText,
  ppmToPercent,
} from './config-words'

const base: ConfigFields = {
  machineId: 'atm-1',
  name: 'Kiosk',
  currency: 'EUR',
  relays: ['wss://relay.example.com'],
  fees: { cash_out: { platformPpm: 10_000, operatorPpm: 50_000 }, cash_in: { platformPpm: 0, operatorPpm: 12_500 } },
  discountPpm: 0,
  limits: {
    cash_out: { minFiatMinor: 2000n, maxFiatMinor: 100000n },
    cash_in: { minFiatMinor: '500', maxFiatMinor: '100000' },
  },
}

const refusal = (c: ConfigFields): { field: string; message: string } => {
  try {
    checkConfigFields(c)
  } catch (e) {
    if (e instanceof ConfigWordsError) return { field: e.field, message: e.message }
    throw e
  }
  throw new Error('accepted')
}

describe('operator units', () => {
  it('formats ppm as percent and minor units in the currency', () => {
    expect([0, 5, 12_500, 50_000, 150_000, 1_000_000].map(ppmToPercent)).toEqual([
      '0%',
      '0.0005%',
      '1.25%',
      '5%',
      '15%',
      '100%',
    ])
    expect(minorToText(100050n, 'EUR')).toBe('1000.50 EUR')
    expect(minorToText('5', 'JPY')).toBe('5 JPY')
    expect(minorToText('1234', 'KWD')).toBe('1.234 KWD')
  })

  it('lists only the fields that differ, old → new, in operator words', () => {
    const next: ConfigFields = {
      ...base,
      name: 'Station kiosk',
      fees: { ...base.fees, cash_out: { platformPpm: 10_000, operatorPpm: 45_000 } },
      limits: { ...base.limits, cash_in: { minFiatMinor: '1000', maxFiatMinor: '100000' } },
    }
    expect(configDifferences(base, next)).toEqual([
      { key: 'name', label: 'Name', old: 'Kiosk', new: 'Station kiosk' },
      { key: 'fees.cash_out.operatorPpm', label: 'Cash-out operator fee', old: '5%', new: '4.5%' },
      { key: 'limits.cash_in.minFiatMinor', label: 'Cash-in minimum', old: '5.00 EUR', new: '10.00 EUR' },
    ])
    expect(configDifferences(base, { ...base })).toEqual([])
  })

  it('words a history change by its field', () => {
    expect(historyChangeText({ field: 'fees.cash_in.platformPpm', old: null, new: '10000' }, 'EUR')).toEqual({
      label: 'Cash-in platform fee',
      old: null,
      new: '1%',
    })
    expect(historyChangeText({ field: 'limits.cash_out.maxFiatMinor', old: '100000', new: '50000' }, 'EUR')).toEqual({
      label: 'Cash-out maximum',
      old: '1000.00 EUR',
      new: '500.00 EUR',
    })
    expect(historyChangeText({ field: 'relays', old: 'wss://a wss://b', new: 'wss://a' }, 'EUR').old).toBe(
      'wss://a, wss://b',
    )
  })
})

describe('checkConfigFields', () => {
  it('accepts a valid config', () => {
    expect(() => checkConfigFields(base)).not.toThrow()
  })

  it('refuses in percent and currency amounts, naming the field', () => {
    expect(
      refusal({ ...base, fees: { ...base.fees, cash_in: { platformPpm: 100_000, operatorPpm: 60_000 } } }),
    ).toEqual({
      field: 'fees.cash_in.operatorPpm',
      message: 'Cash-in fees: platform plus operator fee is 16%, at most 15% is allowed.',
    })
    expect(refusal({ ...base, fees: { ...base.fees, cash_out: { platformPpm: 200_000, operatorPpm: 0 } } }).field).toBe(
      'fees.cash_out.platformPpm',
    )
    expect(
      refusal({ ...base, limits: { ...base.limits, cash_out: { minFiatMinor: 5000n, maxFiatMinor: 4000n } } }),
    ).toEqual({
      field: 'limits.cash_out.minFiatMinor',
      message: 'Cash-out minimum (50.00 EUR) must not be more than the maximum (40.00 EUR).',
    })
    expect(refusal({ ...base, currency: 'XYZ' }).field).toBe('currency')
    expect(refusal({ ...base, relays: [] }).field).toBe('relays')
    expect(refusal({ ...base, relays: ['wss://a.example', 'ftp://b'] })).toEqual({
      field: 'relays[1]',
      message: 'Relay 2 must be a ws:// or wss:// address, such as wss://relay.example.com.',
    })
    expect(refusal({ ...base, relays: ['wss://a.example', 'wss://a.example'] }).message).toBe(
      'Relay 2 is listed twice.',
    )
    for (const c of [
      { ...base, fees: { ...base.fees, cash_out: { platformPpm: 100_000, operatorPpm: 60_000 } } },
      { ...base, discountPpm: 2_000_000 },
    ])
      expect(refusal(c).message).not.toMatch(/ppm|Minor|integer/)
  })
})
