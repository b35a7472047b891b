/**
 * Confidence intervals for a binomial proportion (a rate such as accuracy on n examples), as
 * `statsmodels.stats.proportion.proportion_confint(count, nobs, alpha=1 − confidence, method=...)`.
 *
 * Field ↔ statsmodels: `low`, `high` ↔ the returned (ci_low, ci_upp).
 */
import betaQuantile from '@stdlib/stats-base-dists-beta-quantile';
import normalQuantile from '@stdlib/stats-base-dists-normal-quantile';
import { checkConfidence } from './descriptive';

/** The interval's method; statsmodels calls `clopper-pearson` `beta`. */
export type ProportionMethod = 'wilson' | 'clopper-pearson' | 'normal' | 'agresti-coull' | 'jeffreys';

export interface ProportionInterval {
  method: ProportionMethod;
  successes: number;
  n: number;
  /** successes / n. */
  rate: number;
  confidence: number;
  low: number;
  high: number;
}

function checkCounts(successes: number, n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`n must be a positive integer, got ${n}`);
  if (!Number.isInteger(successes) || successes < 0 || successes > n) {
    throw new RangeError(`successes must be an integer in [0, n], got ${successes} (n = ${n})`);
  }
}

/**
 * Wilson score interval, as `proportion_confint(successes, n, alpha, method='wilson')`:
 * with z = Φ⁻¹(1 − α/2) and p̂ = successes/n,
 * centre = (p̂ + z²/2n)/(1 + z²/n), half-width = z·√(p̂(1 − p̂)/n + z²/4n²)/(1 + z²/n).
 * The bounds are clipped to [0, 1] (they are 0 and 1 exactly at 0 and n successes, up to rounding).
 */
export function wilsonInterval(successes: number, n: number, options: { confidence?: number } = {}): ProportionInterval {
  const confidence = options.confidence ?? 0.95;
  checkConfidence(confidence);
  checkCounts(successes, n);
  const z = normalQuantile(1 - (1 - confidence) / 2, 0, 1);
  const z2 = z * z;
  const p = successes / n;
  const denom = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denom;
  const half = z * Math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denom;
  return {
    method: 'wilson', successes, n, rate: p, confidence,
    low: successes === 0 ? 0 : Math.max(0, centre - half),
    high: successes === n ? 1 : Math.min(1, centre + half),
  };
}

/**
 * Clopper–Pearson ("exact") interval, as `proportion_confint(successes, n, alpha, method='beta')`:
 * low = Beta⁻¹(α/2; x, n − x + 1), high = Beta⁻¹(1 − α/2; x + 1, n − x), with low = 0 at x = 0 and high = 1 at
 * x = n (the other bound still uses α/2, as statsmodels and R's `binom.test`).
 */
export function clopperPearsonInterval(successes: number, n: number, options: { confidence?: number } = {}): ProportionInterval {
  const confidence = options.confidence ?? 0.95;
  checkConfidence(confidence);
  checkCounts(successes, n);
  const alpha2 = (1 - confidence) / 2;
  const low = successes === 0 ? 0 : betaQuantile(alpha2, successes, n - successes + 1);
  const high = successes === n ? 1 : betaQuantile(1 - alpha2, successes + 1, n - successes);
  return { method: 'clopper-pearson', successes, n, rate: successes / n, confidence, low, high };
}

/**
 * Normal-approximation (Wald) interval, as `proportion_confint(successes, n, alpha, method='normal')`:
 * p̂ ± z·√(p̂(1 − p̂)/n), clipped to [0, 1]. It has zero width at 0 and n successes and undercovers for small n or
 * p̂ near 0 or 1; prefer Wilson or Jeffreys there.
 */
export function normalInterval(successes: number, n: number, options: { confidence?: number } = {}): ProportionInterval {
  const confidence = options.confidence ?? 0.95;
  checkConfidence(confidence);
  checkCounts(successes, n);
  const z = normalQuantile(1 - (1 - confidence) / 2, 0, 1);
  const p = successes / n;
  const half = z * Math.sqrt(p * (1 - p) / n);
  return { method: 'normal', successes, n, rate: p, confidence, low: clip01(p - half), high: clip01(p + half) };
}

/**
 * Agresti–Coull interval, as `proportion_confint(successes, n, alpha, method='agresti_coull')`: the normal interval
 * around p̃ = (successes + z²/2)/(n + z²) with ñ = n + z², p̃ ± z·√(p̃(1 − p̃)/ñ), clipped to [0, 1].
 */
export function agrestiCoullInterval(successes: number, n: number, options: { confidence?: number } = {}): ProportionInterval {
  const confidence = options.confidence ?? 0.95;
  checkConfidence(confidence);
  checkCounts(successes, n);
  const z = normalQuantile(1 - (1 - confidence) / 2, 0, 1);
  const nc = n + z * z;
  const pc = (successes + z * z / 2) / nc;
  const half = z * Math.sqrt(pc * (1 - pc) / nc);
  return { method: 'agresti-coull', successes, n, rate: successes / n, confidence, low: clip01(pc - half), high: clip01(pc + half) };
}

/**
 * Jeffreys interval, as `proportion_confint(successes, n, alpha, method='jeffreys')`: the equal-tailed interval of
 * the Beta(successes + ½, n − successes + ½) posterior, Beta⁻¹(α/2) … Beta⁻¹(1 − α/2). As statsmodels, the bounds are
 * not forced to 0 or 1 at 0 or n successes.
 */
export function jeffreysInterval(successes: number, n: number, options: { confidence?: number } = {}): ProportionInterval {
  const confidence = options.confidence ?? 0.95;
  checkConfidence(confidence);
  checkCounts(successes, n);
  const alpha2 = (1 - confidence) / 2;
  const a = successes + 0.5, b = n - successes + 0.5;
  return {
    method: 'jeffreys', successes, n, rate: successes / n, confidence,
    low: betaQuantile(alpha2, a, b), high: betaQuantile(1 - alpha2, a, b),
  };
}

/** The interval of `method` (see each function). */
export function proportionInterval(method: ProportionMethod, successes: number, n: number, options: { confidence?: number } = {}): ProportionInterval {
  switch (method) {
    case 'wilson': return wilsonInterval(successes, n, options);
    case 'clopper-pearson': return clopperPearsonInterval(successes, n, options);
    case 'normal': return normalInterval(successes, n, options);
    case 'agresti-coull': return agrestiCoullInterval(successes, n, options);
    case 'jeffreys': return jeffreysInterval(successes, n, options);
    default: throw new RangeError(`unknown interval method: ${String(method)}`);
  }
}

function clip01(x: number): number {
  return x < 0 ? 0 : x > 1 ? 1 : x;
}
