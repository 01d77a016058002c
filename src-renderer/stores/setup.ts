// Setup store: what the operator has set up for the fleet and payout pipeline (operator key, operator wallet, console
// key, secret store, relays) and the pipeline's state, kept live from the `setup.status` push event. Saving the
// operator key or the wallet goes through `setup.setOperator` / `setup.setOperatorWallet`; a rejection names the
// field, which becomes that field's inline message. The wallet URI is a secret: it is only ever sent, never kept
// here or shown.
import { defineStore } from 'pinia'
import { ref } from 'vue'
import { api, fieldReason, type SetupStatusView, toApiError } from '../api'
import { useLiveValue } from './live-value'

export type SetupField = 'operatorNpub' | 'nwcUri'

export interface SetupError {
  /** The field the message belongs to; null for a failure that names none (secret store unavailable …). */
  field: SetupField | null
  message: string
}

/** Maps the main side's error to the card's field (`args[0].operatorNpub`) or a card-level message. */
export function setupError(field: string | undefined, message: string, reason: string): SetupError {
  const m = /^args\[0\]\.(operatorNpub|nwcUri)$/.exec(field ?? '')
  return m ? { field: m[1] as SetupField, message: reason } : { field: null, message }
}

export const useSetupStore = defineStore('setup', () => {
  const live = useLiveValue<SetupStatusView>(
    (onPush) => api().on('setup.status', onPush),
    () => api()['setup.status'](),
  )
  const saving = ref<SetupField | null>(null)
  const error = ref<SetupError | null>(null)

  async function refresh(): Promise<void> {
    try {
      live.value.value = await api()['setup.status']()
      live.error.value = null
    } catch (e) {
      live.error.value = toApiError(e).message
    }
  }

  async function run(field: SetupField, call: () => Promise<SetupStatusView>): Promise<boolean> {
    saving.value = field
    error.value = null
    try {
      live.value.value = await call()
      return true
    } catch (e) {
      const err = toApiError(e)
      error.value = setupError(err.field, err.message, fieldReason(err))
      return false
    } finally {
      saving.value = null
    }
  }

  /** Pins the operator key (npub or hex). Returns true on success. */
  const saveOperator = (operatorNpub: string) =>
    run('operatorNpub', () => api()['setup.setOperator']({ operatorNpub: operatorNpub.trim() }))

  /** Seals the operator wallet's NWC URI on the main side. Returns true on success. */
  const saveWallet = (nwcUri: string) =>
    run('nwcUri', () => api()['setup.setOperatorWallet']({ nwcUri: nwcUri.trim() }))

  return {
    status: live.value,
    loadError: live.error,
    start: live.start,
    refresh,
    saving,
    error,
    saveOperator,
    saveWallet,
  }
})
