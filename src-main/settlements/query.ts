// Read side of the settlement history (issue 9): the filtered, sorted, keyset-paged list, one settlement's detail
// with its verification badges re-checked from what the ledger holds, and the CSV export. Everything is read-only
// SQL over the ledger; no row is written here except an operator note (through the accounting procedure).
//
// Paging is keyset, never OFFSET: the cursor holds the last row's sort value and id, and the next page is
// `(sort, id) < (v, id)` on the index of that order (migration 1700), so page 1 and page 10,000 cost the same.
// Equality filters (machine, direction, status) each have an index ending in (booked_at_ms, id); the search is
// resolved to at most a few payment hashes first, so a search never walks the table.
//
// The filters that have no index in the list's order (an LP, an amount range, refund due) are written one of two
// ways, chosen per request by a capped probe of how many settlements they match (DRIVE_BELOW): few matches —
// the query starts from that filter's own index and sorts the few rows; many — it walks the chosen order and
// tests each row, which finds a page after a bounded number of rows because matches are dense. Either way a page
// never walks a million settlements to find fifty rare ones (measured per filter: bench/results.json, section
// settlements-ui-queries). The count uses the same choice with a larger threshold (it wants up to COUNT_CAP rows).
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js'
import { ApiError } from '../../src-shared/ipc/contract'
import {
  type BadgeView,
  SETTLEMENT_CSV_COLUMNS,
  type SettlementCountView,
  type SettlementCsvView,
  type SettlementDetailView,
  type SettlementFilter,
  type SettlementLegView,
  type SettlementPageView,
  type SettlementRowView,
  type SettlementSort,
  type SettlementStatusName,
} from '../../src-shared/ipc/settlements'
import { currencyExponent, formatMinor, isCurrency } from '../../src-shared/money/iso4217'
import { checkEvent, type NostrEvent } from '../../src-shared/nostr/event'
import { KIND_ATM_RECORD } from '../../src-shared/nostr/kinds'
import { parseConditions, parseDelegationTag, verifyDelegationToken } from '../../src-shared/nostr/nip26'
import { parseRosterEvent } from '../../src-shared/nostr/roster'
import type { LedgerStore, Row, SqlValue } from '../ledger/types'

const BIG = { bigint: true } as const
export const DEFAULT_PAGE = 50
export const COUNT_CAP = 10_000
export const CSV_MAX_ROWS = 100_000
/**
 * A filter matching fewer settlements than this drives the list from its own index (at most this many rows sorted);
 * one matching more is tested row by row along the list's order, where one row in DRIVE_BELOW / (ledger size)
 * matching means a page is found within about (page size) × (ledger size) / DRIVE_BELOW rows — 10,000 at a million.
 */
export const DRIVE_BELOW = 5_000
/**
 * The same threshold for the count, which wants up to COUNT_CAP matches: a filter with fewer matches than that is
 * counted from its own index (at most COUNT_CAP rows looked up); one with more is counted along the others.
 */
export const COUNT_DRIVE_BELOW = COUNT_CAP + 1

const SORTS: Record<SettlementSort, { col: string; desc: boolean }> = {
  booked_desc: { col: 's.booked_at_ms', desc: true },
  booked_asc: { col: 's.booked_at_ms', desc: false },
  fiat_desc: { col: 's.fiat_minor', desc: true },
  fiat_asc: { col: 's.fiat_minor', desc: false },
  msat_desc: { col: 's.wire_msat', desc: true },
  msat_asc: { col: 's.wire_msat', desc: false },
}

/** The live generation's open refund leg, as the worklist counts it. */
const REFUND_OPEN = `EXISTS (SELECT 1 FROM acct_leg l WHERE l.settlement_id = s.id AND l.kind = 'refund_due'
  AND l.paid_ref IS NULL AND +l.reverses_leg_id IS NULL AND l.generation = s.generation
  AND NOT EXISTS (SELECT 1 FROM acct_leg r WHERE r.reverses_leg_id = l.id))`

const ROW_COLUMNS = `s.id, s.payment_hash, s.machine_id, m.name AS machine_name, s.direction, s.status,
  s.booked_at_ms, s.fiat_minor, s.currency, s.wire_msat, s.fee_mismatch_flagged,
  (SELECT o.tx_id FROM fleet_record_outcome o WHERE o.outcome = 'booked' AND o.payment_hash = s.payment_hash) AS tx_id,
  ${REFUND_OPEN} AS refund_due`

interface ListRow extends Row {
  id: bigint
  payment_hash: string
  machine_id: string
  machine_name: string | null
  direction: 'cash_out' | 'cash_in'
  status: SettlementStatusName
  booked_at_ms: bigint
  fiat_minor: bigint
  currency: string
  wire_msat: bigint
  fee_mismatch_flagged: bigint
  tx_id: string | null
  refund_due: bigint
}

function rowView(r: ListRow): SettlementRowView {
  return {
    id: Number(r.id),
    paymentHash: r.payment_hash,
    machineId: r.machine_id,
    machineName: r.machine_name,
    direction: r.direction,
    status: r.status,
    bookedAtMs: Number(r.booked_at_ms),
    fiatMinor: String(r.fiat_minor),
    currency: r.currency,
    wireMsat: String(r.wire_msat),
    txId: r.tx_id,
    feeMismatch: Number(r.fee_mismatch_flagged) === 1,
    refundDue: Number(r.refund_due) === 1,
  }
}

/**
 * An amount typed in major units ("12.50", "12,5") as minor units of `currency`, rounded toward the inside of the
 * range (up for a minimum, down for a maximum), so "at least 12.5" means the same for EUR (1250) and JPY (13).
 */
export function majorToMinor(text: string, currency: string, round: 'up' | 'down'): bigint {
  return majorToUnits(text, currencyExponent(currency), round)
}

function majorToUnits(text: string, e: number, round: 'up' | 'down'): bigint {
  const m = /^\s*(\d{1,15})(?:[.,](\d{1,4}))?\s*$/.exec(text)
  if (!m) throw new RangeError('not an amount')
  const whole = BigInt(m[1] as string)
  const frac = m[2] ?? ''
  const kept = frac.slice(0, e).padEnd(e, '0')
  let minor = whole * 10n ** BigInt(e) + (kept === '' ? 0n : BigInt(kept))
  const dropped = frac.slice(e)
  if (round === 'up' && /[1-9]/.test(dropped)) minor += 1n
  return minor
}

interface Where {
  clauses: string[]
  params: SqlValue[]
  /** True when the filter can match nothing (a search that found no settlement). */
  empty: boolean
  /** True when a filter of few matches drives the query (the list's order is then sorted, not walked). */
  driven: boolean
}

/** Payment hashes a search names: a full hash, a hash prefix of ≥ 8 hex digits, or an ATM transaction id. */
async function resolveSearch(ledger: LedgerStore, search: string): Promise<string[]> {
  const q = search.trim()
  const found = new Set<string>()
  const hexq = q.toLowerCase()
  if (/^[0-9a-f]{64}$/.test(hexq)) found.add(hexq)
  else if (/^[0-9a-f]{8,63}$/.test(hexq)) {
    const rows = await ledger.query<{ h: string }>(
      'SELECT payment_hash AS h FROM acct_settlement WHERE payment_hash >= ? AND payment_hash < ? LIMIT 50',
      [hexq, `${hexq}g`],
    )
    for (const r of rows) found.add(r.h)
  }
  const byTx = await ledger.query<{ h: string }>(
    `SELECT payment_hash AS h FROM fleet_record_outcome WHERE outcome = 'booked' AND tx_id = ? LIMIT 50`,
    [q],
  )
  for (const r of byTx) found.add(r.h)
  return [...found]
}

/** How many rows `sql` (a SELECT) yields, counting at most `cap` of them. */
async function upTo(ledger: LedgerStore, sql: string, params: SqlValue[], cap: number): Promise<number> {
  if (cap <= 0) return 0
  const [r] = await ledger.query<{ n: number }>(`SELECT COUNT(*) AS n FROM (${sql} LIMIT ${cap})`, params)
  return Number(r?.n ?? 0)
}

/** Open refund legs, on their partial index (the planner would otherwise read every refund leg by kind). */
const REFUND_LEGS = `SELECT l.settlement_id FROM acct_leg l INDEXED BY acct_leg_refund_open
  WHERE l.kind = 'refund_due' AND l.paid_ref IS NULL`
/** The settlements of the open refund legs of their live generation, not reversed. */
const REFUND_OPEN_IDS = `SELECT l.settlement_id FROM acct_leg l INDEXED BY acct_leg_refund_open
  JOIN acct_settlement x ON x.id = l.settlement_id
  WHERE l.kind = 'refund_due' AND l.paid_ref IS NULL AND +l.reverses_leg_id IS NULL AND l.generation = x.generation
    AND NOT EXISTS (SELECT 1 FROM acct_leg r WHERE r.reverses_leg_id = l.id)`

interface WhereOptions {
  /** The list's order column; null for the count (no order). */
  orderCol?: string | null
  /** Which threshold decides between driving from a filter's index and testing rows in order. */
  purpose?: 'page' | 'count'
  /** Overrides that threshold (tests: 0 never drives, a huge number always does; both must answer the same). */
  driveBelow?: number
}

/** How a query picks its plan; only tests change it. */
export interface QueryTuning {
  driveBelow?: number
}

/**
 * One filter: how many settlements it matches (counted up to the threshold on its own index), the SQL that lets
 * SQLite start from that index, and the SQL that only tests a row.
 */
interface Part {
  n: number
  indexed: { sql: string; params: SqlValue[] }
  tested: { sql: string; params: SqlValue[] }
  /** An equality or date filter, whose index ends in (booked_at_ms, id): right for the booking order. */
  bookedIndex?: boolean
  /** The amount range while the list is sorted by amount: its index is the order's own. */
  orderIndex?: boolean
}

/**
 * The filter as SQL on `acct_settlement s`. Each filter is first counted on its own index, at most `cap` rows (a
 * cheap, bounded read). The one with fewest matches below `cap` drives: it keeps its indexed form and every other
 * filter is written so that it only tests rows (`+s.col`, EXISTS), so SQLite reads those few rows and sorts them
 * rather than walking a wide index (every cash-in) and testing each against a rare filter. Without such a filter,
 * the booking order uses the equality and date indexes (they end in booked_at_ms, id) and the amount orders walk
 * their own index; matches are then dense enough that a page is found within about 50 × size / cap rows.
 */
async function buildWhere(ledger: LedgerStore, f: SettlementFilter | undefined, o: WhereOptions = {}): Promise<Where> {
  const w: Where = { clauses: [], params: [], empty: false, driven: false }
  if (!f) return w
  const cap = o.driveBelow ?? (o.purpose === 'count' ? COUNT_DRIVE_BELOW : DRIVE_BELOW)
  const parts: Part[] = []
  const q = (sql: string, ...params: SqlValue[]) => ({ sql, params })
  if (f.fromMs !== undefined && f.toMs !== undefined && f.toMs <= f.fromMs)
    throw new ApiError(
      'bad_args',
      'args[0].filter.toMs: the end of the date range is before its start',
      'args[0].filter.toMs',
    )
  for (const [col, v] of [
    ['machine_id', f.machineId],
    ['direction', f.direction],
    ['status', f.status],
  ] as const)
    if (v !== undefined)
      parts.push({
        n: await upTo(ledger, `SELECT 1 FROM acct_settlement x WHERE x.${col} = ?`, [v], cap),
        indexed: q(`s.${col} = ?`, v),
        tested: q(`+s.${col} = ?`, v),
        bookedIndex: true,
      })
  if (f.fromMs !== undefined || f.toMs !== undefined) {
    const conds: string[] = []
    const params: SqlValue[] = []
    if (f.fromMs !== undefined) {
      conds.push('booked_at_ms >= ?')
      params.push(f.fromMs)
    }
    if (f.toMs !== undefined) {
      conds.push('booked_at_ms < ?')
      params.push(f.toMs)
    }
    parts.push({
      n: await upTo(
        ledger,
        `SELECT 1 FROM acct_settlement x WHERE ${conds.map((c) => `x.${c}`).join(' AND ')}`,
        params,
        cap,
      ),
      indexed: q(conds.map((c) => `s.${c}`).join(' AND '), ...params),
      tested: q(conds.map((c) => `+s.${c}`).join(' AND '), ...params),
      bookedIndex: true,
    })
  }
  if (f.lpId !== undefined) {
    const legs = `SELECT l.settlement_id FROM acct_leg l WHERE l.kind = 'lp' AND l.recipient_id = ?`
    parts.push({
      n: await upTo(ledger, legs, [f.lpId], cap),
      indexed: q(`s.id IN (${legs})`, f.lpId),
      tested: q(
        `EXISTS (SELECT 1 FROM acct_leg l WHERE l.settlement_id = s.id AND l.kind = 'lp' AND l.recipient_id = ?)`,
        f.lpId,
      ),
    })
  }
  if (f.feeMismatch === true) {
    // Few: read from the partial index of flagged settlements (acct_settlement_mismatch); many: walked in booking
    // order on their partial index stl_mismatch_booked (migration 1790).
    const flagged = 'SELECT x.id FROM acct_settlement x WHERE x.fee_mismatch_flagged = 1'
    parts.push({
      n: await upTo(ledger, flagged, [], cap),
      indexed: q(`s.id IN (${flagged})`),
      tested: q('s.fee_mismatch_flagged = 1'),
    })
  }
  if (f.refundDue === true)
    parts.push({
      n: await upTo(ledger, REFUND_LEGS, [], cap),
      indexed: q(`s.id IN (${REFUND_OPEN_IDS})`),
      tested: q(REFUND_OPEN),
    })
  if (f.minAmount !== undefined || f.maxAmount !== undefined) {
    const currencies = (await ledger.query<{ c: string }>('SELECT DISTINCT currency AS c FROM acct_machine'))
      .map((r) => r.c)
      .filter(isCurrency)
    if (f.minAmount !== undefined && f.maxAmount !== undefined) {
      const [lo, hi] = [majorToUnits(f.minAmount, 4, 'up'), majorToUnits(f.maxAmount, 4, 'down')]
      if (hi < lo)
        throw new ApiError(
          'bad_args',
          `args[0].filter.maxAmount: the largest amount (${f.maxAmount}) is below the smallest (${f.minAmount})`,
          'args[0].filter.maxAmount',
        )
    }
    const bounds = currencies.map((c) => ({
      c,
      lo: f.minAmount !== undefined ? majorToMinor(f.minAmount, c, 'up') : null,
      hi: f.maxAmount !== undefined ? majorToMinor(f.maxAmount, c, 'down') : null,
    }))
    const range = (fiatCol: string, alias: string) => {
      const terms: string[] = []
      const params: SqlValue[] = []
      for (const b of bounds) {
        const conds = [`${alias}.currency = ?`]
        params.push(b.c)
        if (b.lo !== null) {
          conds.push(`${fiatCol} >= CAST(? AS INTEGER)`)
          params.push(b.lo)
        }
        if (b.hi !== null) {
          conds.push(`${fiatCol} <= CAST(? AS INTEGER)`)
          params.push(b.hi)
        }
        terms.push(`(${conds.join(' AND ')})`)
      }
      return q(`(${terms.join(' OR ')})`, ...params)
    }
    if (bounds.length === 0) w.empty = true
    else {
      // The size is counted on the amount index alone (every currency's range at once, no row read): an upper bound.
      const los = bounds.map((b) => b.lo)
      const his = bounds.map((b) => b.hi)
      const lo = los.includes(null) ? null : los.reduce((a, b) => ((b as bigint) < (a as bigint) ? b : a))
      const hi = his.includes(null) ? null : his.reduce((a, b) => ((b as bigint) > (a as bigint) ? b : a))
      const conds = [
        ...(lo !== null ? ['x.fiat_minor >= CAST(? AS INTEGER)'] : []),
        ...(hi !== null ? ['x.fiat_minor <= CAST(? AS INTEGER)'] : []),
      ]
      const probeParams = [...(lo !== null ? [lo] : []), ...(hi !== null ? [hi] : [])]
      const inRange = range('x.fiat_minor', 'x')
      parts.push({
        n: await upTo(
          ledger,
          `SELECT 1 FROM acct_settlement x INDEXED BY stl_fiat WHERE ${conds.join(' AND ')}`,
          probeParams,
          cap,
        ),
        // Sorted by amount, the range is that order's own index (stl_fiat); otherwise its rows are looked up.
        indexed:
          o.orderCol === 's.fiat_minor'
            ? range('s.fiat_minor', 's')
            : q(`s.id IN (SELECT x.id FROM acct_settlement x WHERE ${inRange.sql})`, ...inRange.params),
        tested: range('+s.fiat_minor', 's'),
        orderIndex: o.orderCol === 's.fiat_minor',
      })
    }
  }
  if (f.search !== undefined && f.search.trim() !== '') {
    const hashes = await resolveSearch(ledger, f.search)
    if (hashes.length === 0) w.empty = true
    else {
      const inHashes = q(`s.payment_hash IN (${hashes.map(() => '?').join(', ')})`, ...hashes)
      parts.push({ n: hashes.length, indexed: inHashes, tested: inHashes })
    }
  }
  const few = parts.filter((p) => p.n < cap).sort((a, b) => a.n - b.n)[0]
  w.driven = few !== undefined
  const booked = o.orderCol === undefined || o.orderCol === null || o.orderCol === 's.booked_at_ms'
  for (const p of parts) {
    // No driver: the booking order (and the count) may use the equality and date indexes; the amount order its own.
    const useIndex = few ? p === few : booked ? p.bookedIndex === true : p.orderIndex === true
    const c = useIndex ? p.indexed : p.tested
    w.clauses.push(c.sql)
    w.params.push(...c.params)
  }
  return w
}

/** Opaque cursor: base64url of [sort, last sort value as a decimal string, last id]. */
function encodeCursor(sort: SettlementSort, value: bigint, id: bigint): string {
  return Buffer.from(JSON.stringify([sort, value.toString(), id.toString()]), 'utf8').toString('base64url')
}

function decodeCursor(sort: SettlementSort, s: string): { value: bigint; id: bigint } {
  try {
    const c = JSON.parse(Buffer.from(s, 'base64url').toString('utf8')) as unknown
    if (
      Array.isArray(c) &&
      c.length === 3 &&
      c[0] === sort &&
      typeof c[1] === 'string' &&
      /^-?\d{1,20}$/.test(c[1]) &&
      typeof c[2] === 'string' &&
      /^\d{1,20}$/.test(c[2])
    )
      return { value: BigInt(c[1]), id: BigInt(c[2]) }
  } catch {
    // Fall through to the refusal.
  }
  throw new ApiError(
    'bad_args',
    'args[0].after: this page position belongs to another sort order or is damaged; start from the first page',
    'args[0].after',
  )
}

const SORT_VALUE: Record<SettlementSort, (r: ListRow) => bigint> = {
  booked_desc: (r) => r.booked_at_ms,
  booked_asc: (r) => r.booked_at_ms,
  fiat_desc: (r) => r.fiat_minor,
  fiat_asc: (r) => r.fiat_minor,
  msat_desc: (r) => r.wire_msat,
  msat_asc: (r) => r.wire_msat,
}

export interface ListArgs {
  filter?: SettlementFilter
  sort?: SettlementSort
  limit?: number
  after?: string
}

export async function listSettlements(
  ledger: LedgerStore,
  a: ListArgs,
  tuning: QueryTuning = {},
): Promise<SettlementPageView> {
  const sort = a.sort ?? 'booked_desc'
  const limit = a.limit ?? DEFAULT_PAGE
  const { col, desc } = SORTS[sort]
  const w = await buildWhere(ledger, a.filter, { orderCol: col, ...tuning })
  if (w.empty) return { rows: [], next: null }
  const clauses = [...w.clauses]
  const params = [...w.params]
  if (a.after !== undefined) {
    const c = decodeCursor(sort, a.after)
    clauses.push(`(${w.driven ? '+' : ''}${col}, s.id) ${desc ? '<' : '>'} (CAST(? AS INTEGER), CAST(? AS INTEGER))`)
    params.push(c.value, c.id)
  }
  const where = clauses.length ? `WHERE ${clauses.join(' AND ')}` : ''
  const dir = desc ? 'DESC' : 'ASC'
  // The page's ids first, then their columns: a sort (when a filter drives) then orders bare keys, and the
  // per-row lookups (machine name, ATM transaction id, open refund) run for the page's rows only.
  const rows = await ledger.query<ListRow>(
    `SELECT ${ROW_COLUMNS} FROM (SELECT s.id AS kid FROM acct_settlement s ${where}
       ORDER BY ${col} ${dir}, s.id ${dir} LIMIT ?) k
     JOIN acct_settlement s ON s.id = k.kid LEFT JOIN acct_machine m ON m.id = s.machine_id
     ORDER BY ${col} ${dir}, s.id ${dir}`,
    [...params, limit + 1],
    BIG,
  )
  const more = rows.length > limit
  const page = more ? rows.slice(0, limit) : rows
  const last = page[page.length - 1]
  return {
    rows: page.map(rowView),
    next: more && last ? encodeCursor(sort, SORT_VALUE[sort](last), last.id) : null,
  }
}

/**
 * How many settlements match, counted up to COUNT_CAP: "more than 10,000" is all a person needs, and the bound keeps
 * the cost of a count independent of the ledger's size. A separate call, so the page is on screen before it.
 */
export async function countSettlements(
  ledger: LedgerStore,
  filter: SettlementFilter | undefined,
  tuning: QueryTuning = {},
): Promise<SettlementCountView> {
  const w = await buildWhere(ledger, filter, { purpose: 'count', orderCol: null, ...tuning })
  if (w.empty) return { count: 0, capped: false, cap: COUNT_CAP }
  const where = w.clauses.length ? `WHERE ${w.clauses.join(' AND ')}` : ''
  const c = await ledger.query<{ n: number }>(
    `SELECT COUNT(*) AS n FROM (SELECT 1 FROM acct_settlement s ${where} LIMIT ${COUNT_CAP + 1})`,
    w.params,
  )
  const n = Number(c[0]?.n ?? 0)
  return { count: Math.min(n, COUNT_CAP), capped: n > COUNT_CAP, cap: COUNT_CAP }
}

// ---------------------------------------------------------------------------------------------------------------
// Detail

interface DetailRow extends ListRow {
  atm_event_id: string | null
  record_created_at: bigint
  fiat_requested_minor: bigint
  claimed_fee_msat: bigint | null
  fee_mismatch_msat: bigint | null
  platform_ppm: bigint | null
  operator_ppm: bigint | null
  discount_ppm: bigint | null
  local_day: string | null
  time_zone: string | null
  reason: string | null
  generation: bigint
}

const n = (v: bigint | null | undefined): number | null => (v === null || v === undefined ? null : Number(v))
const s = (v: bigint | null | undefined): string | null => (v === null || v === undefined ? null : String(v))

async function hasTable(ledger: LedgerStore, name: string): Promise<boolean> {
  const r = await ledger.query(`SELECT 1 AS x FROM sqlite_master WHERE type = 'table' AND name = ?`, [name])
  return r.length > 0
}

export async function getSettlement(
  ledger: LedgerStore,
  id: number,
  operatorPubkey: string | undefined,
): Promise<SettlementDetailView> {
  const [r] = await ledger.query<DetailRow>(
    `SELECT ${ROW_COLUMNS}, s.atm_event_id, s.record_created_at, s.fiat_requested_minor, s.claimed_fee_msat,
       s.fee_mismatch_msat, s.platform_ppm, s.operator_ppm, s.discount_ppm, s.local_day, s.time_zone, s.reason,
       s.generation
     FROM acct_settlement s LEFT JOIN acct_machine m ON m.id = s.machine_id WHERE s.id = ?`,
    [id],
    BIG,
  )
  if (!r) throw new ApiError('not_found', `args[0].settlementId: there is no settlement ${id}`, 'args[0].settlementId')
  const generation = Number(r.generation)
  // Everything else at once: the requests queue in the ledger worker back to back, rather than each waiting for the
  // previous answer to cross the thread boundary (a dozen round trips on a busy machine add up).
  const [[result], legs, notes, events, badges, acks] = await Promise.all([
    ledger.query<Row>(
      `SELECT principal_msat, commission_msat, platform_fee_msat, operator_fee_msat, refund_due_msat, fiat_minor
       FROM acct_result WHERE settlement_id = ? AND generation = ?`,
      [id, generation],
      BIG,
    ),
    loadLegs(ledger, id),
    ledger.query<{ id: bigint; author: string; system: bigint; text: string; created_at_ms: bigint }>(
      'SELECT id, author, system, text, created_at_ms FROM acct_note WHERE settlement_id = ? ORDER BY id',
      [id],
      BIG,
    ),
    ledger.query<{
      from_status: string | null
      to_status: string
      reason: string | null
      author: string
      at_ms: bigint
    }>(
      'SELECT from_status, to_status, reason, author, at_ms FROM acct_settlement_event WHERE settlement_id = ? ORDER BY id',
      [id],
      BIG,
    ),
    loadBadges(ledger, id, r, operatorPubkey),
    // The worklist acknowledgements: who resolved what, when, with the note typed on the worklist (and the refund
    // reference the leg was marked with), so the drawer shows the resolution and not only that the item left the list.
    ledger.query<{ kind: string; author: string; note: string | null; at_ms: bigint }>(
      'SELECT kind, author, note, at_ms FROM acct_worklist_ack WHERE settlement_id = ? ORDER BY id',
      [id],
      BIG,
    ),
  ])
  const refundHandedBack = acks.some((a) => a.kind === 'refund_due')
  for (const l of legs)
    if (l.kind === 'refund_due' && l.state === 'refund_owed' && refundHandedBack) l.state = 'refund_handed_back'
  const refundRef = refundHandedBack
    ? ((
        await ledger.query<{ paid_ref: string | null }>(
          `SELECT paid_ref FROM acct_leg WHERE settlement_id = ? AND kind = 'refund_due' AND paid_ref LIKE 'refund:%' ORDER BY id DESC LIMIT 1`,
          [id],
        )
      )[0]?.paid_ref ?? null)
    : null
  return {
    row: rowView(r),
    atmEventId: r.atm_event_id,
    atmPubkey: badges.atmPubkey,
    recordCreatedAt: Number(r.record_created_at),
    fiatRequestedMinor: String(r.fiat_requested_minor),
    claimedFeeMsat: s(r.claimed_fee_msat),
    feeMismatchMsat: s(r.fee_mismatch_msat),
    platformPpm: n(r.platform_ppm),
    operatorPpm: n(r.operator_ppm),
    discountPpm: n(r.discount_ppm),
    localDay: r.local_day,
    timeZone: r.time_zone,
    reason: r.reason,
    generation,
    result: result
      ? {
          principalMsat: String(result.principal_msat),
          commissionMsat: String(result.commission_msat),
          platformFeeMsat: String(result.platform_fee_msat),
          operatorFeeMsat: String(result.operator_fee_msat),
          refundDueMsat: String(result.refund_due_msat),
          fiatMinor: String(result.fiat_minor),
        }
      : null,
    badges: badges.badges,
    legs,
    notes: notes.map((x) => ({
      id: Number(x.id),
      author: x.author,
      system: Number(x.system) === 1,
      text: x.text,
      createdAtMs: Number(x.created_at_ms),
    })),
    events: events.map((e) => ({
      fromStatus: e.from_status,
      toStatus: e.to_status,
      reason: e.reason,
      author: e.author,
      atMs: Number(e.at_ms),
    })),
    resolutions: acks
      .filter((a) => a.kind === 'refund_due' || a.kind === 'fee_mismatch')
      .map((a) => ({
        kind: a.kind as 'refund_due' | 'fee_mismatch',
        author: a.author,
        note: a.note,
        reference: a.kind === 'refund_due' && refundRef ? refundRef.slice('refund:'.length) : null,
        atMs: Number(a.at_ms),
      })),
  }
}

interface LegRow extends Row {
  id: bigint
  generation: bigint
  kind: SettlementLegView['kind']
  recipient_id: string
  msat: bigint
  fiat_minor: bigint
  reverses_leg_id: bigint | null
  reversed: bigint
  created_at_ms: bigint
  paid_ref: string | null
  paid_at_ms: bigint | null
  lp_name: string | null
}

async function loadLegs(ledger: LedgerStore, id: number): Promise<SettlementLegView[]> {
  const rows = await ledger.query<LegRow>(
    `SELECT l.id, l.generation, l.kind, l.recipient_id, l.msat, l.fiat_minor, l.reverses_leg_id,
       EXISTS (SELECT 1 FROM acct_leg r WHERE r.reverses_leg_id = l.id) AS reversed, l.created_at_ms, l.paid_ref,
       l.paid_at_ms, (SELECT p.name FROM acct_lp p WHERE l.kind = 'lp' AND p.id = l.recipient_id) AS lp_name
     FROM acct_leg l WHERE l.settlement_id = ? ORDER BY l.id`,
    [id],
    BIG,
  )
  const payoutIds = [
    ...new Set(rows.map((r) => r.paid_ref).filter((p): p is string => p?.startsWith('payout:') === true)),
  ].map((p) => p.slice('payout:'.length))
  const payouts = new Map<string, SettlementLegView['payout']>()
  if (payoutIds.length > 0 && (await hasTable(ledger, 'payout'))) {
    const ps = await ledger.query<Row>(
      `SELECT id, state, amount_msat, payment_hash, preimage, fees_paid_msat, updated_at_ms FROM payout
       WHERE id IN (${payoutIds.map(() => '?').join(', ')})`,
      payoutIds,
      BIG,
    )
    for (const p of ps)
      payouts.set(String(p.id), {
        id: String(p.id),
        state: String(p.state),
        amountMsat: String(p.amount_msat),
        paymentHash: (p.payment_hash as string | null) ?? null,
        preimage: (p.preimage as string | null) ?? null,
        feesPaidMsat: p.fees_paid_msat === null ? null : String(p.fees_paid_msat),
        updatedAtMs: Number(p.updated_at_ms),
      })
  }
  return rows.map((l) => {
    const payout = l.paid_ref?.startsWith('payout:') ? (payouts.get(l.paid_ref.slice(7)) ?? null) : null
    const reversed = Number(l.reversed) === 1
    let state: SettlementLegView['state']
    if (reversed || l.reverses_leg_id !== null) state = 'reversed'
    else if (l.kind === 'float') state = 'kept'
    else if (l.kind === 'refund_due') state = l.paid_ref ? 'refund_handed_back' : 'refund_owed'
    else if (payout?.state === 'paid') state = 'paid'
    else if (l.paid_ref) state = 'in_payout'
    else state = 'accrued'
    return {
      id: Number(l.id),
      generation: Number(l.generation),
      kind: l.kind,
      recipientId: l.recipient_id,
      recipientName: l.lp_name,
      msat: String(l.msat),
      fiatMinor: String(l.fiat_minor),
      reversesLegId: n(l.reverses_leg_id),
      reversed,
      createdAtMs: Number(l.created_at_ms),
      state,
      payout,
      paidAtMs: n(l.paid_at_ms),
    }
  })
}

const badge = (state: BadgeView['state'], text: string): BadgeView => ({ state, text })

/**
 * The verification badges, re-checked now from what the ledger kept: the ATM's signed record (id and signature),
 * its NIP-26 delegation from the operator key (token and conditions at the record's created_at), the roster that
 * admitted the ATM (operator-signed, listing the ATM), the wallet's preimage (sha256 = payment hash), and the
 * console's receipt (created, published to relays, read back).
 */
async function loadBadges(
  ledger: LedgerStore,
  id: number,
  r: DetailRow,
  operatorPubkey: string | undefined,
): Promise<{ badges: SettlementDetailView['badges']; atmPubkey: string | null }> {
  // The three independent reads are asked together (see getSettlement).
  const [[outcome], proof, rc] = await Promise.all([
    ledger.query<{ raw_json: string; atm_pubkey: string }>(
      `SELECT raw_json, atm_pubkey FROM fleet_record_outcome WHERE outcome = 'booked' AND payment_hash = ?`,
      [r.payment_hash],
    ),
    hasTable(ledger, 'stl_proof').then(async (has) =>
      has
        ? (
            await ledger.query<{ preimage: string; settled_at: bigint | null; roster_event_id: string }>(
              'SELECT preimage, settled_at, roster_event_id FROM stl_proof WHERE payment_hash = ?',
              [r.payment_hash],
              BIG,
            )
          )[0]
        : undefined,
    ),
    hasTable(ledger, 'rcpt_receipt').then(async (has) =>
      has
        ? (
            await ledger.query<{ event_id: string }>('SELECT event_id FROM rcpt_receipt WHERE settlement_id = ?', [id])
          )[0]
        : undefined,
    ),
  ])
  let ev: NostrEvent | null = null
  try {
    ev = outcome ? (JSON.parse(outcome.raw_json) as NostrEvent) : null
  } catch {
    ev = null
  }
  const atmPubkey = outcome?.atm_pubkey ?? null

  let signature: BadgeView
  if (!ev) signature = badge('missing', 'The ATM’s signed record is not in the ledger (booked by another path).')
  else {
    const c = checkEvent(ev)
    signature =
      c.ok && ev.kind === KIND_ATM_RECORD
        ? badge('ok', `Signed by the ATM key ${ev.pubkey.slice(0, 12)}…; its id and signature check out.`)
        : badge('failed', c.ok ? `The record is kind ${ev.kind}, not an ATM record.` : `The record fails: ${c.detail}.`)
  }

  let delegation: BadgeView
  if (!ev) delegation = badge('missing', 'No signed record to check a delegation on.')
  else {
    try {
      const d = parseDelegationTag(ev)
      const cond = parseConditions(d.conditions)
      const inWindow =
        (cond.kinds.length === 0 || cond.kinds.includes(ev.kind)) &&
        cond.createdAfter.every((t) => ev.created_at > t) &&
        cond.createdBefore.every((t) => ev.created_at < t)
      const fromOperator = operatorPubkey === undefined || d.delegatorPubkey === operatorPubkey
      const tokenOk = verifyDelegationToken(d.delegatorPubkey, ev.pubkey, d.conditions, d.token)
      delegation =
        tokenOk && inWindow && fromOperator
          ? badge(
              'ok',
              `Delegated by the operator key ${d.delegatorPubkey.slice(0, 12)}…; the record falls in its window.`,
            )
          : badge(
              'failed',
              !tokenOk
                ? 'The delegation token does not verify.'
                : !fromOperator
                  ? 'The delegation is not from the pinned operator key.'
                  : 'The record falls outside the delegation’s window or kinds.',
            )
    } catch (e) {
      delegation = badge('failed', `The delegation tag does not parse: ${(e as Error).message}.`)
    }
  }

  let roster: SettlementDetailView['badges']['roster']
  if (!proof)
    roster = {
      ...badge('missing', 'Which roster admitted the ATM was not kept for this settlement.'),
      rosterEventId: null,
    }
  else {
    const [row] = await ledger.query<{ raw_json: string }>(
      'SELECT raw_json FROM fleet_signed_event WHERE event_id = ?',
      [proof.roster_event_id],
    )
    let state: BadgeView['state'] = 'missing'
    let text = `Roster ${proof.roster_event_id.slice(0, 12)}… is not stored.`
    if (row) {
      try {
        const rosterEv = JSON.parse(row.raw_json) as NostrEvent
        const parsed = parseRosterEvent(rosterEv, operatorPubkey ?? rosterEv.pubkey)
        const listed = atmPubkey !== null && parsed.members.includes(atmPubkey)
        state = listed ? 'ok' : 'failed'
        text = listed
          ? `Listed in the operator-signed roster ${proof.roster_event_id.slice(0, 12)}… (${parsed.members.length} machine${parsed.members.length === 1 ? '' : 's'}).`
          : 'The roster that admitted the record does not list this ATM.'
      } catch (e) {
        state = 'failed'
        text = `The roster does not verify: ${(e as Error).message}.`
      }
    }
    roster = { state, text, rosterEventId: proof.roster_event_id }
  }

  let wallet: SettlementDetailView['badges']['wallet']
  if (!proof)
    wallet = {
      ...badge('missing', 'The wallet’s preimage was not kept for this settlement.'),
      preimage: null,
      settledAt: null,
    }
  else {
    const ok =
      /^[0-9a-f]{64}$/.test(proof.preimage) && bytesToHex(sha256(hexToBytes(proof.preimage))) === r.payment_hash
    wallet = {
      ...badge(
        ok ? 'ok' : 'failed',
        ok
          ? `Your wallet settled the payment; sha256 of its preimage is the payment hash.`
          : 'The kept preimage does not hash to the payment hash.',
      ),
      preimage: proof.preimage,
      settledAt: n(proof.settled_at),
    }
  }

  let receipt: SettlementDetailView['badges']['receipt']
  if (!rc)
    receipt = {
      ...badge('missing', 'No receipt yet: it is signed once the settlement is processed.'),
      eventId: null,
      relays: [],
    }
  else {
    const attempts = await ledger.query<{ kind: string; relays_ok: bigint; detail: string | null }>(
      'SELECT kind, relays_ok, detail FROM rcpt_attempt WHERE event_id = ? ORDER BY id',
      [rc.event_id],
      BIG,
    )
    const verified = attempts.filter((a) => a.kind === 'verified').at(-1)
    const published = attempts.filter((a) => a.kind === 'published').at(-1)
    const relays = (verified?.detail ?? published?.detail ?? '').split(' ').filter((x) => /^wss?:\/\//.test(x))
    receipt = verified
      ? {
          ...badge('ok', `Published and read back from ${relays.length || Number(verified.relays_ok)} relay(s).`),
          eventId: rc.event_id,
          relays,
        }
      : published
        ? { ...badge('missing', 'Published; not yet read back from a relay.'), eventId: rc.event_id, relays }
        : { ...badge('missing', 'Signed and stored; not yet published.'), eventId: rc.event_id, relays: [] }
  }
  return { badges: { signature, delegation, roster, wallet, receipt }, atmPubkey }
}

// ---------------------------------------------------------------------------------------------------------------
// CSV

/** RFC 4180 field: quoted when it holds a comma, quote or line break; a leading =+-@ is defused for spreadsheets. */
export function csvField(v: string): string {
  const safe = /^[=+\-@\t\r]/.test(v) && !/^-?\d/.test(v) ? `'${v}` : v
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe
}

export async function settlementsCsv(
  ledger: LedgerStore,
  a: { filter?: SettlementFilter; sort?: SettlementSort },
  nowMs: number,
): Promise<SettlementCsvView> {
  const sort = a.sort ?? 'booked_desc'
  const { col, desc } = SORTS[sort]
  const w = await buildWhere(ledger, a.filter, { orderCol: col })
  const header = SETTLEMENT_CSV_COLUMNS.map((c) => c.name).join(',')
  const lines = [header]
  let truncated = false
  if (!w.empty) {
    const where = w.clauses.length ? `WHERE ${w.clauses.join(' AND ')}` : ''
    const dir = desc ? 'DESC' : 'ASC'
    const receipts = await hasTable(ledger, 'rcpt_receipt')
    const rows = await ledger.query<Row>(
      `SELECT s.id, s.booked_at_ms, s.local_day, s.machine_id, m.name AS machine_name, s.direction, s.status, s.currency,
         s.fiat_minor, s.fiat_requested_minor, s.wire_msat, r.commission_msat, r.platform_fee_msat, r.operator_fee_msat,
         r.refund_due_msat, s.claimed_fee_msat, s.fee_mismatch_msat, s.fee_mismatch_flagged, ${REFUND_OPEN} AS refund_open,
         s.payment_hash,
         (SELECT o.tx_id FROM fleet_record_outcome o WHERE o.outcome = 'booked' AND o.payment_hash = s.payment_hash) AS tx_id,
         s.atm_event_id, ${receipts ? '(SELECT c.event_id FROM rcpt_receipt c WHERE c.settlement_id = s.id)' : 'NULL'} AS receipt
       FROM acct_settlement s LEFT JOIN acct_machine m ON m.id = s.machine_id
       LEFT JOIN acct_result r ON r.settlement_id = s.id AND r.generation = s.generation
       ${where} ORDER BY ${col} ${dir}, s.id ${dir} LIMIT ?`,
      [...w.params, CSV_MAX_ROWS + 1],
      BIG,
    )
    truncated = rows.length > CSV_MAX_ROWS
    for (const x of rows.slice(0, CSV_MAX_ROWS)) {
      const cur = String(x.currency)
      const fiat = (v: unknown) => (isCurrency(cur) ? formatMinor(BigInt(v as bigint), cur) : String(v))
      const str = (v: unknown) => (v === null || v === undefined ? '' : String(v))
      lines.push(
        [
          str(x.id),
          new Date(Number(x.booked_at_ms)).toISOString(),
          str(x.local_day),
          str(x.machine_id),
          str(x.machine_name),
          str(x.direction),
          str(x.status),
          cur,
          fiat(x.fiat_minor),
          fiat(x.fiat_requested_minor),
          str(x.wire_msat),
          str(x.commission_msat),
          str(x.platform_fee_msat),
          str(x.operator_fee_msat),
          str(x.refund_due_msat),
          str(x.claimed_fee_msat),
          str(x.fee_mismatch_msat),
          str(x.fee_mismatch_flagged),
          str(x.refund_open),
          str(x.payment_hash),
          str(x.tx_id),
          str(x.atm_event_id),
          str(x.receipt),
        ]
          .map(csvField)
          .join(','),
      )
    }
  }
  const dictionary = [
    'column,meaning',
    ...SETTLEMENT_CSV_COLUMNS.map((c) => `${csvField(c.name)},${csvField(c.meaning)}`),
  ]
  const stamp = new Date(nowMs).toISOString().slice(0, 19).replace(/[:T]/g, '-')
  return {
    fileName: `settlements-${stamp}.csv`,
    csv: `${lines.join('\r\n')}\r\n`,
    dictionaryCsv: `${dictionary.join('\r\n')}\r\n`,
    rows: lines.length - 1,
    truncated,
    maxRows: CSV_MAX_ROWS,
  }
}
