// The IPC contract between the renderer and the main side (docs/architecture.md §2): ONE list of methods, each with an argument
// schema and a result type, and one list of push events with their payload types. The Electron preload, the
// main-side handler registration, the headless WebSocket bridge and the renderer's typed client are all generated
// from these two tables, so they cannot drift apart.
//
// Adding a method is a one-place change here plus its implementation in the services (`src-main/services.ts`,
// whose handler table is typed `Handlers`, so a method without a handler is a compile error):
//
//     'fleet.list': method<FleetRow[]>()(object({ limit: int(1, 500) })),
//
// Wire rules: everything is JSON-safe. bigint amounts travel as decimal strings (`wireMsat: '21000'`), bytes as
// lowercase hex. Arguments are positional; optional inputs go into one options object with optional fields.
// Every call answers `{ ok: true, value }` or `{ ok: false, error: { code, message, field? } }`.
//
// Pure TypeScript: no Node, Electron or DOM imports, because the sandboxed preload bundles this file too.

import { isCurrency } from '../money/iso4217'
import type { SignerActivity } from '../signer-activity'
import { type AuditCloseView, type AuditHeadView, auditCloseQuarterInput, type PeriodView } from './audit'
import {
  type AuditChangesView,
  type AuditExportListItem,
  type AuditExportProgress,
  type AuditExportView,
  type AuditVerifyView,
  auditExportInput,
  auditVerifyInput,
} from './audit-export'
import {
  type BunkerClientView,
  type BunkerConnectView,
  type BunkerLogView,
  type BunkerStatusView,
  bunkerAcceptInput,
  bunkerIssueInput,
  bunkerLogInput,
  bunkerRevokeInput,
  type RemoteSignerView,
  remoteSignerCancelInput,
  remoteSignerConnectInput,
} from './bunker'
import {
  type FleetSetConfigView,
  fleetConfirmWalletRevokedInput,
  fleetMachineInput,
  fleetSetConfigInput,
  type MachineDetailView,
  type WalletRevocationView,
} from './fleet-machine'
import {
  type DelegationView,
  type FleetPairView,
  type FleetRenewView,
  type FleetRevokeView,
  fleetPairInput,
  fleetRenewInput,
  fleetRevokeInput,
} from './fleet-pairing'
// ---- live push (issue 9) ----
import type { BackupProgressView, LiveChangeView } from './live'
import { type LpServiceStatusView, lpServiceSetEnabledInput, lpServiceStatusInput } from './lp-service'
import {
  type DepositChangeView,
  type DepositView,
  type DustSettleView,
  type LpDeactivateView,
  type LpHistoryView,
  type LpStatementView,
  type LpView,
  lpDeactivateInput,
  lpDepositConfirmInput,
  lpDepositRecordInput,
  lpDepositReverseInput,
  lpDustSettleInput,
  lpHistoryInput,
  lpListInput,
  lpRegisterInput,
  lpSetDestinationInput,
  lpStatementInput,
} from './lps'
import { type LpStatementSentView, lpCheckDestinationInput, lpStatementSendInput, lpUpdateInput } from './lps-screen'
// ---- onboarding (issue 13) ----
import {
  type OnboardingStatusView,
  onboardingCheckRelayInput,
  onboardingCheckWalletInput,
  onboardingFeesInput,
  onboardingSaveInput,
  type RelayCheckView,
  type WalletCheckView,
} from './onboarding'
// ---- end onboarding (issue 13) ----
import {
  type PayoutListView,
  payoutsListInput,
  type ReceiptListView,
  type RecipientsView,
  type RecipientView,
  type ReconcileDifferenceView,
  type ReconcileStatusView,
  receiptsListInput,
  recipientSetActiveInput,
  recipientSetDestinationInput,
  recipientSetSplitWeightsInput,
  recipientSetThresholdInput,
  recipientsListInput,
  reconcileDifferencesInput,
} from './recipients'
// ---- end live push (issue 9) ----
import { relayUrl } from './relay-url'
import { array, hex, type Infer, int, object, oneOf, optional, refine, type Schema, string, tuple } from './schema'
import {
  type BackupView,
  backupCreateInput,
  backupRestoreInput,
  type FeesView,
  feesSetInput,
  type RestoreView,
  relayCheckInput,
  type RelayCheckView as SettingsRelayCheckView,
  type WalletCheckView as SettingsWalletCheckView,
} from './settings-screen'
import {
  type DashboardSummaryView,
  dashboardSummaryInput,
  type SettlementCountView,
  type SettlementCsvView,
  type SettlementDetailView,
  type SettlementNoteView,
  type SettlementPageView,
  type SettlementsChangedView,
  settlementsAddNoteInput,
  settlementsCountInput,
  settlementsCsvInput,
  settlementsGetInput,
  settlementsListInput,
} from './settlements'
import {
  type SignerDeviceView,
  type SignerEmulatorScreenView,
  type SignerRequestLogView,
  signerCancelInput,
  signerEmulatorPinInput,
  signerEmulatorPressInput,
  signerRequestsInput,
} from './signer-device'
import {
  payoutReleaseInput,
  payoutResumeInput,
  type SettlementStatusView,
  settlementForceResetInput,
  settlementRetryInput,
  type WorklistView,
  worklistListInput,
  worklistResolveInput,
} from './worklist'

// ---------------------------------------------------------------------------------------------------------------
// Result envelope and error codes

export const ERROR_CODES = [
  /** The arguments failed the schema; `field` names the offending one. */
  'bad_args',
  /** The caller is not allowed (wrong sender frame/origin, missing token, demo-only action …). */
  'forbidden',
  /** The thing named does not exist (or the method name is unknown). */
  'not_found',
  /** The request contradicts the current state (already paid, stale version …). */
  'conflict',
  /** A dependency is not ready or not present (ledger still opening, signer unplugged, relay down). */
  'unavailable',
  /** The operation did not finish in time; it may still complete. */
  'timeout',
  /** A bug or an unexpected failure; the details are in the main-side log, not in the message. */
  'internal',
  /** Too many calls in flight on this connection (issue 11): retry once earlier answers have arrived. */
  'busy',
] as const
export type ErrorCode = (typeof ERROR_CODES)[number]

export interface ApiErrorBody {
  code: ErrorCode
  message: string
  /** The offending field for `bad_args` (`args[0].relays[1]`). */
  field?: string
}

export type Result<T> = { ok: true; value: T } | { ok: false; error: ApiErrorBody }

/**
 * The error every API call throws on the renderer side and services throw on the main side to choose the code.
 * It never carries a secret: messages are shown to the operator and logged.
 */
export class ApiError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly field?: string,
  ) {
    super(message)
    this.name = 'ApiError'
  }

  toBody(): ApiErrorBody {
    return this.field === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, field: this.field }
  }

  static fromBody(body: ApiErrorBody): ApiError {
    return new ApiError(body.code, body.message, body.field)
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Value types (results and event payloads)

export type Runtime = 'electron' | 'node'

export interface AppInfo {
  name: string
  version: string
  /** `electron` in the desktop window, `node` in headless mode (`satmachine serve`). */
  runtime: Runtime
  /** True when any demo flag is on; the renderer then shows a permanent banner (docs/architecture.md §3). */
  demo: boolean
  /** Which demo features are on, e.g. `['emulated-signer']`. Empty in production. */
  demoFlags: string[]
  platform: string
  startedAtMs: number
}

export type LedgerState = 'opening' | 'ready' | 'snapshotting' | 'failed' | 'closed'

export interface LedgerStatusView {
  state: LedgerState
  schemaVersion: number
  /** Sequence number of the last committed transaction. */
  seq: number
  snapshotSeq: number
  journalBytes: number
  lastSnapshotAtMs: number | null
  error?: string
}

export type RelayState = 'connecting' | 'connected' | 'disconnected' | 'error'

export interface RelayHealth {
  url: string
  state: RelayState
  /** Last round-trip time measured on this relay, when known. */
  latencyMs?: number
  lastEventAtMs?: number
  error?: string
}

export interface RelayStatusView {
  relays: RelayHealth[]
}

/** One ATM the console knows (from the roster and the machine configs), with what it sent. JSON-safe. */
export interface FleetMachineView {
  atmPubkey: string
  machineId: string | null
  name: string | null
  currency: string | null
  /** Against the newest roster: member, revoked (dropped by a later version), not_listed, or no roster yet. */
  rosterStatus: 'member' | 'revoked' | 'not_listed' | 'no_roster'
  configEventId: string | null
  configCreatedAt: number | null
  booked: number
  rejected: number
  lastRecordAt: number | null
}

/** An ATM record the console did not book, with the reason code of docs/protocol.md §9. Nothing was paid. */
export interface RejectedRecordView {
  id: number
  eventId: string
  atmPubkey: string
  createdAt: number
  reason: string
  detail: string
  /** True when a later attempt may still book it (wallet down, roster not yet seen …). */
  retryable: boolean
  receivedAtMs: number
}

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const
export type LogLevelName = (typeof LOG_LEVELS)[number]

export interface LogEntry {
  atMs: number
  level: LogLevelName
  scope: string
  msg: string
  /** Structured fields, stringified (bigint amounts as decimal strings). Never secrets. */
  fields: Record<string, string | number | boolean | null>
}

export interface Notice {
  level: 'info' | 'warn' | 'error'
  text: string
  atMs: number
}

// ---------------------------------------------------------------------------------------------------------------
// Settings: a small, validated object persisted by the main side.

/** IANA time zone names accepted by this runtime's Intl (used for "local midnight" in LP daily limits, docs/settlement.md). */
export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz })
    return true
  } catch {
    return false
  }
}

export const MAX_RELAYS = 20

// The relay address schema lives in ./relay-url.ts (it parses the URL and checks the host; issue 9c).
export { relayUrl }

export const settingsFields = {
  /** Shown on receipts, statements and the audit PDF. */
  operatorName: string({ min: 1, max: 100 }),
  /** IANA zone, e.g. `Europe/Berlin`. */
  timeZone: refine(string({ min: 1, max: 64 }), isTimeZone, 'an IANA time zone name (e.g. Europe/Berlin)'),
  relays: array(relayUrl, { max: MAX_RELAYS }),
  /**
   * The operator key (x-only hex) pinned at setup. Optional, so settings files written before it existed still load;
   * set only through `setup.setOperator` (which validates npub or hex), never through `settings.set`.
   */
  operatorPubkey: optional(hex(32)),
  /** The currency amounts are shown in on the Settings screen's preview and reports (ISO 4217; issue 9c). */
  currency: optional(refine(string({ min: 3, max: 3 }), isCurrency, 'an ISO 4217 currency code (e.g. EUR)')),
} as const

export const settingsSchema = object(settingsFields)
export type Settings = Infer<typeof settingsSchema>

/** `settings.set` takes a patch: any subset of the fields, the rest stays as it is. */
export const settingsPatchSchema = object({
  operatorName: optional(settingsFields.operatorName),
  timeZone: optional(settingsFields.timeZone),
  relays: optional(settingsFields.relays),
  currency: settingsFields.currency,
})
export type SettingsPatch = Infer<typeof settingsPatchSchema>

export const DEFAULT_SETTINGS: Settings = { operatorName: 'Operator', timeZone: 'UTC', relays: [] }

// ---------------------------------------------------------------------------------------------------------------
// Operator setup (src-main/setup/): what the fleet and payout pipeline need before they can run.

/** Where the pipeline stands: `inert` (something missing, see `missing`), `starting`, `running`, `failed`. */
export type PipelineState = 'inert' | 'starting' | 'running' | 'failed'

export interface SetupStatusView {
  /** The pinned operator key, or null before `setup.setOperator`. */
  operator: { pubkey: string; npub: string } | null
  /** The console key (created by the app on first use, sealed in the secret store), or null before that. */
  console: { pubkey: string; npub: string } | null
  /** The operator wallet's public parts; the connection URI itself never leaves the secret store. */
  operatorWallet: { walletPubkey: string; relays: string[]; lud16: string | null } | null
  /** The secret store's box (its scheme and one-line description) or why there is none. */
  secrets: { available: boolean; scheme: string | null; description: string | null; error: string | null }
  /** The relays the fleet listens on (the `relays` setting). */
  relays: string[]
  /** What is still missing before the pipeline can start: `operator`, `operatorWallet`, `relays`, `secrets`. */
  missing: string[]
  pipeline: {
    state: PipelineState
    /** One sentence for the operator: why inert, why failed, or what runs. */
    reason: string
    /** False when the services were wired by the caller (tests, tools): setup changes then apply at next start. */
    appliesLive: boolean
    sinceMs: number
  }
}

/** `setup.setOperator`: the operator's public key as npub or 64 hex digits. */
export const setupOperatorInput = object({ operatorNpub: string({ min: 1, max: 200 }) })
/** `setup.setOperatorWallet`: the operator wallet's NWC connection URI (sealed at once, never answered back). */
export const setupOperatorWalletInput = object({ nwcUri: string({ min: 1, max: 4000 }) })

// ---------------------------------------------------------------------------------------------------------------
// Methods

/** A contract entry: the argument schema (a tuple) plus the result type, carried only at the type level. */
export interface MethodSpec<A extends unknown[], R> {
  readonly args: Schema<A>
  /** Phantom: never set at runtime. */
  readonly __result?: R
}

/** `method<Result>()(argSchema…)` declares a method; the curried form lets TypeScript infer the arguments. */
export function method<R>() {
  return <const A extends readonly Schema<unknown>[]>(
    ...args: A
  ): MethodSpec<{ -readonly [I in keyof A]: Infer<A[I]> }, R> => ({
    args: tuple(args) as unknown as Schema<{ -readonly [I in keyof A]: Infer<A[I]> }>,
  })
}

export const METHODS = {
  /** Name, version, runtime and demo flags. */
  'app.info': method<AppInfo>()(),
  'ledger.status': method<LedgerStatusView>()(),
  /** Health of each configured relay; empty while the fleet feature is not configured (no relays/operator). */
  'relay.status': method<RelayStatusView>()(),
  /** The fleet's ATMs: roster status, config, booked and rejected counts. Empty when the fleet is not set up. */
  'fleet.machines': method<FleetMachineView[]>()(),
  /** Rejected ATM records, newest first (page with `beforeId`). */
  'fleet.rejected': method<RejectedRecordView[]>()(
    object({ limit: optional(int(1, 1000)), beforeId: optional(int(1, Number.MAX_SAFE_INTEGER)) }),
  ),
  // ATM pairing (docs/protocol.md §10; shapes in ./fleet-pairing.ts). Signed by the operator's signer; without one
  // (or without a running fleet feature) these answer `unavailable` before anything is signed.
  /** Pairs an ATM: delegation, config, roster signed, stored and published; answers the one-shot URI + QR. */
  'fleet.pair': method<FleetPairView>()(fleetPairInput),
  /** Issues a new delegation window for an ATM in the roster; answers a new one-shot URI (without NWC). */
  'fleet.renew': method<FleetRenewView>()(fleetRenewInput),
  /** Signs, stores and publishes a roster without the ATM; its later records are rejected `revoked`. */
  'fleet.revoke': method<FleetRevokeView>()(fleetRevokeInput),
  /** Every delegation issued, newest first, with window, status and days left. */
  'fleet.delegations': method<DelegationView[]>()(),
  // ---- fleet machine (issue 9d) ----
  // One machine's detail, config edits signed on the operator's signer, wallet reminders (shapes in ./fleet-machine.ts).
  /** Status, last seen, last record, delegation window, relay health, the config in force and its signed history. */
  'fleet.machine': method<MachineDetailView>()(fleetMachineInput),
  /** Signs (on the operator's signer), stores and publishes a new config version for a paired ATM. */
  'fleet.setConfig': method<FleetSetConfigView>()(fleetSetConfigInput),
  /** Revoked ATMs whose wallet connection the operator has not confirmed revoking in the wallet yet. */
  'fleet.walletRevocations': method<WalletRevocationView[]>()(),
  /** The operator confirms the ATM's wallet connection is revoked in the wallet (an append-only acknowledgement). */
  'fleet.confirmWalletRevoked': method<{ ackId: number }>()(fleetConfirmWalletRevokedInput),
  // ---- end fleet machine (issue 9d) ----
  'settings.get': method<Settings>()(),
  /** Applies a validated patch, persists it and answers the full new settings. */
  'settings.set': method<Settings>()(settingsPatchSchema),
  /** The newest log records, newest last, optionally only at or above `minLevel`. */
  'log.recent': method<LogEntry[]>()(
    object({ limit: optional(int(1, 1000)), minLevel: optional(oneOf(...LOG_LEVELS)) }),
  ),
  /** What the operator has set up (operator key, console key, operator wallet, secrets, relays) and the pipeline. */
  'setup.status': method<SetupStatusView>()(),
  /** Pins the operator key (npub or hex); the fleet and payout pipeline (re)start when setup is complete. */
  'setup.setOperator': method<SetupStatusView>()(setupOperatorInput),
  /** Seals the operator wallet's NWC URI in the secret store; the URI never comes back out. */
  'setup.setOperatorWallet': method<SetupStatusView>()(setupOperatorWalletInput),
  // LP lifecycle (issue 5; shapes in ./lps.ts). Amounts are decimal strings; an NWC URI goes in, never out.
  /** Every LP with its derived balance, pending deposits, accrued msat, destination and payout policy. */
  'lps.list': method<LpView[]>()(lpListInput),
  /** Registers an LP (npub, name, destination, flow/fixed, daily limit, payout threshold/schedule/fee cap). */
  'lps.register': method<LpView>()(lpRegisterInput),
  /** Replaces an LP's payout destination and policy (also for a deactivated LP, whose accrual is still paid). */
  'lps.setDestination': method<LpView>()(lpSetDestinationInput),
  /** Records fiat an LP handed over, as a pending deposit. */
  'lps.deposit.record': method<DepositView>()(lpDepositRecordInput),
  /** pending → confirmed: the cash is in the machine; the balance grows. */
  'lps.deposit.confirm': method<DepositChangeView>()(lpDepositConfirmInput),
  /** Cancels a pending deposit, or books a reversing entry against a confirmed one. */
  'lps.deposit.reverse': method<DepositChangeView>()(lpDepositReverseInput),
  /** Statement for [fromMs, toMs): opening/closing balance, totals, every line. */
  'lps.statement': method<LpStatementView>()(lpStatementInput),
  /** Closes (part of) an LP's remaining fiat at the operator's rate; the LP accrues the msat. */
  'lps.dustSettle': method<DustSettleView>()(lpDustSettleInput),
  /** Stops new deposits and allocations; accrued msat are still paid out. */
  'lps.deactivate': method<LpDeactivateView>()(lpDeactivateInput),
  /** Money lines newest first (page with `before`), plus profile events and deposits on the first page. */
  'lps.history': method<LpHistoryView>()(lpHistoryInput),
  // ---- liquidity providers screen (issue 9) ----
  /** Sends the LP its statement for [fromMs, toMs) as a NIP-17 DM from the console key (shapes in ./lps-screen.ts). */
  'lps.statement.send': method<LpStatementSentView>()(lpStatementSendInput),
  /** Renames an LP; changes its mode and daily limit only while it has no deposits (refused after, naming the field). */
  'lps.update': method<LpView>()(lpUpdateInput),
  /** Checks the LP's current destination live again (nothing changes but its health); answers the LP. */
  'lps.checkDestination': method<LpView>()(lpCheckDestinationInput),
  // ---- end liquidity providers screen (issue 9) ----
  // ---- lp self-service (issue 12) ----
  // LPs ask the console key for their own figures by NIP-17 DM or RPC (docs/lp-rpc.md; shapes in ./lp-service.ts).
  /** The global switch, each LP's switch, answered/refused counts and last requests, unknown-key refusals. */
  'lpService.status': method<LpServiceStatusView>()(lpServiceStatusInput),
  /** Turns self-service on or off for one LP, or for everyone (`lpId: null`); answers the new status. */
  'lpService.setEnabled': method<LpServiceStatusView>()(lpServiceSetEnabledInput),
  // ---- end lp self-service (issue 12) ----
  // The operator's worklist (issues 4 and 5; shapes in ./worklist.ts): what needs a human, and the actions.
  /** Errored/stuck settlements, refunds owed, fee mismatches, failed or unknown payouts, paused wallets, alerts. */
  'worklist.list': method<WorklistView>()(worklistListInput),
  /** Marks a refund handed back (with its reference) or a fee mismatch looked into. */
  'worklist.resolve': method<{ ackId: number }>()(worklistResolveInput),
  /** errored → pending: the settlement is processed again. */
  'settlements.retry': method<SettlementStatusView>()(settlementRetryInput),
  /** pending/processing without progress for N minutes → errored, so a crashed worker's claim is dropped. */
  'settlements.forceReset': method<SettlementStatusView>()(settlementForceResetInput),
  /** Resumes payouts on a wallet connection paused for lack of balance, budget or permission. */
  'payouts.resume': method<{ ok: true }>()(payoutResumeInput),
  /** Takes a payout that failed for good off the worklist; its amount is planned again. */
  'payouts.release': method<{ payoutId: string; state: string }>()(payoutReleaseInput),
  // ---- recipients and money history (issue 15) ----
  // The platform fee and commission-split recipients, paid like LPs (docs/payouts.md; shapes in ./recipients.ts).
  /** The platform and every split: destination and its health, accrued sats, threshold, state; the change log. */
  'recipients.list': method<RecipientsView>()(recipientsListInput),
  /** Sets (checked live first) or removes (null) a recipient's destination; an NWC URI goes in, never out. */
  'recipients.setDestination': method<RecipientView>()(recipientSetDestinationInput),
  /** The payout threshold in whole sats. */
  'recipients.setThreshold': method<RecipientView>()(recipientSetThresholdInput),
  /** Pauses or resumes a recipient's payouts; a paused recipient keeps accruing. */
  'recipients.setActive': method<RecipientView>()(recipientSetActiveInput),
  /** New split weights as a logged fee-configuration change, in force from now. */
  'recipients.setSplitWeights': method<{ configurations: number; changes: number }>()(recipientSetSplitWeightsInput),
  /** Payouts newest first, per recipient or LP, with state and preimage; keyset-paged by `cursor`. */
  'payouts.list': method<PayoutListView>()(payoutsListInput),
  /** Settlement receipts newest first with their event ids and the relays that accepted them. */
  'receipts.list': method<ReceiptListView>()(receiptsListInput),
  /** Whether the wallet reconciliation runs, its last run and how many differences are open. */
  'reconcile.status': method<ReconcileStatusView>()(),
  /** Differences between the wallet and the ledger found by the recent runs, newest first. */
  'reconcile.differences': method<ReconcileDifferenceView[]>()(reconcileDifferencesInput),
  // ---- end recipients and money history (issue 15) ----
  // ---- bunker (issue 8b) ----
  // The local NIP-46 bunker and the remote-bunker operator signer (docs/nip46-bunker.md; shapes in ./bunker.ts).
  /** Whether the bunker listens, its transport pubkey, relays and every authorised client. */
  'bunker.status': method<BunkerStatusView>()(),
  /** A fresh single-use bunker:// URI (and its QR) granting these permissions to the first client that uses it. */
  'bunker.issueConnect': method<BunkerConnectView>()(bunkerIssueInput),
  /** Authorises the client of a pasted nostrconnect:// URI with these permissions and answers it. */
  'bunker.acceptNostrConnect': method<BunkerClientView>()(bunkerAcceptInput),
  /** Revokes a client: its requests are refused from now on. */
  'bunker.revoke': method<{ revoked: boolean }>()(bunkerRevokeInput),
  /** The request log, newest first (who asked, what, when, outcome). */
  'bunker.log': method<BunkerLogView>()(bunkerLogInput),
  /** The connection to a remote NIP-46 bunker (phone signer) used as the operator signer. */
  'remoteSigner.status': method<RemoteSignerView>()(),
  /** Connects to a remote bunker with a pasted bunker:// URI; its key must be the pinned operator key. */
  'remoteSigner.connect': method<RemoteSignerView>()(remoteSignerConnectInput),
  /** Shows a nostrconnect:// URI (and QR) for the phone to scan; the status event says when it connected. */
  'remoteSigner.nostrConnect': method<RemoteSignerView>()(),
  'remoteSigner.disconnect': method<RemoteSignerView>()(),
  /** Cancels a request waiting on the phone (the `requestId` of its signer.activity event). */
  'remoteSigner.cancel': method<{ cancelled: boolean }>()(remoteSignerCancelInput),
  // ---- end bunker (issue 8b) ----
  // ---- signer device (issue 8b) ----
  // The operator's hardware signer (docs/signer-host.md; shapes in ./signer-device.ts).
  /** Device state, what is connected, what is pinned, whether operator signatures go through it now. */
  'signer.status': method<SignerDeviceView>()(),
  /** Looks for the device now (discovery otherwise retries with backoff). */
  'signer.connect': method<SignerDeviceView>()(),
  /** The device shows its npub; once the operator confirms it there, npub + serial are pinned. */
  'signer.pin': method<SignerDeviceView>()(),
  /** Forgets the pinned device (the operator key in the settings stays). */
  'signer.forget': method<SignerDeviceView>()(),
  /** Cancels a request waiting on the device (the `requestId` of its signer.activity event). */
  'signer.cancel': method<{ cancelled: boolean }>()(signerCancelInput),
  /** Every request the signer was asked, newest first (who asked, what, when, outcome). */
  'signer.requests': method<SignerRequestLogView>()(signerRequestsInput),
  /** Demo only: the emulated device's screen (null when the signer is not emulated in this process). */
  'signer.emulator.screen': method<SignerEmulatorScreenView | null>()(),
  /** Demo only: presses a button on the emulated device. */
  'signer.emulator.press': method<SignerEmulatorScreenView>()(signerEmulatorPressInput),
  /** Demo only: types the PIN on the emulated device's keypad (the console never sends a PIN to a real device). */
  'signer.emulator.pin': method<SignerEmulatorScreenView>()(signerEmulatorPinInput),
  // ---- end signer device (issue 8b) ----
  // ---- audit export (issue 10b) ----
  // The quarterly export and its verification (docs/audit-export.md; shapes in ./audit-export.ts).
  /** Exports a quarter to <data dir>/exports/: CSV files, manifest, head, report PDF; progress as events. */
  'audit.export': method<AuditExportView>()(auditExportInput),
  /** The exports made so far, newest first. */
  'audit.exports': method<AuditExportListItem[]>()(),
  /** Runs the verify-audit checks on one export (drafts allowed); each problem names file, line and column. */
  'audit.verifyExport': method<AuditVerifyView>()(auditVerifyInput),
  /** Fee configuration changes (old → new) and wallet reconciliation runs with their differences, newest first. */
  'audit.changes': method<AuditChangesView>()(),
  // ---- end audit export (issue 10b) ----
  // ---- settlements and dashboard (issue 9) ----
  // The settlement history (keyset-paged on the server), one settlement's detail, notes, CSV, and the Dashboard's
  // aggregates (shapes in ./settlements.ts).
  /** One page of settlements matching the filter, in the chosen order; `after` is the previous page's `next`. */
  'settlements.list': method<SettlementPageView>()(settlementsListInput),
  /** How many settlements match the filter, counted up to a cap (asked after the page is on screen). */
  'settlements.count': method<SettlementCountView>()(settlementsCountInput),
  /** Everything about one settlement: record, verification badges, legs with payouts, notes, status history. */
  'settlements.get': method<SettlementDetailView>()(settlementsGetInput),
  /** Appends an operator note (notes are never edited or deleted). */
  'settlements.addNote': method<SettlementNoteView>()(settlementsAddNoteInput),
  /** The current filter as CSV, with its column dictionary. */
  'settlements.csv': method<SettlementCsvView>()(settlementsCsvInput),
  /** Today / 7 d / 30 d per direction, commission, LP distributions, wallet balance, worklist, attention, charts. */
  'dashboard.summary': method<DashboardSummaryView>()(dashboardSummaryInput),
  // ---- end settlements and dashboard (issue 9) ----
  // ---- onboarding (issue 13) ----
  // The first-run wizard (docs/onboarding.md; shapes in ./onboarding.ts). Progress is kept by the main side.
  /** Where the operator stands in the wizard, the signer's state and whether the console is configured. */
  'onboarding.status': method<OnboardingStatusView>()(),
  /** Moves to a step, marks one done, or closes the wizard (`dismissed`); answers the new status. */
  'onboarding.save': method<OnboardingStatusView>()(onboardingSaveInput),
  /** Connects to one relay now and asks it for nothing: answers whether it replied, and how fast. */
  'onboarding.checkRelay': method<RelayCheckView>()(onboardingCheckRelayInput),
  /** Asks a wallet connection for get_info and get_balance (nothing is saved; the URI is not kept). */
  'onboarding.checkWallet': method<WalletCheckView>()(onboardingCheckWalletInput),
  /** Saves the default fees and commission split (the fleet's fee configuration from now on). */
  'onboarding.setFees': method<OnboardingStatusView>()(onboardingFeesInput),
  // ---- end onboarding (issue 13) ----
  // ---- audit (issue 10) ----
  // The tamper-evident audit log (docs/audit.md; shapes in ./audit.ts).
  /** Every quarter from the first booking to now: open, closed (locked, attestation signed) or attested (on a relay). */
  'audit.periods': method<PeriodView[]>()(),
  /** Closes an ended quarter: signs a head, the operator signs the kind 3080 attestation on the signer, publishes. */
  'audit.closeQuarter': method<AuditCloseView>()(auditCloseQuarterInput),
  /** The newest signed head, how many entries the log holds, and the start-up check's verdict. */
  'audit.head': method<AuditHeadView>()(),
  // ---- end audit (issue 10) ----
  // ---- settings screen (issue 9c) ----
  // Live checks, the fleet's default fees, ledger backup and restore (docs/settings.md; shapes in ./settings-screen.ts).
  /** Connects to a relay and waits for one REQ to be answered by EOSE, within the timeout (default 6 s). */
  'settings.checkRelay': method<SettingsRelayCheckView>()(relayCheckInput),
  /** The saved operator wallet asked for get_info and get_balance. */
  'settings.checkWallet': method<SettingsWalletCheckView>()(),
  /** The fleet default fee configuration in force. */
  'fees.get': method<FeesView>()(),
  /** New fleet default fees from now on (appended to the ledger's fee configurations; splits unchanged). */
  'fees.set': method<FeesView>()(feesSetInput),
  /** A consistent ledger snapshot + journal copy with a SHA-256 manifest, in a new folder inside `folder`. */
  'backup.create': method<BackupView>()(backupCreateInput),
  /** Verifies a backup folder and stages it to replace the ledger at the next start (the old one kept aside). */
  'backup.restore': method<RestoreView>()(backupRestoreInput),
  // ---- end settings screen (issue 9c) ----
} as const

export type Methods = typeof METHODS
export type MethodName = keyof Methods
export type MethodArgs<M extends MethodName> = Methods[M] extends MethodSpec<infer A, unknown> ? A : never
export type MethodResult<M extends MethodName> = Methods[M] extends MethodSpec<unknown[], infer R> ? R : never

/** Every method name, in declaration order. The preload and the bridge expose exactly these (+ `on`). */
export const METHOD_NAMES = Object.keys(METHODS) as MethodName[]

export function isMethodName(name: unknown): name is MethodName {
  return typeof name === 'string' && Object.hasOwn(METHODS, name)
}

/**
 * The main-side implementation of the whole contract. Typing the service table with this makes a missing handler
 * a compile error. Handlers receive validated arguments and may return a value or a promise, or throw `ApiError`.
 */
export type Handlers = {
  [M in MethodName]: (...args: MethodArgs<M>) => MethodResult<M> | Promise<MethodResult<M>>
}

// ---------------------------------------------------------------------------------------------------------------
// Push events (main → renderer)

export interface EventSpec<P> {
  /** Phantom: never set at runtime. */
  readonly __payload?: P
}
const event = <P>(): EventSpec<P> => ({})

export const EVENTS = {
  'ledger.status': event<LedgerStatusView>(),
  'relay.status': event<RelayStatusView>(),
  /** The setup status after any change (saved operator or wallet, pipeline started or failed). */
  'setup.status': event<SetupStatusView>(),
  /** Something the operator should see as a toast (relay lost, payout failed, ledger snapshot failed …). */
  notice: event<Notice>(),
  // ---- bunker (issue 8b) ----
  'bunker.status': event<BunkerStatusView>(),
  'remoteSigner.status': event<RemoteSignerView>(),
  /** One operator-signer request's progress ("approve on your phone"), for the confirm dialog. */
  'signer.activity': event<SignerActivity>(),
  // ---- end bunker (issue 8b) ----
  // ---- signer device (issue 8b) ----
  /** The device state after any change (plugged, unplugged, locked, busy, pinned, forgotten). */
  'signer.device': event<SignerDeviceView>(),
  /** Demo only: the emulated device's screen while it changes. */
  'signer.emulator.screen': event<SignerEmulatorScreenView>(),
  // ---- end signer device (issue 8b) ----
  // ---- audit export (issue 10b) ----
  /** One step of a running audit export (fraction 0…1); the last one has done = true. */
  'audit.exportProgress': event<AuditExportProgress>(),
  // ---- end audit export (issue 10b) ----
  // ---- settlements and dashboard (issue 9) ----
  /** The settlement history changed (booked, status, paid, noted, receipt): lists, drawer and Dashboard reload. */
  'settlements.changed': event<SettlementsChangedView>(),
  // ---- end settlements and dashboard (issue 9) ----
  // ---- live push (issue 9) ----
  // One area of the ledger changed (src-shared/ipc/live.ts says which tables belong to which area); coalesced on
  // the main side, so a burst of bookings is a few pushes. The screens reload what they show; none has a Refresh.
  /** Machines paired, revoked or reconfigured, a record received (last seen, booked or refused), delegations. */
  'fleet.changed': event<LiveChangeView>(),
  /** Providers added or edited, deposits recorded, confirmed or reversed, accruals, destination checks. */
  'lps.changed': event<LiveChangeView>(),
  /** A payout planned, sent, paid, failed or released; recipients and wallet reconciliation. */
  'payouts.changed': event<LiveChangeView>(),
  /** Something that needs a human appeared or was cleared. */
  'worklist.changed': event<LiveChangeView>(),
  /** One step of a running backup or restore check (long operations show progress). */
  'backup.progress': event<BackupProgressView>(),
  // ---- end live push (issue 9) ----
} as const

export type Events = typeof EVENTS
export type EventName = keyof Events
export type EventPayload<E extends EventName> = Events[E] extends EventSpec<infer P> ? P : never
export const EVENT_NAMES = Object.keys(EVENTS) as EventName[]

export function isEventName(name: unknown): name is EventName {
  return typeof name === 'string' && Object.hasOwn(EVENTS, name)
}

/** How the main side pushes an event to every renderer (Electron windows or WebSocket clients). */
export type Emit = <E extends EventName>(event: E, payload: EventPayload<E>) => void

// ---------------------------------------------------------------------------------------------------------------
// Transport constants

/** Electron IPC channel for a method: `satmachine:app.info`. */
export const IPC_CHANNEL_PREFIX = 'satmachine:'
/** Electron IPC channel carrying every push event as `(name, payload)`. */
export const IPC_EVENT_CHANNEL = 'satmachine-event'
/** Headless mode: the WebSocket path and the injected preload twin. */
export const BRIDGE_PATH = '/__bridge'
export const BRIDGE_SCRIPT_PATH = '/__bridge/preload.js'

/** Headless WebSocket frames. */
export interface BridgeRequest {
  id: number
  method: string
  args: unknown[]
}
export interface BridgeResponse {
  id: number
  result: Result<unknown>
}
export interface BridgeEvent {
  event: EventName
  payload: unknown
}

/** The strict Content-Security-Policy for app pages (header form; the meta form omits frame-ancestors). */
export const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
