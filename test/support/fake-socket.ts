// Test doubles for the relay pool's parts (src-main/nostr/relay-links.test.ts, relay-catch-up.test.ts): a WebSocket whose
// frames the test reads and answers, and timers the test fires by hand, so connection, ping, backoff and paging
// rules can be checked without a relay process or real time. The whole pool against the real relay process is
// src-main/nostr/relay-pool.test.ts.
import type { Timers, WebSocketConstructor, WebSocketLike } from '../../src-main/nostr/relay-connection'

export class FakeSocket implements WebSocketLike {
  static all: FakeSocket[] = []
  readyState = 0
  onopen: ((ev: unknown) => void) | null = null
  onmessage: ((ev: { data: unknown }) => void) | null = null
  onclose: ((ev: { code?: number; reason?: string }) => void) | null = null
  onerror: ((ev: unknown) => void) | null = null
  readonly sent: unknown[][] = []
  closed = false
  constructor(readonly url: string) {
    FakeSocket.all.push(this)
  }
  send(data: string): void {
    this.sent.push(JSON.parse(data) as unknown[])
  }
  close(): void {
    this.closed = true
    this.readyState = 3
  }
  open(): void {
    this.readyState = 1
    this.onopen?.({})
  }
  /** The relay sends a frame. */
  frame(...f: unknown[]): void {
    this.onmessage?.({ data: JSON.stringify(f) })
  }
  /** The relay drops the connection. */
  lose(): void {
    this.readyState = 3
    this.onclose?.({ code: 1006, reason: '' })
  }
  /** REQs sent so far (id and filters). */
  reqs(): { id: string; filters: Record<string, unknown>[] }[] {
    return this.sent
      .filter((f) => f[0] === 'REQ')
      .map((f) => ({ id: f[1] as string, filters: f.slice(2) as Record<string, unknown>[] }))
  }
}

export const fakeSocketClass = FakeSocket as unknown as WebSocketConstructor

/** Timers that fire only when the test says so, in due order. */
export function manualTimers(): Timers & { pending(): { ms: number }[]; fireAll(): void; fireNext(): void } {
  let next = 1
  const live = new Map<number, { fn: () => void; ms: number }>()
  return {
    setTimeout(fn, ms) {
      const id = next++
      live.set(id, { fn, ms })
      return id
    },
    clearTimeout(h) {
      live.delete(h as number)
    },
    pending: () => [...live.values()].map(({ ms }) => ({ ms })),
    fireNext() {
      const first = [...live.entries()].sort((a, b) => a[1].ms - b[1].ms)[0]
      if (!first) return
      live.delete(first[0])
      first[1].fn()
    },
    fireAll() {
      const all = [...live.entries()]
      live.clear()
      for (const [, t] of all) t.fn()
    },
  }
}
