// Direct NWC transport against the real relay (in-process variant of test/support/relay.ts): OK handling,
// explicit versus silent failures, EOSE readiness, live delivery, and re-subscribing after a relay restart.
import { finalizeEvent, generateSecretKey } from 'nostr-tools/pure'
import { afterEach, describe, expect, it } from 'vitest'
import { type RelayHandle, startRelayInProcess } from '../../test/support/relay'
import { createDirectTransport, type NwcTransport } from './nwc-transport'

const sk = generateSecretKey()
let n = 0
const ev = (kind: number, content = `x${++n}`) =>
  finalizeEvent({ kind, created_at: Math.floor(Date.now() / 1000), tags: [['t', 'nwc-test']], content }, sk)

const cleanup: Array<() => unknown> = []
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f()
})

async function relayUp(): Promise<RelayHandle> {
  const r = await startRelayInProcess()
  cleanup.push(() => r.stop())
  return r
}

function transport(urls: string[], opts = {}): NwcTransport {
  const t = createDirectTransport(urls, opts)
  cleanup.push(() => t.close())
  return t
}

describe('direct NWC transport', () => {
  it('publishes, and reports an explicit refusal separately from a dead relay', async () => {
    const live = await relayUp()
    const dead = await relayUp()
    await dead.stop()
    const t = transport([live.url, dead.url], { publishTimeoutMs: 2_000 })
    const ok = await t.publish(ev(1))
    expect(ok.accepted).toEqual([live.url])
    const forged = { ...ev(1), sig: '00'.repeat(64) }
    const bad = await t.publish(forged)
    expect(bad.accepted).toEqual([])
    const byRelay = Object.fromEntries(bad.rejected.map((r) => [r.relay, r]))
    expect(byRelay[live.url]?.explicit).toBe(true)
    expect(byRelay[live.url]?.reason).toMatch(/^invalid:/)
    expect(byRelay[dead.url]?.explicit).toBe(false)
    expect(byRelay[dead.url]?.reason).toMatch(/connection failed/)
  })

  it('subscribe: stored events, then ready at EOSE, then live events', async () => {
    const r = await relayUp()
    const t = transport([r.url])
    const stored = ev(1, 'stored')
    await t.publish(stored)
    const got: string[] = []
    const sub = t.subscribe({ kinds: [1, 23194], authors: [stored.pubkey] }, (e) => got.push(e.content))
    await sub.ready
    expect(got).toEqual(['stored'])
    await t.publish(ev(23194, 'live'))
    await expect.poll(() => got).toEqual(['stored', 'live'])
    sub.close()
    await t.publish(ev(23194, 'after close'))
    await t.publish(ev(1, 'sync')) // an OK for a later event proves the earlier one was handled
    expect(got).toEqual(['stored', 'live'])
  })

  it('ready resolves even when every relay is down, so callers never hang', async () => {
    const r = await relayUp()
    await r.stop()
    // The EOSE timeout is far beyond the test's patience, so only "every relay failed" can resolve `ready`.
    const t = transport([r.url], { eoseTimeoutMs: 3_600_000 })
    const got: string[] = []
    const sub = t.subscribe({ kinds: [1] }, (e) => got.push(e.content))
    let timer: ReturnType<typeof setTimeout> | undefined
    const outcome = await Promise.race([
      sub.ready.then(() => 'ready' as const),
      new Promise<'still waiting'>((res) => {
        timer = setTimeout(() => res('still waiting'), 30_000)
      }),
    ])
    clearTimeout(timer)
    expect(outcome).toBe('ready')
    expect(got).toEqual([])
    // And the relay is reported down, not silently accepted.
    const pub = await t.publish(ev(1))
    expect(pub.accepted).toEqual([])
    expect(pub.rejected).toEqual([
      { relay: r.url, reason: expect.stringMatching(/connection failed/), explicit: false },
    ])
    sub.close()
  })

  it('reconnects on next use after a relay restart and re-sends live subscriptions', async () => {
    const r = await relayUp()
    const t = transport([r.url])
    const got: string[] = []
    const sub = t.subscribe({ kinds: [23194], '#t': ['nwc-test'] } as never, (e) => got.push(e.content))
    await sub.ready
    await r.restart()
    // The old socket is gone (a publish racing its close fails, and the caller re-sends); the next publish
    // reconnects, re-sends the REQ and waits for its EOSE before the EVENT, so the event is not missed.
    const again = ev(23194, 'after restart')
    await expect.poll(async () => (await t.publish(again)).accepted).toEqual([r.url])
    await expect.poll(() => got).toEqual(['after restart'])
  })
})
