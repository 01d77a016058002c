// NIP-46 pure pieces: URI round trips and refusals naming the field, request parsing, permission decisions.
import { createNostrConnectURI, parseBunkerInput, toBunkerURL } from 'nostr-tools/nip46'
import { describe, expect, it } from 'vitest'
import {
  buildBunkerUri,
  checkPermissions,
  globMatch,
  Nip46Error,
  parseBunkerUri,
  parseNostrConnectUri,
  parseRequest,
  permissionProblem,
} from './nip46'

const PK = 'ab'.repeat(32)

function fieldOf(f: () => unknown): string {
  try {
    f()
  } catch (e) {
    if (e instanceof Nip46Error) return e.field
    throw e
  }
  throw new Error('did not throw')
}

describe('NIP-46 URIs', () => {
  it('builds bunker:// URIs nostr-tools parses, and parses nostr-tools-built ones', async () => {
    const uri = buildBunkerUri({ pubkey: PK, relays: ['ws://127.0.0.1:7000', 'wss://r.example/x'], secret: 's1' })
    expect(await parseBunkerInput(uri)).toEqual({
      pubkey: PK,
      relays: ['ws://127.0.0.1:7000', 'wss://r.example/x'],
      secret: 's1',
    })
    const theirs = toBunkerURL({ pubkey: PK, relays: ['wss://r.example'], secret: 'zz' })
    expect(parseBunkerUri(theirs)).toEqual({ pubkey: PK, relays: ['wss://r.example'], secret: 'zz' })
  })

  it('parses a nostr-tools nostrconnect:// URI with its requested perms and name', () => {
    const uri = createNostrConnectURI({
      clientPubkey: PK,
      relays: ['wss://r.example'],
      secret: 'abc',
      perms: ['sign_event:1', 'nip44_encrypt'],
      name: 'App',
    })
    expect(parseNostrConnectUri(uri)).toEqual({
      clientPubkey: PK,
      relays: ['wss://r.example'],
      secret: 'abc',
      requestedPerms: ['sign_event:1', 'nip44_encrypt'],
      name: 'App',
    })
  })

  it('refuses bad URIs naming the field', () => {
    expect(fieldOf(() => parseBunkerUri('nostrconnect://x'))).toBe('bunkerUri')
    expect(fieldOf(() => parseBunkerUri(`bunker://${'zz'.repeat(32)}?relay=wss://a`))).toBe('bunkerUri')
    expect(fieldOf(() => parseBunkerUri(`bunker://${PK}`))).toBe('bunkerUri.relay')
    expect(fieldOf(() => parseBunkerUri(`bunker://${PK}?relay=http://a`))).toBe('bunkerUri.relay')
    expect(fieldOf(() => parseNostrConnectUri(`nostrconnect://${PK}?relay=wss://a`))).toBe('nostrconnectUri.secret')
  })
})

describe('NIP-46 requests and permissions', () => {
  it('parses requests and refuses malformed ones', () => {
    expect(parseRequest('{"id":"1","method":"ping","params":[]}')).toEqual({ id: '1', method: 'ping', params: [] })
    expect(fieldOf(() => parseRequest('nope'))).toBe('request')
    expect(fieldOf(() => parseRequest('{"method":"ping"}'))).toBe('request.id')
    expect(fieldOf(() => parseRequest('{"id":"1","method":"x","params":[1]}'))).toBe('request.params')
  })

  it('globs with * only, everything else literal', () => {
    expect(globMatch('atm-config/*', 'atm-config/a1')).toBe(true)
    expect(globMatch('atm-config/*', 'roster')).toBe(false)
    expect(globMatch('a.b', 'axb')).toBe(false)
    expect(globMatch('*', '')).toBe(true)
  })

  it('decides method, kind and d tag', () => {
    const p = checkPermissions({ methods: ['sign_event'], kinds: [30078], dTagPatterns: ['atm-config/*'] })
    expect(permissionProblem(p, 'sign_event', { kind: 30078, tags: [['d', 'atm-config/x']] })).toBeNull()
    expect(permissionProblem(p, 'sign_event', { kind: 30078, tags: [] })).toBeNull()
    expect(permissionProblem(p, 'sign_event', { kind: 1, tags: [] })).toMatch(/kind 1/)
    expect(permissionProblem(p, 'sign_event', { kind: 30078, tags: [['d', 'roster']] })).toMatch(/d tag "roster"/)
    expect(permissionProblem(p, 'nip44_encrypt')).toMatch(/not allowed to call nip44_encrypt/)
    expect(permissionProblem(p, 'nip04_encrypt')).toMatch(/not supported/)
    expect(fieldOf(() => checkPermissions({ methods: ['nip04_encrypt'], kinds: [], dTagPatterns: [] }))).toBe(
      'permissions.methods',
    )
    expect(fieldOf(() => checkPermissions({ methods: [], kinds: [70000], dTagPatterns: [] }))).toBe('permissions.kinds')
  })
})
