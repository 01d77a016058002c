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
//
// The pool is split by concern, each part beside its own tests: ./relay-pool-state.ts (options, state, defaults),
// ./relay-links.ts (sockets, reconnect backoff, ping, health, NIP-42), ./relay-catch-up.ts (subscriptions,
// cursors, paging), and this file (the public API, frame routing, the verification/delivery queue, publishing).
import type { Logger } from '../../src-shared/log'
import { createLogger } from '../../src-shared/log'
import {
  createEventVerifier,
  EventShapeError,
  type EventVerifier,
  freezeVerified,
  parseSignedEvent,
  type SignedEvent,
  type VerifiedEvent,
} from './event-verifier'
import { RelayCatchUp } from './relay-catch-up'
import { normalizeRelayUrl } from './relay-connection'
import { RelayPoolError } from './relay-errors'
import type { RelayHealth } from './relay-health'
import {
  newRelayConn,
  type PendingPublish,
  type PublishOutcome,
  type PublishResult,
  type QueueItem,
  type RelayConn,
  type RelayPoolOptions,
  type SubRelayState,
  type SubState,
} from './relay-pool-state'
import {
  isExpired,
  matchesFilter,
  type PoolSubscription,
  type SubscriptionSpec,
  validateFilter,
} from './relay-subscriptions'

// This module keeps the whole public surface, so importers need not know how the pool is split.
export type { SignedEvent, VerifiedEvent } from './event-verifier'
export * from './relay-connection'
export * from './relay-errors'
export * from './relay-health'
export * from './relay-paging'
export type { AuthTemplate, PublishOutcome, PublishResult, RelayPoolOptions, SignAuth } from './relay-pool-state'
export * from './relay-subscriptions'

/** Builds a pool, choosing the WASM verifier (pure JS fallback) when none is given. */
export async function createRelayPool(
  opts: Omit<RelayPoolOptions, 'verifier'> & { verifier?: EventVerifier },
): Promise<RelayPool> {
  const logger: Logger = opts.logger ?? createLogger(() => {}, 'relay-pool')
  const verifier = opts.verifier ?? (await createEventVerifier(logger))
  return new RelayPool({ ...opts, verifier, logger })
}

export class RelayPool extends RelayCatchUp {
  private readonly pending = new Map<string, PendingPublish[]>()
  private pendingCount = 0
  private readonly queue: QueueItem[] = []
  private draining = false
  private drainDone: Promise<void> = Promise.resolve()

  constructor(opts: RelayPoolOptions) {
    super(opts)
    this.log.info('relay pool created', { verifier: this.verifier.name, relays: opts.relays.length })
    for (const url of opts.relays) this.addRelay(url)
  }

  // ---- public API ------------------------------------------------------------------------------------------------

  /** Adds a relay and starts connecting to it. Returns the normalised URL. */
  addRelay(url: string): string {
    this.assertOpen()
    const u = normalizeRelayUrl(url)
    if (this.conns.has(u)) return u
    const conn = newRelayConn(u)
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

  // ---- what a connection's events mean here --------------------------------------------------------------------

  protected override onConnected(conn: RelayConn): void {
    for (const sub of this.subs.values()) if (sub.relays.has(conn.url)) void this.startSubOnRelay(sub, conn.url)
    for (const p of this.pending.get(conn.url) ?? []) this.trySendPublish(p)
  }

  protected override onAuthenticated(conn: RelayConn): void {
    for (const sub of this.subs.values()) {
      const st = sub.perRelay.get(conn.url)
      if (st?.waitingForAuth) {
        st.waitingForAuth = false
        void this.startSubOnRelay(sub, conn.url)
      }
    }
    for (const p of this.pending.get(conn.url) ?? []) if (p.sentAtMs === null) this.trySendPublish(p)
  }

  protected override unsendPublishes(url: string): void {
    for (const p of this.pending.get(url) ?? []) {
      p.sentAtMs = null // re-sent on the next connection
      p.authRetried = false
    }
  }

  // ---- incoming frames -----------------------------------------------------------------------------------------

  protected override onFrame(conn: RelayConn, data: unknown): void {
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
    // Frozen and remembered as verified: the acceptance pipeline reuses this verdict for this very object.
    const frozen = freezeVerified(ev)
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
}
