// Ledger procedures of the payouts module (docs/settlement.md "Payouts"; src-main/payouts/README.md). Each
// state transition of src-shared/payouts/state-machine.ts is one procedure, i.e. one journaled ledger
// transaction, and the runner publishes nothing before the procedure's promise resolved (journal fsynced).
// Registered with the ledger on import (src-main/ledger/registry.ts imports this file); services call
// `store.call('payouts.markSending', args)` and so on.
//
// Money: a payout is planned from a recipient's accrual (acct_accrual, written by accounting) when the part not
// yet reserved by an open payout reaches the recipient's threshold, in whole sats; the sub-sat remainder stays
// accrued. Only the `paid` transition posts to the money ledger: in the same transaction it appends the negative
// accrual for the amount and marks the legs the recipient's payouts now cover (FIFO), so the accrual plus every
// paid payout always equals the legs booked for the recipient.

import { FieldError } from '../../src-shared/field-error'
import {
  type LookupVerdict,
  markFailedFinal,
  markFailedRetryable,
  markPaid,
  markSending,
  markUnknown,
  type Payout,
  type PayoutState,
  type PayoutTransition,
  reconcileUnknown,
  resumeSending,
  scheduleRetry,
} from '../../src-shared/payouts/state-machine'
import { appendAccrual, big, type RecipientKind, recipientAccrual } from '../accounting/entries'
import { defineMigration, defineProcedure } from '../ledger/define'
import type { Procedure, SqlValue, TxDb } from '../ledger/types'
import { payoutMigrations } from './schema'

const BIG = { bigint: true } as const
const HEX64 = /^[0-9a-f]{64}$/

/** Bad procedure arguments: names the field. */
export class PayoutArgError extends FieldError {
  override readonly name = 'PayoutArgError'
}

/** A payout the procedure was asked about does not exist, or its state forbids what was asked. */
export class PayoutStateError extends Error {
  constructor(
    readonly field: string,
    readonly code: 'E_NOT_FOUND' | 'E_STATE' | 'E_CONFLICT',
    why: string,
  ) {
    super(why)
    this.name = 'PayoutStateError'
  }
}

// ---- argument checks -------------------------------------------------------------------------------------------

type Obj = Record<string, unknown>
function obj(raw: unknown): Obj {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new PayoutArgError('args', 'must be an object')
  return raw as Obj
}
function str(a: Obj, field: string, max = 10_000): string {
  const v = a[field]
  if (typeof v !== 'string' || v.length === 0 || v.length > max) {
    throw new PayoutArgError(field, `must be a non-empty string of at most ${max} characters`)
  }
  return v
}
function optStr(a: Obj, field: string, max = 2000): string | null {
  return a[field] === undefined || a[field] === null ? null : str(a, field, max)
}
function int(a: Obj, field: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const v = a[field]
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) {
    throw new PayoutArgError(field, `must be an integer in [${min}, ${max}]`)
  }
  return v
}
function msat(a: Obj, field: string, min = 0n): bigint {
  const v = a[field]
  let b: bigint
  if (typeof v === 'bigint') b = v
  else if (typeof v === 'string' && /^-?\d{1,20}$/.test(v)) b = BigInt(v)
  else throw new PayoutArgError(field, 'must be a bigint or a decimal string (msat)')
  if (b < min) throw new PayoutArgError(field, `must be at least ${min}`)
  return b
}
function optMsat(a: Obj, field: string): bigint | null {
  return a[field] === undefined || a[field] === null ? null : msat(a, field)
}
function hex64(a: Obj, field: string): string {
  const v = a[field]
  if (typeof v !== 'string' || !HEX64.test(v)) throw new PayoutArgError(field, 'must be 64 lowercase hex')
  return v
}
function recipientKind(a: Obj, field = 'recipientKind'): RecipientKind {
  const v = a[field]
  if (v !== 'platform' && v !== 'split' && v !== 'lp') throw new PayoutArgError(field, 'must be platform, split or lp')
  return v
}
function verdict(a: Obj, field: string): LookupVerdict {
  const v = obj(a[field])
  const status = v.status
  if (status === 'paid') return { status, preimage: hex64(v, 'preimage'), feesPaidMsat: optMsat(v, 'feesPaidMsat') }
  if (status === 'pending') return { status }
  if (status === 'not_paid' || status === 'unverifiable') return { status, reason: str(v, 'reason', 500) }
  throw new PayoutArgError(`${field}.status`, 'must be paid, pending, not_paid or unverifiable')
}

// ---- rows ------------------------------------------------------------------------------------------------------

interface PayoutRow {
  [k: string]: SqlValue
  id: string
  recipient_kind: string
  recipient_id: string
  amount_msat: bigint
  max_fee_msat: bigint
  connection_id: string
  state: PayoutState
  bolt11: string | null
  payment_hash: string | null
  attempt: bigint
  request_id: string | null
  request_json: string | null
  request_expires_at_sec: bigint | null
  preimage: string | null
  fees_paid_msat: bigint | null
  reason: string | null
  error_code: string | null
  next_attempt_at_ms: bigint | null
  updated_at_ms: bigint
}

const num = (v: bigint | null): number | null => (v === null ? null : Number(v))

export function toPayout(r: PayoutRow): Payout {
  return {
    id: r.id,
    state: r.state,
    recipientKind: r.recipient_kind,
    recipientId: r.recipient_id,
    amountMsat: big(r.amount_msat),
    maxFeeMsat: big(r.max_fee_msat),
    connectionId: r.connection_id,
    bolt11: r.bolt11,
    paymentHash: r.payment_hash,
    attempt: Number(r.attempt),
    requestId: r.request_id,
    requestJson: r.request_json,
    requestExpiresAtSec: num(r.request_expires_at_sec),
    preimage: r.preimage,
    feesPaidMsat: r.fees_paid_msat === null ? null : big(r.fees_paid_msat),
    reason: r.reason,
    errorCode: r.error_code,
    nextAttemptAtMs: num(r.next_attempt_at_ms),
    updatedAtMs: Number(r.updated_at_ms),
  }
}

export function loadPayout(db: TxDb, id: string): Payout {
  const r = db.get<PayoutRow>('SELECT * FROM payout WHERE id = ?', [id], BIG)
  if (!r) throw new PayoutStateError('payoutId', 'E_NOT_FOUND', `no payout ${id}`)
  return toPayout(r)
}

/** Writes the transition's result and its history row; `extra` sets further columns in the same UPDATE. */
function save(
  db: TxDb,
  before: Payout,
  after: Payout,
  t: PayoutTransition,
  extra: Record<string, bigint | number | null> = {},
): void {
  const cols: Record<string, string | number | bigint | null> = {
    state: after.state,
    bolt11: after.bolt11,
    payment_hash: after.paymentHash,
    attempt: after.attempt,
    request_id: after.requestId,
    request_json: after.requestJson,
    request_expires_at_sec: after.requestExpiresAtSec,
    preimage: after.preimage,
    fees_paid_msat: after.feesPaidMsat,
    reason: after.reason,
    error_code: after.errorCode,
    next_attempt_at_ms: after.nextAttemptAtMs,
    updated_at_ms: after.updatedAtMs,
    ...extra,
  }
  const names = Object.keys(cols)
  const r = db.run(`UPDATE payout SET ${names.map((n) => `${n} = ?`).join(', ')} WHERE id = ? AND state = ?`, [
    ...names.map((n) => cols[n]!),
    before.id,
    before.state,
  ])
  if (r.changes !== 1) throw new PayoutStateError('payoutId', 'E_CONFLICT', `payout ${before.id} changed under us`)
  db.run(
    'INSERT INTO payout_event (payout_id, transition, from_state, to_state, code, reason, at_ms) VALUES (?, ?, ?, ?, ?, ?, ?)',
    [before.id, t, before.state, after.state, after.errorCode, after.reason, after.updatedAtMs],
  )
}

export interface PayoutView {
  id: string
  state: PayoutState
  recipientKind: string
  recipientId: string
  amountMsat: string
  maxFeeMsat: string
  connectionId: string
  attempt: number
  paymentHash: string | null
  requestId: string | null
  reason: string | null
  errorCode: string | null
  feesPaidMsat: string | null
  nextAttemptAtMs: number | null
}

export function viewOf(p: Payout): PayoutView {
  return {
    id: p.id,
    state: p.state,
    recipientKind: p.recipientKind,
    recipientId: p.recipientId,
    amountMsat: p.amountMsat.toString(),
    maxFeeMsat: p.maxFeeMsat.toString(),
    connectionId: p.connectionId,
    attempt: p.attempt,
    paymentHash: p.paymentHash,
    requestId: p.requestId,
    reason: p.reason,
    errorCode: p.errorCode,
    feesPaidMsat: p.feesPaidMsat === null ? null : p.feesPaidMsat.toString(),
    nextAttemptAtMs: p.nextAttemptAtMs,
  }
}

// ---- recipients and planning -------------------------------------------------------------------------------------

/** Sets a recipient's payout policy: threshold (≥ 1 sat), schedule (minimum interval), fee cap and destination. */
export const setRecipient: Procedure<unknown, { ok: true }> = (db, raw) => {
  const a = obj(raw)
  const kind = recipientKind(a)
  const id = str(a, 'recipientId', 200)
  const threshold = msat(a, 'thresholdMsat', 1000n)
  const interval = int(a, 'minIntervalMs')
  const feeBase = msat(a, 'maxFeeBaseMsat')
  const feePpm = int(a, 'maxFeePpm', 0, 1_000_000)
  const destination = a.destination === undefined ? '{}' : JSON.stringify(a.destination)
  if (destination.length > 10_000) throw new PayoutArgError('destination', 'longer than 10,000 characters as JSON')
  const active = a.active === false ? 0 : 1
  const atMs = int(a, 'atMs')
  db.run(
    `INSERT INTO payout_recipient (recipient_kind, recipient_id, threshold_msat, min_interval_ms, max_fee_base_msat,
       max_fee_ppm, destination_json, active, updated_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (recipient_kind, recipient_id) DO UPDATE SET threshold_msat = excluded.threshold_msat,
       min_interval_ms = excluded.min_interval_ms, max_fee_base_msat = excluded.max_fee_base_msat,
       max_fee_ppm = excluded.max_fee_ppm, destination_json = excluded.destination_json, active = excluded.active,
       updated_at_ms = excluded.updated_at_ms`,
    [kind, id, threshold, interval, feeBase, feePpm, destination, active, atMs],
  )
  return { ok: true }
}

/** msat of a recipient's accrual held by payouts that may still be paid (or await an operator on the worklist). */
function reservedMsat(db: TxDb, kind: string, id: string): bigint {
  const r = db.get(
    `SELECT COALESCE(SUM(amount_msat), 0) AS s FROM payout WHERE recipient_kind = ? AND recipient_id = ?
     AND (state IN ('planned', 'sending', 'failed_retryable', 'unknown') OR (state = 'failed_final' AND released_at_ms IS NULL))`,
    [kind, id],
    BIG,
  )
  return big(r?.s)
}

/**
 * Plans the payouts that are due on connection `connectionId`: for every active recipient with no open payout,
 * whose schedule allows one now, and whose unreserved accrual reaches its threshold, one payout of the whole sats
 * of that accrual. Returns the new payouts.
 */
export const plan: Procedure<unknown, PayoutView[]> = (db, raw) => {
  const a = obj(raw)
  const nowMs = int(a, 'nowMs')
  const connectionId = str(a, 'connectionId', 200)
  const recipients = db.all<{
    recipient_kind: string
    recipient_id: string
    threshold_msat: bigint
    min_interval_ms: bigint
    max_fee_base_msat: bigint
    max_fee_ppm: bigint
  }>(
    // A recipient whose destination was removed (`{}`) is not planned: its sats keep accruing and wait on the
    // worklist (waiting.ts) instead of failing through the retries to failed_final.
    "SELECT * FROM payout_recipient WHERE active = 1 AND destination_json <> '{}' ORDER BY recipient_kind, recipient_id",
    [],
    BIG,
  )
  const out: PayoutView[] = []
  for (const r of recipients) {
    const kind = r.recipient_kind as RecipientKind
    const id = r.recipient_id
    if (reservedMsat(db, kind, id) > 0n) continue // one open payout per recipient
    const last = db.get(
      'SELECT MAX(planned_at_ms) AS t, MAX(seq) AS s FROM payout WHERE recipient_kind = ? AND recipient_id = ?',
      [kind, id],
      BIG,
    )
    if (last?.t !== null && last?.t !== undefined && big(last.t) + big(r.min_interval_ms) > BigInt(nowMs)) continue
    const available = recipientAccrual(db, kind, id)
    if (available < big(r.threshold_msat)) continue
    const amount = available - (available % 1000n)
    if (amount <= 0n) continue
    const maxFee = big(r.max_fee_base_msat) + (amount * big(r.max_fee_ppm)) / 1_000_000n
    const seq = Number(big(last?.s)) + 1
    const pid = `po:${kind}:${id}:${seq}`
    db.run(
      `INSERT INTO payout (id, recipient_kind, recipient_id, seq, amount_msat, max_fee_msat, connection_id, state,
         attempt, planned_at_ms, updated_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, 'planned', 1, ?, ?)`,
      [pid, kind, id, seq, amount, maxFee, connectionId, nowMs, nowMs],
    )
    db.run(
      `INSERT INTO payout_event (payout_id, transition, from_state, to_state, reason, at_ms)
       VALUES (?, 'plan', NULL, 'planned', ?, ?)`,
      [pid, `accrued ${available} msat; paying ${amount} msat, ${available - amount} msat stay accrued`, nowMs],
    )
    out.push(viewOf(loadPayout(db, pid)))
  }
  return out
}

/** Stores the invoice a planned payout will pay, before any request for it is built. */
export const attachInvoice: Procedure<unknown, PayoutView> = (db, raw) => {
  const a = obj(raw)
  const p = loadPayout(db, str(a, 'payoutId'))
  const bolt11 = str(a, 'bolt11', 8000)
  const paymentHash = hex64(a, 'paymentHash')
  const amount = msat(a, 'amountMsat', 1n)
  const nowMs = int(a, 'nowMs')
  if (p.state !== 'planned') throw new PayoutStateError('payoutId', 'E_STATE', `payout ${p.id} is ${p.state}`)
  if (p.bolt11 !== null) throw new PayoutStateError('payoutId', 'E_STATE', `payout ${p.id} already has an invoice`)
  if (amount !== p.amountMsat) {
    throw new PayoutArgError('amountMsat', `invoice is for ${amount} msat, the payout for ${p.amountMsat} msat`)
  }
  if (db.get('SELECT 1 AS x FROM payout_invoice WHERE payment_hash = ?', [paymentHash])) {
    throw new PayoutStateError('paymentHash', 'E_CONFLICT', `payment hash ${paymentHash} was already used by a payout`)
  }
  db.run(
    'INSERT INTO payout_invoice (payment_hash, payout_id, attempt, bolt11, amount_msat, created_at_ms) VALUES (?, ?, ?, ?, ?, ?)',
    [paymentHash, p.id, p.attempt, bolt11, amount, nowMs],
  )
  const r = db.run(
    'UPDATE payout SET bolt11 = ?, payment_hash = ?, updated_at_ms = ? WHERE id = ? AND state = ? AND bolt11 IS NULL',
    [bolt11, paymentHash, nowMs, p.id, 'planned'],
  )
  if (r.changes !== 1) throw new PayoutStateError('payoutId', 'E_CONFLICT', `payout ${p.id} changed under us`)
  return viewOf(loadPayout(db, p.id))
}

// ---- transitions (one procedure each) ---------------------------------------------------------------------------

export const markSendingProc: Procedure<unknown, PayoutView> = (db, raw) => {
  const a = obj(raw)
  const p = loadPayout(db, str(a, 'payoutId'))
  const requestId = hex64(a, 'requestId')
  const requestJson = str(a, 'requestJson', 100_000)
  const requestExpiresAtSec = int(a, 'requestExpiresAtSec')
  const nowMs = int(a, 'nowMs')
  // The invoice the signed request pays, when the caller names it: it must be the one stored. The runner names it
  // because it hands this call to the ledger right behind attachInvoice without waiting for that one's fsync
  // (commits keep message order, so this record is journaled after it); should the attach have been refused, this
  // refuses too, and a request that pays some other invoice is never stored, let alone published.
  if (a.bolt11 !== undefined && str(a, 'bolt11', 8000) !== p.bolt11) {
    throw new PayoutStateError('bolt11', 'E_CONFLICT', `payout ${p.id} holds a different invoice than the request pays`)
  }
  const next = markSending(p, { requestId, requestJson, requestExpiresAtSec, nowMs })
  db.run(
    `INSERT INTO payout_request (request_id, payout_id, attempt, bolt11, payment_hash, request_json, expires_at_sec,
       created_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    [requestId, p.id, p.attempt, p.bolt11, p.paymentHash, requestJson, requestExpiresAtSec, nowMs],
  )
  save(db, p, next, 'markSending')
  return viewOf(next)
}

/**
 * Posts a paid payout: the negative accrual for its amount and the legs it covers, in this same transaction.
 * Legs of the recipient are marked paid in booking order while the recipient's paid total covers them whole; a
 * leg only partly covered stays unpaid until a later payout covers the rest. The running totals (all paid
 * payouts, all legs marked) ride on each paid payout row, so posting costs the same however long the history.
 */
function postPaid(db: TxDb, p: Payout, atMs: number): Record<string, bigint | number> {
  const kind = p.recipientKind as RecipientKind
  appendAccrual(db, { kind, recipientId: p.recipientId, deltaMsat: -p.amountMsat, atMs })
  const accrualId = Number(db.get<{ id: bigint }>('SELECT last_insert_rowid() AS id', [], BIG)!.id)
  const legKind = kind === 'platform' ? 'platform_fee' : kind
  const prev = db.get<{ paid: bigint; legs: bigint }>(
    `SELECT paid_cum_msat AS paid, legs_cum_msat AS legs FROM payout
     WHERE recipient_kind = ? AND recipient_id = ? AND state = 'paid' ORDER BY accrual_id DESC LIMIT 1`,
    [kind, p.recipientId],
    BIG,
  )
  const paidCum = big(prev?.paid) + p.amountMsat
  let legsCum = big(prev?.legs)
  let budget = paidCum - legsCum
  // Live legs only: a reversed leg and its reversal net to nothing and are never paid. (`+`: see liveLegs in
  // accounting/entries.ts — keeps the planner on payout_leg_unpaid.)
  const legs = db.all<{ id: bigint; msat: bigint }>(
    `SELECT id, msat FROM acct_leg l WHERE recipient_id = ? AND kind = ? AND paid_ref IS NULL AND msat > 0
       AND +reverses_leg_id IS NULL AND NOT EXISTS (SELECT 1 FROM acct_leg r WHERE r.reverses_leg_id = l.id)
     ORDER BY id`,
    [p.recipientId, legKind],
    BIG,
  )
  for (const l of legs) {
    if (big(l.msat) > budget) break
    budget -= big(l.msat)
    legsCum += big(l.msat)
    db.run('UPDATE acct_leg SET paid_ref = ?, paid_at_ms = ? WHERE id = ? AND paid_ref IS NULL', [
      `payout:${p.id}`,
      atMs,
      Number(l.id),
    ])
  }
  return { accrual_id: accrualId, paid_cum_msat: paidCum, legs_cum_msat: legsCum }
}

export const markPaidProc: Procedure<unknown, PayoutView> = (db, raw) => {
  const a = obj(raw)
  const p = loadPayout(db, str(a, 'payoutId'))
  const nowMs = int(a, 'nowMs')
  const via = a.via === 'lookup' ? 'lookup' : 'response'
  const next = markPaid(p, { preimage: hex64(a, 'preimage'), feesPaidMsat: optMsat(a, 'feesPaidMsat'), nowMs, via })
  save(db, p, next, 'markPaid', postPaid(db, p, nowMs))
  if (next.errorCode === 'FEE_EXCEEDED') alertRow(db, 'fee_exceeded', p.connectionId, p.id, next.reason!, nowMs)
  return viewOf(next)
}

export const markFailedRetryableProc: Procedure<unknown, PayoutView> = (db, raw) => {
  const a = obj(raw)
  const p = loadPayout(db, str(a, 'payoutId'))
  const next = markFailedRetryable(p, {
    code: str(a, 'code', 100),
    reason: str(a, 'reason', 2000),
    nextAttemptAtMs: int(a, 'nextAttemptAtMs'),
    nowMs: int(a, 'nowMs'),
  })
  save(db, p, next, 'markFailedRetryable')
  return viewOf(next)
}

export const markFailedFinalProc: Procedure<unknown, PayoutView> = (db, raw) => {
  const a = obj(raw)
  const p = loadPayout(db, str(a, 'payoutId'))
  const next = markFailedFinal(p, { code: str(a, 'code', 100), reason: str(a, 'reason', 2000), nowMs: int(a, 'nowMs') })
  save(db, p, next, 'markFailedFinal')
  return viewOf(next)
}

export const markUnknownProc: Procedure<unknown, PayoutView> = (db, raw) => {
  const a = obj(raw)
  const p = loadPayout(db, str(a, 'payoutId'))
  const code = optStr(a, 'code', 100)
  const next = markUnknown(p, {
    reason: str(a, 'reason', 2000),
    ...(code === null ? {} : { code }),
    checkAtMs: int(a, 'checkAtMs'),
    nowMs: int(a, 'nowMs'),
  })
  save(db, p, next, 'markUnknown')
  return viewOf(next)
}

export const resumeSendingProc: Procedure<unknown, PayoutView> = (db, raw) => {
  const a = obj(raw)
  const p = loadPayout(db, str(a, 'payoutId'))
  const next = resumeSending(p, { nowSec: int(a, 'nowSec'), nowMs: int(a, 'nowMs') })
  save(db, p, next, 'resumeSending')
  return viewOf(next)
}

export const reconcileUnknownProc: Procedure<unknown, PayoutView> = (db, raw) => {
  const a = obj(raw)
  const p = loadPayout(db, str(a, 'payoutId'))
  const nowMs = int(a, 'nowMs')
  const next = reconcileUnknown(p, {
    verdict: verdict(a, 'verdict'),
    nowMs,
    nowSec: int(a, 'nowSec'),
    recheckAtMs: int(a, 'recheckAtMs'),
    retryAtMs: int(a, 'retryAtMs'),
  })
  const extra = next.state === 'paid' ? postPaid(db, p, nowMs) : {}
  save(db, p, next, 'reconcileUnknown', extra)
  return viewOf(next)
}

export const scheduleRetryProc: Procedure<unknown, PayoutView> = (db, raw) => {
  const a = obj(raw)
  const p = loadPayout(db, str(a, 'payoutId'))
  const next = scheduleRetry(p, {
    nowMs: int(a, 'nowMs'),
    lookup: verdict(a, 'lookup'),
    newInvoice: a.newInvoice === true,
  })
  save(db, p, next, 'scheduleRetry')
  return viewOf(next)
}

// ---- pause, alerts, worklist -------------------------------------------------------------------------------------

function alertRow(
  db: TxDb,
  kind: string,
  connectionId: string | null,
  payoutId: string | null,
  message: string,
  atMs: number,
  data?: unknown,
): number {
  return db.run(
    'INSERT INTO payout_alert (kind, connection_id, payout_id, message, data_json, at_ms) VALUES (?, ?, ?, ?, ?, ?)',
    [kind, connectionId, payoutId, message, data === undefined ? null : JSON.stringify(data), atMs],
  ).lastInsertRowid
}

/** Pauses payouts on a connection and records the operator alert that says why, in one transaction. */
export const pause: Procedure<unknown, { alertId: number }> = (db, raw) => {
  const a = obj(raw)
  const connectionId = str(a, 'connectionId', 200)
  const reason = str(a, 'reason', 2000)
  const nowMs = int(a, 'nowMs')
  const kind = str(a, 'kind', 100)
  db.run(
    `INSERT INTO payout_control (connection_id, paused, reason, changed_at_ms, changed_by) VALUES (?, 1, ?, ?, ?)
     ON CONFLICT (connection_id) DO UPDATE SET paused = 1, reason = excluded.reason,
       changed_at_ms = excluded.changed_at_ms, changed_by = excluded.changed_by`,
    [connectionId, reason, nowMs, optStr(a, 'author', 200) ?? 'payout-runner'],
  )
  return { alertId: alertRow(db, kind, connectionId, optStr(a, 'payoutId', 300), reason, nowMs, a.data) }
}

/** The operator resumes payouts on a connection (after topping up, raising a budget, fixing permissions). */
export const resume: Procedure<unknown, { ok: true }> = (db, raw) => {
  const a = obj(raw)
  const connectionId = str(a, 'connectionId', 200)
  db.run(
    `INSERT INTO payout_control (connection_id, paused, reason, changed_at_ms, changed_by) VALUES (?, 0, NULL, ?, ?)
     ON CONFLICT (connection_id) DO UPDATE SET paused = 0, reason = NULL, changed_at_ms = excluded.changed_at_ms,
       changed_by = excluded.changed_by`,
    [connectionId, int(a, 'nowMs'), str(a, 'author', 200)],
  )
  return { ok: true }
}

/**
 * The operator takes a failed_final payout off the worklist. Its amount is no longer reserved, so the recipient's
 * accrual is planned again (on the same or, after a connection change, another connection). Refused for a payout
 * whose outcome the wallet could not prove (UNVERIFIABLE) unless `acceptUnpaid` says the operator checked.
 */
export const release: Procedure<unknown, PayoutView> = (db, raw) => {
  const a = obj(raw)
  const p = loadPayout(db, str(a, 'payoutId'))
  const nowMs = int(a, 'nowMs')
  if (p.state !== 'failed_final') throw new PayoutStateError('payoutId', 'E_STATE', `payout ${p.id} is ${p.state}`)
  if (p.errorCode === 'UNVERIFIABLE' && a.acceptUnpaid !== true) {
    throw new PayoutArgError('acceptUnpaid', 'the wallet could not prove this payout unpaid; confirm explicitly')
  }
  const r = db.run(
    'UPDATE payout SET released_at_ms = ?, released_by = ?, released_note = ?, updated_at_ms = ? WHERE id = ? AND released_at_ms IS NULL',
    [nowMs, str(a, 'author', 200), optStr(a, 'note'), nowMs, p.id],
  )
  if (r.changes !== 1) throw new PayoutStateError('payoutId', 'E_STATE', `payout ${p.id} is already released`)
  db.run(
    `INSERT INTO payout_event (payout_id, transition, from_state, to_state, code, reason, at_ms)
     VALUES (?, 'release', 'failed_final', 'failed_final', ?, ?, ?)`,
    [p.id, p.errorCode, `released by ${str(a, 'author', 200)}`, nowMs],
  )
  return viewOf(loadPayout(db, p.id))
}

export interface PayoutWorklist {
  items: Array<PayoutView & { worklistReason: string }>
  paused: Array<{ connectionId: string; reason: string | null; changedAtMs: number }>
  alerts: Array<{ id: number; kind: string; message: string; atMs: number }>
}

/** Payouts that need a human (failed_final not released, unknown) and paused connections, with reasons. */
export const worklist: Procedure<unknown, PayoutWorklist> = (db, raw) => {
  const a = raw === undefined ? {} : obj(raw)
  const alertLimit = a.alertLimit === undefined ? 50 : int(a, 'alertLimit', 1, 1000)
  const rows = db.all<PayoutRow>(
    `SELECT * FROM payout WHERE (state = 'failed_final' AND released_at_ms IS NULL) OR state = 'unknown' ORDER BY updated_at_ms, id`,
    [],
    BIG,
  )
  return {
    items: rows.map((r) => {
      const p = toPayout(r)
      return { ...viewOf(p), worklistReason: `${p.errorCode ?? p.state}: ${p.reason ?? ''}` }
    }),
    paused: db
      .all<{ connection_id: string; reason: string | null; changed_at_ms: number }>(
        'SELECT * FROM payout_control WHERE paused = 1 ORDER BY connection_id',
      )
      .map((r) => ({ connectionId: r.connection_id, reason: r.reason, changedAtMs: Number(r.changed_at_ms) })),
    alerts: db
      .all<{ id: number; kind: string; message: string; at_ms: number }>(
        'SELECT id, kind, message, at_ms FROM payout_alert ORDER BY id DESC LIMIT ?',
        [alertLimit],
      )
      .map((r) => ({ id: Number(r.id), kind: r.kind, message: r.message, atMs: Number(r.at_ms) })),
  }
}

export const payoutProcedures: Record<string, Procedure> = {
  'payouts.setRecipient': setRecipient,
  'payouts.plan': plan,
  'payouts.attachInvoice': attachInvoice,
  'payouts.markSending': markSendingProc,
  'payouts.markPaid': markPaidProc,
  'payouts.markFailedRetryable': markFailedRetryableProc,
  'payouts.markFailedFinal': markFailedFinalProc,
  'payouts.markUnknown': markUnknownProc,
  'payouts.resumeSending': resumeSendingProc,
  'payouts.reconcileUnknown': reconcileUnknownProc,
  'payouts.scheduleRetry': scheduleRetryProc,
  'payouts.pause': pause,
  'payouts.resume': resume,
  'payouts.release': release,
  'payouts.worklist': worklist,
}

export { payoutMigrations }

for (const m of payoutMigrations) defineMigration(m)
for (const [name, fn] of Object.entries(payoutProcedures)) defineProcedure(name, fn)
