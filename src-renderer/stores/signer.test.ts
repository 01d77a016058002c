// The signer store against the real contract schemas (fake-bridge.test-support.ts) with pushed events: the confirm
// dialog shows the newest waiting request and its outcome (a late push for an older request never replaces it),
// Cancel goes to the signer the request waits on (device or phone), an outcome reloads the request log, and
// dismiss only closes a finished request.
import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it } from 'vitest'
import type { SignerRequestLogView } from '../../src-shared/ipc/signer-device'
import type { SignerActivity } from '../../src-shared/signer-activity'
import { installFakeBridge } from './fake-bridge.test-support'
import { useSignerStore } from './signer'

const bridge = installFakeBridge()
const listeners = new Map<string, Array<(p: unknown) => void>>()
;(globalThis as unknown as { api: Record<string, unknown> }).api.on = (e: string, cb: (p: unknown) => void) => {
  const l = listeners.get(e) ?? []
  l.push(cb)
  listeners.set(e, l)
  return () =>
    listeners.set(
      e,
      (listeners.get(e) ?? []).filter((x) => x !== cb),
    )
}
const push = (e: string, p: unknown) => {
  for (const cb of listeners.get(e) ?? []) cb(p)
}

const act = (requestId: string, state: SignerActivity['state'], via = 'device'): SignerActivity => ({
  requestId,
  what: 'sign_delegation',
  fields: [{ label: 'Delegate signing to', value: 'npub1…' }],
  state,
  via,
  compareCode: 'ABC123',
})
const tick = () => new Promise((r) => setTimeout(r, 0))

beforeEach(() => {
  setActivePinia(createPinia())
  bridge.calls.length = 0
  listeners.clear()
  const log: SignerRequestLogView = { total: 0, entries: [] }
  bridge.handlers = {
    'signer.status': () => ({
      state: 'ready',
      transport: 'emulator-inproc',
      emulated: true,
      detail: 'Signer ready.',
      info: null,
      pinned: null,
      operatorPubkey: null,
      pinnedDevice: null,
      pinning: false,
      usable: false,
      nextAttemptAtMs: null,
    }),
    'signer.requests': () => log,
    'signer.emulator.screen': () => null,
    'signer.cancel': () => ({ cancelled: true }),
    'remoteSigner.cancel': () => ({ cancelled: true }),
  }
})

describe('signer store', () => {
  it('shows the newest waiting request and its outcome; a late push for an older one does not replace it', async () => {
    const s = useSignerStore()
    const stop = s.start()
    push('signer.activity', act('a', 'waiting'))
    expect(s.activity?.requestId).toBe('a')
    push('signer.activity', act('b', 'waiting'))
    push('signer.activity', act('a', 'refused'))
    expect(s.activity).toMatchObject({ requestId: 'b', state: 'waiting' })
    s.dismiss()
    expect(s.activity?.requestId).toBe('b') // a waiting request cannot be dismissed
    push('signer.activity', { ...act('b', 'refused'), detail: 'You rejected this on the signer.' })
    expect(s.activity).toMatchObject({ requestId: 'b', state: 'refused' })
    await tick()
    expect(bridge.calls.filter((c) => c.method === 'signer.requests').length).toBeGreaterThanOrEqual(1)
    s.dismiss()
    expect(s.activity).toBeNull()
    stop()
  })

  it('Cancel goes to the signer the request waits on', async () => {
    const s = useSignerStore()
    await s.cancel(act('dev-1', 'waiting', 'device'))
    await s.cancel(act('phone-1', 'waiting', 'remote-bunker'))
    expect(bridge.calls.filter((c) => c.method.endsWith('.cancel'))).toEqual([
      { method: 'signer.cancel', args: [{ requestId: 'dev-1' }] },
      { method: 'remoteSigner.cancel', args: [{ requestId: 'phone-1' }] },
    ])
  })

  it('the device state comes from signer.status, then from signer.device pushes', async () => {
    const s = useSignerStore()
    s.start()
    await tick()
    expect(s.device?.state).toBe('ready')
    push('signer.device', { ...(s.device as object), state: 'absent', detail: 'Signer disconnected.' })
    expect(s.device).toMatchObject({ state: 'absent', detail: 'Signer disconnected.' })
  })
})
