// IPC shapes of the Settings screen (issue 9c; docs/settings.md): the live relay check, the operator wallet's
// state, the fleet's default fees, and backup / restore of the ledger. JSON-safe: amounts are decimal strings with
// their unit in the name, fractions integer ppm, times ms since the epoch. Pure TypeScript (only ./schema and
// ./relay-url): the sandboxed preload bundles this file through contract.ts.
import { relayUrl } from './relay-url'
import { int, object, optional, string } from './schema'

/** `settings.checkRelay`: connect, one REQ answered by EOSE, within the timeout. */
export const relayCheckInput = object({ url: relayUrl, timeoutMs: optional(int(500, 30_000)) })

export interface RelayCheckView {
  url: string
  ok: boolean
  /** Connect + REQ→EOSE round trip, when it answered. */
  latencyMs: number | null
  /** One sentence for the operator when it did not ("nothing listens there (connection refused)"). */
  error: string | null
}

/** `settings.checkWallet`: the saved operator wallet asked for get_info and get_balance. */
export interface WalletCheckView {
  walletPubkey: string
  relays: string[]
  alias: string | null
  methods: string[]
  /** Methods payouts and payment checks need that the connection does not allow. */
  missingMethods: string[]
  balanceMsat: string | null
  /** Why get_balance did not answer, when it did not (get_info did). */
  balanceError: string | null
  checkedAtMs: number
}

/** The fleet default fee configuration in force (machines with their own configuration keep theirs). */
export interface FeesView {
  configured: boolean
  cashOut: { platformPpm: number; operatorPpm: number }
  cashIn: { platformPpm: number; operatorPpm: number }
  discountPpm: number
  splits: Array<{ id: string; weightPpm: number }>
  effectiveFromMs: number | null
  /** Machines with a configuration of their own, which a fleet default change does not touch. */
  machineOverrides: number
}

const ppm = int(0, 1_000_000)
/** `fees.set`: new fleet default fees from now on (splits kept as they are; their weights change on the card). */
export const feesSetInput = object({
  cashOut: object({ platformPpm: ppm, operatorPpm: ppm }),
  cashIn: object({ platformPpm: ppm, operatorPpm: ppm }),
})

const folder = string({ min: 1, max: 1000 })
export const backupCreateInput = object({ folder })
export const backupRestoreInput = object({ folder })

export interface BackupFileView {
  name: string
  bytes: number
  sha256: string
}

export interface BackupView {
  /** The folder the backup was written to (a new subfolder of the chosen one). */
  path: string
  createdAtMs: number
  /** The last ledger transaction the backup holds. */
  seq: number
  files: BackupFileView[]
}

export interface RestoreView {
  /** The backup folder that was verified. */
  path: string
  seq: number
  createdAtMs: number
  /** Which checks passed, in words ("manifest hashes", "the ledger opens", "integrity check", …). */
  checks: string[]
  /** Where the current ledger will be kept (never deleted). */
  keptAsidePath: string
  /** True: the verified backup replaces the ledger when the console next starts. */
  pendingRestart: boolean
}
