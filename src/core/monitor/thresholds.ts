/**
 * Bias correction by post-processing (the idea of Fairlearn's ThresholdOptimizer, deterministic): per group of one
 * sensitive column, a threshold on the positive class's probability — the positive class is predicted when its
 * probability ≥ the group's threshold, otherwise the most probable other class.
 *
 * The search, on the labelled rows: each group's candidate thresholds are the midpoints between its distinct scores
 * (at most {@link MAX_CANDIDATES}, by quantile); each candidate gives the group a rate (selection rate for demographic
 * parity, true-positive rate for equal opportunity) and a number of correct predictions. A difference metric is
 * max − min of the group rates, so it is under a bound b exactly when every rate lies in some band [r, r + b]. For each
 * band (r on a grid of step 0.005) every group independently takes its most accurate candidate inside the band —
 * accuracy adds up over groups, so that is the best choice for the band — and the band with the highest accuracy wins.
 * To hold on the next window and not only on this one, b is the bound less the sampling error of a difference of two
 * rates (1.96 standard errors at the band's rate with the two smallest groups' sizes), but never less than half the
 * bound (a tiny group would otherwise leave nothing to search). When the current predictions already meet the bound,
 * nothing is suggested.
 */
import * as fs from 'fs';
import { parseDocument } from 'yaml';
import { t } from '../l10n';
import { fairnessMetrics } from '../checks/bias';
import { accuracy } from '../stats';
import type { WindowRows } from './aggregate';
import { MonitorInputError } from './options';

export type BiasMetric = 'demographic_parity_difference' | 'equal_opportunity_difference';

const MAX_CANDIDATES = 400;
const BAND_STEP = 0.005;

export interface ThresholdSuggestion {
  column: string;
  metric: BiasMetric;
  bound: number;
  positive_class: string;
  /** The bound used in the search (the bound less the sampling margin). */
  search_bound: number;
  rows: number;
  thresholds: Record<string, number>;
  before: { metric: number; accuracy: number };
  after: { metric: number; accuracy: number };
  /** false when no thresholds meet the bound (then `thresholds` are the least biased found). */
  feasible: boolean;
  /** false when the current predictions already meet the bound (no thresholds suggested). */
  needed: boolean;
}

/** Predictions with per-group thresholds on `positive`'s probability. */
export function applyThresholds(rows: WindowRows, column: string, positive: string, thresholds: Record<string, number>): string[] {
  const col = rows.data.columns.get(column);
  if (!col) throw new MonitorInputError(t('the sensitive column {0} is not in the logged inputs', column));
  const k = rows.classes.length;
  const p = rows.classes.indexOf(positive);
  const out = new Array<string>(rows.data.rows);
  for (let i = 0; i < rows.data.rows; i++) {
    const g = groupOf(col, i);
    const th = thresholds[g];
    if (th === undefined || p < 0) { out[i] = rows.yPred[i]; continue; }
    if (rows.scores[i * k + p] >= th) { out[i] = positive; continue; }
    let best = -1, bestScore = -Infinity;
    for (let q = 0; q < k; q++) if (q !== p && rows.scores[i * k + q] > bestScore) { bestScore = rows.scores[i * k + q]; best = q; }
    out[i] = best < 0 ? rows.yPred[i] : rows.classes[best];
  }
  return out;
}

function groupOf(col: WindowRows['data']['columns'] extends Map<string, infer C> ? C : never, i: number): string {
  if (col.kind === 'string') return col.values[i] ?? '(missing)';
  return Number.isNaN(col.values[i]) ? '(missing)' : String(col.values[i]);
}

/** The metric and accuracy of `yPred` on the labelled rows (the bias check's `fairnessMetrics`). */
export function measure(rows: WindowRows, column: string, positive: string, metric: BiasMetric, yPred: readonly string[]): { metric: number; accuracy: number } {
  const col = rows.data.columns.get(column)!;
  const groups = Array.from({ length: rows.data.rows }, (_, i) => groupOf(col, i));
  const m = fairnessMetrics(rows.yTrue, yPred, groups, positive);
  const lt: string[] = [], lp: string[] = [];
  for (let i = 0; i < rows.data.rows; i++) if (rows.yTrue[i] !== null) { lt.push(rows.yTrue[i]!); lp.push(yPred[i]); }
  return { metric: m[metric], accuracy: lt.length ? accuracy(lt, lp) : NaN };
}

/** Only the labelled rows of `rows`. */
export function labelledRows(rows: WindowRows): WindowRows {
  const idx: number[] = [];
  for (let i = 0; i < rows.data.rows; i++) if (rows.yTrue[i] !== null) idx.push(i);
  const k = rows.classes.length;
  const columns = new Map<string, WindowRows['data']['columns'] extends Map<string, infer C> ? C : never>();
  for (const [name, c] of rows.data.columns) {
    columns.set(name, c.kind === 'number' ? { kind: 'number', values: Float64Array.from(idx, i => c.values[i]) } : { kind: 'string', values: idx.map(i => c.values[i]) });
  }
  const scores = new Float32Array(idx.length * k);
  idx.forEach((i, j) => scores.set(rows.scores.subarray(i * k, i * k + k), j * k));
  return { data: { ...rows.data, rows: idx.length, columns }, classes: rows.classes, yPred: idx.map(i => rows.yPred[i]), yTrue: idx.map(i => rows.yTrue[i]), scores };
}

/** Several windows' rows as one. */
export function concatRows(parts: readonly WindowRows[]): WindowRows {
  if (parts.length === 1) return parts[0];
  const first = parts[0];
  const columns = new Map<string, WindowRows['data']['columns'] extends Map<string, infer C> ? C : never>();
  for (const name of first.data.names) {
    const cols = parts.map(p => p.data.columns.get(name)!);
    if (cols[0].kind === 'number') {
      const v = new Float64Array(parts.reduce((n, p) => n + p.data.rows, 0));
      let o = 0;
      for (const c of cols) { v.set(c.values as Float64Array, o); o += c.values.length; }
      columns.set(name, { kind: 'number', values: v });
    } else {
      columns.set(name, { kind: 'string', values: cols.flatMap(c => c.values as Array<string | null>) });
    }
  }
  const k = first.classes.length;
  const scores = new Float32Array(parts.reduce((n, p) => n + p.data.rows * k, 0));
  let o = 0;
  for (const p of parts) { scores.set(p.scores, o); o += p.scores.length; }
  const rows = parts.reduce((n, p) => n + p.data.rows, 0);
  return { data: { ...first.data, rows, columns }, classes: first.classes, yPred: parts.flatMap(p => p.yPred), yTrue: parts.flatMap(p => p.yTrue), scores };
}

/** Per-group thresholds that bring `metric` for `column` under `bound` at the least cost in accuracy (see above). */
export function suggestThresholds(all: WindowRows, column: string, positive: string, metric: BiasMetric, bound: number): ThresholdSuggestion {
  const rows = labelledRows(all);
  if (rows.data.rows === 0) throw new MonitorInputError(t('no labelled predictions in the window: thresholds are fitted on predictions with feedback (POST /v1/feedback)'));
  const col = rows.data.columns.get(column);
  if (!col) throw new MonitorInputError(t('the sensitive column {0} is not in the logged inputs', column));
  const k = rows.classes.length;
  const p = rows.classes.indexOf(positive);
  if (p < 0) throw new MonitorInputError(t('the positive class {0} is not one of the classes ({1})', positive, rows.classes.join(', ')));
  const before = measure(rows, column, positive, metric, rows.yPred);
  if (before.metric <= bound) {
    return { column, metric, bound, positive_class: positive, search_bound: bound, rows: rows.data.rows, thresholds: {}, before, after: before, feasible: true, needed: false };
  }
  // Per row: its positive score, whether predicting positive is right, whether the best other class is right.
  const byGroup = new Map<string, number[]>();
  for (let i = 0; i < rows.data.rows; i++) {
    const g = groupOf(col, i);
    let list = byGroup.get(g);
    if (!list) { list = []; byGroup.set(g, list); }
    list.push(i);
  }
  const otherRight = new Uint8Array(rows.data.rows);
  for (let i = 0; i < rows.data.rows; i++) {
    let best = -1, bestScore = -Infinity;
    for (let q = 0; q < k; q++) if (q !== p && rows.scores[i * k + q] > bestScore) { bestScore = rows.scores[i * k + q]; best = q; }
    otherRight[i] = best >= 0 && rows.classes[best] === rows.yTrue[i] ? 1 : 0;
  }
  type Candidate = { threshold: number; rate: number; correct: number };
  const candidates = new Map<string, Candidate[]>();
  const sizes: number[] = [];
  for (const [g, idx] of byGroup) {
    const scores = [...new Set(idx.map(i => rows.scores[i * k + p]))].sort((a, b) => a - b);
    const cuts = [scores[0] - 1e-6];
    for (let j = 1; j < scores.length; j++) cuts.push((scores[j - 1] + scores[j]) / 2);
    cuts.push(scores[scores.length - 1] + 1e-6);
    const chosen = cuts.length <= MAX_CANDIDATES ? cuts : Array.from({ length: MAX_CANDIDATES }, (_, j) => cuts[Math.round(j * (cuts.length - 1) / (MAX_CANDIDATES - 1))]);
    const denominator = metric === 'demographic_parity_difference' ? idx.length : idx.filter(i => rows.yTrue[i] === positive).length;
    sizes.push(denominator);
    candidates.set(g, chosen.map(th => {
      let sel = 0, correct = 0;
      for (const i of idx) {
        const s = rows.scores[i * k + p] >= th;
        const counted = metric === 'demographic_parity_difference' || rows.yTrue[i] === positive;
        if (s && counted) sel++;
        correct += s ? (rows.yTrue[i] === positive ? 1 : 0) : otherRight[i];
      }
      // A group without positives has TPR 0 whatever the threshold (as the bias check counts it).
      return { threshold: th, rate: denominator > 0 ? sel / denominator : 0, correct };
    }));
  }
  sizes.sort((a, b) => a - b);
  const n1 = Math.max(1, sizes[0] ?? 1), n2 = Math.max(1, sizes[1] ?? sizes[0] ?? 1);
  let best: { correct: number; pick: Map<string, Candidate>; spread: number; searchBound: number } | undefined;
  let leastSpread: { spread: number; correct: number; pick: Map<string, Candidate>; searchBound: number } | undefined;
  for (let r = 0; r <= 1 + 1e-9; r += BAND_STEP) {
    const mid = Math.min(1, r + bound / 2);
    const margin = 1.96 * Math.sqrt(mid * (1 - mid) * (1 / n1 + 1 / n2));
    const b = Math.max(bound / 2, bound - margin);
    const pick = new Map<string, Candidate>();
    let correct = 0, lo = Infinity, hi = -Infinity;
    let ok = true;
    for (const [g, list] of candidates) {
      let c: Candidate | undefined;
      for (const x of list) if (x.rate >= r - 1e-12 && x.rate <= r + b + 1e-12 && (!c || x.correct > c.correct)) c = x;
      if (!c) {
        // No threshold of this group lands in the band: nearest rate, for the least-biased fallback.
        for (const x of list) if (!c || Math.abs(x.rate - r) < Math.abs(c.rate - r)) c = x;
        ok = false;
      }
      pick.set(g, c!);
      correct += c!.correct;
      lo = Math.min(lo, c!.rate); hi = Math.max(hi, c!.rate);
    }
    const spread = hi - lo;
    if (ok && (!best || correct > best.correct)) best = { correct, pick, spread, searchBound: b };
    if (!leastSpread || spread < leastSpread.spread || (spread === leastSpread.spread && correct > leastSpread.correct)) leastSpread = { spread, correct, pick, searchBound: b };
  }
  const chosen = best ?? leastSpread!;
  const thresholds: Record<string, number> = {};
  for (const [g, c] of [...chosen.pick].sort((a, b) => (a[0] < b[0] ? -1 : 1))) thresholds[g] = Number(c.threshold.toPrecision(6));
  return {
    column, metric, bound, positive_class: positive, search_bound: chosen.searchBound, rows: rows.data.rows, thresholds,
    before,
    after: measure(rows, column, positive, metric, applyThresholds(rows, column, positive, thresholds)),
    feasible: best !== undefined, needed: true,
  };
}

/**
 * Writes `postprocess.group_thresholds.<column>` into the service spec, keeping the rest of the YAML (comments
 * included) as it was; the file is replaced atomically. Returns the new text.
 */
export function writeGroupThresholds(file: string, column: string, thresholds: Record<string, number>): string {
  const text = fs.readFileSync(file, 'utf8');
  const doc = parseDocument(text);
  if (doc.errors.length) throw new MonitorInputError(t('{0}: cannot update the service spec: {1}', file, doc.errors[0].message));
  doc.setIn(['postprocess', 'group_thresholds', column], doc.createNode(thresholds));
  const out = doc.toString();
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, out);
  fs.renameSync(tmp, file);
  return out;
}
