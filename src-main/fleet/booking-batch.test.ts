// Bookings that arrive while one is being written go together into the next ledger call; each caller is answered
// only when that call returns (the ledger answers after its fsync); a failed batch is retried record by record.
import { describe, expect, it } from 'vitest'
import { createBookingBatcher } from './booking-batch'
import type { AcceptRecordArgs, AcceptRecordResult } from './procedures'

/** A ledger whose calls complete only when the test says so. */
function fakeLedger(failBatchesWith?: (records: AcceptRecordArgs[]) => Error | null) {
  const calls: { procedure: string; args: unknown; done: (v?: unknown) => void; fail: (e: Error) => void }[] = []
  return {
    calls,
    call<R>(procedure: string, args?: unknown): Promise<R> {
      return new Promise<R>((resolve, reject) => {
        const answer = (): unknown => {
          if (procedure === 'fleet.acceptRecord') return bookedFor(args as AcceptRecordArgs)
          const records = (args as { records: AcceptRecordArgs[] }).records
          const err = failBatchesWith?.(records)
          if (err) throw err
          return records.map(bookedFor)
        }
        calls.push({
          procedure,
          args,
          done: () => {
            try {
              resolve(answer() as R)
            } catch (e) {
              reject(e)
            }
          },
          fail: reject,
        })
      })
    },
  }
}
const bookedFor = (a: AcceptRecordArgs): AcceptRecordResult => ({
  status: 'booked',
  settlementId: Number(a.txId.slice(3)),
  feeMismatchFlagged: false,
})
const rec = (n: number) => ({ txId: `tx-${n}` }) as AcceptRecordArgs
const flush = () => new Promise((r) => setImmediate(r))

describe('booking batches', () => {
  it('the first record goes alone; those that arrive meanwhile share the next call', async () => {
    const ledger = fakeLedger()
    const b = createBookingBatcher(ledger)
    const answered: number[] = []
    const p = [1, 2, 3, 4].map((n) =>
      b.book(rec(n)).then((r) => answered.push(r.status === 'booked' ? r.settlementId : -1)),
    )
    expect(ledger.calls.map((c) => c.procedure)).toEqual(['fleet.acceptRecord'])
    ledger.calls[0]!.done()
    await flush()
    expect(answered).toEqual([1]) // acknowledged only once its call returned
    expect(ledger.calls.map((c) => c.procedure)).toEqual(['fleet.acceptRecord', 'fleet.acceptRecords'])
    expect((ledger.calls[1]!.args as { records: AcceptRecordArgs[] }).records.map((r) => r.txId)).toEqual([
      'tx-2',
      'tx-3',
      'tx-4',
    ])
    expect(answered).toEqual([1])
    ledger.calls[1]!.done()
    await Promise.all(p)
    expect(answered).toEqual([1, 2, 3, 4])
    expect(b.stats()).toEqual({ calls: 2, records: 4, fallbacks: 0, largestBatch: 3 })
  })

  it('takes at most maxBatch records per call', async () => {
    const ledger = fakeLedger()
    const b = createBookingBatcher(ledger, { maxBatch: 2 })
    const p = [1, 2, 3, 4, 5].map((n) => b.book(rec(n)))
    for (let i = 0; i < 3; i++) {
      ledger.calls[i]!.done()
      await flush()
    }
    expect(ledger.calls.map((c) => (c.args as { records?: unknown[] }).records?.length ?? 1)).toEqual([1, 2, 2])
    await Promise.all(p)
    expect(() => createBookingBatcher(ledger, { maxBatch: 0 })).toThrow(/maxBatch/)
  })

  it('a batch that throws is retried record by record: only the bad record fails', async () => {
    const ledger = fakeLedger(() => new Error('args.atMs: must be an integer'))
    const b = createBookingBatcher(ledger)
    const first = b.book(rec(1))
    const rest = [2, 3].map((n) => b.book(rec(n)))
    ledger.calls[0]!.done()
    await first
    await flush()
    ledger.calls[1]!.done() // the batch of 2 and 3 fails
    await flush()
    expect(ledger.calls.slice(2).map((c) => c.procedure)).toEqual(['fleet.acceptRecord', 'fleet.acceptRecord'])
    ledger.calls[2]!.done()
    ledger.calls[3]!.fail(new Error('bad record 3'))
    await expect(rest[0]).resolves.toMatchObject({ status: 'booked', settlementId: 2 })
    await expect(rest[1]).rejects.toThrow(/bad record 3/)
    expect(b.stats().fallbacks).toBe(1)
  })
})
