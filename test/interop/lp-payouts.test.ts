// LP lifecycle end to end over real parts (issue 5 items 3 and 4): three LPs registered with the three destination
// kinds — a Lightning address served by a real node:http LNURL server on 127.0.0.1, the LP's own NWC connection
// (sealed in the secret store) and a keysend node id — fund the machine, a cash-out is booked, one LP is
// deactivated, and the payout runner (src-main/payouts) pays every accrual through the operator's NWC connection
// over the real relay and the real @getalby/sdk wallet service. The deactivated LP is still paid; each LP's
// simulated wallet receives exactly the whole sats of its accrual, and the sub-sat remainder stays accrued.
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex } from '@noble/hashes/utils.js'
import { npubEncode } from 'nostr-tools/nip19'
import { getPublicKey } from 'nostr-tools/pure'
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest'
import '../../src-main/ledger/registry'
import { readmeConfigArgs } from '../../src-main/accounting/test-support'
import { type InProcessLedger, openLedgerInProcess } from '../../src-main/ledger/store'
import type { LpRow } from '../../src-main/lps/procedures'
import { ledgerDestinationLookup } from '../../src-main/lps/service'
import { createDestinationResolver } from '../../src-main/payouts/destinations/resolver'
import { createPayoutRunner } from '../../src-main/payouts/runner'
import { aesGcmSecretBox } from '../../src-main/secrets/file-key'
import { openSecretStore, SecretSlots } from '../../src-main/secrets/secret-store'
import { NwcClient } from '../../src-main/wallet/nwc-client'
import { memoryLogger } from '../../src-shared/log'
import { LightningNetwork, type SimWallet } from '../support/lightning'
import { type RelayHandle, startRelay } from '../support/relay'
import { startWalletService, type WalletServiceFixture } from '../support/wallet-service'

const T0 = Date.UTC(2026, 2, 2, 18, 0, 0)
let dir: string
let relay: RelayHandle
let svc: WalletServiceFixture
let store: InProcessLedger
let http: Server
const net = new LightningNetwork()
let ana: SimWallet // Lightning address
let beto: SimWallet // own NWC
let carla: SimWallet // keysend node

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lp-payouts-'))
  relay = await startRelay()
  svc = await startWalletService({ relayUrls: [relay.url], network: net })
  ana = net.createWallet('ana')
  beto = net.createWallet('beto')
  carla = net.createWallet('carla')
  http = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x')
    const host = req.headers.host ?? ''
    const metadata = JSON.stringify([
      ['text/plain', 'Ana stacks sats'],
      ['text/identifier', `ana@${host}`],
    ])
    res.setHeader('content-type', 'application/json')
    if (url.pathname === '/.well-known/lnurlp/ana') {
      res.end(
        JSON.stringify({
          tag: 'payRequest',
          callback: `http://${host}/cb/ana`,
          minSendable: 1000,
          maxSendable: 100_000_000_000,
          metadata,
        }),
      )
      return
    }
    if (url.pathname === '/cb/ana') {
      const tx = ana.makeInvoice(BigInt(url.searchParams.get('amount') ?? '0'), {
        descriptionHash: bytesToHex(sha256(new TextEncoder().encode(metadata))),
      })
      res.end(JSON.stringify({ pr: tx.invoice, routes: [] }))
      return
    }
    res.statusCode = 404
    res.end(JSON.stringify({ status: 'ERROR', reason: 'not found' }))
  })
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r))
  store = await openLedgerInProcess({ dir: join(dir, 'ledger'), logger: memoryLogger('ledger'), autoSnapshot: false })
}, 30_000)
afterAll(async () => {
  await store?.close()
  await svc?.close()
  await relay?.stop()
  await new Promise<void>((r) => http.close(() => r()))
  rmSync(dir, { recursive: true, force: true })
})

const npub = (n: number) => {
  const pk = getPublicKey(new Uint8Array(32).fill(n))
  return { npub: npubEncode(pk), pubkey: pk }
}
const POLICY = { thresholdMsat: '1000', schedule: 'threshold', maxFeePpm: 10_000, maxFeeBaseMsat: '10000' }

describe('LPs paid at their own destinations', () => {
  it('pays a Lightning address, an own-NWC and a keysend LP — the deactivated one too', async () => {
    const port = (http.address() as AddressInfo).port
    const secrets = await openSecretStore({
      dir: join(dir, 'secrets'),
      box: aesGcmSecretBox(new Uint8Array(32).fill(8)),
      log: memoryLogger(),
    })
    const betoConn = await svc.addConnection({ wallet: beto, methods: ['make_invoice'] })
    await secrets.put(SecretSlots.lpNwc('beto'), betoConn.uri)

    await store.call('accounting.upsertMachine', { id: 'atm-1', name: 'Lobby', currency: 'GTQ', atMs: T0 })
    await store.call('accounting.setConfig', readmeConfigArgs(T0))
    const register = (id: string, n: number, destination: unknown) =>
      store.call<LpRow>('lps.register', {
        id,
        ...npub(n),
        name: id,
        currency: 'GTQ',
        mode: 'flow',
        destination,
        payout: POLICY,
        atMs: T0,
      })
    await register('ana', 1, { kind: 'lightning_address', address: `ana@127.0.0.1:${port}` })
    await register('beto', 2, {
      kind: 'nwc',
      secretSlot: SecretSlots.lpNwc('beto'),
      walletPubkey: betoConn.walletPubkey,
    })
    await register('carla', 3, { kind: 'keysend', nodeId: carla.nodePubkey })
    let k = 0
    for (const [lpId, amountMinor] of [
      ['ana', '100000'],
      ['beto', '60000'],
      ['carla', '40000'],
    ] as const) {
      const id = `d-${++k}`
      await store.call('lps.recordDeposit', { id, lpId, amountMinor, atMs: T0 })
      await store.call('lps.confirmDeposit', { depositId: id, atMs: T0 })
    }
    await store.call('accounting.bookSettlement', {
      machineId: 'atm-1',
      direction: 'cash_out',
      paymentHash: '11'.repeat(32),
      wireMsat: '266800123',
      fiatMinor: '200000',
      currency: 'GTQ',
      atmEventId: 'ev-1',
      createdAt: Math.floor(T0 / 1000),
      bookedAtMs: T0 + 1000,
    })
    const before = new Map((await store.call<LpRow[]>('lps.list', {})).map((l) => [l.id, BigInt(l.accruedMsat)]))
    for (const v of before.values()) expect(v).toBeGreaterThan(0n)
    const deactivated = await store.call<LpRow>('lps.deactivate', {
      lpId: 'ana',
      reason: 'moving away',
      atMs: T0 + 2000,
    })
    expect(deactivated.active).toBe(false)

    const op = await svc.fundedConnection('operator', 1_000_000_000n)
    const nwc = new NwcClient({ connection: op.uri, replyTimeoutMs: 10_000 })
    const log = memoryLogger('payouts')
    onTestFailed(() => {
      console.log(
        log.records
          .map(
            (r) =>
              `${r.level} ${r.msg} ${Object.entries(r.fields)
                .map(([a, b]) => `${a}=${String(b)}`)
                .join(' ')}`,
          )
          .join('\n'),
      )
    })
    const runner = createPayoutRunner({
      ledger: store,
      nwcClient: nwc,
      connectionId: 'operator',
      clock: { nowMs: () => Date.now() },
      log,
      destinations: createDestinationResolver({
        lookup: ledgerDestinationLookup(() => store),
        // The app passes its lazy opener (lazySecretStore); the store is opened at first use.
        secrets: () => Promise.resolve(secrets),
        logger: log.child('destinations'),
      }),
    })
    try {
      const report = await runner.runCycle()
      expect(report.paid).toBe(3)
    } finally {
      await runner.stop()
      nwc.close()
    }
    for (const [lpId, w] of [
      ['ana', ana],
      ['beto', beto],
      ['carla', carla],
    ] as const) {
      const accrued = before.get(lpId)!
      expect(w.balanceMsat, lpId).toBe(accrued - (accrued % 1000n))
    }
    // What stays accrued is each LP's sub-sat remainder, still shown (and owed) in the LP list.
    const after = new Map(
      (await store.call<LpRow[]>('lps.list', { includeInactive: true })).map((l) => [l.id, BigInt(l.accruedMsat)]),
    )
    for (const [lpId, accrued] of before) expect(after.get(lpId), lpId).toBe(accrued % 1000n)
    expect(betoConn.handled.map((h) => h.method)).toEqual(['make_invoice'])
    // The deactivated LP's statement shows what it earned and what was paid out to it.
    const st = await store.call<{ earnedMsat: string; paidOutMsat: string; closingAccruedMsat: string }>(
      'lps.statement',
      { lpId: 'ana', fromMs: T0, toMs: Date.now() + 60_000 },
    )
    const anaAccrued = before.get('ana')!
    expect(st).toEqual(
      expect.objectContaining({
        earnedMsat: String(anaAccrued),
        paidOutMsat: String(anaAccrued - (anaAccrued % 1000n)),
        closingAccruedMsat: String(anaAccrued % 1000n),
      }),
    )
  }, 60_000)
})
