/**
 * McNemar's test for paired binary outcomes (e.g. two classifiers scored on the same examples).
 *
 * The 2×2 table follows `statsmodels.stats.contingency_tables.mcnemar(table)`: rows = A correct / A wrong,
 * columns = B correct / B wrong, so `b` = table[0][1] (A right, B wrong) and `c` = table[1][0] (A wrong, B right).
 * Only the discordant counts b and c enter the test.
 *
 * Field ↔ statsmodels name: `statistic` ↔ `statistic`, `pValue` ↔ `pvalue`.
 */
import binomialCdf from '@stdlib/stats-base-dists-binomial-cdf';
import normalCdf from '@stdlib/stats-base-dists-normal-cdf';

export interface McNemarResult {
  method: 'exact' | 'chi2';
  /** Exact: min(b, c). Chi-square: (|b − c| − 1)²/(b + c) with correction, (b − c)²/(b + c) without. NaN if undefined. */
  statistic: number;
  /** Two-sided p-value. NaN if undefined. */
  pValue: number;
  b: number;
  c: number;
  /** Number of discordant pairs b + c. */
  discordant: number;
  /** Chi-square only: whether the continuity correction was applied. */
  correction?: boolean;
  /** Why the result is undefined; null for a regular result. */
  reason: string | null;
}

/** The 2×2 table of correctness of two classifiers on the same examples. */
export interface McNemarTable {
  /** Both correct (table[0][0]). */
  a: number;
  /** A correct, B wrong (table[0][1]). */
  b: number;
  /** A wrong, B correct (table[1][0]). */
  c: number;
  /** Both wrong (table[1][1]). */
  d: number;
  n: number;
  /** The table as statsmodels expects it: [[a, b], [c, d]]. */
  table: [[number, number], [number, number]];
}

function checkCount(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 0) throw new RangeError(`${name} must be a non-negative integer, got ${v}`);
}

/**
 * Exact McNemar test, as statsmodels `mcnemar(table, exact=True)`: under H0 the discordant pairs split
 * Binomial(b + c, ½); statistic = min(b, c), p = min(1, 2·BinomCDF(min(b, c); b + c, ½)).
 * With no discordant pairs p = 1 (as statsmodels: binom.cdf(0, 0, 0.5) = 1).
 */
export function mcnemarExact(b: number, c: number): McNemarResult {
  checkCount('b', b);
  checkCount('c', c);
  const n = b + c;
  const k = Math.min(b, c);
  const pValue = Math.min(1, 2 * binomialCdf(k, n, 0.5));
  return { method: 'exact', statistic: k, pValue, b, c, discordant: n, reason: null };
}

/**
 * Asymptotic McNemar test, as statsmodels `mcnemar(table, exact=False, correction=True|False)`:
 * statistic = (|b − c| − 1)²/(b + c) (continuity correction, default) or (b − c)²/(b + c), p from χ²(1).
 *
 * As statsmodels (and unlike R's `mcnemar.test`), the correction is subtracted even when b = c.
 * The χ²(1) survival function is evaluated as 2·Φ(−√x), exact for one degree of freedom and accurate in the tail.
 * With no discordant pairs the statistic is 0/0: NaN with a reason.
 */
export function mcnemarChiSquare(b: number, c: number, options: { correction?: boolean } = {}): McNemarResult {
  checkCount('b', b);
  checkCount('c', c);
  const correction = options.correction ?? true;
  const n = b + c;
  if (n === 0) {
    return {
      method: 'chi2', statistic: NaN, pValue: NaN, b, c, discordant: 0, correction,
      reason: 'no discordant pairs (b + c = 0): the chi-square statistic is 0/0',
    };
  }
  const diff = Math.abs(b - c) - (correction ? 1 : 0);
  const statistic = diff * diff / n;
  const pValue = Math.min(1, 2 * normalCdf(-Math.sqrt(statistic), 0, 1));
  return { method: 'chi2', statistic, pValue, b, c, discordant: n, correction, reason: null };
}

/**
 * The McNemar table of two classifiers' correctness on the same examples: example i counts as correct for A when
 * predA[i] === yTrue[i]. Labels may be strings or numbers (compared with ===).
 */
export function mcnemarFromPredictions<L extends string | number>(
  yTrue: readonly L[], predA: readonly L[], predB: readonly L[],
): McNemarTable {
  if (predA.length !== yTrue.length || predB.length !== yTrue.length) {
    throw new RangeError(`yTrue, predA and predB must have the same length (got ${yTrue.length}, ${predA.length}, ${predB.length})`);
  }
  let a = 0, b = 0, c = 0, d = 0;
  for (let i = 0; i < yTrue.length; i++) {
    const okA = predA[i] === yTrue[i];
    const okB = predB[i] === yTrue[i];
    if (okA && okB) a++;
    else if (okA) b++;
    else if (okB) c++;
    else d++;
  }
  return { a, b, c, d, n: yTrue.length, table: [[a, b], [c, d]] };
}
