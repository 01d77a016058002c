// Process boundaries (docs/architecture.md §2, SECURITY.md): only the Electron shell files import
// electron, and the shared and renderer code imports no Node built-ins, so src-shared runs anywhere (the sandboxed
// preload bundles the IPC contract) and the renderer cannot reach Node. A cheap source scan, run on every test.
import { readdirSync, readFileSync } from 'node:fs'
import { join, relative, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'

const ROOT = resolve(import.meta.dirname, '../..')
// The shell: the Electron entry, its IPC wiring, the preload, and the audit report's printToPDF (imported by the
// entry only, so the services still load in plain Node).
const ELECTRON_ALLOWED = [
  'src-main/audit-export/pdf-electron.ts',
  'src-main/index.ts',
  'src-main/ipc-electron.ts',
  'src-main/preload.ts',
]

function sources(dir: string): string[] {
  const out: string[] = []
  for (const e of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
    const p = join(dir, e.name)
    if (e.isDirectory()) out.push(...sources(p))
    else if (/\.(ts|vue|mts|mjs)$/.test(e.name) && !/\.test\.ts$/.test(e.name)) out.push(p)
  }
  return out
}

const importsOf = (file: string, pattern: RegExp) => pattern.test(readFileSync(join(ROOT, file), 'utf8'))
const ELECTRON_IMPORT = /(?:from\s+|import\s*\(\s*|require\s*\(\s*)['"]electron(?:\/[^'"]*)?['"]/
const NODE_IMPORT = /(?:from\s+|import\s*\(\s*|require\s*\(\s*)['"]node:/

describe('process boundaries', () => {
  it('only the shell files import electron', () => {
    const all = [...sources('src-main'), ...sources('src-shared'), ...sources('src-renderer')]
    const offenders = all.filter((f) => importsOf(f, ELECTRON_IMPORT)).map((f) => relative('.', f))
    expect(offenders.sort()).toEqual(ELECTRON_ALLOWED)
  })

  it('src-shared and src-renderer import no Node built-ins', () => {
    const all = [...sources('src-shared'), ...sources('src-renderer')]
    expect(all.length).toBeGreaterThan(3)
    expect(all.filter((f) => importsOf(f, NODE_IMPORT))).toEqual([])
  })
})
