// A Signer backed by a secret key held in memory (src-shared/signer.ts). Used for the console key, for tests and
// for the ATM simulator; never for the operator key outside demo mode (docs/architecture.md §3). The key is never logged and
// never leaves this closure.
import { schnorr } from '@noble/curves/secp256k1.js'
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js'
import * as nip44 from 'nostr-tools/nip44'
import { type EventTemplate, type NostrEvent, signTemplateWithKey } from '../../src-shared/nostr/event'
import { delegationHashHex } from '../../src-shared/nostr/nip26'
import type { SignDelegationRequest, Signer } from '../../src-shared/signer'
import { ConversationKeyCache } from './conversation-keys'

export interface SoftwareSignerOptions {
  /** Auxiliary randomness for BIP-340; tests pass 32 zero bytes for reproducible signatures. */
  auxRand?: () => Uint8Array
  /** Fixed NIP-44 nonce source; only the vector generator uses it. */
  nip44Nonce?: () => Uint8Array
}

export function createSoftwareSigner(secretKey: Uint8Array, opts: SoftwareSignerOptions = {}): Signer {
  if (!(secretKey instanceof Uint8Array) || secretKey.length !== 32) throw new TypeError('secretKey must be 32 bytes')
  const sk = Uint8Array.from(secretKey)
  const pubkey = bytesToHex(schnorr.getPublicKey(sk))
  // One ECDH per peer (an ATM, a wallet), not per message; bounded, least recently used first out.
  const convKeys = new ConversationKeyCache((peer) => nip44.getConversationKey(sk, peer))
  const conv = (peer: string): Uint8Array => convKeys.get(peer)
  return {
    getPublicKey: async () => pubkey,
    signEvent: async (template: EventTemplate): Promise<NostrEvent> =>
      signTemplateWithKey(template, sk, opts.auxRand?.()),
    signDelegation: async (req: SignDelegationRequest): Promise<string> =>
      bytesToHex(
        schnorr.sign(hexToBytes(delegationHashHex(req.delegateePubkey, req.conditions)), sk, opts.auxRand?.()),
      ),
    nip44Encrypt: async (peer: string, plaintext: string) => nip44.encrypt(plaintext, conv(peer), opts.nip44Nonce?.()),
    nip44Decrypt: async (peer: string, payload: string) => nip44.decrypt(payload, conv(peer)),
  }
}
