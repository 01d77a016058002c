// The PDF merger of the report printer (pdf-merge.ts, docs/audit-export.md "The report"): parts printed by the real
// headless Chromium without header and footer, the page furniture printed over blank pages, joined — poppler's
// pdfinfo / pdftotext / pdffonts then see one document whose pages run in order, each with its own "Page N of M"
// and DRAFT, every font embedded. And the merger refuses what it cannot read instead of writing a broken file.
import { execFileSync } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { renderPageFurnitureHtml } from '../../src-shared/audit/export/report-html'
import { chromiumMissingReason } from '../../test/support/chromium'
import { chromiumPrinter, type PdfPrinter } from './pdf'
import { mergeWithOverlay, PdfMergeError, parsePdf } from './pdf-merge'
import { printReport } from './print-report'
import { blankPdf, blankPrinter } from './test-support'

const SKIP = chromiumMissingReason()

/** A page of `n` sections, each on its own page, saying which part and section it is. */
const partHtml = (part: string, n: number) =>
  `<!doctype html><html><head><meta charset="utf-8"><style>section { break-before: page; } body > section:first-of-type { break-before: auto; } body { font-family: "DejaVu Sans"; }</style></head><body>${Array.from(
    { length: n },
    (_, i) => `<section><h1>part ${part} section ${i + 1}</h1><p>Größe €</p></section>`,
  ).join('')}</body></html>`

describe('parsePdf and mergeWithOverlay on hand-made input', () => {
  it('reads a hand-made one-page PDF and joins two of them under a two-page overlay', () => {
    expect(parsePdf(blankPdf()).pages.length).toBe(1)
    expect(parsePdf(blankPdf(3)).pages.length).toBe(3)
    expect(mergeWithOverlay([blankPdf(2), blankPdf(1)], blankPdf(3)).pages).toBe(3)
    // The overlay's page tree is inherited (MediaBox on the node) and its second page has two content streams.
    const merged = mergeWithOverlay([blankPdf(), blankPdf()], twoPageOverlay())
    expect(merged.pages).toBe(2)
    expect(parsePdf(merged.pdf).pages.length).toBe(2)
  })

  it('printReport with the blank test printer gives one page a part, numbered through by the furniture', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pdf-merge-blank-'))
    try {
      const r = await printReport({
        printer: await blankPrinter(),
        parts: ['<p>a</p>', '<p>b</p>', '<p>c</p>'],
        pdfPath: join(dir, 'r.pdf'),
        draft: false,
        title: 'x',
      })
      expect(r.partPages).toEqual([1, 1, 1])
      expect(parsePdf(await readFile(join(dir, 'r.pdf'))).pages.length).toBe(3)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('refuses a file that is not a PDF, a compressed object stream, and an overlay of the wrong length', () => {
    expect(() => parsePdf(Buffer.from('hello'))).toThrow(PdfMergeError)
    const objStm = Buffer.from(
      blankPdf().toString('latin1').replace('<</Length 0>>', '<</Type /ObjStm\n/Length 0>>'),
      'latin1',
    )
    expect(() => parsePdf(objStm)).toThrow(/compressed object streams/)
    expect(() => mergeWithOverlay([blankPdf(), blankPdf()], blankPdf())).toThrow(/1 pages for 2 report pages/)
  })
})

/** A two-page PDF written by hand: a page tree with two blank pages. */
function twoPageOverlay(): Buffer {
  const objs = [
    '<</Type /Catalog\n/Pages 2 0 R>>',
    '<</Type /Pages\n/Count 2\n/Kids [3 0 R 5 0 R]\n/MediaBox [0 0 595.91998 842.88]>>',
    '<</Type /Page\n/Parent 2 0 R\n/Resources <<>>\n/Contents 4 0 R>>',
    '<</Length 3>> stream\nq Q\nendstream',
    '<</Type /Page\n/Parent 2 0 R\n/Resources <<>>\n/Contents [4 0 R 4 0 R]>>',
  ]
  let s = '%PDF-1.4\n'
  const at: number[] = []
  objs.forEach((o, i) => {
    at.push(s.length)
    s += `${i + 1} 0 obj\n${o}\nendobj\n`
  })
  const xref = s.length
  s += `xref\n0 ${objs.length + 1}\n0000000000 65535 f \n`
  for (const a of at) s += `${String(a).padStart(10, '0')} 00000 n \n`
  s += `trailer\n<</Size ${objs.length + 1}\n/Root 1 0 R>>\nstartxref\n${xref}\n%%EOF\n`
  return Buffer.from(s, 'latin1')
}

describe.skipIf(SKIP)('parts printed by Chromium and joined', () => {
  let dir: string
  let printer: PdfPrinter
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pdf-merge-'))
    printer = await chromiumPrinter()
  })
  afterAll(async () => {
    await printer?.close?.()
    await rm(dir, { recursive: true, force: true })
  })

  it('gives one PDF whose pages run in order with continuous page numbers, DRAFT and embedded fonts', async () => {
    const pdfPath = join(dir, 'joined.pdf')
    const r = await printReport({
      printer,
      parts: [partHtml('A', 2), partHtml('B', 3), partHtml('C', 1)],
      pdfPath,
      draft: true,
      title: 'Audit 2026Q3',
    })
    expect(r.partPages).toEqual([2, 3, 1])
    expect(r.pages).toBe(6)
    expect(Number(/Pages:\s+(\d+)/.exec(execFileSync('pdfinfo', [pdfPath]).toString())?.[1])).toBe(6)
    const pages = execFileSync('pdftotext', ['-layout', pdfPath, '-']).toString('utf8').split('\f').slice(0, 6)
    const expected = ['A 1', 'A 2', 'B 1', 'B 2', 'B 3', 'C 1'].map((x) => x.split(' '))
    pages.forEach((p, i) => {
      const [part, section] = expected[i] as [string, string]
      expect(p, `page ${i + 1}`).toContain(`part ${part} section ${section}`)
      expect(p, `page ${i + 1}`).toContain('Größe €')
      expect(p, `page ${i + 1}`).toContain(`Page ${i + 1} of 6`)
      expect(p, `page ${i + 1}`).toContain('DRAFT')
      expect(p, `page ${i + 1}`).toContain('Audit 2026Q3')
    })
    const fonts = execFileSync('pdffonts', [pdfPath]).toString().trim().split('\n').slice(2)
    expect(fonts.length).toBeGreaterThan(0)
    for (const f of fonts) expect(f, f).toMatch(/\s+yes\s+yes\s+yes\s+/)
  }, 180_000)

  it('a closed report has no DRAFT; the furniture page has exactly the pages asked for', async () => {
    const pdfPath = join(dir, 'final.pdf')
    await printReport({ printer, parts: [partHtml('A', 3)], pdfPath, draft: false, title: 'Audit 2026Q4' })
    const text = execFileSync('pdftotext', [pdfPath, '-']).toString('utf8')
    expect(text).not.toContain('DRAFT')
    expect(text).toContain('Page 3 of 3')
    const furniture = join(dir, 'furniture.html')
    await writeFile(furniture, renderPageFurnitureHtml(7))
    await printer.print({ htmlPath: furniture, pdfPath: join(dir, 'f.pdf'), draft: false, title: 'x', furniture: true })
    expect(parsePdf(await readFile(join(dir, 'f.pdf'))).pages.length).toBe(7)
  }, 180_000)
})
