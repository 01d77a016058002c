// Done-when of the audit export: a quarter of 10,000 seeded settlements (booked through the real procedures, with
// the real audit log and a console-signed head) exported by `satmachine audit-export --draft` to CSV files and a
// PDF printed by headless Chromium (in parts, joined: src-main/audit-export/print-report.ts); poppler's pdftotext finds the tie-out totals equal to the ledger's own sums
// (SQL over the ledger, not the exporter's code) and DRAFT on every page; pdffonts shows every font embedded;
// `satmachine verify-audit` exits 0 on the export and 1, naming the row, when a CSV cell or a ledger row is changed.
import { execFileSync } from 'node:child_process'
import { cp, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  blankPrinter,
  openAuditLedger,
  type SeededLedger,
  seedAuditLedger,
  signHead,
} from '../../src-main/audit-export/test-support'
import { runAuditExport, runVerifyAudit } from '../../src-main/cli/audit'
import { encodeCsv, parseCsv } from '../../src-shared/audit/export/csv'
import { quarterBounds } from '../../src-shared/audit/types'
import { chromiumMissingReason } from '../support/chromium'
import { editSnapshot } from '../support/ledger-tamper'

const SKIP = chromiumMissingReason()
const NOW = Date.UTC(2026, 11, 2, 12)

function io() {
  const out: string[] = []
  const err: string[] = []
  return { io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) }, out, err }
}

describe.skipIf(SKIP)('audit export of 10,000 settlements to PDF and CSV', () => {
  let s: SeededLedger
  let dir: string
  let pdfText: string

  beforeAll(async () => {
    s = await seedAuditLedger({ settlements: 10_000 })
    await signHead(s, NOW)
    await s.store.close()
    dir = join(s.dataDir, 'export-2026Q3')
    const cli = io()
    const code = await runAuditExport(
      ['--data-dir', s.dataDir, '--quarter', s.quarter, '--out', dir, '--draft'],
      cli.io,
      { openLedger: async () => openAuditLedger(s.dataDir), nowMs: () => NOW },
    )
    expect(cli.err.filter((l) => !/warning/.test(l))).toEqual([])
    expect(code).toBe(0)
    pdfText = execFileSync('pdftotext', ['-layout', join(dir, 'report.pdf'), '-'], {
      maxBuffer: 256 * 1024 * 1024,
    }).toString('utf8')
    s.store = await openAuditLedger(s.dataDir)
  }, 1_200_000)

  afterAll(async () => {
    await s?.dispose()
  })

  it('pdftotext finds the tie-out totals equal to the ledger summed with SQL', async () => {
    const { startMs, endMs } = quarterBounds(s.quarter)
    const where = `s.status <> 'rejected' AND s.record_created_at >= ${startMs / 1000} AND s.record_created_at < ${endMs / 1000}`
    const sums = await s.store.query<{ direction: string; n: bigint; wire: bigint; fiat: bigint; commission: bigint }>(
      `SELECT s.direction, COUNT(*) AS n, SUM(s.wire_msat) AS wire, SUM(s.fiat_minor) AS fiat, SUM(r.commission_msat) AS commission
       FROM acct_settlement s JOIN acct_result r ON r.settlement_id = s.id AND r.generation = s.generation
       WHERE ${where} GROUP BY s.direction`,
      [],
      { bigint: true },
    )
    expect(sums.length).toBe(2)
    const line = (metric: string, unit: string, value: bigint) =>
      new RegExp(`\\b${metric.replaceAll('.', '\\.')}\\s+total\\s+${unit}\\s+${value}\\b`)
    for (const r of sums) {
      expect(pdfText).toMatch(line(`${r.direction}.count`, 'count', r.n))
      expect(pdfText).toMatch(line(`${r.direction}.amount`, 'msat', r.wire))
      expect(pdfText).toMatch(line(`${r.direction}.fiat`, 'minor_EUR', r.fiat))
      expect(pdfText).toMatch(line(`${r.direction}.commission`, 'msat', r.commission))
    }
    const legs = await s.store.query<{ kind: string; msat: bigint }>(
      `SELECT l.kind, SUM(l.msat) AS msat FROM acct_leg l JOIN acct_settlement s ON s.id = l.settlement_id
       WHERE ${where} AND s.direction = 'cash_out' GROUP BY l.kind`,
      [],
      { bigint: true },
    )
    for (const l of legs) expect(pdfText).toMatch(line(`cash_out.legs.${l.kind}`, 'msat', l.msat))
    expect(pdfText).toMatch(line('cash_out.residual', 'msat', 0n))
    expect(pdfText).toMatch(line('cash_in.residual', 'msat', 0n))
    // The manifest hash the attestation would sign is printed.
    const manifestHash = execFileSync('sha256sum', [join(dir, 'manifest.json')])
      .toString()
      .split(' ')[0] as string
    expect(pdfText.replace(/\s+/g, '')).toContain(manifestHash)
  })

  it('every page says DRAFT and has its number; every font is embedded', () => {
    const pages = pdfText.split('\f').filter((p) => p.trim() !== '')
    const info = execFileSync('pdfinfo', [join(dir, 'report.pdf')]).toString()
    const count = Number(/Pages:\s+(\d+)/.exec(info)?.[1])
    expect(count).toBeGreaterThan(100)
    expect(pages.length).toBe(count)
    pages.forEach((p, i) => {
      expect(p, `page ${i + 1}`).toContain('DRAFT')
      expect(p, `page ${i + 1}`).toContain(`Page ${i + 1} of ${count}`)
    })
    const fonts = execFileSync('pdffonts', [join(dir, 'report.pdf')])
      .toString()
      .trim()
      .split('\n')
      .slice(2)
    expect(fonts.length).toBeGreaterThan(0)
    for (const f of fonts) expect(f, f).toMatch(/\s+yes\s+yes\s+yes\s+/)
    // Every section is there.
    for (const title of [
      'Summary and tie-out',
      'Transaction ledger',
      'Payouts register',
      'Statement: Ana',
      'Statement: Beto',
      'Cash reconciliation per machine',
      'Wallet reconciliation',
      'Exceptions',
      'Configuration change log',
      'Appendix A: column dictionary',
      'Appendix D: how to verify this report',
    ])
      expect(pdfText).toContain(title)
  })

  it('verify-audit exits 0 on the export', async () => {
    const v = io()
    const code = await runVerifyAudit([dir, '--allow-draft'], v.io)
    expect(v.err).toEqual([])
    expect(code).toBe(0)
    expect(v.out.join('\n')).toMatch(/all checks hold/)
  }, 600_000)

  it('verify-audit exits 1 naming the row when a CSV cell is changed', async () => {
    const copy = join(s.dataDir, 'tampered-csv')
    await cp(dir, copy, { recursive: true })
    const p = join(copy, 'payouts.csv')
    const csv = parseCsv(await readFile(p, 'utf8'))
    const c = csv.header.indexOf('amount_msat')
    const row = csv.rows[3] as string[]
    row[c] = String(BigInt(row[c] as string) + 1000n)
    await writeFile(p, encodeCsv(csv.header, csv.rows))
    const v = io()
    expect(await runVerifyAudit([copy, '--allow-draft'], v.io)).toBe(1)
    expect(v.err.join('\n')).toContain(`payouts.csv line ${csv.lines[3]}, column amount_msat`)
  }, 600_000)

  it('verify-audit exits 1 naming the row when a ledger row is changed and the quarter exported again', async () => {
    await s.store.snapshot()
    await s.store.close()
    await editSnapshot(join(s.dataDir, 'ledger'), 'UPDATE acct_leg SET msat = msat + 1 WHERE id = 4242')
    const again = join(s.dataDir, 'export-after-edit')
    const cli = io()
    expect(
      await runAuditExport(['--data-dir', s.dataDir, '--quarter', s.quarter, '--out', again, '--draft'], cli.io, {
        openLedger: async () => openAuditLedger(s.dataDir),
        nowMs: () => NOW,
        printer: blankPrinter,
      }),
    ).toBe(0)
    s.store = await openAuditLedger(s.dataDir)
    const legs = parseCsv(await readFile(join(again, 'legs.csv'), 'utf8'))
    const line = legs.lines[legs.rows.findIndex((r) => r[0] === '4242')]
    const v = io()
    expect(await runVerifyAudit([again, '--allow-draft'], v.io)).toBe(1)
    expect(v.err.join('\n')).toContain(`legs.csv line ${line}, column amount_msat`)
  }, 900_000)
})
