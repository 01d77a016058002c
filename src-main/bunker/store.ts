// Persistent state of the local NIP-46 bunker (docs/nip46-bunker.md): the authorised clients with their
// permissions (clients.json, versioned, migrated on open) and the append-only request log (requests.jsonl, one
// JSON line per request with who asked, what, when and the outcome). Secrets are NOT here: the bunker's transport
// key is in the secrets store. The log is never rewritten; a torn last line (crash mid-append) is skipped on read
// and reported.
import { appendFile, mkdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Logger } from '../../src-shared/log'
import { type ClientPermissions, checkPermissions } from '../../src-shared/nostr/nip46'
import { readJsonFile, serialQueue, writeJsonAtomic } from '../fs-atomic'

export const CLIENTS_FILE = 'clients.json'
export const REQUESTS_FILE = 'requests.jsonl'
const CURRENT_VERSION = 2

export interface BunkerClient {
  pubkey: string
  name: string
  permissions: ClientPermissions
  authorisedAtMs: number
  /** Set when the operator revoked the client; its requests are then refused. */
  revokedAtMs: number | null
  /** `bunker` (connected with one of our secrets) or `nostrconnect` (the operator pasted its URI). */
  via: 'bunker' | 'nostrconnect'
}

export type RequestOutcome = 'answered' | 'refused' | 'busy' | 'error' | 'unauthorised'

export interface RequestLogEntry {
  seq: number
  atMs: number
  clientPubkey: string
  method: string
  /** Short summary (kind and d tag for sign_event; peer for nip44). Never plaintext or ciphertext. */
  summary: string
  outcome: RequestOutcome
  detail: string
}

export interface BunkerStore {
  clients(): BunkerClient[]
  client(pubkey: string): BunkerClient | undefined
  upsertClient(c: BunkerClient): Promise<void>
  appendLog(e: Omit<RequestLogEntry, 'seq'>): Promise<RequestLogEntry>
  /** Newest first. */
  pageLog(opts: { offset: number; limit: number }): Promise<{ total: number; entries: RequestLogEntry[] }>
}

export class BunkerStoreError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'BunkerStoreError'
  }
}

/** v1 had no `via` on clients (every client came from a bunker:// secret). */
function migrate(v: Record<string, unknown>): { version: number; clients: BunkerClient[] } {
  let version = v.version
  let clients = v.clients as Array<Record<string, unknown>>
  if (!Array.isArray(clients)) throw new BunkerStoreError(`${CLIENTS_FILE}: clients is not a list`)
  if (version === 1) {
    clients = clients.map((c) => ({ ...c, via: 'bunker' }))
    version = 2
  }
  if (version !== CURRENT_VERSION) throw new BunkerStoreError(`${CLIENTS_FILE}: unknown version ${String(v.version)}`)
  return {
    version,
    clients: clients.map((c) => ({ ...(c as unknown as BunkerClient), permissions: checkPermissions(c.permissions) })),
  }
}

export async function openBunkerStore(dir: string, log: Logger): Promise<BunkerStore> {
  await mkdir(dir, { recursive: true })
  const read = await readJsonFile(join(dir, CLIENTS_FILE))
  if (read.kind === 'not-json') throw new BunkerStoreError(`${CLIENTS_FILE}: ${read.reason}`)
  const clients = new Map<string, BunkerClient>()
  if (read.kind === 'json') {
    const m = migrate(read.value as Record<string, unknown>)
    for (const c of m.clients) clients.set(c.pubkey, c)
  }
  const queue = serialQueue()
  const logPath = join(dir, REQUESTS_FILE)
  const readLog = async (): Promise<RequestLogEntry[]> => {
    let text = ''
    try {
      text = await readFile(logPath, 'utf8')
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return []
      throw e
    }
    const out: RequestLogEntry[] = []
    for (const line of text.split('\n')) {
      if (!line) continue
      try {
        out.push(JSON.parse(line) as RequestLogEntry)
      } catch {
        log.warn('bunker request log: unreadable line skipped', { file: REQUESTS_FILE })
      }
    }
    return out
  }
  let seq = (await readLog()).reduce((m, e) => Math.max(m, e.seq), 0)
  // A torn last line (crash mid-append) is closed off, so the next entry starts on a line of its own.
  try {
    const text = await readFile(logPath, 'utf8')
    if (text.length > 0 && !text.endsWith('\n')) await appendFile(logPath, '\n')
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e
  }
  return {
    clients: () => [...clients.values()],
    client: (pk) => clients.get(pk),
    upsertClient: (c) =>
      queue(async () => {
        clients.set(c.pubkey, c)
        await writeJsonAtomic(dir, CLIENTS_FILE, { version: CURRENT_VERSION, clients: [...clients.values()] })
      }),
    appendLog: (e) =>
      queue(async () => {
        const entry = { seq: ++seq, ...e }
        await appendFile(logPath, `${JSON.stringify(entry)}\n`, { mode: 0o600 })
        return entry
      }),
    pageLog: async ({ offset, limit }) => {
      const all = await readLog()
      all.reverse()
      return { total: all.length, entries: all.slice(offset, offset + limit) }
    },
  }
}
