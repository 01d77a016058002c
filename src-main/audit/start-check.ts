// The start-up check of the ledger against its signed audit log (docs/audit.md "Start-up check"). It runs after the
// ledger opened (the ledger's own recovery already dropped a torn journal tail) and before any service uses it:
//
//   - every row must equal its newest leaf, every leaf its stored hash (log.ts `checkLog`, inside the worker);
//   - the ledger's leaf hashes must equal `leaves.bin`, the hashes the console signed heads over;
//   - the ledger must be at least as long as the newest signed head found locally or on the relays, and its root at
//     each signed size must be the signed root;
//   - every receipt the console published (as the relays show it) must be in the ledger.
//
// Any difference refuses the start with `AuditTamperError`, which names each entry (table, key, field), the missing
// range, or the missing receipt. The one thing dropped silently-but-logged is what a crash can leave behind: hashes in
// `leaves.bin` beyond the newest signed head that the ledger no longer has (and a torn last hash).
import type { SignedHead } from '../../src-shared/audit/types'
import type { Logger } from '../../src-shared/log'
import { checkEvent } from '../../src-shared/nostr/event'
import type { LedgerStore } from '../ledger/types'
import { type AuditCheckpoint, leavesPrefixSha256, readCheckpoint, writeCheckpoint } from './checkpoint'
import { AuditFiles } from './files'
import type { IncrementalResult } from './incremental'
import type { LogCheckResult, LogProblem } from './log'
import { newestHead, readHeads } from './read'
import { coveringRollbacks, readRollbacks, type SignedRollback } from './rollback'

/** One reason the ledger is refused. */
export type AuditFinding =
  | LogProblem
  | {
      kind: 'missing_range'
      /** First and last missing leaf index (inclusive). */
      from: number
      to: number
      /** The ledger transactions they belonged to: after `afterSeq`, up to `toSeq`. */
      afterSeq: number
      toSeq: number
      headTime: number
      source: 'local' | 'relay'
    }
  | { kind: 'root_mismatch'; treeSize: number; headTime: number; source: 'local' | 'relay' }
  | { kind: 'missing_receipt'; eventId: string; paymentHash: string | null }
  | { kind: 'heads_file'; line: number; why: string }
  | { kind: 'foreign_head'; pubkey: string; source: 'local' | 'relay' }

/** The ledger does not match its signed audit log; the console must not start on it. */
export class AuditTamperError extends Error {
  override readonly name = 'AuditTamperError'
  readonly code = 'audit_tampered'
  readonly field = 'ledger'
  constructor(readonly findings: AuditFinding[]) {
    super(tamperMessage(findings))
  }
}

const iso = (sec: number) => new Date(sec * 1000).toISOString().replace('.000Z', 'Z')

/** One finding in operator language. */
export function describeFinding(f: AuditFinding): string {
  switch (f.kind) {
    case 'edited':
      return `${f.table} ${f.key}: ${f.fields.join(', ')} changed after it was recorded (audit entry #${f.index})`
    case 'unlogged':
      return `${f.table} ${f.key} is not in the audit log: it was added outside the console`
    case 'deleted':
      return `${f.table} ${f.key} was removed (last recorded in audit entry #${f.index})`
    case 'leaf_damaged':
      return `audit entry #${f.index} (${f.table} rowid ${f.rowid}) is damaged: ${f.why}`
    case 'leaf_differs':
      return `audit entry #${f.index} (${f.table} rowid ${f.rowid}, ledger transaction ${f.seq}) is not the entry that was signed`
    case 'missing_range':
      return `audit entries #${f.from}–#${f.to} are missing (ledger transactions ${f.afterSeq + 1}–${f.toSeq}): the ledger is shorter than the head signed at ${iso(f.headTime)}${f.source === 'relay' ? ' that the relays hold' : ''}`
    case 'root_mismatch':
      return `the first ${f.treeSize} audit entries no longer hash to the root signed at ${iso(f.headTime)}${f.source === 'relay' ? ' (relay copy)' : ''}`
    case 'missing_receipt':
      return `receipt ${f.eventId}${f.paymentHash ? ` for payment ${f.paymentHash}` : ''} was published by this console but is not in the ledger`
    case 'heads_file':
      return `audit/heads.jsonl line ${f.line} is not a valid signed head (${f.why})`
    case 'foreign_head':
      return `a${f.source === 'relay' ? ' relay' : 'n'} audit head is signed by ${f.pubkey}, not by this console's key`
  }
}

function tamperMessage(findings: readonly AuditFinding[]): string {
  const shown = findings.slice(0, 10).map((f, i) => `${i + 1}) ${describeFinding(f)}`)
  const more = findings.length > 10 ? `; and ${findings.length - 10} more` : ''
  return (
    `The ledger does not match its signed audit log, so the console will not start. ` +
    `${findings.length} problem${findings.length === 1 ? '' : 's'}: ${shown.join('; ')}${more}. ` +
    'Restore the data directory from a backup taken before the change, or keep it as it is for investigation (docs/audit.md).'
  )
}

export interface StartCheckOptions {
  store: LedgerStore
  dataDir: string
  log: Logger
  /** The console key; when known, every head must be signed by it. */
  consolePubkey?: string | null
  /** Heads found on the relays (kind 30078, d = satmachine:audit-head), already fetched. */
  remoteHeads?: readonly SignedHead[]
  /** Receipts (kind 3079) the relays hold from this console: event id and payment hash. */
  publishedReceipts?: readonly { eventId: string; paymentHash: string | null }[]
  /**
   * The checkpoint MAC key (checkpoint.ts `checkpointKey`, from the console key). With it, a valid checkpoint of the
   * snapshot the ledger opened from lets the check cover only what the journal added since, and a passing check
   * records a new checkpoint. Without it, the full check runs and no checkpoint is written.
   */
  checkpointKey?: Uint8Array | null
  nowMs?: () => number
}

export interface StartCheckReport {
  /** Leaves in the ledger. */
  size: number
  /** The newest signed head it was checked against, or null when none was signed yet. */
  newest: (SignedHead & { source: 'local' | 'relay' }) | null
  /** Hashes cut from leaves.bin beyond the newest signed head (a crash's leftovers). */
  droppedUnsigned: number
  /** Rollback statements (restores of older backups) that the check accepted. */
  rollbacks: SignedRollback[]
  /** `incremental`: only what the journal added since a valid checkpoint was checked; `full`: every row. */
  mode: 'full' | 'incremental'
  /** Why the full check ran although a key was given (no checkpoint, its MAC, another snapshot …), else null. */
  fullBecause: string | null
  /** True when a checkpoint was recorded after the check passed. */
  checkpointWritten: boolean
}

type Basis =
  | { usable: true; snapshotSeq: number; snapshotSha256: string; leafCount: number; schema: string }
  | { usable: false; why: string }

const hexOf = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex')

/** Runs the check; resolves with a report, or rejects with `AuditTamperError`. */
export async function checkAuditAtStart(o: StartCheckOptions): Promise<StartCheckReport> {
  const findings: AuditFinding[] = []
  const local = readHeads(o.dataDir, (line, why) => findings.push({ kind: 'heads_file', line, why }))
  const author = o.consolePubkey ?? local[local.length - 1]?.event.pubkey ?? o.remoteHeads?.[0]?.event.pubkey ?? null
  const heads: (SignedHead & { source: 'local' | 'relay' })[] = []
  for (const h of local) {
    if (author !== null && h.event.pubkey !== author)
      findings.push({ kind: 'foreign_head', pubkey: h.event.pubkey, source: 'local' })
    else heads.push({ ...h, source: 'local' })
  }
  for (const h of o.remoteHeads ?? []) {
    if (!checkEvent(h.event).ok) continue
    if (author !== null && h.event.pubkey !== author) {
      findings.push({ kind: 'foreign_head', pubkey: h.event.pubkey, source: 'relay' })
      continue
    }
    heads.push({ ...h, source: 'relay' })
  }
  const files = new AuditFiles(o.dataDir, o.log)
  const external = files.loadLeaves()
  // Restores of an older backup: each statement that covers exactly its rollback lets the heads it supersedes go
  // unchecked, once the ledger's root at the backup's size is found to be the statement's (rollback.ts).
  const rollbacks = readRollbacks(o.dataDir, (line, why) =>
    o.log.warn('audit: a rollback statement is not valid and covers nothing', {
      file: 'audit/rollbacks.jsonl',
      line,
      why,
    }),
  )
  const covers = coveringRollbacks(rollbacks, heads, author)
  const sizes = [...new Set([...heads.map((h) => h.head.treeSize), ...covers.map((c) => c.rollback.statement.toSize)])]
  const lastStatement = Math.max(0, ...rollbacks.map((x) => x.event.created_at))
  const key = o.checkpointKey ?? null
  let fullBecause: string | null = null
  let r: LogCheckResult | null = null
  let basis: Basis | null = null
  let frontier: Uint8Array[] | undefined
  let verified: AuditCheckpoint | null = null
  if (key) {
    const read = readCheckpoint(o.dataDir, key)
    if (!read.ok) fullBecause = `checkpoint ${read.why}`
    else {
      const cp = read.cp
      const late = heads.find((h) => h.head.treeSize < cp.leafCount && h.head.time > cp.headsTime)
      if (leavesPrefixSha256(external, cp.leavesCount) !== cp.leavesSha256)
        fullBecause = 'audit/leaves.bin no longer starts with the hashes the checkpoint covers'
      else if (lastStatement > cp.headsTime) fullBecause = 'a rollback statement was recorded after the checkpoint'
      else if (late) fullBecause = `a head signed after the checkpoint covers only ${late.head.treeSize} entries`
      else {
        const inc = await o.store.call<IncrementalResult>('audit.checkIncremental', {
          snapshotSeq: cp.snapshotSeq,
          snapshotSha256: cp.snapshotSha256,
          leafCount: cp.leafCount,
          leavesCount: cp.leavesCount,
          frontier: cp.frontier.map((h) => Uint8Array.from(Buffer.from(h, 'hex'))),
          schema: cp.schema,
          external,
          sizes: sizes.filter((n) => n >= cp.leafCount),
        })
        if (inc.fallback !== null) fullBecause = inc.fallback
        else {
          r = inc
          verified = cp
        }
      }
    }
    if (fullBecause) o.log.info('audit: full start-up check', { reason: fullBecause })
    if (!verified) basis = await o.store.call<Basis>('audit.checkpointBasis', {})
  }
  if (!r) {
    const full = await o.store.call<LogCheckResult>('audit.checkLog', {
      external,
      sizes,
      ...(basis?.usable ? { frontierAt: basis.leafCount } : {}),
    })
    r = full
    frontier = full.frontier
  }
  findings.push(...r.problems)
  const result = r
  const cp0 = verified
  const superseded = new Set<SignedHead>()
  const accepted: SignedRollback[] = []
  for (const c of covers) {
    const st = c.rollback.statement
    const root = result.roots[String(st.toSize)]
    // Below a checkpoint's entries the root was compared when the checkpoint was taken (its statements are older).
    const ok =
      root === st.toRoot ||
      (root === undefined && cp0 !== null && st.toSize < cp0.leafCount && c.rollback.event.created_at <= cp0.headsTime)
    if (!ok) continue
    accepted.push(c.rollback)
    for (const h of c.superseded) superseded.add(h)
  }
  if (accepted.length > 0) {
    const all = heads.length
    heads.splice(0, heads.length, ...heads.filter((h) => !superseded.has(h)))
    o.log.info('audit: heads superseded by a recorded rollback are not checked', {
      superseded: all - heads.length,
      statements: accepted.map((x) => x.event.id).join(','),
    })
  }
  const newest = newestHead(heads)

  if (newest && r.size < newest.head.treeSize) {
    findings.push({
      kind: 'missing_range',
      from: r.size,
      to: newest.head.treeSize - 1,
      afterSeq: r.lastSeq,
      toSeq: newest.head.ledgerSeq,
      headTime: newest.head.time,
      source: newest.source,
    })
  }
  // A root that differs while no single leaf was found to differ still refuses (e.g. leaves.bin lost or edited).
  const reported = new Set<number>()
  for (const h of heads) {
    const got = r.roots[String(h.head.treeSize)]
    if (got === undefined || got === h.head.root || reported.has(h.head.treeSize)) continue
    reported.add(h.head.treeSize)
    findings.push({ kind: 'root_mismatch', treeSize: h.head.treeSize, headTime: h.head.time, source: h.source })
  }
  if (o.publishedReceipts && o.publishedReceipts.length > 0) {
    const ids = o.publishedReceipts.map((x) => x.eventId)
    const have = new Set<string>()
    for (let i = 0; i < ids.length; i += 500) {
      const chunk = ids.slice(i, i + 500)
      const rows = await o.store.query<{ event_id: string }>(
        `SELECT event_id FROM rcpt_receipt WHERE event_id IN (${chunk.map(() => '?').join(',')})`,
        chunk,
      )
      for (const row of rows) have.add(row.event_id)
    }
    for (const x of o.publishedReceipts) if (!have.has(x.eventId)) findings.push({ kind: 'missing_receipt', ...x })
  }
  if (findings.length > 0) throw new AuditTamperError(findings)

  // leaves.bin may hold hashes the ledger no longer has only beyond the newest signed head (crash leftovers).
  let droppedUnsigned = 0
  const externalCount = external.length / 32
  if (externalCount > r.size) {
    droppedUnsigned = externalCount - r.size
    o.log.warn('audit: unsigned leaf hashes beyond the ledger dropped', {
      file: 'audit/leaves.bin',
      from: r.size,
      to: externalCount - 1,
      signedSize: newest?.head.treeSize ?? 0,
    })
    files.truncateLeaves(r.size)
  }
  let checkpointWritten = false
  if (key) {
    const headsTime = Math.max(lastStatement, ...heads.map((h) => h.head.time))
    let cp: AuditCheckpoint | null = null
    // leaves.bin may lag the ledger (the head writer appends after each batch): the checkpoint covers what it holds
    // up to the snapshot's entries, all of which this check found equal to the ledger's.
    const leavesCount = Math.min(external.length / 32, verified?.leafCount ?? (basis?.usable ? basis.leafCount : 0))
    const leavesSha256 = leavesPrefixSha256(external, leavesCount) as string
    if (verified) cp = { ...verified, leavesCount, leavesSha256, headsTime: Math.max(verified.headsTime, headsTime) }
    else if (basis?.usable && frontier) {
      cp = {
        v: 1,
        snapshotSeq: basis.snapshotSeq,
        snapshotSha256: basis.snapshotSha256,
        leafCount: basis.leafCount,
        frontier: frontier.map(hexOf),
        leavesCount,
        leavesSha256,
        schema: basis.schema,
        headsTime,
        writtenAtMs: (o.nowMs ?? Date.now)(),
      }
    } else if (basis && !basis.usable) o.log.info('audit: no start-up checkpoint recorded', { reason: basis.why })
    if (cp) {
      try {
        writeCheckpoint(o.dataDir, key, cp)
        checkpointWritten = true
      } catch (e) {
        o.log.warn('audit: start-up checkpoint not written', { reason: (e as Error).message })
      }
    }
  }
  return {
    size: r.size,
    newest,
    droppedUnsigned,
    rollbacks: accepted,
    mode: verified ? 'incremental' : 'full',
    fullBecause,
    checkpointWritten,
  }
}
