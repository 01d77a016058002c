// NIP-01 event checks for everything that arrives from a relay: shape validation, a defensive copy into a frozen
// plain record, id recomputation (sha256 of [0,pubkey,created_at,kind,tags,content]) and the BIP-340 signature.
//
// Signatures are checked by libsecp256k1 compiled to WASM (nostr-wasm), 4-8x faster than pure JS here; when the
// WASM module cannot start, the pure @noble/curves verifier takes over and the choice is logged. We never call
// nostr-tools' verifyEvent on incoming objects: it caches "valid" on the object under a symbol, so an object that
// arrives already carrying that flag would be believed. Instead we copy the known fields into a fresh object and
// verify the copy, and only the frozen copy ever leaves this module.
import { schnorr } from '@noble/curves/secp256k1.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js'
import type { Logger } from '../../src-shared/log'

/** A NIP-01 event as it travels on the wire. */
export interface SignedEvent {
  id: string
  pubkey: string
  created_at: number
  kind: number
  tags: string[][]
  content: string
  sig: string
}

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

/** Outcome of a verification: verifiers return a result, they do not throw. */
export type VerifyOutcome = 'ok' | 'bad-id' | 'bad-sig'

export interface EventVerifier {
  /** Which implementation is active, for logs and the bench. */
  readonly name: 'wasm' | 'noble'
  /** Checks the id hash and the signature of a well-shaped event. */
  verify(ev: SignedEvent): VerifyOutcome
}

/** Thrown by parseSignedEvent: names the offending field. */
export class EventShapeError extends Error {
  override readonly name = 'EventShapeError'
  constructor(
    readonly field: string,
    reason: string,
  ) {
    super(`malformed event: ${field} ${reason}`)
  }
}

const HEX64 = /^[0-9a-f]{64}$/
const HEX128 = /^[0-9a-f]{128}$/

/**
 * Copies the NIP-01 fields of an untrusted value into a fresh plain object, checking each one. Unknown fields and
 * symbol-keyed properties (such as a library's cached "verified" flag) are left behind.
 */
export function parseSignedEvent(raw: unknown): SignedEvent {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new EventShapeError('event', 'is not an object')
  const r = raw as Record<string, unknown>
  const { id, pubkey, created_at, kind, tags, content, sig } = r
  if (typeof id !== 'string' || !HEX64.test(id)) throw new EventShapeError('id', 'is not 64 lowercase hex characters')
  if (typeof pubkey !== 'string' || !HEX64.test(pubkey))
    throw new EventShapeError('pubkey', 'is not 64 lowercase hex characters')
  if (typeof sig !== 'string' || !HEX128.test(sig))
    throw new EventShapeError('sig', 'is not 128 lowercase hex characters')
  if (typeof created_at !== 'number' || !Number.isSafeInteger(created_at) || created_at < 0)
    throw new EventShapeError('created_at', 'is not a non-negative integer')
  if (typeof kind !== 'number' || !Number.isInteger(kind) || kind < 0 || kind > 65535)
    throw new EventShapeError('kind', 'is not an integer in 0..65535')
  if (typeof content !== 'string') throw new EventShapeError('content', 'is not a string')
  if (!Array.isArray(tags)) throw new EventShapeError('tags', 'is not an array')
  const tagsCopy: string[][] = []
  for (let i = 0; i < tags.length; i++) {
    const t: unknown = tags[i]
    if (!Array.isArray(t)) throw new EventShapeError(`tags[${i}]`, 'is not an array')
    const copy: string[] = []
    for (let j = 0; j < t.length; j++) {
      const v: unknown = t[j]
      if (typeof v !== 'string') throw new EventShapeError(`tags[${i}][${j}]`, 'is not a string')
      copy.push(v)
    }
    tagsCopy.push(copy)
  }
  return { id, pubkey, created_at, kind, tags: tagsCopy, content, sig }
}

/** Deep-freezes a parsed event (the tag arrays too), so no subscriber can change what another one sees. */
export function freezeEvent(ev: SignedEvent): VerifiedEvent {
  for (const t of ev.tags) Object.freeze(t)
  Object.freeze(ev.tags)
  return Object.freeze(ev)
}

const utf8 = new TextEncoder()

/** NIP-01 event id: sha256 over the compact JSON serialisation (JSON.stringify escaping, like every client). */
export function computeEventId(ev: Omit<SignedEvent, 'id' | 'sig'>): string {
  const serial = JSON.stringify([0, ev.pubkey, ev.created_at, ev.kind, ev.tags, ev.content])
  return bytesToHex(sha256(utf8.encode(serial)))
}

/** Pure-JS verifier (@noble/curves schnorr + @noble/hashes sha256). */
export function nobleVerifier(): EventVerifier {
  return {
    name: 'noble',
    verify(ev) {
      if (computeEventId(ev) !== ev.id) return 'bad-id'
      try {
        return schnorr.verify(hexToBytes(ev.sig), hexToBytes(ev.id), hexToBytes(ev.pubkey)) ? 'ok' : 'bad-sig'
      } catch {
        // An x coordinate that is not on the curve makes noble throw; that is a bad signature, not a crash.
        return 'bad-sig'
      }
    },
  }
}

/** WASM verifier (libsecp256k1 via nostr-wasm). Rejects if the module cannot be instantiated. */
export async function wasmVerifier(): Promise<EventVerifier> {
  const { initNostrWasm } = await import('nostr-wasm')
  const nw = await initNostrWasm()
  return {
    name: 'wasm',
    verify(ev) {
      try {
        // nostr-wasm recomputes the id, then checks the signature; it throws with a reason on failure.
        nw.verifyEvent(ev)
        return 'ok'
      } catch (err) {
        return /id is invalid/.test(String((err as Error)?.message)) ? 'bad-id' : 'bad-sig'
      }
    },
  }
}

/**
 * The verifier the pool should use: WASM when it starts and passes a self-test, otherwise noble. Logs which one
 * is active and, on fallback, why.
 */
export async function createEventVerifier(
  logger: Logger,
  opts: { preferWasm?: boolean; loadWasm?: () => Promise<EventVerifier> } = {},
): Promise<EventVerifier> {
  if (opts.preferWasm !== false) {
    try {
      const v = await (opts.loadWasm ?? wasmVerifier)()
      selfTest(v)
      logger.info('event verifier active', { verifier: v.name })
      return v
    } catch (err) {
      logger.warn('WASM verifier failed to initialise; using the pure JS verifier', {
        verifier: 'noble',
        reason: String((err as Error)?.message ?? err),
      })
    }
  }
  const v = nobleVerifier()
  logger.info('event verifier active', { verifier: v.name })
  return v
}

// A fixed event signed once with a throwaway key (secret 0x…01): the verifier must accept it and reject a
// one-character change, or it is not trusted.
const SELF_TEST_EVENT: SignedEvent = {
  id: '',
  pubkey: '79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798',
  created_at: 1700000000,
  kind: 1,
  tags: [['t', 'self-test']],
  content: 'verifier self-test',
  sig: '',
}

let selfTestFixture: SignedEvent | undefined
function selfTest(v: EventVerifier): void {
  if (!selfTestFixture) {
    const sk = new Uint8Array(32)
    sk[31] = 1
    const id = computeEventId(SELF_TEST_EVENT)
    const sig = bytesToHex(schnorr.sign(hexToBytes(id), sk, new Uint8Array(32)))
    selfTestFixture = { ...SELF_TEST_EVENT, id, sig }
  }
  if (v.verify({ ...selfTestFixture, tags: [['t', 'self-test']] }) !== 'ok')
    throw new Error('self-test: valid event rejected')
  if (v.verify({ ...selfTestFixture, tags: [['t', 'self-test']], content: 'verifier self-tesT' }) !== 'bad-id')
    throw new Error('self-test: tampered event accepted')
}
