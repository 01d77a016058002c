// Property tests for the NSHP/1 framer: round trip at any report size, typed errors on bad input.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { Assembler, FrameError, frameMessage, statusReport, TAG_MSG } from './nshp-frame'

describe('nshp framer', () => {
  it('any message survives fragmentation and reassembly', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 3000 }),
        fc.integer({ min: 8, max: 128 }),
        fc.integer({ min: 0, max: 0xffff }),
        (message, reportBytes, channel) => {
          const reports = frameMessage(channel, message, reportBytes)
          const asm = new Assembler(channel, reportBytes)
          let out: Uint8Array | null = null
          for (const r of reports) {
            expect(r.length).toBe(reportBytes)
            const ev = asm.push(r)
            if (ev.kind === 'message') out = ev.message
          }
          expect(out).toEqual(message)
        },
      ),
    )
  })

  it('frames on another channel are ignored; out-of-order frames give a typed error', () => {
    const msg = new Uint8Array(200).fill(7)
    const reports = frameMessage(0x1234, msg, 64).map((r) => r)
    const r = (i: number): Uint8Array => {
      const x = reports[i]
      if (!x) throw new Error(`no report ${i}`)
      return x
    }
    const asm = new Assembler(0x1234, 64)
    expect(new Assembler(0x9999, 64).push(r(0)).kind).toBe('ignored')
    asm.push(r(0))
    expect(() => asm.push(r(2))).toThrowError(FrameError)
    const orphan = new Assembler(0x1234, 64)
    try {
      orphan.push(r(1))
      expect.unreachable()
    } catch (e) {
      expect((e as FrameError).code).toBe('out-of-order')
    }
  })

  it('garbage tags are rejected with a typed error; status frames decode', () => {
    const [bad] = frameMessage(1, new Uint8Array([1]), 64)
    if (!bad) throw new Error('no report')
    bad[2] = 0x42
    expect(() => new Assembler(1, 64).push(bad)).toThrowError(/tag/)
    expect(new Assembler(1, 64).push(statusReport(1, 2, 64))).toEqual({ kind: 'status', status: 2 })
    expect(frameMessage(1, new Uint8Array(0), 64)[0]?.[2]).toBe(TAG_MSG)
  })
})
