// The desktop app's report printer (docs/audit-export.md "The report"): Electron's own Chromium prints report.html
// with `webContents.printToPDF`, the same page settings as the headless printer (A4, the same margins; Electron's
// header and footer only on the page furniture job, see src-main/audit-export/print-report.ts). A shell module: only src-main/index.ts imports it, so the services stay plain
// Node. The hidden window loads the file with JavaScript off and no preload: the report is static HTML.
import { readFile, writeFile } from 'node:fs/promises'
import { pathToFileURL } from 'node:url'
import { BrowserWindow } from 'electron'
import { countPdfPages, headerFooter, PDF_MARGINS, type PdfPrinter } from './pdf'

/** Millimetres → inches (printToPDF's margins are in inches). */
const mm = (v: string): number => Number.parseFloat(v) / 25.4

export function electronPrinter(): PdfPrinter {
  return {
    name: 'electron printToPDF',
    async print(job) {
      const win = new BrowserWindow({
        show: false,
        webPreferences: { javascript: false, sandbox: true, contextIsolation: true, nodeIntegration: false },
      })
      try {
        await win.loadURL(pathToFileURL(job.htmlPath).href)
        const pdf = await win.webContents.printToPDF({
          pageSize: 'A4',
          printBackground: true,
          displayHeaderFooter: job.furniture,
          ...(job.furniture ? headerFooter(job) : {}),
          margins: {
            top: mm(PDF_MARGINS.top),
            bottom: mm(PDF_MARGINS.bottom),
            left: mm(PDF_MARGINS.left),
            right: mm(PDF_MARGINS.right),
          },
        })
        await writeFile(job.pdfPath, pdf)
      } finally {
        win.destroy()
      }
      const bytes = await readFile(job.pdfPath)
      return { pages: countPdfPages(bytes), bytes: bytes.length }
    },
  }
}
