// The operator's worklist (docs/architecture.md §1 "handles the worklist"; the predecessor's v2 "stuck" list, extended): what
// needs a human — settlements that errored, that have not moved for N minutes (pending or processing), that owe the
// customer a refund, or whose ATM-claimed fee disagrees with ours beyond the tolerance. Read-only: it runs as a
// procedure only so it sees one consistent state; it writes nothing and takes no journal record.

import type { TxDb } from '../ledger/types'
import { intArg, msArg, objectArg } from './args'
import { big } from './entries'

export type WorklistKind = 'errored' | 'stuck' | 'refund_due' | 'fee_mismatch'

export interface WorklistItem {
  kind: WorklistKind
  settlementId: number
  paymentHash: string
  machineId: string
  status: string
  statusChangedAtMs: number
  reason: string | null
  /** refund_due: the msat owed; fee_mismatch: claimed − ours; else null. Decimal string. */
  amountMsat: string | null
}

const BIG = { bigint: true } as const

/** Args: { nowMs, stuckMinutes (default 30), limit (default 500 per kind) }. Oldest first within each kind. */
export function worklist(db: TxDb, raw: unknown): WorklistItem[] {
  const a = objectArg('args', raw ?? {})
  const nowMs = msArg('nowMs', a.nowMs)
  const stuckMinutes = a.stuckMinutes === undefined ? 30 : intArg('stuckMinutes', a.stuckMinutes, 1, 525_600)
  const limit = a.limit === undefined ? 500 : intArg('limit', a.limit, 1, 10_000)
  const cols = 's.id, s.payment_hash, s.machine_id, s.status, s.status_changed_at_ms, s.reason'
  type R = {
    id: bigint
    payment_hash: string
    machine_id: string
    status: string
    status_changed_at_ms: bigint
    reason: string | null
    amount: bigint | null
  }
  const item = (kind: WorklistKind, r: R): WorklistItem => ({
    kind,
    settlementId: Number(r.id),
    paymentHash: r.payment_hash,
    machineId: r.machine_id,
    status: r.status,
    statusChangedAtMs: Number(r.status_changed_at_ms),
    reason: r.reason,
    amountMsat: r.amount === null || r.amount === undefined ? null : big(r.amount).toString(),
  })
  const errored = db.all<R>(
    `SELECT ${cols}, NULL AS amount FROM acct_settlement s WHERE s.status = 'errored'
     ORDER BY s.status_changed_at_ms, s.id LIMIT ?`,
    [limit],
    BIG,
  )
  const stuck = db.all<R>(
    `SELECT ${cols}, NULL AS amount FROM acct_settlement s
     WHERE s.status IN ('pending', 'processing') AND s.status_changed_at_ms <= ?
     ORDER BY s.status_changed_at_ms, s.id LIMIT ?`,
    [nowMs - stuckMinutes * 60_000, limit],
    BIG,
  )
  // An open refund leg of the live generation, not reversed, not yet paid (the refund is marked paid on resolve).
  // `+` on reverses_leg_id: see liveLegs in ./entries.ts.
  const refunds = db.all<R>(
    `SELECT ${cols}, l.msat AS amount FROM acct_leg l JOIN acct_settlement s ON s.id = l.settlement_id
     WHERE l.kind = 'refund_due' AND l.paid_ref IS NULL AND +l.reverses_leg_id IS NULL AND l.generation = s.generation
       AND s.status <> 'rejected' AND NOT EXISTS (SELECT 1 FROM acct_leg r WHERE r.reverses_leg_id = l.id)
     ORDER BY s.id LIMIT ?`,
    [limit],
    BIG,
  )
  const mismatches = db.all<R>(
    `SELECT ${cols}, s.fee_mismatch_msat AS amount FROM acct_settlement s
     WHERE s.fee_mismatch_flagged = 1 AND s.status <> 'rejected'
       AND NOT EXISTS (SELECT 1 FROM acct_worklist_ack k WHERE k.settlement_id = s.id AND k.kind = 'fee_mismatch')
     ORDER BY s.id LIMIT ?`,
    [limit],
    BIG,
  )
  return [
    ...errored.map((r) => item('errored', r)),
    ...stuck.map((r) => item('stuck', r)),
    ...refunds.map((r) => item('refund_due', r)),
    ...mismatches.map((r) => item('fee_mismatch', r)),
  ]
}
