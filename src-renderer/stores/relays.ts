// Relays store: the connection state of each configured Nostr relay, for the status bar and the dashboard.
// Same pattern as the ledger store (live-value.ts): subscribe first, then fetch, and never let the fetch
// overwrite a newer push.
import { defineStore } from 'pinia'
import { computed } from 'vue'
import { api, type RelayStatusView } from '../api'
import { useLiveValue } from './live-value'

export const useRelaysStore = defineStore('relays', () => {
  const live = useLiveValue<RelayStatusView>(
    (onPush) => api().on('relay.status', onPush),
    () => api()['relay.status'](),
  )
  const status = live.value

  const total = computed(() => status.value?.relays.length ?? 0)
  const connected = computed(() => status.value?.relays.filter((r) => r.state === 'connected').length ?? 0)

  return { status, error: live.error, total, connected, start: live.start }
})
