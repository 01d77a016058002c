// The Dashboard and the Settlements screen end to end (issue 9): the BUILT `satmachine serve --demo` (embedded
// relay, NIP-47 wallet services over the simulated Lightning network, paired ATM simulators selling on a schedule)
// in real Chromium. A cash-out booked from a real ATM record lands on the Dashboard (counts, commission, charts)
// and in the settlement history; searching its payment hash finds it and its detail drawer shows all five
// verification badges green (ATM signature, operator delegation, roster, the wallet's preimage, the receipt read
// back from the relay); a note is appended; the worklist tab shows each item's reason; the force reset asks in a
// modal dialog first. axe-core reports no serious or critical violation on either screen in the light and the
// dark theme. Screenshots of each step go to test-results/; the page logs no console error and no failed request.
//
// Needs `npx electron-vite build` first and /usr/bin/chromium (skipped otherwise).
import { existsSync, readFileSync } from 'node:fs'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { WindowApi } from '../../src-shared/ipc/renderer-api'
import type { SettlementDetailView, SettlementPageView } from '../../src-shared/ipc/settlements'
import { type ChromiumSession, chromiumMissingReason, formatProblems, launchChromium } from '../support/chromium'
import { type ServedProcess, startServeProcess } from '../support/serve-process'

const ROOT = resolve(import.meta.dirname, '../..')
const RESULTS = join(ROOT, 'test-results')
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8')

const missing = chromiumMissingReason()
if (missing) console.warn(`[settlements-dashboard.e2e] skipped: ${missing}`)

/** The few DOM members the in-page code uses: this file compiles without the DOM library (tsconfig.node.json). */
interface PageEl {
  click(): void
  getAttribute(name: string): string | null
}
interface PageDom {
  document: {
    querySelector(selector: string): PageEl | null
    activeElement: PageEl | null
    documentElement: { dataset: Record<string, string | undefined> }
  }
  requestAnimationFrame(cb: () => void): number
  MutationObserver: new (cb: () => void) => { observe(target: PageEl, opts: unknown): void; disconnect(): void }
}

interface AxeViolation {
  id: string
  impact: string | null
  help: string
  nodes: Array<{ target: string[]; failureSummary?: string }>
}

/** Runs axe-core in the page and answers the serious and critical violations. */
async function axeSerious(page: Page): Promise<AxeViolation[]> {
  await page.evaluate(AXE_SOURCE)
  const violations = await page.evaluate(async () => {
    const g = globalThis as unknown as {
      axe: { run: (ctx: unknown, opts: unknown) => Promise<{ violations: unknown[] }> }
    }
    const r = await g.axe.run((globalThis as unknown as PageDom).document, { resultTypes: ['violations'] })
    return r.violations
  })
  return (violations as AxeViolation[]).filter((v) => v.impact === 'serious' || v.impact === 'critical')
}

const describeAxe = (v: AxeViolation[]) =>
  v
    .map(
      (x) =>
        `${x.id} (${x.impact}): ${x.help}\n  ${x.nodes.map((n) => `${n.target.join(' ')} — ${n.failureSummary ?? ''}`).join('\n  ')}`,
    )
    .join('\n')

describe.skipIf(missing !== null)('Dashboard and Settlements in Chromium (demo mode)', () => {
  let root: string
  let served: ServedProcess
  let chrome: ChromiumSession

  beforeAll(async () => {
    if (!existsSync(join(ROOT, 'out', 'main', 'cli.js'))) throw new Error('run `npx electron-vite build` first')
    await mkdir(RESULTS, { recursive: true })
    root = await mkdtemp(join(tmpdir(), 'satmachine-e2e-settlements-'))
    served = await startServeProcess(join(root, 'demo'), ['--demo'], 90_000)
    chrome = await launchChromium({ viewport: { width: 1360, height: 1000 } })
  }, 120_000)

  afterAll(async () => {
    await chrome?.close()
    await served?.stop()
    if (root) await rm(root, { recursive: true, force: true })
  })

  it('a cash-out lands on the dashboard and in the history, with every badge green in its drawer', async () => {
    const page = chrome.page
    await page.goto(served.url)
    await page.getByTestId('app-shell').waitFor()

    // A processed cash-out whose five badges are all green (receipt read back from the relay): found through the
    // same bridge the screens use. The demo's ATMs sell every few seconds.
    const api = <T>(method: string, arg: unknown): Promise<T> =>
      page.evaluate(
        async ([m, a]) => {
          const g = globalThis as unknown as {
            api: Record<string, (x: unknown) => Promise<{ ok: boolean; value?: unknown; error?: unknown }>>
          }
          const r = await g.api[m as string]!(a)
          if (!r.ok) throw new Error(JSON.stringify(r.error))
          return r.value
        },
        [method, arg] as const,
      ) as Promise<T>
    let green: SettlementDetailView | null = null
    await expect
      .poll(
        async () => {
          const p = await api<SettlementPageView>('settlements.list', {
            filter: { direction: 'cash_out', status: 'processed' },
            limit: 20,
          })
          for (const r of p.rows) {
            const d = await api<SettlementDetailView>('settlements.get', { settlementId: r.id })
            if (Object.values(d.badges).every((b) => b.state === 'ok')) {
              green = d
              return true
            }
          }
          return false
        },
        { timeout: 90_000, interval: 1_000 },
      )
      .toBe(true)
    const target = green as unknown as SettlementDetailView

    // Dashboard: today's cash-outs counted, commission booked, the volume chart drawn as SVG.
    await page.getByTestId('nav-dashboard').click()
    await page.getByTestId('view-dashboard').waitFor()
    await expect
      .poll(async () => Number((await page.getByTestId('dash-cash_out-count').textContent())?.replace(/\D+/g, '') || 0))
      .toBeGreaterThan(0)
    await expect.poll(() => page.getByTestId(`dash-cash_out-fiat-${target.row.currency}`).count()).toBe(1)
    await page.getByTestId('chart-volume').locator('svg').first().waitFor()
    await page.getByTestId('chart-commission').locator('svg').first().waitFor()
    expect(await page.getByTestId('dash-platform-fee').textContent()).toMatch(/\d/)
    // The operator wallet's balance (get_balance over NWC) and what LPs received.
    await expect
      .poll(
        () =>
          page
            .getByTestId('dash-wallet-balance')
            .textContent({ timeout: 1_000 })
            .catch(() => ''),
        { timeout: 30_000 },
      )
      .toMatch(/\d.*sats/)
    expect(await page.getByTestId('dash-lps').textContent()).toMatch(/\d.*sats/)
    await page.screenshot({ path: join(RESULTS, 'issue9-dashboard.png'), fullPage: true })

    // Settlements history: the row is listed; a search by its payment hash finds exactly it.
    await page.getByTestId('nav-settlements').click()
    await page.getByTestId('view-settlements').waitFor()
    await page.getByTestId('settlement-history').waitFor()
    await expect.poll(() => page.locator('[data-testid^="settlement-row-"]').count()).toBeGreaterThan(0)
    await page.screenshot({ path: join(RESULTS, 'issue9-settlements-history.png'), fullPage: true })
    await page.getByTestId('filter-search').fill(target.row.paymentHash)
    await page.getByTestId('filter-apply').click()
    await expect.poll(() => page.locator('[data-testid^="settlement-row-"]').count()).toBe(1)
    await page.getByTestId(`settlement-row-${target.row.id}`).waitFor()

    // The drawer: five green badges, the preimage and the receipt's event id and relays; a note appended.
    await page.getByTestId(`settlement-open-${target.row.id}`).click()
    const drawer = page.getByTestId('settlement-drawer')
    await drawer.waitFor()
    for (const b of ['signature', 'delegation', 'roster', 'wallet', 'receipt'])
      await expect.poll(() => page.getByTestId(`badge-${b}`).getAttribute('data-state'), { message: b }).toBe('ok')
    expect(await page.getByTestId('receipt-event-id').textContent()).toContain(target.badges.receipt.eventId ?? 'x')
    expect(await drawer.textContent()).toContain(target.badges.wallet.preimage ?? 'x')
    expect(await drawer.textContent()).toMatch(/ws:\/\/127\.0\.0\.1:\d+/)
    await page.getByTestId('drawer-note-input').fill('Checked with the cashier')
    await page.getByTestId('drawer-note-add').click()
    await expect.poll(() => page.getByTestId('drawer-notes').textContent()).toContain('Checked with the cashier')
    await page.screenshot({ path: join(RESULTS, 'issue9-settlement-drawer.png'), fullPage: false })
    // Escape closes the modal drawer and focus goes back to the row's button.
    await page.keyboard.press('Escape')
    await expect.poll(() => drawer.isVisible()).toBe(false)
    expect(
      await page.evaluate(() => (globalThis as unknown as PageDom).document.activeElement?.getAttribute('data-testid')),
    ).toBe(`settlement-open-${target.row.id}`)

    // The worklist tab (keyboard: arrow right from the history tab): every item carries a reason.
    await page.getByTestId('settlements-tab-history').focus()
    await page.keyboard.press('ArrowRight')
    await page.getByTestId('panel-worklist').waitFor()
    const reasons = page.locator('[data-testid^="work-reason-"]')
    await expect.poll(() => reasons.count(), { timeout: 30_000 }).toBeGreaterThan(0)
    for (const t of await reasons.allTextContents()) expect(t.trim()).not.toBe('—')
    // A force reset by number asks first; Cancel leaves everything as it was.
    await page.getByTestId('settlement-id-input').fill(String(target.row.id))
    await page.getByTestId('settlement-reset').click()
    const confirm = page.getByTestId('confirm-reset')
    await confirm.waitFor()
    expect(
      await page.evaluate(() => (globalThis as unknown as PageDom).document.activeElement?.getAttribute('data-testid')),
    ).toBe('confirm-cancel')
    await page.screenshot({ path: join(RESULTS, 'issue9-worklist-confirm.png'), fullPage: false })
    await page.getByTestId('confirm-cancel').click()
    await expect.poll(() => confirm.isVisible()).toBe(false)
    expect((await api<SettlementDetailView>('settlements.get', { settlementId: target.row.id })).row.status).toBe(
      'processed',
    )
    await page.screenshot({ path: join(RESULTS, 'issue9-worklist.png'), fullPage: true })

    const problems = chrome.problems.splice(0)
    expect(problems, formatProblems(problems)).toEqual([])
  }, 240_000)

  it('axe-core finds no serious or critical violation on the Dashboard and Settlements, light and dark', async () => {
    const page = chrome.page
    const found: string[] = []
    for (const theme of ['light', 'dark'] as const) {
      await page.goto(served.url)
      await page.getByTestId('app-shell').waitFor()
      const pressed = (await page.getByTestId('theme-toggle').getAttribute('aria-pressed')) === 'true'
      if (pressed !== (theme === 'dark')) await page.getByTestId('theme-toggle').click()
      await expect
        .poll(() => page.evaluate(() => (globalThis as unknown as PageDom).document.documentElement.dataset.theme))
        .toBe(theme)

      await page.getByTestId('nav-dashboard').click()
      await page.getByTestId('chart-volume').locator('svg').first().waitFor()
      const dash = await axeSerious(page)
      if (dash.length) found.push(`dashboard/${theme}:\n${describeAxe(dash)}`)
      await page.screenshot({ path: join(RESULTS, `issue9-dashboard-${theme}.png`), fullPage: true })

      await page.getByTestId('nav-settlements').click()
      await expect.poll(() => page.locator('[data-testid^="settlement-row-"]').count()).toBeGreaterThan(0)
      const hist = await axeSerious(page)
      if (hist.length) found.push(`settlements/${theme}:\n${describeAxe(hist)}`)
      await page.screenshot({ path: join(RESULTS, `issue9-settlements-${theme}.png`), fullPage: true })

      const first = page.locator('[data-testid^="settlement-open-"]').first()
      await first.click()
      await page.getByTestId('badge-signature').waitFor()
      const drawer = await axeSerious(page)
      if (drawer.length) found.push(`drawer/${theme}:\n${describeAxe(drawer)}`)
      await page.keyboard.press('Escape')

      await page.getByTestId('settlements-tab-worklist').click()
      await page.getByTestId('panel-worklist').waitFor()
      await page.getByTestId('settlement-manual').waitFor()
      const work = await axeSerious(page)
      if (work.length) found.push(`worklist/${theme}:\n${describeAxe(work)}`)
    }
    expect(found.join('\n\n')).toBe('')
    const problems = chrome.problems.splice(0)
    expect(problems, formatProblems(problems)).toEqual([])
  }, 180_000)
})
