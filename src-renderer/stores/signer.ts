// Signer store: the operator's hardware signer as the console sees it (docs/signer-host.md) — its state, what is
// pinned, the request log, the request waiting for confirmation (any signer: device or phone), and in demo mode
// the emulated device's screen. Pushes (`signer.device`, `signer.activity`, `signer.emulator.screen`) keep it
// live; App.vue starts it once, so the confirm dialog appears on whichever screen the operator is on.
import { defineStore } from 'pinia'
import { ref } from 'vue'
import type {
  SignerDeviceView,
  SignerEmulatorScreenView,
  SignerRequestLogView,
} from '../../src-shared/ipc/signer-device'
import type { SignerActivity } from '../../src-shared/signer-activity'
import { api, toApiError } from '../api'
import { useLiveValue } from './live-value'

export const REQUEST_PAGE = 20

export const useSignerStore = defineStore('signer', () => {
  const device = useLiveValue<SignerDeviceView>(
    (onPush) => api().on('signer.device', onPush),
    () => api()['signer.status'](),
  )
  /** The request shown in the confirm dialog: the waiting one, or the last outcome until dismissed. */
  const activity = ref<SignerActivity | null>(null)
  const screen = ref<SignerEmulatorScreenView | null>(null)
  const requests = ref<SignerRequestLogView | null>(null)
  const requestsOffset = ref(0)
  const busy = ref(false)
  const error = ref<string | null>(null)

  async function loadRequests(offset: number): Promise<void> {
    try {
      requests.value = await api()['signer.requests']({ offset, limit: REQUEST_PAGE })
      requestsOffset.value = offset
    } catch (e) {
      requests.value = null
      error.value ??= toApiError(e).message
    }
  }

  async function loadScreen(): Promise<void> {
    try {
      screen.value = await api()['signer.emulator.screen']()
    } catch {
      screen.value = null
    }
  }

  let stopAll: (() => void) | null = null
  function start(): () => void {
    if (!stopAll) {
      const a = device.start()
      const b = api().on('signer.activity', (x) => {
        // A new request replaces the shown one; a late push for an older request never does.
        if (x.state === 'waiting' || !activity.value || activity.value.requestId === x.requestId) activity.value = x
        if (x.state !== 'waiting') void loadRequests(requestsOffset.value)
        if (x.via === 'device') void loadScreen()
      })
      const c = api().on('signer.emulator.screen', (s) => {
        screen.value = s
      })
      void loadScreen()
      stopAll = () => {
        a()
        b()
        c()
      }
    }
    return () => {
      stopAll?.()
      stopAll = null
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

  const connect = () =>
    run(async () => {
      device.value.value = await api()['signer.connect']()
    })
  const pin = () =>
    run(async () => {
      device.value.value = await api()['signer.pin']()
    })
  const forget = () =>
    run(async () => {
      device.value.value = await api()['signer.forget']()
    })
  /** Cancel on whichever signer the request waits on. */
  async function cancel(a: SignerActivity): Promise<void> {
    try {
      if (a.via === 'remote-bunker') await api()['remoteSigner.cancel']({ requestId: a.requestId })
      else await api()['signer.cancel']({ requestId: a.requestId })
    } catch (e) {
      error.value = toApiError(e).message
    }
  }
  const dismiss = () => {
    if (activity.value && activity.value.state !== 'waiting') activity.value = null
  }
  async function press(button: 'next' | 'prev' | 'approve' | 'reject'): Promise<void> {
    try {
      screen.value = await api()['signer.emulator.press']({ button })
    } catch (e) {
      error.value = toApiError(e).message
    }
  }
  async function enterPin(digits: string): Promise<boolean> {
    try {
      screen.value = await api()['signer.emulator.pin']({ digits })
      return true
    } catch (e) {
      error.value = toApiError(e).message
      return false
    }
  }

  return {
    device: device.value,
    deviceError: device.error,
    activity,
    screen,
    requests,
    requestsOffset,
    busy,
    error,
    start,
    loadRequests,
    loadScreen,
    connect,
    pin,
    forget,
    cancel,
    dismiss,
    press,
    enterPin,
  }
})
