// The Audit screen in Chromium over the real headless server (`satmachine serve --data-dir D`, built): a data
// directory with a seeded quarter and a console-signed head lists the quarter as open, "Export draft" runs the real
// export (progress, then the folder with its report), the export appears in the list and "Verify" runs verify-audit
// on it; the configuration change log shows the mid-quarter fee change. No console error, page error or failed
// request along the way.
import { existsSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { type SeededLedger, seedAuditLedger, signHead } from '../../src-main/audit-export/test-support'
import { type ChromiumSession, chromiumMissingReason, formatProblems, launchChromium } from '../support/chromium'
import { type ServedProcess, startServeProcess } from '../support/serve-process'

const ROOT = join(import.meta.dirname, '..', '..')
const RESULTS = join(ROOT, 'test-results')
const missing = chromiumMissingReason()

describe.skipIf(missing !== null)('Audit screen over headless mode', () => {
  let seeded: SeededLedger
  let served: ServedProcess
  let chrome: ChromiumSession
  let page: Page

  beforeAll(async () => {
    for (const f of [join(ROOT, 'out', 'main', 'cli.js'), join(ROOT, 'out', 'renderer', 'index.html')])
      if (!existsSync(f)) throw new Error(`${f} is missing: run \`npm run build\` first`)
    await mkdir(RESULTS, { recursive: true })
    seeded = await seedAuditLedger({ settlements: 40 })
    await signHead(seeded, Date.now())
    await seeded.store.snapshot()
    await seeded.store.close()
    served = await startServeProcess(seeded.dataDir, [], 120_000)
    chrome = await launchChromium({ viewport: { width: 1280, height: 900 } })
    page = chrome.page
  }, 300_000)

  afterAll(async () => {
    await chrome?.close()
    await served?.stop()
    await seeded?.dispose()
  })

  afterEach(() => {
    const problems = chrome?.problems.splice(0) ?? []
    expect(problems, formatProblems(problems)).toEqual([])
  })

  it('exports the open quarter as a draft with progress, lists it and verifies it', async () => {
    await page.goto(`${served.url}#/audit`)
    await page.getByTestId('app-shell').waitFor()
    const row = page.getByTestId('audit-period-2026Q3')
    await row.waitFor()
    expect(await row.textContent()).toContain('Open')
    await page.getByTestId('audit-export-2026Q3').click()
    const done = page.getByTestId('audit-last-export')
    await done.waitFor({ timeout: 240_000 })
    expect(await done.textContent()).toMatch(/Exported 2026Q3 \(draft\): 40 settlements, 14 files/)
    expect(await page.getByTestId('audit-export-progress').textContent()).toMatch(/export written/)
    const item = page.locator('[data-testid^="audit-exported-2026Q3-draft-"]')
    await item.waitFor()
    const name = ((await item.getAttribute('data-testid')) ?? '').replace('audit-exported-', '')
    await page.getByTestId(`audit-verify-${name}`).click()
    const result = page.getByTestId(`audit-verify-result-${name}`)
    await result.waitFor({ timeout: 120_000 })
    expect(await result.textContent()).toContain('Verifies')
    expect(await page.getByTestId('audit-config-log').textContent()).toMatch(/cash_out_operator_ppm\s*20000\s*25000/)
    await page.screenshot({ path: join(RESULTS, 'audit-export.png'), fullPage: true })
  }, 400_000)
})
