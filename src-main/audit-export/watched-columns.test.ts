// verify-audit's fast column reader against the audit log's own codec: for entries of every value type the reader
// gives the same rowid, op and values as a full decode, skips the columns it was not asked for, and refuses
// truncated bytes naming the part.
import { bytesToHex } from '@noble/hashes/utils.js'
import { describe, expect, it } from 'vitest'
import { type AuditEntry, decodeEntry, encodeEntry } from '../../src-shared/audit/types'
import { watchedColumns } from './verify'

const ENTRY: AuditEntry = {
  table: 'acct_settlement',
  rowid: '42',
  seq: '7',
  op: 'U',
  columns: [
    { name: 'id', value: 42n },
    { name: 'payment_hash', value: 'ab'.repeat(32) },
    { name: 'note', value: null },
    { name: 'ratio', value: 0.25 },
    { name: 'blob', value: new Uint8Array([1, 2, 255]) },
    { name: 'wire_msat', value: -123456789012345678n },
    { name: 'name', value: 'Café ✓' },
  ],
}

describe('watchedColumns', () => {
  it('agrees with decodeEntry on every value type', () => {
    const bytes = encodeEntry(ENTRY)
    const full = decodeEntry(bytes)
    const names = ENTRY.columns.map((c) => c.name)
    const r = watchedColumns(bytes, names)
    expect(r.rowid).toBe(full.rowid)
    expect(r.op).toBe(full.op)
    for (const c of full.columns) {
      const v = c.value
      const want = v === null ? '' : v instanceof Uint8Array ? bytesToHex(v) : v.toString()
      expect(r.values[c.name], c.name).toBe(want)
    }
  })

  it('returns only the columns asked for', () => {
    const r = watchedColumns(encodeEntry(ENTRY), ['wire_msat'])
    expect(r.values).toEqual({ wire_msat: '-123456789012345678' })
  })

  it('refuses truncated bytes naming the part', () => {
    const bytes = encodeEntry(ENTRY)
    expect(() => watchedColumns(bytes.subarray(0, bytes.length - 3), ['name'])).toThrow(/columns\.name: truncated/)
  })
})
