// Relay pool, health: the per-relay state and counters pushed to the UI as `relay.status` (JSON-safe), and the
// starting value for a relay just added. The pool updates them as connections open, fail, answer pings and drop
// events (relay-pool.ts, section "health").

export type RelayState = 'connecting' | 'connected' | 'disconnected' | 'auth-failed'

/** Health of one relay, pushed to the UI as `relay.status`. JSON-safe. */
export interface RelayHealth {
  url: string
  state: RelayState
  /** Last round trip of a ping REQ→EOSE or a publish EVENT→OK, in ms. */
  latencyMs: number | null
  /** Clock time of the last EVENT frame from this relay. */
  lastEventAtMs: number | null
  errorCount: number
  lastError: string | null
  /** Events from this relay dropped by the checks (bad sig, bad id, malformed, oversize, ...). */
  droppedEvents: number
  /** Consecutive failed connection attempts; 0 once a connection answered. */
  reconnectAttempt: number
  nextReconnectAtMs: number | null
  /** Pubkey accepted by NIP-42, when the relay asked for auth. */
  authenticatedAs: string | null
}

/** A relay just added: disconnected, no errors, no latency measured yet. */
export function initialHealth(url: string): RelayHealth {
  return {
    url,
    state: 'disconnected',
    latencyMs: null,
    lastEventAtMs: null,
    errorCount: 0,
    lastError: null,
    droppedEvents: 0,
    reconnectAttempt: 0,
    nextReconnectAtMs: null,
    authenticatedAs: null,
  }
}
