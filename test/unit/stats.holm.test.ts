import * as assert from 'assert';
import { fUpperTail, holm, oneWayAnova } from '../../src/core/stats';
import { published } from './published';

describe('stats: Holm–Bonferroni correction against published values', () => {
  // statsmodels/stats/tests/test_multi.py: `pval0` and the "Holm" column (index 2) of `res_multtest1`, R multtest's
  // mt.rawp2adjp, which statsmodels' multipletests(pval0, method='h') matches to 15 decimals. The rows of
  // res_multtest1 are sorted by p-value; here they are listed in pval0's order.
  const PVAL0 = [0.838541367553, 0.642193923795, 0.680845947633, 0.967833824309, 0.71626938238, 0.177096952723,
    5.23656777208e-005, 0.0202732688798, 0.00028140506198, 0.0149877310796];
  const HOLM = ['1', '1', '1', '1', '1', '1', '5.2365677720800005e-04', '1.4191288215860001e-01', '2.5326455578199999e-03', '1.1990184863680001e-01'];

  it('matches statsmodels test_multi.py res_multtest1 (Holm column, from R multtest)', () => {
    const r = holm(PVAL0);
    r.adjusted.forEach((p, i) => published(p, HOLM[i], `p[${i}]`));
    assert.deepStrictEqual(r.reject, [false, false, false, false, false, false, true, false, true, false]);
    assert.strictEqual(r.m, 10);
  });

  it('a small case by hand: the step-down keeps adjusted p-values monotone', () => {
    // By hand: sorted 0.01, 0.02, 0.03, 0.04 with m = 4 → 0.04, 0.06, 0.06 (max with the previous), 0.06.
    assert.deepStrictEqual(holm([0.03, 0.01, 0.04, 0.02]).adjusted.map(x => +x.toFixed(12)), [0.06, 0.04, 0.06, 0.06]);
    // Capped at 1; one test is left alone.
    assert.deepStrictEqual(holm([0.5, 0.9]).adjusted, [1, 1]);
    assert.deepStrictEqual(holm([0.3]).adjusted, [0.3]);
    assert.deepStrictEqual(holm([]).adjusted, []);
  });

  it('leaves NaN out of the family (R p.adjust), refuses p-values outside [0, 1] and a bad alpha', () => {
    const r = holm([0.01, NaN, 0.02]);
    assert.ok(Number.isNaN(r.adjusted[1]));
    assert.deepStrictEqual([r.adjusted[0], r.adjusted[2]], [0.02, 0.02]);
    assert.strictEqual(r.m, 2);
    assert.throws(() => holm([1.5]), RangeError);
    assert.throws(() => holm([-0.1]), RangeError);
    assert.throws(() => holm([0.1], 0), RangeError);
  });
});

describe('stats: one-way ANOVA against published values', () => {
  it('matches the scipy.stats.f_oneway docstring example (mussel shells)', () => {
    const tillamook = [0.0571, 0.0813, 0.0831, 0.0976, 0.0817, 0.0859, 0.0735, 0.0659, 0.0923, 0.0836];
    const newport = [0.0873, 0.0662, 0.0672, 0.0819, 0.0749, 0.0649, 0.0835, 0.0725];
    const petersburg = [0.0974, 0.1352, 0.0817, 0.1016, 0.0968, 0.1064, 0.105];
    const magadan = [0.1033, 0.0915, 0.0781, 0.0685, 0.0677, 0.0697, 0.0764, 0.0689];
    const tvarminne = [0.0703, 0.1026, 0.0956, 0.0973, 0.1039, 0.1045];
    // → F_onewayResult(statistic=7.121019471642447, pvalue=0.0002812242314534544) (the docstring's output; scipy
    // 1.17.1 in .venv prints the same two numbers for these groups)
    const r = oneWayAnova([tillamook, newport, petersburg, magadan, tvarminne]);
    published(r.statistic, '7.121019471642447', 'F');
    published(r.pValue, '0.0002812242314534544', 'p');
    assert.strictEqual(r.dfBetween, 4);
    assert.strictEqual(r.dfWithin, 34);
    // η² follows from F: F·dfb / (F·dfb + dfw).
    published(r.etaSquared, String((7.121019471642447 * 4) / (7.121019471642447 * 4 + 34)), 'eta²');
  });

  it('keeps the digits of a tiny p-value (the upper tail is not 1 − cdf)', () => {
    // scipy 1.17.1 (.venv): f_oneway(*groups) → statistic=72266.6666667324, pvalue=3.2738820323264585e-25, and
    // f.sf(200, 2, 100) = 1.1258999068426271e-35, f.sf(0.5, 3, 7) = 0.6940363875688137, f.sf(3, 1, 1) = 0.33333333333333337.
    const r = oneWayAnova([[1, 1.1, 0.9, 1.05, 0.95], [10, 10.1, 9.9, 10.05, 9.95], [20, 20.1, 19.9, 20.05, 19.95]]);
    published(r.statistic, '72266.6666667324', 'F');
    assert.ok(Math.abs(r.pValue / 3.2738820323264585e-25 - 1) < 1e-9, `p ${r.pValue}`);
    assert.ok(Math.abs(fUpperTail(200, 2, 100) / 1.1258999068426271e-35 - 1) < 1e-12, `sf ${fUpperTail(200, 2, 100)}`);
    published(fUpperTail(0.5, 3, 7), '0.6940363875688137', 'sf(0.5; 3, 7)');
    published(fUpperTail(3, 1, 1), '0.33333333333333337', 'sf(3; 1, 1)');
    assert.strictEqual(fUpperTail(0, 2, 5), 1);
  });

  it('degenerate inputs: constant groups, one group, equal values', () => {
    assert.strictEqual(oneWayAnova([[1, 1], [2, 2]]).statistic, Infinity);
    // scipy: f_oneway([1, 1], [2, 2]) → (inf, 0.0); f_oneway([3, 3], [3, 3]) → (nan, nan).
    assert.strictEqual(oneWayAnova([[1, 1], [2, 2]]).pValue, 0);
    assert.ok(Number.isNaN(oneWayAnova([[3, 3], [3, 3]]).pValue));
    assert.strictEqual(oneWayAnova([[1, 1], [2, 2]]).etaSquared, 1);
    assert.ok(Number.isNaN(oneWayAnova([[3, 3], [3, 3]]).statistic));
    assert.ok(Number.isNaN(oneWayAnova([[3, 3], [3, 3]]).etaSquared));
    assert.ok(Number.isNaN(oneWayAnova([[1, 2, 3]]).statistic));
    assert.strictEqual(oneWayAnova([[1, 2], [], [3, 4]]).k, 2);
    assert.throws(() => oneWayAnova([[1, NaN], [2, 3]]), RangeError);
  });
});
