// On-disk layout of a ledger directory (docs/architecture.md §5, src-main/ledger/README.md):
//
//   snapshot-<seq>.sqlite      a full sql.js export taken after transaction <seq>, behind a 64-byte header
//   journal-<start>.log        records <start>, <start>+1, … (see journal.ts); continues the snapshot at start-1
//   *.tmp                      a snapshot being written; never read, removed at start-up
//   LOCK                       the pid of the process that has the directory open
//
// Snapshot header: magic "SMLEDGER", format version u32, header size u32, seq u64, body length u64, then the
// SHA-256 of the body (32 bytes); all little-endian. Snapshots are written to a temp file, fsynced, renamed
// into place and the directory fsynced, so a name always refers to a complete file; the hash catches later
// damage. Seqs in names are zero-padded to 16 digits so names sort in seq order.
import { createHash } from 'node:crypto'
import * as fs from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { LedgerLockedError } from './errors'

export const SNAPSHOT_MAGIC = Buffer.from('SMLEDGER', 'latin1')
export const SNAPSHOT_FORMAT = 1
export const SNAPSHOT_HEADER_BYTES = 64

const pad = (n: number) => String(n).padStart(16, '0')
export const snapshotName = (seq: number) => `snapshot-${pad(seq)}.sqlite`
export const journalName = (startSeq: number) => `journal-${pad(startSeq)}.log`
export const LOCK_NAME = 'LOCK'

export interface DirListing {
  snapshots: { seq: number; name: string }[]
  journals: { start: number; name: string }[]
  temps: string[]
}

/** Lists the ledger files in `dir`, snapshots and journals in ascending seq order. */
export function listLedgerDir(dir: string): DirListing {
  const out: DirListing = { snapshots: [], journals: [], temps: [] }
  for (const name of fs.readdirSync(dir)) {
    let m = /^snapshot-(\d{16})\.sqlite$/.exec(name)
    if (m) {
      out.snapshots.push({ seq: Number(m[1]), name })
      continue
    }
    m = /^journal-(\d{16})\.log$/.exec(name)
    if (m) {
      out.journals.push({ start: Number(m[1]), name })
      continue
    }
    if (name.endsWith('.tmp')) out.temps.push(name)
  }
  out.snapshots.sort((a, b) => a.seq - b.seq)
  out.journals.sort((a, b) => a.start - b.start)
  return out
}

export function encodeSnapshotHeader(seq: number, bodyLength: number, sha256: Uint8Array): Buffer {
  const h = Buffer.alloc(SNAPSHOT_HEADER_BYTES)
  SNAPSHOT_MAGIC.copy(h, 0)
  h.writeUInt32LE(SNAPSHOT_FORMAT, 8)
  h.writeUInt32LE(SNAPSHOT_HEADER_BYTES, 12)
  h.writeBigUInt64LE(BigInt(seq), 16)
  h.writeBigUInt64LE(BigInt(bodyLength), 24)
  h.set(sha256, 32)
  return h
}

/** Verifies a whole snapshot file and returns its seq and body, or the reason it is unusable. */
export function parseSnapshot(
  file: Buffer,
): { ok: true; seq: number; body: Uint8Array } | { ok: false; reason: string } {
  if (file.length < SNAPSHOT_HEADER_BYTES) return { ok: false, reason: `file too short (${file.length} bytes)` }
  if (!file.subarray(0, 8).equals(SNAPSHOT_MAGIC)) return { ok: false, reason: 'bad magic' }
  const version = file.readUInt32LE(8)
  if (version !== SNAPSHOT_FORMAT) return { ok: false, reason: `unknown snapshot format ${version}` }
  const seq = Number(file.readBigUInt64LE(16))
  const len = Number(file.readBigUInt64LE(24))
  if (file.length !== SNAPSHOT_HEADER_BYTES + len) {
    return { ok: false, reason: `body is ${file.length - SNAPSHOT_HEADER_BYTES} bytes, header says ${len}` }
  }
  const body = file.subarray(SNAPSHOT_HEADER_BYTES)
  const digest = createHash('sha256').update(body).digest()
  if (!digest.equals(file.subarray(32, 64))) return { ok: false, reason: 'sha256 mismatch' }
  return { ok: true, seq, body }
}

/** fsyncs a directory so a create/rename/unlink in it is durable. Windows cannot open directories; skip there. */
export function fsyncDir(dir: string): void {
  if (process.platform === 'win32') return
  const fd = fs.openSync(dir, 'r')
  try {
    fs.fsyncSync(fd)
  } finally {
    fs.closeSync(fd)
  }
}

const write = promisify(fs.write)
const fsyncP = promisify(fs.fsync)
const closeP = promisify(fs.close)
const openP = promisify(fs.open)
const renameP = promisify(fs.rename)

/** rename, retried a bounded number of times on the transient Windows errors (antivirus, indexer). */
export async function renameWithRetry(from: string, to: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await renameP(from, to)
      return
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code
      if (attempt >= 9 || (code !== 'EPERM' && code !== 'EBUSY' && code !== 'EACCES')) throw e
      await new Promise((r) => setTimeout(r, 20 * (attempt + 1)))
    }
  }
}

const CHUNK = 8 * 1024 * 1024

/**
 * Writes `body` as snapshot `seq`: temp file, hash while writing in chunks (so the thread keeps serving
 * commits between chunks), header, fsync, rename, fsync the directory. Returns the final path.
 */
export async function writeSnapshotFile(dir: string, seq: number, body: Uint8Array): Promise<string> {
  const final = join(dir, snapshotName(seq))
  const tmp = `${final}.tmp`
  const fd = await openP(tmp, 'w')
  let ok = false
  try {
    const hash = createHash('sha256')
    for (let off = 0; off < body.length; off += CHUNK) {
      const chunk = body.subarray(off, Math.min(body.length, off + CHUNK))
      hash.update(chunk)
      let done = 0
      while (done < chunk.length) {
        const { bytesWritten } = await write(fd, chunk, done, chunk.length - done, SNAPSHOT_HEADER_BYTES + off + done)
        done += bytesWritten
      }
    }
    const header = encodeSnapshotHeader(seq, body.length, hash.digest())
    await write(fd, header, 0, header.length, 0)
    await fsyncP(fd)
    ok = true
  } finally {
    await closeP(fd)
    // A half-written temp file is useless; start-up would remove it anyway, do it now.
    if (!ok) fs.rmSync(tmp, { force: true })
  }
  await renameWithRetry(tmp, final)
  fsyncDir(dir)
  return final
}

/**
 * Takes the directory lock. A lock left by a dead process (a crash) is replaced; one held by a live process,
 * including this one, is refused, so two stores never append to the same journal.
 */
export function acquireLock(dir: string, onStale: (pid: number) => void): () => void {
  const path = join(dir, LOCK_NAME)
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = fs.openSync(path, 'wx')
      fs.writeSync(fd, String(process.pid))
      fs.fsyncSync(fd)
      fs.closeSync(fd)
      return () => fs.rmSync(path, { force: true })
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e
      let pid = Number.NaN
      try {
        pid = Number(fs.readFileSync(path, 'utf8').trim())
      } catch {
        // Removed between our open and read: retry.
        continue
      }
      if (Number.isSafeInteger(pid) && pid > 0 && isAlive(pid)) throw new LedgerLockedError(path, pid)
      onStale(pid)
      fs.rmSync(path, { force: true })
    }
  }
  throw new LedgerLockedError(path, -1)
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'
  }
}
