// Audit start-up check benchmark (docs/audit.md §7): how long the check holds the ledger back at start, before
// (the full check, every row of the ledger) and after (the incremental check against a checkpoint: only what the
// journal added since the verified snapshot), at 10k and 100k seeded settlements.
//
// Each size is a data directory seeded by `satmachine demo-seed` (src-main/demo/seed.ts), given in
// AUDIT_CHECK_DIRS as `size=path,…` (seeding is slow: seed once, the bench copies the directory) or seeded here when
// absent. On the copy: a console-signed head over the seeded log, then RUNS full checks (no key), one full check
// with the key (records the checkpoint), JOURNAL_TX operator notes booked through the journal after the snapshot
// (a day's traffic the next start has to replay and re-check), and RUNS incremental checks. Times are the check
// alone (`checkAuditAtStart`), in-process ledger, measured after the ledger opened; the opening time is reported
// beside it.
import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect, it } from 'vitest'
import { checkpointKey } from '../src-main/audit/checkpoint'
import { signHeadNow } from '../src-main/audit/open'
import { checkAuditAtStart } from '../src-main/audit/start-check'
import { seedDemoLedger } from '../src-main/demo/seed'
import { createLogger } from '../src-shared/log'
import '../src-main/ledger/registry'
import { openLedgerInProcess } from '../src-main/ledger/store'
import { createSoftwareSigner } from '../src-main/signer/software-signer'
import { machineInfo, recordBench, spread } from './lib'

const RUNS = Number(process.env.AUDIT_CHECK_RUNS ?? 3)
const JOURNAL_TX = Number(process.env.AUDIT_CHECK_JOURNAL_TX ?? 500)
const GIVEN = new Map(
  (process.env.AUDIT_CHECK_DIRS ?? '')
    .split(',')
    .filter(Boolean)
    .map((kv) => {
      const [k, v] = kv.split('=')
      return [Number(k), v!] as const
    }),
)
const SIZES = (process.env.AUDIT_CHECK_SIZES ?? '10000,100000').split(',').map(Number)
const SK = new Uint8Array(32).fill(11)
const KEY = checkpointKey(SK)
const quiet = createLogger(() => {}, 'bench')

async function timedCheck(dataDir: string, key: Uint8Array | null) {
  const o0 = performance.now()
  const store = await openLedgerInProcess({ dir: join(dataDir, 'ledger'), logger: quiet, autoSnapshot: false })
  const openMs = performance.now() - o0
  try {
    const t0 = performance.now()
    const c0 = process.cpuUsage()
    const r = await checkAuditAtStart({ store, dataDir, log: quiet, checkpointKey: key })
    const cpu = process.cpuUsage(c0)
    return { openMs, checkMs: performance.now() - t0, cpuMs: (cpu.user + cpu.system) / 1000, report: r }
  } finally {
    await store.close()
  }
}

it('audit start-up check: full vs incremental, by size', async () => {
  const sizes: Record<string, unknown>[] = []
  for (const n of SIZES) {
    const work = fs.mkdtempSync(join(tmpdir(), `audit-check-${n}-`))
    try {
      let seedMs: number | null = null
      const given = GIVEN.get(n)
      if (given) execFileSync('cp', ['-a', `${given}/.`, work])
      else {
        const s0 = performance.now()
        await seedDemoLedger({ dataDir: work, settlements: n })
        seedMs = Math.round(performance.now() - s0)
      }
      const loadBefore = machineInfo().loadAverage
      {
        const store = await openLedgerInProcess({ dir: join(work, 'ledger'), logger: quiet, autoSnapshot: false })
        await signHeadNow({ store, dataDir: work, signer: createSoftwareSigner(SK) })
        await store.close()
      }
      const full: { openMs: number; checkMs: number; cpuMs: number }[] = []
      let entries = 0
      for (let i = 0; i < RUNS; i++) {
        const r = await timedCheck(work, null)
        expect(r.report.mode).toBe('full')
        entries = r.report.size
        full.push(r)
      }
      const first = await timedCheck(work, KEY)
      expect(first.report.checkpointWritten).toBe(true)
      {
        const store = await openLedgerInProcess({ dir: join(work, 'ledger'), logger: quiet, autoSnapshot: false })
        const at = Date.now()
        for (let i = 0; i < JOURNAL_TX; i++) {
          await store.transaction([
            {
              sql: 'INSERT INTO acct_note (author, system, text, created_at_ms) VALUES (?, 0, ?, ?)',
              params: ['bench', `note ${i}`, at + i],
            },
          ])
        }
        await signHeadNow({ store, dataDir: work, signer: createSoftwareSigner(SK) })
        await store.close()
      }
      const inc: { openMs: number; checkMs: number; cpuMs: number }[] = []
      for (let i = 0; i < RUNS; i++) {
        const r = await timedCheck(work, KEY)
        expect(r.report).toMatchObject({ mode: 'incremental', fullBecause: null })
        inc.push(r)
      }
      const res = {
        settlements: n,
        seededBy: given ? `satmachine demo-seed, copied from ${given}` : 'seedDemoLedger in this run',
        seedMs,
        entries,
        snapshotBytes: fs
          .readdirSync(join(work, 'ledger'))
          .filter((f) => f.startsWith('snapshot-'))
          .map((f) => fs.statSync(join(work, 'ledger', f)).size)
          .reduce((a, b) => Math.max(a, b), 0),
        journalTransactionsAfterCheckpoint: JOURNAL_TX,
        fullCheckMs: spread(full.map((x) => x.checkMs)),
        fullCheckCpuMs: spread(full.map((x) => x.cpuMs)),
        fullCheckUsPerEntry: Math.round((spread(full.map((x) => x.checkMs)).median * 1000) / Math.max(1, entries)),
        firstKeyedCheckMs: Math.round(first.checkMs),
        incrementalCheckMs: spread(inc.map((x) => x.checkMs)),
        incrementalCheckCpuMs: spread(inc.map((x) => x.cpuMs)),
        speedup: Math.round(spread(full.map((x) => x.checkMs)).median / spread(inc.map((x) => x.checkMs)).median),
        openLedgerMs: spread([...full, ...inc].map((x) => x.openMs)),
        loadAverageBefore: loadBefore,
        loadAverageAfter: machineInfo().loadAverage,
      }
      console.log('[bench audit-start-check]', JSON.stringify(res))
      sizes.push(res)
      record(sizes)
    } finally {
      fs.rmSync(work, { recursive: true, force: true })
    }
  }
  record(sizes)
  expect(sizes.length).toBe(SIZES.length)
}, 3_600_000)

function record(sizes: Record<string, unknown>[]) {
  recordBench('audit-start-check', {
    note:
      'checkAuditAtStart on a demo-seed ledger (in-process sql.js, after the ledger opened): fullCheckMs = every row ' +
      'and entry (no checkpoint key); incrementalCheckMs = against the checkpoint recorded by the first keyed check, ' +
      'after journalTransactionsAfterCheckpoint one-row transactions were booked through the journal; min/median/max ' +
      'over the runs; the machine is shared (see the load averages)',
    sizes,
  })
}
