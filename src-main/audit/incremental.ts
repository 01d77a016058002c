// The incremental half of the audit start-up check (docs/audit.md §7 "Checkpoint"), inside the ledger worker. After a
// full check passed, the console records a checkpoint (checkpoint.ts) naming the snapshot file it verified (its
// SHA-256), the entries that snapshot holds and the Merkle frontier over them. When the ledger opens from that very
// snapshot again, everything the snapshot holds is what was verified, so only what the journal replay added since
// has to be checked: the rows the replay wrote (SQLite's update hook reported them, src-main/ledger/core.ts), the
// rows named by entries appended since, and those entries themselves (hash, leaves.bin, roots at the new signed
// sizes, extending the stored frontier). The result has the same shape as the full `checkLog`, so the findings name
// the same table, key and field.
//
// Whatever this cannot rule out sends the caller back to the full check (`fallback`, with the reason): another base
// snapshot, a schema or migration change since, a replayed statement whose row changes the update hook does not
// report (a truncate-optimised DELETE, a REPLACE), a rewrite of an entry the snapshot held.
import { createHash } from 'node:crypto'
import { MerkleFrontier } from '../../src-shared/audit/merkle'
import {
  type AuditEntry,
  decodeEntry,
  differingColumns,
  type EntryColumn,
  type EntryValue,
  encodeEntry,
} from '../../src-shared/audit/types'
import { FieldError } from '../../src-shared/field-error'
import { defineProcedure } from '../ledger/define'
import type { TxDb } from '../ledger/types'
import {
  keyLabel,
  type LogCheckResult,
  type LogProblem,
  loggedTables,
  pendingBackfill,
  tableColumns,
  UNLOGGED_TABLES,
} from './log'

const BIG = { bigint: true } as const

export interface IncrementalArgs {
  /** The checkpoint: the snapshot it verified, the entries in it and the frontier over them. */
  snapshotSeq: number
  snapshotSha256: string
  leafCount: number
  /** Hashes of leaves.bin the checkpoint covered; those from here up to leafCount are compared with the ledger's. */
  leavesCount?: number
  frontier: Uint8Array[]
  /** Digest of the schema and the applied migrations when the checkpoint was taken (`schemaDigest`). */
  schema: string
  /** leaves.bin as a whole (32 bytes per entry); entries from leafCount on are compared with it. */
  external?: Uint8Array
  /** Signed tree sizes whose roots to compute (only sizes ≥ leafCount are answered). */
  sizes?: number[]
  maxProblems?: number
}

export type IncrementalResult = ({ fallback: null } & LogCheckResult) | { fallback: string }

const hex = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex')

/** SHA-256 over the schema (sqlite_master) and the applied migrations: any DDL or migration changes it. */
export function schemaDigest(tx: TxDb): string {
  const h = createHash('sha256')
  for (const r of tx.all<{ type: string; name: string; sql: string | null }>(
    'SELECT type, name, sql FROM sqlite_master ORDER BY type, name',
  ))
    h.update(JSON.stringify([r.type, r.name, r.sql]))
  for (const r of tx.all<{ version: number; name: string }>(
    'SELECT version, name FROM schema_version ORDER BY version',
  ))
    h.update(JSON.stringify([r.version, r.name]))
  return h.digest('hex')
}

/**
 * Entries with seq ≤ `seq`: entries are appended in seq order, so they are the first ones; a binary search over the
 * primary key (no scan: this runs at every start).
 */
function leavesUpToSeq(tx: TxDb, seq: number): number {
  const top = tx.get<{ n: bigint | null }>('SELECT max(idx) AS n FROM audit_leaf', undefined, BIG)?.n
  let lo = 0
  let hi = top === null || top === undefined ? 0 : Number(top) + 1
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2)
    const r = tx.get<{ s: bigint }>('SELECT seq AS s FROM audit_leaf WHERE idx >= ? ORDER BY idx LIMIT 1', [mid], BIG)
    if (r !== undefined && Number(r.s) <= seq) lo = mid + 1
    else hi = mid
  }
  return lo
}

/**
 * What a checkpoint needs that only the worker knows: the replayed base, the entries in it, the schema digest, and
 * whether anything after the base makes a checkpoint of it unusable (a migration, an unhooked statement).
 */
defineProcedure('audit.checkpointBasis', (tx) => {
  const info = tx.replayed?.()
  if (!info) return { usable: false, why: 'the store does not report its replay' }
  const migratedAfter = tx.get<{ n: number }>('SELECT count(*) AS n FROM schema_version WHERE applied_seq > ?', [
    info.baseSeq,
  ])?.n
  const why =
    info.baseSha256 === null
      ? 'the ledger has no snapshot yet'
      : (migratedAfter ?? 0) > 0
        ? 'a migration ran after the snapshot'
        : info.records.some((r) => r.unhooked || (r.kind !== 'p' && r.kind !== 't'))
          ? 'the journal after the snapshot holds statements the check cannot follow row by row'
          : null
  return {
    usable: why === null,
    why,
    snapshotSeq: info.baseSeq,
    snapshotSha256: info.baseSha256,
    leafCount: leavesUpToSeq(tx, info.baseSeq),
    schema: schemaDigest(tx),
  }
})

/** Args {seq} → entries with seq ≤ seq and the schema digest (a checkpoint of a snapshot taken while running). */
defineProcedure('audit.snapshotBasis', (tx, raw: unknown) => {
  const seq = (raw as { seq?: unknown } | null)?.seq
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0)
    throw new FieldError('seq', 'must be an integer ≥ 0')
  return { leafCount: leavesUpToSeq(tx, seq), schema: schemaDigest(tx) }
})

function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`
}

function sameBytes(a: Uint8Array, b: Uint8Array, bOff = 0): boolean {
  if (bOff + a.length > b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[bOff + i]) return false
  return true
}

const LEAF_PREFIX = Buffer.from([0])
const leafHashOf = (bytes: Uint8Array) => createHash('sha256').update(LEAF_PREFIX).update(bytes).digest()

export function checkIncremental(tx: TxDb, a: IncrementalArgs): IncrementalResult {
  const info = tx.replayed?.()
  if (!info) return { fallback: 'the store does not report its replay' }
  if (info.baseSeq !== a.snapshotSeq || info.baseSha256 !== a.snapshotSha256)
    return { fallback: 'the ledger opened from another snapshot than the checkpoint' }
  if (schemaDigest(tx) !== a.schema) return { fallback: 'the schema or the migrations changed since the checkpoint' }
  if (info.records.some((r) => r.kind !== 'p' && r.kind !== 't'))
    return { fallback: 'a migration or bulk load was replayed' }
  if (info.records.some((r) => r.unhooked))
    return { fallback: 'a replayed statement changed rows the update hook does not report' }
  if (leavesUpToSeq(tx, a.snapshotSeq) !== a.leafCount)
    return { fallback: 'the snapshot holds another number of entries than the checkpoint' }

  const max = a.maxProblems ?? 50
  const problems: LogProblem[] = []
  let truncated = false
  const add = (p: LogProblem) => {
    if (problems.length < max) problems.push(p)
    else truncated = true
  }
  const result: LogCheckResult = { size: a.leafCount, lastSeq: 0, roots: {}, seqAt: {}, problems, truncated: false }
  const touched = new Map<string, Set<string>>()
  const touch = (t: string, rowid: string) => {
    let s = touched.get(t)
    if (!s) {
      s = new Set()
      touched.set(t, s)
    }
    s.add(rowid)
  }
  for (const r of info.records) {
    for (const c of r.changes) {
      // An entry the checkpoint covers, rewritten by a replayed statement: only the full check can name it.
      if (c.table === 'audit_leaf' && c.rowid < a.leafCount) return { fallback: 'a checkpointed entry was rewritten' }
      // SQLite's own tables (sqlite_sequence) are not logged; the update hook does not report them anyway.
      if (!UNLOGGED_TABLES.has(c.table) && !c.table.startsWith('sqlite_')) touch(c.table, String(c.rowid))
    }
  }

  // 0. Hashes leaves.bin gained since the checkpoint for entries the snapshot holds (leaves.bin lagged the ledger).
  const ext0 = a.external
  const upTo = Math.min(a.leafCount, Math.floor((ext0?.length ?? 0) / 32))
  if (ext0 && a.leavesCount !== undefined && a.leavesCount < upTo) {
    for (const l of tx.all<{ idx: bigint; seq: bigint; tbl: string; row_id: bigint; hash: Uint8Array }>(
      'SELECT idx, seq, tbl, row_id, hash FROM audit_leaf WHERE idx >= ? AND idx < ? ORDER BY idx',
      [a.leavesCount, upTo],
      BIG,
    )) {
      const i = Number(l.idx)
      if (!sameBytes(l.hash, ext0, i * 32))
        add({ kind: 'leaf_differs', index: i, table: l.tbl, rowid: String(l.row_id), seq: String(l.seq) })
    }
  }

  // 1. Entries appended since the checkpoint, extending its frontier.
  const frontier = MerkleFrontier.restore(a.leafCount, a.frontier)
  const sizes = new Set(a.sizes ?? [])
  if (sizes.has(a.leafCount)) result.roots[String(a.leafCount)] = hex(frontier.root())
  const ext = a.external
  let after = a.leafCount - 1
  if (a.leafCount > 0) {
    result.lastSeq = Number(
      tx.get<{ s: bigint }>('SELECT seq AS s FROM audit_leaf WHERE idx = ?', [a.leafCount - 1], BIG)?.s ?? 0n,
    )
  }
  for (;;) {
    const page = tx.all<{ idx: bigint; seq: bigint; tbl: string; row_id: bigint; entry: Uint8Array; hash: Uint8Array }>(
      'SELECT idx, seq, tbl, row_id, entry, hash FROM audit_leaf WHERE idx > ? ORDER BY idx LIMIT 5000',
      [after],
      BIG,
    )
    for (const l of page) {
      const i = Number(l.idx)
      const rowid = String(l.row_id)
      if (i !== frontier.size)
        add({
          kind: 'leaf_damaged',
          index: frontier.size,
          table: l.tbl,
          rowid,
          why: `entry #${frontier.size} is missing`,
        })
      const h = leafHashOf(l.entry)
      if (!sameBytes(h, l.hash))
        add({ kind: 'leaf_damaged', index: i, table: l.tbl, rowid, why: 'its bytes no longer match its stored hash' })
      if (ext && ext.length >= (frontier.size + 1) * 32 && !sameBytes(h, ext, frontier.size * 32))
        add({ kind: 'leaf_differs', index: frontier.size, table: l.tbl, rowid, seq: String(l.seq) })
      if (!UNLOGGED_TABLES.has(l.tbl)) touch(l.tbl, rowid)
      frontier.pushHash(h)
      result.lastSeq = Number(l.seq)
      if (sizes.has(frontier.size)) {
        result.roots[String(frontier.size)] = hex(frontier.root())
        result.seqAt[String(frontier.size)] = Number(l.seq)
      }
    }
    if (page.length < 5000) break
    after = Number(page[page.length - 1]!.idx)
  }
  result.size = frontier.size

  // 2. Every touched row against its newest entry (or its absence against a recorded deletion).
  const logged = new Set(loggedTables(tx))
  const pend = pendingBackfill(tx)
  if (!tx.values) return { fallback: 'the store cannot read rows as values' }
  const values = tx.values.bind(tx)
  for (const [t, rowids] of touched) {
    if (!logged.has(t)) return { fallback: `table ${t} is not in the schema the checkpoint covers` }
    const cols = tableColumns(tx, t)
    const nc = cols.length
    const upTo = pend.get(t)
    const sql = `SELECT t.*, t.rowid AS __rowid FROM ${quoteIdent(t)} t WHERE t.rowid = ?`
    const leafSql = 'SELECT idx, seq, op, entry FROM audit_leaf WHERE tbl = ? AND row_id = ? ORDER BY idx DESC LIMIT 1'
    for (const rowid of [...rowids].sort((x, y) => (BigInt(x) < BigInt(y) ? -1 : 1))) {
      if (upTo !== undefined && BigInt(rowid) > upTo) continue
      const rows = values(sql, [BigInt(rowid)], BIG).rows
      const r = rows[0]
      const leaf = tx.get<{ idx: bigint; seq: bigint; op: string; entry: Uint8Array }>(leafSql, [t, BigInt(rowid)], BIG)
      if (!r) {
        if (!leaf || leaf.op === 'D') continue
        let c: EntryColumn[] = []
        try {
          c = decodeEntry(leaf.entry).columns
        } catch {
          // damaged entry: the key falls back to the rowid
        }
        add({ kind: 'deleted', table: t, rowid, key: keyLabel(tx, t, c, rowid), index: Number(leaf.idx) })
        continue
      }
      const now: EntryColumn[] = new Array(nc)
      for (let c = 0; c < nc; c++) now[c] = { name: cols[c]!, value: (r[c] ?? null) as EntryValue }
      if (!leaf) {
        add({ kind: 'unlogged', table: t, rowid, key: keyLabel(tx, t, now, rowid) })
        continue
      }
      const i = Number(leaf.idx)
      const op = leaf.op
      if (op !== 'I' && op !== 'U' && op !== 'M' && op !== 'D') {
        add({ kind: 'leaf_damaged', index: i, table: t, rowid, why: `unknown operation ${JSON.stringify(op)}` })
        continue
      }
      if (op === 'D') {
        const key = keyLabel(tx, t, now, rowid)
        add({ kind: 'edited', table: t, rowid, key, fields: ['(the log records this row as deleted)'], index: i })
        continue
      }
      const bytesNow = encodeEntry({ table: t, rowid, seq: String(leaf.seq), op, columns: now })
      if (sameBytes(bytesNow, leaf.entry) && bytesNow.length === leaf.entry.length) continue
      let was: AuditEntry | null = null
      try {
        was = decodeEntry(leaf.entry)
      } catch {
        // reported below as a damaged entry
      }
      if (!was || was.table !== t || was.rowid !== rowid) {
        add({ kind: 'leaf_damaged', index: i, table: t, rowid, why: 'its bytes do not hold this row' })
        continue
      }
      const fields = differingColumns(was.columns, now)
      const key = keyLabel(tx, t, was.columns, rowid)
      add({ kind: 'edited', table: t, rowid, key, fields: fields.length > 0 ? fields : ['(encoding)'], index: i })
    }
  }
  result.truncated = truncated
  return { fallback: null, ...result }
}

/** Read-only procedure over `checkIncremental` (writes nothing, takes no seq). */
defineProcedure('audit.checkIncremental', (tx, raw: unknown) => {
  const a = (raw ?? {}) as IncrementalArgs
  if (!Number.isSafeInteger(a.snapshotSeq) || a.snapshotSeq < 0)
    throw new FieldError('snapshotSeq', 'must be an integer ≥ 0')
  if (typeof a.snapshotSha256 !== 'string') throw new FieldError('snapshotSha256', 'must be hex')
  if (!Number.isSafeInteger(a.leafCount) || a.leafCount < 0) throw new FieldError('leafCount', 'must be an integer ≥ 0')
  if (!Array.isArray(a.frontier) || !a.frontier.every((h) => h instanceof Uint8Array && h.length === 32))
    throw new FieldError('frontier', 'must be a list of 32-byte hashes')
  if (a.external !== undefined && !(a.external instanceof Uint8Array)) throw new FieldError('external', 'must be bytes')
  if (a.sizes !== undefined && (!Array.isArray(a.sizes) || !a.sizes.every((n) => Number.isSafeInteger(n) && n >= 0)))
    throw new FieldError('sizes', 'must be a list of integers ≥ 0')
  try {
    return checkIncremental(tx, a)
  } catch (e) {
    // A frontier that does not fit its size (a checkpoint that passed its MAC cannot have one): full check.
    if (e instanceof RangeError) return { fallback: `the checkpoint's frontier is unusable: ${e.message}` }
    throw e
  }
})
