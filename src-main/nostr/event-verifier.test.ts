// The bare BIP-340 check of both verifiers (used by the acceptance pipeline for record signatures and NIP-26
// tokens) must agree with each other and with the event check, on valid, tampered and malformed input.
import { schnorr } from '@noble/curves/secp256k1.js'
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js'
import { describe, expect, it } from 'vitest'
import { memoryLogger } from '../../src-shared/log'
import { signTemplateWithKey } from '../../src-shared/nostr/event'
import {
  createEventVerifier,
  freezeEvent,
  freezeVerified,
  isVerifiedFrozen,
  nobleVerifier,
  parseSignedEvent,
  wasmVerifier,
} from './event-verifier'

const SK = hexToBytes('3b'.repeat(32))

describe('verifySchnorr', () => {
  it('WASM and noble agree on valid, tampered and malformed signatures', async () => {
    const wasm = await wasmVerifier()
    const noble = nobleVerifier()
    expect(wasm.name).toBe('wasm')
    const pk = bytesToHex(schnorr.getPublicKey(SK))
    for (let i = 0; i < 20; i++) {
      const msg = bytesToHex(schnorr.utils.randomSecretKey())
      const sig = bytesToHex(schnorr.sign(hexToBytes(msg), SK))
      const flipped = `${msg.slice(0, 10)}${msg[10] === 'a' ? 'b' : 'a'}${msg.slice(11)}`
      const cases: [string, string, string, boolean][] = [
        [sig, msg, pk, true],
        [sig, flipped, pk, false],
        [`${sig.slice(0, 127)}${sig[127] === '0' ? '1' : '0'}`, msg, pk, false],
        [sig, msg, 'ff'.repeat(32), false], // not an x coordinate on the curve
        [sig.slice(2), msg, pk, false],
        [sig.toUpperCase(), msg, pk, false],
      ]
      for (const [s, m, p, want] of cases) {
        expect(wasm.verifySchnorr(s, m, p)).toBe(want)
        expect(noble.verifySchnorr(s, m, p)).toBe(want)
      }
    }
  })
  it('agrees with the event check on event signatures', async () => {
    const wasm = await wasmVerifier()
    const ev = signTemplateWithKey({ kind: 1, created_at: 1_700_000_000, tags: [], content: 'x' }, SK)
    expect(wasm.verify(ev)).toBe('ok')
    expect(wasm.verifySchnorr(ev.sig, ev.id, ev.pubkey)).toBe(true)
  })
  it('createEventVerifier self-tests the bare check too and falls back to noble when it lies', async () => {
    const log = memoryLogger()
    const v = await createEventVerifier(log, {
      loadWasm: async () => ({ ...(await wasmVerifier()), verifySchnorr: () => true }),
    })
    expect(v.name).toBe('noble')
    expect(log.records.some((r) => r.level === 'warn' && /self-test/.test(String(r.fields?.reason)))).toBe(true)
  })
})

describe('freezeVerified / isVerifiedFrozen (the pool verdict the acceptance pipeline reuses)', () => {
  it('recognises only the exact frozen object, never a copy, a re-parse or an unverified frozen event', () => {
    const ev = signTemplateWithKey({ kind: 1, created_at: 1_700_000_000, tags: [['t', 'x']], content: 'x' }, SK)
    const parsed = parseSignedEvent(ev)
    const frozen = freezeVerified(parsed)
    expect(isVerifiedFrozen(frozen)).toBe(true)
    expect(Object.isFrozen(frozen.tags[0])).toBe(true)
    expect(isVerifiedFrozen({ ...frozen })).toBe(false)
    expect(isVerifiedFrozen(JSON.parse(JSON.stringify(frozen)))).toBe(false)
    expect(isVerifiedFrozen(parseSignedEvent(frozen))).toBe(false)
    expect(isVerifiedFrozen(freezeEvent(parseSignedEvent(ev)))).toBe(false)
  })
})
