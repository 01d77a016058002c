// The quarterly report's charts (docs/audit-export.md "The report"): volume per day, commission per day and volume
// per machine, drawn by the UI's own chart builders (src-shared/charts) and rendered to SVG without a browser, so
// the PDF shows the same charts as the Dashboard. Figures come from the period's booked settlements.
import {
  commissionPerDayOption,
  type DayCommission,
  type DayVolume,
  type MachineVolume,
  volumePerDayOption,
  volumePerMachineOption,
} from '../../charts/builders'
import { renderChartSvg } from '../../charts/render-svg'
import type { ChartSeam } from './report-html'

const SIZE = { width: 330, height: 210 }

/** An SVG document as an inline element (no XML declaration). */
const inline = (svg: string) => svg.replace(/^<\?xml[^>]*>\s*/, '')

export const reportCharts: ChartSeam = ({ data }) => {
  const booked = data.settlements.filter((s) => s.status !== 'rejected')
  if (booked.length === 0) return []
  const currency = [...new Set(booked.map((s) => s.currency))].sort()[0] as string
  const days = new Map<string, DayVolume>()
  const commission = new Map<string, DayCommission>()
  const machines = new Map<string, MachineVolume>()
  const names = new Map(data.machines.map((m) => [m.id, m.name]))
  for (const s of booked) {
    const day = s.localDay ?? new Date(s.createdAtSec * 1000).toISOString().slice(0, 10)
    if (s.currency === currency) {
      const k = `${day} ${s.direction}`
      const d = days.get(k) ?? { day, direction: s.direction, count: 0, fiatMinor: 0n, msat: 0n }
      d.count++
      d.fiatMinor += s.fiatMinor
      d.msat += s.wireMsat
      days.set(k, d)
      const m = machines.get(s.machineId) ?? {
        machineId: s.machineId,
        name: names.get(s.machineId) ?? s.machineId.slice(0, 10),
        cashOutFiatMinor: 0n,
        cashInFiatMinor: 0n,
        cashOutCount: 0,
        cashInCount: 0,
      }
      if (s.direction === 'cash_out') {
        m.cashOutFiatMinor += s.fiatMinor
        m.cashOutCount++
      } else {
        m.cashInFiatMinor += s.fiatMinor
        m.cashInCount++
      }
      machines.set(s.machineId, m)
    }
    const c = commission.get(day) ?? { day, platformMsat: 0n, operatorMsat: 0n }
    c.platformMsat += s.platformFeeMsat ?? 0n
    c.operatorMsat += s.operatorFeeMsat ?? 0n
    commission.set(day, c)
  }
  const byDay = <T extends { day: string }>(m: Map<string, T>) =>
    [...m.values()].sort((a, b) => (a.day < b.day ? -1 : a.day > b.day ? 1 : 0))
  return [
    {
      title: `Volume per day (${currency})`,
      svg: inline(
        renderChartSvg(
          volumePerDayOption(byDay(days), { unit: 'fiat', currency, theme: 'light', animation: false }),
          SIZE,
        ),
      ),
    },
    {
      title: 'Commission per day (sats)',
      svg: inline(
        renderChartSvg(commissionPerDayOption(byDay(commission), { theme: 'light', animation: false }), SIZE),
      ),
    },
    {
      title: `Volume per machine (${currency})`,
      svg: inline(
        renderChartSvg(
          volumePerMachineOption([...machines.values()], { currency, theme: 'light', animation: false }),
          SIZE,
        ),
      ),
    },
  ]
}
