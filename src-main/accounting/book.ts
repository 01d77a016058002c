// Booking a verified ATM record as a settlement (docs/protocol.md "A record is booked only if all hold", §4 money rules).
// The fleet pipeline calls `accounting.bookSettlement` once the record passed every protocol check; this
// procedure applies the money checks, snapshots the fee configuration in force at the record's created_at, runs
// the settlement engine and books the result (legs, accruals, LP debits) in the same transaction. The payment
// hash is the idempotency key: booking the same record again returns the first booking and writes nothing.

import { isCurrency } from '../../src-shared/money/iso4217'
import { localDay } from '../../src-shared/money/local-day'
import {
  computeSettlement,
  type Direction,
  type LpInput,
  type SettlementInput,
  SettlementInputError,
  type SplitInput,
} from '../../src-shared/money/settlement'
import { settlementResultToJson } from '../../src-shared/money/settlement-json'
import type { Row, TxDb } from '../ledger/types'
import { amountArg, hashArg, intArg, msArg, objectArg, optionalAmountArg, optionalStringArg, stringArg } from './args'
import { addNote, big, lpBalance, lpUsedOnDay, type SettlementStatus, writeResult } from './entries'
import { inputError } from './errors'

const BIG = { bigint: true } as const

/** The fields of a verified ATM record that accounting needs. Amounts: bigint or decimal strings. */
export interface BookSettlementArgs {
  machineId: string
  direction: Direction
  paymentHash: string
  wireMsat: bigint | string
  fiatMinor: bigint | string
  /** Defaults to fiatMinor (no partial dispense). */
  fiatRequestedMinor?: bigint | string
  currency: string
  /** The fee the ATM claims (compared, never trusted). */
  claimedFeeMsat?: bigint | string
  /** The claimed fee fractions differ from the ATM's signed machine config (a sentence); flags the settlement. */
  ratesMismatch?: string | null
  /** Id of the kind 30079 event the record came in. */
  atmEventId: string
  /** The record's created_at, in seconds: selects the fee config in force and the LP's local day. */
  createdAt: number
  /** When the console books it (the caller's clock). */
  bookedAtMs: number
}

export interface BookSettlementResult {
  settlementId: number
  status: SettlementStatus
  /** True when this payment hash was booked before; nothing was written. */
  duplicate: boolean
  /** True for a duplicate whose money fields differ from the first booking (recorded as rejected). */
  conflict?: boolean
  reason?: string
  /** The engine result as JSON (decimal strings), for a booked (not rejected) settlement. */
  result?: unknown
}

export interface FeeConfigRow extends Row {
  seq: bigint
  machine_id: string | null
  cash_out_platform_ppm: bigint
  cash_out_operator_ppm: bigint
  cash_in_platform_ppm: bigint
  cash_in_operator_ppm: bigint
  discount_ppm: bigint
  splits_json: string
  time_zone: string
}

/** The fee config in force for `machineId` at `atMs`: the machine's own if it has one, else the fleet default. */
export function configInForce(db: TxDb, machineId: string, atMs: number): FeeConfigRow | undefined {
  const sql = (scope: string) =>
    `SELECT * FROM acct_config WHERE ${scope} AND effective_from_ms <= ? ORDER BY effective_from_ms DESC, seq DESC LIMIT 1`
  return (
    db.get<FeeConfigRow>(sql('machine_id = ?'), [machineId, atMs], BIG) ??
    db.get<FeeConfigRow>(sql('machine_id IS NULL'), [atMs], BIG)
  )
}

/** The LPs eligible at a machine, with their balances and what they may still take on `day`. */
export function eligibleLps(db: TxDb, machineId: string, currency: string, day: string): LpInput[] {
  const rows = db.all<{ id: string; mode: string; daily_limit_minor: bigint | null }>(
    `SELECT id, mode, daily_limit_minor FROM acct_lp
     WHERE active = 1 AND currency = ? AND (machine_id IS NULL OR machine_id = ?) ORDER BY id`,
    [currency, machineId],
    BIG,
  )
  return rows.map((r) => {
    const remainingMinor = lpBalance(db, r.id)
    if (r.mode === 'fixed') {
      return {
        id: r.id,
        mode: 'fixed',
        remainingMinor,
        dailyLimitMinor: big(r.daily_limit_minor),
        usedTodayMinor: lpUsedOnDay(db, r.id, day),
      }
    }
    return { id: r.id, mode: 'flow', remainingMinor }
  })
}

export function lpsToJson(lps: readonly LpInput[]): string {
  return JSON.stringify(
    lps.map((lp) =>
      lp.mode === 'fixed'
        ? {
            id: lp.id,
            mode: lp.mode,
            remainingMinor: String(lp.remainingMinor),
            dailyLimitMinor: String(lp.dailyLimitMinor),
            usedTodayMinor: String(lp.usedTodayMinor),
          }
        : { id: lp.id, mode: lp.mode, remainingMinor: String(lp.remainingMinor) },
    ),
  )
}

export function lpsFromJson(text: string): LpInput[] {
  const raw = JSON.parse(text) as Record<string, string>[]
  return raw.map((r) =>
    r.mode === 'fixed'
      ? {
          id: r.id!,
          mode: 'fixed',
          remainingMinor: BigInt(r.remainingMinor!),
          dailyLimitMinor: BigInt(r.dailyLimitMinor!),
          usedTodayMinor: BigInt(r.usedTodayMinor!),
        }
      : { id: r.id!, mode: 'flow', remainingMinor: BigInt(r.remainingMinor!) },
  )
}

function parseArgs(a: unknown) {
  const o = objectArg('args', a)
  const direction = o.direction
  if (direction !== 'cash_out' && direction !== 'cash_in') throw inputError('direction', 'must be cash_out or cash_in')
  const fiatMinor = amountArg('fiatMinor', o.fiatMinor)
  return {
    machineId: stringArg('machineId', o.machineId),
    direction: direction as Direction,
    paymentHash: hashArg('paymentHash', o.paymentHash),
    wireMsat: amountArg('wireMsat', o.wireMsat),
    fiatMinor,
    fiatRequestedMinor: optionalAmountArg('fiatRequestedMinor', o.fiatRequestedMinor) ?? fiatMinor,
    currency: stringArg('currency', o.currency, 8),
    claimedFeeMsat: optionalAmountArg('claimedFeeMsat', o.claimedFeeMsat, -(2n ** 63n - 1n)) ?? null,
    ratesMismatch: optionalStringArg('ratesMismatch', o.ratesMismatch ?? undefined, 2000) ?? null,
    atmEventId: stringArg('atmEventId', o.atmEventId),
    createdAt: intArg('createdAt', o.createdAt, 0, 2 ** 40),
    bookedAtMs: msArg('bookedAtMs', o.bookedAtMs),
    author: optionalStringArg('author', o.author, 200) ?? 'fleet',
  }
}

/** Books a verified record (see the file comment). Idempotent on the payment hash. */
export function bookSettlement(db: TxDb, rawArgs: unknown): BookSettlementResult {
  const a = parseArgs(rawArgs)
  const existing = db.get<{
    id: bigint
    status: SettlementStatus
    machine_id: string
    direction: string
    wire_msat: bigint
    fiat_minor: bigint
    fiat_requested_minor: bigint
    currency: string
  }>(
    `SELECT id, status, machine_id, direction, wire_msat, fiat_minor, fiat_requested_minor, currency
     FROM acct_settlement WHERE payment_hash = ?`,
    [a.paymentHash],
    BIG,
  )
  if (existing) {
    const same =
      existing.machine_id === a.machineId &&
      existing.direction === a.direction &&
      existing.wire_msat === a.wireMsat &&
      existing.fiat_minor === a.fiatMinor &&
      existing.fiat_requested_minor === a.fiatRequestedMinor &&
      existing.currency === a.currency
    if (!same) {
      const reason = `payment hash already booked as settlement ${existing.id} with different amounts`
      recordRejectedRow(db, {
        eventId: a.atmEventId,
        machineId: a.machineId,
        paymentHash: a.paymentHash,
        field: 'paymentHash',
        reason,
        payloadJson: null,
        receivedAtMs: a.bookedAtMs,
      })
      return { settlementId: Number(existing.id), status: existing.status, duplicate: true, conflict: true, reason }
    }
    return { settlementId: Number(existing.id), status: existing.status, duplicate: true }
  }

  const recordMs = a.createdAt * 1000
  const machine = db.get<{ currency: string }>('SELECT currency FROM acct_machine WHERE id = ?', [a.machineId])
  const config = machine ? configInForce(db, a.machineId, recordMs) : undefined
  let refusal: string | null = null
  if (!machine) refusal = `machineId: unknown machine ${a.machineId}`
  else if (!isCurrency(a.currency)) refusal = `currency: not an ISO 4217 code: ${a.currency}`
  else if (machine.currency !== a.currency)
    refusal = `currency: ${a.currency} but the machine settles in ${machine.currency}`
  else if (!config) refusal = 'config: no fee configuration in force at the record time'

  const insertSettlement = (status: SettlementStatus, reason: string | null, snap: Snapshot | null) =>
    db.run(
      `INSERT INTO acct_settlement (payment_hash, machine_id, direction, atm_event_id, record_created_at, booked_at_ms,
       wire_msat, fiat_minor, fiat_requested_minor, currency, claimed_fee_msat, config_seq, platform_ppm,
       operator_ppm, discount_ppm, splits_json, lps_json, time_zone, local_day, fee_mismatch_msat,
       fee_mismatch_flagged, status, reason, status_changed_at_ms, generation)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)`,
      [
        a.paymentHash,
        a.machineId,
        a.direction,
        a.atmEventId,
        a.createdAt,
        a.bookedAtMs,
        a.wireMsat,
        a.fiatMinor,
        a.fiatRequestedMinor,
        a.currency,
        a.claimedFeeMsat,
        snap?.configSeq ?? null,
        snap?.input.platformPpm ?? null,
        snap?.input.operatorPpm ?? null,
        snap?.input.discountPpm ?? null,
        snap ? JSON.stringify(snap.input.splits) : null,
        snap ? lpsToJson(snap.input.lps) : null,
        snap?.timeZone ?? null,
        snap?.day ?? null,
        snap?.mismatchMsat ?? null,
        snap?.mismatchFlagged ? 1 : 0,
        status,
        reason,
        a.bookedAtMs,
      ],
    ).lastInsertRowid

  const reject = (reason: string): BookSettlementResult => {
    const id = insertSettlement('rejected', reason, null)
    db.run(
      `INSERT INTO acct_settlement_event (settlement_id, from_status, to_status, reason, author, at_ms)
       VALUES (?, NULL, 'rejected', ?, ?, ?)`,
      [id, reason, a.author, a.bookedAtMs],
    )
    return { settlementId: id, status: 'rejected', duplicate: false, reason }
  }
  if (refusal || !config) return reject(refusal ?? 'config missing')

  const day = localDay(recordMs, config.time_zone)
  const out = a.direction === 'cash_out'
  const input: SettlementInput = {
    direction: a.direction,
    wireMsat: a.wireMsat,
    fiatMinor: a.fiatMinor,
    fiatRequestedMinor: a.fiatRequestedMinor,
    currency: a.currency,
    platformPpm: Number(out ? config.cash_out_platform_ppm : config.cash_in_platform_ppm),
    operatorPpm: Number(out ? config.cash_out_operator_ppm : config.cash_in_operator_ppm),
    discountPpm: Number(config.discount_ppm),
    splits: JSON.parse(config.splits_json) as SplitInput[],
    lps: out ? eligibleLps(db, a.machineId, a.currency, day) : [],
  }
  if (a.claimedFeeMsat !== null) input.claimedFeeMsat = a.claimedFeeMsat
  let result: ReturnType<typeof computeSettlement>
  try {
    result = computeSettlement(input)
  } catch (e) {
    if (e instanceof SettlementInputError) return reject(e.message)
    throw e
  }
  const snap: Snapshot = {
    configSeq: Number(config.seq),
    input,
    timeZone: config.time_zone,
    day,
    mismatchMsat: result.feeMismatch?.msat ?? null,
    // Claimed fee fractions that differ from the signed config flag the settlement like a claimed fee in msat does.
    mismatchFlagged: (result.feeMismatch?.flagged ?? false) || a.ratesMismatch !== null,
  }
  const id = insertSettlement('pending', null, snap)
  db.run(
    `INSERT INTO acct_settlement_event (settlement_id, from_status, to_status, reason, author, at_ms)
     VALUES (?, NULL, 'pending', NULL, ?, ?)`,
    [id, a.author, a.bookedAtMs],
  )
  writeResult(
    db,
    { settlementId: id, generation: 0, direction: a.direction, localDay: day, author: a.author },
    result,
    a.fiatMinor,
    a.bookedAtMs,
  )
  if (a.ratesMismatch !== null)
    addNote(db, { settlementId: id, author: a.author, text: a.ratesMismatch, system: true, atMs: a.bookedAtMs })
  return { settlementId: id, status: 'pending', duplicate: false, result: settlementResultToJson(result) }
}

interface Snapshot {
  configSeq: number
  input: SettlementInput
  timeZone: string
  day: string
  mismatchMsat: bigint | null
  mismatchFlagged: boolean
}

export function recordRejectedRow(
  db: TxDb,
  r: {
    eventId: string | null
    machineId: string | null
    paymentHash: string | null
    field: string | null
    reason: string
    payloadJson: string | null
    receivedAtMs: number
  },
): number {
  return db.run(
    `INSERT INTO acct_rejected (event_id, machine_id, payment_hash, field, reason, payload_json, received_at_ms)
     VALUES (?, ?, ?, ?, ?, ?, ?)`,
    [r.eventId, r.machineId, r.paymentHash, r.field, r.reason, r.payloadJson, r.receivedAtMs],
  ).lastInsertRowid
}
