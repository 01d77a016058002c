// The seeded history (src-main/demo/seed.ts): a small seed is booked through the real procedures, reopens as an
// ordinary ledger, keeps every money rule (conservation per settlement, LP balances re-derived from the entries,
// every paid payout proven by its preimage) and holds each kind of activity the screens and the audit export
// need: both directions, partial dispenses, deposits, payouts, refused records and worklist items.
import { createHash } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createLogger, type LogRecord } from '../../src-shared/log'
import { checkEvent, type NostrEvent } from '../../src-shared/nostr/event'
import { KIND_ATM_RECORD } from '../../src-shared/nostr/kinds'
import { parseReceiptEvent } from '../../src-shared/nostr/receipt'
import { useTempDirs } from '../../test/support/temp-dirs'
import type { BalanceAudit } from '../accounting/operations'
import type { WorklistItem } from '../accounting/worklist'
import { checkAuditAtStart } from '../audit/start-check'
import { type InProcessLedger, openLedgerInProcess } from '../ledger/store'
import { planSeed, type SeedOptionError, type SeedReport, seedDemoLedger } from './seed'

const N = 2_000
const SIGNED = 150
const tempDir = useTempDirs('demo-seed-')
let dir: string
let report: SeedReport
let ledger: InProcessLedger

beforeAll(async () => {
  dir = tempDir()
  report = await seedDemoLedger({
    dataDir: dir,
    settlements: N,
    from: '2026-07-01',
    to: '2026-07-31',
    machines: 3,
    lps: 4,
    batchSize: 300,
    signedRecords: SIGNED,
  })
  ledger = await openLedgerInProcess({ dir: `${dir}/ledger`, autoSnapshot: false })
}, 120_000)

afterAll(async () => {
  await ledger?.close()
})

const one = async <T>(sql: string, params: (string | number)[] = []) =>
  ((await ledger.query(sql, params, { bigint: true }))[0] ?? {}) as T

describe('seedDemoLedger', () => {
  it('books exactly the settlements asked for, in both directions, inside the period, in batches', async () => {
    const r = await one<{ n: bigint; out: bigint; ins: bigint; lo: bigint; hi: bigint; m: bigint }>(
      `SELECT COUNT(*) AS n, SUM(direction = 'cash_out') AS out, SUM(direction = 'cash_in') AS ins,
              MIN(record_created_at) AS lo, MAX(record_created_at) AS hi, COUNT(DISTINCT machine_id) AS m
       FROM acct_settlement`,
    )
    expect(Number(r.n)).toBe(N)
    expect(report.settlements).toBe(N)
    expect(Number(r.out)).toBe(report.cashOut)
    expect(Number(r.ins)).toBe(report.cashIn)
    expect(report.cashIn).toBeGreaterThan(N / 10)
    expect(report.cashOut).toBeGreaterThan(N / 2)
    expect(Number(r.m)).toBe(3)
    expect(Number(r.lo) * 1000).toBeGreaterThanOrEqual(Date.UTC(2026, 6, 1))
    expect(Number(r.hi) * 1000).toBeLessThan(Date.UTC(2026, 7, 1))
    // 2,000 settlements in batches of 300: seven history transactions plus set-up and close.
    expect(report.transactions).toBe(9)
  })

  it('keeps conservation: every live generation of a cash-out adds up to its wire amount', async () => {
    const bad = await ledger.query(
      `SELECT s.id FROM acct_settlement s
       WHERE s.direction = 'cash_out' AND s.wire_msat <> (SELECT COALESCE(SUM(l.msat), 0) FROM acct_leg l
         WHERE l.settlement_id = s.id AND l.generation = s.generation)`,
    )
    expect(bad).toEqual([])
    const audit = await ledger.call<BalanceAudit>('accounting.auditBalances')
    expect(audit.ok).toBe(true)
    expect(audit.lps).toHaveLength(4)
  })

  it('holds partial dispenses, deposits (one reversed in part, one pending) and LPs sharing the cash-outs', async () => {
    const partial = await one<{ n: bigint }>(
      "SELECT COUNT(*) AS n FROM acct_settlement WHERE fiat_minor < fiat_requested_minor AND direction = 'cash_out'",
    )
    expect(Number(partial.n)).toBe(report.partialDispenses)
    expect(report.partialDispenses).toBeGreaterThan(0)
    const dep = await one<{ confirmed: bigint; pending: bigint; reversals: bigint }>(
      `SELECT (SELECT COUNT(*) FROM acct_deposit WHERE status = 'confirmed') AS confirmed,
              (SELECT COUNT(*) FROM acct_deposit WHERE status = 'pending') AS pending,
              (SELECT COUNT(*) FROM acct_lp_entry WHERE kind = 'deposit_reversal') AS reversals`,
    )
    expect(Number(dep.confirmed)).toBe(report.deposits)
    expect(Number(dep.pending)).toBe(1)
    expect(Number(dep.reversals)).toBe(1)
    const lpLegs = await one<{ n: bigint; lps: bigint }>(
      "SELECT COUNT(*) AS n, COUNT(DISTINCT recipient_id) AS lps FROM acct_leg WHERE kind = 'lp'",
    )
    expect(Number(lpLegs.lps)).toBe(4)
  })

  it('pays payouts on real preimages, each with its signed NIP-47 request, and marks the legs they cover', async () => {
    const paid = await ledger.query<{ preimage: string; payment_hash: string; request_json: string }>(
      `SELECT p.preimage, p.payment_hash, r.request_json FROM payout p JOIN payout_request r ON r.payout_id = p.id
       WHERE p.state = 'paid'`,
    )
    expect(paid.length).toBe(report.payoutsPaid)
    expect(paid.length).toBeGreaterThan(20)
    for (const p of paid) {
      expect(createHash('sha256').update(Buffer.from(p.preimage, 'hex')).digest('hex')).toBe(p.payment_hash)
      const ev = JSON.parse(p.request_json) as { kind: number; sig: string }
      expect(ev.kind).toBe(23194)
      expect(ev.sig).toMatch(/^[0-9a-f]{128}$/)
    }
    const kinds = await ledger.query<{ recipient_kind: string }>(
      "SELECT DISTINCT recipient_kind FROM payout WHERE state = 'paid' ORDER BY 1",
    )
    expect(kinds.map((k) => k.recipient_kind)).toEqual(['lp', 'platform', 'split'])
    const marked = await one<{ n: bigint }>("SELECT COUNT(*) AS n FROM acct_leg WHERE paid_ref LIKE 'payout:%'")
    expect(Number(marked.n)).toBeGreaterThan(0)
  })

  it('leaves refused records and worklist items, and resolves older refunds', async () => {
    const rejected = await one<{ n: bigint }>(
      "SELECT COUNT(*) AS n FROM fleet_record_outcome WHERE outcome = 'rejected' AND reason IS NOT NULL",
    )
    expect(Number(rejected.n)).toBe(report.rejectedRecords)
    expect(report.rejectedRecords).toBeGreaterThan(0)
    expect(report.refundsResolved).toBeGreaterThan(0)
    const items = await ledger.call<WorklistItem[]>('accounting.worklist', { nowMs: Date.UTC(2026, 7, 1) })
    const kinds = new Set(items.map((i) => i.kind))
    expect(kinds.has('refund_due')).toBe(true)
    expect(kinds.has('stuck')).toBe(true)
    const statuses = await ledger.query<{ status: string }>('SELECT DISTINCT status FROM acct_settlement ORDER BY 1')
    expect(statuses.map((s) => s.status)).toContain('processed')
    expect(statuses.map((s) => s.status)).toContain('pending')
  })

  it('books the newest settlements from signed ATM records and publishes their receipts, as the console does', async () => {
    expect(report.recordsAccepted).toBe(SIGNED)
    const booked = await ledger.query<{ raw_json: string; event_id: string; atm_event_id: string; status: string }>(
      `SELECT o.raw_json, o.event_id, s.atm_event_id, s.status FROM fleet_record_outcome o
       JOIN acct_settlement s ON s.payment_hash = o.payment_hash WHERE o.outcome = 'booked' ORDER BY s.id`,
    )
    expect(booked).toHaveLength(SIGNED)
    for (const b of booked) {
      const ev = JSON.parse(b.raw_json) as NostrEvent
      expect(checkEvent(ev).ok).toBe(true)
      expect(ev.kind).toBe(KIND_ATM_RECORD)
      expect(ev.id).toBe(b.atm_event_id)
      expect(ev.tags.find((t) => t[0] === 'delegation')).toBeDefined()
    }
    const proofs = await one<{ n: bigint }>('SELECT COUNT(*) AS n FROM stl_proof')
    expect(Number(proofs.n)).toBe(SIGNED)
    // Every processed one has a receipt signed by one console key, verified on a relay; pending ones have none.
    const receipts = await ledger.query<{ event_json: string; payment_hash: string }>(
      'SELECT event_json, payment_hash FROM rcpt_receipt ORDER BY settlement_id',
    )
    expect(receipts.length).toBe(report.receiptsPublished)
    expect(receipts.length).toBeGreaterThan(SIGNED - 10)
    const keys = new Set<string>()
    for (const r of receipts) {
      const rc = parseReceiptEvent(JSON.parse(r.event_json) as NostrEvent)
      expect(rc.paymentHash).toBe(r.payment_hash)
      keys.add(rc.consolePubkey)
    }
    expect(keys.size).toBe(1)
    const summary = await ledger.call<{ unverified: number; verified: number }>('receipts.summary')
    expect(summary.unverified).toBe(0)
    expect(summary.verified).toBe(receipts.length)
    expect(await ledger.call<unknown[]>('receipts.due', {})).toHaveLength(0)
  })

  it('passes the audit start-up check: every seeded row has its audit entry', async () => {
    const records: LogRecord[] = []
    const r = await checkAuditAtStart({ store: ledger, dataDir: dir, log: createLogger((x) => records.push(x), 't') })
    const rows = await one<{ n: bigint }>('SELECT COUNT(*) AS n FROM audit_leaf')
    expect(r.size).toBe(Number(rows.n))
    expect(r.size).toBeGreaterThan(N * 10)
  })

  it('refuses a directory that already holds settlements, naming it', async () => {
    await ledger.close()
    await expect(seedDemoLedger({ dataDir: dir, settlements: 10 })).rejects.toThrow(/already holds 2000/)
    ledger = await openLedgerInProcess({ dir: `${dir}/ledger`, autoSnapshot: false })
  })
})

describe('planSeed', () => {
  it('names the option at fault', () => {
    const bad = (o: Partial<Parameters<typeof planSeed>[0]>) => {
      try {
        planSeed({ dataDir: '/x', settlements: 10, ...o })
      } catch (e) {
        return (e as SeedOptionError).field
      }
      return 'accepted'
    }
    expect(bad({ settlements: 0 })).toBe('settlements')
    expect(bad({ from: '2026-02-30' })).toBe('from')
    expect(bad({ to: 'yesterday' })).toBe('to')
    expect(bad({ from: '2026-08-01', to: '2026-07-01' })).toBe('from')
    expect(bad({ machines: 0 })).toBe('machines')
    expect(bad({ lps: -1 })).toBe('lps')
    expect(bad({})).toBe('accepted')
  })
})
