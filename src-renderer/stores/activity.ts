// Activity store: the newest records of the main side's log (`log.recent`), for the activity table on the Audit
// view. Fetched on demand (when the view opens and on Refresh) rather than streamed: the log is for looking back,
// and polling it would only add noise to itself.
import { defineStore } from 'pinia'
import { ref } from 'vue'
import { api, type LogEntry, type LogLevelName, toApiError } from '../api'

/** How many records the table asks for. */
export const ACTIVITY_LIMIT = 100

export const useActivityStore = defineStore('activity', () => {
  const entries = ref<LogEntry[]>([])
  const minLevel = ref<LogLevelName>('info')
  const loading = ref(false)
  const error = ref<string | null>(null)
  const loadedAtMs = ref<number | null>(null)

  async function load(): Promise<void> {
    loading.value = true
    try {
      // Newest first on screen; the main side answers oldest first.
      const rows = await api()['log.recent']({ limit: ACTIVITY_LIMIT, minLevel: minLevel.value })
      entries.value = [...rows].reverse()
      error.value = null
      loadedAtMs.value = Date.now()
    } catch (e) {
      error.value = toApiError(e).message
    } finally {
      loading.value = false
    }
  }

  return { entries, minLevel, loading, error, loadedAtMs, load }
})
