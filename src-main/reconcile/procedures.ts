// Ledger side of wallet reconciliation (issue 5 item 7): the ledger's money movements through the operator wallet
// for a window (settlements and payout attempts), and an append-only record of every reconciliation run with its
// full report, which the worklist shows and the audit export (later issue) reads. Migration versions 960–969.
//
// Ledger payments: a booked settlement (not rejected) moved its wire amount — cash-out into the wallet, cash-in out
// of it (paid by the ATM's own connection to the same wallet). A paid payout moved its amount out. Every other
// invoice a payout ever tried (payout_invoice rows of failed attempts) is listed as NOT expected to be settled, so a
// wallet that paid one anyway (a double payment) shows up as a difference naming the payout. A refund the operator
// paid the customer over Lightning from this wallet is recognised by the payment hash given as the refund's
// reference when it was marked handed back (`refund:<payment hash>`): an outgoing payment of the refund owed. A dust
// settlement needs nothing here: it accrues msat to the LP, which a payout (listed above) pays.
import { FieldError } from '../../src-shared/field-error'
import { appendOnlyTriggers } from '../ledger/append-only'
import { defineMigration, defineProcedure } from '../ledger/define'
import type { Migration, Procedure, TxDb } from '../ledger/types'

export const RECONCILE_SCHEMA_VERSION = 960

const BIG = { bigint: true } as const

export class ReconcileArgError extends FieldError {
  override readonly name = 'ReconcileArgError'
}

export const reconcileMigrations: Migration[] = [
  {
    version: RECONCILE_SCHEMA_VERSION,
    name: 'reconcile',
    up: (db: TxDb) => {
      db.run(`
CREATE TABLE recon_run (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  from_sec INTEGER NOT NULL,
  until_sec INTEGER NOT NULL CHECK (until_sec > from_sec),
  matched INTEGER NOT NULL,
  differences INTEGER NOT NULL,
  report_json TEXT NOT NULL,
  at_ms INTEGER NOT NULL
);
CREATE INDEX recon_run_period ON recon_run (from_sec, until_sec, id);
${appendOnlyTriggers('recon_run')}
`)
    },
  },
]

function obj(raw: unknown): Record<string, unknown> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new ReconcileArgError('args', 'must be an object')
  return raw as Record<string, unknown>
}
function int(a: Record<string, unknown>, k: string): number {
  const v = a[k]
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0)
    throw new ReconcileArgError(k, 'must be an integer ≥ 0')
  return v
}
const tableExists = (db: TxDb, name: string): boolean =>
  db.get("SELECT 1 AS x FROM sqlite_master WHERE type = 'table' AND name = ?", [name]) !== undefined

/** A LedgerPayment (src-shared/reconcile/wallet.ts) with the amount as a decimal string. */
export interface LedgerPaymentRow {
  ref: string
  source: 'settlement' | 'payout' | 'refund'
  direction: 'incoming' | 'outgoing'
  paymentHash: string | null
  amountMsat: string
  atMs: number
  expectedSettled: boolean
}

/** Args { fromMs, untilMs } (half-open) → the ledger's payments booked in that window. */
export const ledgerPayments: Procedure<unknown, LedgerPaymentRow[]> = (db, raw) => {
  const a = obj(raw)
  const fromMs = int(a, 'fromMs')
  const untilMs = int(a, 'untilMs')
  if (untilMs <= fromMs) throw new ReconcileArgError('untilMs', 'must be after fromMs')
  const out: LedgerPaymentRow[] = []
  const settlements = db.all<{
    id: bigint
    payment_hash: string
    direction: string
    wire_msat: bigint
    booked_at_ms: bigint
  }>(
    `SELECT id, payment_hash, direction, wire_msat, booked_at_ms FROM acct_settlement
     WHERE status <> 'rejected' AND booked_at_ms >= ? AND booked_at_ms < ? ORDER BY id`,
    [fromMs, untilMs],
    BIG,
  )
  for (const s of settlements)
    out.push({
      ref: `settlement:${s.id}`,
      source: 'settlement',
      direction: s.direction === 'cash_in' ? 'outgoing' : 'incoming',
      paymentHash: s.payment_hash,
      amountMsat: s.wire_msat.toString(),
      atMs: Number(s.booked_at_ms),
      expectedSettled: true,
    })
  if (tableExists(db, 'payout')) {
    const paid = db.all<{ id: string; payment_hash: string | null; amount_msat: bigint; at_ms: bigint }>(
      `SELECT p.id, p.payment_hash, p.amount_msat,
         COALESCE((SELECT MAX(e.at_ms) FROM payout_event e WHERE e.payout_id = p.id AND e.to_state = 'paid'),
                  p.updated_at_ms) AS at_ms
       FROM payout p WHERE p.state = 'paid'`,
      [],
      BIG,
    )
    for (const p of paid) {
      const atMs = Number(p.at_ms)
      if (atMs < fromMs || atMs >= untilMs) continue
      out.push({
        ref: `payout:${p.id}`,
        source: 'payout',
        direction: 'outgoing',
        paymentHash: p.payment_hash,
        amountMsat: p.amount_msat.toString(),
        atMs,
        expectedSettled: true,
      })
    }
    if (tableExists(db, 'payout_invoice')) {
      // Invoices of attempts other than the one that paid (or of payouts not paid): must not be settled.
      const others = db.all<{
        payment_hash: string
        payout_id: string
        attempt: bigint
        amount_msat: bigint
        created_at_ms: bigint
      }>(
        `SELECT i.payment_hash, i.payout_id, i.attempt, i.amount_msat, i.created_at_ms FROM payout_invoice i
         JOIN payout p ON p.id = i.payout_id
         WHERE NOT (p.state = 'paid' AND p.payment_hash = i.payment_hash)
           AND i.created_at_ms >= ? AND i.created_at_ms < ?`,
        [fromMs, untilMs],
        BIG,
      )
      for (const i of others)
        out.push({
          ref: `payout:${i.payout_id}#${i.attempt}`,
          source: 'payout',
          direction: 'outgoing',
          paymentHash: i.payment_hash,
          amountMsat: i.amount_msat.toString(),
          atMs: Number(i.created_at_ms),
          expectedSettled: false,
        })
    }
  }
  // Refunds handed back over Lightning: the refund leg's reference is the payment hash of that payment.
  const refunds = db.all<{ id: bigint; settlement_id: bigint; msat: bigint; paid_ref: string; paid_at_ms: bigint }>(
    `SELECT id, settlement_id, msat, paid_ref, paid_at_ms FROM acct_leg
     WHERE kind = 'refund_due' AND paid_ref LIKE 'refund:%' AND msat > 0 AND paid_at_ms >= ? AND paid_at_ms < ?
     ORDER BY id`,
    [fromMs, untilMs],
    BIG,
  )
  for (const r of refunds) {
    const hash = /^refund:(?:ln:)?([0-9a-f]{64})$/.exec(r.paid_ref)?.[1]
    if (!hash) continue // handed back in cash or by another means: not a wallet payment
    out.push({
      ref: `refund:settlement:${r.settlement_id}`,
      source: 'refund',
      direction: 'outgoing',
      paymentHash: hash,
      amountMsat: r.msat.toString(),
      atMs: Number(r.paid_at_ms),
      expectedSettled: true,
    })
  }
  return out
}

/** Args { fromSec, untilSec, matched, differences, reportJson, atMs } → the run id. */
export const saveRun: Procedure<unknown, { id: number }> = (db, raw) => {
  const a = obj(raw)
  if (typeof a.reportJson !== 'string' || a.reportJson.length > 8 * 1024 * 1024)
    throw new ReconcileArgError('reportJson', 'must be a JSON string of at most 8 MiB')
  const r = db.run(
    'INSERT INTO recon_run (from_sec, until_sec, matched, differences, report_json, at_ms) VALUES (?, ?, ?, ?, ?, ?)',
    [int(a, 'fromSec'), int(a, 'untilSec'), int(a, 'matched'), int(a, 'differences'), a.reportJson, int(a, 'atMs')],
  )
  return { id: r.lastInsertRowid }
}

export interface ReconcileRunRow {
  id: number
  fromSec: number
  untilSec: number
  matched: number
  differences: number
  reportJson: string
  atMs: number
}

/** Args { limit? } → newest runs first (the worklist shows the newest; the audit export reads by period). */
export const runs: Procedure<unknown, ReconcileRunRow[]> = (db, raw) => {
  const a = obj(raw ?? {})
  const limit = a.limit === undefined ? 10 : Math.min(Math.max(int(a, 'limit'), 1), 1000)
  return db
    .all<{
      id: number
      from_sec: number
      until_sec: number
      matched: number
      differences: number
      report_json: string
      at_ms: number
    }>(
      'SELECT id, from_sec, until_sec, matched, differences, report_json, at_ms FROM recon_run ORDER BY id DESC LIMIT ?',
      [limit],
    )
    .map((r) => ({
      id: Number(r.id),
      fromSec: Number(r.from_sec),
      untilSec: Number(r.until_sec),
      matched: Number(r.matched),
      differences: Number(r.differences),
      reportJson: r.report_json,
      atMs: Number(r.at_ms),
    }))
}

export const reconcileProcedures: Record<string, Procedure> = {
  'reconcile.ledgerPayments': ledgerPayments,
  'reconcile.saveRun': saveRun,
  'reconcile.runs': runs,
}

for (const m of reconcileMigrations) defineMigration(m)
for (const [name, fn] of Object.entries(reconcileProcedures)) defineProcedure(name, fn)
