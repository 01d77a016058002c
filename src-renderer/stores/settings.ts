// Settings store: the operator's editable preferences. Saving goes through `settings.set`; the main side
// validates and, on bad input, rejects with an error naming the field, which we map to that field's inline
// message. A draft is kept separately from the saved value so a failed save loses nothing the operator typed.
import { defineStore } from 'pinia'
import { ref } from 'vue'
import { api, fieldReason, type Settings, toApiError } from '../api'

export type SettingsField = 'operatorName' | 'timeZone' | 'relays' | 'currency'

export interface FieldError {
  /** The top-level field the error belongs to. */
  field: SettingsField | null
  /** For list fields, the index of the offending entry (`relays[2]`). */
  index: number | null
  message: string
}

/**
 * Maps the field path the main side names (`args[0].relays[1]`, `args[0].timeZone`) to a form field and list
 * index. A path that names no settings field (or none at all) becomes a form-level error with the full message.
 */
export function parseFieldError(field: string | undefined, message: string, reason: string): FieldError {
  if (!field) return { field: null, index: null, message }
  const m = /^(?:args\[0\]\.)?(operatorName|timeZone|relays|currency)(?:\[(\d+)\])?$/.exec(field)
  if (!m) return { field: null, index: null, message }
  const idx = m[2]
  return { field: m[1] as SettingsField, index: idx === undefined ? null : Number(idx), message: reason }
}

export const useSettingsStore = defineStore('settings', () => {
  const saved = ref<Settings | null>(null)
  const loadError = ref<string | null>(null)
  const saving = ref(false)
  const error = ref<FieldError | null>(null)

  async function load(): Promise<void> {
    try {
      saved.value = await api()['settings.get']()
      loadError.value = null
    } catch (e) {
      loadError.value = toApiError(e).message
    }
  }

  /** Saves the draft; returns true on success. On failure `error` names the field and nothing is cleared. */
  async function save(draft: Settings): Promise<boolean> {
    saving.value = true
    error.value = null
    try {
      saved.value = await api()['settings.set']({
        operatorName: draft.operatorName,
        timeZone: draft.timeZone,
        relays: [...draft.relays],
        ...(draft.currency !== undefined ? { currency: draft.currency } : {}),
      })
      return true
    } catch (e) {
      const err = toApiError(e)
      error.value = parseFieldError(err.field, err.message, fieldReason(err))
      return false
    } finally {
      saving.value = false
    }
  }

  return { saved, loadError, saving, error, load, save }
})
