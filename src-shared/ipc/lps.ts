// IPC shapes of the LP lifecycle (issue 5 items 3 and 4): argument schemas and result types for the `lps.*`
// methods declared in contract.ts. JSON-safe: amounts are decimal strings with their unit in the name (msat, fiat
// minor units), times are ms since the epoch. An NWC destination's URI travels IN only (lps.register); it is sealed
// at rest by the main side and never comes back out — results show the wallet pubkey instead.
//
// Pure TypeScript (only ./schema): the sandboxed preload bundles this file through contract.ts.
import { boolean, decimal, int, object, oneOf, optional, type Schema, SchemaError, string } from './schema'

export const LP_MODES = ['flow', 'fixed'] as const
export const PAYOUT_SCHEDULES = ['threshold', 'daily', 'weekly'] as const

const lpId = string({ min: 1, max: 100, pattern: /^[A-Za-z0-9][A-Za-z0-9_.:-]*$/, patternName: 'an LP id' })
const depositId = string({ min: 1, max: 200 })
const note = string({ max: 2000, multiline: true })
const ms = int(0, 8_640_000_000_000_000)
const npub = string({ min: 63, max: 63, pattern: /^npub1[02-9ac-hj-np-z]{58}$/, patternName: 'a bech32 npub' })

const lightningAddressInput = object({
  kind: oneOf('lightning_address'),
  address: string({
    min: 3,
    max: 320,
    pattern: /^[A-Za-z0-9\-_.+]{1,64}@[A-Za-z0-9.-]{1,253}(?::\d{1,5})?$/,
    patternName: 'a Lightning address user@domain',
  }),
})
const nwcInput = object({
  kind: oneOf('nwc'),
  uri: string({ min: 20, max: 4000, pattern: /^nostr\+walletconnect:/i, patternName: 'a nostr+walletconnect:// URI' }),
})
const keysendInput = object({
  kind: oneOf('keysend'),
  nodeId: string({ min: 66, max: 66, pattern: /^0[23][0-9a-f]{64}$/, patternName: 'a 33-byte node id (66 hex)' }),
})

export type DestinationInput =
  | { kind: 'lightning_address'; address: string }
  | { kind: 'nwc'; uri: string }
  | { kind: 'keysend'; nodeId: string }

/** A destination, discriminated by `kind`; the error names the field of the chosen kind. */
export const destinationInput: Schema<DestinationInput> = {
  expected: "object {kind: 'lightning_address' | 'nwc' | 'keysend', …}",
  parse(v, path) {
    const kind = typeof v === 'object' && v !== null ? (v as { kind?: unknown }).kind : undefined
    if (kind === 'lightning_address') return lightningAddressInput.parse(v, path)
    if (kind === 'nwc') return nwcInput.parse(v, path)
    if (kind === 'keysend') return keysendInput.parse(v, path)
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new SchemaError(path, 'expected object')
    throw new SchemaError(`${path}.kind`, "expected one of 'lightning_address' | 'nwc' | 'keysend'")
  },
}

export const payoutPolicyInput = object({
  /** Whole sats, in msat (≥ 1000). */
  thresholdMsat: decimal(19),
  schedule: oneOf(...PAYOUT_SCHEDULES),
  maxFeePpm: int(0, 1_000_000),
  maxFeeBaseMsat: optional(decimal(19)),
})

export const lpRegisterInput = object({
  npub,
  name: string({ min: 1, max: 200 }),
  currency: string({ min: 3, max: 3, pattern: /^[A-Z]{3}$/, patternName: 'an ISO 4217 code' }),
  machineId: optional(string({ min: 1, max: 200 })),
  mode: oneOf(...LP_MODES),
  /** Required for fixed mode, refused for flow mode. */
  dailyLimitMinor: optional(decimal(19)),
  destination: destinationInput,
  payout: payoutPolicyInput,
})
export type LpRegisterInput = ReturnType<typeof lpRegisterInput.parse>

/** Replaces an LP's destination and payout policy (an NWC URI is sealed again; the old one is discarded). */
export const lpSetDestinationInput = object({ lpId, destination: destinationInput, payout: payoutPolicyInput })

export const lpListInput = object({ includeInactive: optional(boolean()) })
export const lpDepositRecordInput = object({ lpId, amountMinor: decimal(19), note: optional(note) })
export const lpDepositConfirmInput = object({ depositId })
export const lpDepositReverseInput = object({
  depositId,
  reason: string({ min: 1, max: 2000, multiline: true }),
  /** Part of a confirmed deposit; default all that is left. A pending deposit is cancelled whole. */
  amountMinor: optional(decimal(19)),
})
export const lpStatementInput = object({ lpId, fromMs: ms, toMs: ms })
export const lpDustSettleInput = object({
  lpId,
  /** The operator's rate: msat per major unit of the LP's currency (e.g. per quetzal). */
  rateMsatPerMajor: decimal(19),
  /** Default: the whole remaining balance. */
  fiatMinor: optional(decimal(19)),
  note: optional(note),
})
export const lpDeactivateInput = object({
  lpId,
  reason: string({ min: 1, max: 2000, multiline: true }),
  /** Close the remaining fiat balance at this rate in the same step; otherwise it stays on the books. */
  settleRateMsatPerMajor: optional(decimal(19)),
})
export const lpHistoryInput = object({
  lpId,
  limit: optional(int(1, 1000)),
  before: optional(string({ min: 1, max: 20, pattern: /^\d+$/, patternName: 'a cursor' })),
})

// ---------------------------------------------------------------------------------------------------------------
// Results

export type DestinationView =
  | { kind: 'lightning_address'; address: string }
  | { kind: 'nwc'; walletPubkey: string }
  | { kind: 'keysend'; nodeId: string }

export interface PayoutPolicyView {
  thresholdMsat: string
  schedule: 'threshold' | 'daily' | 'weekly' | 'custom'
  minIntervalMs: number
  /** Routing-fee cap of one payout = maxFeeBaseMsat + amount × maxFeePpm / 10^6 (the payout module's rule). */
  maxFeeBaseMsat: string
  maxFeePpm: number
}

export interface LpView {
  id: string
  name: string
  npub: string | null
  currency: string
  machineId: string | null
  mode: 'flow' | 'fixed'
  dailyLimitMinor: string | null
  active: boolean
  registeredAtMs: number
  deactivatedAtMs: number | null
  deactivationReason: string | null
  /** Remaining fiat (confirmed deposits − reversals − allocations − dust), derived from the ledger. */
  balanceMinor: string
  pendingDepositsMinor: string
  /** msat accrued and not yet paid out (stays payable after deactivation). */
  accruedMsat: string
  destination: DestinationView | null
  payout: PayoutPolicyView | null
  /** The live check made when the current destination was set (null: set before checks existed). */
  health: { ok: boolean; text: string; checkedAtMs: number } | null
  /** msat paid out to the LP so far (paid payouts). */
  paidMsat: string
  /** True once the LP has a deposit or a ledger line: its mode and daily limit can no longer be changed. */
  inUse: boolean
  /** The LP's newest payout, whatever its state. */
  lastPayout: { amountMsat: string; state: string; atMs: number } | null
}

export interface DepositView {
  depositId: string
  lpId: string
  amountMinor: string
  status: 'pending' | 'confirmed' | 'cancelled'
  createdAtMs: number
  confirmedAtMs: number | null
  closedAtMs: number | null
  note: string | null
  /** Fiat taken back by reversing entries (confirmed deposits only). */
  reversedMinor: string
}

export interface DepositChangeView extends DepositView {
  balanceMinor: string
}

export interface LpHistoryLine {
  entryId: number
  atMs: number
  kind: 'deposit' | 'deposit_reversal' | 'allocation' | 'allocation_reversal' | 'dust'
  deltaMinor: string
  balanceAfterMinor: string
  /** Sats the LP earned by this line (allocation legs, dust); negative for a reversal; "0" for deposits. */
  msat: string
  depositId: string | null
  settlementId: number | null
  legId: number | null
  dustId: number | null
  localDay: string | null
}

export interface LpEventView {
  atMs: number
  kind: 'registered' | 'destination' | 'deactivated'
  author: string
  detail: Record<string, unknown>
}

export interface LpHistoryView {
  lines: LpHistoryLine[]
  /** Cursor for the next (older) page, or null. */
  next: string | null
  /** Profile events and deposits: on the first page only. */
  events: LpEventView[]
  deposits: DepositView[]
}

export interface LpStatementView {
  lp: LpView
  fromMs: number
  toMs: number
  currency: string
  openingBalanceMinor: string
  closingBalanceMinor: string
  depositedMinor: string
  depositReversedMinor: string
  /** Net fiat the LP's money bought sats with (allocations minus their reversals). */
  allocatedMinor: string
  dustSettledMinor: string
  /** Net sats earned in the period: allocation legs (net of reversals) plus dust settlements. */
  earnedMsat: string
  openingAccruedMsat: string
  closingAccruedMsat: string
  /** Accrual debits that are not reversals of legs (payouts made by the payout module). */
  paidOutMsat: string
  /** Deposits recorded but not confirmed by the end of the period. */
  pendingDepositsMinor: string
  lines: LpHistoryLine[]
  events: LpEventView[]
}

export interface DustSettleView {
  dustId: number
  fiatMinor: string
  msat: string
  balanceMinor: string
  accruedMsat: string
}

export interface LpDeactivateView extends LpView {
  /** msat the remaining balance was settled for, when settleRateMsatPerMajor was given and a balance remained. */
  settledMsat: string | null
}
