// In-process LedgerStore over LedgerCore (docs/architecture.md §5), for unit tests of other modules and for tools. Same
// semantics as the worker-backed store: arguments and results are structured-cloned (as postMessage would),
// every promise resolves only after the journal covers what the operation wrote or read, and errors are the
// same typed classes (errors.ts).
import { LedgerCore, type LedgerOptions } from './core'
import { registeredProcedures } from './define'
import type { LedgerStatus, LedgerStore, Page, Row, SqlParams, TxStep } from './types'

export interface InProcessLedger extends LedgerStore {
  /** The engine itself, for tests that need to look inside. */
  readonly core: LedgerCore
}

/** Opens the ledger in `opts.dir` in this thread. Procedures and migrations default to the registry. */
export async function openLedgerInProcess(opts: LedgerOptions): Promise<InProcessLedger> {
  const core = await LedgerCore.open(opts)
  const durable = async <T>(r: { result: T; seq: number }): Promise<T> => {
    await core.waitDurable(r.seq)
    return structuredClone(r.result)
  }
  return {
    core,
    call: async <R>(procedure: string, args?: unknown) => durable<R>(core.call<R>(procedure, structuredClone(args))),
    transaction: async (steps: readonly TxStep[]) => durable(core.transaction(structuredClone(steps))),
    query: async <T extends Row = Row>(sql: string, params?: SqlParams, opts?: { bigint?: boolean }) => {
      const rows = core.query<T>(sql, params, opts)
      await core.waitDurable()
      return rows
    },
    page: async <T extends Row = Row>(
      sql: string,
      params: SqlParams,
      opts: { limit: number; after?: string; key: string; bigint?: boolean; desc?: boolean },
    ): Promise<Page<T>> => {
      const p = core.page<T>(sql, params, opts)
      await core.waitDurable()
      return p
    },
    status: async (): Promise<LedgerStatus> => core.status(),
    onStatus: (cb) => core.onStatus(cb),
    snapshot: () => core.snapshot(),
    bulkLoad: async <R>(procedure: string, args?: unknown): Promise<R> => {
      const fn = (opts.procedures ?? registeredProcedures()).get(procedure)
      if (!fn) return core.call<R>(procedure, args).result // throws the typed "no procedure" error
      const a = structuredClone(args)
      return structuredClone(await core.bulkLoad(procedure, (tx) => fn(tx, a) as R))
    },
    close: () => core.close(),
  }
}
