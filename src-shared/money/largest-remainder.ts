// Largest-remainder allocation, LR(T, w), exactly as docs/settlement.md states it: base_i = floor(T·w_i / Σw); the
// T − Σbase_i leftover units go one each to the entries with the largest remainder (T·w_i mod Σw); ties go to
// the larger weight, then to the smaller id (plain string order). An entry marked `last` (the operator's float)
// loses every tie: among equal remainders it comes after every other entry.

export interface LrEntry {
  id: string
  weight: bigint
  /** Loses every tie on the remainder (the operator float in the LP allocation). */
  last?: boolean
}

/** Compares ids in plain string order (UTF-16 code units, the order of `<`), independent of locale. */
function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

/**
 * Splits `total` over `entries` by weight and returns the shares in entry order. Σ shares = total exactly, no
 * share exceeds ceil(total·w_i/Σw), and an entry with weight 0 always gets 0.
 */
export function largestRemainder(total: bigint, entries: readonly LrEntry[]): bigint[] {
  if (total < 0n) throw new RangeError('largestRemainder: total must be non-negative')
  let sum = 0n
  for (const e of entries) {
    if (e.weight < 0n) throw new RangeError(`largestRemainder: weight of ${e.id} is negative`)
    sum += e.weight
  }
  if (sum === 0n) throw new RangeError('largestRemainder: the weights must not all be zero')
  const shares: bigint[] = []
  const remainders: bigint[] = []
  let given = 0n
  for (const e of entries) {
    const product = total * e.weight
    const base = product / sum
    shares.push(base)
    remainders.push(product % sum)
    given += base
  }
  let leftover = total - given
  if (leftover === 0n) return shares
  const order = entries.map((_, i) => i)
  order.sort((i, j) => {
    const ri = remainders[i]!
    const rj = remainders[j]!
    if (ri !== rj) return ri > rj ? -1 : 1
    const ei = entries[i]!
    const ej = entries[j]!
    if (Boolean(ei.last) !== Boolean(ej.last)) return ei.last ? 1 : -1
    if (ei.weight !== ej.weight) return ei.weight > ej.weight ? -1 : 1
    return compareIds(ei.id, ej.id)
  })
  for (const i of order) {
    if (leftover === 0n) break
    shares[i]! += 1n
    leftover -= 1n
  }
  return shares
}
