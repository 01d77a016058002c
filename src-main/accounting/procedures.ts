// The accounting module's ledger procedures and migrations, as plain exports (for tests and tools that open a
// ledger with explicit lists) and registered with the ledger registry on import (src-main/ledger/registry.ts
// imports this file). Services call them as `store.call('accounting.bookSettlement', args)` and so on.

import { defineMigration, defineProcedure } from '../ledger/define'
import type { Migration, Procedure } from '../ledger/types'
import { bookSettlement } from './book'
import {
  addOperatorNote,
  auditBalances,
  cancelDeposit,
  claimSettlement,
  completeSettlement,
  confirmDeposit,
  createDeposit,
  failSettlement,
  forceResetSettlement,
  markLegsPaid,
  recomputePartialDispense,
  recordRejected,
  resolveWorklistItem,
  retrySettlement,
  reverseDeposit,
  reverseSettlement,
  setConfig,
  settleLpDust,
  upsertLp,
  upsertMachine,
} from './operations'
import { accountingMigrations } from './schema'
import { worklist } from './worklist'

export const accountingProcedures: Record<string, Procedure> = {
  'accounting.bookSettlement': bookSettlement,
  'accounting.upsertMachine': upsertMachine,
  'accounting.setConfig': setConfig,
  'accounting.upsertLp': upsertLp,
  'accounting.createDeposit': createDeposit,
  'accounting.confirmDeposit': confirmDeposit,
  'accounting.cancelDeposit': cancelDeposit,
  'accounting.reverseDeposit': reverseDeposit,
  'accounting.claimSettlement': claimSettlement,
  'accounting.completeSettlement': completeSettlement,
  'accounting.failSettlement': failSettlement,
  'accounting.retrySettlement': retrySettlement,
  'accounting.forceResetSettlement': forceResetSettlement,
  'accounting.recomputePartialDispense': recomputePartialDispense,
  'accounting.reverseSettlement': reverseSettlement,
  'accounting.settleLpDust': settleLpDust,
  'accounting.addNote': addOperatorNote,
  'accounting.recordRejected': recordRejected,
  'accounting.markLegsPaid': markLegsPaid,
  'accounting.resolveWorklistItem': resolveWorklistItem,
  'accounting.worklist': worklist,
  'accounting.auditBalances': (db) => auditBalances(db),
}

export { accountingMigrations }

export const allAccountingMigrations: readonly Migration[] = accountingMigrations

for (const m of accountingMigrations) defineMigration(m)
for (const [name, fn] of Object.entries(accountingProcedures)) defineProcedure(name, fn)
