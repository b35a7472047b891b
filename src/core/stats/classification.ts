/**
 * Classification metrics on label arrays, following scikit-learn's definitions:
 * `accuracy_score`, `confusion_matrix`, `precision_score` / `recall_score` / `f1_score`
 * (`average='binary' | 'macro' | 'micro' | 'weighted'`, `zero_division`), and `roc_auc_score` (binary, and
 * `multi_class='ovr', average='macro'`).
 *
 * Labels are strings or numbers, compared with ===. Label order is scikit-learn's `unique_labels` order: the
 * sorted union (numbers ascending, strings by code unit). Mixing string and number labels is an error, as in
 * scikit-learn ("Mix of label input types").
 */

export type Label = string | number;

function checkSameLength(what: string, a: readonly unknown[], b: readonly unknown[]): void {
  if (a.length !== b.length) throw new RangeError(`${what} must have the same length (got ${a.length} and ${b.length})`);
}

function compareLabels(a: Label, b: Label): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The sorted union of the labels of the given arrays (scikit-learn `unique_labels`). Throws on a mix of string
 * and number labels, and on NaN labels.
 */
export function uniqueLabels<L extends Label>(...arrays: ReadonlyArray<readonly L[]>): L[] {
  const set = new Set<L>();
  for (const arr of arrays) for (const v of arr) set.add(v);
  const labels = [...set];
  const kinds = new Set(labels.map(l => typeof l));
  if (kinds.size > 1) throw new TypeError('Mix of label input types (string and number)');
  for (const l of labels) {
    if (typeof l === 'number' && Number.isNaN(l)) throw new TypeError('NaN is not a valid label');
    if (typeof l !== 'number' && typeof l !== 'string') throw new TypeError(`labels must be strings or numbers, got ${typeof l}`);
  }
  return labels.sort(compareLabels);
}

/** Fraction of exact matches, as `sklearn.metrics.accuracy_score(y_true, y_pred)`. NaN for empty input. */
export function accuracy<L extends Label>(yTrue: readonly L[], yPred: readonly L[]): number {
  checkSameLength('yTrue and yPred', yTrue, yPred);
  if (yTrue.length === 0) return NaN;
  let ok = 0;
  for (let i = 0; i < yTrue.length; i++) if (yTrue[i] === yPred[i]) ok++;
  return ok / yTrue.length;
}

export interface ConfusionMatrix<L extends Label = Label> {
  /** Row / column order. */
  labels: L[];
  /** matrix[i][j] = number of examples with true label labels[i] predicted as labels[j] (scikit-learn layout). */
  matrix: number[][];
}

/**
 * Confusion matrix, as `sklearn.metrics.confusion_matrix(y_true, y_pred, labels=labels)`: rows are true labels,
 * columns predicted labels. Without `labels`, the sorted union of both arrays. With `labels`, examples whose true or
 * predicted label is not listed are ignored (as scikit-learn).
 */
export function confusionMatrix<L extends Label>(
  yTrue: readonly L[], yPred: readonly L[], options: { labels?: readonly L[] } = {},
): ConfusionMatrix<L> {
  checkSameLength('yTrue and yPred', yTrue, yPred);
  const labels = options.labels ? [...options.labels] : uniqueLabels(yTrue, yPred);
  if (new Set(labels).size !== labels.length) throw new RangeError('labels must be unique');
  const index = new Map<L, number>();
  labels.forEach((l, i) => index.set(l, i));
  const matrix = labels.map(() => labels.map(() => 0));
  for (let k = 0; k < yTrue.length; k++) {
    const i = index.get(yTrue[k]);
    const j = index.get(yPred[k]);
    if (i !== undefined && j !== undefined) matrix[i][j]++;
  }
  return { labels, matrix };
}

export type Average = 'binary' | 'macro' | 'micro' | 'weighted';

export interface PrfOptions<L extends Label = Label> {
  /**
   * `binary` (default, as scikit-learn): the scores of `posLabel` only; the data must have at most 2 labels.
   * `macro`: unweighted mean over the labels present in yTrue ∪ yPred. `micro`: from the total tp, fp, fn.
   * `weighted`: mean weighted by support (true count).
   */
  average?: Average;
  /** The positive label for `average: 'binary'`, default 1 (as scikit-learn's `pos_label=1`). */
  posLabel?: L;
  /** Value used when a ratio is 0/0 (scikit-learn `zero_division`), default 0. */
  zeroDivision?: 0 | 1;
  /** β of the F-beta score reported as `fBeta` (scikit-learn `fbeta_score(beta=...)`), default 1. */
  beta?: number;
}

export interface LabelScores<L extends Label = Label> {
  label: L;
  precision: number;
  recall: number;
  f1: number;
  /** F-beta with the options' β (= f1 when β = 1). */
  fBeta: number;
  /** Number of true examples of the label. */
  support: number;
}

export interface PrfResult<L extends Label = Label> {
  average: Average;
  precision: number;
  recall: number;
  f1: number;
  /** F-beta with the options' β (= f1 when β = 1). */
  fBeta: number;
  beta: number;
  /** Per label, in label order (scikit-learn `average=None`). For `binary`, only the positive label. */
  perLabel: Array<LabelScores<L>>;
}

/**
 * Precision, recall and F1 together, as scikit-learn's `precision_recall_fscore_support(y_true, y_pred,
 * average=..., pos_label=..., zero_division=...)`. F1 is computed from the counts, 2tp / (2tp + fp + fn), and is
 * `zeroDivision` only when tp = fp = fn = 0 (as scikit-learn ≥ 1.3).
 *
 * For `binary`: throws when the data has more than two labels, or two labels neither of which is `posLabel`
 * (scikit-learn raises ValueError in both cases). With a single label present, a `posLabel` not in the data is
 * allowed and scores 0/0 → `zeroDivision` (scikit-learn's `f1_score([0,0],[0,0])` = 0).
 */
export function precisionRecallF1<L extends Label>(
  yTrue: readonly L[], yPred: readonly L[], options: PrfOptions<L> = {},
): PrfResult<L> {
  checkSameLength('yTrue and yPred', yTrue, yPred);
  const average = options.average ?? 'binary';
  const zd = options.zeroDivision ?? 0;
  if (zd !== 0 && zd !== 1) throw new RangeError(`zeroDivision must be 0 or 1, got ${String(zd)}`);
  const div = (num: number, den: number): number => (den === 0 ? zd : num / den);
  const beta = options.beta ?? 1;
  if (!(Number.isFinite(beta) && beta >= 0)) throw new RangeError(`beta must be a finite number ≥ 0, got ${beta}`);
  const b2 = beta * beta;
  // F-beta from the counts: (1 + β²)tp / ((1 + β²)tp + β²fn + fp), zeroDivision when tp = fp = fn = 0.
  const fb = (tp: number, fp: number, fn: number): number => div((1 + b2) * tp, (1 + b2) * tp + b2 * fn + fp);
  const present = uniqueLabels(yTrue, yPred);
  let labels: L[];
  if (average === 'binary') {
    const pos = (options.posLabel ?? 1) as L;
    if (present.length > 2) {
      throw new RangeError("Target is multiclass but average='binary'; choose average 'macro', 'micro' or 'weighted'");
    }
    if (!present.includes(pos) && present.length >= 2) {
      throw new RangeError(`posLabel=${JSON.stringify(pos)} is not a valid label: it should be one of ${JSON.stringify(present)}`);
    }
    labels = [pos];
  } else if (average === 'macro' || average === 'micro' || average === 'weighted') {
    labels = present;
  } else {
    throw new RangeError(`unknown average: ${String(average)}`);
  }

  const counts = labels.map(label => {
    let tp = 0, fp = 0, fn = 0;
    for (let i = 0; i < yTrue.length; i++) {
      const t = yTrue[i] === label;
      const p = yPred[i] === label;
      if (t && p) tp++;
      else if (p) fp++;
      else if (t) fn++;
    }
    return { label, tp, fp, fn };
  });
  const perLabel: Array<LabelScores<L>> = counts.map(({ label, tp, fp, fn }) => ({
    label,
    precision: div(tp, tp + fp),
    recall: div(tp, tp + fn),
    f1: div(2 * tp, 2 * tp + fp + fn),
    fBeta: fb(tp, fp, fn),
    support: tp + fn,
  }));

  if (average === 'binary') {
    const s = perLabel[0];
    return { average, precision: s.precision, recall: s.recall, f1: s.f1, fBeta: s.fBeta, beta, perLabel };
  }
  if (average === 'micro') {
    let tp = 0, fp = 0, fn = 0;
    for (const c of counts) { tp += c.tp; fp += c.fp; fn += c.fn; }
    return { average, precision: div(tp, tp + fp), recall: div(tp, tp + fn), f1: div(2 * tp, 2 * tp + fp + fn), fBeta: fb(tp, fp, fn), beta, perLabel };
  }
  if (perLabel.length === 0) return { average, precision: zd, recall: zd, f1: zd, fBeta: zd, beta, perLabel };
  const weights = perLabel.map(s => (average === 'weighted' ? s.support : 1));
  const total = weights.reduce((x, y) => x + y, 0);
  const avg = (key: 'precision' | 'recall' | 'f1' | 'fBeta'): number =>
    total === 0 ? zd : perLabel.reduce((acc, s, i) => acc + s[key] * weights[i], 0) / total;
  return { average, precision: avg('precision'), recall: avg('recall'), f1: avg('f1'), fBeta: avg('fBeta'), beta, perLabel };
}

/** Precision, as `sklearn.metrics.precision_score` (see {@link precisionRecallF1} for the options). */
export function precision<L extends Label>(yTrue: readonly L[], yPred: readonly L[], options: PrfOptions<L> = {}): number {
  return precisionRecallF1(yTrue, yPred, options).precision;
}

/** Recall, as `sklearn.metrics.recall_score` (see {@link precisionRecallF1} for the options). */
export function recall<L extends Label>(yTrue: readonly L[], yPred: readonly L[], options: PrfOptions<L> = {}): number {
  return precisionRecallF1(yTrue, yPred, options).recall;
}

/** F1, as `sklearn.metrics.f1_score` (see {@link precisionRecallF1} for the options). */
export function f1<L extends Label>(yTrue: readonly L[], yPred: readonly L[], options: PrfOptions<L> = {}): number {
  return precisionRecallF1(yTrue, yPred, options).f1;
}

/** F-beta, as `sklearn.metrics.fbeta_score(y_true, y_pred, beta=beta)` (see {@link precisionRecallF1} for the options). */
export function fBeta<L extends Label>(yTrue: readonly L[], yPred: readonly L[], beta: number, options: PrfOptions<L> = {}): number {
  return precisionRecallF1(yTrue, yPred, { ...options, beta }).fBeta;
}

/**
 * Matthews correlation coefficient, as `sklearn.metrics.matthews_corrcoef(y_true, y_pred)`, for two or more classes
 * (Gorodkin's R_K): with C the confusion matrix, t_k its row sums, p_k its column sums, c its trace and s = n,
 * MCC = (c·s − Σ p_k t_k) / √((s² − Σ p_k²)(s² − Σ t_k²)). 0 when the denominator is 0 (one class in yTrue or in
 * yPred), as scikit-learn. NaN for empty input.
 */
export function matthewsCorrcoef<L extends Label>(yTrue: readonly L[], yPred: readonly L[]): number {
  checkSameLength('yTrue and yPred', yTrue, yPred);
  if (yTrue.length === 0) return NaN;
  const { matrix } = confusionMatrix(yTrue, yPred);
  const k = matrix.length;
  const s = yTrue.length;
  let c = 0, pt = 0, pp = 0, tt = 0;
  for (let i = 0; i < k; i++) {
    c += matrix[i][i];
    let ti = 0, pi = 0;
    for (let j = 0; j < k; j++) { ti += matrix[i][j]; pi += matrix[j][i]; }
    pt += pi * ti; pp += pi * pi; tt += ti * ti;
  }
  const den = (s * s - pp) * (s * s - tt);
  return den === 0 ? 0 : (c * s - pt) / Math.sqrt(den);
}

/**
 * Cohen's kappa of two raters' labels, as `sklearn.metrics.cohen_kappa_score(y1, y2, weights=...)`:
 * κ = 1 − Σ w·O / Σ w·E, with O the confusion matrix, E the outer product of its marginals divided by n, and
 * w = 1 − I (unweighted), |i − j| (`linear`) or (i − j)² (`quadratic`) over the sorted labels (or `labels`, in that
 * order, which matters for the weighted forms). NaN when Σ w·E = 0
 * (e.g. both raters use one single label), as scikit-learn's default `replace_undefined_by=np.nan`.
 */
export function cohenKappa<L extends Label>(
  yA: readonly L[], yB: readonly L[], options: { weights?: 'linear' | 'quadratic'; labels?: readonly L[] } = {},
): number {
  checkSameLength('the two label arrays', yA, yB);
  const weights = options.weights;
  if (weights !== undefined && weights !== 'linear' && weights !== 'quadratic') throw new RangeError(`unknown weights: ${String(weights)}`);
  if (yA.length === 0) return NaN;
  const { matrix } = confusionMatrix(yA, yB, { labels: options.labels });
  const k = matrix.length;
  const rows = matrix.map(r => r.reduce((x, y) => x + y, 0));
  const cols = matrix[0].map((_, j) => matrix.reduce((acc, r) => acc + r[j], 0));
  const n = rows.reduce((x, y) => x + y, 0);
  if (n === 0) return NaN;
  let observed = 0, expected = 0;
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < k; j++) {
      const w = weights === 'linear' ? Math.abs(i - j) : weights === 'quadratic' ? (i - j) * (i - j) : i === j ? 0 : 1;
      observed += w * matrix[i][j];
      expected += w * rows[i] * cols[j] / n;
    }
  }
  return expected === 0 ? NaN : 1 - observed / expected;
}

export interface PrCurve {
  /** precision[k] at threshold k, then a final 1 (scikit-learn's layout: one more point than thresholds). */
  precision: number[];
  /** recall[k] at threshold k, then a final 0. Decreasing. */
  recall: number[];
  /** The distinct scores, ascending; an example is predicted positive when its score ≥ the threshold. */
  thresholds: number[];
}

/**
 * Precision–recall curve of binary indicators, as `sklearn.metrics.precision_recall_curve(y_true, y_score,
 * pos_label, drop_intermediate=False)`: one point per distinct score, ascending, plus the end point (recall 0,
 * precision 1). With no positive in yTrue the recall is 1 everywhere (scikit-learn warns and does the same).
 */
export function precisionRecallCurve<L extends Label>(yTrue: readonly L[], scores: readonly number[], posLabel?: L): PrCurve {
  checkSameLength('yTrue and scores', yTrue, scores);
  checkScores(scores);
  if (yTrue.length === 0) throw new RangeError('yTrue is empty');
  const labels = uniqueLabels(yTrue);
  if (labels.length > 2) throw new RangeError('yTrue has more than two classes: the precision–recall curve is binary');
  const pos = binaryPositive(labels, posLabel);
  return prCurve(yTrue.map(y => y === pos), scores);
}

/** The positive class of binary labels: `posLabel`, else 1 when the labels are {0, 1}, {−1, 1}, {0} or {1} (scikit-learn's rule). */
function binaryPositive<L extends Label>(labels: readonly L[], posLabel: L | undefined): L {
  if (posLabel !== undefined) return posLabel;
  const ok = labels.every(l => l === 0 || l === 1 || l === -1);
  if (!ok) throw new RangeError(`posLabel is not specified: either make yTrue take values in {0, 1} or {-1, 1}, or pass posLabel (labels ${JSON.stringify(labels)})`);
  return 1 as L;
}

function prCurve(isPositive: readonly boolean[], scores: readonly number[]): PrCurve {
  const n = scores.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => scores[j] - scores[i]);
  let totalPos = 0;
  for (const p of isPositive) if (p) totalPos++;
  const precision: number[] = [];
  const recall: number[] = [];
  const thresholds: number[] = [];
  let tp = 0, fp = 0;
  for (let k = 0; k < n;) {
    const s = scores[order[k]];
    while (k < n && scores[order[k]] === s) { if (isPositive[order[k]]) tp++; else fp++; k++; }
    precision.push(tp / (tp + fp));
    recall.push(totalPos === 0 ? 1 : tp / totalPos);
    thresholds.push(s);
  }
  precision.reverse(); recall.reverse(); thresholds.reverse();
  precision.push(1); recall.push(0);
  return { precision, recall, thresholds };
}

/** AP of a curve: Σ (R_k − R_{k+1})·P_k (a step function, no interpolation), as scikit-learn. */
function apOfCurve(c: PrCurve): number {
  let ap = 0;
  for (let k = 0; k + 1 < c.recall.length; k++) ap += (c.recall[k] - c.recall[k + 1]) * c.precision[k];
  return ap;
}

/**
 * Average precision of binary labels, as `sklearn.metrics.average_precision_score(y_true, y_score, pos_label)`:
 * AP = Σ_k (R_k − R_{k−1})·P_k over the thresholds of {@link precisionRecallCurve}. With no positive in yTrue the
 * result is 0 (scikit-learn warns and returns 0). `posLabel` defaults to 1 (as scikit-learn; other binary labels
 * need it).
 */
export function averagePrecision<L extends Label>(yTrue: readonly L[], scores: readonly number[], posLabel?: L): number {
  const labels = uniqueLabels(yTrue);
  if (labels.length > 2) throw new RangeError('yTrue has more than two classes: use averagePrecisionOvr for multiclass scores');
  const pos = binaryPositive(labels, posLabel);
  if (labels.length === 2 && !labels.includes(pos)) throw new RangeError(`posLabel=${JSON.stringify(pos)} is not a valid label: it should be one of ${JSON.stringify(labels)}`);
  const c = precisionRecallCurve(yTrue, scores, pos);
  return yTrue.some(y => y === pos) ? apOfCurve(c) : 0;
}

/**
 * One-vs-rest average precision of a multiclass score matrix (`scores[i][k]` for class `labels[k]`), per class and
 * averaged, as `average_precision_score(y_true, y_score, average='macro' | 'weighted' | 'micro')` with y_true
 * label-binarized over `labels`. A class without examples has AP 0 (as scikit-learn); `weighted` weights by support.
 * `micro` pools every (example, class) pair into one binary problem.
 */
export function averagePrecisionOvr<L extends Label>(
  yTrue: readonly L[], scores: ReadonlyArray<readonly number[]>, labels: readonly L[], average: 'macro' | 'weighted' | 'micro' = 'macro',
): { value: number; perClass: number[]; support: number[] } {
  checkSameLength('yTrue and scores', yTrue, scores);
  if (yTrue.length === 0) throw new RangeError('yTrue is empty');
  const k = labels.length;
  if (new Set(labels).size !== k) throw new RangeError("Parameter 'labels' must be unique");
  for (const row of scores) {
    if (row.length !== k) throw new RangeError(`every row of scores must have ${k} columns, one per label`);
    checkScores(row);
  }
  const support = labels.map(l => yTrue.filter(y => y === l).length);
  const perClass = labels.map((l, col) => {
    const isPos = yTrue.map(y => y === l);
    return support[col] === 0 ? 0 : apOfCurve(prCurve(isPos, scores.map(r => r[col])));
  });
  let value: number;
  if (average === 'micro') {
    const isPos: boolean[] = [];
    const flat: number[] = [];
    yTrue.forEach((y, i) => labels.forEach((l, col) => { isPos.push(y === l); flat.push(scores[i][col]); }));
    value = isPos.includes(true) ? apOfCurve(prCurve(isPos, flat)) : 0;
  } else if (average === 'weighted') {
    const total = support.reduce((a, b) => a + b, 0);
    value = total === 0 ? 0 : perClass.reduce((acc, v, j) => acc + v * support[j], 0) / total;
  } else if (average === 'macro') {
    value = perClass.reduce((a, b) => a + b, 0) / k;
  } else {
    throw new RangeError(`unknown average: ${String(average)}`);
  }
  return { value, perClass, support };
}

/**
 * Area under the ROC curve of binary indicators `isPositive` against `scores`, by the rank (Mann–Whitney)
 * formula with mid-ranks for ties: AUC = (R₊ − n₊(n₊ + 1)/2) / (n₊·n₋). A tied positive/negative pair counts ½,
 * which is exactly the trapezoidal area under scikit-learn's ROC curve (ties form one diagonal segment).
 */
function binaryAuc(isPositive: readonly boolean[], scores: readonly number[]): number {
  const n = scores.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => scores[i] - scores[j]);
  let rankSumPos = 0;
  let nPos = 0;
  let i = 0;
  while (i < n) {
    let j = i + 1;
    while (j < n && scores[order[j]] === scores[order[i]]) j++;
    const midRank = (i + 1 + j) / 2; // mean of the 1-based ranks i+1..j
    for (let k = i; k < j; k++) {
      if (isPositive[order[k]]) { rankSumPos += midRank; nPos++; }
    }
    i = j;
  }
  const nNeg = n - nPos;
  return (rankSumPos - nPos * (nPos + 1) / 2) / (nPos * nNeg);
}

function checkScores(scores: readonly number[]): void {
  for (const s of scores) if (!Number.isFinite(s)) throw new RangeError(`scores must be finite numbers, got ${s}`);
}

/**
 * Binary ROC AUC, as `sklearn.metrics.roc_auc_score(y_true, y_score)`. Ties are handled as the trapezoid rule
 * does (a tied positive/negative pair counts ½).
 *
 * `posLabel` defaults to the greater of the two labels, which is the class scikit-learn treats as positive.
 * Throws when yTrue has only one class ("ROC AUC score is not defined in that case", as scikit-learn), more than
 * two classes (use {@link rocAucOvr}), or when `posLabel` is not one of its labels.
 */
export function rocAuc<L extends Label>(yTrue: readonly L[], scores: readonly number[], posLabel?: L): number {
  checkSameLength('yTrue and scores', yTrue, scores);
  checkScores(scores);
  const labels = uniqueLabels(yTrue);
  if (labels.length < 2) {
    throw new RangeError('Only one class present in yTrue. ROC AUC score is not defined in that case.');
  }
  if (labels.length > 2) throw new RangeError('yTrue has more than two classes: use rocAucOvr for multiclass scores');
  const pos = posLabel ?? labels[1];
  if (!labels.includes(pos)) throw new RangeError(`posLabel=${JSON.stringify(pos)} is not one of the labels ${JSON.stringify(labels)}`);
  return binaryAuc(yTrue.map(y => y === pos), scores);
}

export interface OvrAuc<L extends Label = Label> {
  /** Column order of the score matrix. */
  labels: L[];
  /** One-vs-rest AUC of each label (scikit-learn `average=None`). */
  perClass: number[];
  /** Unweighted mean of `perClass` (scikit-learn `average='macro'`). */
  macro: number;
}

/**
 * One-vs-rest ROC AUC of a multiclass score matrix (`scores[i][k]` = score of class `labels[k]` for example i),
 * per class and macro-averaged, as `roc_auc_score(y_true, y_score, multi_class='ovr', average=None | 'macro')`.
 *
 * Without `labels`, the columns are the sorted labels of yTrue and their number must equal the number of columns.
 * As scikit-learn, each row must sum to 1 (`np.allclose`: |sum − 1| ≤ 1e-8 + 1e-5·|sum|) and every class must occur
 * in yTrue (a class without positives has no AUC).
 */
export function rocAucOvrPerClass<L extends Label>(
  yTrue: readonly L[], scores: ReadonlyArray<readonly number[]>, options: { labels?: readonly L[] } = {},
): OvrAuc<L> {
  checkSameLength('yTrue and scores', yTrue, scores);
  if (yTrue.length === 0) throw new RangeError('yTrue is empty');
  const k = scores[0].length;
  const present = uniqueLabels(yTrue);
  let labels: L[];
  if (options.labels) {
    labels = [...options.labels];
    if (new Set(labels).size !== labels.length) throw new RangeError("Parameter 'labels' must be unique");
    if (labels.length !== k) throw new RangeError(`Number of given labels, ${labels.length}, not equal to the number of columns in scores, ${k}`);
    if (present.some(l => !labels.includes(l))) throw new RangeError("yTrue contains labels not in parameter 'labels'");
  } else {
    labels = present;
    if (labels.length !== k) throw new RangeError(`Number of classes in yTrue (${labels.length}) not equal to the number of columns in scores (${k})`);
  }
  if (labels.length < 2) throw new RangeError('ROC AUC needs at least two classes');
  for (const row of scores) {
    if (row.length !== k) throw new RangeError('every row of scores must have the same number of columns');
    checkScores(row);
    const sum = row.reduce((a, b) => a + b, 0);
    if (!(Math.abs(sum - 1) <= 1e-8 + 1e-5 * Math.abs(sum))) {
      throw new RangeError('Target scores need to be probabilities for multiclass ROC AUC, i.e. each row should sum to 1');
    }
  }
  const perClass = labels.map((label, col) => {
    const isPos = yTrue.map(y => y === label);
    if (!isPos.includes(true)) throw new RangeError(`class ${JSON.stringify(label)} does not occur in yTrue: its one-vs-rest AUC is not defined`);
    return binaryAuc(isPos, scores.map(r => r[col]));
  });
  return { labels, perClass, macro: perClass.reduce((a, b) => a + b, 0) / perClass.length };
}

/** Macro one-vs-rest ROC AUC (a number), as `roc_auc_score(..., multi_class='ovr', average='macro')`. */
export function rocAucOvr<L extends Label>(
  yTrue: readonly L[], scores: ReadonlyArray<readonly number[]>, options: { labels?: readonly L[] } = {},
): number {
  return rocAucOvrPerClass(yTrue, scores, options).macro;
}
