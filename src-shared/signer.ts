// The Signer interface: every operation that needs a Nostr secret key goes through it (docs/architecture.md §3, §7).
// It fits a hardware signer that SHOWS what it signs: `signEvent` receives the structured event fields (the
// device builds the NIP-01 serialization itself) and `signDelegation` receives the delegatee and the conditions
// string (the device builds the NIP-26 string itself). There is deliberately no "sign this hash" method.
//
// Implementations: the USB hardware signer (src-main/signer/…), a NIP-46 bunker client, and a software signer
// for tests, the console key and the ATM simulator (src-main/signer/software-signer.ts).
import type { EventTemplate, NostrEvent } from './nostr/event'
import { checkEvent } from './nostr/event'
import { verifyDelegationToken } from './nostr/nip26'

export interface SignDelegationRequest {
  /** x-only public key (lowercase hex) of the key being authorised. */
  delegateePubkey: string
  /** NIP-26 conditions string, shown to the user on the device. */
  conditions: string
}

export interface Signer {
  /** x-only public key, lowercase hex. */
  getPublicKey(): Promise<string>
  /** Signs the event built from exactly these fields, authored by this signer's key. */
  signEvent(template: EventTemplate): Promise<NostrEvent>
  /** Returns the NIP-26 token (128 hex) over sha256("nostr:delegation:<delegatee>:<conditions>"). */
  signDelegation(req: SignDelegationRequest): Promise<string>
  /** NIP-44 v2 encryption to `peerPubkey`. */
  nip44Encrypt(peerPubkey: string, plaintext: string): Promise<string>
  /** NIP-44 v2 decryption of a payload from `peerPubkey`. */
  nip44Decrypt(peerPubkey: string, payload: string): Promise<string>
}

/** Thrown when a signer returns something that is not what was asked for (firmware bug, wrong key, tampering). */
export class SignerOutputError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'SignerOutputError'
  }
}

/**
 * Signs through `signer` and checks the result against the template and the pinned public key: same fields,
 * right author, valid id and signature. docs/architecture.md §3: the app verifies every signature it gets back.
 */
export async function signEventChecked(
  signer: Signer,
  template: EventTemplate,
  expectedPubkey: string,
): Promise<NostrEvent> {
  const ev = await signer.signEvent(template)
  const check = checkEvent(ev)
  if (!check.ok) throw new SignerOutputError(`signer returned an invalid event: ${check.detail}`)
  if (ev.pubkey !== expectedPubkey) throw new SignerOutputError('signer returned an event by a different key')
  if (
    ev.kind !== template.kind ||
    ev.created_at !== template.created_at ||
    ev.content !== template.content ||
    JSON.stringify(ev.tags) !== JSON.stringify(template.tags)
  )
    throw new SignerOutputError('signer returned an event whose fields differ from the request')
  return ev
}

/** Signs a delegation and verifies the token under the pinned delegator key. */
export async function signDelegationChecked(
  signer: Signer,
  req: SignDelegationRequest,
  expectedDelegatorPubkey: string,
): Promise<string> {
  const token = await signer.signDelegation(req)
  if (!verifyDelegationToken(expectedDelegatorPubkey, req.delegateePubkey, req.conditions, token))
    throw new SignerOutputError('signer returned a delegation token that does not verify under the pinned key')
  return token
}
