// What a feature's IPC handlers and background work get from the running services (the ledger, settings, emit,
// clock, log, a shutdown hook), and the shape of a feature's handler table. Feature modules (setup, pipeline,
// worklist, lps, fleet) import these types from here; src-main/services.ts, the one place that builds the context
// and spreads every `...xHandlers(ctx),` into the table, imports the features. Keeping the types in this small
// module is what keeps the features from importing services.ts back (issue 11: no import circle).
import type { Clock } from '../src-shared/clock'
import type { Emit, Handlers, MethodName, Runtime } from '../src-shared/ipc/contract'
import type { Logger } from '../src-shared/log'
import type { LedgerStore } from './ledger/types'
import type { SettingsStore } from './settings-store'

/**
 * What a domain's handlers get: the shared pieces of the running services. A domain module exports
 * `(ctx: ServiceContext) => Pick<Handlers, 'fleet.list' | …>` and createServices spreads it into the table.
 */
export interface ServiceContext {
  runtime: Runtime
  emit: Emit
  dataDir: string
  clock: Clock
  log: Logger
  settings: SettingsStore
  /** The open ledger; throws `ApiError('unavailable')` while it is still opening or failed to open. */
  ledger(): LedgerStore
  ledgerReady: Promise<void>
  /** Registers work to stop on shutdown (relay pool, timers); run in reverse order, before the ledger closes. */
  onClose(fn: () => Promise<void> | void): void
}

export type DomainHandlers<M extends MethodName> = (ctx: ServiceContext) => Pick<Handlers, M>
