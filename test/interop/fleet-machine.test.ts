// The Fleet screen's machine services over IPC (src-main/fleet/pairing-service.ts: `fleet.pair` with `replace`,
// `fleet.machine`, `fleet.setConfig`, `fleet.walletRevocations`, `fleet.confirmWalletRevoked`), through the real
// dispatcher, an in-process ledger, a REAL relay process, the REAL @getalby/sdk wallet service and the in-process
// emulator of the hardware signer (every review approved on the device by its auto-approve setting):
//   - pairing a key that is already paired is refused `conflict` naming the machine, nothing is signed, and goes
//     through only with `replace: true`;
//   - a receive-only wallet connection that is not a usable NIP-47 URI is refused naming the field, in words;
//   - the detail view: status, last seen, last record, delegation window, relay health, config and its history;
//   - a config edit is signed on the device, published, becomes the config in force, keeps the delegation in force,
//     and its refusals are in percent and currency amounts;
//   - revoking leaves a wallet reminder until the operator confirms it (an append-only row), once.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { npubEncode } from 'nostr-tools/nip19'
import { getPublicKey } from 'nostr-tools/pure'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { createAppLog } from '../../src-main/app-log'
import { type Customer, createAtmSimulator } from '../../src-main/atm-sim/simulator'
import { createDispatcher, type Dispatch } from '../../src-main/ipc'
import '../../src-main/ledger/registry'
import { openLedgerInProcess } from '../../src-main/ledger/store'
import { lazySecretStore } from '../../src-main/secrets/secret-store'
import { createServices, type Services } from '../../src-main/services'
import { inProcessEmulatorWiring } from '../../src-main/signer/device-wiring'
import type { Result, SetupStatusView } from '../../src-shared/ipc/contract'
import type { FleetSetConfigView, MachineDetailView, WalletRevocationView } from '../../src-shared/ipc/fleet-machine'
import type { FleetPairView } from '../../src-shared/ipc/fleet-pairing'
import type { SignerRequestLogView } from '../../src-shared/ipc/signer-device'
import type { WorklistView } from '../../src-shared/ipc/worklist'
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
const OPERATOR_SK = new Uint8Array(32).fill(0x61)
const OPERATOR_PK = getPublicKey(OPERATOR_SK)

let root: string
let relay: RelayHandle
let walletRelay: RelayHandle
let svc: WalletServiceFixture
let op: WalletConnection
let services: Services
let d: Dispatch
let customer: Customer

function ok<T>(r: Result<unknown>): T {
  if (!r.ok) throw new Error(`expected ok, got ${JSON.stringify(r.error)}`)
  return r.value as T
}

const FEES = {
  cash_out: { platformPpm: 10_000, operatorPpm: 50_000 },
  cash_in: { platformPpm: 10_000, operatorPpm: 40_000 },
}
const LIMITS = {
  cash_out: { minFiatMinor: '2000', maxFiatMinor: '100000' },
  cash_in: { minFiatMinor: '500', maxFiatMinor: '100000' },
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
const atmKey = (fill: number) => {
  const sk = new Uint8Array(32).fill(fill)
  return { sk, pk: getPublicKey(sk) }
}

/** How many requests the signer was asked so far (each pairing asks 2–3, a config edit 1). */
const signerRequests = async () => ok<SignerRequestLogView>(await d('signer.requests', [{ limit: 1 }], call)).total

/** The ids among `ids` the relay holds. */
function idsOnRelay(url: string, ids: string[]): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url)
    const found: string[] = []
    ws.on('open', () => ws.send(JSON.stringify(['REQ', 'q', { ids }])))
    ws.on('message', (data) => {
      const msg = JSON.parse(String(data)) as unknown[]
      if (msg[0] === 'EVENT') found.push((msg[2] as { id: string }).id)
      if (msg[0] === 'EOSE') {
        ws.close()
        resolve(found.sort())
      }
    })
    ws.on('error', reject)
  })
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'fleet-machine-'))
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
  const appLog = createAppLog()
  const dataDir = join(root, 'data')
  const secrets = lazySecretStore({ dataDir, keyFile: join(root, 'secret.key'), log: appLog.log.child('secrets') })
  const device = inProcessEmulatorWiring({
    mode: 'test',
    secretKey: OPERATOR_SK,
    serial: 'TEST-9D01',
    config: { autoApprove: true },
  })
  services = await createServices({
    runtime: 'node',
    dataDir,
    appLog,
    emit: () => {},
    openLedger: ({ dir, log }) => openLedgerInProcess({ dir, logger: log, autoSnapshot: false }),
    lps: { secrets },
    payouts: { secrets },
    signerDevice: device.wiring,
  })
  await services.ledgerReady
  d = createDispatcher(services.handlers, appLog.log.child('ipc'))
  ok(await d('settings.set', [{ relays: [relay.url] }], call))
  ok(await d('setup.setOperator', [{ operatorNpub: npubEncode(OPERATOR_PK) }], call))
  ok(await d('setup.setOperatorWallet', [{ nwcUri: op.uri }], call))
  await waitFor('pipeline running', async () => {
    const s = ok<SetupStatusView>(await d('setup.status', [], call))
    return s.pipeline.state === 'running' ? s : undefined
  })
  ok(await d('signer.connect', [], call))
  ok(await d('signer.pin', [], call))
}, 60_000)

afterAll(async () => {
  await services?.close()
  await svc?.close()
  await relay?.stop()
  await walletRelay?.stop()
  rmSync(root, { recursive: true, force: true })
})

describe('Fleet machine services', () => {
  const atm = atmKey(0x71)

  it('refuses a receive-only wallet connection that is not a usable NIP-47 URI, naming the field in words', async () => {
    const before = await signerRequests()
    const cases: Array<[string, RegExp]> = [
      ['nostr+walletconnect://nope', /wallet's key/],
      [`nostr+walletconnect://${'ab'.repeat(32)}?secret=${'11'.repeat(32)}`, /at least one relay/],
      [`nostr+walletconnect://${'ab'.repeat(32)}?relay=wss://r.example&secret=xyz`, /secret as 64 hex/],
      [`nostr+walletconnect://${'ab'.repeat(32)}?relay=https://r.example&secret=${'11'.repeat(32)}`, /relay/],
    ]
    for (const [uri, why] of cases) {
      const r = await d('fleet.pair', [pairArgs(atm.pk, 'atm-w', { nwcReceiveOnlyUri: uri })], call)
      expect(r, uri).toMatchObject({ ok: false, error: { code: 'bad_args', field: 'args[0].nwcReceiveOnlyUri' } })
      if (!r.ok) {
        expect(r.error.message).toMatch(/^args\[0\]\.nwcReceiveOnlyUri: Receive-only wallet connection /)
        expect(r.error.message).toMatch(why)
        expect(r.error.message).not.toContain(uri)
      }
    }
    const cashIn = await d(
      'fleet.pair',
      [pairArgs(atm.pk, 'atm-w', { nwcCashInUri: 'nostr+walletconnect://nope' })],
      call,
    )
    expect(cashIn).toMatchObject({ ok: false, error: { field: 'args[0].nwcCashInUri' } })
    expect(await signerRequests()).toBe(before) // nothing was asked of the signer
  }, 30_000)

  it('refuses to re-pair a paired key without replace, naming the machine; replace: true goes through', async () => {
    const first = ok<FleetPairView>(await d('fleet.pair', [pairArgs(npubEncode(atm.pk), 'atm-1')], call))
    expect(first.rosterEventId).not.toBeNull()
    const before = await signerRequests()
    const again = await d('fleet.pair', [pairArgs(atm.pk, 'atm-renamed', { name: 'Renamed kiosk' })], call)
    expect(again).toMatchObject({ ok: false, error: { code: 'conflict', field: 'args[0].atm' } })
    if (!again.ok) expect(again.error.message).toMatch(/already paired as machine atm-1 \(ATM atm-1\)/)
    expect(await signerRequests()).toBe(before)
    // The machine kept its name and id.
    let detail = ok<MachineDetailView>(await d('fleet.machine', [{ atm: atm.pk }], call))
    expect(detail.config).toMatchObject({ machineId: 'atm-1', name: 'ATM atm-1' })

    const replaced = ok<FleetPairView>(
      await d('fleet.pair', [pairArgs(atm.pk, 'atm-1', { name: 'Renamed kiosk', replace: true })], call),
    )
    expect(replaced.rosterEventId).toBeNull() // still in the roster: no new roster version
    detail = ok<MachineDetailView>(await d('fleet.machine', [{ atm: npubEncode(atm.pk) }], call))
    expect(detail.config).toMatchObject({ name: 'Renamed kiosk', eventId: replaced.configEventId })
    expect(detail.history.at(-1)?.changes).toEqual([{ field: 'name', old: 'ATM atm-1', new: 'Renamed kiosk' }])
  }, 60_000)

  it('shows the machine detail: status, last seen, last record, delegation window, relay health, config history', async () => {
    const receive = await svc.addConnection({ wallet: op.wallet, methods: RECEIVE_ONLY_METHODS })
    const pair = ok<FleetPairView>(
      await d(
        'fleet.pair',
        [pairArgs(atm.pk, 'atm-1', { name: 'Renamed kiosk', replace: true, nwcReceiveOnlyUri: receive.uri })],
        call,
      ),
    )
    const sim = await createAtmSimulator({
      pairingUri: pair.uri,
      atmSecretKey: atm.sk,
      customer,
      publishDeadlineMs: 30_000,
    })
    try {
      // A sale: its record is the machine's last record, and it was last seen then.
      expect((await sim.sell()).accepted).toBe(true)
      const detail = await waitFor('the sale booked', async () => {
        const v = ok<MachineDetailView>(await d('fleet.machine', [{ atm: atm.pk }], call))
        return v.lastRecord?.outcome === 'booked' ? v : undefined
      })
      expect(detail.machine.booked).toBe(1)
      expect(detail.machine).toMatchObject({ atmPubkey: atm.pk, rosterStatus: 'member' })
      expect(detail.lastSeenAtMs).toBeGreaterThan(Date.now() - 60_000)
      expect(detail.lastRecord?.eventId).toMatch(/^[0-9a-f]{64}$/)
      expect(detail.delegation).toMatchObject({ untilSec: pair.delegation.untilSec, status: 'active', newest: true })
      expect(detail.relays).toEqual([expect.objectContaining({ url: relay.url, state: 'connected' })])
      expect(detail.history.length).toBeGreaterThanOrEqual(2)
      expect(detail.history[0]?.changes.find((c) => c.field === 'fees.cash_out.operatorPpm')).toEqual({
        field: 'fees.cash_out.operatorPpm',
        old: null,
        new: '50000',
      })
      expect(detail.walletRevocation).toBeNull()
    } finally {
      await sim.close()
    }
    expect(await d('fleet.machine', [{ atm: atmKey(0x7f).pk }], call)).toMatchObject({
      ok: false,
      error: { code: 'not_found', field: 'args[0].atm' },
    })
  }, 60_000)

  it('edits the config through the signer; refusals are in percent and currency amounts', async () => {
    const before = ok<MachineDetailView>(await d('fleet.machine', [{ atm: atm.pk }], call))
    const cfg = before.config!
    const edit = (patch: Record<string, unknown>) => ({
      atmPubkey: atm.pk,
      name: cfg.name,
      currency: cfg.currency,
      fees: cfg.fees,
      discountPpm: cfg.discountPpm,
      limits: cfg.limits,
      relays: cfg.relays,
      baseEventId: cfg.eventId,
      ...patch,
    })
    const asked = await signerRequests()
    const refusals: Array<[Record<string, unknown>, string, RegExp]> = [
      [
        { fees: { ...cfg.fees, cash_out: { platformPpm: 100_000, operatorPpm: 60_000 } } },
        'args[0].fees.cash_out.operatorPpm',
        /Cash-out fees: platform plus operator fee is 16%, at most 15% is allowed/,
      ],
      [
        { limits: { ...cfg.limits, cash_in: { minFiatMinor: '50000', maxFiatMinor: '2000' } } },
        'args[0].limits.cash_in.minFiatMinor',
        /Cash-in minimum \(500\.00 EUR\) must not be more than the maximum \(20\.00 EUR\)/,
      ],
      [{ relays: ['wss://ok.example', 'http://nope'] }, 'args[0].relays[1]', /Relay 2 must be a ws:\/\/ or wss:\/\//],
      [{ currency: 'XYZ' }, 'args[0].currency', /currency code such as EUR/],
    ]
    for (const [patch, field, why] of refusals) {
      const r = await d('fleet.setConfig', [edit(patch)], call)
      expect(r, field).toMatchObject({ ok: false, error: { code: 'bad_args', field } })
      if (!r.ok) {
        expect(r.error.message).toMatch(why)
        // The path is for the form; the sentence after it is in the operator's units.
        expect(r.error.message.slice(field.length + 2)).not.toMatch(/ppm|Minor|integer in/)
      }
    }
    expect(await signerRequests()).toBe(asked)

    const changed = ok<FleetSetConfigView>(
      await d(
        'fleet.setConfig',
        [edit({ fees: { ...cfg.fees, cash_out: { platformPpm: 10_000, operatorPpm: 45_000 } } })],
        call,
      ),
    )
    expect(await signerRequests()).toBe(asked + 1) // one signature, on the device
    expect(changed.publishedTo).toEqual([relay.url])
    expect(await idsOnRelay(relay.url, [changed.configEventId])).toEqual([changed.configEventId])
    const after = ok<MachineDetailView>(await d('fleet.machine', [{ atm: atm.pk }], call))
    expect(after.config).toMatchObject({ eventId: changed.configEventId, fees: { cash_out: { operatorPpm: 45_000 } } })
    expect(after.history.at(-1)).toMatchObject({
      eventId: changed.configEventId,
      changes: [{ field: 'fees.cash_out.operatorPpm', old: '50000', new: '45000' }],
    })
    // The delegation stays in force: the new version names the same token as the one it replaces.
    expect(after.delegation?.status).toBe('active')
    // A stale edit (based on the version before) is a conflict.
    expect(await d('fleet.setConfig', [edit({ name: 'Stale' })], call)).toMatchObject({
      ok: false,
      error: { code: 'conflict', field: 'args[0].baseEventId' },
    })
  }, 60_000)

  it('after a revocation, keeps a wallet reminder until the operator confirms it, once', async () => {
    const rev = ok<{ rosterEventId: string }>(
      await d('fleet.revoke', [{ atmPubkey: atm.pk, reason: 'decommissioned' }], call),
    )
    const pending = ok<WalletRevocationView[]>(await d('fleet.walletRevocations', [], call))
    expect(pending).toEqual([
      expect.objectContaining({ atmPubkey: atm.pk, machineId: 'atm-1', rosterEventId: rev.rosterEventId }),
    ])
    // On the worklist too, until confirmed.
    const work = ok<WorklistView>(await d('worklist.list', [{}], call))
    expect(work.walletRevocations?.map((w) => w.atmPubkey)).toEqual([atm.pk])
    const detail = ok<MachineDetailView>(await d('fleet.machine', [{ atm: atm.pk }], call))
    expect(detail.walletRevocation?.rosterEventId).toBe(rev.rosterEventId)
    expect(detail.machine.rosterStatus).toBe('revoked')

    const ack = ok<{ ackId: number }>(
      await d(
        'fleet.confirmWalletRevoked',
        [{ atmPubkey: atm.pk, rosterEventId: rev.rosterEventId, note: 'removed in Alby' }],
        call,
      ),
    )
    expect(ack.ackId).toBeGreaterThan(0)
    expect(ok<WalletRevocationView[]>(await d('fleet.walletRevocations', [], call))).toEqual([])
    expect(ok<WorklistView>(await d('worklist.list', [{}], call)).walletRevocations).toEqual([])
    expect(
      await d('fleet.confirmWalletRevoked', [{ atmPubkey: atm.pk, rosterEventId: rev.rosterEventId }], call),
    ).toMatchObject({ ok: false, error: { code: 'not_found', field: 'args[0].rosterEventId' } })

    // Re-paired (a replacement, the key was paired before) and revoked again: the reminder comes back.
    ok(await d('fleet.pair', [pairArgs(atm.pk, 'atm-1', { replace: true })], call))
    const rev2 = ok<{ rosterEventId: string }>(await d('fleet.revoke', [{ atmPubkey: atm.pk, reason: 'again' }], call))
    expect(ok<WalletRevocationView[]>(await d('fleet.walletRevocations', [], call))).toEqual([
      expect.objectContaining({ atmPubkey: atm.pk, rosterEventId: rev2.rosterEventId }),
    ])
  }, 60_000)
})
