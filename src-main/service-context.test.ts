// No import circle between the composition root (services.ts) and the features: no module under src-main imports
// services.ts except the entry points (the Electron shell, the CLI, headless mode) and tests.
import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { expect, it } from 'vitest'

const SRC = import.meta.dirname
const ENTRY_POINTS = new Set(['index.ts', 'cli.ts', 'serve/server.ts'])

function* sources(dir: string): Generator<string> {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name)
    if (e.isDirectory()) yield* sources(p)
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts')) yield p
  }
}

it('only the entry points import services.ts; features take ServiceContext from service-context.ts', () => {
  const importers: string[] = []
  for (const file of sources(SRC)) {
    const rel = relative(SRC, file)
    if (rel === 'services.ts') continue
    const text = readFileSync(file, 'utf8')
    if (/from '(\.\.\/)+services'|from '\.\/services'/.test(text)) importers.push(rel)
  }
  expect(importers.filter((f) => !ENTRY_POINTS.has(f))).toEqual([])
  // And the context module itself depends on no feature.
  const ctx = readFileSync(join(SRC, 'service-context.ts'), 'utf8')
  expect(ctx).not.toMatch(/from '\.\/(setup|pipeline|worklist|lps|fleet|payouts)\//)
})
