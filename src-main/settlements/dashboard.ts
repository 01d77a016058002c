// The Dashboard's figures (issue 9), aggregated on the main side so the renderer only formats them: today / 7 days
// / 30 days per direction and currency (count, fiat, sats), commission (platform fee, operator fee and each
// commission split), LP distributions, per-day and per-machine series for the charts, worklist counts, alerts, and
// the machines that need attention (no record for a day, delegation running out, refused records).
//
// Periods are local business days (the `local_day` each settlement was booked under, in the operator's time
// zone): "7 d" is today and the six days before it. Money is summed in SQL as INTEGER and carried as bigint; the
// sums of legs include reversing entries, so a reversed settlement nets to nothing.

import type { FleetMachineView } from '../../src-shared/ipc/contract'
import type { DelegationWarningView } from '../../src-shared/ipc/fleet-pairing'
import type { DashboardSummaryView, MachineAttentionView, PeriodSummaryView } from '../../src-shared/ipc/settlements'
import { localDay } from '../../src-shared/money/local-day'
import type { LedgerStore } from '../ledger/types'

const BIG = { bigint: true } as const
const DAY_MS = 86_400_000
/** A paired machine that has sent no record for this long is shown as needing attention. */
export const OFFLINE_AFTER_MS = 24 * 3_600_000
/** Refused records counted over this window. */
export const REFUSED_WINDOW_MS = 7 * DAY_MS

export interface DashboardInputs {
  ledger: LedgerStore
  nowMs: number
  timeZone: string
  machines: FleetMachineView[]
  delegations: DelegationWarningView[]
  wallet: DashboardSummaryView['wallet']
}

async function hasTable(ledger: LedgerStore, name: string): Promise<boolean> {
  return (await ledger.query(`SELECT 1 AS x FROM sqlite_master WHERE type = 'table' AND name = ?`, [name])).length > 0
}

export async function dashboardSummary(i: DashboardInputs): Promise<DashboardSummaryView> {
  const { ledger, nowMs, timeZone } = i
  const today = localDay(nowMs, timeZone)
  const from7 = localDay(nowMs - 6 * DAY_MS, timeZone)
  const from30 = localDay(nowMs - 29 * DAY_MS, timeZone)

  const volume = await ledger.query<{
    day: string
    machine_id: string
    direction: 'cash_out' | 'cash_in'
    currency: string
    n: bigint
    fiat: bigint
    msat: bigint
  }>(
    `SELECT local_day AS day, machine_id, direction, currency, COUNT(*) AS n, SUM(fiat_minor) AS fiat,
       SUM(wire_msat) AS msat
     FROM acct_settlement WHERE local_day >= ? AND status <> 'rejected'
     GROUP BY local_day, machine_id, direction, currency`,
    [from30],
    BIG,
  )
  const legs = await ledger.query<{ day: string; kind: string; recipient_id: string; msat: bigint; fiat: bigint }>(
    `SELECT s.local_day AS day, l.kind, l.recipient_id, SUM(l.msat) AS msat, SUM(l.fiat_minor) AS fiat
     FROM acct_settlement s JOIN acct_leg l ON l.settlement_id = s.id
     WHERE s.local_day >= ? AND s.status <> 'rejected' AND l.kind IN ('platform_fee', 'split', 'lp')
     GROUP BY s.local_day, l.kind, l.recipient_id`,
    [from30],
    BIG,
  )
  const lpRows = await ledger.query<{ id: string; name: string; currency: string }>(
    'SELECT id, name, currency FROM acct_lp',
  )
  const lpInfo = new Map(lpRows.map((r) => [r.id, r]))
  const machineNames = new Map(
    (await ledger.query<{ id: string; name: string }>('SELECT id, name FROM acct_machine')).map((r) => [r.id, r.name]),
  )

  const periods: PeriodSummaryView[] = (
    [
      ['today', today],
      ['7d', from7],
      ['30d', from30],
    ] as const
  ).map(([period, fromDay]) => {
    const totals = new Map<
      string,
      { direction: 'cash_out' | 'cash_in'; currency: string; count: number; fiat: bigint; msat: bigint }
    >()
    for (const v of volume) {
      if (v.day < fromDay) continue
      const k = `${v.direction}|${v.currency}`
      const t = totals.get(k) ?? { direction: v.direction, currency: v.currency, count: 0, fiat: 0n, msat: 0n }
      t.count += Number(v.n)
      t.fiat += BigInt(v.fiat)
      t.msat += BigInt(v.msat)
      totals.set(k, t)
    }
    let platform = 0n
    let operator = 0n
    const splits = new Map<string, bigint>()
    const lps = new Map<string, { msat: bigint; fiat: bigint }>()
    for (const l of legs) {
      if (l.day < fromDay) continue
      const msat = BigInt(l.msat)
      if (l.kind === 'platform_fee') platform += msat
      else if (l.kind === 'split') {
        operator += msat
        splits.set(l.recipient_id, (splits.get(l.recipient_id) ?? 0n) + msat)
      } else if (l.kind === 'lp') {
        const x = lps.get(l.recipient_id) ?? { msat: 0n, fiat: 0n }
        x.msat += msat
        x.fiat += BigInt(l.fiat)
        lps.set(l.recipient_id, x)
      }
    }
    return {
      period,
      fromDay,
      totals: [...totals.values()]
        .sort((a, b) =>
          a.direction === b.direction ? a.currency.localeCompare(b.currency) : a.direction === 'cash_out' ? -1 : 1,
        )
        .map((t) => ({
          direction: t.direction,
          currency: t.currency,
          count: t.count,
          fiatMinor: t.fiat.toString(),
          msat: t.msat.toString(),
        })),
      platformFeeMsat: platform.toString(),
      operatorFeeMsat: operator.toString(),
      splits: [...splits]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([recipientId, msat]) => ({ recipientId, msat: msat.toString() })),
      lps: [...lps]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([lpId, x]) => ({
          lpId,
          name: lpInfo.get(lpId)?.name ?? null,
          msat: x.msat.toString(),
          fiatMinor: x.fiat.toString(),
          currency: lpInfo.get(lpId)?.currency ?? null,
        })),
    }
  })

  // Chart series: per day per direction per currency, commission per day, per machine per currency.
  const perDay = new Map<
    string,
    { day: string; direction: 'cash_out' | 'cash_in'; currency: string; count: number; fiat: bigint; msat: bigint }
  >()
  const perMachine = new Map<
    string,
    { machineId: string; currency: string; outFiat: bigint; inFiat: bigint; outCount: number; inCount: number }
  >()
  for (const v of volume) {
    const k = `${v.day}|${v.direction}|${v.currency}`
    const d = perDay.get(k) ?? {
      day: v.day,
      direction: v.direction,
      currency: v.currency,
      count: 0,
      fiat: 0n,
      msat: 0n,
    }
    d.count += Number(v.n)
    d.fiat += BigInt(v.fiat)
    d.msat += BigInt(v.msat)
    perDay.set(k, d)
    const mk = `${v.machine_id}|${v.currency}`
    const m = perMachine.get(mk) ?? {
      machineId: v.machine_id,
      currency: v.currency,
      outFiat: 0n,
      inFiat: 0n,
      outCount: 0,
      inCount: 0,
    }
    if (v.direction === 'cash_out') {
      m.outFiat += BigInt(v.fiat)
      m.outCount += Number(v.n)
    } else {
      m.inFiat += BigInt(v.fiat)
      m.inCount += Number(v.n)
    }
    perMachine.set(mk, m)
  }
  const commissionPerDay = new Map<string, { platform: bigint; operator: bigint }>()
  for (const l of legs) {
    if (l.kind === 'lp') continue
    const c = commissionPerDay.get(l.day) ?? { platform: 0n, operator: 0n }
    if (l.kind === 'platform_fee') c.platform += BigInt(l.msat)
    else c.operator += BigInt(l.msat)
    commissionPerDay.set(l.day, c)
  }

  // Worklist counts and alerts, from the same procedures the worklist screen uses.
  const items = await ledger.call<Array<{ kind: string }>>('accounting.worklist', { nowMs, stuckMinutes: 30 })
  const payouts = (await hasTable(ledger, 'payout'))
    ? await ledger.call<{ items: unknown[]; paused: unknown[]; alerts: DashboardSummaryView['alerts'] }>(
        'payouts.worklist',
        {},
      )
    : { items: [], paused: [], alerts: [] }
  const count = (k: string) => items.filter((x) => x.kind === k).length
  const worklist = {
    settlements: count('errored') + count('stuck'),
    refunds: count('refund_due'),
    feeMismatches: count('fee_mismatch'),
    payouts: payouts.items.length,
    paused: payouts.paused.length,
    total: 0,
  }
  worklist.total = worklist.settlements + worklist.refunds + worklist.feeMismatches + worklist.payouts + worklist.paused

  // Machines needing attention.
  const refused = await ledger.query<{ atm_pubkey: string; n: bigint }>(
    `SELECT atm_pubkey, COUNT(*) AS n FROM fleet_record_outcome WHERE outcome = 'rejected' AND received_at_ms >= ?
     GROUP BY atm_pubkey`,
    [nowMs - REFUSED_WINDOW_MS],
    BIG,
  )
  const refusedBy = new Map(refused.map((r) => [r.atm_pubkey, Number(r.n)]))
  const attention = new Map<string, MachineAttentionView>()
  const entry = (atmPubkey: string, machineId: string | null, name: string | null) => {
    let e = attention.get(atmPubkey)
    if (!e) {
      e = { atmPubkey, machineId, name, reasons: [], texts: [] }
      attention.set(atmPubkey, e)
    }
    return e
  }
  for (const m of i.machines) {
    if (m.rosterStatus !== 'member') continue
    const lastMs = m.lastRecordAt === null ? null : m.lastRecordAt * 1000
    if (lastMs === null || nowMs - lastMs > OFFLINE_AFTER_MS) {
      const e = entry(m.atmPubkey, m.machineId, m.name)
      e.reasons.push('offline')
      e.texts.push(
        lastMs === null ? 'No record received yet.' : `No record for ${Math.floor((nowMs - lastMs) / 3_600_000)} h.`,
      )
    }
  }
  for (const d of i.delegations) {
    const m = i.machines.find((x) => x.atmPubkey === d.atmPubkey)
    const e = entry(d.atmPubkey, d.machineId ?? m?.machineId ?? null, m?.name ?? null)
    e.reasons.push(d.state === 'expired' ? 'delegation_expired' : 'delegation_expiring')
    e.texts.push(
      d.state === 'expired' ? 'Delegation expired: renew it under Fleet.' : `Delegation ends in ${d.daysLeft} days.`,
    )
  }
  for (const [atm, nRefused] of refusedBy) {
    const m = i.machines.find((x) => x.atmPubkey === atm)
    const e = entry(atm, m?.machineId ?? null, m?.name ?? null)
    e.reasons.push('refused_records')
    e.texts.push(`${nRefused} record${nRefused === 1 ? '' : 's'} refused in the last 7 days.`)
  }

  return {
    atMs: nowMs,
    timeZone,
    today,
    periods,
    perDay: [...perDay.values()]
      .sort((a, b) => (a.day === b.day ? a.direction.localeCompare(b.direction) : a.day < b.day ? -1 : 1))
      .map((d) => ({
        day: d.day,
        direction: d.direction,
        currency: d.currency,
        count: d.count,
        fiatMinor: d.fiat.toString(),
        msat: d.msat.toString(),
      })),
    commissionPerDay: [...commissionPerDay]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([day, c]) => ({ day, platformMsat: c.platform.toString(), operatorMsat: c.operator.toString() })),
    perMachine: [...perMachine.values()].map((m) => ({
      machineId: m.machineId,
      name: machineNames.get(m.machineId) ?? null,
      currency: m.currency,
      cashOutFiatMinor: m.outFiat.toString(),
      cashInFiatMinor: m.inFiat.toString(),
      cashOutCount: m.outCount,
      cashInCount: m.inCount,
    })),
    wallet: i.wallet,
    worklist,
    alerts: payouts.alerts.slice(0, 20),
    machines: [...attention.values()],
    delegations: i.delegations,
  }
}
