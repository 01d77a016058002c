// Chart builders for the Dashboard and the audit report: pure functions from plain ledger aggregates (bigint money,
// ISO days) to an ECharts option. The same option is drawn live in the renderer (SVG renderer) and as a static SVG
// string in the main process (render-svg.ts), so a chart in the quarterly PDF is the chart the operator saw.
//
// Money stays exact: every label and tooltip text is printed from the bigint by the notices formatter. Only the bar
// height is a float (minor units → major units as a JavaScript number), which is geometry, not accounting.
import type { EChartsCoreOption } from 'echarts/core'
import { currencyExponent } from '../money/iso4217'
import { formatFiat, formatSats } from '../notices/format'

export type Direction = 'cash_out' | 'cash_in'

/** One direction's totals on one local day (YYYY-MM-DD in the operator's time zone). */
export interface DayVolume {
  day: string
  direction: Direction
  count: number
  fiatMinor: bigint
  msat: bigint
}

/** Commission booked on one local day, split into the platform's fee and the operator's fee. */
export interface DayCommission {
  day: string
  platformMsat: bigint
  operatorMsat: bigint
}

/** One machine's totals per direction over a period. */
export interface MachineVolume {
  machineId: string
  name: string
  cashOutFiatMinor: bigint
  cashInFiatMinor: bigint
  cashOutCount: number
  cashInCount: number
}

export type ChartTheme = 'light' | 'dark'

export interface ChartOptions {
  /** Palette; the renderer passes the active theme, the PDF passes 'light'. */
  theme?: ChartTheme
  /** Title drawn inside the chart (the PDF needs it; the dashboard has its own heading and passes none). */
  title?: string
  /** Animation off for SSR and tests; on by default for the live dashboard. */
  animation?: boolean
}

export interface VolumeOptions extends ChartOptions {
  /** 'fiat' plots fiat in `currency`; 'sats' plots the wire amounts. */
  unit: 'fiat' | 'sats'
  /** ISO 4217 code, required for unit 'fiat'. Days of other currencies are not mixed into one axis. */
  currency?: string
}

/** Colours that keep ≥ 3:1 contrast against the page background in each theme. */
const PALETTE: Record<
  ChartTheme,
  { text: string; grid: string; cashOut: string; cashIn: string; platform: string; operator: string }
> = {
  light: {
    text: '#1f2933',
    grid: '#d9dee3',
    cashOut: '#b35c00',
    cashIn: '#1b6fb3',
    platform: '#6b4fbb',
    operator: '#1f7a4d',
  },
  dark: {
    text: '#e4e7eb',
    grid: '#3e4c59',
    cashOut: '#f5a04a',
    cashIn: '#6cb6f5',
    platform: '#b39ddb',
    operator: '#6fcf97',
  },
}

export const DIRECTION_LABEL: Record<Direction, string> = { cash_out: 'Cash-out', cash_in: 'Cash-in' }

/** Sorted unique days present in the data, so every series shares one category axis. */
function daysOf(rows: readonly { day: string }[]): string[] {
  return [...new Set(rows.map((r) => r.day))].sort()
}

/** A bigint amount as a plot height in major units (fiat) or sats (msat / 1000). Geometry only. */
function heightFiat(minor: bigint, currency: string): number {
  return Number(minor) / 10 ** currencyExponent(currency)
}
function heightSats(msat: bigint): number {
  return Number(msat) / 1000
}

function base(opts: ChartOptions) {
  const p = PALETTE[opts.theme ?? 'light']
  return {
    p,
    option: {
      animation: opts.animation ?? true,
      backgroundColor: 'transparent',
      textStyle: { color: p.text, fontFamily: 'system-ui, sans-serif' },
      aria: { enabled: true },
      ...(opts.title
        ? { title: { text: opts.title, left: 'center', textStyle: { color: p.text, fontSize: 14 } } }
        : {}),
      legend: { top: opts.title ? 24 : 0, textStyle: { color: p.text } },
      grid: { left: 8, right: 16, top: opts.title ? 56 : 32, bottom: 8 },
      tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
    },
  }
}

function valueAxis(p: (typeof PALETTE)['light'], label: (v: number) => string) {
  return {
    type: 'value',
    axisLabel: { color: p.text, formatter: label },
    splitLine: { lineStyle: { color: p.grid } },
  }
}

function categoryAxis(p: (typeof PALETTE)['light'], data: string[]) {
  return { type: 'category', data, axisLabel: { color: p.text }, axisLine: { lineStyle: { color: p.grid } } }
}

/** Compact axis label: 12,500 → "12.5k". Exact amounts are in the tooltip and the table beside the chart. */
function compact(v: number): string {
  const abs = Math.abs(v)
  if (abs >= 1e9) return `${+(v / 1e9).toFixed(1)}G`
  if (abs >= 1e6) return `${+(v / 1e6).toFixed(1)}M`
  if (abs >= 1e3) return `${+(v / 1e3).toFixed(1)}k`
  return String(+v.toFixed(2))
}

/**
 * Volume per day per direction (two bar series on a day axis). Exact totals and counts go in each data item's
 * `label` text used by the tooltip.
 */
export function volumePerDayOption(rows: readonly DayVolume[], opts: VolumeOptions): EChartsCoreOption {
  if (opts.unit === 'fiat' && !opts.currency) throw new RangeError('currency: required for a fiat volume chart')
  const { p, option } = base(opts)
  const days = daysOf(rows)
  const index = new Map(rows.map((r) => [`${r.day}|${r.direction}`, r]))
  const series = (['cash_out', 'cash_in'] as const).map((direction) => ({
    name: DIRECTION_LABEL[direction],
    type: 'bar',
    itemStyle: { color: direction === 'cash_out' ? p.cashOut : p.cashIn },
    data: days.map((day) => {
      const r = index.get(`${day}|${direction}`)
      const fiat = r?.fiatMinor ?? 0n
      const msat = r?.msat ?? 0n
      const exact = opts.unit === 'fiat' ? formatFiat(fiat, opts.currency as string) : formatSats(msat - (msat % 1000n))
      return {
        value: opts.unit === 'fiat' ? heightFiat(fiat, opts.currency as string) : heightSats(msat),
        exact: `${exact} (${r?.count ?? 0})`,
      }
    }),
  }))
  return {
    ...option,
    tooltip: { ...option.tooltip, formatter: tooltipFormatter },
    xAxis: categoryAxis(p, days),
    yAxis: valueAxis(p, compact),
    series,
  }
}

/** Commission per day: platform fee and operator fee stacked, in sats. */
export function commissionPerDayOption(rows: readonly DayCommission[], opts: ChartOptions = {}): EChartsCoreOption {
  const { p, option } = base(opts)
  const days = daysOf(rows)
  const byDay = new Map(rows.map((r) => [r.day, r]))
  const make = (name: string, color: string, pick: (r: DayCommission) => bigint) => ({
    name,
    type: 'bar',
    stack: 'commission',
    itemStyle: { color },
    data: days.map((day) => {
      const r = byDay.get(day)
      const msat = r ? pick(r) : 0n
      return { value: heightSats(msat), exact: formatSats(msat) }
    }),
  })
  return {
    ...option,
    tooltip: { ...option.tooltip, formatter: tooltipFormatter },
    xAxis: categoryAxis(p, days),
    yAxis: valueAxis(p, compact),
    series: [
      make('Platform fee', p.platform, (r) => r.platformMsat),
      make('Operator fee', p.operator, (r) => r.operatorMsat),
    ],
  }
}

/** Volume per machine in one currency: a horizontal bar per machine, cash-out and cash-in side by side. */
export function volumePerMachineOption(
  rows: readonly MachineVolume[],
  opts: ChartOptions & { currency: string },
): EChartsCoreOption {
  const { p, option } = base(opts)
  const sorted = [...rows].sort((a, b) => {
    const ta = a.cashOutFiatMinor + a.cashInFiatMinor
    const tb = b.cashOutFiatMinor + b.cashInFiatMinor
    return ta === tb ? a.name.localeCompare(b.name) : ta < tb ? -1 : 1
  })
  const make = (direction: Direction) => ({
    name: DIRECTION_LABEL[direction],
    type: 'bar',
    itemStyle: { color: direction === 'cash_out' ? p.cashOut : p.cashIn },
    data: sorted.map((r) => {
      const fiat = direction === 'cash_out' ? r.cashOutFiatMinor : r.cashInFiatMinor
      const count = direction === 'cash_out' ? r.cashOutCount : r.cashInCount
      return { value: heightFiat(fiat, opts.currency), exact: `${formatFiat(fiat, opts.currency)} (${count})` }
    }),
  })
  return {
    ...option,
    tooltip: { ...option.tooltip, formatter: tooltipFormatter },
    xAxis: valueAxis(p, compact),
    yAxis: categoryAxis(
      p,
      sorted.map((r) => r.name),
    ),
    series: [make('cash_out'), make('cash_in')],
  }
}

interface TooltipParam {
  axisValueLabel?: string
  seriesName?: string
  marker?: string
  data?: { exact?: string }
}

/** Axis tooltip listing each series' exact amount (the string printed from the bigint, not the bar height). */
function tooltipFormatter(params: TooltipParam | TooltipParam[]): string {
  const list = Array.isArray(params) ? params : [params]
  const head = escapeHtml(list[0]?.axisValueLabel ?? '')
  const lines = list.map(
    (x) => `${x.marker ?? ''}${escapeHtml(x.seriesName ?? '')}: ${escapeHtml(x.data?.exact ?? '')}`,
  )
  return [head, ...lines].join('<br/>')
}

/** Tooltips are HTML; machine names come from the operator and must not become markup. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}
