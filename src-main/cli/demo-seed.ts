// `satmachine demo-seed --data-dir D --settlements N [--from YYYY-MM-DD --to YYYY-MM-DD] [--machines M] [--lps L]`:
// fills a fresh ledger with a realistic seeded history through the console's own ledger procedures
// (src-main/demo/seed.ts; docs/demo.md "A seeded history"). Prints progress on stderr and a JSON report on stdout.
// Exit codes: 0 seeded, 1 the seed failed, 2 usage (an unknown option, a bad value, the directory already seeded).
import type { CliIo, Command } from '../cli'
import { SeedOptionError, seedDemoLedger } from '../demo/seed'
import { type CommandOptions, runWithOptions } from './options'

export const DEMO_SEED_OPTIONS: CommandOptions = {
  command: 'demo-seed',
  summary:
    'Fills the ledger of a new data directory with a realistic history (both directions, partial dispenses, ' +
    'deposits, paid payouts, a few refused records and worklist items) through the console’s own booking ' +
    'procedures. For benchmarks, large-ledger tests and the audit export; never point it at a real console.',
  options: [
    { name: 'data-dir', kind: 'string', value: 'DIR', help: 'data directory to create (its ledger must be empty)' },
    { name: 'settlements', kind: 'string', value: 'N', help: 'how many settlements to book (1 to 10,000,000)' },
    { name: 'from', kind: 'string', value: 'YYYY-MM-DD', help: 'first day of the history (default: 90 days back)' },
    { name: 'to', kind: 'string', value: 'YYYY-MM-DD', help: 'last day of the history (default: yesterday)' },
    { name: 'machines', kind: 'string', value: 'M', help: 'number of ATMs (default 2)' },
    { name: 'lps', kind: 'string', value: 'L', help: 'number of liquidity providers (default 3)' },
  ],
  example: 'satmachine demo-seed --data-dir /tmp/seeded --settlements 100000 --from 2026-07-01 --to 2026-09-30',
}

function wholeNumber(option: string, v: string | boolean | undefined): number | undefined {
  if (v === undefined) return undefined
  if (typeof v !== 'string' || !/^\d{1,9}$/.test(v.replaceAll('_', ''))) {
    throw new SeedOptionError(option, `expected a whole number, got '${String(v).slice(0, 40)}'`)
  }
  return Number(v.replaceAll('_', ''))
}

async function run(values: Record<string, string | boolean | undefined>, io: CliIo): Promise<number> {
  const fail = (m: string) => {
    io.err(`satmachine demo-seed: ${m}`)
    return 2
  }
  if (typeof values['data-dir'] !== 'string') return fail('--data-dir DIR is required')
  if (values.settlements === undefined) return fail('--settlements N is required')
  let report: Awaited<ReturnType<typeof seedDemoLedger>>
  try {
    const settlements = wholeNumber('--settlements', values.settlements)!
    const machines = wholeNumber('--machines', values.machines)
    const lps = wholeNumber('--lps', values.lps)
    report = await seedDemoLedger({
      dataDir: values['data-dir'],
      settlements,
      ...(typeof values.from === 'string' ? { from: values.from } : {}),
      ...(typeof values.to === 'string' ? { to: values.to } : {}),
      ...(machines === undefined ? {} : { machines }),
      ...(lps === undefined ? {} : { lps }),
      progress: (line) => io.err(line),
    })
  } catch (e) {
    if (e instanceof SeedOptionError) {
      // The library names its fields (settlements, dataDir); the operator typed options.
      const field = e.field.startsWith('--') ? e.field : `--${e.field.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`
      return fail(`${field}: ${e.message.slice(e.field.length + 2)}`)
    }
    io.err(`satmachine demo-seed: ${(e as Error).message}`)
    return 1
  }
  io.out(JSON.stringify(report))
  return 0
}

export const demoSeedCommand: Command = {
  name: 'demo-seed',
  summary: 'fill a new data directory with a seeded history (--help for options)',
  run: (argv, io) => runWithOptions(DEMO_SEED_OPTIONS, argv, io, (values) => run(values, io)),
}
