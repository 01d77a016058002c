// Ledger store: the local ledger's health as the status bar shows it. Fed by an initial `ledger.status` call and
// then by `ledger.status` push events; a push that lands while the initial call is in flight wins, because it
// is at least as new.
import { defineStore } from 'pinia'
import { ref } from 'vue'
import { api, type LedgerStatusView, toApiError } from '../api'

export const useLedgerStore = defineStore('ledger', () => {
  const status = ref<LedgerStatusView | null>(null)
  const error = ref<string | null>(null)

  /** Subscribes to pushes, then fetches the current status; returns the unsubscribe. */
  function start(): () => void {
    let pushed = false
    const off = api().on('ledger.status', (s) => {
      pushed = true
      status.value = s
    })
    api()
      ['ledger.status']()
      .then((s) => {
        if (!pushed) status.value = s
        error.value = null
      })
      .catch((e: unknown) => {
        error.value = toApiError(e).message
      })
    return off
  }

  return { status, error, start }
})
