// Issue 5 "Payouts over Nostr Wallet Connect, exactly once", Done-when 1, end to end: over a REAL relay process and
// the REAL @getalby/sdk wallet service (its Lightning ledger simulated, test/support/lightning.ts), two paired ATM
// simulators sell 200 times (cash-outs, partial dispenses, cash-ins) and the console pipeline
// (src-main/pipeline/runtime.ts: intake → booking → processing → payouts → receipts → LP notices) must end with
// every payable leg paid exactly once, each recipient's wallet holding exactly what the ledger says it was paid
// (sat for sat; sub-sat remainders still accrued), no payment hash paid twice, every settlement conserving its wire
// amount, one NIP-17 DM per LP payout received on the relay and opened with that LP's key, and a kind 3079 receipt
// readable for every processed settlement.
//
// Recipients and their destinations (src-main/payouts/destinations/):
//   LP ana (flow)          Lightning address ana@127.0.0.1:<port> — a real node:http LNURL-pay server below,
//                          minting invoices on ana's simulated wallet (description hash = sha256(metadata));
//   LP beto (fixed, limit) his own NWC connection (make_invoice on his wallet), sealed in the secret store;
//   LP carla (flow, small) keysend to her node id (her balance runs out mid-run; the float takes over);
//   platform fee           Lightning address platform@…;   splits: owner (address), tech (NWC), maint (keysend).
// The platform and the splits get their destinations and thresholds through the recipients IPC handlers (issue 15,
// src-main/recipients/service.ts), which check each destination live before storing it. The runtime's own
// reconciliation loop (src-main/reconcile/loop.ts) then reports 0 differences over the whole run, and a
// deliberately removed destination (maint) shows on the worklist while its sats wait, nothing lost.
// Nothing sleeps: every wait polls ledger or wallet state with a deadline (waitFor).

import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js'
import { npubEncode } from 'nostr-tools/nip19'
import { generateSecretKey, getPublicKey } from 'nostr-tools/pure'
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest'
import type { AtmSimulator, Sale } from '../../src-main/atm-sim/simulator'
import { createLedgerCursorStore } from '../../src-main/fleet/cursor-store'
import '../../src-main/ledger/registry'
import { type InProcessLedger, openLedgerInProcess } from '../../src-main/ledger/store'
import type { Row } from '../../src-main/ledger/types'
import { ledgerDestinationLookup } from '../../src-main/lps/service'
import { createRelayPool, type RelayPool, type VerifiedEvent } from '../../src-main/nostr/relay-pool'
import { createDestinationResolver } from '../../src-main/payouts/destinations/resolver'
import type { WaitingRecipient } from '../../src-main/payouts/waiting'
import { type ConsoleRuntime, createConsoleRuntime } from '../../src-main/pipeline/runtime'
import { queryOnce } from '../../src-main/receipts/query'
import { recipientsHandlers } from '../../src-main/recipients/service'
import type { ReconcileRunRow } from '../../src-main/reconcile/procedures'
import { runWalletReconciliation } from '../../src-main/reconcile/service'
import { aesGcmSecretBox } from '../../src-main/secrets/file-key'
import { openSecretStore, SecretSlots, type SecretStore } from '../../src-main/secrets/secret-store'
import type { ServiceContext } from '../../src-main/service-context'
import { createSoftwareSigner } from '../../src-main/signer/software-signer'
import { NwcClient } from '../../src-main/wallet/nwc-client'
import { worklistHandlers } from '../../src-main/worklist/service'
import { systemClock } from '../../src-shared/clock'
import type { Handlers } from '../../src-shared/ipc/contract'
import type { PayoutListItem, ReceiptListItem } from '../../src-shared/ipc/recipients'
import { formatLogLine } from '../../src-shared/log'
import { copyEvent, type NostrEvent, signTemplateWithKey } from '../../src-shared/nostr/event'
import { KIND_DM_RELAYS, KIND_GIFT_WRAP, unwrapGiftWrap } from '../../src-shared/nostr/nip17'
import { parseReceiptEvent } from '../../src-shared/nostr/receipt'
import { type FleetHarness, startFleetHarness, waitFor } from '../support/fleet-harness'
import type { SimWallet } from '../support/lightning'

const SALES = 200
const PER_ATM = SALES / 2
/** Sales made after maint's destination is removed: its sats must wait, everyone else is still paid. */
const LATE_SALES = 6
const CURRENCY = 'EUR'
const POLICY = { thresholdMsat: '1000', schedule: 'threshold', maxFeePpm: 5_000, maxFeeBaseMsat: '10000' }

let h: FleetHarness
let ledger: InProcessLedger
let pool: RelayPool
let readerPool: RelayPool
let nwc: NwcClient
let runtime: ConsoleRuntime
let secrets: SecretStore
let server: Server
let lnurlBase = ''
let lnurlHost = ''
/** The recipients.* / payouts.list / receipts.list / reconcile.* handlers over this suite's ledger and secrets. */
let ipc: Pick<Handlers, keyof ReturnType<typeof recipientsHandlers>>
/** The operator's worklist (`worklist.list`) over the same ledger. */
let worklist: ReturnType<typeof worklistHandlers>
const tmp = mkdtempSync(join(tmpdir(), 'payout-pipeline-'))
const lnurlRequests: string[] = []
const cleanup: Array<() => unknown> = []

interface Party {
  sk: Uint8Array
  pk: string
  npub: string
}
const party = (): Party => {
  const sk = generateSecretKey()
  const pk = getPublicKey(sk)
  return { sk, pk, npub: npubEncode(pk) }
}

type RecipientKind = 'platform' | 'split' | 'lp'
interface Recipient {
  kind: RecipientKind
  id: string
  wallet: SimWallet
  how: 'lightning_address' | 'nwc' | 'keysend'
  person?: Party
}
const recipients: Recipient[] = []
/** LNURL-pay users served by the local HTTP server: user → the wallet that mints the invoice. */
const lnurlWallets = new Map<string, SimWallet>()
/** Gift wraps the relay delivered to each LP (live subscription as that LP). */
const wrapsByLp = new Map<string, NostrEvent[]>()

const metadataFor = (user: string) =>
  JSON.stringify([
    ['text/plain', `Satmachine payout to ${user}`],
    ['text/identifier', `${user}@${lnurlHost}`],
  ])

/** Answers the request; returns true so the handler's branches can `return send(…)`. */
function send(res: ServerResponse, status: number, body: unknown): boolean {
  res.writeHead(status, { 'content-type': 'application/json' })
  res.end(JSON.stringify(body))
  return true
}

/** LUD-16 well-known endpoint and LUD-06 callback, invoices minted on the user's simulated wallet. */
function lnurlHandler(req: IncomingMessage, res: ServerResponse): boolean {
  const url = new URL(req.url ?? '/', lnurlBase)
  lnurlRequests.push(url.pathname)
  const wk = /^\/\.well-known\/lnurlp\/([a-z0-9._+-]+)$/.exec(url.pathname)
  if (wk && lnurlWallets.has(wk[1]!)) {
    const user = wk[1]!
    return send(res, 200, {
      tag: 'payRequest',
      callback: `${lnurlBase}/lnurlp/callback/${user}`,
      minSendable: 1000,
      maxSendable: 100_000_000_000,
      metadata: metadataFor(user),
      commentAllowed: 0,
    })
  }
  const cb = /^\/lnurlp\/callback\/([a-z0-9._+-]+)$/.exec(url.pathname)
  const wallet = cb ? lnurlWallets.get(cb[1]!) : undefined
  if (cb && wallet) {
    const amount = url.searchParams.get('amount') ?? ''
    if (!/^\d+$/.test(amount)) return send(res, 400, { status: 'ERROR', reason: 'amount must be msat' })
    const tx = wallet.makeInvoice(BigInt(amount), {
      descriptionHash: bytesToHex(sha256(new TextEncoder().encode(metadataFor(cb[1]!)))),
    })
    return send(res, 200, { pr: tx.invoice, routes: [] })
  }
  return send(res, 404, { status: 'ERROR', reason: 'no such user' })
}

const q = <T extends Row>(sql: string, params: (string | number)[] = []) =>
  ledger.query<T>(sql, params, { bigint: true })
const legKindOf = (k: RecipientKind) => (k === 'platform' ? 'platform_fee' : k)

/** The destination as the operator types it into the Settings screen (an NWC URI in clear, sealed by the service). */
async function operatorDestination(r: Recipient) {
  if (r.how === 'lightning_address') {
    lnurlWallets.set(r.id, r.wallet)
    return { kind: 'lightning_address' as const, address: `${r.id}@${lnurlHost}` }
  }
  if (r.how === 'keysend') return { kind: 'keysend' as const, nodeId: r.wallet.nodePubkey }
  const conn = await h.svc.addConnection({ wallet: r.wallet, methods: ['make_invoice', 'lookup_invoice'] })
  cleanup.push(() => conn.close())
  return { kind: 'nwc' as const, uri: conn.uri }
}

async function addRecipient(r: Recipient, atMs: number, lp?: { name: string; mode: string; limit?: string }) {
  if (r.kind !== 'lp') {
    // The platform and each split: through the recipients IPC, destination checked live, threshold 1 sat.
    const kind = r.kind
    const view = await ipc['recipients.setDestination']({
      recipientKind: kind,
      recipientId: r.id,
      destination: await operatorDestination(r),
    })
    expect(view.health?.ok, `${r.id} destination checked`).toBe(true)
    await ipc['recipients.setThreshold']({ recipientKind: kind, recipientId: r.id, thresholdSat: '1' })
    recipients.push(r)
    return
  }
  let destination: Record<string, string>
  if (r.how === 'lightning_address') {
    lnurlWallets.set(r.id, r.wallet)
    destination = { kind: 'lightning_address', address: `${r.id}@${lnurlHost}` }
  } else if (r.how === 'keysend') {
    destination = { kind: 'keysend', nodeId: r.wallet.nodePubkey }
  } else {
    // The recipient's own wallet connection, limited to make_invoice; only the sealed secret store holds its URI.
    const conn = await h.svc.addConnection({ wallet: r.wallet, methods: ['make_invoice', 'lookup_invoice'] })
    cleanup.push(() => conn.close())
    const slot = r.kind === 'lp' ? SecretSlots.lpNwc(r.id) : `nwc:${r.kind}:${r.id}`
    await secrets.put(slot, conn.uri)
    destination = { kind: 'nwc', secretSlot: slot, walletPubkey: conn.walletPubkey }
  }
  if (lp) {
    await ledger.call('lps.register', {
      id: r.id,
      npub: r.person!.npub,
      pubkey: r.person!.pk,
      name: lp.name,
      currency: CURRENCY,
      mode: lp.mode,
      ...(lp.limit ? { dailyLimitMinor: lp.limit } : {}),
      destination,
      payout: POLICY,
      atMs,
    })
  } else {
    await ledger.call('lps.setDestination', {
      recipientKind: r.kind,
      recipientId: r.id,
      destination,
      payout: POLICY,
      atMs,
    })
  }
  recipients.push(r)
}

beforeAll(async () => {
  h = await startFleetHarness({ recordRelays: 1 })
  const relayUrl = h.recordRelays[0]!.url
  server = createServer(lnurlHandler)
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  lnurlHost = `127.0.0.1:${(server.address() as AddressInfo).port}`
  lnurlBase = `http://${lnurlHost}`

  ledger = await openLedgerInProcess({ dir: join(tmp, 'ledger'), logger: h.log.child('ledger') })
  secrets = await openSecretStore({
    dir: join(tmp, 'secrets'),
    box: aesGcmSecretBox(new Uint8Array(hexToBytes('7c'.repeat(32)))),
    log: h.log.child('secrets'),
  })
  const cursorStore = createLedgerCursorStore(() => ledger, { clock: systemClock })
  pool = await createRelayPool({
    relays: [relayUrl],
    logger: h.log.child('pool'),
    cursorStore,
    backoff: { initialMs: 50, maxMs: 500 },
    connectTimeoutMs: 2000,
  })
  readerPool = await createRelayPool({ relays: [relayUrl], logger: h.log.child('reader') })
  nwc = new NwcClient({ connection: h.op.uri, logger: h.log.child('nwc'), replyTimeoutMs: 15_000 })
  const consoleSigner = createSoftwareSigner(h.consoleSecret)
  const ctx: ServiceContext = {
    runtime: 'node',
    emit: () => {},
    dataDir: tmp,
    clock: systemClock,
    log: h.log.child('services'),
    // The worklist reads the operator key from the settings (for delegation warnings); nothing else is read here.
    settings: { get: () => ({ operatorPubkey: h.operatorPubkey }) } as unknown as ServiceContext['settings'],
    ledger: () => ledger,
    ledgerReady: Promise.resolve(),
    onClose: () => {},
  }
  ipc = recipientsHandlers(ctx, { secrets })
  worklist = worklistHandlers(ctx)
  runtime = await createConsoleRuntime({
    ledger,
    pool,
    wallet: nwc,
    connectionId: 'operator',
    consoleSigner,
    operatorPubkey: h.operatorPubkey,
    relays: [relayUrl],
    clock: systemClock,
    log: h.log.child('pipeline'),
    cursorStore,
    destinations: createDestinationResolver({
      lookup: ledgerDestinationLookup(() => ledger),
      secrets,
      logger: h.log.child('destinations'),
    }),
    timing: { payoutIntervalMs: 1000, receiptIntervalMs: 1000, settlementIntervalMs: 1000, reconcileIntervalMs: 1000 },
    // Windows end 2 s before now: a payment still in flight is never reported.
    reconcile: { lagSec: 2, firstWindowSec: 120, marginSec: 30 },
    payouts: { requestTtlSec: 30, replyTimeoutMs: 15_000, recheckMs: 500, concurrency: 4 },
    intake: { concurrency: 8, retryIntervalMs: 1000, operatorCatchUpMs: 3000 },
    receipts: { retryInitialMs: 500, batch: 100 },
  })
  await runtime.start()
}, 120_000)

afterAll(async () => {
  await runtime?.close()
  for (const f of cleanup.splice(0).reverse()) await f()
  nwc?.close()
  await pool?.close()
  await readerPool?.close()
  await ledger?.close()
  await h?.close()
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()))
  rmSync(tmp, { recursive: true, force: true })
})

describe('payout pipeline over a real relay and the real NIP-47 wallet service', () => {
  it(`${SALES} ATM settlements end with every leg paid exactly once, wallets matching the ledger sat for sat`, async () => {
    let lastMachines: unknown = null
    let waitingOn = ''
    let soldForDiagnosis: Sale[] = []
    onTestFailed(async () => {
      const rejected = await ledger.query<{ event_id: string; reason: string; detail: string | null }>(
        "SELECT event_id, reason, detail FROM fleet_record_outcome WHERE outcome = 'rejected'",
      )
      console.log('rejected records', JSON.stringify(rejected))
      const booked = new Set(
        (await ledger.query<{ event_id: string }>('SELECT event_id FROM fleet_record_outcome')).map((r) => r.event_id),
      )
      const missing = soldForDiagnosis.filter((x) => !booked.has(x.event.id))
      console.log(
        'fleet stats',
        JSON.stringify(runtime.fleet.stats()),
        'records without an outcome',
        JSON.stringify(
          missing.map((x) => ({ id: x.event.id, created_at: x.event.created_at, published: x.published })),
        ),
        'relay holds',
        await h.recordRelays[0]!.storedCount(),
      )
    })
    onTestFailed(() => {
      console.log(
        'machines',
        JSON.stringify(lastMachines),
        'waiting on',
        waitingOn,
        JSON.stringify(runtime.stats(), (_k, v) => (typeof v === 'bigint' ? String(v) : v)),
      )
      const tail = h.logs.filter((r) => r.level !== 'debug').slice(-80)
      console.log(tail.map(formatLogLine).join('\n'))
    })
    const relayUrl = h.recordRelays[0]!.url
    const t0 = Date.now()

    // ---- pairing: two ATMs (roster + configs published by the operator), both known to the console.
    // Both roster versions list both ATMs (the second ATM's key is made first): two versions published within
    // the same second tie on created_at, and NIP-01 keeps the one with the lower id, so each must be complete.
    const secret2 = generateSecretKey()
    const a1 = await h.pairAtm({ machineId: 'atm-pipe-01', members: [getPublicKey(secret2)] })
    const a2 = await h.pairAtm({ machineId: 'atm-pipe-02', members: [a1.sim.atmPubkey], secret: secret2 })
    await waitFor('both machines configured', async () => {
      const m = await runtime.fleet.machines()
      lastMachines = m
      return ['atm-pipe-01', 'atm-pipe-02'].every((id) =>
        m.some((x) => x.machineId === id && x.rosterStatus === 'member'),
      )
    })
    // Commission splits with recipients, in force from each machine config's own time (the operator sets them in
    // the console; the signed machine config carries the fee fractions).
    for (const [a, machineId] of [
      [a1, 'atm-pipe-01'],
      [a2, 'atm-pipe-02'],
    ] as const) {
      await ledger.call('accounting.setConfig', {
        machineId,
        effectiveFromMs: a.pairing.configEvent.created_at * 1000,
        atMs: Date.now(),
        cashOutPlatformPpm: 10_000,
        cashOutOperatorPpm: 50_000,
        cashInPlatformPpm: 10_000,
        cashInOperatorPpm: 40_000,
        splits: [
          { id: 'owner', weightPpm: 600_000 },
          { id: 'tech', weightPpm: 300_000 },
          { id: 'maint', weightPpm: 100_000 },
        ],
        timeZone: 'Europe/Berlin',
        author: 'operator',
      })
    }

    // ---- recipients: three LPs with three destination kinds, the platform, three splits.
    const now = Date.now()
    const ana = party()
    const beto = party()
    const carla = party()
    const w = (name: string) => h.net.createWallet(name, 0n)
    await addRecipient({ kind: 'lp', id: 'ana', wallet: w('ana'), how: 'lightning_address', person: ana }, now, {
      name: 'Ana',
      mode: 'flow',
    })
    await addRecipient({ kind: 'lp', id: 'beto', wallet: w('beto'), how: 'nwc', person: beto }, now, {
      name: 'Beto',
      mode: 'fixed',
      limit: '150000',
    })
    await addRecipient({ kind: 'lp', id: 'carla', wallet: w('carla'), how: 'keysend', person: carla }, now, {
      name: 'Carla',
      mode: 'flow',
    })
    await addRecipient({ kind: 'platform', id: 'platform', wallet: w('platform'), how: 'lightning_address' }, now)
    await addRecipient({ kind: 'split', id: 'owner', wallet: w('owner'), how: 'lightning_address' }, now)
    await addRecipient({ kind: 'split', id: 'tech', wallet: w('tech'), how: 'nwc' }, now)
    await addRecipient({ kind: 'split', id: 'maint', wallet: w('maint'), how: 'keysend' }, now)
    for (const [lpId, amountMinor] of [
      ['ana', '300000'],
      ['beto', '100000000'],
      ['carla', '50000'],
    ] as const) {
      await ledger.call('lps.recordDeposit', { id: `dep-${lpId}`, lpId, amountMinor, atMs: now })
      await ledger.call('lps.confirmDeposit', { depositId: `dep-${lpId}`, atMs: now })
    }
    // Each LP announces its DM relay (NIP-17 kind 10050) and listens there as itself.
    for (const [lpId, p] of [
      ['ana', ana],
      ['beto', beto],
      ['carla', carla],
    ] as const) {
      const list = signTemplateWithKey(
        { kind: KIND_DM_RELAYS, created_at: Math.floor(Date.now() / 1000), tags: [['relay', relayUrl]], content: '' },
        p.sk,
      )
      expect((await readerPool.publish(list))[0]!.ok).toBe(true)
      wrapsByLp.set(lpId, [])
      const sub = readerPool.subscribe({
        filters: [{ kinds: [KIND_GIFT_WRAP], '#p': [p.pk] }],
        onEvent: (ev: VerifiedEvent) => {
          wrapsByLp.get(lpId)!.push(copyEvent(ev as NostrEvent))
        },
      })
      cleanup.push(() => sub.close())
    }
    const opStartMsat = h.op.wallet.balanceMsat
    const setupMs = Date.now() - t0

    // ---- 200 sales, the two ATMs in parallel: mostly cash-outs, some partial dispenses, some cash-ins.
    const tSales = Date.now()
    const sell = async (sim: AtmSimulator, k: number): Promise<Sale[]> => {
      const out: Sale[] = []
      for (let i = 0; i < PER_ATM; i++) {
        const scenario = i % 10 === 3 ? 'cash-in' : i % 17 === 5 ? 'partial-dispense' : 'normal'
        const fiatMinor = BigInt(1_000 + ((i * 37 + k * 11) % 40) * 250 + (i % 7))
        const s = await sim.sell({ scenario, fiatMinor })
        expect(s.accepted).toBe(true)
        out.push(s)
      }
      return out
    }
    const sales = (await Promise.all([sell(a1.sim, 1), sell(a2.sim, 2)])).flat()
    soldForDiagnosis = sales
    const salesMs = Date.now() - tSales
    expect(sales).toHaveLength(SALES)
    const cashIns = sales.filter((s) => s.record!.direction === 'cash_in')
    const partials = sales.filter(
      (s) => s.record!.fiatDispensedMinor < s.record!.fiatMinor && s.record!.direction === 'cash_out',
    )
    expect(cashIns.length).toBeGreaterThan(0)
    expect(partials.length).toBeGreaterThan(0)

    // ---- wait (polling the ledger) until everything has settled: booked, processed, paid, receipted, notified.
    const lpPaidCount = async () =>
      Number(
        (await q<{ n: bigint }>("SELECT COUNT(*) AS n FROM payout WHERE recipient_kind = 'lp' AND state = 'paid'"))[0]!
          .n,
      )
    const done = await waitFor(
      'every settlement processed, every payout paid, every receipt verified, every DM received',
      async () => {
        const [s] = await q<{ processed: bigint; other: bigint }>(
          `SELECT SUM(status = 'processed') AS processed, SUM(status != 'processed') AS other FROM acct_settlement`,
        )
        waitingOn = `settlements processed ${s?.processed}/${SALES}, other ${s?.other}`
        if (Number(s?.processed ?? 0) !== SALES) return false
        const [open] = await q<{ n: bigint }>("SELECT COUNT(*) AS n FROM payout WHERE state != 'paid'")
        waitingOn = `open payouts ${open!.n}`
        if (Number(open!.n) !== 0) return false
        const due = await q<{ recipient_kind: string; recipient_id: string; b: bigint }>(
          `SELECT a.recipient_kind, a.recipient_id, a.balance_after_msat AS b FROM acct_accrual a
           WHERE a.id = (SELECT MAX(id) FROM acct_accrual x WHERE x.recipient_kind = a.recipient_kind
                         AND x.recipient_id = a.recipient_id)`,
        )
        waitingOn = `accruals due ${JSON.stringify(due.filter((r) => BigInt(r.b) >= 1000n).map((r) => `${r.recipient_id}=${r.b}`))}`
        if (due.some((r) => BigInt(r.b) >= 1000n)) return false
        const [rc] = await q<{ n: bigint }>("SELECT COUNT(*) AS n FROM rcpt_attempt WHERE kind = 'verified'")
        waitingOn = `receipts verified ${rc!.n}/${SALES}`
        if (Number(rc!.n) !== SALES) return false
        const wraps = [...wrapsByLp.values()].reduce((n, l) => n + l.length, 0)
        waitingOn = `DMs ${wraps}`
        if (wraps < (await lpPaidCount())) return false
        return true
      },
      // Generous: the build machine is shared, and under load the sales alone have taken 100 s.
      240_000,
    )
    expect(done).toBe(true)
    await runtime.idle()
    const endToEndMs = Date.now() - tSales

    // ---- exactly once on the ledger side
    const settlements = await q<{
      id: bigint
      payment_hash: string
      atm_event_id: string
      direction: string
      wire_msat: bigint
      status: string
    }>('SELECT id, payment_hash, atm_event_id, direction, wire_msat, status FROM acct_settlement ORDER BY id')
    expect(settlements).toHaveLength(SALES)
    expect(new Set(settlements.map((s) => s.payment_hash))).toEqual(new Set(sales.map((s) => s.paymentHash!)))
    expect(new Set(settlements.map((s) => s.atm_event_id))).toEqual(new Set(sales.map((s) => s.event.id)))
    // Conservation per cash-out settlement: its live legs (LPs, float, platform, splits, refund due) = the wire.
    const legSums = await q<{ settlement_id: bigint; s: bigint }>(
      `SELECT l.settlement_id, SUM(l.msat) AS s FROM acct_leg l JOIN acct_settlement s ON s.id = l.settlement_id
       WHERE l.generation = s.generation AND s.direction = 'cash_out' GROUP BY l.settlement_id`,
    )
    const wireOf = new Map(settlements.map((s) => [Number(s.id), BigInt(s.wire_msat)]))
    expect(legSums).toHaveLength(SALES - cashIns.length)
    for (const l of legSums) expect(BigInt(l.s)).toBe(wireOf.get(Number(l.settlement_id)))
    // …and its fiat: LP shares + the operator's float = the fiat dispensed.
    const fiatSums = await q<{ id: bigint; f: bigint; dispensed: bigint }>(
      `SELECT s.id, COALESCE(SUM(l.fiat_minor), 0) AS f, s.fiat_minor AS dispensed FROM acct_settlement s
       LEFT JOIN acct_leg l ON l.settlement_id = s.id AND l.generation = s.generation AND l.kind IN ('lp', 'float')
       WHERE s.direction = 'cash_out' GROUP BY s.id`,
    )
    for (const f of fiatSums) expect(BigInt(f.f)).toBe(BigInt(f.dispensed))
    // The flow LPs' cash ran out mid-run and the fixed LP stopped at its daily limit: the flow balances end at
    // exactly 0 (every minor unit converted), and the operator's float bought the rest.
    const lpRows = await ledger.call<Array<{ id: string; balanceMinor: string }>>('lps.list', {})
    const balances = Object.fromEntries(lpRows.map((l) => [l.id, BigInt(l.balanceMinor)]))
    expect([balances.ana, balances.carla]).toEqual([0n, 0n])
    const betoDays = await q<{ day: string; f: bigint }>(
      `SELECT s.local_day AS day, SUM(l.fiat_minor) AS f FROM acct_leg l JOIN acct_settlement s ON s.id = l.settlement_id
       WHERE l.kind = 'lp' AND l.recipient_id = 'beto' GROUP BY s.local_day`,
    )
    const betoFiat = betoDays.reduce((t, d) => t + BigInt(d.f), 0n)
    for (const d of betoDays) expect(BigInt(d.f) <= 150_000n).toBe(true)
    expect(betoFiat).toBeGreaterThan(0n)
    expect(balances.beto).toBe(100_000_000n - betoFiat)
    const [lpFiat] = await q<{ f: bigint }>("SELECT SUM(fiat_minor) AS f FROM acct_leg WHERE kind = 'lp'")
    expect(BigInt(lpFiat!.f)).toBe(300_000n + 50_000n + betoFiat)
    const [floatLegs] = await q<{ n: bigint }>("SELECT COUNT(*) AS n FROM acct_leg WHERE kind = 'float' AND msat > 0")
    expect(Number(floatLegs!.n)).toBeGreaterThan(0)
    // Partial dispenses left a refund due (the operator's worklist), never paid over Lightning.
    const [refunds] = await q<{ n: bigint }>(
      "SELECT COUNT(*) AS n FROM acct_leg WHERE kind = 'refund_due' AND msat > 0",
    )
    expect(Number(refunds!.n)).toBe(partials.length)

    const payouts = await q<{
      id: string
      recipient_kind: string
      recipient_id: string
      amount_msat: bigint
      payment_hash: string
      state: string
    }>('SELECT id, recipient_kind, recipient_id, amount_msat, payment_hash, state FROM payout')
    expect(payouts.every((p) => p.state === 'paid')).toBe(true)
    expect(new Set(payouts.map((p) => p.payment_hash)).size).toBe(payouts.length)

    let paidTotalMsat = 0n
    for (const r of recipients) {
      const legs = await q<{ id: bigint; msat: bigint; paid_ref: string | null }>(
        `SELECT id, msat, paid_ref FROM acct_leg WHERE kind = ? AND recipient_id = ? AND msat > 0 ORDER BY id`,
        [legKindOf(r.kind), r.id],
      )
      expect(legs.length, `${r.kind}:${r.id} has legs`).toBeGreaterThan(0)
      const legsMsat = legs.reduce((s, l) => s + BigInt(l.msat), 0n)
      const mine = payouts.filter((p) => p.recipient_kind === r.kind && p.recipient_id === r.id)
      const paidMsat = mine.reduce((s, p) => s + BigInt(p.amount_msat), 0n)
      paidTotalMsat += paidMsat
      const [acc] = await q<{ b: bigint }>(
        'SELECT balance_after_msat AS b FROM acct_accrual WHERE recipient_kind = ? AND recipient_id = ? ORDER BY id DESC LIMIT 1',
        [r.kind, r.id],
      )
      const accrued = BigInt(acc!.b)
      // Whole sats paid; the sub-sat remainder (< 1 sat) is still accrued; nothing lost, nothing paid twice.
      expect(paidMsat % 1000n).toBe(0n)
      expect(accrued >= 0n && accrued < 1000n, `${r.id} accrued ${accrued}`).toBe(true)
      expect(paidMsat + accrued).toBe(legsMsat)
      // Legs are marked paid in booking order, each once, while the paid total covers them whole.
      const marked = legs.filter((l) => l.paid_ref !== null)
      const firstOpen = legs.findIndex((l) => l.paid_ref === null)
      if (firstOpen >= 0) expect(legs.slice(firstOpen).every((l) => l.paid_ref === null)).toBe(true)
      const markedMsat = marked.reduce((s, l) => s + BigInt(l.msat), 0n)
      expect(markedMsat <= paidMsat).toBe(true)
      if (firstOpen >= 0) expect(BigInt(legs[firstOpen]!.msat) > paidMsat - markedMsat).toBe(true)
      expect(marked.every((l) => payouts.some((p) => l.paid_ref === `payout:${p.id}`))).toBe(true)

      // ---- the WALLET side: the recipient's own simulated Lightning ledger
      const incoming = r.wallet.transactions.filter((t) => t.type === 'incoming' && t.state === 'settled')
      expect(
        incoming.reduce((s, t) => s + t.amountMsat, 0n),
        `${r.id} wallet total`,
      ).toBe(paidMsat)
      expect(r.wallet.balanceMsat).toBe(paidMsat)
      expect(new Set(incoming.map((t) => t.paymentHash))).toEqual(new Set(mine.map((p) => p.payment_hash)))
      expect(incoming).toHaveLength(mine.length)
      // …and each arrived over the destination configured for it.
      for (const t of incoming) {
        if (r.how === 'keysend') expect(t.invoice).toBeNull()
        else if (r.how === 'lightning_address')
          expect(t.descriptionHash).toBe(bytesToHex(sha256(new TextEncoder().encode(metadataFor(r.id)))))
        else expect(t.description).toMatch(/payout/i)
      }
    }
    // Every payable leg kind is covered by a configured recipient (no recipient was left unpaid).
    const [orphans] = await q<{ n: bigint }>(
      `SELECT COUNT(*) AS n FROM acct_leg l WHERE l.kind IN ('platform_fee', 'split', 'lp') AND l.msat > 0
       AND NOT EXISTS (SELECT 1 FROM payout_recipient r WHERE r.recipient_id = l.recipient_id
                       AND r.recipient_kind = CASE l.kind WHEN 'platform_fee' THEN 'platform' ELSE l.kind END)`,
    )
    expect(Number(orphans!.n)).toBe(0)

    // ---- the operator's wallet: each payout paid once, no payment hash paid twice anywhere on the network.
    const opOut = h.op.wallet.transactions.filter((t) => t.type === 'outgoing' && t.state === 'settled')
    const opOutHashes = opOut.map((t) => t.paymentHash)
    expect(new Set(opOutHashes).size).toBe(opOutHashes.length)
    const cashInHashes = new Set(cashIns.map((s) => s.paymentHash!))
    expect(new Set(opOutHashes)).toEqual(new Set([...payouts.map((p) => p.payment_hash), ...cashInHashes]))
    const cashInMsat = cashIns.reduce((s, x) => s + x.record!.wireMsat, 0n)
    const cashOutMsat = sales
      .filter((s) => s.record!.direction === 'cash_out')
      .reduce((s, x) => s + x.record!.wireMsat, 0n)
    // Conservation on the wallet: start + cash-outs received − cash-ins paid − payouts = end (no routing fees here).
    expect(h.op.wallet.balanceMsat).toBe(opStartMsat + cashOutMsat - cashInMsat - paidTotalMsat)
    const allOut = [h.op.wallet, h.customerWallet, ...recipients.map((r) => r.wallet)].flatMap((x) =>
      x.transactions.filter((t) => t.type === 'outgoing' && t.state === 'settled'),
    )
    expect(new Set(allOut.map((t) => t.paymentHash)).size).toBe(allOut.length)

    // ---- the wallet's own records (NIP-47 list_transactions) reconcile with the ledger without a difference.
    const rec = await runWalletReconciliation({
      ledger,
      wallet: nwc,
      period: { fromSec: Math.floor(t0 / 1000) - 60, untilSec: Math.floor(Date.now() / 1000) + 60 },
      clock: systemClock,
      log: h.log.child('reconcile'),
      // Not stored: the runtime's own loop keeps the stored windows contiguous (checked below).
      save: false,
    })
    expect(rec.report.differences).toEqual([])
    expect(rec.report.totals.outgoing.walletMsat).toBe(rec.report.totals.outgoing.ledgerMsat)
    expect(rec.report.totals.incoming.walletMsat).toBe(cashOutMsat)

    // ---- one NIP-17 DM per LP payout, received on the relay and opened with that LP's key.
    const lpKeys = { ana, beto, carla }
    for (const [lpId, p] of Object.entries(lpKeys)) {
      const mine = payouts.filter((x) => x.recipient_kind === 'lp' && x.recipient_id === lpId)
      expect(mine.length, `${lpId} was paid`).toBeGreaterThan(0)
      const opened = await Promise.all(
        wrapsByLp.get(lpId)!.map((wrap) => unwrapGiftWrap(wrap, createSoftwareSigner(p.sk))),
      )
      for (const m of opened) expect(m.senderPubkey).toBe(h.consolePubkey)
      const payoutDms = opened.filter((m) =>
        m.rumor.tags.some((t) => t[0] === 'subject' && t[1]!.startsWith('Payout:')),
      )
      // Anything else the LP got is its monthly statement.
      for (const m of opened.filter((x) => !payoutDms.includes(x)))
        expect(m.rumor.tags.find((t) => t[0] === 'subject')?.[1]).toMatch(/^Statement /)
      const hashes = payoutDms.map((m) => /Payment hash: ([0-9a-f]{64})/.exec(m.rumor.content)?.[1])
      expect(hashes.sort()).toEqual(mine.map((x) => x.payment_hash).sort())
    }

    // ---- a kind 3079 receipt readable on the relay for every processed settlement.
    const rr = await queryOnce(readerPool, [{ kinds: [3079], authors: [h.consolePubkey] }], {
      relays: [relayUrl],
      timeoutMs: 15_000,
    })
    expect(rr.timedOut).toBe(false)
    const receipts = rr.events.map((e) => parseReceiptEvent(copyEvent(e as NostrEvent), h.consolePubkey))
    expect(receipts).toHaveLength(SALES)
    expect(new Set(receipts.map((r) => r.recordEventId))).toEqual(new Set(sales.map((s) => s.event.id)))
    for (const r of receipts) {
      expect(bytesToHex(sha256(hexToBytes(r.preimage)))).toBe(r.paymentHash)
      expect(r.amountMsat).toBe(wireOf.get(Number(settlements.find((s) => s.payment_hash === r.paymentHash)!.id)))
    }

    // ---- the sub-sat remainders left accrued add up: Σ accrued = Σ payable legs − Σ paid, each below one sat.
    const accruedOf = async (r: { kind: string; id: string }) =>
      BigInt(
        (
          await q<{ b: bigint }>(
            'SELECT balance_after_msat AS b FROM acct_accrual WHERE recipient_kind = ? AND recipient_id = ? ORDER BY id DESC LIMIT 1',
            [r.kind, r.id],
          )
        )[0]?.b ?? 0n,
      )
    const [payable] = await q<{ s: bigint }>(
      "SELECT SUM(msat) AS s FROM acct_leg WHERE kind IN ('platform_fee', 'split', 'lp') AND msat > 0",
    )
    let remainders = 0n
    for (const r of recipients) remainders += await accruedOf(r)
    expect(remainders).toBe(BigInt(payable!.s) - paidTotalMsat)
    expect(remainders < BigInt(recipients.length) * 1000n).toBe(true)
    // …and the Settings screen shows the same accruals for the platform and the splits.
    const listed = await ipc['recipients.list']({})
    for (const r of recipients.filter((x) => x.kind !== 'lp')) {
      const v = listed.recipients.find((x) => x.recipientKind === r.kind && x.recipientId === r.id)!
      expect(BigInt(v.accruedMsat), `${r.id} accrued as listed`).toBe(await accruedOf(r))
      expect(BigInt(v.paidMsat), `${r.id} paid as listed`).toBe(r.wallet.balanceMsat)
      expect(v.health?.ok).toBe(true)
    }

    // ---- payouts.list: per recipient, keyset-paged, every paid payout with a preimage that proves it.
    const listAll = async (kind: 'platform' | 'split' | 'lp', id: string): Promise<PayoutListItem[]> => {
      const out: PayoutListItem[] = []
      let cursor: string | undefined
      for (;;) {
        const page = await ipc['payouts.list']({
          recipientKind: kind,
          recipientId: id,
          limit: 7,
          ...(cursor ? { cursor } : {}),
        })
        out.push(...page.items)
        if (page.nextCursor === null) return out
        cursor = page.nextCursor
      }
    }
    for (const r of recipients) {
      const items = await listAll(r.kind, r.id)
      expect(new Set(items.map((i) => i.id)).size).toBe(items.length)
      expect(items.every((i) => i.state === 'paid')).toBe(true)
      for (const i of items) expect(bytesToHex(sha256(hexToBytes(i.preimage!)))).toBe(i.paymentHash)
      expect(
        items.reduce((a, i) => a + BigInt(i.amountMsat), 0n),
        `${r.id} payouts.list total`,
      ).toBe(r.wallet.balanceMsat)
    }

    // ---- receipts.list: every settlement's receipt, verified, with the relay that accepted it.
    const listedReceipts: ReceiptListItem[] = []
    for (let cursor: string | undefined, guard = 0; guard < 100; guard++) {
      const page = await ipc['receipts.list']({ limit: 50, ...(cursor ? { cursor } : {}) })
      listedReceipts.push(...page.items)
      if (page.nextCursor === null) break
      cursor = page.nextCursor
    }
    expect(listedReceipts).toHaveLength(SALES)
    expect(new Set(listedReceipts.map((r) => r.eventId))).toEqual(new Set(receipts.map((r) => r.eventId)))
    expect(new Set(listedReceipts.map((r) => r.recordEventId))).toEqual(new Set(sales.map((x) => x.event.id)))
    for (const r of listedReceipts) {
      expect(r.verified).toBe(true)
      expect(r.relayIds).toContain(relayUrl)
    }

    // ---- the runtime's own reconciliation loop: windows up to after the last payment, 0 differences, every
    // settlement and every payout matched in some window.
    const reconciledUpTo = async (untilMs: number) => {
      const ok = await waitFor(
        'reconciliation windows reach the end of the run',
        async () => {
          const [last] = await ledger.call<ReconcileRunRow[]>('reconcile.runs', { limit: 1 })
          return last !== undefined && last.untilSec * 1000 > untilMs
        },
        60_000,
      )
      expect(ok).toBe(true)
      const allRuns = await ledger.call<ReconcileRunRow[]>('reconcile.runs', { limit: 1000 })
      const windows = allRuns.map((r) => `${r.id}:${r.fromSec}-${r.untilSec}@${r.atMs}`).join(' ')
      for (let i = 0; i + 1 < allRuns.length; i++) expect(allRuns[i]!.fromSec, windows).toBe(allRuns[i + 1]!.untilSec)
      const matchedRefs = new Set(
        allRuns.flatMap((r) =>
          (JSON.parse(r.reportJson) as { matched: Array<{ ref: string }> }).matched.map((m) => m.ref),
        ),
      )
      const status = await ipc['reconcile.status']()
      expect(status).toMatchObject({ running: true, lastError: null, openDifferences: 0, lagSec: 2 })
      expect(await ipc['reconcile.differences']({})).toEqual([])
      return { runs: allRuns.length, matchedRefs }
    }
    const recon1 = await reconciledUpTo(Date.now())
    for (const s of settlements) expect(recon1.matchedRefs.has(`settlement:${s.id}`), `settlement ${s.id}`).toBe(true)
    for (const p of payouts) expect(recon1.matchedRefs.has(`payout:${p.id}`), `payout ${p.id}`).toBe(true)

    // ---- a destination removed on purpose: maint's sats wait on the worklist while everyone else is paid.
    const maint = recipients.find((r) => r.id === 'maint')!
    const maintWalletBefore = maint.wallet.balanceMsat
    const maintPayoutsBefore = payouts.filter((p) => p.recipient_id === 'maint').length
    await ipc['recipients.setDestination']({ recipientKind: 'split', recipientId: 'maint', destination: null })
    for (let i = 0; i < LATE_SALES; i++) {
      const sale = await (i % 2 ? a2 : a1).sim.sell({ scenario: 'normal', fiatMinor: 5_000n + BigInt(i) })
      expect(sale.accepted).toBe(true)
    }
    const lateDone = await waitFor(
      'late sales processed and paid to everyone but maint',
      async () => {
        const [s] = await q<{ n: bigint }>("SELECT COUNT(*) AS n FROM acct_settlement WHERE status = 'processed'")
        if (Number(s!.n) !== SALES + LATE_SALES) return false
        const [open] = await q<{ n: bigint }>("SELECT COUNT(*) AS n FROM payout WHERE state != 'paid'")
        if (Number(open!.n) !== 0) return false
        for (const r of recipients) if (r.id !== 'maint' && (await accruedOf(r)) >= 1000n) return false
        return (await accruedOf(maint)) >= 1000n
      },
      120_000,
    )
    expect(lateDone).toBe(true)
    await runtime.idle()
    const waiting = await ledger.call<WaitingRecipient[]>('payouts.waitingRecipients', {})
    const maintAccrued = await accruedOf(maint)
    expect(waiting).toEqual([
      {
        recipientKind: 'split',
        recipientId: 'maint',
        reason: 'no_destination',
        accruedMsat: maintAccrued.toString(),
        waitingSat: (maintAccrued / 1000n).toString(),
        text: `split recipient maint has no destination: ${maintAccrued / 1000n} sats waiting`,
      },
    ])
    // The operator's worklist shows the same line, and no reconciliation difference.
    const wl = await worklist['worklist.list']({})
    expect(wl.waitingRecipients).toEqual(waiting)
    expect(wl.reconcile?.items ?? []).toEqual([])
    const maintView = (await ipc['recipients.list']({})).recipients.find((x) => x.recipientId === 'maint')!
    expect(maintView).toMatchObject({ destination: null, waitingSat: (maintAccrued / 1000n).toString() })
    expect(maint.wallet.balanceMsat).toBe(maintWalletBefore)
    const [maintPayoutsNow] = await q<{ n: bigint }>("SELECT COUNT(*) AS n FROM payout WHERE recipient_id = 'maint'")
    expect(Number(maintPayoutsNow!.n)).toBe(maintPayoutsBefore)
    // Nothing lost: what maint's legs earned = what its wallet holds + what waits.
    const legsOf = async (r: Recipient) =>
      BigInt(
        (
          await q<{ s: bigint }>(
            'SELECT COALESCE(SUM(msat), 0) AS s FROM acct_leg WHERE kind = ? AND recipient_id = ? AND msat > 0',
            [legKindOf(r.kind), r.id],
          )
        )[0]!.s,
      )
    expect(maint.wallet.balanceMsat + maintAccrued).toBe(await legsOf(maint))

    // The destination is set again: the waiting sats are paid, to the sat, on maint's own wallet.
    await ipc['recipients.setDestination']({
      recipientKind: 'split',
      recipientId: 'maint',
      destination: { kind: 'keysend', nodeId: maint.wallet.nodePubkey },
    })
    runtime.kick()
    expect(
      await waitFor(
        'maint paid after its destination is back',
        async () => {
          const [open] = await q<{ n: bigint }>("SELECT COUNT(*) AS n FROM payout WHERE state != 'paid'")
          return Number(open!.n) === 0 && (await accruedOf(maint)) < 1000n
        },
        60_000,
      ),
    ).toBe(true)
    await runtime.idle()
    expect(maint.wallet.balanceMsat - maintWalletBefore).toBe(maintAccrued - (maintAccrued % 1000n))
    // Every recipient, after the late sales too: own wallet = paid payouts, and paid + accrued = legs earned.
    const finalPayouts = await q<{ recipient_kind: string; recipient_id: string; amount_msat: bigint }>(
      "SELECT recipient_kind, recipient_id, amount_msat FROM payout WHERE state = 'paid'",
    )
    for (const r of recipients) {
      const paid = finalPayouts
        .filter((p) => p.recipient_kind === r.kind && p.recipient_id === r.id)
        .reduce((a, p) => a + BigInt(p.amount_msat), 0n)
      expect(r.wallet.balanceMsat, `${r.id} own wallet`).toBe(paid)
      expect(paid + (await accruedOf(r)), `${r.id} paid + accrued = earned`).toBe(await legsOf(r))
      expect((await accruedOf(r)) < 1000n).toBe(true)
    }
    const recon2 = await reconciledUpTo(Date.now())
    const wlEnd = await worklist['worklist.list']({})
    expect(wlEnd.waitingRecipients).toEqual([])
    expect(wlEnd.reconcile?.items).toEqual([])

    const st = runtime.stats()
    console.log(
      JSON.stringify({
        settlements: SALES,
        cashIns: cashIns.length,
        partialDispenses: partials.length,
        payouts: payouts.length,
        lpPayouts: await lpPaidCount(),
        lnurlRequests: lnurlRequests.length,
        payoutCycles: st.payoutCycles,
        reconcileRuns: recon2.runs,
        setupMs,
        salesMs,
        endToEndMs,
        totalMs: Date.now() - t0,
      }),
    )
  }, 480_000)
})
