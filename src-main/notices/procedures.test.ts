// Notices ledger procedures on a real in-process ledger with every registered module: contacts (with the LP
// module's npub as fallback), sent markers, the payout-notice query and the monthly statement query.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { checkStatement } from '../../src-shared/notices/texts'
import { seedReadme, T0_MS } from '../accounting/test-support'
import '../ledger/registry'
import { type InProcessLedger, openLedgerInProcess } from '../ledger/store'
import type { NoticeContact, PayoutNoticeData, StatementData } from './procedures'

const dir = mkdtempSync(join(tmpdir(), 'notices-proc-'))
let ledger: InProcessLedger
const PK = 'a1'.repeat(32)
const HASH = '34'.repeat(32)

beforeAll(async () => {
  ledger = await openLedgerInProcess({ dir, autoSnapshot: false })
  await seedReadme(ledger)
  await ledger.call('accounting.bookSettlement', {
    machineId: 'atm-1',
    direction: 'cash_out',
    paymentHash: '56'.repeat(32),
    wireMsat: '266800000',
    fiatMinor: '200000',
    currency: 'GTQ',
    atmEventId: 'ev-1',
    createdAt: Math.floor(T0_MS / 1000),
    bookedAtMs: T0_MS + 1000,
  })
  // A paid LP payout as the payout module records it: the row, its 'paid' event, and the LP leg it covered.
  const leg = await ledger.query<{ id: number; msat: number; fiat_minor: number }>(
    "SELECT id, msat, fiat_minor FROM acct_leg WHERE kind = 'lp' AND recipient_id = 'lp-a'",
  )
  const accrual = await ledger.query<{ id: number }>(
    "SELECT MAX(id) AS id FROM acct_accrual WHERE recipient_id = 'lp-a'",
  )
  const paidMsat = Math.floor(leg[0]!.msat / 1000) * 1000
  await ledger.transaction([
    {
      sql: `INSERT INTO payout (id, recipient_kind, recipient_id, seq, amount_msat, max_fee_msat, connection_id, state,
              payment_hash, attempt, preimage, planned_at_ms, updated_at_ms, accrual_id)
            VALUES ('po-1', 'lp', 'lp-a', 1, ?, 0, 'op', 'paid', ?, 1, ?, ?, ?, ?)`,
      params: [paidMsat, HASH, '78'.repeat(32), T0_MS + 2000, T0_MS + 3000, accrual[0]!.id],
    },
    {
      sql: `INSERT INTO payout_event (payout_id, transition, from_state, to_state, at_ms)
            VALUES ('po-1', 'markPaid', 'sending', 'paid', ?)`,
      params: [T0_MS + 3000],
    },
    {
      sql: "UPDATE acct_leg SET paid_ref = 'payout:po-1', paid_at_ms = ? WHERE id = ?",
      params: [T0_MS + 3000, leg[0]!.id],
    },
  ])
})

afterAll(async () => {
  await ledger?.close()
  rmSync(dir, { recursive: true, force: true })
})

describe('contacts', () => {
  it('newest contact wins; the LP module npub is the fallback; bad input names the field', async () => {
    expect(await ledger.call('notices.getContact', { recipientKind: 'lp', recipientId: 'lp-b' })).toBeNull()
    await ledger.transaction([
      {
        sql: 'INSERT INTO lp_profile (lp_id, npub, pubkey, registered_at_ms) VALUES (?, ?, ?, ?)',
        params: ['lp-b', 'npub1test', PK, T0_MS],
      },
    ])
    expect(
      await ledger.call<NoticeContact>('notices.getContact', { recipientKind: 'lp', recipientId: 'lp-b' }),
    ).toEqual({
      recipientKind: 'lp',
      recipientId: 'lp-b',
      pubkey: PK,
      relays: [],
      atMs: T0_MS,
    })
    await ledger.call('notices.setContact', {
      recipientKind: 'lp',
      recipientId: 'lp-b',
      pubkey: 'b2'.repeat(32),
      relays: ['wss://dm.example'],
      atMs: T0_MS + 1,
    })
    const c = await ledger.call<NoticeContact>('notices.getContact', { recipientKind: 'lp', recipientId: 'lp-b' })
    expect(c).toMatchObject({ pubkey: 'b2'.repeat(32), relays: ['wss://dm.example'] })
    await expect(
      ledger.call('notices.setContact', { recipientKind: 'lp', recipientId: 'x', pubkey: 'zz', relays: [], atMs: 1 }),
    ).rejects.toMatchObject({ details: { field: 'pubkey' } })
    await expect(
      ledger.call('notices.setContact', {
        recipientKind: 'lp',
        recipientId: 'x',
        pubkey: null,
        relays: ['http://x'],
        atMs: 1,
      }),
    ).rejects.toMatchObject({ details: { field: 'relays' } })
  })
})

describe('sent markers', () => {
  it('records a key once and never edits it', async () => {
    const mark = { key: 'k-1', kind: 'dm', recipientPubkey: PK, wrapId: 'c3'.repeat(32), relaysOk: 2, atMs: 5 }
    expect(await ledger.call('notices.wasSent', { key: 'k-1' })).toEqual({ sent: false, wrapId: null })
    expect(await ledger.call('notices.markSent', mark)).toEqual({ inserted: true })
    expect(await ledger.call('notices.markSent', { ...mark, wrapId: 'd4'.repeat(32) })).toEqual({ inserted: false })
    expect(await ledger.call('notices.wasSent', { key: 'k-1' })).toEqual({ sent: true, wrapId: 'c3'.repeat(32) })
    await expect(
      ledger.transaction([{ sql: "UPDATE notice_sent SET relays_ok = 9 WHERE key = 'k-1'" }]),
    ).rejects.toThrow(/append-only/)
  })
})

describe('payout notice and statement queries', () => {
  it('gathers a paid LP payout: fiat at the rate of the legs it paid, balance, what is still accrued', async () => {
    const d = await ledger.call<PayoutNoticeData>('notices.payoutNotice', { payoutId: 'po-1' })
    const leg = (
      await ledger.query<{ msat: bigint; fiat_minor: bigint }>(
        "SELECT msat, fiat_minor FROM acct_leg WHERE paid_ref = 'payout:po-1'",
        [],
        { bigint: true },
      )
    )[0]!
    const paid = (leg.msat / 1000n) * 1000n
    expect(d).toMatchObject({ payoutId: 'po-1', lpId: 'lp-a', lpName: 'Ana', currency: 'GTQ', paymentHash: HASH })
    expect(BigInt(d.paidMsat)).toBe(paid)
    expect(BigInt(d.fiatEquivalentMinor)).toBe((paid * leg.fiat_minor) / leg.msat)
    expect(d.paidAtMs).toBe(T0_MS + 3000)
    expect(BigInt(d.remainingBalanceMinor)).toBe(900_000n - leg.fiat_minor)
    expect(await ledger.call('notices.payoutNotice', { payoutId: 'nope' })).toBeNull()
  })

  it('computes a statement whose lines add up, with the payout inside the window', async () => {
    const s = await ledger.call<StatementData>('notices.lpStatement', {
      lpId: 'lp-a',
      fromMs: T0_MS - 86_400_000,
      untilMs: T0_MS + 86_400_000,
    })
    expect(s).toMatchObject({ lpName: 'Ana', openingBalanceMinor: '0', depositsMinor: '900000', payoutsPaidCount: 1 })
    const statement = {
      recipientName: s.lpName,
      period: '2026-03',
      timeZone: 'UTC',
      currency: s.currency,
      openingBalanceMinor: BigInt(s.openingBalanceMinor),
      depositsMinor: BigInt(s.depositsMinor),
      allocatedMinor: BigInt(s.allocatedMinor),
      dustMinor: BigInt(s.dustMinor),
      closingBalanceMinor: BigInt(s.closingBalanceMinor),
      allocatedMsat: BigInt(s.allocatedMsat),
      payoutsPaidCount: s.payoutsPaidCount,
      payoutsPaidMsat: BigInt(s.payoutsPaidMsat),
    }
    expect(() => checkStatement(statement)).not.toThrow()
    expect(statement.allocatedMinor).toBeGreaterThan(0n)
    // A window before anything happened: all zero.
    const empty = await ledger.call<StatementData>('notices.lpStatement', { lpId: 'lp-a', fromMs: 0, untilMs: 1000 })
    expect(empty).toMatchObject({ openingBalanceMinor: '0', closingBalanceMinor: '0', payoutsPaidCount: 0 })
    await expect(ledger.call('notices.lpStatement', { lpId: 'lp-a', fromMs: 5, untilMs: 5 })).rejects.toMatchObject({
      details: { field: 'untilMs' },
    })
  })
})
