// The LP's own NWC connection as a payout destination (make_invoice on THEIR wallet) against the real relay and the
// real @getalby/sdk wallet service over the simulated Lightning network; keysend node-id validation; and the
// resolver dispatching the three destination kinds, with the NWC URI read sealed from the secret store.
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { memoryLogger } from '../../../src-shared/log'
import { invoiceAmountMsat, invoicePaymentHash, NwcError } from '../../../src-shared/nostr/nip47'
import { LightningNetwork } from '../../../test/support/lightning'
import { type RelayHandle, startRelay } from '../../../test/support/relay'
import { startWalletService, type WalletServiceFixture } from '../../../test/support/wallet-service'
import { aesGcmSecretBox } from '../../secrets/file-key'
import { openSecretStore, SecretSlots } from '../../secrets/secret-store'
import { isNodeId, keysendDestination, parseNodeId } from './keysend'
import { nwcWalletPubkey, resolveNwcInvoice } from './lp-nwc'
import { createDestinationResolver } from './resolver'
import { type DestinationConfig, DestinationError } from './types'

let relay: RelayHandle
let svc: WalletServiceFixture
const net = new LightningNetwork()

beforeAll(async () => {
  relay = await startRelay()
  svc = await startWalletService({ relayUrls: [relay.url], network: net })
}, 30_000)
afterAll(async () => {
  await svc?.close()
  await relay?.stop()
})

describe('LP NWC destination (make_invoice on the LP wallet)', () => {
  it('gets a real invoice from the LP wallet over the relay, payable by the operator', async () => {
    const lpWallet = net.createWallet('lp-beto')
    const conn = await svc.addConnection({ wallet: lpWallet, methods: ['make_invoice'] })
    const log = memoryLogger('lp-nwc')
    const d = await resolveNwcInvoice(conn.uri, 34_000n, { description: 'Satmachine payout', logger: log })
    expect(d.kind).toBe('invoice')
    expect(d.amountMsat).toBe(34_000n)
    expect(invoiceAmountMsat(d.bolt11)).toBe(34_000n)
    expect(invoicePaymentHash(d.bolt11)).toBe(d.paymentHash)
    expect(conn.handled.map((h) => h.method)).toEqual(['make_invoice'])
    const operator = net.createWallet('operator', 100_000n)
    operator.payInvoice(d.bolt11)
    expect(lpWallet.balanceMsat).toBe(34_000n)
    const line = log.records.find((r) => r.msg === 'recipient wallet made an invoice')
    expect(line?.fields.walletPubkey).toBe(conn.walletPubkey)
    for (const r of log.records)
      expect(Object.values(r.fields).map(String).join(' ')).not.toContain(conn.clientSecretHex)
  }, 30_000)

  it('reports the wallet refusing (RESTRICTED) as a typed NwcError', async () => {
    const conn = await svc.addConnection({ wallet: net.createWallet('lp-x'), methods: ['get_balance'] })
    const log = memoryLogger('lp-nwc')
    const err = await resolveNwcInvoice(conn.uri, 5_000n, { logger: log }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(NwcError)
    expect((err as NwcError).code).toBe('RESTRICTED')
    expect(log.records.find((r) => r.msg === 'recipient wallet gave no invoice')?.fields.code).toBe('RESTRICTED')
  }, 30_000)

  it('refuses a malformed URI naming the part, without quoting the secret', () => {
    const bad = `nostr+walletconnect://${'ab'.repeat(32)}?relay=wss%3A%2F%2Fr.example&secret=zz${'1'.repeat(62)}`
    const e = (() => {
      try {
        nwcWalletPubkey(bad)
      } catch (x) {
        return x as DestinationError
      }
      throw new Error('accepted')
    })()
    expect(e).toBeInstanceOf(DestinationError)
    expect(e.field).toBe('nwcUri')
    expect(e.message).toContain('secret')
    expect(e.message).not.toContain('1'.repeat(62))
  })
})

describe('keysend destination', () => {
  const nodeId = net.createWallet('node').nodePubkey

  it('accepts a compressed point and draws a preimage whose sha256 is the payment hash', () => {
    expect(isNodeId(nodeId)).toBe(true)
    const d = keysendDestination(nodeId.toUpperCase(), 7_000n)
    expect(d.nodeId).toBe(nodeId)
    expect(d.paymentHash).toBe(bytesToHex(sha256(hexToBytes(d.preimage))))
    const again = keysendDestination(nodeId, 7_000n)
    expect(again.preimage).not.toBe(d.preimage)
    // The simulated network pays it with the preimage we chose.
    const payer = net.createWallet('payer', 10_000n)
    expect(payer.payKeysend(d.nodeId, d.amountMsat, d.preimage).paymentHash).toBe(d.paymentHash)
  })

  it('refuses wrong lengths, uncompressed keys, x-only keys and points off the curve, naming why', () => {
    const why = (v: unknown) => {
      try {
        parseNodeId(v)
      } catch (e) {
        return (e as DestinationError).message
      }
      return 'accepted'
    }
    expect(why(nodeId.slice(2))).toMatch(/33 bytes/) // x-only (32 bytes)
    expect(why(`04${nodeId.slice(2)}${'00'.repeat(32)}`)).toMatch(/33 bytes/) // uncompressed
    expect(why(`05${nodeId.slice(2)}`)).toMatch(/02 or 03/)
    expect(why(`02${'00'.repeat(32)}`)).toMatch(/not a point/)
    expect(why('xyz')).toMatch(/hex/)
    expect(why(42)).toMatch(/string/)
    expect(isNodeId(`02${'00'.repeat(32)}`)).toBe(false)
  })
})

describe('DestinationResolver', () => {
  it('dispatches keysend, NWC (sealed URI) and reports a missing destination / secret', async () => {
    const dir = (await import('node:fs')).mkdtempSync(`${(await import('node:os')).tmpdir()}/dest-`)
    const secrets = await openSecretStore({
      dir,
      box: aesGcmSecretBox(new Uint8Array(32).fill(3)),
      log: memoryLogger(),
    })
    const lpWallet = net.createWallet('lp-carla')
    const conn = await svc.addConnection({ wallet: lpWallet, methods: ['make_invoice'] })
    await secrets.put(SecretSlots.lpNwc('carla'), conn.uri)
    const node = net.createWallet('dora-node')
    const table: Record<string, DestinationConfig> = {
      carla: { kind: 'nwc', secretSlot: SecretSlots.lpNwc('carla'), walletPubkey: conn.walletPubkey },
      dora: { kind: 'keysend', nodeId: node.nodePubkey },
      eve: { kind: 'nwc', secretSlot: SecretSlots.lpNwc('eve'), walletPubkey: conn.walletPubkey },
    }
    const resolver = createDestinationResolver({
      lookup: async (r) => table[r.recipientId] ?? null,
      secrets,
      describe: (r, a) => `payout ${r.recipientId} ${a}`,
    })
    const c = await resolver.resolveInvoice({ recipientKind: 'lp', recipientId: 'carla' }, 12_000n)
    expect(c.kind).toBe('invoice')
    expect(lpWallet.transactions.at(-1)?.description).toBe('payout carla 12000')
    const d = await resolver.resolveInvoice({ recipientKind: 'lp', recipientId: 'dora' }, 3_000n)
    expect(d).toMatchObject({ kind: 'keysend', nodeId: node.nodePubkey, amountMsat: 3_000n })
    const none = await resolver.resolveInvoice({ recipientKind: 'lp', recipientId: 'zed' }, 1_000n).catch((e) => e)
    expect([(none as DestinationError).code, (none as DestinationError).field]).toEqual([
      'NO_DESTINATION',
      'recipientId',
    ])
    const lost = await resolver.resolveInvoice({ recipientKind: 'lp', recipientId: 'eve' }, 1_000n).catch((e) => e)
    expect((lost as DestinationError).code).toBe('SECRET_MISSING')
    ;(await import('node:fs')).rmSync(dir, { recursive: true, force: true })
  }, 30_000)
})
