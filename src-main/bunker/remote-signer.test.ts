// The remote-bunker operator signer against NIP-46 bunkers run by the test over the real relay process: the
// console's own bunker over a software key (bunker:// flow), and a raw test bunker for nostrconnect://, tampered
// answers and silence (timeout). A tampered answer must be caught and nothing published.
import { schnorr } from '@noble/curves/secp256k1.js'
import { bytesToHex } from '@noble/hashes/utils.js'
import * as nip44 from 'nostr-tools/nip44'
import { finalizeEvent } from 'nostr-tools/pure'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { memoryLogger } from '../../src-shared/log'
import { checkEvent, type NostrEvent } from '../../src-shared/nostr/event'
import { GRANTABLE_METHODS } from '../../src-shared/nostr/nip46'
import { SignerOutputError } from '../../src-shared/signer'
import type { SignerActivity } from '../../src-shared/signer-activity'
import { startRawBunker } from '../../test/support/raw-bunker'
import { type RelayHandle, startRelay } from '../../test/support/relay'
import { useTempDirs } from '../../test/support/temp-dirs'
import { createSoftwareSigner } from '../signer/software-signer'
import { Bunker } from './bunker'
import { RemoteBunkerError, RemoteBunkerSigner } from './remote-signer'
import { openBunkerStore } from './store'
import { type Nip46Transport, simplePoolTransport } from './transport'

const tempDir = useTempDirs('remote-bunker-')
const key = () => schnorr.utils.randomSecretKey()
const pk = (sk: Uint8Array) => bytesToHex(schnorr.getPublicKey(sk))
let relay: RelayHandle
const transports: Nip46Transport[] = []
const transport = () => {
  const t = simplePoolTransport()
  transports.push(t)
  return t
}
beforeAll(async () => {
  relay = await startRelay()
})
afterAll(async () => {
  for (const t of transports) t.close()
  await relay.stop()
})

/** What a service does with a signature: publish it only if the signer's answer checked out. */
async function signThenPublish(s: RemoteBunkerSigner, t: Nip46Transport): Promise<NostrEvent> {
  const signer = s.current()
  if (!signer) throw new Error('no signer')
  const ev = await signer.signEvent({ kind: 1, created_at: 1_760_000_000, tags: [], content: 'config' })
  await t.publish([relay.url], ev)
  return ev
}

describe('remote NIP-46 bunker as the operator signer', () => {
  it('connects with bunker:// to a software bunker, signs and round-trips nip44, every answer checked', async () => {
    const opSk = key()
    const bunker = new Bunker({
      transportSecretKey: key(),
      operatorPubkey: () => pk(opSk),
      signer: () => createSoftwareSigner(opSk),
      relays: [relay.url],
      transport: transport(),
      store: await openBunkerStore(tempDir(), memoryLogger()),
      log: memoryLogger(),
    })
    await bunker.start()
    const activity: SignerActivity[] = []
    const remote = new RemoteBunkerSigner({
      transport: transport(),
      pinnedOperatorPubkey: () => pk(opSk),
      log: memoryLogger(),
      onActivity: (a) => activity.push(a),
    })
    expect(remote.current()).toBeNull()
    const st = await remote.connectBunkerUri(
      bunker.issueConnect({ methods: [...GRANTABLE_METHODS], kinds: [1], dTagPatterns: [] }).uri,
    )
    expect(st.state).toBe('connected')
    expect(remote.pubkey()).toBe(pk(opSk))
    const t = transport()
    const ev = await signThenPublish(remote, t)
    expect(checkEvent(ev)).toEqual({ ok: true })
    expect(ev.pubkey).toBe(pk(opSk))
    expect(await relay.storedCount()).toBe(1)
    const peerSk = key()
    const enc = await remote.current()?.nip44Encrypt(pk(peerSk), 'round trip')
    expect(nip44.decrypt(enc ?? '', nip44.getConversationKey(peerSk, pk(opSk)))).toBe('round trip')
    expect(await remote.current()?.nip44Decrypt(pk(peerSk), enc ?? '')).toBe('round trip')
    await expect(
      remote.current()?.signDelegation({ delegateePubkey: pk(key()), conditions: 'kind=1' }),
    ).rejects.toThrow(/cannot sign NIP-26 delegations/)
    const signing = activity.filter((a) => a.what === 'sign_event')
    expect(signing.map((a) => a.state)).toEqual(['waiting', 'approved'])
    expect(signing[0]?.fields).toContainEqual({ label: 'Kind', value: '1' })
    bunker.stop()
  })

  it('catches a tampered signature and another key, publishing nothing; refuses a bunker of another key', async () => {
    const opSk = key()
    const raw = startRawBunker({
      relay: relay.url,
      transport: transport(),
      sk: key(),
      signer: createSoftwareSigner(opSk),
    })
    await raw.ready
    const remote = new RemoteBunkerSigner({
      transport: transport(),
      pinnedOperatorPubkey: () => pk(opSk),
      log: memoryLogger(),
    })
    await remote.connectBunkerUri(raw.uri())
    const before = await relay.storedCount()
    const t = transport()

    raw.tamper = (m, h) => {
      if (m !== 'sign_event' || h === 'silent' || !('result' in h)) return h
      const ev = JSON.parse(h.result) as NostrEvent
      return { result: JSON.stringify({ ...ev, sig: ev.sig.replace(/^./, ev.sig[0] === 'a' ? 'b' : 'a') }) }
    }
    await expect(signThenPublish(remote, t)).rejects.toBeInstanceOf(SignerOutputError)

    const otherSk = key()
    raw.tamper = (m, h) => {
      if (m !== 'sign_event' || h === 'silent' || !('result' in h)) return h
      const ev = JSON.parse(h.result) as NostrEvent
      const { id: _i, sig: _s, pubkey: _p, ...tmpl } = ev
      return { result: JSON.stringify(createSoftwareSignerSync(otherSk, tmpl)) }
    }
    await expect(signThenPublish(remote, t)).rejects.toThrow(/different key/)
    expect(await relay.storedCount()).toBe(before)

    // A bunker whose get_public_key is not the pinned operator key is never used.
    raw.tamper = (m, h) => (m === 'get_public_key' ? { result: pk(otherSk) } : h)
    const second = new RemoteBunkerSigner({
      transport: transport(),
      pinnedOperatorPubkey: () => pk(opSk),
      log: memoryLogger(),
    })
    await expect(second.connectBunkerUri(raw.uri())).rejects.toMatchObject({ code: 'wrong_key' })
    expect(second.current()).toBeNull()
    expect(second.status().state).toBe('error')
    raw.stop()
  })

  it('ends a request the phone never answers as timeout, and connects through a scanned nostrconnect:// URI', async () => {
    const opSk = key()
    const raw = startRawBunker({
      relay: relay.url,
      transport: transport(),
      sk: key(),
      signer: createSoftwareSigner(opSk),
    })
    await raw.ready
    const activity: SignerActivity[] = []
    const remote = new RemoteBunkerSigner({
      transport: transport(),
      pinnedOperatorPubkey: () => pk(opSk),
      log: memoryLogger(),
      onActivity: (a) => activity.push(a),
    })
    const shown = remote.startNostrConnect([relay.url])
    expect(shown.uri).toMatch(/^nostrconnect:\/\/[0-9a-f]{64}\?relay=/)
    expect(remote.status().state).toBe('waiting-for-phone')
    await shown.listening
    await raw.scan(shown.uri)
    expect((await shown.connected).state).toBe('connected')
    const before = await relay.storedCount()
    raw.tamper = (m, h) => (m === 'sign_event' ? 'silent' : h)
    // The answer never comes, so a short timeout is exact whatever the machine's load.
    remote.timeoutMs = 1000
    const err = await signThenPublish(remote, transport()).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(RemoteBunkerError)
    expect((err as RemoteBunkerError).code).toBe('timeout')
    expect(activity.filter((a) => a.what === 'sign_event').map((a) => a.state)).toEqual(['waiting', 'timeout'])
    expect(await relay.storedCount()).toBe(before)

    // Cancel from the dialog: the request ends as cancelled at once, nothing is published.
    remote.timeoutMs = 120_000
    const pending = signThenPublish(remote, transport()).catch((e: unknown) => e)
    const waiting = activity.at(-1)
    expect(waiting?.state).toBe('waiting')
    expect(remote.cancel(waiting?.requestId ?? '')).toBe(true)
    expect(await pending).toMatchObject({ code: 'cancelled' })
    expect(activity.at(-1)).toMatchObject({ requestId: waiting?.requestId, state: 'cancelled' })
    expect(await relay.storedCount()).toBe(before)
    raw.stop()
  })
})

function createSoftwareSignerSync(
  sk: Uint8Array,
  t: { kind: number; created_at: number; tags: string[][]; content: string },
) {
  return finalizeEvent(t, sk)
}
