// The audit files kept OUTSIDE the ledger directory (docs/audit.md): `<dataDir>/audit/leaves.bin`, the leaf hashes
// (32 bytes each, index order) the console has signed heads over, and `<dataDir>/audit/heads.jsonl`, one signed head
// event per line. Both are only appended, and fsynced (file and directory) before a head is published, so a head on
// a relay is always backed by local files. The ledger's own copy of the leaves is checked against `leaves.bin` at
// start; because the heads are signed by the console key, editing these files is detected too (the root no longer
// matches), and the relays hold a copy of the newest head that no local edit reaches.
import * as fs from 'node:fs'
import type { Logger } from '../../src-shared/log'
import type { NostrEvent } from '../../src-shared/nostr/event'
import { auditDir, headsFile, leavesFile } from './read'

function fsyncDir(dir: string): void {
  let fd: number | undefined
  try {
    fd = fs.openSync(dir, 'r')
    fs.fsyncSync(fd)
  } catch {
    // Some platforms cannot fsync a directory; the file itself is synced.
  } finally {
    if (fd !== undefined) fs.closeSync(fd)
  }
}

export class AuditFiles {
  constructor(
    readonly dataDir: string,
    private readonly log: Logger,
  ) {
    fs.mkdirSync(auditDir(dataDir), { recursive: true })
  }

  /**
   * The leaf hashes in `leaves.bin`. A partial last hash (a crash while appending) is cut off with a log line;
   * nothing was signed over it.
   */
  loadLeaves(): Uint8Array {
    const path = leavesFile(this.dataDir)
    let buf: Buffer
    try {
      buf = fs.readFileSync(path)
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return new Uint8Array(0)
      throw e
    }
    const whole = buf.length - (buf.length % 32)
    if (whole !== buf.length) {
      this.log.warn('audit leaves file: torn last hash dropped', { file: path, bytes: buf.length - whole })
      fs.truncateSync(path, whole)
    }
    return new Uint8Array(buf.buffer, buf.byteOffset, whole)
  }

  /** Appends leaf hashes (a multiple of 32 bytes) and syncs. */
  appendLeaves(hashes: Uint8Array): void {
    if (hashes.length % 32 !== 0) throw new RangeError('leaf hashes must be 32 bytes each')
    if (hashes.length === 0) return
    const path = leavesFile(this.dataDir)
    const existed = fs.existsSync(path)
    appendRaw(path, hashes)
    if (!existed) fsyncDir(auditDir(this.dataDir))
  }

  /** Cuts `leaves.bin` to `count` hashes (only ever beyond the newest signed head; the caller logs why). */
  truncateLeaves(count: number): void {
    const fd = fs.openSync(leavesFile(this.dataDir), 'r+')
    try {
      fs.ftruncateSync(fd, count * 32)
      fs.fsyncSync(fd)
    } finally {
      fs.closeSync(fd)
    }
  }

  /** Appends one signed head event as a line and syncs. */
  appendHead(ev: NostrEvent): void {
    const path = headsFile(this.dataDir)
    const existed = fs.existsSync(path)
    appendRaw(path, `${JSON.stringify(ev)}\n`)
    if (!existed) fsyncDir(auditDir(this.dataDir))
  }
}

function appendRaw(path: string, data: Uint8Array | string): void {
  const fd = fs.openSync(path, 'a')
  try {
    if (typeof data === 'string') fs.writeSync(fd, data)
    else fs.writeSync(fd, data)
    fs.fsyncSync(fd)
  } finally {
    fs.closeSync(fd)
  }
}
