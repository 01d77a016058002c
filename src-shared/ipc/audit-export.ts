// IPC shapes of the audit export (docs/audit-export.md): exporting a quarter from the Audit screen with progress,
// the exports already made with their verification, and the ledger's change log and reconciliation differences
// the screen lists. JSON-safe: amounts are decimal strings, times ms since the epoch.
//
// Pure TypeScript (only ./schema and ./audit): the sandboxed preload bundles this file through contract.ts.
import { quarterId } from './audit'
import { boolean, object, optional, string } from './schema'

export const auditExportInput = object({
  period: quarterId,
  /** Export a quarter that is not closed yet (every page says DRAFT). */
  draft: optional(boolean()),
})

/** An export folder's name under `<data dir>/exports` (what `audit.exports` answers). */
export const auditVerifyInput = object({ name: string({ min: 1, max: 120, pattern: /^[A-Za-z0-9][A-Za-z0-9._-]*$/ }) })

export interface AuditExportView {
  period: string
  name: string
  /** The folder, for the operator to open or copy. */
  path: string
  draft: boolean
  manifestSha256: string
  headEventId: string | null
  settlements: number
  files: number
  pdfPath: string | null
  pages: number | null
  /** The export's own warnings (e.g. no signed head yet). */
  warnings: string[]
}

/** One step of a running export (the `audit.exportProgress` event). */
export interface AuditExportProgress {
  period: string
  /** 0…1. */
  fraction: number
  step: string
  done: boolean
  error: string | null
}

export interface AuditExportListItem {
  name: string
  path: string
  period: string
  draft: boolean
  manifestSha256: string | null
  createdAtMs: number
  hasPdf: boolean
}

export interface AuditVerifyView {
  name: string
  ok: boolean
  draft: boolean
  passed: string[]
  /** One line each, naming the file, the line and the column. */
  problems: string[]
}

export interface ConfigChangeView {
  seq: number
  recordedAtMs: number
  effectiveFromMs: number
  scope: string
  author: string
  field: string
  old: string
  new: string
  note: string | null
}

export interface ReconRunView {
  id: number
  fromMs: number
  untilMs: number
  matched: number
  differences: number
  atMs: number
  lines: string[]
}

export interface AuditChangesView {
  configChanges: ConfigChangeView[]
  reconRuns: ReconRunView[]
}
