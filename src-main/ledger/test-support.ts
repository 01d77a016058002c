// Test and tool support for the ledger worker (not part of the app bundle: nothing in src-main imports it).
// `openLedger()` needs a bundled worker script; from TypeScript sources (vitest, benchmarks) this module
// bundles one on the fly with vite (rolldown): an entry that imports the registry, any extra procedure
// modules the test names, and runs the worker. Extra entries (e.g. a crash-test child program) can be built
// into the same directory. Output goes under node_modules/.cache so the bundle resolves `sql.js` from the
// project's node_modules.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { builtinModules } from 'node:module'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'

const ROOT = resolve(import.meta.dirname, '../..')
const LEDGER = resolve(import.meta.dirname)

export interface BuiltLedgerWorker {
  /** URL of the worker entry, for `openLedger({ workerUrl })`. */
  workerUrl: URL
  /** Absolute paths of extra entries, by name. */
  entries: Record<string, string>
  dir: string
  dispose(): void
}

/**
 * Bundles the ledger worker (registry + `procedureModules`) and any `extraEntries` into a fresh directory.
 * Paths are absolute or relative to the project root.
 */
export async function buildLedgerWorker(
  opts: { procedureModules?: string[]; extraEntries?: Record<string, string> } = {},
): Promise<BuiltLedgerWorker> {
  const { build } = await import('vite')
  const dir = join(
    ROOT,
    'node_modules/.cache/ledger-worker',
    `${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}`,
  )
  mkdirSync(dir, { recursive: true })
  const src = join(dir, 'src')
  mkdirSync(src)
  const entry = join(src, 'ledger-worker.ts')
  const imports = [join(LEDGER, 'registry.ts'), ...(opts.procedureModules ?? []).map((p) => resolve(ROOT, p))]
  writeFileSync(
    entry,
    [
      ...imports.map((p) => `import ${JSON.stringify(p)}`),
      `import { runLedgerWorker } from ${JSON.stringify(join(LEDGER, 'worker-main.ts'))}`,
      'runLedgerWorker()',
      '',
    ].join('\n'),
  )
  const input: Record<string, string> = { 'ledger-worker': entry }
  for (const [name, p] of Object.entries(opts.extraEntries ?? {})) input[name] = resolve(ROOT, p)
  const out = join(dir, 'out')
  await build({
    configFile: false,
    root: ROOT,
    logLevel: 'silent',
    build: {
      ssr: true,
      outDir: out,
      emptyOutDir: true,
      minify: false,
      sourcemap: false,
      target: 'node22',
      rolldownOptions: {
        input,
        external: ['sql.js', ...builtinModules, ...builtinModules.map((m) => `node:${m}`)],
        output: { format: 'es', entryFileNames: '[name].js' },
      },
    },
  })
  const entries: Record<string, string> = {}
  for (const name of Object.keys(input)) entries[name] = join(out, `${name}.js`)
  return {
    workerUrl: pathToFileURL(join(out, 'ledger-worker.js')),
    entries,
    dir,
    dispose: () => rmSync(dir, { recursive: true, force: true }),
  }
}
