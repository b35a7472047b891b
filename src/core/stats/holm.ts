/**
 * Holm–Bonferroni step-down correction for several comparisons, as
 * `statsmodels.stats.multitest.multipletests(p, alpha, method='holm')` (and R's `p.adjust(p, "holm")`).
 *
 * With the m p-values sorted ascending, p₍₁₎ ≤ … ≤ p₍ₘ₎, the adjusted value of the k-th is
 * max over j ≤ k of min(1, (m − j + 1)·p₍ⱼ₎); a hypothesis is rejected when its adjusted p-value is ≤ alpha.
 * It controls the family-wise error rate under any dependence between the tests, and rejects at least what
 * Bonferroni rejects.
 *
 * Field ↔ statsmodels: `adjusted` ↔ `pvals_corrected`, `reject` ↔ `reject`.
 */

export interface HolmResult {
  /** Adjusted p-values, in the order of the input. NaN where the input was NaN. */
  adjusted: number[];
  /** Whether each hypothesis is rejected at `alpha` (false for NaN). */
  reject: boolean[];
  alpha: number;
  /** Number of tests in the family (the non-NaN p-values). */
  m: number;
}

/**
 * Holm's adjusted p-values. A NaN p-value (an undefined test) is left out of the family and stays NaN, as R's
 * `p.adjust` does; statsmodels would propagate it into the others, which is never what a reader wants. Throws a
 * RangeError for a p-value outside [0, 1].
 */
export function holm(pValues: readonly number[], alpha = 0.05): HolmResult {
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha must be in (0, 1), got ${alpha}`);
  for (const p of pValues) {
    if (!Number.isNaN(p) && !(p >= 0 && p <= 1)) throw new RangeError(`p-values must be in [0, 1], got ${p}`);
  }
  const order = pValues.map((_, i) => i).filter(i => !Number.isNaN(pValues[i]));
  // Stable sort: equal p-values keep their order, which does not change the adjusted values.
  order.sort((a, b) => pValues[a] - pValues[b]);
  const m = order.length;
  const adjusted = pValues.map(() => NaN);
  let running = 0;
  order.forEach((i, k) => {
    running = Math.max(running, Math.min(1, (m - k) * pValues[i]));
    adjusted[i] = running;
  });
  return { adjusted, reject: adjusted.map(p => p <= alpha), alpha, m };
}
