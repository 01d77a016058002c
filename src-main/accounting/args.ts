// Validation of procedure arguments at the ledger boundary. Arguments arrive structured-cloned from services (and,
// through IPC, from the UI), so every field is checked and named in the error; amounts may be bigint or decimal
// strings, never floats.

import { inputError } from './errors'

/** An amount: bigint, a decimal string, or a safe integer number. `min` defaults to 0. */
export function amountArg(field: string, v: unknown, min = 0n): bigint {
  let n: bigint
  if (typeof v === 'bigint') n = v
  else if (typeof v === 'string' && /^-?\d{1,25}$/.test(v)) n = BigInt(v)
  else if (typeof v === 'number' && Number.isSafeInteger(v)) n = BigInt(v)
  else throw inputError(field, 'must be an integer amount (bigint or decimal string)')
  if (n < min) throw inputError(field, `must be at least ${min}`)
  if (n > 2n ** 63n - 1n) throw inputError(field, 'too large')
  return n
}

export function optionalAmountArg(field: string, v: unknown, min = 0n): bigint | undefined {
  return v === undefined || v === null ? undefined : amountArg(field, v, min)
}

export function stringArg(field: string, v: unknown, maxLength = 200): string {
  if (typeof v !== 'string' || v.length === 0 || v.length > maxLength) {
    throw inputError(field, `must be a non-empty string of at most ${maxLength} characters`)
  }
  return v
}

export function optionalStringArg(field: string, v: unknown, maxLength = 2000): string | null {
  if (v === undefined || v === null) return null
  if (typeof v !== 'string' || v.length > maxLength) throw inputError(field, `must be a string ≤ ${maxLength} chars`)
  return v
}

/** A time in ms since the epoch, passed in by the caller (procedures never read the clock). */
export function msArg(field: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
    throw inputError(field, 'must be a non-negative integer (ms since the epoch)')
  }
  return v
}

export function intArg(field: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw inputError(field, `must be an integer between ${min} and ${max}`)
  }
  return v
}

export function objectArg(field: string, v: unknown): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw inputError(field, 'must be an object')
  return v as Record<string, unknown>
}

/** A 32-byte hash as 64 lower-case hex digits. */
export function hashArg(field: string, v: unknown): string {
  if (typeof v !== 'string' || !/^[0-9a-f]{64}$/.test(v)) throw inputError(field, 'must be 64 lower-case hex digits')
  return v
}
