// The headless bridge in real Chromium (Debian's, via playwright-core): the page is opened with the printed
// `?token=` URL, the server swaps the token into an HttpOnly cookie, the injected /__bridge/preload.js defines
// `window.api` before the app's module runs, and calls and push events work under the strict CSP with no console
// error. This checks the bridge script itself; the UI is tested by the e2e suites. Needs out/renderer.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type ServeHandle, startServe } from '../../src-main/serve/server'
import { METHOD_NAMES, type Notice } from '../../src-shared/ipc/contract'
import type { WindowApi } from '../../src-shared/ipc/renderer-api'
import { type ChromiumSession, chromiumMissingReason, formatProblems, launchChromium } from '../support/chromium'

/** The page globals these tests touch; the node test project has no DOM lib, so they are typed here. */
interface PageGlobals {
  api?: WindowApi
  document: { cookie: string }
}

const missing = chromiumMissingReason()
if (missing) console.log(`[bridge-chromium] skipped: ${missing}`)

describe.skipIf(missing !== null)('headless bridge in Chromium', () => {
  let serve: ServeHandle
  let browser: ChromiumSession
  let dataDir: string

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'satmachine-bridge-'))
    serve = await startServe({ dataDir, port: 0 })
    browser = await launchChromium()
  })

  afterAll(async () => {
    await browser?.close()
    await serve?.close()
    if (dataDir) rmSync(dataDir, { recursive: true, force: true })
  })

  it('defines window.api from the contract, answers envelopes and delivers push events under the CSP', async () => {
    const { page } = browser
    await page.goto(serve.url)
    // The token left the address bar and is not readable by page scripts.
    expect(new URL(page.url()).search).toBe('')
    expect(await page.evaluate(() => (globalThis as unknown as PageGlobals).document.cookie)).toBe('')
    const keys = await page.evaluate(() => Object.keys((globalThis as unknown as PageGlobals).api ?? {}))
    expect(keys.sort()).toEqual([...METHOD_NAMES, 'on'].sort())

    const result = await page.evaluate(async () => {
      const api = (globalThis as unknown as PageGlobals).api
      if (!api) throw new Error('window.api missing')
      const notices: Notice[] = []
      const got = new Promise((res) => api.on('notice', (n) => res(notices.push(n))))
      const info = await api['app.info']()
      const saved = await api['settings.set']({ operatorName: 'Chromium Op' })
      await got
      // @ts-expect-error deliberately wrong type, to see the bad_args envelope
      const bad = await api['settings.set']({ operatorName: 42 })
      let unknownEvent = ''
      try {
        // @ts-expect-error deliberately unknown event
        api.on('nope', () => {})
      } catch (e) {
        unknownEvent = (e as Error).message
      }
      return { info, saved, bad, notices, unknownEvent, frozen: Object.isFrozen(api) }
    })
    expect(result.info).toMatchObject({ ok: true, value: { runtime: 'node', name: 'Satmachine Console' } })
    expect(result.saved).toMatchObject({ ok: true, value: { operatorName: 'Chromium Op' } })
    expect(result.bad).toMatchObject({ ok: false, error: { code: 'bad_args', field: 'args[0].operatorName' } })
    expect(result.notices).toEqual([expect.objectContaining({ level: 'info', text: 'Settings saved' })])
    expect(result.unknownEvent).toBe('unknown event: nope')
    expect(result.frozen).toBe(true)
    expect(browser.problems, formatProblems(browser.problems)).toEqual([])
  })

  it('blocks an inline script injected into the page (CSP header and meta)', async () => {
    const { page } = browser
    await page.goto(serve.url)
    // Evaluated from a string: the node test project has no DOM types for `document`.
    const violations = (await page.evaluate(`new Promise((res) => {
      document.addEventListener('securitypolicyviolation', (e) => res([e.violatedDirective]))
      const s = document.createElement('script')
      s.textContent = 'window.__pwned = true'
      document.head.appendChild(s)
    })`)) as string[]
    expect(violations[0]).toMatch(/^script-src/)
    expect(await page.evaluate(() => (globalThis as unknown as { __pwned?: boolean }).__pwned)).toBeUndefined()
    // The deliberate violation is reported as a console error; it is the only one.
    expect(browser.problems.length).toBeGreaterThan(0)
    expect(browser.problems.map((p) => p.text).every((t) => /Content Security Policy/.test(t))).toBe(true)
    browser.problems.length = 0
  })
})
