// The `npm test` runner itself (build/run-tests.mjs + build/count-reporter.mjs), run as a process against tiny
// fixture projects in a temp dir: its closing line must count exactly the tests of THIS run — a failed beforeAll
// counts its tests as failed, a crashed vitest is a failure with a line saying so (never the previous run's counts),
// and the gates (build, type check, lint) fail the run without being counted as passed tests.
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'

const root = resolve(import.meta.dirname, '../..')
const RUNNER = join(root, 'build', 'run-tests.mjs')
const dirs: string[] = []

afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

/** A fixture project: the given files, this repository's node_modules, and a stale report from an "earlier run". */
function project(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'satmachine-runner-'))
  dirs.push(dir)
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'))
  mkdirSync(join(dir, 'test-results'))
  const stale = { passed: 999, failed: 0, skipped: 0, brokenFiles: [], hookFailed: [], unhandledErrors: 0 }
  writeFileSync(join(dir, 'test-results', 'counts.json'), JSON.stringify(stale))
  writeFileSync(join(dir, 'test-results', 'vitest.json'), JSON.stringify({ numPassedTests: 999, numFailedTests: 0 }))
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text)
  return dir
}

function run(dir: string, gates: unknown[] = []): { status: number | null; lines: string[]; last: string } {
  const r = spawnSync(process.execPath, [RUNNER], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, RUN_TESTS_GATES: JSON.stringify(gates), FORCE_COLOR: '0', NO_COLOR: '1' },
    timeout: 120_000,
  })
  const lines = `${r.stdout}`.trim().split('\n')
  return { status: r.status, lines, last: lines.at(-1) ?? '' }
}

const CONFIG = "export default { test: { include: ['*.fx.ts'] } }\n"
const PASSING = `import { expect, it } from 'vitest'
it('adds', () => { expect(1 + 1).toBe(2) })
it('compares', () => { expect('a' < 'b').toBe(true) })
`

describe('build/run-tests.mjs', () => {
  it('counts the tests of a suite whose beforeAll failed as failed, keeps it.skip as skipped, exits non-zero', () => {
    const dir = project({
      'vitest.config.mjs': CONFIG,
      'hook.fx.ts': `import { beforeAll, describe, expect, it } from 'vitest'
describe('needs setup', () => {
  beforeAll(() => { throw new Error('setup broke') })
  it('first', () => { expect(1).toBe(1) })
  it('second', () => { expect(1).toBe(1) })
  it.skip('skipped on purpose', () => {})
})
it('outside the broken suite', () => { expect(1).toBe(1) })
`,
    })
    const r = run(dir)
    expect(r.status).toBe(1)
    expect(r.last).toBe('1 passed, 2 failed, 1 skipped')
    expect(r.lines).toContain('[test] FAILED (its hook failed, the test never ran): needs setup > first')
  })

  it('a vitest that cannot start is one failure with a clear line, not the stale report of an earlier run', () => {
    const dir = project({ 'vitest.config.mjs': "throw new Error('config broke')\n", 'a.fx.ts': PASSING })
    const r = run(dir)
    expect(r.status).toBe(1)
    expect(r.last).toBe('0 passed, 1 failed')
    expect(r.lines.some((l) => /without reporting its counts; it crashed or could not start/.test(l))).toBe(true)
    expect(r.lines.join('\n')).not.toContain('999')
  })

  it('a vitest killed mid-run (SIGKILL from its global setup) is one failure', () => {
    const dir = project({
      'vitest.config.mjs': "export default { test: { include: ['*.fx.ts'], globalSetup: ['./die.mjs'] } }\n",
      'die.mjs': "export default () => { process.kill(process.pid, 'SIGKILL') }\n",
      'a.fx.ts': PASSING,
    })
    const r = run(dir)
    expect(r.status).toBe(1)
    expect(r.last).toBe('0 passed, 1 failed')
    expect(r.lines.some((l) => /vitest ended \(signal SIGKILL\) without reporting its counts/.test(l))).toBe(true)
  })

  it('gates are not tests: a passing gate adds nothing to passed, a failing one fails the run', () => {
    const dir = project({ 'vitest.config.mjs': CONFIG, 'a.fx.ts': PASSING })
    const ok = ['fine', process.execPath, ['-e', 'process.exit(0)']]
    const broken = ['broken', process.execPath, ['-e', 'process.exit(3)']]
    const good = run(dir, [ok])
    expect(good.status).toBe(0)
    expect(good.lines.some((l) => /^\[test\] gate fine: ok in \d+ ms$/.test(l))).toBe(true)
    expect(good.last).toBe('2 passed, 0 failed')
    const bad = run(dir, [ok, broken])
    expect(bad.status).toBe(1)
    expect(bad.lines.some((l) => /^\[test\] gate broken: FAILED in \d+ ms$/.test(l))).toBe(true)
    expect(bad.last).toBe('2 passed, 1 failed')
  })

  it('a file that fails to load counts once as failed', () => {
    const dir = project({
      'vitest.config.mjs': CONFIG,
      'a.fx.ts': PASSING,
      'broken.fx.ts': "import './does-not-exist.js'\n",
    })
    const r = run(dir)
    expect(r.status).toBe(1)
    expect(r.last).toBe('2 passed, 1 failed')
  })
})
