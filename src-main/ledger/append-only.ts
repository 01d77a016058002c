// SQL for the triggers that make ledger tables append-only (docs/architecture.md §5: the ledger never edits history). Every
// feature module's migration builds its triggers here, so the trigger names and the abort messages are the same
// everywhere: `<table>_no_update` / `<table>_no_delete`, aborting with "<table> is append-only". A trigger fires
// for every statement, including hand-written SQL, so no code path can bypass it.

/** Table names are interpolated into SQL, so only plain lower-case identifiers are accepted. */
const IDENT = /^[a-z_][a-z0-9_]*$/

function checkTable(table: string): string {
  if (!IDENT.test(table))
    throw new Error(`append-only trigger: table name ${JSON.stringify(table)} is not an identifier`)
  return table
}

/** Quotes a message as an SQL string literal (a single quote is doubled). */
function sqlString(message: string): string {
  return `'${message.replaceAll("'", "''")}'`
}

/** A BEFORE DELETE trigger `<table>_no_delete` that aborts with `reason` (default "<table> is append-only"). */
export function noDeleteTrigger(table: string, reason = `${table} is append-only`): string {
  const t = checkTable(table)
  return `CREATE TRIGGER ${t}_no_delete BEFORE DELETE ON ${t}
  BEGIN SELECT RAISE(ABORT, ${sqlString(reason)}); END;`
}

/** A BEFORE UPDATE trigger `<table>_no_update` that aborts with "<table> is append-only". */
export function noUpdateTrigger(table: string): string {
  const t = checkTable(table)
  return `CREATE TRIGGER ${t}_no_update BEFORE UPDATE ON ${t}
  BEGIN SELECT RAISE(ABORT, ${sqlString(`${t} is append-only`)}); END;`
}

/** Both triggers (no update, no delete) for each table, as one SQL script. */
export function appendOnlyTriggers(...tables: string[]): string {
  return tables.map((t) => `${noUpdateTrigger(t)}\n${noDeleteTrigger(t)}`).join('\n')
}
