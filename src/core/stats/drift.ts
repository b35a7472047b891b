/**
 * Distribution-shift measures between a reference sample (e.g. training data) and a current one (e.g. the data a
 * gate evaluates): Population Stability Index, Wasserstein-1 distance, Jensen–Shannon distance.
 * (The two-sample Kolmogorov–Smirnov test is in ./ks.)
 */
import { allFinite, quantileSorted, sortedCopy } from './descriptive';

export interface PsiOptions {
  /** Number of quantile bins of the reference, default 10 (deciles). Tied quantiles merge bins. */
  bins?: number;
  /** Floor applied to a bin's proportion before the logarithm (so an empty bin does not give ±Infinity), default 1e-4. */
  epsilon?: number;
}

export interface PsiBin {
  /** Lower bound (exclusive; −Infinity for the first bin). */
  low: number;
  /** Upper bound (inclusive; +Infinity for the last bin). */
  high: number;
  /** Share of the reference sample in the bin. */
  reference: number;
  /** Share of the current sample in the bin. */
  current: number;
  /** (current − reference)·ln(current/reference), after the epsilon floor. */
  contribution: number;
}

export interface PsiResult {
  psi: number;
  /** Interior cut points: the reference quantiles k/bins (numpy `linear`), duplicates removed. */
  edges: number[];
  bins: PsiBin[];
}

/**
 * Population Stability Index with quantile bins taken from the reference:
 * PSI = Σ (c_i − r_i)·ln(c_i / r_i), where r_i and c_i are the shares of the reference and current samples in bin i.
 *
 * Bins: the cut points are the reference quantiles at k/bins, k = 1…bins−1 (linear interpolation, numpy's default),
 * with duplicates removed; bin i is (edge_{i−1}, edge_i], the first bin starts at −∞ and the last ends at +∞, so
 * every current value falls in a bin. Shares below `epsilon` are raised to `epsilon` (not renormalised).
 * Common reading: < 0.1 stable, 0.1–0.25 moderate shift, > 0.25 major shift.
 * No reference library computes PSI; the definition is the usual credit-scoring one (e.g. Yurdakul 2018).
 */
export function psi(reference: readonly number[], current: readonly number[], options: PsiOptions = {}): PsiResult {
  const bins = options.bins ?? 10;
  const epsilon = options.epsilon ?? 1e-4;
  if (!Number.isInteger(bins) || bins < 1) throw new RangeError(`bins must be a positive integer, got ${bins}`);
  if (!(epsilon > 0 && epsilon < 1)) throw new RangeError(`epsilon must be in (0, 1), got ${epsilon}`);
  if (reference.length === 0 || current.length === 0) throw new RangeError('psi needs two non-empty samples');
  if (!allFinite(reference) || !allFinite(current)) throw new RangeError('psi: the samples contain non-finite values');
  const ref = sortedCopy(reference);
  const edges: number[] = [];
  for (let k = 1; k < bins; k++) {
    const q = quantileSorted(ref, k / bins);
    if (edges.length === 0 || q > edges[edges.length - 1]) edges.push(q);
  }
  const count = (values: readonly number[]): number[] => {
    const c = new Array<number>(edges.length + 1).fill(0);
    for (const v of values) {
      // first bin whose upper edge is ≥ v
      let lo = 0, hi = edges.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (v <= edges[mid]) hi = mid; else lo = mid + 1;
      }
      c[lo]++;
    }
    return c;
  };
  const refCounts = count(reference);
  const curCounts = count(current);
  let total = 0;
  const out: PsiBin[] = refCounts.map((rc, i) => {
    const r = rc / reference.length;
    const c = curCounts[i] / current.length;
    const rf = Math.max(r, epsilon);
    const cf = Math.max(c, epsilon);
    const contribution = (cf - rf) * Math.log(cf / rf);
    total += contribution;
    return { low: i === 0 ? -Infinity : edges[i - 1], high: i === edges.length ? Infinity : edges[i], reference: r, current: c, contribution };
  });
  return { psi: total, edges, bins: out };
}

function checkWeights(name: string, weights: readonly number[], n: number): void {
  if (weights.length !== n) throw new RangeError(`${name} must have one weight per value (got ${weights.length} for ${n})`);
  let sum = 0;
  for (const w of weights) {
    if (!(Number.isFinite(w) && w >= 0)) throw new RangeError(`${name} must be finite and non-negative, got ${w}`);
    sum += w;
  }
  if (!(sum > 0)) throw new RangeError(`${name} must have a positive sum`);
}

/**
 * Wasserstein-1 (earth mover's) distance between two 1-D empirical distributions, optionally weighted, as
 * `scipy.stats.wasserstein_distance(u_values, v_values, u_weights, v_weights)`:
 * ∫ |U(x) − V(x)| dx over the merged sorted values, U and V the (weighted) empirical CDFs.
 */
export function wassersteinDistance(
  u: readonly number[], v: readonly number[], uWeights?: readonly number[], vWeights?: readonly number[],
): number {
  if (u.length === 0 || v.length === 0) throw new RangeError('wassersteinDistance needs two non-empty samples');
  if (!allFinite(u) || !allFinite(v)) throw new RangeError('wassersteinDistance: the samples contain non-finite values');
  if (uWeights) checkWeights('uWeights', uWeights, u.length);
  if (vWeights) checkWeights('vWeights', vWeights, v.length);

  const cdfOf = (values: readonly number[], weights?: readonly number[]) => {
    const order = Array.from({ length: values.length }, (_, i) => i).sort((i, j) => values[i] - values[j]);
    const sorted = order.map(i => values[i]);
    const cum = new Float64Array(values.length + 1);
    for (let k = 0; k < order.length; k++) cum[k + 1] = cum[k] + (weights ? weights[order[k]] : 1);
    const total = cum[values.length];
    let idx = 0;
    // CDF at x (right-continuous), for x visited in ascending order.
    return (x: number): number => {
      while (idx < sorted.length && sorted[idx] <= x) idx++;
      return cum[idx] / total;
    };
  };
  const U = cdfOf(u, uWeights);
  const V = cdfOf(v, vWeights);
  const all = sortedCopy([...u, ...v]);
  let dist = 0;
  for (let k = 0; k + 1 < all.length; k++) {
    const delta = all[k + 1] - all[k];
    const uk = U(all[k]);
    const vk = V(all[k]);
    if (delta > 0) dist += Math.abs(uk - vk) * delta;
  }
  return dist;
}

/**
 * Jensen–Shannon distance between two probability vectors (the square root of the JS divergence), as
 * `scipy.spatial.distance.jensenshannon(p, q, base)`: p and q are normalised to sum 1, m = (p + q)/2,
 * JS = √((KL(p‖m) + KL(q‖m)) / 2), natural logarithm unless `base` is given (base 2 bounds it by 1).
 */
export function jensenShannonDistance(p: readonly number[], q: readonly number[], options: { base?: number } = {}): number {
  if (p.length !== q.length) throw new RangeError(`p and q must have the same length (got ${p.length} and ${q.length})`);
  if (p.length === 0) throw new RangeError('jensenShannonDistance needs non-empty vectors');
  const sp = positiveSum(p, 'p');
  const sq = positiveSum(q, 'q');
  if (options.base !== undefined && !(options.base > 0 && options.base !== 1)) {
    throw new RangeError(`base must be positive and not 1, got ${options.base}`);
  }
  // rel_entr(x, y) = x·ln(x/y) for x > 0, 0 for x = 0 (y = (x + other)/2 > 0 whenever x > 0).
  let js = 0;
  for (let i = 0; i < p.length; i++) {
    const pi = p[i] / sp;
    const qi = q[i] / sq;
    const mi = (pi + qi) / 2;
    if (pi > 0) js += pi * Math.log(pi / mi);
    if (qi > 0) js += qi * Math.log(qi / mi);
  }
  if (options.base !== undefined) js /= Math.log(options.base);
  return Math.sqrt(Math.max(0, js) / 2);
}

/**
 * L-infinity (Chebyshev) distance between two frequency vectors after normalising each to sum 1:
 * max_k |p_k − q_k|, as `scipy.spatial.distance.chebyshev(p / p.sum(), q / q.sum())`. For categorical drift it is
 * the largest change in any category's share (0 … 1), which reads directly: 0.1 = some category gained or lost
 * 10 percentage points.
 */
export function linfDistance(p: readonly number[], q: readonly number[]): number {
  if (p.length !== q.length) throw new RangeError(`p and q must have the same length (got ${p.length} and ${q.length})`);
  if (p.length === 0) throw new RangeError('linfDistance needs non-empty vectors');
  const sp = positiveSum(p, 'p');
  const sq = positiveSum(q, 'q');
  let d = 0;
  for (let i = 0; i < p.length; i++) d = Math.max(d, Math.abs(p[i] / sp - q[i] / sq));
  return d;
}

function positiveSum(x: readonly number[], name: string): number {
  let s = 0;
  for (const v of x) {
    if (!(Number.isFinite(v) && v >= 0)) throw new RangeError(`${name} must contain finite non-negative numbers, got ${v}`);
    s += v;
  }
  if (!(s > 0)) throw new RangeError(`${name} must have a positive sum`);
  return s;
}
