// Event kinds, d-tag names and protocol limits of the Satmachine fleet protocol (docs/protocol.md §2).
// Kind ranges follow NIP-01: 30000–39999 addressable, 1000–9999 regular. Nothing here is configurable: an ATM
// maker implements exactly these numbers, so they live in one place.

/** ATM transaction record, addressable (d = the ATM's transaction id), authored by the ATM key. */
export const KIND_ATM_RECORD = 30079
/** NIP-78 application data: machine configs and the daily audit head. */
export const KIND_APP_DATA = 30078
/** NIP-51 follow set: the fleet roster. */
export const KIND_FOLLOW_SET = 30000
/** Settlement receipt, regular (stored, never replaced), console-signed. */
export const KIND_RECEIPT = 3079
/** Quarter-close attestation, regular, operator-signed. */
export const KIND_QUARTER_CLOSE = 3080

export const D_FLEET_ROSTER = 'satmachine:fleet'
export const D_AUDIT_HEAD = 'satmachine:audit-head'
export const D_MACHINE_PREFIX = 'satmachine:machine:'

/** d tag of a machine config for the ATM with this x-only public key (lowercase hex). */
export const machineConfigD = (atmPubkeyHex: string): string => `${D_MACHINE_PREFIX}${atmPubkeyHex}`

/** A record may be dated at most this far ahead of the console's clock. */
export const MAX_FUTURE_SKEW_SEC = 300
/** A record may predate the wallet's settlement time by at most this much (clock skew between ATM and wallet). */
export const MAX_BACKDATE_SKEW_SEC = 300
/** Upper bound on the NIP-44 payload in a record's content (base64 characters), checked before decrypting. */
export const MAX_RECORD_CONTENT_CHARS = 8192
/** Upper bound on the decrypted JSON document (UTF-8 bytes). */
export const MAX_RECORD_PLAINTEXT_BYTES = 4096
/** Upper bound on the config and roster content size (characters). */
export const MAX_CONFIG_CONTENT_CHARS = 8192
/** Maximum delegation window the console issues and accepts when it issues (days). */
export const MAX_DELEGATION_WINDOW_DAYS = 90
/** Default delegation window (days). */
export const DEFAULT_DELEGATION_WINDOW_DAYS = 90
/** Warn this many days before a delegation expires. */
export const DELEGATION_WARN_DAYS = 14
/** Number of whole msat in 21 million BTC: no wire amount can exceed it. */
export const MAX_MSAT = 2_100_000_000_000_000_000n
