// Ledger procedures of the fleet service (docs/protocol.md, §6; docs/protocol.md §6, §7, §9): the relay cursor, the
// machine config → accounting machine/fee-config bridge, and the two outcomes of the acceptance pipeline
// (`fleet.acceptRecord` books a verified record, `fleet.rejectRecord` stores a rejection with its reason).
//
// Booking is exactly-once at this level, whatever the service did before: `fleet.acceptRecord` re-checks inside
// its one SQL transaction whether the payment hash or the (ATM, txId) pair is already booked, and the unique
// indexes of fleet_record_outcome and acct_settlement are the last guard. The tables themselves belong to
// ./store.ts (fleet) and ../accounting (settlements); this file only adds the cursor table.
import type { NostrEvent } from '../../src-shared/nostr/event'
import { type MachineConfig, parseMachineConfigEvent } from '../../src-shared/nostr/machine-config'
import { parseRosterEvent } from '../../src-shared/nostr/roster'
import type { RejectReason } from '../../src-shared/nostr/verify-record'
import { bookSettlement } from '../accounting/book'
import { setConfig, upsertMachine } from '../accounting/operations'
import { defineMigration, defineProcedure } from '../ledger/define'
import type { Migration, TxDb } from '../ledger/types'
import { insertSettlementProof, type SettlementProof } from '../settlements/schema'
import { FleetStoreError, insertRecordOutcome, insertSignedEvent } from './store'

/** Fleet migrations are 500–599; ./store.ts owns 500–519, the service's own tables start at 520. */
export const FLEET_SERVICE_SCHEMA_VERSION = 520

export const fleetServiceMigrations: Migration[] = [
  {
    version: FLEET_SERVICE_SCHEMA_VERSION,
    name: 'fleet: relay subscription cursors',
    up: (db: TxDb) => {
      // A cursor is a position, not a ledger fact: it is the one fleet row that is updated in place.
      db.run(`
CREATE TABLE fleet_cursor (
  key TEXT PRIMARY KEY,
  created_at INTEGER NOT NULL CHECK (created_at >= 0),
  updated_at_ms INTEGER NOT NULL
);`)
    },
  },
]

const str = (field: string, v: unknown, max = 200): string => {
  if (typeof v !== 'string' || v.length === 0 || v.length > max)
    throw new FleetStoreError(field, `must be a non-empty string of at most ${max} characters`)
  return v
}
const int = (field: string, v: unknown): number => {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0)
    throw new FleetStoreError(field, 'must be a non-negative integer')
  return v
}
const obj = (field: string, v: unknown): Record<string, unknown> => {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new FleetStoreError(field, 'must be an object')
  return v as Record<string, unknown>
}

// ---- cursor ----------------------------------------------------------------------------------------------------

/** Moves a cursor forward (never back: a late writer with an older position must not rewind it). */
export function setCursor(db: TxDb, raw: unknown): { createdAt: number } {
  const a = obj('args', raw)
  const key = str('key', a.key, 500)
  const createdAt = int('createdAt', a.createdAt)
  const atMs = int('atMs', a.atMs)
  db.run(
    `INSERT INTO fleet_cursor (key, created_at, updated_at_ms) VALUES (?, ?, ?)
     ON CONFLICT (key) DO UPDATE SET created_at = excluded.created_at, updated_at_ms = excluded.updated_at_ms
     WHERE excluded.created_at > fleet_cursor.created_at`,
    [key, createdAt, atMs],
  )
  const row = db.get<{ created_at: number }>('SELECT created_at FROM fleet_cursor WHERE key = ?', [key])
  return { createdAt: row?.created_at ?? createdAt }
}

// ---- operator-signed events ------------------------------------------------------------------------------------

export interface ApplyConfigArgs {
  /** A kind 30078 machine config event; re-verified here under `operatorPubkey`. */
  event: unknown
  operatorPubkey: string
  /** IANA zone for "local midnight" of LP daily limits (the operator's setting). */
  timeZone: string
  receivedAtMs: number
}

/**
 * Stores a machine config version and, when it is new, makes it the accounting side's machine and fee config in
 * force from the event's created_at (the same time rule the verifier uses), in one transaction.
 */
export function applyMachineConfig(db: TxDb, raw: unknown): { inserted: boolean; machineId: string } {
  const a = obj('args', raw)
  const operatorPubkey = str('operatorPubkey', a.operatorPubkey, 64)
  const receivedAtMs = int('receivedAtMs', a.receivedAtMs)
  let config: MachineConfig
  try {
    config = parseMachineConfigEvent(a.event as never, operatorPubkey)
  } catch (e) {
    throw new FleetStoreError('event', (e as Error).message)
  }
  const { inserted } = insertSignedEvent(db, { event: a.event as never, receivedAtMs })
  if (!inserted) return { inserted, machineId: config.machineId }
  upsertMachine(db, { id: config.machineId, name: config.name, currency: config.currency, atMs: receivedAtMs })
  setConfig(db, {
    machineId: config.machineId,
    effectiveFromMs: config.createdAt * 1000,
    atMs: receivedAtMs,
    cashOutPlatformPpm: config.fees.cash_out.platformPpm,
    cashOutOperatorPpm: config.fees.cash_out.operatorPpm,
    cashInPlatformPpm: config.fees.cash_in.platformPpm,
    cashInOperatorPpm: config.fees.cash_in.operatorPpm,
    discountPpm: config.discountPpm,
    timeZone: str('timeZone', a.timeZone, 64),
    author: `operator-config:${config.eventId}`,
    note: `machine config ${config.eventId} signed by ${operatorPubkey}`,
  })
  return { inserted, machineId: config.machineId }
}

/** Stores a roster version after re-verifying it under the operator key. */
export function storeRoster(db: TxDb, raw: unknown): { inserted: boolean } {
  const a = obj('args', raw)
  const operatorPubkey = str('operatorPubkey', a.operatorPubkey, 64)
  try {
    parseRosterEvent(a.event as never, operatorPubkey)
  } catch (e) {
    throw new FleetStoreError('event', (e as Error).message)
  }
  return insertSignedEvent(db, { event: a.event as never, receivedAtMs: int('receivedAtMs', a.receivedAtMs) })
}

// ---- record outcomes -------------------------------------------------------------------------------------------

export interface AcceptRecordArgs {
  /** The verified kind 30079 event (NIP-01 fields only). */
  event: NostrEvent
  txId: string
  machineId: string
  direction: 'cash_out' | 'cash_in'
  paymentHash: string
  /** Decimal strings: the values cross the worker boundary and the journal as JSON. */
  wireMsat: string
  fiatMinor: string
  fiatRequestedMinor: string
  currency: string
  claimedFeeMsat: string
  /** The record's feePpm / discountPpm against its signed machine config, when they differ (flags the settlement). */
  ratesMismatch?: string | null
  /** 'book' for a new settlement, 'history' for a further version of a booked transaction. */
  action: 'book' | 'history'
  atMs: number
  /** What verification established (wallet preimage, admitting roster), kept for the detail view. */
  proof?: SettlementProof
}

export type AcceptRecordResult =
  | { status: 'booked'; settlementId: number; feeMismatchFlagged: boolean }
  | { status: 'history' }
  /** This exact event already has a final outcome: nothing written. */
  | { status: 'duplicate' }
  | { status: 'rejected'; reason: RejectReason; detail: string }

type BookedRow = { event_id: string; atm_pubkey: string; tx_id: string }

/** Books (or keeps as history) a verified record; see the file comment for the exactly-once rule. */
export function acceptRecord(db: TxDb, raw: unknown): AcceptRecordResult {
  const a = obj('args', raw) as unknown as AcceptRecordArgs
  const ev = a.event
  str('event.id', ev?.id, 64)
  const atMs = int('atMs', a.atMs)
  const reject = (reason: RejectReason, detail: string): AcceptRecordResult => {
    insertRecordOutcome(db, { outcome: 'rejected', event: ev, reason, detail, retryable: false, receivedAtMs: atMs })
    return { status: 'rejected', reason, detail }
  }
  const final = db.get(
    `SELECT 1 AS x FROM fleet_record_outcome WHERE event_id = ? AND (outcome != 'rejected' OR retryable = 0) LIMIT 1`,
    [ev.id],
  )
  if (final) return { status: 'duplicate' }
  const record = { txId: a.txId, paymentHash: a.paymentHash }
  const byHash = db.get<BookedRow>(
    `SELECT event_id, atm_pubkey, tx_id FROM fleet_record_outcome WHERE outcome = 'booked' AND payment_hash = ?`,
    [a.paymentHash],
  )
  if (byHash) {
    // Another version of the same ATM transaction is history; any other claim on the payment is a replay.
    if (byHash.atm_pubkey === ev.pubkey && byHash.tx_id === a.txId) {
      insertRecordOutcome(db, { outcome: 'history', event: ev, record, receivedAtMs: atMs })
      return { status: 'history' }
    }
    return reject('duplicate_payment', `payment ${a.paymentHash} is booked for event ${byHash.event_id}`)
  }
  if (a.action === 'history') {
    // The booked version the verifier saw is gone from under us only if the ledger was rewritten: refuse.
    return reject('version_conflict', 'a history version arrived but no booked version exists for its payment')
  }
  const byTx = db.get<BookedRow>(
    `SELECT event_id FROM fleet_record_outcome WHERE outcome = 'booked' AND atm_pubkey = ? AND tx_id = ?`,
    [ev.pubkey, a.txId],
  )
  if (byTx) return reject('version_conflict', `transaction ${a.txId} was booked by event ${byTx.event_id}`)
  const booked = bookSettlement(db, {
    machineId: a.machineId,
    direction: a.direction,
    paymentHash: a.paymentHash,
    wireMsat: a.wireMsat,
    fiatMinor: a.fiatMinor,
    fiatRequestedMinor: a.fiatRequestedMinor,
    currency: a.currency,
    claimedFeeMsat: a.claimedFeeMsat,
    ratesMismatch: typeof a.ratesMismatch === 'string' ? a.ratesMismatch : null,
    atmEventId: ev.id,
    createdAt: ev.created_at,
    bookedAtMs: atMs,
    author: `atm:${ev.pubkey}`,
  })
  if (booked.duplicate) {
    // The accounting side already holds this payment hash from another path (an import, a manual entry).
    return reject('duplicate_payment', `payment ${a.paymentHash} is already settlement ${booked.settlementId}`)
  }
  if (booked.status === 'rejected') {
    // Accounting refused the money side (unknown machine, no fee config, engine input): final, nothing to pay.
    return reject('config_mismatch', `accounting refused the settlement: ${booked.reason ?? 'no reason given'}`)
  }
  insertRecordOutcome(db, { outcome: 'booked', event: ev, record, receivedAtMs: atMs })
  // What verification established (preimage, roster) for the settlement's detail view (issue 9).
  insertSettlementProof(db, a.proof)
  const flagged = db.get<{ f: number }>('SELECT fee_mismatch_flagged AS f FROM acct_settlement WHERE id = ?', [
    booked.settlementId,
  ])
  return { status: 'booked', settlementId: booked.settlementId, feeMismatchFlagged: flagged?.f === 1 }
}

export interface RejectRecordArgs {
  event: { id: string; pubkey: string; created_at: number }
  reason: RejectReason
  detail: string
  retryable: boolean
  atMs: number
}

/**
 * Stores a rejection. A retryable rejection is written once per (event, reason): a record retried every minute
 * while the wallet is down must not grow the table every minute.
 */
export function rejectRecord(db: TxDb, raw: unknown): { stored: boolean } {
  const a = obj('args', raw) as unknown as RejectRecordArgs
  const ev = obj('event', a.event) as unknown as RejectRecordArgs['event']
  const id = typeof ev.id === 'string' ? ev.id.slice(0, 64) : ''
  if (id.length === 0) throw new FleetStoreError('event.id', 'must be a string')
  const reason = str('reason', a.reason, 64) as RejectReason
  const seen = db.get(
    `SELECT 1 AS x FROM fleet_record_outcome WHERE event_id = ? AND (outcome != 'rejected' OR retryable = 0 OR reason = ?)
     LIMIT 1`,
    [id, reason],
  )
  if (seen) return { stored: false }
  insertRecordOutcome(db, {
    outcome: 'rejected',
    event: ev,
    reason,
    detail: typeof a.detail === 'string' ? a.detail : '',
    retryable: a.retryable === true,
    receivedAtMs: int('atMs', a.atMs),
  })
  return { stored: true }
}

for (const m of fleetServiceMigrations) defineMigration(m)
export const fleetServiceProcedures = {
  'fleet.setCursor': defineProcedure('fleet.setCursor', setCursor),
  'fleet.applyMachineConfig': defineProcedure('fleet.applyMachineConfig', applyMachineConfig),
  'fleet.storeRoster': defineProcedure('fleet.storeRoster', storeRoster),
  'fleet.acceptRecord': defineProcedure('fleet.acceptRecord', acceptRecord),
  'fleet.rejectRecord': defineProcedure('fleet.rejectRecord', rejectRecord),
}
