// A vitest reporter for `npm test` (build/run-tests.mjs): writes the exact counts of THIS run to the file named by
// RUN_TESTS_COUNTS, so the closing line never reads a stale or ambiguous report. Why not vitest's JSON report alone:
// it files the tests of a suite whose beforeAll failed under "skipped", the same as `it.skip`, so a broken hook
// would look like a pass. Here a test that was meant to run but did not, because a hook of its suite (or its file)
// failed, counts as failed; a test skipped on purpose (`it.skip`, `ctx.skip()`, a filter) stays skipped.
import { writeFileSync } from 'node:fs'

/** True when this test or any suite/file above it reports errors of its own (a failed hook, a load error). */
function ancestorFailed(test) {
  for (let p = test.parent; p; p = p.parent) {
    if (typeof p.errors === 'function' && p.errors().length > 0) return true
    if (p.type === 'module') break
  }
  return false
}

export default class CountReporter {
  onTestRunEnd(testModules, unhandledErrors, reason) {
    const counts = { passed: 0, failed: 0, skipped: 0, brokenFiles: [], hookFailed: [], unhandledErrors: 0, reason }
    for (const mod of testModules) {
      let tests = 0
      for (const test of mod.children.allTests()) {
        tests++
        const state = test.result().state
        if (state === 'passed') counts.passed++
        else if (state === 'failed') counts.failed++
        else if (test.options.mode === 'run' && ancestorFailed(test)) {
          counts.failed++
          counts.hookFailed.push(test.fullName)
        } else counts.skipped++
      }
      // A file that failed to load (syntax error, throwing import) has no tests: count it once as failed.
      if (tests === 0 && mod.errors().length > 0) {
        counts.failed++
        counts.brokenFiles.push(mod.moduleId)
      }
    }
    // An error outside any test (an unhandled rejection) fails the run: count it once.
    counts.unhandledErrors = unhandledErrors.length
    if (unhandledErrors.length > 0) counts.failed++
    writeFileSync(process.env.RUN_TESTS_COUNTS ?? 'test-results/counts.json', JSON.stringify(counts, null, 2))
  }
}
