// The relay side of the NIP-46 bunker and the remote-bunker client (docs/nip46-bunker.md): a tiny interface
// (subscribe to kind 24133 addressed to a key, publish an event) and its implementation over nostr-tools'
// SimplePool with the `ws` package (Node 20 has no global WebSocket). The pool verifies every event's id and
// signature before it reaches `onEvent`.
import { SimplePool, useWebSocketImplementation } from 'nostr-tools/pool'
import WebSocket from 'ws'
import type { NostrEvent } from '../../src-shared/nostr/event'

export interface Nip46Filter {
  kinds: number[]
  '#p': string[]
  authors?: string[]
  since?: number
}

export interface Nip46Subscription {
  close(): void
  ready: Promise<void>
}

export interface Nip46Transport {
  /** `ready` resolves once every relay has answered EOSE (or closed), so an ephemeral event sent after it is seen. */
  subscribe(relays: string[], filter: Nip46Filter, onEvent: (ev: NostrEvent) => void): Nip46Subscription
  /** Resolves when at least one relay accepted the event; rejects when none did. */
  publish(relays: string[], ev: NostrEvent): Promise<void>
  close(): void
}

export function simplePoolTransport(): Nip46Transport {
  useWebSocketImplementation(WebSocket)
  const pool = new SimplePool()
  const used = new Set<string>()
  return {
    subscribe(relays, filter, onEvent) {
      for (const r of relays) used.add(r)
      let done: () => void = () => undefined
      const ready = new Promise<void>((r) => {
        done = r
      })
      const sub = pool.subscribeMany(
        relays,
        { ...filter },
        { onevent: (ev) => onEvent(ev as NostrEvent), oneose: () => done(), onclose: () => done() },
      )
      return { close: () => sub.close(), ready }
    },
    async publish(relays, ev) {
      for (const r of relays) used.add(r)
      await Promise.any(pool.publish(relays, ev))
    },
    close() {
      // Closing a socket that is still connecting makes `ws` emit an error nobody listens to (nostr-tools drops
      // its handler first), so each relay is closed once its connection attempt has settled.
      for (const url of used)
        void pool.ensureRelay(url, { connectionTimeout: 10_000 }).then(
          () => pool.close([url]),
          () => pool.close([url]),
        )
    },
  }
}
