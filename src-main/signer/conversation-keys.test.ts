// The conversation-key memory of the software signer (./conversation-keys.ts): bounded, least recently used out,
// each peer derived once while cached; and the signer built on it still decrypts what nostr-tools encrypts.
import { hexToBytes } from '@noble/hashes/utils.js'
import * as nip44 from 'nostr-tools/nip44'
import { describe, expect, it } from 'vitest'
import { ConversationKeyCache } from './conversation-keys'
import { createSoftwareSigner } from './software-signer'

describe('conversation keys', () => {
  it('keeps at most maxEntries keys, derives each peer once while it stays cached', () => {
    let derived = 0
    const cache = new ConversationKeyCache((peer) => {
      derived++
      return new Uint8Array(32).fill(peer.length)
    }, 3)
    for (const p of ['a', 'bb', 'a', 'ccc', 'a', 'dddd']) cache.get(p)
    expect(cache.size).toBe(3)
    expect(derived).toBe(4)
    cache.get('a') // the most recently used survived
    expect(derived).toBe(4)
    cache.get('bb') // the least recently used was evicted
    expect(derived).toBe(5)
    expect(() => new ConversationKeyCache(() => new Uint8Array(32), 0)).toThrow(RangeError)
  })

  it('the software signer decrypts with the cached key what a peer encrypted', async () => {
    const a = hexToBytes('11'.repeat(32))
    const b = createSoftwareSigner(hexToBytes('22'.repeat(32)))
    const aPub = await createSoftwareSigner(a).getPublicKey()
    const payload = nip44.encrypt('record', nip44.getConversationKey(a, await b.getPublicKey()))
    expect(await b.nip44Decrypt(aPub, payload)).toBe('record')
    expect(await b.nip44Decrypt(aPub, payload)).toBe('record')
    await expect(b.nip44Decrypt(aPub, `${payload.slice(0, -4)}AAAA`)).rejects.toThrow()
  })
})
