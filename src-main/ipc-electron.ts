// Electron transport for the IPC contract: one `ipcMain.handle` per contract method (channel
// `satmachine:<method>`), each checking the sender frame before handing the call to the shared dispatcher, and an
// emitter that pushes contract events to our own windows. One of the three files allowed to import electron.
import { type BrowserWindow, type IpcMainInvokeEvent, ipcMain } from 'electron'
import { type Emit, IPC_CHANNEL_PREFIX, IPC_EVENT_CHANNEL, METHOD_NAMES } from '../src-shared/ipc/contract'
import type { Logger } from '../src-shared/log'
import { type Dispatch, forbidden } from './ipc'
import { type SenderPolicy, senderRefusal } from './ipc-sender'

/** Registers every contract method; returns the channel names (the smoke test compares them with the contract). */
export function registerIpc(dispatch: Dispatch, policy: SenderPolicy, log: Logger): string[] {
  const channels: string[] = []
  for (const method of METHOD_NAMES) {
    const channel = IPC_CHANNEL_PREFIX + method
    ipcMain.handle(channel, async (event: IpcMainInvokeEvent, ...args: unknown[]) => {
      const frame = event.senderFrame
      const refusal = senderRefusal(frame, policy)
      if (refusal) {
        log.warn('ipc call rejected', { reason: 'forbidden', detail: refusal, method })
        return forbidden('this page may not call the console API')
      }
      return dispatch(method, args, { transport: 'electron', caller: frame ? new URL(frame.url).protocol : '?' })
    })
    channels.push(channel)
  }
  return channels
}

/** Pushes an event to the given windows only (never to foreign webContents such as devtools). */
export function makeEmitter(windows: () => readonly BrowserWindow[]): Emit {
  return (event, payload) => {
    for (const w of windows()) {
      if (!w.isDestroyed()) w.webContents.send(IPC_EVENT_CHANNEL, event, payload)
    }
  }
}
