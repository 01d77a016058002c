// `satmachine signer-emu`: the NSHP/1 hardware-signer emulator as a process of its own (docs/signer-protocol.md
// §10). It serves raw reports on a TCP port and a JSON control API (screen, buttons, PIN, unplug/replug, faults) on
// a second port, both on 127.0.0.1 only. It holds a software key, so it starts only with `--mode demo` or
// `--mode test`; anything shown as signed by it is a demo signature. Prints one `signer-emu ready {json}` line with
// the ports and the public key, then runs until SIGINT/SIGTERM (exit 0). Exit 2 on a usage error.
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import { schnorr } from '@noble/curves/secp256k1.js'
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js'
import { npubEncode } from 'nostr-tools/nip19'
import type { CliIo, Command } from '../cli'
import { startSignerEmulator } from '../signer/device/emu-server'
import { type CommandOptions, type ParsedOptions, runWithOptions } from './options'

export const SIGNER_EMU_OPTIONS: CommandOptions = {
  command: 'signer-emu',
  summary:
    'The hardware-signer emulator (NSHP/1 over TCP on 127.0.0.1, with a JSON control API on a second port). It holds ' +
    'a software key, so it runs only in demo or test mode; the console shows its DEMO banner while it is used.',
  options: [
    {
      name: 'mode',
      kind: 'string',
      value: 'demo|test',
      help: 'required: demo or test (the emulator refuses any other)',
    },
    {
      name: 'key-file',
      kind: 'string',
      value: 'FILE',
      help: 'the key as 64 hex (created, mode 0600, if missing); default: a fresh key per run',
    },
    { name: 'port', kind: 'string', value: 'N', help: 'data port (default 0 = any free port; printed)' },
    { name: 'control-port', kind: 'string', value: 'N', help: 'control API port (default 0 = any free port; printed)' },
    {
      name: 'pin',
      kind: 'string',
      value: 'DIGITS',
      help: 'the PIN entered on the emulated keypad (4-12 digits; default none)',
    },
    { name: 'locked', kind: 'boolean', help: 'start locked (needs --pin)' },
    { name: 'report-size', kind: 'string', value: 'N', help: 'HID report size in bytes (default 64)' },
    { name: 'max-msg', kind: 'string', value: 'N', help: 'largest message accepted, bytes (default 16384)' },
    { name: 'serial', kind: 'string', value: 'TEXT', help: 'serial number reported by GET_INFO' },
    { name: 'auto-approve', kind: 'boolean', help: 'approve every review at once (demo convenience)' },
    { name: 'review-timeout-ms', kind: 'string', value: 'N', help: 'device review timeout (default 60000)' },
    {
      name: 'keepalive-ms',
      kind: 'string',
      value: 'N',
      help: 'keepalive period while a request is pending (default 500)',
    },
  ],
  example: 'satmachine signer-emu --mode demo --port 7701 --control-port 7702',
}

export class SignerEmuUsageError extends Error {}

function intOption(values: ParsedOptions, name: string, min: number, max: number): number | undefined {
  const v = values[name]
  if (v === undefined) return undefined
  const n = typeof v === 'string' && /^[0-9]+$/.test(v) ? Number(v) : Number.NaN
  if (!Number.isSafeInteger(n) || n < min || n > max)
    throw new SignerEmuUsageError(`--${name}: expected an integer in [${min}, ${max}]`)
  return n
}

async function loadOrCreateKey(path: string): Promise<Uint8Array> {
  try {
    const text = (await readFile(path, 'utf8')).trim()
    if (!/^[0-9a-f]{64}$/.test(text)) throw new SignerEmuUsageError(`--key-file: ${path} must hold 64 lowercase hex`)
    return hexToBytes(text)
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e
  }
  const sk = schnorr.utils.randomSecretKey()
  await mkdir(dirname(path), { recursive: true })
  await writeFile(path, `${bytesToHex(sk)}\n`, { mode: 0o600, flag: 'wx' })
  await chmod(path, 0o600)
  return sk
}

/** Runs the emulator until `stop` aborts. Exported for tests; the command wires SIGINT/SIGTERM to it. */
export async function runSignerEmu(argv: string[], io: CliIo, stop: AbortSignal): Promise<number> {
  return runWithOptions(SIGNER_EMU_OPTIONS, argv, io, async (values) => {
    const fail = (m: string) => {
      io.err(`satmachine signer-emu: ${m}`)
      return 2
    }
    let server: Awaited<ReturnType<typeof startSignerEmulator>>
    try {
      const mode = values.mode
      if (mode !== 'demo' && mode !== 'test')
        throw new SignerEmuUsageError(
          `--mode: required, demo or test (the emulator holds a software key and refuses to run otherwise)${typeof mode === 'string' ? `; got '${mode.slice(0, 20)}'` : ''}`,
        )
      if (values.locked === true && typeof values.pin !== 'string')
        throw new SignerEmuUsageError('--locked: needs --pin')
      if (typeof values.pin === 'string' && !/^[0-9]{4,12}$/.test(values.pin))
        throw new SignerEmuUsageError('--pin: 4 to 12 digits')
      const secretKey =
        typeof values['key-file'] === 'string'
          ? await loadOrCreateKey(values['key-file'])
          : schnorr.utils.randomSecretKey()
      const reviewTimeoutMs = intOption(values, 'review-timeout-ms', 1000, 600_000)
      const keepaliveMs = intOption(values, 'keepalive-ms', 10, 10_000)
      const serial = typeof values.serial === 'string' ? values.serial : undefined
      if (serial !== undefined && !/^[\x21-\x7e]{1,64}$/.test(serial))
        throw new SignerEmuUsageError('--serial: 1 to 64 printable ASCII characters')
      server = await startSignerEmulator({
        mode,
        secretKey,
        ...(serial === undefined ? {} : { serial }),
        ...(typeof values.pin === 'string' ? { pin: values.pin } : {}),
        locked: values.locked === true,
        reportBytes: intOption(values, 'report-size', 16, 1024) ?? 64,
        maxMessageBytes: intOption(values, 'max-msg', 256, 65535) ?? 16_384,
        dataPort: intOption(values, 'port', 0, 65535) ?? 0,
        controlPort: intOption(values, 'control-port', 0, 65535) ?? 0,
        config: {
          autoApprove: values['auto-approve'] === true,
          ...(reviewTimeoutMs === undefined ? {} : { reviewTimeoutMs }),
          ...(keepaliveMs === undefined ? {} : { keepaliveMs }),
        },
      })
    } catch (e) {
      if (e instanceof SignerEmuUsageError) return fail(e.message)
      const code = (e as NodeJS.ErrnoException).code
      if (code === 'EADDRINUSE') return fail(`port already in use (${(e as Error).message})`)
      throw e
    }
    const ready = {
      mode: values.mode,
      host: '127.0.0.1',
      dataPort: server.dataPort,
      controlPort: server.controlPort,
      pubkey: server.core.pubkey,
      npub: npubEncode(server.core.pubkey),
      serial: server.core.serial,
      reportBytes: server.core.reportBytes,
    }
    io.out(`signer-emu ready ${JSON.stringify(ready)}`)
    io.out(`DEMO signer emulator: key ${ready.npub} is a software key, not for production.`)
    await new Promise<void>((resolve) => {
      if (stop.aborted) resolve()
      else stop.addEventListener('abort', () => resolve(), { once: true })
    })
    await server.close()
    io.out('signer-emu stopped')
    return 0
  })
}

export const signerEmuCommand: Command = {
  name: 'signer-emu',
  summary: 'the hardware-signer emulator over TCP with a control API (--mode demo|test; --help for options)',
  async run(argv, io) {
    const ac = new AbortController()
    const onSignal = () => ac.abort()
    process.once('SIGINT', onSignal)
    process.once('SIGTERM', onSignal)
    try {
      return await runSignerEmu(argv, io, ac.signal)
    } finally {
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
    }
  },
}
