// Recipients whose sats wait (issue 15 item 2): every platform, split or LP recipient with accrued msat that the
// payout planner will not pay because it has no destination (never set, or removed) or is paused. The worklist
// shows one line each ("platform fee recipient has no destination: N sats waiting"); nothing is lost, the
// accrual stays on the books and is planned as soon as a destination is set and the recipient is active.
// Accruals come from acct_accrual (src-main/accounting/entries.ts), policies from payout_recipient (schema.ts).

import { big } from '../accounting/entries'
import { defineProcedure } from '../ledger/define'
import type { Procedure } from '../ledger/types'

export interface WaitingRecipient {
  recipientKind: 'platform' | 'split' | 'lp'
  recipientId: string
  reason: 'no_destination' | 'paused'
  /** msat accrued and not paid (decimal string). */
  accruedMsat: string
  /** Whole sats of it that would be paid now (decimal string). */
  waitingSat: string
  text: string
}

type Waiting = {
  recipient_kind: string
  recipient_id: string
  b: bigint
  destination_json: string | null
  active: bigint | null
}

/** In the order the worklist lists them; within a kind by id (the index's order). */
const RECIPIENT_KINDS = ['platform', 'split', 'lp'] as const

const KIND_TEXT: Record<string, string> = { platform: 'platform fee recipient', split: 'split recipient', lp: 'LP' }

/** Args {} → the waiting recipients, platform first, then splits, then LPs, each by id. */
export const waitingRecipients: Procedure<unknown, WaitingRecipient[]> = (db) => {
  // The recipients are few and the accruals many (several per settlement; 413,000 at 100,000 settlements). Walk the
  // distinct recipients on the (recipient_kind, recipient_id, id) index one seek at a time and read each one's
  // newest balance, instead of a correlated MAX over every accrual row (about a second at 100,000 settlements,
  // holding the ledger worker, and the worklist asks on every push).
  const rows: Waiting[] = []
  for (const kind of RECIPIENT_KINDS) {
    let after = ''
    for (;;) {
      const next = db.get<{ id: string }>(
        'SELECT recipient_id AS id FROM acct_accrual WHERE recipient_kind = ? AND recipient_id > ? ORDER BY recipient_id LIMIT 1',
        [kind, after],
      )
      if (!next) break
      after = next.id
      const r = db.get<Waiting>(
        `SELECT a.recipient_kind, a.recipient_id, a.balance_after_msat AS b, r.destination_json, r.active
         FROM (SELECT recipient_kind, recipient_id, balance_after_msat FROM acct_accrual
               WHERE recipient_kind = ? AND recipient_id = ? ORDER BY id DESC LIMIT 1) a
         LEFT JOIN payout_recipient r ON r.recipient_kind = a.recipient_kind AND r.recipient_id = a.recipient_id
         WHERE a.balance_after_msat > 0 AND (r.recipient_id IS NULL OR r.destination_json = '{}' OR r.active = 0)`,
        [kind, next.id],
        { bigint: true },
      )
      if (r) rows.push(r)
    }
  }
  return rows.map((r) => {
    const accrued = big(r.b)
    const sats = accrued / 1000n
    const noDest = r.destination_json === null || r.destination_json === '{}'
    const who = `${KIND_TEXT[r.recipient_kind] ?? r.recipient_kind}${r.recipient_kind === 'platform' ? '' : ` ${r.recipient_id}`}`
    return {
      recipientKind: r.recipient_kind as WaitingRecipient['recipientKind'],
      recipientId: r.recipient_id,
      reason: noDest ? 'no_destination' : 'paused',
      accruedMsat: accrued.toString(),
      waitingSat: sats.toString(),
      text: `${who} ${noDest ? 'has no destination' : 'is paused'}: ${sats} sats waiting`,
    }
  })
}

defineProcedure('payouts.waitingRecipients', waitingRecipients)
