// Electron shell: one sandboxed window on the built renderer, the IPC contract registered through the one
// sender-checking wrapper, and the Electron security checklist applied (SECURITY.md):
// sandbox + contextIsolation + no Node in the renderer, deny-all permissions, no navigation, no new windows,
// no webviews, and the strict CSP as a response header in addition to the page's meta tag.
// The services are the same plain-Node composition headless mode uses (`services.ts`).
import { join } from 'node:path'
import { app, BrowserWindow, safeStorage, session, type WebContents } from 'electron'
import { CSP } from '../src-shared/ipc/contract'
import { createAppLog } from './app-log'
import { electronPrinter } from './audit-export/pdf-electron'
import { createDispatcher } from './ipc'
import { makeEmitter, registerIpc } from './ipc-electron'
import { lazySecretStore } from './secrets/secret-store'
import { createServices, demoFlagsFromEnv, type Services, workerLedger } from './services'
import { hidWiring, parseEmulatorAddress, tcpEmulatorWiring } from './signer/device-wiring'

const appLog = createAppLog({ write: (line) => process.stderr.write(`${line}\n`) })
const log = appLog.log.child('shell')

const rendererIndexPath = join(import.meta.dirname, '../renderer/index.html')
const preloadPath = join(import.meta.dirname, '../preload/index.cjs')
const devServerUrl = !app.isPackaged ? process.env.ELECTRON_RENDERER_URL : undefined

/** The webPreferences of every app window, explicit even where they match Electron's defaults (checklist 2–4, 6). */
export const SECURE_WEB_PREFERENCES = {
  preload: preloadPath,
  sandbox: true,
  contextIsolation: true,
  nodeIntegration: false,
  nodeIntegrationInWorker: false,
  nodeIntegrationInSubFrames: false,
  webSecurity: true,
  allowRunningInsecureContent: false,
  experimentalFeatures: false,
  webviewTag: false,
  spellcheck: false,
} as const

const windows: BrowserWindow[] = []
let services: Services | undefined

/** Every webContents, including ones we did not create (devtools, a stray frame), gets the same guards. */
function guardContents(contents: WebContents): void {
  contents.on('will-navigate', (e, url) => {
    e.preventDefault()
    log.warn('navigation blocked', { scheme: safeScheme(url) })
  })
  contents.on('will-redirect', (e, url) => {
    e.preventDefault()
    log.warn('redirect blocked', { scheme: safeScheme(url) })
  })
  contents.on('will-attach-webview', (e) => {
    e.preventDefault()
    log.warn('webview blocked')
  })
  contents.on('render-process-gone', (_e, details) => {
    log.error('renderer process gone', { reason: details.reason, exitCode: details.exitCode })
  })
  contents.setWindowOpenHandler(({ url }) => {
    log.warn('window.open blocked', { scheme: safeScheme(url) })
    return { action: 'deny' }
  })
}

function safeScheme(url: string): string {
  try {
    return new URL(url).protocol
  } catch {
    return 'invalid'
  }
}

function hardenSession(): void {
  const ses = session.defaultSession
  // Deny every permission request and check (camera, notifications, HID from the page, …): the renderer needs none;
  // hardware access happens in main.
  ses.setPermissionRequestHandler((_wc, permission, callback) => {
    log.warn('permission request denied', { permission })
    callback(false)
  })
  ses.setPermissionCheckHandler(() => false)
  ses.setDevicePermissionHandler(() => false)
  // The CSP also as a header (the meta tag alone cannot carry frame-ancestors). Applied to our page's responses.
  ses.webRequest.onHeadersReceived((details, callback) => {
    const headers = { ...(details.responseHeaders ?? {}) }
    if (details.resourceType === 'mainFrame' || details.resourceType === 'subFrame') {
      headers['Content-Security-Policy'] = [CSP]
      headers['X-Content-Type-Options'] = ['nosniff']
    }
    callback({ responseHeaders: headers })
  })
}

async function createWindow(): Promise<BrowserWindow> {
  const win = new BrowserWindow({
    width: 1280,
    height: 800,
    minWidth: 900,
    minHeight: 600,
    title: 'Satmachine Console',
    show: false,
    backgroundColor: '#f6f7f9',
    // Linux window managers take the icon from here; Windows and macOS from the packaged executable.
    icon: join(import.meta.dirname, '../../resources/icon.png'),
    webPreferences: { ...SECURE_WEB_PREFERENCES },
  })
  windows.push(win)
  win.on('closed', () => windows.splice(windows.indexOf(win), 1))
  win.once('ready-to-show', () => win.show())
  if (devServerUrl) await win.loadURL(devServerUrl)
  else await win.loadFile(rendererIndexPath)
  return win
}

async function boot(): Promise<void> {
  if (!app.requestSingleInstanceLock()) {
    // A second instance would open the same ledger; focus the first one instead.
    log.warn('another instance is running; quitting')
    app.quit()
    return
  }
  app.enableSandbox()
  app.on('web-contents-created', (_e, contents) => guardContents(contents))
  app.on('second-instance', () => {
    const w = windows[0]
    if (w) {
      if (w.isMinimized()) w.restore()
      w.focus()
    }
  })
  await app.whenReady()
  hardenSession()
  const dataDir = process.env.SATMACHINE_DATA_DIR || app.getPath('userData')
  // Secrets (NWC URIs, the console key) are sealed by the OS keychain; without one the store refuses (docs/architecture.md §3)
  // and the Settings view's setup card says why. Opened on first use, so start-up never waits on the keychain.
  const secrets = lazySecretStore({ dataDir, safeStorage, log: appLog.log.child('secrets') })
  // The hardware signer over USB; SATMACHINE_SIGNER_EMU=127.0.0.1:PORT uses `satmachine signer-emu` instead (an
  // emulator: the demo banner goes on).
  const demoFlags = demoFlagsFromEnv()
  const emu = process.env.SATMACHINE_SIGNER_EMU || undefined
  const signerDevice = emu ? tcpEmulatorWiring(parseEmulatorAddress(emu)) : hidWiring()
  if (emu && !demoFlags.includes('emulated-signer')) demoFlags.push('emulated-signer')
  services = await createServices({
    runtime: 'electron',
    signerDevice,
    emit: makeEmitter(() => windows),
    dataDir,
    appLog,
    demoFlags,
    // The ledger worker is built next to this entry (out/main/ledger-worker.js).
    openLedger: workerLedger(new URL('./ledger-worker.js', import.meta.url)),
    lps: { secrets },
    // The money pipeline starts once the operator setup is complete (src-main/setup/service.ts).
    payouts: { secrets },
    // The quarterly report is printed by Electron's own Chromium.
    auditExport: { printer: async () => electronPrinter() },
  })
  registerIpc(
    createDispatcher(services.handlers, appLog.log.child('ipc')),
    devServerUrl ? { rendererIndexPath, devServerUrl } : { rendererIndexPath },
    appLog.log.child('ipc'),
  )
  await createWindow()
  app.on('activate', () => {
    if (windows.length === 0) void createWindow()
  })
  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit()
  })
  // Close the ledger (journal flushed) before the process exits.
  let closed = false
  app.on('before-quit', (e) => {
    if (closed || !services) return
    e.preventDefault()
    services.close().finally(() => {
      closed = true
      app.quit()
    })
  })
  log.info('console started', { dataDir, version: app.getVersion() })
}

boot().catch((e: unknown) => {
  log.error('startup failed', { reason: e instanceof Error ? e.message : String(e) })
  app.exit(1)
})
