// The demo stops with the console: the BUILT `satmachine start --demo` (the README's `npm start -- --demo`; headless
// where there is no Electron binary, and always for the demo) is run until its ATMs sell, then stopped with Ctrl-C
// (SIGINT) as a newcomer would. It must exit 0 on its own, and afterwards nothing of the demo may be left: no
// process it started, no port it listened on (the console, the embedded relay, the LNURL server — every listening
// socket the process held, read from /proc), and the ledger's lock file released.
//
// Linux only (/proc); skipped elsewhere with the reason. Needs `npm run build` first.
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { createConnection } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'

const ROOT = resolve(import.meta.dirname, '../..')
const BIN = join(ROOT, 'bin', 'satmachine.mjs')
const skip = process.platform !== 'linux' ? 'needs /proc (Linux)' : null
if (skip) console.warn(`[demo-stop] skipped: ${skip}`)

/** Pids of every descendant of `pid` (children, their children …), from /proc. */
function descendants(pid: number): number[] {
  const parent = new Map<number, number>()
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8')
      // Field 4 (ppid) follows the command name in parentheses, which may itself hold spaces.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
      parent.set(Number(d), ppid)
    } catch {
      // The process ended while we looked.
    }
  }
  const out: number[] = []
  const walk = (p: number) => {
    for (const [c, pp] of parent) {
      if (pp !== p || out.includes(c)) continue
      out.push(c)
      walk(c)
    }
  }
  walk(pid)
  return out
}

/** TCP ports `pid` listens on: its socket inodes matched against /proc/net/tcp{,6} rows in state LISTEN (0A). */
function listeningPorts(pid: number): number[] {
  const inodes = new Set<string>()
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))
      if (m?.[1]) inodes.add(m[1])
    } catch {
      // Closed meanwhile.
    }
  }
  const ports = new Set<number>()
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    if (!existsSync(table)) continue
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/)
      if (f.length < 10 || f[3] !== '0A' || !inodes.has(f[9]!)) continue
      ports.add(Number.parseInt(f[1]!.split(':')[1]!, 16))
    }
  }
  return [...ports].sort((a, b) => a - b)
}

function accepts(port: number): Promise<boolean> {
  return new Promise((res) => {
    const s = createConnection({ host: '127.0.0.1', port })
    s.once('connect', () => {
      s.destroy()
      res(true)
    })
    s.once('error', () => res(false))
  })
}

const alive = (pid: number) => existsSync(`/proc/${pid}`)

describe.skipIf(skip !== null)('satmachine start --demo stops cleanly with the console', () => {
  let root: string | undefined
  let proc: ChildProcess | undefined

  afterAll(async () => {
    if (proc && proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL')
    if (root) await rm(root, { recursive: true, force: true })
  })

  it('Ctrl-C stops the ATMs, the console, the relay and the wallets: exit 0, no process or port left', async () => {
    if (!existsSync(join(ROOT, 'out', 'main', 'cli.js'))) throw new Error('run `npm run build` first')
    root = await mkdtemp(join(tmpdir(), 'satmachine-demo-stop-'))
    const child = spawn(process.execPath, [BIN, 'start', '--demo', '--data-dir', root, '--port', '0'], {
      cwd: ROOT,
      env: { ...process.env, SATMACHINE_DEMO: '', ELECTRON_EXEC_PATH: '/nonexistent' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    proc = child
    let out = ''
    child.stdout?.setEncoding('utf8').on('data', (c: string) => (out += c))
    child.stderr?.setEncoding('utf8').on('data', (c: string) => (out += c))
    const exited = new Promise<{ code: number | null; signal: string | null }>((res) =>
      child.once('exit', (code, signal) => res({ code, signal })),
    )
    const until = async (what: string, re: RegExp, ms: number) => {
      const deadline = Date.now() + ms
      while (!re.test(out)) {
        if (child.exitCode !== null) throw new Error(`exited before ${what}:\n${out}`)
        if (Date.now() > deadline) throw new Error(`no ${what} within ${ms} ms:\n${out}`)
        await new Promise((r) => setTimeout(r, 200))
      }
    }
    await until('URL', /Satmachine Console \(headless\) at http:\/\/127\.0\.0\.1:\d+/, 60_000)
    // The ATMs are selling: the whole demo is up, not just the console.
    await until('demo sale', /demo sale/, 60_000)

    const pid = child.pid!
    const ports = listeningPorts(pid)
    const children = descendants(pid)
    // The console, the relay and the LNURL server at least.
    expect(ports.length, out).toBeGreaterThanOrEqual(3)
    const consolePort = Number(/127\.0\.0\.1:(\d+)\/\S*token=/.exec(out)?.[1])
    expect(ports).toContain(consolePort)
    for (const p of ports) expect(await accepts(p), `port ${p} before the stop`).toBe(true)
    expect(existsSync(join(root, 'console', 'ledger', 'LOCK'))).toBe(true)

    child.kill('SIGINT')
    let timer: ReturnType<typeof setTimeout> | undefined
    const result = await Promise.race([
      exited,
      new Promise<'hung'>((res) => {
        timer = setTimeout(() => res('hung'), 20_000)
      }),
    ])
    clearTimeout(timer)
    expect(result, `did not stop within 20 s of SIGINT:\n${out}`).not.toBe('hung')
    expect(result, out).toEqual({ code: 0, signal: null })
    expect(out).toMatch(/shutting down signal=SIGINT/)
    expect(out).toMatch(/services closed/)

    for (const c of children) expect(alive(c), `process ${c} left behind`).toBe(false)
    for (const p of ports) expect(await accepts(p), `port ${p} after the stop`).toBe(false)
    expect(existsSync(join(root, 'console', 'ledger', 'LOCK')), 'ledger lock released').toBe(false)
  }, 150_000)
})
