// The worker-backed store: same contract as the in-process one, across a real worker_threads boundary
// (bundled on the fly by test-support.ts).
import * as fs from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { memoryLogger } from '../../src-shared/log'
import { LedgerCorruptError, LedgerProcedureError, LedgerStateError } from './errors'
import { journalName } from './files'
import { type BuiltLedgerWorker, buildLedgerWorker } from './test-support'
import type { LedgerStatus, LedgerStore } from './types'
import { openLedger } from './worker-host'

let built: BuiltLedgerWorker
const dirs: string[] = []
beforeAll(async () => {
  built = await buildLedgerWorker({ procedureModules: ['src-main/ledger/test-procedures.ts'] })
})
afterAll(() => {
  built?.dispose()
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true })
})
const tempDir = () => {
  const d = fs.mkdtempSync(join(tmpdir(), 'ledger-worker-'))
  dirs.push(d)
  return d
}

describe('openLedger (worker thread)', () => {
  it('commits, group-commits concurrent calls, reads back bigint, and reopens with the same contents', async () => {
    const dir = tempDir()
    const log = memoryLogger()
    let s: LedgerStore = await openLedger({ dir, workerUrl: built.workerUrl, logger: log, autoSnapshot: false })
    // Migrations (ours plus whatever feature modules registry.ts pulls in) took the first seqs.
    const seqAtOpen = (await s.status()).seq
    const big = 2n ** 61n + 3n
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        s.call<{ n: number }>('ledgertest.book', { n: i + 1, wireMsat: big + BigInt(i) }),
      ),
    )
    expect(results.map((r) => r.n)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1))
    const rows = await s.query<{ n: number; wire_msat: bigint }>(
      'SELECT n, wire_msat FROM ledgertest_tx ORDER BY n',
      [],
      {
        bigint: true,
      },
    )
    expect(rows.length).toBe(40)
    expect(rows[39]!.wire_msat).toBe(big + 39n)
    const st = await s.status()
    expect(st.state).toBe('ready')
    expect(st.seq).toBe(seqAtOpen + 40) // one seq per booking
    // Worker logs reach the caller's logger.
    expect(log.records.some((r) => r.msg === 'ledger opened' && r.scope === 'test')).toBe(true)
    await s.close()
    await expect(s.query('SELECT 1')).rejects.toBeInstanceOf(LedgerStateError)
    s = await openLedger({ dir, workerUrl: built.workerUrl })
    expect((await s.query('SELECT count(*) AS n FROM ledgertest_leg'))[0]!.n).toBe(120)
    await s.close()
  })

  it('rejects a throwing procedure with its message, class name and fields, and rolls it back', async () => {
    const s = await openLedger({ dir: tempDir(), workerUrl: built.workerUrl })
    const err = await s.call('ledgertest.book', { n: 1, wireMsat: 9n, fail: true }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(LedgerProcedureError)
    expect(err).toMatchObject({
      message: 'refused at args.fail',
      causeName: 'TestRefusal',
      procedure: 'ledgertest.book',
      code: 'E_TEST',
    })
    expect((err as LedgerProcedureError).details.field).toBe('args.fail')
    expect(await s.query('SELECT * FROM ledgertest_leg')).toEqual([])
    await s.close()
  })

  it('pushes status changes and snapshots on request; bulkLoad is durable through its snapshot', async () => {
    const dir = tempDir()
    const s = await openLedger({ dir, workerUrl: built.workerUrl, autoSnapshot: false })
    const seen: LedgerStatus[] = []
    s.onStatus((x) => seen.push(x))
    const seqAtOpen = (await s.status()).seq
    await s.call('ledgertest.book', { n: 1, wireMsat: 30n })
    await s.snapshot()
    expect(seen.some((x) => x.state === 'snapshotting')).toBe(true)
    expect((await s.status()).snapshotSeq).toBe(seqAtOpen + 1)
    expect(await s.bulkLoad('ledgertest.bulk', { rows: 1000 })).toBe(1000)
    expect((await s.status()).snapshotSeq).toBe(seqAtOpen + 2)
    await s.close()
    expect(seen.at(-1)?.state).toBe('closed')
    const again = await openLedger({ dir, workerUrl: built.workerUrl })
    expect((await again.query('SELECT count(*) AS n FROM ledgertest_tx'))[0]!.n).toBe(1001)
    await again.close()
  })

  it('refuses to open damaged files with a typed LedgerCorruptError naming the file', async () => {
    const dir = tempDir()
    const s = await openLedger({ dir, workerUrl: built.workerUrl })
    for (let n = 1; n <= 5; n++) await s.call('ledgertest.book', { n, wireMsat: 3n })
    await s.close()
    const j = join(dir, journalName(1))
    const buf = fs.readFileSync(j)
    buf[40]! ^= 0xff
    fs.writeFileSync(j, buf)
    const err = await openLedger({ dir, workerUrl: built.workerUrl }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(LedgerCorruptError)
    expect((err as LedgerCorruptError).file).toBe(j)
  })
})

describe('the worker bundle electron-vite builds (out/main/ledger-worker.js)', () => {
  const builtWorker = join(import.meta.dirname, '../../out/main/ledger-worker.js')
  const present = fs.existsSync(builtWorker)
  if (!present) console.log(`[ledger] skipping built-bundle check: ${builtWorker} missing (run electron-vite build)`)
  it.skipIf(!present)('opens, commits and reads through the built worker', async () => {
    const dir = tempDir()
    const s = await openLedger({ dir, workerUrl: pathToFileURL(builtWorker) })
    await s.transaction([
      { sql: 'CREATE TABLE smoke (id INTEGER PRIMARY KEY, msat INTEGER NOT NULL)' },
      { sql: 'INSERT INTO smoke (id, msat) VALUES (?, ?)', params: [1, 2n ** 60n] },
    ])
    expect(await s.query('SELECT msat FROM smoke', [], { bigint: true })).toEqual([{ msat: 2n ** 60n }])
    await s.close()
  })
})
