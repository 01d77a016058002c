// SignerClient details: signing needs a pinned key; concurrent calls are serialised (one request per channel, the
// device never sees a second one and never answers BUSY); the Signer view plugs into the services' checked
// helpers; the pin is validated.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { signDelegationChecked, signEventChecked } from '../signer'
import { createSignerClient } from './client'
import { DeviceCore } from './device-core'
import type { ReportTransport } from './types'

const SK = new Uint8Array(32).fill(8)
const PEER = 'c6047f9441ed7d6d3045406e95c07cd85c778e4b8cef3ca7abac09b95c709ee5'

/** A minimal in-memory transport over a DeviceCore (the src-main one adds macrotask delivery). */
function wire(core: DeviceCore): ReportTransport {
  const listeners = new Set<(r: Uint8Array) => void>()
  core.connect((r) =>
    queueMicrotask(() => {
      for (const l of listeners) l(r)
    }),
  )
  return {
    kind: 'emulator-inproc',
    reportBytes: core.reportBytes,
    closed: false,
    send: async (r) => core.receive(r),
    onReport: (l) => {
      listeners.add(l)
      return () => listeners.delete(l)
    },
    onClose: () => () => undefined,
    close: async () => undefined,
  }
}

describe('SignerClient', () => {
  it('refuses to sign before a key is pinned, and validates the pin', async () => {
    const core = new DeviceCore({ mode: 'test', secretKey: SK })
    const client = createSignerClient({ transport: wire(core) })
    await expect(client.signEvent({ created_at: 1, kind: 1, tags: [], content: '' })).rejects.toMatchObject({
      code: 'not-pinned',
    })
    await expect(client.signDelegation({ delegateePubkey: PEER, conditions: 'kind=1' })).rejects.toMatchObject({
      code: 'not-pinned',
    })
    expect(() => client.pin('ABC')).toThrowError(/pinnedPubkey/)
    expect(core.screen().answered).toBe(0)
  })

  it('serialises concurrent requests: the second waits for the first, the device never answers BUSY', async () => {
    const core = new DeviceCore({ mode: 'test', secretKey: SK })
    const client = createSignerClient({ transport: wire(core), pinnedPubkey: core.pubkey })
    const a = client.signEvent({ created_at: 1, kind: 1, tags: [], content: 'first' })
    const b = client.signEvent({ created_at: 2, kind: 1, tags: [], content: 'second' })
    const first = await core.waitFor('reviewing')
    expect(first.review?.pages.find((p) => p.title === 'Content')?.lines.at(-1)?.value).toBe('first')
    expect(client.busy).toBe(true)
    core.press('approve')
    expect((await a).content).toBe('first')
    const second = await core.waitFor('reviewing')
    expect(second.review?.pages.find((p) => p.title === 'Content')?.lines.at(-1)?.value).toBe('second')
    core.press('approve')
    expect((await b).content).toBe('second')
    expect(core.screen().answered).toBe(2)
  })

  it("its Signer view passes the services' checked helpers", async () => {
    const core = new DeviceCore({ mode: 'test', secretKey: SK, config: { autoApprove: true } })
    const client = createSignerClient({ transport: wire(core), pinnedPubkey: core.pubkey })
    const signer = client.asSigner({ clientLabel: 'Satmachine tests' })
    expect(await signer.getPublicKey()).toBe(core.pubkey)
    const shown = core.waitFor('reviewing')
    const ev = await signEventChecked(
      signer,
      { created_at: 5, kind: 30078, tags: [['d', 'c']], content: 'ü' },
      core.pubkey,
    )
    expect(ev.pubkey).toBe(core.pubkey)
    expect((await shown).review?.pages[0]?.lines).toContainEqual({
      label: 'Requested by (per computer)',
      value: 'Satmachine tests',
    })
    const conditions = 'kind=30079&created_at>100&created_at<200'
    const token = await signDelegationChecked(signer, { delegateePubkey: PEER, conditions }, core.pubkey)
    expect(token).toMatch(/^[0-9a-f]{128}$/)
    const payload = await signer.nip44Encrypt(PEER, 'hi')
    expect(payload.startsWith('A')).toBe(true)
  })

  it("the device's own framer and the host's agree at every report size and length", async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 16, max: 128 }), fc.uint8Array({ maxLength: 1024 }), async (size, data) => {
        const core = new DeviceCore({ mode: 'test', secretKey: SK, reportBytes: size })
        const client = createSignerClient({ transport: wire(core) })
        expect(await client.ping(data)).toEqual(data)
      }),
      { numRuns: 60 },
    )
  })
})
