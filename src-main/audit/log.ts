// The audit log inside the ledger (docs/audit.md): one Merkle leaf per row version of every ledger table, appended in
// the SAME transaction that wrote the row, through the ledger's commit hook (src-main/ledger/define.ts). The hook
// sees the rows SQLite's update hook reported, re-reads each one, encodes it canonically (src-shared/audit/types.ts:
// table, rowid, seq, op, every column in declared order, typed) and appends the exact bytes and their RFC 6962 leaf
// hash to `audit_leaf`. Because the leaf rows are ordinary journaled statements, replay after a crash re-creates
// them exactly; because they record the bytes at commit time, a later edit of the row (in a journal record with its
// CRC recomputed, or in a snapshot with its sha256 recomputed) no longer matches its newest leaf, and a consistent
// edit of row and leaf changes the leaf hash, which no longer matches the signed head kept outside the ledger.
//
// Why in the transaction and not derived later: most tables are append-only, but workflow columns (a settlement's
// status, a deposit's confirmation, a leg's paid mark, a payout's state) are updated in place, so the history of
// those rows exists nowhere else; deriving leaves afterwards would only see the last version.
//
// Schema changes: after every migration the hook compares each table's column list with the one it recorded and
// re-records every row of a new or changed table (op M), so a migration never looks like tampering. The first run
// (this module's migration) records every row already in the ledger the same way (genesis). Tables too large to
// re-record inside one journal record get a backfill cursor and are re-recorded in batches (`audit.backfill`).
//
// Quarter lock: an insert whose booking time (the first of booked_at_ms, created_at_ms, recorded_at_ms,
// received_at_ms, planned_at_ms, at_ms the table has) lies in a closed quarter is refused, so history inside a closed
// period never changes; a correction is a reversing entry booked now, naming the original.
// Migration versions 1600–1649 belong to the audit log.
import { createHash } from 'node:crypto'
import { MerkleFrontier } from '../../src-shared/audit/merkle'
import {
  type AuditEntry,
  decodeEntry,
  differingColumns,
  ENTRY_MAGIC,
  ENTRY_VERSION,
  type EntryColumn,
  EntryFormatError,
  type EntryOp,
  type EntryValue,
  encodeEntry,
} from '../../src-shared/audit/types'
import { FieldError } from '../../src-shared/field-error'
import { appendOnlyTriggers } from '../ledger/append-only'
import { defineCommitHook, defineMigration, defineProcedure } from '../ledger/define'
import type { CommitContext, RowChange, SqlParams, SqlValue, TxDb } from '../ledger/types'

export const AUDIT_SCHEMA_VERSION = 1600

/**
 * Tables not in the log: the log's own bookkeeping (a leaf about a leaf would never end), the ledger's seq counter
 * (rewritten by every transaction) and the relay subscription cursors (a position, not a fact; rewritten per event).
 */
export const UNLOGGED_TABLES: ReadonlySet<string> = new Set([
  'audit_leaf',
  'audit_table',
  'ledger_meta',
  'fleet_cursor',
])

const TIME_COLUMNS = ['booked_at_ms', 'created_at_ms', 'recorded_at_ms', 'received_at_ms', 'planned_at_ms', 'at_ms']
/** Tables whose rows record the lock itself (a close and its publication happen after the period). */
const UNLOCKED_TABLES = new Set(['audit_period', 'audit_publish', 'schema_version'])

export class AuditPeriodClosedError extends FieldError {
  override readonly name = 'AuditPeriodClosedError'
}

defineMigration({
  version: AUDIT_SCHEMA_VERSION,
  name: 'audit log',
  up: (db: TxDb) => {
    db.run(`
CREATE TABLE audit_leaf (
  idx INTEGER PRIMARY KEY CHECK (idx >= 0),
  seq INTEGER NOT NULL,
  tbl TEXT NOT NULL,
  row_id INTEGER NOT NULL,
  op TEXT NOT NULL CHECK (op IN ('I', 'U', 'D', 'M')),
  entry BLOB NOT NULL,
  hash BLOB NOT NULL CHECK (length(hash) = 32)
);
CREATE INDEX audit_leaf_row ON audit_leaf (tbl, row_id, idx);
CREATE TABLE audit_table (
  name TEXT NOT NULL,
  seq INTEGER NOT NULL,
  columns TEXT NOT NULL,
  backfill_after INTEGER,
  PRIMARY KEY (name, seq)
);
CREATE TABLE audit_period (
  period TEXT PRIMARY KEY,
  start_ms INTEGER NOT NULL,
  end_ms INTEGER NOT NULL,
  closed_at_ms INTEGER NOT NULL,
  closed_by TEXT NOT NULL,
  tree_size INTEGER NOT NULL,
  root TEXT NOT NULL,
  ledger_seq INTEGER NOT NULL,
  head_event_id TEXT NOT NULL,
  head_json TEXT NOT NULL,
  attestation_id TEXT NOT NULL UNIQUE,
  attestation_json TEXT NOT NULL,
  manifest_sha256 TEXT
);
CREATE TABLE audit_publish (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  event_id TEXT NOT NULL,
  relays_ok INTEGER NOT NULL,
  detail TEXT,
  at_ms INTEGER NOT NULL
);
${appendOnlyTriggers('audit_leaf', 'audit_table', 'audit_period', 'audit_publish')}
`)
  },
})

const BIG = { bigint: true } as const

function hasAuditLog(tx: TxDb): boolean {
  return tx.get("SELECT 1 AS x FROM sqlite_master WHERE type = 'table' AND name = 'audit_leaf'") !== undefined
}

function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`
}

/** Column names of a table in declared order. */
export function tableColumns(tx: TxDb, table: string): string[] {
  return tx.all<{ name: string }>('SELECT name FROM pragma_table_info(?) ORDER BY cid', [table]).map((r) => r.name)
}

/**
 * Every logged table that exists now. WITHOUT ROWID and virtual tables are not logged (SQLite's update hook does not
 * report their rows); the ledger has none, and a feature that adds one must know its rows are outside the log.
 */
export function loggedTables(tx: TxDb): string[] {
  return tx
    .all<{ name: string }>(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND sql NOT LIKE '%WITHOUT ROWID%' AND sql NOT LIKE 'CREATE VIRTUAL%' ORDER BY name",
    )
    .map((r) => r.name)
    .filter((t) => !UNLOGGED_TABLES.has(t))
}

/** The row's primary key as an operator reads it: `id 42`, `payment_hash ab12…`, or `rowid 7` without one. */
export function keyLabel(tx: TxDb, table: string, columns: readonly EntryColumn[], rowid: string): string {
  const pk = tx
    .all<{ name: string }>('SELECT name FROM pragma_table_info(?) WHERE pk > 0 ORDER BY pk', [table])
    .map((r) => r.name)
  if (pk.length === 0) return `rowid ${rowid}`
  return pk
    .map((n) => {
      const v = columns.find((c) => c.name === n)?.value
      return `${n} ${v === undefined || v === null ? '?' : v instanceof Uint8Array ? '(bytes)' : String(v)}`
    })
    .join(', ')
}

function normalise(v: EntryValue | undefined): EntryValue {
  if (v === undefined) return null
  return v
}

function nextIndex(tx: TxDb): number {
  const r = tx.get<{ n: bigint | null }>('SELECT max(idx) AS n FROM audit_leaf', undefined, BIG)
  return r?.n === null || r?.n === undefined ? 0 : Number(r.n) + 1
}

function appendLeaf(tx: TxDb, idx: number, e: AuditEntry): void {
  const bytes = encodeEntry(e)
  tx.run('INSERT INTO audit_leaf (idx, seq, tbl, row_id, op, entry, hash) VALUES (?, ?, ?, ?, ?, ?, ?)', [
    idx,
    Number(e.seq),
    e.table,
    BigInt(e.rowid),
    e.op,
    bytes,
    fastLeafHash(bytes),
  ])
}

/** Tables up to this many rows are re-recorded inside the migration; larger ones in batches afterwards. */
export const INLINE_RERECORD_ROWS = 2000

function rerecord(
  tx: TxDb,
  t: string,
  cols: readonly string[],
  seq: number,
  idx: { n: number },
  rows: readonly Record<string, unknown>[],
) {
  for (const r of rows) {
    appendLeaf(tx, idx.n++, {
      table: t,
      rowid: String(r.__rowid),
      seq: String(seq),
      op: 'M',
      columns: cols.map((name) => ({ name, value: normalise(r[name] as EntryValue | undefined) })),
    })
  }
}

/**
 * Records new or changed tables (after a migration) and re-records their rows (op M); returns the tables covered.
 * A table with more than INLINE_RERECORD_ROWS rows is marked for backfill instead (`backfill_after` = the rowid
 * before its first row), so one migration never writes a journal record too large to keep: `audit.backfill`
 * re-records it in batches of their own transactions, and until then the check skips its rows above the cursor.
 */
function syncTables(tx: TxDb, seq: number, idx: { n: number }): Set<string> {
  const covered = new Set<string>()
  const recorded = new Map<string, string>()
  for (const r of tx.all<{ name: string; columns: string }>(
    'SELECT name, columns FROM audit_table a WHERE seq = (SELECT max(seq) FROM audit_table b WHERE b.name = a.name)',
  )) {
    recorded.set(r.name, r.columns)
  }
  const present = new Set<string>()
  for (const t of loggedTables(tx)) {
    present.add(t)
    const cols = tableColumns(tx, t)
    const key = cols.join(',')
    if (recorded.get(t) === key) continue
    covered.add(t)
    const rows = tx.all(
      `SELECT rowid AS __rowid, * FROM ${quoteIdent(t)} ORDER BY rowid LIMIT ${INLINE_RERECORD_ROWS + 1}`,
      undefined,
      BIG,
    )
    if (rows.length <= INLINE_RERECORD_ROWS) {
      tx.run('INSERT INTO audit_table (name, seq, columns, backfill_after) VALUES (?, ?, ?, NULL)', [t, seq, key])
      rerecord(tx, t, cols, seq, idx, rows)
    } else {
      const first = rows[0]!.__rowid as bigint
      tx.run('INSERT INTO audit_table (name, seq, columns, backfill_after) VALUES (?, ?, ?, ?)', [
        t,
        seq,
        key,
        first - 1n,
      ])
    }
  }
  for (const [t, cols] of recorded) {
    // A dropped table: recorded with an empty column list, and its rows are no longer checked.
    if (!present.has(t) && cols !== '')
      tx.run('INSERT INTO audit_table (name, seq, columns, backfill_after) VALUES (?, ?, ?, NULL)', [t, seq, ''])
  }
  return covered
}

/** Tables whose re-recording is still under way, with the rowid up to which it is done. */
export function pendingBackfill(tx: TxDb): Map<string, bigint> {
  const out = new Map<string, bigint>()
  for (const r of tx.all<{ name: string; after: bigint }>(
    `SELECT name, backfill_after AS after FROM audit_table a
     WHERE seq = (SELECT max(seq) FROM audit_table b WHERE b.name = a.name) AND backfill_after IS NOT NULL AND columns <> ''`,
    undefined,
    BIG,
  )) {
    out.set(r.name, r.after)
  }
  return out
}

/**
 * Args {limit?} → re-records up to `limit` (default 2000) rows of tables marked for backfill, as op M entries of
 * this transaction; answers how many it recorded and how many tables are still pending.
 */
defineProcedure('audit.backfill', (tx, raw: unknown) => {
  const a = (raw ?? {}) as { limit?: unknown }
  const limit = a.limit === undefined ? 2000 : a.limit
  if (typeof limit !== 'number' || !Number.isSafeInteger(limit) || limit < 1 || limit > 20_000)
    throw new FieldError('limit', 'must be an integer from 1 to 20000')
  if (!hasAuditLog(tx)) return { recorded: 0, pending: 0 }
  // The seq this transaction will get: the store sets ledger_meta after the body, deterministically.
  const seq =
    Number(tx.get<{ s: bigint }>('SELECT seq AS s FROM ledger_meta WHERE id = 1', undefined, BIG)?.s ?? 0n) + 1
  const idx = { n: nextIndex(tx) }
  let left = limit
  const pending = pendingBackfill(tx)
  for (const [t, after] of pending) {
    if (left === 0) break
    const cols = tableColumns(tx, t)
    const ask = left
    const rows = tx.all(
      `SELECT rowid AS __rowid, * FROM ${quoteIdent(t)} WHERE rowid > ? ORDER BY rowid LIMIT ?`,
      [after, ask],
      BIG,
    )
    rerecord(tx, t, cols, seq, idx, rows)
    left -= rows.length
    // Fewer rows than asked for: the table is done (rows added meanwhile were logged as they were written).
    const done = rows.length < ask
    const cursor = done ? null : (rows[rows.length - 1]!.__rowid as bigint)
    tx.run('INSERT INTO audit_table (name, seq, columns, backfill_after) VALUES (?, ?, ?, ?)', [
      t,
      seq,
      cols.join(','),
      cursor,
    ])
    if (done) pending.delete(t)
  }
  return { recorded: limit - left, pending: pending.size }
})

type ClosedPeriod = {
  period: string
  start_ms: number
  end_ms: number
}

/** The commit hook: appends one leaf per changed row of a logged table, in first-change order. */
export function appendLeaves(ctx: CommitContext): void {
  const { tx, seq } = ctx
  if (!hasAuditLog(tx)) return
  const idx = { n: nextIndex(tx) }
  const covered = ctx.kind === 'm' ? syncTables(tx, seq, idx) : new Set<string>()
  // First-change order, one leaf per row however often the transaction changed it. Rows are keyed per table
  // by rowid (a Map per table, not one string per change: a bulk transaction reports a few hundred thousand).
  const order: { table: string; rowid: number }[] = []
  const insertedOf = new Map<string, Set<number>>()
  const seenOf = new Map<string, Set<number>>()
  for (const c of ctx.changes as RowChange[]) {
    if (UNLOGGED_TABLES.has(c.table) || covered.has(c.table)) continue
    let seen = seenOf.get(c.table)
    if (!seen) {
      seen = new Set()
      seenOf.set(c.table, seen)
      insertedOf.set(c.table, new Set())
    }
    if (c.op === 'insert') insertedOf.get(c.table)!.add(c.rowid)
    if (seen.has(c.rowid)) continue
    seen.add(c.rowid)
    order.push({ table: c.table, rowid: c.rowid })
  }
  if (ctx.kind === 'm') {
    // A data migration over many rows of one table: re-record that table in batches (backfill) instead of
    // writing every entry into the migration's journal record.
    // (Not when it deleted rows: a deletion must be an entry of its own, which only the inline path writes.)
    const deleted = new Set((ctx.changes as RowChange[]).filter((c) => c.op === 'delete').map((c) => c.table))
    const big = new Set<string>()
    for (const [t, seen] of seenOf) {
      if (seen.size <= INLINE_RERECORD_ROWS || deleted.has(t)) continue
      const first = tx.get<{ r: bigint | null }>(`SELECT min(rowid) AS r FROM ${quoteIdent(t)}`, undefined, BIG)?.r
      tx.run('INSERT INTO audit_table (name, seq, columns, backfill_after) VALUES (?, ?, ?, ?)', [
        t,
        seq,
        tableColumns(tx, t).join(','),
        first === null || first === undefined ? null : first - 1n,
      ])
      big.add(t)
    }
    if (big.size > 0) order.splice(0, order.length, ...order.filter((o) => !big.has(o.table)))
  }
  if (order.length === 0) return
  // Each table's changed rows are read back in a few statements (rowid IN a JSON list), not one per row.
  const codecs = new Map<string, TableCodec>()
  const rowsOf = new Map<string, Map<number, SqlValue[]>>()
  const logged = new Set(order.map((o) => o.table))
  for (const [table, seen] of seenOf) {
    if (!logged.has(table)) continue
    const codec = tableCodec(tx, table)
    codecs.set(table, codec)
    rowsOf.set(table, readRows(tx, codec, [...seen]))
  }
  let closed: ClosedPeriod[] | null = null
  const leaves = new LeafInserter(tx)
  const seqText = String(seq)
  for (const { table, rowid } of order) {
    const codec = codecs.get(table)!
    const values = rowsOf.get(table)!.get(rowid) ?? null
    const op: EntryOp = values === null ? 'D' : insertedOf.get(table)!.has(rowid) ? 'I' : 'U'
    if (op === 'I' && values && !UNLOCKED_TABLES.has(table)) {
      closed ??= tx.all<ClosedPeriod>('SELECT period, start_ms, end_ms FROM audit_period')
      if (closed.length > 0)
        checkOpen(
          table,
          codec.cols.map((name, i) => ({ name, value: values[i]! })),
          closed,
        )
    }
    const bytes = encodeRow(codec, String(rowid), seqText, op, values)
    leaves.add(idx.n++, seq, table, rowid, op, bytes)
  }
  leaves.flush()
}

// ------------------------------------------------------------------------ the commit hook's fast encoding path

/**
 * A table's part of the canonical encoding (encodeEntry in src-shared/audit/types.ts), worked out once per commit:
 * the encoded table name and each column's encoded name, so a row costs only its values. `encodeRow` must produce
 * exactly encodeEntry's bytes; log-encode.test.ts compares the two over every value type.
 */
export interface TableCodec {
  table: string
  cols: string[]
  /** str(table): u32 length | UTF-8. */
  tableBytes: Buffer
  /** str(name) per column, in declared order. */
  nameBytes: Buffer[]
  /** Upper bound of the fixed part of an entry (magic, version, table, op, count, names, tags). */
  fixedBytes: number
}

function strBytes(s: string): Buffer {
  const body = Buffer.from(s, 'utf8')
  const out = Buffer.allocUnsafe(4 + body.length)
  out.writeUInt32BE(body.length, 0)
  body.copy(out, 4)
  return out
}

function tableCodec(tx: TxDb, table: string): TableCodec {
  return codecFor(table, tableColumns(tx, table))
}

/** The codec of a table with these columns (declared order). */
export function codecFor(table: string, cols: string[]): TableCodec {
  const tableBytes = strBytes(table)
  const nameBytes = cols.map(strBytes)
  let fixedBytes = ENTRY_MAGIC.length + 1 + tableBytes.length + 1 + 4
  for (const b of nameBytes) fixedBytes += b.length + 1
  return { table, cols, tableBytes, nameBytes, fixedBytes }
}

const ROWS_PER_READ = 2000

/** The rows `rowids` of the codec's table, each as its values in declared column order; a missing row is absent. */
function readRows(tx: TxDb, codec: TableCodec, rowids: readonly number[]): Map<number, SqlValue[]> {
  const out = new Map<number, SqlValue[]>()
  const sql = `SELECT rowid AS "audit rowid", * FROM ${quoteIdent(codec.table)}
    WHERE rowid IN (SELECT value FROM json_each(?))`
  for (let at = 0; at < rowids.length; at += ROWS_PER_READ) {
    const params = [JSON.stringify(rowids.slice(at, at + ROWS_PER_READ))]
    let columns: string[]
    let rows: SqlValue[][]
    if (tx.values) {
      const r = tx.values(sql, params, BIG)
      columns = r.columns
      rows = r.rows
    } else {
      const objs = tx.all(sql, params, BIG)
      columns = objs.length > 0 ? Object.keys(objs[0]!) : []
      rows = objs.map((o) => columns.map((c) => o[c] as SqlValue))
    }
    // Map declared columns to result positions by name, as the row object did (SELECT * and table_info agree on
    // ordinary columns; by name keeps that true for any column the one lists and the other does not).
    const pos = codec.cols.map((c) => columns.lastIndexOf(c))
    for (const r of rows) {
      const values = new Array<SqlValue>(pos.length)
      for (let i = 0; i < pos.length; i++) values[i] = pos[i]! < 0 ? null : (r[pos[i]!] ?? null)
      out.set(Number(r[0]), values)
    }
  }
  return out
}

const TAG_NULL = 0x00
const TAG_INT = 0x01
const TAG_REAL = 0x02
const TAG_TEXT = 0x03
const TAG_BLOB = 0x04
let scratch = Buffer.allocUnsafe(1 << 16)

/** encodeEntry's bytes for one row version (`values` in the codec's column order; null for a deletion). */
export function encodeRow(
  codec: TableCodec,
  rowid: string,
  seq: string,
  op: EntryOp,
  values: readonly SqlValue[] | null,
): Uint8Array {
  // Worst case: UTF-8 needs 3 bytes per UTF-16 code unit, a bigint at most 21 digits, a value's length 4 bytes.
  let need = codec.fixedBytes + 8 + rowid.length + seq.length + 16
  if (values) {
    for (const v of values) {
      if (typeof v === 'string') need += 4 + v.length * 3
      else if (v instanceof Uint8Array) need += 4 + v.length
      else need += 32
    }
  }
  if (scratch.length < need) scratch = Buffer.allocUnsafe(Math.max(need, scratch.length * 2))
  const b = scratch
  let n = 0
  b.set(ENTRY_MAGIC, 0)
  n = ENTRY_MAGIC.length
  b[n++] = ENTRY_VERSION
  n += codec.tableBytes.copy(b, n)
  n = writeStr(b, n, rowid)
  n = writeStr(b, n, seq)
  b[n++] = op.charCodeAt(0)
  const count = values ? codec.cols.length : 0
  b.writeUInt32BE(count, n)
  n += 4
  for (let i = 0; i < count; i++) {
    n += codec.nameBytes[i]!.copy(b, n)
    const v = values![i]!
    if (v === null || v === undefined) b[n++] = TAG_NULL
    else if (typeof v === 'bigint') {
      b[n++] = TAG_INT
      n = writeStr(b, n, v.toString())
    } else if (typeof v === 'number') {
      b[n++] = TAG_REAL
      b.writeDoubleBE(v, n)
      n += 8
    } else if (typeof v === 'string') {
      b[n++] = TAG_TEXT
      n = writeStr(b, n, v)
    } else if (v instanceof Uint8Array) {
      b[n++] = TAG_BLOB
      b.writeUInt32BE(v.length, n)
      b.set(v, n + 4)
      n += 4 + v.length
    } else throw new EntryFormatError(`columns.${codec.cols[i]}`, 'unsupported value type')
  }
  const out = new Uint8Array(n)
  out.set(b.subarray(0, n))
  return out
}

function writeStr(b: Buffer, at: number, s: string): number {
  const written = b.write(s, at + 4, 'utf8')
  b.writeUInt32BE(written, at)
  return at + 4 + written
}

const LEAF_COLUMNS = '(idx, seq, tbl, row_id, op, entry, hash)'
/** Rows per INSERT: the largest that fits, then smaller ones, so only four statement texts exist. */
const LEAF_CHUNKS = [64, 16, 4, 1] as const
const LEAF_SQL = new Map<number, string>(
  LEAF_CHUNKS.map((k) => [
    k,
    `INSERT INTO audit_leaf ${LEAF_COLUMNS} VALUES ${Array.from({ length: k }, () => '(?, ?, ?, ?, ?, ?, ?)').join(', ')}`,
  ]),
)

/** Appends leaves in multi-row INSERTs (one statement per 64 leaves instead of one per leaf). */
class LeafInserter {
  private params: SqlValue[] = []
  private rows = 0
  constructor(private readonly tx: TxDb) {}
  add(idx: number, seq: number, table: string, rowid: number, op: EntryOp, bytes: Uint8Array): void {
    this.params.push(idx, seq, table, rowid, op, bytes, fastLeafHash(bytes))
    if (++this.rows === LEAF_CHUNKS[0]) this.flush()
  }
  flush(): void {
    let at = 0
    for (const k of LEAF_CHUNKS) {
      while (this.rows - at / 7 >= k) {
        this.tx.run(LEAF_SQL.get(k)!, this.params.slice(at, at + k * 7))
        at += k * 7
      }
    }
    this.params = []
    this.rows = 0
  }
}

function checkOpen(table: string, row: EntryColumn[], closed: readonly ClosedPeriod[]): void {
  for (const name of TIME_COLUMNS) {
    const col = row.find((c) => c.name === name)
    if (!col) continue
    if (typeof col.value !== 'bigint' && typeof col.value !== 'number') return
    const t = Number(col.value)
    const p = closed.find((q) => t >= q.start_ms && t < q.end_ms)
    if (p) {
      throw new AuditPeriodClosedError(
        `${table}.${name}`,
        `${new Date(t).toISOString()} lies in ${p.period}, which is closed; book a correction dated in an open period that names the original entry`,
      )
    }
    return
  }
}

defineCommitHook('audit.appendLeaves', appendLeaves)

// ------------------------------------------------------------------------------------------------ verification

/** One way the ledger differs from its log. `index` is the leaf index involved, when there is one. */
export type LogProblem =
  | { kind: 'edited'; table: string; rowid: string; key: string; fields: string[]; index: number }
  | { kind: 'unlogged'; table: string; rowid: string; key: string }
  | { kind: 'deleted'; table: string; rowid: string; key: string; index: number }
  | { kind: 'leaf_damaged'; index: number; table: string; rowid: string; why: string }
  | { kind: 'leaf_differs'; index: number; table: string; rowid: string; seq: string }

export interface LogCheckArgs {
  /** Leaf hashes kept outside the ledger (32 bytes each, index order); compared with the ledger's leaves. */
  external?: Uint8Array
  /** Tree sizes whose roots to compute (the signed heads' sizes). */
  sizes?: number[]
  /** Stop listing problems after this many (default 50). */
  maxProblems?: number
  /** Also answer the Merkle frontier at this size (a start-up checkpoint's, incremental.ts). */
  frontierAt?: number
}

export interface LogCheckResult {
  /** Leaves in the ledger. */
  size: number
  /** Ledger seq of the newest leaf (0 when empty). */
  lastSeq: number
  /** Root (hex) at each requested size that the ledger reaches. */
  roots: Record<string, string>
  /** Ledger seq of the leaf at index size-1, for each requested size reached (names missing ranges). */
  seqAt: Record<string, number>
  problems: LogProblem[]
  /** True when more problems existed than were listed. */
  truncated: boolean
  /** The frontier's subtree roots at `frontierAt`, when asked and reached. */
  frontier?: Uint8Array[]
}

const toHex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('')

function sameBytes(a: Uint8Array, b: Uint8Array, bOff = 0): boolean {
  if (bOff + a.length > b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[bOff + i]) return false
  return true
}

/**
 * Read-only check of the log against the ledger's rows (every row's newest leaf must equal its canonical encoding
 * now), of every leaf's bytes against its stored hash and header, and of the leaf hashes against `external`.
 */
export function checkLog(tx: TxDb, args: LogCheckArgs = {}): LogCheckResult {
  const max = args.maxProblems ?? 50
  const problems: LogProblem[] = []
  let truncated = false
  const add = (p: LogProblem) => {
    if (problems.length < max) problems.push(p)
    else truncated = true
  }
  const result: LogCheckResult = { size: 0, lastSeq: 0, roots: {}, seqAt: {}, problems, truncated: false }
  if (!hasAuditLog(tx)) return result
  const sizes = new Set(args.sizes ?? [])
  const frontier = new MerkleFrontier()
  if (sizes.has(0)) result.roots['0'] = toHex(frontier.root())
  if (args.frontierAt === 0) result.frontier = []
  const ext = args.external

  // 1. Every entry, in index order: its bytes hash to its stored hash, which equals the hash outside the ledger.
  let after = -1
  for (;;) {
    const page = tx.all<{ idx: bigint; seq: bigint; tbl: string; row_id: bigint; entry: Uint8Array; hash: Uint8Array }>(
      'SELECT idx, seq, tbl, row_id, entry, hash FROM audit_leaf WHERE idx > ? ORDER BY idx LIMIT 5000',
      [after],
      BIG,
    )
    for (const l of page) {
      const i = Number(l.idx)
      const rowid = String(l.row_id)
      if (i !== frontier.size) {
        add({
          kind: 'leaf_damaged',
          index: frontier.size,
          table: l.tbl,
          rowid,
          why: `entry #${frontier.size} is missing`,
        })
      }
      const h = fastLeafHash(l.entry)
      if (!sameBytes(h, l.hash))
        add({ kind: 'leaf_damaged', index: i, table: l.tbl, rowid, why: 'its bytes no longer match its stored hash' })
      if (ext && ext.length >= (frontier.size + 1) * 32 && !sameBytes(h, ext, frontier.size * 32)) {
        add({ kind: 'leaf_differs', index: frontier.size, table: l.tbl, rowid, seq: String(l.seq) })
      }
      frontier.pushHash(h)
      result.lastSeq = Number(l.seq)
      if (sizes.has(frontier.size)) {
        result.roots[String(frontier.size)] = toHex(frontier.root())
        result.seqAt[String(frontier.size)] = Number(l.seq)
      }
      if (args.frontierAt === frontier.size) result.frontier = frontier.subtreeRoots().map((h) => Uint8Array.from(h))
    }
    if (page.length < 5000) break
    after = Number(page[page.length - 1]!.idx)
  }
  result.size = frontier.size

  // 2. Every row of every logged table against its newest entry (one join per page; audit_leaf_row finds it).
  const recorded = new Map(
    tx
      .all<{ name: string; columns: string }>(
        'SELECT name, columns FROM audit_table a WHERE seq = (SELECT max(seq) FROM audit_table b WHERE b.name = a.name)',
      )
      .map((r) => [r.name, r.columns]),
  )
  const tables = loggedTables(tx)
  const present = new Set(tables)
  // Rows above a backfill cursor are not re-recorded under their table's current columns yet: not checked.
  const pend = pendingBackfill(tx)
  for (const t of tables) {
    const cols = tableColumns(tx, t)
    const q = quoteIdent(t)
    const upTo = pend.get(t) ?? 2n ** 63n - 1n
    let afterRow: bigint = -(2n ** 63n)
    // Value arrays, not objects: this reads every row of the ledger at each start. Columns: the table's own in
    // declared order (t.*), then the newest entry's.
    const sql = `SELECT t.*, t.rowid AS __rowid, l.idx AS __idx, l.entry AS __entry, l.seq AS __seq, l.op AS __op
         FROM ${q} t LEFT JOIN audit_leaf l
           ON l.idx = (SELECT max(m.idx) FROM audit_leaf m WHERE m.tbl = ? AND m.row_id = t.rowid)
         WHERE t.rowid > ? AND t.rowid <= ? ORDER BY t.rowid LIMIT 2000`
    const read = (p: SqlParams) =>
      tx.values ? tx.values(sql, p, BIG).rows : tx.all(sql, p, BIG).map((o) => Object.values(o) as SqlValue[])
    const nc = cols.length
    for (;;) {
      const rows = read([t, afterRow, upTo])
      for (const r of rows) {
        const rowid = String(r[nc])
        const now: EntryColumn[] = new Array(nc)
        for (let c = 0; c < nc; c++) now[c] = { name: cols[c]!, value: normalise(r[c] as EntryValue | undefined) }
        if (r[nc + 1] === null || r[nc + 1] === undefined) {
          add({ kind: 'unlogged', table: t, rowid, key: keyLabel(tx, t, now, rowid) })
          continue
        }
        const i = Number(r[nc + 1])
        const op = r[nc + 4] as string
        const entry = r[nc + 2] as Uint8Array
        const leafSeq = r[nc + 3]
        if (op !== 'I' && op !== 'U' && op !== 'M' && op !== 'D') {
          add({ kind: 'leaf_damaged', index: i, table: t, rowid, why: `unknown operation ${JSON.stringify(op)}` })
          continue
        }
        if (op === 'D') {
          const key = keyLabel(tx, t, now, rowid)
          add({ kind: 'edited', table: t, rowid, key, fields: ['(the log records this row as deleted)'], index: i })
          continue
        }
        const bytesNow = encodeEntry({ table: t, rowid, seq: String(leafSeq), op, columns: now })
        if (bytesNow.length === entry.length && sameBytes(bytesNow, entry)) continue
        // Only now decode what was recorded, to name the fields.
        let logged: AuditEntry | null = null
        try {
          logged = decodeEntry(entry)
        } catch {
          // reported below as a damaged entry
        }
        if (!logged || logged.table !== t || logged.rowid !== rowid) {
          add({ kind: 'leaf_damaged', index: i, table: t, rowid, why: 'its bytes do not hold this row' })
          continue
        }
        const fields = differingColumns(logged.columns, now)
        const key = keyLabel(tx, t, logged.columns, rowid)
        add({ kind: 'edited', table: t, rowid, key, fields: fields.length > 0 ? fields : ['(encoding)'], index: i })
      }
      if (rows.length < 2000) break
      afterRow = rows[rows.length - 1]![nc] as bigint
    }
  }

  // 3. Entries whose row is gone, other than rows the log records as deleted (and tables dropped by a migration).
  for (const [t, cols] of recorded) {
    if (cols === '' || UNLOGGED_TABLES.has(t)) continue
    const gone = present.has(t) ? `AND NOT EXISTS (SELECT 1 FROM ${quoteIdent(t)} WHERE rowid = x.row_id)` : ''
    const rows = tx.all<{ row_id: bigint; idx: bigint; entry: Uint8Array }>(
      `SELECT x.row_id, l.idx, l.entry FROM
         (SELECT row_id, max(idx) AS m FROM audit_leaf WHERE tbl = ? GROUP BY row_id) x
         JOIN audit_leaf l ON l.idx = x.m
       WHERE l.op <> 'D' ${gone} ORDER BY l.idx LIMIT ?`,
      [t, max + 1],
      BIG,
    )
    for (const l of rows) {
      let c: EntryColumn[] = []
      try {
        c = decodeEntry(l.entry).columns
      } catch {
        // damaged entry: the key falls back to the rowid
      }
      const rowid = String(l.row_id)
      add({ kind: 'deleted', table: t, rowid, key: keyLabel(tx, t, c, rowid), index: Number(l.idx) })
    }
  }
  result.truncated = truncated
  return result
}

const LEAF_PREFIX = Buffer.from([0])
/** RFC 6962 leaf hash with Node's native SHA-256 (this runs in the ledger worker over every entry at start). */
function fastLeafHash(bytes: Uint8Array): Uint8Array {
  return createHash('sha256').update(LEAF_PREFIX).update(bytes).digest()
}

/** Read-only procedure over `checkLog` (runs inside the ledger worker, writes nothing, takes no seq). */
defineProcedure('audit.checkLog', (tx, raw: unknown) => {
  const a = (raw ?? {}) as LogCheckArgs
  if (a.external !== undefined && !(a.external instanceof Uint8Array)) throw new FieldError('external', 'must be bytes')
  if (a.sizes !== undefined && (!Array.isArray(a.sizes) || !a.sizes.every((n) => Number.isSafeInteger(n) && n >= 0)))
    throw new FieldError('sizes', 'must be a list of integers ≥ 0')
  return checkLog(tx, a)
})

/** Args {from, to} → leaf hashes of [from, to) concatenated (32 bytes each). Used to extend leaves.bin. */
defineProcedure('audit.leafHashes', (tx, raw: unknown) => {
  const a = (raw ?? {}) as { from?: unknown; to?: unknown }
  const from = a.from
  const to = a.to
  if (typeof from !== 'number' || !Number.isSafeInteger(from) || from < 0)
    throw new FieldError('from', 'must be an integer ≥ 0')
  if (typeof to !== 'number' || !Number.isSafeInteger(to) || to < from)
    throw new FieldError('to', 'must be an integer ≥ from')
  const rows = tx.all<{ hash: Uint8Array }>('SELECT hash FROM audit_leaf WHERE idx >= ? AND idx < ? ORDER BY idx', [
    from,
    to,
  ])
  const out = new Uint8Array(rows.length * 32)
  rows.forEach((r, i) => {
    out.set(r.hash, i * 32)
  })
  return {
    hashes: out,
    lastSeq: Number(tx.get<{ s: number | null }>('SELECT max(seq) AS s FROM audit_leaf WHERE idx < ?', [to])?.s ?? 0),
  }
})
