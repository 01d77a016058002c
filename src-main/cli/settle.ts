// `satmachine settle --input FILE`: runs the settlement engine (docs/settlement.md) on one JSON scenario and prints the
// result as JSON on stdout. FILE `-` reads stdin. Exit codes: 0 result printed, 1 the scenario breaks a rule
// (the message names the field), 2 usage or I/O error. Thin shell: parsing and math live in src-shared/money.

import { readFile } from 'node:fs/promises'
import type { Readable } from 'node:stream'
import { computeSettlement, SettlementInputError } from '../../src-shared/money/settlement'
import { parseSettlementJson, settlementResultToJson } from '../../src-shared/money/settlement-json'
import type { CliIo, Command } from '../cli'

/** The dispatcher's line-oriented output plus the stream `--input -` reads. */
export interface SettleCliIo extends CliIo {
  stdin: Readable
}

export const SETTLE_USAGE = `usage: satmachine settle --input FILE   (FILE "-" reads stdin)

Computes one settlement under the exact money rules and prints the result as JSON.
Input fields: direction, wireMsat, fiatMinor, [fiatRequestedMinor], currency, platformPpm, operatorPpm,
[discountPpm], [splits: {id, weightPpm}], [lps: {id, mode flow|fixed, remainingMinor, dailyLimitMinor,
usedTodayMinor}], [claimedFeeMsat]. Amounts are decimal strings.
`

/** Largest scenario accepted, so a wrong file (or endless stdin) fails clearly instead of exhausting memory. */
const MAX_INPUT_BYTES = 8 * 1024 * 1024

async function readStream(stream: Readable): Promise<string> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of stream) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer)
    size += buf.length
    if (size > MAX_INPUT_BYTES) throw new Error(`input larger than ${MAX_INPUT_BYTES} bytes`)
    chunks.push(buf)
  }
  return Buffer.concat(chunks).toString('utf8')
}

/** Parses `--input FILE` / `--input=FILE`; returns the file or an error message. */
export function parseSettleArgs(argv: readonly string[]): { input: string } | { error: string } | { help: true } {
  let input: string | undefined
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    if (a === '--help' || a === '-h') return { help: true }
    if (a === '--input') {
      const next = argv[i + 1]
      if (next === undefined) return { error: '--input needs a file name (or - for stdin)' }
      input = next
      i++
    } else if (a.startsWith('--input=')) {
      input = a.slice('--input='.length)
    } else {
      return { error: `unknown argument ${JSON.stringify(a)}` }
    }
  }
  if (input === undefined || input === '') return { error: 'missing --input FILE' }
  return { input }
}

/** Runs the command; resolves with the exit code instead of exiting, so tests and the dispatcher share it. */
export async function runSettleCli(argv: readonly string[], io: SettleCliIo): Promise<number> {
  const args = parseSettleArgs(argv)
  if ('help' in args) {
    io.out(SETTLE_USAGE.trimEnd())
    return 0
  }
  if ('error' in args) {
    io.err(`satmachine settle: ${args.error}\n${SETTLE_USAGE.trimEnd()}`)
    return 2
  }
  let text: string
  try {
    text = args.input === '-' ? await readStream(io.stdin) : await readFile(args.input, 'utf8')
  } catch (e) {
    io.err(`satmachine settle: cannot read ${args.input}: ${(e as Error).message}`)
    return 2
  }
  try {
    const result = computeSettlement(parseSettlementJson(text))
    io.out(JSON.stringify(settlementResultToJson(result), null, 2))
    return 0
  } catch (e) {
    if (e instanceof SettlementInputError) {
      io.err(`satmachine settle: invalid input: field ${e.field}: ${e.reason}`)
      return 1
    }
    throw e
  }
}

/** The `settle` entry of the CLI dispatch table (src-main/cli.ts). */
export const settleCommand: Command = {
  name: 'settle',
  summary: 'compute one settlement from a JSON scenario (--input FILE, - for stdin) and print it as JSON',
  run: (argv, io) => runSettleCli(argv, { ...io, stdin: process.stdin }),
}
