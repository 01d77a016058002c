// Batched payment confirmations against the REAL relay process and the REAL @getalby/sdk wallet service: a past
// window is confirmed with list_transactions pages and no lookup_invoice; a miss or a live record asks
// lookup_invoice for that one hash; wallet notifications confirm live payments; a connection without
// list_transactions falls back to single lookups; entries that fail the checks are never cached; memory is bounded.
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex, randomBytes } from '@noble/hashes/utils.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { nowSec, systemClock } from '../../src-shared/clock'
import { createLogger } from '../../src-shared/log'
import type { Nip47Transaction } from '../../src-shared/nostr/nip47'
import { LightningNetwork, type SimWallet } from '../../test/support/lightning'
import { type RelayHandle, startRelay } from '../../test/support/relay'
import {
  RECEIVE_ONLY_METHODS,
  startWalletService,
  type WalletConnection,
  type WalletServiceFixture,
} from '../../test/support/wallet-service'
import { NwcClient } from '../wallet/nwc-client'
import { createPaymentConfirmations, refuseReason } from './payment-confirmations'

const log = createLogger(() => {}, 'test')
let relay: RelayHandle
let svc: WalletServiceFixture
let simNow = nowSec(systemClock)
let net: LightningNetwork
let customer: SimWallet
const clients: NwcClient[] = []

beforeAll(async () => {
  relay = await startRelay()
  net = new LightningNetwork({ nowSec: () => simNow })
  svc = await startWalletService({ relayUrls: [relay.url], network: net })
  customer = net.createWallet('customer', 10n ** 15n)
})

afterAll(async () => {
  for (const c of clients) c.close()
  await svc?.close()
  await relay?.stop()
})

function client(uri: string): NwcClient {
  const c = new NwcClient({ connection: uri, logger: log, replyTimeoutMs: 30_000 })
  clients.push(c)
  return c
}

/** A payment into `conn`'s wallet whose invoice is created at `atSec` (sim time) and settled at once. */
function paid(conn: WalletConnection, atSec: number, msat: bigint): string {
  simNow = atSec
  const inv = conn.wallet.makeInvoice(msat, { description: `pay ${atSec}` })
  customer.payInvoice(inv.invoice as string)
  simNow = nowSec(systemClock)
  return inv.paymentHash
}

const methods = (c: WalletConnection) => c.handled.map((h) => h.method)

function tx(over: Partial<Nip47Transaction> = {}): Nip47Transaction {
  const preimage = bytesToHex(randomBytes(32))
  return {
    type: 'incoming',
    state: 'settled',
    invoice: null,
    description: null,
    descriptionHash: null,
    preimage,
    paymentHash: bytesToHex(sha256(Buffer.from(preimage, 'hex'))),
    amountMsat: 1000n,
    feesPaidMsat: null,
    createdAtSec: 1,
    expiresAtSec: null,
    settledAtSec: 1,
    ...over,
  }
}

describe('payment confirmations', () => {
  it('catch-up: a past window comes from list_transactions pages; only a miss asks lookup_invoice', async () => {
    const op = await svc.fundedConnection('op-batch', 0n)
    // Windows of 900 s: 120 payments, one every 5 s, inside one window that ended over an hour ago.
    const window0 = Math.floor((nowSec(systemClock) - 7200) / 900) * 900
    const payments = Array.from({ length: 120 }, (_, i) => ({
      at: window0 + i * 5,
      msat: 5_000n + BigInt(i),
    })).map((p) => ({ ...p, hash: paid(op, p.at, p.msat) }))
    const c = createPaymentConfirmations({ wallet: client(op.uri), log, pageLimit: 20 })
    const answers = await Promise.all(payments.map((p) => c.confirm(p.hash, p.at + 1)))
    for (const [i, a] of answers.entries()) {
      expect(a).toMatchObject({ found: true, settled: true, amountMsat: payments[i]?.msat, type: 'incoming' })
      if (!a.found) throw new Error('not found')
      expect(bytesToHex(sha256(Buffer.from(a.preimage as string, 'hex')))).toBe(payments[i]?.hash)
    }
    expect(methods(op).filter((m) => m === 'lookup_invoice')).toEqual([])
    // 120 payments in pages of 20: the first page alone, then 4 at a time until a short (here empty) page: 1+4+4.
    expect(methods(op).filter((m) => m === 'list_transactions')).toHaveLength(9)
    expect(c.stats()).toMatchObject({ hits: 120, lookups: 0, windows: 1 })
    // A hash the wallet does not know, in the same window: one lookup_invoice, NOT_FOUND.
    const unknown = bytesToHex(randomBytes(32))
    expect(await c.confirm(unknown, window0 + 10)).toEqual({ found: false })
    expect(methods(op).filter((m) => m === 'lookup_invoice')).toHaveLength(1)
  })

  it('live: a record of the current window is looked up on its own; concurrent asks share one request', async () => {
    const op = await svc.fundedConnection('op-live', 0n)
    const now = nowSec(systemClock)
    const hash = paid(op, now - 1, 7_000n)
    const c = createPaymentConfirmations({ wallet: client(op.uri), log })
    const [a, b] = await Promise.all([c.confirm(hash, now), c.confirm(hash, now)])
    expect(a).toMatchObject({ found: true, settled: true, amountMsat: 7_000n, type: 'incoming' })
    expect(b).toEqual(a)
    expect(methods(op)).toEqual(['lookup_invoice'])
    // Remembered: the same record offered again needs no request.
    await c.confirm(hash, now)
    expect(methods(op)).toEqual(['lookup_invoice'])
  })

  it('backlog in an open window: concurrent misses are answered by one bulk fetch, not one lookup each', async () => {
    const op = await svc.fundedConnection('op-backlog', 0n)
    const now = nowSec(systemClock)
    // 30 payments of the last minute (the window is still open), all settled before their records are checked.
    const payments = Array.from({ length: 30 }, (_, i) => ({ at: now - 60 + i, msat: 3_000n + BigInt(i) })).map(
      (p) => ({ ...p, hash: paid(op, p.at, p.msat) }),
    )
    const c = createPaymentConfirmations({ wallet: client(op.uri), log, pageLimit: 50 })
    const answers = await Promise.all(payments.map((p) => c.confirm(p.hash, p.at + 1)))
    for (const [i, a] of answers.entries())
      expect(a).toMatchObject({ found: true, settled: true, amountMsat: payments[i]?.msat, type: 'incoming' })
    expect(methods(op).filter((m) => m === 'lookup_invoice')).toEqual([])
    expect(methods(op).filter((m) => m === 'list_transactions')).toHaveLength(1)
    // A record older than that fetch that still misses is looked up alone: absence in a batch proves nothing.
    const unknown = bytesToHex(randomBytes(32))
    expect(await c.confirm(unknown, now - 30)).toEqual({ found: false })
    expect(methods(op).filter((m) => m === 'lookup_invoice')).toHaveLength(1)
    expect(methods(op).filter((m) => m === 'list_transactions')).toHaveLength(1)
  })

  it('backlog in an open window after an hour of older payments: the bulk fetch reads only the newest pages', async () => {
    const op = await svc.fundedConnection('op-backlog-deep', 0n)
    const now = nowSec(systemClock)
    // 150 payments of the last hour (inside the invoice lead), then 30 of the last minute whose records arrive now.
    for (let i = 0; i < 150; i++) paid(op, now - 3000 + i * 10, 1_000n + BigInt(i))
    const payments = Array.from({ length: 30 }, (_, i) => ({ at: now - 60 + i, msat: 5_000n + BigInt(i) })).map(
      (p) => ({ ...p, hash: paid(op, p.at, p.msat) }),
    )
    const c = createPaymentConfirmations({ wallet: client(op.uri), log, pageLimit: 10 })
    const answers = await Promise.all(payments.map((p) => c.confirm(p.hash, p.at + 1)))
    for (const [i, a] of answers.entries()) expect(a).toMatchObject({ found: true, amountMsat: payments[i]?.msat })
    // 30 misses → at most ceil(60 / 10) + 1 = 7 pages, not the 18 the whole range takes; none looked up alone.
    const lists = methods(op).filter((m) => m === 'list_transactions').length
    expect(lists).toBeGreaterThanOrEqual(3)
    expect(lists).toBeLessThanOrEqual(7)
    expect(methods(op).filter((m) => m === 'lookup_invoice')).toEqual([])
  })

  it('backlog older than the live slack in a still-open window: the window is fetched once, up to now', async () => {
    const op = await svc.fundedConnection('op-backlog-open', 0n)
    const now = nowSec(systemClock)
    // A window width under which now − 400 and now fall in the same window (so it is still open).
    let windowSec = 10_000
    while (Math.floor((now - 400) / windowSec) !== Math.floor(now / windowSec)) windowSec++
    const payments = Array.from({ length: 40 }, (_, i) => ({ at: now - 400 + i * 5, msat: 9_000n + BigInt(i) })).map(
      (p) => ({ ...p, hash: paid(op, p.at, p.msat) }),
    )
    const c = createPaymentConfirmations({ wallet: client(op.uri), log, pageLimit: 10, windowSec })
    // Arriving in small groups (not enough at once for the open-window batch rule): still one fetch for all.
    const answers = []
    for (let i = 0; i < payments.length; i += 3)
      answers.push(...(await Promise.all(payments.slice(i, i + 3).map((p) => c.confirm(p.hash, p.at + 1)))))
    for (const [i, a] of answers.entries())
      expect(a).toMatchObject({ found: true, settled: true, amountMsat: payments[i]?.msat, type: 'incoming' })
    expect(methods(op).filter((m) => m === 'lookup_invoice')).toEqual([])
    // 40 payments, pages of 10: four full pages and the empty one that ends the range.
    expect(methods(op).filter((m) => m === 'list_transactions')).toHaveLength(5)
    // A miss of the same window later is looked up alone; the window is not fetched again.
    expect(await c.confirm(bytesToHex(randomBytes(32)), now - 250)).toEqual({ found: false })
    expect(methods(op).filter((m) => m === 'lookup_invoice')).toHaveLength(1)
    expect(methods(op).filter((m) => m === 'list_transactions')).toHaveLength(5)
  })

  it('live: payment notifications confirm a payment before the record arrives', async () => {
    const op = await svc.fundedConnection('op-notify', 0n, { autoNotify: true })
    const nwc = client(op.uri)
    const c = createPaymentConfirmations({ wallet: nwc, log })
    const sub = await nwc.subscribeNotifications((n) => c.note(n.transaction))
    await sub.ready
    const now = nowSec(systemClock)
    const hash = paid(op, now, 9_000n)
    await expect.poll(() => c.stats().size, { timeout: 30_000 }).toBe(1)
    expect(await c.confirm(hash, now)).toMatchObject({ found: true, settled: true, amountMsat: 9_000n })
    expect(methods(op)).not.toContain('lookup_invoice')
    sub.close()
  })

  it('a connection without list_transactions falls back to one lookup per record, and stops asking', async () => {
    const wallet = net.createWallet('op-restricted', 0n)
    const op = await svc.addConnection({ wallet, methods: RECEIVE_ONLY_METHODS })
    const window0 = Math.floor((nowSec(systemClock) - 7200) / 900) * 900
    const hashes = [paid(op, window0 + 1, 1_000n), paid(op, window0 + 2, 2_000n)]
    const c = createPaymentConfirmations({ wallet: client(op.uri), log })
    expect(await c.confirm(hashes[0] as string, window0 + 5)).toMatchObject({ found: true, amountMsat: 1_000n })
    // A second window: no second list_transactions attempt after RESTRICTED.
    expect(await c.confirm(hashes[1] as string, window0 + 905)).toMatchObject({ found: true, amountMsat: 2_000n })
    expect(methods(op)).toEqual(['list_transactions', 'lookup_invoice', 'lookup_invoice'])
  })

  it('never caches an entry that fails the checks; memory stays within maxEntries', () => {
    expect(refuseReason(tx())).toBeNull()
    expect(refuseReason(tx({ state: 'pending' }))).toBe('state pending')
    expect(refuseReason(tx({ preimage: null }))).toBe('no 32-byte preimage')
    expect(refuseReason(tx({ preimage: 'ab'.repeat(32) }))).toBe('sha256(preimage) is not the hash')
    expect(refuseReason(tx({ amountMsat: 0n }))).toBe('amount is not positive')
    expect(refuseReason(tx({ type: 'sideways' as never }))).toBe('no direction')
    const c = createPaymentConfirmations({
      wallet: {
        lookupInvoice: async () => {
          throw Object.assign(new Error('not here'), { code: 'NOT_FOUND' })
        },
      },
      log,
      maxEntries: 5,
    })
    expect(c.note(tx({ preimage: 'ab'.repeat(32) }))).toBe(false)
    expect(c.stats()).toMatchObject({ size: 0, refused: 1 })
    const kept = Array.from({ length: 10 }, () => tx())
    for (const t of kept) expect(c.note(t)).toBe(true)
    expect(c.stats().size).toBe(5)
  })

  it('an evicted or refused entry is asked again, never answered from memory', async () => {
    const seen: string[] = []
    const good = tx()
    const c = createPaymentConfirmations({
      wallet: {
        lookupInvoice: async ({ paymentHash }) => {
          seen.push(paymentHash)
          return { ...good, state: 'pending', preimage: null }
        },
      },
      log,
      maxEntries: 1,
    })
    c.note(good)
    c.note(tx()) // evicts `good`
    expect(await c.confirm(good.paymentHash)).toMatchObject({ found: true, settled: false })
    expect(seen).toEqual([good.paymentHash])
    // "Not settled yet" is not remembered: asked again.
    await c.confirm(good.paymentHash)
    expect(seen).toEqual([good.paymentHash, good.paymentHash])
  })
})
