// NSHP/1 body encoding (docs/signer-protocol.md §4): a small deterministic subset of CBOR (RFC 8949 §4.2.1 core
// deterministic encoding). Pure. Allowed items: unsigned integers (major 0, ≤ 2^53−1), byte strings (2), UTF-8
// text strings (3), arrays (4), maps with unsigned-integer keys in strictly ascending order (5), false/true.
// Every length and integer in its shortest form, definite lengths only. The decoder refuses anything else, so one
// value has exactly one encoding and a firmware author can compare bytes.

export type CborValue = number | boolean | string | Uint8Array | CborValue[] | CborMap
export type CborMap = Map<number, CborValue>

export class CborError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'CborError'
  }
}

const MAX_DEPTH = 8
// With the u flag a surrogate pair is one code point, so this matches only unpaired halves.
const LONE_SURROGATE = /[\uD800-\uDFFF]/u

function head(out: number[], major: number, n: number): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new CborError(`integer ${n} is not an unsigned safe integer`)
  const m = major << 5
  if (n < 24) out.push(m | n)
  else if (n < 0x100) out.push(m | 24, n)
  else if (n < 0x10000) out.push(m | 25, n >> 8, n & 0xff)
  else if (n < 0x100000000) out.push(m | 26, (n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff)
  else {
    const hi = Math.floor(n / 0x100000000)
    const lo = n >>> 0
    out.push(m | 27, 0, (hi >>> 16) & 0xff, (hi >>> 8) & 0xff, hi & 0xff)
    out.push((lo >>> 24) & 0xff, (lo >>> 16) & 0xff, (lo >>> 8) & 0xff, lo & 0xff)
  }
}

const utf8 = new TextEncoder()
const utf8Strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

function enc(out: number[], v: CborValue, depth: number): void {
  if (depth > MAX_DEPTH) throw new CborError('nesting deeper than 8')
  if (typeof v === 'number') head(out, 0, v)
  else if (typeof v === 'boolean') out.push(v ? 0xf5 : 0xf4)
  else if (typeof v === 'string') {
    if (LONE_SURROGATE.test(v)) throw new CborError('text string has a lone surrogate')
    const b = utf8.encode(v)
    head(out, 3, b.length)
    for (const x of b) out.push(x)
  } else if (v instanceof Uint8Array) {
    head(out, 2, v.length)
    for (const x of v) out.push(x)
  } else if (Array.isArray(v)) {
    head(out, 4, v.length)
    for (const x of v) enc(out, x, depth + 1)
  } else if (v instanceof Map) {
    const keys = [...v.keys()].sort((a, b) => a - b)
    head(out, 5, keys.length)
    for (const k of keys) {
      head(out, 0, k)
      enc(out, v.get(k) as CborValue, depth + 1)
    }
  } else throw new CborError('unsupported value')
}

export function encodeCbor(v: CborValue): Uint8Array {
  const out: number[] = []
  enc(out, v, 0)
  return Uint8Array.from(out)
}

class Reader {
  at = 0
  constructor(readonly b: Uint8Array) {}
  byte(): number {
    const x = this.b[this.at]
    if (x === undefined) throw new CborError(`truncated at byte ${this.at}`)
    this.at++
    return x
  }
  take(n: number): Uint8Array {
    if (this.at + n > this.b.length) throw new CborError(`truncated: ${n} bytes wanted at byte ${this.at}`)
    const s = this.b.subarray(this.at, this.at + n)
    this.at += n
    return s
  }
}

function readArg(r: Reader, info: number): number {
  if (info < 24) return info
  let n = 0
  let bytes: number
  if (info === 24) bytes = 1
  else if (info === 25) bytes = 2
  else if (info === 26) bytes = 4
  else if (info === 27) bytes = 8
  else throw new CborError(`indefinite or reserved length (info ${info})`)
  for (let i = 0; i < bytes; i++) n = n * 256 + r.byte()
  if (!Number.isSafeInteger(n)) throw new CborError('integer above 2^53-1')
  const min = bytes === 1 ? 24 : bytes === 2 ? 0x100 : bytes === 4 ? 0x10000 : 0x100000000
  if (n < min) throw new CborError(`integer ${n} not in shortest form`)
  return n
}

function dec(r: Reader, depth: number): CborValue {
  if (depth > MAX_DEPTH) throw new CborError('nesting deeper than 8')
  const ib = r.byte()
  const major = ib >> 5
  const info = ib & 0x1f
  if (major === 7) {
    if (ib === 0xf4) return false
    if (ib === 0xf5) return true
    throw new CborError(`simple/float item 0x${ib.toString(16)} not allowed`)
  }
  if (major === 1) throw new CborError('negative integers not allowed')
  if (major === 6) throw new CborError('tags not allowed')
  const n = readArg(r, info)
  switch (major) {
    case 0:
      return n
    case 2:
      return Uint8Array.from(r.take(n))
    case 3:
      try {
        return utf8Strict.decode(r.take(n))
      } catch (e) {
        if (e instanceof CborError) throw e
        throw new CborError('text string is not valid UTF-8')
      }
    case 4: {
      if (n > r.b.length - r.at) throw new CborError('array longer than the input')
      const a: CborValue[] = []
      for (let i = 0; i < n; i++) a.push(dec(r, depth + 1))
      return a
    }
    default: {
      // major 5
      if (n > r.b.length - r.at) throw new CborError('map longer than the input')
      const m: CborMap = new Map()
      let last = -1
      for (let i = 0; i < n; i++) {
        const kb = r.byte()
        if (kb >> 5 !== 0) throw new CborError('map key is not an unsigned integer')
        const k = readArg(r, kb & 0x1f)
        if (k <= last) throw new CborError(`map keys not strictly ascending (${k} after ${last})`)
        last = k
        m.set(k, dec(r, depth + 1))
      }
      return m
    }
  }
}

/** Decodes exactly one item filling all of `bytes`; throws CborError on anything outside the subset. */
export function decodeCbor(bytes: Uint8Array): CborValue {
  const r = new Reader(bytes)
  const v = dec(r, 0)
  if (r.at !== bytes.length) throw new CborError(`${bytes.length - r.at} trailing bytes`)
  return v
}
