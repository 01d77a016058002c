// The one place that registers the ECharts pieces the chart builders use (bar charts, grid, legend, title, tooltip,
// ARIA descriptions, the SVG renderer). Both the live Dashboard and the server-side SVG renderer import `init`
// from here, so they draw with the same modules and the bundle carries nothing else.
import { BarChart } from 'echarts/charts'
import { AriaComponent, GridComponent, LegendComponent, TitleComponent, TooltipComponent } from 'echarts/components'
import { use } from 'echarts/core'
import { SVGRenderer } from 'echarts/renderers'

use([BarChart, GridComponent, LegendComponent, TitleComponent, TooltipComponent, AriaComponent, SVGRenderer])

export { type ECharts, type EChartsCoreOption, init } from 'echarts/core'
