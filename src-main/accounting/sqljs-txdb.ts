// A thin synchronous TxDb over a bare sql.js database, for property tests that book tens of thousands of records:
// the same SQL, schema, triggers and procedures as the ledger store, without its journal and fsync (which the
// store's own tests cover). Each `call` runs in a savepoint and rolls back on a throw, like the store.
// Test support only; nothing in the app imports it.

import initSqlJs, { type Database } from 'sql.js'
import type { Migration, Procedure, Row, SqlParams, TxDb } from '../ledger/types'

export interface SqlJsLedger {
  db: TxDb
  call<R>(fn: Procedure<unknown, R>, args?: unknown): R
  close(): void
}

export async function openSqlJsLedger(migrations: readonly Migration[]): Promise<SqlJsLedger> {
  const SQL = await initSqlJs()
  const raw: Database = new SQL.Database()
  raw.exec('PRAGMA foreign_keys = ON')
  const read = <T extends Row>(sql: string, params?: SqlParams, opts?: { bigint?: boolean }): T[] => {
    const st = raw.prepare(sql)
    try {
      if (params) st.bind(params as never)
      const out: T[] = []
      while (st.step()) {
        out.push(
          (st as unknown as { getAsObject(p: null, c: object): T }).getAsObject(null, {
            useBigInt: opts?.bigint === true,
          }),
        )
      }
      return out
    } finally {
      st.free()
    }
  }
  const db: TxDb = {
    run(sql, params) {
      if (params && (Array.isArray(params) ? params.length > 0 : true)) raw.run(sql, params as never)
      else raw.exec(sql)
      const id = raw.exec('SELECT last_insert_rowid()')[0]?.values[0]?.[0]
      return { changes: raw.getRowsModified(), lastInsertRowid: Number(id ?? 0) }
    },
    get: <T extends Row = Row>(sql: string, params?: SqlParams, opts?: { bigint?: boolean }) =>
      read<T>(sql, params, opts)[0],
    all: <T extends Row = Row>(sql: string, params?: SqlParams, opts?: { bigint?: boolean }) =>
      read<T>(sql, params, opts),
  }
  const call = <R>(fn: Procedure<unknown, R>, args?: unknown): R => {
    // A savepoint behaves like BEGIN/COMMIT at the top level and also nests, so a test can wrap a whole case in an
    // outer savepoint and roll it back afterwards.
    raw.exec('SAVEPOINT call')
    try {
      const r = fn(db, args)
      raw.exec('RELEASE call')
      return r
    } catch (e) {
      raw.exec('ROLLBACK TO call')
      raw.exec('RELEASE call')
      throw e
    }
  }
  for (const m of migrations) call((d) => m.up(d))
  return { db, call, close: () => raw.close() }
}
