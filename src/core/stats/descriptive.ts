/**
 * Small numeric helpers shared by the tests in this module. Every function is pure and never mutates its input.
 */

/** True when every element is a finite number (no NaN, no ±Infinity). */
export function allFinite(values: readonly number[]): boolean {
  for (const v of values) if (!Number.isFinite(v)) return false;
  return true;
}

/**
 * Arithmetic mean; NaN for an empty array. The sum is compensated (Neumaier): with a large common offset (1e6 ±
 * 1e-3, timestamps, pixel values) a plain running sum loses the digits a t-test needs.
 */
export function mean(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  let s = 0;
  let c = 0;
  for (const v of values) {
    const t = s + v;
    c += Math.abs(s) >= Math.abs(v) ? (s - t) + v : (v - t) + s;
    s = t;
  }
  return (s + c) / values.length;
}

/**
 * Sample variance with `ddof` delta degrees of freedom (numpy `var(x, ddof=...)`), two-pass (mean first, then the
 * sum of squared deviations) as numpy computes it. NaN when `n - ddof <= 0`.
 */
export function variance(values: readonly number[], ddof = 1): number {
  const n = values.length;
  if (n - ddof <= 0) return NaN;
  // A constant sample has variance exactly 0, whatever rounding the mean carries.
  let same = true;
  for (let i = 1; i < n && same; i++) same = values[i] === values[0];
  if (same) return Number.isFinite(values[0]) ? 0 : NaN;
  const m = mean(values);
  let ss = 0;
  for (const v of values) {
    const d = v - m;
    ss += d * d;
  }
  return ss / (n - ddof);
}

/** An ascending sorted copy (numeric comparison, not the default string sort). */
export function sortedCopy(values: readonly number[]): number[] {
  return Array.from(Float64Array.from(values).sort());
}

/**
 * Quantile of already-sorted values by linear interpolation between order statistics — numpy's default
 * `np.quantile(x, p)` (method `linear`, Hyndman–Fan type 7): h = (n − 1)·p, x[⌊h⌋] + (h − ⌊h⌋)(x[⌊h⌋+1] − x[⌊h⌋]).
 */
export function quantileSorted(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  if (n === 0 || !(p >= 0 && p <= 1)) return NaN;
  if (n === 1) return sorted[0];
  const h = (n - 1) * p;
  const lo = Math.floor(h);
  if (lo >= n - 1) return sorted[n - 1];
  const frac = h - lo;
  return frac === 0 ? sorted[lo] : sorted[lo] + frac * (sorted[lo + 1] - sorted[lo]);
}

/** Throws a RangeError unless `confidence` is strictly between 0 and 1. */
export function checkConfidence(confidence: number): void {
  if (!(confidence > 0 && confidence < 1)) {
    throw new RangeError(`confidence must be strictly between 0 and 1, got ${confidence}`);
  }
}

/** scipy's `alternative` of the two-sample tests. */
export type Alternative = 'two-sided' | 'less' | 'greater';

/** Throws a RangeError unless `alternative` is one of scipy's three. */
export function checkAlternative(alternative: unknown): Alternative {
  if (alternative !== 'two-sided' && alternative !== 'less' && alternative !== 'greater') {
    throw new RangeError(`alternative must be 'two-sided', 'less' or 'greater', got ${String(alternative)}`);
  }
  return alternative;
}
