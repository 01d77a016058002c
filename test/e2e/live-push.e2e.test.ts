// Screens that follow the live push (issue 9; src-shared/ipc/live.ts, src-renderer/stores/follow.ts), end to end:
// the BUILT `satmachine serve --demo` in real Chromium. Each screen stays open while something changes behind it,
// and the test waits for the screen to show the change without any reload and without a Refresh button:
//   - Liquidity providers with one provider's detail open: a deposit recorded through the bridge from the test
//     appears as pending (list and detail); confirmed the same way, it shows confirmed and the balance grows.
//   - Fleet with a machine's detail panel open: the demo's ATMs keep selling, and both the row's booked count and
//     the panel's record count move by themselves (and "last seen" is filled in).
//   - Dashboard: today's cash-out count grows as the ATMs' records are booked.
// A marker set on the page's global object at the start must still be there at the end: the page never reloaded.
// No console error, no failed request. Needs `npx electron-vite build` first and /usr/bin/chromium (skipped otherwise).
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { FleetMachineView } from '../../src-shared/ipc/contract'
import type { DepositView, LpView } from '../../src-shared/ipc/lps'
import { type ChromiumSession, chromiumMissingReason, formatProblems, launchChromium } from '../support/chromium'
import { type ServedProcess, startServeProcess } from '../support/serve-process'

const ROOT = resolve(import.meta.dirname, '../..')
const RESULTS = join(ROOT, 'test-results')
const missing = chromiumMissingReason()
if (missing) console.warn(`[live-push.e2e] skipped: ${missing}`)

/** Calls one bridge method from inside the page (the same `window.api` the screens use). */
function bridge<T>(page: Page, method: string, arg?: unknown): Promise<T> {
  return page.evaluate(
    async ([m, a]) => {
      const g = globalThis as unknown as {
        api: Record<string, (...x: unknown[]) => Promise<{ ok: boolean; value?: unknown; error?: unknown }>>
      }
      const r = await (a === undefined ? g.api[m as string]!() : g.api[m as string]!(a))
      if (!r.ok) throw new Error(JSON.stringify(r.error))
      return r.value
    },
    [method, arg] as const,
  ) as Promise<T>
}

const digits = (s: string | null) => Number((s ?? '').replace(/\D+/g, '') || 0)

describe.skipIf(missing !== null)('screens follow the live push (demo mode, Chromium)', () => {
  let root: string
  let served: ServedProcess
  let chrome: ChromiumSession

  beforeAll(async () => {
    if (!existsSync(join(ROOT, 'out', 'main', 'cli.js'))) throw new Error('run `npx electron-vite build` first')
    await mkdir(RESULTS, { recursive: true })
    root = await mkdtemp(join(tmpdir(), 'satmachine-e2e-live-'))
    served = await startServeProcess(join(root, 'demo'), ['--demo'], 90_000)
    chrome = await launchChromium({ viewport: { width: 1360, height: 1000 } })
  }, 120_000)

  afterAll(async () => {
    await chrome?.close()
    await served?.stop()
    if (root) await rm(root, { recursive: true, force: true })
  })

  it('LPs, Fleet and Dashboard show changes made behind them, with no reload and no Refresh button', async () => {
    const page = chrome.page
    await page.goto(`${served.url}#/lps`)
    await page.getByTestId('app-shell').waitFor()
    await page.evaluate(() => {
      ;(globalThis as unknown as { __liveMarker: string }).__liveMarker = 'still the same page'
    })

    // ---- Liquidity providers: a deposit recorded, then confirmed, from the test through the bridge ----------------
    let lp: LpView | undefined
    await expect
      .poll(
        async () => {
          lp = (await bridge<LpView[]>(page, 'lps.list', {})).find((l) => l.active)
          return lp !== undefined
        },
        { timeout: 90_000, interval: 1_000 },
      )
      .toBe(true)
    const target = lp as LpView
    const row = page.getByTestId(`lp-row-${target.id}`)
    await row.waitFor({ timeout: 30_000 })
    await row.getByTestId('lp-open').click()
    await page.getByTestId('lp-detail').waitFor()
    await expect(page.getByRole('button', { name: 'Refresh' }).count()).resolves.toBe(0)
    const pendingRows = page.locator('[data-testid="lp-deposit-row"][data-status="pending"]')
    const confirmedRows = page.locator('[data-testid="lp-deposit-row"][data-status="confirmed"]')
    const pendingBefore = await pendingRows.count()
    const confirmedBefore = await confirmedRows.count()

    const dep = await bridge<DepositView>(page, 'lps.deposit.record', {
      lpId: target.id,
      amountMinor: '4321',
      note: 'recorded behind the open screen',
    })
    await expect.poll(() => pendingRows.count(), { timeout: 30_000 }).toBe(pendingBefore + 1)
    await row.getByTestId('lp-pending').waitFor({ timeout: 30_000 })
    await page.screenshot({ path: join(RESULTS, 'issue9-live-lp-pending.png'), fullPage: true })

    await bridge(page, 'lps.deposit.confirm', { depositId: dep.depositId })
    await expect.poll(() => confirmedRows.count(), { timeout: 30_000 }).toBe(confirmedBefore + 1)
    await expect.poll(() => pendingRows.count(), { timeout: 30_000 }).toBe(pendingBefore)
    // The balance on screen is the one the main side holds (cash-outs keep moving it, so both are read each time).
    await expect
      .poll(
        async () => {
          const held = (await bridge<LpView[]>(page, 'lps.list', {})).find((l) => l.id === target.id)!.balanceMinor
          return digits(await page.getByTestId('lp-detail-balance').textContent()) === Number(held)
        },
        { timeout: 30_000 },
      )
      .toBe(true)
    await page.screenshot({ path: join(RESULTS, 'issue9-live-lp-confirmed.png'), fullPage: true })

    // ---- Fleet: the ATMs keep selling while the list and one machine's panel are open ---------------------------
    await page.getByTestId('nav-fleet').click()
    await page.getByTestId('view-fleet').waitFor()
    let machines: FleetMachineView[] = []
    await expect
      .poll(
        async () => {
          machines = await bridge<FleetMachineView[]>(page, 'fleet.machines')
          return machines.some((m) => m.rosterStatus === 'member')
        },
        { timeout: 60_000, interval: 1_000 },
      )
      .toBe(true)
    const atm = machines.find((m) => m.rosterStatus === 'member')!.atmPubkey
    const bookedCell = page.getByTestId(`machine-${atm}`).locator('td.num').first()
    await bookedCell.waitFor()
    await page.getByTestId(`details-${atm}`).click()
    await page.getByTestId('machine-detail').waitFor()
    await expect(page.getByRole('button', { name: 'Refresh' }).count()).resolves.toBe(0)
    await expect.poll(() => page.getByTestId('machine-records').count(), { timeout: 30_000 }).toBe(1)
    const rowBefore = digits(await bookedCell.textContent())
    const panelBefore = digits(await page.getByTestId('machine-records').textContent())
    await expect
      .poll(async () => digits(await bookedCell.textContent()), { timeout: 120_000 })
      .toBeGreaterThan(rowBefore)
    await expect
      .poll(async () => digits(await page.getByTestId('machine-records').textContent()), { timeout: 60_000 })
      .toBeGreaterThan(panelBefore)
    expect(await page.getByTestId('machine-last-seen').textContent()).not.toBe('Nothing received yet')
    await page.screenshot({ path: join(RESULTS, 'issue9-live-fleet.png'), fullPage: true })

    // ---- Dashboard: today's cash-outs grow by themselves ------------------------------------------------------------
    await page.getByTestId('nav-dashboard').click()
    await page.getByTestId('view-dashboard').waitFor()
    const count = page.getByTestId('dash-cash_out-count')
    await expect.poll(async () => digits(await count.textContent()), { timeout: 60_000 }).toBeGreaterThan(0)
    const dashBefore = digits(await count.textContent())
    await expect.poll(async () => digits(await count.textContent()), { timeout: 120_000 }).toBeGreaterThan(dashBefore)
    await page.screenshot({ path: join(RESULTS, 'issue9-live-dashboard.png'), fullPage: true })

    // The same page all along: nothing reloaded it.
    expect(await page.evaluate(() => (globalThis as unknown as { __liveMarker?: string }).__liveMarker ?? null)).toBe(
      'still the same page',
    )
    const problems = chrome.problems.splice(0)
    expect(problems, formatProblems(problems)).toEqual([])
  }, 420_000)
})
