// Model-based property test of the payout procedures (src-main/payouts/README.md): random
// sequences of accruals, planning, invoices, sends, wallet answers (paid / retryable / final / no answer),
// lookups (paid / unpaid / pending / unverifiable, before and after expiry), retries, resumes and releases — legal
// and illegal — run against the real schema and procedures on sql.js (no journal; the store's own tests cover
// that). After every command: money is conserved (what was accrued = what is still accrued + what was paid),
// at most one payout per recipient is open, every paid payout has a preimage that hashes to its payment hash,
// amounts are whole sats, and what open payouts reserve never exceeds the accrual. Illegal steps must throw a
// typed error and change nothing. Runs PROPS_RUNS / 200 cases; replay with PROPS_SEED.
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex } from '@noble/hashes/utils.js'
import fc from 'fast-check'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { PayoutFactError, PayoutTransitionError } from '../../src-shared/payouts/state-machine'
import { appendAccrual, recipientAccrual } from '../accounting/entries'
import { accountingMigrations } from '../accounting/procedures'
import { openSqlJsLedger, type SqlJsLedger } from '../accounting/sqljs-txdb'
import type { Procedure } from '../ledger/types'
import {
  attachInvoice,
  markFailedFinalProc,
  markFailedRetryableProc,
  markPaidProc,
  markSendingProc,
  markUnknownProc,
  PayoutArgError,
  PayoutStateError,
  payoutMigrations,
  plan,
  reconcileUnknownProc,
  release,
  resumeSendingProc,
  scheduleRetryProc,
  setRecipient,
} from './procedures'

const RUNS = Math.max(20, Math.floor(Number(process.env.PROPS_RUNS ?? 4000) / 200))
const SEED = process.env.PROPS_SEED ? Number(process.env.PROPS_SEED) : (Date.now() ^ (Math.random() * 2 ** 31)) | 0
console.log(`[props] payouts model: runs=${RUNS} seed=${SEED} (replay with PROPS_SEED=${SEED})`)
// Each case replays 30–80 commands on a fresh schema: ~0.1 s a case on the 2-core build machine, so 500 cases
// (CI) take about a minute and more under load. The budget scales with the run count instead of the suite-wide
// 60 s default, which a loaded machine exceeded (a timeout is not a property failure).
const TIMEOUT_MS = Math.max(60_000, RUNS * 1_000)

let L: SqlJsLedger
let caseNo = 0
beforeAll(async () => {
  L = await openSqlJsLedger([...accountingMigrations, ...payoutMigrations])
})
afterAll(() => L?.close())

type Cmd =
  | { k: 'accrue'; r: number; msat: number }
  | { k: 'plan' }
  | { k: 'attach'; p: number }
  | { k: 'send'; p: number }
  | { k: 'answer'; p: number; a: 'paid' | 'wrong' | 'retryable' | 'final' | 'none' }
  | { k: 'lookup'; p: number; v: 'paid' | 'not_paid' | 'pending' | 'unverifiable'; expired: boolean }
  | { k: 'retry'; p: number }
  | { k: 'resume'; p: number }
  | { k: 'release'; p: number }
  | { k: 'tick'; ms: number }

const idx = fc.nat(5)
const cmd: fc.Arbitrary<Cmd> = fc.oneof(
  fc.record({ k: fc.constant('accrue' as const), r: fc.nat(2), msat: fc.integer({ min: 1, max: 40_000 }) }),
  fc.constant({ k: 'plan' as const }),
  fc.record({ k: fc.constant('attach' as const), p: idx }),
  fc.record({ k: fc.constant('send' as const), p: idx }),
  fc.record({
    k: fc.constant('answer' as const),
    p: idx,
    a: fc.constantFrom('paid' as const, 'wrong' as const, 'retryable' as const, 'final' as const, 'none' as const),
  }),
  fc.record({
    k: fc.constant('lookup' as const),
    p: idx,
    v: fc.constantFrom('paid' as const, 'not_paid' as const, 'pending' as const, 'unverifiable' as const),
    expired: fc.boolean(),
  }),
  fc.record({ k: fc.constant('retry' as const), p: idx }),
  fc.record({ k: fc.constant('resume' as const), p: idx }),
  fc.record({ k: fc.constant('release' as const), p: idx }),
  fc.record({ k: fc.constant('tick' as const), ms: fc.integer({ min: 1, max: 120_000 }) }),
)

/**
 * Runs one case inside a savepoint that is rolled back afterwards, so every case starts from the same small database
 * and the cost of a case does not grow with the number of cases before it (at `--runs 1000000`, 5,000 cases).
 */
function isolated(body: () => void): void {
  L.db.run('SAVEPOINT prop_case')
  try {
    body()
  } finally {
    L.db.run('ROLLBACK TO prop_case')
    L.db.run('RELEASE prop_case')
  }
}

const TYPED = [PayoutTransitionError, PayoutFactError, PayoutStateError, PayoutArgError]
const hex = (n: number, salt: string) => bytesToHex(sha256(new TextEncoder().encode(`${salt}:${n}`)))

it(
  'payout procedures conserve money and never pay twice under any command sequence',
  () => {
    fc.assert(
      fc.property(fc.array(cmd, { minLength: 30, maxLength: 80 }), (cmds) =>
        isolated(() => {
          const c = ++caseNo
          const recipients = [0, 1, 2].map((i) => `c${c}-r${i}`)
          let nowMs = 1_000_000
          let nonce = 0
          const accrued = new Map<string, bigint>(recipients.map((r) => [r, 0n]))
          const preimages = new Map<string, string>()
          for (const r of recipients) {
            L.call(setRecipient, {
              recipientKind: 'lp',
              recipientId: r,
              thresholdMsat: 5000n,
              minIntervalMs: 0,
              maxFeeBaseMsat: 0n,
              maxFeePpm: 1000,
              atMs: nowMs,
            })
          }
          const payouts = () =>
            L.db.all<{
              id: string
              state: string
              recipient_id: string
              amount_msat: bigint
              payment_hash: string | null
              preimage: string | null
              request_expires_at_sec: bigint | null
              released_at_ms: bigint | null
            }>('SELECT * FROM payout WHERE recipient_id LIKE ? ORDER BY id', [`c${c}-%`], { bigint: true })
          const snapshot = () => JSON.stringify(payouts(), (_k, v) => (typeof v === 'bigint' ? v.toString() : v))
          const attempt = <R>(fn: Procedure<unknown, R>, args: unknown): R | undefined => {
            const before = snapshot()
            try {
              return L.call(fn, args)
            } catch (e) {
              if (!TYPED.some((T) => e instanceof T)) throw e
              expect(snapshot(), 'a refused step changed nothing').toBe(before)
              return undefined
            }
          }
          for (const k of cmds) {
            const ps = payouts()
            const p = 'p' in k ? ps[k.p % Math.max(1, ps.length)] : undefined
            const id = p?.id ?? 'none'
            const sec = Math.floor(nowMs / 1000)
            switch (k.k) {
              case 'accrue': {
                const r = recipients[k.r]!
                L.call((db) =>
                  appendAccrual(db, { kind: 'lp', recipientId: r, deltaMsat: BigInt(k.msat), atMs: nowMs }),
                )
                accrued.set(r, accrued.get(r)! + BigInt(k.msat))
                break
              }
              case 'plan':
                L.call(plan, { nowMs, connectionId: 'op' })
                break
              case 'attach': {
                const pre = hex(++nonce, `pre-${c}`)
                const hash = bytesToHex(sha256(Buffer.from(pre, 'hex')))
                preimages.set(hash, pre)
                attempt(attachInvoice, {
                  payoutId: id,
                  bolt11: `lnbcrt-test-${hash}`,
                  paymentHash: hash,
                  amountMsat: p?.amount_msat ?? 1000n,
                  nowMs,
                })
                break
              }
              case 'send':
                attempt(markSendingProc, {
                  payoutId: id,
                  requestId: hex(++nonce, `req-${c}`),
                  requestJson: '{}',
                  requestExpiresAtSec: sec + 60,
                  nowMs,
                })
                break
              case 'answer': {
                const hash = p?.payment_hash ?? ''
                if (k.a === 'paid' || k.a === 'wrong') {
                  const pre = k.a === 'paid' ? (preimages.get(hash) ?? '00'.repeat(32)) : hex(++nonce, 'wrong')
                  const r = attempt(markPaidProc, {
                    payoutId: id,
                    preimage: pre,
                    feesPaidMsat: 0n,
                    nowMs,
                    via: 'response',
                  })
                  if (k.a === 'wrong') expect(r).toBeUndefined()
                } else if (k.a === 'retryable') {
                  attempt(markFailedRetryableProc, {
                    payoutId: id,
                    code: 'RATE_LIMITED',
                    reason: 'r',
                    nextAttemptAtMs: nowMs + 1000,
                    nowMs,
                  })
                } else if (k.a === 'final') {
                  attempt(markFailedFinalProc, { payoutId: id, code: 'OTHER', reason: 'r', nowMs })
                } else {
                  attempt(markUnknownProc, {
                    payoutId: id,
                    reason: 'timeout',
                    code: 'TIMEOUT',
                    checkAtMs: nowMs,
                    nowMs,
                  })
                }
                break
              }
              case 'lookup': {
                const hash = p?.payment_hash ?? ''
                const verdict =
                  k.v === 'paid'
                    ? { status: 'paid', preimage: preimages.get(hash) ?? '00'.repeat(32), feesPaidMsat: 0n }
                    : k.v === 'pending'
                      ? { status: 'pending' }
                      : { status: k.v, reason: 'x' }
                const at = k.expired && p?.request_expires_at_sec ? Number(p.request_expires_at_sec) : sec
                attempt(reconcileUnknownProc, {
                  payoutId: id,
                  verdict,
                  nowMs,
                  nowSec: at,
                  recheckAtMs: nowMs + 1000,
                  retryAtMs: nowMs,
                })
                break
              }
              case 'retry':
                attempt(scheduleRetryProc, {
                  payoutId: id,
                  nowMs,
                  lookup: { status: 'not_paid', reason: 'not_found' },
                  newInvoice: nonce % 2 === 0,
                })
                break
              case 'resume':
                attempt(resumeSendingProc, { payoutId: id, nowSec: sec, nowMs })
                break
              case 'release':
                attempt(release, { payoutId: id, author: 'op', nowMs, acceptUnpaid: true })
                break
              case 'tick':
                nowMs += k.ms
                break
            }
            // ---- invariants ----
            const all = payouts()
            for (const r of recipients) {
              const mine = all.filter((x) => x.recipient_id === r)
              const paid = mine.filter((x) => x.state === 'paid').reduce((a, x) => a + BigInt(x.amount_msat), 0n)
              const left = L.call((db) => recipientAccrual(db, 'lp', r))
              expect(left + paid, `conservation for ${r}`).toBe(accrued.get(r))
              const open = mine.filter(
                (x) =>
                  ['planned', 'sending', 'failed_retryable', 'unknown'].includes(x.state) ||
                  (x.state === 'failed_final' && x.released_at_ms === null),
              )
              expect(open.length, `open payouts for ${r}`).toBeLessThanOrEqual(1)
              const reserved = open.reduce((a, x) => a + BigInt(x.amount_msat), 0n)
              expect(reserved <= left, `reserved ≤ accrual for ${r}`).toBe(true)
            }
            for (const x of all) {
              expect(BigInt(x.amount_msat) % 1000n).toBe(0n)
              if (x.state === 'paid') {
                expect(bytesToHex(sha256(Buffer.from(x.preimage!, 'hex')))).toBe(x.payment_hash)
              }
            }
          }
        }),
      ),
      { numRuns: RUNS, seed: SEED },
    )
  },
  TIMEOUT_MS,
)
