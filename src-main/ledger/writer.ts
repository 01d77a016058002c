// Group-commit journal writer (docs/architecture.md §5). Records are appended in seq order; whatever queues up while one
// write+fdatasync is in flight goes out in the next single write+fdatasync, and a transaction is reported
// durable only once the sync covering its record has returned. A failed write or sync poisons the writer:
// the in-memory database is then ahead of the disk, so every waiter and every later append is rejected.
import * as fs from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { LedgerIOError } from './errors'
import { fsyncDir, journalName } from './files'

/** The two calls the writer makes per batch; a seam so tests can inject I/O failures. */
export interface JournalIo {
  write(fd: number, buf: Buffer, offset: number, length: number): Promise<{ bytesWritten: number }>
  fdatasync(fd: number): Promise<void>
}

const writeP = promisify(fs.write)
export const nodeJournalIo: JournalIo = {
  write: (fd, buf, offset, length) => writeP(fd, buf, offset, length, null),
  fdatasync: promisify(fs.fdatasync),
}

interface JournalFile {
  path: string
  startSeq: number
  fd: number
  /** Bytes in the file once everything queued for it is written. */
  bytes: number
  records: number
  retired: boolean
}

interface Pending {
  file: JournalFile
  buf: Buffer
  seq: number
}

export class JournalWriter {
  private cur: JournalFile
  private queue: Pending[] = []
  private flushing: Promise<void> | null = null
  private waiters: { seq: number; resolve: () => void; reject: (e: Error) => void }[] = []
  private failure: LedgerIOError | null = null
  private retiredOpen = new Set<JournalFile>()
  durableSeq: number
  /** How many write+sync batches ran; fewer than records means group commit is working. */
  syncs = 0

  /** Opens (appending) or creates `journal-<startSeq>.log`; `bytes`/`records` describe what it already holds. */
  constructor(
    readonly dir: string,
    startSeq: number,
    durableSeq: number,
    existing?: { bytes: number; records: number },
    private readonly io: JournalIo = nodeJournalIo,
  ) {
    this.durableSeq = durableSeq
    this.cur = this.openFile(startSeq, existing)
  }

  private openFile(startSeq: number, existing?: { bytes: number; records: number }): JournalFile {
    const path = join(this.dir, journalName(startSeq))
    const fd = fs.openSync(path, 'a')
    // The new name must survive a crash before any record in it is acknowledged.
    if (!existing) fsyncDir(this.dir)
    return { path, startSeq, fd, bytes: existing?.bytes ?? 0, records: existing?.records ?? 0, retired: false }
  }

  get currentFile(): { path: string; startSeq: number; bytes: number; records: number } {
    const { path, startSeq, bytes, records } = this.cur
    return { path, startSeq, bytes, records }
  }

  get failed(): LedgerIOError | null {
    return this.failure
  }

  /** Queues one framed record; the caller then awaits `waitDurable(seq)`. */
  append(seq: number, buf: Buffer): void {
    if (this.failure) throw this.failure
    this.queue.push({ file: this.cur, buf, seq })
    this.cur.bytes += buf.length
    this.cur.records++
    this.kick()
  }

  /** Starts a new journal file continuing at `startSeq`; earlier queued records still go to the old file. */
  rotate(startSeq: number): void {
    if (this.failure) throw this.failure
    const old = this.cur
    this.cur = this.openFile(startSeq)
    old.retired = true
    this.retiredOpen.add(old)
    if (!this.flushing) this.closeRetired()
  }

  /** Closes retired files that have nothing queued; only called while no write is in flight. */
  private closeRetired(): void {
    for (const f of this.retiredOpen) {
      if (this.queue.some((p) => p.file === f)) continue
      this.retiredOpen.delete(f)
      fs.closeSync(f.fd)
    }
  }

  /** Resolves once every record up to `seq` is on disk. */
  waitDurable(seq: number): Promise<void> {
    if (this.failure) return Promise.reject(this.failure)
    if (seq <= this.durableSeq) return Promise.resolve()
    return new Promise((resolve, reject) => this.waiters.push({ seq, resolve, reject }))
  }

  /** Resolves when nothing is queued or in flight. */
  async drain(): Promise<void> {
    while (this.flushing) await this.flushing
    if (this.failure) throw this.failure
  }

  private kick(): void {
    if (this.flushing || this.queue.length === 0) return
    this.flushing = this.flushLoop().finally(() => {
      this.flushing = null
      if (this.queue.length > 0 && !this.failure) this.kick()
    })
  }

  private async flushLoop(): Promise<void> {
    while (this.queue.length > 0 && !this.failure) {
      const file = this.queue[0]!.file
      let n = 0
      while (n < this.queue.length && this.queue[n]!.file === file) n++
      const batch = this.queue.splice(0, n)
      const buf = batch.length === 1 ? batch[0]!.buf : Buffer.concat(batch.map((p) => p.buf))
      try {
        let done = 0
        while (done < buf.length) {
          const { bytesWritten } = await this.io.write(file.fd, buf, done, buf.length - done)
          done += bytesWritten
        }
        await this.io.fdatasync(file.fd)
        this.syncs++
      } catch (e) {
        this.fail(new LedgerIOError(`journal write failed (file=${file.path}): ${(e as Error).message}`))
        return
      }
      this.durableSeq = batch[batch.length - 1]!.seq
      this.closeRetired()
      this.settle()
    }
  }

  private settle(): void {
    if (this.waiters.length === 0) return
    const keep: typeof this.waiters = []
    for (const w of this.waiters) {
      if (w.seq <= this.durableSeq) w.resolve()
      else keep.push(w)
    }
    this.waiters = keep
  }

  private fail(e: LedgerIOError): void {
    this.failure = e
    for (const w of this.waiters) w.reject(e)
    this.waiters = []
    this.queue = []
  }

  /** Waits for pending writes, then closes the current file. */
  async close(): Promise<void> {
    try {
      await this.drain()
    } finally {
      for (const f of [...this.retiredOpen, this.cur]) {
        try {
          fs.closeSync(f.fd)
        } catch {
          // Already closed after a failure.
        }
      }
      this.retiredOpen.clear()
    }
  }
}
