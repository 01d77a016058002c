// End-to-end test of the Liquidity providers screen (src-renderer/views/LpsView.vue, components/LpDetail.vue) in real
// Chromium against the BUILT headless mode (`satmachine serve`), with a real LNURL-pay server in this process for
// the live destination check. A new operator adds two providers through the dialog: the first with a Lightning
// address that does not answer (refused under the field, in operator words), then with a valid keysend node; the
// second with a Lightning address that answers. Deposits are recorded (pending) and confirmed; the list shows both
// balances; a statement opens on screen; a bad amount is refused in the operator's units; the mode is read-only
// with its reason once used; the dust preview shows what a settlement would pay; the dialog is reachable and
// closable from the keyboard. Screenshots in test-results/, no console errors, no failed requests, no placeholder
// text. Needs `npx electron-vite build` first and /usr/bin/chromium (skipped otherwise).
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { npubEncode } from 'nostr-tools/nip19'
import { getPublicKey } from 'nostr-tools/pure'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LightningNetwork } from '../../src-main/embedded/lightning'
import { type LnurlServer, startLnurlServer } from '../../src-main/embedded/lnurl-server'
import { type ChromiumSession, chromiumMissingReason, formatProblems, launchChromium } from '../support/chromium'
import { type ServedProcess, startServeProcess } from '../support/serve-process'

const ROOT = resolve(import.meta.dirname, '../..')
const RESULTS = join(ROOT, 'test-results')
/** Text no finished screen may show. */
const PLACEHOLDER = /coming soon|placeholder|lorem ipsum|todo\b|not implemented/i
/** Schema wording that must never reach the operator. */
const RAW = /integer in \[|expected (object|string)|args\[0\]|amountMinor|minor units/i
const NODE_ID = '0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798'
/** Text as read, with Intl's no-break spaces as plain ones and the ends trimmed. */
const norm = (t: string | null) => (t ?? '').replace(/\u00a0/g, ' ').trim()
/** The focused element's id and test id, read in the page. */
const focused = () => {
  const d = (
    globalThis as unknown as {
      document: { activeElement: { id: string; getAttribute(n: string): string | null } | null }
    }
  ).document
  return { id: d.activeElement?.id ?? null, testid: d.activeElement?.getAttribute('data-testid') ?? null }
}
const npubOf = (n: number) => npubEncode(getPublicKey(new Uint8Array(32).fill(n)))

const missing = chromiumMissingReason()
if (missing) console.warn(`[lps.e2e] skipped: ${missing}`)

describe.skipIf(missing !== null)('Liquidity providers screen in Chromium over headless mode', () => {
  let root: string
  let served: ServedProcess
  let chrome: ChromiumSession
  let lnurl: LnurlServer

  beforeAll(async () => {
    for (const f of [join(ROOT, 'bin', 'satmachine.mjs'), join(ROOT, 'out', 'renderer', 'index.html')])
      if (!existsSync(f)) throw new Error(`${f} is missing: run \`npx electron-vite build\` first`)
    await mkdir(RESULTS, { recursive: true })
    root = await mkdtemp(join(tmpdir(), 'satmachine-e2e-lps-'))
    const net = new LightningNetwork()
    lnurl = await startLnurlServer({ beto: net.createWallet('beto') })
    served = await startServeProcess(join(root, 'data'), ['--secret-key-file', join(root, 'k')])
    chrome = await launchChromium({ viewport: { width: 1360, height: 1000 } })
  }, 60_000)

  afterAll(async () => {
    await chrome?.close()
    await served?.stop()
    await lnurl?.close()
    if (root) await rm(root, { recursive: true, force: true })
  })

  it('adds two providers with live-checked destinations, confirms deposits, lists them and opens a statement', async () => {
    const page = chrome.page
    await page.goto(`${served.url}#/lps`)
    await page.getByTestId('empty-lps').waitFor()
    await page.screenshot({ path: join(RESULTS, 'lps-empty.png'), fullPage: true })

    // Keyboard: the add button opens the dialog with focus in it; Escape closes it and focus returns.
    await page.getByTestId('lp-add').focus()
    await page.keyboard.press('Enter')
    const dialog = page.getByTestId('lp-add-dialog')
    await dialog.waitFor({ state: 'visible' })
    expect((await page.evaluate(focused)).id).toBe('lp-add-npub')
    await page.keyboard.press('Escape')
    await dialog.waitFor({ state: 'hidden' })
    expect((await page.evaluate(focused)).testid).toBe('lp-add')

    // Provider 1: a Lightning address that does not answer is refused under its field …
    await page.getByTestId('lp-add').click()
    await dialog.getByLabel('Name', { exact: true }).fill('Ana')
    await dialog.getByLabel('Nostr key (npub)', { exact: true }).fill(npubOf(0x51))
    await dialog.getByLabel('Currency', { exact: true }).fill('GTQ')
    await page.getByTestId('lp-add-kind').selectOption('lightning_address')
    await page.getByTestId('lp-add-destination').fill('nobody@127.0.0.1:1')
    await page.getByTestId('lp-add-submit').click()
    const destError = page.getByTestId('lp-add-destination-error')
    await destError.waitFor()
    const refused = norm(await destError.textContent())
    expect(refused).toMatch(/^Nobody@127\.0\.0\.1:1 did not answer as a Lightning address/)
    expect(refused).not.toMatch(RAW)
    expect(await page.getByTestId('lp-add-destination').getAttribute('aria-invalid')).toBe('true')
    await page.screenshot({ path: join(RESULTS, 'lps-add-refused.png'), fullPage: true })
    // … and nothing was stored.
    expect(await page.locator('[data-lp-row]').count()).toBe(0)

    // … then a valid keysend node goes through.
    await page.getByTestId('lp-add-kind').selectOption('keysend')
    await page.getByTestId('lp-add-destination').fill(NODE_ID)
    await page.getByTestId('lp-add-submit').click()
    await dialog.waitFor({ state: 'hidden' })
    const detail = page.getByTestId('lp-detail')
    await detail.waitFor()
    expect(norm(await page.locator('#lp-detail-title').textContent())).toBe('Ana')
    expect(norm(await page.getByTestId('lp-detail-health').textContent())).toMatch(
      /Reachable: the node id is a valid public key/,
    )

    // Deposit: recorded → pending → confirmed. A bad amount first, refused in the operator's units.
    await page.getByTestId('lp-deposit-amount').fill('12.345')
    await page.getByTestId('lp-deposit-record').click()
    await expect
      .poll(async () => norm(await page.getByTestId('lp-deposit-error').textContent()))
      .toBe('At most 2 decimals.')
    await page.getByTestId('lp-deposit-amount').fill('1,500')
    await page.getByTestId('lp-deposit-record').click()
    const depRow = page.getByTestId('lp-deposit-row').first()
    await expect.poll(() => depRow.getAttribute('data-status')).toBe('pending')
    expect(norm(await page.locator('[data-lp-row]').first().getByTestId('lp-pending').textContent())).toContain(
      'GTQ 1,500.00 pending',
    )
    await page.getByTestId('lp-deposit-confirm').click()
    await expect.poll(() => depRow.getAttribute('data-status')).toBe('confirmed')
    await expect.poll(async () => norm(await page.getByTestId('lp-detail-balance').textContent())).toBe('GTQ 1,500.00')
    // Once used, the mode is read-only with the reason.
    await page.getByTestId('lp-readonly-mode').waitFor()
    expect(norm(await page.getByTestId('lp-readonly-mode').textContent())).toMatch(/already has deposits/)

    // Provider 2: a Lightning address that answers.
    await page.getByTestId('lp-add').click()
    await dialog.getByLabel('Name', { exact: true }).fill('Beto')
    await dialog.getByLabel('Nostr key (npub)', { exact: true }).fill(npubOf(0x52))
    await dialog.getByLabel('Currency', { exact: true }).fill('GTQ')
    await page.getByTestId('lp-add-kind').selectOption('lightning_address')
    await page.getByTestId('lp-add-destination').fill(lnurl.address('beto'))
    await page.getByTestId('lp-add-submit').click()
    await dialog.waitFor({ state: 'hidden' })
    await expect.poll(async () => norm(await page.locator('#lp-detail-title').textContent())).toBe('Beto')
    expect(norm(await page.getByTestId('lp-detail-health').textContent())).toMatch(
      /Reachable: beto@127\.0\.0\.1:\d+ answered: it accepts 1 to 100000000 sats per payment/,
    )
    // The destination's health can be tested again without changing it.
    await page.getByTestId('lp-dest-recheck').click()
    await expect.poll(async () => norm(await page.getByTestId('lp-done').textContent())).toMatch(/^Reachable: beto@/)
    await page.getByTestId('lp-deposit-amount').fill('250.50')
    await page.getByTestId('lp-deposit-record').click()
    await page.getByTestId('lp-deposit-confirm').click()
    await expect.poll(async () => norm(await page.getByTestId('lp-detail-balance').textContent())).toBe('GTQ 250.50')

    // Both on the list, with their balances, destinations and health.
    const rows = page.locator('[data-lp-row]')
    await expect.poll(() => rows.count()).toBe(2)
    const texts = (await rows.allTextContents()).map(norm)
    expect(texts[0]).toMatch(
      /Ana[\s\S]*Flow[\s\S]*GTQ 1,500\.00[\s\S]*0 sats[\s\S]*Keysend 0279be667ef9…[\s\S]*Reachable/,
    )
    expect(texts[1]).toMatch(/Beto[\s\S]*GTQ 250\.50[\s\S]*beto@127\.0\.0\.1:\d+[\s\S]*Reachable[\s\S]*None yet/)
    await page.getByTestId('view-title').evaluate((el) => el.scrollIntoView({ block: 'start' }))
    await page.screenshot({ path: join(RESULTS, 'lps-list.png'), fullPage: true })

    // Ana's statement for this month so far, on screen.
    await rows.first().getByTestId('lp-open').click()
    await expect.poll(async () => norm(await page.locator('#lp-detail-title').textContent())).toBe('Ana')
    await page.getByTestId('lp-statement-show').click()
    const statement = page.getByTestId('lp-statement-view')
    await statement.waitFor()
    expect(norm(await page.getByTestId('lp-statement-deposited').textContent())).toBe('+ GTQ 1,500.00')
    expect(norm(await page.getByTestId('lp-statement-closing').textContent())).toBe('GTQ 1,500.00')
    expect(norm(await page.getByTestId('lp-statement-lines').textContent())).toContain('Deposit confirmed')
    // No relays here, so sending says why in operator words.
    await page.getByTestId('lp-statement-send').click()
    await expect
      .poll(async () => norm(await page.getByTestId('lp-statement-error').textContent()))
      .toMatch(/not connected to its relays/)

    // Dust preview: what a settlement at a given bitcoin price would pay, before anything is booked.
    await page.getByLabel('Price of 1 BTC (GTQ)').fill('750,000')
    await expect
      .poll(async () => norm(await page.getByTestId('lp-dust-preview').textContent()))
      .toMatch(/Settles GTQ 1,500\.00 for 199,999\.5 sats\./)
    await page.getByTestId('lp-statement').evaluate((el) => el.scrollIntoView({ block: 'start' }))
    await page.screenshot({ path: join(RESULTS, 'lps-detail-statement.png'), fullPage: true })

    // A correction of a confirmed deposit is a reversing entry, asked for in a dialog.
    await page.getByTestId('lp-deposit-correct').click()
    await page.getByLabel(/Amount to take back/).fill('100')
    await page.getByLabel('Reason').first().fill('counted twice')
    await page.getByRole('button', { name: 'Book the correction' }).click()
    await expect.poll(async () => norm(await page.getByTestId('lp-detail-balance').textContent())).toBe('GTQ 1,400.00')
    await expect
      .poll(async () => norm(await page.getByTestId('lp-deposit-row').first().textContent()))
      .toContain('− GTQ 100.00')

    // Beto: settle 0.50 of his balance as dust, then deactivate him behind the confirmation dialog.
    await rows.nth(1).getByTestId('lp-open').click()
    await expect.poll(async () => norm(await page.locator('#lp-detail-title').textContent())).toBe('Beto')
    await page.getByLabel('Price of 1 BTC (GTQ)').fill('750000')
    await page.getByLabel(/Amount \(GTQ, default all\)/).fill('0.50')
    await expect
      .poll(async () => norm(await page.getByTestId('lp-dust-preview').textContent()))
      .toBe('Settles GTQ 0.50 for 66.666 sats.')
    await page.getByRole('button', { name: 'Settle as previewed' }).click()
    await expect.poll(async () => norm(await page.getByTestId('lp-detail-balance').textContent())).toBe('GTQ 250.00')
    await expect.poll(async () => norm(await rows.nth(1).getByTestId('lp-accrued').textContent())).toBe('66.666 sats')
    await page.getByTestId('lp-deactivate').click()
    const confirm = page.getByTestId('lp-deactivate-dialog')
    await confirm.waitFor({ state: 'visible' })
    await confirm.getByLabel('Reason').fill('moved away')
    await confirm.getByRole('button', { name: 'Deactivate', exact: true }).click()
    await confirm.waitFor({ state: 'hidden' })
    await expect.poll(async () => norm(await page.getByTestId('lp-detail').textContent())).toMatch(/Deactivated/)
    await expect.poll(async () => norm(await rows.nth(1).textContent())).toMatch(/Deactivated — lp-/)
    await page.screenshot({ path: join(RESULTS, 'lps-deactivated.png'), fullPage: true })

    const screen = norm(await page.locator('main').textContent())
    expect(screen).not.toMatch(PLACEHOLDER)
    expect(screen).not.toMatch(RAW)
    expect(chrome.problems, formatProblems(chrome.problems)).toEqual([])
  }, 120_000)
})
