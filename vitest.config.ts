// Test configuration. Unit tests sit beside their modules (x.ts + x.test.ts); cross-module suites live in test/.
// Property tests (*.props.test.ts) read their run count from PROPS_RUNS (default 100,000 in `npm test`).
import vue from '@vitejs/plugin-vue'
import { defineConfig } from 'vitest/config'

export default defineConfig({
  plugins: [vue()],
  test: {
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    include: ['src-main/**/*.test.ts', 'src-shared/**/*.test.ts', 'src-renderer/**/*.test.ts', 'test/**/*.test.ts'],
    exclude: ['**/node_modules/**', 'out/**'],
  },
})
