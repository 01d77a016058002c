// A machine config (docs/protocol.md §6) in the operator's words and units: fees and the discount as percent, limits
// in the machine's currency, relays as a list. Used by the Fleet screen (detail, history, the "replace this
// machine?" comparison) and by the fleet service, so a refusal of an edited config reads the way the operator typed
// it ("Cash-out fees: platform plus operator fee must not exceed 15%"), never as ppm or field names.
//
// Pure: no Node, Electron or DOM. Amounts stay bigint / integer ppm; only the text is formatted.
import { currencyExponent, formatMinor, isCurrency } from '../money/iso4217'
import { MAX_FEE_SUM_PPM } from '../nostr/machine-config'

/** The parts of a config an operator sets (the content of docs/protocol.md §6 minus keys and ids). */
export interface ConfigFields {
  machineId: string
  name: string
  currency: string
  relays: readonly string[]
  fees: {
    cash_out: { platformPpm: number; operatorPpm: number }
    cash_in: { platformPpm: number; operatorPpm: number }
  }
  discountPpm: number
  limits: {
    cash_out: { minFiatMinor: bigint | string; maxFiatMinor: bigint | string }
    cash_in: { minFiatMinor: bigint | string; maxFiatMinor: bigint | string }
  }
}

/** 15000 → "1.5%", 50000 → "5%", by integer arithmetic (ppm has at most 4 decimals in percent). */
export function ppmToPercent(ppm: number): string {
  const whole = Math.floor(ppm / 10_000)
  const frac = String(ppm % 10_000)
    .padStart(4, '0')
    .replace(/0+$/, '')
  return `${whole}${frac ? `.${frac}` : ''}%`
}

/** 100050n EUR → "1000.50 EUR"; an unknown code falls back to two decimals so history stays readable. */
export function minorToText(minor: bigint | string, currency: string): string {
  const v = typeof minor === 'bigint' ? minor : BigInt(minor)
  if (isCurrency(currency)) return `${formatMinor(v, currency)} ${currency}`
  return `${formatMinor(v, 'EUR')} ${currency}`
}

const DIRS = { cash_out: 'Cash-out', cash_in: 'Cash-in' } as const

/** Field key (as src-shared/nostr/machine-config.ts diffConfigs names it) → operator label. */
export const CONFIG_FIELD_LABELS: Record<string, string> = {
  machineId: 'Machine id',
  name: 'Name',
  currency: 'Currency',
  consolePubkey: 'Console key',
  relays: 'Relays',
  discountPpm: 'Discount',
  'fees.cash_out.platformPpm': 'Cash-out platform fee',
  'fees.cash_out.operatorPpm': 'Cash-out operator fee',
  'fees.cash_in.platformPpm': 'Cash-in platform fee',
  'fees.cash_in.operatorPpm': 'Cash-in operator fee',
  'limits.cash_out.minFiatMinor': 'Cash-out minimum',
  'limits.cash_out.maxFiatMinor': 'Cash-out maximum',
  'limits.cash_in.minFiatMinor': 'Cash-in minimum',
  'limits.cash_in.maxFiatMinor': 'Cash-in maximum',
}

export interface ConfigRow {
  key: string
  label: string
  value: string
}

/** Every operator-set field of a config as labelled text, in a fixed order. */
export function configRows(c: ConfigFields): ConfigRow[] {
  const rows: ConfigRow[] = [
    { key: 'machineId', label: CONFIG_FIELD_LABELS.machineId!, value: c.machineId },
    { key: 'name', label: CONFIG_FIELD_LABELS.name!, value: c.name },
    { key: 'currency', label: CONFIG_FIELD_LABELS.currency!, value: c.currency },
  ]
  for (const d of ['cash_out', 'cash_in'] as const) {
    rows.push(
      {
        key: `fees.${d}.platformPpm`,
        label: `${DIRS[d]} platform fee`,
        value: ppmToPercent(c.fees[d].platformPpm),
      },
      {
        key: `fees.${d}.operatorPpm`,
        label: `${DIRS[d]} operator fee`,
        value: ppmToPercent(c.fees[d].operatorPpm),
      },
      {
        key: `limits.${d}.minFiatMinor`,
        label: `${DIRS[d]} minimum`,
        value: minorToText(c.limits[d].minFiatMinor, c.currency),
      },
      {
        key: `limits.${d}.maxFiatMinor`,
        label: `${DIRS[d]} maximum`,
        value: minorToText(c.limits[d].maxFiatMinor, c.currency),
      },
    )
  }
  rows.push(
    { key: 'discountPpm', label: CONFIG_FIELD_LABELS.discountPpm!, value: ppmToPercent(c.discountPpm) },
    { key: 'relays', label: CONFIG_FIELD_LABELS.relays!, value: c.relays.join(', ') },
  )
  return rows
}

export interface ConfigDifference {
  key: string
  label: string
  old: string
  new: string
}

/** The fields that differ between two configs, as the operator reads them (old → new). */
export function configDifferences(a: ConfigFields, b: ConfigFields): ConfigDifference[] {
  const ra = configRows(a)
  const rb = new Map(configRows(b).map((r) => [r.key, r]))
  const out: ConfigDifference[] = []
  for (const r of ra) {
    const n = rb.get(r.key)!
    if (n.value !== r.value) out.push({ key: r.key, label: r.label, old: r.value, new: n.value })
  }
  return out
}

/**
 * One history change (a `diffConfigs` entry with raw values: ppm, minor units, space-separated relays) in the
 * operator's units. `currency` is the currency of the version that made the change.
 */
export function historyChangeText(
  change: { field: string; old: string | null; new: string },
  currency: string,
): { label: string; old: string | null; new: string } {
  const fmt = (v: string): string => {
    if (change.field.endsWith('Ppm')) return /^\d+$/.test(v) ? ppmToPercent(Number(v)) : v
    if (change.field.endsWith('FiatMinor')) return /^\d+$/.test(v) ? minorToText(v, currency) : v
    if (change.field === 'relays') return v.split(' ').join(', ')
    return v
  }
  return {
    label: CONFIG_FIELD_LABELS[change.field] ?? change.field,
    old: change.old === null ? null : fmt(change.old),
    new: fmt(change.new),
  }
}

/** A refusal of an operator-set config field: `field` is the argument path below `args[0]`. */
export class ConfigWordsError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message)
    this.name = 'ConfigWordsError'
  }
}

/**
 * The checks a config edit must pass, worded in percent and currency amounts. Throws ConfigWordsError naming the
 * first offending field (`fees.cash_out.platformPpm`, `limits.cash_in.minFiatMinor`, `relays[1]` …).
 */
export function checkConfigFields(c: ConfigFields): void {
  if (!isCurrency(c.currency))
    throw new ConfigWordsError('currency', 'Must be a currency code such as EUR or USD (ISO 4217).')
  currencyExponent(c.currency)
  for (const d of ['cash_out', 'cash_in'] as const) {
    const f = c.fees[d]
    for (const k of ['platformPpm', 'operatorPpm'] as const)
      if (!Number.isInteger(f[k]) || f[k] < 0 || f[k] > MAX_FEE_SUM_PPM)
        throw new ConfigWordsError(
          `fees.${d}.${k}`,
          `${DIRS[d]} ${k === 'platformPpm' ? 'platform' : 'operator'} fee must be between 0% and ${ppmToPercent(MAX_FEE_SUM_PPM)}.`,
        )
    if (f.platformPpm + f.operatorPpm > MAX_FEE_SUM_PPM)
      throw new ConfigWordsError(
        `fees.${d}.operatorPpm`,
        `${DIRS[d]} fees: platform plus operator fee is ${ppmToPercent(f.platformPpm + f.operatorPpm)}, at most ${ppmToPercent(MAX_FEE_SUM_PPM)} is allowed.`,
      )
    const min = BigInt(c.limits[d].minFiatMinor)
    const max = BigInt(c.limits[d].maxFiatMinor)
    if (max <= 0n)
      throw new ConfigWordsError(`limits.${d}.maxFiatMinor`, `${DIRS[d]} maximum must be more than 0 ${c.currency}.`)
    if (min > max)
      throw new ConfigWordsError(
        `limits.${d}.minFiatMinor`,
        `${DIRS[d]} minimum (${minorToText(min, c.currency)}) must not be more than the maximum (${minorToText(max, c.currency)}).`,
      )
  }
  if (!Number.isInteger(c.discountPpm) || c.discountPpm < 0 || c.discountPpm > 1_000_000)
    throw new ConfigWordsError('discountPpm', 'Discount must be between 0% and 100%.')
  if (c.relays.length < 1 || c.relays.length > 8)
    throw new ConfigWordsError('relays', 'List between 1 and 8 relays the machine publishes to.')
  const seen = new Set<string>()
  c.relays.forEach((r, i) => {
    if (!/^wss?:\/\/[^\s/?#@]+(?::\d{1,5})?(?:\/[^\s]*)?$/.test(r) || r.length > 250)
      throw new ConfigWordsError(
        `relays[${i}]`,
        `Relay ${i + 1} must be a ws:// or wss:// address, such as wss://relay.example.com.`,
      )
    if (seen.has(r)) throw new ConfigWordsError(`relays[${i}]`, `Relay ${i + 1} is listed twice.`)
    seen.add(r)
  })
}
