// NIP-44 v2 native decryption (./nip44-native.ts) against the reference, nostr-tools: every payload nostr-tools
// makes decrypts to the same text, and every payload nostr-tools refuses is refused too (tampered MAC, version,
// padding, base64 that only a lenient decoder would read). The conversation-key cache stays bounded.
import { randomBytes } from 'node:crypto'
import * as nip44 from 'nostr-tools/nip44'
import { describe, expect, it } from 'vitest'
import { ConversationKeyCache, nip44DecryptNative, nip44DecryptNativeOnly, nip44Implementation } from './nip44-native'

const SEED = Number(process.env.PROPS_SEED ?? Date.now() % 1_000_000)
let state = SEED
const rand = (n: number) => {
  state = (state * 1103515245 + 12345) % 2 ** 31
  return state % n
}
console.log(`nip44-native: seed ${SEED} (PROPS_SEED to repeat)`)

const refuses = (f: () => unknown): boolean => {
  try {
    f()
    return false
  } catch {
    return true
  }
}

describe('nip44 native decryption', () => {
  it('uses the native path on this Node (OpenSSL has chacha20)', () => {
    expect(nip44Implementation).toBe('native')
  })

  it('reads back what nostr-tools encrypts, for lengths across the padding buckets and unicode', () => {
    const key = randomBytes(32)
    const lengths = [1, 2, 31, 32, 33, 64, 65, 255, 256, 257, 1000, 4096, 65535, 65536, 70_000]
    for (let i = 0; i < 40; i++) lengths.push(1 + rand(3000))
    for (const len of lengths) {
      const text = Array.from({ length: len }, () => (rand(10) === 0 ? 'é' : String.fromCharCode(32 + rand(90))))
        .join('')
        .slice(0, len)
      const payload = nip44.encrypt(text, key)
      expect(nip44DecryptNativeOnly(payload, key)).toBe(text)
      expect(nip44DecryptNative(payload, key)).toBe(nip44.decrypt(payload, key))
    }
  })

  it('refuses exactly what nostr-tools refuses: tampered bytes, wrong key, bad base64, bad version', () => {
    const key = randomBytes(32)
    const payload = nip44.encrypt('{"v":1,"txId":"t-1"}', key)
    const cases: string[] = [
      '',
      'short',
      `#${payload.slice(1)}`,
      `${payload.slice(0, -4)}AAAA`,
      `${payload.slice(0, 60)}${payload[60] === 'A' ? 'B' : 'A'}${payload.slice(61)}`,
      `${payload.slice(0, 10)}*${payload.slice(11)}`,
      `${payload.slice(0, 10)}\n${payload.slice(10)}`,
      `${payload}=`,
      payload.slice(0, -1),
      Buffer.from([1, ...Buffer.from(payload, 'base64').subarray(1)]).toString('base64'),
    ]
    // Random single-character changes anywhere in the payload.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/='
    for (let i = 0; i < 200; i++) {
      const at = rand(payload.length)
      cases.push(payload.slice(0, at) + alphabet[rand(alphabet.length)] + payload.slice(at + 1))
    }
    let refused = 0
    for (const c of cases) {
      const ref = refuses(() => nip44.decrypt(c, key))
      expect(
        refuses(() => nip44DecryptNativeOnly(c, key)),
        `payload ${JSON.stringify(c.slice(0, 20))}…`,
      ).toBe(ref)
      if (!ref) expect(nip44DecryptNativeOnly(c, key)).toBe(nip44.decrypt(c, key))
      if (ref) refused++
    }
    expect(refused).toBeGreaterThan(10)
    expect(refuses(() => nip44DecryptNativeOnly(payload, randomBytes(32)))).toBe(true)
  })

  it('keeps at most maxEntries conversation keys, derives each peer once while it stays cached', () => {
    let derived = 0
    const cache = new ConversationKeyCache((peer) => {
      derived++
      return new Uint8Array(32).fill(peer.length)
    }, 3)
    for (const p of ['a', 'bb', 'a', 'ccc', 'a', 'dddd']) cache.get(p)
    expect(cache.size).toBe(3)
    expect(derived).toBe(4)
    cache.get('a') // most recently used survived
    expect(derived).toBe(4)
    cache.get('bb') // least recently used was evicted
    expect(derived).toBe(5)
  })
})
