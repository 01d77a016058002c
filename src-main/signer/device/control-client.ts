// Client of the emulator's HTTP control port (`satmachine signer-emu`, docs/signer-protocol.md §10), and the same
// async shape over an in-process DeviceCore, so one test script drives either emulator.
import type { DeviceCore } from '../../../src-shared/nshp/device-core'
import type { Button, DeviceState, EmulatorConfig, Fault, ScreenSnapshot } from '../../../src-shared/nshp/types'

export interface EmulatorRemote {
  screen(): Promise<ScreenSnapshot>
  press(button: Button): Promise<void>
  enterPin(digits: string): Promise<boolean>
  lock(): Promise<void>
  unplug(): Promise<void>
  replug(): Promise<void>
  configure(config: Partial<EmulatorConfig>): Promise<EmulatorConfig>
  fault(fault: Fault): Promise<void>
  waitFor(state: DeviceState, timeoutMs?: number): Promise<ScreenSnapshot>
}

export function httpEmulatorControl(controlPort: number, host = '127.0.0.1'): EmulatorRemote {
  const base = `http://${host}:${controlPort}`
  const call = async <T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${base}${path}`, {
      method,
      ...(method === 'POST'
        ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body ?? {}) }
        : {}),
    })
    const json = (await res.json()) as T & { error?: string }
    if (!res.ok) throw new Error(`emulator control ${path}: ${json.error ?? res.status}`)
    return json
  }
  return {
    screen: () => call<ScreenSnapshot>('GET', '/screen'),
    press: async (button) => void (await call('POST', '/button', { button })),
    enterPin: async (digits) => (await call<{ ok: boolean }>('POST', '/pin', { digits })).ok,
    lock: async () => void (await call('POST', '/lock')),
    unplug: async () => void (await call('POST', '/unplug')),
    replug: async () => void (await call('POST', '/replug')),
    configure: (config) => call<EmulatorConfig>('POST', '/config', config),
    fault: async (fault) => void (await call('POST', '/fault', { fault })),
    waitFor: (state, timeoutMs = 10_000) =>
      call<ScreenSnapshot>('GET', `/screen?wait=${encodeURIComponent(state)}&timeout=${timeoutMs}`),
  }
}

export function localEmulatorControl(core: DeviceCore): EmulatorRemote {
  return {
    screen: async () => core.screen(),
    press: async (b) => core.press(b),
    enterPin: async (d) => core.enterPin(d),
    lock: async () => core.lock(),
    unplug: async () => core.unplug(),
    replug: async () => core.replug(),
    configure: async (c) => core.configure(c),
    fault: async (f) => core.fault(f),
    waitFor: (s, t) => core.waitFor(s, t),
  }
}
