import * as assert from 'assert';
import {
  categoricalDrift, driftCheck, ksSorted, numericDrift, PSI_EPSILON, wassersteinSorted,
} from '../../src/core/checks/drift';
import { jensenShannonDistance, ks2Samp, psi, wassersteinDistance } from '../../src/core/stats';
import type { Column, Dataset, GateContext } from '../../src/core/checks/types';
import { linspace, rep } from './published';

/** |actual − published| ≤ ½ unit of the last printed digit (floored at 1e-12 relative). */
function published(actual: number, text: string, what = ''): void {
  const value = Number(text);
  const decimals = (text.split('.')[1] ?? '').length;
  const tol = Math.max(decimals ? 0.5 * 10 ** -decimals : 0, 1e-12 * Math.abs(value));
  assert.ok(Math.abs(actual - value) <= tol, `${what} ${actual} ≠ published ${text} (±${tol})`);
}
const close = (a: number, b: number, rtol = 1e-12, what = '') =>
  assert.ok(Math.abs(a - b) <= rtol * Math.max(Math.abs(b), 1e-300) || a === b, `${what} ${a} ≠ ${b}`);

const sorted = (v: number[]) => Float64Array.from(v).sort();

function dataset(file: string, cols: Record<string, ArrayLike<number> | Array<string | null>>): Dataset {
  const names = Object.keys(cols);
  const columns = new Map<string, Column>();
  for (const n of names) {
    const v = cols[n];
    columns.set(n, Array.isArray(v) && v.some(x => typeof x !== 'number')
      ? { kind: 'string', values: v as Array<string | null> }
      : { kind: 'number', values: Float64Array.from(v as ArrayLike<number>) });
  }
  return { file, rows: cols[names[0]].length, names, columns };
}
function ctxOf(reference: Dataset | undefined, evalDs: Dataset): GateContext {
  return { root: '.', eval: evalDs, reference, label: 'label', features: [] };
}
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296);
}
/** Approximately normal (sum of 4 uniforms), rounded to `digits` decimals to create ties. */
function sample(n: number, shift: number, seed: number, digits = 3): Float64Array {
  const r = rng(seed);
  const out = new Float64Array(n);
  const f = 10 ** digits;
  for (let i = 0; i < n; i++) out[i] = Math.round((r() + r() + r() + r() - 2 + shift) * f) / f;
  return out;
}

type Col = Record<string, number | string | boolean | string[] | null>;

// scipy/stats/tests/test_stats.py::TestKSTwoSamples asserts stats.ks_2samp(x1, x2) for these inputs
// (the same values test/unit/stats.ks.test.ts checks on ks2Samp; here through the sorted fast path of the check).
describe('checks: drift statistics against scipy', () => {
  it('KS test100_110: D = 232/1100, exact p = 0.015739183865607353', () => {
    const x100 = linspace(1, 100, 100), x110 = linspace(1, 100, 110);
    const r = ksSorted(sorted(x100), sorted(x110.map(v => v + 20 + 0.1)));
    close(r.statistic, 232 / 1100);
    published(r.pValue, '0.015739183865607353', 'p');
    assert.strictEqual(r.method, 'exact');
  });

  it('KS testRepeatedValues: D = 5/16, p = 0.4262934613454952 (ties)', () => {
    const x2233 = [...rep(2, 3), ...rep(3, 4), ...rep(5, 5), ...rep(6, 4)];
    const r = ksSorted(sorted(x2233), sorted(x2233.map(v => v + 1)));
    assert.strictEqual(r.statistic, 5 / 16);
    published(r.pValue, '0.4262934613454952', 'p');
  });

  it('KS testLargeBoth (10000 vs 11000): asymptotic p = 0.9990660108966576, as scipy method=auto', () => {
    const n1 = 10000, n2 = 11000;
    const delta = 1.0 / n1 / n2 / 2 / 2;
    const r = ksSorted(sorted(linspace(1, 200, n1).map(v => v - delta)), sorted(linspace(2, 200, n2)));
    close(r.statistic, 563.0 / (n1 * 11), 1e-12, 'D');
    published(r.pValue, '0.9990660108966576', 'p');
    assert.strictEqual(r.method, 'asymp');
  });

  it('KS: a statistic so large that the exact recursion is too costly uses the asymptotic p (≈ 0)', () => {
    const a = sample(10000, 0, 1), b = sample(10000, 5, 2);
    const r = ksSorted(Float64Array.from(a).sort(), Float64Array.from(b).sort());
    assert.strictEqual(r.statistic, 1);
    assert.strictEqual(r.method, 'asymp');
    assert.strictEqual(r.pValue, 0);
  });

  it('Wasserstein: scipy.stats.wasserstein_distance docstring, wasserstein_distance([0, 1, 3], [5, 6, 8]) → 5.0', () => {
    published(wassersteinSorted(sorted([0, 1, 3]), sorted([5, 6, 8])), '5.0');
    assert.strictEqual(wassersteinSorted(sorted([1, 2, 3]), sorted([3, 2, 1])), 0);
  });

  it('Jensen–Shannon base 2: scipy.spatial.distance.jensenshannon docstring values on category frequencies', () => {
    // jensenshannon([1.0, 0.0, 0.0], [0.0, 1.0, 0.0], 2.0) → 1.0  (all reference rows "a", all eval rows "b")
    published(categoricalDrift(['a', 'a'], ['b', 'b', 'b']).jensen_shannon, '1.0');
    // jensenshannon([1.0, 0.0], [0.5, 0.5]) → 0.46450140402245893 (natural log); in base 2 the divergence is
    // divided by ln 2, so the distance by √ln 2: 0.46450140402245893 / √ln 2 = 0.5579230452...
    close(categoricalDrift(['a', 'a'], ['a', 'b']).jensen_shannon, 0.46450140402245893 / Math.sqrt(Math.LN2), 1e-15);
  });

  it('PSI and histogram JS on reference-quantile bins (hand-computed)', () => {
    // reference 1..10, 5 bins: numpy-linear quantiles 2.8, 4.6, 6.4, 8.2 → 2 reference values per bin (0.2 each);
    // eval [1, 2, 2, 2, 3, 5, 6, 7, 9, 10] → 4, 1, 2, 1, 2 → PSI = 0.2·ln 2 + 0.1·ln 2 + 0.1·ln 2 = 0.4·ln 2
    const ref = sorted([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]), cur = sorted([1, 2, 2, 2, 3, 5, 6, 7, 9, 10]);
    const d = numericDrift(ref, cur, { psiBins: 5, jsBins: 5 });
    close(d.psi, 0.4 * Math.LN2, 1e-15, 'psi');
    assert.strictEqual(d.psi_bins, 5);
    // JS (base 2) of the shares [.2, .2, .2, .2, .2] and [.4, .1, .2, .1, .2]: m = [.3, .15, .2, .15, .2];
    // ½(KL(p‖m) + KL(q‖m)) = ½(.2 ln(2/3) + 2·.2 ln(4/3) + .4 ln(4/3) + 2·.1 ln(2/3)) nats
    const jsd = 0.5 * (0.2 * Math.log(2 / 3) + 0.4 * Math.log(4 / 3) + 0.4 * Math.log(4 / 3) + 0.2 * Math.log(2 / 3));
    close(d.jensen_shannon, Math.sqrt(jsd / Math.LN2), 1e-14, 'js');
    // categorical PSI: a/b 50/50 → 80/20: 0.3·ln 1.6 + 0.3·ln 2.5 = 0.3·ln 4
    const a50 = [...Array(50).fill('a'), ...Array(50).fill('b')], a80 = [...Array(80).fill('a'), ...Array(20).fill('b')];
    close(categoricalDrift(a50, a80).psi, 0.3 * Math.log(4), 1e-14, 'categorical psi');
    // an empty bin is floored at ε = 1e-4: all eval values in one of two categories
    const floored = categoricalDrift(['a', 'b'], ['a', 'a']).psi;
    close(floored, (1 - 0.5) * Math.log(1 / 0.5) + (PSI_EPSILON - 0.5) * Math.log(PSI_EPSILON / 0.5), 1e-14, 'ε');
  });

  it('the sorted fast paths equal src/core/stats (ks2Samp, psi, wassersteinDistance) on samples with ties', () => {
    for (const [n, m, shift] of [[300, 450, 0.1], [2000, 1500, 0], [12000, 9000, 0.05]] as const) {
      const a = sample(n, 0, n), b = sample(m, shift, m + 1, 2);
      const A = Array.from(a), B = Array.from(b);
      const d = numericDrift(Float64Array.from(a).sort(), Float64Array.from(b).sort(), { psiBins: 10, jsBins: 10 });
      const ks = ks2Samp(A, B);
      close(d.ks_statistic, ks.statistic, 1e-12, `D ${n}`);
      close(d.ks_p_value, ks.pValue, 1e-9, `p ${n}`);
      assert.strictEqual(d.ks_method, ks.mode);
      close(d.psi, psi(A, B, { bins: 10 }).psi, 1e-12, `psi ${n}`);
      close(d.wasserstein, wassersteinDistance(A, B), 1e-9, `wasserstein ${n}`);
      const r = psi(A, B, { bins: 10 });
      const refCounts = r.bins.map(x => x.reference), curCounts = r.bins.map(x => x.current);
      close(d.jensen_shannon, jensenShannonDistance(refCounts, curCounts, { base: 2 }), 1e-12, `js ${n}`);
    }
  });
});

describe('checks: drift check', () => {
  const spec = { columns: 'all' as const, ks: { alpha: 0.05 }, psi: { max: 0.2 }, wasserstein: { max: 0.3 }, jensen_shannon: { max: 0.1 } };

  it('passes when the eval data come from the same distribution; all columns but the label', async () => {
    const reference = dataset('ref.csv', { x: sample(2000, 0, 1), y: sample(2000, 0, 2), label: sample(2000, 0, 3) });
    const evalDs = dataset('eval.csv', { x: sample(1500, 0, 4), y: sample(1500, 0, 5), label: sample(1500, 3, 6) });
    const r = await driftCheck(ctxOf(reference, evalDs), spec, '7-drift');
    assert.strictEqual(r.status, 'pass', r.message);
    const cols = r.measured.columns as Record<string, Col>;
    assert.deepStrictEqual(Object.keys(cols), ['x', 'y']);
    for (const k of ['ks_statistic', 'ks_p_value', 'psi', 'wasserstein', 'jensen_shannon']) assert.strictEqual(typeof cols.x[k], 'number', k);
    assert.strictEqual(cols.x.ks_method, 'exact');
    assert.deepStrictEqual(r.threshold, spec);
    assert.match(r.message, /^No drift in 2 columns .* \(PSI over 10 reference-quantile bins, empty bins floored at ε = 0\.0001\)\.$/);
  });

  it('fails on a shifted column; evidence lists the drifted columns, most severe first', async () => {
    const reference = dataset('ref.csv', { x: sample(3000, 0, 1), y: sample(3000, 0, 2), z: sample(3000, 0, 3) });
    const evalDs = dataset('eval.csv', { x: sample(3000, 0, 4), y: sample(3000, 0.3, 5), z: sample(3000, 1.5, 6) });
    const r = await driftCheck(ctxOf(reference, evalDs), spec, '7-drift');
    assert.strictEqual(r.status, 'fail');
    assert.deepStrictEqual(r.measured.drifted_columns, ['z', 'y']);
    const ev = r.evidence as Col[];
    assert.deepStrictEqual(ev.map(e => e.column), ['z', 'y']);
    assert.ok((ev[0].failed as string[]).includes('psi'));
    assert.ok((ev[0].severity as number) > (ev[1].severity as number));
    assert.strictEqual((r.measured.columns as Record<string, Col>).x.drifted, false);
    assert.match(r.message, /^2 of 3 columns drifted .* most severe: z \(KS p .* < 0\.05, PSI [\d.]+ > 0\.2/);
  });

  it('categorical columns: Jensen–Shannon and PSI on frequencies, new categories; KS-only → warn', async () => {
    const reference = dataset('ref.csv', { c: [...Array(50).fill('a'), ...Array(50).fill('b')] });
    const evalDs = dataset('eval.csv', { c: [...Array(70).fill('a'), ...Array(20).fill('b'), ...Array(10).fill('c')] });
    const r = await driftCheck(ctxOf(reference, evalDs), { columns: ['c'], psi: { max: 0.1 }, jensen_shannon: { max: 0.5 } }, '8-drift');
    assert.strictEqual(r.status, 'fail');
    const c = (r.measured.columns as Record<string, Col>).c;
    assert.strictEqual(c.kind, 'categorical');
    assert.deepStrictEqual(c.new_categories, ['c']);
    assert.deepStrictEqual(c.failed, ['psi']);
    // 0.5/0.5/0 → 0.7/0.2/0.1, the empty reference share floored at 1e-4
    const expected = 0.2 * Math.log(0.7 / 0.5) + -0.3 * Math.log(0.2 / 0.5) + (0.1 - 1e-4) * Math.log(0.1 / 1e-4);
    close(c.psi as number, expected, 1e-12);
    const ksOnly = await driftCheck(ctxOf(reference, evalDs), { ks: { alpha: 0.05 } }, '8-drift');
    assert.strictEqual(ksOnly.status, 'warn');
    assert.match(ksOnly.message, /categorical columns need psi, jensen_shannon or linf/);
  });

  it('linf on categorical columns: the largest change of a category\'s share (scipy chebyshev of the frequencies)', async () => {
    const reference = dataset('ref.csv', { c: [...Array(50).fill('a'), ...Array(50).fill('b')], x: linspace(0, 1, 100) });
    const evalDs = dataset('eval.csv', { c: [...Array(70).fill('a'), ...Array(20).fill('b'), ...Array(10).fill('c')], x: linspace(0, 1, 100) });
    // shares 0.5/0.5/0 → 0.7/0.2/0.1: the largest change is b's 0.3
    const r = await driftCheck(ctxOf(reference, evalDs), { columns: ['c'], linf: { max: 0.25 } }, '8-drift');
    assert.strictEqual(r.status, 'fail');
    const c = (r.measured.columns as Record<string, Col>).c;
    close(c.linf as number, 0.3, 1e-12);
    assert.deepStrictEqual(c.failed, ['linf']);
    assert.match(r.message, /L∞ 0\.3 > 0\.25/);
    assert.strictEqual((await driftCheck(ctxOf(reference, evalDs), { columns: ['c'], linf: { max: 0.35 } }, '8-drift')).status, 'pass');
    // linf only: a numeric column has no applicable test → warn, saying what numeric columns need
    const numeric = await driftCheck(ctxOf(reference, evalDs), { linf: { max: 0.5 } }, '8-drift');
    assert.strictEqual(numeric.status, 'warn');
    assert.match(numeric.message, /numeric columns need ks, psi, wasserstein or jensen_shannon/);
    for (const bad of [{ linf: {} }, { linf: { max: 2 } }, { linf: { max: 0.1, bins: 3 } }]) {
      assert.strictEqual((await driftCheck(ctxOf(reference, evalDs), bad, '8-drift')).status, 'error', JSON.stringify(bad));
    }
  });

  it('ks.alternative: greater flags only an upward shift of the evaluation values (scipy ks_2samp(reference, eval, alternative))', async () => {
    const reference = dataset('ref.csv', { x: sample(300, 0, 1) });
    const up = dataset('eval.csv', { x: sample(300, 0.5, 2) });
    const spec = (alternative: string) => ({ ks: { alpha: 0.01, alternative } });
    const g = await driftCheck(ctxOf(reference, up), spec('greater'), '8-drift');
    assert.strictEqual(g.status, 'fail', g.message);
    const col = (g.measured.columns as Record<string, Col>).x;
    assert.strictEqual(col.ks_alternative, 'greater');
    assert.strictEqual(col.ks_statistic, col.ks_d_plus);
    assert.ok((col.ks_d_plus as number) > (col.ks_d_minus as number));
    const direct = ks2Samp(Array.from(sample(300, 0, 1)), Array.from(sample(300, 0.5, 2)), { alternative: 'greater' });
    close(col.ks_p_value as number, direct.pValue, 1e-12);
    assert.match(g.title, /KS \(greater\) p ≥ 0\.01/);
    assert.strictEqual((await driftCheck(ctxOf(reference, up), spec('less'), '8-drift')).status, 'pass');
    const bad = await driftCheck(ctxOf(reference, up), spec('larger'), '8-drift');
    assert.strictEqual(bad.status, 'error');
    assert.match(bad.message, /ks.alternative must be two-sided, less .* or greater/);
  });

  it('±Infinity in a numeric column are values: KS ranks them, PSI bins them at the ends, Wasserstein is ∞ when their shares differ', async () => {
    const base = Array.from(linspace(0, 1, 100));
    const reference = dataset('ref.csv', { x: base });
    const shifted = [...base.slice(0, 45), ...base.slice(55), ...rep(Infinity, 10)];
    const withInf = dataset('eval.csv', { x: shifted });
    const r = await driftCheck(ctxOf(reference, withInf), { ks: { alpha: 0.05 }, psi: { max: 0.1 }, wasserstein: { max: 1 } }, '8-drift');
    assert.strictEqual(r.status, 'fail', r.message);
    const col = (r.measured.columns as Record<string, Col>).x;
    assert.strictEqual(col.infinite_eval, 10);
    assert.strictEqual(col.infinite_reference, 0);
    // deciles 5 and 6 lose half their share (0.05·ln 2 each); the last, open-ended bin holds the +∞ too and doubles (0.1·ln 2)
    close(col.psi as number, 0.2 * Math.log(2), 1e-9);
    assert.strictEqual(col.wasserstein, Infinity);
    assert.ok((col.failed as string[]).includes('wasserstein'));
    // KS is rank-based: +∞ is simply the largest value, exactly as scipy.stats.ks_2samp
    close(col.ks_statistic as number, ks2Samp(base, shifted).statistic);
    // the same share of +∞ on both sides: they match each other, and W is the area over the finite range
    assert.strictEqual(wassersteinSorted(sorted([0, 1, Infinity]), sorted([0, 2, Infinity])), 1 / 3);
    assert.strictEqual(wassersteinSorted(sorted([-Infinity, 1]), sorted([-Infinity, 1])), 0);
    assert.strictEqual(wassersteinSorted(sorted([-Infinity, 1]), sorted([0, 1])), Infinity);
    // no NaN anywhere in a drift report of infinite values
    assert.ok(!JSON.stringify(numericDrift(sorted([1, 2, Infinity, -Infinity]), sorted([1, 3, 4]))).includes('NaN'));
    for (const v of Object.values(numericDrift(sorted([1, 2, Infinity, -Infinity]), sorted([1, 3, 4])))) assert.ok(!Number.isNaN(v), JSON.stringify(v));
  });

  it('a column that turned from numbers into text drifts; missing values are reported, not compared', async () => {
    const reference = dataset('ref.csv', { a: [1, 2, 3, 4], b: [1, NaN, 3, 4] });
    const evalDs = dataset('eval.csv', { a: ['1', '2', 'x', null], b: [1, 2, NaN, NaN] });
    const r = await driftCheck(ctxOf(reference, evalDs), { psi: { max: 10 } }, '9-drift');
    assert.strictEqual(r.status, 'fail');
    const cols = r.measured.columns as Record<string, Col>;
    assert.strictEqual(cols.a.kind, 'type_changed');
    assert.match(cols.a.note as string, /text in the eval data \(e\.g\. "1"\)/);
    assert.strictEqual(cols.b.missing_rate_reference, 0.25);
    assert.strictEqual(cols.b.missing_rate_eval, 0.5);
    assert.strictEqual(cols.b.n_eval, 2);
  });

  it('wasserstein normalized: the threshold applies to W / std(reference)', async () => {
    const reference = dataset('ref.csv', { big: Float64Array.from(sample(1000, 0, 1), v => v * 1000) });
    const evalDs = dataset('eval.csv', { big: Float64Array.from(sample(1000, 0.2, 2), v => v * 1000) });
    const raw = await driftCheck(ctxOf(reference, evalDs), { wasserstein: { max: 1 } }, '10-drift');
    const norm = await driftCheck(ctxOf(reference, evalDs), { wasserstein: { max: 1, normalized: true } }, '10-drift');
    assert.strictEqual(raw.status, 'fail');
    assert.strictEqual(norm.status, 'pass');
    const w = (norm.measured.columns as Record<string, Col>).big;
    assert.ok((w.wasserstein as number) > 100 && (w.wasserstein_normalized as number) < 1);
    const reportOnly = await driftCheck(ctxOf(reference, evalDs), { wasserstein: {} }, '10-drift');
    assert.strictEqual(reportOnly.status, 'pass');
  });

  it('errors: no reference, a column missing from one side (naming the available ones), bad options', async () => {
    const reference = dataset('ref.csv', { x: [1, 2, 3], label: [0, 1, 0] });
    const evalDs = dataset('eval.csv', { x: [1, 2, 3], w: [1, 2, 3], label: [0, 1, 0] });
    const noRef = await driftCheck(ctxOf(undefined, evalDs), spec, '11-drift');
    assert.match(noRef.message, /no reference data/);
    const missing = await driftCheck(ctxOf(reference, evalDs), { columns: ['x', 'w'], ks: { alpha: 0.05 } }, '11-drift');
    assert.strictEqual(missing.message, 'drift: column "w" is not in the reference data (ref.csv); its columns are "x", "label". Fix the name in `drift.columns`.');
    const none = await driftCheck(ctxOf(reference, evalDs), {}, '11-drift');
    assert.match(none.message, /set at least one of ks/);
    const alpha = await driftCheck(ctxOf(reference, evalDs), { ks: { alpha: 5 } }, '11-drift');
    assert.match(alpha.message, /ks\.alpha must be between 0 and 1/);
    const bins = await driftCheck(ctxOf(reference, evalDs), { psi: { max: 0.2, bins: 1 } }, '11-drift');
    assert.strictEqual(bins.message, '`drift.psi.bins` must be an integer from 2 to 1000, got 1.');
    const typo = await driftCheck(ctxOf(reference, evalDs), { kss: { alpha: 0.05 } }, '11-drift');
    assert.match(typo.message, /^drift: unknown option "kss"; the options are "columns", "ks", /);
    const scalar = await driftCheck(ctxOf(reference, evalDs), { psi: 0.2 }, '11-drift');
    assert.strictEqual(scalar.message, '`drift.psi` must be a mapping such as `psi: { max: 0.2 }`, got 0.2.');
    const text = await driftCheck(ctxOf(reference, evalDs), { psi: { max: '0.2' } }, '11-drift');
    assert.strictEqual(text.message, '`drift.psi.max` must be a number, got "0.2".');
    const flag = await driftCheck(ctxOf(reference, evalDs), { wasserstein: { normalized: 'yes' } }, '11-drift');
    assert.strictEqual(flag.message, '`drift.wasserstein.normalized` must be true or false, got "yes".');
    const columns = await driftCheck(ctxOf(reference, evalDs), { columns: 'x', ks: { alpha: 0.05 } }, '11-drift');
    assert.strictEqual(columns.message, '`drift.columns` must be `all` or a list of column names (e.g. [age, income]), got "x".');
    for (const r of [noRef, missing, none, alpha, bins, typo, scalar, text, flag, columns]) {
      assert.strictEqual(r.status, 'error');
      assert.deepStrictEqual(r.measured, {});
    }
  });

  it('100,000 rows × 20 columns through drift (timing printed, not asserted)', async () => {
    const n = 100000, k = 20;
    const refCols: Record<string, Float64Array> = {}, curCols: Record<string, Float64Array> = {};
    for (let j = 0; j < k; j++) {
      refCols[`f${j}`] = sample(n, 0, 100 + j, 4);
      curCols[`f${j}`] = sample(n, j === 3 ? 0.05 : 0, 200 + j, 4);
    }
    const t0 = performance.now();
    const r = await driftCheck(ctxOf(dataset('ref.csv', refCols), dataset('eval.csv', curCols)), spec, '12-drift');
    const ms = performance.now() - t0;
    const values = 2 * n * k;
    console.log(`      drift: ${n} rows × ${k} columns (reference + eval = ${values / 1e6}M values, KS + PSI + Wasserstein + JS) in ${ms.toFixed(0)} ms = ${(values / ms / 1000).toFixed(1)}M values/s`);
    assert.ok((r.measured.drifted_columns as string[]).includes('f3'));
  });
});
