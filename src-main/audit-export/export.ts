// The audit export (docs/audit-export.md): one quarter of the ledger written to a folder as CSV files, the
// receipts, the audit log's entries up to the signed head the export commits to, the head (and, for a closed
// quarter, the operator's attestation), manifest.json with every file's SHA-256, and the quarterly report as HTML
// and PDF. Used by `satmachine audit-export` on a data directory and by the Audit screen on the running console.
//
// A closed quarter is exported against its head at close, so the same quarter exported twice gives the same
// manifest (the hash the attestation signs). `draft` exports a quarter that is still open against the newest
// console-signed head; its report says DRAFT on every page.
import { createHash } from 'node:crypto'
import { mkdir, readdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { reportCharts } from '../../src-shared/audit/export/charts'
import { encodeCsv } from '../../src-shared/audit/export/csv'
import {
  encodeManifest,
  MANIFEST_FILE,
  MANIFEST_FORMAT,
  type Manifest,
  type ManifestFile,
} from '../../src-shared/audit/export/manifest'
import type { AuditProvenance } from '../../src-shared/audit/export/model'
import { type ChartSeam, renderReport } from '../../src-shared/audit/export/report-html'
import { buildTables, type CsvTable, currenciesOf, headerOf, SUMMARY } from '../../src-shared/audit/export/tables'
import { asReadTable, computeSummary, type ReadTable, summaryRows } from '../../src-shared/audit/export/totals'
import { parseAttestationEvent, parseHeadEvent, quarterBounds } from '../../src-shared/audit/types'
import type { NostrEvent } from '../../src-shared/nostr/event'
import { readLatestHead, readPeriods } from '../audit/read'
import type { LedgerStore } from '../ledger/types'
import type { PdfPrinter } from './pdf'
import { printReport } from './print-report'
import { readAuditData } from './read-ledger'

/** SHA-256 by Node's OpenSSL (the same digest as the pure one in the manifest module, much faster on big files). */
const sha256Hex = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex')

export const AUDIT_LOG_FILE = 'audit-log.bin'
export const RECEIPTS_FILE = 'receipts.jsonl'
export const HEAD_FILE = 'head.json'
export const ATTESTATION_FILE = 'attestation.json'
export const REPORT_HTML = 'report.html'
export const REPORT_PDF = 'report.pdf'

export class AuditExportError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message)
    this.name = 'AuditExportError'
  }
}

export interface ExportOptions {
  store: LedgerStore
  dataDir: string
  quarter: string
  outDir: string
  draft: boolean
  nowMs: number
  appVersion: string
  operatorName: string | null
  operatorPubkey: string | null
  timeZone: string
  /** Prints the report; without one only report.html is written (the CLI always passes one). */
  printer?: PdfPrinter
  /** The report's charts (default: the UI's chart builders rendered to SVG). */
  charts?: ChartSeam
  /**
   * The quarter head to commit to, given by the quarter close before the attestation exists (the attestation then
   * signs this export's manifest hash). Without it: the closed quarter's head, or the newest head for a draft.
   */
  closingHead?: NostrEvent
  /** Table rows per print part of the report (default: ROWS_PER_PART of report-html.ts). */
  rowsPerPart?: number
  onProgress?: (fraction: number, step: string) => void
}

export interface ExportResult {
  outDir: string
  files: ManifestFile[]
  manifestSha256: string
  headEventId: string | null
  pdf: {
    path: string
    pages: number | null
    parts: number
    /** Printing the parts, the page furniture, and joining them. */
    timingsMs: { parts: number; furniture: number; merge: number }
  } | null
  settlements: number
  warnings: string[]
}

/** The audit log file: for each entry in index order, its length (u32 big-endian) then its canonical bytes. */
export function encodeAuditLog(entries: readonly Uint8Array[]): Uint8Array {
  let size = 0
  for (const e of entries) size += 4 + e.length
  const out = new Uint8Array(size)
  const dv = new DataView(out.buffer)
  let at = 0
  for (const e of entries) {
    dv.setUint32(at, e.length)
    out.set(e, at + 4)
    at += 4 + e.length
  }
  return out
}

/** The canonical bytes of entries [0, size) as stored (not decoded: the export copies them byte for byte). */
export async function readEntryBytes(store: LedgerStore, size: number): Promise<Uint8Array[]> {
  const out: Uint8Array[] = []
  const PAGE = 20_000
  for (let from = 0; from < size; from += PAGE) {
    const rows = await store.query<{ idx: number; entry: Uint8Array }>(
      'SELECT idx, entry FROM audit_leaf WHERE idx >= ? AND idx < ? ORDER BY idx',
      [from, Math.min(size, from + PAGE)],
    )
    for (const r of rows) {
      if (r.idx !== out.length)
        throw new AuditExportError('head', `audit entry ${out.length} is missing from the ledger`)
      out.push(r.entry)
    }
  }
  return out
}

async function tableExists(store: LedgerStore, name: string): Promise<boolean> {
  const r = await store.query("SELECT 1 AS x FROM sqlite_master WHERE type = 'table' AND name = ?", [name])
  return r.length > 0
}

async function schemaVersion(store: LedgerStore): Promise<number> {
  const r = await store.query<{ v: number | null }>('SELECT max(version) AS v FROM schema_version')
  return Number(r[0]?.v ?? 0)
}

/** The head (and attestation) the export commits to: the quarter's head at close, or the newest one for a draft. */
async function headFor(
  o: ExportOptions,
): Promise<{ head: NostrEvent | null; attestation: NostrEvent | null; state: AuditProvenance['periodState'] }> {
  if (o.closingHead) return { head: o.closingHead, attestation: null, state: 'closed' }
  const logged = await tableExists(o.store, 'audit_period')
  if (logged) {
    const periods = await readPeriods(o.store, o.nowMs)
    const p = periods.find((x) => x.period === o.quarter)
    if (p && p.state !== 'open') {
      const rows = await o.store.query<{ head_json: string; attestation_json: string }>(
        'SELECT head_json, attestation_json FROM audit_period WHERE period = ?',
        [o.quarter],
      )
      const r = rows[0]
      if (r) return { head: JSON.parse(r.head_json), attestation: JSON.parse(r.attestation_json), state: p.state }
    }
  }
  if (!o.draft)
    throw new AuditExportError(
      'quarter',
      `${o.quarter} is not closed yet: close it on the Audit screen (confirmed on your signer), or export a draft with --draft`,
    )
  const latest = readLatestHead(o.dataDir)
  return { head: latest?.event ?? null, attestation: null, state: 'open' }
}

/** Runs the export; resolves once every file is written (and the PDF printed, when a printer is given). */
export async function exportAudit(o: ExportOptions): Promise<ExportResult> {
  const progress = o.onProgress ?? (() => undefined)
  const warnings: string[] = []
  let bounds: { startMs: number; endMs: number }
  try {
    bounds = quarterBounds(o.quarter)
  } catch {
    throw new AuditExportError('quarter', `'${o.quarter.slice(0, 20)}' is not a quarter like 2026Q4`)
  }
  await mkdir(o.outDir, { recursive: true })
  const existing = await readdir(o.outDir)
  if (existing.length > 0)
    throw new AuditExportError(
      'out',
      `${o.outDir} is not empty (${existing.length} entries); name a new or empty folder`,
    )

  progress(0.02, 'signed head')
  const { head, attestation, state } = await headFor(o)
  const parsedHead = head ? parseHeadEvent(head) : null
  if (!parsedHead) warnings.push('no signed audit head exists yet: the export cannot be verified against one')
  else if (state === 'open' && (await tableExists(o.store, 'audit_leaf'))) {
    const n = await o.store.query<{ n: number }>('SELECT count(*) AS n FROM audit_leaf')
    const entries = Number(n[0]?.n ?? 0)
    if (entries > parsedHead.treeSize)
      warnings.push(
        `the newest signed head covers ${parsedHead.treeSize} of ${entries} log entries: rows booked after it are not covered and verify-audit will name them`,
      )
  }
  if (attestation) {
    const a = parseAttestationEvent(attestation)
    if (head && a.headEventId !== head.id) warnings.push('the attestation names a different head than the period row')
  }

  progress(0.05, 'reading the ledger')
  const provenance: AuditProvenance = {
    operatorName: o.operatorName,
    operatorPubkey: attestation?.pubkey ?? o.operatorPubkey,
    consolePubkey: head?.pubkey ?? null,
    appVersion: o.appVersion,
    schemaVersion: await schemaVersion(o.store),
    timeZone: o.timeZone,
    headEventId: head?.id ?? null,
    headTreeSize: parsedHead?.treeSize ?? null,
    headRootHex: parsedHead?.root ?? null,
    attestationEventId: attestation?.id ?? null,
    periodState: state,
  }
  const data = await readAuditData(o.store, {
    period: { quarter: o.quarter, fromMs: bounds.startMs, untilMs: bounds.endMs },
    provenance,
    onProgress: (f, what) => progress(0.05 + f * 0.35, what),
  })

  progress(0.4, 'building the tables')
  const tables = buildTables(data)
  const read = new Map<string, ReadTable>(tables.map((t) => [t.file, asReadTable(t)]))
  const summaryLines = computeSummary(read)
  const summary: CsvTable = {
    file: SUMMARY.file,
    header: headerOf(SUMMARY, currenciesOf(data)),
    rows: summaryRows(summaryLines),
  }
  tables.push(summary)

  const files: ManifestFile[] = []
  const put = async (name: string, bytes: Uint8Array, rows: number) => {
    await writeFile(join(o.outDir, name), bytes)
    files.push({ name, sha256: sha256Hex(bytes), bytes: bytes.length, rows })
  }
  const utf8 = new TextEncoder()
  progress(0.45, 'writing the CSV files')
  for (const t of tables) await put(t.file, utf8.encode(encodeCsv(t.header, t.rows)), t.rows.length)

  progress(0.5, 'receipts')
  const receipts = (await tableExists(o.store, 'rcpt_receipt'))
    ? await o.store.query<{ event_json: string }>(
        `SELECT r.event_json FROM rcpt_receipt r JOIN acct_settlement s ON s.id = r.settlement_id
         WHERE s.record_created_at >= ? AND s.record_created_at < ? ORDER BY r.settlement_id`,
        [Math.floor(bounds.startMs / 1000), Math.floor(bounds.endMs / 1000)],
      )
    : []
  await put(RECEIPTS_FILE, utf8.encode(receipts.map((r) => `${r.event_json}\n`).join('')), receipts.length)

  progress(0.55, 'audit log')
  if (parsedHead) {
    const entries = await readEntryBytes(o.store, parsedHead.treeSize)
    if (entries.length !== parsedHead.treeSize)
      throw new AuditExportError(
        'head',
        `the ledger holds ${entries.length} audit entries but the head covers ${parsedHead.treeSize}`,
      )
    await put(AUDIT_LOG_FILE, encodeAuditLog(entries), entries.length)
    await put(HEAD_FILE, utf8.encode(`${JSON.stringify(head)}\n`), 1)
  }
  if (attestation) await writeFile(join(o.outDir, ATTESTATION_FILE), `${JSON.stringify(attestation)}\n`)

  const manifest: Manifest = {
    format: MANIFEST_FORMAT,
    quarter: o.quarter,
    fromUtc: new Date(bounds.startMs).toISOString(),
    untilUtc: new Date(bounds.endMs).toISOString(),
    draft: state === 'open',
    appVersion: o.appVersion,
    schemaVersion: provenance.schemaVersion,
    consolePubkey: provenance.consolePubkey,
    operatorPubkey: provenance.operatorPubkey,
    currencies: currenciesOf(data),
    head: parsedHead && head ? { eventId: head.id, treeSize: parsedHead.treeSize, rootHex: parsedHead.root } : null,
    files,
  }
  const manifestBytes = encodeManifest(manifest)
  await writeFile(join(o.outDir, MANIFEST_FILE), manifestBytes)
  const manifestSha256 = sha256Hex(manifestBytes)
  if (attestation) {
    const a = parseAttestationEvent(attestation)
    if (a.manifestSha256 !== null && a.manifestSha256 !== manifestSha256)
      warnings.push(
        `the attestation signs manifest ${a.manifestSha256.slice(0, 16)}…, this export's is ${manifestSha256.slice(0, 16)}…`,
      )
  }

  progress(0.6, 'report')
  const report = renderReport({
    data,
    tables,
    summary: summaryLines,
    manifest,
    manifestSha256,
    generatedAtMs: o.nowMs,
    draft: manifest.draft,
    charts: o.charts ?? reportCharts,
    ...(o.rowsPerPart !== undefined ? { rowsPerPart: o.rowsPerPart } : {}),
  })
  await writeFile(join(o.outDir, REPORT_HTML), report.html)
  let pdf: ExportResult['pdf'] = null
  if (o.printer) {
    progress(0.7, 'printing the PDF')
    const pdfPath = join(o.outDir, REPORT_PDF)
    const printed = await printReport({
      printer: o.printer,
      parts: report.parts,
      pdfPath,
      draft: manifest.draft,
      title: `Audit ${o.quarter}`,
      onPart: (done, of) => progress(0.7 + (0.28 * done) / of, 'printing the PDF'),
    })
    pdf = {
      path: pdfPath,
      pages: printed.pages,
      parts: report.parts.length,
      timingsMs: { parts: printed.printMs, furniture: printed.furnitureMs, merge: printed.mergeMs },
    }
  }
  progress(1, 'done')
  return {
    outDir: o.outDir,
    files,
    manifestSha256,
    headEventId: head?.id ?? null,
    pdf,
    settlements: data.settlements.length,
    warnings,
  }
}

/**
 * The manifest hash a quarter's export will have at close — for the quarter close, whose attestation signs it.
 * Exports against the closing head into a scratch folder (no PDF) and answers the manifest's SHA-256; exporting the
 * closed quarter later gives the same manifest, byte for byte.
 */
export async function auditManifestSha256(
  o: Omit<ExportOptions, 'printer' | 'outDir' | 'draft'> & { closingHead: NostrEvent; scratchDir: string },
): Promise<string> {
  const r = await exportAudit({ ...o, draft: false, outDir: o.scratchDir })
  return r.manifestSha256
}
