// In-process emulator transport (docs/signer-protocol.md §10): a DeviceCore behind a ReportTransport that behaves
// like a USB HID node: whole reports, delivered asynchronously (a macrotask, optional latency) in order, so
// ordering bugs show up as they would on a real device. Unplugging the emulated device closes the transport.
import { DeviceCore } from '../../../src-shared/nshp/device-core'
import {
  type DeviceCoreOptions,
  type EmulatorControlApi,
  type ReportTransport,
  SignerError,
} from '../../../src-shared/nshp/types'

export interface InProcessEmulator {
  core: DeviceCore
  control: EmulatorControlApi
  /** The device's public key (tests pin it). */
  pubkey: string
  /** Opens a transport to the device (as plugging the cable in); closes any previous one. */
  transport(): ReportTransport
}

export function createInProcessEmulator(opts: DeviceCoreOptions & { latencyMs?: number }): InProcessEmulator {
  const core = new DeviceCore(opts)
  const latency = opts.latencyMs ?? 0
  let active: InProcTransport | null = null
  core.onPlug((plugged) => {
    if (!plugged && active) active.shut('Signer disconnected (unplugged)')
  })
  return {
    core,
    control: core,
    pubkey: core.pubkey,
    transport() {
      if (!core.isPlugged) throw new SignerError('unplugged', 'The signer is not connected.')
      active?.shut('another host opened the device')
      const t = new InProcTransport(core, latency)
      active = t
      return t
    },
  }
}

/** A macrotask (setImmediate: no 1 ms clamp as with setTimeout 0), or after `ms` when latency is simulated. */
function later(fn: () => void, ms: number): void {
  if (ms > 0) setTimeout(fn, ms)
  else setImmediate(fn)
}

class InProcTransport implements ReportTransport {
  readonly kind = 'emulator-inproc' as const
  readonly reportBytes: number
  private readonly reportListeners = new Set<(r: Uint8Array) => void>()
  private readonly closeListeners = new Set<(reason: string) => void>()
  private isClosed = false

  constructor(
    private readonly core: DeviceCore,
    private readonly latencyMs: number,
  ) {
    this.reportBytes = core.reportBytes
    core.connect((report) => {
      const copy = Uint8Array.from(report)
      later(() => {
        if (this.isClosed) return
        for (const l of [...this.reportListeners]) l(copy)
      }, this.latencyMs)
    })
  }

  get closed(): boolean {
    return this.isClosed
  }

  async send(report: Uint8Array): Promise<void> {
    if (this.isClosed) throw new SignerError('unplugged', 'The signer is not connected.')
    if (report.length !== this.reportBytes)
      throw new RangeError(`report: ${report.length} bytes, the device uses ${this.reportBytes}`)
    const copy = Uint8Array.from(report)
    await new Promise<void>((resolve) => later(resolve, this.latencyMs))
    if (this.isClosed) throw new SignerError('unplugged', 'The signer is not connected.')
    this.core.receive(copy)
  }

  onReport(listener: (report: Uint8Array) => void): () => void {
    this.reportListeners.add(listener)
    return () => this.reportListeners.delete(listener)
  }

  onClose(listener: (reason: string) => void): () => void {
    this.closeListeners.add(listener)
    return () => this.closeListeners.delete(listener)
  }

  shut(reason: string): void {
    if (this.isClosed) return
    this.isClosed = true
    this.core.connect(null)
    for (const l of [...this.closeListeners]) l(reason)
    this.closeListeners.clear()
    this.reportListeners.clear()
  }

  async close(): Promise<void> {
    this.shut('closed by the host')
  }
}
