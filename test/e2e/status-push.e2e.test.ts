// End-to-end test of push events in Chromium: the status bar and notices must follow `ledger.status` and `notice`
// events without a reload. Headless mode is started in-process (`startServe`) so the test can hold the ledger's
// opening behind a gate and watch the page move from "opening" to what the real ledger reports; the renderer is
// the BUILT bundle in out/renderer, and the ledger is the real sql.js ledger in a fresh directory.
//
// Needs `npm run build` first (`npm test` does it) and /usr/bin/chromium (CI installs it; skipped otherwise).
import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { openLedgerInProcess } from '../../src-main/ledger/store'
import { type ServeHandle, startServe } from '../../src-main/serve/server'
import type { OpenLedger } from '../../src-main/services'
import type { WindowApi } from '../../src-shared/ipc/renderer-api'
import { type ChromiumSession, chromiumMissingReason, formatProblems, launchChromium } from '../support/chromium'

/** Inside `page.evaluate`: the page's global, where the bridge defined `api`. */
type PageGlobal = { api?: WindowApi }

const ROOT = resolve(import.meta.dirname, '../..')
const RENDERER = join(ROOT, 'out', 'renderer')
const RESULTS = join(ROOT, 'test-results')

/** A promise with its resolve/reject in hand, so the test decides when the ledger finishes opening. */
function gate<T>() {
  let resolve!: (v: T) => void
  let reject!: (e: Error) => void
  const promise = new Promise<T>((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}

const missing = chromiumMissingReason()
if (missing) console.warn(`[status-push.e2e] skipped: ${missing}`)

describe.skipIf(missing !== null)('status bar and notices follow push events', () => {
  const cleanups: Array<() => Promise<void>> = []

  beforeAll(() => {
    if (!existsSync(join(RENDERER, 'index.html')))
      throw new Error(`${RENDERER} is missing: run \`npm run build\` first`)
  })

  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c()
  })

  async function setup(openLedger: OpenLedger): Promise<{ served: ServeHandle; chrome: ChromiumSession }> {
    const dataDir = await mkdtemp(join(tmpdir(), 'satmachine-e2e-push-'))
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }))
    const served = await startServe({ dataDir, rendererDir: RENDERER, openLedger })
    cleanups.push(() => served.close())
    const chrome = await launchChromium()
    cleanups.push(() => chrome.close())
    return { served, chrome }
  }

  it('shows "opening" until the ledger is ready, then the ledger’s own state and sequence, without a reload', async () => {
    const opened = gate<void>()
    const { served, chrome } = await setup(async ({ dir, log }) => {
      await opened.promise
      return openLedgerInProcess({ dir, logger: log, autoSnapshot: false })
    })
    const { page } = chrome
    await page.goto(served.url)
    await page.getByTestId('app-shell').waitFor()
    await expect.poll(() => page.getByTestId('ledger-state').textContent()).toBe('opening')
    const navigations: string[] = []
    page.on('framenavigated', (f) => navigations.push(f.url()))

    opened.resolve()
    await served.services.ledgerReady
    // What the services report now, asked through the same bridge the page uses.
    const reported = await page.evaluate(async () => {
      const r = await (globalThis as unknown as PageGlobal).api?.['ledger.status']()
      return r?.ok ? r.value : null
    })
    expect(reported?.state).toBe('ready')
    await expect.poll(() => page.getByTestId('ledger-state').textContent()).toBe('ready')
    expect(await page.getByTestId('ledger-seq').textContent()).toBe(String(reported?.seq))
    expect(navigations).toEqual([]) // the change arrived as a push event, not through a reload
    expect(chrome.problems, formatProblems(chrome.problems)).toEqual([])
  })

  it('shows a failed ledger and its error notice as they are pushed, and the notice stays until dismissed', async () => {
    const opened = gate<never>()
    const { served, chrome } = await setup(() => opened.promise)
    const { page } = chrome
    await page.goto(`${served.url}#/settlements`)
    await page.getByTestId('view-settlements').waitFor()
    await expect.poll(() => page.getByTestId('ledger-state').textContent()).toBe('opening')

    opened.reject(new Error('journal directory is read-only (test)'))
    await served.services.ledgerReady
    await expect.poll(() => page.getByTestId('ledger-state').textContent()).toBe('failed')
    const notice = page.getByTestId('notice')
    await notice.waitFor()
    expect(await notice.textContent()).toContain(
      'The ledger could not be opened: journal directory is read-only (test)',
    )
    expect(await page.getByTestId('notices').getAttribute('aria-live')).toBe('polite')
    await page.screenshot({ path: join(RESULTS, 'shell-ledger-failed.png') })

    await notice.getByRole('button', { name: 'Dismiss notice' }).click()
    await expect.poll(() => page.getByTestId('notice').count()).toBe(0)
    expect(chrome.problems, formatProblems(chrome.problems)).toEqual([])
  })
})
