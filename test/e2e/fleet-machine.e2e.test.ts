// The Fleet screen's machine features in real Chromium over the BUILT `satmachine serve --demo` (embedded relay,
// wallets, the in-process emulated signer, two paired ATM simulators): pairing a key that is already paired shows
// the machine it is paired as and the difference (old → new) and asks to replace it, nothing signed until then;
// "Keep the current one" leaves it as it was; the machine detail panel shows status, last seen, last record,
// delegation window, relay health, the configuration in operator units and its signed history, is reached and
// closed by keyboard. Screenshots in test-results/; no console errors, no failed requests, no placeholder text.
// Needs `npx electron-vite build` first and /usr/bin/chromium (skipped otherwise).
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { FleetMachineView } from '../../src-shared/ipc/contract'
import type { WindowApi } from '../../src-shared/ipc/renderer-api'
import { type ChromiumSession, chromiumMissingReason, formatProblems, launchChromium } from '../support/chromium'
import { type ServedProcess, startServeProcess } from '../support/serve-process'

/** The data-testid of the focused element, read in the page (the test file itself has no DOM types). */
const focusedTestId = () =>
  (
    globalThis as unknown as { document: { activeElement: { getAttribute(n: string): string | null } | null } }
  ).document.activeElement?.getAttribute('data-testid')

const ROOT = resolve(import.meta.dirname, '../..')
const RESULTS = join(ROOT, 'test-results')
const PLACEHOLDER = /coming soon|placeholder|lorem ipsum|todo\b|not implemented/i
const missing = chromiumMissingReason()
if (missing) console.warn(`[fleet-machine.e2e] skipped: ${missing}`)

describe.skipIf(missing !== null)('Fleet machine detail and replace confirmation in Chromium (demo)', () => {
  let root: string
  let served: ServedProcess
  let chrome: ChromiumSession

  beforeAll(async () => {
    if (!existsSync(join(ROOT, 'out', 'renderer', 'index.html'))) throw new Error('run `npx electron-vite build` first')
    await mkdir(RESULTS, { recursive: true })
    root = await mkdtemp(join(tmpdir(), 'satmachine-e2e-fleet-machine-'))
    served = await startServeProcess(join(root, 'demo'), ['--demo'], 90_000)
    chrome = await launchChromium({ viewport: { width: 1360, height: 1000 } })
  }, 90_000)

  afterAll(async () => {
    await chrome?.close()
    await served?.stop()
    if (root) await rm(root, { recursive: true, force: true })
  })

  it('asks before replacing an already paired machine, and shows a machine in detail', async () => {
    const page = chrome.page
    await page.goto(`${served.url}#/fleet`)
    await page.getByTestId('view-fleet').waitFor()
    const machines = async (): Promise<FleetMachineView[]> =>
      page.evaluate(async () => {
        const r = await (globalThis as unknown as { api: WindowApi }).api['fleet.machines']()
        if (!r.ok) throw new Error(r.error.message)
        return r.value
      })
    await expect.poll(async () => (await machines()).length, { timeout: 60_000, interval: 500 }).toBe(2)
    const m = (await machines()).find((x) => x.machineId !== null)!
    await page.reload()
    await page.getByTestId(`details-${m.atmPubkey}`).waitFor()

    // Pair the same key again under another name: the comparison, not a signature.
    await page.getByTestId('fleet-add').click()
    await page.getByTestId('pair-atm').fill(m.atmPubkey)
    await page.getByTestId('pair-machineId').fill(m.machineId!)
    await page.getByTestId('pair-name').fill('Replaced kiosk')
    await page.getByTestId('pair-fees.cash_out.operatorPpm').fill('7')
    await page.getByTestId('pair-submit').click()
    const offer = page.getByTestId('pair-replace')
    await offer.waitFor()
    expect(await page.getByTestId('pair-replace-message').textContent()).toMatch(
      new RegExp(`already paired as machine ${m.machineId}`),
    )
    const nameRow = page.getByTestId('pair-replace-name')
    expect(await nameRow.locator('.old').textContent()).toBe(m.name)
    expect(await nameRow.locator('.new').textContent()).toBe('Replaced kiosk')
    expect(await page.getByTestId('pair-replace-fees.cash_out.operatorPpm').locator('.new').textContent()).toBe('7%')
    // The question has the focus (keyboard and screen-reader users land on it).
    expect(await page.evaluate(focusedTestId)).toBe('pair-replace')
    expect(await page.getByTestId('signer-dialog').count()).toBe(0) // nothing asked of the signer
    await page.getByTestId('pair-form').screenshot({ path: join(RESULTS, 'fleet-replace-confirmation.png') })
    await page.getByTestId('pair-replace-cancel').click()
    expect(await offer.count()).toBe(0)
    expect((await machines()).find((x) => x.atmPubkey === m.atmPubkey)?.name).toBe(m.name)

    // The detail panel, opened from the keyboard.
    await page.getByTestId(`details-${m.atmPubkey}`).focus()
    await page.keyboard.press('Enter')
    const panel = page.getByTestId('machine-detail')
    await panel.waitFor()
    await expect.poll(() => panel.getByTestId('machine-config').count()).toBe(1)
    expect(await panel.getByTestId('machine-status').textContent()).toMatch(/Active/)
    expect(await panel.getByTestId('machine-delegation').textContent()).toMatch(/days left/)
    expect(await panel.getByTestId('machine-relays').textContent()).toMatch(/ws:\/\/127\.0\.0\.1:\d+.*Connected/s)
    expect(await panel.getByTestId('machine-config-fees.cash_out.operatorPpm').textContent()).toMatch(/^\d+(\.\d+)?%$/)
    expect(await panel.getByTestId('machine-config-limits.cash_out.maxFiatMinor').textContent()).toMatch(
      /\d+\.\d\d [A-Z]{3}/,
    )
    expect(await panel.getByTestId('machine-history').textContent()).toMatch(/Signed .*Name: /s)
    // The panel reads once when opened (no live refresh yet): either a time or the plain "nothing yet" sentence.
    expect(await panel.getByTestId('machine-last-seen').textContent()).toMatch(/ago|Nothing received yet|\d/)
    const text = (await panel.textContent()) ?? ''
    expect(text).not.toMatch(PLACEHOLDER)
    expect(text).not.toMatch(/ppm|Minor|undefined|NaN/)
    await page.screenshot({ path: join(RESULTS, 'fleet-machine-detail.png'), fullPage: true })
    await page.keyboard.press('Escape')
    expect(await panel.count()).toBe(0)
    expect(await page.evaluate(focusedTestId)).toBe(`details-${m.atmPubkey}`)

    const problems = chrome.problems.splice(0)
    expect(problems, formatProblems(problems)).toEqual([])
  }, 150_000)
})
