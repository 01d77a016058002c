// End-to-end test of the LP self-service card (src-renderer/components/LpSelfService.vue) in real Chromium against
// the BUILT headless mode (`satmachine serve`): an LP registered over the bridge appears by itself (live push, no
// Refresh button) with self-service on; the per-LP and the global switch go to the main side and the card shows
// what it answers. Fails on any console
// error, page error or failed request. Needs `npx electron-vite build` first and /usr/bin/chromium (skipped otherwise).
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { npubEncode } from 'nostr-tools/nip19'
import { getPublicKey } from 'nostr-tools/pure'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { WindowApi } from '../../src-shared/ipc/renderer-api'
import { type ChromiumSession, chromiumMissingReason, formatProblems, launchChromium } from '../support/chromium'
import { type ServedProcess, startServeProcess } from '../support/serve-process'

const ROOT = resolve(import.meta.dirname, '../..')
const RESULTS = join(ROOT, 'test-results')
const missing = chromiumMissingReason()
if (missing) console.warn(`[lp-self-service.e2e] skipped: ${missing}`)

describe.skipIf(missing !== null)('LP self-service card in Chromium over headless mode', () => {
  let root: string
  let served: ServedProcess
  let chrome: ChromiumSession

  beforeAll(async () => {
    for (const f of [join(ROOT, 'bin', 'satmachine.mjs'), join(ROOT, 'out', 'renderer', 'index.html')])
      if (!existsSync(f)) throw new Error(`${f} is missing: run \`npx electron-vite build\` first`)
    await mkdir(RESULTS, { recursive: true })
    root = await mkdtemp(join(tmpdir(), 'satmachine-e2e-lpss-'))
    served = await startServeProcess(join(root, 'data'), ['--secret-key-file', join(root, 'k')])
    chrome = await launchChromium({ viewport: { width: 1360, height: 1000 } })
  }, 60_000)

  afterAll(async () => {
    await chrome?.close()
    await served?.stop()
    if (root) await rm(root, { recursive: true, force: true })
  })

  it('lists the LP with its switch; per-LP and global switches apply', async () => {
    const page = chrome.page
    await page.goto(`${served.url}#/lps`)
    await page.getByTestId('lp-self-service').waitFor()
    await page.getByTestId('lpss-no-lps').waitFor()
    const npub = npubEncode(getPublicKey(new Uint8Array(32).fill(0x42)))
    const lpId = await page.evaluate(async (npub) => {
      const api = (globalThis as unknown as { api?: WindowApi }).api
      if (!api) throw new Error('window.api missing')
      const r = await api['lps.register']({
        npub,
        name: 'Ana',
        currency: 'GTQ',
        mode: 'flow',
        // A valid point: destinations are checked live before they are stored (the generator point G).
        destination: { kind: 'keysend', nodeId: '0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798' },
        payout: { thresholdMsat: '1000', schedule: 'threshold', maxFeePpm: 0 },
      })
      if (!r.ok) throw new Error(r.error.message)
      return r.value.id
    }, npub)
    // No Refresh button: the card follows the `lps.changed` push of the registration and lists the LP by itself.
    expect(await page.getByRole('button', { name: 'Refresh' }).count()).toBe(0)
    const row = page.getByTestId(`lpss-row-${lpId}`)
    await row.waitFor()
    expect(await row.textContent()).toContain('Ana')
    await expect.poll(() => row.locator('.pill').textContent()).toBe('On')
    expect(await row.textContent()).toContain('none yet')

    await page.getByTestId(`lpss-toggle-${lpId}`).click()
    await expect.poll(() => row.locator('.pill').textContent()).toBe('Off')
    await page.getByTestId('lpss-global-toggle').click()
    await expect.poll(() => page.getByTestId('lpss-global-state').textContent()).toBe('Off')
    await page.getByTestId('lpss-global-toggle').click()
    await page.getByTestId(`lpss-toggle-${lpId}`).click()
    await expect.poll(() => row.locator('.pill').textContent()).toBe('On')
    await expect.poll(() => page.getByTestId('lpss-global-state').textContent()).toBe('On')
    // What the card shows is what the main side holds.
    const status = await page.evaluate(async () => {
      const api = (globalThis as unknown as { api: WindowApi }).api
      const r = await api['lpService.status']({})
      if (!r.ok) throw new Error(r.error.message)
      return r.value
    })
    expect([status.enabled, status.lps.map((l) => [l.lpId, l.enabled])]).toEqual([true, [[lpId, true]]])
    await page.screenshot({ path: join(RESULTS, 'lp-self-service.png'), fullPage: true })
    const problems = chrome.problems.splice(0)
    expect(problems, formatProblems(problems)).toEqual([])
  })
})
