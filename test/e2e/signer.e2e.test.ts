// The hardware signer end to end in real Chromium over the BUILT headless mode (docs/signer-host.md), with
// `satmachine signer-emu` running as a process of its own (NSHP/1 over TCP, driven through its HTTP control port as
// an operator's thumb would press its buttons), a REAL relay process and the REAL NWC wallet service:
//   1. a new operator opens the Signer screen, the emulated signer is found, "Pin this signer" shows the npub in the
//      confirm dialog and on the device; approved on the device, npub + serial are pinned and the operator key set;
//   2. the operator pairs an ATM on the Fleet screen: each of the three prompts (delegation, config, roster) is
//      mirrored in the dialog (same pages, same compare code) and approved on the emulator; the ATM simulator,
//      started from the one-shot pairing URI, sells, and its record verifies under the device-signed delegation and
//      is booked;
//   3. a second pairing rejected on the device ends in the dialog's clear message and publishes nothing (relay).
// The DEMO banner is on the whole time (an emulator transport is in use). Screenshots go to test-results/.
// Needs `npx electron-vite build` first and /usr/bin/chromium (skipped otherwise).
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { npubEncode } from 'nostr-tools/nip19'
import { getPublicKey } from 'nostr-tools/pure'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { type AtmSimulator, type Customer, createAtmSimulator } from '../../src-main/atm-sim/simulator'
import { type EmulatorRemote, httpEmulatorControl } from '../../src-main/signer/device/control-client'
import type { FleetMachineView } from '../../src-shared/ipc/contract'
import type { WindowApi } from '../../src-shared/ipc/renderer-api'
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
const missing = chromiumMissingReason()
if (missing) console.warn(`[signer.e2e] skipped: ${missing}`)

interface EmuProcess {
  proc: ChildProcess
  dataPort: number
  controlPort: number
  pubkey: string
  serial: string
  stop(): Promise<void>
}

/** `satmachine signer-emu --mode test` as a child process; resolves on its `signer-emu ready {json}` line. */
async function startEmulatorProcess(keyFile: string): Promise<EmuProcess> {
  const proc = spawn(
    process.execPath,
    [BIN, 'signer-emu', '--mode', 'test', '--key-file', keyFile, '--serial', 'E2E-0001'],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  )
  let out = ''
  proc.stdout?.setEncoding('utf8')
  proc.stderr?.setEncoding('utf8')
  proc.stderr?.on('data', (c: string) => {
    out += c
  })
  const exited = new Promise<number | null>((res) => proc.once('exit', (code) => res(code)))
  const ready = await new Promise<{ dataPort: number; controlPort: number; pubkey: string; serial: string }>(
    (res, rej) => {
      const timer = setTimeout(() => rej(new Error(`signer-emu printed no ready line:\n${out}`)), 20_000)
      proc.stdout?.on('data', (c: string) => {
        out += c
        const m = /signer-emu ready (\{.*\})/.exec(out)
        if (m?.[1]) {
          clearTimeout(timer)
          res(JSON.parse(m[1]))
        }
      })
      void exited.then((code) => rej(new Error(`signer-emu exited with ${code}:\n${out}`)))
    },
  )
  return {
    proc,
    ...ready,
    async stop() {
      if (proc.exitCode !== null) return
      proc.kill('SIGTERM')
      expect(await exited).toBe(0)
    },
  }
}

/** Every event by `author` on the relay (one REQ up to EOSE). */
function eventsBy(url: string, author: string): Promise<Array<{ id: string; tags: string[][] }>> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url)
    const found: Array<{ id: string; tags: string[][] }> = []
    const timer = setTimeout(() => reject(new Error('no EOSE')), 10_000)
    ws.on('open', () => ws.send(JSON.stringify(['REQ', 'q', { authors: [author] }])))
    ws.on('message', (data) => {
      const msg = JSON.parse(String(data)) as unknown[]
      if (msg[0] === 'EVENT') found.push(msg[2] as { id: string; tags: string[][] })
      if (msg[0] === 'EOSE') {
        clearTimeout(timer)
        ws.close()
        resolve(found)
      }
    })
    ws.on('error', reject)
  })
}

describe.skipIf(missing !== null)('the hardware signer in Chromium with satmachine signer-emu', () => {
  let root: string
  let emu: EmuProcess
  let control: EmulatorRemote
  let served: ServedProcess
  let chrome: ChromiumSession
  let relay: RelayHandle
  let walletRelay: RelayHandle
  let svc: WalletServiceFixture
  let op: WalletConnection
  let customer: Customer
  const sims: AtmSimulator[] = []

  beforeAll(async () => {
    for (const f of [BIN, join(ROOT, 'out', 'renderer', 'index.html'), join(ROOT, 'out', 'main', 'cli.js')])
      if (!existsSync(f)) throw new Error(`${f} is missing: run \`npx electron-vite build\` first`)
    await mkdir(RESULTS, { recursive: true })
    root = await mkdtemp(join(tmpdir(), 'satmachine-e2e-signer-'))
    relay = await startRelay()
    walletRelay = await startRelay()
    const net = new LightningNetwork()
    svc = await startWalletService({ relayUrls: [walletRelay.url], network: net })
    op = await svc.fundedConnection('operator', 50_000_000n)
    const customerWallet = net.createWallet('customer', 1_000_000_000_000n)
    customer = {
      payInvoice: async (invoice) => {
        customerWallet.payInvoice(invoice)
      },
      makeInvoice: async (amountMsat) => customerWallet.makeInvoice(amountMsat).invoice!,
    }
    emu = await startEmulatorProcess(join(root, 'emu', 'operator.key'))
    control = httpEmulatorControl(emu.controlPort)
    served = await startServeProcess(join(root, 'data'), [
      '--secret-key-file',
      join(root, 'keys', 'secret.key'),
      '--signer-emu',
      `127.0.0.1:${emu.dataPort}`,
    ])
    chrome = await launchChromium({ viewport: { width: 1360, height: 1100 } })
  }, 90_000)

  afterAll(async () => {
    for (const s of sims) await s.close()
    await chrome?.close()
    await served?.stop()
    await emu?.stop()
    await svc?.close()
    await relay?.stop()
    await walletRelay?.stop()
    if (root) await rm(root, { recursive: true, force: true })
  })

  /** Waits for the device to show a review, checks the dialog mirrors it, and presses `button` on the device. */
  async function onDevice(button: 'approve' | 'reject', expectCommand: string, shot?: string): Promise<void> {
    const page = chrome.page
    const s = await control.waitFor('reviewing', 20_000)
    expect(s.review?.command).toBe(expectCommand)
    const dialog = page.getByTestId('signer-dialog')
    await dialog.waitFor()
    expect(await dialog.getAttribute('data-state')).toBe('waiting')
    // Same pages as the device, field by field, and the same compare code.
    const titles = await page.getByTestId('signer-dialog-page').locator('h3').allTextContents()
    expect(titles.map((t) => t.trim())).toEqual(s.review?.pages.map((p) => p.title))
    if (s.review?.compareCode)
      expect(await page.getByTestId('signer-dialog-code').textContent()).toContain(s.review.compareCode)
    if (shot) await page.screenshot({ path: join(RESULTS, shot), fullPage: true })
    await control.press(button)
  }

  it('a new operator connects and pins the signer on the Signer screen', async () => {
    const page = chrome.page
    await page.goto(`${served.url}#/signer`)
    await page.getByTestId('view-signer').waitFor()
    await expect.poll(() => page.getByTestId('banner').textContent()).toMatch(/Demo mode.*emulated-signer/)
    // "Look for the signer" looks at once (discovery also retries by itself with backoff).
    await page.getByTestId('signer-connect').click()
    const state = page.getByTestId('signer-state')
    await expect.poll(() => state.getAttribute('data-state'), { timeout: 20_000 }).toBe('ready')
    expect(await page.getByTestId('signer-model').textContent()).toContain('E2E-0001')
    expect(await page.getByTestId('signer-transport').textContent()).toMatch(/Emulated signer over TCP/)
    await page.getByTestId('signer-not-pinned').waitFor()
    await page.getByTestId('signer-pin').click()
    const s = await control.waitFor('reviewing', 20_000)
    expect(s.review?.command).toBe('GET_PUBLIC_KEY')
    await page.getByTestId('signer-dialog').waitFor()
    expect(await page.getByTestId('signer-dialog').textContent()).toContain(npubEncode(emu.pubkey))
    await page.screenshot({ path: join(RESULTS, 'signer-pin-dialog.png'), fullPage: true })
    await control.press('approve')
    await expect.poll(() => page.getByTestId('signer-pinned').textContent()).toContain(npubEncode(emu.pubkey))
    expect(await page.getByTestId('signer-pinned').textContent()).toContain('E2E-0001')
    await page.getByTestId('signer-usable').waitFor()
    // The status bar says so on every screen.
    expect(await page.getByTestId('signer-status').textContent()).toContain(npubEncode(emu.pubkey).slice(0, 12))
    expect(await page.getByTestId('signer-status-state').textContent()).toBe('ready')
    await page.getByTestId('signer-dialog-close').click()
    expect(await page.getByTestId('signer-request-log').textContent()).toContain('get_public_key')
    await page.screenshot({ path: join(RESULTS, 'signer-view.png'), fullPage: true })
    const problems = chrome.problems.splice(0)
    expect(problems, formatProblems(problems)).toEqual([])
  }, 90_000)

  it('pairs an ATM approved on the emulator; the simulator sells and its record is booked', async () => {
    const page = chrome.page
    // Wallet and relay, as the Settings screen sets them; the operator key came from the pinned signer.
    const setup = await page.evaluate(
      async ({ nwcUri, relayUrl }) => {
        const api = (globalThis as unknown as { api?: WindowApi }).api
        if (!api) throw new Error('window.api missing')
        for (const r of [
          await api['setup.setOperatorWallet']({ nwcUri }),
          await api['settings.set']({ relays: [relayUrl] }),
        ])
          if (!r.ok) throw new Error(r.error.message)
        const s = await api['setup.status']()
        return s.ok ? s.value.operator?.pubkey : null
      },
      { nwcUri: op.uri, relayUrl: relay.url },
    )
    expect(setup).toBe(emu.pubkey)
    await expect
      .poll(
        () =>
          page.evaluate(async () => {
            const r = await (globalThis as unknown as { api?: WindowApi }).api?.['setup.status']()
            return r?.ok ? r.value.pipeline.state : 'none'
          }),
        { timeout: 30_000 },
      )
      .toBe('running')

    const atmSk = new Uint8Array(32).fill(0x3c)
    const receive = await svc.addConnection({ wallet: op.wallet, methods: RECEIVE_ONLY_METHODS })
    await page.goto(`${served.url}#/fleet`)
    await page.getByTestId('view-fleet').waitFor()
    await page.getByTestId('fleet-add').click()
    await page.getByTestId('pair-form').waitFor()
    await page.getByTestId('pair-atm').fill(npubEncode(getPublicKey(atmSk)))
    await page.getByTestId('pair-machineId').fill('atm-e2e-1')
    await page.getByTestId('pair-name').fill('Station kiosk')
    await page.getByLabel('Connection URI (receive-only)').fill(receive.uri)
    await page.getByTestId('pair-submit').click()

    // Delegation, machine config, roster: each mirrored in the dialog and approved on the device.
    await onDevice('approve', 'SIGN_DELEGATION', 'signer-confirm-delegation.png')
    await onDevice('approve', 'SIGN_EVENT', 'signer-confirm-config.png')
    await onDevice('approve', 'SIGN_EVENT')
    const uriBox = page.getByTestId('oneshot-uri')
    await uriBox.waitFor({ timeout: 20_000 })
    const pairingUri = await uriBox.inputValue()
    expect(pairingUri).toMatch(/^satmachine-pair:/)

    const sim = await createAtmSimulator({
      pairingUri: pairingUri.trim(),
      atmSecretKey: atmSk,
      customer,
      publishDeadlineMs: 30_000,
    })
    sims.push(sim)
    const sale = await sim.sell()
    expect(sale.accepted).toBe(true)
    await expect
      .poll(
        () =>
          page.evaluate(async () => {
            const r = await (globalThis as unknown as { api?: WindowApi }).api?.['fleet.machines']()
            return r?.ok ? (r.value as FleetMachineView[]).map((m) => [m.machineId, m.booked, m.rejected]) : []
          }),
        { timeout: 30_000 },
      )
      .toContainEqual(['atm-e2e-1', 1, 0])
    await page.screenshot({ path: join(RESULTS, 'signer-paired-fleet.png'), fullPage: true })
    const problems = chrome.problems.splice(0)
    expect(problems, formatProblems(problems)).toEqual([])
  }, 120_000)

  it('a refusal on the device ends in a clear message and publishes nothing', async () => {
    const page = chrome.page
    const before = await eventsBy(relay.url, emu.pubkey)
    await page.goto(`${served.url}#/fleet`)
    await page.getByTestId('view-fleet').waitFor()
    await page.getByTestId('fleet-add').click()
    await page.getByTestId('pair-form').waitFor()
    await page.getByTestId('pair-atm').fill(getPublicKey(new Uint8Array(32).fill(0x3d)))
    await page.getByTestId('pair-machineId').fill('atm-e2e-2')
    await page.getByTestId('pair-name').fill('Refused kiosk')
    await page.getByTestId('pair-submit').click()
    await onDevice('reject', 'SIGN_DELEGATION')
    const dialog = page.getByTestId('signer-dialog')
    await expect.poll(() => dialog.getAttribute('data-state')).toBe('refused')
    expect(await page.getByTestId('signer-dialog-status').textContent()).toContain(
      'You rejected this on the signer. Nothing was signed or published.',
    )
    await page.screenshot({ path: join(RESULTS, 'signer-refused.png'), fullPage: true })
    await page.getByTestId('signer-dialog-close').click()
    await expect.poll(() => page.getByTestId('pair-error').textContent()).toContain('You rejected this on the signer')
    expect(await eventsBy(relay.url, emu.pubkey)).toEqual(before)
    const dels = await page.evaluate(async () => {
      const r = await (globalThis as unknown as { api?: WindowApi }).api?.['fleet.delegations']()
      return r?.ok ? r.value.map((d) => d.machineId) : null
    })
    expect(dels).toEqual(['atm-e2e-1'])
    const problems = chrome.problems.splice(0)
    expect(problems, formatProblems(problems)).toEqual([])
  }, 90_000)
})
