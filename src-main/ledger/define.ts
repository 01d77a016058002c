// Registration of ledger procedures and migrations (docs/architecture.md §5). Feature modules (accounting, fleet, payouts)
// call `defineProcedure` / `defineMigration` at import time; `registry.ts` imports those modules so that the
// ledger worker bundle contains every procedure. Import these two functions from here, not from
// `registry.ts`, so a feature module never forms an import cycle with the module that imports it.
//
// The tables live on `globalThis` under a well-known symbol so that a module evaluated twice (two bundles in
// one thread, or a test that re-imports) still registers into the one table the store reads.
import type { CommitHook, Migration, Procedure } from './types'

export interface LedgerRegistry {
  procedures: Map<string, Procedure>
  migrations: Map<number, Migration>
  /** Optional on registries created by an older bundle in the same thread. */
  commitHooks?: Map<string, CommitHook>
}

const KEY = Symbol.for('satmachine.ledger.registry')

/** The process-wide (per thread) registry. Created on first use. */
export function ledgerRegistry(): LedgerRegistry {
  const g = globalThis as unknown as Record<symbol, LedgerRegistry | undefined>
  let r = g[KEY]
  if (!r) {
    r = { procedures: new Map(), migrations: new Map(), commitHooks: new Map() }
    g[KEY] = r
  }
  return r
}

const NAME_RE = /^[A-Za-z][\w]*(\.[A-Za-z][\w]*)*$/

/**
 * Registers a procedure under a dotted name (identifier segments) such as `accounting.bookSettlement`. The procedure runs
 * synchronously inside one SQL transaction; it must be deterministic given the database and `args`
 * (take time and randomness from `args`). Returns the function so the caller can also test it directly.
 */
export function defineProcedure<A, R>(name: string, fn: Procedure<A, R>): Procedure<A, R> {
  if (!NAME_RE.test(name))
    throw new TypeError(
      `defineProcedure: name must be dotted identifiers (e.g. accounting.bookSettlement), got ${name}`,
    )
  const reg = ledgerRegistry()
  const existing = reg.procedures.get(name)
  if (existing && existing !== fn) throw new Error(`defineProcedure: ${name} is already defined`)
  reg.procedures.set(name, fn as Procedure)
  return fn
}

/** Registers a schema migration. Versions are global across modules and must be unique positive integers. */
export function defineMigration(m: Migration): Migration {
  if (!Number.isSafeInteger(m.version) || m.version < 1) {
    throw new TypeError(`defineMigration: version must be a positive integer, got ${m.version}`)
  }
  const reg = ledgerRegistry()
  const existing = reg.migrations.get(m.version)
  if (existing && existing !== m) {
    throw new Error(`defineMigration: version ${m.version} (${m.name}) clashes with ${existing.name}`)
  }
  reg.migrations.set(m.version, m)
  return m
}

/** Registered migrations in ascending version order. */
export function registeredMigrations(): Migration[] {
  return [...ledgerRegistry().migrations.values()].sort((a, b) => a.version - b.version)
}

/** Registered procedures by name. */
export function registeredProcedures(): ReadonlyMap<string, Procedure> {
  return ledgerRegistry().procedures
}

/**
 * Registers a hook that runs inside every write transaction, after its body and before it commits, with the rows
 * the transaction inserted, updated or deleted (the audit log appends its leaves here, in the same transaction).
 * Whatever the hook writes goes into the same journal record; a throw rolls the whole transaction back. Replay
 * does not run hooks: it re-applies the journaled statements, the hook's own included.
 */
export function defineCommitHook(name: string, fn: CommitHook): CommitHook {
  const reg = ledgerRegistry()
  reg.commitHooks ??= new Map()
  const existing = reg.commitHooks.get(name)
  if (existing && existing !== fn) throw new Error(`defineCommitHook: ${name} is already defined`)
  reg.commitHooks.set(name, fn)
  return fn
}

/** Registered commit hooks in registration order. */
export function registeredCommitHooks(): CommitHook[] {
  return [...(ledgerRegistry().commitHooks?.values() ?? [])]
}
