// Preload for the sandboxed renderer (built as CommonJS: sandboxed preloads cannot be ESM). It exposes exactly one
// function per contract method plus `on(event, cb)` as `window.api` — no generic send/invoke, no process.env
// (Electron's context-isolation guidance; SECURITY.md). Each method resolves to the
// `Result` envelope; the renderer unwraps it with `createApi` from src-shared/ipc/renderer-api.ts.
// In a sandbox only `electron` may be required, and the contract it bundles is pure TypeScript.
import { contextBridge, type IpcRendererEvent, ipcRenderer } from 'electron'
import {
  type EventName,
  type EventPayload,
  IPC_CHANNEL_PREFIX,
  IPC_EVENT_CHANNEL,
  isEventName,
  METHOD_NAMES,
} from '../src-shared/ipc/contract'

const api: Record<string, unknown> = {}
for (const method of METHOD_NAMES) {
  const channel = IPC_CHANNEL_PREFIX + method
  api[method] = (...args: unknown[]) => ipcRenderer.invoke(channel, ...args)
}

api.on = <E extends EventName>(event: E, cb: (payload: EventPayload<E>) => void): (() => void) => {
  if (!isEventName(event)) throw new TypeError(`unknown event: ${String(event).slice(0, 64)}`)
  if (typeof cb !== 'function') throw new TypeError('on(event, cb): cb must be a function')
  const listener = (_e: IpcRendererEvent, name: unknown, payload: unknown) => {
    if (name === event) cb(payload as EventPayload<E>)
  }
  ipcRenderer.on(IPC_EVENT_CHANNEL, listener)
  return () => {
    ipcRenderer.removeListener(IPC_EVENT_CHANNEL, listener)
  }
}

contextBridge.exposeInMainWorld('api', Object.freeze(api))
