// Headless mode (`satmachine serve`): the token gate on every HTTP request and WebSocket upgrade, the CSP header,
// the injected bridge script, and the contract over the WebSocket bridge (same dispatcher, same envelopes as the
// Electron path). In-process via `startServe`, plus the built CLI as a child process for the printed URL and the
// graceful SIGTERM shutdown. Needs `out/renderer` (npm test builds first).
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { type ServeHandle, startServe } from '../../src-main/serve/server'
import { workerLedger } from '../../src-main/services'
import { BRIDGE_SCRIPT_PATH, CSP, METHOD_NAMES } from '../../src-shared/ipc/contract'

const root = resolve(import.meta.dirname, '../..')
let serve: ServeHandle
let dataDir: string

beforeAll(async () => {
  if (!existsSync(join(root, 'out/renderer/index.html')))
    throw new Error('out/renderer is missing: run npm run build (npm test builds first)')
  dataDir = mkdtempSync(join(tmpdir(), 'satmachine-serve-'))
  // The real ledger: the built worker (out/main/ledger-worker.js) on the temp data dir.
  const openLedger = workerLedger(pathToFileURL(join(root, 'out/main/ledger-worker.js')))
  serve = await startServe({ dataDir, port: 0, openLedger })
  await serve.services.ledgerReady
})

afterAll(async () => {
  await serve?.close()
  if (dataDir) rmSync(dataDir, { recursive: true, force: true })
})

const cookie = () => `satmachine_token_${serve.port}=${serve.token}`

/** Opens a bridge socket; resolves with the socket or rejects with the HTTP status of the refused upgrade. */
function openWs(headers: Record<string, string>, query = ''): Promise<WebSocket> {
  return new Promise((res, rej) => {
    const ws = new WebSocket(`ws://127.0.0.1:${serve.port}/__bridge${query}`, { headers })
    ws.once('open', () => res(ws))
    ws.once('unexpected-response', (_req, r) => rej(new Error(`status ${r.statusCode}`)))
    ws.once('error', rej)
  })
}

/** A tiny bridge client: call(method, args) → the Result envelope; events collected in order. */
function bridge(ws: WebSocket) {
  let seq = 0
  const pending = new Map<number, (r: unknown) => void>()
  const events: { event: string; payload: unknown }[] = []
  ws.on('message', (raw) => {
    const m = JSON.parse(String(raw))
    if (typeof m.event === 'string') events.push(m)
    else pending.get(m.id)?.(m)
  })
  return {
    events,
    // biome-ignore lint/suspicious/noExplicitAny: envelopes are checked by the assertions
    call(method: string, args: unknown[]): Promise<any> {
      const id = ++seq
      return new Promise((res) => {
        pending.set(id, (m) => res((m as { result: unknown }).result))
        ws.send(JSON.stringify({ id, method, args }))
      })
    },
    // biome-ignore lint/suspicious/noExplicitAny: raw frames for malformed-input tests
    raw(text: string): Promise<any> {
      return new Promise((res) => {
        pending.set(0, (m) => res(m))
        ws.send(text)
      })
    },
  }
}

describe('HTTP token gate', () => {
  it('refuses GET / without the token with 401 (and still sends the CSP)', async () => {
    const r = await fetch(`${serve.origin}/`)
    expect(r.status).toBe(401)
    expect(await r.text()).toContain('token required')
    expect(r.headers.get('content-security-policy')).toBe(CSP)
  })

  it('refuses a wrong token and an asset without the token', async () => {
    expect((await fetch(`${serve.origin}/?token=${'A'.repeat(43)}`, { redirect: 'manual' })).status).toBe(401)
    expect((await fetch(`${serve.origin}${BRIDGE_SCRIPT_PATH}`)).status).toBe(401)
    expect(
      (await fetch(`${serve.origin}/`, { headers: { cookie: `satmachine_token_${serve.port}=nope` } })).status,
    ).toBe(401)
  })

  it('moves a URL token into an HttpOnly SameSite=Strict cookie and redirects to the bare path', async () => {
    const r = await fetch(serve.url, { redirect: 'manual' })
    expect(r.status).toBe(303)
    expect(r.headers.get('location')).toBe('/')
    expect(r.headers.get('set-cookie')).toBe(`${cookie()}; HttpOnly; SameSite=Strict; Path=/`)
  })

  it('serves the page with the cookie: 200, strict CSP header, bridge script first in <head>', async () => {
    const r = await fetch(`${serve.origin}/`, { headers: { cookie: cookie() } })
    expect(r.status).toBe(200)
    expect(r.headers.get('content-security-policy')).toBe(CSP)
    expect(r.headers.get('x-frame-options')).toBe('DENY')
    const html = await r.text()
    expect(html).toMatch(/<head>\s*<script src="\/__bridge\/preload\.js"><\/script>/)
    expect(html).toContain('<div id="app">')
  })

  it('serves the bridge script, generated from the contract', async () => {
    const r = await fetch(`${serve.origin}${BRIDGE_SCRIPT_PATH}`, { headers: { 'x-satmachine-token': serve.token } })
    expect(r.status).toBe(200)
    expect(r.headers.get('content-type')).toBe('text/javascript; charset=utf-8')
    expect(await r.text()).toContain(JSON.stringify(METHOD_NAMES))
  })

  it('serves built assets and refuses paths outside the renderer folder', async () => {
    const html = await (await fetch(`${serve.origin}/`, { headers: { cookie: cookie() } })).text()
    const asset = /src="\.?\/(assets\/[^"]+\.js)"/.exec(html)?.[1]
    expect(asset).toBeTruthy()
    const a = await fetch(`${serve.origin}/${asset}`, { headers: { cookie: cookie() } })
    expect(a.status).toBe(200)
    expect(a.headers.get('content-type')).toBe('text/javascript; charset=utf-8')
    for (const p of ['/..%2f..%2fpackage.json', '/%2e%2e/%2e%2e/package.json', '/assets/..%5c..%5cpackage.json']) {
      const r = await fetch(`${serve.origin}${p}`, { headers: { cookie: cookie() } })
      expect(r.status, p).toBe(404)
    }
  })

  it('refuses a foreign Host header (DNS rebinding) with 421', async () => {
    const status = await new Promise<number>((res, rej) => {
      const req = request(
        { host: '127.0.0.1', port: serve.port, path: '/', headers: { host: 'evil.example', cookie: cookie() } },
        (r) => {
          r.resume()
          res(r.statusCode ?? 0)
        },
      )
      req.on('error', rej)
      req.end()
    })
    expect(status).toBe(421)
  })
})

describe('WebSocket bridge', () => {
  it('refuses an upgrade without the token (401)', async () => {
    await expect(openWs({})).rejects.toThrow('status 401')
    await expect(openWs({}, '?token=wrong')).rejects.toThrow('status 401')
  })

  it('refuses an upgrade from a foreign Origin even with the token (403)', async () => {
    await expect(openWs({ cookie: cookie(), origin: 'http://evil.example' })).rejects.toThrow('status 403')
  })

  it('implements the contract: ok, bad_args naming the field, unknown method, malformed frame, push event', async () => {
    const ws = await openWs({ cookie: cookie(), origin: serve.origin })
    try {
      const b = bridge(ws)
      expect(await b.call('ledger.status', [])).toMatchObject({ ok: true, value: { state: 'ready' } })
      const info = await b.call('app.info', [])
      expect(info).toMatchObject({ ok: true, value: { name: 'Satmachine Console', runtime: 'node', demo: false } })

      expect(await b.call('settings.set', [{ relays: ['https://not-a-relay'] }])).toEqual({
        ok: false,
        error: {
          code: 'bad_args',
          message: 'args[0].relays[0]: not a relay address: a relay address starts with ws:// or wss://, not https://',
          field: 'args[0].relays[0]',
        },
      })
      expect(await b.call('settings.set', ['not an object'])).toMatchObject({
        ok: false,
        error: { code: 'bad_args', field: 'args[0]' },
      })
      expect(await b.call('wallet.drain', [])).toEqual({
        ok: false,
        error: { code: 'not_found', message: 'unknown method: wallet.drain' },
      })
      expect(await b.call('__proto__', [])).toMatchObject({ ok: false, error: { code: 'not_found' } })
      expect(await b.raw('{not json')).toEqual({
        id: 0,
        result: { ok: false, error: { code: 'bad_args', message: 'malformed frame' } },
      })

      const saved = await b.call('settings.set', [{ relays: ['wss://relay.example.com'], operatorName: 'Bridge Op' }])
      expect(saved).toEqual({
        ok: true,
        value: { operatorName: 'Bridge Op', timeZone: 'UTC', relays: ['wss://relay.example.com'] },
      })
      expect(b.events).toContainEqual({ event: 'notice', payload: expect.objectContaining({ text: 'Settings saved' }) })
      expect(JSON.parse(readFileSync(join(dataDir, 'settings.json'), 'utf8'))).toEqual(saved.value)

      const logs = await b.call('log.recent', [{ minLevel: 'warn', limit: 50 }])
      const fields = logs.value.map((e: { fields: { field?: string } }) => e.fields.field).filter(Boolean)
      expect(fields).toContain('args[0].relays[0]')
    } finally {
      ws.close()
    }
  })
})

describe('satmachine serve (built CLI)', () => {
  let child: ChildProcess | undefined
  afterAll(() => {
    if (child && child.exitCode === null) child.kill('SIGKILL')
  })

  it('prints the URL, serves with the token, and shuts down cleanly on SIGTERM', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'satmachine-cli-'))
    try {
      child = spawn(process.execPath, ['bin/satmachine.mjs', 'serve', '--port', '0', '--data-dir', dir], {
        cwd: root,
        stdio: ['ignore', 'pipe', 'pipe'],
      })
      let out = ''
      let err = ''
      child.stderr?.on('data', (d) => {
        err += d
      })
      const line = await new Promise<string>((res, rej) => {
        child?.stdout?.on('data', (d) => {
          out += d
          const m = /Satmachine Console \(headless\) at (http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]{43})\n/.exec(
            out,
          )
          if (m?.[1]) res(m[1])
        })
        child?.once('exit', (code) => rej(new Error(`serve exited early (${code}): ${err}`)))
      })
      const url = new URL(line)
      expect((await fetch(`${url.origin}/`)).status).toBe(401)
      expect((await fetch(line, { redirect: 'manual' })).status).toBe(303)
      expect(
        (await fetch(`${url.origin}/`, { headers: { 'x-satmachine-token': url.searchParams.get('token') ?? '' } }))
          .status,
      ).toBe(200)
      const exited = new Promise<number | null>((res) => child?.once('exit', (code) => res(code)))
      child.kill('SIGTERM')
      expect(await exited).toBe(0)
      expect(err).toContain('shutting down signal=SIGTERM')
      expect(err).toContain('ledger open')
      expect(err).toContain('services closed')
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('satmachine start falls back to headless mode with one line when the Electron binary is absent', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'satmachine-start-'))
    const proc = spawn(process.execPath, ['bin/satmachine.mjs', 'start', '--port', '0', '--data-dir', dir], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
      // A path that does not exist makes the fallback deterministic even where Electron is installed.
      env: { ...process.env, ELECTRON_EXEC_PATH: join(dir, 'no-electron-here') },
    })
    try {
      let out = ''
      await new Promise<void>((res, rej) => {
        proc.stdout?.on('data', (d) => {
          out += d
          if (out.includes('?token=')) res()
        })
        proc.once('exit', (code) => rej(new Error(`start exited early (${code})`)))
      })
      const lines = out.trim().split('\n')
      expect(lines[0]).toBe(
        'The Electron binary is not installed (node_modules/electron/dist); starting headless mode instead.',
      )
      expect(lines[1]).toMatch(/^Satmachine Console \(headless\) at http:\/\/127\.0\.0\.1:\d+\/\?token=/)
      const exited = new Promise<number | null>((res) => proc.once('exit', (code) => res(code)))
      proc.kill('SIGINT')
      expect(await exited).toBe(0)
    } finally {
      if (proc.exitCode === null) proc.kill('SIGKILL')
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('bin/satmachine.mjs says to build first when out/main/cli.js is missing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'satmachine-bin-'))
    try {
      mkdirSync(join(dir, 'bin'))
      copyFileSync(join(root, 'bin/satmachine.mjs'), join(dir, 'bin/satmachine.mjs'))
      const r = spawnSync(process.execPath, [join(dir, 'bin/satmachine.mjs'), 'serve'], { encoding: 'utf8' })
      expect(r.status).toBe(1)
      expect(r.stderr.trim()).toBe('satmachine: out/main/cli.js is missing; run npm run build first')
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
