// The relay pool's options, public result types and internal state (see ./relay-pool.ts): what the pool keeps per
// relay connection, per subscription and per subscription-on-a-relay, and the option defaults and checks. Plain
// data and constructors only; the behaviour lives in ./relay-links.ts (sockets, health, NIP-42),
// ./relay-catch-up.ts (subscriptions, cursors, paging) and ./relay-pool.ts (public API, intake, publishing).
import type { Clock } from '../../src-shared/clock'
import type { Logger } from '../../src-shared/log'
import type { EventVerifier, SignedEvent } from './event-verifier'
import {
  type BackoffPolicy,
  DEFAULT_BACKOFF,
  type Timers,
  type WebSocketConstructor,
  type WebSocketLike,
} from './relay-connection'
import { RelayPoolError } from './relay-errors'
import { initialHealth, type RelayHealth } from './relay-health'
import type { CursorStore, Filter, SubscriptionSpec } from './relay-subscriptions'

// ---------------------------------------------------------------------------------------------------------------
// Public types

/** NIP-42 auth template handed to the signer (the console key). */
export interface AuthTemplate {
  kind: 22242
  created_at: number
  tags: string[][]
  content: string
}
export type SignAuth = (template: AuthTemplate) => Promise<SignedEvent>

export interface RelayPoolOptions {
  relays: readonly string[]
  /** Signature verifier; `createRelayPool` picks WASM with a pure JS fallback when absent. */
  verifier: EventVerifier
  logger?: Logger
  clock?: Clock
  random?: () => number
  timers?: Timers
  WebSocket?: WebSocketConstructor
  /** NIP-42 signer (the console key). Without it, relays that demand auth end in state `auth-failed`. */
  signAuth?: SignAuth
  cursorStore?: CursorStore
  /** EVENT frames larger than this many UTF-8 bytes are dropped unparsed. Default 256 KiB. */
  maxEventBytes?: number
  publishTimeoutMs?: number
  connectTimeoutMs?: number
  pingIntervalMs?: number
  pingTimeoutMs?: number
  backoff?: Partial<BackoffPolicy>
  /** Incoming events waiting for verification/delivery; beyond this they are dropped and re-fetched later. */
  maxQueuedEvents?: number
  /** Publishes in flight across all relays; beyond this publish() throws `queue-full`. */
  maxPendingPublishes?: number
  /** `limit` per filter when catching up; a full page makes the pool fetch the next older page. */
  pageLimit?: number
  /**
   * `limit` of the query for one second alone, sent when a full page holds a single second (more events share
   * that created_at than a page holds). Default 5000.
   */
  maxSingleSecondLimit?: number
  /** Ids remembered per subscription for deduplication. */
  maxRememberedIds?: number
  /** Ignore events whose NIP-40 expiration has passed. Default true. */
  dropExpired?: boolean
  onStatus?: (health: RelayHealth) => void
}

export type PublishOutcome = 'accepted' | 'duplicate' | 'rejected' | 'timeout' | 'closed'
export interface PublishResult {
  relay: string
  ok: boolean
  outcome: PublishOutcome
  /** The relay's OK message, or our reason. */
  message: string
  latencyMs: number | null
}

// ---------------------------------------------------------------------------------------------------------------
// Internal state

export const PING_FILTER = { ids: ['0'.repeat(64)], limit: 0 }

export interface PendingPublish {
  event: SignedEvent
  relay: string
  sentAtMs: number | null
  authRetried: boolean
  timer: unknown
  resolve(r: PublishResult): void
}

/** One subscription's state on one relay for the current connection. */
export interface SubRelayState {
  cursor: number | undefined
  /** Newest created_at handled on this connection. */
  maxSeen: number | undefined
  caughtUp: boolean
  /** An event was dropped for lack of queue room: hold the cursor and re-fetch once the queue drains. */
  dropped: boolean
  /** Stored events of the REQ now being answered were dropped for room: the next page starts below what fit. */
  droppedInReq: boolean
  /** The subscriber threw on an event: hold the cursor until the next (re)subscription re-delivers it. */
  held: boolean
  liveWireId: string | null
  /** Page being fetched while catching up (null = the live REQ's own stored events). */
  pageWireId: string | null
  /** Count and oldest created_at of stored events in the REQ now being answered. */
  pageCount: number
  pageOldest: number | undefined
  pageNewest: number | undefined
  pageUntil: number | undefined
  /** A second being fetched on its own (its stored events do not fit in a page); null when paging normally. */
  sweep: SecondSweep | null
  waitingForAuth: boolean
  /** Consecutive CLOSED answers (other than auth) since the last catch-up; drives the retry backoff. */
  closedRetries: number
}

/**
 * Fetching one created_at second on its own. A page is ordered by created_at and cut at `limit`, so a second
 * holding more events than a page can never be paged through with `until`: it is first asked for alone with a
 * larger limit, then, if that answer is full too, split by the subscription's authors or #p values.
 */
export interface SecondSweep {
  second: number
  /** Events of this second in the full page that started the sweep. */
  pageCount: number
  /** The most events the relay appears to return for one query (set once the single-second answer was full). */
  cap: number
  /** Split queries still to send; null while the single-second query is being answered. */
  queue: Filter[][] | null
  /** The query now being answered (re-sent when its events were dropped for queue room). */
  current: Filter[]
  retries: number
}

export interface SubState {
  key: string
  spec: SubscriptionSpec
  relays: Set<string>
  perRelay: Map<string, SubRelayState>
  /** Verified ids already delivered, with their (verified) created_at; insertion-ordered for eviction. */
  delivered: Map<string, number>
  cursorsLoaded: Promise<void>
  closed: boolean
}

export interface WireSub {
  sub: SubState
  relay: string
  role: 'live' | 'page'
  /** EOSE has arrived on the socket (set on receipt, before the queue reaches it). */
  eoseSeen: boolean
  /** Whether NIP-42 auth had completed when this REQ was sent. */
  sentAuthed: boolean
}

export type QueueItem =
  | { type: 'event'; relay: string; wireId: string; raw: unknown }
  | { type: 'eose'; relay: string; wireId: string }

export interface RelayConn {
  url: string
  ws: WebSocketLike | null
  health: RelayHealth
  reconnectTimer: unknown
  connectTimer: unknown
  pingTimer: unknown
  pingTimeoutTimer: unknown
  pingWireId: string | null
  pingSentAtMs: number
  challenge: string | null
  authEventId: string | null
  authPubkey: string | null
  authed: boolean
  lastStatusEmitMs: number
}

/** A relay as the pool first knows it: no socket, no timers, not authenticated. */
export function newRelayConn(url: string): RelayConn {
  return {
    url,
    ws: null,
    health: initialHealth(url),
    reconnectTimer: null,
    connectTimer: null,
    pingTimer: null,
    pingTimeoutTimer: null,
    pingWireId: null,
    pingSentAtMs: 0,
    challenge: null,
    authEventId: null,
    authPubkey: null,
    authed: false,
    lastStatusEmitMs: 0,
  }
}

/** A subscription on a relay before its cursor is loaded and its first REQ sent. */
export function newSubRelayState(): SubRelayState {
  return {
    cursor: undefined,
    maxSeen: undefined,
    caughtUp: false,
    dropped: false,
    droppedInReq: false,
    held: false,
    liveWireId: null,
    pageWireId: null,
    pageCount: 0,
    pageOldest: undefined,
    pageNewest: undefined,
    pageUntil: undefined,
    sweep: null,
    waitingForAuth: false,
    closedRetries: 0,
  }
}

/** The numeric limits of a pool, defaults applied; each must be > 0 (the error names the option). */
export interface PoolLimits {
  maxEventBytes: number
  publishTimeoutMs: number
  connectTimeoutMs: number
  pingIntervalMs: number
  pingTimeoutMs: number
  maxQueuedEvents: number
  maxPendingPublishes: number
  pageLimit: number
  maxSingleSecondLimit: number
  maxRememberedIds: number
  backoff: BackoffPolicy
  dropExpired: boolean
}

export function poolLimits(opts: RelayPoolOptions): PoolLimits {
  const positive = (name: string, v: number | undefined, dflt: number): number => {
    const x = v ?? dflt
    if (!Number.isFinite(x) || x <= 0) throw new RelayPoolError('invalid-option', `${name} must be > 0`, name)
    return x
  }
  return {
    maxEventBytes: positive('maxEventBytes', opts.maxEventBytes, 256 * 1024),
    publishTimeoutMs: positive('publishTimeoutMs', opts.publishTimeoutMs, 10_000),
    connectTimeoutMs: positive('connectTimeoutMs', opts.connectTimeoutMs, 10_000),
    pingIntervalMs: positive('pingIntervalMs', opts.pingIntervalMs, 30_000),
    pingTimeoutMs: positive('pingTimeoutMs', opts.pingTimeoutMs, 10_000),
    maxQueuedEvents: positive('maxQueuedEvents', opts.maxQueuedEvents, 10_000),
    maxPendingPublishes: positive('maxPendingPublishes', opts.maxPendingPublishes, 1000),
    pageLimit: positive('pageLimit', opts.pageLimit, 500),
    maxSingleSecondLimit: positive('maxSingleSecondLimit', opts.maxSingleSecondLimit, 5000),
    maxRememberedIds: positive('maxRememberedIds', opts.maxRememberedIds, 100_000),
    backoff: { ...DEFAULT_BACKOFF, ...opts.backoff },
    dropExpired: opts.dropExpired ?? true,
  }
}
