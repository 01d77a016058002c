// Temporary directories for a test file: each call of the returned function makes a fresh directory under the OS
// temp folder, and every directory it made is removed after the file's tests (vitest afterAll), whatever their
// outcome. Call `useTempDirs` at the top level of a test file.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll } from 'vitest'

/** Returns a maker of fresh directories named `<prefix>XXXXXX`, all removed after the file's tests. */
export function useTempDirs(prefix: string): () => string {
  const dirs: string[] = []
  afterAll(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
  })
  return () => {
    const d = mkdtempSync(join(tmpdir(), prefix))
    dirs.push(d)
    return d
  }
}
