// LP lifecycle and payout-destination tables (issue 5 items 3 and 4), on top of the accounting schema (H4,
// src-main/accounting/schema.ts), which already holds the LPs' money: acct_lp (mode, limit, active), acct_deposit
// (pending → confirmed/cancelled), acct_lp_entry (running fiat balance), acct_dust, acct_accrual (msat owed).
// What was missing, and is added here:
//   - lp_profile: who the LP is on Nostr (npub / hex pubkey, for DMs and statements) and when it was registered or
//     deactivated (deactivation keeps every accrual payable; it only stops new allocations);
//   - (per-recipient destination, threshold, schedule and fee cap live in the payout module's payout_recipient
//     table, written through its `payouts.setRecipient` procedure; the destination JSON is this module's
//     DestinationConfig: a Lightning address, a node id, or the sealed-secret slot + wallet pubkey of an NWC
//     connection — never the URI itself);
//   - lp_event: an append-only history of registrations, destination changes and deactivations.
// Migration versions 700–799 belong to this module. Migration 1750 (the Liquidity providers screen's range,
// 1750–1799) adds lp_check: append-only outcomes of the live destination checks the operator asks for again
// ("Check again"), so a destination's health can be re-tested without changing it.

import { appendOnlyTriggers, noDeleteTrigger } from '../ledger/append-only'
import type { Migration, TxDb } from '../ledger/types'

export const LPS_SCHEMA_VERSION = 700

const TABLES = `
CREATE TABLE lp_profile (
  lp_id TEXT PRIMARY KEY REFERENCES acct_lp(id),
  npub TEXT NOT NULL,
  pubkey TEXT NOT NULL CHECK (length(pubkey) = 64),
  registered_at_ms INTEGER NOT NULL,
  deactivated_at_ms INTEGER,
  deactivation_reason TEXT
);
CREATE UNIQUE INDEX lp_profile_pubkey ON lp_profile (pubkey);

CREATE TABLE lp_event (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  lp_id TEXT NOT NULL REFERENCES acct_lp(id),
  kind TEXT NOT NULL CHECK (kind IN ('registered', 'destination', 'deactivated')),
  detail_json TEXT NOT NULL,
  author TEXT NOT NULL,
  at_ms INTEGER NOT NULL
);
CREATE INDEX lp_event_lp ON lp_event (lp_id, at_ms, id);
CREATE INDEX acct_lp_entry_lp_time ON acct_lp_entry (lp_id, created_at_ms, id);

${appendOnlyTriggers('lp_event')}
${noDeleteTrigger('lp_profile', 'an LP is deactivated, never deleted')}
CREATE TRIGGER lp_profile_frozen BEFORE UPDATE ON lp_profile
  WHEN NEW.lp_id IS NOT OLD.lp_id OR NEW.npub IS NOT OLD.npub OR NEW.pubkey IS NOT OLD.pubkey
    OR NEW.registered_at_ms IS NOT OLD.registered_at_ms OR OLD.deactivated_at_ms IS NOT NULL
  BEGIN SELECT RAISE(ABORT, 'an LP keeps its identity; a deactivated LP stays deactivated'); END;
`

export const LP_CHECK_SCHEMA_VERSION = 1750

const CHECK_TABLE = `
CREATE TABLE lp_check (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  lp_id TEXT NOT NULL REFERENCES acct_lp(id),
  destination_kind TEXT NOT NULL,
  ok INTEGER NOT NULL CHECK (ok IN (0, 1)),
  text TEXT NOT NULL,
  at_ms INTEGER NOT NULL
);
CREATE INDEX lp_check_lp ON lp_check (lp_id, id);
${appendOnlyTriggers('lp_check')}
`

export const lpsMigrations: Migration[] = [
  {
    version: LPS_SCHEMA_VERSION,
    name: 'lps',
    up: (db: TxDb) => db.run(TABLES),
  },
  {
    version: LP_CHECK_SCHEMA_VERSION,
    name: 'lp-destination-checks',
    up: (db: TxDb) => db.run(CHECK_TABLE),
  },
]
