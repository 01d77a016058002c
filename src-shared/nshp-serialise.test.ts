// NIP-01 serialisation edge cases a device-side serialiser must match byte for byte (escaping, non-ASCII).
import { describe, expect, it } from 'vitest'
import { serializeForId } from './nostr/event'

const base = { pubkey: 'a'.repeat(64), created_at: 1, kind: 1, tags: [] as string[][] }

describe('NIP-01 serialisation vectors', () => {
  it('escapes quote, backslash and the short control escapes; other controls as \\u00XX', () => {
    const s = serializeForId({ ...base, content: '"\\\n\r\t\b\f\u0001\u001f' })
    expect(s.endsWith(',"\\"\\\\\\n\\r\\t\\b\\f\\u0001\\u001f"]')).toBe(true)
  })
  it('keeps non-ASCII and slash unescaped, as raw UTF-8', () => {
    const s = serializeForId({ ...base, content: 'ü/€😀' })
    expect(s.endsWith(',"ü/€😀"]')).toBe(true)
    expect(new TextEncoder().encode('😀').length).toBe(4)
  })
  it('no whitespace between elements, tags nested as arrays', () => {
    const s = serializeForId({ ...base, tags: [['e', 'x'], ['p']], content: '' })
    expect(s).toBe(`[0,"${'a'.repeat(64)}",1,1,[["e","x"],["p"]],""]`)
  })
})
