// The settlement engine: docs/settlement.md "Money rules", implemented exactly. Pure code (no I/O) shared by the main
// process (booking), the renderer (live previews) and the `satmachine settle` CLI. Every result is checked for
// conservation of msat and fiat before it is returned, so a bug here throws instead of leaking money.
//
// Cash-out (customer pays W msat, receives F fiat):
//   P = floor(W·10^12 / (10^12 + (X+Y)·(10^6 − D))), C = W − P; on a partial dispense P and C are scaled by
//   F/F_req (floored) and the rest of W is a refund due to the customer; PF = floor(C·X/(X+Y)), OF = C − PF split by
//   largest remainder; LP fiat from their available balances, the operator float covering any shortfall; LP and
//   float sats = LR(P, fiat weights) with the float last.
// Cash-in (customer inserts F fiat, receives W msat): P = floor(W·10^12 / (10^12 − (X+Y)·(10^6 − D))), C = P − W.

import { isCurrency } from './iso4217'
import { largestRemainder } from './largest-remainder'
import { isPpm, MAX_FEE_PPM, PPM_ONE, PPM_ONE_N } from './ppm'

export type Direction = 'cash_out' | 'cash_in'

export interface SplitInput {
  id: string
  weightPpm: number
}

export interface FlowLpInput {
  id: string
  mode: 'flow'
  remainingMinor: bigint
}

export interface FixedLpInput {
  id: string
  mode: 'fixed'
  remainingMinor: bigint
  dailyLimitMinor: bigint
  usedTodayMinor: bigint
}

export type LpInput = FlowLpInput | FixedLpInput

export interface SettlementInput {
  direction: Direction
  /** What crossed the wire: received by the operator on a cash-out, paid to the customer on a cash-in. */
  wireMsat: bigint
  /** Fiat actually dispensed (cash-out) or inserted (cash-in). */
  fiatMinor: bigint
  /** Fiat the customer asked for; equals fiatMinor unless the ATM dispensed only part of it. */
  fiatRequestedMinor: bigint
  currency: string
  platformPpm: number
  operatorPpm: number
  discountPpm: number
  /** Commission splits of the operator fee; empty = one split `operator` with the whole weight. */
  splits: readonly SplitInput[]
  /** Liquidity providers eligible for this cash-out; ignored on a cash-in. */
  lps: readonly LpInput[]
  /** The fee the ATM claims it charged, compared (never trusted) against our commission. */
  claimedFeeMsat?: bigint
}

export interface SplitShare {
  id: string
  msat: bigint
}

export interface LpShare {
  id: string
  msat: bigint
  fiatMinor: bigint
}

export interface FeeMismatch {
  /** claimed fee − our commission (before any partial-dispense scaling); may be negative. */
  msat: bigint
  /** |mismatch| > max(1,000 msat, P/1000). */
  flagged: boolean
}

export interface SettlementResult {
  direction: Direction
  principalMsat: bigint
  commissionMsat: bigint
  platformFeeMsat: bigint
  operatorFeeMsat: bigint
  refundDueMsat: bigint
  splits: SplitShare[]
  lps: LpShare[]
  operatorFloat: { msat: bigint; fiatMinor: bigint }
  feeMismatch?: FeeMismatch
}

/** Input that breaks a money rule. `field` names the offending input field (a JSON path such as `lps[1].id`). */
export class SettlementInputError extends Error {
  override readonly name = 'SettlementInputError'
  constructor(
    readonly field: string,
    readonly reason: string,
  ) {
    super(`${field}: ${reason}`)
  }
}

/** A broken invariant inside the engine: a bug, never bad input. */
export class ConservationError extends Error {
  override readonly name = 'ConservationError'
}

/** The split used when the operator configured none (docs/settlement.md step 3). */
export const DEFAULT_SPLIT_ID = 'operator'
/** The largest msat amount accepted: 21 million BTC. */
export const MAX_WIRE_MSAT = 21_000_000n * 100_000_000n * 1000n
/** The largest fiat amount accepted: what a SQLite INTEGER column holds. */
export const MAX_FIAT_MINOR = 2n ** 63n - 1n

const TEN_12 = 10n ** 12n
/** The fixed tolerance floor of the fee-mismatch check, in msat. */
export const FEE_MISMATCH_FLOOR_MSAT = 1000n

function checkAmount(field: string, value: unknown, max: bigint): void {
  if (typeof value !== 'bigint') throw new SettlementInputError(field, 'must be an integer amount')
  if (value < 0n) throw new SettlementInputError(field, 'must not be negative')
  if (value > max) throw new SettlementInputError(field, `must not exceed ${max}`)
}

function checkId(field: string, value: unknown, seen: Set<string>): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 200) {
    throw new SettlementInputError(field, 'must be a non-empty string of at most 200 characters')
  }
  if (seen.has(value)) throw new SettlementInputError(field, `duplicate id ${JSON.stringify(value)}`)
  seen.add(value)
  return value
}

/** Checks every money rule on the input; throws SettlementInputError naming the first offending field. */
export function validateSettlementInput(input: SettlementInput): void {
  if (input.direction !== 'cash_out' && input.direction !== 'cash_in') {
    throw new SettlementInputError('direction', 'must be "cash_out" or "cash_in"')
  }
  checkAmount('wireMsat', input.wireMsat, MAX_WIRE_MSAT)
  checkAmount('fiatMinor', input.fiatMinor, MAX_FIAT_MINOR)
  checkAmount('fiatRequestedMinor', input.fiatRequestedMinor, MAX_FIAT_MINOR)
  if (!isCurrency(input.currency)) throw new SettlementInputError('currency', 'must be an active ISO 4217 code')
  for (const f of ['platformPpm', 'operatorPpm', 'discountPpm'] as const) {
    if (!isPpm(input[f])) throw new SettlementInputError(f, 'must be an integer ppm between 0 and 1000000')
  }
  if (input.platformPpm + input.operatorPpm > MAX_FEE_PPM) {
    throw new SettlementInputError('operatorPpm', `platformPpm + operatorPpm must not exceed ${MAX_FEE_PPM} ppm`)
  }
  if (input.direction === 'cash_out') {
    if (input.fiatMinor === 0n) throw new SettlementInputError('fiatMinor', 'a cash-out must dispense some fiat')
    if (input.fiatMinor > input.fiatRequestedMinor) {
      throw new SettlementInputError('fiatMinor', 'must not exceed fiatRequestedMinor')
    }
  } else if (input.fiatRequestedMinor !== input.fiatMinor) {
    throw new SettlementInputError('fiatRequestedMinor', 'a cash-in has no partial dispense; must equal fiatMinor')
  }
  if (!Array.isArray(input.splits)) throw new SettlementInputError('splits', 'must be an array')
  const splitIds = new Set<string>()
  let weightSum = 0
  input.splits.forEach((s, i) => {
    checkId(`splits[${i}].id`, s.id, splitIds)
    if (!isPpm(s.weightPpm)) {
      throw new SettlementInputError(`splits[${i}].weightPpm`, 'must be an integer ppm between 0 and 1000000')
    }
    weightSum += s.weightPpm
  })
  if (input.splits.length > 0 && weightSum !== PPM_ONE) {
    throw new SettlementInputError('splits', `weights must sum to ${PPM_ONE} ppm, got ${weightSum}`)
  }
  if (!Array.isArray(input.lps)) throw new SettlementInputError('lps', 'must be an array')
  const lpIds = new Set<string>()
  input.lps.forEach((lp, i) => {
    checkId(`lps[${i}].id`, lp.id, lpIds)
    checkAmount(`lps[${i}].remainingMinor`, lp.remainingMinor, MAX_FIAT_MINOR)
    if (lp.mode === 'fixed') {
      checkAmount(`lps[${i}].dailyLimitMinor`, lp.dailyLimitMinor, MAX_FIAT_MINOR)
      checkAmount(`lps[${i}].usedTodayMinor`, lp.usedTodayMinor, MAX_FIAT_MINOR)
    } else if (lp.mode !== 'flow') {
      throw new SettlementInputError(`lps[${i}].mode`, 'must be "flow" or "fixed"')
    }
  })
  if (input.claimedFeeMsat !== undefined) {
    if (typeof input.claimedFeeMsat !== 'bigint') {
      throw new SettlementInputError('claimedFeeMsat', 'must be an integer amount')
    }
    if (input.claimedFeeMsat < -MAX_WIRE_MSAT || input.claimedFeeMsat > MAX_WIRE_MSAT) {
      throw new SettlementInputError('claimedFeeMsat', 'out of range')
    }
  }
}

/** What an LP can take from this cash-out: its remaining balance, capped by its unused daily limit if fixed. */
export function lpAvailableMinor(lp: LpInput): bigint {
  if (lp.mode === 'flow') return lp.remainingMinor
  const unused = lp.dailyLimitMinor - lp.usedTodayMinor
  const dayRoom = unused > 0n ? unused : 0n
  return lp.remainingMinor < dayRoom ? lp.remainingMinor : dayRoom
}

/** (X+Y)·(10^6 − D): the effective fee fraction in ppm², the scale of 10^12 = 100 %. */
function effectiveFeePpm2(input: SettlementInput): bigint {
  return BigInt(input.platformPpm + input.operatorPpm) * (PPM_ONE_N - BigInt(input.discountPpm))
}

/** Principal and commission before any partial-dispense scaling (docs/settlement.md step 1 / cash-in). */
export function principalAndCommission(input: SettlementInput): { principalMsat: bigint; commissionMsat: bigint } {
  const eff = effectiveFeePpm2(input)
  if (input.direction === 'cash_out') {
    const principalMsat = (input.wireMsat * TEN_12) / (TEN_12 + eff)
    return { principalMsat, commissionMsat: input.wireMsat - principalMsat }
  }
  const principalMsat = (input.wireMsat * TEN_12) / (TEN_12 - eff)
  return { principalMsat, commissionMsat: principalMsat - input.wireMsat }
}

/** The fee-mismatch check (docs/settlement.md step 7): flagged when |claimed − C| > max(1,000 msat, P/1000), exactly. */
export function feeMismatch(claimedFeeMsat: bigint, commissionMsat: bigint, principalMsat: bigint): FeeMismatch {
  const msat = claimedFeeMsat - commissionMsat
  const abs = msat < 0n ? -msat : msat
  return { msat, flagged: abs > FEE_MISMATCH_FLOOR_MSAT && abs * 1000n > principalMsat }
}

function splitOperatorFee(input: SettlementInput, operatorFeeMsat: bigint): SplitShare[] {
  const splits = input.splits.length > 0 ? input.splits : [{ id: DEFAULT_SPLIT_ID, weightPpm: PPM_ONE }]
  const shares = largestRemainder(
    operatorFeeMsat,
    splits.map((s) => ({ id: s.id, weight: BigInt(s.weightPpm) })),
  )
  return splits.map((s, i) => ({ id: s.id, msat: shares[i]! }))
}

/**
 * Computes one settlement. Validates the input first (SettlementInputError names the field) and asserts
 * conservation on the result (ConservationError would mean a bug in this file).
 */
export function computeSettlement(input: SettlementInput): SettlementResult {
  validateSettlementInput(input)
  const full = principalAndCommission(input)
  let principalMsat = full.principalMsat
  let commissionMsat = full.commissionMsat
  let refundDueMsat = 0n
  if (input.direction === 'cash_out' && input.fiatMinor < input.fiatRequestedMinor) {
    principalMsat = (principalMsat * input.fiatMinor) / input.fiatRequestedMinor
    commissionMsat = (commissionMsat * input.fiatMinor) / input.fiatRequestedMinor
    refundDueMsat = input.wireMsat - principalMsat - commissionMsat
  }
  const feePpm = input.platformPpm + input.operatorPpm
  const platformFeeMsat = feePpm === 0 ? 0n : (commissionMsat * BigInt(input.platformPpm)) / BigInt(feePpm)
  const operatorFeeMsat = commissionMsat - platformFeeMsat
  const splits = splitOperatorFee(input, operatorFeeMsat)

  let lps: LpShare[]
  let operatorFloat: { msat: bigint; fiatMinor: bigint }
  if (input.direction === 'cash_out') {
    const available = input.lps.map(lpAvailableMinor)
    const availableSum = available.reduce((a, b) => a + b, 0n)
    let fiat: bigint[]
    let floatFiat: bigint
    if (availableSum <= input.fiatMinor) {
      fiat = available
      floatFiat = input.fiatMinor - availableSum
    } else {
      fiat = largestRemainder(
        input.fiatMinor,
        input.lps.map((lp, i) => ({ id: lp.id, weight: available[i]! })),
      )
      floatFiat = 0n
    }
    const sats = largestRemainder(principalMsat, [
      ...input.lps.map((lp, i) => ({ id: lp.id, weight: fiat[i]! })),
      { id: '', weight: floatFiat, last: true },
    ])
    lps = input.lps.map((lp, i) => ({ id: lp.id, msat: sats[i]!, fiatMinor: fiat[i]! }))
    operatorFloat = { msat: sats[input.lps.length]!, fiatMinor: floatFiat }
  } else {
    // A cash-in touches no LP; the inserted cash is the operator's, reconciled against the machine's cassettes.
    lps = input.lps.map((lp) => ({ id: lp.id, msat: 0n, fiatMinor: 0n }))
    operatorFloat = { msat: 0n, fiatMinor: input.fiatMinor }
  }

  const result: SettlementResult = {
    direction: input.direction,
    principalMsat,
    commissionMsat,
    platformFeeMsat,
    operatorFeeMsat,
    refundDueMsat,
    splits,
    lps,
    operatorFloat,
  }
  if (input.claimedFeeMsat !== undefined) {
    result.feeMismatch = feeMismatch(input.claimedFeeMsat, full.commissionMsat, full.principalMsat)
  }
  assertConservation(input, result)
  return result
}

/**
 * docs/settlement.md step 6, plus the bounds that make it meaningful: every share non-negative, no LP above its available
 * balance, fiat and msat both summing exactly. Cash-in: PF + Σsplits + W = P and the float holds F.
 */
export function assertConservation(input: SettlementInput, r: SettlementResult): void {
  const fail = (what: string): never => {
    throw new ConservationError(`settlement conservation violated: ${what}`)
  }
  const parts = [r.principalMsat, r.commissionMsat, r.platformFeeMsat, r.operatorFeeMsat, r.refundDueMsat]
  if (parts.some((v) => v < 0n)) fail('negative amount')
  if (r.platformFeeMsat + r.operatorFeeMsat !== r.commissionMsat) fail('PF + OF ≠ C')
  const splitSum = r.splits.reduce((a, s) => (s.msat < 0n ? fail(`split ${s.id} negative`) : a + s.msat), 0n)
  if (splitSum !== r.operatorFeeMsat) fail('Σ splits ≠ OF')
  let lpMsat = 0n
  let lpFiat = 0n
  for (const [i, lp] of input.lps.entries()) {
    const share = r.lps[i]
    if (!share || share.id !== lp.id) fail(`LP ${lp.id} missing from the result`)
    if (!share) break
    if (share.msat < 0n || share.fiatMinor < 0n) fail(`LP ${lp.id} negative`)
    if (share.fiatMinor > lpAvailableMinor(lp)) fail(`LP ${lp.id} above its available balance`)
    lpMsat += share.msat
    lpFiat += share.fiatMinor
  }
  if (r.lps.length !== input.lps.length) fail('LP count')
  if (r.operatorFloat.msat < 0n || r.operatorFloat.fiatMinor < 0n) fail('negative float')
  if (lpFiat + r.operatorFloat.fiatMinor !== input.fiatMinor) fail('Σ fiat ≠ F')
  if (input.direction === 'cash_out') {
    if (lpMsat + r.operatorFloat.msat !== r.principalMsat) fail('Σ LP msat + float ≠ P')
    const total = r.platformFeeMsat + splitSum + lpMsat + r.operatorFloat.msat + r.refundDueMsat
    if (total !== input.wireMsat) fail(`msat sum ${total} ≠ W ${input.wireMsat}`)
  } else {
    if (lpMsat !== 0n || r.operatorFloat.msat !== 0n || r.refundDueMsat !== 0n) fail('cash-in touched LPs')
    if (r.platformFeeMsat + splitSum + input.wireMsat !== r.principalMsat) fail('PF + Σ splits + W ≠ P')
  }
}

/**
 * Dust settlement (docs/settlement.md, last paragraph): the msat that buy `fiatMinor` at a rate quoted in msat per major
 * unit of `currency`, floored to the msat (a payout is made in whole sats anyway; the floor never overpays).
 */
export function fiatToMsatAtRate(fiatMinor: bigint, rateMsatPerMajor: bigint, minorPerMajor: bigint): bigint {
  if (fiatMinor < 0n) throw new RangeError('fiatMinor must not be negative')
  if (rateMsatPerMajor <= 0n) throw new RangeError('rateMsatPerMajor must be positive')
  if (minorPerMajor <= 0n) throw new RangeError('minorPerMajor must be positive')
  return (fiatMinor * rateMsatPerMajor) / minorPerMajor
}
