// The audit log of a STOPPED console's data directory (docs/audit.md §6, §7), for `satmachine audit-export` and
// other tools: opens `<dataDir>/ledger` in this process (the LOCK refuses a running console), runs the same start-up
// check the console runs (local heads and files; the relays are the caller's business) and hands back the store; and
// signs a head over the current tree with the console key (a DRAFT export's head), appended to the local files like
// any other head.
import type { SignedHead } from '../../src-shared/audit/types'
import { createLogger, type Logger } from '../../src-shared/log'
import type { Signer } from '../../src-shared/signer'
import '../ledger/registry'
import { join } from 'node:path'
import { openLedgerInProcess } from '../ledger/store'
import type { LedgerStore } from '../ledger/types'
import { AuditHeadWriter } from './heads'
import { checkAuditAtStart, type StartCheckReport } from './start-check'

export interface AuditedDataDir {
  store: LedgerStore
  report: StartCheckReport
  close(): Promise<void>
}

/** Opens and checks a stopped console's ledger; rejects with AuditTamperError (store closed) when refused. */
export async function openAuditedDataDir(
  dataDir: string,
  log: Logger = createLogger(() => {}, 'audit'),
): Promise<AuditedDataDir> {
  const store = await openLedgerInProcess({
    dir: join(dataDir, 'ledger'),
    logger: log.child('ledger'),
    autoSnapshot: false,
  })
  try {
    const report = await checkAuditAtStart({ store, dataDir, log })
    return { store, report, close: () => store.close() }
  } catch (e) {
    await store.close().catch(() => {})
    throw e
  }
}

/** Signs a head over the whole current log with the console key now (appended to leaves.bin and heads.jsonl). */
export async function signHeadNow(o: {
  store: LedgerStore
  dataDir: string
  signer: Signer
  nowMs?: () => number
  log?: Logger
}): Promise<SignedHead> {
  const w = await AuditHeadWriter.open({
    store: o.store,
    dataDir: o.dataDir,
    log: o.log ?? createLogger(() => {}, 'audit'),
    signer: o.signer,
    consolePubkey: await o.signer.getPublicKey(),
    nowMs: o.nowMs ?? Date.now,
  })
  const h = await w.sync({ force: true })
  if (!h) throw new Error('audit: no head was signed')
  return h
}
