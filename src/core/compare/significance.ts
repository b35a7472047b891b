import { t } from '../l10n';
import { mcnemarChiSquare, mcnemarExact, mcnemarFromPredictions } from '../stats/mcnemar';
import { wilsonInterval } from '../stats/proportion';
import { welchTTest } from '../stats/ttest';
import { pairedBootstrap } from '../stats/bootstrap';
import { accuracy as accuracyScore, f1 as f1Score, rocAucOvr } from '../stats/classification';
import type { EvaluationRow, Goal, RateInterval, SignificanceResult } from './model';
import type { Predictions } from './predictions';

/** `p = 0.003`, `p < 0.001`. */
export function formatP(p: number): string {
  if (!Number.isFinite(p)) return 'p = n/a';
  if (p < 0.001) return 'p < 0.001';
  return `p = ${p < 0.01 ? p.toFixed(3) : p.toFixed(2)}`;
}

/** Plain verdict of "B against A" for a two-sided test of a difference with sign `diff` (B − A). */
function verdict(p: number, diff: number, goal: Goal, alpha: number, aName: string, bName: string): Pick<SignificanceResult, 'verdict' | 'outcome'> {
  if (!Number.isFinite(p)) return { verdict: t('cannot decide: the test is not defined for these values'), outcome: 'undecidable' };
  if (p >= alpha || diff === 0) return { verdict: t('no significant difference ({0})', formatP(p)), outcome: 'none' };
  const better = goal === 'max' ? diff > 0 : diff < 0;
  return better
    ? { verdict: t('{0} better than {1}, {2}', bName, aName, formatP(p)), outcome: 'better' }
    : { verdict: t('{0} worse than {1}, {2}', bName, aName, formatP(p)), outcome: 'worse' };
}

/** Welch's t on the final metric of two experiments' runs (seeds of each design). */
export function significanceBetweenGroups(a: string, b: string, metric: string, valuesA: number[], valuesB: number[], goal: Goal, alpha: number): SignificanceResult {
  // welchTTest(x, y) tests mean(x) − mean(y): pass B first so the difference and interval read as B − A.
  const r = welchTTest(valuesB, valuesA, { confidence: 1 - alpha });
  const base: SignificanceResult = {
    test: 'welch_t', metric, a, b, n: [valuesA.length, valuesB.length],
    statistic: Number.isFinite(r.statistic) ? r.statistic : null,
    df: Number.isFinite(r.df) ? r.df : null,
    p_value: Number.isFinite(r.pValue) ? r.pValue : null,
    ci_low: Number.isFinite(r.ci.low) ? r.ci.low : null,
    ci_high: Number.isFinite(r.ci.high) ? r.ci.high : null,
    confidence: 1 - alpha,
    difference: r.difference,
    alpha,
    verdict: '',
    outcome: 'undecidable',
  };
  if (valuesA.length < 2 || valuesB.length < 2) {
    return { ...base, verdict: t('cannot test: Welch\'s t needs at least two runs (seeds) on each side; {0} has {1}, {2} has {3}', a, valuesA.length, b, valuesB.length), outcome: 'undecidable' };
  }
  if (r.reason) return { ...base, verdict: t('cannot decide: {0}', r.reason), outcome: 'undecidable' };
  return { ...base, ...verdict(r.pValue, r.difference, goal, alpha, 'A', 'B') };
}

/**
 * McNemar on per-example correctness and a seeded paired bootstrap interval of the accuracy difference B − A.
 *
 * McNemar: the exact binomial p-value is always computed and decides the verdict — it is valid at every size and
 * costs nothing here; the chi-square with continuity correction (what many tools print for large samples) is reported
 * beside it (`chi2_statistic`, `p_value_chi2`), and `decided_by` says which one decided. Earlier versions switched to
 * the chi-square from 25 discordant examples on; near alpha the two can disagree, and the exact one is right.
 */
export function significanceOnPredictions(
  a: string, b: string, paired: { yTrue: string[]; predA: string[]; predB: string[] }, alpha: number, seed: number, resamples: number,
): SignificanceResult[] {
  const table = mcnemarFromPredictions(paired.yTrue, paired.predA, paired.predB);
  const discordant = table.b + table.c;
  const m = mcnemarExact(table.b, table.c);
  const chi = mcnemarChiSquare(table.b, table.c, { correction: true });
  const accA = accuracyScore(paired.yTrue, paired.predA);
  const accB = accuracyScore(paired.yTrue, paired.predB);
  const diff = accB - accA;
  const out: SignificanceResult[] = [];
  const finite = (x: number) => (Number.isFinite(x) ? x : null);
  const mc: SignificanceResult = {
    test: 'mcnemar_exact', metric: 'accuracy', a, b, n: table.n,
    statistic: m.statistic, p_value: finite(m.pValue), difference: diff, alpha,
    discordant: [table.b, table.c], verdict: '', outcome: 'undecidable',
    p_value_exact: finite(m.pValue), chi2_statistic: finite(chi.statistic), p_value_chi2: finite(chi.pValue), decided_by: 'exact',
  };
  if (discordant === 0) {
    out.push({ ...mc, p_value: 1, verdict: t('no significant difference: both runs are right and wrong on exactly the same examples'), outcome: 'none' });
  } else {
    out.push({ ...mc, ...verdict(m.pValue, diff, 'max', alpha, 'A', 'B') });
  }
  const boot = pairedBootstrap(paired.yTrue, paired.predA, paired.predB, accuracyScore, { resamples, confidence: 1 - alpha, seed });
  out.push({
    test: 'paired_bootstrap', metric: 'accuracy', a, b, n: table.n, statistic: boot.difference, p_value: boot.pValue,
    ci_low: boot.ci.low, ci_high: boot.ci.high, confidence: 1 - alpha, difference: boot.difference, alpha, resamples: boot.resamples,
    ...verdict(boot.pValue, boot.difference, 'max', alpha, 'A', 'B'),
  });
  return out;
}

/** Wilson interval of a run's accuracy on its predictions. */
export function wilsonOnPredictions(runId: string, p: Predictions, confidence: number): RateInterval {
  let ok = 0;
  for (let i = 0; i < p.yTrue.length; i++) if (p.yTrue[i] === p.yPred[i]) ok++;
  const w = wilsonInterval(ok, p.yTrue.length, { confidence });
  return { runId, metric: 'accuracy', successes: ok, n: p.yTrue.length, rate: w.rate, wilson_low: w.low, wilson_high: w.high, confidence };
}

/** Accuracy, macro F1 and one-vs-rest macro ROC AUC recomputed from a predictions file. */
export function evaluatePredictions(runId: string, p: Predictions): EvaluationRow {
  const classes = Object.keys(p.scores);
  let auc: number | null = null;
  if (classes.length >= 2) {
    const matrix = p.yTrue.map((_, i) => classes.map(c => p.scores[c][i]));
    const value = rocAucOvr(p.yTrue, matrix, { labels: classes });
    auc = Number.isFinite(value) ? value : null;
  }
  return { runId, n: p.yTrue.length, accuracy: accuracyScore(p.yTrue, p.yPred), f1: f1Score(p.yTrue, p.yPred, { average: 'macro' }), roc_auc: auc };
}
