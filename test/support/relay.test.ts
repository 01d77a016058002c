// Proves the relay fixture behaves like a real NIP-01 relay (stored + live delivery, tag filters, addressable
// replacement, NIP-40 hiding), does NIP-42 when asked, and keeps its events across SIGKILL + restart on one port.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { makeAuthEvent } from 'nostr-tools/nip42'
import { finalizeEvent, generateSecretKey, getPublicKey } from 'nostr-tools/pure'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { connectRaw, type RawRelayClient } from './raw-client'
import { type RelayHandle, startRelay, startRelayInProcess } from './relay'

const now = () => Math.floor(Date.now() / 1000)
const sk = generateSecretKey()
const pk = getPublicKey(sk)
const other = getPublicKey(generateSecretKey())
const sign = (kind: number, tags: string[][], content = '', createdAt = now()) =>
  finalizeEvent({ kind, tags, content, created_at: createdAt }, sk)

const dir = mkdtempSync(join(tmpdir(), 'relay-fixture-'))
const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

async function relay(opts: Parameters<typeof startRelay>[0] = {}): Promise<RelayHandle> {
  const r = await startRelay(opts)
  cleanups.push(() => r.stop())
  return r
}
async function client(url: string): Promise<RawRelayClient> {
  const c = await connectRaw(url)
  cleanups.push(() => c.close())
  return c
}

describe('relay fixture (child process)', () => {
  it('stores and serves events, delivers live events after EOSE, honours #p/#e tag filters', async () => {
    const r = await relay()
    expect(r.url).toBe(`ws://127.0.0.1:${r.port}`)
    expect(r.pid).not.toBe(process.pid)
    const a = await client(r.url)
    const b = await client(r.url)

    const toUs = sign(1, [['p', pk]], 'to us')
    const toOther = sign(1, [['p', other]], 'to other')
    expect(await a.publish(toUs)).toEqual([true, ''])
    expect(await a.publish(toOther)).toEqual([true, ''])
    const stored = await b.query('s1', { kinds: [1], '#p': [pk] })
    expect(stored.map((e) => e.id)).toEqual([toUs.id])

    // Live: only the event matching the tag filter arrives (the library alone would forward both).
    await b.query('live', { kinds: [1], '#e': [toUs.id] })
    const replyOther = sign(1, [['e', toOther.id]], 'reply to other')
    const replyUs = sign(1, [['e', toUs.id]], 'reply to us')
    await a.publish(replyOther)
    await a.publish(replyUs)
    const got = await b.next((f) => f[0] === 'EVENT' && f[1] === 'live')
    expect((got[2] as { id: string }).id).toBe(replyUs.id)
    expect(b.frames.filter((f) => f[0] === 'EVENT' && f[1] === 'live')).toHaveLength(1)
  })

  it('applies since/until/limit, newest first', async () => {
    const r = await relay()
    const a = await client(r.url)
    const t0 = now() - 100
    const evs = [0, 10, 20, 30].map((d) => sign(1, [], `at ${d}`, t0 + d))
    for (const e of evs) await a.publish(e)
    const win = await a.query('w', { authors: [pk], since: t0 + 10, until: t0 + 20 })
    expect(win.map((e) => e.content)).toEqual(['at 20', 'at 10'])
    const lim = await a.query('l', { authors: [pk], limit: 2 })
    expect(lim.map((e) => e.content)).toEqual(['at 30', 'at 20'])
  })

  it('keeps only the newest addressable event per (kind, pubkey, d)', async () => {
    const r = await relay()
    const a = await client(r.url)
    const v1 = sign(30078, [['d', 'cfg']], 'v1', now() - 10)
    const v2 = sign(30078, [['d', 'cfg']], 'v2', now() - 5)
    const otherD = sign(30078, [['d', 'other']], 'other', now() - 20)
    await a.publish(v1)
    await a.publish(v2)
    await a.publish(otherD)
    // An older version published late is acknowledged as a duplicate and not stored.
    const [ok, msg] = await a.publish(sign(30078, [['d', 'cfg']], 'v0', now() - 60))
    expect(ok).toBe(true)
    expect(msg).toMatch(/^duplicate:/)
    const cfg = await a.query('d', { kinds: [30078], authors: [pk], '#d': ['cfg'] })
    expect(cfg.map((e) => e.content)).toEqual(['v2'])
    expect(await a.query('all', { kinds: [30078], authors: [pk] })).toHaveLength(2)
  })

  it('refuses forged events and hides expired ones (NIP-40)', async () => {
    const r = await relay()
    const a = await client(r.url)
    const good = sign(1, [], 'original')
    const badSig = { ...good, sig: sign(1, [], 'other').sig }
    const [ok1, msg1] = await a.publish(badSig)
    expect(ok1).toBe(false)
    expect(msg1).toMatch(/^invalid:/)
    const badId = { ...good, content: 'tampered' }
    expect((await a.publish(badId))[1]).toMatch(/^invalid: id/)
    const malformed = { ...good, pubkey: 'zz' }
    const [ok3, msg3] = await a.publish(malformed)
    expect(ok3).toBe(false)
    expect(msg3).toMatch(/^invalid/)

    const past = sign(1, [['expiration', String(now() - 1)]], 'already expired')
    expect((await a.publish(past))[0]).toBe(false)
    // Three seconds of life: enough to be served once even on a loaded machine, short enough to wait out.
    const soon = sign(1, [['expiration', String(now() + 3)]], 'expires soon')
    expect((await a.publish(soon))[0]).toBe(true)
    expect((await a.query('x1', { ids: [soon.id] })).length).toBe(1)
    // Poll (not sleep) until the expiry has passed, then the relay must no longer serve it.
    const deadline = Date.now() + 8000
    while (now() <= Number(soon.tags[0]?.[1]) && Date.now() < deadline) await a.query('tick', { limit: 0 })
    expect(await a.query('x2', { ids: [soon.id] })).toEqual([])
  })

  it('NIP-42: refuses REQ and EVENT with auth-required until a valid kind 22242 arrives', async () => {
    const r = await relay({ requireAuth: true })
    const a = await client(r.url)
    const challenge = (await a.next((f) => f[0] === 'AUTH'))[1] as string
    expect(challenge).toMatch(/\S/)
    await expect(a.query('q', { kinds: [1] })).rejects.toThrow(/^auth-required:/)
    const ev = sign(1, [], 'hello')
    expect(await a.publish(ev)).toEqual([false, expect.stringMatching(/^auth-required:/)])

    // A wrong challenge is refused; the right one is accepted.
    const wrong = finalizeEvent(makeAuthEvent(r.url, 'not-the-challenge'), sk)
    a.send(['AUTH', wrong])
    const wrongOk = await a.next((f) => f[0] === 'OK' && f[1] === wrong.id)
    expect(wrongOk[2]).toBe(false)
    const auth = finalizeEvent(makeAuthEvent(r.url, challenge), sk)
    a.send(['AUTH', auth])
    const authOk = await a.next((f) => f[0] === 'OK' && f[1] === auth.id)
    expect(authOk[2]).toBe(true)
    expect((await a.publish(ev))[0]).toBe(true)
    expect((await a.query('q2', { ids: [ev.id] })).map((e) => e.id)).toEqual([ev.id])
  })

  it('SIGKILL + restart on the same port keeps acknowledged events (persist file)', async () => {
    const file = join(dir, 'kill-restart.jsonl')
    const r = await relay({ persistFile: file })
    const firstPid = r.pid
    const port = r.port
    const a = await connectRaw(r.url)
    const evs = Array.from({ length: 5 }, (_, i) => sign(1, [['t', 'atm']], `n${i}`, now() - 10 + i))
    for (const e of evs) expect((await a.publish(e))[0]).toBe(true)
    const cfg1 = sign(30078, [['d', 'k']], 'c1', now() - 30)
    const cfg2 = sign(30078, [['d', 'k']], 'c2', now() - 20)
    await a.publish(cfg1)
    await a.publish(cfg2)

    await r.kill()
    expect(r.running).toBe(false)
    await r.restart()
    expect(r.port).toBe(port)
    expect(r.pid).not.toBe(firstPid)
    const b = await client(r.url)
    const back = await b.query('back', { kinds: [1], '#t': ['atm'] })
    expect(back.map((e) => e.id).sort()).toEqual(evs.map((e) => e.id).sort())
    expect((await b.query('cfg', { kinds: [30078], '#d': ['k'] })).map((e) => e.content)).toEqual(['c2'])
    expect(await r.storedCount()).toBe(6)
    await a.close()
  })

  it('dropClients cuts connections while the relay keeps running', async () => {
    const r = await relay()
    const a = await connectRaw(r.url)
    await r.dropClients()
    const b = await client(r.url)
    expect(await b.query('q', { limit: 0 })).toEqual([])
    await expect(a.publish(sign(1, [], 'x'), 300)).rejects.toThrow(/no matching frame/)
    await a.close()
  })
})

describe('relay fixture (in process)', () => {
  it('serves the same protocol and restarts on the same port with persisted events', async () => {
    const file = join(dir, 'in-process.jsonl')
    const r = await startRelayInProcess({ persistFile: file })
    cleanups.push(() => r.stop())
    const a = await connectRaw(r.url)
    const ev = sign(1, [['p', pk]], 'in process')
    expect((await a.publish(ev))[0]).toBe(true)
    const port = r.port
    await r.kill()
    await r.restart()
    expect(r.port).toBe(port)
    const b = await client(r.url)
    expect((await b.query('q', { '#p': [pk] })).map((e) => e.id)).toEqual([ev.id])
    await a.close()
  })
})
