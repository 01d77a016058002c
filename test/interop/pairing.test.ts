// ATM pairing over IPC (src-main/fleet/pairing-service.ts; docs/protocol.md §10, §7): through the real dispatcher,
// an in-process ledger, a REAL relay process and the REAL @getalby/sdk wallet service. Without an operator signer
// pairing answers `unavailable` and stores nothing; with the emulated hardware signer (in-process emulator, pinned
// through `signer.pin`, every review approved on the device by its auto-approve setting) an ATM is paired, the ATM simulator started from the returned URI sells once and the sale is booked; renewal answers a new
// window; after revocation a record is rejected `revoked`; two pairings at once keep both ATMs; bad arguments name
// the field; the receive-only NWC URI appears nowhere but in the one-shot payload.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { npubEncode } from 'nostr-tools/nip19'
import { getPublicKey } from 'nostr-tools/pure'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { createAppLog } from '../../src-main/app-log'
import { type AtmSimulator, type Customer, createAtmSimulator } from '../../src-main/atm-sim/simulator'
import { NO_OPERATOR_SIGNER } from '../../src-main/fleet/operator-signer'
import { createDispatcher, type Dispatch } from '../../src-main/ipc'
import '../../src-main/ledger/registry'
import { openLedgerInProcess } from '../../src-main/ledger/store'
import { lazySecretStore } from '../../src-main/secrets/secret-store'
import { createServices, type Services } from '../../src-main/services'
import { inProcessEmulatorWiring } from '../../src-main/signer/device-wiring'
import type {
  FleetMachineView,
  Notice,
  RejectedRecordView,
  Result,
  SetupStatusView,
} from '../../src-shared/ipc/contract'
import type { DelegationView, FleetPairView, FleetRenewView, FleetRevokeView } from '../../src-shared/ipc/fleet-pairing'
import type { SignerDeviceView } from '../../src-shared/ipc/signer-device'
import type { WorklistView } from '../../src-shared/ipc/worklist'
import { parsePairingPayload } from '../../src-shared/nostr/pairing'
import { waitFor } from '../support/fleet-harness'
import { LightningNetwork } from '../support/lightning'
import { type RelayHandle, startRelay } from '../support/relay'
import {
  RECEIVE_ONLY_METHODS,
  startWalletService,
  type WalletConnection,
  type WalletServiceFixture,
} from '../support/wallet-service'

const call = { transport: 'ws', caller: 'test' } as const
const OPERATOR_SK = new Uint8Array(32).fill(0x41)
const OPERATOR_PK = getPublicKey(OPERATOR_SK)
const DAY = 86_400

let root: string
let relay: RelayHandle
let walletRelay: RelayHandle
let svc: WalletServiceFixture
let op: WalletConnection
let customer: Customer

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'pairing-'))
  relay = await startRelay()
  walletRelay = await startRelay()
  const net = new LightningNetwork()
  svc = await startWalletService({ relayUrls: [walletRelay.url], network: net })
  op = await svc.fundedConnection('operator', 50_000_000n)
  const customerWallet = net.createWallet('customer', 1_000_000_000_000n)
  customer = {
    payInvoice: async (invoice) => {
      customerWallet.payInvoice(invoice)
    },
    makeInvoice: async (amountMsat) => customerWallet.makeInvoice(amountMsat).invoice!,
  }
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

async function open(dataDir: string, withSigner: boolean) {
  const appLog = createAppLog()
  const notices: Notice[] = []
  const secrets = lazySecretStore({ dataDir, keyFile: join(root, 'secret.key'), log: appLog.log.child('secrets') })
  // The operator key lives on the emulated device; every review on it is approved at once (auto-approve).
  const device = withSigner
    ? inProcessEmulatorWiring({
        mode: 'test',
        secretKey: OPERATOR_SK,
        serial: 'TEST-0001',
        config: { autoApprove: true },
      })
    : undefined
  const services: Services = await createServices({
    runtime: 'node',
    dataDir,
    appLog,
    emit: (event, payload) => {
      if (event === 'notice') notices.push(payload as Notice)
    },
    openLedger: ({ dir, log }) => openLedgerInProcess({ dir, logger: log, autoSnapshot: false }),
    lps: { secrets },
    payouts: { secrets },
    ...(device ? { signerDevice: device.wiring } : {}),
  })
  await services.ledgerReady
  const d: Dispatch = createDispatcher(services.handlers, appLog.log.child('ipc'))
  const running = () =>
    waitFor('pipeline running', async () => {
      const s = ok<SetupStatusView>(await d('setup.status', [], call))
      return s.pipeline.state === 'running' ? s : undefined
    })
  return { services, d, appLog, notices, running }
}

const FEES = {
  cash_out: { platformPpm: 10_000, operatorPpm: 50_000 },
  cash_in: { platformPpm: 10_000, operatorPpm: 40_000 },
}
const LIMITS = {
  cash_out: { minFiatMinor: '100', maxFiatMinor: '500000' },
  cash_in: { minFiatMinor: '100', maxFiatMinor: '500000' },
}
const pairArgs = (atm: string, machineId: string, extra: Record<string, unknown> = {}) => ({
  atm,
  machineId,
  name: `ATM ${machineId}`,
  currency: 'EUR',
  fees: FEES,
  discountPpm: 0,
  limits: LIMITS,
  ...extra,
})

function atmKey(fill: number): { sk: Uint8Array; pk: string } {
  const sk = new Uint8Array(32).fill(fill)
  return { sk, pk: getPublicKey(sk) }
}

/** The ids among `ids` the relay holds: one REQ, answered up to EOSE (or a deadline). */
function idsOnRelay(url: string, ids: string[], timeoutMs = 10_000): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url)
    const found: string[] = []
    const timer = setTimeout(() => {
      ws.close()
      reject(new Error('no EOSE from the relay'))
    }, timeoutMs)
    ws.on('open', () => ws.send(JSON.stringify(['REQ', 'q', { ids }])))
    ws.on('message', (data) => {
      const msg = JSON.parse(String(data)) as unknown[]
      if (msg[0] === 'EVENT') found.push((msg[2] as { id: string }).id)
      if (msg[0] === 'EOSE') {
        clearTimeout(timer)
        ws.close()
        resolve(found.sort())
      }
    })
    ws.on('error', reject)
  })
}

function filesUnder(dir: string): string[] {
  const out: string[] = []
  for (const name of readdirSync(dir)) {
    const p = join(dir, name)
    if (statSync(p).isDirectory()) out.push(...filesUnder(p))
    else out.push(p)
  }
  return out
}

describe('pairing over IPC', () => {
  it('unavailable without a signer or a running fleet; then pairs, sells, renews, revokes through the emulated hardware signer', async () => {
    const dataDir = join(root, 'data')
    const a = await open(dataDir, false)
    const atm1 = atmKey(0x51)
    try {
      // Not set up: the fleet feature is not running, nothing is signed.
      const early = await a.d('fleet.pair', [pairArgs(atm1.pk, 'atm-1')], call)
      expect(early).toMatchObject({ ok: false, error: { code: 'unavailable' } })
      ok(await a.d('settings.set', [{ relays: [relay.url] }], call))
      ok(await a.d('setup.setOperator', [{ operatorNpub: npubEncode(OPERATOR_PK) }], call))
      ok(await a.d('setup.setOperatorWallet', [{ nwcUri: op.uri }], call))
      await a.running()
      for (const [m, args] of [
        ['fleet.pair', [pairArgs(atm1.pk, 'atm-1')]],
        ['fleet.renew', [{ atmPubkey: atm1.pk }]],
        ['fleet.revoke', [{ atmPubkey: atm1.pk, reason: 'test' }]],
      ] as const) {
        const r = await a.d(m, [...args], call)
        expect(r, m).toEqual({ ok: false, error: { code: 'unavailable', message: NO_OPERATOR_SIGNER } })
      }
      expect(ok<DelegationView[]>(await a.d('fleet.delegations', [], call))).toEqual([])
      expect(ok<FleetMachineView[]>(await a.d('fleet.machines', [], call))).toEqual([])
      expect(ok<WorklistView>(await a.d('worklist.list', [{}], call)).delegations).toEqual([])
    } finally {
      await a.services.close()
    }

    // The same data with the emulated hardware signer: the saved setup starts the fleet again; the device is pinned
    // (it shows its npub, approved on the device) and holds the operator key already set.
    const b = await open(dataDir, true)
    const sims: AtmSimulator[] = []
    const answers: unknown[] = []
    try {
      await b.running()
      ok(await b.d('signer.connect', [], call))
      const pinned = ok<SignerDeviceView>(await b.d('signer.pin', [], call))
      expect(pinned).toMatchObject({ usable: true, transport: 'emulator-inproc', pinned: { pubkey: OPERATOR_PK } })
      const receive = await svc.addConnection({ wallet: op.wallet, methods: RECEIVE_ONLY_METHODS })
      const pair = ok<FleetPairView>(
        await b.d('fleet.pair', [pairArgs(npubEncode(atm1.pk), 'atm-1', { nwcReceiveOnlyUri: receive.uri })], call),
      )
      expect(pair.atmPubkey).toBe(atm1.pk)
      expect(pair.machineId).toBe('atm-1')
      expect(pair.rosterEventId).toMatch(/^[0-9a-f]{64}$/)
      expect(pair.qrSvg).toMatch(/^<svg/)
      expect(pair.delegation.untilSec - pair.delegation.fromSec).toBe(90 * DAY)
      const payload = parsePairingPayload(pair.uri, { nowSec: Math.floor(Date.now() / 1000), expectAtmPubkey: atm1.pk })
      expect(payload.nwcUri).toBe(receive.uri)
      expect(payload.operatorPubkey).toBe(OPERATOR_PK)
      expect(payload.configEventId).toBe(pair.configEventId)

      // The ATM simulator, started from the returned URI, sells once; the console books it.
      const sim = await createAtmSimulator({
        pairingUri: pair.uri,
        atmSecretKey: atm1.sk,
        customer,
        publishDeadlineMs: 30_000,
      })
      sims.push(sim)
      const sale = await sim.sell()
      expect(sale.accepted).toBe(true)
      const booked = await waitFor('the sale booked', async () => {
        const ms = ok<FleetMachineView[]>(await b.d('fleet.machines', [], call))
        const m = ms.find((x) => x.atmPubkey === atm1.pk)
        return m && m.booked >= 1 ? m : undefined
      })
      answers.push(booked)
      expect(booked).toMatchObject({ machineId: 'atm-1', rosterStatus: 'member', booked: 1, rejected: 0 })

      // Renewal: a new window, a new one-shot URI without the NWC part.
      const renew = ok<FleetRenewView>(await b.d('fleet.renew', [{ atmPubkey: atm1.pk, windowDays: 30 }], call))
      answers.push(renew)
      expect(renew.delegation.untilSec - renew.delegation.fromSec).toBe(30 * DAY)
      expect(renew.uri).not.toBe(pair.uri)
      const renewedPayload = parsePairingPayload(renew.uri, { nowSec: Math.floor(Date.now() / 1000) })
      expect(renewedPayload.nwcUri).toBeNull()
      // Point 17: the renewal re-signs the machine config naming the new token, published to the relay, so the old
      // token is superseded (the verifier's delegation_superseded rule).
      expect(renewedPayload.configEventId).not.toBeNull()
      const cfgId = renewedPayload.configEventId as string
      expect(await idsOnRelay(relay.url, [cfgId])).toEqual([cfgId])
      const dels = ok<DelegationView[]>(await b.d('fleet.delegations', [], call))
      answers.push(dels)
      expect(dels.filter((x) => x.atmPubkey === atm1.pk)).toHaveLength(2)
      expect(dels.find((x) => x.newest && x.atmPubkey === atm1.pk)).toMatchObject({
        untilSec: pair.delegation.untilSec,
        status: 'active',
        daysLeft: 89,
        machineId: 'atm-1',
      })

      // Two pairings at once: both ATMs stay in the roster.
      const atm2 = atmKey(0x52)
      const atm3 = atmKey(0x53)
      const [p2, p3] = await Promise.all([
        b.d('fleet.pair', [pairArgs(atm2.pk, 'atm-2')], call).then((r) => ok<FleetPairView>(r)),
        b
          .d('fleet.pair', [pairArgs(`ATM pairing request: ${npubEncode(atm3.pk)}`, 'atm-3', { windowDays: 10 })], call)
          .then((r) => ok<FleetPairView>(r)),
      ])
      answers.push(p2, p3)
      expect(p2.rosterEventId).not.toBe(p3.rosterEventId)
      const machines = ok<FleetMachineView[]>(await b.d('fleet.machines', [], call))
      for (const pk of [atm1.pk, atm2.pk, atm3.pk])
        expect(machines.find((m) => m.atmPubkey === pk)?.rosterStatus, pk).toBe('member')

      // A 10-day delegation is expiring: on the worklist, and one notice today for that ATM only.
      const work = ok<WorklistView>(await b.d('worklist.list', [{}], call))
      answers.push(work)
      expect(work.delegations).toEqual([
        { atmPubkey: atm3.pk, machineId: 'atm-3', untilSec: p3.delegation.untilSec, daysLeft: 9, state: 'expiring' },
      ])
      const expiryNotices = () => b.notices.filter((n) => n.text.includes('atm-3') && /expires/.test(n.text))
      expect(expiryNotices()).toHaveLength(1)
      ok(await b.d('fleet.renew', [{ atmPubkey: atm3.pk, windowDays: 10 }], call))
      expect(expiryNotices()).toHaveLength(1)

      // Revocation: the roster without ATM 1; a later record of it is rejected `revoked`.
      const rev = ok<FleetRevokeView>(await b.d('fleet.revoke', [{ atmPubkey: atm1.pk, reason: 'stolen' }], call))
      answers.push(rev)
      expect(rev.members.sort()).toEqual([atm2.pk, atm3.pk].sort())
      const after = await sim.sell({ createdAt: Math.floor(Date.now() / 1000) + 5 })
      const rejected = await waitFor('the record after revocation rejected', async () => {
        const rs = ok<RejectedRecordView[]>(await b.d('fleet.rejected', [{}], call))
        return rs.find((r) => r.eventId === after.event.id)
      })
      answers.push(rejected)
      expect(rejected).toMatchObject({ reason: 'revoked', retryable: false })
      // What was signed was published: ATM 1's config, and the revoking roster (rosters are addressable: the relay
      // keeps only the newest version, so the pairing roster was replaced by it). The renewal's config replaced the pairing one likewise.
      const published = [cfgId, rev.rosterEventId]
      expect(await idsOnRelay(relay.url, published)).toEqual([...published].sort())
      const revokedView = ok<DelegationView[]>(await b.d('fleet.delegations', [], call))
      answers.push(revokedView)
      expect(revokedView.filter((x) => x.atmPubkey === atm1.pk).every((x) => x.status === 'revoked')).toBe(true)

      // Bad arguments name the field; nothing is signed for them.
      const bad = async (args: unknown, field: string) => {
        const r = await b.d('fleet.pair', [args], call)
        expect(r, field).toMatchObject({ ok: false, error: { code: 'bad_args', field } })
      }
      await bad(pairArgs('not a key', 'atm-9'), 'args[0].atm')
      await bad(pairArgs(atmKey(0x59).pk, 'atm 9'), 'args[0].machineId')
      await bad(pairArgs(atmKey(0x59).pk, 'atm-9', { windowDays: 91 }), 'args[0].windowDays')
      await bad(
        pairArgs(atmKey(0x59).pk, 'atm-9', {
          fees: { ...FEES, cash_in: { platformPpm: 100_000, operatorPpm: 100_000 } },
        }),
        'args[0].fees.cash_in',
      )
      await bad(
        pairArgs(atmKey(0x59).pk, 'atm-9', {
          limits: { ...LIMITS, cash_out: { minFiatMinor: '9', maxFiatMinor: '1' } },
        }),
        'args[0].limits.cash_out.minFiatMinor',
      )
      await bad(
        pairArgs(atmKey(0x59).pk, 'atm-9', { nwcReceiveOnlyUri: 'https://example.com/wallet' }),
        'args[0].nwcReceiveOnlyUri',
      )
      expect(await b.d('fleet.revoke', [{ atmPubkey: 'XYZ', reason: 'r' }], call)).toMatchObject({
        ok: false,
        error: { code: 'bad_args', field: 'args[0].atmPubkey' },
      })
      expect(await b.d('fleet.renew', [{ atmPubkey: atm1.pk }], call)).toMatchObject({
        ok: false,
        error: { code: 'not_found', field: 'args[0].atmPubkey' },
      })
      expect(
        ok<DelegationView[]>(await b.d('fleet.delegations', [], call)).some((x) => x.atmPubkey === atmKey(0x59).pk),
      ).toBe(false)

      // The receive-only NWC secret: in the one-shot payload only — not in the ledger files, the log or any other answer.
      const secret = receive.clientSecretHex
      expect(pair.uri).toContain(secret)
      for (const f of filesUnder(dataDir)) expect(readFileSync(f).includes(secret), f).toBe(false)
      expect(JSON.stringify(b.appLog.recent(5000))).not.toContain(secret)
      expect(JSON.stringify(answers)).not.toContain(secret)
      expect(JSON.stringify(b.notices)).not.toContain(secret)

      // Another operator key in the settings: the pinned signer holds a different key, so it is not used and pairing
      // is refused before anything is signed; the Signer screen says why.
      const other = getPublicKey(new Uint8Array(32).fill(0x42))
      ok(await b.d('setup.setOperator', [{ operatorNpub: npubEncode(other) }], call))
      await b.running()
      const before = ok<DelegationView[]>(await b.d('fleet.delegations', [], call)).length
      expect(await b.d('fleet.pair', [pairArgs(atmKey(0x5a).pk, 'atm-10')], call)).toMatchObject({
        ok: false,
        error: { code: 'unavailable', message: NO_OPERATOR_SIGNER },
      })
      const st = ok<SignerDeviceView>(await b.d('signer.status', [], call))
      expect(st).toMatchObject({ usable: false, state: 'error' })
      expect(st.detail).toMatch(/different key than the operator key in Settings/)
      expect(ok<DelegationView[]>(await b.d('fleet.delegations', [], call))).toHaveLength(before)
    } finally {
      for (const s of sims) await s.close()
      await b.services.close()
    }
    // After close, the journal is flushed: scan once more.
    for (const f of filesUnder(dataDir)) expect(readFileSync(f).includes('nostr+walletconnect'), f).toBe(false)
  }, 120_000)
})
