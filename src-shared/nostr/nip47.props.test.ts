// Property tests for the NIP-47 parsers: whatever arrives, they either succeed or throw their own typed error
// (never a TypeError from inside), and amounts survive the bigint <-> wire round trip exactly.
// Run count from PROPS_RUNS (CI sets 100000).
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  msatToWire,
  NIP47_METHODS,
  NwcError,
  NwcParamError,
  NwcUriError,
  parseConnectionUri,
  parseResult,
  preimageMatches,
} from './nip47'

const numRuns = Number(process.env.PROPS_RUNS ?? 1000)
const SEED = process.env.PROPS_SEED ? Number(process.env.PROPS_SEED) : (Date.now() ^ (Math.random() * 2 ** 31)) | 0
console.log(`[props] nip47: runs=${numRuns} seed=${SEED} (replay with PROPS_SEED=${SEED})`)
const hex64 = fc.stringMatching(/^[0-9a-f]{64}$/)

describe('nip47 properties', () => {
  it('parseConnectionUri only ever throws NwcUriError', () => {
    const part = fc.oneof(fc.string(), hex64, fc.constantFrom('wss://r.example', 'ws://127.0.0.1:1', 'x@y.z', ''))
    fc.assert(
      fc.property(part, part, part, part, fc.boolean(), (pk, relay, secret, lud16, slashes) => {
        const uri = `nostr+walletconnect:${slashes ? '//' : ''}${pk}?relay=${encodeURIComponent(relay)}&secret=${secret}&lud16=${lud16}`
        try {
          const c = parseConnectionUri(uri)
          expect(c.walletPubkey).toMatch(/^[0-9a-f]{64}$/)
          expect(c.relays.length).toBeGreaterThan(0)
        } catch (e) {
          expect(e).toBeInstanceOf(NwcUriError)
        }
      }),
      { numRuns, seed: SEED },
    )
  })

  it('parseResult only ever throws NwcError BAD_RESPONSE, and never yields a non-bigint amount', () => {
    fc.assert(
      fc.property(fc.constantFrom(...NIP47_METHODS), fc.jsonValue(), (method, value) => {
        try {
          const r = parseResult(method, value) as Record<string, unknown>
          for (const k of ['balanceMsat', 'amountMsat']) if (k in r) expect(typeof r[k]).toBe('bigint')
        } catch (e) {
          expect(e).toBeInstanceOf(NwcError)
          expect((e as NwcError).code).toBe('BAD_RESPONSE')
        }
      }),
      { numRuns, seed: SEED },
    )
  })

  it('transaction-shaped results keep integer amounts exactly and refuse the rest', () => {
    const amount = fc.oneof(fc.integer(), fc.double(), fc.bigInt().map(String), fc.constant(null))
    fc.assert(
      fc.property(amount, (a) => {
        const tx = { type: 'incoming', payment_hash: 'ab'.repeat(32), amount: a }
        const ok = typeof a === 'number' && Number.isSafeInteger(a) && a >= 0
        if (ok) expect(parseResult('lookup_invoice', tx).amountMsat).toBe(BigInt(a))
        else expect(() => parseResult('lookup_invoice', tx)).toThrow(NwcError)
      }),
      { numRuns, seed: SEED },
    )
  })

  it('msatToWire round-trips every safe amount and refuses the rest with the field name', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(2n ** 60n), max: 2n ** 60n }), (v) => {
        if (v > 0n && v <= BigInt(Number.MAX_SAFE_INTEGER)) expect(BigInt(msatToWire('amountMsat', v))).toBe(v)
        else expect(() => msatToWire('amountMsat', v)).toThrow(NwcParamError)
      }),
      { numRuns, seed: SEED },
    )
  })

  it('preimageMatches never throws', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (a, b) => {
        expect(typeof preimageMatches(a, b)).toBe('boolean')
      }),
      { numRuns, seed: SEED },
    )
  })
})
