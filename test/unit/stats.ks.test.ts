import * as assert from 'assert';
import { kolmogorovCdf, kolmogorovSf, ks2Samp, smirnovSf } from '../../src/core/stats';
import { linspace, published, rep } from './published';

const relClose = (actual: number, expected: number, rtol: number, what = '') =>
  assert.ok(Math.abs(actual - expected) <= rtol * Math.abs(expected), `${what} ${actual} ≠ ${expected} (rtol ${rtol})`);


// All expected values below come from scipy/stats/tests/test_stats.py::TestKSTwoSamples, where
// `_testOne(x1, x2, 'two-sided', expected_statistic, expected_prob)` asserts
// `stats.ks_2samp(x1, x2, 'two-sided', mode=mode)` with assert_array_almost_equal (decimal 6).
// The p-values are printed there with up to 16 digits; we hold ours to those digits (1e-12 relative).
describe('stats: two-sample KS against scipy TestKSTwoSamples (two-sided)', () => {
  it('testSmall: [0] vs [1] → D = 1, p = 1', () => {
    const r = ks2Samp([0], [1]);
    assert.strictEqual(r.statistic, 1);
    assert.strictEqual(r.pValue, 1);
    assert.strictEqual(ks2Samp([1], [0]).statistic, 1);
  });

  it('testTwoVsThree: D = 1/3, p = 1.0 and D = 2/3, p = 0.6', () => {
    const r1 = ks2Samp([1.01, 2.01], [1, 2, 3]);
    published(r1.statistic, String(1 / 3), 'D');
    published(r1.pValue, '1.0', 'p');
    const r2 = ks2Samp([0.99, 1.99], [1, 2, 3]);
    published(r2.statistic, String(2 / 3), 'D');
    published(r2.pValue, '0.6', 'p');
  });

  it('testTwoVsFour: D = 2/4, p = 14/15 and D = 3/4, p = 6/15', () => {
    const r1 = ks2Samp([1.01, 2.01], [1, 2, 3, 4]);
    assert.strictEqual(r1.statistic, 0.5);
    relClose(r1.pValue, 14 / 15, 1e-12, 'p');
    const r2 = ks2Samp([0.99, 1.99], [1, 2, 3, 4]);
    assert.strictEqual(r2.statistic, 0.75);
    relClose(r2.pValue, 6 / 15, 1e-12, 'p');
  });

  it('test100_100: D = 3/100, p = 0.9999999999962055; D = 2/100, p = 1.0', () => {
    const x100 = linspace(1, 100, 100);
    const r1 = ks2Samp(x100, x100.map(v => v + 2 + 0.1));
    published(r1.statistic, '0.03', 'D');
    published(r1.pValue, '0.9999999999962055', 'p');
    const r2 = ks2Samp(x100, x100.map(v => v + 2 - 0.1));
    published(r2.statistic, '0.02', 'D');
    published(r2.pValue, '1.0', 'p');
  });

  it('test100_110: D = 232/1100, p = 0.015739183865607353; D = 229/1100, p = 0.017803803861026313', () => {
    const x100 = linspace(1, 100, 100);
    const x110 = linspace(1, 100, 110);
    const r1 = ks2Samp(x100, x110.map(v => v + 20 + 0.1));
    relClose(r1.statistic, 232 / 1100, 1e-12, 'D');
    published(r1.pValue, '0.015739183865607353', 'p');
    const r2 = ks2Samp(x100, x110.map(v => v + 20 - 0.1));
    relClose(r2.statistic, 229 / 1100, 1e-12, 'D');
    published(r2.pValue, '0.017803803861026313', 'p');
    assert.strictEqual(r2.mode, 'exact');
  });

  it('testRepeatedValues: D = 5/16, p = 0.4262934613454952; D = 190/21/26, p = 0.0919245790168125', () => {
    const x2233 = [...rep(2, 3), ...rep(3, 4), ...rep(5, 5), ...rep(6, 4)];
    const x3344 = x2233.map(v => v + 1);
    const x2356 = [...rep(2, 3), ...rep(3, 4), ...rep(5, 10), ...rep(6, 4)];
    const x3467 = [...rep(3, 10), ...rep(4, 2), ...rep(6, 10), ...rep(7, 4)];
    const r1 = ks2Samp(x2233, x3344);
    assert.strictEqual(r1.statistic, 5 / 16);
    published(r1.pValue, '0.4262934613454952', 'p');
    const r2 = ks2Samp(x2356, x3467);
    relClose(r2.statistic, 190 / 21 / 26, 1e-12, 'D');
    published(r2.pValue, '0.0919245790168125', 'p');
  });

  it('testEqualSizes: [1, 2, 3] vs shifted copies → D = 1/3, p = 1.0', () => {
    for (const shift of [1, 0.5, -0.5]) {
      const r = ks2Samp([1, 2, 3], [1, 2, 3].map(v => v + shift));
      published(r.statistic, String(1 / 3), 'D');
      published(r.pValue, '1.0', 'p');
    }
  });

  it('testLarge (10000 vs 110, exact): D = 55275/110000, p ≈ 0', () => {
    const n1 = 10000, n2 = 110;
    const delta = 1.0 / n1 / n2 / 2 / 2;
    const x = linspace(1, 200, n1).map(v => v - delta);
    const y = linspace(2, 100, n2);
    const r = ks2Samp(x, y);
    assert.strictEqual(r.mode, 'exact');
    relClose(r.statistic, 55275.0 / (n1 * 11), 1e-12, 'D');
    // scipy publishes two-sided p = 4.218847493575595e-15 with decimal=6, i.e. |p − 4.2e-15| < 1.5e-6:
    assert.ok(Math.abs(r.pValue - 4.218847493575595e-15) < 1.5e-6);
    // that printed value is float noise (1 − (1 − p)); the same scipy test publishes the one-sided 'less' p for the same
    // D as 3.1317328311518713e-26, and the two-sided p of so large a D is twice the one-sided one (the two one-sided
    // events are equally likely by reflection and almost never both occur), which our tail-summing recursion keeps:
    relClose(r.pValue, 2 * 3.1317328311518713e-26, 1e-9, 'p');
  });

  it('testLargeBoth (10000 vs 11000): asymptotic 0.9990660108966576 (auto), exact 0.9990456491488628', () => {
    const n1 = 10000, n2 = 11000;
    const delta = 1.0 / n1 / n2 / 2 / 2;
    const x = linspace(1, 200, n1).map(v => v - delta);
    const y = linspace(2, 200, n2);
    const auto = ks2Samp(x, y);
    assert.strictEqual(auto.mode, 'asymp'); // max(n1, n2) > 10000
    relClose(auto.statistic, 563.0 / (n1 * 11), 1e-12, 'D');
    published(auto.pValue, '0.9990660108966576', 'asymp p');
    published(ks2Samp(x, y, { mode: 'asymp' }).pValue, '0.9990660108966576', 'asymp p');
    published(ks2Samp(x, y, { mode: 'exact' }).pValue, '0.9990456491488628', 'exact p');
  });

  it('testMiddlingBoth / testMediumBoth: D = 2000/n1/n2 and 6600/n1/n2, p = 1.0 (exact and asymptotic)', () => {
    for (const [n1, n2, h] of [[500, 600, 2000], [1000, 1100, 6600]]) {
      const delta = 1.0 / n1 / n2 / 2 / 2;
      const x = linspace(1, 200, n1).map(v => v - delta);
      const y = linspace(2, 200, n2);
      for (const mode of ['auto', 'asymp'] as const) {
        const r = ks2Samp(x, y, { mode });
        relClose(r.statistic, h / n1 / n2, 1e-9, 'D');
        published(r.pValue, '1.0', `${mode} p`);
      }
    }
  });

  it('statistic location and sign (test_location_sign)', () => {
    // TestKSTwoSamples::test_location_sign: x = np.arange(10.); y = x.copy(); x[6] = 5.9 → statistic 0.1,
    // statistic_location 5.9, statistic_sign +1; x[6] = 6.1 → location 6.0, sign −1
    const y = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
    let x = [...y]; x[6] = 5.9;
    let r = ks2Samp(x, y);
    relClose(r.statistic, 0.1, 1e-12); assert.strictEqual(r.location, 5.9); assert.strictEqual(r.sign, 1);
    x = [...y]; x[6] = 6.1;
    r = ks2Samp(x, y);
    relClose(r.statistic, 0.1, 1e-12); assert.strictEqual(r.location, 6); assert.strictEqual(r.sign, -1);
  });

  it('argument checking (test_argument_checking) and properties', () => {
    // test_argument_checking: ks_2samp([], [1]), ([1], []), ([], []) raise ValueError
    assert.throws(() => ks2Samp([], [1]), RangeError);
    assert.throws(() => ks2Samp([1], []), RangeError);
    assert.throws(() => ks2Samp([1, NaN], [1]), RangeError);
    // symmetry, identical samples, p in [0, 1]
    const a = [0.3, 1.2, 2.2, 0.7, 1.9, 3.1, 0.1], b = [1.5, 2.8, 0.9, 3.3, 2.4];
    const ab = ks2Samp(a, b), ba = ks2Samp(b, a);
    assert.strictEqual(ab.statistic, ba.statistic);
    relClose(ab.pValue, ba.pValue, 1e-12);
    assert.strictEqual(ab.sign, -ba.sign);
    const same = ks2Samp(a, [...a].reverse());
    assert.strictEqual(same.statistic, 0);
    assert.strictEqual(same.pValue, 1);
  });
});

describe('stats: one-sample Kolmogorov distribution (scipy TestKSTwo)', () => {
  it('matches Simard & L\'Ecuyer (2011) Table 1 (scipy test_simard_lecuyer_table1, rtol 1e-5)', () => {
    // scipy/stats/tests/test_distributions.py::TestKSTwo::test_simard_lecuyer_table1:
    // x = ratios·ln(2)·√(π/2/n); stats.kstwo.cdf(x, n) == expected[idx] (assert_allclose rtol=1e-05)
    const ns = [10, 50, 100, 200, 500, 1000];
    const ratios = [1 / 4, 1 / 3, 1 / 2, 1, 2, 3];
    const expected = [
      [1.92155292e-08, 5.72933228e-05, 0.0215233226, 0.631566589, 0.997685592, 0.999999942],
      [2.28096224e-09, 1.99142563e-05, 0.0142617934, 0.595345542, 0.996177701, 0.999998662],
      [1.00201886e-09, 1.32673079e-05, 0.0124608594, 0.58616322, 0.995866877, 0.99999824],
      [4.93313022e-10, 9.52658029e-06, 0.0112123138, 0.579486872, 0.995661824, 0.999997964],
      [2.37049293e-10, 6.85002458e-06, 0.0101309221, 0.573427224, 0.995491207, 0.99999775],
      [1.56990874e-10, 5.71738276e-06, 0.0095972543, 0.570322692, 0.995409545, 0.999997657],
    ];
    ns.forEach((n, i) => ratios.forEach((ratio, j) => {
      const x = ratio * Math.log(2) * Math.sqrt(Math.PI / 2 / n);
      relClose(kolmogorovCdf(x, n), expected[i][j], 1e-5, `K_${n}(${x})`);
      relClose(kolmogorovSf(x, n), 1 - expected[i][j], 1e-5 * Math.max(1, expected[i][j] / (1 - expected[i][j])), `sf ${n}`);
    }));
  });

  it('closed forms of scipy test_cdf / test_sf: 0 at 1/2n, n!/nⁿ at 1/n, 1 − 2·ksone.sf(½) at ½, 1 − 2/nⁿ at 1 − 1/n', () => {
    // TestKSTwo::test_cdf: x = [0, 0.5/n, 1/n, 0.5, 1 − 1/n, 1], expected = [0, 0, n!/nⁿ, 1 − 2·ksone.sf(0.5, n),
    // max(1 − 2(1/n)ⁿ, 0), 1]
    for (const n of [1, 2, 3, 10, 100, 1000]) {
      let fact = 1;
      for (let i = 1; i <= n; i++) fact *= i / n;
      assert.strictEqual(kolmogorovCdf(0, n), 0);
      assert.strictEqual(kolmogorovCdf(0.5 / n, n), 0);
      relClose(kolmogorovCdf(1 / n, n) + 1e-300, fact + 1e-300, 1e-9, `n!/n^n, n = ${n}`);
      if (n > 2) relClose(kolmogorovSf(0.5, n), 2 * smirnovSf(n, 0.5), 1e-12, `at 0.5, n = ${n}`);
      if (n > 2) relClose(kolmogorovSf(1 - 1 / n, n) + 1e-300, Math.min(2 * (1 / n) ** n, 1) + 1e-300, 1e-9, `at 1 − 1/n, n = ${n}`);
      assert.strictEqual(kolmogorovCdf(1, n), 1);
      assert.strictEqual(kolmogorovSf(1, n), 0);
    }
  });

  it('one-sided Smirnov: n = 1 closed form P(D₁⁺ ≥ x) = 1 − x (hand-computed)', () => {
    for (const x of [0.1, 0.25, 0.5, 0.9]) relClose(smirnovSf(1, x), 1 - x, 1e-12);
  });
});
