// BIP-340 signing and verification for the NIP-47 client (src-shared/nostr/nip47.ts `Nip47Crypto`) on libsecp256k1
// compiled to WASM (nostr-wasm, the same module the relay pool verifies with). Every NWC request is signed and
// every answer verified; in pure JS each signature costs a sign plus the self-check verify noble runs after it,
// which made signing the largest CPU cost of a payout. The module starts loading when this file is imported;
// until it is ready, or if it fails to start or its self-test fails (a signature it makes must verify in pure JS,
// and a tampered event must not verify), the pure implementation is used, so speed can change, never the result.
//
// The NWC connection secret is copied into the WASM heap for each signature (libsecp256k1 needs it there); it is
// a per-connection key the client already holds in memory, never the operator or console key.
import { verifyEvent } from 'nostr-tools/pure'
import { isHex64, isHex128 } from '../../src-shared/nostr/event'
import { type Nip47Crypto, PURE_NIP47_CRYPTO } from '../../src-shared/nostr/nip47'

let fast: Nip47Crypto | null = null

async function load(): Promise<Nip47Crypto> {
  const { initNostrWasm } = await import('nostr-wasm')
  const nw = await initNostrWasm()
  const crypto: Nip47Crypto = {
    sign(template, secretKey) {
      const ev = {
        kind: template.kind,
        created_at: template.created_at,
        tags: template.tags.map((t) => [...t]),
        content: template.content,
        pubkey: '',
        id: '',
        sig: '',
      }
      nw.finalizeEvent(ev, secretKey)
      return ev
    },
    verify: (ev) => {
      // The WASM side reads hex without checking it: only well-formed ids, keys and signatures reach it.
      const { id, pubkey, created_at, kind, tags, content, sig } = ev
      if (!isHex64(id) || !isHex64(pubkey) || !isHex128(sig)) return false
      try {
        // A fresh copy (no cached flags); nostr-wasm recomputes the id, then checks the signature.
        nw.verifyEvent({ id, pubkey, created_at, kind, tags, content, sig })
        return true
      } catch {
        return false
      }
    },
  }
  const sk = new Uint8Array(32)
  sk[31] = 7
  const signed = crypto.sign({ kind: 23194, created_at: 1_700_000_000, tags: [['p', 'x']], content: 'self-test' }, sk)
  if (!verifyEvent({ ...signed }) || !crypto.verify(signed)) throw new Error('self-test: WASM signature rejected')
  if (crypto.verify({ ...signed, content: 'self-tesT' })) throw new Error('self-test: tampered event accepted')
  return crypto
}

/** Resolves once the WASM implementation is in use (or has failed to start; the pure one then stays). */
export const nwcCryptoReady: Promise<'wasm' | 'pure'> = load().then(
  (c) => {
    fast = c
    return 'wasm' as const
  },
  () => 'pure' as const,
)

/** The implementation to use now: WASM once loaded, pure JS before that or if it could not start. */
export function nwcCrypto(): Nip47Crypto {
  return fast ?? PURE_NIP47_CRYPTO
}
