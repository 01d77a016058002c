// The shared option parser and `--help` text of every `satmachine` command. A command declares its options once
// (name, kind, value name, one line of help); `parseOptions` refuses anything else naming it, and `helpLines`
// prints the same declaration, so the help can never drift from what is accepted. `--help` / `-h` is always
// accepted and answered by `runWithOptions` with exit 0 before the command runs.
import type { CliIo } from '../cli'

export interface OptionSpec {
  name: string
  /** string: needs a value; boolean: a flag; optional-string: a flag that may take a value (`--demo` or `--demo X`). */
  kind: 'string' | 'boolean' | 'optional-string'
  /** What the value is, for the help text (FILE, N, DIR). */
  value?: string
  help: string
}

export interface CommandOptions {
  command: string
  summary: string
  options: OptionSpec[]
  /** One example command line. */
  example: string
}

export class OptionError extends Error {
  constructor(
    readonly option: string,
    message: string,
  ) {
    super(message)
    this.name = 'OptionError'
  }
}

export type ParsedOptions = Record<string, string | boolean | undefined>

/** Parses `argv` against `spec`; throws OptionError naming the first unknown option or missing value. */
export function parseOptions(spec: CommandOptions, argv: readonly string[]): ParsedOptions {
  const out: ParsedOptions = {}
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (!arg.startsWith('--')) throw new OptionError(arg, `unexpected argument '${arg.slice(0, 60)}'`)
    const eq = arg.indexOf('=')
    const name = arg.slice(2, eq < 0 ? undefined : eq)
    const inline = eq < 0 ? undefined : arg.slice(eq + 1)
    const opt = spec.options.find((o) => o.name === name)
    if (!opt) throw new OptionError(`--${name}`, `unknown option '--${name.slice(0, 40)}'; try --help`)
    if (opt.kind === 'boolean') {
      if (inline !== undefined) throw new OptionError(`--${name}`, `--${name} takes no value`)
      out[name] = true
      continue
    }
    if (inline !== undefined) {
      out[name] = inline
      continue
    }
    const next = argv[i + 1]
    if (next !== undefined && !next.startsWith('--')) {
      out[name] = next
      i++
    } else if (opt.kind === 'optional-string') out[name] = true
    else throw new OptionError(`--${name}`, `--${name} needs a value (${opt.value ?? 'VALUE'})`)
  }
  return out
}

/** The `--help` text of a command. */
export function helpLines(spec: CommandOptions): string[] {
  const lines = [`usage: satmachine ${spec.command} [options]`, '', spec.summary, '', 'options:']
  const label = (o: OptionSpec) =>
    `--${o.name}${o.kind === 'string' ? ` ${o.value ?? 'VALUE'}` : o.kind === 'optional-string' ? ` [${o.value ?? 'VALUE'}]` : ''}`
  const width = Math.max(...spec.options.map((o) => label(o).length), 'help'.length + 2)
  for (const o of spec.options) lines.push(`  ${label(o).padEnd(width)}  ${o.help}`)
  lines.push(`  ${'--help'.padEnd(width)}  this text`, '', `example: ${spec.example}`)
  return lines
}

export const wantsHelp = (argv: readonly string[]) => argv.includes('--help') || argv.includes('-h')

/**
 * Answers `--help` (exit 0) or runs `run` with the parsed options; an OptionError is printed on one line, exit 2.
 */
export async function runWithOptions(
  spec: CommandOptions,
  argv: string[],
  io: CliIo,
  run: (values: ParsedOptions) => Promise<number>,
): Promise<number> {
  if (wantsHelp(argv)) {
    for (const l of helpLines(spec)) io.out(l)
    return 0
  }
  let values: ParsedOptions
  try {
    values = parseOptions(spec, argv)
  } catch (e) {
    io.err(`satmachine ${spec.command}: ${(e as Error).message}`)
    return 2
  }
  return run(values)
}
