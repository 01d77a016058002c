// Signature-checked readers of the audit events (docs/audit.md §4, §5), for `verify-audit`, the exports and the
// console: a head (kind 30078) or a quarter attestation (kind 3080) counts only if its id and signature verify, its
// author is the expected key, and its content and tags are in the canonical form. Pure (no Node/DOM).
import { checkEvent, type NostrEvent } from '../nostr/event'
import {
  AuditFormatError,
  type AuditHead,
  parseAttestationEvent,
  parseHeadEvent,
  type QuarterAttestation,
} from './types'

/** A verified head with its author (the console key). Throws AuditFormatError naming the field. */
export function verifyHeadEvent(ev: NostrEvent, expectedConsolePubkey?: string): AuditHead & { consolePubkey: string } {
  const c = checkEvent(ev)
  if (!c.ok) throw new AuditFormatError(c.reason === 'bad_signature' ? 'sig' : 'id', c.detail)
  if (expectedConsolePubkey !== undefined && ev.pubkey !== expectedConsolePubkey)
    throw new AuditFormatError(
      'pubkey',
      `the head is signed by ${ev.pubkey}, not by the console key ${expectedConsolePubkey}`,
    )
  return { ...parseHeadEvent(ev), consolePubkey: ev.pubkey }
}

/**
 * A verified attestation with its author (the operator key). When `head` is given (the quarter head event), the
 * attestation must name it: same event id, console key, tree size and root.
 */
export function verifyAttestationEvent(
  ev: NostrEvent,
  opts: { operatorPubkey?: string; head?: NostrEvent } = {},
): QuarterAttestation & { operatorPubkey: string } {
  const c = checkEvent(ev)
  if (!c.ok) throw new AuditFormatError(c.reason === 'bad_signature' ? 'sig' : 'id', c.detail)
  if (opts.operatorPubkey !== undefined && ev.pubkey !== opts.operatorPubkey)
    throw new AuditFormatError(
      'pubkey',
      `the attestation is signed by ${ev.pubkey}, not by the operator key ${opts.operatorPubkey}`,
    )
  const a = parseAttestationEvent(ev)
  if (opts.head) {
    const h = verifyHeadEvent(opts.head, a.consolePubkey)
    if (opts.head.id !== a.headEventId) throw new AuditFormatError('content.head_event_id', 'is not the given head')
    if (h.treeSize !== a.treeSize) throw new AuditFormatError('content.tree_size', 'differs from the head')
    if (h.root !== a.root) throw new AuditFormatError('content.root', 'differs from the head')
  }
  return { ...a, operatorPubkey: ev.pubkey }
}
