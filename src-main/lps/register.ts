// The LP module's ledger procedures and migration, registered with the ledger registry on import
// (src-main/ledger/registry.ts imports this file) and exported as plain tables for tests and tools that open a
// ledger with explicit lists. Services call them as `ledger.call('lps.register', args)` and so on.

import { defineMigration, defineProcedure } from '../ledger/define'
import type { Procedure } from '../ledger/types'
import {
  confirmLpDeposit,
  deactivateLp,
  destinationFor,
  dustSettleLp,
  getLpProcedure,
  listLps,
  lpHistory,
  lpStatement,
  recordLpCheck,
  recordLpDeposit,
  registerLp,
  reverseLpDeposit,
  setPayoutDestination,
  updateLp,
} from './procedures'
import { lpsMigrations } from './schema'

export const lpsProcedures: Record<string, Procedure> = {
  'lps.register': registerLp,
  'lps.setDestination': setPayoutDestination,
  'lps.destinationFor': destinationFor,
  'lps.recordDeposit': recordLpDeposit,
  'lps.confirmDeposit': confirmLpDeposit,
  'lps.reverseDeposit': reverseLpDeposit,
  'lps.dustSettle': dustSettleLp,
  'lps.deactivate': deactivateLp,
  'lps.list': listLps,
  'lps.get': getLpProcedure,
  'lps.history': lpHistory,
  'lps.statement': lpStatement,
  'lps.update': updateLp,
  'lps.recordCheck': recordLpCheck,
}

export { lpsMigrations }

for (const m of lpsMigrations) defineMigration(m)
for (const [name, fn] of Object.entries(lpsProcedures)) defineProcedure(name, fn)
