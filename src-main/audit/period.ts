// Ledger procedures of the quarter close (docs/audit.md "Quarter close"): booking the close of a quarter with the
// quarter head and the operator's signed attestation (kind 3080), and the log of its publication. Once booked, the
// commit hook (log.ts) refuses every insert dated inside the quarter: history in a closed quarter never changes, and a
// correction is a reversing entry dated in an open period that names the original.
import { decodeEntry, quarterBounds } from '../../src-shared/audit/types'
import { FieldError } from '../../src-shared/field-error'
import { defineProcedure } from '../ledger/define'
import type { TxDb } from '../ledger/types'

export class AuditCloseError extends FieldError {
  override readonly name = 'AuditCloseError'
}

export interface ClosePeriodArgs {
  period: string
  closedAtMs: number
  closedBy: string
  treeSize: number
  root: string
  ledgerSeq: number
  headEventId: string
  headJson: string
  attestationId: string
  attestationJson: string
  manifestSha256: string | null
}

const TIME_COLUMNS = ['booked_at_ms', 'created_at_ms', 'recorded_at_ms', 'received_at_ms', 'planned_at_ms', 'at_ms']

/** Checks a quarter can be closed now: it ended, is not closed, and the one before it is closed or never used. */
export function closable(tx: TxDb, period: string, nowMs: number): { startMs: number; endMs: number } {
  const b = quarterBounds(period)
  if (nowMs < b.endMs)
    throw new AuditCloseError('period', `${period} has not ended yet (it ends ${new Date(b.endMs).toISOString()})`)
  if (tx.get('SELECT 1 AS x FROM audit_period WHERE period = ?', [period]))
    throw new AuditCloseError('period', `${period} is already closed`)
  return b
}

export const closePeriod = defineProcedure('audit.closePeriod', (tx, raw: ClosePeriodArgs) => {
  const a = raw
  if (typeof a !== 'object' || a === null) throw new AuditCloseError('args', 'must be an object')
  for (const k of ['closedAtMs', 'treeSize', 'ledgerSeq'] as const) {
    if (!Number.isSafeInteger(a[k]) || a[k] < 0) throw new AuditCloseError(k, 'must be an integer ≥ 0')
  }
  const b = closable(tx, a.period, a.closedAtMs)
  const n = Number(tx.get<{ n: number }>('SELECT count(*) AS n FROM audit_leaf')?.n ?? 0)
  if (a.treeSize > n)
    throw new AuditCloseError('treeSize', `the log holds ${n} entries, fewer than the head's ${a.treeSize}`)
  // Entries after the quarter head must not belong to the quarter (they would be outside what the operator signs).
  const later = tx.all<{ idx: number; entry: Uint8Array }>(
    "SELECT idx, entry FROM audit_leaf WHERE idx >= ? AND op = 'I' ORDER BY idx",
    [a.treeSize],
  )
  for (const l of later) {
    const e = decodeEntry(l.entry)
    const col = TIME_COLUMNS.map((c) => e.columns.find((x) => x.name === c)).find((x) => x !== undefined)
    if (!col || (typeof col.value !== 'bigint' && typeof col.value !== 'number')) continue
    const t = Number(col.value)
    if (t >= b.startMs && t < b.endMs)
      throw new AuditCloseError(
        'treeSize',
        `${e.table} rowid ${e.rowid} (audit entry #${l.idx}) is dated inside ${a.period} but came after the quarter head; close again`,
      )
  }
  tx.run(
    `INSERT INTO audit_period (period, start_ms, end_ms, closed_at_ms, closed_by, tree_size, root, ledger_seq,
       head_event_id, head_json, attestation_id, attestation_json, manifest_sha256)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    [
      a.period,
      b.startMs,
      b.endMs,
      a.closedAtMs,
      a.closedBy,
      a.treeSize,
      a.root,
      a.ledgerSeq,
      a.headEventId,
      a.headJson,
      a.attestationId,
      a.attestationJson,
      a.manifestSha256,
    ],
  )
  return { period: a.period }
})

/** Args {eventId, relaysOk, detail, atMs}: one publication attempt of an attestation. */
export const recordPublish = defineProcedure(
  'audit.recordPublish',
  (tx, a: { eventId: string; relaysOk: number; detail: string | null; atMs: number }) => {
    if (typeof a?.eventId !== 'string' || !/^[0-9a-f]{64}$/.test(a.eventId))
      throw new AuditCloseError('eventId', 'must be 64 hex')
    tx.run('INSERT INTO audit_publish (event_id, relays_ok, detail, at_ms) VALUES (?, ?, ?, ?)', [
      a.eventId,
      a.relaysOk,
      a.detail,
      a.atMs,
    ])
    return { ok: true }
  },
)
