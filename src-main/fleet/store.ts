// Fleet persistence in the ledger (docs/protocol.md, §6; docs/protocol.md §6, §7, §9, §11): every verified operator-signed
// roster and machine-config version, every delegation the console issued, and the outcome of every ATM record the
// acceptance pipeline processed. All three tables are append-only (history is the point: revocation is judged by
// roster history, config changes are shown as history, replays are recognised by event id).
//
// Settlements themselves live in the accounting tables (src-main/accounting, keyed by payment hash); the outcome
// rows here record which ATM event and transaction id each booking came from, which accounting does not keep.
// `insertRecordOutcome` is exported as a plain function so a booking procedure can write the outcome row and the
// settlement in one transaction.
import type { AtmRecordV1 } from '../../src-shared/nostr/atm-record'
import { isHex64, type NostrEvent } from '../../src-shared/nostr/event'
import { KIND_APP_DATA, KIND_FOLLOW_SET } from '../../src-shared/nostr/kinds'
import { type MachineConfig, parseMachineConfigEvent } from '../../src-shared/nostr/machine-config'
import type { IssuedDelegation } from '../../src-shared/nostr/pairing'
import { parseRosterEvent, type Roster } from '../../src-shared/nostr/roster'
import type { BookedRef, RejectReason } from '../../src-shared/nostr/verify-record'
import { appendOnlyTriggers } from '../ledger/append-only'
import { defineMigration, defineProcedure } from '../ledger/define'
import type { LedgerStore, Migration, TxDb } from '../ledger/types'

/** Migration versions 500–599 belong to the fleet. */
export const FLEET_SCHEMA_VERSION = 500

const TABLES = ['fleet_signed_event', 'fleet_delegation', 'fleet_record_outcome']

export const fleetMigrations: Migration[] = [
  {
    version: FLEET_SCHEMA_VERSION,
    name: 'fleet: signed events, delegations, record outcomes',
    up: (db: TxDb) => {
      db.run(`
CREATE TABLE fleet_signed_event (
  event_id TEXT PRIMARY KEY,
  kind INTEGER NOT NULL,
  d TEXT NOT NULL,
  pubkey TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  raw_json TEXT NOT NULL,
  received_at_ms INTEGER NOT NULL
);
CREATE INDEX fleet_signed_event_addr ON fleet_signed_event (kind, pubkey, d, created_at);

CREATE TABLE fleet_delegation (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  atm_pubkey TEXT NOT NULL,
  delegator_pubkey TEXT NOT NULL,
  conditions TEXT NOT NULL,
  token TEXT NOT NULL,
  created_after INTEGER NOT NULL,
  created_before INTEGER NOT NULL CHECK (created_before > created_after),
  issued_at INTEGER NOT NULL
);
CREATE INDEX fleet_delegation_atm ON fleet_delegation (atm_pubkey, created_before);

CREATE TABLE fleet_record_outcome (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  event_id TEXT NOT NULL,
  atm_pubkey TEXT NOT NULL,
  tx_id TEXT,
  payment_hash TEXT,
  created_at INTEGER NOT NULL,
  outcome TEXT NOT NULL CHECK (outcome IN ('booked', 'history', 'rejected')),
  reason TEXT,
  detail TEXT,
  retryable INTEGER NOT NULL CHECK (retryable IN (0, 1)),
  raw_json TEXT NOT NULL,
  received_at_ms INTEGER NOT NULL,
  CHECK ((outcome = 'rejected') = (reason IS NOT NULL)),
  CHECK (outcome = 'rejected' OR (tx_id IS NOT NULL AND payment_hash IS NOT NULL))
);
CREATE INDEX fleet_record_outcome_event ON fleet_record_outcome (event_id);
CREATE UNIQUE INDEX fleet_record_outcome_booked_hash ON fleet_record_outcome (payment_hash) WHERE outcome = 'booked';
CREATE UNIQUE INDEX fleet_record_outcome_booked_tx ON fleet_record_outcome (atm_pubkey, tx_id) WHERE outcome = 'booked';
`)
      db.run(appendOnlyTriggers(...TABLES))
    },
  },
]

export class FleetStoreError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`)
    this.name = 'FleetStoreError'
  }
}

export interface StoreSignedEventArgs {
  /** An event the caller has already verified with parseRosterEvent / parseMachineConfigEvent. */
  event: NostrEvent
  receivedAtMs: number
}

/** Stores a verified roster or config version; storing the same event again is a no-op. */
export function insertSignedEvent(db: TxDb, a: StoreSignedEventArgs): { inserted: boolean } {
  const ev = a.event
  if (!isHex64(ev.id)) throw new FleetStoreError('event.id', 'must be 64 hex')
  if (ev.kind !== KIND_FOLLOW_SET && ev.kind !== KIND_APP_DATA)
    throw new FleetStoreError('event.kind', 'only rosters (30000) and machine configs (30078) are stored here')
  const d = ev.tags.find((t) => t[0] === 'd')?.[1]
  if (d === undefined) throw new FleetStoreError('event.tags', 'no d tag')
  const r = db.run(
    `INSERT OR IGNORE INTO fleet_signed_event (event_id, kind, d, pubkey, created_at, raw_json, received_at_ms)
     VALUES (?, ?, ?, ?, ?, ?, ?)`,
    [ev.id, ev.kind, d, ev.pubkey, ev.created_at, JSON.stringify(ev), a.receivedAtMs],
  )
  return { inserted: r.changes === 1 }
}

export function insertDelegation(db: TxDb, d: IssuedDelegation): { id: number } {
  const r = db.run(
    `INSERT INTO fleet_delegation (atm_pubkey, delegator_pubkey, conditions, token, created_after, created_before, issued_at)
     VALUES (?, ?, ?, ?, ?, ?, ?)`,
    [d.atmPubkey, d.delegatorPubkey, d.conditions, d.token, d.createdAfter, d.createdBefore, d.issuedAt],
  )
  return { id: r.lastInsertRowid }
}

export type RecordOutcomeArgs =
  | {
      outcome: 'booked' | 'history'
      event: NostrEvent
      record: Pick<AtmRecordV1, 'txId' | 'paymentHash'>
      receivedAtMs: number
    }
  | {
      outcome: 'rejected'
      event: NostrEvent | { id: string; pubkey: string; created_at: number }
      reason: RejectReason
      detail: string
      retryable: boolean
      receivedAtMs: number
    }

/**
 * Appends the outcome of one pass of the acceptance pipeline. A second 'booked' row for the same payment hash or
 * the same (ATM, txId) violates a unique index and rolls the transaction back: booking is exactly-once here too.
 */
export function insertRecordOutcome(db: TxDb, a: RecordOutcomeArgs): { id: number } {
  const ev = a.event
  const booked = a.outcome !== 'rejected'
  const r = db.run(
    `INSERT INTO fleet_record_outcome
       (event_id, atm_pubkey, tx_id, payment_hash, created_at, outcome, reason, detail, retryable, raw_json, received_at_ms)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    [
      String(ev.id).slice(0, 64),
      String(ev.pubkey).slice(0, 64),
      booked ? a.record.txId : null,
      booked ? a.record.paymentHash : null,
      Number.isSafeInteger(ev.created_at) ? ev.created_at : 0,
      a.outcome,
      booked ? null : a.reason,
      booked ? null : a.detail.slice(0, 2000),
      !booked && a.retryable ? 1 : 0,
      JSON.stringify(ev).slice(0, 20_000),
      a.receivedAtMs,
    ],
  )
  return { id: r.lastInsertRowid }
}

for (const m of fleetMigrations) defineMigration(m)
export const fleetProcedures = {
  'fleet.storeSignedEvent': defineProcedure('fleet.storeSignedEvent', insertSignedEvent),
  'fleet.recordDelegation': defineProcedure('fleet.recordDelegation', insertDelegation),
  'fleet.recordOutcome': defineProcedure('fleet.recordOutcome', insertRecordOutcome),
}

// ---- reads (async, through the store) ----

async function signedEvents(store: LedgerStore, kind: number, pubkey: string, dLike: string): Promise<NostrEvent[]> {
  const rows = await store.query<{ raw_json: string }>(
    'SELECT raw_json FROM fleet_signed_event WHERE kind = ? AND pubkey = ? AND d LIKE ? ORDER BY created_at, event_id',
    [kind, pubkey, dLike],
  )
  return rows.map((r) => JSON.parse(r.raw_json) as NostrEvent)
}

/** Every stored roster version, re-verified on load (a stored row is never trusted blindly). */
export async function loadRosters(store: LedgerStore, operatorPubkey: string): Promise<Roster[]> {
  const evs = await signedEvents(store, KIND_FOLLOW_SET, operatorPubkey, 'satmachine:fleet')
  return evs.map((e) => parseRosterEvent(e, operatorPubkey))
}

/** Every stored config version (of one ATM, or of all), re-verified on load. */
export async function loadConfigs(
  store: LedgerStore,
  operatorPubkey: string,
  atmPubkey?: string,
): Promise<MachineConfig[]> {
  const evs = await signedEvents(store, KIND_APP_DATA, operatorPubkey, `satmachine:machine:${atmPubkey ?? '%'}`)
  return evs.map((e) => parseMachineConfigEvent(e, operatorPubkey))
}

/** Issued delegations, oldest first. */
export async function loadDelegations(store: LedgerStore): Promise<IssuedDelegation[]> {
  const rows = await store.query<{
    atm_pubkey: string
    delegator_pubkey: string
    conditions: string
    token: string
    created_after: number
    created_before: number
    issued_at: number
  }>('SELECT * FROM fleet_delegation ORDER BY id')
  return rows.map((r) => ({
    atmPubkey: r.atm_pubkey,
    delegatorPubkey: r.delegator_pubkey,
    conditions: r.conditions,
    token: r.token,
    createdAfter: r.created_after,
    createdBefore: r.created_before,
    issuedAt: r.issued_at,
  }))
}

/** True when the event reached a final outcome (booked, history, or a non-retryable rejection). */
export async function isEventKnown(store: LedgerStore, eventId: string): Promise<boolean> {
  const rows = await store.query(
    `SELECT 1 FROM fleet_record_outcome WHERE event_id = ? AND (outcome != 'rejected' OR retryable = 0) LIMIT 1`,
    [eventId],
  )
  return rows.length > 0
}

type BookedRow = { event_id: string; atm_pubkey: string; tx_id: string; payment_hash: string }
const toRef = (r: BookedRow): BookedRef => ({
  eventId: r.event_id,
  atmPubkey: r.atm_pubkey,
  txId: r.tx_id,
  paymentHash: r.payment_hash,
})

export async function bookedByPaymentHash(store: LedgerStore, paymentHash: string): Promise<BookedRef | null> {
  const rows = await store.query<BookedRow>(
    `SELECT event_id, atm_pubkey, tx_id, payment_hash FROM fleet_record_outcome WHERE outcome = 'booked' AND payment_hash = ?`,
    [paymentHash],
  )
  return rows[0] ? toRef(rows[0]) : null
}

export async function bookedVersionOf(store: LedgerStore, atmPubkey: string, txId: string): Promise<BookedRef | null> {
  const rows = await store.query<BookedRow>(
    `SELECT event_id, atm_pubkey, tx_id, payment_hash FROM fleet_record_outcome
     WHERE outcome = 'booked' AND atm_pubkey = ? AND tx_id = ?`,
    [atmPubkey, txId],
  )
  return rows[0] ? toRef(rows[0]) : null
}
