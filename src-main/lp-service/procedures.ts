// Ledger side of LP self-service (docs/lp-rpc.md §4–§6): the request log (who asked what, when, over which
// channel, answered or refused and why — also the replay memory: an event id or an RPC request id seen once is
// refused ever after), the operator's on/off switches (global and per LP, newest row wins), and the read-only
// queries that gather an LP's own figures. The figures come from the LP module's own procedures
// (src-main/lps/procedures.ts: getLp, lpStatement) and the same tables they read, so a DM answer and the
// operator's LP screen can never disagree. Migration versions 1200–1209 belong to this module. Both tables are
// append-only (triggers).

import type {
  BalanceResult,
  ConfigResult,
  PayoutLine,
  StatementResult,
  TransactionLine,
  TransactionsResult,
} from '../../src-shared/lp-service/rpc'
import { intArg, msArg, objectArg, stringArg } from '../accounting/args'
import { big } from '../accounting/entries'
import { inputError } from '../accounting/errors'
import { appendOnlyTriggers } from '../ledger/append-only'
import { defineMigration, defineProcedure } from '../ledger/define'
import type { Migration, Procedure, TxDb } from '../ledger/types'
import { getLpProcedure, lpStatement } from '../lps/procedures'

export const LP_SERVICE_SCHEMA_VERSION = 1200
const BIG = { bigint: true } as const
const HEX64 = /^[0-9a-f]{64}$/

export const lpServiceMigrations: Migration[] = [
  {
    version: LP_SERVICE_SCHEMA_VERSION,
    name: 'lp_self_service',
    up: (db: TxDb) =>
      db.run(`
CREATE TABLE lpss_request (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at_ms INTEGER NOT NULL,
  pubkey TEXT NOT NULL CHECK (length(pubkey) = 64),
  lp_id TEXT,
  channel TEXT NOT NULL CHECK (channel IN ('dm', 'rpc')),
  event_id TEXT NOT NULL CHECK (length(event_id) = 64),
  request_id TEXT,
  method TEXT NOT NULL,
  outcome TEXT NOT NULL CHECK (outcome IN ('answered', 'refused')),
  reason TEXT,
  answer_event_id TEXT
);
CREATE INDEX lpss_request_event ON lpss_request (event_id);
CREATE INDEX lpss_request_rpc_id ON lpss_request (pubkey, request_id);
CREATE INDEX lpss_request_lp ON lpss_request (lp_id, id);
CREATE TABLE lpss_setting (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  lp_id TEXT,
  enabled INTEGER NOT NULL CHECK (enabled IN (0, 1)),
  author TEXT NOT NULL,
  at_ms INTEGER NOT NULL
);
CREATE INDEX lpss_setting_lp ON lpss_setting (lp_id, id);
${appendOnlyTriggers('lpss_request', 'lpss_setting')}
`),
  },
]

const tableExists = (db: TxDb, name: string): boolean =>
  db.get("SELECT 1 AS x FROM sqlite_master WHERE type = 'table' AND name = ?", [name]) !== undefined

/** Global switch: on unless the operator turned it off. */
function globalEnabled(db: TxDb): boolean {
  const r = db.get<{ enabled: number }>('SELECT enabled FROM lpss_setting WHERE lp_id IS NULL ORDER BY id DESC LIMIT 1')
  return r === undefined || Number(r.enabled) === 1
}
function lpEnabled(db: TxDb, lpId: string): boolean {
  const r = db.get<{ enabled: number }>('SELECT enabled FROM lpss_setting WHERE lp_id = ? ORDER BY id DESC LIMIT 1', [
    lpId,
  ])
  return r === undefined || Number(r.enabled) === 1
}

export interface ResolvedCaller {
  /** The LP registered with this pubkey, or null (unknown pubkeys get no answer at all). */
  lp: { id: string; active: boolean; enabled: boolean } | null
  globalEnabled: boolean
  /** This event id, or this pubkey's RPC request id, was seen before. */
  replay: boolean
}

/** Args { pubkey, eventId, requestId? } → who is asking and whether this request was seen before. */
export const resolveCaller: Procedure<unknown, ResolvedCaller> = (db, raw) => {
  const a = objectArg('args', raw)
  const pubkey = stringArg('pubkey', a.pubkey, 64)
  const eventId = stringArg('eventId', a.eventId, 64)
  if (!HEX64.test(pubkey)) throw inputError('pubkey', 'must be 64 lowercase hex')
  const requestId = a.requestId === undefined || a.requestId === null ? null : stringArg('requestId', a.requestId, 64)
  const seen =
    db.get('SELECT 1 AS x FROM lpss_request WHERE event_id = ? LIMIT 1', [eventId]) !== undefined ||
    (requestId !== null &&
      db.get('SELECT 1 AS x FROM lpss_request WHERE pubkey = ? AND request_id = ? LIMIT 1', [pubkey, requestId]) !==
        undefined)
  const p = tableExists(db, 'lp_profile')
    ? db.get<{ lp_id: string; active: number }>(
        'SELECT p.lp_id, l.active FROM lp_profile p JOIN acct_lp l ON l.id = p.lp_id WHERE p.pubkey = ?',
        [pubkey],
      )
    : undefined
  return {
    lp: p ? { id: p.lp_id, active: Number(p.active) === 1, enabled: lpEnabled(db, p.lp_id) } : null,
    globalEnabled: globalEnabled(db),
    replay: seen,
  }
}

export type RequestOutcome = 'answered' | 'refused'

/** Args { atMs, pubkey, lpId|null, channel, eventId, requestId|null, method, outcome, reason|null, answerEventId|null }. */
export const logRequest: Procedure<unknown, { id: number }> = (db, raw) => {
  const a = objectArg('args', raw)
  const channel = a.channel
  if (channel !== 'dm' && channel !== 'rpc') throw inputError('channel', "must be 'dm' or 'rpc'")
  const outcome = a.outcome
  if (outcome !== 'answered' && outcome !== 'refused') throw inputError('outcome', "must be 'answered' or 'refused'")
  const opt = (k: string, max: number) => (a[k] === undefined || a[k] === null ? null : stringArg(k, a[k], max))
  const r = db.run(
    `INSERT INTO lpss_request (at_ms, pubkey, lp_id, channel, event_id, request_id, method, outcome, reason, answer_event_id)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    [
      msArg('atMs', a.atMs),
      stringArg('pubkey', a.pubkey, 64),
      opt('lpId', 100),
      channel,
      stringArg('eventId', a.eventId, 64),
      opt('requestId', 64),
      stringArg('method', a.method, 40),
      outcome,
      opt('reason', 300),
      opt('answerEventId', 64),
    ],
  )
  return { id: Number(r.lastInsertRowid ?? 0) }
}

/** Args { lpId: string|null (null = the whole service), enabled, author, atMs }. */
export const setEnabled: Procedure<unknown, { ok: true }> = (db, raw) => {
  const a = objectArg('args', raw)
  const lpId = a.lpId === null || a.lpId === undefined ? null : stringArg('lpId', a.lpId, 100)
  if (lpId !== null) getLpProcedure(db, { lpId })
  if (typeof a.enabled !== 'boolean') throw inputError('enabled', 'must be a boolean')
  db.run('INSERT INTO lpss_setting (lp_id, enabled, author, at_ms) VALUES (?, ?, ?, ?)', [
    lpId,
    a.enabled ? 1 : 0,
    stringArg('author', a.author, 100),
    msArg('atMs', a.atMs),
  ])
  return { ok: true }
}

export interface RequestLogLine {
  id: number
  atMs: number
  pubkey: string
  lpId: string | null
  channel: 'dm' | 'rpc'
  method: string
  outcome: RequestOutcome
  reason: string | null
}

export interface SelfServiceStatus {
  enabled: boolean
  lps: Array<{
    lpId: string
    name: string
    active: boolean
    enabled: boolean
    answered: number
    refused: number
    lastRequests: RequestLogLine[]
  }>
  /** Requests from pubkeys that are no registered LP (never answered), newest first. */
  unknown: RequestLogLine[]
}

type LogRow = {
  id: number
  at_ms: number
  pubkey: string
  lp_id: string | null
  channel: string
  method: string
  outcome: string
  reason: string | null
}
const logLine = (r: LogRow): RequestLogLine => ({
  id: Number(r.id),
  atMs: Number(r.at_ms),
  pubkey: r.pubkey,
  lpId: r.lp_id,
  channel: r.channel as 'dm' | 'rpc',
  method: r.method,
  outcome: r.outcome as RequestOutcome,
  reason: r.reason,
})
const LOG_SELECT = 'SELECT id, at_ms, pubkey, lp_id, channel, method, outcome, reason FROM lpss_request'

/** Args { limit? } → the switches and each LP's last `limit` (default 10) requests. */
export const status: Procedure<unknown, SelfServiceStatus> = (db, raw) => {
  const a = raw === undefined ? {} : objectArg('args', raw)
  const limit = a.limit === undefined ? 10 : intArg('limit', a.limit, 1, 200)
  const lps = db.all<{ id: string; name: string; active: number }>(
    'SELECT id, name, active FROM acct_lp ORDER BY name, id',
  )
  return {
    enabled: globalEnabled(db),
    lps: lps.map((l) => {
      const c = db.get<{ answered: number; refused: number }>(
        `SELECT COALESCE(SUM(outcome = 'answered'), 0) AS answered, COALESCE(SUM(outcome = 'refused'), 0) AS refused
         FROM lpss_request WHERE lp_id = ?`,
        [l.id],
      )
      return {
        lpId: l.id,
        name: l.name,
        active: Number(l.active) === 1,
        enabled: lpEnabled(db, l.id),
        answered: Number(c?.answered ?? 0),
        refused: Number(c?.refused ?? 0),
        lastRequests: db
          .all<LogRow>(`${LOG_SELECT} WHERE lp_id = ? ORDER BY id DESC LIMIT ?`, [l.id, limit])
          .map(logLine),
      }
    }),
    unknown: db.all<LogRow>(`${LOG_SELECT} WHERE lp_id IS NULL ORDER BY id DESC LIMIT ?`, [limit]).map(logLine),
  }
}

// ---- the LP's own figures --------------------------------------------------------------------------------------

function receiptIdOf(db: TxDb, settlementId: number | null): string | null {
  if (settlementId === null || !tableExists(db, 'rcpt_receipt')) return null
  return (
    db.get<{ event_id: string }>('SELECT event_id FROM rcpt_receipt WHERE settlement_id = ?', [settlementId])
      ?.event_id ?? null
  )
}

/** Paid payouts of the LP, newest first, optionally paid within [fromMs, untilMs). */
function paidPayouts(
  db: TxDb,
  lpId: string,
  limit: number,
  fromMs = 0,
  untilMs = Number.MAX_SAFE_INTEGER,
): PayoutLine[] {
  if (!tableExists(db, 'payout') || !tableExists(db, 'payout_event')) return []
  const rows = db.all<{ id: string; amount_msat: bigint; payment_hash: string; paid_at: bigint }>(
    `SELECT p.id, p.amount_msat, p.payment_hash,
       (SELECT MAX(e.at_ms) FROM payout_event e WHERE e.payout_id = p.id AND e.to_state = 'paid') AS paid_at
     FROM payout p WHERE p.recipient_kind = 'lp' AND p.recipient_id = ? AND p.state = 'paid'
       AND (SELECT MAX(e.at_ms) FROM payout_event e WHERE e.payout_id = p.id AND e.to_state = 'paid') >= ?
       AND (SELECT MAX(e.at_ms) FROM payout_event e WHERE e.payout_id = p.id AND e.to_state = 'paid') < ?
     ORDER BY paid_at DESC, p.id DESC LIMIT ?`,
    [lpId, fromMs, untilMs, limit],
    BIG,
  )
  return rows.map((r) => {
    const settlements = db
      .all<{ s: bigint }>(
        'SELECT DISTINCT settlement_id AS s FROM acct_leg WHERE paid_ref = ? AND settlement_id IS NOT NULL ORDER BY settlement_id',
        [`payout:${r.id}`],
        BIG,
      )
      .map((x) => Number(x.s))
    return {
      payoutId: r.id,
      paidAtMs: Number(r.paid_at),
      amountMsat: big(r.amount_msat).toString(),
      paymentHash: r.payment_hash,
      receiptIds: settlements.map((s) => receiptIdOf(db, s)).filter((x): x is string => x !== null),
    }
  })
}

/** Args { lpId, nowMs } → the LP's balance answer (figures from lps.get and lps.statement over all time). */
export const balance: Procedure<unknown, BalanceResult> = (db, raw) => {
  const a = objectArg('args', raw)
  const lpId = stringArg('lpId', a.lpId, 100)
  const nowMs = msArg('nowMs', a.nowMs)
  const lp = getLpProcedure(db, { lpId })
  const all = lpStatement(db, { lpId, fromMs: 0, toMs: nowMs + 1 })
  return {
    lpId,
    name: lp.name,
    currency: lp.currency,
    active: lp.active,
    balanceMinor: lp.balanceMinor,
    pendingDepositsMinor: lp.pendingDepositsMinor,
    accruedMsat: lp.accruedMsat,
    earnedMsat: all.earnedMsat,
    paidMsat: all.paidOutMsat,
    lastPayouts: paidPayouts(db, lpId, 5),
    asOfMs: nowMs,
  }
}

type EntryRow = {
  id: bigint
  created_at_ms: bigint
  kind: string
  delta_minor: bigint
  balance_after_minor: bigint
  leg_msat: bigint | null
  settlement_id: bigint | null
  dust_msat: bigint | null
}

/**
 * Args { lpId, limit, before?, fromMs?, untilMs?, settlementsOnly? } → the LP's money lines newest first (the
 * lines of lps.history), each settlement line with its receipt id.
 */
export const transactions: Procedure<unknown, TransactionsResult> = (db, raw) => {
  const a = objectArg('args', raw)
  const lpId = stringArg('lpId', a.lpId, 100)
  const lp = getLpProcedure(db, { lpId })
  const limit = intArg('limit', a.limit, 1, 1000)
  let before = Number.MAX_SAFE_INTEGER
  if (a.before !== undefined && a.before !== null) {
    if (typeof a.before !== 'string' || !/^\d{1,15}$/.test(a.before)) throw inputError('before', 'must be a cursor')
    before = Number(a.before)
  }
  const fromMs = a.fromMs === undefined ? 0 : msArg('fromMs', a.fromMs)
  const untilMs = a.untilMs === undefined ? Number.MAX_SAFE_INTEGER : msArg('untilMs', a.untilMs)
  const only = a.settlementsOnly === true ? " AND e.kind IN ('allocation', 'allocation_reversal')" : ''
  const rows = db.all<EntryRow>(
    `SELECT e.id, e.created_at_ms, e.kind, e.delta_minor, e.balance_after_minor, l.msat AS leg_msat, l.settlement_id,
       d.msat AS dust_msat
     FROM acct_lp_entry e LEFT JOIN acct_leg l ON l.id = e.leg_id LEFT JOIN acct_dust d ON d.id = e.dust_id
     WHERE e.lp_id = ? AND e.id < ? AND e.created_at_ms >= ? AND e.created_at_ms < ?${only}
     ORDER BY e.id DESC LIMIT ?`,
    [lpId, before, fromMs, untilMs, limit + 1],
    BIG,
  )
  const more = rows.length > limit
  const lines: TransactionLine[] = rows.slice(0, limit).map((r) => {
    const settlementId = r.settlement_id === null ? null : Number(r.settlement_id)
    const msat = r.leg_msat !== null ? big(r.leg_msat) : r.dust_msat !== null ? big(r.dust_msat) : 0n
    return {
      entryId: Number(r.id),
      atMs: Number(r.created_at_ms),
      kind: r.kind as TransactionLine['kind'],
      deltaMinor: big(r.delta_minor).toString(),
      balanceAfterMinor: big(r.balance_after_minor).toString(),
      msat: msat.toString(),
      settlementId,
      receiptId: receiptIdOf(db, settlementId),
    }
  })
  return { currency: lp.currency, lines, next: more ? String(lines[lines.length - 1]!.entryId) : null }
}

/** Args { lpId, period, timeZone, fromMs, untilMs } → the statement answer (lps.statement of the window). */
export const statement: Procedure<unknown, StatementResult> = (db, raw) => {
  const a = objectArg('args', raw)
  const lpId = stringArg('lpId', a.lpId, 100)
  const fromMs = msArg('fromMs', a.fromMs)
  const untilMs = msArg('untilMs', a.untilMs)
  const s = lpStatement(db, { lpId, fromMs, toMs: untilMs })
  return {
    period: stringArg('period', a.period, 10),
    fromMs,
    untilMs,
    timeZone: stringArg('timeZone', a.timeZone, 100),
    currency: s.currency,
    openingBalanceMinor: s.openingBalanceMinor,
    depositedMinor: s.depositedMinor,
    depositReversedMinor: s.depositReversedMinor,
    allocatedMinor: s.allocatedMinor,
    dustSettledMinor: s.dustSettledMinor,
    closingBalanceMinor: s.closingBalanceMinor,
    earnedMsat: s.earnedMsat,
    paidOutMsat: s.paidOutMsat,
    openingAccruedMsat: s.openingAccruedMsat,
    closingAccruedMsat: s.closingAccruedMsat,
    pendingDepositsMinor: s.pendingDepositsMinor,
    settlementCount: new Set(s.lines.filter((l) => l.kind === 'allocation').map((l) => l.settlementId)).size,
    payouts: paidPayouts(db, lpId, 100, fromMs, untilMs),
  }
}

/** Args { lpId } → the LP's own mode, limit, payout threshold and destination (never a secret). */
export const config: Procedure<unknown, ConfigResult> = (db, raw) => {
  const lp = getLpProcedure(db, { lpId: stringArg('lpId', objectArg('args', raw).lpId, 100) })
  return {
    mode: lp.mode,
    dailyLimitMinor: lp.dailyLimitMinor,
    currency: lp.currency,
    payout: lp.payout ? { thresholdMsat: lp.payout.thresholdMsat, schedule: lp.payout.schedule } : null,
    // Public parts only: an NWC destination shows its wallet pubkey, never the sealed slot's name.
    destination:
      lp.destination === null
        ? null
        : lp.destination.kind === 'nwc'
          ? { kind: 'nwc', walletPubkey: lp.destination.walletPubkey }
          : lp.destination,
  }
}

export const lpServiceProcedures: Record<string, Procedure> = {
  'lpss.resolve': resolveCaller,
  'lpss.log': logRequest,
  'lpss.setEnabled': setEnabled,
  'lpss.status': status,
  'lpss.balance': balance,
  'lpss.transactions': transactions,
  'lpss.statement': statement,
  'lpss.config': config,
}

for (const m of lpServiceMigrations) defineMigration(m)
for (const [name, fn] of Object.entries(lpServiceProcedures)) defineProcedure(name, fn)
