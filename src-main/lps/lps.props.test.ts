// Property test of the LP lifecycle: random sequences of deposits (confirmed or left pending), reversals (whole,
// partial, oversized), cash-outs booked over the LPs, dust settlements, deactivations and the passing of time, run
// on the real schema and procedures (sql.js without the journal, see accounting/sqljs-txdb.ts). Every refusal must be
// a typed one; afterwards the balances re-derive exactly, statements over adjacent periods chain (closing of one =
// opening of the next), the whole-history statement ends at the current balance and accrual, no deactivated LP
// received an allocation after its deactivation, and no deposit was reversed beyond its amount.
// Runs PROPS_RUNS / 100 cases (at least 20); seed printed, replay with PROPS_SEED.

import fc from 'fast-check'
import { npubEncode } from 'nostr-tools/nip19'
import { getPublicKey } from 'nostr-tools/pure'
import { afterAll, describe, expect, it } from 'vitest'
import { bookSettlement } from '../accounting/book'
import { AccountingError } from '../accounting/errors'
import { auditBalances, setConfig, upsertMachine } from '../accounting/operations'
import { accountingMigrations } from '../accounting/procedures'
import { openSqlJsLedger, type SqlJsLedger } from '../accounting/sqljs-txdb'
import { readmeConfigArgs } from '../accounting/test-support'
import { payoutMigrations } from '../payouts/procedures'
import {
  confirmLpDeposit,
  type DepositRow,
  deactivateLp,
  dustSettleLp,
  type LpRow,
  type LpStatement,
  listLps,
  lpHistory,
  lpStatement,
  recordLpDeposit,
  registerLp,
  reverseLpDeposit,
} from './procedures'
import { lpsMigrations } from './schema'

const RUNS = Math.max(20, Math.floor(Number(process.env.PROPS_RUNS ?? 1000) / 100))
const SEED = process.env.PROPS_SEED ? Number(process.env.PROPS_SEED) : (Date.now() ^ (Math.random() * 2 ** 31)) | 0
console.log(`[props] lp lifecycle: runs=${RUNS} seed=${SEED} (replay with PROPS_SEED=${SEED})`)

const LPS = ['lp-a', 'lp-b', 'lp-c'] as const
const KEYS = LPS.map((_, i) => getPublicKey(new Uint8Array(32).fill(i + 1)))
const T0 = Date.UTC(2026, 2, 2, 18, 0, 0)

const lpArb = fc.constantFrom(...LPS)
const cmdArb = fc.oneof(
  fc.record({
    op: fc.constant('deposit' as const),
    lp: lpArb,
    amount: fc.bigInt(1n, 10n ** 7n),
    confirm: fc.boolean(),
  }),
  fc.record({ op: fc.constant('confirm' as const), pick: fc.nat() }),
  fc.record({
    op: fc.constant('reverse' as const),
    pick: fc.nat(),
    amount: fc.option(fc.bigInt(1n, 10n ** 7n), { nil: undefined }),
  }),
  fc.record({
    op: fc.constant('cashout' as const),
    wireMsat: fc.bigInt(1000n, 10n ** 10n),
    fiat: fc.bigInt(1n, 2n * 10n ** 6n),
  }),
  fc.record({
    op: fc.constant('dust' as const),
    lp: lpArb,
    fiat: fc.option(fc.bigInt(1n, 10n ** 5n), { nil: undefined }),
    rate: fc.bigInt(1n, 10n ** 9n),
  }),
  fc.record({ op: fc.constant('deactivate' as const), lp: lpArb }),
  fc.record({ op: fc.constant('wait' as const), ms: fc.integer({ min: 1, max: 2 * 86_400_000 }) }),
)

const opened: SqlJsLedger[] = []
const stats = { ok: 0, refused: 0 }
afterAll(() => {
  console.log(`[props] lp lifecycle: ${stats.ok} operations applied, ${stats.refused} refused (typed)`)
  for (const l of opened) l.close()
})

describe('LP lifecycle invariants', () => {
  it('balances re-derive, statements chain, deactivation and reversal limits hold', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(cmdArb, { minLength: 5, maxLength: 60, size: 'large' }),
        fc.array(fc.nat(), { minLength: 2, maxLength: 4 }),
        async (cmds, cutsRaw) => {
          const L = await openSqlJsLedger([...accountingMigrations, ...payoutMigrations, ...lpsMigrations])
          opened.push(L)
          let t = T0
          L.call(upsertMachine, { id: 'atm-1', name: 'a', currency: 'GTQ', atMs: t })
          L.call(setConfig, readmeConfigArgs(t, { author: 'op' }))
          for (const [i, id] of LPS.entries()) {
            L.call(registerLp, {
              id,
              npub: npubEncode(KEYS[i]!),
              pubkey: KEYS[i]!,
              name: id,
              currency: 'GTQ',
              mode: i === 1 ? 'fixed' : 'flow',
              dailyLimitMinor: i === 1 ? '300000' : undefined,
              destination: { kind: 'lightning_address', address: `${id}@example.com` },
              payout: { thresholdMsat: '1000', schedule: 'threshold', maxFeePpm: 0 },
              atMs: t,
            })
          }
          const deposits: string[] = []
          const deactivatedAt = new Map<string, number>()
          let n = 0
          const attempt = (fn: () => void) => {
            try {
              fn()
              stats.ok++
            } catch (e) {
              // Refusals are fine; anything else (a SQL constraint, a TypeError) is a bug.
              if (!(e instanceof AccountingError)) throw e
              stats.refused++
            }
          }
          for (const c of cmds) {
            t += 1
            switch (c.op) {
              case 'deposit':
                attempt(() => {
                  const d = L.call(recordLpDeposit, { id: `d${++n}`, lpId: c.lp, amountMinor: c.amount, atMs: t })
                  deposits.push((d as DepositRow).depositId)
                  if (c.confirm) L.call(confirmLpDeposit, { depositId: `d${n}`, atMs: t })
                })
                break
              case 'confirm':
                if (deposits.length)
                  attempt(() => L.call(confirmLpDeposit, { depositId: deposits[c.pick % deposits.length], atMs: t }))
                break
              case 'reverse':
                if (deposits.length)
                  attempt(() =>
                    L.call(reverseLpDeposit, {
                      depositId: deposits[c.pick % deposits.length],
                      reason: 'test',
                      amountMinor: c.amount,
                      atMs: t,
                      author: 'op',
                    }),
                  )
                break
              case 'cashout':
                attempt(() =>
                  L.call(bookSettlement, {
                    machineId: 'atm-1',
                    direction: 'cash_out',
                    paymentHash: (++n).toString(16).padStart(64, '0'),
                    wireMsat: c.wireMsat,
                    fiatMinor: c.fiat,
                    currency: 'GTQ',
                    atmEventId: `ev-${n}`,
                    createdAt: Math.floor(t / 1000),
                    bookedAtMs: t,
                  }),
                )
                break
              case 'dust':
                attempt(() =>
                  L.call(dustSettleLp, {
                    lpId: c.lp,
                    fiatMinor: c.fiat,
                    rateMsatPerMajor: c.rate,
                    atMs: t,
                    author: 'op',
                  }),
                )
                break
              case 'deactivate':
                attempt(() => {
                  L.call(deactivateLp, { lpId: c.lp, reason: 'test', atMs: t, author: 'op' })
                  deactivatedAt.set(c.lp, t)
                })
                break
              case 'wait':
                t += c.ms
                break
            }
          }
          const end = t + 1
          expect(L.call((db) => auditBalances(db)).ok).toBe(true)
          const lps = L.call((db) => listLps(db, { includeInactive: true })) as LpRow[]
          const cuts = [...new Set([T0, ...cutsRaw.map((x) => T0 + (x % (end - T0))), end])].sort((a, b) => a - b)
          for (const lp of lps) {
            const st = (a: number, b: number) =>
              L.call((db) => lpStatement(db, { lpId: lp.id, fromMs: a, toMs: b })) as LpStatement
            for (let i = 0; i + 2 < cuts.length; i++) {
              const s1 = st(cuts[i]!, cuts[i + 1]!)
              const s2 = st(cuts[i + 1]!, cuts[i + 2]!)
              expect(s1.closingBalanceMinor).toBe(s2.openingBalanceMinor)
              expect(s1.closingAccruedMsat).toBe(s2.openingAccruedMsat)
            }
            const whole = st(T0, end)
            expect(whole.closingBalanceMinor).toBe(lp.balanceMinor)
            expect(whole.closingAccruedMsat).toBe(lp.accruedMsat)
            // No payouts here: everything accrued was earned in the period.
            expect(whole.earnedMsat).toBe(lp.accruedMsat)
            const off = deactivatedAt.get(lp.id)
            expect(lp.active).toBe(off === undefined)
            if (off !== undefined) {
              expect(whole.lines.some((l) => l.kind === 'allocation' && l.atMs > off)).toBe(false)
              expect(whole.lines.some((l) => l.kind === 'deposit' && l.atMs > off)).toBe(false)
            }
            const h = L.call((db) => lpHistory(db, { lpId: lp.id, limit: 1000 })) as { deposits: DepositRow[] }
            for (const d of h.deposits) {
              expect(BigInt(d.reversedMinor)).toBeLessThanOrEqual(BigInt(d.amountMinor))
              if (d.status !== 'confirmed') expect(d.reversedMinor).toBe('0')
            }
          }
          L.close()
          opened.splice(opened.indexOf(L), 1)
        },
      ),
      { numRuns: RUNS, seed: SEED },
    )
  }, 600_000)
})
