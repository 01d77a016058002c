// THE one place where demo mode chooses the operator's signer: the in-process emulator of the hardware signer
// (src-main/signer/device/inproc.ts, the same device core as `satmachine signer-emu`), over a demo key kept in
// the demo directory. The console reaches it through the same NSHP/1 client, DeviceManager and confirm dialog as a
// USB device; the Signer screen and the dialog draw the emulated device with its buttons (demo only).
//
// The key is a demo key: created once per demo directory (mode 0600), never the operator's, and `--demo --reset`
// wipes it with the rest of the demo directory. The emulator refuses to hold a key outside demo/test mode.
import { join } from 'node:path'
import type { Handlers } from '../../src-shared/ipc/contract'
import { publicKeyHex } from '../../src-shared/nostr/event'
import { loadOrCreateAtmKey } from '../atm-sim/simulator'
import type { SignerDeviceWiring } from '../signer/device-service'
import { inProcessEmulatorWiring } from '../signer/device-wiring'

export interface DemoSignerDevice {
  wiring: SignerDeviceWiring
  /** The demo operator key (x-only hex). */
  pubkey: string
  /** Runs the demo's own scripted set-up with the emulated device approving by itself, then stops doing so. */
  scripted<T>(fn: () => Promise<T>): Promise<T>
  /** Connects and pins the emulated device through the console's own handlers (once per demo directory). */
  pin(h: Handlers): Promise<void>
}

export async function demoSignerDevice(demoRoot: string, keyFileName = 'operator.key'): Promise<DemoSignerDevice> {
  // Same file format as the ATM simulator's key (64 hex, 0600): reuse its loader.
  const { secretKey } = await loadOrCreateAtmKey(join(demoRoot, keyFileName))
  const pubkey = publicKeyHex(secretKey)
  const { wiring, control } = inProcessEmulatorWiring({ mode: 'demo', secretKey, serial: 'DEMO-0001' })
  secretKey.fill(0)
  return {
    wiring,
    pubkey,
    async scripted(fn) {
      control.configure({ autoApprove: true })
      try {
        return await fn()
      } finally {
        control.configure({ autoApprove: false })
      }
    },
    async pin(h) {
      const v = await h['signer.connect']()
      if (v.pinned?.pubkey === pubkey && v.state !== 'error') return
      if (v.pinned) await h['signer.forget']()
      await h['signer.pin']()
    },
  }
}
