// Keeps the vectors in docs/lp-rpc.md honest: the JSON blocks tagged `vector:<name>` must equal what
// test/vectors/lp-rpc-vectors.ts generates, and each one is re-verified from the doc's own text alone — keys
// derive their public keys, the conversation key is NIP-44's, content decrypts to the published plaintext and
// re-encrypts to the same bytes with the published nonce, ids and signatures check, and the console's own parser
// and envelope check accept the requests. UPDATE_VECTORS=1 rewrites the blocks after a deliberate change.
import { readFileSync, writeFileSync } from 'node:fs'
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js'
import * as nip44 from 'nostr-tools/nip44'
import { describe, expect, it } from 'vitest'
import {
  checkRequestEnvelope,
  KIND_LP_RPC_REQUEST,
  KIND_LP_RPC_RESPONSE,
  openResponse,
  parseRpcRequest,
} from '../../src-shared/lp-service/rpc'
import { checkEvent, type NostrEvent, publicKeyHex } from '../../src-shared/nostr/event'
import { generateLpRpcVectors } from './lp-rpc-vectors'

const DOC = new URL('../../docs/lp-rpc.md', import.meta.url)
const BLOCK = /```json vector:([a-z-]+)\n([\s\S]*?)\n```/g

// biome-ignore lint/suspicious/noExplicitAny: the doc's JSON is read field by field below
type J = any

describe('docs/lp-rpc.md test vectors', () => {
  const generated = generateLpRpcVectors()
  let text = readFileSync(DOC, 'utf8')
  if (process.env.UPDATE_VECTORS === '1') {
    text = text.replace(BLOCK, (whole, name: string) =>
      name in generated ? `\`\`\`json vector:${name}\n${JSON.stringify(generated[name], null, 2)}\n\`\`\`` : whole,
    )
    writeFileSync(DOC, text)
  }
  const blocks = new Map<string, J>()
  for (const m of text.matchAll(BLOCK)) blocks.set(m[1]!, JSON.parse(m[2]!))
  const get = (name: string): J => {
    const x = blocks.get(name)
    if (x === undefined) throw new Error(`docs/lp-rpc.md has no vector:${name} block`)
    return x
  }

  it('every generated vector is in the doc, unchanged', () => {
    expect([...blocks.keys()].sort()).toEqual(Object.keys(generated).sort())
    for (const [name, value] of Object.entries(generated)) expect(blocks.get(name), name).toEqual(value)
  })

  it('keys and the conversation key derive from the published secrets', () => {
    const k = get('keys')
    expect(publicKeyHex(hexToBytes(k.lp.secretKey))).toBe(k.lp.publicKey)
    expect(publicKeyHex(hexToBytes(k.console.secretKey))).toBe(k.console.publicKey)
    const a = nip44.getConversationKey(hexToBytes(k.lp.secretKey), k.console.publicKey)
    const b = nip44.getConversationKey(hexToBytes(k.console.secretKey), k.lp.publicKey)
    expect(bytesToHex(a)).toBe(k.conversationKey)
    expect(bytesToHex(b)).toBe(k.conversationKey)
  })

  it('each event is well signed, decrypts to its plaintext and re-encrypts to the same content', () => {
    const k = get('keys')
    const conv = hexToBytes(k.conversationKey)
    for (const name of ['request-get-balance', 'request-get-statement', 'response-balance', 'response-replayed']) {
      const v = get(name)
      const ev = v.event as NostrEvent
      expect(checkEvent(ev), name).toEqual({ ok: true })
      expect(nip44.decrypt(ev.content, conv), name).toBe(v.plaintext)
      expect(nip44.encrypt(v.plaintext, conv, hexToBytes(v.nonce)), name).toBe(ev.content)
      expect(
        ev.tags.some((t) => t[0] === 'expiration'),
        name,
      ).toBe(true)
    }
  })

  it('the console accepts the requests; the LP opens the answers', () => {
    const k = get('keys')
    for (const name of ['request-get-balance', 'request-get-statement']) {
      const ev = get(name).event as NostrEvent
      expect(ev.kind).toBe(KIND_LP_RPC_REQUEST)
      expect(ev.pubkey).toBe(k.lp.publicKey)
      expect(checkRequestEnvelope(ev, k.console.publicKey, ev.created_at).ok).toBe(true)
      // One second after its expiration the same request is refused.
      const exp = Number(ev.tags.find((t) => t[0] === 'expiration')![1])
      expect(checkRequestEnvelope(ev, k.console.publicKey, exp)).toEqual({ ok: false, reason: 'expired' })
    }
    expect(parseRpcRequest(get('request-get-statement').plaintext)).toEqual({
      id: 'req-2',
      params: { method: 'getStatement', period: '2026-Q4' },
    })
    for (const name of ['response-balance', 'response-replayed']) {
      const ev = get(name).event as NostrEvent
      expect(ev.kind).toBe(KIND_LP_RPC_RESPONSE)
      expect(ev.pubkey).toBe(k.console.publicKey)
      expect(ev.tags).toContainEqual(['e', get('request-get-balance').event.id])
      expect(openResponse(ev, hexToBytes(k.lp.secretKey))).toEqual(JSON.parse(get(name).plaintext))
    }
  })
})
