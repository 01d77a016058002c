// IPC shapes of LP self-service (issue 12; docs/lp-rpc.md §7): the operator reads each LP's self-service status
// and last requests, and switches the service off globally or for one LP. JSON-safe; times in ms since the epoch.
// Pure TypeScript (only ./schema): the sandboxed preload bundles this file through contract.ts.
import { boolean, int, nullable, object, optional, string } from './schema'

const lpId = string({ min: 1, max: 100, pattern: /^[A-Za-z0-9][A-Za-z0-9_.:-]*$/, patternName: 'an LP id' })

export const lpServiceStatusInput = object({ limit: optional(int(1, 200)) })
/** `lpId: null` switches the whole service. */
export const lpServiceSetEnabledInput = object({ lpId: nullable(lpId), enabled: boolean() })

export interface LpServiceRequestView {
  id: number
  atMs: number
  pubkey: string
  lpId: string | null
  channel: 'dm' | 'rpc'
  method: string
  outcome: 'answered' | 'refused'
  /** Why it was refused (docs/lp-rpc.md §5), null when answered. */
  reason: string | null
}

export interface LpServiceLpView {
  lpId: string
  name: string
  active: boolean
  enabled: boolean
  answered: number
  refused: number
  lastRequests: LpServiceRequestView[]
}

export interface LpServiceStatusView {
  /** The global switch. */
  enabled: boolean
  lps: LpServiceLpView[]
  /** Requests from pubkeys that are no registered LP (never answered), newest first. */
  unknown: LpServiceRequestView[]
}
