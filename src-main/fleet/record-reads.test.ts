// The acceptance pipeline's ledger reads, gathered per event-loop turn (./record-reads.ts), on a real in-process
// ledger: the reads of many records go out as one query per kind, and every answer equals what the one-record
// read of ./store.ts gives (known / booked by hash / booked by ATM transaction, absent ones included). A failing
// query fails exactly the reads it carried.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { memoryLogger } from '../../src-shared/log'
import { type InProcessLedger, openLedgerInProcess } from '../ledger/store'
import type { Procedure } from '../ledger/types'
import { createRecordReads } from './record-reads'
import { bookedByPaymentHash, bookedVersionOf, fleetMigrations, fleetProcedures, isEventKnown } from './store'

let dir: string
let store: InProcessLedger

const hex = (n: number, c: string) => `${c}${n.toString(16).padStart(63, '0')}`
const ATM_A = 'a'.repeat(64)
const ATM_B = 'b'.repeat(64)

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fleet-reads-'))
  store = await openLedgerInProcess({
    dir,
    logger: memoryLogger(),
    autoSnapshot: false,
    migrations: fleetMigrations,
    procedures: new Map(Object.entries(fleetProcedures) as [string, Procedure][]),
  })
  // 30 records of two ATMs: booked, kept as history, rejected for good, rejected retryably.
  for (let i = 0; i < 30; i++) {
    const event = { id: hex(i, 'e'), pubkey: i % 2 ? ATM_A : ATM_B, created_at: 1_700_000_000 + i, kind: 30079 }
    const kind = i % 4
    const record = { txId: `tx-${i}`, paymentHash: hex(i, 'f') }
    if (kind === 0 || kind === 1)
      await store.call('fleet.recordOutcome', {
        outcome: kind === 0 ? 'booked' : 'history',
        event,
        record: kind === 1 ? { ...record, paymentHash: hex(i - 1, 'f') } : record,
        receivedAtMs: 1,
      })
    else
      await store.call('fleet.recordOutcome', {
        outcome: 'rejected',
        event,
        reason: 'payment_not_found',
        detail: 'x',
        retryable: kind === 3,
        receivedAtMs: 1,
      })
  }
})

afterEach(async () => {
  await store.close()
  rmSync(dir, { recursive: true, force: true })
})

describe('record reads gathered per turn', () => {
  it('answer like the one-record reads, with one query per kind of read for the whole turn', async () => {
    const queries: string[] = []
    const counted = {
      query: (sql: string, params?: unknown[]) => {
        queries.push(sql)
        return store.query(sql, params as never)
      },
    }
    const reads = createRecordReads(counted as never)
    const ids = Array.from({ length: 40 }, (_, i) => hex(i, 'e'))
    const hashes = Array.from({ length: 40 }, (_, i) => hex(i, 'f'))
    const pairs = Array.from({ length: 40 }, (_, i) => [i % 2 ? ATM_A : ATM_B, `tx-${i}`] as const)
    const [known, byHash, byTx] = await Promise.all([
      Promise.all(ids.map((id) => reads.isEventKnown(id))),
      Promise.all(hashes.map((h) => reads.bookedByPaymentHash(h))),
      Promise.all(pairs.map(([a, t]) => reads.bookedVersionOf(a, t))),
    ])
    // One query for the known ids, one for the hashes, one per ATM for the transactions.
    expect(queries).toHaveLength(4)
    expect(reads.stats()).toEqual({ queries: 4, reads: 120 })
    expect(known).toEqual(await Promise.all(ids.map((id) => isEventKnown(store, id))))
    expect(byHash).toEqual(await Promise.all(hashes.map((h) => bookedByPaymentHash(store, h))))
    expect(byTx).toEqual(await Promise.all(pairs.map(([a, t]) => bookedVersionOf(store, a, t))))
    // The fixture holds each kind of answer: known and unknown, booked and absent.
    expect(known.filter(Boolean).length).toBeGreaterThan(5)
    expect(known.filter((k) => !k).length).toBeGreaterThan(5)
    expect(byHash.filter((r) => r !== null).length).toBe(8)
    expect(byTx.filter((r) => r !== null).length).toBe(8)
    // A later turn asks again (nothing is remembered between turns).
    await reads.isEventKnown(ids[0]!)
    expect(queries).toHaveLength(5)
  })

  it('a failing query fails the reads it carried, and only those', async () => {
    let fail = true
    const flaky = {
      query: (sql: string, params?: unknown[]) =>
        fail && sql.includes('payment_hash IN')
          ? Promise.reject(new Error('disk gone'))
          : store.query(sql, params as never),
    }
    const reads = createRecordReads(flaky as never)
    const [k, h] = await Promise.allSettled([reads.isEventKnown(hex(0, 'e')), reads.bookedByPaymentHash(hex(0, 'f'))])
    expect(k).toEqual({ status: 'fulfilled', value: true })
    expect(h).toMatchObject({ status: 'rejected', reason: { message: 'disk gone' } })
    fail = false
    expect(await reads.bookedByPaymentHash(hex(0, 'f'))).toMatchObject({ txId: 'tx-0' })
  })
})
