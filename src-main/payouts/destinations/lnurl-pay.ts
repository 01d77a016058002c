// LNURL-pay destination (LUD-06 payRequest, LUD-16 Lightning address): turns `user@domain` and an amount in msat
// into a BOLT11 invoice the payout runner can pay, and checks the invoice before anyone pays it:
//
//   1. `user@domain` → GET https://domain/.well-known/lnurlp/user (LUD-16). Plain http is refused, except to a
//      loopback host (localhost, 127.0.0.0/8, ::1), which is how the tests run a real server on 127.0.0.1.
//   2. The answer must be a payRequest: `tag` = payRequest, an https `callback`, integer `minSendable` ≤
//      `maxSendable` (msat) and a `metadata` string that is a JSON array of [mime, content] pairs with a
//      text/plain entry (LUD-06). If it names a text/identifier or text/email, that must be this address.
//   3. The amount must lie in [minSendable, maxSendable]; then GET callback?amount=<msat> (LUD-06).
//   4. The returned `pr` must decode, carry exactly the requested msat, and its description hash (BOLT11 `h`) must
//      equal sha256(metadata as UTF-8 bytes) (LUD-06: "the wallet MUST verify"); it must not have expired yet.
//
// Every failure is an LnurlPayError with a stable `code` and the `field` at fault; `{status: "ERROR", reason}`
// answers become SERVICE_ERROR with the service's reason. HTTP goes through an injectable `fetch` (the global one
// by default) with a timeout, no redirects (a redirect could downgrade to http), and a response-size cap.

import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex } from '@noble/hashes/utils.js'
import { decode as decodeBolt11 } from 'light-bolt11-decoder'
import { createLogger, type Logger } from '../../../src-shared/log'
import type { InvoiceDestination } from './types'

export type LnurlPayErrorCode =
  /** The Lightning address or URL is malformed. */
  | 'BAD_ADDRESS'
  /** A URL is not https (and not loopback http). */
  | 'INSECURE_URL'
  /** The request failed at the transport level (DNS, refused, reset, redirect). */
  | 'NETWORK'
  | 'TIMEOUT'
  /** A non-2xx HTTP status. */
  | 'HTTP_STATUS'
  /** The body is not JSON (or too large). */
  | 'BAD_JSON'
  /** The service answered `{status: "ERROR", reason}`. */
  | 'SERVICE_ERROR'
  /** The JSON is not a valid payRequest / invoice answer (field named). */
  | 'BAD_RESPONSE'
  /** The amount is outside [minSendable, maxSendable]. */
  | 'AMOUNT_OUT_OF_RANGE'
  /** The invoice's amount differs from the amount requested. */
  | 'AMOUNT_MISMATCH'
  /** The invoice's description hash is not sha256(metadata). */
  | 'DESCRIPTION_HASH_MISMATCH'
  /** The invoice expired already. */
  | 'INVOICE_EXPIRED'

export class LnurlPayError extends Error {
  override readonly name = 'LnurlPayError'
  constructor(
    readonly code: LnurlPayErrorCode,
    readonly field: string,
    message: string,
  ) {
    super(`${code}: ${field}: ${message}`)
  }
}

/** The part of `fetch` used here; the global fetch satisfies it, tests may pass their own. */
export type FetchLike = (
  url: string,
  init: { method: 'GET'; headers: Record<string, string>; signal: AbortSignal; redirect: 'error' },
) => Promise<{ status: number; text(): Promise<string> }>

export interface LnurlPayOptions {
  fetch?: FetchLike
  /** Per HTTP request. Default 10 s. */
  timeoutMs?: number
  /** Largest response body accepted, in characters. Default 64 KiB. */
  maxBodyChars?: number
  /** Seconds clock for the invoice-expiry check. */
  nowSec?: () => number
  logger?: Logger
}

export interface PayRequest {
  callback: string
  minSendableMsat: bigint
  maxSendableMsat: bigint
  metadata: string
  /** sha256(metadata) as lowercase hex: what the invoice's description hash must be. */
  metadataHash: string
  /** Max comment length (LUD-12), 0 when comments are not allowed. */
  commentAllowed: number
}

// ---------------------------------------------------------------------------------------------------------------
// Addresses and URLs

const USER_RE = /^[a-z0-9\-_.+]{1,64}$/
const HOST_RE = /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*(?::\d{1,5})?$/

/** True for loopback hosts, where http is allowed (tests, a node on the same machine). */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase()
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h)
}

/** Parses `user@domain` (LUD-16) into its well-known URL. Lower-cases the address, as LUD-16 names are. */
export function lightningAddressUrl(address: string): { user: string; domain: string; url: string } {
  if (typeof address !== 'string' || address.length > 320) {
    throw new LnurlPayError('BAD_ADDRESS', 'address', 'must be a Lightning address user@domain')
  }
  const lower = address.trim().toLowerCase()
  const at = lower.lastIndexOf('@')
  const user = lower.slice(0, at)
  const domain = lower.slice(at + 1)
  if (at <= 0 || !USER_RE.test(user)) {
    throw new LnurlPayError('BAD_ADDRESS', 'address', 'the name before @ must be 1–64 of a-z 0-9 - _ . +')
  }
  if (!HOST_RE.test(domain)) throw new LnurlPayError('BAD_ADDRESS', 'address', 'the part after @ must be a domain')
  const hostname = domain.replace(/:\d+$/, '')
  const scheme = isLoopbackHost(hostname) ? 'http' : 'https'
  return { user, domain, url: `${scheme}://${domain}/.well-known/lnurlp/${user}` }
}

/** Checks that `raw` is an absolute https URL (or http to a loopback host); returns the parsed URL. */
export function checkServiceUrl(field: string, raw: unknown): URL {
  if (typeof raw !== 'string' || raw.length > 2000) throw new LnurlPayError('BAD_RESPONSE', field, 'must be a URL')
  let u: URL
  try {
    u = new URL(raw)
  } catch {
    throw new LnurlPayError('BAD_RESPONSE', field, 'is not an absolute URL')
  }
  if (u.protocol === 'https:') return u
  if (u.protocol === 'http:' && isLoopbackHost(u.hostname)) return u
  throw new LnurlPayError('INSECURE_URL', field, `${u.protocol}// is refused; only https (or http to loopback)`)
}

// ---------------------------------------------------------------------------------------------------------------
// HTTP

async function getJson(url: URL, field: string, o: Required<Omit<LnurlPayOptions, 'logger'>>): Promise<unknown> {
  const ac = new AbortController()
  const timer = setTimeout(() => ac.abort(), o.timeoutMs)
  let status: number
  let text: string
  try {
    const res = await o.fetch(url.toString(), {
      method: 'GET',
      headers: { accept: 'application/json' },
      signal: ac.signal,
      redirect: 'error',
    })
    status = res.status
    text = await res.text()
  } catch (e) {
    if (ac.signal.aborted) throw new LnurlPayError('TIMEOUT', field, `no answer within ${o.timeoutMs} ms`)
    const cause = (e as { cause?: { code?: string; message?: string } }).cause
    throw new LnurlPayError('NETWORK', field, cause?.code ?? cause?.message ?? (e as Error).message)
  } finally {
    clearTimeout(timer)
  }
  if (text.length > o.maxBodyChars) throw new LnurlPayError('BAD_JSON', field, `body over ${o.maxBodyChars} chars`)
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch {
    body = undefined
  }
  // LUD-06 services report errors as {status: "ERROR", reason}, sometimes with a 4xx/5xx status: prefer the reason.
  if (isErrorAnswer(body)) {
    throw new LnurlPayError('SERVICE_ERROR', field, String((body as { reason?: unknown }).reason ?? 'no reason given'))
  }
  if (status < 200 || status > 299) throw new LnurlPayError('HTTP_STATUS', field, `HTTP ${status}`)
  if (body === undefined) throw new LnurlPayError('BAD_JSON', field, 'the answer is not JSON')
  return body
}

function isErrorAnswer(b: unknown): boolean {
  return typeof b === 'object' && b !== null && String((b as { status?: unknown }).status).toUpperCase() === 'ERROR'
}

// ---------------------------------------------------------------------------------------------------------------
// payRequest and invoice checks (pure)

function msatField(o: Record<string, unknown>, field: string): bigint {
  const v = o[field]
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return BigInt(v)
  if (typeof v === 'string' && /^\d{1,19}$/.test(v)) return BigInt(v)
  throw new LnurlPayError('BAD_RESPONSE', field, 'must be a non-negative integer (msat)')
}

/** Validates a LUD-06 payRequest answer. `address`, when given, must match a text/identifier|email entry. */
export function parsePayRequest(body: unknown, address?: string): PayRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new LnurlPayError('BAD_RESPONSE', 'payRequest', 'must be a JSON object')
  }
  const o = body as Record<string, unknown>
  if (o.tag !== 'payRequest') throw new LnurlPayError('BAD_RESPONSE', 'tag', 'must be payRequest')
  const callback = checkServiceUrl('callback', o.callback).toString()
  const minSendableMsat = msatField(o, 'minSendable')
  const maxSendableMsat = msatField(o, 'maxSendable')
  if (minSendableMsat < 1n) throw new LnurlPayError('BAD_RESPONSE', 'minSendable', 'must be at least 1 msat')
  if (maxSendableMsat < minSendableMsat) {
    throw new LnurlPayError('BAD_RESPONSE', 'maxSendable', 'must not be below minSendable')
  }
  if (typeof o.metadata !== 'string' || o.metadata.length === 0) {
    throw new LnurlPayError('BAD_RESPONSE', 'metadata', 'must be a non-empty string')
  }
  const metadata = o.metadata
  let entries: unknown
  try {
    entries = JSON.parse(metadata)
  } catch {
    throw new LnurlPayError('BAD_RESPONSE', 'metadata', 'must be a JSON array (as a string)')
  }
  if (
    !Array.isArray(entries) ||
    !entries.every((e) => Array.isArray(e) && e.length >= 2 && typeof e[0] === 'string' && typeof e[1] === 'string')
  ) {
    throw new LnurlPayError('BAD_RESPONSE', 'metadata', 'must be an array of [mime type, content] pairs')
  }
  const pairs = entries as [string, string][]
  if (!pairs.some(([mime]) => mime === 'text/plain')) {
    throw new LnurlPayError('BAD_RESPONSE', 'metadata', 'must contain a text/plain entry (LUD-06)')
  }
  if (address !== undefined) {
    const named = pairs.filter(([mime]) => mime === 'text/identifier' || mime === 'text/email')
    if (named.length > 0 && !named.some(([, v]) => v.toLowerCase() === address.toLowerCase())) {
      throw new LnurlPayError('BAD_RESPONSE', 'metadata', 'names another Lightning address than the one asked')
    }
  }
  const comment = o.commentAllowed
  const commentAllowed = typeof comment === 'number' && Number.isSafeInteger(comment) && comment > 0 ? comment : 0
  return {
    callback,
    minSendableMsat,
    maxSendableMsat,
    metadata,
    metadataHash: bytesToHex(sha256(new TextEncoder().encode(metadata))),
    commentAllowed,
  }
}

/** The callback URL with `amount` (and an optional LUD-12 comment) added to its query. */
export function callbackUrl(pr: PayRequest, amountMsat: bigint, comment?: string): URL {
  const u = new URL(pr.callback)
  u.searchParams.set('amount', amountMsat.toString())
  if (comment && pr.commentAllowed > 0) u.searchParams.set('comment', comment.slice(0, pr.commentAllowed))
  return u
}

/**
 * Checks the callback's answer: `pr` decodes, is for exactly `amountMsat`, commits to sha256(metadata) and has not
 * expired at `nowSec`. Returns the invoice destination.
 */
export function checkCallbackAnswer(
  body: unknown,
  expected: { amountMsat: bigint; metadataHash: string; nowSec: number },
): InvoiceDestination {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new LnurlPayError('BAD_RESPONSE', 'callback', 'must be a JSON object')
  }
  const pr = (body as { pr?: unknown }).pr
  if (typeof pr !== 'string' || !/^ln/i.test(pr) || pr.length > 8000) {
    throw new LnurlPayError('BAD_RESPONSE', 'pr', 'must be a BOLT11 invoice')
  }
  let sections: { name: string; value?: unknown }[]
  try {
    sections = decodeBolt11(pr).sections as { name: string; value?: unknown }[]
  } catch (e) {
    throw new LnurlPayError('BAD_RESPONSE', 'pr', `does not decode: ${(e as Error).message}`)
  }
  const sec = (n: string) => sections.find((s) => s.name === n)?.value
  const hash = sec('payment_hash')
  if (typeof hash !== 'string' || !/^[0-9a-f]{64}$/i.test(hash)) {
    throw new LnurlPayError('BAD_RESPONSE', 'pr', 'has no payment hash')
  }
  const amount = sec('amount')
  if (amount === undefined) throw new LnurlPayError('AMOUNT_MISMATCH', 'pr', 'the invoice has no amount')
  const amountMsat = BigInt(String(amount))
  if (amountMsat !== expected.amountMsat) {
    throw new LnurlPayError(
      'AMOUNT_MISMATCH',
      'pr',
      `the invoice is for ${amountMsat} msat, ${expected.amountMsat} msat were requested`,
    )
  }
  const dh = sec('description_hash')
  if (typeof dh !== 'string' || dh.toLowerCase() !== expected.metadataHash) {
    throw new LnurlPayError('DESCRIPTION_HASH_MISMATCH', 'pr', 'the description hash is not sha256(metadata)')
  }
  const ts = sec('timestamp')
  const expiry = sec('expiry')
  if (typeof ts === 'number') {
    const expiresAt = ts + (typeof expiry === 'number' ? expiry : 3600)
    if (expected.nowSec >= expiresAt) throw new LnurlPayError('INVOICE_EXPIRED', 'pr', `expired at ${expiresAt}`)
  }
  return { kind: 'invoice', bolt11: pr, paymentHash: hash.toLowerCase(), amountMsat }
}

// ---------------------------------------------------------------------------------------------------------------
// The whole flow

function withDefaults(o: LnurlPayOptions): Required<Omit<LnurlPayOptions, 'logger'>> & { logger: Logger } {
  return {
    fetch: o.fetch ?? (globalThis.fetch as unknown as FetchLike),
    timeoutMs: o.timeoutMs ?? 10_000,
    maxBodyChars: o.maxBodyChars ?? 65_536,
    nowSec: o.nowSec ?? (() => Math.floor(Date.now() / 1000)),
    logger: o.logger ?? createLogger(() => undefined, 'lnurl'),
  }
}

/** Fetches and validates the payRequest behind a Lightning address. */
export async function fetchPayRequest(address: string, opts: LnurlPayOptions = {}): Promise<PayRequest> {
  const o = withDefaults(opts)
  const { url } = lightningAddressUrl(address)
  return parsePayRequest(await getJson(checkServiceUrl('address', url), 'payRequest', o), address.trim())
}

/**
 * Lightning address + amount → a checked invoice. Logs each refusal with its code and field (the address is not
 * a secret; amounts are logged, invoices are not).
 */
export async function resolveLightningAddress(
  address: string,
  amountMsat: bigint,
  opts: LnurlPayOptions & { comment?: string } = {},
): Promise<InvoiceDestination> {
  const o = withDefaults(opts)
  try {
    if (typeof amountMsat !== 'bigint' || amountMsat <= 0n) {
      throw new LnurlPayError('AMOUNT_OUT_OF_RANGE', 'amountMsat', 'must be a positive bigint')
    }
    const pr = await fetchPayRequest(address, opts)
    if (amountMsat < pr.minSendableMsat || amountMsat > pr.maxSendableMsat) {
      throw new LnurlPayError(
        'AMOUNT_OUT_OF_RANGE',
        'amountMsat',
        `${amountMsat} msat is outside [${pr.minSendableMsat}, ${pr.maxSendableMsat}]`,
      )
    }
    const answer = await getJson(callbackUrl(pr, amountMsat, opts.comment), 'callback', o)
    const dest = checkCallbackAnswer(answer, { amountMsat, metadataHash: pr.metadataHash, nowSec: o.nowSec() })
    o.logger.info('lnurl invoice fetched', { address, amountMsat, paymentHash: dest.paymentHash })
    return dest
  } catch (e) {
    if (e instanceof LnurlPayError) {
      o.logger.warn('lnurl invoice refused', { address, amountMsat, code: e.code, field: e.field, reason: e.message })
    }
    throw e
  }
}
