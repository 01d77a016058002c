// The append-only trigger SQL, run in a real sql.js database: updates and deletes abort with the table's message,
// inserts still work, a custom delete reason is quoted safely, and a table name that is not an identifier is
// refused before it can reach SQL.
import initSqlJs from 'sql.js'
import { describe, expect, it } from 'vitest'
import { appendOnlyTriggers, noDeleteTrigger } from './append-only'

async function dbWith(sql: string) {
  const SQL = await initSqlJs()
  const db = new SQL.Database()
  db.exec(`CREATE TABLE t_log (id INTEGER PRIMARY KEY, v TEXT); CREATE TABLE t_row (id INTEGER PRIMARY KEY, v TEXT);
    ${sql}`)
  db.exec("INSERT INTO t_log (v) VALUES ('a'); INSERT INTO t_row (v) VALUES ('a')")
  return db
}

describe('appendOnlyTriggers', () => {
  it('lets rows in but never changes or removes them', async () => {
    const db = await dbWith(appendOnlyTriggers('t_log'))
    db.exec("INSERT INTO t_log (v) VALUES ('b')")
    expect(() => db.exec("UPDATE t_log SET v = 'x'")).toThrow('t_log is append-only')
    expect(() => db.exec('DELETE FROM t_log')).toThrow('t_log is append-only')
    expect(db.exec('SELECT v FROM t_log ORDER BY id')[0]!.values).toEqual([['a'], ['b']])
    const names = db.exec("SELECT name FROM sqlite_master WHERE type = 'trigger' ORDER BY name")[0]!.values.flat()
    expect(names).toEqual(['t_log_no_delete', 't_log_no_update'])
  })

  it('builds both triggers for every table named', () => {
    const sql = appendOnlyTriggers('t_log', 't_row')
    expect(sql.match(/CREATE TRIGGER/g)).toHaveLength(4)
  })

  it('refuses a table name that is not a plain identifier', () => {
    expect(() => appendOnlyTriggers('t; DROP TABLE x')).toThrow(/not an identifier/)
    expect(() => noDeleteTrigger('T_Upper')).toThrow(/not an identifier/)
  })
})

describe('noDeleteTrigger', () => {
  it('aborts a delete with its own reason, quotes included, and leaves updates alone', async () => {
    const db = await dbWith(noDeleteTrigger('t_row', "a row's history stays"))
    expect(() => db.exec('DELETE FROM t_row')).toThrow("a row's history stays")
    db.exec("UPDATE t_row SET v = 'b'")
    expect(db.exec('SELECT v FROM t_row')[0]!.values).toEqual([['b']])
  })
})
