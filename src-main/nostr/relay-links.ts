// The relay pool's connections (see ./relay-pool.ts): one WebSocket per relay, opened with a connect timeout,
// re-opened after any loss with exponential backoff and jitter (./relay-connection.ts), checked by a ping (a REQ
// that matches nothing, answered by EOSE) whose answer also measures latency, per-relay health pushed through
// `onStatus`, and the NIP-42 exchange (the challenge is signed by the injected signer; the signed event is checked
// before it is sent). What a connection means for subscriptions and publishes is left to the layers above, through
// the hooks at the end of the class: connected, authenticated, socket lost.
import WebSocketImpl from 'ws'
import type { Clock } from '../../src-shared/clock'
import { systemClock } from '../../src-shared/clock'
import type { Logger } from '../../src-shared/log'
import { createLogger } from '../../src-shared/log'
import { type EventVerifier, parseSignedEvent, type SignedEvent } from './event-verifier'
import {
  type BackoffPolicy,
  backoffDelayMs,
  detachAndClose,
  type Timers,
  type WebSocketConstructor,
  type WebSocketLike,
  WS_OPEN,
} from './relay-connection'
import { RelayPoolError } from './relay-errors'
import type { RelayState } from './relay-health'
import {
  type AuthTemplate,
  PING_FILTER,
  poolLimits,
  type RelayConn,
  type RelayPoolOptions,
  type WireSub,
} from './relay-pool-state'

export abstract class RelayLinks {
  readonly verifier: EventVerifier
  protected readonly log: Logger
  protected readonly clock: Clock
  protected readonly random: () => number
  protected readonly timers: Timers
  protected readonly WS: WebSocketConstructor
  protected readonly backoff: BackoffPolicy
  protected readonly maxEventBytes: number
  protected readonly publishTimeoutMs: number
  protected readonly connectTimeoutMs: number
  protected readonly pingIntervalMs: number
  protected readonly pingTimeoutMs: number
  protected readonly maxQueuedEvents: number
  protected readonly maxPendingPublishes: number
  protected readonly pageLimit: number
  protected readonly maxSingleSecondLimit: number
  protected readonly maxRememberedIds: number
  protected readonly dropExpired: boolean
  protected readonly conns = new Map<string, RelayConn>()
  /** Every REQ id in use on some socket (subscriptions, pages, pings), to route EVENT / EOSE / CLOSED frames. */
  protected readonly wire = new Map<string, WireSub>()
  protected readonly retryTimers = new Set<unknown>()
  protected seq = 0
  protected closed = false

  constructor(protected readonly opts: RelayPoolOptions) {
    this.verifier = opts.verifier
    this.log = opts.logger ?? createLogger(() => {}, 'relay-pool')
    this.clock = opts.clock ?? systemClock
    this.random = opts.random ?? Math.random
    this.timers = opts.timers ?? {
      setTimeout: (fn, ms) => setTimeout(fn, ms),
      clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
    }
    this.WS = opts.WebSocket ?? (WebSocketImpl as unknown as WebSocketConstructor)
    const limits = poolLimits(opts)
    this.backoff = limits.backoff
    this.maxEventBytes = limits.maxEventBytes
    this.publishTimeoutMs = limits.publishTimeoutMs
    this.connectTimeoutMs = limits.connectTimeoutMs
    this.pingIntervalMs = limits.pingIntervalMs
    this.pingTimeoutMs = limits.pingTimeoutMs
    this.maxQueuedEvents = limits.maxQueuedEvents
    this.maxPendingPublishes = limits.maxPendingPublishes
    this.pageLimit = limits.pageLimit
    this.maxSingleSecondLimit = limits.maxSingleSecondLimit
    this.maxRememberedIds = limits.maxRememberedIds
    this.dropExpired = limits.dropExpired
  }

  // ---- connection lifecycle ------------------------------------------------------------------------------------

  protected connect(conn: RelayConn): void {
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
      this.onConnected(conn)
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
  protected dropSocket(conn: RelayConn): void {
    const ws = conn.ws
    this.clearConnTimers(conn)
    conn.ws = null
    if (ws) detachAndClose(ws)
    this.resetSubsOnRelay(conn.url)
    this.unsendPublishes(conn.url)
    if (this.closed) return
    if (conn.health.state !== 'auth-failed') this.setState(conn, 'disconnected')
    this.scheduleReconnect(conn)
  }

  protected scheduleReconnect(conn: RelayConn): void {
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

  protected teardown(conn: RelayConn): void {
    this.timers.clearTimeout(conn.reconnectTimer)
    conn.reconnectTimer = null
    this.clearConnTimers(conn)
    const ws = conn.ws
    conn.ws = null
    if (ws) detachAndClose(ws)
    this.resetSubsOnRelay(conn.url)
    this.setState(conn, 'disconnected')
  }

  protected clearConnTimers(conn: RelayConn): void {
    this.timers.clearTimeout(conn.connectTimer)
    this.timers.clearTimeout(conn.pingTimer)
    this.timers.clearTimeout(conn.pingTimeoutTimer)
    conn.connectTimer = conn.pingTimer = conn.pingTimeoutTimer = null
    if (conn.pingWireId) this.wire.delete(conn.pingWireId)
    conn.pingWireId = null
  }

  protected send(conn: RelayConn, frame: unknown[]): boolean {
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

  protected setState(conn: RelayConn, state: RelayState): void {
    if (conn.health.state === state) return
    conn.health.state = state
    this.emit(conn)
  }

  protected recordError(conn: RelayConn, message: string): void {
    conn.health.errorCount++
    conn.health.lastError = message
    this.log.warn('relay error', { relay: conn.url, reason: message })
    this.emit(conn)
  }

  protected emit(conn: RelayConn): void {
    conn.lastStatusEmitMs = this.clock.nowMs()
    try {
      this.opts.onStatus?.({ ...conn.health })
    } catch (err) {
      this.log.error('onStatus callback threw', { reason: String((err as Error)?.message ?? err) })
    }
  }

  protected sendPing(conn: RelayConn): void {
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

  protected onPong(conn: RelayConn): void {
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

  // ---- NIP-42 --------------------------------------------------------------------------------------------------

  protected async onAuthChallenge(conn: RelayConn, challenge: string): Promise<void> {
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

  protected onAuthOk(conn: RelayConn, ok: boolean, message: string): void {
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
    this.onAuthenticated(conn)
  }

  protected assertOpen(): void {
    if (this.closed) throw new RelayPoolError('closed', 'relay pool is closed')
  }

  // ---- hooks for the layers above ------------------------------------------------------------------------------

  /** Every frame a socket delivers. */
  protected abstract onFrame(conn: RelayConn, data: unknown): void
  /** The socket is open (and pinged): (re)start subscriptions, send waiting publishes. */
  protected abstract onConnected(conn: RelayConn): void
  /** NIP-42 succeeded: what waited for auth goes out now. */
  protected abstract onAuthenticated(conn: RelayConn): void
  /** The socket is gone: the subscriptions' per-connection state is void. */
  protected abstract resetSubsOnRelay(url: string): void
  /** The socket is gone: publishes sent on it count as unsent and go out again on the next connection. */
  protected abstract unsendPublishes(url: string): void
}
