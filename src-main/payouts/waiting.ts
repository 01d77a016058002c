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

const KIND_TEXT: Record<string, string> = { platform: 'platform fee recipient', split: 'split recipient', lp: 'LP' }

/** Args {} → the waiting recipients, platform first, then splits, then LPs, each by id. */
export const waitingRecipients: Procedure<unknown, WaitingRecipient[]> = (db) => {
  const rows = db.all<{
    recipient_kind: string
    recipient_id: string
    b: bigint
    destination_json: string | null
    active: bigint | null
  }>(
    `SELECT a.recipient_kind, a.recipient_id, a.balance_after_msat AS b, r.destination_json, r.active
     FROM acct_accrual a
     LEFT JOIN payout_recipient r ON r.recipient_kind = a.recipient_kind AND r.recipient_id = a.recipient_id
     WHERE a.id = (SELECT MAX(x.id) FROM acct_accrual x
                   WHERE x.recipient_kind = a.recipient_kind AND x.recipient_id = a.recipient_id)
       AND a.balance_after_msat > 0
       AND (r.recipient_id IS NULL OR r.destination_json = '{}' OR r.active = 0)
     ORDER BY CASE a.recipient_kind WHEN 'platform' THEN 0 WHEN 'split' THEN 1 ELSE 2 END, a.recipient_id`,
    [],
    { bigint: true },
  )
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
