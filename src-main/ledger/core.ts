// LedgerCore: the synchronous ledger engine (docs/architecture.md §5; src-main/ledger/README.md). It owns one sql.js
// database in memory, runs transactions and procedures synchronously, appends each committed transaction's
// write statements to the journal (journal.ts) through the group-commit writer (writer.ts), takes snapshots
// (files.ts) and recovers from them at start-up. Callers that acknowledge a commit must first await
// `waitDurable(seq)`; the stores in store.ts and worker-host.ts do exactly that.
//
// Recovery rules (start-up): leftover temp files are removed with a log line; every journal is scanned, a torn
// last record of the newest journal is dropped (warn, file and offset) and the file truncated; any other
// damage or seq gap refuses to open with LedgerCorruptError. The newest snapshot that verifies (sha256, and
// the seq stored inside it) and that the journals continue is loaded, falling back to the previous generation
// with a warning; the journals are then replayed in seq order. If no base reaches the highest seq any file
// promises, acknowledged data would be lost, so the store refuses to open.
import * as fs from 'node:fs'
import { join } from 'node:path'
import initSqlJs, { type Database, type SqlJsStatic, type Statement } from 'sql.js'
import { createLogger, type Logger } from '../../src-shared/log'
import { registeredCommitHooks, registeredMigrations, registeredProcedures } from './define'
import {
  LedgerCorruptError,
  LedgerError,
  LedgerInputError,
  LedgerIOError,
  LedgerSchemaError,
  LedgerStateError,
  LedgerStepError,
  procedureError,
} from './errors'
import { acquireLock, fsyncDir, listLedgerDir, parseSnapshot, writeSnapshotFile } from './files'
import {
  decodePayload,
  encodePayload,
  encodeRecord,
  type JournalEntry,
  type JournalStatement,
  scanJournal,
} from './journal'
import { encodeCursor, planPage } from './paging'
import type {
  CommitHook,
  LedgerStatus,
  Migration,
  Page,
  PageOpts,
  Procedure,
  ReplayInfo,
  Row,
  RowChange,
  SqlParams,
  SqlValue,
  TxDb,
  TxStep,
} from './types'
import { type JournalIo, JournalWriter } from './writer'

export interface LedgerOptions {
  /** Directory holding snapshots and journals; created if missing. */
  dir: string
  logger?: Logger
  /** Take a snapshot once the current journal holds this many bytes (default 8 MiB). */
  snapshotEveryBytes?: number
  /** …or this many records (default 20,000), whichever comes first. */
  snapshotEveryRecords?: number
  /** Set false to snapshot only when asked (tests). Default true. */
  autoSnapshot?: boolean
  /** Migrations to apply; default: everything registered through define.ts. */
  migrations?: readonly Migration[]
  /** Procedures `call()` may run; default: everything registered through define.ts. */
  procedures?: ReadonlyMap<string, Procedure>
  /** Hooks run inside every write transaction before it commits; default: everything registered (the audit log). */
  commitHooks?: readonly CommitHook[]
  /** Statements run at open and after every export(), which resets them. Default: foreign keys on. */
  pragmas?: readonly string[]
  nowMs?: () => number
  /** Test seam: the journal's write/fdatasync calls (default: node:fs). */
  journalIo?: JournalIo
}

export const DEFAULT_PRAGMAS = ['PRAGMA foreign_keys = ON'] as const

/** sql.js's statement API, with the bigint read option its type declarations lack. */
interface BigStatement {
  getAsObject(params: null, config: { useBigInt: boolean }): Record<string, SqlValue>
  get(params: null, config: { useBigInt: boolean }): SqlValue[]
}

let sqlJs: Promise<SqlJsStatic> | null = null
/** Loads the sql.js WASM module once per thread. */
export function loadSqlJs(): Promise<SqlJsStatic> {
  sqlJs ??= initSqlJs()
  return sqlJs
}

const FORBIDDEN_RE = /^\s*(BEGIN|COMMIT|END|ROLLBACK|SAVEPOINT|RELEASE|ATTACH|DETACH|VACUUM)\b/i
const READ_RE = /^\s*(SELECT|VALUES|EXPLAIN)\b/i
/** `PRAGMA name` or `PRAGMA name(arg)`: reads; `PRAGMA name = value` changes settings and is refused. */
const PRAGMA_READ_RE = /^\s*PRAGMA\s+[\w.]+\s*(\([^)]*\))?\s*;?\s*$/i
const ONLY_COMMENTS_RE = /^(\s|--[^\n]*(\n|$)|\/\*[\s\S]*?\*\/)*$/
const STMT_CACHE_MAX = 256

type Listener = (s: LedgerStatus) => void

export class LedgerCore {
  private db: Database
  private readonly log: Logger
  private readonly stmts = new Map<string, Statement | 'multi'>()
  private writer!: JournalWriter
  private releaseLock: () => void
  private state: LedgerStatus['state'] = 'opening'
  private error: string | undefined
  private schemaVersion = 0
  private snapshotRun: Promise<void> | null = null
  private snapshotSoon = false
  private listeners = new Set<Listener>()
  private statusTimer: ReturnType<typeof setTimeout> | null = null
  private inTx = false
  private readonly procedures: ReadonlyMap<string, Procedure>
  private readonly commitHooks: readonly CommitHook[]
  /** Rows changed by the open transaction (update hook), or null outside transact() (replay ignores them). */
  private changes: RowChange[] | null = null
  private readonly pragmas: readonly string[]
  private readonly nowMs: () => number
  /** total_changes() as of the last write through execWrite, or null when it must be asked (totalChangesNow). */
  private knownTotalChanges: number | null = null
  /** Result column names per cached statement (sql.js decodes them again for every row getAsObject returns). */
  private columnNames = new WeakMap<Statement, string[]>()
  /** What open() replayed (for the audit start-up check's checkpoint; see ReplayInfo). */
  private replayInfo: ReplayInfo = { baseSeq: 0, baseSha256: null, records: [] }
  seq = 0
  snapshotSeq = 0
  lastSnapshotAtMs: number | null = null

  private constructor(
    SQL: SqlJsStatic,
    readonly opts: LedgerOptions,
    releaseLock: () => void,
  ) {
    this.db = new SQL.Database()
    this.log = opts.logger ?? createLogger(() => {}, 'ledger')
    this.releaseLock = releaseLock
    this.procedures = opts.procedures ?? registeredProcedures()
    this.commitHooks = opts.commitHooks ?? registeredCommitHooks()
    this.pragmas = opts.pragmas ?? DEFAULT_PRAGMAS
    this.nowMs = opts.nowMs ?? Date.now
  }

  /** Opens (recovering if needed) the ledger in `opts.dir` and applies pending migrations. */
  static async open(opts: LedgerOptions): Promise<LedgerCore> {
    if (typeof opts.dir !== 'string' || opts.dir === '') throw new LedgerInputError('must be a directory path', 'dir')
    const SQL = await loadSqlJs()
    fs.mkdirSync(opts.dir, { recursive: true })
    const log = opts.logger ?? createLogger(() => {}, 'ledger')
    const release = acquireLock(opts.dir, (pid) =>
      log.warn('stale lock removed', { file: join(opts.dir, 'LOCK'), pid: Number.isNaN(pid) ? null : pid }),
    )
    let core: LedgerCore | undefined
    try {
      core = new LedgerCore(SQL, opts, release)
      core.recover(SQL)
      core.applyMigrations(opts.migrations ?? registeredMigrations())
      await core.writer.waitDurable(core.seq)
      core.setState('ready')
      return core
    } catch (e) {
      try {
        core?.db.close()
      } catch {
        // Closing a half-opened database is best effort.
      }
      release()
      throw e
    }
  }

  // ---------------------------------------------------------------- recovery

  private recover(SQL: SqlJsStatic): void {
    const dir = this.opts.dir
    const list = listLedgerDir(dir)
    for (const t of list.temps) {
      fs.rmSync(join(dir, t), { force: true })
      this.log.warn('leftover temp file removed', { file: join(dir, t) })
    }
    if (list.temps.length > 0) fsyncDir(dir)

    // A journal file is created when a snapshot rotates the journal, and nothing is written to it until the
    // previous journal's queued records are synced. A crash in between leaves an empty newest journal whose
    // start can lie beyond the last record that reached the old one (those were never acknowledged). An empty
    // file holds no data, so trailing empty journals are removed; the writer reopens where the records end.
    while (list.journals.length > 0) {
      const path = join(dir, list.journals[list.journals.length - 1]!.name)
      if (fs.statSync(path).size !== 0) break
      fs.rmSync(path)
      list.journals.pop()
      this.log.warn('empty journal removed', { file: path })
      fsyncDir(dir)
    }

    // Scan every journal; only the newest may end in a torn record. Damage in an older, closed journal is set
    // aside: it only matters if the base we end up loading needs records from it (checked below).
    const journals = list.journals.map((j, i) => {
      const path = join(dir, j.name)
      const last = i === list.journals.length - 1
      const buf = fs.readFileSync(path)
      let scan: ReturnType<typeof scanJournal>
      try {
        scan = scanJournal(buf, path, j.start)
        if (scan.tail && !last) {
          throw new LedgerCorruptError(
            `damaged record in a closed journal (${scan.tail.reason})`,
            path,
            scan.tail.offset,
          )
        }
      } catch (e) {
        if (last || !(e instanceof LedgerCorruptError)) throw e
        // Its end is where the next journal begins; its records are unusable.
        const end = list.journals[i + 1]!.start - 1
        return { path, start: j.start, end, scan: { records: [], goodEnd: 0, tail: null }, bytes: 0, damage: e }
      }
      if (scan.tail) {
        this.log.warn('journal torn tail dropped', {
          file: path,
          offset: scan.tail.offset,
          bytes: buf.length - scan.tail.offset,
          reason: scan.tail.reason,
        })
        const fd = fs.openSync(path, 'r+')
        try {
          fs.ftruncateSync(fd, scan.goodEnd)
          fs.fsyncSync(fd)
        } finally {
          fs.closeSync(fd)
        }
      }
      const end = j.start + scan.records.length - 1
      return { path, start: j.start, end, scan, bytes: scan.goodEnd, damage: null as LedgerCorruptError | null }
    })
    for (let i = 1; i < journals.length; i++) {
      const prev = journals[i - 1]!
      const cur = journals[i]!
      if (cur.start !== prev.end + 1) {
        throw new LedgerCorruptError(
          `journal seq gap: previous journal ends at ${prev.end}, this one starts at ${cur.start}`,
          cur.path,
        )
      }
    }
    const journalEnd = journals.length > 0 ? journals[journals.length - 1]!.end : 0
    const journalStart = journals.length > 0 ? journals[0]!.start : Number.POSITIVE_INFINITY
    const maxSnapshotSeq = list.snapshots.length > 0 ? list.snapshots[list.snapshots.length - 1]!.seq : 0
    const target = Math.max(journalEnd, maxSnapshotSeq)

    // Candidate bases, newest first; the empty database is the base of a journal that starts at 1.
    const bases: { seq: number; path: string | null }[] = list.snapshots
      .map((s) => ({ seq: s.seq, path: join(dir, s.name) as string | null }))
      .reverse()
    if (list.snapshots.length === 0 || journalStart === 1) bases.push({ seq: 0, path: null })
    const failures: string[] = []
    let blockingDamage: LedgerCorruptError | null = null
    for (const base of bases) {
      if (base.seq < target && (journalStart > base.seq + 1 || journalEnd < target)) {
        failures.push(`${base.path ?? 'empty base'}: journals do not continue it`)
        continue
      }
      const damaged = journals.find((j) => j.damage && j.end > base.seq)
      if (damaged) {
        blockingDamage ??= damaged.damage
        failures.push(`${base.path ?? 'empty base'}: needs damaged ${damaged.path}`)
        continue
      }
      if (base.path) {
        const file = fs.readFileSync(base.path)
        const parsed = parseSnapshot(file)
        if (!parsed.ok || parsed.seq !== base.seq) {
          const reason = parsed.ok ? `header seq ${parsed.seq} does not match its name` : parsed.reason
          this.log.warn('snapshot unusable, trying the previous generation', { file: base.path, reason })
          failures.push(`${base.path}: ${reason}`)
          continue
        }
        this.loadImage(SQL, parsed.body)
        this.replayInfo = { baseSeq: base.seq, baseSha256: file.subarray(32, 64).toString('hex'), records: [] }
        const inside = this.metaSeq()
        if (inside !== base.seq) {
          this.log.warn('snapshot unusable, trying the previous generation', {
            file: base.path,
            reason: `stored seq ${inside} differs from header seq ${base.seq}`,
          })
          failures.push(`${base.path}: stored seq mismatch`)
          continue
        }
      } else {
        this.loadImage(SQL, null)
        this.replayInfo = { baseSeq: 0, baseSha256: null, records: [] }
      }
      this.seq = base.seq
      this.snapshotSeq = base.seq
      this.lastSnapshotAtMs = base.path ? fs.statSync(base.path).mtimeMs : null
      const replayed = this.replay(journals, base.seq)
      if (replayed === 'barrier') {
        failures.push(`${base.path ?? 'empty base'}: a bulk load after it can only be restored from a later snapshot`)
        continue
      }
      if (this.seq !== target) {
        failures.push(`${base.path ?? 'empty base'}: reached seq ${this.seq}, expected ${target}`)
        continue
      }
      if (base !== bases[0])
        this.log.warn('recovered from an older generation', { file: base.path ?? 'empty', seq: base.seq })
      for (const j of journals) {
        if (j.damage)
          this.log.warn('damaged journal not needed, left for pruning', { file: j.path, reason: j.damage.message })
      }
      this.log.info('ledger opened', {
        dir,
        base: base.seq,
        replayed: this.seq - base.seq,
        seq: this.seq,
      })
      this.openWriter(journals)
      return
    }
    const newest =
      list.snapshots.length > 0
        ? join(dir, list.snapshots[list.snapshots.length - 1]!.name)
        : (journals[0]?.path ?? dir)
    if (blockingDamage) throw blockingDamage
    throw new LedgerCorruptError(
      `no snapshot and journal combination restores seq ${target}: ${failures.join('; ')}`,
      newest,
    )
  }

  private loadImage(SQL: SqlJsStatic, body: Uint8Array | null): void {
    this.freeStatements()
    // The constructor created an empty database; replace it with the image (or a fresh empty one).
    this.db.close()
    const fresh = body ? new SQL.Database(body) : new SQL.Database()
    this.db = fresh
    this.applyPragmas()
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS ledger_meta (id INTEGER PRIMARY KEY CHECK (id = 1), seq INTEGER NOT NULL);
      INSERT OR IGNORE INTO ledger_meta (id, seq) VALUES (1, 0);
      CREATE TABLE IF NOT EXISTS schema_version (
        version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_seq INTEGER NOT NULL);
    `)
  }

  private metaSeq(): number {
    const r = this.db.exec('SELECT seq FROM ledger_meta WHERE id = 1')
    return Number(r[0]?.values[0]?.[0] ?? -1)
  }

  /** Replays every journaled record above `baseSeq`; returns 'barrier' if a bulk load blocks the way. */
  private replay(
    journals: { path: string; scan: ReturnType<typeof scanJournal> }[],
    baseSeq: number,
  ): 'ok' | 'barrier' {
    for (const j of journals) {
      for (const rec of j.scan.records) {
        if (rec.seq <= baseSeq) continue
        let entry: JournalEntry
        try {
          entry = decodePayload(rec.payload)
        } catch (e) {
          throw new LedgerCorruptError(`journal payload unreadable: ${(e as Error).message}`, j.path, rec.offset)
        }
        if (entry.kind === 'b') return 'barrier'
        this.begin()
        // The update hook reports the rows this record writes (ReplayInfo); a statement whose row count differs
        // from what the hook saw, or a REPLACE (its conflict deletions are not reported), marks the record.
        const changes: RowChange[] = []
        let unhooked = false
        this.changes = changes
        try {
          entry.stmts.forEach((s, i) => {
            const seen = changes.length
            const r = this.execWrite(s.sql, s.params)
            if (r.changes !== s.changes) {
              throw new Error(`statement ${i} changed ${r.changes} rows, ${s.changes} when it first ran`)
            }
            if (changes.length - seen !== r.changes || /\breplace\b/i.test(s.sql)) unhooked = true
          })
          this.changes = null
          this.setMetaSeq(rec.seq)
          this.commit()
        } catch (e) {
          this.changes = null
          this.rollback()
          throw new LedgerCorruptError(`replay of seq ${rec.seq} failed: ${(e as Error).message}`, j.path, rec.offset)
        }
        if (this.commitHooks.length > 0)
          this.replayInfo.records.push({ seq: rec.seq, kind: entry.kind, unhooked, changes })
        this.seq = rec.seq
      }
    }
    return 'ok'
  }

  private openWriter(
    journals: { path: string; start: number; end: number; bytes: number; scan: { records: unknown[] } }[],
  ): void {
    const last = journals[journals.length - 1]
    if (last && last.end === this.seq) {
      this.writer = new JournalWriter(
        this.opts.dir,
        last.start,
        this.seq,
        { bytes: last.bytes, records: last.scan.records.length },
        this.opts.journalIo,
      )
    } else {
      this.writer = new JournalWriter(this.opts.dir, this.seq + 1, this.seq, undefined, this.opts.journalIo)
    }
  }

  // ---------------------------------------------------------------- migrations

  private applyMigrations(migrations: readonly Migration[]): void {
    const sorted = [...migrations].sort((a, b) => a.version - b.version)
    for (let i = 1; i < sorted.length; i++) {
      if (sorted[i]!.version === sorted[i - 1]!.version) {
        throw new LedgerSchemaError(`two migrations share version ${sorted[i]!.version}`, sorted[i]!.version)
      }
    }
    const applied = new Map<number, string>()
    for (const r of this.all<{ version: number; name: string }>('SELECT version, name FROM schema_version')) {
      applied.set(r.version, r.name)
    }
    const stored = Math.max(0, ...applied.keys())
    const known = sorted.length > 0 ? sorted[sorted.length - 1]!.version : 0
    if (stored > known) {
      throw new LedgerSchemaError(`database schema version ${stored} is newer than this build (${known})`, stored)
    }
    for (const m of sorted) {
      const name = applied.get(m.version)
      if (name !== undefined) {
        if (name !== m.name)
          this.log.warn('migration renamed since it was applied', { version: m.version, was: name, now: m.name })
        continue
      }
      if (m.version < stored) {
        throw new LedgerSchemaError(
          `migration ${m.version} (${m.name}) is older than the applied version ${stored} but was never applied`,
          m.version,
        )
      }
      try {
        this.transact('m', `${m.version}:${m.name}`, true, (tx) => {
          m.up(tx)
          tx.run('INSERT INTO schema_version (version, name, applied_seq) VALUES (?, ?, ?)', [
            m.version,
            m.name,
            this.seq + 1,
          ])
        })
      } catch (e) {
        throw new LedgerSchemaError(`migration ${m.version} (${m.name}) failed: ${(e as Error).message}`, m.version)
      }
      this.log.info('migration applied', { version: m.version, name: m.name, seq: this.seq })
    }
    this.schemaVersion = Math.max(stored, ...sorted.map((m) => m.version), 0)
  }

  // ---------------------------------------------------------------- statements

  private applyPragmas(): void {
    this.knownTotalChanges = null
    for (const p of this.pragmas) this.db.exec(p)
    this.installUpdateHook()
  }

  /** Collects the rows each transaction writes, for the commit hooks (see `transact`). */
  private installUpdateHook(): void {
    if (this.commitHooks.length === 0) return
    const db = this.db as unknown as {
      updateHook(cb: ((op: RowChange['op'], dbName: string, table: string, rowid: number) => void) | null): void
    }
    db.updateHook((op, _dbName, table, rowid) => {
      this.changes?.push({ op, table, rowid })
    })
  }

  private freeStatements(): void {
    this.knownTotalChanges = null
    for (const s of this.stmts.values()) if (s !== 'multi') s.free()
    this.stmts.clear()
    this.columnNames = new WeakMap()
  }

  /** A cached prepared statement, or 'multi' when the text holds several statements. */
  private prepare(sql: string): Statement | 'multi' {
    const hit = this.stmts.get(sql)
    if (hit !== undefined) {
      // Refresh its place in the LRU order.
      this.stmts.delete(sql)
      this.stmts.set(sql, hit)
      return hit
    }
    // sqlite3_prepare compiles only the first statement; getSQL() is exactly its text, a prefix of `sql`.
    // (StatementIterator is avoided on purpose: it leaks its copy of the SQL unless run to the end.)
    let first: Statement
    try {
      first = this.db.prepare(sql)
    } catch (e) {
      throw new LedgerInputError((e as Error).message ?? String(e), 'sql')
    }
    let entry: Statement | 'multi' = first
    if (!ONLY_COMMENTS_RE.test(sql.slice(first.getSQL().length))) {
      first.free()
      entry = 'multi'
    }
    if (this.stmts.size >= STMT_CACHE_MAX) {
      const [oldest, s] = this.stmts.entries().next().value as [string, Statement | 'multi']
      if (s !== 'multi') s.free()
      this.stmts.delete(oldest)
    }
    this.stmts.set(sql, entry)
    return entry
  }

  private scalar(sql: string): SqlValue {
    const s = this.prepare(sql) as Statement
    try {
      s.step()
      return (s as unknown as BigStatement).get(null, { useBigInt: true })[0] ?? null
    } finally {
      s.reset()
    }
  }

  private execWrite(sql: string, params: SqlParams | undefined): { changes: number; lastInsertRowid: number } {
    if (typeof sql !== 'string') throw new LedgerInputError('must be a string', 'sql')
    if (FORBIDDEN_RE.test(sql)) throw new LedgerInputError('transaction control is the store’s job', 'sql')
    const before = this.totalChangesNow()
    const s = this.prepare(sql)
    if (s === 'multi') {
      if (params !== undefined && (Array.isArray(params) ? params.length > 0 : Object.keys(params).length > 0)) {
        throw new LedgerInputError('parameters need a single statement', 'sql')
      }
      this.db.exec(sql)
    } else {
      try {
        if (params !== undefined) s.bind(params as never)
        while (s.step()) {
          // RETURNING rows are ignored by run(); use get()/all() to read them.
        }
      } finally {
        s.reset()
      }
    }
    // One statement answers both counters; its total becomes the next write's "before".
    const s2 = this.prepare('SELECT total_changes(), last_insert_rowid()') as Statement
    let after: number
    let lastInsertRowid: number
    try {
      s2.step()
      const r = s2.get()
      after = Number(r[0])
      lastInsertRowid = Number(r[1])
    } finally {
      s2.reset()
    }
    this.knownTotalChanges = after
    return { changes: after - before, lastInsertRowid }
  }

  /**
   * SQLite's total_changes() counter, from the last write's answer when nothing else could have moved it since
   * (every path that may write other than execWrite clears `knownTotalChanges`). A bulk transaction runs a few
   * hundred thousand writes, and asking SQLite before and after each one was a third of their cost.
   */
  private totalChangesNow(): number {
    if (this.knownTotalChanges === null) this.knownTotalChanges = Number(this.scalar('SELECT total_changes()'))
    return this.knownTotalChanges
  }

  private namesOf(s: Statement, width: number): string[] {
    let names = this.columnNames.get(s)
    if (names === undefined || names.length !== width) {
      names = s.getColumnNames()
      this.columnNames.set(s, names)
    }
    return names
  }

  /** A read-only statement's rows as value arrays, with the column names. */
  private values(
    sql: string,
    params: SqlParams | undefined,
    opts: { bigint?: boolean } | undefined,
  ): { columns: string[]; rows: SqlValue[][] } {
    if (typeof sql !== 'string' || !READ_RE.test(sql)) throw new LedgerInputError('values() runs reads only', 'sql')
    const s = this.prepare(sql)
    if (s === 'multi') throw new LedgerInputError('a query must be a single statement', 'sql')
    const rows: SqlValue[][] = []
    try {
      if (params !== undefined) s.bind(params as never)
      const cfg = { useBigInt: opts?.bigint === true }
      while (s.step()) rows.push((s as unknown as BigStatement).get(null, cfg))
      return { columns: s.getColumnNames(), rows }
    } finally {
      s.reset()
    }
  }

  private all<T extends Row = Row>(sql: string, params?: SqlParams, opts?: { bigint?: boolean }): T[] {
    if (typeof sql !== 'string') throw new LedgerInputError('must be a string', 'sql')
    const s = this.prepare(sql)
    if (s === 'multi') throw new LedgerInputError('a query must be a single statement', 'sql')
    const out: T[] = []
    try {
      if (params !== undefined) s.bind(params as never)
      const cfg = { useBigInt: opts?.bigint === true }
      let names: string[] | undefined
      while (s.step()) {
        const v = (s as unknown as BigStatement).get(null, cfg)
        // A schema change re-prepares a statement inside SQLite (SELECT * may gain a column): re-read the names
        // whenever the width differs from the cached list.
        if (names === undefined || names.length !== v.length) names = this.namesOf(s, v.length)
        const o: Record<string, SqlValue> = {}
        // Like getAsObject: a later column of the same name wins.
        for (let c = 0; c < v.length; c++) o[names[c]!] = v[c]!
        out.push(o as T)
      }
    } finally {
      s.reset()
    }
    return out
  }

  // ---------------------------------------------------------------- transactions

  private begin(): void {
    this.knownTotalChanges = null
    this.db.exec('BEGIN IMMEDIATE')
    this.inTx = true
  }
  private commit(): void {
    this.db.exec('COMMIT')
    this.inTx = false
  }
  private rollback(): void {
    this.inTx = false
    this.knownTotalChanges = null
    try {
      this.db.exec('ROLLBACK')
    } catch {
      // SQLite may already have rolled back (e.g. after SQLITE_FULL); nothing left to undo.
    }
  }
  private setMetaSeq(seq: number): void {
    this.knownTotalChanges = null
    const s = this.prepare('UPDATE ledger_meta SET seq = ? WHERE id = 1') as Statement
    try {
      s.bind([seq])
      s.step()
    } finally {
      s.reset()
    }
  }

  private assertWritable(): void {
    const f = this.writer?.failed
    if (f) {
      this.fail(f)
      throw f
    }
    if (this.state !== 'ready' && this.state !== 'snapshotting' && this.state !== 'opening') {
      throw new LedgerStateError(`ledger is ${this.state}`)
    }
    if (this.inTx) throw new LedgerStateError('transactions do not nest')
  }

  /**
   * Runs `body` inside BEGIN/COMMIT. Writes are captured (when `capture`) and journaled as one record; a
   * transaction that wrote nothing takes no seq. Returns the result and the seq to await for durability.
   */
  private transact<R>(
    kind: JournalEntry['kind'],
    name: string | undefined,
    capture: boolean,
    body: (tx: TxDb) => R,
  ): { result: R; seq: number } {
    this.assertWritable()
    const stmts: JournalStatement[] = []
    let wrote = false
    const tx: TxDb = {
      run: (sql, params) => {
        const r = this.execWrite(sql, params)
        wrote = true
        // A migration may rename columns: cached result column names are read again.
        if (kind === 'm') this.columnNames = new WeakMap()
        if (capture) stmts.push({ sql, params, changes: r.changes })
        return r
      },
      get: <T extends Row = Row>(sql: string, params?: SqlParams, o?: { bigint?: boolean }) =>
        this.readInTx<T>(sql, params, o, stmts, capture, () => (wrote = true))[0],
      all: <T extends Row = Row>(sql: string, params?: SqlParams, o?: { bigint?: boolean }) =>
        this.readInTx<T>(sql, params, o, stmts, capture, () => (wrote = true)),
      values: (sql: string, params?: SqlParams, o?: { bigint?: boolean }) => this.values(sql, params, o),
      replayed: () => this.replayInfo,
    }
    this.begin()
    let result: R
    let record: Buffer | null = null
    const seq = this.seq + 1
    this.changes = this.commitHooks.length > 0 ? [] : null
    try {
      result = body(tx)
      if (result && typeof (result as { then?: unknown }).then === 'function') {
        throw new LedgerInputError('a procedure must be synchronous (it returned a promise)', 'procedure')
      }
      if (this.changes && (wrote || kind === 'm')) {
        const changes = this.changes
        this.changes = null
        for (const hook of this.commitHooks) {
          hook({ tx, seq, kind, ...(name === undefined ? {} : { name }), changes })
        }
      }
      this.changes = null
      if (wrote || kind === 'b') {
        record = encodeRecord(seq, encodePayload({ kind, ...(name === undefined ? {} : { name }), stmts }))
        this.setMetaSeq(seq)
      }
      this.commit()
    } catch (e) {
      this.changes = null
      this.rollback()
      throw e
    }
    if (!record) return { result, seq: this.seq }
    this.seq = seq
    this.writer.append(seq, record)
    this.afterCommit()
    return { result, seq }
  }

  private readInTx<T extends Row>(
    sql: string,
    params: SqlParams | undefined,
    o: { bigint?: boolean } | undefined,
    stmts: JournalStatement[],
    capture: boolean,
    markWrite: () => void,
  ): T[] {
    if (READ_RE.test(sql)) return this.all<T>(sql, params, o)
    // A statement that may write (INSERT … RETURNING, WITH … DELETE …) is journaled like run().
    if (FORBIDDEN_RE.test(sql)) throw new LedgerInputError('transaction control is the store’s job', 'sql')
    this.knownTotalChanges = null
    const before = Number(this.scalar('SELECT total_changes()'))
    const rows = this.all<T>(sql, params, o)
    const changes = Number(this.scalar('SELECT total_changes()')) - before
    markWrite()
    if (capture) stmts.push({ sql, params, changes })
    return rows
  }

  /** Runs a registered procedure in one transaction. */
  call<R = unknown>(name: string, args?: unknown): { result: R; seq: number } {
    const fn = this.procedures.get(name)
    if (!fn) throw new LedgerInputError(`no procedure named ${JSON.stringify(name)}`, 'procedure')
    try {
      return this.transact('p', name, true, (tx) => fn(tx, args) as R)
    } catch (e) {
      // The store's own typed errors (bad SQL input, state, async procedure) pass through unchanged.
      if (e instanceof LedgerError) throw e
      throw procedureError(name, e)
    }
  }

  /** Runs statements atomically; each may require an exact change count. */
  transaction(steps: readonly TxStep[]): { result: { changes: number[] }; seq: number } {
    if (!Array.isArray(steps) || steps.length === 0) throw new LedgerInputError('must be a non-empty array', 'steps')
    return this.transact('t', undefined, true, (tx) => {
      const changes: number[] = []
      steps.forEach((st, i) => {
        let r: { changes: number }
        try {
          r = tx.run(st.sql, st.params)
        } catch (e) {
          if (e instanceof LedgerInputError) throw new LedgerStepError(e.message, i)
          throw new LedgerStepError((e as Error).message, i)
        }
        if (st.expectChanges !== undefined && r.changes !== st.expectChanges) {
          throw new LedgerStepError(
            `expected ${st.expectChanges} changed rows, got ${r.changes}`,
            i,
            st.expectChanges,
            r.changes,
          )
        }
        changes.push(r.changes)
      })
      return { changes }
    })
  }

  /**
   * Runs `fn` in one transaction without journaling its statements (bulk imports, benchmarks), records a
   * barrier in the journal and snapshots before resolving, so the data is durable through the snapshot.
   * Restoring from a generation older than the barrier is impossible; the store then refuses to open.
   * `snapshot: false` leaves the snapshot to the caller (a loader that runs many bulk transactions in a row and
   * snapshots once at the end): until that snapshot is written the directory cannot be reopened, which is the
   * price of not exporting the whole database after every batch.
   */
  async bulkLoad<R>(name: string, fn: (tx: TxDb) => R, opts: { snapshot?: boolean } = {}): Promise<R> {
    const { result, seq } = this.transact('b', name, false, fn)
    await this.writer.waitDurable(seq)
    if (opts.snapshot !== false) await this.snapshot()
    return result
  }

  /** Read-only query. */
  query<T extends Row = Row>(sql: string, params?: SqlParams, opts?: { bigint?: boolean }): T[] {
    this.assertReadable()
    if (!READ_RE.test(sql) && !/^\s*WITH\b/i.test(sql) && !PRAGMA_READ_RE.test(sql)) {
      throw new LedgerInputError('query() is read-only; use transaction() or a procedure to write', 'sql')
    }
    const before = Number(this.scalar('SELECT total_changes()'))
    const rows = this.all<T>(sql, params, opts)
    if (Number(this.scalar('SELECT total_changes()')) !== before) {
      // A WITH … DELETE slipped through: this is a programming error, and it must not stay unjournaled.
      const e = new LedgerInputError('query() changed rows; it must be read-only', 'sql')
      this.fail(e)
      throw e
    }
    return rows
  }

  page<T extends Row = Row>(
    sql: string,
    params: SqlParams | undefined,
    opts: PageOpts & { key: string; bigint?: boolean; desc?: boolean },
  ): Page<T> {
    const plan = planPage(sql, params, opts)
    const rows = this.query<T>(plan.sql, plan.params, opts)
    if (rows.length <= opts.limit) return { rows, next: null }
    rows.length = opts.limit
    return { rows, next: encodeCursor(rows[rows.length - 1]![opts.key]) }
  }

  private assertReadable(): void {
    if (this.state === 'closed' || this.state === 'failed') throw new LedgerStateError(`ledger is ${this.state}`)
  }

  /** Resolves once every transaction up to `seq` (default: the latest) is on disk. */
  async waitDurable(seq = this.seq): Promise<void> {
    try {
      await this.writer.waitDurable(seq)
    } catch (e) {
      if (this.state !== 'failed') this.fail(e as Error)
      throw e
    }
  }

  /** Journal write+sync batches so far (group commit makes this smaller than the number of commits). */
  get journalSyncs(): number {
    return this.writer.syncs
  }

  // ---------------------------------------------------------------- snapshots

  private afterCommit(): void {
    this.touchStatus()
    if (this.opts.autoSnapshot === false || this.snapshotRun || this.snapshotSoon) return
    const f = this.writer.currentFile
    if (
      f.bytes >= (this.opts.snapshotEveryBytes ?? 8 * 1024 * 1024) ||
      f.records >= (this.opts.snapshotEveryRecords ?? 20_000)
    ) {
      this.snapshotSoon = true
      setImmediate(() => {
        this.snapshotSoon = false
        this.snapshot().catch((e) => this.log.error('background snapshot failed', { reason: (e as Error).message }))
      })
    }
  }

  /** Takes a snapshot of the current state unless one already covers it. */
  async snapshot(): Promise<void> {
    while (this.snapshotRun) await this.snapshotRun
    if (this.state === 'closed' || this.state === 'failed') throw new LedgerStateError(`ledger is ${this.state}`)
    if (this.seq === this.snapshotSeq) return
    this.snapshotRun = this.writeSnapshot().finally(() => {
      this.snapshotRun = null
    })
    await this.snapshotRun
  }

  private async writeSnapshot(): Promise<void> {
    const seq = this.seq
    this.setState('snapshotting')
    const t0 = performance.now()
    // export() must run between transactions; everything here is synchronous up to the first await.
    const body = this.db.export()
    // export() may reset pragmas and free prepared statements (sql.js < 1.13 closed and reopened the db).
    this.freeStatements()
    this.applyPragmas()
    const exportMs = performance.now() - t0
    if (this.writer.currentFile.startSeq !== seq + 1) this.writer.rotate(seq + 1)
    try {
      // The snapshot may only name seq once the journal holds everything up to it, so a damaged snapshot
      // can always fall back to the previous generation plus journals.
      await this.writer.waitDurable(seq)
      const path = await writeSnapshotFile(this.opts.dir, seq, body)
      this.snapshotSeq = seq
      this.lastSnapshotAtMs = this.nowMs()
      this.prune()
      this.log.info('snapshot written', {
        file: path,
        seq,
        bytes: body.length,
        exportMs: Math.round(exportMs),
        totalMs: Math.round(performance.now() - t0),
      })
      this.error = undefined
    } catch (e) {
      this.error = `snapshot failed: ${(e as Error).message}`
      this.log.error('snapshot failed', { seq, reason: (e as Error).message })
      throw e instanceof LedgerError ? e : new LedgerIOError(this.error)
    } finally {
      if (this.state === 'snapshotting') this.setState('ready')
    }
  }

  /** Deletes generations older than the previous one (snapshot + the journals only it needed). */
  private prune(): void {
    const dir = this.opts.dir
    const list = listLedgerDir(dir)
    if (list.snapshots.length < 2) return
    const prevSeq = list.snapshots[list.snapshots.length - 2]!.seq
    let removed = 0
    for (const s of list.snapshots) {
      if (s.seq < prevSeq) {
        fs.rmSync(join(dir, s.name), { force: true })
        removed++
      }
    }
    for (let i = 0; i + 1 < list.journals.length; i++) {
      if (list.journals[i + 1]!.start <= prevSeq + 1) {
        fs.rmSync(join(dir, list.journals[i]!.name), { force: true })
        removed++
      }
    }
    if (removed > 0) fsyncDir(dir)
  }

  // ---------------------------------------------------------------- status

  status(): LedgerStatus {
    const f = this.writer?.currentFile
    return {
      state: this.state,
      dir: this.opts.dir,
      schemaVersion: this.schemaVersion,
      seq: this.seq,
      journalBytes: f?.bytes ?? 0,
      snapshotSeq: this.snapshotSeq,
      lastSnapshotAtMs: this.lastSnapshotAtMs,
      ...(this.error === undefined ? {} : { error: this.error }),
    }
  }

  /** Calls `cb` on every state change and, at most every 250 ms, after commits. Returns an unsubscribe. */
  onStatus(cb: Listener): () => void {
    this.listeners.add(cb)
    return () => this.listeners.delete(cb)
  }

  private emitStatus(): void {
    const s = this.status()
    for (const l of this.listeners) l(s)
  }

  private touchStatus(): void {
    if (this.statusTimer || this.listeners.size === 0) return
    this.statusTimer = setTimeout(() => {
      this.statusTimer = null
      this.emitStatus()
    }, 250)
    this.statusTimer.unref?.()
  }

  private setState(s: LedgerStatus['state']): void {
    if (this.state === s) return
    this.state = s
    this.emitStatus()
  }

  private fail(e: Error): void {
    this.error = e.message
    this.log.error('ledger failed; reopen required', { reason: e.message })
    this.setState('failed')
  }

  /** Finishes any snapshot and pending journal writes, then releases the directory. */
  async close(): Promise<void> {
    if (this.state === 'closed') return
    try {
      while (this.snapshotRun) await this.snapshotRun.catch(() => {})
      // A writer that already failed was reported when it failed; closing must still release everything.
      await this.writer.close().catch((e: Error) => {
        if (!this.writer.failed) throw e
      })
    } finally {
      if (this.statusTimer) clearTimeout(this.statusTimer)
      this.freeStatements()
      this.db.close()
      this.releaseLock()
      this.setState('closed')
      this.listeners.clear()
    }
  }
}
