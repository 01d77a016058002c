// LP lifecycle procedures (issue 5 item 4) and per-recipient payout destinations (item 3), as ledger procedures:
// each runs synchronously inside one journaled SQL transaction, takes its time and ids from its arguments, and
// refuses with an AccountingError naming the field. The money itself is H4's (src-main/accounting): deposits,
// reversing entries, running balances and dust settlement are its operations, called here inside the same
// transaction; this module adds identity (npub), destinations, deactivation, statements and history.
//
// Rules enforced here, on top of accounting's:
//   - a deactivated LP gets no new deposits and no confirmations (cancel a pending one instead), and stops
//     receiving allocations (acct_lp.active = 0, which booking already honours); its accrued msat stay payable,
//     and its destination stays readable and editable so the payout runner can still pay it;
//   - a pending deposit is "reversed" by cancelling it; a confirmed one by a reversing entry naming it (never an
//     edit), refused beyond what is left of the deposit or of the LP's balance;
//   - a statement derives every figure from the entries of the period and checks opening + Σ lines = closing.

import type {
  DepositView,
  LpEventView,
  LpHistoryLine,
  LpHistoryView,
  LpStatementView,
  LpView,
  PayoutPolicyView,
} from '../../src-shared/ipc/lps'
import { isPpm } from '../../src-shared/money/ppm'
import { amountArg, intArg, msArg, objectArg, stringArg } from '../accounting/args'
import { big, depositReversedMinor, lpBalance, recipientAccrual } from '../accounting/entries'
import { AccountingError, inputError } from '../accounting/errors'
import {
  cancelDeposit,
  confirmDeposit,
  createDeposit,
  reverseDeposit,
  settleLpDust,
  upsertLp,
} from '../accounting/operations'
import type { Row, TxDb } from '../ledger/types'
import { setRecipient } from '../payouts/procedures'

const BIG = { bigint: true } as const

export type PayoutSchedule = 'threshold' | 'daily' | 'weekly'
export const PAYOUT_SCHEDULES: readonly PayoutSchedule[] = ['threshold', 'daily', 'weekly']
export type RecipientKind = 'platform' | 'split' | 'lp'

/** A destination as stored: public parts only (an NWC destination names its sealed secret slot). */
export type StoredDestination =
  | { kind: 'lightning_address'; address: string }
  | { kind: 'nwc'; secretSlot: string; walletPubkey: string }
  | { kind: 'keysend'; nodeId: string }

/**
 * A recipient's payout policy as shown (the IPC view's shape): schedule is derived from the payout module's
 * minimum interval.
 */
export type PayoutPolicy = PayoutPolicyView

/** Minimum interval between two payouts of one recipient, per schedule. */
export const SCHEDULE_INTERVAL_MS: Readonly<Record<PayoutSchedule, number>> = {
  threshold: 0,
  daily: 86_400_000,
  weekly: 7 * 86_400_000,
}

export interface RecipientDestination {
  recipientKind: RecipientKind
  recipientId: string
  destination: StoredDestination
  payout: PayoutPolicy
  updatedAtMs: number
}

/** An LP as the ledger answers it: the IPC view plus the hex pubkey, and the destination as stored. */
export interface LpRow extends Omit<LpView, 'destination'> {
  pubkey: string | null
  destination: StoredDestination | null
}

// ---------------------------------------------------------------------------------------------------------------
// Argument parsing

const ADDRESS_RE = /^[a-z0-9\-_.+]{1,64}@[a-z0-9.-]{1,253}(?::\d{1,5})?$/
const NODE_ID_RE = /^0[23][0-9a-f]{64}$/
const HEX64_RE = /^[0-9a-f]{64}$/

export function destinationArg(field: string, v: unknown): StoredDestination {
  const d = objectArg(field, v)
  if (d.kind === 'lightning_address') {
    const address = stringArg(`${field}.address`, d.address, 320).toLowerCase()
    if (!ADDRESS_RE.test(address)) throw inputError(`${field}.address`, 'must be a Lightning address user@domain')
    return { kind: 'lightning_address', address }
  }
  if (d.kind === 'keysend') {
    const nodeId = stringArg(`${field}.nodeId`, d.nodeId, 66)
    if (!NODE_ID_RE.test(nodeId)) throw inputError(`${field}.nodeId`, 'must be a 33-byte compressed node id (hex)')
    return { kind: 'keysend', nodeId }
  }
  if (d.kind === 'nwc') {
    const walletPubkey = stringArg(`${field}.walletPubkey`, d.walletPubkey, 64)
    if (!HEX64_RE.test(walletPubkey)) throw inputError(`${field}.walletPubkey`, 'must be 64 lower-case hex digits')
    return { kind: 'nwc', secretSlot: stringArg(`${field}.secretSlot`, d.secretSlot), walletPubkey }
  }
  throw inputError(`${field}.kind`, 'must be lightning_address, nwc or keysend')
}

interface PolicyInput {
  thresholdMsat: bigint
  schedule: PayoutSchedule
  maxFeeBaseMsat: bigint
  maxFeePpm: number
}

function policyArg(field: string, v: unknown): PolicyInput {
  const p = objectArg(field, v)
  const threshold = amountArg(`${field}.thresholdMsat`, p.thresholdMsat, 1000n)
  if (threshold % 1000n !== 0n) throw inputError(`${field}.thresholdMsat`, 'must be whole sats (a multiple of 1000)')
  const schedule = p.schedule
  if (!PAYOUT_SCHEDULES.includes(schedule as PayoutSchedule)) {
    throw inputError(`${field}.schedule`, `must be one of ${PAYOUT_SCHEDULES.join(', ')}`)
  }
  if (!isPpm(p.maxFeePpm)) throw inputError(`${field}.maxFeePpm`, 'must be an integer ppm between 0 and 1000000')
  const base = amountArg(`${field}.maxFeeBaseMsat`, p.maxFeeBaseMsat ?? '0')
  return {
    thresholdMsat: threshold,
    schedule: schedule as PayoutSchedule,
    maxFeeBaseMsat: base,
    maxFeePpm: p.maxFeePpm,
  }
}

function policyView(p: PolicyInput): PayoutPolicy {
  return {
    thresholdMsat: p.thresholdMsat.toString(),
    schedule: p.schedule,
    minIntervalMs: SCHEDULE_INTERVAL_MS[p.schedule],
    maxFeeBaseMsat: p.maxFeeBaseMsat.toString(),
    maxFeePpm: p.maxFeePpm,
  }
}

function recipientKindArg(field: string, v: unknown): RecipientKind {
  if (v !== 'platform' && v !== 'split' && v !== 'lp') throw inputError(field, 'must be platform, split or lp')
  return v
}

// ---------------------------------------------------------------------------------------------------------------
// Reads

interface RecipientRow extends Row {
  threshold_msat: bigint
  min_interval_ms: bigint
  max_fee_base_msat: bigint
  max_fee_ppm: bigint
  destination_json: string
  updated_at_ms: bigint
}

/** Reads a destination back from the payout module's JSON; null when it is not one of ours (e.g. `{}`). */
function destFromJson(text: string): StoredDestination | null {
  let d: unknown
  try {
    d = JSON.parse(text)
  } catch {
    return null
  }
  try {
    return destinationArg('destination', d)
  } catch {
    return null
  }
}

function policyFromRow(r: RecipientRow): PayoutPolicy {
  const interval = Number(r.min_interval_ms)
  const schedule = PAYOUT_SCHEDULES.find((k) => SCHEDULE_INTERVAL_MS[k] === interval) ?? 'custom'
  return {
    thresholdMsat: big(r.threshold_msat).toString(),
    schedule,
    minIntervalMs: interval,
    maxFeeBaseMsat: big(r.max_fee_base_msat).toString(),
    maxFeePpm: Number(r.max_fee_ppm),
  }
}

function destRow(db: TxDb, kind: RecipientKind, id: string): RecipientRow | undefined {
  return db.get<RecipientRow>(
    'SELECT * FROM payout_recipient WHERE recipient_kind = ? AND recipient_id = ?',
    [kind, id],
    BIG,
  )
}

/** The recipient's destination and payout policy, or null (for the payout runner and the resolver). */
export function destinationFor(db: TxDb, raw: unknown): RecipientDestination | null {
  const a = objectArg('args', raw)
  const kind = recipientKindArg('recipientKind', a.recipientKind)
  const id = stringArg('recipientId', a.recipientId)
  const r = destRow(db, kind, id)
  const destination = r ? destFromJson(r.destination_json) : null
  if (!r || !destination) return null
  return {
    recipientKind: kind,
    recipientId: id,
    destination,
    payout: policyFromRow(r),
    updatedAtMs: Number(r.updated_at_ms),
  }
}

interface LpJoinRow extends Row {
  id: string
  name: string
  currency: string
  machine_id: string | null
  mode: string
  daily_limit_minor: bigint | null
  active: bigint
  created_at_ms: bigint
  npub: string | null
  pubkey: string | null
  registered_at_ms: bigint | null
  deactivated_at_ms: bigint | null
  deactivation_reason: string | null
}

const LP_SELECT = `SELECT l.id, l.name, l.currency, l.machine_id, l.mode, l.daily_limit_minor, l.active, l.created_at_ms,
  p.npub, p.pubkey, p.registered_at_ms, p.deactivated_at_ms, p.deactivation_reason
  FROM acct_lp l LEFT JOIN lp_profile p ON p.lp_id = l.id`

function lpView(db: TxDb, r: LpJoinRow): LpRow {
  const pending = big(
    db.get(
      "SELECT COALESCE(SUM(amount_minor), 0) AS s FROM acct_deposit WHERE lp_id = ? AND status = 'pending'",
      [r.id],
      BIG,
    )?.s,
  )
  const d = destRow(db, 'lp', r.id)
  return {
    id: r.id,
    name: r.name,
    npub: r.npub,
    pubkey: r.pubkey,
    currency: r.currency,
    machineId: r.machine_id,
    mode: r.mode as 'flow' | 'fixed',
    dailyLimitMinor: r.daily_limit_minor === null ? null : big(r.daily_limit_minor).toString(),
    active: Number(r.active) === 1,
    registeredAtMs: Number(r.registered_at_ms ?? r.created_at_ms),
    deactivatedAtMs: r.deactivated_at_ms === null ? null : Number(r.deactivated_at_ms),
    deactivationReason: r.deactivation_reason,
    balanceMinor: lpBalance(db, r.id).toString(),
    pendingDepositsMinor: pending.toString(),
    accruedMsat: recipientAccrual(db, 'lp', r.id).toString(),
    destination: d ? destFromJson(d.destination_json) : null,
    payout: d ? policyFromRow(d) : null,
  }
}

function getLp(db: TxDb, id: string, field = 'lpId'): LpRow {
  const r = db.get<LpJoinRow>(`${LP_SELECT} WHERE l.id = ?`, [id], BIG)
  if (!r) throw new AccountingError('E_NOT_FOUND', field, `no LP ${id}`)
  return lpView(db, r)
}

export function listLps(db: TxDb, raw: unknown): LpRow[] {
  const a = raw === undefined ? {} : objectArg('args', raw)
  const all = a.includeInactive === true
  const rows = db.all<LpJoinRow>(`${LP_SELECT}${all ? '' : ' WHERE l.active = 1'} ORDER BY l.name, l.id`, [], BIG)
  return rows.map((r) => lpView(db, r))
}

export function getLpProcedure(db: TxDb, raw: unknown): LpRow {
  const a = objectArg('args', raw)
  return getLp(db, stringArg('lpId', a.lpId))
}

// ---------------------------------------------------------------------------------------------------------------
// Writes

function lpEvent(db: TxDb, lpId: string, kind: string, detail: unknown, author: string, atMs: number): void {
  db.run('INSERT INTO lp_event (lp_id, kind, detail_json, author, at_ms) VALUES (?, ?, ?, ?, ?)', [
    lpId,
    kind,
    JSON.stringify(detail),
    author,
    atMs,
  ])
}

/**
 * Writes the recipient's destination and policy through the payout module's own procedure, so its validation and
 * its planner see exactly what was set. `active` stays true even for a deactivated LP: accrued sats are still paid.
 */
function writeDestination(
  db: TxDb,
  kind: RecipientKind,
  id: string,
  d: StoredDestination,
  p: PolicyInput,
  atMs: number,
): void {
  setRecipient(db, {
    recipientKind: kind,
    recipientId: id,
    thresholdMsat: p.thresholdMsat,
    minIntervalMs: SCHEDULE_INTERVAL_MS[p.schedule],
    maxFeeBaseMsat: p.maxFeeBaseMsat,
    maxFeePpm: p.maxFeePpm,
    destination: d,
    active: true,
    atMs,
  })
}

/** The public description of a destination for history (never a secret slot's content). */
function destDetail(d: StoredDestination): Record<string, string> {
  if (d.kind === 'lightning_address') return { kind: d.kind, address: d.address }
  if (d.kind === 'keysend') return { kind: d.kind, nodeId: d.nodeId }
  return { kind: d.kind, walletPubkey: d.walletPubkey }
}

/**
 * Registers an LP: the accounting LP (mode, daily limit, currency, machine), its Nostr identity and its payout
 * destination and policy, in one transaction. Refuses an id or a pubkey already registered (E_CONFLICT).
 */
export function registerLp(db: TxDb, raw: unknown): LpRow {
  const a = objectArg('args', raw)
  const id = stringArg('id', a.id, 100)
  const npub = stringArg('npub', a.npub, 100)
  if (!/^npub1[02-9ac-hj-np-z]{58}$/.test(npub)) throw inputError('npub', 'must be a bech32 npub')
  const pubkey = stringArg('pubkey', a.pubkey, 64)
  if (!HEX64_RE.test(pubkey)) throw inputError('pubkey', 'must be 64 lower-case hex digits')
  const atMs = msArg('atMs', a.atMs)
  const author = stringArg('author', a.author ?? 'operator')
  const destination = destinationArg('destination', a.destination)
  const payout = policyArg('payout', a.payout)
  if (db.get('SELECT 1 AS x FROM acct_lp WHERE id = ?', [id])) {
    throw new AccountingError('E_CONFLICT', 'id', `LP ${id} exists`)
  }
  const other = db.get<{ lp_id: string }>('SELECT lp_id FROM lp_profile WHERE pubkey = ?', [pubkey])
  if (other) throw new AccountingError('E_CONFLICT', 'npub', `this npub is already registered as LP ${other.lp_id}`)
  if (a.machineId !== undefined && a.machineId !== null) {
    const m = stringArg('machineId', a.machineId)
    if (!db.get('SELECT 1 AS x FROM acct_machine WHERE id = ?', [m])) {
      throw new AccountingError('E_NOT_FOUND', 'machineId', `no machine ${m}`)
    }
  }
  upsertLp(db, {
    id,
    name: a.name,
    currency: a.currency,
    machineId: a.machineId ?? null,
    mode: a.mode,
    dailyLimitMinor: a.dailyLimitMinor,
    active: true,
    atMs,
  })
  db.run('INSERT INTO lp_profile (lp_id, npub, pubkey, registered_at_ms) VALUES (?, ?, ?, ?)', [id, npub, pubkey, atMs])
  writeDestination(db, 'lp', id, destination, payout, atMs)
  lpEvent(
    db,
    id,
    'registered',
    { npub, mode: a.mode, destination: destDetail(destination), payout: policyView(payout) },
    author,
    atMs,
  )
  return getLp(db, id, 'id')
}

/** Sets (or replaces) any recipient's destination and payout policy; for an LP the change lands in its history. */
export function setPayoutDestination(db: TxDb, raw: unknown): RecipientDestination {
  const a = objectArg('args', raw)
  const kind = recipientKindArg('recipientKind', a.recipientKind)
  const id = stringArg('recipientId', a.recipientId)
  const destination = destinationArg('destination', a.destination)
  const payout = policyArg('payout', a.payout)
  const atMs = msArg('atMs', a.atMs)
  const author = stringArg('author', a.author ?? 'operator')
  if (kind === 'lp') {
    getLp(db, id, 'recipientId')
    lpEvent(db, id, 'destination', { destination: destDetail(destination), payout: policyView(payout) }, author, atMs)
  }
  writeDestination(db, kind, id, destination, payout, atMs)
  return { recipientKind: kind, recipientId: id, destination, payout: policyView(payout), updatedAtMs: atMs }
}

function activeLp(db: TxDb, lpId: string, field: string, what: string): LpRow {
  const lp = getLp(db, lpId, field)
  if (!lp.active) throw new AccountingError('E_STATE', field, `LP ${lpId} is deactivated; ${what}`)
  return lp
}

/** A deposit as the ledger answers it; the service hands it to the renderer as is. */
export type DepositRow = DepositView

function depositRow(db: TxDb, id: string): DepositRow {
  const r = db.get<{
    id: string
    lp_id: string
    amount_minor: bigint
    status: string
    created_at_ms: bigint
    confirmed_at_ms: bigint | null
    closed_at_ms: bigint | null
    note: string | null
  }>('SELECT * FROM acct_deposit WHERE id = ?', [id], BIG)
  if (!r) throw new AccountingError('E_NOT_FOUND', 'depositId', `no deposit ${id}`)
  const reversed = depositReversedMinor(db, id)
  return {
    depositId: r.id,
    lpId: r.lp_id,
    amountMinor: big(r.amount_minor).toString(),
    status: r.status as DepositRow['status'],
    createdAtMs: Number(r.created_at_ms),
    confirmedAtMs: r.confirmed_at_ms === null ? null : Number(r.confirmed_at_ms),
    closedAtMs: r.closed_at_ms === null ? null : Number(r.closed_at_ms),
    note: r.note,
    reversedMinor: reversed.toString(),
  }
}

/** Records fiat an LP handed over, as a pending deposit (it counts only once confirmed). */
export function recordLpDeposit(db: TxDb, raw: unknown): DepositRow {
  const a = objectArg('args', raw)
  const lpId = stringArg('lpId', a.lpId)
  activeLp(db, lpId, 'lpId', 'it takes no new deposits')
  const { depositId } = createDeposit(db, {
    id: a.id,
    lpId,
    amountMinor: a.amountMinor,
    atMs: a.atMs,
    note: a.note,
  })
  return depositRow(db, depositId)
}

/** pending → confirmed: the cash is in the machine and now counts in the LP's balance. */
export function confirmLpDeposit(db: TxDb, raw: unknown): DepositRow & { balanceMinor: string } {
  const a = objectArg('args', raw)
  const depositId = stringArg('depositId', a.depositId)
  const d = depositRow(db, depositId)
  if (d.status === 'pending') activeLp(db, d.lpId, 'depositId', 'cancel this deposit instead')
  const { balanceMinor } = confirmDeposit(db, { depositId, atMs: a.atMs })
  return { ...depositRow(db, depositId), balanceMinor }
}

/**
 * Takes a deposit back: a pending one is cancelled; a confirmed one gets a reversing entry naming it, for
 * `amountMinor` (default: all that is left), refused beyond the deposit's rest or the LP's balance.
 */
export function reverseLpDeposit(db: TxDb, raw: unknown): DepositRow & { balanceMinor: string } {
  const a = objectArg('args', raw)
  const depositId = stringArg('depositId', a.depositId)
  const reason = stringArg('reason', a.reason, 2000)
  const atMs = msArg('atMs', a.atMs)
  const author = stringArg('author', a.author ?? 'operator')
  const d = depositRow(db, depositId)
  if (d.status === 'pending') {
    if (a.amountMinor !== undefined && a.amountMinor !== null && String(a.amountMinor) !== d.amountMinor) {
      throw new AccountingError('E_STATE', 'amountMinor', 'a pending deposit is cancelled whole')
    }
    cancelDeposit(db, { depositId, atMs })
    db.run('INSERT INTO acct_note (lp_id, author, system, text, created_at_ms) VALUES (?, ?, 1, ?, ?)', [
      d.lpId,
      author,
      `deposit ${depositId} cancelled: ${reason}`.slice(0, 2000),
      atMs,
    ])
  } else if (d.status === 'confirmed') {
    reverseDeposit(db, { depositId, atMs, author, reason, amountMinor: a.amountMinor ?? undefined })
  } else {
    throw new AccountingError('E_STATE', 'depositId', `deposit ${depositId} is ${d.status}`)
  }
  return { ...depositRow(db, depositId), balanceMinor: lpBalance(db, d.lpId).toString() }
}

/** Dust settlement: closes (part of) the LP's remaining fiat at the operator's rate; the LP accrues the msat. */
export function dustSettleLp(
  db: TxDb,
  raw: unknown,
): { dustId: number; fiatMinor: string; msat: string; balanceMinor: string; accruedMsat: string } {
  const a = objectArg('args', raw)
  const lpId = stringArg('lpId', a.lpId)
  getLp(db, lpId)
  const r = settleLpDust(db, {
    lpId,
    rateMsatPerMajor: a.rateMsatPerMajor,
    fiatMinor: a.fiatMinor ?? undefined,
    atMs: a.atMs,
    author: a.author ?? 'operator',
    note: a.note,
  })
  return {
    ...r,
    balanceMinor: lpBalance(db, lpId).toString(),
    accruedMsat: recipientAccrual(db, 'lp', lpId).toString(),
  }
}

/**
 * Deactivates an LP: no new allocations, deposits or confirmations from now on. Accrued msat stay accrued and
 * payable to the LP's destination. With `settleRemainder`, the remaining fiat balance is dust-settled at the given
 * rate in the same transaction; otherwise it stays on the books (shown as owed back to the LP).
 */
export function deactivateLp(db: TxDb, raw: unknown): LpRow & { settledMsat: string | null } {
  const a = objectArg('args', raw)
  const lpId = stringArg('lpId', a.lpId)
  const reason = stringArg('reason', a.reason, 2000)
  const atMs = msArg('atMs', a.atMs)
  const author = stringArg('author', a.author ?? 'operator')
  const lp = getLp(db, lpId)
  if (!lp.active) throw new AccountingError('E_STATE', 'lpId', `LP ${lpId} is already deactivated`)
  let settledMsat: string | null = null
  if (a.settleRemainder !== undefined && a.settleRemainder !== null) {
    const s = objectArg('settleRemainder', a.settleRemainder)
    if (BigInt(lp.balanceMinor) > 0n) {
      const rate = amountArg('settleRemainder.rateMsatPerMajor', s.rateMsatPerMajor, 1n)
      settledMsat = settleLpDust(db, {
        lpId,
        rateMsatPerMajor: rate,
        atMs,
        author,
        note: `deactivation: ${reason}`,
      }).msat
    }
  }
  db.run('UPDATE acct_lp SET active = 0, updated_at_ms = ? WHERE id = ?', [atMs, lpId])
  if (db.get('SELECT 1 AS x FROM lp_profile WHERE lp_id = ?', [lpId])) {
    db.run('UPDATE lp_profile SET deactivated_at_ms = ?, deactivation_reason = ? WHERE lp_id = ?', [atMs, reason, lpId])
  }
  lpEvent(
    db,
    lpId,
    'deactivated',
    { reason, remainingMinor: lpBalance(db, lpId).toString(), accruedMsat: lp.accruedMsat, settledMsat },
    author,
    atMs,
  )
  return { ...getLp(db, lpId), settledMsat }
}

// ---------------------------------------------------------------------------------------------------------------
// History and statements

export type HistoryKind = LpHistoryLine['kind']
export type HistoryLine = LpHistoryLine

interface EntryJoin extends Row {
  id: bigint
  created_at_ms: bigint
  kind: string
  delta_minor: bigint
  balance_after_minor: bigint
  deposit_id: string | null
  leg_id: bigint | null
  dust_id: bigint | null
  local_day: string | null
  leg_msat: bigint | null
  settlement_id: bigint | null
  dust_msat: bigint | null
}

const ENTRY_SELECT = `SELECT e.id, e.created_at_ms, e.kind, e.delta_minor, e.balance_after_minor, e.deposit_id, e.leg_id,
  e.dust_id, e.local_day, l.msat AS leg_msat, l.settlement_id, d.msat AS dust_msat
  FROM acct_lp_entry e LEFT JOIN acct_leg l ON l.id = e.leg_id LEFT JOIN acct_dust d ON d.id = e.dust_id`

function historyLine(r: EntryJoin): HistoryLine {
  const msat = r.leg_msat !== null ? big(r.leg_msat) : r.dust_msat !== null ? big(r.dust_msat) : 0n
  return {
    entryId: Number(r.id),
    atMs: Number(r.created_at_ms),
    kind: r.kind as HistoryKind,
    deltaMinor: big(r.delta_minor).toString(),
    balanceAfterMinor: big(r.balance_after_minor).toString(),
    msat: msat.toString(),
    depositId: r.deposit_id,
    settlementId: r.settlement_id === null ? null : Number(r.settlement_id),
    legId: r.leg_id === null ? null : Number(r.leg_id),
    dustId: r.dust_id === null ? null : Number(r.dust_id),
    localDay: r.local_day,
  }
}

export type LpEventRow = LpEventView

function lpEvents(db: TxDb, lpId: string, fromMs = 0, toMs = Number.MAX_SAFE_INTEGER): LpEventRow[] {
  return db
    .all<{ at_ms: bigint; kind: string; author: string; detail_json: string }>(
      'SELECT at_ms, kind, author, detail_json FROM lp_event WHERE lp_id = ? AND at_ms >= ? AND at_ms < ? ORDER BY at_ms, id',
      [lpId, fromMs, toMs],
      BIG,
    )
    .map((r) => ({
      atMs: Number(r.at_ms),
      kind: r.kind as LpEventRow['kind'],
      author: r.author,
      detail: JSON.parse(r.detail_json) as Record<string, unknown>,
    }))
}

/** The LP's money lines, newest first, `limit` per page; `before` is the previous page's `next`. */
export function lpHistory(db: TxDb, raw: unknown): LpHistoryView {
  const a = objectArg('args', raw)
  const lpId = stringArg('lpId', a.lpId)
  getLp(db, lpId)
  const limit = a.limit === undefined ? 100 : intArg('limit', a.limit, 1, 1000)
  let before = Number.MAX_SAFE_INTEGER
  if (a.before !== undefined && a.before !== null) {
    if (typeof a.before !== 'string' || !/^\d{1,15}$/.test(a.before)) throw inputError('before', 'must be a cursor')
    before = Number(a.before)
  }
  const rows = db.all<EntryJoin>(
    `${ENTRY_SELECT} WHERE e.lp_id = ? AND e.id < ? ORDER BY e.id DESC LIMIT ?`,
    [lpId, before, limit + 1],
    BIG,
  )
  const more = rows.length > limit
  const lines = rows.slice(0, limit).map(historyLine)
  const first = a.before === undefined || a.before === null
  const deposits = first
    ? db
        .all<{ id: string }>('SELECT id FROM acct_deposit WHERE lp_id = ? ORDER BY created_at_ms DESC, id', [lpId])
        .map((d) => depositRow(db, d.id))
    : []
  return {
    lines,
    next: more ? String(lines[lines.length - 1]!.entryId) : null,
    events: first ? lpEvents(db, lpId) : [],
    deposits,
  }
}

/** A statement as the ledger answers it: the IPC view, with the LP as the ledger holds it (the service maps it). */
export interface LpStatement extends Omit<LpStatementView, 'lp'> {
  lp: LpRow
}

/**
 * A statement for [fromMs, toMs): every line of the period and the totals derived from them. The opening balance
 * is the sum of every earlier entry, so opening + Σ lines = closing holds by construction and is asserted.
 */
export function lpStatement(db: TxDb, raw: unknown): LpStatement {
  const a = objectArg('args', raw)
  const lpId = stringArg('lpId', a.lpId)
  const fromMs = msArg('fromMs', a.fromMs)
  const toMs = msArg('toMs', a.toMs)
  if (toMs <= fromMs) throw inputError('toMs', 'must be after fromMs')
  const lp = getLp(db, lpId)
  const sumBefore = (ms: number) =>
    big(
      db.get(
        'SELECT COALESCE(SUM(delta_minor), 0) AS s FROM acct_lp_entry WHERE lp_id = ? AND created_at_ms < ?',
        [lpId, ms],
        BIG,
      )?.s,
    )
  const accruedBefore = (ms: number) =>
    big(
      db.get(
        "SELECT COALESCE(SUM(delta_msat), 0) AS s FROM acct_accrual WHERE recipient_kind = 'lp' AND recipient_id = ? AND created_at_ms < ?",
        [lpId, ms],
        BIG,
      )?.s,
    )
  const opening = sumBefore(fromMs)
  const closing = sumBefore(toMs)
  const lines = db
    .all<EntryJoin>(
      `${ENTRY_SELECT} WHERE e.lp_id = ? AND e.created_at_ms >= ? AND e.created_at_ms < ? ORDER BY e.created_at_ms, e.id`,
      [lpId, fromMs, toMs],
      BIG,
    )
    .map(historyLine)
  const totals = { deposit: 0n, deposit_reversal: 0n, allocation: 0n, allocation_reversal: 0n, dust: 0n }
  let earned = 0n
  let sum = 0n
  for (const l of lines) {
    const d = BigInt(l.deltaMinor)
    totals[l.kind] += d
    sum += d
    if (l.kind === 'allocation' || l.kind === 'allocation_reversal' || l.kind === 'dust') earned += BigInt(l.msat)
  }
  if (opening + sum !== closing) {
    throw new AccountingError('E_STATE', 'lpId', `statement does not add up: ${opening} + ${sum} ≠ ${closing}`)
  }
  const paidOut = -big(
    db.get(
      `SELECT COALESCE(SUM(delta_msat), 0) AS s FROM acct_accrual WHERE recipient_kind = 'lp' AND recipient_id = ?
       AND created_at_ms >= ? AND created_at_ms < ? AND leg_id IS NULL AND dust_id IS NULL AND delta_msat < 0`,
      [lpId, fromMs, toMs],
      BIG,
    )?.s,
  )
  const pending = big(
    db.get(
      `SELECT COALESCE(SUM(amount_minor), 0) AS s FROM acct_deposit WHERE lp_id = ? AND created_at_ms < ?
       AND (status = 'pending' OR (status = 'confirmed' AND confirmed_at_ms >= ?) OR (status = 'cancelled' AND closed_at_ms >= ?))`,
      [lpId, toMs, toMs, toMs],
      BIG,
    )?.s,
  )
  return {
    lp,
    fromMs,
    toMs,
    currency: lp.currency,
    openingBalanceMinor: opening.toString(),
    closingBalanceMinor: closing.toString(),
    depositedMinor: totals.deposit.toString(),
    depositReversedMinor: (-totals.deposit_reversal).toString(),
    allocatedMinor: (-(totals.allocation + totals.allocation_reversal)).toString(),
    dustSettledMinor: (-totals.dust).toString(),
    earnedMsat: earned.toString(),
    openingAccruedMsat: accruedBefore(fromMs).toString(),
    closingAccruedMsat: accruedBefore(toMs).toString(),
    paidOutMsat: paidOut.toString(),
    pendingDepositsMinor: pending.toString(),
    lines,
    events: lpEvents(db, lpId, fromMs, toMs),
  }
}
