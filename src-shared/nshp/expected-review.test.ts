// The host-side expected review equals, page for page, what the emulated device shows for the same request, and
// predicts the device's refusals.
import { describe, expect, it } from 'vitest'
import { createSignerClient } from './client'
import { DeviceCore } from './device-core'
import { expectedReview, type ReviewRequest } from './expected-review'
import type { ReportTransport, ReviewScreen } from './types'

const SK = new Uint8Array(32).fill(12)
const PEER = 'c6047f9441ed7d6d3045406e95c07cd85c778e4b8cef3ca7abac09b95c709ee5'

function wire(core: DeviceCore): ReportTransport {
  const ls = new Set<(r: Uint8Array) => void>()
  core.connect((r) =>
    queueMicrotask(() => {
      for (const l of ls) l(r)
    }),
  )
  return {
    kind: 'emulator-inproc',
    reportBytes: core.reportBytes,
    closed: false,
    send: async (r) => core.receive(r),
    onReport: (l) => {
      ls.add(l)
      return () => ls.delete(l)
    },
    onClose: () => () => undefined,
    close: async () => undefined,
  }
}

describe('expectedReview', () => {
  const core = new DeviceCore({ mode: 'test', secretKey: SK })
  const client = createSignerClient({ transport: wire(core), pinnedPubkey: core.pubkey })
  const shown = async (call: () => Promise<unknown>): Promise<ReviewScreen> => {
    const p = call()
    const snap = await core.waitFor('reviewing')
    core.press('reject')
    await p.catch(() => undefined)
    const { page: _page, ...review } = snap.review as ReviewScreen & { page: number }
    return review
  }
  const template = {
    created_at: 1_767_225_600,
    kind: 30078,
    tags: [['d', 'satmachine:machine:x']],
    content: 'x'.repeat(500),
  }
  const cases: [ReviewRequest, () => Promise<unknown>][] = [
    [{ command: 'GET_PUBLIC_KEY' }, () => client.getPublicKey({ display: true })],
    [
      { command: 'SIGN_EVENT', template, clientLabel: 'Amethyst' },
      () => client.signEvent(template, { clientLabel: 'Amethyst' }),
    ],
    [
      { command: 'SIGN_DELEGATION', delegateePubkey: PEER, conditions: 'kind=30079&created_at>100&created_at<200' },
      () => client.signDelegation({ delegateePubkey: PEER, conditions: 'kind=30079&created_at>100&created_at<200' }),
    ],
    [{ command: 'NIP44_ENCRYPT', peerPubkey: PEER, plaintext: 'hello' }, () => client.nip44Encrypt(PEER, 'hello')],
  ]
  it.each(cases.map(([r, c]) => [r.command, r, c] as const))(
    '%s: the same pages and compare code as the device',
    async (_n, req, call) => {
      const expected = expectedReview(req, core.pubkey)
      expect(expected.ok).toBe(true)
      if (expected.ok) expect(await shown(call)).toEqual(expected.review)
    },
  )

  it('predicts the refusals the device answers without showing anything', () => {
    expect(
      expectedReview({ command: 'SIGN_EVENT', template: { ...template, content: 'a\u0000' } }, core.pubkey),
    ).toMatchObject({
      ok: false,
      status: 'bad-request',
    })
    expect(
      expectedReview(
        { command: 'SIGN_DELEGATION', delegateePubkey: PEER, conditions: 'kind=1&created_at>0&created_at<99999999' },
        core.pubkey,
      ),
    ).toMatchObject({ ok: false, status: 'policy-denied' })
  })
})
