// Types for relay-server.mjs (the plain-JS relay: a child process of test/support/relay.ts, in-process in demo mode).

import type { NostrEvent } from '../../src-shared/nostr/event'

/** The relay stores plain NIP-01 events: the one event type of src-shared/nostr/event.ts. */
export type NostrEventLike = NostrEvent

export interface RelayServerOptions {
  port?: number
  host?: string
  persistFile?: string
  requireAuth?: boolean
  maxLimit?: number
  maxSubscriptionsPerClient?: number
}

export declare class MemoryRepository {
  constructor(opts?: { persistFile?: string; maxLimit?: number })
  count(): number
  find(filter: Record<string, unknown>): NostrEventLike[]
}

export interface RelayServer {
  url: string
  port: number
  repository: MemoryRepository
  dropClients(): void
  close(): Promise<void>
}

export declare function startRelayServer(opts?: RelayServerOptions): Promise<RelayServer>
export declare function matchesFilter(e: NostrEventLike, f: Record<string, unknown>): boolean
export declare function isExpired(e: NostrEventLike, atSec?: number): boolean
