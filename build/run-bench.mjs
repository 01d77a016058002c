// `npm run bench`: runs every bench/*.bench.ts (vitest, one file at a time, config bench/vitest.bench.config.ts);
// each file merges its section into bench/results.json with the machine noted (see bench/lib.ts). Extra
// arguments are passed to vitest, e.g. `npm run bench -- bench/ledger.bench.ts`.
// npm puts node_modules/.bin first on PATH, so this runs on the Node 24 that Electron's main process embeds.
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'

const extra = process.argv.slice(2)
console.log(`[bench] node ${process.version} (${process.execPath})`)
const r = spawnSync('npx', ['vitest', 'run', '--config', 'bench/vitest.bench.config.ts', ...extra], {
  stdio: 'inherit',
})
if (existsSync('bench/results.json')) {
  const doc = JSON.parse(readFileSync('bench/results.json', 'utf8'))
  console.log(`[bench] results.json sections: ${Object.keys(doc.sections ?? {}).join(', ')}`)
}
process.exit(r.status ?? 1)
