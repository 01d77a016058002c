// The report printed in parts (docs/audit-export.md "The report"): a small quarter exported twice by the real
// exporter and headless Chromium — once as a single print job, once cut into parts of 60 table rows — gives the
// same files (manifest.json byte for byte) and, in the PDF as poppler's pdftotext reads it, the same tie-out lines
// (equal to summary.csv), every settlement of the ledger in order, continuous "Page N of M" and DRAFT on every page,
// and every font embedded.
import { execFileSync } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type ExportResult, exportAudit } from '../../src-main/audit-export/export'
import { chromiumPrinter } from '../../src-main/audit-export/pdf'
import { type SeededLedger, seedAuditLedger, signHead } from '../../src-main/audit-export/test-support'
import { parseCsv } from '../../src-shared/audit/export/csv'
import { chromiumMissingReason } from '../support/chromium'

const SKIP = chromiumMissingReason()
const NOW = Date.UTC(2026, 11, 2, 12)
const SETTLEMENTS = 400

interface Printed {
  result: ExportResult
  dir: string
  text: string
  pages: string[]
  count: number
}

describe.skipIf(SKIP)('a report printed in parts equals the report printed whole', () => {
  let s: SeededLedger
  let whole: Printed
  let parts: Printed

  const run = async (name: string, rowsPerPart: number): Promise<Printed> => {
    const dir = join(s.dataDir, name)
    const result = await exportAudit({
      store: s.store,
      dataDir: s.dataDir,
      quarter: s.quarter,
      outDir: dir,
      draft: true,
      nowMs: NOW,
      appVersion: 'test',
      operatorName: 'Test Operator',
      operatorPubkey: null,
      timeZone: 'UTC',
      printer: await chromiumPrinter(),
      rowsPerPart,
    })
    const pdf = join(dir, 'report.pdf')
    const text = execFileSync('pdftotext', ['-layout', pdf, '-'], { maxBuffer: 64 << 20 }).toString('utf8')
    const count = Number(/Pages:\s+(\d+)/.exec(execFileSync('pdfinfo', [pdf]).toString())?.[1])
    return { result, dir, text, pages: text.split('\f').slice(0, count), count }
  }

  beforeAll(async () => {
    s = await seedAuditLedger({ settlements: SETTLEMENTS })
    await signHead(s, NOW)
    await s.reopen()
    whole = await run('whole', 1_000_000)
    parts = await run('parts', 60)
  }, 900_000)

  afterAll(async () => {
    await s?.dispose()
  })

  it('prints in many parts, and the files are the same', async () => {
    expect(whole.result.pdf?.parts).toBe(1)
    expect(parts.result.pdf?.parts).toBeGreaterThan(8)
    expect(await readFile(join(parts.dir, 'manifest.json'), 'utf8')).toBe(
      await readFile(join(whole.dir, 'manifest.json'), 'utf8'),
    )
  })

  it('each PDF has continuous page numbers, DRAFT on every page and every font embedded', () => {
    for (const p of [whole, parts]) {
      expect(p.result.pdf?.pages).toBe(p.count)
      expect(p.count).toBeGreaterThan(5)
      p.pages.forEach((page, i) => {
        expect(page, `page ${i + 1}`).toContain(`Page ${i + 1} of ${p.count}`)
        expect(page, `page ${i + 1}`).toContain('DRAFT')
      })
      const fonts = execFileSync('pdffonts', [join(p.dir, 'report.pdf')])
        .toString()
        .trim()
        .split('\n')
        .slice(2)
      expect(fonts.length).toBeGreaterThan(0)
      for (const f of fonts) expect(f, f).toMatch(/\s+yes\s+yes\s+yes\s+/)
    }
  })

  it('the tie-out lines are the same in both and equal summary.csv', async () => {
    const summary = parseCsv(await readFile(join(whole.dir, 'summary.csv'), 'utf8'))
    const expected = summary.rows.map((r) => r.slice(0, 4).join(' '))
    expect(expected.length).toBeGreaterThan(20)
    const tieOut = (text: string) =>
      [
        ...text.matchAll(
          /^\s*((?:cash_out|cash_in|payouts|operator|lps|settlements)\.\S+)\s+(\S+)\s+(\S+)\s+(-?\d+)\b/gm,
        ),
      ]
        .map((m) => m.slice(1, 5).join(' '))
        .sort()
    expect(tieOut(parts.text)).toEqual(tieOut(whole.text))
    expect(tieOut(parts.text)).toEqual([...expected].sort())
  })

  it('every settlement is in the transaction ledger, in order, with the parts marked as continued', () => {
    const tx = (t: string) => {
      const from = t.indexOf('Transaction ledger')
      const to = t.indexOf('Payouts register')
      return [...t.slice(from, to).matchAll(/^\s*(\d+)\s+2026-\d\d-\d\dT/gm)].map((m) => Number(m[1]))
    }
    const ids = tx(parts.text)
    expect(ids.length).toBe(parts.result.settlements)
    expect(ids).toEqual(tx(whole.text))
    expect(ids).toEqual([...ids].sort((a, b) => a - b))
    expect(parts.text).toContain(`Transaction ledger, continued: rows 61–120 of ${parts.result.settlements}`)
  })
})
