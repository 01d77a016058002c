// Integer fractions in parts per million (docs/settlement.md): 1,000,000 ppm = 100 %. Every fraction on a money path is an
// integer ppm and every product is computed in bigint, so no rounding happens except where a rule says "floor".

/** 100 % in ppm. */
export const PPM_ONE = 1_000_000
/** 100 % in ppm, as a bigint for products. */
export const PPM_ONE_N = 1_000_000n
/** The cap on platform + operator fee fractions per direction (docs/settlement.md: X + Y ≤ 150,000 ppm). */
export const MAX_FEE_PPM = 150_000

/** True when `value` is an integer ppm in [0, 1,000,000]. */
export function isPpm(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= PPM_ONE
}

/** floor(a·b / d) for non-negative bigints; d must be positive. Bigint division truncates, which is floor here. */
export function mulDivFloor(a: bigint, b: bigint, d: bigint): bigint {
  if (d <= 0n) throw new RangeError('mulDivFloor: divisor must be positive')
  if (a < 0n || b < 0n) throw new RangeError('mulDivFloor: operands must be non-negative')
  return (a * b) / d
}

/** Renders a ppm fraction as a percentage string without floats, e.g. 27,700 → "2.77%". */
export function formatPpmPercent(ppm: number): string {
  const whole = Math.trunc(ppm / 10_000)
  const frac = String(ppm % 10_000)
    .padStart(4, '0')
    .replace(/0+$/, '')
  return frac ? `${whole}.${frac}%` : `${whole}%`
}
