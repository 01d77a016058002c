// Real NIP-47 wallet service for tests and demo mode: @getalby/sdk 8.0.3 `NWCWalletService` (the SDK's own request loop,
// decryption, response signing and publishing) backed by the simulated Lightning ledger in ./lightning.ts.
// Each connection gets its own wallet-service key and client secret (NIP-47: the service pubkey should be unique
// per connection), its own method permissions, and its own kind 13194 info event.
//
// The SDK lacks three things a spec-following wallet has, so this fixture adds them around it, never inside it:
// - it does not check a request's `expiration` tag: requests that arrive expired are ignored here (NIP-47 says the
//   service should ignore them), by wrapping the subscription callback the SDK hands to its relay pool;
// - it has no notification publisher: `sendNotification()` signs and publishes kind 23197 (and 23196 when the
//   connection offers NIP-04) itself, and `autoNotify` does so whenever the simulated ledger settles;
// - it always advertises `nip04 nip44_v2`: `infoEncryption` publishes a different info event instead.
// Its pure-JS signing, signature checks and per-message NIP-44 key derivation are swapped for the console's WASM
// crypto and one kept key per connection (`useFastCrypto`): same events on the wire, less CPU per request.
// Fault injection (error codes, hang, delay, dropped, duplicated or garbage responses, wrong or missing
// preimages, non-integer amounts) hooks the same two seams: the handler, and the pool's publish of the response.
// Faults are correlated with the request that caused them through AsyncLocalStorage, not by guessing order.
//
// Usage:
//   const relay = await startRelay()                                   // test/support/relay.ts
//   const net = new LightningNetwork()                                 // ./lightning.ts
//   const svc = await startWalletService({ relayUrls: [relay.url], network: net })
//   const op = await svc.fundedConnection('operator', 5_000_000n)      // new wallet + full-permission connection
//   const atm = await svc.addConnection({ wallet: op.wallet, methods: RECEIVE_ONLY_METHODS }) // ATM pairing URI
//   new NwcClient({ connection: op.uri })                              // op.uri / atm.uri are nostr+walletconnect://
//   op.inject({ kind: 'error', code: 'RATE_LIMITED' }, { method: 'pay_invoice' })
//   await svc.close(); await relay.stop()
// addConnection/fundedConnection resolve only once the service's subscription is live (waitReady), so the first
// request is never lost; after a relay restart call `conn.waitReady()` again.

import { AsyncLocalStorage } from 'node:async_hooks'
import { randomBytes } from 'node:crypto'
import type { NWCWalletService as SdkWalletService } from '@getalby/sdk/nwc'
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js'
import { decode as decodeBolt11 } from 'light-bolt11-decoder'
import * as nip04 from 'nostr-tools/nip04'
import * as nip44 from 'nostr-tools/nip44'
import { finalizeEvent, generateSecretKey, getPublicKey, type NostrEvent } from 'nostr-tools/pure'
import { nwcCrypto, nwcCryptoReady } from '../wallet/nwc-crypto'
import { type LightningNetwork, SimPaymentError, type SimTransaction, type SimWallet } from './lightning'

export type FixtureMethod =
  | 'get_info'
  | 'get_balance'
  | 'make_invoice'
  | 'lookup_invoice'
  | 'pay_invoice'
  | 'pay_keysend'
  | 'list_transactions'

export const ALL_METHODS: FixtureMethod[] = [
  'get_info',
  'get_balance',
  'make_invoice',
  'lookup_invoice',
  'pay_invoice',
  'pay_keysend',
  'list_transactions',
]
/** What an ATM gets at pairing (docs/protocol.md): create invoices and look them up, nothing else. */
export const RECEIVE_ONLY_METHODS: FixtureMethod[] = ['make_invoice', 'lookup_invoice']

export type NotificationType = 'payment_received' | 'payment_sent'

export type Fault =
  /** Answer with this NIP-47 error code instead of doing anything. */
  | { kind: 'error'; code: string; message?: string }
  /** Never answer (the handler waits until the fixture closes): a wallet that hangs past any timeout. */
  | { kind: 'hang' }
  /** Do the work, then answer after `ms`. */
  | { kind: 'delay'; ms: number }
  /** Do the work (a payment really happens) but never publish the response. */
  | { kind: 'drop' }
  /** Publish the response, then a second, different response event for the same request. */
  | { kind: 'duplicate'; second?: { result?: unknown; error?: { code: string; message: string } } }
  /** First publish a response signed by the wallet but encrypted to a stranger, then the real one. */
  | { kind: 'garbage_first' }
  /** Pay for real but answer with a random preimage. */
  | { kind: 'wrong_preimage' }
  /** Pay for real but answer without a preimage. */
  | { kind: 'missing_preimage' }
  /** Answer with this value in place of the amount (default 1.5). */
  | { kind: 'bad_amount'; value?: unknown }

export interface ConnectionOptions {
  wallet: SimWallet
  /** Methods this connection may use; others are answered RESTRICTED. Default: all. */
  methods?: FixtureMethod[]
  notifications?: NotificationType[]
  /**
   * The `encryption` tag of the info event: 'both' (the SDK's own info event, "nip04 nip44_v2"), 'nip04' only,
   * 'nip44_v2' only, or 'absent' (no tag, which NIP-47 reads as NIP-04). Default 'both'.
   */
  infoEncryption?: 'both' | 'nip04' | 'nip44_v2' | 'absent'
  /** Publish no info event at all. */
  noInfoEvent?: boolean
  /** Spending cap for pay_* on this connection; beyond it the answer is QUOTA_EXCEEDED. */
  budgetMsat?: bigint
  /** Relays written into the URI (default: the service's relays). */
  uriRelays?: string[]
  lud16?: string
  /** Publish payment_received / payment_sent notifications whenever the ledger settles for this wallet. */
  autoNotify?: boolean
}

export interface HandledRequest {
  method: FixtureMethod | string
  requestId: string
  fault: Fault['kind'] | null
}

export interface WalletConnection {
  readonly uri: string
  readonly walletPubkey: string
  readonly clientPubkey: string
  readonly clientSecretHex: string
  readonly wallet: SimWallet
  readonly methods: FixtureMethod[]
  /** Every request the service handled, in arrival order. */
  readonly handled: HandledRequest[]
  /** Ids of requests that arrived after their `expiration` and were ignored. */
  readonly ignoredExpired: string[]
  /** Ids of requests whose response was dropped by a `drop` fault. */
  readonly dropped: string[]
  /** Total paid through this connection (for budgets). */
  spentMsat: bigint
  /** Queue a fault for the next request (of `method`, when given). Faults are used once, in order. */
  inject(fault: Fault, opts?: { method?: FixtureMethod }): void
  /** Publish a notification for a transaction of this wallet. */
  sendNotification(type: NotificationType, tx: SimTransaction): Promise<void>
  /** Resolves once the service's subscription for this connection is live on the relay. */
  waitReady(timeoutMs?: number): Promise<void>
  /** Resolves when `handled` has at least `count` entries. */
  waitForHandled(count: number, timeoutMs?: number): Promise<void>
  close(): void
}

export interface WalletServiceFixture {
  readonly relayUrls: string[]
  readonly service: SdkWalletService
  readonly network: LightningNetwork
  /** Seconds clock the service uses to judge `expiration`; tests move it to make requests look expired. */
  nowSec: () => number
  addConnection(opts: ConnectionOptions): Promise<WalletConnection>
  /** Convenience: a new funded wallet and a full-permission connection to it. */
  fundedConnection(
    name: string,
    balanceMsat: bigint,
    opts?: Omit<ConnectionOptions, 'wallet'>,
  ): Promise<WalletConnection>
  close(): Promise<void>
}

interface RequestContext {
  conn: ConnectionState
  request: NostrEvent
  method: string | null
  fault: Fault | null
}

interface ConnectionState extends WalletConnection {
  walletSecretHex: string
  faults: Array<{ fault: Fault; method: FixtureMethod | undefined }>
  readyFlag: boolean
  notificationTypes: NotificationType[]
  infoEncryption: NonNullable<ConnectionOptions['infoEncryption']>
  budgetMsat: bigint | null
  autoNotify: boolean
  closed: boolean
  unsubscribe: () => void
}

type SdkModule = typeof import('@getalby/sdk/nwc')

async function loadSdk(): Promise<SdkModule> {
  // The SDK's bundled nostr-tools grabs WebSocket at import time; Node 20 has no global one (Node 22+ does).
  const g = globalThis as { WebSocket?: unknown }
  if (g.WebSocket === undefined) g.WebSocket = (await import('ws')).default
  return import('@getalby/sdk/nwc')
}

async function until(cond: () => boolean, timeoutMs: number, what: string, poke?: () => void): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    poke?.()
    await new Promise((r) => setTimeout(r, 20))
  }
}

function txToWire(tx: SimTransaction): Record<string, unknown> {
  return {
    type: tx.type,
    state: tx.state,
    invoice: tx.invoice ?? undefined,
    description: tx.description ?? undefined,
    description_hash: tx.descriptionHash ?? undefined,
    // A receiver learns nothing new from its own preimage, but a wallet only reports it once the payment settled.
    preimage: tx.state === 'settled' || tx.type === 'outgoing' ? (tx.preimage ?? undefined) : undefined,
    payment_hash: tx.paymentHash,
    amount: Number(tx.amountMsat),
    fees_paid: Number(tx.feesPaidMsat),
    created_at: tx.createdAtSec,
    expires_at: tx.expiresAtSec ?? undefined,
    settled_at: tx.settledAtSec ?? undefined,
  }
}

type HandlerAnswer = { result: unknown; error: { code: string; message: string } | undefined }

/** Starts one NWCWalletService on `relayUrls`, backed by `network`. */
export async function startWalletService(opts: {
  relayUrls: string[]
  network: LightningNetwork
  nowSec?: () => number
}): Promise<WalletServiceFixture> {
  const sdk = await loadSdk()
  const service = new sdk.NWCWalletService({ relayUrls: opts.relayUrls })
  await nwcCryptoReady
  useFastCrypto(service)
  const als = new AsyncLocalStorage<RequestContext>()
  const conns = new Map<string, ConnectionState>() // by client pubkey
  let closedResolve!: () => void
  const closedPromise = new Promise<void>((r) => {
    closedResolve = r
  })

  const fixture: WalletServiceFixture = {
    relayUrls: opts.relayUrls,
    service,
    network: opts.network,
    nowSec: opts.nowSec ?? (() => Math.floor(Date.now() / 1000)),
    addConnection,
    async fundedConnection(name, balanceMsat, o = {}) {
      return addConnection({ ...o, wallet: opts.network.createWallet(name, balanceMsat) })
    },
    async close() {
      closedResolve()
      for (const c of conns.values()) c.close()
      unsubscribeLedger()
      service.close()
    },
  }

  // --- seam 1: the subscription callback (expiration, probes, request context) ------------------------------
  const pool = service.pool
  const origSubscribe = pool.subscribe.bind(pool)
  pool.subscribe = (relays, filter, params) =>
    origSubscribe(relays, filter, {
      ...params,
      onevent: (ev: NostrEvent) => {
        const conn = conns.get(ev.pubkey)
        if (!conn) return params.onevent?.(ev)
        if (ev.tags.some((t) => t[0] === 'fixture-probe')) {
          conn.readyFlag = true
          return
        }
        const exp = ev.tags.find((t) => t[0] === 'expiration')?.[1]
        if (exp !== undefined && fixture.nowSec() >= Number(exp)) {
          conn.ignoredExpired.push(ev.id)
          return
        }
        als.run({ conn, request: ev, method: null, fault: null }, () => params.onevent?.(ev))
      },
    })

  // --- seam 2: publishing the response (drop, duplicate, garbage) ---------------------------------------------
  const origPublish = pool.publish.bind(pool)
  // The SDK fires `Promise.any(pool.publish(...))` for each response without a catch, so a publish that fails
  // while the relay is down (or the fixture closing) would surface as an unhandled rejection in the test run. A
  // failed publish resolves to its reason instead; the SDK ignores the value either way.
  const soft = (ps: Promise<string>[]) => ps.map((p) => p.catch((e: unknown) => `publish failed: ${String(e)}`))
  pool.publish = (relays, event, params) => soft(faultyPublish(relays, event, params))
  const faultyPublish: typeof origPublish = (relays, event, params) => {
    const ctx = als.getStore()
    if (!ctx || event.kind !== 23195 || !ctx.fault) return origPublish(relays, event, params)
    const fault = ctx.fault
    const publishAll = async (ev: NostrEvent) => Promise.any(origPublish(relays, ev, params))
    if (fault.kind === 'drop') {
      ctx.conn.dropped.push(ctx.request.id)
      return [Promise.resolve('dropped by the fixture')]
    }
    if (fault.kind === 'garbage_first') {
      const stranger = getPublicKey(generateSecretKey())
      const garbage = finalizeEvent(
        {
          kind: 23195,
          created_at: event.created_at,
          tags: event.tags,
          content: nip44.encrypt(
            JSON.stringify({ result_type: ctx.method, result: { balance: 1 } }),
            nip44.getConversationKey(hexToBytes(ctx.conn.walletSecretHex), stranger),
          ),
        },
        hexToBytes(ctx.conn.walletSecretHex),
      )
      return [publishAll(garbage).then(() => publishAll(event))]
    }
    if (fault.kind === 'duplicate') {
      const encryption = ctx.request.tags.find((t) => t[0] === 'encryption')?.[1] === 'nip44_v2' ? 'nip44_v2' : 'nip04'
      const secret = hexToBytes(ctx.conn.walletSecretHex)
      const plain = fault.second
        ? JSON.stringify({ result_type: ctx.method, result: fault.second.result, error: fault.second.error })
        : encryption === 'nip44_v2'
          ? nip44.decrypt(event.content, nip44.getConversationKey(secret, ctx.conn.clientPubkey))
          : nip04.decrypt(secret, ctx.conn.clientPubkey, event.content)
      const content =
        encryption === 'nip44_v2'
          ? nip44.encrypt(plain, nip44.getConversationKey(secret, ctx.conn.clientPubkey))
          : nip04.encrypt(secret, ctx.conn.clientPubkey, plain)
      const second = finalizeEvent({ kind: 23195, created_at: event.created_at + 1, tags: event.tags, content }, secret)
      return [publishAll(event).then(() => publishAll(second))]
    }
    return origPublish(relays, event, params)
  }

  // --- notifications ---------------------------------------------------------------------------------------------
  const publishNotification = async (conn: ConnectionState, type: NotificationType, tx: SimTransaction) => {
    const secret = hexToBytes(conn.walletSecretHex)
    const body = JSON.stringify({ notification_type: type, notification: txToWire(tx) })
    const tags = [['p', conn.clientPubkey]]
    const events = [
      finalizeEvent(
        {
          kind: 23197,
          created_at: fixture.nowSec(),
          tags,
          content: nip44.encrypt(body, nip44.getConversationKey(secret, conn.clientPubkey)),
        },
        secret,
      ),
    ]
    // NIP-47: the NIP-04 kind goes out too only when the service also speaks NIP-04.
    if (conn.infoEncryption !== 'nip44_v2') {
      events.push(
        finalizeEvent(
          { kind: 23196, created_at: fixture.nowSec(), tags, content: nip04.encrypt(secret, conn.clientPubkey, body) },
          secret,
        ),
      )
    }
    for (const ev of events) await Promise.any(origPublish(fixture.relayUrls, ev))
  }

  const unsubscribeLedger = opts.network.onSettled((e) => {
    for (const c of conns.values()) {
      if (!c.autoNotify || c.closed) continue
      if (e.payee === c.wallet && e.incoming) void publishNotification(c, 'payment_received', e.incoming)
      if (e.payer === c.wallet) void publishNotification(c, 'payment_sent', e.outgoing)
    }
  })

  // --- the handler: real ledger operations, with faults ---------------------------------------------------------
  const handle = async (method: FixtureMethod, params: Record<string, unknown>): Promise<HandlerAnswer> => {
    const ctx = als.getStore()
    if (!ctx) return { result: undefined, error: { code: 'INTERNAL', message: 'fixture lost the request context' } }
    const conn = ctx.conn
    ctx.method = method
    const idx = conn.faults.findIndex((f) => f.method === undefined || f.method === method)
    const fault = idx >= 0 ? conn.faults.splice(idx, 1)[0]!.fault : null
    ctx.fault = fault
    conn.handled.push({ method, requestId: ctx.request.id, fault: fault?.kind ?? null })
    if (!conn.methods.includes(method)) {
      return {
        result: undefined,
        error: { code: 'RESTRICTED', message: `${method} is not permitted on this connection` },
      }
    }
    if (fault?.kind === 'error') {
      return { result: undefined, error: { code: fault.code, message: fault.message ?? `injected ${fault.code}` } }
    }
    if (fault?.kind === 'hang') {
      await closedPromise
      return { result: undefined, error: { code: 'INTERNAL', message: 'fixture closed' } }
    }
    let answer: HandlerAnswer
    try {
      answer = { result: execute(conn, method, params), error: undefined }
    } catch (e) {
      if (e instanceof SimPaymentError) answer = { result: undefined, error: { code: e.code, message: e.message } }
      else if (e instanceof HandlerError) answer = { result: undefined, error: { code: e.code, message: e.message } }
      else throw e
    }
    if (fault?.kind === 'delay') await new Promise((r) => setTimeout(r, fault.ms))
    const r = answer.result as Record<string, unknown> | undefined
    if (r && fault?.kind === 'wrong_preimage') r.preimage = randomBytes(32).toString('hex')
    if (r && fault?.kind === 'missing_preimage') delete r.preimage
    if (r && fault?.kind === 'bad_amount') {
      if ('balance' in r) r.balance = fault.value ?? 1.5
      else r.amount = fault.value ?? 1.5
    }
    return answer
  }

  const handler = {
    getInfo: () => handle('get_info', {}),
    getBalance: () => handle('get_balance', {}),
    makeInvoice: (p: object) => handle('make_invoice', p as Record<string, unknown>),
    lookupInvoice: (p: object) => handle('lookup_invoice', p as Record<string, unknown>),
    payInvoice: (p: object) => handle('pay_invoice', p as Record<string, unknown>),
    payKeysend: (p: object) => handle('pay_keysend', p as Record<string, unknown>),
    listTransactions: (p: object) => handle('list_transactions', p as Record<string, unknown>),
  } as unknown as Parameters<SdkWalletService['subscribe']>[1]

  async function addConnection(o: ConnectionOptions): Promise<WalletConnection> {
    const walletSecret = generateSecretKey()
    const clientSecret = generateSecretKey()
    const walletSecretHex = bytesToHex(walletSecret)
    const clientSecretHex = bytesToHex(clientSecret)
    const walletPubkey = getPublicKey(walletSecret)
    const clientPubkey = getPublicKey(clientSecret)
    const methods = o.methods ?? ALL_METHODS
    const notificationTypes = o.notifications ?? ['payment_received', 'payment_sent']
    const infoEncryption = o.infoEncryption ?? 'both'
    const params = new URLSearchParams()
    for (const r of o.uriRelays ?? opts.relayUrls) params.append('relay', r)
    params.append('secret', clientSecretHex)
    if (o.lud16) params.append('lud16', o.lud16)
    const uri = `nostr+walletconnect://${walletPubkey}?${params.toString()}`

    const conn: ConnectionState = {
      uri,
      walletPubkey,
      clientPubkey,
      clientSecretHex,
      walletSecretHex,
      wallet: o.wallet,
      methods,
      handled: [],
      ignoredExpired: [],
      dropped: [],
      spentMsat: 0n,
      faults: [],
      readyFlag: false,
      notificationTypes,
      infoEncryption,
      budgetMsat: o.budgetMsat ?? null,
      autoNotify: o.autoNotify ?? false,
      closed: false,
      unsubscribe: () => undefined,
      inject(fault, io = {}) {
        conn.faults.push({ fault, method: io.method })
      },
      sendNotification: (type, tx) => publishNotification(conn, type, tx),
      async waitReady(timeoutMs = 10_000) {
        conn.readyFlag = false
        // Poll with a probe request until the service's subscription has seen one: requests are ephemeral, so a
        // request published before the service's REQ is live would be lost.
        await until(
          () => conn.readyFlag,
          timeoutMs,
          'the wallet service subscription',
          () => {
            const probe = finalizeEvent(
              {
                kind: 23194,
                created_at: fixture.nowSec(),
                tags: [
                  ['p', walletPubkey],
                  ['fixture-probe', randomBytes(8).toString('hex')],
                ],
                content: '',
              },
              clientSecret,
            )
            void Promise.allSettled(origPublish(opts.relayUrls, probe))
          },
        )
      },
      waitForHandled: (count, timeoutMs = 10_000) =>
        until(() => conn.handled.length >= count, timeoutMs, `${count} handled requests`),
      close() {
        conn.closed = true
        conn.unsubscribe()
        conns.delete(clientPubkey)
      },
    }
    conns.set(clientPubkey, conn)

    if (!o.noInfoEvent) {
      if (infoEncryption === 'both') {
        await service.publishWalletServiceInfoEvent(walletSecretHex, methods, notificationTypes)
      } else {
        const tags = [['notifications', notificationTypes.join(' ')]]
        if (infoEncryption !== 'absent') tags.unshift(['encryption', infoEncryption])
        const info = finalizeEvent(
          { kind: 13194, created_at: fixture.nowSec(), tags, content: [...methods, 'notifications'].join(' ') },
          walletSecret,
        )
        await Promise.any(origPublish(opts.relayUrls, info))
      }
    }
    conn.unsubscribe = await service.subscribe(new sdk.NWCWalletServiceKeyPair(walletSecretHex, clientPubkey), handler)
    await conn.waitReady()
    return conn
  }

  function execute(conn: ConnectionState, method: FixtureMethod, p: Record<string, unknown>): unknown {
    const w = conn.wallet
    const amountOf = (v: unknown, field: string): bigint => {
      if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0) {
        throw new HandlerError('OTHER', `${field} must be a positive integer msat amount`)
      }
      return BigInt(v)
    }
    const checkBudget = (amountMsat: bigint) => {
      if (conn.budgetMsat !== null && conn.spentMsat + amountMsat > conn.budgetMsat) {
        throw new HandlerError('QUOTA_EXCEEDED', 'connection budget exceeded')
      }
    }
    switch (method) {
      case 'get_info':
        return {
          alias: w.name,
          color: '#f7931a',
          pubkey: w.nodePubkey,
          network: opts.network.network,
          block_height: 800_000,
          block_hash: '00'.repeat(32),
          methods: conn.methods,
          notifications: conn.notificationTypes,
        }
      case 'get_balance':
        return { balance: Number(w.balanceMsat) }
      case 'make_invoice': {
        const tx = w.makeInvoice(amountOf(p.amount, 'amount'), {
          ...(typeof p.description === 'string' ? { description: p.description } : {}),
          ...(typeof p.description_hash === 'string' ? { descriptionHash: p.description_hash } : {}),
          ...(typeof p.expiry === 'number' ? { expirySec: p.expiry } : {}),
        })
        return txToWire(tx)
      }
      case 'lookup_invoice': {
        let hash = typeof p.payment_hash === 'string' ? p.payment_hash : null
        if (hash === null && typeof p.invoice === 'string') {
          const found = w.transactions.find((t) => t.invoice === p.invoice)
          hash = found?.paymentHash ?? null
        }
        const tx = hash === null ? undefined : w.lookup(hash)
        if (!tx) throw new HandlerError('NOT_FOUND', 'invoice not found')
        return txToWire(tx)
      }
      case 'pay_invoice': {
        if (typeof p.invoice !== 'string') throw new HandlerError('OTHER', 'invoice missing')
        const explicit = p.amount === undefined ? undefined : amountOf(p.amount, 'amount')
        // The budget is checked on the invoice amount before paying, as Alby Hub does.
        const peek = explicit ?? invoiceAmount(p.invoice)
        if (peek !== null) checkBudget(peek)
        const r = w.payInvoice(p.invoice, explicit === undefined ? {} : { amountMsat: explicit })
        conn.spentMsat += r.amountMsat + r.feesPaidMsat
        return { preimage: r.preimage, fees_paid: Number(r.feesPaidMsat) }
      }
      case 'pay_keysend': {
        const amountMsat = amountOf(p.amount, 'amount')
        if (typeof p.pubkey !== 'string') throw new HandlerError('OTHER', 'pubkey missing')
        checkBudget(amountMsat)
        const r = w.payKeysend(p.pubkey, amountMsat, typeof p.preimage === 'string' ? p.preimage : undefined)
        conn.spentMsat += r.amountMsat + r.feesPaidMsat
        return { preimage: r.preimage, fees_paid: Number(r.feesPaidMsat) }
      }
      case 'list_transactions': {
        let txs = [...w.transactions].reverse() // newest first
        if (p.type === 'incoming' || p.type === 'outgoing') txs = txs.filter((t) => t.type === p.type)
        if (p.unpaid !== true) txs = txs.filter((t) => t.state === 'settled')
        if (typeof p.from === 'number') txs = txs.filter((t) => t.createdAtSec >= (p.from as number))
        if (typeof p.until === 'number') txs = txs.filter((t) => t.createdAtSec <= (p.until as number))
        const offset = typeof p.offset === 'number' ? p.offset : 0
        const limit = typeof p.limit === 'number' ? p.limit : 20
        return { transactions: txs.slice(offset, offset + limit).map(txToWire) }
      }
    }
  }

  return fixture
}

/**
 * The SDK's request loop signs every response and its relay connection checks every request's signature with
 * pure-JS secp256k1, and it derives the NIP-44 conversation key (an ECDH) afresh for each request and each
 * response. This simulated wallet is test and demo equipment that answers the console's own requests, so it is
 * made as cheap as a real wallet would be: the console's WASM signer and verifier (src-main/wallet/nwc-crypto.ts,
 * which falls back to the pure implementation itself) and one conversation key per connection, kept. The bytes
 * on the wire are the same NIP-47 events; only the CPU per request changes. The three methods replaced are the
 * SDK's own instance methods (`signEvent`, `encrypt`, `decrypt`) and the relay's `verifyEvent`; NIP-04 stays
 * with the SDK.
 */
function useFastCrypto(service: SdkWalletService): void {
  const crypto = nwcCrypto()
  type KeyPair = { walletSecret: string; clientPubkey: string }
  type Template = { kind: number; created_at: number; tags: string[][]; content: string }
  const s = service as unknown as {
    signEvent(t: Template, secretHex: string): Promise<NostrEvent>
    encrypt(kp: KeyPair, content: string, encryption: string): Promise<string>
    decrypt(kp: KeyPair, content: string, encryption: string): Promise<string>
  }
  const pool = service.pool as unknown as {
    ensureRelay(url: string, params?: unknown): Promise<{ verifyEvent: (ev: NostrEvent) => boolean }>
  }
  const keys = new Map<string, Uint8Array>()
  const conversationKey = (kp: KeyPair): Uint8Array => {
    const id = `${kp.walletSecret}:${kp.clientPubkey}`
    let key = keys.get(id)
    if (!key) {
      key = nip44.getConversationKey(hexToBytes(kp.walletSecret), kp.clientPubkey)
      keys.set(id, key)
    }
    return key
  }
  const sdkEncrypt = s.encrypt.bind(service)
  const sdkDecrypt = s.decrypt.bind(service)
  s.signEvent = async (t, secretHex) => crypto.sign(t, hexToBytes(secretHex))
  s.encrypt = async (kp, content, encryption) =>
    encryption === 'nip04' ? sdkEncrypt(kp, content, encryption) : nip44.encrypt(content, conversationKey(kp))
  s.decrypt = async (kp, content, encryption) =>
    encryption === 'nip04' ? sdkDecrypt(kp, content, encryption) : nip44.decrypt(content, conversationKey(kp))
  const sdkEnsureRelay = pool.ensureRelay.bind(service.pool)
  pool.ensureRelay = async (url, params) => {
    const relay = await sdkEnsureRelay(url, params)
    relay.verifyEvent = (ev) => crypto.verify(ev)
    return relay
  }
}

class HandlerError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message)
  }
}

function invoiceAmount(invoice: string): bigint | null {
  try {
    const a = decodeBolt11(invoice).sections.find((x) => x.name === 'amount')
    return a ? BigInt(String(a.value)) : null
  } catch {
    return null
  }
}
