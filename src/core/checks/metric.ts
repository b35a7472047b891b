/**
 * `metric` check: a classification metric of the candidate on the evaluation rows, between `min` and `max`.
 * Definitions are scikit-learn's (src/core/stats): `accuracy_score`, `precision_score` / `recall_score` / `f1_score` /
 * `fbeta_score` (`f_beta` with `beta`) with `average` and `pos_label`, `matthews_corrcoef`, `cohen_kappa_score` (of
 * the labels against the predictions, `weights` linear or quadratic), `roc_auc_score` (binary, or `multi_class='ovr'`
 * with `average` macro or weighted) and `average_precision_score` (binary on the positive class's score, or one-vs-rest
 * with `average` macro, weighted or micro).
 */
import { t } from '../l10n';
import {
  accuracy, averagePrecision, averagePrecisionOvr, cohenKappa, matthewsCorrcoef, precisionRecallF1, rocAuc, rocAucOvrPerClass, type Average,
} from '../stats';
import { sortLabels } from './bias';
import { fmt, nameList } from './format';
import { CheckInputError, guardCheck, optionalNumber, rejectUnknownOptions, specObject } from './harness';
import { labelOf } from './dataset';
import { labelStrings } from './model';
import type { CheckResult, GateContext, ModelOutputs } from './types';

export type MetricName = 'accuracy' | 'precision' | 'recall' | 'f1' | 'roc_auc' | 'f_beta' | 'matthews_corrcoef' | 'cohen_kappa' | 'average_precision';

export interface MetricSpec {
  name: MetricName;
  /** Averaging of precision, recall, F1 and (macro / weighted only) ROC AUC. Default `macro`. */
  average?: Average;
  /** Positive class for `average: binary` (and binary ROC AUC). Default: the model's second class. */
  pos_label?: string | number;
  /** β of `f_beta` (required there): recall counts β times as much as precision. */
  beta?: number;
  /** `cohen_kappa` only: `linear` or `quadratic` weights for ordered classes (numeric order when every class is a number). */
  weights?: 'linear' | 'quadratic';
  min?: number;
  max?: number;
}

export const METRIC_NAMES: readonly MetricName[] = [
  'accuracy', 'precision', 'recall', 'f1', 'roc_auc', 'f_beta', 'matthews_corrcoef', 'cohen_kappa', 'average_precision',
];
const AVERAGES: readonly Average[] = ['macro', 'micro', 'weighted', 'binary'];

/** A metric's value and what else it produced (per-class scores for the evidence). */
export interface MetricValue {
  value: number;
  /** The averaging used (null for accuracy). */
  average: Average | null;
  /** The positive class, for binary averaging / binary ROC AUC. */
  posLabel: string | null;
  perClass?: Array<Record<string, unknown>>;
}

/** Rows whose label is present, the labels there, and the count of rows without a label. */
export function labelledRows(ctx: GateContext): { rows: number[]; yTrue: string[]; missing: number } {
  const labels = labelStrings(ctx.eval, labelOf(ctx));
  const rows: number[] = [];
  const yTrue: string[] = [];
  labels.forEach((l, i) => {
    if (l !== null) { rows.push(i); yTrue.push(l); }
  });
  return { rows, yTrue, missing: labels.length - rows.length };
}

/**
 * Refuses labels that share no value with the model's class names (e.g. labels `Adelie`… against the default names
 * `class_0`…): every prediction would count as wrong and the metric would silently be 0. Returns the labels that
 * are not classes (a new class in the data is legitimate, and counts as errors).
 */
export function labelsAgainstClasses(yTrue: readonly string[], classes: readonly string[], label: string): string[] {
  const known = new Set(classes);
  const unknown = [...new Set(yTrue)].filter(l => !known.has(l)).sort();
  if (unknown.length > 0 && unknown.length === new Set(yTrue).size) {
    throw new CheckInputError(t('no label in `{0}` ({1}) is one of the model\'s classes ({2}): set `data.classes` in the policy to the class names in output order, or write them into the model\'s metadata (`classes`).', label, nameList(unknown), nameList(classes)));
  }
  return unknown;
}

export function checkMetricName(name: unknown, kind: string, allowed: readonly MetricName[] = METRIC_NAMES): MetricName {
  if (typeof name !== 'string' || !(allowed as readonly string[]).includes(name)) {
    throw new CheckInputError(t('`{0}` metric must be one of {1}, got {2}.', kind, allowed.join(', '), JSON.stringify(name) ?? String(name)));
  }
  return name as MetricName;
}

export function checkAverage(average: unknown, kind: string): Average | undefined {
  if (average === undefined || average === null) return undefined;
  if (typeof average !== 'string' || !(AVERAGES as readonly string[]).includes(average)) {
    throw new CheckInputError(t('`{0}.average` must be one of {1}, got {2}.', kind, AVERAGES.join(', '), JSON.stringify(average) ?? String(average)));
  }
  return average as Average;
}

/**
 * `name` of `outputs` against `yTrue` on `rows` (indices into the outputs). Throws {@link CheckInputError} where
 * scikit-learn raises (multiclass data with `average: binary`, ROC AUC with one class, …).
 */
export function computeMetric(
  name: MetricName, yTrue: readonly string[], rows: readonly number[], outputs: ModelOutputs,
  options: { average?: Average; posLabel?: string | number; beta?: number; weights?: 'linear' | 'quadratic' } = {},
): MetricValue {
  const yPred = rows.map(i => outputs.yPred[i]);
  const classes = outputs.classes;
  const posLabel = options.posLabel !== undefined ? String(options.posLabel) : undefined;
  try {
    if (name === 'accuracy') return { value: accuracy(yTrue, yPred), average: null, posLabel: null };
    if (name === 'matthews_corrcoef') return { value: matthewsCorrcoef(yTrue, yPred), average: null, posLabel: null };
    if (name === 'cohen_kappa') {
      const labels = options.weights ? sortLabels([...yTrue, ...yPred]) : undefined;
      return { value: cohenKappa(yTrue, yPred, { weights: options.weights, labels }), average: null, posLabel: null };
    }
    if (name === 'roc_auc' || name === 'average_precision') return scoreMetric(name, yTrue, rows, outputs, options.average, posLabel);
    const average = options.average ?? 'macro';
    const pos = average === 'binary' ? (posLabel ?? (classes.length === 2 ? classes[1] : undefined)) : undefined;
    if (average === 'binary' && pos === undefined) {
      throw new CheckInputError(t('`average: binary` needs `pos_label` (the model has {0} classes).', classes.length));
    }
    const r = precisionRecallF1(yTrue, yPred, { average, posLabel: pos, beta: options.beta });
    const perClass = r.perLabel.slice(0, 50).map(s => ({
      class: s.label, precision: s.precision, recall: s.recall, f1: s.f1, ...(name === 'f_beta' ? { f_beta: s.fBeta } : {}), support: s.support,
    }));
    return { value: name === 'f_beta' ? r.fBeta : r[name], average, posLabel: pos ?? null, perClass };
  } catch (e) {
    if (e instanceof CheckInputError) throw e;
    throw new CheckInputError(t('{0} cannot be computed: {1}', name, e instanceof Error ? e.message : String(e)));
  }
}

/** ROC AUC or average precision: metrics of the class scores rather than the predicted labels. */
function scoreMetric(
  name: 'roc_auc' | 'average_precision', yTrue: readonly string[], rows: readonly number[], outputs: ModelOutputs, average: Average | undefined, posLabel: string | undefined,
): MetricValue {
  const { classes, scores } = outputs;
  const k = classes.length;
  if (scores.length < outputs.yPred.length * k || k < 2) {
    throw new CheckInputError(t('{0} needs class scores (one per class and row); the outputs have none. Give a model, or `score_<class>` columns in the predictions file.', name));
  }
  if (k === 2) {
    // As scikit-learn: the binary score of the positive class's column (`average` does not apply to binary data).
    const pos = posLabel ?? classes[1];
    const col = classes.indexOf(pos);
    if (col < 0) throw new CheckInputError(t('`pos_label` {0} is not one of the model\'s classes ({1}).', pos, classes.join(', ')));
    const s = rows.map(i => scores[i * k + col]);
    return { value: name === 'roc_auc' ? rocAuc(yTrue, s, pos) : averagePrecision(yTrue, s, pos), average: 'binary', posLabel: pos };
  }
  const matrix = rows.map(i => Array.from(scores.subarray(i * k, (i + 1) * k)));
  if (name === 'average_precision') {
    if (average === 'binary') throw new CheckInputError(t('average_precision of {0} classes is one-vs-rest: use `average: macro`, `weighted` or `micro`.', k));
    const avg = average ?? 'macro';
    const r = averagePrecisionOvr(yTrue, matrix, classes, avg);
    return { value: r.value, average: avg, posLabel: null, perClass: classes.slice(0, 50).map((c, j) => ({ class: c, average_precision: r.perClass[j], support: r.support[j] })) };
  }
  if (average === 'micro' || average === 'binary') {
    throw new CheckInputError(t('roc_auc of {0} classes is one-vs-rest: use `average: macro` or `weighted`.', k));
  }
  const r = rocAucOvrPerClass(yTrue, matrix, { labels: classes });
  const avg = average ?? 'macro';
  let value = r.macro;
  const support = classes.map(c => yTrue.filter(y => y === c).length);
  if (avg === 'weighted') value = r.perClass.reduce((acc, v, j) => acc + v * support[j], 0) / yTrue.length;
  return { value, average: avg, posLabel: null, perClass: classes.slice(0, 50).map((c, j) => ({ class: c, roc_auc: r.perClass[j], support: support[j] })) };
}

/** "f1 (macro)", "accuracy". */
export function metricLabel(name: string, average: Average | null): string {
  return average && name !== 'accuracy' ? `${name} (${average})` : name;
}

/** `beta` and `weights`, each allowed only with the metric that uses it. */
function metricOptions(s: Record<string, unknown>, name: MetricName): { beta?: number; weights?: 'linear' | 'quadratic' } {
  const beta = optionalNumber(s, 'beta', 'metric');
  if (name === 'f_beta' && (beta === undefined || !(beta >= 0) || !Number.isFinite(beta))) {
    throw new CheckInputError(t('`metric: f_beta` needs `beta`, a number ≥ 0 (e.g. beta: 2 weighs recall twice as much as precision).'));
  }
  if (name !== 'f_beta' && beta !== undefined) throw new CheckInputError(t('`metric.beta` applies to `f_beta` only, not to {0}.', name));
  const weights = s.weights;
  if (weights !== undefined && (name !== 'cohen_kappa' || (weights !== 'linear' && weights !== 'quadratic'))) {
    throw new CheckInputError(name !== 'cohen_kappa'
      ? t('`metric.weights` applies to `cohen_kappa` only, not to {0}.', name)
      : t('`metric.weights` must be `linear` or `quadratic`, got {0}.', JSON.stringify(weights) ?? String(weights)));
  }
  return { beta, weights: weights as 'linear' | 'quadratic' | undefined };
}

function titleOf(name: string, average: Average | null, min: number | undefined, max: number | undefined): string {
  const what = metricLabel(name, average);
  if (min !== undefined && max !== undefined) return t('{0} in [{1}, {2}]', what, min, max);
  if (min !== undefined) return `${what} ≥ ${min}`;
  if (max !== undefined) return `${what} ≤ ${max}`;
  return what;
}

/** The `metric` check. */
export async function metricCheck(ctx: GateContext, spec: MetricSpec, id: string): Promise<CheckResult> {
  const raw = (spec ?? {}) as unknown as Record<string, unknown>;
  const threshold: Record<string, unknown> = {};
  if (raw.min !== undefined) threshold.min = raw.min;
  if (raw.max !== undefined) threshold.max = raw.max;
  const title = titleOf(String(raw.name ?? 'metric'), (raw.average as Average) ?? null, raw.min as number, raw.max as number);
  return guardCheck('metric', id, title, threshold, () => {
    const s = specObject('metric', spec);
    const name = checkMetricName(s.name, 'metric.name');
    rejectUnknownOptions('metric', s, ['name', 'average', 'pos_label', 'beta', 'weights', 'min', 'max']);
    const extra = metricOptions(s, name);
    const average = checkAverage(s.average, 'metric');
    const min = optionalNumber(s, 'min', 'metric');
    const max = optionalNumber(s, 'max', 'metric');
    if (min === undefined && max === undefined) throw new CheckInputError(t('the `metric` check on {0} needs `min` or `max`.', name));
    if (s.pos_label !== undefined && typeof s.pos_label !== 'string' && typeof s.pos_label !== 'number') {
      throw new CheckInputError(t('`metric.pos_label` must be a class name.'));
    }
    if (!ctx.outputs) throw new CheckInputError(t('the {0} check needs the candidate\'s predictions: give an ONNX model or a predictions file.', name));
    if (ctx.outputs.yPred.length !== ctx.eval.rows) {
      throw new CheckInputError(t('the candidate has {0} predictions but the evaluation data has {1} rows: the predictions must be for the evaluation rows, in order.', ctx.outputs.yPred.length, ctx.eval.rows));
    }
    const { rows, yTrue, missing } = labelledRows(ctx);
    if (rows.length === 0) throw new CheckInputError(t('the label column `{0}` has no values: nothing to score.', labelOf(ctx)));
    const unknown = labelsAgainstClasses(yTrue, ctx.outputs.classes, labelOf(ctx));
    const m = computeMetric(name, yTrue, rows, ctx.outputs, { average, posLabel: s.pos_label as string | number | undefined, ...extra });
    if (Number.isNaN(m.value)) {
      throw new CheckInputError(t('{0} is undefined on these rows (e.g. Cohen\'s kappa when the labels and predictions are one single class): nothing to compare with the threshold.', name));
    }
    const ok = (min === undefined || m.value >= min) && (max === undefined || m.value <= max);
    const shownTitle = titleOf(name, m.average, min, max);
    const bound = min !== undefined && m.value < min ? t('below the minimum {0}', fmt(min)) : max !== undefined && m.value > max ? t('above the maximum {0}', fmt(max)) : t('within the threshold');
    const evidence: Record<string, unknown> = { rows: rows.length };
    if (missing > 0) evidence.rows_missing_label = missing;
    if (unknown.length > 0) evidence.labels_not_in_classes = unknown.slice(0, 20);
    if (m.average) evidence.average = m.average;
    if (m.posLabel !== null) evidence.pos_label = m.posLabel;
    if (extra.beta !== undefined) evidence.beta = extra.beta;
    if (extra.weights !== undefined) evidence.weights = extra.weights;
    if (m.perClass) evidence.per_class = m.perClass;
    return {
      status: ok ? 'pass' : 'fail',
      title: shownTitle,
      measured: { [name]: m.value },
      evidence,
      message: ok
        ? t('{0} = {1} on {2} rows, {3}.', metricLabel(name, m.average), fmt(m.value), rows.length, bound)
        : t('{0} = {1} on {2} rows, {3}: the candidate does not meet the policy; look at the per-class scores in the evidence.', metricLabel(name, m.average), fmt(m.value), rows.length, bound),
    };
  });
}
