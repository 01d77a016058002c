// `satmachine demo-seed` and `seedDemoLedger()`: fills a fresh ledger with a realistic history so that benchmarks,
// the settlements view at a million rows and the audit export have something real to work on (docs/demo.md,
// "A seeded history"). Every row is written by the ledger procedures the running console uses — the same
// functions the pipeline reaches through `store.call()`:
//   - machines and fee configurations (`accounting.upsertMachine`, `accounting.setConfig`, with a fee change half-way);
//   - LPs with Nostr identities and keysend destinations (`lps.register`), the platform's and the commission
//     splits' destinations (`lps.setDestination`), deposits recorded and confirmed (`lps.recordDeposit`,
//     `lps.confirmDeposit`) whenever an LP runs low, one partial deposit reversal and one deposit left pending;
//   - settlements booked by `accounting.bookSettlement` (the booking procedure `fleet.acceptRecord` calls), both
//     directions, partial dispenses (a refund-due leg each), a few claimed fees that disagree with ours, then
//     claimed and processed (`accounting.claimSettlement` / `completeSettlement`) as the pipeline does; a few fail
//     their processing and wait on the worklist, some of those retried;
//   - the newest settlements (1,000 by default) as the running console books them: a kind 30079 record signed by
//     the ATM under the operator's NIP-26 delegation and encrypted to the console key, booked by
//     `fleet.acceptRecord` (the outcome row and the verification proof, against a stored operator roster), then a
//     receipt signed by the console key, stored, published and read back (`receipts.store`, `recordAttempt`);
//   - refunds of older partial dispenses resolved by the operator (`accounting.resolveWorklistItem`);
//   - a few records refused before booking, with a reason from the protocol's rule table (`fleet.rejectRecord`);
//   - payouts, checked every day, for every recipient whose accrual reached its threshold: planned (`payouts.plan`), a
//     keysend target with a real preimage attached, a signed NIP-47 `pay_keysend` request stored, paid on the
//     preimage (`payouts.markSending`, `payouts.markPaid`), which posts the negative accrual and marks the legs paid
//     (weekly payouts for every recipient: a daily schedule would make signing the requests the bulk of the run).
// Older settlements have no record event or receipt stored: both are signed Nostr events of about 1-2 KB, which
// with their audit entries would more than double a million-settlement ledger, and signing them would dominate
// the run. The invoice text in a record is shaped like BOLT-11 but is not a payable invoice.
//
// Speed: many settlements share one ledger transaction, and the transactions are bulk loads (not journaled
// statement by statement) with a single snapshot at the end, so a million settlements take minutes, not hours.
// An interrupted seed leaves a directory the ledger refuses to open (no snapshot covers the bulk loads): seed again.
import { createHash } from 'node:crypto'
import { join } from 'node:path'
import { bytesToHex } from '@noble/hashes/utils.js'
import { npubEncode } from 'nostr-tools/nip19'
import { getPublicKey } from 'nostr-tools/pure'
import { README_SPLITS } from '../../src-shared/money/readme-example'
import { principalAndCommission, type SettlementInput } from '../../src-shared/money/settlement'
import { type AtmRecordV1, createAtmRecord } from '../../src-shared/nostr/atm-record'
import type { NostrEvent } from '../../src-shared/nostr/event'
import { KIND_ATM_RECORD } from '../../src-shared/nostr/kinds'
import { buildConditions, type DelegationTag } from '../../src-shared/nostr/nip26'
import { buildRequestEvent, parseConnectionUri } from '../../src-shared/nostr/nip47'
import { buildReceiptTemplate } from '../../src-shared/nostr/receipt'
import { buildRosterTemplate } from '../../src-shared/nostr/roster'
import type { RejectReason } from '../../src-shared/nostr/verify-record'
import { bookSettlement } from '../accounting/book'
import { lpBalance } from '../accounting/entries'
import {
  claimSettlement,
  completeSettlement,
  failSettlement,
  resolveWorklistItem,
  retrySettlement,
  setConfig,
  upsertMachine,
} from '../accounting/operations'
import { acceptRecord, rejectRecord, storeRoster } from '../fleet/procedures'
import { DEFAULT_PRAGMAS } from '../ledger/core'
import { openLedgerInProcess } from '../ledger/store'
import type { TxDb } from '../ledger/types'
import {
  confirmLpDeposit,
  recordLpDeposit,
  registerLp,
  reverseLpDeposit,
  setPayoutDestination,
} from '../lps/procedures'
import { attachInvoice, markPaidProc, markSendingProc, plan } from '../payouts/procedures'
import { recordAttempt as recordReceiptAttempt, store as storeReceipt } from '../receipts/procedures'
import { createSoftwareSigner } from '../signer/software-signer'
import '../ledger/registry'

export interface SeedOptions {
  /** The console's data directory; the ledger goes to `<dataDir>/ledger`, which must hold no settlements yet. */
  dataDir: string
  settlements: number
  /** First and last day of the history (YYYY-MM-DD, UTC). Default: the 90 days up to yesterday. */
  from?: string
  to?: string
  /** Default 2. */
  machines?: number
  /** Default 3. */
  lps?: number
  /** Settlements per ledger transaction (default 10,000). */
  batchSize?: number
  /**
   * The newest this many settlements arrive as signed ATM records booked by `fleet.acceptRecord` (outcome rows,
   * proofs) and get a published, read-back receipt (default 1,000; at most the number of settlements).
   */
  signedRecords?: number
  /** Seed of the pseudo-random history (default 1): the same options give the same amounts and mix. */
  seed?: number
  /** Progress lines (default: none). */
  progress?: (line: string) => void
}

export interface SeedReport {
  ledgerDir: string
  from: string
  to: string
  machines: number
  lps: number
  settlements: number
  cashOut: number
  cashIn: number
  partialDispenses: number
  feeMismatches: number
  errored: number
  retried: number
  refundsResolved: number
  rejectedRecords: number
  deposits: number
  payoutsPaid: number
  recordsAccepted: number
  receiptsPublished: number
  transactions: number
  ms: number
}

export class SeedOptionError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`)
    this.name = 'SeedOptionError'
  }
}

const DAY_MS = 86_400_000
/** SQLite page cache of the seeding process, in KiB (512 MiB; the WebAssembly heap allows 2 GiB). */
const SEED_CACHE_KIB = 524_288
const CURRENCY = 'EUR'
const TIME_ZONE = 'UTC'
const CONNECTION_ID = 'operator'
const AUTHOR = 'demo-seed'
/** Fee fractions (ppm) before and after the fee change half-way through the history. */
const FEES_BEFORE = { coX: 10_000, coY: 50_000, ciX: 10_000, ciY: 40_000 }
const FEES_AFTER = { coX: 10_000, coY: 60_000, ciX: 10_000, ciY: 45_000 }
const POLICY = { thresholdMsat: '10000000', schedule: 'weekly', maxFeePpm: 10_000, maxFeeBaseMsat: '10000' } as const
const REJECT_REASONS: RejectReason[] = [
  'bad_signature',
  'not_in_roster',
  'delegation_bad_token',
  'decrypt_failed',
  'amount_mismatch',
  'direction_mismatch',
  'duplicate_payment',
]
const NOTES_EUR = [500n, 1_000n, 2_000n, 5_000n]
/** The ATM's own transaction id of settlement `k` (the record's d tag). */
const txIdOf = (k: number) => `tx-${String(k).padStart(8, '0')}`

function parseDay(field: string, v: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(v)
  const ms = m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : Number.NaN
  if (!m || Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 10) !== v) {
    throw new SeedOptionError(field, `expected a date YYYY-MM-DD, got '${v.slice(0, 40)}'`)
  }
  return ms
}

const dayText = (ms: number) => new Date(ms).toISOString().slice(0, 10)

function intOption(field: string, v: number | undefined, dflt: number, min: number, max: number): number {
  const n = v ?? dflt
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new SeedOptionError(field, `expected a whole number from ${min} to ${max}, got ${String(v)}`)
  }
  return n
}

/** mulberry32: a small, fast, seeded generator (the history is reproducible; nothing here is secret). */
function rng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const sha256Hex = (data: string | Uint8Array) => createHash('sha256').update(data).digest('hex')

/** A deterministic 32-byte secret from a label (demo identities only). */
function demoSecret(label: string): Uint8Array {
  return createHash('sha256').update(`satmachine demo-seed ${label}`).digest()
}

/** BTC price in EUR cents over the history: a slow wave around 60,000 EUR. */
function rateMinorPerBtc(ms: number): bigint {
  const days = ms / DAY_MS
  return BigInt(Math.round(6_000_000 * (1 + 0.12 * Math.sin(days / 23) + 0.04 * Math.sin(days / 3.1))))
}

/** Validates the options and answers the normalised plan, without touching the disk. */
export function planSeed(o: SeedOptions) {
  if (typeof o.dataDir !== 'string' || o.dataDir === '') throw new SeedOptionError('dataDir', 'is required')
  const settlements = intOption('settlements', o.settlements, Number.NaN, 1, 10_000_000)
  const machines = intOption('machines', o.machines, 2, 1, 100)
  const lps = intOption('lps', o.lps, 3, 0, 200)
  const batchSize = intOption('batchSize', o.batchSize, 10_000, 1, 100_000)
  const signedRecords = Math.min(settlements, intOption('signedRecords', o.signedRecords, 1_000, 0, 100_000))
  const yesterday = Math.floor(Date.now() / DAY_MS) * DAY_MS - DAY_MS
  const toMs = o.to === undefined ? yesterday : parseDay('to', o.to)
  const fromMs = o.from === undefined ? toMs - 89 * DAY_MS : parseDay('from', o.from)
  if (fromMs > toMs) throw new SeedOptionError('from', `must not be after --to (${dayText(toMs)})`)
  return { settlements, machines, lps, batchSize, signedRecords, fromMs, toMs, seed: o.seed ?? 1 }
}

/** Fills `<dataDir>/ledger` (see the file comment). Resolves once the final snapshot is on disk. */
export async function seedDemoLedger(o: SeedOptions): Promise<SeedReport> {
  const p = planSeed(o)
  const t0 = performance.now()
  const say = o.progress ?? (() => {})
  const ledgerDir = join(o.dataDir, 'ledger')
  const store = await openLedgerInProcess({
    dir: ledgerDir,
    autoSnapshot: false,
    // For this process only (neither is stored in the database): a page cache large enough for the indexes a
    // batch touches at random (payment hashes), and the rollback journal in memory rather than in the
    // in-memory file system. Without them each batch copies most of the hash index twice, and a seed slows
    // down as the ledger grows.
    pragmas: [...DEFAULT_PRAGMAS, `PRAGMA cache_size = -${SEED_CACHE_KIB}`, 'PRAGMA journal_mode = MEMORY'],
  })
  const core = store.core
  try {
    const [{ n }] = (await store.query<{ n: number }>('SELECT COUNT(*) AS n FROM acct_settlement')) as [{ n: number }]
    if (n > 0) throw new SeedOptionError('dataDir', `${ledgerDir} already holds ${n} settlements; seed a new directory`)
    const random = rng(p.seed)
    const startMs = p.fromMs
    const endMs = p.toMs + DAY_MS - 1
    const spanMs = endMs - startMs
    const report: SeedReport = {
      ledgerDir,
      from: dayText(p.fromMs),
      to: dayText(p.toMs),
      machines: p.machines,
      lps: p.lps,
      settlements: 0,
      cashOut: 0,
      cashIn: 0,
      partialDispenses: 0,
      feeMismatches: 0,
      errored: 0,
      retried: 0,
      refundsResolved: 0,
      rejectedRecords: 0,
      deposits: 0,
      payoutsPaid: 0,
      recordsAccepted: 0,
      receiptsPublished: 0,
      transactions: 0,
      ms: 0,
    }
    const machineIds = Array.from({ length: p.machines }, (_, i) => `atm-${String(i + 1).padStart(2, '0')}`)
    const atmPubkeys = machineIds.map((id) => getPublicKey(demoSecret(`atm ${id}`)))
    const lpIds = Array.from({ length: p.lps }, (_, i) => `lp-${String(i + 1).padStart(3, '0')}`)
    // Expected fiat a machine's LPs sell in two weeks: the size of a deposit (at least 2,000 EUR).
    const cashOutPerMachinePerDay = (p.settlements * 0.75) / Math.max(1, spanMs / DAY_MS) / p.machines
    const lpsPerMachine = Math.max(1, Math.ceil(p.lps / p.machines))
    const depositMinor = BigInt(Math.max(200_000, Math.round((cashOutPerMachinePerDay * 14 * 12_000) / lpsPerMachine)))
    let depositSeq = 0
    const deposit = (db: TxDb, lpId: string, atMs: number, amountMinor = depositMinor) => {
      depositSeq++
      const d = recordLpDeposit(db, {
        id: `dep-${String(depositSeq).padStart(6, '0')}`,
        lpId,
        amountMinor: amountMinor.toString(),
        atMs,
        note: 'cash handed over for the cassettes',
      })
      confirmLpDeposit(db, { depositId: d.depositId, atMs: atMs + 3_600_000 })
      report.deposits++
      return d.depositId
    }
    const nwc = parseConnectionUri(
      `nostr+walletconnect://${getPublicKey(demoSecret('operator wallet'))}?relay=ws%3A%2F%2F127.0.0.1%3A7777&secret=${bytesToHex(demoSecret('operator wallet client'))}`,
    )

    // ---- set-up: machines, fee configs, recipients, LPs with their first deposit (one transaction) ----
    await core.bulkLoad(
      'demoSeed.setup',
      (db) => {
        const at = startMs - 7 * DAY_MS
        machineIds.forEach((id, i) => {
          upsertMachine(db, { id, name: `Demo ATM ${i + 1}`, currency: CURRENCY, atMs: at })
          for (const [fees, from, note] of [
            [FEES_BEFORE, 0, 'fees at pairing'],
            [FEES_AFTER, startMs + Math.floor(spanMs / 2), 'operator commission raised'],
          ] as const) {
            setConfig(db, {
              machineId: id,
              effectiveFromMs: from,
              atMs: from === 0 ? at : from,
              cashOutPlatformPpm: fees.coX,
              cashOutOperatorPpm: fees.coY,
              cashInPlatformPpm: fees.ciX,
              cashInOperatorPpm: fees.ciY,
              discountPpm: 0,
              splits: README_SPLITS,
              timeZone: TIME_ZONE,
              author: AUTHOR,
              note,
            })
          }
        })
        for (const [kind, id] of [
          ['platform', 'platform'],
          ['split', 'owner'],
          ['split', 'tech'],
        ] as const) {
          setPayoutDestination(db, {
            recipientKind: kind,
            recipientId: id,
            destination: { kind: 'keysend', nodeId: `02${sha256Hex(`node ${id}`)}` },
            payout: POLICY,
            atMs: at,
            author: AUTHOR,
          })
        }
        lpIds.forEach((id, i) => {
          const pubkey = getPublicKey(demoSecret(`lp ${id}`))
          const fixed = i % 3 === 2
          registerLp(db, {
            id,
            npub: npubEncode(pubkey),
            pubkey,
            name: `LP ${i + 1}`,
            currency: CURRENCY,
            machineId: machineIds[i % p.machines],
            mode: fixed ? 'fixed' : 'flow',
            ...(fixed ? { dailyLimitMinor: String(depositMinor / 10n) } : {}),
            destination: { kind: 'keysend', nodeId: `03${sha256Hex(`node ${id}`)}` },
            payout: POLICY,
            atMs: at,
            author: AUTHOR,
          })
          deposit(db, id, at)
        })
      },
      { snapshot: false },
    )
    report.transactions++

    // ---- the history, in batches; each simulated day starts with deposits top-ups and payouts ----
    let nextDayMs = startMs
    let i = 0
    const openRefunds: { id: number; atMs: number }[] = []
    const erroredIds: number[] = []
    let reversedOne = false
    const dayChores = (db: TxDb, dayMs: number) => {
      // LPs that run low hand over more cash in the morning.
      for (const id of lpIds) {
        if (lpBalance(db, id) < depositMinor / 5n) deposit(db, id, dayMs + 8 * 3_600_000)
      }
      if (!reversedOne && dayMs >= startMs + 10 * DAY_MS && lpIds.length > 0) {
        reversedOne = true
        reverseLpDeposit(db, {
          depositId: deposit(db, lpIds[0]!, dayMs + 9 * 3_600_000, depositMinor / 2n),
          amountMinor: (depositMinor / 10n).toString(),
          reason: 'counted short at the cassette swap',
          atMs: dayMs + 10 * 3_600_000,
          author: AUTHOR,
        })
      }
      // Refunds of partial dispenses older than two days: the operator paid the customer back.
      while (openRefunds.length > 0 && openRefunds[0]!.atMs < dayMs - 2 * DAY_MS) {
        const r = openRefunds.shift()!
        resolveWorklistItem(db, {
          settlementId: r.id,
          kind: 'refund_due',
          reference: `cash-refund-${r.id}`,
          author: AUTHOR,
          note: 'customer refunded at the counter',
          atMs: dayMs + 11 * 3_600_000,
        })
        report.refundsResolved++
      }
      // Half of the settlements that failed processing are retried the next day and go through.
      while (erroredIds.length > 0) {
        const id = erroredIds.shift()!
        if (id % 2 === 0) continue
        const at = dayMs + 12 * 3_600_000
        retrySettlement(db, { settlementId: id, atMs: at, author: AUTHOR })
        claimSettlement(db, { settlementId: id, token: 'seed-worker', atMs: at, author: 'pipeline' })
        completeSettlement(db, { settlementId: id, token: 'seed-worker', atMs: at, author: 'pipeline' })
        report.retried++
      }
      payoutsAt(db, dayMs + 23 * 3_600_000)
    }
    const payoutsAt = (db: TxDb, nowMs: number) => {
      for (const po of plan(db, { nowMs, connectionId: CONNECTION_ID })) {
        const preimage = sha256Hex(`preimage ${po.id}`)
        const paymentHash = sha256Hex(Buffer.from(preimage, 'hex'))
        const nodeId = `0${po.recipientKind === 'lp' ? 3 : 2}${sha256Hex(`node ${po.recipientId}`)}`
        attachInvoice(db, {
          payoutId: po.id,
          bolt11: `keysend:${nodeId}:${preimage}`,
          paymentHash,
          amountMsat: po.amountMsat,
          nowMs,
        })
        const sec = Math.floor(nowMs / 1000)
        const req = buildRequestEvent({
          conn: nwc,
          method: 'pay_keysend',
          params: { amountMsat: BigInt(po.amountMsat), pubkey: nodeId, preimage },
          encryption: 'nip44_v2',
          createdAtSec: sec,
          expiresAtSec: sec + 60,
        })
        markSendingProc(db, {
          payoutId: po.id,
          requestId: req.id,
          requestJson: JSON.stringify(req.event),
          requestExpiresAtSec: req.expiresAtSec,
          nowMs,
        })
        markPaidProc(db, { payoutId: po.id, preimage, feesPaidMsat: '1000', nowMs: nowMs + 2_000, via: 'response' })
        report.payoutsPaid++
      }
    }

    // One settlement's draw from the generator (the same calls in the same order for every settlement, so a seed
    // reproduces its history), kept apart from booking it: the newest settlements arrive as signed ATM records,
    // and signing is asynchronous while a ledger transaction's body is not.
    const draw = (k: number) => {
      // Spread evenly over the period, jittered so two machines never tick in lock-step.
      const atMs = Math.min(endMs, Math.floor(startMs + ((k + random()) * spanMs) / p.settlements))
      const m = Math.floor(random() * p.machines)
      const rejected = random() < 0.004
      const cashIn = random() < 0.25
      const notes = 1 + Math.floor(random() ** 2 * 12)
      let requested = 0n
      for (let n = 0; n < notes; n++) requested += NOTES_EUR[Math.floor(random() * NOTES_EUR.length)]!
      const partial = !cashIn && requested > 1_000n && random() < 0.03
      const dispensed = partial ? requested - NOTES_EUR[0]! * BigInt(1 + Math.floor(random() * 2)) : requested
      const fees = atMs >= startMs + Math.floor(spanMs / 2) ? FEES_AFTER : FEES_BEFORE
      const rate = rateMinorPerBtc(atMs)
      const principal = (requested * 100_000_000_000n) / rate
      const feePpm = BigInt(cashIn ? fees.ciX + fees.ciY : fees.coX + fees.coY)
      const wireMsat = cashIn
        ? (principal * (1_000_000n - feePpm)) / 1_000_000n
        : (principal * (1_000_000n + feePpm)) / 1_000_000n
      const input = {
        direction: cashIn ? 'cash_in' : 'cash_out',
        wireMsat,
        platformPpm: cashIn ? fees.ciX : fees.coX,
        operatorPpm: cashIn ? fees.ciY : fees.coY,
        discountPpm: 0,
      } as SettlementInput
      let claimedFee = principalAndCommission(input).commissionMsat
      const mismatch = random() < 0.001
      if (mismatch) claimedFee += claimedFee / 20n + 5_000n
      // The last few settlements stay pending: the pipeline has not reached them yet.
      const pending = k >= p.settlements - 3
      const fails = !pending && random() < 0.0005
      const preimage = sha256Hex(`payment ${p.seed} ${k}`)
      return {
        k,
        atMs,
        m,
        rejected,
        input,
        requested,
        dispensed,
        partial,
        mismatch,
        claimedFee,
        rate,
        feePpm: Number(feePpm),
        pending,
        fails,
        preimage,
        paymentHash: sha256Hex(Buffer.from(preimage, 'hex')),
      }
    }
    type Drawn = ReturnType<typeof draw>
    /** The signed events of a settlement that arrives as an ATM record: the record and the console's receipt. */
    type Signed = { record: NostrEvent; receipt: NostrEvent | null }

    const applySettlement = (db: TxDb, d: Drawn, signed: Signed | null) => {
      const { k, atMs, m } = d
      const machineId = machineIds[m]!
      if (d.rejected) {
        // Now and then a record the console refuses (nothing booked for it) arrives among the sales.
        const reason = REJECT_REASONS[k % REJECT_REASONS.length]!
        rejectRecord(db, {
          event: {
            id: sha256Hex(`rejected ${p.seed} ${k}`),
            pubkey: atmPubkeys[m]!,
            created_at: Math.floor(atMs / 1000),
          },
          reason,
          detail: `demo-seed: ${reason.replaceAll('_', ' ')}`,
          retryable: false,
          atMs: atMs + 1_500,
        })
        report.rejectedRecords++
      }
      let settlementId: number
      const common = {
        machineId,
        direction: d.input.direction,
        paymentHash: d.paymentHash,
        wireMsat: d.input.wireMsat.toString(),
        fiatMinor: d.dispensed.toString(),
        fiatRequestedMinor: d.requested.toString(),
        currency: CURRENCY,
        claimedFeeMsat: d.claimedFee.toString(),
      }
      if (signed) {
        // The pipeline's own booking procedure: the settlement, its outcome row and what verification established.
        const r = acceptRecord(db, {
          ...common,
          event: signed.record,
          txId: txIdOf(k),
          action: 'book',
          atMs: atMs + 1_500,
          proof: {
            paymentHash: d.paymentHash,
            atmEventId: signed.record.id,
            atmPubkey: atmPubkeys[m]!,
            preimage: d.preimage,
            settledAt: Math.floor(atMs / 1000),
            rosterEventId: rosterEventId!,
            verifiedAtMs: atMs + 1_500,
          },
        })
        if (r.status !== 'booked') throw new Error(`demo-seed: record ${k} was ${r.status}`)
        settlementId = r.settlementId
        report.recordsAccepted++
      } else {
        const booked = bookSettlement(db, {
          ...common,
          atmEventId: sha256Hex(`record ${p.seed} ${k}`),
          createdAt: Math.floor(atMs / 1000),
          bookedAtMs: atMs + 1_500,
          author: `atm:${atmPubkeys[m]}`,
        })
        if (booked.status !== 'pending')
          throw new Error(`demo-seed: settlement ${k} was ${booked.status}: ${booked.reason}`)
        settlementId = booked.settlementId
      }
      report.settlements++
      if (d.input.direction === 'cash_in') report.cashIn++
      else report.cashOut++
      if (d.mismatch) report.feeMismatches++
      if (d.partial) {
        report.partialDispenses++
        openRefunds.push({ id: settlementId, atMs })
      }
      if (d.pending) return
      const doneAt = atMs + 4_000
      claimSettlement(db, { settlementId, token: 'seed-worker', atMs: doneAt, author: 'pipeline' })
      if (d.fails) {
        failSettlement(db, {
          settlementId,
          token: 'seed-worker',
          error: 'the operator wallet did not answer lookup_invoice in time',
          atMs: doneAt,
          author: 'pipeline',
        })
        erroredIds.push(settlementId)
        report.errored++
        return
      }
      completeSettlement(db, { settlementId, token: 'seed-worker', atMs: doneAt, author: 'pipeline' })
      if (signed?.receipt) {
        // The receipt is stored before it is published, then published and read back from a relay (receipts service).
        const eventJson = JSON.stringify(signed.receipt)
        storeReceipt(db, { settlementId, eventJson, atMs: doneAt + 500 })
        for (const [kind, at] of [
          ['published', doneAt + 800],
          ['verified', doneAt + 1_600],
        ] as const) {
          recordReceiptAttempt(db, { eventId: signed.receipt.id, kind, relaysOk: 2, atMs: at })
        }
        report.receiptsPublished++
      }
    }

    /** Signs the ATM record (NIP-44 to the console, NIP-26 delegation) and, unless it fails, the console's receipt. */
    const sign = async (d: Drawn): Promise<Signed> => {
      const m = d.m
      const startedSec = Math.floor(d.atMs / 1000) - 40
      const cashIn = d.input.direction === 'cash_in'
      const record: AtmRecordV1 = {
        v: 1,
        txId: txIdOf(d.k),
        machineId: machineIds[m]!,
        direction: d.input.direction,
        status: cashIn ? 'completed' : d.partial ? 'partial' : 'completed',
        fiatMinor: d.requested,
        fiatDispensedMinor: cashIn ? 0n : d.dispensed,
        currency: CURRENCY,
        wireMsat: d.input.wireMsat,
        principalMsat: (d.requested * 100_000_000_000n) / d.rate,
        feeMsat: d.claimedFee,
        paymentHash: d.paymentHash,
        bolt11: `lnbc${d.input.wireMsat / 1000n}n1p${d.paymentHash.slice(0, 52)}`,
        feePpm: d.feePpm,
        discountPpm: 0,
        rateMinorPerBtc: d.rate,
        startedAt: startedSec,
        paidAt: startedSec + 25,
        finishedAt: startedSec + 38,
      }
      const ev = await createAtmRecord(
        { record, consolePubkey, delegation: delegations[m]!, createdAt: startedSec + 39 },
        atmSigners[m]!,
      )
      if (d.pending || d.fails) return { record: ev, receipt: null }
      const receipt = await consoleSigner.signEvent(
        buildReceiptTemplate(
          {
            recordEventId: ev.id,
            operatorPubkey,
            atmPubkey: atmPubkeys[m]!,
            paymentHash: d.paymentHash,
            preimage: d.preimage,
            amountMsat: d.input.wireMsat,
          },
          Math.floor((d.atMs + 4_500) / 1000),
        ),
      )
      return { record: ev, receipt }
    }

    // Keys of the signed part: the operator delegates record signing to each ATM (as pairing does), the console key
    // decrypts records and signs receipts; the operator's roster naming the ATMs is stored like the fleet stores it.
    const operatorSigner = createSoftwareSigner(demoSecret('operator'))
    const operatorPubkey = await operatorSigner.getPublicKey()
    const consoleSigner = createSoftwareSigner(demoSecret('console'))
    const consolePubkey = await consoleSigner.getPublicKey()
    const atmSigners = machineIds.map((id) => createSoftwareSigner(demoSecret(`atm ${id}`)))
    const signedFrom = Math.max(0, p.settlements - p.signedRecords)
    const delegations: DelegationTag[] = []
    let rosterEventId: string | null = null
    let roster: NostrEvent | null = null
    if (p.signedRecords > 0) {
      roster = await operatorSigner.signEvent(
        buildRosterTemplate(atmPubkeys, Math.floor((startMs - 7 * DAY_MS) / 1000)),
      )
      rosterEventId = roster.id
      const conditions = buildConditions({
        kinds: [KIND_ATM_RECORD],
        createdAfter: Math.floor((startMs - 7 * DAY_MS) / 1000),
        createdBefore: Math.floor((endMs + 365 * DAY_MS) / 1000),
      })
      for (const pk of atmPubkeys) {
        const token = await operatorSigner.signDelegation({ delegateePubkey: pk, conditions })
        delegations.push({ delegatorPubkey: operatorPubkey, conditions, token })
      }
    }

    while (i < p.settlements) {
      const from = i
      const upTo = Math.min(p.settlements, i + p.batchSize)
      const drawn = Array.from({ length: upTo - from }, (_, j) => draw(from + j))
      const signed = new Map<number, Signed>()
      for (const d of drawn) if (d.k >= signedFrom) signed.set(d.k, await sign(d))
      await core.bulkLoad(
        'demoSeed.batch',
        (db) => {
          if (roster) {
            storeRoster(db, { operatorPubkey, event: roster, receivedAtMs: startMs - 7 * DAY_MS + 60_000 })
            roster = null
          }
          for (const d of drawn) {
            const atMs = Math.floor(startMs + (d.k * spanMs) / p.settlements)
            while (nextDayMs <= atMs) {
              dayChores(db, nextDayMs)
              nextDayMs += DAY_MS
            }
            applySettlement(db, d, signed.get(d.k) ?? null)
          }
        },
        { snapshot: false },
      )
      i = upTo
      report.transactions++
      if (report.transactions % 5 === 0 || i === p.settlements) {
        say(`demo-seed: ${i} of ${p.settlements} settlements (${Math.round((performance.now() - t0) / 1000)} s)`)
      }
    }
    // The rest of the period (days after the last settlement), and one deposit the operator has not confirmed yet.
    await core.bulkLoad(
      'demoSeed.close',
      (db) => {
        while (nextDayMs <= p.toMs) {
          dayChores(db, nextDayMs)
          nextDayMs += DAY_MS
        }
        if (lpIds.length > 0) {
          recordLpDeposit(db, {
            id: `dep-${String(++depositSeq).padStart(6, '0')}`,
            lpId: lpIds[lpIds.length - 1]!,
            amountMinor: depositMinor.toString(),
            atMs: endMs - 3_600_000,
            note: 'counted, not yet in the machine',
          })
        }
      },
      { snapshot: false },
    )
    report.transactions++
    say('demo-seed: writing the snapshot')
    await core.snapshot()
    report.ms = Math.round(performance.now() - t0)
    return report
  } finally {
    await store.close()
  }
}
