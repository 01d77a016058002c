// Relay pool against the real relay process (test/support/relay.ts): delivery, dedupe across relays, forged and
// malformed events from a hostile upstream, kill + restart mid-stream with cursor catch-up, NIP-42, pagination,
// backpressure and health transitions. Synchronisation is by events and polling with a deadline, never sleeps.
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { finalizeEvent, generateSecretKey, getPublicKey, verifiedSymbol } from 'nostr-tools/pure'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { WebSocketServer } from 'ws'
import { memoryLogger } from '../../src-shared/log'
import { connectRaw } from '../../test/support/raw-client'
import { type RelayHandle, startRelay } from '../../test/support/relay'
import { createEventVerifier, nobleVerifier, wasmVerifier } from './event-verifier'
import {
  createRelayPool,
  type Filter,
  memoryCursorStore,
  type RelayHealth,
  type RelayPool,
  type RelayPoolOptions,
  type Timers,
  type VerifiedEvent,
} from './relay-pool'

const nowSec = () => Math.floor(Date.now() / 1000)
const atmSk = generateSecretKey()
const atmPk = getPublicKey(atmSk)
const consoleSk = generateSecretKey()
const consolePk = getPublicKey(consoleSk)
const sign = (kind: number, tags: string[][], content: string, createdAt = nowSec()) =>
  finalizeEvent({ kind, tags, content, created_at: createdAt }, atmSk)

const dir = mkdtempSync(join(tmpdir(), 'relay-pool-'))
const cleanups: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

async function relay(opts: Parameters<typeof startRelay>[0] = {}): Promise<RelayHandle> {
  const r = await startRelay(opts)
  cleanups.push(() => r.stop())
  return r
}

async function pool(opts: Partial<RelayPoolOptions> & { relays: string[] }): Promise<RelayPool> {
  const p = await createRelayPool({ backoff: { initialMs: 20, maxMs: 200 }, ...opts })
  cleanups.push(() => p.close())
  return p
}

/** Polls `pred` until true or the deadline passes (no fixed sleeps). */
async function waitFor(pred: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 5))
  }
}

function collector() {
  const events: VerifiedEvent[] = []
  const relays: string[] = []
  return {
    events,
    relays,
    ids: () => events.map((e) => e.id),
    onEvent: (ev: VerifiedEvent, ctx: { relay: string }) => {
      events.push(ev)
      relays.push(ctx.relay)
    },
  }
}

describe('event verifier', () => {
  it('WASM verifier is chosen by default; a WASM start failure falls back to noble and says so', async () => {
    const log = memoryLogger()
    expect((await createEventVerifier(log)).name).toBe('wasm')
    const fb = await createEventVerifier(log, {
      loadWasm: async () => {
        throw new Error('no WebAssembly here')
      },
    })
    expect(fb.name).toBe('noble')
    expect(log.records.some((r) => r.level === 'warn' && r.fields.reason === 'no WebAssembly here')).toBe(true)
  })

  it('both verifiers agree on valid, tampered-content and foreign-signature events', async () => {
    const ev = sign(1, [['t', 'x']], 'hello')
    const forgedSig = { ...ev, sig: sign(1, [], 'other').sig }
    for (const v of [nobleVerifier(), await wasmVerifier()]) {
      expect(v.verify({ ...ev, tags: [['t', 'x']] })).toBe('ok')
      expect(v.verify({ ...ev, tags: [['t', 'x']], content: 'hellO' })).toBe('bad-id')
      expect(v.verify({ ...forgedSig, tags: [['t', 'x']] })).toBe('bad-sig')
    }
  })
})

describe('relay pool against the real relay process', () => {
  it('subscribes, receives stored and live events as frozen records, publishes with per-relay OK', async () => {
    const r = await relay()
    const statuses: RelayHealth[] = []
    const p = await pool({ relays: [r.url], onStatus: (h) => statuses.push(h) })
    const stored = sign(
      30079,
      [
        ['d', 'tx1'],
        ['p', consolePk],
      ],
      'stored',
    )
    const raw = await connectRaw(r.url)
    cleanups.push(() => raw.close())
    expect((await raw.publish(stored))[0]).toBe(true)

    const c = collector()
    let caughtUp = 0
    p.subscribe({
      key: 'atm',
      filters: [{ kinds: [30079], '#p': [consolePk] }],
      onEvent: c.onEvent,
      onCaughtUp: () => caughtUp++,
    })
    await waitFor(() => caughtUp === 1, 'catch-up')
    expect(c.ids()).toEqual([stored.id])

    const live = sign(
      30079,
      [
        ['d', 'tx2'],
        ['p', consolePk],
      ],
      'live',
    )
    const results = await p.publish(live)
    expect(results).toEqual([
      { relay: r.url, ok: true, outcome: 'accepted', message: '', latencyMs: expect.any(Number) },
    ])
    await waitFor(() => c.events.length === 2, 'live event')
    const got = c.events[1]!
    expect(got.id).toBe(live.id)
    expect(Object.isFrozen(got) && Object.isFrozen(got.tags) && Object.isFrozen(got.tags[0])).toBe(true)
    expect(got).not.toBe(live)
    expect(Object.getOwnPropertySymbols(got)).toEqual([])

    const h = p.health()[0]!
    expect(h.state).toBe('connected')
    expect(h.latencyMs).not.toBeNull()
    expect(h.lastEventAtMs).not.toBeNull()
    expect(statuses.map((s) => s.state).slice(0, 2)).toEqual(['connecting', 'connected'])
  })

  const GlobalWebSocket = (globalThis as { WebSocket?: unknown }).WebSocket
  // Node ≥ 22 (and the Node 24 `npm test` runs on) has a global WebSocket; an older Node skips with the reason.
  it.skipIf(!GlobalWebSocket)('works with the runtime global WebSocket injected instead of ws', async () => {
    const G = GlobalWebSocket
    const r = await relay()
    const p = await pool({ relays: [r.url], WebSocket: G as RelayPoolOptions['WebSocket'] })
    const c = collector()
    p.subscribe({ filters: [{ authors: [atmPk] }], onEvent: c.onEvent })
    const ev = sign(1, [], 'via global WebSocket')
    await waitFor(() => p.health()[0]?.state === 'connected', 'connect')
    expect((await p.publish(ev))[0]?.ok).toBe(true)
    await waitFor(() => c.events.length === 1, 'event')
  })

  it('delivers an event seen on two relays exactly once', async () => {
    const a = await relay()
    const b = await relay()
    const before = sign(1, [['t', 'dup']], 'stored on both', nowSec() - 5)
    for (const r of [a, b]) {
      const raw = await connectRaw(r.url)
      expect((await raw.publish(before))[0]).toBe(true)
      await raw.close()
    }
    const p = await pool({ relays: [a.url, b.url] })
    const c = collector()
    const caught = new Set<string>()
    p.subscribe({ key: 'dup', filters: [{ '#t': ['dup'] }], onEvent: c.onEvent, onCaughtUp: (rl) => caught.add(rl) })
    await waitFor(() => caught.size === 2, 'both relays caught up')
    const live = sign(1, [['t', 'dup']], 'published to both')
    const res = await p.publish(live)
    expect(res.map((x) => x.ok)).toEqual([true, true])
    // Wait until both relays have sent the live event (lastEventAtMs moves) and the queue is empty.
    await waitFor(() => c.events.length === 2, 'live event')
    // A marker sent through one relay at a time: once it is delivered, that relay's copy of `live` (sent before it
    // on the same socket, and the queue is FIFO) has been processed too.
    const markerA = sign(1, [['t', 'dup']], 'marker a')
    expect((await p.publish(markerA, { relays: [a.url] }))[0]?.ok).toBe(true)
    await waitFor(() => c.events.length === 3, 'marker a')
    const markerB = sign(1, [['t', 'dup']], 'marker b')
    expect((await p.publish(markerB, { relays: [b.url] }))[0]?.ok).toBe(true)
    await waitFor(() => c.events.length === 4, 'marker b')
    expect(c.ids().sort()).toEqual([before.id, live.id, markerA.id, markerB.id].sort())
  })

  it('refuses forged events at the relay and drops them at the pool, without letting them shadow the genuine one', async () => {
    // 1. The real relay already rejects a forged signature.
    const r = await relay()
    const raw = await connectRaw(r.url)
    cleanups.push(() => raw.close())
    const genuine = sign(
      30079,
      [
        ['d', 'tx9'],
        ['p', consolePk],
      ],
      'genuine',
    )
    const forged = { ...genuine, sig: sign(1, [], 'x').sig }
    const [ok, msg] = await raw.publish(forged)
    expect(ok).toBe(false)
    expect(msg).toMatch(/^invalid:/)

    // 2. A hostile upstream (the true edge: a relay we do not control) sends forged, malformed and oversize
    //    frames, then the genuine event. The forged copy carries nostr-tools' cached "verified" flag.
    const hostile = new WebSocketServer({ host: '127.0.0.1', port: 0 })
    cleanups.push(() => new Promise<void>((res) => hostile.close(() => res())))
    await new Promise<void>((res) => hostile.once('listening', () => res()))
    const flagged = { ...forged, [verifiedSymbol]: true }
    const badId = { ...genuine, content: 'tampered' }
    const otherKind = sign(1, [['p', consolePk]], 'not what we asked for')
    hostile.on('connection', (ws) => {
      ws.on('message', (data) => {
        const frame = JSON.parse(String(data))
        if (frame[0] !== 'REQ') return
        const sub = frame[1]
        if (String(sub).startsWith('ping:')) return ws.send(JSON.stringify(['EOSE', sub]))
        ws.send(JSON.stringify(['EVENT', sub, flagged]))
        ws.send(JSON.stringify(['EVENT', sub, badId]))
        ws.send(JSON.stringify(['EVENT', sub, { ...genuine, pubkey: 'ZZ' }]))
        ws.send(JSON.stringify(['EVENT', sub, { ...genuine, content: 'x'.repeat(5000) }]))
        ws.send('not json')
        ws.send(JSON.stringify(['EVENT', sub, otherKind]))
        ws.send(JSON.stringify(['EVENT', sub, genuine]))
        ws.send(JSON.stringify(['EOSE', sub]))
      })
    })
    const port = (hostile.address() as { port: number }).port
    const log = memoryLogger()
    const p = await pool({ relays: [`ws://127.0.0.1:${port}`], logger: log, maxEventBytes: 4096 })
    const c = collector()
    let caught = false
    p.subscribe({
      filters: [{ kinds: [30079], '#p': [consolePk] }],
      onEvent: c.onEvent,
      onCaughtUp: () => (caught = true),
    })
    await waitFor(() => caught, 'hostile relay EOSE')
    expect(c.ids()).toEqual([genuine.id])
    const reasons = log.records.filter((x) => x.msg === 'dropped event').map((x) => x.fields.reason)
    expect(reasons.sort()).toEqual(['bad-id', 'bad-sig', 'filter-mismatch', 'malformed', 'malformed', 'oversize'])
    expect(log.records.find((x) => x.fields.reason === 'malformed' && x.fields.field)?.fields.field).toBe('pubkey')
    expect(p.health()[0]?.droppedEvents).toBe(6)
  })

  it('relay SIGKILLed and restarted mid-stream: reconnects and catches up from the cursor, no miss, no double', async () => {
    const r = await relay({ persistFile: join(dir, 'kill.jsonl') })
    // Reconnect timers are held while the relay is down so events published meanwhile must come from catch-up.
    let hold = false
    const held: Array<() => void> = []
    const timers: Timers = {
      setTimeout: (fn, ms) => {
        if (!hold) return setTimeout(fn, ms)
        held.push(fn)
        return null
      },
      clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
    }
    const cursors = memoryCursorStore()
    const states: string[] = []
    const p = await pool({ relays: [r.url], timers, cursorStore: cursors, onStatus: (h) => states.push(h.state) })
    const c = collector()
    const t0 = nowSec() - 60
    p.subscribe({ key: 'records', filters: [{ authors: [atmPk], kinds: [1] }], overlapSec: 120, onEvent: c.onEvent })
    await waitFor(() => p.health()[0]?.state === 'connected', 'connected')

    const pub = await connectRaw(r.url)
    const first = Array.from({ length: 5 }, (_, i) => sign(1, [], `e${i}`, t0 + i))
    for (const e of first) expect((await pub.publish(e))[0]).toBe(true)
    await waitFor(() => c.events.length === 5, 'first five live')
    await pub.close()

    hold = true
    await r.kill('SIGKILL')
    await waitFor(() => p.health()[0]?.state === 'disconnected', 'disconnected')
    await r.restart()
    const pub2 = await connectRaw(r.url)
    const second = Array.from({ length: 5 }, (_, i) => sign(1, [], `e${i + 5}`, t0 + 5 + i))
    for (const e of second) expect((await pub2.publish(e))[0]).toBe(true)
    await pub2.close()
    expect(c.events.length).toBe(5)

    hold = false
    for (const fn of held.splice(0)) fn()
    await waitFor(() => c.events.length >= 10, 'catch-up after restart')
    // Catch-up re-reads the overlap (the first five again): they must not be delivered twice.
    await waitFor(() => (cursors.values.get(`records@${r.url}`) ?? 0) === t0 + 9, 'cursor at newest')
    expect(c.ids().slice(0, 5)).toEqual(first.map((e) => e.id))
    expect(new Set(c.ids()).size).toBe(10)
    expect(c.ids().sort()).toEqual([...first, ...second].map((e) => e.id).sort())
    const seq = states.join(',')
    expect(seq).toMatch(/^connecting,connected,.*disconnected,.*connecting,connected/)
  })

  it('a console that was offline resumes from its persisted cursor', async () => {
    const r = await relay()
    const raw = await connectRaw(r.url)
    cleanups.push(() => raw.close())
    const base = nowSec() - 100
    const evs = [0, 10, 20, 30, 40, 50].map((d, i) => sign(1, [['t', 'off']], `o${i}`, base + d))
    for (const e of evs.slice(0, 3)) await raw.publish(e)
    const cursors = memoryCursorStore()

    const p1 = await pool({ relays: [r.url], cursorStore: cursors })
    const c1 = collector()
    let done1 = false
    p1.subscribe({
      key: 'off',
      filters: [{ '#t': ['off'] }],
      overlapSec: 0,
      onEvent: c1.onEvent,
      onCaughtUp: () => (done1 = true),
    })
    await waitFor(() => done1, 'first run caught up')
    expect(c1.events).toHaveLength(3)
    await p1.close()
    expect(cursors.values.get(`off@${r.url}`)).toBe(base + 20)

    for (const e of evs.slice(3)) await raw.publish(e)
    const p2 = await pool({ relays: [r.url], cursorStore: cursors })
    const c2 = collector()
    let done2 = false
    p2.subscribe({
      key: 'off',
      filters: [{ '#t': ['off'] }],
      overlapSec: 0,
      onEvent: c2.onEvent,
      onCaughtUp: () => (done2 = true),
    })
    await waitFor(() => done2, 'second run caught up')
    // since = cursor (inclusive): the event at the cursor second plus everything published while offline.
    expect(c2.events.map((e) => e.content).sort()).toEqual(['o2', 'o3', 'o4', 'o5'])
    expect(cursors.values.get(`off@${r.url}`)).toBe(base + 50)
  })

  it('pages through a relay that caps results per query', async () => {
    const r = await relay({ maxLimit: 5 })
    const raw = await connectRaw(r.url)
    cleanups.push(() => raw.close())
    const base = nowSec() - 200
    const evs = Array.from({ length: 13 }, (_, i) => sign(1, [['t', 'page']], `p${i}`, base + i * 3))
    for (const e of evs) await raw.publish(e)
    const p = await pool({ relays: [r.url], pageLimit: 5 })
    const c = collector()
    let done = false
    p.subscribe({ filters: [{ '#t': ['page'] }], onEvent: c.onEvent, onCaughtUp: () => (done = true) })
    await waitFor(() => done, 'paged catch-up')
    expect(c.ids().sort()).toEqual(evs.map((e) => e.id).sort())
  })

  it('bounded queue: events dropped for room are re-fetched (stored and live), none lost, none doubled', async () => {
    const r = await relay()
    const raw = await connectRaw(r.url)
    cleanups.push(() => raw.close())
    const base = nowSec() - 100
    const evs = Array.from({ length: 20 }, (_, i) => sign(1, [['t', 'bp']], `b${i}`, base + i))
    for (const e of evs) await raw.publish(e)
    const log = memoryLogger()
    const p = await pool({ relays: [r.url], maxQueuedEvents: 3, logger: log })
    const c = collector()
    let caught = 0
    p.subscribe({
      filters: [{ '#t': ['bp'] }],
      onEvent: async (ev, ctx) => {
        // A slow subscriber: yield to the socket between events so the queue fills up.
        await new Promise((res) => setImmediate(res))
        c.onEvent(ev, ctx)
      },
      onCaughtUp: () => caught++,
    })
    await waitFor(() => caught >= 1 && c.events.length === 20, 'all stored events despite drops')
    const storedDrops = log.records.filter((x) => x.fields.reason === 'queue-full').length
    expect(storedDrops).toBeGreaterThan(0)

    // A burst of live events: sent without waiting for each OK, so they arrive back to back.
    const live = Array.from({ length: 15 }, (_, i) => sign(1, [['t', 'bp']], `l${i}`, nowSec() - 30 + i))
    for (const e of live) raw.send(['EVENT', e])
    await waitFor(() => c.events.length === 35, 'all live events despite drops')
    // The live burst overflowed the queue too, and the pool asked again from its held cursor.
    expect(log.records.filter((x) => x.msg.startsWith('re-fetching')).length).toBeGreaterThan(0)
    expect(new Set(c.ids()).size).toBe(35)
    expect(c.ids().sort()).toEqual([...evs, ...live].map((e) => e.id).sort())
  })

  it('a subscriber that throws holds the cursor; the event is delivered again after a reconnect', async () => {
    const r = await relay()
    const raw = await connectRaw(r.url)
    cleanups.push(() => raw.close())
    const t0 = nowSec() - 50
    const [e1, poison, e3] = [0, 1, 2].map((d) => sign(1, [['t', 'held']], `h${d}`, t0 + d)) as [
      ReturnType<typeof sign>,
      ReturnType<typeof sign>,
      ReturnType<typeof sign>,
    ]
    for (const e of [e1, poison, e3]) await raw.publish(e)
    const cursors = memoryCursorStore()
    const log = memoryLogger()
    const p = await pool({ relays: [r.url], cursorStore: cursors, logger: log })
    const delivered: string[] = []
    let failOnce = true
    let caught = 0
    p.subscribe({
      key: 'held',
      filters: [{ '#t': ['held'] }],
      onEvent: (ev) => {
        if (ev.id === poison.id && failOnce) {
          failOnce = false
          throw new Error('ledger busy')
        }
        delivered.push(ev.id)
      },
      onCaughtUp: () => caught++,
    })
    await waitFor(() => caught === 1, 'first catch-up')
    expect(delivered.sort()).toEqual([e1.id, e3.id].sort())
    expect(cursors.values.get(`held@${r.url}`)).toBeUndefined()
    expect(log.records.some((x) => x.msg.startsWith('subscriber failed') && x.fields.reason === 'ledger busy')).toBe(
      true,
    )

    await r.dropClients()
    await waitFor(() => caught === 2, 'catch-up after reconnect')
    expect(delivered.sort()).toEqual([e1.id, poison.id, e3.id].sort())
    expect(cursors.values.get(`held@${r.url}`)).toBe(t0 + 2)
  })

  it('a relay that accepts TCP but never answers the handshake times out and is retried; close() mid-connect is clean', async () => {
    const sockets: Socket[] = []
    const silent = createServer((sock) => sockets.push(sock))
    await new Promise<void>((res) => silent.listen(0, '127.0.0.1', () => res()))
    cleanups.push(
      () =>
        new Promise<void>((res) => {
          for (const s of sockets) s.destroy()
          silent.close(() => res())
        }),
    )
    const url = `ws://127.0.0.1:${(silent.address() as { port: number }).port}`
    const states: RelayHealth[] = []
    const p = await pool({ relays: [url], connectTimeoutMs: 100, onStatus: (h) => states.push(h) })
    await waitFor(() => states.some((h) => h.lastError?.startsWith('connect timeout') === true), 'connect timeout')
    await waitFor(() => sockets.length >= 2, 'a second attempt')
    expect(p.health()[0]?.reconnectAttempt).toBeGreaterThan(0)
    await p.close()
    expect(p.health()[0]?.state).toBe('disconnected')
  })

  it('a subscription CLOSED by the relay (rate-limited) is asked again after a backoff', async () => {
    const upstream = new WebSocketServer({ host: '127.0.0.1', port: 0 })
    cleanups.push(() => new Promise<void>((res) => upstream.close(() => res())))
    await new Promise<void>((res) => upstream.once('listening', () => res()))
    const ev = sign(1, [['t', 'rl']], 'after the limit')
    let reqs = 0
    upstream.on('connection', (ws) => {
      ws.on('message', (data) => {
        const [type, sub] = JSON.parse(String(data))
        if (type !== 'REQ') return
        if (String(sub).startsWith('ping:')) return ws.send(JSON.stringify(['EOSE', sub]))
        if (++reqs === 1) return ws.send(JSON.stringify(['CLOSED', sub, 'rate-limited: slow down']))
        ws.send(JSON.stringify(['EVENT', sub, ev]))
        ws.send(JSON.stringify(['EOSE', sub]))
      })
    })
    const url = `ws://127.0.0.1:${(upstream.address() as { port: number }).port}`
    const p = await pool({ relays: [url] })
    const c = collector()
    p.subscribe({ filters: [{ '#t': ['rl'] }], onEvent: c.onEvent })
    await waitFor(() => c.events.length === 1, 'event after retry')
    expect(reqs).toBe(2)
    expect(p.health()[0]?.lastError).toMatch(/rate-limited: slow down/)
  })

  it('NIP-42: authenticates with the injected signer; without a signer the relay shows auth-failed', async () => {
    const r = await relay({ requireAuth: true })
    let signed = 0
    const p = await pool({
      relays: [r.url],
      signAuth: async (t) => {
        signed++
        return finalizeEvent(t, consoleSk)
      },
    })
    const c = collector()
    let done = false
    p.subscribe({ filters: [{ authors: [atmPk] }], onEvent: c.onEvent, onCaughtUp: () => (done = true) })
    const ev = sign(1, [], 'behind auth')
    const res = await p.publish(ev)
    expect(res[0]?.ok).toBe(true)
    await waitFor(() => done && c.events.length === 1, 'event behind auth')
    expect(p.health()[0]?.authenticatedAs).toBe(consolePk)
    expect(signed).toBe(1)

    const states: RelayHealth[] = []
    const q = await pool({ relays: [r.url], onStatus: (h) => states.push(h) })
    q.subscribe({ filters: [{ authors: [atmPk] }], onEvent: () => {} })
    await waitFor(() => q.health()[0]?.state === 'auth-failed', 'auth-failed')
    expect(q.health()[0]?.lastError).toMatch(/auth-required/)
    expect(states.some((s) => s.state === 'auth-failed')).toBe(true)

    const bad = await pool({
      relays: [r.url],
      signAuth: async () => finalizeEvent(sign(1, [], 'wrong kind'), consoleSk),
    })
    await waitFor(() => bad.health()[0]?.state === 'auth-failed', 'signer returned junk')
    expect(bad.health()[0]?.lastError).toMatch(/NIP-42 signing failed/)
  })

  it('publish: timeout per relay, typed errors for bad events, queue bound', async () => {
    const r = await relay()
    const deadPort = r.port
    await r.stop()
    const p = await pool({ relays: [`ws://127.0.0.1:${deadPort}`], maxPendingPublishes: 1 })
    const ev = sign(1, [], 'nobody listens')
    const pending = p.publish(ev, { timeoutMs: 300 })
    await expect(p.publish(sign(1, [], 'second'))).rejects.toMatchObject({ code: 'queue-full' })
    expect(await pending).toEqual([
      {
        relay: `ws://127.0.0.1:${deadPort}`,
        ok: false,
        outcome: 'timeout',
        message: expect.stringMatching(/no OK/),
        latencyMs: null,
      },
    ])
    await expect(p.publish({ ...ev, content: 'changed' })).rejects.toMatchObject({ code: 'invalid-event', field: 'id' })
    await expect(p.publish({ ...ev, sig: 'xyz' })).rejects.toMatchObject({ code: 'invalid-event', field: 'sig' })
    expect(p.health()[0]?.errorCount).toBeGreaterThan(0)
    expect(['connecting', 'disconnected']).toContain(p.health()[0]?.state)
  })
})

describe('a second holding more stored events than a page', () => {
  const otherSk = generateSecretKey()
  const otherPk = getPublicKey(otherSk)
  /** Publishes `n` events at `createdAt` (half by the other key when `twoAuthors`), without waiting for each OK. */
  async function storeBurst(
    r: RelayHandle,
    tag: string,
    n: number,
    createdAt: number,
    twoAuthors = false,
  ): Promise<string[]> {
    const raw = await connectRaw(r.url)
    cleanups.push(() => raw.close())
    const evs = Array.from({ length: n }, (_, i) =>
      finalizeEvent(
        { kind: 1, tags: [['t', tag]], content: `${tag}-${i}`, created_at: createdAt },
        twoAuthors && i % 2 === 1 ? otherSk : atmSk,
      ),
    )
    const before = await r.storedCount()
    for (const e of evs) raw.send(['EVENT', e])
    const deadline = Date.now() + 20_000
    while ((await r.storedCount()) < before + n) {
      if (Date.now() > deadline) throw new Error('relay did not store the burst')
      await new Promise((res) => setTimeout(res, 20))
    }
    return evs.map((e) => e.id)
  }

  async function catchUp(url: string, filters: Filter[], log = memoryLogger()) {
    const p = await pool({ relays: [url], logger: log })
    const c = collector()
    let done = false
    p.subscribe({ key: 'burst', filters, onEvent: c.onEvent, onCaughtUp: () => (done = true) })
    await waitFor(() => done, 'catch-up', 30_000)
    return { p, c, log }
  }

  it('700 events in one second (relay cap 1000, page 500): fetched on their own, all delivered once', async () => {
    const r = await relay({ maxLimit: 1000 })
    const s = nowSec() - 100
    const ids = [
      ...(await storeBurst(r, 'sec', 3, s - 1)),
      ...(await storeBurst(r, 'sec', 700, s)),
      ...(await storeBurst(r, 'sec', 3, s + 1)),
    ]
    const { p, c, log } = await catchUp(r.url, [{ '#t': ['sec'] }])
    expect(c.events.length).toBe(ids.length)
    expect(new Set(c.ids()).size).toBe(ids.length)
    expect(c.ids().sort()).toEqual([...ids].sort())
    expect(log.records.filter((x) => x.level === 'error')).toEqual([])
    expect(log.records.some((x) => x.msg.includes('fetching that second on its own') && x.fields.createdAt === s)).toBe(
      true,
    )
    expect(p.health()[0]!.errorCount).toBe(0)
  })

  it('relay capped at 500: the second is split by author, all 700 delivered once', async () => {
    const r = await relay({ maxLimit: 500 })
    const s = nowSec() - 100
    const ids = [...(await storeBurst(r, 'split', 700, s, true)), ...(await storeBurst(r, 'split', 2, s - 5))]
    const { c, log } = await catchUp(r.url, [{ authors: [atmPk, otherPk], '#t': ['split'] }])
    expect(c.events.length).toBe(ids.length)
    expect(c.ids().sort()).toEqual([...ids].sort())
    expect(log.records.filter((x) => x.level === 'error')).toEqual([])
    expect(log.records.some((x) => x.msg.includes('splitting the query'))).toBe(true)
  })

  it('relay capped at 500, one author: an error naming relay, subscription and second, counted in health', async () => {
    const r = await relay({ maxLimit: 500 })
    const s = nowSec() - 100
    const older = await storeBurst(r, 'one', 2, s - 5)
    await storeBurst(r, 'one', 700, s)
    const { p, c, log } = await catchUp(r.url, [{ authors: [atmPk], '#t': ['one'] }])
    expect(new Set(c.ids()).size).toBe(c.events.length)
    // What the relay returns of that second is delivered, and paging goes on below it.
    expect(c.events.filter((e) => e.created_at === s).length).toBe(500)
    expect(c.ids()).toEqual(expect.arrayContaining(older))
    const errors = log.records.filter((x) => x.level === 'error')
    expect(errors).toHaveLength(1)
    expect(errors[0]!.fields).toMatchObject({ relay: r.url, subscription: 'burst', createdAt: s })
    const h = p.health()[0]!
    expect(h.errorCount).toBe(1)
    expect(h.lastError).toContain(`second ${s}`)
  })
})
