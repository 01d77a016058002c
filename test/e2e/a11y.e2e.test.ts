// Accessibility of every screen (issue 9), end to end: the BUILT `satmachine serve --demo` in real Chromium.
// axe-core reports no serious or critical violation on any screen or dialog the operator can reach — Get started
// (the first-run wizard), Dashboard, Settlements (history, an open detail drawer, the worklist tab), Liquidity
// providers (list, a provider's detail, the add dialog), Fleet (list, a machine's detail panel, the pairing form),
// Settings, Signer and Audit — in the light AND the dark theme. Then the keyboard: Tab from the top of the page
// reaches the skip link, the navigation, the theme switch and the screen's main action, and every element that
// takes the focus shows a visible focus indicator. Screenshots go to test-results/; the page logs no console error
// and no failed request. Needs `npx electron-vite build` first and /usr/bin/chromium (skipped otherwise).
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { axeSerious, describeAxe } from '../support/axe'
import { type ChromiumSession, chromiumMissingReason, formatProblems, launchChromium } from '../support/chromium'
import { type ServedProcess, startServeProcess } from '../support/serve-process'

const ROOT = resolve(import.meta.dirname, '../..')
const RESULTS = join(ROOT, 'test-results')
const missing = chromiumMissingReason()
if (missing) console.warn(`[a11y.e2e] skipped: ${missing}`)

/** The few DOM members the in-page code uses: this file compiles without the DOM library (tsconfig.node.json). */
interface FocusInfo {
  testid: string | null
  tag: string
  text: string
  visible: boolean
}

/** What has the focus now, and whether it shows a focus indicator (an outline or the focus ring's box shadow). */
function focused(page: Page): Promise<FocusInfo | null> {
  return page.evaluate(() => {
    const g = globalThis as unknown as {
      document: { activeElement: unknown; body: unknown }
      getComputedStyle(el: unknown): { outlineStyle: string; outlineWidth: string; boxShadow: string }
    }
    const el = g.document.activeElement as {
      tagName: string
      textContent: string | null
      getAttribute(n: string): string | null
    } | null
    if (!el || el === g.document.body) return null
    const cs = g.getComputedStyle(el)
    const outline = cs.outlineStyle !== 'none' && Number.parseFloat(cs.outlineWidth) > 0
    const shadow = cs.boxShadow !== 'none' && cs.boxShadow !== ''
    return {
      testid: el.getAttribute('data-testid'),
      tag: el.tagName.toLowerCase(),
      text: (el.textContent ?? '').trim().slice(0, 40),
      visible: outline || shadow,
    }
  })
}

describe.skipIf(missing !== null)('every screen is accessible, in both themes (demo mode, Chromium)', () => {
  let root: string
  let served: ServedProcess
  let chrome: ChromiumSession

  beforeAll(async () => {
    if (!existsSync(join(ROOT, 'out', 'main', 'cli.js'))) throw new Error('run `npx electron-vite build` first')
    await mkdir(RESULTS, { recursive: true })
    root = await mkdtemp(join(tmpdir(), 'satmachine-e2e-a11y-'))
    served = await startServeProcess(join(root, 'demo'), ['--demo'], 90_000)
    chrome = await launchChromium({ viewport: { width: 1360, height: 1000 } })
  }, 120_000)

  afterAll(async () => {
    await chrome?.close()
    await served?.stop()
    if (root) await rm(root, { recursive: true, force: true })
  })

  it('axe-core finds no serious or critical violation on any screen or dialog, light and dark', async () => {
    const page = chrome.page
    const found: string[] = []
    const checked: string[] = []
    const check = async (name: string, theme: string) => {
      const v = await axeSerious(page)
      checked.push(`${name}/${theme}`)
      if (v.length) found.push(`${name}/${theme}:\n${describeAxe(v)}`)
      await page.screenshot({ path: join(RESULTS, `issue9-a11y-${name}-${theme}.png`), fullPage: true })
    }

    for (const theme of ['light', 'dark'] as const) {
      // A full load each time (a goto that only changes the #fragment would keep the page and its state).
      await page.goto('about:blank')
      await page.goto(served.url)
      await page.getByTestId('app-shell').waitFor()
      const pressed = (await page.getByTestId('theme-toggle').getAttribute('aria-pressed')) === 'true'
      if (pressed !== (theme === 'dark')) await page.getByTestId('theme-toggle').click()
      await expect
        .poll(() =>
          page.evaluate(
            () =>
              (globalThis as unknown as { document: { documentElement: { dataset: Record<string, string> } } }).document
                .documentElement.dataset.theme,
          ),
        )
        .toBe(theme)

      // Get started: the first-run wizard, reachable from Settings at any time.
      await page.getByTestId('nav-settings').click()
      await page.getByTestId('settings-open-wizard').click()
      await page.getByTestId('view-welcome').waitFor()
      await page.locator('[data-testid^="onboarding-panel-"]').first().waitFor()
      await check('welcome', theme)

      await page.getByTestId('nav-dashboard').click()
      await page.getByTestId('chart-volume').locator('svg').first().waitFor({ timeout: 90_000 })
      await check('dashboard', theme)

      await page.getByTestId('nav-settlements').click()
      await page.getByTestId('panel-history').waitFor()
      await expect
        .poll(() => page.locator('[data-testid^="settlement-row-"]').count(), { timeout: 60_000 })
        .toBeGreaterThan(0)
      await check('settlements', theme)
      await page.locator('[data-testid^="settlement-open-"]').first().click()
      await page.getByTestId('badge-signature').waitFor()
      await check('settlement-drawer', theme)
      await page.keyboard.press('Escape')
      await expect.poll(() => page.getByTestId('settlement-drawer').isVisible()).toBe(false)
      await page.getByTestId('settlements-tab-worklist').click()
      await page.getByTestId('panel-worklist').waitFor()
      await page.getByTestId('settlement-manual').waitFor()
      await check('worklist', theme)

      await page.getByTestId('nav-lps').click()
      await page.getByTestId('lps-table').waitFor({ timeout: 60_000 })
      await check('lps', theme)
      await page.getByTestId('lp-open').first().click()
      await page.getByTestId('lp-detail').waitFor()
      await page.getByTestId('lp-deposits').waitFor()
      await check('lp-detail', theme)
      await page.getByTestId('lp-add').click()
      await page.getByTestId('lp-add-dialog').waitFor()
      await check('lp-add-dialog', theme)
      await page.keyboard.press('Escape')
      await expect.poll(() => page.getByTestId('lp-add-dialog').isVisible()).toBe(false)

      await page.getByTestId('nav-fleet').click()
      await page.getByTestId('fleet-machines').waitFor({ timeout: 60_000 })
      await check('fleet', theme)
      await page.locator('[data-testid^="details-"]').first().click()
      await page.getByTestId('machine-records').waitFor({ timeout: 30_000 })
      await check('machine-detail', theme)
      await page.getByTestId('machine-detail-close').click()
      await page.getByTestId('fleet-add').click()
      await page.getByTestId('pair-form').waitFor()
      await check('pair-form', theme)

      await page.getByTestId('nav-settings').click()
      await page.getByTestId('settings-form').waitFor()
      await check('settings', theme)

      await page.getByTestId('nav-signer').click()
      await page.getByTestId('view-signer').waitFor()
      await page.getByTestId('signer-device').waitFor()
      await check('signer', theme)

      await page.getByTestId('nav-audit').click()
      await page.getByTestId('view-audit').waitFor()
      await check('audit', theme)
    }
    expect(checked.length).toBe(2 * 14)
    expect(found.join('\n\n')).toBe('')
    const problems = chrome.problems.splice(0)
    expect(problems, formatProblems(problems)).toEqual([])
  }, 420_000)

  it('Tab reaches the navigation, the theme switch and the main action, and the focus is always visible', async () => {
    const page = chrome.page
    for (const theme of ['light', 'dark'] as const) {
      await page.goto('about:blank')
      await page.goto(`${served.url}#/fleet`)
      await page.getByTestId('fleet-add').waitFor()
      const pressed = (await page.getByTestId('theme-toggle').getAttribute('aria-pressed')) === 'true'
      if (pressed !== (theme === 'dark')) await page.getByTestId('theme-toggle').click()
      // Start from the top of the document, as after opening the page (the theme is remembered across the load).
      await page.goto('about:blank')
      await page.goto(`${served.url}#/fleet`)
      await page.getByTestId('fleet-add').waitFor()
      expect(await page.getByTestId('theme-toggle').getAttribute('aria-pressed')).toBe(
        theme === 'dark' ? 'true' : 'false',
      )
      const seen: FocusInfo[] = []
      for (let i = 0; i < 60; i++) {
        await page.keyboard.press('Tab')
        const f = await focused(page)
        if (f) seen.push(f)
        if (f?.testid === 'fleet-add') break
      }
      const ids = seen.map((f) => f.testid)
      expect(seen[0]?.text, 'the first Tab lands on the skip link').toBe('Skip to content')
      for (const id of [
        'nav-dashboard',
        'nav-fleet',
        'nav-settlements',
        'nav-lps',
        'nav-settings',
        'theme-toggle',
        'fleet-add',
      ])
        expect(ids, `Tab reaches ${id} (${theme})`).toContain(id)
      const invisible = seen.filter((f) => !f.visible)
      expect(invisible, `focus not visible on: ${JSON.stringify(invisible)}`).toEqual([])
      await page.screenshot({ path: join(RESULTS, `issue9-a11y-focus-${theme}.png`), fullPage: false })

      // Enter on the focused main action opens the pairing form, whose first field takes the keyboard.
      await page.keyboard.press('Enter')
      await page.getByTestId('pair-form').waitFor()
      await page.keyboard.press('Tab')
      const inForm = await focused(page)
      expect(inForm?.visible, `focus visible in the pairing form (${theme}): ${JSON.stringify(inForm)}`).toBe(true)
    }
    const problems = chrome.problems.splice(0)
    expect(problems, formatProblems(problems)).toEqual([])
  }, 180_000)
})
