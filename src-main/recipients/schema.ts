// Ledger tables of the payout recipients module (issue 15 item 1; docs/payouts.md "Recipients"). The platform fee
// recipient and each commission split get their payout policy (destination, threshold, active) in the payout
// module's own `payout_recipient` table, exactly like LPs, so the one exactly-once planner pays them all. What this
// module adds is the record of every change and of every live destination check:
//   - recipient_change: append-only, one row per changed field (destination, threshold, active, split weight),
//     with the old and new value in public words (a Lightning address, a node id, an NWC wallet pubkey — never a
//     secret), who made the change and when;
//   - recipient_check: append-only, the outcome of the live check made when a destination was set (the Settings
//     screen shows the newest as the destination's health).
// Migration 1501 adds keyset-paging indexes for the payout history view (`payouts.list`).
// Migration versions 1500–1599 belong to this module.

import { appendOnlyTriggers } from '../ledger/append-only'
import type { Migration, TxDb } from '../ledger/types'

export const RECIPIENTS_SCHEMA_VERSION = 1500

const TABLES = `
CREATE TABLE recipient_change (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  recipient_kind TEXT NOT NULL CHECK (recipient_kind IN ('platform', 'split', 'lp')),
  recipient_id TEXT NOT NULL,
  field TEXT NOT NULL CHECK (field IN ('destination', 'threshold', 'active', 'weight')),
  old_value TEXT NOT NULL,
  new_value TEXT NOT NULL,
  author TEXT NOT NULL,
  at_ms INTEGER NOT NULL,
  note TEXT
);
CREATE INDEX recipient_change_recipient ON recipient_change (recipient_kind, recipient_id, id);

CREATE TABLE recipient_check (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  recipient_kind TEXT NOT NULL,
  recipient_id TEXT NOT NULL,
  destination_kind TEXT NOT NULL,
  ok INTEGER NOT NULL CHECK (ok IN (0, 1)),
  text TEXT NOT NULL,
  at_ms INTEGER NOT NULL
);
CREATE INDEX recipient_check_recipient ON recipient_check (recipient_kind, recipient_id, id);
${appendOnlyTriggers('recipient_change', 'recipient_check')}
`

export const recipientsMigrations: Migration[] = [
  { version: RECIPIENTS_SCHEMA_VERSION, name: 'recipients', up: (db: TxDb) => db.run(TABLES) },
  {
    version: RECIPIENTS_SCHEMA_VERSION + 1,
    name: 'payout-history-paging',
    up: (db: TxDb) =>
      db.run(`
CREATE INDEX payout_history ON payout (planned_at_ms, id);
CREATE INDEX payout_history_recipient ON payout (recipient_kind, recipient_id, planned_at_ms, id);
`),
  },
]
