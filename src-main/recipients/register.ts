// The recipients module's ledger procedures and migrations, registered with the ledger registry on import
// (src-main/ledger/registry.ts imports this file) and exported as plain tables for tests and tools that open a
// ledger with explicit lists. Services call them as `ledger.call('recipients.list', args)` and so on.

import { defineMigration, defineProcedure } from '../ledger/define'
import type { Procedure } from '../ledger/types'
import { listPayouts, listReceipts } from './history'
import {
  getRecipient,
  listRecipients,
  setRecipientActive,
  setRecipientDestination,
  setRecipientThreshold,
  setSplitWeights,
} from './procedures'
import { recipientsMigrations } from './schema'

export const recipientsProcedures: Record<string, Procedure> = {
  'recipients.list': listRecipients,
  'recipients.get': getRecipient,
  'recipients.setDestination': setRecipientDestination,
  'recipients.setThreshold': setRecipientThreshold,
  'recipients.setActive': setRecipientActive,
  'recipients.setSplitWeights': setSplitWeights,
  'history.payouts': listPayouts,
  'history.receipts': listReceipts,
}

export { recipientsMigrations }

for (const m of recipientsMigrations) defineMigration(m)
for (const [name, fn] of Object.entries(recipientsProcedures)) defineProcedure(name, fn)
