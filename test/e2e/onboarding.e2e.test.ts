// End-to-end test of the first-run wizard ("Get started", src-renderer/views/WelcomeView.vue) in real Chromium
// against the BUILT headless mode, with a REAL relay process and the REAL @getalby/sdk wallet service:
//   - a console with no signer lands on the wizard, and the device step says plainly that no device was found;
//   - a console whose hardware signer is the in-process emulator (demo only) is walked through every step: the
//     device found and its key pinned on the device, a dead relay refused live and a real one accepted, the wizard
//     left half-way and resumed after a reload (progress kept by the main side), a wrong wallet URI refused and the
//     real one checked with get_info and get_balance (balance shown), fees and a split with the engine's live
//     preview (a split that does not add up refused), and the first machine paired (pairing QR shown);
//   - once configured, the console opens on the dashboard, not the wizard.
// Screenshots of every step go to test-results/; any console error, page error or failed request fails the test.
// Needs `npm run build` first (`npm test` does it) and /usr/bin/chromium (skipped otherwise).
import { existsSync, readFileSync } from 'node:fs'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { npubEncode } from 'nostr-tools/nip19'
import { getPublicKey } from 'nostr-tools/pure'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { WindowApi } from '../../src-shared/ipc/renderer-api'
import { computeSettlement } from '../../src-shared/money/settlement'
import { type ChromiumSession, chromiumMissingReason, formatProblems, launchChromium } from '../support/chromium'
import { LightningNetwork } from '../support/lightning'
import { type RelayHandle, startRelay } from '../support/relay'
import { type ServedProcess, startServeProcess } from '../support/serve-process'
import { startWalletService, type WalletConnection, type WalletServiceFixture } from '../support/wallet-service'

const ROOT = resolve(import.meta.dirname, '../..')
const BIN = join(ROOT, 'bin', 'satmachine.mjs')
const RESULTS = join(ROOT, 'test-results')
const ATM_PK = getPublicKey(new Uint8Array(32).fill(0x2c))

const missing = chromiumMissingReason()
if (missing) console.warn(`[onboarding.e2e] skipped: ${missing}`)

describe.skipIf(missing !== null)('first-run wizard in Chromium over headless mode', () => {
  let root: string
  let chrome: ChromiumSession
  let relay: RelayHandle
  let walletRelay: RelayHandle
  let svc: WalletServiceFixture
  let op: WalletConnection
  const served: ServedProcess[] = []

  beforeAll(async () => {
    for (const f of [BIN, join(ROOT, 'out', 'renderer', 'index.html')])
      if (!existsSync(f)) throw new Error(`${f} is missing: run \`npm run build\` first`)
    await mkdir(RESULTS, { recursive: true })
    root = await mkdtemp(join(tmpdir(), 'satmachine-e2e-onboarding-'))
    relay = await startRelay()
    walletRelay = await startRelay()
    svc = await startWalletService({ relayUrls: [walletRelay.url], network: new LightningNetwork() })
    op = await svc.fundedConnection('operator', 21_000_000n)
    chrome = await launchChromium({ viewport: { width: 1360, height: 1000 } })
  }, 60_000)

  afterAll(async () => {
    await chrome?.close()
    for (const s of served) await s.stop()
    await svc?.close()
    await relay?.stop()
    await walletRelay?.stop()
    if (root) await rm(root, { recursive: true, force: true })
  })

  const shot = (name: string) =>
    chrome.page.screenshot({ path: join(RESULTS, `onboarding-${name}.png`), fullPage: true })

  it('without a signer: the console opens on the wizard and the device step says no device was found', async () => {
    const s = await startServeProcess(join(root, 'bare'), ['--secret-key-file', join(root, 'bare.key')])
    served.push(s)
    const page = chrome.page
    await page.goto(s.url)
    await page.getByTestId('view-welcome').waitFor()
    expect(await page.getByTestId('view-title').textContent()).toBe('Get started')
    await page.getByTestId('onboarding-panel-signer').waitFor()
    await page.getByTestId('signer-device-none').waitFor()
    expect(await page.getByTestId('signer-device-none').textContent()).toMatch(/No signer device was found/)
    // Nothing to pin yet, so the step cannot be passed; "Try the demo" explains the command.
    expect(await page.getByTestId('signer-next').isDisabled()).toBe(true)
    expect(await page.getByTestId('onboarding-demo').textContent()).toContain('npm start -- --demo')
    await shot('1-signer-no-device')
    await s.stop()
    const problems = chrome.problems.splice(0)
    expect(problems, formatProblems(problems)).toEqual([])
  }, 60_000)

  it('walks every step, can be left and resumed, and pairs the first machine', async () => {
    const dataDir = join(root, 'data')
    // The in-process emulator of the hardware signer (demo only) stands in for the USB device.
    const s = await startServeProcess(dataDir, [
      '--secret-key-file',
      join(root, 'secret.key'),
      '--demo',
      'emulated-signer',
    ])
    served.push(s)
    const page = chrome.page
    /** Approves the next review on the emulated device, through the page's own API (demo only). */
    const approveOnDevice = async () => {
      await expect
        .poll(
          () =>
            page.evaluate(async () => {
              const api = (globalThis as unknown as { api: WindowApi }).api
              const r = await api['signer.emulator.screen']()
              return r.ok ? (r.value?.review ? 'reviewing' : 'idle') : 'error'
            }),
          { timeout: 20_000 },
        )
        .toBe('reviewing')
      await page.evaluate(async () => {
        const api = (globalThis as unknown as { api: WindowApi }).api
        await api['signer.emulator.press']({ button: 'approve' })
      })
    }
    await page.goto(s.url)
    await page.getByTestId('view-welcome').waitFor()

    // 1. Signer: the device is found through signer.status; its key is shown on the device and pinned there.
    await page.getByTestId('signer-device-state').waitFor({ timeout: 20_000 })
    await page.getByTestId('signer-pin-device').waitFor({ timeout: 20_000 })
    await shot('1-signer-found')
    await page.getByTestId('signer-pin-device').click()
    await approveOnDevice()
    await page.getByTestId('signer-device-usable').waitFor({ timeout: 20_000 })
    await expect.poll(() => page.getByTestId('signer-next').isDisabled()).toBe(false)
    await page.getByTestId('signer-next').click()

    // 2. Relays, each checked live: a closed port is refused in plain words, the real relay answers.
    await page.getByTestId('onboarding-panel-relays').waitFor()
    await page.getByTestId('relay-input-0').fill('ws://127.0.0.1:9')
    await page.getByTestId('relay-check').click()
    await expect.poll(() => page.getByTestId('relay-check-0').textContent()).toMatch(/connection refused/)
    await page.getByTestId('relay-save').click()
    await page.getByTestId('relay-msg').waitFor()
    await shot('2-relays-refused')
    await page.getByTestId('relay-input-0').fill(relay.url)
    await page.getByTestId('relay-save').click()
    await page.getByTestId('onboarding-panel-wallet').waitFor()
    expect(await page.getByTestId('onboarding-step-relays').textContent()).toContain('(done)')

    // Leave the wizard for another screen; the main side keeps the step, so a reload resumes it.
    await page.getByTestId('nav-fleet').click()
    await page.getByTestId('view-fleet').waitFor()
    const saved = JSON.parse(readFileSync(join(dataDir, 'onboarding.json'), 'utf8')) as { step: string; done: string[] }
    expect(saved).toMatchObject({ step: 'wallet', done: ['signer', 'relays'] })
    await page.goto(`${s.url}#/welcome`)
    await page.reload()
    await page.getByTestId('onboarding-panel-wallet').waitFor()

    // 3. Operator wallet: a wrong URI names the field; the real one answers get_info and get_balance.
    await page.getByTestId('wallet-input').fill('nostr+walletconnect://nope')
    await page.getByTestId('wallet-check').click()
    await page.getByTestId('wallet-error').waitFor()
    await page.getByTestId('wallet-input').fill(op.uri)
    await page.getByTestId('wallet-check').click()
    await expect.poll(() => page.getByTestId('wallet-balance').textContent(), { timeout: 20_000 }).toBe('21,000 sats')
    await shot('3-wallet-checked')
    await page.getByTestId('wallet-save').click()

    // 4. Fees and splits: shares that do not add up are refused; the preview is the engine's own arithmetic.
    await page.getByTestId('onboarding-panel-fees').waitFor()
    await page.getByTestId('fees-co-operator').fill('4')
    await page.getByTestId('split-share-0').fill('60')
    await page.getByTestId('split-share-1').fill('50')
    await expect.poll(() => page.getByTestId('fees-problem').textContent()).toMatch(/add up to 110 %/)
    expect(await page.getByTestId('fees-save').isDisabled()).toBe(true)
    await page.getByTestId('split-share-1').fill('40')
    await page.getByTestId('fees-preview').waitFor()
    const principal = (10_000n * 100_000_000_000n) / 6_000_000n
    const expected = computeSettlement({
      direction: 'cash_out',
      wireMsat: (principal * 1_050_000n) / 1_000_000n,
      fiatMinor: 10_000n,
      fiatRequestedMinor: 10_000n,
      currency: 'EUR',
      platformPpm: 10_000,
      operatorPpm: 40_000,
      discountPpm: 0,
      splits: [
        { id: 'owner', weightPpm: 600_000 },
        { id: 'tech', weightPpm: 400_000 },
      ],
      lps: [],
    })
    const sats = (m: bigint) => `${(m / 1000n).toLocaleString('en')} sats`
    expect(await page.getByTestId('preview-platform').textContent()).toBe(sats(expected.platformFeeMsat))
    expect(await page.getByTestId('preview-split-owner').textContent()).toBe(sats(expected.splits[0]!.msat))
    expect(await page.getByTestId('preview-split-tech').textContent()).toBe(sats(expected.splits[1]!.msat))
    await shot('4-fees-preview')
    await page.getByTestId('fees-save').click()

    // 5. First machine: the pairing form starts from the fees chosen above; pairing shows the one-shot QR.
    await page.getByTestId('onboarding-panel-machine').waitFor()
    expect(await page.getByTestId('pair-fees.cash_out.operatorPpm').inputValue()).toBe('4')
    await page.getByTestId('pair-atm').fill(npubEncode(ATM_PK))
    await page.getByTestId('pair-machineId').fill('atm-01')
    await page.getByTestId('pair-name').fill('Main Street')
    await page.getByTestId('pair-submit').click()
    // Delegation, machine config and roster: each confirmed on the device.
    for (let i = 0; i < 3; i++) await approveOnDevice()
    await page.getByTestId('oneshot-qr').waitFor({ timeout: 30_000 })
    await page.getByTestId('machine-paired').waitFor()
    // The machine's own configuration carries no split: once it arrives, the wizard applies the one chosen above.
    await expect
      .poll(
        () =>
          page
            .getByTestId('machine-split')
            .textContent()
            .catch(() => ''),
        { timeout: 40_000 },
      )
      .toBe('Your commission split applies to this machine.')
    await shot('5-machine-paired')
    expect(await page.getByTestId('onboarding-step-machine').textContent()).toContain('(done)')

    // Configured: the default address opens the dashboard, not the wizard.
    await page.getByTestId('onboarding-finish').click()
    await page.getByTestId('view-dashboard').waitFor()
    await page.goto(s.url)
    await page.getByTestId('view-dashboard').waitFor()
    expect(await page.getByTestId('view-welcome').count()).toBe(0)
    await shot('6-dashboard-after')

    const problems = chrome.problems.splice(0)
    expect(problems, formatProblems(problems)).toEqual([])
  }, 120_000)
})
