// The fleet service (docs/protocol.md; docs/protocol.md §5–§9): follows the operator's roster (kind 30000) and machine
// configs (kind 30078) and the ATM records addressed to the console key (kind 30079, `#p` = console pubkey)
// through the relay pool, runs every record through the acceptance pipeline (src-shared/nostr/verify-record.ts)
// and hands each verified record to the settlement side through ONE interface, `onAccepted`. Rejected records
// are stored with their reason code and logged; nothing is paid for them.
//
// Exactly once: the pool delivers each verified event once per subscription; events already final in the ledger
// are `duplicate_event`; the booking procedure re-checks the payment hash inside its transaction; and the unique
// indexes of the ledger are the last guard. Nothing is lost: the persisted relay cursor never passes a record
// still in flight (see ./cursor-store.ts), and retryable rejections (no roster yet, wallet down, payment not yet
// settled) are kept and tried again, also after a restart (their raw event is in the ledger).
//
// Plain Node: the pool, the wallet, the console key's signer, the ledger and the clock are injected.
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js'
import type { Clock } from '../../src-shared/clock'
import { nowSec } from '../../src-shared/clock'
import type { FleetMachineView, RejectedRecordView } from '../../src-shared/ipc/contract'
import type { Logger } from '../../src-shared/log'
import type { NostrEvent, SchnorrVerify } from '../../src-shared/nostr/event'
import {
  D_FLEET_ROSTER,
  D_MACHINE_PREFIX,
  KIND_APP_DATA,
  KIND_ATM_RECORD,
  KIND_FOLLOW_SET,
} from '../../src-shared/nostr/kinds'
import {
  configAt,
  latestConfig,
  type MachineConfig,
  parseMachineConfigEvent,
} from '../../src-shared/nostr/machine-config'
import { DelegationTokenMemo } from '../../src-shared/nostr/nip26'
import type { Nip47Transaction } from '../../src-shared/nostr/nip47'
import { membershipAt, parseRosterEvent, type Roster, rosterAt } from '../../src-shared/nostr/roster'
import {
  type BookedRef,
  claimedRatesMismatch,
  type RejectReason,
  type VerifiedRecord,
  type VerifyRecordContext,
  verifyRecord,
} from '../../src-shared/nostr/verify-record'
import type { Signer } from '../../src-shared/signer'
import type { LedgerStore } from '../ledger/types'
import { isVerifiedFrozen } from '../nostr/event-verifier'
import type { Filter, PoolSubscription, SubscriptionSpec } from '../nostr/relay-pool'
import { createBookingBatcher } from './booking-batch'
import type { LedgerCursorStore } from './cursor-store'
import {
  type ConfirmationWallet,
  confirmationOf,
  createPaymentConfirmations,
  type PaymentConfirmation,
  type PaymentConfirmations,
} from './payment-confirmations'
import type { AcceptRecordArgs, AcceptRecordResult } from './procedures'
import { createRecordReads } from './record-reads'
import { loadConfigs, loadRosters } from './store'

/** The part of the relay pool the service uses. */
export interface FleetPool {
  subscribe(spec: SubscriptionSpec): PoolSubscription
  /** The pool's verifier (WASM when it started); its bare BIP-340 check serves the acceptance pipeline too. */
  readonly verifier?: { readonly verifySchnorr: SchnorrVerify }
}

/**
 * The part of the NIP-47 client the service uses: lookup_invoice on the operator's wallet, and list_transactions
 * when the connection allows it (payments are then confirmed in batches, see ./payment-confirmations.ts).
 */
export interface FleetWallet extends ConfirmationWallet {
  lookupInvoice(params: { paymentHash: string }): Promise<Nip47Transaction>
}

/** What the settlement side receives: a record that passed every check, with whether it is new or history. */
export interface AcceptedRecord {
  action: 'book' | 'history'
  verified: VerifiedRecord
  atMs: number
}

/** The one hand-over to the settlement side. Must be idempotent (the same record may be offered twice). */
export type OnAccepted = (record: AcceptedRecord) => Promise<AcceptRecordResult>

export type RecordOutcome =
  | { eventId: string; outcome: 'booked'; settlementId: number; feeMismatchFlagged: boolean }
  | { eventId: string; outcome: 'history' }
  | { eventId: string; outcome: 'duplicate' }
  | { eventId: string; outcome: 'rejected'; reason: RejectReason; detail: string; retryable: boolean }

export interface FleetServiceOptions {
  ledger: LedgerStore
  pool: FleetPool
  /** The operator's wallet (full or lookup-only NWC connection). */
  nwc: FleetWallet
  /** The console key: decrypts records (NIP-44 v2). */
  consoleSigner: Pick<Signer, 'nip44Decrypt' | 'getPublicKey'>
  operatorPubkey: string
  clock: Clock
  log: Logger
  /** The ledger-backed cursor store the pool was built with; the service installs its hold on it. */
  cursorStore?: LedgerCursorStore
  /** Settlement hand-over; default books through `fleet.acceptRecord` (accounting.bookSettlement inside). */
  onAccepted?: OnAccepted
  /** IANA zone used for new machine configs' LP "local day" (the operator's setting). Default UTC. */
  timeZone?: () => string
  /**
   * Records verified in parallel (each waits on wallet and ledger round trips; the bookings of those in flight share
   * one fsync, see ./booking-batch.ts). Default 256: enough that the main thread keeps verifying while the ledger
   * worker books the records before (a record spends most of its time waiting on the worker); memory stays
   * bounded by this and `maxQueued`.
   */
  concurrency?: number
  /** Records waiting in memory before the pool is slowed down. Default 2000. */
  maxQueued?: number
  /** How often retryable rejections are tried again. Default 30 s. */
  retryIntervalMs?: number
  /** How long records wait for the roster/config catch-up at start. Default 5 s. */
  operatorCatchUpMs?: number
  maxFutureSkewSec?: number
  /** Seconds re-fetched before the stored cursor on (re)connect (the pool's default, 600, when absent). */
  overlapSec?: number
  /** Relays to subscribe on (default: the pool's). */
  relays?: readonly string[]
  /**
   * BIP-340 verifier for the record signature and the NIP-26 token (default: the pool's `verifier.verifySchnorr`,
   * else pure-JS noble). The checks always run; this only picks the implementation.
   */
  verifySignature?: SchnorrVerify
  /** Delegation tokens remembered once verified (default 4096). */
  delegationMemoEntries?: number
  /** Payment confirmations (batches + notifications + single lookups); default one built on `nwc`. */
  confirmations?: PaymentConfirmations
}

/** One ATM the console knows: the IPC contract's view type, defined once there. */
export type MachineView = FleetMachineView

/** A stored rejection: the IPC contract's view type, defined once there. */
export type RejectedView = RejectedRecordView

/**
 * The rejected records in the ledger, newest first, `limit` clamped to 1..1000 (default 100). Reads the ledger
 * only, so the list is available while relays or the wallet are down; the fleet feature answers
 * `fleet.rejected` with it.
 */
export async function rejectedFromLedger(
  ledger: Pick<LedgerStore, 'query'>,
  o: { limit?: number; beforeId?: number } = {},
): Promise<RejectedView[]> {
  const limit = Math.min(Math.max(o.limit ?? 100, 1), 1000)
  const rows = await ledger.query<{
    id: number
    event_id: string
    atm_pubkey: string
    created_at: number
    reason: string
    detail: string | null
    retryable: number
    received_at_ms: number
  }>(
    `SELECT id, event_id, atm_pubkey, created_at, reason, detail, retryable, received_at_ms
     FROM fleet_record_outcome WHERE outcome = 'rejected' AND id < ? ORDER BY id DESC LIMIT ?`,
    [o.beforeId ?? Number.MAX_SAFE_INTEGER, limit],
  )
  return rows.map((r) => ({
    id: r.id,
    eventId: r.event_id,
    atmPubkey: r.atm_pubkey,
    createdAt: r.created_at,
    reason: r.reason,
    detail: r.detail ?? '',
    retryable: r.retryable === 1,
    receivedAtMs: r.received_at_ms,
  }))
}

export interface FleetStats {
  received: number
  booked: number
  history: number
  duplicates: number
  rejected: number
  retriesPending: number
  inFlight: number
}

export interface FleetService {
  readonly consolePubkey: string
  /** Where records' payments are confirmed; the fleet feature feeds it the wallet's payment notifications. */
  readonly confirmations: PaymentConfirmations
  /** Loads the roster/config history and any pending retries from the ledger, then subscribes. */
  start(): Promise<void>
  /** Runs one event through the pipeline now (imports, tests at the true edge); resolves with its outcome. */
  ingest(raw: unknown): Promise<RecordOutcome>
  /** Applies an operator-signed roster or config event (as if it came from a relay). */
  ingestOperatorEvent(ev: NostrEvent): Promise<void>
  /** Resolves when nothing is queued or in flight (pending retries aside). */
  whenIdle(): Promise<void>
  /** Tries every pending retryable record again now. */
  retryNow(): Promise<void>
  onOutcome(cb: (o: RecordOutcome) => void): () => void
  stats(): FleetStats
  machines(): Promise<MachineView[]>
  rejected(opts?: { limit?: number; beforeId?: number }): Promise<RejectedView[]>
  close(): Promise<void>
}

/**
 * Maps a NIP-47 lookup_invoice answer (or its NOT_FOUND error) to what the verifier needs, with the payment's
 * direction (`type`) for the direction rule.
 */
export async function lookupThroughNwc(
  nwc: Pick<FleetWallet, 'lookupInvoice'>,
  paymentHash: string,
): Promise<PaymentConfirmation> {
  try {
    return confirmationOf(await nwc.lookupInvoice({ paymentHash }))
  } catch (e) {
    if ((e as { code?: unknown }).code === 'NOT_FOUND') return { found: false }
    throw e
  }
}

/** What `fleet.acceptRecord` is given for an accepted record. */
export function acceptArgsOf(a: AcceptedRecord): AcceptRecordArgs {
  const v = a.verified
  const r = v.record
  const cashOut = r.direction === 'cash_out'
  return {
    event: v.event,
    txId: v.txId,
    machineId: r.machineId,
    direction: r.direction,
    paymentHash: r.paymentHash,
    wireMsat: r.wireMsat.toString(),
    // Cash-out books the fiat actually dispensed against the fiat requested (partial dispense, docs/settlement.md);
    // cash-in books the fiat the customer inserted.
    fiatMinor: (cashOut ? r.fiatDispensedMinor : r.fiatMinor).toString(),
    fiatRequestedMinor: r.fiatMinor.toString(),
    currency: r.currency,
    claimedFeeMsat: r.feeMsat.toString(),
    ratesMismatch: claimedRatesMismatch(r, v.config),
    action: a.action,
    atMs: a.atMs,
    // What verification established, kept for the settlement's detail view.
    proof: {
      paymentHash: r.paymentHash,
      atmEventId: v.event.id,
      atmPubkey: v.atmPubkey,
      preimage: v.preimage,
      settledAt: v.settledAt,
      rosterEventId: v.rosterEventId,
      verifiedAtMs: a.atMs,
    },
  }
}

/**
 * The default hand-over: one ledger procedure books the settlement and the outcome row atomically; records
 * accepted while a booking is being written go together into the next call (one transaction, one fsync, see
 * ./booking-batch.ts), each acknowledged once that fsync is done.
 */
export function ledgerOnAccepted(ledger: LedgerStore, batcher = createBookingBatcher(ledger)): OnAccepted {
  return (a) => batcher.book(acceptArgsOf(a))
}

const RECORD_SUB = 'fleet-records'
const OPERATOR_SUB = 'fleet-operator'
const ROSTER_WAITERS: ReadonlySet<RejectReason> = new Set(['no_roster'])
const CONFIG_WAITERS: ReadonlySet<RejectReason> = new Set(['no_machine_config'])

interface Retry {
  event: NostrEvent
  reason: RejectReason
  /** False until the rejection row is in the ledger; until then the cursor must not pass it. */
  persisted: boolean
}

export async function createFleetService(opts: FleetServiceOptions): Promise<FleetService> {
  const { ledger, clock } = opts
  const log = opts.log
  const consolePubkey = await opts.consoleSigner.getPublicKey()
  const onAccepted = opts.onAccepted ?? ledgerOnAccepted(ledger)
  const concurrency = opts.concurrency ?? 256
  const maxQueued = opts.maxQueued ?? 2000
  const retryIntervalMs = opts.retryIntervalMs ?? 30_000
  const verifySignature = opts.verifySignature ?? opts.pool.verifier?.verifySchnorr
  const delegationMemo = new DelegationTokenMemo(opts.delegationMemoEntries)
  const reads = createRecordReads(ledger)
  const confirmations =
    opts.confirmations ?? createPaymentConfirmations({ wallet: opts.nwc, log: log.child('confirm'), clock })

  let rosters: Roster[] = []
  const configs = new Map<string, MachineConfig[]>()
  const retries = new Map<string, Retry>()
  const inflight = new Map<string, number>()
  const queue: NostrEvent[] = []
  const listeners = new Set<(o: RecordOutcome) => void>()
  const stats: FleetStats = {
    received: 0,
    booked: 0,
    history: 0,
    duplicates: 0,
    rejected: 0,
    retriesPending: 0,
    inFlight: 0,
  }
  let active = 0
  let closed = false
  let idleWaiters: (() => void)[] = []
  let roomWaiters: (() => void)[] = []
  const subs: PoolSubscription[] = []
  let retryTimer: ReturnType<typeof setInterval> | undefined
  let uninstallHold: (() => void) | undefined
  let operatorReadyResolve: () => void = () => {}
  const operatorReady = new Promise<void>((r) => {
    operatorReadyResolve = r
  })

  const emit = (o: RecordOutcome) => {
    for (const cb of listeners) {
      try {
        cb(o)
      } catch (e) {
        log.error('outcome listener threw', { reason: (e as Error).message })
      }
    }
  }

  /**
   * `createdAtSec`: the record's, so its payment is confirmed from the batch of its window. `raw`: the record, so
   * step 14's second read (this ATM transaction booked?) goes out together with its first (payment hash booked?).
   */
  const ctx = (createdAtSec?: number, raw?: unknown): VerifyRecordContext => {
    let versionRead: { atm: string; txId: string; answer: Promise<BookedRef | null> } | undefined
    const e = raw as { pubkey?: unknown; tags?: unknown } | null
    const d = Array.isArray(e?.tags) ? (e.tags as unknown[]).find((t) => Array.isArray(t) && t[0] === 'd') : undefined
    const atm = typeof e?.pubkey === 'string' ? e.pubkey : undefined
    const txId = Array.isArray(d) && typeof d[1] === 'string' ? (d[1] as string) : undefined
    return {
      operatorPubkey: opts.operatorPubkey,
      consolePubkey,
      nowSec: nowSec(clock),
      ...(opts.maxFutureSkewSec !== undefined ? { maxFutureSkewSec: opts.maxFutureSkewSec } : {}),
      rosters,
      // The three ledger reads of a record go out with those of the other records verified in the same turn.
      isEventKnown: (id) => reads.isEventKnown(id),
      decrypt: (sender, payload) => opts.consoleSigner.nip44Decrypt(sender, payload),
      machineConfig: (atm, createdAt) => configAt(configs.get(atm) ?? [], createdAt),
      lookupInvoice: (h) => confirmations.confirm(h, createdAtSec),
      isBooked: (h) => {
        // Both reads of step 14 in the same turn (one batch, one wait on the ledger worker); the second is used only
        // if the pipeline asks for exactly this (ATM, txId), else it is read afresh.
        if (atm !== undefined && txId !== undefined) {
          const answer = reads.bookedVersionOf(atm, txId)
          // Unused when step 14 ends at the first read; a failure then must not surface as unhandled.
          answer.catch(() => {})
          versionRead = { atm, txId, answer }
        }
        return reads.bookedByPaymentHash(h)
      },
      bookedVersionOf: (a, t) =>
        versionRead && versionRead.atm === a && versionRead.txId === t
          ? versionRead.answer
          : reads.bookedVersionOf(a, t),
      ...(verifySignature ? { verifySignature } : {}),
      delegationMemo,
      // The relay pool's frozen copies were verified (id + signature) on arrival: that verdict is reused for exactly
      // those objects; imports and retries loaded from the ledger are checked in full.
      alreadyVerified: isVerifiedFrozen,
    }
  }

  /** Stand-in id for input that has none, so even garbage leaves a row naming what arrived. */
  const idOf = (raw: unknown): string => {
    const id = (raw as { id?: unknown } | null)?.id
    if (typeof id === 'string' && /^[0-9a-f]{64}$/.test(id)) return id
    let text: string
    try {
      text = JSON.stringify(raw) ?? String(raw)
    } catch {
      text = String(raw)
    }
    return bytesToHex(sha256(utf8ToBytes(text)))
  }

  async function processRecord(raw: unknown): Promise<RecordOutcome> {
    await operatorReady
    const createdAt = (raw as { created_at?: unknown } | null)?.created_at
    const result = await verifyRecord(raw, ctx(typeof createdAt === 'number' ? createdAt : undefined, raw))
    const atMs = clock.nowMs()
    if (result.ok) {
      const id = result.record.event.id
      const r = await onAccepted({ action: result.action, verified: result.record, atMs })
      retries.delete(id)
      if (r.status === 'booked') {
        stats.booked++
        log.info('record booked', {
          eventId: id,
          atm: result.record.atmPubkey,
          txId: result.record.txId,
          settlementId: r.settlementId,
          wireMsat: result.record.record.wireMsat,
          feeMismatch: r.feeMismatchFlagged,
        })
        return {
          eventId: id,
          outcome: 'booked',
          settlementId: r.settlementId,
          feeMismatchFlagged: r.feeMismatchFlagged,
        }
      }
      if (r.status === 'history') {
        stats.history++
        log.info('record kept as history', { eventId: id, txId: result.record.txId })
        return { eventId: id, outcome: 'history' }
      }
      if (r.status === 'duplicate') {
        stats.duplicates++
        return { eventId: id, outcome: 'duplicate' }
      }
      stats.rejected++
      log.warn('record rejected', { eventId: id, reason: r.reason, detail: r.detail })
      return { eventId: id, outcome: 'rejected', reason: r.reason, detail: r.detail, retryable: false }
    }
    const id = idOf(raw)
    if (result.reason === 'duplicate_event') {
      stats.duplicates++
      retries.delete(id)
      log.debug('record already processed', { eventId: id })
      return { eventId: id, outcome: 'duplicate' }
    }
    const e = raw as Partial<NostrEvent> | null
    const event = {
      ...(typeof e === 'object' && e !== null ? e : {}),
      id,
      pubkey: typeof e?.pubkey === 'string' ? e.pubkey : '',
      created_at: typeof e?.created_at === 'number' ? e.created_at : 0,
    } as NostrEvent
    const prev = retries.get(id)
    if (result.retryable) retries.set(id, { event, reason: result.reason, persisted: prev?.persisted ?? false })
    else retries.delete(id)
    const { stored } = await ledger.call<{ stored: boolean }>('fleet.rejectRecord', {
      event,
      reason: result.reason,
      detail: result.detail,
      retryable: result.retryable,
      atMs,
    })
    const retry = retries.get(id)
    if (retry) retry.persisted = true
    if (stored || !result.retryable) {
      stats.rejected++
      log.warn('record rejected', {
        eventId: id,
        atm: event.pubkey,
        reason: result.reason,
        detail: result.detail,
        retryable: result.retryable,
      })
    }
    return {
      eventId: id,
      outcome: 'rejected',
      reason: result.reason,
      detail: result.detail,
      retryable: result.retryable,
    }
  }

  const settle = () => {
    stats.inFlight = inflight.size
    stats.retriesPending = retries.size
    if (queue.length < maxQueued) {
      const w = roomWaiters
      roomWaiters = []
      for (const r of w) r()
    }
    if (active === 0 && queue.length === 0) {
      const w = idleWaiters
      idleWaiters = []
      for (const r of w) r()
    }
  }

  const pump = () => {
    while (!closed && active < concurrency && queue.length > 0) {
      const ev = queue.shift()!
      active++
      processRecord(ev)
        .then(emit, (err: unknown) => {
          // The outcome is unknown (ledger or signer failure): keep the event for a retry, unpersisted, so the
          // cursor hold keeps it reachable on the relays as well.
          if (!retries.has(ev.id)) retries.set(ev.id, { event: ev, reason: 'wallet_unavailable', persisted: false })
          log.error('record processing failed; will retry', {
            eventId: ev.id,
            reason: err instanceof Error ? err.message : String(err),
          })
        })
        .finally(() => {
          active--
          inflight.delete(ev.id)
          settle()
          pump()
        })
    }
    settle()
  }

  const enqueue = (ev: NostrEvent) => {
    if (closed || inflight.has(ev.id)) return
    inflight.set(ev.id, ev.created_at)
    queue.push(ev)
    pump()
  }

  /** The oldest created_at not yet final in the ledger: the cursor stays below it. */
  const hold = (): number | undefined => {
    let min: number | undefined
    for (const t of inflight.values()) if (min === undefined || t < min) min = t
    for (const r of retries.values())
      if (!r.persisted && (min === undefined || r.event.created_at < min)) min = r.event.created_at
    return min
  }

  const retryWhere = (pred: (r: Retry) => boolean) => {
    for (const [id, r] of retries) if (pred(r) && !inflight.has(id)) enqueue(r.event)
  }

  async function applyOperatorEvent(ev: NostrEvent): Promise<void> {
    const d = ev.tags.find((t) => t[0] === 'd')?.[1] ?? ''
    const atMs = clock.nowMs()
    if (ev.kind === KIND_FOLLOW_SET && d === D_FLEET_ROSTER) {
      let roster: Roster
      try {
        roster = parseRosterEvent(ev, opts.operatorPubkey)
      } catch (e) {
        log.warn('roster ignored', { eventId: ev.id, reason: (e as Error).message })
        return
      }
      const { inserted } = await ledger.call<{ inserted: boolean }>('fleet.storeRoster', {
        event: ev,
        operatorPubkey: opts.operatorPubkey,
        receivedAtMs: atMs,
      })
      if (!rosters.some((r) => r.eventId === roster.eventId)) rosters = [...rosters, roster]
      if (inserted) log.info('roster version stored', { eventId: ev.id, members: roster.members.length })
      retryWhere((r) => ROSTER_WAITERS.has(r.reason))
      return
    }
    if (ev.kind === KIND_APP_DATA && d.startsWith(D_MACHINE_PREFIX)) {
      let config: MachineConfig
      try {
        config = parseMachineConfigEvent(ev, opts.operatorPubkey)
      } catch (e) {
        log.warn('machine config ignored', { eventId: ev.id, reason: (e as Error).message })
        return
      }
      try {
        const { inserted } = await ledger.call<{ inserted: boolean }>('fleet.applyMachineConfig', {
          event: ev,
          operatorPubkey: opts.operatorPubkey,
          timeZone: opts.timeZone?.() ?? 'UTC',
          receivedAtMs: atMs,
        })
        if (inserted) log.info('machine config stored', { eventId: ev.id, machineId: config.machineId })
      } catch (e) {
        // E.g. a config that changes a machine's currency: accounting refuses; the record check still uses the
        // verified history, so records in the new currency are rejected by accounting, never booked wrongly.
        log.error('machine config refused by the ledger', { eventId: ev.id, reason: (e as Error).message })
        return
      }
      const list = configs.get(config.atmPubkey) ?? []
      if (!list.some((c) => c.eventId === config.eventId)) configs.set(config.atmPubkey, [...list, config])
      retryWhere((r) => CONFIG_WAITERS.has(r.reason))
    }
  }

  async function loadRetries(): Promise<void> {
    // Retryable rejections whose event never reached a final outcome, newest row per event.
    const rows = await ledger.query<{ event_id: string; reason: string; raw_json: string }>(
      `SELECT o.event_id, o.reason, o.raw_json FROM fleet_record_outcome o
       WHERE o.outcome = 'rejected' AND o.retryable = 1
         AND NOT EXISTS (SELECT 1 FROM fleet_record_outcome f WHERE f.event_id = o.event_id
                         AND (f.outcome != 'rejected' OR f.retryable = 0))
       ORDER BY o.id`,
    )
    for (const r of rows) {
      try {
        retries.set(r.event_id, {
          event: JSON.parse(r.raw_json) as NostrEvent,
          reason: r.reason as RejectReason,
          persisted: true,
        })
      } catch {
        log.error('stored retry is not JSON; skipped', { eventId: r.event_id })
      }
    }
  }

  const service: FleetService = {
    consolePubkey,
    confirmations,
    async start() {
      rosters = await loadRosters(ledger, opts.operatorPubkey)
      for (const c of await loadConfigs(ledger, opts.operatorPubkey)) {
        configs.set(c.atmPubkey, [...(configs.get(c.atmPubkey) ?? []), c])
      }
      await loadRetries()
      if (opts.cursorStore) uninstallHold = opts.cursorStore.setHold(`${RECORD_SUB}@`, hold)
      log.info('fleet service starting', {
        rosters: rosters.length,
        machines: configs.size,
        retries: retries.size,
      })
      const relays = opts.relays ? { relays: opts.relays } : {}
      const operatorFilters: Filter[] = [{ kinds: [KIND_FOLLOW_SET, KIND_APP_DATA], authors: [opts.operatorPubkey] }]
      const caughtUp = new Set<string>()
      const expected = opts.relays?.length
      subs.push(
        opts.pool.subscribe({
          key: OPERATOR_SUB,
          filters: operatorFilters,
          ...relays,
          onEvent: (ev) => applyOperatorEvent(ev as unknown as NostrEvent),
          onCaughtUp: (relay) => {
            caughtUp.add(relay)
            // Records wait for the roster and configs the relays hold, so none is judged against stale history.
            if (expected === undefined || caughtUp.size >= expected) operatorReadyResolve()
          },
        }),
      )
      const t = setTimeout(() => operatorReadyResolve(), opts.operatorCatchUpMs ?? 5000)
      void operatorReady.then(() => clearTimeout(t))
      subs.push(
        opts.pool.subscribe({
          key: RECORD_SUB,
          filters: [{ kinds: [KIND_ATM_RECORD], '#p': [consolePubkey] }],
          ...relays,
          ...(opts.overlapSec !== undefined ? { overlapSec: opts.overlapSec } : {}),
          onEvent: async (ev) => {
            stats.received++
            enqueue(ev as unknown as NostrEvent)
            // Backpressure: the pool holds its cursor while we wait, so a full queue loses nothing.
            if (queue.length >= maxQueued) await new Promise<void>((r) => roomWaiters.push(r))
          },
        }),
      )
      retryWhere(() => true)
      retryTimer = setInterval(() => retryWhere(() => true), retryIntervalMs)
      retryTimer.unref?.()
    },
    async ingest(raw) {
      stats.received++
      return processRecord(raw).then((o) => {
        emit(o)
        return o
      })
    },
    ingestOperatorEvent: (ev) => applyOperatorEvent(ev),
    whenIdle() {
      if (active === 0 && queue.length === 0) return Promise.resolve()
      return new Promise((r) => idleWaiters.push(r))
    },
    async retryNow() {
      retryWhere(() => true)
      await service.whenIdle()
    },
    onOutcome(cb) {
      listeners.add(cb)
      return () => listeners.delete(cb)
    },
    stats: () => ({ ...stats, inFlight: inflight.size, retriesPending: retries.size }),
    async machines() {
      const latest = rosters.length > 0 ? rosterAt(rosters, Number.MAX_SAFE_INTEGER) : null
      const keys = new Set<string>([...configs.keys(), ...rosters.flatMap((r) => r.members)])
      const counts = await ledger.query<{ atm_pubkey: string; booked: number; rejected: number; last_at: number }>(
        `SELECT atm_pubkey, SUM(outcome = 'booked') AS booked, SUM(outcome = 'rejected') AS rejected,
                MAX(created_at) AS last_at
         FROM fleet_record_outcome GROUP BY atm_pubkey`,
      )
      const byAtm = new Map(counts.map((c) => [c.atm_pubkey, c]))
      return [...keys].sort().map((atm): MachineView => {
        const c = latestConfig(configs.get(atm) ?? [])
        const m = latest ? membershipAt(rosters, atm, latest.createdAt) : { status: 'no_roster' as const }
        const n = byAtm.get(atm)
        return {
          atmPubkey: atm,
          machineId: c?.machineId ?? null,
          name: c?.name ?? null,
          currency: c?.currency ?? null,
          rosterStatus: m.status,
          configEventId: c?.eventId ?? null,
          configCreatedAt: c?.createdAt ?? null,
          booked: Number(n?.booked ?? 0),
          rejected: Number(n?.rejected ?? 0),
          lastRecordAt: n?.last_at ?? null,
        }
      })
    },
    rejected: (o = {}) => rejectedFromLedger(ledger, o),
    async close() {
      if (closed) return
      closed = true
      if (retryTimer) clearInterval(retryTimer)
      for (const s of subs) s.close()
      queue.length = 0
      for (const r of roomWaiters) r()
      roomWaiters = []
      // Wait for records already being verified, so their outcome is written before the ledger closes.
      if (active > 0) await new Promise<void>((r) => idleWaiters.push(r))
      uninstallHold?.()
      log.info('fleet service closed', { ...stats })
    },
  }
  return service
}
