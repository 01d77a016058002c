// Machine detail store: one ATM's detail (`fleet.machine`: status, last seen, last record, delegation window, relay
// health, config and its signed history) and editing its config (`fleet.setConfig`, signed on the operator's
// signer; the confirm-on-signer dialog shows while it waits). Shapes in src-shared/ipc/fleet-machine.ts.
//
// The edit form is text, as typed: fees and the discount in percent, limits in the machine's currency, relays one
// per line. It is converted by string arithmetic (the pairing form's helpers); a refusal, ours or the main side's,
// lands under the field it names, in the operator's words.
import { defineStore } from 'pinia'
import { ref } from 'vue'
import type { MachineConfigView, MachineDetailView } from '../../src-shared/ipc/fleet-machine'
import { api, fieldReason, toApiError } from '../api'
import { followPushes } from './follow'
import { FormFieldError, majorToMinor, type PairField, percentToPpm } from './pairing'

export type { MachineDetailView }

export interface ConfigForm {
  name: string
  currency: string
  'fees.cash_out.platformPpm': string
  'fees.cash_out.operatorPpm': string
  'fees.cash_in.platformPpm': string
  'fees.cash_in.operatorPpm': string
  discountPpm: string
  'limits.cash_out.minFiatMinor': string
  'limits.cash_out.maxFiatMinor': string
  'limits.cash_in.minFiatMinor': string
  'limits.cash_in.maxFiatMinor': string
  /** One relay per line. */
  relays: string
}
export type ConfigField = keyof ConfigForm

const PERCENT: ConfigField[] = [
  'fees.cash_out.platformPpm',
  'fees.cash_out.operatorPpm',
  'fees.cash_in.platformPpm',
  'fees.cash_in.operatorPpm',
  'discountPpm',
]
const LIMITS: ConfigField[] = [
  'limits.cash_out.minFiatMinor',
  'limits.cash_out.maxFiatMinor',
  'limits.cash_in.minFiatMinor',
  'limits.cash_in.maxFiatMinor',
]

/** ppm → the percent text the operator edits ("5", "1.25"). */
const pct = (ppm: number) => {
  const frac = String(ppm % 10_000)
    .padStart(4, '0')
    .replace(/0+$/, '')
  return `${Math.floor(ppm / 10_000)}${frac ? `.${frac}` : ''}`
}

/** Minor units → the major-unit text the operator edits ("1000.50"). */
export function minorToMajorText(minor: string, exponent: number): string {
  if (exponent === 0) return minor
  const d = minor.padStart(exponent + 1, '0')
  return `${d.slice(0, -exponent)}.${d.slice(-exponent)}`
}

export function configForm(c: MachineConfigView, exponent: number): ConfigForm {
  return {
    name: c.name,
    currency: c.currency,
    'fees.cash_out.platformPpm': pct(c.fees.cash_out.platformPpm),
    'fees.cash_out.operatorPpm': pct(c.fees.cash_out.operatorPpm),
    'fees.cash_in.platformPpm': pct(c.fees.cash_in.platformPpm),
    'fees.cash_in.operatorPpm': pct(c.fees.cash_in.operatorPpm),
    discountPpm: pct(c.discountPpm),
    'limits.cash_out.minFiatMinor': minorToMajorText(c.limits.cash_out.minFiatMinor, exponent),
    'limits.cash_out.maxFiatMinor': minorToMajorText(c.limits.cash_out.maxFiatMinor, exponent),
    'limits.cash_in.minFiatMinor': minorToMajorText(c.limits.cash_in.minFiatMinor, exponent),
    'limits.cash_in.maxFiatMinor': minorToMajorText(c.limits.cash_in.maxFiatMinor, exponent),
    relays: c.relays.join('\n'),
  }
}

/** `fleet.setConfig`'s argument from the typed form; throws FormFieldError naming the first bad field. */
export function setConfigInput(atmPubkey: string, baseEventId: string, f: ConfigForm) {
  const currency = f.currency.trim().toUpperCase()
  const p = Object.fromEntries(PERCENT.map((k) => [k, percentToPpm(f[k], k as PairField)])) as Record<string, number>
  const m = Object.fromEntries(LIMITS.map((k) => [k, majorToMinor(f[k], currency, k as PairField)])) as Record<
    string,
    string
  >
  const relays = f.relays
    .split(/\s+/)
    .map((r) => r.trim())
    .filter((r) => r !== '')
  return {
    atmPubkey,
    baseEventId,
    name: f.name.trim(),
    currency,
    fees: {
      cash_out: { platformPpm: p['fees.cash_out.platformPpm']!, operatorPpm: p['fees.cash_out.operatorPpm']! },
      cash_in: { platformPpm: p['fees.cash_in.platformPpm']!, operatorPpm: p['fees.cash_in.operatorPpm']! },
    },
    discountPpm: p.discountPpm!,
    limits: {
      cash_out: {
        minFiatMinor: m['limits.cash_out.minFiatMinor']!,
        maxFiatMinor: m['limits.cash_out.maxFiatMinor']!,
      },
      cash_in: { minFiatMinor: m['limits.cash_in.minFiatMinor']!, maxFiatMinor: m['limits.cash_in.maxFiatMinor']! },
    },
    relays,
  }
}

export interface ConfigError {
  field: ConfigField | null
  message: string
}

/** Maps a refusal (`args[0].limits.cash_in.minFiatMinor: …`, `args[0].relays[1]: …`) to the form field. */
export function configError(field: string | undefined, message: string): ConfigError {
  const path = /^args\[0\]\.(.+)$/.exec(field ?? '')?.[1]
  if (!path) return { field: null, message }
  const key = path.replace(/\[\d+\]$/, '')
  const known: ConfigField[] = ['name', 'currency', 'relays', ...PERCENT, ...LIMITS]
  return { field: (known as string[]).includes(key) ? (key as ConfigField) : null, message }
}

export const useMachineStore = defineStore('machine', () => {
  const openKey = ref<string | null>(null)
  const detail = ref<MachineDetailView | null>(null)
  const loading = ref(false)
  const error = ref<string | null>(null)
  const saving = ref(false)
  const editError = ref<ConfigError | null>(null)
  const saved = ref<string | null>(null)

  async function open(atmPubkey: string): Promise<void> {
    openKey.value = atmPubkey
    saved.value = null
    editError.value = null
    await reload()
  }

  async function reload(): Promise<void> {
    const key = openKey.value
    if (!key) return
    loading.value = true
    try {
      const d = await api()['fleet.machine']({ atm: key })
      if (openKey.value === key) {
        detail.value = d
        error.value = null
      }
    } catch (e) {
      error.value = toApiError(e).message
    } finally {
      loading.value = false
    }
  }

  function close(): void {
    openKey.value = null
    detail.value = null
    error.value = null
    editError.value = null
  }

  /** Signs and publishes the edited config; true on success (the detail is reloaded). */
  async function saveConfig(form: ConfigForm): Promise<boolean> {
    const d = detail.value
    if (!d?.config) return false
    editError.value = null
    saved.value = null
    let input: ReturnType<typeof setConfigInput>
    try {
      input = setConfigInput(d.machine.atmPubkey, d.config.eventId, form)
    } catch (e) {
      if (e instanceof FormFieldError) {
        editError.value = { field: e.field as ConfigField, message: e.message }
        return false
      }
      throw e
    }
    saving.value = true
    try {
      const r = await api()['fleet.setConfig'](input)
      saved.value =
        r.publishedTo.length > 0
          ? `New configuration signed and published to ${r.publishedTo.length} relay(s).`
          : 'New configuration signed and stored, but no relay accepted it yet: check the relays.'
      await reload()
      return true
    } catch (e) {
      const err = toApiError(e)
      editError.value = configError(err.field, err.field ? fieldReason(err) : err.message)
      return false
    } finally {
      saving.value = false
    }
  }

  /**
   * Keeps the open panel current: a `fleet.changed` push (a record received, the config or roster changed) or a
   * relay status change reloads it; the edit form is a copy, so what the operator is typing stays. Returns the stop.
   */
  function follow(): () => void {
    return followPushes(['fleet.changed', 'relay.status'], async () => {
      if (openKey.value !== null) await reload()
    })
  }

  return { openKey, detail, loading, error, saving, editError, saved, open, reload, close, saveConfig, follow }
})
