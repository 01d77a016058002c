// Recipients store: the platform fee and commission-split recipients on the Settings screen (RecipientsCard.vue;
// docs/payouts.md "Recipients"). Loads `recipients.list` and runs the changes through `recipients.*`; an error
// keeps the field it names so the card shows it under that recipient, in the main side's operator wording.
import { defineStore } from 'pinia'
import { ref } from 'vue'
import type { DestinationInput } from '../../src-shared/ipc/lps'
import type { RecipientKindView, RecipientsView } from '../../src-shared/ipc/recipients'
import { ApiError, api, fieldReason, toApiError } from '../api'
import { followPushes } from './follow'

export interface RecipientError {
  /** `kind:id` of the recipient the failed change was for, or null for the whole card. */
  key: string | null
  message: string
}

export const useRecipientsStore = defineStore('recipients', () => {
  const view = ref<RecipientsView | null>(null)
  const busy = ref<string | null>(null)
  const error = ref<RecipientError | null>(null)

  async function load(): Promise<void> {
    try {
      view.value = await api()['recipients.list']({})
    } catch (e) {
      error.value = { key: null, message: `Recipients could not be loaded: ${toApiError(e).message}` }
    }
  }

  /** Loads now and on every `payouts.changed` push (accrued, paid, a recipient changed). Returns the stop. */
  function follow(): () => void {
    const off = followPushes(['payouts.changed'], load)
    void load()
    return off
  }

  /** Runs one change for `key`; true when it was saved (the list is reloaded). */
  async function change(key: string, f: () => Promise<unknown>): Promise<boolean> {
    busy.value = key
    error.value = null
    try {
      await f()
      await load()
      return true
    } catch (e) {
      const err = toApiError(e)
      error.value = { key, message: err instanceof ApiError && err.field ? fieldReason(err) : err.message }
      return false
    } finally {
      busy.value = null
    }
  }

  const keyOf = (kind: RecipientKindView, id: string) => `${kind}:${id}`
  return {
    follow,
    view,
    busy,
    error,
    load,
    keyOf,
    setDestination: (kind: RecipientKindView, id: string, destination: DestinationInput | null) =>
      change(keyOf(kind, id), () =>
        api()['recipients.setDestination']({ recipientKind: kind, recipientId: id, destination }),
      ),
    setThreshold: (kind: RecipientKindView, id: string, thresholdSat: string) =>
      change(keyOf(kind, id), () =>
        api()['recipients.setThreshold']({ recipientKind: kind, recipientId: id, thresholdSat }),
      ),
    setActive: (kind: RecipientKindView, id: string, active: boolean) =>
      change(keyOf(kind, id), () => api()['recipients.setActive']({ recipientKind: kind, recipientId: id, active })),
    setSplitWeights: (splits: Array<{ id: string; weightPpm: number }>, note?: string) =>
      change('weights', () => api()['recipients.setSplitWeights']({ splits, ...(note ? { note } : {}) })),
  }
})
