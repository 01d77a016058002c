// Smoke test of the BUILT Electron bundles under plain Node (README.md "Toolchain pins and why"): the main
// bundle and the sandboxed preload are loaded with `electron` mapped to test/electron-stub, and the contract is
// exercised end to end through preload → ipcMain handler → dispatcher → services. This catches bundling mistakes
// `electron-vite build` reports as success (a duplicate top-level `require`, a preload needing more than
// `electron`, a missing handler) without the Electron binary. Needs `out/` (npm test builds first).
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CSP, METHOD_NAMES } from '../../src-shared/ipc/contract'

const root = resolve(import.meta.dirname, '../..')
const bundles = ['out/main/index.js', 'out/main/cli.js', 'out/preload/index.cjs']
// biome-ignore lint/suspicious/noExplicitAny: the report is untyped JSON from the child process
let report: any
let dataDir: string

beforeAll(() => {
  for (const b of bundles)
    if (!existsSync(join(root, b))) throw new Error(`${b} is missing: run npm run build (npm test builds first)`)
  dataDir = mkdtempSync(join(tmpdir(), 'satmachine-smoke-'))
  const r = spawnSync(
    process.execPath,
    ['--import', './test/electron-stub/register.mjs', 'test/smoke/main-bundle.script.mjs', root],
    { cwd: root, encoding: 'utf8', env: { ...process.env, STUB_USER_DATA: dataDir }, timeout: 60_000 },
  )
  const line = r.stdout.split('\n').find((l) => l.startsWith('REPORT '))
  if (r.status !== 0 || !line) throw new Error(`smoke script failed (exit ${r.status}):\n${r.stderr}\n${r.stdout}`)
  report = JSON.parse(line.slice('REPORT '.length))
})

afterAll(() => {
  if (dataDir) rmSync(dataDir, { recursive: true, force: true })
})

describe('built bundles', () => {
  it.each(bundles)('%s passes node --check', (b) => {
    const r = spawnSync(process.execPath, ['--check', join(root, b)], { encoding: 'utf8' })
    expect(r.stderr).toBe('')
    expect(r.status).toBe(0)
  })
})

describe('main bundle + preload under the electron stub', () => {
  it('registers exactly one ipcMain handler per contract method', () => {
    expect([...report.channels].sort()).toEqual(METHOD_NAMES.map((m) => `satmachine:${m}`).sort())
  })

  it('the preload exposes exactly the method list plus on, frozen, and requires only electron', () => {
    expect(report.exposedKeys).toEqual(['api'])
    expect([...report.apiKeys].sort()).toEqual([...METHOD_NAMES, 'on'].sort())
    expect(report.apiFrozen).toBe(true)
    expect([...new Set(report.required)]).toEqual(['electron'])
    expect(report.onUnknown).toBe('unknown event: not-an-event')
  })

  it('loads the built renderer with the built CommonJS preload', () => {
    expect(report.preloadPath).toBe(join(root, 'out/preload/index.cjs'))
    expect(report.loaded).toEqual({ file: join(root, 'out/renderer/index.html') })
    expect(report.windowCount).toBe(1)
  })

  it('creates the window with the secure webPreferences and enables the sandbox app-wide', () => {
    expect(report.webPreferences).toMatchObject({
      sandbox: true,
      contextIsolation: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
    })
    expect(report.sandboxEnabled).toBe(true)
  })

  it('round-trips calls through preload → handler → services', () => {
    expect(report.appInfo.ok).toBe(true)
    expect(report.appInfo.value).toMatchObject({ name: 'Satmachine Console', runtime: 'electron', demo: false })
    expect(report.settingsSet).toEqual({
      ok: true,
      value: { operatorName: 'Smoke Test Op', timeZone: 'Europe/Berlin', relays: [] },
    })
    expect(report.settingsGet).toEqual(report.settingsSet)
  })

  it('opens the ledger in its worker, reports it ready, and pushes its closing on quit', () => {
    expect(report.ledger).toMatchObject({ ok: true, value: { state: 'ready' } })
    expect(report.ledgerEvents.at(-1)).toBe('closed')
  })

  it('delivers push events to the preload on() listener', () => {
    expect(report.events).toHaveLength(1)
    expect(report.events[0]).toMatchObject({ level: 'info', text: 'Settings saved' })
  })

  it('answers bad arguments with bad_args naming the field, and logs the reason', () => {
    expect(report.badArgs).toEqual({
      ok: false,
      error: {
        code: 'bad_args',
        message: 'args[0].operatorName: expected string 1–100 chars',
        field: 'args[0].operatorName',
      },
    })
    expect(report.badTimeZone.error).toMatchObject({ code: 'bad_args', field: 'args[0].timeZone' })
    expect(report.extraField.error).toMatchObject({ code: 'bad_args', field: 'args[0].admin' })
    expect(report.tooManyArgs.error).toMatchObject({ code: 'bad_args', field: 'args' })
    const reasons = report.logRecent.value.map((e: { fields: { field: string } }) => e.fields.field)
    expect(reasons).toEqual(['args[0].operatorName', 'args[0].timeZone', 'args[0].admin', 'args'])
  })

  it.each(['otherOrigin', 'subframe', 'otherFile', 'aboutBlank', 'noFrame'])('refuses a call from %s', (name) => {
    expect(report.wrongSender[name]).toEqual({
      ok: false,
      error: { code: 'forbidden', message: 'this page may not call the console API' },
    })
  })

  it('denies permissions, navigation and window.open, and sets the CSP header', () => {
    expect(report.permissionRequestGranted).toBe(false)
    expect(report.permissionCheck).toBe(false)
    expect(report.navigationPrevented).toBe(true)
    expect(report.windowOpen).toEqual({ action: 'deny' })
    expect(report.cspHeader).toEqual([CSP])
  })
})
