// Rollback statements (docs/audit.md §9): restoring a verified backup that is older than the newest signed head
// would otherwise be refused at the next start as "the ledger is shorter than a signed head" — the same finding a
// cut journal gives. So the restore records, signed with the console key, what it does: the head of the backup (the
// tree size and root of its audit log, its ledger transaction), the head it supersedes (size, root, event id), the
// time and the reason. The statements are kept beside the heads in `<dataDir>/audit/rollbacks.jsonl` (one event per
// line, only appended) and published to the relays like heads (kind 30078, d = satmachine:audit-rollback).
//
// The start-up check (start-check.ts) accepts a shorter log only when a statement covers exactly that rollback: it is
// signed by the console key, the ledger's root at the statement's size is the statement's root, and the newest head
// signed before the statement is the one it names as superseded. Then the heads signed before it over more entries
// are no longer checked (the log continues from the backup). Any other truncation is refused as before.
import * as fs from 'node:fs'
import { join } from 'node:path'
import { AUDIT_HEAD_KIND, AuditFormatError, type SignedHead } from '../../src-shared/audit/types'
import type { Logger } from '../../src-shared/log'
import { checkEvent, type EventTemplate, type NostrEvent } from '../../src-shared/nostr/event'
import { type Signer, signEventChecked } from '../../src-shared/signer'
import { dropCheckpoint } from './checkpoint'
import { auditDir, leavesFile, newestHead, readHeads } from './read'

export const AUDIT_ROLLBACK_D = 'satmachine:audit-rollback'

export interface RollbackStatement {
  /** The backup's audit log: entries, root (hex), ledger transaction. */
  toSize: number
  toRoot: string
  toLedgerSeq: number
  /** The head being superseded. */
  fromSize: number
  fromRoot: string
  fromHeadEventId: string
  atMs: number
  reason: string
}

export interface SignedRollback {
  statement: RollbackStatement
  event: NostrEvent
}

export function rollbacksFile(dataDir: string): string {
  return join(auditDir(dataDir), 'rollbacks.jsonl')
}

export function rollbackContent(s: RollbackStatement): string {
  return JSON.stringify({
    v: 1,
    to_size: s.toSize,
    to_root: s.toRoot,
    to_ledger_seq: s.toLedgerSeq,
    from_size: s.fromSize,
    from_root: s.fromRoot,
    from_head_event_id: s.fromHeadEventId,
    at_ms: s.atMs,
    reason: s.reason,
  })
}

export function rollbackTemplate(s: RollbackStatement): EventTemplate {
  return {
    kind: AUDIT_HEAD_KIND,
    created_at: Math.floor(s.atMs / 1000),
    tags: [
      ['d', AUDIT_ROLLBACK_D],
      ['size', String(s.toSize)],
      ['root', s.toRoot],
      ['e', s.fromHeadEventId],
    ],
    content: rollbackContent(s),
  }
}

const HEX64 = /^[0-9a-f]{64}$/
const isCount = (x: unknown) => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0

/** Parses a rollback event (signature, canonical content, tags equal to the content); throws naming the field. */
export function parseRollbackEvent(ev: NostrEvent): RollbackStatement {
  const c = checkEvent(ev)
  if (!c.ok) throw new AuditFormatError(c.reason === 'bad_signature' ? 'sig' : 'id', c.detail)
  if (ev.kind !== AUDIT_HEAD_KIND) throw new AuditFormatError('kind', `must be ${AUDIT_HEAD_KIND}`)
  let j: Record<string, unknown>
  try {
    j = JSON.parse(ev.content) as Record<string, unknown>
  } catch {
    throw new AuditFormatError('content', 'is not JSON')
  }
  const s: RollbackStatement = {
    toSize: j.to_size as number,
    toRoot: j.to_root as string,
    toLedgerSeq: j.to_ledger_seq as number,
    fromSize: j.from_size as number,
    fromRoot: j.from_root as string,
    fromHeadEventId: j.from_head_event_id as string,
    atMs: j.at_ms as number,
    reason: j.reason as string,
  }
  if (
    j.v !== 1 ||
    !isCount(s.toSize) ||
    !isCount(s.toLedgerSeq) ||
    !isCount(s.fromSize) ||
    !isCount(s.atMs) ||
    typeof s.toRoot !== 'string' ||
    !HEX64.test(s.toRoot) ||
    typeof s.fromRoot !== 'string' ||
    !HEX64.test(s.fromRoot) ||
    typeof s.fromHeadEventId !== 'string' ||
    !HEX64.test(s.fromHeadEventId) ||
    typeof s.reason !== 'string'
  )
    throw new AuditFormatError('content', 'is not a rollback statement of version 1')
  if (ev.content !== rollbackContent(s)) throw new AuditFormatError('content', 'is not in canonical form')
  const tpl = rollbackTemplate(s)
  if (JSON.stringify(ev.tags) !== JSON.stringify(tpl.tags))
    throw new AuditFormatError('tags', 'differ from the content')
  if (ev.created_at !== tpl.created_at) throw new AuditFormatError('created_at', 'differs from at_ms')
  if (s.toSize >= s.fromSize) throw new AuditFormatError('content.to_size', 'must be below from_size')
  return s
}

/** Every valid rollback statement in `rollbacks.jsonl`, oldest first; bad lines reported through `onBad`. */
export function readRollbacks(dataDir: string, onBad?: (line: number, why: string) => void): SignedRollback[] {
  let text: string
  try {
    text = fs.readFileSync(rollbacksFile(dataDir), 'utf8')
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw e
  }
  const out: SignedRollback[] = []
  const lines = text.split('\n')
  const torn = text.length > 0 && !text.endsWith('\n')
  lines.forEach((line, i) => {
    if (line === '' || (torn && i === lines.length - 1)) return
    try {
      const ev = JSON.parse(line) as NostrEvent
      out.push({ statement: parseRollbackEvent(ev), event: ev })
    } catch (e) {
      onBad?.(i + 1, (e as Error).message)
    }
  })
  return out
}

function appendLine(path: string, line: string): void {
  const fd = fs.openSync(path, 'a')
  try {
    fs.writeSync(fd, line)
    fs.fsyncSync(fd)
  } finally {
    fs.closeSync(fd)
  }
}

/**
 * At the restore of a backup whose audit log (`to`) is shorter than the newest signed head: signs the rollback
 * statement, appends it to `rollbacks.jsonl`, keeps `leaves.bin` aside (`leaves-before-restore-<ms>.bin`) and cuts it
 * to the backup's entries, and drops the start-up checkpoint. Answers the statement, or null when the backup is not
 * older than the newest head (nothing to state).
 */
export async function recordRollback(o: {
  dataDir: string
  to: { size: number; root: string; ledgerSeq: number }
  signer: Signer
  nowMs: number
  reason: string
  log?: Logger
}): Promise<SignedRollback | null> {
  const heads: SignedHead[] = readHeads(o.dataDir)
  const newest = newestHead(heads)
  dropCheckpoint(o.dataDir)
  if (!newest || newest.head.treeSize <= o.to.size) return null
  const last = heads.reduce((t, h) => Math.max(t, h.head.time), 0)
  // Dated after every head it supersedes (the check compares times in seconds).
  const atMs = Math.max(o.nowMs, (last + 1) * 1000)
  const statement: RollbackStatement = {
    toSize: o.to.size,
    toRoot: o.to.root,
    toLedgerSeq: o.to.ledgerSeq,
    fromSize: newest.head.treeSize,
    fromRoot: newest.head.root,
    fromHeadEventId: newest.event.id,
    atMs,
    reason: o.reason.slice(0, 500),
  }
  const pk = await o.signer.getPublicKey()
  const event = await signEventChecked(o.signer, rollbackTemplate(statement), pk)
  fs.mkdirSync(auditDir(o.dataDir), { recursive: true })
  appendLine(rollbacksFile(o.dataDir), `${JSON.stringify(event)}\n`)
  const leaves = leavesFile(o.dataDir)
  if (fs.existsSync(leaves)) {
    fs.copyFileSync(leaves, join(auditDir(o.dataDir), `leaves-before-restore-${o.nowMs}.bin`))
    if (fs.statSync(leaves).size > o.to.size * 32) fs.truncateSync(leaves, o.to.size * 32)
  }
  o.log?.warn('audit: rollback to an older backup recorded', {
    toSize: statement.toSize,
    fromSize: statement.fromSize,
    superseded: statement.fromHeadEventId,
    id: event.id,
  })
  return { statement, event }
}

/**
 * The statements that cover a rollback of this ledger: signed by `author`, and the newest head signed before each
 * (over more entries than it keeps) is the one it names. Answers them with the heads each supersedes.
 */
export function coveringRollbacks<T extends SignedHead>(
  rollbacks: readonly SignedRollback[],
  heads: readonly T[],
  author: string | null,
): { rollback: SignedRollback; superseded: Set<T> }[] {
  const out: { rollback: SignedRollback; superseded: Set<T> }[] = []
  for (const r of rollbacks) {
    if (author !== null && r.event.pubkey !== author) continue
    const before = heads.filter((h) => h.head.time <= r.event.created_at)
    const newest = newestHead(before)
    if (!newest || newest.event.id !== r.statement.fromHeadEventId) continue
    out.push({ rollback: r, superseded: new Set(before.filter((h) => h.head.treeSize > r.statement.toSize)) })
  }
  return out
}
