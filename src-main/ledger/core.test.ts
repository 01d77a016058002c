// LedgerCore / in-process store: transactions, procedures, migrations, bigint, paging, snapshots and every
// recovery rule of docs/architecture.md §5 exercised against real files in a temp directory.
import * as fs from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { memoryLogger } from '../../src-shared/log'
import type { LedgerOptions } from './core'
import {
  LedgerCorruptError,
  LedgerInputError,
  LedgerIOError,
  LedgerLockedError,
  LedgerProcedureError,
  LedgerSchemaError,
  LedgerStepError,
} from './errors'
import { journalName, listLedgerDir, snapshotName } from './files'
import { scanJournal } from './journal'
import { type InProcessLedger, openLedgerInProcess } from './store'
import type { LedgerStatus, Migration, Procedure, TxDb } from './types'
import { nodeJournalIo } from './writer'

const dirs: string[] = []
const open: InProcessLedger[] = []
afterEach(async () => {
  for (const s of open.splice(0)) await s.close().catch(() => {})
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true })
})

function tempDir(): string {
  const d = fs.mkdtempSync(join(tmpdir(), 'ledger-test-'))
  dirs.push(d)
  return d
}

class InsufficientFundsError extends Error {
  override name = 'InsufficientFundsError'
  constructor(readonly field: string) {
    super(`not enough in ${field}`)
  }
}

const migrations: Migration[] = [
  {
    version: 2,
    name: 'legs',
    up: (db) =>
      db.run(`CREATE TABLE leg (id INTEGER PRIMARY KEY, settlement_id INTEGER NOT NULL REFERENCES settlement(id),
              recipient TEXT NOT NULL, amount_msat INTEGER NOT NULL);
              CREATE INDEX leg_by_settlement ON leg (settlement_id);`),
  },
  {
    version: 1,
    name: 'settlements',
    up: (db) =>
      db.run('CREATE TABLE settlement (id INTEGER PRIMARY KEY, ref TEXT UNIQUE NOT NULL, wire_msat INTEGER NOT NULL)'),
  },
]

interface BookArgs {
  ref: string
  wireMsat: bigint
  legs: [string, bigint][]
  failAfterInsert?: boolean
}
const book: Procedure<BookArgs, { id: number }> = (db: TxDb, a) => {
  const { lastInsertRowid: id } = db.run('INSERT INTO settlement (ref, wire_msat) VALUES (?, ?)', [a.ref, a.wireMsat])
  for (const [who, msat] of a.legs) {
    db.run('INSERT INTO leg (settlement_id, recipient, amount_msat) VALUES (?, ?, ?)', [id, who, msat])
  }
  if (a.failAfterInsert) throw new InsufficientFundsError('float')
  return { id }
}
const procedures = new Map<string, Procedure>([
  ['test.book', book as Procedure],
  ['test.count', (db) => db.get<{ n: number }>('SELECT count(*) AS n FROM settlement')!.n],
  ['test.async', (async () => 1) as Procedure],
])

function opts(dir: string, extra: Partial<LedgerOptions> = {}): LedgerOptions {
  return { dir, migrations, procedures, autoSnapshot: false, ...extra }
}

async function openStore(dir: string, extra: Partial<LedgerOptions> = {}): Promise<InProcessLedger> {
  const s = await openLedgerInProcess(opts(dir, extra))
  open.push(s)
  return s
}

async function closeStore(s: InProcessLedger): Promise<void> {
  await s.close()
  open.splice(open.indexOf(s), 1)
}

const bookN = (s: InProcessLedger, n: number) =>
  s.call('test.book', {
    ref: `r${n}`,
    wireMsat: 1000n + BigInt(n),
    legs: [
      ['lp', 600n],
      ['op', 400n + BigInt(n)],
    ],
  })

async function dump(s: InProcessLedger) {
  return {
    settlements: await s.query('SELECT * FROM settlement ORDER BY id', [], { bigint: true }),
    legs: await s.query('SELECT * FROM leg ORDER BY id', [], { bigint: true }),
  }
}

describe('transactions and procedures', () => {
  it('round-trips INTEGER money above 2^53 exactly, also through SUM', async () => {
    const s = await openStore(tempDir())
    const big = 2n ** 62n + 12345n
    await s.call('test.book', {
      ref: 'a',
      wireMsat: big,
      legs: [
        ['lp', big - 1n],
        ['op', 1n],
      ],
    })
    const [row] = await s.query<{ wire_msat: bigint; t: string }>(
      'SELECT wire_msat, typeof(wire_msat) AS t FROM settlement',
      [],
      { bigint: true },
    )
    expect(row).toEqual({ wire_msat: big, t: 'integer' })
    const [sum] = await s.query<{ total: bigint }>('SELECT sum(amount_msat) AS total FROM leg', [], { bigint: true })
    expect(sum!.total).toBe(big)
    const [cmp] = await s.query('SELECT count(*) AS n FROM settlement WHERE wire_msat = ?', [big])
    expect(cmp!.n).toBe(1)
  })

  it('rolls a throwing procedure back and rejects with its message, class name and fields', async () => {
    const s = await openStore(tempDir())
    await bookN(s, 1)
    const err = await s
      .call('test.book', { ref: 'x', wireMsat: 5n, legs: [['lp', 5n]], failAfterInsert: true })
      .catch((e: unknown) => e)
    expect(err).toBeInstanceOf(LedgerProcedureError)
    expect((err as LedgerProcedureError).message).toBe('not enough in float')
    expect((err as LedgerProcedureError).causeName).toBe('InsufficientFundsError')
    expect((err as LedgerProcedureError).details.field).toBe('float')
    expect((err as LedgerProcedureError).procedure).toBe('test.book')
    expect((await dump(s)).settlements.length).toBe(1)
    expect((await dump(s)).legs.length).toBe(2)
    expect((await s.status()).seq).toBe(3) // two migrations + one booking; the failed call took no seq
  })

  it('rejects unknown and asynchronous procedures with typed errors', async () => {
    const s = await openStore(tempDir())
    await expect(s.call('test.nope')).rejects.toThrow(/no procedure named "test.nope"/)
    await expect(s.call('test.async')).rejects.toBeInstanceOf(LedgerInputError)
  })

  it('a read-only procedure takes no seq', async () => {
    const s = await openStore(tempDir())
    await bookN(s, 1)
    const before = (await s.status()).seq
    expect(await s.call('test.count')).toBe(1)
    expect((await s.status()).seq).toBe(before)
  })

  it('transaction() is atomic and honours expectChanges', async () => {
    const s = await openStore(tempDir())
    await bookN(s, 1)
    const r = await s.transaction([
      { sql: 'UPDATE settlement SET wire_msat = wire_msat + 1 WHERE ref = ?', params: ['r1'], expectChanges: 1 },
      { sql: 'INSERT INTO settlement (ref, wire_msat) VALUES (?, ?)', params: ['r2', 7n] },
    ])
    expect(r.changes).toEqual([1, 1])
    const err = await s
      .transaction([
        { sql: 'INSERT INTO settlement (ref, wire_msat) VALUES (?, ?)', params: ['r3', 7n] },
        { sql: 'UPDATE settlement SET wire_msat = 0 WHERE ref = ?', params: ['missing'], expectChanges: 1 },
      ])
      .catch((e: unknown) => e)
    expect(err).toBeInstanceOf(LedgerStepError)
    expect(err).toMatchObject({ step: 1, expected: 1, actual: 0 })
    expect((await dump(s)).settlements.map((x) => x.ref)).toEqual(['r1', 'r2'])
    await expect(s.transaction([{ sql: 'INSERT INTO settlement (ref) VALUES (?)', params: ['r4'] }])).rejects.toThrow(
      /NOT NULL/,
    )
    await expect(s.transaction([{ sql: 'COMMIT' }])).rejects.toThrow(/transaction control/)
  })

  it('group-commits concurrent calls: fewer journal syncs than commits, each acknowledged', async () => {
    const s = await openStore(tempDir())
    const syncs0 = s.core.journalSyncs
    const ids = await Promise.all(Array.from({ length: 30 }, (_, i) => bookN(s, i + 1)))
    expect(ids.length).toBe(30)
    const used = s.core.journalSyncs - syncs0
    expect(used).toBeGreaterThan(0)
    expect(used).toBeLessThan(30)
  })

  it('a failed journal sync rejects the commit, fails the store, and reopening keeps every acknowledged commit', async () => {
    const dir = tempDir()
    let failNext = false
    const io = {
      ...nodeJournalIo,
      fdatasync: async (fd: number) => {
        if (failNext) throw Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' })
        return nodeJournalIo.fdatasync(fd)
      },
    }
    const log = memoryLogger()
    let s = await openStore(dir, { journalIo: io, logger: log })
    await bookN(s, 1)
    failNext = true
    await expect(bookN(s, 2)).rejects.toBeInstanceOf(LedgerIOError)
    expect((await s.status()).state).toBe('failed')
    await expect(bookN(s, 3)).rejects.toBeInstanceOf(LedgerIOError)
    await expect(s.query('SELECT 1')).rejects.toThrow(/failed/)
    expect(log.records.some((r) => r.level === 'error' && r.msg.startsWith('ledger failed'))).toBe(true)
    await closeStore(s)
    s = await openStore(dir)
    const refs = (await dump(s)).settlements.map((r) => r.ref)
    expect(refs[0]).toBe('r1')
    expect(refs).not.toContain('r3')
  })

  it('query() refuses writes', async () => {
    const s = await openStore(tempDir())
    await expect(s.query("DELETE FROM settlement WHERE ref = 'x'")).rejects.toBeInstanceOf(LedgerInputError)
  })

  it('keeps foreign keys enforced after a snapshot export', async () => {
    const s = await openStore(tempDir())
    await bookN(s, 1)
    await s.snapshot()
    await expect(
      s.transaction([
        { sql: 'INSERT INTO leg (settlement_id, recipient, amount_msat) VALUES (999, ?, 1)', params: ['x'] },
      ]),
    ).rejects.toThrow(/FOREIGN KEY/)
    expect((await s.query('PRAGMA foreign_keys'))[0]).toEqual({ foreign_keys: 1 })
  })

  it('refuses a second open of the same directory', async () => {
    const dir = tempDir()
    await openStore(dir)
    await expect(openLedgerInProcess(opts(dir))).rejects.toBeInstanceOf(LedgerLockedError)
  })
})

describe('migrations', () => {
  it('applies registered migrations in version order, once, journaled', async () => {
    const dir = tempDir()
    let s = await openStore(dir)
    const v = await s.query('SELECT version, name, applied_seq FROM schema_version ORDER BY version')
    expect(v).toEqual([
      { version: 1, name: 'settlements', applied_seq: 1 },
      { version: 2, name: 'legs', applied_seq: 2 },
    ])
    expect((await s.status()).schemaVersion).toBe(2)
    await closeStore(s)
    // Reopen with a third migration: only it runs; the first two are replayed from the journal, not re-run.
    const three: Migration = {
      version: 3,
      name: 'note',
      up: (db) => db.run('ALTER TABLE settlement ADD COLUMN note TEXT'),
    }
    s = await openStore(dir, { migrations: [...migrations, three] })
    expect((await s.query('SELECT version FROM schema_version')).map((r) => r.version)).toEqual([1, 2, 3])
    expect((await s.status()).seq).toBe(3)
    await closeStore(s)
    // A build that knows fewer migrations than the database has refuses to open it.
    await expect(openLedgerInProcess(opts(dir))).rejects.toBeInstanceOf(LedgerSchemaError)
  })

  it('a failing migration stops the open and leaves nothing half-applied', async () => {
    const dir = tempDir()
    const bad: Migration = {
      version: 3,
      name: 'bad',
      up: (db) => {
        db.run('CREATE TABLE half (x INTEGER)')
        db.run('INSERT INTO nowhere VALUES (1)')
      },
    }
    await expect(openLedgerInProcess(opts(dir, { migrations: [...migrations, bad] }))).rejects.toThrow(
      /migration 3 \(bad\) failed/,
    )
    const s = await openStore(dir)
    expect(await s.query("SELECT name FROM sqlite_master WHERE name = 'half'")).toEqual([])
    expect((await s.status()).schemaVersion).toBe(2)
  })
})

describe('paging', () => {
  it('walks a query with an opaque keyset cursor, both directions, positional and named params', async () => {
    const s = await openStore(tempDir())
    for (let i = 1; i <= 25; i++) await bookN(s, i)
    const seen: string[] = []
    let after: string | undefined
    for (;;) {
      const p = await s.page<{ id: number; ref: string }>(
        'SELECT id, ref FROM settlement WHERE wire_msat > ?',
        [1005n],
        {
          key: 'id',
          limit: 7,
          ...(after ? { after } : {}),
        },
      )
      seen.push(...p.rows.map((r) => r.ref))
      if (!p.next) break
      expect(p.rows.length).toBe(7)
      after = p.next
    }
    expect(seen).toEqual(Array.from({ length: 20 }, (_, i) => `r${i + 6}`))
    const desc = await s.page(
      'SELECT id, ref FROM settlement WHERE ref LIKE $p',
      { $p: 'r1%' },
      { key: 'ref', limit: 3, desc: true },
    )
    expect(desc.rows.map((r) => r.ref)).toEqual(['r19', 'r18', 'r17'])
    const more = await s.page(
      'SELECT id, ref FROM settlement WHERE ref LIKE $p',
      { $p: 'r1%' },
      {
        key: 'ref',
        limit: 100,
        desc: true,
        after: desc.next!,
      },
    )
    expect(more.rows.map((r) => r.ref)).toEqual(['r16', 'r15', 'r14', 'r13', 'r12', 'r11', 'r10', 'r1'])
    expect(more.next).toBeNull()
    await expect(s.page('SELECT id FROM settlement', [], { key: 'id', limit: 5, after: 'garbage!' })).rejects.toThrow(
      /after: malformed paging cursor/,
    )
    await expect(s.page('SELECT id FROM settlement', [], { key: 'id; drop', limit: 5 })).rejects.toThrow(/key/)
    await expect(s.page('SELECT id FROM settlement', [], { key: 'id', limit: 0 })).rejects.toThrow(/limit/)
  })

  it('pages exactly over bigint keys beyond 2^53', async () => {
    const s = await openStore(tempDir())
    const base = 2n ** 60n
    await s.transaction(
      [0n, 1n, 2n, 3n].map((k) => ({
        sql: 'INSERT INTO settlement (id, ref, wire_msat) VALUES (?, ?, 1)',
        params: [base + k, `k${k}`],
      })),
    )
    const p1 = await s.page<{ id: bigint }>('SELECT id FROM settlement', [], { key: 'id', limit: 2, bigint: true })
    expect(p1.rows.map((r) => r.id)).toEqual([base, base + 1n])
    const p2 = await s.page<{ id: bigint }>('SELECT id FROM settlement', [], {
      key: 'id',
      limit: 2,
      bigint: true,
      after: p1.next!,
    })
    expect(p2.rows.map((r) => r.id)).toEqual([base + 2n, base + 3n])
  })
})

describe('snapshots and recovery', () => {
  it('reloads to identical contents from snapshot + journal', async () => {
    const dir = tempDir()
    let s = await openStore(dir)
    for (let i = 1; i <= 10; i++) await bookN(s, i)
    await s.snapshot()
    for (let i = 11; i <= 15; i++) await bookN(s, i)
    const before = await dump(s)
    const st = await s.status()
    expect(st.snapshotSeq).toBe(12)
    expect(st.seq).toBe(17)
    await closeStore(s)
    const files = listLedgerDir(dir)
    expect(files.snapshots.map((x) => x.seq)).toEqual([12])
    expect(files.journals.map((x) => x.start)).toEqual([1, 13])
    s = await openStore(dir)
    expect(await dump(s)).toEqual(before)
    expect((await s.status()).seq).toBe(17)
    await bookN(s, 16)
    expect((await s.status()).seq).toBe(18)
  })

  it('snapshots in the background past the threshold and keeps exactly two generations', async () => {
    const dir = tempDir()
    const log = memoryLogger()
    const s = await openStore(dir, { autoSnapshot: true, snapshotEveryRecords: 5, logger: log })
    const states: LedgerStatus['state'][] = []
    s.onStatus((st) => states.push(st.state))
    for (let i = 1; i <= 23; i++) await bookN(s, i)
    await s.snapshot()
    const files = listLedgerDir(dir)
    expect(files.snapshots.length).toBe(2)
    const [prev, last] = files.snapshots.map((x) => x.seq)
    expect(last).toBe(25)
    // The journals that continue the previous generation are kept, older ones are gone.
    expect(files.journals[0]!.start).toBeLessThanOrEqual(prev! + 1)
    expect(files.journals.at(-1)!.start).toBe(26)
    expect(states).toContain('snapshotting')
    expect(log.records.filter((r) => r.msg === 'snapshot written').length).toBeGreaterThanOrEqual(3)
  })

  it('drops a torn last record with a warning naming file and offset, and truncates the file', async () => {
    const dir = tempDir()
    let s = await openStore(dir)
    for (let i = 1; i <= 3; i++) await bookN(s, i)
    await closeStore(s)
    const jpath = join(dir, journalName(1))
    const size = fs.statSync(jpath).size
    fs.truncateSync(jpath, size - 10)
    const log = memoryLogger()
    s = await openStore(dir, { logger: log })
    expect((await dump(s)).settlements.map((r) => r.ref)).toEqual(['r1', 'r2'])
    const warn = log.records.find((r) => r.msg === 'journal torn tail dropped')
    expect(warn?.level).toBe('warn')
    expect(warn?.fields.file).toBe(jpath)
    expect(typeof warn?.fields.offset).toBe('number')
    expect(fs.statSync(jpath).size).toBe(warn!.fields.offset)
    await bookN(s, 4)
    await closeStore(s)
    s = await openStore(dir)
    expect((await dump(s)).settlements.map((r) => r.ref)).toEqual(['r1', 'r2', 'r4'])
  })

  it('drops a last record with a flipped byte, logged', async () => {
    const dir = tempDir()
    let s = await openStore(dir)
    for (let i = 1; i <= 3; i++) await bookN(s, i)
    await closeStore(s)
    const jpath = join(dir, journalName(1))
    const buf = fs.readFileSync(jpath)
    buf[buf.length - 3]! ^= 0x08
    fs.writeFileSync(jpath, buf)
    const log = memoryLogger()
    s = await openStore(dir, { logger: log })
    expect((await dump(s)).settlements.length).toBe(2)
    expect(
      log.records.some((r) => r.msg === 'journal torn tail dropped' && r.fields.reason === 'checksum mismatch'),
    ).toBe(true)
  })

  it('refuses to open on a flipped byte mid-journal, naming the file', async () => {
    const dir = tempDir()
    const s = await openStore(dir)
    for (let i = 1; i <= 5; i++) await bookN(s, i)
    await closeStore(s)
    const jpath = join(dir, journalName(1))
    const buf = fs.readFileSync(jpath)
    buf[Math.floor(buf.length / 2)]! ^= 0x01
    fs.writeFileSync(jpath, buf)
    const err = await openLedgerInProcess(opts(dir)).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(LedgerCorruptError)
    expect((err as LedgerCorruptError).file).toBe(jpath)
    expect((err as Error).message).toContain(jpath)
  })

  it('tolerates damage in an old journal the newest snapshot covers, and refuses once it is needed', async () => {
    const dir = tempDir()
    let s = await openStore(dir)
    for (let i = 1; i <= 3; i++) await bookN(s, i)
    await s.snapshot() // seq 5
    for (let i = 4; i <= 5; i++) await bookN(s, i) // journal-6 holds 6..7
    await s.snapshot() // seq 7; journal-1 pruned
    for (let i = 6; i <= 7; i++) await bookN(s, i) // journal-8 holds 8..9
    const before = await dump(s)
    await closeStore(s)
    expect(listLedgerDir(dir).journals.map((j) => j.start)).toEqual([6, 8])
    const j6 = join(dir, journalName(6))
    const buf = fs.readFileSync(j6)
    buf[30]! ^= 0x10 // inside record 6, record 7 intact after it
    fs.writeFileSync(j6, buf)
    const log = memoryLogger()
    s = await openStore(dir, { logger: log })
    expect(await dump(s)).toEqual(before)
    expect(
      log.records.some((r) => r.msg === 'damaged journal not needed, left for pruning' && r.fields.file === j6),
    ).toBe(true)
    await closeStore(s)
    // Without the newest snapshot, the damaged journal is needed: refuse, naming it.
    fs.truncateSync(join(dir, snapshotName(7)), 500)
    const err = await openLedgerInProcess(opts(dir)).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(LedgerCorruptError)
    expect((err as LedgerCorruptError).file).toBe(j6)
  })

  it('falls back to the previous generation when the newest snapshot is truncated', async () => {
    const dir = tempDir()
    let s = await openStore(dir)
    for (let i = 1; i <= 4; i++) await bookN(s, i)
    await s.snapshot()
    for (let i = 5; i <= 8; i++) await bookN(s, i)
    await s.snapshot()
    for (let i = 9; i <= 10; i++) await bookN(s, i)
    const before = await dump(s)
    await closeStore(s)
    const newest = join(dir, snapshotName(10))
    const good = fs.readFileSync(newest)
    for (const [damage, reason] of [
      ['truncated', /header says/],
      ['flipped', /sha256 mismatch/],
    ] as const) {
      if (damage === 'truncated') fs.writeFileSync(newest, good.subarray(0, good.length - 100))
      else fs.writeFileSync(newest, Buffer.from(good).fill(0x5a, 4096, 4100))
      const log = memoryLogger()
      s = await openStore(dir, { logger: log })
      expect(await dump(s)).toEqual(before)
      const warn = log.records.find((r) => r.msg.startsWith('snapshot unusable'))
      expect(warn?.fields.file).toBe(newest)
      expect(String(warn?.fields.reason)).toMatch(reason)
      expect(log.records.some((r) => r.msg === 'recovered from an older generation')).toBe(true)
      await closeStore(s)
    }
  })

  it('refuses a truncated snapshot when no generation can replace it', async () => {
    const dir = tempDir()
    const s = await openStore(dir, { autoSnapshot: true, snapshotEveryRecords: 3 })
    for (let i = 1; i <= 12; i++) await bookN(s, i)
    await s.snapshot()
    await closeStore(s)
    const snaps = listLedgerDir(dir).snapshots
    for (const x of snaps) fs.truncateSync(join(dir, x.name), 200)
    const err = await openLedgerInProcess(opts(dir)).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(LedgerCorruptError)
    expect((err as LedgerCorruptError).file).toBe(join(dir, snaps.at(-1)!.name))
  })

  it('removes a leftover temp file with a log line and recovers from the journal when the snapshot is missing', async () => {
    const dir = tempDir()
    let s = await openStore(dir)
    for (let i = 1; i <= 6; i++) await bookN(s, i)
    const before = await dump(s)
    await closeStore(s)
    // A crash mid-snapshot: the temp file exists, the final name never appeared.
    const tmp = join(dir, `${snapshotName(8)}.tmp`)
    fs.writeFileSync(tmp, Buffer.alloc(5000, 7))
    const log = memoryLogger()
    s = await openStore(dir, { logger: log })
    expect(fs.existsSync(tmp)).toBe(false)
    expect(log.records.some((r) => r.msg === 'leftover temp file removed' && r.fields.file === tmp)).toBe(true)
    expect(await dump(s)).toEqual(before)
  })

  it('removes an empty newest journal left by a crash during rotation, even past a gap', async () => {
    const dir = tempDir()
    let s = await openStore(dir)
    for (let i = 1; i <= 3; i++) await bookN(s, i) // seqs 3..5
    const before = await dump(s)
    await closeStore(s)
    // As if a snapshot at seq 8 rotated the journal, then the process died before records 6..8 were written.
    const empty = join(dir, journalName(9))
    fs.writeFileSync(empty, '')
    const log = memoryLogger()
    s = await openStore(dir, { logger: log })
    expect(await dump(s)).toEqual(before)
    expect(fs.existsSync(empty)).toBe(false)
    expect(log.records.some((r) => r.msg === 'empty journal removed' && r.fields.file === empty)).toBe(true)
    await bookN(s, 4)
    await closeStore(s)
    s = await openStore(dir)
    expect((await s.status()).seq).toBe(6)
  })

  it('refuses a seq gap between journals', async () => {
    const dir = tempDir()
    const s = await openStore(dir)
    for (let i = 1; i <= 3; i++) await bookN(s, i)
    await s.snapshot() // seq 5: journals 1 and 6
    for (let i = 4; i <= 6; i++) await bookN(s, i) // seqs 6..8 in journal-6
    await closeStore(s)
    // Lose record 6: journal-6 becomes journal-7 holding 7..8, so nothing holds seq 6.
    const j6 = join(dir, journalName(6))
    const buf = fs.readFileSync(j6)
    const second = scanJournal(buf, j6, 6).records[1]!.offset
    fs.writeFileSync(join(dir, journalName(7)), buf.subarray(second))
    fs.rmSync(j6)
    const err = await openLedgerInProcess(opts(dir)).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(LedgerCorruptError)
    expect((err as Error).message).toMatch(/seq gap: previous journal ends at 5, this one starts at 7/)
    expect((err as LedgerCorruptError).file).toBe(join(dir, journalName(7)))
  })

  it('bulkLoad data survives through its snapshot; the barrier blocks silent fallback past it', async () => {
    const dir = tempDir()
    let s = await openStore(dir)
    await bookN(s, 1)
    await s.snapshot()
    const bulk = new Map(procedures).set('test.bulk', (db: TxDb) => {
      for (let i = 0; i < 500; i++)
        db.run('INSERT INTO settlement (ref, wire_msat) VALUES (?, ?)', [`b${i}`, BigInt(i)])
    })
    await closeStore(s)
    s = await openStore(dir, { procedures: bulk })
    await s.bulkLoad('test.bulk')
    await bookN(s, 2)
    await closeStore(s)
    s = await openStore(dir)
    expect((await s.query('SELECT count(*) AS n FROM settlement'))[0]!.n).toBe(502)
    await closeStore(s)
    const snaps = listLedgerDir(dir).snapshots
    fs.truncateSync(join(dir, snaps.at(-1)!.name), 100)
    await expect(openLedgerInProcess(opts(dir))).rejects.toThrow(/bulk load/)
  })
})
