// The hardware signer on the console's side (docs/signer-host.md), over BOTH emulators — the in-process one and
// the TCP one (`startSignerEmulator`: real sockets, HTTP control port) — through the real services, dispatcher,
// a REAL relay process and the REAL NWC wallet service:
//   - a new operator pins the device (its npub shown and confirmed on the device): the operator key comes from it;
//   - a refusal on the device ends the pairing with the clear message and nothing is published;
//   - a corrupt signature, a wrong event id, a different pubkey from the device are caught by the host: the pairing
//     fails, nothing is stored or published (asserted on the relay);
//   - unplugging mid-request ends it as "nothing signed", and after replug (locked until the PIN is entered on
//     the device) nothing is re-sent;
//   - a locked device: the request says to unlock it on the device, nothing is published;
//   - every fault the emulator can inject ends in one clear sentence and nothing published; Cancel from the dialog
//     and the device's own review timeout likewise;
//   - then a pairing approved prompt by prompt on the device publishes config and roster (the relay check can pass).
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { getPublicKey } from 'nostr-tools/pure'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { createAppLog } from '../../src-main/app-log'
import { type Nip46Transport, simplePoolTransport } from '../../src-main/bunker/transport'
import { createDispatcher, type Dispatch } from '../../src-main/ipc'
import '../../src-main/ledger/registry'
import { openLedgerInProcess } from '../../src-main/ledger/store'
import { lazySecretStore } from '../../src-main/secrets/secret-store'
import { createServices, type Services } from '../../src-main/services'
import {
  type EmulatorRemote,
  httpEmulatorControl,
  localEmulatorControl,
} from '../../src-main/signer/device/control-client'
import { startSignerEmulator } from '../../src-main/signer/device/emu-server'
import type { SignerDeviceWiring } from '../../src-main/signer/device-service'
import { inProcessEmulatorWiring, tcpEmulatorWiring } from '../../src-main/signer/device-wiring'
import { createSoftwareSigner } from '../../src-main/signer/software-signer'
import type { Result, SetupStatusView } from '../../src-shared/ipc/contract'
import type { DelegationView } from '../../src-shared/ipc/fleet-pairing'
import type { SignerDeviceView, SignerRequestLogView } from '../../src-shared/ipc/signer-device'
import type { DeviceCore } from '../../src-shared/nshp/device-core'
import type { Fault } from '../../src-shared/nshp/types'
import type { SignerActivity } from '../../src-shared/signer-activity'
import { waitFor } from '../support/fleet-harness'
import { LightningNetwork } from '../support/lightning'
import { type RawBunker, startRawBunker } from '../support/raw-bunker'
import { type RelayHandle, startRelay } from '../support/relay'
import { startWalletService, type WalletServiceFixture } from '../support/wallet-service'

const call = { transport: 'ws', caller: 'test' } as const
// One operator key per emulator: both suites publish to the same relay, and rosters/configs are replaceable.
const PIN = '2468'
const KEYS = { inproc: new Uint8Array(32).fill(0x61), tcp: new Uint8Array(32).fill(0x62) }

let root: string
let relay: RelayHandle
let walletRelay: RelayHandle
let svc: WalletServiceFixture

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'signer-device-'))
  relay = await startRelay()
  walletRelay = await startRelay()
  svc = await startWalletService({ relayUrls: [walletRelay.url], network: new LightningNetwork() })
})
afterAll(async () => {
  await svc?.close()
  await relay?.stop()
  await walletRelay?.stop()
  rmSync(root, { recursive: true, force: true })
})

function ok<T>(r: Result<unknown>): T {
  if (!r.ok) throw new Error(`expected ok, got ${JSON.stringify(r.error)}`)
  return r.value as T
}

/** Every event by `author` the relay holds (one REQ up to EOSE). */
function eventsBy(author: string): Promise<Array<{ id: string; kind: number }>> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(relay.url)
    const found: Array<{ id: string; kind: number }> = []
    const timer = setTimeout(() => {
      ws.close()
      reject(new Error('no EOSE'))
    }, 10_000)
    ws.on('open', () => ws.send(JSON.stringify(['REQ', 'q', { authors: [author] }])))
    ws.on('message', (data) => {
      const msg = JSON.parse(String(data)) as unknown[]
      if (msg[0] === 'EVENT') found.push(msg[2] as { id: string; kind: number })
      if (msg[0] === 'EOSE') {
        clearTimeout(timer)
        ws.close()
        resolve(found)
      }
    })
    ws.on('error', reject)
  })
}

interface Emu {
  wiring: SignerDeviceWiring
  control: EmulatorRemote
  close(): Promise<void>
}

async function inProcess(): Promise<Emu> {
  const { wiring, control } = inProcessEmulatorWiring(
    { mode: 'test', secretKey: Uint8Array.from(KEYS.inproc), serial: 'EMU-INPROC', pin: PIN },
    { initialMs: 20, maxMs: 100 },
  )
  return { wiring, control: localEmulatorControl(control as DeviceCore), close: async () => undefined }
}

async function overTcp(): Promise<Emu> {
  const server = await startSignerEmulator({
    mode: 'test',
    secretKey: Uint8Array.from(KEYS.tcp),
    serial: 'EMU-TCP',
    pin: PIN,
    dataPort: 0,
    controlPort: 0,
  })
  const wiring = {
    ...tcpEmulatorWiring({ host: '127.0.0.1', port: server.dataPort }),
    backoff: { initialMs: 20, maxMs: 100 },
  }
  return { wiring, control: httpEmulatorControl(server.controlPort), close: () => server.close() }
}

const FEES = {
  cash_out: { platformPpm: 10_000, operatorPpm: 50_000 },
  cash_in: { platformPpm: 10_000, operatorPpm: 40_000 },
}
const LIMITS = {
  cash_out: { minFiatMinor: '100', maxFiatMinor: '500000' },
  cash_in: { minFiatMinor: '100', maxFiatMinor: '500000' },
}
const pairArgs = (fill: number, machineId: string) => ({
  atm: getPublicKey(new Uint8Array(32).fill(fill)),
  machineId,
  name: `ATM ${machineId}`,
  currency: 'EUR',
  fees: FEES,
  discountPpm: 0,
  limits: LIMITS,
})

describe.each([
  ['in-process emulator', inProcess, KEYS.inproc],
  ['TCP emulator (signer-emu server, HTTP control)', overTcp, KEYS.tcp],
] as const)('the hardware signer through the services, %s', (_name, makeEmu, sk) => {
  const OPERATOR_PK = getPublicKey(sk)
  let emu: Emu
  let services: Services
  let d: Dispatch
  const activity: SignerActivity[] = []
  const devices: SignerDeviceView[] = []

  beforeAll(async () => {
    emu = await makeEmu()
    const dataDir = mkdtempSync(join(root, 'data-'))
    const appLog = createAppLog()
    const secrets = lazySecretStore({ dataDir, keyFile: join(dataDir, '..', `${Date.now()}.key`), log: appLog.log })
    services = await createServices({
      runtime: 'node',
      dataDir,
      appLog,
      emit: (e, p) => {
        if (e === 'signer.activity') activity.push(p as SignerActivity)
        if (e === 'signer.device') devices.push(p as SignerDeviceView)
      },
      openLedger: ({ dir, log }) => openLedgerInProcess({ dir, logger: log, autoSnapshot: false }),
      lps: { secrets },
      payouts: { secrets },
      signerDevice: emu.wiring,
    })
    await services.ledgerReady
    d = createDispatcher(services.handlers, appLog.log.child('ipc'))
  }, 30_000)
  afterAll(async () => {
    await services?.close()
    await emu?.close()
  })

  /** Approves every prompt the device shows until `p` settles (pairing signs delegation, config, roster). */
  async function approveAll<T>(p: Promise<T>): Promise<T> {
    let settled = false
    const out = p.finally(() => {
      settled = true
    })
    while (!settled) {
      const s = await emu.control.screen()
      if (s.state === 'reviewing') await emu.control.press('approve')
      else
        await Promise.race([out.catch(() => undefined), emu.control.waitFor('reviewing', 2_000).catch(() => undefined)])
    }
    return out
  }

  it('a new operator pins the device: it shows the npub, the operator confirms on the device, the key is set', async () => {
    await waitFor(
      'the device found',
      async () => ok<SignerDeviceView>(await d('signer.status', [], call)).state === 'ready',
    )
    ok(await d('settings.set', [{ relays: [relay.url] }], call))
    const wallet = await svc.fundedConnection(`op-${_name}`, 10_000_000n)
    ok(await d('setup.setOperatorWallet', [{ nwcUri: wallet.uri }], call))
    const pinning = d('signer.pin', [], call)
    const shown = await emu.control.waitFor('reviewing', 10_000)
    expect(shown.review?.command).toBe('GET_PUBLIC_KEY')
    const npubLine = shown.review?.pages[0]?.lines.find((l) => l.label === 'npub')
    // The dialog got the same npub the device shows.
    const dialog = activity.find((a) => a.what === 'get_public_key' && a.state === 'waiting')
    expect(dialog?.pages?.[0]?.lines.find((l) => l.label === 'npub')?.value).toBe(npubLine?.value)
    await emu.control.press('approve')
    const v = ok<SignerDeviceView>(await pinning)
    expect(v).toMatchObject({ usable: true, pinned: { pubkey: OPERATOR_PK }, operatorPubkey: OPERATOR_PK })
    expect(v.emulated).toBe(true)
    const setup = await waitFor('pipeline running', async () => {
      const s = ok<SetupStatusView>(await d('setup.status', [], call))
      return s.pipeline.state === 'running' ? s : undefined
    })
    expect(setup.operator?.pubkey).toBe(OPERATOR_PK)
  }, 60_000)

  it('a refusal on the device: clear message, nothing stored or published', async () => {
    const before = await eventsBy(OPERATOR_PK)
    const pairing = d('fleet.pair', [pairArgs(0x71, 'atm-refused')], call)
    const s = await emu.control.waitFor('reviewing', 10_000)
    expect(s.review?.command).toBe('SIGN_DELEGATION')
    const waiting = activity.findLast((a) => a.what === 'sign_delegation' && a.state === 'waiting')
    expect(waiting?.compareCode).toBe(s.review?.compareCode)
    // Paging on the device shows in the dialog's live status (from the keepalive frames).
    await emu.control.press('next')
    await waitFor('the paging status', () =>
      activity.some((a) => a.requestId === waiting?.requestId && /page 2 of \d/.test(a.status ?? '')),
    )
    await emu.control.press('reject')
    expect(await pairing).toEqual({
      ok: false,
      error: { code: 'forbidden', message: 'You rejected this on the signer. Nothing was signed or published.' },
    })
    expect(activity.at(-1)).toMatchObject({ what: 'sign_delegation', state: 'refused' })
    expect(ok<DelegationView[]>(await d('fleet.delegations', [], call))).toEqual([])
    expect(await eventsBy(OPERATOR_PK)).toEqual(before)
    const log = ok<SignerRequestLogView>(await d('signer.requests', [{}], call))
    expect(log.entries[0]).toMatchObject({ what: 'sign_delegation', outcome: 'refused', requester: 'This console' })
  }, 60_000)

  it.each([
    ['corrupt-signature', /did not verify|different key/],
    ['wrong-event-id', /did not verify|different key/],
    ['different-pubkey', /did not verify|different key/],
  ] as const)(
    'a %s from the device is caught by the host: nothing stored or published',
    async (fault, msg) => {
      const before = await eventsBy(OPERATOR_PK)
      const pairing = d('fleet.pair', [pairArgs(0x72, `atm-${fault}`)], call)
      // The delegation is approved as it should be; the fault hits the machine config's signature.
      expect((await emu.control.waitFor('reviewing', 10_000)).review?.command).toBe('SIGN_DELEGATION')
      await emu.control.press('approve')
      await waitFor('the config review', async () => (await emu.control.screen()).review?.command === 'SIGN_EVENT')
      await emu.control.fault(fault as Fault)
      const r = await approveAll(pairing)
      expect(r).toMatchObject({ ok: false, error: { code: 'unavailable', message: expect.stringMatching(msg) } })
      expect(ok<DelegationView[]>(await d('fleet.delegations', [], call))).toEqual([])
      expect(await eventsBy(OPERATOR_PK)).toEqual(before)
      expect(ok<SignerRequestLogView>(await d('signer.requests', [{}], call)).entries[0]?.outcome).toBe('failed')
      await waitFor('ready again', async () => ok<SignerDeviceView>(await d('signer.status', [], call)).usable)
    },
    60_000,
  )

  /** Back to usable after a fault: replugged, PIN entered on the device, ready. */
  async function restore(): Promise<void> {
    const st = await emu.control.screen()
    if (st.state === 'unplugged') await emu.control.replug()
    await waitFor(
      'usable again',
      async () => {
        const v = ok<SignerDeviceView>(await d('signer.status', [], call))
        if (v.state === 'locked' && (await emu.control.screen()).state === 'locked') await emu.control.enterPin(PIN)
        return v.usable
      },
      20_000,
    )
  }

  // Every fault the emulator can inject ends, for the operator, in one clear sentence and nothing published; the
  // one harmless fault (foreign frames interleaved) still pairs.
  const NOT_RESPONDING = /stopped responding\. Nothing was signed/
  const BROKEN = /^The signer broke the protocol \(.*\); nothing was signed\.$/
  const NOT_VERIFIED = /did not verify against your pinned key|different key than your pinned operator key/
  const UNPLUGGED = /^Signer disconnected — nothing was signed/
  it.each([
    ['drop-report', BROKEN],
    ['duplicate-report', BROKEN],
    ['sequence-gap', BROKEN],
    ['wrong-channel', NOT_RESPONDING],
    ['wrong-tag', BROKEN],
    ['truncated-length', BROKEN],
    ['oversize-length', BROKEN],
    ['garbage', BROKEN],
    ['no-status', NOT_RESPONDING],
    ['stall', NOT_RESPONDING],
    ['unplug-mid-request', UNPLUGGED],
    ['unplug-mid-response', UNPLUGGED],
    ['different-pubkey', NOT_VERIFIED],
    ['corrupt-signature', NOT_VERIFIED],
    ['wrong-event-id', NOT_VERIFIED],
    ['answer-locked', /locked: unlock it with its PIN on the device/],
    ['answer-busy', /busy with another request/],
    ['wrong-request-id', BROKEN],
  ] as const)(
    'fault %s: the operator reads one clear sentence, nothing is published',
    async (fault, msg) => {
      await restore()
      const before = await eventsBy(OPERATOR_PK)
      const dels = ok<DelegationView[]>(await d('fleet.delegations', [], call)).length
      // The delegation is signed as it should be; the fault hits the machine config's request or answer.
      const pairing = d('fleet.pair', [pairArgs(0x76, `atm-f-${fault}`)], call)
      expect((await emu.control.waitFor('reviewing', 10_000)).review?.command).toBe('SIGN_DELEGATION')
      await emu.control.fault(fault as Fault)
      await emu.control.press('approve')
      // No keepalive while the operator reviews: the host gives up after its inactivity timeout (nobody approves).
      const r = fault === 'no-status' ? await pairing : await approveAll(pairing)
      expect(r).toMatchObject({ ok: false, error: { message: expect.stringMatching(msg) } })
      expect(ok<DelegationView[]>(await d('fleet.delegations', [], call))).toHaveLength(dels)
      expect(await eventsBy(OPERATOR_PK)).toEqual(before)
      await restore()
    },
    60_000,
  )

  it('Cancel in the dialog ends the request as cancelled; a review left alone ends as "no confirmation in time"', async () => {
    await restore()
    const before = await eventsBy(OPERATOR_PK)
    const pairing = d('fleet.pair', [pairArgs(0x78, 'atm-cancel')], call)
    await emu.control.waitFor('reviewing', 10_000)
    const waiting = activity.findLast((a) => a.what === 'sign_delegation' && a.state === 'waiting')
    expect(
      ok<{ cancelled: boolean }>(await d('signer.cancel', [{ requestId: waiting?.requestId ?? '' }], call)),
    ).toEqual({
      cancelled: true,
    })
    expect(await pairing).toEqual({ ok: false, error: { code: 'conflict', message: 'Cancelled. Nothing was signed.' } })
    await waitFor('device idle', async () => (await emu.control.screen()).state === 'idle')

    // The device's own review timeout (60 s on a real one; short here): nobody presses anything.
    await emu.control.configure({ reviewTimeoutMs: 400 })
    const late = await d('fleet.pair', [pairArgs(0x79, 'atm-late')], call)
    await emu.control.configure({ reviewTimeoutMs: 60_000 })
    expect(late).toMatchObject({
      ok: false,
      error: { code: 'timeout', message: expect.stringMatching(/^No confirmation on the signer in time/) },
    })
    expect(await eventsBy(OPERATOR_PK)).toEqual(before)
  }, 60_000)

  it('fault foreign-channel-interleave: frames of another host are ignored, the pairing goes through', async () => {
    await restore()
    const pairing = d('fleet.pair', [pairArgs(0x77, 'atm-f-interleave')], call)
    await emu.control.waitFor('reviewing', 10_000)
    await emu.control.fault('foreign-channel-interleave')
    expect(await approveAll(pairing)).toMatchObject({ ok: true })
  }, 60_000)

  it('unplugged mid-request: "nothing signed", state absent, and after replug nothing is re-sent', async () => {
    await restore()
    const dels = ok<DelegationView[]>(await d('fleet.delegations', [], call)).length
    const pairing = d('fleet.pair', [pairArgs(0x73, 'atm-unplug')], call)
    await emu.control.waitFor('reviewing', 10_000)
    await emu.control.unplug()
    expect(await pairing).toMatchObject({
      ok: false,
      error: { code: 'unavailable', message: expect.stringMatching(/^Signer disconnected — nothing was signed/) },
    })
    await waitFor('absent', async () => ok<SignerDeviceView>(await d('signer.status', [], call)).state === 'absent')
    const unplugged = ok<SignerRequestLogView>(await d('signer.requests', [{}], call))
    expect(unplugged.entries[0]?.outcome).toBe('unplugged')
    const totalAfterUnplug = unplugged.total
    await emu.control.replug()
    // A device locks when it loses USB: the console shows it locked until the PIN is entered on the device.
    await waitFor(
      'locked after replug',
      async () => ok<SignerDeviceView>(await d('signer.status', [], call)).state === 'locked',
    )
    expect(await emu.control.enterPin(PIN)).toBe(true)
    await waitFor('usable again', async () => ok<SignerDeviceView>(await d('signer.status', [], call)).usable, 20_000)
    const after = await emu.control.screen()
    expect(after.state).toBe('idle')
    expect(after.review).toBeNull()
    // Nothing went to the device for signing after the replug: the request log has no entry after the unplugged one.
    const log = ok<SignerRequestLogView>(await d('signer.requests', [{}], call))
    expect(log.total).toBe(totalAfterUnplug)
    expect(log.entries[0]?.outcome).toBe('unplugged')
    expect(ok<DelegationView[]>(await d('fleet.delegations', [], call))).toHaveLength(dels)
  }, 60_000)

  it('approved prompt by prompt on the device: delegation, config and roster signed and published', async () => {
    const r = await approveAll(d('fleet.pair', [pairArgs(0x74, 'atm-ok')], call))
    const pair = ok<{ configEventId: string; rosterEventId: string }>(r)
    // Config and roster are replaceable events: the relay holds the newest, which are this pairing's.
    const ids = await waitFor('published', async () => {
      const evs = (await eventsBy(OPERATOR_PK)).map((e) => e.id)
      return evs.includes(pair.configEventId) && evs.includes(pair.rosterEventId) ? evs : undefined
    })
    expect(ids).toEqual(expect.arrayContaining([pair.configEventId, pair.rosterEventId]))
    const log = ok<SignerRequestLogView>(await d('signer.requests', [{ limit: 3 }], call)).entries
    expect(log.map((e) => [e.what, e.outcome])).toEqual([
      ['sign_event', 'approved'],
      ['sign_event', 'approved'],
      ['sign_delegation', 'approved'],
    ])
  }, 60_000)

  it('locked: the request answers "unlock it with its PIN", the state stays locked until the PIN is entered', async () => {
    await emu.control.lock()
    const before = await eventsBy(OPERATOR_PK)
    const r = await d('fleet.renew', [{ atmPubkey: pairArgs(0x74, 'atm-ok').atm }], call)
    expect(r).toMatchObject({
      ok: false,
      error: { code: 'unavailable', message: expect.stringMatching(/locked: unlock it with its PIN on the device/) },
    })
    expect(ok<SignerDeviceView>(await d('signer.status', [], call))).toMatchObject({ state: 'locked', usable: false })
    expect(await eventsBy(OPERATOR_PK)).toEqual(before)
    expect(await emu.control.enterPin(PIN)).toBe(true)
    await waitFor('usable again', async () => ok<SignerDeviceView>(await d('signer.status', [], call)).usable, 20_000)
    const renewed = approveAll(d('fleet.renew', [{ atmPubkey: pairArgs(0x74, 'atm-ok').atm }], call))
    expect(await renewed).toMatchObject({ ok: true })
  }, 60_000)
})

// The remote bunker (a phone signer, here a NIP-46 bunker run by the test over the real relay) is the alternative:
// while the pinned device is usable it signs; unplugged, the console falls back to the phone for events, the
// confirm dialog says "approve on your phone", and a delegation is refused in plain words (NIP-46 cannot sign one).
describe('the remote bunker as the alternative to the device', () => {
  const sk = new Uint8Array(32).fill(0x63)
  const OPERATOR_PK = getPublicKey(sk)
  let services: Services
  let d: Dispatch
  let control: DeviceCore
  let transport: Nip46Transport
  let phone: RawBunker
  const activity: SignerActivity[] = []

  beforeAll(async () => {
    const emu = inProcessEmulatorWiring(
      { mode: 'test', secretKey: Uint8Array.from(sk), serial: 'EMU-FALLBACK', config: { autoApprove: true } },
      { initialMs: 20, maxMs: 100 },
    )
    control = emu.control as DeviceCore
    transport = simplePoolTransport()
    phone = startRawBunker({
      relay: relay.url,
      transport,
      sk: new Uint8Array(32).fill(0x64),
      signer: createSoftwareSigner(sk),
    })
    await phone.ready
    const dataDir = mkdtempSync(join(root, 'data-'))
    const appLog = createAppLog()
    const secrets = lazySecretStore({
      dataDir,
      keyFile: join(dataDir, '..', `fallback-${Date.now()}.key`),
      log: appLog.log,
    })
    services = await createServices({
      runtime: 'node',
      dataDir,
      appLog,
      emit: (e, p) => {
        if (e === 'signer.activity') activity.push(p as SignerActivity)
      },
      openLedger: ({ dir, log }) => openLedgerInProcess({ dir, logger: log, autoSnapshot: false }),
      lps: { secrets },
      payouts: { secrets },
      signerDevice: emu.wiring,
    })
    await services.ledgerReady
    d = createDispatcher(services.handlers, appLog.log.child('ipc'))
  }, 30_000)
  afterAll(async () => {
    phone?.stop()
    await services?.close()
    transport?.close()
  })

  it('device first; unplugged, the phone signs events and a delegation is refused in plain words', async () => {
    ok(await d('settings.set', [{ relays: [relay.url] }], call))
    ok(
      await d(
        'setup.setOperatorWallet',
        [{ nwcUri: (await svc.fundedConnection('op-fallback', 10_000_000n)).uri }],
        call,
      ),
    )
    await waitFor('device', async () => ok<SignerDeviceView>(await d('signer.status', [], call)).state === 'ready')
    ok(await d('signer.pin', [], call))
    await waitFor(
      'pipeline',
      async () => ok<SetupStatusView>(await d('setup.status', [], call)).pipeline.state === 'running',
    )
    const atm = pairArgs(0x75, 'atm-fallback')
    ok(await d('fleet.pair', [atm], call))
    const remote = ok<{ state: string }>(await d('remoteSigner.connect', [{ bunkerUri: phone.uri() }], call))
    expect(remote.state).toBe('connected')

    // Both connected: the device signs (every activity so far came from it).
    ok(await d('fleet.renew', [{ atmPubkey: atm.atm }], call))
    const signing = activity.filter((a) => a.what.startsWith('sign_'))
    expect(signing.length).toBeGreaterThan(0)
    expect(new Set(signing.map((a) => a.via))).toEqual(new Set(['device']))

    control.unplug()
    await waitFor('absent', async () => ok<SignerDeviceView>(await d('signer.status', [], call)).state === 'absent')
    expect(await d('fleet.renew', [{ atmPubkey: atm.atm }], call)).toMatchObject({
      ok: false,
      error: {
        code: 'unavailable',
        message: expect.stringMatching(/cannot sign NIP-26 delegations: use the hardware signer/),
      },
    })
    const revoked = ok<{ rosterEventId: string }>(
      await d('fleet.revoke', [{ atmPubkey: atm.atm, reason: 'test' }], call),
    )
    expect(activity.some((a) => a.via === 'remote-bunker' && a.state === 'waiting')).toBe(true)
    const ids = await waitFor('roster on the relay', async () => {
      const evs = (await eventsBy(OPERATOR_PK)).map((e) => e.id)
      return evs.includes(revoked.rosterEventId) ? evs : undefined
    })
    expect(ids).toContain(revoked.rosterEventId)
  }, 60_000)
})
