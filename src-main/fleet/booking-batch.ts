// Books accepted ATM records in group-committed batches (docs/settlement.md "booking"): while one batch is being
// written, the records verified meanwhile wait, and go together into the next ledger call — ONE SQL transaction,
// ONE journal record, ONE fsync for all of them. `fleet.acceptRecords` runs `fleet.acceptRecord` on each record in
// order inside that transaction, so everything the single procedure guarantees holds per record (a later record of
// the batch sees the earlier ones: the same payment twice in one batch is booked once, the second is
// duplicate_payment). Each caller's promise resolves only when the ledger call returns, and the ledger answers
// only after the fsync that covers the batch: a record is acknowledged exactly when it is durable.
//
// A batch that throws (one bad record aborts the transaction, nothing of it is written) is retried record by
// record, so one bad record costs its batch some speed, never another record's booking. Memory is bounded: the
// fleet service has at most `concurrency` records in flight, and a batch takes at most `maxBatch` of them.
import type { LedgerStore } from '../ledger/types'
import type { AcceptRecordArgs, AcceptRecordResult } from './procedures'

export const DEFAULT_MAX_BOOKING_BATCH = 64

export interface BookingBatcher {
  /** Books one record; resolves after the fsync that covers it. */
  book(args: AcceptRecordArgs): Promise<AcceptRecordResult>
  /** Ledger calls made and records booked through them, to show the batching works. */
  stats(): { calls: number; records: number; fallbacks: number; largestBatch: number }
}

interface Waiting {
  args: AcceptRecordArgs
  resolve: (r: AcceptRecordResult) => void
  reject: (e: unknown) => void
}

export function createBookingBatcher(
  ledger: Pick<LedgerStore, 'call'>,
  opts: { maxBatch?: number } = {},
): BookingBatcher {
  const maxBatch = opts.maxBatch ?? DEFAULT_MAX_BOOKING_BATCH
  if (!Number.isSafeInteger(maxBatch) || maxBatch < 1) throw new RangeError('maxBatch must be at least 1')
  const waiting: Waiting[] = []
  const stats = { calls: 0, records: 0, fallbacks: 0, largestBatch: 0 }
  let writing = false

  async function writeBatch(batch: Waiting[]): Promise<void> {
    stats.calls++
    stats.records += batch.length
    stats.largestBatch = Math.max(stats.largestBatch, batch.length)
    if (batch.length === 1) {
      const w = batch[0]!
      await ledger.call<AcceptRecordResult>('fleet.acceptRecord', w.args).then(w.resolve, w.reject)
      return
    }
    let results: AcceptRecordResult[]
    try {
      results = await ledger.call<AcceptRecordResult[]>('fleet.acceptRecords', { records: batch.map((w) => w.args) })
    } catch {
      // Nothing of the batch was written: each record on its own, so only the bad one fails.
      stats.fallbacks++
      await Promise.all(
        batch.map((w) => ledger.call<AcceptRecordResult>('fleet.acceptRecord', w.args).then(w.resolve, w.reject)),
      )
      return
    }
    for (const [i, w] of batch.entries()) w.resolve(results[i]!)
  }

  const pump = () => {
    if (writing || waiting.length === 0) return
    writing = true
    const batch = waiting.splice(0, maxBatch)
    void writeBatch(batch).finally(() => {
      writing = false
      pump()
    })
  }

  return {
    book(args) {
      return new Promise<AcceptRecordResult>((resolve, reject) => {
        waiting.push({ args, resolve, reject })
        pump()
      })
    },
    stats: () => ({ ...stats }),
  }
}
