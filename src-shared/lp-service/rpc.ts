// The LP self-service RPC (docs/lp-rpc.md): an LP's app sends a kind 25079 event to the console key — `p` tag =
// console, NIP-40 `expiration` tag, content = NIP-44 v2 of JSON `{id, method, params}` — and the console answers
// with a kind 25080 event — `p` = the LP, `e` = the request event, its own `expiration`, content = NIP-44 v2 of
// `{id, result}` or `{id, error: {code, message}}`. Both kinds are in the NIP-01 ephemeral range (20000–29999):
// relays forward them to live subscribers and do not store them, like NIP-46 (24133) and NIP-47 (23194/23195);
// an RPC answer is only useful to the app that is waiting for it, and not storing it keeps the LP's figures off
// relay disks. This file is pure: request/response schemas, the event checks (expiration window, addressing),
// and builders the tests, the doc vectors and any client can use. Money travels as decimal strings with the unit
// in the name (msat, fiat minor units); never floats.
import * as nip44 from 'nostr-tools/nip44'
import { FieldError } from '../field-error'
import type { DestinationView } from '../ipc/lps'
import { type EventTemplate, isHex64, type NostrEvent, singleTagValue } from '../nostr/event'
import { parsePeriod } from './commands'

export const KIND_LP_RPC_REQUEST = 25079
export const KIND_LP_RPC_RESPONSE = 25080
/** A request may ask to live at most this long (expiration − now); the replay memory needs a bound. */
export const MAX_REQUEST_LIFETIME_SEC = 600
/** Answers expire this long after they are sent. */
export const RESPONSE_LIFETIME_SEC = 120
/** Ciphertext above this size is refused before decrypting. */
export const MAX_RPC_CONTENT_CHARS = 16_384

export const RPC_METHODS = ['getBalance', 'getTransactions', 'getStatement', 'getConfig'] as const
export type RpcMethod = (typeof RPC_METHODS)[number]

export type RpcErrorCode = 'bad_request' | 'unknown_method' | 'expired' | 'replayed' | 'disabled' | 'internal'

export class RpcRequestError extends FieldError {
  override readonly name = 'RpcRequestError'
  constructor(
    readonly code: RpcErrorCode,
    field: string,
    message: string,
  ) {
    super(field, message)
  }
}

export type RpcParams =
  | { method: 'getBalance' }
  | { method: 'getTransactions'; limit: number; before: string | null; period: string | null }
  | { method: 'getStatement'; period: string }
  | { method: 'getConfig' }

export interface RpcRequest {
  id: string
  params: RpcParams
}

const ID = /^[A-Za-z0-9._:-]{1,64}$/

function obj(v: unknown, field: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new RpcRequestError('bad_request', field, 'must be a JSON object')
  return v as Record<string, unknown>
}

function onlyKeys(o: Record<string, unknown>, allowed: string[], field: string): void {
  for (const k of Object.keys(o))
    if (!allowed.includes(k)) throw new RpcRequestError('bad_request', `${field}.${k}`, 'unknown parameter')
}

/**
 * Parses the decrypted request text. The id is checked first so a refusal can still name it (`idOf` on the
 * error's request); throws RpcRequestError with the field and an error code.
 */
export function parseRpcRequest(text: string): RpcRequest {
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch {
    throw new RpcRequestError('bad_request', 'content', 'is not JSON')
  }
  const o = obj(raw, 'request')
  if (typeof o.id !== 'string' || !ID.test(o.id))
    throw new RpcRequestError('bad_request', 'id', 'must be 1–64 characters of A–Z a–z 0–9 . _ : -')
  onlyKeys(o, ['id', 'method', 'params'], 'request')
  const id = o.id
  const p = o.params === undefined ? {} : obj(o.params, 'params')
  switch (o.method) {
    case 'getBalance':
    case 'getConfig':
      onlyKeys(p, [], 'params')
      return { id, params: { method: o.method } }
    case 'getTransactions': {
      onlyKeys(p, ['limit', 'before', 'period'], 'params')
      const limit = p.limit === undefined ? 20 : p.limit
      if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > 100)
        throw new RpcRequestError('bad_request', 'params.limit', 'must be an integer 1–100')
      const before = p.before === undefined || p.before === null ? null : p.before
      if (before !== null && (typeof before !== 'string' || !/^\d{1,15}$/.test(before)))
        throw new RpcRequestError('bad_request', 'params.before', "must be the previous page's `next` cursor")
      const period = p.period === undefined || p.period === null ? null : periodParam(p.period, 'params.period')
      return { id, params: { method: 'getTransactions', limit, before, period } }
    }
    case 'getStatement':
      onlyKeys(p, ['period'], 'params')
      return { id, params: { method: 'getStatement', period: periodParam(p.period, 'params.period') } }
    default:
      throw new RpcRequestError('unknown_method', 'method', `must be one of ${RPC_METHODS.join(', ')}`)
  }
}

function periodParam(v: unknown, field: string): string {
  if (typeof v !== 'string') throw new RpcRequestError('bad_request', field, 'must be YYYY-MM or YYYY-Qn')
  try {
    parsePeriod(v, field)
  } catch (e) {
    throw new RpcRequestError('bad_request', field, (e as Error).message)
  }
  return v.toUpperCase()
}

/** Best-effort id of a request that failed to parse, so its refusal can be matched by the client. */
export function requestIdOf(text: string): string | null {
  try {
    const o = JSON.parse(text) as { id?: unknown }
    return typeof o?.id === 'string' && ID.test(o.id) ? o.id : null
  } catch {
    return null
  }
}

export type EnvelopeCheck =
  | { ok: true; expiration: number }
  | { ok: false; reason: 'not_for_us' | 'no_expiration' | 'expired' | 'lifetime_too_long' | 'too_large' }

/**
 * The outer checks of a request event (signature and id are the relay pool's job): addressed to the console by a
 * single `p` tag, a single NIP-40 `expiration` in (now, now + MAX_REQUEST_LIFETIME_SEC], content of sane size.
 */
export function checkRequestEnvelope(ev: NostrEvent, consolePubkey: string, nowSec: number): EnvelopeCheck {
  if (singleTagValue(ev, 'p') !== consolePubkey) return { ok: false, reason: 'not_for_us' }
  if (ev.content.length > MAX_RPC_CONTENT_CHARS) return { ok: false, reason: 'too_large' }
  const exp = singleTagValue(ev, 'expiration')
  if (exp === undefined || exp === 'many' || !/^\d{1,12}$/.test(exp)) return { ok: false, reason: 'no_expiration' }
  const expiration = Number(exp)
  if (expiration <= nowSec) return { ok: false, reason: 'expired' }
  if (expiration > nowSec + MAX_REQUEST_LIFETIME_SEC) return { ok: false, reason: 'lifetime_too_long' }
  return { ok: true, expiration }
}

// ---- result shapes (JSON; bigints as decimal strings) ---------------------------------------------------------

export interface PayoutLine {
  payoutId: string
  paidAtMs: number
  amountMsat: string
  paymentHash: string
  /** Kind 3079 settlement receipts (event ids) of the settlements whose sats this payout paid. */
  receiptIds: string[]
}

export interface BalanceResult {
  lpId: string
  name: string
  currency: string
  active: boolean
  /** Remaining fiat: confirmed deposits − reversals − allocations − dust. */
  balanceMinor: string
  pendingDepositsMinor: string
  /** Sats earned and not yet paid out. */
  accruedMsat: string
  /** Sats earned since registration (allocations net of reversals, plus dust settlements). */
  earnedMsat: string
  /** Sats paid out since registration. */
  paidMsat: string
  /** Newest first, at most 5. */
  lastPayouts: PayoutLine[]
  asOfMs: number
}

export interface TransactionLine {
  entryId: number
  atMs: number
  kind: 'deposit' | 'deposit_reversal' | 'allocation' | 'allocation_reversal' | 'dust'
  /** Change of the remaining fiat (negative when a settlement used the LP's money). */
  deltaMinor: string
  balanceAfterMinor: string
  /** Sats earned by this line ("0" for deposits). */
  msat: string
  settlementId: number | null
  /** The settlement's kind 3079 receipt (event id), once published. */
  receiptId: string | null
}

export interface TransactionsResult {
  currency: string
  lines: TransactionLine[]
  /** Cursor for the next (older) page, or null. */
  next: string | null
}

export interface StatementResult {
  period: string
  fromMs: number
  untilMs: number
  timeZone: string
  currency: string
  openingBalanceMinor: string
  depositedMinor: string
  depositReversedMinor: string
  allocatedMinor: string
  dustSettledMinor: string
  closingBalanceMinor: string
  earnedMsat: string
  paidOutMsat: string
  openingAccruedMsat: string
  closingAccruedMsat: string
  pendingDepositsMinor: string
  settlementCount: number
  payouts: PayoutLine[]
}

export interface ConfigResult {
  mode: 'flow' | 'fixed'
  dailyLimitMinor: string | null
  currency: string
  payout: { thresholdMsat: string; schedule: string } | null
  destination: DestinationView | null
}

export type RpcResponse =
  | { id: string | null; result: BalanceResult | TransactionsResult | StatementResult | ConfigResult }
  | { id: string | null; error: { code: RpcErrorCode; message: string } }

// ---- builders (clients, tests, doc vectors) -------------------------------------------------------------------

export interface Nip44Opts {
  /** Fixed 32-byte nonce (vectors only); fresh randomness otherwise. */
  nonce?: Uint8Array
}

/** The unsigned kind 25079 request from `lpSecretKey` to the console. */
export function buildRequestTemplate(
  lpSecretKey: Uint8Array,
  consolePubkey: string,
  body: { id: string; method: string; params?: Record<string, unknown> },
  createdAtSec: number,
  expirationSec: number,
  o: Nip44Opts = {},
): EventTemplate {
  if (!isHex64(consolePubkey)) throw new RpcRequestError('bad_request', 'consolePubkey', 'must be 64 lowercase hex')
  const conv = nip44.getConversationKey(lpSecretKey, consolePubkey)
  return {
    kind: KIND_LP_RPC_REQUEST,
    created_at: createdAtSec,
    tags: [
      ['p', consolePubkey],
      ['expiration', String(expirationSec)],
    ],
    content: nip44.encrypt(
      JSON.stringify({ id: body.id, method: body.method, params: body.params ?? {} }),
      conv,
      o.nonce,
    ),
  }
}

/** Decrypts a kind 25080 answer with the LP's key (what an LP app does). */
export function openResponse(ev: NostrEvent, lpSecretKey: Uint8Array): RpcResponse {
  if (ev.kind !== KIND_LP_RPC_RESPONSE)
    throw new RpcRequestError('bad_request', 'kind', `must be ${KIND_LP_RPC_RESPONSE}`)
  return JSON.parse(nip44.decrypt(ev.content, nip44.getConversationKey(lpSecretKey, ev.pubkey))) as RpcResponse
}
