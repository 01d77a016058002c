// Subscriptions on one relay over a fake socket: the live REQ resumes from the stored cursor minus the overlap, a
// full page asks for the page ending at its oldest second, a page that is all one second is fetched on its own
// with the larger limit, the cursor moves only after catch-up and never past "now", and a CLOSED answer is asked
// again after the backoff. The page counters are set as the pool's frame routing sets them (./relay-pool.ts).
import { beforeEach, describe, expect, it } from 'vitest'
import { manualClock } from '../../src-shared/clock'
import { memoryLogger } from '../../src-shared/log'
import { FakeSocket, fakeSocketClass, manualTimers } from '../../test/support/fake-socket'
import { nobleVerifier } from './event-verifier'
import { RelayCatchUp } from './relay-catch-up'
import { newRelayConn, type RelayConn, type SubState } from './relay-pool-state'
import { type Filter, memoryCursorStore } from './relay-subscriptions'

const URL = 'ws://relay.test'
const NOW_SEC = 1_700_000_000

class CatchUp extends RelayCatchUp {
  caughtUp: string[] = []
  add(url: string): RelayConn {
    const c = newRelayConn(url)
    this.conns.set(url, c)
    this.connect(c)
    return c
  }
  open(key: string, filters: Filter[] = [{ kinds: [30079] }]): SubState {
    const sub: SubState = {
      key,
      spec: { key, filters, onEvent: () => {}, onCaughtUp: (r) => this.caughtUp.push(r) },
      relays: new Set(),
      perRelay: new Map(),
      delivered: new Map(),
      cursorsLoaded: Promise.resolve(),
      closed: false,
    }
    this.subs.set(key, sub)
    this.attachSub(sub, URL)
    return sub
  }
  /** What the pool's frame routing does for stored events of a REQ, in short. */
  stored(sub: SubState, createdAts: number[]): void {
    const st = sub.perRelay.get(URL)!
    for (const t of createdAts) {
      st.pageCount++
      st.pageOldest = Math.min(st.pageOldest ?? t, t)
      st.pageNewest = Math.max(st.pageNewest ?? t, t)
      st.maxSeen = Math.max(st.maxSeen ?? t, t)
    }
  }
  eose = (wireId: string) => this.handleEose(URL, wireId)
  closedByRelay = (conn: RelayConn, wireId: string, message: string) => this.onClosed(conn, wireId, message)
  protected onFrame(): void {}
  protected onConnected(conn: RelayConn): void {
    for (const sub of this.subs.values()) void this.startSubOnRelay(sub, conn.url)
  }
  protected onAuthenticated(): void {}
  protected unsendPublishes(): void {}
}

let timers: ReturnType<typeof manualTimers>
const flush = () => new Promise((r) => setImmediate(r))
const pool = (cursorStore = memoryCursorStore()) =>
  new CatchUp({
    relays: [],
    verifier: nobleVerifier(),
    logger: memoryLogger(),
    clock: manualClock(NOW_SEC * 1000),
    timers,
    random: () => 0,
    WebSocket: fakeSocketClass,
    cursorStore,
    pageLimit: 3,
    maxSingleSecondLimit: 50,
    backoff: { initialMs: 100, maxMs: 1000, factor: 2, jitterRatio: 0 },
  })
/** The last REQ on the socket, without the ping. */
const lastReq = (ws: FakeSocket) =>
  ws
    .reqs()
    .filter((r) => !r.id.startsWith('ping:'))
    .at(-1)!

beforeEach(() => {
  FakeSocket.all = []
  timers = manualTimers()
})

describe('relay catch-up', () => {
  it('resumes from the stored cursor minus the overlap, pages down from a full page, then saves the cursor', async () => {
    const store = memoryCursorStore()
    await store.set(`recs@${URL}`, NOW_SEC - 100)
    const p = pool(store)
    p.add(URL)
    const sub = p.open('recs')
    FakeSocket.all[0]!.open()
    await flush()
    const ws = FakeSocket.all[0]!
    const live = lastReq(ws)
    expect(live.filters).toEqual([{ kinds: [30079], since: NOW_SEC - 700, limit: 3 }])
    p.stored(sub, [NOW_SEC - 10, NOW_SEC - 20, NOW_SEC - 30]) // a full page
    await p.eose(live.id)
    const page = lastReq(ws)
    expect(page.filters).toEqual([{ kinds: [30079], since: NOW_SEC - 700, until: NOW_SEC - 30, limit: 3 }])
    expect(store.values.get(`recs@${URL}`)).toBe(NOW_SEC - 100) // not while stored events remain
    p.stored(sub, [NOW_SEC - 30])
    await p.eose(page.id)
    expect(ws.sent.at(-1)).toEqual(['CLOSE', page.id])
    expect(store.values.get(`recs@${URL}`)).toBe(NOW_SEC - 10)
    expect(p.caughtUp).toEqual([URL])
  })

  it('a full page that is all one second is fetched on its own with the larger limit', async () => {
    const p = pool()
    p.add(URL)
    const sub = p.open('recs')
    FakeSocket.all[0]!.open()
    await flush()
    const ws = FakeSocket.all[0]!
    p.stored(sub, [NOW_SEC - 5, NOW_SEC - 5, NOW_SEC - 5])
    await p.eose(lastReq(ws).id)
    expect(lastReq(ws).filters).toEqual([{ kinds: [30079], since: NOW_SEC - 5, until: NOW_SEC - 5, limit: 50 }])
  })

  it('never moves the cursor past now (an ATM with a fast clock)', async () => {
    const store = memoryCursorStore()
    const p = pool(store)
    p.add(URL)
    const sub = p.open('recs')
    FakeSocket.all[0]!.open()
    await flush()
    p.stored(sub, [NOW_SEC + 3600])
    await p.eose(lastReq(FakeSocket.all[0]!).id)
    expect(store.values.get(`recs@${URL}`)).toBe(NOW_SEC)
  })

  it('a REQ closed by the relay is asked again after the backoff', async () => {
    const p = pool()
    const conn = p.add(URL)
    p.open('recs')
    const ws = FakeSocket.all[0]!
    ws.open()
    await flush()
    const live = lastReq(ws)
    p.closedByRelay(conn, live.id, 'rate-limited: slow down')
    expect(conn.health.lastError).toMatch(/closed by relay: rate-limited: slow down/)
    expect(timers.pending().some((t) => t.ms === 100)).toBe(true)
    const before = ws.reqs().length
    timers.fireNext() // the retry (the ping's timeout is due much later)
    await flush()
    expect(ws.reqs().length).toBeGreaterThan(before)
    expect(lastReq(ws).id).not.toBe(live.id)
  })
})
