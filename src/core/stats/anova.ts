/**
 * One-way analysis of variance of a value grouped by a factor: the F statistic of `scipy.stats.f_oneway(*groups)`
 * and the share of the total sum of squares the groups explain, η² = SS_between / SS_total (the main effect of the
 * factor; in a balanced grid the η² of the factors and of their interactions add up to 1 with the residual).
 *
 * The p-value is the upper tail of F(k − 1, N − k) at F. It is taken as the lower tail of the reciprocal,
 * P(F(d1, d2) > x) = P(F(d2, d1) < 1/x), because @stdlib's F cdf evaluates each tail straight from the regularized
 * incomplete beta: 1 − cdf would lose every digit below 1e-16 (F = 200 on (2, 100) df has p ≈ 1.1e-35, and 1 − cdf
 * gives 0).
 *
 * Field ↔ scipy: `statistic` ↔ `F_onewayResult.statistic`, `pValue` ↔ `F_onewayResult.pvalue`.
 */
import fCdf from '@stdlib/stats-base-dists-f-cdf';
import { mean } from './descriptive';

export interface AnovaResult {
  /** F = (SS_between / (k − 1)) / (SS_within / (N − k)); NaN when undefined (k < 2 or N ≤ k), +Infinity when SS_within = 0 < SS_between. */
  statistic: number;
  /** P(F(dfBetween, dfWithin) ≥ statistic): 0 when F is +Infinity, NaN when F is. */
  pValue: number;
  dfBetween: number;
  dfWithin: number;
  ssBetween: number;
  ssWithin: number;
  ssTotal: number;
  /** SS_between / SS_total, in [0, 1]; NaN when the values are all equal (nothing to explain) or fewer than 2 groups. */
  etaSquared: number;
  /** Groups used (empty groups are left out). */
  k: number;
  n: number;
}

/** One-way ANOVA of `groups` (each an array of values; empty groups are ignored). Throws on a non-finite value. */
export function oneWayAnova(groups: ReadonlyArray<readonly number[]>): AnovaResult {
  const used = groups.filter(g => g.length > 0);
  for (const g of used) for (const x of g) if (!Number.isFinite(x)) throw new RangeError(`ANOVA values must be finite, got ${x}`);
  const all = used.flat();
  const n = all.length;
  const k = used.length;
  const grand = mean(all);
  let ssBetween = 0;
  let ssWithin = 0;
  for (const g of used) {
    // A constant group has no spread at all (scipy then says F = inf); its mean is its value, with no rounding residue.
    const m = g.every(x => x === g[0]) ? g[0] : mean(g);
    ssBetween += g.length * (m - grand) ** 2;
    for (const x of g) ssWithin += (x - m) ** 2;
  }
  // Computed from the deviations (not as between + within) so that rounding cannot push η² above 1.
  let ssTotal = 0;
  for (const x of all) ssTotal += (x - grand) ** 2;
  const dfBetween = k - 1;
  const dfWithin = n - k;
  let statistic = NaN;
  if (k >= 2 && dfWithin > 0) {
    if (ssWithin > 0) statistic = (ssBetween / dfBetween) / (ssWithin / dfWithin);
    else if (ssBetween > 0) statistic = Infinity;
  }
  const etaSquared = k >= 2 && ssTotal > 0 ? Math.min(1, ssBetween / ssTotal) : NaN;
  return { statistic, pValue: fUpperTail(statistic, dfBetween, dfWithin), dfBetween, dfWithin, ssBetween, ssWithin, ssTotal, etaSquared, k, n };
}

/** P(X > x) for X ~ F(d1, d2), accurate in the far tail (see the file's opening comment). */
export function fUpperTail(x: number, d1: number, d2: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x === Infinity) return 0;
  return fCdf(1 / x, d2, d1);
}
