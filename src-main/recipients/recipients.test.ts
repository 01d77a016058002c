// The recipients.* IPC methods (issue 15 item 1) through the real dispatcher over the real services, with real
// parts behind the live checks: an LNURL-pay server on 127.0.0.1 for Lightning addresses, a relay process and the
// NIP-47 wallet service for NWC connections. Proves: every recipient listed with destination, health, accrual,
// threshold and state; a destination checked live before it is stored and refused in operator words when the check
// fails; an NWC URI sealed in the secret store and never in the ledger or an answer; thresholds in whole sats;
// pause/resume; split weights changed only as a new fee configuration; every change in the append-only log; a
// removed destination leaves the sats waiting on the worklist; payouts.list pages newest first with a keyset cursor.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex } from '@noble/hashes/utils.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Result } from '../../src-shared/ipc/contract'
import type { PayoutListView, RecipientsView, RecipientView } from '../../src-shared/ipc/recipients'
import type { WorklistView } from '../../src-shared/ipc/worklist'
import { LightningNetwork } from '../../test/support/lightning'
import { type RelayHandle, startRelay } from '../../test/support/relay'
import { startWalletService, type WalletServiceFixture } from '../../test/support/wallet-service'
import { readmeRecord, seedReadme } from '../accounting/test-support'
import { createAppLog } from '../app-log'
import { type LnurlServer, startLnurlServer } from '../embedded/lnurl-server'
import { createDispatcher, type Dispatch } from '../ipc'
import '../ledger/registry'
import { openLedgerInProcess } from '../ledger/store'
import type { LedgerStore } from '../ledger/types'
import { aesGcmSecretBox } from '../secrets/file-key'
import { openSecretStore, type SecretStore } from '../secrets/secret-store'
import { createServices, type Services } from '../services'

const caller = { transport: 'ws', caller: 'test' } as const
const NODE_ID = '0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798'

let dir: string
let services: Services
let d: Dispatch
let secrets: SecretStore
let ledger: LedgerStore
let relay: RelayHandle
let wallets: WalletServiceFixture
let lnurl: LnurlServer
const net = new LightningNetwork()
const appLog = createAppLog()

async function ok<T>(method: string, ...args: unknown[]): Promise<T> {
  const r = (await d(method, args, caller)) as Result<T>
  if (!r.ok) throw new Error(`${method} refused: ${r.error.code} ${r.error.message}`)
  return r.value
}
async function refused(method: string, ...args: unknown[]) {
  const r = (await d(method, args, caller)) as Result<unknown>
  if (r.ok) throw new Error(`${method} was accepted`)
  return r.error
}
const find = (v: RecipientsView, kind: string, id: string) =>
  v.recipients.find((r) => r.recipientKind === kind && r.recipientId === id)!

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'recipients-ipc-'))
  relay = await startRelay()
  wallets = await startWalletService({ relayUrls: [relay.url], network: net })
  lnurl = await startLnurlServer({ platform: net.createWallet('platform', 0n) })
  secrets = await openSecretStore({
    dir: join(dir, 'secrets'),
    box: aesGcmSecretBox(new Uint8Array(32).fill(9)),
    log: appLog.log,
  })
  services = await createServices({
    runtime: 'node',
    dataDir: join(dir, 'app'),
    appLog,
    emit: () => {},
    openLedger: async ({ dir: ledgerDir }) => {
      ledger = await openLedgerInProcess({ dir: ledgerDir, autoSnapshot: false })
      return ledger
    },
    lps: { secrets },
  })
  await services.ledgerReady
  d = createDispatcher(services.handlers, appLog.log)
  await seedReadme(ledger)
  // Two README cash-outs: the platform and both splits (owner 70 %, tech 30 %) accrue.
  for (const n of [1, 2]) await ledger.call('accounting.bookSettlement', readmeRecord(n))
}, 30_000)

afterAll(async () => {
  await services?.close()
  await lnurl?.close()
  await wallets?.close()
  await relay?.stop()
  rmSync(dir, { recursive: true, force: true })
})

describe('recipients over IPC', () => {
  it('lists the platform and every split with what they accrued, before anything is set', async () => {
    const v = await ok<RecipientsView>('recipients.list', {})
    expect(v.recipients.map((r) => `${r.recipientKind}:${r.recipientId}`)).toEqual([
      'platform:platform',
      'split:owner',
      'split:tech',
    ])
    for (const r of v.recipients) {
      expect(r.destination).toBeNull()
      expect(r.active).toBe(true)
      expect(r.thresholdSat).toBe('1000')
      expect(BigInt(r.accruedMsat)).toBeGreaterThan(0n)
      // No destination: every whole sat of the accrual waits.
      expect(r.waitingSat).toBe((BigInt(r.accruedMsat) / 1000n).toString())
    }
    expect(find(v, 'split', 'owner').weights).toEqual([{ machineId: null, weightPpm: 700_000 }])
    expect(v.changes).toEqual([])
  })

  it('checks a Lightning address live: a served one is stored with its health, an unknown one is refused', async () => {
    const bad = await refused('recipients.setDestination', {
      recipientKind: 'platform',
      recipientId: 'platform',
      destination: { kind: 'lightning_address', address: lnurl.address('nobody') },
    })
    expect(bad.code).toBe('bad_args')
    expect(bad.field).toBe('args[0].destination')
    expect(bad.message).toContain(`${lnurl.address('nobody')} did not answer as a Lightning address`)
    expect(find(await ok('recipients.list', {}), 'platform', 'platform').destination).toBeNull()

    const r = await ok<RecipientView>('recipients.setDestination', {
      recipientKind: 'platform',
      recipientId: 'platform',
      destination: { kind: 'lightning_address', address: lnurl.address('platform') },
    })
    expect(r.destination).toEqual({ kind: 'lightning_address', address: lnurl.address('platform') })
    expect(r.health).toMatchObject({ ok: true })
    expect(r.health!.text).toContain('accepts 1 to 100000000 sats')
    expect(r.waitingSat).toBe('0')
    const v = await ok<RecipientsView>('recipients.list', {})
    expect(v.changes[0]).toMatchObject({
      recipientKind: 'platform',
      field: 'destination',
      oldValue: 'none',
      newValue: `Lightning address ${lnurl.address('platform')}`,
      author: 'operator',
    })
  })

  it('seals an NWC connection after a live check; the URI is never in the ledger or an answer', async () => {
    const noInvoices = await wallets.addConnection({ wallet: net.createWallet('tech-ro', 0n), methods: ['get_info'] })
    const bad = await refused('recipients.setDestination', {
      recipientKind: 'split',
      recipientId: 'tech',
      destination: { kind: 'nwc', uri: noInvoices.uri },
    })
    expect(bad).toMatchObject({ code: 'bad_args', field: 'args[0].destination.uri' })
    expect(bad.message).toContain('does not let this connection create invoices')
    expect(secrets.has('nwc:split:tech')).toBe(false)

    const conn = await wallets.addConnection({
      wallet: net.createWallet('tech', 0n),
      methods: ['make_invoice', 'lookup_invoice'],
    })
    const r = await ok<RecipientView>('recipients.setDestination', {
      recipientKind: 'split',
      recipientId: 'tech',
      destination: { kind: 'nwc', uri: conn.uri },
    })
    expect(r.destination).toEqual({ kind: 'nwc', walletPubkey: conn.walletPubkey })
    expect(JSON.stringify(r)).not.toContain(conn.clientSecretHex)
    expect(await secrets.get('nwc:split:tech')).toBe(conn.uri)
    // Nothing in the ledger holds the connection secret.
    const tables = await ledger.query<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'")
    for (const t of tables) {
      const rows = await ledger.query(`SELECT * FROM "${t.name}"`)
      expect(JSON.stringify(rows, (_k, v) => (typeof v === 'bigint' ? String(v) : v))).not.toContain(
        conn.clientSecretHex,
      )
    }
    // Replacing it by keysend discards the sealed secret.
    await ok('recipients.setDestination', {
      recipientKind: 'split',
      recipientId: 'tech',
      destination: { kind: 'keysend', nodeId: NODE_ID },
    })
    expect(secrets.has('nwc:split:tech')).toBe(false)
    const v = await ok<RecipientsView>('recipients.list', {})
    expect(v.changes[0]).toMatchObject({
      recipientId: 'tech',
      oldValue: `own NWC wallet ${conn.walletPubkey}`,
      newValue: `keysend to node ${NODE_ID}`,
    })
  })

  it('sets thresholds in whole sats and pauses / resumes, each change logged', async () => {
    const zero = await refused('recipients.setThreshold', {
      recipientKind: 'split',
      recipientId: 'owner',
      thresholdSat: '0',
    })
    expect(zero).toMatchObject({ code: 'bad_args', field: 'args[0].thresholdSat' })
    const r = await ok<RecipientView>('recipients.setThreshold', {
      recipientKind: 'split',
      recipientId: 'owner',
      thresholdSat: '2500',
    })
    expect(r.thresholdSat).toBe('2500')
    const row = await ledger.query<{ threshold_msat: bigint }>(
      "SELECT threshold_msat FROM payout_recipient WHERE recipient_kind = 'split' AND recipient_id = 'owner'",
      [],
      { bigint: true },
    )
    expect(row[0]!.threshold_msat).toBe(2_500_000n)

    const paused = await ok<RecipientView>('recipients.setActive', {
      recipientKind: 'platform',
      recipientId: 'platform',
      active: false,
    })
    expect(paused.active).toBe(false)
    expect(paused.waitingSat).toBe((BigInt(paused.accruedMsat) / 1000n).toString())
    const wl = await ok<WorklistView>('worklist.list', {})
    expect(wl.waitingRecipients!.find((w) => w.recipientKind === 'platform')!.text).toMatch(
      /^platform fee recipient is paused: \d+ sats waiting$/,
    )
    await ok('recipients.setActive', { recipientKind: 'platform', recipientId: 'platform', active: true })
    const v = await ok<RecipientsView>('recipients.list', {})
    expect(v.changes.slice(0, 3).map((c) => [c.recipientId, c.field, c.oldValue, c.newValue])).toEqual([
      ['platform', 'active', 'paused', 'active'],
      ['platform', 'active', 'active', 'paused'],
      ['owner', 'threshold', '1000 sats', '2500 sats'],
    ])
  })

  it('refuses unknown recipients naming the field', async () => {
    const e = await refused('recipients.setThreshold', {
      recipientKind: 'split',
      recipientId: 'nobody',
      thresholdSat: '10',
    })
    expect(e).toMatchObject({ code: 'not_found', field: 'args[0].recipientId' })
    expect(e.message).toContain('no commission split "nobody"')
  })

  it('changes split weights only as a new fee configuration, logged old → new', async () => {
    const sum = await refused('recipients.setSplitWeights', {
      splits: [
        { id: 'owner', weightPpm: 600_000 },
        { id: 'tech', weightPpm: 300_000 },
      ],
    })
    expect(sum.code).toBe('bad_args')
    expect(sum.field).toBe('args[0].splits')
    const [before] = await ledger.query<{ n: number }>('SELECT COUNT(*) AS n FROM acct_config')
    const r = await ok<{ configurations: number; changes: number }>('recipients.setSplitWeights', {
      splits: [
        { id: 'owner', weightPpm: 500_000 },
        { id: 'tech', weightPpm: 250_000 },
        { id: 'maint', weightPpm: 250_000 },
      ],
      note: 'maintenance contract',
    })
    expect(r).toEqual({ configurations: 1, changes: 3 })
    const [after] = await ledger.query<{ n: number }>('SELECT COUNT(*) AS n FROM acct_config')
    expect(Number(after!.n)).toBe(Number(before!.n) + 1)
    const v = await ok<RecipientsView>('recipients.list', {})
    expect(find(v, 'split', 'maint').weights).toEqual([{ machineId: null, weightPpm: 250_000 }])
    expect(find(v, 'split', 'owner').weights).toEqual([{ machineId: null, weightPpm: 500_000 }])
    expect(v.changes.slice(0, 3).map((c) => [c.recipientId, c.field, c.oldValue, c.newValue, c.note])).toEqual([
      ['tech', 'weight', '30 %', '25 %', 'maintenance contract'],
      ['owner', 'weight', '70 %', '50 %', 'maintenance contract'],
      ['maint', 'weight', 'not a split', '25 %', 'maintenance contract'],
    ])
    // The change log cannot be edited.
    await expect(ledger.transaction([{ sql: "UPDATE recipient_change SET new_value = 'x'" }])).rejects.toThrow(
      /append-only/,
    )
  })

  it('a removed destination leaves the sats waiting on the worklist', async () => {
    const r = await ok<RecipientView>('recipients.setDestination', {
      recipientKind: 'platform',
      recipientId: 'platform',
      destination: null,
    })
    expect(r.destination).toBeNull()
    expect(r.health).toBeNull()
    const wl = await ok<WorklistView>('worklist.list', {})
    const line = wl.waitingRecipients!.find((w) => w.recipientKind === 'platform')!
    expect(line.reason).toBe('no_destination')
    expect(line.text).toBe(`platform fee recipient has no destination: ${r.waitingSat} sats waiting`)
    // Nothing is planned for it.
    const planned = await ledger.call<Array<{ recipientKind: string }>>('payouts.plan', {
      nowMs: Date.now(),
      connectionId: 'operator',
    })
    expect(planned.some((p) => p.recipientKind === 'platform')).toBe(false)
  })

  it('payouts.list pages newest first with a keyset cursor, per recipient, with the preimage once paid', async () => {
    // tech (keysend) has a destination: pay its planned payout by the state machine's own procedures.
    await ledger.call('recipients.setThreshold', {
      recipientKind: 'split',
      recipientId: 'tech',
      thresholdMsat: '1000',
      author: 'test',
      atMs: Date.now(),
    })
    await ledger.call('payouts.plan', { nowMs: Date.now(), connectionId: 'operator' })
    const [row] = await ledger.query<{ id: string; amount_msat: bigint }>(
      "SELECT id, amount_msat FROM payout WHERE recipient_id = 'tech' AND state = 'planned'",
      [],
      { bigint: true },
    )
    expect(row).toBeDefined()
    const p = { id: row!.id, amountMsat: String(row!.amount_msat) }
    const preimage = 'ab'.repeat(32)
    const paymentHash = bytesToHex(sha256(Buffer.from(preimage, 'hex')))
    const t = Date.now()
    await ledger.call('payouts.attachInvoice', {
      payoutId: p.id,
      bolt11: 'keysend',
      paymentHash,
      amountMsat: p.amountMsat,
      nowMs: t,
    })
    await ledger.call('payouts.markSending', {
      payoutId: p.id,
      requestId: 'cd'.repeat(32),
      requestJson: '{}',
      requestExpiresAtSec: Math.floor(t / 1000) + 60,
      nowMs: t,
    })
    await ledger.call('payouts.markPaid', { payoutId: p.id, preimage, nowMs: t + 1 })
    // More payouts to page over: the owner's (threshold lowered) and LP payouts.
    await ledger.call('lps.setDestination', {
      recipientKind: 'lp',
      recipientId: 'lp-a',
      destination: { kind: 'keysend', nodeId: NODE_ID },
      payout: { thresholdMsat: '1000', schedule: 'threshold', maxFeePpm: 0 },
      atMs: t,
    })
    await ledger.call('recipients.setThreshold', {
      recipientKind: 'split',
      recipientId: 'owner',
      thresholdMsat: '1000',
      author: 'test',
      atMs: t,
    })
    await ok('recipients.setDestination', {
      recipientKind: 'split',
      recipientId: 'owner',
      destination: { kind: 'keysend', nodeId: NODE_ID },
    })
    await ledger.call('payouts.plan', { nowMs: t + 2, connectionId: 'operator' })
    const all = await ledger.query<{ id: string }>('SELECT id FROM payout ORDER BY planned_at_ms DESC, id DESC')
    expect(all.length).toBeGreaterThanOrEqual(3)
    const seen: string[] = []
    let cursor: string | undefined
    for (let page = 0; page < 10; page++) {
      const v: PayoutListView = await ok('payouts.list', { limit: 1, ...(cursor ? { cursor } : {}) })
      seen.push(...v.items.map((i) => i.id))
      if (v.nextCursor === null) break
      cursor = v.nextCursor
    }
    expect(seen).toEqual(all.map((r) => r.id))
    const mine = await ok<PayoutListView>('payouts.list', { recipientKind: 'split', recipientId: 'tech' })
    expect(mine.items).toHaveLength(1)
    expect(mine.items[0]).toMatchObject({ state: 'paid', preimage, paymentHash })
    const planned = await ok<PayoutListView>('payouts.list', { state: 'planned' })
    expect(planned.items.every((i) => i.state === 'planned' && i.preimage === null)).toBe(true)
    const badCursor = await refused('payouts.list', { cursor: 'not-a-cursor' })
    expect(badCursor).toMatchObject({ code: 'bad_args', field: 'args[0].cursor' })
    // The keyset query uses the history index rather than a scan.
    const plan = await ledger.query<{ detail: string }>(
      "EXPLAIN QUERY PLAN SELECT id FROM payout WHERE recipient_kind = 'split' AND recipient_id = 'tech' ORDER BY planned_at_ms DESC, id DESC LIMIT 5",
    )
    expect(plan.map((r) => r.detail).join(' ')).toContain('payout_history_recipient')
  })
})
