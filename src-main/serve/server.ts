// Headless mode (`satmachine serve`, docs/architecture.md §2): the same services as the desktop app, the BUILT renderer served
// on 127.0.0.1 only, and a WebSocket bridge at /__bridge implementing the same IPC contract through the same
// dispatcher (schema validation, Result envelopes).
//
// Security model: anything on this machine can reach 127.0.0.1, and any web page the operator visits can make
// the browser send requests there. So every request needs the per-launch token (32 random bytes, base64url):
// `?token=` on the first page load (then an HttpOnly SameSite=Strict cookie, so page scripts never see it), or the
// `x-satmachine-token` header / `Authorization: Bearer` for programmatic clients. Without it: 401. WebSocket
// upgrades additionally check Origin (a browser always sends it; a foreign page's origin is refused), and the
// Host header must name the loopback address (DNS-rebinding guard). Pages get the strict CSP header.
import { randomBytes, timingSafeEqual } from 'node:crypto'
import { existsSync } from 'node:fs'
import { readFile, realpath, stat } from 'node:fs/promises'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { dirname, extname, join, resolve, sep } from 'node:path'
import type { Duplex } from 'node:stream'
import { type WebSocket, WebSocketServer } from 'ws'
import type { Clock } from '../../src-shared/clock'
import { BRIDGE_PATH, BRIDGE_SCRIPT_PATH, type BridgeEvent, CSP, type Emit } from '../../src-shared/ipc/contract'
import { type AppLog, createAppLog } from '../app-log'
import type { OperatorSignerProvider } from '../fleet/operator-signer'
import { createDispatcher } from '../ipc'
import type { PipelineWiring } from '../pipeline/feature'
import type { SecretStore } from '../secrets/secret-store'
import { createServices, type OpenLedger, type Services } from '../services'
import type { SignerDeviceWiring } from '../signer/device-service'
import { bridgeClientScript } from './bridge-client'

export const DEFAULT_PORT = 4780
/**
 * Largest WebSocket message accepted from the page (docs/headless.md): contract arguments are small and size-capped
 * by schema. A bigger message closes that one connection with 1009; the process and other connections carry on.
 */
export const MAX_FRAME_BYTES = 1024 * 1024
/**
 * Calls one connection may have in flight. Further calls are answered at once with `busy` instead of queueing
 * without bound: a page (or a token holder) flooding the bridge cannot grow the process's memory.
 */
export const MAX_INFLIGHT_PER_CONNECTION = 64

export interface ServeOptions {
  dataDir: string
  /** 0 (default) picks a free port. */
  port?: number
  /** Directory holding the built renderer (`index.html` + assets); default: `out/renderer` of this app. */
  rendererDir?: string
  /** Fixed token (tests only); default 32 random bytes, base64url. */
  token?: string
  appLog?: AppLog
  demoFlags?: string[]
  openLedger?: OpenLedger
  clock?: Clock
  /**
   * The secret store (NWC URIs, the console key), from `lazySecretStore` with the operator's key file or plain-text
   * consent. Absent: NWC destinations and the operator wallet are refused as `unavailable`.
   */
  secrets?: SecretStore | (() => Promise<SecretStore>)
  /** Tests only: an operator signer used instead of the hardware signer (the remote bunker stays the fallback). */
  operatorSigner?: OperatorSignerProvider
  /** How the hardware signer is reached (USB, the TCP emulator, the in-process demo emulator); absent: none. */
  signerDevice?: SignerDeviceWiring
  /** Pipeline timing and receipt options (demo mode runs them every few seconds); the secret store is `secrets`. */
  pipeline?: Omit<PipelineWiring, 'secrets'>
}

export interface ServeHandle {
  /** `http://127.0.0.1:PORT/?token=…` — what the operator opens. */
  url: string
  origin: string
  port: number
  token: string
  services: Services
  appLog: AppLog
  close(): Promise<void>
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.wasm': 'application/wasm',
  '.txt': 'text/plain; charset=utf-8',
}

const SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy': CSP,
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Cache-Control': 'no-store',
}

/**
 * The application root: the nearest folder above this module holding package.json (the repository in development,
 * the app folder or asar when packaged). Walking up works whether this code sits in `out/main/` or a chunk below it.
 */
export function appRoot(from: string = import.meta.dirname): string {
  let dir = from
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'package.json'))) return dir
    dir = dirname(dir)
  }
  return process.cwd()
}

/** The built renderer of this app: `<app root>/out/renderer`. */
export function defaultRendererDir(): string {
  return join(appRoot(), 'out', 'renderer')
}

export function newToken(): string {
  return randomBytes(32).toString('base64url')
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.length === y.length && timingSafeEqual(x, y)
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined
  for (const part of header.split(';')) {
    const eq = part.indexOf('=')
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim()
  }
  return undefined
}

/** Injects the bridge script as the first element of <head>, so `window.api` exists before the app's module runs. */
export function injectBridge(html: string): string {
  const tag = `<script src="${BRIDGE_SCRIPT_PATH}"></script>`
  const m = /<head[^>]*>/i.exec(html)
  if (!m) throw new Error('renderer index.html has no <head>')
  return `${html.slice(0, m.index + m[0].length)}\n    ${tag}${html.slice(m.index + m[0].length)}`
}

export async function startServe(opts: ServeOptions): Promise<ServeHandle> {
  const appLog = opts.appLog ?? createAppLog()
  const log = appLog.log.child('serve')
  const token = opts.token ?? newToken()
  const rendererDir = resolve(opts.rendererDir ?? defaultRendererDir())
  const indexPath = join(rendererDir, 'index.html')
  if (!existsSync(indexPath)) throw new Error(`the built renderer is missing (${indexPath}); run npm run build first`)
  const rendererRoot = await realpath(rendererDir)

  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES })
  const emit: Emit = (event, payload) => {
    const frame: BridgeEvent = { event, payload }
    const text = JSON.stringify(frame)
    for (const c of wss.clients) if (c.readyState === c.OPEN) c.send(text)
  }
  const services = await createServices({
    runtime: 'node',
    emit,
    dataDir: opts.dataDir,
    appLog,
    ...(opts.clock ? { clock: opts.clock } : {}),
    ...(opts.demoFlags ? { demoFlags: opts.demoFlags } : {}),
    ...(opts.openLedger ? { openLedger: opts.openLedger } : {}),
    ...(opts.operatorSigner ? { operatorSigner: opts.operatorSigner } : {}),
    ...(opts.signerDevice ? { signerDevice: opts.signerDevice } : {}),
    // With a secret store, the money pipeline starts once the operator setup is complete (src-main/setup/).
    ...(opts.secrets
      ? { lps: { secrets: opts.secrets }, payouts: { ...(opts.pipeline ?? {}), secrets: opts.secrets } }
      : {}),
  })
  const dispatch = createDispatcher(services.handlers, appLog.log.child('ipc'))

  const server: Server = createServer()
  await new Promise<void>((res, rej) => {
    server.once('error', rej)
    server.listen(opts.port ?? 0, '127.0.0.1', () => {
      server.off('error', rej)
      res()
    })
  })
  const port = (server.address() as AddressInfo).port
  const origins = new Set([`http://127.0.0.1:${port}`, `http://localhost:${port}`])
  const hosts = new Set([`127.0.0.1:${port}`, `localhost:${port}`])
  const cookieName = `satmachine_token_${port}`

  /** Which credential the request carries, if it is valid. */
  function authenticate(req: IncomingMessage, url: URL): 'query' | 'cookie' | 'header' | null {
    const header =
      (req.headers['x-satmachine-token'] as string | undefined) ??
      (req.headers.authorization?.startsWith('Bearer ') ? req.headers.authorization.slice(7) : undefined)
    if (header !== undefined) return sameSecret(header, token) ? 'header' : null
    const q = url.searchParams.get('token')
    if (q !== null) return sameSecret(q, token) ? 'query' : null
    const c = cookieValue(req.headers.cookie, cookieName)
    if (c !== undefined) return sameSecret(c, token) ? 'cookie' : null
    return null
  }

  function deny(res: ServerResponse, status: number, text: string): void {
    res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', ...SECURITY_HEADERS })
    res.end(`${text}\n`)
  }

  async function staticFile(pathname: string): Promise<{ body: Buffer; type: string } | null> {
    let decoded: string
    try {
      decoded = decodeURIComponent(pathname)
    } catch {
      return null
    }
    if (decoded.includes('\0')) return null
    const target = resolve(rendererRoot, `.${decoded}`)
    if (target !== rendererRoot && !target.startsWith(rendererRoot + sep)) return null
    let real: string
    try {
      real = await realpath(target)
      if (!(await stat(real)).isFile()) return null
    } catch {
      return null
    }
    // A symlink inside the bundle must not lead outside it.
    if (!real.startsWith(rendererRoot + sep)) return null
    return {
      body: await readFile(real),
      type: CONTENT_TYPES[extname(real).toLowerCase()] ?? 'application/octet-stream',
    }
  }

  async function onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1')
    if (!hosts.has(req.headers.host ?? '')) {
      log.warn('http request refused', { reason: 'bad host header', path: url.pathname })
      return deny(res, 421, 'wrong host')
    }
    const auth = authenticate(req, url)
    if (!auth) {
      log.warn('http request refused', { reason: 'missing or wrong token', path: url.pathname })
      return deny(res, 401, 'token required: open the URL that `satmachine serve` printed')
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return deny(res, 405, 'method not allowed')
    const cookie = `${cookieName}=${token}; HttpOnly; SameSite=Strict; Path=/`
    if (auth === 'query') {
      // Move the token from the address bar into the cookie, so it does not linger in history or screenshots.
      url.searchParams.delete('token')
      res.writeHead(303, { Location: url.pathname + url.search, 'Set-Cookie': cookie, ...SECURITY_HEADERS })
      res.end()
      return
    }
    let body: Buffer
    let type: string
    if (url.pathname === BRIDGE_SCRIPT_PATH) {
      body = Buffer.from(bridgeClientScript())
      type = CONTENT_TYPES['.js'] as string
    } else if (url.pathname === '/' || url.pathname === '/index.html') {
      body = Buffer.from(injectBridge(await readFile(indexPath, 'utf8')))
      type = CONTENT_TYPES['.html'] as string
    } else {
      const f = await staticFile(url.pathname)
      if (!f) return deny(res, 404, 'not found')
      body = f.body
      type = f.type
    }
    res.writeHead(200, { 'Content-Type': type, 'Content-Length': body.length, ...SECURITY_HEADERS })
    res.end(req.method === 'HEAD' ? undefined : body)
  }

  server.on('request', (req, res) => {
    onRequest(req, res).catch((e: unknown) => {
      log.error('http request failed', { reason: e instanceof Error ? e.message : String(e) })
      if (!res.headersSent) deny(res, 500, 'internal error')
      else res.destroy()
    })
  })

  function refuseUpgrade(socket: Duplex, status: string, reason: string, path: string): void {
    log.warn('websocket refused', { reason, path })
    socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`)
  }

  let clientSeq = 0
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1')
    if (url.pathname !== BRIDGE_PATH) return refuseUpgrade(socket, '404 Not Found', 'unknown path', url.pathname)
    if (!hosts.has(req.headers.host ?? ''))
      return refuseUpgrade(socket, '421 Misdirected Request', 'bad host', BRIDGE_PATH)
    if (!authenticate(req, url)) return refuseUpgrade(socket, '401 Unauthorized', 'missing or wrong token', BRIDGE_PATH)
    const origin = req.headers.origin
    if (origin !== undefined && !origins.has(origin))
      return refuseUpgrade(socket, '403 Forbidden', 'foreign origin', BRIDGE_PATH)
    wss.handleUpgrade(req, socket, head, (ws) => onConnection(ws, `ws#${++clientSeq}`))
  })

  function onConnection(ws: WebSocket, caller: string): void {
    log.info('bridge client connected', { caller })
    let inflight = 0
    // A protocol violation (oversized message, unmasked or reserved-opcode frame, invalid UTF-8, absurd length
    // header) makes `ws` emit 'error' and close this socket with the matching code (1009, 1002, 1007). Without a
    // listener the 'error' event would be unhandled and end the whole process; with it only this client goes.
    ws.on('error', (e: Error & { code?: string }) => {
      log.warn('bridge client closed: bad frame', { caller, reason: e.message, code: e.code ?? 'unknown' })
    })
    ws.on('message', (raw, isBinary) => {
      let id = 0
      let frame: unknown
      try {
        frame = JSON.parse(isBinary ? '' : String(raw))
      } catch {
        frame = undefined
      }
      const f = frame as { id?: unknown; method?: unknown; args?: unknown } | undefined
      if (f && typeof f === 'object' && Number.isSafeInteger(f.id)) id = f.id as number
      if (!f || typeof f !== 'object' || id <= 0 || typeof f.method !== 'string') {
        log.warn('ipc call rejected', { reason: 'malformed frame', caller })
        ws.send(JSON.stringify({ id, result: { ok: false, error: { code: 'bad_args', message: 'malformed frame' } } }))
        return
      }
      if (inflight >= MAX_INFLIGHT_PER_CONNECTION) {
        log.warn('ipc call rejected', { reason: 'busy', caller, inflight })
        const message = `busy: ${inflight} calls in flight on this connection (limit ${MAX_INFLIGHT_PER_CONNECTION})`
        ws.send(JSON.stringify({ id, result: { ok: false, error: { code: 'busy', message } } }))
        return
      }
      inflight++
      dispatch(f.method, f.args, { transport: 'ws', caller })
        .then(
          (result) => {
            if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ id, result }))
          },
          (e: unknown) => log.error('bridge dispatch failed', { reason: String(e), caller }),
        )
        .finally(() => {
          inflight--
        })
    })
    ws.on('close', (code) => log.info('bridge client disconnected', { caller, code }))
  }

  const origin = `http://127.0.0.1:${port}`
  let closing: Promise<void> | undefined
  log.info('headless console listening', { origin, dataDir: opts.dataDir })
  return {
    url: `${origin}/?token=${token}`,
    origin,
    port,
    token,
    services,
    appLog,
    close() {
      closing ??= (async () => {
        // Terminate rather than wait for close handshakes: a hung page must not hold up shutdown.
        for (const c of wss.clients) c.terminate()
        await new Promise<void>((res) => wss.close(() => res()))
        server.closeAllConnections()
        await new Promise<void>((res) => server.close(() => res()))
        await services.close()
      })()
      return closing
    },
  }
}
