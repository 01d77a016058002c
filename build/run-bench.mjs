// `npm run bench`: runs every bench/*.bench.ts (vitest, one file at a time, config bench/vitest.bench.config.ts);
// each file merges its section into bench/results.json with the machine noted (see bench/lib.ts). Extra
// arguments are passed to vitest, e.g. `npm run bench -- bench/ledger.bench.ts`, except `--data-dir DIR` (below).
// npm puts node_modules/.bin first on PATH, so this runs on the Node 24 that Electron's main process embeds.
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { resolve } from 'node:path'

// `--data-dir DIR` names an already seeded data directory (e.g. by `satmachine demo-seed`) for the benches that read
// one (the settlements view at a million rows); it travels as SETTLEMENTS_BENCH_DIR since vitest passes no
// unknown arguments to the test files.
const extra = process.argv.slice(2)
const dataDirAt = extra.indexOf('--data-dir')
if (dataDirAt >= 0) {
  const dir = extra[dataDirAt + 1]
  if (!dir) {
    console.error('[bench] --data-dir needs a directory')
    process.exit(2)
  }
  process.env.SETTLEMENTS_BENCH_DIR = resolve(dir)
  extra.splice(dataDirAt, 2)
}
console.log(`[bench] node ${process.version} (${process.execPath})`)
const r = spawnSync('npx', ['vitest', 'run', '--config', 'bench/vitest.bench.config.ts', ...extra], {
  stdio: 'inherit',
})
if (existsSync('bench/results.json')) {
  const doc = JSON.parse(readFileSync('bench/results.json', 'utf8'))
  console.log(`[bench] results.json sections: ${Object.keys(doc.sections ?? {}).join(', ')}`)
}
process.exit(r.status ?? 1)
