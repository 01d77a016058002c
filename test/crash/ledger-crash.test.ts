// Crash test for the ledger store (issue "Foundation" item 5, docs/architecture.md §5, src-main/ledger/README.md):
// a child process commits a stream of transactions through the worker-backed store and prints each
// acknowledged one; we SIGKILL it at a random point (after a seeded random number of acknowledgements, so we
// wait on its progress, never on a timer), restart it, and check, 20 times over: the ledger opens every time,
// every acknowledged transaction is present, and no transaction is half-applied (each writes a header row and
// three legs that must appear together). Reproduce a failure with LEDGER_CRASH_SEED=<printed seed>.
import { type ChildProcess, spawn } from 'node:child_process'
import * as fs from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, expect, it } from 'vitest'
import '../../src-main/ledger/registry'
import '../../src-main/ledger/test-procedures'
import { openLedgerInProcess } from '../../src-main/ledger/store'
import { type BuiltLedgerWorker, buildLedgerWorker } from '../../src-main/ledger/test-support'

const ROUNDS = 20
const seed = Number(process.env.LEDGER_CRASH_SEED ?? Math.floor(Math.random() * 2 ** 31))

/** mulberry32: a tiny seeded PRNG, so a printed seed replays the same kill points. */
function prng(a: number): () => number {
  return () => {
    a = (a + 0x6d2b79f5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

let built: BuiltLedgerWorker
let dir: string
beforeAll(async () => {
  built = await buildLedgerWorker({
    procedureModules: ['src-main/ledger/test-procedures.ts'],
    extraEntries: { 'ledger-child': 'test/crash/ledger-child.ts' },
  })
  dir = fs.mkdtempSync(join(tmpdir(), 'ledger-crash-'))
})
afterAll(() => {
  built?.dispose()
  if (dir) fs.rmSync(dir, { recursive: true, force: true })
})

interface Ready {
  total: number
  lo: number
  hi: number
  bad: number
  orphans: number
  seq: number
}

/** Runs the child until it has printed `killAfterAcks` acknowledgements, then SIGKILLs it. */
function runRound(killAfterAcks: number): Promise<{ ready: Ready; acked: number[] }> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(
      process.execPath,
      [built.entries['ledger-child']!, dir, built.workerUrl.href, '6'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    )
    let buf = ''
    let stderr = ''
    let ready: Ready | null = null
    const acked: number[] = []
    let killed = false
    const deadline = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`child made no progress in 20 s (acks=${acked.length}, stderr=${stderr})`))
    }, 20_000)
    const kill = () => {
      if (killed) return
      killed = true
      child.kill('SIGKILL')
    }
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString()
    })
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString()
      let nl = buf.indexOf('\n')
      while (nl >= 0) {
        const line = buf.slice(0, nl)
        buf = buf.slice(nl + 1)
        nl = buf.indexOf('\n')
        if (killed) continue
        if (line.startsWith('READY ')) {
          ready = Object.fromEntries(
            line
              .slice(6)
              .split(' ')
              .map((kv) => kv.split('=') as [string, string])
              .map(([k, v]) => [k, Number(v)]),
          ) as unknown as Ready
          if (killAfterAcks === 0) kill()
        } else if (line.startsWith('ACK ')) {
          acked.push(Number(line.slice(4)))
          if (acked.length >= killAfterAcks) kill()
        } else {
          kill()
          reject(new Error(`child said: ${line} ${stderr}`))
        }
      }
    })
    child.on('exit', (code, signal) => {
      clearTimeout(deadline)
      if (!killed) return reject(new Error(`child exited by itself (code=${code} signal=${signal}) ${stderr}`))
      if (!ready) return reject(new Error(`child was killed before it opened the ledger ${stderr}`))
      resolve({ ready, acked })
    })
  })
}

it(`survives ${ROUNDS} SIGKILLs without losing an acknowledged commit (seed ${seed})`, async () => {
  console.log(`[ledger-crash] seed=${seed} (set LEDGER_CRASH_SEED to replay)`)
  const rand = prng(seed)
  const allAcked = new Set<number>()
  let maxAcked = 0
  for (let round = 0; round < ROUNDS; round++) {
    // Mostly mid-stream kills; sometimes right after open (k = 0) to hit recovery and migration paths.
    const k = rand() < 0.1 ? 0 : 1 + Math.floor(rand() * 150)
    const { ready, acked } = await runRound(k)
    // Every transaction acknowledged before the previous kill is present, none is half-applied.
    expect(ready.bad, `round ${round}: half-applied transactions`).toBe(0)
    expect(ready.orphans, `round ${round}: legs without their transaction`).toBe(0)
    expect(ready.hi, `round ${round}: lost acknowledged commits`).toBeGreaterThanOrEqual(maxAcked)
    expect(ready.total, `round ${round}: a hole in the committed range`).toBe(
      ready.hi === 0 ? 0 : ready.hi - ready.lo + 1,
    )
    for (const n of acked) allAcked.add(n)
    maxAcked = Math.max(maxAcked, ...acked)
  }
  // Final check in this process, transaction by transaction.
  const s = await openLedgerInProcess({ dir })
  try {
    const rows = await s.query<{ n: number; wire_msat: bigint; legs: bigint }>(
      `SELECT t.n, t.wire_msat, (SELECT sum(amount_msat) FROM ledgertest_leg l WHERE l.n = t.n) AS legs
       FROM ledgertest_tx t`,
      [],
      { bigint: true },
    )
    const byN = new Map(rows.map((r) => [Number(r.n), r]))
    for (const n of allAcked) {
      const r = byN.get(n)
      expect(r, `acknowledged transaction ${n} missing`).toBeDefined()
      expect(r!.wire_msat).toBe(2n ** 54n + BigInt(n) * 1000n)
      expect(r!.legs).toBe(r!.wire_msat)
    }
    expect(allAcked.size).toBeGreaterThan(ROUNDS)
    // The audit log (issue 10) was appended in the same transactions: after every kill it still matches each row.
    const tA = performance.now()
    const audit = await s.call<{ problems: unknown[]; size: number }>('audit.checkLog', {})
    console.log(`[ledger-crash] audit check: ${audit.size} entries in ${Math.round(performance.now() - tA)} ms`)
    expect(audit.problems, 'audit log vs rows after the SIGKILL rounds').toEqual([])
    expect(audit.size).toBeGreaterThan(allAcked.size * 4)
  } finally {
    await s.close()
  }
}, 90_000)
