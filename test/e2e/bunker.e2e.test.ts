// The Signer screen's NIP-46 cards in Chromium over headless mode (docs/nip46-bunker.md), with a real relay
// process: the operator issues a bunker:// code in the UI, nostr-tools BunkerSigner connects with it and gets the
// pinned key, the client shows up and is revoked from the UI (its next request is refused), the request log lists
// what happened; the remote-bunker card shows a nostrconnect:// code that a phone-like bunker scans, and connects.
// Needs `npm run build` first and /usr/bin/chromium (skipped otherwise). Screenshot in test-results/.
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { BunkerSigner } from 'nostr-tools/nip46'
import { SimplePool, useWebSocketImplementation } from 'nostr-tools/pool'
import { getPublicKey } from 'nostr-tools/pure'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { type Nip46Transport, simplePoolTransport } from '../../src-main/bunker/transport'
import { createSoftwareSigner } from '../../src-main/signer/software-signer'
import type { WindowApi } from '../../src-shared/ipc/renderer-api'
import { parseBunkerUri } from '../../src-shared/nostr/nip46'
import { type ChromiumSession, chromiumMissingReason, formatProblems, launchChromium } from '../support/chromium'
import { startRawBunker } from '../support/raw-bunker'
import { type RelayHandle, startRelay } from '../support/relay'
import { type ServedProcess, startServeProcess } from '../support/serve-process'

useWebSocketImplementation(WebSocket)
const ROOT = resolve(import.meta.dirname, '../..')
const RESULTS = join(ROOT, 'test-results')
const OPERATOR_SK = new Uint8Array(32).fill(0x56)
const OPERATOR_PK = getPublicKey(OPERATOR_SK)
const missing = chromiumMissingReason()
if (missing) console.warn(`[bunker.e2e] skipped: ${missing}`)

describe.skipIf(missing !== null)('Signer screen NIP-46 cards in Chromium', () => {
  let root: string
  let served: ServedProcess
  let chrome: ChromiumSession
  let relay: RelayHandle
  let transport: Nip46Transport
  const pool = new SimplePool()

  beforeAll(async () => {
    if (!existsSync(join(ROOT, 'out', 'renderer', 'index.html'))) throw new Error('run `npm run build` first')
    await mkdir(RESULTS, { recursive: true })
    root = await mkdtemp(join(tmpdir(), 'satmachine-e2e-bunker-'))
    relay = await startRelay()
    transport = simplePoolTransport()
    served = await startServeProcess(join(root, 'data'), ['--secret-key-file', join(root, 'keys', 'secret.key')])
    chrome = await launchChromium({ viewport: { width: 1280, height: 1400 } })
  }, 60_000)

  afterAll(async () => {
    await chrome?.close()
    await served?.stop()
    pool.close([relay.url])
    transport?.close()
    await relay?.stop()
    if (root) await rm(root, { recursive: true, force: true })
  })

  it('issues a code, serves BunkerSigner, revokes from the UI, logs; connects a phone through nostrconnect://', async () => {
    const page = chrome.page
    await page.goto(`${served.url}#/signer`)
    await page.getByTestId('view-signer').waitFor()
    await expect.poll(() => page.getByTestId('bunker-state').textContent()).toMatch(/Not running/)
    const set = await page.evaluate(
      async ([url, op]) => {
        const api = (globalThis as unknown as { api?: WindowApi }).api
        if (!api) return 'no api'
        const a = await api['settings.set']({ relays: [url as string] })
        const b = await api['setup.setOperator']({ operatorNpub: op as string })
        return a.ok && b.ok ? 'ok' : JSON.stringify([a, b])
      },
      [relay.url, OPERATOR_PK],
    )
    expect(set).toBe('ok')
    await page.reload()
    await expect.poll(() => page.getByTestId('bunker-state').textContent(), { timeout: 20_000 }).toMatch(/Listening/)

    await page.getByTestId('bunker-name').fill('Notes app')
    await page.getByTestId('bunker-kinds').fill('1, 30078')
    await page.getByTestId('bunker-issue').click()
    const uriBox = page.getByTestId('bunker-uri')
    await uriBox.waitFor()
    const uri = await uriBox.inputValue()
    expect(uri).toMatch(/^bunker:\/\/[0-9a-f]{64}\?relay=/)
    expect(await page.locator('[data-testid="bunker-connect"] img').getAttribute('src')).toMatch(
      /^data:image\/svg\+xml;base64,/,
    )

    const clientSk = new Uint8Array(32).fill(0x77)
    const c = BunkerSigner.fromBunker(clientSk, parseBunkerUri(uri), { pool })
    await c.connect()
    expect(await c.getPublicKey()).toBe(OPERATOR_PK)
    // No operator signer is connected in this process: sign_event is refused, never answered with a fake.
    await expect(c.signEvent({ kind: 1, created_at: 1_760_000_000, tags: [], content: 'x' })).rejects.toMatch(
      /signer is not connected/,
    )
    const row = page.getByTestId(`bunker-client-${getPublicKey(clientSk).slice(0, 8)}`)
    await row.waitFor()
    expect(await row.textContent()).toContain('Notes app')
    await expect.poll(() => page.getByTestId('bunker-log').textContent()).toContain('get_public_key')

    await row.getByTestId('bunker-revoke').click()
    await expect.poll(() => row.textContent()).toContain('Revoked')
    await expect(c.sendRequest('ping', [])).rejects.toMatch(/revoked/)
    await expect.poll(() => page.getByTestId('bunker-log').textContent()).toContain('unauthorised')

    // The remote-bunker card: show the nostrconnect:// code, a phone-like bunker scans it, the card connects.
    const phone = startRawBunker({
      relay: relay.url,
      transport,
      sk: new Uint8Array(32).fill(0x99),
      signer: createSoftwareSigner(OPERATOR_SK),
    })
    await phone.ready
    await page.getByTestId('remote-nostrconnect').click()
    const nc = page.getByTestId('remote-nc-uri')
    await nc.waitFor()
    const ncUri = await nc.inputValue()
    expect(ncUri).toMatch(/^nostrconnect:\/\/[0-9a-f]{64}\?relay=/)
    await phone.scan(ncUri)
    await expect.poll(() => page.getByTestId('remote-state').textContent(), { timeout: 20_000 }).toBe('Connected')
    await page.screenshot({ path: join(RESULTS, 'bunker-signer.png'), fullPage: true })
    phone.stop()
    expect(chrome.problems, formatProblems(chrome.problems)).toEqual([])
  })
})
