/**
 * The `bias` check: group fairness of the candidate's predictions on the evaluation data, per sensitive attribute.
 *
 * Policy entry:
 * ```yaml
 * - bias:
 *     sensitive: sex                 # or [sex, race]: each attribute is assessed on its own
 *     demographic_parity_difference: { max: 0.1 }
 *     demographic_parity_ratio: { min: 0.8 }
 *     equal_opportunity_difference: { max: 0.1 }
 *     equal_opportunity_ratio: { min: 0.8 }
 *     equalized_odds_difference: { max: 0.1 }
 *     equalized_odds_ratio: { min: 0.8 }
 *     method: between_groups         # or to_overall (Fairlearn's `method`)
 *     sample_weight: weight          # a numeric column of row weights (Fairlearn's `sample_weight`)
 *     positive_label: approved       # the class that counts as selected (see below)
 * ```
 *
 * Definitions (as Fairlearn's, `method='between_groups'`): per group g of the sensitive attribute,
 * selection rate = P(ŷ = pos | g), TPR = P(ŷ = pos | y = pos, g), FPR = P(ŷ = pos | y ≠ pos, g);
 * - `demographic_parity_difference` = max_g selection − min_g selection
 *   (`fairlearn.metrics.demographic_parity_difference`), `demographic_parity_ratio` = min / max;
 * - `equal_opportunity_difference` = max_g TPR − min_g TPR, `equal_opportunity_ratio` = min / max
 *   (`fairlearn.metrics.equal_opportunity_difference` / `_ratio`);
 * - `equalized_odds_difference` = max(TPR difference, FPR difference) (Fairlearn's default `agg='worst_case'`),
 *   `equalized_odds_ratio` = min(TPR ratio, FPR ratio) (see {@link fairnessMetrics} for an undefined FPR ratio).
 * With `method: to_overall` each group is compared with the rate over all labelled rows instead: difference =
 * max_g |rate_g − overall|, ratio = min_g min(rate_g/overall, overall/rate_g). With `sample_weight` every rate is a
 * weighted share; a missing, infinite or negative weight on a labelled row is refused.
 * As in Fairlearn (which normalises scikit-learn's confusion matrix with zero rows set to 0), a group without
 * positive (negative) examples has TPR (FPR) 0; such groups are listed in the evidence. A ratio whose largest rate is
 * 0 is undefined (NaN in Fairlearn): reported as null, and the check warns.
 *
 * The positive label: `positive_label` when given. Otherwise, for binary labels, the larger label in sorted order —
 * 1 for {0, 1} and {−1, 1} as Fairlearn's default `pos_label=1`, and e.g. `yes` for {no, yes}; for multiclass labels,
 * the first class in sorted order (the message says so). Labels compare as text, numbers in canonical form
 * (`1.0` = `1`). Rows without a label are left out (counted); a missing sensitive value is a group of its own,
 * `(missing)`.
 */
import { t } from '../l10n';
import { labelOf, requireColumn, runCheck } from './dataset';
import { fmt, nameList } from './format';
import { CheckInputError, optionalNumber, optionalObject, rejectUnknownOptions, specObject } from './harness';
import type { CheckResult, Column, GateContext } from './types';

export interface BiasSpec {
  sensitive: string | string[];
  demographic_parity_difference?: { max: number };
  demographic_parity_ratio?: { min: number };
  equal_opportunity_difference?: { max: number };
  equal_opportunity_ratio?: { min: number };
  equalized_odds_difference?: { max: number };
  equalized_odds_ratio?: { min: number };
  positive_label?: string | number | boolean;
  method?: DisparityMethod;
  sample_weight?: string;
}

const METRICS = {
  demographic_parity_difference: 'max',
  demographic_parity_ratio: 'min',
  equal_opportunity_difference: 'max',
  equal_opportunity_ratio: 'min',
  equalized_odds_difference: 'max',
  equalized_odds_ratio: 'min',
} as const;
type MetricName = keyof typeof METRICS;
const METRIC_NAMES = Object.keys(METRICS) as MetricName[];

/** Groups beyond this many distinct values look like a continuous column, which needs binning first. */
const MAX_GROUPS = 200;
const MISSING_GROUP = '(missing)';

/** A label in canonical text: numbers as JavaScript prints them (so `1.0` and `1` agree), text unchanged. */
export function canonicalLabel(v: string | number | boolean | null | undefined): string | null {
  if (v === null || v === undefined) return null;
  // ±Infinity (a CSV `inf` read as a number) is a class of its own, `Infinity` / `-Infinity`, not a missing label.
  if (typeof v === 'number') return Number.isNaN(v) ? null : String(v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  const trimmed = v.trim();
  if (trimmed === '') return null;
  const n = Number(trimmed);
  return Number.isFinite(n) && /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(trimmed) ? String(n) : v;
}

/** Sorted order of labels: numerically when all are numbers, else by code unit (scikit-learn `unique_labels`). */
export function sortLabels(labels: Iterable<string>): string[] {
  const list = [...new Set(labels)];
  const numeric = list.every(l => Number.isFinite(Number(l)) && l.trim() !== '');
  return numeric ? list.sort((a, b) => Number(a) - Number(b)) : list.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

export interface GroupRates {
  group: string;
  count: number;
  selection_rate: number;
  true_positive_rate: number;
  false_positive_rate: number;
  positives: number;
  negatives: number;
  selected: number;
  /** The group's total sample weight (only with `sample_weight`). */
  weight?: number;
}

export interface FairnessMetrics {
  demographic_parity_difference: number;
  demographic_parity_ratio: number | null;
  equal_opportunity_difference: number;
  equal_opportunity_ratio: number | null;
  equalized_odds_difference: number;
  equalized_odds_ratio: number | null;
  false_positive_rate_difference: number;
  false_positive_rate_ratio: number | null;
  method: DisparityMethod;
  /** The rates over all labelled rows (the reference of `to_overall`); null without rows. */
  overall: { selection_rate: number; true_positive_rate: number; false_positive_rate: number } | null;
  groups: GroupRates[];
}

/** How disparities are measured, as Fairlearn's `method`: between the extreme groups, or of each group to the overall rate. */
export type DisparityMethod = 'between_groups' | 'to_overall';

export interface FairnessOptions {
  /** `between_groups` (default): max − min and min / max over the groups. `to_overall`: max |group − overall| and min over groups of min(group/overall, overall/group). */
  method?: DisparityMethod;
  /** A weight per row (Fairlearn's `sample_weight`): finite, ≥ 0. Every rate becomes a weighted share. */
  weights?: ArrayLike<number>;
}

/**
 * Fairlearn's disparities for one sensitive attribute (`yTrue`/`yPred` in canonical label text, `groups` one key
 * per row; rows whose label is null are skipped), as `fairlearn.metrics.demographic_parity_difference(...,
 * method=..., sample_weight=...)` and its siblings.
 *
 * With weights, a rate is Σ weight over the rows counted / Σ weight over the rows considered (Fairlearn passes
 * `sample_weight` to `selection_rate` and to scikit-learn's confusion matrix). A group whose weights sum to 0 has no
 * selection rate (Fairlearn raises "Weights sum to zero"): refused with a RangeError. `count`, `positives`,
 * `negatives` and `selected` stay row counts; `weight` is the group's total weight.
 *
 * The equalized odds ratio is Fairlearn's `min(tpr ratio, fpr ratio)` with Python's `min` over the two: undefined
 * when the TPR ratio is, the TPR ratio when only the FPR ratio is undefined (no group has a false positive).
 */
export function fairnessMetrics(
  yTrue: ArrayLike<string | null>, yPred: ArrayLike<string | null>, groups: ArrayLike<string>, positive: string,
  options: FairnessOptions = {},
): FairnessMetrics {
  const method = options.method ?? 'between_groups';
  const weights = options.weights;
  type Acc = { n: number; w: number; sel: number; pos: number; tp: number; neg: number; fp: number; nSel: number; nPos: number; nNeg: number };
  const fresh = (): Acc => ({ n: 0, w: 0, sel: 0, pos: 0, tp: 0, neg: 0, fp: 0, nSel: 0, nPos: 0, nNeg: 0 });
  const acc = new Map<string, Acc>();
  const all = fresh();
  for (let i = 0; i < groups.length; i++) {
    const truth = yTrue[i];
    if (truth === null) continue;
    const g = groups[i];
    let a = acc.get(g);
    if (!a) { a = fresh(); acc.set(g, a); }
    const w = weights ? weights[i] : 1;
    if (!(Number.isFinite(w) && w >= 0)) throw new RangeError(`sample weights must be finite and non-negative, got ${w} at row ${i + 1}`);
    const selected = yPred[i] === positive;
    for (const x of [a, all]) {
      x.n++; x.w += w;
      if (selected) { x.sel += w; x.nSel++; }
      if (truth === positive) { x.pos += w; x.nPos++; if (selected) x.tp += w; } else { x.neg += w; x.nNeg++; if (selected) x.fp += w; }
    }
  }
  for (const [g, a] of acc) if (!(a.w > 0)) throw new RangeError(`the sample weights of group "${g}" sum to zero: its rates are undefined`);
  const rates = (a: Acc) => ({
    selection_rate: a.sel / a.w,
    true_positive_rate: a.pos > 0 ? a.tp / a.pos : 0,
    false_positive_rate: a.neg > 0 ? a.fp / a.neg : 0,
  });
  const rows: GroupRates[] = [...acc.entries()]
    .sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0))
    .map(([group, a]) => ({
      group, count: a.n, ...rates(a), positives: a.nPos, negatives: a.nNeg, selected: a.nSel, ...(weights ? { weight: a.w } : {}),
    }));
  const overall = rows.length > 0 ? rates(all) : { selection_rate: NaN, true_positive_rate: NaN, false_positive_rate: NaN };
  const disparity = (key: 'selection_rate' | 'true_positive_rate' | 'false_positive_rate') => {
    if (method === 'to_overall') {
      const o = overall[key];
      let diff = 0;
      let ratio = Infinity;
      for (const g of rows) {
        diff = Math.max(diff, Math.abs(g[key] - o));
        const r = g[key] / o;
        if (!Number.isNaN(r)) ratio = Math.min(ratio, r > 1 ? 1 / r : r);
      }
      return { diff, ratio: ratio === Infinity ? null : ratio };
    }
    let lo = Infinity, hi = -Infinity;
    for (const g of rows) { const v = g[key]; if (v < lo) lo = v; if (v > hi) hi = v; }
    return { diff: hi - lo, ratio: hi > 0 ? lo / hi : null };
  };
  const sel = disparity('selection_rate'), tpr = disparity('true_positive_rate'), fpr = disparity('false_positive_rate');
  return {
    method,
    demographic_parity_difference: sel.diff,
    demographic_parity_ratio: sel.ratio,
    equal_opportunity_difference: tpr.diff,
    equal_opportunity_ratio: tpr.ratio,
    equalized_odds_difference: Math.max(tpr.diff, fpr.diff),
    equalized_odds_ratio: tpr.ratio === null ? null : fpr.ratio === null ? tpr.ratio : Math.min(tpr.ratio, fpr.ratio),
    false_positive_rate_difference: fpr.diff,
    false_positive_rate_ratio: fpr.ratio,
    overall: rows.length > 0 ? overall : null,
    groups: rows,
  };
}

/** The group of each row, and how many distinct groups there are (counted in the same pass). */
function groupKeys(col: Column): { keys: string[]; distinct: number } {
  const out = new Array<string>(col.values.length);
  const distinct = new Set<string>();
  if (col.kind === 'number') {
    for (let i = 0; i < col.values.length; i++) { const v = col.values[i]; out[i] = v === v ? String(v) : MISSING_GROUP; distinct.add(out[i]); }
  } else {
    for (let i = 0; i < col.values.length; i++) { out[i] = col.values[i] ?? MISSING_GROUP; distinct.add(out[i]); }
  }
  return { keys: out, distinct: distinct.size };
}

interface ParsedBias {
  sensitive: string[];
  thresholds: Partial<Record<MetricName, number>>;
  positive?: string;
  method: DisparityMethod;
  sampleWeight?: string;
}

function parseSpec(raw: unknown): ParsedBias {
  const K = 'bias';
  const spec = specObject(K, raw);
  rejectUnknownOptions(K, spec, ['sensitive', 'positive_label', 'method', 'sample_weight', ...METRIC_NAMES]);
  const method = spec.method ?? 'between_groups';
  if (method !== 'between_groups' && method !== 'to_overall') {
    throw new CheckInputError(t('bias: method must be between_groups (largest gap between two groups) or to_overall (largest gap between a group and all rows), got {0}', String(JSON.stringify(method))));
  }
  const w = spec.sample_weight;
  if (w !== undefined && (typeof w !== 'string' || w === '')) {
    throw new CheckInputError(t('bias: sample_weight must name a numeric column of the evaluation data, got {0}', String(JSON.stringify(w))));
  }
  const s = spec.sensitive;
  const sensitive = typeof s === 'string' ? [s] : Array.isArray(s) && s.length > 0 && s.every(x => typeof x === 'string') ? [...new Set(s as string[])] : null;
  if (!sensitive) throw new CheckInputError(t('bias: sensitive must name a column or a list of columns (e.g. sensitive: sex), got {0}', String(JSON.stringify(s))));
  const thresholds: Partial<Record<MetricName, number>> = {};
  for (const m of METRIC_NAMES) {
    const bound = METRICS[m];
    const obj = optionalObject(spec, m, K, bound === 'max' ? '{ max: 0.1 }' : '{ min: 0.8 }');
    if (!obj) continue;
    const v = optionalNumber(obj, bound, `${K}.${m}`);
    if (v === undefined) {
      throw new CheckInputError(bound === 'max' ? t('bias: {0} needs max (e.g. {0}: {max: 0.1})', m) : t('bias: {0} needs min (e.g. {0}: {min: 0.8})', m));
    }
    thresholds[m] = v;
  }
  if (Object.keys(thresholds).length === 0) throw new CheckInputError(t('bias: set at least one of {0}', METRIC_NAMES.join(', ')));
  const p = spec.positive_label;
  if (p !== undefined && p !== null && typeof p !== 'string' && typeof p !== 'number' && typeof p !== 'boolean') {
    throw new CheckInputError(t('bias: positive_label must be a class name, got {0}', String(JSON.stringify(p))));
  }
  return { sensitive, thresholds, positive: p === undefined || p === null ? undefined : (canonicalLabel(p) ?? undefined), method, sampleWeight: w as string | undefined };
}

/** The metric's name in words, for titles and messages. */
function shortName(m: MetricName): string {
  switch (m) {
    case 'demographic_parity_difference': return t('demographic parity difference');
    case 'demographic_parity_ratio': return t('demographic parity ratio');
    case 'equal_opportunity_difference': return t('equal opportunity difference');
    case 'equal_opportunity_ratio': return t('equal opportunity ratio');
    case 'equalized_odds_difference': return t('equalized odds difference');
    case 'equalized_odds_ratio': return t('equalized odds ratio');
  }
}

type RateName = 'selection rate' | 'false positive rate' | 'true positive rate';

/** The compared rate in words (the evidence keeps the English name). */
function rateLabel(r: RateName): string {
  return r === 'selection rate' ? t('selection rate') : r === 'false positive rate' ? t('false positive rate') : t('true positive rate');
}

function titleOf(p: ParsedBias | undefined): string {
  if (!p) return 'bias';
  const bounds = METRIC_NAMES.filter(m => p.thresholds[m] !== undefined)
    .map(m => `${shortName(m)} ${METRICS[m] === 'max' ? '≤' : '≥'} ${p.thresholds[m]}`);
  return p.method === 'to_overall'
    ? t('bias ({0}, each group to the overall rate): {1}', p.sensitive.join(', '), bounds.join(', '))
    : t('bias ({0}): {1}', p.sensitive.join(', '), bounds.join(', '));
}

/** The rate a metric compares between groups. */
function rateOf(m: MetricName, g: GroupRates): number {
  return m.startsWith('demographic') ? g.selection_rate : g.true_positive_rate;
}

/**
 * The fail message: `max` = an upper bound was exceeded (else a lower bound was undercut); `more` = further violations.
 * `args`: metric, attribute, value, bound, compared rate, low rate, low group, its rows, high rate, high group, its rows,
 * the positive-label note.
 */
function failMessage(max: boolean, more: number, ...args: Array<string | number>): string {
  if (more === 0) {
    return max
      ? t('{0} for "{1}" is {2} (above the maximum {3}): {4} {5} for group "{6}" ({7} rows) vs {8} for "{9}" ({10} rows), {11} — review the model\'s behaviour for these groups before promoting it.', ...args)
      : t('{0} for "{1}" is {2} (below the minimum {3}): {4} {5} for group "{6}" ({7} rows) vs {8} for "{9}" ({10} rows), {11} — review the model\'s behaviour for these groups before promoting it.', ...args);
  }
  if (more === 1) {
    return max
      ? t('{0} for "{1}" is {2} (above the maximum {3}): {4} {5} for group "{6}" ({7} rows) vs {8} for "{9}" ({10} rows), {11}, and 1 more violation — review the model\'s behaviour for these groups before promoting it.', ...args)
      : t('{0} for "{1}" is {2} (below the minimum {3}): {4} {5} for group "{6}" ({7} rows) vs {8} for "{9}" ({10} rows), {11}, and 1 more violation — review the model\'s behaviour for these groups before promoting it.', ...args);
  }
  return max
    ? t('{0} for "{1}" is {2} (above the maximum {3}): {4} {5} for group "{6}" ({7} rows) vs {8} for "{9}" ({10} rows), {11}, and {12} more violations — review the model\'s behaviour for these groups before promoting it.', ...args, more)
    : t('{0} for "{1}" is {2} (below the minimum {3}): {4} {5} for group "{6}" ({7} rows) vs {8} for "{9}" ({10} rows), {11}, and {12} more violations — review the model\'s behaviour for these groups before promoting it.', ...args, more);
}

/** Fairness of ctx.outputs.yPred against the label of ctx.eval, per sensitive attribute. Never throws. */
export async function biasCheck(ctx: GateContext, spec: BiasSpec | Record<string, unknown>, id: string): Promise<CheckResult> {
  let parsed: ParsedBias | undefined;
  try { parsed = parseSpec(spec); } catch { /* reported by the body */ }
  return runCheck('bias', id, titleOf(parsed), spec, () => {
    const p = parseSpec(spec);
    const outputs = ctx.outputs;
    if (!outputs) throw new CheckInputError(t('bias: no model outputs; the gate needs the candidate model (ONNX) or a predictions file to assess bias'));
    const rows = ctx.eval.rows;
    if (outputs.yPred.length !== rows) {
      throw new CheckInputError(t('bias: {0} predictions for {1} evaluation rows; the predictions must be row for row', outputs.yPred.length, rows));
    }
    const labelCol = requireColumn('bias', ctx, labelOf(ctx), 'label');
    let weights: Float64Array | undefined;
    if (p.sampleWeight !== undefined) {
      const wc = ctx.eval.columns.get(p.sampleWeight);
      if (!wc) {
        throw new CheckInputError(t('bias: the sample_weight column "{0}" is not in the evaluation data ({1}); its columns are {2}. Fix `bias.sample_weight`.', p.sampleWeight, ctx.eval.file, nameList(ctx.eval.names)));
      }
      if (wc.kind !== 'number') throw new CheckInputError(t('bias: the sample_weight column "{0}" must be numeric', p.sampleWeight));
      weights = wc.values;
    }
    const sensitiveCols = p.sensitive.map(name => {
      if (name === ctx.label) throw new CheckInputError(t('bias: the sensitive attribute "{0}" is the label column', name));
      return { name, col: requireColumn('bias', ctx, name, 'sensitive') };
    });

    // Labels take few distinct values: canonicalise each once, not once per row (a regex per value is slow).
    const seen = new Map<string | number | boolean | null | undefined, string | null>();
    const canon = (v: string | number | boolean | null | undefined) => {
      let c = seen.get(v);
      if (c === undefined && !seen.has(v)) seen.set(v, (c = canonicalLabel(v)));
      return c ?? null;
    };
    const yTrue = new Array<string | null>(rows);
    let unlabeled = 0;
    for (let i = 0; i < rows; i++) {
      yTrue[i] = canon(labelCol.values[i]);
      if (yTrue[i] === null) unlabeled++;
    }
    const yPred = outputs.yPred.map(canon);
    // the labels that occur are the distinct values canonicalised above (a few), not the rows
    const classes = sortLabels([
      ...outputs.classes.map(c => canonicalLabel(c)).filter((c): c is string => c !== null),
      ...[...seen.values()].filter((c): c is string => c !== null),
    ]);
    if (unlabeled === rows) throw new CheckInputError(t('bias: the label column "{0}" has no values', labelOf(ctx)));
    let positive: string;
    let positiveNote: string;
    if (p.positive !== undefined) {
      if (!classes.includes(p.positive)) {
        throw new CheckInputError(t('bias: positive_label "{0}" is not a class of the labels or predictions; the classes are {1}', p.positive, nameList(classes)));
      }
      positive = p.positive;
      positiveNote = t('positive label "{0}"', positive);
    } else if (classes.length <= 2) {
      positive = classes[classes.length - 1];
      positiveNote = t('positive label "{0}" (the larger of the binary labels; set positive_label to choose)', positive);
    } else {
      positive = classes[0];
      positiveNote = t('positive label "{0}" (the first of {1} classes in sorted order, as no positive_label is set)', positive, classes.length);
    }

    const byAttribute: Record<string, Record<string, unknown>> = {};
    const evidenceGroups: Record<string, GroupRates[]> = {};
    const worst: Partial<Record<MetricName, { attribute: string; value: number | null }>> = {};
    const failures: Array<{
      metric: MetricName; attribute: string; value: number | null; bound: number; rateName: RateName;
      lowGroup: GroupRates; highGroup: GroupRates; low: number; high: number;
    }> = [];
    const undefinedRatios: string[] = [];
    const noPositives: Record<string, string[]> = {};

    for (const { name, col } of sensitiveCols) {
      const { keys: groups, distinct } = groupKeys(col);
      if (distinct > MAX_GROUPS) {
        throw new CheckInputError(t('bias: the sensitive column "{0}" has {1} distinct values; bin it into groups (e.g. age bands) before assessing bias', name, distinct));
      }
      let fm: FairnessMetrics;
      try {
        fm = fairnessMetrics(yTrue, yPred, groups, positive, { method: p.method, weights });
      } catch (e) {
        // Bad weights: NaN (missing), ±Infinity or negative on a labelled row, or a group weighing nothing.
        throw new CheckInputError(t('bias: sample_weight "{0}": {1}; weights must be finite numbers ≥ 0 on every labelled row, and each group needs some weight', p.sampleWeight ?? '', e instanceof Error ? e.message : String(e)));
      }
      const { groups: groupRows, ...metrics } = fm;
      byAttribute[name] = { ...metrics, groups: groupRows.length };
      evidenceGroups[name] = groupRows.slice(0, 20);
      const lacking = groupRows.filter(g => g.positives === 0).map(g => g.group);
      if (lacking.length > 0) noPositives[name] = lacking.slice(0, 10);
      for (const m of METRIC_NAMES) {
        const value = fm[m];
        const w = worst[m];
        const isWorse = (a: number | null, b: number | null) => METRICS[m] === 'max' ? (a ?? -Infinity) > (b ?? -Infinity) : (a ?? Infinity) < (b ?? Infinity);
        if (!w || isWorse(value, w.value)) worst[m] = { attribute: name, value };
        const bound = p.thresholds[m];
        if (bound === undefined) continue;
        if (value === null) { undefinedRatios.push(t('{0} for {1}', shortName(m), name)); continue; }
        const violated = METRICS[m] === 'max' ? value > bound : value < bound;
        if (violated) {
          // equalized odds: the rate (TPR or FPR) whose difference is the larger one
          const byFpr = (m === 'equalized_odds_difference' && fm.false_positive_rate_difference > fm.equal_opportunity_difference)
            || (m === 'equalized_odds_ratio' && fm.false_positive_rate_ratio !== null && fm.false_positive_rate_ratio < (fm.equal_opportunity_ratio ?? Infinity));
          const rate = (g: GroupRates) => (byFpr ? g.false_positive_rate : rateOf(m, g));
          const lowGroup = groupRows.reduce((a, b) => (rate(b) < rate(a) ? b : a));
          const highGroup = groupRows.reduce((a, b) => (rate(b) > rate(a) ? b : a));
          const rateName: RateName = m.startsWith('demographic') ? 'selection rate' : byFpr ? 'false positive rate' : 'true positive rate';
          failures.push({ metric: m, attribute: name, value, bound, rateName, lowGroup, highGroup, low: rate(lowGroup), high: rate(highGroup) });
        }
      }
    }

    const measured: Record<string, unknown> = { positive_label: positive, rows: rows - unlabeled, method: p.method };
    if (p.sampleWeight !== undefined) measured.sample_weight = p.sampleWeight;
    if (unlabeled > 0) measured.rows_without_label = unlabeled;
    for (const m of METRIC_NAMES) measured[m] = worst[m]?.value ?? null;
    measured.sensitive_features = byAttribute;

    const evidence: Record<string, unknown> = { groups: evidenceGroups };
    if (Object.keys(noPositives).length > 0) evidence.groups_without_positives = noPositives;

    if (failures.length > 0) {
      const f = failures[0];
      evidence.worst = failures.map(x => ({
        metric: x.metric, sensitive_feature: x.attribute, value: x.value, threshold: x.bound, compared: x.rateName,
        lowest_group: x.lowGroup, highest_group: x.highGroup,
      }));
      return {
        status: 'fail', measured, evidence,
        message: failMessage(METRICS[f.metric] === 'max', failures.length - 1,
          shortName(f.metric), f.attribute, fmt(f.value as number), f.bound, rateLabel(f.rateName), fmt(f.low), f.lowGroup.group, f.lowGroup.count,
          fmt(f.high), f.highGroup.group, f.highGroup.count, positiveNote),
      };
    }
    const summary = METRIC_NAMES.filter(m => p.thresholds[m] !== undefined && worst[m]?.value !== null && worst[m] !== undefined)
      .map(m => `${shortName(m)} ${fmt(worst[m]?.value as number)}`).join(', ');
    if (undefinedRatios.length > 0) {
      return {
        status: 'warn', measured, evidence,
        message: summary
          ? t('Undefined {0} because no group has a positive rate above 0 ({1}); check positive_label (other metrics within bounds: {2}).', undefinedRatios.join('; '), positiveNote, summary)
          : t('Undefined {0} because no group has a positive rate above 0 ({1}); check positive_label.', undefinedRatios.join('; '), positiveNote),
      };
    }
    return {
      status: 'pass', measured, evidence,
      message: t('Within the bounds for {0} on {1} rows: {2}, {3}.', p.sensitive.map(s => `"${s}"`).join(', '), rows - unlabeled, summary, positiveNote),
    };
  });
}
