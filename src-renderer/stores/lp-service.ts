// LP self-service store (issue 12; docs/lp-rpc.md §7): each LP's self-service switch, answered/refused counts and
// last requests, the refusals of unknown pubkeys, and the operator's on/off actions (global and per LP). Every
// action goes to the main side; on success the status it answers replaces the local one, on failure the error is
// kept and the status is left as it was.
import { defineStore } from 'pinia'
import { ref } from 'vue'
import type { LpServiceStatusView } from '../../src-shared/ipc/lp-service'
import { api, toApiError } from '../api'
import { followPushes } from './follow'

export type { LpServiceLpView, LpServiceRequestView, LpServiceStatusView } from '../../src-shared/ipc/lp-service'

/** Operator-facing words for the refusal reasons of docs/lp-rpc.md §5. */
export const REASON_LABELS: Record<string, string> = {
  unknown_pubkey: 'not a registered LP',
  inactive: 'LP deactivated',
  rate_limited: 'too many requests',
  replayed: 'replayed',
  expired: 'expired',
  no_expiration: 'no expiration',
  lifetime_too_long: 'expiration too far ahead',
  too_large: 'too large',
  decrypt_failed: 'could not decrypt',
  bad_request: 'malformed',
  unknown_method: 'unknown method',
  disabled_global: 'service off',
  disabled_lp: 'off for this LP',
  stale: 'too old',
  internal: 'console error',
}

export function outcomeText(r: { outcome: string; reason: string | null }): string {
  if (r.outcome === 'answered') return 'answered'
  return `refused: ${r.reason ? (REASON_LABELS[r.reason] ?? r.reason) : 'unknown reason'}`
}

export const useLpServiceStore = defineStore('lpService', () => {
  const status = ref<LpServiceStatusView | null>(null)
  const loading = ref(false)
  const error = ref<string | null>(null)
  /** The switch being changed ('*' = global), so its button shows progress and cannot be pressed twice. */
  const busy = ref<string | null>(null)

  async function load(): Promise<void> {
    loading.value = true
    try {
      status.value = await api()['lpService.status']({ limit: 10 })
      error.value = null
    } catch (e) {
      error.value = toApiError(e).message
    } finally {
      loading.value = false
    }
  }

  async function setEnabled(lpId: string | null, enabled: boolean): Promise<boolean> {
    if (busy.value !== null) return false
    busy.value = lpId ?? '*'
    try {
      status.value = await api()['lpService.setEnabled']({ lpId, enabled })
      error.value = null
      return true
    } catch (e) {
      error.value = toApiError(e).message
      return false
    } finally {
      busy.value = null
    }
  }

  /** Loads now and on every `lps.changed` push (a request answered or refused, a switch flipped). Returns the stop. */
  function follow(): () => void {
    const off = followPushes(['lps.changed'], load)
    void load()
    return off
  }

  return { status, loading, error, busy, load, setEnabled, follow }
})
