// Ledger store: the local ledger's health as the status bar shows it. Fed by an initial `ledger.status` call and
// then by `ledger.status` push events; a push that lands while the initial call is in flight wins, because it
// is at least as new (see live-value.ts).
import { defineStore } from 'pinia'
import { api, type LedgerStatusView } from '../api'
import { useLiveValue } from './live-value'

export const useLedgerStore = defineStore('ledger', () => {
  const live = useLiveValue<LedgerStatusView>(
    (onPush) => api().on('ledger.status', onPush),
    () => api()['ledger.status'](),
  )
  return { status: live.value, error: live.error, start: live.start }
})
