// DeviceManager state model against a scripted NSHP client (the transport and the client are 8a's; here each
// device answer is released by the test): discovery with backoff, pinning only after the device confirmed,
// absent / locked / ready / busy / error, a second request while busy answered at once, unplug mid-request ends it
// as "nothing signed" and nothing is re-sent, wrong serial and wrong key block. The same flows over the real
// emulators are in test/interop/signer-device.test.ts.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ApiError } from '../../src-shared/ipc/contract'
import type { SignerDeviceView } from '../../src-shared/ipc/signer-device'
import { memoryLogger } from '../../src-shared/log'
import { publicKeyHex } from '../../src-shared/nostr/event'
import type { DeviceInfo, ReportTransport, SignerClientApi } from '../../src-shared/nshp/types'
import { SignerError } from '../../src-shared/nshp/types'
import type { SignerActivity } from '../../src-shared/signer-activity'
import { DeviceManager, type ReviewFns } from './device-manager'
import { type DeviceStore, openDeviceStore } from './device-store'
import { withRequester } from './requester'
import { createSoftwareSigner } from './software-signer'

const SK = new Uint8Array(32).fill(7)
const PK = publicKeyHex(SK)
const OTHER = publicKeyHex(new Uint8Array(32).fill(8))

type Gate = { resolve: () => void; reject: (e: Error) => void }

/** A scripted device: every reviewed command waits until the test approves or rejects it. */
class FakeDevice {
  info: DeviceInfo = {
    protocolVersion: 1,
    firmwareVersion: '0.1.0-test',
    model: 'Test signer',
    serial: 'SN-1',
    commands: [],
    reportBytes: 64,
    maxMessageBytes: 16384,
    locked: false,
    demo: true,
  }
  pubkey = PK
  present = true
  opens = 0
  gates: Gate[] = []
  sent: string[] = []
  closeListeners: Array<(r: string) => void> = []
  client: SignerClientApi | null = null

  unplug() {
    this.present = false
    for (const g of this.gates.splice(0)) g.reject(new SignerError('unplugged', 'device gone'))
    for (const l of this.closeListeners.splice(0)) l('unplugged')
  }

  async waitForGate(): Promise<Gate> {
    for (let i = 0; i < 200 && this.gates.length === 0; i++) await new Promise((r) => setTimeout(r, 5))
    const g = this.gates.shift()
    if (!g) throw new Error('no request reached the device')
    return g
  }

  createClient(): SignerClientApi {
    let pinned: string | null = null
    let busy = false
    const reviewed = <T>(what: string, fn: () => Promise<T>, signal?: AbortSignal): Promise<T> => {
      this.sent.push(what)
      busy = true
      return new Promise<void>((resolve, reject) => {
        this.gates.push({ resolve, reject })
        signal?.addEventListener('abort', () => reject(new SignerError('cancelled', 'cancelled')))
      })
        .then(fn)
        .finally(() => {
          busy = false
        })
    }
    const soft = createSoftwareSigner(SK)
    const c: SignerClientApi = {
      transport: { kind: 'emulator-inproc' } as ReportTransport,
      get pinnedPubkey() {
        return pinned
      },
      pin: (pk) => {
        pinned = pk
      },
      getInfo: async () => ({ ...this.info }),
      getPublicKey: async (o) => {
        if (this.info.locked) throw new SignerError('locked', 'locked')
        if (!o?.display) return this.pubkey
        return reviewed('get_public_key', async () => this.pubkey, o.signal)
      },
      signEvent: (t, o) => reviewed('sign_event', () => soft.signEvent(t), o?.signal),
      signDelegation: (r, o) => reviewed('sign_delegation', () => soft.signDelegation(r), o?.signal),
      nip44Encrypt: (p, x, o) => reviewed('nip44_encrypt', () => soft.nip44Encrypt(p, x), o?.signal),
      nip44Decrypt: (p, x, o) => reviewed('nip44_decrypt', () => soft.nip44Decrypt(p, x), o?.signal),
      ping: async (d) => d,
      cancel: async () => undefined,
      get busy() {
        return busy
      },
      asSigner: () => soft,
      onClose: (l) => {
        this.closeListeners.push(l)
        return () => undefined
      },
      close: async () => undefined,
    }
    this.client = c
    return c
  }
}

const review: ReviewFns = {
  signEvent: (t) => ({ command: 'SIGN_EVENT', pages: [{ title: `Kind ${t.kind}`, lines: [] }], compareCode: 'ABC123' }),
  delegation: (r) => ({
    command: 'SIGN_DELEGATION',
    pages: [{ title: 'Delegate', lines: [{ label: 'To', value: r.delegateePubkey }] }],
  }),
  publicKey: (pk) => ({
    command: 'GET_PUBLIC_KEY',
    pages: [{ title: 'Your key', lines: [{ label: 'npub', value: pk }] }],
  }),
  nip44Encrypt: () => ({ command: 'NIP44_ENCRYPT', pages: [] }),
  nip44Decrypt: () => ({ command: 'NIP44_DECRYPT', pages: [] }),
}

describe('DeviceManager', () => {
  let dir: string
  let store: DeviceStore
  let dev: FakeDevice
  let operator: string | null
  let m: DeviceManager
  let views: SignerDeviceView[]
  let acts: SignerActivity[]

  const make = () =>
    new DeviceManager({
      opener: {
        kind: 'emulator-inproc',
        open: async () => {
          dev.opens++
          return dev.present ? ({ kind: 'emulator-inproc' } as ReportTransport) : null
        },
      },
      createClient: () => dev.createClient(),
      review,
      store,
      operatorPubkey: () => operator,
      setOperatorPubkey: async (pk) => {
        operator = pk
      },
      log: memoryLogger(),
      onDevice: (v) => views.push(v),
      onActivity: (a) => acts.push(a),
      backoff: { initialMs: 5, maxMs: 40 },
      lockedPollMs: 10,
    })

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'signer-dm-'))
    store = await openDeviceStore(dir, memoryLogger())
    dev = new FakeDevice()
    operator = null
    views = []
    acts = []
    m = make()
  })
  afterEach(async () => {
    await m.stop()
    await rm(dir, { recursive: true, force: true })
  })

  const until = async (f: () => boolean) => {
    for (let i = 0; i < 400 && !f(); i++) await new Promise((r) => setTimeout(r, 5))
    expect(f()).toBe(true)
  }

  it('discovery retries with growing backoff while absent, then connects; no signer before pinning', async () => {
    dev.present = false
    m.start()
    await until(() => dev.opens >= 4)
    expect(m.view().state).toBe('absent')
    expect(m.view().nextAttemptAtMs).not.toBeNull()
    dev.present = true
    await until(() => m.view().state === 'ready')
    expect(m.view().info?.serial).toBe('SN-1')
    expect(m.view().usable).toBe(false)
    expect(m.provider().current()).toBeNull()
    expect(m.provider().describe()).toMatch(/Pin your signer/)
  })

  it('pinning: the device shows the npub; only after approve are npub + serial pinned (and a new operator key set)', async () => {
    m.start()
    await until(() => m.view().state === 'ready')
    const p = m.pin()
    await (await dev.waitForGate()).resolve()
    const v = await p
    expect(v.pinned?.pubkey).toBe(PK)
    expect(v.pinned?.serial).toBe('SN-1')
    expect(v.pinned?.npub).toMatch(/^npub1/)
    expect(operator).toBe(PK)
    expect(v.usable).toBe(true)
    expect(acts[0]?.what).toBe('get_public_key')
    expect(acts[0]?.pages?.[0]?.lines[0]?.value).toBe(PK)
    expect(m.provider().current()).not.toBeNull()
    // The pin survives a restart of the store.
    const again = await openDeviceStore(dir, memoryLogger())
    expect(again.pin()?.serial).toBe('SN-1')
  })

  it('a rejection at pinning pins nothing; a device with another key than the operator key is refused', async () => {
    m.start()
    await until(() => m.view().state === 'ready')
    const p = m.pin()
    ;(await dev.waitForGate()).reject(new SignerError('user-rejected', 'no'))
    await expect(p).rejects.toThrow(/rejected/)
    expect(m.view().pinned).toBeNull()
    operator = OTHER
    const p2 = m.pin()
    ;(await dev.waitForGate()).resolve()
    await expect(p2).rejects.toThrow(/different key/)
    expect(m.view().pinned).toBeNull()
  })

  async function pinned() {
    m.start()
    await until(() => m.view().state === 'ready')
    const p = m.pin()
    ;(await dev.waitForGate()).resolve()
    await p
  }

  it('signs through the device: busy while waiting, a second request answered busy at once, outcome logged', async () => {
    await pinned()
    const signer = m.provider().current()
    if (!signer) throw new Error('no signer')
    const t = { kind: 30078, created_at: 1_700_000_000, tags: [['d', 'x']], content: 'hi' }
    const first = withRequester({ label: 'NIP-46 client "Notes"', clientLabel: 'Notes' }, () => signer.signEvent(t))
    await until(() => m.view().state === 'busy')
    await expect(signer.signEvent(t)).rejects.toMatchObject({ code: 'busy' })
    expect(dev.sent.filter((s) => s === 'sign_event')).toHaveLength(1)
    ;(await dev.waitForGate()).resolve()
    const ev = await first
    expect(ev.pubkey).toBe(PK)
    expect(m.view().state).toBe('ready')
    const waiting = acts.find((a) => a.what === 'sign_event' && a.state === 'waiting')
    expect(waiting?.compareCode).toBe('ABC123')
    expect(waiting?.requester).toBe('NIP-46 client "Notes"')
    expect(acts.at(-1)?.state).toBe('approved')
    const log = m.requests(0, 10)
    expect(log.entries[0]).toMatchObject({
      what: 'sign_event',
      outcome: 'approved',
      requester: 'NIP-46 client "Notes"',
    })
    expect(log.entries[0]?.summary).toBe('kind 30078 d=x')
  })

  it('a refusal on the device ends with a clear message and the log says refused', async () => {
    await pinned()
    const signer = m.provider().current()
    if (!signer) throw new Error('no signer')
    const p = signer.signDelegation({ delegateePubkey: OTHER, conditions: 'kind=30079' })
    ;(await dev.waitForGate()).reject(new SignerError('user-rejected', 'rejected'))
    const e = await p.catch((x: unknown) => x)
    expect(e).toBeInstanceOf(ApiError)
    expect((e as ApiError).message).toMatch(/You rejected this on the signer. Nothing was signed or published/)
    expect(m.requests(0, 1).entries[0]?.outcome).toBe('refused')
  })

  it('unplug mid-request: that request ends "nothing signed", state absent, and nothing is re-sent after replug', async () => {
    await pinned()
    const signer = m.provider().current()
    if (!signer) throw new Error('no signer')
    const p = signer.nip44Encrypt(OTHER, 'hello')
    await until(() => dev.gates.length === 1)
    dev.unplug()
    await expect(p).rejects.toThrow(/disconnected — nothing was signed/)
    expect(m.view().state).toBe('absent')
    expect(m.provider().current()).toBeNull()
    expect(m.requests(0, 1).entries[0]?.outcome).toBe('unplugged')
    const sentBefore = dev.sent.length
    dev.present = true
    await until(() => m.view().state === 'ready')
    expect(m.view().usable).toBe(true)
    expect(dev.sent.length).toBe(sentBefore)
  })

  it('cancel from the dialog ends the request as cancelled', async () => {
    await pinned()
    const signer = m.provider().current()
    if (!signer) throw new Error('no signer')
    const p = signer.nip44Decrypt(OTHER, 'payload')
    await until(() => acts.some((a) => a.what === 'nip44_decrypt'))
    const id = acts.find((a) => a.what === 'nip44_decrypt')?.requestId as string
    expect(m.cancel('nope')).toBe(false)
    expect(m.cancel(id)).toBe(true)
    await expect(p).rejects.toThrow(/Cancelled/)
    expect(acts.at(-1)?.state).toBe('cancelled')
  })

  it('locked: state locked until the PIN is entered; another serial than the pinned one is an error', async () => {
    await pinned()
    await m.stop()
    dev = new FakeDevice()
    dev.info.locked = true
    m = make()
    m.start()
    await until(() => m.view().state === 'locked')
    expect(m.provider().current()).toBeNull()
    dev.info.locked = false
    await until(() => m.view().state === 'ready')
    await m.stop()
    dev = new FakeDevice()
    dev.info.serial = 'SN-2'
    m = make()
    m.start()
    await until(() => m.view().state === 'error')
    expect(m.view().detail).toMatch(/not your pinned signer/)
    expect(m.provider().current()).toBeNull()
    await m.forget()
    expect(m.view().pinned).toBeNull()
  })

  it('a device answering another key than the pinned one is an error, nothing usable', async () => {
    await pinned()
    await m.stop()
    dev = new FakeDevice()
    dev.pubkey = OTHER
    m = make()
    m.start()
    await until(() => m.view().state === 'error')
    expect(m.view().detail).toMatch(/different key/)
    expect(m.provider().current()).toBeNull()
  })
})
