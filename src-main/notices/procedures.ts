// Ledger side of notices (issue 5 item 5; docs/architecture.md §5): who gets DMs (an LP's or recipient's Nostr key and DM
// relays), which notices were already sent (idempotency keys, so a restart never sends the same payout notice
// or monthly statement twice), and the read-only queries that gather a payout notice and a monthly LP statement
// from the accounting and payout tables. Migration versions 940–949 belong to notices.
//
// Both tables are append-only (triggers): a contact change is a new row and the newest row wins; a sent notice
// is one row that is never edited. The statement query reads acct_lp_entry (running balances, docs/settlement.md), the LP
// legs behind its allocations, and the payouts module's `payout` table when that module is installed.
import { FieldError } from '../../src-shared/field-error'
import { appendOnlyTriggers } from '../ledger/append-only'
import { defineMigration, defineProcedure } from '../ledger/define'
import type { Migration, Procedure, TxDb } from '../ledger/types'

export const NOTICES_SCHEMA_VERSION = 940

const BIG = { bigint: true } as const
const HEX64 = /^[0-9a-f]{64}$/

export class NoticeArgError extends FieldError {
  override readonly name = 'NoticeArgError'
}

export const noticesMigrations: Migration[] = [
  {
    version: NOTICES_SCHEMA_VERSION,
    name: 'notices',
    up: (db: TxDb) => {
      db.run(`
CREATE TABLE notice_contact (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  recipient_kind TEXT NOT NULL CHECK (recipient_kind IN ('lp', 'split', 'platform', 'operator')),
  recipient_id TEXT NOT NULL,
  pubkey TEXT,
  relays_json TEXT NOT NULL,
  at_ms INTEGER NOT NULL
);
CREATE INDEX notice_contact_recipient ON notice_contact (recipient_kind, recipient_id, id);
CREATE TABLE notice_sent (
  key TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  recipient_pubkey TEXT NOT NULL,
  wrap_id TEXT NOT NULL,
  relays_ok INTEGER NOT NULL,
  at_ms INTEGER NOT NULL
);
${appendOnlyTriggers('notice_contact', 'notice_sent')}
`)
    },
  },
]

// ---- argument helpers ------------------------------------------------------------------------------------------

function obj(raw: unknown): Record<string, unknown> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new NoticeArgError('args', 'must be an object')
  return raw as Record<string, unknown>
}
function str(a: Record<string, unknown>, k: string, max = 200): string {
  const v = a[k]
  if (typeof v !== 'string' || v.length === 0 || v.length > max)
    throw new NoticeArgError(k, `must be a non-empty string of at most ${max} characters`)
  return v
}
function ms(a: Record<string, unknown>, k: string): number {
  const v = a[k]
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new NoticeArgError(k, 'must be epoch ms')
  return v
}
function kindOf(a: Record<string, unknown>): string {
  const v = a.recipientKind
  if (v !== 'lp' && v !== 'split' && v !== 'platform' && v !== 'operator')
    throw new NoticeArgError('recipientKind', 'must be lp, split, platform or operator')
  return v
}
const big = (v: unknown): bigint => (typeof v === 'bigint' ? v : BigInt((v as number | string | null) ?? 0))
const tableExists = (db: TxDb, name: string): boolean =>
  db.get("SELECT 1 AS x FROM sqlite_master WHERE type = 'table' AND name = ?", [name]) !== undefined

// ---- contacts --------------------------------------------------------------------------------------------------

export interface NoticeContact {
  recipientKind: string
  recipientId: string
  /** x-only hex; null when DMs were switched off for this recipient. */
  pubkey: string | null
  relays: string[]
  atMs: number
}

/** Args { recipientKind, recipientId, pubkey (hex or null), relays: string[], atMs }. */
export const setContact: Procedure<unknown, { ok: true }> = (db, raw) => {
  const a = obj(raw)
  const kind = kindOf(a)
  const id = str(a, 'recipientId')
  const pubkey = a.pubkey === null ? null : str(a, 'pubkey', 64)
  if (pubkey !== null && !HEX64.test(pubkey)) throw new NoticeArgError('pubkey', 'must be 64 lowercase hex or null')
  const relays = a.relays ?? []
  if (
    !Array.isArray(relays) ||
    relays.length > 20 ||
    !relays.every((r) => typeof r === 'string' && /^wss?:\/\/\S+$/.test(r))
  )
    throw new NoticeArgError('relays', 'must be at most 20 ws:// or wss:// URLs')
  db.run(
    'INSERT INTO notice_contact (recipient_kind, recipient_id, pubkey, relays_json, at_ms) VALUES (?, ?, ?, ?, ?)',
    [kind, id, pubkey, JSON.stringify(relays), ms(a, 'atMs')],
  )
  return { ok: true }
}

type ContactRow = {
  recipient_kind: string
  recipient_id: string
  pubkey: string | null
  relays_json: string
  at_ms: number
}
const contactOf = (r: ContactRow): NoticeContact => ({
  recipientKind: r.recipient_kind,
  recipientId: r.recipient_id,
  pubkey: r.pubkey,
  relays: JSON.parse(r.relays_json) as string[],
  atMs: Number(r.at_ms),
})

/**
 * Args { recipientKind, recipientId } → the newest contact, or null. For an LP without a contact row, the npub
 * registered in the LP module (`lp_profile`, when installed) is used, with no relays (its kind 10050 list decides).
 */
export const getContact: Procedure<unknown, NoticeContact | null> = (db, raw) => {
  const a = obj(raw)
  const kind = kindOf(a)
  const id = str(a, 'recipientId')
  const r = db.get<ContactRow>(
    `SELECT recipient_kind, recipient_id, pubkey, relays_json, at_ms FROM notice_contact
     WHERE recipient_kind = ? AND recipient_id = ? ORDER BY id DESC LIMIT 1`,
    [kind, id],
  )
  if (r) return contactOf(r)
  if (kind === 'lp' && tableExists(db, 'lp_profile')) {
    const p = db.get<{ pubkey: string; registered_at_ms: number; deactivated_at_ms: number | null }>(
      'SELECT pubkey, registered_at_ms, deactivated_at_ms FROM lp_profile WHERE lp_id = ?',
      [id],
    )
    if (p)
      return { recipientKind: 'lp', recipientId: id, pubkey: p.pubkey, relays: [], atMs: Number(p.registered_at_ms) }
  }
  return null
}

// ---- sent markers ----------------------------------------------------------------------------------------------

/** Args { key } → whether a notice with this idempotency key went out, and its wrap id. */
export const wasSent: Procedure<unknown, { sent: boolean; wrapId: string | null }> = (db, raw) => {
  const r = db.get<{ wrap_id: string }>('SELECT wrap_id FROM notice_sent WHERE key = ?', [str(obj(raw), 'key', 300)])
  return { sent: r !== undefined, wrapId: r?.wrap_id ?? null }
}

/** Args { key, kind, recipientPubkey, wrapId, relaysOk, atMs } → inserted (false when the key was already there). */
export const markSent: Procedure<unknown, { inserted: boolean }> = (db, raw) => {
  const a = obj(raw)
  const relaysOk = a.relaysOk
  if (typeof relaysOk !== 'number' || !Number.isSafeInteger(relaysOk) || relaysOk < 0)
    throw new NoticeArgError('relaysOk', 'must be a non-negative integer')
  const r = db.run(
    `INSERT OR IGNORE INTO notice_sent (key, kind, recipient_pubkey, wrap_id, relays_ok, at_ms)
     VALUES (?, ?, ?, ?, ?, ?)`,
    [str(a, 'key', 300), str(a, 'kind'), str(a, 'recipientPubkey', 64), str(a, 'wrapId', 64), relaysOk, ms(a, 'atMs')],
  )
  return { inserted: r.changes === 1 }
}

// ---- payout notice data ----------------------------------------------------------------------------------------

/** What a payout-paid notice needs; bigints as decimal strings (JSON-safe across the worker boundary). */
export interface PayoutNoticeData {
  payoutId: string
  lpId: string
  lpName: string
  currency: string
  paidMsat: string
  paymentHash: string
  paidAtMs: number
  fiatEquivalentMinor: string
  remainingBalanceMinor: string
  stillAccruedMsat: string
}

/**
 * Args { payoutId } → the data of a paid LP payout, or null when the payout is not an LP payout or not paid.
 * The fiat equivalent is at the settlement rate of the legs it paid: Σ fiat / Σ msat of those legs applied to the
 * paid amount (floor); when it covered no whole leg, the rate of the LP's newest live leg is used.
 */
export const payoutNotice: Procedure<unknown, PayoutNoticeData | null> = (db, raw) => {
  const payoutId = str(obj(raw), 'payoutId')
  if (!tableExists(db, 'payout')) return null
  const p = db.get<{
    recipient_kind: string
    recipient_id: string
    amount_msat: bigint
    payment_hash: string
    state: string
  }>('SELECT recipient_kind, recipient_id, amount_msat, payment_hash, state FROM payout WHERE id = ?', [payoutId], BIG)
  if (p?.recipient_kind !== 'lp' || p.state !== 'paid') return null
  const lp = db.get<{ name: string; currency: string }>('SELECT name, currency FROM acct_lp WHERE id = ?', [
    p.recipient_id,
  ])
  if (!lp) return null
  const paidAt = db.get<{ at_ms: bigint }>(
    "SELECT at_ms FROM payout_event WHERE payout_id = ? AND to_state = 'paid' ORDER BY id DESC LIMIT 1",
    [payoutId],
    BIG,
  )
  let legs = db.get<{ msat: bigint; fiat: bigint }>(
    'SELECT COALESCE(SUM(msat), 0) AS msat, COALESCE(SUM(fiat_minor), 0) AS fiat FROM acct_leg WHERE paid_ref = ?',
    [`payout:${payoutId}`],
    BIG,
  )
  // `+` on reverses_leg_id: see liveLegs in accounting/entries.ts (keeps the planner off that unique index).
  if (!legs || big(legs.msat) <= 0n)
    legs = db.get<{ msat: bigint; fiat: bigint }>(
      `SELECT msat, fiat_minor AS fiat FROM acct_leg l WHERE recipient_id = ? AND kind = 'lp' AND msat > 0
         AND +reverses_leg_id IS NULL AND NOT EXISTS (SELECT 1 FROM acct_leg r WHERE r.reverses_leg_id = l.id)
       ORDER BY id DESC LIMIT 1`,
      [p.recipient_id],
      BIG,
    )
  const paid = big(p.amount_msat)
  const fiatEq = legs && big(legs.msat) > 0n ? (paid * big(legs.fiat)) / big(legs.msat) : 0n
  const balance = db.get<{ b: bigint }>(
    'SELECT balance_after_minor AS b FROM acct_lp_entry WHERE lp_id = ? ORDER BY id DESC LIMIT 1',
    [p.recipient_id],
    BIG,
  )
  const accrued = db.get<{ b: bigint }>(
    "SELECT balance_after_msat AS b FROM acct_accrual WHERE recipient_kind = 'lp' AND recipient_id = ? ORDER BY id DESC LIMIT 1",
    [p.recipient_id],
    BIG,
  )
  return {
    payoutId,
    lpId: p.recipient_id,
    lpName: lp.name,
    currency: lp.currency,
    paidMsat: paid.toString(),
    paymentHash: p.payment_hash,
    paidAtMs: Number(paidAt?.at_ms ?? 0n),
    fiatEquivalentMinor: fiatEq.toString(),
    remainingBalanceMinor: big(balance?.b ?? 0n).toString(),
    stillAccruedMsat: big(accrued?.b ?? 0n).toString(),
  }
}

// ---- monthly statement data ------------------------------------------------------------------------------------

export interface StatementData {
  lpId: string
  lpName: string
  currency: string
  openingBalanceMinor: string
  depositsMinor: string
  allocatedMinor: string
  dustMinor: string
  closingBalanceMinor: string
  allocatedMsat: string
  payoutsPaidCount: number
  payoutsPaidMsat: string
  pendingDepositsMinor: string
}

/** Args { lpId, fromMs, untilMs } (half-open) → the statement lines of one LP for that window. */
export const lpStatement: Procedure<unknown, StatementData | null> = (db, raw) => {
  const a = obj(raw)
  const lpId = str(a, 'lpId')
  const fromMs = ms(a, 'fromMs')
  const untilMs = ms(a, 'untilMs')
  if (untilMs <= fromMs) throw new NoticeArgError('untilMs', 'must be after fromMs')
  const lp = db.get<{ name: string; currency: string }>('SELECT name, currency FROM acct_lp WHERE id = ?', [lpId])
  if (!lp) return null
  const balanceBefore = (t: number) =>
    big(
      db.get<{ b: bigint }>(
        'SELECT balance_after_minor AS b FROM acct_lp_entry WHERE lp_id = ? AND created_at_ms < ? ORDER BY id DESC LIMIT 1',
        [lpId, t],
        BIG,
      )?.b ?? 0n,
    )
  const sumKinds = (kinds: string[]) =>
    big(
      db.get<{ s: bigint }>(
        `SELECT COALESCE(SUM(delta_minor), 0) AS s FROM acct_lp_entry
         WHERE lp_id = ? AND created_at_ms >= ? AND created_at_ms < ? AND kind IN (${kinds.map(() => '?').join(', ')})`,
        [lpId, fromMs, untilMs, ...kinds],
        BIG,
      )?.s,
    )
  const allocatedMsat = big(
    db.get<{ s: bigint }>(
      `SELECT COALESCE(SUM(l.msat), 0) AS s FROM acct_lp_entry e JOIN acct_leg l ON l.id = e.leg_id
       WHERE e.lp_id = ? AND e.created_at_ms >= ? AND e.created_at_ms < ? AND e.kind IN ('allocation', 'allocation_reversal')`,
      [lpId, fromMs, untilMs],
      BIG,
    )?.s,
  )
  let payoutsCount = 0
  let payoutsMsat = 0n
  if (tableExists(db, 'payout') && tableExists(db, 'payout_event')) {
    const r = db.get<{ n: bigint; s: bigint }>(
      `SELECT COUNT(*) AS n, COALESCE(SUM(p.amount_msat), 0) AS s FROM payout p
       WHERE p.recipient_kind = 'lp' AND p.recipient_id = ? AND p.state = 'paid'
         AND (SELECT MAX(e.at_ms) FROM payout_event e WHERE e.payout_id = p.id AND e.to_state = 'paid') >= ?
         AND (SELECT MAX(e.at_ms) FROM payout_event e WHERE e.payout_id = p.id AND e.to_state = 'paid') < ?`,
      [lpId, fromMs, untilMs],
      BIG,
    )
    payoutsCount = Number(r?.n ?? 0n)
    payoutsMsat = big(r?.s ?? 0n)
  }
  const pending = big(
    db.get<{ s: bigint }>(
      "SELECT COALESCE(SUM(amount_minor), 0) AS s FROM acct_deposit WHERE lp_id = ? AND status = 'pending' AND created_at_ms < ?",
      [lpId, untilMs],
      BIG,
    )?.s,
  )
  return {
    lpId,
    lpName: lp.name,
    currency: lp.currency,
    openingBalanceMinor: balanceBefore(fromMs).toString(),
    depositsMinor: sumKinds(['deposit', 'deposit_reversal']).toString(),
    allocatedMinor: (-sumKinds(['allocation', 'allocation_reversal'])).toString(),
    dustMinor: (-sumKinds(['dust'])).toString(),
    closingBalanceMinor: balanceBefore(untilMs).toString(),
    allocatedMsat: allocatedMsat.toString(),
    payoutsPaidCount: payoutsCount,
    payoutsPaidMsat: payoutsMsat.toString(),
    pendingDepositsMinor: pending.toString(),
  }
}

/** Active LPs with their newest contact (null when none is set). */
export const lpRecipients: Procedure<unknown, Array<{ lpId: string; name: string; contact: NoticeContact | null }>> = (
  db,
) => {
  const lps = db.all<{ id: string; name: string }>('SELECT id, name FROM acct_lp WHERE active = 1 ORDER BY id')
  return lps.map((l) => ({
    lpId: l.id,
    name: l.name,
    contact: getContact(db, { recipientKind: 'lp', recipientId: l.id }),
  }))
}

/**
 * Args { sinceMs, limit? } → ids of LP payouts paid since `sinceMs` whose "payout paid" notice was never recorded
 * as sent (the runner's event was lost in a crash, or the LP had no DM relays then). Oldest first.
 */
export const unnotifiedPayouts: Procedure<unknown, string[]> = (db, raw) => {
  const a = obj(raw)
  const sinceMs = ms(a, 'sinceMs')
  const limit = a.limit === undefined ? 100 : Math.min(Math.max(Number(a.limit) || 1, 1), 1000)
  if (!tableExists(db, 'payout') || !tableExists(db, 'payout_event')) return []
  return db
    .all<{ id: string }>(
      `SELECT p.id FROM payout p
       JOIN payout_event e ON e.payout_id = p.id AND e.to_state = 'paid'
       WHERE p.recipient_kind = 'lp' AND p.state = 'paid' AND e.at_ms >= ?
         AND NOT EXISTS (SELECT 1 FROM notice_sent n WHERE n.key = 'payout-paid:' || p.id)
       GROUP BY p.id ORDER BY MAX(e.at_ms), p.id LIMIT ?`,
      [sinceMs, limit],
    )
    .map((r) => r.id)
}

export const noticesProcedures: Record<string, Procedure> = {
  'notices.unnotifiedPayouts': unnotifiedPayouts,
  'notices.setContact': setContact,
  'notices.getContact': getContact,
  'notices.wasSent': wasSent,
  'notices.markSent': markSent,
  'notices.payoutNotice': payoutNotice,
  'notices.lpStatement': lpStatement,
  'notices.lpRecipients': lpRecipients,
}

for (const m of noticesMigrations) defineMigration(m)
for (const [name, fn] of Object.entries(noticesProcedures)) defineProcedure(name, fn)
