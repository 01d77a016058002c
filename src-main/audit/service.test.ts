// The audit feature (service.ts) over a real ledger: heads signed and published once the fleet runs, the quarter close
// with the operator's attestation signed through the OperatorSignerProvider, the lock on the closed quarter and a
// correction in the next one, the IPC views; and the services refusing to hand out a tampered ledger.
import * as fs from 'node:fs'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { parseAttestationEvent, parseHeadEvent } from '../../src-shared/audit/types'
import { ApiError } from '../../src-shared/ipc/contract'
import { createLogger } from '../../src-shared/log'
import type { NostrEvent } from '../../src-shared/nostr/event'
import { cutJournal, journalRecords, rewriteJournal } from '../../test/support/ledger-tamper'
import { startNodeServices } from '../../test/support/services'
import type { FleetParts } from '../fleet/feature'
import { noOperatorSigner, type OperatorSignerProvider } from '../fleet/operator-signer'
import { createFleetPartsSlot } from '../fleet/pairing-service'
import '../ledger/registry'
import { openLedgerInProcess } from '../ledger/store'
import type { LedgerStore } from '../ledger/types'
import type { SubscriptionSpec } from '../nostr/relay-pool'
import type { ServiceContext } from '../service-context'
import { createSoftwareSigner } from '../signer/software-signer'
import { AuditHeadWriter } from './heads'
import { headsFile, readHeads } from './read'
import { auditHandlers, createAuditState, gateLedger } from './service'
import { AuditTamperError } from './start-check'

const dirs: string[] = []
const closers: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c().catch(() => {})
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true })
})

const RELAY = 'ws://127.0.0.1:7777'

/** A pool that accepts every publish and holds what was published; queries answer from it. */
function fakePool() {
  const published: NostrEvent[] = []
  return {
    published,
    publish: async (ev: NostrEvent) => {
      published.push(ev)
      return [{ relay: RELAY, ok: true, outcome: 'accepted' as const, message: '', latencyMs: 1 }]
    },
    subscribe: (spec: SubscriptionSpec) => {
      queueMicrotask(() => spec.onCaughtUp?.(RELAY))
      return { key: 'q', close: () => {} }
    },
  }
}

async function setup(nowMs: { v: number }, opts: { noSigner?: boolean } = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), 'audit-svc-'))
  dirs.push(dataDir)
  const store = await openLedgerInProcess({ dir: join(dataDir, 'ledger'), autoSnapshot: false })
  closers.push(() => store.close())
  const log = createLogger(() => {}, 'test')
  const ctx = {
    runtime: 'node',
    emit: () => {},
    dataDir,
    clock: { nowMs: () => nowMs.v },
    log,
    settings: undefined as never,
    ledger: () => store,
    ledgerReady: Promise.resolve(),
    onClose: (fn: () => void) => closers.push(async () => fn()),
  } as unknown as ServiceContext
  // The operator's key through the provider interface only (the hardware signer's own tests cover the device).
  const operatorKey = createSoftwareSigner(new Uint8Array(32).fill(5))
  const operatorPk = await operatorKey.getPublicKey()
  const operator: OperatorSignerProvider = {
    current: () => operatorKey,
    pubkey: () => operatorPk,
    describe: () => 'test operator signer',
  }
  const consoleSigner = createSoftwareSigner(new Uint8Array(32).fill(6))
  const fleet = createFleetPartsSlot()
  const state = createAuditState()
  const failed: string[] = []
  const h = auditHandlers(ctx, {
    state,
    fleet,
    operatorSigner: opts.noSigner ? noOperatorSigner() : operator,
    failLedger: (r) => failed.push(r),
    debounceMs: 10,
  })
  const pool = fakePool()
  const parts = {
    ledger: store,
    pool,
    consoleSigner,
    operatorPubkey: operator.pubkey()!,
    relays: [RELAY],
  } as unknown as FleetParts
  return { dataDir, store, h, fleet, parts, pool, operator, consoleSigner, state, failed }
}

const machine = (s: LedgerStore, id: string, atMs: number) =>
  s.transaction([
    {
      sql: 'INSERT INTO acct_machine (id, name, currency, created_at_ms) VALUES (?, ?, ?, ?)',
      params: [id, id, 'EUR', atMs],
    },
  ])

describe('audit feature', () => {
  it('signs and publishes heads once the fleet runs, closes an ended quarter on the operator signer, locks it', async () => {
    const now = { v: Date.UTC(2026, 9, 5, 9) }
    const t = await setup(now)
    await machine(t.store, 'q3-machine', Date.UTC(2026, 8, 10))
    // An LP deposit confirmed in Q3 (corrected after the close, below).
    const q3 = Date.UTC(2026, 8, 12)
    await t.store.call('accounting.upsertLp', { id: 'lp1', currency: 'EUR', mode: 'flow', atMs: q3, name: 'Ann' })
    await t.store.call('accounting.createDeposit', { id: 'dep1', lpId: 'lp1', amountMinor: '50000', atMs: q3 })
    await t.store.call('accounting.confirmDeposit', { depositId: 'dep1', atMs: q3 })
    t.fleet.set(t.parts)
    await vi.waitFor(async () => expect((await t.h['audit.head']()).treeSize).not.toBeNull())
    const head = await t.h['audit.head']()
    expect(head.check.relayChecked).toBe(true)
    expect(head.entries).toBe(head.treeSize)
    expect(t.pool.published.some((e) => e.kind === 30078)).toBe(true)
    expect(readHeads(t.dataDir).length).toBeGreaterThan(0)

    // A quarter that has not ended cannot be closed.
    await expect(t.h['audit.closeQuarter']({ period: '2026Q4' })).rejects.toMatchObject({
      code: 'bad_args',
      field: 'period',
    })

    const closed = await t.h['audit.closeQuarter']({ period: '2026Q3', manifestSha256: '11'.repeat(32) })
    expect(closed.publishedTo).toBe(1)
    expect(closed.period).toMatchObject({ period: '2026Q3', state: 'attested', manifestSha256: '11'.repeat(32) })
    const att = t.pool.published.find((e) => e.kind === 3080)!
    expect(att.pubkey).toBe(t.operator.pubkey())
    const a = parseAttestationEvent(att)
    const quarterHead = t.pool.published.find((e) => e.id === a.headEventId)!
    expect(quarterHead.pubkey).toBe(await t.consoleSigner.getPublicKey())
    expect(parseHeadEvent(quarterHead)).toMatchObject({ treeSize: a.treeSize, root: a.root })
    expect(fs.readFileSync(headsFile(t.dataDir), 'utf8')).toContain(quarterHead.id)

    // Locked: nothing can be booked into 2026Q3 any more; a correction dated in Q4 is booked.
    await expect(machine(t.store, 'late', Date.UTC(2026, 8, 30))).rejects.toThrow(
      /acct_machine\.created_at_ms: .* lies in 2026Q3, which is closed/,
    )
    await expect(machine(t.store, 'correction', now.v)).resolves.toBeDefined()
    // The Q3 deposit was wrong: reversing it dated in Q3 is refused; the reversal dated now (Q4) is booked and names it.
    const reverse = (atMs: number) =>
      t.store.call('accounting.reverseDeposit', { depositId: 'dep1', atMs, author: 'op', reason: 'counted twice' })
    await expect(reverse(Date.UTC(2026, 8, 30))).rejects.toThrow(
      /acct_lp_entry\.created_at_ms: .*2026Q3, which is closed/,
    )
    await reverse(now.v)
    const rev = await t.store.query<{ deposit_id: string; delta_minor: number; created_at_ms: number }>(
      "SELECT deposit_id, delta_minor, created_at_ms FROM acct_lp_entry WHERE kind = 'deposit_reversal'",
    )
    expect(rev).toEqual([{ deposit_id: 'dep1', delta_minor: -50000, created_at_ms: now.v }])
    await expect(t.h['audit.closeQuarter']({ period: '2026Q3' })).rejects.toMatchObject({ code: 'conflict' })

    const periods = await t.h['audit.periods']()
    expect(periods.map((p) => [p.period, p.state])).toEqual([
      ['2026Q3', 'attested'],
      ['2026Q4', 'open'],
    ])
  })

  it('refuses to close without the operator signer or with a signer that is not the pinned key', async () => {
    const now = { v: Date.UTC(2026, 9, 5, 9) }
    const t = await setup(now)
    t.fleet.set({ ...t.parts, operatorPubkey: 'ab'.repeat(32) } as FleetParts)
    await vi.waitFor(async () => expect((await t.h['audit.head']()).treeSize).not.toBeNull())
    const e = await Promise.resolve()
      .then(() => t.h['audit.closeQuarter']({ period: '2026Q3' }))
      .catch((x: unknown) => x)
    expect(e).toBeInstanceOf(ApiError)
    expect(e).toMatchObject({ code: 'unavailable', field: 'operatorSigner' })
    const t2 = await setup(now, { noSigner: true })
    t2.fleet.set(t2.parts)
    await vi.waitFor(async () => expect((await t2.h['audit.head']()).treeSize).not.toBeNull())
    const e2 = await Promise.resolve()
      .then(() => t2.h['audit.closeQuarter']({ period: '2026Q3' }))
      .catch((x: unknown) => x)
    expect(e2).toMatchObject({ code: 'unavailable', field: 'operatorSigner' })
    expect((e2 as Error).message).toMatch(/connect the operator's signer/)
    expect(await t2.store.query('SELECT period FROM audit_period')).toEqual([])
  })

  it('the relays holding a longer head than the ledger take the ledger away, naming the missing range', async () => {
    const now = { v: Date.UTC(2026, 9, 5, 9) }
    const t = await setup(now)
    const signer = t.consoleSigner
    const { headTemplate } = await import('../../src-shared/audit/types')
    const longer = await signer.signEvent(
      headTemplate({ treeSize: 100_000, root: 'ab'.repeat(32), ledgerSeq: 99_999, time: Math.floor(now.v / 1000) }),
    )
    t.pool.subscribe = (spec: SubscriptionSpec) => {
      queueMicrotask(() => {
        void spec.onEvent(longer as never, { relay: RELAY })
        spec.onCaughtUp?.(RELAY)
      })
      return { key: 'q', close: () => {} }
    }
    t.fleet.set(t.parts)
    await vi.waitFor(() => expect(t.failed.length).toBe(1))
    expect(t.failed[0]).toMatch(/audit entries #\d+–#99999 are missing .* that the relays hold/)
    expect((await t.h['audit.head']()).check.state).toBe('tampered')
  })
})

describe('start-up gate', () => {
  it('asks the relays before handing out the ledger, even when the local audit files are gone', async () => {
    const now = { v: Date.UTC(2026, 9, 5, 9) }
    const t = await setup(now)
    await machine(t.store, 'm1', now.v)
    const w = await AuditHeadWriter.open({
      store: t.store,
      dataDir: t.dataDir,
      log: createLogger(() => {}, 't'),
      signer: t.consoleSigner,
      consolePubkey: await t.consoleSigner.getPublicKey(),
      nowMs: () => now.v,
    })
    const head = (await w.sync())!
    // The journal loses its last transaction and the audit directory is deleted: only the relay still knows.
    await machine(t.store, 'm2', now.v)
    const signed2 = (await w.sync())!
    await t.store.close()
    closers.shift()
    cutJournal(join(t.dataDir, 'ledger'), journalRecords(join(t.dataDir, 'ledger')) - 1)
    fs.rmSync(join(t.dataDir, 'audit'), { recursive: true })
    const store = await openLedgerInProcess({ dir: join(t.dataDir, 'ledger'), autoSnapshot: false })
    const state = createAuditState()
    const pool = fakePool()
    pool.subscribe = (spec: SubscriptionSpec) => {
      queueMicrotask(() => {
        void spec.onEvent(signed2.event as never, { relay: RELAY })
        spec.onCaughtUp?.(RELAY)
      })
      return { key: 'q', close: () => {} }
    }
    const gate = gateLedger(store, {
      dataDir: t.dataDir,
      state,
      log: createLogger(() => {}, 't'),
      clock: { nowMs: () => now.v },
      relays: () => [RELAY],
      consolePubkey: () => t.consoleSigner.getPublicKey(),
      queryPool: async () => ({ ...pool, close: async () => {} }),
    })
    await expect(gate).rejects.toBeInstanceOf(AuditTamperError)
    expect(state.check).toMatchObject({ state: 'tampered' })
    expect(state.check.message).toMatch(
      new RegExp(`audit entries #${head.head.treeSize}–#${signed2.head.treeSize - 1} are missing`),
    )
    // The gate closed the store it refused.
    await expect(store.query('SELECT 1 AS x')).rejects.toThrow(/closed/)
  })
})

describe('start-up gate offline', () => {
  it('hands out a good ledger when no relay is reachable, saying the relay part is still to come', async () => {
    const now = { v: Date.UTC(2026, 9, 5, 9) }
    const t = await setup(now)
    await machine(t.store, 'm1', now.v)
    const w = await AuditHeadWriter.open({
      store: t.store,
      dataDir: t.dataDir,
      log: createLogger(() => {}, 't'),
      signer: t.consoleSigner,
      consolePubkey: await t.consoleSigner.getPublicKey(),
      nowMs: () => now.v,
    })
    await w.sync()
    const state = createAuditState()
    const lines: string[] = []
    const got = await gateLedger(t.store, {
      dataDir: t.dataDir,
      state,
      log: createLogger((r) => lines.push(r.msg), 't'),
      clock: { nowMs: () => now.v },
      relays: () => ['ws://127.0.0.1:9'],
    })
    expect(got).toBe(t.store)
    expect(state.check).toMatchObject({ state: 'ok', relayChecked: false })
    expect(lines).toContain('audit: no relay reachable for the start-up check; it runs again once the fleet is up')
  })
})

describe('services start-up', () => {
  it('do not hand out a ledger whose journal was edited: ledger.status is failed with the finding', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'audit-services-'))
    dirs.push(dataDir)
    const first = await startNodeServices({ dataDir })
    const store = await openLedgerInProcessAfter(first, dataDir)
    await machine(store, 'm1', Date.UTC(2026, 9, 1))
    await store.close()
    rewriteJournal(join(dataDir, 'ledger'), (entry) => {
      const s = entry.stmts.find((x) => x.sql.startsWith('INSERT INTO acct_machine'))
      if (!s) return false
      ;(s.params as unknown[])[1] = 'forged'
      return true
    })
    const again = await startNodeServices({ dataDir })
    closers.push(() => again.close())
    const st = await again.handlers['ledger.status']()
    expect(st.state).toBe('failed')
    expect(st.error).toMatch(/console will not start.*acct_machine id m1: name changed after it was recorded/)
    await expect(Promise.resolve().then(() => again.handlers['audit.head']())).rejects.toMatchObject({
      code: 'unavailable',
    })
  })
})

/** Closes the services (releasing the ledger) and opens the same ledger directly. */
async function openLedgerInProcessAfter(s: { close(): Promise<void> }, dataDir: string): Promise<LedgerStore> {
  await s.close()
  return openLedgerInProcess({ dir: join(dataDir, 'ledger'), autoSnapshot: false })
}
