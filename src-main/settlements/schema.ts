// Ledger migrations of the settlement history and the Dashboard (issue 9; versions 1700–1799):
//
// 1700 — indexes that make every list order and filter a range scan on an index rather than a scan of the table,
//        so the first page, a filter change and a deeper page cost about the same at a million settlements:
//        (booked_at_ms, id) for the default order and the date range; (column, booked_at_ms, id) for each equality
//        filter (machine, direction, status); (fiat_minor, id) and (wire_msat, id) for the amount orders; local_day
//        for the Dashboard's periods; the ATM transaction id for search; legs by (kind, recipient) for the LP
//        filter and the Dashboard's distributions; and the "last change" columns the live push compares.
// 1702 — covering indexes for the Dashboard's aggregates: settlements by local day carrying every column the sums
//        read, and legs by settlement carrying kind, recipient and amounts, so the 30-day figures are read from
//        the indexes alone (measured at 1M settlements: 15 s with the plain join, well under a second with these).
// 1790 — the fee-mismatch filter in booking order: a partial index of the flagged settlements by (booked_at_ms, id).
//        Flagged settlements are normally few (about one in a thousand) and the list then starts from them
//        (acct_settlement_mismatch); when an ATM misconfiguration flags thousands, the list walks this index in
//        booking order instead of walking every settlement (bench/results.json, sections settlements-ui*).
// 1701 — stl_proof: what verification established for a booked record and would otherwise be forgotten — the
//        wallet's preimage, the roster event that admitted the ATM — so the detail drawer can show and re-check
//        it. Written in the same transaction that books the record (fleet.acceptRecord); append-only.

import { appendOnlyTriggers } from '../ledger/append-only'
import { defineMigration } from '../ledger/define'
import type { Migration, TxDb } from '../ledger/types'

export const SETTLEMENTS_INDEX_VERSION = 1700
export const SETTLEMENTS_PROOF_VERSION = 1701
export const SETTLEMENTS_DASHBOARD_INDEX_VERSION = 1702
export const SETTLEMENTS_MISMATCH_INDEX_VERSION = 1790

export const settlementsMigrations: Migration[] = [
  {
    version: SETTLEMENTS_INDEX_VERSION,
    name: 'settlements: indexes for the history list, its filters and the dashboard',
    up: (db: TxDb) => {
      db.run(`
CREATE INDEX IF NOT EXISTS stl_booked ON acct_settlement (booked_at_ms, id);
CREATE INDEX IF NOT EXISTS stl_machine_booked ON acct_settlement (machine_id, booked_at_ms, id);
CREATE INDEX IF NOT EXISTS stl_direction_booked ON acct_settlement (direction, booked_at_ms, id);
CREATE INDEX IF NOT EXISTS stl_status_booked ON acct_settlement (status, booked_at_ms, id);
CREATE INDEX IF NOT EXISTS stl_fiat ON acct_settlement (fiat_minor, id);
CREATE INDEX IF NOT EXISTS stl_msat ON acct_settlement (wire_msat, id);
CREATE INDEX IF NOT EXISTS stl_local_day ON acct_settlement (local_day);
CREATE INDEX IF NOT EXISTS stl_status_changed ON acct_settlement (status_changed_at_ms);
CREATE INDEX IF NOT EXISTS stl_leg_recipient ON acct_leg (kind, recipient_id, settlement_id);
CREATE INDEX IF NOT EXISTS stl_leg_paid_at ON acct_leg (paid_at_ms) WHERE paid_at_ms IS NOT NULL;
CREATE INDEX IF NOT EXISTS stl_outcome_tx ON fleet_record_outcome (tx_id) WHERE outcome = 'booked';
`)
    },
  },
  {
    version: SETTLEMENTS_PROOF_VERSION,
    name: 'settlements: verification proofs of booked records',
    up: (db: TxDb) => {
      db.run(`
CREATE TABLE stl_proof (
  payment_hash TEXT PRIMARY KEY,
  atm_event_id TEXT NOT NULL,
  atm_pubkey TEXT NOT NULL,
  preimage TEXT NOT NULL,
  settled_at INTEGER,
  roster_event_id TEXT NOT NULL,
  verified_at_ms INTEGER NOT NULL
);
${appendOnlyTriggers('stl_proof')}
`)
    },
  },
  {
    version: SETTLEMENTS_DASHBOARD_INDEX_VERSION,
    name: 'settlements: covering indexes for the dashboard aggregates',
    up: (db: TxDb) => {
      db.run(`
CREATE INDEX IF NOT EXISTS stl_dash_day ON acct_settlement (local_day, status, machine_id, direction, currency, fiat_minor, wire_msat);
CREATE INDEX IF NOT EXISTS stl_dash_leg ON acct_leg (settlement_id, kind, recipient_id, msat, fiat_minor);
`)
    },
  },
  {
    version: SETTLEMENTS_MISMATCH_INDEX_VERSION,
    name: 'settlements: flagged fee mismatches in booking order',
    up: (db: TxDb) => {
      db.run(
        'CREATE INDEX IF NOT EXISTS stl_mismatch_booked ON acct_settlement (booked_at_ms, id) WHERE fee_mismatch_flagged = 1',
      )
    },
  },
]

for (const m of settlementsMigrations) defineMigration(m)

export interface SettlementProof {
  paymentHash: string
  atmEventId: string
  atmPubkey: string
  preimage: string
  settledAt: number | null
  rosterEventId: string
  verifiedAtMs: number
}

const HEX64 = /^[0-9a-f]{64}$/

/**
 * Stores what verification established for a record being booked. Called inside the booking transaction; a
 * malformed proof is skipped (the booking itself was decided by the verifier, not by this row).
 */
export function insertSettlementProof(db: TxDb, p: SettlementProof | undefined | null): void {
  if (!p) return
  if (![p.paymentHash, p.atmEventId, p.atmPubkey, p.preimage, p.rosterEventId].every((x) => HEX64.test(x))) return
  // A ledger opened with only some modules' migrations (a tool, a focused test) has no proof table: book anyway.
  if (!db.get(`SELECT 1 AS x FROM sqlite_master WHERE type = 'table' AND name = 'stl_proof'`)) return
  db.run(
    `INSERT OR IGNORE INTO stl_proof (payment_hash, atm_event_id, atm_pubkey, preimage, settled_at, roster_event_id,
       verified_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?)`,
    [p.paymentHash, p.atmEventId, p.atmPubkey, p.preimage, p.settledAt, p.rosterEventId, p.verifiedAtMs],
  )
}
