// Ledger schema of the payouts module (docs/settlement.md "Payouts", §6; src-main/payouts/README.md): recipient
// payout policies, payouts with their state, the append-only history of every transition and every signed
// request, the pause switch and operator alerts.
//
// The payout row is the outbox: a request is published only after the transaction that stored it (state
// `sending`, the signed event and its id) is in the journal. Unique constraints make a second claim impossible:
// one payment hash per payout, one request id per attempt, and at most one open payout per recipient.

import { appendOnlyTriggers, noDeleteTrigger } from '../ledger/append-only'
import type { Migration, TxDb } from '../ledger/types'

/** Migration versions 600–649 belong to the payout core (650–699 are left to payout destinations). */
export const PAYOUTS_SCHEMA_VERSION = 600

const TABLES = `
CREATE TABLE payout_recipient (
  recipient_kind TEXT NOT NULL CHECK (recipient_kind IN ('platform', 'split', 'lp')),
  recipient_id TEXT NOT NULL,
  threshold_msat INTEGER NOT NULL CHECK (threshold_msat >= 1000),
  min_interval_ms INTEGER NOT NULL CHECK (min_interval_ms >= 0),
  max_fee_base_msat INTEGER NOT NULL CHECK (max_fee_base_msat >= 0),
  max_fee_ppm INTEGER NOT NULL CHECK (max_fee_ppm BETWEEN 0 AND 1000000),
  destination_json TEXT NOT NULL,
  active INTEGER NOT NULL CHECK (active IN (0, 1)),
  updated_at_ms INTEGER NOT NULL,
  PRIMARY KEY (recipient_kind, recipient_id)
);

CREATE TABLE payout (
  id TEXT PRIMARY KEY,
  recipient_kind TEXT NOT NULL,
  recipient_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  amount_msat INTEGER NOT NULL CHECK (amount_msat > 0 AND amount_msat % 1000 = 0),
  max_fee_msat INTEGER NOT NULL CHECK (max_fee_msat >= 0),
  connection_id TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('planned', 'sending', 'paid', 'failed_retryable', 'failed_final', 'unknown')),
  bolt11 TEXT,
  payment_hash TEXT UNIQUE,
  attempt INTEGER NOT NULL,
  request_id TEXT UNIQUE,
  request_json TEXT,
  request_expires_at_sec INTEGER,
  preimage TEXT,
  fees_paid_msat INTEGER,
  reason TEXT,
  error_code TEXT,
  next_attempt_at_ms INTEGER,
  planned_at_ms INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL,
  accrual_id INTEGER REFERENCES acct_accrual(id),
  paid_cum_msat INTEGER,
  legs_cum_msat INTEGER,
  released_at_ms INTEGER,
  released_by TEXT,
  released_note TEXT,
  UNIQUE (recipient_kind, recipient_id, seq),
  CHECK ((state = 'paid') = (preimage IS NOT NULL AND accrual_id IS NOT NULL))
);
CREATE INDEX payout_state ON payout (connection_id, state, next_attempt_at_ms);
CREATE UNIQUE INDEX payout_one_open ON payout (recipient_kind, recipient_id)
  WHERE state IN ('planned', 'sending', 'failed_retryable', 'unknown')
     OR (state = 'failed_final' AND released_at_ms IS NULL);
CREATE INDEX payout_paid_recipient ON payout (recipient_kind, recipient_id, accrual_id) WHERE state = 'paid';

CREATE TABLE payout_request (
  request_id TEXT PRIMARY KEY,
  payout_id TEXT NOT NULL REFERENCES payout(id),
  attempt INTEGER NOT NULL,
  bolt11 TEXT NOT NULL,
  payment_hash TEXT NOT NULL,
  request_json TEXT NOT NULL,
  expires_at_sec INTEGER NOT NULL,
  created_at_ms INTEGER NOT NULL
);
CREATE INDEX payout_request_payout ON payout_request (payout_id, attempt);

CREATE TABLE payout_invoice (
  payment_hash TEXT PRIMARY KEY,
  payout_id TEXT NOT NULL REFERENCES payout(id),
  attempt INTEGER NOT NULL,
  bolt11 TEXT NOT NULL,
  amount_msat INTEGER NOT NULL,
  created_at_ms INTEGER NOT NULL
);
CREATE INDEX payout_invoice_payout ON payout_invoice (payout_id);

CREATE TABLE payout_event (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  payout_id TEXT NOT NULL REFERENCES payout(id),
  transition TEXT NOT NULL,
  from_state TEXT,
  to_state TEXT NOT NULL,
  code TEXT,
  reason TEXT,
  at_ms INTEGER NOT NULL
);
CREATE INDEX payout_event_payout ON payout_event (payout_id, id);

CREATE TABLE payout_control (
  connection_id TEXT PRIMARY KEY,
  paused INTEGER NOT NULL CHECK (paused IN (0, 1)),
  reason TEXT,
  changed_at_ms INTEGER NOT NULL,
  changed_by TEXT NOT NULL
);

CREATE TABLE payout_alert (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  kind TEXT NOT NULL,
  connection_id TEXT,
  payout_id TEXT,
  message TEXT NOT NULL,
  data_json TEXT,
  at_ms INTEGER NOT NULL
);

CREATE INDEX IF NOT EXISTS payout_leg_unpaid ON acct_leg (recipient_id, kind, id) WHERE paid_ref IS NULL;
`

const APPEND_ONLY = ['payout_request', 'payout_invoice', 'payout_event', 'payout_alert']

function triggers(): string {
  const out: string[] = [appendOnlyTriggers(...APPEND_ONLY), noDeleteTrigger('payout', 'payout rows are never deleted')]
  // What a payout pays, to whom and through which connection never changes; a paid payout never changes at all.
  out.push(`CREATE TRIGGER payout_frozen BEFORE UPDATE ON payout
    WHEN NEW.id IS NOT OLD.id OR NEW.recipient_kind IS NOT OLD.recipient_kind
      OR NEW.recipient_id IS NOT OLD.recipient_id OR NEW.amount_msat IS NOT OLD.amount_msat
      OR NEW.connection_id IS NOT OLD.connection_id OR NEW.seq IS NOT OLD.seq
      OR NEW.planned_at_ms IS NOT OLD.planned_at_ms OR OLD.state = 'paid'
    BEGIN SELECT RAISE(ABORT, 'a payout keeps its recipient, amount and connection; a paid payout is final'); END;`)
  return out.join('\n')
}

export const payoutMigrations: Migration[] = [
  {
    version: PAYOUTS_SCHEMA_VERSION,
    name: 'payouts',
    up: (db: TxDb) => {
      db.run(TABLES)
      db.run(triggers())
    },
  },
]
