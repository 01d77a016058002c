// The NSHP/1 device core on its own: it holds a key only in demo/test mode, shows every field it signs (and the
// same compare code the host computes), enforces its delegation policy, locks and wipes on PIN failures, answers
// BUSY to a second channel and TOO_LARGE to an oversized message, and has no command that signs a bare hash.
import { schnorr } from '@noble/curves/secp256k1.js'
import { describe, expect, it } from 'vitest'
import { computeEventId } from '../nostr/event'
import { Assembler, frameMessage } from '../nshp-frame'
import { DeviceCore, DeviceModeError, MAX_PIN_ATTEMPTS } from './device-core'
import { decodeResponse, encodeRequest, type Request } from './messages'
import { checkDelegation } from './policy'
import { compareCode, delegationHash, reviewSignEvent } from './review'
import { Command, Status } from './types'

const SK = new Uint8Array(32).fill(9)
const PUB = Buffer.from(schnorr.getPublicKey(SK)).toString('hex')
const PEER = 'c6047f9441ed7d6d3045406e95c07cd85c778e4b8cef3ca7abac09b95c709ee5'

/** Raw host side: frames one request on `channel`, collects the device's answer and keepalives on that channel. */
function host(core: DeviceCore) {
  const byChannel = new Map<number, { asm: Assembler; statuses: number[]; answers: Uint8Array[] }>()
  let waiter: ((code: number) => void) | null = null
  core.connect((r) => {
    const ch = ((r[0] ?? 0) << 8) | (r[1] ?? 0)
    const s = byChannel.get(ch)
    if (!s) return
    const ev = s.asm.push(r)
    if (ev.kind === 'status') {
      s.statuses.push(ev.status)
      waiter?.(ev.status)
      waiter = null
    }
    if (ev.kind === 'message') s.answers.push(ev.message)
  })
  return {
    send(channel: number, id: number, req: Request) {
      if (!byChannel.has(channel))
        byChannel.set(channel, { asm: new Assembler(channel, core.reportBytes), statuses: [], answers: [] })
      for (const r of frameMessage(channel, encodeRequest(id, req), core.reportBytes)) core.receive(r)
      return byChannel.get(channel) as { statuses: number[]; answers: Uint8Array[] }
    },
    raw(report: Uint8Array) {
      core.receive(report)
    },
    /** The next keepalive code the device sends. */
    status(): Promise<number> {
      return new Promise((res) => {
        waiter = res
      })
    },
    watch(channel: number) {
      const s = { asm: new Assembler(channel, core.reportBytes), statuses: [], answers: [] }
      byChannel.set(channel, s)
      return s as { statuses: number[]; answers: Uint8Array[] }
    },
  }
}

const signReq = (content = 'hi'): Request => ({
  command: 'SIGN_EVENT',
  account: 0,
  createdAt: 1_767_225_600,
  kind: 30078,
  tags: [
    ['d', 'satmachine:machine:abc'],
    ['t', 'line\nbreak'],
  ],
  content,
  clientLabel: 'Satmachine Console',
})

describe('device core', () => {
  it('refuses to hold a key outside demo or test mode', () => {
    for (const mode of ['production', '', undefined, 'DEMO'])
      expect(() => new DeviceCore({ mode: mode as 'demo', secretKey: SK })).toThrowError(DeviceModeError)
    expect(() => new DeviceCore({ mode: 'test', secretKey: new Uint8Array(31) })).toThrowError(/secretKey/)
    expect(() => new DeviceCore({ mode: 'test', secretKey: SK, locked: true })).toThrowError(/locked: needs a pin/)
    expect(new DeviceCore({ mode: 'demo', secretKey: SK }).pubkey).toBe(PUB)
  })

  it('has no sign-a-hash and no key-export command: unknown command numbers are UNSUPPORTED_COMMAND', () => {
    expect(Object.keys(Command).sort()).toEqual(
      ['GET_INFO', 'GET_PUBLIC_KEY', 'NIP44_DECRYPT', 'NIP44_ENCRYPT', 'PING', 'SIGN_DELEGATION', 'SIGN_EVENT'].sort(),
    )
    const core = new DeviceCore({ mode: 'test', secretKey: SK })
    const h = host(core)
    const s = h.watch(0x0102)
    for (const code of [0x03, 0x12, 0x13, 0x40, 0xff]) {
      const msg = Uint8Array.from([1, code, 0, 9, 0xa0])
      for (const r of frameMessage(0x0102, msg, 64)) h.raw(r)
    }
    expect(s.answers).toHaveLength(5)
    for (const a of s.answers) expect(decodeResponse(a, 'PING').status).toBe(Status.UNSUPPORTED_COMMAND)
  })

  it('shows every field it signs, page by page, with the compare code the host computes from the id', async () => {
    const core = new DeviceCore({ mode: 'test', secretKey: SK, config: { keepaliveMs: 10 } })
    const h = host(core)
    const s = h.send(0x0a0b, 1, signReq())
    const shot = await core.waitFor('reviewing')
    const review = shot.review
    if (!review) throw new Error('no review')
    expect(review.pages.map((p) => p.title)).toEqual(['Sign event', 'Date', 'Tags', 'Content', 'Approve?'])
    const flat = review.pages.flatMap((p) => p.lines.map((l) => `${l.label}: ${l.value}`))
    expect(flat).toContain('Kind: 30078 (app config)')
    expect(flat).toContain('App config for: satmachine:machine:abc')
    expect(flat).toContain('Requested by (per computer): Satmachine Console')
    expect(flat).toContain('Created at: 2026-01-01 00:00:00 UTC (1767225600)')
    expect(flat).toContain('Tag 2: "t", "line⏎break"')
    expect(flat).toContain('Length: 2 bytes')
    const r = signReq() as Extract<Request, { command: 'SIGN_EVENT' }>
    const id = computeEventId({ pubkey: PUB, created_at: r.createdAt, kind: r.kind, tags: r.tags, content: r.content })
    expect(review.compareCode).toBe(compareCode(id))
    expect(flat).toContain(`Event id: ${id}`)
    // The host's confirm dialog renders the same screen from the same fields.
    const { page: _page, ...withoutPage } = review
    expect(withoutPage).toEqual(reviewSignEvent({ ...r, pubkey: PUB }, id))
    // Keepalive: waiting for the user, then "reviewing" once the operator pages.
    expect(await h.status()).toBe(2)
    core.press('next')
    expect(await h.status()).toBe(4)
    expect(core.screen().review?.page).toBe(1)
    core.press('approve')
    expect(s.answers).toHaveLength(1)
    const ans = decodeResponse(s.answers[0] as Uint8Array, 'SIGN_EVENT')
    expect(ans.status).toBe(Status.OK)
    if (ans.status !== Status.OK || ans.body.command !== 'SIGN_EVENT') throw new Error('not ok')
    expect(ans.body.id).toBe(id)
    expect(schnorr.verify(Buffer.from(ans.body.sig, 'hex'), Buffer.from(id, 'hex'), Buffer.from(PUB, 'hex'))).toBe(true)
  })

  it('long content is shown in full over several pages, never cut', async () => {
    const core = new DeviceCore({ mode: 'test', secretKey: SK })
    const h = host(core)
    const content = 'ab😀'.repeat(200)
    h.send(1, 1, signReq(content))
    const review = (await core.waitFor('reviewing')).review
    const pages = review?.pages.filter((p) => p.title.startsWith('Content')) ?? []
    expect(pages.length).toBeGreaterThan(2)
    expect(pages.map((p) => p.lines.find((l) => l.label === 'Text')?.value).join('')).toBe(content)
  })

  it('delegation review: who, kinds, window in plain words, raw conditions, compare code from the delegation hash', async () => {
    const core = new DeviceCore({ mode: 'test', secretKey: SK })
    const h = host(core)
    const conditions = 'kind=30079&created_at>1767225600&created_at<1774915200'
    h.send(2, 1, { command: 'SIGN_DELEGATION', account: 0, delegatee: PEER, conditions })
    const review = (await core.waitFor('reviewing')).review
    const flat = review?.pages.flatMap((p) => p.lines.map((l) => `${l.label}: ${l.value}`)) ?? []
    expect(flat[0]).toMatch(/^Delegate signing to: npub1/)
    expect(flat).toContain('Allowed kinds: 30079 (ATM record)')
    expect(flat).toContain('From: 2026-01-01 00:00:00 UTC')
    expect(flat).toContain('Until: 2026-03-31 00:00:00 UTC')
    expect(flat).toContain('Length: 89 days')
    expect(flat).toContain(`Raw: ${conditions}`)
    expect(review?.compareCode).toBe(compareCode(delegationHash(PEER, conditions)))
  })

  it.each([
    ['kind=1&created_at>100&created_at<200', true],
    ['created_at<200&kind=1&created_at>100', true],
    ['kind=1&kind=30078&created_at>0&created_at<7776000', true],
    ['kind=1&created_at>0&created_at<7776001', 'policy-denied'],
    ['created_at>100&created_at<200', 'policy-denied'],
    ['kind=1&created_at>100', 'policy-denied'],
    ['kind=1&created_at<200', 'policy-denied'],
    ['kind=1&created_at>200&created_at<100', 'policy-denied'],
    ['kind=1&created_at>100&created_at>101&created_at<200', 'policy-denied'],
    ['kind=1&kind=1&created_at>100&created_at<200', 'bad-request'],
    ['kind=01&created_at>100&created_at<200', 'bad-request'],
    ['kind=70000&created_at>100&created_at<200', 'bad-request'],
    ['kind=1&created_at>=100&created_at<200', 'bad-request'],
    ['kind=1&&created_at>100&created_at<200', 'bad-request'],
    ['kind=1&tags=x&created_at>100&created_at<200', 'bad-request'],
    ['', 'bad-request'],
  ] as const)('policy: %s → %s', (conditions, expected) => {
    const v = checkDelegation(conditions)
    if (expected === true) expect(v.ok).toBe(true)
    else expect(v.ok === false && v.status).toBe(expected)
  })

  it('PIN: locked requests answer LOCKED; ten wrong PINs wipe the key; GET_INFO and PING still answer', () => {
    const core = new DeviceCore({ mode: 'test', secretKey: SK, pin: '1234', locked: true })
    const h = host(core)
    const s = h.send(3, 1, { command: 'GET_PUBLIC_KEY', account: 0, display: false })
    expect(decodeResponse(s.answers[0] as Uint8Array, 'GET_PUBLIC_KEY').status).toBe(Status.LOCKED)
    expect(core.screen().state).toBe('locked')
    for (let i = 0; i < MAX_PIN_ATTEMPTS; i++) expect(core.enterPin('0000')).toBe(false)
    expect(core.screen().state).toBe('wiped')
    expect(core.enterPin('1234')).toBe(false)
    h.send(3, 2, { command: 'GET_PUBLIC_KEY', account: 0, display: false })
    expect(decodeResponse(s.answers[1] as Uint8Array, 'GET_PUBLIC_KEY').status).toBe(Status.WRONG_STATE)
    h.send(3, 3, { command: 'PING', data: new Uint8Array([7]) })
    expect(decodeResponse(s.answers[2] as Uint8Array, 'PING').status).toBe(Status.OK)
  })

  it('a second request on another channel while a review is open is answered BUSY; the first is unaffected', async () => {
    const core = new DeviceCore({ mode: 'test', secretKey: SK })
    const h = host(core)
    const a = h.send(0x1111, 1, signReq())
    await core.waitFor('reviewing')
    const b = h.send(0x2222, 1, { command: 'GET_PUBLIC_KEY', account: 0, display: false })
    expect(decodeResponse(b.answers[0] as Uint8Array, 'GET_PUBLIC_KEY').status).toBe(Status.BUSY)
    expect(core.screen().state).toBe('reviewing')
    core.press('reject')
    expect(decodeResponse(a.answers[0] as Uint8Array, 'SIGN_EVENT').status).toBe(Status.USER_REJECTED)
  })

  it('a message declaring more than max_msg is answered TOO_LARGE without being assembled', () => {
    const core = new DeviceCore({ mode: 'test', secretKey: SK, maxMessageBytes: 512 })
    const h = host(core)
    const s = h.send(5, 77, signReq('x'.repeat(1000)))
    expect(s.answers).toHaveLength(1)
    const ans = decodeResponse(s.answers[0] as Uint8Array, 'SIGN_EVENT')
    expect(ans).toMatchObject({ requestId: 77, status: Status.TOO_LARGE })
  })

  it('accounts other than 0 are refused on the emulator; raw control characters are refused naming the field', () => {
    const core = new DeviceCore({ mode: 'test', secretKey: SK })
    const h = host(core)
    const s = h.send(6, 1, { command: 'GET_PUBLIC_KEY', account: 3, display: false })
    expect(decodeResponse(s.answers[0] as Uint8Array, 'GET_PUBLIC_KEY')).toMatchObject({
      status: Status.BAD_REQUEST,
      reason: expect.stringMatching(/account: 3/),
    })
    const r = signReq() as Extract<Request, { command: 'SIGN_EVENT' }>
    h.send(6, 2, { ...r, tags: [['d', 'a\u0000b']] })
    expect(decodeResponse(s.answers[1] as Uint8Array, 'SIGN_EVENT')).toMatchObject({
      status: Status.BAD_REQUEST,
      reason: 'tags[0][1]: control character U+0000 at 1',
    })
  })
})
