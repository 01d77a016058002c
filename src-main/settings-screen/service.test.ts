// The Settings screen's IPC through the real dispatcher over the real services (in-process ledger, key-file secret
// store): relay validation refuses garbage naming the field before any connection is tried; the live check answers
// a real relay process within its timeout and says in one sentence why a closed port or an HTTP server is not one;
// the saved operator wallet answers get_info and get_balance through a real NIP-47 wallet service; fees are read
// and appended in percent terms with refusals in percent; backup and restore go through the same handlers.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Result } from '../../src-shared/ipc/contract'
import type {
  BackupView,
  FeesView,
  RelayCheckView,
  RestoreView,
  WalletCheckView,
} from '../../src-shared/ipc/settings-screen'
import { LightningNetwork } from '../../test/support/lightning'
import { type RelayHandle, startRelay } from '../../test/support/relay'
import { startWalletService, type WalletServiceFixture } from '../../test/support/wallet-service'
import { createAppLog } from '../app-log'
import { createDispatcher, type Dispatch } from '../ipc'
import '../ledger/registry'
import { openLedgerInProcess } from '../ledger/store'
import { lazySecretStore } from '../secrets/secret-store'
import { createServices, type Services } from '../services'

const call = { transport: 'ws', caller: 'test' } as const
let root: string
let services: Services
let d: Dispatch
let relay: RelayHandle
let walletRelay: RelayHandle
let svc: WalletServiceFixture
let http: Server
const appLog = createAppLog()

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'settings-screen-'))
  relay = await startRelay()
  walletRelay = await startRelay()
  svc = await startWalletService({ relayUrls: [walletRelay.url], network: new LightningNetwork() })
  const secrets = lazySecretStore({
    dataDir: join(root, 'data'),
    keyFile: join(root, 'keys', 'secret.key'),
    log: appLog.log,
  })
  services = await createServices({
    runtime: 'node',
    dataDir: join(root, 'data'),
    appLog,
    emit: () => {},
    openLedger: ({ dir }) => openLedgerInProcess({ dir, autoSnapshot: false }),
    lps: { secrets },
  })
  await services.ledgerReady
  d = createDispatcher(services.handlers, appLog.log.child('ipc'))
  http = createServer((_req, res) => res.writeHead(404).end('no'))
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r))
}, 60_000)

afterAll(async () => {
  await services?.close()
  await svc?.close()
  await relay?.stop()
  await walletRelay?.stop()
  http?.close()
  rmSync(root, { recursive: true, force: true })
})

function ok<T>(r: Result<unknown>): T {
  if (!r.ok) throw new Error(`expected ok, got ${JSON.stringify(r.error)}`)
  return r.value as T
}

describe('relays', () => {
  it('settings.set refuses ws://!!garbage!! naming the entry', async () => {
    const r = await d('settings.set', [{ relays: [relay.url, 'ws://!!garbage!!'] }], call)
    expect(r).toEqual({
      ok: false,
      error: {
        code: 'bad_args',
        field: 'args[0].relays[1]',
        message:
          'args[0].relays[1]: not a relay address: the host name may contain only letters, digits, dots and dashes (not at the start or end of a part)',
      },
    })
    expect(ok<{ relays: string[] }>(await d('settings.get', [], call)).relays).toEqual([])
  })

  it('the live check: a real relay answers REQ with EOSE; a closed port and an HTTP server are named as such', async () => {
    const good = ok<RelayCheckView>(await d('settings.checkRelay', [{ url: relay.url }], call))
    expect(good).toMatchObject({ url: relay.url, ok: true, error: null })
    expect(good.latencyMs).toBeGreaterThanOrEqual(0)

    const port = (http.address() as AddressInfo).port
    const httpCheck = ok<RelayCheckView>(await d('settings.checkRelay', [{ url: `ws://127.0.0.1:${port}` }], call))
    expect(httpCheck).toMatchObject({ ok: false, error: 'not a Nostr relay (the server answered HTTP 404)' })

    await new Promise<void>((r) => http.close(() => r()))
    const closed = ok<RelayCheckView>(await d('settings.checkRelay', [{ url: `ws://127.0.0.1:${port}` }], call))
    expect(closed).toMatchObject({ ok: false, error: 'nothing listens at that address (connection refused)' })

    const garbage = await d('settings.checkRelay', [{ url: 'ws://!!garbage!!' }], call)
    expect(garbage).toMatchObject({ ok: false, error: { code: 'bad_args', field: 'args[0].url' } })
  })
})

describe('operator wallet', () => {
  it('is asked for get_info and get_balance once saved', async () => {
    const none = await d('settings.checkWallet', [], call)
    expect(none).toMatchObject({ ok: false, error: { code: 'not_found' } })
    const op = await svc.fundedConnection('operator', 21_000_000n)
    ok(await d('setup.setOperatorWallet', [{ nwcUri: op.uri }], call))
    const w = ok<WalletCheckView>(await d('settings.checkWallet', [], call))
    expect(w.walletPubkey).toBe(op.walletPubkey)
    expect(w.balanceMsat).toBe('21000000')
    expect(w.methods).toEqual(expect.arrayContaining(['get_info', 'get_balance', 'pay_invoice']))
    expect(w.missingMethods).toEqual([])
  }, 30_000)
})

describe('fees', () => {
  it('reads the fleet default, appends a change, refuses above 15 % in percent', async () => {
    const before = ok<FeesView>(await d('fees.get', [], call))
    expect(before.configured).toBe(false)
    const set = ok<FeesView>(
      await d(
        'fees.set',
        [{ cashOut: { platformPpm: 10_000, operatorPpm: 40_000 }, cashIn: { platformPpm: 0, operatorPpm: 30_000 } }],
        call,
      ),
    )
    expect(set).toMatchObject({ configured: true, cashOut: { platformPpm: 10_000, operatorPpm: 40_000 } })
    const bad = await d(
      'fees.set',
      [{ cashOut: { platformPpm: 60_000, operatorPpm: 100_000 }, cashIn: { platformPpm: 0, operatorPpm: 0 } }],
      call,
    )
    expect(bad).toEqual({
      ok: false,
      error: {
        code: 'bad_args',
        field: 'args[0].cashOut.operatorPpm',
        message:
          'args[0].cashOut.operatorPpm: Cash-out: the platform fee and your commission together may be at most 15 %; they add up to 16 %',
      },
    })
    expect(ok<FeesView>(await d('fees.get', [], call)).cashOut.operatorPpm).toBe(40_000)
  })
})

describe('backup and restore through IPC', () => {
  it('backs up into a chosen folder and stages a verified restore; a bad folder is named', async () => {
    const folder = join(root, 'usb')
    mkdirSync(folder)
    const b = ok<BackupView>(await d('backup.create', [{ folder }], call))
    expect(b.path.startsWith(folder)).toBe(true)
    expect(b.files.some((f) => f.name.startsWith('ledger/snapshot-'))).toBe(true)
    const r = ok<RestoreView>(await d('backup.restore', [{ folder: b.path }], call))
    expect(r).toMatchObject({ seq: b.seq, pendingRestart: true })
    const missing = await d('backup.restore', [{ folder: join(root, 'nope') }], call)
    expect(missing).toMatchObject({ ok: false, error: { code: 'bad_args', field: 'args[0].folder' } })
  })
})
