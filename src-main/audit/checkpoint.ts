// The start-up check's checkpoint (docs/audit.md §7 "Checkpoint"): after a check passed, the console records which
// snapshot file it verified, so the next start re-checks only what the journal added since (incremental.ts) instead
// of every row of the ledger. `<dataDir>/audit/checkpoint.json` holds
//
//   the snapshot's seq and the SHA-256 of its body (as its header states it and the ledger verified when loading),
//   the number of audit entries the snapshot holds and the Merkle frontier over them (the subtree roots),
//   the SHA-256 of the first hashes of leaves.bin (as many as it held, up to those entries), the digest of the schema and the applied migrations,
//   the time of the newest signed head checked (heads signed later over a smaller tree send the check back to full),
//
// and an HMAC-SHA256 over all of it with a key derived from the console key, which is only ever on disk sealed in the
// secret store (src-main/secrets). So whoever edits the snapshot and recomputes its sha256 no longer matches the
// checkpoint (the full check runs and names the edit), and cannot write a matching checkpoint either. A checkpoint
// that is missing, unreadable, fails its MAC or names another snapshot is ignored with a log line: the full check
// runs, as it did before there were checkpoints.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto'
import * as fs from 'node:fs'
import { join } from 'node:path'
import { auditDir } from './read'

export const CHECKPOINT_FILE = 'checkpoint.json'
const KEY_LABEL = 'satmachine audit start-up checkpoint v1'

export interface AuditCheckpoint {
  v: 1
  snapshotSeq: number
  snapshotSha256: string
  leafCount: number
  /** The frontier's subtree roots (hex), largest subtree first. */
  frontier: string[]
  /** How many hashes of leaves.bin `leavesSha256` covers (leaves.bin may lag the ledger: at most `leafCount`). */
  leavesCount: number
  leavesSha256: string
  schema: string
  /** Unix seconds of the newest signed head the checked state was compared with (0 when none). */
  headsTime: number
  writtenAtMs: number
}

export function checkpointFile(dataDir: string): string {
  return join(auditDir(dataDir), CHECKPOINT_FILE)
}

/** The MAC key: HMAC-SHA256 of a fixed label under the console's secret key (never written anywhere). */
export function checkpointKey(consoleSecretKey: Uint8Array): Uint8Array {
  return createHmac('sha256', consoleSecretKey).update(KEY_LABEL).digest()
}

const FIELDS = [
  'v',
  'snapshotSeq',
  'snapshotSha256',
  'leafCount',
  'frontier',
  'leavesCount',
  'leavesSha256',
  'schema',
  'headsTime',
  'writtenAtMs',
] as const

function body(cp: AuditCheckpoint): string {
  return JSON.stringify(FIELDS.map((f) => cp[f]))
}

function macOf(key: Uint8Array, cp: AuditCheckpoint): Buffer {
  return createHmac('sha256', key).update(body(cp)).digest()
}

/** SHA-256 (hex) of the first `count` hashes of leaves.bin's bytes, or null when it holds fewer. */
export function leavesPrefixSha256(external: Uint8Array, count: number): string | null {
  if (external.length < count * 32) return null
  return createHash('sha256')
    .update(external.subarray(0, count * 32))
    .digest('hex')
}

const isHex = (s: unknown, n: number) => typeof s === 'string' && s.length === n && /^[0-9a-f]+$/.test(s)
const isCount = (x: unknown) => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0

/** The checkpoint, or why it cannot be used (missing, damaged, not ours). */
export function readCheckpoint(
  dataDir: string,
  key: Uint8Array,
): { ok: true; cp: AuditCheckpoint } | { ok: false; why: string } {
  let text: string
  try {
    text = fs.readFileSync(checkpointFile(dataDir), 'utf8')
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { ok: false, why: 'no checkpoint yet' }
    return { ok: false, why: `not readable: ${(e as Error).message}` }
  }
  let raw: Record<string, unknown>
  try {
    raw = JSON.parse(text) as Record<string, unknown>
  } catch {
    return { ok: false, why: 'not JSON' }
  }
  const cp = raw as unknown as AuditCheckpoint & { mac?: unknown }
  if (
    cp.v !== 1 ||
    !isCount(cp.snapshotSeq) ||
    !isHex(cp.snapshotSha256, 64) ||
    !isCount(cp.leafCount) ||
    !Array.isArray(cp.frontier) ||
    !cp.frontier.every((h) => isHex(h, 64)) ||
    !isCount(cp.leavesCount) ||
    cp.leavesCount > cp.leafCount ||
    !isHex(cp.leavesSha256, 64) ||
    !isHex(cp.schema, 64) ||
    !isCount(cp.headsTime) ||
    !isCount(cp.writtenAtMs) ||
    !isHex(cp.mac, 64)
  )
    return { ok: false, why: 'not a checkpoint of version 1' }
  const want = macOf(key, cp)
  if (!timingSafeEqual(want, Buffer.from(cp.mac as string, 'hex'))) return { ok: false, why: 'its MAC does not verify' }
  const clean: AuditCheckpoint = Object.fromEntries(FIELDS.map((f) => [f, cp[f]])) as unknown as AuditCheckpoint
  return { ok: true, cp: clean }
}

/** Writes the checkpoint with its MAC: temp file, fsync, rename, fsync the folder (a crash leaves the old one). */
export function writeCheckpoint(dataDir: string, key: Uint8Array, cp: AuditCheckpoint): void {
  const dir = auditDir(dataDir)
  fs.mkdirSync(dir, { recursive: true })
  const path = checkpointFile(dataDir)
  const tmp = `${path}.tmp`
  const text = `${JSON.stringify({ ...cp, mac: macOf(key, cp).toString('hex') })}\n`
  const fd = fs.openSync(tmp, 'w')
  try {
    fs.writeSync(fd, text)
    fs.fsyncSync(fd)
  } finally {
    fs.closeSync(fd)
  }
  fs.renameSync(tmp, path)
  let dfd: number | undefined
  try {
    dfd = fs.openSync(dir, 'r')
    fs.fsyncSync(dfd)
  } catch {
    // Some platforms cannot fsync a directory; the file itself is synced.
  } finally {
    if (dfd !== undefined) fs.closeSync(dfd)
  }
}

/** Removes the checkpoint (a restore replaces the ledger: the next start must check it all). */
export function dropCheckpoint(dataDir: string): void {
  fs.rmSync(checkpointFile(dataDir), { force: true })
}
