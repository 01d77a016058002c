// ATM transaction record (kind 30079), content schema v1: the strict parser the console runs after decrypting,
// the canonical serializer, and `createAtmRecord` for the ATM side (the simulator and ATM makers' reference).
// Spec: docs/protocol.md §5. Money is bigint (msat, fiat minor units) on the wire as canonical decimal strings.

import type { Signer } from '../signer'
import type { NostrEvent } from './event'
import { isHex64 } from './event'
import { KIND_ATM_RECORD, MAX_MSAT, MAX_RECORD_PLAINTEXT_BYTES } from './kinds'
import { type DelegationTag, delegationTag } from './nip26'

export type Direction = 'cash_out' | 'cash_in'
export type RecordStatus = 'completed' | 'partial' | 'failed'

/** The decrypted content of a kind 30079 record, version 1, with money as bigint. */
export interface AtmRecordV1 {
  v: 1
  txId: string
  machineId: string
  direction: Direction
  status: RecordStatus
  fiatMinor: bigint
  fiatDispensedMinor: bigint
  currency: string
  wireMsat: bigint
  principalMsat: bigint
  feeMsat: bigint
  paymentHash: string
  bolt11: string
  feePpm: number
  discountPpm: number
  rateMinorPerBtc: bigint
  startedAt: number
  paidAt: number
  finishedAt: number
}

export type AtmRecordErrorCode = 'json' | 'version' | 'schema' | 'size'

/** Thrown by the parser; `field` is the JSON field at fault (or "content" for the document as a whole). */
export class AtmRecordError extends Error {
  constructor(
    readonly code: AtmRecordErrorCode,
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`)
    this.name = 'AtmRecordError'
  }
}

export const SCHEMA_VERSION = 1
export const ID_PATTERN = /^[A-Za-z0-9._:-]{1,64}$/
const DECIMAL = /^(0|[1-9][0-9]{0,19})$/
const CURRENCY = /^[A-Z]{3}$/
const BOLT11 = /^ln[a-z0-9]{18,2046}$/
/** Fiat amounts above 10^15 minor units are not plausible at an ATM and would risk overflow elsewhere. */
export const MAX_FIAT_MINOR = 1_000_000_000_000_000n
const MAX_PPM = 1_000_000

const FIELDS = [
  'v',
  'txId',
  'machineId',
  'direction',
  'status',
  'fiatMinor',
  'fiatDispensedMinor',
  'currency',
  'wireMsat',
  'principalMsat',
  'feeMsat',
  'paymentHash',
  'bolt11',
  'feePpm',
  'discountPpm',
  'rateMinorPerBtc',
  'startedAt',
  'paidAt',
  'finishedAt',
] as const

const fail = (field: string, message: string): never => {
  throw new AtmRecordError('schema', field, message)
}

function str(o: Record<string, unknown>, field: string, re: RegExp, what: string): string {
  const v = o[field]
  if (typeof v !== 'string') return fail(field, `must be a string (${what})`)
  if (!re.test(v)) return fail(field, `must be ${what}, got ${JSON.stringify(v.slice(0, 80))}`)
  return v
}

function dec(o: Record<string, unknown>, field: string, min: bigint, max: bigint): bigint {
  const v = o[field]
  if (typeof v !== 'string') return fail(field, 'must be a decimal string')
  if (!DECIMAL.test(v)) return fail(field, `must be a canonical decimal string (digits, no sign, no leading zero)`)
  const n = BigInt(v)
  if (n < min || n > max) return fail(field, `must be between ${min} and ${max}`)
  return n
}

function int(o: Record<string, unknown>, field: string, min: number, max: number): number {
  const v = o[field]
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) return fail(field, 'must be an integer')
  if (v < min || v > max) return fail(field, `must be between ${min} and ${max}`)
  return v
}

function oneOf<T extends string>(o: Record<string, unknown>, field: string, values: readonly T[]): T {
  const v = o[field]
  if (typeof v !== 'string' || !(values as readonly string[]).includes(v))
    return fail(field, `must be one of ${values.join(', ')}`)
  return v as T
}

/** Strict v1 parser: every field present with its type and limits, no unknown field, cross-field rules hold. */
export function parseAtmRecordContent(plaintext: string): AtmRecordV1 {
  if (new TextEncoder().encode(plaintext).length > MAX_RECORD_PLAINTEXT_BYTES)
    throw new AtmRecordError('size', 'content', `decrypted document exceeds ${MAX_RECORD_PLAINTEXT_BYTES} bytes`)
  let doc: unknown
  try {
    doc = JSON.parse(plaintext)
  } catch {
    throw new AtmRecordError('json', 'content', 'is not valid JSON')
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc))
    throw new AtmRecordError('schema', 'content', 'must be a JSON object')
  const o = doc as Record<string, unknown>
  if (o.v !== SCHEMA_VERSION)
    throw new AtmRecordError('version', 'v', `unsupported schema version ${JSON.stringify(o.v)} (this console reads 1)`)
  for (const k of Object.keys(o))
    if (!(FIELDS as readonly string[]).includes(k)) fail(k, 'unknown field (schema v1 is closed)')
  const r: AtmRecordV1 = {
    v: 1,
    txId: str(o, 'txId', ID_PATTERN, '1-64 characters of A-Z a-z 0-9 . _ : -'),
    machineId: str(o, 'machineId', ID_PATTERN, '1-64 characters of A-Z a-z 0-9 . _ : -'),
    direction: oneOf(o, 'direction', ['cash_out', 'cash_in'] as const),
    status: oneOf(o, 'status', ['completed', 'partial', 'failed'] as const),
    fiatMinor: dec(o, 'fiatMinor', 1n, MAX_FIAT_MINOR),
    fiatDispensedMinor: dec(o, 'fiatDispensedMinor', 0n, MAX_FIAT_MINOR),
    currency: str(o, 'currency', CURRENCY, 'an ISO 4217 code (three capital letters)'),
    wireMsat: dec(o, 'wireMsat', 1n, MAX_MSAT),
    principalMsat: dec(o, 'principalMsat', 0n, MAX_MSAT),
    feeMsat: dec(o, 'feeMsat', 0n, MAX_MSAT),
    paymentHash: str(o, 'paymentHash', /^[0-9a-f]{64}$/, '64 lowercase hex characters'),
    bolt11: str(o, 'bolt11', BOLT11, 'a lowercase BOLT-11 invoice (ln…, 20-2048 characters)'),
    feePpm: int(o, 'feePpm', 0, MAX_PPM),
    discountPpm: int(o, 'discountPpm', 0, MAX_PPM),
    rateMinorPerBtc: dec(o, 'rateMinorPerBtc', 1n, MAX_FIAT_MINOR),
    startedAt: int(o, 'startedAt', 0, Number.MAX_SAFE_INTEGER),
    paidAt: int(o, 'paidAt', 0, Number.MAX_SAFE_INTEGER),
    finishedAt: int(o, 'finishedAt', 0, Number.MAX_SAFE_INTEGER),
  }
  checkCrossFields(r)
  return r
}

/** Rules that tie fields together (docs/protocol.md §5.2). Throws AtmRecordError naming the field. */
export function checkCrossFields(r: AtmRecordV1): void {
  if (r.paidAt < r.startedAt) fail('paidAt', 'must not be before startedAt')
  if (r.finishedAt < r.paidAt) fail('finishedAt', 'must not be before paidAt')
  if (r.fiatDispensedMinor > r.fiatMinor) fail('fiatDispensedMinor', 'must not exceed fiatMinor')
  if (r.direction === 'cash_in') {
    if (r.status !== 'completed') fail('status', 'a cash_in record is always completed')
    if (r.fiatDispensedMinor !== 0n) fail('fiatDispensedMinor', 'must be "0" for cash_in')
    return
  }
  if (r.status === 'completed' && r.fiatDispensedMinor !== r.fiatMinor)
    fail('fiatDispensedMinor', 'must equal fiatMinor when status is completed')
  if (r.status === 'partial' && (r.fiatDispensedMinor === 0n || r.fiatDispensedMinor === r.fiatMinor))
    fail('fiatDispensedMinor', 'must be between 0 and fiatMinor (exclusive) when status is partial')
  if (r.status === 'failed' && r.fiatDispensedMinor !== 0n)
    fail('fiatDispensedMinor', 'must be "0" when status is failed')
}

/** Canonical JSON: fields in schema order, bigints as decimal strings. Throws if the record breaks the schema. */
export function serializeAtmRecordContent(r: AtmRecordV1): string {
  const o: Record<string, unknown> = {}
  for (const k of FIELDS) {
    const v = r[k]
    o[k] = typeof v === 'bigint' ? v.toString() : v
  }
  const s = JSON.stringify(o)
  parseAtmRecordContent(s) // the writer obeys the same schema as the reader
  return s
}

export interface CreateAtmRecordInput {
  record: AtmRecordV1
  consolePubkey: string
  /** The operator's delegation for this ATM key, as handed over at pairing. */
  delegation: DelegationTag
  /** Unix seconds; must lie inside the delegation window. */
  createdAt: number
}

/**
 * ATM side: serialize the document, encrypt it to the console key (NIP-44 v2), and sign the kind 30079 event with
 * the ATM key through `atmSigner`. Tag order is fixed: d, p, delegation.
 */
export async function createAtmRecord(input: CreateAtmRecordInput, atmSigner: Signer): Promise<NostrEvent> {
  if (!isHex64(input.consolePubkey)) throw new AtmRecordError('schema', 'consolePubkey', 'must be 64 lowercase hex')
  const plaintext = serializeAtmRecordContent(input.record)
  const content = await atmSigner.nip44Encrypt(input.consolePubkey, plaintext)
  return atmSigner.signEvent({
    kind: KIND_ATM_RECORD,
    created_at: input.createdAt,
    tags: [['d', input.record.txId], ['p', input.consolePubkey], delegationTag(input.delegation)],
    content,
  })
}
