// IPC shapes of one machine on the Fleet screen (docs/atm-sim.md "Fleet screen"; docs/protocol.md §6, §7):
// `fleet.machine` (the detail view: status, last seen, last record, delegation window, relay health, the config in
// force and its signed history), `fleet.setConfig` (a new config version signed on the operator's signer) and the
// wallet-connection reminders after a revocation (`fleet.walletRevocations`, `fleet.confirmWalletRevoked`).
//
// JSON-safe: fiat amounts are decimal strings in minor units, fees integer ppm, times unix seconds or ms as named.
// Pure TypeScript (only ./schema): the sandboxed preload bundles this file through contract.ts.
import type { FleetMachineView } from './contract'
import type { DelegationView } from './fleet-pairing'
import { array, decimal, hex, int, object, optional, string } from './schema'

// Fee bounds are wide here on purpose: the service checks them and answers in percent (src-shared/fleet/config-words.ts),
// so the operator never reads "integer in [0, 150000]".
const directionFees = object({ platformPpm: int(0, 1_000_000), operatorPpm: int(0, 1_000_000) })
const directionLimits = object({ minFiatMinor: decimal(18), maxFiatMinor: decimal(18) })

/** An ATM named by hex, npub, or a pairing request holding exactly one key (the same rule as `fleet.pair`). */
export const fleetMachineInput = object({ atm: string({ min: 1, max: 2000 }) })

export const fleetSetConfigInput = object({
  atmPubkey: hex(32),
  name: string({ min: 1, max: 80 }),
  currency: string({ min: 3, max: 3, pattern: /^[A-Z]{3}$/, patternName: 'a currency code such as EUR' }),
  fees: object({ cash_out: directionFees, cash_in: directionFees }),
  discountPpm: int(0, 1_000_000),
  limits: object({ cash_out: directionLimits, cash_in: directionLimits }),
  relays: array(string({ min: 1, max: 300 }), { min: 1, max: 8 }),
  /** The config version the operator edited (its event id): a newer one in between is a conflict. */
  baseEventId: optional(hex(32)),
})

export const fleetConfirmWalletRevokedInput = object({
  atmPubkey: hex(32),
  /** The roster version that dropped the ATM (from the reminder). */
  rosterEventId: hex(32),
  note: optional(string({ max: 500, multiline: true })),
})

/** A machine config's operator-set content (raw units; the renderer words them with src-shared/fleet/config-words). */
export interface MachineConfigView {
  eventId: string
  /** When the operator's signer signed it (the event's created_at, unix seconds). */
  createdAt: number
  signerPubkey: string
  machineId: string
  name: string
  currency: string
  relays: string[]
  fees: {
    cash_out: { platformPpm: number; operatorPpm: number }
    cash_in: { platformPpm: number; operatorPpm: number }
  }
  discountPpm: number
  limits: {
    cash_out: { minFiatMinor: string; maxFiatMinor: string }
    cash_in: { minFiatMinor: string; maxFiatMinor: string }
  }
}

/** One config version with what it changed against the one before (raw values, field keys of diffConfigs). */
export interface MachineConfigHistoryView {
  eventId: string
  createdAt: number
  signerPubkey: string
  currency: string
  changes: Array<{ field: string; old: string | null; new: string }>
}

export interface MachineRelayView {
  url: string
  /** The console's own connection to this relay; `not_followed` when the console does not use it. */
  state: 'connecting' | 'connected' | 'disconnected' | 'error' | 'not_followed'
  latencyMs?: number
  lastEventAtMs?: number
  error?: string
}

/** A revoked ATM whose own wallet connection the operator has not yet confirmed revoking in the wallet. */
export interface WalletRevocationView {
  atmPubkey: string
  machineId: string | null
  name: string | null
  rosterEventId: string
  revokedAtSec: number
}

export interface MachineDetailView {
  machine: FleetMachineView
  config: MachineConfigView | null
  /** Oldest first. */
  history: MachineConfigHistoryView[]
  delegation: DelegationView | null
  /** When the console last received anything from this ATM (ms), null if never. */
  lastSeenAtMs: number | null
  lastRecord: {
    eventId: string
    createdAt: number
    receivedAtMs: number
    outcome: 'booked' | 'history' | 'rejected'
    reason: string | null
  } | null
  relays: MachineRelayView[]
  /** Set while the operator still has to revoke this ATM's wallet connection in the wallet. */
  walletRevocation: WalletRevocationView | null
}

export interface FleetSetConfigView {
  atmPubkey: string
  configEventId: string
  createdAt: number
  /** Relays that accepted the new version (empty: stored and signed, not yet published). */
  publishedTo: string[]
}
