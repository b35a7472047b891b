/**
 * Two-sample Kolmogorov–Smirnov test, as `scipy.stats.ks_2samp(a, b, alternative, method=mode)`.
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
import { checkAlternative, sortedCopy, type Alternative } from './descriptive';

export type KsMode = 'auto' | 'exact' | 'asymp';

export interface KsResult {
  /** D = sup |F_a − F_b| for two-sided, D⁺ for `greater`, D⁻ for `less` (scipy `statistic`). */
  statistic: number;
  /** p-value of the `alternative` (scipy `pvalue`). */
  pValue: number;
  alternative: Alternative;
  /** D⁺ = max(F_a − F_b), at least 0 (the statistic of `greater`). */
  dPlus: number;
  /** D⁻ = max(F_b − F_a), at least 0 (the statistic of `less`). */
  dMinus: number;
  /** The method that produced the p-value. */
  mode: 'exact' | 'asymp';
  nA: number;
  nB: number;
  /**
   * Where the statistic is reached (scipy `statistic_location`): the smallest such value of a, else of b, as scipy's
   * arg-extremum over [sorted a, sorted b].
   */
  location: number;
  /** +1 when the statistic is D⁺ (F_a > F_b at `location`), −1 when it is D⁻ (scipy `statistic_sign`). */
  sign: 1 | -1;
}

/** numpy's `np.round` for the halves that matter here: round half to even. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x - Math.trunc(x)) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * Two-sample Kolmogorov–Smirnov test. Throws on an empty sample or NaN values (scipy raises on empty input; NaN
 * would make the statistic meaningless). ±Infinity are values like any other: the test only uses the order of the
 * values, so an infinite value is the most extreme one (as scipy, which sorts them).
 *
 * `alternative` (scipy's): `two-sided` (default) tests F_a ≠ F_b with D = max(D⁺, D⁻); `greater` tests F_a > F_b
 * somewhere with D⁺ = max(F_a − F_b); `less` tests F_a < F_b with D⁻ = max(F_b − F_a). D⁺ and D⁻ are reported
 * whatever the alternative. A one-sided exact p-value is P(D⁺ ≥ d) over random interleavings (D⁺ and D⁻ have the
 * same null distribution); the asymptotic one is Hodges' (1958) approximation (eq. 5.3), as scipy:
 * exp(−2z² − 2z(m + 2n)/(3√(mn(m + n)))), z = d·√(mn/(m + n)), m ≥ n the sample sizes. Unlike scipy, whose
 * path count overflows above about 1,000 values (it then falls back to the approximation with a warning), the exact
 * one-sided p-value here is computed at every size.
 */
export function ks2Samp(
  a: readonly number[], b: readonly number[], options: { mode?: KsMode; alternative?: Alternative } = {},
): KsResult {
  const mode = options.mode ?? 'auto';
  const alternative = checkAlternative(options.alternative ?? 'two-sided');
  if (mode !== 'auto' && mode !== 'exact' && mode !== 'asymp') throw new RangeError(`unknown mode: ${String(mode)}`);
  const nA = a.length;
  const nB = b.length;
  if (nA === 0 || nB === 0) throw new RangeError('ks2Samp needs two non-empty samples');
  for (const v of a) if (Number.isNaN(v)) throw new RangeError('ks2Samp: sample a contains NaN');
  for (const v of b) if (Number.isNaN(v)) throw new RangeError('ks2Samp: sample b contains NaN');
  const x = sortedCopy(a);
  const y = sortedCopy(b);

  // Walk the distinct values in ascending order; after all copies of v, F_a = i/nA and F_b = j/nB.
  // The integer nB·i − nA·j is (F_a − F_b)·nA·nB exactly. The location is where scipy's argmax / argmin over the
  // concatenation [sorted a, sorted b] lands: among the values reaching the extreme, the smallest one of a, else the
  // smallest one of b (argmin of the raw differences, even when none is negative).
  let i = 0, j = 0;
  let hi = 0, lo = 0, hiF = -Infinity, loF = Infinity;
  let hiAt = x[0], loAt = x[0], hiInA = true, loInA = true;
  while (i < nA || j < nB) {
    const v = j >= nB || (i < nA && x[i] <= y[j]) ? x[i] : y[j];
    const inA = i < nA && x[i] === v;
    while (i < nA && x[i] === v) i++;
    while (j < nB && y[j] === v) j++;
    // Equal integer differences can round to floats a unit apart; scipy picks the location among the floats
    // i/nA − j/nB, so compare those (the integer of the chosen point is the extreme one either way).
    const diffF = i / nA - j / nB;
    if (diffF > hiF || (diffF === hiF && inA && !hiInA)) { hiF = diffF; hi = nB * i - nA * j; hiAt = v; hiInA = inA; }
    if (diffF < loF || (diffF === loF && inA && !loInA)) { loF = diffF; lo = nB * i - nA * j; loAt = v; loInA = inA; }
  }
  const plus = Math.max(0, hi), minus = Math.max(0, -lo);
  // scipy: `less` → D⁻; two-sided → D⁻ only when strictly larger than D⁺ — as floats, so an exact tie goes to the
  // side whose float happens to round up (which only changes the reported location and sign, not D or p).
  const useMinus = alternative === 'less' || (alternative === 'two-sided' && -loF > hiF);
  const best = useMinus ? minus : plus;
  const statistic = best / (nA * nB);
  const used: 'exact' | 'asymp' = mode === 'auto' ? (Math.max(nA, nB) <= 10000 ? 'exact' : 'asymp') : mode;
  let pValue: number;
  if (used === 'exact') {
    pValue = smirnovExact(nA, nB, best, alternative === 'two-sided');
  } else {
    const big = Math.max(nA, nB);
    const small = Math.min(nA, nB);
    pValue = alternative === 'two-sided'
      ? kolmogorovSf(statistic, roundHalfEven(big * small / (big + small)))
      : hodgesOneSided(statistic, big, small);
  }
  return {
    statistic, pValue: Math.min(1, Math.max(0, pValue)), mode: used, alternative, nA, nB,
    location: useMinus ? loAt : hiAt, sign: useMinus ? -1 : 1,
    dPlus: plus / (nA * nB), dMinus: minus / (nA * nB),
  };
}

/** Hodges' (1958) approximation of P(D⁺ ≥ d) for sample sizes m ≥ n, as scipy's asymptotic one-sided p-value. */
export function hodgesOneSided(d: number, m: number, n: number): number {
  const z = Math.sqrt(m * n / (m + n)) * d;
  return Math.exp(-2 * z * z - 2 * z * (m + 2 * n) / Math.sqrt(m * n * (m + n)) / 3);
}

/**
 * P(max over the path of |n·i − m·j| ≥ h) (two-sided) or P(max of n·i − m·j ≥ h) (one-sided) for a uniformly
 * random monotone lattice path from (0, 0) to (m, n), i.e. the exact p-value of D = h/(m·n). The walk is the Markov
 * chain of drawing without replacement: from (i, j) the next step is along i with probability
 * (m − i)/(m + n − i − j). Mass that steps onto the boundary is added to the result and removed; only the band
 * inside the boundary is stored (O(m·band) time, O(n) memory).
 */
function smirnovExact(m: number, n: number, h: number, twoSided: boolean): number {
  if (h <= 0) return 1;
  const total = m + n;
  let cur = new Float64Array(n + 2);
  let next = new Float64Array(n + 2);
  cur[0] = 1;
  let outside = 0;
  for (let i = 0; i <= m; i++) {
    const jLo = Math.max(0, Math.floor((n * i - h) / m) + 1);
    const jHi = twoSided ? Math.min(n, Math.ceil((n * i + h) / m) - 1) : n;
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
        const after = n * (i + 1) - m * j;
        if ((twoSided ? Math.abs(after) : after) < h) next[j] += move;
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
