// NIP-01 event types and strict checks, pure (no I/O): shape validation, id recomputation and BIP-340 signature
// verification with @noble/curves. The one definition of the event type, its id and its shape rules: the protocol
// modules in this folder, the relay pool (src-main/nostr/event-verifier.ts re-exports from here) and the ledger
// procedures all use it (docs/protocol.md §2).
//
// We deliberately do not call nostr-tools' verifyEvent: it caches "valid" on the object under a symbol, and an
// object spread from a verified event carries that symbol along, so a mutated copy would be believed.
import { schnorr } from '@noble/curves/secp256k1.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex, hexToBytes, utf8ToBytes } from '@noble/hashes/utils.js'

/** A signed NIP-01 event (the one definition; src-main/nostr/event-verifier.ts re-exports it as SignedEvent). */
export interface NostrEvent {
  id: string
  pubkey: string
  created_at: number
  kind: number
  tags: string[][]
  content: string
  sig: string
}

/** The same event under the name the relay pool uses for what travels on the wire. */
export type SignedEvent = NostrEvent

/** A verified event: a deep-frozen plain record, safe to share between subscribers. */
export type VerifiedEvent = Readonly<{
  id: string
  pubkey: string
  created_at: number
  kind: number
  tags: ReadonlyArray<ReadonlyArray<string>>
  content: string
  sig: string
}>

/** What a signer is asked to sign: the author's key is the signer's, the id and sig are computed from these. */
export interface EventTemplate {
  created_at: number
  kind: number
  tags: string[][]
  content: string
}

/** A BIP-340 verifier over hex inputs; returns false (never throws) when the signature does not verify. */
export type SchnorrVerify = (sigHex: string, msgHex: string, pubkeyHex: string) => boolean

const HEX64 = /^[0-9a-f]{64}$/
const HEX128 = /^[0-9a-f]{128}$/

export const isHex64 = (s: unknown): s is string => typeof s === 'string' && HEX64.test(s)
export const isHex128 = (s: unknown): s is string => typeof s === 'string' && HEX128.test(s)

/** Thrown by parseSignedEvent: names the offending field. */
export class EventShapeError extends Error {
  override readonly name = 'EventShapeError'
  constructor(
    readonly field: string,
    readonly reason: string,
  ) {
    super(`malformed event: ${field} ${reason}`)
  }
}

/**
 * The one NIP-01 shape check. `allowEmptyTags` keeps the relay pool's leniency (NIP-01 does not forbid an empty
 * tag array, so the pool passes such events on), while the protocol checks below refuse them: no tag this
 * protocol reads can be empty.
 */
function shapeProblem(ev: unknown, allowEmptyTags: boolean): { field: string; reason: string } | null {
  if (typeof ev !== 'object' || ev === null || Array.isArray(ev)) return { field: 'event', reason: 'is not an object' }
  const e = ev as Record<string, unknown>
  if (!isHex64(e.id)) return { field: 'id', reason: 'must be 64 lowercase hex characters' }
  if (!isHex64(e.pubkey)) return { field: 'pubkey', reason: 'must be 64 lowercase hex characters' }
  if (!isHex128(e.sig)) return { field: 'sig', reason: 'must be 128 lowercase hex characters' }
  if (typeof e.created_at !== 'number' || !Number.isSafeInteger(e.created_at) || e.created_at < 0)
    return { field: 'created_at', reason: 'must be a non-negative integer' }
  if (typeof e.kind !== 'number' || !Number.isInteger(e.kind) || e.kind < 0 || e.kind > 65535)
    return { field: 'kind', reason: 'must be an integer 0..65535' }
  if (typeof e.content !== 'string') return { field: 'content', reason: 'must be a string' }
  if (!Array.isArray(e.tags)) return { field: 'tags', reason: 'must be an array' }
  for (let i = 0; i < e.tags.length; i++) {
    const t: unknown = e.tags[i]
    if (!Array.isArray(t) || (!allowEmptyTags && t.length === 0))
      return { field: `tags[${i}]`, reason: allowEmptyTags ? 'must be an array' : 'must be a non-empty array' }
    for (let j = 0; j < t.length; j++)
      if (typeof t[j] !== 'string') return { field: `tags[${i}][${j}]`, reason: 'must be a string' }
  }
  return null
}

/** Why an object is not a well-formed event; null when it is. Names the offending field. */
export function eventShapeError(ev: unknown): string | null {
  const p = shapeProblem(ev, false)
  return p === null ? null : `${p.field} ${p.reason}`
}

/**
 * Copies the NIP-01 fields of an untrusted value into a fresh plain object, checking each one (empty tag arrays
 * allowed). Unknown fields and symbol-keyed properties (such as a library's cached "verified" flag) are left
 * behind. Throws EventShapeError naming the field.
 */
export function parseSignedEvent(raw: unknown): SignedEvent {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new EventShapeError('event', 'is not an object')
  // Read every field once into a fresh object and check that copy, so what was checked is what is returned.
  const { id, pubkey, created_at, kind, tags, content, sig } = raw as Record<string, unknown>
  const copy = {
    id,
    pubkey,
    created_at,
    kind,
    tags: Array.isArray(tags) ? tags.map((t: unknown) => (Array.isArray(t) ? [...t] : t)) : tags,
    content,
    sig,
  }
  const p = shapeProblem(copy, true)
  if (p !== null) throw new EventShapeError(p.field, p.reason)
  return copy as SignedEvent
}

/** Deep-freezes a parsed event (the tag arrays too), so no subscriber can change what another one sees. */
export function freezeEvent(ev: SignedEvent): VerifiedEvent {
  for (const t of ev.tags) Object.freeze(t)
  Object.freeze(ev.tags)
  return Object.freeze(ev)
}

/** NIP-01 serialization: compact JSON of [0, pubkey, created_at, kind, tags, content]. */
export function serializeForId(ev: EventTemplate & { pubkey: string }): string {
  return JSON.stringify([0, ev.pubkey, ev.created_at, ev.kind, ev.tags, ev.content])
}

/** The event id (lowercase hex sha256 of the serialization). */
export function computeEventId(ev: EventTemplate & { pubkey: string }): string {
  return bytesToHex(sha256(utf8ToBytes(serializeForId(ev))))
}

/** Verifies a BIP-340 signature with @noble/curves (the default SchnorrVerify); never throws. */
export function schnorrVerifyHex(sigHex: string, msgHex: string, pubkeyHex: string): boolean {
  // Lowercase hex only, as on the wire, so every SchnorrVerify answers the same for the same strings.
  if (!isHex128(sigHex) || !isHex64(msgHex) || !isHex64(pubkeyHex)) return false
  try {
    return schnorr.verify(hexToBytes(sigHex), hexToBytes(msgHex), hexToBytes(pubkeyHex))
  } catch {
    return false
  }
}

export type EventCheck = { ok: true } | { ok: false; reason: 'malformed' | 'bad_id' | 'bad_signature'; detail: string }

/**
 * Shape, id and signature, in that order. Works on a copy of the fields, never on cached flags. `verify` checks
 * the signature (default: pure-JS noble); callers that hold a faster verifier (the relay pool's WASM one) pass it.
 * `alreadyVerified` may answer true only for an object whose id and signature this process has verified and which
 * cannot have changed since (the relay pool's deep-frozen copies, see src-main/nostr/event-verifier.ts); the shape
 * check always runs.
 */
export function checkEvent(
  ev: unknown,
  verify: SchnorrVerify = schnorrVerifyHex,
  alreadyVerified?: (ev: object) => boolean,
): EventCheck {
  const shape = eventShapeError(ev)
  if (shape !== null) return { ok: false, reason: 'malformed', detail: shape }
  // This exact (deep-frozen) object had its id and signature checked already in this process: the answer would
  // be the same, so the curve and the hash are not run a second time. Anything else is checked in full.
  if (alreadyVerified?.(ev as object) === true) return { ok: true }
  const e = ev as NostrEvent
  const id = computeEventId(e)
  if (id !== e.id)
    return { ok: false, reason: 'bad_id', detail: `id does not match the serialization (expected ${id})` }
  if (!verify(e.sig, e.id, e.pubkey)) return { ok: false, reason: 'bad_signature', detail: 'sig does not verify' }
  return { ok: true }
}

/** A deep copy of just the NIP-01 fields, so later code never sees extra properties or shared arrays. */
export function copyEvent(ev: NostrEvent): NostrEvent {
  return {
    id: ev.id,
    pubkey: ev.pubkey,
    created_at: ev.created_at,
    kind: ev.kind,
    tags: ev.tags.map((t) => [...t]),
    content: ev.content,
    sig: ev.sig,
  }
}

/** All tags with this name. */
export const tagsNamed = (ev: { tags: string[][] }, name: string): string[][] => ev.tags.filter((t) => t[0] === name)

/** The value of the only tag with this name; undefined when absent, 'many' when repeated. */
export function singleTagValue(ev: { tags: string[][] }, name: string): string | undefined | 'many' {
  const all = tagsNamed(ev, name)
  if (all.length === 0) return undefined
  if (all.length > 1) return 'many'
  return all[0]![1]
}

/**
 * Signs a template with a raw secret key. `auxRand` defaults to fresh randomness; tests and the vector generator
 * pass 32 zero bytes to get reproducible signatures. Only the software signer and test tools call this.
 */
export function signTemplateWithKey(template: EventTemplate, secretKey: Uint8Array, auxRand?: Uint8Array): NostrEvent {
  const pubkey = bytesToHex(schnorr.getPublicKey(secretKey))
  const unsigned = {
    pubkey,
    created_at: template.created_at,
    kind: template.kind,
    tags: template.tags.map((t) => [...t]),
    content: template.content,
  }
  const id = computeEventId(unsigned)
  const sig = bytesToHex(schnorr.sign(hexToBytes(id), secretKey, auxRand))
  return { id, ...unsigned, sig }
}

/** x-only public key (lowercase hex) of a secret key. */
export const publicKeyHex = (secretKey: Uint8Array): string => bytesToHex(schnorr.getPublicKey(secretKey))
