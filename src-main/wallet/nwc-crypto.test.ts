// The WASM signer/verifier of the NIP-47 client agrees with the pure one: what it signs verifies in pure JS, what
// pure JS signs it verifies, and it refuses tampered, re-signed-by-another-key and malformed events.
import { finalizeEvent, generateSecretKey, getPublicKey } from 'nostr-tools/pure'
import { describe, expect, it } from 'vitest'
import { PURE_NIP47_CRYPTO } from '../../src-shared/nostr/nip47'
import { nwcCrypto, nwcCryptoReady } from './nwc-crypto'

const template = { kind: 23194, created_at: 1_700_000_000, tags: [['p', 'a'.repeat(64)]], content: 'body' }

describe('NIP-47 crypto', () => {
  it('loads the WASM implementation, which agrees with the pure one both ways', async () => {
    expect(await nwcCryptoReady).toBe('wasm')
    const wasm = nwcCrypto()
    expect(wasm).not.toBe(PURE_NIP47_CRYPTO)
    const sk = generateSecretKey()
    const signed = wasm.sign(template, sk)
    expect(signed.pubkey).toBe(getPublicKey(sk))
    expect(PURE_NIP47_CRYPTO.verify(signed)).toBe(true)
    expect(wasm.verify(signed)).toBe(true)
    expect(wasm.verify(finalizeEvent({ ...template, tags: [['p', 'b'.repeat(64)]] }, sk))).toBe(true)
    // Same fields as the pure signer (the signature differs only by its random nonce).
    const pure = PURE_NIP47_CRYPTO.sign(template, sk)
    const fields = (e: typeof pure) => [e.id, e.pubkey, e.created_at, e.kind, e.tags, e.content]
    expect(fields(signed)).toEqual(fields(pure))
    expect(signed.sig).toMatch(/^[0-9a-f]{128}$/)
  })

  it('refuses tampered content, a foreign signature and malformed fields', async () => {
    await nwcCryptoReady
    const wasm = nwcCrypto()
    const a = wasm.sign(template, generateSecretKey())
    const b = wasm.sign(template, generateSecretKey())
    expect(wasm.verify({ ...a, content: 'Body' })).toBe(false)
    expect(wasm.verify({ ...a, sig: b.sig })).toBe(false)
    expect(wasm.verify({ ...a, pubkey: b.pubkey })).toBe(false)
    expect(wasm.verify({ ...a, sig: a.sig.toUpperCase() })).toBe(false)
    expect(wasm.verify({ ...a, id: a.id.slice(2) })).toBe(false)
    expect(wasm.verify({ ...a, sig: 'zz'.repeat(64) })).toBe(false)
  })
})
