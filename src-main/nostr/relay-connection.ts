// Relay pool, connection and backoff (NIP-01 transport): the WebSocket shape the pool drives (`ws` and Node 22+'s
// global WebSocket both fit), injectable timers, relay URL normalisation, and the reconnect delay (exponential with
// jitter, so a fleet of consoles does not reconnect in step). The connection state machine that uses them is in
// relay-links.ts (`connect`, `dropSocket`, `scheduleReconnect`).
import { RelayPoolError } from './relay-errors'

/** The part of the WHATWG WebSocket API the pool uses; `ws` and Node 22+'s global WebSocket both fit. */
export interface WebSocketLike {
  readonly readyState: number
  onopen: ((ev: unknown) => void) | null
  onmessage: ((ev: { data: unknown }) => void) | null
  onclose: ((ev: { code?: number; reason?: string }) => void) | null
  onerror: ((ev: unknown) => void) | null
  send(data: string): void
  close(code?: number, reason?: string): void
}
export type WebSocketConstructor = new (url: string) => WebSocketLike

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown
  clearTimeout(handle: unknown): void
}

export interface BackoffPolicy {
  initialMs: number
  maxMs: number
  factor: number
  /** 0..1: the delay is reduced by up to this fraction at random, so a fleet of consoles does not reconnect in step. */
  jitterRatio: number
}

export const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 1000, maxMs: 60_000, factor: 2, jitterRatio: 0.5 }

/** Delay before reconnect attempt `attempt` (0-based): min(max, initial·factor^attempt), minus up to jitter. */
export function backoffDelayMs(attempt: number, policy: BackoffPolicy, random: () => number): number {
  const base = Math.min(policy.maxMs, policy.initialMs * policy.factor ** Math.max(0, attempt))
  const r = Math.min(Math.max(random(), 0), 1)
  return Math.max(0, Math.round(base * (1 - policy.jitterRatio * r)))
}

/** Accepts ws:// and wss:// URLs only, normalised without a trailing slash on a bare host. */
export function normalizeRelayUrl(url: string): string {
  let u: URL
  try {
    u = new URL(url)
  } catch {
    throw new RelayPoolError('invalid-relay-url', `relay url is not a URL: ${JSON.stringify(url)}`, 'relays')
  }
  if (u.protocol !== 'ws:' && u.protocol !== 'wss:')
    throw new RelayPoolError('invalid-relay-url', `relay url must use ws:// or wss://: ${url}`, 'relays')
  const s = u.toString()
  return u.pathname === '/' && !u.search ? s.replace(/\/$/, '') : s
}

/** WebSocket readyState OPEN. */
export const WS_OPEN = 1

export /** Detaches the pool's handlers from a socket it is done with, then closes it. */
function detachAndClose(ws: WebSocketLike): void {
  ws.onopen = ws.onmessage = ws.onclose = null
  // ws reports closing a socket that is still connecting as an 'error'; keep a listener so it is not unhandled.
  ws.onerror = () => {}
  try {
    ws.close()
  } catch {
    // already closed
  }
}
