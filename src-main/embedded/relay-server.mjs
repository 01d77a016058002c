// Test relay: a real NIP-01 relay built on @nostr-relay/core + @nostr-relay/validator + ws, listening on 127.0.0.1.
// It follows NIP-01 (regular / replaceable / addressable storage, filters with #tag, since/until/limit, newest
// first), NIP-40 (expired events are never served) and, when asked, NIP-42 (AUTH challenge on connect; REQ and
// EVENT refused with "auth-required:" until a valid kind 22242 arrives).
//
// Plain ESM JavaScript on purpose: test/support/relay.ts and demo mode (src-main/embedded/relay.ts) run this file as a child process with the Node binary
// that runs the tests (Node 24 under vitest, Node 20 in a plain shell), outside any TypeScript loader.
// Run directly it reads a JSON config from argv[2], prints one `RELAY_READY {"url":…,"port":…}` line on stdout
// once it listens, takes line commands on stdin ({"cmd":"drop"} closes every client socket) and exits when stdin
// closes, so a crashed test runner never leaves a relay behind.
//
// Fixes over a bare @nostr-relay/core setup, each a gotcha found while building it:
// - the library's live broadcast ignores tag filters (#p, #e, #d) and matches `authors` against NIP-26 delegators;
//   outgoing EVENT frames are re-checked here against the full NIP-01 filter so live and stored results agree;
// - schema errors on an EVENT came back as NOTICE; NIP-01 wants an OK false for every EVENT, so we send one;
// - the filter-result cache (1 s) and the event-result cache (10 min) are turned off so a REQ right after a publish
//   sees the event and a re-published event is re-evaluated;
// - the library guards only kind 4 behind NIP-42; here a plugin guards every REQ and EVENT.
// - a connection's subscriptions live in an LRU of 20 by default: a 21st REQ silently evicts the oldest one, so
//   the limit is raised to 64 here and stays configurable.
import { appendFileSync, readFileSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { createOutgoingNoticeMessage, EventRepository } from '@nostr-relay/common'
import { NostrRelay } from '@nostr-relay/core'
import { Validator } from '@nostr-relay/validator'
import { WebSocketServer } from 'ws'

const nowSec = () => Math.floor(Date.now() / 1000)
const isReplaceable = (k) => k === 0 || k === 3 || (k >= 10000 && k < 20000)
const isAddressable = (k) => k >= 30000 && k < 40000
const isEphemeral = (k) => k >= 20000 && k < 30000
const dTagOf = (e) => e.tags.find((t) => t[0] === 'd')?.[1] ?? ''

/** True when the event carries a NIP-40 expiration that has passed. */
export function isExpired(e, atSec = nowSec()) {
  const tag = e.tags.find((t) => t[0] === 'expiration')
  if (!tag) return false
  const at = Number(tag[1])
  return Number.isFinite(at) && at <= atSec
}

/** NIP-01 filter match (limit is applied by the caller). Tag filters look at each tag's first value. */
export function matchesFilter(e, f) {
  if (f.ids && !f.ids.includes(e.id)) return false
  if (f.authors && !f.authors.includes(e.pubkey)) return false
  if (f.kinds && !f.kinds.includes(e.kind)) return false
  if (f.since !== undefined && e.created_at < f.since) return false
  if (f.until !== undefined && e.created_at > f.until) return false
  for (const [key, values] of Object.entries(f)) {
    if (key.length !== 2 || key[0] !== '#' || !Array.isArray(values)) continue
    if (!e.tags.some((t) => t[0] === key[1] && values.includes(t[1]))) return false
  }
  return true
}

/**
 * In-memory event store with NIP-01 replacement rules and optional append-only JSONL persistence, so a relay
 * process killed with SIGKILL comes back with the same events (like a real relay keeping its database).
 */
export class MemoryRepository extends EventRepository {
  constructor({ persistFile, maxLimit = 5000 } = {}) {
    super()
    this.events = new Map()
    this.persistFile = persistFile
    this.maxLimit = maxLimit
    if (persistFile) this.load(persistFile)
  }

  load(file) {
    let text = ''
    try {
      text = readFileSync(file, 'utf8')
    } catch (err) {
      if (err.code === 'ENOENT') return
      throw err
    }
    for (const line of text.split('\n')) {
      if (!line.trim()) continue
      let rec
      try {
        rec = JSON.parse(line)
      } catch {
        continue // a torn last line after SIGKILL; everything before it is intact
      }
      if (rec.op === 'put') this.store(rec.event)
      else if (rec.op === 'del') this.remove(rec.event)
    }
  }

  isSearchSupported() {
    return false
  }

  async destroy() {}

  /** Applies NIP-01 replacement; returns false when the event is a duplicate or older than what is kept. */
  store(e) {
    if (this.events.has(e.id)) return false
    if (isReplaceable(e.kind) || isAddressable(e.kind)) {
      for (const [id, old] of this.events) {
        if (old.kind !== e.kind || old.pubkey !== e.pubkey) continue
        if (isAddressable(e.kind) && dTagOf(old) !== dTagOf(e)) continue
        if (old.created_at > e.created_at || (old.created_at === e.created_at && old.id < e.id)) return false
        this.events.delete(id)
      }
    }
    this.events.set(e.id, e)
    return true
  }

  /** NIP-09: removes the author's own events named by `e` tags. */
  remove(deletion) {
    for (const t of deletion.tags) {
      if (t[0] !== 'e') continue
      const target = this.events.get(t[1])
      if (target && target.pubkey === deletion.pubkey) this.events.delete(t[1])
    }
  }

  upsert(e) {
    if (isEphemeral(e.kind)) return { isDuplicate: false }
    const stored = this.store(e)
    // Written before the relay answers OK, so an acknowledged event survives a SIGKILL.
    if (stored && this.persistFile) appendFileSync(this.persistFile, `${JSON.stringify({ op: 'put', event: e })}\n`)
    return { isDuplicate: !stored }
  }

  async deleteByDeletionRequest(e) {
    this.remove(e)
    if (this.persistFile) appendFileSync(this.persistFile, `${JSON.stringify({ op: 'del', event: e })}\n`)
  }

  find(f) {
    const now = nowSec()
    const out = []
    for (const e of this.events.values()) {
      if (!isExpired(e, now) && matchesFilter(e, f)) out.push(e)
    }
    out.sort((a, b) => b.created_at - a.created_at || (a.id < b.id ? -1 : 1))
    return out.slice(0, Math.min(f.limit ?? this.maxLimit, this.maxLimit))
  }

  count() {
    return this.events.size
  }
}

/** NIP-42 guard: before a client has authenticated, EVENT gets OK false and REQ gets CLOSED, both "auth-required:". */
function authGuardPlugin() {
  return {
    async handleMessage(ctx, message, next) {
      if (ctx.pubkey) return next()
      if (message[0] === 'EVENT') {
        const id = message[1]?.id ?? ''
        // A kind 22242 sent as EVENT is still not an AUTH; refuse it like any other write.
        ctx.sendMessage(['OK', id, false, 'auth-required: authenticate with NIP-42 first'])
        return { messageType: 'EVENT', success: false }
      }
      if (message[0] === 'REQ') {
        ctx.sendMessage(['CLOSED', message[1], 'auth-required: authenticate with NIP-42 first'])
        ctx.sendMessage(['AUTH', ctx.id])
        return { messageType: 'REQ', events: [] }
      }
      return next()
    },
  }
}

/**
 * Starts a relay on host:port (port 0 = any free port). Options: persistFile (JSONL kept across restarts),
 * requireAuth (NIP-42), maxLimit (cap on stored results per filter), maxSubscriptionsPerClient.
 * Returns { url, port, repository, dropClients(), close() }.
 */
export async function startRelayServer({
  port = 0,
  host = '127.0.0.1',
  persistFile,
  requireAuth = false,
  maxLimit = 5000,
  maxSubscriptionsPerClient = 64,
} = {}) {
  const repository = new MemoryRepository({ persistFile, maxLimit })
  const relay = new NostrRelay(repository, {
    logLevel: 3, // ERROR only: the test output stays readable
    filterResultCacheTtl: 0,
    eventHandlingResultCacheTtl: 0,
    maxSubscriptionsPerClient,
    // NIP-42 is on exactly when a hostname is set; the AUTH event's relay tag must name this host.
    hostname: requireAuth ? host : undefined,
  })
  if (requireAuth) relay.register(authGuardPlugin())
  const validator = new Validator()
  const wss = new WebSocketServer({ port, host })
  await new Promise((resolve, reject) => {
    wss.once('listening', resolve)
    wss.once('error', reject)
  })

  wss.on('connection', (ws) => {
    // Subscriptions as the client sent them, for re-checking live EVENT frames against the full filter.
    const subs = new Map()
    const client = {
      get readyState() {
        return ws.readyState
      },
      send(data, cb) {
        if (data.startsWith('["EVENT",')) {
          const [, subId, event] = JSON.parse(data)
          const filters = subs.get(subId)
          if (!filters || isExpired(event) || !filters.some((f) => matchesFilter(event, f))) return cb?.()
        }
        ws.send(data, cb)
      },
    }
    relay.handleConnection(client)
    ws.on('message', async (data) => {
      let message
      try {
        message = await validator.validateIncomingMessage(data)
      } catch (err) {
        const raw = safeParse(data)
        if (Array.isArray(raw) && raw[0] === 'EVENT' && typeof raw[1]?.id === 'string') {
          client.send(JSON.stringify(['OK', raw[1].id, false, prefixed(err.message)]))
        } else if (Array.isArray(raw) && raw[0] === 'REQ' && typeof raw[1] === 'string') {
          client.send(JSON.stringify(['CLOSED', raw[1], prefixed(err.message)]))
        } else {
          client.send(JSON.stringify(createOutgoingNoticeMessage(prefixed(err.message))))
        }
        return
      }
      if (message[0] === 'REQ') subs.set(message[1], message.slice(2))
      if (message[0] === 'CLOSE') subs.delete(message[1])
      try {
        await relay.handleMessage(client, message)
      } catch (err) {
        client.send(JSON.stringify(createOutgoingNoticeMessage(`error: ${err.message}`)))
      }
    })
    ws.on('close', () => relay.handleDisconnect(client))
    ws.on('error', () => {})
  })

  const address = wss.address()
  return {
    url: `ws://${host}:${address.port}`,
    port: address.port,
    repository,
    /** Cuts every client connection without stopping the relay (a network blip). */
    dropClients() {
      for (const c of wss.clients) c.terminate()
    },
    async close() {
      for (const c of wss.clients) c.terminate()
      await new Promise((resolve) => wss.close(() => resolve()))
      await relay.destroy()
    },
  }
}

function safeParse(data) {
  try {
    return JSON.parse(String(data))
  } catch {
    return undefined
  }
}

const prefixed = (msg) => (/^[a-z-]+: /.test(msg) ? msg : `invalid: ${msg}`)

// Process entry: `node relay-server.mjs '{"port":0,"persistFile":"…","requireAuth":true}'`.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const config = JSON.parse(process.argv[2] ?? '{}')
  const server = await startRelayServer(config)
  const shutdown = async () => {
    await server.close()
    process.exit(0)
  }
  process.on('SIGTERM', shutdown)
  process.on('SIGINT', shutdown)
  const lines = createInterface({ input: process.stdin })
  lines.on('line', (line) => {
    const cmd = safeParse(line)?.cmd
    if (cmd === 'drop') server.dropClients()
    if (cmd === 'count') process.stdout.write(`RELAY_COUNT ${server.repository.count()}\n`)
    if (cmd === 'drop' || cmd === 'ping') process.stdout.write(`RELAY_ACK ${cmd}\n`)
  })
  // The parent holds our stdin; when it goes away (even by SIGKILL) we go too.
  lines.on('close', shutdown)
  process.stdout.write(`RELAY_READY ${JSON.stringify({ url: server.url, port: server.port, pid: process.pid })}\n`)
}
