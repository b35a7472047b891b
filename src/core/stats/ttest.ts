/**
 * Two-sample t-tests on independent samples: Welch's (unequal variances) and Student's (pooled variance).
 *
 * Conventions follow `scipy.stats.ttest_ind(a, b, equal_var=False | True)`: the statistic is for mean(a) − mean(b),
 * the p-value is two-sided unless `alternative` says otherwise, variances use ddof = 1. The confidence interval is the one of
 * `TtestResult.confidence_interval(confidence_level)` (and of R's `t.test(a, b)$conf.int`).
 *
 * Field ↔ scipy name: `statistic` ↔ `statistic`, `df` ↔ `df`, `pValue` ↔ `pvalue`,
 * `ci.low` / `ci.high` ↔ `confidence_interval().low` / `.high`.
 */
import tCdf from '@stdlib/stats-base-dists-t-cdf';
import tQuantile from '@stdlib/stats-base-dists-t-quantile';
import { allFinite, checkAlternative, checkConfidence, mean, variance, type Alternative } from './descriptive';

export interface TTestOptions {
  /** Confidence level of the interval of the difference, default 0.95. */
  confidence?: number;
  /**
   * Hypothesised difference mean(a) − mean(b) under H0 (R's `mu`), default 0. The statistic is
   * (mean(a) − mean(b) − nullDifference) / se; the interval does not depend on it.
   */
  nullDifference?: number;
  /**
   * The alternative hypothesis about mean(a) − mean(b) (scipy `alternative`): `two-sided` (default, ≠), `less` (<)
   * or `greater` (>). One-sided tests give a one-sided p-value and a one-sided interval (the other end infinite).
   */
  alternative?: Alternative;
}


export interface TTestResult {
  test: 'welch' | 'student';
  /** t statistic of mean(a) − mean(b) (scipy `statistic`). NaN when undefined, ±Infinity when se = 0 and the means differ. */
  statistic: number;
  /** Degrees of freedom (scipy `df`): Welch–Satterthwaite for Welch, nA + nB − 2 for Student. NaN when undefined. */
  df: number;
  /** p-value of the `alternative` (scipy `pvalue`), two-sided by default. NaN when undefined. */
  pValue: number;
  alternative: Alternative;
  nA: number;
  nB: number;
  meanA: number;
  meanB: number;
  /** Sample variances (ddof = 1). */
  varianceA: number;
  varianceB: number;
  /** mean(a) − mean(b). */
  difference: number;
  /** Standard error of the difference. */
  standardError: number;
  nullDifference: number;
  confidence: number;
  /**
   * Confidence interval of mean(a) − mean(b) (scipy `confidence_interval(confidence).low/high`); one-sided for a
   * one-sided alternative (`less`: low = −Infinity, `greater`: high = +Infinity).
   */
  ci: { low: number; high: number };
  /** Why the result is degenerate (NaN or infinite statistic); null for a regular result. */
  reason: string | null;
}

/**
 * Welch's t-test (unequal variances), as `scipy.stats.ttest_ind(a, b, equal_var=False)`.
 *
 * df = (vA/nA + vB/nB)² / ((vA/nA)²/(nA−1) + (vB/nB)²/(nB−1)) (Welch–Satterthwaite).
 *
 * Degenerate inputs (returned with `reason`, never thrown): fewer than 2 observations on a side or non-finite values
 * → NaN statistic/p; both samples constant and equal → NaN (scipy returns nan, nan); both samples constant with
 * different means → statistic ±Infinity, p = 0, interval [difference, difference] (scipy returns ±inf, 0).
 */
export function welchTTest(a: readonly number[], b: readonly number[], options: TTestOptions = {}): TTestResult {
  return tTest('welch', a, b, options);
}

/**
 * Student's t-test with pooled variance (equal variances assumed), as `scipy.stats.ttest_ind(a, b, equal_var=True)`.
 *
 * sp² = ((nA−1)vA + (nB−1)vB) / (nA + nB − 2), se = sp·√(1/nA + 1/nB), df = nA + nB − 2.
 * One observation in a sample is allowed when the other has at least two (df ≥ 1): that sample adds nothing to the
 * pooled sum of squares ((n − 1)·v = 0 although v itself is undefined), as scipy ≥ 1.11 does; its `variance` is NaN.
 * Otherwise degenerate inputs are handled as in {@link welchTTest}.
 */
export function studentTTest(a: readonly number[], b: readonly number[], options: TTestOptions = {}): TTestResult {
  return tTest('student', a, b, options);
}

function tTest(test: 'welch' | 'student', a: readonly number[], b: readonly number[], options: TTestOptions): TTestResult {
  const confidence = options.confidence ?? 0.95;
  checkConfidence(confidence);
  const nullDifference = options.nullDifference ?? 0;
  const alternative = checkAlternative(options.alternative ?? 'two-sided');
  if (!Number.isFinite(nullDifference)) throw new RangeError(`nullDifference must be finite, got ${nullDifference}`);
  const nA = a.length;
  const nB = b.length;
  const meanA = mean(a);
  const meanB = mean(b);
  const varianceA = variance(a, 1);
  const varianceB = variance(b, 1);
  const difference = meanA - meanB;
  const base = { test, nA, nB, meanA, meanB, varianceA, varianceB, difference, nullDifference, confidence, alternative };
  const undefinedResult = (reason: string, df = NaN): TTestResult => ({
    ...base, statistic: NaN, df, pValue: NaN, standardError: NaN, ci: { low: NaN, high: NaN }, reason,
  });

  if (!allFinite(a) || !allFinite(b)) return undefinedResult('the samples contain non-finite values (NaN or ±Infinity)');
  const tooFew = test === 'student' ? nA < 1 || nB < 1 || nA + nB < 3 : nA < 2 || nB < 2;
  if (tooFew) {
    if (test === 'student') {
      return nA === 0 || nB === 0 ? undefinedResult('a sample is empty') : undefinedResult('one observation in each sample: the pooled variance has no degrees of freedom', 0);
    }
    const side = nA < 2 && nB < 2 ? 'both samples have' : nA < 2 ? 'sample a has' : 'sample b has';
    return undefinedResult(`${side} fewer than 2 observations, so the variance is undefined`);
  }

  let se: number;
  let df: number;
  if (test === 'welch') {
    const ua = varianceA / nA;
    const ub = varianceB / nB;
    se = Math.sqrt(ua + ub);
    df = (ua + ub) * (ua + ub) / (ua * ua / (nA - 1) + ub * ub / (nB - 1));
  } else {
    df = nA + nB - 2;
    // A single observation contributes (1 − 1)·v = 0 to the pooled sum of squares, though v = NaN.
    const ssA = nA > 1 ? (nA - 1) * varianceA : 0;
    const ssB = nB > 1 ? (nB - 1) * varianceB : 0;
    const pooled = (ssA + ssB) / df;
    se = Math.sqrt(pooled * (1 / nA + 1 / nB));
  }

  if (se === 0) {
    const shifted = difference - nullDifference;
    if (shifted === 0) {
      return undefinedResult('both samples are constant and the difference equals the null difference: t is 0/0', test === 'student' ? df : NaN);
    }
    const statistic = shifted > 0 ? Infinity : -Infinity;
    return {
      ...base,
      statistic,
      df: test === 'student' ? df : NaN,
      pValue: alternative === 'two-sided' ? 0 : alternative === 'less' ? (statistic < 0 ? 0 : 1) : (statistic > 0 ? 0 : 1),
      standardError: 0,
      ci: { low: alternative === 'less' ? -Infinity : difference, high: alternative === 'greater' ? Infinity : difference },
      reason: 'both samples are constant (zero variance): the difference is exact, t is infinite',
    };
  }

  const statistic = (difference - nullDifference) / se;
  const pValue = alternative === 'two-sided' ? Math.min(1, 2 * tCdf(-Math.abs(statistic), df))
    : alternative === 'less' ? tCdf(statistic, df) : tCdf(-statistic, df);
  if (alternative !== 'two-sided') {
    const half = tQuantile(confidence, df) * se;
    return {
      ...base, statistic, df, pValue, standardError: se,
      ci: alternative === 'less' ? { low: -Infinity, high: difference + half } : { low: difference - half, high: Infinity },
      reason: null,
    };
  }
  const half = tQuantile(1 - (1 - confidence) / 2, df) * se;
  return {
    ...base, statistic, df, pValue, standardError: se,
    ci: { low: difference - half, high: difference + half },
    reason: null,
  };
}
