// Prints the quarterly report in parts and joins them into report.pdf (docs/audit-export.md "The report"). The
// parts come from `renderReport` (src-shared/audit/export/report-html.ts): each a complete HTML page of whole
// sections or a slice of a long table, so no print job grows with the quarter — one Chromium job over a 100,000-row
// table fails, and the layout time of one table grows faster than its rows. Each part is printed without header and
// footer; then one job prints the page furniture (title, DRAFT on a draft, "Page N of M") over as many blank pages
// as the parts have together, and pdf-merge.ts lays it over them. The same code drives either printer (headless
// Chromium, Electron's printToPDF). The parts are printed in a scratch folder outside the export folder, which
// must hold only the files its manifest lists.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { renderPageFurnitureHtml } from '../../src-shared/audit/export/report-html'
import { countPdfPages, type PdfPrinter } from './pdf'
import { mergeWithOverlay, PdfMergeError } from './pdf-merge'

export interface PrintReportOptions {
  printer: PdfPrinter
  /** The report's parts, in order (complete HTML pages). */
  parts: readonly string[]
  pdfPath: string
  draft: boolean
  title: string
  onPart?: (done: number, of: number) => void
}

export interface PrintedReport {
  pages: number
  bytes: number
  /** Pages of each part, in order. */
  partPages: number[]
  printMs: number
  furnitureMs: number
  mergeMs: number
}

export async function printReport(o: PrintReportOptions): Promise<PrintedReport> {
  const scratch = await mkdtemp(join(tmpdir(), 'satmachine-report-'))
  try {
    const t0 = performance.now()
    const pdfs: Buffer[] = []
    const partPages: number[] = []
    for (const [i, html] of o.parts.entries()) {
      const htmlPath = join(scratch, `part-${i}.html`)
      const pdfPath = join(scratch, `part-${i}.pdf`)
      await writeFile(htmlPath, html)
      await o.printer.print({ htmlPath, pdfPath, draft: o.draft, title: o.title, furniture: false })
      const pdf = await readFile(pdfPath)
      pdfs.push(pdf)
      await rm(htmlPath)
      o.onPart?.(i + 1, o.parts.length)
    }
    const t1 = performance.now()
    // The furniture needs the total first; the merger checks these counts against the page trees it reads.
    for (const [i, p] of pdfs.entries()) {
      const n = countPdfPages(p)
      if (n === null) throw new PdfMergeError(`part ${i + 1} of the report printed no page`)
      partPages.push(n)
    }
    const total = partPages.reduce((a, b) => a + b, 0)
    const furnitureHtml = join(scratch, 'furniture.html')
    const furniturePdf = join(scratch, 'furniture.pdf')
    await writeFile(furnitureHtml, renderPageFurnitureHtml(total))
    await o.printer.print({
      htmlPath: furnitureHtml,
      pdfPath: furniturePdf,
      draft: o.draft,
      title: o.title,
      furniture: true,
    })
    const t2 = performance.now()
    const merged = mergeWithOverlay(pdfs, await readFile(furniturePdf))
    await writeFile(o.pdfPath, merged.pdf)
    const t3 = performance.now()
    return {
      pages: merged.pages,
      bytes: merged.pdf.length,
      partPages,
      printMs: Math.round(t1 - t0),
      furnitureMs: Math.round(t2 - t1),
      mergeMs: Math.round(t3 - t2),
    }
  } finally {
    await o.printer.close?.()
    await rm(scratch, { recursive: true, force: true })
  }
}
