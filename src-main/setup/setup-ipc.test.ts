// The setup.* IPC methods through the real dispatcher over the real services (createServices with an in-process
// ledger and a key-file secret store): bad operator keys and bad NWC URIs answered bad_args naming the field, with a
// log line; the operator wallet URI sealed in the secret store and found nowhere else — not in settings.json, the
// ledger's files, the log, or any answer; the console key created on first use and stable; no secret store →
// `unavailable`, and the status says why.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { bytesToHex } from '@noble/hashes/utils.js'
import { npubEncode } from 'nostr-tools/nip19'
import { getPublicKey } from 'nostr-tools/pure'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Result, SetupStatusView } from '../../src-shared/ipc/contract'
import { formatConnectionUri } from '../../src-shared/nostr/nip47'
import { createAppLog } from '../app-log'
import { createDispatcher, type Dispatch } from '../ipc'
import '../ledger/registry'
import { openLedgerInProcess } from '../ledger/store'
import { lazySecretStore, SECRETS_FILE, SecretSlots } from '../secrets/secret-store'
import { createServices, type Services } from '../services'
import { SETTINGS_FILE } from '../settings-store'
import { parseOperatorKey } from './service'

const call = { transport: 'ws', caller: 'test' } as const
const OPERATOR_SK = new Uint8Array(32).fill(7)
const OPERATOR_PK = getPublicKey(OPERATOR_SK)
const NWC_SECRET = bytesToHex(new Uint8Array(32).fill(0x42))
const WALLET_PK = getPublicKey(new Uint8Array(32).fill(9))
const NWC_URI = formatConnectionUri({ walletPubkey: WALLET_PK, relays: ['ws://127.0.0.1:9'], secretHex: NWC_SECRET })

let root: string
let dataDir: string
let services: Services
let bare: Services
let d: Dispatch
let dBare: Dispatch
const appLog = createAppLog()
const bareLog = createAppLog()

const openLedger = ({ dir }: { dir: string }) => openLedgerInProcess({ dir, autoSnapshot: false })

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'setup-ipc-'))
  dataDir = join(root, 'data')
  const secrets = lazySecretStore({ dataDir, keyFile: join(root, 'keys', 'secret.key'), log: appLog.log })
  services = await createServices({
    runtime: 'node',
    dataDir,
    appLog,
    emit: () => {},
    openLedger,
    lps: { secrets },
  })
  await services.ledgerReady
  d = createDispatcher(services.handlers, appLog.log.child('ipc'))
  // The same services without any secret store (headless started without a key file or consent).
  bare = await createServices({
    runtime: 'node',
    dataDir: join(root, 'bare'),
    appLog: bareLog,
    emit: () => {},
    openLedger,
  })
  await bare.ledgerReady
  dBare = createDispatcher(bare.handlers, bareLog.log.child('ipc'))
})

afterAll(async () => {
  await services?.close()
  await bare?.close()
  rmSync(root, { recursive: true, force: true })
})

function ok<T>(r: Result<unknown>): T {
  if (!r.ok) throw new Error(`expected ok, got ${JSON.stringify(r.error)}`)
  return r.value as T
}

/** Every file below `dir`, recursively, as text. */
function filesBelow(dir: string): { path: string; text: string }[] {
  const out: { path: string; text: string }[] = []
  for (const name of readdirSync(dir)) {
    const p = join(dir, name)
    if (statSync(p).isDirectory()) out.push(...filesBelow(p))
    else out.push({ path: p, text: readFileSync(p).toString('latin1') })
  }
  return out
}

describe('parseOperatorKey', () => {
  it('accepts an npub and the same key in hex (any case), refuses a point off the curve', () => {
    expect(parseOperatorKey(npubEncode(OPERATOR_PK))).toBe(OPERATOR_PK)
    expect(parseOperatorKey(` ${OPERATOR_PK.toUpperCase()} `)).toBe(OPERATOR_PK)
    // x = 5 is not on secp256k1 (5³ + 7 = 132 is not a square mod p).
    expect(() => parseOperatorKey(`${'0'.repeat(63)}5`)).toThrow(/not a public key on secp256k1/)
  })
})

describe('setup over IPC', () => {
  it('starts with nothing set up and says what is missing', async () => {
    const s = ok<SetupStatusView>(await d('setup.status', [], call))
    expect(s.operator).toBeNull()
    expect(s.operatorWallet).toBeNull()
    expect(s.console).toBeNull()
    expect(s.secrets.available).toBe(true)
    expect(s.secrets.scheme).toBe('aes256gcm')
    expect(s.missing).toEqual(['operator', 'operatorWallet', 'relays'])
    expect(s.pipeline.state).toBe('inert')
    expect(s.pipeline.appliesLive).toBe(true)
  })

  it('answers a bad operator key with bad_args naming the field, logs it, and keeps the settings', async () => {
    const cases: [unknown, RegExp][] = [
      [{ operatorNpub: 'npub1qqqqqqqq' }, /not a valid npub/],
      [{ operatorNpub: 'nsec1qqqqqqqq' }, /expected an npub/],
      [{ operatorNpub: `${'0'.repeat(63)}5` }, /not a public key/],
      [{ operatorNpub: '' }, /args\[0\]\.operatorNpub/],
      [{ operator: npubEncode(OPERATOR_PK) }, /args\[0\]/],
    ]
    for (const [arg, message] of cases) {
      const r = await d('setup.setOperator', [arg], call)
      expect(r.ok).toBe(false)
      if (r.ok) continue
      expect(r.error.code).toBe('bad_args')
      expect(r.error.message).toMatch(message)
      expect(r.error.field).toMatch(/^args\[0\]/)
    }
    const npubErr = await d('setup.setOperator', [{ operatorNpub: 'npub1qqqqqqqq' }], call)
    expect(!npubErr.ok && npubErr.error.field).toBe('args[0].operatorNpub')
    const logged = appLog
      .recent(2000)
      .filter((e) => e.msg.startsWith('ipc call') && e.fields.method === 'setup.setOperator')
    expect(logged.some((e) => e.fields.field === 'args[0].operatorNpub' && e.fields.reason === 'bad_args')).toBe(true)
    expect(ok<{ operatorPubkey?: string }>(await d('settings.get', [], call)).operatorPubkey).toBeUndefined()
  })

  it('pins the operator key from an npub and creates the console key on first use', async () => {
    const s = ok<SetupStatusView>(await d('setup.setOperator', [{ operatorNpub: npubEncode(OPERATOR_PK) }], call))
    expect(s.operator).toEqual({ pubkey: OPERATOR_PK, npub: npubEncode(OPERATOR_PK) })
    expect(s.console?.pubkey).toMatch(/^[0-9a-f]{64}$/)
    expect(s.console?.npub).toBe(npubEncode(s.console!.pubkey))
    expect(s.missing).toEqual(['operatorWallet', 'relays'])
    const onDisk = JSON.parse(readFileSync(join(dataDir, SETTINGS_FILE), 'utf8'))
    expect(onDisk.operatorPubkey).toBe(OPERATOR_PK)
    // The console key itself is sealed, never in the settings; the pubkey stays the same on the next call.
    const again = ok<SetupStatusView>(await d('setup.status', [], call))
    expect(again.console?.pubkey).toBe(s.console?.pubkey)
    expect(JSON.parse(readFileSync(join(dataDir, SECRETS_FILE), 'utf8')).secrets[SecretSlots.consoleKey]).toMatch(
      /^sm1\.aes256gcm\./,
    )
    // The console key cannot be pinned as the operator key.
    const self = await d('setup.setOperator', [{ operatorNpub: s.console!.npub }], call)
    expect(!self.ok && self.error.field).toBe('args[0].operatorNpub')
  })

  it('answers a bad NWC URI with bad_args naming the field and never echoes its secret', async () => {
    const bad = [
      'https://example.com',
      NWC_URI.replace(/secret=[0-9a-f]+/, 'secret=zz'),
      NWC_URI.replace(/relay=[^&]+&/, ''),
      NWC_URI.replace(WALLET_PK, 'abc'),
    ]
    for (const uri of bad) {
      const r = await d('setup.setOperatorWallet', [{ nwcUri: uri }], call)
      expect(r.ok).toBe(false)
      if (r.ok) continue
      expect(r.error.code).toBe('bad_args')
      expect(r.error.field).toBe('args[0].nwcUri')
      expect(r.error.message).not.toContain(NWC_SECRET)
    }
    expect(ok<SetupStatusView>(await d('setup.status', [], call)).operatorWallet).toBeNull()
  })

  it('seals the operator wallet URI: only its public parts come back, and the secret is nowhere else', async () => {
    const s = ok<SetupStatusView>(await d('setup.setOperatorWallet', [{ nwcUri: NWC_URI }], call))
    expect(s.operatorWallet).toEqual({ walletPubkey: WALLET_PK, relays: ['ws://127.0.0.1:9'], lud16: null })
    expect(s.missing).toEqual(['relays'])
    expect(s.pipeline.state).toBe('inert')
    expect(s.pipeline.reason).toMatch(/relays/)
    const status = ok<SetupStatusView>(await d('setup.status', [], call))
    const settings = ok(await d('settings.get', [], call))
    const answers = JSON.stringify([s, status, settings])
    expect(answers).not.toContain(NWC_SECRET)
    expect(answers).not.toContain('nostr+walletconnect')
    // Sealed in its slot (and opens to exactly the URI given) …
    const store = await lazySecretStore({ dataDir, keyFile: join(root, 'keys', 'secret.key'), log: appLog.log })()
    expect(await store.get(SecretSlots.operatorNwc)).toBe(NWC_URI)
    // … and in no file of the data directory in the clear (settings.json, secrets.json, the ledger's files), nor
    // in the log.
    const files = filesBelow(dataDir)
    expect(files.map((f) => f.path)).toContain(join(dataDir, SETTINGS_FILE))
    expect(files.some((f) => f.path.includes(`${join(dataDir, 'ledger')}`))).toBe(true)
    for (const f of files) {
      expect(f.text, f.path).not.toContain(NWC_SECRET)
      expect(f.text, f.path).not.toContain('nostr+walletconnect')
    }
    const log = JSON.stringify(appLog.recent(2000, 'debug'))
    expect(log).not.toContain(NWC_SECRET)
    expect(log).toContain('operator wallet connected')
  })

  it('without a secret store: the wallet is refused as unavailable and the status says why', async () => {
    const r = await dBare('setup.setOperatorWallet', [{ nwcUri: NWC_URI }], call)
    expect(r.ok).toBe(false)
    if (!r.ok) expect(r.error.code).toBe('unavailable')
    const s = ok<SetupStatusView>(await dBare('setup.status', [], call))
    expect(s.secrets.available).toBe(false)
    expect(s.secrets.error).toMatch(/secret store/)
    expect(s.missing).toContain('secrets')
    // The operator key needs no secret; it is still pinned.
    const op = ok<SetupStatusView>(await dBare('setup.setOperator', [{ operatorNpub: OPERATOR_PK }], call))
    expect(op.operator?.pubkey).toBe(OPERATOR_PK)
    expect(op.console).toBeNull()
    expect(JSON.stringify(bareLog.recent(2000, 'debug'))).not.toContain(NWC_SECRET)
  })

  it('tells the operator when the pipeline cannot start (the ledger failed to open): state failed, error notice', async () => {
    const notices: { level: string; text: string }[] = []
    const log = createAppLog()
    const dir = join(root, 'failing')
    const failing = await createServices({
      runtime: 'node',
      dataDir: dir,
      appLog: log,
      emit: (event, payload) => {
        if (event === 'notice') notices.push(payload as { level: string; text: string })
      },
      openLedger: async () => {
        throw new Error('disk full')
      },
      lps: { secrets: lazySecretStore({ dataDir: dir, keyFile: join(root, 'keys', 'failing.key'), log: log.log }) },
    })
    try {
      await failing.ledgerReady
      const df = createDispatcher(failing.handlers, log.log.child('ipc'))
      ok(await df('settings.set', [{ relays: ['ws://127.0.0.1:9'] }], call))
      ok(await df('setup.setOperator', [{ operatorNpub: OPERATOR_PK }], call))
      ok(await df('setup.setOperatorWallet', [{ nwcUri: NWC_URI }], call))
      const deadline = Date.now() + 10_000
      let s = ok<SetupStatusView>(await df('setup.status', [], call))
      while (s.pipeline.state !== 'failed' && Date.now() < deadline) {
        await new Promise((r) => setImmediate(r))
        s = ok<SetupStatusView>(await df('setup.status', [], call))
      }
      expect(s.pipeline.state).toBe('failed')
      expect(s.pipeline.reason).toMatch(/ledger is not open/)
      expect(notices.some((n) => n.level === 'error' && /could not start/.test(n.text))).toBe(true)
    } finally {
      await failing.close()
    }
  })
})
