// IPC shapes of ATM pairing (docs/protocol.md §10, docs/architecture.md §3): `fleet.pair`, `fleet.renew`, `fleet.revoke` and
// `fleet.delegations`. The operator's signer signs the NIP-26 delegation, the machine config and the roster; the
// console publishes them and shows the one-shot pairing URI + QR. A receive-only NWC URI travels IN only
// (`fleet.pair`): it goes into the one-shot payload and is never stored, logged or answered back except inside
// that payload's `uri`/`qrSvg`, which the renderer shows once.
//
// JSON-safe: fiat limits are decimal strings in minor units, fees are integer ppm, times are unix seconds.
// Pure TypeScript (only ./schema): the sandboxed preload bundles this file through contract.ts.
import { boolean, decimal, hex, int, object, optional, string } from './schema'

const directionFees = object({ platformPpm: int(0, 150_000), operatorPpm: int(0, 150_000) })
const directionLimits = object({ minFiatMinor: decimal(18), maxFiatMinor: decimal(18) })

export const fleetPairInput = object({
  /** The ATM's public key as shown on its screen: npub, 64 hex, or a text containing exactly one of them. */
  atm: string({ min: 1, max: 2000 }),
  machineId: string({
    min: 1,
    max: 64,
    pattern: /^[A-Za-z0-9._:-]{1,64}$/,
    patternName: 'a machine id (A-Z a-z 0-9 . _ : -)',
  }),
  name: string({ min: 1, max: 100 }),
  currency: string({ min: 3, max: 3, pattern: /^[A-Z]{3}$/, patternName: 'an ISO 4217 code (EUR)' }),
  fees: object({ cash_out: directionFees, cash_in: directionFees }),
  discountPpm: int(0, 1_000_000),
  limits: object({ cash_out: directionLimits, cash_in: directionLimits }),
  /** Delegation window; default 90, at most 90 (device policy). */
  windowDays: optional(int(1, 90)),
  /** Receive-only NWC for cash-out invoices; put into the one-shot payload only, never stored. */
  nwcReceiveOnlyUri: optional(
    string({ min: 20, max: 4000, pattern: /^nostr\+walletconnect:\/\//, patternName: 'a nostr+walletconnect:// URI' }),
  ),
  /**
   * Pay-capable, budget-limited NWC for cash-in (the operator creates it in the wallet with a budget); put into
   * the one-shot payload only, never stored.
   */
  nwcCashInUri: optional(
    string({ min: 20, max: 4000, pattern: /^nostr\+walletconnect:\/\//, patternName: 'a nostr+walletconnect:// URI' }),
  ),
  /**
   * The ATM key is already paired: without this the service refuses with `conflict` naming the machine it is paired
   * as (nothing signed); true replaces that machine's configuration after the operator has seen the difference.
   */
  replace: optional(boolean()),
})

export const fleetRenewInput = object({ atmPubkey: hex(32), windowDays: optional(int(1, 90)) })
export const fleetRevokeInput = object({ atmPubkey: hex(32), reason: string({ min: 1, max: 500, multiline: true }) })

/** A delegation's window: the NIP-26 conditions and its strict bounds (unix seconds). */
export interface DelegationWindowView {
  conditions: string
  /** created_at must be > fromSec … */
  fromSec: number
  /** … and < untilSec. */
  untilSec: number
}

export interface FleetPairView {
  machineId: string
  atmPubkey: string
  /** The one-shot pairing URI (may carry the NWC secret): show once, never persist. */
  uri: string
  /** The URI as an SVG QR code (error correction M). */
  qrSvg: string
  delegation: DelegationWindowView
  /** Null when the ATM was already in the roster (re-pairing: no new roster version). */
  rosterEventId: string | null
  configEventId: string
}

export interface FleetRenewView {
  atmPubkey: string
  machineId: string
  /** The one-shot renewal URI (no NWC part). */
  uri: string
  qrSvg: string
  delegation: DelegationWindowView
}

export interface FleetRevokeView {
  atmPubkey: string
  rosterEventId: string
  /** Members of the new roster version. */
  members: string[]
}

export type DelegationStatus = 'active' | 'expiring' | 'expired' | 'revoked'

export interface DelegationView {
  atmPubkey: string
  machineId: string | null
  conditions: string
  fromSec: number
  untilSec: number
  issuedAtSec: number
  /** active; expiring (≤ 14 days left); expired; revoked (the ATM is no longer in the newest roster). */
  status: DelegationStatus
  /** Whole days left until `untilSec` (0 once expired; rounded down). */
  daysLeft: number
  /** False when a later delegation for the same ATM supersedes this one. */
  newest: boolean
}

/** One worklist warning: an ATM's newest delegation expires within 14 days or has expired (not revoked ATMs). */
export interface DelegationWarningView {
  atmPubkey: string
  machineId: string | null
  untilSec: number
  daysLeft: number
  state: 'expiring' | 'expired'
}
