// Settlements view at 1,000,000 settlements (issue 9, done-when): the BUILT `satmachine serve` on a data directory
// seeded by `satmachine demo-seed`, in real Chromium, timed IN THE BROWSER (performance.now in the page):
//  - first page: a click on Settlements until the first row is on screen, and the `settlements.list` call alone;
//  - a filter change: a click on Show until the table is no longer busy, and one `settlements.list` call per
//    filter (machine, direction, status, date range, LP, amount range, fee mismatch, refund due, search, sort);
//  - the detail drawer: a click on Details until the badges are on screen, and the `settlements.get` call alone.
// Budgets: first page < 300 ms, filter change < 200 ms, drawer < 100 ms (medians; the maxima are recorded too).
//
// SETTLEMENTS_BENCH_DIR=dir reuses a directory already seeded (it is never deleted); otherwise a temporary one is
// seeded first: SETTLEMENTS_BENCH_BASE (50,000) settlements by `satmachine demo-seed`, replicated in SQL to
// SETTLEMENTS_BENCH_N (1,000,000) — see ./settlements-seed.ts — and the seed times are recorded.
// SETTLEMENTS_BENCH_SEEDED_BASE=dir copies a directory demo-seed already filled with BASE settlements instead.
// Needs `npx electron-vite build` and /usr/bin/chromium.
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import type { Page } from 'playwright-core'
import { expect, it } from 'vitest'
import { chromiumMissingReason, launchChromium } from '../test/support/chromium'
import { startServeProcess } from '../test/support/serve-process'
import { recordBench, spread } from './lib'
import { type BenchSeed, seedSettlementsBench } from './settlements-seed'

const ROOT = resolve(import.meta.dirname, '..')
const N = Number(process.env.SETTLEMENTS_BENCH_N ?? 1_000_000)
/** Settlements booked by demo-seed before replication (see ./settlements-seed.ts for why). */
const BASE = Number(process.env.SETTLEMENTS_BENCH_BASE ?? 50_000)
const RUNS = 7

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

interface FirstPage {
  rows: Array<{ id: number; machineId: string; paymentHash: string }>
  count: number
  countCapped: boolean
  next: string | null
}

type Api = Record<string, (a?: unknown) => Promise<{ ok: boolean; value?: unknown; error?: unknown }>>

/** One bridge call timed in the page; answers [ms, value]. */
async function timedCall(page: Page, method: string, arg: unknown): Promise<[number, unknown]> {
  return page.evaluate(
    async ([m, a]) => {
      const api = (globalThis as unknown as { api: Api }).api
      const t0 = performance.now()
      const r = await api[m as string]!(a)
      const ms = performance.now() - t0
      if (!r.ok) throw new Error(`${m}: ${JSON.stringify(r.error)}`)
      return [ms, r.value] as [number, unknown]
    },
    [method, arg] as const,
  )
}

/** Clicks `clickId` in the page and waits (rAF) until `selector` matches; answers ms, timed in the page. */
async function timedUi(page: Page, clickId: string, selector: string): Promise<number> {
  return page.evaluate(
    async ([id, sel]) => {
      const g = globalThis as unknown as PageDom
      const t0 = performance.now()
      g.document.querySelector(`[data-testid="${id}"]`)!.click()
      await new Promise<void>((res) => {
        const check = () => (g.document.querySelector(sel as string) ? res() : g.requestAnimationFrame(check))
        check()
      })
      return performance.now() - t0
    },
    [clickId, selector] as const,
  )
}

/** Clicks Show and waits until the history table is no longer busy (the new page is rendered). */
async function timedApply(page: Page): Promise<number> {
  return page.evaluate(async () => {
    const g = globalThis as unknown as PageDom
    const table = g.document.querySelector('[data-testid="settlement-history"] table')!
    const done = new Promise<void>((res) => {
      let sawBusy = false
      const mo = new g.MutationObserver(() => {
        const busy = table.getAttribute('aria-busy') === 'true'
        if (busy) sawBusy = true
        else if (sawBusy) {
          mo.disconnect()
          // One frame so the rows are painted, as the operator sees them.
          g.requestAnimationFrame(() => res())
        }
      })
      mo.observe(table, { attributes: true, attributeFilter: ['aria-busy'] })
    })
    const t0 = performance.now()
    g.document.querySelector('[data-testid="filter-apply"]')!.click()
    await done
    return performance.now() - t0
  })
}

const missing = chromiumMissingReason()

it.skipIf(missing !== null)(
  `settlements view with ${N.toLocaleString('en-US')} settlements: first page, filter change, detail drawer`,
  async () => {
    if (!existsSync(join(ROOT, 'out', 'main', 'cli.js'))) throw new Error('run `npx electron-vite build` first')
    const given = process.env.SETTLEMENTS_BENCH_DIR
    const dir = given ?? mkdtempSync(join(tmpdir(), 'settlements-bench-'))
    let seed: BenchSeed | null = null
    if (!given) seed = await seedSettlementsBench(ROOT, dir, N, BASE, process.env.SETTLEMENTS_BENCH_SEEDED_BASE)
    const tOpen = performance.now()
    const served = await startServeProcess(dir, [], 600_000)
    const chrome = await launchChromium({ viewport: { width: 1360, height: 1000 } })
    try {
      const page = chrome.page
      await page.goto(served.url)
      await page.getByTestId('app-shell').waitFor()
      await expect
        .poll(async () => ((await timedCall(page, 'ledger.status', undefined))[1] as { state: string }).state, {
          timeout: 600_000,
          interval: 500,
        })
        .toMatch(/ready|snapshotting/)
      const openMs = Math.round(performance.now() - tOpen)

      // First page through the UI, cold each time: the page is reloaded (nothing of the list is kept), the
      // Dashboard has finished loading its figures, then Settlements is clicked.
      const firstUi: number[] = []
      for (let i = 0; i < RUNS; i++) {
        await page.reload()
        await page.getByTestId('view-dashboard').waitFor()
        await expect
          .poll(
            async () =>
              (await page
                .getByTestId('dash-cash_out-count')
                .textContent()
                .catch(() => '…')) ?? '…',
            {
              timeout: 300_000,
            },
          )
          .not.toContain('…')
        firstUi.push(await timedUi(page, 'nav-settlements', '[data-testid^="settlement-row-"]'))
      }
      const firstCall: number[] = []
      const pages: FirstPage[] = []
      for (let i = 0; i < RUNS; i++) {
        const [ms, v] = await timedCall(page, 'settlements.list', { limit: 50 })
        firstCall.push(ms)
        pages.push(v as FirstPage)
      }
      const firstPage = pages.at(-1)
      expect(firstPage?.rows.length).toBe(50)
      const top = firstPage!.rows[0]!

      // Filter changes, one call each (repeated), through the bridge.
      const [, lpsValue] = await timedCall(page, 'lps.list', { includeInactive: true })
      const lpId = (lpsValue as Array<{ id: string }>)[0]?.id
      const monthFrom = Date.UTC(2026, 5, 1)
      const filters: Record<string, unknown> = {
        machine: { filter: { machineId: top.machineId } },
        direction: { filter: { direction: 'cash_in' } },
        status: { filter: { status: 'errored' } },
        dateRange: { filter: { fromMs: monthFrom, toMs: Date.UTC(2026, 6, 1) } },
        machineAndMonth: { filter: { machineId: top.machineId, fromMs: monthFrom, toMs: Date.UTC(2026, 6, 1) } },
        ...(lpId ? { lp: { filter: { lpId } } } : {}),
        amountRange: { filter: { minAmount: '100', maxAmount: '200' } },
        feeMismatch: { filter: { feeMismatch: true } },
        refundDue: { filter: { refundDue: true } },
        searchHash: { filter: { search: top.paymentHash } },
        sortFiatDesc: { sort: 'fiat_desc' },
        nextPage: { after: firstPage!.next },
      }
      const filterCalls: Record<string, ReturnType<typeof spread> & { rows: number }> = {}
      for (const [name, arg] of Object.entries(filters)) {
        const times: number[] = []
        let rows = 0
        for (let i = 0; i < RUNS; i++) {
          const [ms, v] = await timedCall(page, 'settlements.list', { limit: 50, ...(arg as object) })
          times.push(ms)
          rows = (v as { rows: unknown[] }).rows.length
        }
        filterCalls[name] = { ...spread(times), rows }
      }

      // Filter change through the UI: pick a direction, click Show, until the table is rendered.
      await page.getByTestId('nav-settlements').click()
      await page.locator('[data-testid^="settlement-row-"]').first().waitFor()
      const filterUi: number[] = []
      for (let i = 0; i < RUNS; i++) {
        await page.getByTestId('filter-direction').selectOption(i % 2 === 0 ? 'cash_in' : 'cash_out')
        filterUi.push(await timedApply(page))
      }
      await page.getByTestId('filter-direction').selectOption('')
      await timedApply(page)

      // Detail drawer: click Details until the five badges are on screen; and the call alone.
      const drawerUi: number[] = []
      const rowIds = (await page
        .locator('[data-testid^="settlement-open-"]')
        .evaluateAll((els) => els.map((e) => e.getAttribute('data-testid') as string))) as string[]
      for (let i = 0; i < RUNS; i++) {
        const id = rowIds[i]!
        drawerUi.push(await timedUi(page, id, '[data-testid="badge-receipt"]'))
        await page.getByTestId('drawer-close').click()
        await expect.poll(() => page.getByTestId('settlement-drawer').isVisible()).toBe(false)
      }
      const drawerCall: number[] = []
      for (let i = 0; i < RUNS; i++) {
        const id = firstPage!.rows[i * 3]!.id
        drawerCall.push((await timedCall(page, 'settlements.get', { settlementId: id }))[0])
      }
      const [dashMs] = await timedCall(page, 'dashboard.summary', { balance: false })

      const result = {
        settlements: N,
        seededBy: given
          ? 'existing directory (SETTLEMENTS_BENCH_DIR)'
          : `satmachine demo-seed (${BASE.toLocaleString('en-US')} settlements through the money path), replicated in SQL to ${N.toLocaleString('en-US')} (bench/settlements-seed.ts)`,
        seed,
        serveOpenUntilLedgerReadyMs: openMs,
        countShown: firstPage!.countCapped ? `more than ${firstPage!.count}` : firstPage!.count,
        budgetsMs: { firstPage: 300, filterChange: 200, drawer: 100 },
        firstPageUiMs: spread(firstUi),
        firstPageCallMs: spread(firstCall),
        filterChangeUiMs: spread(filterUi),
        filterChangeCallMs: filterCalls,
        drawerUiMs: spread(drawerUi),
        drawerCallMs: spread(drawerCall),
        dashboardSummaryCallMs: Math.round(dashMs),
        note:
          'times measured in Chromium with performance.now(): UI = click until the rows/badges are in the DOM; ' +
          'call = one window.api call over the WebSocket bridge, including the ledger worker and JSON both ways',
      }
      console.log('[bench settlements-ui]', JSON.stringify(result, null, 1))
      recordBench('settlements-ui-1m', result)
      expect(result.firstPageUiMs.median).toBeLessThan(300)
      expect(result.filterChangeUiMs.median).toBeLessThan(200)
      expect(result.drawerUiMs.median).toBeLessThan(100)
    } finally {
      await chrome.close()
      await served.stop()
      if (!given) rmSync(dir, { recursive: true, force: true })
    }
  },
  3_600_000,
)
