// The embedded Nostr relay (NIP-01, NIP-40, optional NIP-42) as a runtime part: the same @nostr-relay/core relay
// the test suites run (./relay-server.mjs), started inside the console process on 127.0.0.1 only. Demo mode runs
// the fleet, the wallets and the receipts over it; it stops with the console (close() ends every client socket
// and the listener, so no port is left behind).
import { type RelayServer, startRelayServer } from './relay-server.mjs'

export interface EmbeddedRelay {
  /** ws://127.0.0.1:PORT */
  readonly url: string
  readonly port: number
  close(): Promise<void>
}

/** Starts the relay on 127.0.0.1 (`port` 0, the default, picks a free one). */
export async function startEmbeddedRelay(opts: { port?: number; persistFile?: string } = {}): Promise<EmbeddedRelay> {
  const server: RelayServer = await startRelayServer({
    host: '127.0.0.1',
    port: opts.port ?? 0,
    ...(opts.persistFile ? { persistFile: opts.persistFile } : {}),
  })
  let closed: Promise<void> | undefined
  return {
    url: `ws://127.0.0.1:${server.port}`,
    port: server.port,
    close: () => {
      closed ??= server.close()
      return closed
    },
  }
}
