// The NIP-01 event serialisation as an NSHP/1 device computes it (docs/signer-protocol.md §7.1), written without
// JSON.stringify on purpose: it is the reference a firmware author ports, and the conformance vectors check that
// it agrees byte for byte with the host's serializer (src-shared/nostr/event.ts). Pure.
//
// Rules: compact JSON of [0,"<pubkey>",<created_at>,<kind>,[[...tags]],"<content>"]; in strings, `"` → \" and
// `\` → \\, U+0008 → \b, U+0009 → \t, U+000A → \n, U+000C → \f, U+000D → \r, every other character verbatim as
// UTF-8 (including "/", U+007F, U+2028, emoji). Any other control character U+0000–U+001F is REFUSED: NIP-01 says
// "verbatim" while common serializers write \u00XX, so such an event has no agreed id.

const SHORT: Record<number, string> = { 8: '\\b', 9: '\\t', 10: '\\n', 12: '\\f', 13: '\\r' }

/** Index and code of the first control character the device refuses, or null. */
export function refusedControl(s: string): { index: number; code: number } | null {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c < 0x20 && SHORT[c] === undefined) return { index: i, code: c }
  }
  return null
}

export function jsonString(s: string): string {
  let out = '"'
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c === 0x22) out += '\\"'
    else if (c === 0x5c) out += '\\\\'
    else if (c < 0x20) {
      const e = SHORT[c]
      if (e === undefined) throw new RangeError(`control character U+${c.toString(16).padStart(4, '0')} at ${i}`)
      out += e
    } else out += s[i]
  }
  return `${out}"`
}

export function serializeEvent(
  pubkey: string,
  createdAt: number,
  kind: number,
  tags: string[][],
  content: string,
): string {
  const t = tags.map((tag) => `[${tag.map(jsonString).join(',')}]`).join(',')
  return `[0,${jsonString(pubkey)},${createdAt},${kind},[${t}],${jsonString(content)}]`
}
