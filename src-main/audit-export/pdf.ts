// Printing the quarterly report (docs/audit-export.md "The report"): one HTML file, printed by Chromium. In the
// desktop app Electron's own Chromium prints it (`printToPDF`, wired by src-main/audit-export/pdf-electron.ts in
// the shell); on the command line and in headless mode a headless Chromium is driven through playwright-core.
// Both use the same page settings: A4 and the same margins. The report is printed in parts without header and
// footer, and the page furniture (title, DRAFT on a draft, "Page N of M") once over blank pages with Chromium's
// header and footer; src-main/audit-export/print-report.ts joins them. Where there is no Chromium, the error names
// what to install.
import { existsSync } from 'node:fs'
import { readFile, stat } from 'node:fs/promises'
import { pathToFileURL } from 'node:url'

export interface PrintJob {
  htmlPath: string
  pdfPath: string
  draft: boolean
  title: string
  /** Print Chromium's header and footer (`headerFooter`) on every page; off for the report's own parts. */
  furniture: boolean
}

export interface PdfPrinter {
  /** Prints `htmlPath` to `pdfPath`; `pages` is read back from the PDF (null if it cannot be told). */
  print(job: PrintJob): Promise<{ pages: number | null; bytes: number }>
  /** What prints (for logs and the report's provenance). */
  readonly name: string
  /** Ends what the printer keeps open between jobs (a browser); the exporter calls it once it has printed. */
  close?(): Promise<void>
}

export class PrinterMissingError extends Error {
  constructor(
    readonly missing: string,
    message: string,
  ) {
    super(message)
    this.name = 'PrinterMissingError'
  }
}

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`)

/** Chromium's header and footer templates (it fills the pageNumber / totalPages spans). */
export function headerFooter(job: Pick<PrintJob, 'draft' | 'title'>): {
  headerTemplate: string
  footerTemplate: string
} {
  const style =
    'font-family: "DejaVu Sans", "Liberation Sans", Arial, sans-serif; font-size: 7.5px; width: 100%; margin: 0 12mm; color: #444;'
  const draft = job.draft
    ? '<b style="color:#b00020;letter-spacing:1px">DRAFT — period not closed, not attested</b> · '
    : ''
  return {
    headerTemplate: `<div style='${style} display:flex; justify-content:space-between'><span>${draft}${esc(job.title)}</span><span>Satmachine Console</span></div>`,
    footerTemplate: `<div style='${style} display:flex; justify-content:space-between'><span>${job.draft ? '<b style="color:#b00020">DRAFT</b>' : ''}</span><span>Page <span class="pageNumber"></span> of <span class="totalPages"></span></span></div>`,
  }
}

export const PDF_MARGINS = { top: '16mm', bottom: '16mm', left: '12mm', right: '12mm' }

/** Counts the page objects of a PDF Chromium wrote (`/Type /Page`, not `/Pages`); null when none are visible. */
export function countPdfPages(pdf: Uint8Array): number | null {
  const text = Buffer.from(pdf.buffer, pdf.byteOffset, pdf.byteLength).toString('latin1')
  const m = text.match(/\/Type\s*\/Page(?![a-zA-Z])/g)
  return m ? m.length : null
}

/** Where a Chromium binary is: CHROMIUM_PATH, else the usual Debian/Ubuntu/Chrome locations. */
export function findChromium(env: NodeJS.ProcessEnv = process.env): string | null {
  if (env.CHROMIUM_PATH) return existsSync(env.CHROMIUM_PATH) ? env.CHROMIUM_PATH : null
  for (const p of [
    '/usr/bin/chromium',
    '/usr/bin/chromium-browser',
    '/usr/bin/google-chrome',
    '/usr/bin/google-chrome-stable',
  ])
    if (existsSync(p)) return p
  return null
}

/**
 * A printer over headless Chromium through playwright-core. Resolves the package and the binary when it is
 * created, so a missing one is reported before any export work starts.
 */
export async function chromiumPrinter(env: NodeJS.ProcessEnv = process.env): Promise<PdfPrinter> {
  let pw: typeof import('playwright-core')
  try {
    // Resolved at run time from node_modules, never bundled: the package is optional for the app.
    const name = 'playwright-core'
    pw = (await import(/* @vite-ignore */ name)) as typeof import('playwright-core')
  } catch {
    throw new PrinterMissingError(
      'playwright-core',
      'the PDF needs the npm package playwright-core, which is not installed (npm install playwright-core), ' +
        'and a Chromium binary',
    )
  }
  const exe = findChromium(env)
  if (!exe)
    throw new PrinterMissingError(
      'chromium',
      env.CHROMIUM_PATH
        ? `CHROMIUM_PATH names ${env.CHROMIUM_PATH}, which does not exist`
        : 'the PDF needs a Chromium binary and none was found (apt-get install chromium, or set CHROMIUM_PATH)',
    )
  // One browser for every part of one export: a launch costs about a second, a part often less.
  let browser: import('playwright-core').Browser | null = null
  return {
    name: `chromium (${exe})`,
    async print(job) {
      browser ??= await pw.chromium.launch({
        executablePath: exe,
        headless: true,
        args: [
          '--no-sandbox',
          '--disable-gpu',
          '--disable-dev-shm-usage',
          '--no-first-run',
          '--disable-background-networking',
        ],
      })
      const page = await browser.newPage()
      try {
        // A report is a file: nothing it shows comes from the network.
        await page.route(/^(?!file:|data:|about:)/, (route) => route.abort())
        await page.goto(pathToFileURL(job.htmlPath).href, { waitUntil: 'load', timeout: 600_000 })
        await page.emulateMedia({ media: 'print' })
        await page.pdf({
          path: job.pdfPath,
          format: 'A4',
          printBackground: true,
          displayHeaderFooter: job.furniture,
          ...(job.furniture ? headerFooter(job) : {}),
          margin: PDF_MARGINS,
        })
      } finally {
        await page.close()
      }
      const bytes = await readFile(job.pdfPath)
      return { pages: countPdfPages(bytes), bytes: (await stat(job.pdfPath)).size }
    },
    async close() {
      const b = browser
      browser = null
      await b?.close()
    },
  }
}
