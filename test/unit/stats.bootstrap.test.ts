import * as assert from 'assert';
import { accuracy, mulberry32, pairedBootstrap, rocAuc } from '../../src/core/stats';

// No reference library has this exact bootstrap (seeded mulberry32 indices), so these tests check determinism,
// pairing, hand-computed degenerate cases, and agreement with the textbook standard error of a paired difference.

/** A fixed data set: 400 examples, A right on 300, B right on 320; b = 40 (A only), c = 60 (B only). */
function pairedData(): { y: number[]; a: number[]; b: number[] } {
  const y: number[] = [], a: number[] = [], b: number[] = [];
  const add = (count: number, aRight: boolean, bRight: boolean) => {
    for (let i = 0; i < count; i++) {
      const label = (y.length * 7) % 3; // deterministic labels 0..2
      y.push(label);
      a.push(aRight ? label : (label + 1) % 3);
      b.push(bRight ? label : (label + 2) % 3);
    }
  };
  add(260, true, true); add(40, true, false); add(60, false, true); add(40, false, false);
  return { y, a, b };
}

describe('stats: seeded generator', () => {
  it('mulberry32 is deterministic, in [0, 1), and depends on the seed', () => {
    const r1 = mulberry32(42), r2 = mulberry32(42), r3 = mulberry32(43);
    const s1 = Array.from({ length: 1000 }, () => r1());
    const s2 = Array.from({ length: 1000 }, () => r2());
    const s3 = Array.from({ length: 1000 }, () => r3());
    assert.deepStrictEqual(s1, s2);
    assert.notDeepStrictEqual(s1, s3);
    assert.ok(s1.every(v => v >= 0 && v < 1));
    // roughly uniform: mean of 1000 draws within 0.5 ± 0.05 (sd of the mean ≈ 0.009)
    const m = s1.reduce((x, v) => x + v, 0) / s1.length;
    assert.ok(Math.abs(m - 0.5) < 0.05, `mean ${m}`);
    assert.throws(() => mulberry32(1.5), RangeError);
    // seeds are reduced modulo 2^32
    assert.strictEqual(mulberry32(2 ** 32 + 5)(), mulberry32(5)());
  });
});

describe('stats: paired bootstrap', () => {
  it('same seed → identical result; another seed → a different distribution', () => {
    const { y, a, b } = pairedData();
    const r1 = pairedBootstrap(y, a, b, accuracy, { resamples: 500, seed: 7, keepDistribution: true });
    const r2 = pairedBootstrap(y, a, b, accuracy, { resamples: 500, seed: 7, keepDistribution: true });
    assert.deepStrictEqual(r1, r2);
    const r3 = pairedBootstrap(y, a, b, accuracy, { resamples: 500, seed: 8, keepDistribution: true });
    assert.notDeepStrictEqual(r1.distribution, r3.distribution);
    assert.strictEqual(r1.resamples, 500);
    assert.strictEqual(r1.validResamples, 500);
    assert.strictEqual(r1.seed, 7);
  });

  it('observed difference is metric(B) − metric(A) on the full data', () => {
    const { y, a, b } = pairedData();
    const r = pairedBootstrap(y, a, b, accuracy, { resamples: 200 });
    assert.strictEqual(r.metricA, 300 / 400);
    assert.strictEqual(r.metricB, 320 / 400);
    assert.ok(Math.abs(r.difference - 0.05) < 1e-12);
  });

  it('agrees with the textbook standard error of a paired difference of proportions', () => {
    // Hand-computed (e.g. Agresti, Categorical Data Analysis, §10.1): for discordant shares p_b = b/n, p_c = c/n,
    // se(p̂_B − p̂_A) = √((p_b + p_c − (p_c − p_b)²)/n) = √((0.1 + 0.15 − 0.0025)/400) = 0.0248747...
    const { y, a, b } = pairedData();
    const r = pairedBootstrap(y, a, b, accuracy, { resamples: 4000, seed: 1 });
    const se = Math.sqrt((0.1 + 0.15 - 0.05 ** 2) / 400);
    assert.ok(Math.abs(r.standardError / se - 1) < 0.05, `bootstrap se ${r.standardError} vs ${se}`);
    // the percentile interval is close to the normal one, difference ± 1.96·se
    assert.ok(Math.abs(r.ci.low - (0.05 - 1.96 * se)) < 0.006, `low ${r.ci.low}`);
    assert.ok(Math.abs(r.ci.high - (0.05 + 1.96 * se)) < 0.006, `high ${r.ci.high}`);
    // and the p-value is near the two-sided normal p of z = 0.05/0.02487 = 2.01 (≈ 0.044)
    assert.ok(r.pValue > 0.02 && r.pValue < 0.08, `p ${r.pValue}`);
  });

  it('pairing matters: identical predictions give exactly 0, [0, 0] and p = 1', () => {
    const { y, a } = pairedData();
    const r = pairedBootstrap(y, a, [...a], accuracy, { resamples: 300 });
    assert.strictEqual(r.difference, 0);
    assert.deepStrictEqual(r.ci, { low: 0, high: 0 });
    assert.strictEqual(r.pValue, 1);
    assert.strictEqual(r.standardError, 0);
  });

  it('B always right, A always wrong: every resample differs by 1, p = 0 (< 1/B)', () => {
    const y = [0, 1, 0, 1, 1, 0, 1, 0];
    const a = y.map(v => 1 - v);
    const r = pairedBootstrap(y, a, y, accuracy, { resamples: 250 });
    assert.strictEqual(r.difference, 1);
    assert.deepStrictEqual(r.ci, { low: 1, high: 1 });
    assert.strictEqual(r.pValue, 0);
  });

  it('swapping A and B negates the difference and the interval and keeps p', () => {
    const { y, a, b } = pairedData();
    const ab = pairedBootstrap(y, a, b, accuracy, { resamples: 400, seed: 3 });
    const ba = pairedBootstrap(y, b, a, accuracy, { resamples: 400, seed: 3 });
    assert.ok(Math.abs(ab.difference + ba.difference) < 1e-12);
    assert.ok(Math.abs(ab.ci.low + ba.ci.high) < 1e-12 && Math.abs(ab.ci.high + ba.ci.low) < 1e-12);
    assert.strictEqual(ab.pValue, ba.pValue);
    assert.ok(ab.ci.low <= ab.difference && ab.difference <= ab.ci.high);
    assert.ok(ab.pValue >= 0 && ab.pValue <= 1);
  });

  it('skips resamples where the metric is undefined (an AUC with a single class) and counts the valid ones', () => {
    const y = [0, 0, 0, 0, 0, 0, 0, 1];
    const a = [0.1, 0.2, 0.3, 0.2, 0.1, 0.4, 0.3, 0.9];
    const b = [0.2, 0.1, 0.2, 0.3, 0.3, 0.1, 0.2, 0.6];
    const r = pairedBootstrap(y, a, b, (yt: number[], s: number[]) => rocAuc(yt, s), { resamples: 300, seed: 11 });
    assert.ok(r.validResamples > 0 && r.validResamples < 300, `valid ${r.validResamples}`);
    assert.strictEqual(r.resamples, 300);
  });

  it('rejects bad input', () => {
    assert.throws(() => pairedBootstrap([], [], [], accuracy), RangeError);
    assert.throws(() => pairedBootstrap([1, 0], [1], [1, 0], accuracy), RangeError);
    assert.throws(() => pairedBootstrap([1, 0], [1, 0], [1, 0], accuracy, { resamples: 0 }), RangeError);
    assert.throws(() => pairedBootstrap([1, 0], [1, 0], [1, 0], accuracy, { confidence: 1 }), RangeError);
    assert.throws(() => pairedBootstrap([1, 1], [0.2, 0.3], [0.2, 0.3], (yt: number[], s: number[]) => rocAuc(yt, s)), /Only one class/);
  });
});
