// The choice of BIP-340 verifier for everything that arrives from a relay (NIP-01 id + signature), and the bare
// signature check the acceptance pipeline borrows from it. The event type, the shape check, the defensive copy and
// the id computation are defined once in src-shared/nostr/event.ts and re-exported here.
//
// Signatures are checked by libsecp256k1 compiled to WASM (nostr-wasm), 4-8x faster than pure JS here; when the
// WASM module cannot start, the pure @noble/curves verifier takes over and the choice is logged. We never call
// nostr-tools' verifyEvent on incoming objects: it caches "valid" on the object under a symbol, so an object that
// arrives already carrying that flag would be believed. Instead we copy the known fields into a fresh object and
// verify the copy, and only the frozen copy ever leaves this module.
import { schnorr } from '@noble/curves/secp256k1.js'
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js'
import type { Logger } from '../../src-shared/log'
import {
  computeEventId,
  freezeEvent,
  isHex64,
  isHex128,
  type SchnorrVerify,
  type SignedEvent,
  schnorrVerifyHex,
  type VerifiedEvent,
} from '../../src-shared/nostr/event'
import { withSignatureMemo } from './signature-memo'

// The event type, its id and its shape rules live in src-shared/nostr/event.ts; these re-exports keep the names
// the pool and its callers have always imported from here.
export {
  computeEventId,
  EventShapeError,
  freezeEvent,
  parseSignedEvent,
  type SignedEvent,
  type VerifiedEvent,
} from '../../src-shared/nostr/event'

/**
 * The events this process verified (id and signature) and then deep-froze: the relay pool's copies. Keyed by the
 * object itself (a WeakSet: an entry goes when the event is garbage), so only the exact frozen object the pool
 * checked is recognised — a copy, a parsed import or a mutated object is not, and gets the full check again.
 */
const verifiedFrozen = new WeakSet<object>()

/**
 * Freezes an event that `verifier.verify` has just accepted and remembers it as verified. Call it only right after
 * an 'ok' verdict on this very object, with nothing in between that could change it.
 */
export function freezeVerified(ev: SignedEvent): VerifiedEvent {
  const frozen = freezeEvent(ev)
  verifiedFrozen.add(frozen)
  return frozen
}

/** True when this exact object was accepted by a verifier and frozen by `freezeVerified` (it cannot have changed). */
export function isVerifiedFrozen(ev: object): boolean {
  return Object.isFrozen(ev) && verifiedFrozen.has(ev)
}

/** Outcome of a verification: verifiers return a result, they do not throw. */
export type VerifyOutcome = 'ok' | 'bad-id' | 'bad-sig'

export interface EventVerifier {
  /** Which implementation is active, for logs and the bench. */
  readonly name: 'wasm' | 'noble'
  /** Checks the id hash and the signature of a well-shaped event. */
  verify(ev: SignedEvent): VerifyOutcome
  /**
   * A bare BIP-340 check by the same implementation, for signatures that are not event signatures (NIP-26
   * delegation tokens) and for the acceptance pipeline's own signature check. Never throws.
   */
  readonly verifySchnorr: SchnorrVerify
}

/** Pure-JS verifier (@noble/curves schnorr + @noble/hashes sha256). */
export function nobleVerifier(): EventVerifier {
  return {
    name: 'noble',
    verify(ev) {
      if (computeEventId(ev) !== ev.id) return 'bad-id'
      // An x coordinate that is not on the curve makes noble throw; schnorrVerifyHex turns that into false.
      return schnorrVerifyHex(ev.sig, ev.id, ev.pubkey) ? 'ok' : 'bad-sig'
    },
    verifySchnorr: schnorrVerifyHex,
  }
}

/** WASM verifier (libsecp256k1 via nostr-wasm). Rejects if the module cannot be instantiated. */
export async function wasmVerifier(): Promise<EventVerifier> {
  const { initNostrWasm } = await import('nostr-wasm')
  const [nw, verifySchnorr] = await Promise.all([initNostrWasm(), loadWasmSchnorr()])
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
    verifySchnorr,
  }
}

type WasmFn = (...args: number[]) => number

/** The slice of the global WebAssembly API used here (the main-process tsconfig has no DOM/WebAssembly lib). */
const wasmApi = () =>
  (
    globalThis as unknown as {
      WebAssembly: {
        instantiate(bytes: Uint8Array, imports: object): Promise<{ instance: { exports: Record<string, unknown> } }>
      }
    }
  ).WebAssembly

/**
 * A bare BIP-340 verifier on the libsecp256k1 WASM build that nostr-wasm embeds. nostr-wasm's API only verifies
 * whole events (it recomputes the id), which cannot check a NIP-26 token, so we instantiate the same module a
 * second time and call its two verification exports directly. The module and its export names belong to the
 * pinned nostr-wasm 0.1.0; if they ever change, instantiation or the self-test fails and the pool falls back to
 * the pure JS verifier (logged), so a mismatch can cost speed, never correctness.
 */
async function loadWasmSchnorr(): Promise<SchnorrVerify> {
  const [{ readFile }, { createRequire }] = await Promise.all([import('node:fs/promises'), import('node:module')])
  const source = await readFile(createRequire(import.meta.url).resolve('nostr-wasm'), 'utf8')
  const embedded = /sb64_data\s*=\s*"([A-Za-z0-9+/=]+)"/.exec(source)
  if (!embedded) throw new Error('nostr-wasm: embedded libsecp256k1 module not found')
  let heap = new Uint8Array(0)
  let heap32 = new Uint32Array(0)
  // The module's imports: abort, memcpy, heap resize (never allowed: the heap is fixed), two stubbed file
  // calls, and write (debug output, discarded; the byte count must still be reported back).
  const imports = {
    a: {
      a: () => {
        throw new Error('libsecp256k1 aborted')
      },
      f: (dst: number, src: number, n: number) => heap.copyWithin(dst, src, src + n),
      d: () => {
        throw new Error('libsecp256k1 asked for more memory')
      },
      e: () => 52,
      c: () => 70,
      b: (_fd: number, iov: number, iovCount: number, writtenPtr: number) => {
        let n = 0
        for (let i = 0; i < iovCount; i++) n += heap32[(iov + 8 * i + 4) >> 2] ?? 0
        heap32[writtenPtr >> 2] = n
        return 0
      },
    },
  }
  const { instance } = await wasmApi().instantiate(Buffer.from(embedded[1]!, 'base64'), imports)
  const x = instance.exports
  const memory = x.g as { readonly buffer: ArrayBuffer }
  const bindHeap = () => {
    heap = new Uint8Array(memory.buffer)
    heap32 = new Uint32Array(memory.buffer)
  }
  bindHeap()
  ;(x.h as () => void)()
  const malloc = x.i as WasmFn
  const xonlyPubkeyParse = x.p as WasmFn
  const schnorrsigVerify = x.u as WasmFn
  const ctx = (x.o as WasmFn)(257 /* SECP256K1_CONTEXT_VERIFY */)
  const pSig = malloc(64)
  const pMsg = malloc(32)
  const pPubkey = malloc(32)
  const pXonly = malloc(64)
  return (sigHex, msgHex, pubkeyHex) => {
    if (!isHex128(sigHex) || !isHex64(msgHex) || !isHex64(pubkeyHex)) return false
    try {
      if (heap.byteLength === 0) bindHeap()
      heap.set(hexToBytes(sigHex), pSig)
      heap.set(hexToBytes(msgHex), pMsg)
      heap.set(hexToBytes(pubkeyHex), pPubkey)
      if (xonlyPubkeyParse(ctx, pXonly, pPubkey) !== 1) return false
      return schnorrsigVerify(ctx, pSig, pMsg, 32, pXonly) === 1
    } catch {
      return false
    }
  }
}

/**
 * The verifier the pool should use: WASM when it starts and passes a self-test, otherwise noble. Logs which one
 * is active and, on fallback, why. Either is wrapped in a signature memo (./signature-memo.ts), so the acceptance
 * pipeline's check of a signature the pool already verified does not run the curve again.
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
      return withSignatureMemo(v)
    } catch (err) {
      logger.warn('WASM verifier failed to initialise; using the pure JS verifier', {
        verifier: 'noble',
        reason: String((err as Error)?.message ?? err),
      })
    }
  }
  const v = nobleVerifier()
  logger.info('event verifier active', { verifier: v.name })
  return withSignatureMemo(v)
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
  const { sig, id, pubkey } = selfTestFixture
  if (!v.verifySchnorr(sig, id, pubkey)) throw new Error('self-test: valid BIP-340 signature rejected')
  const otherMsg = `${id.slice(0, 63)}${id[63] === '0' ? '1' : '0'}`
  if (v.verifySchnorr(sig, otherMsg, pubkey))
    throw new Error('self-test: BIP-340 signature over another message accepted')
}
