// The Audit screen's export side (IPC shapes in src-shared/ipc/audit-export.ts; docs/audit-export.md): exporting a
// quarter of the running console's ledger into `<data dir>/exports/<quarter>-<time>/` with progress events, listing
// the exports made so far, verifying one with the same code as `satmachine verify-audit`, and the change log and
// reconciliation differences the screen shows. The PDF printer is the shell's (Electron's printToPDF in the desktop
// app) or headless Chromium; without either the export still writes every CSV file and report.html, and says why
// there is no PDF.
import { readdir, readFile, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import pkg from '../../package.json'
import { problemText } from '../../src-shared/audit/export/check-tables'
import { parseManifest, sha256Hex } from '../../src-shared/audit/export/manifest'
import type { ConfigAuditRow } from '../../src-shared/audit/export/model'
import type { SignedHead } from '../../src-shared/audit/types'
import type { AuditChangesView, AuditExportListItem, ConfigChangeView } from '../../src-shared/ipc/audit-export'
import { ApiError, type Handlers } from '../../src-shared/ipc/contract'
import type { LedgerStore } from '../ledger/types'
import type { ServiceContext } from '../service-context'
import { AuditExportError, auditManifestSha256, exportAudit, REPORT_PDF } from './export'
import { chromiumPrinter, type PdfPrinter } from './pdf'
import { readConfigChanges, readWalletRuns } from './read-ledger'
import { verifyAuditExport } from './verify'

type AuditExportMethods = 'audit.export' | 'audit.exports' | 'audit.verifyExport' | 'audit.changes'

export interface AuditExportServiceOptions {
  /** The shell's printer; default: headless Chromium through playwright-core, when installed. */
  printer?: () => Promise<PdfPrinter>
}

export const exportsDir = (dataDir: string) => join(dataDir, 'exports')

const stamp = (ms: number) => new Date(ms).toISOString().replace(/[:.]/g, '').replace('T', '-').slice(0, 17)

export function auditExportHandlers(
  ctx: ServiceContext,
  o: AuditExportServiceOptions = {},
): Pick<Handlers, AuditExportMethods> {
  const log = ctx.log.child('audit-export')
  let running: string | null = null

  return {
    'audit.export': async ({ period, draft }) => {
      if (running) throw new ApiError('conflict', `an export of ${running} is running; wait for it to finish`)
      // The ledger first: without it there is nothing to export, and no browser needs to start.
      const store = ctx.ledger()
      running = period
      const nowMs = ctx.clock.nowMs()
      const name = `${period}${draft ? '-draft' : ''}-${stamp(nowMs)}`
      const outDir = join(exportsDir(ctx.dataDir), name)
      const progress = (fraction: number, step: string, done = false, error: string | null = null) =>
        ctx.emit('audit.exportProgress', { period, fraction, step, done, error })
      try {
        let printer: PdfPrinter | undefined
        const warnings: string[] = []
        try {
          printer = await (o.printer ?? chromiumPrinter)()
        } catch (e) {
          warnings.push(`no PDF: ${(e as Error).message}; report.html and the CSV files are written`)
        }
        const s = ctx.settings.get()
        const r = await exportAudit({
          store,
          dataDir: ctx.dataDir,
          quarter: period,
          outDir,
          draft: draft === true,
          nowMs,
          appVersion: pkg.version,
          operatorName: s.operatorName,
          operatorPubkey: s.operatorPubkey ?? null,
          timeZone: s.timeZone,
          ...(printer ? { printer } : {}),
          onProgress: (f, step) => progress(f, step),
        })
        progress(1, 'done', true)
        log.info('audit export written', { period, outDir, manifest: r.manifestSha256, settlements: r.settlements })
        return {
          period,
          name,
          path: outDir,
          draft: draft === true,
          manifestSha256: r.manifestSha256,
          headEventId: r.headEventId,
          settlements: r.settlements,
          files: r.files.length,
          pdfPath: r.pdf?.path ?? null,
          pages: r.pdf?.pages ?? null,
          warnings: [...warnings, ...r.warnings],
        }
      } catch (e) {
        const message = (e as Error).message
        progress(1, 'failed', true, message)
        if (e instanceof ApiError) throw e
        if (e instanceof AuditExportError)
          throw new ApiError(e.field === 'quarter' ? 'conflict' : 'bad_args', message, 'period')
        log.error('audit export failed', { period, reason: message })
        throw new ApiError('internal', `the export failed: ${message}`)
      } finally {
        running = null
      }
    },

    'audit.exports': async () => {
      const dir = exportsDir(ctx.dataDir)
      let names: string[]
      try {
        names = await readdir(dir)
      } catch {
        return []
      }
      const out: AuditExportListItem[] = []
      for (const name of names) {
        if (name.startsWith('.')) continue
        const path = join(dir, name)
        try {
          const st = await stat(path)
          if (!st.isDirectory()) continue
          let manifest: ReturnType<typeof parseManifest> | null = null
          let manifestSha256: string | null = null
          try {
            const bytes = await readFile(join(path, 'manifest.json'))
            manifest = parseManifest(bytes.toString('utf8'))
            manifestSha256 = sha256Hex(bytes)
          } catch {
            // a folder without a readable manifest is listed as such
          }
          const hasPdf = await stat(join(path, REPORT_PDF)).then(
            () => true,
            () => false,
          )
          out.push({
            name,
            path,
            period: manifest?.quarter ?? name.slice(0, 6),
            draft: manifest?.draft ?? true,
            manifestSha256,
            createdAtMs: st.mtimeMs,
            hasPdf,
          })
        } catch {
          // vanished while listing
        }
      }
      return out.sort((a, b) => b.createdAtMs - a.createdAtMs)
    },

    'audit.verifyExport': async ({ name }) => {
      const dir = join(exportsDir(ctx.dataDir), name)
      const exists = await stat(dir).then(
        (s) => s.isDirectory(),
        () => false,
      )
      if (!exists) throw new ApiError('not_found', `no export named ${name}`, 'name')
      const r = await verifyAuditExport({ dir, allowDraft: true })
      return { name, ok: r.ok, draft: r.draft, passed: r.passed, problems: r.problems.map(problemText) }
    },

    'audit.changes': async () => {
      const ledger = ctx.ledger()
      // Every configuration ever recorded (the log is short), and every reconciliation run.
      const nowMs = ctx.clock.nowMs()
      const [configs, runs] = await Promise.all([
        readConfigChanges(ledger, 0, nowMs + 1),
        readWalletRuns(ledger, 0, Math.floor(nowMs / 1000) + 1),
      ])
      const view: AuditChangesView = {
        configChanges: configs.flatMap(configChangeViews).reverse(),
        reconRuns: runs
          .map((r) => ({
            id: r.id,
            fromMs: r.fromSec * 1000,
            untilMs: r.untilSec * 1000,
            matched: r.matched,
            differences: r.differences,
            atMs: r.atMs,
            lines: r.differenceLines,
          }))
          .reverse(),
      }
      return view
    },
  }
}

function configChangeViews(x: ConfigAuditRow): ConfigChangeView[] {
  const out: ConfigChangeView[] = []
  for (const field of Object.keys(x.fields).sort()) {
    const before = x.previous ? (x.previous[field] ?? '') : ''
    const after = x.fields[field] ?? ''
    if (x.previous && before === after) continue
    out.push({
      seq: x.seq,
      recordedAtMs: x.recordedAtMs,
      effectiveFromMs: x.effectiveFromMs,
      scope: x.machineId ?? 'fleet',
      author: x.author,
      field,
      old: before,
      new: after,
      note: x.note,
    })
  }
  return out
}

/**
 * The quarter close's manifest hash (passed to the audit handlers as `manifestFor`): the export of the quarter
 * against its closing head, made in a scratch folder and removed again, so the operator's attestation signs the
 * manifest every later export of the closed quarter reproduces byte for byte.
 */
export function manifestForClose(
  ctx: ServiceContext,
): (period: string, head: SignedHead, store: LedgerStore) => Promise<string> {
  return async (period, head, store) => {
    const s = ctx.settings.get()
    const nowMs = ctx.clock.nowMs()
    const scratchDir = join(exportsDir(ctx.dataDir), `.close-${period}-${stamp(nowMs)}`)
    try {
      return await auditManifestSha256({
        store,
        dataDir: ctx.dataDir,
        quarter: period,
        nowMs,
        appVersion: pkg.version,
        operatorName: s.operatorName,
        operatorPubkey: s.operatorPubkey ?? null,
        timeZone: s.timeZone,
        closingHead: head.event,
        scratchDir,
      })
    } finally {
      await rm(scratchDir, { recursive: true, force: true })
    }
  }
}
