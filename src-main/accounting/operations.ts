// Accounting operations besides booking (docs/settlement.md, §9): machines, fee-config history, LPs, deposits, the
// settlement state machine (pending → processing → processed / errored; retry; force-reset; rejected), partial-
// dispense recompute from the snapshot, reversing entries, dust settlement, notes, the payouts module's
// paid marks and the balance audit. One exported function per transition; each runs inside one ledger
// transaction as a procedure, takes its time from its arguments, and refuses with an AccountingError naming the
// field.

import { isCurrency, minorPerMajor } from '../../src-shared/money/iso4217'
import { isTimeZone } from '../../src-shared/money/local-day'
import { isPpm, MAX_FEE_PPM, PPM_ONE } from '../../src-shared/money/ppm'
import {
  computeSettlement,
  fiatToMsatAtRate,
  type LpInput,
  lpAvailableMinor,
  type SettlementInput,
  SettlementInputError,
  type SplitInput,
} from '../../src-shared/money/settlement'
import { settlementResultToJson } from '../../src-shared/money/settlement-json'
import type { TxDb } from '../ledger/types'
import { amountArg, intArg, msArg, objectArg, optionalAmountArg, optionalStringArg, stringArg } from './args'
import { lpsFromJson, recordRejectedRow } from './book'
import {
  addNote,
  anyLegPaid,
  appendAccrual,
  appendLpEntry,
  big,
  depositReversedMinor,
  getSettlement,
  liveLegs,
  lpBalance,
  reverseLegs,
  type SettlementStatus,
  transition,
  writeResult,
} from './entries'
import { AccountingError, inputError } from './errors'

const BIG = { bigint: true } as const

// ---- machines, config, LPs ----

export function upsertMachine(db: TxDb, raw: unknown): { machineId: string } {
  const a = objectArg('args', raw)
  const id = stringArg('id', a.id)
  const name = stringArg('name', a.name)
  const currency = stringArg('currency', a.currency, 8)
  if (!isCurrency(currency)) throw inputError('currency', 'must be an active ISO 4217 code')
  const atMs = msArg('atMs', a.atMs)
  const existing = db.get<{ currency: string }>('SELECT currency FROM acct_machine WHERE id = ?', [id])
  if (existing) {
    if (existing.currency !== currency)
      throw new AccountingError('E_CONFLICT', 'currency', 'a machine keeps its currency')
    db.run('UPDATE acct_machine SET name = ? WHERE id = ?', [name, id])
  } else {
    db.run('INSERT INTO acct_machine (id, name, currency, created_at_ms) VALUES (?, ?, ?, ?)', [
      id,
      name,
      currency,
      atMs,
    ])
  }
  return { machineId: id }
}

function splitsArg(field: string, v: unknown): SplitInput[] {
  if (v === undefined || v === null) return []
  if (!Array.isArray(v)) throw inputError(field, 'must be an array')
  const seen = new Set<string>()
  let sum = 0
  const out = v.map((s: unknown, i) => {
    const o = objectArg(`${field}[${i}]`, s)
    const id = stringArg(`${field}[${i}].id`, o.id)
    if (seen.has(id)) throw inputError(`${field}[${i}].id`, `duplicate id ${id}`)
    seen.add(id)
    if (!isPpm(o.weightPpm)) throw inputError(`${field}[${i}].weightPpm`, 'must be an integer ppm')
    sum += o.weightPpm
    return { id, weightPpm: o.weightPpm }
  })
  if (out.length > 0 && sum !== PPM_ONE) throw inputError(field, `weights must sum to ${PPM_ONE}, got ${sum}`)
  return out
}

/** Appends a fee configuration (per machine, or the fleet default when machineId is null). Never edits one. */
export function setConfig(db: TxDb, raw: unknown): { seq: number } {
  const a = objectArg('args', raw)
  const machineId = a.machineId === null || a.machineId === undefined ? null : stringArg('machineId', a.machineId)
  if (machineId && !db.get('SELECT 1 AS x FROM acct_machine WHERE id = ?', [machineId])) {
    throw new AccountingError('E_NOT_FOUND', 'machineId', `no machine ${machineId}`)
  }
  const ppm = (f: string) => {
    if (!isPpm(a[f])) throw inputError(f, 'must be an integer ppm between 0 and 1000000')
    return a[f] as number
  }
  const coX = ppm('cashOutPlatformPpm')
  const coY = ppm('cashOutOperatorPpm')
  const ciX = ppm('cashInPlatformPpm')
  const ciY = ppm('cashInOperatorPpm')
  if (coX + coY > MAX_FEE_PPM)
    throw inputError('cashOutOperatorPpm', `platform + operator must not exceed ${MAX_FEE_PPM}`)
  if (ciX + ciY > MAX_FEE_PPM)
    throw inputError('cashInOperatorPpm', `platform + operator must not exceed ${MAX_FEE_PPM}`)
  const discount = a.discountPpm === undefined ? 0 : ppm('discountPpm')
  const splits = splitsArg('splits', a.splits)
  const timeZone = a.timeZone ?? 'UTC'
  if (!isTimeZone(timeZone)) throw inputError('timeZone', 'must be an IANA time zone name')
  const r = db.run(
    `INSERT INTO acct_config (machine_id, effective_from_ms, recorded_at_ms, cash_out_platform_ppm,
     cash_out_operator_ppm, cash_in_platform_ppm, cash_in_operator_ppm, discount_ppm, splits_json, time_zone, author,
     note) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    [
      machineId,
      msArg('effectiveFromMs', a.effectiveFromMs),
      msArg('atMs', a.atMs),
      coX,
      coY,
      ciX,
      ciY,
      discount,
      JSON.stringify(splits),
      timeZone,
      stringArg('author', a.author),
      optionalStringArg('note', a.note),
    ],
  )
  return { seq: r.lastInsertRowid }
}

/** Creates an LP or changes its settings (mode, limit, active, machine); its money history is untouched. */
export function upsertLp(db: TxDb, raw: unknown): { lpId: string } {
  const a = objectArg('args', raw)
  const id = stringArg('id', a.id)
  const currency = stringArg('currency', a.currency, 8)
  if (!isCurrency(currency)) throw inputError('currency', 'must be an active ISO 4217 code')
  const mode = a.mode
  if (mode !== 'flow' && mode !== 'fixed') throw inputError('mode', 'must be flow or fixed')
  const limit = mode === 'fixed' ? amountArg('dailyLimitMinor', a.dailyLimitMinor) : null
  const machineId = a.machineId === null || a.machineId === undefined ? null : stringArg('machineId', a.machineId)
  const active = a.active === undefined ? 1 : a.active === true ? 1 : a.active === false ? 0 : -1
  if (active < 0) throw inputError('active', 'must be a boolean')
  const atMs = msArg('atMs', a.atMs)
  const name = stringArg('name', a.name)
  const existing = db.get<{ currency: string }>('SELECT currency FROM acct_lp WHERE id = ?', [id])
  if (existing) {
    if (existing.currency !== currency) throw new AccountingError('E_CONFLICT', 'currency', 'an LP keeps its currency')
    db.run(
      `UPDATE acct_lp SET name = ?, machine_id = ?, mode = ?, daily_limit_minor = ?, active = ?, updated_at_ms = ?
       WHERE id = ?`,
      [name, machineId, mode, limit, active, atMs, id],
    )
    addNote(db, {
      lpId: id,
      author: optionalStringArg('author', a.author, 200) ?? 'operator',
      system: true,
      text: `settings: mode ${mode}${limit === null ? '' : ` limit ${limit}`} ${active ? 'active' : 'inactive'}${machineId ? ` machine ${machineId}` : ''}`,
      atMs,
    })
  } else {
    db.run(
      `INSERT INTO acct_lp (id, name, currency, machine_id, mode, daily_limit_minor, active, created_at_ms,
       updated_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [id, name, currency, machineId, mode, limit, active, atMs, atMs],
    )
  }
  return { lpId: id }
}

// ---- deposits ----

export function createDeposit(db: TxDb, raw: unknown): { depositId: string } {
  const a = objectArg('args', raw)
  const id = stringArg('id', a.id)
  const lpId = stringArg('lpId', a.lpId)
  if (!db.get('SELECT 1 AS x FROM acct_lp WHERE id = ?', [lpId])) {
    throw new AccountingError('E_NOT_FOUND', 'lpId', `no LP ${lpId}`)
  }
  if (db.get('SELECT 1 AS x FROM acct_deposit WHERE id = ?', [id])) {
    throw new AccountingError('E_CONFLICT', 'id', `deposit ${id} exists`)
  }
  db.run(
    `INSERT INTO acct_deposit (id, lp_id, amount_minor, status, created_at_ms, note) VALUES (?, ?, ?, 'pending', ?, ?)`,
    [id, lpId, amountArg('amountMinor', a.amountMinor, 1n), msArg('atMs', a.atMs), optionalStringArg('note', a.note)],
  )
  return { depositId: id }
}

function pendingDeposit(db: TxDb, id: string) {
  const d = db.get<{ lp_id: string; amount_minor: bigint; status: string }>(
    'SELECT lp_id, amount_minor, status FROM acct_deposit WHERE id = ?',
    [id],
    BIG,
  )
  if (!d) throw new AccountingError('E_NOT_FOUND', 'depositId', `no deposit ${id}`)
  if (d.status !== 'pending') throw new AccountingError('E_STATE', 'depositId', `deposit ${id} is ${d.status}`)
  return d
}

/** pending → confirmed: the fiat now counts in the LP's balance. */
export function confirmDeposit(db: TxDb, raw: unknown): { balanceMinor: string } {
  const a = objectArg('args', raw)
  const id = stringArg('depositId', a.depositId)
  const atMs = msArg('atMs', a.atMs)
  const d = pendingDeposit(db, id)
  db.run("UPDATE acct_deposit SET status = 'confirmed', confirmed_at_ms = ? WHERE id = ? AND status = 'pending'", [
    atMs,
    id,
  ])
  const after = appendLpEntry(db, { lpId: d.lp_id, kind: 'deposit', deltaMinor: d.amount_minor, depositId: id, atMs })
  return { balanceMinor: after.toString() }
}

/** pending → cancelled: a deposit that never reached the machine. */
export function cancelDeposit(db: TxDb, raw: unknown): { depositId: string } {
  const a = objectArg('args', raw)
  const id = stringArg('depositId', a.depositId)
  pendingDeposit(db, id)
  db.run("UPDATE acct_deposit SET status = 'cancelled', closed_at_ms = ? WHERE id = ? AND status = 'pending'", [
    msArg('atMs', a.atMs),
    id,
  ])
  return { depositId: id }
}

/**
 * Reverses (part of) a confirmed deposit with a reversing entry naming it — the only way to take a confirmed
 * deposit back. Refused beyond what is left of the deposit or of the LP's balance (fiat already sold to
 * customers cannot be handed back).
 */
export function reverseDeposit(db: TxDb, raw: unknown): { balanceMinor: string } {
  const a = objectArg('args', raw)
  const id = stringArg('depositId', a.depositId)
  const atMs = msArg('atMs', a.atMs)
  const d = db.get<{ lp_id: string; amount_minor: bigint; status: string }>(
    'SELECT lp_id, amount_minor, status FROM acct_deposit WHERE id = ?',
    [id],
    BIG,
  )
  if (!d) throw new AccountingError('E_NOT_FOUND', 'depositId', `no deposit ${id}`)
  if (d.status !== 'confirmed') throw new AccountingError('E_STATE', 'depositId', `deposit ${id} is ${d.status}`)
  const reversed = depositReversedMinor(db, id)
  const left = d.amount_minor - reversed
  const amount = optionalAmountArg('amountMinor', a.amountMinor, 1n) ?? left
  if (amount > left)
    throw new AccountingError('E_BALANCE', 'amountMinor', `only ${left} of deposit ${id} is left to reverse`)
  const balance = lpBalance(db, d.lp_id)
  if (amount > balance) {
    throw new AccountingError('E_BALANCE', 'amountMinor', `the LP's balance is ${balance}; the rest has been drawn on`)
  }
  const after = appendLpEntry(db, { lpId: d.lp_id, kind: 'deposit_reversal', deltaMinor: -amount, depositId: id, atMs })
  addNote(db, {
    lpId: d.lp_id,
    author: stringArg('author', a.author),
    system: true,
    text: `deposit ${id} reversed by ${amount}: ${stringArg('reason', a.reason, 2000)}`,
    atMs,
  })
  return { balanceMinor: after.toString() }
}

// ---- settlement state machine ----

const settlementIdArg = (a: Record<string, unknown>): number =>
  intArg('settlementId', a.settlementId, 1, Number.MAX_SAFE_INTEGER)

/**
 * pending → processing, as one conditional UPDATE: exactly one caller wins; the others get `claimed: false`.
 * With no settlementId, claims the oldest pending settlement.
 */
export function claimSettlement(db: TxDb, raw: unknown): { claimed: boolean; settlementId: number | null } {
  const a = objectArg('args', raw)
  const token = stringArg('token', a.token)
  const atMs = msArg('atMs', a.atMs)
  let id: number
  if (a.settlementId === undefined || a.settlementId === null) {
    const next = db.get<{ id: number }>("SELECT id FROM acct_settlement WHERE status = 'pending' ORDER BY id LIMIT 1")
    if (!next) return { claimed: false, settlementId: null }
    id = Number(next.id)
  } else {
    id = settlementIdArg(a)
  }
  const claimed = transition(db, id, ['pending'], 'processing', {
    atMs,
    author: stringArg('author', a.author ?? 'worker'),
    claimToken: token,
  })
  return { claimed, settlementId: id }
}

function heldClaim(db: TxDb, id: number, token: string): void {
  const s = getSettlement(db, id)
  if (s.status !== 'processing' || s.claim_token !== token) {
    throw new AccountingError('E_CLAIM', 'token', `settlement ${id} is not being processed under this claim`)
  }
}

/**
 * processing → `to`, only by the holder of the claim: the one shape of "a worker finished (or gave up on) the
 * settlement it claimed". `reason` reads the transition's reason from the arguments, when `to` has one.
 */
function endClaim(
  db: TxDb,
  raw: unknown,
  to: 'processed' | 'errored',
  reason?: (a: Record<string, unknown>) => string,
): { status: SettlementStatus } {
  const a = objectArg('args', raw)
  const id = settlementIdArg(a)
  const token = stringArg('token', a.token)
  heldClaim(db, id, token)
  transition(db, id, ['processing'], to, {
    atMs: msArg('atMs', a.atMs),
    author: stringArg('author', a.author ?? 'worker'),
    reason: reason === undefined ? null : reason(a),
    extraWhere: ' AND claim_token = ?',
    extraParams: [token],
  })
  return { status: to }
}

/** processing → processed, only by the holder of the claim. */
export function completeSettlement(db: TxDb, raw: unknown): { status: SettlementStatus } {
  return endClaim(db, raw, 'processed')
}

/** processing → errored with the reason, only by the holder of the claim. */
export function failSettlement(db: TxDb, raw: unknown): { status: SettlementStatus } {
  return endClaim(db, raw, 'errored', (a) => stringArg('error', a.error, 2000))
}

/** errored → pending (the operator's "retry"); legs already paid stay paid and are never paid again. */
export function retrySettlement(db: TxDb, raw: unknown): { status: SettlementStatus } {
  const a = objectArg('args', raw)
  const id = settlementIdArg(a)
  getSettlement(db, id)
  const ok = transition(db, id, ['errored'], 'pending', {
    atMs: msArg('atMs', a.atMs),
    author: stringArg('author', a.author),
    reason: 'retry',
  })
  if (!ok) throw new AccountingError('E_STATE', 'settlementId', `settlement ${id} is not errored`)
  return { status: 'pending' }
}

/**
 * pending/processing that has not moved for `stuckMinutes` → errored (the operator's "force reset"): a worker
 * that crashed mid-way loses its claim, and the settlement lands on the worklist for a deliberate retry.
 */
export function forceResetSettlement(db: TxDb, raw: unknown): { status: SettlementStatus } {
  const a = objectArg('args', raw)
  const id = settlementIdArg(a)
  const nowMs = msArg('nowMs', a.nowMs)
  const stuckMinutes = intArg('stuckMinutes', a.stuckMinutes, 1, 525_600)
  getSettlement(db, id)
  const ok = transition(db, id, ['pending', 'processing'], 'errored', {
    atMs: nowMs,
    author: stringArg('author', a.author),
    reason: `force-reset after ${stuckMinutes} min without progress`,
    extraWhere: ' AND status_changed_at_ms <= ?',
    extraParams: [nowMs - stuckMinutes * 60_000],
  })
  if (!ok) {
    throw new AccountingError('E_STATE', 'settlementId', `settlement ${id} is not stuck for ${stuckMinutes} minutes`)
  }
  return { status: 'errored' }
}

// ---- corrections ----

function snapshotInput(s: ReturnType<typeof getSettlement>, fiatMinor: bigint, lps: LpInput[]): SettlementInput {
  if (s.platform_ppm === null || s.operator_ppm === null || s.discount_ppm === null || s.splits_json === null) {
    throw new AccountingError('E_STATE', 'settlementId', 'settlement has no fee snapshot (it was rejected)')
  }
  const input: SettlementInput = {
    direction: s.direction,
    wireMsat: s.wire_msat,
    fiatMinor,
    fiatRequestedMinor: s.fiat_requested_minor,
    currency: s.currency,
    platformPpm: Number(s.platform_ppm),
    operatorPpm: Number(s.operator_ppm),
    discountPpm: Number(s.discount_ppm),
    splits: JSON.parse(s.splits_json) as SplitInput[],
    lps,
  }
  if (s.claimed_fee_msat !== null) input.claimedFeeMsat = s.claimed_fee_msat
  return input
}

/**
 * Partial-dispense recompute: the ATM dispensed `fiatMinor` instead of what the record said. Recomputes from the
 * settlement's own snapshot (fee fractions, splits and LP availability at booking — never today's config),
 * reverses every live leg and books the new generation. Refused once any leg has been paid, while a worker holds
 * the settlement, and for a rejected one. Each LP's availability is the snapshot's, capped at what it can take
 * back now (its current balance plus what the reversal returns), so no balance can go negative.
 */
export function recomputePartialDispense(db: TxDb, raw: unknown): { generation: number; result: unknown } {
  const a = objectArg('args', raw)
  const id = settlementIdArg(a)
  const fiatMinor = amountArg('fiatMinor', a.fiatMinor, 1n)
  const atMs = msArg('atMs', a.atMs)
  const author = stringArg('author', a.author)
  const s = getSettlement(db, id)
  if (s.direction !== 'cash_out') throw new AccountingError('E_STATE', 'settlementId', 'only a cash-out dispenses')
  if (s.status !== 'pending' && s.status !== 'errored') {
    throw new AccountingError('E_STATE', 'settlementId', `settlement ${id} is ${s.status}`)
  }
  if (anyLegPaid(db, id)) throw new AccountingError('E_PAID', 'settlementId', `a leg of settlement ${id} is paid`)
  if (fiatMinor > s.fiat_requested_minor) {
    throw inputError('fiatMinor', `must not exceed the requested ${s.fiat_requested_minor}`)
  }
  const generation = Number(s.generation)
  const legs = liveLegs(db, id, generation)
  const returned = new Map<string, bigint>()
  for (const l of legs) if (l.kind === 'lp') returned.set(l.recipient_id, l.fiat_minor)
  const snapLps = lpsFromJson(s.lps_json ?? '[]')
  const lps: LpInput[] = snapLps.map((lp) => {
    const cap = lpBalance(db, lp.id) + (returned.get(lp.id) ?? 0n)
    const avail = lpAvailableMinor(lp)
    return { id: lp.id, mode: 'flow', remainingMinor: avail < cap ? avail : cap }
  })
  let result: ReturnType<typeof computeSettlement>
  try {
    result = computeSettlement(snapshotInput(s, fiatMinor, lps))
  } catch (e) {
    if (e instanceof SettlementInputError) throw inputError(e.field, e.reason)
    throw e
  }
  reverseLegs(db, id, legs, s.local_day, atMs)
  const next = generation + 1
  db.run('UPDATE acct_settlement SET generation = ?, status_changed_at_ms = ? WHERE id = ? AND generation = ?', [
    next,
    atMs,
    id,
    generation,
  ])
  writeResult(
    db,
    { settlementId: id, generation: next, direction: s.direction, localDay: s.local_day, author },
    result,
    fiatMinor,
    atMs,
  )
  const memo = optionalStringArg('note', a.note)
  addNote(db, {
    settlementId: id,
    author,
    system: true,
    text: `partial dispense: ${fiatMinor} of ${s.fiat_requested_minor} minor units; generation ${next}${memo ? ` — ${memo}` : ''}`,
    atMs,
  })
  return { generation: next, result: settlementResultToJson(result) }
}

/**
 * Reverses a whole settlement (a correction: the record should never have been booked). Every live leg gets a
 * reversing entry — a paid leg's reversal leaves a negative accrual the recipient's next payouts net off — and the
 * settlement becomes rejected with the reason.
 */
export function reverseSettlement(db: TxDb, raw: unknown): { reversedLegs: number } {
  const a = objectArg('args', raw)
  const id = settlementIdArg(a)
  const atMs = msArg('atMs', a.atMs)
  const author = stringArg('author', a.author)
  const reason = stringArg('reason', a.reason, 2000)
  const s = getSettlement(db, id)
  if (s.status === 'processing') throw new AccountingError('E_STATE', 'settlementId', 'a worker holds this settlement')
  if (s.status === 'rejected') throw new AccountingError('E_STATE', 'settlementId', 'already rejected')
  const legs = liveLegs(db, id, Number(s.generation))
  reverseLegs(db, id, legs, s.local_day, atMs)
  transition(db, id, [s.status], 'rejected', { atMs, author, reason })
  addNote(db, { settlementId: id, author, system: true, text: `reversed: ${reason}`, atMs })
  return { reversedLegs: legs.length }
}

/**
 * Dust settlement: closes (part of) an LP's remaining fiat at a stated rate (msat per major unit), as an
 * explicit entry — the operator's own float buys the fiat back and the LP accrues the msat.
 */
export function settleLpDust(db: TxDb, raw: unknown): { dustId: number; fiatMinor: string; msat: string } {
  const a = objectArg('args', raw)
  const lpId = stringArg('lpId', a.lpId)
  const lp = db.get<{ currency: string }>('SELECT currency FROM acct_lp WHERE id = ?', [lpId])
  if (!lp) throw new AccountingError('E_NOT_FOUND', 'lpId', `no LP ${lpId}`)
  const rate = amountArg('rateMsatPerMajor', a.rateMsatPerMajor, 1n)
  const atMs = msArg('atMs', a.atMs)
  const author = stringArg('author', a.author)
  const balance = lpBalance(db, lpId)
  const fiat = optionalAmountArg('fiatMinor', a.fiatMinor, 1n) ?? balance
  if (fiat === 0n) throw new AccountingError('E_BALANCE', 'lpId', 'the LP has no balance to settle')
  if (fiat > balance) throw new AccountingError('E_BALANCE', 'fiatMinor', `the LP's balance is only ${balance}`)
  const msat = fiatToMsatAtRate(fiat, rate, minorPerMajor(lp.currency))
  const dustId = db.run(
    'INSERT INTO acct_dust (lp_id, fiat_minor, rate_msat_per_major, msat, created_at_ms, author, note) VALUES (?, ?, ?, ?, ?, ?, ?)',
    [lpId, fiat, rate, msat, atMs, author, optionalStringArg('note', a.note)],
  ).lastInsertRowid
  appendLpEntry(db, { lpId, kind: 'dust', deltaMinor: -fiat, dustId, atMs })
  if (msat > 0n) appendAccrual(db, { kind: 'lp', recipientId: lpId, deltaMsat: msat, dustId, atMs })
  return { dustId, fiatMinor: fiat.toString(), msat: msat.toString() }
}

// ---- notes, rejected records, paid marks, worklist acknowledgements ----

export function addOperatorNote(db: TxDb, raw: unknown): { noteId: number } {
  const a = objectArg('args', raw)
  const settlementId = a.settlementId === undefined || a.settlementId === null ? null : settlementIdArg(a)
  if (settlementId !== null) getSettlement(db, settlementId)
  const lpId = a.lpId === undefined || a.lpId === null ? null : stringArg('lpId', a.lpId)
  const noteId = addNote(db, {
    settlementId,
    lpId,
    author: stringArg('author', a.author),
    text: stringArg('text', a.text, 2000),
    system: false,
    atMs: msArg('atMs', a.atMs),
  })
  return { noteId }
}

/** Stores a record that failed verification, with the reason; nothing is booked or paid for it. */
export function recordRejected(db: TxDb, raw: unknown): { rejectedId: number } {
  const a = objectArg('args', raw)
  const opt = (f: string) => optionalStringArg(f, a[f], 200)
  return {
    rejectedId: recordRejectedRow(db, {
      eventId: opt('eventId'),
      machineId: opt('machineId'),
      paymentHash: opt('paymentHash'),
      field: opt('field'),
      reason: stringArg('reason', a.reason, 2000),
      payloadJson: optionalStringArg('payloadJson', a.payloadJson, 200_000),
      receivedAtMs: msArg('receivedAtMs', a.receivedAtMs),
    }),
  }
}

/** For the payouts module: marks legs paid by one payout (once; a paid leg is never paid again). */
export function markLegsPaid(db: TxDb, raw: unknown): { marked: number } {
  const a = objectArg('args', raw)
  const paidRef = stringArg('paidRef', a.paidRef)
  const atMs = msArg('atMs', a.atMs)
  if (!Array.isArray(a.legIds) || a.legIds.length === 0) throw inputError('legIds', 'must be a non-empty array')
  let marked = 0
  a.legIds.forEach((v: unknown, i) => {
    const legId = intArg(`legIds[${i}]`, v, 1, Number.MAX_SAFE_INTEGER)
    const r = db.run('UPDATE acct_leg SET paid_ref = ?, paid_at_ms = ? WHERE id = ? AND paid_ref IS NULL', [
      paidRef,
      atMs,
      legId,
    ])
    if (r.changes !== 1) throw new AccountingError('E_PAID', `legIds[${i}]`, `leg ${legId} is unknown or already paid`)
    marked++
  })
  return { marked }
}

/**
 * The operator resolves a worklist item: a refund paid to the customer (marks the refund leg paid with the
 * operator's reference) or a fee mismatch looked into. Recorded once per settlement and kind.
 */
export function resolveWorklistItem(db: TxDb, raw: unknown): { ackId: number } {
  const a = objectArg('args', raw)
  const id = settlementIdArg(a)
  const kind = a.kind
  if (kind !== 'refund_due' && kind !== 'fee_mismatch') throw inputError('kind', 'must be refund_due or fee_mismatch')
  const atMs = msArg('atMs', a.atMs)
  const author = stringArg('author', a.author)
  const note = optionalStringArg('note', a.note)
  const s = getSettlement(db, id)
  if (db.get('SELECT 1 AS x FROM acct_worklist_ack WHERE settlement_id = ? AND kind = ?', [id, kind])) {
    throw new AccountingError('E_STATE', 'kind', `${kind} of settlement ${id} is already resolved`)
  }
  if (kind === 'refund_due') {
    const leg = liveLegs(db, id, Number(s.generation)).find((l) => l.kind === 'refund_due')
    if (!leg) throw new AccountingError('E_STATE', 'kind', `settlement ${id} owes no refund`)
    db.run('UPDATE acct_leg SET paid_ref = ?, paid_at_ms = ? WHERE id = ? AND paid_ref IS NULL', [
      `refund:${stringArg('reference', a.reference)}`,
      atMs,
      Number(leg.id),
    ])
  }
  const ackId = db.run(
    'INSERT INTO acct_worklist_ack (settlement_id, kind, author, note, at_ms) VALUES (?, ?, ?, ?, ?)',
    [id, kind, author, note, atMs],
  ).lastInsertRowid
  return { ackId }
}

// ---- derived balances ----

export interface BalanceAudit {
  lps: { lpId: string; balanceMinor: string; derivedMinor: string; depositsMinor: string }[]
  recipients: { kind: string; id: string; accruedMsat: string }[]
  ok: boolean
}

/**
 * Re-derives every LP balance from first principles (confirmed deposits − reversals − leg fiat − dust) and compares
 * it with the running balance the entries carry; `ok` is false on any difference.
 */
export function auditBalances(db: TxDb): BalanceAudit {
  const lps = db.all<{ id: string }>('SELECT id FROM acct_lp ORDER BY id')
  let ok = true
  const out = lps.map(({ id }) => {
    const dep = big(
      db.get(
        "SELECT COALESCE(SUM(amount_minor), 0) AS s FROM acct_deposit WHERE lp_id = ? AND status = 'confirmed'",
        [id],
        BIG,
      )?.s,
    )
    const rev = big(
      db.get(
        "SELECT COALESCE(SUM(e.delta_minor), 0) AS s FROM acct_lp_entry e WHERE e.lp_id = ? AND e.kind = 'deposit_reversal'",
        [id],
        BIG,
      )?.s,
    )
    const legs = big(
      db.get("SELECT COALESCE(SUM(fiat_minor), 0) AS s FROM acct_leg WHERE kind = 'lp' AND recipient_id = ?", [id], BIG)
        ?.s,
    )
    const dust = big(db.get('SELECT COALESCE(SUM(fiat_minor), 0) AS s FROM acct_dust WHERE lp_id = ?', [id], BIG)?.s)
    const derived = dep + rev - legs - dust
    const running = lpBalance(db, id)
    if (derived !== running || running < 0n) ok = false
    return {
      lpId: id,
      balanceMinor: running.toString(),
      derivedMinor: derived.toString(),
      depositsMinor: dep.toString(),
    }
  })
  const recipients = db
    .all<{ k: string; r: string; s: bigint }>(
      'SELECT recipient_kind AS k, recipient_id AS r, SUM(delta_msat) AS s FROM acct_accrual GROUP BY 1, 2 ORDER BY 1, 2',
      [],
      BIG,
    )
    .map((r) => ({ kind: r.k, id: r.r, accruedMsat: big(r.s).toString() }))
  return { lps: out, recipients, ok }
}
