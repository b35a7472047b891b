import * as assert from 'assert';
import { ks2Samp, studentTTest, welchTTest } from '../../src/core/stats';
import { linspace, published, rep } from './published';


// Inputs of scipy's Test_ttest_CI: `rng = np.random.default_rng(3810954496107292580); x = rng.random(11);
// y = rng.random(13)`, regenerated with numpy (PCG64 is stable across versions) and printed with repr.
const CI_X = [0.8823632920701925, 0.9731874438100194, 0.4549261967053305, 0.9789333529742129, 0.06066770089265294,
  0.4401336579468357, 0.5580601777127007, 0.40151434071728487, 0.1445331532340064, 0.25860601166201114,
  0.20202161806003072];
const CI_Y = [0.9345527735365652, 0.4268060306363982, 0.49751939110119126, 0.1415284608415639, 0.7114349984808946,
  0.776696668768975, 0.2050757842825015, 0.7870277154949904, 0.9469185543350778, 0.32464958391511844,
  0.38735820013889455, 0.3518746794712231, 0.21731810804129814];

// statsmodels/stats/tests/test_tost.py `raw_clinic`: clinic[:15, 2] (var1, group 1) and clinic[15:, 2] (group 2),
// clinic[:15, 3] / clinic[15:, 3] (var2).
const VAR1_G1 = [2.84, 2.51, 2.41, 2.95, 3.14, 3.79, 4.14, 3.85, 3.02, 3.45, 5.37, 3.81, 4.19, 3.16, 3.84];
const VAR1_G2 = [2.60, 2.82, 2.18, 3.46, 4.01, 3.04, 3.47, 4.06, 2.91, 3.59, 4.51, 3.16, 3.86, 3.31, 3.02];
const VAR2_G1 = [4.00, 3.26, 4.14, 3.42, 3.25, 4.34, 4.97, 4.31, 3.11, 3.41, 5.02, 4.21, 4.59, 5.30, 4.32];
const VAR2_G2 = [3.76, 3.66, 3.65, 3.60, 3.48, 2.87, 3.24, 3.92, 3.99, 4.21, 4.21, 3.31, 3.61, 2.97, 2.73];

describe('stats: Welch t-test against published values', () => {
  it('matches scipy test_ttest_ind_with_uneq_var (checked there against R)', () => {
    // scipy/stats/tests/test_stats.py::test_ttest_ind_with_uneq_var:
    // stats.ttest_ind((1, 2, 3), (1.1, 2.9, 4.2), equal_var=False) → tr = -0.68649512735572582, pr = 0.53619490753126731
    let r = welchTTest([1, 2, 3], [1.1, 2.9, 4.2]);
    published(r.statistic, '-0.68649512735572582', 't');
    published(r.pValue, '0.53619490753126731', 'p');
    // same test: stats.ttest_ind((1, 2, 3, 4), (1.1, 2.9, 4.2), equal_var=False) → tr = -0.2108663315950719, pr = 0.84354139131608286
    r = welchTTest([1, 2, 3, 4], [1.1, 2.9, 4.2]);
    published(r.statistic, '-0.2108663315950719', 't');
    published(r.pValue, '0.84354139131608286', 'p');
    assert.strictEqual(r.reason, null);
  });

  it('matches the scipy regression values on linspace data', () => {
    // scipy test_ttest_ind_with_uneq_var "regression test": rvs1 = np.linspace(5, 105, 100), rvs2 = np.linspace(1, 100, 100),
    // rvs3 = np.linspace(1, 100, 25); stats.ttest_ind(rvs1, rvs2, equal_var=False) → tr = 1.0912746897927283, pr = 0.27647831993021388
    const rvs1 = linspace(5, 105, 100);
    const rvs2 = linspace(1, 100, 100);
    const rvs3 = linspace(1, 100, 25);
    let r = welchTTest(rvs1, rvs2);
    published(r.statistic, '1.0912746897927283', 't');
    published(r.pValue, '0.27647831993021388', 'p');
    // same test: stats.ttest_ind(rvs1, rvs3, equal_var=False) → tr_uneq_n = 0.66745638708050492, pr_uneq_n = 0.50873585065616544
    r = welchTTest(rvs1, rvs3);
    published(r.statistic, '0.66745638708050492', 't');
    published(r.pValue, '0.50873585065616544', 'p');
  });

  it('matches scipy Test_ttest_CI (statistic, df, p and the 90% interval, from R)', () => {
    // scipy/stats/tests/test_stats.py::Test_ttest_CI, r[0, 0, 0] (two-sided, equal_var=False, trim=0):
    // [statistic -0.2314607, df 19.894435, pvalue 0.8193209, res.confidence_interval(0.9) low -0.247220294, high 0.188729943]
    const r = welchTTest(CI_X, CI_Y, { confidence: 0.9 });
    published(r.statistic, '-0.2314607', 't');
    published(r.df, '19.894435', 'df');
    published(r.pValue, '0.8193209', 'p');
    published(r.ci.low, '-0.247220294', 'ci low');
    published(r.ci.high, '0.188729943', 'ci high');
  });

  it('matches R t.test(clinic$var1[1:15], clinic$var1[16:30], mu = 1) quoted in statsmodels test_tost.py', () => {
    // statsmodels/stats/tests/test_tost.py ttest_clinic_indep_1_two_mu (Welch, mu=1, two.sided):
    // statistic -3.299592184135306, parameter (df) 26.7484787582315, p_value 0.00274486985114321,
    // conf_int (-0.3550087243406, 0.6843420576739336)
    const r = welchTTest(VAR1_G1, VAR1_G2, { nullDifference: 1 });
    published(r.statistic, '-3.299592184135306', 't');
    published(r.df, '26.7484787582315', 'df');
    published(r.pValue, '0.00274486985114321', 'p');
    published(r.ci.low, '-0.3550087243406', 'ci low');
    published(r.ci.high, '0.6843420576739336', 'ci high');
  });

  it('matches the R tost() values quoted in statsmodels test_tost.py (difference, se, 90% interval)', () => {
    // test_tost.py tost_clinic_indep_1 = tost(clinic$var1[1:15], clinic$var1[16:30], eps=0.6): mean_diff 0.1646666666666667,
    // se_diff 0.2531625991083627, ci_diff (1 − 2·0.05 = 90%) (-0.2666862980722534, 0.596019631405587), df 26.7484787582315
    let r = welchTTest(VAR1_G1, VAR1_G2, { confidence: 0.9 });
    published(r.difference, '0.1646666666666667', 'difference');
    published(r.standardError, '0.2531625991083627', 'se');
    published(r.ci.low, '-0.2666862980722534', 'ci low');
    published(r.ci.high, '0.596019631405587', 'ci high');
    published(r.df, '26.7484787582315', 'df');
    // test_tost.py ttest_clinic_indep_1_g (t.test(..., alternative="greater")): statistic 0.650438363512706,
    // p_value 0.2604786501355416; the two-sided p is twice the one-sided one (t is symmetric).
    published(r.statistic, '0.650438363512706', 't');
    published(r.pValue / 2, '0.2604786501355416', 'one-sided p');
    // test_tost.py tost_clinic_indep = tost(clinic$var2[1:15], clinic$var2[16:30], eps=0.6): mean_diff 0.562666666666666,
    // se_diff 0.2149871904637392, ci_diff (0.194916250699966, 0.930417082633366), df 24.11000151062728
    r = welchTTest(VAR2_G1, VAR2_G2, { confidence: 0.9 });
    published(r.difference, '0.562666666666666', 'difference');
    published(r.standardError, '0.2149871904637392', 'se');
    published(r.ci.low, '0.194916250699966', 'ci low');
    published(r.ci.high, '0.930417082633366', 'ci high');
    published(r.df, '24.11000151062728', 'df');
  });
});

describe('stats: Student t-test against published values', () => {
  it('matches the scipy test_ttest_ind regression values', () => {
    // scipy/stats/tests/test_stats.py::test_ttest_ind: stats.ttest_ind(np.linspace(5, 105, 100), np.linspace(1, 100, 100))
    // → tr = 1.0912746897927283, pr = 0.27647818616351882
    const r = studentTTest(linspace(5, 105, 100), linspace(1, 100, 100));
    published(r.statistic, '1.0912746897927283', 't');
    published(r.pValue, '0.27647818616351882', 'p');
    assert.strictEqual(r.df, 198);
  });

  it('matches scipy Test_ttest_CI for equal_var=True to the tolerance scipy asserts', () => {
    // scipy Test_ttest_CI r[0, 1, 0] (two-sided, equal_var=True): [statistic -0.2345625322555006, df 22,
    // pvalue 0.8167175905643815], checked there with assert_allclose (rtol 1e-7). The pooled formula evaluated
    // with numpy on the same inputs gives -0.23456253333105662 (4.6e-9 relative from the quoted value), so the
    // published tolerance rtol = 1e-7 is the one that applies here.
    const r = studentTTest(CI_X, CI_Y);
    assert.ok(Math.abs(r.statistic / -0.2345625322555006 - 1) < 1e-7, `t ${r.statistic}`);
    assert.strictEqual(r.df, 22);
    assert.ok(Math.abs(r.pValue / 0.8167175905643815 - 1) < 1e-7, `p ${r.pValue}`);
  });

  it('matches R t.test(..., mu = 1, var.equal = TRUE) quoted in statsmodels test_tost.py', () => {
    // test_tost.py ttest_clinic_indep_1_two_mu_pooled: statistic -3.299592184135305, parameter 28,
    // p_value 0.002643203760742494, conf_int (-0.35391340938235, 0.6832467427156834)
    const r = studentTTest(VAR1_G1, VAR1_G2, { nullDifference: 1 });
    published(r.statistic, '-3.299592184135305', 't');
    assert.strictEqual(r.df, 28);
    published(r.pValue, '0.002643203760742494', 'p');
    published(r.ci.low, '-0.35391340938235', 'ci low');
    published(r.ci.high, '0.6832467427156834', 'ci high');
  });

  it('matches the pooled R tost() 90% intervals quoted in statsmodels test_tost.py', () => {
    // test_tost.py tost_clinic_indep_1_pooled (var.equal = TRUE): ci_diff (-0.2659960620757337, 0.595329395409067), df 28
    let r = studentTTest(VAR1_G1, VAR1_G2, { confidence: 0.9 });
    published(r.ci.low, '-0.2659960620757337', 'ci low');
    published(r.ci.high, '0.595329395409067', 'ci high');
    // test_tost.py tost_clinic_indep_2_pooled: ci_diff (0.1969453064978777, 0.928388026835454), se_diff 0.2149871904637392
    r = studentTTest(VAR2_G1, VAR2_G2, { confidence: 0.9 });
    published(r.ci.low, '0.1969453064978777', 'ci low');
    published(r.ci.high, '0.928388026835454', 'ci high');
    published(r.standardError, '0.2149871904637392', 'se');
  });
});

describe('stats: t-test edge cases (as scipy) and properties', () => {
  it('two constant samples with different means: infinite t and p = 0 (scipy: (inf, 0))', () => {
    // scipy test_ttest_ind_with_uneq_var "zero division problem": stats.ttest_ind([0, 0, 0], [1, 1, 1], equal_var=False)
    // → (|t|, p) == (inf, 0)
    for (const f of [welchTTest, studentTTest]) {
      const r = f([0, 0, 0], [1, 1, 1]);
      assert.strictEqual(r.statistic, -Infinity);
      assert.strictEqual(r.pValue, 0);
      assert.deepStrictEqual(r.ci, { low: -1, high: -1 });
      assert.match(r.reason ?? '', /zero variance/);
    }
  });

  it('two identical constant samples: t undefined (scipy: (nan, nan)) with a reason', () => {
    // scipy same test: stats.ttest_ind([0, 0, 0], [0, 0, 0], equal_var=False) == (nan, nan)
    for (const f of [welchTTest, studentTTest]) {
      const r = f([0, 0, 0], [0, 0, 0]);
      assert.ok(Number.isNaN(r.statistic) && Number.isNaN(r.pValue));
      assert.match(r.reason ?? '', /0\/0/);
    }
  });

  it('fewer than 2 observations on a side: Welch is NaN with a reason; Student only when a sample is empty or both have one', () => {
    for (const [a, b, who] of [[[1], [1, 2, 3], 'sample a'], [[1, 2], [], 'sample b'], [[], [5], 'both']] as const) {
      const r = welchTTest(a, b);
      assert.ok(Number.isNaN(r.statistic) && Number.isNaN(r.pValue) && Number.isNaN(r.ci.low));
      assert.ok(r.reason?.includes(who), r.reason ?? '');
    }
    for (const [a, b, why] of [[[1, 2], [], 'empty'], [[], [5], 'empty'], [[1], [2], 'one observation in each']] as const) {
      const r = studentTTest(a, b);
      assert.ok(Number.isNaN(r.statistic) && Number.isNaN(r.pValue), JSON.stringify(r));
      assert.ok(r.reason?.includes(why), r.reason ?? '');
    }
  });

  it('Student with one observation in a sample pools the other sample\'s variance (scipy ≥ 1.11, _equal_var_ttest_denom)', () => {
    // a = [5], b = [1, 2, 3]: sp² = var(b) = 1 (df 2), se = √(1·(1 + 1/3)), t = (5 − 2)/se = 3/√(4/3) = 2.598076211353316.
    const r = studentTTest([5], [1, 2, 3]);
    assert.strictEqual(r.df, 2);
    published(r.statistic, '2.598076211353316');
    assert.ok(Number.isNaN(r.varianceA));
    assert.strictEqual(r.reason, null);
    // The same t whichever side holds the single value (with the sign flipped).
    published(studentTTest([1, 2, 3], [5]).statistic, '-2.598076211353316');
  });

  it('non-finite input: NaN with a reason (scipy propagates nan)', () => {
    const r = welchTTest([1, NaN, 3], [1, 2, 3]);
    assert.ok(Number.isNaN(r.statistic));
    assert.match(r.reason ?? '', /non-finite/);
  });

  it('one constant side is an ordinary test', () => {
    const r = welchTTest([2, 2, 2, 2], [1, 2, 3, 4]);
    assert.strictEqual(r.reason, null);
    // hand-computed: diff = 2 − 2.5 = −0.5, se = √(1.6667/4) = 0.6455, df = (nB − 1) = 3
    assert.ok(Math.abs(r.statistic - -0.5 / Math.sqrt(5 / 12)) < 1e-12);
    assert.ok(Math.abs(r.df - 3) < 1e-12);
  });

  it('swapping the samples negates t and the interval and keeps p', () => {
    for (const f of [welchTTest, studentTTest]) {
      const ab = f(VAR1_G1, VAR2_G2);
      const ba = f(VAR2_G2, VAR1_G1);
      assert.ok(Math.abs(ab.statistic + ba.statistic) < 1e-12);
      assert.ok(Math.abs(ab.pValue - ba.pValue) < 1e-12);
      assert.ok(Math.abs(ab.ci.low + ba.ci.high) < 1e-12 && Math.abs(ab.ci.high + ba.ci.low) < 1e-12);
      assert.ok(Math.abs(ab.df - ba.df) < 1e-9);
    }
  });

  it('is invariant to a common shift, p is in [0, 1], the interval contains the difference and widens with confidence', () => {
    const shift = (x: number[]) => x.map(v => v + 1000);
    for (const f of [welchTTest, studentTTest]) {
      const r = f(CI_X, CI_Y);
      const s = f(shift(CI_X), shift(CI_Y));
      assert.ok(Math.abs(r.statistic - s.statistic) < 1e-9);
      assert.ok(r.pValue >= 0 && r.pValue <= 1);
      assert.ok(r.ci.low < r.difference && r.difference < r.ci.high);
      const wide = f(CI_X, CI_Y, { confidence: 0.99 });
      assert.ok(wide.ci.low < r.ci.low && wide.ci.high > r.ci.high);
      // the interval excludes nullDifference exactly when p < 1 − confidence
      const edge = f(CI_X, CI_Y, { nullDifference: r.ci.high });
      assert.ok(Math.abs(edge.pValue - 0.05) < 1e-9, `p at the interval edge ${edge.pValue}`);
    }
  });

  it('rejects a confidence outside (0, 1)', () => {
    assert.throws(() => welchTTest([1, 2], [3, 4], { confidence: 1 }), RangeError);
    assert.throws(() => studentTTest([1, 2], [3, 4], { confidence: 0 }), RangeError);
  });
});

describe('stats: one-sided t-tests (scipy `alternative`)', () => {
  const a = [2.1, 3.4, 1.9, 4.2, 3.3, 2.8];
  const b = [3.9, 4.4, 5.1, 3.7, 4.8];
  for (const f of [welchTTest, studentTTest]) {
    it(`${f.name}: p(less) + p(greater) = 1, the two-sided p is twice the smaller, the interval is one-sided`, () => {
      const two = f(a, b), less = f(a, b, { alternative: 'less' }), greater = f(a, b, { alternative: 'greater' });
      assert.ok(Math.abs(less.pValue + greater.pValue - 1) < 1e-12);
      assert.ok(Math.abs(two.pValue - 2 * Math.min(less.pValue, greater.pValue)) < 1e-12);
      assert.ok(less.pValue < 0.01 && less.statistic === two.statistic);
      assert.strictEqual(less.ci.low, -Infinity);
      assert.strictEqual(greater.ci.high, Infinity);
      // the one-sided bound at 95% is the two-sided bound at 90%
      assert.ok(Math.abs(less.ci.high - f(a, b, { confidence: 0.9 }).ci.high) < 1e-12);
      assert.throws(() => f(a, b, { alternative: 'larger' as never }), /alternative/);
    });
  }

  it('constant samples with different means: p = 0 on the side of the difference, 1 on the other', () => {
    assert.strictEqual(welchTTest([2, 2], [1, 1], { alternative: 'greater' }).pValue, 0);
    assert.strictEqual(welchTTest([2, 2], [1, 1], { alternative: 'less' }).pValue, 1);
  });

  it('infinite values: NaN with a reason, never a number (scipy propagates nan/inf)', () => {
    const r = welchTTest([1, Infinity, 3], [1, 2, 3], { alternative: 'less' });
    assert.ok(Number.isNaN(r.pValue));
    assert.ok(r.reason?.includes('non-finite'), r.reason ?? '');
  });
});

describe('stats: one-sided two-sample KS against scipy TestKSTwoSamples', () => {
  const check = (x: number[], y: number[], alternative: 'less' | 'greater', d: number, p: number) => {
    const r = ks2Samp(x, y, { alternative });
    assert.ok(Math.abs(r.statistic - d) < 1e-12, `D ${r.statistic} ≠ ${d}`);
    assert.ok(Math.abs(r.pValue - p) < 5e-7, `p ${r.pValue} ≠ ${p}`); // assert_array_almost_equal: 6 decimals
  };
  it('testSmall, testTwoVsThree, testTwoVsFour', () => {
    check([0], [1], 'greater', 1, 0.5);
    check([0], [1], 'less', 0, 1);
    check([1], [0], 'less', 1, 0.5);
    check([1.01, 2.01], [1, 2, 3], 'greater', 1 / 3, 0.7);
    check([1.01, 2.01], [1, 2, 3], 'less', 1 / 3, 0.7);
    check([0.99, 1.99], [1, 2, 3], 'greater', 2 / 3, 0.3);
    check([1.01, 2.01], [1, 2, 3, 4], 'greater', 2 / 4, 8 / 15);
    check([1.01, 2.01], [1, 2, 3, 4], 'less', 1 / 4, 12 / 15);
    check([0.99, 1.99], [1, 2, 3, 4], 'greater', 3 / 4, 3 / 15);
  });
  it('test100_110 and testRepeatedValues', () => {
    const x100 = linspace(1, 100, 100);
    const x110 = linspace(1, 100, 110);
    check(x100, x110.map(v => v + 20 + 0.1), 'greater', 232 / 1100, 0.007869594319053203);
    check(x100, x110.map(v => v + 20 - 0.1), 'greater', 229 / 1100, 0.008901905958245056);
    const x2356 = [...rep(2, 3), ...rep(3, 4), ...rep(5, 10), ...rep(6, 4)];
    const x3467 = [...rep(3, 10), ...rep(4, 2), ...rep(6, 10), ...rep(7, 4)];
    check(x2356, x3467, 'greater', 190 / 21 / 26, 0.0459633806858544);
    check(x2356, x3467, 'less', 70 / 21 / 26, 0.6121593130022775);
  });
  it('reports D⁺ and D⁻ whatever the alternative; ±Infinity are the extreme values (as scipy), NaN is refused', () => {
    const r = ks2Samp([1, 2, 3, Infinity], [-Infinity, -Infinity, 4, 5]);
    assert.strictEqual(r.dPlus, 0.25);
    assert.strictEqual(r.dMinus, 0.5);
    assert.strictEqual(r.statistic, 0.5);
    assert.strictEqual(r.sign, -1);
    assert.throws(() => ks2Samp([1, NaN], [2, 3]), /NaN/);
  });
});
