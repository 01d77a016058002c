// Payout state machine (docs/settlement.md "Payouts", src-main/payouts/README.md, NIP-47 pay_invoice).
//
// A payout is one Lightning payment that pays a recipient's accrued legs. It moves through these states:
//
//   planned ──markSending──▶ sending ──markPaid──────────▶ paid            (sha256(preimage) = payment hash)
//      ▲                        │ ├──markFailedRetryable──▶ failed_retryable ──scheduleRetry──▶ planned
//      │                        │ ├──markFailedFinal──────▶ failed_final      (on the worklist with its reason)
//      │                        │ └──markUnknown──────────▶ unknown
//      │                        ▲                              │
//      │                        └──────resumeSending───────────┤  (no trace, stored request not yet expired)
//      │                                                       └─reconcileUnknown─▶ paid | failed_retryable |
//      │                                                                             failed_final | unknown
//
// Every function here is pure: it takes the current payout and the facts of one step, checks that the step is
// allowed from the current state, and returns the next payout. An illegal step throws PayoutTransitionError
// naming the payout, its state and the attempted transition, so a bug can never silently move money state. The
// persistence layer (src-main/payouts) runs each function inside one journaled ledger transaction before any
// request is published, which is what makes a payout exactly-once across crashes.

import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js'

export const PAYOUT_STATES = ['planned', 'sending', 'paid', 'failed_retryable', 'failed_final', 'unknown'] as const
export type PayoutState = (typeof PAYOUT_STATES)[number]

/** States a payout never leaves by itself. `failed_final` leaves the worklist only by an operator's decision. */
export const TERMINAL_STATES: readonly PayoutState[] = ['paid', 'failed_final']

export type PayoutTransition =
  | 'markSending'
  | 'markPaid'
  | 'markFailedRetryable'
  | 'markFailedFinal'
  | 'markUnknown'
  | 'resumeSending'
  | 'reconcileUnknown'
  | 'scheduleRetry'

/** The part of a payout the state machine reads and writes. Amounts are bigint msat. */
export interface Payout {
  id: string
  state: PayoutState
  recipientKind: string
  recipientId: string
  /** Whole sats, in msat (a multiple of 1000). */
  amountMsat: bigint
  /** The most the operator accepts to pay in routing fees for this payout. */
  maxFeeMsat: bigint
  /** The wallet connection this payout is pinned to; no other connection may ever pay it. */
  connectionId: string
  /** The invoice being paid and its payment hash; stored before any request is built. */
  bolt11: string | null
  paymentHash: string | null
  /** 1 for the first request; a retry after a lookup proved the previous one unpaid increments it. */
  attempt: number
  /** The signed NIP-47 request of the current attempt (JSON), its id and its expiration. */
  requestId: string | null
  requestJson: string | null
  requestExpiresAtSec: number | null
  preimage: string | null
  feesPaidMsat: bigint | null
  /** Why the payout is where it is (error code and message, reconciliation outcome). */
  reason: string | null
  errorCode: string | null
  /** When a failed_retryable payout may be tried again, or when an unknown one is looked up next. */
  nextAttemptAtMs: number | null
  updatedAtMs: number
}

export class PayoutTransitionError extends Error {
  readonly field = 'state'
  constructor(
    readonly payoutId: string,
    readonly from: PayoutState,
    readonly transition: PayoutTransition,
    why: string,
  ) {
    super(`payout ${payoutId}: ${transition} is not allowed from ${from}: ${why}`)
    this.name = 'PayoutTransitionError'
  }
}

/** A fact handed to a transition does not hold (a preimage that does not hash, an amount that differs …). */
export class PayoutFactError extends Error {
  constructor(
    readonly payoutId: string,
    readonly field: string,
    why: string,
  ) {
    super(`payout ${payoutId}: ${field}: ${why}`)
    this.name = 'PayoutFactError'
  }
}

const HEX64 = /^[0-9a-f]{64}$/

function allowFrom(p: Payout, t: PayoutTransition, allowed: readonly PayoutState[]): void {
  if (!allowed.includes(p.state)) {
    throw new PayoutTransitionError(p.id, p.state, t, `allowed only from ${allowed.join(' or ')}`)
  }
}

/** sha256(preimage) = payment hash, both 64 lowercase hex. */
export function preimageProvesPayment(preimage: string, paymentHash: string): boolean {
  const pre = preimage.toLowerCase()
  if (!HEX64.test(pre) || !HEX64.test(paymentHash)) return false
  return bytesToHex(sha256(hexToBytes(pre))) === paymentHash
}

// ---------------------------------------------------------------------------------------------------------------
// Transitions

/**
 * planned → sending: the signed request of this attempt is recorded. The invoice must already be stored, so that
 * a crash after this point re-uses the same invoice and the same request (B3 step 2).
 */
export function markSending(
  p: Payout,
  f: { requestId: string; requestJson: string; requestExpiresAtSec: number; nowMs: number },
): Payout {
  allowFrom(p, 'markSending', ['planned'])
  if (p.bolt11 === null || p.paymentHash === null) {
    throw new PayoutTransitionError(p.id, p.state, 'markSending', 'no invoice stored yet')
  }
  if (!HEX64.test(f.requestId)) throw new PayoutFactError(p.id, 'requestId', 'must be 64 lowercase hex')
  if (!Number.isSafeInteger(f.requestExpiresAtSec)) throw new PayoutFactError(p.id, 'requestExpiresAtSec', 'integer')
  return {
    ...p,
    state: 'sending',
    requestId: f.requestId,
    requestJson: f.requestJson,
    requestExpiresAtSec: f.requestExpiresAtSec,
    reason: null,
    errorCode: null,
    nextAttemptAtMs: null,
    updatedAtMs: f.nowMs,
  }
}

/**
 * sending | unknown | failed_retryable → paid, only with a preimage whose sha256 is the payment hash (from the
 * response, or from a lookup: a wallet may have paid although an answer said otherwise, e.g. a repeated request
 * answered "already paid"). `feesPaidMsat` is what the wallet reported (null when it did not say).
 */
export function markPaid(
  p: Payout,
  f: { preimage: string; feesPaidMsat: bigint | null; nowMs: number; via: 'response' | 'lookup' },
): Payout {
  allowFrom(p, 'markPaid', ['sending', 'unknown', 'failed_retryable'])
  if (p.paymentHash === null) throw new PayoutTransitionError(p.id, p.state, 'markPaid', 'no payment hash')
  if (!preimageProvesPayment(f.preimage, p.paymentHash)) {
    throw new PayoutFactError(p.id, 'preimage', 'sha256(preimage) differs from the payment hash')
  }
  if (f.feesPaidMsat !== null && f.feesPaidMsat < 0n) throw new PayoutFactError(p.id, 'feesPaidMsat', 'negative')
  const overFee = f.feesPaidMsat !== null && f.feesPaidMsat > p.maxFeeMsat
  return {
    ...p,
    state: 'paid',
    preimage: f.preimage.toLowerCase(),
    feesPaidMsat: f.feesPaidMsat,
    reason: overFee
      ? `paid (${f.via}); routing fee ${f.feesPaidMsat} msat exceeds the maximum ${p.maxFeeMsat} msat`
      : `paid (${f.via})`,
    errorCode: overFee ? 'FEE_EXCEEDED' : null,
    nextAttemptAtMs: null,
    updatedAtMs: f.nowMs,
  }
}

/**
 * planned | sending | unknown → failed_retryable: the wallet said it did not pay (a retryable error code), a lookup
 * after the request expired found no trace, or (from planned, nothing sent) the destination gave no invoice yet. A new request may be minted once `nextAttemptAtMs` has passed.
 */
export function markFailedRetryable(
  p: Payout,
  f: { code: string; reason: string; nextAttemptAtMs: number; nowMs: number },
): Payout {
  allowFrom(p, 'markFailedRetryable', ['planned', 'sending', 'unknown'])
  return {
    ...p,
    state: 'failed_retryable',
    errorCode: f.code,
    reason: f.reason,
    nextAttemptAtMs: f.nextAttemptAtMs,
    updatedAtMs: f.nowMs,
  }
}

/** planned | sending | unknown | failed_retryable → failed_final: needs a human; on the worklist with its reason. */
export function markFailedFinal(p: Payout, f: { code: string; reason: string; nowMs: number }): Payout {
  allowFrom(p, 'markFailedFinal', ['planned', 'sending', 'unknown', 'failed_retryable'])
  return {
    ...p,
    state: 'failed_final',
    errorCode: f.code,
    reason: f.reason,
    nextAttemptAtMs: null,
    updatedAtMs: f.nowMs,
  }
}

/**
 * sending → unknown: the outcome cannot be told (no answer, an answer without a valid preimage, a restart while
 * sending). Nothing new may be minted until a lookup decides (B3 step 3).
 */
export function markUnknown(p: Payout, f: { reason: string; code?: string; checkAtMs: number; nowMs: number }): Payout {
  allowFrom(p, 'markUnknown', ['sending'])
  return {
    ...p,
    state: 'unknown',
    errorCode: f.code ?? null,
    reason: f.reason,
    nextAttemptAtMs: f.checkAtMs,
    updatedAtMs: f.nowMs,
  }
}

/**
 * unknown → sending with the SAME stored request: the lookup found no trace and the request has not expired, so
 * re-publishing it cannot create a second payment (the same event id; the wallet drops a repeat).
 */
export function resumeSending(p: Payout, f: { nowSec: number; nowMs: number }): Payout {
  allowFrom(p, 'resumeSending', ['unknown'])
  if (p.requestJson === null || p.requestExpiresAtSec === null) {
    throw new PayoutTransitionError(p.id, p.state, 'resumeSending', 'no stored request')
  }
  if (f.nowSec >= p.requestExpiresAtSec) {
    throw new PayoutTransitionError(p.id, p.state, 'resumeSending', 'the stored request has expired')
  }
  return { ...p, state: 'sending', nextAttemptAtMs: null, updatedAtMs: f.nowMs }
}

/** What a lookup_invoice (by payment hash, on the pinned connection) said; see nip47.reconcilePaymentLookup. */
export type LookupVerdict =
  | { status: 'paid'; preimage: string; feesPaidMsat: bigint | null }
  | { status: 'pending' }
  | { status: 'not_paid'; reason: string }
  | { status: 'unverifiable'; reason: string }

/**
 * unknown → the state a lookup proves:
 * - paid (with a verified preimage) → paid;
 * - not paid, and the stored request has expired (the wallet ignores it from now on) → failed_retryable;
 * - not paid but the request may still arrive, or the payment is pending → stays unknown, checked again later;
 * - unverifiable (wrong amount, preimage missing or wrong on a settled payment) → failed_final, for a human.
 * Resuming the stored request (no trace, not expired) is `resumeSending`, chosen by the caller.
 */
export function reconcileUnknown(
  p: Payout,
  f: { verdict: LookupVerdict; nowMs: number; nowSec: number; recheckAtMs: number; retryAtMs: number },
): Payout {
  allowFrom(p, 'reconcileUnknown', ['unknown'])
  const v = f.verdict
  if (v.status === 'paid') return markPaid(p, { ...v, nowMs: f.nowMs, via: 'lookup' })
  if (v.status === 'unverifiable') {
    return markFailedFinal(p, {
      code: 'UNVERIFIABLE',
      reason: `lookup cannot prove the outcome: ${v.reason}`,
      nowMs: f.nowMs,
    })
  }
  const expired = p.requestExpiresAtSec === null || f.nowSec >= p.requestExpiresAtSec
  if (v.status === 'not_paid' && expired) {
    return markFailedRetryable(p, {
      code: p.errorCode ?? 'NO_TRACE',
      reason: `request expired and lookup shows it unpaid (${v.reason})`,
      nextAttemptAtMs: f.retryAtMs,
      nowMs: f.nowMs,
    })
  }
  const why = v.status === 'pending' ? 'payment pending at the wallet' : `no trace yet (${v.reason}); request live`
  return { ...p, reason: why, nextAttemptAtMs: f.recheckAtMs, updatedAtMs: f.nowMs }
}

/**
 * failed_retryable → planned for the next attempt, only when its time has come and a lookup shows the previous
 * attempts unpaid. `newInvoice` clears the invoice (it expired, so it can never be paid) so a fresh one is
 * fetched; otherwise the same invoice is paid again, which a wallet refuses to pay twice.
 */
export function scheduleRetry(p: Payout, f: { nowMs: number; lookup: LookupVerdict; newInvoice: boolean }): Payout {
  allowFrom(p, 'scheduleRetry', ['failed_retryable'])
  if (p.nextAttemptAtMs !== null && f.nowMs < p.nextAttemptAtMs) {
    throw new PayoutTransitionError(p.id, p.state, 'scheduleRetry', `not before ${p.nextAttemptAtMs}`)
  }
  if (f.lookup.status !== 'not_paid') {
    throw new PayoutTransitionError(p.id, p.state, 'scheduleRetry', `lookup says ${f.lookup.status}, not unpaid`)
  }
  return {
    ...p,
    state: 'planned',
    attempt: p.attempt + 1,
    bolt11: f.newInvoice ? null : p.bolt11,
    paymentHash: f.newInvoice ? null : p.paymentHash,
    requestId: null,
    requestJson: null,
    requestExpiresAtSec: null,
    nextAttemptAtMs: null,
    updatedAtMs: f.nowMs,
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Back-off and classification

export interface BackoffPolicy {
  baseMs: number
  maxMs: number
  /** Attempts after which a retryable failure becomes final. */
  maxAttempts: number
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 30_000, maxMs: 3_600_000, maxAttempts: 8 }

/** Delay before attempt `attempt + 1`: base · 2^(attempt−1), capped. Deterministic (no jitter: ids differ anyway). */
export function backoffMs(attempt: number, policy: BackoffPolicy = DEFAULT_BACKOFF): number {
  const n = Math.max(1, Math.min(attempt, 30))
  return Math.min(policy.maxMs, policy.baseMs * 2 ** (n - 1))
}

/** Codes whose failure also pauses all payouts on the connection: nothing else will go through either. */
export const PAUSING_CODES: readonly string[] = ['INSUFFICIENT_BALANCE', 'QUOTA_EXCEEDED', 'UNAUTHORIZED', 'RESTRICTED']
