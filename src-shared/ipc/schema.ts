// A tiny, dependency-free schema validator for the IPC boundary (docs/architecture.md §2: "main-side handlers check … the
// arguments"). Every schema both checks a value and carries its TypeScript type, so the contract in
// `contract.ts` is the single source of truth for argument shapes and the types the preload exposes.
//
// Errors name the offending field with a path like `args[0].relays[2]` and say what was expected, e.g.
// `args[0].operatorName: expected string ≤ 100 chars`. Messages never quote the rejected value, because a
// value sent over IPC may be a secret (an NWC URI, a key) and error messages end up in logs.
//
// Objects are strict: an unknown field is rejected rather than silently dropped, so a renderer typo fails loudly.
// Everything accepted is JSON-safe by construction (no bigint, no bytes): bigint travels as a decimal string and
// bytes as lowercase hex, so the Electron IPC path (structured clone) and the headless WebSocket path (JSON)
// behave identically.

/** A value failed its schema. `path` names the field (`args[0].name`), `message` is the full sentence. */
export class SchemaError extends Error {
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`${path}: ${reason}`)
    this.name = 'SchemaError'
  }
}

export interface Schema<T> {
  /** What the schema accepts, in words, used in error messages (`string ≤ 100 chars`). */
  readonly expected: string
  /** Returns the value (possibly normalised) or throws `SchemaError` naming `path`. */
  parse(value: unknown, path: string): T
}

/** A schema marked optional: only meaningful as an object field. */
export interface OptionalSchema<T> extends Schema<T | undefined> {
  readonly optional: true
}

export type Infer<S> = S extends Schema<infer T> ? T : never

type AnySchema = Schema<unknown>
type Shape = Readonly<Record<string, AnySchema>>
type OptionalKeys<S extends Shape> = { [K in keyof S]: S[K] extends OptionalSchema<unknown> ? K : never }[keyof S]
type RequiredKeys<S extends Shape> = Exclude<keyof S, OptionalKeys<S>>
type Simplify<T> = { [K in keyof T]: T[K] } & {}
export type InferObject<S extends Shape> = Simplify<
  { [K in RequiredKeys<S>]: Infer<S[K]> } & { [K in OptionalKeys<S>]?: Exclude<Infer<S[K]>, undefined> }
>
export type InferTuple<A extends readonly AnySchema[]> = { -readonly [I in keyof A]: Infer<A[I]> }

function fail(path: string, expected: string): never {
  throw new SchemaError(path, `expected ${expected}`)
}

export interface StringOpts {
  min?: number
  max: number
  pattern?: RegExp
  /** Words for the pattern in error messages, e.g. `a wss:// URL`. */
  patternName?: string
  /** Free text (notes, reasons): line breaks and tabs are allowed; other control characters still are not. */
  multiline?: boolean
}

/**
 * Characters no operator-typed text may carry: C0 and C1 controls (NUL, ESC, …) and the Unicode bidi embeddings,
 * overrides and isolates (U+202A–U+202E, U+2066–U+2069). A name with U+202E prints reversed on a receipt or a
 * statement; a NUL truncates it in C-based tools. Every string crossing IPC is checked, so no screen can forget.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is this pattern's purpose
const FORBIDDEN_CHARS = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is this pattern's purpose
const FORBIDDEN_CHARS_MULTILINE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/
const FORBIDDEN_TEXT = 'text without control or text-direction characters'

/** A string of at most `max` UTF-16 units (a bound is mandatory: every input over IPC is size-capped). */
export function string(opts: StringOpts): Schema<string> {
  const min = opts.min ?? 0
  const bounds = min > 0 ? `${min}–${opts.max} chars` : `≤ ${opts.max} chars`
  const expected = opts.patternName ? `${opts.patternName} (${bounds})` : `string ${bounds}`
  return {
    expected,
    parse(v, path) {
      if (typeof v !== 'string' || v.length < min || v.length > opts.max) fail(path, expected)
      if ((opts.multiline ? FORBIDDEN_CHARS_MULTILINE : FORBIDDEN_CHARS).test(v)) fail(path, FORBIDDEN_TEXT)
      if (opts.pattern && !opts.pattern.test(v)) fail(path, expected)
      return v
    },
  }
}

/** A safe integer in [min, max]. Never used for money: money is `decimal()`. */
export function int(min: number, max: number): Schema<number> {
  const expected = `integer in [${min}, ${max}]`
  return {
    expected,
    parse(v, path) {
      if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) fail(path, expected)
      return v
    },
  }
}

export function boolean(): Schema<boolean> {
  return {
    expected: 'boolean',
    parse(v, path) {
      if (typeof v !== 'boolean') fail(path, 'boolean')
      return v
    },
  }
}

/** One of a fixed set of string literals. */
export function oneOf<const T extends readonly string[]>(...values: T): Schema<T[number]> {
  const expected = `one of ${values.map((x) => `'${x}'`).join(' | ')}`
  return {
    expected,
    parse(v, path) {
      if (typeof v !== 'string' || !values.includes(v)) fail(path, expected)
      return v as T[number]
    },
  }
}

/** A non-negative integer as a decimal string (how bigint msat / fiat minor units cross the boundary). */
export function decimal(maxDigits = 30): Schema<string> {
  const expected = `decimal integer string ≤ ${maxDigits} digits`
  const re = new RegExp(`^(0|[1-9][0-9]{0,${maxDigits - 1}})$`)
  return {
    expected,
    parse(v, path) {
      if (typeof v !== 'string' || !re.test(v)) fail(path, expected)
      return v
    },
  }
}

/** Lowercase hex of exactly `bytes` bytes (e.g. 32 for a pubkey or a payment hash). */
export function hex(bytes: number): Schema<string> {
  const expected = `${bytes * 2} lowercase hex chars`
  const re = new RegExp(`^[0-9a-f]{${bytes * 2}}$`)
  return {
    expected,
    parse(v, path) {
      if (typeof v !== 'string' || !re.test(v)) fail(path, expected)
      return v
    },
  }
}

export function array<T>(item: Schema<T>, opts: { min?: number; max: number }): Schema<T[]> {
  const min = opts.min ?? 0
  const expected = `array of ${min > 0 ? `${min}–${opts.max}` : `≤ ${opts.max}`} × ${item.expected}`
  return {
    expected,
    parse(v, path) {
      if (!Array.isArray(v) || v.length < min || v.length > opts.max) fail(path, expected)
      return v.map((x, i) => item.parse(x, `${path}[${i}]`))
    },
  }
}

export function optional<T>(inner: Schema<T>): OptionalSchema<T> {
  return {
    optional: true,
    expected: `${inner.expected} (optional)`,
    parse: (v, path) => (v === undefined ? undefined : inner.parse(v, path)),
  }
}

export function nullable<T>(inner: Schema<T>): Schema<T | null> {
  return {
    expected: `${inner.expected} or null`,
    parse: (v, path) => (v === null ? null : inner.parse(v, path)),
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false
  const proto = Object.getPrototypeOf(v)
  return proto === Object.prototype || proto === null
}

/** A plain object with exactly these fields (unknown fields are rejected, optional ones may be absent). */
export function object<const S extends Shape>(shape: S): Schema<InferObject<S>> {
  const keys = Object.keys(shape)
  return {
    expected: `object {${keys.join(', ')}}`,
    parse(v, path) {
      if (!isPlainObject(v)) fail(path, 'object')
      for (const k of Object.keys(v)) {
        if (!Object.hasOwn(shape, k)) throw new SchemaError(`${path}.${k}`, 'unexpected field')
      }
      const out: Record<string, unknown> = {}
      for (const k of keys) {
        const field = shape[k] as AnySchema
        const value = field.parse(v[k], `${path}.${k}`)
        if (value !== undefined) out[k] = value
      }
      return out as InferObject<S>
    },
  }
}

/** Positional arguments of an IPC method: exactly `items.length` of them (JSON has no `undefined` to pad with). */
export function tuple<const A extends readonly AnySchema[]>(items: A): Schema<InferTuple<A>> {
  const expected = `${items.length} argument${items.length === 1 ? '' : 's'}`
  return {
    expected,
    parse(v, path) {
      if (!Array.isArray(v)) fail(path, 'an argument list')
      if (v.length > items.length) fail(path, `at most ${expected}`)
      return items.map((s, i) => s.parse(v[i], `${path}[${i}]`)) as InferTuple<A>
    },
  }
}

/** Adds a check the shape alone cannot express (a valid IANA time zone, a URL scheme …). */
export function refine<T>(inner: Schema<T>, check: (v: T) => boolean, expected: string): Schema<T> {
  return {
    expected,
    parse(v, path) {
      const parsed = inner.parse(v, path)
      if (!check(parsed)) fail(path, expected)
      return parsed
    },
  }
}
