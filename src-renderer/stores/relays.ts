// Relays store: the connection state of each configured Nostr relay, for the status bar and the dashboard.
// Same pattern as the ledger store: subscribe first, then fetch, and never let the fetch overwrite a newer push.
import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import { api, type RelayStatusView, toApiError } from '../api'

export const useRelaysStore = defineStore('relays', () => {
  const status = ref<RelayStatusView | null>(null)
  const error = ref<string | null>(null)

  const total = computed(() => status.value?.relays.length ?? 0)
  const connected = computed(() => status.value?.relays.filter((r) => r.state === 'connected').length ?? 0)

  function start(): () => void {
    let pushed = false
    const off = api().on('relay.status', (s) => {
      pushed = true
      status.value = s
    })
    api()
      ['relay.status']()
      .then((s) => {
        if (!pushed) status.value = s
        error.value = null
      })
      .catch((e: unknown) => {
        error.value = toApiError(e).message
      })
    return off
  }

  return { status, error, total, connected, start }
})
