// Relay transport for the NIP-47 client: the small interface the client needs (publish, subscribe) and a minimal
// direct implementation over WebSockets to the relays named in the connection URI (NIP-01 wire protocol: EVENT,
// REQ, CLOSE; OK, EOSE, CLOSED, NOTICE). The relay pool (src-main/nostr/relay-pool.ts) can implement the same
// interface later; the client does not care which one it gets.
//
// The direct transport reconnects lazily: a socket that closed is reopened on the next publish or subscribe, and
// live subscriptions are re-sent when it opens. It never retries on its own timer; retrying is the caller's choice.

import WebSocket from 'ws'
import type { NostrEvent } from '../../src-shared/nostr/nip47'

export interface NostrFilter {
  ids?: string[]
  kinds?: number[]
  authors?: string[]
  since?: number
  until?: number
  limit?: number
  '#e'?: string[]
  '#p'?: string[]
}

export interface PublishResult {
  /** Relays that answered OK true (including "duplicate:"). */
  accepted: string[]
  /**
   * Relays that answered OK true with "duplicate:": they already had this event id and will not forward it to
   * subscribers again, so a re-sent request reaches the wallet only through relays that had not seen it. The
   * absence of this note proves nothing: @nostr-relay 0.0.40 answers a repeated ephemeral event from its per-id
   * result cache with a bare OK true, and does not forward it either.
   */
  duplicate: string[]
  /**
   * Relays that failed, with the reason. `explicit` is true when the relay answered OK false (it surely did not
   * forward the event); false for connection failures and missing answers, where it may have.
   */
  rejected: Array<{ relay: string; reason: string; explicit: boolean }>
}

export interface TransportSubscription {
  /** Resolves once at least one relay has sent EOSE (stored events delivered, live from now on), or all failed. */
  readonly ready: Promise<void>
  close(): void
}

export interface NwcTransport {
  /** Sends the event to every relay; resolves at the first acceptance, or when every relay has failed. */
  publish(event: NostrEvent): Promise<PublishResult>
  /** Subscribes on every relay; `onEvent` may see the same event from several relays (the caller dedupes). */
  subscribe(filter: NostrFilter, onEvent: (event: NostrEvent, relay: string) => void): TransportSubscription
  close(): void
}

export interface DirectTransportOptions {
  /** How long a relay has to answer OK before it counts as failed. */
  publishTimeoutMs?: number
  /** How long a relay has to send EOSE before `ready` stops waiting for it. */
  eoseTimeoutMs?: number
  /** WebSocket constructor; defaults to the `ws` package. */
  WebSocketImpl?: typeof WebSocket
}

interface SubState {
  filter: NostrFilter
  onEvent: (e: NostrEvent, relay: string) => void
  eoseFrom: Set<string>
  /** Relays the REQ went to on their current socket. */
  sentTo: Set<string>
  failedFrom: Set<string>
  resolveReady: () => void
  closed: boolean
}

interface RelayConn {
  url: string
  ws: WebSocket | null
  open: Promise<void> | null
  pendingOk: Map<string, (ok: boolean, reason: string, explicit: boolean) => void>
  /** Subscriptions re-sent on the current socket that have not reached EOSE yet. */
  resubscribing: Set<string>
  resubscribed: (() => void) | null
}

let subCounter = 0

/** A transport that talks straight to `relays`. */
export function createDirectTransport(relays: string[], opts: DirectTransportOptions = {}): NwcTransport {
  if (relays.length === 0) throw new Error('relays: at least one relay is required')
  const publishTimeoutMs = opts.publishTimeoutMs ?? 5_000
  const eoseTimeoutMs = opts.eoseTimeoutMs ?? 5_000
  const WS = opts.WebSocketImpl ?? WebSocket
  const conns = relays.map<RelayConn>((url) => ({
    url,
    ws: null,
    open: null,
    pendingOk: new Map(),
    resubscribing: new Set(),
    resubscribed: null,
  }))
  const subs = new Map<string, SubState>()
  let closed = false

  const markSubFailed = (subId: string, relay: string) => {
    const s = subs.get(subId)
    if (!s) return
    s.failedFrom.add(relay)
    if (s.failedFrom.size + s.eoseFrom.size >= conns.length) s.resolveReady()
  }

  const onMessage = (c: RelayConn, data: WebSocket.RawData) => {
    let msg: unknown
    try {
      msg = JSON.parse(data.toString())
    } catch {
      return
    }
    if (!Array.isArray(msg)) return
    const [type, a, b, cMsg] = msg as [unknown, unknown, unknown, unknown]
    if (type === 'EVENT' && typeof a === 'string') {
      const s = subs.get(a)
      if (s && !s.closed && typeof b === 'object' && b !== null) s.onEvent(b as NostrEvent, c.url)
    } else if (type === 'EOSE' && typeof a === 'string') {
      resubscribedOne(c, a)
      const s = subs.get(a)
      if (s) {
        s.eoseFrom.add(c.url)
        s.resolveReady()
      }
    } else if (type === 'CLOSED' && typeof a === 'string') {
      resubscribedOne(c, a)
      markSubFailed(a, c.url)
    } else if (type === 'OK' && typeof a === 'string') {
      const cb = c.pendingOk.get(a)
      if (cb) {
        c.pendingOk.delete(a)
        cb(b === true, typeof cMsg === 'string' ? cMsg : '', true)
      }
    }
  }

  const resubscribedOne = (c: RelayConn, subId: string) => {
    if (!c.resubscribing.delete(subId) || c.resubscribing.size > 0) return
    c.resubscribed?.()
  }

  /**
   * Opens the socket if needed. Resolves once it is open AND every live subscription re-sent on it has reached
   * EOSE (or eoseTimeoutMs passed): an event published right after a reconnect must not overtake the REQ whose
   * subscription is meant to catch the answer to it.
   */
  const connect = (c: RelayConn): Promise<void> => {
    if (closed) return Promise.reject(new Error('transport closed'))
    if (c.open && c.ws && c.ws.readyState <= WebSocket.OPEN) return c.open
    const ws = new WS(c.url)
    c.ws = ws
    c.open = new Promise<void>((resolve, reject) => {
      ws.once('open', () => {
        // Re-send every live subscription: after a reconnect the relay has forgotten them.
        c.resubscribing = new Set()
        for (const [id, s] of subs) {
          if (s.closed) continue
          s.sentTo.add(c.url)
          c.resubscribing.add(id)
          ws.send(JSON.stringify(['REQ', id, s.filter]))
        }
        if (c.resubscribing.size === 0) return resolve()
        const timer = setTimeout(resolve, eoseTimeoutMs)
        c.resubscribed = () => {
          clearTimeout(timer)
          c.resubscribed = null
          resolve()
        }
      })
      ws.once('error', (err) => reject(err))
    })
    // A failed open must not surface as an unhandled rejection when nobody awaits it.
    c.open.catch(() => undefined)
    ws.on('message', (d) => onMessage(c, d))
    ws.on('error', () => undefined)
    ws.once('close', () => {
      if (c.ws === ws) {
        c.ws = null
        c.open = null
      }
      for (const [, cb] of c.pendingOk) cb(false, 'connection closed before OK', false)
      c.pendingOk.clear()
      c.resubscribed?.()
    })
    return c.open
  }

  const publishTo = async (
    c: RelayConn,
    event: NostrEvent,
  ): Promise<{ ok: boolean; reason: string; explicit: boolean }> => {
    try {
      await connect(c)
    } catch (e) {
      return { ok: false, reason: `connection failed: ${(e as Error).message}`, explicit: false }
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        c.pendingOk.delete(event.id)
        resolve({ ok: false, reason: `no OK within ${publishTimeoutMs} ms`, explicit: false })
      }, publishTimeoutMs)
      c.pendingOk.set(event.id, (ok, reason, explicit) => {
        clearTimeout(timer)
        resolve({ ok, reason, explicit })
      })
      c.ws?.send(JSON.stringify(['EVENT', event]))
    })
  }

  return {
    publish(event) {
      const result: PublishResult = { accepted: [], duplicate: [], rejected: [] }
      return new Promise((resolve) => {
        let pending = conns.length
        for (const c of conns) {
          void publishTo(c, event).then(({ ok, reason, explicit }) => {
            if (ok) {
              result.accepted.push(c.url)
              if (reason.startsWith('duplicate:')) result.duplicate.push(c.url)
              resolve(result)
            } else result.rejected.push({ relay: c.url, reason, explicit })
            pending--
            if (pending === 0) resolve(result)
          })
        }
      })
    },
    subscribe(filter, onEvent) {
      const id = `nwc${++subCounter}`
      let resolveReady!: () => void
      const ready = new Promise<void>((r) => {
        resolveReady = r
      })
      const s: SubState = {
        filter,
        onEvent,
        eoseFrom: new Set(),
        sentTo: new Set(),
        failedFrom: new Set(),
        resolveReady,
        closed: false,
      }
      subs.set(id, s)
      const timer = setTimeout(() => s.resolveReady(), eoseTimeoutMs)
      void ready.then(() => clearTimeout(timer))
      for (const c of conns) {
        connect(c).then(
          () => {
            // connect() re-sends live subscriptions when it opens a socket; send only if it was already open.
            if (!s.closed && c.ws && c.ws.readyState === WebSocket.OPEN && !s.sentTo.has(c.url)) {
              s.sentTo.add(c.url)
              c.ws.send(JSON.stringify(['REQ', id, filter]))
            }
          },
          () => markSubFailed(id, c.url),
        )
      }
      return {
        ready,
        close() {
          if (s.closed) return
          s.closed = true
          subs.delete(id)
          clearTimeout(timer)
          s.resolveReady()
          for (const c of conns)
            if (c.ws && c.ws.readyState === WebSocket.OPEN) c.ws.send(JSON.stringify(['CLOSE', id]))
        },
      }
    },
    close() {
      closed = true
      for (const s of subs.values()) s.closed = true
      subs.clear()
      for (const c of conns) {
        c.ws?.close()
        c.ws = null
        c.open = null
      }
    },
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The same interface on top of the app's relay pool (src-main/nostr/relay-pool.ts). Typed structurally so this
// file does not depend on the pool's internals: any object with these two methods will do.

/** An event as the pool hands it out (verified, frozen). */
export interface PoolEvent {
  readonly id: string
  readonly pubkey: string
  readonly created_at: number
  readonly kind: number
  readonly tags: readonly (readonly string[])[]
  readonly content: string
  readonly sig: string
}

export interface PoolLike {
  subscribe(spec: {
    filters: NostrFilter[]
    relays?: readonly string[]
    onEvent(ev: PoolEvent, ctx: { relay: string }): void
    onCaughtUp?(relay: string): void
  }): { close(): void }
  publish(
    event: NostrEvent,
    opts?: { relays?: readonly string[] },
  ): Promise<Array<{ relay: string; ok: boolean; outcome: string; message: string }>>
}

/**
 * An NwcTransport over a relay pool, limited to `relays` (the connection URI's). The pool verifies signatures,
 * reconnects and re-subscribes; `ready` resolves when the first relay has caught up, or after eoseTimeoutMs.
 */
export function createPoolTransport(
  pool: PoolLike,
  relays: readonly string[],
  opts: { eoseTimeoutMs?: number } = {},
): NwcTransport {
  const eoseTimeoutMs = opts.eoseTimeoutMs ?? 5_000
  const open = new Set<{ close(): void }>()
  return {
    async publish(event) {
      const results = await pool.publish(event, { relays })
      return {
        accepted: results.filter((r) => r.ok).map((r) => r.relay),
        duplicate: results.filter((r) => r.ok && r.outcome === 'duplicate').map((r) => r.relay),
        rejected: results
          .filter((r) => !r.ok)
          .map((r) => ({ relay: r.relay, reason: r.message, explicit: r.outcome === 'rejected' })),
      }
    },
    subscribe(filter, onEvent) {
      let resolveReady!: () => void
      const ready = new Promise<void>((r) => {
        resolveReady = r
      })
      const timer = setTimeout(resolveReady, eoseTimeoutMs)
      void ready.then(() => clearTimeout(timer))
      const sub = pool.subscribe({
        filters: [filter],
        relays,
        onEvent: (ev, ctx) => onEvent({ ...ev, tags: ev.tags.map((t) => [...t]) }, ctx.relay),
        onCaughtUp: () => resolveReady(),
      })
      open.add(sub)
      return {
        ready,
        close() {
          clearTimeout(timer)
          resolveReady()
          open.delete(sub)
          sub.close()
        },
      }
    },
    close() {
      // The pool belongs to the app; closing the transport only ends this client's subscriptions.
      for (const s of open) s.close()
      open.clear()
    },
  }
}
