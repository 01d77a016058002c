// The audit log inside the ledger (log.ts): a leaf per row version in the same transaction, genesis leaves for rows
// older than the log, the read-only check naming edited rows and fields, and the quarter lock.
import * as fs from 'node:fs'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { rootOf } from '../../src-shared/audit/merkle'
import { decodeEntry, entryHash } from '../../src-shared/audit/types'
import '../ledger/registry'
import { registeredMigrations } from '../ledger/define'
import { openLedgerInProcess } from '../ledger/store'
import type { LedgerStore, TxDb } from '../ledger/types'
import { INLINE_RERECORD_ROWS, type LogCheckResult } from './log'
import { readEntries } from './read'

const dirs: string[] = []
const stores: LedgerStore[] = []
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close().catch(() => {})
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true })
})

async function open(dir?: string) {
  const d = dir ?? mkdtempSync(join(tmpdir(), 'audit-log-'))
  if (!dir) dirs.push(d)
  const s = await openLedgerInProcess({ dir: d, autoSnapshot: false })
  stores.push(s)
  return { dir: d, store: s }
}

const addMachine = (s: LedgerStore, id: string, name: string) =>
  s.transaction([
    {
      sql: 'INSERT INTO acct_machine (id, name, currency, created_at_ms) VALUES (?, ?, ?, ?)',
      params: [id, name, 'EUR', 1_790_000_000_000],
    },
  ])

describe('audit log', () => {
  it('appends one leaf per changed row in the same transaction, and the check finds nothing wrong', async () => {
    const { store } = await open()
    const before = (await readEntries(store)).length
    await addMachine(store, 'm1', 'Lobby')
    await store.transaction([{ sql: "UPDATE acct_machine SET name = 'Front' WHERE id = 'm1'" }])
    const entries = await readEntries(store)
    expect(entries.length).toBe(before + 2)
    const [ins, upd] = entries.slice(-2)
    expect(ins!.entry).toMatchObject({ table: 'acct_machine', op: 'I' })
    expect(upd!.entry.op).toBe('U')
    expect(upd!.entry.columns.find((c) => c.name === 'name')?.value).toBe('Front')
    expect(ins!.entry.columns.map((c) => c.name)).toEqual(['id', 'name', 'currency', 'created_at_ms'])
    for (const e of entries) expect(Buffer.from(entryHash(e.bytes)).equals(Buffer.from(e.hash))).toBe(true)
    const r = await store.call<LogCheckResult>('audit.checkLog', { sizes: [entries.length] })
    expect(r.problems).toEqual([])
    expect(r.size).toBe(entries.length)
    expect(r.roots[String(entries.length)]).toBe(Buffer.from(rootOf(entries.map((e) => e.hash))).toString('hex'))
  })

  it('a journal record edited with its CRC recomputed replays into a row the check names, with the field', async () => {
    const { dir, store } = await open()
    await addMachine(store, 'm1', 'Lobby')
    await store.close()
    const { rewriteJournal } = await import('../../test/support/ledger-tamper')
    rewriteJournal(dir, (entry) => {
      for (const s of entry.stmts) {
        if (s.sql.startsWith('INSERT INTO acct_machine') && Array.isArray(s.params)) {
          ;(s.params as unknown[])[1] = 'Forged'
          return true
        }
      }
      return false
    })
    const again = await open(dir)
    const r = await again.store.call<LogCheckResult>('audit.checkLog', {})
    expect(r.problems).toContainEqual(
      expect.objectContaining({ kind: 'edited', table: 'acct_machine', fields: ['name'] }),
    )
  })

  it('refuses an insert dated inside a closed quarter, naming the column', async () => {
    const { store } = await open()
    await store.transaction([
      {
        sql: `INSERT INTO audit_period (period, start_ms, end_ms, closed_at_ms, closed_by, tree_size, root, ledger_seq,
          head_event_id, head_json, attestation_id, attestation_json) VALUES ('2026Q3', ?, ?, ?, 'op', 0, '', 0, '', '{}', 'a', '{}')`,
        params: [Date.UTC(2026, 6, 1), Date.UTC(2026, 9, 1), Date.UTC(2026, 9, 2)],
      },
    ])
    await expect(
      store.transaction([
        {
          sql: 'INSERT INTO acct_machine (id, name, currency, created_at_ms) VALUES (?, ?, ?, ?)',
          params: ['m9', 'x', 'EUR', Date.UTC(2026, 8, 30)],
        },
      ]),
    ).rejects.toThrow(/acct_machine\.created_at_ms: .*2026Q3, which is closed/)
    await expect(
      store.transaction([
        {
          sql: 'INSERT INTO acct_machine (id, name, currency, created_at_ms) VALUES (?, ?, ?, ?)',
          params: ['m9', 'x', 'EUR', Date.UTC(2026, 9, 3)],
        },
      ]),
    ).resolves.toBeDefined()
  })

  it('records rows older than the log as genesis (M) leaves', async () => {
    const { store } = await open()
    const entries = await readEntries(store)
    // schema_version rows exist before the audit migration ran; each is in the log.
    const sv = entries.filter((e) => e.entry.table === 'schema_version')
    expect(sv.length).toBeGreaterThan(5)
    expect(sv.some((e) => e.entry.op === 'M')).toBe(true)
    expect(decodeEntry(sv[0]!.bytes)).toEqual(sv[0]!.entry)
  })

  it('a migration changing a large table marks it for backfill; batches re-record it and the check holds throughout', async () => {
    const { dir, store } = await open()
    const n = INLINE_RERECORD_ROWS + 500
    const steps = Array.from({ length: n }, (_, i) => ({
      sql: 'INSERT INTO acct_machine (id, name, currency, created_at_ms) VALUES (?, ?, ?, ?)',
      params: [`m${i}`, `machine ${i}`, 'EUR', 1_790_000_000_000 + i],
    }))
    await store.transaction(steps)
    await store.close()
    stores.splice(stores.indexOf(store), 1)
    const addColumn = {
      version: 900_160,
      name: 'test: machine region',
      up: (db: TxDb) => db.run("ALTER TABLE acct_machine ADD COLUMN region TEXT NOT NULL DEFAULT 'north'"),
    }
    const s2 = await openLedgerInProcess({
      dir,
      autoSnapshot: false,
      migrations: [...registeredMigrations(), addColumn],
    })
    stores.push(s2)
    const pending = await s2.query<{ backfill_after: number | null }>(
      "SELECT backfill_after FROM audit_table WHERE name = 'acct_machine' ORDER BY seq DESC LIMIT 1",
    )
    expect(pending[0]!.backfill_after).not.toBeNull()
    expect((await s2.call<LogCheckResult>('audit.checkLog', {})).problems).toEqual([])
    const before = (await readEntries(s2)).length
    const first = await s2.call<{ recorded: number; pending: number }>('audit.backfill', { limit: 2000 })
    expect(first).toEqual({ recorded: 2000, pending: 1 })
    expect((await s2.call<LogCheckResult>('audit.checkLog', {})).problems).toEqual([])
    const second = await s2.call<{ recorded: number; pending: number }>('audit.backfill', { limit: 2000 })
    expect(second).toEqual({ recorded: 500, pending: 0 })
    const entries = await readEntries(s2, { from: before })
    expect(entries.length).toBe(n)
    expect(entries.every((e) => e.entry.op === 'M' && e.entry.columns.at(-1)?.name === 'region')).toBe(true)
    expect((await s2.call<LogCheckResult>('audit.checkLog', {})).problems).toEqual([])
    await s2.snapshot()
    await s2.close()
    stores.splice(stores.indexOf(s2), 1)
    const { editSnapshot } = await import('../../test/support/ledger-tamper')
    await editSnapshot(dir, "UPDATE acct_machine SET region = 'south' WHERE id = 'm2400'")
    const s3 = await openLedgerInProcess({
      dir,
      autoSnapshot: false,
      migrations: [...registeredMigrations(), addColumn],
    })
    stores.push(s3)
    expect((await s3.call<LogCheckResult>('audit.checkLog', {})).problems).toEqual([
      expect.objectContaining({ kind: 'edited', table: 'acct_machine', key: 'id m2400', fields: ['region'] }),
    ])
  })
})
