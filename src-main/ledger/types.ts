// The ledger store's contract, shared by the store (issue: foundation) and every service that books into it
// (accounting, fleet, payouts). Design: docs/architecture.md §5. The database is sql.js held in a worker thread; every
// committed transaction is appended to a journal and fsynced before the commit is acknowledged.
//
// Services never hold a database handle across an `await`: a unit of work that must be atomic is either a
// batch of statements (`transaction`) or a named *procedure* that runs synchronously inside the worker within
// one SQL transaction (`call`). What is journaled is the list of write statements the transaction executed,
// so a replay after a crash re-applies exactly what was committed, independent of later code changes.

/** Values that cross into SQL. Money is bigint (msat, fiat minor units) and round-trips exactly as INTEGER. */
export type SqlValue = string | number | bigint | null | Uint8Array
export type SqlParams = readonly SqlValue[] | Readonly<Record<string, SqlValue>>
/** A row read back: INTEGER columns come back as bigint when `bigint: true` is asked for, else number. */
export type Row = Record<string, SqlValue>

/** Synchronous handle given to a procedure while its transaction is open. Writes are captured for the journal. */
export interface TxDb {
  run(sql: string, params?: SqlParams): { changes: number; lastInsertRowid: number }
  get<T extends Row = Row>(sql: string, params?: SqlParams, opts?: { bigint?: boolean }): T | undefined
  all<T extends Row = Row>(sql: string, params?: SqlParams, opts?: { bigint?: boolean }): T[]
  /** A read as column names plus value arrays (no object per row: for scans of a whole table). */
  values?(sql: string, params?: SqlParams, opts?: { bigint?: boolean }): { columns: string[]; rows: SqlValue[][] }
  /** What the store replayed at open (the audit start-up check re-checks only that part against a checkpoint). */
  replayed?(): ReplayInfo
}

/**
 * The base a store opened from and the rows its journal replay wrote (update hook, in order), per replayed record.
 * `unhooked` marks a record whose statements changed rows SQLite's update hook does not report (a table emptied
 * by the truncate optimisation, a REPLACE): the caller must not rely on `changes` being complete for it.
 */
export interface ReplayInfo {
  baseSeq: number
  /** SHA-256 (hex) of the snapshot body loaded, or null for the empty base. */
  baseSha256: string | null
  records: { seq: number; kind: 'p' | 't' | 'm' | 'b'; unhooked: boolean; changes: RowChange[] }[]
}

/** A procedure: deterministic given (db state, args). It must take time and randomness from `args`. */
export type Procedure<A = unknown, R = unknown> = (db: TxDb, args: A) => R

/** One row a transaction wrote, as SQLite's update hook reports it (rowid tables only). */
export interface RowChange {
  op: 'insert' | 'update' | 'delete'
  table: string
  rowid: number
}

/** What a commit hook sees: the open transaction, its seq, its kind and the rows it changed, in order. */
export interface CommitContext {
  tx: TxDb
  seq: number
  /** p procedure, t transaction steps, m migration, b bulk load (not journaled). */
  kind: 'p' | 't' | 'm' | 'b'
  name?: string
  changes: readonly RowChange[]
}

export type CommitHook = (ctx: CommitContext) => void

export interface Migration {
  /** Strictly increasing across all modules; the store applies every version above the stored one, in order. */
  version: number
  name: string
  up: (db: TxDb) => void
}

export interface TxStep {
  sql: string
  params?: SqlParams
  /** If set, the transaction is rolled back unless this statement changed exactly this many rows. */
  expectChanges?: number
}

export interface LedgerStatus {
  state: 'opening' | 'ready' | 'snapshotting' | 'failed' | 'closed'
  dir: string
  schemaVersion: number
  /** Sequence number of the last committed transaction. */
  seq: number
  journalBytes: number
  snapshotSeq: number
  lastSnapshotAtMs: number | null
  error?: string
}

export interface PageOpts {
  /** 1 … 10,000 rows. */
  limit: number
  /** Opaque cursor from a previous page's `next`. */
  after?: string
}

export interface Page<T> {
  rows: T[]
  next: string | null
}

/** The asynchronous API services use. Implemented in-process (for tests and tools) and over a worker thread. */
export interface LedgerStore {
  /** Runs a registered procedure in one transaction; resolves after its journal record is fsynced. */
  call<R = unknown>(procedure: string, args?: unknown): Promise<R>
  /** Runs the steps atomically; resolves with each step's change count after the journal fsync. */
  transaction(steps: readonly TxStep[]): Promise<{ changes: number[] }>
  /** Read-only query. */
  query<T extends Row = Row>(sql: string, params?: SqlParams, opts?: { bigint?: boolean }): Promise<T[]>
  /** Keyset paging over a query ordered by a unique key; see the implementation for the cursor format. */
  page<T extends Row = Row>(
    sql: string,
    params: SqlParams,
    opts: PageOpts & { key: string; bigint?: boolean; desc?: boolean },
  ): Promise<Page<T>>
  status(): Promise<LedgerStatus>
  /** Calls `cb` on every state change and (throttled) as seq/journal size move; returns an unsubscribe. */
  onStatus(cb: (s: LedgerStatus) => void): () => void
  /**
   * Runs a registered procedure WITHOUT journaling its statements (bulk imports, benchmarks), then snapshots
   * before resolving, so the data is durable through the snapshot rather than the journal.
   */
  bulkLoad<R = unknown>(procedure: string, args?: unknown): Promise<R>
  /** Forces a snapshot now (normally taken in the background when the journal grows). */
  snapshot(): Promise<void>
  close(): Promise<void>
}
