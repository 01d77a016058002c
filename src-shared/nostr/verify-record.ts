// The acceptance pipeline for ATM transaction records (kind 30079): docs/protocol.md "a record is booked only if all
// hold", in order, each failure with its own reason code (docs/protocol.md §9). Pure: the console key's
// decryption, the roster and config history, the wallet's lookup_invoice and the ledger's booked set are injected,
// so the main-process service backs them with the signer, the relay pool, the NWC client and the ledger.
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js'
import type { Logger } from '../log'
import { AtmRecordError, type AtmRecordV1, ID_PATTERN, parseAtmRecordContent } from './atm-record'
import { checkEvent, copyEvent, isHex64, type NostrEvent, type SchnorrVerify } from './event'
import { KIND_ATM_RECORD, MAX_BACKDATE_SKEW_SEC, MAX_FUTURE_SKEW_SEC, MAX_RECORD_CONTENT_CHARS } from './kinds'
import { delegationTokenSha256, type MachineConfig } from './machine-config'
import {
  conditionsAllow,
  type DelegationConditions,
  type DelegationTag,
  type DelegationTokenMemo,
  Nip26Error,
  parseConditions,
  parseDelegationTag,
  verifyDelegationToken,
} from './nip26'
import { membershipAt, type Roster } from './roster'

/**
 * The fee fractions an ATM claims in its record, compared with the operator-signed machine config it runs under
 * (docs/protocol.md §5.3): like the claimed fee in msat they are never trusted, only compared. Returns a sentence
 * naming each difference, or null when both agree. A difference does not refuse the record — the payment is real —
 * but flags the settlement for the operator.
 */
export function claimedRatesMismatch(
  record: { direction: 'cash_out' | 'cash_in'; feePpm: number; discountPpm: number },
  config: Pick<MachineConfig, 'fees' | 'discountPpm'>,
): string | null {
  const f = config.fees[record.direction]
  const configFeePpm = f.platformPpm + f.operatorPpm
  const parts: string[] = []
  if (record.feePpm !== configFeePpm)
    parts.push(`feePpm ${record.feePpm} but the signed config says ${configFeePpm} for ${record.direction}`)
  if (record.discountPpm !== config.discountPpm)
    parts.push(`discountPpm ${record.discountPpm} but the signed config says ${config.discountPpm}`)
  return parts.length === 0 ? null : `the ATM claims ${parts.join('; ')}`
}

/**
 * How long after a config names a new delegation the ATM's previous token still counts: the time to load the new
 * pairing payload onto the ATM (docs/protocol.md §6).
 */
export const SUPERSEDED_TOKEN_GRACE_SEC = 600

/**
 * Roster membership at `createdAt`, with the same clock skew the delegation window allows before pairing: an ATM's
 * delegation starts `skewSec` before it is issued (a lagging ATM clock), but the roster that lists it is signed at
 * pairing. A record dated in that gap — not listed (or no roster yet) at created_at, but listed at created_at +
 * skew — counts as a member of the roster that admitted it. A key that was listed and then DROPPED before
 * created_at gets no grace: revocation stays exact.
 */
export function rosterMembership(
  rosters: readonly Roster[],
  pubkey: string,
  createdAt: number,
  skewSec: number,
): ReturnType<typeof membershipAt> {
  const m = membershipAt(rosters, pubkey, createdAt)
  if (m.status !== 'no_roster' && m.status !== 'not_listed') return m
  const joining = membershipAt(rosters, pubkey, createdAt + skewSec)
  return joining.status === 'member' ? joining : m
}

/** Every reason a record is not booked, in pipeline order, with whether trying again later can change it. */
export const REJECT_REASONS = {
  malformed_event: { retryable: false, text: 'not a well-formed NIP-01 event' },
  bad_id: { retryable: false, text: 'id is not the hash of the event' },
  bad_signature: { retryable: false, text: 'signature does not verify' },
  duplicate_event: { retryable: false, text: 'this exact event was already processed (ignored)' },
  wrong_kind: { retryable: false, text: 'kind is not 30079' },
  bad_tags: { retryable: false, text: 'd or p tag missing, repeated or malformed' },
  wrong_recipient: { retryable: false, text: 'p tag is not this console key' },
  no_roster: { retryable: true, text: 'no fleet roster is known yet' },
  before_roster: {
    retryable: false,
    text: 'created_at is more than the clock skew before the first roster version that lists the author',
  },
  not_in_roster: { retryable: false, text: 'author was not in the roster in force at created_at' },
  revoked: { retryable: false, text: 'author had been removed from the roster before created_at' },
  delegation_missing: { retryable: false, text: 'delegation tag missing or malformed' },
  delegation_wrong_delegator: { retryable: false, text: 'delegation is not from the operator key' },
  delegation_conditions_invalid: { retryable: false, text: 'delegation conditions do not parse' },
  delegation_bad_token: { retryable: false, text: 'delegation token does not verify' },
  delegation_not_allowed: { retryable: false, text: 'delegation conditions do not allow kind 30079 at created_at' },
  content_too_large: { retryable: false, text: 'content exceeds the size limit' },
  decrypt_failed: { retryable: false, text: 'content does not decrypt with the console key' },
  unsupported_version: { retryable: false, text: 'content schema version is not supported' },
  schema_invalid: { retryable: false, text: 'content does not match the schema' },
  tx_id_mismatch: { retryable: false, text: 'content txId differs from the d tag' },
  no_machine_config: { retryable: true, text: 'no machine config is known for this ATM' },
  config_mismatch: { retryable: false, text: 'machineId or currency differs from the machine config' },
  delegation_superseded: {
    retryable: false,
    text: 'the machine config in force names another delegation token (renewed or re-paired)',
  },
  future_timestamp: { retryable: true, text: 'created_at is beyond the allowed clock skew' },
  wallet_unavailable: { retryable: true, text: 'the wallet could not be asked (lookup_invoice failed)' },
  payment_not_found: { retryable: true, text: 'the wallet does not know the payment hash' },
  payment_not_settled: { retryable: true, text: 'the wallet says the payment is not settled' },
  direction_mismatch: {
    retryable: false,
    text: 'the wallet transaction runs the other way (a cash-out must name an incoming invoice, a cash-in an outgoing payment)',
  },
  amount_mismatch: { retryable: false, text: 'settled amount differs from wireMsat' },
  preimage_mismatch: { retryable: false, text: 'sha256(preimage) differs from the payment hash' },
  created_before_payment: { retryable: false, text: 'created_at predates the settlement beyond the allowed skew' },
  duplicate_payment: { retryable: false, text: 'the payment hash is already booked for another record' },
  version_conflict: { retryable: false, text: 'a booked version of this transaction names a different payment' },
} as const

export type RejectReason = keyof typeof REJECT_REASONS
export const REJECT_REASON_CODES = Object.keys(REJECT_REASONS) as RejectReason[]

/** What the wallet said through NIP-47 lookup_invoice. */
export type InvoiceLookup =
  | { found: false }
  | {
      found: true
      settled: boolean
      amountMsat: bigint
      preimage: string | null
      settledAt?: number | null
      /** NIP-47 transaction `type`: money into the operator's wallet, or out of it. */
      type?: 'incoming' | 'outgoing'
    }

/** A booked settlement, as the ledger knows it. */
export interface BookedRef {
  eventId: string
  atmPubkey: string
  txId: string
  paymentHash: string
}

export interface VerifyRecordContext {
  operatorPubkey: string
  consolePubkey: string
  /** Console clock, unix seconds. */
  nowSec: number
  maxFutureSkewSec?: number
  maxBackdateSkewSec?: number
  /** Every verified roster version (history), operator-signed. */
  rosters: readonly Roster[]
  /** True if this event id was already processed (booked, kept as history, or stored as rejected). */
  isEventKnown(eventId: string): Promise<boolean> | boolean
  /** NIP-44 v2 decryption with the console key of a payload from `senderPubkey`. Throws on failure. */
  decrypt(senderPubkey: string, payload: string): Promise<string>
  /** The machine config in force for this ATM at `createdAt` (or the latest known), or null. */
  machineConfig(atmPubkey: string, createdAt: number): Promise<MachineConfig | null> | MachineConfig | null
  /** NIP-47 lookup_invoice on the operator's wallet. Throws when the wallet cannot answer. */
  lookupInvoice(paymentHash: string): Promise<InvoiceLookup>
  /** The settlement booked for this payment hash, if any. */
  isBooked(paymentHash: string): Promise<BookedRef | null> | BookedRef | null
  /** The settlement booked for this ATM transaction (same author, same d), if any. */
  bookedVersionOf(atmPubkey: string, txId: string): Promise<BookedRef | null> | BookedRef | null
  /** Optional: every outcome is logged here (event id, author, reason; never key material or plaintext). */
  log?: Logger
  /**
   * Optional BIP-340 verifier for the event signature and the delegation token (default: pure-JS noble). The
   * console passes the relay pool's WASM verifier. Both checks always run; only their implementation changes.
   */
  verifySignature?: SchnorrVerify
  /** Optional memo of delegation tokens that already verified (same delegator, delegatee, conditions, token). */
  delegationMemo?: DelegationTokenMemo
  /**
   * Optional: true when this exact object is an event whose id and signature were already verified in this process
   * and which cannot have changed since (the relay pool's deep-frozen copies). Steps 2–3 then reuse that verdict
   * instead of hashing and checking the signature again; any other input (imports, retries loaded from the ledger)
   * is checked in full. The shape check (step 1) always runs.
   */
  alreadyVerified?: (event: object) => boolean
}

export interface VerifiedRecord {
  /** A copy of the event with only the NIP-01 fields. */
  event: NostrEvent
  atmPubkey: string
  txId: string
  createdAt: number
  record: AtmRecordV1
  config: MachineConfig
  delegation: DelegationTag & { parsed: DelegationConditions }
  rosterEventId: string
  preimage: string
  settledAt: number | null
}

export type VerifyRecordResult =
  /** `book`: a new settlement. `history`: a further version of an already booked transaction; keep, do not book. */
  | { ok: true; action: 'book'; record: VerifiedRecord }
  | { ok: true; action: 'history'; record: VerifiedRecord; booked: BookedRef }
  | { ok: false; reason: RejectReason; detail: string; retryable: boolean }

const reject = (reason: RejectReason, detail: string): VerifyRecordResult => ({
  ok: false,
  reason,
  detail,
  retryable: REJECT_REASONS[reason].retryable,
})

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e))

/**
 * Runs every acceptance rule in order and returns the first failure, or the verified record. Never throws for bad
 * input: a dependency that throws unexpectedly is reported as the reason of its step.
 */
export async function verifyRecord(input: unknown, ctx: VerifyRecordContext): Promise<VerifyRecordResult> {
  const result = await runPipeline(input, ctx)
  if (ctx.log) {
    const e = (typeof input === 'object' && input !== null ? input : {}) as Record<string, unknown>
    const fields = {
      eventId: typeof e.id === 'string' ? e.id.slice(0, 64) : null,
      author: typeof e.pubkey === 'string' ? e.pubkey.slice(0, 64) : null,
    }
    if (result.ok) ctx.log.info('atm record accepted', { ...fields, action: result.action, txId: result.record.txId })
    else if (result.reason === 'duplicate_event') ctx.log.debug('atm record ignored (duplicate)', fields)
    else
      ctx.log.warn('atm record rejected', {
        ...fields,
        reason: result.reason,
        retryable: result.retryable,
        detail: result.detail,
      })
  }
  return result
}

async function runPipeline(input: unknown, ctx: VerifyRecordContext): Promise<VerifyRecordResult> {
  // 1–3. NIP-01 shape, id, signature.
  const check = checkEvent(input, ctx.verifySignature, ctx.alreadyVerified)
  if (!check.ok) return reject(check.reason === 'malformed' ? 'malformed_event' : check.reason, check.detail)
  const ev = copyEvent(input as NostrEvent)

  // 4. The same event seen twice is ignored idempotently.
  if (await ctx.isEventKnown(ev.id)) return reject('duplicate_event', `event ${ev.id} was already processed`)

  // 5–7. Kind and tags.
  if (ev.kind !== KIND_ATM_RECORD) return reject('wrong_kind', `kind ${ev.kind}, expected ${KIND_ATM_RECORD}`)
  const ds = ev.tags.filter((t) => t[0] === 'd')
  if (ds.length !== 1) return reject('bad_tags', `expected exactly one d tag, found ${ds.length}`)
  const txId = ds[0]![1] ?? ''
  if (!ID_PATTERN.test(txId)) return reject('bad_tags', 'd tag value must be 1-64 characters of A-Z a-z 0-9 . _ : -')
  const ps = ev.tags.filter((t) => t[0] === 'p')
  if (ps.length !== 1) return reject('bad_tags', `expected exactly one p tag, found ${ps.length}`)
  if (!isHex64(ps[0]![1])) return reject('bad_tags', 'p tag value must be 64 lowercase hex characters')
  if (ps[0]![1] !== ctx.consolePubkey) return reject('wrong_recipient', `p tag names ${ps[0]![1]}`)

  // 8. Author in the roster in force at created_at.
  const m = rosterMembership(ctx.rosters, ev.pubkey, ev.created_at, ctx.maxFutureSkewSec ?? MAX_FUTURE_SKEW_SEC)
  if (m.status === 'no_roster') {
    // Relays keep only the newest roster version, so a version older than those known cannot arrive later: only
    // "no roster at all yet" can change with time.
    if (ctx.rosters.length === 0) return reject('no_roster', 'no fleet roster has been received yet')
    return reject('before_roster', `no roster version at or before ${ev.created_at} + clock skew lists the author`)
  }
  if (m.status === 'not_listed') return reject('not_in_roster', `roster ${m.roster.eventId} does not list the author`)
  if (m.status === 'revoked')
    return reject('revoked', `author removed from the roster at ${m.revokedAt} (roster ${m.roster.eventId})`)

  // 9. Delegation from the operator allowing kind 30079 at created_at.
  let delegation: DelegationTag
  try {
    delegation = parseDelegationTag(ev)
  } catch (e) {
    return reject('delegation_missing', message(e))
  }
  if (delegation.delegatorPubkey !== ctx.operatorPubkey)
    return reject('delegation_wrong_delegator', `delegator ${delegation.delegatorPubkey} is not the operator`)
  let parsed: DelegationConditions
  try {
    parsed = parseConditions(delegation.conditions)
  } catch (e) {
    return reject('delegation_conditions_invalid', e instanceof Nip26Error ? e.message : message(e))
  }
  const tokenOk = ctx.delegationMemo
    ? ctx.delegationMemo.verify(
        delegation.delegatorPubkey,
        ev.pubkey,
        delegation.conditions,
        delegation.token,
        ctx.verifySignature,
      )
    : verifyDelegationToken(
        delegation.delegatorPubkey,
        ev.pubkey,
        delegation.conditions,
        delegation.token,
        ctx.verifySignature,
      )
  if (!tokenOk)
    return reject('delegation_bad_token', 'token is not the operator signature over this delegatee and conditions')
  if (parsed.kinds.length === 0 || !conditionsAllow(parsed, ev))
    return reject('delegation_not_allowed', `conditions "${delegation.conditions}" do not allow this event`)

  // 10. Content: size, decryption, schema, txId = d.
  if (ev.content.length > MAX_RECORD_CONTENT_CHARS)
    return reject('content_too_large', `content has ${ev.content.length} characters (max ${MAX_RECORD_CONTENT_CHARS})`)
  let plaintext: string
  try {
    plaintext = await ctx.decrypt(ev.pubkey, ev.content)
  } catch (e) {
    return reject('decrypt_failed', message(e))
  }
  let record: AtmRecordV1
  try {
    record = parseAtmRecordContent(plaintext)
  } catch (e) {
    if (e instanceof AtmRecordError) {
      if (e.code === 'version') return reject('unsupported_version', e.message)
      if (e.code === 'size') return reject('content_too_large', e.message)
      return reject('schema_invalid', e.message)
    }
    return reject('schema_invalid', message(e))
  }
  if (record.txId !== txId) return reject('tx_id_mismatch', `content txId "${record.txId}" but d tag "${txId}"`)

  // 11. The machine has a config, and the record agrees with it.
  let config: MachineConfig | null
  try {
    // The first config is signed at pairing, like the roster: the same joining skew applies (docs/protocol.md §7).
    config =
      (await ctx.machineConfig(ev.pubkey, ev.created_at)) ??
      (await ctx.machineConfig(ev.pubkey, ev.created_at + (ctx.maxFutureSkewSec ?? MAX_FUTURE_SKEW_SEC)))
  } catch (e) {
    return reject('no_machine_config', message(e))
  }
  if (config === null) return reject('no_machine_config', `no config for ATM ${ev.pubkey}`)
  if (config.atmPubkey !== ev.pubkey) return reject('no_machine_config', 'the config found belongs to another ATM')
  if (config.machineId !== record.machineId)
    return reject('config_mismatch', `machineId "${record.machineId}" but config says "${config.machineId}"`)
  if (config.currency !== record.currency)
    return reject('config_mismatch', `currency ${record.currency} but config says ${config.currency}`)
  // A config that names the delegation in force supersedes every other token of this ATM once its grace has
  // passed: a renewal or a re-pairing then cuts the old token off instead of leaving it valid until it expires.
  if (
    config.delegationSha256 !== null &&
    delegationTokenSha256(delegation.token) !== config.delegationSha256 &&
    ev.created_at > config.createdAt + SUPERSEDED_TOKEN_GRACE_SEC
  )
    return reject(
      'delegation_superseded',
      `config ${config.eventId} put another delegation in force at ${config.createdAt}; this token no longer counts`,
    )

  // 12. Clock skew.
  const maxFuture = ctx.maxFutureSkewSec ?? MAX_FUTURE_SKEW_SEC
  if (ev.created_at > ctx.nowSec + maxFuture)
    return reject('future_timestamp', `created_at ${ev.created_at} is more than ${maxFuture} s after ${ctx.nowSec}`)

  // 13. The operator's wallet confirms the payment.
  let lookup: InvoiceLookup
  try {
    lookup = await ctx.lookupInvoice(record.paymentHash)
  } catch (e) {
    return reject('wallet_unavailable', message(e))
  }
  if (!lookup.found) return reject('payment_not_found', `wallet does not know ${record.paymentHash}`)
  if (!lookup.settled) return reject('payment_not_settled', `payment ${record.paymentHash} is not settled`)
  // A cash-out is paid INTO the operator's wallet by the customer; a cash-in is paid OUT of it to the customer. A
  // record naming a payment that ran the other way (or whose direction the wallet did not state) is a forgery or a
  // bug: the same hash and amount prove nothing about who paid whom.
  const expectedType = record.direction === 'cash_out' ? 'incoming' : 'outgoing'
  if (lookup.type !== expectedType)
    return reject(
      'direction_mismatch',
      `${record.direction} record names ${lookup.type ?? 'a payment of unstated direction'}, expected ${expectedType}`,
    )
  if (lookup.amountMsat !== record.wireMsat)
    return reject('amount_mismatch', `wallet settled ${lookup.amountMsat} msat, record claims ${record.wireMsat}`)
  if (lookup.preimage === null || !isHex64(lookup.preimage))
    return reject('preimage_mismatch', 'the wallet returned no 32-byte preimage')
  if (bytesToHex(sha256(hexToBytes(lookup.preimage))) !== record.paymentHash)
    return reject('preimage_mismatch', 'sha256(preimage) is not the payment hash')
  const settledAt = lookup.settledAt ?? null
  const maxBack = ctx.maxBackdateSkewSec ?? MAX_BACKDATE_SKEW_SEC
  // A key revoked later must not be able to backdate a record into its authorised past for a newer payment.
  if (settledAt !== null && ev.created_at < settledAt - maxBack)
    return reject('created_before_payment', `created_at ${ev.created_at} but the wallet settled at ${settledAt}`)

  const verified: VerifiedRecord = {
    event: ev,
    atmPubkey: ev.pubkey,
    txId,
    createdAt: ev.created_at,
    record,
    config,
    delegation: { ...delegation, parsed },
    rosterEventId: m.roster.eventId,
    preimage: lookup.preimage,
    settledAt,
  }

  // 14. Booked once per payment hash; a further version of the same transaction is history.
  const byHash = await ctx.isBooked(record.paymentHash)
  if (byHash !== null) {
    if (byHash.atmPubkey === ev.pubkey && byHash.txId === txId)
      return { ok: true, action: 'history', record: verified, booked: byHash }
    return reject('duplicate_payment', `payment ${record.paymentHash} is booked for event ${byHash.eventId}`)
  }
  const byTx = await ctx.bookedVersionOf(ev.pubkey, txId)
  if (byTx !== null)
    return reject('version_conflict', `transaction ${txId} was booked with payment ${byTx.paymentHash}`)
  return { ok: true, action: 'book', record: verified }
}
