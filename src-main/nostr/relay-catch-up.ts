// The relay pool's subscriptions on each relay (see ./relay-pool.ts): the live REQ resumes from the persisted
// cursor minus an overlap; stored events arrive newest first, a full page is followed by the page ending at its
// oldest second, and a page that is all one second is fetched on its own with a larger limit, then split by author
// or #p value (./relay-paging.ts), and reported as an error only when even that cannot fetch it. The cursor moves
// forward only once everything up to EOSE was handed over, never while events were dropped for room or a
// subscriber threw, and never past "now". A CLOSED answer is retried with the reconnect backoff, or after NIP-42
// when the relay asked for auth.
import { backoffDelayMs, WS_OPEN } from './relay-connection'
import { RelayLinks } from './relay-links'
import { secondFilters, splitFilters } from './relay-paging'
import { newSubRelayState, type RelayConn, type SubRelayState, type SubState } from './relay-pool-state'
import type { CursorStore, Filter } from './relay-subscriptions'

export abstract class RelayCatchUp extends RelayLinks {
  protected readonly subs = new Map<string, SubState>()

  // ---- the relay closed one of our REQs -------------------------------------------------------------------------

  protected onClosed(conn: RelayConn, wireId: string, message: string): void {
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

  // ---- subscriptions -------------------------------------------------------------------------------------------

  protected attachSub(sub: SubState, url: string): void {
    if (sub.relays.has(url)) return
    sub.relays.add(url)
    const st = newSubRelayState()
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

  protected cursorKey(sub: SubState, url: string): string {
    return `${sub.key}@${url}`
  }

  /** Sends the live REQ (with since from the cursor and a page limit) for one subscription on one relay. */
  protected async startSubOnRelay(sub: SubState, url: string): Promise<void> {
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

  protected reqFilters(sub: SubState, st: SubRelayState, until: number | undefined): Filter[] {
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
  protected async handleEose(relay: string, wireId: string): Promise<void> {
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
  protected sendPage(
    sub: SubState,
    relay: string,
    st: SubRelayState,
    conn: RelayConn,
    until: number | undefined,
  ): void {
    st.pageUntil = until
    this.sendPageReq(sub, relay, st, conn, this.reqFilters(sub, st, until))
    this.log.debug('fetching older page', { relay, subscription: sub.key, until: until ?? null })
  }

  protected sendPageReq(sub: SubState, relay: string, st: SubRelayState, conn: RelayConn, filters: Filter[]): void {
    st.pageCount = 0
    st.pageOldest = undefined
    st.pageNewest = undefined
    st.droppedInReq = false
    const pageId = `${sub.key.slice(0, 40)}:${++this.seq}`
    st.pageWireId = pageId
    this.wire.set(pageId, { sub, relay, role: 'page', eoseSeen: false, sentAuthed: conn.authed })
    this.send(conn, ['REQ', pageId, ...filters])
  }

  protected startSweep(sub: SubState, relay: string, st: SubRelayState, conn: RelayConn, second: number): void {
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
  protected async continueSweep(sub: SubState, relay: string, st: SubRelayState, conn: RelayConn): Promise<void> {
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
  protected reportFullSecond(conn: RelayConn, sub: SubState, second: number, returned: number, why: string): void {
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

  protected async finishCatchUp(sub: SubState, relay: string, st: SubRelayState): Promise<void> {
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

  protected async advanceCursor(sub: SubState, relay: string, st: SubRelayState): Promise<void> {
    if (!st.caughtUp || st.dropped || st.held || st.maxSeen === undefined) return
    const nowSec = Math.floor(this.clock.nowMs() / 1000)
    const next = Math.min(st.maxSeen, nowSec)
    if (st.cursor !== undefined && next <= st.cursor) return
    st.cursor = next
    const store = this.opts.cursorStore
    if (!store || !sub.spec.key) return
    this.saveCursor(store, this.cursorKey(sub, relay), next, sub.key, relay)
  }

  /** Cursor keys with a save in flight, and the newest position asked for since it started. */
  private readonly cursorSaves = new Map<string, { next: number | undefined }>()

  /**
   * Saves a cursor without holding up delivery: awaiting each save here made every live event wait for the
   * previous event's save (with a ledger-backed store, a transaction and its fsync queued behind bookings), and
   * when a save took longer than the gap between events the backlog grew without end. At most one save per key
   * is in flight; the newest position asked for meanwhile is saved when it ends. The store call itself starts at
   * once, so a read issued after this sees it (the store's queue is ordered). A stored cursor that lags behind the
   * pool's is always safe: the re-fetch after a restart starts below it.
   */
  private saveCursor(store: CursorStore, key: string, at: number, subscription: string, relay: string): void {
    const pending = this.cursorSaves.get(key)
    if (pending) {
      pending.next = Math.max(pending.next ?? at, at)
      return
    }
    const state: { next: number | undefined } = { next: undefined }
    this.cursorSaves.set(key, state)
    const run = async (position: number): Promise<void> => {
      let want: number | undefined = position
      while (want !== undefined) {
        try {
          await store.set(key, want)
        } catch (err) {
          this.log.error('cursor save failed', { subscription, relay, reason: String((err as Error)?.message ?? err) })
        }
        want = state.next
        state.next = undefined
      }
      this.cursorSaves.delete(key)
    }
    void run(at)
  }

  protected override resetSubsOnRelay(url: string): void {
    for (const sub of this.subs.values()) {
      const st = sub.perRelay.get(url)
      if (!st) continue
      for (const id of [st.liveWireId, st.pageWireId]) if (id) this.wire.delete(id)
      st.liveWireId = st.pageWireId = null
      st.caughtUp = false
      st.waitingForAuth = false
    }
  }

  protected closeSub(sub: SubState): void {
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
}
