// The audit head over a real relay (issue 10): the console publishes its signed heads (kind 30078, d =
// satmachine:audit-head), a replaceable event the relay keeps newest-first; at the next start the gate reads the
// relay's copy back and refuses a ledger shorter than it even when the local audit files were deleted.
import * as fs from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AuditHeadWriter } from '../../src-main/audit/heads'
import { createAuditState, gateLedger } from '../../src-main/audit/service'
import { AuditTamperError } from '../../src-main/audit/start-check'
import { createLogger } from '../../src-shared/log'
import '../../src-main/ledger/registry'
import { openLedgerInProcess } from '../../src-main/ledger/store'
import { createRelayPool, type RelayPool } from '../../src-main/nostr/relay-pool'
import { createSoftwareSigner } from '../../src-main/signer/software-signer'
import { cutJournal, journalRecords } from '../support/ledger-tamper'
import { type RelayHandle, startRelayInProcess } from '../support/relay'

let relay: RelayHandle
let pool: RelayPool
const dirs: string[] = []
beforeAll(async () => {
  relay = await startRelayInProcess()
  pool = await createRelayPool({ relays: [relay.url] })
})
afterAll(async () => {
  await pool?.close()
  await relay?.stop()
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true })
})

describe('audit heads on a real relay', () => {
  it('publishes heads and refuses, at the next start, a ledger shorter than the relay’s head', async () => {
    const dataDir = fs.mkdtempSync(join(tmpdir(), 'audit-relay-'))
    dirs.push(dataDir)
    const ledgerDir = join(dataDir, 'ledger')
    const log = createLogger(() => {}, 'test')
    const signer = createSoftwareSigner(new Uint8Array(32).fill(8))
    const pk = await signer.getPublicKey()
    let now = Date.UTC(2026, 10, 3, 10)
    const store = await openLedgerInProcess({ dir: ledgerDir, autoSnapshot: false })
    const writer = await AuditHeadWriter.open({
      store,
      dataDir,
      log,
      signer,
      consolePubkey: pk,
      nowMs: () => now,
      publish: async (ev) =>
        (await pool.publish(ev)).filter((r) => r.outcome === 'accepted' || r.outcome === 'duplicate').length,
    })
    const add = (id: string) =>
      store.transaction([
        {
          sql: 'INSERT INTO acct_machine (id, name, currency, created_at_ms) VALUES (?, ?, ?, ?)',
          params: [id, id, 'EUR', now],
        },
      ])
    await add('m1')
    await writer.sync()
    expect(writer.publishedTo).toBe(1)
    now += 60_000
    await add('m2')
    const second = (await writer.sync())!
    expect(writer.publishedTo).toBe(1)

    // Untouched: the gate reads the relay's head back and passes.
    const ok = createAuditState()
    await gateLedger(store, {
      dataDir,
      state: ok,
      log,
      clock: { nowMs: () => now },
      relays: () => [relay.url],
      consolePubkey: async () => pk,
    })
    expect(ok.check).toMatchObject({ state: 'ok', relayChecked: true })
    expect(ok.report?.newest?.event.id).toBe(second.event.id)
    await store.close()

    // The last transaction is cut off and the local audit files deleted: only the relay still has the newer head.
    cutJournal(ledgerDir, journalRecords(ledgerDir) - 1)
    fs.rmSync(join(dataDir, 'audit'), { recursive: true })
    const again = await openLedgerInProcess({ dir: ledgerDir, autoSnapshot: false })
    const state = createAuditState()
    const e = await gateLedger(again, {
      dataDir,
      state,
      log,
      clock: { nowMs: () => now },
      relays: () => [relay.url],
      consolePubkey: async () => pk,
    }).catch((x: unknown) => x)
    expect(e).toBeInstanceOf(AuditTamperError)
    expect((e as AuditTamperError).findings).toContainEqual(
      expect.objectContaining({ kind: 'missing_range', to: second.head.treeSize - 1, source: 'relay' }),
    )
    expect(state.check.state).toBe('tampered')
  })
})
