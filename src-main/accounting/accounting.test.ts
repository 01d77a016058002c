// Ledger accounting against the real ledger store (sql.js + journal, in-process): booking, idempotency,
// rejections, the claim/state machine, worklist, partial-dispense recompute, reversing entries, deposits, dust,
// fixed-LP daily limits, append-only enforcement, and the balance audit after a journal replay.

import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { computeSettlement } from '../../src-shared/money/settlement'
import { parseSettlementInput, settlementResultToJson } from '../../src-shared/money/settlement-json'
import type { InProcessLedger } from '../ledger/store'
import type { BookSettlementResult } from './book'
import type { BalanceAudit } from './operations'
import { openTestLedger, readmeRecord, refusal, seedReadme, T0_MS, type TestLedger } from './test-support'
import type { WorklistItem } from './worklist'

let t: TestLedger
let store: InProcessLedger

beforeEach(async () => {
  t = await openTestLedger()
  store = t.store
  await seedReadme(store)
})
afterEach(async () => {
  await t.dispose()
})

const book = (rec: Record<string, unknown>) => store.call<BookSettlementResult>('accounting.bookSettlement', rec)
const audit = () => store.call<BalanceAudit>('accounting.auditBalances')
const balanceOf = async (lpId: string) => (await audit()).lps.find((l) => l.lpId === lpId)!.balanceMinor
const count = async (table: string) => Number((await store.query(`SELECT COUNT(*) AS n FROM ${table}`))[0]!.n)
const worklistAt = (nowMs: number) => store.call<WorklistItem[]>('accounting.worklist', { nowMs, stuckMinutes: 30 })

describe('bookSettlement', () => {
  it('books the README cash-out exactly as the engine computes it', async () => {
    const r = await book(readmeRecord(1, { claimedFeeMsat: '12704762' }))
    expect(r.status).toBe('pending')
    expect(r.duplicate).toBe(false)
    const expected = settlementResultToJson(
      computeSettlement(
        parseSettlementInput({
          direction: 'cash_out',
          wireMsat: '266800000',
          fiatMinor: '200000',
          currency: 'GTQ',
          platformPpm: 30000,
          operatorPpm: 20000,
          splits: [
            { id: 'owner', weightPpm: 700000 },
            { id: 'tech', weightPpm: 300000 },
          ],
          lps: [
            { id: 'lp-a', mode: 'flow', remainingMinor: '900000' },
            { id: 'lp-b', mode: 'fixed', remainingMinor: '100000', dailyLimitMinor: '50000', usedTodayMinor: '0' },
          ],
          claimedFeeMsat: '12704762',
        }),
      ),
    )
    expect(r.result).toEqual(expected)
    // Legs add up to the wire amount; LP debits to the fiat dispensed.
    const legs = await store.query<{ kind: string; recipient_id: string; msat: bigint; fiat_minor: bigint }>(
      'SELECT kind, recipient_id, msat, fiat_minor FROM acct_leg WHERE settlement_id = ? ORDER BY id',
      [r.settlementId],
      { bigint: true },
    )
    expect(legs.reduce((a, l) => a + l.msat, 0n)).toBe(266_800_000n)
    expect(legs.filter((l) => l.kind === 'lp').reduce((a, l) => a + l.fiat_minor, 0n)).toBe(200_000n)
    expect(await balanceOf('lp-a')).toBe(String(900_000 - 189_474))
    expect(await balanceOf('lp-b')).toBe(String(100_000 - 10_526))
    const a = await audit()
    expect(a.ok).toBe(true)
    expect(a.recipients).toEqual([
      { kind: 'lp', id: 'lp-a', accruedMsat: '240722206' },
      { kind: 'lp', id: 'lp-b', accruedMsat: '13373032' },
      { kind: 'platform', id: 'platform', accruedMsat: '7622857' },
      { kind: 'split', id: 'owner', accruedMsat: '3557334' },
      { kind: 'split', id: 'tech', accruedMsat: '1524571' },
    ])
    // The fee config in force is snapshotted on the row.
    const [row] = await store.query('SELECT platform_ppm, operator_ppm, splits_json, local_day FROM acct_settlement')
    expect(row).toMatchObject({ platform_ppm: 30000, operator_ppm: 20000, local_day: '2026-03-02' })
  })

  it('books the same record once, however often it arrives', async () => {
    const first = await book(readmeRecord(1))
    const before = [await count('acct_leg'), await count('acct_accrual'), await count('acct_lp_entry')]
    const again = await book(readmeRecord(1, { atmEventId: 'ev-1-v2', bookedAtMs: T0_MS + 9999 }))
    expect(again).toEqual({ settlementId: first.settlementId, status: 'pending', duplicate: true })
    expect([await count('acct_leg'), await count('acct_accrual'), await count('acct_lp_entry')]).toEqual(before)
    // A different record reusing the payment hash is stored as rejected, not booked.
    const conflict = await book(readmeRecord(1, { wireMsat: '1' }))
    expect(conflict.conflict).toBe(true)
    expect(await count('acct_settlement')).toBe(1)
    const [rej] = await store.query('SELECT field, reason FROM acct_rejected')
    expect(rej?.field).toBe('paymentHash')
  })

  it('stores a record breaking a money rule as rejected, with the reason, and books nothing', async () => {
    const zero = await book(readmeRecord(2, { fiatMinor: '0' }))
    expect(zero.status).toBe('rejected')
    expect(zero.reason).toMatch(/^fiatMinor: /)
    const unknown = await book(readmeRecord(3, { machineId: 'atm-x' }))
    expect(unknown.reason).toMatch(/^machineId: unknown machine/)
    const wrongCurrency = await book(readmeRecord(4, { currency: 'USD' }))
    expect(wrongCurrency.reason).toMatch(/^currency: /)
    const overRequested = await book(readmeRecord(5, { fiatRequestedMinor: '100' }))
    expect(overRequested.reason).toMatch(/^fiatMinor: must not exceed/)
    expect(await count('acct_leg')).toBe(0)
    expect((await audit()).recipients).toEqual([])
  })

  it('refuses malformed arguments naming the field, writing nothing', async () => {
    expect((await refusal(book(readmeRecord(6, { paymentHash: 'xyz' })))).field).toBe('paymentHash')
    expect((await refusal(book(readmeRecord(6, { wireMsat: '-1' })))).field).toBe('wireMsat')
    expect((await refusal(book(readmeRecord(6, { wireMsat: 1.5 })))).field).toBe('wireMsat')
    expect(await count('acct_settlement')).toBe(0)
  })

  it('takes the fee config in force at the record time, not the newest', async () => {
    await store.call('accounting.setConfig', {
      machineId: 'atm-1',
      effectiveFromMs: T0_MS + 3_600_000,
      atMs: T0_MS,
      cashOutPlatformPpm: 0,
      cashOutOperatorPpm: 100_000,
      cashInPlatformPpm: 0,
      cashInOperatorPpm: 0,
      timeZone: 'UTC',
      author: 'operator',
    })
    await book(readmeRecord(7))
    await book(readmeRecord(8, { createdAt: Math.floor(T0_MS / 1000) + 7200 }))
    const rows = await store.query('SELECT platform_ppm, operator_ppm, time_zone FROM acct_settlement ORDER BY id')
    expect(rows).toEqual([
      { platform_ppm: 30000, operator_ppm: 20000, time_zone: 'America/Guatemala' },
      { platform_ppm: 0, operator_ppm: 100000, time_zone: 'UTC' },
    ])
  })

  it('counts a fixed LP’s daily limit per operator-local day', async () => {
    const day = Math.floor(T0_MS / 1000)
    await book(readmeRecord(10, { createdAt: day }))
    await book(readmeRecord(11, { createdAt: day + 60 }))
    // Same local day: lp-b already took 10,526 + its share of the rest of its 50,000 limit.
    const used = async () =>
      (
        await store.query<{ s: bigint }>(
          "SELECT -SUM(delta_minor) AS s FROM acct_lp_entry WHERE lp_id = 'lp-b' AND kind = 'allocation'",
          [],
          { bigint: true },
        )
      )[0]!.s
    const afterTwo = await used()
    expect(afterTwo <= 50_000n).toBe(true)
    // 06:00Z on March 3rd is midnight in Guatemala: a new day, the limit is fresh again.
    await book(readmeRecord(12, { createdAt: Math.floor(Date.UTC(2026, 2, 3, 6, 0, 0) / 1000) }))
    const legs = await store.query<{ fiat_minor: bigint }>(
      "SELECT fiat_minor FROM acct_leg WHERE settlement_id = 3 AND kind = 'lp' AND recipient_id = 'lp-b'",
      [],
      { bigint: true },
    )
    expect(legs[0]!.fiat_minor > 0n).toBe(true)
    expect((await audit()).ok).toBe(true)
  })

  it('books a cash-in without touching any LP', async () => {
    const r = await book(readmeRecord(13, { direction: 'cash_in', wireMsat: '97000000', fiatMinor: '80000' }))
    expect(r.status).toBe('pending')
    expect(r.result).toMatchObject({
      principalMsat: '100000000',
      commissionMsat: '3000000',
      platformFeeMsat: '1000000',
    })
    expect(await balanceOf('lp-a')).toBe('900000')
  })
})

describe('settlement state machine and worklist', () => {
  it('lets exactly one of two concurrent workers claim a settlement', async () => {
    const { settlementId } = await book(readmeRecord(20))
    const [a, b] = await Promise.all([
      store.call<{ claimed: boolean }>('accounting.claimSettlement', { settlementId, token: 'w1', atMs: T0_MS + 5 }),
      store.call<{ claimed: boolean }>('accounting.claimSettlement', { settlementId, token: 'w2', atMs: T0_MS + 5 }),
    ])
    expect([a.claimed, b.claimed].sort()).toEqual([false, true])
    const winner = a.claimed ? 'w1' : 'w2'
    const loser = a.claimed ? 'w2' : 'w1'
    const r = await refusal(
      store.call('accounting.completeSettlement', { settlementId, token: loser, atMs: T0_MS + 6 }),
    )
    expect(r.code).toBe('E_CLAIM')
    await store.call('accounting.completeSettlement', { settlementId, token: winner, atMs: T0_MS + 7 })
    const [row] = await store.query('SELECT status, claim_token FROM acct_settlement WHERE id = ?', [settlementId])
    expect(row).toEqual({ status: 'processed', claim_token: null })
    const events = await store.query('SELECT from_status, to_status FROM acct_settlement_event ORDER BY id')
    expect(events.map((e) => `${e.from_status}->${e.to_status}`)).toEqual([
      'null->pending',
      'pending->processing',
      'processing->processed',
    ])
  })

  it('claims the oldest pending settlement when no id is given, and nothing when none is pending', async () => {
    const { settlementId: first } = await book(readmeRecord(24))
    await book(readmeRecord(25))
    const c = await store.call('accounting.claimSettlement', { token: 'w', atMs: T0_MS + 1 })
    expect(c).toEqual({ claimed: true, settlementId: first })
    await store.call('accounting.claimSettlement', { token: 'w', atMs: T0_MS + 2 })
    expect(await store.call('accounting.claimSettlement', { token: 'w', atMs: T0_MS + 3 })).toEqual({
      claimed: false,
      settlementId: null,
    })
  })

  it('lists errored and stuck settlements, and retries / force-resets them', async () => {
    const { settlementId: s1 } = await book(readmeRecord(21))
    const { settlementId: s2 } = await book(readmeRecord(22))
    await store.call('accounting.claimSettlement', { settlementId: s1, token: 'w', atMs: T0_MS + 10 })
    await store.call('accounting.failSettlement', {
      settlementId: s1,
      token: 'w',
      error: 'wallet offline',
      atMs: T0_MS + 20,
    })
    const now = T0_MS + 31 * 60_000 + 1001
    const items = await worklistAt(now)
    expect(items.map((i) => [i.kind, i.settlementId])).toEqual([
      ['errored', s1],
      ['stuck', s2],
    ])
    expect(items[0]!.reason).toBe('wallet offline')
    // Force-reset refuses a settlement that is not stuck long enough, then moves the stuck one to errored.
    const early = await refusal(
      store.call('accounting.forceResetSettlement', {
        settlementId: s2,
        nowMs: T0_MS + 60_000,
        stuckMinutes: 30,
        author: 'op',
      }),
    )
    expect(early.code).toBe('E_STATE')
    await store.call('accounting.forceResetSettlement', {
      settlementId: s2,
      nowMs: now,
      stuckMinutes: 30,
      author: 'op',
    })
    await store.call('accounting.retrySettlement', { settlementId: s1, atMs: now, author: 'op' })
    const after = await worklistAt(now)
    expect(after.map((i) => [i.kind, i.settlementId])).toEqual([['errored', s2]])
    const [row] = await store.query('SELECT status FROM acct_settlement WHERE id = ?', [s1])
    expect(row?.status).toBe('pending')
  })

  it('flags a fee mismatch on the worklist until the operator resolves it', async () => {
    const { settlementId } = await book(readmeRecord(23, { claimedFeeMsat: '13000000' }))
    const items = (await worklistAt(T0_MS)).filter((i) => i.kind === 'fee_mismatch')
    expect(items).toEqual([expect.objectContaining({ settlementId, amountMsat: String(13_000_000 - 12_704_762) })])
    await store.call('accounting.resolveWorklistItem', {
      settlementId,
      kind: 'fee_mismatch',
      author: 'op',
      atMs: T0_MS,
    })
    expect((await worklistAt(T0_MS)).filter((i) => i.kind === 'fee_mismatch')).toEqual([])
  })
})

describe('partial dispense, reversals and paid legs', () => {
  it('recomputes from the snapshot with reversing and new entries, and owes the customer the rest', async () => {
    const { settlementId } = await book(readmeRecord(30))
    // The operator raises the fees afterwards; the recompute must still use the snapshot.
    await store.call('accounting.setConfig', {
      machineId: null,
      effectiveFromMs: 0,
      atMs: T0_MS + 5000,
      cashOutPlatformPpm: 100_000,
      cashOutOperatorPpm: 50_000,
      cashInPlatformPpm: 0,
      cashInOperatorPpm: 0,
      author: 'op',
    })
    const r = await store.call<{ generation: number; result: Record<string, unknown> }>(
      'accounting.recomputePartialDispense',
      { settlementId, fiatMinor: '100000', atMs: T0_MS + 6000, author: 'op' },
    )
    expect(r.generation).toBe(1)
    // Half dispensed: P and C halve (floored) from the snapshot's 5 % fees; the rest is a refund.
    expect(r.result).toMatchObject({
      principalMsat: '127047619',
      commissionMsat: '6352381',
      refundDueMsat: String(266_800_000 - 127_047_619 - 6_352_381),
    })
    // LP fiat: lp-a and lp-b get their share of 1,000 GTQ instead of 2,000.
    const lps = r.result.lps as { id: string; fiatMinor: string }[]
    expect(lps.reduce((a, l) => a + BigInt(l.fiatMinor), 0n)).toBe(100_000n)
    expect(await balanceOf('lp-a')).toBe(String(900_000 - Number(lps[0]!.fiatMinor)))
    const reversals = await store.query('SELECT COUNT(*) AS n FROM acct_leg WHERE reverses_leg_id IS NOT NULL')
    // One per live leg of generation 0: platform, 2 splits, 2 LPs (no float or refund leg: both were zero).
    expect(reversals[0]!.n).toBe(5)
    expect((await audit()).ok).toBe(true)
    const refund = (await worklistAt(T0_MS + 6000)).find((i) => i.kind === 'refund_due')
    expect(refund?.amountMsat).toBe(String(266_800_000 - 127_047_619 - 6_352_381))
    await store.call('accounting.resolveWorklistItem', {
      settlementId,
      kind: 'refund_due',
      reference: 'cash handed back',
      author: 'op',
      atMs: T0_MS + 7000,
    })
    expect((await worklistAt(T0_MS + 7000)).find((i) => i.kind === 'refund_due')).toBeUndefined()
    // Once a leg (here: the refund) is paid, no further recompute.
    const again = await refusal(
      store.call('accounting.recomputePartialDispense', {
        settlementId,
        fiatMinor: '50000',
        atMs: T0_MS + 8000,
        author: 'op',
      }),
    )
    expect(again.code).toBe('E_PAID')
  })

  it('never drives an LP below zero when it was drained between booking and recompute', async () => {
    const { settlementId } = await book(readmeRecord(33))
    // Drain both LPs completely with further cash-outs (the float then covers the rest).
    for (let i = 0; i < 6; i++) await book(readmeRecord(100 + i, { fiatMinor: '1000000', wireMsat: '1300000000' }))
    expect(await balanceOf('lp-a')).toBe('0')
    const r = await store.call<{ result: { lps: { fiatMinor: string }[]; operatorFloat: { fiatMinor: string } } }>(
      'accounting.recomputePartialDispense',
      { settlementId, fiatMinor: '199999', atMs: T0_MS + 9000, author: 'op' },
    )
    // Each LP can take back at most what the reversal returned to it; the float covers any difference.
    const lpFiat = r.result.lps.reduce((a, l) => a + BigInt(l.fiatMinor), 0n)
    expect(lpFiat + BigInt(r.result.operatorFloat.fiatMinor)).toBe(199_999n)
    expect((await audit()).ok).toBe(true)
  })

  it('refuses a recompute once the payouts module marked a leg paid', async () => {
    const { settlementId } = await book(readmeRecord(31))
    const [leg] = await store.query<{ id: number }>("SELECT id FROM acct_leg WHERE kind = 'split' LIMIT 1")
    await store.call('accounting.markLegsPaid', { legIds: [leg!.id], paidRef: 'payout-1', atMs: T0_MS + 10 })
    const twice = await refusal(
      store.call('accounting.markLegsPaid', { legIds: [leg!.id], paidRef: 'payout-2', atMs: T0_MS + 11 }),
    )
    expect(twice.code).toBe('E_PAID')
    const r = await refusal(
      store.call('accounting.recomputePartialDispense', {
        settlementId,
        fiatMinor: '1000',
        atMs: T0_MS + 20,
        author: 'op',
      }),
    )
    expect(r.code).toBe('E_PAID')
  })

  it('reverses a settlement with entries naming the originals; balances and accruals return to zero', async () => {
    const { settlementId } = await book(readmeRecord(32))
    const r = await store.call<{ reversedLegs: number }>('accounting.reverseSettlement', {
      settlementId,
      reason: 'test record from the bench',
      author: 'op',
      atMs: T0_MS + 50,
    })
    expect(r.reversedLegs).toBe(5)
    expect(await balanceOf('lp-a')).toBe('900000')
    expect(await balanceOf('lp-b')).toBe('100000')
    expect((await audit()).recipients.every((x) => x.accruedMsat === '0')).toBe(true)
    const [row] = await store.query('SELECT status, reason FROM acct_settlement WHERE id = ?', [settlementId])
    expect(row).toEqual({ status: 'rejected', reason: 'test record from the bench' })
  })
})

describe('deposits, dust and append-only history', () => {
  it('takes back a confirmed deposit only by a reversing entry, and never beyond the undrawn balance', async () => {
    await book(readmeRecord(40))
    // lp-b had 100,000, 10,526 were sold to the customer: at most 89,474 can go back.
    const tooMuch = await refusal(
      store.call('accounting.reverseDeposit', {
        depositId: 'd-b',
        reason: 'LP withdrew',
        author: 'op',
        atMs: T0_MS + 60,
      }),
    )
    expect(tooMuch.code).toBe('E_BALANCE')
    await store.call('accounting.reverseDeposit', {
      depositId: 'd-b',
      amountMinor: '89474',
      reason: 'LP withdrew',
      author: 'op',
      atMs: T0_MS + 60,
    })
    expect(await balanceOf('lp-b')).toBe('0')
    const edit = await refusal(
      store.transaction([{ sql: "UPDATE acct_deposit SET amount_minor = 1 WHERE id = 'd-b'" }]),
    )
    expect(edit.message).toMatch(/only moves from pending/)
    const del = await refusal(store.transaction([{ sql: "DELETE FROM acct_deposit WHERE id = 'd-b'" }]))
    expect(del.message).toMatch(/never deleted/)
    const again = await refusal(store.call('accounting.confirmDeposit', { depositId: 'd-b', atMs: T0_MS }))
    expect(again.code).toBe('E_STATE')
    expect((await audit()).ok).toBe(true)
  })

  it('refuses any edit of money history', async () => {
    await book(readmeRecord(41))
    for (const sql of [
      'UPDATE acct_lp_entry SET delta_minor = 0',
      'DELETE FROM acct_accrual',
      'UPDATE acct_leg SET msat = 0',
      'DELETE FROM acct_leg',
      'UPDATE acct_settlement SET wire_msat = 1',
      'UPDATE acct_result SET principal_msat = 0',
      'DELETE FROM acct_config',
    ]) {
      const r = await refusal(store.transaction([{ sql }]))
      expect(r.message).toMatch(/append-only|immutable|never deleted/)
    }
  })

  it('settles an LP’s dust at a stated rate as an explicit entry', async () => {
    await store.call('accounting.upsertLp', { id: 'lp-c', name: 'Cata', currency: 'GTQ', mode: 'flow', atMs: T0_MS })
    await store.call('accounting.createDeposit', { id: 'd-c', lpId: 'lp-c', amountMinor: '3750', atMs: T0_MS })
    await store.call('accounting.confirmDeposit', { depositId: 'd-c', atMs: T0_MS })
    // E12: 37.50 GTQ at 130 sats/GTQ = 4,875 sats.
    const r = await store.call('accounting.settleLpDust', {
      lpId: 'lp-c',
      rateMsatPerMajor: '130000',
      author: 'op',
      atMs: T0_MS + 1,
    })
    expect(r).toMatchObject({ fiatMinor: '3750', msat: '4875000' })
    expect(await balanceOf('lp-c')).toBe('0')
    const a = await audit()
    expect(a.ok).toBe(true)
    expect(a.recipients).toContainEqual({ kind: 'lp', id: 'lp-c', accruedMsat: '4875000' })
  })

  it('keeps operator notes append-only and timestamped', async () => {
    const { settlementId } = await book(readmeRecord(42))
    await store.call('accounting.addNote', { settlementId, author: 'op', text: 'customer called', atMs: T0_MS + 3 })
    const notes = await store.query(
      'SELECT author, text, created_at_ms, system FROM acct_note WHERE settlement_id = ?',
      [settlementId],
    )
    expect(notes).toEqual([{ author: 'op', text: 'customer called', created_at_ms: T0_MS + 3, system: 0 }])
    const r = await refusal(store.transaction([{ sql: "UPDATE acct_note SET text = 'x'" }]))
    expect(r.message).toMatch(/append-only/)
    const long = await refusal(
      store.call('accounting.addNote', { settlementId, author: 'op', text: 'x'.repeat(2001), atMs: 1 }),
    )
    expect(long.field).toBe('text')
  })

  it('replays the journal to the same balances after a restart', async () => {
    await book(readmeRecord(43))
    await store.call('accounting.recomputePartialDispense', {
      settlementId: 1,
      fiatMinor: '150000',
      atMs: T0_MS + 100,
      author: 'op',
    })
    const before = await audit()
    store = await t.reopen()
    expect(await audit()).toEqual(before)
    expect(before.ok).toBe(true)
  })
})
