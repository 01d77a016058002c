// IPC shapes of the settlement history and the Dashboard (issue 9): the server-paged list with its filters and
// keyset cursor, one settlement's detail (record fields, verification badges, legs with their payouts, notes,
// reversing entries), the CSV export with its column dictionary, and the Dashboard's server-side aggregates.
// JSON-safe: amounts are decimal strings with their unit in the name, times are ms since the epoch.
//
// Pure TypeScript (only ./schema): the sandboxed preload bundles this file through contract.ts.
import type { DelegationWarningView } from './fleet-pairing'
import { boolean, type Infer, int, object, oneOf, optional, string } from './schema'

export const SETTLEMENT_STATUSES = ['pending', 'processing', 'processed', 'errored', 'rejected'] as const
export type SettlementStatusName = (typeof SETTLEMENT_STATUSES)[number]

/** Sort orders the list offers; each is served by an index, newest/largest first or oldest/smallest first. */
export const SETTLEMENT_SORTS = ['booked_desc', 'booked_asc', 'fiat_desc', 'fiat_asc', 'msat_desc', 'msat_asc'] as const
export type SettlementSort = (typeof SETTLEMENT_SORTS)[number]

const settlementId = int(1, Number.MAX_SAFE_INTEGER)
const ms = int(0, 8_640_000_000_000_000)
/** An amount as the operator types it, in major units of the settlement's currency ("12.50"). */
const majorAmount = string({
  min: 1,
  max: 24,
  pattern: /^\s*\d{1,15}([.,]\d{1,4})?\s*$/,
  patternName: 'an amount such as 12.50',
})

export const settlementFilterInput = object({
  machineId: optional(string({ min: 1, max: 200 })),
  direction: optional(oneOf('cash_out', 'cash_in')),
  status: optional(oneOf(...SETTLEMENT_STATUSES)),
  /** Booked at or after (inclusive). */
  fromMs: optional(ms),
  /** Booked before (exclusive). */
  toMs: optional(ms),
  /** Settlements with a leg for this LP. */
  lpId: optional(string({ min: 1, max: 200 })),
  /** Fiat at least / at most this, in major units of each settlement's own currency. */
  minAmount: optional(majorAmount),
  maxAmount: optional(majorAmount),
  /** Only settlements whose ATM-claimed fee disagreed with ours. */
  feeMismatch: optional(boolean()),
  /** Only settlements that still owe the customer a refund. */
  refundDue: optional(boolean()),
  /** A payment hash (or its first ≥ 8 hex digits) or an ATM transaction id. */
  search: optional(string({ min: 1, max: 200 })),
})
export type SettlementFilter = Infer<typeof settlementFilterInput>

export const settlementsListInput = object({
  filter: optional(settlementFilterInput),
  sort: optional(oneOf(...SETTLEMENT_SORTS)),
  limit: optional(int(1, 500)),
  /** The `next` cursor of the previous page. */
  after: optional(string({ min: 1, max: 400 })),
})
export const settlementsCountInput = object({ filter: optional(settlementFilterInput) })
export const settlementsGetInput = object({ settlementId })
export const settlementsAddNoteInput = object({ settlementId, text: string({ min: 1, max: 2000, multiline: true }) })
export const settlementsCsvInput = object({
  filter: optional(settlementFilterInput),
  sort: optional(oneOf(...SETTLEMENT_SORTS)),
})
export const dashboardSummaryInput = object({
  /** Ask the operator wallet for its balance (get_balance over NWC); off, the balance is left out. */
  balance: optional(boolean()),
})

/** One row of the history list. */
export interface SettlementRowView {
  id: number
  paymentHash: string
  machineId: string
  machineName: string | null
  direction: 'cash_out' | 'cash_in'
  status: SettlementStatusName
  bookedAtMs: number
  fiatMinor: string
  currency: string
  wireMsat: string
  /** The ATM's own transaction id (from the booked record), when known. */
  txId: string | null
  feeMismatch: boolean
  refundDue: boolean
}

export interface SettlementPageView {
  rows: SettlementRowView[]
  /** Cursor for the next page, or null on the last one. */
  next: string | null
}

export interface SettlementCountView {
  /** Matching rows, counted up to `cap`; `capped` true means "more than cap". */
  count: number
  capped: boolean
  cap: number
}

export type BadgeState = 'ok' | 'failed' | 'missing'

export interface BadgeView {
  state: BadgeState
  /** One sentence for the operator: what was checked and what was found. */
  text: string
}

export interface SettlementLegView {
  id: number
  generation: number
  kind: 'platform_fee' | 'split' | 'lp' | 'float' | 'refund_due'
  recipientId: string
  /** The LP's or split's display name when known. */
  recipientName: string | null
  msat: string
  fiatMinor: string
  /** The leg this one reverses (a reversing entry), or null. */
  reversesLegId: number | null
  /** True when a later entry reverses this leg. */
  reversed: boolean
  createdAtMs: number
  /** What happened to the money: paid by a payout, waiting in the recipient's accrual, kept, owed, reversed. */
  state: 'paid' | 'accrued' | 'in_payout' | 'kept' | 'refund_owed' | 'refund_handed_back' | 'reversed'
  payout: {
    id: string
    state: string
    amountMsat: string
    paymentHash: string | null
    preimage: string | null
    feesPaidMsat: string | null
    updatedAtMs: number
  } | null
  paidAtMs: number | null
}

export interface SettlementNoteView {
  id: number
  author: string
  system: boolean
  text: string
  createdAtMs: number
}

export interface SettlementEventView {
  fromStatus: string | null
  toStatus: string
  reason: string | null
  author: string
  atMs: number
}

/** A worklist item the operator resolved on this settlement (refund handed back, fee mismatch looked into). */
export interface SettlementResolutionView {
  kind: 'refund_due' | 'fee_mismatch'
  author: string
  /** The note typed when resolving it, if any. */
  note: string | null
  /** The refund reference the operator gave (refunds only). */
  reference: string | null
  atMs: number
}

export interface SettlementDetailView {
  row: SettlementRowView
  atmEventId: string | null
  atmPubkey: string | null
  recordCreatedAt: number
  fiatRequestedMinor: string
  claimedFeeMsat: string | null
  feeMismatchMsat: string | null
  platformPpm: number | null
  operatorPpm: number | null
  discountPpm: number | null
  localDay: string | null
  timeZone: string | null
  reason: string | null
  generation: number
  result: {
    principalMsat: string
    commissionMsat: string
    platformFeeMsat: string
    operatorFeeMsat: string
    refundDueMsat: string
    fiatMinor: string
  } | null
  badges: {
    signature: BadgeView
    delegation: BadgeView
    roster: BadgeView & { rosterEventId: string | null }
    wallet: BadgeView & { preimage: string | null; settledAt: number | null }
    receipt: BadgeView & { eventId: string | null; relays: string[] }
  }
  legs: SettlementLegView[]
  notes: SettlementNoteView[]
  events: SettlementEventView[]
  /** Worklist items resolved on this settlement, oldest first (append-only acknowledgements). */
  resolutions?: SettlementResolutionView[]
}

export interface SettlementCsvView {
  fileName: string
  csv: string
  /** The column dictionary as CSV (column, meaning). */
  dictionaryCsv: string
  rows: number
  /** True when the filter matched more than `maxRows`; narrow it to export everything. */
  truncated: boolean
  maxRows: number
}

/** Every CSV column with what it means, in the order of the export. */
export const SETTLEMENT_CSV_COLUMNS: ReadonlyArray<{ name: string; meaning: string }> = [
  { name: 'settlement_id', meaning: 'The console’s number for the settlement.' },
  { name: 'booked_at_utc', meaning: 'When the console booked it, ISO 8601 in UTC.' },
  { name: 'local_day', meaning: 'The business day it counts for, in the operator’s time zone.' },
  { name: 'machine_id', meaning: 'The ATM’s machine id.' },
  { name: 'machine_name', meaning: 'The ATM’s name as configured.' },
  { name: 'direction', meaning: 'cash_out: the customer sold bitcoin for cash; cash_in: bought bitcoin with cash.' },
  { name: 'status', meaning: 'pending, processing, processed, errored or rejected.' },
  { name: 'currency', meaning: 'ISO 4217 code of the fiat amounts on this row.' },
  { name: 'fiat', meaning: 'Fiat dispensed (cash-out) or inserted (cash-in), in major units.' },
  { name: 'fiat_requested', meaning: 'Fiat the customer asked for (differs from fiat after a partial dispense).' },
  { name: 'wire_msat', meaning: 'The Lightning amount of the payment, in millisatoshis.' },
  { name: 'commission_msat', meaning: 'Platform fee plus operator fee, in millisatoshis.' },
  { name: 'platform_fee_msat', meaning: 'The platform’s fee, in millisatoshis.' },
  { name: 'operator_fee_msat', meaning: 'The operator’s fee, in millisatoshis (split among the commission splits).' },
  { name: 'refund_due_msat', meaning: 'What the customer is owed back, in millisatoshis (0 if nothing).' },
  { name: 'claimed_fee_msat', meaning: 'The fee the ATM said it charged, in millisatoshis.' },
  { name: 'fee_mismatch_msat', meaning: 'ATM-claimed fee minus the console’s fee, in millisatoshis.' },
  { name: 'fee_mismatch_flagged', meaning: '1 when the difference is beyond the tolerance.' },
  { name: 'refund_open', meaning: '1 when a refund is still owed to the customer.' },
  { name: 'payment_hash', meaning: 'The Lightning payment hash (hex); the settlement’s unique key.' },
  { name: 'atm_tx_id', meaning: 'The ATM’s own transaction id.' },
  { name: 'atm_event_id', meaning: 'The Nostr event id of the ATM’s record.' },
  { name: 'receipt_event_id', meaning: 'The Nostr event id of the console’s signed receipt, once created.' },
]

/** Totals of one direction over one period, per currency. */
export interface DirectionTotalsView {
  direction: 'cash_out' | 'cash_in'
  currency: string
  count: number
  fiatMinor: string
  msat: string
}

export interface PeriodSummaryView {
  period: 'today' | '7d' | '30d'
  /** First local day of the period (YYYY-MM-DD, operator's time zone); the period runs to now. */
  fromDay: string
  totals: DirectionTotalsView[]
  platformFeeMsat: string
  operatorFeeMsat: string
  splits: Array<{ recipientId: string; msat: string }>
  lps: Array<{ lpId: string; name: string | null; msat: string; fiatMinor: string; currency: string | null }>
}

export interface MachineAttentionView {
  machineId: string | null
  atmPubkey: string | null
  name: string | null
  reasons: Array<'offline' | 'delegation_expiring' | 'delegation_expired' | 'refused_records'>
  /** One sentence per reason, in the order of `reasons`. */
  texts: string[]
}

export interface DashboardSummaryView {
  atMs: number
  timeZone: string
  today: string
  periods: PeriodSummaryView[]
  /** Per local day for the last 30 days (only days with activity). */
  perDay: Array<{
    day: string
    direction: 'cash_out' | 'cash_in'
    currency: string
    count: number
    fiatMinor: string
    msat: string
  }>
  commissionPerDay: Array<{ day: string; platformMsat: string; operatorMsat: string }>
  perMachine: Array<{
    machineId: string
    name: string | null
    currency: string
    cashOutFiatMinor: string
    cashInFiatMinor: string
    cashOutCount: number
    cashInCount: number
  }>
  wallet: { balanceMsat: string | null; error: string | null; checkedAtMs: number | null }
  worklist: {
    settlements: number
    refunds: number
    feeMismatches: number
    payouts: number
    paused: number
    total: number
  }
  alerts: Array<{ id: number; kind: string; message: string; atMs: number }>
  machines: MachineAttentionView[]
  delegations: DelegationWarningView[]
}

/** Push event: something in the settlement history changed (booked, status, paid, noted, receipt). */
export interface SettlementsChangedView {
  /** Increases with every change the console noticed; a screen reloads when it moves. */
  version: string
  atMs: number
}
