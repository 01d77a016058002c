// Settlement receipt (kind 3079, regular: stored, never replaced), signed by the console key for every booked
// settlement. Anyone holding it can check sha256(preimage) = payment_hash (docs/protocol.md §8).
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js'
import type { EventTemplate, NostrEvent } from './event'
import { checkEvent, isHex64 } from './event'
import { KIND_RECEIPT, MAX_MSAT } from './kinds'

export interface ReceiptFields {
  /** Id of the kind 30079 record version that was booked. */
  recordEventId: string
  operatorPubkey: string
  atmPubkey: string
  paymentHash: string
  preimage: string
  amountMsat: bigint
}

export interface Receipt extends ReceiptFields {
  eventId: string
  consolePubkey: string
  createdAt: number
}

export class ReceiptError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`)
    this.name = 'ReceiptError'
  }
}

const preimageMatches = (preimage: string, paymentHash: string): boolean =>
  bytesToHex(sha256(hexToBytes(preimage))) === paymentHash

function checkFields(f: ReceiptFields): void {
  for (const k of ['recordEventId', 'operatorPubkey', 'atmPubkey', 'paymentHash', 'preimage'] as const)
    if (!isHex64(f[k])) throw new ReceiptError(k, 'must be 64 lowercase hex characters')
  if (f.amountMsat <= 0n || f.amountMsat > MAX_MSAT) throw new ReceiptError('amountMsat', 'out of range')
  if (!preimageMatches(f.preimage, f.paymentHash)) throw new ReceiptError('preimage', 'sha256(preimage) ≠ payment_hash')
}

/** The unsigned receipt the console key signs. Tag order: e, p, P, payment_hash, preimage, amount. */
export function buildReceiptTemplate(f: ReceiptFields, createdAt: number): EventTemplate {
  checkFields(f)
  return {
    kind: KIND_RECEIPT,
    created_at: createdAt,
    tags: [
      ['e', f.recordEventId],
      ['p', f.operatorPubkey],
      ['P', f.atmPubkey],
      ['payment_hash', f.paymentHash],
      ['preimage', f.preimage],
      ['amount', f.amountMsat.toString()],
    ],
    content: '',
  }
}

function one(ev: NostrEvent, name: string): string {
  const t = ev.tags.filter((x) => x[0] === name)
  if (t.length !== 1 || t[0]![1] === undefined) throw new ReceiptError(`tags.${name}`, 'exactly one is required')
  return t[0]![1]
}

/** Verifies a receipt: id, signature, console author (if given), kind, tags, and the preimage. */
export function parseReceiptEvent(ev: NostrEvent, consolePubkey?: string): Receipt {
  const check = checkEvent(ev)
  if (!check.ok) throw new ReceiptError('event', check.detail)
  if (ev.kind !== KIND_RECEIPT) throw new ReceiptError('kind', `must be ${KIND_RECEIPT}`)
  if (consolePubkey !== undefined && ev.pubkey !== consolePubkey)
    throw new ReceiptError('pubkey', 'not signed by the console key')
  const amount = one(ev, 'amount')
  if (!/^[1-9][0-9]{0,18}$/.test(amount)) throw new ReceiptError('tags.amount', 'must be a positive decimal msat')
  const f: ReceiptFields = {
    recordEventId: one(ev, 'e'),
    operatorPubkey: one(ev, 'p'),
    atmPubkey: one(ev, 'P'),
    paymentHash: one(ev, 'payment_hash'),
    preimage: one(ev, 'preimage'),
    amountMsat: BigInt(amount),
  }
  checkFields(f)
  return { ...f, eventId: ev.id, consolePubkey: ev.pubkey, createdAt: ev.created_at }
}
