// Bunker store: the local NIP-46 bunker (clients, connect URI, request log) and the remote-bunker operator signer
// (docs/nip46-bunker.md). Pushes (`bunker.status`, `remoteSigner.status`, `signer.activity`) keep it live; the
// connect URI is kept only in memory until the operator closes it.
import { defineStore } from 'pinia'
import { ref, watch } from 'vue'
import type { BunkerConnectView, BunkerLogView, BunkerStatusView, RemoteSignerView } from '../../src-shared/ipc/bunker'
import type { SignerActivity } from '../../src-shared/signer-activity'
import { api, toApiError } from '../api'
import { useLiveValue } from './live-value'

export type Permissions = {
  methods: Array<'get_public_key' | 'sign_event' | 'nip44_encrypt' | 'nip44_decrypt'>
  kinds: number[]
  dTagPatterns: string[]
}

export const LOG_PAGE = 20

export const useBunkerStore = defineStore('bunker', () => {
  const status = useLiveValue<BunkerStatusView>(
    (onPush) => api().on('bunker.status', onPush),
    () => api()['bunker.status'](),
  )
  const remote = useLiveValue<RemoteSignerView>(
    (onPush) => api().on('remoteSigner.status', onPush),
    () => api()['remoteSigner.status'](),
  )
  // A new or revoked client means new log lines: reload the page being looked at.
  watch(status.value, () => {
    if (stopAll) void loadLog(logOffset.value)
  })
  const activity = ref<SignerActivity | null>(null)
  const connect = ref<BunkerConnectView | null>(null)
  const log = ref<BunkerLogView | null>(null)
  const logOffset = ref(0)
  const busy = ref(false)
  const error = ref<string | null>(null)

  // Both Signer-screen cards start the store; it subscribes once and stops when the last one leaves.
  let users = 0
  let stopAll: (() => void) | null = null
  function start(): () => void {
    users++
    if (!stopAll) {
      const a = status.start()
      const b = remote.start()
      const c = api().on('signer.activity', (x) => {
        activity.value = x
      })
      void loadLog(0)
      stopAll = () => {
        a()
        b()
        c()
      }
    }
    let done = false
    return () => {
      if (done) return
      done = true
      users--
      if (users === 0 && stopAll) {
        stopAll()
        stopAll = null
      }
    }
  }

  async function run<T>(f: () => Promise<T>): Promise<T | undefined> {
    busy.value = true
    error.value = null
    try {
      return await f()
    } catch (e) {
      error.value = toApiError(e).message
      return undefined
    } finally {
      busy.value = false
    }
  }

  const refresh = async () => {
    status.value.value = await api()['bunker.status']()
  }
  const issue = (name: string, permissions: Permissions) =>
    run(async () => {
      connect.value = await api()['bunker.issueConnect']({ name, permissions })
    })
  const acceptNostrConnect = (uri: string, permissions: Permissions) =>
    run(async () => {
      await api()['bunker.acceptNostrConnect']({ uri, permissions })
      await refresh()
    })
  const revoke = (pubkey: string) =>
    run(async () => {
      await api()['bunker.revoke']({ pubkey })
      await refresh()
      await loadLog(logOffset.value)
    })
  async function loadLog(offset: number): Promise<void> {
    try {
      log.value = await api()['bunker.log']({ offset, limit: LOG_PAGE })
      logOffset.value = offset
    } catch (e) {
      log.value = null
      error.value ??= toApiError(e).message
    }
  }
  const connectRemote = (bunkerUri: string) =>
    run(async () => {
      remote.value.value = await api()['remoteSigner.connect']({ bunkerUri })
    })
  const showNostrConnect = () =>
    run(async () => {
      remote.value.value = await api()['remoteSigner.nostrConnect']()
    })
  const cancelActivity = (requestId: string) =>
    run(async () => {
      await api()['remoteSigner.cancel']({ requestId })
    })
  const disconnectRemote = () =>
    run(async () => {
      remote.value.value = await api()['remoteSigner.disconnect']()
    })

  return {
    status: status.value,
    remote: remote.value,
    activity,
    connect,
    log,
    logOffset,
    busy,
    error,
    start,
    issue,
    acceptNostrConnect,
    revoke,
    loadLog,
    connectRemote,
    showNostrConnect,
    disconnectRemote,
    cancelActivity,
  }
})
