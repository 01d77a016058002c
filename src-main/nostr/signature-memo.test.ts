// The signature memo answers only what the real verifier accepted, for exactly the same three strings, stays
// within its bound, and lets the pipeline's second check of a pool-verified event skip the curve.
import { hexToBytes } from '@noble/hashes/utils.js'
import { describe, expect, it } from 'vitest'
import { signTemplateWithKey } from '../../src-shared/nostr/event'
import { type EventVerifier, nobleVerifier } from './event-verifier'
import { SignatureMemo, withSignatureMemo } from './signature-memo'

const SK = hexToBytes('4c'.repeat(32))
const event = (content: string) =>
  signTemplateWithKey({ kind: 1, created_at: 1_700_000_000, tags: [], content }, SK, new Uint8Array(32))

/** A noble verifier that counts how often the curve is asked. */
function counting(): EventVerifier & { calls: { verify: number; schnorr: number } } {
  const inner = nobleVerifier()
  const calls = { verify: 0, schnorr: 0 }
  return {
    name: inner.name,
    calls,
    verify: (ev) => {
      calls.verify++
      return inner.verify(ev)
    },
    verifySchnorr: (s, m, p) => {
      calls.schnorr++
      return inner.verifySchnorr(s, m, p)
    },
  }
}

describe('withSignatureMemo', () => {
  it('answers the bare check of a pool-verified event from memory, and still verifies every event in full', () => {
    const inner = counting()
    const v = withSignatureMemo(inner)
    const ev = event('a')
    expect(v.verify(ev)).toBe('ok')
    expect(v.verify(ev)).toBe('ok')
    expect(inner.calls.verify).toBe(2) // verify() never answers from memory
    expect(v.verifySchnorr(ev.sig, ev.id, ev.pubkey)).toBe(true)
    expect(inner.calls.schnorr).toBe(0)
  })

  it('never remembers a failure, nor lends a triple to a different message, key or signature', () => {
    const inner = counting()
    const v = withSignatureMemo(inner)
    const a = event('a')
    const b = event('b')
    expect(v.verify(a)).toBe('ok')
    expect(v.verifySchnorr(a.sig, b.id, a.pubkey)).toBe(false)
    expect(v.verifySchnorr(b.sig, a.id, a.pubkey)).toBe(false)
    expect(v.verifySchnorr(a.sig, a.id, 'ff'.repeat(32))).toBe(false)
    expect(v.verifySchnorr(a.sig.toUpperCase(), a.id.toUpperCase(), a.pubkey)).toBe(false)
    expect(inner.calls.schnorr).toBe(4)
    const tampered = { ...a, content: 'A' }
    expect(v.verify(tampered)).toBe('bad-id')
    expect(v.verifySchnorr(a.sig, a.id, a.pubkey)).toBe(true)
    expect(inner.calls.schnorr).toBe(4)
  })

  it('remembers what its own bare check accepted (a NIP-26 token seen twice is checked once)', () => {
    const inner = counting()
    const v = withSignatureMemo(inner)
    const ev = event('c')
    expect(v.verifySchnorr(ev.sig, ev.id, ev.pubkey)).toBe(true)
    expect(v.verifySchnorr(ev.sig, ev.id, ev.pubkey)).toBe(true)
    expect(inner.calls.schnorr).toBe(1)
  })
})

describe('SignatureMemo', () => {
  it('keeps at most maxEntries, dropping the oldest first', () => {
    const m = new SignatureMemo(2)
    m.add('s1', 'm', 'p')
    m.add('s2', 'm', 'p')
    m.add('s3', 'm', 'p')
    expect(m.size).toBe(2)
    expect(m.has('s1', 'm', 'p')).toBe(false)
    expect(m.has('s2', 'm', 'p')).toBe(true)
    expect(m.has('s3', 'm', 'p')).toBe(true)
    expect(() => new SignatureMemo(0)).toThrow(/maxEntries/)
  })
})
