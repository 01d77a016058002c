// Keysend destination (BOLT #4 spontaneous payments, NIP-47 pay_keysend): the recipient is a Lightning node id, a
// 33-byte compressed secp256k1 public key (66 hex digits starting 02 or 03) that must be a point on the curve.
// There is no invoice, so this module chooses the preimage: 32 random bytes, payment hash = sha256(preimage). The
// runner stores both before sending, which gives a keysend the same exactly-once footing as an invoice payment.

import { randomBytes } from 'node:crypto'
import { secp256k1 } from '@noble/curves/secp256k1.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex } from '@noble/hashes/utils.js'
import { DestinationError, type KeysendDestination } from './types'

const NODE_ID_RE = /^0[23][0-9a-f]{64}$/

/** True when `nodeId` is 66 lowercase hex digits of a compressed point on secp256k1. Never throws. */
export function isNodeId(nodeId: unknown): nodeId is string {
  if (typeof nodeId !== 'string' || !NODE_ID_RE.test(nodeId)) return false
  try {
    secp256k1.Point.fromHex(nodeId)
    return true
  } catch {
    return false
  }
}

/** Normalises and checks a node id; throws DestinationError('BAD_DESTINATION', field) naming what is wrong. */
export function parseNodeId(raw: unknown, field = 'nodeId'): string {
  if (typeof raw !== 'string') throw new DestinationError('BAD_DESTINATION', field, 'must be a string')
  const v = raw.trim().toLowerCase()
  if (!/^[0-9a-f]*$/.test(v)) throw new DestinationError('BAD_DESTINATION', field, 'must be hex')
  if (v.length !== 66) throw new DestinationError('BAD_DESTINATION', field, 'must be 33 bytes (66 hex digits)')
  if (!NODE_ID_RE.test(v)) {
    throw new DestinationError('BAD_DESTINATION', field, 'must be a compressed public key (starting 02 or 03)')
  }
  if (!isNodeId(v)) throw new DestinationError('BAD_DESTINATION', field, 'is not a point on secp256k1')
  return v
}

/** A keysend target for `amountMsat` with a fresh preimage (`random` is injectable for tests). */
export function keysendDestination(
  nodeId: string,
  amountMsat: bigint,
  random: (n: number) => Uint8Array = (n) => new Uint8Array(randomBytes(n)),
): KeysendDestination {
  const id = parseNodeId(nodeId)
  if (typeof amountMsat !== 'bigint' || amountMsat <= 0n) {
    throw new DestinationError('BAD_DESTINATION', 'amountMsat', 'must be a positive bigint')
  }
  const pre = random(32)
  if (pre.length !== 32) throw new DestinationError('BAD_DESTINATION', 'preimage', 'random source gave wrong length')
  return { kind: 'keysend', nodeId: id, amountMsat, preimage: bytesToHex(pre), paymentHash: bytesToHex(sha256(pre)) }
}
