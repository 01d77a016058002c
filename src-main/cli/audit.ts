// `satmachine audit-export` and `satmachine verify-audit` (docs/audit-export.md). audit-export opens a stopped
// console's data directory (the ledger lock refuses a running one, naming its process) after the same tamper check
// the console runs at start (docs/audit.md), exports one quarter to a
// folder and prints the report through headless Chromium; verify-audit checks such a folder with nothing else.
// Exit codes: 0 done / everything holds, 1 the export failed or a check did not hold (each problem on a line naming
// the file, the line and the column), 2 usage.
import { readFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import pkg from '../../package.json'
import { problemText } from '../../src-shared/audit/export/check-tables'
import type { SignedHead } from '../../src-shared/audit/types'
import { createLogger } from '../../src-shared/log'
import { openAuditedDataDir, signHeadNow } from '../audit/open'
import { AuditExportError, exportAudit } from '../audit-export/export'
import { chromiumPrinter, type PdfPrinter } from '../audit-export/pdf'
import { verifyAuditExport } from '../audit-export/verify'
import type { CliIo, Command } from '../cli'
import type { LedgerStore } from '../ledger/types'
import { lazySecretStore, SecretSlots } from '../secrets/secret-store'
import { createSoftwareSigner } from '../signer/software-signer'
import { type CommandOptions, helpLines, OptionError, parseOptions, runWithOptions, wantsHelp } from './options'

export const AUDIT_EXPORT_OPTIONS: CommandOptions = {
  command: 'audit-export',
  summary:
    "Exports one quarter of a stopped console's ledger: the CSV files, manifest.json with their SHA-256, the signed " +
    'head and attestation, and the quarterly report (report.pdf, printed by headless Chromium).',
  options: [
    {
      name: 'data-dir',
      kind: 'string',
      value: 'DIR',
      help: "the console's data directory (the console must be stopped)",
    },
    { name: 'quarter', kind: 'string', value: 'YYYYQn', help: 'the quarter, e.g. 2026Q4 (UTC quarters)' },
    { name: 'out', kind: 'string', value: 'DIR', help: 'a new or empty folder for the export' },
    { name: 'draft', kind: 'boolean', help: 'export a quarter that is not closed yet (marked DRAFT on every page)' },
    {
      name: 'secret-key-file',
      kind: 'string',
      value: 'FILE',
      help: 'with --draft: the key file sealing the console key; a new draft head over the whole log is signed with it',
    },
  ],
  example: 'satmachine audit-export --data-dir ~/.config/"Satmachine Console" --quarter 2026Q4 --out ./audit-2026Q4',
}

export const VERIFY_AUDIT_OPTIONS: CommandOptions = {
  command: 'verify-audit DIR',
  summary:
    "Checks an audit export folder: every file's SHA-256, the signatures on the head and the attestation, the " +
    'Merkle root of the audit log, every CSV row against the log, every receipt and preimage, every total. Exit 0 ' +
    'only if all hold; otherwise each difference is printed naming the file, the line and the column.',
  options: [
    { name: 'allow-draft', kind: 'boolean', help: 'accept a DRAFT export (a quarter not closed; no attestation)' },
    {
      name: 'relays',
      kind: 'string',
      value: 'URL…',
      help: 'also look the head and the attestation up on these relays',
    },
  ],
  example: 'satmachine verify-audit ./audit-2026Q4 --relays wss://relay.example.com',
}

/**
 * Signs a head over the whole log with the console key, opened from the data directory's sealed secrets with the
 * key file (never created here: a data directory without a console key has nothing to sign with).
 */
async function signDraftHead(store: LedgerStore, dataDir: string, keyFile: string): Promise<SignedHead> {
  const secrets = await lazySecretStore({ dataDir, keyFile, log: createLogger(() => {}, 'secrets') })()
  const hex = await secrets.get(SecretSlots.consoleKey)
  if (hex === undefined || !/^[0-9a-f]{64}$/.test(hex)) throw new Error(`no console key is sealed in ${dataDir}`)
  const signer = createSoftwareSigner(Uint8Array.from(Buffer.from(hex, 'hex')))
  return signHeadNow({ store, dataDir, signer })
}

/** The console's settings file, read without the settings store (a stopped console's data directory). */
async function readSettings(
  dataDir: string,
): Promise<{ operatorName: string | null; operatorPubkey: string | null; timeZone: string }> {
  try {
    const s = JSON.parse(await readFile(join(dataDir, 'settings.json'), 'utf8')) as Record<string, unknown>
    return {
      operatorName: typeof s.operatorName === 'string' ? s.operatorName : null,
      operatorPubkey: typeof s.operatorPubkey === 'string' ? s.operatorPubkey : null,
      timeZone: typeof s.timeZone === 'string' ? s.timeZone : 'UTC',
    }
  } catch {
    return { operatorName: null, operatorPubkey: null, timeZone: 'UTC' }
  }
}

export interface AuditCliDeps {
  /** Opens the ledger of a data directory (default: opened in process and checked against the signed heads). */
  openLedger?: (dir: string) => Promise<LedgerStore>
  /** The PDF printer (default: headless Chromium through playwright-core). */
  printer?: () => Promise<PdfPrinter>
  nowMs?: () => number
}

export async function runAuditExport(argv: string[], io: CliIo, deps: AuditCliDeps = {}): Promise<number> {
  return runWithOptions(AUDIT_EXPORT_OPTIONS, argv, io, async (v) => {
    const fail = (msg: string) => {
      io.err(`satmachine audit-export: ${msg}`)
      return 2
    }
    for (const k of ['data-dir', 'quarter', 'out'])
      if (typeof v[k] !== 'string' || v[k] === '') return fail(`--${k} is required; try --help`)
    const dataDir = resolve(v['data-dir'] as string)
    const outDir = resolve(v.out as string)
    const quarter = v.quarter as string
    if (!/^[0-9]{4}Q[1-4]$/.test(quarter)) return fail(`--quarter: '${quarter.slice(0, 20)}' is not of the form 2026Q4`)
    let printer: PdfPrinter
    try {
      printer = await (deps.printer ?? chromiumPrinter)()
    } catch (e) {
      io.err(`satmachine audit-export: cannot print the report: ${(e as Error).message}`)
      return 1
    }
    let store: LedgerStore
    try {
      // The same start-up check as the console's: an edited, cut or reordered ledger is refused, naming the entry.
      store = deps.openLedger
        ? await deps.openLedger(join(dataDir, 'ledger'))
        : (await openAuditedDataDir(dataDir)).store
    } catch (e) {
      io.err(
        `satmachine audit-export: --data-dir: the ledger in ${dataDir} cannot be exported: ${(e as Error).message}`,
      )
      return 1
    }
    const keyFile = typeof v['secret-key-file'] === 'string' ? (v['secret-key-file'] as string) : undefined
    if (keyFile !== undefined) {
      if (v.draft !== true) {
        await store.close()
        return fail('--secret-key-file: only with --draft (a closed quarter is exported against its head at close)')
      }
      try {
        const h = await signDraftHead(store, dataDir, keyFile)
        io.out(`signed a draft head over ${h.head.treeSize} log entries with the console key (event ${h.event.id})`)
      } catch (e) {
        await store.close()
        io.err(`satmachine audit-export: --secret-key-file: ${(e as Error).message}`)
        return 1
      }
    }
    try {
      const settings = await readSettings(dataDir)
      const started = Date.now()
      let lastStep = ''
      const r = await exportAudit({
        store,
        dataDir,
        quarter,
        outDir,
        draft: v.draft === true,
        nowMs: (deps.nowMs ?? Date.now)(),
        appVersion: pkg.version,
        ...settings,
        printer,
        onProgress: (f, step) => {
          if (step !== lastStep) io.out(`${String(Math.round(f * 100)).padStart(3)}%  ${step}`)
          lastStep = step
        },
      })
      for (const w of r.warnings) io.err(`satmachine audit-export: warning: ${w}`)
      io.out(
        `exported ${quarter}${v.draft === true ? ' (DRAFT)' : ''}: ${r.settlements} settlements, ${r.files.length} files in ${r.outDir}`,
      )
      io.out(`manifest.json SHA-256 ${r.manifestSha256}`)
      if (r.pdf) io.out(`report: ${r.pdf.path}${r.pdf.pages !== null ? ` (${r.pdf.pages} pages)` : ''}`)
      io.out(`took ${((Date.now() - started) / 1000).toFixed(1)} s`)
      return 0
    } catch (e) {
      const field = e instanceof AuditExportError ? ` --${e.field}:` : ''
      io.err(`satmachine audit-export:${field} ${(e as Error).message}`)
      return 1
    } finally {
      await store.close()
    }
  })
}

/** Splits `verify-audit` arguments: the folder (first bare argument) and `--relays URL…` (every URL after it). */
export function splitVerifyArgs(argv: readonly string[]): {
  dir: string | undefined
  relays: string[]
  rest: string[]
} {
  const rest: string[] = []
  const relays: string[] = []
  let dir: string | undefined
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string
    if (a === '--relays' || a.startsWith('--relays=')) {
      if (a.startsWith('--relays=')) relays.push(...a.slice(9).split(',').filter(Boolean))
      while (
        i + 1 < argv.length &&
        !(argv[i + 1] as string).startsWith('--') &&
        /^wss?:\/\//.test(argv[i + 1] as string)
      )
        relays.push(argv[++i] as string)
      if (relays.length === 0) throw new OptionError('--relays', '--relays needs at least one ws:// or wss:// URL')
      continue
    }
    if (!a.startsWith('--') && dir === undefined) {
      dir = a
      continue
    }
    rest.push(a)
  }
  return { dir, relays, rest }
}

export async function runVerifyAudit(argv: string[], io: CliIo): Promise<number> {
  if (wantsHelp(argv)) {
    for (const l of helpLines(VERIFY_AUDIT_OPTIONS)) io.out(l)
    return 0
  }
  let split: ReturnType<typeof splitVerifyArgs>
  let values: ReturnType<typeof parseOptions>
  try {
    split = splitVerifyArgs(argv)
    values = parseOptions(
      { ...VERIFY_AUDIT_OPTIONS, options: VERIFY_AUDIT_OPTIONS.options.filter((o) => o.name !== 'relays') },
      split.rest,
    )
  } catch (e) {
    io.err(`satmachine verify-audit: ${(e as Error).message}`)
    return 2
  }
  if (!split.dir) {
    io.err('satmachine verify-audit: name the export folder: satmachine verify-audit DIR; try --help')
    return 2
  }
  const report = await verifyAuditExport({
    dir: resolve(split.dir),
    allowDraft: values['allow-draft'] === true,
    relays: split.relays,
  })
  for (const p of report.passed) io.out(`ok    ${p}`)
  for (const p of report.problems) io.err(`FAIL  ${problemText(p)}`)
  if (report.ok)
    io.out(`verify-audit: all checks hold${report.draft ? ' (DRAFT export: no operator attestation)' : ''}`)
  else
    io.err(
      `verify-audit: ${report.problems.length}${report.problems.length >= 50 ? '+' : ''} problem(s); the export does NOT verify`,
    )
  return report.ok ? 0 : 1
}

export const auditExportCommand: Command = {
  name: 'audit-export',
  summary: 'export one quarter (CSV files, manifest, signed head, PDF report); --help for options',
  run: (argv, io) => runAuditExport(argv, io),
}

export const verifyAuditCommand: Command = {
  name: 'verify-audit',
  summary: 'check an audit export folder (hashes, signatures, Merkle root, every row and total)',
  run: (argv, io) => runVerifyAudit(argv, io),
}
