// Operator setup turns the console on (src-main/setup/service.ts): configured only through the IPC handlers, via
// the real dispatcher, against a REAL relay process (test/support/relay.ts) and the REAL @getalby/sdk wallet service
// (test/support/wallet-service.ts). Once operator, wallet, console key and a relay are set, the fleet and the payout
// pipeline start without a restart (relay.status shows the relay connected, fleet.machines answers, a notice says
// so); removing the relay stops them again; a restart starts them from the saved setup with the same console key,
// and its log says only that (no "inert" line before "starting").
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { npubEncode } from 'nostr-tools/nip19'
import { getPublicKey } from 'nostr-tools/pure'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createAppLog } from '../../src-main/app-log'
import { createDispatcher, type Dispatch } from '../../src-main/ipc'
import '../../src-main/ledger/registry'
import { openLedgerInProcess } from '../../src-main/ledger/store'
import { lazySecretStore } from '../../src-main/secrets/secret-store'
import { createServices, type Services } from '../../src-main/services'
import type { Notice, RelayStatusView, Result, SetupStatusView } from '../../src-shared/ipc/contract'
import { waitFor } from '../support/fleet-harness'
import { LightningNetwork } from '../support/lightning'
import { type RelayHandle, startRelay } from '../support/relay'
import { startWalletService, type WalletConnection, type WalletServiceFixture } from '../support/wallet-service'

const call = { transport: 'ws', caller: 'test' } as const
const OPERATOR_PK = getPublicKey(new Uint8Array(32).fill(0x31))

let root: string
let relay: RelayHandle
let walletRelay: RelayHandle
let svc: WalletServiceFixture
let op: WalletConnection

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'setup-pipeline-'))
  relay = await startRelay()
  walletRelay = await startRelay()
  svc = await startWalletService({ relayUrls: [walletRelay.url], network: new LightningNetwork() })
  op = await svc.fundedConnection('operator', 50_000_000n)
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

async function open(dataDir: string) {
  const appLog = createAppLog()
  const notices: Notice[] = []
  const pushed: SetupStatusView[] = []
  const secrets = lazySecretStore({ dataDir, keyFile: join(root, 'secret.key'), log: appLog.log.child('secrets') })
  const services: Services = await createServices({
    runtime: 'node',
    dataDir,
    appLog,
    emit: (event, payload) => {
      if (event === 'notice') notices.push(payload as Notice)
      if (event === 'setup.status') pushed.push(payload as SetupStatusView)
    },
    openLedger: ({ dir, log }) => openLedgerInProcess({ dir, logger: log, autoSnapshot: false }),
    lps: { secrets },
    payouts: { secrets },
  })
  await services.ledgerReady
  const d: Dispatch = createDispatcher(services.handlers, appLog.log.child('ipc'))
  const status = async () => ok<SetupStatusView>(await d('setup.status', [], call))
  return { services, d, appLog, notices, pushed, status }
}

const connected = (r: RelayStatusView, url: string) => r.relays.some((h) => h.url === url && h.state === 'connected')

describe('operator setup starts the fleet and payout pipeline', () => {
  it('configured over IPC: starts live, stops when the relay goes, and restarts from the saved setup', async () => {
    const dataDir = join(root, 'data')
    const a = await open(dataDir)
    let consolePubkey: string
    try {
      expect((await a.status()).pipeline.state).toBe('inert')
      expect(ok<RelayStatusView>(await a.d('relay.status', [], call)).relays).toEqual([])

      ok(await a.d('settings.set', [{ relays: [relay.url] }], call))
      ok(await a.d('setup.setOperator', [{ operatorNpub: npubEncode(OPERATOR_PK) }], call))
      expect((await a.status()).pipeline.state).toBe('inert')
      const afterWallet = ok<SetupStatusView>(await a.d('setup.setOperatorWallet', [{ nwcUri: op.uri }], call))
      expect(afterWallet.missing).toEqual([])
      expect(afterWallet.operatorWallet?.walletPubkey).toBe(op.walletPubkey)
      consolePubkey = afterWallet.console!.pubkey

      const running = await waitFor('pipeline running', async () => {
        const s = await a.status()
        return s.pipeline.state === 'running' ? s : undefined
      })
      expect(running.pipeline.reason).toMatch(/payout pipeline running on 1 relay/)
      await waitFor('relay connected', async () => connected(ok(await a.d('relay.status', [], call)), relay.url))
      expect(ok<unknown[]>(await a.d('fleet.machines', [], call))).toEqual([])
      expect(ok<unknown[]>(await a.d('fleet.rejected', [{}], call))).toEqual([])
      expect(a.notices.some((n) => n.level === 'info' && /pipeline running/.test(n.text))).toBe(true)
      expect(a.pushed.some((s) => s.pipeline.state === 'running')).toBe(true)
      // The pipeline itself (not just the fleet service) is up: it logged its start on the fleet's parts.
      expect(a.appLog.recent(2000).some((e) => e.msg === 'pipeline started')).toBe(true)

      // No relay left: the fleet and pipeline stop, without a restart.
      ok(await a.d('settings.set', [{ relays: [] }], call))
      await waitFor('pipeline inert again', async () => (await a.status()).pipeline.state === 'inert')
      expect((await a.status()).missing).toEqual(['relays'])
      expect(ok<RelayStatusView>(await a.d('relay.status', [], call)).relays).toEqual([])
      ok(await a.d('settings.set', [{ relays: [relay.url] }], call))
      await waitFor('pipeline running again', async () => (await a.status()).pipeline.state === 'running')
    } finally {
      await a.services.close()
    }

    // A restart: the saved setup starts everything at start-up, with the same console key.
    const b = await open(dataDir)
    try {
      const s = await waitFor('pipeline running after restart', async () => {
        const v = await b.status()
        return v.pipeline.state === 'running' ? v : undefined
      })
      expect(s.console?.pubkey).toBe(consolePubkey)
      expect(s.operator?.pubkey).toBe(OPERATOR_PK)
      await waitFor('relay connected after restart', async () =>
        connected(ok(await b.d('relay.status', [], call)), relay.url),
      )
      // The log says one thing at start-up: the fleet starts, with no "inert" line before it.
      const startUp = b.appLog.recent(2000).map((e) => e.msg)
      expect(startUp.filter((m) => /inert/.test(m))).toEqual([])
      expect(startUp.filter((m) => m === 'starting the fleet and payout pipeline')).toHaveLength(1)
    } finally {
      await b.services.close()
    }
  }, 60_000)
})
