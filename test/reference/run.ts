/**
 * The live reference tier (`npm run test:reference`, part of `npm test`): EDD's statistics against the live
 * reference libraries (scipy, statsmodels, scikit-learn, Fairlearn) in the project's Python test environment
 * (.venv/, made by test/harness/setup.js), on seeded random inputs — sizes from the smallest allowed up, ties,
 * extreme scales, constant samples, groups without positives.
 *
 * Every method goes through the functions the gate and the comparison call (src/core/stats, the bias check's
 * fairnessMetrics), not a copy. Each method has a stated tolerance |edd − ref| ≤ abs + rel·|ref| (NaN agrees with
 * NaN, ±inf with the same inf); a library that refuses an input (an exception) must be matched by EDD refusing it
 * (a RangeError). A disagreement prints the method, the seed and the input, and the tier exits 1.
 *
 * Usage: node out/test/reference/run.js [--cases N] [--only METHOD[,METHOD]] [--seed S]
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { fairnessMetrics } from '../../src/core/checks/bias';
import {
  accuracy, agrestiCoullInterval, averagePrecision, averagePrecisionOvr, clopperPearsonInterval, cohenKappa, jeffreysInterval, jensenShannonDistance,
  ks2Samp, linfDistance, matthewsCorrcoef, mcnemarChiSquare, mcnemarExact, mulberry32, normalInterval, precisionRecallCurve, precisionRecallF1,
  holm, oneWayAnova, rocAuc, rocAucOvr, studentTTest, variance, wassersteinDistance, welchTTest, wilsonInterval, type Alternative, type Random,
} from '../../src/core/stats';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const PYTHON = path.join(ROOT, '.venv', 'bin', 'python');

type Numbers = Record<string, number>;
type Input = Record<string, unknown>;
interface Method {
  /** What EDD answers (throws when EDD refuses the input). */
  edd: (input: Input) => Numbers;
  /** A random input from the case's own generator. */
  generate: (r: Random) => Input;
  abs: number;
  rel: number;
  /** A comparison of its own instead of the tolerance (returns why they disagree, or undefined). */
  compare?: (input: Input, edd: Numbers, ref: Record<string, number>, m: Method) => string | undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// Random inputs

const int = (r: Random, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
const pick = <T>(r: Random, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
function normal(r: Random): number {
  const u = Math.max(r(), 1e-300);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r());
}
/** A sample of n numbers of one of several shapes: spread, ties, extreme scale, a large offset, constant. */
function sample(r: Random, n: number, shape = pick(r, ['normal', 'normal', 'ties', 'extreme', 'offset', 'constant', 'skewed'] as const)): number[] {
  const scale = 10 ** int(r, -3, 3);
  const shift = normal(r) * scale;
  switch (shape) {
    case 'normal': return Array.from({ length: n }, () => shift + normal(r) * scale);
    case 'ties': return Array.from({ length: n }, () => int(r, 0, 4));
    case 'extreme': { const s = 10 ** int(r, -8, 8); return Array.from({ length: n }, () => normal(r) * s); }
    case 'offset': return Array.from({ length: n }, () => 1e6 + normal(r) * 1e-3);
    case 'constant': { const c = Math.round(shift * 100) / 100; return Array.from({ length: n }, () => c); }
    case 'skewed': return Array.from({ length: n }, () => Math.exp(normal(r) * 2));
  }
}
const size = (r: Random, lo: number, hi: number) => (r() < 0.1 ? int(r, hi, hi * 5) : int(r, lo, hi));
function labels(r: Random, n: number, classes: readonly (string | number)[]): (string | number)[] {
  const weights = classes.map(() => r() + 0.05);
  const total = weights.reduce((a, b) => a + b, 0);
  return Array.from({ length: n }, () => {
    let x = r() * total;
    for (let k = 0; k < classes.length; k++) { x -= weights[k]; if (x <= 0) return classes[k]; }
    return classes[classes.length - 1];
  });
}
/** Predictions that agree with the truth with probability `skill`, else a random class. */
const predictFrom = (r: Random, truth: readonly (string | number)[], classes: readonly (string | number)[], skill = r()) =>
  truth.map(y => (r() < skill ? y : pick(r, classes)));

// ---------------------------------------------------------------------------------------------------------------
// Methods

/**
 * t-tests on floating-point data: when a sample's spread is below the resolution of its values (a constant sample,
 * or 1e6 ± 1e-16), its variance is rounding noise — EDD says 0 exactly (t = ±inf), numpy's summation leaves a
 * residue (a huge finite t). Those agree when the sign agrees and |t| > 1e8 (p < 1e-15 either way). Otherwise the
 * digits lost to cancellation grow with κ = max|x| / sd, so the tolerance is max(rel, 1e-13·κ).
 */
function compareT(i: Input, edd: Numbers, ref: Record<string, number>, m: Method): string | undefined {
  const a = i.a as number[];
  const b = i.b as number[];
  // A single observation has no spread of its own (Student's t with n = 1): only the other sample's counts.
  const sd = (x: number[]) => (x.length > 1 ? Math.sqrt(variance(x)) : Infinity);
  const maxAbs = Math.max(...a.map(Math.abs), ...b.map(Math.abs));
  const minSd = Math.min(sd(a), sd(b));
  if (!(minSd > 1e-13 * maxAbs)) {
    const es = edd.statistic, rs = ref.statistic;
    if (Number.isNaN(es) || Number.isNaN(rs)) return Number.isNaN(es) && Number.isNaN(rs) ? undefined : `statistic: EDD ${es} vs reference ${rs} on a numerically constant sample`;
    const huge = (x: number) => Math.abs(x) > 1e8;
    if (Math.sign(es) === Math.sign(rs) && huge(es) && huge(rs)) return undefined;
    // One sample constant, the other not: an ordinary (finite) t, compared below.
    const maxSd = Math.max(...[a, b].filter(x => x.length > 1).map(sd));
    if (!huge(es) && !huge(rs) && minSd > 0) return compareWith(edd, ref, { ...m, rel: Math.max(m.rel, 1e-13 * maxAbs / maxSd) });
    if (!huge(es) && !huge(rs)) return compareWith(edd, ref, m);
    return `statistic: EDD ${es} vs reference ${rs} on a numerically constant sample`;
  }
  return compareWith(edd, ref, { ...m, rel: Math.max(m.rel, 1e-13 * maxAbs / minSd) });
}

const tt = (f: typeof welchTTest) => (i: Input): Numbers => {
  const res = f(i.a as number[], i.b as number[], { alternative: (i.alternative as Alternative | undefined) ?? 'two-sided' });
  return { statistic: res.statistic, pValue: res.pValue, df: res.df };
};
const ksm = (mode: 'exact' | 'asymp') => (i: Input): Numbers => {
  const res = ks2Samp(i.a as number[], i.b as number[], { mode, alternative: (i.alternative as Alternative | undefined) ?? 'two-sided' });
  return { statistic: res.statistic, pValue: res.pValue, location: res.location, sign: res.sign };
};
const oneSided = (r: Random): Alternative => pick(r, ['less', 'greater'] as const);
/** Two samples where the second is sometimes shifted, so one-sided p-values span (0, 1). */
const shiftedPair = (r: Random, lo: number, hi: number, sizeOf = size) => {
  const a = sample(r, sizeOf(r, lo, hi));
  const shift = r() < 0.5 ? 0 : normal(r) * (Math.max(...a.map(Math.abs)) || 1);
  return { a, b: sample(r, sizeOf(r, lo, hi)).map(v => v + shift) };
};
/** Binary-class scores of `n` examples, some tied, some at the extremes 0 and 1. */
const binaryScores = (r: Random, yTrue: readonly number[]) => {
  const ties = r() < 0.4;
  return yTrue.map(y => {
    if (r() < 0.05) return pick(r, [0, 1]);
    const s = 1 / (1 + Math.exp(-(normal(r) + (y ? r() * 2 : 0))));
    return ties ? Math.round(s * 5) / 5 : s;
  });
};
/** Up to 4 classes' probability rows (sum 1), some tied. */
const probabilityRows = (r: Random, yTrue: readonly number[], classes: readonly number[]) => {
  const ties = r() < 0.3;
  return yTrue.map(y => {
    const raw = classes.map(c => Math.exp(normal(r) + (c === y ? r() * 2 : 0)));
    const rounded = ties ? raw.map(x => Math.max(1, Math.round(x * 2))) : raw;
    const s = rounded.reduce((a, b) => a + b, 0);
    return rounded.map(x => x / s);
  });
};
const interval = (f: typeof wilsonInterval) => (i: Input): Numbers => {
  const w = f(i.successes as number, i.n as number, { confidence: i.confidence as number });
  return { low: w.low, high: w.high };
};
const fairnessGenerate = (weighted: boolean) => (r: Random): Input => {
  const n = size(r, 2, 120); // Fairlearn refuses a single row ("Feature array has too many dimensions")
  const groupNames = ['f', 'm', 'x', 'unknown', 'n/a'].slice(0, int(r, 1, 5));
  const groups = labels(r, n, groupNames) as string[];
  const yTrue = labels(r, n, ['yes', 'no']) as string[];
  // Sometimes a group has no positive (or no negative) examples (Fairlearn: its TPR / FPR is 0).
  if (r() < 0.3) groups.forEach((g, j) => { if (g === groupNames[0]) yTrue[j] = 'no'; });
  if (r() < 0.15) groups.forEach((g, j) => { if (g === groupNames[groupNames.length - 1]) yTrue[j] = 'yes'; });
  const yPred = r() < 0.1 ? yTrue.map(() => 'no') : r() < 0.05 ? yTrue.map(() => 'yes') : (predictFrom(r, yTrue, ['yes', 'no']) as string[]);
  const input: Input = { yTrue, yPred, groups, positive: 'yes', method: pick(r, ['between_groups', 'to_overall']) };
  if (weighted) {
    const scale = 10 ** int(r, -3, 3);
    // Zero weights on some rows, never on a whole group (Fairlearn refuses a group whose weights sum to 0; tested apart).
    const w = groups.map(() => (r() < 0.15 ? 0 : (r() < 0.3 ? int(r, 1, 5) : r() + 0.01) * scale));
    const firstOf = new Map<string, number>();
    groups.forEach((g, j) => { if (!firstOf.has(g)) firstOf.set(g, j); });
    for (const j of firstOf.values()) if (w[j] === 0) w[j] = scale;
    input.weights = w;
  }
  return input;
};
const fairnessEdd = (i: Input): Numbers => {
  const m = fairnessMetrics(i.yTrue as string[], i.yPred as string[], i.groups as string[], i.positive as string, {
    method: (i.method as 'between_groups' | 'to_overall' | undefined) ?? 'between_groups', weights: i.weights as number[] | undefined,
  });
  const nan = (x: number | null) => (x === null ? NaN : x);
  return {
    demographic_parity_difference: m.demographic_parity_difference,
    demographic_parity_ratio: nan(m.demographic_parity_ratio),
    equal_opportunity_difference: m.equal_opportunity_difference,
    equal_opportunity_ratio: nan(m.equal_opportunity_ratio),
    equalized_odds_difference: m.equalized_odds_difference,
    equalized_odds_ratio: nan(m.equalized_odds_ratio),
  };
};
const mcInput = (r: Random): Input => {
  const big = r() < 0.2;
  return { a: int(r, 0, 50), b: int(r, 0, big ? 2000 : 40), c: int(r, 0, big ? 2000 : 40), d: int(r, 0, 50) };
};
const propInput = (r: Random): Input => {
  const n = size(r, 1, 200);
  const successes = pick(r, ['zero', 'all', 'any', 'any', 'any']) === 'zero' ? 0 : r() < 0.25 ? n : int(r, 0, n);
  return { successes, n, confidence: pick(r, [0.8, 0.9, 0.95, 0.99, 0.999]) };
};
const prfOf = (average: 'binary' | 'macro' | 'weighted') => (i: Input): Numbers => {
  const res = precisionRecallF1(i.yTrue as (string | number)[], i.yPred as (string | number)[], { average, posLabel: i.posLabel as string | number | undefined, zeroDivision: 0 });
  return { precision: res.precision, recall: res.recall, f1: res.f1 };
};
const multiclass = (r: Random): Input => {
  const classes = pick(r, [[0, 1, 2], ['cat', 'dog', 'emu', 'fox'], [3, 7, 11, 13, 17], ['a', 'b']]);
  const yTrue = labels(r, size(r, 1, 80), classes);
  return { yTrue, yPred: predictFrom(r, yTrue, classes) };
};

const METHODS: Record<string, Method> = {
  welch_t: { edd: tt(welchTTest), generate: r => ({ a: sample(r, size(r, 2, 40)), b: sample(r, size(r, 2, 40)) }), abs: 1e-12, rel: 1e-8, compare: compareT },
  student_t: { edd: tt(studentTTest), generate: r => ({ a: sample(r, size(r, 2, 40)), b: sample(r, size(r, 2, 40)) }), abs: 1e-12, rel: 1e-8, compare: compareT },
  ks_exact: { edd: ksm('exact'), generate: r => ({ a: sample(r, int(r, 1, 60)), b: sample(r, int(r, 1, 60)) }), abs: 1e-10, rel: 1e-7 },
  ks_asymp: { edd: ksm('asymp'), generate: r => ({ a: sample(r, size(r, 1, 100)), b: sample(r, size(r, 1, 100)) }), abs: 1e-12, rel: 1e-8 },
  wasserstein: {
    edd: i => ({ distance: wassersteinDistance(i.u as number[], i.v as number[], i.uWeights as number[] | undefined, i.vWeights as number[] | undefined) }),
    generate: r => {
      const u = sample(r, int(r, 1, 50));
      const v = sample(r, int(r, 1, 50));
      const weighted = r() < 0.4;
      return weighted ? { u, v, uWeights: u.map(() => int(r, 1, 10) / int(r, 1, 4)), vWeights: v.map(() => r() + 0.01) } : { u, v };
    },
    abs: 1e-12, rel: 1e-9,
  },
  jensenshannon: {
    edd: i => ({ distance: jensenShannonDistance(i.p as number[], i.q as number[], { base: 2 }) }),
    generate: r => {
      const k = int(r, 1, 20);
      const vec = () => { const x: number[] = Array.from({ length: k }, () => (r() < 0.25 ? 0 : r() * 10 ** int(r, -3, 3))); if (!x.some(v => v > 0)) x[0] = 1; return x; };
      return { p: vec(), q: vec() };
    },
    abs: 1e-12, rel: 1e-9,
  },
  mcnemar_exact: { edd: i => { const m = mcnemarExact(i.b as number, i.c as number); return { statistic: m.statistic, pValue: m.pValue }; }, generate: mcInput, abs: 1e-12, rel: 1e-9 },
  mcnemar_chi2: { edd: i => { const m = mcnemarChiSquare(i.b as number, i.c as number, { correction: false }); return { statistic: m.statistic, pValue: m.pValue }; }, generate: mcInput, abs: 1e-12, rel: 1e-9 },
  mcnemar_chi2_corrected: { edd: i => { const m = mcnemarChiSquare(i.b as number, i.c as number, { correction: true }); return { statistic: m.statistic, pValue: m.pValue }; }, generate: mcInput, abs: 1e-12, rel: 1e-9 },
  wilson: { edd: i => { const w = wilsonInterval(i.successes as number, i.n as number, { confidence: i.confidence as number }); return { low: w.low, high: w.high }; }, generate: propInput, abs: 1e-12, rel: 1e-9 },
  clopper_pearson: { edd: i => { const w = clopperPearsonInterval(i.successes as number, i.n as number, { confidence: i.confidence as number }); return { low: w.low, high: w.high }; }, generate: propInput, abs: 1e-12, rel: 1e-8 },
  accuracy: { edd: i => ({ accuracy: accuracy(i.yTrue as (string | number)[], i.yPred as (string | number)[]) }), generate: multiclass, abs: 1e-15, rel: 1e-12 },
  prf_binary: {
    edd: prfOf('binary'),
    generate: r => { const yTrue = labels(r, size(r, 1, 80), [0, 1]); return { yTrue, yPred: predictFrom(r, yTrue, [0, 1]), posLabel: 1 }; },
    abs: 1e-15, rel: 1e-12,
  },
  prf_macro: { edd: prfOf('macro'), generate: multiclass, abs: 1e-15, rel: 1e-12 },
  prf_weighted: { edd: prfOf('weighted'), generate: multiclass, abs: 1e-15, rel: 1e-12 },
  roc_auc_binary: {
    edd: i => ({ auc: rocAuc(i.yTrue as number[], i.scores as number[], 1) }),
    generate: r => {
      const n = size(r, 2, 80);
      const yTrue = labels(r, n, [0, 1]);
      yTrue[0] = 0; yTrue[1] = 1; // both classes present (scikit-learn refuses one class; tested apart)
      const ties = r() < 0.4;
      return { yTrue, scores: yTrue.map(y => { const s = 1 / (1 + Math.exp(-(normal(r) + (y ? r() * 2 : 0)))); return ties ? Math.round(s * 5) / 5 : s; }) };
    },
    abs: 1e-12, rel: 1e-10,
  },
  roc_auc_ovr: {
    edd: i => ({ auc: rocAucOvr(i.yTrue as number[], i.scores as number[][], { labels: i.labels as number[] }) }),
    generate: r => {
      const k = int(r, 3, 5);
      const classes = Array.from({ length: k }, (_, j) => j);
      const n = size(r, k, 80);
      const yTrue = labels(r, n, classes);
      classes.forEach((c, j) => { yTrue[j] = c; });
      const ties = r() < 0.3;
      const scores = yTrue.map(y => {
        const raw = classes.map(c => Math.exp(normal(r) + (c === y ? r() * 2 : 0)));
        const rounded = ties ? raw.map(x => Math.max(1, Math.round(x * 2))) : raw;
        const s = rounded.reduce((a, b) => a + b, 0);
        return rounded.map(x => x / s);
      });
      return { yTrue, scores, labels: classes };
    },
    abs: 1e-12, rel: 1e-10,
  },
  fairness: { edd: fairnessEdd, generate: r => { const i = fairnessGenerate(false)(r); delete i.method; return i; }, abs: 1e-15, rel: 1e-12 },
  fairness_to_overall: { edd: fairnessEdd, generate: r => ({ ...fairnessGenerate(false)(r), method: 'to_overall' }), abs: 1e-15, rel: 1e-12 },
  fairness_weighted: { edd: fairnessEdd, generate: fairnessGenerate(true), abs: 1e-14, rel: 1e-11 },
  welch_t_one_sided: { edd: tt(welchTTest), generate: r => ({ ...shiftedPair(r, 2, 40), alternative: oneSided(r) }), abs: 1e-12, rel: 1e-8, compare: compareT },
  student_t_one_sided: { edd: tt(studentTTest), generate: r => ({ ...shiftedPair(r, 2, 40), alternative: oneSided(r) }), abs: 1e-12, rel: 1e-8, compare: compareT },
  student_t_n1: {
    edd: tt(studentTTest),
    generate: r => {
      const many = sample(r, size(r, 1, 30));
      const one = sample(r, 1);
      const [a, b] = r() < 0.5 ? [one, many] : [many, one];
      return { a, b, alternative: pick(r, ['two-sided', 'two-sided', 'less', 'greater']) };
    },
    abs: 1e-12, rel: 1e-8, compare: compareT,
  },
  ks_exact_one_sided: { edd: ksm('exact'), generate: r => ({ ...shiftedPair(r, 1, 60, int), alternative: oneSided(r) }), abs: 1e-10, rel: 1e-7 },
  ks_asymp_one_sided: { edd: ksm('asymp'), generate: r => ({ ...shiftedPair(r, 1, 100), alternative: oneSided(r) }), abs: 1e-12, rel: 1e-8 },
  ks_infinite: {
    edd: ksm('exact'),
    generate: r => {
      const withInf = (x: number[]) => x.map(v => (r() < 0.15 ? pick(r, [Infinity, -Infinity]) : v));
      const { a, b } = shiftedPair(r, 1, 40, int);
      return { a: withInf(a), b: withInf(b), alternative: pick(r, ['two-sided', 'less', 'greater']) };
    },
    abs: 1e-10, rel: 1e-7,
  },
  normal_interval: { edd: interval(normalInterval), generate: propInput, abs: 1e-12, rel: 1e-9 },
  agresti_coull: { edd: interval(agrestiCoullInterval), generate: propInput, abs: 1e-12, rel: 1e-9 },
  jeffreys: { edd: interval(jeffreysInterval), generate: propInput, abs: 1e-12, rel: 1e-8 },
  fbeta: {
    edd: i => {
      const res = precisionRecallF1(i.yTrue as (string | number)[], i.yPred as (string | number)[], {
        average: i.average as 'binary' | 'macro' | 'micro' | 'weighted', posLabel: i.posLabel as string | number | undefined, zeroDivision: 0, beta: i.beta as number,
      });
      return { fbeta: res.fBeta };
    },
    generate: r => {
      const beta = pick(r, [0, 0.5, 1, 2, 3.7, 1e-3, 100]);
      if (r() < 0.4) { const yTrue = labels(r, size(r, 1, 80), [0, 1]); return { yTrue, yPred: r() < 0.1 ? yTrue.map(() => 0) : predictFrom(r, yTrue, [0, 1]), posLabel: 1, average: 'binary', beta }; }
      return { ...multiclass(r), average: pick(r, ['macro', 'micro', 'weighted']), beta };
    },
    abs: 1e-15, rel: 1e-12,
  },
  matthews_corrcoef: {
    edd: i => ({ mcc: matthewsCorrcoef(i.yTrue as (string | number)[], i.yPred as (string | number)[]) }),
    generate: r => {
      const i = multiclass(r);
      if (r() < 0.1) i.yPred = (i.yTrue as unknown[]).map(() => (i.yTrue as unknown[])[0]); // one predicted class: MCC 0
      return i;
    },
    abs: 1e-14, rel: 1e-12,
  },
  cohen_kappa: {
    edd: i => ({ kappa: cohenKappa(i.yTrue as (string | number)[], i.yPred as (string | number)[], { weights: i.weights as 'linear' | 'quadratic' | undefined }) }),
    generate: r => {
      const i = multiclass(r);
      if (r() < 0.1) { i.yPred = (i.yTrue as unknown[]).map(() => (i.yTrue as unknown[])[0]); i.yTrue = i.yPred; } // one label: undefined
      const w = pick(r, [undefined, 'linear', 'quadratic']);
      return w ? { ...i, weights: w } : i;
    },
    abs: 1e-14, rel: 1e-12,
  },
  average_precision: {
    edd: i => ({ ap: averagePrecision(i.yTrue as number[], i.scores as number[], 1) }),
    generate: r => {
      const yTrue = labels(r, size(r, 1, 80), [0, 1]) as number[];
      if (r() < 0.05) yTrue.fill(0); // no positive: AP 0
      return { yTrue, scores: binaryScores(r, yTrue) };
    },
    abs: 1e-14, rel: 1e-12,
  },
  average_precision_ovr: {
    edd: i => ({ ap: averagePrecisionOvr(i.yTrue as number[], i.scores as number[][], i.labels as number[], i.average as 'macro' | 'weighted' | 'micro').value }),
    generate: r => {
      const k = int(r, 3, 5);
      const classes = Array.from({ length: k }, (_, j) => j);
      const yTrue = labels(r, size(r, 1, 80), classes) as number[];
      return { yTrue, scores: probabilityRows(r, yTrue, classes), labels: classes, average: pick(r, ['macro', 'weighted', 'micro']) };
    },
    abs: 1e-14, rel: 1e-12,
  },
  precision_recall_curve: {
    edd: i => {
      const c = precisionRecallCurve(i.yTrue as number[], i.scores as number[], 1);
      const out: Numbers = { points: c.thresholds.length };
      c.precision.forEach((v, k) => { out[`p${k}`] = v; });
      c.recall.forEach((v, k) => { out[`r${k}`] = v; });
      c.thresholds.forEach((v, k) => { out[`t${k}`] = v; });
      return out;
    },
    generate: r => {
      const yTrue = labels(r, size(r, 1, 60), [0, 1]) as number[];
      if (r() < 0.05) yTrue.fill(0);
      return { yTrue, scores: binaryScores(r, yTrue) };
    },
    abs: 1e-15, rel: 1e-12,
  },
  linf: {
    edd: i => ({ distance: linfDistance(i.p as number[], i.q as number[]) }),
    generate: r => {
      const k = int(r, 1, 20);
      const vec = () => { const x: number[] = Array.from({ length: k }, () => (r() < 0.25 ? 0 : r() < 0.5 ? int(r, 1, 50) : r() * 10 ** int(r, -3, 6))); if (!x.some(v => v > 0)) x[0] = 1; return x; };
      return { p: vec(), q: vec() };
    },
    abs: 1e-15, rel: 1e-12,
  },
  holm: {
    edd: i => {
      const r = holm(i.p as number[], i.alpha as number);
      const out: Numbers = {};
      r.adjusted.forEach((v, k) => { out[`p${k}`] = v; });
      r.reject.forEach((v, k) => { out[`reject${k}`] = v ? 1 : 0; });
      return out;
    },
    generate: r => {
      const m = size(r, 1, 40);
      // Small p-values (several significant), ties, exact 0 and 1.
      const p = Array.from({ length: m }, () => (r() < 0.05 ? pick(r, [0, 1]) : r() < 0.2 ? int(r, 1, 5) / 100 : r() < 0.5 ? r() * 10 ** -int(r, 1, 8) : r()));
      return { p, alpha: pick(r, [0.01, 0.05, 0.1, 0.2]) };
    },
    abs: 1e-15, rel: 1e-12,
  },
  anova_oneway: {
    edd: i => {
      const a = oneWayAnova(i.groups as number[][]);
      return { statistic: a.statistic, pValue: a.pValue, etaSquared: a.etaSquared, ssTotal: a.ssTotal };
    },
    generate: r => {
      const k = int(r, 2, 8);
      const shape = pick(r, ['normal', 'normal', 'ties', 'extreme', 'skewed', 'constant'] as const);
      // Group means apart by a random effect, so η² spans (0, 1); sometimes a group of one.
      const effect = r() * 3;
      const groups = Array.from({ length: k }, () => {
        const shift = normal(r) * effect;
        return sample(r, r() < 0.1 ? 1 : size(r, 2, 30), shape).map(v => v + shift * (Math.abs(v) || 1));
      });
      return { groups };
    },
    abs: 1e-12, rel: 1e-8,
    // F divides by the within-group sum of squares: when it is a tiny share of the total (η² → 1), the digits lost
    // to cancellation grow as 1 / (1 − η²), as for the t-tests' conditioning above.
    // p inherits F's relative error times the tail's condition number F·pdf(F)/sf(F) (large far in the tail).
    compare: (_i, edd, ref, m) => {
      const rel = Math.max(m.rel, 1e-13 / Math.max(1e-300, 1 - (ref.etaSquared || 0)));
      const { pValue, ...rest } = edd;
      return compareWith(rest, ref, { ...m, rel }) ?? compareWith({ pValue }, ref, { abs: 1e-300, rel: Math.max(1e-12, rel * Math.max(1, ref.pCondition || 0)) });
    },
  },
};

// ---------------------------------------------------------------------------------------------------------------
// Comparison

const fromJson = (v: unknown): number => (v === 'nan' ? NaN : v === 'inf' ? Infinity : v === '-inf' ? -Infinity : Number(v));
const toJson = (v: number): number | string => (Number.isNaN(v) ? 'nan' : v === Infinity ? 'inf' : v === -Infinity ? '-inf' : v);
/** |edd − ref| as a fraction of the tolerance (≤ 1 agrees); NaN agrees with NaN, ±inf with the same inf. */
function fractionOfTolerance(edd: number, ref: number, m: Pick<Method, 'abs' | 'rel'>): number {
  if (Number.isNaN(ref) || Number.isNaN(edd)) return Number.isNaN(ref) && Number.isNaN(edd) ? 0 : Infinity;
  if (!Number.isFinite(ref) || !Number.isFinite(edd)) return edd === ref ? 0 : Infinity;
  return Math.abs(edd - ref) / (m.abs + m.rel * Math.abs(ref));
}
let worst = 0;
function compareWith(edd: Numbers, ref: Record<string, number>, m: Pick<Method, 'abs' | 'rel'>): string | undefined {
  for (const [key, value] of Object.entries(edd)) {
    const f = fractionOfTolerance(value, ref[key], m);
    if (f > 1) return `${key}: EDD ${toJson(value)} vs reference ${toJson(ref[key])} (tolerance ${m.abs} + ${m.rel.toExponential(1)}·|ref|)`;
    worst = Math.max(worst, f);
  }
  return undefined;
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
}

function main(): void {
  const perMethod = Number(arg('cases') ?? 500);
  const baseSeed = Number(arg('seed') ?? 20261207);
  const only = arg('only')?.split(',');
  if (!fs.existsSync(PYTHON)) {
    console.error(`[reference] no Python test environment at ${path.relative(ROOT, PYTHON)}: run "node test/harness/setup.js" (npm test does it first)`);
    process.exit(2);
  }
  const names = Object.keys(METHODS).filter(n => !only || only.includes(n));
  const cases: Array<{ method: string; seed: number; input: Input; edd: Numbers | { error: string } }> = [];
  const t0 = Date.now();
  for (const [k, name] of names.entries()) {
    const m = METHODS[name];
    for (let i = 0; i < perMethod; i++) {
      const seed = baseSeed + k * 1_000_003 + i;
      const input = m.generate(mulberry32(seed));
      let edd: Numbers | { error: string };
      try {
        edd = m.edd(input);
      } catch (e) {
        edd = { error: `${(e as Error).name}: ${(e as Error).message}` };
      }
      cases.push({ method: name, seed, input, edd });
    }
  }
  const tEdd = Date.now() - t0;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edd-reference-'));
  const inFile = path.join(dir, 'cases.json');
  const outFile = path.join(dir, 'answers.json');
  fs.writeFileSync(inFile, JSON.stringify(cases.map(c => ({ method: c.method, input: c.input })), (_k, v: unknown) => (typeof v === 'number' ? toJson(v) : v)));
  const t1 = Date.now();
  const py = spawnSync(PYTHON, [path.join(ROOT, 'test', 'reference', 'reference.py'), inFile, outFile], { encoding: 'utf8', stdio: ['ignore', 'inherit', 'inherit'] });
  const tRef = Date.now() - t1;
  if (py.status !== 0) {
    console.error(`[reference] the Python side failed (exit ${py.status})`);
    process.exit(1);
  }
  const answers = JSON.parse(fs.readFileSync(outFile, 'utf8')) as Array<Record<string, unknown>>;
  fs.rmSync(dir, { recursive: true, force: true });

  const failures: string[] = [];
  const summary = new Map<string, { n: number; refused: number; maxRel: number; bad: number }>(); // maxRel: the largest difference as a fraction of the tolerance
  cases.forEach((c, idx) => {
    const ref = answers[idx];
    const s = summary.get(c.method) ?? { n: 0, refused: 0, maxRel: 0, bad: 0 };
    summary.set(c.method, s);
    s.n++;
    const m = METHODS[c.method];
    const report = (why: string) => {
      s.bad++;
      if (failures.length < 20) failures.push(`${c.method} seed ${c.seed}: ${why}\n    input: ${JSON.stringify(c.input, (_k, v: unknown) => (typeof v === 'number' ? toJson(v) : v)).slice(0, 2000)}`);
    };
    if ('error' in ref || 'error' in c.edd) {
      if ('error' in ref && 'error' in c.edd) { s.refused++; return; }
      report('error' in ref ? `the library refuses (${String(ref.error)}) but EDD answers ${JSON.stringify(c.edd)}` : `EDD refuses (${(c.edd as { error: string }).error}) but the library answers ${JSON.stringify(ref)}`);
      return;
    }
    const refNumbers = Object.fromEntries(Object.entries(ref).map(([k, v]) => [k, fromJson(v)]));
    worst = 0;
    const why = (m.compare ?? ((_i, e, r, mm) => compareWith(e, r, mm)))(c.input, c.edd as Numbers, refNumbers, m);
    s.maxRel = Math.max(s.maxRel, worst);
    if (why) report(why);
  });

  console.log(`[reference] ${cases.length} inputs (${perMethod} per method, seeds from ${baseSeed}); EDD ${tEdd} ms, Python ${tRef} ms`);
  for (const [name, s] of summary) {
    const m = METHODS[name];
    console.log(`  ${s.bad ? '✘' : '✔'} ${name.padEnd(24)} ${String(s.n).padStart(5)} inputs, ${String(s.refused).padStart(3)} refused by both, largest difference ${(100 * s.maxRel).toPrecision(2)}% of the tolerance (${m.abs} + ${m.rel}·|ref|${m.compare ? ', scaled by conditioning' : ''})${s.bad ? `, ${s.bad} DISAGREE` : ''}`);
  }
  if (failures.length) {
    console.error(`\n[reference] disagreements (first ${failures.length}):`);
    for (const f of failures) console.error(`  ${f}`);
    process.exit(1);
  }
}

main();
