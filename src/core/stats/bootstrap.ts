/**
 * Paired bootstrap comparison of two models evaluated on the same examples.
 *
 * Each resample draws n example indices with replacement (seeded, see ./prng) and evaluates both models on the
 * SAME indices, so the per-example pairing is kept: δ* = metric(yTrue*, predB*) − metric(yTrue*, predA*).
 */
import { checkConfidence, quantileSorted } from './descriptive';
import { mulberry32, randomIndex } from './prng';

export interface PairedBootstrapOptions {
  /** Number of resamples B, default 2000. */
  resamples?: number;
  /** Confidence level of the percentile interval, default 0.95. */
  confidence?: number;
  /** Seed of the generator (an integer, reduced modulo 2³²), default 0. Same seed → identical result. */
  seed?: number;
  /** Also return the sorted resampled differences (B numbers), default false. */
  keepDistribution?: boolean;
}

export interface PairedBootstrapResult {
  /** Observed difference metric(yTrue, predB) − metric(yTrue, predA) on the full data. */
  difference: number;
  metricA: number;
  metricB: number;
  /** Percentile interval of the resampled differences: quantiles (1 − c)/2 and (1 + c)/2 (numpy `linear`). */
  ci: { low: number; high: number };
  confidence: number;
  /**
   * Two-sided bootstrap p-value for H0 "no difference":
   * p = min(1, 2·min(#{δ* ≤ 0}, #{δ* ≥ 0}) / B′), i.e. the share of resampled differences on the other side of 0
   * (ties at 0 count on both sides), doubled and clipped to 1. B′ = `validResamples`.
   * p = 0 means no resample reached 0: report it as p < 1/B′.
   */
  pValue: number;
  /** Standard deviation of the resampled differences (ddof = 1). */
  standardError: number;
  /** Requested number of resamples B. */
  resamples: number;
  /** Resamples where both metrics were finite numbers (the others are skipped, e.g. an AUC with one class). */
  validResamples: number;
  seed: number;
  n: number;
  /** Sorted resampled differences, only with `keepDistribution`. */
  distribution?: number[];
}

/**
 * Paired bootstrap of metric(B) − metric(A).
 *
 * `metric(yTrue, pred)` is called on fresh arrays for every resample (2·B + 2 calls in all). A resample where either
 * metric throws or returns a non-finite number is skipped and not counted in `validResamples`; if the metric fails
 * on the full data, or no resample is valid, this throws. With n = 0 it throws.
 */
export function pairedBootstrap<T, P>(
  yTrue: readonly T[],
  predA: readonly P[],
  predB: readonly P[],
  metric: (yTrue: T[], pred: P[]) => number,
  options: PairedBootstrapOptions = {},
): PairedBootstrapResult {
  const resamples = options.resamples ?? 2000;
  const confidence = options.confidence ?? 0.95;
  const seed = options.seed ?? 0;
  checkConfidence(confidence);
  if (!Number.isInteger(resamples) || resamples < 1) throw new RangeError(`resamples must be a positive integer, got ${resamples}`);
  const n = yTrue.length;
  if (predA.length !== n || predB.length !== n) {
    throw new RangeError(`yTrue, predA and predB must have the same length (got ${n}, ${predA.length}, ${predB.length})`);
  }
  if (n === 0) throw new RangeError('pairedBootstrap needs at least one example');

  const metricA = metric([...yTrue], [...predA]);
  const metricB = metric([...yTrue], [...predB]);
  if (!Number.isFinite(metricA) || !Number.isFinite(metricB)) {
    throw new RangeError(`the metric is not finite on the full data (A: ${metricA}, B: ${metricB})`);
  }
  const difference = metricB - metricA;

  const random = mulberry32(seed);
  const diffs: number[] = [];
  for (let r = 0; r < resamples; r++) {
    const y = new Array<T>(n);
    const a = new Array<P>(n);
    const b = new Array<P>(n);
    for (let i = 0; i < n; i++) {
      const k = randomIndex(random, n);
      y[i] = yTrue[k];
      a[i] = predA[k];
      b[i] = predB[k];
    }
    let d: number;
    try {
      d = metric(y, b) - metric(y, a);
    } catch {
      continue;
    }
    if (Number.isFinite(d)) diffs.push(d);
  }
  if (diffs.length === 0) throw new RangeError('the metric was not finite on any resample');

  diffs.sort((x, y) => x - y);
  const alpha = 1 - confidence;
  let below = 0, above = 0, sum = 0;
  for (const d of diffs) {
    if (d <= 0) below++;
    if (d >= 0) above++;
    sum += d;
  }
  const m = sum / diffs.length;
  let ss = 0;
  for (const d of diffs) ss += (d - m) * (d - m);
  const result: PairedBootstrapResult = {
    difference, metricA, metricB,
    ci: { low: quantileSorted(diffs, alpha / 2), high: quantileSorted(diffs, 1 - alpha / 2) },
    confidence,
    pValue: Math.min(1, 2 * Math.min(below, above) / diffs.length),
    standardError: diffs.length > 1 ? Math.sqrt(ss / (diffs.length - 1)) : NaN,
    resamples, validResamples: diffs.length, seed, n,
  };
  if (options.keepDistribution) result.distribution = diffs;
  return result;
}
