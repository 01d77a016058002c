// Benchmark runner configuration (`npm run bench` → build/run-bench.mjs). Bench files are ordinary vitest
// files named *.bench.ts that record their numbers with `recordBench()` from bench/lib.ts; they run one at a
// time so they do not disturb each other's timings.
import { resolve } from 'node:path'
import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    root: resolve(import.meta.dirname, '..'),
    include: ['bench/**/*.bench.ts'],
    pool: 'forks',
    maxWorkers: 1,
    fileParallelism: false,
    testTimeout: 1_800_000,
    hookTimeout: 600_000,
  },
})
