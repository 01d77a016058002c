// Merkle tree hashing, inclusion and consistency proofs exactly as RFC 6962 §2.1 (Certificate Transparency):
// leaf hash = SHA-256(0x00 || leaf), node hash = SHA-256(0x01 || left || right), the split point k is the
// largest power of two smaller than n. Pure (no Node/DOM): the console, `verify-audit` and any third-party
// verifier compute the same roots. The audit log's leaves are the canonical row encodings of docs/audit.md.
import { sha256 } from '@noble/hashes/sha2.js'

export type Hash = Uint8Array

const LEAF_PREFIX = 0x00
const NODE_PREFIX = 0x01

export function leafHash(leaf: Uint8Array): Hash {
  const buf = new Uint8Array(leaf.length + 1)
  buf[0] = LEAF_PREFIX
  buf.set(leaf, 1)
  return sha256(buf)
}

export function nodeHash(left: Hash, right: Hash): Hash {
  const buf = new Uint8Array(65)
  buf[0] = NODE_PREFIX
  buf.set(left, 1)
  buf.set(right, 33)
  return sha256(buf)
}

/** SHA-256 of the empty string: the root of the empty tree (RFC 6962 §2.1). */
export const EMPTY_ROOT: Hash = sha256(new Uint8Array(0))

/** Largest power of two strictly smaller than n (n ≥ 2). */
function splitPoint(n: number): number {
  let k = 1
  while (k * 2 < n) k *= 2
  return k
}

/** Root over leaf hashes [lo, hi) — recursive definition, used by proofs over small ranges. */
function subtreeRoot(hashes: readonly Hash[], lo: number, hi: number): Hash {
  const n = hi - lo
  if (n === 0) return EMPTY_ROOT
  if (n === 1) return hashes[lo] as Hash
  const k = splitPoint(n)
  return nodeHash(subtreeRoot(hashes, lo, lo + k), subtreeRoot(hashes, lo + k, hi))
}

/** MTH over the first `size` leaf hashes (default all). Linear time, logarithmic stack. */
export function rootOf(hashes: readonly Hash[], size = hashes.length): Hash {
  if (size < 0 || size > hashes.length) throw new RangeError(`tree size ${size} outside 0…${hashes.length}`)
  const f = new MerkleFrontier()
  for (let i = 0; i < size; i++) f.pushHash(hashes[i] as Hash)
  return f.root()
}

/**
 * Incremental tree: keeps the roots of the perfect subtrees covering the leaves so far (the "compact range"),
 * so appending is O(log n) and the root is available at any size without keeping every hash in memory.
 */
export class MerkleFrontier {
  /** stack[i] = root of a perfect subtree; sizes strictly decreasing, summing to `size`. */
  private readonly stack: { hash: Hash; size: number }[] = []
  size = 0

  push(leaf: Uint8Array): Hash {
    const h = leafHash(leaf)
    this.pushHash(h)
    return h
  }

  pushHash(h: Hash): void {
    let cur = { hash: h, size: 1 }
    while (this.stack.length > 0 && (this.stack[this.stack.length - 1] as { size: number }).size === cur.size) {
      const left = this.stack.pop() as { hash: Hash; size: number }
      cur = { hash: nodeHash(left.hash, cur.hash), size: cur.size * 2 }
    }
    this.stack.push(cur)
    this.size++
  }

  /**
   * The perfect subtrees' roots, largest first: with `size`, the whole state (their sizes are the binary digits of
   * `size`). A start-up checkpoint stores it so the next start extends the tree instead of rehashing every leaf.
   */
  subtreeRoots(): Hash[] {
    return this.stack.map((s) => s.hash)
  }

  /** A frontier restored from `subtreeRoots()` of a tree of `size` leaves; throws when the count does not fit. */
  static restore(size: number, roots: readonly Hash[]): MerkleFrontier {
    if (!Number.isSafeInteger(size) || size < 0) throw new RangeError('size must be an integer ≥ 0')
    const f = new MerkleFrontier()
    const sizes: number[] = []
    for (let bit = 2 ** Math.floor(Math.log2(Math.max(size, 1))); bit >= 1; bit /= 2)
      if (Math.floor(size / bit) % 2 === 1) sizes.push(bit)
    if (sizes.length !== roots.length)
      throw new RangeError(`a tree of ${size} leaves has ${sizes.length} subtree roots`)
    sizes.forEach((n, i) => {
      const h = roots[i] as Hash
      if (h.length !== 32) throw new RangeError('subtree roots are 32 bytes')
      f.stack.push({ hash: h, size: n })
    })
    f.size = size
    return f
  }

  /** The RFC 6962 root: perfect subtrees folded right to left. */
  root(): Hash {
    if (this.stack.length === 0) return EMPTY_ROOT
    let acc = (this.stack[this.stack.length - 1] as { hash: Hash }).hash
    for (let i = this.stack.length - 2; i >= 0; i--) acc = nodeHash((this.stack[i] as { hash: Hash }).hash, acc)
    return acc
  }
}

/** RFC 6962 §2.1.1 audit path for leaf `index` in the tree of the first `size` hashes. */
export function inclusionProof(hashes: readonly Hash[], index: number, size = hashes.length): Hash[] {
  if (!(index >= 0 && index < size && size <= hashes.length))
    throw new RangeError(`leaf ${index} not in tree of ${size}`)
  const path = (m: number, lo: number, hi: number): Hash[] => {
    const n = hi - lo
    if (n === 1) return []
    const k = splitPoint(n)
    if (m < k) return [...path(m, lo, lo + k), subtreeRoot(hashes, lo + k, hi)]
    return [...path(m - k, lo + k, hi), subtreeRoot(hashes, lo, lo + k)]
  }
  return path(index, 0, size)
}

/** RFC 6962 §2.1.2 consistency proof between the trees of the first `oldSize` and `newSize` hashes. */
export function consistencyProof(hashes: readonly Hash[], oldSize: number, newSize = hashes.length): Hash[] {
  if (!(oldSize >= 0 && oldSize <= newSize && newSize <= hashes.length)) {
    throw new RangeError(`consistency ${oldSize} → ${newSize} outside 0…${hashes.length}`)
  }
  if (oldSize === 0 || oldSize === newSize) return []
  const sub = (m: number, lo: number, hi: number, complete: boolean): Hash[] => {
    const n = hi - lo
    if (m === n) return complete ? [] : [subtreeRoot(hashes, lo, hi)]
    const k = splitPoint(n)
    if (m <= k) return [...sub(m, lo, lo + k, complete), subtreeRoot(hashes, lo + k, hi)]
    return [...sub(m - k, lo + k, hi, false), subtreeRoot(hashes, lo, lo + k)]
  }
  return sub(oldSize, 0, newSize, true)
}

function eq(a: Hash, b: Hash): boolean {
  if (a.length !== b.length) return false
  let d = 0
  for (let i = 0; i < a.length; i++) d |= (a[i] as number) ^ (b[i] as number)
  return d === 0
}

/** Verifies an audit path (RFC 9162 §2.1.3.2 algorithm, equivalent to RFC 6962's definition). */
export function verifyInclusion(leaf: Hash, index: number, size: number, proof: readonly Hash[], root: Hash): boolean {
  if (index < 0 || index >= size) return false
  let fn = index
  let sn = size - 1
  let r = leaf
  for (const p of proof) {
    if (sn === 0) return false
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r)
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2)
          sn = Math.floor(sn / 2)
        }
      }
    } else {
      r = nodeHash(r, p)
    }
    fn = Math.floor(fn / 2)
    sn = Math.floor(sn / 2)
  }
  return sn === 0 && eq(r, root)
}

/** Verifies a consistency proof (RFC 9162 §2.1.4.2 algorithm). */
export function verifyConsistency(
  oldSize: number,
  newSize: number,
  proof: readonly Hash[],
  oldRoot: Hash,
  newRoot: Hash,
): boolean {
  if (oldSize < 0 || oldSize > newSize) return false
  if (oldSize === newSize) return proof.length === 0 && eq(oldRoot, newRoot)
  if (oldSize === 0) return proof.length === 0
  let path = [...proof]
  // If oldSize is a power of two, the old root is the first node of the path.
  if ((oldSize & (oldSize - 1)) === 0) path = [oldRoot, ...path]
  if (path.length === 0) return false
  let fn = oldSize - 1
  let sn = newSize - 1
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2)
    sn = Math.floor(sn / 2)
  }
  let fr = path[0] as Hash
  let sr = path[0] as Hash
  for (const c of path.slice(1)) {
    if (sn === 0) return false
    if (fn % 2 === 1 || fn === sn) {
      fr = nodeHash(c, fr)
      sr = nodeHash(c, sr)
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2)
          sn = Math.floor(sn / 2)
        }
      }
    } else {
      sr = nodeHash(sr, c)
    }
    fn = Math.floor(fn / 2)
    sn = Math.floor(sn / 2)
  }
  return sn === 0 && eq(fr, oldRoot) && eq(sr, newRoot)
}
