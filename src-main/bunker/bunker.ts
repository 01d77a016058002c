// The console's local NIP-46 bunker (docs/nip46-bunker.md): lets the operator's other Nostr tools use the
// operator key without ever holding it. Relay traffic (kind 24133, NIP-44) is encrypted with a software
// TRANSPORT key (sealed in the secrets store); the operator key itself stays on the operator signer, which sees
// and may refuse every sign_event / nip44_* request. `get_public_key` is answered from the pinned operator key.
//
// Policy, in order, for each request: known and not revoked client → method allowed → (sign_event) kind and d tag
// allowed → per-client rate → global queue (one signer request at a time, at most `queueDepth` waiting, beyond
// that "busy"). Every request is logged with its outcome. Every signer result is checked before it is sent back
// (signEventChecked for events; a NIP-44 payload must decode as version 2). NIP-04 is refused.
import { bytesToHex, randomBytes } from '@noble/hashes/utils.js'
import * as nip44 from 'nostr-tools/nip44'
import type { Clock } from '../../src-shared/clock'
import { systemClock } from '../../src-shared/clock'
import type { Logger } from '../../src-shared/log'
import {
  type EventTemplate,
  isHex64,
  type NostrEvent,
  publicKeyHex,
  signTemplateWithKey,
} from '../../src-shared/nostr/event'
import {
  buildBunkerUri,
  type ClientPermissions,
  checkPermissions,
  type Nip46Request,
  NOSTR_CONNECT_KIND,
  parseNostrConnectUri,
  parseRequest,
  permissionProblem,
} from '../../src-shared/nostr/nip46'
import { type Signer, SignerOutputError, signEventChecked } from '../../src-shared/signer'
import { withRequester } from '../signer/requester'
import type { BunkerClient, BunkerStore, RequestOutcome } from './store'
import type { Nip46Subscription, Nip46Transport } from './transport'

export interface BunkerLimits {
  /** Signer requests waiting behind the one in progress before new ones are answered busy. */
  queueDepth: number
  /** Requests per client per minute (all methods). */
  perClientPerMinute: number
}
export const DEFAULT_BUNKER_LIMITS: BunkerLimits = { queueDepth: 5, perClientPerMinute: 30 }

export interface BunkerOptions {
  transportSecretKey: Uint8Array
  /** The pinned operator key (x-only hex); get_public_key answers it and every signer result must be by it. */
  operatorPubkey: () => string | null
  /** The operator signer right now (device, remote bunker…), or null. */
  signer: () => Signer | null
  relays: string[]
  transport: Nip46Transport
  store: BunkerStore
  log: Logger
  clock?: Clock
  limits?: Partial<BunkerLimits>
  /** Called after a client was authorised or revoked and after each logged request (the UI refreshes). */
  onChange?: () => void
  /** How long an issued bunker:// secret stays usable. Default 10 minutes. */
  secretTtlMs?: number
}

export interface IssuedConnect {
  uri: string
  secret: string
  expiresAtMs: number
}

const NIP04_REFUSAL = 'nip04 is not supported by this bunker: use nip44_encrypt / nip44_decrypt'

export class Bunker {
  readonly pubkey: string
  private readonly sk: Uint8Array
  private readonly limits: BunkerLimits
  private readonly clock: Clock
  private readonly secrets = new Map<string, { permissions: ClientPermissions; name: string; expiresAtMs: number }>()
  private readonly conv = new Map<string, Uint8Array>()
  private readonly recent = new Map<string, number[]>()
  private readonly seen = new Set<string>()
  private subs: Nip46Subscription[] = []
  private relays: string[]
  private chain: Promise<void> = Promise.resolve()
  private waiting = 0

  constructor(private readonly o: BunkerOptions) {
    this.sk = Uint8Array.from(o.transportSecretKey)
    this.pubkey = publicKeyHex(this.sk)
    this.limits = { ...DEFAULT_BUNKER_LIMITS, ...o.limits }
    this.clock = o.clock ?? systemClock
    this.relays = [...o.relays]
  }

  /** Starts listening; resolves once the relays confirmed the subscription. */
  async start(): Promise<void> {
    await this.listen(this.relays)
  }

  stop(): void {
    for (const s of this.subs) s.close()
    this.subs = []
  }

  private listen(relays: string[]): void {
    if (relays.length === 0) return
    const since = Math.floor(this.clock.nowMs() / 1000) - 10
    this.subs.push(
      this.o.transport.subscribe(
        relays,
        { kinds: [NOSTR_CONNECT_KIND], '#p': [this.pubkey], since },
        (ev) => void this.onEvent(ev),
      ),
    )
  }

  /** A fresh single-use bunker:// URI granting `permissions` to whichever client uses it first. */
  issueConnect(permissions: ClientPermissions, name = 'client'): IssuedConnect {
    const perms = checkPermissions(permissions)
    const secret = bytesToHex(randomBytes(16))
    const expiresAtMs = this.clock.nowMs() + (this.o.secretTtlMs ?? 600_000)
    this.secrets.set(secret, { permissions: perms, name: name.slice(0, 100), expiresAtMs })
    return { uri: buildBunkerUri({ pubkey: this.pubkey, relays: this.relays, secret }), secret, expiresAtMs }
  }

  /** The operator pasted a client's nostrconnect:// URI: authorise it and tell it who we are. */
  async acceptNostrConnect(uri: string, permissions: ClientPermissions): Promise<BunkerClient> {
    const nc = parseNostrConnectUri(uri)
    const perms = checkPermissions(permissions)
    const client: BunkerClient = {
      pubkey: nc.clientPubkey,
      name: nc.name ?? 'nostrconnect client',
      permissions: perms,
      authorisedAtMs: this.clock.nowMs(),
      revokedAtMs: null,
      via: 'nostrconnect',
    }
    await this.o.store.upsertClient(client)
    this.o.onChange?.()
    const extra = nc.relays.filter((r) => !this.relays.includes(r))
    if (extra.length) {
      this.relays.push(...extra)
      await this.listen(extra)
    }
    await this.send(nc.clientPubkey, nc.relays, { id: bytesToHex(randomBytes(8)), result: nc.secret })
    await this.logRequest(client.pubkey, 'connect', 'nostrconnect:// pasted by the operator', 'answered', 'authorised')
    return client
  }

  async revoke(pubkey: string): Promise<boolean> {
    const c = this.o.store.client(pubkey)
    if (!c || c.revokedAtMs !== null) return false
    await this.o.store.upsertClient({ ...c, revokedAtMs: this.clock.nowMs() })
    this.o.onChange?.()
    this.o.log.info('bunker client revoked', { client: pubkey.slice(0, 12) })
    return true
  }

  clients(): BunkerClient[] {
    return this.o.store.clients()
  }

  private convKey(peer: string): Uint8Array {
    let k = this.conv.get(peer)
    if (!k) {
      k = nip44.getConversationKey(this.sk, peer)
      this.conv.set(peer, k)
    }
    return k
  }

  private async send(peer: string, relays: string[], body: { id: string; result?: string; error?: string }) {
    const ev = signTemplateWithKey(
      {
        kind: NOSTR_CONNECT_KIND,
        created_at: Math.floor(this.clock.nowMs() / 1000),
        tags: [['p', peer]],
        content: nip44.encrypt(JSON.stringify(body), this.convKey(peer)),
      },
      this.sk,
    )
    try {
      await this.o.transport.publish(relays, ev)
    } catch (e) {
      this.o.log.warn('bunker: response not accepted by any relay', { reason: (e as Error).message })
    }
  }

  private async logRequest(client: string, method: string, summary: string, outcome: RequestOutcome, detail: string) {
    try {
      await this.o.store.appendLog({ atMs: this.clock.nowMs(), clientPubkey: client, method, summary, outcome, detail })
      this.o.onChange?.()
    } catch (e) {
      this.o.log.error('bunker: request log append failed', { reason: (e as Error).message })
    }
  }

  private async onEvent(ev: NostrEvent): Promise<void> {
    if (this.seen.has(ev.id)) return
    this.seen.add(ev.id)
    if (this.seen.size > 10_000) this.seen.clear()
    let req: Nip46Request
    try {
      req = parseRequest(nip44.decrypt(ev.content, this.convKey(ev.pubkey)))
    } catch (e) {
      this.o.log.warn('bunker: undecodable request dropped', {
        client: ev.pubkey.slice(0, 12),
        reason: (e as Error).message,
      })
      return
    }
    const reply = (r: { result?: string; error?: string }) => this.send(ev.pubkey, this.relays, { id: req.id, ...r })
    const refuse = async (outcome: RequestOutcome, why: string, summary = '') => {
      await this.logRequest(ev.pubkey, req.method, summary, outcome, why)
      await reply({ error: why })
    }
    if (req.method === 'connect') return this.onConnect(ev.pubkey, req, reply, refuse)
    const client = this.o.store.client(ev.pubkey)
    if (!client) return refuse('unauthorised', 'unauthorized: connect with a bunker:// secret first')
    if (client.revokedAtMs !== null) return refuse('unauthorised', 'unauthorized: this client was revoked')
    if (!this.underRate(ev.pubkey)) return refuse('busy', 'busy: too many requests, try again in a minute')
    if (req.method === 'ping') {
      await this.logRequest(ev.pubkey, 'ping', '', 'answered', 'pong')
      return reply({ result: 'pong' })
    }
    if (req.method.startsWith('nip04_')) return refuse('refused', NIP04_REFUSAL)
    let template: EventTemplate | undefined
    let summary = ''
    if (req.method === 'sign_event') {
      try {
        template = parseTemplate(req.params[0])
      } catch (e) {
        return refuse('error', `invalid params[0]: ${(e as Error).message}`)
      }
      const d = template.tags.find((t) => t[0] === 'd')
      summary = `kind ${template.kind}${d ? ` d=${d[1] ?? ''}` : ''}`
    } else if (req.method === 'nip44_encrypt' || req.method === 'nip44_decrypt') {
      if (!isHex64(req.params[0])) return refuse('error', 'invalid params[0]: peer pubkey must be 64 lowercase hex')
      if (typeof req.params[1] !== 'string') return refuse('error', 'invalid params[1]: missing')
      summary = `peer ${req.params[0].slice(0, 12)}…`
    }
    const problem = permissionProblem(client.permissions, req.method, template)
    if (problem) return refuse('refused', problem, summary)
    const operator = this.o.operatorPubkey()
    if (!operator) return refuse('error', 'the operator key is not pinned yet', summary)
    if (req.method === 'get_public_key') {
      await this.logRequest(ev.pubkey, req.method, '', 'answered', 'pinned operator key')
      return reply({ result: operator })
    }
    if (this.waiting >= this.limits.queueDepth + 1)
      return refuse('busy', `busy: ${this.waiting} requests already wait for the operator's signer`, summary)
    this.waiting++
    const run = this.chain.then(async () => {
      try {
        const signer = this.o.signer()
        if (!signer) return refuse('error', "the operator's signer is not connected", summary)
        // The device log and screen name the client behind the request.
        const result = await withRequester({ label: `NIP-46 client "${client.name}"`, clientLabel: client.name }, () =>
          this.callSigner(signer, operator, req, template),
        )
        await this.logRequest(ev.pubkey, req.method, summary, 'answered', 'approved on the signer')
        await reply({ result })
      } catch (e) {
        const msg = (e as Error).message
        const outcome: RequestOutcome = e instanceof SignerOutputError ? 'error' : 'refused'
        this.o.log.warn('bunker: signer did not answer', { method: req.method, reason: msg })
        await refuse(
          outcome,
          e instanceof SignerOutputError ? `signer output rejected: ${msg}` : `refused: ${msg}`,
          summary,
        )
      } finally {
        this.waiting--
      }
    })
    this.chain = run.catch(() => undefined)
    await run
  }

  private async callSigner(signer: Signer, operator: string, req: Nip46Request, template?: EventTemplate) {
    if (req.method === 'sign_event' && template) {
      return JSON.stringify(await signEventChecked(signer, template, operator))
    }
    const [peer, text] = req.params as [string, string]
    if (req.method === 'nip44_encrypt') {
      const out = await signer.nip44Encrypt(peer, text)
      checkNip44Payload(out)
      return out
    }
    const out = await signer.nip44Decrypt(peer, text)
    if (typeof out !== 'string') throw new SignerOutputError('signer returned a non-string plaintext')
    return out
  }

  private async onConnect(
    client: string,
    req: Nip46Request,
    reply: (r: { result?: string; error?: string }) => Promise<void>,
    refuse: (o: RequestOutcome, why: string) => Promise<void>,
  ): Promise<void> {
    const [target, secret] = req.params
    if (target !== undefined && target !== this.pubkey) return refuse('refused', 'connect: wrong remote-signer pubkey')
    const known = this.o.store.client(client)
    if (known && known.revokedAtMs !== null) return refuse('unauthorised', 'unauthorized: this client was revoked')
    if (known) {
      await this.logRequest(client, 'connect', '', 'answered', 'already authorised')
      return reply({ result: 'ack' })
    }
    const grant = secret ? this.secrets.get(secret) : undefined
    if (!grant || grant.expiresAtMs < this.clock.nowMs()) {
      if (secret) this.secrets.delete(secret)
      return refuse('unauthorised', 'unauthorized: unknown, used or expired secret')
    }
    this.secrets.delete(secret as string)
    await this.o.store.upsertClient({
      pubkey: client,
      name: grant.name,
      permissions: grant.permissions,
      authorisedAtMs: this.clock.nowMs(),
      revokedAtMs: null,
      via: 'bunker',
    })
    this.o.onChange?.()
    await this.logRequest(client, 'connect', '', 'answered', 'authorised with a single-use secret')
    await reply({ result: 'ack' })
  }

  private underRate(client: string): boolean {
    const now = this.clock.nowMs()
    const list = (this.recent.get(client) ?? []).filter((t) => now - t < 60_000)
    if (list.length >= this.limits.perClientPerMinute) {
      this.recent.set(client, list)
      return false
    }
    list.push(now)
    this.recent.set(client, list)
    return true
  }
}

function parseTemplate(raw: string | undefined): EventTemplate {
  if (raw === undefined) throw new Error('missing event')
  const o = JSON.parse(raw) as Record<string, unknown>
  if (!Number.isInteger(o.kind) || (o.kind as number) < 0 || (o.kind as number) > 65535) throw new Error('kind')
  if (typeof o.content !== 'string') throw new Error('content')
  if (!Array.isArray(o.tags) || !o.tags.every((t) => Array.isArray(t) && t.every((x) => typeof x === 'string')))
    throw new Error('tags')
  if (!Number.isInteger(o.created_at) || (o.created_at as number) < 0) throw new Error('created_at')
  return { kind: o.kind as number, content: o.content, tags: o.tags as string[][], created_at: o.created_at as number }
}

/** A NIP-44 v2 payload: base64, version byte 2, at least nonce + 32-byte padded block + MAC. */
export function checkNip44Payload(p: unknown): void {
  if (typeof p !== 'string' || p.length < 132 || !/^[A-Za-z0-9+/]+=*$/.test(p))
    throw new SignerOutputError('signer returned something that is not a NIP-44 payload')
  if (atob(p.slice(0, 4)).charCodeAt(0) !== 2)
    throw new SignerOutputError('signer returned a NIP-44 payload of another version')
}
