// Reconciliation adapter: the ledger side (settlements by direction, paid payouts, failed payout attempts that
// must not be settled), list_transactions paging, the stored run and the worklist lines. The wallet here is an
// in-memory list behind the same two-method interface the NIP-47 client offers (the interop suite uses the real
// wallet service).
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { manualClock } from '../../src-shared/clock'
import { memoryLogger } from '../../src-shared/log'
import type { WalletTransaction } from '../../src-shared/reconcile/wallet'
import { seedReadme, T0_MS } from '../accounting/test-support'
import '../ledger/registry'
import { type InProcessLedger, openLedgerInProcess } from '../ledger/store'
import {
  fetchWalletTransactions,
  latestReconcileWorklist,
  loadLedgerPayments,
  type ReconcileWallet,
  runWalletReconciliation,
  WALLET_PAGE_SIZE,
} from './service'

const dir = mkdtempSync(join(tmpdir(), 'reconcile-'))
let ledger: InProcessLedger
const h = (n: number) => n.toString(16).padStart(64, '0')
const T0_SEC = Math.floor(T0_MS / 1000)

function listWallet(txs: WalletTransaction[], calls: Array<Record<string, unknown>> = []): ReconcileWallet {
  return {
    listTransactions: async (p) => {
      calls.push(p)
      const sorted = [...txs].sort((a, b) => (b.createdAtSec ?? 0) - (a.createdAtSec ?? 0))
      const inRange = sorted.filter(
        (t) =>
          (p.fromSec === undefined || (t.createdAtSec ?? 0) >= p.fromSec) &&
          (p.untilSec === undefined || (t.createdAtSec ?? 0) <= p.untilSec),
      )
      return inRange.slice(p.offset ?? 0, (p.offset ?? 0) + (p.limit ?? 20))
    },
  }
}
const tx = (n: number, over: Partial<WalletTransaction> = {}): WalletTransaction => ({
  type: 'incoming',
  state: 'settled',
  paymentHash: h(n),
  amountMsat: 266_800_000n,
  feesPaidMsat: 0n,
  createdAtSec: T0_SEC,
  settledAtSec: T0_SEC,
  ...over,
})

beforeAll(async () => {
  ledger = await openLedgerInProcess({ dir, autoSnapshot: false })
  await seedReadme(ledger)
  for (const [n, direction] of [
    [1, 'cash_out'],
    [2, 'cash_in'],
  ] as const)
    await ledger.call('accounting.bookSettlement', {
      machineId: 'atm-1',
      direction,
      paymentHash: h(n),
      wireMsat: '266800000',
      fiatMinor: '200000',
      currency: 'GTQ',
      atmEventId: `ev-${n}`,
      createdAt: T0_SEC,
      bookedAtMs: T0_MS,
    })
  const accrual = await ledger.query<{ id: number }>('SELECT MAX(id) AS id FROM acct_accrual')
  // A payout whose first attempt failed (invoice h(10)) and whose second attempt paid (invoice h(11)).
  await ledger.transaction([
    {
      sql: `INSERT INTO payout (id, recipient_kind, recipient_id, seq, amount_msat, max_fee_msat, connection_id, state,
              payment_hash, attempt, preimage, planned_at_ms, updated_at_ms, accrual_id)
            VALUES ('po-1', 'lp', 'lp-a', 1, 1000000, 0, 'op', 'paid', ?, 2, ?, ?, ?, ?)`,
      params: [h(11), 'ab'.repeat(32), T0_MS, T0_MS + 10, accrual[0]!.id],
    },
    {
      sql: `INSERT INTO payout_invoice (payment_hash, payout_id, attempt, bolt11, amount_msat, created_at_ms)
            VALUES (?, 'po-1', 1, 'lnbcrt1', 1000000, ?), (?, 'po-1', 2, 'lnbcrt2', 1000000, ?)`,
      params: [h(10), T0_MS, h(11), T0_MS + 5],
    },
    {
      sql: `INSERT INTO payout_event (payout_id, transition, from_state, to_state, at_ms)
            VALUES ('po-1', 'markPaid', 'sending', 'paid', ?)`,
      params: [T0_MS + 10],
    },
  ])
})

afterAll(async () => {
  await ledger?.close()
  rmSync(dir, { recursive: true, force: true })
})

describe('loadLedgerPayments', () => {
  it('lists settlements by direction, the paid payout, and the failed attempt as not expected', async () => {
    const rows = await loadLedgerPayments(ledger, T0_MS - 1000, T0_MS + 1000)
    expect(rows.map((r) => [r.ref, r.direction, r.paymentHash, r.amountMsat, r.expectedSettled])).toEqual([
      ['settlement:1', 'incoming', h(1), 266_800_000n, true],
      ['settlement:2', 'outgoing', h(2), 266_800_000n, true],
      ['payout:po-1', 'outgoing', h(11), 1_000_000n, true],
      ['payout:po-1#1', 'outgoing', h(10), 1_000_000n, false],
    ])
    expect(await loadLedgerPayments(ledger, 0, 1000)).toEqual([])
  })
})

describe('fetchWalletTransactions', () => {
  it('pages with offset and NIP-47 page size until a short page', async () => {
    const txs = Array.from({ length: 45 }, (_, i) => tx(1000 + i, { createdAtSec: T0_SEC + i }))
    const calls: Array<Record<string, unknown>> = []
    const got = await fetchWalletTransactions(listWallet(txs, calls), { fromSec: T0_SEC, untilSec: T0_SEC + 100 })
    expect(got).toHaveLength(45)
    expect(new Set(got.map((t) => t.paymentHash)).size).toBe(45)
    expect(calls.map((c) => c.offset)).toEqual([0, 20, 40])
    expect(calls.every((c) => c.limit === WALLET_PAGE_SIZE)).toBe(true)
    const endless: ReconcileWallet = { listTransactions: async () => txs.slice(0, 20) }
    await expect(fetchWalletTransactions(endless, { fromSec: 0, untilSec: 1 }, { maxPages: 3 })).rejects.toThrow(
      /full pages/,
    )
  })
})

describe('runWalletReconciliation', () => {
  it('flags a double payment of a failed attempt and stores the run for the worklist', async () => {
    const wallet = listWallet([
      tx(1),
      tx(2, { type: 'outgoing' }),
      tx(11, { type: 'outgoing', amountMsat: 1_000_000n }),
      tx(10, { type: 'outgoing', amountMsat: 1_000_000n }),
    ])
    const { runId, report } = await runWalletReconciliation({
      ledger,
      wallet,
      period: { fromSec: T0_SEC - 3600, untilSec: T0_SEC + 3600 },
      clock: manualClock(T0_MS + 60_000),
      log: memoryLogger('reconcile'),
    })
    expect(report.matched.map((m) => m.ref)).toEqual(['payout:po-1', 'settlement:1', 'settlement:2'])
    expect(report.differences).toMatchObject([{ kind: 'settled_unexpectedly', refs: ['payout:po-1#1'] }])
    const latest = await latestReconcileWorklist(ledger)
    expect(latest).toMatchObject({ runId, items: [{ kind: 'reconcile_settled_unexpectedly', walletMsat: '1000000' }] })
    expect(latest!.items[0]!.text).toBe(
      'Double payment? payout:po-1#1: the wallet paid 1000000 msat for an attempt the ledger recorded as not paid.',
    )
  })
})
