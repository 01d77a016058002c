// Unit tests of the pure payout state machine: every legal transition, every illegal one refused with a typed
// error, the preimage rule, and the back-off schedule.
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex } from '@noble/hashes/utils.js'
import { describe, expect, it } from 'vitest'
import {
  backoffMs,
  markFailedFinal,
  markFailedRetryable,
  markPaid,
  markSending,
  markUnknown,
  PAYOUT_STATES,
  type Payout,
  PayoutFactError,
  type PayoutState,
  PayoutTransitionError,
  reconcileUnknown,
  resumeSending,
  scheduleRetry,
} from './state-machine'

const preimage = '11'.repeat(32)
const paymentHash = bytesToHex(sha256(new Uint8Array(32).fill(0x11)))
const REQ = 'ab'.repeat(32)

function payout(state: PayoutState, over: Partial<Payout> = {}): Payout {
  return {
    id: 'po:lp:a:1',
    state,
    recipientKind: 'lp',
    recipientId: 'a',
    amountMsat: 21_000n,
    maxFeeMsat: 100n,
    connectionId: 'op',
    bolt11: 'lnbcrt210n1…',
    paymentHash,
    attempt: 1,
    requestId: state === 'planned' ? null : REQ,
    requestJson: state === 'planned' ? null : '{}',
    requestExpiresAtSec: state === 'planned' ? null : 1000,
    preimage: null,
    feesPaidMsat: null,
    reason: null,
    errorCode: null,
    nextAttemptAtMs: null,
    updatedAtMs: 0,
    ...over,
  }
}

const sending = { requestId: REQ, requestJson: '{}', requestExpiresAtSec: 1000, nowMs: 1 }

describe('payout transitions', () => {
  it('markSending: planned → sending with the request stored; refused without an invoice', () => {
    const p = markSending(payout('planned'), sending)
    expect(p.state).toBe('sending')
    expect(p.requestId).toBe(REQ)
    expect(() => markSending(payout('planned', { bolt11: null, paymentHash: null }), sending)).toThrow(
      PayoutTransitionError,
    )
  })

  it('markPaid: only with a preimage that hashes to the payment hash; records an over-cap fee', () => {
    expect(() =>
      markPaid(payout('sending'), { preimage: '22'.repeat(32), feesPaidMsat: 0n, nowMs: 2, via: 'response' }),
    ).toThrow(PayoutFactError)
    const p = markPaid(payout('sending'), { preimage, feesPaidMsat: 500n, nowMs: 2, via: 'response' })
    expect(p.state).toBe('paid')
    expect(p.errorCode).toBe('FEE_EXCEEDED')
    expect(markPaid(payout('unknown'), { preimage, feesPaidMsat: 1n, nowMs: 2, via: 'lookup' }).errorCode).toBeNull()
  })

  it('every transition refuses the states it is not allowed from', () => {
    const attempts: Array<[string, readonly PayoutState[], (p: Payout) => Payout]> = [
      ['markSending', ['planned'], (p) => markSending(p, sending)],
      [
        'markPaid',
        ['sending', 'unknown', 'failed_retryable'],
        (p) => markPaid(p, { preimage, feesPaidMsat: null, nowMs: 1, via: 'lookup' }),
      ],
      [
        'markFailedRetryable',
        ['planned', 'sending', 'unknown'],
        (p) => markFailedRetryable(p, { code: 'X', reason: 'r', nextAttemptAtMs: 0, nowMs: 1 }),
      ],
      [
        'markFailedFinal',
        ['planned', 'sending', 'unknown', 'failed_retryable'],
        (p) => markFailedFinal(p, { code: 'X', reason: 'r', nowMs: 1 }),
      ],
      ['markUnknown', ['sending'], (p) => markUnknown(p, { reason: 'r', checkAtMs: 0, nowMs: 1 })],
      ['resumeSending', ['unknown'], (p) => resumeSending(p, { nowSec: 10, nowMs: 1 })],
      [
        'reconcileUnknown',
        ['unknown'],
        (p) =>
          reconcileUnknown(p, { verdict: { status: 'pending' }, nowMs: 1, nowSec: 1, recheckAtMs: 5, retryAtMs: 5 }),
      ],
      [
        'scheduleRetry',
        ['failed_retryable'],
        (p) => scheduleRetry(p, { nowMs: 1, lookup: { status: 'not_paid', reason: 'not_found' }, newInvoice: false }),
      ],
    ]
    for (const [name, allowed, fn] of attempts) {
      for (const s of PAYOUT_STATES) {
        if (allowed.includes(s)) expect(() => fn(payout(s)), `${name} from ${s}`).not.toThrow()
        else {
          expect(() => fn(payout(s)), `${name} from ${s}`).toThrow(PayoutTransitionError)
          try {
            fn(payout(s))
          } catch (e) {
            expect((e as PayoutTransitionError).transition).toBe(name)
            expect((e as PayoutTransitionError).from).toBe(s)
          }
        }
      }
    }
  })

  it('resumeSending refuses an expired request (a fresh attempt needs a lookup first)', () => {
    expect(() => resumeSending(payout('unknown'), { nowSec: 1000, nowMs: 1 })).toThrow(/expired/)
  })

  it('reconcileUnknown: paid → paid; unpaid & expired → failed_retryable; unpaid & live → unknown; unverifiable → failed_final', () => {
    const base = { nowMs: 1, recheckAtMs: 50, retryAtMs: 60 }
    const u = payout('unknown')
    expect(
      reconcileUnknown(u, { ...base, nowSec: 1, verdict: { status: 'paid', preimage, feesPaidMsat: 0n } }).state,
    ).toBe('paid')
    const retry = reconcileUnknown(u, { ...base, nowSec: 1000, verdict: { status: 'not_paid', reason: 'not_found' } })
    expect(retry.state).toBe('failed_retryable')
    expect(retry.nextAttemptAtMs).toBe(60)
    const live = reconcileUnknown(u, { ...base, nowSec: 999, verdict: { status: 'not_paid', reason: 'not_found' } })
    expect(live.state).toBe('unknown')
    expect(live.nextAttemptAtMs).toBe(50)
    expect(reconcileUnknown(u, { ...base, nowSec: 1, verdict: { status: 'pending' } }).state).toBe('unknown')
    const bad = reconcileUnknown(u, { ...base, nowSec: 1, verdict: { status: 'unverifiable', reason: 'wrong_amount' } })
    expect(bad.state).toBe('failed_final')
    expect(bad.errorCode).toBe('UNVERIFIABLE')
  })

  it('scheduleRetry: only after the back-off and only on a lookup that proves it unpaid', () => {
    const f = payout('failed_retryable', { nextAttemptAtMs: 100 })
    const notPaid = { status: 'not_paid', reason: 'not_found' } as const
    expect(() => scheduleRetry(f, { nowMs: 99, lookup: notPaid, newInvoice: false })).toThrow(/not before/)
    expect(() => scheduleRetry(f, { nowMs: 100, lookup: { status: 'pending' }, newInvoice: false })).toThrow(/pending/)
    const same = scheduleRetry(f, { nowMs: 100, lookup: notPaid, newInvoice: false })
    expect(same.state).toBe('planned')
    expect(same.attempt).toBe(2)
    expect(same.bolt11).toBe(f.bolt11)
    expect(same.requestId).toBeNull()
    expect(scheduleRetry(f, { nowMs: 100, lookup: notPaid, newInvoice: true }).bolt11).toBeNull()
  })

  it('backoffMs doubles from the base and is capped', () => {
    const pol = { baseMs: 1000, maxMs: 5000, maxAttempts: 5 }
    expect([1, 2, 3, 4, 5].map((a) => backoffMs(a, pol))).toEqual([1000, 2000, 4000, 5000, 5000])
  })
})
