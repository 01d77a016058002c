// IPC handlers and lifecycle of the operator's hardware signer (docs/signer-host.md): opens <data>/signer/, starts
// the DeviceManager's discovery, and answers the `signer.*` methods of the contract. The transport comes from the
// caller (`SignerDeviceWiring`): the USB device in production, the TCP emulator (`satmachine signer-emu`) or the
// in-process emulator in demo mode and tests. The demo-only `signer.emulator.*` methods drive the in-process
// emulator's screen and buttons; with any other transport they answer `forbidden`.
import { join } from 'node:path'
import { ApiError, type Handlers } from '../../src-shared/ipc/contract'
import type { SignerDeviceView } from '../../src-shared/ipc/signer-device'
import type { EmulatorControlApi, SignerClientApi, SignerClientOptions } from '../../src-shared/nshp/types'
import type { OperatorSignerProvider } from '../fleet/operator-signer'
import type { ServiceContext } from '../service-context'
import { type DeviceManager, type DeviceOpener, DeviceManager as Manager, type ReviewFns } from './device-manager'
import { openDeviceStore } from './device-store'

export interface SignerDeviceWiring {
  opener: DeviceOpener
  createClient: (opts: SignerClientOptions) => SignerClientApi
  review: ReviewFns
  /** The in-process emulator's control (demo): enables the on-screen device panel. */
  emulator?: EmulatorControlApi
  backoff?: { initialMs: number; maxMs: number }
}

type SignerMethods =
  | 'signer.status'
  | 'signer.connect'
  | 'signer.pin'
  | 'signer.forget'
  | 'signer.cancel'
  | 'signer.requests'
  | 'signer.emulator.screen'
  | 'signer.emulator.press'
  | 'signer.emulator.pin'

export interface SignerDeviceFeature {
  handlers: Pick<Handlers, SignerMethods>
  /** The operator signer backed by the device (no signer until the pinned device is connected and ready). */
  provider: OperatorSignerProvider
  /** Resolves once the manager runs (tests). */
  ready: Promise<DeviceManager>
}

export function createSignerDeviceFeature(
  ctx: ServiceContext,
  w: SignerDeviceWiring,
  setOperatorPubkey: (pubkey: string) => Promise<void>,
): SignerDeviceFeature {
  const log = ctx.log.child('signer')
  let manager: DeviceManager | null = null
  const ready = openDeviceStore(join(ctx.dataDir, 'signer'), log).then((store) => {
    const m = new Manager({
      opener: w.opener,
      createClient: w.createClient,
      review: w.review,
      store,
      operatorPubkey: () => ctx.settings.get().operatorPubkey ?? null,
      setOperatorPubkey,
      log,
      clock: ctx.clock,
      onDevice: (v) => ctx.emit('signer.device', v),
      onActivity: (a) => ctx.emit('signer.activity', a),
      ...(w.emulator ? { emulator: w.emulator, onScreen: (s) => ctx.emit('signer.emulator.screen', s) } : {}),
      ...(w.backoff ? { backoff: w.backoff } : {}),
    })
    manager = m
    m.start()
    return m
  })
  ready.catch((e: unknown) => log.error('signer store could not be opened', { reason: (e as Error).message }))
  ctx.onClose(async () => {
    await manager?.stop()
  })
  const need = async (): Promise<DeviceManager> => {
    try {
      return await ready
    } catch (e) {
      throw new ApiError('unavailable', `the signer store could not be opened: ${(e as Error).message}`)
    }
  }
  const emu = (): EmulatorControlApi => {
    if (!w.emulator) throw new ApiError('forbidden', 'only in demo mode, with the emulated signer')
    return w.emulator
  }
  const provider: OperatorSignerProvider = {
    current: () => manager?.provider().current() ?? null,
    pubkey: () => manager?.provider().pubkey() ?? null,
    describe: () => manager?.provider().describe() ?? 'the hardware signer is starting',
  }
  const status = async (): Promise<SignerDeviceView> => (await need()).view()
  return {
    provider,
    ready,
    handlers: {
      'signer.status': status,
      'signer.connect': async () => (await need()).connectNow(),
      'signer.pin': async () => (await need()).pin(),
      'signer.forget': async () => (await need()).forget(),
      'signer.cancel': async ({ requestId }) => ({ cancelled: (await need()).cancel(requestId) }),
      'signer.requests': async ({ offset, limit }) => {
        const m = await need()
        return m.requests(offset ?? 0, limit ?? 20)
      },
      'signer.emulator.screen': () => (w.emulator ? w.emulator.screen() : null),
      'signer.emulator.press': ({ button }) => {
        const e = emu()
        e.press(button)
        return e.screen()
      },
      'signer.emulator.pin': ({ digits }) => {
        const e = emu()
        if (!e.enterPin(digits)) throw new ApiError('bad_args', 'args[0].digits: wrong PIN', 'args[0].digits')
        return e.screen()
      },
    },
  }
}
