// The JSON codec of the settlement engine, used by `satmachine settle` and anything scripting it (docs/settlement.md, last
// paragraph). Amounts are decimal strings (JSON numbers are accepted only when they are safe integers, so no
// digit is ever lost); fractions are integer ppm. Every rejection names the field as a JSON path.

import {
  type LpInput,
  type SettlementInput,
  SettlementInputError,
  type SettlementResult,
  type SplitInput,
  validateSettlementInput,
} from './settlement'

type Json = null | boolean | number | string | Json[] | { [k: string]: Json }

const TOP_FIELDS = new Set([
  'direction',
  'wireMsat',
  'fiatMinor',
  'fiatRequestedMinor',
  'currency',
  'platformPpm',
  'operatorPpm',
  'discountPpm',
  'splits',
  'lps',
  'claimedFeeMsat',
])
const SPLIT_FIELDS = new Set(['id', 'weightPpm'])
const FLOW_FIELDS = new Set(['id', 'mode', 'remainingMinor'])
const FIXED_FIELDS = new Set(['id', 'mode', 'remainingMinor', 'dailyLimitMinor', 'usedTodayMinor'])

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function rejectUnknown(obj: Record<string, unknown>, allowed: Set<string>, prefix: string): void {
  for (const k of Object.keys(obj)) {
    if (!allowed.has(k)) throw new SettlementInputError(prefix + k, 'unknown field')
  }
}

/** Reads an amount: a decimal string of digits (or a safe-integer JSON number). A leading minus is allowed only
 *  when `signed` (the claimed fee may exceed nothing, but a mismatch can be negative). */
export function parseAmount(field: string, v: unknown, signed = false): bigint {
  if (v === undefined) throw new SettlementInputError(field, 'is required')
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) throw new SettlementInputError(field, 'must be an integer (no fractional part)')
    if (!Number.isSafeInteger(v)) throw new SettlementInputError(field, 'too large for a JSON number; use a string')
    if (v < 0 && !signed) throw new SettlementInputError(field, 'must not be negative')
    return BigInt(v)
  }
  if (typeof v !== 'string') throw new SettlementInputError(field, 'must be a decimal string')
  if (/^-\d+$/.test(v) && !signed) throw new SettlementInputError(field, 'must not be negative')
  if (!/^-?\d+$/.test(v)) {
    if (/^-?\d*\.\d*$/.test(v) || /e/i.test(v)) {
      throw new SettlementInputError(field, 'must be an integer (no fractional part or exponent)')
    }
    throw new SettlementInputError(field, `must be a decimal string of digits, got ${JSON.stringify(v)}`)
  }
  if (v.replace('-', '').length > 25) throw new SettlementInputError(field, 'too many digits')
  return BigInt(v)
}

function parsePpm(field: string, v: unknown): number {
  if (v === undefined) throw new SettlementInputError(field, 'is required')
  const n = typeof v === 'string' && /^\d{1,7}$/.test(v) ? Number(v) : v
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > 1_000_000) {
    throw new SettlementInputError(field, 'must be an integer ppm between 0 and 1000000')
  }
  return n
}

function parseId(field: string, v: unknown): string {
  if (typeof v !== 'string' || v.length === 0) throw new SettlementInputError(field, 'must be a non-empty string')
  return v
}

/** Parses and validates one scenario document. Throws SettlementInputError naming the field. */
export function parseSettlementInput(doc: unknown): SettlementInput {
  if (!isObject(doc)) throw new SettlementInputError('(root)', 'must be a JSON object')
  rejectUnknown(doc, TOP_FIELDS, '')
  const direction = doc.direction
  if (direction !== 'cash_out' && direction !== 'cash_in') {
    throw new SettlementInputError('direction', 'must be "cash_out" or "cash_in"')
  }
  const wireMsat = parseAmount('wireMsat', doc.wireMsat)
  const fiatMinor = parseAmount('fiatMinor', doc.fiatMinor)
  const fiatRequestedMinor =
    doc.fiatRequestedMinor === undefined ? fiatMinor : parseAmount('fiatRequestedMinor', doc.fiatRequestedMinor)
  if (typeof doc.currency !== 'string') throw new SettlementInputError('currency', 'must be an ISO 4217 code')
  const splitsRaw = doc.splits ?? []
  if (!Array.isArray(splitsRaw)) throw new SettlementInputError('splits', 'must be an array')
  const splits: SplitInput[] = splitsRaw.map((s: unknown, i) => {
    const p = `splits[${i}]`
    if (!isObject(s)) throw new SettlementInputError(p, 'must be an object')
    rejectUnknown(s, SPLIT_FIELDS, `${p}.`)
    return { id: parseId(`${p}.id`, s.id), weightPpm: parsePpm(`${p}.weightPpm`, s.weightPpm) }
  })
  const lpsRaw = doc.lps ?? []
  if (!Array.isArray(lpsRaw)) throw new SettlementInputError('lps', 'must be an array')
  const lps: LpInput[] = lpsRaw.map((lp: unknown, i) => {
    const p = `lps[${i}]`
    if (!isObject(lp)) throw new SettlementInputError(p, 'must be an object')
    const id = parseId(`${p}.id`, lp.id)
    const remainingMinor = parseAmount(`${p}.remainingMinor`, lp.remainingMinor)
    if (lp.mode === 'flow') {
      rejectUnknown(lp, FLOW_FIELDS, `${p}.`)
      return { id, mode: 'flow', remainingMinor }
    }
    if (lp.mode === 'fixed') {
      rejectUnknown(lp, FIXED_FIELDS, `${p}.`)
      return {
        id,
        mode: 'fixed',
        remainingMinor,
        dailyLimitMinor: parseAmount(`${p}.dailyLimitMinor`, lp.dailyLimitMinor),
        usedTodayMinor: parseAmount(`${p}.usedTodayMinor`, lp.usedTodayMinor ?? '0'),
      }
    }
    throw new SettlementInputError(`${p}.mode`, 'must be "flow" or "fixed"')
  })
  const input: SettlementInput = {
    direction,
    wireMsat,
    fiatMinor,
    fiatRequestedMinor,
    currency: doc.currency,
    platformPpm: parsePpm('platformPpm', doc.platformPpm),
    operatorPpm: parsePpm('operatorPpm', doc.operatorPpm),
    discountPpm: doc.discountPpm === undefined ? 0 : parsePpm('discountPpm', doc.discountPpm),
    splits,
    lps,
  }
  if (doc.claimedFeeMsat !== undefined) input.claimedFeeMsat = parseAmount('claimedFeeMsat', doc.claimedFeeMsat, true)
  validateSettlementInput(input)
  return input
}

/** Parses scenario text; a syntax error is reported against the root. */
export function parseSettlementJson(text: string): SettlementInput {
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch (e) {
    throw new SettlementInputError('(root)', `not valid JSON: ${(e as Error).message}`)
  }
  return parseSettlementInput(doc)
}

/** The result as a JSON document: amounts as decimal strings, splits and LPs in input order. */
export function settlementResultToJson(r: SettlementResult): Json {
  const out: { [k: string]: Json } = {
    principalMsat: r.principalMsat.toString(),
    commissionMsat: r.commissionMsat.toString(),
    platformFeeMsat: r.platformFeeMsat.toString(),
    operatorFeeMsat: r.operatorFeeMsat.toString(),
    refundDueMsat: r.refundDueMsat.toString(),
    splits: r.splits.map((s) => ({ id: s.id, msat: s.msat.toString() })),
    lps: r.lps.map((lp) => ({ id: lp.id, msat: lp.msat.toString(), fiatMinor: lp.fiatMinor.toString() })),
    operatorFloat: { msat: r.operatorFloat.msat.toString(), fiatMinor: r.operatorFloat.fiatMinor.toString() },
  }
  if (r.feeMismatch) out.feeMismatch = { msat: r.feeMismatch.msat.toString(), flagged: r.feeMismatch.flagged }
  return out
}
