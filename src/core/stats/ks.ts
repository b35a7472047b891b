/**
 * Two-sample Kolmogorov–Smirnov test (two-sided), as `scipy.stats.ks_2samp(a, b, alternative='two-sided',
 * method=mode)`.
 *
 * Field ↔ scipy name: `statistic` ↔ `statistic`, `pValue` ↔ `pvalue`, `location` ↔ `statistic_location`,
 * `sign` ↔ `statistic_sign`.
 *
 * p-values:
 * - `exact`: the probability that a uniformly random interleaving of the two samples (a lattice path from (0, 0) to
 *   (nA, nB)) reaches |i/nA − j/nB| ≥ D, computed by a forward recursion over the band of the lattice that sums
 *   the probability of first reaching the boundary (so small p-values keep their relative precision). This is the
 *   quantity scipy's exact method computes (Hodges 1958); it assumes continuous data, as scipy does.
 * - `asymp`: scipy's asymptotic choice, the one-sample Kolmogorov distribution `kstwo.sf(D, round(nA·nB/(nA+nB)))`
 *   (rounding half to even, as numpy). See {@link kolmogorovSf}.
 * - `auto` (default): `exact` when max(nA, nB) ≤ 10000, else `asymp` (scipy's rule).
 */
import { allFinite, sortedCopy } from './descriptive';

export type KsMode = 'auto' | 'exact' | 'asymp';

export interface KsResult {
  /** D = sup |F_a − F_b| (scipy `statistic`). */
  statistic: number;
  /** Two-sided p-value (scipy `pvalue`). */
  pValue: number;
  /** The method that produced the p-value. */
  mode: 'exact' | 'asymp';
  nA: number;
  nB: number;
  /** The smallest observation at which |F_a − F_b| = D (scipy `statistic_location`). */
  location: number;
  /** +1 when F_a > F_b at `location`, −1 otherwise (scipy `statistic_sign`). */
  sign: 1 | -1;
}

/** numpy's `np.round` for the halves that matter here: round half to even. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x - Math.trunc(x)) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * Two-sample two-sided Kolmogorov–Smirnov test. Throws on an empty sample or non-finite values (scipy raises on
 * empty input; NaN would make the statistic meaningless).
 */
export function ks2Samp(a: readonly number[], b: readonly number[], options: { mode?: KsMode } = {}): KsResult {
  const mode = options.mode ?? 'auto';
  if (mode !== 'auto' && mode !== 'exact' && mode !== 'asymp') throw new RangeError(`unknown mode: ${String(mode)}`);
  const nA = a.length;
  const nB = b.length;
  if (nA === 0 || nB === 0) throw new RangeError('ks2Samp needs two non-empty samples');
  if (!allFinite(a) || !allFinite(b)) throw new RangeError('ks2Samp: the samples contain non-finite values');
  const x = sortedCopy(a);
  const y = sortedCopy(b);

  // Walk the distinct values in ascending order; after all copies of v, F_a = i/nA and F_b = j/nB.
  // The integer |nB·i − nA·j| is D·nA·nB exactly.
  let i = 0, j = 0;
  let best = 0;
  let location = Math.min(x[0], y[0]);
  let sign: 1 | -1 = 1;
  while (i < nA || j < nB) {
    const v = j >= nB || (i < nA && x[i] <= y[j]) ? x[i] : y[j];
    while (i < nA && x[i] === v) i++;
    while (j < nB && y[j] === v) j++;
    const diff = nB * i - nA * j;
    if (Math.abs(diff) > best) {
      best = Math.abs(diff);
      location = v;
      sign = diff > 0 ? 1 : -1;
    }
  }
  const statistic = best / (nA * nB);
  const used: 'exact' | 'asymp' = mode === 'auto' ? (Math.max(nA, nB) <= 10000 ? 'exact' : 'asymp') : mode;
  let pValue: number;
  if (used === 'exact') {
    pValue = smirnovExactTwoSided(nA, nB, best);
  } else {
    const big = Math.max(nA, nB);
    const small = Math.min(nA, nB);
    pValue = kolmogorovSf(statistic, roundHalfEven(big * small / (big + small)));
  }
  return { statistic, pValue: Math.min(1, Math.max(0, pValue)), mode: used, nA, nB, location, sign };
}

/**
 * P(max over the path of |n·i − m·j| ≥ h) for a uniformly random monotone lattice path from (0, 0) to (m, n), i.e.
 * the exact two-sided p-value of D = h/(m·n). The walk is the Markov chain of drawing without replacement: from
 * (i, j) the next step is along i with probability (m − i)/(m + n − i − j). Mass that steps onto the boundary is
 * added to the result and removed; only the band |n·i − m·j| < h is stored (O(m·band) time, O(n) memory).
 */
function smirnovExactTwoSided(m: number, n: number, h: number): number {
  if (h <= 0) return 1;
  const total = m + n;
  let cur = new Float64Array(n + 2);
  let next = new Float64Array(n + 2);
  cur[0] = 1;
  let outside = 0;
  for (let i = 0; i <= m; i++) {
    const jLo = Math.max(0, Math.floor((n * i - h) / m) + 1);
    const jHi = Math.min(n, Math.ceil((n * i + h) / m) - 1);
    for (let j = jLo; j <= jHi; j++) {
      const q = cur[j];
      if (q === 0) continue;
      const rem = total - i - j;
      if (rem === 0) continue; // the end point (m, n)
      if (j < n) {
        const move = q * (n - j) / rem;
        if (j + 1 <= jHi) cur[j + 1] += move;
        else outside += move;
      }
      if (i < m) {
        const move = q * (m - i) / rem;
        if (Math.abs(n * (i + 1) - m * j) < h) next[j] += move;
        else outside += move;
      }
    }
    if (jLo <= jHi) cur.fill(0, jLo, jHi + 1);
    const t = cur; cur = next; next = t;
  }
  return outside;
}

// ---------------------------------------------------------------------------------------------------------------
// The one-sample two-sided Kolmogorov distribution K_n(x) = P(D_n ≤ x), used for the asymptotic p-value.
// The choice of method follows Simard & L'Ecuyer (2011), "Computing the Two-Sided Kolmogorov-Smirnov
// Distribution", J. Stat. Softw. 39(11) — the same regions scipy's `kstwo` uses.

const LOG_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);

/** log(n!) − n·log(n): exact product for small n, Stirling series otherwise. */
function logFactorialOverPower(n: number): number {
  if (n <= 140) {
    let s = 0;
    for (let i = 1; i <= n; i++) s += Math.log(i / n);
    return s;
  }
  const r = 1 / n;
  const r2 = r * r;
  // log n! = n log n − n + ½ log(2πn) + 1/(12n) − 1/(360n³) + 1/(1260n⁵) − 1/(1680n⁷)
  return -n + LOG_SQRT_2PI + 0.5 * Math.log(n) + r * (1 / 12 - r2 * (1 / 360 - r2 * (1 / 1260 - r2 / 1680)));
}

/** Multiplies x by 2^e without intermediate overflow/underflow. */
function ldexp(x: number, e: number): number {
  while (e > 1000) { x *= 2 ** 1000; e -= 1000; }
  while (e < -1000) { x *= 2 ** -1000; e += 1000; }
  return x * 2 ** e;
}

/**
 * One-sided Smirnov survival function P(D_n⁺ ≥ x), exact (Birnbaum & Tingey 1951):
 * x · Σ_{j=0}^{⌊n(1−x)⌋} C(n, j) (x + j/n)^{j−1} (1 − x − j/n)^{n−j}, summed in log space (all terms positive).
 */
export function smirnovSf(n: number, x: number): number {
  if (!(x > 0)) return 1;
  if (x >= 1) return 0;
  let logC = 0;
  let sum = 0;
  for (let j = 0; j < n; j++) {
    if (j > 0) logC += Math.log((n - j + 1) / j);
    const rest = (n - j) / n - x;
    if (rest <= 0) break;
    sum += Math.exp(logC + (j - 1) * Math.log(x + j / n) + (n - j) * Math.log(rest));
  }
  return Math.min(1, x * sum);
}

/** n×n matrix product of row-major Float64Arrays. */
function matMul(a: Float64Array, b: Float64Array, m: number): Float64Array {
  const c = new Float64Array(m * m);
  for (let i = 0; i < m; i++) {
    for (let k = 0; k < m; k++) {
      const aik = a[i * m + k];
      if (aik === 0) continue;
      const row = k * m;
      const out = i * m;
      for (let j = 0; j < m; j++) c[out + j] += aik * b[row + j];
    }
  }
  return c;
}

/**
 * K_n(d) by Durbin's matrix formula in the form of Marsaglia, Tsang & Wang (2003), "Evaluating Kolmogorov's
 * Distribution", J. Stat. Softw. 8(18): with n·d = k − h (k integer, 0 ≤ h < 1) and the (2k−1)-square matrix H,
 * K_n(d) = n!/nⁿ · (Hⁿ)[k−1][k−1]. Intermediate powers are rescaled by 2^±128 and the exponent is tracked.
 */
function kolmogorovCdfDurbin(n: number, d: number): number {
  const nd = n * d;
  const k = Math.ceil(nd);
  const h = k - nd;
  const m = 2 * k - 1;
  const H = new Float64Array(m * m);
  const invFact = new Float64Array(m + 1);
  invFact[0] = 1;
  for (let i = 1; i <= m; i++) invFact[i] = invFact[i - 1] / i;
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < m; j++) {
      const p = i - j + 1;
      if (p >= 0) H[i * m + j] = invFact[p];
    }
  }
  for (let i = 0; i < m; i++) {
    H[i * m] -= h ** (i + 1) * invFact[i + 1];
    H[(m - 1) * m + i] -= h ** (m - i) * invFact[m - i];
  }
  H[(m - 1) * m] += (2 * h - 1 > 0 ? (2 * h - 1) ** m : 0) * invFact[m];

  const BIG = 2 ** 128;
  const centre = (k - 1) * m + (k - 1);
  let result: Float64Array | null = null;
  let resultExp = 0;
  let base: Float64Array = H;
  let baseExp = 0;
  let e = n;
  while (e > 0) {
    if (e & 1) {
      if (result === null) { result = base; resultExp = baseExp; } else { result = matMul(result, base, m); resultExp += baseExp; }
      if (Math.abs(result[centre]) > BIG) { for (let t = 0; t < result.length; t++) result[t] /= BIG; resultExp += 128; }
    }
    e = Math.floor(e / 2);
    if (e > 0) {
      base = matMul(base, base, m);
      baseExp *= 2;
      if (Math.abs(base[centre]) > BIG) { for (let t = 0; t < base.length; t++) base[t] /= BIG; baseExp += 128; }
    }
  }
  let p = (result as Float64Array)[centre];
  let exp = resultExp;
  for (let i = 1; i <= n; i++) {
    p = p * i / n;
    if (Math.abs(p) < 1 / BIG) { p *= BIG; exp -= 128; }
  }
  return ldexp(p, exp);
}

/**
 * K_n(x) by the Pelz–Good (1976) asymptotic series K₀(z) + K₁(z)/√n + K₂(z)/n + K₃(z)/n^{3/2}, z = x√n, in the
 * Jacobi-theta form suited to small z (as given by Simard & L'Ecuyer 2011, §2.3).
 */
function kolmogorovCdfPelzGood(n: number, x: number): number {
  const z = Math.sqrt(n) * x;
  const z2 = z * z, z4 = z2 * z2, z6 = z4 * z2, z8 = z4 * z4;
  const pi2 = Math.PI * Math.PI, pi4 = pi2 * pi2, pi6 = pi4 * pi2;
  if (-pi2 / (8 * z2) < -708) return 0;
  const kMax = Math.ceil(16 * z / Math.PI);
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  for (let kk = 1; kk <= kMax; kk++) {
    const mm = 2 * kk - 1;
    const m2 = mm * mm, m4 = m2 * m2, m6 = m4 * m2;
    const w = Math.exp(-pi2 * m2 / (8 * z2));
    s0 += w;
    s1 += (pi2 * m2 / 4 - z2) * w;
    s2 += (6 * z6 + 2 * z4 + (2 * z4 - 5 * z2) * pi2 * m2 / 4 + pi4 * (1 - 2 * z2) * m4 / 16) * w;
    s3 += (-30 * z6 - 90 * z8 + pi2 * (135 * z4 - 96 * z6) * m2 / 4 + pi4 * (212 * z4 - 60 * z2) * m4 / 16
      + pi6 * (5 - 30 * z2) * m6 / 64) * w;
  }
  const sqrt2pi = Math.sqrt(2 * Math.PI);
  const k0 = sqrt2pi * s0 / z;
  const k1 = sqrt2pi * s1 / (6 * z4);
  let k2 = sqrt2pi * s2 / (72 * z ** 7);
  let k3 = sqrt2pi * s3 / (6480 * z ** 10);
  let e2 = 0, e3 = 0;
  for (let kk = 1; kk <= kMax; kk++) {
    const k2sq = kk * kk;
    const w = Math.exp(-pi2 * k2sq / (2 * z2));
    e2 += k2sq * w;
    e3 += (3 * z2 - pi2 * k2sq) * k2sq * w;
  }
  k2 -= pi2 * sqrt2pi * e2 / (36 * z ** 3);
  k3 += pi2 * sqrt2pi * e3 / (216 * z6);
  return k0 + k1 / Math.sqrt(n) + k2 / n + k3 / (n * Math.sqrt(n));
}

/** CDF and survival function of the one-sample Kolmogorov statistic, each computed where it is accurate. */
function kolmogorov(x: number, n: number): { cdf: number; sf: number } {
  const fromCdf = (cdf: number) => ({ cdf: clip01(cdf), sf: clip01(1 - cdf) });
  const fromSf = (sf: number) => ({ cdf: clip01(1 - sf), sf: clip01(sf) });
  if (!Number.isInteger(n) || n < 1 || Number.isNaN(x)) return { cdf: NaN, sf: NaN };
  if (x >= 1) return { cdf: 1, sf: 0 };
  const t = n * x;
  if (t <= 0.5) return { cdf: 0, sf: 1 };
  if (t <= 1) return fromCdf(Math.exp(logFactorialOverPower(n) + n * Math.log(2 * t - 1)));
  if (t >= n - 1) return fromSf(2 * (1 - x) ** n);
  if (x >= 0.5) return fromSf(2 * smirnovSf(n, x));
  const nx2 = t * x;
  if (n <= 140) return nx2 <= 4 ? fromCdf(kolmogorovCdfDurbin(n, x)) : fromSf(2 * smirnovSf(n, x));
  if (nx2 >= 370) return { cdf: 1, sf: 0 };
  if (nx2 >= 2.2) return fromSf(2 * smirnovSf(n, x));
  return fromCdf(n <= 100000 && n * x ** 1.5 <= 1.4 ? kolmogorovCdfDurbin(n, x) : kolmogorovCdfPelzGood(n, x));
}

/**
 * Survival function of the one-sample two-sided Kolmogorov statistic, P(D_n ≥ x) — scipy's `kstwo.sf(x, n)` —
 * by the regions of Simard & L'Ecuyer (2011): Ruben–Gambino closed forms for n·x ≤ 1 and n·x ≥ n − 1;
 * 2·Smirnov(n, x) in the upper tail (x ≥ ½, or n·x² ≥ 2.2 for n > 140, n·x² > 4 for n ≤ 140); otherwise
 * 1 − K_n(x) with K_n from Durbin's matrix (n ≤ 140, or n ≤ 100000 with n·x^{3/2} ≤ 1.4) or Pelz–Good.
 * NaN unless n is a positive integer.
 */
export function kolmogorovSf(x: number, n: number): number {
  return kolmogorov(x, n).sf;
}

/** CDF of the one-sample two-sided Kolmogorov statistic, P(D_n ≤ x) — scipy's `kstwo.cdf(x, n)`. See {@link kolmogorovSf}. */
export function kolmogorovCdf(x: number, n: number): number {
  return kolmogorov(x, n).cdf;
}

function clip01(p: number): number {
  return p < 0 ? 0 : p > 1 ? 1 : p;
}
