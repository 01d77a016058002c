// Dashboard store: the server-side aggregates of `dashboard.summary` (src-shared/ipc/settlements.ts), loaded when
// the Dashboard opens and again on every `settlements.changed` push while it is shown. Reloads are coalesced: a
// push that lands while a load is in flight queues exactly one more load, so a burst of bookings costs two calls.
import { defineStore } from 'pinia'
import { ref } from 'vue'
import type { DashboardSummaryView } from '../../src-shared/ipc/settlements'
import { api, toApiError } from '../api'

export type { DashboardSummaryView } from '../../src-shared/ipc/settlements'

export const useDashboardStore = defineStore('dashboard', () => {
  const summary = ref<DashboardSummaryView | null>(null)
  const error = ref<string | null>(null)
  const loading = ref(false)
  let queued = false

  async function load(): Promise<void> {
    if (loading.value) {
      queued = true
      return
    }
    loading.value = true
    try {
      summary.value = await api()['dashboard.summary']({})
      error.value = null
    } catch (e) {
      error.value = toApiError(e).message
    } finally {
      loading.value = false
      if (queued) {
        queued = false
        void load()
      }
    }
  }

  /** Loads now and on every push; returns the unsubscribe. */
  function follow(): () => void {
    const off = api().on('settlements.changed', () => {
      void load()
    })
    void load()
    return off
  }

  return { summary, error, loading, load, follow }
})
