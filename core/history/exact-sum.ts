// Exact floating-point summation (Shewchuk's partials, as Python's math.fsum): the sum of a bucket is
// the same whether its rows were added one by one or merged from per-segment summaries in any order.

/**
 * Adds `x` to `parts` (non-overlapping partial sums, smallest magnitude first) in place. Each step
 * is an exact two-sum, so `parts` always holds the exact total. Values must be finite.
 */
export function addExact(parts: number[], x: number): void {
  let i = 0;
  for (let j = 0; j < parts.length; j++) {
    let y = parts[j];
    if (Math.abs(x) < Math.abs(y)) {
      const t = x;
      x = y;
      y = t;
    }
    const hi = x + y;
    const lo = y - (hi - x);
    if (lo !== 0) parts[i++] = lo;
    x = hi;
  }
  // Shrinking an array is a slow path in V8; most adds keep the same number of partials.
  if (i + 1 < parts.length) parts.length = i + 1;
  parts[i] = x;
}

/** Folds another exact sum (`other[from..to)`) into `parts`. */
export function mergeExact(parts: number[], other: ArrayLike<number>, from = 0, to = other.length): void {
  for (let i = from; i < to; i++) addExact(parts, other[i]);
}

/** The exact total rounded once to the nearest double (ties to even); 0 for no parts. */
export function exactValue(parts: readonly number[]): number {
  let n = parts.length;
  if (n === 0) return 0;
  let hi = parts[--n];
  let lo = 0;
  while (n > 0) {
    const x = hi;
    const y = parts[--n];
    hi = x + y;
    lo = y - (hi - x);
    if (lo !== 0) break;
  }
  // Half-way case: the rest of the partials decide which way to round.
  if (n > 0 && ((lo < 0 && parts[n - 1] < 0) || (lo > 0 && parts[n - 1] > 0))) {
    const y = lo * 2;
    const x = hi + y;
    if (y === x - hi) hi = x;
  }
  return Number.isFinite(hi) ? hi : parts.reduce((a, b) => a + b, 0);
}
