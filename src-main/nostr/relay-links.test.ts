// Relay connections on a fake socket with hand-fired timers: the connect timeout and lost sockets schedule a
// reconnect with the backoff (and tell the layers above), a ping answered by EOSE measures latency and resets
// the backoff, an unanswered ping drops the socket, and a signer that returns the wrong NIP-42 event leaves the
// relay auth-failed without sending it.
import { beforeEach, describe, expect, it } from 'vitest'
import { manualClock } from '../../src-shared/clock'
import { memoryLogger } from '../../src-shared/log'
import { FakeSocket, fakeSocketClass, manualTimers } from '../../test/support/fake-socket'
import { nobleVerifier } from './event-verifier'
import type { RelayHealth } from './relay-health'
import { RelayLinks } from './relay-links'
import { newRelayConn, type RelayConn, type RelayPoolOptions } from './relay-pool-state'

class Links extends RelayLinks {
  readonly calls: string[] = []
  add(url: string): RelayConn {
    const c = newRelayConn(url)
    this.conns.set(url, c)
    this.connect(c)
    return c
  }
  protected onFrame(conn: RelayConn, data: unknown): void {
    const f = JSON.parse(String(data)) as unknown[]
    if (f[0] === 'EOSE' && f[1] === conn.pingWireId) this.onPong(conn)
    if (f[0] === 'AUTH') void this.onAuthChallenge(conn, String(f[1]))
  }
  protected onConnected(conn: RelayConn): void {
    this.calls.push(`connected ${conn.url}`)
  }
  protected onAuthenticated(conn: RelayConn): void {
    this.calls.push(`authenticated ${conn.url}`)
  }
  protected resetSubsOnRelay(url: string): void {
    this.calls.push(`reset ${url}`)
  }
  protected unsendPublishes(url: string): void {
    this.calls.push(`unsend ${url}`)
  }
}

const URL = 'ws://relay.test'
let timers: ReturnType<typeof manualTimers>
let clock: ReturnType<typeof manualClock>
let statuses: RelayHealth[]
const links = (over: Partial<RelayPoolOptions> = {}) =>
  new Links({
    relays: [],
    verifier: nobleVerifier(),
    logger: memoryLogger(),
    clock,
    timers,
    random: () => 0,
    WebSocket: fakeSocketClass,
    backoff: { initialMs: 100, maxMs: 1000, factor: 2, jitterRatio: 0.5 },
    onStatus: (h) => statuses.push(h),
    ...over,
  })

beforeEach(() => {
  FakeSocket.all = []
  timers = manualTimers()
  clock = manualClock(1_700_000_000_000)
  statuses = []
})

describe('relay links', () => {
  it('a connect timeout drops the socket and schedules a reconnect with growing backoff', () => {
    const l = links({ connectTimeoutMs: 50 })
    const c = l.add(URL)
    expect(c.health.state).toBe('connecting')
    timers.fireNext() // connect timeout
    expect(FakeSocket.all[0]!.closed).toBe(true)
    expect(c.health.lastError).toMatch(/connect timeout after 50 ms/)
    expect(l.calls).toEqual([`reset ${URL}`, `unsend ${URL}`])
    expect(c.health.state).toBe('disconnected')
    expect(c.health.nextReconnectAtMs).toBe(clock.nowMs() + 100)
    timers.fireNext() // reconnect
    expect(FakeSocket.all).toHaveLength(2)
    timers.fireNext() // second connect timeout
    expect(c.health.nextReconnectAtMs).toBe(clock.nowMs() + 200)
    expect(c.health.reconnectAttempt).toBe(2)
  })

  it('a ping answered by EOSE measures latency and resets the backoff; an unanswered one drops the socket', () => {
    const l = links({ pingTimeoutMs: 500, pingIntervalMs: 10_000 })
    const c = l.add(URL)
    c.health.reconnectAttempt = 3
    const ws = FakeSocket.all[0]!
    ws.open()
    expect(l.calls).toEqual([`connected ${URL}`])
    const [ping] = ws.reqs()
    expect(ping!.filters).toEqual([{ ids: ['0'.repeat(64)], limit: 0 }])
    clock.advanceMs(42)
    ws.frame('EOSE', ping!.id)
    expect(c.health.latencyMs).toBe(42)
    expect(c.health.reconnectAttempt).toBe(0)
    expect(ws.sent.at(-1)).toEqual(['CLOSE', ping!.id])
    expect(statuses.at(-1)?.state).toBe('connected')
    timers.fireNext() // the next ping is due
    expect(ws.reqs()).toHaveLength(2)
    timers.fireNext() // and nobody answers it
    expect(c.health.lastError).toMatch(/no answer to ping within 500 ms/)
    expect(ws.closed).toBe(true)
    expect(c.health.state).toBe('disconnected')
  })

  it('a lost socket tells the layers above and reconnects', () => {
    const l = links()
    const c = l.add(URL)
    FakeSocket.all[0]!.open()
    FakeSocket.all[0]!.lose()
    expect(l.calls).toEqual([`connected ${URL}`, `reset ${URL}`, `unsend ${URL}`])
    expect(c.health.nextReconnectAtMs).not.toBeNull()
  })

  it('NIP-42: a signer that returns another event leaves the relay auth-failed, nothing sent', async () => {
    const l = links({
      signAuth: async (t) => ({
        id: '0'.repeat(64),
        pubkey: '1'.repeat(64),
        created_at: t.created_at,
        kind: 22242,
        tags: [['challenge', 'not-the-one']],
        content: '',
        sig: '2'.repeat(128),
      }),
    })
    const c = l.add(URL)
    const ws = FakeSocket.all[0]!
    ws.open()
    ws.frame('AUTH', 'abc')
    await new Promise((r) => setImmediate(r))
    expect(c.health.state).toBe('auth-failed')
    expect(c.health.lastError).toMatch(/NIP-42 signing failed: signer returned a different event/)
    expect(ws.sent.some((f) => f[0] === 'AUTH')).toBe(false)
    expect(l.calls).not.toContain(`authenticated ${URL}`)
  })
})
