// Low-level ledger writes shared by the accounting procedures: LP fiat entries and recipient accruals with their
// running balances, legs of one settlement result, reversing entries, and settlement state transitions. All of
// them run inside a procedure's transaction (TxDb), so a refusal anywhere rolls back everything the procedure
// wrote. Nothing here updates or deletes a money row; the schema's triggers would refuse it anyway.

import type { Direction, SettlementResult } from '../../src-shared/money/settlement'
import type { Row, TxDb } from '../ledger/types'
import { AccountingError } from './errors'

export type SettlementStatus = 'pending' | 'processing' | 'processed' | 'errored' | 'rejected'
export type LpEntryKind = 'deposit' | 'deposit_reversal' | 'allocation' | 'allocation_reversal' | 'dust'
export type RecipientKind = 'platform' | 'split' | 'lp'
export type LegKind = 'platform_fee' | 'split' | 'lp' | 'float' | 'refund_due'

/** Recipient id of the platform-fee leg and accrual. */
export const PLATFORM_RECIPIENT = 'platform'
/** Recipient id of the operator-float leg (the operator's own cash buying sats; nothing to pay out). */
export const FLOAT_RECIPIENT = 'operator-float'
/** Recipient id of a refund-due leg (the customer of that transaction). */
export const CUSTOMER_RECIPIENT = 'customer'

const BIG = { bigint: true } as const

export function big(v: unknown): bigint {
  if (typeof v === 'bigint') return v
  if (typeof v === 'number') return BigInt(v)
  if (v === null || v === undefined) return 0n
  return BigInt(String(v))
}

/** The LP's current fiat balance: the running balance of its newest entry (one index lookup). */
export function lpBalance(db: TxDb, lpId: string): bigint {
  const row = db.get(
    'SELECT balance_after_minor AS b FROM acct_lp_entry WHERE lp_id = ? ORDER BY id DESC LIMIT 1',
    [lpId],
    BIG,
  )
  return row ? big(row.b) : 0n
}

/** Fiat taken back from deposit `depositId` by reversing entries so far (a positive amount). */
export function depositReversedMinor(db: TxDb, depositId: string): bigint {
  const row = db.get(
    "SELECT COALESCE(SUM(delta_minor), 0) AS s FROM acct_lp_entry WHERE deposit_id = ? AND kind = 'deposit_reversal'",
    [depositId],
    BIG,
  )
  return -big(row?.s)
}

/** Fiat allocated to the LP on operator-local day `day`, net of reversals. */
export function lpUsedOnDay(db: TxDb, lpId: string, day: string): bigint {
  const row = db.get(
    `SELECT COALESCE(SUM(delta_minor), 0) AS s FROM acct_lp_entry
     WHERE lp_id = ? AND local_day = ? AND kind IN ('allocation', 'allocation_reversal')`,
    [lpId, day],
    BIG,
  )
  const used = -big(row?.s)
  return used > 0n ? used : 0n
}

export interface LpEntry {
  lpId: string
  kind: LpEntryKind
  deltaMinor: bigint
  depositId?: string
  legId?: number
  dustId?: number
  localDay?: string | null
  atMs: number
}

/** Appends an LP fiat entry; refuses (E_BALANCE) one that would take the balance below zero. */
export function appendLpEntry(db: TxDb, e: LpEntry): bigint {
  const after = lpBalance(db, e.lpId) + e.deltaMinor
  if (after < 0n) {
    throw new AccountingError('E_BALANCE', 'lpId', `LP ${e.lpId} balance would become negative (${after})`)
  }
  db.run(
    `INSERT INTO acct_lp_entry (lp_id, kind, delta_minor, balance_after_minor, deposit_id, leg_id, dust_id, local_day,
     created_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    [
      e.lpId,
      e.kind,
      e.deltaMinor,
      after,
      e.depositId ?? null,
      e.legId ?? null,
      e.dustId ?? null,
      e.localDay ?? null,
      e.atMs,
    ],
  )
  return after
}

/** The recipient's accrued msat (may be negative after a reversal of a paid leg). */
export function recipientAccrual(db: TxDb, kind: RecipientKind, id: string): bigint {
  const row = db.get(
    `SELECT balance_after_msat AS b FROM acct_accrual WHERE recipient_kind = ? AND recipient_id = ?
     ORDER BY id DESC LIMIT 1`,
    [kind, id],
    BIG,
  )
  return row ? big(row.b) : 0n
}

export function appendAccrual(
  db: TxDb,
  a: { kind: RecipientKind; recipientId: string; deltaMsat: bigint; legId?: number; dustId?: number; atMs: number },
): bigint {
  const after = recipientAccrual(db, a.kind, a.recipientId) + a.deltaMsat
  db.run(
    `INSERT INTO acct_accrual (recipient_kind, recipient_id, leg_id, dust_id, delta_msat, balance_after_msat,
     created_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?)`,
    [a.kind, a.recipientId, a.legId ?? null, a.dustId ?? null, a.deltaMsat, after, a.atMs],
  )
  return after
}

function insertLeg(
  db: TxDb,
  l: {
    settlementId: number
    generation: number
    kind: LegKind
    recipientId: string
    msat: bigint
    fiatMinor: bigint
    reversesLegId?: number
    atMs: number
  },
): number {
  return db.run(
    `INSERT INTO acct_leg (settlement_id, generation, kind, recipient_id, msat, fiat_minor, reverses_leg_id,
     created_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    [l.settlementId, l.generation, l.kind, l.recipientId, l.msat, l.fiatMinor, l.reversesLegId ?? null, l.atMs],
  ).lastInsertRowid
}

function accrualKindOf(kind: LegKind): RecipientKind | null {
  if (kind === 'platform_fee') return 'platform'
  if (kind === 'split') return 'split'
  if (kind === 'lp') return 'lp'
  return null
}

/**
 * Books one generation of a settlement's result: the result row, one leg per non-zero movement, the accrual
 * of every platform/split/LP leg and the fiat debit of every LP leg (counted on the operator-local day).
 */
export function writeResult(
  db: TxDb,
  s: { settlementId: number; generation: number; direction: Direction; localDay: string | null; author: string },
  r: SettlementResult,
  fiatMinor: bigint,
  atMs: number,
): void {
  db.run(
    `INSERT INTO acct_result (settlement_id, generation, fiat_minor, principal_msat, commission_msat,
     platform_fee_msat, operator_fee_msat, refund_due_msat, created_at_ms, author) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    [
      s.settlementId,
      s.generation,
      fiatMinor,
      r.principalMsat,
      r.commissionMsat,
      r.platformFeeMsat,
      r.operatorFeeMsat,
      r.refundDueMsat,
      atMs,
      s.author,
    ],
  )
  const legs: { kind: LegKind; recipientId: string; msat: bigint; fiatMinor: bigint }[] = [
    { kind: 'platform_fee', recipientId: PLATFORM_RECIPIENT, msat: r.platformFeeMsat, fiatMinor: 0n },
    ...r.splits.map((x) => ({ kind: 'split' as const, recipientId: x.id, msat: x.msat, fiatMinor: 0n })),
    ...r.lps.map((x) => ({ kind: 'lp' as const, recipientId: x.id, msat: x.msat, fiatMinor: x.fiatMinor })),
    { kind: 'float', recipientId: FLOAT_RECIPIENT, msat: r.operatorFloat.msat, fiatMinor: r.operatorFloat.fiatMinor },
    { kind: 'refund_due', recipientId: CUSTOMER_RECIPIENT, msat: r.refundDueMsat, fiatMinor: 0n },
  ]
  for (const leg of legs) {
    if (leg.msat === 0n && leg.fiatMinor === 0n) continue
    const legId = insertLeg(db, { settlementId: s.settlementId, generation: s.generation, ...leg, atMs })
    const ak = accrualKindOf(leg.kind)
    if (ak && leg.msat !== 0n)
      appendAccrual(db, { kind: ak, recipientId: leg.recipientId, deltaMsat: leg.msat, legId, atMs })
    if (leg.kind === 'lp' && leg.fiatMinor !== 0n) {
      appendLpEntry(db, {
        lpId: leg.recipientId,
        kind: 'allocation',
        deltaMinor: -leg.fiatMinor,
        legId,
        localDay: s.localDay,
        atMs,
      })
    }
  }
}

export interface LegRow extends Row {
  id: bigint
  generation: bigint
  kind: LegKind
  recipient_id: string
  msat: bigint
  fiat_minor: bigint
  paid_ref: string | null
}

/**
 * The settlement's legs of `generation` that no reversing entry has cancelled. The unary `+` on reverses_leg_id
 * keeps SQLite off that column's unique index: "IS NULL" there matches every original leg, and the planner (no
 * ANALYZE statistics) would walk all of them instead of this settlement's few (seconds per call at 1M settlements).
 * The same `+` sits in every query that filters legs on reverses_leg_id IS NULL (payouts, notices, worklist).
 */
export function liveLegs(db: TxDb, settlementId: number, generation: number): LegRow[] {
  return db.all<LegRow>(
    `SELECT l.id, l.generation, l.kind, l.recipient_id, l.msat, l.fiat_minor, l.paid_ref FROM acct_leg l
     WHERE l.settlement_id = ? AND l.generation = ? AND +l.reverses_leg_id IS NULL
       AND NOT EXISTS (SELECT 1 FROM acct_leg r WHERE r.reverses_leg_id = l.id)
     ORDER BY l.id`,
    [settlementId, generation],
    BIG,
  )
}

/** True when any leg of the settlement (any generation) has been paid. */
export function anyLegPaid(db: TxDb, settlementId: number): boolean {
  return (
    db.get('SELECT 1 AS x FROM acct_leg WHERE settlement_id = ? AND paid_ref IS NOT NULL LIMIT 1', [settlementId]) !==
    undefined
  )
}

/**
 * Books a reversing entry for each leg: the negated leg (naming the original), the negated accrual, and the
 * LP's fiat given back on the day it was taken from.
 */
export function reverseLegs(
  db: TxDb,
  settlementId: number,
  legs: LegRow[],
  localDay: string | null,
  atMs: number,
): void {
  for (const leg of legs) {
    const legId = insertLeg(db, {
      settlementId,
      generation: Number(leg.generation),
      kind: leg.kind,
      recipientId: leg.recipient_id,
      msat: -leg.msat,
      fiatMinor: -leg.fiat_minor,
      reversesLegId: Number(leg.id),
      atMs,
    })
    const ak = accrualKindOf(leg.kind)
    if (ak && leg.msat !== 0n)
      appendAccrual(db, { kind: ak, recipientId: leg.recipient_id, deltaMsat: -leg.msat, legId, atMs })
    if (leg.kind === 'lp' && leg.fiat_minor !== 0n) {
      appendLpEntry(db, {
        lpId: leg.recipient_id,
        kind: 'allocation_reversal',
        deltaMinor: leg.fiat_minor,
        legId,
        localDay,
        atMs,
      })
    }
  }
}

export interface SettlementRow extends Row {
  id: bigint
  payment_hash: string
  machine_id: string
  direction: Direction
  status: SettlementStatus
  generation: bigint
  wire_msat: bigint
  fiat_minor: bigint
  fiat_requested_minor: bigint
  currency: string
  claimed_fee_msat: bigint | null
  platform_ppm: bigint | null
  operator_ppm: bigint | null
  discount_ppm: bigint | null
  splits_json: string | null
  lps_json: string | null
  local_day: string | null
  claim_token: string | null
  status_changed_at_ms: bigint
  atm_event_id: string | null
}

export function getSettlement(db: TxDb, id: number): SettlementRow {
  const row = db.get<SettlementRow>('SELECT * FROM acct_settlement WHERE id = ?', [id], BIG)
  if (!row) throw new AccountingError('E_NOT_FOUND', 'settlementId', `no settlement ${id}`)
  return row
}

/**
 * Moves a settlement from one of `from` to `to` with one conditional UPDATE (the WHERE names the expected state,
 * so a concurrent change makes it touch no row) and records the transition. Returns false when the row was not
 * in an expected state.
 */
export function transition(
  db: TxDb,
  id: number,
  from: readonly SettlementStatus[],
  to: SettlementStatus,
  o: {
    atMs: number
    author: string
    reason?: string | null
    claimToken?: string | null
    extraWhere?: string
    extraParams?: unknown[]
  },
): boolean {
  const prev = db.get<{ status: string }>('SELECT status FROM acct_settlement WHERE id = ?', [id])
  const claim = to === 'processing' ? (o.claimToken ?? null) : null
  const r = db.run(
    `UPDATE acct_settlement SET status = ?, reason = ?, claim_token = ?, claimed_at_ms = ?, status_changed_at_ms = ?
     WHERE id = ? AND status IN (${from.map(() => '?').join(', ')})${o.extraWhere ?? ''}`,
    [
      to,
      o.reason ?? null,
      claim,
      to === 'processing' ? o.atMs : null,
      o.atMs,
      id,
      ...from,
      ...((o.extraParams ?? []) as (string | number | bigint | null)[]),
    ],
  )
  if (r.changes !== 1) return false
  db.run(
    `INSERT INTO acct_settlement_event (settlement_id, from_status, to_status, reason, author, at_ms)
     VALUES (?, ?, ?, ?, ?, ?)`,
    [id, prev?.status ?? null, to, o.reason ?? null, o.author, o.atMs],
  )
  return true
}

/** An append-only note on a settlement; `system` marks notes the app wrote rather than the operator. */
export function addNote(
  db: TxDb,
  n: {
    settlementId?: number | null
    lpId?: string | null
    author: string
    text: string
    system: boolean
    atMs: number
  },
): number {
  return db.run(
    'INSERT INTO acct_note (settlement_id, lp_id, author, system, text, created_at_ms) VALUES (?, ?, ?, ?, ?, ?)',
    [n.settlementId ?? null, n.lpId ?? null, n.author, n.system ? 1 : 0, n.text.slice(0, 2000), n.atMs],
  ).lastInsertRowid
}
