// The acceptance pipeline's ledger reads (docs/protocol.md §9, steps 4 and 14: "already processed?", "payment hash
// already booked?", "this ATM transaction already booked?"), gathered across records. Each read was one round trip
// to the ledger worker per record — three per record, each a message each way and a statement in the worker. The
// reads asked while one turn of the event loop runs (a catch-up verifies dozens of records per turn) are sent
// together at the end of that turn: one query per kind of read, with an IN list, whatever the number of records.
//
// The answers are the same as one query per record: each read sees the ledger as it is when its batch runs, never
// a remembered answer (nothing is cached between batches). The booking procedure re-checks every one of them inside
// its own transaction anyway (./procedures.ts); these reads only sort records early.
import type { BookedRef } from '../../src-shared/nostr/verify-record'
import type { LedgerStore, Row } from '../ledger/types'

/** Values per statement: well below SQLite's limit on bound parameters. */
const CHUNK = 400

type BookedRow = { event_id: string; atm_pubkey: string; tx_id: string; payment_hash: string }
const toRef = (r: BookedRow): BookedRef => ({
  eventId: r.event_id,
  atmPubkey: r.atm_pubkey,
  txId: r.tx_id,
  paymentHash: r.payment_hash,
})

interface Pending<K, V> {
  key: K
  resolve: (v: V) => void
  reject: (e: unknown) => void
}

export interface RecordReads {
  /** True when the event reached a final outcome (booked, history, or a non-retryable rejection). */
  isEventKnown(eventId: string): Promise<boolean>
  /** The booked settlement for this payment hash, or null. */
  bookedByPaymentHash(paymentHash: string): Promise<BookedRef | null>
  /** The booked settlement of this ATM transaction (same author, same txId), or null. */
  bookedVersionOf(atmPubkey: string, txId: string): Promise<BookedRef | null>
  /** Ledger queries sent and reads answered through them, to show the batching works. */
  stats(): { queries: number; reads: number }
}

export function createRecordReads(ledger: Pick<LedgerStore, 'query'>): RecordReads {
  let known: Pending<string, boolean>[] = []
  let byHash: Pending<string, BookedRef | null>[] = []
  let byTx: Pending<{ atm: string; txId: string }, BookedRef | null>[] = []
  let scheduled = false
  const stats = { queries: 0, reads: 0 }

  const query = async <T extends Row>(sql: string, params: (string | number)[]): Promise<T[]> => {
    stats.queries++
    return ledger.query<T>(sql, params)
  }

  /** Runs `fetch` over the distinct keys in chunks and answers every waiter; a failed chunk fails its waiters. */
  async function answer<K, V>(
    batch: Pending<K, V>[],
    keyOf: (k: K) => string,
    fetch: (keys: K[]) => Promise<Map<string, V>>,
    absent: V,
  ): Promise<void> {
    const distinct = new Map<string, K>()
    for (const p of batch) distinct.set(keyOf(p.key), p.key)
    const keys = [...distinct.values()]
    for (let i = 0; i < keys.length; i += CHUNK) {
      const chunk = keys.slice(i, i + CHUNK)
      const mine = new Set(chunk.map(keyOf))
      const waiting = batch.filter((p) => mine.has(keyOf(p.key)))
      try {
        const found = await fetch(chunk)
        for (const p of waiting) p.resolve(found.get(keyOf(p.key)) ?? absent)
      } catch (e) {
        for (const p of waiting) p.reject(e)
      }
    }
  }

  const marks = (n: number) => Array.from({ length: n }, () => '?').join(', ')

  function flush(): void {
    scheduled = false
    const k = known
    const h = byHash
    const t = byTx
    known = []
    byHash = []
    byTx = []
    stats.reads += k.length + h.length + t.length
    if (k.length > 0)
      void answer(
        k,
        (id) => id,
        async (ids) => {
          const rows = await query<{ event_id: string }>(
            `SELECT DISTINCT event_id FROM fleet_record_outcome
             WHERE event_id IN (${marks(ids.length)}) AND (outcome != 'rejected' OR retryable = 0)`,
            ids,
          )
          return new Map(rows.map((r) => [r.event_id, true]))
        },
        false,
      )
    if (h.length > 0)
      void answer(
        h,
        (hash) => hash,
        async (hashes) => {
          const rows = await query<BookedRow>(
            `SELECT event_id, atm_pubkey, tx_id, payment_hash FROM fleet_record_outcome
             WHERE outcome = 'booked' AND payment_hash IN (${marks(hashes.length)})`,
            hashes,
          )
          return new Map(rows.map((r) => [r.payment_hash, toRef(r)]))
        },
        null,
      )
    if (t.length > 0)
      void answer(
        t,
        (p) => `${p.atm}\u0000${p.txId}`,
        async (pairs) => {
          // One statement per ATM in the batch (a catch-up batch is mostly one ATM), each on the (atm, tx) index.
          const byAtm = new Map<string, string[]>()
          for (const p of pairs) byAtm.set(p.atm, [...(byAtm.get(p.atm) ?? []), p.txId])
          const out = new Map<string, BookedRef | null>()
          for (const [atm, txIds] of byAtm) {
            const rows = await query<BookedRow>(
              `SELECT event_id, atm_pubkey, tx_id, payment_hash FROM fleet_record_outcome
               WHERE outcome = 'booked' AND atm_pubkey = ? AND tx_id IN (${marks(txIds.length)})`,
              [atm, ...txIds],
            )
            for (const r of rows) out.set(`${r.atm_pubkey}\u0000${r.tx_id}`, toRef(r))
          }
          return out
        },
        null,
      )
  }

  function later<K, V>(list: Pending<K, V>[], key: K): Promise<V> {
    return new Promise<V>((resolve, reject) => {
      list.push({ key, resolve, reject })
      if (!scheduled) {
        scheduled = true
        // After this turn: the records verified in it ask together.
        setImmediate(flush)
      }
    })
  }

  return {
    isEventKnown: (id) => later(known, id),
    bookedByPaymentHash: (hash) => later(byHash, hash),
    bookedVersionOf: (atm, txId) => later(byTx, { atm, txId }),
    stats: () => ({ ...stats }),
  }
}
