// Real-relay test fixture (NIP-01, NIP-40, optional NIP-42): runs src-main/embedded/relay-server.mjs as a separate
// Node process on 127.0.0.1 so a test can SIGKILL it and bring it back on the same port mid-stream. With a
// persist file the restarted relay serves every event it had acknowledged, like a real relay with a database.
// Readiness comes from the child's `RELAY_READY` stdout line, never from a sleep.
//
// `startRelayInProcess()` runs the same relay inside the test process for fast unit tests; it offers the same
// handle, with kill() closing the listener abruptly and restart() listening again on the same port.
import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { type RelayServer, startRelayServer } from '../../src-main/embedded/relay-server.mjs'

export interface StartRelayOptions {
  /** Port to listen on; 0 or absent = a free port chosen at first start and kept across restarts. */
  port?: number
  /** NIP-42: send an AUTH challenge and refuse REQ/EVENT ("auth-required:") until a valid kind 22242 arrives. */
  requireAuth?: boolean
  /** Append-only JSONL file holding the stored events; they survive kill() and restart(). */
  persistFile?: string
  /** Cap on stored events returned per filter (real relays cap at a few hundred). Default 5000. */
  maxLimit?: number
  /** Subscriptions a single connection may hold before the oldest is silently evicted. Default 64. */
  maxSubscriptionsPerClient?: number
  /** How long to wait for the child's ready line before failing. Default 20 s. */
  startTimeoutMs?: number
}

export interface RelayHandle {
  /** ws://127.0.0.1:<port> */
  readonly url: string
  readonly port: number
  /** Process id of the relay child (the test process's own pid for the in-process variant). */
  readonly pid: number
  /** Graceful stop (SIGTERM), resolves once the process has exited. Safe to call twice. */
  stop(): Promise<void>
  /** Hard stop, default SIGKILL, resolves once the process has exited: no goodbye frames, sockets just die. */
  kill(signal?: NodeJS.Signals): Promise<void>
  /** Starts again on the same port (stopping first if still running); stored events come back if persistFile. */
  restart(): Promise<void>
  /** Terminates every client socket while the relay keeps running (a network blip). */
  dropClients(): Promise<void>
  /** Number of events the relay holds (stored kinds only; replaced versions not counted). */
  storedCount(): Promise<number>
  /** True while the relay is listening. */
  readonly running: boolean
}

const SERVER_ENTRY = fileURLToPath(new URL('../../src-main/embedded/relay-server.mjs', import.meta.url))

/** Starts the relay as a child process; see RelayHandle. */
export async function startRelay(opts: StartRelayOptions = {}): Promise<RelayHandle> {
  let port = opts.port ?? 0
  let child: ChildProcess | undefined
  let exited: Promise<void> = Promise.resolve()
  let pending: Array<{ prefix: string; resolve: (line: string) => void }> = []

  const launch = async (): Promise<void> => {
    const config = {
      port,
      persistFile: opts.persistFile,
      requireAuth: opts.requireAuth ?? false,
      maxLimit: opts.maxLimit,
      maxSubscriptionsPerClient: opts.maxSubscriptionsPerClient,
    }
    const proc = spawn(process.execPath, [SERVER_ENTRY, JSON.stringify(config)], {
      stdio: ['pipe', 'pipe', 'pipe'],
      // Run the child with the test's Node but without vitest's loader flags.
      env: { ...process.env, NODE_OPTIONS: '' },
    })
    child = proc
    let stderr = ''
    proc.stderr?.setEncoding('utf8')
    proc.stderr?.on('data', (d: string) => {
      stderr = (stderr + d).slice(-4000)
    })
    exited = new Promise((resolve) => proc.once('exit', () => resolve()))
    let buf = ''
    const ready = new Promise<{ port: number }>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`relay did not start within ${opts.startTimeoutMs ?? 20_000} ms: ${stderr}`)),
        opts.startTimeoutMs ?? 20_000,
      )
      proc.once('exit', (code, signal) => {
        clearTimeout(timer)
        reject(new Error(`relay process exited before ready (code ${code}, signal ${signal}): ${stderr}`))
      })
      proc.stdout?.setEncoding('utf8')
      proc.stdout?.on('data', (d: string) => {
        buf += d
        let nl = buf.indexOf('\n')
        while (nl >= 0) {
          const line = buf.slice(0, nl)
          buf = buf.slice(nl + 1)
          nl = buf.indexOf('\n')
          if (line.startsWith('RELAY_READY ')) {
            clearTimeout(timer)
            resolve(JSON.parse(line.slice('RELAY_READY '.length)) as { port: number })
            continue
          }
          const waiter = pending.find((w) => line.startsWith(w.prefix))
          if (waiter) {
            pending = pending.filter((w) => w !== waiter)
            waiter.resolve(line)
          }
        }
      })
    })
    const info = await ready
    port = info.port
  }

  const isRunning = () => child !== undefined && child.exitCode === null && child.signalCode === null

  const signalAndWait = async (signal: NodeJS.Signals): Promise<void> => {
    if (!isRunning()) return exited
    child?.kill(signal)
    await exited
  }

  await launch()
  return {
    get url() {
      return `ws://127.0.0.1:${port}`
    },
    get port() {
      return port
    },
    get pid() {
      return child?.pid ?? -1
    },
    get running() {
      return isRunning()
    },
    stop: () => signalAndWait('SIGTERM'),
    kill: (signal: NodeJS.Signals = 'SIGKILL') => signalAndWait(signal),
    async restart() {
      await signalAndWait('SIGTERM')
      await launch()
    },
    async dropClients() {
      if (!isRunning()) throw new Error('relay is not running')
      const ack = new Promise<string>((resolve) => pending.push({ prefix: 'RELAY_ACK drop', resolve }))
      child?.stdin?.write('{"cmd":"drop"}\n')
      await ack
    },
    async storedCount() {
      if (!isRunning()) throw new Error('relay is not running')
      const line = new Promise<string>((resolve) => pending.push({ prefix: 'RELAY_COUNT ', resolve }))
      child?.stdin?.write('{"cmd":"count"}\n')
      return Number((await line).slice('RELAY_COUNT '.length))
    },
  }
}

/**
 * The same relay inside the test process: cheaper to start, but kill() cannot be a real SIGKILL. kill() and stop()
 * both terminate client sockets and close the listener; restart() listens again on the same port. Stored events
 * survive restart() only through persistFile, as with the child process.
 */
export async function startRelayInProcess(opts: StartRelayOptions = {}): Promise<RelayHandle> {
  let port = opts.port ?? 0
  let server: RelayServer | undefined
  const launch = async () => {
    server = await startRelayServer({
      port,
      persistFile: opts.persistFile,
      requireAuth: opts.requireAuth ?? false,
      maxLimit: opts.maxLimit,
      maxSubscriptionsPerClient: opts.maxSubscriptionsPerClient,
    })
    port = server.port
  }
  const close = async () => {
    const s = server
    server = undefined
    await s?.close()
  }
  await launch()
  return {
    get url() {
      return `ws://127.0.0.1:${port}`
    },
    get port() {
      return port
    },
    pid: process.pid,
    get running() {
      return server !== undefined
    },
    stop: close,
    kill: close,
    async restart() {
      await close()
      await launch()
    },
    async dropClients() {
      if (!server) throw new Error('relay is not running')
      server.dropClients()
    },
    async storedCount() {
      if (!server) throw new Error('relay is not running')
      return server.repository.count()
    },
  }
}
