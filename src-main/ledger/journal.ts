// The ledger journal format (docs/architecture.md §5): one append-only file per generation, `journal-<startSeq>.log`, holding
// one record per committed transaction:
//
//   [len u32 LE][crc32 u32 LE][seq u64 LE][payload: len bytes of UTF-8 JSON]
//
// The CRC-32 (IEEE 802.3, the zlib polynomial) covers the len field, the seq field and the payload, so a
// flipped bit anywhere in a record is caught. The payload lists the write statements the transaction executed
// (sql, params, rows changed); bigint and byte-array parameters are tagged so replay binds exactly what ran.
// Pure: no file I/O here, the store reads and writes the bytes.
import { LedgerCorruptError, LedgerInputError } from './errors'
import type { SqlParams, SqlValue } from './types'

export const RECORD_HEADER_BYTES = 16
/** A larger record is treated as damage; no real transaction comes near it. */
export const MAX_RECORD_BYTES = 64 * 1024 * 1024

const CRC_TABLE = (() => {
  const t = new Uint32Array(256)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
    t[n] = c >>> 0
  }
  return t
})()

/** CRC-32 of `buf[start, end)`, continuing from `crc` (pass the previous result to chain). */
export function crc32(buf: Uint8Array, start = 0, end = buf.length, crc = 0): number {
  let c = ~crc >>> 0
  for (let i = start; i < end; i++) c = CRC_TABLE[(c ^ buf[i]!) & 0xff]! ^ (c >>> 8)
  return ~c >>> 0
}

function recordCrc(buf: Uint8Array, at: number, len: number): number {
  const c = crc32(buf, at, at + 4)
  return crc32(buf, at + 8, at + RECORD_HEADER_BYTES + len, c)
}

/** What a record describes. `kind`: p = procedure, t = transaction steps, m = migration, b = bulk-load barrier. */
export interface JournalEntry {
  kind: 'p' | 't' | 'm' | 'b'
  /** Procedure name or migration `version:name`; absent for plain transactions. */
  name?: string
  stmts: JournalStatement[]
}

export interface JournalStatement {
  sql: string
  params: SqlParams | undefined
  /** Rows the statement changed when it ran; replay checks it to catch divergence. */
  changes: number
}

type EncodedValue = string | number | null | ['b', string] | ['u', string]
type EncodedParams = null | { a: EncodedValue[] } | { o: [string, EncodedValue][] }

function encodeValue(v: SqlValue, field: string): EncodedValue {
  if (v === null || typeof v === 'string') return v
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new LedgerInputError('must be a finite number', field)
    return v
  }
  if (typeof v === 'bigint') return ['b', v.toString()]
  if (v instanceof Uint8Array) return ['u', Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64')]
  throw new LedgerInputError(`unsupported SQL value of type ${typeof v}`, field)
}

function decodeValue(v: EncodedValue): SqlValue {
  if (v === null || typeof v === 'string' || typeof v === 'number') return v
  if (v[0] === 'b') return BigInt(v[1])
  return new Uint8Array(Buffer.from(v[1], 'base64'))
}

/** Checks and encodes statement parameters; throws `LedgerInputError` naming the bad parameter. */
export function encodeParams(p: SqlParams | undefined, field = 'params'): EncodedParams {
  if (p === undefined || p === null) return null
  if (Array.isArray(p)) return { a: p.map((v, i) => encodeValue(v, `${field}[${i}]`)) }
  if (typeof p === 'object' && !(p instanceof Uint8Array)) {
    return { o: Object.entries(p).map(([k, v]) => [k, encodeValue(v as SqlValue, `${field}.${k}`)]) }
  }
  throw new LedgerInputError('must be an array or an object of SQL values', field)
}

function decodeParams(e: EncodedParams): SqlParams | undefined {
  if (e === null) return undefined
  if ('a' in e) return e.a.map(decodeValue)
  return Object.fromEntries(e.o.map(([k, v]) => [k, decodeValue(v)]))
}

/** Encodes a whole entry as JSON bytes. */
export function encodePayload(entry: JournalEntry): Buffer {
  const doc = {
    v: 1,
    k: entry.kind,
    n: entry.name,
    s: entry.stmts.map((s, i) => [s.sql, encodeParams(s.params, `stmts[${i}].params`), s.changes]),
  }
  return Buffer.from(JSON.stringify(doc), 'utf8')
}

/** Decodes a payload; throws a plain Error on a malformed document (the caller names the file). */
export function decodePayload(buf: Uint8Array): JournalEntry {
  const doc = JSON.parse(Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength).toString('utf8')) as {
    v: number
    k: JournalEntry['kind']
    n?: string
    s: [string, EncodedParams, number][]
  }
  if (doc.v !== 1) throw new Error(`unknown journal payload version ${doc.v}`)
  if (!['p', 't', 'm', 'b'].includes(doc.k) || !Array.isArray(doc.s)) throw new Error('malformed journal payload')
  return {
    kind: doc.k,
    ...(doc.n === undefined ? {} : { name: doc.n }),
    stmts: doc.s.map(([sql, params, changes]) => ({ sql, params: decodeParams(params), changes })),
  }
}

/** Frames one record. */
export function encodeRecord(seq: number, payload: Uint8Array): Buffer {
  if (!Number.isSafeInteger(seq) || seq < 1) throw new RangeError(`seq must be a positive safe integer, got ${seq}`)
  if (payload.length > MAX_RECORD_BYTES) throw new LedgerInputError('transaction too large for one record', 'payload')
  const buf = Buffer.allocUnsafe(RECORD_HEADER_BYTES + payload.length)
  buf.writeUInt32LE(payload.length, 0)
  buf.writeBigUInt64LE(BigInt(seq), 8)
  buf.set(payload, RECORD_HEADER_BYTES)
  buf.writeUInt32LE(recordCrc(buf, 0, payload.length), 4)
  return buf
}

export interface ScannedRecord {
  seq: number
  offset: number
  payload: Uint8Array
}

export interface JournalScan {
  records: ScannedRecord[]
  /** Byte offset just past the last good record. */
  goodEnd: number
  /** Set when bytes after `goodEnd` do not form a record: an incomplete or garbled last record. */
  tail: { offset: number; reason: string } | null
}

/** Tries to read a well-formed record at `at`; returns why not. */
function readRecord(buf: Uint8Array, at: number): { ok: true; len: number; seq: number } | { ok: false; why: string } {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
  if (buf.length - at < RECORD_HEADER_BYTES) return { ok: false, why: 'incomplete record header' }
  const len = dv.getUint32(at, true)
  if (len > MAX_RECORD_BYTES) return { ok: false, why: `record length ${len} out of range` }
  if (at + RECORD_HEADER_BYTES + len > buf.length) return { ok: false, why: 'record runs past end of file' }
  if (recordCrc(buf, at, len) !== dv.getUint32(at + 4, true)) return { ok: false, why: 'checksum mismatch' }
  const seq = dv.getBigUint64(at + 8, true)
  if (seq > BigInt(Number.MAX_SAFE_INTEGER)) return { ok: false, why: 'seq out of range' }
  return { ok: true, len, seq: Number(seq) }
}

/**
 * Reads every record of one journal file. `startSeq` is the seq its name promises for the first record; seqs
 * must then go up by one. A bad stretch that reaches the end of the file is reported as `tail` (a torn last
 * write); a bad stretch followed by any good record, or a seq out of order, throws `LedgerCorruptError`
 * naming the file and offset, because dropping it would lose acknowledged transactions.
 */
export function scanJournal(buf: Uint8Array, file: string, startSeq: number): JournalScan {
  const records: ScannedRecord[] = []
  let at = 0
  let expect = startSeq
  while (at < buf.length) {
    const r = readRecord(buf, at)
    if (!r.ok) {
      const later = findLaterRecord(buf, at + 1, expect)
      if (later !== null) {
        throw new LedgerCorruptError(`journal record damaged (${r.why}) with good records after it`, file, at)
      }
      return { records, goodEnd: at, tail: { offset: at, reason: r.why } }
    }
    if (r.seq !== expect) {
      throw new LedgerCorruptError(`journal seq gap: expected ${expect}, found ${r.seq}`, file, at)
    }
    records.push({
      seq: r.seq,
      offset: at,
      payload: buf.subarray(at + RECORD_HEADER_BYTES, at + RECORD_HEADER_BYTES + r.len),
    })
    at += RECORD_HEADER_BYTES + r.len
    expect++
  }
  return { records, goodEnd: at, tail: null }
}

/** Looks for any checksum-valid record with a plausible seq at or after `from`. */
function findLaterRecord(buf: Uint8Array, from: number, minSeq: number): number | null {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
  for (let p = from; p + RECORD_HEADER_BYTES <= buf.length; p++) {
    const len = dv.getUint32(p, true)
    if (p + RECORD_HEADER_BYTES + len > buf.length) continue
    const seq = dv.getBigUint64(p + 8, true)
    if (seq < BigInt(minSeq) || seq > BigInt(minSeq) + 1_000_000_000n) continue
    if (recordCrc(buf, p, len) === dv.getUint32(p + 4, true)) return p
  }
  return null
}
