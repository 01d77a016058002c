// A bounded memory of NIP-44 v2 conversation keys, per peer key (src-shared/signer.ts: the console key decrypts
// every ATM record, docs/protocol.md §4). Deriving one costs an ECDH (milliseconds in pure JS, more than the
// record's signature check); a console hears from a few hundred ATMs at most, so each peer's key is derived once
// while it stays among the `maxEntries` most recently used, and memory stays bounded whatever the traffic.
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
