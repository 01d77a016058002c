// Ledger side of settlement receipts (issue 5 item 6; docs/protocol.md kind 3079): which processed settlements still need
// a receipt, the signed receipt stored BEFORE it is published (so a crash never signs a second, different receipt
// for the same settlement: the stored event is republished as is), and an append-only log of every publish and
// read-back attempt. A receipt counts as verified once a read-back by id from a relay returned it intact.
// Migration versions 950–959 belong to receipts.
import { FieldError } from '../../src-shared/field-error'
import { appendOnlyTriggers } from '../ledger/append-only'
import { defineMigration, defineProcedure } from '../ledger/define'
import type { Migration, Procedure, TxDb } from '../ledger/types'

export const RECEIPTS_SCHEMA_VERSION = 950

const BIG = { bigint: true } as const

export class ReceiptArgError extends FieldError {
  override readonly name = 'ReceiptArgError'
}

export const receiptsMigrations: Migration[] = [
  {
    version: RECEIPTS_SCHEMA_VERSION,
    name: 'receipts',
    up: (db: TxDb) => {
      db.run(`
CREATE TABLE rcpt_receipt (
  settlement_id INTEGER PRIMARY KEY REFERENCES acct_settlement(id),
  payment_hash TEXT NOT NULL UNIQUE,
  event_id TEXT NOT NULL UNIQUE,
  event_json TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL
);
CREATE TABLE rcpt_attempt (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  event_id TEXT NOT NULL REFERENCES rcpt_receipt(event_id),
  kind TEXT NOT NULL CHECK (kind IN ('published', 'publish_failed', 'verified', 'verify_failed')),
  relays_ok INTEGER NOT NULL,
  detail TEXT,
  at_ms INTEGER NOT NULL
);
CREATE INDEX rcpt_attempt_event ON rcpt_attempt (event_id, id);
CREATE UNIQUE INDEX rcpt_attempt_verified ON rcpt_attempt (event_id) WHERE kind = 'verified';
${appendOnlyTriggers('rcpt_receipt', 'rcpt_attempt')}
`)
    },
  },
]

function obj(raw: unknown): Record<string, unknown> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new ReceiptArgError('args', 'must be an object')
  return raw as Record<string, unknown>
}
function int(a: Record<string, unknown>, k: string, min = 0): number {
  const v = a[k]
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min)
    throw new ReceiptArgError(k, `must be an integer ≥ ${min}`)
  return v
}
const limitOf = (a: Record<string, unknown>) => (a.limit === undefined ? 100 : Math.min(int(a, 'limit', 1), 1000))

/** A processed settlement that has no stored receipt yet. Amount as a decimal string. */
export interface DueReceipt {
  settlementId: number
  paymentHash: string
  /** The kind 30079 record version that was booked (receipt `e` tag). */
  recordEventId: string
  /** The ATM's key (receipt `P` tag). */
  atmPubkey: string
  amountMsat: string
  direction: string
}

/**
 * Args { limit? } → processed settlements without a receipt, oldest first. The ATM key comes from the fleet's
 * outcome row of the booked record; a settlement booked without a record event (none today) is left out.
 */
export const due: Procedure<unknown, DueReceipt[]> = (db, raw) => {
  const a = obj(raw ?? {})
  const rows = db.all<{
    id: bigint
    payment_hash: string
    atm_event_id: string
    atm_pubkey: string
    wire_msat: bigint
    direction: string
  }>(
    `SELECT s.id, s.payment_hash, s.atm_event_id, o.atm_pubkey, s.wire_msat, s.direction
     FROM acct_settlement s
     JOIN fleet_record_outcome o ON o.event_id = s.atm_event_id AND o.outcome = 'booked'
     WHERE s.status = 'processed' AND s.atm_event_id IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM rcpt_receipt r WHERE r.settlement_id = s.id)
     ORDER BY s.id LIMIT ?`,
    [limitOf(a)],
    BIG,
  )
  return rows.map((r) => ({
    settlementId: Number(r.id),
    paymentHash: r.payment_hash,
    recordEventId: r.atm_event_id,
    atmPubkey: r.atm_pubkey,
    amountMsat: r.wire_msat.toString(),
    direction: r.direction,
  }))
}

const tagOf = (ev: { tags: string[][] }, name: string) => ev.tags.find((t) => t[0] === name)?.[1]

/**
 * Args { settlementId, eventJson, atMs } → the receipt that is stored for the settlement: this one when none was,
 * else the earlier one (`created: false`), so a retry after a crash republishes what was first signed. Refuses an
 * event whose payment_hash or amount tag disagrees with the settlement.
 */
export const store: Procedure<unknown, { created: boolean; eventJson: string; eventId: string }> = (db, raw) => {
  const a = obj(raw)
  const settlementId = int(a, 'settlementId', 1)
  const atMs = int(a, 'atMs')
  if (typeof a.eventJson !== 'string' || a.eventJson.length > 16_384)
    throw new ReceiptArgError('eventJson', 'must be a JSON string of at most 16 KiB')
  const existing = db.get<{ event_json: string; event_id: string }>(
    'SELECT event_json, event_id FROM rcpt_receipt WHERE settlement_id = ?',
    [settlementId],
  )
  if (existing) return { created: false, eventJson: existing.event_json, eventId: existing.event_id }
  const s = db.get<{ payment_hash: string; wire_msat: bigint; status: string }>(
    'SELECT payment_hash, wire_msat, status FROM acct_settlement WHERE id = ?',
    [settlementId],
    BIG,
  )
  if (!s) throw new ReceiptArgError('settlementId', `no settlement ${settlementId}`)
  if (s.status !== 'processed') throw new ReceiptArgError('settlementId', `settlement ${settlementId} is ${s.status}`)
  let ev: { id: string; tags: string[][] }
  try {
    ev = JSON.parse(a.eventJson) as { id: string; tags: string[][] }
  } catch {
    throw new ReceiptArgError('eventJson', 'is not JSON')
  }
  if (typeof ev.id !== 'string' || !Array.isArray(ev.tags)) throw new ReceiptArgError('eventJson', 'is not an event')
  if (tagOf(ev, 'payment_hash') !== s.payment_hash)
    throw new ReceiptArgError('eventJson', 'payment_hash tag differs from the settlement')
  if (tagOf(ev, 'amount') !== s.wire_msat.toString())
    throw new ReceiptArgError('eventJson', 'amount tag differs from the settlement')
  db.run(
    'INSERT INTO rcpt_receipt (settlement_id, payment_hash, event_id, event_json, created_at_ms) VALUES (?, ?, ?, ?, ?)',
    [settlementId, s.payment_hash, ev.id, a.eventJson, atMs],
  )
  return { created: true, eventJson: a.eventJson, eventId: ev.id }
}

export interface UnverifiedReceipt {
  settlementId: number
  eventId: string
  eventJson: string
  attempts: number
  lastAttemptAtMs: number | null
}

/** Args { limit? } → stored receipts not yet verified on a relay, oldest first. */
export const unverified: Procedure<unknown, UnverifiedReceipt[]> = (db, raw) => {
  const a = obj(raw ?? {})
  const rows = db.all<{ settlement_id: bigint; event_id: string; event_json: string; n: bigint; last: bigint | null }>(
    `SELECT r.settlement_id, r.event_id, r.event_json,
       (SELECT COUNT(*) FROM rcpt_attempt t WHERE t.event_id = r.event_id) AS n,
       (SELECT MAX(at_ms) FROM rcpt_attempt t WHERE t.event_id = r.event_id) AS last
     FROM rcpt_receipt r
     WHERE NOT EXISTS (SELECT 1 FROM rcpt_attempt t WHERE t.event_id = r.event_id AND t.kind = 'verified')
     ORDER BY r.settlement_id LIMIT ?`,
    [limitOf(a)],
    BIG,
  )
  return rows.map((r) => ({
    settlementId: Number(r.settlement_id),
    eventId: r.event_id,
    eventJson: r.event_json,
    attempts: Number(r.n),
    lastAttemptAtMs: r.last === null ? null : Number(r.last),
  }))
}

/** Args { eventId, kind, relaysOk, detail?, atMs }. A second 'verified' for the same receipt is ignored. */
export const recordAttempt: Procedure<unknown, { recorded: boolean }> = (db, raw) => {
  const a = obj(raw)
  const kind = a.kind
  if (kind !== 'published' && kind !== 'publish_failed' && kind !== 'verified' && kind !== 'verify_failed')
    throw new ReceiptArgError('kind', 'must be published, publish_failed, verified or verify_failed')
  if (typeof a.eventId !== 'string') throw new ReceiptArgError('eventId', 'must be a string')
  if (!db.get('SELECT 1 AS x FROM rcpt_receipt WHERE event_id = ?', [a.eventId]))
    throw new ReceiptArgError('eventId', 'no stored receipt with this id')
  const detail = typeof a.detail === 'string' ? a.detail.slice(0, 2000) : null
  const r = db.run(
    'INSERT OR IGNORE INTO rcpt_attempt (event_id, kind, relays_ok, detail, at_ms) VALUES (?, ?, ?, ?, ?)',
    [a.eventId, kind, int(a, 'relaysOk'), detail, int(a, 'atMs')],
  )
  return { recorded: r.changes === 1 }
}

export interface ReceiptStatus {
  settlementId: number
  eventId: string | null
  verified: boolean
  attempts: Array<{ kind: string; relaysOk: number; detail: string | null; atMs: number }>
}

/** Args { settlementId } → the receipt and its attempts. */
export const status: Procedure<unknown, ReceiptStatus> = (db, raw) => {
  const settlementId = int(obj(raw), 'settlementId', 1)
  const r = db.get<{ event_id: string }>('SELECT event_id FROM rcpt_receipt WHERE settlement_id = ?', [settlementId])
  if (!r) return { settlementId, eventId: null, verified: false, attempts: [] }
  const attempts = db.all<{ kind: string; relays_ok: number; detail: string | null; at_ms: number }>(
    'SELECT kind, relays_ok, detail, at_ms FROM rcpt_attempt WHERE event_id = ? ORDER BY id',
    [r.event_id],
  )
  return {
    settlementId,
    eventId: r.event_id,
    verified: attempts.some((t) => t.kind === 'verified'),
    attempts: attempts.map((t) => ({
      kind: t.kind,
      relaysOk: Number(t.relays_ok),
      detail: t.detail,
      atMs: Number(t.at_ms),
    })),
  }
}

/** Counts for the status bar and the audit: processed settlements without receipt, unverified, verified. */
export const summary: Procedure<unknown, { due: number; unverified: number; verified: number }> = (db) => {
  const n = (sql: string) => Number(db.get<{ n: bigint }>(sql, [], BIG)?.n ?? 0n)
  return {
    due: n(
      `SELECT COUNT(*) AS n FROM acct_settlement s WHERE s.status = 'processed'
       AND NOT EXISTS (SELECT 1 FROM rcpt_receipt r WHERE r.settlement_id = s.id)`,
    ),
    unverified: n(
      `SELECT COUNT(*) AS n FROM rcpt_receipt r
       WHERE NOT EXISTS (SELECT 1 FROM rcpt_attempt t WHERE t.event_id = r.event_id AND t.kind = 'verified')`,
    ),
    verified: n("SELECT COUNT(*) AS n FROM rcpt_attempt WHERE kind = 'verified'"),
  }
}

export const receiptsProcedures: Record<string, Procedure> = {
  'receipts.due': due,
  'receipts.store': store,
  'receipts.unverified': unverified,
  'receipts.recordAttempt': recordAttempt,
  'receipts.status': status,
  'receipts.summary': summary,
}

for (const m of receiptsMigrations) defineMigration(m)
for (const [name, fn] of Object.entries(receiptsProcedures)) defineProcedure(name, fn)
