// NwcClient behaviours not covered by test/interop/nwc.test.ts: several relays (one dead, or both delivering the
// same answer), a wallet without an info event, forced encryption, NIP-04 notifications, close(), and refusing
// to send events that are not ours. Real relay (in-process variant) and the real @getalby/sdk wallet service.
import { finalizeEvent, generateSecretKey } from 'nostr-tools/pure'
import { afterEach, describe, expect, it } from 'vitest'
import { memoryLogger } from '../../src-shared/log'
import { type Nip47Notification, NwcError, NwcParamError } from '../../src-shared/nostr/nip47'
import { LightningNetwork } from '../../test/support/lightning'
import { type RelayHandle, startRelayInProcess } from '../../test/support/relay'
import { startWalletService, type WalletServiceFixture } from '../../test/support/wallet-service'
import { NwcClient, type NwcClientOptions } from './nwc-client'
import { createPoolTransport } from './nwc-transport'

const cleanup: Array<() => unknown> = []
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f()
})

async function relayUp(): Promise<RelayHandle> {
  const r = await startRelayInProcess()
  cleanup.push(() => r.stop())
  return r
}

async function serviceOn(urls: string[]): Promise<WalletServiceFixture> {
  const s = await startWalletService({ relayUrls: urls, network: new LightningNetwork() })
  cleanup.push(() => s.close())
  return s
}

function client(connection: string, opts: Partial<NwcClientOptions> = {}) {
  const logger = memoryLogger('nwc')
  const c = new NwcClient({ connection, logger, replyTimeoutMs: 5_000, ...opts })
  cleanup.push(() => c.close())
  return { c, logger }
}

describe('NwcClient', () => {
  it('works when one of the URI relays is dead', async () => {
    const live = await relayUp()
    const dead = await relayUp()
    await dead.stop()
    const svc = await serviceOn([live.url])
    const conn = await svc.fundedConnection('w', 1_234n, { uriRelays: [dead.url, live.url] })
    const { c, logger } = client(conn.uri)
    expect(await c.getBalance()).toBe(1_234n)
    const sent = logger.records.find((r) => r.msg === 'request sent')
    expect(sent?.fields.relays).toBe(live.url)
  })

  it('the same answer delivered by two relays is used once', async () => {
    const a = await relayUp()
    const b = await relayUp()
    const svc = await serviceOn([a.url, b.url])
    const conn = await svc.fundedConnection('w2', 777n)
    const { c, logger } = client(conn.uri)
    expect(await c.getBalance()).toBe(777n)
    expect(await c.getBalance()).toBe(777n)
    expect(logger.records.filter((r) => r.msg === 'response received')).toHaveLength(2)
    // The wallet heard each request on both relays; its pool dedupes by event id, so it answered each once.
    expect(conn.handled).toHaveLength(2)
  })

  it('no info event: NIP-04 with a warning, and requests still work', async () => {
    const r = await relayUp()
    const svc = await serviceOn([r.url])
    const conn = await svc.fundedConnection('legacy', 55n, { noInfoEvent: true })
    const { c, logger } = client(conn.uri, { infoTimeoutMs: 2_000 })
    expect(await c.walletInfo()).toBeNull()
    expect(await c.encryption()).toBe('nip04')
    expect(await c.getBalance()).toBe(55n)
    expect(logger.records.some((x) => x.msg.startsWith('wallet published no info event'))).toBe(true)
  })

  it('a forced scheme skips negotiation', async () => {
    const r = await relayUp()
    const svc = await serviceOn([r.url])
    const conn = await svc.fundedConnection('forced', 9n, { noInfoEvent: true })
    const { c } = client(conn.uri, { encryption: 'nip44_v2' })
    expect(await c.getBalance()).toBe(9n)
    const built = await c.buildRequest('get_balance', {})
    expect(built.encryption).toBe('nip44_v2')
  })

  it('NIP-04 wallets deliver notifications as kind 23196', async () => {
    const r = await relayUp()
    const svc = await serviceOn([r.url])
    const conn = await svc.addConnection({
      wallet: svc.network.createWallet('n04'),
      infoEncryption: 'nip04',
      autoNotify: true,
    })
    const { c } = client(conn.uri)
    const got: Nip47Notification[] = []
    const sub = await c.subscribeNotifications((n) => got.push(n))
    await sub.ready
    const inv = conn.wallet.makeInvoice(3_000n)
    svc.network.createWallet('payer', 10_000n).payInvoice(inv.invoice!)
    await expect.poll(() => got.map((n) => [n.type, n.transaction.amountMsat])).toEqual([['payment_received', 3_000n]])
    sub.close()
  })

  it('awaitResponse twice returns the same promise; close() ends waits with TIMEOUT (outcome unknown)', async () => {
    const r = await relayUp()
    const svc = await serviceOn([r.url])
    const conn = await svc.fundedConnection('closing', 1n)
    const { c } = client(conn.uri)
    conn.inject({ kind: 'hang' })
    const built = await c.buildRequest('get_balance', {})
    const p1 = c.awaitResponse(built.id)
    expect(c.awaitResponse(built.id)).toBe(p1)
    await c.send(built.event)
    await conn.waitForHandled(1)
    c.close()
    await expect(p1).rejects.toMatchObject({ code: 'TIMEOUT', outcome: 'unknown' })
    await expect(c.send(built.event)).rejects.toBeInstanceOf(NwcError)
  })

  it('point 9 (NIP-40): a request carries expiration = created_at + 60 s by default (docs/protocol.md §5.6)', async () => {
    const r = await relayUp()
    const svc = await serviceOn([r.url])
    const conn = await svc.fundedConnection('expiring', 1n)
    const { c } = client(conn.uri)
    const built = await c.buildRequest('get_balance', {})
    const exp = built.event.tags.find((t) => t[0] === 'expiration')
    expect(exp).toEqual(['expiration', String(built.event.created_at + 60)])
    expect(built.expiresAtSec).toBe(built.event.created_at + 60)
  })

  it('refuses to send an event that is not one of our requests', async () => {
    const r = await relayUp()
    const svc = await serviceOn([r.url])
    const conn = await svc.fundedConnection('strict', 1n)
    const { c } = client(conn.uri)
    const foreign = finalizeEvent(
      { kind: 23194, created_at: Math.floor(Date.now() / 1000), tags: [['p', conn.walletPubkey]], content: 'x' },
      generateSecretKey(),
    )
    await expect(c.send(foreign)).rejects.toBeInstanceOf(NwcParamError)
    await expect(c.buildRequest('get_balance', {}, { ttlSec: 0 })).rejects.toThrow(/ttlSec/)
    expect(conn.handled).toHaveLength(0)
  })
})

describe('NwcClient over the app relay pool', () => {
  it('runs make_invoice, lookup_invoice and pay_invoice through createPoolTransport', async () => {
    const { createRelayPool } = await import('../nostr/relay-pool')
    const r = await relayUp()
    const svc = await serviceOn([r.url])
    const conn = await svc.fundedConnection('pooled', 100_000n)
    const pool = await createRelayPool({ relays: [r.url] })
    cleanup.push(() => pool.close())
    const { c } = client(conn.uri, { transport: createPoolTransport(pool, [r.url]) })
    expect(await c.encryption()).toBe('nip44_v2')
    const inv = await c.makeInvoice({ amountMsat: 2_100n, description: 'pooled' })
    const payee = svc.network.createWallet('payee', 0n)
    const out = await c.payInvoice(payee.makeInvoice(4_000n).invoice!)
    expect(out.proof.status).toBe('verified')
    expect((await c.lookupInvoice({ paymentHash: inv.paymentHash })).state).toBe('pending')
    expect(conn.wallet.balanceMsat).toBe(96_000n)
  })
})
