// NIP-46 (Nostr Connect) protocol pieces shared by the console's local bunker and its remote-bunker client
// (docs/nip46-bunker.md): `bunker://` and `nostrconnect://` URIs, the JSON-RPC request/response shapes carried
// NIP-44-encrypted in kind 24133 events, and the per-client permission model (methods, kinds, d-tag patterns).
// Pure: no Node, no Electron, no DOM, and no imports. Parsers throw Nip46Error naming the field, never return
// half a value.

// No imports at all: the sandboxed preload bundles the IPC contract, which uses GRANTABLE_METHODS from here.
const isHex64 = (s: unknown): s is string => typeof s === 'string' && /^[0-9a-f]{64}$/.test(s)

export const NOSTR_CONNECT_KIND = 24133

/** Methods the local bunker can grant; everything else is refused (NIP-04 with a pointer to NIP-44). */
export const GRANTABLE_METHODS = ['get_public_key', 'sign_event', 'nip44_encrypt', 'nip44_decrypt'] as const
export type GrantableMethod = (typeof GRANTABLE_METHODS)[number]

export class Nip46Error extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`)
    this.name = 'Nip46Error'
  }
}

/** What a client may ask for. `kinds` applies to sign_event; `dTagPatterns` (glob, `*` = any run) to events with a d tag. */
export interface ClientPermissions {
  methods: GrantableMethod[]
  /** Event kinds sign_event may sign; empty = none. */
  kinds: number[]
  /** When non-empty, an event carrying a d tag must match one pattern (e.g. `atm-config/*`). */
  dTagPatterns: string[]
}

export const NO_PERMISSIONS: ClientPermissions = { methods: ['get_public_key'], kinds: [], dTagPatterns: [] }

const MAX_RELAYS_IN_URI = 10

function relayList(list: string[], field: string): string[] {
  if (list.length === 0) throw new Nip46Error(field, 'at least one relay is needed')
  if (list.length > MAX_RELAYS_IN_URI) throw new Nip46Error(field, `at most ${MAX_RELAYS_IN_URI} relays`)
  for (const r of list)
    if (!/^wss?:\/\/[^\s]+$/i.test(r)) throw new Nip46Error(field, `not a ws:// or wss:// URL: ${r}`)
  return [...new Set(list)]
}

export interface BunkerUri {
  /** The remote signer's (transport) pubkey. */
  pubkey: string
  relays: string[]
  secret: string | null
}

export function buildBunkerUri(u: BunkerUri): string {
  const q = u.relays.map((r) => `relay=${encodeURIComponent(r)}`)
  if (u.secret) q.push(`secret=${encodeURIComponent(u.secret)}`)
  return `bunker://${u.pubkey}?${q.join('&')}`
}

function splitUri(text: string, scheme: string, field: string): { host: string; params: URLSearchParams } {
  const t = text.trim()
  if (!t.toLowerCase().startsWith(`${scheme}://`)) throw new Nip46Error(field, `must start with ${scheme}://`)
  const rest = t.slice(scheme.length + 3)
  const qi = rest.indexOf('?')
  const host = (qi < 0 ? rest : rest.slice(0, qi)).replace(/\/$/, '').toLowerCase()
  if (!isHex64(host)) throw new Nip46Error(field, 'the part after :// must be a 64-hex public key')
  return { host, params: new URLSearchParams(qi < 0 ? '' : rest.slice(qi + 1)) }
}

export function parseBunkerUri(text: string): BunkerUri {
  const { host, params } = splitUri(text, 'bunker', 'bunkerUri')
  return { pubkey: host, relays: relayList(params.getAll('relay'), 'bunkerUri.relay'), secret: params.get('secret') }
}

export interface NostrConnectUri {
  clientPubkey: string
  relays: string[]
  secret: string
  /** Permissions the client asks for (`sign_event:1`, `nip44_encrypt`, …); shown to the operator, not granted as is. */
  requestedPerms: string[]
  name?: string
}

export function parseNostrConnectUri(text: string): NostrConnectUri {
  const { host, params } = splitUri(text, 'nostrconnect', 'nostrconnectUri')
  const secret = params.get('secret')
  if (!secret) throw new Nip46Error('nostrconnectUri.secret', 'the URI has no secret')
  const perms = (params.get('perms') ?? '').split(',').filter((p) => p.length > 0)
  const name = params.get('name') ?? undefined
  return {
    clientPubkey: host,
    relays: relayList(params.getAll('relay'), 'nostrconnectUri.relay'),
    secret,
    requestedPerms: perms,
    ...(name ? { name: name.slice(0, 100) } : {}),
  }
}

export function buildNostrConnectUri(u: NostrConnectUri): string {
  const q = u.relays.map((r) => `relay=${encodeURIComponent(r)}`)
  q.push(`secret=${encodeURIComponent(u.secret)}`)
  if (u.requestedPerms.length) q.push(`perms=${encodeURIComponent(u.requestedPerms.join(','))}`)
  if (u.name) q.push(`name=${encodeURIComponent(u.name)}`)
  return `nostrconnect://${u.clientPubkey}?${q.join('&')}`
}

export interface Nip46Request {
  id: string
  method: string
  params: string[]
}
export interface Nip46Response {
  id: string
  result?: string
  error?: string
}

const MAX_REQUEST_CHARS = 256 * 1024

export function parseRequest(json: string): Nip46Request {
  if (json.length > MAX_REQUEST_CHARS) throw new Nip46Error('request', 'too large')
  let v: unknown
  try {
    v = JSON.parse(json)
  } catch {
    throw new Nip46Error('request', 'not JSON')
  }
  const o = v as Record<string, unknown>
  if (typeof o !== 'object' || o === null) throw new Nip46Error('request', 'not an object')
  if (typeof o.id !== 'string' || o.id.length === 0 || o.id.length > 128) throw new Nip46Error('request.id', 'missing')
  if (typeof o.method !== 'string' || o.method.length > 64) throw new Nip46Error('request.method', 'missing')
  const params = o.params ?? []
  if (!Array.isArray(params) || !params.every((p) => typeof p === 'string'))
    throw new Nip46Error('request.params', 'must be an array of strings')
  return { id: o.id, method: o.method, params }
}

export function parseResponse(json: string): Nip46Response {
  let v: unknown
  try {
    v = JSON.parse(json)
  } catch {
    throw new Nip46Error('response', 'not JSON')
  }
  const o = v as Record<string, unknown>
  if (typeof o !== 'object' || o === null || typeof o.id !== 'string') throw new Nip46Error('response.id', 'missing')
  const r: Nip46Response = { id: o.id }
  if (typeof o.result === 'string') r.result = o.result
  if (typeof o.error === 'string' && o.error.length > 0) r.error = o.error
  return r
}

/** Glob with `*` only; everything else literal. */
export function globMatch(pattern: string, value: string): boolean {
  const re = new RegExp(
    `^${pattern
      .split('*')
      .map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  )
  return re.test(value)
}

/** Why a request is not allowed under `perms`, or null when it is. */
export function permissionProblem(
  perms: ClientPermissions,
  method: string,
  event?: { kind: number; tags: string[][] },
): string | null {
  if (!(GRANTABLE_METHODS as readonly string[]).includes(method)) return `method ${method} is not supported`
  if (!perms.methods.includes(method as GrantableMethod)) return `this client is not allowed to call ${method}`
  if (method === 'sign_event' && event) {
    if (!perms.kinds.includes(event.kind)) return `this client is not allowed to sign kind ${event.kind}`
    const d = event.tags.find((t) => t[0] === 'd')
    if (perms.dTagPatterns.length > 0 && d !== undefined && !perms.dTagPatterns.some((p) => globMatch(p, d[1] ?? '')))
      return `this client is not allowed to sign d tag "${d[1] ?? ''}"`
  }
  return null
}

/** Checks a permissions object from the UI/IPC; throws Nip46Error naming the field. */
export function checkPermissions(p: unknown): ClientPermissions {
  const o = p as Record<string, unknown>
  if (typeof o !== 'object' || o === null) throw new Nip46Error('permissions', 'must be an object')
  const methods = o.methods
  if (!Array.isArray(methods) || !methods.every((m) => (GRANTABLE_METHODS as readonly unknown[]).includes(m)))
    throw new Nip46Error('permissions.methods', `each must be one of ${GRANTABLE_METHODS.join(', ')}`)
  const kinds = o.kinds
  if (!Array.isArray(kinds) || !kinds.every((k) => Number.isInteger(k) && k >= 0 && k <= 65535))
    throw new Nip46Error('permissions.kinds', 'each must be an integer 0..65535')
  const d = o.dTagPatterns
  if (!Array.isArray(d) || !d.every((x) => typeof x === 'string' && x.length > 0 && x.length <= 200))
    throw new Nip46Error('permissions.dTagPatterns', 'each must be a non-empty string of at most 200 characters')
  return {
    methods: [...new Set(methods)] as GrantableMethod[],
    kinds: [...new Set(kinds as number[])],
    dTagPatterns: d,
  }
}

/** States of the console's connection to a remote NIP-46 bunker (the phone signer). */
export type RemoteBunkerStateName = 'disconnected' | 'connecting' | 'waiting-for-phone' | 'connected' | 'error'
