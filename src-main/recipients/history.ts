// Read-only history views of the money path (issue 15 item 4; docs/payouts.md "Seeing what happened"): payouts
// per recipient (platform, split or LP) with their state and preimage, and settlement receipts with the relays that
// accepted them. Both page newest first with a keyset cursor over an indexed column, so a page costs the same
// however long the history: payouts over (planned_at_ms, id) — indexes `payout_history` and
// `payout_history_recipient` (./schema.ts, migration 1501) — and receipts over their primary key settlement_id.
// A cursor is opaque to the caller: it is the previous page's `nextCursor`, passed back unchanged.

import type { PayoutListItem, PayoutListView, ReceiptListItem, ReceiptListView } from '../../src-shared/ipc/recipients'
import { intArg, objectArg, stringArg } from '../accounting/args'
import { big } from '../accounting/entries'
import { inputError } from '../accounting/errors'
import type { SqlValue, TxDb } from '../ledger/types'

const BIG = { bigint: true } as const
const STATES = ['planned', 'sending', 'paid', 'failed_retryable', 'failed_final', 'unknown']

/** Cursor of a payout page: `<planned_at_ms>:<id>` of the last item. */
function payoutCursor(raw: unknown): { atMs: number; id: string } | null {
  if (raw === undefined || raw === null) return null
  const s = stringArg('cursor', raw, 400)
  const m = /^(\d{1,16}):(.+)$/.exec(s)
  if (!m) throw inputError('cursor', 'is not a cursor this list gave out')
  return { atMs: Number(m[1]), id: m[2]! }
}

/** Args { recipientKind?, recipientId?, state?, limit?, cursor? } → one page, newest planned first. */
export function listPayouts(db: TxDb, raw: unknown): PayoutListView {
  const a = raw === undefined ? {} : objectArg('args', raw)
  const limit = a.limit === undefined ? 50 : intArg('limit', a.limit, 1, 500)
  const where: string[] = []
  const params: SqlValue[] = []
  if (a.recipientKind !== undefined) {
    if (a.recipientKind !== 'platform' && a.recipientKind !== 'split' && a.recipientKind !== 'lp')
      throw inputError('recipientKind', 'must be platform, split or lp')
    where.push('recipient_kind = ?')
    params.push(a.recipientKind)
  }
  if (a.recipientId !== undefined) {
    if (a.recipientKind === undefined) throw inputError('recipientKind', 'is needed with recipientId')
    where.push('recipient_id = ?')
    params.push(stringArg('recipientId', a.recipientId, 100))
  }
  if (a.state !== undefined) {
    if (typeof a.state !== 'string' || !STATES.includes(a.state))
      throw inputError('state', `must be one of ${STATES.join(', ')}`)
    where.push('state = ?')
    params.push(a.state)
  }
  const cursor = payoutCursor(a.cursor)
  if (cursor) {
    where.push('(planned_at_ms < ? OR (planned_at_ms = ? AND id < ?))')
    params.push(cursor.atMs, cursor.atMs, cursor.id)
  }
  const rows = db.all<{
    id: string
    recipient_kind: string
    recipient_id: string
    amount_msat: bigint
    state: string
    payment_hash: string | null
    preimage: string | null
    fees_paid_msat: bigint | null
    attempt: bigint
    error_code: string | null
    reason: string | null
    planned_at_ms: bigint
    updated_at_ms: bigint
  }>(
    `SELECT id, recipient_kind, recipient_id, amount_msat, state, payment_hash, preimage, fees_paid_msat, attempt,
       error_code, reason, planned_at_ms, updated_at_ms FROM payout
     ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
     ORDER BY planned_at_ms DESC, id DESC LIMIT ?`,
    [...params, limit + 1],
    BIG,
  )
  const items: PayoutListItem[] = rows.slice(0, limit).map((r) => ({
    id: r.id,
    recipientKind: r.recipient_kind,
    recipientId: r.recipient_id,
    amountMsat: big(r.amount_msat).toString(),
    state: r.state,
    paymentHash: r.payment_hash,
    preimage: r.state === 'paid' ? r.preimage : null,
    feesPaidMsat: r.fees_paid_msat === null ? null : big(r.fees_paid_msat).toString(),
    attempt: Number(r.attempt),
    errorCode: r.error_code,
    reason: r.reason,
    plannedAtMs: Number(r.planned_at_ms),
    updatedAtMs: Number(r.updated_at_ms),
  }))
  const last = items[items.length - 1]
  return { items, nextCursor: rows.length > limit && last ? `${last.plannedAtMs}:${last.id}` : null }
}

/** Args { limit?, cursor? } → receipts newest settlement first, with the relays that accepted each. */
export function listReceipts(db: TxDb, raw: unknown): ReceiptListView {
  const a = raw === undefined ? {} : objectArg('args', raw)
  const limit = a.limit === undefined ? 50 : intArg('limit', a.limit, 1, 500)
  let before = Number.MAX_SAFE_INTEGER
  if (a.cursor !== undefined && a.cursor !== null) {
    const s = stringArg('cursor', a.cursor, 40)
    if (!/^\d{1,16}$/.test(s)) throw inputError('cursor', 'is not a cursor this list gave out')
    before = Number(s)
  }
  const rows = db.all<{
    settlement_id: bigint
    payment_hash: string
    event_id: string
    created_at_ms: bigint
    atm_event_id: string | null
  }>(
    `SELECT r.settlement_id, r.payment_hash, r.event_id, r.created_at_ms, s.atm_event_id FROM rcpt_receipt r
     LEFT JOIN acct_settlement s ON s.id = r.settlement_id WHERE r.settlement_id < ?
     ORDER BY r.settlement_id DESC LIMIT ?`,
    [before, limit + 1],
    BIG,
  )
  const items: ReceiptListItem[] = rows.slice(0, limit).map((r) => {
    const attempts = db.all<{ kind: string; detail: string | null; at_ms: bigint }>(
      'SELECT kind, detail, at_ms FROM rcpt_attempt WHERE event_id = ? ORDER BY id',
      [r.event_id],
      BIG,
    )
    // A 'published' attempt's detail is the space-separated list of relays that accepted the event.
    const relays = new Set<string>()
    for (const x of attempts)
      if (x.kind === 'published' && x.detail) for (const u of x.detail.split(' ')) if (u) relays.add(u)
    const lastAttempt = attempts[attempts.length - 1]
    return {
      settlementId: Number(r.settlement_id),
      paymentHash: r.payment_hash,
      eventId: r.event_id,
      recordEventId: r.atm_event_id,
      createdAtMs: Number(r.created_at_ms),
      relayIds: [...relays],
      verified: attempts.some((x) => x.kind === 'verified'),
      lastAttempt: lastAttempt
        ? { kind: lastAttempt.kind, detail: lastAttempt.detail, atMs: Number(lastAttempt.at_ms) }
        : null,
    }
  })
  const last = items[items.length - 1]
  return { items, nextCursor: rows.length > limit && last ? String(last.settlementId) : null }
}
