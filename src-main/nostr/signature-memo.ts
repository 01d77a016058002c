// A bounded memory of BIP-340 signatures that already verified (sig, message, x-only key), wrapped around an
// event verifier (./event-verifier.ts). An ATM record is checked twice on its way in: by the relay pool when it
// arrives (id + signature, NIP-01) and again by the acceptance pipeline (src-shared/nostr/verify-record.ts), which
// must not trust the pool blindly because it also judges imports and retries that never passed through it. The
// second check asks the same question about the same three strings, so its answer can be remembered: a signature
// that verified once verifies forever. Only triples that really verified are stored, keyed by all three strings,
// so a hit can never accept anything the verifier would refuse; a miss (never seen, or evicted) simply runs the
// real check. `verify(event)` itself always runs the full check (ids are recomputed, nothing is believed from the
// event object), it only records what passed.
import type { SchnorrVerify } from '../../src-shared/nostr/event'
import type { EventVerifier } from './event-verifier'

/** Entries kept by default: more than the fleet service's queue (2,000) plus records in flight. */
export const DEFAULT_SIGNATURE_MEMO_ENTRIES = 16_384

export class SignatureMemo {
  private readonly seen = new Set<string>()
  hits = 0

  constructor(readonly maxEntries = DEFAULT_SIGNATURE_MEMO_ENTRIES) {
    if (!Number.isSafeInteger(maxEntries) || maxEntries < 1) throw new RangeError('maxEntries must be at least 1')
  }

  private static key(sig: string, msg: string, pubkey: string): string {
    return `${sig}:${msg}:${pubkey}`
  }

  /** Records a triple that the real verifier accepted. Oldest entries go first when full. */
  add(sig: string, msg: string, pubkey: string): void {
    const k = SignatureMemo.key(sig, msg, pubkey)
    if (this.seen.has(k)) return
    if (this.seen.size >= this.maxEntries) {
      const oldest = this.seen.values().next().value
      if (oldest !== undefined) this.seen.delete(oldest)
    }
    this.seen.add(k)
  }

  has(sig: string, msg: string, pubkey: string): boolean {
    return this.seen.has(SignatureMemo.key(sig, msg, pubkey))
  }

  get size(): number {
    return this.seen.size
  }
}

/** The same verifier, remembering what passed; its bare check answers remembered triples without the curve. */
export function withSignatureMemo(inner: EventVerifier, memo = new SignatureMemo()): EventVerifier {
  const verifySchnorr: SchnorrVerify = (sig, msg, pubkey) => {
    if (memo.has(sig, msg, pubkey)) {
      memo.hits++
      return true
    }
    const ok = inner.verifySchnorr(sig, msg, pubkey)
    if (ok) memo.add(sig, msg, pubkey)
    return ok
  }
  return {
    name: inner.name,
    verify(ev) {
      const outcome = inner.verify(ev)
      if (outcome === 'ok') memo.add(ev.sig, ev.id, ev.pubkey)
      return outcome
    },
    verifySchnorr,
  }
}
