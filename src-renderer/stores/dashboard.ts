// Dashboard store: the server-side aggregates of `dashboard.summary` (src-shared/ipc/settlements.ts), loaded when
// the Dashboard opens and again on every push that moves one of its figures while it is shown. Reloads are coalesced: a
// push that lands while a load is in flight queues exactly one more load, so a burst of bookings costs two calls.
import { defineStore } from 'pinia'
import { ref } from 'vue'
import type { DashboardSummaryView } from '../../src-shared/ipc/settlements'
import { api, toApiError } from '../api'
import { followPushes } from './follow'

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

  /**
   * Loads now and on every push that moves a figure here — settlements, the fleet (machines needing attention),
   * LPs (distributions), payouts and the worklist counts; returns the unsubscribe.
   */
  function follow(): () => void {
    const off = followPushes(
      ['settlements.changed', 'fleet.changed', 'lps.changed', 'payouts.changed', 'worklist.changed'],
      load,
    )
    void load()
    return off
  }

  return { summary, error, loading, load, follow }
})
