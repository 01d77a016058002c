// End-to-end test of the Fleet and Settlements views in real Chromium against the BUILT headless mode, spawned as
// `satmachine serve --port 0 --data-dir DIR --secret-key-file FILE` with a fresh data directory and no operator set
// up. Fleet: the empty machine table, refused records and relay summary render; a bad machine id is refused naming
// the field; a well-formed pairing is answered `unavailable` (no signer, no fleet) and the view shows the main
// side's sentence instead of the form. Settlements: the empty worklist renders; `settlements.retry` with a bad id is
// refused inline naming the field (main-side schema), a non-number is refused before sending, and an unknown
// settlement gets the ledger's own refusal. Then the pipeline is set up for real (operator key, REAL NWC wallet
// service, REAL relay): a record from an ATM nobody paired is refused and listed with its reason, and pairing without
// a connected operator signer shows the main side's signer sentence instead of the form.
//
// Fails on any console error, page error or failed request (CSP violations included); screenshots go to
// test-results/. Needs `npx electron-vite build` first and /usr/bin/chromium (skipped otherwise).
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { finalizeEvent, generateSecretKey, getPublicKey } from 'nostr-tools/pure'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { WindowApi } from '../../src-shared/ipc/renderer-api'
import { KIND_ATM_RECORD } from '../../src-shared/nostr/kinds'
import { type ChromiumSession, chromiumMissingReason, formatProblems, launchChromium } from '../support/chromium'
import { LightningNetwork } from '../support/lightning'
import { connectRaw } from '../support/raw-client'
import { type RelayHandle, startRelay } from '../support/relay'
import { type ServedProcess, startServeProcess } from '../support/serve-process'
import { startWalletService, type WalletServiceFixture } from '../support/wallet-service'

const ROOT = resolve(import.meta.dirname, '../..')
const BIN = join(ROOT, 'bin', 'satmachine.mjs')
const RESULTS = join(ROOT, 'test-results')

type Served = ServedProcess
const serve = startServeProcess

const missing = chromiumMissingReason()
if (missing) console.warn(`[fleet.e2e] skipped: ${missing}`)

describe.skipIf(missing !== null)('Fleet and Settlements views in Chromium over headless mode', () => {
  let root: string
  let served: Served
  let chrome: ChromiumSession
  let relay: RelayHandle | undefined
  let walletRelay: RelayHandle | undefined
  let svc: WalletServiceFixture | undefined

  beforeAll(async () => {
    for (const f of [BIN, join(ROOT, 'out', 'renderer', 'index.html')])
      if (!existsSync(f)) throw new Error(`${f} is missing: run \`npx electron-vite build\` first`)
    await mkdir(RESULTS, { recursive: true })
    root = await mkdtemp(join(tmpdir(), 'satmachine-e2e-fleet-'))
    served = await serve(join(root, 'data'), ['--secret-key-file', join(root, 'k')])
    chrome = await launchChromium({ viewport: { width: 1360, height: 1000 } })
  }, 60_000)

  afterAll(async () => {
    await chrome?.close()
    await served?.stop()
    await svc?.close()
    await relay?.stop()
    await walletRelay?.stop()
    if (root) await rm(root, { recursive: true, force: true })
  })

  it('Fleet: empty states, a field refusal, and the unavailable signer message instead of the form', async () => {
    const page = chrome.page
    await page.goto(`${served.url}#/fleet`)
    await page.getByTestId('view-fleet').waitFor()
    await page.getByTestId('empty-fleet').waitFor()
    await page.getByTestId('empty-rejected').waitFor()
    expect(await page.getByTestId('fleet-kpi-machines').textContent()).toMatch(/0\s*\/\s*0/)
    await expect.poll(() => page.getByTestId('fleet-relay-summary').textContent()).toMatch(/No relays configured/)

    // The form: a machine id with a space is refused by the main side's schema, under that input.
    await page.getByTestId('fleet-add').click()
    const form = page.getByTestId('pair-form')
    await form.waitFor()
    await page.getByTestId('pair-atm').fill('ab'.repeat(32))
    await page.getByTestId('pair-machineId').fill('atm 1')
    await page.getByTestId('pair-name').fill('Main street kiosk')
    await page.getByTestId('pair-submit').click()
    await expect.poll(() => page.getByTestId('pair-error-machineId').textContent()).toMatch(/^\s*Must be .*machine id/)
    expect(await page.getByTestId('pair-machineId').getAttribute('aria-invalid')).toBe('true')
    expect(await page.getByTestId('pair-machineId').inputValue()).toBe('atm 1') // nothing typed is lost

    // A fee typed as text that is not a percentage is refused before sending, naming that field.
    await page.getByTestId('pair-fees.cash_out.operatorPpm').fill('5%%')
    await page.getByTestId('pair-submit').click()
    await expect
      .poll(() => page.getByTestId('pair-error-fees.cash_out.operatorPpm').textContent())
      .toMatch(/percentage/)
    await page.getByTestId('pair-fees.cash_out.operatorPpm').fill('2.5')
    await page.getByTestId('pair-machineId').fill('atm-1')
    await form.screenshot({ path: join(RESULTS, 'fleet-pair-form.png') })

    // Well-formed: no operator, no signer → the main side answers `unavailable`; its sentence replaces the form.
    await page.getByTestId('pair-submit').click()
    const msg = page.getByTestId('fleet-unavailable-message')
    await msg.waitFor()
    expect((await msg.textContent())?.trim().length).toBeGreaterThan(10)
    expect(await form.isVisible()).toBe(false)
    expect(await page.getByTestId('fleet-add').isDisabled()).toBe(true)
    await page.screenshot({ path: join(RESULTS, 'fleet-view.png'), fullPage: true })
    // "Try again" offers the form again (the signer may have been connected since), with everything typed kept.
    await page.getByTestId('fleet-try-again').click()
    expect(await page.getByTestId('fleet-unavailable').count()).toBe(0)
    expect(await form.isVisible()).toBe(true)
    expect(await page.getByTestId('pair-machineId').inputValue()).toBe('atm-1')
    expect(await page.getByTestId('pair-name').inputValue()).toBe('Main street kiosk')

    const problems = chrome.problems.splice(0)
    expect(problems, formatProblems(problems)).toEqual([])
  }, 60_000)

  it('Settlements: the empty worklist, and retry refusals inline naming the field', async () => {
    const page = chrome.page
    await page.goto(`${served.url}#/settlements`)
    await page.getByTestId('view-settlements').waitFor()
    await page.getByTestId('settlements-tab-worklist').click()
    await page.getByTestId('empty-settlements').waitFor()
    expect(await page.getByTestId('empty-settlements').textContent()).toMatch(/Nothing needs your attention/)

    const input = page.getByTestId('settlement-id-input')
    const err = page.getByTestId('settlement-id-error')

    // 0 is refused by the main side's schema for `settlements.retry`, naming settlementId.
    await input.fill('0')
    await page.getByTestId('settlement-retry').click()
    await expect.poll(() => err.textContent()).toMatch(/^\s*Settlement id: Must be /)
    expect(await input.getAttribute('aria-invalid')).toBe('true')

    // Text that is not a whole number never leaves the page.
    await input.fill('twelve')
    expect(await err.count()).toBe(0) // typing clears the old message
    await page.getByTestId('settlement-retry').click()
    await expect.poll(() => err.textContent()).toMatch(/Settlement id: Must be a whole number/)

    // A settlement that does not exist: the ledger's own refusal, shown as it says it.
    await input.fill('424242')
    await page.getByTestId('settlement-reset').click()
    // A force reset asks first, in a modal dialog.
    await page.getByTestId('confirm-reset').waitFor()
    await page.getByTestId('confirm-ok').click()
    await expect.poll(() => err.textContent()).toMatch(/424242|not found|no settlement|unknown/i)
    expect(await page.getByTestId('empty-settlements').count()).toBe(1) // the list is unchanged
    await page.screenshot({ path: join(RESULTS, 'settlements-view.png'), fullPage: true })

    const problems = chrome.problems.splice(0)
    expect(problems, formatProblems(problems)).toEqual([])
  }, 60_000)

  it('Fleet: a record from an ATM the console never paired is refused and listed with its reason', async () => {
    // Set up the pipeline for real (operator key, operator wallet on the REAL NWC service, a REAL relay), through
    // the same bridge the views use.
    relay = await startRelay()
    walletRelay = await startRelay()
    svc = await startWalletService({ relayUrls: [walletRelay.url], network: new LightningNetwork() })
    const op = await svc.fundedConnection('operator', 21_000_000n)
    const page = chrome.page
    await page.goto(`${served.url}#/fleet`)
    await page.getByTestId('view-fleet').waitFor()
    const operatorPk = getPublicKey(new Uint8Array(32).fill(0x55))
    const consolePk = await page.evaluate(
      async ({ operatorPk, nwcUri, relayUrl }) => {
        const api = (globalThis as unknown as { api?: WindowApi }).api
        if (!api) throw new Error('window.api missing')
        for (const r of [
          await api['setup.setOperator']({ operatorNpub: operatorPk }),
          await api['setup.setOperatorWallet']({ nwcUri }),
          await api['settings.set']({ relays: [relayUrl] }),
        ])
          if (!r.ok) throw new Error(r.error.message)
        const s = await api['setup.status']()
        if (!s.ok || !s.value.console) throw new Error('no console key')
        return s.value.console.pubkey
      },
      { operatorPk, nwcUri: op.uri, relayUrl: relay.url },
    )
    await expect
      .poll(
        async () =>
          page.evaluate(async () => (await (globalThis as unknown as { api?: WindowApi }).api?.['setup.status']())?.ok),
        { timeout: 20_000 },
      )
      .toBe(true)
    await expect
      .poll(
        async () =>
          page.evaluate(async () => {
            const r = await (globalThis as unknown as { api?: WindowApi }).api?.['setup.status']()
            return r?.ok ? r.value.pipeline.state : 'none'
          }),
        { timeout: 20_000 },
      )
      .toBe('running')

    // An ATM nobody paired sends a record to the console: it must be refused, with a reason, and nothing paid.
    const atmSk = generateSecretKey()
    const forged = finalizeEvent(
      {
        kind: KIND_ATM_RECORD,
        created_at: Math.floor(Date.now() / 1000),
        tags: [
          ['d', 'tx-1'],
          ['p', consolePk],
        ],
        content: 'not a record',
      },
      atmSk,
    )
    const client = await connectRaw(relay.url)
    try {
      const [accepted, why] = await client.publish(forged)
      expect(accepted, why).toBe(true)
    } finally {
      await client.close()
    }
    await expect
      .poll(
        async () => {
          await page.getByTestId('nav-dashboard').click()
          await page.getByTestId('nav-fleet').click()
          await page.getByTestId('fleet-rejected').waitFor()
          return page.locator('tr[data-testid^="rejected-"]').count()
        },
        { timeout: 20_000 },
      )
      .toBeGreaterThan(0)
    const row = page.locator('tr[data-testid^="rejected-"]').first()
    expect(await row.textContent()).toContain(getPublicKey(atmSk).slice(0, 8))
    expect((await row.locator('.code').textContent())?.trim()).toMatch(/^[a-z_]+$/)
    expect(await page.getByTestId('fleet-kpi-relays').textContent()).toMatch(/1\s*\/\s*1/)
    await page.screenshot({ path: join(RESULTS, 'fleet-refused.png'), fullPage: true })

    // The fleet now runs, but no operator signer is connected: pairing is refused before anything is signed, and
    // the view shows the main side's sentence about the signer in place of the form.
    await page.getByTestId('fleet-add').click()
    await page.getByTestId('pair-atm').fill(getPublicKey(generateSecretKey()))
    await page.getByTestId('pair-machineId').fill('atm-2')
    await page.getByTestId('pair-name').fill('Harbour kiosk')
    await page.getByTestId('pair-submit').click()
    await expect.poll(() => page.getByTestId('fleet-unavailable-message').textContent()).toMatch(/signer/)
    expect(await page.getByTestId('pair-form').isVisible()).toBe(false)
    await page.getByTestId('fleet-unavailable').screenshot({ path: join(RESULTS, 'fleet-no-signer.png') })

    const problems = chrome.problems.splice(0)
    expect(problems, formatProblems(problems)).toEqual([])
  }, 90_000)
})
