// The local NIP-46 bunker against a real third-party client (nostr-tools BunkerSigner) over a real relay process:
// connect with a single-use secret, get_public_key, sign_event and nip44 round-trip approved on the
// operator signer — the emulated hardware signer, its buttons pressed by the script — permission refusals,
// revocation, NIP-04 refusal, busy beyond the queue, rate limit, request log.
import { schnorr } from '@noble/curves/secp256k1.js'
import { bytesToHex } from '@noble/hashes/utils.js'
import * as nip44 from 'nostr-tools/nip44'
import { BunkerSigner, createNostrConnectURI } from 'nostr-tools/nip46'
import { SimplePool, useWebSocketImplementation } from 'nostr-tools/pool'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { memoryLogger } from '../../src-shared/log'
import { checkEvent } from '../../src-shared/nostr/event'
import { type ClientPermissions, GRANTABLE_METHODS, parseBunkerUri } from '../../src-shared/nostr/nip46'
import { compareCode } from '../../src-shared/nshp/review'
import { type ApprovalSigner, operatorForTest } from '../../test/support/approval-signer'
import { type RelayHandle, startRelay } from '../../test/support/relay'
import { useTempDirs } from '../../test/support/temp-dirs'
import { Bunker, type BunkerLimits } from './bunker'
import { type BunkerStore, openBunkerStore } from './store'
import { simplePoolTransport } from './transport'

useWebSocketImplementation(WebSocket)
const tempDir = useTempDirs('bunker-')
const key = () => schnorr.utils.randomSecretKey()
const ALL: ClientPermissions = { methods: [...GRANTABLE_METHODS], kinds: [1, 30078], dTagPatterns: ['atm-config/*'] }

let relay: RelayHandle
const pools: SimplePool[] = []
const bunkers: Bunker[] = []
beforeAll(async () => {
  relay = await startRelay()
})
afterAll(async () => {
  for (const b of bunkers) b.stop()
  for (const p of pools) p.close([relay.url])
  await relay.stop()
})

async function setup(limits: Partial<BunkerLimits> = {}) {
  const operator: ApprovalSigner = await operatorForTest(key())
  const store: BunkerStore = await openBunkerStore(tempDir(), memoryLogger())
  const bunker = new Bunker({
    transportSecretKey: key(),
    operatorPubkey: () => operator.pubkey,
    signer: () => operator.signer,
    relays: [relay.url],
    transport: simplePoolTransport(),
    store,
    log: memoryLogger(),
    limits,
  })
  await bunker.start()
  bunkers.push(bunker)
  return { operator, store, bunker }
}

function client(uri: string, sk = key()) {
  const pool = new SimplePool()
  pools.push(pool)
  return BunkerSigner.fromBunker(sk, parseBunkerUri(uri), { pool })
}

describe('local NIP-46 bunker with nostr-tools BunkerSigner over a real relay', () => {
  it('connects with a single-use secret; get_public_key, sign_event, nip44 round-trip through the signer', async () => {
    const { operator, bunker, store } = await setup()
    const issued = bunker.issueConnect(ALL, 'test tool')
    expect(parseBunkerUri(issued.uri).pubkey).toBe(bunker.pubkey)
    const c = client(issued.uri)
    await c.connect()
    expect(await c.getPublicKey()).toBe(operator.pubkey)

    const signing = c.signEvent({
      kind: 30078,
      created_at: 1_760_000_000,
      tags: [['d', 'atm-config/a1']],
      content: 'x',
    })
    // The emulated device shows the request (who asked, the d tag, the compare code); the script presses approve.
    const op = await operator.next()
    expect(op.what).toBe('sign_event')
    const shown = op.detail.pages.flatMap((p) => p.lines)
    expect(shown).toContainEqual({ label: 'Requested by (per computer)', value: 'test tool' })
    expect(shown).toContainEqual({ label: 'App config for', value: 'atm-config/a1' })
    op.approve()
    const ev = await signing
    expect(ev.pubkey).toBe(operator.pubkey)
    expect(checkEvent(ev)).toEqual({ ok: true })
    expect(op.detail.compareCode).toBe(compareCode(ev.id))
    const logged = operator.manager.requests(0, 1).entries[0]
    expect(logged).toMatchObject({ what: 'sign_event', outcome: 'approved', requester: 'NIP-46 client "test tool"' })

    const peerSk = key()
    const peer = bytesToHex(schnorr.getPublicKey(peerSk))
    const enc = c.nip44Encrypt(peer, 'hello ✓')
    ;(await operator.next()).approve()
    const payload = await enc
    const opPk = operator.pubkey
    expect(nip44.decrypt(payload, nip44.getConversationKey(peerSk, opPk))).toBe('hello ✓')
    const fromPeer = nip44.encrypt('back at you', nip44.getConversationKey(peerSk, opPk))
    const dec = c.nip44Decrypt(peer, fromPeer)
    ;(await operator.next()).approve()
    expect(await dec).toBe('back at you')

    // The same secret cannot authorise a second client.
    const thief = client(issued.uri)
    await expect(thief.connect()).rejects.toMatch(/unknown, used or expired secret/)
    const log = await store.pageLog({ offset: 0, limit: 50 })
    expect(log.entries[0]?.outcome).toBe('unauthorised')
    expect(log.entries.map((e) => e.method)).toEqual(
      expect.arrayContaining(['connect', 'get_public_key', 'sign_event', 'nip44_encrypt', 'nip44_decrypt']),
    )
  })

  it('refuses what the client was not granted, NIP-04, the signer refusal, and a revoked client', async () => {
    const { operator, bunker, store } = await setup()
    const narrow: ClientPermissions = {
      methods: ['get_public_key', 'sign_event'],
      kinds: [30078],
      dTagPatterns: ['atm-config/*'],
    }
    const sk = key()
    const c = client(bunker.issueConnect(narrow).uri, sk)
    await c.connect()
    await expect(c.signEvent({ kind: 1, created_at: 1, tags: [], content: 'hi' })).rejects.toMatch(
      /not allowed to sign kind 1/,
    )
    await expect(c.signEvent({ kind: 30078, created_at: 1, tags: [['d', 'roster']], content: '' })).rejects.toMatch(
      /not allowed to sign d tag "roster"/,
    )
    await expect(c.nip44Encrypt(operator.pubkey, 'x')).rejects.toMatch(/not allowed to call nip44_encrypt/)
    await expect(c.nip04Encrypt(operator.pubkey, 'x')).rejects.toMatch(/nip04 is not supported/)
    expect(operator.pendingCount()).toBe(0)

    const refused = c.signEvent({ kind: 30078, created_at: 1, tags: [['d', 'atm-config/b']], content: '' })
    ;(await operator.next()).refuse('operator pressed reject')
    await expect(refused).rejects.toMatch(/refused: You rejected this on the signer/)

    const stranger = client(bunker.issueConnect(ALL).uri)
    await expect(stranger.sendRequest('get_public_key', [])).rejects.toMatch(/connect with a bunker:\/\/ secret first/)

    expect(await bunker.revoke(bytesToHex(schnorr.getPublicKey(sk)))).toBe(true)
    await expect(c.sendRequest('ping', [])).rejects.toMatch(/revoked/)
    await expect(c.connect()).rejects.toMatch(/revoked/)
    expect(bunker.clients().find((x) => x.pubkey === bytesToHex(schnorr.getPublicKey(sk)))?.revokedAtMs).not.toBeNull()
    const outcomes = (await store.pageLog({ offset: 0, limit: 100 })).entries.map((e) => e.outcome)
    expect(outcomes.filter((o) => o === 'refused').length).toBeGreaterThanOrEqual(5)
  })

  it('accepts a nostrconnect:// URI pasted by the operator (BunkerSigner.fromURI) with the chosen permissions', async () => {
    const { operator, bunker } = await setup()
    const sk = key()
    const pool = new SimplePool()
    pools.push(pool)
    const uri = createNostrConnectURI({
      clientPubkey: bytesToHex(schnorr.getPublicKey(sk)),
      relays: [relay.url],
      secret: 'nc-secret-1',
      perms: ['sign_event:1'],
      name: 'phone app',
    })
    // The client's socket is open before fromURI, so its REQ is written before the bunker's answer is sent.
    await pool.ensureRelay(relay.url)
    const connecting = BunkerSigner.fromURI(sk, uri, { pool, skipSwitchRelays: true }, 20_000)
    const [c, accepted] = await Promise.all([
      connecting,
      bunker.acceptNostrConnect(uri, { methods: ['get_public_key'], kinds: [], dTagPatterns: [] }),
    ])
    expect(accepted.name).toBe('phone app')
    expect(await c.getPublicKey()).toBe(operator.pubkey)
    await expect(c.signEvent({ kind: 1, created_at: 1, tags: [], content: '' })).rejects.toMatch(
      /not allowed to call sign_event/,
    )
  })

  it('answers busy beyond one running plus queueDepth waiting, and rate-limits a chatty client', async () => {
    const { operator, bunker, store } = await setup({ queueDepth: 2, perClientPerMinute: 8 })
    const c = client(bunker.issueConnect(ALL).uri)
    await c.connect()
    const reqs = [0, 1, 2, 3].map((i) =>
      c.signEvent({ kind: 1, created_at: 1_760_000_000 + i, tags: [], content: `n${i}` }),
    )
    // 1 running + 2 waiting: the 4th to arrive (relays do not keep the sending order) is answered busy while the
    // others still wait for the operator.
    const settled = Promise.allSettled(reqs)
    for (let i = 0; i < 200; i++) {
      if ((await store.pageLog({ offset: 0, limit: 10 })).entries.some((e) => e.outcome === 'busy')) break
      await new Promise((r) => setTimeout(r, 25))
    }
    for (let i = 0; i < 3; i++) (await operator.next()).approve()
    const out = await settled
    const refused = out.filter((o) => o.status === 'rejected')
    expect(refused).toHaveLength(1)
    expect(String((refused[0] as PromiseRejectedResult).reason)).toMatch(/^busy:/)
    const done = out.flatMap((o) => (o.status === 'fulfilled' ? [o.value.content] : []))
    expect(done).toHaveLength(3)
    // 4 requests so far (connect is not rate counted); 4 pings fill the minute's 8, the next is refused.
    for (let i = 0; i < 4; i++) expect(await c.sendRequest('ping', [])).toBe('pong')
    await expect(c.sendRequest('ping', [])).rejects.toMatch(/busy: too many requests/)
    const page = await store.pageLog({ offset: 0, limit: 2 })
    expect(page.total).toBeGreaterThanOrEqual(10)
    expect(page.entries.length).toBe(2)
    expect(page.entries[0]?.outcome).toBe('busy')
  })
})
