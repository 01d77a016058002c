// The lps.* IPC methods through the real dispatcher over the real services (createServices with an in-process
// ledger store holding every registered module): JSON-safe answers with decimal-string amounts, bad arguments
// answered bad_args naming the field (from the schema and from the ledger procedures), state refusals as
// conflict / not_found, an NWC destination sealed at rest (never in the ledger, the answer or the log) and usable
// by the payout resolver against the real relay and wallet service. Destinations are checked live before they
// are stored (the shared check; the `@example.com` addresses of the bookkeeping tests answer through a stand-in,
// every other destination meets the real check): a failed check is refused naming the field, a passed one shows
// as the LP's destination health.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { npubEncode } from 'nostr-tools/nip19'
import { getPublicKey } from 'nostr-tools/pure'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Result } from '../../src-shared/ipc/contract'
import type { DepositChangeView, DepositView, LpStatementView, LpView } from '../../src-shared/ipc/lps'
import { invoiceAmountMsat } from '../../src-shared/nostr/nip47'
import { LightningNetwork } from '../../test/support/lightning'
import { type RelayHandle, startRelay } from '../../test/support/relay'
import { startWalletService, type WalletServiceFixture } from '../../test/support/wallet-service'
import { createAppLog } from '../app-log'
import { createDispatcher, type Dispatch } from '../ipc'
import '../ledger/registry'
import { finalizeEvent } from 'nostr-tools/pure'
import { DEFAULT_SETTINGS } from '../../src-shared/ipc/contract'
import { KIND_DM_RELAYS, KIND_GIFT_WRAP, unwrapGiftWrap } from '../../src-shared/nostr/nip17'
import type { FleetParts } from '../fleet/feature'
import { createFleetPartsSlot } from '../fleet/pairing-service'
import { openLedgerInProcess } from '../ledger/store'
import type { LedgerStore } from '../ledger/types'
import { createRelayPool } from '../nostr/relay-pool'
import { createDestinationChecker, type DestinationChecker } from '../payouts/destinations/check'
import { createDestinationResolver } from '../payouts/destinations/resolver'
import { queryOnce } from '../receipts/query'
import { aesGcmSecretBox } from '../secrets/file-key'
import { openSecretStore, SECRETS_FILE, type SecretStore } from '../secrets/secret-store'
import type { ServiceContext } from '../service-context'
import { createServices, type Services } from '../services'
import type { SettingsStore } from '../settings-store'
import { createSoftwareSigner } from '../signer/software-signer'
import { ledgerDestinationLookup, lpsHandlers } from './service'

const ctx = { transport: 'ws', caller: 'test' } as const
const NODE_ID = '0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798'
const POLICY = { thresholdMsat: '10000', schedule: 'threshold', maxFeePpm: 5000 }
const npubOf = (n: number) => npubEncode(getPublicKey(new Uint8Array(32).fill(n)))
const realChecker = createDestinationChecker()
const checker: DestinationChecker = {
  check: (dst) =>
    dst.kind === 'lightning_address' && dst.address.endsWith('@example.com')
      ? Promise.resolve({ ok: true, text: `${dst.address} answered` })
      : realChecker.check(dst),
}

let dir: string
let services: Services
let bare: Services
let d: Dispatch
let dBare: Dispatch
let secrets: SecretStore
let ledgerA: LedgerStore
const appLog = createAppLog()
let relay: RelayHandle
let wallet: WalletServiceFixture
const net = new LightningNetwork()

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lps-ipc-'))
  relay = await startRelay()
  wallet = await startWalletService({ relayUrls: [relay.url], network: net })
  secrets = await openSecretStore({
    dir: join(dir, 'secrets'),
    box: aesGcmSecretBox(new Uint8Array(32).fill(5)),
    log: appLog.log,
  })
  const openLedger = ({ dir: ledgerDir }: { dir: string }) =>
    openLedgerInProcess({ dir: ledgerDir, autoSnapshot: false })
  services = await createServices({
    runtime: 'node',
    dataDir: join(dir, 'a'),
    appLog,
    emit: () => {},
    openLedger: async (o) => {
      ledgerA = await openLedger(o)
      return ledgerA
    },
    lps: { secrets, checker },
  })
  bare = await createServices({
    runtime: 'node',
    dataDir: join(dir, 'b'),
    appLog,
    emit: () => {},
    openLedger,
    lps: { checker },
  })
  await services.ledgerReady
  await bare.ledgerReady
  d = createDispatcher(services.handlers, appLog.log)
  dBare = createDispatcher(bare.handlers, appLog.log)
}, 30_000)
afterAll(async () => {
  await services?.close()
  await bare?.close()
  await wallet?.close()
  await relay?.stop()
  rmSync(dir, { recursive: true, force: true })
})

async function ok<T>(method: string, arg: unknown, via = () => d): Promise<T> {
  const r = (await via()(method, [arg], ctx)) as Result<T>
  if (!r.ok) throw new Error(`${method}: ${r.error.code} ${r.error.field ?? ''} ${r.error.message}`)
  return r.value
}
async function err(method: string, arg: unknown, via = () => d) {
  const r = await via()(method, [arg], ctx)
  if (r.ok) throw new Error(`${method} unexpectedly succeeded`)
  return r.error
}

function reg(n: number, over: Record<string, unknown> = {}) {
  return {
    npub: npubOf(n),
    name: `LP ${n}`,
    currency: 'GTQ',
    mode: 'flow',
    destination: { kind: 'lightning_address', address: `lp${n}@example.com` },
    payout: POLICY,
    ...over,
  }
}

describe('lps.* over the dispatcher', () => {
  it('registers, takes deposits, confirms, reverses, settles dust, deactivates, reports', async () => {
    const ana = await ok<LpView>('lps.register', reg(1))
    expect(ana).toMatchObject({ npub: npubOf(1), mode: 'flow', active: true, balanceMinor: '0' })
    expect(ana.id).toMatch(/^lp-[0-9a-f]{16}$/)
    const dep = await ok<DepositView>('lps.deposit.record', { lpId: ana.id, amountMinor: '100000', note: 'Monday' })
    expect([dep.status, dep.amountMinor]).toEqual(['pending', '100000'])
    const conf = await ok<DepositChangeView>('lps.deposit.confirm', { depositId: dep.depositId })
    expect([conf.status, conf.balanceMinor]).toEqual(['confirmed', '100000'])
    const again = await err('lps.deposit.confirm', { depositId: dep.depositId })
    expect([again.code, again.field]).toEqual(['conflict', 'args[0].depositId'])
    const rev = await ok<DepositChangeView>('lps.deposit.reverse', {
      depositId: dep.depositId,
      reason: 'miscount',
      amountMinor: '40000',
    })
    expect([rev.reversedMinor, rev.balanceMinor]).toEqual(['40000', '60000'])
    const over = await err('lps.deposit.reverse', { depositId: dep.depositId, reason: 'x', amountMinor: '60001' })
    expect([over.code, over.field]).toEqual(['conflict', 'args[0].amountMinor'])
    const dust = await ok<{ fiatMinor: string; msat: string; balanceMinor: string }>('lps.dustSettle', {
      lpId: ana.id,
      rateMsatPerMajor: '100000000',
      fiatMinor: '50',
    })
    expect(dust).toMatchObject({ fiatMinor: '50', msat: '50000000', balanceMinor: '59950' })
    const st = await ok<LpStatementView>('lps.statement', { lpId: ana.id, fromMs: 0, toMs: Date.now() + 60_000 })
    expect(st).toMatchObject({
      openingBalanceMinor: '0',
      depositedMinor: '100000',
      depositReversedMinor: '40000',
      dustSettledMinor: '50',
      closingBalanceMinor: '59950',
      earnedMsat: '50000000',
    })
    expect(st.lp.id).toBe(ana.id)
    const hist = await ok<{ lines: unknown[]; deposits: unknown[] }>('lps.history', { lpId: ana.id, limit: 10 })
    expect([hist.lines.length, hist.deposits.length]).toEqual([3, 1])
    const off = await ok<LpView & { settledMsat: string | null }>('lps.deactivate', {
      lpId: ana.id,
      reason: 'left',
      settleRateMsatPerMajor: '100000000',
    })
    expect([off.active, off.balanceMinor, off.settledMsat, off.accruedMsat]).toEqual([
      false,
      '0',
      '59950000000',
      '60000000000',
    ])
    expect((await ok<LpView[]>('lps.list', {})).some((l) => l.id === ana.id)).toBe(false)
    expect((await ok<LpView[]>('lps.list', { includeInactive: true })).some((l) => l.id === ana.id)).toBe(true)
    const late = await err('lps.deposit.record', { lpId: ana.id, amountMinor: '5' })
    expect([late.code, late.field]).toEqual(['conflict', 'args[0].lpId'])
  })

  it('answers bad arguments with bad_args naming the field', async () => {
    const real = await ok<LpView>('lps.register', reg(5))
    const cases: [string, unknown, string][] = [
      ['lps.register', reg(2, { npub: `${npubOf(2).slice(0, -1)}q` }), 'args[0].npub'],
      ['lps.register', reg(2, { npub: 'npub1' }), 'args[0].npub'],
      ['lps.register', reg(2, { mode: 'fixed' }), 'args[0].dailyLimitMinor'],
      ['lps.register', reg(2, { dailyLimitMinor: '100' }), 'args[0].dailyLimitMinor'],
      ['lps.register', reg(2, { dailyLimitMinor: 100, mode: 'fixed' }), 'args[0].dailyLimitMinor'],
      ['lps.register', reg(2, { currency: 'XXX' }), 'args[0].currency'],
      ['lps.register', reg(2, { destination: { kind: 'iban', iban: 'x' } }), 'args[0].destination.kind'],
      ['lps.register', reg(2, { destination: { kind: 'keysend', nodeId: 'ab' } }), 'args[0].destination.nodeId'],
      [
        'lps.register',
        reg(2, { destination: { kind: 'lightning_address', address: 'x' } }),
        'args[0].destination.address',
      ],
      [
        'lps.register',
        reg(2, { destination: { kind: 'nwc', uri: 'nostr+walletconnect://abc?relay=wss%3A%2F%2Fr&secret=00' } }),
        'args[0].destination.uri',
      ],
      ['lps.register', reg(2, { payout: { ...POLICY, thresholdMsat: '1500' } }), 'args[0].payout.thresholdMsat'],
      ['lps.register', reg(2, { payout: { ...POLICY, schedule: 'hourly' } }), 'args[0].payout.schedule'],
      ['lps.register', reg(2, { extra: 1 }), 'args[0].extra'],
      ['lps.deposit.record', { lpId: 'lp-x', amountMinor: '1.5' }, 'args[0].amountMinor'],
      ['lps.deposit.record', { lpId: 'lp-x', amountMinor: 100 }, 'args[0].amountMinor'],
      ['lps.deposit.record', { lpId: real.id, amountMinor: '0' }, 'args[0].amountMinor'],
      ['lps.dustSettle', { lpId: real.id, rateMsatPerMajor: '0' }, 'args[0].rateMsatPerMajor'],
      ['lps.deposit.reverse', { depositId: 'd' }, 'args[0].reason'],
      ['lps.statement', { lpId: 'lp-x', fromMs: 5, toMs: 'x' }, 'args[0].toMs'],
      ['lps.dustSettle', { lpId: 'lp-x', rateMsatPerMajor: '-1' }, 'args[0].rateMsatPerMajor'],
      ['lps.history', { lpId: 'lp-x', limit: 0 }, 'args[0].limit'],
      ['lps.list', { includeInactive: 'yes' }, 'args[0].includeInactive'],
    ]
    for (const [m, arg, field] of cases) {
      const e = await err(m, arg)
      expect([e.code, e.field], `${m} ${JSON.stringify(arg)}`).toEqual(['bad_args', field])
      expect(e.message.startsWith(field), e.message).toBe(true)
    }
    const missing = await err('lps.deposit.confirm', { depositId: 'nope' })
    expect([missing.code, missing.field]).toEqual(['not_found', 'args[0].depositId'])
    const unknownLp = await err('lps.statement', { lpId: 'lp-nobody', fromMs: 0, toMs: 1 })
    expect([unknownLp.code, unknownLp.field]).toEqual(['not_found', 'args[0].lpId'])
    expect((await ok<LpView[]>('lps.list', { includeInactive: true })).some((l) => l.npub === npubOf(2))).toBe(false)
    const logged = appLog.recent(1000).filter((r) => r.msg === 'lp request refused' || r.msg === 'ipc call rejected')
    expect(logged.some((r) => r.fields.field === 'args[0].payout.thresholdMsat')).toBe(true)
  })

  it('an NWC destination is sealed at rest, never returned or logged, and pays through the resolver', async () => {
    const lpWallet = net.createWallet('lp-nwc')
    const conn = await wallet.addConnection({ wallet: lpWallet, methods: ['make_invoice'] })
    const lp = await ok<LpView>('lps.register', reg(3, { destination: { kind: 'nwc', uri: conn.uri } }))
    expect(lp.destination).toEqual({ kind: 'nwc', walletPubkey: conn.walletPubkey })
    expect(JSON.stringify(lp)).not.toContain(conn.clientSecretHex)
    const sealedFile = readFileSync(join(dir, 'secrets', SECRETS_FILE), 'utf8')
    expect(sealedFile).toContain(`nwc:lp:${lp.id}`)
    expect(sealedFile).not.toContain(conn.clientSecretHex)
    // Neither the ledger's tables nor its journal/snapshot files ever saw the URI's secret.
    const rows = await ledgerA.query<{ j: string }>('SELECT destination_json AS j FROM payout_recipient')
    expect(rows.some((r) => r.j.includes(conn.walletPubkey))).toBe(true)
    for (const r of rows) expect(r.j).not.toContain(conn.clientSecretHex)
    for (const f of readdirSync(join(dir, 'a', 'ledger'), { recursive: true, withFileTypes: true })) {
      if (f.isFile()) expect(readFileSync(join(f.parentPath, f.name)).includes(conn.clientSecretHex)).toBe(false)
    }
    for (const entry of appLog.recent(1000)) expect(JSON.stringify(entry.fields)).not.toContain(conn.clientSecretHex)
    const lookup = ledgerDestinationLookup(() => ledgerA)
    const resolver = createDestinationResolver({ lookup, secrets })
    const inv = await resolver.resolveInvoice({ recipientKind: 'lp', recipientId: lp.id }, 21_000n)
    expect(inv.kind).toBe('invoice')
    if (inv.kind === 'invoice') expect(invoiceAmountMsat(inv.bolt11)).toBe(21_000n)
    expect(conn.handled.map((h) => h.method)).toEqual(['make_invoice'])
    // The same npub again is a conflict, and the sealed URI of the first registration is untouched.
    const dup = await err('lps.register', reg(3, { destination: { kind: 'nwc', uri: conn.uri } }))
    expect([dup.code, dup.field]).toEqual(['conflict', 'args[0].npub'])
    expect(await secrets.get(`nwc:lp:${lp.id}`)).toBe(conn.uri)
  }, 30_000)

  it('changes a destination: NWC sealed in, then replaced by keysend and the old secret discarded', async () => {
    const lp = await ok<LpView>('lps.register', reg(6))
    const conn = await wallet.addConnection({ wallet: net.createWallet('lp-six'), methods: ['make_invoice'] })
    const slot = `nwc:lp:${lp.id}`
    const toNwc = await ok<LpView>('lps.setDestination', {
      lpId: lp.id,
      destination: { kind: 'nwc', uri: conn.uri },
      payout: { ...POLICY, schedule: 'weekly' },
    })
    expect(toNwc.destination).toEqual({ kind: 'nwc', walletPubkey: conn.walletPubkey })
    expect(toNwc.payout).toMatchObject({ schedule: 'weekly', minIntervalMs: 7 * 86_400_000 })
    expect(await secrets.get(slot)).toBe(conn.uri)
    // Checked again from the sealed URI: the wallet still announces make_invoice on its relay.
    const rechecked = await ok<LpView>('lps.checkDestination', { lpId: lp.id })
    expect(rechecked.health).toMatchObject({
      ok: true,
      text: 'the wallet answered on its relays and can create invoices',
    })
    // A refused change leaves the sealed URI as it was.
    const bad = await err('lps.setDestination', {
      lpId: lp.id,
      destination: { kind: 'nwc', uri: conn.uri.replace(/secret=[0-9a-f]+/, 'secret=zz') },
      payout: POLICY,
    })
    expect([bad.code, bad.field]).toEqual(['bad_args', 'args[0].destination.uri'])
    const badPolicy = await err('lps.setDestination', {
      lpId: lp.id,
      destination: { kind: 'nwc', uri: conn.uri },
      payout: { ...POLICY, thresholdMsat: '999' },
    })
    expect([badPolicy.code, badPolicy.field]).toEqual(['bad_args', 'args[0].payout.thresholdMsat'])
    expect(await secrets.get(slot)).toBe(conn.uri)
    const toKeysend = await ok<LpView>('lps.setDestination', {
      lpId: lp.id,
      destination: { kind: 'keysend', nodeId: NODE_ID },
      payout: POLICY,
    })
    expect(toKeysend.destination).toEqual({ kind: 'keysend', nodeId: NODE_ID })
    expect(secrets.has(slot)).toBe(false)
    const unknown = await err('lps.setDestination', {
      lpId: 'lp-nobody',
      destination: { kind: 'keysend', nodeId: NODE_ID },
      payout: POLICY,
    })
    expect([unknown.code, unknown.field]).toEqual(['not_found', 'args[0].lpId'])
  }, 30_000)

  it('refuses an NWC destination when no secret storage is wired (no plain-text fallback)', async () => {
    const conn = await wallet.addConnection({ wallet: net.createWallet('lp-bare'), methods: ['make_invoice'] })
    const e = await err('lps.register', reg(4, { destination: { kind: 'nwc', uri: conn.uri } }), () => dBare)
    expect([e.code, e.field]).toEqual(['unavailable', 'args[0].destination'])
    // Other destination kinds still work there.
    const k = await ok<LpView>(
      'lps.register',
      reg(4, { destination: { kind: 'keysend', nodeId: NODE_ID } }),
      () => dBare,
    )
    expect(k.destination).toEqual({ kind: 'keysend', nodeId: NODE_ID })
  }, 30_000)
})

describe('live destination check', () => {
  it('refuses a destination that does not answer, naming the field, and shows the health of one that does', async () => {
    const bad = await err(
      'lps.register',
      reg(8, { destination: { kind: 'lightning_address', address: 'nobody@127.0.0.1:1' } }),
    )
    expect([bad.code, bad.field]).toEqual(['bad_args', 'args[0].destination.address'])
    expect(bad.message).toMatch(
      /^args\[0\]\.destination\.address: nobody@127\.0\.0\.1:1 did not answer as a Lightning address/,
    )
    expect((await ok<LpView[]>('lps.list', {})).some((l) => l.npub === npubOf(8))).toBe(false)
    const badNode = await err(
      'lps.register',
      reg(8, { destination: { kind: 'keysend', nodeId: `02${'00'.repeat(32)}` } }),
    )
    expect([badNode.code, badNode.field]).toEqual(['bad_args', 'args[0].destination.nodeId'])
    expect(badNode.message).toMatch(/not a point on secp256k1/)
    const lp = await ok<LpView>('lps.register', reg(8))
    expect(lp.health).toMatchObject({ ok: true, text: 'lp8@example.com answered' })
    expect([lp.paidMsat, lp.lastPayout]).toEqual(['0', null])
    const refused = await err('lps.setDestination', {
      lpId: lp.id,
      destination: { kind: 'lightning_address', address: 'nobody@127.0.0.1:1' },
      payout: POLICY,
    })
    expect([refused.code, refused.field]).toEqual(['bad_args', 'args[0].destination.address'])
    const still = (await ok<LpView[]>('lps.list', {})).find((l) => l.id === lp.id)
    expect(still?.destination).toEqual({ kind: 'lightning_address', address: 'lp8@example.com' })
    const moved = await ok<LpView>('lps.setDestination', {
      lpId: lp.id,
      destination: { kind: 'keysend', nodeId: NODE_ID },
      payout: POLICY,
    })
    expect(moved.health?.text).toMatch(/valid public key/)
    // Checking again keeps the destination and refreshes its health.
    const again = await ok<LpView>('lps.checkDestination', { lpId: lp.id })
    expect(again.destination).toEqual({ kind: 'keysend', nodeId: NODE_ID })
    expect(again.health?.ok).toBe(true)
    expect(again.health!.checkedAtMs).toBeGreaterThanOrEqual(moved.health!.checkedAtMs)
    const none = await err('lps.checkDestination', { lpId: 'lp-nobody' })
    expect([none.code, none.field]).toEqual(['not_found', 'args[0].lpId'])
  }, 30_000)

  it('cannot send a statement while the console is not connected to its relays', async () => {
    const lp = (await ok<LpView[]>('lps.list', {}))[0]!
    const e = await err('lps.statement.send', { lpId: lp.id, fromMs: 0, toMs: Date.now() })
    expect(e.code).toBe('unavailable')
    expect(e.message).toMatch(/not connected to its relays/)
  })
})

describe('lps.update', () => {
  it('renames always, changes mode and limit only while the LP has no deposit', async () => {
    const lp = await ok<LpView>('lps.register', reg(9))
    expect(lp.inUse).toBe(false)
    const fixed = await ok<LpView>('lps.update', { lpId: lp.id, mode: 'fixed', dailyLimitMinor: '50000' })
    expect([fixed.mode, fixed.dailyLimitMinor]).toEqual(['fixed', '50000'])
    const noLimit = await err('lps.update', { lpId: lp.id, mode: 'fixed', dailyLimitMinor: '0' })
    expect([noLimit.code, noLimit.field]).toEqual(['bad_args', 'args[0].dailyLimitMinor'])
    await ok<DepositView>('lps.deposit.record', { lpId: lp.id, amountMinor: '1000' })
    const used = (await ok<LpView[]>('lps.list', {})).find((l) => l.id === lp.id)!
    expect(used.inUse).toBe(true)
    const locked = await err('lps.update', { lpId: lp.id, mode: 'flow' })
    expect([locked.code, locked.field]).toEqual(['conflict', 'args[0].mode'])
    expect(locked.message).toMatch(/already has deposits, so its mode and daily limit stay/)
    const renamed = await ok<LpView>('lps.update', { lpId: lp.id, name: 'Nine' })
    expect([renamed.name, renamed.mode]).toEqual(['Nine', 'fixed'])
  })
})

describe('lps.statement.send', () => {
  it("sends the statement of a period to the LP by NIP-17 over the running fleet's relays", async () => {
    const lpSk = new Uint8Array(32).fill(10)
    const lp = await ok<LpView>('lps.register', reg(10))
    await ok<DepositView>('lps.deposit.record', { lpId: lp.id, amountMinor: '123450' }).then((dep) =>
      ok('lps.deposit.confirm', { depositId: dep.depositId }),
    )
    const pool = await createRelayPool({ relays: [relay.url], backoff: { initialMs: 20, maxMs: 200 } })
    try {
      // The LP's own client announced where it reads messages (kind 10050).
      const dmList = finalizeEvent(
        { kind: KIND_DM_RELAYS, created_at: Math.floor(Date.now() / 1000), tags: [['relay', relay.url]], content: '' },
        lpSk,
      )
      await pool.publish(dmList)
      const slot = createFleetPartsSlot()
      slot.set({
        ledger: ledgerA,
        pool,
        consoleSigner: createSoftwareSigner(new Uint8Array(32).fill(77)),
        relays: [relay.url],
      } as unknown as FleetParts)
      const ctx = {
        runtime: 'node',
        emit: () => {},
        dataDir: dir,
        clock: { nowMs: () => Date.now() },
        log: appLog.log,
        settings: {
          get: () => ({ ...DEFAULT_SETTINGS, operatorName: 'Cajero Uno', timeZone: 'UTC' }),
        } as unknown as SettingsStore,
        ledger: () => ledgerA,
        ledgerReady: Promise.resolve(),
        onClose: () => {},
      } as unknown as ServiceContext
      const h = lpsHandlers(ctx, { checker, fleet: slot })
      const from = Date.UTC(2020, 0, 1)
      const to = Date.now() + 86_400_000
      const sent = await h['lps.statement.send']({ lpId: lp.id, fromMs: from, toMs: to })
      expect(sent.relays).toEqual([relay.url])
      expect(sent.period).toMatch(/^2020-01-01 to \d{4}-\d{2}-\d{2}$/)
      const lpPubkey = getPublicKey(lpSk)
      const got = await queryOnce(pool, [{ kinds: [KIND_GIFT_WRAP], '#p': [lpPubkey] }], {
        relays: [relay.url],
        timeoutMs: 5_000,
      })
      const texts = await Promise.all(
        got.events.map(async (w) => (await unwrapGiftWrap(w, createSoftwareSigner(lpSk))).rumor.content),
      )
      const text = texts.find((t) => t.includes(`Statement ${sent.period} (UTC)`))
      expect(text, texts.join('\n---\n')).toBeDefined()
      expect(text).toContain('Hello, this is Cajero Uno.')
      expect(text).toContain('Deposits: GTQ 1,234.50')
      expect(text).toContain('Closing balance: GTQ 1,234.50')
      // Without the LP's message relays nothing is sent, and the operator is told why.
      const other = await ok<LpView>('lps.register', reg(11))
      const refused = await Promise.resolve(h['lps.statement.send']({ lpId: other.id, fromMs: from, toMs: to })).catch(
        (e: unknown) => e,
      )
      expect(refused).toMatchObject({ code: 'conflict', field: 'args[0].lpId' })
      expect((refused as Error).message).toMatch(/has not published the relays it reads messages on/)
    } finally {
      await pool.close()
    }
  }, 30_000)
})

describe('concurrent registrations of one npub', () => {
  it('exactly one wins and the winner keeps its sealed NWC connection', async () => {
    const conn = await wallet.addConnection({ wallet: net.createWallet('lp-race'), methods: ['make_invoice'] })
    const arg = reg(7, { destination: { kind: 'nwc', uri: conn.uri } })
    const results = await Promise.all([d('lps.register', [arg], ctx), d('lps.register', [arg], ctx)])
    const wins = results.filter((r) => r.ok)
    const losses = results.filter((r) => !r.ok)
    expect([wins.length, losses.length]).toEqual([1, 1])
    const lp = (wins[0] as { value: LpView }).value
    expect(await secrets.get(`nwc:lp:${lp.id}`)).toBe(conn.uri)
  }, 30_000)
})
