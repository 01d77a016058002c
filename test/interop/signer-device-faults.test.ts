// Every transport and device fault of an NSHP/1 signer ends in the right typed outcome at the SignerClient level,
// over BOTH emulators: the in-process one and the TCP one (`signer-emu` servers, real sockets, HTTP control API).
// Button presses are scripted through the control API once the device shows its review; nothing waits on a sleep.
import { hexToBytes } from '@noble/hashes/utils.js'
import { afterEach, describe, expect, it } from 'vitest'
import {
  type EmulatorRemote,
  httpEmulatorControl,
  localEmulatorControl,
} from '../../src-main/signer/device/control-client'
import { startSignerEmulator } from '../../src-main/signer/device/emu-server'
import { createInProcessEmulator } from '../../src-main/signer/device/inproc'
import { connectTcpEmulator } from '../../src-main/signer/device/tcp'
import { buildConditions, verifyDelegationToken } from '../../src-shared/nostr/nip26'
import { createSignerClient, type SignerClient } from '../../src-shared/nshp/client'
import { type Fault, type ReportTransport, SignerError, type SignerErrorCode } from '../../src-shared/nshp/types'

const SECRET = hexToBytes('7f'.repeat(31) + '01')
const PEER = 'c6047f9441ed7d6d3045406e95c07cd85c778e4b8cef3ca7abac09b95c709ee5' // x-only pubkey of secret key 2
const TIMEOUTS = { inactivityMs: 800, commandMs: 4000, reviewMs: 6000 }
const CONFIG = { keepaliveMs: 50, reviewTimeoutMs: 4000 }

interface Rig {
  client: SignerClient
  remote: EmulatorRemote
  pubkey: string
  /** A fresh transport + client after a replug. */
  reconnect(): Promise<SignerClient>
  close(): Promise<void>
}

async function inprocRig(extra: { pin?: string; locked?: boolean } = {}): Promise<Rig> {
  const emu = createInProcessEmulator({ mode: 'test', secretKey: SECRET, config: CONFIG, ...extra })
  const make = (t: ReportTransport) =>
    createSignerClient({ transport: t, pinnedPubkey: emu.pubkey, timeouts: TIMEOUTS })
  const client = make(emu.transport())
  return {
    client,
    remote: localEmulatorControl(emu.core),
    pubkey: emu.pubkey,
    reconnect: async () => make(emu.transport()),
    close: async () => client.close(),
  }
}

async function tcpRig(extra: { pin?: string; locked?: boolean } = {}): Promise<Rig> {
  const server = await startSignerEmulator({ mode: 'test', secretKey: SECRET, config: CONFIG, ...extra })
  const make = async () =>
    createSignerClient({
      transport: await connectTcpEmulator({ port: server.dataPort }),
      pinnedPubkey: server.core.pubkey,
      timeouts: TIMEOUTS,
    })
  const client = await make()
  return {
    client,
    remote: httpEmulatorControl(server.controlPort),
    pubkey: server.core.pubkey,
    reconnect: make,
    close: async () => {
      await client.close()
      await server.close()
    },
  }
}

const template = (content = 'config v2 "quoted" \\ back\nslash ü 😀') => ({
  created_at: 1_767_225_600,
  kind: 30078,
  tags: [['d', 'satmachine:machine:abc']],
  content,
})

async function expectCode(p: Promise<unknown>, code: SignerErrorCode): Promise<SignerError> {
  try {
    await p
  } catch (e) {
    expect(e).toBeInstanceOf(SignerError)
    expect((e as SignerError).code, (e as Error).message).toBe(code)
    return e as SignerError
  }
  throw new Error(`expected SignerError(${code}), the call succeeded`)
}

describe.each([
  ['in-process', inprocRig],
  ['tcp', tcpRig],
] as const)('NSHP/1 faults over the %s emulator', (_name, makeRig) => {
  let rig: Rig
  afterEach(async () => rig?.close())

  /** Approves on the device once the review is shown (the operator's button press). */
  const approveWhenShown = async () => {
    await rig.remote.waitFor('reviewing')
    await rig.remote.press('approve')
  }

  const signWithFault = async (fault: Fault) => {
    await rig.remote.fault(fault)
    const [res] = await Promise.allSettled([rig.client.signEvent(template()), approveWhenShown()])
    return res
  }

  it('baseline: sign an event, a delegation, NIP-44 round trip, all verified under the pinned key', async () => {
    rig = await makeRig()
    const info = await rig.client.getInfo()
    expect(info).toMatchObject({ protocolVersion: 1, reportBytes: 64, demo: true, locked: false })
    expect(info.commands).toContain('SIGN_DELEGATION')
    const [ev] = await Promise.all([rig.client.signEvent(template()), approveWhenShown()])
    expect(ev.pubkey).toBe(rig.pubkey)
    const conditions = buildConditions({
      kinds: [30079],
      createdAfter: 1_767_225_600,
      createdBefore: 1_767_225_600 + 86_400 * 30,
    })
    const [token] = await Promise.all([
      rig.client.signDelegation({ delegateePubkey: PEER, conditions }),
      approveWhenShown(),
    ])
    expect(verifyDelegationToken(rig.pubkey, PEER, conditions, token)).toBe(true)
    const [payload] = await Promise.all([rig.client.nip44Encrypt(PEER, 'hello ATM'), approveWhenShown()])
    const [plain] = await Promise.all([rig.client.nip44Decrypt(PEER, payload), approveWhenShown()])
    expect(plain).toBe('hello ATM')
  })

  it('a dropped report is a protocol error; the client keeps working afterwards', async () => {
    rig = await makeRig()
    const res = await signWithFault('drop-report')
    expect(res.status === 'rejected' && (res.reason as SignerError).code).toBe('protocol-error')
    expect(await rig.client.ping(new Uint8Array([1, 2, 3]))).toEqual(new Uint8Array([1, 2, 3]))
  })

  it.each([
    ['duplicate-report', 'protocol-error'],
    ['sequence-gap', 'protocol-error'],
    ['wrong-tag', 'protocol-error'],
    ['truncated-length', 'protocol-error'],
    ['oversize-length', 'protocol-error'],
    ['garbage', 'protocol-error'],
    ['wrong-request-id', 'protocol-error'],
    ['wrong-channel', 'timeout'],
    ['corrupt-signature', 'verification-failed'],
    ['wrong-event-id', 'verification-failed'],
    ['different-pubkey', 'wrong-key'],
    ['unplug-mid-response', 'unplugged'],
  ] as [Fault, SignerErrorCode][])('fault %s on the answer → %s, nothing signed', async (fault, code) => {
    rig = await makeRig()
    const res = await signWithFault(fault)
    expect(res.status).toBe('rejected')
    const err = (res as PromiseRejectedResult).reason as SignerError
    expect(err).toBeInstanceOf(SignerError)
    expect(err.code, err.message).toBe(code)
    expect(err.nothingSigned).toBe(true)
    if (code === 'timeout') expect(err.detail.phase).toBe('inactivity')
  })

  it('leftovers of an answer given up on (slow reports) do not spoil the next request', async () => {
    rig = await makeRig()
    await rig.remote.configure({ reportDelayMs: 30 })
    const res = await signWithFault('sequence-gap')
    expect(res.status === 'rejected' && (res.reason as SignerError).code).toBe('protocol-error')
    // The rest of the broken answer is still arriving while the next request runs.
    expect(await rig.client.ping(new Uint8Array([9]))).toEqual(new Uint8Array([9]))
  })

  it('foreign-channel frames interleaved with the answer are ignored: the event still verifies', async () => {
    rig = await makeRig()
    const res = await signWithFault('foreign-channel-interleave')
    expect(res.status === 'fulfilled' && res.value.pubkey).toBe(rig.pubkey)
  })

  it('a different pubkey from GET_PUBLIC_KEY is refused; a corrupt delegation token is caught', async () => {
    rig = await makeRig()
    await rig.remote.fault('different-pubkey')
    await expectCode(rig.client.getPublicKey(), 'wrong-key')
    expect(await rig.client.getPublicKey()).toBe(rig.pubkey)
    await rig.remote.fault('corrupt-signature')
    const conditions = `kind=30079&created_at>1767225600&created_at<${1767225600 + 86400}`
    const [res] = await Promise.allSettled([
      rig.client.signDelegation({ delegateePubkey: PEER, conditions }),
      approveWhenShown(),
    ])
    expect(res.status === 'rejected' && (res.reason as SignerError).code).toBe('verification-failed')
  })

  it('no STATUS frames during the review: the host inactivity timeout ends it', async () => {
    rig = await makeRig()
    await rig.remote.fault('no-status')
    const err = await expectCode(rig.client.signEvent(template()), 'timeout')
    expect(err.detail.phase).toBe('inactivity')
  })

  it('a stall after the last request frame: the host inactivity timeout ends it', async () => {
    rig = await makeRig()
    await rig.remote.fault('stall')
    const err = await expectCode(rig.client.getInfo(), 'timeout')
    expect(err.detail.phase).toBe('inactivity')
  })

  it('keepalives keep a slow review alive past the inactivity timeout; the absolute cap still holds', async () => {
    rig = await makeRig()
    await rig.remote.configure({ autoApprove: true, autoApproveAfterMs: 1500 })
    const ev = await rig.client.signEvent(template())
    expect(ev.pubkey).toBe(rig.pubkey)
    await rig.remote.configure({ autoApprove: false })
    const short = createSignerClient({
      transport: rig.client.transport,
      pinnedPubkey: rig.pubkey,
      timeouts: { ...TIMEOUTS, reviewMs: 1200 },
    })
    const err = await expectCode(short.signEvent(template()), 'timeout')
    expect(err.detail.phase).toBe('absolute')
  })

  it('keepalives report the state and the review page the operator is on', async () => {
    rig = await makeRig()
    const seen: string[] = []
    let onPage2!: (r: { page: number; pages: number }) => void
    const page2 = new Promise<{ page: number; pages: number }>((r) => {
      onPage2 = r
    })
    const p = rig.client.signEvent(template(), {
      onStatus: (s, r) => {
        seen.push(s)
        if (r?.page === 2) onPage2(r)
      },
    })
    await rig.remote.waitFor('reviewing')
    await rig.remote.press('next')
    expect(await page2).toEqual({ page: 2, pages: 5 })
    expect(seen).toContain('reviewing')
    await rig.remote.press('approve')
    expect((await p).pubkey).toBe(rig.pubkey)
  })

  it('a slow device (processing and per-report delays) stays alive on PROCESSING keepalives', async () => {
    rig = await makeRig()
    await rig.remote.configure({ processingDelayMs: 1200, reportDelayMs: 20 })
    const seen: string[] = []
    const info = await rig.client.getInfo({ onStatus: (s) => seen.push(s) })
    expect(info.protocolVersion).toBe(1)
    expect(seen).toContain('processing')
    const [ev] = await Promise.all([rig.client.signEvent(template()), approveWhenShown()])
    expect(ev.pubkey).toBe(rig.pubkey)
  })

  it('slow operator: approving just inside the device timeout signs, just outside is DEVICE_TIMEOUT', async () => {
    rig = await makeRig()
    await rig.remote.configure({ reviewTimeoutMs: 1500, autoApprove: true, autoApproveAfterMs: 1200 })
    expect((await rig.client.signEvent(template())).pubkey).toBe(rig.pubkey)
    await rig.remote.configure({ autoApproveAfterMs: 1800 })
    await expectCode(rig.client.signEvent(template()), 'device-timeout')
  })

  it('unplug mid-request: unplugged, nothing signed; after replug nothing is re-sent', async () => {
    rig = await makeRig()
    const before = (await rig.remote.screen()).answered
    await rig.remote.fault('unplug-mid-request')
    await expectCode(rig.client.signEvent(template('x'.repeat(300))), 'unplugged')
    expect((await rig.remote.screen()).state).toBe('unplugged')
    await expectCode(rig.client.getInfo(), 'unplugged')
    await rig.remote.replug()
    const again = await rig.reconnect()
    const screen = await rig.remote.screen()
    expect(screen.state).toBe('idle')
    expect(screen.answered).toBe(before)
    expect((await again.getInfo()).protocolVersion).toBe(1)
    await again.close()
  })

  it('unplug while the review is on screen: unplugged, nothing signed', async () => {
    rig = await makeRig()
    const p = expectCode(rig.client.signEvent(template()), 'unplugged')
    await rig.remote.waitFor('reviewing')
    await rig.remote.unplug()
    await p
  })

  it('LOCKED and BUSY answers map to typed errors', async () => {
    rig = await makeRig()
    await rig.remote.fault('answer-locked')
    await expectCode(rig.client.signEvent(template()), 'locked')
    await rig.remote.fault('answer-busy')
    await expectCode(rig.client.signEvent(template()), 'busy')
  })

  it('a locked device answers LOCKED until the PIN is entered on it', async () => {
    rig = await makeRig({ pin: '2468', locked: true })
    expect((await rig.client.getInfo()).locked).toBe(true)
    await expectCode(rig.client.signEvent(template()), 'locked')
    expect(await rig.remote.enterPin('1111')).toBe(false)
    expect((await rig.remote.screen()).pinAttemptsLeft).toBe(9)
    expect(await rig.remote.enterPin('2468')).toBe(true)
    const [ev] = await Promise.all([rig.client.signEvent(template()), approveWhenShown()])
    expect(ev.pubkey).toBe(rig.pubkey)
  })

  it('the operator rejects on the device → user-rejected', async () => {
    rig = await makeRig()
    const p = expectCode(rig.client.signEvent(template()), 'user-rejected')
    await rig.remote.waitFor('reviewing')
    await rig.remote.press('reject')
    await p
  })

  it('cancel from the host ends the prompt; cancel racing an approval still ends cancelled', async () => {
    rig = await makeRig()
    const ac = new AbortController()
    const p = expectCode(rig.client.signEvent(template(), { signal: ac.signal }), 'cancelled')
    await rig.remote.waitFor('reviewing')
    ac.abort()
    await p
    await rig.remote.waitFor('idle')
    const ac2 = new AbortController()
    const p2 = expectCode(rig.client.signEvent(template(), { signal: ac2.signal }), 'cancelled')
    await rig.remote.waitFor('reviewing')
    ac2.abort()
    await rig.remote.press('approve')
    await p2
    // The channel is free again: the next request works.
    const [ev] = await Promise.all([rig.client.signEvent(template()), approveWhenShown()])
    expect(ev.pubkey).toBe(rig.pubkey)
  })

  it('device policy: an over-long window and ALL KINDS are refused before anything is shown', async () => {
    rig = await makeRig()
    const long = `kind=30079&created_at>1767225600&created_at<${1767225600 + 91 * 86400}`
    await expectCode(rig.client.signDelegation({ delegateePubkey: PEER, conditions: long }), 'policy-denied')
    const all = `created_at>1767225600&created_at<${1767225600 + 86400}`
    await expectCode(rig.client.signDelegation({ delegateePubkey: PEER, conditions: all }), 'policy-denied')
    await expectCode(rig.client.signDelegation({ delegateePubkey: PEER, conditions: 'kind=1&foo=2' }), 'bad-request')
  })

  it('a raw control character the serialisations disagree on is refused by the device', async () => {
    rig = await makeRig()
    await expectCode(rig.client.signEvent(template('bell \u0007')), 'bad-request')
  })
})
