// Public surface of the ledger store (docs/architecture.md §5). Services import from here; feature modules that add
// procedures or migrations import `defineProcedure` / `defineMigration` from './define' (see registry.ts).
export { LedgerCore, type LedgerOptions, loadSqlJs } from './core'
export { defineMigration, defineProcedure, registeredMigrations, registeredProcedures } from './define'
export {
  LedgerCorruptError,
  LedgerError,
  LedgerInputError,
  LedgerIOError,
  LedgerLockedError,
  LedgerProcedureError,
  LedgerSchemaError,
  LedgerStateError,
  LedgerStepError,
} from './errors'
export { type InProcessLedger, openLedgerInProcess } from './store'
export type * from './types'
export { type OpenLedgerOptions, openLedger } from './worker-host'
