// The fleet service's ledger procedures: cursor only moves forward, a machine config becomes the accounting
// machine + fee config, a record books exactly once (replays and concurrent duplicates are refused inside the
// transaction), retryable rejections are stored once per reason, and the cursor store holds below in-flight work.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { manualClock } from '../../src-shared/clock'
import { memoryLogger } from '../../src-shared/log'
import { claimedRatesMismatch } from '../../src-shared/nostr/verify-record'
import { keys, PAYMENT_HASH, type Scenario, scenario, T0 } from '../../test/support/fleet-fixture'
import '../ledger/registry'
import { type InProcessLedger, openLedgerInProcess } from '../ledger/store'
import { createLedgerCursorStore } from './cursor-store'
import type { AcceptRecordResult } from './procedures'

let dir: string
let store: InProcessLedger
let sc: Scenario

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fleet-procs-'))
  store = await openLedgerInProcess({ dir, logger: memoryLogger(), autoSnapshot: false })
  sc = await scenario(false)
  await store.call('fleet.storeRoster', { event: sc.rosterEvent, operatorPubkey: keys.operatorPk, receivedAtMs: 1 })
  await store.call('fleet.applyMachineConfig', {
    event: sc.configEvent,
    operatorPubkey: keys.operatorPk,
    timeZone: 'Europe/Berlin',
    receivedAtMs: 1,
  })
})

afterEach(async () => {
  await store.close()
  rmSync(dir, { recursive: true, force: true })
})

const accept = (event = sc.event, over: Record<string, unknown> = {}) =>
  store.call<AcceptRecordResult>('fleet.acceptRecord', {
    event,
    txId: sc.record.txId,
    machineId: sc.record.machineId,
    direction: 'cash_out',
    paymentHash: PAYMENT_HASH,
    wireMsat: '21000000',
    fiatMinor: '10000',
    fiatRequestedMinor: '10000',
    currency: 'EUR',
    claimedFeeMsat: sc.record.feeMsat.toString(),
    action: 'book',
    atMs: T0 * 1000,
    ...over,
  })

describe('fleet procedures', () => {
  it('a machine config becomes the accounting machine and its fee config from created_at', async () => {
    const [m] = await store.query('SELECT id, currency FROM acct_machine')
    expect(m).toEqual({ id: 'atm-berlin-01', currency: 'EUR' })
    const [c] = await store.query('SELECT effective_from_ms, cash_out_operator_ppm, time_zone FROM acct_config')
    expect(c).toEqual({
      effective_from_ms: sc.config.createdAt * 1000,
      cash_out_operator_ppm: 50_000,
      time_zone: 'Europe/Berlin',
    })
    // The same event again changes nothing.
    const again = await store.call<{ inserted: boolean }>('fleet.applyMachineConfig', {
      event: sc.configEvent,
      operatorPubkey: keys.operatorPk,
      timeZone: 'UTC',
      receivedAtMs: 2,
    })
    expect(again.inserted).toBe(false)
    expect(await store.query('SELECT seq FROM acct_config')).toHaveLength(1)
  })

  it('point 5: claimed fee fractions that differ from the signed config book the settlement flagged, with a note', async () => {
    const text = claimedRatesMismatch({ direction: 'cash_out', feePpm: 90_000, discountPpm: 0 }, sc.config)
    expect(text).toMatch(/feePpm 90000 but the signed config says \d+ for cash_out/)
    const r = await accept(sc.event, { ratesMismatch: text })
    expect(r).toMatchObject({ status: 'booked', feeMismatchFlagged: true })
    const notes = await store.query<{ text: string; system: number }>('SELECT text, system FROM acct_note')
    expect(notes).toEqual([{ text, system: 1 }])
    // The same fractions as the config: nothing to flag.
    const f = sc.config.fees.cash_out
    expect(
      claimedRatesMismatch(
        { direction: 'cash_out', feePpm: f.platformPpm + f.operatorPpm, discountPpm: sc.config.discountPpm },
        sc.config,
      ),
    ).toBeNull()
    expect(claimedRatesMismatch({ direction: 'cash_in', feePpm: 0, discountPpm: 7 }, sc.config)).toMatch(
      /discountPpm 7 but the signed config says/,
    )
  })

  it('refuses a config not signed by the operator, naming the field', async () => {
    await expect(
      store.call('fleet.applyMachineConfig', {
        event: sc.configEvent,
        operatorPubkey: keys.otherPk,
        timeZone: 'UTC',
        receivedAtMs: 1,
      }),
    ).rejects.toThrow(/event: pubkey/)
  })

  it('books once: the same event is a duplicate, another event for the payment is a duplicate_payment', async () => {
    const first = await accept()
    expect(first).toMatchObject({ status: 'booked', feeMismatchFlagged: false })
    expect(await accept()).toEqual({ status: 'duplicate' })
    const other = await sc.makeEvent({ record: { txId: 'tx-replay' } })
    expect(await accept(other, { txId: 'tx-replay' })).toMatchObject({
      status: 'rejected',
      reason: 'duplicate_payment',
    })
    // A later version of the same transaction is history.
    const v2 = await sc.makeEvent({ createdAt: T0 - 30 })
    expect(await accept(v2)).toEqual({ status: 'history' })
    const rows = await store.query<{ n: number }>(`SELECT COUNT(*) AS n FROM acct_settlement`)
    expect(rows[0]!.n).toBe(1)
  })

  it('concurrent offers of two versions book exactly one', async () => {
    const v2 = await sc.makeEvent({ createdAt: T0 - 30 })
    const results = await Promise.all([accept(), accept(v2)])
    expect(results.map((r) => r.status).sort()).toEqual(['booked', 'history'])
  })

  it('a batch books in one transaction and one journal record, each record judged after the ones before it', async () => {
    const args = (event: typeof sc.event, txId: string, paymentHash = PAYMENT_HASH) => ({
      event,
      txId,
      machineId: sc.record.machineId,
      direction: 'cash_out',
      paymentHash,
      wireMsat: '21000000',
      fiatMinor: '10000',
      fiatRequestedMinor: '10000',
      currency: 'EUR',
      claimedFeeMsat: sc.record.feeMsat.toString(),
      action: 'book',
      atMs: T0 * 1000,
    })
    const replay = await sc.makeEvent({ record: { txId: 'tx-replay' } })
    const seqBefore = (await store.status()).seq
    const results = await store.call<AcceptRecordResult[]>('fleet.acceptRecords', {
      records: [args(sc.event, sc.record.txId), args(sc.event, sc.record.txId), args(replay, 'tx-replay')],
    })
    expect(results.map((r) => r.status)).toEqual(['booked', 'duplicate', 'rejected'])
    expect(results[2]).toMatchObject({ reason: 'duplicate_payment' })
    expect((await store.status()).seq).toBe(seqBefore + 1)
    // One bad record aborts the whole batch: nothing of it is written.
    const third = await sc.makeEvent({ record: { txId: 'tx-third' } })
    await expect(
      store.call('fleet.acceptRecords', {
        records: [args(third, 'tx-third', 'ab'.repeat(32)), { ...args(third, 'tx-x'), atMs: 'soon' }],
      }),
    ).rejects.toThrow(/atMs/)
    expect(await store.query(`SELECT 1 FROM fleet_record_outcome WHERE event_id = ?`, [third.id])).toEqual([])
    await expect(store.call('fleet.acceptRecords', { records: [] })).rejects.toThrow(/records/)
  })

  it('stores a retryable rejection once per reason, a final one always', async () => {
    const args = (reason: string, retryable: boolean) => ({
      event: sc.event,
      reason,
      detail: 'd',
      retryable,
      atMs: 5,
    })
    expect(await store.call('fleet.rejectRecord', args('payment_not_found', true))).toEqual({ stored: true })
    expect(await store.call('fleet.rejectRecord', args('payment_not_found', true))).toEqual({ stored: false })
    expect(await store.call('fleet.rejectRecord', args('wallet_unavailable', true))).toEqual({ stored: true })
    expect(await store.call('fleet.rejectRecord', args('amount_mismatch', false))).toEqual({ stored: true })
    expect(await store.call('fleet.rejectRecord', args('amount_mismatch', false))).toEqual({ stored: false })
  })

  it('cursor: never moves back; the hold keeps it below the oldest record in flight', async () => {
    const clock = manualClock(T0 * 1000)
    const cs = createLedgerCursorStore(() => store, { clock })
    await cs.set('fleet-records@ws://a', 100)
    await cs.set('fleet-records@ws://a', 90)
    expect(await cs.get('fleet-records@ws://a')).toBe(100)
    let inFlight: number | undefined = 150
    cs.setHold('fleet-records@', () => inFlight)
    await cs.set('fleet-records@ws://a', 200)
    expect(await cs.get('fleet-records@ws://a')).toBe(149)
    await cs.set('fleet-operator@ws://a', 200)
    expect(await cs.get('fleet-operator@ws://a')).toBe(200)
    inFlight = undefined
    await cs.set('fleet-records@ws://a', 200)
    expect(await cs.get('fleet-records@ws://a')).toBe(200)
    expect(await cs.get('unknown')).toBeUndefined()
  })
})
