// Ledger procedures of the payout recipients module (issue 15 item 1; docs/payouts.md "Recipients"): the platform
// fee recipient and every commission split, with their destination, payout threshold, active switch and split
// weights, and the append-only log of every change. Registered on import (./register.ts, which the ledger
// registry imports). Each procedure is one journaled transaction; time and author come in the arguments.
//
// The payout policy itself is written through the payout module's `setRecipient` (src-main/payouts/procedures.ts),
// the same row the planner reads for LPs, so these recipients are paid by the same exactly-once state machine. A
// removed destination is stored as `{}`: the planner skips it and the worklist shows the sats waiting
// (src-main/payouts/waiting.ts). Destinations are validated by the LP module's own parser, so a stored destination
// has one shape everywhere; an NWC destination names its sealed secret slot, never the URI.
//
// A split's weight is part of the fee configuration (accounting's `acct_config`, versioned, never edited): a
// weight change appends a new configuration for every scope in force, effective from the change, plus one
// `recipient_change` row per split whose weight moved.

import { DEFAULT_SPLIT_ID } from '../../src-shared/money/settlement'
import { amountArg, intArg, msArg, objectArg, optionalStringArg, stringArg } from '../accounting/args'
import { big, PLATFORM_RECIPIENT, recipientAccrual } from '../accounting/entries'
import { AccountingError, inputError } from '../accounting/errors'
import { setConfig } from '../accounting/operations'
import type { TxDb } from '../ledger/types'
import { destinationArg, type StoredDestination } from '../lps/procedures'
import { setRecipient } from '../payouts/procedures'

const BIG = { bigint: true } as const

export type RecipientKind = 'platform' | 'split'

/** Policy of a recipient the operator has not configured yet. */
export const DEFAULT_THRESHOLD_MSAT = 1_000_000n // 1,000 sats
export const DEFAULT_MAX_FEE_BASE_MSAT = 10_000n
export const DEFAULT_MAX_FEE_PPM = 5_000

export interface RecipientRow {
  recipientKind: RecipientKind
  recipientId: string
  destination: StoredDestination | null
  health: { ok: boolean; text: string; checkedAtMs: number } | null
  accruedMsat: string
  thresholdMsat: string
  active: boolean
  weights: Array<{ machineId: string | null; weightPpm: number }>
  paidMsat: string
  waitingSat: string
}

export interface RecipientChangeRow {
  id: number
  recipientKind: string
  recipientId: string
  field: 'destination' | 'threshold' | 'active' | 'weight'
  oldValue: string
  newValue: string
  author: string
  atMs: number
  note: string | null
}

function kindArg(v: unknown): RecipientKind {
  if (v !== 'platform' && v !== 'split') throw inputError('recipientKind', 'must be platform or split')
  return v
}

/** The platform recipient is one; a split recipient must be named in a fee configuration or have accrued. */
function recipientArgs(db: TxDb, a: Record<string, unknown>): { kind: RecipientKind; id: string } {
  const kind = kindArg(a.recipientKind)
  const id = stringArg('recipientId', a.recipientId, 100)
  if (kind === 'platform' && id !== PLATFORM_RECIPIENT) {
    throw inputError('recipientId', `the platform fee recipient is "${PLATFORM_RECIPIENT}"`)
  }
  if (kind === 'split' && !splitIds(db).includes(id)) {
    throw new AccountingError('E_NOT_FOUND', 'recipientId', `no commission split "${id}" in the fee configuration`)
  }
  return { kind, id }
}

// ---- fee configurations in force ---------------------------------------------------------------------------------

interface ConfigRow {
  [k: string]: string | number | bigint | null
  seq: bigint
  machine_id: string | null
  effective_from_ms: bigint
  cash_out_platform_ppm: bigint
  cash_out_operator_ppm: bigint
  cash_in_platform_ppm: bigint
  cash_in_operator_ppm: bigint
  discount_ppm: bigint
  splits_json: string
  time_zone: string
}

/** The configuration in force at `atMs` for each scope (each machine, and the fleet default), scope order. */
function configsInForce(db: TxDb, atMs: number): ConfigRow[] {
  return db.all<ConfigRow>(
    `SELECT c.* FROM acct_config c
     WHERE c.effective_from_ms <= ? AND c.seq = (
       SELECT x.seq FROM acct_config x WHERE x.machine_id IS c.machine_id AND x.effective_from_ms <= ?
       ORDER BY x.effective_from_ms DESC, x.seq DESC LIMIT 1)
     ORDER BY c.machine_id IS NOT NULL, c.machine_id`,
    [atMs, atMs],
    BIG,
  )
}

/** A configuration's splits; none configured means the one default split (docs/settlement.md). */
function splitsOf(c: ConfigRow): Array<{ id: string; weightPpm: number }> {
  const s = JSON.parse(c.splits_json) as Array<{ id: string; weightPpm: number }>
  return s.length > 0 ? s : [{ id: DEFAULT_SPLIT_ID, weightPpm: 1_000_000 }]
}

/** Every split recipient: named by a configuration in force (at any time), or holding accrued msat. */
function splitIds(db: TxDb): string[] {
  const ids = new Set<string>()
  for (const c of db.all<{ splits_json: string }>('SELECT DISTINCT splits_json FROM acct_config')) {
    const s = JSON.parse(c.splits_json) as Array<{ id: string }>
    if (s.length === 0) ids.add(DEFAULT_SPLIT_ID)
    for (const x of s) ids.add(x.id)
  }
  for (const r of db.all<{ recipient_id: string }>(
    "SELECT DISTINCT recipient_id FROM acct_accrual WHERE recipient_kind = 'split'",
  ))
    ids.add(r.recipient_id)
  return [...ids].sort()
}

/** ppm as a percentage in words, exact (no floats): 600000 → "60 %", 333333 → "33.3333 %". */
export function ppmText(ppm: number): string {
  const whole = Math.trunc(ppm / 10_000)
  const frac = (ppm % 10_000).toString().padStart(4, '0').replace(/0+$/, '')
  return `${whole}${frac ? `.${frac}` : ''} %`
}

// ---- reads -------------------------------------------------------------------------------------------------------

interface PolicyRow {
  [k: string]: string | bigint | null
  threshold_msat: bigint
  min_interval_ms: bigint
  max_fee_base_msat: bigint
  max_fee_ppm: bigint
  destination_json: string
  active: bigint
  updated_at_ms: bigint
}

function policyRow(db: TxDb, kind: string, id: string): PolicyRow | undefined {
  return db.get<PolicyRow>(
    'SELECT * FROM payout_recipient WHERE recipient_kind = ? AND recipient_id = ?',
    [kind, id],
    BIG,
  )
}

function storedDestination(json: string | undefined): StoredDestination | null {
  if (json === undefined || json === '{}') return null
  try {
    return destinationArg('destination', JSON.parse(json))
  } catch {
    return null
  }
}

/** A destination in public words for the change log (an NWC connection by its wallet pubkey, never its secret). */
export function destinationText(d: StoredDestination | null): string {
  if (d === null) return 'none'
  if (d.kind === 'lightning_address') return `Lightning address ${d.address}`
  if (d.kind === 'keysend') return `keysend to node ${d.nodeId}`
  return `own NWC wallet ${d.walletPubkey}`
}

const satText = (msat: bigint) => `${msat / 1000n} sats`

function recipientRow(db: TxDb, kind: RecipientKind, id: string, atMs: number): RecipientRow {
  const p = policyRow(db, kind, id)
  const destination = storedDestination(p?.destination_json)
  const accrued = recipientAccrual(db, kind, id)
  const active = p ? Number(p.active) === 1 : true
  const check = destination
    ? db.get<{ ok: bigint; text: string; at_ms: bigint }>(
        'SELECT ok, text, at_ms FROM recipient_check WHERE recipient_kind = ? AND recipient_id = ? ORDER BY id DESC LIMIT 1',
        [kind, id],
        BIG,
      )
    : undefined
  const paid = db.get<{ s: bigint }>(
    "SELECT COALESCE(SUM(amount_msat), 0) AS s FROM payout WHERE recipient_kind = ? AND recipient_id = ? AND state = 'paid'",
    [kind, id],
    BIG,
  )
  const weights =
    kind === 'split'
      ? configsInForce(db, atMs).flatMap((c) => {
          const w = splitsOf(c).find((s) => s.id === id)
          return w ? [{ machineId: c.machine_id, weightPpm: w.weightPpm }] : []
        })
      : []
  return {
    recipientKind: kind,
    recipientId: id,
    destination,
    health: check ? { ok: Number(check.ok) === 1, text: check.text, checkedAtMs: Number(check.at_ms) } : null,
    accruedMsat: accrued.toString(),
    thresholdMsat: (p ? big(p.threshold_msat) : DEFAULT_THRESHOLD_MSAT).toString(),
    active,
    weights,
    paidMsat: big(paid?.s).toString(),
    waitingSat: (destination === null || !active ? accrued / 1000n : 0n).toString(),
  }
}

/** Args { atMs, changeLimit? } → the platform, every split (by id) and the change log, newest first. */
export function listRecipients(db: TxDb, raw: unknown): { recipients: RecipientRow[]; changes: RecipientChangeRow[] } {
  const a = raw === undefined ? {} : objectArg('args', raw)
  const atMs = a.atMs === undefined ? Number.MAX_SAFE_INTEGER : msArg('atMs', a.atMs)
  const limit = a.changeLimit === undefined ? 200 : intArg('changeLimit', a.changeLimit, 1, 1000)
  const recipients = [
    recipientRow(db, 'platform', PLATFORM_RECIPIENT, atMs),
    ...splitIds(db).map((id) => recipientRow(db, 'split', id, atMs)),
  ]
  const changes = db
    .all<{
      id: bigint
      recipient_kind: string
      recipient_id: string
      field: RecipientChangeRow['field']
      old_value: string
      new_value: string
      author: string
      at_ms: bigint
      note: string | null
    }>(
      "SELECT * FROM recipient_change WHERE recipient_kind IN ('platform', 'split') ORDER BY id DESC LIMIT ?",
      [limit],
      BIG,
    )
    .map((r) => ({
      id: Number(r.id),
      recipientKind: r.recipient_kind,
      recipientId: r.recipient_id,
      field: r.field,
      oldValue: r.old_value,
      newValue: r.new_value,
      author: r.author,
      atMs: Number(r.at_ms),
      note: r.note,
    }))
  return { recipients, changes }
}

/** Args { recipientKind, recipientId } → the stored destination (the service reads it to discard an old secret). */
export function getRecipient(db: TxDb, raw: unknown): RecipientRow {
  const a = objectArg('args', raw)
  const { kind, id } = recipientArgs(db, a)
  return recipientRow(db, kind, id, a.atMs === undefined ? Number.MAX_SAFE_INTEGER : msArg('atMs', a.atMs))
}

// ---- writes ------------------------------------------------------------------------------------------------------

function logChange(
  db: TxDb,
  c: { kind: string; id: string; field: RecipientChangeRow['field']; oldValue: string; newValue: string },
  author: string,
  atMs: number,
  note: string | null = null,
): void {
  db.run(
    `INSERT INTO recipient_change (recipient_kind, recipient_id, field, old_value, new_value, author, at_ms, note)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    [c.kind, c.id, c.field, c.oldValue, c.newValue, author, atMs, note],
  )
}

/** Writes the policy row through the payout module, keeping what the change does not touch. */
function writePolicy(
  db: TxDb,
  kind: RecipientKind,
  id: string,
  change: { destination?: StoredDestination | null; thresholdMsat?: bigint; active?: boolean },
  atMs: number,
): void {
  const p = policyRow(db, kind, id)
  const destination = change.destination === undefined ? storedDestination(p?.destination_json) : change.destination
  setRecipient(db, {
    recipientKind: kind,
    recipientId: id,
    thresholdMsat: change.thresholdMsat ?? (p ? big(p.threshold_msat) : DEFAULT_THRESHOLD_MSAT),
    minIntervalMs: p ? Number(p.min_interval_ms) : 0,
    maxFeeBaseMsat: p ? big(p.max_fee_base_msat) : DEFAULT_MAX_FEE_BASE_MSAT,
    maxFeePpm: p ? Number(p.max_fee_ppm) : DEFAULT_MAX_FEE_PPM,
    // `{}` (no destination) is what the planner skips and the worklist reports as waiting.
    ...(destination === null ? {} : { destination }),
    active: change.active ?? (p ? Number(p.active) === 1 : true),
    atMs,
  })
}

/**
 * Args { recipientKind, recipientId, destination | null, check: {ok, text} | null, author, atMs }. Sets or
 * removes the destination; the live check's outcome (made by the service before) is stored with it.
 */
export function setRecipientDestination(db: TxDb, raw: unknown): RecipientRow {
  const a = objectArg('args', raw)
  const { kind, id } = recipientArgs(db, a)
  const atMs = msArg('atMs', a.atMs)
  const author = stringArg('author', a.author)
  const next = a.destination === null ? null : destinationArg('destination', a.destination)
  const before = storedDestination(policyRow(db, kind, id)?.destination_json)
  writePolicy(db, kind, id, { destination: next }, atMs)
  if (next !== null && a.check !== undefined && a.check !== null) {
    const c = objectArg('check', a.check)
    db.run(
      `INSERT INTO recipient_check (recipient_kind, recipient_id, destination_kind, ok, text, at_ms)
       VALUES (?, ?, ?, ?, ?, ?)`,
      [kind, id, next.kind, c.ok === true ? 1 : 0, stringArg('check.text', c.text, 500), atMs],
    )
  }
  const oldValue = destinationText(before)
  const newValue = destinationText(next)
  if (oldValue !== newValue) logChange(db, { kind, id, field: 'destination', oldValue, newValue }, author, atMs)
  return recipientRow(db, kind, id, atMs)
}

/** Args { recipientKind, recipientId, thresholdMsat (whole sats), author, atMs }. */
export function setRecipientThreshold(db: TxDb, raw: unknown): RecipientRow {
  const a = objectArg('args', raw)
  const { kind, id } = recipientArgs(db, a)
  const atMs = msArg('atMs', a.atMs)
  const threshold = amountArg('thresholdMsat', a.thresholdMsat, 1000n)
  if (threshold % 1000n !== 0n) throw inputError('thresholdMsat', 'must be whole sats (a multiple of 1000 msat)')
  const p = policyRow(db, kind, id)
  const before = p ? big(p.threshold_msat) : DEFAULT_THRESHOLD_MSAT
  writePolicy(db, kind, id, { thresholdMsat: threshold }, atMs)
  if (before !== threshold || !p) {
    logChange(
      db,
      { kind, id, field: 'threshold', oldValue: satText(before), newValue: satText(threshold) },
      stringArg('author', a.author),
      atMs,
    )
  }
  return recipientRow(db, kind, id, atMs)
}

/** Args { recipientKind, recipientId, active, author, atMs }. A paused recipient keeps accruing; nothing is lost. */
export function setRecipientActive(db: TxDb, raw: unknown): RecipientRow {
  const a = objectArg('args', raw)
  const { kind, id } = recipientArgs(db, a)
  const atMs = msArg('atMs', a.atMs)
  if (typeof a.active !== 'boolean') throw inputError('active', 'must be true or false')
  const p = policyRow(db, kind, id)
  const before = p ? Number(p.active) === 1 : true
  writePolicy(db, kind, id, { active: a.active }, atMs)
  if (before !== a.active || !p) {
    const word = (v: boolean) => (v ? 'active' : 'paused')
    logChange(
      db,
      { kind, id, field: 'active', oldValue: word(before), newValue: word(a.active) },
      stringArg('author', a.author),
      atMs,
    )
  }
  return recipientRow(db, kind, id, atMs)
}

/**
 * Args { splits: [{id, weightPpm}], note?, author, atMs }. Appends, for every scope whose configuration is in
 * force, a copy of it with these splits, effective from `atMs` (settlements booked before keep their own
 * snapshot). Refuses weights that do not sum to 100 % (accounting's check) and a fleet without a configuration.
 */
export function setSplitWeights(db: TxDb, raw: unknown): { seqs: number[]; changes: number } {
  const a = objectArg('args', raw)
  const atMs = msArg('atMs', a.atMs)
  const author = stringArg('author', a.author)
  const note = optionalStringArg('note', a.note)
  if (!Array.isArray(a.splits) || a.splits.length === 0) throw inputError('splits', 'must list at least one split')
  const configs = configsInForce(db, atMs)
  if (configs.length === 0) {
    throw new AccountingError('E_STATE', 'splits', 'there is no fee configuration yet; pair a machine first')
  }
  const seqs: number[] = []
  const oldByScope = configs.map((c) => new Map(splitsOf(c).map((s) => [s.id, s.weightPpm])))
  let newWeights: Map<string, number> | undefined
  for (const c of configs) {
    // accounting.setConfig validates the splits (ids, ppm, sum = 100 %) and appends; errors name `splits[i]`.
    const { seq } = setConfig(db, {
      machineId: c.machine_id,
      effectiveFromMs: atMs,
      atMs,
      cashOutPlatformPpm: Number(c.cash_out_platform_ppm),
      cashOutOperatorPpm: Number(c.cash_out_operator_ppm),
      cashInPlatformPpm: Number(c.cash_in_platform_ppm),
      cashInOperatorPpm: Number(c.cash_in_operator_ppm),
      discountPpm: Number(c.discount_ppm),
      splits: a.splits,
      timeZone: c.time_zone,
      author,
      note: note ?? 'split weights changed',
    })
    seqs.push(seq)
    newWeights ??= new Map(
      (
        JSON.parse(
          db.get<{ splits_json: string }>('SELECT splits_json FROM acct_config WHERE seq = ?', [seq])!.splits_json,
        ) as Array<{ id: string; weightPpm: number }>
      ).map((s) => [s.id, s.weightPpm]),
    )
  }
  const describe = (weights: Array<number | undefined>) => {
    const distinct = [...new Set(weights.map((w) => (w === undefined ? 'not a split' : ppmText(w))))]
    return distinct.length === 1
      ? distinct[0]!
      : configs
          .map((c, i) => `${c.machine_id ?? 'default'} ${weights[i] === undefined ? '—' : ppmText(weights[i]!)}`)
          .join(', ')
  }
  let changes = 0
  const ids = new Set([...oldByScope.flatMap((m) => [...m.keys()]), ...newWeights!.keys()])
  for (const id of [...ids].sort()) {
    const oldValue = describe(oldByScope.map((m) => m.get(id)))
    const newValue = describe(configs.map(() => newWeights!.get(id)))
    if (oldValue === newValue) continue
    logChange(db, { kind: 'split', id, field: 'weight', oldValue, newValue }, author, atMs, note)
    changes++
  }
  return { seqs, changes }
}
