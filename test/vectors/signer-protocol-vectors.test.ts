// Conformance vectors of docs/signer-protocol.md §12, parsed from the document's text (every ```nshp-vector block)
// and run against the NSHP/1 emulator through the real host client and the in-process transport: NIP-01
// serialisation and ids (both serialisers, the device's id, its signature with fixed aux randomness, the compare
// code on its screen), refused control characters, BIP-340, NIP-44 v2, the NIP-26 example, the delegation policy,
// the exact bytes of envelopes and frames, and the full review the device shows, page by page. A vector the runner does not know fails the test.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { schnorr } from '@noble/curves/secp256k1.js'
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js'
import * as nip44 from 'nostr-tools/nip44'
import { describe, expect, it } from 'vitest'
import { createInProcessEmulator, type InProcessEmulator } from '../../src-main/signer/device/inproc'
import { computeEventId, schnorrVerifyHex, serializeForId } from '../../src-shared/nostr/event'
import { delegationHashHex, verifyDelegationToken } from '../../src-shared/nostr/nip26'
import { createSignerClient, type SignerClient } from '../../src-shared/nshp/client'
import {
  decodeRequest,
  decodeResponse,
  encodeRequest,
  encodeResponse,
  type Request,
} from '../../src-shared/nshp/messages'
import { serializeEvent } from '../../src-shared/nshp/nip01'
import { compareCode } from '../../src-shared/nshp/review'
import { type ReviewScreen, SignerError, Status, type StatusName } from '../../src-shared/nshp/types'
import { Assembler, frameMessage } from '../../src-shared/nshp-frame'

const DOC = readFileSync(join(import.meta.dirname, '../../docs/signer-protocol.md'), 'utf8')
type Vector = Record<string, unknown> & { type: string }
const VECTORS: Vector[] = [...DOC.matchAll(/```nshp-vector\n([\s\S]*?)\n```/g)].map(
  (m) => JSON.parse(m[1] as string) as Vector,
)

const zeroAux = () => new Uint8Array(32)

interface Device {
  emu: InProcessEmulator
  client: SignerClient
}

function device(secretKeyHex: string): Device {
  const emu = createInProcessEmulator({
    mode: 'test',
    secretKey: hexToBytes(secretKeyHex),
    auxRand: zeroAux,
    config: { keepaliveMs: 50 },
  })
  return { emu, client: createSignerClient({ transport: emu.transport(), pinnedPubkey: emu.pubkey }) }
}

/** Runs a reviewed command, captures what the device showed, approves it. */
async function approved<T>(d: Device, call: () => Promise<T>): Promise<{ value: T; review: ReviewScreen }> {
  const p = call()
  const shot = await d.emu.control.waitFor('reviewing')
  d.emu.control.press('approve')
  const review = shot.review
  if (!review) throw new Error('no review on screen')
  return { value: await p, review }
}

const lines = (r: ReviewScreen) => Object.fromEntries(r.pages.flatMap((p) => p.lines.map((l) => [l.label, l.value])))

async function statusOf(p: Promise<unknown>): Promise<string> {
  try {
    await p
    return 'OK'
  } catch (e) {
    if (!(e instanceof SignerError)) throw e
    return Object.entries(Status).find(([, v]) => v === e.detail.status)?.[0] ?? e.code
  }
}

const str = (v: Vector, k: string): string => v[k] as string

/** A review as the vectors write it: pages of [label, value(, "warn")]. */
const asVectorPages = (r: ReviewScreen) =>
  r.pages.map((p) => ({
    title: p.title,
    lines: p.lines.map((l) => (l.warn ? [l.label, l.value, 'warn'] : [l.label, l.value])),
  }))

const RUNNERS: Record<string, (v: Vector) => Promise<void>> = {
  async 'review-sign-event'(v) {
    const d = device(str(v, 'secret_key'))
    const template = {
      created_at: v.created_at as number,
      kind: v.kind as number,
      tags: v.tags as string[][],
      content: str(v, 'content'),
    }
    const { value, review } = await approved(d, () =>
      d.client.signEvent(template, { clientLabel: str(v, 'client_label') }),
    )
    expect(asVectorPages(review)).toEqual(v.pages)
    expect(review.compareCode).toBe(v.compare_code)
    expect(compareCode(value.id)).toBe(v.compare_code)
  },
  async 'review-delegation'(v) {
    const d = device(str(v, 'secret_key'))
    const req = { delegateePubkey: str(v, 'delegatee_pubkey'), conditions: str(v, 'conditions') }
    const { review } = await approved(d, () => d.client.signDelegation(req))
    expect(asVectorPages(review)).toEqual(v.pages)
    expect(review.compareCode).toBe(v.compare_code)
  },
  async nip01(v) {
    const ev = {
      pubkey: str(v, 'pubkey'),
      created_at: v.created_at as number,
      kind: v.kind as number,
      tags: v.tags as string[][],
      content: str(v, 'content'),
    }
    expect(serializeEvent(ev.pubkey, ev.created_at, ev.kind, ev.tags, ev.content)).toBe(v.serialized)
    expect(serializeForId(ev)).toBe(v.serialized)
    expect(computeEventId(ev)).toBe(v.id)
    expect(compareCode(str(v, 'id'))).toBe(v.compare_code)
    const d = device(str(v, 'secret_key'))
    expect(await d.client.getPublicKey()).toBe(v.pubkey)
    const { value, review } = await approved(d, () => d.client.signEvent(ev))
    expect(value.id).toBe(v.id)
    expect(value.sig).toBe(v.sig)
    expect(review.compareCode).toBe(v.compare_code)
    expect(lines(review)['Event id']).toBe(v.id)
  },
  async 'nip01-refused'(v) {
    const d = device(str(v, 'secret_key'))
    const status = await statusOf(
      d.client.signEvent({
        created_at: v.created_at as number,
        kind: v.kind as number,
        tags: v.tags as string[][],
        content: str(v, 'content'),
      }),
    )
    expect(status).toBe(v.status)
    expect(d.emu.control.screen().state).toBe('idle')
  },
  async 'bip340-sign'(v) {
    const d = device(str(v, 'secret_key'))
    expect(await d.client.getPublicKey()).toBe(v.public_key)
    const sig = schnorr.sign(
      hexToBytes(str(v, 'message')),
      hexToBytes(str(v, 'secret_key')),
      hexToBytes(str(v, 'aux_rand')),
    )
    expect(bytesToHex(sig)).toBe(v.signature)
    expect(schnorrVerifyHex(str(v, 'signature'), str(v, 'message'), str(v, 'public_key'))).toBe(true)
  },
  async 'bip340-verify'(v) {
    expect(schnorrVerifyHex(str(v, 'signature'), str(v, 'message'), str(v, 'public_key'))).toBe(v.valid)
  },
  async nip44(v) {
    const ck = nip44.getConversationKey(hexToBytes(str(v, 'secret_key')), str(v, 'peer_pubkey'))
    expect(bytesToHex(ck)).toBe(v.conversation_key)
    expect(nip44.encrypt(str(v, 'plaintext'), ck, hexToBytes(str(v, 'nonce')))).toBe(v.payload)
    for (const [sk, peer] of [
      [str(v, 'secret_key'), str(v, 'peer_pubkey')],
      [str(v, 'other_secret_key'), str(v, 'other_peer_pubkey')],
    ] as const) {
      const d = device(sk)
      const dec = await approved(d, () => d.client.nip44Decrypt(peer, str(v, 'payload')))
      expect(dec.value).toBe(v.plaintext)
      expect(dec.review.pages[0]?.title).toBe('Reveal message to the computer?')
      const enc = await approved(d, () => d.client.nip44Encrypt(peer, str(v, 'plaintext')))
      expect(nip44.decrypt(enc.value, ck)).toBe(v.plaintext)
    }
  },
  async 'nip44-conversation-key'(v) {
    const ck = nip44.getConversationKey(hexToBytes(str(v, 'secret_key')), str(v, 'peer_pubkey'))
    expect(bytesToHex(ck)).toBe(v.conversation_key)
    const d = device(str(v, 'secret_key'))
    const enc = await approved(d, () => d.client.nip44Encrypt(str(v, 'peer_pubkey'), 'conformance'))
    expect(nip44.decrypt(enc.value, ck)).toBe('conformance')
  },
  async 'nip44-invalid'(v) {
    const d = device(str(v, 'secret_key'))
    expect(await statusOf(d.client.nip44Decrypt(str(v, 'peer_pubkey'), str(v, 'payload')))).toBe(v.status)
  },
  async nip26(v) {
    const delegatee = str(v, 'delegatee_pubkey')
    const conditions = str(v, 'conditions')
    expect(delegationHashHex(delegatee, conditions)).toBe(v.delegation_hash)
    expect(`nostr:delegation:${delegatee}:${conditions}`).toBe(v.delegation_string)
    expect(compareCode(str(v, 'delegation_hash'))).toBe(v.compare_code)
    expect(verifyDelegationToken(str(v, 'delegator_pubkey'), delegatee, conditions, str(v, 'token'))).toBe(true)
    const d = device(str(v, 'delegator_secret_key'))
    expect(await d.client.getPublicKey()).toBe(v.delegator_pubkey)
    const { value, review } = await approved(d, () =>
      d.client.signDelegation({ delegateePubkey: delegatee, conditions }),
    )
    expect(verifyDelegationToken(str(v, 'delegator_pubkey'), delegatee, conditions, value)).toBe(true)
    expect(review.compareCode).toBe(v.compare_code)
    expect(lines(review)).toMatchObject(v.shows as Record<string, string>)
    expect(lines(review).Raw).toBe(conditions)
  },
  async 'delegation-policy'(v) {
    const d = device(`${'00'.repeat(31)}05`)
    const call = () =>
      d.client.signDelegation({ delegateePubkey: str(v, 'delegatee_pubkey'), conditions: str(v, 'conditions') })
    if (v.status === 'OK') {
      const { value } = await approved(d, call)
      expect(verifyDelegationToken(d.emu.pubkey, str(v, 'delegatee_pubkey'), str(v, 'conditions'), value)).toBe(true)
    } else expect(await statusOf(call())).toBe(v.status)
  },
  async 'envelope-request'(v) {
    const r = v.request as Record<string, unknown>
    const req: Request =
      r.command === 'SIGN_EVENT'
        ? {
            command: 'SIGN_EVENT',
            account: r.account as number,
            createdAt: r.created_at as number,
            kind: r.kind as number,
            tags: r.tags as string[][],
            content: r.content as string,
          }
        : r.command === 'PING'
          ? { command: 'PING', data: hexToBytes(r.data as string) }
          : (r as Request)
    const msg = encodeRequest(v.request_id as number, req)
    expect(bytesToHex(msg)).toBe(v.message)
    expect(decodeRequest(msg)).toEqual({ requestId: v.request_id, request: req })
    const reports = frameMessage(v.channel as number, msg, v.report_bytes as number)
    expect(reports.map(bytesToHex)).toEqual(v.reports)
    // The device accepts exactly these reports and answers on the same channel with the same request id.
    const emu = createInProcessEmulator({ mode: 'test', secretKey: hexToBytes(`${'00'.repeat(31)}03`) })
    const asm = new Assembler(v.channel as number, 64)
    const answered = new Promise<Uint8Array>((resolve) => {
      emu.core.connect((rep) => {
        const ev = asm.push(rep)
        if (ev.kind === 'message') resolve(ev.message)
      })
    })
    for (const rep of v.reports as string[]) emu.core.receive(hexToBytes(rep))
    if (req.command !== 'PING') {
      await emu.control.waitFor('reviewing')
      emu.control.press('approve')
    }
    const ans = decodeResponse(await answered, req.command)
    expect(ans.requestId).toBe(v.request_id)
    expect(ans.status).toBe(Status.OK)
  },
  async 'envelope-response'(v) {
    const status = Status[v.status as StatusName]
    const body = v.body as Record<string, string>
    const msg =
      status === Status.OK
        ? encodeResponse(v.request_id as number, status, { command: 'GET_PUBLIC_KEY', pubkey: body.pubkey as string })
        : encodeResponse(v.request_id as number, status, body)
    expect(bytesToHex(msg)).toBe(v.message)
    const back = decodeResponse(hexToBytes(str(v, 'message')), v.command as Request['command'])
    expect(back.status).toBe(status)
    if (status !== Status.OK && body.reason) expect(back).toMatchObject({ reason: body.reason })
  },
}

describe('docs/signer-protocol.md conformance vectors, against the emulator', () => {
  it('the document carries vectors of every kind', () => {
    const types = new Set(VECTORS.map((v) => v.type))
    for (const t of Object.keys(RUNNERS)) expect(types, t).toContain(t)
    expect(VECTORS.length).toBeGreaterThanOrEqual(30)
  })
  it.each(
    VECTORS.map(
      (v, i) => [`${i + 1} ${v.type} ${String(v.name ?? v.index ?? v.conditions ?? v.command ?? '')}`, v] as const,
    ),
  )('vector %s', async (_label, v) => {
    const run = RUNNERS[v.type]
    if (!run) throw new Error(`unknown vector type ${v.type}`)
    await run(v)
  })
})
