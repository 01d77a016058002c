// Server-side chart rendering: an ECharts option (from builders.ts) to a standalone SVG string, with no browser and
// no DOM. ECharts' SSR mode (`ssr: true` + the SVG renderer) lays the chart out in memory and serialises it, so the
// audit PDF embeds exactly the chart the Dashboard draws. Only the pieces the builders use are registered
// (echarts-setup.ts), the same set the renderer draws with.
import { type EChartsCoreOption, init } from './echarts-setup'

export interface SvgSize {
  width: number
  height: number
}

/** Renders `option` to an SVG document string of the given pixel size. Animation is forced off (one frame). */
export function renderChartSvg(option: EChartsCoreOption, size: SvgSize = { width: 640, height: 320 }): string {
  if (!(size.width > 0 && size.height > 0)) throw new RangeError('size: width and height must be > 0')
  const chart = init(null, null, { renderer: 'svg', ssr: true, width: size.width, height: size.height })
  try {
    chart.setOption({ ...option, animation: false })
    return chart.renderToSVGString()
  } finally {
    chart.dispose()
  }
}
