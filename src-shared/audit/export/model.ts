// The audit export's input: what the ledger held for one period, read by src-main/audit-export/read-ledger.ts and
// turned into CSV files by ./tables.ts (docs/audit-export.md). Plain data, no behaviour. Money is bigint msat or
// bigint fiat minor units of the row's own currency (ISO 4217 exponent); times are Unix milliseconds unless the
// name says seconds. A field the ledger does not hold for a row is null, never a made-up value.

export interface AuditPeriod {
  /** `2026Q4`. */
  quarter: string
  /** Half-open [fromMs, untilMs), UTC instants. */
  fromMs: number
  untilMs: number
}

export interface MachineInfoRow {
  id: string
  name: string
  currency: string
  createdAtMs: number
}

export interface SettlementAuditRow {
  id: number
  /** The ATM record's created_at (seconds): the transaction time, which selects the period. */
  createdAtSec: number
  bookedAtMs: number
  localDay: string | null
  timeZone: string | null
  machineId: string
  direction: 'cash_out' | 'cash_in'
  status: string
  reason: string | null
  paymentHash: string
  atmEventId: string | null
  receiptEventId: string | null
  preimage: string | null
  currency: string
  wireMsat: bigint
  fiatMinor: bigint
  fiatRequestedMinor: bigint
  /** From the settlement's current result generation; null when the record was rejected before booking. */
  principalMsat: bigint | null
  commissionMsat: bigint | null
  platformFeeMsat: bigint | null
  operatorFeeMsat: bigint | null
  refundDueMsat: bigint | null
  platformPpm: number | null
  operatorPpm: number | null
  discountPpm: number | null
  claimedFeeMsat: bigint | null
  feeMismatchMsat: bigint | null
  feeMismatchFlagged: boolean
  generation: number
  notes: number
}

export interface LegAuditRow {
  id: number
  settlementId: number
  generation: number
  kind: string
  recipientId: string
  msat: bigint
  fiatMinor: bigint
  currency: string
  reversesLegId: number | null
  createdAtMs: number
  paidRef: string | null
  paidAtMs: number | null
}

export interface PayoutAuditRow {
  id: string
  recipientKind: string
  recipientId: string
  plannedAtMs: number
  updatedAtMs: number
  state: string
  attempt: number
  amountMsat: bigint
  feesPaidMsat: bigint | null
  maxFeeMsat: bigint
  connectionId: string
  paymentHash: string | null
  preimage: string | null
  reason: string | null
  /** The currency and transaction-time rate its fiat column is stated in (see ./tables.ts payoutRate). */
  currency: string | null
  rateMsatPerMajor: bigint | null
}

export interface LpInfoRow {
  id: string
  name: string
  currency: string
  mode: string
  machineId: string | null
  /** Balance after the LP's last entry before the period (0 when it had none). */
  openingMinor: bigint
}

export interface LpEntryAuditRow {
  id: number
  lpId: string
  kind: string
  deltaMinor: bigint
  balanceAfterMinor: bigint
  depositId: string | null
  legId: number | null
  dustId: number | null
  createdAtMs: number
}

export interface DepositAuditRow {
  id: string
  lpId: string
  currency: string
  status: string
  amountMinor: bigint
  createdAtMs: number
  confirmedAtMs: number | null
  closedAtMs: number | null
  note: string | null
}

export interface WalletRunAuditRow {
  id: number
  fromSec: number
  untilSec: number
  matched: number
  differences: number
  atMs: number
  /** Each difference the run listed, as one line of text (the run's own report, shortened). */
  differenceLines: string[]
}

export interface RejectedAuditRow {
  id: number
  eventId: string | null
  machineId: string | null
  paymentHash: string | null
  field: string | null
  reason: string
  receivedAtMs: number
}

export interface ConfigAuditRow {
  seq: number
  machineId: string | null
  effectiveFromMs: number
  recordedAtMs: number
  author: string
  note: string | null
  /** The configuration's fields as text (ppm values, splits JSON, time zone), compared field by field. */
  fields: Record<string, string>
  /** The same scope's previous version (null for the first one). */
  previous: Record<string, string> | null
}

export interface NoteAuditRow {
  id: number
  settlementId: number | null
  lpId: string | null
  author: string
  system: boolean
  text: string
  createdAtMs: number
}

/** Who the report is for and under which signatures (from the ledger and the signed head). */
export interface AuditProvenance {
  operatorName: string | null
  operatorPubkey: string | null
  consolePubkey: string | null
  appVersion: string
  schemaVersion: number
  timeZone: string
  /** The signed head the export commits to (event JSON) and its id; null until a head exists. */
  headEventId: string | null
  headTreeSize: number | null
  headRootHex: string | null
  attestationEventId: string | null
  periodState: 'open' | 'closed' | 'attested'
}

export interface AuditData {
  period: AuditPeriod
  provenance: AuditProvenance
  machines: MachineInfoRow[]
  settlements: SettlementAuditRow[]
  legs: LegAuditRow[]
  payouts: PayoutAuditRow[]
  lps: LpInfoRow[]
  lpEntries: LpEntryAuditRow[]
  deposits: DepositAuditRow[]
  walletRuns: WalletRunAuditRow[]
  rejected: RejectedAuditRow[]
  configs: ConfigAuditRow[]
  notes: NoteAuditRow[]
}
