import * as assert from 'assert';
import { biasCheck, canonicalLabel, fairnessMetrics, sortLabels } from '../../src/core/checks/bias';
import type { GateContext, ModelOutputs } from '../../src/core/checks/types';
import { datasetOf } from './checkData';

/**
 * |actual − published| ≤ ½ unit of the last printed digit; a doctest ELLIPSIS value ("0.66666...") means the printed
 * number starts with those digits.
 */
function published(actual: number | null | undefined, text: string, what = ''): void {
  assert.ok(typeof actual === 'number', `${what}: ${actual} is not a number`);
  if (text.endsWith('...')) {
    assert.ok(String(actual).startsWith(text.slice(0, -3)), `${what} ${actual} does not print as ${text}`);
    return;
  }
  const decimals = (text.split('.')[1] ?? '').length;
  const tol = decimals === 0 ? 1e-12 : 0.5 * 10 ** -decimals + 1e-12;
  assert.ok(Math.abs(actual - Number(text)) <= tol, `${what} ${actual} ≠ published ${text} (±${tol})`);
}

const dataset = (cols: Record<string, Array<number | string | null>>) => datasetOf(cols);

function outputsOf(yPred: Array<string | number>, classes?: string[]): ModelOutputs {
  const pred = yPred.map(String);
  const cls = classes ?? [...new Set(pred)].sort();
  return { classes: cls, scores: new Float32Array(pred.length * cls.length), yPred: pred };
}

function ctxOf(cols: Record<string, Array<number | string | null>>, yPred: Array<string | number>, classes?: string[]): GateContext {
  return { root: '.', eval: dataset(cols), label: 'label', features: [], outputs: outputsOf(yPred, classes) };
}

type Measured = Record<string, unknown> & { sensitive_features: Record<string, Record<string, number | null>> };
type Evidence = { groups: Record<string, Array<Record<string, number | string>>>; worst?: Array<Record<string, unknown>>; groups_without_positives?: Record<string, string[]> };

// Fairlearn's user guide uses these arrays in both
//   docs/user_guide/assessment/common_fairness_metrics.rst  (demographic_parity_difference → 0.25,
//     demographic_parity_ratio → 0.66666..., equalized_odds_difference → 1.0, equalized_odds_ratio → 0.0) and
//   docs/user_guide/assessment/perform_fairness_assessment.rst  (MetricFrame with tpr = recall_score,
//     fpr = false_positive_rate, sel = selection_rate, count: by_group
//       a: tpr 0.5, fpr 1.000000, sel 0.75, count 4;  b: 0.6, 0.000000, 0.50, 6;  c: 0.4, 0.666667, 0.50, 8;
//     mf.difference() → tpr 0.20, fpr 1.00, sel 0.25;  mf.ratio() → tpr 0.666667, fpr 0.000000, sel 0.666667).
// Equal opportunity difference / ratio are exactly MetricFrame(true_positive_rate).difference() / .ratio()
// (fairlearn/metrics/_fairness_metrics.py), i.e. the published tpr difference 0.20 and ratio 0.666667.
const Y_TRUE = [0, 1, 1, 1, 1, 0, 1, 0, 1, 0, 0, 0, 1, 1, 1, 1, 1, 1];
const Y_PRED = [0, 0, 1, 0, 1, 1, 1, 0, 0, 1, 1, 1, 1, 0, 0, 1, 1, 0];
const SF = ['b', 'b', 'a', 'b', 'b', 'c', 'c', 'c', 'a', 'a', 'c', 'a', 'b', 'c', 'c', 'b', 'c', 'c'];

describe('checks: bias against Fairlearn user-guide values', () => {
  const spec = {
    sensitive: 'sf',
    demographic_parity_difference: { max: 0.1 },
    demographic_parity_ratio: { min: 0.8 },
    equal_opportunity_difference: { max: 0.1 },
    equal_opportunity_ratio: { min: 0.8 },
    equalized_odds_difference: { max: 0.1 },
  };

  it('demographic parity, equal opportunity and equalized odds (difference and ratio)', async () => {
    const r = await biasCheck(ctxOf({ label: Y_TRUE, sf: SF }, Y_PRED), spec, '3-bias');
    assert.strictEqual(r.status, 'fail');
    assert.strictEqual(r.kind, 'bias');
    assert.strictEqual(r.id, '3-bias');
    const m = r.measured as Measured;
    published(m.demographic_parity_difference as number, '0.25', 'demographic_parity_difference');
    published(m.demographic_parity_ratio as number, '0.66666...', 'demographic_parity_ratio');
    published(m.equalized_odds_difference as number, '1.0', 'equalized_odds_difference');
    published(m.equal_opportunity_difference as number, '0.20', 'equal_opportunity_difference (tpr difference)');
    published(m.equal_opportunity_ratio as number, '0.666667', 'equal_opportunity_ratio (tpr ratio)');
    published(m.sensitive_features.sf.false_positive_rate_difference, '1.00', 'fpr difference');
    assert.strictEqual(m.positive_label, '1');
    assert.deepStrictEqual(r.threshold, spec);
  });

  it('per-group selection rate, TPR, FPR and counts as evidence', async () => {
    const r = await biasCheck(ctxOf({ label: Y_TRUE, sf: SF }, Y_PRED), spec, '3-bias');
    const groups = (r.evidence as Evidence).groups.sf;
    assert.deepStrictEqual(groups.map(g => g.group), ['a', 'b', 'c']);
    const table: Record<string, [string, string, string, number]> = {
      a: ['0.5', '1.000000', '0.75', 4], b: ['0.6', '0.000000', '0.50', 6], c: ['0.4', '0.666667', '0.50', 8],
    };
    for (const g of groups) {
      const [tpr, fpr, sel, count] = table[g.group as string];
      published(g.true_positive_rate as number, tpr, `${g.group} tpr`);
      published(g.false_positive_rate as number, fpr, `${g.group} fpr`);
      published(g.selection_rate as number, sel, `${g.group} sel`);
      assert.strictEqual(g.count, count);
    }
    // the worst group of the first violated metric (demographic parity): a (0.75) vs b (0.5)
    const worst = (r.evidence as Evidence).worst as Array<{ metric: string; lowest_group: { group: string }; highest_group: { group: string } }>;
    assert.strictEqual(worst[0].metric, 'demographic_parity_difference');
    assert.strictEqual(worst[0].highest_group.group, 'a');
    assert.strictEqual(worst[0].lowest_group.group, 'b');
    assert.strictEqual(worst.length, 5);
    assert.match(r.message, /^demographic parity difference for "sf" is 0\.25 \(above the maximum 0\.1\): selection rate 0\.5 for group "b" \(6 rows\) vs 0\.75 for "a" \(4 rows\), positive label "1" .*and 4 more violations/);
  });

  it('gives the same values with a text label, numeric predictions written as 1.0, and a numeric sensitive column', async () => {
    const sfNum = SF.map(s => ({ a: 1, b: 2, c: 3 })[s] as number);
    const r = await biasCheck(ctxOf({ label: Y_TRUE.map(String), sf: sfNum }, Y_PRED.map(v => `${v}.0`), ['0', '1']), spec, '3-bias');
    const m = r.measured as Measured;
    published(m.demographic_parity_difference as number, '0.25');
    published(m.equal_opportunity_ratio as number, '0.666667');
    assert.deepStrictEqual((r.evidence as Evidence).groups.sf.map(g => g.group), ['1', '2', '3']);
  });

  it('equalized odds names the rate whose difference decides it (here FPR: 0 for b vs 1 for a)', async () => {
    const r = await biasCheck(ctxOf({ label: Y_TRUE, sf: SF }, Y_PRED), { sensitive: 'sf', equalized_odds_difference: { max: 0.5 } }, '3-bias');
    assert.strictEqual(r.status, 'fail');
    assert.match(r.message, /^equalized odds difference for "sf" is 1 \(above the maximum 0\.5\): false positive rate 0 for group "b" \(6 rows\) vs 1 for "a" \(4 rows\)/);
    assert.strictEqual(((r.evidence as Evidence).worst as Array<Record<string, unknown>>)[0].compared, 'false positive rate');
  });

  it('passes within loose bounds', async () => {
    const r = await biasCheck(ctxOf({ label: Y_TRUE, sf: SF }, Y_PRED), { sensitive: ['sf'], demographic_parity_difference: { max: 0.3 }, demographic_parity_ratio: { min: 0.6 } }, '3-bias');
    assert.strictEqual(r.status, 'pass', r.message);
    assert.match(r.message, /demographic parity difference 0\.25, demographic parity ratio 0\.6667/);
    assert.ok(r.durationMs >= 0);
  });
});

describe('checks: bias method to_overall, equalized_odds_ratio and sample_weight (Fairlearn 0.15)', () => {
  it('equalized_odds_ratio = min(TPR ratio 0.666667, FPR ratio 0.000000) of the user-guide MetricFrame = 0', async () => {
    const r = await biasCheck(ctxOf({ label: Y_TRUE, sf: SF }, Y_PRED), { sensitive: 'sf', equalized_odds_ratio: { min: 0.8 } }, '1-bias');
    assert.strictEqual(r.status, 'fail');
    assert.strictEqual((r.measured as Measured).equalized_odds_ratio, 0);
    // the FPR ratio decides: the message names the false positive rate, b (0) against a (1)
    assert.match(r.message, /equalized odds ratio .* false positive rate 0 for group "b" .* vs 1 for "a"/);
  });

  it('to_overall compares each group with all rows (hand-computed on the user-guide data)', async () => {
    // overall selection 10/18, TPR 6/12, FPR 2/6; groups a/b/c: selection 3/4, 1/2, 1/2; TPR 1/2, 3/5, 2/5; FPR 1, 0, 2/3.
    const spec = { sensitive: 'sf', method: 'to_overall', demographic_parity_difference: { max: 0.2 }, demographic_parity_ratio: { min: 0.7 }, equal_opportunity_difference: { max: 0.1 }, equalized_odds_difference: { max: 1 } };
    const r = await biasCheck(ctxOf({ label: Y_TRUE, sf: SF }, Y_PRED), spec, '1-bias');
    const m = r.measured as Measured;
    assert.ok(Math.abs((m.demographic_parity_difference as number) - 7 / 36) < 1e-12); // |3/4 − 10/18|
    assert.ok(Math.abs((m.demographic_parity_ratio as number) - 20 / 27) < 1e-12); // (10/18)/(3/4)
    assert.ok(Math.abs((m.equal_opportunity_difference as number) - 0.1) < 1e-12);
    assert.ok(Math.abs((m.equalized_odds_difference as number) - 2 / 3) < 1e-12); // |1 − 1/3|
    assert.strictEqual(m.method, 'to_overall');
    assert.strictEqual(r.status, 'pass', r.message);
    assert.match(r.title, /each group to the overall rate/);
  });

  it('sample_weight: weighted rates; equal weights change nothing; bad weights are errors naming the column', async () => {
    const base = { label: [1, 1, 0, 0, 1, 0], sf: ['a', 'a', 'a', 'b', 'b', 'b'] };
    const pred = [1, 0, 1, 1, 0, 0];
    const spec = { sensitive: 'sf', sample_weight: 'w', demographic_parity_difference: { max: 1 } };
    // a: selected rows weigh 3 and 1 of 3 + 1 + 1 → 4/5; b: 1 of 1 + 1 + 1 → 1/3; difference 7/15.
    const r = await biasCheck(ctxOf({ ...base, w: [3, 1, 1, 1, 1, 1] }, pred), spec, '1-bias');
    assert.ok(Math.abs(((r.measured as Measured).demographic_parity_difference as number) - 7 / 15) < 1e-12, r.message);
    assert.strictEqual((r.measured as Measured).sample_weight, 'w');
    const plain = await biasCheck(ctxOf(base, pred), { sensitive: 'sf', demographic_parity_difference: { max: 1 } }, '1-bias');
    const same = await biasCheck(ctxOf({ ...base, w: [2, 2, 2, 2, 2, 2] }, pred), spec, '1-bias');
    assert.strictEqual((same.measured as Measured).demographic_parity_difference, (plain.measured as Measured).demographic_parity_difference);
    for (const [w, why] of [[[1, 1, -1, 1, 1, 1], /non-negative/], [[1, 1, NaN, 1, 1, 1], /NaN/], [[1, 1, Infinity, 1, 1, 1], /Infinity/], [[0, 0, 0, 1, 1, 1], /sum to zero/]] as const) {
      const bad = await biasCheck(ctxOf({ ...base, w: w as unknown as number[] }, pred), spec, '1-bias');
      assert.strictEqual(bad.status, 'error', JSON.stringify(w));
      assert.match(bad.message, /sample_weight "w"/);
      assert.match(bad.message, why);
    }
    assert.match((await biasCheck(ctxOf(base, pred), spec, '1-bias')).message, /sample_weight column "w" is not in the evaluation data/);
    assert.match((await biasCheck(ctxOf({ ...base, w: ['x', 'y', 'z', 'x', 'y', 'z'] }, pred), spec, '1-bias')).message, /must be numeric/);
    assert.match((await biasCheck(ctxOf(base, pred), { ...spec, sample_weight: undefined, method: 'overall' }, '1-bias')).message, /between_groups .* to_overall/);
  });
});

describe('checks: bias on multiclass labels (hand-checked)', () => {
  //            0      1      2      3      4       5       6      7      8       9
  const yTrue = ['cat', 'cat', 'dog', 'dog', 'bird', 'bird', 'dog', 'cat', 'bird', 'dog'];
  const yPred = ['cat', 'dog', 'dog', 'cat', 'bird', 'dog', 'dog', 'cat', 'cat', 'dog'];
  const sex = ['m', 'm', 'm', 'm', 'm', 'f', 'f', 'f', 'f', 'f'];
  const all = {
    demographic_parity_difference: { max: 1 }, demographic_parity_ratio: { min: 0 }, equal_opportunity_difference: { max: 1 },
    equal_opportunity_ratio: { min: 0 }, equalized_odds_difference: { max: 1 },
  };

  it('positive_label dog: selection = predicted dog', async () => {
    // m (rows 0–4): predicted dog at 1, 2 → selection 2/5 = 0.4; true dogs 2, 3, caught 2 → TPR 1/2; non-dogs 0, 1, 4,
    //   predicted dog 1 → FPR 1/3.
    // f (rows 5–9): predicted dog at 5, 6, 9 → 3/5 = 0.6; true dogs 6, 9, both caught → TPR 1; non-dogs 5, 7, 8,
    //   predicted dog 5 → FPR 1/3.
    // DP difference 0.2, ratio 0.4/0.6 = 2/3; EO difference 0.5, ratio 0.5; equalized odds max(0.5, 0) = 0.5.
    const r = await biasCheck(ctxOf({ label: yTrue, sex }, yPred), { sensitive: 'sex', positive_label: 'dog', ...all }, '4-bias');
    const m = r.measured as Measured;
    assert.strictEqual(r.status, 'pass', r.message);
    assert.ok(Math.abs((m.demographic_parity_difference as number) - 0.2) < 1e-12);
    assert.ok(Math.abs((m.demographic_parity_ratio as number) - 2 / 3) < 1e-12);
    assert.strictEqual(m.equal_opportunity_difference, 0.5);
    assert.strictEqual(m.equal_opportunity_ratio, 0.5);
    assert.strictEqual(m.equalized_odds_difference, 0.5);
    const f = (r.evidence as Evidence).groups.sex.find(g => g.group === 'f') as Record<string, number>;
    assert.deepStrictEqual([f.count, f.selected, f.positives, f.negatives], [5, 3, 2, 3]);
    assert.ok(Math.abs(f.false_positive_rate - 1 / 3) < 1e-12);
    assert.match(r.message, /positive label "dog"\./);
  });

  it('without positive_label: the first class in sorted order (bird), said in the message', async () => {
    // m: predicted bird at 4 → 0.2; true birds {4} caught → TPR 1; FPR 0.  f: none predicted bird → 0; true birds
    // 5, 8 missed → TPR 0; FPR 0.  DP 0.2, ratio 0; EO 1, ratio 0; equalized odds 1.
    const r = await biasCheck(ctxOf({ label: yTrue, sex }, yPred), { sensitive: 'sex', equal_opportunity_difference: { max: 0.5 }, demographic_parity_ratio: { min: 0.5 } }, '4-bias');
    const m = r.measured as Measured;
    assert.strictEqual(m.positive_label, 'bird');
    assert.strictEqual(m.equal_opportunity_difference, 1);
    assert.strictEqual(m.demographic_parity_ratio, 0);
    assert.strictEqual(m.equalized_odds_difference, 1);
    assert.ok(Math.abs((m.demographic_parity_difference as number) - 0.2) < 1e-12);
    assert.strictEqual(r.status, 'fail');
    assert.match(r.message, /positive label "bird" \(the first of 3 classes in sorted order, as no positive_label is set\)/);
  });

  it('several sensitive attributes: each on its own, the top-level value is the worst', async () => {
    const age = ['y', 'o', 'y', 'o', 'y', 'o', 'y', 'o', 'y', 'o'];
    const r = await biasCheck(ctxOf({ label: yTrue, sex, age }, yPred), { sensitive: ['sex', 'age'], positive_label: 'dog', ...all }, '4-bias');
    const m = r.measured as Measured;
    // age y = rows 0, 2, 4, 6, 8: predicted dog at 2, 6 → 0.4; o = rows 1, 3, 5, 7, 9: dog at 1, 5, 9 → 0.6
    assert.ok(Math.abs((m.sensitive_features.age.demographic_parity_difference as number) - 0.2) < 1e-12);
    // true dogs: y {2, 6} both caught → 1; o {3, 9}: 9 caught → 0.5 → EO difference 0.5
    assert.strictEqual(m.sensitive_features.age.equal_opportunity_difference, 0.5);
    // non-dogs: y {0, 4, 8} none predicted dog → 0; o {1, 5, 7}: 1, 5 → 2/3 → equalized odds 2/3 (> sex's 0.5)
    assert.ok(Math.abs((m.equalized_odds_difference as number) - 2 / 3) < 1e-12);
    assert.deepStrictEqual(Object.keys(m.sensitive_features), ['sex', 'age']);
  });
});

describe('checks: bias edge cases and errors', () => {
  it('a group without positives has TPR 0 (as Fairlearn / scikit-learn normalisation) and is listed', async () => {
    const r = await biasCheck(ctxOf({ label: [1, 1, 0, 0], g: ['a', 'a', 'b', 'b'] }, [1, 0, 0, 1]), { sensitive: 'g', equal_opportunity_difference: { max: 0.6 } }, '5-bias');
    assert.strictEqual((r.measured as Measured).equal_opportunity_difference, 0.5);
    assert.deepStrictEqual((r.evidence as Evidence).groups_without_positives, { g: ['b'] });
    assert.strictEqual(r.status, 'pass');
  });

  it('a ratio with no selection in any group is undefined → warn', async () => {
    const r = await biasCheck(ctxOf({ label: [1, 0, 1, 0], g: ['a', 'a', 'b', 'b'] }, [0, 0, 0, 0], ['0', '1']), { sensitive: 'g', demographic_parity_ratio: { min: 0.8 } }, '5-bias');
    assert.strictEqual((r.measured as Measured).demographic_parity_ratio, null);
    assert.strictEqual(r.status, 'warn');
  });

  it('missing sensitive values form a group; rows without a label are left out and counted', async () => {
    const r = await biasCheck(ctxOf({ label: [1, 0, 1, null, 0], g: ['a', null, 'a', 'b', null] }, [1, 1, 0, 1, 1]), { sensitive: 'g', demographic_parity_difference: { max: 1 } }, '5-bias');
    assert.deepStrictEqual((r.evidence as Evidence).groups.g.map(g => g.group), ['(missing)', 'a']);
    assert.strictEqual((r.measured as Measured).rows_without_label, 1);
  });

  it('errors name the missing column and the available ones, never throw', async () => {
    const cols = { label: Y_TRUE, sf: SF };
    const missing = await biasCheck(ctxOf(cols, Y_PRED), { sensitive: ['sf', 'race'], demographic_parity_difference: { max: 0.1 } }, '6-bias');
    assert.strictEqual(missing.status, 'error');
    assert.match(missing.message, /sensitive column "race" is not in the evaluation data \(eval\.csv\); its columns are "label", "sf"/);
    assert.deepStrictEqual(missing.measured, {});
    const noOutputs = await biasCheck({ ...ctxOf(cols, Y_PRED), outputs: undefined }, { sensitive: 'sf', demographic_parity_difference: { max: 0.1 } }, '6-bias');
    assert.match(noOutputs.message, /no model outputs/);
    const badLabel = await biasCheck(ctxOf(cols, Y_PRED), { sensitive: 'sf', positive_label: 'yes', demographic_parity_difference: { max: 0.1 } }, '6-bias');
    assert.match(badLabel.message, /positive_label "yes" is not a class .* the classes are "0", "1"/);
    const noThreshold = await biasCheck(ctxOf(cols, Y_PRED), { sensitive: 'sf' }, '6-bias');
    assert.match(noThreshold.message, /set at least one of demographic_parity_difference/);
    const badBound = await biasCheck(ctxOf(cols, Y_PRED), { sensitive: 'sf', demographic_parity_ratio: { max: 0.8 } }, '6-bias');
    assert.match(badBound.message, /demographic_parity_ratio needs min/);
    const short = await biasCheck(ctxOf(cols, Y_PRED.slice(1)), { sensitive: 'sf', demographic_parity_difference: { max: 0.1 } }, '6-bias');
    assert.match(short.message, /17 predictions for 18 evaluation rows/);
    const noLabel = await biasCheck({ ...ctxOf(cols, Y_PRED), label: 'target' }, { sensitive: 'sf', demographic_parity_difference: { max: 0.1 } }, '6-bias');
    assert.match(noLabel.message, /label column "target" is not in the evaluation data/);
    const unknown = await biasCheck(ctxOf(cols, Y_PRED), { sensitive: 'sf', demographic_parity: { max: 0.1 } }, '6-bias');
    assert.match(unknown.message, /unknown option "demographic_parity"/);
    for (const r of [missing, noOutputs, badLabel, noThreshold, badBound, short, noLabel, unknown]) assert.strictEqual(r.status, 'error');
  });

  it('label helpers: canonical numbers, numeric-aware sorting', () => {
    assert.strictEqual(canonicalLabel('1.0'), '1');
    assert.strictEqual(canonicalLabel(' 2 '), '2');
    assert.strictEqual(canonicalLabel('007'), '7');
    assert.strictEqual(canonicalLabel('yes'), 'yes');
    assert.strictEqual(canonicalLabel(NaN), null);
    // `inf` read as a number is a class of its own, not a missing label
    assert.strictEqual(canonicalLabel(Infinity), 'Infinity');
    assert.strictEqual(canonicalLabel(-Infinity), '-Infinity');
    assert.deepStrictEqual(sortLabels(['10', '2', '-1']), ['-1', '2', '10']);
    assert.deepStrictEqual(sortLabels(['b', 'B', 'a']), ['B', 'a', 'b']);
  });

  it('fairnessMetrics handles 1,000,000 rows quickly (timing printed, not asserted)', () => {
    const n = 1_000_000;
    const yTrue: string[] = new Array(n), yPred: string[] = new Array(n), groups: string[] = new Array(n);
    let seed = 1;
    const rnd = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 4294967296);
    const G = ['a', 'b', 'c', 'd'];
    for (let i = 0; i < n; i++) { yTrue[i] = rnd() < 0.4 ? '1' : '0'; yPred[i] = rnd() < 0.5 ? '1' : '0'; groups[i] = G[i & 3]; }
    const t0 = performance.now();
    const fm = fairnessMetrics(yTrue, yPred, groups, '1');
    const ms = performance.now() - t0;
    console.log(`      fairnessMetrics: ${n} rows × 4 groups in ${ms.toFixed(0)} ms (${(n / ms / 1000).toFixed(1)} M rows/s)`);
    assert.strictEqual(fm.groups.length, 4);
  });
});
