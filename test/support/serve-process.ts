// Headless mode as a child process, for the e2e suites: `node bin/satmachine.mjs serve --port 0 --data-dir DIR …`
// (or `start`, which runs headless for the demo)
// from the BUILT app, with the URL (including the per-launch token) read from the line it prints. `stop()` sends
// SIGTERM and requires a clean exit 0 (the ledger is closed first); a hang is killed after 15 s and reported.
import { type ChildProcess, spawn } from 'node:child_process'
import { join, resolve } from 'node:path'

const ROOT = resolve(import.meta.dirname, '../..')
const BIN = join(ROOT, 'bin', 'satmachine.mjs')
const URL_RE = /(http:\/\/127\.0\.0\.1:\d+\/\S*token=[^\s]+)/

export interface ServedProcess {
  /** The page URL including the per-launch token, as printed. */
  url: string
  /** The same origin without the token. */
  origin: string
  proc: ChildProcess
  /** Everything the process printed so far (stdout and stderr). */
  output: () => string
  stop(): Promise<void>
}

export async function startServeProcess(
  dataDir: string,
  extraArgs: string[] = [],
  timeoutMs = 30_000,
  /** `start` runs the desktop command (headless when it must be); `env` is added to this process's environment. */
  opts: { command?: 'serve' | 'start'; env?: NodeJS.ProcessEnv } = {},
): Promise<ServedProcess> {
  const command = opts.command ?? 'serve'
  const proc = spawn(process.execPath, [BIN, command, '--port', '0', '--data-dir', dataDir, ...extraArgs], {
    cwd: ROOT,
    env: { ...process.env, SATMACHINE_DEMO: '', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  proc.stdout?.setEncoding('utf8')
  proc.stderr?.setEncoding('utf8')
  const exited = new Promise<number | null>((res) => proc.once('exit', (code) => res(code)))
  const url = await new Promise<string>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`serve printed no URL within ${timeoutMs} ms:\n${out}`)), timeoutMs)
    proc.stdout?.on('data', (chunk: string) => {
      out += chunk
      const m = URL_RE.exec(out)
      if (m?.[1]) {
        clearTimeout(timer)
        res(m[1])
      }
    })
    proc.stderr?.on('data', (c: string) => {
      out += c
    })
    void exited.then((code) => {
      clearTimeout(timer)
      rej(new Error(`serve exited with ${code} before printing a URL:\n${out}`))
    })
  })
  return {
    url,
    origin: new URL(url).origin,
    proc,
    output: () => out,
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return
      proc.kill('SIGTERM')
      let timer: ReturnType<typeof setTimeout> | undefined
      const forced = new Promise<'forced'>((res) => {
        timer = setTimeout(() => {
          proc.kill('SIGKILL')
          res('forced')
        }, 15_000)
      })
      const how = await Promise.race([exited, forced])
      clearTimeout(timer)
      if (how === 'forced') throw new Error(`serve did not stop within 15 s of SIGTERM:\n${out}`)
      if (how !== 0) throw new Error(`serve exited with ${how} after SIGTERM:\n${out}`)
    },
  }
}
