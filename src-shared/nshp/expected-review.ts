// The review a NSHP/1 device will show for a request, computed on the host before the request is sent
// (docs/signer-protocol.md §6): the console's "confirm on your signer" dialog renders it, so the operator sees the
// same pages and the same compare code in the app and on the device. Pure. It also says in advance when the device
// will refuse without showing anything (a control character, a delegation its policy denies).
import { computeEventId, type EventTemplate } from '../nostr/event'
import { refusedControl } from './nip01'
import { checkDelegation, DEFAULT_POLICY, type DevicePolicy } from './policy'
import { reviewDelegation, reviewNip44Decrypt, reviewNip44Encrypt, reviewPublicKey, reviewSignEvent } from './review'
import type { ReviewScreen } from './types'

export type ReviewRequest =
  | { command: 'GET_PUBLIC_KEY'; account?: number }
  | { command: 'SIGN_EVENT'; template: EventTemplate; clientLabel?: string; account?: number }
  | { command: 'SIGN_DELEGATION'; delegateePubkey: string; conditions: string; account?: number }
  | { command: 'NIP44_ENCRYPT'; peerPubkey: string; plaintext: string; account?: number }
  | { command: 'NIP44_DECRYPT'; peerPubkey: string; account?: number }

export type ExpectedReview =
  | { ok: true; review: ReviewScreen }
  | { ok: false; status: 'bad-request' | 'policy-denied'; reason: string }

/** What the device holding `signerPubkey` (the pinned key) will show for `req`, or why it will refuse. */
export function expectedReview(
  req: ReviewRequest,
  signerPubkey: string,
  policy: DevicePolicy = DEFAULT_POLICY,
): ExpectedReview {
  const account = req.account ?? 0
  switch (req.command) {
    case 'GET_PUBLIC_KEY':
      return { ok: true, review: reviewPublicKey(signerPubkey, account) }
    case 'SIGN_EVENT': {
      const t = req.template
      const strings: [string, string][] = [['content', t.content]]
      for (const [i, tag] of t.tags.entries()) for (const [j, x] of tag.entries()) strings.push([`tags[${i}][${j}]`, x])
      if (req.clientLabel !== undefined) strings.push(['client_label', req.clientLabel])
      for (const [field, s] of strings) {
        const bad = refusedControl(s)
        if (bad)
          return {
            ok: false,
            status: 'bad-request',
            reason: `${field}: control character U+${bad.code.toString(16).padStart(4, '0').toUpperCase()} at ${bad.index}`,
          }
      }
      const id = computeEventId({ ...t, pubkey: signerPubkey })
      const fields = {
        account,
        pubkey: signerPubkey,
        createdAt: t.created_at,
        kind: t.kind,
        tags: t.tags,
        content: t.content,
        ...(req.clientLabel === undefined ? {} : { clientLabel: req.clientLabel }),
      }
      return { ok: true, review: reviewSignEvent(fields, id) }
    }
    case 'SIGN_DELEGATION': {
      const v = checkDelegation(req.conditions, policy)
      if (!v.ok) return v
      return {
        ok: true,
        review: reviewDelegation({ account, delegatee: req.delegateePubkey, conditions: req.conditions }, v.parsed),
      }
    }
    case 'NIP44_ENCRYPT':
      return { ok: true, review: reviewNip44Encrypt(req.peerPubkey, req.plaintext, account) }
    case 'NIP44_DECRYPT':
      return { ok: true, review: reviewNip44Decrypt(req.peerPubkey, account) }
  }
}
