// IPC shapes of the operator's worklist (issue 4 item 4, issue 5 items 2 and 7): what needs a human — errored or
// stuck settlements, refunds owed, fee mismatches, payouts that failed for good or whose outcome is unknown, paused
// wallet connections, and differences between the wallet and the ledger — and the actions that clear them.
// JSON-safe: amounts are decimal strings with their unit in the name, times are ms since the epoch.
//
// Pure TypeScript (only ./schema): the sandboxed preload bundles this file through contract.ts.

import type { WalletRevocationView } from './fleet-machine'
import type { DelegationWarningView } from './fleet-pairing'
import { boolean, int, object, oneOf, optional, string } from './schema'

const settlementId = int(1, Number.MAX_SAFE_INTEGER)
const note = string({ max: 2000, multiline: true })

export const worklistListInput = object({ stuckMinutes: optional(int(1, 525_600)) })
export const settlementRetryInput = object({ settlementId })
export const settlementForceResetInput = object({ settlementId, stuckMinutes: optional(int(1, 525_600)) })
export const worklistResolveInput = object({
  settlementId,
  kind: oneOf('refund_due', 'fee_mismatch'),
  /** For a refund: how it was handed back (receipt number, cash drawer entry …). */
  reference: optional(string({ min: 1, max: 200 })),
  note: optional(note),
})
export const payoutResumeInput = object({ connectionId: string({ min: 1, max: 200 }) })
export const payoutReleaseInput = object({
  payoutId: string({ min: 1, max: 300 }),
  note: optional(note),
  /** Required for a payout whose outcome the wallet could not prove: the operator checked it was not paid. */
  acceptUnpaid: optional(boolean()),
})

export interface SettlementWorkItem {
  kind: 'errored' | 'stuck' | 'refund_due' | 'fee_mismatch'
  settlementId: number
  paymentHash: string
  machineId: string
  status: string
  statusChangedAtMs: number
  reason: string | null
  /** refund_due: msat owed to the customer; fee_mismatch: claimed − ours; else null. */
  amountMsat: string | null
}

export interface PayoutWorkItem {
  id: string
  state: string
  recipientKind: string
  recipientId: string
  amountMsat: string
  connectionId: string
  attempt: number
  paymentHash: string | null
  errorCode: string | null
  reason: string | null
  worklistReason: string
}

export interface ReconcileWorkItem {
  kind: string
  paymentHash: string | null
  direction: 'incoming' | 'outgoing'
  ledgerMsat: string | null
  walletMsat: string | null
  deltaMsat: string | null
  text: string
}

export interface WorklistView {
  settlements: SettlementWorkItem[]
  payouts: PayoutWorkItem[]
  pausedConnections: Array<{ connectionId: string; reason: string | null; changedAtMs: number }>
  alerts: Array<{ id: number; kind: string; message: string; atMs: number }>
  /** Differences found by the latest wallet reconciliation run (null: none has run yet). */
  reconcile: { runId: number; fromSec: number; untilSec: number; items: ReconcileWorkItem[] } | null
  /** ATMs whose newest delegation expires within 14 days or has expired (revoked ATMs left out), soonest first. */
  delegations: DelegationWarningView[]
  /** Revoked ATMs whose wallet connection the operator has not confirmed revoking in the wallet (issue 9d). */
  walletRevocations?: WalletRevocationView[]
  /** Recipients whose accrued sats wait (no destination, or paused): "… has no destination: N sats waiting". */
  waitingRecipients?: Array<{
    recipientKind: 'platform' | 'split' | 'lp'
    recipientId: string
    reason: 'no_destination' | 'paused'
    accruedMsat: string
    waitingSat: string
    text: string
  }>
}

export interface SettlementStatusView {
  settlementId: number
  status: string
}
