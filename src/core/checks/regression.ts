/**
 * `regression` check: the candidate against the production model on the same evaluation rows. Fails when the
 * candidate's metric is lower than production's by more than `max_drop` AND, when a `test` is named, the
 * difference is significant at `alpha`:
 *
 * - `mcnemar`: exact McNemar test on per-row correctness (statsmodels `mcnemar(table, exact=True)`; it compares
 *   accuracy, so for precision/recall/F1 it is a proxy — use `bootstrap` to test those metrics themselves);
 * - `bootstrap`: seeded paired bootstrap of metric(candidate) − metric(production), percentile CI at 1 − alpha.
 *
 * A drop beyond `max_drop` that is not significant reports `warn` (the evidence is too thin to block, but the user
 * should look). Without a production model the check reports `warn` ("nothing to compare with": the first model
 * of a registry has no production version); pass `on_missing_production: error` to make that an error.
 */
import { t } from '../l10n';
import { mcnemarExact, mcnemarFromPredictions, pairedBootstrap, precisionRecallF1, accuracy, type Average } from '../stats';
import { checkAverage, checkMetricName, computeMetric, labelledRows, labelsAgainstClasses, metricLabel, type MetricName } from './metric';
import { labelOf } from './dataset';
import { fmt } from './format';
import { CheckInputError, guardCheck, optionalInteger, optionalNumber, specObject } from './harness';
import type { CheckResult, GateContext } from './types';

export interface RegressionSpec {
  metric: 'accuracy' | 'precision' | 'recall' | 'f1';
  max_drop: number;
  test?: 'mcnemar' | 'bootstrap';
  /** Significance level, default 0.05. */
  alpha?: number;
  /** Averaging for precision/recall/F1 (default macro, as the metric check). */
  average?: Average;
  pos_label?: string | number;
  /** Bootstrap resamples (default 1000) and seed (default 0). */
  resamples?: number;
  seed?: number;
  /** Status when no production model is given: `warn` (default) or `error`. */
  on_missing_production?: 'warn' | 'error';
}

/** Disagreeing rows listed in the evidence (the count is always complete). */
const MAX_DISAGREEMENTS = 50;

const REGRESSION_METRICS: readonly MetricName[] = ['accuracy', 'precision', 'recall', 'f1'];

/** The `regression` check. */
export async function regressionCheck(ctx: GateContext, spec: RegressionSpec, id: string): Promise<CheckResult> {
  const raw = (spec ?? {}) as unknown as Record<string, unknown>;
  const threshold: Record<string, unknown> = { max_drop: raw.max_drop };
  if (raw.test !== undefined) threshold.test = raw.test;
  if (raw.test !== undefined || raw.alpha !== undefined) threshold.alpha = raw.alpha ?? 0.05;
  const title = t('{0} does not drop by more than {1} vs production', String(raw.metric ?? 'metric'), String(raw.max_drop ?? '?'));
  return guardCheck('regression', id, title, threshold, () => {
    const s = specObject('regression', spec);
    const name = checkMetricName(s.metric, 'regression.metric', REGRESSION_METRICS);
    const maxDrop = optionalNumber(s, 'max_drop', 'regression');
    if (maxDrop === undefined || maxDrop < 0) throw new CheckInputError(t('`regression.max_drop` must be a number ≥ 0 (e.g. 0.01).'));
    const test = s.test;
    if (test !== undefined && test !== 'mcnemar' && test !== 'bootstrap') {
      throw new CheckInputError(t('`regression.test` must be `mcnemar` or `bootstrap`, got {0}.', JSON.stringify(test) ?? String(test)));
    }
    const alpha = optionalNumber(s, 'alpha', 'regression') ?? 0.05;
    if (!(alpha > 0 && alpha < 1)) throw new CheckInputError(t('`regression.alpha` must be between 0 and 1 (exclusive), got {0}.', alpha));
    const average = checkAverage(s.average, 'regression');
    const resamples = optionalInteger(s, 'resamples', 'regression', 1) ?? 1000;
    const seed = optionalInteger(s, 'seed', 'regression') ?? 0;

    const label = metricLabel(name, name === 'accuracy' ? null : (average ?? 'macro'));
    const shownTitle = t('{0} does not drop by more than {1} vs production', label, fmt(maxDrop));
    if (!ctx.outputs) throw new CheckInputError(t('the regression check needs the candidate\'s predictions: give an ONNX model or a predictions file.'));
    if (!ctx.production) {
      const status = s.on_missing_production === 'error' ? 'error' : 'warn';
      return {
        status, title: shownTitle, measured: {},
        message: t('no production model to compare with (none is in production yet, or none was given with `--production`): the regression check did not run.'),
      };
    }
    const cand = ctx.outputs;
    const prod = ctx.production;
    if (cand.yPred.length !== ctx.eval.rows || prod.yPred.length !== ctx.eval.rows) {
      throw new CheckInputError(t('the candidate has {0} predictions and production {1}, but the evaluation data has {2} rows: both must be scored on the same rows.', cand.yPred.length, prod.yPred.length, ctx.eval.rows));
    }
    const { rows, yTrue } = labelledRows(ctx);
    const labelColumn = labelOf(ctx);
    if (rows.length === 0) throw new CheckInputError(t('the label column `{0}` has no values: nothing to score.', labelColumn));
    labelsAgainstClasses(yTrue, cand.classes, labelColumn);
    labelsAgainstClasses(yTrue, prod.classes, labelColumn);
    const opts = { average, posLabel: s.pos_label as string | number | undefined };
    const c = computeMetric(name, yTrue, rows, cand, opts);
    const p = computeMetric(name, yTrue, rows, prod, opts);
    const difference = c.value - p.value;
    const drop = -difference;
    // Shadow evaluation: where the two models disagree, on the same rows.
    let agree = 0;
    const disagreements: Array<{ row: number; y_true: string; candidate: string; production: string }> = [];
    rows.forEach((r, j) => {
      if (cand.yPred[r] === prod.yPred[r]) agree++;
      else if (disagreements.length < MAX_DISAGREEMENTS) disagreements.push({ row: r + 1, y_true: yTrue[j], candidate: cand.yPred[r], production: prod.yPred[r] });
    });
    const measured: Record<string, unknown> = { [`candidate_${name}`]: c.value, [`production_${name}`]: p.value, difference, agreement_rate: agree / rows.length };
    const evidence: Record<string, unknown> = { rows: rows.length, production: prod.label, disagreement_count: rows.length - agree, disagreements };

    let significant: boolean | null = null;
    let pValue: number | null = null;
    if (test === 'mcnemar') {
      const table = mcnemarFromPredictions(yTrue, rows.map(i => cand.yPred[i]), rows.map(i => prod.yPred[i]));
      const r = mcnemarExact(table.b, table.c);
      measured.mcnemar_statistic = r.statistic;
      measured.mcnemar_p_value = r.pValue;
      evidence.test = 'mcnemar_exact';
      evidence.candidate_only_correct = table.b;
      evidence.production_only_correct = table.c;
      if (name !== 'accuracy') evidence.note = t('McNemar compares per-row correctness (accuracy); use `test: bootstrap` to test {0} itself.', name);
      pValue = r.pValue;
      significant = r.pValue < alpha;
    } else if (test === 'bootstrap') {
      const posLabel = c.posLabel ?? undefined;
      const avg = c.average ?? undefined;
      const metric = name === 'accuracy'
        ? (y: string[], pr: string[]) => accuracy(y, pr)
        : (y: string[], pr: string[]) => precisionRecallF1(y, pr, { average: avg, posLabel })[name as 'precision' | 'recall' | 'f1'];
      const r = pairedBootstrap(yTrue, rows.map(i => prod.yPred[i]), rows.map(i => cand.yPred[i]), metric, { resamples, seed, confidence: 1 - alpha });
      measured.ci_low = r.ci.low;
      measured.ci_high = r.ci.high;
      measured.p_value = r.pValue;
      evidence.test = 'paired_bootstrap';
      evidence.resamples = r.validResamples;
      evidence.seed = seed;
      evidence.confidence = 1 - alpha;
      pValue = r.pValue;
      significant = r.pValue < alpha;
    }

    const worse = drop > maxDrop;
    const what = t('{0}: candidate {1}, production {2} (difference {3})', label, fmt(c.value), fmt(p.value), fmt(difference));
    const pText = pValue === null ? '' : t(', p = {0}', fmt(pValue));
    if (!worse) {
      return { status: 'pass', title: shownTitle, measured, evidence, message: t('{0}{1}: within the allowed drop of {2}.', what, pText, fmt(maxDrop)) };
    }
    if (significant === false) {
      return {
        status: 'warn', title: shownTitle, measured, evidence,
        message: t('{0}{1}: the drop exceeds {2} but is not significant at alpha = {3}; evaluate on more rows to decide.', what, pText, fmt(maxDrop), fmt(alpha)),
      };
    }
    return {
      status: 'fail', title: shownTitle, measured, evidence,
      message: significant
        ? maxDrop === 0
          ? t('{0}{1}: the candidate is significantly worse than production; do not promote it.', what, pText)
          : t('{0}{1}: the candidate is significantly worse than production by more than {2}; do not promote it.', what, pText, fmt(maxDrop))
        : maxDrop === 0
          ? t('{0}: the candidate is worse than production; do not promote it.', what)
          : t('{0}: the candidate is worse than production by more than {1}; do not promote it.', what, fmt(maxDrop)),
    };
  });
}
