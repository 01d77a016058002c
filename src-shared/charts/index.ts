// Public entry of the chart module: builders (pure option objects) and the server-side SVG renderer.
export * from './builders'
export { renderChartSvg, type SvgSize } from './render-svg'
