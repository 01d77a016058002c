// The emulator process's servers (`satmachine signer-emu`, docs/signer-protocol.md §10): a DeviceCore reachable
// over TCP on 127.0.0.1 as raw back-to-back reports (one host connection at a time, like one USB cable), and a
// control API as HTTP + JSON on a second 127.0.0.1 port: screen, buttons, PIN, lock, unplug/replug, settings and
// fault injection. Both listen on the loopback interface only. POSTs must be application/json and the Host header
// must name the loopback address, so a web page in the operator's browser cannot drive the emulator.
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { createServer, type Server, type Socket } from 'node:net'
import { DeviceCore } from '../../../src-shared/nshp/device-core'
import type { Button, DeviceCoreOptions, DeviceState, Fault } from '../../../src-shared/nshp/types'

export const BUTTONS: readonly Button[] = ['next', 'prev', 'approve', 'reject']
export const FAULTS: readonly Fault[] = [
  'drop-report',
  'duplicate-report',
  'sequence-gap',
  'wrong-channel',
  'foreign-channel-interleave',
  'wrong-tag',
  'truncated-length',
  'oversize-length',
  'garbage',
  'no-status',
  'stall',
  'unplug-mid-request',
  'unplug-mid-response',
  'different-pubkey',
  'corrupt-signature',
  'wrong-event-id',
  'answer-locked',
  'answer-busy',
  'wrong-request-id',
]
const STATES: readonly DeviceState[] = ['idle', 'locked', 'reviewing', 'busy', 'wiped', 'unplugged']

export interface SignerEmulatorOptions extends DeviceCoreOptions {
  /** Data port (0 = any free port). */
  dataPort?: number
  /** Control port (0 = any free port). */
  controlPort?: number
}

export interface SignerEmulatorServer {
  core: DeviceCore
  dataPort: number
  controlPort: number
  close(): Promise<void>
}

const HOST = '127.0.0.1'

export async function startSignerEmulator(opts: SignerEmulatorOptions): Promise<SignerEmulatorServer> {
  const core = new DeviceCore(opts)
  let host: Socket | null = null
  const sockets = new Set<Socket>()

  const data: Server = createServer((socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => socket.destroy())
    if (!core.isPlugged) {
      socket.destroy()
      return
    }
    socket.setNoDelay(true)
    // One cable: a new host connection replaces the old one.
    host?.destroy()
    host = socket
    core.connect((report) => {
      if (host === socket && !socket.destroyed) socket.write(Buffer.from(report))
    })
    let buf: Buffer = Buffer.alloc(0)
    socket.on('data', (chunk: Buffer) => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk])
      while (buf.length >= core.reportBytes) {
        const report = new Uint8Array(buf.subarray(0, core.reportBytes))
        buf = buf.subarray(core.reportBytes)
        if (host === socket) core.receive(report)
      }
    })
    socket.on('close', () => {
      if (host === socket) {
        host = null
        core.connect(null)
      }
    })
  })
  core.onPlug((plugged) => {
    if (plugged) return
    for (const s of [...sockets]) s.destroy()
  })

  const control = createHttpServer((req, res) => {
    handleControl(core, req, res).catch((e: unknown) => send(res, 500, { error: (e as Error).message }))
  })

  const listen = (server: Server | ReturnType<typeof createHttpServer>, port: number) =>
    new Promise<number>((resolve, reject) => {
      server.once('error', reject)
      server.listen(port, HOST, () => {
        const a = server.address()
        resolve(typeof a === 'object' && a ? a.port : port)
      })
    })
  const dataPort = await listen(data, opts.dataPort ?? 0)
  const controlPort = await listen(control, opts.controlPort ?? 0)
  return {
    core,
    dataPort,
    controlPort,
    async close() {
      for (const s of [...sockets]) s.destroy()
      control.closeAllConnections()
      await Promise.all([
        new Promise<void>((r) => data.close(() => r())),
        new Promise<void>((r) => control.close(() => r())),
      ])
    },
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body)
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' })
  res.end(text)
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.length
    if (size > 16_384) throw new ControlError('body: larger than 16 KiB')
    chunks.push(c)
  }
  const text = Buffer.concat(chunks).toString('utf8')
  if (text === '') return {}
  let v: unknown
  try {
    v = JSON.parse(text)
  } catch {
    throw new ControlError('body: not JSON')
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ControlError('body: must be a JSON object')
  return v as Record<string, unknown>
}

class ControlError extends Error {}

async function handleControl(core: DeviceCore, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1')
  const hostHeader = req.headers.host ?? ''
  if (!/^(127\.0\.0\.1|localhost)(:\d+)?$/.test(hostHeader)) return send(res, 403, { error: 'host: loopback only' })
  try {
    if (req.method === 'GET' && url.pathname === '/screen') {
      const wait = url.searchParams.get('wait')
      if (wait === null) return send(res, 200, core.screen())
      if (!(STATES as readonly string[]).includes(wait))
        throw new ControlError(`wait: unknown state '${wait.slice(0, 20)}'; known: ${STATES.join(', ')}`)
      const timeout = Number(url.searchParams.get('timeout') ?? '10000')
      if (!Number.isInteger(timeout) || timeout < 0 || timeout > 120_000)
        throw new ControlError('timeout: 0..120000 ms')
      try {
        return send(res, 200, await core.waitFor(wait as DeviceState, timeout))
      } catch (e) {
        return send(res, 408, { error: (e as Error).message, screen: core.screen() })
      }
    }
    if (req.method !== 'POST') return send(res, 404, { error: `${req.method} ${url.pathname}: no such endpoint` })
    if (!/^application\/json\b/.test(req.headers['content-type'] ?? ''))
      return send(res, 415, { error: 'content-type: must be application/json' })
    const body = await readJson(req)
    switch (url.pathname) {
      case '/button': {
        const b = body.button
        if (typeof b !== 'string' || !(BUTTONS as readonly string[]).includes(b))
          throw new ControlError(`button: one of ${BUTTONS.join(', ')}`)
        core.press(b as Button)
        return send(res, 200, core.screen())
      }
      case '/pin': {
        if (typeof body.digits !== 'string' || !/^[0-9]{1,12}$/.test(body.digits))
          throw new ControlError('digits: 1 to 12 digits')
        return send(res, 200, { ok: core.enterPin(body.digits), screen: core.screen() })
      }
      case '/lock':
        core.lock()
        return send(res, 200, core.screen())
      case '/unplug':
        core.unplug()
        return send(res, 200, core.screen())
      case '/replug':
        core.replug()
        return send(res, 200, core.screen())
      case '/config':
        try {
          return send(res, 200, core.configure(body))
        } catch (e) {
          throw new ControlError((e as Error).message)
        }
      case '/fault': {
        const f = body.fault
        if (typeof f !== 'string' || !(FAULTS as readonly string[]).includes(f))
          throw new ControlError(`fault: one of ${FAULTS.join(', ')}`)
        core.fault(f as Fault)
        return send(res, 200, { queued: f })
      }
      default:
        return send(res, 404, { error: `POST ${url.pathname}: no such endpoint` })
    }
  } catch (e) {
    if (e instanceof ControlError) return send(res, 400, { error: e.message })
    throw e
  }
}
