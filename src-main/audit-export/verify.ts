// `satmachine verify-audit DIR` (docs/audit-export.md "Verification recipe"): checks an audit export folder with
// nothing but the folder (and, with relays, the published events): the manifest's hashes, the console-signed head
// and the operator's attestation, the audit log's Merkle root, every CSV row against the ledger entry it came from,
// every receipt, every derived cell and total. Each problem names the file, the line and the column, so an
// auditor can find the row that differs.
import { createHash } from 'node:crypto'
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { bytesToHex } from '@noble/hashes/utils.js'
import { WebSocket } from 'ws'
import { checkTables, type Problem, preimageMatches } from '../../src-shared/audit/export/check-tables'
import { CsvError, parseCsv } from '../../src-shared/audit/export/csv'
import { MANIFEST_FILE, type Manifest, ManifestError, parseManifest } from '../../src-shared/audit/export/manifest'
import { TABLES } from '../../src-shared/audit/export/tables'
import { Cols, type ReadTable, TableCellError } from '../../src-shared/audit/export/totals'
import { MerkleFrontier } from '../../src-shared/audit/merkle'
import {
  type AuditHead,
  entryHash,
  parseAttestationEvent,
  parseHeadEvent,
  type QuarterAttestation,
} from '../../src-shared/audit/types'
import { checkEvent, type NostrEvent, type SchnorrVerify, schnorrVerifyHex } from '../../src-shared/nostr/event'
import { wasmVerifier } from '../nostr/event-verifier'
import { ATTESTATION_FILE, AUDIT_LOG_FILE, HEAD_FILE, RECEIPTS_FILE } from './export'

export interface VerifyOptions {
  dir: string
  allowDraft: boolean
  /** Relays to look the head and the attestation up on (each must be found on at least one). */
  relays?: readonly string[]
  relayTimeoutMs?: number
  maxProblems?: number
}

export interface VerifyReport {
  ok: boolean
  draft: boolean
  manifestSha256: string | null
  problems: Problem[]
  /** What was checked and held, one line each (for the command's output). */
  passed: string[]
  /** Milliseconds each step took (for the benchmark). */
  timings: Record<string, number>
}

/** Columns of each ledger table the CSV rows are compared with (the frozen, money-bearing ones). */
const WATCHED: Record<string, readonly string[]> = {
  acct_settlement: [
    'id',
    'payment_hash',
    'machine_id',
    'direction',
    'record_created_at',
    'wire_msat',
    'fiat_minor',
    'fiat_requested_minor',
    'currency',
  ],
  acct_result: [
    'settlement_id',
    'generation',
    'principal_msat',
    'commission_msat',
    'platform_fee_msat',
    'operator_fee_msat',
    'refund_due_msat',
  ],
  acct_leg: ['id', 'settlement_id', 'kind', 'recipient_id', 'msat', 'fiat_minor'],
  payout: ['id', 'recipient_kind', 'recipient_id', 'amount_msat'],
  acct_lp_entry: ['id', 'lp_id', 'kind', 'delta_minor', 'balance_after_minor'],
  acct_deposit: ['id', 'lp_id', 'amount_minor'],
}

type Watched = Map<string, Record<string, string>>

/** SHA-256 by Node's OpenSSL: the files are tens of megabytes. */
const sha256Hex = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex')

const utf8 = new TextDecoder()

/** The table name of an entry without decoding the rest ("SMAL", version, u32 length, name). */
function tableOf(bytes: Uint8Array): string | null {
  if (bytes.length < 9) return null
  const n = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(5)
  if (9 + n > bytes.length) return null
  return utf8.decode(bytes.subarray(9, 9 + n))
}

/**
 * The rowid, op and the named columns of an entry, read straight from its canonical bytes (docs/audit.md) without
 * building the whole entry: the log of a large quarter has millions of entries, and the root check already covers
 * every byte. Throws naming the part that is malformed.
 */
export function watchedColumns(
  bytes: Uint8Array,
  wanted: readonly string[],
): { rowid: string; op: string; values: Record<string, string> } {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  let at = 5
  const need = (k: number, what: string) => {
    if (at + k > bytes.length) throw new Error(`${what}: truncated at byte ${at}`)
  }
  const u32 = (what: string) => {
    need(4, what)
    const v = dv.getUint32(at)
    at += 4
    return v
  }
  const str = (what: string) => {
    const k = u32(what)
    need(k, what)
    const v = utf8.decode(bytes.subarray(at, at + k))
    at += k
    return v
  }
  const skip = (what: string) => {
    const k = u32(what)
    need(k, what)
    at += k
  }
  skip('table')
  const rowid = str('rowid')
  skip('seq')
  need(1, 'op')
  const op = String.fromCharCode(bytes[at++] as number)
  const count = u32('columns')
  const values: Record<string, string> = {}
  for (let c = 0; c < count; c++) {
    const name = str(`columns[${c}].name`)
    need(1, `columns.${name}`)
    const tag = bytes[at++] as number
    const keep = wanted.includes(name)
    if (tag === 0) {
      if (keep) values[name] = ''
    } else if (tag === 1 || tag === 3) {
      if (keep) values[name] = str(`columns.${name}`)
      else skip(`columns.${name}`)
    } else if (tag === 2) {
      need(8, `columns.${name}`)
      if (keep) values[name] = String(dv.getFloat64(at))
      at += 8
    } else if (tag === 4) {
      const k = u32(`columns.${name}`)
      need(k, `columns.${name}`)
      if (keep) values[name] = bytesToHex(bytes.subarray(at, at + k))
      at += k
    } else throw new Error(`columns.${name}: unknown type tag ${tag}`)
  }
  if (at !== bytes.length) throw new Error(`${bytes.length - at} bytes after the last column`)
  return { rowid, op, values }
}

interface LogRead {
  size: number
  root: string
  /** table → key → newest watched columns (key: the id column for tables with one, else settlement_id/generation). */
  rows: Map<string, Watched>
  problems: Problem[]
}

/** Reads audit-log.bin: rebuilds the root and keeps the newest version of the rows the CSV files are compared with. */
export function readAuditLog(bytes: Uint8Array): LogRead {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const frontier = new MerkleFrontier()
  const rows = new Map<string, Watched>()
  const problems: Problem[] = []
  let at = 0
  let i = 0
  while (at < bytes.length) {
    if (at + 4 > bytes.length) {
      problems.push({ file: AUDIT_LOG_FILE, line: 0, message: `entry ${i}: truncated length at byte ${at}` })
      break
    }
    const n = dv.getUint32(at)
    if (at + 4 + n > bytes.length) {
      problems.push({
        file: AUDIT_LOG_FILE,
        line: 0,
        message: `entry ${i}: ${n} bytes announced at byte ${at}, the file ends first`,
      })
      break
    }
    const entry = bytes.subarray(at + 4, at + 4 + n)
    frontier.pushHash(entryHash(entry))
    const table = tableOf(entry)
    const cols = table ? WATCHED[table] : undefined
    if (table && cols) {
      try {
        const e = watchedColumns(entry, cols)
        if (e.op !== 'D') {
          const rec: Record<string, string> = { ...e.values, rowid: e.rowid, entry: String(i) }
          const key = table === 'acct_result' ? `${rec.settlement_id}/${rec.generation}` : (rec.id ?? e.rowid)
          let m = rows.get(table)
          if (!m) {
            m = new Map()
            rows.set(table, m)
          }
          m.set(key, rec)
        }
      } catch (err) {
        problems.push({ file: AUDIT_LOG_FILE, line: 0, message: `entry ${i}: ${(err as Error).message}` })
      }
    }
    at += 4 + n
    i++
  }
  return { size: i, root: bytesToHex(frontier.root()), rows, problems }
}

/** Newest events by id on the relays (REQ {ids}); resolves with whatever arrived before EOSE or the timeout. */
export async function fetchEventsById(relay: string, ids: readonly string[], timeoutMs: number): Promise<NostrEvent[]> {
  return new Promise((resolve) => {
    const got: NostrEvent[] = []
    let ws: WebSocket
    const done = () => {
      clearTimeout(timer)
      try {
        ws.close()
      } catch {
        // already closed
      }
      resolve(got)
    }
    const timer = setTimeout(done, timeoutMs)
    try {
      ws = new WebSocket(relay)
    } catch {
      clearTimeout(timer)
      resolve(got)
      return
    }
    ws.on('open', () => ws.send(JSON.stringify(['REQ', 'verify-audit', { ids: [...ids] }])))
    ws.on('message', (raw) => {
      try {
        const msg = JSON.parse(String(raw)) as unknown[]
        if (msg[0] === 'EVENT' && msg[1] === 'verify-audit') got.push(msg[2] as NostrEvent)
        if (msg[0] === 'EOSE' || msg[0] === 'CLOSED') done()
      } catch {
        // not JSON: ignore
      }
    })
    ws.on('error', done)
    ws.on('close', done)
  })
}

export async function verifyAuditExport(o: VerifyOptions): Promise<VerifyReport> {
  const problems: Problem[] = []
  const passed: string[] = []
  const max = o.maxProblems ?? 50
  const add = (p: Problem) => {
    if (problems.length < max) problems.push(p)
  }
  const timings: Record<string, number> = {}
  let last = Date.now()
  const mark = (step: string) => {
    const now = Date.now()
    timings[step] = now - last
    last = now
  }
  const report = (draft: boolean, manifestSha256: string | null): VerifyReport => ({
    ok: problems.length === 0,
    draft,
    manifestSha256,
    problems,
    passed,
    timings,
  })
  const read = async (name: string): Promise<Uint8Array | null> => {
    try {
      return new Uint8Array(await readFile(join(o.dir, name)))
    } catch {
      return null
    }
  }

  // 1. The manifest and every file's hash.
  const manifestBytes = await read(MANIFEST_FILE)
  if (!manifestBytes) {
    add({ file: MANIFEST_FILE, line: 0, message: `missing from ${o.dir}` })
    return report(false, null)
  }
  const manifestSha256 = sha256Hex(manifestBytes)
  let manifest: Manifest
  try {
    manifest = parseManifest(new TextDecoder().decode(manifestBytes))
  } catch (e) {
    add({
      file: MANIFEST_FILE,
      line: 0,
      message: e instanceof ManifestError ? e.message.replace(/^manifest.json: /, '') : String(e),
    })
    return report(false, manifestSha256)
  }
  if (manifest.draft && !o.allowDraft)
    add({
      file: MANIFEST_FILE,
      line: 0,
      column: 'draft',
      message: 'this is a DRAFT export of a period not closed; pass --allow-draft to check it anyway',
    })
  const files = new Map<string, Uint8Array>()
  for (const f of manifest.files) {
    const bytes = await read(f.name)
    if (!bytes) {
      add({ file: f.name, line: 0, message: 'listed in manifest.json but missing' })
      continue
    }
    const h = sha256Hex(bytes)
    if (h !== f.sha256)
      add({ file: f.name, line: 0, column: 'sha256', message: `SHA-256 is ${h}; manifest.json lists ${f.sha256}` })
    else if (bytes.length !== f.bytes)
      add({ file: f.name, line: 0, column: 'bytes', message: `${bytes.length} bytes; manifest.json lists ${f.bytes}` })
    files.set(f.name, bytes)
  }
  const listed = new Set([
    ...manifest.files.map((f) => f.name),
    MANIFEST_FILE,
    ATTESTATION_FILE,
    'report.html',
    'report.pdf',
  ])
  for (const name of await readdir(o.dir).catch(() => [] as string[]))
    if (!listed.has(name)) add({ file: name, line: 0, message: 'in the folder but not listed in manifest.json' })
  if (problems.length === 0)
    passed.push(`manifest.json (SHA-256 ${manifestSha256}) and the ${manifest.files.length} files it lists`)

  mark('files')
  // 2. The head and the attestation.
  let head: AuditHead | null = null
  let headEvent: NostrEvent | null = null
  const headBytes = files.get(HEAD_FILE)
  if (!manifest.head || !headBytes) {
    add({
      file: HEAD_FILE,
      line: 0,
      message: 'the export commits to no signed audit head; it cannot be verified against the ledger log',
    })
  } else {
    const before = problems.length
    try {
      headEvent = JSON.parse(new TextDecoder().decode(headBytes)) as NostrEvent
      const c = checkEvent(headEvent)
      if (!c.ok)
        add({
          file: HEAD_FILE,
          line: 1,
          column: c.reason,
          message: `the head event is not validly signed (${c.detail})`,
        })
      head = parseHeadEvent(headEvent)
      if (headEvent.id !== manifest.head.eventId)
        add({
          file: HEAD_FILE,
          line: 1,
          column: 'id',
          message: `event ${headEvent.id} is not the head manifest.json names (${manifest.head.eventId})`,
        })
      if (headEvent.pubkey !== manifest.consolePubkey)
        add({
          file: HEAD_FILE,
          line: 1,
          column: 'pubkey',
          message: 'not signed by the console key manifest.json names',
        })
      if (head.treeSize !== manifest.head.treeSize || head.root !== manifest.head.rootHex)
        add({ file: HEAD_FILE, line: 1, column: 'content', message: 'tree size or root differs from manifest.json' })
    } catch (e) {
      add({ file: HEAD_FILE, line: 1, message: (e as Error).message })
      head = null
    }
    if (problems.length === before && head)
      passed.push(`head ${headEvent?.id} signed by the console key (tree size ${head.treeSize})`)
  }
  let attestation: QuarterAttestation | null = null
  let attestationEvent: NostrEvent | null = null
  const attBytes = await read(ATTESTATION_FILE)
  if (!attBytes) {
    if (!manifest.draft)
      add({
        file: ATTESTATION_FILE,
        line: 0,
        message: "missing: a closed quarter carries the operator's kind 3080 attestation",
      })
  } else {
    const before = problems.length
    try {
      attestationEvent = JSON.parse(new TextDecoder().decode(attBytes)) as NostrEvent
      const c = checkEvent(attestationEvent)
      if (!c.ok) add({ file: ATTESTATION_FILE, line: 1, column: c.reason, message: `not validly signed (${c.detail})` })
      attestation = parseAttestationEvent(attestationEvent)
      if (attestationEvent.pubkey !== manifest.operatorPubkey)
        add({
          file: ATTESTATION_FILE,
          line: 1,
          column: 'pubkey',
          message: 'not signed by the operator key manifest.json names',
        })
      if (attestation.period !== manifest.quarter)
        add({
          file: ATTESTATION_FILE,
          line: 1,
          column: 'period',
          message: `attests ${attestation.period}, the export is ${manifest.quarter}`,
        })
      if (headEvent && attestation.headEventId !== headEvent.id)
        add({ file: ATTESTATION_FILE, line: 1, column: 'head_event_id', message: 'names another head than head.json' })
      if (head && (attestation.treeSize !== head.treeSize || attestation.root !== head.root))
        add({ file: ATTESTATION_FILE, line: 1, column: 'root', message: 'tree size or root differs from head.json' })
      if (headEvent && attestation.consolePubkey !== headEvent.pubkey)
        add({
          file: ATTESTATION_FILE,
          line: 1,
          column: 'console_pubkey',
          message: 'names another console key than the head',
        })
      if (attestation.manifestSha256 !== manifestSha256)
        add({
          file: ATTESTATION_FILE,
          line: 1,
          column: 'manifest_sha256',
          message: `signs manifest ${attestation.manifestSha256 ?? 'none'}; manifest.json hashes to ${manifestSha256}`,
        })
    } catch (e) {
      add({ file: ATTESTATION_FILE, line: 1, message: (e as Error).message })
    }
    if (problems.length === before)
      passed.push(`attestation ${attestationEvent?.id} signed by the operator key over this manifest`)
  }

  mark('signatures')
  // 3. The audit log: root and rows.
  let log: LogRead | null = null
  const logBytes = files.get(AUDIT_LOG_FILE)
  if (head) {
    if (!logBytes) add({ file: AUDIT_LOG_FILE, line: 0, message: 'missing: the head cannot be checked' })
    else {
      log = readAuditLog(logBytes)
      for (const p of log.problems) add(p)
      if (log.size !== head.treeSize)
        add({ file: AUDIT_LOG_FILE, line: 0, message: `holds ${log.size} entries; the head covers ${head.treeSize}` })
      else if (log.root !== head.root)
        add({
          file: AUDIT_LOG_FILE,
          line: 0,
          message: `the entries hash to root ${log.root}; the signed head says ${head.root}`,
        })
      else passed.push(`audit-log.bin: ${log.size} entries rebuild the signed root ${head.root}`)
    }
  }

  mark('log')
  // 4. The CSV files.
  const tables = new Map<string, ReadTable>()
  for (const spec of TABLES) {
    const bytes = files.get(spec.file)
    if (!bytes) {
      add({ file: spec.file, line: 0, message: 'missing from the export' })
      continue
    }
    try {
      const parsed = parseCsv(new TextDecoder('utf-8', { fatal: true }).decode(bytes))
      tables.set(spec.file, { file: spec.file, ...parsed })
    } catch (e) {
      add({ file: spec.file, line: e instanceof CsvError ? e.line : 0, message: (e as Error).message })
    }
  }
  mark('parse')
  const before = problems.length
  for (const p of checkTables(tables, max)) add(p)
  mark('tables')
  if (log) crossCheck(tables, log, manifest, add)
  mark('crossCheck')
  // Thousands of receipts: libsecp256k1 (WASM) checks them several times faster than pure JS.
  const schnorr: SchnorrVerify = await wasmVerifier().then(
    (v) => v.verifySchnorr,
    () => schnorrVerifyHex,
  )
  checkReceipts(files.get(RECEIPTS_FILE), tables.get('transactions.csv'), manifest, add, schnorr)
  mark('receipts')
  if (problems.length === before) passed.push('every CSV row, receipt, derived cell and total recomputed and equal')

  // 5. The relays.
  if (o.relays && o.relays.length > 0) {
    const wanted = [headEvent, attestationEvent].filter((e): e is NostrEvent => e !== null)
    for (const ev of wanted) {
      let found = false
      for (const relay of o.relays) {
        const got = await fetchEventsById(relay, [ev.id], o.relayTimeoutMs ?? 10_000)
        if (got.some((g) => g.id === ev.id && g.sig === ev.sig)) {
          found = true
          break
        }
      }
      const file = ev === headEvent ? HEAD_FILE : ATTESTATION_FILE
      if (!found)
        add({ file, line: 1, message: `event ${ev.id} was found on none of the relays ${o.relays.join(', ')}` })
      else passed.push(`${file}: event ${ev.id} found on the relays`)
    }
  }
  return report(manifest.draft, manifestSha256)
}

/** Every CSV row against the newest ledger entry of its row, and every period settlement of the log in the CSV. */
function crossCheck(
  tables: ReadonlyMap<string, ReadTable>,
  log: LogRead,
  manifest: Manifest,
  add: (p: Problem) => void,
): void {
  const guard = (fn: () => void) => {
    try {
      fn()
    } catch (e) {
      if (e instanceof TableCellError)
        add({ file: e.file, line: e.line, column: e.column, message: e.message.replace(/^.*?: /, '') })
      else throw e
    }
  }
  const compare = (
    t: ReadTable,
    r: number,
    c: Cols,
    table: string,
    key: string,
    pairs: [csv: string, ledger: string][],
  ) => {
    const rec = log.rows.get(table)?.get(key)
    if (!rec) {
      add({
        file: t.file,
        line: c.line(r),
        message: `no ${table} row ${key} in audit-log.bin: the row is not in the signed log`,
      })
      return
    }
    for (const [csvCol, ledgerCol] of pairs) {
      const have = c.str(r, csvCol)
      const want = rec[ledgerCol] ?? ''
      if (have !== want)
        add({
          file: t.file,
          line: c.line(r),
          column: csvCol,
          message: `is '${have.slice(0, 70)}'; the signed log (entry ${rec.entry}, ${table}.${ledgerCol}) holds '${want.slice(0, 70)}'`,
        })
    }
  }
  const tx = tables.get('transactions.csv')
  const inCsv = new Set<string>()
  if (tx)
    guard(() => {
      const c = new Cols(tx)
      for (let r = 0; r < c.size; r++) {
        const id = c.str(r, 'settlement_id')
        inCsv.add(id)
        const cur = c.currencyOf(r, 'fiat_minor') ?? ''
        const row = log.rows.get('acct_settlement')?.get(id)
        compare(tx, r, c, 'acct_settlement', id, [
          ['payment_hash', 'payment_hash'],
          ['machine_id', 'machine_id'],
          ['direction', 'direction'],
          ['amount_msat', 'wire_msat'],
          ...(cur
            ? ([
                [`fiat_minor_${cur}`, 'fiat_minor'],
                [`fiat_requested_minor_${cur}`, 'fiat_requested_minor'],
              ] as [string, string][])
            : []),
        ])
        if (row) {
          const created = String(Date.parse(c.str(r, 'created_at_utc')) / 1000)
          if (created !== row.record_created_at)
            add({
              file: tx.file,
              line: c.line(r),
              column: 'created_at_utc',
              message: `the signed log (entry ${row.entry}) has record_created_at ${row.record_created_at}`,
            })
          if (cur && row.currency !== cur)
            add({
              file: tx.file,
              line: c.line(r),
              column: `fiat_minor_${cur}`,
              message: `the signed log (entry ${row.entry}) has currency ${row.currency}`,
            })
        }
        if (c.str(r, 'status') !== 'rejected' || c.str(r, 'commission_msat') !== '')
          compare(tx, r, c, 'acct_result', `${id}/${c.str(r, 'generation')}`, [
            ['principal_msat', 'principal_msat'],
            ['commission_msat', 'commission_msat'],
            ['platform_fee_msat', 'platform_fee_msat'],
            ['operator_fee_msat', 'operator_fee_msat'],
            ['refund_due_msat', 'refund_due_msat'],
          ])
      }
    })
  // Completeness: the period's settlements in the log must all be listed.
  const from = Date.parse(manifest.fromUtc) / 1000
  const until = Date.parse(manifest.untilUtc) / 1000
  for (const [id, rec] of log.rows.get('acct_settlement') ?? []) {
    const t = Number(rec.record_created_at)
    if (t >= from && t < until && !inCsv.has(id))
      add({
        file: 'transactions.csv',
        line: 0,
        column: 'settlement_id',
        message: `settlement ${id} (audit-log.bin entry ${rec.entry}) is in the period but missing`,
      })
  }
  const legs = tables.get('legs.csv')
  const legIds = new Set<string>()
  if (legs)
    guard(() => {
      const c = new Cols(legs)
      const cur = c.currencies('fiat_minor')
      for (let r = 0; r < c.size; r++) {
        legIds.add(c.str(r, 'leg_id'))
        const filled = cur.find((x) => c.str(r, `fiat_minor_${x}`) !== '')
        compare(legs, r, c, 'acct_leg', c.str(r, 'leg_id'), [
          ['settlement_id', 'settlement_id'],
          ['kind', 'kind'],
          ['recipient_id', 'recipient_id'],
          ['amount_msat', 'msat'],
          ...(filled ? ([[`fiat_minor_${filled}`, 'fiat_minor']] as [string, string][]) : []),
        ])
      }
    })
  for (const [id, rec] of log.rows.get('acct_leg') ?? [])
    if (inCsv.has(rec.settlement_id ?? '') && !legIds.has(id))
      add({
        file: 'legs.csv',
        line: 0,
        column: 'leg_id',
        message: `leg ${id} of settlement ${rec.settlement_id} (audit-log.bin entry ${rec.entry}) is missing`,
      })
  const pay = tables.get('payouts.csv')
  if (pay)
    guard(() => {
      const c = new Cols(pay)
      for (let r = 0; r < c.size; r++)
        compare(pay, r, c, 'payout', c.str(r, 'payout_id'), [
          ['recipient_kind', 'recipient_kind'],
          ['recipient_id', 'recipient_id'],
          ['amount_msat', 'amount_msat'],
        ])
    })
  const lp = tables.get('lp-statements.csv')
  if (lp)
    guard(() => {
      const c = new Cols(lp)
      for (let r = 0; r < c.size; r++) {
        const cur = c.currencyOf(r, 'delta_minor') ?? ''
        compare(lp, r, c, 'acct_lp_entry', c.str(r, 'entry_id'), [
          ['lp_id', 'lp_id'],
          ['kind', 'kind'],
          [`delta_minor_${cur}`, 'delta_minor'],
          [`balance_after_minor_${cur}`, 'balance_after_minor'],
        ])
      }
    })
  const dep = tables.get('deposits.csv')
  if (dep)
    guard(() => {
      const c = new Cols(dep)
      for (let r = 0; r < c.size; r++) {
        const cur = c.currencyOf(r, 'amount_minor') ?? ''
        compare(dep, r, c, 'acct_deposit', c.str(r, 'deposit_id'), [
          ['lp_id', 'lp_id'],
          [`amount_minor_${cur}`, 'amount_minor'],
        ])
      }
    })
}

/** Each receipt: signed by the console key, its tags equal to its settlement's row, its preimage right. */
function checkReceipts(
  bytes: Uint8Array | undefined,
  tx: ReadTable | undefined,
  manifest: Manifest,
  add: (p: Problem) => void,
  schnorr: SchnorrVerify,
): void {
  if (!bytes || !tx) return
  const c = new Cols(tx)
  const byReceipt = new Map<string, number>()
  for (let r = 0; r < c.size; r++) {
    const id = c.str(r, 'receipt_event_id')
    if (id !== '') byReceipt.set(id, r)
  }
  const seen = new Set<string>()
  const lines = new TextDecoder().decode(bytes).split('\n')
  lines.forEach((line, i) => {
    if (line === '') return
    const at = (column: string, message: string) => add({ file: RECEIPTS_FILE, line: i + 1, column, message })
    let ev: NostrEvent
    try {
      ev = JSON.parse(line) as NostrEvent
    } catch {
      at('-', 'not JSON')
      return
    }
    const check = checkEvent(ev, schnorr)
    if (!check.ok) at(check.reason, `receipt ${String(ev.id).slice(0, 16)}… is not validly signed (${check.detail})`)
    if (ev.kind !== 3079) at('kind', 'not a kind 3079 receipt')
    if (manifest.consolePubkey && ev.pubkey !== manifest.consolePubkey) at('pubkey', 'not signed by the console key')
    const tag = (n: string) => ev.tags.find((t) => t[0] === n)?.[1] ?? ''
    if (!preimageMatches(tag('preimage'), tag('payment_hash')))
      at('preimage', 'sha256(preimage) is not the payment hash')
    seen.add(ev.id)
    const r = byReceipt.get(ev.id)
    if (r === undefined) {
      at('id', `receipt ${ev.id} is not named by any row of transactions.csv`)
      return
    }
    const row = (column: string, message: string) => add({ file: tx.file, line: c.line(r), column, message })
    if (c.str(r, 'payment_hash') !== tag('payment_hash'))
      row('payment_hash', `the signed receipt (receipts.jsonl line ${i + 1}) says ${tag('payment_hash')}`)
    if (c.str(r, 'preimage') !== tag('preimage'))
      row('preimage', `the signed receipt (receipts.jsonl line ${i + 1}) says ${tag('preimage')}`)
    if (c.str(r, 'amount_msat') !== tag('amount'))
      row('amount_msat', `the signed receipt (receipts.jsonl line ${i + 1}) says ${tag('amount')}`)
  })
  for (const [id, r] of byReceipt)
    if (!seen.has(id))
      add({
        file: tx.file,
        line: c.line(r),
        column: 'receipt_event_id',
        message: `receipt ${id} is missing from receipts.jsonl`,
      })
}
