import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { manualClock } from '../../src-shared/clock'
import { memoryLogger } from '../../src-shared/log'
import { buildRosterTemplate } from '../../src-shared/nostr/roster'
import { verifyRecord } from '../../src-shared/nostr/verify-record'
import { keys, PAYMENT_HASH, type Scenario, scenario, T0 } from '../../test/support/fleet-fixture'
import { type InProcessLedger, openLedgerInProcess } from '../ledger/store'
import type { Procedure } from '../ledger/types'
import { fleetMigrations, fleetProcedures, loadConfigs, loadDelegations, loadRosters } from './store'
import { buildVerifyContext } from './verify-context'

let dir: string
let store: InProcessLedger
let sc: Scenario

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fleet-store-'))
  store = await openLedgerInProcess({
    dir,
    logger: memoryLogger(),
    autoSnapshot: false,
    migrations: fleetMigrations,
    procedures: new Map(Object.entries(fleetProcedures) as [string, Procedure][]),
  })
  sc = await scenario(false)
  await store.call('fleet.storeSignedEvent', { event: sc.rosterEvent, receivedAtMs: T0 * 1000 })
  await store.call('fleet.storeSignedEvent', { event: sc.configEvent, receivedAtMs: T0 * 1000 })
})

afterEach(async () => {
  await store.close()
  rmSync(dir, { recursive: true, force: true })
})

const ctx = () =>
  buildVerifyContext({
    store,
    operatorPubkey: keys.operatorPk,
    consolePubkey: keys.consolePk,
    consoleSigner: sc.s.console,
    clock: manualClock(T0 * 1000),
    lookupInvoice: async (h) => sc.wallet.get(h) ?? { found: false },
  })

describe('fleet store', () => {
  it('keeps roster and config history and re-verifies it on load; storing twice is a no-op', async () => {
    expect(await store.call('fleet.storeSignedEvent', { event: sc.rosterEvent, receivedAtMs: 1 })).toEqual({
      inserted: false,
    })
    const drop = await sc.s.operator.signEvent(buildRosterTemplate([], T0 + 100))
    await store.call('fleet.storeSignedEvent', { event: drop, receivedAtMs: 2 })
    const rosters = await loadRosters(store, keys.operatorPk)
    expect(rosters.map((r) => r.members.length)).toEqual([1, 0])
    expect((await loadConfigs(store, keys.operatorPk, keys.atmPk))[0]?.eventId).toBe(sc.configEvent.id)
    expect(await loadConfigs(store, keys.operatorPk, keys.otherPk)).toEqual([])
  })

  it('backs verifyRecord: book, then the same event is a duplicate, a newer version is history', async () => {
    const first = await verifyRecord(sc.event, await ctx())
    if (!first.ok) throw new Error(first.detail)
    expect(first.action).toBe('book')
    await store.call('fleet.recordOutcome', {
      outcome: 'booked',
      event: sc.event,
      record: first.record.record,
      receivedAtMs: 1,
    })
    const again = await verifyRecord(sc.event, await ctx())
    expect(again.ok ? again.action : again.reason).toBe('duplicate_event')
    const v2 = await sc.makeEvent({ createdAt: T0 - 30 })
    const second = await verifyRecord(v2, await ctx())
    expect(second.ok ? second.action : second.reason).toBe('history')
    const otherTx = await sc.makeEvent({ record: { txId: 'tx-000099' } })
    const third = await verifyRecord(otherTx, await ctx())
    expect(third.ok ? third.action : third.reason).toBe('duplicate_payment')
  })

  it('point 13 (addressable events): keeps every version it has seen, also an older one arriving after a newer', async () => {
    // docs/protocol.md §3: a relay keeps only the newest (kind, author, d); the console keeps each version as history.
    const newerRoster = await sc.s.operator.signEvent(buildRosterTemplate([keys.atmPk, keys.otherPk], T0 - 5))
    const olderRoster = await sc.s.operator.signEvent(buildRosterTemplate([keys.atmPk], T0 - 9))
    await store.call('fleet.storeSignedEvent', { event: newerRoster, receivedAtMs: 1 })
    await store.call('fleet.storeSignedEvent', { event: olderRoster, receivedAtMs: 2 })
    expect((await loadRosters(store, keys.operatorPk)).map((r) => r.eventId)).toEqual([
      sc.rosterEvent.id,
      olderRoster.id,
      newerRoster.id,
    ])
    // Two versions of one record (same d): the booked first and a later one, each with its own outcome row.
    const first = await verifyRecord(sc.event, await ctx())
    if (!first.ok) throw new Error(first.detail)
    await store.call('fleet.recordOutcome', {
      outcome: 'booked',
      event: sc.event,
      record: first.record.record,
      receivedAtMs: 3,
    })
    const v2 = await sc.makeEvent({ createdAt: T0 - 30, record: { status: 'partial', fiatDispensedMinor: 5_000n } })
    const second = await verifyRecord(v2, await ctx())
    if (!second.ok) throw new Error(second.detail)
    expect(second.action).toBe('history')
    await store.call('fleet.recordOutcome', {
      outcome: 'history',
      event: v2,
      record: second.record.record,
      receivedAtMs: 4,
    })
    const rows = await store.query<{ event_id: string; outcome: string }>(
      `SELECT event_id, outcome FROM fleet_record_outcome WHERE atm_pubkey = ? AND tx_id = ? ORDER BY id`,
      [keys.atmPk, 'tx-000042'],
    )
    expect(rows).toEqual([
      { event_id: sc.event.id, outcome: 'booked' },
      { event_id: v2.id, outcome: 'history' },
    ])
  })

  it('a retryable rejection is retried, a final one is remembered', async () => {
    await store.call('fleet.recordOutcome', {
      outcome: 'rejected',
      event: sc.event,
      reason: 'wallet_unavailable',
      detail: 'timeout',
      retryable: true,
      receivedAtMs: 1,
    })
    const retry = await verifyRecord(sc.event, await ctx())
    expect(retry.ok && retry.action).toBe('book')
    await store.call('fleet.recordOutcome', {
      outcome: 'rejected',
      event: sc.event,
      reason: 'amount_mismatch',
      detail: 'x',
      retryable: false,
      receivedAtMs: 2,
    })
    const final = await verifyRecord(sc.event, await ctx())
    expect(final.ok ? final.action : final.reason).toBe('duplicate_event')
  })

  it('refuses a second booking of the same payment hash and any edit of history', async () => {
    const rec = { txId: 'tx-000042', paymentHash: PAYMENT_HASH }
    await store.call('fleet.recordOutcome', { outcome: 'booked', event: sc.event, record: rec, receivedAtMs: 1 })
    const v2 = await sc.makeEvent({ createdAt: T0 - 30 })
    await expect(
      store.call('fleet.recordOutcome', { outcome: 'booked', event: v2, record: rec, receivedAtMs: 2 }),
    ).rejects.toThrow(/UNIQUE/)
    await expect(store.transaction([{ sql: 'DELETE FROM fleet_record_outcome' }])).rejects.toThrow(/append-only/)
    await expect(store.transaction([{ sql: "UPDATE fleet_signed_event SET d = 'x'" }])).rejects.toThrow(/append-only/)
  })

  it('stores issued delegations', async () => {
    const d = {
      atmPubkey: keys.atmPk,
      delegatorPubkey: keys.operatorPk,
      conditions: sc.delegation.conditions,
      token: sc.delegation.token,
      createdAfter: 1,
      createdBefore: 2,
      issuedAt: 1,
    }
    await store.call('fleet.recordDelegation', d)
    expect(await loadDelegations(store)).toEqual([d])
  })
})
