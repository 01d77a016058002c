// Unit tests of the boundary validator: each schema accepts what it should, and rejects hostile values
// (noble-curves' getTypeTests idea) with a message naming the field — never quoting the value.
import { describe, expect, it } from 'vitest'
import {
  array,
  boolean,
  decimal,
  hex,
  int,
  nullable,
  object,
  oneOf,
  optional,
  refine,
  SchemaError,
  string,
  tuple,
} from './schema'

/** Values a caller might wrongly send. Only the non-empty strings are valid anywhere (as plain strings). */
const HOSTILE: unknown[] = [
  undefined,
  null,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  -0.5,
  2 ** 53,
  '',
  ' 1',
  '1e3',
  '0x10',
  [],
  {},
  () => 1,
  Symbol('s'),
  new Uint8Array(4),
  new Date(0),
  Object.create({ polluted: true }),
  JSON.parse('{"__proto__": {"admin": true}}'),
]

function rejection(fn: () => unknown): SchemaError {
  try {
    fn()
  } catch (e) {
    if (e instanceof SchemaError) return e
    throw e
  }
  throw new Error('expected a SchemaError')
}

describe('schema', () => {
  it('string: refuses control and text-direction characters in every operator-typed field, naming it', () => {
    const name = string({ min: 1, max: 100 })
    for (const bad of ['Kreuzberg\u202E#1', 'a\u0000b', 'line\nbreak', 'esc\u001b[31m', 'iso\u2066late', 'c1\u0085'])
      expect(rejection(() => name.parse(bad, 'args[0].name')).message).toBe(
        'args[0].name: expected text without control or text-direction characters',
      )
    expect(name.parse('Café Zürich — Ñandú #1', 'args[0].name')).toBe('Café Zürich — Ñandú #1')
    // Free text keeps its line breaks and tabs, never the rest.
    const note = string({ max: 2000, multiline: true })
    expect(note.parse('first line\n\tsecond line', 'args[0].note')).toBe('first line\n\tsecond line')
    expect(() => note.parse('sneaky\u202Etext', 'args[0].note')).toThrow(/text-direction/)
    expect(() => note.parse('nul\u0000', 'args[0].note')).toThrow(/control/)
  })

  it('string: bounds and pattern, message names the path', () => {
    const s = string({ max: 100 })
    expect(s.parse('ok', 'args[0].name')).toBe('ok')
    const e = rejection(() => s.parse('x'.repeat(101), 'args[0].name'))
    expect(e.message).toBe('args[0].name: expected string ≤ 100 chars')
    expect(e.path).toBe('args[0].name')
    expect(rejection(() => string({ min: 1, max: 5 }).parse('', 'p')).message).toBe('p: expected string 1–5 chars')
    const url = string({ max: 20, pattern: /^wss:\/\//, patternName: 'a wss URL' })
    expect(rejection(() => url.parse('https://x', 'u')).message).toBe('u: expected a wss URL (≤ 20 chars)')
  })

  it('never quotes the rejected value (it may be a secret)', () => {
    const secret = 'nostr+walletconnect://deadbeef?secret=abc'
    const e = rejection(() => int(0, 1).parse(secret, 'args[0]'))
    expect(e.message).not.toContain('deadbeef')
    expect(e.message).toBe('args[0]: expected integer in [0, 1]')
  })

  it('int: safe integers in range only', () => {
    expect(int(1, 10).parse(10, 'n')).toBe(10)
    for (const v of [0, 11, 1.5, '5', 2 ** 53, Number.NaN]) expect(() => int(1, 10).parse(v, 'n')).toThrow(SchemaError)
  })

  it('decimal and hex: canonical forms only', () => {
    expect(decimal().parse('0', 'a')).toBe('0')
    expect(decimal().parse('21000000000', 'a')).toBe('21000000000')
    for (const v of ['01', '-1', '1.0', ' 1', '1e3', 12, '']) expect(() => decimal().parse(v, 'a')).toThrow(SchemaError)
    expect(() => decimal(3).parse('1000', 'a')).toThrow('a: expected decimal integer string ≤ 3 digits')
    expect(hex(2).parse('beef', 'h')).toBe('beef')
    for (const v of ['BEEF', 'bee', 'beefa0', 'zzzz']) expect(() => hex(2).parse(v, 'h')).toThrow(SchemaError)
  })

  it('object: strict, optional fields may be absent, unknown fields named', () => {
    const o = object({ a: string({ max: 3 }), b: optional(int(0, 9)) })
    expect(o.parse({ a: 'x' }, 'args[0]')).toEqual({ a: 'x' })
    expect(o.parse({ a: 'x', b: 2 }, 'args[0]')).toEqual({ a: 'x', b: 2 })
    expect(rejection(() => o.parse({ a: 'x', c: 1 }, 'args[0]')).message).toBe('args[0].c: unexpected field')
    expect(rejection(() => o.parse({ b: 1 }, 'args[0]')).path).toBe('args[0].a')
    expect(rejection(() => o.parse(JSON.parse('{"a":"x","__proto__":{"admin":true}}'), 'args[0]')).path).toBe(
      'args[0].__proto__',
    )
  })

  it('array and tuple name the index', () => {
    const a = array(string({ max: 2 }), { max: 3 })
    expect(rejection(() => a.parse(['ok', 'toolong'], 'args[0].relays')).path).toBe('args[0].relays[1]')
    expect(rejection(() => a.parse(['a', 'b', 'c', 'd'], 'r')).message).toBe(
      'r: expected array of ≤ 3 × string ≤ 2 chars',
    )
    const t = tuple([string({ max: 1 }), int(0, 1)])
    expect(t.parse(['a', 1], 'args')).toEqual(['a', 1])
    expect(rejection(() => t.parse(['a'], 'args')).path).toBe('args[1]')
    expect(rejection(() => t.parse(['a', 1, 2], 'args')).message).toBe('args: expected at most 2 arguments')
    expect(rejection(() => t.parse({ 0: 'a', 1: 1 }, 'args')).message).toBe('args: expected an argument list')
  })

  it('oneOf, boolean, nullable, refine', () => {
    expect(oneOf('a', 'b').parse('b', 'x')).toBe('b')
    expect(rejection(() => oneOf('a', 'b').parse('c', 'x')).message).toBe("x: expected one of 'a' | 'b'")
    expect(boolean().parse(false, 'x')).toBe(false)
    expect(nullable(int(0, 1)).parse(null, 'x')).toBeNull()
    const even = refine(int(0, 100), (n) => n % 2 === 0, 'an even integer')
    expect(rejection(() => even.parse(3, 'x')).message).toBe('x: expected an even integer')
  })

  it('rejects every hostile value where a string, an int, a boolean or an object is expected', () => {
    const schemas = [string({ min: 1, max: 10 }), int(0, 10), boolean(), object({ a: string({ max: 1 }) }), decimal()]
    for (const s of schemas)
      for (const v of HOSTILE) {
        if (s === schemas[0] && typeof v === 'string' && v !== '') continue // a string is a string
        if (s === schemas[3] && v !== null && typeof v === 'object' && !Array.isArray(v)) continue // checked below
        expect(() => s.parse(v, 'x'), `${s.expected} vs ${String(typeof v)}`).toThrow(SchemaError)
      }
    // Objects with a foreign prototype (Date, Uint8Array, class instances) are not plain objects.
    for (const v of [new Date(0), new Uint8Array(1), Object.create({ a: 'x' })])
      expect(() => schemas[3]?.parse(v, 'x')).toThrow('x: expected object')
  })
})
