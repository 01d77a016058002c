// The start-up check's checkpoint (docs/audit.md §7 "Checkpoint"): after a passing check the next start checks only
// what the journal added since the verified snapshot, and stays sound: an edit of a journal record after the
// checkpoint is refused naming the entry, a snapshot edited with its sha256 recomputed is refused although the old
// checkpoint is valid (the full check runs), a forged checkpoint is ignored (full check), a rewritten snapshot
// (compaction) or a migration sends the check back to full, and a journal cut after the checkpoint names the range.
import * as fs from 'node:fs'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { createLogger, type LogRecord } from '../../src-shared/log'
import { cutJournal, editSnapshot, journalRecords, rewriteJournal } from '../../test/support/ledger-tamper'
import '../ledger/registry'
import { openLedgerInProcess } from '../ledger/store'
import type { LedgerStore } from '../ledger/types'
import { createSoftwareSigner } from '../signer/software-signer'
import { checkpointFile, checkpointKey, readCheckpoint, writeCheckpoint } from './checkpoint'
import { AuditHeadWriter } from './heads'
import { AuditTamperError, checkAuditAtStart } from './start-check'

const dirs: string[] = []
const stores: LedgerStore[] = []
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close().catch(() => {})
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true })
})

const SK = new Uint8Array(32).fill(7)
const KEY = checkpointKey(SK)
const signer = createSoftwareSigner(SK)
const T0 = Date.UTC(2026, 10, 2, 12)

async function openStore(dataDir: string) {
  const s = await openLedgerInProcess({ dir: join(dataDir, 'ledger'), autoSnapshot: false })
  stores.push(s)
  return s
}

async function closeStore(s: LedgerStore) {
  await s.close()
  stores.splice(stores.indexOf(s), 1)
}

function settlementSql(id: number, wire: bigint) {
  return {
    sql: `INSERT INTO acct_settlement (id, payment_hash, machine_id, direction, record_created_at, booked_at_ms, wire_msat,
      fiat_minor, fiat_requested_minor, currency, status, status_changed_at_ms) VALUES (?, ?, 'm1', 'cash_out', ?, ?, ?, 2000, 2000, 'EUR', 'pending', ?)`,
    params: [id, id.toString(16).padStart(64, '0'), 1_790_000_000, T0 + id, wire, T0 + id],
  }
}

/** Books settlements `ids` (one transaction each) and signs a head over the log. */
async function book(dataDir: string, ids: number[], opts: { snapshot?: boolean; machine?: boolean; at?: number } = {}) {
  const store = await openStore(dataDir)
  if (opts.machine) {
    await store.transaction([
      {
        sql: "INSERT INTO acct_machine (id, name, currency, created_at_ms) VALUES ('m1', 'Lobby machine', 'EUR', ?)",
        params: [T0],
      },
    ])
  }
  for (const i of ids) await store.transaction([settlementSql(i, 21_000_000n * BigInt(i))])
  if (opts.snapshot) await store.snapshot()
  const log = createLogger(() => {}, 'test')
  const w = await AuditHeadWriter.open({
    store,
    dataDir,
    log,
    signer,
    consolePubkey: await signer.getPublicKey(),
    nowMs: () => opts.at ?? T0,
  })
  await w.sync()
  await closeStore(store)
}

/** A data directory whose ledger has a snapshot holding a machine and three settlements, and a signed head. */
async function seeded() {
  const dataDir = mkdtempSync(join(tmpdir(), 'audit-cp-'))
  dirs.push(dataDir)
  await book(dataDir, [1, 2, 3], { snapshot: true, machine: true })
  return dataDir
}

async function start(dataDir: string, key: Uint8Array | null = KEY) {
  const store = await openStore(dataDir)
  const records: LogRecord[] = []
  const log = createLogger((r) => records.push(r), 'test')
  try {
    const report = await checkAuditAtStart({ store, dataDir, log, checkpointKey: key, nowMs: () => T0 })
    return { report, records, error: null as AuditTamperError | null }
  } catch (e) {
    if (!(e instanceof AuditTamperError)) throw e
    return { report: null, records, error: e }
  } finally {
    await closeStore(store)
  }
}

const fullReasons = (records: LogRecord[]) =>
  records.filter((r) => r.msg === 'audit: full start-up check').map((r) => r.fields.reason)

describe('audit start-up checkpoint', () => {
  it('records a checkpoint after a full check; the next start checks only what the journal added', async () => {
    const dataDir = await seeded()
    const first = await start(dataDir)
    expect(first.report).toMatchObject({ mode: 'full', fullBecause: 'checkpoint no checkpoint yet' })
    expect(first.report?.checkpointWritten).toBe(true)
    const cp = readCheckpoint(dataDir, KEY)
    expect(cp.ok).toBe(true)
    await book(dataDir, [4, 5], { at: T0 + 10_000 })
    const second = await start(dataDir)
    expect(second.error).toBeNull()
    expect(second.report).toMatchObject({ mode: 'incremental', fullBecause: null })
    expect(second.report?.newest?.head.treeSize).toBe(second.report?.size)
    // Without the key (no console key in the secret store yet) the check is the full one and writes nothing.
    fs.rmSync(checkpointFile(dataDir))
    const keyless = await start(dataDir, null)
    expect(keyless.report).toMatchObject({ mode: 'full', checkpointWritten: false })
    expect(fs.existsSync(checkpointFile(dataDir))).toBe(false)
  })

  it('refuses a journal record edited after the checkpoint (CRC recomputed), naming table, id and field', async () => {
    const dataDir = await seeded()
    expect((await start(dataDir)).report?.checkpointWritten).toBe(true)
    await book(dataDir, [4, 5], { at: T0 + 10_000 })
    rewriteJournal(join(dataDir, 'ledger'), (entry) => {
      const s = entry.stmts.find(
        (x) => x.sql.includes('INSERT INTO acct_settlement') && Array.isArray(x.params) && x.params[0] === 5,
      )
      if (!s) return false
      ;(s.params as unknown[])[4] = 99_000_000n
      return true
    })
    const r = await start(dataDir)
    expect(fullReasons(r.records)).toEqual([])
    expect(r.error?.findings).toContainEqual(
      expect.objectContaining({ kind: 'edited', table: 'acct_settlement', key: 'id 5', fields: ['wire_msat'] }),
    )
    expect(r.error?.message).toMatch(/acct_settlement id 5: wire_msat changed after it was recorded/)
  })

  it('refuses a journal statement added after the checkpoint that changes an older row without an entry', async () => {
    const dataDir = await seeded()
    await start(dataDir)
    await book(dataDir, [4], { at: T0 + 10_000 })
    rewriteJournal(join(dataDir, 'ledger'), (entry) => {
      const booking = entry.stmts.find((x) => x.sql.includes('INSERT INTO acct_settlement'))
      if (!booking || !Array.isArray(booking.params) || booking.params[0] !== 4) return false
      entry.stmts.push({ sql: "UPDATE acct_machine SET name = 'Back office' WHERE id = 'm1'", params: [], changes: 1 })
      return true
    })
    const r = await start(dataDir)
    expect(fullReasons(r.records)).toEqual([])
    expect(r.error?.findings).toContainEqual(
      expect.objectContaining({ kind: 'edited', table: 'acct_machine', key: 'id m1', fields: ['name'] }),
    )
  })

  it('refuses the snapshot edited with its sha256 recomputed although the old checkpoint is valid', async () => {
    const dataDir = await seeded()
    await start(dataDir)
    expect(readCheckpoint(dataDir, KEY).ok).toBe(true)
    await editSnapshot(join(dataDir, 'ledger'), 'UPDATE acct_settlement SET fiat_minor = 1 WHERE id = 3')
    const r = await start(dataDir)
    expect(fullReasons(r.records)).toEqual(['the ledger opened from another snapshot than the checkpoint'])
    expect(r.error?.findings).toContainEqual(
      expect.objectContaining({ kind: 'edited', table: 'acct_settlement', key: 'id 3', fields: ['fiat_minor'] }),
    )
  })

  it('ignores a forged checkpoint (the full check runs) and refuses the edit it tried to hide', async () => {
    const dataDir = await seeded()
    await start(dataDir)
    const good = readCheckpoint(dataDir, KEY)
    if (!good.ok) throw new Error(good.why)
    await editSnapshot(join(dataDir, 'ledger'), 'UPDATE acct_settlement SET fiat_minor = 1 WHERE id = 2')
    // The forger recomputes everything but holds only a guessed key, not the console key.
    const { snapshots } = (await import('../ledger/files')).listLedgerDir(join(dataDir, 'ledger'))
    const file = fs.readFileSync(join(dataDir, 'ledger', snapshots[snapshots.length - 1]!.name))
    writeCheckpoint(dataDir, checkpointKey(new Uint8Array(32).fill(9)), {
      ...good.cp,
      snapshotSha256: file.subarray(32, 64).toString('hex'),
    })
    const r = await start(dataDir)
    expect(fullReasons(r.records)).toEqual(['checkpoint its MAC does not verify'])
    expect(r.error?.findings).toContainEqual(
      expect.objectContaining({ kind: 'edited', table: 'acct_settlement', key: 'id 2', fields: ['fiat_minor'] }),
    )
    // A damaged checkpoint on an untouched ledger: the full check runs and passes, and a good checkpoint replaces it.
    const clean = await seeded()
    await start(clean)
    fs.writeFileSync(checkpointFile(clean), '{"v":1}')
    const again = await start(clean)
    expect(again.report).toMatchObject({ mode: 'full', fullBecause: 'checkpoint not a checkpoint of version 1' })
    expect(again.report?.checkpointWritten).toBe(true)
    expect((await start(clean)).report?.mode).toBe('incremental')
  })

  it('a snapshot rewritten after the checkpoint (compaction) and a journal cut after it', async () => {
    const dataDir = await seeded()
    await start(dataDir)
    // Compaction: a new snapshot; the checkpoint names the old one, so the full check runs and records a new one.
    await book(dataDir, [4], { snapshot: true, at: T0 + 10_000 })
    const r = await start(dataDir)
    expect(r.report).toMatchObject({
      mode: 'full',
      fullBecause: 'the ledger opened from another snapshot than the checkpoint',
    })
    expect(r.report?.checkpointWritten).toBe(true)
    // A journal cut at a record boundary after that checkpoint: the incremental check names the missing range.
    await book(dataDir, [5, 6], { at: T0 + 20_000 })
    const ledgerDir = join(dataDir, 'ledger')
    cutJournal(ledgerDir, journalRecords(ledgerDir) - 1)
    const cut = await start(dataDir)
    expect(fullReasons(cut.records)).toEqual([])
    expect(cut.error?.findings).toContainEqual(expect.objectContaining({ kind: 'missing_range', source: 'local' }))
  })

  it('an edit of leaves.bin inside the checkpoint sends the check back to full, which names the entry', async () => {
    const dataDir = await seeded()
    await start(dataDir)
    const path = join(dataDir, 'audit', 'leaves.bin')
    const b = fs.readFileSync(path)
    b[40] = b[40]! ^ 1
    fs.writeFileSync(path, b)
    const r = await start(dataDir)
    expect(fullReasons(r.records)).toEqual(['audit/leaves.bin no longer starts with the hashes the checkpoint covers'])
    expect(r.error?.findings).toContainEqual(expect.objectContaining({ kind: 'leaf_differs', index: 1 }))
  })
})
