// IPC shapes for the local NIP-46 bunker and the remote-bunker operator signer (docs/nip46-bunker.md). Pure.
import type { RemoteBunkerStateName } from '../nostr/nip46'
import { GRANTABLE_METHODS } from '../nostr/nip46'
import { array, hex, int, object, oneOf, optional, string } from './schema'

export const bunkerPermissionsInput = object({
  methods: array(oneOf(...GRANTABLE_METHODS), { max: GRANTABLE_METHODS.length }),
  kinds: array(int(0, 65535), { max: 100 }),
  dTagPatterns: array(string({ min: 1, max: 200 }), { max: 50 }),
})

export const bunkerIssueInput = object({ name: string({ min: 1, max: 100 }), permissions: bunkerPermissionsInput })
export const bunkerAcceptInput = object({ uri: string({ min: 1, max: 4000 }), permissions: bunkerPermissionsInput })
export const bunkerRevokeInput = object({ pubkey: hex(32) })
export const bunkerLogInput = object({ offset: optional(int(0, 1_000_000_000)), limit: optional(int(1, 200)) })
export const remoteSignerCancelInput = object({ requestId: string({ min: 1, max: 64 }) })
export const remoteSignerConnectInput = object({ bunkerUri: string({ min: 1, max: 4000 }) })

export interface BunkerClientView {
  pubkey: string
  name: string
  methods: string[]
  kinds: number[]
  dTagPatterns: string[]
  authorisedAtMs: number
  revokedAtMs: number | null
  via: 'bunker' | 'nostrconnect'
}

export interface BunkerStatusView {
  /** Listening on the relays. False until relays are configured and the secret store opens. */
  running: boolean
  /** The bunker's transport pubkey (the bunker:// host part), or null before it is created. */
  bunkerPubkey: string | null
  relays: string[]
  clients: BunkerClientView[]
  /** Why it is not running, or a one-line state. */
  detail: string
}

export interface BunkerConnectView {
  uri: string
  qrSvg: string
  expiresAtMs: number
}

export interface BunkerLogEntryView {
  seq: number
  atMs: number
  clientPubkey: string
  clientName: string
  method: string
  summary: string
  outcome: 'answered' | 'refused' | 'busy' | 'error' | 'unauthorised'
  detail: string
}

export interface BunkerLogView {
  total: number
  entries: BunkerLogEntryView[]
}

export interface RemoteSignerView {
  state: RemoteBunkerStateName
  bunkerPubkey: string | null
  userPubkey: string | null
  relays: string[]
  nostrConnectUri: string | null
  /** SVG QR of nostrConnectUri while waiting for the phone to scan it. */
  qrSvg: string | null
  detail: string
}
