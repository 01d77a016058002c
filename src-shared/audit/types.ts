// The audit log's public formats (docs/audit.md): the canonical encoding of one ledger entry (a leaf of the RFC 6962
// tree in merkle.ts), the console-signed tree head (kind 30078, d = satmachine:audit-head) and the operator's quarter
// attestation (kind 3080). Pure: no Node/Electron/DOM, so the console, `verify-audit` and the Audit screen share it.
//
// The encoding is binary and has exactly one form per entry: fixed field order, integers as decimal ASCII, lengths
// as 32-bit big-endian, no floats for money (a REAL column, which the ledger does not use for money, is encoded as its
// 8 IEEE-754 bytes so it still round-trips exactly). The ledger stores the very bytes it hashed (audit_leaf.entry),
// so nothing is re-serialised to check a proof.
import { bytesToHex } from '@noble/hashes/utils.js'
import type { EventTemplate, NostrEvent } from '../nostr/event'
import { leafHash } from './merkle'

/** Kind and `d` tag of the console-signed head (parameterised replaceable: relays keep the newest). */
export const AUDIT_HEAD_KIND = 30078
export const AUDIT_HEAD_D = 'satmachine:audit-head'
/** Kind of the operator's quarter attestation (a regular event: every quarter's stays). */
export const QUARTER_ATTESTATION_KIND = 3080
/** First bytes of every entry: "SMAL" (Satmachine audit leaf), then the format version. */
export const ENTRY_MAGIC = new Uint8Array([0x53, 0x4d, 0x41, 0x4c])
export const ENTRY_VERSION = 1

/**
 * What happened to the row: I inserted, U updated (workflow columns such as a settlement's status), D deleted,
 * M re-recorded because a migration changed the table's columns (or the row predates the audit log: genesis).
 */
export type EntryOp = 'I' | 'U' | 'D' | 'M'

/** A stored SQLite value, typed as SQLite stored it. INTEGER is bigint (exact 64-bit), REAL number. */
export type EntryValue = null | bigint | number | string | Uint8Array

export interface EntryColumn {
  name: string
  value: EntryValue
}

/** One ledger entry: a row version of one table, as it was stored by the transaction `seq`. */
export interface AuditEntry {
  /** Ledger table name, e.g. acct_settlement. */
  table: string
  /** The row's SQLite rowid (for INTEGER PRIMARY KEY tables, the id column). Decimal string. */
  rowid: string
  /** The ledger transaction (journal seq) that wrote this version. Decimal string. */
  seq: string
  op: EntryOp
  /** Every column in the table's declared order (PRAGMA table_info), empty for D. */
  columns: EntryColumn[]
}

/** An entry as the ledger holds it: its position in the tree, the exact bytes and their RFC 6962 leaf hash. */
export interface StoredEntry {
  /** 0-based leaf index. */
  index: number
  entry: AuditEntry
  bytes: Uint8Array
  /** leafHash(bytes) = SHA-256(0x00 || bytes). */
  hash: Uint8Array
}

/** Thrown for bytes that are not a well-formed entry; `field` says where (offset and part). */
export class EntryFormatError extends Error {
  override readonly name = 'EntryFormatError'
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`)
  }
}

const TAG_NULL = 0x00
const TAG_INT = 0x01
const TAG_REAL = 0x02
const TAG_TEXT = 0x03
const TAG_BLOB = 0x04
const OPS: readonly EntryOp[] = ['I', 'U', 'D', 'M']
const utf8 = new TextEncoder()
const fromUtf8 = new TextDecoder('utf-8', { fatal: true })
const DECIMAL = /^(0|-?[1-9][0-9]*)$/

/** One growing buffer (encoding is on the start-up path: every row of the ledger is encoded once). */
class Writer {
  private buf = new Uint8Array(512)
  private dv = new DataView(this.buf.buffer)
  private n = 0
  private ensure(k: number): void {
    if (this.n + k <= this.buf.length) return
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.n + k))
    next.set(this.buf.subarray(0, this.n))
    this.buf = next
    this.dv = new DataView(next.buffer)
  }
  raw(b: Uint8Array): void {
    this.ensure(b.length)
    this.buf.set(b, this.n)
    this.n += b.length
  }
  u8(v: number): void {
    this.ensure(1)
    this.buf[this.n++] = v
  }
  u32(v: number): void {
    this.ensure(4)
    this.dv.setUint32(this.n, v)
    this.n += 4
  }
  f64(v: number): void {
    this.ensure(8)
    this.dv.setFloat64(this.n, v)
    this.n += 8
  }
  bytes(b: Uint8Array): void {
    this.u32(b.length)
    this.raw(b)
  }
  str(s: string): void {
    // UTF-8 needs at most 3 bytes per UTF-16 code unit.
    this.ensure(4 + s.length * 3)
    const r = utf8.encodeInto(s, this.buf.subarray(this.n + 4))
    this.dv.setUint32(this.n, r.written)
    this.n += 4 + r.written
  }
  done(): Uint8Array {
    return this.buf.slice(0, this.n)
  }
}

/**
 * The canonical bytes of an entry:
 *   "SMAL" | u8 version=1 | str table | str rowid | str seq | u8 op (ASCII I/U/D/M) | u32 column count | column*
 *   column = str name | u8 tag | value;  tag 0 NULL (no value), 1 INTEGER (str decimal), 2 REAL (8 bytes IEEE-754
 *   big-endian), 3 TEXT (str UTF-8), 4 BLOB (u32 length | bytes);  str = u32 big-endian byte length | UTF-8 bytes.
 */
export function encodeEntry(e: AuditEntry): Uint8Array {
  if (!DECIMAL.test(e.rowid)) throw new EntryFormatError('rowid', 'must be a decimal integer')
  if (!DECIMAL.test(e.seq)) throw new EntryFormatError('seq', 'must be a decimal integer')
  if (!OPS.includes(e.op)) throw new EntryFormatError('op', 'must be I, U, D or M')
  const w = new Writer()
  w.raw(ENTRY_MAGIC)
  w.u8(ENTRY_VERSION)
  w.str(e.table)
  w.str(e.rowid)
  w.str(e.seq)
  w.u8(e.op.charCodeAt(0))
  w.u32(e.columns.length)
  for (const c of e.columns) {
    w.str(c.name)
    const v = c.value
    if (v === null) w.u8(TAG_NULL)
    else if (typeof v === 'bigint') {
      w.u8(TAG_INT)
      w.str(v.toString())
    } else if (typeof v === 'number') {
      // sql.js hands back integers as bigint in bigint mode, so a number here is a REAL.
      w.u8(TAG_REAL)
      w.f64(v)
    } else if (typeof v === 'string') {
      w.u8(TAG_TEXT)
      w.str(v)
    } else if (v instanceof Uint8Array) {
      w.u8(TAG_BLOB)
      w.bytes(v)
    } else throw new EntryFormatError(`columns.${c.name}`, 'unsupported value type')
  }
  return w.done()
}

/** Parses canonical bytes back into an entry; refuses anything that would not re-encode to the same bytes. */
export function decodeEntry(bytes: Uint8Array): AuditEntry {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  let at = 0
  const need = (n: number, what: string) => {
    if (at + n > bytes.length) throw new EntryFormatError(what, `truncated at byte ${at}`)
  }
  const u8 = (what: string) => {
    need(1, what)
    return bytes[at++] as number
  }
  const u32 = (what: string) => {
    need(4, what)
    const v = dv.getUint32(at)
    at += 4
    return v
  }
  const blob = (what: string) => {
    const n = u32(what)
    need(n, what)
    const b = bytes.slice(at, at + n)
    at += n
    return b
  }
  const str = (what: string) => {
    try {
      return fromUtf8.decode(blob(what))
    } catch (e) {
      if (e instanceof EntryFormatError) throw e
      throw new EntryFormatError(what, 'not UTF-8')
    }
  }
  need(5, 'magic')
  for (let i = 0; i < 4; i++) if (bytes[i] !== ENTRY_MAGIC[i]) throw new EntryFormatError('magic', 'not an audit entry')
  at = 4
  const version = u8('version')
  if (version !== ENTRY_VERSION) throw new EntryFormatError('version', `unknown version ${version}`)
  const table = str('table')
  const rowid = str('rowid')
  const seq = str('seq')
  const op = String.fromCharCode(u8('op')) as EntryOp
  if (!OPS.includes(op)) throw new EntryFormatError('op', 'must be I, U, D or M')
  const n = u32('columns')
  const columns: EntryColumn[] = []
  for (let i = 0; i < n; i++) {
    const name = str(`columns[${i}].name`)
    const tag = u8(`columns.${name}.tag`)
    let value: EntryValue
    if (tag === TAG_NULL) value = null
    else if (tag === TAG_INT) {
      const s = str(`columns.${name}`)
      if (!DECIMAL.test(s)) throw new EntryFormatError(`columns.${name}`, 'integer is not canonical decimal')
      value = BigInt(s)
    } else if (tag === TAG_REAL) {
      need(8, `columns.${name}`)
      value = dv.getFloat64(at)
      at += 8
    } else if (tag === TAG_TEXT) value = str(`columns.${name}`)
    else if (tag === TAG_BLOB) value = blob(`columns.${name}`)
    else throw new EntryFormatError(`columns.${name}.tag`, `unknown type tag ${tag}`)
    columns.push({ name, value })
  }
  if (at !== bytes.length) throw new EntryFormatError('end', `${bytes.length - at} bytes after the last column`)
  const e: AuditEntry = { table, rowid, seq, op, columns }
  if (!DECIMAL.test(rowid)) throw new EntryFormatError('rowid', 'must be a decimal integer')
  if (!DECIMAL.test(seq)) throw new EntryFormatError('seq', 'must be a decimal integer')
  return e
}

/** The RFC 6962 leaf hash of an entry's canonical bytes. */
export function entryHash(bytes: Uint8Array): Uint8Array {
  return leafHash(bytes)
}

/** Columns that differ between two versions of one row (by name), for naming an edited field. */
export function differingColumns(a: readonly EntryColumn[], b: readonly EntryColumn[]): string[] {
  const out: string[] = []
  const bm = new Map(b.map((c) => [c.name, c.value]))
  for (const c of a) {
    if (!bm.has(c.name)) out.push(c.name)
    else if (!sameValue(c.value, bm.get(c.name) as EntryValue)) out.push(c.name)
    bm.delete(c.name)
  }
  out.push(...bm.keys())
  return out
}

function sameValue(x: EntryValue, y: EntryValue): boolean {
  if (x instanceof Uint8Array || y instanceof Uint8Array) {
    return x instanceof Uint8Array && y instanceof Uint8Array && bytesToHex(x) === bytesToHex(y)
  }
  return typeof x === typeof y && x === y
}

// ---------------------------------------------------------------------------------------------- signed head

/**
 * A tree head: the log's first `treeSize` entries hash to `root`. `ledgerSeq` is the ledger transaction the last of
 * them belongs to (it lets a refusal say which transactions are missing); `time` is the event's created_at.
 */
export interface AuditHead {
  treeSize: number
  /** RFC 6962 root, 64 lowercase hex. */
  root: string
  ledgerSeq: number
  /** Unix seconds (the event's created_at). */
  time: number
}

/** A head with the console-signed event that carries it. */
export interface SignedHead {
  head: AuditHead
  /** kind 30078, authored by the console key. */
  event: NostrEvent
}

/**
 * The head's event: content is exactly `{"v":1,"tree_size":N,"root":"<hex>","ledger_seq":S}` (this key order, no
 * spaces); tags `["d","satmachine:audit-head"]`, `["size","N"]`, `["root","<hex>"]`; created_at = head.time.
 */
export function headTemplate(head: AuditHead): EventTemplate {
  return {
    kind: AUDIT_HEAD_KIND,
    created_at: head.time,
    tags: [
      ['d', AUDIT_HEAD_D],
      ['size', String(head.treeSize)],
      ['root', head.root],
    ],
    content: headContent(head),
  }
}

export function headContent(head: AuditHead): string {
  return `{"v":1,"tree_size":${head.treeSize},"root":"${head.root}","ledger_seq":${head.ledgerSeq}}`
}

// ------------------------------------------------------------------------------------------ quarter attestation

/** A calendar quarter, "2026Q4". Quarters are UTC: [start of the first month 00:00Z, start of the next quarter). */
export type QuarterId = string

/**
 * The operator's statement that the quarter is closed: the log's head at close (console-signed, its event id), the
 * period's bounds and, when the export was made at close, the SHA-256 of its manifest (else null).
 */
export interface QuarterAttestation {
  period: QuarterId
  startMs: number
  endMs: number
  treeSize: number
  root: string
  ledgerSeq: number
  /** Id of the console-signed kind 30078 head at close. */
  headEventId: string
  consolePubkey: string
  closedAtMs: number
  /** SHA-256 (hex) of the export manifest for this quarter, or null when no export was attached. */
  manifestSha256: string | null
}

/**
 * The attestation's event (kind 3080, authored by the operator key, signed on the operator's signer): content is
 * exactly `{"v":1,"period":…,"start_ms":…,"end_ms":…,"tree_size":…,"root":…,"ledger_seq":…,"head_event_id":…,
 * "console_pubkey":…,"closed_at_ms":…,"manifest_sha256":…}` (this key order, no spaces); tags `["period",P]`,
 * `["e",head event id]`, `["p",console pubkey]`, `["size",N]`, `["root",hex]`, and `["x",manifest hash]` when set.
 */
export function attestationTemplate(a: QuarterAttestation, createdAt: number): EventTemplate {
  const tags = [
    ['period', a.period],
    ['e', a.headEventId],
    ['p', a.consolePubkey],
    ['size', String(a.treeSize)],
    ['root', a.root],
  ]
  if (a.manifestSha256 !== null) tags.push(['x', a.manifestSha256])
  return { kind: QUARTER_ATTESTATION_KIND, created_at: createdAt, tags, content: attestationContent(a) }
}

export function attestationContent(a: QuarterAttestation): string {
  return JSON.stringify({
    v: 1,
    period: a.period,
    start_ms: a.startMs,
    end_ms: a.endMs,
    tree_size: a.treeSize,
    root: a.root,
    ledger_seq: a.ledgerSeq,
    head_event_id: a.headEventId,
    console_pubkey: a.consolePubkey,
    closed_at_ms: a.closedAtMs,
    manifest_sha256: a.manifestSha256,
  })
}

/** A period's state: open (bookable), closed (locked, attestation signed and stored), attested (a relay has it). */
export type PeriodState = 'open' | 'closed' | 'attested'

export interface PeriodView {
  period: QuarterId
  startMs: number
  endMs: number
  state: PeriodState
  closedAtMs: number | null
  /** The quarter head at close (null while open). */
  head: AuditHead | null
  headEventId: string | null
  attestationEventId: string | null
  manifestSha256: string | null
}

// ------------------------------------------------------------------------------------------------ parsing

/** Thrown when a head or attestation event is not in the format above; `field` names the part. */
export class AuditFormatError extends Error {
  override readonly name = 'AuditFormatError'
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`)
  }
}

const HEX64_RE = /^[0-9a-f]{64}$/

function tagValue(ev: NostrEvent, name: string): string | undefined {
  return ev.tags.find((t) => t[0] === name)?.[1]
}

/**
 * Reads the head out of a kind 30078 event and checks that content, tags and created_at agree. The signature is
 * NOT checked here (pure code without a verifier): callers run `checkEvent` and compare the author with the console key.
 */
export function parseHeadEvent(ev: NostrEvent): AuditHead {
  if (ev.kind !== AUDIT_HEAD_KIND) throw new AuditFormatError('kind', `must be ${AUDIT_HEAD_KIND}`)
  if (tagValue(ev, 'd') !== AUDIT_HEAD_D) throw new AuditFormatError('tags.d', `must be ${AUDIT_HEAD_D}`)
  let c: Record<string, unknown>
  try {
    c = JSON.parse(ev.content) as Record<string, unknown>
  } catch {
    throw new AuditFormatError('content', 'not JSON')
  }
  const size = c.tree_size
  const seq = c.ledger_seq
  if (c.v !== 1) throw new AuditFormatError('content.v', 'must be 1')
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0)
    throw new AuditFormatError('content.tree_size', 'must be an integer ≥ 0')
  if (typeof c.root !== 'string' || !HEX64_RE.test(c.root)) throw new AuditFormatError('content.root', 'must be 64 hex')
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0)
    throw new AuditFormatError('content.ledger_seq', 'must be an integer ≥ 0')
  const head: AuditHead = { treeSize: size, root: c.root, ledgerSeq: seq, time: ev.created_at }
  if (ev.content !== headContent(head)) throw new AuditFormatError('content', 'not in canonical form')
  if (tagValue(ev, 'size') !== String(size)) throw new AuditFormatError('tags.size', 'differs from the content')
  if (tagValue(ev, 'root') !== c.root) throw new AuditFormatError('tags.root', 'differs from the content')
  return head
}

/** Reads the attestation out of a kind 3080 event (content canonical, tags agreeing). Signature: see parseHeadEvent. */
export function parseAttestationEvent(ev: NostrEvent): QuarterAttestation {
  if (ev.kind !== QUARTER_ATTESTATION_KIND) throw new AuditFormatError('kind', `must be ${QUARTER_ATTESTATION_KIND}`)
  let c: Record<string, unknown>
  try {
    c = JSON.parse(ev.content) as Record<string, unknown>
  } catch {
    throw new AuditFormatError('content', 'not JSON')
  }
  if (c.v !== 1) throw new AuditFormatError('content.v', 'must be 1')
  const int = (k: string) => {
    const v = c[k]
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0)
      throw new AuditFormatError(`content.${k}`, 'must be an integer ≥ 0')
    return v
  }
  const hex = (k: string) => {
    const v = c[k]
    if (typeof v !== 'string' || !HEX64_RE.test(v)) throw new AuditFormatError(`content.${k}`, 'must be 64 hex')
    return v
  }
  if (typeof c.period !== 'string' || !QUARTER_RE.test(c.period))
    throw new AuditFormatError('content.period', 'must look like 2026Q4')
  const a: QuarterAttestation = {
    period: c.period,
    startMs: int('start_ms'),
    endMs: int('end_ms'),
    treeSize: int('tree_size'),
    root: hex('root'),
    ledgerSeq: int('ledger_seq'),
    headEventId: hex('head_event_id'),
    consolePubkey: hex('console_pubkey'),
    closedAtMs: int('closed_at_ms'),
    manifestSha256: c.manifest_sha256 === null ? null : hex('manifest_sha256'),
  }
  if (ev.content !== attestationContent(a)) throw new AuditFormatError('content', 'not in canonical form')
  const b = quarterBounds(a.period)
  if (a.startMs !== b.startMs || a.endMs !== b.endMs)
    throw new AuditFormatError('content.start_ms', 'the bounds are not those of the period')
  if (tagValue(ev, 'period') !== a.period) throw new AuditFormatError('tags.period', 'differs from the content')
  if (tagValue(ev, 'e') !== a.headEventId) throw new AuditFormatError('tags.e', 'differs from the content')
  if (tagValue(ev, 'p') !== a.consolePubkey) throw new AuditFormatError('tags.p', 'differs from the content')
  if (tagValue(ev, 'size') !== String(a.treeSize)) throw new AuditFormatError('tags.size', 'differs from the content')
  if (tagValue(ev, 'root') !== a.root) throw new AuditFormatError('tags.root', 'differs from the content')
  if (tagValue(ev, 'x') !== (a.manifestSha256 ?? undefined))
    throw new AuditFormatError('tags.x', 'differs from the content')
  return a
}

// ------------------------------------------------------------------------------------------------ quarters

export const QUARTER_RE = /^(\d{4})Q([1-4])$/

/** [startMs, endMs) of a quarter, UTC. */
export function quarterBounds(q: QuarterId): { startMs: number; endMs: number } {
  const m = QUARTER_RE.exec(q)
  if (!m) throw new AuditFormatError('period', 'must look like 2026Q4')
  const y = Number(m[1])
  const k = Number(m[2]) - 1
  return { startMs: Date.UTC(y, k * 3, 1), endMs: Date.UTC(y, k * 3 + 3, 1) }
}

/** The quarter an instant falls in (UTC). */
export function quarterOf(ms: number): QuarterId {
  const d = new Date(ms)
  return `${d.getUTCFullYear()}Q${Math.floor(d.getUTCMonth() / 3) + 1}`
}

/** The quarter after `q`. */
export function nextQuarter(q: QuarterId): QuarterId {
  return quarterOf(quarterBounds(q).endMs)
}
