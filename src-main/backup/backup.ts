// Ledger backup and restore (docs/settings.md "Backup and restore").
//
// Backup: the ledger is asked for a snapshot first, so the copy starts from a complete export; then the newest
// snapshot file and the journal records after it are copied into a new folder inside the one the operator chose.
// Journal files are copied only up to their last whole record, so the copy is consistent at one committed
// transaction even while the console keeps booking. `manifest.json` lists every file with its size and SHA-256
// and is written last (its presence means the copy is complete). The settings file is copied beside it.
//
// Restore is verified before anything is replaced: the manifest must list exactly the files present, every hash
// must match, and a scratch copy must open as a ledger (snapshot checksum, journal CRCs, migrations) at the seq the
// manifest names, with SQLite's integrity and foreign-key checks clean. Only then is the backup staged in
// `restore-pending/` of the data directory. The running ledger cannot be swapped under the services that hold it,
// so the swap happens at the next start (`applyPendingRestore`, called before the ledger opens): the current
// ledger directory is renamed aside (`ledger-before-restore-<time>`), never deleted.
import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { cp, mkdir, open, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises'
import { basename, join, resolve } from 'node:path'
import type { BackupFileView, BackupView, RestoreView } from '../../src-shared/ipc/settings-screen'
import type { Logger } from '../../src-shared/log'
import { fsyncDir, listLedgerDir, parseSnapshot } from '../ledger/files'
import { scanJournal } from '../ledger/journal'
import '../ledger/registry'
import { bytesToHex } from '@noble/hashes/utils.js'
import { MerkleFrontier } from '../../src-shared/audit/merkle'
import type { Signer } from '../../src-shared/signer'
import { dropCheckpoint } from '../audit/checkpoint'
import { recordRollback } from '../audit/rollback'
import { openLedgerInProcess } from '../ledger/store'
import type { LedgerStore } from '../ledger/types'

export const BACKUP_FORMAT = 'satmachine-backup/1'
export const MANIFEST = 'manifest.json'
export const PENDING_DIR = 'restore-pending'
const PENDING_FILE = 'restore.json'

/** A backup that cannot be used; `file` names the offending file (relative to the backup folder). */
export class BackupError extends Error {
  override readonly name = 'BackupError'
  constructor(
    readonly file: string | null,
    readonly reason: string,
  ) {
    super(file ? `${file}: ${reason}` : reason)
  }
}

interface Manifest {
  format: string
  createdAtMs: number
  seq: number
  files: BackupFileView[]
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')

async function writeDurable(path: string, data: Uint8Array | string): Promise<void> {
  const fh = await open(path, 'wx')
  try {
    await fh.writeFile(data)
    await fh.sync()
  } finally {
    await fh.close()
  }
}

/** A long operation's step as it starts and the share of the work done before it (0…1). */
export type ProgressFn = (step: string, fraction: number) => void

function stamp(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z')
    .replace('T', '-')
}

/**
 * Writes a backup of the ledger in `ledgerDir` (served by `ledger`) into a new folder under `folder`. The settings
 * file of `dataDir`, when present, is copied too.
 */
export async function createBackup(o: {
  ledger: LedgerStore
  ledgerDir: string
  dataDir: string
  folder: string
  nowMs: number
  log?: Logger
  /** Told each step as it starts, with the share of the work done so far (0…1), for the screen's progress bar. */
  onProgress?: ProgressFn
}): Promise<BackupView> {
  const progress = o.onProgress ?? (() => {})
  const target = resolve(o.folder)
  if (!existsSync(target) || !(await stat(target)).isDirectory())
    throw new BackupError(null, 'the folder does not exist (create it first, e.g. on a USB drive)')
  if (resolve(target).startsWith(resolve(o.dataDir)))
    throw new BackupError(null, "choose a folder outside the console's data directory")
  progress('Taking a consistent snapshot of the ledger', 0.05)
  await o.ledger.snapshot()
  progress('Reading the snapshot and the journal after it', 0.35)
  const listing = listLedgerDir(o.ledgerDir)
  const snap = listing.snapshots.at(-1)
  if (!snap) throw new BackupError(null, 'the ledger has no snapshot to copy')
  const snapBytes = await readFile(join(o.ledgerDir, snap.name))
  const parsed = parseSnapshot(snapBytes)
  if (!parsed.ok) throw new BackupError(snap.name, `the ledger's own snapshot is unusable (${parsed.reason})`)
  const pieces: { name: string; data: Uint8Array }[] = [{ name: snap.name, data: snapBytes }]
  let seq = parsed.seq
  for (const j of listing.journals) {
    if (j.start <= parsed.seq) continue
    if (j.start !== seq + 1) break
    const buf = await readFile(join(o.ledgerDir, j.name))
    const scan = scanJournal(buf, j.name, j.start)
    if (scan.records.length === 0) continue
    pieces.push({ name: j.name, data: buf.subarray(0, scan.goodEnd) })
    seq = scan.records.at(-1)!.seq
  }
  // A new folder per backup; never written into an existing one (two backups in the same second get a suffix).
  let dir = join(target, `satmachine-backup-${stamp(o.nowMs)}`)
  for (let n = 2; existsSync(dir); n++) dir = join(target, `satmachine-backup-${stamp(o.nowMs)}-${n}`)
  await mkdir(join(dir, 'ledger'), { recursive: true })
  const files: BackupFileView[] = []
  for (const [i, p] of pieces.entries()) {
    progress(`Writing ledger file ${i + 1} of ${pieces.length}`, 0.45 + (0.45 * i) / pieces.length)
    await writeDurable(join(dir, 'ledger', p.name), p.data)
    files.push({ name: `ledger/${p.name}`, bytes: p.data.length, sha256: sha256(p.data) })
  }
  const settingsPath = join(o.dataDir, 'settings.json')
  if (existsSync(settingsPath)) {
    const s = await readFile(settingsPath)
    await writeDurable(join(dir, 'settings.json'), s)
    files.push({ name: 'settings.json', bytes: s.length, sha256: sha256(s) })
  }
  fsyncDir(join(dir, 'ledger'))
  progress('Writing the manifest with every file’s SHA-256', 0.93)
  const manifest: Manifest = { format: BACKUP_FORMAT, createdAtMs: o.nowMs, seq, files }
  await writeDurable(join(dir, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`)
  fsyncDir(dir)
  o.log?.info('backup written', { path: dir, seq, files: files.length })
  return { path: dir, createdAtMs: o.nowMs, seq, files }
}

async function filesBelow(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = []
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name
    if (e.isDirectory()) out.push(...(await filesBelow(join(dir, e.name), rel)))
    else out.push(rel)
  }
  return out
}

function readManifest(text: string): Manifest {
  let v: unknown
  try {
    v = JSON.parse(text)
  } catch {
    throw new BackupError(MANIFEST, 'is not JSON (the backup is damaged)')
  }
  const m = v as Partial<Manifest>
  if (m?.format !== BACKUP_FORMAT) throw new BackupError(MANIFEST, 'is not a Satmachine backup manifest')
  if (!Number.isSafeInteger(m.seq) || !Number.isSafeInteger(m.createdAtMs) || !Array.isArray(m.files))
    throw new BackupError(MANIFEST, 'is incomplete (the backup is damaged)')
  for (const f of m.files) {
    if (
      typeof f?.name !== 'string' ||
      !/^(ledger\/(snapshot-\d{16}\.sqlite|journal-\d{16}\.log)|settings\.json)$/.test(f.name) ||
      !/^[0-9a-f]{64}$/.test(String(f.sha256)) ||
      !Number.isSafeInteger(f.bytes)
    )
      throw new BackupError(MANIFEST, 'lists a file that is not part of a backup')
  }
  return m as Manifest
}

/**
 * Checks a backup folder completely (manifest, hashes, the ledger opens at the manifest's seq, SQLite checks) and
 * answers what passed. Throws BackupError naming the offending file. `scratchDir` is emptied and used for the trial
 * open; nothing else is written.
 */
export async function verifyBackup(
  path: string,
  scratchDir: string,
  onProgress: ProgressFn = () => {},
): Promise<{ manifest: Manifest; checks: string[]; audit: BackupAuditHead }> {
  const dir = resolve(path)
  if (!existsSync(dir)) throw new BackupError(null, 'the backup folder does not exist')
  const mpath = join(dir, MANIFEST)
  if (!existsSync(mpath)) throw new BackupError(MANIFEST, 'is missing: this is not a complete backup folder')
  const manifest = readManifest(await readFile(mpath, 'utf8'))
  const checks: string[] = []
  const present = new Set((await filesBelow(dir)).filter((f) => f !== MANIFEST))
  for (const [i, f] of manifest.files.entries()) {
    onProgress(
      `Checking file ${i + 1} of ${manifest.files.length} against its SHA-256`,
      (0.4 * i) / manifest.files.length,
    )
    if (!present.has(f.name)) throw new BackupError(f.name, 'is listed in the manifest but missing')
    const data = await readFile(join(dir, f.name))
    if (data.length !== f.bytes)
      throw new BackupError(f.name, `has ${data.length} bytes, the manifest says ${f.bytes} (damaged or changed)`)
    if (sha256(data) !== f.sha256)
      throw new BackupError(f.name, 'does not match its SHA-256 in the manifest (damaged or changed)')
    present.delete(f.name)
  }
  const extra = [...present][0]
  if (extra !== undefined) throw new BackupError(extra, 'is not listed in the manifest')
  if (!manifest.files.some((f) => f.name.startsWith('ledger/snapshot-')))
    throw new BackupError(MANIFEST, 'lists no ledger snapshot')
  checks.push(`${manifest.files.length} files match their SHA-256 in the manifest`)

  onProgress('Opening a trial copy of the ledger', 0.45)
  await rm(scratchDir, { recursive: true, force: true })
  await mkdir(scratchDir, { recursive: true })
  await cp(join(dir, 'ledger'), scratchDir, { recursive: true })
  let store: Awaited<ReturnType<typeof openLedgerInProcess>>
  try {
    store = await openLedgerInProcess({ dir: scratchDir, autoSnapshot: false })
  } catch (e) {
    const file = (e as { file?: string }).file
    throw new BackupError(
      file ? `ledger/${basename(file)}` : 'ledger',
      `the ledger does not open: ${(e as Error).message}`,
    )
  }
  let audit: BackupAuditHead
  try {
    const st = await store.status()
    // Migrations newer than the backup run on the trial copy and add their own transactions.
    if (st.seq < manifest.seq)
      throw new BackupError('ledger', `opens at transaction ${st.seq}, the manifest says ${manifest.seq}`)
    checks.push(`the ledger opens (transaction ${manifest.seq})`)
    onProgress('Running the SQLite integrity check', 0.7)
    const integrity = await store.query<{ integrity_check: string }>('PRAGMA integrity_check')
    if (integrity.length !== 1 || integrity[0]!.integrity_check !== 'ok')
      throw new BackupError('ledger', `SQLite integrity check failed: ${integrity[0]?.integrity_check ?? 'no answer'}`)
    checks.push('SQLite integrity check passes')
    onProgress('Checking every reference between ledger rows', 0.8)
    const fk = await store.query('PRAGMA foreign_key_check')
    if (fk.length > 0) throw new BackupError('ledger', `${fk.length} rows point at rows that do not exist`)
    checks.push('every reference between ledger rows resolves')
    audit = await auditHeadOf(store)
  } finally {
    await store.close()
    await rm(scratchDir, { recursive: true, force: true })
  }
  return { manifest, checks, audit }
}

/** The backup's audit log: entries, root and the ledger transaction of the last one (a rollback statement's head). */
export interface BackupAuditHead {
  size: number
  root: string
  ledgerSeq: number
}

async function auditHeadOf(store: LedgerStore): Promise<BackupAuditHead> {
  const n = Number((await store.query<{ n: number }>('SELECT count(*) AS n FROM audit_leaf'))[0]?.n ?? 0)
  const { hashes, lastSeq } = await store.call<{ hashes: Uint8Array; lastSeq: number }>('audit.leafHashes', {
    from: 0,
    to: n,
  })
  const f = new MerkleFrontier()
  for (let i = 0; i < hashes.length; i += 32) f.pushHash(hashes.subarray(i, i + 32))
  return { size: f.size, root: bytesToHex(f.root()), ledgerSeq: lastSeq }
}

/**
 * Verifies `path` and stages it to replace the ledger of `dataDir` at the next start. Throws BackupError (nothing
 * staged, nothing replaced) when the backup is not sound.
 */
export async function stageRestore(o: {
  path: string
  dataDir: string
  nowMs: number
  log?: Logger
  onProgress?: ProgressFn
}): Promise<RestoreView> {
  const dir = resolve(o.path)
  const progress = o.onProgress ?? (() => {})
  const { manifest, checks, audit } = await verifyBackup(dir, join(o.dataDir, `restore-check-${o.nowMs}`), progress)
  progress('Staging the verified copy for the next start', 0.9)
  const pending = join(o.dataDir, PENDING_DIR)
  await rm(pending, { recursive: true, force: true })
  await mkdir(pending, { recursive: true })
  await cp(join(dir, 'ledger'), join(pending, 'ledger'), { recursive: true })
  // The staged copy is checked against the manifest once more: the copy itself must not have changed a byte.
  for (const f of manifest.files.filter((x) => x.name.startsWith('ledger/'))) {
    if (sha256(await readFile(join(pending, f.name))) !== f.sha256)
      throw new BackupError(f.name, 'changed while it was being copied')
  }
  const keptAsidePath = join(o.dataDir, `ledger-before-restore-${stamp(o.nowMs)}`)
  await writeFile(
    join(pending, PENDING_FILE),
    JSON.stringify({ source: dir, seq: manifest.seq, createdAtMs: manifest.createdAtMs, keptAsidePath, audit }),
  )
  fsyncDir(pending)
  o.log?.info('restore staged', { source: dir, seq: manifest.seq })
  return {
    path: dir,
    seq: manifest.seq,
    createdAtMs: manifest.createdAtMs,
    checks,
    keptAsidePath,
    pendingRestart: true,
  }
}

/** What a staged restore is waiting, or null. */
export async function pendingRestore(dataDir: string): Promise<{
  source: string
  seq: number
  createdAtMs?: number
  keptAsidePath: string
  audit?: BackupAuditHead
} | null> {
  const p = join(dataDir, PENDING_DIR, PENDING_FILE)
  if (!existsSync(p)) return null
  try {
    return JSON.parse(await readFile(p, 'utf8'))
  } catch {
    return null
  }
}

/**
 * At start, before the ledger opens: swaps a staged restore in. The current ledger directory is renamed aside (never
 * deleted); answers where it went, or null when nothing was staged. When the backup's audit log is shorter than the
 * newest signed head, a rollback statement signed with the console key (`audit.signer`) is recorded first
 * (src-main/audit/rollback.ts), so the start-up check accepts exactly this rollback; without a console key the
 * restore still happens and the check refuses the shorter log, naming the missing range.
 */
export async function applyPendingRestore(
  dataDir: string,
  log?: Logger,
  audit?: { signer: () => Promise<Signer | null>; nowMs: number },
): Promise<string | null> {
  const info = await pendingRestore(dataDir)
  if (!info) return null
  if (info.audit && audit) {
    const signer = await audit.signer().catch((e: Error) => {
      log?.warn('restore: the console key is not readable; the rollback cannot be stated', { reason: e.message })
      return null
    })
    if (signer) {
      await recordRollback({
        dataDir,
        to: info.audit,
        signer,
        nowMs: audit.nowMs,
        reason: `restore of the backup taken ${new Date(info.createdAtMs ?? 0).toISOString()} from ${info.source}`,
        ...(log ? { log } : {}),
      })
    } else dropCheckpoint(dataDir)
  } else dropCheckpoint(dataDir)
  const ledgerDir = join(dataDir, 'ledger')
  const aside = existsSync(info.keptAsidePath) ? `${info.keptAsidePath}-${Date.now()}` : info.keptAsidePath
  if (existsSync(ledgerDir)) await rename(ledgerDir, aside)
  await rename(join(dataDir, PENDING_DIR, 'ledger'), ledgerDir)
  await rm(join(dataDir, PENDING_DIR), { recursive: true, force: true })
  fsyncDir(dataDir)
  log?.warn('ledger restored from a backup; the previous ledger is kept aside', {
    source: info.source,
    seq: info.seq,
    keptAs: aside,
  })
  return aside
}
