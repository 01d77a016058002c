// Relay pool for the main process (NIP-01 client side, NIP-42 auth, NIP-40 expiry): one WebSocket per relay,
// reconnect with exponential backoff and jitter, per-relay health pushed to the UI (`relay.status`), publish to
// every relay with per-relay OK results, and subscriptions that resume from a persisted cursor so a console that
// was offline catches up on everything published meanwhile.
//
// Trust model: every EVENT from a relay is size-checked, shape-checked, copied into a fresh plain record, its id
// recomputed and its signature verified (WASM libsecp256k1, pure JS fallback) before anyone sees it; the record is
// then deep-frozen. Deduplication uses only ids whose signature verified, so a forged copy that arrives first can
// never hide the genuine event. Every dropped event is logged with its reason.
//
// Cursor rule (why no event is missed): per (subscription key, relay) we persist the newest created_at that has
// been fully handled. It only moves forward after the relay's stored events up to EOSE (all pages) have been
// handed to the subscriber, never while stored events are still arriving newest-first, never while an event was
// dropped for lack of queue space or a subscriber threw, and never beyond "now" (an ATM with a fast clock must not
// push it into the future). On (re)connect we ask for since = cursor - overlapSec.
//
// Paging: a full page is followed by the page ending at its oldest second (inclusive). A page that is all one
// second cannot be paged past that way, so that second is fetched on its own with a larger limit and, when the
// relay still answers with a full page, split by author / #p value; only if that fails too is it an error
// (logged and counted in health), never a silent skip (docs/protocol.md §11).
//
// No Electron imports: the WebSocket constructor, clock, timers, randomness, signer and cursor store are injected.
import WebSocketImpl from 'ws'
import type { Clock } from '../../src-shared/clock'
import { systemClock } from '../../src-shared/clock'
import type { Logger } from '../../src-shared/log'
import { createLogger } from '../../src-shared/log'
import {
  createEventVerifier,
  EventShapeError,
  type EventVerifier,
  freezeEvent,
  parseSignedEvent,
  type SignedEvent,
  type VerifiedEvent,
} from './event-verifier'
import {
  type BackoffPolicy,
  backoffDelayMs,
  DEFAULT_BACKOFF,
  detachAndClose,
  normalizeRelayUrl,
  type Timers,
  type WebSocketConstructor,
  type WebSocketLike,
  WS_OPEN,
} from './relay-connection'
import { RelayPoolError } from './relay-errors'
import { initialHealth, type RelayHealth, type RelayState } from './relay-health'
import { secondFilters, splitFilters } from './relay-paging'
import {
  type CursorStore,
  type Filter,
  isExpired,
  matchesFilter,
  type PoolSubscription,
  type SubscriptionSpec,
  validateFilter,
} from './relay-subscriptions'

// The pool is split by concern (issue 11); this module keeps the whole public surface, so importers need not know.
export type { SignedEvent, VerifiedEvent } from './event-verifier'
export * from './relay-connection'
export * from './relay-errors'
export * from './relay-health'
export * from './relay-paging'
export * from './relay-subscriptions'

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

const PING_FILTER = { ids: ['0'.repeat(64)], limit: 0 }

interface PendingPublish {
  event: SignedEvent
  relay: string
  sentAtMs: number | null
  authRetried: boolean
  timer: unknown
  resolve(r: PublishResult): void
}

/** One subscription's state on one relay for the current connection. */
interface SubRelayState {
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
interface SecondSweep {
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

interface SubState {
  key: string
  spec: SubscriptionSpec
  relays: Set<string>
  perRelay: Map<string, SubRelayState>
  /** Verified ids already delivered, with their (verified) created_at; insertion-ordered for eviction. */
  delivered: Map<string, number>
  cursorsLoaded: Promise<void>
  closed: boolean
}

interface WireSub {
  sub: SubState
  relay: string
  role: 'live' | 'page'
  /** EOSE has arrived on the socket (set on receipt, before the queue reaches it). */
  eoseSeen: boolean
  /** Whether NIP-42 auth had completed when this REQ was sent. */
  sentAuthed: boolean
}

type QueueItem =
  | { type: 'event'; relay: string; wireId: string; raw: unknown }
  | { type: 'eose'; relay: string; wireId: string }

interface RelayConn {
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

// ---------------------------------------------------------------------------------------------------------------

/** Builds a pool, choosing the WASM verifier (pure JS fallback) when none is given. */
export async function createRelayPool(
  opts: Omit<RelayPoolOptions, 'verifier'> & { verifier?: EventVerifier },
): Promise<RelayPool> {
  const logger = opts.logger ?? createLogger(() => {}, 'relay-pool')
  const verifier = opts.verifier ?? (await createEventVerifier(logger))
  return new RelayPool({ ...opts, verifier, logger })
}

export class RelayPool {
  readonly verifier: EventVerifier
  private readonly log: Logger
  private readonly clock: Clock
  private readonly random: () => number
  private readonly timers: Timers
  private readonly WS: WebSocketConstructor
  private readonly backoff: BackoffPolicy
  private readonly maxEventBytes: number
  private readonly publishTimeoutMs: number
  private readonly connectTimeoutMs: number
  private readonly pingIntervalMs: number
  private readonly pingTimeoutMs: number
  private readonly maxQueuedEvents: number
  private readonly maxPendingPublishes: number
  private readonly pageLimit: number
  private readonly maxSingleSecondLimit: number
  private readonly maxRememberedIds: number
  private readonly dropExpired: boolean
  private readonly conns = new Map<string, RelayConn>()
  private readonly subs = new Map<string, SubState>()
  private readonly wire = new Map<string, WireSub>()
  private readonly pending = new Map<string, PendingPublish[]>()
  private pendingCount = 0
  private readonly queue: QueueItem[] = []
  private draining = false
  private drainDone: Promise<void> = Promise.resolve()
  private readonly retryTimers = new Set<unknown>()
  private seq = 0
  private closed = false

  constructor(private readonly opts: RelayPoolOptions) {
    this.verifier = opts.verifier
    this.log = opts.logger ?? createLogger(() => {}, 'relay-pool')
    this.clock = opts.clock ?? systemClock
    this.random = opts.random ?? Math.random
    this.timers = opts.timers ?? {
      setTimeout: (fn, ms) => setTimeout(fn, ms),
      clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
    }
    this.WS = opts.WebSocket ?? (WebSocketImpl as unknown as WebSocketConstructor)
    this.backoff = { ...DEFAULT_BACKOFF, ...opts.backoff }
    const positive = (name: string, v: number | undefined, dflt: number): number => {
      const x = v ?? dflt
      if (!Number.isFinite(x) || x <= 0) throw new RelayPoolError('invalid-option', `${name} must be > 0`, name)
      return x
    }
    this.maxEventBytes = positive('maxEventBytes', opts.maxEventBytes, 256 * 1024)
    this.publishTimeoutMs = positive('publishTimeoutMs', opts.publishTimeoutMs, 10_000)
    this.connectTimeoutMs = positive('connectTimeoutMs', opts.connectTimeoutMs, 10_000)
    this.pingIntervalMs = positive('pingIntervalMs', opts.pingIntervalMs, 30_000)
    this.pingTimeoutMs = positive('pingTimeoutMs', opts.pingTimeoutMs, 10_000)
    this.maxQueuedEvents = positive('maxQueuedEvents', opts.maxQueuedEvents, 10_000)
    this.maxPendingPublishes = positive('maxPendingPublishes', opts.maxPendingPublishes, 1000)
    this.pageLimit = positive('pageLimit', opts.pageLimit, 500)
    this.maxSingleSecondLimit = positive('maxSingleSecondLimit', opts.maxSingleSecondLimit, 5000)
    this.maxRememberedIds = positive('maxRememberedIds', opts.maxRememberedIds, 100_000)
    this.dropExpired = opts.dropExpired ?? true
    this.log.info('relay pool created', { verifier: this.verifier.name, relays: opts.relays.length })
    for (const url of opts.relays) this.addRelay(url)
  }

  // ---- public API ------------------------------------------------------------------------------------------------

  /** Adds a relay and starts connecting to it. Returns the normalised URL. */
  addRelay(url: string): string {
    this.assertOpen()
    const u = normalizeRelayUrl(url)
    if (this.conns.has(u)) return u
    const conn: RelayConn = {
      url: u,
      ws: null,
      health: initialHealth(u),
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
    this.conns.set(u, conn)
    for (const sub of this.subs.values()) if (!sub.spec.relays) this.attachSub(sub, u)
    this.connect(conn)
    return u
  }

  /** Disconnects and forgets a relay. */
  removeRelay(url: string): void {
    const u = normalizeRelayUrl(url)
    const conn = this.conns.get(u)
    if (!conn) return
    this.teardown(conn)
    this.conns.delete(u)
    for (const sub of this.subs.values()) {
      sub.relays.delete(u)
      sub.perRelay.delete(u)
    }
    this.settleAll(u, 'closed', 'relay removed')
  }

  /** Snapshot of every relay's health. */
  health(): RelayHealth[] {
    return [...this.conns.values()].map((c) => ({ ...c.health }))
  }

  /**
   * Opens a subscription on every (or the given) relay. Stored events come first (from the persisted cursor when
   * `key` and a CursorStore are set), then live events; each verified event is delivered once.
   */
  subscribe(spec: SubscriptionSpec): PoolSubscription {
    this.assertOpen()
    if (!Array.isArray(spec.filters) || spec.filters.length === 0)
      throw new RelayPoolError('invalid-filter', 'filters must be a non-empty array', 'filters')
    spec.filters.forEach((f, i) => {
      validateFilter(f, i)
    })
    if (typeof spec.onEvent !== 'function') throw new RelayPoolError('invalid-option', 'onEvent is required', 'onEvent')
    const key = spec.key ?? `anon-${++this.seq}`
    if (this.subs.has(key))
      throw new RelayPoolError('duplicate-subscription-key', `a subscription with key ${key} is open`, 'key')
    if (spec.overlapSec !== undefined && (!Number.isSafeInteger(spec.overlapSec) || spec.overlapSec < 0))
      throw new RelayPoolError('invalid-option', 'overlapSec must be a non-negative integer', 'overlapSec')
    const relays = new Set<string>()
    for (const r of spec.relays ?? [...this.conns.keys()]) {
      const u = normalizeRelayUrl(r)
      if (!this.conns.has(u)) this.addRelay(u)
      relays.add(u)
    }
    const sub: SubState = {
      key,
      spec: { ...spec, filters: spec.filters.map((f) => ({ ...f })) },
      relays: new Set(),
      perRelay: new Map(),
      delivered: new Map(),
      cursorsLoaded: Promise.resolve(),
      closed: false,
    }
    this.subs.set(key, sub)
    for (const u of relays) this.attachSub(sub, u)
    return {
      key,
      close: () => this.closeSub(sub),
    }
  }

  /**
   * Publishes a signed event to every (or the given) relay. Resolves with one result per relay once each relay
   * answered OK or the timeout passed. Throws `invalid-event` for a malformed or badly signed event and
   * `queue-full` when too many publishes are in flight.
   */
  async publish(
    event: SignedEvent,
    opts: { relays?: readonly string[]; timeoutMs?: number } = {},
  ): Promise<PublishResult[]> {
    this.assertOpen()
    let ev: SignedEvent
    try {
      ev = parseSignedEvent(event)
    } catch (err) {
      const field = err instanceof EventShapeError ? err.field : 'event'
      throw new RelayPoolError('invalid-event', (err as Error).message, field)
    }
    const outcome = this.verifier.verify(ev)
    if (outcome !== 'ok')
      throw new RelayPoolError(
        'invalid-event',
        `refusing to publish an event with ${outcome}`,
        outcome === 'bad-id' ? 'id' : 'sig',
      )
    const targets = (opts.relays ?? [...this.conns.keys()]).map(normalizeRelayUrl)
    if (targets.length === 0) throw new RelayPoolError('invalid-option', 'no relays to publish to', 'relays')
    if (this.pendingCount + targets.length > this.maxPendingPublishes)
      throw new RelayPoolError('queue-full', `more than ${this.maxPendingPublishes} publishes in flight`, 'event')
    const timeoutMs = opts.timeoutMs ?? this.publishTimeoutMs
    return Promise.all(
      targets.map(
        (url) =>
          new Promise<PublishResult>((resolve) => {
            if (!this.conns.has(url)) this.addRelay(url)
            const p: PendingPublish = {
              event: ev,
              relay: url,
              sentAtMs: null,
              authRetried: false,
              timer: null,
              resolve: (r) => {
                this.timers.clearTimeout(p.timer)
                const list = this.pending.get(url) ?? []
                const i = list.indexOf(p)
                if (i >= 0) {
                  list.splice(i, 1)
                  this.pendingCount--
                }
                resolve(r)
              },
            }
            p.timer = this.timers.setTimeout(
              () => p.resolve(this.result(url, false, 'timeout', `no OK within ${timeoutMs} ms`, null)),
              timeoutMs,
            )
            const list = this.pending.get(url) ?? []
            list.push(p)
            this.pending.set(url, list)
            this.pendingCount++
            this.trySendPublish(p)
          }),
      ),
    )
  }

  /**
   * Feeds one raw frame as if it came from `relay`. This is the same entry the sockets use; it is public so a
   * test can inject hostile frames at the true edge.
   */
  ingestFrame(relay: string, data: unknown): void {
    const conn = this.conns.get(normalizeRelayUrl(relay))
    if (conn) this.onFrame(conn, data)
  }

  /** Closes every socket and timer; pending publishes resolve as `closed`. Waits for the event being delivered. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    for (const t of this.retryTimers) this.timers.clearTimeout(t)
    this.retryTimers.clear()
    for (const conn of this.conns.values()) {
      this.teardown(conn)
      this.settleAll(conn.url, 'closed', 'pool closed')
    }
    this.queue.length = 0
    await this.drainDone
  }

  // ---- connection lifecycle ------------------------------------------------------------------------------------

  private connect(conn: RelayConn): void {
    if (this.closed) return
    conn.reconnectTimer = null
    conn.health.nextReconnectAtMs = null
    conn.challenge = null
    conn.authEventId = null
    conn.authed = false
    conn.health.authenticatedAs = null
    this.setState(conn, 'connecting')
    let ws: WebSocketLike
    try {
      ws = new this.WS(conn.url)
    } catch (err) {
      this.recordError(conn, `cannot open socket: ${(err as Error).message}`)
      this.scheduleReconnect(conn)
      return
    }
    conn.ws = ws
    conn.connectTimer = this.timers.setTimeout(() => {
      if (conn.ws === ws && ws.readyState !== WS_OPEN) {
        this.recordError(conn, `connect timeout after ${this.connectTimeoutMs} ms`)
        this.dropSocket(conn)
      }
    }, this.connectTimeoutMs)
    ws.onopen = () => {
      if (conn.ws !== ws) return
      this.timers.clearTimeout(conn.connectTimer)
      this.setState(conn, 'connected')
      this.log.info('relay connected', { relay: conn.url })
      this.sendPing(conn)
      for (const sub of this.subs.values()) if (sub.relays.has(conn.url)) void this.startSubOnRelay(sub, conn.url)
      for (const p of this.pending.get(conn.url) ?? []) this.trySendPublish(p)
    }
    ws.onmessage = (ev) => {
      if (conn.ws === ws) this.onFrame(conn, ev.data)
    }
    ws.onerror = (ev) => {
      if (conn.ws !== ws) return
      const msg = (ev as { message?: string; error?: Error })?.message ?? (ev as { error?: Error })?.error?.message
      this.recordError(conn, `socket error${msg ? `: ${msg}` : ''}`)
    }
    ws.onclose = (ev) => {
      if (conn.ws !== ws) return
      this.log.warn('relay disconnected', { relay: conn.url, code: ev?.code ?? null, reason: ev?.reason || null })
      this.dropSocket(conn)
    }
  }

  /** Forgets the socket, resets per-connection subscription state and schedules a reconnect. */
  private dropSocket(conn: RelayConn): void {
    const ws = conn.ws
    this.clearConnTimers(conn)
    conn.ws = null
    if (ws) detachAndClose(ws)
    this.resetSubsOnRelay(conn.url)
    for (const p of this.pending.get(conn.url) ?? []) {
      p.sentAtMs = null // re-sent on the next connection
      p.authRetried = false
    }
    if (this.closed) return
    if (conn.health.state !== 'auth-failed') this.setState(conn, 'disconnected')
    this.scheduleReconnect(conn)
  }

  private scheduleReconnect(conn: RelayConn): void {
    if (this.closed || conn.reconnectTimer || !this.conns.has(conn.url)) return
    const delay = backoffDelayMs(conn.health.reconnectAttempt, this.backoff, this.random)
    conn.health.reconnectAttempt++
    conn.health.nextReconnectAtMs = this.clock.nowMs() + delay
    this.emit(conn)
    this.log.info('relay reconnect scheduled', {
      relay: conn.url,
      delayMs: delay,
      attempt: conn.health.reconnectAttempt,
    })
    conn.reconnectTimer = this.timers.setTimeout(() => this.connect(conn), delay)
  }

  private teardown(conn: RelayConn): void {
    this.timers.clearTimeout(conn.reconnectTimer)
    conn.reconnectTimer = null
    this.clearConnTimers(conn)
    const ws = conn.ws
    conn.ws = null
    if (ws) detachAndClose(ws)
    this.resetSubsOnRelay(conn.url)
    this.setState(conn, 'disconnected')
  }

  private clearConnTimers(conn: RelayConn): void {
    this.timers.clearTimeout(conn.connectTimer)
    this.timers.clearTimeout(conn.pingTimer)
    this.timers.clearTimeout(conn.pingTimeoutTimer)
    conn.connectTimer = conn.pingTimer = conn.pingTimeoutTimer = null
    if (conn.pingWireId) this.wire.delete(conn.pingWireId)
    conn.pingWireId = null
  }

  private send(conn: RelayConn, frame: unknown[]): boolean {
    const ws = conn.ws
    if (!ws || ws.readyState !== WS_OPEN) return false
    try {
      ws.send(JSON.stringify(frame))
      return true
    } catch (err) {
      this.recordError(conn, `send failed: ${(err as Error).message}`)
      return false
    }
  }

  // ---- health --------------------------------------------------------------------------------------------------

  private setState(conn: RelayConn, state: RelayState): void {
    if (conn.health.state === state) return
    conn.health.state = state
    this.emit(conn)
  }

  private recordError(conn: RelayConn, message: string): void {
    conn.health.errorCount++
    conn.health.lastError = message
    this.log.warn('relay error', { relay: conn.url, reason: message })
    this.emit(conn)
  }

  private emit(conn: RelayConn): void {
    conn.lastStatusEmitMs = this.clock.nowMs()
    try {
      this.opts.onStatus?.({ ...conn.health })
    } catch (err) {
      this.log.error('onStatus callback threw', { reason: String((err as Error)?.message ?? err) })
    }
  }

  private sendPing(conn: RelayConn): void {
    if (!conn.ws || conn.ws.readyState !== WS_OPEN) return
    const id = `ping:${++this.seq}`
    conn.pingWireId = id
    conn.pingSentAtMs = this.clock.nowMs()
    this.send(conn, ['REQ', id, PING_FILTER])
    conn.pingTimeoutTimer = this.timers.setTimeout(() => {
      if (conn.pingWireId !== id) return
      this.recordError(conn, `no answer to ping within ${this.pingTimeoutMs} ms`)
      this.dropSocket(conn)
    }, this.pingTimeoutMs)
  }

  private onPong(conn: RelayConn): void {
    this.timers.clearTimeout(conn.pingTimeoutTimer)
    const id = conn.pingWireId
    conn.pingWireId = null
    if (id) this.send(conn, ['CLOSE', id])
    conn.health.latencyMs = this.clock.nowMs() - conn.pingSentAtMs
    // The relay answered, so the connection is good: the next failure starts the backoff from the beginning.
    conn.health.reconnectAttempt = 0
    this.emit(conn)
    conn.pingTimer = this.timers.setTimeout(() => this.sendPing(conn), this.pingIntervalMs)
  }

  // ---- incoming frames -----------------------------------------------------------------------------------------

  private onFrame(conn: RelayConn, data: unknown): void {
    let text: string
    if (typeof data === 'string') text = data
    else if (data instanceof ArrayBuffer) text = new TextDecoder().decode(data)
    else if (ArrayBuffer.isView(data)) text = new TextDecoder().decode(data as Uint8Array)
    else {
      this.dropEvent(conn, 'malformed', { detail: 'frame is not text' })
      return
    }
    const bytes = Buffer.byteLength(text, 'utf8')
    if (text.startsWith('["EVENT"') && bytes > this.maxEventBytes) {
      conn.health.lastEventAtMs = this.clock.nowMs()
      this.dropEvent(conn, 'oversize', { bytes, limitBytes: this.maxEventBytes })
      return
    }
    let frame: unknown
    try {
      frame = JSON.parse(text)
    } catch {
      this.dropEvent(conn, 'malformed', { detail: 'frame is not JSON', bytes })
      return
    }
    if (!Array.isArray(frame) || typeof frame[0] !== 'string') {
      this.dropEvent(conn, 'malformed', { detail: 'frame is not a NIP-01 array' })
      return
    }
    switch (frame[0]) {
      case 'EVENT': {
        this.onEventFrame(conn, frame)
        return
      }
      case 'EOSE': {
        this.onEose(conn, String(frame[1]))
        return
      }
      case 'OK': {
        this.onOk(conn, frame)
        return
      }
      case 'CLOSED': {
        this.onClosed(conn, String(frame[1]), String(frame[2] ?? ''))
        return
      }
      case 'AUTH':
        if (typeof frame[1] === 'string') void this.onAuthChallenge(conn, frame[1])
        return
      case 'NOTICE':
        this.log.info('relay notice', { relay: conn.url, notice: String(frame[1]).slice(0, 300) })
        return
      default:
        this.log.debug('unknown relay frame', { relay: conn.url, type: frame[0].slice(0, 20) })
    }
  }

  private onEventFrame(conn: RelayConn, frame: unknown[]): void {
    conn.health.lastEventAtMs = this.clock.nowMs()
    if (conn.lastStatusEmitMs + 1000 <= conn.health.lastEventAtMs) this.emit(conn)
    const wireId = frame[1]
    if (typeof wireId !== 'string') {
      this.dropEvent(conn, 'malformed', { detail: 'subscription id missing' })
      return
    }
    const ws = this.wire.get(wireId)
    if (!ws || ws.relay !== conn.url) {
      this.dropEvent(conn, 'unknown-subscription', { subscription: wireId })
      return
    }
    const stNow = ws.sub.perRelay.get(conn.url)
    // Once a stored event of this REQ was dropped, drop the rest of its stored events too: what was taken in then
    // stays the newest run, and the next page (until = oldest taken) fetches exactly what is missing.
    const droppingRest = !ws.eoseSeen && stNow?.droppedInReq === true
    if (droppingRest || this.queue.length >= this.maxQueuedEvents) {
      // Backpressure: keep memory bounded. Holding the cursor and re-fetching later loses nothing. A stored
      // event dropped before EOSE is fetched by the next page; a live event dropped after EOSE is fetched again by
      // a re-subscription once the queue drains.
      if (stNow && !ws.eoseSeen) stNow.droppedInReq = true
      else if (stNow) stNow.dropped = true
      this.dropEvent(conn, 'queue-full', { subscription: ws.sub.key, queued: this.queue.length })
      return
    }
    if (!ws.eoseSeen) {
      const st = ws.sub.perRelay.get(conn.url)
      const createdAt = (frame[2] as { created_at?: unknown } | null)?.created_at
      if (st && typeof createdAt === 'number') {
        st.pageCount++
        if (st.pageOldest === undefined || createdAt < st.pageOldest) st.pageOldest = createdAt
        if (st.pageNewest === undefined || createdAt > st.pageNewest) st.pageNewest = createdAt
      }
    }
    this.queue.push({ type: 'event', relay: conn.url, wireId, raw: frame[2] })
    this.kick()
  }

  private onEose(conn: RelayConn, wireId: string): void {
    if (wireId === conn.pingWireId) {
      this.onPong(conn)
      return
    }
    const ws = this.wire.get(wireId)
    if (!ws || ws.relay !== conn.url) return
    ws.eoseSeen = true
    this.queue.push({ type: 'eose', relay: conn.url, wireId })
    this.kick()
  }

  private onClosed(conn: RelayConn, wireId: string, message: string): void {
    if (wireId === conn.pingWireId) {
      this.onPong(conn)
      return
    }
    const ws = this.wire.get(wireId)
    if (!ws || ws.relay !== conn.url) return
    this.wire.delete(wireId)
    const st = ws.sub.perRelay.get(conn.url)
    if (!st) return
    if (st.liveWireId === wireId) st.liveWireId = null
    if (st.pageWireId === wireId) st.pageWireId = null
    if (
      message.startsWith('auth-required:') &&
      this.opts.signAuth &&
      !conn.authed &&
      conn.health.state !== 'auth-failed'
    ) {
      // The relay will (or did) send a challenge; the REQ goes out again once auth succeeds.
      st.waitingForAuth = true
      this.log.info('subscription waits for NIP-42 auth', { relay: conn.url, subscription: ws.sub.key })
      return
    }
    if (message.startsWith('auth-required:') && conn.authed && !ws.sentAuthed) {
      // Sent before auth completed and answered after it: simply ask again.
      void this.startSubOnRelay(ws.sub, conn.url)
      return
    }
    if (message.startsWith('auth-required:')) {
      conn.health.state = 'auth-failed'
      this.recordError(conn, `subscription refused: ${message}`)
      return
    }
    this.recordError(conn, `subscription ${ws.sub.key} closed by relay: ${message}`)
    // rate-limited:, error: and the like are usually passing: ask again later, backing off like a reconnect.
    const delay = backoffDelayMs(st.closedRetries++, this.backoff, this.random)
    const socket = conn.ws
    const timer = this.timers.setTimeout(() => {
      this.retryTimers.delete(timer)
      if (!this.closed && conn.ws === socket && !ws.sub.closed) void this.startSubOnRelay(ws.sub, conn.url)
    }, delay)
    this.retryTimers.add(timer)
  }

  private onOk(conn: RelayConn, frame: unknown[]): void {
    const [, id, ok, msgRaw] = frame
    if (typeof id !== 'string') return
    const message = typeof msgRaw === 'string' ? msgRaw : ''
    if (id === conn.authEventId) {
      this.onAuthOk(conn, ok === true, message)
      return
    }
    const p = (this.pending.get(conn.url) ?? []).find((x) => x.event.id === id && x.sentAtMs !== null)
    if (!p) return
    const latency = this.clock.nowMs() - (p.sentAtMs ?? this.clock.nowMs())
    conn.health.latencyMs = latency
    if (ok === true) {
      p.resolve(
        this.result(conn.url, true, message.startsWith('duplicate:') ? 'duplicate' : 'accepted', message, latency),
      )
      return
    }
    if (message.startsWith('auth-required:') && this.opts.signAuth && !p.authRetried) {
      // Resend once after NIP-42 completes (the challenge may arrive after our first EVENT).
      p.authRetried = true
      p.sentAtMs = null
      if (conn.authed) this.trySendPublish(p)
      return
    }
    if (message.startsWith('auth-required:')) {
      conn.health.state = 'auth-failed'
      this.recordError(conn, `publish refused: ${message}`)
    }
    this.log.warn('publish rejected', { relay: conn.url, id, reason: message })
    p.resolve(this.result(conn.url, false, 'rejected', message, latency))
  }

  // ---- NIP-42 --------------------------------------------------------------------------------------------------

  private async onAuthChallenge(conn: RelayConn, challenge: string): Promise<void> {
    if (conn.challenge === challenge && (conn.authed || conn.authEventId)) return
    conn.challenge = challenge
    const signAuth = this.opts.signAuth
    if (!signAuth) {
      this.log.info('relay asked for NIP-42 auth but no signer is configured', { relay: conn.url })
      return
    }
    const ws = conn.ws
    let signed: SignedEvent
    try {
      const template: AuthTemplate = {
        kind: 22242,
        created_at: Math.floor(this.clock.nowMs() / 1000),
        tags: [
          ['relay', conn.url],
          ['challenge', challenge],
        ],
        content: '',
      }
      signed = parseSignedEvent(await signAuth(template))
      // Never trust a signer blindly: the auth event must be the one we asked for and carry a valid signature.
      if (signed.kind !== 22242 || !signed.tags.some((t) => t[0] === 'challenge' && t[1] === challenge))
        throw new Error('signer returned a different event')
      const v = this.verifier.verify(signed)
      if (v !== 'ok') throw new Error(`signer returned an event with ${v}`)
    } catch (err) {
      if (conn.ws !== ws) return
      conn.health.state = 'auth-failed'
      this.recordError(conn, `NIP-42 signing failed: ${(err as Error).message}`)
      return
    }
    if (conn.ws !== ws || conn.challenge !== challenge) return
    conn.authEventId = signed.id
    conn.authPubkey = signed.pubkey
    this.send(conn, ['AUTH', signed])
  }

  private onAuthOk(conn: RelayConn, ok: boolean, message: string): void {
    conn.authEventId = null
    if (!ok) {
      conn.health.state = 'auth-failed'
      this.recordError(conn, `NIP-42 auth refused: ${message}`)
      return
    }
    conn.authed = true
    conn.health.authenticatedAs = conn.authPubkey
    this.log.info('relay authenticated (NIP-42)', { relay: conn.url })
    this.setState(conn, 'connected')
    for (const sub of this.subs.values()) {
      const st = sub.perRelay.get(conn.url)
      if (st?.waitingForAuth) {
        st.waitingForAuth = false
        void this.startSubOnRelay(sub, conn.url)
      }
    }
    for (const p of this.pending.get(conn.url) ?? []) if (p.sentAtMs === null) this.trySendPublish(p)
  }

  // ---- subscriptions -------------------------------------------------------------------------------------------

  private attachSub(sub: SubState, url: string): void {
    if (sub.relays.has(url)) return
    sub.relays.add(url)
    const st: SubRelayState = {
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
    sub.perRelay.set(url, st)
    const store = this.opts.cursorStore
    const loaded =
      store && sub.spec.key
        ? store.get(this.cursorKey(sub, url)).then(
            (c) => {
              if (c !== undefined && Number.isSafeInteger(c) && c >= 0) st.cursor = c
            },
            (err: unknown) => {
              this.log.error('cursor load failed; fetching without a cursor', {
                subscription: sub.key,
                relay: url,
                reason: String((err as Error)?.message ?? err),
              })
            },
          )
        : Promise.resolve()
    sub.cursorsLoaded = Promise.all([sub.cursorsLoaded, loaded]).then(() => {})
    const conn = this.conns.get(url)
    if (conn?.ws?.readyState === WS_OPEN) void this.startSubOnRelay(sub, url)
  }

  private cursorKey(sub: SubState, url: string): string {
    return `${sub.key}@${url}`
  }

  /** Sends the live REQ (with since from the cursor and a page limit) for one subscription on one relay. */
  private async startSubOnRelay(sub: SubState, url: string): Promise<void> {
    await sub.cursorsLoaded
    const conn = this.conns.get(url)
    const st = sub.perRelay.get(url)
    if (sub.closed || !conn || !st || conn.ws?.readyState !== WS_OPEN) return
    for (const id of [st.liveWireId, st.pageWireId]) {
      if (!id) continue
      this.wire.delete(id)
      this.send(conn, ['CLOSE', id])
    }
    st.caughtUp = false
    st.dropped = false
    st.droppedInReq = false
    st.held = false
    st.maxSeen = st.cursor
    st.pageCount = 0
    st.pageOldest = undefined
    st.pageNewest = undefined
    st.pageUntil = undefined
    st.sweep = null
    st.pageWireId = null
    const wireId = `${sub.key.slice(0, 40)}:${++this.seq}`
    st.liveWireId = wireId
    this.wire.set(wireId, { sub, relay: url, role: 'live', eoseSeen: false, sentAuthed: conn.authed })
    this.send(conn, ['REQ', wireId, ...this.reqFilters(sub, st, undefined)])
  }

  private reqFilters(sub: SubState, st: SubRelayState, until: number | undefined): Filter[] {
    const overlap = sub.spec.overlapSec ?? 600
    const resumeSince = st.cursor !== undefined ? Math.max(0, st.cursor - overlap) : undefined
    return sub.spec.filters.map((f) => {
      const out: Filter = { ...f }
      if (resumeSince !== undefined) out.since = Math.max(f.since ?? 0, resumeSince)
      if (until !== undefined) out.until = f.until !== undefined ? Math.min(f.until, until) : until
      if (f.limit === undefined) out.limit = this.pageLimit
      return out
    })
  }

  /** Processes an EOSE in queue order: every stored event before it has been handled. */
  private async handleEose(relay: string, wireId: string): Promise<void> {
    const ws = this.wire.get(wireId)
    if (!ws) return
    const { sub } = ws
    const st = sub.perRelay.get(relay)
    const conn = this.conns.get(relay)
    if (!st || !conn || sub.closed) return
    if (ws.role === 'page') {
      this.wire.delete(wireId)
      this.send(conn, ['CLOSE', wireId])
      st.pageWireId = null
    }
    if (st.sweep !== null) return this.continueSweep(sub, relay, st, conn)
    // A full page means older stored events may remain, and so do stored events dropped for queue room: fetch
    // the page ending at the oldest event that was taken in (inclusive; duplicates are dropped by id).
    const userLimited = sub.spec.filters.some((f) => f.limit !== undefined)
    const fullPage = !userLimited && st.pageCount >= this.pageLimit && st.pageOldest !== undefined
    if (
      fullPage &&
      st.pageOldest !== undefined &&
      (st.pageOldest === st.pageNewest || (st.pageUntil !== undefined && st.pageOldest >= st.pageUntil))
    ) {
      // The whole page is one second: `until` cannot move past it without skipping its other events.
      this.startSweep(sub, relay, st, conn, st.pageOldest)
      return
    }
    if (fullPage || st.droppedInReq) {
      this.sendPage(sub, relay, st, conn, st.pageOldest ?? st.pageUntil)
      return
    }
    await this.finishCatchUp(sub, relay, st)
  }

  /** Sends the next older page (`until` inclusive; undefined = no upper bound). */
  private sendPage(sub: SubState, relay: string, st: SubRelayState, conn: RelayConn, until: number | undefined): void {
    st.pageUntil = until
    this.sendPageReq(sub, relay, st, conn, this.reqFilters(sub, st, until))
    this.log.debug('fetching older page', { relay, subscription: sub.key, until: until ?? null })
  }

  private sendPageReq(sub: SubState, relay: string, st: SubRelayState, conn: RelayConn, filters: Filter[]): void {
    st.pageCount = 0
    st.pageOldest = undefined
    st.pageNewest = undefined
    st.droppedInReq = false
    const pageId = `${sub.key.slice(0, 40)}:${++this.seq}`
    st.pageWireId = pageId
    this.wire.set(pageId, { sub, relay, role: 'page', eoseSeen: false, sentAuthed: conn.authed })
    this.send(conn, ['REQ', pageId, ...filters])
  }

  private startSweep(sub: SubState, relay: string, st: SubRelayState, conn: RelayConn, second: number): void {
    const current = secondFilters(sub.spec.filters, second, this.maxSingleSecondLimit)
    st.sweep = { second, pageCount: st.pageCount, cap: Number.POSITIVE_INFINITY, queue: null, current, retries: 0 }
    this.log.info('more stored events in one second than a page holds; fetching that second on its own', {
      relay,
      subscription: sub.key,
      createdAt: second,
      pageEvents: st.pageCount,
      limit: this.maxSingleSecondLimit,
    })
    this.sendPageReq(sub, relay, st, conn, current)
  }

  /** Handles the EOSE of a single-second or split query, then sends the next one or resumes normal paging. */
  private async continueSweep(sub: SubState, relay: string, st: SubRelayState, conn: RelayConn): Promise<void> {
    const sw = st.sweep!
    const count = st.pageCount
    // Events dropped for queue room: ask again (the ones already delivered are dropped by id), a few times.
    if (st.droppedInReq && sw.retries < 3) {
      sw.retries++
      this.sendPageReq(sub, relay, st, conn, sw.current)
      return
    }
    const dropped = st.droppedInReq
    if (sw.queue === null) {
      // The relay honoured the larger limit (it returned more than the page) and did not fill it: that is the
      // whole second. Otherwise the relay may cap every answer at about what it returned, so split the query.
      const complete = !dropped && count > sw.pageCount && count < this.maxSingleSecondLimit
      if (!complete) {
        sw.cap = Math.min(Math.max(count, sw.pageCount), this.maxSingleSecondLimit)
        const split = splitFilters(sub.spec.filters, sw.second, this.maxSingleSecondLimit)
        if (split === null) this.reportFullSecond(conn, sub, sw.second, count, 'the query cannot be split further')
        else {
          sw.queue = split
          sw.current = split.shift()!
          sw.retries = 0
          this.log.info('splitting the query for one second by author / #p value', {
            relay,
            subscription: sub.key,
            createdAt: sw.second,
            queries: split.length + 1,
          })
          this.sendPageReq(sub, relay, st, conn, sw.current)
          return
        }
      }
    } else {
      if (dropped || count >= sw.cap) this.reportFullSecond(conn, sub, sw.second, count, 'a split query was full too')
      const next = sw.queue.shift()
      if (next !== undefined) {
        sw.current = next
        sw.retries = 0
        this.sendPageReq(sub, relay, st, conn, next)
        return
      }
    }
    // This second is done: page on below it.
    st.sweep = null
    if (sw.second > 0) this.sendPage(sub, relay, st, conn, sw.second - 1)
    else await this.finishCatchUp(sub, relay, st)
  }

  /** Stored events of one second that no query could fetch: an error, in the log and in the relay's health. */
  private reportFullSecond(conn: RelayConn, sub: SubState, second: number, returned: number, why: string): void {
    const message = `subscription ${sub.key}: second ${second} holds more stored events than the relay returns (${returned}); some may be missed`
    conn.health.errorCount++
    conn.health.lastError = message
    this.log.error('stored events of one second exceed what the relay returns; some may be missed', {
      relay: conn.url,
      subscription: sub.key,
      createdAt: second,
      returned,
      reason: why,
    })
    this.emit(conn)
  }

  private async finishCatchUp(sub: SubState, relay: string, st: SubRelayState): Promise<void> {
    st.caughtUp = true
    st.closedRetries = 0
    st.pageCount = 0
    st.pageOldest = undefined
    st.pageNewest = undefined
    await this.advanceCursor(sub, relay, st)
    try {
      sub.spec.onCaughtUp?.(relay)
    } catch (err) {
      this.log.error('onCaughtUp threw', { subscription: sub.key, reason: String((err as Error)?.message ?? err) })
    }
  }

  private async advanceCursor(sub: SubState, relay: string, st: SubRelayState): Promise<void> {
    if (!st.caughtUp || st.dropped || st.held || st.maxSeen === undefined) return
    const nowSec = Math.floor(this.clock.nowMs() / 1000)
    const next = Math.min(st.maxSeen, nowSec)
    if (st.cursor !== undefined && next <= st.cursor) return
    st.cursor = next
    const store = this.opts.cursorStore
    if (!store || !sub.spec.key) return
    try {
      await store.set(this.cursorKey(sub, relay), next)
    } catch (err) {
      this.log.error('cursor save failed', {
        subscription: sub.key,
        relay,
        reason: String((err as Error)?.message ?? err),
      })
    }
  }

  private resetSubsOnRelay(url: string): void {
    for (const sub of this.subs.values()) {
      const st = sub.perRelay.get(url)
      if (!st) continue
      for (const id of [st.liveWireId, st.pageWireId]) if (id) this.wire.delete(id)
      st.liveWireId = st.pageWireId = null
      st.caughtUp = false
      st.waitingForAuth = false
    }
  }

  private closeSub(sub: SubState): void {
    if (sub.closed) return
    sub.closed = true
    this.subs.delete(sub.key)
    for (const [url, st] of sub.perRelay) {
      const conn = this.conns.get(url)
      for (const id of [st.liveWireId, st.pageWireId]) {
        if (!id) continue
        this.wire.delete(id)
        if (conn) this.send(conn, ['CLOSE', id])
      }
    }
  }

  // ---- the verification / delivery queue -----------------------------------------------------------------------

  private kick(): void {
    if (this.draining || this.closed) return
    this.draining = true
    this.drainDone = this.drain()
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0 && !this.closed) {
        const item = this.queue.shift()!
        try {
          if (item.type === 'eose') await this.handleEose(item.relay, item.wireId)
          else await this.handleEvent(item.relay, item.wireId, item.raw)
        } catch (err) {
          this.log.error('relay pool internal error', {
            relay: item.relay,
            reason: String((err as Error)?.message ?? err),
          })
        }
      }
    } finally {
      // No await between the loop's last check and here, so a frame cannot slip in unnoticed.
      this.draining = false
    }
    if (this.closed) return
    // The queue is empty: subscriptions that lost events to backpressure ask again from their held cursor.
    for (const sub of this.subs.values()) {
      for (const [relay, st] of sub.perRelay) {
        if (st.dropped && st.caughtUp) {
          this.log.info('re-fetching after events dropped for queue room', { relay, subscription: sub.key })
          void this.startSubOnRelay(sub, relay)
        }
      }
    }
  }

  private async handleEvent(relay: string, wireId: string, raw: unknown): Promise<void> {
    const ws = this.wire.get(wireId)
    const conn = this.conns.get(relay)
    if (!conn) return
    if (!ws) return this.dropEvent(conn, 'unknown-subscription', { subscription: wireId })
    const { sub } = ws
    const st = sub.perRelay.get(relay)
    if (!st || sub.closed) return
    let ev: SignedEvent
    try {
      ev = parseSignedEvent(raw)
    } catch (err) {
      return this.dropEvent(conn, 'malformed', {
        field: err instanceof EventShapeError ? err.field : 'event',
        detail: (err as Error).message,
      })
    }
    const seenAt = sub.delivered.get(ev.id)
    if (seenAt !== undefined) {
      // Already delivered after verification. The stored created_at is the verified one, never this copy's.
      st.maxSeen = Math.max(st.maxSeen ?? seenAt, seenAt)
      await this.advanceCursor(sub, relay, st)
      return
    }
    const outcome = this.verifier.verify(ev)
    if (outcome !== 'ok') return this.dropEvent(conn, outcome, { id: ev.id, pubkey: ev.pubkey, kind: ev.kind })
    const frozen = freezeEvent(ev)
    if (!sub.spec.filters.some((f) => matchesFilter(frozen, f)))
      return this.dropEvent(conn, 'filter-mismatch', { id: ev.id, subscription: sub.key })
    const nowSec = Math.floor(this.clock.nowMs() / 1000)
    if (this.dropExpired && isExpired(frozen, nowSec)) {
      this.log.info('dropped event', { relay, reason: 'expired', id: ev.id })
      this.markSeen(sub, st, frozen)
      await this.advanceCursor(sub, relay, st)
      return
    }
    this.markSeen(sub, st, frozen)
    try {
      await sub.spec.onEvent(frozen, { relay })
    } catch (err) {
      // Not delivered: forget it so a later copy is delivered, and hold this relay's cursor.
      sub.delivered.delete(frozen.id)
      st.held = true
      this.log.error('subscriber failed to handle event; cursor held', {
        relay,
        subscription: sub.key,
        id: frozen.id,
        reason: String((err as Error)?.message ?? err),
      })
      return
    }
    await this.advanceCursor(sub, relay, st)
  }

  private markSeen(sub: SubState, st: SubRelayState, ev: VerifiedEvent): void {
    sub.delivered.set(ev.id, ev.created_at)
    if (sub.delivered.size > this.maxRememberedIds) {
      const oldest = sub.delivered.keys().next().value
      if (oldest !== undefined) sub.delivered.delete(oldest)
    }
    st.maxSeen = Math.max(st.maxSeen ?? ev.created_at, ev.created_at)
  }

  private dropEvent(conn: RelayConn, reason: string, fields: Record<string, string | number | undefined> = {}): void {
    conn.health.droppedEvents++
    this.log.warn('dropped event', { relay: conn.url, reason, ...fields })
  }

  // ---- publish plumbing ----------------------------------------------------------------------------------------

  private trySendPublish(p: PendingPublish): void {
    const conn = this.conns.get(p.relay)
    if (!conn || p.sentAtMs !== null) return
    if (this.send(conn, ['EVENT', p.event])) p.sentAtMs = this.clock.nowMs()
  }

  private settleAll(url: string, outcome: PublishOutcome, message: string): void {
    for (const p of [...(this.pending.get(url) ?? [])]) p.resolve(this.result(url, false, outcome, message, null))
  }

  private result(
    relay: string,
    ok: boolean,
    outcome: PublishOutcome,
    message: string,
    latencyMs: number | null,
  ): PublishResult {
    return { relay, ok, outcome, message, latencyMs }
  }

  private assertOpen(): void {
    if (this.closed) throw new RelayPoolError('closed', 'relay pool is closed')
  }
}
