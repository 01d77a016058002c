// Restoring a verified backup older than the newest signed audit head (docs/audit.md §9), end to end through the real
// services (in-process ledger, key-file secret store holding the console key): back up, book more and sign a head
// over it, restore, restart → the ledger opens, and the console-signed rollback statement is listed by `audit.head`;
// a restart after more bookings still opens; an unexplained cut of the journal after that is still refused naming
// the missing range; and without a statement (no console key to sign one) the restored ledger is refused as before.
import * as fs from 'node:fs'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { AuditHeadView } from '../../src-shared/ipc/audit'
import type { LedgerStatusView, Result } from '../../src-shared/ipc/contract'
import { createLogger } from '../../src-shared/log'
import { cutJournal, journalRecords } from '../../test/support/ledger-tamper'
import { createAppLog } from '../app-log'
import { createBackup, stageRestore } from '../backup/backup'
import { createDispatcher } from '../ipc'
import '../ledger/registry'
import { openLedgerInProcess } from '../ledger/store'
import { lazySecretStore, loadOrCreateConsoleKey } from '../secrets/secret-store'
import { createServices, type Services } from '../services'
import { createSoftwareSigner } from '../signer/software-signer'
import { AuditHeadWriter } from './heads'
import { readRollbacks } from './rollback'
import { AuditTamperError, checkAuditAtStart } from './start-check'

const roots: string[] = []
const running: Services[] = []
afterEach(async () => {
  for (const s of running.splice(0)) await s.close().catch(() => {})
  for (const r of roots.splice(0)) fs.rmSync(r, { recursive: true, force: true })
})

const call = { transport: 'ws', caller: 'test' } as const
const T0 = Date.UTC(2026, 10, 2, 12)

const config = (atMs: number) => ({
  machineId: null,
  effectiveFromMs: atMs,
  atMs,
  cashOutPlatformPpm: 10_000,
  cashOutOperatorPpm: 40_000 + (atMs % 1000),
  cashInPlatformPpm: 10_000,
  cashInOperatorPpm: 30_000,
  splits: [],
  author: 'test',
})

async function world(withKey: boolean) {
  const root = mkdtempSync(join(tmpdir(), 'audit-rollback-'))
  roots.push(root)
  const dataDir = join(root, 'data')
  const log = createLogger(() => {}, 'test')
  const secrets = lazySecretStore({ dataDir, keyFile: join(root, 'keys', 'secret.key'), log })
  let sk: Uint8Array = new Uint8Array(32).fill(5)
  if (withKey) sk = (await loadOrCreateConsoleKey(await secrets(), () => new Uint8Array(32).fill(5))).secretKey
  const signer = createSoftwareSigner(sk)
  return { root, dataDir, secrets, signer, log }
}

type World = Awaited<ReturnType<typeof world>>

/** Books `n` fee changes in a stopped console's ledger and signs a head over the log (console key). */
async function bookAndSign(w: World, n: number, at: number) {
  const store = await openLedgerInProcess({ dir: join(w.dataDir, 'ledger'), autoSnapshot: false })
  for (let i = 0; i < n; i++) await store.call('accounting.setConfig', config(at + i))
  const hw = await AuditHeadWriter.open({
    store,
    dataDir: w.dataDir,
    log: w.log,
    signer: w.signer,
    consolePubkey: await w.signer.getPublicKey(),
    nowMs: () => at + 1000,
  })
  const head = (await hw.sync())!
  return { store, head }
}

async function start(w: World, nowMs: number) {
  const appLog = createAppLog()
  const services = await createServices({
    runtime: 'node',
    dataDir: w.dataDir,
    appLog,
    emit: () => {},
    clock: { nowMs: () => nowMs },
    openLedger: ({ dir }) => openLedgerInProcess({ dir, autoSnapshot: false }),
    lps: { secrets: w.secrets },
  } as Parameters<typeof createServices>[0])
  running.push(services)
  await services.ledgerReady
  const d = createDispatcher(services.handlers, appLog.log.child('ipc'))
  const status = (await d('ledger.status', [], call)) as Result<LedgerStatusView>
  return { services, d, status: status.ok ? status.value : null }
}

async function stop(s: Services) {
  await s.close()
  running.splice(running.indexOf(s), 1)
}

describe('restore of a backup older than the newest signed head', () => {
  it('records a console-signed rollback statement: the restored ledger opens and audit.head lists it', async () => {
    const w = await world(true)
    const first = await bookAndSign(w, 3, T0)
    await first.store.snapshot()
    const usb = join(w.root, 'usb')
    fs.mkdirSync(usb)
    const backup = await createBackup({
      ledger: first.store,
      ledgerDir: join(w.dataDir, 'ledger'),
      dataDir: w.dataDir,
      folder: usb,
      nowMs: T0 + 2000,
    })
    await first.store.close()
    // After the backup: more bookings and a head over them.
    const later = await bookAndSign(w, 2, T0 + 10_000)
    await later.store.close()
    expect(later.head.head.treeSize).toBeGreaterThan(first.head.head.treeSize)
    await stageRestore({ path: backup.path, dataDir: w.dataDir, nowMs: T0 + 20_000 })

    const s1 = await start(w, T0 + 30_000)
    expect(s1.status?.state).toBe('ready')
    const head = (await s1.d('audit.head', [], call)) as Result<AuditHeadView>
    if (!head.ok) throw new Error(JSON.stringify(head.error))
    expect(head.value.check.state).toBe('ok')
    expect(head.value.rollbacks).toEqual([
      expect.objectContaining({
        toSize: first.head.head.treeSize,
        toRoot: first.head.head.root,
        fromSize: later.head.head.treeSize,
        fromHeadEventId: later.head.event.id,
        reason: expect.stringMatching(/^restore of the backup taken .* from /),
      }),
    ])
    expect(readRollbacks(w.dataDir)[0]!.event.pubkey).toBe(await w.signer.getPublicKey())
    await stop(s1.services)

    // The console carries on from the backup: more bookings, a new head; the next start still opens.
    const again = await bookAndSign(w, 4, T0 + 40_000)
    await again.store.close()
    const s2 = await start(w, T0 + 50_000)
    expect(s2.status?.state).toBe('ready')
    await stop(s2.services)

    // An unexplained cut after that is refused as before, naming the missing range.
    const ledgerDir = join(w.dataDir, 'ledger')
    cutJournal(ledgerDir, journalRecords(ledgerDir) - 1)
    const store = await openLedgerInProcess({ dir: ledgerDir, autoSnapshot: false })
    try {
      const e = await checkAuditAtStart({ store, dataDir: w.dataDir, log: w.log }).then(
        () => null,
        (x: unknown) => x,
      )
      expect(e).toBeInstanceOf(AuditTamperError)
      expect((e as AuditTamperError).findings).toContainEqual(
        expect.objectContaining({ kind: 'missing_range', to: again.head.head.treeSize - 1 }),
      )
    } finally {
      await store.close()
    }
  }, 120_000)

  it('without a statement the shorter restored log is refused, naming the missing range', async () => {
    const w = await world(false)
    const first = await bookAndSign(w, 2, T0)
    await first.store.snapshot()
    const usb = join(w.root, 'usb')
    fs.mkdirSync(usb)
    const backup = await createBackup({
      ledger: first.store,
      ledgerDir: join(w.dataDir, 'ledger'),
      dataDir: w.dataDir,
      folder: usb,
      nowMs: T0 + 2000,
    })
    await first.store.close()
    const later = await bookAndSign(w, 2, T0 + 10_000)
    await later.store.close()
    await stageRestore({ path: backup.path, dataDir: w.dataDir, nowMs: T0 + 20_000 })
    const s = await start(w, T0 + 30_000)
    expect(s.status?.state).toBe('failed')
    expect(s.status?.error ?? '').toMatch(/the ledger is shorter than the head signed at/)
    expect(readRollbacks(w.dataDir)).toEqual([])
  }, 120_000)
})
