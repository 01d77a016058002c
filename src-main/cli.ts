// `satmachine` command line (built to out/main/cli.js, run by bin/satmachine.mjs). Plain Node: never imports
// electron. Subcommands live in one dispatch table; to add one (e.g. `settle`, `atm-sim`), write a `Command` in
// your module and add ONE import line and ONE entry to `COMMANDS` below.
//
//   satmachine start   the desktop app (Electron), or headless mode when the Electron binary is not installed
//   satmachine serve   headless mode: the console on http://127.0.0.1 with a per-launch token
//   satmachine help    this list
import { type SpawnOptions, spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { parseArgs } from 'node:util'
import { createAppLog } from './app-log'
import { atmSimCommand } from './cli/atm-sim'
import { settleCommand } from './cli/settle'
import { type OperatorSignerProvider, operatorSignerFromOptions } from './fleet/operator-signer'
import { lazySecretStore } from './secrets/secret-store'
import { appRoot, DEFAULT_PORT, startServe } from './serve/server'
import { defaultDataDir, demoFlagsFromEnv, workerLedger } from './services'

/** Where a command writes; tests pass their own. */
export interface CliIo {
  out: (line: string) => void
  err: (line: string) => void
}

export interface Command {
  name: string
  /** One line for `satmachine help`. */
  summary: string
  /** Resolves to the process exit code. Long-running commands resolve when they have shut down. */
  run(argv: string[], io: CliIo): Promise<number>
}

const serveCommand: Command = {
  name: 'serve',
  summary:
    'headless mode: the console on 127.0.0.1 (--port N, --data-dir DIR, --demo FLAGS, --secret-key-file FILE, ' +
    '--accept-plaintext-secrets, --operator-key-file FILE with --demo software-operator-signer)',
  run: (argv, io) => runServe(argv, io),
}

const startCommand: Command = {
  name: 'start',
  summary: 'the desktop app; falls back to headless mode when the Electron binary is not installed',
  async run(argv, io) {
    const exe = electronBinary()
    if (!exe) {
      io.out('The Electron binary is not installed (node_modules/electron/dist); starting headless mode instead.')
      return runServe(argv, io)
    }
    const { values } = parseArgs({ args: argv, options: serveOptions, strict: true })
    const env = { ...process.env }
    if (values['data-dir']) env.SATMACHINE_DATA_DIR = values['data-dir']
    if (values.demo) env.SATMACHINE_DEMO = values.demo
    if (values['operator-key-file']) env.SATMACHINE_OPERATOR_KEY_FILE = values['operator-key-file']
    const opts: SpawnOptions = { stdio: 'inherit', env }
    const child = spawn(exe, [appRoot()], opts)
    return new Promise<number>((res) => {
      child.on('error', (e) => {
        io.err(`satmachine: could not start Electron (${e.message})`)
        res(1)
      })
      child.on('exit', (code, signal) => res(code ?? (signal ? 1 : 0)))
    })
  },
}

const helpCommand: Command = {
  name: 'help',
  summary: 'list the commands',
  async run(_argv, io) {
    io.out('usage: satmachine <command> [options]')
    for (const c of COMMANDS) io.out(`  ${c.name.padEnd(8)} ${c.summary}`)
    return 0
  },
}

/** The dispatch table. Add a subcommand here (one import line above, one entry below). */
export const COMMANDS: Command[] = [startCommand, serveCommand, settleCommand, atmSimCommand, helpCommand]

const serveOptions = {
  port: { type: 'string' },
  'data-dir': { type: 'string' },
  demo: { type: 'string' },
  'renderer-dir': { type: 'string' },
  'secret-key-file': { type: 'string' },
  'accept-plaintext-secrets': { type: 'boolean' },
  /** Demo only (with `--demo software-operator-signer`): a file holding the operator's secret key as 64 hex. */
  'operator-key-file': { type: 'string' },
} as const

/**
 * The Electron executable, if installed: `ELECTRON_EXEC_PATH`, or node_modules/electron/path.txt naming a file
 * under node_modules/electron/dist (the layout Electron's own installer writes).
 */
export function electronBinary(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.ELECTRON_EXEC_PATH) return existsSync(env.ELECTRON_EXEC_PATH) ? env.ELECTRON_EXEC_PATH : undefined
  let dir: string
  try {
    dir = dirname(createRequire(join(appRoot(), 'package.json')).resolve('electron/package.json'))
  } catch {
    return undefined
  }
  const pathTxt = join(dir, 'path.txt')
  if (!existsSync(pathTxt)) return undefined
  const exe = join(dir, 'dist', readFileSync(pathTxt, 'utf8').trim())
  return existsSync(exe) ? exe : undefined
}

async function runServe(argv: string[], io: CliIo): Promise<number> {
  let values: {
    port?: string
    'data-dir'?: string
    demo?: string
    'renderer-dir'?: string
    'secret-key-file'?: string
    'accept-plaintext-secrets'?: boolean
    'operator-key-file'?: string
  }
  try {
    values = parseArgs({ args: argv, options: serveOptions, strict: true }).values
  } catch (e) {
    io.err(`satmachine serve: ${(e as Error).message}`)
    return 2
  }
  const port = values.port === undefined ? DEFAULT_PORT : Number(values.port)
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    io.err('satmachine serve: --port: expected an integer in [0, 65535]')
    return 2
  }
  const demoFlags = values.demo !== undefined ? demoFlagsFromEnv({ SATMACHINE_DEMO: values.demo }) : demoFlagsFromEnv()
  const appLog = createAppLog({ write: (line) => io.err(line) })
  const dataDir = values['data-dir'] ?? process.env.SATMACHINE_DATA_DIR ?? defaultDataDir()
  // The ledger worker is built next to this entry (out/main/ledger-worker.js).
  const openLedger = workerLedger(new URL('./ledger-worker.js', import.meta.url))
  // Headless has no OS keychain: secrets are sealed with a key file the operator names (kept apart from the data,
  // e.g. on removable media), or stored in plain text only with explicit consent (DESIGN §2).
  const keyFile = values['secret-key-file'] ?? (process.env.SATMACHINE_SECRET_KEY_FILE || undefined)
  const acceptPlaintext = values['accept-plaintext-secrets'] === true
  if (acceptPlaintext && !keyFile) {
    io.err(
      'satmachine serve: WARNING: --accept-plaintext-secrets: wallet connection secrets and the console key will be ' +
        `stored UNENCRYPTED in ${dataDir}; anyone who can read that folder can spend from the operator wallet.`,
    )
  }
  const secrets = lazySecretStore({
    dataDir,
    ...(keyFile ? { keyFile } : {}),
    acceptPlaintext,
    log: appLog.log.child('secrets'),
  })
  // Demo only: a software operator signer over a key file, refused without the demo flag (src-main/fleet/).
  let operatorSigner: OperatorSignerProvider
  try {
    const operatorKeyFile = values['operator-key-file'] ?? (process.env.SATMACHINE_OPERATOR_KEY_FILE || undefined)
    operatorSigner = await operatorSignerFromOptions({ demoFlags, ...(operatorKeyFile ? { operatorKeyFile } : {}) })
  } catch (e) {
    io.err(`satmachine serve: --operator-key-file: ${(e as Error).message.replace(/^operatorKeyFile: /, '')}`)
    return 2
  }
  const base = {
    dataDir,
    appLog,
    demoFlags,
    operatorSigner,
    openLedger,
    secrets,
    ...(values['renderer-dir'] ? { rendererDir: values['renderer-dir'] } : {}),
  }
  let handle: Awaited<ReturnType<typeof startServe>>
  try {
    handle = await startServe({ ...base, port })
  } catch (e) {
    // The default port may be taken by another instance; a random free one is as good. An explicit port is not.
    if ((e as NodeJS.ErrnoException).code === 'EADDRINUSE' && values.port === undefined) {
      appLog.log.warn('default port busy; using a random free port', { port })
      handle = await startServe({ ...base, port: 0 })
    } else {
      io.err(`satmachine serve: ${(e as Error).message}`)
      return 1
    }
  }
  // Signal handlers go in BEFORE the URL is printed: whoever reads the line may stop us at once.
  const done = new Promise<number>((res) => {
    const stop = (signal: string) => {
      process.off('SIGINT', onInt)
      process.off('SIGTERM', onTerm)
      appLog.log.info('shutting down', { signal })
      handle.close().then(
        () => res(0),
        (e: unknown) => {
          io.err(`satmachine serve: shutdown failed: ${(e as Error).message}`)
          res(1)
        },
      )
    }
    const onInt = () => stop('SIGINT')
    const onTerm = () => stop('SIGTERM')
    process.on('SIGINT', onInt)
    process.on('SIGTERM', onTerm)
  })
  io.out(`Satmachine Console (headless) at ${handle.url}`)
  return done
}

/** Runs one command line; resolves to the exit code. */
export async function main(argv: string[], io: CliIo = { out: console.log, err: console.error }): Promise<number> {
  const [name = 'help', ...rest] = argv
  const command = COMMANDS.find((c) => c.name === name) ?? (name === '--help' || name === '-h' ? helpCommand : null)
  if (!command) {
    io.err(`satmachine: unknown command '${name.slice(0, 40)}'; try 'satmachine help'`)
    return 2
  }
  return command.run(rest, io)
}
