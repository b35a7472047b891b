import * as assert from 'assert';
import {
  accuracy, averagePrecision, averagePrecisionOvr, cohenKappa, confusionMatrix, f1, fBeta, matthewsCorrcoef, precision, precisionRecallCurve,
  precisionRecallF1, recall, rocAuc, rocAucOvr, rocAucOvrPerClass, uniqueLabels,
} from '../../src/core/stats';

/**
 * A scikit-learn doctest value printed with an ellipsis ("0.26..."): the actual value must start with those digits,
 * i.e. lie in [shown, shown + one unit of the last digit).
 */
function ellipsis(actual: number, shown: string, what = ''): void {
  const decimals = shown.split('.')[1]?.length ?? 0;
  const lo = Number(shown);
  const unit = 10 ** -decimals;
  assert.ok(actual >= lo - 1e-12 && actual < lo + unit, `${what} ${actual} does not start with ${shown}`);
}

/** A value printed rounded to the digits shown (e.g. classification_report's 2 decimals). */
function rounded(actual: number, shown: string, what = ''): void {
  const decimals = shown.split('.')[1]?.length ?? 0;
  assert.ok(Math.abs(actual - Number(shown)) <= 0.5 * 10 ** -decimals + 1e-12, `${what} ${actual} ≠ ${shown} (rounded)`);
}

const close = (a: number, b: number, tol = 1e-12) => assert.ok(Math.abs(a - b) <= tol, `${a} ≠ ${b}`);

// scikit-learn docstrings of precision_score / recall_score / f1_score (sklearn/metrics/_classification.py):
// y_true = [0, 1, 2, 0, 1, 2], y_pred = [0, 2, 1, 0, 0, 1]
const Y_TRUE = [0, 1, 2, 0, 1, 2];
const Y_PRED = [0, 2, 1, 0, 0, 1];

describe('stats: accuracy and confusion matrix (scikit-learn docstrings)', () => {
  it('accuracy_score', () => {
    // accuracy_score docstring: y_pred = [0, 2, 1, 3], y_true = [0, 1, 2, 3]; accuracy_score(y_true, y_pred) → 0.5
    assert.strictEqual(accuracy([0, 1, 2, 3], [0, 2, 1, 3]), 0.5);
    // classification_report docstring: y_true = [0, 1, 2, 2, 2], y_pred = [0, 0, 2, 2, 1] → "accuracy 0.60"
    rounded(accuracy([0, 1, 2, 2, 2], [0, 0, 2, 2, 1]), '0.60');
  });

  it('confusion_matrix', () => {
    // confusion_matrix docstring: y_true = [2, 0, 2, 2, 0, 1], y_pred = [0, 0, 2, 2, 0, 2] →
    // array([[2, 0, 0], [0, 0, 1], [1, 0, 2]])
    assert.deepStrictEqual(confusionMatrix([2, 0, 2, 2, 0, 1], [0, 0, 2, 2, 0, 2]), { labels: [0, 1, 2], matrix: [[2, 0, 0], [0, 0, 1], [1, 0, 2]] });
    // same docstring: y_true = ["cat", "ant", "cat", "cat", "ant", "bird"], y_pred = ["ant", "ant", "cat", "cat", "ant", "cat"],
    // labels=["ant", "bird", "cat"] → array([[2, 0, 0], [0, 0, 1], [1, 0, 2]])
    const yt = ['cat', 'ant', 'cat', 'cat', 'ant', 'bird'];
    const yp = ['ant', 'ant', 'cat', 'cat', 'ant', 'cat'];
    assert.deepStrictEqual(confusionMatrix(yt, yp, { labels: ['ant', 'bird', 'cat'] }).matrix, [[2, 0, 0], [0, 0, 1], [1, 0, 2]]);
    // the sorted label order is the same, so no labels are needed
    assert.deepStrictEqual(confusionMatrix(yt, yp).labels, ['ant', 'bird', 'cat']);
    // same docstring: tn, fp, fn, tp = confusion_matrix([0, 1, 0, 1], [1, 1, 1, 0]).ravel() → (0, 2, 1, 1)
    assert.deepStrictEqual(confusionMatrix([0, 1, 0, 1], [1, 1, 1, 0]).matrix.flat(), [0, 2, 1, 1]);
  });

  it('labels not listed are ignored; rows sum to the support', () => {
    const cm = confusionMatrix(Y_TRUE, Y_PRED, { labels: [0, 1] });
    assert.deepStrictEqual(cm.matrix, [[2, 0], [1, 0]]);
    const full = confusionMatrix(Y_TRUE, Y_PRED);
    assert.deepStrictEqual(full.matrix.map(r => r.reduce((a, b) => a + b, 0)), [2, 2, 2]);
  });
});

describe('stats: precision, recall, F1 (scikit-learn docstrings and user guide)', () => {
  it('binary (user guide "small examples in binary classification")', () => {
    // doc/modules/model_evaluation.rst: y_pred = [0, 1, 0, 0], y_true = [0, 1, 0, 1];
    // metrics.precision_score(y_true, y_pred) → 1.0, metrics.recall_score → 0.5, metrics.f1_score → 0.66...
    assert.strictEqual(precision([0, 1, 0, 1], [0, 1, 0, 0]), 1);
    assert.strictEqual(recall([0, 1, 0, 1], [0, 1, 0, 0]), 0.5);
    ellipsis(f1([0, 1, 0, 1], [0, 1, 0, 0]), '0.66', 'f1');
    close(f1([0, 1, 0, 1], [0, 1, 0, 0]), 2 / 3); // hand-computed: 2·1·0.5/(1 + 0.5)
    // same page: precision_recall_fscore_support(y_true, y_pred, beta=0.5) → precision array([0.66..., 1.]),
    // recall array([1., 0.5]): the scores of label 0 and label 1 as positive class
    ellipsis(precision([0, 1, 0, 1], [0, 1, 0, 0], { posLabel: 0 }), '0.66', 'precision of 0');
    assert.strictEqual(recall([0, 1, 0, 1], [0, 1, 0, 0], { posLabel: 0 }), 1);
  });

  it('macro / micro / weighted (precision_score, recall_score, f1_score docstrings)', () => {
    // precision_score docstring: average='macro' → 0.22..., 'micro' → 0.33..., 'weighted' → 0.22...,
    // None → array([0.66..., 0., 0.])
    ellipsis(precision(Y_TRUE, Y_PRED, { average: 'macro' }), '0.22', 'precision macro');
    ellipsis(precision(Y_TRUE, Y_PRED, { average: 'micro' }), '0.33', 'precision micro');
    ellipsis(precision(Y_TRUE, Y_PRED, { average: 'weighted' }), '0.22', 'precision weighted');
    const per = precisionRecallF1(Y_TRUE, Y_PRED, { average: 'macro' }).perLabel;
    ellipsis(per[0].precision, '0.66');
    assert.deepStrictEqual(per.slice(1).map(s => s.precision), [0, 0]);
    // recall_score docstring: 'macro' → 0.33..., 'micro' → 0.33..., 'weighted' → 0.33..., None → array([1., 0., 0.])
    ellipsis(recall(Y_TRUE, Y_PRED, { average: 'macro' }), '0.33', 'recall macro');
    ellipsis(recall(Y_TRUE, Y_PRED, { average: 'micro' }), '0.33', 'recall micro');
    ellipsis(recall(Y_TRUE, Y_PRED, { average: 'weighted' }), '0.33', 'recall weighted');
    assert.deepStrictEqual(per.map(s => s.recall), [1, 0, 0]);
    // f1_score docstring: 'macro' → 0.26..., 'micro' → 0.33..., 'weighted' → 0.26..., None → array([0.8, 0., 0.])
    ellipsis(f1(Y_TRUE, Y_PRED, { average: 'macro' }), '0.26', 'f1 macro');
    ellipsis(f1(Y_TRUE, Y_PRED, { average: 'micro' }), '0.33', 'f1 micro');
    ellipsis(f1(Y_TRUE, Y_PRED, { average: 'weighted' }), '0.26', 'f1 weighted');
    assert.deepStrictEqual(per.map(s => s.f1), [0.8, 0, 0]);
    // hand-computed exact values behind the ellipses: macro precision 2/9, macro F1 (0.8 + 0 + 0)/3
    close(precision(Y_TRUE, Y_PRED, { average: 'macro' }), 2 / 9);
    close(f1(Y_TRUE, Y_PRED, { average: 'macro' }), 0.8 / 3);
  });

  it('zero_division (precision_score, recall_score and f1_score docstrings)', () => {
    // precision_score docstring: y_pred = [0, 0, 0, 0, 0, 0]; precision_score(y_true, y_pred, average=None) →
    // array([0.33..., 0., 0.]); with zero_division=1 → array([0.33..., 1., 1.])
    const zeros = [0, 0, 0, 0, 0, 0];
    let per = precisionRecallF1(Y_TRUE, zeros, { average: 'macro' }).perLabel;
    ellipsis(per[0].precision, '0.33');
    assert.deepStrictEqual(per.slice(1).map(s => s.precision), [0, 0]);
    per = precisionRecallF1(Y_TRUE, zeros, { average: 'macro', zeroDivision: 1 }).perLabel;
    assert.deepStrictEqual(per.slice(1).map(s => s.precision), [1, 1]);
    // recall_score docstring: y_true = [0, 0, 0, 0, 0, 0] (y_pred = [0, 2, 1, 0, 0, 1]); recall_score(..., average=None)
    // → array([0.5, 0., 0.]); zero_division=1 → array([0.5, 1., 1.])
    per = precisionRecallF1(zeros, Y_PRED, { average: 'macro' }).perLabel;
    assert.deepStrictEqual(per.map(s => s.recall), [0.5, 0, 0]);
    per = precisionRecallF1(zeros, Y_PRED, { average: 'macro', zeroDivision: 1 }).perLabel;
    assert.deepStrictEqual(per.map(s => s.recall), [0.5, 1, 1]);
    // f1_score docstring: y_true = y_pred = [0, 0, 0, 0, 0, 0]; f1_score(y_true, y_pred, zero_division=1) → 1.0
    // (and 0.0 with the default zero_division, as in the older docstring "f1_score(y_true_empty, y_pred_empty) 0.0")
    assert.strictEqual(f1(zeros, zeros, { zeroDivision: 1 }), 1);
    assert.strictEqual(f1(zeros, zeros), 0);
  });

  it('classification_report docstring (macro averages, 2 decimals)', () => {
    // classification_report docstring: y_true = [0, 1, 2, 2, 2], y_pred = [0, 0, 2, 2, 1] →
    // class 0: 0.50 1.00 0.67; class 1: 0.00 0.00 0.00; class 2: 1.00 0.67 0.80; macro avg 0.50 0.56 0.49;
    // weighted avg 0.70 0.60 0.61
    const yt = [0, 1, 2, 2, 2], yp = [0, 0, 2, 2, 1];
    const m = precisionRecallF1(yt, yp, { average: 'macro' });
    const expected = [['0.50', '1.00', '0.67'], ['0.00', '0.00', '0.00'], ['1.00', '0.67', '0.80']];
    m.perLabel.forEach((s, i) => {
      rounded(s.precision, expected[i][0]); rounded(s.recall, expected[i][1]); rounded(s.f1, expected[i][2]);
    });
    rounded(m.precision, '0.50'); rounded(m.recall, '0.56'); rounded(m.f1, '0.49');
    const w = precisionRecallF1(yt, yp, { average: 'weighted' });
    rounded(w.precision, '0.70'); rounded(w.recall, '0.60'); rounded(w.f1, '0.61');
    // same docstring, labels absent from y_pred and y_true excluded: y_pred = [1, 1, 0], y_true = [1, 1, 1] with
    // labels=[1, 2, 3] → row "1  1.00 0.67 0.80"
    const one = precisionRecallF1([1, 1, 1], [1, 1, 0], { average: 'binary', posLabel: 1 });
    rounded(one.precision, '1.00'); rounded(one.recall, '0.67'); rounded(one.f1, '0.80');
  });

  it('string labels and posLabel', () => {
    // hand-computed: spam is positive; tp = 2, fp = 1, fn = 1
    const yt = ['spam', 'ham', 'spam', 'spam', 'ham'];
    const yp = ['spam', 'spam', 'ham', 'spam', 'ham'];
    const r = precisionRecallF1(yt, yp, { posLabel: 'spam' });
    close(r.precision, 2 / 3); close(r.recall, 2 / 3); close(r.f1, 2 / 3);
  });

  it('binary averaging refuses multiclass data and a posLabel that is not a label (as scikit-learn)', () => {
    assert.throws(() => f1(Y_TRUE, Y_PRED), /multiclass/);
    assert.throws(() => f1(['a', 'b'], ['a', 'b']), /posLabel/);
    assert.throws(() => uniqueLabels<string | number>([1, 'a']), /Mix of label/);
    assert.throws(() => accuracy([1, 2], [1]), RangeError);
  });

  it('properties: bounds, micro = accuracy for single-label multiclass, F1 is the harmonic mean', () => {
    const yt = [0, 1, 2, 2, 1, 0, 3, 3, 3, 1];
    const yp = [0, 2, 2, 2, 1, 1, 3, 0, 3, 1];
    const micro = precisionRecallF1(yt, yp, { average: 'micro' });
    close(micro.precision, accuracy(yt, yp)); close(micro.recall, accuracy(yt, yp)); close(micro.f1, accuracy(yt, yp));
    for (const s of precisionRecallF1(yt, yp, { average: 'macro' }).perLabel) {
      for (const v of [s.precision, s.recall, s.f1]) assert.ok(v >= 0 && v <= 1);
      if (s.precision + s.recall > 0) close(s.f1, 2 * s.precision * s.recall / (s.precision + s.recall));
    }
  });
});

describe('stats: ROC AUC (scikit-learn docs and test_ranking.py)', () => {
  it('binary roc_auc_score', () => {
    // roc_auc_score docstring / user guide: y_true = np.array([0, 0, 1, 1]), y_scores = np.array([0.1, 0.4, 0.35, 0.8])
    // → roc_auc_score(y_true, y_scores) = 0.75
    assert.strictEqual(rocAuc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]), 0.75);
    // roc_curve docstring: y = [1, 1, 2, 2], scores = [0.1, 0.4, 0.35, 0.8], pos_label=2 → fpr [0, 0, 0.5, 0.5, 1],
    // tpr [0, 0.5, 0.5, 1, 1]; the trapezoidal area of that published curve is 0.5·0.5 + 0.5·1 = 0.75 (hand-computed)
    assert.strictEqual(rocAuc([1, 1, 2, 2], [0.1, 0.4, 0.35, 0.8], 2), 0.75);
  });

  it('ties and toy data (test_ranking.py::test_roc_curve_toydata)', () => {
    // test_roc_curve_toydata: y_true [0, 1], y_score [0, 1] → roc_auc 1.0; y_true [0, 1], y_score [1, 0] → 0.0;
    // y_true [1, 0], y_score [1, 1] → 0.5; y_true [1, 0], y_score [1, 0] → 1.0; y_true [1, 0], y_score [0.5, 0.5] → 0.5
    assert.strictEqual(rocAuc([0, 1], [0, 1]), 1);
    assert.strictEqual(rocAuc([0, 1], [1, 0]), 0);
    assert.strictEqual(rocAuc([1, 0], [1, 1]), 0.5);
    assert.strictEqual(rocAuc([1, 0], [1, 0]), 1);
    assert.strictEqual(rocAuc([1, 0], [0.5, 0.5]), 0.5);
    // same test: y_true [0, 0] or [1, 1] → roc_auc_score raises ValueError
    assert.throws(() => rocAuc([0, 0], [0.25, 0.75]), /Only one class/);
    assert.throws(() => rocAuc([1, 1], [0.25, 0.75]), /Only one class/);
  });

  it('equals the pairwise definition of test_ranking.py::_auc plus ½ per tie (hand-checked on tied data)', () => {
    // scikit-learn's test helper _auc counts positive/negative pairs ranked correctly; with ties each tied pair adds ½.
    const y = [0, 1, 1, 0, 1, 0, 0, 1, 1, 0];
    const s = [0.2, 0.7, 0.2, 0.5, 0.9, 0.7, 0.1, 0.5, 0.5, 0.3];
    let num = 0, pairs = 0;
    for (let i = 0; i < y.length; i++) for (let j = 0; j < y.length; j++) {
      if (y[i] === 1 && y[j] === 0) { pairs++; num += s[i] > s[j] ? 1 : s[i] === s[j] ? 0.5 : 0; }
    }
    close(rocAuc(y, s), num / pairs);
    // and is invariant to a monotone transform of the scores, and flips under negation
    close(rocAuc(y, s.map(v => Math.exp(3 * v))), num / pairs);
    close(rocAuc(y, s.map(v => -v)), 1 - num / pairs);
  });

  it('one-vs-rest macro (test_ranking.py::test_multiclass_ovr_roc_auc_toydata)', () => {
    // test_multiclass_ovr_roc_auc_toydata: y_true = [0, 1, 2, 2] (also ["a", "b", "c", "c"]),
    // y_scores = [[1.0, 0.0, 0.0], [0.1, 0.5, 0.4], [0.1, 0.1, 0.8], [0.3, 0.3, 0.4]];
    // average=None equals [roc_auc_score([1, 0, 0, 0], y_scores[:, 0]), roc_auc_score([0, 1, 0, 0], y_scores[:, 1]),
    // roc_auc_score([0, 0, 1, 1], y_scores[:, 2])] and the macro result is their mean.
    const scores = [[1.0, 0.0, 0.0], [0.1, 0.5, 0.4], [0.1, 0.1, 0.8], [0.3, 0.3, 0.4]];
    const out = [rocAuc([1, 0, 0, 0], scores.map(r => r[0])), rocAuc([0, 1, 0, 0], scores.map(r => r[1])), rocAuc([0, 0, 1, 1], scores.map(r => r[2]))];
    for (const yt of [[0, 1, 2, 2], ['a', 'b', 'c', 'c']] as Array<Array<string | number>>) {
      const r = rocAucOvrPerClass(yt, scores);
      assert.deepStrictEqual(r.perClass, out);
      close(rocAucOvr(yt, scores), (out[0] + out[1] + out[2]) / 3);
    }
    // hand-computed per-class values: class 2 has positives 0.8, 0.4 and negatives 0.0, 0.4 → (1 + 1 + 1 + ½)/4
    assert.deepStrictEqual(out, [1, 1, 0.875]);
  });

  it('perfect and chance multiclass scores (test_ranking.py::test_perfect_imperfect_chance_multiclass_roc_auc)', () => {
    // y_true = [3, 1, 2, 0]; y_perfect → roc_auc_score(..., multi_class='ovr', average='macro') = 1.0;
    // y_imperfect → < 1.0; y_chance = 0.25 * np.ones((4, 4)) → 0.5
    const yt = [3, 1, 2, 0];
    const perfect = [[0.0, 0.0, 0.0, 1.0], [0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0], [0.75, 0.05, 0.05, 0.15]];
    const imperfect = [[0.0, 0.0, 0.0, 1.0], [0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 1.0]];
    const chance = [0, 1, 2, 3].map(() => [0.25, 0.25, 0.25, 0.25]);
    close(rocAucOvr(yt, perfect), 1);
    assert.ok(rocAucOvr(yt, imperfect) < 1);
    close(rocAucOvr(yt, chance), 0.5);
  });

  it('validates multiclass input like scikit-learn', () => {
    const scores = [[0.1, 0.8, 0.1], [0.3, 0.4, 0.3], [0.35, 0.5, 0.15], [0, 0.2, 0.8]];
    // test_roc_auc_score_multiclass_labels_error: y_true [0, 2, 0, 2] with 3 columns → "Number of classes in y_true
    // not equal to the number of columns"; labels of the wrong length; y_true labels not in labels
    assert.throws(() => rocAucOvr([0, 2, 0, 2], scores), /Number of classes/);
    assert.throws(() => rocAucOvr([0, 1, 2, 2], scores, { labels: [0, 1] }), /Number of given labels/);
    assert.throws(() => rocAucOvr([0, 1, 2, 3], scores, { labels: [0, 1, 2] }), /not in parameter 'labels'/);
    // rows must be probabilities
    assert.throws(() => rocAucOvr([0, 1, 2, 2], [[1, 1, 1], [0.3, 0.4, 0.3], [0.35, 0.5, 0.15], [0, 0.2, 0.8]]), /sum to 1/);
    // with labels given, a class that never occurs has no AUC
    assert.throws(() => rocAucOvr([0, 2, 0, 2], scores, { labels: [0, 1, 2] }), /does not occur/);
  });
});

describe('stats: F-beta, MCC, Cohen\'s kappa, average precision, PR curve (scikit-learn 1.9 docstrings)', () => {
  it('fbeta_score docstring: y_true [0,1,2,0,1,2], y_pred [0,2,1,0,0,1], beta 0.5', () => {
    const yTrue = [0, 1, 2, 0, 1, 2];
    const yPred = [0, 2, 1, 0, 0, 1];
    ellipsis(fBeta(yTrue, yPred, 0.5, { average: 'macro' }), '0.238', 'macro');
    ellipsis(fBeta(yTrue, yPred, 0.5, { average: 'micro' }), '0.33', 'micro');
    ellipsis(fBeta(yTrue, yPred, 0.5, { average: 'weighted' }), '0.238', 'weighted');
    const per = precisionRecallF1(yTrue, yPred, { average: 'macro', beta: 0.5 }).perLabel.map(l => l.fBeta);
    ellipsis(per[0], '0.71', 'class 0');
    assert.deepStrictEqual(per.slice(1), [0, 0]);
  });

  it('F-beta: β = 1 is F1, β = 0 is precision, large β tends to recall; β < 0 is refused (scikit-learn raises)', () => {
    const yTrue = [1, 1, 0, 1, 0, 0, 1];
    const yPred = [1, 0, 0, 1, 1, 0, 1];
    const r = precisionRecallF1(yTrue, yPred, { average: 'binary' });
    assert.strictEqual(fBeta(yTrue, yPred, 1, { average: 'binary' }), r.f1);
    assert.strictEqual(fBeta(yTrue, yPred, 0, { average: 'binary' }), r.precision);
    assert.ok(Math.abs(fBeta(yTrue, yPred, 1e4, { average: 'binary' }) - r.recall) < 1e-6);
    assert.throws(() => fBeta(yTrue, yPred, -1), /beta/);
  });

  it('matthews_corrcoef docstring: [+1,+1,+1,−1] vs [+1,−1,+1,+1] → −0.33…; undefined (one class) → 0 as scikit-learn', () => {
    ellipsis(-matthewsCorrcoef([1, 1, 1, -1], [1, -1, 1, 1]), '0.33');
    assert.ok(matthewsCorrcoef([1, 1, 1, -1], [1, -1, 1, 1]) < 0);
    assert.strictEqual(matthewsCorrcoef([1, 1, 1], [1, 1, 1]), 0);
    assert.strictEqual(matthewsCorrcoef(['a', 'b', 'c'], ['a', 'b', 'c']), 1);
  });

  it('cohen_kappa_score docstring: 0.6875; one label on both sides → NaN (replace_undefined_by=nan)', () => {
    const y1 = ['negative', 'positive', 'negative', 'neutral', 'positive'];
    const y2 = ['negative', 'positive', 'negative', 'neutral', 'negative'];
    assert.strictEqual(cohenKappa(y1, y2), 0.6875);
    assert.ok(Number.isNaN(cohenKappa([1, 1, 1], [1, 1, 1])));
    // Weighted kappa of ordinal ratings: a near miss costs less than a far one.
    const a = [0, 1, 2, 2, 1, 0], near = [0, 1, 1, 2, 1, 0], far = [0, 1, 0, 2, 1, 0];
    assert.ok(cohenKappa(a, near, { weights: 'quadratic' }) > cohenKappa(a, far, { weights: 'quadratic' }));
    assert.throws(() => cohenKappa(a, near, { weights: 'cubic' as never }), /weights/);
  });

  it('average_precision_score docstring: binary 0.83…, multiclass (one-vs-rest, macro) 0.77…', () => {
    ellipsis(averagePrecision([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]), '0.83');
    const scores = [[0.7, 0.2, 0.1], [0.4, 0.3, 0.3], [0.1, 0.8, 0.1], [0.2, 0.3, 0.5], [0.4, 0.4, 0.2], [0.1, 0.2, 0.7]];
    ellipsis(averagePrecisionOvr([0, 0, 1, 1, 2, 2], scores, [0, 1, 2], 'macro').value, '0.77');
    // No positive example: 0, as scikit-learn (which warns).
    assert.strictEqual(averagePrecision([0, 0, 0], [0.1, 0.2, 0.3]), 0);
    assert.throws(() => averagePrecision([0, 1], [0.5, Infinity]), /finite/);
  });

  it('precision_recall_curve docstring: precision [0.5, 0.667, 0.5, 1, 1], recall [1, 1, 0.5, 0.5, 0], thresholds [0.1, 0.35, 0.4, 0.8]', () => {
    const c = precisionRecallCurve([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]);
    assert.deepStrictEqual(c.thresholds, [0.1, 0.35, 0.4, 0.8]);
    assert.deepStrictEqual(c.recall, [1, 1, 0.5, 0.5, 0]);
    assert.deepStrictEqual(c.precision.map(v => Math.round(v * 1e8) / 1e8), [0.5, 0.66666667, 0.5, 1, 1]);
  });
});
