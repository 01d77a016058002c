// Issue 9's walkthrough: a new operator's first day, in real Chromium over the BUILT headless mode, on the same
// embedded parts as the demo — a REAL relay process for the fleet, the REAL @getalby/sdk NIP-47 wallet service on
// the simulated Lightning network (its own relay process), a real LNURL-pay server, the in-process emulated signer
// drawn on screen (`--demo emulated-signer`), and the ATM simulator. Everything the operator does goes through the
// screens, and every signature is approved with the on-screen device panel's Approve button:
//   1. Get started: the signer's key pinned on the device, the relay checked live, the operator wallet checked
//      (get_info, get_balance), fees saved, the first ATM paired (delegation, config, roster approved on the device);
//   2. two LPs added on the Liquidity providers screen (a Lightning address and a keysend node, each checked live),
//      each with a deposit recorded (pending) and confirmed;
//   3. the ATM sells a cash-out: it lands on the Dashboard figures and in the Settlements list; its detail drawer
//      shows every badge green (signature, delegation, roster, wallet proof with the preimage, receipt published
//      with its event id and relays) and a leg for each LP;
//   4. both LPs are paid (their wallets received the sats; the LP screen shows the paid amount and the last payout);
//   5. a record whose claimed fee disagrees with ours lands on the worklist with its reason, and is resolved there
//      (the resolution, with its note, then shows in the settlement's drawer); the platform fee's and the commission
//      splits' sats, which have no destination yet, are listed as waiting;
//   6. the ATM is revoked (approved on the device); the worklist reminds the operator to revoke its wallet
//      connection in the wallet too, and the reminder goes once they confirm it in the dialog.
// Every screen is visited and screenshotted into test-results/walkthrough-*.png; the test fails on any console error,
// page error or failed request, and on placeholder text anywhere: "coming soon", "TODO", "lorem", raw "undefined" /
// "NaN", or an element whose whole text is "—" where a figure is due.
// Needs `npx electron-vite build` first and /usr/bin/chromium (skipped otherwise).
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { npubEncode } from 'nostr-tools/nip19'
import { getPublicKey } from 'nostr-tools/pure'
import type { Locator, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type AtmSimulator, type Customer, createAtmSimulator } from '../../src-main/atm-sim/simulator'
import type { SimWallet } from '../../src-main/embedded/lightning'
import { type LnurlServer, startLnurlServer } from '../../src-main/embedded/lnurl-server'
import type { SettlementDetailView, SettlementPageView } from '../../src-shared/ipc/settlements'
import { type ChromiumSession, chromiumMissingReason, formatProblems, launchChromium } from '../support/chromium'
import { LightningNetwork } from '../support/lightning'
import { type RelayHandle, startRelay } from '../support/relay'
import { type ServedProcess, startServeProcess } from '../support/serve-process'
import {
  RECEIVE_ONLY_METHODS,
  startWalletService,
  type WalletConnection,
  type WalletServiceFixture,
} from '../support/wallet-service'

const ROOT = resolve(import.meta.dirname, '../..')
const BIN = join(ROOT, 'bin', 'satmachine.mjs')
const RESULTS = join(ROOT, 'test-results')
const VIEWS = ['dashboard', 'settlements', 'lps', 'fleet', 'settings', 'signer', 'audit'] as const
/** Text no finished screen may show. */
const PLACEHOLDER = /coming soon|placeholder|lorem|\btodo\b|not implemented|\bundefined\b|\bNaN\b|\[object /i
const ATM_SK = new Uint8Array(32).fill(0x5a)
const ATM_PK = getPublicKey(ATM_SK)
/** Text as read, with Intl's no-break spaces as plain ones and the ends trimmed. */
const norm = (t: string | null) => (t ?? '').replace(/[\u00a0\u202f]/g, ' ').trim()

const missing = chromiumMissingReason()
if (missing) console.warn(`[walkthrough.e2e] skipped: ${missing}`)

/** The few DOM members the in-page check uses: this file compiles without the DOM library (tsconfig.node.json). */
interface PageNode {
  children: { length: number }
  textContent: string | null
  getAttribute(name: string): string | null
  closest(selector: string): PageNode | null
  parentElement: PageNode | null
  tagName: string
}

/**
 * In the page: every element inside `main` whose whole text is a dash standing for a missing figure ("—", "–",
 * "-"), named by its nearest data-testid (or tag path) so a failure says where it was.
 */
function dashFigures(): string[] {
  const doc = (globalThis as unknown as { document: { querySelectorAll(s: string): Iterable<PageNode> } }).document
  const out: string[] = []
  for (const el of doc.querySelectorAll('main *')) {
    if (el.children.length > 0) continue
    const t = (el.textContent ?? '').trim()
    if (t !== '—' && t !== '–' && t !== '-') continue
    const named = el.closest('[data-testid]')
    out.push(`${el.tagName.toLowerCase()} in ${named?.getAttribute('data-testid') ?? '(no test id)'}`)
  }
  return out
}

describe.skipIf(missing !== null)("a new operator's walkthrough in Chromium (issue 9)", () => {
  let root: string
  let relay: RelayHandle
  let walletRelay: RelayHandle
  let svc: WalletServiceFixture
  let op: WalletConnection
  let net: LightningNetwork
  let lnurl: LnurlServer
  let ana: SimWallet
  let beto: SimWallet
  let customer: Customer
  let served: ServedProcess
  let chrome: ChromiumSession
  const sims: AtmSimulator[] = []

  beforeAll(async () => {
    for (const f of [BIN, join(ROOT, 'out', 'renderer', 'index.html'), join(ROOT, 'out', 'main', 'cli.js')])
      if (!existsSync(f)) throw new Error(`${f} is missing: run \`npx electron-vite build\` first`)
    await mkdir(RESULTS, { recursive: true })
    root = await mkdtemp(join(tmpdir(), 'satmachine-e2e-walkthrough-'))
    relay = await startRelay()
    walletRelay = await startRelay()
    net = new LightningNetwork()
    svc = await startWalletService({ relayUrls: [walletRelay.url], network: net })
    // 10,000,000 sats in the operator wallet: LP payouts are paid from it.
    op = await svc.fundedConnection('operator', 10_000_000_000n)
    ana = net.createWallet('ana (Lightning address)')
    beto = net.createWallet('beto (keysend)')
    lnurl = await startLnurlServer({ ana })
    const customerWallet = net.createWallet('customers', 10n ** 15n)
    customer = {
      payInvoice: async (invoice) => {
        customerWallet.payInvoice(invoice)
      },
      makeInvoice: async (amountMsat) => customerWallet.makeInvoice(amountMsat).invoice!,
    }
    // A console that is not set up: the in-process emulated signer stands in for the USB device (demo banner on).
    served = await startServeProcess(join(root, 'data'), [
      '--secret-key-file',
      join(root, 'keys', 'secret.key'),
      '--demo',
      'emulated-signer',
    ])
    chrome = await launchChromium({ viewport: { width: 1360, height: 1000 } })
  }, 120_000)

  afterAll(async () => {
    for (const s of sims) await s.close()
    await chrome?.close()
    await served?.stop()
    await lnurl?.close()
    await svc?.close()
    await relay?.stop()
    await walletRelay?.stop()
    if (root) await rm(root, { recursive: true, force: true })
  })

  /** Calls the page's own bridge (the same one the screens use) and answers the value, throwing on a refusal. */
  const call = <T>(page: Page, method: string, arg?: unknown): Promise<T> =>
    page.evaluate(
      async ([m, a]) => {
        const g = globalThis as unknown as {
          api: Record<string, (x?: unknown) => Promise<{ ok: boolean; value?: unknown; error?: unknown }>>
        }
        // A method without arguments refuses even an explicit undefined.
        const r = a === null ? await g.api[m as string]!() : await g.api[m as string]!(a)
        if (!r.ok) throw new Error(JSON.stringify(r.error))
        return r.value
      },
      [method, arg ?? null] as const,
    ) as Promise<T>

  /**
   * The screen as it stands: no placeholder text and no dash where a figure is due inside `main`, and a
   * full-page screenshot under test-results/walkthrough-<name>.png.
   */
  async function screen(page: Page, name: string): Promise<void> {
    const text = norm(await page.locator('main').textContent())
    expect(text, `${name} shows placeholder text`).not.toMatch(PLACEHOLDER)
    expect(await page.evaluate(dashFigures), `${name} shows a dash where a figure is due`).toEqual([])
    await page.screenshot({ path: join(RESULTS, `walkthrough-${name}.png`), fullPage: true })
  }

  /** The emulated device's own screen, read through the bridge: the review's title and how many it has answered. */
  const deviceScreen = (page: Page) =>
    call<{ review: { pages: Array<{ title: string }>; page: number } | null; answered: number } | null>(
      page,
      'signer.emulator.screen',
    )

  /**
   * Waits for the signer dialog's on-screen device to show a review titled `title` (on the device and in the
   * panel), screenshots it, presses Approve on the panel and waits until the device has answered it — so the next
   * call cannot press on a review that is already done (two reviews in a row can have the same title).
   */
  async function approveOnDevice(page: Page, title: RegExp, shot?: string): Promise<void> {
    const panel = page.getByTestId('signer-dialog').getByTestId('device-panel')
    let answered = -1
    await expect
      .poll(
        async () => {
          const s = await deviceScreen(page)
          const onDevice = s?.review ? (s.review.pages[s.review.page]?.title ?? '') : ''
          const onPanel = await panel
            .getByTestId('device-title')
            .textContent({ timeout: 1_000 })
            .catch(() => '')
          answered = s?.answered ?? -1
          return title.test(onDevice) && onPanel?.trim() === onDevice
        },
        { timeout: 30_000, message: `the device to show ${title}` },
      )
      .toBe(true)
    if (shot) await page.screenshot({ path: join(RESULTS, `walkthrough-${shot}.png`), fullPage: true })
    await panel.getByTestId('device-approve').click()
    await expect
      .poll(async () => (await deviceScreen(page))?.answered ?? -1, {
        timeout: 30_000,
        message: 'the device to answer',
      })
      .toBeGreaterThan(answered)
  }

  /** Opens a screen from the side navigation and waits for it. */
  async function go(page: Page, view: (typeof VIEWS)[number]): Promise<void> {
    await page.getByTestId(`nav-${view}`).click()
    await page.getByTestId(`view-${view}`).waitFor()
  }

  /** The LP list row of the provider named `name`. */
  const lpRow = (page: Page, name: string): Locator => page.locator('[data-lp-row]', { hasText: name })

  it('pairs an ATM, adds two LPs, sells, verifies, pays both LPs and clears the worklist — all on screen', async () => {
    const page = chrome.page

    // ---- 1. Get started ----
    await page.goto(served.url)
    await page.getByTestId('view-welcome').waitFor()
    await expect.poll(() => page.getByTestId('banner').textContent()).toMatch(/Demo mode/)
    await page.getByTestId('signer-pin-device').waitFor({ timeout: 30_000 })
    await screen(page, '01-welcome-signer')
    await page.getByTestId('signer-pin-device').click()
    await approveOnDevice(page, /Matches your app/, '01-device-pin')
    await page.getByTestId('signer-device-usable').waitFor({ timeout: 30_000 })
    await page.getByTestId('signer-dialog-close').click()
    await expect.poll(() => page.getByTestId('signer-next').isDisabled()).toBe(false)
    await page.getByTestId('signer-next').click()

    await page.getByTestId('onboarding-panel-relays').waitFor()
    await page.getByTestId('relay-input-0').fill(relay.url)
    await page.getByTestId('relay-save').click()
    await page.getByTestId('onboarding-panel-wallet').waitFor({ timeout: 30_000 })

    await page.getByTestId('wallet-input').fill(op.uri)
    await page.getByTestId('wallet-check').click()
    await expect
      .poll(() => page.getByTestId('wallet-balance').textContent({ timeout: 1_000 }).catch(''.toString), {
        timeout: 30_000,
      })
      .toBe('10,000,000 sats')
    await screen(page, '02-welcome-wallet')
    await page.getByTestId('wallet-save').click()

    await page.getByTestId('onboarding-panel-fees').waitFor()
    await page.getByTestId('fees-preview').waitFor()
    await screen(page, '03-welcome-fees')
    await page.getByTestId('fees-save').click()

    // The first machine: the receive-only wallet connection the ATM makes its invoices with, checked like the
    // operator's; then delegation, machine config and roster, each approved on the device.
    await page.getByTestId('onboarding-panel-machine').waitFor()
    const receive = await svc.addConnection({ wallet: op.wallet, methods: RECEIVE_ONLY_METHODS })
    await page.getByTestId('pair-atm').fill(npubEncode(ATM_PK))
    await page.getByTestId('pair-machineId').fill('atm-walk-1')
    await page.getByTestId('pair-name').fill('Main Street kiosk')
    await page.getByLabel('Connection URI (receive-only)').fill(receive.uri)
    await page.getByTestId('pair-submit').click()
    await approveOnDevice(page, /Delegate signing/, '04-device-delegation')
    await approveOnDevice(page, /Sign event/, '04-device-config')
    await approveOnDevice(page, /Sign event/)
    const uriBox = page.getByTestId('oneshot-uri')
    await uriBox.waitFor({ timeout: 30_000 })
    const pairingUri = (await uriBox.inputValue()).trim()
    expect(pairingUri).toMatch(/^satmachine-pair:/)
    if ((await page.getByTestId('signer-dialog').count()) > 0) await page.getByTestId('signer-dialog-close').click()
    // The ATM takes the pairing URI (as it would from the QR code) and fetches its signed configuration.
    const sim = await createAtmSimulator({ pairingUri, atmSecretKey: ATM_SK, customer, publishDeadlineMs: 30_000 })
    sims.push(sim)
    await expect
      .poll(
        () =>
          page
            .getByTestId('machine-split')
            .textContent({ timeout: 1_000 })
            .catch(() => ''),
        { timeout: 60_000 },
      )
      .toBe('Your commission split applies to this machine.')
    await screen(page, '05-welcome-paired')
    await page.getByTestId('onboarding-finish').click()
    await page.getByTestId('view-dashboard').waitFor()

    // ---- 2. Two liquidity providers, each with a confirmed deposit ----
    await go(page, 'lps')
    await page.getByTestId('empty-lps').waitFor()
    await screen(page, '06-lps-empty')
    const dialog = page.getByTestId('lp-add-dialog')
    const lps = [
      {
        name: 'Ana',
        npub: npubEncode(getPublicKey(new Uint8Array(32).fill(0x61))),
        kind: 'lightning_address',
        dest: lnurl.address('ana'),
        deposit: '100',
        shown: /^EUR 100\.00$/,
      },
      {
        name: 'Beto',
        npub: npubEncode(getPublicKey(new Uint8Array(32).fill(0x62))),
        kind: 'keysend',
        dest: beto.nodePubkey,
        deposit: '60.50',
        shown: /^EUR 60\.50$/,
      },
    ] as const
    for (const lp of lps) {
      await page.getByTestId('lp-add').click()
      await dialog.waitFor({ state: 'visible' })
      await page.getByTestId('lp-add-name').fill(lp.name)
      await page.getByTestId('lp-add-npub').fill(lp.npub)
      await page.getByTestId('lp-add-currency').fill('EUR')
      await page.getByTestId('lp-add-kind').selectOption(lp.kind)
      await page.getByTestId('lp-add-destination').fill(lp.dest)
      // Paid from the first sat, so the one sale of this walkthrough pays them.
      await page.getByTestId('lp-add-threshold').fill('1')
      await page.getByTestId('lp-add-submit').click()
      await dialog.waitFor({ state: 'hidden', timeout: 30_000 })
      await expect.poll(async () => norm(await page.locator('#lp-detail-title').textContent())).toBe(lp.name)
      expect(norm(await page.getByTestId('lp-detail-health').textContent())).toMatch(/^Reachable/)
      // Recorded (pending), then confirmed.
      await page.getByTestId('lp-deposit-amount').fill(lp.deposit)
      await page.getByTestId('lp-deposit-record').click()
      const depRow = page.getByTestId('lp-deposit-row').first()
      await expect.poll(() => depRow.getAttribute('data-status')).toBe('pending')
      await page.getByTestId('lp-deposit-confirm').click()
      await expect.poll(() => depRow.getAttribute('data-status')).toBe('confirmed')
      await expect.poll(async () => norm(await page.getByTestId('lp-detail-balance').textContent())).toMatch(lp.shown)
    }
    await expect.poll(() => page.locator('[data-lp-row]').count()).toBe(2)
    await screen(page, '07-lps-added')

    // ---- 3. A cash-out: on the Dashboard and in the Settlements list, every badge green in its drawer ----
    const sale = await sim.sell({ fiatMinor: 5_000n })
    expect(sale.accepted).toBe(true)
    const paymentHash = sale.paymentHash as string
    let settlementId = 0
    await expect
      .poll(
        async () => {
          const p = await call<SettlementPageView>(page, 'settlements.list', {
            filter: { search: paymentHash },
            limit: 5,
          })
          settlementId = p.rows[0]?.id ?? 0
          return p.rows[0]?.status
        },
        { timeout: 90_000, interval: 500, message: 'the cash-out to be booked and processed' },
      )
      .toBe('processed')

    await go(page, 'dashboard')
    await expect
      .poll(async () => norm(await page.getByTestId('dash-cash_out-count').textContent()), { timeout: 30_000 })
      .toMatch(/^1\s*transaction$/)
    await expect.poll(() => page.getByTestId('dash-cash_out-fiat-EUR').count(), { timeout: 30_000 }).toBe(1)
    expect(norm(await page.getByTestId('dash-cash_out-fiat-EUR').textContent())).toContain('50.00')
    await expect.poll(async () => norm(await page.getByTestId('kpi-settlements-value').textContent())).toBe('1')
    expect(norm(await page.getByTestId('kpi-machines-value').textContent())).toMatch(/^1\s*\/\s*1$/)
    expect(norm(await page.getByTestId('dash-platform-fee').textContent())).toMatch(/[1-9].*sats/)
    await expect
      .poll(() =>
        page
          .getByTestId('dash-wallet-balance')
          .textContent({ timeout: 1_000 })
          .catch(() => ''),
      )
      .toMatch(/\d.*sats/)
    await page.getByTestId('chart-volume').locator('svg').first().waitFor()
    await screen(page, '08-dashboard-sale')

    await go(page, 'settlements')
    const row = page.getByTestId(`settlement-row-${settlementId}`)
    await row.waitFor({ timeout: 30_000 })
    expect(norm(await row.textContent())).toMatch(/Main Street kiosk.*Cash-out.*processed.*€50\.00.*[\d,]+ sats/)
    await screen(page, '09-settlements-history')
    await page.getByTestId(`settlement-open-${settlementId}`).click()
    const drawer = page.getByTestId('settlement-drawer')
    await drawer.waitFor()
    // The receipt is published and read back shortly after processing: the open drawer follows the push.
    for (const b of ['signature', 'delegation', 'roster', 'wallet', 'receipt'])
      await expect
        .poll(() => page.getByTestId(`badge-${b}`).getAttribute('data-state'), { timeout: 60_000, message: b })
        .toBe('ok')
    const detail = await call<SettlementDetailView>(page, 'settlements.get', { settlementId })
    expect(detail.badges.wallet.preimage).toMatch(/^[0-9a-f]{64}$/)
    expect(norm(await drawer.textContent())).toContain(detail.badges.wallet.preimage as string)
    expect(norm(await page.getByTestId('receipt-event-id').textContent())).toContain(detail.badges.receipt.eventId)
    expect(norm(await drawer.textContent())).toContain(relay.url)
    // A leg for each LP: two flow LPs with enough between them share the fiat by what each has left.
    const lpLegs = detail.legs.filter((l) => l.kind === 'lp')
    expect(lpLegs.map((l) => l.recipientId).sort()).toHaveLength(2)
    await screen(page, '10-settlement-drawer')
    await page.keyboard.press('Escape')
    await expect.poll(() => drawer.isVisible()).toBe(false)

    // ---- 4. Both LPs paid: their wallets hold the sats, the LP screen shows the paid amount and the payout ----
    await expect
      .poll(() => [ana.balanceMsat > 0n, beto.balanceMsat > 0n], { timeout: 90_000, interval: 500 })
      .toEqual([true, true])
    await go(page, 'lps')
    for (const lp of lps)
      await expect
        .poll(
          async () => {
            // The LP list reloads when it is opened; re-open it until the payout shows.
            await go(page, 'dashboard')
            await go(page, 'lps')
            return norm(await lpRow(page, lp.name).getByTestId('lp-last-payout').textContent())
          },
          { timeout: 60_000, interval: 1_000, message: `${lp.name}'s last payout` },
        )
        .toMatch(/[\d,.]+ sats paid/)
    for (const lp of lps) {
      const text = norm(await lpRow(page, lp.name).textContent())
      expect(text).not.toMatch(/None yet/)
    }
    await screen(page, '11-lps-paid')
    // The settlement's LP legs are paid by those payouts, each proven by a preimage.
    const paidLegs = (await call<SettlementDetailView>(page, 'settlements.get', { settlementId })).legs.filter(
      (l) => l.kind === 'lp',
    )
    expect(paidLegs.map((l) => [l.recipientName, l.state])).toEqual(
      expect.arrayContaining([
        ['Ana', 'paid'],
        ['Beto', 'paid'],
      ]),
    )
    for (const l of paidLegs) expect(l.payout?.preimage).toMatch(/^[0-9a-f]{64}$/)

    // ---- 5. A worklist item, made the way it happens: the ATM claims a fee that differs from ours ----
    const odd = await sim.sell({ scenario: 'fee-mismatch', fiatMinor: 3_000n })
    expect(odd.accepted).toBe(true)
    let oddId = 0
    await expect
      .poll(
        async () => {
          const p = await call<SettlementPageView>(page, 'settlements.list', {
            filter: { search: odd.paymentHash as string },
            limit: 5,
          })
          oddId = p.rows[0]?.id ?? 0
          return oddId
        },
        { timeout: 90_000, interval: 500 },
      )
      .toBeGreaterThan(0)
    await go(page, 'settlements')
    await page.getByTestId('settlements-tab-worklist').click()
    await page.getByTestId('panel-worklist').waitFor()
    const item = page.getByTestId(`work-settlement-${oddId}`)
    await item.waitFor({ timeout: 30_000 })
    expect(norm(await item.textContent())).toMatch(/Fee mismatch/)
    expect(norm(await page.getByTestId(`work-reason-${oddId}`).textContent())).toMatch(
      /^The ATM claims [\d,]+ sats (more|less) fee than the console computed\.$/,
    )
    // The platform fee and the commission splits have no destination yet: their sats wait, and the worklist says so.
    for (const id of ['platform-platform', 'split-owner', 'split-tech'])
      expect(norm(await page.getByTestId(`work-waiting-${id}`).textContent()), id).toMatch(
        /[\d,]+ sats accrued and waiting: no destination is set to pay it\. Set it under Settings → Recipients\./,
      )
    await screen(page, '12-worklist-fee-mismatch')
    await item.getByLabel(`Note for settlement ${oddId}`).fill('Machine fee table was out of date; updated it.')
    await item.getByRole('button', { name: 'Looked into' }).click()
    await expect
      .poll(async () => norm(await page.getByTestId('worklist-done').textContent()))
      .toBe(`Fee mismatch on settlement ${oddId} marked as looked into.`)
    await expect.poll(() => item.count()).toBe(0)
    // The resolution stays on the settlement: its drawer says who looked into it, when, and the note.
    await page.getByTestId('settlements-tab-history').click()
    await page.getByTestId('filter-search').fill(odd.paymentHash as string)
    await page.getByTestId('filter-apply').click()
    await expect.poll(() => page.locator('[data-testid^="settlement-row-"]').count()).toBe(1)
    await page.getByTestId(`settlement-open-${oddId}`).click()
    await drawer.waitFor()
    await expect
      .poll(async () =>
        norm(
          await page
            .getByTestId('drawer-resolutions')
            .textContent({ timeout: 1_000 })
            .catch(() => ''),
        ),
      )
      .toMatch(/^operator · .*Fee mismatch looked into: Machine fee table was out of date; updated it\.$/)
    await screen(page, '12-drawer-resolved')
    await page.keyboard.press('Escape')
    await expect.poll(() => drawer.isVisible()).toBe(false)

    // ---- 6. Revoking the ATM: the worklist keeps "revoke its wallet connection in the wallet" until confirmed ----
    await go(page, 'fleet')
    await page.getByTestId(`revoke-${ATM_PK}`).click()
    await page.getByTestId('confirm-revoke').waitFor()
    await page.getByLabel('Reason').fill('Moved to another site')
    await page.getByTestId('confirm-revoke').getByRole('button', { name: 'Revoke machine' }).click()
    await approveOnDevice(page, /Sign event/, '13-device-revoke')
    await page.getByTestId('fleet-wallet-reminders').waitFor({ timeout: 30_000 })
    if ((await page.getByTestId('signer-dialog').count()) > 0) await page.getByTestId('signer-dialog-close').click()
    await screen(page, '13-fleet-revoked')
    await go(page, 'settlements')
    await page.getByTestId('settlements-tab-worklist').click()
    const reminder = page.getByTestId(`work-wallet-${ATM_PK}`)
    await reminder.waitFor({ timeout: 30_000 })
    expect(norm(await reminder.textContent())).toMatch(/Main Street kiosk.*revoke.*wallet/is)
    await screen(page, '14-worklist-wallet-reminder')
    await reminder.getByRole('button', { name: /I revoked it in my wallet/ }).click()
    const confirm = page.getByTestId('confirm-wallet-revoked')
    await confirm.waitFor()
    await confirm.getByLabel('Note (optional)').fill('Connection deleted in the wallet app')
    await screen(page, '14-worklist-wallet-confirm')
    await confirm.getByRole('button', { name: 'Confirm', exact: true }).click()
    await expect.poll(() => reminder.count(), { timeout: 30_000 }).toBe(0)
    await expect.poll(async () => norm(await page.getByTestId('worklist-done').textContent())).toMatch(/wallet/i)
    expect(await call<unknown[]>(page, 'fleet.walletRevocations')).toEqual([])
    await go(page, 'fleet')
    await page.getByTestId('fleet-machines').waitFor()
    expect(await page.getByTestId('fleet-wallet-reminders').count()).toBe(0)

    // The Dashboard's worklist figure counts what is left: the three recipients still waiting for a destination.
    await go(page, 'dashboard')
    await expect.poll(async () => norm(await page.getByTestId('kpi-worklist-value').textContent())).toBe('3')

    // ---- Every screen, once more, as the operator leaves it ----
    for (const v of VIEWS) {
      await go(page, v)
      await screen(page, `20-${v}`)
    }

    const problems = chrome.problems.splice(0)
    expect(problems, formatProblems(problems)).toEqual([])
  }, 600_000)
})
