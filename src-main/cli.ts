// `satmachine` command line (built to out/main/cli.js, run by bin/satmachine.mjs). Plain Node: never imports
// electron. Subcommands live in one dispatch table; to add one (e.g. `settle`, `atm-sim`), write a `Command` in
// your module and add ONE import line and ONE entry to `COMMANDS` below.
//
//   satmachine start   the desktop app (Electron), or headless mode when the Electron binary is not installed
//   satmachine serve   headless mode: the console on http://127.0.0.1 with a per-launch token
//   satmachine audit-export / verify-audit   the quarterly audit export and its verifier (docs/audit-export.md)
//   satmachine audit-proof   inclusion and consistency proofs of the audit log (docs/audit.md §8)
//   satmachine demo-seed  fill a new data directory with a seeded history (src-main/cli/demo-seed.ts)
//   satmachine help    this list
import { type SpawnOptions, spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { homedir } from 'node:os'
import { dirname, join } from 'node:path'
import { createAppLog } from './app-log'
import { atmSimCommand } from './cli/atm-sim'
import { auditExportCommand, verifyAuditCommand } from './cli/audit'
import { auditProofCommand } from './cli/audit-proof'
import { demoSeedCommand } from './cli/demo-seed'
import { type CommandOptions, OptionError, type ParsedOptions, runWithOptions } from './cli/options'
import { settleCommand } from './cli/settle'
import { signerEmuCommand } from './cli/signer-emu'
import { type DemoRun, type DemoWorld, demoPaths, resetDemo, runDemo, startDemoWorld } from './demo/demo'
import { type DemoSignerDevice, demoSignerDevice } from './demo/signer'
import type { LedgerStore } from './ledger/types'
import { lazySecretStore } from './secrets/secret-store'
import { appRoot, DEFAULT_PORT, startServe } from './serve/server'
import { defaultDataDir, demoFlagsFromEnv, type OpenLedger, PRODUCT_NAME, workerLedger } from './services'
import type { SignerDeviceWiring } from './signer/device-service'
import { hidWiring, parseEmulatorAddress, tcpEmulatorWiring } from './signer/device-wiring'

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

/** The demo flags `--demo FLAGS` accepts (anything else is refused naming it). */
export const KNOWN_DEMO_FLAGS = ['full', 'emulated-signer'] as const

/** The options of `serve` and `start` (one declaration: parsing and `--help` both read it). */
export const SERVE_OPTIONS: CommandOptions = {
  command: 'serve',
  summary:
    'Headless mode: the console on http://127.0.0.1 with a per-launch token. With --demo, the whole job on embedded ' +
    'parts (relay, Lightning wallets, two simulated ATMs) in a demo directory of its own.',
  options: [
    { name: 'port', kind: 'string', value: 'N', help: `listen port (default ${DEFAULT_PORT}; 0 = any free port)` },
    { name: 'data-dir', kind: 'string', value: 'DIR', help: 'data directory (with --demo: the demo directory)' },
    {
      name: 'demo',
      kind: 'optional-string',
      value: 'FLAGS',
      help: `demo mode; alone: the full demo. FLAGS (comma-separated): ${KNOWN_DEMO_FLAGS.join(', ')}`,
    },
    { name: 'reset', kind: 'boolean', help: 'with --demo: wipe the demo directory first' },
    { name: 'renderer-dir', kind: 'string', value: 'DIR', help: 'serve the renderer from DIR (development)' },
    {
      name: 'secret-key-file',
      kind: 'string',
      value: 'FILE',
      help: 'key file sealing the secrets (default: created outside the data directory, mode 0600)',
    },
    { name: 'accept-plaintext-secrets', kind: 'boolean', help: 'store secrets unencrypted (not recommended)' },
    {
      name: 'signer-emu',
      kind: 'string',
      value: 'HOST:PORT',
      help: 'use the emulated signer `satmachine signer-emu` on 127.0.0.1:PORT instead of the USB device (demo banner on)',
    },
  ],
  example: 'satmachine serve --demo',
}

const serveCommand: Command = {
  name: 'serve',
  summary: 'headless mode: the console on 127.0.0.1 (--demo: the full demo; --help for options)',
  run: (argv, io) => runWithOptions(SERVE_OPTIONS, argv, io, (values) => runServe(values, io)),
}

const START_OPTIONS: CommandOptions = {
  ...SERVE_OPTIONS,
  command: 'start',
  summary:
    'The desktop app (Electron); headless mode (as `serve`) when the Electron binary is not installed. Same options.',
  example: 'satmachine start --demo',
}

const startCommand: Command = {
  name: 'start',
  summary: 'the desktop app; falls back to headless mode when the Electron binary is not installed',
  run: (argv, io) =>
    runWithOptions(START_OPTIONS, argv, io, async (values) => {
      const exe = electronBinary()
      if (!exe || values.demo !== undefined) {
        io.out(
          !exe
            ? 'The Electron binary is not installed (node_modules/electron/dist); starting headless mode instead.'
            : 'Demo mode runs headless; open the URL below in a browser.',
        )
        return runServe(values, io)
      }
      const env = { ...process.env }
      if (typeof values['data-dir'] === 'string') env.SATMACHINE_DATA_DIR = values['data-dir']
      if (typeof values['signer-emu'] === 'string') env.SATMACHINE_SIGNER_EMU = values['signer-emu']
      const opts: SpawnOptions = { stdio: 'inherit', env }
      const child = spawn(exe, [appRoot()], opts)
      return new Promise<number>((res) => {
        child.on('error', (e) => {
          io.err(`satmachine: could not start Electron (${e.message})`)
          res(1)
        })
        child.on('exit', (code, signal) => res(code ?? (signal ? 1 : 0)))
      })
    }),
}

const helpCommand: Command = {
  name: 'help',
  summary: 'list the commands',
  async run(_argv, io) {
    io.out('usage: satmachine <command> [options]')
    for (const c of COMMANDS) io.out(`  ${c.name.padEnd(12)} ${c.summary}`)
    return 0
  },
}

/** The dispatch table. Add a subcommand here (one import line above, one entry below). */
export const COMMANDS: Command[] = [
  startCommand,
  serveCommand,
  settleCommand,
  atmSimCommand,
  signerEmuCommand,
  demoSeedCommand,
  auditExportCommand,
  verifyAuditCommand,
  auditProofCommand,
  helpCommand,
]

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

/** `--demo` alone is the full demo; `--demo a,b` names flags, each of which must be known. */
export function demoFlagsOf(value: string | boolean | undefined): string[] {
  if (value === undefined) return demoFlagsFromEnv()
  if (value === true) return ['full']
  if (value === false) return []
  const flags = value
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x !== '')
  const unknown = flags.filter((f) => !(KNOWN_DEMO_FLAGS as readonly string[]).includes(f))
  if (unknown.length > 0)
    throw new OptionError(
      '--demo',
      `--demo: unknown value ${unknown.map((u) => `'${u.slice(0, 40)}'`).join(', ')}; known: ${KNOWN_DEMO_FLAGS.join(', ')}`,
    )
  return flags
}

/** Where the headless console keeps its secret key file when none is named: outside the data directory. */
export function defaultSecretKeyFile(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.SATMACHINE_KEY_DIR || join(homedir(), '.satmachine-console-keys'), 'secret.key')
}

async function runServe(values: ParsedOptions, io: CliIo): Promise<number> {
  const str = (k: string) => (typeof values[k] === 'string' ? (values[k] as string) : undefined)
  const portText = str('port')
  const port = portText === undefined ? DEFAULT_PORT : Number(portText)
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    io.err('satmachine serve: --port: expected an integer in [0, 65535]')
    return 2
  }
  let demoFlags: string[]
  try {
    demoFlags = demoFlagsOf(values.demo)
  } catch (e) {
    io.err(`satmachine serve: ${(e as Error).message}`)
    return 2
  }
  const emuText = str('signer-emu') ?? (process.env.SATMACHINE_SIGNER_EMU || undefined)
  let emuAddr: { host: string; port: number } | undefined
  try {
    if (emuText !== undefined) emuAddr = parseEmulatorAddress(emuText)
  } catch (e) {
    io.err(`satmachine serve: --signer-emu: ${(e as Error).message}`)
    return 2
  }
  const fullDemo = demoFlags.includes('full')
  if (values.reset === true && !fullDemo) {
    io.err('satmachine serve: --reset: only with --demo (it wipes the demo directory)')
    return 2
  }
  const appLog = createAppLog({ write: (line) => io.err(line) })
  const log = appLog.log.child('cli')
  // The demo never touches the operator's data: it has a directory of its own (--data-dir names it).
  const demo = fullDemo
    ? demoPaths(str('data-dir') ?? join(dirname(defaultDataDir()), `${PRODUCT_NAME} Demo`))
    : undefined
  if (demo && values.reset === true) {
    await resetDemo(demo)
    log.info('demo directory wiped', { dir: demo.root })
  }
  const dataDir = demo?.dataDir ?? str('data-dir') ?? process.env.SATMACHINE_DATA_DIR ?? defaultDataDir()
  // The ledger worker is built next to this entry (out/main/ledger-worker.js).
  const workerOpen = workerLedger(new URL('./ledger-worker.js', import.meta.url))
  let ledgerStore: LedgerStore | undefined
  const openLedger: OpenLedger = async (o) => {
    ledgerStore = await workerOpen(o)
    return ledgerStore
  }
  // Headless has no OS keychain: secrets are sealed with a key file kept apart from the data (removable media is
  // best). Without one named, a key file is created outside the data directory and the log says where.
  const acceptPlaintext = values['accept-plaintext-secrets'] === true
  const named = str('secret-key-file') ?? (process.env.SATMACHINE_SECRET_KEY_FILE || undefined)
  const keyFile = named ?? demo?.secretKeyFile ?? (acceptPlaintext ? undefined : defaultSecretKeyFile())
  if (acceptPlaintext && !named) {
    io.err(
      'satmachine serve: WARNING: --accept-plaintext-secrets: wallet connection secrets and the console key will be ' +
        `stored UNENCRYPTED in ${dataDir}; anyone who can read that folder can spend from the operator wallet.`,
    )
  }
  if (keyFile && !named && !demo) {
    await mkdir(dirname(keyFile), { recursive: true, mode: 0o700 })
    log.info(
      `secrets are sealed with the key file ${keyFile} (created if missing, mode 0600), outside the data ` +
        'directory. Move it to removable media and start with --secret-key-file FILE; without it the sealed ' +
        'secrets cannot be opened.',
      { keyFile },
    )
  }
  const secrets = lazySecretStore({
    dataDir,
    ...(keyFile ? { keyFile } : {}),
    acceptPlaintext: acceptPlaintext && !keyFile,
    log: appLog.log.child('secrets'),
  })
  // The hardware signer: the USB device, or an emulator (demo banner on): the in-process one in the demo, or
  // `satmachine signer-emu` over TCP with --signer-emu (src-main/signer/device-wiring.ts).
  let signerDevice: SignerDeviceWiring
  let demoDevice: DemoSignerDevice | undefined
  let world: DemoWorld | undefined
  if (demo) {
    await mkdir(demo.root, { recursive: true, mode: 0o700 })
    demoDevice = await demoSignerDevice(demo.root)
    signerDevice = demoDevice.wiring
  } else if (emuAddr !== undefined) signerDevice = tcpEmulatorWiring(emuAddr)
  else if (demoFlags.includes('emulated-signer')) {
    // `--demo emulated-signer` alone: the in-process emulator over a demo key kept beside the data (never the
    // operator's key: the banner is on, and the key file says what it is).
    await mkdir(dataDir, { recursive: true, mode: 0o700 })
    signerDevice = (await demoSignerDevice(dataDir, 'demo-signer.key')).wiring
  } else signerDevice = hidWiring()
  if ((demo || emuAddr !== undefined) && !demoFlags.includes('emulated-signer')) demoFlags.push('emulated-signer')
  if (demo) world = await startDemoWorld(appLog.log.child('demo'), demo.root)
  const base = {
    dataDir,
    appLog,
    demoFlags,
    signerDevice,
    openLedger,
    secrets,
    ...(demo ? { pipeline: DEMO_PIPELINE_TIMING } : {}),
    ...(str('renderer-dir') ? { rendererDir: str('renderer-dir') as string } : {}),
  }
  let handle: Awaited<ReturnType<typeof startServe>>
  try {
    try {
      handle = await startServe({ ...base, port })
    } catch (e) {
      // The default port may be taken by another instance; a random free one is as good. An explicit port is not.
      if ((e as NodeJS.ErrnoException).code === 'EADDRINUSE' && portText === undefined) {
        log.warn('default port busy; using a random free port', { port })
        handle = await startServe({ ...base, port: 0 })
      } else throw e
    }
  } catch (e) {
    await world?.close()
    io.err(`satmachine serve: ${(e as Error).message}`)
    return 1
  }
  // A data directory another console holds: say which process, print no URL, exit non-zero.
  await handle.services.ledgerReady
  const status = await handle.services.handlers['ledger.status']()
  if (status.state === 'failed' && /locked by process/.test(status.error ?? '')) {
    await handle.close()
    await world?.close()
    io.err(`satmachine serve: ${dataDir} is in use: ${status.error}`)
    return 1
  }
  let run: DemoRun | undefined
  if (demo && world) {
    try {
      const h = handle.services.handlers
      const w = world
      const dev = demoDevice as DemoSignerDevice
      // The demo's own set-up (pinning, the two pairings) is approved on the emulated signer by the script; after
      // that the operator approves on the on-screen device panel.
      run = await dev.scripted(async () => {
        await dev.pin(h)
        return runDemo({
          handlers: h,
          ledger: () => {
            if (!ledgerStore) throw new Error('the ledger is not open')
            return ledgerStore
          },
          world: w,
          root: (demo as { root: string }).root,
          operatorPubkey: dev.pubkey,
          log: appLog.log.child('demo'),
        })
      })
    } catch (e) {
      await handle.close()
      await world.close()
      io.err(`satmachine serve: the demo could not start: ${(e as Error).message}`)
      return 1
    }
  }
  // Signal handlers go in BEFORE the URL is printed: whoever reads the line may stop us at once.
  const done = new Promise<number>((res) => {
    const stop = (signal: string) => {
      process.off('SIGINT', onInt)
      process.off('SIGTERM', onTerm)
      log.info('shutting down', { signal })
      // Demo parts stop around the console: the ATMs first, the network they all use last.
      ;(async () => {
        await run?.close()
        await handle.close()
        await world?.close()
      })().then(
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
  if (demo) io.out(`DEMO: embedded relay ${world?.relay.url}, two simulated ATMs selling; data in ${demo.root}`)
  io.out(`Satmachine Console (headless) at ${handle.url}`)
  return done
}

/** Demo timing: payouts and receipts every few seconds, so a minute shows the whole job. */
const DEMO_PIPELINE_TIMING = {
  timing: { payoutIntervalMs: 3_000, receiptIntervalMs: 3_000, settlementIntervalMs: 3_000 },
  receipts: { retryInitialMs: 1_000 },
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
