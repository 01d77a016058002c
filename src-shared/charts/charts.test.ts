// Tests for the chart builders and the server-side SVG renderer: options carry exact amounts in their tooltip
// text, series align on one day axis, and an option renders to a self-contained SVG without a browser.
import { describe, expect, it } from 'vitest'
import {
  commissionPerDayOption,
  type DayVolume,
  escapeHtml,
  renderChartSvg,
  volumePerDayOption,
  volumePerMachineOption,
} from './index'

interface Series {
  name: string
  data: { value: number; exact: string }[]
}

const days: DayVolume[] = [
  { day: '2026-11-02', direction: 'cash_out', count: 2, fiatMinor: 150_050n, msat: 2_000_000_000n },
  { day: '2026-11-01', direction: 'cash_in', count: 1, fiatMinor: 10_000n, msat: 150_000_123n },
  { day: '2026-11-02', direction: 'cash_in', count: 3, fiatMinor: 30_000n, msat: 450_000_000n },
]

describe('volumePerDayOption', () => {
  it('puts both directions on one sorted day axis with zero-filled gaps and exact tooltip text', () => {
    const o = volumePerDayOption(days, { unit: 'fiat', currency: 'EUR', animation: false }) as {
      xAxis: { data: string[] }
      series: Series[]
    }
    expect(o.xAxis.data).toEqual(['2026-11-01', '2026-11-02'])
    const [out, inn] = o.series
    expect(out?.name).toBe('Cash-out')
    expect(out?.data.map((d) => d.value)).toEqual([0, 1500.5])
    expect(out?.data[1]?.exact).toBe('EUR 1,500.50 (2)')
    expect(inn?.data[0]?.exact).toBe('EUR 100.00 (1)')
  })

  it('plots sats for unit sats and refuses a fiat chart without a currency', () => {
    const o = volumePerDayOption(days, { unit: 'sats' }) as { series: Series[] }
    expect(o.series[1]?.data[0]?.value).toBeCloseTo(150_000.123)
    expect(o.series[1]?.data[0]?.exact).toBe('150,000 sats (1)')
    expect(() => volumePerDayOption(days, { unit: 'fiat' })).toThrow(/currency/)
  })
})

describe('commissionPerDayOption', () => {
  it('stacks platform and operator fees per day', () => {
    const o = commissionPerDayOption([
      { day: '2026-11-01', platformMsat: 1_500n, operatorMsat: 20_000n },
      { day: '2026-10-31', platformMsat: 0n, operatorMsat: 7_000n },
    ]) as { xAxis: { data: string[] }; series: (Series & { stack: string })[] }
    expect(o.xAxis.data).toEqual(['2026-10-31', '2026-11-01'])
    expect(o.series.map((s) => s.stack)).toEqual(['commission', 'commission'])
    expect(o.series[0]?.data[1]?.exact).toBe('1.500 sats')
    expect(o.series[1]?.data[0]?.exact).toBe('7 sats')
  })
})

describe('volumePerMachineOption', () => {
  it('orders machines by total volume, largest at the top of the horizontal axis', () => {
    const o = volumePerMachineOption(
      [
        { machineId: 'a', name: 'Big', cashOutFiatMinor: 900n, cashInFiatMinor: 100n, cashOutCount: 9, cashInCount: 1 },
        { machineId: 'b', name: 'Small', cashOutFiatMinor: 5n, cashInFiatMinor: 0n, cashOutCount: 1, cashInCount: 0 },
      ],
      { currency: 'JPY' },
    ) as { yAxis: { data: string[] }; series: Series[] }
    expect(o.yAxis.data).toEqual(['Small', 'Big'])
    expect(o.series[0]?.data[1]?.exact).toBe('JPY 900 (9)')
  })
})

describe('renderChartSvg', () => {
  it('renders an option to a standalone SVG string in Node, with the axis days and series names as text', () => {
    const svg = renderChartSvg(volumePerDayOption(days, { unit: 'fiat', currency: 'EUR', title: 'Volume per day' }), {
      width: 600,
      height: 300,
    })
    expect(svg.startsWith('<svg')).toBe(true)
    expect(svg).toContain('width="600"')
    expect(svg).toContain('2026-11-02')
    expect(svg).toContain('Cash-out')
    expect(svg).toContain('Volume per day')
    expect(svg).toMatch(/<path[^>]+d="M/)
  })

  it('escapes names that would otherwise become markup', () => {
    const svg = renderChartSvg(
      volumePerMachineOption(
        [{ machineId: 'x', name: '<b>&', cashOutFiatMinor: 1n, cashInFiatMinor: 0n, cashOutCount: 1, cashInCount: 0 }],
        { currency: 'EUR' },
      ),
    )
    expect(svg).not.toContain('<b>&')
    expect(escapeHtml('<a href="x">')).toBe('&#60;a href=&#34;x&#34;&#62;')
    expect(() => renderChartSvg({}, { width: 0, height: 10 })).toThrow(/size/)
  })
})
