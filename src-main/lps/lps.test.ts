// LP lifecycle procedures against the real ledger store (sql.js + journal, in-process) with the accounting and
// payout modules they build on: registration and its refusals, deposits pending → confirmed / cancelled, reversing
// entries and their limits, balances derived from the entries, statements for a period (totals and opening +
// lines = closing), dust settlement, deactivation (no new money in, accrued sats still planned for payout), history
// paging, and the append-only history surviving a journal replay.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { npubEncode } from 'nostr-tools/nip19'
import { getPublicKey } from 'nostr-tools/pure'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { BalanceAudit } from '../accounting/operations'
import { accountingMigrations, accountingProcedures } from '../accounting/procedures'
import { readmeConfigArgs, readmeRecord, refusal, T0_MS } from '../accounting/test-support'
import { type InProcessLedger, openLedgerInProcess } from '../ledger/store'
import { payoutMigrations, payoutProcedures } from '../payouts/procedures'
import type { DepositRow, HistoryLine, LpRow, LpStatement, RecipientDestination } from './procedures'
import { lpsMigrations, lpsProcedures } from './register'

let dir: string
let store: InProcessLedger

function keyPair(n: number): { npub: string; pubkey: string } {
  const sk = new Uint8Array(32).fill(n)
  const pubkey = getPublicKey(sk)
  return { npub: npubEncode(pubkey), pubkey }
}

const open = () =>
  openLedgerInProcess({
    dir,
    migrations: [...accountingMigrations, ...payoutMigrations, ...lpsMigrations],
    procedures: new Map(Object.entries({ ...accountingProcedures, ...payoutProcedures, ...lpsProcedures })),
    autoSnapshot: false,
  })

const NODE_ID = '02' + '79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798'
const POLICY = { thresholdMsat: '10000', schedule: 'threshold', maxFeePpm: 5000, maxFeeBaseMsat: '1000' }

function registration(id: string, n: number, over: Record<string, unknown> = {}) {
  return {
    id,
    ...keyPair(n),
    name: `LP ${id}`,
    currency: 'GTQ',
    mode: 'flow',
    destination: { kind: 'lightning_address', address: `${id}@example.com` },
    payout: POLICY,
    atMs: T0_MS - 10_000,
    author: 'operator',
    ...over,
  }
}

const get = (lpId: string) => store.call<LpRow>('lps.get', { lpId })
let depositSeq = 0
async function deposit(lpId: string, amountMinor: string, atMs = T0_MS - 5_000, confirm = true): Promise<string> {
  const id = `dep-${++depositSeq}`
  await store.call('lps.recordDeposit', { id, lpId, amountMinor, atMs })
  if (confirm) await store.call('lps.confirmDeposit', { depositId: id, atMs })
  return id
}

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lps-'))
  store = await open()
  await store.call('accounting.upsertMachine', { id: 'atm-1', name: 'Lobby', currency: 'GTQ', atMs: 0 })
  await store.call('accounting.setConfig', readmeConfigArgs(0))
})
afterEach(async () => {
  await store.close().catch(() => undefined)
  rmSync(dir, { recursive: true, force: true })
})

describe('registration', () => {
  it('registers an LP with identity, mode, destination and payout policy in one step', async () => {
    const lp = await store.call<LpRow>('lps.register', registration('ana', 1))
    expect(lp).toMatchObject({
      id: 'ana',
      npub: keyPair(1).npub,
      mode: 'flow',
      active: true,
      balanceMinor: '0',
      accruedMsat: '0',
      destination: { kind: 'lightning_address', address: 'ana@example.com' },
      payout: {
        thresholdMsat: '10000',
        schedule: 'threshold',
        minIntervalMs: 0,
        maxFeeBaseMsat: '1000',
        maxFeePpm: 5000,
      },
    })
    const fixed = await store.call<LpRow>(
      'lps.register',
      registration('beto', 2, {
        mode: 'fixed',
        dailyLimitMinor: '50000',
        destination: { kind: 'keysend', nodeId: NODE_ID },
        payout: { ...POLICY, schedule: 'daily' },
      }),
    )
    expect([fixed.mode, fixed.dailyLimitMinor, fixed.payout?.minIntervalMs]).toEqual(['fixed', '50000', 86_400_000])
    // The payout module's planner reads the same recipient row.
    const [rec] = await store.query<{ destination_json: string; threshold_msat: number }>(
      "SELECT destination_json, threshold_msat FROM payout_recipient WHERE recipient_kind = 'lp' AND recipient_id = 'beto'",
    )
    expect(JSON.parse(rec!.destination_json)).toEqual({ kind: 'keysend', nodeId: NODE_ID })
    const dest = await store.call<RecipientDestination>('lps.destinationFor', {
      recipientKind: 'lp',
      recipientId: 'ana',
    })
    expect(dest.destination).toEqual({ kind: 'lightning_address', address: 'ana@example.com' })
    expect((await store.call<LpRow[]>('lps.list', {})).map((l) => l.id)).toEqual(['ana', 'beto'])
  })

  it('refuses duplicates and malformed fields, naming the field, and writes nothing', async () => {
    await store.call('lps.register', registration('ana', 1))
    expect(await refusal(store.call('lps.register', registration('ana', 3)))).toMatchObject({
      code: 'E_CONFLICT',
      field: 'id',
    })
    expect(await refusal(store.call('lps.register', registration('other', 1)))).toMatchObject({
      code: 'E_CONFLICT',
      field: 'npub',
    })
    const cases: [Record<string, unknown>, string][] = [
      [{ mode: 'fixed' }, 'dailyLimitMinor'],
      [{ mode: 'weekly' }, 'mode'],
      [{ currency: 'XXX' }, 'currency'],
      [{ npub: 'npub1xyz' }, 'npub'],
      [{ destination: { kind: 'lightning_address', address: 'no-at-sign' } }, 'destination.address'],
      [{ destination: { kind: 'keysend', nodeId: '04abcd' } }, 'destination.nodeId'],
      [{ destination: { kind: 'nwc', secretSlot: 'x', walletPubkey: 'zz' } }, 'destination.walletPubkey'],
      [{ destination: { kind: 'carrier-pigeon' } }, 'destination.kind'],
      [{ payout: { ...POLICY, thresholdMsat: '1500' } }, 'payout.thresholdMsat'],
      [{ payout: { ...POLICY, schedule: 'hourly' } }, 'payout.schedule'],
      [{ payout: { ...POLICY, maxFeePpm: 2_000_000 } }, 'payout.maxFeePpm'],
      [{ machineId: 'atm-9' }, 'machineId'],
    ]
    for (const [over, field] of cases) {
      const r = await refusal(store.call('lps.register', registration('zed', 9, over)))
      expect(r.field, JSON.stringify(over)).toBe(field)
    }
    expect((await store.call<LpRow[]>('lps.list', { includeInactive: true })).map((l) => l.id)).toEqual(['ana'])
  })
})

describe('deposits', () => {
  beforeEach(async () => {
    await store.call('lps.register', registration('ana', 1))
  })

  it('pending counts nowhere but the pending total; confirmed counts once', async () => {
    const r = await store.call<DepositRow>('lps.recordDeposit', {
      id: 'd1',
      lpId: 'ana',
      amountMinor: '150000',
      atMs: T0_MS,
      note: 'cash in hand',
    })
    expect(r).toMatchObject({ status: 'pending', amountMinor: '150000', note: 'cash in hand' })
    expect(await get('ana')).toMatchObject({ balanceMinor: '0', pendingDepositsMinor: '150000' })
    const c = await store.call<DepositRow & { balanceMinor: string }>('lps.confirmDeposit', {
      depositId: 'd1',
      atMs: T0_MS + 1,
    })
    expect([c.status, c.balanceMinor, c.confirmedAtMs]).toEqual(['confirmed', '150000', T0_MS + 1])
    expect(await get('ana')).toMatchObject({ balanceMinor: '150000', pendingDepositsMinor: '0' })
    expect(await refusal(store.call('lps.confirmDeposit', { depositId: 'd1', atMs: T0_MS + 2 }))).toMatchObject({
      code: 'E_STATE',
      field: 'depositId',
    })
    expect(
      await refusal(store.call('lps.recordDeposit', { id: 'd2', lpId: 'ana', amountMinor: '0', atMs: 1 })),
    ).toMatchObject({
      code: 'E_INPUT',
      field: 'amountMinor',
    })
    expect(
      await refusal(store.call('lps.recordDeposit', { id: 'd2', lpId: 'nobody', amountMinor: '5', atMs: 1 })),
    ).toMatchObject({
      code: 'E_NOT_FOUND',
      field: 'lpId',
    })
  })

  it('reverses: pending → cancelled; confirmed → reversing entries up to what is left', async () => {
    const pending = await deposit('ana', '20000', T0_MS, false)
    const r1 = await store.call<DepositRow>('lps.reverseDeposit', {
      depositId: pending,
      reason: 'never arrived',
      atMs: T0_MS,
    })
    expect(r1.status).toBe('cancelled')
    expect(
      await refusal(store.call('lps.reverseDeposit', { depositId: pending, reason: 'again', atMs: T0_MS })),
    ).toMatchObject({
      code: 'E_STATE',
    })
    const conf = await deposit('ana', '100000')
    const part = await store.call<DepositRow & { balanceMinor: string }>('lps.reverseDeposit', {
      depositId: conf,
      reason: 'counted twice',
      amountMinor: '30000',
      atMs: T0_MS,
    })
    expect([part.status, part.reversedMinor, part.balanceMinor]).toEqual(['confirmed', '30000', '70000'])
    expect(
      await refusal(
        store.call('lps.reverseDeposit', { depositId: conf, reason: 'x', amountMinor: '70001', atMs: T0_MS }),
      ),
    ).toMatchObject({ code: 'E_BALANCE', field: 'amountMinor' })
    const rest = await store.call<DepositRow & { balanceMinor: string }>('lps.reverseDeposit', {
      depositId: conf,
      reason: 'LP took it back',
      atMs: T0_MS,
    })
    expect([rest.reversedMinor, rest.balanceMinor]).toEqual(['100000', '0'])
    // The deposit row itself never changed: the reversals are entries naming it.
    const [row] = await store.query<{ amount_minor: number; status: string }>(
      'SELECT amount_minor, status FROM acct_deposit WHERE id = ?',
      [conf],
    )
    expect(row).toEqual({ amount_minor: 100000, status: 'confirmed' })
  })

  it('cannot reverse fiat already sold to customers', async () => {
    await store.call('lps.register', registration('beto', 2))
    const d = await deposit('ana', '200000')
    await deposit('beto', '200000')
    await store.call('accounting.bookSettlement', readmeRecord(1))
    const ana = await get('ana')
    expect(BigInt(ana.balanceMinor)).toBeLessThan(200_000n)
    expect(
      await refusal(store.call('lps.reverseDeposit', { depositId: d, reason: 'x', atMs: T0_MS + 5000 })),
    ).toMatchObject({
      code: 'E_BALANCE',
      field: 'amountMinor',
    })
  })
})

describe('balances, statements and history', () => {
  beforeEach(async () => {
    await store.call('lps.register', registration('ana', 1))
    await store.call('lps.register', registration('beto', 2, { destination: { kind: 'keysend', nodeId: NODE_ID } }))
  })

  it('derives balances and a statement whose lines add up, with sats earned per allocation', async () => {
    await deposit('ana', '900000', T0_MS - 86_400_000)
    await deposit('beto', '100000', T0_MS - 86_400_000)
    const booked = await store.call<{ settlementId: number }>('accounting.bookSettlement', readmeRecord(1))
    const [legs] = await store.query<{ msat: number; fiat: number }>(
      "SELECT SUM(msat) AS msat, SUM(fiat_minor) AS fiat FROM acct_leg WHERE kind = 'lp' AND recipient_id = 'ana'",
    )
    const ana = await get('ana')
    expect(ana.balanceMinor).toBe(String(900_000 - legs!.fiat))
    expect(ana.accruedMsat).toBe(String(legs!.msat))
    // A second deposit after the period's end must not appear in the statement.
    await deposit('ana', '5000', T0_MS + 3_600_000)

    const st = await store.call<LpStatement>('lps.statement', {
      lpId: 'ana',
      fromMs: T0_MS - 1000,
      toMs: T0_MS + 60_000,
    })
    expect(st.openingBalanceMinor).toBe('900000')
    expect(st.closingBalanceMinor).toBe(String(900_000 - legs!.fiat))
    expect(st.allocatedMinor).toBe(String(legs!.fiat))
    expect(st.earnedMsat).toBe(String(legs!.msat))
    expect(st.depositedMinor).toBe('0')
    expect(st.lines).toHaveLength(1)
    expect(st.lines[0]).toMatchObject({
      kind: 'allocation',
      settlementId: booked.settlementId,
      msat: String(legs!.msat),
    })
    const sum = st.lines.reduce((a, l) => a + BigInt(l.deltaMinor), 0n)
    expect(BigInt(st.openingBalanceMinor) + sum).toBe(BigInt(st.closingBalanceMinor))
    expect([st.openingAccruedMsat, st.closingAccruedMsat]).toEqual(['0', String(legs!.msat)])

    const whole = await store.call<LpStatement>('lps.statement', { lpId: 'ana', fromMs: 0, toMs: T0_MS + 86_400_000 })
    expect([whole.openingBalanceMinor, whole.depositedMinor]).toEqual(['0', '905000'])
    expect(whole.closingBalanceMinor).toBe((await get('ana')).balanceMinor)
    expect(whole.events.map((e) => e.kind)).toEqual(['registered'])
    expect(await refusal(store.call('lps.statement', { lpId: 'ana', fromMs: 10, toMs: 10 }))).toMatchObject({
      field: 'toMs',
    })

    const audit = await store.call<BalanceAudit>('accounting.auditBalances')
    expect(audit.ok).toBe(true)
  })

  it('pages history newest first with a cursor', async () => {
    for (let i = 0; i < 5; i++) await deposit('ana', String(1000 + i), T0_MS + i)
    const p1 = await store.call<{ lines: HistoryLine[]; next: string | null; deposits: DepositRow[] }>('lps.history', {
      lpId: 'ana',
      limit: 2,
    })
    expect(p1.lines.map((l) => l.deltaMinor)).toEqual(['1004', '1003'])
    expect(p1.deposits).toHaveLength(5)
    const p2 = await store.call<{ lines: HistoryLine[]; next: string | null }>('lps.history', {
      lpId: 'ana',
      limit: 2,
      before: p1.next,
    })
    expect(p2.lines.map((l) => l.deltaMinor)).toEqual(['1002', '1001'])
    const p3 = await store.call<{ lines: HistoryLine[]; next: string | null }>('lps.history', {
      lpId: 'ana',
      limit: 2,
      before: p2.next,
    })
    expect([p3.lines.map((l) => l.deltaMinor), p3.next]).toEqual([['1000'], null])
  })
})

describe('dust settlement and deactivation', () => {
  beforeEach(async () => {
    await store.call('lps.register', registration('ana', 1))
    await store.call('lps.register', registration('beto', 2))
  })

  it('dust-settles the remainder at the operator rate as an explicit entry; the LP accrues the msat', async () => {
    await deposit('ana', '375') // 3.75 GTQ
    const r = await store.call<{ fiatMinor: string; msat: string; balanceMinor: string; accruedMsat: string }>(
      'lps.dustSettle',
      { lpId: 'ana', rateMsatPerMajor: '130000000', atMs: T0_MS, author: 'operator' }, // 130,000 sat per GTQ
    )
    // 375 minor × 130,000,000 msat per 100 minor = 487,500,000 msat.
    expect(r).toMatchObject({ fiatMinor: '375', msat: '487500000', balanceMinor: '0', accruedMsat: '487500000' })
    const st = await store.call<LpStatement>('lps.statement', { lpId: 'ana', fromMs: 0, toMs: T0_MS + 1 })
    expect([st.dustSettledMinor, st.earnedMsat, st.closingBalanceMinor]).toEqual(['375', '487500000', '0'])
    expect(
      await refusal(store.call('lps.dustSettle', { lpId: 'ana', rateMsatPerMajor: '1', atMs: T0_MS })),
    ).toMatchObject({
      code: 'E_BALANCE',
    })
  })

  it('deactivation stops new money in, keeps accrued sats payable, and is recorded', async () => {
    await deposit('ana', '900000', T0_MS - 86_400_000)
    await deposit('beto', '100000', T0_MS - 86_400_000)
    await store.call('accounting.bookSettlement', readmeRecord(1))
    const pending = await deposit('ana', '1000', T0_MS, false)
    const before = await get('ana')
    expect(BigInt(before.accruedMsat)).toBeGreaterThan(0n)

    const d = await store.call<LpRow & { settledMsat: string | null }>('lps.deactivate', {
      lpId: 'ana',
      reason: 'moved away',
      atMs: T0_MS + 10_000,
      author: 'operator',
    })
    expect(d).toMatchObject({ active: false, deactivationReason: 'moved away', settledMsat: null })
    expect(d.accruedMsat).toBe(before.accruedMsat)
    expect(d.balanceMinor).toBe(before.balanceMinor)
    expect(
      await refusal(
        store.call('lps.recordDeposit', { id: 'late', lpId: 'ana', amountMinor: '5', atMs: T0_MS + 20_000 }),
      ),
    ).toMatchObject({
      code: 'E_STATE',
      field: 'lpId',
    })
    expect(await refusal(store.call('lps.confirmDeposit', { depositId: pending, atMs: T0_MS + 20_000 }))).toMatchObject(
      {
        code: 'E_STATE',
      },
    )
    // Its pending deposit can still be cancelled.
    expect(
      (await store.call<DepositRow>('lps.reverseDeposit', { depositId: pending, reason: 'gone', atMs: T0_MS + 20_000 }))
        .status,
    ).toBe('cancelled')
    expect(
      await refusal(store.call('lps.deactivate', { lpId: 'ana', reason: 'again', atMs: T0_MS + 30_000 })),
    ).toMatchObject({
      code: 'E_STATE',
    })
    // New cash-outs no longer allocate to it.
    await store.call('accounting.bookSettlement', readmeRecord(2, { bookedAtMs: T0_MS + 40_000 }))
    expect((await get('ana')).balanceMinor).toBe(before.balanceMinor)
    // Its accrued sats are still planned for payout by the payout module.
    const planned = await store.call<{ recipientId: string; amountMsat: string }[]>('payouts.plan', {
      nowMs: T0_MS + 50_000,
      connectionId: 'operator-wallet',
    })
    const forAna = planned.find((p) => p.recipientId === 'ana')
    expect(forAna?.amountMsat).toBe(String(BigInt(before.accruedMsat) - (BigInt(before.accruedMsat) % 1000n)))
    // Listed only when inactive LPs are asked for; the profile cannot be re-activated by an update.
    expect((await store.call<LpRow[]>('lps.list', {})).map((l) => l.id)).toEqual(['beto'])
    expect((await store.call<LpRow[]>('lps.list', { includeInactive: true })).map((l) => l.id)).toEqual(['ana', 'beto'])
    const hist = await store.call<{ events: { kind: string; detail: Record<string, unknown> }[] }>('lps.history', {
      lpId: 'ana',
    })
    expect(hist.events.map((e) => e.kind)).toEqual(['registered', 'deactivated'])
    expect(hist.events[1]!.detail.accruedMsat).toBe(before.accruedMsat)
    await expect(
      store.transaction([{ sql: "UPDATE lp_profile SET deactivated_at_ms = NULL WHERE lp_id = 'ana'" }]),
    ).rejects.toThrow(/stays deactivated/)
    await expect(store.transaction([{ sql: 'DELETE FROM lp_event' }])).rejects.toThrow(/append-only/)
  })

  it('deactivation can settle the remaining balance in the same step, and survives a replay', async () => {
    await deposit('beto', '250')
    const d = await store.call<LpRow & { settledMsat: string | null }>('lps.deactivate', {
      lpId: 'beto',
      reason: 'closing',
      settleRemainder: { rateMsatPerMajor: '100000000' },
      atMs: T0_MS,
    })
    expect([d.balanceMinor, d.settledMsat, d.accruedMsat]).toEqual(['0', '250000000', '250000000'])
    await store.close()
    store = await open()
    const again = await get('beto')
    expect([again.active, again.balanceMinor, again.accruedMsat]).toEqual([false, '0', '250000000'])
    expect((await store.call<BalanceAudit>('accounting.auditBalances')).ok).toBe(true)
  })
})
