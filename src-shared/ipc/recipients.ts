// IPC shapes of the payout recipients other than LPs (issue 15 item 1): the platform fee recipient and each
// commission split. Like an LP, each has a destination (Lightning address, its own NWC connection, keysend) that is
// checked live when it is set, a payout threshold in whole sats, and an active/paused switch; a split's weight
// changes only through a logged configuration change. Also the read-only views of what happened (issue 15 item 4):
// payouts per recipient with their state and preimage, receipts with their relay ids, and the wallet
// reconciliation's status and differences.
//
// JSON-safe: amounts are decimal strings with their unit in the name, times are ms since the epoch. An NWC URI
// travels IN only; results show the wallet pubkey instead. Pure TypeScript (only ./schema and ./lps, which imports
// only ./schema): the sandboxed preload bundles this file through contract.ts.
import { destinationInput } from './lps'
import { array, boolean, decimal, int, nullable, object, oneOf, optional, string } from './schema'

export const RECIPIENT_KINDS = ['platform', 'split'] as const
export type RecipientKindView = (typeof RECIPIENT_KINDS)[number]

const recipientId = string({
  min: 1,
  max: 100,
  pattern: /^[A-Za-z0-9][A-Za-z0-9_.:-]*$/,
  patternName: 'a recipient id',
})
const recipientRef = { recipientKind: oneOf(...RECIPIENT_KINDS), recipientId }
const note = string({ max: 2000, multiline: true })

export const recipientsListInput = object({ changeLimit: optional(int(1, 1000)) })
/** `destination: null` removes it: the recipient's sats keep accruing and wait on the worklist. */
export const recipientSetDestinationInput = object({ ...recipientRef, destination: nullable(destinationInput) })
/** Whole sats (≥ 1): a payout is made once this much has accrued. */
export const recipientSetThresholdInput = object({ ...recipientRef, thresholdSat: decimal(16) })
export const recipientSetActiveInput = object({ ...recipientRef, active: boolean() })
/** The new weights of every split (ppm, summing to 1,000,000); applied as a new fee configuration from now on. */
export const recipientSetSplitWeightsInput = object({
  splits: array(object({ id: recipientId, weightPpm: int(0, 1_000_000) }), { min: 1, max: 50 }),
  note: optional(note),
})

export interface RecipientHealthView {
  ok: boolean
  /** One sentence for the operator ("Lightning address answered: pays 1–100000 sats"). */
  text: string
  checkedAtMs: number
}

export interface RecipientView {
  recipientKind: RecipientKindView
  recipientId: string
  /** What the operator sees: "Platform fee", "Split owner". */
  label: string
  destination:
    | { kind: 'lightning_address'; address: string }
    | { kind: 'nwc'; walletPubkey: string }
    | { kind: 'keysend'; nodeId: string }
    | null
  /** The live check made when the destination was set (null: none set, or set before checks existed). */
  health: RecipientHealthView | null
  accruedMsat: string
  /** Whole sats of the accrual a payout would pay now. */
  accruedSat: string
  thresholdSat: string
  active: boolean
  /** A split's weight in each fee configuration in force (machine id, or null for the fleet default). */
  weights: Array<{ machineId: string | null; weightPpm: number }>
  /** msat paid to this recipient so far. */
  paidMsat: string
  /** Sats that wait because there is no destination or the recipient is paused (0 otherwise). */
  waitingSat: string
}

export interface RecipientChangeView {
  id: number
  recipientKind: string
  recipientId: string
  field: 'destination' | 'threshold' | 'active' | 'weight'
  /** Public descriptions only (never a secret). */
  oldValue: string
  newValue: string
  author: string
  atMs: number
  note: string | null
}

export interface RecipientsView {
  recipients: RecipientView[]
  /** Every change, newest first. */
  changes: RecipientChangeView[]
}

// ---- what happened: payouts, receipts, reconciliation -----------------------------------------------------------

export const PAYOUT_STATES = ['planned', 'sending', 'paid', 'failed_retryable', 'failed_final', 'unknown'] as const

/** Newest first; `cursor` is the `nextCursor` of the previous page. */
export const payoutsListInput = object({
  recipientKind: optional(oneOf('platform', 'split', 'lp')),
  recipientId: optional(recipientId),
  state: optional(oneOf(...PAYOUT_STATES)),
  limit: optional(int(1, 500)),
  cursor: optional(string({ min: 1, max: 400 })),
})

export interface PayoutListItem {
  id: string
  recipientKind: string
  recipientId: string
  amountMsat: string
  state: string
  paymentHash: string | null
  /** The proof of payment (sha256(preimage) = paymentHash); only on a paid payout. */
  preimage: string | null
  feesPaidMsat: string | null
  attempt: number
  errorCode: string | null
  reason: string | null
  plannedAtMs: number
  updatedAtMs: number
}

export interface PayoutListView {
  items: PayoutListItem[]
  /** Pass as `cursor` for the next (older) page; null on the last page. */
  nextCursor: string | null
}

export const receiptsListInput = object({
  limit: optional(int(1, 500)),
  cursor: optional(string({ min: 1, max: 40 })),
})

export interface ReceiptListItem {
  settlementId: number
  paymentHash: string
  /** The kind 3079 event id: look it up on any relay. */
  eventId: string
  /** The ATM's kind 30079 record the receipt answers (its event id on the relays). */
  recordEventId: string | null
  createdAtMs: number
  /** Relay URLs that accepted it when published (from the publish attempts). */
  relayIds: string[]
  /** True once a read-back by id from a relay returned it intact. */
  verified: boolean
  lastAttempt: { kind: string; detail: string | null; atMs: number } | null
}

export interface ReceiptListView {
  items: ReceiptListItem[]
  nextCursor: string | null
}

export interface ReconcileStatusView {
  /** False when the pipeline is not running (no operator wallet): nothing is reconciled. */
  running: boolean
  lastRun: {
    runId: number
    fromSec: number
    untilSec: number
    matched: number
    differences: number
    atMs: number
  } | null
  /** Differences across the recent runs (what `reconcile.differences` lists). */
  openDifferences: number
  /** Seconds the window end stays behind now, so payments in flight are not reported. */
  lagSec: number
  lastError: string | null
}

export const reconcileDifferencesInput = object({ limit: optional(int(1, 1000)) })

export interface ReconcileDifferenceView {
  runId: number
  kind: string
  paymentHash: string | null
  refs: string[]
  direction: 'incoming' | 'outgoing'
  ledgerMsat: string | null
  walletMsat: string | null
  deltaMsat: string | null
  atMs: number | null
  text: string
}
