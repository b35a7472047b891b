import * as assert from 'assert';
import { agrestiCoullInterval, clopperPearsonInterval, jeffreysInterval, normalInterval, proportionInterval, wilsonInterval } from '../../src/core/stats';
import { published } from './published';

/**
 * statsmodels/stats/tests/results/results_proportion.py: R `binom.confint(x, n, tol = 1e-8)` (package binom),
 * used by statsmodels' test_confint_proportion for proportion_confint(count, nobs, alpha=0.05, method=...).
 * Entry 4 of ci_low / ci_upp is R's "exact" (statsmodels method='beta'), entry 10 is "wilson".
 */
const R_BINOM: Array<{ x: number; n: number; exact: [string, string]; wilson: [string, string] }> = [
  { x: 18, n: 20, exact: ['0.6830172859809176', '0.9876514728297052'], wilson: ['0.6989663547715128', '0.972133518786232'] },
  { x: 4, n: 20, exact: ['0.05733399705003284', '0.436614002996668'], wilson: ['0.0806576625797981', '0.4160174322518935'] },
  { x: 4, n: 200, exact: ['0.005475565879556443', '0.05041360908989634'], wilson: ['0.00780442641634947', '0.05028708690582643'] },
  { x: 190, n: 200, exact: ['0.9099724622986486', '0.975765834527891'], wilson: ['0.910421851861224', '0.972617354399236'] },
  { x: 1, n: 30, exact: ['8.435709e-04', '0.17216946'], wilson: ['5.908590e-03', '0.16670391'] },
  { x: 29, n: 30, exact: ['0.8278305', '0.9991564'], wilson: ['0.8332961', '0.9940914'] },
  // "res_binom[(0, 30)].ci_low = np.zeros(11)" (statsmodels clips the lower bounds to 0)
  { x: 0, n: 30, exact: ['0', '0.11570331'], wilson: ['0', '0.11351339'] },
  // "res_binom[(30, 30)].ci_upp = np.ones(11)"
  { x: 30, n: 30, exact: ['0.8842967', '1'], wilson: ['0.8864866', '1'] },
];

describe('stats: Wilson and Clopper–Pearson intervals against R binom.confint (statsmodels results_proportion.py)', () => {
  for (const { x, n, exact, wilson } of R_BINOM) {
    it(`${x}/${n}`, () => {
      const w = wilsonInterval(x, n);
      published(w.low, wilson[0], 'wilson low');
      published(w.high, wilson[1], 'wilson high');
      const cp = clopperPearsonInterval(x, n);
      published(cp.low, exact[0], 'exact low');
      published(cp.high, exact[1], 'exact high');
      assert.strictEqual(w.rate, x / n);
      assert.strictEqual(w.confidence, 0.95);
    });
  }

  it('0 and n successes give exactly 0 and 1 at the open end', () => {
    for (const f of [wilsonInterval, clopperPearsonInterval]) {
      assert.strictEqual(f(0, 17).low, 0);
      assert.strictEqual(f(17, 17).high, 1);
    }
    // Clopper–Pearson at x = 0: high = 1 − (α/2)^(1/n) (hand-computed closed form of Beta⁻¹(1 − α/2; 1, n))
    assert.ok(Math.abs(clopperPearsonInterval(0, 30).high - (1 - 0.025 ** (1 / 30))) < 1e-12);
  });
});

describe('stats: proportion interval properties', () => {
  it('bounds are ordered, inside [0, 1] and around the rate', () => {
    for (const n of [1, 2, 7, 50, 1000]) {
      for (let x = 0; x <= n; x += Math.max(1, Math.floor(n / 7))) {
        for (const f of [wilsonInterval, clopperPearsonInterval]) {
          const r = f(x, n);
          assert.ok(r.low >= 0 && r.high <= 1 && r.low <= r.rate && r.rate <= r.high, `${f.name}(${x}, ${n}) = [${r.low}, ${r.high}]`);
        }
      }
    }
  });

  it('is symmetric: interval(n − x) = 1 − interval(x) reversed', () => {
    for (const f of [wilsonInterval, clopperPearsonInterval]) {
      for (const [x, n] of [[3, 10], [0, 12], [41, 97]]) {
        const a = f(x, n), b = f(n - x, n);
        assert.ok(Math.abs(a.low - (1 - b.high)) < 1e-12 && Math.abs(a.high - (1 - b.low)) < 1e-12);
      }
    }
  });

  it('widens with the confidence level', () => {
    for (const f of [wilsonInterval, clopperPearsonInterval]) {
      const a = f(37, 120, { confidence: 0.9 }), b = f(37, 120, { confidence: 0.99 });
      assert.ok(b.low < a.low && b.high > a.high);
    }
  });

  it('rejects invalid counts and confidence', () => {
    assert.throws(() => wilsonInterval(5, 4), RangeError);
    assert.throws(() => wilsonInterval(1, 0), RangeError);
    assert.throws(() => clopperPearsonInterval(-1, 4), RangeError);
    assert.throws(() => clopperPearsonInterval(1.5, 4), RangeError);
    assert.throws(() => wilsonInterval(1, 4, { confidence: 1.2 }), RangeError);
  });
});

describe('stats: normal, Agresti–Coull and Jeffreys intervals (statsmodels test_proportion.py::test_proportion_confint, R 4.3.3 DescTools BinomCI)', () => {
  // count 100, nobs 200, two-sided
  const cases: Array<[typeof normalInterval, number, string, string]> = [
    [normalInterval, 0.95, '0.4307048', '0.5692952'],
    [normalInterval, 0.99, '0.4089307', '0.5910693'],
    [normalInterval, 0.90, '0.4418456', '0.5581544'],
    [agrestiCoullInterval, 0.95, '0.4313609', '0.5686391'],
    [jeffreysInterval, 0.95, '0.4311217', '0.5688783'],
  ];
  for (const [f, confidence, low, high] of cases) {
    it(`${f.name} at ${confidence}: [${low}, ${high}]`, () => {
      const r = f(100, 200, { confidence });
      published(r.low, low, 'low');
      published(r.high, high, 'high');
    });
  }

  it('edges: normal is clipped to [0, 1] and has zero width at 0 and n; Jeffreys is not forced to 0 or 1 (as statsmodels)', () => {
    assert.deepStrictEqual([normalInterval(0, 10).low, normalInterval(0, 10).high], [0, 0]);
    const ac = agrestiCoullInterval(0, 10);
    assert.strictEqual(ac.low, 0);
    assert.ok(ac.high > 0 && ac.high < 1);
    const j = jeffreysInterval(0, 10);
    assert.ok(j.low > 0 && j.low < 1e-4, String(j.low));
    assert.strictEqual(proportionInterval('jeffreys', 3, 10).high, jeffreysInterval(3, 10).high);
    assert.throws(() => proportionInterval('exact' as never, 1, 2), /unknown/);
    assert.throws(() => normalInterval(3, 2), /successes/);
  });
});
