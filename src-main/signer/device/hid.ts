// node-hid transport for a real NSHP/1 signer (docs/signer-protocol.md §9). node-hid is a native module, so it is
// loaded lazily, on first use, and only in a Node main or utility process: never in a renderer (a native fault or a
// blocking call must not freeze the UI, and the renderer has no business touching USB).
//
// Discovery: a HID interface on the vendor-defined usage page 0xFF00, usage 0x01, whose USB product string contains
// "NSHP/1". Backends that do not expose usage pages (libusb) are matched on the product string alone. Writes carry
// a leading 0x00 report-id byte (the device uses no numbered reports), reads arrive without it. An `error` event
// from node-hid (unplug, I/O failure) closes the transport: a pending request ends as "unplugged".
import type { Device, HIDAsync } from 'node-hid'
import { type ReportTransport, SignerError } from '../../../src-shared/nshp/types'

export const NSHP_USAGE_PAGE = 0xff00
export const NSHP_USAGE = 0x01
export const NSHP_PRODUCT_MARKER = 'NSHP/1'

export interface HidSignerInfo {
  path: string
  vendorId: number
  productId: number
  serialNumber?: string
  product?: string
  manufacturer?: string
}

/** The part of node-hid this module uses (tests pass a fake). */
export interface NodeHidLike {
  devicesAsync(): Promise<Device[]>
  HIDAsync: { open(path: string, options?: { nonExclusive?: boolean }): Promise<HIDAsync> }
}

let loaded: Promise<NodeHidLike> | null = null

/** Loads node-hid on first use; refuses in a renderer. */
export function loadNodeHid(): Promise<NodeHidLike> {
  const type = (process as NodeJS.Process & { type?: string }).type
  if (type === 'renderer' || 'window' in globalThis)
    return Promise.reject(new Error('node-hid: the USB signer is reached from the main process only'))
  loaded ??= import('node-hid').then((m) => ((m as unknown as { default?: NodeHidLike }).default ?? m) as NodeHidLike)
  return loaded
}

/** True for a HID interface that announces NSHP/1. */
export function isNshpInterface(d: Device): boolean {
  if (!d.path || !(d.product ?? '').includes(NSHP_PRODUCT_MARKER)) return false
  // hidraw/macOS/Windows report the usage page; libusb reports none (0 or absent).
  if (d.usagePage === undefined || d.usagePage === 0) return true
  return d.usagePage === NSHP_USAGE_PAGE && d.usage === NSHP_USAGE
}

/** Signers plugged in now. Every call is a full USB scan: callers poll with a backoff, not in a tight loop. */
export async function listHidSigners(hid?: NodeHidLike): Promise<HidSignerInfo[]> {
  const lib = hid ?? (await loadNodeHid())
  const all = await lib.devicesAsync()
  return all.filter(isNshpInterface).map((d) => ({
    path: d.path as string,
    vendorId: d.vendorId,
    productId: d.productId,
    ...(d.serialNumber ? { serialNumber: d.serialNumber } : {}),
    ...(d.product ? { product: d.product } : {}),
    ...(d.manufacturer ? { manufacturer: d.manufacturer } : {}),
  }))
}

export async function openHidSigner(
  path: string,
  opts: { reportBytes?: number; hid?: NodeHidLike } = {},
): Promise<ReportTransport> {
  const lib = opts.hid ?? (await loadNodeHid())
  let dev: HIDAsync
  try {
    dev = await lib.HIDAsync.open(path)
  } catch (e) {
    throw new SignerError('unplugged', `The signer could not be opened (${(e as Error).message}).`)
  }
  return new HidTransport(dev, opts.reportBytes ?? 64)
}

class HidTransport implements ReportTransport {
  readonly kind = 'hid' as const
  private readonly reportListeners = new Set<(r: Uint8Array) => void>()
  private readonly closeListeners = new Set<(reason: string) => void>()
  private isClosed = false

  constructor(
    private readonly dev: HIDAsync,
    readonly reportBytes: number,
  ) {
    // Attach the data listener before anything is written: node-hid buffers nothing while no one listens.
    dev.on('data', (buf: Buffer) => {
      if (this.isClosed) return
      const report = new Uint8Array(this.reportBytes)
      report.set(buf.subarray(0, this.reportBytes))
      for (const l of [...this.reportListeners]) l(report)
    })
    dev.on('error', (e: Error) => this.shut(`Signer disconnected (${e.message})`))
  }

  get closed(): boolean {
    return this.isClosed
  }

  async send(report: Uint8Array): Promise<void> {
    if (this.isClosed) throw new SignerError('unplugged', 'The signer is not connected.')
    if (report.length !== this.reportBytes)
      throw new RangeError(`report: ${report.length} bytes, the device uses ${this.reportBytes}`)
    const out = Buffer.alloc(this.reportBytes + 1)
    out.set(report, 1) // out[0] = 0x00: no numbered reports
    try {
      await this.dev.write(out)
    } catch (e) {
      this.shut(`Signer disconnected (${(e as Error).message})`)
      throw new SignerError('unplugged', 'Signer disconnected while sending.')
    }
  }

  onReport(listener: (report: Uint8Array) => void): () => void {
    this.reportListeners.add(listener)
    return () => this.reportListeners.delete(listener)
  }

  onClose(listener: (reason: string) => void): () => void {
    this.closeListeners.add(listener)
    return () => this.closeListeners.delete(listener)
  }

  private shut(reason: string): void {
    if (this.isClosed) return
    this.isClosed = true
    this.dev.removeAllListeners('data')
    this.dev.close().catch(() => undefined)
    for (const l of [...this.closeListeners]) l(reason)
    this.closeListeners.clear()
    this.reportListeners.clear()
  }

  async close(): Promise<void> {
    this.shut('closed by the host')
  }
}
