// Property test of booking (issue: "booking the same record twice books it once"): random verified records —
// valid and rule-breaking, cash-out and cash-in, full and partial dispenses — each delivered one to three times
// in a random interleaving. Afterwards every payment hash is booked exactly once, with the first delivery's
// fields, its live legs conserve the wire amount, and the LP balances re-derive exactly. Runs the real schema and
// procedures on sql.js without the journal (see sqljs-txdb.ts). Each case books up to 18 deliveries, so it runs
// PROPS_RUNS / 50 cases; seed printed, replay with PROPS_SEED.

import fc from 'fast-check'
import { afterAll, beforeAll, describe, it } from 'vitest'
import { README_SPLITS } from '../../src-shared/money/readme-example'
import { bookSettlement } from './book'
import { auditBalances, confirmDeposit, createDeposit, setConfig, upsertLp, upsertMachine } from './operations'
import { accountingMigrations } from './procedures'
import { openSqlJsLedger, type SqlJsLedger } from './sqljs-txdb'
import { readmeConfigArgs } from './test-support'

const RUNS = Math.max(20, Math.floor(Number(process.env.PROPS_RUNS ?? 1000) / 50))
const SEED = process.env.PROPS_SEED ? Number(process.env.PROPS_SEED) : (Date.now() ^ (Math.random() * 2 ** 31)) | 0
console.log(`[props] accounting booking: runs=${RUNS} seed=${SEED} (replay with PROPS_SEED=${SEED})`)

let L: SqlJsLedger
let caseNo = 0
const T0 = Date.UTC(2026, 2, 2, 18, 0, 0)

beforeAll(async () => {
  L = await openSqlJsLedger(accountingMigrations)
  L.call(upsertMachine, { id: 'atm-1', name: 'a', currency: 'GTQ', atMs: 0 })
  L.call(setConfig, readmeConfigArgs(0, { author: 'op', splits: README_SPLITS }))
  for (const [id, mode] of [
    ['lp-a', 'flow'],
    ['lp-b', 'fixed'],
    ['lp-c', 'flow'],
  ] as const) {
    L.call(upsertLp, { id, name: id, currency: 'GTQ', mode, dailyLimitMinor: '5000000', atMs: 0 })
    L.call(createDeposit, { id: `d-${id}`, lpId: id, amountMinor: '100000000000', atMs: 0 })
    L.call(confirmDeposit, { depositId: `d-${id}`, atMs: 0 })
  }
})
afterAll(() => L.close())

const recordArb = fc.record({
  direction: fc.constantFrom('cash_out', 'cash_out', 'cash_in'),
  wireMsat: fc.bigInt(0n, 10n ** 12n),
  fiatMinor: fc.oneof(fc.constant(0n), fc.bigInt(1n, 10n ** 6n)),
  shortfall: fc.oneof(fc.constant(0n), fc.bigInt(0n, 10n ** 6n)),
  createdOffsetS: fc.integer({ min: 0, max: 3 * 86_400 }),
  claimedFeeMsat: fc.option(fc.bigInt(0n, 10n ** 10n), { nil: undefined }),
})

const caseArb = fc.array(recordArb, { minLength: 1, maxLength: 6 }).chain((records) =>
  fc
    .tuple(
      fc.array(fc.integer({ min: 1, max: 3 }), { minLength: records.length, maxLength: records.length }),
      fc.array(fc.integer(), { minLength: 18, maxLength: 18 }),
    )
    .map(([copies, keys]) => {
      const deliveries = records.flatMap((_, i) => Array.from({ length: copies[i]! }, () => i))
      const order = deliveries
        .map((i, j) => [i, keys[j]! + j / 100] as const)
        .sort((a, b) => a[1] - b[1])
        .map(([i]) => i)
      return { records, order }
    }),
)

describe('booking properties', () => {
  it(
    'books every record exactly once however often and in whatever order it arrives',
    () => {
      fc.assert(
        fc.property(caseArb, ({ records, order }) => {
          caseNo++
          const args = records.map((r, i) => ({
            machineId: 'atm-1',
            direction: r.direction,
            paymentHash: (caseNo * 16 + i).toString(16).padStart(64, '0'),
            wireMsat: r.wireMsat,
            fiatMinor: r.fiatMinor,
            fiatRequestedMinor: r.direction === 'cash_out' ? r.fiatMinor + r.shortfall : r.fiatMinor,
            currency: 'GTQ',
            claimedFeeMsat: r.claimedFeeMsat,
            atmEventId: `ev-${caseNo}-${i}`,
            createdAt: Math.floor(T0 / 1000) + r.createdOffsetS,
            bookedAtMs: T0,
          }))
          const firstId = new Map<number, number>()
          for (const i of order) {
            const r = L.call(bookSettlement, args[i])
            const seen = firstId.get(i)
            if (seen === undefined) {
              if (r.duplicate) throw new Error(`first delivery of record ${i} reported as duplicate`)
              firstId.set(i, r.settlementId)
            } else if (!r.duplicate || r.settlementId !== seen) {
              throw new Error(`record ${i} booked twice (${seen}, ${r.settlementId})`)
            }
          }
          for (const [i, a] of args.entries()) {
            const rows = L.db.all<{ id: bigint; status: string; wire_msat: bigint; direction: string }>(
              'SELECT id, status, wire_msat, direction FROM acct_settlement WHERE payment_hash = ?',
              [a.paymentHash],
              { bigint: true },
            )
            if (rows.length !== 1) throw new Error(`record ${i}: ${rows.length} settlement rows`)
            const s = rows[0]!
            if (s.wire_msat !== a.wireMsat) throw new Error(`record ${i}: wire amount changed`)
            const legSum = L.db.get<{ m: bigint | null; n: bigint }>(
              'SELECT SUM(msat) AS m, COUNT(*) AS n FROM acct_leg WHERE settlement_id = ?',
              [s.id],
              { bigint: true },
            )!
            if (s.status === 'rejected') {
              if (legSum.n !== 0n) throw new Error(`record ${i}: a rejected settlement has legs`)
            } else if (s.direction === 'cash_out' && (legSum.m ?? 0n) !== a.wireMsat) {
              throw new Error(`record ${i}: legs sum to ${legSum.m}, wire ${a.wireMsat}`)
            }
          }
        }),
        { numRuns: RUNS, seed: SEED },
      )
      const audit = L.call(auditBalances)
      if (!audit.ok) throw new Error(`balance audit failed: ${JSON.stringify(audit.lps)}`)
    },
    Math.max(60_000, RUNS * 200),
  )
})
