// The start-up check against deliberate tampering (issue 10 "done when"): a journal record edited with its CRC
// recomputed, the snapshot edited with its sha256 recomputed, the journal cut at a record boundary, a row's bytes
// edited in the stored file — each refused naming the entry or the missing range — and what a crash leaves behind
// (a torn journal tail, unsigned leaf hashes) still opens.
import * as fs from 'node:fs'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { decodeEntry, encodeEntry, entryHash, headTemplate } from '../../src-shared/audit/types'
import { createLogger, type LogRecord } from '../../src-shared/log'
import { cutJournal, editSnapshot, journalRecords, rewriteJournal } from '../../test/support/ledger-tamper'
import { encodeSnapshotHeader, listLedgerDir, parseSnapshot } from '../ledger/files'
import '../ledger/registry'
import { createHash } from 'node:crypto'
import initSqlJs from 'sql.js'
import { verifyHeadEvent } from '../../src-shared/audit/verify'
import { openLedgerInProcess } from '../ledger/store'
import type { LedgerStore } from '../ledger/types'
import { createSoftwareSigner } from '../signer/software-signer'
import { AuditHeadWriter } from './heads'
import { openAuditedDataDir, signHeadNow } from './open'
import { entryCount, leavesFile } from './read'
import { AuditTamperError, checkAuditAtStart } from './start-check'

const dirs: string[] = []
const stores: LedgerStore[] = []
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close().catch(() => {})
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true })
})

const SK = new Uint8Array(32).fill(7)
const signer = createSoftwareSigner(SK)
const T0 = Date.UTC(2026, 10, 2, 12)

function logger() {
  const records: LogRecord[] = []
  return { log: createLogger((r) => records.push(r), 'test'), records }
}

async function openStore(dataDir: string) {
  const s = await openLedgerInProcess({ dir: join(dataDir, 'ledger'), autoSnapshot: false })
  stores.push(s)
  return s
}

function settlementSql(id: number, wire: bigint) {
  return {
    sql: `INSERT INTO acct_settlement (id, payment_hash, machine_id, direction, record_created_at, booked_at_ms, wire_msat,
      fiat_minor, fiat_requested_minor, currency, status, status_changed_at_ms) VALUES (?, ?, 'm1', 'cash_out', ?, ?, ?, 2000, 2000, 'EUR', 'pending', ?)`,
    params: [id, id.toString(16).padStart(64, '0'), 1_790_000_000, T0 + id, wire, T0 + id],
  }
}

/** A data directory with a machine, three settlements (each its own transaction) and a signed head over them. */
async function seeded(opts: { snapshot?: boolean; extraAfterHead?: number } = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), 'audit-start-'))
  dirs.push(dataDir)
  const store = await openStore(dataDir)
  await store.transaction([
    {
      sql: "INSERT INTO acct_machine (id, name, currency, created_at_ms) VALUES ('m1', 'Lobby machine', 'EUR', ?)",
      params: [T0],
    },
  ])
  for (let i = 1; i <= 3; i++) await store.transaction([settlementSql(i, 21_000_000n * BigInt(i))])
  if (opts.snapshot) await store.snapshot()
  const { log } = logger()
  const pk = await signer.getPublicKey()
  const w = await AuditHeadWriter.open({ store, dataDir, log, signer, consolePubkey: pk, nowMs: () => T0 })
  const head = await w.sync()
  for (let i = 0; i < (opts.extraAfterHead ?? 0); i++) await store.transaction([settlementSql(10 + i, 5_000n)])
  await store.close()
  stores.splice(stores.indexOf(store), 1)
  return { dataDir, head: head!, pk }
}

async function startCheck(dataDir: string, extra: Partial<Parameters<typeof checkAuditAtStart>[0]> = {}) {
  const store = await openStore(dataDir)
  const l = logger()
  const run = checkAuditAtStart({ store, dataDir, log: l.log, ...extra })
  return { run, records: l.records, store }
}

async function refusal(dataDir: string, extra: Partial<Parameters<typeof checkAuditAtStart>[0]> = {}) {
  const { run } = await startCheck(dataDir, extra)
  const e = await run.then(
    () => null,
    (x: unknown) => x,
  )
  expect(e).toBeInstanceOf(AuditTamperError)
  return e as AuditTamperError
}

describe('audit start-up check', () => {
  it('passes on an untouched ledger and reports the newest head', async () => {
    const { dataDir, head } = await seeded()
    const { run } = await startCheck(dataDir)
    const r = await run
    expect(r.newest?.event.id).toBe(head.event.id)
    expect(r.size).toBe(head.head.treeSize)
  })

  it('refuses a journal record edited with its CRC recomputed, naming table, id and field', async () => {
    const { dataDir } = await seeded()
    rewriteJournal(dataDir + '/ledger', (entry) => {
      const s = entry.stmts.find(
        (x) => x.sql.includes('INSERT INTO acct_settlement') && Array.isArray(x.params) && x.params[0] === 2,
      )
      if (!s) return false
      ;(s.params as unknown[])[4] = 99_000_000n
      return true
    })
    const e = await refusal(dataDir)
    expect(e.findings).toContainEqual(
      expect.objectContaining({ kind: 'edited', table: 'acct_settlement', key: 'id 2', fields: ['wire_msat'] }),
    )
    expect(e.message).toMatch(/console will not start/)
    expect(e.message).toMatch(/acct_settlement id 2: wire_msat changed after it was recorded/)
  })

  it('refuses a journal record edited together with its audit leaf (CRC recomputed): the leaf is not the one signed', async () => {
    const { dataDir } = await seeded()
    rewriteJournal(dataDir + '/ledger', (entry, seq) => {
      const s = entry.stmts.find(
        (x) => x.sql.includes('INSERT INTO acct_settlement') && Array.isArray(x.params) && x.params[0] === 2,
      )
      if (!s) return false
      ;(s.params as unknown[])[4] = 99_000_000n
      const leaf = entry.stmts.find((x) => x.sql.startsWith('INSERT INTO audit_leaf'))!
      const p = leaf.params as unknown[]
      const old = decodeEntry(p[5] as Uint8Array)
      const forged = encodeEntry({
        ...old,
        seq: String(seq),
        columns: old.columns.map((c) => (c.name === 'wire_msat' ? { name: c.name, value: 99_000_000n } : c)),
      })
      p[5] = forged
      p[6] = entryHash(forged)
      return true
    })
    const e = await refusal(dataDir)
    expect(e.findings).toContainEqual(
      expect.objectContaining({ kind: 'leaf_differs', table: 'acct_settlement', rowid: '2' }),
    )
    expect(e.findings.some((f) => f.kind === 'root_mismatch')).toBe(true)
    expect(e.message).toMatch(/acct_settlement rowid 2, ledger transaction \d+\) is not the entry that was signed/)
  })

  it('refuses the snapshot edited with its sha256 recomputed, naming table, id and field', async () => {
    const { dataDir } = await seeded({ snapshot: true })
    await editSnapshot(join(dataDir, 'ledger'), 'UPDATE acct_settlement SET fiat_minor = 1 WHERE id = 3')
    const e = await refusal(dataDir)
    expect(e.findings).toContainEqual(
      expect.objectContaining({ kind: 'edited', table: 'acct_settlement', key: 'id 3', fields: ['fiat_minor'] }),
    )
  })

  /** Rewrites the newest snapshot's body with `edit` and a recomputed SHA-256. */
  async function editStoredBytes(dataDir: string, edit: (body: Buffer, live: { leaf: Buffer }) => void) {
    const ledgerDir = join(dataDir, 'ledger')
    const snaps = listLedgerDir(ledgerDir).snapshots
    const path = join(ledgerDir, snaps[snaps.length - 1]!.name)
    const parsed = parseSnapshot(fs.readFileSync(path))
    if (!parsed.ok) throw new Error(parsed.reason)
    const body = Buffer.from(parsed.body)
    const SQL = await initSqlJs()
    const db = new SQL.Database(body)
    const leaf = db.exec("SELECT entry FROM audit_leaf WHERE tbl = 'acct_machine' ORDER BY idx DESC LIMIT 1")[0]!
    db.close()
    edit(body, { leaf: Buffer.from(leaf.values[0]![0] as Uint8Array) })
    const digest = createHash('sha256').update(body).digest()
    fs.writeFileSync(path, Buffer.concat([encodeSnapshotHeader(parsed.seq, body.length, digest), body]))
  }

  it('refuses a row whose bytes were edited in the stored file (sha256 recomputed), naming table, key and field', async () => {
    const { dataDir } = await seeded({ snapshot: true })
    await editStoredBytes(dataDir, (body) => {
      // The row's record: id, name and currency stored back to back.
      const at = body.indexOf(Buffer.from('m1Lobby machineEUR'))
      expect(at).toBeGreaterThan(0)
      body.write('m1Lobby mAchineEUR', at, 'latin1')
    })
    const e = await refusal(dataDir)
    expect(e.findings).toEqual([
      expect.objectContaining({ kind: 'edited', table: 'acct_machine', key: 'id m1', fields: ['name'] }),
    ])
    expect(e.message).toMatch(/acct_machine id m1: name changed after it was recorded/)
  })

  it('refuses an audit leaf whose bytes were edited in the stored file', async () => {
    const { dataDir } = await seeded({ snapshot: true })
    await editStoredBytes(dataDir, (body, live) => {
      // Every copy of the leaf's bytes (SQLite may leave a stale copy in a free page), so the live one is hit.
      const name = live.leaf.indexOf(Buffer.from('Lobby machine'))
      let hits = 0
      for (let at = body.indexOf(live.leaf); at >= 0; at = body.indexOf(live.leaf, at + 1)) {
        body.write('Lobby mAchine', at + name, 'latin1')
        hits++
      }
      expect(hits).toBeGreaterThan(0)
    })
    const e = await refusal(dataDir)
    expect(e.findings).toContainEqual(
      expect.objectContaining({
        kind: 'leaf_damaged',
        table: 'acct_machine',
        why: 'its bytes no longer match its stored hash',
      }),
    )
  })

  it('refuses the journal cut at a record boundary, naming the missing range', async () => {
    const { dataDir, head } = await seeded()
    const ledgerDir = join(dataDir, 'ledger')
    cutJournal(ledgerDir, journalRecords(ledgerDir) - 2)
    const e = await refusal(dataDir)
    const f = e.findings.find((x) => x.kind === 'missing_range')
    expect(f).toMatchObject({
      kind: 'missing_range',
      to: head.head.treeSize - 1,
      toSeq: head.head.ledgerSeq,
      source: 'local',
    })
    expect(e.message).toMatch(/audit entries #\d+–#\d+ are missing \(ledger transactions \d+–\d+\)/)
  })

  it('refuses a ledger shorter than the head the relays hold, even when the local audit files were rolled back', async () => {
    const { dataDir, head } = await seeded()
    const ledgerDir = join(dataDir, 'ledger')
    cutJournal(ledgerDir, journalRecords(ledgerDir) - 1)
    fs.rmSync(join(dataDir, 'audit'), { recursive: true })
    const e = await refusal(dataDir, { remoteHeads: [head] })
    expect(e.findings).toContainEqual(expect.objectContaining({ kind: 'missing_range', source: 'relay' }))
  })

  it('names receipts the relays hold from this console that the ledger lacks', async () => {
    const { dataDir } = await seeded()
    const id = 'ab'.repeat(32)
    const e = await refusal(dataDir, { publishedReceipts: [{ eventId: id, paymentHash: 'cd'.repeat(32) }] })
    expect(e.findings).toEqual([{ kind: 'missing_receipt', eventId: id, paymentHash: 'cd'.repeat(32) }])
    expect(e.message).toMatch(new RegExp(`receipt ${id} for payment ${'cd'.repeat(32)} was published`))
  })

  it('refuses a head signed by another key', async () => {
    const { dataDir, head } = await seeded()
    const other = createSoftwareSigner(new Uint8Array(32).fill(9))
    const ev = await other.signEvent(headTemplate(head.head))
    const e = await refusal(dataDir, { remoteHeads: [{ head: head.head, event: ev }] })
    expect(e.findings[0]).toMatchObject({ kind: 'foreign_head', source: 'relay' })
  })

  it('recovers what a crash leaves: a torn journal tail, a torn leaf hash, unsigned hashes beyond the newest head', async () => {
    const { dataDir, head } = await seeded({ extraAfterHead: 1 })
    const ledgerDir = join(dataDir, 'ledger')
    // The writer appended the extra entry's hash to leaves.bin and crashed before signing a head over it …
    const s = await openStore(dataDir)
    const { hashes } = await s.call<{ hashes: Uint8Array }>('audit.leafHashes', {
      from: head.head.treeSize,
      to: head.head.treeSize + 1,
    })
    await s.close()
    stores.splice(stores.indexOf(s), 1)
    fs.appendFileSync(leavesFile(dataDir), hashes)
    fs.appendFileSync(leavesFile(dataDir), Buffer.alloc(5, 1))
    // … and the ledger lost that unsigned transaction, plus a torn record after it.
    cutJournal(ledgerDir, journalRecords(ledgerDir) - 1)
    const js = listLedgerDir(ledgerDir).journals
    fs.appendFileSync(join(ledgerDir, js[js.length - 1]!.name), Buffer.from([40, 0, 0, 0, 1, 2, 3]))
    const { run, records } = await startCheck(dataDir)
    const r = await run
    expect(r.size).toBe(head.head.treeSize)
    expect(r.droppedUnsigned).toBe(1)
    expect(records.some((x) => x.msg === 'audit leaves file: torn last hash dropped')).toBe(true)
    expect(records.some((x) => x.msg === 'audit: unsigned leaf hashes beyond the ledger dropped')).toBe(true)
    expect(fs.statSync(leavesFile(dataDir)).size).toBe(32 * head.head.treeSize)
  })

  it('refuses unsigned leaf hashes that differ from the ledger (no crash writes those)', async () => {
    const { dataDir, head } = await seeded({ extraAfterHead: 1 })
    fs.appendFileSync(leavesFile(dataDir), Buffer.alloc(32, 1))
    const e = await refusal(dataDir)
    expect(e.findings).toEqual([expect.objectContaining({ kind: 'leaf_differs', index: head.head.treeSize })])
  })

  it('a stopped console: openAuditedDataDir checks and opens, signHeadNow signs a verifiable head over the whole log', async () => {
    const { dataDir, pk } = await seeded({ extraAfterHead: 2 })
    const d = await openAuditedDataDir(dataDir)
    try {
      const h = await signHeadNow({ store: d.store, dataDir, signer, nowMs: () => T0 + 5_000 })
      expect(h.head.treeSize).toBe(await entryCount(d.store))
      expect(verifyHeadEvent(h.event, pk)).toMatchObject({ treeSize: h.head.treeSize, consolePubkey: pk })
      expect(() => verifyHeadEvent(h.event, 'ab'.repeat(32))).toThrow(/pubkey: the head is signed by/)
      expect(() => verifyHeadEvent({ ...h.event, content: h.event.content.replace('"v":1', '"v":2') })).toThrow(/^id:/)
    } finally {
      await d.close()
    }
    const again = await openAuditedDataDir(dataDir)
    expect(again.report.newest?.head.treeSize).toBe(again.report.size)
    await again.close()
  })
})
