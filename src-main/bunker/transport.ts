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

export interface Nip46Transport {
  subscribe(relays: string[], filter: Nip46Filter, onEvent: (ev: NostrEvent) => void): { close(): void }
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
      const sub = pool.subscribeMany(relays, { ...filter }, { onevent: (ev) => onEvent(ev as NostrEvent) })
      return { close: () => sub.close() }
    },
    async publish(relays, ev) {
      for (const r of relays) used.add(r)
      await Promise.any(pool.publish(relays, ev))
    },
    close() {
      pool.close([...used])
    },
  }
}
