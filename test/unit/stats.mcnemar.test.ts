import * as assert from 'assert';
import { mcnemarChiSquare, mcnemarExact, mcnemarFromPredictions } from '../../src/core/stats';
import { published } from './published';

/** The tables of statsmodels/stats/tests/test_nonparametric.py; b = table[0][1], c = table[1][0]. */
const F_OBS = {
  f_obs1: [[101, 121], [59, 33]],
  f_obs2: [[101, 70], [59, 33]],
  f_obs3: [[101, 80], [59, 33]],
  f_obs4: [[101, 30], [60, 33]],
  f_obs5: [[101, 10], [30, 33]],
  f_obs6: [[101, 10], [10, 33]],
};
const bc = (t: number[][]): [number, number] => [t[0][1], t[1][0]];

describe('stats: McNemar exact test against statsmodels', () => {
  // statsmodels/stats/tests/test_nonparametric.py::test_mcnemar_exact ("vassar college online computation"):
  // mcnemar(f_obs, exact=True) → [statistic, pvalue], asserted there with assert_almost_equal(decimal=6)
  const cases: Array<[keyof typeof F_OBS, number, string]> = [
    ['f_obs1', 59, '0.000004'],
    ['f_obs2', 59, '0.378688'],
    ['f_obs3', 59, '0.089452'],
    ['f_obs4', 30, '0.00206'],
    ['f_obs5', 10, '0.002221'],
    ['f_obs6', 10, '1.0'],
  ];
  for (const [name, statistic, p] of cases) {
    it(`${name}: statistic ${statistic}, p ${p}`, () => {
      const r = mcnemarExact(...bc(F_OBS[name]));
      assert.strictEqual(r.statistic, statistic);
      published(r.pValue, p, 'p');
      assert.strictEqual(r.reason, null);
    });
  }
});

describe('stats: McNemar chi-square test against statsmodels (R mcnemar.test)', () => {
  // statsmodels test_nonparametric.py::test_mcnemar_chisquare, "> mcn = mcnemar.test(matrix(c(101, 121, 59, 33), nrow=2))":
  // mcnemar(f_obs, exact=False) (correction=True) → res = [statistic, pvalue], assert_allclose(rtol=1e-6)
  const corrected: Array<[keyof typeof F_OBS, string, string]> = [
    ['f_obs1', '2.067222e01', '5.450095e-06'],
    ['f_obs2', '0.7751938', '0.3786151'],
    ['f_obs3', '2.87769784', '0.08981434'],
  ];
  for (const [name, stat, p] of corrected) {
    it(`${name} with continuity correction: ${stat}, p ${p}`, () => {
      const r = mcnemarChiSquare(...bc(F_OBS[name]));
      published(r.statistic, stat, 'statistic');
      published(r.pValue, p, 'p');
      assert.strictEqual(r.correction, true);
    });
  }
  // same test, "test correction = False": mcnemar(f_obs, exact=False, correction=False) → res
  const uncorrected: Array<[keyof typeof F_OBS, string, string]> = [
    ['f_obs1', '2.135556e01', '3.815136e-06'],
    ['f_obs2', '0.9379845', '0.3327967'],
    ['f_obs3', '3.17266187', '0.07488031'],
  ];
  for (const [name, stat, p] of uncorrected) {
    it(`${name} without correction: ${stat}, p ${p}`, () => {
      const r = mcnemarChiSquare(...bc(F_OBS[name]), { correction: false });
      published(r.statistic, stat, 'statistic');
      published(r.pValue, p, 'p');
    });
  }
});

describe('stats: McNemar from predictions and properties', () => {
  it('builds the table of correctness (hand-computed example)', () => {
    // hand-computed: examples 0–1 both right, 2 A only, 3–4 B only, 5 neither
    const yTrue = ['cat', 'dog', 'cat', 'dog', 'cat', 'dog'];
    const predA = ['cat', 'dog', 'cat', 'cat', 'dog', 'cat'];
    const predB = ['cat', 'dog', 'dog', 'dog', 'cat', 'cat'];
    const t = mcnemarFromPredictions(yTrue, predA, predB);
    assert.deepStrictEqual(t, { a: 2, b: 1, c: 2, d: 1, n: 6, table: [[2, 1], [2, 1]] });
  });

  it('an expanded statsmodels table round-trips and gives the published p', () => {
    // statsmodels' _expand_table idea: one example per cell count of f_obs2 = [[101, 70], [59, 33]]
    const [[a, b], [c, d]] = F_OBS.f_obs2;
    const yTrue: number[] = [], predA: number[] = [], predB: number[] = [];
    const push = (count: number, aRight: boolean, bRight: boolean) => {
      for (let i = 0; i < count; i++) { yTrue.push(1); predA.push(aRight ? 1 : 0); predB.push(bRight ? 1 : 0); }
    };
    push(a, true, true); push(b, true, false); push(c, false, true); push(d, false, false);
    const t = mcnemarFromPredictions(yTrue, predA, predB);
    assert.deepStrictEqual(t.table, F_OBS.f_obs2);
    // test_mcnemar_exact: mcnemar(f_obs2, exact=True).pvalue = 0.378688
    published(mcnemarExact(t.b, t.c).pValue, '0.378688', 'p');
  });

  it('is symmetric in b and c, p in [0, 1], p = 1 when b = c (exact)', () => {
    for (let b = 0; b <= 25; b += 5) {
      for (let c = 0; c <= 25; c += 3) {
        const e1 = mcnemarExact(b, c), e2 = mcnemarExact(c, b);
        assert.strictEqual(e1.pValue, e2.pValue);
        assert.ok(e1.pValue >= 0 && e1.pValue <= 1);
        if (b + c > 0) {
          const x1 = mcnemarChiSquare(b, c), x2 = mcnemarChiSquare(c, b);
          assert.strictEqual(x1.statistic, x2.statistic);
          assert.ok(x1.pValue >= 0 && x1.pValue <= 1);
        }
      }
      assert.strictEqual(mcnemarExact(b, b).pValue, 1);
    }
  });

  it('no discordant pairs: exact p = 1, chi-square undefined with a reason', () => {
    assert.strictEqual(mcnemarExact(0, 0).pValue, 1);
    const r = mcnemarChiSquare(0, 0);
    assert.ok(Number.isNaN(r.statistic) && Number.isNaN(r.pValue));
    assert.match(r.reason ?? '', /no discordant/);
  });

  it('rejects non-integer or negative counts and mismatched lengths', () => {
    assert.throws(() => mcnemarExact(1.5, 2), RangeError);
    assert.throws(() => mcnemarChiSquare(-1, 2), RangeError);
    assert.throws(() => mcnemarFromPredictions([1, 0], [1], [1, 0]), RangeError);
  });
});
