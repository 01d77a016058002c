// Journal record format: framing, checksums, payload codec, and how scanning tells a torn tail from damage.
import { describe, expect, it } from 'vitest'
import { LedgerCorruptError, LedgerInputError } from './errors'
import { crc32, decodePayload, encodePayload, encodeRecord, RECORD_HEADER_BYTES, scanJournal } from './journal'

const entry = (n: number) => ({
  kind: 'p' as const,
  name: 'test.book',
  stmts: [
    { sql: 'INSERT INTO t (id, amount_msat) VALUES (?, ?)', params: [n, 2n ** 60n + BigInt(n)], changes: 1 },
    {
      sql: 'INSERT INTO b (id, blob) VALUES ($id, $blob)',
      params: { $id: n, $blob: new Uint8Array([n, 0, 255]) },
      changes: 1,
    },
  ],
})

function journalOf(seqs: number[]): Buffer {
  return Buffer.concat(seqs.map((s) => encodeRecord(s, encodePayload(entry(s)))))
}

describe('journal', () => {
  it('crc32 matches the standard check value', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926)
  })

  it('round-trips payloads exactly, including bigint above 2^53, bytes and named params', () => {
    const e = entry(7)
    const back = decodePayload(encodePayload(e))
    expect(back).toEqual(e)
    expect(typeof (back.stmts[0]!.params as unknown[])[1]).toBe('bigint')
    expect((back.stmts[0]!.params as bigint[])[1]).toBe(2n ** 60n + 7n)
  })

  it('keeps a named parameter called $b distinct from a tagged bigint', () => {
    const e = { kind: 't' as const, stmts: [{ sql: 'SELECT $b', params: { $b: 'x' }, changes: 0 }] }
    expect(decodePayload(encodePayload(e))).toEqual(e)
  })

  it('rejects non-finite numbers naming the parameter', () => {
    const e = { kind: 't' as const, stmts: [{ sql: 'x', params: [1, Number.NaN], changes: 0 }] }
    expect(() => encodePayload(e)).toThrow(LedgerInputError)
    expect(() => encodePayload(e)).toThrow(/stmts\[0\]\.params\[1\]/)
  })

  it('scans consecutive records', () => {
    const buf = journalOf([5, 6, 7])
    const s = scanJournal(buf, 'j.log', 5)
    expect(s.records.map((r) => r.seq)).toEqual([5, 6, 7])
    expect(s.tail).toBeNull()
    expect(s.goodEnd).toBe(buf.length)
    expect(decodePayload(s.records[2]!.payload)).toEqual(entry(7))
  })

  it('reports an incomplete last record as a torn tail at its offset', () => {
    const full = journalOf([1, 2, 3])
    const twoEnd = journalOf([1, 2]).length
    for (const cut of [twoEnd + 3, twoEnd + RECORD_HEADER_BYTES, full.length - 1]) {
      const s = scanJournal(full.subarray(0, cut), 'j.log', 1)
      expect(s.records.map((r) => r.seq)).toEqual([1, 2])
      expect(s.tail?.offset).toBe(twoEnd)
      expect(s.goodEnd).toBe(twoEnd)
    }
  })

  it('reports a flipped byte in the last record as a torn tail', () => {
    const buf = journalOf([1, 2, 3])
    const lastAt = journalOf([1, 2]).length
    buf[buf.length - 5]! ^= 0x01
    const s = scanJournal(buf, 'j.log', 1)
    expect(s.records.length).toBe(2)
    expect(s.tail).toEqual({ offset: lastAt, reason: 'checksum mismatch' })
  })

  it('refuses a flipped byte mid-journal, naming file and offset', () => {
    const buf = journalOf([1, 2, 3, 4])
    const secondAt = journalOf([1]).length
    buf[secondAt + RECORD_HEADER_BYTES + 10]! ^= 0x40
    expect(() => scanJournal(buf, '/x/journal-1.log', 1)).toThrow(LedgerCorruptError)
    try {
      scanJournal(buf, '/x/journal-1.log', 1)
    } catch (e) {
      expect((e as LedgerCorruptError).file).toBe('/x/journal-1.log')
      expect((e as LedgerCorruptError).offset).toBe(secondAt)
    }
  })

  it('refuses a damaged length field that would swallow later good records', () => {
    const buf = journalOf([1, 2, 3, 4])
    const secondAt = journalOf([1]).length
    buf.writeUInt32LE(buf.length, secondAt) // now "runs past the end", but records 3 and 4 are still there
    expect(() => scanJournal(buf, 'j.log', 1)).toThrow(/good records after it/)
  })

  it('refuses a seq gap and a first record that does not match the file name', () => {
    expect(() => scanJournal(journalOf([1, 2, 4]), 'j.log', 1)).toThrow(/seq gap/)
    expect(() => scanJournal(journalOf([3, 4]), 'j.log', 2)).toThrow(/expected 2, found 3/)
  })
})
