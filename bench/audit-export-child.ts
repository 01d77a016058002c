// One audit export run in its own process, so its peak RSS is the export's alone (seeding happened in the parent).
// Prints one JSON line. argv: <data dir> <quarter> <out dir>. Chromium prints in processes of its own; their memory
// is not in this figure.
import { exportAudit } from '../src-main/audit-export/export'
import { chromiumPrinter } from '../src-main/audit-export/pdf'
import { openAuditLedger } from '../src-main/audit-export/test-support'
import { verifyAuditExport } from '../src-main/audit-export/verify'

const [dataDir, quarter, outDir] = process.argv.slice(2) as [string, string, string]
const steps: Record<string, number> = {}
const t0 = performance.now()
let last = t0
let lastStep = 'start'
const store = await openAuditLedger(dataDir)
const openMs = performance.now() - t0
const printer = await chromiumPrinter()
const r = await exportAudit({
  store,
  dataDir,
  quarter,
  outDir,
  draft: true,
  nowMs: Date.now(),
  appVersion: 'bench',
  operatorName: 'Bench Operator',
  operatorPubkey: null,
  timeZone: 'UTC',
  printer,
  onProgress: (_f, step) => {
    if (step === lastStep) return
    const now = performance.now()
    steps[lastStep] = Math.round(now - last)
    last = now
    lastStep = step
  },
})
const exportMs = performance.now() - t0
await store.close()
const exportRssMB = Math.round(process.resourceUsage().maxRSS / 1024)
const v0 = performance.now()
const v = await verifyAuditExport({ dir: outDir, allowDraft: true })
const verifyMs = performance.now() - v0
console.log(
  JSON.stringify({
    settlements: r.settlements,
    openLedgerMs: Math.round(openMs),
    exportMs: Math.round(exportMs),
    steps,
    pages: r.pdf?.pages ?? null,
    printParts: r.pdf?.parts ?? null,
    printMs: r.pdf?.timingsMs ?? null,
    files: r.files.map((f) => ({ name: f.name, bytes: f.bytes, rows: f.rows })),
    peakRssMB: exportRssMB,
    verifyMs: Math.round(verifyMs),
    verifyOk: v.ok,
    verifyTimings: v.timings,
    peakRssWithVerifyMB: Math.round(process.resourceUsage().maxRSS / 1024),
  }),
)
