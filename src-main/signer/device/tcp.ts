// TCP transport to the `satmachine signer-emu` emulator process (docs/signer-protocol.md §10). The data socket
// carries back-to-back fixed-size reports with nothing in between; TCP keeps no write boundaries, so the reader
// re-cuts the byte stream into reports of `reportBytes`. A socket close is an unplug.
import { connect, type Socket } from 'node:net'
import { type ReportTransport, SignerError } from '../../../src-shared/nshp/types'

export interface TcpEmulatorAddress {
  host?: string
  port: number
  reportBytes?: number
  /** Give up connecting after this long (default 3000 ms). */
  connectTimeoutMs?: number
}

export async function connectTcpEmulator(addr: TcpEmulatorAddress): Promise<ReportTransport> {
  const host = addr.host ?? '127.0.0.1'
  if (host !== '127.0.0.1' && host !== 'localhost' && host !== '::1')
    throw new SignerError('bad-request', `host: the emulator is reached on the loopback interface only, not ${host}`)
  const reportBytes = addr.reportBytes ?? 64
  const socket = await new Promise<Socket>((resolve, reject) => {
    const s = connect({ host, port: addr.port })
    const timer = setTimeout(() => {
      s.destroy()
      reject(new SignerError('unplugged', `No signer emulator answered on ${host}:${addr.port}.`))
    }, addr.connectTimeoutMs ?? 3000)
    s.once('connect', () => {
      clearTimeout(timer)
      resolve(s)
    })
    s.once('error', (e) => {
      clearTimeout(timer)
      reject(new SignerError('unplugged', `No signer emulator on ${host}:${addr.port} (${e.message}).`))
    })
  })
  socket.setNoDelay(true)
  return new TcpTransport(socket, reportBytes)
}

class TcpTransport implements ReportTransport {
  readonly kind = 'emulator-tcp' as const
  private readonly reportListeners = new Set<(r: Uint8Array) => void>()
  private readonly closeListeners = new Set<(reason: string) => void>()
  private isClosed = false
  private pending: Buffer = Buffer.alloc(0)

  constructor(
    private readonly socket: Socket,
    readonly reportBytes: number,
  ) {
    socket.on('data', (chunk: Buffer) => {
      this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk])
      while (this.pending.length >= reportBytes) {
        const report = new Uint8Array(this.pending.subarray(0, reportBytes))
        this.pending = this.pending.subarray(reportBytes)
        for (const l of [...this.reportListeners]) l(report)
      }
    })
    socket.on('error', () => this.shut('Signer disconnected (connection error)'))
    socket.on('close', () => this.shut('Signer disconnected (unplugged)'))
  }

  get closed(): boolean {
    return this.isClosed
  }

  send(report: Uint8Array): Promise<void> {
    if (this.isClosed) return Promise.reject(new SignerError('unplugged', 'The signer is not connected.'))
    if (report.length !== this.reportBytes)
      return Promise.reject(new RangeError(`report: ${report.length} bytes, the device uses ${this.reportBytes}`))
    return new Promise((resolve, reject) => {
      this.socket.write(Buffer.from(report), (err) =>
        err ? reject(new SignerError('unplugged', 'Signer disconnected while sending.')) : resolve(),
      )
    })
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
    this.socket.destroy()
    for (const l of [...this.closeListeners]) l(reason)
    this.closeListeners.clear()
    this.reportListeners.clear()
  }

  async close(): Promise<void> {
    this.shut('closed by the host')
  }
}
