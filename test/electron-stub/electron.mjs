// A minimal stand-in for the `electron` module, recording what the main bundle and the preload do with it, so the
// smoke test can run the BUILT out/main/index.js and out/preload/index.cjs under Node where the Electron binary
// cannot be installed. It implements only the API surface the shell uses; an unknown call fails loudly.
// Test-only. State is shared through globalThis.__electronStub.
import { EventEmitter } from 'node:events'

const state = {
  /** channel → handler registered with ipcMain.handle */
  handlers: new Map(),
  windows: [],
  /** channel → Set of ipcRenderer listeners */
  rendererListeners: new Map(),
  /** contextBridge.exposeInMainWorld key → value */
  exposed: {},
  /** The frame the next ipcRenderer.invoke pretends to come from; set by the test. */
  senderFrame: null,
  session: { permissionRequest: null, permissionCheck: null, devicePermission: null, headersReceived: null },
  appEvents: new EventEmitter(),
  sandboxEnabled: false,
  quitCalled: false,
  exitCode: null,
  userData: process.env.STUB_USER_DATA ?? '',
}
globalThis.__electronStub = state

export const app = {
  isPackaged: false,
  whenReady: () => Promise.resolve(),
  on: (name, fn) => {
    state.appEvents.on(name, fn)
    return app
  },
  once: (name, fn) => {
    state.appEvents.once(name, fn)
    return app
  },
  quit: () => {
    state.quitCalled = true
  },
  exit: (code) => {
    state.exitCode = code
  },
  getVersion: () => '0.0.0-stub',
  getPath: (name) => {
    if (name !== 'userData') throw new Error(`stub: getPath(${name}) not implemented`)
    return state.userData
  },
  requestSingleInstanceLock: () => true,
  enableSandbox: () => {
    state.sandboxEnabled = true
  },
}

export const ipcMain = {
  handle: (channel, fn) => {
    if (state.handlers.has(channel)) throw new Error(`Attempted to register a second handler for '${channel}'`)
    state.handlers.set(channel, fn)
  },
}

class WebContentsStub extends EventEmitter {
  constructor() {
    super()
    this.sent = []
    this.windowOpenHandler = null
  }
  send(channel, ...args) {
    // Electron serialises with structured clone; so does the stub.
    const cloned = structuredClone(args)
    this.sent.push([channel, ...cloned])
    for (const l of state.rendererListeners.get(channel) ?? []) l({ sender: null }, ...cloned)
  }
  setWindowOpenHandler(fn) {
    this.windowOpenHandler = fn
  }
}

export class BrowserWindow extends EventEmitter {
  static getAllWindows() {
    return state.windows
  }
  constructor(opts) {
    super()
    this.opts = opts
    this.destroyed = false
    this.webContents = new WebContentsStub()
    state.windows.push(this)
    state.appEvents.emit('web-contents-created', {}, this.webContents)
  }
  isDestroyed() {
    return this.destroyed
  }
  isMinimized() {
    return false
  }
  restore() {}
  focus() {}
  show() {}
  async loadFile(f) {
    this.loaded = { file: f }
  }
  async loadURL(u) {
    this.loaded = { url: u }
  }
}

export const webContents = { getAllWebContents: () => state.windows.map((w) => w.webContents) }

export const session = {
  defaultSession: {
    setPermissionRequestHandler: (fn) => {
      state.session.permissionRequest = fn
    },
    setPermissionCheckHandler: (fn) => {
      state.session.permissionCheck = fn
    },
    setDevicePermissionHandler: (fn) => {
      state.session.devicePermission = fn
    },
    webRequest: {
      onHeadersReceived: (fn) => {
        state.session.headersReceived = fn
      },
    },
  },
}

// A stand-in for the OS keychain: reversible, and marked so a test can tell it never saw plain text on disk.
export const safeStorage = {
  isEncryptionAvailable: () => true,
  getSelectedStorageBackend: () => 'gnome_libsecret',
  encryptString: (text) => new Uint8Array(Buffer.from(`stub-keychain:${Buffer.from(text, 'utf8').toString('base64')}`)),
  decryptString: (bytes) => {
    const s = Buffer.from(bytes).toString('utf8')
    if (!s.startsWith('stub-keychain:')) throw new Error('not encrypted by this keychain')
    return Buffer.from(s.slice('stub-keychain:'.length), 'base64').toString('utf8')
  },
}

export const contextBridge = {
  exposeInMainWorld: (key, value) => {
    state.exposed[key] = value
  },
}

export const ipcRenderer = {
  invoke: async (channel, ...args) => {
    const h = state.handlers.get(channel)
    if (!h) throw new Error(`Error invoking remote method '${channel}': No handler registered for '${channel}'`)
    const event = { senderFrame: state.senderFrame, sender: null }
    return structuredClone(await h(event, ...structuredClone(args)))
  },
  on: (channel, listener) => {
    const s = state.rendererListeners.get(channel) ?? new Set()
    s.add(listener)
    state.rendererListeners.set(channel, s)
  },
  removeListener: (channel, listener) => {
    state.rendererListeners.get(channel)?.delete(listener)
  },
}

export default { app, ipcMain, BrowserWindow, webContents, session, safeStorage, contextBridge, ipcRenderer }
