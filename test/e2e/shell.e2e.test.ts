// End-to-end test of the app shell in real Chromium against the real headless mode (docs/architecture.md §2, §8): the BUILT app
// (`out/main/cli.js` behind `bin/satmachine.mjs`, `out/renderer`) is started as `satmachine serve` on 127.0.0.1
// with a fresh data directory, and the page is driven through the same `window.api` contract the Electron preload
// implements. Nothing is mocked: the ledger status, relay status and settings come from the real services.
//
// Every test fails on any console error, uncaught page error or failed request (a CSP violation is a console
// error), and the navigation test saves one screenshot per view to test-results/.
//
// Needs `npm run build` first (`npm test` does it) and /usr/bin/chromium (CI installs it; skipped otherwise).
import { existsSync, readFileSync } from 'node:fs'
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import type { Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { CSP } from '../../src-shared/ipc/contract'
import type { WindowApi } from '../../src-shared/ipc/renderer-api'
import { type ChromiumSession, chromiumMissingReason, formatProblems, launchChromium } from '../support/chromium'
import { type ServedProcess, startServeProcess } from '../support/serve-process'

/** Inside `page.evaluate`: the page's global, where the bridge defined `api`. */
type PageGlobal = { api?: WindowApi }

const ROOT = resolve(import.meta.dirname, '../..')
const BIN = join(ROOT, 'bin', 'satmachine.mjs')
const RESULTS = join(ROOT, 'test-results')
const PKG = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }

const VIEWS = [
  // `empty`: what the view shows on a console with nothing booked or paired yet (null: the view has no empty state).
  { id: 'dashboard', label: 'Dashboard', empty: null },
  { id: 'fleet', label: 'Fleet', empty: 'empty-fleet' },
  { id: 'lps', label: 'Liquidity providers', empty: 'empty-lps' },
  { id: 'settlements', label: 'Settlements', empty: 'settlements-empty' },
  { id: 'audit', label: 'Audit', empty: 'audit-periods' },
  { id: 'signer', label: 'Signer', empty: 'empty-signer' },
  { id: 'settings', label: 'Settings', empty: null },
] as const

// ---------------------------------------------------------------------------------------------------------------
// Headless server: `node bin/satmachine.mjs serve --port 0 --data-dir DIR`, URL parsed from its stdout.

type Served = ServedProcess
const startServe = startServeProcess

// ---------------------------------------------------------------------------------------------------------------

const missing = chromiumMissingReason()
if (missing) console.warn(`[shell.e2e] skipped: ${missing}`)

describe.skipIf(missing !== null)('app shell in Chromium over headless mode', () => {
  let dataDir: string
  let served: Served
  let chrome: ChromiumSession
  let page: Page

  beforeAll(async () => {
    for (const f of [BIN, join(ROOT, 'out', 'renderer', 'index.html')])
      if (!existsSync(f)) throw new Error(`${f} is missing: run \`npm run build\` first`)
    await mkdir(RESULTS, { recursive: true })
    dataDir = await mkdtemp(join(tmpdir(), 'satmachine-e2e-shell-'))
    served = await startServe(dataDir)
    chrome = await launchChromium({ viewport: { width: 1280, height: 800 } })
    page = chrome.page
  })

  afterAll(async () => {
    await chrome?.close()
    await served?.stop()
    if (dataDir) await rm(dataDir, { recursive: true, force: true })
  })

  afterEach(() => {
    // Any console error, page error or failed request in any test fails that test, with the details.
    const problems = chrome?.problems.splice(0) ?? []
    expect(problems, formatProblems(problems)).toEqual([])
  })

  /** Opens the app with the token and waits for the shell. */
  async function openApp(hash = ''): Promise<void> {
    await page.goto(served.url + hash)
    await page.getByTestId('app-shell').waitFor()
  }

  it('renders the shell: navigation, status bar from the real services, no banner in production', async () => {
    const res = await page.goto(served.url)
    expect(res?.status()).toBe(200)
    await page.getByTestId('app-shell').waitFor()

    // The page's own CSP (meta, which also applies under Electron's file://) is the contract's policy minus
    // frame-ancestors, which a meta tag cannot carry; the server sends the full policy as a header.
    expect(res?.headers()['content-security-policy']).toBe(CSP)
    const meta = await page.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute('content')
    const directives = (p: string) =>
      p
        .split(';')
        .map((d) => d.trim())
        .filter((d) => d !== '')
    expect(directives(meta ?? '')).toEqual(directives(CSP).filter((d) => !d.startsWith('frame-ancestors')))

    const nav = page.getByRole('navigation', { name: 'Main' }).getByRole('button')
    expect(await nav.allTextContents()).toEqual(VIEWS.map((v) => v.label))
    // A console that is not set up opens on the first-run wizard, which is not a side-navigation entry.
    await page.getByTestId('view-welcome').waitFor()
    expect(await page.getByTestId('nav-dashboard').getAttribute('aria-current')).toBeNull()

    // The ledger state shown is the one the main side reports (asked here through the same bridge).
    const reported = await page.evaluate(async () => {
      const r = await (globalThis as unknown as PageGlobal).api?.['ledger.status']()
      return r?.ok ? r.value : null
    })
    expect(reported).not.toBeNull()
    expect(['opening', 'ready', 'snapshotting', 'failed', 'closed']).toContain(reported?.state)
    await expect.poll(() => page.getByTestId('ledger-state').textContent()).toBe(reported?.state)

    // Relays: a fresh data directory has none configured; the summary and tooltip say so.
    await expect.poll(() => page.getByTestId('relay-summary').textContent()).toMatch(/^0 \/ 0 connected$/)
    await page.getByTestId('relay-trigger').focus()
    await page.getByTestId('relay-tooltip').waitFor({ state: 'visible' })
    expect(await page.getByTestId('relay-tooltip').textContent()).toContain('No relays configured')

    expect(await page.getByTestId('app-version').textContent()).toContain(PKG.version)
    expect(await page.getByTestId('app-version').textContent()).toContain('headless')
    expect(await page.getByTestId('banner').count()).toBe(0)
  })

  it('navigates to every view, keeps it in the URL, and shows its empty state', async () => {
    await openApp()
    for (const v of VIEWS) {
      await page.getByTestId(`nav-${v.id}`).click()
      await page.getByTestId(`view-${v.id}`).waitFor()
      expect(await page.getByTestId('view-title').first().textContent()).toBe(
        v.id === 'dashboard' ? 'Welcome, Operator' : v.label,
      )
      expect(await page.getByTestId(`nav-${v.id}`).getAttribute('aria-current')).toBe('page')
      expect(new URL(page.url()).hash).toBe(`#/${v.id}`)
      expect(await page.title()).toBe(`${v.label} — Satmachine Console`)
      if (v.empty) await page.getByTestId(v.empty).waitFor()
      await page.screenshot({ path: join(RESULTS, `shell-${v.id}.png`) })
    }
    // A reload lands on the same view; back goes to the previous one.
    await page.reload()
    await page.getByTestId('view-settings').waitFor()
    await page.goBack()
    await page.getByTestId('view-signer').waitFor()
  })

  it('saves settings through settings.set and shows them again after a reload', async () => {
    await openApp('#/settings')
    const name = page.getByTestId('settings-operator-name')
    await expect.poll(() => name.inputValue()).toBe('Operator') // DEFAULT_SETTINGS from the contract
    expect(await page.getByTestId('settings-save').isDisabled()).toBe(true)

    await name.fill('Lisbon Kiosk Ops')
    await page.getByTestId('settings-time-zone').selectOption('Europe/Lisbon')
    await page.getByTestId('settings-relay-add').click()
    await page.getByTestId('settings-relay-0').fill('wss://relay.example.org')
    await page.getByTestId('settings-save').click()

    await expect.poll(() => page.getByTestId('notice').allTextContents()).toContain('Settings saved.')
    expect(await page.getByTestId('settings-save').isDisabled()).toBe(true)
    expect(await page.getByTestId('sidebar-operator-name').textContent()).toBe('Lisbon Kiosk Ops')

    await page.reload()
    await page.getByTestId('view-settings').waitFor()
    await expect.poll(() => page.getByTestId('settings-operator-name').inputValue()).toBe('Lisbon Kiosk Ops')
    expect(await page.getByTestId('settings-time-zone').inputValue()).toBe('Europe/Lisbon')
    expect(await page.getByTestId('settings-relay-0').inputValue()).toBe('wss://relay.example.org')

    // The main side wrote it to the data directory, not just to memory.
    const onDisk = JSON.parse(await readFile(join(dataDir, 'settings.json'), 'utf8')) as Record<string, unknown>
    expect(onDisk).toEqual({
      operatorName: 'Lisbon Kiosk Ops',
      timeZone: 'Europe/Lisbon',
      relays: ['wss://relay.example.org'],
    })

    // The dashboard greets by the new name.
    await page.getByTestId('nav-dashboard').click()
    expect(await page.getByTestId('view-title').textContent()).toBe('Welcome, Lisbon Kiosk Ops')
  })

  it('shows the main side’s validation error under the bad relay and keeps what was typed', async () => {
    await openApp('#/settings')
    await expect.poll(() => page.getByTestId('settings-relay-0').inputValue()).toBe('wss://relay.example.org')

    await page.getByTestId('settings-relay-add').click()
    await page.getByTestId('settings-relay-1').fill('https://relay.example.org')
    await page.getByTestId('settings-save').click()

    const err = page.getByTestId('error-relay-1')
    await err.waitFor()
    expect(await err.textContent()).toMatch(/ws:\/\/ or wss:\/\//)
    await page.screenshot({ path: join(RESULTS, 'shell-settings-relay-error.png') })
    expect(await page.getByTestId('settings-relay-1').getAttribute('aria-invalid')).toBe('true')
    expect(await page.getByTestId('settings-relay-0').getAttribute('aria-invalid')).toBe('false')
    expect(await page.getByTestId('error-summary').textContent()).toContain('Not saved')
    // Nothing typed is lost.
    expect(await page.getByTestId('settings-relay-1').inputValue()).toBe('https://relay.example.org')

    // Nothing was stored either: a fresh read has the previous relays only.
    const stored = await page.evaluate(async () => {
      const r = await (globalThis as unknown as PageGlobal).api?.['settings.get']()
      return r?.ok ? r.value.relays : null
    })
    expect(stored).toEqual(['wss://relay.example.org'])

    // Removing the bad row clears the error and the form saves again.
    await page.getByTestId('settings-relay-remove-1').click()
    expect(await page.getByTestId('error-relay-1').count()).toBe(0)
    await page.getByTestId('settings-operator-name').fill('Lisbon Kiosk Operations')
    await page.getByTestId('settings-save').click()
    await expect.poll(() => page.getByTestId('sidebar-operator-name').textContent()).toBe('Lisbon Kiosk Operations')
  })

  it('shows an inline error for an empty display name', async () => {
    await openApp('#/settings')
    await expect.poll(() => page.getByTestId('settings-operator-name').inputValue()).toBe('Lisbon Kiosk Operations')
    await page.getByTestId('settings-operator-name').fill('')
    await page.getByTestId('settings-save').click()
    const err = page.getByTestId('error-operatorName')
    await err.waitFor()
    expect(await err.textContent()).toMatch(/characters/)
    expect(await page.getByTestId('settings-operator-name').getAttribute('aria-invalid')).toBe('true')
    await page.screenshot({ path: join(RESULTS, 'shell-settings-error.png') })
    await page.getByTestId('settings-discard').click()
    expect(await page.getByTestId('settings-operator-name').inputValue()).toBe('Lisbon Kiosk Operations')
    expect(await page.getByTestId('error-operatorName').count()).toBe(0)
  })

  it('lists the console activity from log.recent: the saved settings and the refused call', async () => {
    await openApp('#/audit')
    const rows = page.getByTestId('activity-row')
    await expect
      .poll(() => rows.allTextContents())
      .toEqual(expect.arrayContaining([expect.stringContaining('settings saved')]))
    // Warnings only: the relay the main side refused, named by field, with no value quoted.
    await page.getByTestId('activity-level').selectOption('warn')
    await expect
      .poll(() => rows.allTextContents())
      .toEqual(expect.arrayContaining([expect.stringMatching(/ipc call rejected.*field=args\[0\]\.relays\[1\]/)]))
    const warnText = (await rows.allTextContents()).join('\n')
    expect(warnText).not.toContain('settings saved')
    expect(warnText).not.toContain('https://relay.example.org')
    await page.screenshot({ path: join(RESULTS, 'shell-audit-activity.png'), fullPage: true })
  })

  it('keeps the settings across a restart of the headless server', async () => {
    await served.stop()
    served = await startServe(dataDir)
    // The old cookie belonged to the previous launch's token; the new URL sets a new one.
    await openApp('#/settings')
    await expect.poll(() => page.getByTestId('settings-operator-name').inputValue()).toBe('Lisbon Kiosk Operations')
    expect(await page.getByTestId('settings-time-zone').inputValue()).toBe('Europe/Lisbon')
    expect(await page.getByTestId('settings-relay-0').inputValue()).toBe('wss://relay.example.org')
  })

  it('shows the permanent demo banner when serve runs with a demo flag', async () => {
    const demoDir = await mkdtemp(join(tmpdir(), 'satmachine-e2e-demo-'))
    const demo = await startServe(demoDir, ['--demo', 'emulated-signer'])
    try {
      await page.goto(demo.url)
      await page.getByTestId('app-shell').waitFor()
      const banner = page.getByTestId('banner')
      await banner.waitFor()
      expect(await banner.getAttribute('role')).toBe('alert')
      expect(await banner.textContent()).toContain('Demo mode (emulated-signer)')
      // The banner stays on every view.
      await page.getByTestId('nav-fleet').click()
      await page.getByTestId('view-fleet').waitFor()
      expect(await banner.isVisible()).toBe(true)
      await page.screenshot({ path: join(RESULTS, 'shell-demo-banner.png') })
    } finally {
      await demo.stop()
      await rm(demoDir, { recursive: true, force: true })
    }
  })

  it('answers 401 to a browser without the token: page, bridge script and bridge socket', async () => {
    // A separate profile, so no token cookie from the tests above. The only console errors tolerated are the
    // browser's own reports of the refusals this test provokes.
    const stranger = await launchChromium({
      allowConsole: [/status of 401/, /WebSocket connection to '.*\/__bridge' failed/],
    })
    try {
      const res = await stranger.page.goto(`${served.origin}/`)
      expect(res?.status()).toBe(401)
      expect(await stranger.page.locator('#app').count()).toBe(0)
      const wrong = await stranger.page.goto(`${served.origin}/?token=not-the-token`)
      expect(wrong?.status()).toBe(401)
      const script = await stranger.page.goto(`${served.origin}/__bridge/preload.js`)
      expect(script?.status()).toBe(401)
      // The bridge socket refuses the upgrade without the token cookie.
      const outcome = await stranger.page.evaluate(
        (url) =>
          new Promise<string>((res) => {
            const ws = new WebSocket(url)
            ws.onopen = () => {
              ws.close()
              res('open')
            }
            ws.onerror = () => res('refused')
          }),
        `${served.origin.replace('http:', 'ws:')}/__bridge`,
      )
      expect(outcome).toBe('refused')
      expect(stranger.problems, formatProblems(stranger.problems)).toEqual([])
    } finally {
      await stranger.close()
    }
  })
})
