// Interop: settlement receipts (kind 3079) and wallet reconciliation against REAL parts — a relay process on
// 127.0.0.1, the @getalby/sdk NWCWalletService over the simulated Lightning ledger (real bolt11 invoices and
// preimages), our NIP-47 client, and a real ledger store with the registered procedures.
//
// Receipts: every processed settlement gets one receipt, signed by the console key, stored before it is published,
// read back from the relay by id and re-verified (sha256(preimage) = payment_hash). A relay outage leads to a
// retry that republishes the SAME stored event. Reconciliation: list_transactions against the ledger finds a
// missing payment, an unexpected wallet payment and an amount mismatch, and matches a paid payout.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js'
import { generateSecretKey, getPublicKey } from 'nostr-tools/pure'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { seedReadme } from '../../src-main/accounting/test-support'
import '../../src-main/ledger/registry'
import { type InProcessLedger, openLedgerInProcess } from '../../src-main/ledger/store'
import { createRelayPool, type RelayPool } from '../../src-main/nostr/relay-pool'
import type { ReceiptStatus } from '../../src-main/receipts/procedures'
import { queryOnce } from '../../src-main/receipts/query'
import { createReceiptService } from '../../src-main/receipts/service'
import {
  latestReconcileWorklist,
  reconcileWorklistItems,
  runWalletReconciliation,
} from '../../src-main/reconcile/service'
import { createSoftwareSigner } from '../../src-main/signer/software-signer'
import { NwcClient } from '../../src-main/wallet/nwc-client'
import { manualClock, systemClock } from '../../src-shared/clock'
import { memoryLogger } from '../../src-shared/log'
import { copyEvent, type NostrEvent } from '../../src-shared/nostr/event'
import { KIND_RECEIPT } from '../../src-shared/nostr/kinds'
import { parseReceiptEvent } from '../../src-shared/nostr/receipt'
import { LightningNetwork, type SimWallet } from '../support/lightning'
import { type RelayHandle, startRelay } from '../support/relay'
import { startWalletService, type WalletConnection, type WalletServiceFixture } from '../support/wallet-service'

let relay: RelayHandle
let net: LightningNetwork
let svc: WalletServiceFixture
let op: WalletConnection
let customer: SimWallet
let nwc: NwcClient
let pool: RelayPool
const dir = mkdtempSync(join(tmpdir(), 'receipts-'))
const consoleSk = generateSecretKey()
const consoleSigner = createSoftwareSigner(consoleSk)
const consolePk = getPublicKey(consoleSk)
const operatorPk = getPublicKey(generateSecretKey())
const atmPk = getPublicKey(generateSecretKey())

beforeAll(async () => {
  relay = await startRelay()
  net = new LightningNetwork()
  svc = await startWalletService({ relayUrls: [relay.url], network: net })
  op = await svc.fundedConnection('operator', 50_000_000_000n)
  customer = net.createWallet('customer', 50_000_000_000n)
  nwc = new NwcClient({ connection: op.uri, logger: memoryLogger('nwc'), replyTimeoutMs: 10_000 })
  pool = await createRelayPool({ relays: [relay.url], backoff: { initialMs: 20, maxMs: 200 } })
})

afterAll(async () => {
  nwc?.close()
  await pool?.close()
  await svc?.close()
  await relay?.stop()
  rmSync(dir, { recursive: true, force: true })
})

async function openLedger(): Promise<InProcessLedger> {
  const l = await openLedgerInProcess({ dir: mkdtempSync(join(dir, 'l-')), autoSnapshot: false })
  await seedReadme(l)
  return l
}

let recordSeq = 0
/** A cash-out the customer really paid into the operator wallet, booked, accepted by the fleet and processed. */
async function processedCashOut(
  ledger: InProcessLedger,
  opts: { wireMsat?: bigint; bookedMsat?: bigint; pay?: boolean; atMs?: number } = {},
) {
  const wire = opts.wireMsat ?? 266_800_000n
  const inv = op.wallet.makeInvoice(wire)
  if (opts.pay !== false) customer.payInvoice(inv.invoice!)
  const recordEventId = bytesToHex(sha256(new TextEncoder().encode(`record-${++recordSeq}-${Math.random()}`)))
  const atMs = opts.atMs ?? Date.now()
  const booked = await ledger.call<{ settlementId: number }>('accounting.bookSettlement', {
    machineId: 'atm-1',
    direction: 'cash_out',
    paymentHash: inv.paymentHash,
    wireMsat: (opts.bookedMsat ?? wire).toString(),
    fiatMinor: '200000',
    currency: 'GTQ',
    atmEventId: recordEventId,
    createdAt: Math.floor(atMs / 1000),
    bookedAtMs: atMs,
  })
  await ledger.transaction([
    {
      sql: `INSERT INTO fleet_record_outcome (event_id, atm_pubkey, tx_id, payment_hash, created_at, outcome, retryable,
              raw_json, received_at_ms) VALUES (?, ?, ?, ?, ?, 'booked', 0, '{}', ?)`,
      params: [recordEventId, atmPk, `tx-${recordSeq}`, inv.paymentHash, Math.floor(atMs / 1000), atMs],
    },
  ])
  const id = booked.settlementId
  await ledger.call('accounting.claimSettlement', { settlementId: id, token: `t${id}`, atMs })
  await ledger.call('accounting.completeSettlement', { settlementId: id, token: `t${id}`, atMs })
  return { settlementId: id, paymentHash: inv.paymentHash, preimage: inv.preimage!, recordEventId, wire }
}

describe('settlement receipts (kind 3079) on a real relay', () => {
  it('signs, stores, publishes and reads back one receipt per processed settlement', async () => {
    const ledger = await openLedger()
    try {
      const a = await processedCashOut(ledger)
      const b = await processedCashOut(ledger, { wireMsat: 10_000_000n })
      const receipts = await createReceiptService({
        ledger,
        pool,
        consoleSigner,
        operatorPubkey: operatorPk,
        wallet: nwc,
        relays: [relay.url],
        clock: systemClock,
        log: memoryLogger('receipts'),
      })
      const report = await receipts.runOnce()
      expect(report).toMatchObject({ signed: 2, verified: 2, failed: [], waiting: 0 })

      for (const s of [a, b]) {
        const st = await ledger.call<ReceiptStatus>('receipts.status', { settlementId: s.settlementId })
        expect(st.verified).toBe(true)
        expect(st.attempts.map((t) => t.kind)).toEqual(['published', 'verified'])
        // Independently: fetch it from the relay by id and check it from scratch.
        const got = await queryOnce(pool, [{ ids: [st.eventId!] }], { relays: [relay.url], timeoutMs: 10_000 })
        expect(got.events).toHaveLength(1)
        const ev = copyEvent(got.events[0] as NostrEvent)
        expect(ev.kind).toBe(KIND_RECEIPT)
        expect(ev.pubkey).toBe(consolePk)
        const parsed = parseReceiptEvent(ev, consolePk)
        expect(parsed).toMatchObject({
          recordEventId: s.recordEventId,
          operatorPubkey: operatorPk,
          atmPubkey: atmPk,
          paymentHash: s.paymentHash,
          preimage: s.preimage,
          amountMsat: s.wire,
        })
        expect(bytesToHex(sha256(hexToBytes(parsed.preimage)))).toBe(parsed.paymentHash)
      }

      // Nothing is due any more: a second run signs and publishes nothing.
      const count = await relay.storedCount()
      expect(await receipts.runOnce()).toMatchObject({ signed: 0, verified: 0, failed: [] })
      expect(await relay.storedCount()).toBe(count)
      expect(await ledger.call('receipts.summary')).toEqual({ due: 0, unverified: 0, verified: 2 })
      await receipts.close()
    } finally {
      await ledger.close()
    }
  })

  it('after a relay outage, retries with backoff and republishes the SAME stored receipt', async () => {
    const ledger = await openLedger()
    const clock = manualClock(Date.now())
    try {
      const s = await processedCashOut(ledger)
      // The wallet answers the preimage lookup; right after, the relay dies (SIGKILL), so the publish fails.
      let killed = false
      const wallet = {
        lookupInvoice: async (p: { paymentHash: string }) => {
          const tx = await nwc.lookupInvoice(p)
          if (!killed) {
            killed = true
            await relay.kill()
          }
          return tx
        },
      }
      const receipts = await createReceiptService({
        ledger,
        pool,
        consoleSigner,
        operatorPubkey: operatorPk,
        wallet,
        relays: [relay.url],
        clock,
        log: memoryLogger('receipts'),
        publishTimeoutMs: 1_500,
        readBackTimeoutMs: 3_000,
        retryInitialMs: 60_000,
      })
      const report = await receipts.runOnce()
      await relay.restart()
      await op.waitReady()
      expect(report).toMatchObject({ signed: 1, verified: 0 })
      expect(report.failed.map((f) => f.stage)).toEqual(['publish'])
      const stored = await ledger.call<ReceiptStatus>('receipts.status', { settlementId: s.settlementId })
      expect(stored.eventId).not.toBeNull()
      expect(stored.attempts.map((t) => t.kind)).toEqual(['publish_failed'])
      // Before the backoff has passed, the run waits.
      expect(await receipts.runOnce()).toMatchObject({ verified: 0, waiting: 1 })
      clock.advanceMs(60_000)
      const r3 = await receipts.runOnce()
      expect(r3).toMatchObject({ signed: 0, verified: 1, failed: [] })
      const after = await ledger.call<ReceiptStatus>('receipts.status', { settlementId: s.settlementId })
      expect(after.eventId).toBe(stored.eventId)
      expect(after.attempts.map((t) => t.kind)).toEqual(['publish_failed', 'published', 'verified'])
      await receipts.close()
    } finally {
      if (!relay.running) await relay.restart()
      await ledger.close()
    }
  })

  it('refuses to sign when the wallet’s preimage does not hash to the payment hash; nothing is stored', async () => {
    const ledger = await openLedger()
    try {
      const s = await processedCashOut(ledger)
      // The real wallet's answer, with the preimage swapped at the edge.
      const lying = {
        lookupInvoice: async (p: { paymentHash: string }) => ({
          ...(await nwc.lookupInvoice(p)),
          preimage: 'ff'.repeat(32),
        }),
      }
      const log = memoryLogger('receipts')
      const receipts = await createReceiptService({
        ledger,
        pool,
        consoleSigner,
        operatorPubkey: operatorPk,
        wallet: lying,
        relays: [relay.url],
        clock: systemClock,
        log,
      })
      const r = await receipts.runOnce()
      expect(r.signed).toBe(0)
      expect(r.failed).toEqual([
        { settlementId: s.settlementId, stage: 'sign', reason: expect.stringMatching(/preimage/) },
      ])
      expect((await ledger.call<ReceiptStatus>('receipts.status', { settlementId: s.settlementId })).eventId).toBeNull()
      expect(log.records.some((x) => x.msg === 'receipt not signed' && x.fields.settlementId === s.settlementId)).toBe(
        true,
      )
    } finally {
      await ledger.close()
    }
  })
})

describe('wallet reconciliation against the real wallet service', () => {
  it('finds a missing payment, an extra wallet payment and an amount mismatch; matches the rest and a paid payout', async () => {
    const ledger = await openLedger()
    try {
      const now = Date.now()
      const ok = await processedCashOut(ledger, { wireMsat: 5_000_000n })
      const unpaid = await processedCashOut(ledger, { wireMsat: 7_000_000n, pay: false })
      const mismatch = await processedCashOut(ledger, { wireMsat: 9_000_000n, bookedMsat: 9_001_000n })
      // An outgoing wallet payment the ledger knows nothing about.
      const stranger = net.createWallet('stranger', 0n)
      const extra = op.wallet.payInvoice(stranger.makeInvoice(3_000_000n).invoice!)
      // A paid LP payout, as the payout module records it, and its real wallet payment.
      const lpWallet = net.createWallet('lp-a', 0n)
      const payoutInv = lpWallet.makeInvoice(2_000_000n)
      const paid = op.wallet.payInvoice(payoutInv.invoice!)
      const accrual = await ledger.query<{ id: number }>(
        "SELECT MAX(id) AS id FROM acct_accrual WHERE recipient_kind = 'lp'",
      )
      await ledger.transaction([
        {
          sql: `INSERT INTO payout (id, recipient_kind, recipient_id, seq, amount_msat, max_fee_msat, connection_id, state,
                  bolt11, payment_hash, attempt, preimage, fees_paid_msat, planned_at_ms, updated_at_ms, accrual_id)
                VALUES ('po-1', 'lp', 'lp-a', 1, 2000000, 0, 'op', 'paid', ?, ?, 1, ?, 0, ?, ?, ?)`,
          params: [payoutInv.invoice!, payoutInv.paymentHash, paid.preimage, now, now, accrual[0]!.id],
        },
        {
          sql: `INSERT INTO payout_event (payout_id, transition, from_state, to_state, at_ms)
                VALUES ('po-1', 'markPaid', 'sending', 'paid', ?)`,
          params: [now],
        },
      ])

      const period = { fromSec: Math.floor(now / 1000) - 3600, untilSec: Math.floor(now / 1000) + 3600 }
      const { runId, report } = await runWalletReconciliation({
        ledger,
        wallet: nwc,
        period,
        clock: systemClock,
        log: memoryLogger('reconcile'),
      })
      const byHash = new Map(report.differences.map((d) => [d.paymentHash, d]))
      expect(byHash.get(unpaid.paymentHash)).toMatchObject({
        kind: 'missing_in_wallet',
        refs: [`settlement:${unpaid.settlementId}`],
        ledgerMsat: 7_000_000n,
        walletMsat: null,
      })
      expect(byHash.get(mismatch.paymentHash)).toMatchObject({
        kind: 'amount_mismatch',
        ledgerMsat: 9_001_000n,
        walletMsat: 9_000_000n,
        deltaMsat: -1_000n,
      })
      expect(byHash.get(extra.paymentHash)).toMatchObject({
        kind: 'unexpected_in_wallet',
        direction: 'outgoing',
        refs: [],
        walletMsat: 3_000_000n,
      })
      // The wallet is shared with the other tests of this file: every other difference is theirs, never ours.
      const ours = new Set([
        ok.paymentHash,
        unpaid.paymentHash,
        mismatch.paymentHash,
        extra.paymentHash,
        paid.paymentHash,
      ])
      const matchedRefs = report.matched.map((m) => m.ref)
      expect(matchedRefs).toContain(`settlement:${ok.settlementId}`)
      expect(matchedRefs).toContain('payout:po-1')
      expect(report.differences.filter((d) => ours.has(d.paymentHash ?? ''))).toHaveLength(3)

      // Worklist lines with amounts, and the stored run reads back the same.
      const items = reconcileWorklistItems(report)
      const mm = items.find((i) => i.paymentHash === mismatch.paymentHash)!
      expect(mm).toMatchObject({
        kind: 'reconcile_amount_mismatch',
        ledgerMsat: '9001000',
        walletMsat: '9000000',
        deltaMsat: '-1000',
      })
      expect(mm.text).toBe(
        `settlement:${mismatch.settlementId}: ledger 9001000 msat, wallet 9000000 msat (difference -1000 msat).`,
      )
      const latest = await latestReconcileWorklist(ledger)
      expect(latest?.runId).toBe(runId)
      expect(latest?.items).toEqual(items)
    } finally {
      await ledger.close()
    }
  })
})
