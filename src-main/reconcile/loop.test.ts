// The scheduled reconciliation (issue 15 item 3): consecutive windows cover the timeline once and end `lagSec`
// before now, so a payment in flight is not reported; a long gap is caught up in bounded runs; a difference a later
// run matches (a booking that arrived late) leaves the open list; a refund the operator paid over Lightning from
// this wallet is recognised by the payment hash given as its reference, not reported as unexpected, and so is the
// payout of an LP's dust settlement; a sale the wallet dated hours before its booking (console off overnight) is
// looked up by hash and matched; a payment
// nobody accounts for is. The wallet is an in-memory list behind the two-method interface of the NIP-47 client
// (the interop suite runs the loop against the real wallet service).
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { manualClock } from '../../src-shared/clock'
import { memoryLogger } from '../../src-shared/log'
import type { WalletTransaction } from '../../src-shared/reconcile/wallet'
import { readmeRecord, seedReadme, T0_MS } from '../accounting/test-support'
import '../ledger/registry'
import { type InProcessLedger, openLedgerInProcess } from '../ledger/store'
import { createReconcileLoop, openReconcileDifferences, reconcileStatus } from './loop'
import type { ReconcileRunRow } from './procedures'
import type { ReconcileWallet } from './service'

const dir = mkdtempSync(join(tmpdir(), 'reconcile-loop-'))
let ledger: InProcessLedger
const h = (n: number) => n.toString(16).padStart(64, '0')
const sec = (ms: number) => Math.floor(ms / 1000)
const txs: WalletTransaction[] = []

const wallet: ReconcileWallet = {
  listTransactions: async (p) => {
    const inRange = txs
      .filter((t) => (t.createdAtSec ?? 0) >= (p.fromSec ?? 0) && (t.createdAtSec ?? 0) <= (p.untilSec ?? 1e12))
      .sort((a, b) => (b.createdAtSec ?? 0) - (a.createdAtSec ?? 0))
    return inRange.slice(p.offset ?? 0, (p.offset ?? 0) + (p.limit ?? 20))
  },
  lookupInvoice: async ({ paymentHash }) => {
    const t = txs.find((x) => x.paymentHash === paymentHash)
    if (!t) throw new Error('NOT_FOUND: no such payment')
    return t
  },
}
const incoming = (n: number, atMs: number, amountMsat = 266_800_000n): WalletTransaction => ({
  type: 'incoming',
  state: 'settled',
  paymentHash: h(n),
  amountMsat,
  feesPaidMsat: 0n,
  createdAtSec: sec(atMs),
  settledAtSec: sec(atMs),
})

beforeAll(async () => {
  ledger = await openLedgerInProcess({ dir, autoSnapshot: false })
  await seedReadme(ledger)
})
afterAll(async () => {
  await ledger.close()
  rmSync(dir, { recursive: true, force: true })
})

describe('scheduled wallet reconciliation', () => {
  const clock = manualClock(T0_MS)
  let real: ReturnType<typeof createReconcileLoop>
  const runs = () => ledger.call<ReconcileRunRow[]>('reconcile.runs', { limit: 100 })

  it('reconciles contiguous windows that end lagSec before now', async () => {
    real = createReconcileLoop({
      ledger,
      wallet,
      clock,
      log: memoryLogger('reconcile'),
      lagSec: 60,
      maxWindowSec: 3600,
      firstWindowSec: 600,
      marginSec: 120,
    })
    await ledger.call('accounting.bookSettlement', readmeRecord(1, { bookedAtMs: T0_MS + 1000 }))
    txs.push(incoming(1, T0_MS + 500))
    clock.setMs(T0_MS + 30_000) // the window would end before the first payment: nothing is due yet
    expect(await real.runDue()).toBe(1)
    clock.setMs(T0_MS + 120_000)
    expect(await real.runDue()).toBe(1)
    const r = await runs()
    expect(r).toHaveLength(2)
    // Newest first; the second starts where the first ended and ends 60 s before now.
    expect(r[0]!.fromSec).toBe(r[1]!.untilSec)
    expect(r[0]!.untilSec).toBe(sec(T0_MS + 120_000) - 60)
    expect(r.reduce((n, x) => n + x.differences, 0)).toBe(0)
    expect(r.reduce((n, x) => n + x.matched, 0)).toBe(1)
  })

  it('does not report a payment still inside the lag; reports it once it is older and nobody books it', async () => {
    const t = clock.nowMs()
    txs.push({ ...incoming(99, t - 10_000, 5_000n), type: 'outgoing' })
    await real.runDue()
    expect((await openReconcileDifferences(ledger, clock.nowMs())).differences).toEqual([])
    clock.setMs(t + 120_000)
    await real.runDue()
    const open = (await openReconcileDifferences(ledger, clock.nowMs())).differences
    expect(open).toMatchObject([{ kind: 'unexpected_in_wallet', paymentHash: h(99), walletMsat: '5000' }])
    expect(open[0]!.text).toContain('no settlement or payout accounts for')
  })

  it('drops a difference once a later run matches it (a booking that arrived after the lag)', async () => {
    const t = clock.nowMs()
    txs.push(incoming(2, t + 10_000))
    clock.setMs(t + 100_000)
    await real.runDue() // the wallet has it, the ledger does not yet: unexpected
    expect((await openReconcileDifferences(ledger, clock.nowMs())).differences.map((d) => d.paymentHash)).toContain(
      h(2),
    )
    await ledger.call('accounting.bookSettlement', readmeRecord(2, { bookedAtMs: t + 101_000 }))
    clock.setMs(t + 300_000)
    await real.runDue()
    const open = (await openReconcileDifferences(ledger, clock.nowMs())).differences
    expect(open.map((d) => d.paymentHash)).not.toContain(h(2))
    expect(open.map((d) => d.paymentHash)).toEqual([h(99)])
  })

  it('recognises a refund paid over Lightning from the wallet by its payment hash', async () => {
    const t = clock.nowMs()
    const partial = await ledger.call<{ settlementId: number }>(
      'accounting.bookSettlement',
      readmeRecord(3, { bookedAtMs: t, fiatMinor: '100000', fiatRequestedMinor: '200000' }),
    )
    txs.push(incoming(3, t - 1000))
    const [leg] = await ledger.query<{ msat: bigint }>(
      "SELECT msat FROM acct_leg WHERE settlement_id = ? AND kind = 'refund_due'",
      [partial.settlementId],
      { bigint: true },
    )
    expect(BigInt(leg!.msat)).toBeGreaterThan(0n)
    // The operator pays the customer back from the console's wallet and marks the refund with that payment's hash.
    txs.push({ ...incoming(4, t + 2000, BigInt(leg!.msat)), type: 'outgoing' })
    await ledger.call('accounting.resolveWorklistItem', {
      settlementId: partial.settlementId,
      kind: 'refund_due',
      reference: h(4),
      author: 'operator',
      atMs: t + 3000,
    })
    clock.setMs(t + 300_000)
    await real.runDue()
    const open = (await openReconcileDifferences(ledger, clock.nowMs())).differences
    expect(open.map((d) => d.paymentHash)).toEqual([h(99)])
    const [last] = await runs()
    expect(JSON.parse(last!.reportJson).matched.map((m: { ref: string }) => m.ref)).toContain(
      `refund:settlement:${partial.settlementId}`,
    )
  })

  it('recognises a payout of an LP dust settlement: it is an ordinary payout of the accrued msat', async () => {
    const t = clock.nowMs()
    const dust = await ledger.call<{ msat: string }>('accounting.settleLpDust', {
      lpId: 'lp-a',
      fiatMinor: '3',
      rateMsatPerMajor: '123456789',
      author: 'operator',
      atMs: t,
    })
    expect(BigInt(dust.msat)).toBeGreaterThan(0n)
    await ledger.call('payouts.setRecipient', {
      recipientKind: 'lp',
      recipientId: 'lp-a',
      thresholdMsat: '1000',
      minIntervalMs: 0,
      maxFeeBaseMsat: '0',
      maxFeePpm: 0,
      destination: { kind: 'keysend', nodeId: `02${'11'.repeat(32)}` },
      atMs: t,
    })
    const [p] = await ledger.call<Array<{ id: string; amountMsat: string }>>('payouts.plan', {
      nowMs: t,
      connectionId: 'operator',
    })
    const preimage = 'ef'.repeat(32)
    const hash = bytesToHex(sha256(hexToBytes(preimage)))
    await ledger.call('payouts.attachInvoice', {
      payoutId: p!.id,
      bolt11: 'keysend',
      paymentHash: hash,
      amountMsat: p!.amountMsat,
      nowMs: t,
    })
    await ledger.call('payouts.markSending', {
      payoutId: p!.id,
      requestId: '12'.repeat(32),
      requestJson: '{}',
      requestExpiresAtSec: sec(t) + 60,
      nowMs: t,
    })
    txs.push({ ...incoming(0, t + 500, BigInt(p!.amountMsat)), paymentHash: hash, type: 'outgoing' })
    await ledger.call('payouts.markPaid', { payoutId: p!.id, preimage, nowMs: t + 1000 })
    clock.setMs(t + 300_000)
    await real.runDue()
    expect((await openReconcileDifferences(ledger, clock.nowMs())).differences.map((d) => d.paymentHash)).toEqual([
      h(99),
    ])
    const [last] = await runs()
    expect(JSON.parse(last!.reportJson).matched.map((m: { ref: string }) => m.ref)).toContain(`payout:${p!.id}`)
  })

  it('a sale the wallet settled overnight while the console was off matches once it is booked in the morning', async () => {
    const night = clock.nowMs() + 1000
    txs.push(incoming(5, night))
    // The console starts 10 hours later: the night is reconciled first (the wallet shows a payment the ledger
    // does not know yet), then intake books the night's record.
    clock.setMs(night + 10 * 3600_000)
    await real.runDue()
    expect((await openReconcileDifferences(ledger, clock.nowMs())).differences.map((d) => d.paymentHash)).toContain(
      h(5),
    )
    await ledger.call('accounting.bookSettlement', readmeRecord(5, { bookedAtMs: clock.nowMs() }))
    clock.setMs(clock.nowMs() + 300_000)
    await real.runDue()
    // The morning window looked the booked payment up by its hash (far outside the margin) and matched it, so the
    // night's difference is no longer open.
    expect((await openReconcileDifferences(ledger, clock.nowMs())).differences.map((d) => d.paymentHash)).toEqual([
      h(99),
    ])
  })

  it('catches a long gap up in bounded windows and reports its status', async () => {
    const before = (await runs()).length
    clock.setMs(clock.nowMs() + 3 * 3600_000 + 5000)
    expect(await real.runDue()).toBe(4)
    const r = await runs()
    expect(r.length).toBe(before + 4)
    for (let i = 0; i + 1 < r.length; i++) expect(r[i]!.fromSec).toBe(r[i + 1]!.untilSec)
    for (const x of r) expect(x.untilSec - x.fromSec).toBeLessThanOrEqual(3600)
    const st = await reconcileStatus(ledger, clock.nowMs())
    expect(st).toMatchObject({ running: true, lagSec: 60, lastError: null, openDifferences: 1 })
    expect(st.lastRun!.runId).toBe(r[0]!.id)
  })
})
