// `satmachine audit-proof` (docs/audit.md §8): prints, as JSON, an inclusion proof for one audit entry or a
// consistency proof between two tree sizes of a stopped console's audit log, ending in the console-signed head when
// the size was signed; `--check FILE` verifies such a document with nothing but the file (a third party's side).
// The ledger is opened after the same start-up check the console runs (docs/audit.md §7), so a proof is never built
// from a tampered log. Exit codes: 0 printed / the proof holds, 1 refused or the proof does not hold, 2 usage.
import { readFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import { type ProofDoc, verifyProofDoc } from '../../src-shared/audit/proof'
import { openAuditedDataDir } from '../audit/open'
import { buildConsistencyProof, buildInclusionProof, defaultSize, resolveEntry } from '../audit/proof'
import { entryCount, readHeads } from '../audit/read'
import type { CliIo, Command } from '../cli'
import { type CommandOptions, runWithOptions } from './options'

export const AUDIT_PROOF_OPTIONS: CommandOptions = {
  command: 'audit-proof',
  summary:
    "Prints an RFC 6962 proof over a stopped console's audit log as JSON: that an entry is in the log (inclusion), " +
    'or that an older log is a prefix of a newer one (consistency), with the console-signed head over the size ' +
    'when there is one. --check verifies such a file (exit 0 only if it holds).',
  options: [
    {
      name: 'data-dir',
      kind: 'string',
      value: 'DIR',
      help: "the console's data directory (the console must be stopped)",
    },
    { name: 'entry', kind: 'string', value: 'INDEX|TABLE:ROWID', help: 'the entry (a row: its newest entry)' },
    {
      name: 'size',
      kind: 'string',
      value: 'N',
      help: 'with --entry: the tree size (default: the newest signed head, else the whole log)',
    },
    {
      name: 'consistency',
      kind: 'string',
      value: 'OLD NEW',
      help: 'a consistency proof between tree sizes OLD and NEW',
    },
    { name: 'check', kind: 'string', value: 'FILE', help: 'verify a proof printed by this command' },
    {
      name: 'console-pubkey',
      kind: 'string',
      value: 'HEX',
      help: 'with --check: the heads must be signed by this key, and the proof must end in a signed head',
    },
  ],
  example: 'satmachine audit-proof --data-dir ~/.config/"Satmachine Console" --entry acct_settlement:42',
}

/** `--consistency OLD NEW` takes two values: joined here as `OLD:NEW` so the shared parser sees one. */
function joinConsistency(argv: readonly string[]): string[] {
  const out: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    const b = argv[i + 1]
    const c = argv[i + 2]
    if (a === '--consistency' && b !== undefined && c !== undefined && /^[0-9]+$/.test(b) && /^[0-9]+$/.test(c)) {
      out.push(`--consistency=${b}:${c}`)
      i += 2
    } else out.push(a)
  }
  return out
}

const size = (s: string, field: string): number => {
  if (!/^[0-9]{1,15}$/.test(s)) throw new Error(`--${field}: '${s.slice(0, 20)}' is not a number`)
  return Number(s)
}

export async function runAuditProof(argv: string[], io: CliIo): Promise<number> {
  return runWithOptions(AUDIT_PROOF_OPTIONS, joinConsistency(argv), io, async (v) => {
    const fail = (code: number, msg: string) => {
      io.err(`satmachine audit-proof: ${msg}`)
      return code
    }
    if (typeof v.check === 'string') {
      let doc: unknown
      try {
        doc = JSON.parse(await readFile(resolve(v.check), 'utf8'))
      } catch (e) {
        return fail(1, `--check: ${v.check} is not a JSON file (${(e as Error).message})`)
      }
      const pk = typeof v['console-pubkey'] === 'string' ? v['console-pubkey'] : undefined
      try {
        const r = verifyProofDoc(doc, pk ? { consolePubkey: pk, requireHead: true } : {})
        io.out(`OK: ${r.statement}`)
        for (const h of r.heads) io.out(`signed head: event ${h}`)
        return 0
      } catch (e) {
        return fail(1, `the proof does not hold: ${(e as Error).message}`)
      }
    }
    if (typeof v['data-dir'] !== 'string') return fail(2, '--data-dir is required (or --check FILE); try --help')
    const hasEntry = typeof v.entry === 'string'
    const hasCons = typeof v.consistency === 'string'
    if (hasEntry === hasCons) return fail(2, 'give either --entry or --consistency OLD NEW; try --help')
    if (v.size !== undefined && !hasEntry) return fail(2, '--size: only with --entry')
    let oldNew: [number, number] | null = null
    let asked: number | null = null
    try {
      if (hasCons) {
        const m = /^([0-9]+):([0-9]+)$/.exec(v.consistency as string)
        if (!m) return fail(2, '--consistency needs two tree sizes: OLD NEW')
        oldNew = [size(m[1]!, 'consistency'), size(m[2]!, 'consistency')]
      }
      if (typeof v.size === 'string') asked = size(v.size, 'size')
    } catch (e) {
      return fail(2, (e as Error).message)
    }
    const dataDir = resolve(v['data-dir'])
    let opened: Awaited<ReturnType<typeof openAuditedDataDir>>
    try {
      opened = await openAuditedDataDir(dataDir)
    } catch (e) {
      return fail(1, `--data-dir: the audit log in ${dataDir} cannot be used: ${(e as Error).message}`)
    }
    try {
      const heads = readHeads(dataDir)
      let doc: ProofDoc
      if (oldNew) doc = await buildConsistencyProof(opened.store, heads, oldNew[0], oldNew[1])
      else {
        const index = await resolveEntry(opened.store, v.entry as string)
        // An entry newer than the newest signed head: proven against the whole log (no head yet).
        let n = asked ?? (await defaultSize(opened.store, heads))
        if (asked === null && index >= n) n = await entryCount(opened.store)
        doc = await buildInclusionProof(opened.store, heads, index, n)
      }
      io.out(JSON.stringify(doc, null, 2))
      return 0
    } catch (e) {
      const field = (e as { field?: string }).field
      return fail(
        1,
        field && !(e as Error).message.startsWith(field) ? `--${field}: ${(e as Error).message}` : (e as Error).message,
      )
    } finally {
      await opened.close()
    }
  })
}

export const auditProofCommand: Command = {
  name: 'audit-proof',
  summary: 'print or check an inclusion / consistency proof of the audit log (JSON); --help for options',
  run: (argv, io) => runAuditProof(argv, io),
}
