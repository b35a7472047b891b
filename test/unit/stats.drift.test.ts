import * as assert from 'assert';
import { jensenShannonDistance, psi, wassersteinDistance } from '../../src/core/stats';
import { published } from './published';

describe('stats: Wasserstein-1 distance (scipy.stats.wasserstein_distance docstring)', () => {
  it('matches the docstring examples', () => {
    // scipy/stats/_stats_py.py wasserstein_distance docstring: wasserstein_distance([0, 1, 3], [5, 6, 8]) → 5.0
    published(wassersteinDistance([0, 1, 3], [5, 6, 8]), '5.0');
    // wasserstein_distance([0, 1], [0, 1], [3, 1], [2, 2]) → 0.25
    published(wassersteinDistance([0, 1], [0, 1], [3, 1], [2, 2]), '0.25');
    // wasserstein_distance([3.4, 3.9, 7.5, 7.8], [4.5, 1.4], [1.4, 0.9, 3.1, 7.2], [3.2, 3.5]) → 4.0781331438047861
    published(wassersteinDistance([3.4, 3.9, 7.5, 7.8], [4.5, 1.4], [1.4, 0.9, 3.1, 7.2], [3.2, 3.5]), '4.0781331438047861');
  });

  it('properties: symmetric, zero for identical samples, equals a shift, order-free', () => {
    const u = [0.2, 1.7, 3.1, 0.9, 2.2], v = [1.1, 0.4, 2.9];
    assert.ok(Math.abs(wassersteinDistance(u, v) - wassersteinDistance(v, u)) < 1e-12);
    assert.strictEqual(wassersteinDistance(u, [...u].reverse()), 0);
    assert.ok(Math.abs(wassersteinDistance(u, u.map(x => x + 2.5)) - 2.5) < 1e-12);
    assert.throws(() => wassersteinDistance([], [1]), RangeError);
    assert.throws(() => wassersteinDistance([1, 2], [1], [1, -1]), RangeError);
  });
});

describe('stats: Jensen–Shannon distance (scipy.spatial.distance.jensenshannon docstring)', () => {
  it('matches the docstring examples', () => {
    // scipy/spatial/distance.py jensenshannon docstring:
    // distance.jensenshannon([1.0, 0.0, 0.0], [0.0, 1.0, 0.0], 2.0) → 1.0
    published(jensenShannonDistance([1, 0, 0], [0, 1, 0], { base: 2 }), '1.0');
    // distance.jensenshannon([1.0, 0.0], [0.5, 0.5]) → 0.46450140402245893
    published(jensenShannonDistance([1, 0], [0.5, 0.5]), '0.46450140402245893');
    // distance.jensenshannon([1.0, 0.0, 0.0], [1.0, 0.0, 0.0]) → 0.0
    assert.strictEqual(jensenShannonDistance([1, 0, 0], [1, 0, 0]), 0);
  });

  it('matches the docstring axis examples (unnormalised counts)', () => {
    // same docstring: a = [[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12]], b = [[13, 14, 15, 16], [17, 18, 19, 20],
    // [21, 22, 23, 24]]; jensenshannon(a, b, axis=0) → array([0.1954288, 0.1447697, 0.1138377, 0.0927636]);
    // jensenshannon(a, b, axis=1) → array([0.1402339, 0.0399106, 0.0201815])
    const a = [[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12]];
    const b = [[13, 14, 15, 16], [17, 18, 19, 20], [21, 22, 23, 24]];
    const col = (m: number[][], j: number) => m.map(r => r[j]);
    ['0.1954288', '0.1447697', '0.1138377', '0.0927636'].forEach((e, j) => published(jensenShannonDistance(col(a, j), col(b, j)), e, `axis 0 [${j}]`));
    ['0.1402339', '0.0399106', '0.0201815'].forEach((e, i) => published(jensenShannonDistance(a[i], b[i]), e, `axis 1 [${i}]`));
  });

  it('properties: symmetric, bounded by √ln 2 (natural log) and 1 (base 2), scale-free', () => {
    const p = [0.1, 0.4, 0.5, 0], q = [0.3, 0.3, 0.2, 0.2];
    assert.ok(Math.abs(jensenShannonDistance(p, q) - jensenShannonDistance(q, p)) < 1e-15);
    assert.ok(Math.abs(jensenShannonDistance(p, q) - jensenShannonDistance(p.map(x => x * 7), q)) < 1e-15);
    assert.ok(jensenShannonDistance([1, 0], [0, 1]) <= Math.sqrt(Math.log(2)) + 1e-15);
    assert.ok(Math.abs(jensenShannonDistance([1, 0], [0, 1]) - Math.sqrt(Math.log(2))) < 1e-15);
    assert.ok(jensenShannonDistance(p, q, { base: 2 }) <= 1);
    assert.throws(() => jensenShannonDistance([1, 0], [1]), RangeError);
    assert.throws(() => jensenShannonDistance([0, 0], [1, 1]), RangeError);
    assert.throws(() => jensenShannonDistance([-1, 2], [1, 1]), RangeError);
  });
});

describe('stats: Population Stability Index', () => {
  it('matches a hand-computed example (no reference library implements PSI)', () => {
    // Hand-computed. reference = 1..10, 5 bins: numpy-linear quantiles at 0.2, 0.4, 0.6, 0.8 are 2.8, 4.6, 6.4, 8.2,
    // so each bin holds 2 reference values (share 0.2). current = [1, 2, 2, 2, 3, 5, 6, 7, 9, 10] puts 4, 1, 2, 1, 2
    // values in the bins (shares 0.4, 0.1, 0.2, 0.1, 0.2).
    // PSI = (0.4 − 0.2)ln 2 + (0.1 − 0.2)ln ½ + 0 + (0.1 − 0.2)ln ½ + 0 = 0.4·ln 2 = 0.2772588722239781
    const reference = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    const current = [1, 2, 2, 2, 3, 5, 6, 7, 9, 10];
    const r = psi(reference, current, { bins: 5 });
    r.edges.forEach((e, i) => assert.ok(Math.abs(e - [2.8, 4.6, 6.4, 8.2][i]) < 1e-12));
    assert.deepStrictEqual(r.bins.map(b => b.reference), [0.2, 0.2, 0.2, 0.2, 0.2]);
    assert.deepStrictEqual(r.bins.map(b => b.current), [0.4, 0.1, 0.2, 0.1, 0.2]);
    assert.ok(Math.abs(r.psi - 0.4 * Math.LN2) < 1e-12, `psi ${r.psi}`);
    assert.strictEqual(r.bins[0].low, -Infinity);
    assert.strictEqual(r.bins[4].high, Infinity);
  });

  it('an empty bin uses the epsilon floor (hand-computed)', () => {
    // reference 1..10 in 2 bins (edge 5.5): shares 0.5, 0.5; current all ≤ 5.5: shares 1, 0 → floored to 1e-4.
    // PSI = (1 − 0.5)ln(1/0.5) + (1e-4 − 0.5)ln(1e-4/0.5)
    const r = psi([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], [1, 2, 3], { bins: 2 });
    const expected = 0.5 * Math.log(2) + (1e-4 - 0.5) * Math.log(1e-4 / 0.5);
    assert.ok(Math.abs(r.psi - expected) < 1e-12);
  });

  it('properties: 0 for the same sample, non-negative, ties merge bins', () => {
    const ref = Array.from({ length: 200 }, (_, i) => Math.sin(i) * 10);
    assert.strictEqual(psi(ref, ref).psi, 0);
    assert.ok(psi(ref, ref.map(x => x + 1)).psi > 0);
    const tied = psi([1, 1, 1, 1, 1, 1, 2, 3], [1, 2, 3, 3]);
    assert.ok(tied.edges.length < 9, `edges ${tied.edges}`);
    assert.ok(Math.abs(tied.bins.reduce((s, b) => s + b.reference, 0) - 1) < 1e-12);
    assert.throws(() => psi([], [1]), RangeError);
    assert.throws(() => psi([1], [1], { bins: 0 }), RangeError);
  });
});
