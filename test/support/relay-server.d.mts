// Types for relay-server.mjs (the plain-JS relay that test/support/relay.ts runs as a child process).

export interface NostrEventLike {
  id: string
  pubkey: string
  created_at: number
  kind: number
  tags: string[][]
  content: string
  sig: string
}

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
