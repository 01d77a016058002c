// verify-audit on real exports of a seeded quarter with the real audit log: a draft export against a console-signed
// head, and a closed quarter with the operator's attestation over the manifest. It passes on the untouched export
// and fails — naming the file, the line and the column — when a CSV cell, an entry of the audit log, or a ledger row
// in the data directory (snapshot edited, export made again) is changed.
import { cp, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { problemText } from '../../src-shared/audit/export/check-tables'
import { encodeCsv, parseCsv } from '../../src-shared/audit/export/csv'
import { editSnapshot } from '../../test/support/ledger-tamper'
import { exportAudit } from './export'
import { closeSeededQuarter, OPERATOR_PUBKEY, type SeededLedger, seedAuditLedger, signHead } from './test-support'
import { verifyAuditExport } from './verify'

const NOW = Date.UTC(2026, 11, 2, 12)
const base = {
  appVersion: '0.1.0-test',
  operatorName: 'Test Operator',
  operatorPubkey: OPERATOR_PUBKEY,
  timeZone: 'UTC',
}
let seeded: SeededLedger
let draftDir: string

const texts = (r: { problems: Parameters<typeof problemText>[0][] }) => r.problems.map(problemText)

async function editCsv(
  dir: string,
  file: string,
  row: number,
  column: string,
  f: (v: string) => string,
): Promise<number> {
  const p = join(dir, file)
  const csv = parseCsv(await readFile(p, 'utf8'))
  const c = csv.header.indexOf(column)
  const r = csv.rows[row] as string[]
  r[c] = f(r[c] as string)
  await writeFile(p, encodeCsv(csv.header, csv.rows))
  return csv.lines[row] as number
}

beforeAll(async () => {
  seeded = await seedAuditLedger({ settlements: 300 })
  await signHead(seeded, NOW)
  draftDir = join(seeded.dataDir, 'draft')
  await exportAudit({
    ...base,
    store: seeded.store,
    dataDir: seeded.dataDir,
    quarter: seeded.quarter,
    outDir: draftDir,
    draft: true,
    nowMs: NOW,
  })
}, 120_000)

afterAll(async () => {
  await seeded?.dispose()
})

describe('verify-audit on a draft export', () => {
  it('passes with --allow-draft: hashes, head signature, Merkle root, rows, receipts and totals', async () => {
    const r = await verifyAuditExport({ dir: draftDir, allowDraft: true })
    expect(texts(r)).toEqual([])
    expect(r.ok).toBe(true)
    expect(r.passed.join('\n')).toMatch(/rebuild the signed root/)
  })

  it('refuses a draft without --allow-draft', async () => {
    const r = await verifyAuditExport({ dir: draftDir, allowDraft: false })
    expect(r.ok).toBe(false)
    expect(texts(r).join('\n')).toMatch(/manifest.json, column draft: this is a DRAFT/)
  })

  it('names the row when a CSV cell is changed', async () => {
    const dir = join(seeded.dataDir, 'tamper-csv')
    await cp(draftDir, dir, { recursive: true })
    const line = await editCsv(dir, 'transactions.csv', 57, 'fiat_minor_EUR', (v) => String(BigInt(v) + 100n))
    const r = await verifyAuditExport({ dir, allowDraft: true })
    expect(r.ok).toBe(false)
    const all = texts(r).join('\n')
    expect(all).toMatch(/transactions.csv, column sha256: SHA-256 is/)
    expect(all).toContain(`transactions.csv line ${line}, column fiat_minor_EUR`)
  })

  it('names the row when a leg cell is changed, even with the manifest hash updated to match', async () => {
    const dir = join(seeded.dataDir, 'tamper-leg')
    await cp(draftDir, dir, { recursive: true })
    const line = await editCsv(dir, 'legs.csv', 20, 'amount_msat', (v) => String(BigInt(v) - 1n))
    const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8'))
    const { sha256Hex } = await import('../../src-shared/audit/export/manifest')
    const bytes = await readFile(join(dir, 'legs.csv'))
    for (const f of manifest.files)
      if (f.name === 'legs.csv') Object.assign(f, { sha256: sha256Hex(bytes), bytes: bytes.length })
    await writeFile(join(dir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`)
    const r = await verifyAuditExport({ dir, allowDraft: true })
    expect(r.ok).toBe(false)
    expect(texts(r).join('\n')).toContain(`legs.csv line ${line}, column amount_msat`)
  })

  it('names the entry and the row when an entry of the audit log is changed', async () => {
    const dir = join(seeded.dataDir, 'tamper-log')
    await cp(draftDir, dir, { recursive: true })
    const log = new Uint8Array(await readFile(join(dir, 'audit-log.bin')))
    // Find a settlement entry's wire_msat value and change one digit (same length, so the framing still holds).
    const text = Buffer.from(log).toString('latin1')
    const at = text.indexOf('wire_msat')
    expect(at).toBeGreaterThan(0)
    const digit = at + 'wire_msat'.length + 1 + 4 // tag byte, then the u32 length, then the decimal
    log[digit] = log[digit] === 0x31 ? 0x32 : 0x31
    await writeFile(join(dir, 'audit-log.bin'), log)
    const r = await verifyAuditExport({ dir, allowDraft: true })
    expect(r.ok).toBe(false)
    const all = texts(r).join('\n')
    expect(all).toMatch(/audit-log.bin: the entries hash to root [0-9a-f]{64}; the signed head says/)
    expect(all).toMatch(
      /transactions.csv line \d+, column amount_msat: is '\d+'; the signed log \(entry \d+, acct_settlement.wire_msat\)/,
    )
  })
})

describe('verify-audit after a ledger row is edited in the data directory', () => {
  it('names the settlement row whose amount no longer matches the signed log', async () => {
    const s = await seedAuditLedger({ settlements: 60 })
    try {
      await signHead(s, NOW)
      await s.store.snapshot()
      await s.store.close()
      await editSnapshot(
        join(s.dataDir, 'ledger'),
        'UPDATE acct_settlement SET wire_msat = wire_msat + 5000 WHERE id = 17',
      )
      await s.reopen()
      const dir = join(s.dataDir, 'after-edit')
      await exportAudit({
        ...base,
        store: s.store,
        dataDir: s.dataDir,
        quarter: s.quarter,
        outDir: dir,
        draft: true,
        nowMs: NOW,
      })
      const r = await verifyAuditExport({ dir, allowDraft: true })
      expect(r.ok).toBe(false)
      const tx = parseCsv(await readFile(join(dir, 'transactions.csv'), 'utf8'))
      const line = tx.lines[tx.rows.findIndex((row) => row[0] === '17')]
      expect(texts(r).join('\n')).toContain(`transactions.csv line ${line}, column amount_msat`)
    } finally {
      await s.dispose()
    }
  }, 120_000)
})

describe('verify-audit on a closed quarter', () => {
  it('the attestation signs the manifest; the export made after close verifies without --allow-draft', async () => {
    const s = await seedAuditLedger({ settlements: 120 })
    try {
      const { manifestSha256 } = await closeSeededQuarter(s, NOW, base)
      const dir = join(s.dataDir, 'closed')
      const r0 = await exportAudit({
        ...base,
        store: s.store,
        dataDir: s.dataDir,
        quarter: s.quarter,
        outDir: dir,
        draft: false,
        nowMs: NOW + 60_000,
      })
      expect(r0.manifestSha256).toBe(manifestSha256)
      const r = await verifyAuditExport({ dir, allowDraft: false })
      expect(texts(r)).toEqual([])
      expect(r.passed.join('\n')).toMatch(/attestation [0-9a-f]{64} signed by the operator key over this manifest/)
      // A changed attestation is refused naming it.
      const att = JSON.parse(await readFile(join(dir, 'attestation.json'), 'utf8'))
      att.content = att.content.replace('"closed_at_ms":', '"closed_at_ms":1')
      await writeFile(join(dir, 'attestation.json'), JSON.stringify(att))
      const bad = await verifyAuditExport({ dir, allowDraft: false })
      expect(texts(bad).join('\n')).toMatch(/^attestation.json line 1/m)
    } finally {
      await s.dispose()
    }
  }, 120_000)
})
