// A minimal NIP-46 bunker for tests of the console's remote-bunker CLIENT, built on nostr-tools primitives over
// the real relay, whose answers a test can rewrite (tampered signature, another key) or withhold (timeout). The
// console's own bunker (src-main/bunker) cannot play this part: it checks every answer before sending it.
import { bytesToHex } from '@noble/hashes/utils.js'
import * as nip44 from 'nostr-tools/nip44'
import { finalizeEvent, getPublicKey } from 'nostr-tools/pure'
import type { Nip46Transport } from '../../src-main/bunker/transport'
import type { Signer } from '../../src-shared/signer'

export type Answer = { result: string } | { error: string } | 'silent'

export interface RawBunker {
  pubkey: string
  uri: (secret?: string) => string
  /** Called with each request and the honest answer; return what to send instead (default: the honest one). */
  tamper: ((method: string, honest: Answer) => Answer) | null
  /** Answers a nostrconnect:// URI the way a phone does after scanning it. */
  scan(uri: string): Promise<void>
  stop(): void
  /** Resolves once the relay confirmed the bunker's subscription. */
  ready: Promise<void>
}

export function startRawBunker(o: {
  relay: string
  transport: Nip46Transport
  sk: Uint8Array
  signer: Signer
}): RawBunker {
  const pubkey = getPublicKey(o.sk)
  const send = (peer: string, body: object) =>
    o.transport.publish(
      [o.relay],
      finalizeEvent(
        {
          kind: 24133,
          created_at: Math.floor(Date.now() / 1000),
          tags: [['p', peer]],
          content: nip44.encrypt(JSON.stringify(body), nip44.getConversationKey(o.sk, peer)),
        },
        o.sk,
      ),
    )
  const honest = async (method: string, params: string[]): Promise<Answer> => {
    try {
      if (method === 'connect') return { result: 'ack' }
      if (method === 'get_public_key') return { result: await o.signer.getPublicKey() }
      if (method === 'sign_event')
        return { result: JSON.stringify(await o.signer.signEvent(JSON.parse(params[0] ?? '{}'))) }
      if (method === 'nip44_encrypt') return { result: await o.signer.nip44Encrypt(params[0] ?? '', params[1] ?? '') }
      if (method === 'nip44_decrypt') return { result: await o.signer.nip44Decrypt(params[0] ?? '', params[1] ?? '') }
      return { error: `unknown method ${method}` }
    } catch (e) {
      return { error: (e as Error).message }
    }
  }
  const rb: RawBunker = {
    pubkey,
    tamper: null,
    uri: (secret = 's3cret') => `bunker://${pubkey}?relay=${encodeURIComponent(o.relay)}&secret=${secret}`,
    scan: async (uri: string) => {
      const u = new URL(uri)
      await send(u.host || u.pathname.replace(/^\/\//, ''), {
        id: bytesToHex(crypto.getRandomValues(new Uint8Array(8))),
        result: u.searchParams.get('secret'),
      })
    },
    stop: () => sub.close(),
    ready: Promise.resolve(),
  }
  const sub = o.transport.subscribe([o.relay], { kinds: [24133], '#p': [pubkey] }, async (ev) => {
    const req = JSON.parse(nip44.decrypt(ev.content, nip44.getConversationKey(o.sk, ev.pubkey)))
    const h = await honest(req.method, req.params)
    const a = rb.tamper ? rb.tamper(req.method, h) : h
    if (a !== 'silent') await send(ev.pubkey, { id: req.id, ...a })
  })
  rb.ready = sub.ready
  return rb
}
