// NIP-47 (Nostr Wallet Connect) protocol core, pure: no I/O. Follows the nips `47.md` text as summarised in
// NIP-47: connection URIs, the kind 13194 info event and encryption negotiation
// (NIP-44 v2 preferred, NIP-04 only when the wallet's info event lacks `nip44_v2`), kind 23194 requests with
// `p`, `encryption` and `expiration` tags, kind 23195 responses matched by their `e` tag, kind 23196/23197
// notifications, and the NIP-47 error codes mapped to typed errors that say whether a retry can help.
//
// Amounts are bigint msat in this API. On the wire NIP-47 uses JSON numbers, so every amount is checked to be a
// non-negative safe integer when it leaves (request) and when it arrives (response); anything else is a
// BAD_RESPONSE, because a rounded or fractional amount must never reach the ledger.

import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js'
import { decode as decodeBolt11 } from 'light-bolt11-decoder'
import * as nip04 from 'nostr-tools/nip04'
import * as nip44 from 'nostr-tools/nip44'
import { finalizeEvent, getPublicKey, type NostrEvent, verifyEvent } from 'nostr-tools/pure'

export type { NostrEvent }

export const NIP47_KIND = {
  info: 13194,
  request: 23194,
  response: 23195,
  notificationNip04: 23196,
  notificationNip44: 23197,
} as const

export type Nip47Encryption = 'nip44_v2' | 'nip04'

export const NIP47_METHODS = [
  'get_info',
  'get_balance',
  'make_invoice',
  'lookup_invoice',
  'pay_invoice',
  'pay_keysend',
  'list_transactions',
] as const
export type Nip47Method = (typeof NIP47_METHODS)[number]

export type Nip47NotificationType = 'payment_received' | 'payment_sent' | 'hold_invoice_accepted'

// ---------------------------------------------------------------------------------------------------------------
// Errors

/** Error codes a wallet service may answer with (NIP-47 "Error codes"). */
export const NIP47_WALLET_ERROR_CODES = [
  'RATE_LIMITED',
  'NOT_IMPLEMENTED',
  'INSUFFICIENT_BALANCE',
  'QUOTA_EXCEEDED',
  'RESTRICTED',
  'UNAUTHORIZED',
  'INTERNAL',
  'UNSUPPORTED_ENCRYPTION',
  'PAYMENT_FAILED',
  'NOT_FOUND',
  'OTHER',
] as const
export type Nip47WalletErrorCode = (typeof NIP47_WALLET_ERROR_CODES)[number]

/** Errors raised on our side of the wire: no answer in time, no relay took the request, or an answer we refuse. */
export const NWC_LOCAL_ERROR_CODES = ['TIMEOUT', 'PUBLISH_FAILED', 'BAD_RESPONSE', 'EXPIRED'] as const
export type NwcLocalErrorCode = (typeof NWC_LOCAL_ERROR_CODES)[number]
export type NwcErrorCode = Nip47WalletErrorCode | NwcLocalErrorCode

/**
 * What the caller knows about whether the wallet carried out the request:
 * - `rejected`: the wallet answered with an error, so by its own word it did not do it;
 * - `not_sent`: the request never left (expired before sending, or every relay refused it);
 * - `unknown`: we cannot tell (no answer, or an answer we could not trust). A payment in this state must be
 *   reconciled with lookup_invoice before any new request is minted (src-main/payouts/README.md).
 */
export type NwcOutcome = 'rejected' | 'not_sent' | 'unknown'

export interface NwcErrorPolicy {
  /** A later attempt (after back-off, and after reconciliation when the outcome is unknown) may succeed unchanged. */
  retryable: boolean
  why: string
}

/**
 * The retry policy per code. "Retryable" means: trying again later, without the operator changing anything, can
 * succeed. Codes that need a human (top up, raise a budget, fix permissions or configuration) are not retryable,
 * so the payout state machine parks them as `failed_final` and puts them on the worklist instead of looping.
 */
export const NWC_ERROR_POLICY: Readonly<Record<NwcErrorCode, NwcErrorPolicy>> = {
  RATE_LIMITED: { retryable: true, why: 'the wallet asked us to slow down; the same request succeeds after back-off' },
  NOT_IMPLEMENTED: { retryable: false, why: 'the wallet does not support this method; retrying cannot change that' },
  INSUFFICIENT_BALANCE: { retryable: false, why: 'the operator must top up the wallet first' },
  QUOTA_EXCEEDED: { retryable: false, why: 'the connection budget is spent; the operator must raise it or wait' },
  RESTRICTED: { retryable: false, why: 'this connection is not permitted to use the method' },
  UNAUTHORIZED: { retryable: false, why: 'the wallet does not know this connection (revoked or wrong secret)' },
  INTERNAL: { retryable: true, why: 'a transient failure inside the wallet; it did not carry out the request' },
  UNSUPPORTED_ENCRYPTION: { retryable: false, why: 'no shared encryption scheme; configuration must change' },
  PAYMENT_FAILED: { retryable: true, why: 'routing failed; the invoice stays payable and a later attempt can route' },
  NOT_FOUND: { retryable: false, why: 'the wallet has no such invoice; asking again gives the same answer' },
  OTHER: { retryable: false, why: 'an unclassified wallet error; a human must look before anything is retried' },
  TIMEOUT: { retryable: true, why: 'no answer in time; the outcome is unknown, so reconcile before retrying' },
  PUBLISH_FAILED: { retryable: true, why: 'no relay accepted the request; the same signed event can be re-sent' },
  BAD_RESPONSE: { retryable: false, why: 'the wallet answered something we refuse to trust; a human must look' },
  EXPIRED: { retryable: true, why: 'the signed request expired before it was sent; reconcile, then build a new one' },
}

export function isWalletErrorCode(code: string): code is Nip47WalletErrorCode {
  return (NIP47_WALLET_ERROR_CODES as readonly string[]).includes(code)
}

/** The one error type every NWC failure is reported as. */
export class NwcError extends Error {
  readonly retryable: boolean
  constructor(
    readonly code: NwcErrorCode,
    message: string,
    readonly outcome: NwcOutcome,
    readonly details: {
      method?: Nip47Method | undefined
      requestId?: string | undefined
      /** The code exactly as the wallet sent it (differs from `code` when an unknown code was mapped to OTHER). */
      walletCode?: string | undefined
    } = {},
  ) {
    super(`${code}: ${message}`)
    this.name = 'NwcError'
    this.retryable = NWC_ERROR_POLICY[code].retryable
  }
}

/** Maps a wallet's `{code, message}` error object to an NwcError; unknown codes become OTHER (raw code kept). */
export function walletErrorToNwcError(
  err: { code: string; message: string },
  ctx: { method?: Nip47Method; requestId?: string } = {},
): NwcError {
  const code: Nip47WalletErrorCode = isWalletErrorCode(err.code) ? err.code : 'OTHER'
  return new NwcError(code, err.message || '(no message)', 'rejected', { ...ctx, walletCode: err.code })
}

/** A malformed connection URI; `part` names what is wrong. */
export class NwcUriError extends Error {
  constructor(
    readonly part: 'uri' | 'pubkey' | 'relay' | 'secret' | 'lud16',
    message: string,
  ) {
    super(`NWC connection URI: ${part}: ${message}`)
    this.name = 'NwcUriError'
  }
}

/** A request parameter out of range; `field` names it. Raised before anything is signed or sent. */
export class NwcParamError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`)
    this.name = 'NwcParamError'
  }
}

/**
 * Checks id and signature from scratch. nostr-tools' verifyEvent trusts a "verified" symbol cached on the object,
 * and an object spread (`{...ev, content: forged}`) copies that symbol, so a tampered copy of a verified event
 * would pass. Copying the seven NIP-01 fields first drops the cache.
 */
export function verifyEventFresh(ev: NostrEvent): boolean {
  const { id, pubkey, created_at, kind, tags, content, sig } = ev
  return verifyEvent({ id, pubkey, created_at, kind, tags, content, sig })
}

/**
 * How requests are signed and answers verified. The default is pure JS (nostr-tools over @noble/curves); the
 * main process passes libsecp256k1 compiled to WASM (src-main/wallet/nwc-crypto.ts), which does the same BIP-340
 * work several times faster. Both sign the same event (id = hash of the serialization) and check the same things.
 */
export interface Nip47Crypto {
  /** Signs a template with the connection secret: pubkey, id and sig filled in. */
  sign(
    template: { kind: number; created_at: number; tags: string[][]; content: string },
    secretKey: Uint8Array,
  ): NostrEvent
  /** Id and signature checked from scratch, never from a flag cached on the object. */
  verify(ev: NostrEvent): boolean
}

export const PURE_NIP47_CRYPTO: Nip47Crypto = {
  sign: (template, secretKey) => finalizeEvent(template, secretKey),
  verify: verifyEventFresh,
}

// ---------------------------------------------------------------------------------------------------------------
// Connection URI

export interface NwcConnection {
  walletPubkey: string
  relays: string[]
  /** The client's pubkey, derived from the secret. */
  clientPubkey: string
  lud16: string | null
  /** The client secret. Not enumerable, so JSON.stringify or a logger that walks fields never prints it. */
  readonly secretKey: Uint8Array
}

const HEX64 = /^[0-9a-f]{64}$/
const SCHEME = /^nostr\+walletconnect:(\/\/)?/i

/** Parses `nostr+walletconnect://<wallet pubkey>?relay=…[&relay=…]&secret=…[&lud16=…]`. Throws NwcUriError. */
export function parseConnectionUri(uri: string): NwcConnection {
  if (typeof uri !== 'string') throw new NwcUriError('uri', 'must be a string')
  const trimmed = uri.trim()
  if (!SCHEME.test(trimmed)) throw new NwcUriError('uri', 'must start with nostr+walletconnect://')
  const rest = trimmed.replace(SCHEME, '')
  const q = rest.indexOf('?')
  const pubkeyRaw = (q < 0 ? rest : rest.slice(0, q)).replace(/\/$/, '')
  const params = new URLSearchParams(q < 0 ? '' : rest.slice(q + 1))
  const walletPubkey = pubkeyRaw.toLowerCase()
  if (!HEX64.test(walletPubkey)) throw new NwcUriError('pubkey', 'wallet pubkey must be 64 hex characters')
  const relays: string[] = []
  for (const raw of params.getAll('relay')) {
    let u: URL
    try {
      u = new URL(raw)
    } catch {
      throw new NwcUriError('relay', `not a URL: ${JSON.stringify(raw)}`)
    }
    if (u.protocol !== 'wss:' && u.protocol !== 'ws:') {
      throw new NwcUriError('relay', `must be ws:// or wss://, got ${JSON.stringify(raw)}`)
    }
    // WHATWG URL adds a '/' to an empty path; relays are conventionally written without it.
    const norm = u.pathname === '/' && !u.search && !u.hash ? u.toString().replace(/\/$/, '') : u.toString()
    if (!relays.includes(norm)) relays.push(norm)
  }
  if (relays.length === 0) throw new NwcUriError('relay', 'at least one relay parameter is required')
  const secretHex = (params.get('secret') ?? '').toLowerCase()
  if (secretHex === '') throw new NwcUriError('secret', 'the secret parameter is required')
  if (!HEX64.test(secretHex)) throw new NwcUriError('secret', 'must be 64 hex characters')
  if (params.getAll('secret').length > 1) throw new NwcUriError('secret', 'given more than once')
  const secretKey = hexToBytes(secretHex)
  let clientPubkey: string
  try {
    clientPubkey = getPublicKey(secretKey)
  } catch {
    throw new NwcUriError('secret', 'not a valid secp256k1 secret key')
  }
  // An empty lud16 parameter is treated as absent (some wallets emit `lud16=`).
  const lud16 = params.get('lud16') || null
  if (lud16 !== null && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(lud16)) {
    throw new NwcUriError('lud16', `not a lightning address: ${JSON.stringify(lud16)}`)
  }
  const conn = { walletPubkey, relays, clientPubkey, lud16 } as NwcConnection
  Object.defineProperty(conn, 'secretKey', { value: secretKey, enumerable: false, writable: false })
  return conn
}

/** Builds a connection URI (the wallet side hands these out; tests and pairing screens use it). */
export function formatConnectionUri(c: {
  walletPubkey: string
  relays: string[]
  secretHex: string
  lud16?: string | null
}): string {
  const p = new URLSearchParams()
  for (const r of c.relays) p.append('relay', r)
  p.append('secret', c.secretHex)
  if (c.lud16) p.append('lud16', c.lud16)
  return `nostr+walletconnect://${c.walletPubkey}?${p.toString()}`
}

// ---------------------------------------------------------------------------------------------------------------
// Info event and encryption negotiation

export interface WalletServiceInfo {
  /** Capabilities from the content (methods, plus `notifications` when supported). */
  capabilities: string[]
  /** Every scheme in the `encryption` tag, or null when the tag is absent (the spec then means NIP-04 only). */
  encryptions: string[] | null
  notifications: string[]
  createdAtSec: number
}

/** Reads a kind 13194 info event. The caller has already checked its author; the signature is checked here. */
export function parseInfoEvent(ev: NostrEvent, walletPubkey: string): WalletServiceInfo {
  if (ev.kind !== NIP47_KIND.info) throw new NwcError('BAD_RESPONSE', `info event has kind ${ev.kind}`, 'unknown')
  if (ev.pubkey !== walletPubkey) throw new NwcError('BAD_RESPONSE', 'info event is not by the wallet', 'unknown')
  if (!verifyEventFresh(ev)) throw new NwcError('BAD_RESPONSE', 'info event signature is invalid', 'unknown')
  const tag = (name: string) => ev.tags.find((t) => t[0] === name)
  const split = (s: string | undefined) => (s ?? '').split(/[\s,]+/).filter(Boolean)
  const enc = tag('encryption')
  return {
    capabilities: split(ev.content),
    encryptions: enc ? split(enc[1]) : null,
    notifications: split(tag('notifications')?.[1]),
    createdAtSec: ev.created_at,
  }
}

/**
 * Picks the encryption for requests. NIP-44 v2 whenever the wallet offers it; NIP-04 when its info event has
 * no `encryption` tag or offers only `nip04`, or when there is no info event at all (a spec-following wallet
 * always publishes one, so its absence means an old wallet). A wallet offering neither gets UNSUPPORTED_ENCRYPTION.
 */
export function chooseEncryption(info: WalletServiceInfo | null): Nip47Encryption {
  if (info === null || info.encryptions === null) return 'nip04'
  if (info.encryptions.includes('nip44_v2')) return 'nip44_v2'
  if (info.encryptions.includes('nip04')) return 'nip04'
  throw new NwcError(
    'UNSUPPORTED_ENCRYPTION',
    `wallet offers only ${info.encryptions.join(' ') || '(nothing)'}`,
    'not_sent',
  )
}

// ---------------------------------------------------------------------------------------------------------------
// Encryption helpers (both directions use the client secret and the wallet pubkey; NIP-44 keys are symmetric)

// The NIP-44 conversation key costs an ECDH; it is fixed per connection, so compute it once. Keyed weakly by the
// connection object, so it goes away with the connection and is never reachable from the object itself.
const conversationKeys = new WeakMap<NwcConnection, Uint8Array>()

function conversationKey(conn: NwcConnection): Uint8Array {
  let k = conversationKeys.get(conn)
  if (!k) {
    k = nip44.getConversationKey(conn.secretKey, conn.walletPubkey)
    conversationKeys.set(conn, k)
  }
  return k
}

export function encryptFor(conn: NwcConnection, encryption: Nip47Encryption, plaintext: string): string {
  if (encryption === 'nip44_v2') return nip44.encrypt(plaintext, conversationKey(conn))
  return nip04.encrypt(conn.secretKey, conn.walletPubkey, plaintext)
}

/** Decrypts wallet traffic; throws on a bad MAC, bad padding or the wrong scheme. */
export function decryptFrom(conn: NwcConnection, encryption: Nip47Encryption, payload: string): string {
  if (encryption === 'nip44_v2') {
    // NIP-44 caps plaintext at 64 KiB plus the extended prefix; refuse absurd payloads before doing any work.
    if (payload.length > 1_000_000) throw new Error('payload too large')
    return nip44.decrypt(payload, conversationKey(conn))
  }
  return nip04.decrypt(conn.secretKey, conn.walletPubkey, payload)
}

// ---------------------------------------------------------------------------------------------------------------
// Amount and field validation

const MAX_WIRE_MSAT = BigInt(Number.MAX_SAFE_INTEGER)

/** A bigint msat amount as the JSON number NIP-47 wants; refuses what a JSON number cannot carry exactly. */
export function msatToWire(field: string, v: bigint, opts: { allowZero?: boolean } = {}): number {
  if (typeof v !== 'bigint') throw new NwcParamError(field, 'must be a bigint msat amount')
  if (v < 0n || (v === 0n && !opts.allowZero)) throw new NwcParamError(field, `must be > 0, got ${v}`)
  if (v > MAX_WIRE_MSAT) throw new NwcParamError(field, `exceeds ${MAX_WIRE_MSAT} msat`)
  return Number(v)
}

/** Raised while reading a response; always surfaces as NwcError BAD_RESPONSE. */
class ShapeError extends Error {}

function wireMsat(v: unknown, field: string): bigint {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
    throw new ShapeError(`${field} must be a non-negative integer msat amount, got ${JSON.stringify(v)}`)
  }
  return BigInt(v)
}

function optWireMsat(v: unknown, field: string): bigint | null {
  return v === undefined || v === null ? null : wireMsat(v, field)
}

function optString(v: unknown, field: string): string | null {
  if (v === undefined || v === null) return null
  if (typeof v !== 'string') throw new ShapeError(`${field} must be a string`)
  return v
}

function optInt(v: unknown, field: string): number | null {
  if (v === undefined || v === null) return null
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw new ShapeError(`${field} must be an integer`)
  return v
}

function hex64(v: unknown, field: string): string {
  if (typeof v !== 'string' || !HEX64.test(v.toLowerCase())) throw new ShapeError(`${field} must be 64 hex chars`)
  return v.toLowerCase()
}

function record(v: unknown, field: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ShapeError(`${field} must be an object`)
  return v as Record<string, unknown>
}

// ---------------------------------------------------------------------------------------------------------------
// Method parameters (our API, bigint msat) and results (parsed from the wire)

export interface MakeInvoiceParams {
  amountMsat: bigint
  description?: string
  descriptionHash?: string
  expirySec?: number
}
export type LookupInvoiceParams = { paymentHash: string } | { invoice: string }
export interface PayInvoiceParams {
  invoice: string
  /** Only for zero-amount invoices; must equal the invoice amount otherwise. */
  amountMsat?: bigint
}
export interface PayKeysendParams {
  amountMsat: bigint
  pubkey: string
  preimage?: string
  tlvRecords?: Array<{ type: number; value: string }>
}
export interface ListTransactionsParams {
  fromSec?: number
  untilSec?: number
  limit?: number
  offset?: number
  unpaid?: boolean
  type?: 'incoming' | 'outgoing'
}

export type TxState = 'pending' | 'settled' | 'accepted' | 'expired' | 'failed'

export interface Nip47Transaction {
  type: 'incoming' | 'outgoing'
  state: TxState
  invoice: string | null
  description: string | null
  descriptionHash: string | null
  preimage: string | null
  paymentHash: string
  amountMsat: bigint
  feesPaidMsat: bigint | null
  createdAtSec: number | null
  expiresAtSec: number | null
  settledAtSec: number | null
}

export interface GetInfoResult {
  alias: string | null
  color: string | null
  pubkey: string | null
  network: string | null
  blockHeight: number | null
  blockHash: string | null
  methods: string[]
  notifications: string[]
}

export interface PayResult {
  preimage: string | null
  feesPaidMsat: bigint | null
}

export interface Nip47ParamsMap {
  get_info: Record<string, never>
  get_balance: Record<string, never>
  make_invoice: MakeInvoiceParams
  lookup_invoice: LookupInvoiceParams
  pay_invoice: PayInvoiceParams
  pay_keysend: PayKeysendParams
  list_transactions: ListTransactionsParams
}

export interface Nip47ResultMap {
  get_info: GetInfoResult
  get_balance: { balanceMsat: bigint }
  make_invoice: Nip47Transaction
  lookup_invoice: Nip47Transaction
  pay_invoice: PayResult
  pay_keysend: PayResult
  list_transactions: { transactions: Nip47Transaction[] }
}

function checkString(field: string, v: unknown, maxLen: number): string {
  if (typeof v !== 'string') throw new NwcParamError(field, 'must be a string')
  if (v.length > maxLen) throw new NwcParamError(field, `longer than ${maxLen} characters`)
  return v
}

function checkHex64(field: string, v: unknown): string {
  if (typeof v !== 'string' || !HEX64.test(v.toLowerCase())) throw new NwcParamError(field, 'must be 64 hex chars')
  return v.toLowerCase()
}

function checkUint(field: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
    throw new NwcParamError(field, 'must be a non-negative integer')
  }
  return v
}

/** Validates our typed params and turns them into the wire object. Throws NwcParamError naming the field. */
export function paramsToWire<M extends Nip47Method>(method: M, params: Nip47ParamsMap[M]): Record<string, unknown> {
  const p = params as Record<string, unknown>
  switch (method) {
    case 'get_info':
    case 'get_balance':
      return {}
    case 'make_invoice': {
      const q = p as unknown as MakeInvoiceParams
      const out: Record<string, unknown> = { amount: msatToWire('amountMsat', q.amountMsat) }
      if (q.description !== undefined) out.description = checkString('description', q.description, 639)
      if (q.descriptionHash !== undefined) out.description_hash = checkHex64('descriptionHash', q.descriptionHash)
      if (q.expirySec !== undefined) out.expiry = checkUint('expirySec', q.expirySec)
      return out
    }
    case 'lookup_invoice': {
      if ('paymentHash' in p && p.paymentHash !== undefined) {
        return { payment_hash: checkHex64('paymentHash', p.paymentHash) }
      }
      if ('invoice' in p && p.invoice !== undefined) return { invoice: checkInvoice('invoice', p.invoice) }
      throw new NwcParamError('paymentHash', 'lookup_invoice needs paymentHash or invoice')
    }
    case 'pay_invoice': {
      const q = p as unknown as PayInvoiceParams
      const inv = checkInvoice('invoice', q.invoice)
      const out: Record<string, unknown> = { invoice: inv }
      if (q.amountMsat !== undefined) {
        const invAmount = invoiceAmountMsat(inv)
        if (invAmount !== null && invAmount !== q.amountMsat) {
          throw new NwcParamError('amountMsat', `differs from the invoice amount ${invAmount}`)
        }
        out.amount = msatToWire('amountMsat', q.amountMsat)
      } else if (invoiceAmountMsat(inv) === null) {
        throw new NwcParamError('amountMsat', 'required for an invoice without an amount')
      }
      return out
    }
    case 'pay_keysend': {
      const q = p as unknown as PayKeysendParams
      const out: Record<string, unknown> = {
        amount: msatToWire('amountMsat', q.amountMsat),
        pubkey: (() => {
          if (typeof q.pubkey !== 'string' || !/^0[23][0-9a-f]{64}$/i.test(q.pubkey)) {
            throw new NwcParamError('pubkey', 'must be a 33-byte compressed node pubkey in hex')
          }
          return q.pubkey.toLowerCase()
        })(),
      }
      if (q.preimage !== undefined) out.preimage = checkHex64('preimage', q.preimage)
      if (q.tlvRecords !== undefined) {
        out.tlv_records = q.tlvRecords.map((r, i) => ({
          type: checkUint(`tlvRecords[${i}].type`, r.type),
          value: checkString(`tlvRecords[${i}].value`, r.value, 65_536),
        }))
      }
      return out
    }
    case 'list_transactions': {
      const q = p as unknown as ListTransactionsParams
      const out: Record<string, unknown> = {}
      if (q.fromSec !== undefined) out.from = checkUint('fromSec', q.fromSec)
      if (q.untilSec !== undefined) out.until = checkUint('untilSec', q.untilSec)
      if (q.limit !== undefined) out.limit = checkUint('limit', q.limit)
      if (q.offset !== undefined) out.offset = checkUint('offset', q.offset)
      if (q.unpaid !== undefined) {
        if (typeof q.unpaid !== 'boolean') throw new NwcParamError('unpaid', 'must be a boolean')
        out.unpaid = q.unpaid
      }
      if (q.type !== undefined) {
        if (q.type !== 'incoming' && q.type !== 'outgoing') throw new NwcParamError('type', 'incoming or outgoing')
        out.type = q.type
      }
      return out
    }
  }
  throw new NwcParamError('method', `unknown method ${String(method)}`)
}

const TX_STATES: readonly TxState[] = ['pending', 'settled', 'accepted', 'expired', 'failed']

/** Reads one NIP-47 transaction object. Older wallets omit `state`; settled_at then decides. */
export function parseTransaction(v: unknown, field = 'result'): Nip47Transaction {
  const o = record(v, field)
  if (o.type !== 'incoming' && o.type !== 'outgoing') throw new ShapeError(`${field}.type must be incoming|outgoing`)
  const settledAtSec = optInt(o.settled_at, `${field}.settled_at`)
  let state: TxState
  if (o.state === undefined || o.state === null) state = settledAtSec !== null ? 'settled' : 'pending'
  else if (typeof o.state === 'string' && (TX_STATES as readonly string[]).includes(o.state)) state = o.state as TxState
  else throw new ShapeError(`${field}.state is not a NIP-47 state: ${JSON.stringify(o.state)}`)
  const preimage = optString(o.preimage, `${field}.preimage`)
  return {
    type: o.type,
    state,
    invoice: optString(o.invoice, `${field}.invoice`),
    description: optString(o.description, `${field}.description`),
    descriptionHash: optString(o.description_hash, `${field}.description_hash`),
    // An empty preimage string is how some wallets say "none yet".
    preimage: preimage === '' ? null : preimage,
    paymentHash: hex64(o.payment_hash, `${field}.payment_hash`),
    amountMsat: wireMsat(o.amount, `${field}.amount`),
    feesPaidMsat: optWireMsat(o.fees_paid, `${field}.fees_paid`),
    createdAtSec: optInt(o.created_at, `${field}.created_at`),
    expiresAtSec: optInt(o.expires_at, `${field}.expires_at`),
    settledAtSec,
  }
}

function stringList(v: unknown, field: string): string[] {
  if (v === undefined || v === null) return []
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw new ShapeError(`${field} must be strings`)
  return v as string[]
}

/** Reads a method's `result` object into our typed shape; throws NwcError BAD_RESPONSE naming the field. */
export function parseResult<M extends Nip47Method>(method: M, result: unknown, requestId?: string): Nip47ResultMap[M] {
  try {
    return parseResultInner(method, result) as Nip47ResultMap[M]
  } catch (e) {
    if (e instanceof ShapeError) throw new NwcError('BAD_RESPONSE', e.message, 'unknown', { method, requestId })
    throw e
  }
}

function parseResultInner(method: Nip47Method, result: unknown): Nip47ResultMap[Nip47Method] {
  const o = record(result, 'result')
  switch (method) {
    case 'get_info':
      return {
        alias: optString(o.alias, 'result.alias'),
        color: optString(o.color, 'result.color'),
        pubkey: optString(o.pubkey, 'result.pubkey'),
        network: optString(o.network, 'result.network'),
        blockHeight: optInt(o.block_height, 'result.block_height'),
        blockHash: optString(o.block_hash, 'result.block_hash'),
        methods: stringList(o.methods, 'result.methods'),
        notifications: stringList(o.notifications, 'result.notifications'),
      }
    case 'get_balance':
      return { balanceMsat: wireMsat(o.balance, 'result.balance') }
    case 'make_invoice':
    case 'lookup_invoice':
      return parseTransaction(o)
    case 'pay_invoice':
    case 'pay_keysend': {
      const preimage = optString(o.preimage, 'result.preimage')
      return { preimage: preimage === '' ? null : preimage, feesPaidMsat: optWireMsat(o.fees_paid, 'result.fees_paid') }
    }
    case 'list_transactions': {
      if (!Array.isArray(o.transactions)) throw new ShapeError('result.transactions must be an array')
      return { transactions: o.transactions.map((t, i) => parseTransaction(t, `result.transactions[${i}]`)) }
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Requests and responses

export interface BuiltRequest<M extends Nip47Method = Nip47Method> {
  /** The signed kind 23194 event; store it before publishing so a crash can re-send exactly this event. */
  event: NostrEvent
  id: string
  method: M
  encryption: Nip47Encryption
  expiresAtSec: number
}

/** Builds and signs a request. Pure apart from the random nonce inside the encryption. */
export function buildRequestEvent<M extends Nip47Method>(input: {
  conn: NwcConnection
  method: M
  params: Nip47ParamsMap[M]
  encryption: Nip47Encryption
  createdAtSec: number
  expiresAtSec: number
  crypto?: Nip47Crypto
}): BuiltRequest<M> {
  if (!(NIP47_METHODS as readonly string[]).includes(input.method)) {
    throw new NwcParamError('method', `unknown NIP-47 method ${String(input.method)}`)
  }
  if (!(input.expiresAtSec > input.createdAtSec)) throw new NwcParamError('expiresAtSec', 'must be after createdAtSec')
  const body = JSON.stringify({ method: input.method, params: paramsToWire(input.method, input.params) })
  const event = (input.crypto ?? PURE_NIP47_CRYPTO).sign(
    {
      kind: NIP47_KIND.request,
      created_at: input.createdAtSec,
      tags: [
        ['p', input.conn.walletPubkey],
        ['encryption', input.encryption],
        ['expiration', String(input.expiresAtSec)],
      ],
      content: encryptFor(input.conn, input.encryption, body),
    },
    input.conn.secretKey,
  )
  return { event, id: event.id, method: input.method, encryption: input.encryption, expiresAtSec: input.expiresAtSec }
}

/**
 * Reads back one of our own stored request events (after a crash): checks it is ours, for this wallet, and returns
 * its method, encryption and expiration. Throws NwcParamError naming what does not fit.
 */
export function inspectOwnRequest(conn: NwcConnection, event: NostrEvent): Omit<BuiltRequest, 'event'> {
  if (event.kind !== NIP47_KIND.request) throw new NwcParamError('event.kind', `expected 23194, got ${event.kind}`)
  if (event.pubkey !== conn.clientPubkey) throw new NwcParamError('event.pubkey', 'not signed by this connection')
  if (!verifyEventFresh(event)) throw new NwcParamError('event.sig', 'signature does not verify')
  if (!event.tags.some((t) => t[0] === 'p' && t[1] === conn.walletPubkey)) {
    throw new NwcParamError('event.tags.p', 'not addressed to this wallet')
  }
  const encTag = event.tags.find((t) => t[0] === 'encryption')?.[1]
  const encryption: Nip47Encryption = encTag === 'nip44_v2' ? 'nip44_v2' : 'nip04'
  const expRaw = event.tags.find((t) => t[0] === 'expiration')?.[1]
  const expiresAtSec = Number(expRaw)
  if (!Number.isSafeInteger(expiresAtSec)) throw new NwcParamError('event.tags.expiration', 'missing or not a number')
  let method: unknown
  try {
    method = JSON.parse(decryptFrom(conn, encryption, event.content)).method
  } catch {
    throw new NwcParamError('event.content', 'does not decrypt with this connection')
  }
  if (typeof method !== 'string' || !(NIP47_METHODS as readonly string[]).includes(method)) {
    throw new NwcParamError('event.content.method', `unknown method ${JSON.stringify(method)}`)
  }
  return { id: event.id, method: method as Nip47Method, encryption, expiresAtSec }
}

export interface RawResponse {
  resultType: string
  result: unknown
  error: { code: string; message: string } | null
}

export type ResponseCheck =
  | { ok: true; response: RawResponse }
  | {
      ok: false
      reason: 'wrong_kind' | 'wrong_author' | 'bad_signature' | 'wrong_request' | 'undecryptable' | 'malformed'
      detail: string
    }

/**
 * Decides whether an event is the wallet's answer to request `requestId`. Everything else is refused with a
 * reason (the caller logs it and keeps waiting): only the wallet's key, a valid signature, the request's `e`
 * tag and content that decrypts with our key make an answer, so a relay or a third party cannot inject one.
 */
export function checkResponseEvent(
  conn: NwcConnection,
  req: { id: string; encryption: Nip47Encryption },
  ev: NostrEvent,
  crypto: Nip47Crypto = PURE_NIP47_CRYPTO,
): ResponseCheck {
  if (ev.kind !== NIP47_KIND.response) return { ok: false, reason: 'wrong_kind', detail: `kind ${ev.kind}` }
  if (ev.pubkey !== conn.walletPubkey) return { ok: false, reason: 'wrong_author', detail: ev.pubkey }
  if (!ev.tags.some((t) => t[0] === 'e' && t[1] === req.id)) {
    return { ok: false, reason: 'wrong_request', detail: 'no e tag for this request' }
  }
  if (!crypto.verify(ev)) return { ok: false, reason: 'bad_signature', detail: ev.id }
  let plain: string
  try {
    plain = decryptFrom(conn, req.encryption, ev.content)
  } catch (e) {
    return { ok: false, reason: 'undecryptable', detail: (e as Error).message }
  }
  let body: unknown
  try {
    body = JSON.parse(plain)
  } catch {
    return { ok: false, reason: 'malformed', detail: 'content is not JSON' }
  }
  if (typeof body !== 'object' || body === null) return { ok: false, reason: 'malformed', detail: 'not an object' }
  const b = body as Record<string, unknown>
  if (typeof b.result_type !== 'string') return { ok: false, reason: 'malformed', detail: 'result_type missing' }
  let error: RawResponse['error'] = null
  if (b.error !== undefined && b.error !== null) {
    const e = b.error as Record<string, unknown>
    if (typeof e !== 'object' || typeof e.code !== 'string') {
      return { ok: false, reason: 'malformed', detail: 'error without a string code' }
    }
    error = { code: e.code, message: typeof e.message === 'string' ? e.message : '' }
  }
  return { ok: true, response: { resultType: b.result_type, result: b.result ?? null, error } }
}

/** Turns a checked raw response into the typed result, or throws the mapped NwcError. */
export function interpretResponse<M extends Nip47Method>(
  method: M,
  requestId: string,
  r: RawResponse,
): Nip47ResultMap[M] {
  if (r.error) throw walletErrorToNwcError(r.error, { method, requestId })
  if (r.resultType !== method) {
    throw new NwcError('BAD_RESPONSE', `result_type ${r.resultType} answers a ${method} request`, 'unknown', {
      method,
      requestId,
    })
  }
  return parseResult(method, r.result, requestId)
}

// ---------------------------------------------------------------------------------------------------------------
// Notifications

export interface Nip47Notification {
  type: Nip47NotificationType
  transaction: Nip47Transaction
  eventId: string
}

/** Reads a kind 23196/23197 notification; returns null (caller logs) when it is not a valid one for us. */
export function openNotification(
  conn: NwcConnection,
  ev: NostrEvent,
  crypto: Nip47Crypto = PURE_NIP47_CRYPTO,
): Nip47Notification | { error: string } {
  const encryption: Nip47Encryption | null =
    ev.kind === NIP47_KIND.notificationNip44 ? 'nip44_v2' : ev.kind === NIP47_KIND.notificationNip04 ? 'nip04' : null
  if (encryption === null) return { error: `kind ${ev.kind} is not a notification` }
  if (ev.pubkey !== conn.walletPubkey) return { error: 'not by the wallet' }
  if (!crypto.verify(ev)) return { error: 'bad signature' }
  let body: Record<string, unknown>
  try {
    body = record(JSON.parse(decryptFrom(conn, encryption, ev.content)), 'notification')
  } catch (e) {
    return { error: `undecryptable: ${(e as Error).message}` }
  }
  const type = body.notification_type
  if (type !== 'payment_received' && type !== 'payment_sent' && type !== 'hold_invoice_accepted') {
    return { error: `unknown notification_type ${JSON.stringify(type)}` }
  }
  try {
    return { type, transaction: parseTransaction(body.notification, 'notification'), eventId: ev.id }
  } catch (e) {
    return { error: (e as Error).message }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// BOLT11 facts needed to verify payments (light-bolt11-decoder does not check the invoice signature; we only
// need the committed payment hash and amount, and the payment proof is sha256(preimage) = payment_hash).

function checkInvoice(field: string, v: unknown): string {
  if (typeof v !== 'string' || !/^ln/i.test(v)) throw new NwcParamError(field, 'must be a BOLT11 invoice')
  try {
    invoicePaymentHash(v)
  } catch (e) {
    throw new NwcParamError(field, `does not decode: ${(e as Error).message}`)
  }
  return v
}

/** The payment hash an invoice commits to (lowercase hex). Throws when the invoice does not decode. */
export function invoicePaymentHash(invoice: string): string {
  const s = decodeBolt11(invoice).sections.find((x) => x.name === 'payment_hash')
  if (!s || typeof s.value !== 'string') throw new Error('no payment hash')
  return s.value.toLowerCase()
}

/** The invoice amount in msat, or null for an amount-less invoice. */
export function invoiceAmountMsat(invoice: string): bigint | null {
  const s = decodeBolt11(invoice).sections.find((x) => x.name === 'amount')
  return s ? BigInt(String(s.value)) : null
}

/** True when sha256(preimage) equals the payment hash. False (never a throw) for malformed input. */
export function preimageMatches(preimageHex: string, paymentHashHex: string): boolean {
  if (!HEX64.test(preimageHex.toLowerCase()) || !HEX64.test(paymentHashHex.toLowerCase())) return false
  return bytesToHex(sha256(hexToBytes(preimageHex.toLowerCase()))) === paymentHashHex.toLowerCase()
}

export type PaymentProof =
  | { status: 'verified'; paymentHash: string; preimage: string }
  | { status: 'preimage_mismatch'; paymentHash: string; preimage: string }
  | { status: 'preimage_missing'; paymentHash: string | null; preimage: null }
  /** Keysend with a preimage the wallet chose: there is no hash to check it against. */
  | { status: 'unverified'; paymentHash: null; preimage: string }

/** Classifies a pay result against the invoice's payment hash. */
export function verifyPaymentProof(paymentHash: string, preimage: string | null): PaymentProof {
  if (preimage === null) return { status: 'preimage_missing', paymentHash, preimage: null }
  if (preimageMatches(preimage, paymentHash))
    return { status: 'verified', paymentHash, preimage: preimage.toLowerCase() }
  return { status: 'preimage_mismatch', paymentHash, preimage }
}

export type SettlementCheck =
  | { ok: true; preimage: string }
  | {
      ok: false
      reason: 'not_settled' | 'wrong_hash' | 'wrong_amount' | 'preimage_missing' | 'preimage_mismatch'
      detail: string
    }

/**
 * The booking rule for a looked-up invoice (docs/protocol.md): settled, for exactly the expected amount, with a preimage
 * whose sha256 is the payment hash. A verifier: it returns a typed result and never throws.
 */
export function checkSettledInvoice(
  tx: Nip47Transaction,
  expected: { paymentHash: string; amountMsat: bigint },
): SettlementCheck {
  if (tx.paymentHash !== expected.paymentHash.toLowerCase()) {
    return { ok: false, reason: 'wrong_hash', detail: `wallet answered about ${tx.paymentHash}` }
  }
  if (tx.state !== 'settled') return { ok: false, reason: 'not_settled', detail: `state ${tx.state}` }
  if (tx.amountMsat !== expected.amountMsat) {
    return {
      ok: false,
      reason: 'wrong_amount',
      detail: `settled ${tx.amountMsat} msat, expected ${expected.amountMsat}`,
    }
  }
  if (tx.preimage === null) return { ok: false, reason: 'preimage_missing', detail: 'no preimage' }
  if (!preimageMatches(tx.preimage, tx.paymentHash)) {
    return { ok: false, reason: 'preimage_mismatch', detail: 'sha256(preimage) differs from the payment hash' }
  }
  return { ok: true, preimage: tx.preimage.toLowerCase() }
}

export type PaymentReconciliation =
  | { status: 'paid'; preimage: string; feesPaidMsat: bigint | null }
  | { status: 'pending' }
  | { status: 'not_paid'; reason: 'not_found' | 'failed' | 'expired' }
  | { status: 'unverifiable'; reason: 'wrong_hash' | 'wrong_amount' | 'preimage_missing' | 'preimage_mismatch' }

/**
 * What the wallet's lookup says about one of our payments whose outcome is unknown (a TIMEOUT, a lost answer, a
 * crash after publishing). Only `not_paid` allows minting a new request (reference B3); `paid` needs a preimage
 * that hashes to the payment hash; `unverifiable` goes to a human. `tx` is null when the wallet said NOT_FOUND.
 */
export function reconcilePaymentLookup(
  tx: Nip47Transaction | null,
  expected: { paymentHash: string; amountMsat: bigint },
): PaymentReconciliation {
  if (tx === null) return { status: 'not_paid', reason: 'not_found' }
  if (tx.paymentHash !== expected.paymentHash.toLowerCase()) return { status: 'unverifiable', reason: 'wrong_hash' }
  if (tx.state === 'failed' || tx.state === 'expired') return { status: 'not_paid', reason: tx.state }
  if (tx.state !== 'settled') return { status: 'pending' }
  const check = checkSettledInvoice(tx, expected)
  if (check.ok) return { status: 'paid', preimage: check.preimage, feesPaidMsat: tx.feesPaidMsat }
  if (check.reason === 'not_settled') return { status: 'pending' }
  return { status: 'unverifiable', reason: check.reason }
}
