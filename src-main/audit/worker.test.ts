// The audit log across the real ledger worker (the app's store): leaves appended by the commit hook inside the
// worker, the head writer and the start-up check exchanging leaf hashes as bytes over the message port, and a
// journal edit refused after a reopen.
import * as fs from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { memoryLogger } from '../../src-shared/log'
import { rewriteJournal } from '../../test/support/ledger-tamper'
import { type BuiltLedgerWorker, buildLedgerWorker } from '../ledger/test-support'
import { openLedger } from '../ledger/worker-host'
import { createSoftwareSigner } from '../signer/software-signer'
import { checkpointKey } from './checkpoint'
import { AuditHeadWriter } from './heads'
import { entryCount } from './read'
import { AuditTamperError, checkAuditAtStart } from './start-check'

let built: BuiltLedgerWorker
const dirs: string[] = []
beforeAll(async () => {
  built = await buildLedgerWorker()
})
afterAll(() => {
  built?.dispose()
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true })
})

describe('audit log in the ledger worker', () => {
  it('signs a head over the worker’s leaves, passes the check, and refuses an edited journal after a reopen', async () => {
    const dataDir = fs.mkdtempSync(join(tmpdir(), 'audit-worker-'))
    dirs.push(dataDir)
    const dir = join(dataDir, 'ledger')
    const log = memoryLogger()
    const s = await openLedger({ dir, workerUrl: built.workerUrl, logger: log, autoSnapshot: false })
    await s.transaction([
      { sql: "INSERT INTO acct_machine (id, name, currency, created_at_ms) VALUES ('m1', 'Lobby', 'EUR', 1)" },
    ])
    const signer = createSoftwareSigner(new Uint8Array(32).fill(4))
    const w = await AuditHeadWriter.open({
      store: s,
      dataDir,
      log,
      signer,
      consolePubkey: await signer.getPublicKey(),
      nowMs: () => 1_790_000_000_000,
    })
    const head = (await w.sync())!
    expect(head.head.treeSize).toBe(await entryCount(s))
    const ok = await checkAuditAtStart({ store: s, dataDir, log })
    expect(ok.newest?.event.id).toBe(head.event.id)
    await s.close()
    rewriteJournal(dir, (entry) => {
      const st = entry.stmts.find((x) => x.sql.startsWith('INSERT INTO acct_machine'))
      if (!st) return false
      st.sql = st.sql.replace("'Lobby'", "'Lobbx'")
      return true
    })
    const again = await openLedger({ dir, workerUrl: built.workerUrl, logger: log, autoSnapshot: false })
    try {
      const e = await checkAuditAtStart({ store: again, dataDir, log }).catch((x: unknown) => x)
      expect(e).toBeInstanceOf(AuditTamperError)
      expect((e as AuditTamperError).findings).toContainEqual(
        expect.objectContaining({ kind: 'edited', table: 'acct_machine', key: 'id m1', fields: ['name'] }),
      )
    } finally {
      await again.close()
    }
  })

  it('records a checkpoint and checks incrementally across the worker; a journal edit after it is named', async () => {
    const dataDir = fs.mkdtempSync(join(tmpdir(), 'audit-worker-cp-'))
    dirs.push(dataDir)
    const dir = join(dataDir, 'ledger')
    const log = memoryLogger()
    const key = checkpointKey(new Uint8Array(32).fill(4))
    const open = () => openLedger({ dir, workerUrl: built.workerUrl, logger: log, autoSnapshot: false })
    const s = await open()
    await s.transaction([
      { sql: "INSERT INTO acct_machine (id, name, currency, created_at_ms) VALUES ('m1', 'Lobby', 'EUR', 1)" },
    ])
    await s.snapshot()
    await s.close()
    const a = await open()
    const first = await checkAuditAtStart({ store: a, dataDir, log, checkpointKey: key })
    expect(first).toMatchObject({ mode: 'full', checkpointWritten: true })
    await a.transaction([
      { sql: "INSERT INTO acct_machine (id, name, currency, created_at_ms) VALUES ('m2', 'Station', 'EUR', 2)" },
    ])
    await a.close()
    const b = await open()
    const second = await checkAuditAtStart({ store: b, dataDir, log, checkpointKey: key })
    expect(second.fullBecause).toBeNull()
    expect(second.mode).toBe('incremental')
    await b.close()
    rewriteJournal(dir, (entry) => {
      const st = entry.stmts.find((x) => x.sql.includes("'Station'"))
      if (!st) return false
      st.sql = st.sql.replace("'Station'", "'Statiom'")
      return true
    })
    const c = await open()
    try {
      const e = await checkAuditAtStart({ store: c, dataDir, log, checkpointKey: key }).catch((x: unknown) => x)
      expect(e).toBeInstanceOf(AuditTamperError)
      expect((e as AuditTamperError).findings).toContainEqual(
        expect.objectContaining({ kind: 'edited', table: 'acct_machine', key: 'id m2', fields: ['name'] }),
      )
    } finally {
      await c.close()
    }
  })
})
