// Payment confirmations for the record pipeline, in batches (docs/pipeline.md, "Confirming payments"): the
// acceptance check (src-shared/nostr/verify-record.ts, step 13) needs the operator wallet to confirm each
// record's payment. One `lookup_invoice` round trip per record made catch-up run at the speed of the wallet, not
// of signature checks. Here the wallet is asked in bulk instead:
//   - catching up: `list_transactions` over the window of created_at the record falls in (pages of `pageLimit`,
//     a few pages in parallel), once per window;
//   - a backlog whose window is still open (the console was down for minutes): misses gathered in one event-loop
//     turn share one bulk fetch when there are enough of them (`openBatchMin`);
//   - live: NIP-47 `payment_received` / `payment_sent` notifications, fed in by the fleet feature;
// so a record normally finds its payment already known; a miss asks `lookup_invoice` for that one hash (and
// concurrent misses for the same hash share one request).
//
// Trust: a batch entry is a claim by the same wallet that `lookup_invoice` asks, and gets the same checks. It is
// only kept when settled with a 32-byte preimage whose sha256 is the payment hash; what the record must match
// (settled, exact amount, sha256(preimage) = payment hash) is then checked again by the verifier on every answer,
// cached or not. Each answer carries the transaction's `type` ('incoming' | 'outgoing'), so the direction rule
// (a cash-out names a settled incoming invoice, a cash-in an outgoing payment) can use it. An entry that is not
// settled is never cached: "not settled yet" must be asked again, never remembered.
//
// Memory is bounded: at most `maxEntries` confirmations (oldest evicted first; an evicted one is simply looked up
// again) and `maxWindows` remembered windows. A window that is not yet closed (it ends less than `liveSlackSec`
// before now) may still receive payments: a record in it that is itself older than the slack is backlog and has
// the window fetched once, up to now (a later miss there is looked up alone); a live record (younger than the
// slack) uses notifications and lookups, or a capped bulk fetch when many misses of it arrive at once.
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js'
import type { Clock } from '../../src-shared/clock'
import { nowSec, systemClock } from '../../src-shared/clock'
import type { Logger } from '../../src-shared/log'
import type { ListTransactionsParams, Nip47Transaction } from '../../src-shared/nostr/nip47'
import type { InvoiceLookup } from '../../src-shared/nostr/verify-record'

/** What the verifier gets: the InvoiceLookup, plus the direction of the payment when the wallet said it. */
export type PaymentConfirmation = InvoiceLookup & { type?: 'incoming' | 'outgoing' }

/** The wallet calls used: `lookup_invoice` always; `list_transactions` when the connection allows it. */
export interface ConfirmationWallet {
  lookupInvoice(params: { paymentHash: string }): Promise<Nip47Transaction>
  listTransactions?(params: ListTransactionsParams): Promise<Nip47Transaction[]>
}

export interface PaymentConfirmationsOptions {
  wallet: ConfirmationWallet
  log: Logger
  clock?: Clock
  /** Confirmations kept in memory. Default 50,000. */
  maxEntries?: number
  /** Windows remembered as fetched. Default 4096. */
  maxWindows?: number
  /** Width of one catch-up window, in seconds of record created_at. Default 900. */
  windowSec?: number
  /** How far before a window its invoices may have been created (invoice made at quote time). Default 3600. */
  invoiceLeadSec?: number
  /** A window must have ended this long ago to be fetched in bulk. Default 120. */
  liveSlackSec?: number
  /** `limit` of one list_transactions page (NIP-44 caps a reply near 64 KiB: keep pages small). Default 50. */
  pageLimit?: number
  /** Pages fetched in parallel. Default 4. */
  pageConcurrency?: number
  /** Pages at most per window; beyond that the rest is looked up one by one. Default 1000. */
  maxPagesPerWindow?: number
  /**
   * Misses in a window that is still open, gathered in one turn of the event loop, from which one bulk fetch is
   * cheaper than single lookups. Default 8. A live record arrives alone and is looked up; a backlog being caught up
   * arrives many at a time (the pipeline verifies records concurrently) and is fetched in bulk.
   */
  openBatchMin?: number
}

export interface PaymentConfirmationStats {
  /** Answers served from a batch or a notification. */
  hits: number
  /** Single lookup_invoice requests sent. */
  lookups: number
  /** list_transactions pages fetched. */
  pages: number
  windows: number
  /** Batch or notification entries refused (not settled, bad preimage). */
  refused: number
  size: number
}

export interface PaymentConfirmations {
  /** The wallet's answer for this payment hash; `createdAtSec` (the record's) picks the window to fetch. */
  confirm(paymentHash: string, createdAtSec?: number): Promise<PaymentConfirmation>
  /** Adds a transaction the wallet reported (notification); kept only when it passes the checks. */
  note(tx: Nip47Transaction): boolean
  stats(): PaymentConfirmationStats
}

const HEX64 = /^[0-9a-f]{64}$/

/** Maps a NIP-47 transaction to the verifier's view (found, settled, amount, preimage, settled at, direction). */
export function confirmationOf(tx: Nip47Transaction): PaymentConfirmation {
  return {
    found: true,
    settled: tx.state === 'settled',
    amountMsat: tx.amountMsat,
    preimage: tx.preimage,
    settledAt: tx.settledAtSec,
    type: tx.type,
  }
}

/** Why a wallet-reported transaction may not be cached, or null when it may. */
export function refuseReason(tx: Nip47Transaction): string | null {
  if (tx.state !== 'settled') return `state ${tx.state}`
  if (typeof tx.paymentHash !== 'string' || !HEX64.test(tx.paymentHash)) return 'payment hash is not 32-byte hex'
  if (tx.preimage === null || !HEX64.test(tx.preimage)) return 'no 32-byte preimage'
  if (bytesToHex(sha256(hexToBytes(tx.preimage))) !== tx.paymentHash) return 'sha256(preimage) is not the hash'
  if (typeof tx.amountMsat !== 'bigint' || tx.amountMsat <= 0n) return 'amount is not positive'
  if (tx.type !== 'incoming' && tx.type !== 'outgoing') return 'no direction'
  return null
}

export function createPaymentConfirmations(opts: PaymentConfirmationsOptions): PaymentConfirmations {
  const log = opts.log
  const clock = opts.clock ?? systemClock
  const maxEntries = opts.maxEntries ?? 50_000
  const maxWindows = opts.maxWindows ?? 4096
  const windowSec = opts.windowSec ?? 900
  const leadSec = opts.invoiceLeadSec ?? 3600
  const liveSlackSec = opts.liveSlackSec ?? 120
  const pageLimit = opts.pageLimit ?? 50
  const pageConcurrency = opts.pageConcurrency ?? 4
  const maxPages = opts.maxPagesPerWindow ?? 1000
  const openBatchMin = opts.openBatchMin ?? 8
  const cache = new Map<string, PaymentConfirmation>()
  /** Window index → its fetch (settled: done, failed or not). Insertion-ordered for eviction. */
  const windows = new Map<number, Promise<void>>()
  const lookupsInFlight = new Map<string, Promise<PaymentConfirmation>>()
  const stats = { hits: 0, lookups: 0, pages: 0, windows: 0, refused: 0 }
  /** Misses of open windows waiting for the end of this event-loop turn. */
  let openMisses: { createdAtSec: number; settle: () => void }[] = []
  /** Up to which record created_at (exclusive) an open-range bulk fetch has already been made. */
  let openCoveredUntilSec = 0
  let bulkAllowed = typeof opts.wallet.listTransactions === 'function'

  function note(tx: Nip47Transaction): boolean {
    const why = refuseReason(tx)
    if (why !== null) {
      stats.refused++
      log.debug('wallet transaction not cached', { paymentHash: String(tx.paymentHash), reason: why })
      return false
    }
    cache.delete(tx.paymentHash)
    cache.set(tx.paymentHash, confirmationOf(tx))
    while (cache.size > maxEntries) cache.delete(cache.keys().next().value as string)
    return true
  }

  function fetchWindow(index: number): Promise<void> {
    return fetchRange(Math.max(0, index * windowSec - leadSec), (index + 1) * windowSec)
  }

  /**
   * Fetches the wallet transactions created in [fromSec, untilSec] in pages (newest first, as NIP-47 lists them)
   * and keeps those that pass; at most `pageCap` pages.
   */
  async function fetchRange(fromSec: number, untilSec: number, pageCap = maxPages): Promise<void> {
    const list = opts.wallet.listTransactions
    if (!list) return
    let offset = 0
    let done = false
    let pages = 0
    let kept = 0
    while (!done && pages < pageCap) {
      // The first page alone (most windows fit in one), then a few pages at a time.
      const width = pages === 0 ? 1 : Math.min(pageConcurrency, pageCap - pages)
      const batch = Array.from({ length: width }, (_, i) => offset + i * pageLimit)
      offset += batch.length * pageLimit
      const answers = await Promise.all(
        batch.map((o) => list.call(opts.wallet, { fromSec, untilSec, limit: pageLimit, offset: o })),
      )
      for (const txs of answers) {
        pages++
        stats.pages++
        for (const tx of txs) if (note(tx)) kept++
        if (txs.length < pageLimit) done = true
      }
    }
    stats.windows++
    if (!done && pageCap === maxPages)
      log.warn('list_transactions window still full after the page cap; the rest is looked up one by one', {
        fromSec,
        untilSec,
        pages,
      })
    log.debug('payment window fetched', { fromSec, untilSec, pages, kept })
  }

  /** A failed bulk fetch: a connection without list_transactions stops bulk; anything else falls back once. */
  function bulkFailed(e: unknown, forget: () => void): void {
    const code = (e as { code?: unknown }).code
    // A connection without list_transactions: stop asking; every record is looked up on its own.
    if (code === 'RESTRICTED' || code === 'NOT_IMPLEMENTED') {
      bulkAllowed = false
      log.warn('the operator wallet refuses list_transactions; confirming payments one by one', { code })
    } else {
      // Forget the fetch so a later record asks again; this one falls back to lookup_invoice.
      forget()
      log.warn('list_transactions failed; falling back to lookup_invoice', { reason: (e as Error)?.message })
    }
  }

  /**
   * A miss whose window is still open. Misses gathered in one event-loop turn are answered together: when there are
   * at least `openBatchMin` of them and some were made after the last open-range fetch, one bulk fetch over
   * [oldest created_at − lead, now] serves them all (the payments of a backlog were settled before its records
   * were published); otherwise each is looked up on its own. Resolves when the caller should look in the cache.
   */
  function openWindowMiss(createdAtSec: number): Promise<void> {
    return new Promise<void>((settle) => {
      openMisses.push({ createdAtSec, settle })
      if (openMisses.length === 1) setImmediate(flushOpenMisses)
    })
  }

  function flushOpenMisses(): void {
    const batch = openMisses
    openMisses = []
    const fresh = batch.filter((m) => m.createdAtSec >= openCoveredUntilSec)
    if (!bulkAllowed || batch.length < openBatchMin || fresh.length === 0) {
      for (const m of batch) m.settle()
      return
    }
    const fromSec = Math.max(0, Math.min(...fresh.map((m) => m.createdAtSec)) - leadSec)
    const untilSec = nowSec(clock)
    const previous = openCoveredUntilSec
    // Records made up to a second before the fetch starts are covered by it; later ones may need another.
    openCoveredUntilSec = Math.max(openCoveredUntilSec, untilSec - 1)
    // The range reaches an invoice lead (an hour) back, and may hold thousands of older payments; the misses'
    // own payments were settled just before their records, so they are on the first pages (newest first). A few
    // pages per miss batch answer them; reading the whole hour would make live records wait for all of it. What
    // the capped fetch does not hold is looked up alone.
    const pageCap = Math.min(maxPages, Math.ceil((2 * batch.length) / pageLimit) + 1)
    fetchRange(fromSec, untilSec, pageCap)
      .catch((e: unknown) =>
        bulkFailed(e, () => {
          openCoveredUntilSec = previous
        }),
      )
      .finally(() => {
        for (const m of batch) m.settle()
      })
  }

  function ensureWindow(createdAtSec: number): Promise<void> | null {
    if (!bulkAllowed) return null
    const index = Math.floor(createdAtSec / windowSec)
    const now = nowSec(clock)
    const open = (index + 1) * windowSec > now - liveSlackSec
    // A record of a window that is still open, but itself older than the live slack, is backlog (the console was
    // down, or is catching up the last minutes): its payment settled before it was made, so the window as it
    // stands now holds it. The window is fetched once, up to now; a later record of the same window that misses
    // (its payment came after that fetch) is looked up on its own — live records normally have a notification.
    // Only records younger than the slack take the open-window path (gathered misses, capped pages).
    if (open && createdAtSec >= now - liveSlackSec) return openWindowMiss(createdAtSec)
    let p = windows.get(index)
    if (!p) {
      p = (open ? fetchRange(Math.max(0, index * windowSec - leadSec), now) : fetchWindow(index)).catch((e: unknown) =>
        bulkFailed(e, () => windows.delete(index)),
      )
      windows.set(index, p)
      while (windows.size > maxWindows) windows.delete(windows.keys().next().value as number)
    }
    return p
  }

  function lookupOne(paymentHash: string): Promise<PaymentConfirmation> {
    let p = lookupsInFlight.get(paymentHash)
    if (p) return p
    stats.lookups++
    p = (async (): Promise<PaymentConfirmation> => {
      let tx: Nip47Transaction
      try {
        tx = await opts.wallet.lookupInvoice({ paymentHash })
      } catch (e) {
        if ((e as { code?: unknown }).code === 'NOT_FOUND') return { found: false }
        throw e
      }
      // A settled answer that passes the checks is remembered for a re-delivery of the same record.
      if (refuseReason(tx) === null) note(tx)
      return confirmationOf(tx)
    })().finally(() => lookupsInFlight.delete(paymentHash))
    lookupsInFlight.set(paymentHash, p)
    return p
  }

  return {
    async confirm(paymentHash, createdAtSec) {
      const known = cache.get(paymentHash)
      if (known) {
        stats.hits++
        return known
      }
      if (createdAtSec !== undefined && Number.isSafeInteger(createdAtSec)) {
        const w = ensureWindow(createdAtSec)
        if (w) {
          await w
          const fetched = cache.get(paymentHash)
          if (fetched) {
            stats.hits++
            return fetched
          }
        }
      }
      return lookupOne(paymentHash)
    },
    note,
    stats: () => ({ ...stats, size: cache.size }),
  }
}
