// Property tests for journal scanning (src-main/ledger/README.md): whatever happens to the bytes of a
// journal, a scan either returns an intact prefix of the records that were written (dropping only a damaged
// tail) or refuses with LedgerCorruptError; it never returns a record whose content changed. Runs PROPS_RUNS
// cases (default 200 here; `npm test` sets 100,000).
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { LedgerCorruptError } from './errors'
import { decodePayload, encodePayload, encodeRecord, type JournalEntry, scanJournal } from './journal'

const RUNS = Number(process.env.PROPS_RUNS ?? 200)
const SEED = process.env.PROPS_SEED ? Number(process.env.PROPS_SEED) : (Date.now() ^ (Math.random() * 2 ** 31)) | 0
console.log(`[props] ledger journal: runs=${RUNS} seed=${SEED} (replay with PROPS_SEED=${SEED})`)

const value = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.integer(),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
  fc.constant(null),
  fc.uint8Array({ maxLength: 8 }),
)
const entry: fc.Arbitrary<JournalEntry> = fc.record({
  kind: fc.constantFrom('p' as const, 't' as const, 'm' as const),
  stmts: fc.array(
    fc.record({ sql: fc.string({ maxLength: 40 }), params: fc.array(value, { maxLength: 4 }), changes: fc.nat(5) }),
    { minLength: 1, maxLength: 3 },
  ),
})

function build(entries: JournalEntry[], start: number): { buf: Buffer; ends: number[] } {
  const parts = entries.map((e, i) => encodeRecord(start + i, encodePayload(e)))
  const ends: number[] = []
  let at = 0
  for (const p of parts) {
    at += p.length
    ends.push(at)
  }
  return { buf: Buffer.concat(parts), ends }
}

describe('journal scan properties', () => {
  it('round-trips any entries', () => {
    fc.assert(
      fc.property(fc.array(entry, { minLength: 1, maxLength: 6 }), fc.integer({ min: 1, max: 1e9 }), (es, start) => {
        const { buf } = build(es, start)
        const s = scanJournal(buf, 'j', start)
        expect(s.tail).toBeNull()
        expect(s.records.map((r) => decodePayload(r.payload))).toEqual(es)
      }),
      { numRuns: RUNS, seed: SEED },
    )
  }, 180_000)

  it('a cut anywhere keeps exactly the complete records before it', () => {
    fc.assert(
      fc.property(fc.array(entry, { minLength: 1, maxLength: 6 }), fc.nat(), (es, cutSeed) => {
        const { buf, ends } = build(es, 1)
        const cut = cutSeed % (buf.length + 1)
        const s = scanJournal(buf.subarray(0, cut), 'j', 1)
        const complete = ends.filter((e) => e <= cut).length
        expect(s.records.length).toBe(complete)
        expect(s.goodEnd).toBe(complete === 0 ? 0 : ends[complete - 1])
        expect(s.tail === null).toBe(s.goodEnd === cut)
      }),
      { numRuns: RUNS, seed: SEED },
    )
  })

  it('a flipped byte never yields altered records: refused mid-file, dropped as the tail at the end', () => {
    fc.assert(
      fc.property(
        fc.array(entry, { minLength: 1, maxLength: 6 }),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        (es, posSeed, mask) => {
          const { buf, ends } = build(es, 1)
          const pos = posSeed % buf.length
          buf[pos]! ^= mask
          const damaged = ends.findIndex((e) => pos < e)
          try {
            const s = scanJournal(buf, 'j', 1)
            // Accepted: only the damaged record and what follows may be missing, and it must be the last one.
            expect(damaged).toBe(es.length - 1)
            expect(s.records.map((r) => decodePayload(r.payload))).toEqual(es.slice(0, damaged))
          } catch (e) {
            expect(e).toBeInstanceOf(LedgerCorruptError)
            expect(damaged).toBeLessThan(es.length - 1)
          }
        },
      ),
      { numRuns: RUNS, seed: SEED },
    )
  })
})
