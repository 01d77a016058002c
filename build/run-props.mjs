// `npm run test:props [-- --runs N] [--seed S] [vitest args…]`: runs every property suite (*.props.test.ts) with
// PROPS_RUNS = N (default 100,000, what CI uses) and PROPS_SEED = S when given. Each suite prints the seed it used,
// so a failure found here is replayed with `npm run test:props -- --seed S` and then pinned as a regression case.
import { spawnSync } from 'node:child_process'

const rest = []
let runs = process.env.PROPS_RUNS ?? '100000'
let seed = process.env.PROPS_SEED
const argv = process.argv.slice(2)
for (let i = 0; i < argv.length; i++) {
  const a = argv[i]
  const [flag, inline] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined]
  if (flag === '--runs' || flag === '--seed') {
    const value = inline ?? argv[++i]
    if (value === undefined || !/^-?\d+$/.test(value)) {
      console.error(`run-props: ${flag} needs an integer`)
      process.exit(2)
    }
    if (flag === '--runs') runs = value
    else seed = value
  } else {
    rest.push(a)
  }
}
if (!/^\d+$/.test(runs) || Number(runs) < 1) {
  console.error('run-props: --runs must be a positive integer')
  process.exit(2)
}
const env = { ...process.env, PROPS_RUNS: runs }
if (seed !== undefined) env.PROPS_SEED = seed
console.log(`[props] PROPS_RUNS=${runs}${seed !== undefined ? ` PROPS_SEED=${seed}` : ''}`)
const r = spawnSync('npx', ['vitest', 'run', '--testTimeout=0', ...rest, '.props.test.ts'], { stdio: 'inherit', env })
process.exit(r.status ?? 1)
