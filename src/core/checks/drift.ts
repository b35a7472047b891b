/**
 * The `drift` check: does the evaluation data still look like the reference data (e.g. the training set)?
 *
 * Policy entry:
 * ```yaml
 * - drift:
 *     columns: all                 # or [age, income]; `all` = every column in both data sets except the label
 *     ks: { alpha: 0.05 }          # numeric columns: two-sample Kolmogorov–Smirnov, drift when p < alpha
 *     psi: { max: 0.2, bins: 10 }  # Population Stability Index, drift when PSI > max
 *     wasserstein: { max: 0.5 }    # Wasserstein-1 distance in the column's units (normalized: true → ÷ reference std)
 *     jensen_shannon: { max: 0.1, bins: 10 }  # Jensen–Shannon distance, base 2 (0 … 1)
 *     linf: { max: 0.1 }           # categorical columns: the largest change of a category's share (0 … 1)
 * ```
 * `ks` also takes `alternative: less | greater` (scipy's): `greater` flags only a shift of the evaluation values
 * upward (D⁺ = max(F_reference − F_eval)), `less` only downward (D⁻); the column then reports `ks_alternative`,
 * `ks_d_plus` and `ks_d_minus`.
 *
 * Per column:
 * - numeric in both data sets (missing values left out; their shares are reported):
 *   - `ks_statistic`, `ks_p_value`: `scipy.stats.ks_2samp(reference, eval)` two-sided. The p-value is exact (as
 *     scipy's `method='auto'`) when both samples have ≤ 10,000 values, unless the exact recursion would exceed
 *     3·10⁷ lattice cells (a large statistic, where p is astronomically small anyway); then, and for larger samples,
 *     the asymptotic `kstwo.sf(D, round(n·m/(n+m)))`. `ks_method` says which.
 *   - `psi`: bins are the reference quantiles at k/bins (numpy `linear`, ties merged), open-ended at both ends, so
 *     every eval value falls in a bin; shares below ε = 1e-4 are raised to ε so an empty bin does not give ∞
 *     (the definition of `psi` in src/core/stats).
 *   - `wasserstein`: `scipy.stats.wasserstein_distance(reference, eval)`; `wasserstein_normalized` divides it by
 *     the reference's standard deviation (ddof 0), so one threshold fits columns of different scales.
 *   - `jensen_shannon`: `scipy.spatial.distance.jensenshannon(p, q, base=2)` of the two histograms over the same
 *     bins (reference quantiles, as for PSI, with `jensen_shannon.bins`, default 10).
 * - string (categorical) in both: `jensen_shannon` (base 2), `psi` and `linf` (max |share_ref − share_eval|,
 *   `scipy.spatial.distance.chebyshev` of the normalised frequencies) over the category frequencies (missing is a
 *   category of its own; ε = 1e-4 as above). KS and Wasserstein do not apply.
 * - ±Infinity in a numeric column (`inf` in a CSV) are values, counted as `infinite_reference` / `infinite_eval`: KS
 *   ranks them as the extremes (as scipy); PSI and Jensen–Shannon bins take their edges from the finite reference
 *   values and put ±∞ in the open-ended first and last bins; Wasserstein is ∞ (reported as null, and drift above any
 *   max) when the shares of −∞ or +∞ differ, else it is computed over the finite range; the normalisation uses the
 *   standard deviation of the finite reference values. Infinite values in the eval data where the reference has
 *   none are drift by themselves (`infinite`): a pipeline that starts producing them has changed.
 * - numeric in one data set and text in the other: the column's type changed, which counts as drift.
 *
 * Status: `fail` when any column drifts beyond a threshold; `warn` when a selected column had no applicable test;
 * `pass` otherwise. Evidence: the drifted columns, most severe first (severity = the largest measured/threshold
 * ratio; for KS, log p / log alpha).
 *
 * Speed: each column is sorted once (typed-array sort) and every measure is a linear merge of the two sorted
 * samples, so 100,000 rows × 20 columns take a few hundred milliseconds.
 */
import { t } from '../l10n';
import { hodgesOneSided } from '../stats/ks';
import { jensenShannonDistance, kolmogorovSf, ks2Samp, linfDistance, quantileSorted, type Alternative } from '../stats';
import { finitePart, runCheck, selectColumns, sortedValues } from './dataset';
import { fmt, nameList } from './format';
import { CheckInputError, optionalBoolean, optionalInteger, optionalNumber, optionalObject, rejectUnknownOptions, specObject } from './harness';
import type { CheckResult, Column, GateContext } from './types';

export interface DriftSpec {
  columns?: 'all' | string[];
  ks?: { alpha: number };
  psi?: { max: number; bins?: number };
  wasserstein?: { max?: number; normalized?: boolean };
  jensen_shannon?: { max: number; bins?: number };
}

/** ε floor of a bin's share in PSI (same as src/core/stats psi). */
export const PSI_EPSILON = 1e-4;
/** Above this many lattice cells the exact KS p-value gives way to the asymptotic one. */
const KS_EXACT_BUDGET = 3e7;

/** numpy's round-half-to-even, as scipy rounds n·m/(n+m) for the asymptotic KS distribution. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x - Math.trunc(x)) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

export interface KsSortedResult {
  /** D for two-sided, D⁺ for `greater`, D⁻ for `less`. */
  statistic: number; pValue: number; method: 'exact' | 'asymp';
  /** D⁺ = max(F_reference − F_eval) (the eval values lie higher), D⁻ = max(F_eval − F_reference). */
  dPlus: number; dMinus: number;
}

/** Two-sample KS on sorted samples (see the module comment for the p-value); ±Infinity are values, as in scipy. */
export function ksSorted(a: Float64Array, b: Float64Array, alternative: Alternative = 'two-sided'): KsSortedResult {
  const nA = a.length, nB = b.length;
  let i = 0, j = 0, plus = 0, minus = 0;
  while (i < nA || j < nB) {
    const v = j >= nB || (i < nA && a[i] <= b[j]) ? a[i] : b[j];
    while (i < nA && a[i] === v) i++;
    while (j < nB && b[j] === v) j++;
    const diff = nB * i - nA * j;
    if (diff > plus) plus = diff;
    if (-diff > minus) minus = -diff;
  }
  const best = alternative === 'greater' ? plus : alternative === 'less' ? minus : Math.max(plus, minus);
  const statistic = best / (nA * nB);
  const dPlus = plus / (nA * nB), dMinus = minus / (nA * nB);
  const big = Math.max(nA, nB), small = Math.min(nA, nB);
  // The one-sided recursion walks the whole lower part of the lattice, not a band around the diagonal.
  const cost = alternative === 'two-sided' ? nA * Math.min(nB + 1, 2 * statistic * nB + 2) : nA * (nB + 1);
  if (big <= 10000 && cost <= KS_EXACT_BUDGET) {
    // ks2Samp (src/core/stats) computes the exact p-value; the samples are small here.
    const r = ks2Samp(a as unknown as number[], b as unknown as number[], { mode: 'exact', alternative });
    return { statistic, pValue: r.pValue, method: 'exact', dPlus, dMinus };
  }
  const p = alternative === 'two-sided' ? kolmogorovSf(statistic, roundHalfEven(big * small / (big + small))) : hodgesOneSided(statistic, big, small);
  return { statistic, pValue: Math.min(1, Math.max(0, p)), method: 'asymp', dPlus, dMinus };
}

/**
 * `scipy.stats.wasserstein_distance(u, v)` for sorted, unweighted samples (one merge pass). With ±Infinity: ∞ when the
 * shares of −∞ (or of +∞) differ between the samples (that mass would have to move infinitely far); otherwise the
 * infinite values match each other and the distance is the area between the CDFs over the finite range.
 */
export function wassersteinSorted(u: Float64Array, v: Float64Array): number {
  const n = u.length, m = v.length;
  const share = (x: Float64Array, inf: number) => { let k = 0; for (let q = 0; q < x.length; q++) if (x[q] === inf) k++; return k / x.length; };
  if (!Number.isFinite(u[0]) || !Number.isFinite(v[0]) || !Number.isFinite(u[n - 1]) || !Number.isFinite(v[m - 1])) {
    if (share(u, -Infinity) !== share(v, -Infinity) || share(u, Infinity) !== share(v, Infinity)) return Infinity;
  }
  let i = 0, j = 0, dist = 0;
  let prev = Math.min(u[0], v[0]);
  while (i < n || j < m) {
    const x = j >= m || (i < n && u[i] <= v[j]) ? u[i] : v[j];
    // A step to or from ±∞ has U = V there (equal infinite shares): it adds nothing (and ∞ · 0 would be NaN).
    if (x > prev && Number.isFinite(x - prev)) dist += Math.abs(i / n - j / m) * (x - prev);
    while (i < n && u[i] === x) i++;
    while (j < m && v[j] === x) j++;
    prev = x;
  }
  return dist;
}

/**
 * Interior bin edges: the sorted reference's quantiles at k/bins (numpy `linear`), duplicates removed. The quantiles
 * are of the finite values; ±Infinity fall in the open-ended first and last bins.
 */
export function quantileEdges(refSortedAll: Float64Array, bins: number): number[] {
  const refSorted = finitePart(refSortedAll);
  const edges: number[] = [];
  for (let k = 1; k < bins; k++) {
    const q = quantileSorted(refSorted, k / bins);
    if (edges.length === 0 || q > edges[edges.length - 1]) edges.push(q);
  }
  return edges;
}

/** Counts of a sorted sample in the bins (−∞, e₀], (e₀, e₁], …, (e_last, ∞). */
export function binCountsSorted(sorted: Float64Array, edges: readonly number[]): number[] {
  const c = new Array<number>(edges.length + 1).fill(0);
  let b = 0;
  for (let k = 0; k < sorted.length; k++) {
    const v = sorted[k];
    while (b < edges.length && v > edges[b]) b++;
    c[b]++;
  }
  return c;
}

/** PSI = Σ (c − r)·ln(c / r) over shares floored at ε (shares from counts). */
export function psiFromCounts(refCounts: readonly number[], curCounts: readonly number[], epsilon = PSI_EPSILON): number {
  let nr = 0, nc = 0;
  for (const c of refCounts) nr += c;
  for (const c of curCounts) nc += c;
  let total = 0;
  for (let i = 0; i < refCounts.length; i++) {
    const r = Math.max(refCounts[i] / nr, epsilon);
    const c = Math.max(curCounts[i] / nc, epsilon);
    total += (c - r) * Math.log(c / r);
  }
  return total;
}

export interface NumericDrift {
  ks_statistic: number;
  ks_p_value: number;
  ks_method: 'exact' | 'asymp';
  ks_d_plus: number;
  ks_d_minus: number;
  psi: number;
  psi_bins: number;
  wasserstein: number;
  wasserstein_normalized: number;
  jensen_shannon: number;
  jensen_shannon_bins: number;
}

/** Every numeric measure for two sorted samples. */
export function numericDrift(ref: Float64Array, cur: Float64Array, options: { psiBins?: number; jsBins?: number; alternative?: Alternative } = {}): NumericDrift {
  const ks = ksSorted(ref, cur, options.alternative);
  const psiEdges = quantileEdges(ref, options.psiBins ?? 10);
  const psi = psiFromCounts(binCountsSorted(ref, psiEdges), binCountsSorted(cur, psiEdges));
  const jsEdges = (options.jsBins ?? 10) === (options.psiBins ?? 10) ? psiEdges : quantileEdges(ref, options.jsBins ?? 10);
  const js = jensenShannonDistance(binCountsSorted(ref, jsEdges), binCountsSorted(cur, jsEdges), { base: 2 });
  const w = wassersteinSorted(ref, cur);
  // The scale of the reference: the standard deviation of its finite values.
  const fin = finitePart(ref);
  let mean = 0;
  for (let k = 0; k < fin.length; k++) mean += fin[k];
  mean /= fin.length;
  let ss = 0;
  for (let k = 0; k < fin.length; k++) { const d = fin[k] - mean; ss += d * d; }
  const sd = fin.length > 0 ? Math.sqrt(ss / fin.length) : 0;
  return {
    ks_statistic: ks.statistic, ks_p_value: ks.pValue, ks_method: ks.method, ks_d_plus: ks.dPlus, ks_d_minus: ks.dMinus,
    psi, psi_bins: psiEdges.length + 1,
    wasserstein: w, wasserstein_normalized: sd > 0 ? w / sd : (w === 0 ? 0 : Infinity),
    jensen_shannon: js, jensen_shannon_bins: jsEdges.length + 1,
  };
}

export interface CategoricalDrift {
  psi: number;
  jensen_shannon: number;
  /** The largest change in a category's share (L-infinity distance of the frequency vectors). */
  linf: number;
  categories: number;
  /** Categories seen in the eval data but never in the reference (at most 10). */
  new_categories: string[];
}

function categoryCounts(values: ArrayLike<string | null>): Map<string | null, number> {
  const m = new Map<string | null, number>();
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    m.set(v, (m.get(v) ?? 0) + 1);
  }
  return m;
}

/** JS distance (base 2), PSI and L-infinity distance on category frequencies; missing (null) is a category. */
export function categoricalDrift(ref: ArrayLike<string | null>, cur: ArrayLike<string | null>): CategoricalDrift {
  const rc = categoryCounts(ref), cc = categoryCounts(cur);
  const keys = [...new Set([...rc.keys(), ...cc.keys()])];
  const r = keys.map(k => rc.get(k) ?? 0), c = keys.map(k => cc.get(k) ?? 0);
  const fresh = keys.filter(k => !rc.has(k)).map(k => (k === null ? '(missing)' : k));
  return {
    psi: psiFromCounts(r, c),
    jensen_shannon: jensenShannonDistance(r, c, { base: 2 }),
    linf: linfDistance(r, c),
    categories: keys.length,
    new_categories: fresh.slice(0, 10),
  };
}

interface Thresholds {
  alpha?: number;
  psiMax?: number;
  psiBins: number;
  wassersteinMax?: number;
  wassersteinNormalized: boolean;
  jsMax?: number;
  jsBins: number;
  wassersteinReport: boolean;
  linfMax?: number;
  alternative: Alternative;
}

function parseSpec(raw: unknown): { spec: Record<string, unknown>; t: Thresholds } {
  const K = 'drift';
  const spec = specObject(K, raw);
  rejectUnknownOptions(K, spec, ['columns', 'ks', 'psi', 'wasserstein', 'jensen_shannon', 'linf']);
  const ks = optionalObject(spec, 'ks', K, '{ alpha: 0.05 }');
  const psi = optionalObject(spec, 'psi', K, '{ max: 0.2 }');
  const w = optionalObject(spec, 'wasserstein', K, '{ max: 0.5 }');
  const js = optionalObject(spec, 'jensen_shannon', K, '{ max: 0.1 }');
  const linf = optionalObject(spec, 'linf', K, '{ max: 0.1 }');
  if (!ks && !psi && !w && !js && !linf) throw new CheckInputError(t('drift: set at least one of ks: {alpha}, psi: {max}, wasserstein: {max}, jensen_shannon: {max}, linf: {max}'));
  if (ks) rejectUnknownOptions('drift.ks', ks, ['alpha', 'alternative']);
  if (linf) rejectUnknownOptions('drift.linf', linf, ['max']);
  const alternative = ks?.alternative ?? 'two-sided';
  if (alternative !== 'two-sided' && alternative !== 'less' && alternative !== 'greater') {
    throw new CheckInputError(t('drift: ks.alternative must be two-sided, less (the evaluation values shifted lower) or greater (shifted higher), got {0}', String(JSON.stringify(alternative))));
  }
  const linfMax = optionalNumber(linf, 'max', 'drift.linf');
  if (linf && (linfMax === undefined || !(linfMax >= 0 && linfMax <= 1))) throw new CheckInputError(t('drift: linf needs max between 0 and 1 (e.g. linf: {max: 0.1}, the largest change of a category\'s share)'));
  const alpha = optionalNumber(ks, 'alpha', 'drift.ks');
  if (ks && alpha === undefined) throw new CheckInputError(t('drift: ks needs alpha (e.g. ks: {alpha: 0.05})'));
  if (alpha !== undefined && !(alpha > 0 && alpha < 1)) throw new CheckInputError(t('drift: ks.alpha must be between 0 and 1, got {0}', alpha));
  const psiMax = optionalNumber(psi, 'max', 'drift.psi');
  if (psi && psiMax === undefined) throw new CheckInputError(t('drift: psi needs max (e.g. psi: {max: 0.2})'));
  const jsMax = optionalNumber(js, 'max', 'drift.jensen_shannon');
  if (js && jsMax === undefined) throw new CheckInputError(t('drift: jensen_shannon needs max (e.g. jensen_shannon: {max: 0.1})'));
  const bins = (obj: Record<string, unknown> | undefined, where: string) => optionalInteger(obj, 'bins', where, 2, 1000) ?? 10;
  const normalized = optionalBoolean(w, 'normalized', 'drift.wasserstein');
  return {
    spec,
    t: {
      alpha, psiMax, psiBins: bins(psi, 'drift.psi'), jsMax, jsBins: bins(js, 'drift.jensen_shannon'),
      wassersteinMax: optionalNumber(w, 'max', 'drift.wasserstein'), wassersteinNormalized: normalized === true,
      wassersteinReport: w !== undefined,
      linfMax, alternative: alternative as Alternative,
    },
  };
}

type ColumnReport = Record<string, unknown> & { drifted: boolean; failed: string[]; severity: number; tested: boolean };

function ratioSeverity(value: number, max: number): number {
  if (max > 0) return value / max;
  return value > 0 ? Infinity : 0;
}

function ksSeverity(p: number, alpha: number): number {
  return Math.log10(Math.max(p, 1e-300)) / Math.log10(alpha);
}

function countInfinite(sorted: Float64Array): number {
  let n = 0;
  for (let k = 0; k < sorted.length && sorted[k] === -Infinity; k++) n++;
  for (let k = sorted.length - 1; k >= 0 && sorted[k] === Infinity; k--) n++;
  return n;
}

function countMissing(col: Column): number {
  let n = 0;
  if (col.kind === 'number') { for (let i = 0; i < col.values.length; i++) if (col.values[i] !== col.values[i]) n++; } else { for (const v of col.values) if (v === null) n++; }
  return n;
}

function compareColumn(name: string, refCol: Column, curCol: Column, th: Thresholds, refRows: number, curRows: number): ColumnReport {
  const failed: string[] = [];
  let severity = 0;
  const flag = (test: string, s: number) => { failed.push(test); severity = Math.max(severity, s); };

  const refMissing = countMissing(refCol), curMissing = countMissing(curCol);
  const refEmpty = refMissing === refRows, curEmpty = curMissing === curRows;
  const numeric = refCol.kind === 'number' && curCol.kind === 'number';
  const categorical = (refCol.kind === 'string' || refEmpty) && (curCol.kind === 'string' || curEmpty) && !numeric;

  if (numeric) {
    // ±inf are values here (the statistics rank them as the extremes, see above); a column that starts producing
    // them where the reference has none has changed, whatever the statistics say.
    const ref = sortedValues(refCol.values), cur = sortedValues(curCol.values);
    const refInfinite = countInfinite(ref), curInfinite = countInfinite(cur);
    const base = {
      kind: 'numeric', n_reference: ref.length, n_eval: cur.length,
      missing_rate_reference: refRows ? refMissing / refRows : 0, missing_rate_eval: curRows ? curMissing / curRows : 0,
      ...(refInfinite || curInfinite ? { infinite_reference: refInfinite, infinite_eval: curInfinite } : {}),
    };
    if (curInfinite > 0 && refInfinite === 0) flag('infinite', 1);
    if (ref.length === 0 && cur.length === 0) return { ...base, drifted: failed.length > 0, failed, severity, tested: failed.length > 0, note: t('no values in either data set') };
    if (ref.length === 0 || cur.length === 0) {
      return { ...base, drifted: true, failed: [...failed, 'missing'], severity: Infinity, tested: true, note: ref.length === 0 ? t('no values in the reference data') : t('no values in the eval data') };
    }
    const d = numericDrift(ref, cur, { psiBins: th.psiBins, jsBins: th.jsBins, alternative: th.alternative });
    const out: Record<string, unknown> = { ...base };
    const numericTest = th.alpha !== undefined || th.psiMax !== undefined || th.wassersteinReport || th.jsMax !== undefined;
    if (!numericTest) return { ...out, drifted: false, failed, severity, tested: false, note: t('numeric column: linf applies to categorical columns; set ks, psi, wasserstein or jensen_shannon to test it') };
    if (th.alpha !== undefined) {
      Object.assign(out, { ks_statistic: d.ks_statistic, ks_p_value: d.ks_p_value, ks_method: d.ks_method });
      if (th.alternative !== 'two-sided') Object.assign(out, { ks_alternative: th.alternative, ks_d_plus: d.ks_d_plus, ks_d_minus: d.ks_d_minus });
      if (d.ks_p_value < th.alpha) flag('ks', ksSeverity(d.ks_p_value, th.alpha));
    }
    if (th.psiMax !== undefined) {
      Object.assign(out, { psi: d.psi, psi_bins: d.psi_bins });
      if (d.psi > th.psiMax) flag('psi', ratioSeverity(d.psi, th.psiMax));
    }
    if (th.wassersteinReport) {
      Object.assign(out, { wasserstein: d.wasserstein, wasserstein_normalized: d.wasserstein_normalized });
      const w = th.wassersteinNormalized ? d.wasserstein_normalized : d.wasserstein;
      if (th.wassersteinMax !== undefined && w > th.wassersteinMax) flag('wasserstein', ratioSeverity(w, th.wassersteinMax));
    }
    if (th.jsMax !== undefined) {
      Object.assign(out, { jensen_shannon: d.jensen_shannon, jensen_shannon_bins: d.jensen_shannon_bins });
      if (d.jensen_shannon > th.jsMax) flag('jensen_shannon', ratioSeverity(d.jensen_shannon, th.jsMax));
    }
    return { ...out, drifted: failed.length > 0, failed, severity, tested: true };
  }

  if (categorical) {
    const asStrings = (col: Column): ArrayLike<string | null> => (col.kind === 'string' ? col.values : new Array<string | null>(col.values.length).fill(null));
    const d = categoricalDrift(asStrings(refCol), asStrings(curCol));
    const out: Record<string, unknown> = { kind: 'categorical', n_reference: refRows, n_eval: curRows, categories: d.categories };
    if (d.new_categories.length > 0) out.new_categories = d.new_categories;
    let tested = false;
    if (th.psiMax !== undefined) {
      tested = true;
      out.psi = d.psi;
      if (d.psi > th.psiMax) flag('psi', ratioSeverity(d.psi, th.psiMax));
    }
    if (th.jsMax !== undefined) {
      tested = true;
      out.jensen_shannon = d.jensen_shannon;
      if (d.jensen_shannon > th.jsMax) flag('jensen_shannon', ratioSeverity(d.jensen_shannon, th.jsMax));
    }
    if (th.linfMax !== undefined) {
      tested = true;
      out.linf = d.linf;
      if (d.linf > th.linfMax) flag('linf', ratioSeverity(d.linf, th.linfMax));
    }
    if (!tested) out.note = t('categorical column: KS and Wasserstein do not apply; set psi, jensen_shannon or linf to test it');
    return { ...out, drifted: failed.length > 0, failed, severity, tested };
  }

  // numeric on one side, text on the other
  const textSide = refCol.kind === 'string' ? 'reference' : 'eval';
  const textCol = (refCol.kind === 'string' ? refCol : curCol) as Extract<Column, { kind: 'string' }>;
  const example = textCol.values.find(v => v !== null);
  return {
    kind: 'type_changed', reference_type: refCol.kind, eval_type: curCol.kind,
    note: textSide === 'reference'
      ? (example !== undefined ? t('numeric in one data set, text in the reference data (e.g. "{0}")', example) : t('numeric in one data set, text in the reference data'))
      : (example !== undefined ? t('numeric in one data set, text in the eval data (e.g. "{0}")', example) : t('numeric in one data set, text in the eval data')),
    drifted: true, failed: ['type'], severity: Infinity, tested: true,
  };
}

function describeFailure(name: string, r: ColumnReport, th: Thresholds): string {
  const parts: string[] = [];
  for (const f of r.failed) {
    if (f === 'ks') parts.push(`KS p ${fmt(r.ks_p_value as number)} < ${th.alpha}`);
    else if (f === 'psi') parts.push(`PSI ${fmt(r.psi as number)} > ${th.psiMax}`);
    else if (f === 'wasserstein') parts.push(th.wassersteinNormalized ? t('Wasserstein (normalized) {0} > {1}', fmt(r.wasserstein_normalized as number), String(th.wassersteinMax)) : `Wasserstein ${fmt(r.wasserstein as number)} > ${th.wassersteinMax}`);
    else if (f === 'jensen_shannon') parts.push(`Jensen–Shannon ${fmt(r.jensen_shannon as number)} > ${th.jsMax}`);
    else if (f === 'infinite') parts.push(t('{0} infinite value(s) in the eval data, none in the reference', r.infinite_eval as number));
    else if (f === 'linf') parts.push(`L∞ ${fmt(r.linf as number)} > ${th.linfMax}`);
    else parts.push(String(r.note));
  }
  return `${name} (${parts.join(', ')})`;
}

/** The thresholds as `KS p ≥ 0.05, PSI ≤ 0.2, …` (empty when none are set). */
function thresholdList(th: Thresholds): string {
  const parts: string[] = [];
  if (th.alpha !== undefined) parts.push(th.alternative === 'two-sided' ? `KS p ≥ ${th.alpha}` : `KS (${th.alternative}) p ≥ ${th.alpha}`);
  if (th.psiMax !== undefined) parts.push(`PSI ≤ ${th.psiMax}`);
  if (th.wassersteinMax !== undefined) parts.push(th.wassersteinNormalized ? t('Wasserstein (normalized) ≤ {0}', th.wassersteinMax) : `Wasserstein ≤ ${th.wassersteinMax}`);
  if (th.jsMax !== undefined) parts.push(`Jensen–Shannon ≤ ${th.jsMax}`);
  if (th.linfMax !== undefined) parts.push(`L∞ ≤ ${th.linfMax}`);
  return parts.join(', ');
}

function title(th: Thresholds | undefined): string {
  const list = th ? thresholdList(th) : '';
  return list ? t('drift: {0}', list) : 'drift';
}

/** Compares ctx.reference with ctx.eval column by column (see the module comment). Never throws. */
export async function driftCheck(ctx: GateContext, spec: DriftSpec | Record<string, unknown>, id: string): Promise<CheckResult> {
  let parsed: { spec: Record<string, unknown>; t: Thresholds } | undefined;
  try { parsed = parseSpec(spec); } catch { /* reported by the body */ }
  return runCheck('drift', id, title(parsed?.t), spec, () => {
    const { spec: s, t: th } = parseSpec(spec);
    const reference = ctx.reference;
    if (!reference) throw new CheckInputError(t('drift: no reference data; set the reference data set in the policy (e.g. the training data) to compare the evaluation data with'));
    const current = ctx.eval;
    const columns = selectColumns('drift', s.columns, [{ ds: reference, role: 'reference' }, { ds: current, role: 'evaluation' }], () => {
      const inRef = new Set(reference.names);
      return current.names.filter(n => inRef.has(n) && n !== ctx.label);
    });
    if (columns.length === 0) {
      throw new CheckInputError(ctx.label === undefined
        ? t('drift: no column to compare: the reference has {0} and the evaluation data {1}', nameList(reference.names), nameList(current.names))
        : t('drift: no column to compare: the reference has {0} and the evaluation data {1} (the label "{2}" is left out)', nameList(reference.names), nameList(current.names), ctx.label));
    }
    const perColumn: Record<string, ColumnReport> = {};
    for (const name of columns) {
      perColumn[name] = compareColumn(name, reference.columns.get(name) as Column, current.columns.get(name) as Column, th, reference.rows, current.rows);
    }
    const drifted = columns.filter(n => perColumn[n].drifted).sort((a, b) => perColumn[b].severity - perColumn[a].severity);
    const untested = columns.filter(n => !perColumn[n].tested);
    const measuredColumns: Record<string, unknown> = {};
    for (const n of columns) {
      const { tested: _t, severity, ...rest } = perColumn[n];
      measuredColumns[n] = rest.drifted ? { ...rest, severity: Number.isFinite(severity) ? severity : null } : rest;
    }
    const measured = {
      columns_compared: columns.length, columns_drifted: drifted.length, rows_reference: reference.rows, rows_eval: current.rows,
      drifted_columns: drifted, columns: measuredColumns,
    };
    const evidence = drifted.slice(0, 50).map(n => ({ column: n, ...(measuredColumns[n] as Record<string, unknown>) }));
    const withBins = th.psiMax !== undefined;
    if (drifted.length > 0) {
      const worst = drifted.slice(0, 3).map(n => describeFailure(n, perColumn[n], th)).join('; ');
      return {
        status: 'fail', measured, evidence,
        message: withBins
          ? t('{0} of {1} columns drifted from the reference ({2} rows) to the evaluation data ({3} rows), most severe: {4} (PSI over {5} reference-quantile bins, empty bins floored at ε = {6}) — check whether the evaluation data come from the population the model was trained on, or retrain on recent data.',
            drifted.length, columns.length, reference.rows, current.rows, worst, th.psiBins, PSI_EPSILON)
          : t('{0} of {1} columns drifted from the reference ({2} rows) to the evaluation data ({3} rows), most severe: {4} — check whether the evaluation data come from the population the model was trained on, or retrain on recent data.',
            drifted.length, columns.length, reference.rows, current.rows, worst),
      };
    }
    if (untested.length > 0) {
      return {
        status: 'warn', measured, evidence: untested.map(n => ({ column: n, note: perColumn[n].note })),
        message: th.linfMax !== undefined && th.alpha === undefined && th.psiMax === undefined && !th.wassersteinReport && th.jsMax === undefined
          ? t('No drift in the {0} tested columns, but {1} had no applicable test ({2}): linf applies to categorical columns; numeric columns need ks, psi, wasserstein or jensen_shannon.', columns.length - untested.length, untested.length, nameList(untested, 5))
          : t('No drift in the {0} tested columns, but {1} had no applicable test ({2}): categorical columns need psi, jensen_shannon or linf.', columns.length - untested.length, untested.length, nameList(untested, 5)),
      };
    }
    return {
      status: 'pass', measured,
      message: withBins
        ? t('No drift in {0} columns between the reference ({1} rows) and the evaluation data ({2} rows): {3} (PSI over {4} reference-quantile bins, empty bins floored at ε = {5}).',
          columns.length, reference.rows, current.rows, thresholdList(th), th.psiBins, PSI_EPSILON)
        : t('No drift in {0} columns between the reference ({1} rows) and the evaluation data ({2} rows): {3}.', columns.length, reference.rows, current.rows, thresholdList(th)),
    };
  });
}
