// Reads one period of the ledger for the audit export (docs/audit-export.md): settlements whose ATM record was
// created in the period with their current result, legs, receipt and notes; payouts planned in the period; LP
// entries, deposits, rejected records, notes and fee configurations recorded in it; reconciliation runs that
// overlap it. Read-only queries (`store.query`), so it runs on a live console or on a stopped console's data
// directory opened by the CLI. Tables of a module the ledger has not migrated yet read as empty.
import type {
  AuditData,
  AuditPeriod,
  AuditProvenance,
  ConfigAuditRow,
  LegAuditRow,
  LpInfoRow,
  PayoutAuditRow,
  SettlementAuditRow,
  WalletRunAuditRow,
} from '../../src-shared/audit/export/model'
import { rateOf } from '../../src-shared/audit/export/tables'
import type { LedgerStore, Row } from '../ledger/types'

const BIG = { bigint: true } as const

const num = (v: unknown): number => (typeof v === 'bigint' ? Number(v) : (v as number))
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : num(v))
const big = (v: unknown): bigint => (typeof v === 'bigint' ? v : BigInt(v as number))
const bigOrNull = (v: unknown): bigint | null => (v === null || v === undefined ? null : big(v))
const strOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : String(v))

async function tables(store: LedgerStore): Promise<Set<string>> {
  const rows = await store.query<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'")
  return new Set(rows.map((r) => r.name))
}

/** The preimage tag of a stored receipt event, if it parses. */
function preimageOf(eventJson: unknown): string | null {
  if (typeof eventJson !== 'string') return null
  try {
    const ev = JSON.parse(eventJson) as { tags?: unknown }
    if (!Array.isArray(ev.tags)) return null
    const t = ev.tags.find((x) => Array.isArray(x) && x[0] === 'preimage')
    return typeof t?.[1] === 'string' ? t[1] : null
  } catch {
    return null
  }
}

const CONFIG_FIELDS = [
  'cash_out_platform_ppm',
  'cash_out_operator_ppm',
  'cash_in_platform_ppm',
  'cash_in_operator_ppm',
  'discount_ppm',
  'splits_json',
  'time_zone',
] as const

export interface ReadOptions {
  period: AuditPeriod
  provenance: AuditProvenance
  /** Called as rows are read, for a progress bar (0…1). */
  onProgress?: (fraction: number, what: string) => void
}

export async function readAuditData(store: LedgerStore, o: ReadOptions): Promise<AuditData> {
  const have = await tables(store)
  const progress = o.onProgress ?? (() => undefined)
  const fromSec = Math.floor(o.period.fromMs / 1000)
  const untilSec = Math.floor(o.period.untilMs / 1000)
  const { fromMs, untilMs } = o.period
  const q = <T extends Row>(table: string, sql: string, params: (string | number)[] = []): Promise<T[]> =>
    have.has(table) ? store.query<T>(sql, params, BIG) : Promise.resolve([])

  progress(0, 'machines')
  const machines = (await q('acct_machine', 'SELECT * FROM acct_machine ORDER BY id')).map((r) => ({
    id: String(r.id),
    name: String(r.name),
    currency: String(r.currency),
    createdAtMs: num(r.created_at_ms),
  }))

  progress(0.05, 'settlements')
  const receipts = have.has('rcpt_receipt')
  const noteCounts = new Map<number, number>()
  for (const r of await q(
    'acct_note',
    `SELECT n.settlement_id AS sid, COUNT(*) AS c FROM acct_note n JOIN acct_settlement s ON s.id = n.settlement_id
     WHERE s.record_created_at >= ? AND s.record_created_at < ? GROUP BY n.settlement_id`,
    [fromSec, untilSec],
  ))
    noteCounts.set(num(r.sid), num(r.c))
  const settlements: SettlementAuditRow[] = (
    await q(
      'acct_settlement',
      `SELECT s.*, r.principal_msat, r.commission_msat, r.platform_fee_msat, r.operator_fee_msat, r.refund_due_msat
         ${receipts ? ', rc.event_id AS receipt_event_id, rc.event_json AS receipt_json' : ''}
       FROM acct_settlement s
       LEFT JOIN acct_result r ON r.settlement_id = s.id AND r.generation = s.generation
       ${receipts ? 'LEFT JOIN rcpt_receipt rc ON rc.settlement_id = s.id' : ''}
       WHERE s.record_created_at >= ? AND s.record_created_at < ? ORDER BY s.id`,
      [fromSec, untilSec],
    )
  ).map((r) => ({
    id: num(r.id),
    createdAtSec: num(r.record_created_at),
    bookedAtMs: num(r.booked_at_ms),
    localDay: strOrNull(r.local_day),
    timeZone: strOrNull(r.time_zone),
    machineId: String(r.machine_id),
    direction: r.direction as 'cash_out' | 'cash_in',
    status: String(r.status),
    reason: strOrNull(r.reason),
    paymentHash: String(r.payment_hash),
    atmEventId: strOrNull(r.atm_event_id),
    receiptEventId: strOrNull(r.receipt_event_id),
    preimage: preimageOf(r.receipt_json),
    currency: String(r.currency),
    wireMsat: big(r.wire_msat),
    fiatMinor: big(r.fiat_minor),
    fiatRequestedMinor: big(r.fiat_requested_minor),
    principalMsat: bigOrNull(r.principal_msat),
    commissionMsat: bigOrNull(r.commission_msat),
    platformFeeMsat: bigOrNull(r.platform_fee_msat),
    operatorFeeMsat: bigOrNull(r.operator_fee_msat),
    refundDueMsat: bigOrNull(r.refund_due_msat),
    platformPpm: numOrNull(r.platform_ppm),
    operatorPpm: numOrNull(r.operator_ppm),
    discountPpm: numOrNull(r.discount_ppm),
    claimedFeeMsat: bigOrNull(r.claimed_fee_msat),
    feeMismatchMsat: bigOrNull(r.fee_mismatch_msat),
    feeMismatchFlagged: num(r.fee_mismatch_flagged) === 1,
    generation: num(r.generation),
    notes: noteCounts.get(num(r.id)) ?? 0,
  }))

  progress(0.4, 'legs')
  const currencyOf = new Map(settlements.map((s) => [s.id, s.currency]))
  const legs: LegAuditRow[] = (
    await q(
      'acct_leg',
      `SELECT l.* FROM acct_leg l JOIN acct_settlement s ON s.id = l.settlement_id
       WHERE s.record_created_at >= ? AND s.record_created_at < ? ORDER BY l.id`,
      [fromSec, untilSec],
    )
  ).map((r) => ({
    id: num(r.id),
    settlementId: num(r.settlement_id),
    generation: num(r.generation),
    kind: String(r.kind),
    recipientId: String(r.recipient_id),
    msat: big(r.msat),
    fiatMinor: big(r.fiat_minor),
    currency: currencyOf.get(num(r.settlement_id)) ?? '',
    reversesLegId: numOrNull(r.reverses_leg_id),
    createdAtMs: num(r.created_at_ms),
    paidRef: strOrNull(r.paid_ref),
    paidAtMs: numOrNull(r.paid_at_ms),
  }))

  progress(0.7, 'LPs and payouts')
  const lpRows = await q('acct_lp', 'SELECT * FROM acct_lp ORDER BY id')
  const openings = new Map<string, bigint>()
  for (const r of await q(
    'acct_lp_entry',
    `SELECT e.lp_id, e.balance_after_minor FROM acct_lp_entry e
     JOIN (SELECT lp_id, MAX(id) AS id FROM acct_lp_entry WHERE created_at_ms < ? GROUP BY lp_id) last ON last.id = e.id`,
    [fromMs],
  ))
    openings.set(String(r.lp_id), big(r.balance_after_minor))
  const lps: LpInfoRow[] = lpRows.map((r) => ({
    id: String(r.id),
    name: String(r.name),
    currency: String(r.currency),
    mode: String(r.mode),
    machineId: strOrNull(r.machine_id),
    openingMinor: openings.get(String(r.id)) ?? 0n,
  }))
  const lpCurrency = new Map(lps.map((lp) => [lp.id, lp.currency]))
  const lpEntries = (
    await q('acct_lp_entry', 'SELECT * FROM acct_lp_entry WHERE created_at_ms >= ? AND created_at_ms < ? ORDER BY id', [
      fromMs,
      untilMs,
    ])
  ).map((r) => ({
    id: num(r.id),
    lpId: String(r.lp_id),
    kind: String(r.kind),
    deltaMinor: big(r.delta_minor),
    balanceAfterMinor: big(r.balance_after_minor),
    depositId: strOrNull(r.deposit_id),
    legId: numOrNull(r.leg_id),
    dustId: numOrNull(r.dust_id),
    createdAtMs: num(r.created_at_ms),
  }))
  const deposits = (
    await q(
      'acct_deposit',
      'SELECT * FROM acct_deposit WHERE created_at_ms >= ? AND created_at_ms < ? ORDER BY created_at_ms, id',
      [fromMs, untilMs],
    )
  ).map((r) => ({
    id: String(r.id),
    lpId: String(r.lp_id),
    currency: lpCurrency.get(String(r.lp_id)) ?? '',
    status: String(r.status),
    amountMinor: big(r.amount_minor),
    createdAtMs: num(r.created_at_ms),
    confirmedAtMs: numOrNull(r.confirmed_at_ms),
    closedAtMs: numOrNull(r.closed_at_ms),
    note: strOrNull(r.note),
  }))

  // A payout's fiat is stated at the rate of the last booked settlement before it, in the recipient's currency
  // (an LP's own; otherwise the currency most of the period's settlements are in).
  const byCurrency = new Map<string, { atMs: number; rate: bigint }[]>()
  const tally = new Map<string, number>()
  for (const s of settlements) {
    if (s.status === 'rejected') continue
    const rate = rateOf(s.wireMsat, s.fiatMinor, s.currency)
    if (rate === null) continue
    const list = byCurrency.get(s.currency) ?? []
    list.push({ atMs: s.createdAtSec * 1000, rate })
    byCurrency.set(s.currency, list)
    tally.set(s.currency, (tally.get(s.currency) ?? 0) + 1)
  }
  for (const list of byCurrency.values()) list.sort((a, b) => a.atMs - b.atMs)
  const functional =
    [...tally.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0]?.[0] ?? machines[0]?.currency ?? null
  const rateAt = (currency: string | null, atMs: number): bigint | null => {
    const list = currency ? byCurrency.get(currency) : undefined
    if (!list || list.length === 0) return null
    let lo = 0
    let hi = list.length - 1
    let found = -1
    while (lo <= hi) {
      const mid = (lo + hi) >> 1
      if ((list[mid] as { atMs: number }).atMs <= atMs) {
        found = mid
        lo = mid + 1
      } else hi = mid - 1
    }
    return (list[found < 0 ? 0 : found] as { rate: bigint }).rate
  }
  const payouts: PayoutAuditRow[] = (
    await q(
      'payout',
      'SELECT * FROM payout WHERE planned_at_ms >= ? AND planned_at_ms < ? ORDER BY planned_at_ms, id',
      [fromMs, untilMs],
    )
  ).map((r) => {
    const kind = String(r.recipient_kind)
    const currency = kind === 'lp' ? (lpCurrency.get(String(r.recipient_id)) ?? functional) : functional
    const plannedAtMs = num(r.planned_at_ms)
    return {
      id: String(r.id),
      recipientKind: kind,
      recipientId: String(r.recipient_id),
      plannedAtMs,
      updatedAtMs: num(r.updated_at_ms),
      state: String(r.state),
      attempt: num(r.attempt),
      amountMsat: big(r.amount_msat),
      feesPaidMsat: bigOrNull(r.fees_paid_msat),
      maxFeeMsat: big(r.max_fee_msat),
      connectionId: String(r.connection_id),
      paymentHash: strOrNull(r.payment_hash),
      preimage: strOrNull(r.preimage),
      reason: strOrNull(r.reason),
      currency,
      rateMsatPerMajor: rateAt(currency, plannedAtMs),
    }
  })

  progress(0.85, 'exceptions and changes')
  const rejected = (
    await q(
      'acct_rejected',
      'SELECT * FROM acct_rejected WHERE received_at_ms >= ? AND received_at_ms < ? ORDER BY id',
      [fromMs, untilMs],
    )
  ).map((r) => ({
    id: num(r.id),
    eventId: strOrNull(r.event_id),
    machineId: strOrNull(r.machine_id),
    paymentHash: strOrNull(r.payment_hash),
    field: strOrNull(r.field),
    reason: String(r.reason),
    receivedAtMs: num(r.received_at_ms),
  }))
  const notes = (
    await q('acct_note', 'SELECT * FROM acct_note WHERE created_at_ms >= ? AND created_at_ms < ? ORDER BY id', [
      fromMs,
      untilMs,
    ])
  ).map((r) => ({
    id: num(r.id),
    settlementId: numOrNull(r.settlement_id),
    lpId: strOrNull(r.lp_id),
    author: String(r.author),
    system: num(r.system) === 1,
    text: String(r.text),
    createdAtMs: num(r.created_at_ms),
  }))
  const configs = await readConfigChanges(store, fromMs, untilMs)
  const walletRuns = await readWalletRuns(store, fromSec, untilSec)
  progress(1, 'read')
  return {
    period: o.period,
    provenance: o.provenance,
    machines,
    settlements,
    legs,
    payouts,
    lps,
    lpEntries,
    deposits,
    walletRuns,
    rejected,
    configs,
    notes,
  }
}

/** One line per difference of a stored reconciliation report (its own JSON; unknown shapes give none). */
function differenceLines(json: unknown): string[] {
  if (typeof json !== 'string') return []
  try {
    const report = JSON.parse(json) as { differences?: unknown }
    if (!Array.isArray(report.differences)) return []
    return report.differences.slice(0, 200).map((d) => {
      const x = d as Record<string, unknown>
      const parts = [String(x.kind ?? 'difference')]
      if (x.paymentHash) parts.push(`hash ${String(x.paymentHash).slice(0, 16)}`)
      if (Array.isArray(x.refs) && x.refs.length > 0) parts.push(`refs ${x.refs.join(' ')}`)
      if (x.ledgerMsat !== null && x.ledgerMsat !== undefined) parts.push(`ledger ${String(x.ledgerMsat)} msat`)
      if (x.walletMsat !== null && x.walletMsat !== undefined) parts.push(`wallet ${String(x.walletMsat)} msat`)
      return parts.join(', ')
    })
  } catch {
    return []
  }
}

/** Fee configurations recorded in [fromMs, untilMs), each with its scope's previous version (for old → new). */
export async function readConfigChanges(
  store: LedgerStore,
  fromMs: number,
  untilMs: number,
): Promise<ConfigAuditRow[]> {
  const have = await tables(store)
  if (!have.has('acct_config')) return []
  const configs: ConfigAuditRow[] = []
  const lastByScope = new Map<string, Record<string, string>>()
  for (const r of await store.query(
    'SELECT * FROM acct_config WHERE recorded_at_ms < ? ORDER BY seq',
    [untilMs],
    BIG,
  )) {
    const fields: Record<string, string> = {}
    for (const k of CONFIG_FIELDS) fields[k] = r[k] === null || r[k] === undefined ? '' : String(r[k])
    const scope = r.machine_id === null ? '' : String(r.machine_id)
    const previous = lastByScope.get(scope) ?? null
    lastByScope.set(scope, fields)
    if (num(r.recorded_at_ms) < fromMs) continue
    configs.push({
      seq: num(r.seq),
      machineId: strOrNull(r.machine_id),
      effectiveFromMs: num(r.effective_from_ms),
      recordedAtMs: num(r.recorded_at_ms),
      author: String(r.author),
      note: strOrNull(r.note),
      fields,
      previous,
    })
  }
  return configs
}

/** Wallet reconciliation runs whose window overlaps [fromSec, untilSec), with the differences each found. */
export async function readWalletRuns(
  store: LedgerStore,
  fromSec: number,
  untilSec: number,
): Promise<WalletRunAuditRow[]> {
  const have = await tables(store)
  if (!have.has('recon_run')) return []
  return (
    await store.query(
      'SELECT * FROM recon_run WHERE from_sec < ? AND until_sec > ? ORDER BY id',
      [untilSec, fromSec],
      BIG,
    )
  ).map((r) => ({
    id: num(r.id),
    fromSec: num(r.from_sec),
    untilSec: num(r.until_sec),
    matched: num(r.matched),
    differences: num(r.differences),
    atMs: num(r.at_ms),
    differenceLines: differenceLines(r.report_json),
  }))
}
