// Deliberate tampering with a closed ledger directory, the way someone with write access to the data directory would
// do it: rewrite a journal record and recompute its CRC-32, rewrite a snapshot and recompute its SHA-256, cut the
// journal at a record boundary. The audit start-up check must refuse each (src-main/audit/start-check.ts).
import { createHash } from 'node:crypto'
import * as fs from 'node:fs'
import { join } from 'node:path'
import initSqlJs from 'sql.js'
import { encodeSnapshotHeader, listLedgerDir, parseSnapshot } from '../../src-main/ledger/files'
import {
  decodePayload,
  encodePayload,
  encodeRecord,
  type JournalEntry,
  scanJournal,
} from '../../src-main/ledger/journal'

/**
 * Rewrites the first journal record (oldest journal first) for which `edit` returns true, re-framing it with a
 * correct CRC. Returns the seq it changed; throws when no record matched.
 */
export function rewriteJournal(dir: string, edit: (entry: JournalEntry, seq: number) => boolean): number {
  for (const j of listLedgerDir(dir).journals) {
    const path = join(dir, j.name)
    const buf = fs.readFileSync(path)
    const scan = scanJournal(buf, path, j.start)
    for (let i = 0; i < scan.records.length; i++) {
      const rec = scan.records[i]!
      const entry = decodePayload(rec.payload)
      if (!edit(entry, rec.seq)) continue
      const framed = encodeRecord(rec.seq, encodePayload(entry))
      const end = i + 1 < scan.records.length ? scan.records[i + 1]!.offset : scan.goodEnd
      fs.writeFileSync(path, Buffer.concat([buf.subarray(0, rec.offset), framed, buf.subarray(end)]))
      return rec.seq
    }
  }
  throw new Error('no journal record matched')
}

/** Cuts the newest journal after its first `keep` records (a clean record boundary). Returns the records removed. */
export function cutJournal(dir: string, keep: number): number {
  const js = listLedgerDir(dir).journals
  const j = js[js.length - 1]!
  const path = join(dir, j.name)
  const buf = fs.readFileSync(path)
  const scan = scanJournal(buf, path, j.start)
  if (keep >= scan.records.length) throw new Error('nothing to cut')
  fs.truncateSync(path, scan.records[keep]!.offset)
  return scan.records.length - keep
}

/** Records in the newest journal. */
export function journalRecords(dir: string): number {
  const js = listLedgerDir(dir).journals
  const j = js[js.length - 1]!
  const path = join(dir, j.name)
  return scanJournal(fs.readFileSync(path), path, j.start).records.length
}

/**
 * Opens the newest snapshot as an SQLite database, runs `sql` on it with every trigger dropped first (so even the
 * append-only guards do not stop the edit) and writes it back with a recomputed SHA-256.
 */
export async function editSnapshot(dir: string, sql: string): Promise<string> {
  const snaps = listLedgerDir(dir).snapshots
  const s = snaps[snaps.length - 1]
  if (!s) throw new Error('no snapshot')
  const path = join(dir, s.name)
  const parsed = parseSnapshot(fs.readFileSync(path))
  if (!parsed.ok) throw new Error(parsed.reason)
  const SQL = await initSqlJs()
  const db = new SQL.Database(parsed.body)
  const triggers = db.exec("SELECT name FROM sqlite_master WHERE type = 'trigger'")[0]?.values ?? []
  for (const [name] of triggers) db.exec(`DROP TRIGGER "${String(name)}"`)
  db.exec(sql)
  const body = db.export()
  db.close()
  const digest = createHash('sha256').update(body).digest()
  fs.writeFileSync(path, Buffer.concat([encodeSnapshotHeader(parsed.seq, body.length, digest), body]))
  return path
}
