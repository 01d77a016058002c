// The commit hook's fast encoding path (log.ts `encodeRow`) against the canonical encoder it replaces on the write
// path (src-shared/audit/types.ts `encodeEntry`, docs/audit.md): the bytes must be identical for every value type,
// including non-ASCII text, empty and large blobs, negative and 64-bit integers, REALs and deletions.
import { bytesToHex } from '@noble/hashes/utils.js'
import { describe, expect, it } from 'vitest'
import { type AuditEntry, type EntryOp, type EntryValue, encodeEntry } from '../../src-shared/audit/types'
import { codecFor, encodeRow } from './log'

const COLS = ['id', 'name_ü', 'amount_msat', 'ratio', 'raw', 'note']

function both(table: string, rowid: string, seq: string, op: EntryOp, values: EntryValue[] | null) {
  const e: AuditEntry = {
    table,
    rowid,
    seq,
    op,
    columns: values === null ? [] : COLS.map((name, i) => ({ name, value: values[i]! })),
  }
  return [bytesToHex(encodeRow(codecFor(table, COLS), rowid, seq, op, values)), bytesToHex(encodeEntry(e))]
}

describe('encodeRow', () => {
  it('gives encodeEntry’s exact bytes for every value type and operation', () => {
    const cases: [EntryOp, EntryValue[] | null][] = [
      ['I', [1n, 'Lobby', 9_223_372_036_854_775_807n, 0.125, new Uint8Array([0, 255, 7]), null]],
      ['U', [-42n, 'Café – 日本 🏧', -9_223_372_036_854_775_808n, -1e300, new Uint8Array(0), '']],
      ['M', [0n, '', 0n, Number.NaN, new Uint8Array(70_000).fill(9), 'x'.repeat(30_000)]],
      ['D', null],
    ]
    for (const [op, values] of cases) {
      const [fast, canonical] = both('acct_tëst', '123456789', '42', op, values)
      expect(fast).toBe(canonical)
    }
  })

  it('keeps the bytes of an earlier call when a later, larger entry reuses its scratch buffer', () => {
    const codec = codecFor('t', COLS)
    const first = encodeRow(codec, '1', '1', 'I', [1n, 'a', 2n, 1.5, new Uint8Array([1]), null])
    const copy = bytesToHex(first)
    encodeRow(codec, '2', '1', 'I', [2n, 'b'.repeat(200_000), 3n, 2.5, new Uint8Array(100_000), 'z'])
    expect(bytesToHex(first)).toBe(copy)
  })
})
