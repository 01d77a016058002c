// Interop: our NIP-47 client (src-main/wallet/nwc-client.ts) against the REAL @getalby/sdk NWCWalletService over
// a REAL relay process on 127.0.0.1, with money on the simulated Lightning ledger (test/support/lightning.ts).
// Covers every method, every NIP-47 error code, local failures (timeout, dropped response, publish failure,
// expiry), duplicate and garbage responses, payment-proof checks, NIP-04 fallback and notifications.

import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { NwcClient, type NwcClientOptions } from '../../src-main/wallet/nwc-client'
import { manualClock } from '../../src-shared/clock'
import { memoryLogger } from '../../src-shared/log'
import {
  NIP47_WALLET_ERROR_CODES,
  type Nip47Notification,
  NWC_ERROR_POLICY,
  NwcError,
  NwcParamError,
} from '../../src-shared/nostr/nip47'
import { LightningNetwork } from '../support/lightning'
import { type RelayHandle, startRelay } from '../support/relay'
import { RECEIVE_ONLY_METHODS, startWalletService, type WalletServiceFixture } from '../support/wallet-service'

let relay: RelayHandle
let net: LightningNetwork
let svc: WalletServiceFixture
const clients: NwcClient[] = []

function client(uri: string, opts: Partial<NwcClientOptions> = {}) {
  const logger = memoryLogger('nwc')
  const c = new NwcClient({ connection: uri, logger, replyTimeoutMs: 10_000, ...opts })
  clients.push(c)
  return { c, logger }
}

async function rejection(p: Promise<unknown>): Promise<NwcError> {
  try {
    await p
  } catch (e) {
    expect(e).toBeInstanceOf(NwcError)
    return e as NwcError
  }
  throw new Error('expected a rejection')
}

beforeAll(async () => {
  relay = await startRelay()
  net = new LightningNetwork()
  svc = await startWalletService({ relayUrls: [relay.url], network: net })
})

afterEach(() => {
  for (const c of clients.splice(0)) c.close()
})

afterAll(async () => {
  await svc?.close()
  await relay?.stop()
})

describe('NIP-47 client against the real wallet service', () => {
  it('get_info and get_balance over NIP-44 v2', async () => {
    const conn = await svc.fundedConnection('operator', 5_000_000n)
    const { c } = client(conn.uri)
    expect(await c.encryption()).toBe('nip44_v2')
    const info = await c.getInfo()
    expect(info.alias).toBe('operator')
    expect(info.pubkey).toBe(conn.wallet.nodePubkey)
    expect(info.network).toBe('regtest')
    expect(info.methods).toContain('pay_invoice')
    expect(await c.getBalance()).toBe(5_000_000n)
    expect(conn.handled.map((h) => h.method)).toEqual(['get_info', 'get_balance'])
  })

  it('make_invoice + lookup_invoice round trip: pending, then settled with the exact amount and preimage', async () => {
    // The ATM's receive-only connection is a second connection to the operator's own wallet (docs/protocol.md).
    const operator = await svc.fundedConnection('operator-wallet', 1_000n)
    const atmWallet = operator.wallet
    const atm = await svc.addConnection({ wallet: atmWallet, methods: RECEIVE_ONLY_METHODS })
    expect(atm.walletPubkey).not.toBe(operator.walletPubkey)
    const customer = net.createWallet('customer', 1_000_000n)
    const { c } = client(atm.uri)
    expect((await c.walletInfo())?.capabilities).toEqual(['make_invoice', 'lookup_invoice'])
    const made = await c.makeInvoice({ amountMsat: 123_456n, description: 'cash-out #1', expirySec: 600 })
    expect(made.type).toBe('incoming')
    expect(made.amountMsat).toBe(123_456n)
    expect(made.invoice).toMatch(/^lnbcrt/)
    const before = await c.lookupInvoice({ paymentHash: made.paymentHash })
    expect(before.state).toBe('pending')
    expect(before.preimage).toBeNull()
    customer.payInvoice(made.invoice!)
    const after = await c.lookupInvoice({ paymentHash: made.paymentHash })
    expect(after.state).toBe('settled')
    expect(after.amountMsat).toBe(123_456n)
    expect(after.settledAtSec).not.toBeNull()
    expect(bytesToHex(sha256(hexToBytes(after.preimage!)))).toBe(made.paymentHash)
    const byInvoice = await c.lookupInvoice({ invoice: made.invoice! })
    expect(byInvoice.paymentHash).toBe(made.paymentHash)
    expect(atmWallet.balanceMsat).toBe(1_000n + 123_456n)
    expect(customer.balanceMsat).toBe(1_000_000n - 123_456n)
    // A receive-only connection cannot spend or read the balance: the wallet answers RESTRICTED, which is final.
    const err = await rejection(c.payInvoice(customer.makeInvoice(1_000n).invoice!))
    expect(err.code).toBe('RESTRICTED')
    expect(err.retryable).toBe(false)
    expect((await rejection(c.getBalance())).code).toBe('RESTRICTED')
    expect(atmWallet.balanceMsat).toBe(1_000n + 123_456n)
  })

  it('pay_invoice pays another wallet: balances move exactly and the preimage verifies', async () => {
    const conn = await svc.fundedConnection('operator-pay', 1_000_000n)
    const lp = net.createWallet('lp', 7n)
    const inv = lp.makeInvoice(21_000n, { description: 'LP payout' })
    const { c } = client(conn.uri)
    const out = await c.payInvoice(inv.invoice!)
    expect(out.proof.status).toBe('verified')
    expect(out.proof.preimage).toBe(inv.preimage)
    expect(out.feesPaidMsat).toBe(0n)
    expect(conn.wallet.balanceMsat).toBe(979_000n)
    expect(lp.balanceMsat).toBe(21_007n)
    expect(await c.getBalance()).toBe(979_000n)
    // Paying the same invoice again is refused by the wallet, and nothing moves.
    const again = await rejection(c.payInvoice(inv.invoice!))
    expect(again.code).toBe('PAYMENT_FAILED')
    expect(conn.wallet.balanceMsat).toBe(979_000n)
    const over = await rejection(c.payInvoice(lp.makeInvoice(5_000_000n).invoice!))
    expect(over.code).toBe('INSUFFICIENT_BALANCE')
    expect(over.retryable).toBe(false)
  })

  it('every NIP-47 error code becomes a typed error with the documented retryable flag', async () => {
    const conn = await svc.fundedConnection('errors', 1_000n)
    const { c } = client(conn.uri)
    for (const code of NIP47_WALLET_ERROR_CODES) {
      conn.inject({ kind: 'error', code, message: `boom ${code}` })
      const err = await rejection(c.getBalance())
      expect(err.code).toBe(code)
      expect(err.retryable).toBe(NWC_ERROR_POLICY[code].retryable)
      expect(err.outcome).toBe('rejected')
      expect(err.message).toContain(`boom ${code}`)
    }
    // A code outside the spec is kept verbatim but treated as OTHER.
    conn.inject({ kind: 'error', code: 'WALLET_ON_FIRE' })
    const odd = await rejection(c.getBalance())
    expect(odd.code).toBe('OTHER')
    expect(odd.details.walletCode).toBe('WALLET_ON_FIRE')
    // The flags that matter for payouts: these are the retryable ones.
    expect(NIP47_WALLET_ERROR_CODES.filter((k) => NWC_ERROR_POLICY[k].retryable)).toEqual([
      'RATE_LIMITED',
      'INTERNAL',
      'PAYMENT_FAILED',
    ])
  })

  it('a wallet that never answers gives TIMEOUT with an unknown outcome', async () => {
    const conn = await svc.fundedConnection('hang', 1_000n)
    const { c, logger } = client(conn.uri, { replyTimeoutMs: 400 })
    conn.inject({ kind: 'hang' })
    const err = await rejection(c.getBalance())
    expect(err.code).toBe('TIMEOUT')
    expect(err.retryable).toBe(true)
    expect(err.outcome).toBe('unknown')
    expect(logger.records.some((r) => r.msg === 'no response in time')).toBe(true)
    // The client still works for the next request.
    expect(await c.getBalance()).toBe(1_000n)
  })

  it('an answer delayed beyond the timeout is not mistaken for the answer to the next request', async () => {
    const conn = await svc.fundedConnection('slow', 2_000n)
    const { c } = client(conn.uri, { replyTimeoutMs: 300 })
    conn.inject({ kind: 'delay', ms: 900 }, { method: 'get_balance' })
    expect((await rejection(c.getBalance())).code).toBe('TIMEOUT')
    // The late get_balance answer arrives while this (slower) get_info is outstanding; only get_info's own counts.
    conn.inject({ kind: 'delay', ms: 1_200 }, { method: 'get_info' })
    const info = await c.request('get_info', {}, { timeoutMs: 5_000 })
    expect(info.alias).toBe('slow')
    expect(await c.request('get_balance', {}, { timeoutMs: 5_000 })).toEqual({ balanceMsat: 2_000n })
  })

  it('a dropped pay_invoice response: TIMEOUT, yet the payment happened and lookup reconciles it', async () => {
    const conn = await svc.fundedConnection('drop', 100_000n)
    const shop = net.createWallet('shop')
    const inv = shop.makeInvoice(10_000n)
    const { c } = client(conn.uri, { replyTimeoutMs: 500 })
    conn.inject({ kind: 'drop' }, { method: 'pay_invoice' })
    const err = await rejection(c.payInvoice(inv.invoice!))
    expect(err.code).toBe('TIMEOUT')
    expect(err.outcome).toBe('unknown')
    expect(conn.dropped).toHaveLength(1)
    expect(shop.balanceMsat).toBe(10_000n)
    const tx = await c.lookupInvoice({ paymentHash: inv.paymentHash })
    expect(tx.type).toBe('outgoing')
    expect(tx.state).toBe('settled')
    expect(tx.preimage).toBe(inv.preimage)
    expect(await c.reconcilePayment({ paymentHash: inv.paymentHash, amountMsat: 10_000n })).toEqual({
      status: 'paid',
      preimage: inv.preimage,
      feesPaidMsat: 0n,
    })
    // The same question about a payment that never happened: NOT_FOUND means a new request may be minted.
    const never = shop.makeInvoice(1n)
    expect(await c.reconcilePayment({ paymentHash: never.paymentHash, amountMsat: 1n })).toEqual({
      status: 'not_paid',
      reason: 'not_found',
    })
  })

  it('a duplicated response: only the first is used', async () => {
    const conn = await svc.fundedConnection('dup', 42_000n)
    const { c } = client(conn.uri)
    conn.inject({ kind: 'duplicate', second: { result: { balance: 1 } } })
    expect(await c.getBalance()).toBe(42_000n)
    conn.inject({ kind: 'duplicate' })
    expect(await c.getBalance()).toBe(42_000n)
    expect(conn.handled).toHaveLength(2)
  })

  it('a response by the wallet key that does not decrypt is ignored and logged; the real one is used', async () => {
    const conn = await svc.fundedConnection('garbage', 9_000n)
    const { c, logger } = client(conn.uri)
    conn.inject({ kind: 'garbage_first' })
    expect(await c.getBalance()).toBe(9_000n)
    const refused = logger.records.find((r) => r.msg === 'response refused')
    expect(refused?.fields.reason).toMatch(/^undecryptable/)
  })

  it('a wrong or missing preimage is detected and marked, not trusted', async () => {
    const conn = await svc.fundedConnection('liar', 100_000n)
    const shop = net.createWallet('shop2')
    const { c, logger } = client(conn.uri)
    conn.inject({ kind: 'wrong_preimage' })
    const inv1 = shop.makeInvoice(1_000n)
    const r1 = await c.payInvoice(inv1.invoice!)
    expect(r1.proof.status).toBe('preimage_mismatch')
    expect(r1.proof.paymentHash).toBe(inv1.paymentHash)
    conn.inject({ kind: 'missing_preimage' })
    const r2 = await c.payInvoice(shop.makeInvoice(2_000n).invoice!)
    expect(r2.proof.status).toBe('preimage_missing')
    expect(logger.records.filter((r) => r.msg === 'payment proof does not verify')).toHaveLength(2)
    // Both payments did happen on the ledger: the caller must reconcile, which is why we mark and do not throw.
    expect(shop.balanceMsat).toBe(3_000n)
  })

  it('a non-integer amount in a response is a BAD_RESPONSE', async () => {
    const conn = await svc.fundedConnection('fractional', 5_000n)
    const { c } = client(conn.uri)
    conn.inject({ kind: 'bad_amount', value: 1.5 })
    const e1 = await rejection(c.getBalance())
    expect(e1.code).toBe('BAD_RESPONSE')
    expect(e1.message).toContain('result.balance')
    conn.inject({ kind: 'bad_amount', value: '5000' })
    const e2 = await rejection(c.makeInvoice({ amountMsat: 5_000n }))
    expect(e2.code).toBe('BAD_RESPONSE')
    expect(e2.message).toContain('result.amount')
    expect(e2.retryable).toBe(false)
  })

  it('falls back to NIP-04 when the info event lacks nip44_v2 (and when it has no encryption tag)', async () => {
    for (const infoEncryption of ['nip04', 'absent'] as const) {
      const conn = await svc.addConnection({
        wallet: net.createWallet(`old-${infoEncryption}`, 3_000n),
        infoEncryption,
      })
      const { c, logger } = client(conn.uri)
      expect(await c.encryption()).toBe('nip04')
      expect(await c.getBalance()).toBe(3_000n)
      const built = await c.buildRequest('get_balance', {})
      expect(built.event.tags).toContainEqual(['encryption', 'nip04'])
      expect(built.event.content).toContain('?iv=')
      expect(logger.records.some((r) => r.msg === 'wallet lacks nip44_v2; falling back to NIP-04')).toBe(true)
    }
  })

  it('crash before publishing: a new process sends the stored signed event and gets the verified payment', async () => {
    const conn = await svc.fundedConnection('payout-a', 50_000n)
    const lp = net.createWallet('lp-a')
    const inv = lp.makeInvoice(12_345n)
    const first = client(conn.uri).c
    const built = await first.buildRequest('pay_invoice', { invoice: inv.invoice! })
    expect(built.event.tags).toContainEqual(['p', conn.walletPubkey])
    expect(built.event.tags).toContainEqual(['encryption', 'nip44_v2'])
    const stored = JSON.parse(JSON.stringify(built.event)) // what the payout row keeps before publishing
    first.close() // crash: nothing was sent
    expect(conn.handled).toHaveLength(0)
    const second = client(conn.uri).c // the restarted process knows only the stored event
    const pending = second.awaitResponse<'pay_invoice'>(stored.id)
    await second.send(stored)
    const r = await pending
    expect(r.preimage).toBe(inv.preimage)
    expect(lp.balanceMsat).toBe(12_345n)
    expect(conn.wallet.balanceMsat).toBe(50_000n - 12_345n)
  })

  it('crash after publishing: re-sending the SAME event is a relay duplicate; lookup_invoice reconciles, paid once', async () => {
    const conn = await svc.fundedConnection('payout-b', 50_000n)
    const lp = net.createWallet('lp-b')
    const inv = lp.makeInvoice(12_345n)
    const first = client(conn.uri, { replyTimeoutMs: 500 }).c
    const built = await first.buildRequest('pay_invoice', { invoice: inv.invoice! })
    const stored = JSON.parse(JSON.stringify(built.event))
    conn.inject({ kind: 'drop' }, { method: 'pay_invoice' }) // the answer is lost in the crash
    const lost = first.awaitResponse(built.id)
    await first.send(built.event)
    expect((await rejection(lost)).code).toBe('TIMEOUT')
    first.close()
    const second = client(conn.uri, { replyTimeoutMs: 500 }).c
    const pending = second.awaitResponse(stored.id)
    const sent = await second.send(stored)
    // The relay has handled this event id before: @nostr-relay answers OK true from its per-id result cache
    // (without even saying "duplicate:") and does not forward it again, so the wallet never sees it twice.
    expect(sent.accepted).toEqual([relay.url])
    expect((await rejection(pending)).outcome).toBe('unknown')
    expect(conn.handled.filter((h) => h.method === 'pay_invoice')).toHaveLength(1)
    // Reconcile: the wallet's own record proves the payment, and money moved exactly once.
    const tx = await second.lookupInvoice({ paymentHash: inv.paymentHash })
    expect(tx).toMatchObject({ type: 'outgoing', state: 'settled', preimage: inv.preimage, amountMsat: 12_345n })
    expect(lp.balanceMsat).toBe(12_345n)
    expect(conn.wallet.balanceMsat).toBe(50_000n - 12_345n)
  })

  it('an expired request: refused locally before sending, rejected by the relay, ignored by the wallet', async () => {
    const conn = await svc.fundedConnection('expiry', 1_000n)
    const clock = manualClock(Date.now())
    const { c } = client(conn.uri, { clock, requestTtlSec: 30, replyTimeoutMs: 500 })
    // 1) The client refuses to send a request whose expiration has passed by its clock: nothing leaves.
    const built = await c.buildRequest('get_balance', {})
    expect(built.event.tags).toContainEqual(['expiration', String(built.expiresAtSec)])
    expect(built.expiresAtSec - built.event.created_at).toBe(30)
    clock.advanceMs(31_000)
    const local = await rejection(c.send(built.event))
    expect(local.code).toBe('EXPIRED')
    expect(local.outcome).toBe('not_sent')
    // 2) A client whose clock is behind signs a request that is already expired in real time: the relay refuses it.
    clock.setMs(Date.now() - 120_000)
    const relayRefused = await rejection(c.getBalance())
    expect(relayRefused.code).toBe('PUBLISH_FAILED')
    expect(relayRefused.outcome).toBe('not_sent')
    expect(relayRefused.message).toMatch(/expired/)
    // 3) The wallet's clock runs ahead: the request is expired when it arrives, so the wallet ignores it.
    clock.setMs(Date.now())
    const handledBefore = conn.handled.length
    const realNow = svc.nowSec
    svc.nowSec = () => realNow() + 3_600
    try {
      const ignored = await rejection(c.getBalance())
      expect(ignored.code).toBe('TIMEOUT')
      expect(conn.ignoredExpired).toHaveLength(1)
      expect(conn.handled.length).toBe(handledBefore)
    } finally {
      svc.nowSec = realNow
    }
  })

  it('pay_keysend, list_transactions and a QUOTA_EXCEEDED budget', async () => {
    const conn = await svc.fundedConnection('keysend', 100_000n, { budgetMsat: 30_000n })
    const dest = net.createWallet('dest')
    const { c } = client(conn.uri)
    const preimage = '42'.repeat(32)
    const ks = await c.payKeysend({ amountMsat: 20_000n, pubkey: dest.nodePubkey, preimage })
    expect(ks.proof.status).toBe('verified')
    expect(dest.balanceMsat).toBe(20_000n)
    const quota = await rejection(c.payKeysend({ amountMsat: 20_000n, pubkey: dest.nodePubkey }))
    expect(quota.code).toBe('QUOTA_EXCEEDED')
    expect(dest.balanceMsat).toBe(20_000n)
    const txs = await c.listTransactions({ limit: 10 })
    expect(txs).toHaveLength(1)
    expect(txs[0]).toMatchObject({ type: 'outgoing', amountMsat: 20_000n, state: 'settled' })
  })

  it('payment notifications (kind 23197) arrive typed and once', async () => {
    const conn = await svc.addConnection({ wallet: net.createWallet('notified'), autoNotify: true })
    const { c } = client(conn.uri)
    const got: Nip47Notification[] = []
    const sub = await c.subscribeNotifications((n) => got.push(n))
    await sub.ready
    const inv = conn.wallet.makeInvoice(77_000n)
    net.createWallet('payer-n', 100_000n).payInvoice(inv.invoice!)
    await expect.poll(() => got.length, { timeout: 5_000 }).toBe(1)
    expect(got[0]!.type).toBe('payment_received')
    expect(got[0]!.transaction.amountMsat).toBe(77_000n)
    expect(got[0]!.transaction.paymentHash).toBe(inv.paymentHash)
    // A manual notification for the same payment is deduplicated by (type, payment hash).
    await conn.sendNotification('payment_received', conn.wallet.lookup(inv.paymentHash)!)
    const out = conn.wallet
    out.balanceMsat += 5_000n
    const other = net.createWallet('other')
    out.payInvoice(other.makeInvoice(5_000n).invoice!)
    await expect.poll(() => got.map((n) => n.type), { timeout: 5_000 }).toEqual(['payment_received', 'payment_sent'])
    sub.close()
  })

  it('refuses bad parameters before anything is signed, naming the field', async () => {
    const conn = await svc.fundedConnection('params', 1n)
    const { c } = client(conn.uri)
    await expect(c.makeInvoice({ amountMsat: 0n })).rejects.toThrow(NwcParamError)
    await expect(c.makeInvoice({ amountMsat: 2n ** 60n })).rejects.toThrow(/amountMsat/)
    await expect(c.lookupInvoice({ paymentHash: 'xyz' })).rejects.toThrow(/paymentHash/)
    await expect(c.payInvoice('not-an-invoice')).rejects.toThrow(/invoice/)
    expect(conn.handled).toHaveLength(0)
  })

  it('a publish failure when the relay is down is PUBLISH_FAILED (retryable), and recovers after restart', async () => {
    const own = await startRelay()
    try {
      const w = await startWalletService({ relayUrls: [own.url], network: net })
      try {
        const conn = await w.fundedConnection('relay-down', 8_000n)
        const { c } = client(conn.uri, { replyTimeoutMs: 5_000 })
        expect(await c.getBalance()).toBe(8_000n)
        await own.kill()
        const err = await rejection(c.getBalance())
        expect(err.code).toBe('PUBLISH_FAILED')
        expect(err.retryable).toBe(true)
        await own.restart()
        await conn.waitReady(20_000)
        expect(await c.getBalance()).toBe(8_000n)
      } finally {
        await w.close()
      }
    } finally {
      await own.stop()
    }
  })
})
