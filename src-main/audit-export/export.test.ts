// The audit export on a small seeded quarter, without Chromium: every CSV file is written with units in the
// headers, the tie-out totals equal what the ledger holds (summed here with SQL, independently of the exporter),
// the manifest lists every file's hash, a closed quarter is refused without --draft, and the table checks of
// verify-audit pass on the export and name the file, line and column when a cell is changed.
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { checkTables } from '../../src-shared/audit/export/check-tables'
import { parseCsv } from '../../src-shared/audit/export/csv'
import { parseManifest, sha256Hex } from '../../src-shared/audit/export/manifest'
import { TABLES } from '../../src-shared/audit/export/tables'
import type { ReadTable } from '../../src-shared/audit/export/totals'
import { quarterBounds } from '../../src-shared/audit/types'
import { AuditExportError, exportAudit } from './export'
import { type SeededLedger, seedAuditLedger } from './test-support'

let seeded: SeededLedger
let out: string

async function readTables(dir: string): Promise<Map<string, ReadTable>> {
  const m = new Map<string, ReadTable>()
  for (const t of TABLES) m.set(t.file, { file: t.file, ...parseCsv(await readFile(join(dir, t.file), 'utf8')) })
  return m
}

const summaryOf = async (dir: string) => {
  const s = parseCsv(await readFile(join(dir, 'summary.csv'), 'utf8'))
  return (metric: string, scope = 'total', unit?: string) =>
    s.rows.find((r) => r[0] === metric && r[1] === scope && (unit === undefined || r[2] === unit))?.[3]
}

beforeAll(async () => {
  seeded = await seedAuditLedger({ settlements: 300 })
  out = join(seeded.dataDir, 'export')
  await exportAudit({
    store: seeded.store,
    dataDir: seeded.dataDir,
    quarter: seeded.quarter,
    outDir: out,
    draft: true,
    nowMs: Date.UTC(2026, 11, 2),
    appVersion: '0.1.0-test',
    operatorName: 'Test Operator',
    operatorPubkey: null,
    timeZone: 'Europe/Madrid',
  })
}, 60_000)

afterAll(async () => {
  await seeded?.dispose()
})

describe('audit export (CSV, manifest, HTML)', () => {
  it('writes every table with the units in its header and every file hashed in the manifest', async () => {
    const manifest = parseManifest(await readFile(join(out, 'manifest.json'), 'utf8'))
    expect(manifest.draft).toBe(true)
    expect(manifest.currencies).toEqual(['EUR'])
    for (const t of TABLES) {
      const entry = manifest.files.find((f) => f.name === t.file)
      expect(entry, t.file).toBeDefined()
      const bytes = await readFile(join(out, t.file))
      expect(sha256Hex(bytes)).toBe(entry?.sha256)
    }
    const tx = parseCsv(await readFile(join(out, 'transactions.csv'), 'utf8'))
    expect(tx.header).toContain('amount_msat')
    expect(tx.header).toContain('fiat_minor_EUR')
    expect(tx.header).toContain('commission_fiat_minor_EUR')
    expect(tx.rows.length).toBe(300)
    const html = await readFile(join(out, 'report.html'), 'utf8')
    expect(html).toContain('DRAFT')
    // The tie-out page carries the UI's charts as inline SVG.
    expect(html.match(/<svg/g)?.length).toBe(3)
    expect(html).toContain('Volume per day (EUR)')
    expect(html).toContain(sha256Hex(await readFile(join(out, 'manifest.json'))))
  })

  it('totals equal the ledger summed independently with SQL', async () => {
    const { startMs, endMs } = quarterBounds(seeded.quarter)
    const rows = await seeded.store.query<{ direction: string; n: bigint; wire: bigint; fiat: bigint }>(
      `SELECT direction, COUNT(*) AS n, SUM(wire_msat) AS wire, SUM(fiat_minor) AS fiat FROM acct_settlement
       WHERE status <> 'rejected' AND record_created_at >= ? AND record_created_at < ? GROUP BY direction`,
      [startMs / 1000, endMs / 1000],
      { bigint: true },
    )
    const get = await summaryOf(out)
    for (const r of rows) {
      expect(get(`${r.direction}.count`)).toBe(r.n.toString())
      expect(get(`${r.direction}.amount`)).toBe(r.wire.toString())
      expect(get(`${r.direction}.fiat`, 'total', 'minor_EUR')).toBe(r.fiat.toString())
    }
    expect(get('cash_out.residual')).toBe('0')
    expect(get('cash_in.residual')).toBe('0')
    const rejected = await seeded.store.query<{ n: number }>(
      "SELECT COUNT(*) AS n FROM acct_settlement WHERE status = 'rejected'",
    )
    expect(get('settlements.rejected')).toBe(String(rejected[0]?.n))
    expect(Number(get('payouts.paid.count'))).toBeGreaterThan(0)
  })

  it('the table checks pass on the export', async () => {
    expect(checkTables(await readTables(out))).toEqual([])
  })

  it('a changed amount is named by file, line and column', async () => {
    const tables = await readTables(out)
    const tx = tables.get('transactions.csv') as ReadTable
    const col = tx.header.indexOf('amount_msat')
    const row = tx.rows[41] as string[]
    row[col] = (BigInt(row[col] as string) + 1000n).toString()
    const problems = checkTables(tables)
    expect(problems.length).toBeGreaterThan(0)
    expect(problems).toContainEqual(
      expect.objectContaining({ file: 'transactions.csv', line: 43, column: 'amount_msat' }),
    )
  })

  it('a changed LP balance is named', async () => {
    const tables = await readTables(out)
    const lp = tables.get('lp-statements.csv') as ReadTable
    const col = lp.header.indexOf('balance_after_minor_EUR')
    const row = lp.rows[10] as string[]
    row[col] = (BigInt(row[col] as string) - 1n).toString()
    expect(checkTables(tables)).toContainEqual(
      expect.objectContaining({ file: 'lp-statements.csv', line: 12, column: 'balance_after_minor_EUR' }),
    )
  })

  it('a changed total in summary.csv is named', async () => {
    const tables = await readTables(out)
    const s = tables.get('summary.csv') as ReadTable
    const i = s.rows.findIndex((r) => r[0] === 'cash_out.commission' && r[1] === 'total')
    const row = s.rows[i] as string[]
    row[3] = (BigInt(row[3] as string) + 1n).toString()
    expect(checkTables(tables)).toContainEqual(
      expect.objectContaining({ file: 'summary.csv', line: i + 2, column: 'value' }),
    )
  })

  it('refuses a quarter that is not closed without --draft, and a folder that is not empty', async () => {
    const base = {
      store: seeded.store,
      dataDir: seeded.dataDir,
      quarter: seeded.quarter,
      nowMs: Date.UTC(2026, 11, 2),
      appVersion: 't',
      operatorName: null,
      operatorPubkey: null,
      timeZone: 'UTC',
    }
    await expect(exportAudit({ ...base, outDir: join(seeded.dataDir, 'x1'), draft: false })).rejects.toThrow(
      /not closed yet/,
    )
    await writeFile(join(seeded.dataDir, 'x2-file'), '')
    await expect(exportAudit({ ...base, outDir: out, draft: true })).rejects.toBeInstanceOf(AuditExportError)
  })
})
