// App store: who we are (name, version, runtime) and whether this is a demo build. The demo flag drives the
// permanent warning banner required whenever an emulated signer may be in use (docs/architecture.md §3).
import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import { type AppInfo, api, toApiError } from '../api'

export const useAppStore = defineStore('app', () => {
  const info = ref<AppInfo | null>(null)
  const loadError = ref<string | null>(null)

  async function load(): Promise<void> {
    try {
      info.value = await api()['app.info']()
      loadError.value = null
    } catch (e) {
      loadError.value = toApiError(e).message
    }
  }

  /** The text of the warning banner, or null when there is nothing to warn about. */
  const banner = computed<{ level: 'warn' | 'danger'; text: string } | null>(() => {
    if (loadError.value) return { level: 'danger', text: `Cannot reach the console service: ${loadError.value}` }
    if (info.value?.demo) {
      const flags = info.value.demoFlags.length > 0 ? ` (${info.value.demoFlags.join(', ')})` : ''
      return {
        level: 'warn',
        text: `Demo mode${flags} — keys and payments may be simulated. Do not use this data for accounting or real money.`,
      }
    }
    return null
  })

  return { info, loadError, banner, load }
})
