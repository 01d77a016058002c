// The console's signed tree heads (docs/audit.md "Signed head"): after each batch of ledger transactions, and at least
// once a day, the console key signs the head (tree size, root, ledger seq, time) of the audit log. Order of effects:
// the new leaf hashes are appended to `<dataDir>/audit/leaves.bin` and synced, then the head event is signed, appended
// to `heads.jsonl` and synced, and only then published to the relays (kind 30078, d = satmachine:audit-head). So a
// head a relay holds is always backed by local files, and the ledger's leaves were durable before they were read.
import { bytesToHex } from '@noble/hashes/utils.js'
import { MerkleFrontier } from '../../src-shared/audit/merkle'
import { type AuditHead, headTemplate, type SignedHead } from '../../src-shared/audit/types'
import type { Logger } from '../../src-shared/log'
import type { NostrEvent } from '../../src-shared/nostr/event'
import { type Signer, signEventChecked } from '../../src-shared/signer'
import type { LedgerStore } from '../ledger/types'
import { AuditFiles } from './files'
import { entryCount, readLatestHead } from './read'

export const DAY_SEC = 86_400

export interface HeadWriterOptions {
  store: LedgerStore
  dataDir: string
  log: Logger
  signer: Signer
  consolePubkey: string
  nowMs: () => number
  /** Publishes a head; resolves with how many relays accepted it. Absent: heads stay local (tests, no relays). */
  publish?: (ev: NostrEvent) => Promise<number>
}

export class AuditHeadWriter {
  private readonly files: AuditFiles
  private readonly frontier = new MerkleFrontier()
  private latestHead: SignedHead | null = null
  private lastSeq = 0
  private running: Promise<SignedHead | null> | null = null
  publishedTo = 0

  private constructor(private readonly o: HeadWriterOptions) {
    this.files = new AuditFiles(o.dataDir, o.log)
  }

  /** Loads leaves.bin into the tree and the newest local head. Run after the start-up check. */
  static async open(o: HeadWriterOptions): Promise<AuditHeadWriter> {
    const w = new AuditHeadWriter(o)
    const leaves = w.files.loadLeaves()
    for (let i = 0; i < leaves.length; i += 32) w.frontier.pushHash(leaves.subarray(i, i + 32))
    w.latestHead = readLatestHead(o.dataDir)
    w.lastSeq = w.latestHead?.head.ledgerSeq ?? 0
    return w
  }

  latest(): SignedHead | null {
    return this.latestHead
  }

  /** Entries covered by leaves.bin (signed or about to be). */
  get size(): number {
    return this.frontier.size
  }

  /**
   * Brings leaves.bin up to the ledger and signs a head when the log grew, when the last head is a day old, or when
   * `force` (quarter close). Concurrent calls share one run. Resolves with the new head, or null when none was due.
   */
  sync(opts: { force?: boolean } = {}): Promise<SignedHead | null> {
    const run = (this.running ?? Promise.resolve(null)).then(() => this.syncOnce(opts.force === true))
    const mine = run.finally(() => {
      if (this.running === mine) this.running = null
    })
    this.running = mine
    return mine
  }

  private async syncOnce(force: boolean): Promise<SignedHead | null> {
    const n = await entryCount(this.o.store)
    if (n > this.frontier.size) {
      const { hashes, lastSeq } = await this.o.store.call<{ hashes: Uint8Array; lastSeq: number }>('audit.leafHashes', {
        from: this.frontier.size,
        to: n,
      })
      this.files.appendLeaves(hashes)
      for (let i = 0; i < hashes.length; i += 32) this.frontier.pushHash(hashes.slice(i, i + 32))
      this.lastSeq = lastSeq
    }
    const last = this.latestHead?.head
    const nowSec = Math.floor(this.o.nowMs() / 1000)
    const due = force || !last || this.frontier.size > last.treeSize || nowSec - last.time >= DAY_SEC
    if (!due) return null
    // Relays keep one version per d tag and break same-second ties by id, so every head is dated after the last.
    const head: AuditHead = {
      treeSize: this.frontier.size,
      root: bytesToHex(this.frontier.root()),
      ledgerSeq: this.lastSeq,
      time: last ? Math.max(nowSec, last.time + 1) : nowSec,
    }
    const event = await signEventChecked(this.o.signer, headTemplate(head), this.o.consolePubkey)
    this.files.appendHead(event)
    const signed: SignedHead = { head, event }
    this.latestHead = signed
    this.o.log.info('audit head signed', { treeSize: head.treeSize, ledgerSeq: head.ledgerSeq, id: event.id })
    if (this.o.publish) {
      try {
        this.publishedTo = await this.o.publish(event)
      } catch (e) {
        this.publishedTo = 0
        this.o.log.warn('audit head not published', { id: event.id, reason: (e as Error).message })
      }
    }
    return signed
  }
}
