// NIP-44 v2 decryption on Node's native crypto (HMAC-SHA256, HKDF-Expand, ChaCha20 from OpenSSL), for the hot path
// of the record pipeline: every ATM record's content is a NIP-44 v2 payload (docs/protocol.md §4), and the pure-JS
// decryption (nostr-tools on @noble/ciphers and @scure/base) cost about as much per record as a fifth of a
// signature check. The algorithm is NIP-44 v2 exactly as nostr-tools implements it (the reference this module is
// tested against, payload by payload): strict base64, version byte 2, HKDF-Expand(conversation key, nonce, 76) into
// the ChaCha20 key and nonce and the HMAC key, the MAC over nonce ‖ ciphertext compared in constant time BEFORE
// anything is decrypted, then the padding checked exactly (2-byte length prefix, or the 6-byte extended one).
//
// Where the native ChaCha20 is missing (BoringSSL builds, e.g. some Electron versions), decryption is nostr-tools'
// own. A self-test at load compares both on a payload made by nostr-tools; if the native path ever disagrees it is
// not used, so the choice changes speed, never the answer.
//
// Conversation keys (one ECDH each, milliseconds in pure JS) are kept in a bounded LRU per peer key: a console
// hears from a few hundred ATMs at most, so the key of each is computed once, not once per record.
import { createDecipheriv, createHmac, getCiphers, timingSafeEqual } from 'node:crypto'
import * as nip44 from 'nostr-tools/nip44'

const MIN_PLAINTEXT = 1
const EXTENDED_PREFIX_THRESHOLD = 65536
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/
const utf8 = new TextDecoder('utf-8')

/** Same rule as nostr-tools' calcPaddedLen (NIP-44 v2). */
export function paddedLength(len: number): number {
  if (!Number.isSafeInteger(len) || len < 1) throw new Error('expected positive integer')
  if (len <= 32) return 32
  const nextPower = 2 ** (Math.floor(Math.log2(len - 1)) + 1)
  const chunk = nextPower <= 256 ? 32 : nextPower / 8
  return chunk * (Math.floor((len - 1) / chunk) + 1)
}

type StreamCipher = (key: Uint8Array, nonce12: Uint8Array, data: Uint8Array) => Uint8Array

const COUNTER_ZERO = new Uint8Array(4)
/** OpenSSL's chacha20 takes a 16-byte IV: the 32-bit block counter (little-endian, 0 here) then the 96-bit nonce. */
const nativeChacha: StreamCipher = (key, nonce12, data) => {
  const iv = new Uint8Array(16)
  iv.set(COUNTER_ZERO, 0)
  iv.set(nonce12, 4)
  const d = createDecipheriv('chacha20', key, iv)
  const out = Buffer.concat([d.update(data), d.final()])
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength)
}

const hmac = (key: Uint8Array, ...parts: Uint8Array[]): Buffer => {
  const h = createHmac('sha256', key)
  for (const p of parts) h.update(p)
  return h.digest()
}

/** HKDF-Expand(SHA-256, prk = conversation key, info = nonce, 76 bytes): three HMAC blocks. */
function messageKeys(conversationKey: Uint8Array, nonce: Uint8Array) {
  const t1 = hmac(conversationKey, nonce, Uint8Array.of(1))
  const t2 = hmac(conversationKey, t1, nonce, Uint8Array.of(2))
  const t3 = hmac(conversationKey, t2, nonce, Uint8Array.of(3))
  const okm = Buffer.concat([t1, t2, t3])
  return { chachaKey: okm.subarray(0, 32), chachaNonce: okm.subarray(32, 44), hmacKey: okm.subarray(44, 76) }
}

function unpad(padded: Uint8Array): string {
  const dv = new DataView(padded.buffer, padded.byteOffset, padded.byteLength)
  if (padded.byteLength < 2) throw new Error('invalid padding')
  const firstTwo = dv.getUint16(0)
  let len: number
  let prefix: number
  if (firstTwo === 0) {
    if (padded.byteLength < 6) throw new Error('invalid padding')
    len = dv.getUint32(2)
    if (len < EXTENDED_PREFIX_THRESHOLD) throw new Error('invalid padding')
    prefix = 6
  } else {
    len = firstTwo
    prefix = 2
  }
  const body = padded.subarray(prefix, prefix + len)
  if (len < MIN_PLAINTEXT || body.length !== len || padded.length !== prefix + paddedLength(len))
    throw new Error('invalid padding')
  return utf8.decode(body)
}

function decryptWith(cipher: StreamCipher, payload: string, conversationKey: Uint8Array): string {
  if (typeof payload !== 'string') throw new Error('payload must be a valid string')
  if (payload.length < 132) throw new Error(`invalid payload length: ${payload.length}`)
  if (payload[0] === '#') throw new Error('unknown encryption version')
  // Strict base64 as @scure/base reads it: the alphabet, whole quads, canonical padding bits (a re-encode must give
  // back the same text). Buffer's own decoder would skip stray characters silently.
  if (payload.length % 4 !== 0 || !BASE64.test(payload)) throw new Error('invalid base64')
  const data = Buffer.from(payload, 'base64')
  if (data.toString('base64') !== payload) throw new Error('invalid base64')
  if (data.length < 99) throw new Error(`invalid data length: ${data.length}`)
  if (data[0] !== 2) throw new Error(`unknown encryption version ${data[0]}`)
  const nonce = data.subarray(1, 33)
  const ciphertext = data.subarray(33, data.length - 32)
  const mac = data.subarray(data.length - 32)
  const keys = messageKeys(conversationKey, nonce)
  if (!timingSafeEqual(hmac(keys.hmacKey, nonce, ciphertext), mac)) throw new Error('invalid MAC')
  return unpad(cipher(keys.chachaKey, keys.chachaNonce, ciphertext))
}

function nativeWorks(): boolean {
  try {
    if (!getCiphers().includes('chacha20')) return false
    // A fixed key and nonce, a payload made by the reference implementation: both paths must read it back.
    const key = new Uint8Array(32).fill(7)
    const payload = nip44.encrypt(
      'nip44 native self-test: ünïcödé, padding > 32 bytes',
      key,
      new Uint8Array(32).fill(9),
    )
    const want = nip44.decrypt(payload, key)
    return decryptWith(nativeChacha, payload, key) === want
  } catch {
    return false
  }
}

/** Which implementation decrypts: 'native' (OpenSSL), or 'nostr-tools' (pure JS) where that is missing. */
export const nip44Implementation: 'native' | 'nostr-tools' = nativeWorks() ? 'native' : 'nostr-tools'

/** NIP-44 v2 decryption of `payload` under a conversation key; throws on any failure (bad MAC, padding, base64). */
export function nip44DecryptNative(payload: string, conversationKey: Uint8Array): string {
  if (nip44Implementation === 'native') return decryptWith(nativeChacha, payload, conversationKey)
  return nip44.decrypt(payload, conversationKey)
}

/** The native path regardless of the self-test's choice (tests compare it with nostr-tools). */
export const nip44DecryptNativeOnly = (payload: string, conversationKey: Uint8Array): string =>
  decryptWith(nativeChacha, payload, conversationKey)

/** Conversation keys per peer, bounded (least recently used goes first). Default 1024 peers. */
export class ConversationKeyCache {
  private readonly keys = new Map<string, Uint8Array>()
  constructor(
    private readonly derive: (peerPubkeyHex: string) => Uint8Array,
    readonly maxEntries = 1024,
  ) {
    if (!Number.isSafeInteger(maxEntries) || maxEntries < 1) throw new RangeError('maxEntries must be at least 1')
  }

  get(peerPubkeyHex: string): Uint8Array {
    let k = this.keys.get(peerPubkeyHex)
    if (k) {
      // Move to the end: the map's insertion order is the recency order.
      this.keys.delete(peerPubkeyHex)
      this.keys.set(peerPubkeyHex, k)
      return k
    }
    k = this.derive(peerPubkeyHex)
    this.keys.set(peerPubkeyHex, k)
    while (this.keys.size > this.maxEntries) this.keys.delete(this.keys.keys().next().value as string)
    return k
  }

  get size(): number {
    return this.keys.size
  }
}
