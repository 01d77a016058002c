// Ledger accounting schema (docs/settlement.md and §6): machines, fee-config history, LPs, deposits, settlements (payment
// hash = idempotency key, fee config snapshotted on the row), per-generation results, legs, per-recipient
// accruals, LP fiat entries, dust settlements, operator notes, rejected records, worklist acknowledgements.
//
// Money rows are append-only, enforced by triggers so no code path (or hand-written SQL) can edit history: a
// correction is a new row that names the one it reverses. The only updates allowed are workflow state (a
// settlement's status and claim, a deposit going pending → confirmed/cancelled, a leg's one-time paid mark).
// LP and recipient balances are derived: every entry carries the running balance after it (CHECK ≥ 0 for LPs), so
// reading a balance is one index lookup however large the ledger grows, and `accounting.auditBalances`
// re-derives every balance from the entries to prove the running values right.

import { appendOnlyTriggers, noDeleteTrigger } from '../ledger/append-only'
import type { Migration, TxDb } from '../ledger/types'

/** Migration versions 400–499 belong to accounting. */
export const ACCOUNTING_SCHEMA_VERSION = 400

const TABLES = `
CREATE TABLE acct_machine (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  currency TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL
);

CREATE TABLE acct_config (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  machine_id TEXT REFERENCES acct_machine(id),
  effective_from_ms INTEGER NOT NULL,
  recorded_at_ms INTEGER NOT NULL,
  cash_out_platform_ppm INTEGER NOT NULL,
  cash_out_operator_ppm INTEGER NOT NULL,
  cash_in_platform_ppm INTEGER NOT NULL,
  cash_in_operator_ppm INTEGER NOT NULL,
  discount_ppm INTEGER NOT NULL,
  splits_json TEXT NOT NULL,
  time_zone TEXT NOT NULL,
  author TEXT NOT NULL,
  note TEXT
);
CREATE INDEX acct_config_scope ON acct_config (machine_id, effective_from_ms, seq);

CREATE TABLE acct_lp (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  currency TEXT NOT NULL,
  machine_id TEXT REFERENCES acct_machine(id),
  mode TEXT NOT NULL CHECK (mode IN ('flow', 'fixed')),
  daily_limit_minor INTEGER CHECK (daily_limit_minor IS NULL OR daily_limit_minor >= 0),
  active INTEGER NOT NULL CHECK (active IN (0, 1)),
  created_at_ms INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL,
  CHECK ((mode = 'fixed') = (daily_limit_minor IS NOT NULL))
);

CREATE TABLE acct_deposit (
  id TEXT PRIMARY KEY,
  lp_id TEXT NOT NULL REFERENCES acct_lp(id),
  amount_minor INTEGER NOT NULL CHECK (amount_minor > 0),
  status TEXT NOT NULL CHECK (status IN ('pending', 'confirmed', 'cancelled')),
  created_at_ms INTEGER NOT NULL,
  confirmed_at_ms INTEGER,
  closed_at_ms INTEGER,
  note TEXT
);
CREATE INDEX acct_deposit_lp ON acct_deposit (lp_id, created_at_ms);

CREATE TABLE acct_settlement (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  payment_hash TEXT NOT NULL UNIQUE,
  machine_id TEXT NOT NULL,
  direction TEXT NOT NULL CHECK (direction IN ('cash_out', 'cash_in')),
  atm_event_id TEXT,
  record_created_at INTEGER NOT NULL,
  booked_at_ms INTEGER NOT NULL,
  wire_msat INTEGER NOT NULL,
  fiat_minor INTEGER NOT NULL,
  fiat_requested_minor INTEGER NOT NULL,
  currency TEXT NOT NULL,
  claimed_fee_msat INTEGER,
  config_seq INTEGER REFERENCES acct_config(seq),
  platform_ppm INTEGER,
  operator_ppm INTEGER,
  discount_ppm INTEGER,
  splits_json TEXT,
  lps_json TEXT,
  time_zone TEXT,
  local_day TEXT,
  fee_mismatch_msat INTEGER,
  fee_mismatch_flagged INTEGER NOT NULL DEFAULT 0,
  status TEXT NOT NULL CHECK (status IN ('pending', 'processing', 'processed', 'errored', 'rejected')),
  reason TEXT,
  claim_token TEXT,
  claimed_at_ms INTEGER,
  status_changed_at_ms INTEGER NOT NULL,
  generation INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX acct_settlement_status ON acct_settlement (status, status_changed_at_ms);
CREATE INDEX acct_settlement_mismatch ON acct_settlement (id) WHERE fee_mismatch_flagged = 1;

CREATE TABLE acct_result (
  settlement_id INTEGER NOT NULL REFERENCES acct_settlement(id),
  generation INTEGER NOT NULL,
  fiat_minor INTEGER NOT NULL,
  principal_msat INTEGER NOT NULL,
  commission_msat INTEGER NOT NULL,
  platform_fee_msat INTEGER NOT NULL,
  operator_fee_msat INTEGER NOT NULL,
  refund_due_msat INTEGER NOT NULL,
  created_at_ms INTEGER NOT NULL,
  author TEXT NOT NULL,
  PRIMARY KEY (settlement_id, generation)
);

CREATE TABLE acct_leg (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  settlement_id INTEGER NOT NULL REFERENCES acct_settlement(id),
  generation INTEGER NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('platform_fee', 'split', 'lp', 'float', 'refund_due')),
  recipient_id TEXT NOT NULL,
  msat INTEGER NOT NULL,
  fiat_minor INTEGER NOT NULL,
  reverses_leg_id INTEGER UNIQUE REFERENCES acct_leg(id),
  created_at_ms INTEGER NOT NULL,
  paid_ref TEXT,
  paid_at_ms INTEGER
);
CREATE INDEX acct_leg_settlement ON acct_leg (settlement_id, generation);
CREATE INDEX acct_leg_refund_open ON acct_leg (settlement_id) WHERE kind = 'refund_due' AND paid_ref IS NULL;

CREATE TABLE acct_dust (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  lp_id TEXT NOT NULL REFERENCES acct_lp(id),
  fiat_minor INTEGER NOT NULL CHECK (fiat_minor > 0),
  rate_msat_per_major INTEGER NOT NULL CHECK (rate_msat_per_major > 0),
  msat INTEGER NOT NULL,
  created_at_ms INTEGER NOT NULL,
  author TEXT NOT NULL,
  note TEXT
);

CREATE TABLE acct_lp_entry (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  lp_id TEXT NOT NULL REFERENCES acct_lp(id),
  kind TEXT NOT NULL CHECK (kind IN ('deposit', 'deposit_reversal', 'allocation', 'allocation_reversal', 'dust')),
  delta_minor INTEGER NOT NULL,
  balance_after_minor INTEGER NOT NULL CHECK (balance_after_minor >= 0),
  deposit_id TEXT REFERENCES acct_deposit(id),
  leg_id INTEGER REFERENCES acct_leg(id),
  dust_id INTEGER REFERENCES acct_dust(id),
  local_day TEXT,
  created_at_ms INTEGER NOT NULL
);
CREATE INDEX acct_lp_entry_lp ON acct_lp_entry (lp_id, id);
CREATE INDEX acct_lp_entry_day ON acct_lp_entry (lp_id, local_day) WHERE local_day IS NOT NULL;
CREATE INDEX acct_lp_entry_deposit ON acct_lp_entry (deposit_id) WHERE deposit_id IS NOT NULL;

CREATE TABLE acct_accrual (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  recipient_kind TEXT NOT NULL CHECK (recipient_kind IN ('platform', 'split', 'lp')),
  recipient_id TEXT NOT NULL,
  leg_id INTEGER REFERENCES acct_leg(id),
  dust_id INTEGER REFERENCES acct_dust(id),
  delta_msat INTEGER NOT NULL,
  balance_after_msat INTEGER NOT NULL,
  created_at_ms INTEGER NOT NULL
);
CREATE INDEX acct_accrual_recipient ON acct_accrual (recipient_kind, recipient_id, id);

CREATE TABLE acct_settlement_event (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  settlement_id INTEGER NOT NULL REFERENCES acct_settlement(id),
  from_status TEXT,
  to_status TEXT NOT NULL,
  reason TEXT,
  author TEXT NOT NULL,
  at_ms INTEGER NOT NULL
);
CREATE INDEX acct_settlement_event_s ON acct_settlement_event (settlement_id, id);

CREATE TABLE acct_note (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  settlement_id INTEGER REFERENCES acct_settlement(id),
  lp_id TEXT REFERENCES acct_lp(id),
  author TEXT NOT NULL,
  system INTEGER NOT NULL CHECK (system IN (0, 1)),
  text TEXT NOT NULL CHECK (length(text) BETWEEN 1 AND 2000),
  created_at_ms INTEGER NOT NULL
);
CREATE INDEX acct_note_settlement ON acct_note (settlement_id, id) WHERE settlement_id IS NOT NULL;

CREATE TABLE acct_rejected (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  event_id TEXT,
  machine_id TEXT,
  payment_hash TEXT,
  field TEXT,
  reason TEXT NOT NULL,
  payload_json TEXT,
  received_at_ms INTEGER NOT NULL
);
CREATE INDEX acct_rejected_event ON acct_rejected (event_id);

CREATE TABLE acct_worklist_ack (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  settlement_id INTEGER NOT NULL REFERENCES acct_settlement(id),
  kind TEXT NOT NULL CHECK (kind IN ('refund_due', 'fee_mismatch')),
  author TEXT NOT NULL,
  note TEXT,
  at_ms INTEGER NOT NULL,
  UNIQUE (settlement_id, kind)
);
`

/** Tables no statement may ever update or delete from. */
const APPEND_ONLY = [
  'acct_config',
  'acct_result',
  'acct_dust',
  'acct_lp_entry',
  'acct_accrual',
  'acct_settlement_event',
  'acct_note',
  'acct_rejected',
  'acct_worklist_ack',
]

function triggers(): string {
  const out: string[] = [appendOnlyTriggers(...APPEND_ONLY)]
  for (const t of ['acct_leg', 'acct_deposit', 'acct_settlement', 'acct_machine']) {
    out.push(noDeleteTrigger(t, `${t} rows are never deleted; book a reversing entry`))
  }
  // A leg is immutable except for being marked paid once.
  out.push(`CREATE TRIGGER acct_leg_paid_once BEFORE UPDATE ON acct_leg
    WHEN OLD.paid_ref IS NOT NULL OR NEW.paid_ref IS NULL
      OR NEW.id IS NOT OLD.id OR NEW.settlement_id IS NOT OLD.settlement_id OR NEW.generation IS NOT OLD.generation
      OR NEW.kind IS NOT OLD.kind OR NEW.recipient_id IS NOT OLD.recipient_id OR NEW.msat IS NOT OLD.msat
      OR NEW.fiat_minor IS NOT OLD.fiat_minor OR NEW.reverses_leg_id IS NOT OLD.reverses_leg_id
      OR NEW.created_at_ms IS NOT OLD.created_at_ms
    BEGIN SELECT RAISE(ABORT, 'a leg is immutable except for being marked paid once'); END;`)
  // A deposit only moves pending → confirmed or pending → cancelled; its amount and LP never change.
  out.push(`CREATE TRIGGER acct_deposit_transition BEFORE UPDATE ON acct_deposit
    WHEN OLD.status <> 'pending' OR NEW.status NOT IN ('confirmed', 'cancelled')
      OR NEW.id IS NOT OLD.id OR NEW.lp_id IS NOT OLD.lp_id OR NEW.amount_minor IS NOT OLD.amount_minor
      OR NEW.created_at_ms IS NOT OLD.created_at_ms
    BEGIN SELECT RAISE(ABORT, 'a deposit only moves from pending to confirmed or cancelled; reverse it instead'); END;`)
  // A settlement's record fields and fee snapshot never change; only its workflow columns do.
  const frozen = [
    'id',
    'payment_hash',
    'machine_id',
    'direction',
    'atm_event_id',
    'record_created_at',
    'booked_at_ms',
    'wire_msat',
    'fiat_minor',
    'fiat_requested_minor',
    'currency',
    'claimed_fee_msat',
    'config_seq',
    'platform_ppm',
    'operator_ppm',
    'discount_ppm',
    'splits_json',
    'lps_json',
    'time_zone',
    'local_day',
    'fee_mismatch_msat',
    'fee_mismatch_flagged',
  ]
  out.push(`CREATE TRIGGER acct_settlement_frozen BEFORE UPDATE ON acct_settlement
    WHEN ${frozen.map((c) => `NEW.${c} IS NOT OLD.${c}`).join(' OR ')} OR NEW.generation < OLD.generation
    BEGIN SELECT RAISE(ABORT, 'a settlement''s record and fee snapshot are immutable'); END;`)
  out.push(`CREATE TRIGGER acct_machine_currency BEFORE UPDATE ON acct_machine
    WHEN NEW.currency IS NOT OLD.currency OR NEW.id IS NOT OLD.id
    BEGIN SELECT RAISE(ABORT, 'a machine keeps its id and currency'); END;`)
  return out.join('\n')
}

export const accountingMigrations: Migration[] = [
  {
    version: ACCOUNTING_SCHEMA_VERSION,
    name: 'accounting',
    up: (db: TxDb) => {
      db.run(TABLES)
      db.run(triggers())
    },
  },
]
