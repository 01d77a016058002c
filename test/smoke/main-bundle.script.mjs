// Runs under `node --import ./test/electron-stub/register.mjs`: loads the BUILT main bundle and preload with the
// electron stub, exercises them, and prints one JSON report line for test/smoke/main-bundle.test.ts to assert on.
// Waiting is done by polling a condition with a deadline, never by sleeping a fixed time.
import { readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'

const root = resolve(process.argv[2] ?? '.')
const main = await import(pathToFileURL(join(root, 'out/main/index.js')).href)
const stub = globalThis.__electronStub
const electron = await import('electron')

async function until(what, cond, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setImmediate(r))
  }
}
await until('the window to load', () => stub.windows[0]?.loaded !== undefined)

// Run the built preload the way a sandboxed preload runs: CommonJS, and `require` can only give `electron`.
const preloadPath = stub.windows[0].opts.webPreferences.preload
const required = []
const preloadSrc = readFileSync(preloadPath, 'utf8')
const module_ = { exports: {} }
new Function('require', 'module', 'exports', preloadSrc)(
  (id) => {
    required.push(id)
    if (id === 'electron') return electron
    throw new Error(`sandboxed preload may not require ${id}`)
  },
  module_,
  module_.exports,
)
const api = stub.exposed.api
const ownFrame = { url: pathToFileURL(join(root, 'out/renderer/index.html')).href, parent: null }
stub.senderFrame = ownFrame

const report = {
  mainExports: Object.keys(main),
  channels: [...stub.handlers.keys()],
  exposedKeys: Object.keys(stub.exposed),
  apiKeys: Object.keys(api),
  apiFrozen: Object.isFrozen(api),
  required,
  preloadPath,
  loaded: stub.windows[0].loaded,
  windowCount: stub.windows.length,
  webPreferences: { ...stub.windows[0].opts.webPreferences },
  sandboxEnabled: stub.sandboxEnabled,
}

report.appInfo = await api['app.info']()
// The ledger opens in its worker in the background; its state arrives as a push event and through the method.
const ledgerEvents = []
api.on('ledger.status', (p) => ledgerEvents.push(p))
let ledger = await api['ledger.status']()
while (ledger.ok && ledger.value.state === 'opening') {
  await until('a ledger.status event', () => ledgerEvents.length > 0)
  ledger = await api['ledger.status']()
}
report.ledger = ledger
const events = []
const off = api.on('notice', (p) => events.push(p))
report.settingsSet = await api['settings.set']({ operatorName: 'Smoke Test Op', timeZone: 'Europe/Berlin' })
report.settingsGet = await api['settings.get']()
await until('the notice event', () => events.length > 0)
report.events = [...events]
off()
report.badArgs = await api['settings.set']({ operatorName: 5 })
report.badTimeZone = await api['settings.set']({ timeZone: 'Mars/Olympus' })
report.extraField = await api['settings.set']({ operatorName: 'x', admin: true })
report.tooManyArgs = await api['app.info']('surprise')
report.logRecent = await api['log.recent']({ limit: 5, minLevel: 'warn' })
try {
  api.on('not-an-event', () => {})
  report.onUnknown = 'accepted'
} catch (e) {
  report.onUnknown = e.message
}

// Wrong senders: another origin, a subframe of our own page, another local file, no frame at all.
const senders = {
  otherOrigin: { url: 'https://evil.example/index.html', parent: null },
  subframe: { url: ownFrame.url, parent: { url: ownFrame.url } },
  otherFile: { url: pathToFileURL(join(root, 'README.md')).href, parent: null },
  aboutBlank: { url: 'about:blank', parent: null },
  noFrame: null,
}
report.wrongSender = {}
for (const [name, frame] of Object.entries(senders)) {
  stub.senderFrame = frame
  report.wrongSender[name] = await api['app.info']()
}
stub.senderFrame = ownFrame

// Security handlers installed on the session and on every webContents.
const s = stub.session
let granted = null
s.permissionRequest?.({}, 'media', (ok) => {
  granted = ok
})
report.permissionRequestGranted = granted
report.permissionCheck = s.permissionCheck ? s.permissionCheck({}, 'notifications', 'file://', {}) : 'missing'
let headersOut = null
s.headersReceived?.({ resourceType: 'mainFrame', url: ownFrame.url, responseHeaders: {} }, (r) => {
  headersOut = r.responseHeaders
})
report.cspHeader = headersOut?.['Content-Security-Policy'] ?? null
const wc = stub.windows[0].webContents
let prevented = false
wc.emit('will-navigate', { preventDefault: () => (prevented = true) }, 'https://evil.example/')
report.navigationPrevented = prevented
report.windowOpen = wc.windowOpenHandler ? wc.windowOpenHandler({ url: 'https://evil.example/' }) : 'missing'

// before-quit closes the services (the ledger's final state arrives as an event); then report and exit.
stub.appEvents.emit('before-quit', { preventDefault() {} })
await until('quit after closing services', () => stub.quitCalled)
report.ledgerEvents = ledgerEvents.map((e) => e.state)
console.log(`REPORT ${JSON.stringify(report)}`)
process.exit(0)
