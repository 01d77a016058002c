// Shared benchmark helpers. Every bench file records its numbers with `recordBench(section, data)`; the
// sections are merged into bench/results.json together with a description of the machine, so helpers can
// add sections independently. Benchmarks run one file at a time (see bench/vitest.bench.config.ts).
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { cpus, loadavg, totalmem } from 'node:os'
import { join } from 'node:path'

export const RESULTS_PATH = join(import.meta.dirname, 'results.json')

export interface MachineInfo {
  cpuModel: string
  cores: number
  ramBytes: number
  node: string
  platform: string
  date: string
  /** 1, 5 and 15 minute load averages when the figure was taken: other work on the machine lowers figures. */
  loadAverage: [number, number, number]
}

export function machineInfo(): MachineInfo {
  return {
    cpuModel: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    ramBytes: totalmem(),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    date: new Date().toISOString(),
    loadAverage: loadavg().map((x) => round(x, 2)) as [number, number, number],
  }
}

/** Several runs of one figure: min / median / max, and every run in order. */
export interface Spread {
  runs: number[]
  min: number
  median: number
  max: number
}

export function spread(values: readonly number[], digits = 1): Spread {
  const sorted = [...values].sort((a, b) => a - b)
  const mid =
    sorted.length % 2 === 1
      ? sorted[(sorted.length - 1) / 2]!
      : (sorted[sorted.length / 2 - 1]! + sorted[sorted.length / 2]!) / 2
  return {
    runs: values.map((v) => round(v, digits)),
    min: round(sorted[0] ?? Number.NaN, digits),
    median: round(mid, digits),
    max: round(sorted.at(-1) ?? Number.NaN, digits),
  }
}

/** JSON with bigints as decimal strings. */
const toJson = (v: unknown) => JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x), 2)

/** Merges one section into bench/results.json (written atomically). */
export function recordBench(section: string, data: unknown): void {
  const doc = existsSync(RESULTS_PATH)
    ? (JSON.parse(readFileSync(RESULTS_PATH, 'utf8')) as { machine?: MachineInfo; sections?: Record<string, unknown> })
    : {}
  doc.machine = machineInfo()
  // Each section carries the machine and load average of its own run (sections are recorded at different times).
  doc.sections = {
    ...(doc.sections ?? {}),
    [section]: { recordedAt: new Date().toISOString(), machine: machineInfo(), data },
  }
  const tmp = `${RESULTS_PATH}.tmp`
  writeFileSync(tmp, `${toJson(doc)}\n`)
  renameSync(tmp, RESULTS_PATH)
}

/** Percentile (nearest rank) of already sorted numbers. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!
}

export const round = (x: number, digits = 3) => Number(x.toFixed(digits))
