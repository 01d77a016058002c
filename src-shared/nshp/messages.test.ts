// Property tests for NSHP/1 layer 2: any request and any answer survive encoding, fragmentation into reports of
// any size and reassembly; the CBOR subset has one encoding per value; garbage, out-of-order frames and malformed
// bodies give typed errors (FrameError / MessageError / CborError), never a wrong value.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { Assembler, FrameError, frameMessage } from '../nshp-frame'
import { CborError, type CborValue, decodeCbor, encodeCbor } from './cbor'
import {
  decodeRequest,
  decodeResponse,
  encodeRequest,
  encodeResponse,
  MessageError,
  type Request,
  type ResponseBody,
} from './messages'
import { Status } from './types'

const RUNS = Number(process.env.PROPS_RUNS ?? 300)
const hex32 = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => Buffer.from(b).toString('hex'))
const hex64 = fc.uint8Array({ minLength: 64, maxLength: 64 }).map((b) => Buffer.from(b).toString('hex'))
const text = (maxLength: number) => fc.string({ unit: 'binary', maxLength })
const account = fc.integer({ min: 0, max: 0x7fffffff })

const request: fc.Arbitrary<Request> = fc.oneof(
  fc.constant<Request>({ command: 'GET_INFO' }),
  fc.record({ command: fc.constant('GET_PUBLIC_KEY' as const), account, display: fc.boolean() }),
  fc
    .record({
      command: fc.constant('SIGN_EVENT' as const),
      account,
      createdAt: fc.maxSafeNat(),
      kind: fc.integer({ min: 0, max: 65535 }),
      tags: fc.array(fc.array(text(40), { minLength: 1, maxLength: 4 }), { maxLength: 6 }),
      content: text(2000),
      clientLabel: fc.option(text(20), { nil: undefined }),
    })
    .map((r) => {
      const { clientLabel, ...rest } = r
      return clientLabel === undefined ? rest : { ...rest, clientLabel }
    }),
  fc.record({ command: fc.constant('SIGN_DELEGATION' as const), account, delegatee: hex32, conditions: text(200) }),
  fc.record({ command: fc.constant('NIP44_ENCRYPT' as const), account, peer: hex32, plaintext: text(500) }),
  fc.record({ command: fc.constant('NIP44_DECRYPT' as const), account, peer: hex32, payload: text(500) }),
  fc.record({ command: fc.constant('PING' as const), data: fc.uint8Array({ maxLength: 300 }) }),
)

const answer: fc.Arbitrary<ResponseBody> = fc.oneof(
  fc.record({ command: fc.constant('GET_PUBLIC_KEY' as const), pubkey: hex32 }),
  fc.record({ command: fc.constant('SIGN_EVENT' as const), id: hex32, sig: hex64, pubkey: hex32 }),
  fc.record({ command: fc.constant('SIGN_DELEGATION' as const), sig: hex64 }),
  fc.record({ command: fc.constant('NIP44_DECRYPT' as const), plaintext: text(500) }),
)

function reassemble(reports: Uint8Array[], channel: number, size: number): Uint8Array {
  const asm = new Assembler(channel, size)
  for (const r of reports) {
    const ev = asm.push(r)
    if (ev.kind === 'message') return ev.message
  }
  throw new Error('no message')
}

describe('NSHP/1 envelope and bodies', () => {
  it('any request survives encode → fragmentation at any report size → reassembly → decode', () => {
    fc.assert(
      fc.property(
        request,
        fc.integer({ min: 1, max: 0xffff }),
        fc.integer({ min: 16, max: 128 }),
        fc.integer({ min: 0, max: 0xffff }),
        (req, id, size, ch) => {
          const msg = encodeRequest(id, req)
          const back = decodeRequest(reassemble(frameMessage(ch, msg, size), ch, size))
          expect(back).toEqual({ requestId: id, request: req })
          // Deterministic: re-encoding what was decoded gives the same bytes.
          expect(encodeRequest(id, back.request)).toEqual(msg)
        },
      ),
      { numRuns: RUNS },
    )
  })

  it('any answer survives the same path; error statuses carry their reason', () => {
    fc.assert(
      fc.property(answer, fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 16, max: 128 }), (body, id, size) => {
        const msg = reassemble(frameMessage(7, encodeResponse(id, Status.OK, body), size), 7, size)
        expect(decodeResponse(msg, body.command)).toEqual({ requestId: id, status: Status.OK, body })
        const rej = decodeResponse(
          encodeResponse(id, Status.POLICY_DENIED, { reason: 'window too long' }),
          body.command,
        )
        expect(rej).toEqual({ requestId: id, status: Status.POLICY_DENIED, reason: 'window too long' })
      }),
      { numRuns: RUNS },
    )
  })

  it('random bytes never decode to a request silently: either a valid request or a typed MessageError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        try {
          const { request: r } = decodeRequest(bytes)
          // If it decoded, it must re-encode to exactly the same bytes (one encoding per value).
          expect(encodeRequest(((bytes[2] ?? 0) << 8) | (bytes[3] ?? 0), r)).toEqual(bytes)
        } catch (e) {
          expect(e).toBeInstanceOf(MessageError)
        }
      }),
      { numRuns: RUNS },
    )
  })

  it('shuffled or dropped frames give a typed FrameError or an incomplete message, never a wrong one', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 120, maxLength: 600 }),
        fc.integer({ min: 16, max: 64 }),
        fc.nat(),
        (msg, size, seed) => {
          const reports = frameMessage(1, msg, size)
          const i = seed % reports.length
          const j = (i + 1 + (seed % (reports.length - 1 || 1))) % reports.length
          const shuffled = [...reports]
          ;[shuffled[i], shuffled[j]] = [shuffled[j] as Uint8Array, shuffled[i] as Uint8Array]
          const asm = new Assembler(1, size)
          let out: Uint8Array | null = null
          try {
            for (const r of shuffled) {
              const ev = asm.push(r)
              if (ev.kind === 'message') out = ev.message
            }
          } catch (e) {
            expect(e).toBeInstanceOf(FrameError)
            return
          }
          if (i !== j) expect(out === null || Buffer.from(out).equals(Buffer.from(msg))).toBe(true)
        },
      ),
      { numRuns: RUNS },
    )
  })

  it('a frame 0 declaring more than max_msg is refused as too-long', () => {
    const [first] = frameMessage(1, new Uint8Array(300), 64)
    expect(() => new Assembler(1, 64, 200).push(first as Uint8Array)).toThrowError(/too-long|above 200/)
  })

  it('refuses unknown keys, missing keys, wrong types, unknown commands and versions, naming the field', () => {
    const ok = encodeRequest(5, { command: 'GET_PUBLIC_KEY', account: 0, display: true })
    const withBody = (body: CborValue, cmd = 0x02, version = 1) => {
      const b = encodeCbor(body)
      return Uint8Array.from([version, cmd, 0, 5, ...b])
    }
    expect(decodeRequest(ok).request).toEqual({ command: 'GET_PUBLIC_KEY', account: 0, display: true })
    const refuse = (m: Uint8Array, re: RegExp, status: number = Status.BAD_REQUEST) => {
      try {
        decodeRequest(m)
        expect.unreachable()
      } catch (e) {
        expect(e).toBeInstanceOf(MessageError)
        expect((e as MessageError).message).toMatch(re)
        expect((e as MessageError).status).toBe(status)
      }
    }
    refuse(
      withBody(
        new Map<number, CborValue>([
          [1, 0],
          [2, true],
          [9, 1],
        ]),
      ),
      /GET_PUBLIC_KEY.key 9: unknown key/,
    )
    refuse(withBody(new Map<number, CborValue>([[1, 0]])), /GET_PUBLIC_KEY.display: missing/)
    refuse(
      withBody(
        new Map<number, CborValue>([
          [1, 'zero'],
          [2, true],
        ]),
      ),
      /GET_PUBLIC_KEY.account: must be an unsigned integer/,
    )
    refuse(withBody(new Map(), 0x99), /envelope.command: 0x99 unknown/, Status.UNSUPPORTED_COMMAND)
    refuse(withBody(new Map(), 0x01, 2), /envelope.version: 2 is not 1/)
    refuse(Uint8Array.from([1, 2]), /shorter than 4 bytes/)
    refuse(withBody([1, 2]), /body must be a CBOR map/)
  })
})

describe('the CBOR subset', () => {
  const value: fc.Arbitrary<CborValue> = fc.letrec<{ v: CborValue }>((tie) => ({
    v: fc.oneof(
      { depthSize: 'small' },
      fc.maxSafeNat(),
      fc.boolean(),
      fc.string({ unit: 'binary', maxLength: 30 }),
      fc.uint8Array({ maxLength: 30 }),
      fc.array(tie('v'), { maxLength: 4 }),
      fc
        .uniqueArray(fc.tuple(fc.nat(1000), tie('v')), { selector: (t) => t[0], maxLength: 4 })
        .map((es) => new Map<number, CborValue>(es)),
    ),
  })).v

  it('round-trips and has exactly one encoding per value', () => {
    fc.assert(
      fc.property(value, (v) => {
        const bytes = encodeCbor(v)
        const back = decodeCbor(bytes)
        expect(encodeCbor(back)).toEqual(bytes)
      }),
      { numRuns: RUNS },
    )
  })

  it('refuses non-shortest integers, unsorted keys, indefinite lengths, floats, negatives, tags, bad UTF-8, trailing bytes', () => {
    const bad: [number[], RegExp][] = [
      [[0x18, 0x05], /shortest form/],
      [[0xa2, 0x02, 0x00, 0x01, 0x00], /strictly ascending/],
      [[0xa2, 0x01, 0x00, 0x01, 0x00], /strictly ascending/],
      [[0x5f, 0xff], /indefinite/],
      [[0xf9, 0x00, 0x00], /not allowed/],
      [[0x20], /negative/],
      [[0xc0, 0x00], /tags/],
      [[0x62, 0xc3, 0x28], /UTF-8/],
      [[0x00, 0x00], /trailing/],
      [[0x42, 0x01], /truncated/],
      [[0xa1, 0x61, 0x61, 0x00], /key is not an unsigned integer/],
    ]
    for (const [b] of bad) expect(() => decodeCbor(Uint8Array.from(b)), JSON.stringify(b)).toThrowError(CborError)
    for (const [b, re] of bad) expect(() => decodeCbor(Uint8Array.from(b)), JSON.stringify(b)).toThrowError(re)
    expect(() => encodeCbor('\ud800')).toThrowError(/lone surrogate/)
  })
})
