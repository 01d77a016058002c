// Hostile host input to the NSHP/1 device core: random reports, and well-framed messages with random bodies, never
// throw out of the device and never produce a signature, an encryption or a decryption without a button press.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { Assembler, frameMessage } from '../nshp-frame'
import { DeviceCore } from './device-core'
import { commandName, decodeResponse } from './messages'
import { Status } from './types'

const SK = new Uint8Array(32).fill(4)

function run(reports: Uint8Array[], channel: number): { status: number }[] {
  const core = new DeviceCore({ mode: 'test', secretKey: SK, config: { keepaliveMs: 1000 } })
  const answers: Uint8Array[] = []
  const asm = new Assembler(channel, 64)
  core.connect((r) => {
    try {
      const ev = asm.push(r)
      if (ev.kind === 'message') answers.push(ev.message)
    } catch {
      // a partial answer interrupted by a new one is not this test's concern
    }
  })
  for (const r of reports) core.receive(r)
  core.unplug() // clears timers
  return answers.map((a) => ({ status: a[1] ?? 0 }))
}

describe('device core under hostile input', () => {
  it('random reports never throw out of the device, which only emits well-formed reports', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ minLength: 64, maxLength: 64 }), { maxLength: 30 }), (reports) => {
        const core = new DeviceCore({ mode: 'test', secretKey: SK, config: { keepaliveMs: 1000 } })
        const seen: Uint8Array[] = []
        core.connect((r) => seen.push(r))
        for (const r of reports) core.receive(r)
        core.unplug()
        // Whatever arrived, the device only ever emits well-formed answers and keepalives.
        for (const r of seen) {
          expect(r.length).toBe(64)
          expect([0x05, 0x06]).toContain(r[2])
        }
        expect(core.screen().state).toBe('unplugged')
      }),
      { numRuns: 300 },
    )
  })

  it('framed messages with random bodies: every answer is a decodable refusal or a no-approval command', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0x40 }),
        fc.uint8Array({ maxLength: 300 }),
        fc.integer({ min: 0, max: 0xffff }),
        (cmd, body, channel) => {
          const msg = Uint8Array.from([1, cmd, 0, 1, ...body])
          const answers = run(frameMessage(channel, msg, 64), channel)
          const name = commandName(cmd)
          for (const a of answers) {
            if (a.status === Status.OK) expect(['GET_INFO', 'PING', 'GET_PUBLIC_KEY']).toContain(name)
            else expect(Object.values(Status)).toContain(a.status)
          }
        },
      ),
      { numRuns: 500 },
    )
  })

  it('an OK answer to GET_PUBLIC_KEY without a press is only the silent form', () => {
    const core = new DeviceCore({ mode: 'test', secretKey: SK })
    const asm = new Assembler(9, 64)
    const got: Uint8Array[] = []
    core.connect((r) => {
      const ev = asm.push(r)
      if (ev.kind === 'message') got.push(ev.message)
    })
    // display=true: held for review, no answer until a button is pressed.
    for (const r of frameMessage(9, Uint8Array.from([1, 2, 0, 1, 0xa2, 0x01, 0x00, 0x02, 0xf5]), 64)) core.receive(r)
    expect(got).toHaveLength(0)
    expect(core.screen().state).toBe('reviewing')
    core.press('reject')
    expect(decodeResponse(got[0] as Uint8Array, 'GET_PUBLIC_KEY').status).toBe(Status.USER_REJECTED)
  })
})
