/**
 * Gate model checks (src/core/checks: model, metric, regression, output, perturbation, cost) on real ONNX models
 * run by onnxruntime-node. Every model is built here with onnx-proto (as examples/penguins/train.js builds its
 * own), written to a temporary directory, and loaded through the code under test.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { onnx } from 'onnx-proto';
import { loadModel, ModelError, readOnnxMetadata, releaseModels, resolveClasses, RUN_BATCH } from '../../src/core/checks/model';
import { metricCheck } from '../../src/core/checks/metric';
import { regressionCheck } from '../../src/core/checks/regression';
import { evaluateOutput, outputCheck } from '../../src/core/checks/output';
import { perturbationCheck } from '../../src/core/checks/perturbation';
import { latencyCheck, sizeCheck } from '../../src/core/checks/cost';
import type { CheckResult, Dataset, GateContext, ModelOutputs } from '../../src/core/checks/types';
import { datasetOf } from './checkData';

const root = path.resolve(__dirname, '../../..');
const FLOAT = onnx.TensorProto.DataType.FLOAT;
const FEATURES = ['bill_length_mm', 'bill_depth_mm', 'flipper_length_mm', 'body_mass_g'];
const CLASSES = ['Adelie', 'Chinstrap', 'Gentoo'];

// ---------------------------------------------------------------------------------------------------------------
// Building models

function floatBytes(values: number[]): Buffer {
  const buf = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => buf.writeFloatLE(v, i * 4));
  return buf;
}
const tensor = (name: string, dims: number[], values: number[]) => onnx.TensorProto.create({ name, dims, dataType: FLOAT, rawData: floatBytes(values) });
const valueInfo = (name: string, dims: Array<number | string>, elemType = FLOAT) => onnx.ValueInfoProto.create({
  name,
  type: { tensorType: { elemType, shape: { dim: dims.map(x => (typeof x === 'string' ? { dimParam: x } : { dimValue: x })) } } },
});
const node = (opType: string, input: string[], output: string[], attribute: onnx.IAttributeProto[] = []) =>
  onnx.NodeProto.create({ opType, input, output, name: output[0], attribute });
const axis1 = onnx.AttributeProto.create({ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: 1 });

interface ModelOptions {
  /** d × K weights. */
  W: number[][];
  b?: number[];
  /** Apply Softmax (default true); false leaves raw logits. */
  softmax?: boolean;
  /** Apply Sigmoid instead (a binary model with one probability per row). */
  sigmoid?: boolean;
  /** Add NaN to the rows whose first feature is negative (Log of a negative number). */
  nanWhenFirstNegative?: boolean;
  metadata?: Record<string, string>;
  inputDims?: Array<number | string>;
  /** A second input (models EDD cannot feed). */
  secondInput?: boolean;
  inputType?: number;
}

/** probabilities = Softmax(features · W + b) (or the logits), written to `file`. */
function buildModel(file: string, o: ModelOptions): string {
  const d = o.W.length;
  const k = o.W[0].length;
  const cast = o.inputType !== undefined && o.inputType !== FLOAT;
  const nodes = [node('MatMul', [cast ? 'featuresF' : 'features', 'W'], ['scores']), node('Add', ['scores', 'b'], ['logits'])];
  if (cast) nodes.unshift(node('Cast', ['features'], ['featuresF'], [onnx.AttributeProto.create({ name: 'to', type: onnx.AttributeProto.AttributeType.INT, i: FLOAT })]));
  const init = [tensor('W', [d, k], o.W.flat()), tensor('b', [k], o.b ?? new Array(k).fill(0))];
  let last = 'logits';
  if (o.sigmoid) {
    nodes.push(node('Sigmoid', ['logits'], ['probs']));
    last = 'probs';
  } else if (o.softmax !== false) {
    nodes.push(node('Softmax', ['logits'], ['probs'], [axis1]));
    last = 'probs';
  }
  if (o.nanWhenFirstNegative) {
    // first = features · e₀ ([N, 1]); Log(first) is NaN where first < 0; × 0 keeps NaN there and 0 elsewhere.
    init.push(tensor('pick0', [d, 1], Array.from({ length: d }, (_, j) => (j === 0 ? 1 : 0))), tensor('zero', [1], [0]));
    nodes.push(node('MatMul', ['features', 'pick0'], ['first']), node('Log', ['first'], ['logFirst']),
      node('Mul', ['logFirst', 'zero'], ['nanOrZero']), node('Add', [last, 'nanOrZero'], ['withNan']));
    last = 'withNan';
  }
  nodes.push(node('Identity', [last], ['probabilities']));
  const inputs = [valueInfo('features', o.inputDims ?? ['N', d], o.inputType ?? FLOAT)];
  if (o.secondInput) inputs.push(valueInfo('extra', ['N', 1]));
  const graph = onnx.GraphProto.create({
    name: 'test_model', node: nodes, initializer: init, input: inputs, output: [valueInfo('probabilities', ['N', k])],
  });
  const model = onnx.ModelProto.create({
    irVersion: 7, opsetImport: [{ domain: '', version: 13 }], producerName: 'edd-tests', graph,
    metadataProps: Object.entries(o.metadata ?? {}).map(([key, value]) => ({ key, value })),
  });
  const err = onnx.ModelProto.verify(model);
  if (err) throw new Error(err);
  fs.writeFileSync(file, onnx.ModelProto.encode(model).finish());
  return file;
}

/** Weights that pick class c when feature c is large: feature c → class c with weight `w`; feature 3 unused. */
function goodWeights(w = 4): number[][] {
  return [[w, 0, 0], [0, w, 0], [0, 0, w], [0, 0, 0]];
}

// ---------------------------------------------------------------------------------------------------------------
// Data

function mulberry(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const dataset = (cols: Record<string, Array<number | string | null>>) => datasetOf(cols, 'test.csv');

/** `n` rows in 3 classes: feature c is 2 + noise for class c and noise otherwise; 3% of rows mislabelled. */
function penguinsLike(n: number, seed = 1): Dataset {
  const r = mulberry(seed);
  const cols: Record<string, Array<number | string>> = { row_id: [], species: [], island: [] };
  for (const f of FEATURES) cols[f] = [];
  for (let i = 0; i < n; i++) {
    const c = i % 3;
    cols.row_id.push(i);
    FEATURES.forEach((f, j) => cols[f].push((j === c ? 2 : 0) + (r() - 0.5)));
    cols.species.push(CLASSES[r() < 0.03 ? (c + 1) % 3 : c]);
    cols.island.push(['Biscoe', 'Dream', 'Torgersen'][i % 3]);
  }
  return dataset(cols);
}

let dir: string;
const file = (name: string) => path.join(dir, name);

async function contextFor(modelFile: string, ds: Dataset, features = FEATURES, classes?: string[]): Promise<GateContext> {
  const model = await loadModel(modelFile);
  return {
    root, eval: ds, label: 'species', features, modelFile,
    outputs: await model.outputsFor(ds, features, classes), predict: model.predictFn(),
  };
}

function outputsOf(yPred: Array<string | number>, classes: string[], scores?: number[][]): ModelOutputs {
  return {
    classes,
    yPred: yPred.map(String),
    scores: Float32Array.from(scores ? scores.flat() : yPred.flatMap(p => classes.map(c => (c === String(p) ? 1 : 0)))),
  };
}

function labelsContext(yTrue: Array<string | number>, outputs?: ModelOutputs): GateContext {
  return { root, eval: dataset({ y: yTrue }), label: 'y', features: [], outputs };
}

const close = (a: unknown, b: number, tol = 1e-9) => assert.ok(typeof a === 'number' && Math.abs(a - b) <= tol, `${String(a)} ≠ ${b}`);

function assertResultShape(r: CheckResult, id: string, kind: string): void {
  assert.strictEqual(r.id, id);
  assert.strictEqual(r.kind, kind);
  assert.ok(['pass', 'fail', 'warn', 'error'].includes(r.status));
  assert.strictEqual(typeof r.title, 'string');
  assert.strictEqual(typeof r.message, 'string');
  assert.ok(r.message.length > 10, r.message);
  assert.ok(r.durationMs >= 0);
  for (const k of Object.keys(r.measured)) assert.match(k, /^[a-z0-9_]+$/, `measured key ${k} is not snake_case`);
}

// ---------------------------------------------------------------------------------------------------------------

describe('gate checks (model, metric, regression, output, perturbation, cost)', function () {
this.timeout(20000);
before(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edd-checks-')); });
after(async () => {
  await releaseModels();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('checks: model loading and running (onnxruntime-node, CPU)', function () {

  it('reads inputs, outputs and metadata; runs in batches and matches the JS computation', async () => {
    const f = buildModel(file('good.onnx'), { W: goodWeights(), metadata: { classes: JSON.stringify(CLASSES), feature_names: JSON.stringify(FEATURES) } });
    const m = await loadModel(f);
    assert.deepStrictEqual(m.inputs, [{ name: 'features', type: 'float32', shape: ['N', 4] }]);
    assert.deepStrictEqual(m.output, { name: 'probabilities', type: 'float32', shape: ['N', 3] });
    assert.deepStrictEqual(m.classes, CLASSES);
    assert.deepStrictEqual(m.featureNames, FEATURES);
    assert.strictEqual(m.sizeBytes, fs.statSync(f).size);
    m.check(FEATURES);
    const x = Float32Array.from([1, 0, 0, 0, 0, 0.5, 0, 0]);
    const out = await m.run(x, 2);
    const softmax = (z: number[]) => { const e = z.map(Math.exp); const s = e.reduce((a, b) => a + b); return e.map(v => v / s); };
    [softmax([4, 0, 0]), softmax([0, 2, 0])].flat().forEach((v, i) => close(out[i], v, 1e-6));
    // the same session is shared while the file is unchanged
    assert.strictEqual(await loadModel(f), m);
  });

  it('runs 100,000 rows (in batches of 4096) with the right row order', async () => {
    const m = await loadModel(buildModel(file('big.onnx'), { W: goodWeights() }));
    const rows = 100_000;
    assert.ok(rows > RUN_BATCH * 20);
    const x = new Float32Array(rows * 4);
    for (let i = 0; i < rows; i++) x[i * 4 + (i % 3)] = 3;
    const t0 = Date.now();
    const raw = await m.runRaw(x, rows);
    assert.ok(Date.now() - t0 < 5000);
    assert.deepStrictEqual(raw.dims, [rows, 3]);
    for (const i of [0, 1, 2, 4095, 4096, 4097, 50_000, rows - 1]) {
      const row = Array.from(raw.data.subarray(i * 3, i * 3 + 3));
      assert.strictEqual(row.indexOf(Math.max(...row)), i % 3, `row ${i}`);
    }
  });

  it('feeds a model with a fixed batch dimension row by row (padding the last batch)', async () => {
    const m = await loadModel(buildModel(file('fixed.onnx'), { W: goodWeights(), inputDims: [2, 4] }));
    const x = Float32Array.from([5, 0, 0, 0, 0, 5, 0, 0, 0, 0, 5, 0]);
    const raw = await m.runRaw(x, 3);
    assert.deepStrictEqual(raw.dims, [3, 3]);
    assert.deepStrictEqual([0, 1, 2].map(i => { const r = Array.from(raw.data.subarray(i * 3, i * 3 + 3)); return r.indexOf(Math.max(...r)); }), [0, 1, 2]);
  });

  it('reports the wrong input width BEFORE running, naming both numbers and the features', async () => {
    const W = Array.from({ length: 20 }, () => [1, 0, 0]);
    const m = await loadModel(buildModel(file('model.onnx'), { W }));
    assert.throws(() => m.check(FEATURES), (e: unknown) => {
      assert.ok(e instanceof ModelError);
      assert.strictEqual(e.code, 'input');
      assert.match(e.message, /^model\.onnx expects 20 input features but the policy gives 4 \("bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"\)\. Set `data\.features` to the model's inputs, in order\./);
      assert.match(e.message, /data\.features/);
      return true;
    });
    // outputsFor and the output check refuse it the same way (the check reports `error`, it does not throw)
    const ds = penguinsLike(9);
    await assert.rejects(m.outputsFor(ds, FEATURES), /expects 20 input features but the policy gives 4/);
    const r = await outputCheck({ root, eval: ds, label: 'species', features: FEATURES, modelFile: m.file }, { finite: true }, '1-output');
    assert.strictEqual(r.status, 'error');
    assert.match(r.message, /expects 20 input features but the policy gives 4/);
    // a list of more than five features is shortened
    const many = Array.from({ length: 7 }, (_, i) => `f${i}`);
    assert.throws(() => m.check(many), /gives 7 \("f0", "f1", "f2", "f3", "f4", "f5", "f6"\)/);
    // run() with the wrong width is refused too, before onnxruntime sees it
    await assert.rejects(m.run(new Float32Array(8), 2), /expects 20 input features but was given 4 per row/);
  });

  it('refuses models EDD cannot feed: two inputs, an int64 input', async () => {
    const two = await loadModel(buildModel(file('two.onnx'), { W: goodWeights(), secondInput: true }));
    assert.throws(() => two.check(FEATURES), /has 2 inputs \("features", "extra"\); EDD feeds one float32 matrix/);
    const int = await loadModel(buildModel(file('int.onnx'), { W: goodWeights(), inputType: onnx.TensorProto.DataType.INT64 }));
    assert.throws(() => int.check(FEATURES), /input `features` is int64, but EDD feeds float32 features/);
  });

  it('turns a corrupt, truncated, empty or missing file into a ModelError the user understands', async () => {
    fs.writeFileSync(file('corrupt.onnx'), 'this is not a model, just text\n');
    await assert.rejects(loadModel(file('corrupt.onnx')), (e: unknown) => {
      assert.ok(e instanceof ModelError, String(e));
      assert.strictEqual(e.code, 'invalid');
      assert.match(e.message, /corrupt\.onnx: this is not a valid ONNX model/);
      return true;
    });
    const good = fs.readFileSync(buildModel(file('whole.onnx'), { W: goodWeights() }));
    fs.writeFileSync(file('truncated.onnx'), good.subarray(0, Math.floor(good.length / 2)));
    await assert.rejects(loadModel(file('truncated.onnx')), (e: unknown) => e instanceof ModelError && /truncated\.onnx: /.test(e.message));
    fs.writeFileSync(file('empty.onnx'), '');
    await assert.rejects(loadModel(file('empty.onnx')), /the model file is empty/);
    await assert.rejects(loadModel(file('missing.onnx')), (e: unknown) => e instanceof ModelError && e.code === 'not_found' && /does not exist/.test(e.message));
  });

  it('a binary model with one probability per row: P(negative) = 1 − p, P(positive) = p', async () => {
    const m = await loadModel(buildModel(file('sigmoid.onnx'), { W: [[2], [0], [0], [0]], b: [-1], sigmoid: true, metadata: { classes: '["no", "yes"]' } }));
    const ds = dataset({ ...Object.fromEntries(FEATURES.map((f, j) => [f, j === 0 ? [0, 1, 2] : [0, 0, 0]])), species: ['no', 'yes', 'yes'] });
    const out = await m.outputsFor(ds, FEATURES);
    assert.deepStrictEqual(out.classes, ['no', 'yes']);
    assert.deepStrictEqual(out.yPred, ['no', 'yes', 'yes']);
    const p = [-1, 1, 3].map(z => 1 / (1 + Math.exp(-z)));
    p.forEach((v, i) => { close(out.scores[2 * i], 1 - v, 1e-6); close(out.scores[2 * i + 1], v, 1e-6); });
    // monotonic on the positive class by default (the single output), and on `no` with the sign flipped
    const ctx: GateContext = { root, eval: ds, label: 'species', features: FEATURES, outputs: out, predict: m.predictFn() };
    assert.strictEqual((await perturbationCheck(ctx, { monotonic: { bill_length_mm: 'increasing' } }, 'x')).status, 'pass');
    assert.strictEqual((await perturbationCheck(ctx, { monotonic: { bill_length_mm: 'increasing' }, class: 'no' }, 'x')).status, 'fail');
  });

  it('feature columns that are missing or hold text are reported before running', async () => {
    const m = await loadModel(buildModel(file('cols.onnx'), { W: goodWeights() }));
    const ds = penguinsLike(6);
    await assert.rejects(m.outputsFor(ds, ['bill_length_mm', 'bill_depth_mm', 'flipper_length_mm', 'mass']), /test\.csv: feature column "mass" is missing; the columns are "row_id", "species", "island", "bill_length_mm", .*\. Fix the name in `data\.features`\./);
    await assert.rejects(m.outputsFor(ds, ['bill_length_mm', 'bill_depth_mm', 'flipper_length_mm', 'island']), /test\.csv: feature column "island" is not numeric \(row 1: "Biscoe"\); encode it as numbers or remove it from `data\.features`\./);
  });

  it('reads metadata_props without onnxruntime (the penguins fixture writes class_names and feature_names)', () => {
    const meta = readOnnxMetadata(fs.readFileSync(path.join(root, 'test/fixtures/workspace/models/penguins.onnx')));
    assert.deepStrictEqual(JSON.parse(meta.class_names), CLASSES);
    assert.strictEqual(JSON.parse(meta.feature_names).length, 4);
    assert.deepStrictEqual(readOnnxMetadata(Buffer.from('garbage')), {});
  });

  it('resolves class names: model metadata, then the policy, then 0..k−1 for integer labels, else class_i', async () => {
    const ds = penguinsLike(12);
    const fromMeta = await loadModel(buildModel(file('meta.onnx'), { W: goodWeights(), metadata: { class_names: JSON.stringify(CLASSES) } }));
    const out = await fromMeta.outputsFor(ds, FEATURES);
    assert.deepStrictEqual(out.classes, CLASSES);
    assert.deepStrictEqual(out.yPred.slice(0, 3), CLASSES);
    assert.strictEqual(out.scores.length, 12 * 3);
    // a comma-separated `classes` works too; policy classes that agree are accepted
    const csv = await loadModel(buildModel(file('csv.onnx'), { W: goodWeights(), metadata: { classes: 'Adelie, Chinstrap, Gentoo' } }));
    assert.deepStrictEqual((await csv.outputsFor(ds, FEATURES, CLASSES)).classes, CLASSES);
    // metadata and policy disagree: a clear error instead of silently relabelling
    await assert.rejects(csv.outputsFor(ds, FEATURES, ['Gentoo', 'Adelie', 'Chinstrap']), /names its classes \("Adelie", "Chinstrap", "Gentoo"\) in its metadata, but the policy's `data.classes` says \("Gentoo", "Adelie", "Chinstrap"\)/);
    const plain = await loadModel(buildModel(file('plain.onnx'), { W: goodWeights() }));
    assert.deepStrictEqual((await plain.outputsFor(ds, FEATURES, ['a', 'b', 'c'])).classes, ['a', 'b', 'c']);
    await assert.rejects(plain.outputsFor(ds, FEATURES, ['a', 'b']), /lists 2 classes \("a", "b"\) but plain\.onnx outputs 3 scores per row/);
    assert.deepStrictEqual((await plain.outputsFor(ds, FEATURES)).classes, ['class_0', 'class_1', 'class_2']);
    // integer labels 0..k−1 name the classes 0, 1, 2 so predictions and labels compare
    const numeric = dataset({ ...Object.fromEntries(FEATURES.map(f => [f, [0, 0, 0]])), species: [0, 2, 1] });
    assert.deepStrictEqual((await plain.outputsFor(numeric, FEATURES, undefined, 'species')).classes, ['0', '1', '2']);
    assert.deepStrictEqual(resolveClasses('m.onnx', 2, null, undefined, { kind: 'number', values: Float64Array.from([0, 5]) }).classes, ['class_0', 'class_1']);
    assert.throws(() => resolveClasses('m.onnx', 2, CLASSES, undefined), /names 3 classes in its metadata \("Adelie", "Chinstrap", "Gentoo"\) but outputs 2 scores per row/);
  });
});

// ---------------------------------------------------------------------------------------------------------------

describe('checks: metric (scikit-learn definitions)', () => {
  // scikit-learn docstrings of precision_score / recall_score / f1_score: y_true = [0, 1, 2, 0, 1, 2],
  // y_pred = [0, 2, 1, 0, 0, 1] → precision macro 0.22…, micro 0.33…, weighted 0.22…; recall macro 0.33…;
  // f1 macro 0.26…, micro 0.33…, weighted 0.26… (same values as test/unit/stats.classification.test.ts)
  const ctx = labelsContext([0, 1, 2, 0, 1, 2], outputsOf([0, 2, 1, 0, 0, 1], ['0', '1', '2']));

  it('precision / recall / f1 with each average, and accuracy', async () => {
    const cases: Array<[string, string, number]> = [
      ['precision', 'macro', 2 / 9], ['precision', 'micro', 1 / 3], ['precision', 'weighted', 2 / 9],
      ['recall', 'macro', 1 / 3], ['recall', 'micro', 1 / 3], ['recall', 'weighted', 1 / 3],
      ['f1', 'macro', 0.8 / 3], ['f1', 'micro', 1 / 3], ['f1', 'weighted', 0.8 / 3],
    ];
    for (const [name, average, expected] of cases) {
      const r = await metricCheck(ctx, { name: name as 'f1', average: average as 'macro', min: 0 }, '1-metric');
      assertResultShape(r, '1-metric', 'metric');
      assert.strictEqual(r.status, 'pass', r.message);
      close(r.measured[name], expected, 1e-12);
      assert.strictEqual(r.title, `${name} (${average}) ≥ 0`);
    }
    const acc = await metricCheck(ctx, { name: 'accuracy', min: 0.5 }, '2-metric');
    assert.strictEqual(acc.status, 'fail');
    close(acc.measured.accuracy, 1 / 3);
    assert.deepStrictEqual(acc.threshold, { min: 0.5 });
    assert.match(acc.message, /accuracy = 0\.3333 on 6 rows, below the minimum 0\.5/);
    // default average is macro (as the policy schema documents)
    const f = await metricCheck(ctx, { name: 'f1', max: 0.25 }, '3-metric');
    assert.strictEqual(f.status, 'fail');
    assert.strictEqual(f.title, 'f1 (macro) ≤ 0.25');
    assert.deepStrictEqual((f.evidence as { per_class: Array<{ f1: number }> }).per_class.map(c => c.f1), [0.8, 0, 0]);
  });

  it('binary averaging with pos_label (user guide: y_true [0,1,0,1], y_pred [0,1,0,0] → precision 1, recall 0.5, f1 2/3)', async () => {
    const c = labelsContext([0, 1, 0, 1], outputsOf([0, 1, 0, 0], ['0', '1']));
    const p = await metricCheck(c, { name: 'precision', average: 'binary', pos_label: 1, min: 0.9 }, '1-metric');
    close(p.measured.precision, 1);
    const r = await metricCheck(c, { name: 'recall', average: 'binary', min: 0.9 }, '1-metric'); // default pos_label: second class
    close(r.measured.recall, 0.5);
    assert.strictEqual(r.status, 'fail');
    const f = await metricCheck(c, { name: 'f1', average: 'binary', pos_label: '1', min: 0.6 }, '1-metric');
    close(f.measured.f1, 2 / 3, 1e-12);
    assert.strictEqual(f.status, 'pass');
    // binary on multiclass data is an error, as in scikit-learn
    const bad = await metricCheck(ctx, { name: 'f1', average: 'binary', pos_label: 1, min: 0 }, '1-metric');
    assert.strictEqual(bad.status, 'error');
    assert.match(bad.message, /multiclass/);
  });

  it('roc_auc: binary (roc_auc_score docstring → 0.75) and one-vs-rest (test_ranking toy data → macro 0.9583)', async () => {
    const s = [0.1, 0.4, 0.35, 0.8];
    const bin = labelsContext([0, 0, 1, 1], outputsOf([0, 0, 0, 1], ['0', '1'], s.map(v => [1 - v, v])));
    const r = await metricCheck(bin, { name: 'roc_auc', min: 0.7 }, '1-metric');
    assert.strictEqual(r.status, 'pass');
    close(r.measured.roc_auc, 0.75);
    // test_multiclass_ovr_roc_auc_toydata: per-class AUC [1, 1, 0.875]
    const scores = [[1.0, 0.0, 0.0], [0.1, 0.5, 0.4], [0.1, 0.1, 0.8], [0.3, 0.3, 0.4]];
    const multi = labelsContext(['a', 'b', 'c', 'c'], outputsOf(['a', 'b', 'c', 'c'], ['a', 'b', 'c'], scores));
    const m = await metricCheck(multi, { name: 'roc_auc', min: 0.99 }, '1-metric');
    close(m.measured.roc_auc, (1 + 1 + 0.875) / 3);
    assert.strictEqual(m.status, 'fail');
    // weighted by prevalence (hand-computed: (1·1 + 1·1 + 2·0.875)/4)
    const w = await metricCheck(multi, { name: 'roc_auc', average: 'weighted', min: 0.9 }, '1-metric');
    close(w.measured.roc_auc, 0.9375);
    const micro = await metricCheck(multi, { name: 'roc_auc', average: 'micro', min: 0.9 }, '1-metric');
    assert.strictEqual(micro.status, 'error');
  });

  it('wrong inputs are `error` results, never exceptions', async () => {
    const noOutputs = await metricCheck(labelsContext([0, 1]), { name: 'accuracy', min: 0.5 }, '1-metric');
    assert.strictEqual(noOutputs.status, 'error');
    assert.match(noOutputs.message, /needs the candidate's predictions/);
    assert.match((await metricCheck(ctx, { name: 'auc' as 'f1', min: 0.5 }, 'x')).message, /must be one of accuracy, precision, recall, f1, roc_auc, f_beta, matthews_corrcoef, cohen_kappa, average_precision, got "auc"/);
    assert.match((await metricCheck(ctx, { name: 'f1' }, 'x')).message, /needs `min` or `max`/);
    assert.match((await metricCheck(ctx, { name: 'f1', min: 'high' as unknown as number }, 'x')).message, /`metric.min` must be a number, got "high"/);
    assert.strictEqual((await metricCheck(ctx, null as never, 'x')).status, 'error');
    const short = await metricCheck({ ...ctx, outputs: outputsOf([0, 1], ['0', '1']) }, { name: 'f1', min: 0 }, 'x');
    assert.match(short.message, /has 2 predictions but the evaluation data has 6 rows/);
    const noLabel = await metricCheck({ ...ctx, label: 'species' }, { name: 'f1', min: 0 }, 'x');
    assert.match(noLabel.message, /no label column `species`/);
  });

  it('f_beta, matthews_corrcoef, cohen_kappa (scikit-learn docstrings: 0.238… / 0.33… / −0.33… / 0.6875)', async () => {
    const fb = await metricCheck(ctx, { name: 'f_beta', beta: 0.5, average: 'micro', min: 0.3 }, '1-metric');
    assert.strictEqual(fb.status, 'pass', fb.message);
    close(fb.measured.f_beta, 1 / 3, 1e-12);
    const fbm = await metricCheck(ctx, { name: 'f_beta', beta: 0.5, min: 0.3 }, '1-metric'); // macro by default
    assert.strictEqual(fbm.status, 'fail');
    assert.ok((fbm.measured.f_beta as number) >= 0.238 && (fbm.measured.f_beta as number) < 0.239);
    assert.strictEqual((fbm.evidence as { beta: number }).beta, 0.5);
    const mcc = await metricCheck(labelsContext([1, 1, 1, -1], outputsOf([1, -1, 1, 1], ['-1', '1'])), { name: 'matthews_corrcoef', min: 0 }, '1-metric');
    assert.strictEqual(mcc.status, 'fail');
    close(mcc.measured.matthews_corrcoef, -1 / 3, 1e-12);
    const y1 = ['negative', 'positive', 'negative', 'neutral', 'positive'];
    const y2 = ['negative', 'positive', 'negative', 'neutral', 'negative'];
    const kappa = await metricCheck(labelsContext(y1, outputsOf(y2, ['negative', 'neutral', 'positive'])), { name: 'cohen_kappa', min: 0.6 }, '1-metric');
    assert.strictEqual(kappa.status, 'pass');
    assert.strictEqual(kappa.measured.cohen_kappa, 0.6875);
    // weighted kappa orders numeric classes numerically (2 < 10), not as text
    const ord = labelsContext([2, 10, 10, 2, 5], outputsOf([2, 10, 5, 5, 5], ['2', '5', '10']));
    const q = await metricCheck(ord, { name: 'cohen_kappa', weights: 'quadratic', min: 0 }, '1-metric');
    assert.strictEqual(q.status, 'pass', q.message);
    assert.ok((q.measured.cohen_kappa as number) > ((await metricCheck(ord, { name: 'cohen_kappa', min: 0 }, '1-metric')).measured.cohen_kappa as number));
  });

  it('average_precision: binary (average_precision_score docstring → 0.83…) and one-vs-rest (0.77…)', async () => {
    const s = [0.1, 0.4, 0.35, 0.8];
    const bin = labelsContext([0, 0, 1, 1], outputsOf([0, 0, 0, 1], ['0', '1'], s.map(v => [1 - v, v])));
    const r = await metricCheck(bin, { name: 'average_precision', min: 0.8 }, '1-metric');
    assert.strictEqual(r.status, 'pass', r.message);
    assert.ok((r.measured.average_precision as number) >= 0.83 && (r.measured.average_precision as number) < 0.84);
    const scores = [[0.7, 0.2, 0.1], [0.4, 0.3, 0.3], [0.1, 0.8, 0.1], [0.2, 0.3, 0.5], [0.4, 0.4, 0.2], [0.1, 0.2, 0.7]];
    const multi = labelsContext([0, 0, 1, 1, 2, 2], outputsOf([0, 0, 1, 2, 0, 2], ['0', '1', '2'], scores));
    const m = await metricCheck(multi, { name: 'average_precision', min: 0.8 }, '1-metric');
    assert.strictEqual(m.status, 'fail');
    assert.ok((m.measured.average_precision as number) >= 0.77 && (m.measured.average_precision as number) < 0.78);
    assert.strictEqual((await metricCheck(multi, { name: 'average_precision', average: 'binary', min: 0.8 }, '1-metric')).status, 'error');
  });

  it('new options are checked: f_beta needs beta, beta / weights only where they apply, unknown options refused, undefined kappa is an error', async () => {
    assert.match((await metricCheck(ctx, { name: 'f_beta', min: 0.5 }, 'x')).message, /needs `beta`/);
    assert.match((await metricCheck(ctx, { name: 'f_beta', beta: -1, min: 0.5 }, 'x')).message, /needs `beta`/);
    assert.match((await metricCheck(ctx, { name: 'f1', beta: 2, min: 0.5 }, 'x')).message, /applies to `f_beta` only/);
    assert.match((await metricCheck(ctx, { name: 'cohen_kappa', weights: 'cubic' as 'linear', min: 0.5 }, 'x')).message, /`linear` or `quadratic`/);
    const unknown = await metricCheck(ctx, { name: 'f1', min: 0.5, alpha: 0.1 } as never, 'x');
    assert.strictEqual(unknown.status, 'error');
    assert.match(unknown.message, /alpha/);
    const one = await metricCheck(labelsContext(['a', 'a'], outputsOf(['a', 'a'], ['a', 'b'])), { name: 'cohen_kappa', min: 0.5 }, 'x');
    assert.strictEqual(one.status, 'error');
    assert.match(one.message, /undefined/);
  });

  it('rows without a label are left out and counted', async () => {
    const c = labelsContext(['a', null, 'b', 'b'] as string[], outputsOf(['a', 'a', 'b', 'a'], ['a', 'b']));
    const r = await metricCheck(c, { name: 'accuracy', min: 0 }, '1-metric');
    close(r.measured.accuracy, 2 / 3);
    assert.deepStrictEqual(r.evidence, { rows: 3, rows_missing_label: 1 });
  });
});

// ---------------------------------------------------------------------------------------------------------------

describe('checks: regression against production', () => {
  /** n rows of class 'a'/'b'; production right everywhere except `prodWrong` rows, candidate except `candWrong`. */
  function pair(n: number, candWrong: number[], prodWrong: number[]): GateContext {
    const y = Array.from({ length: n }, (_, i) => (i % 2 ? 'b' : 'a'));
    const flip = (c: string) => (c === 'a' ? 'b' : 'a');
    const cand = outputsOf(y.map((c, i) => (candWrong.includes(i) ? flip(c) : c)), ['a', 'b']);
    const prod = outputsOf(y.map((c, i) => (prodWrong.includes(i) ? flip(c) : c)), ['a', 'b']);
    return { ...labelsContext(y, cand), production: { ...prod, label: 'production v3' } };
  }
  const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

  it('fails a significant drop (McNemar exact: b = 0, c = 20 → p = 2·0.5²⁰)', async () => {
    const r = await regressionCheck(pair(100, range(0, 20), []), { metric: 'accuracy', max_drop: 0.01, test: 'mcnemar' }, '2-regression');
    assertResultShape(r, '2-regression', 'regression');
    assert.strictEqual(r.status, 'fail', r.message);
    close(r.measured.candidate_accuracy, 0.8);
    close(r.measured.production_accuracy, 1);
    close(r.measured.difference, -0.2, 1e-12);
    assert.strictEqual(r.measured.mcnemar_statistic, 0);
    close(r.measured.mcnemar_p_value, 2 * 0.5 ** 20, 1e-15);
    assert.deepStrictEqual(r.threshold, { max_drop: 0.01, test: 'mcnemar', alpha: 0.05 });
    assert.match(JSON.stringify(r.evidence), /"candidate_only_correct":0,"production_only_correct":20/);
    assert.match(r.message, /significantly worse than production/);
  });

  it('passes an improvement or a drop within max_drop; warns on a drop that is not significant', async () => {
    const better = await regressionCheck(pair(100, [1], range(0, 10)), { metric: 'accuracy', max_drop: 0, test: 'mcnemar' }, '1-regression');
    assert.strictEqual(better.status, 'pass', better.message);
    close(better.measured.difference, 0.09, 1e-12);
    const within = await regressionCheck(pair(100, [0, 1], []), { metric: 'accuracy', max_drop: 0.05, test: 'mcnemar' }, '1-regression');
    assert.strictEqual(within.status, 'pass');
    // 3 more errors out of 100: drop 0.03 > 0.02, but exact McNemar p = 2·P(X ≤ 0 | 3, ½) = 0.25
    const thin = await regressionCheck(pair(100, [0, 1, 2], []), { metric: 'accuracy', max_drop: 0.02, test: 'mcnemar' }, '1-regression');
    assert.strictEqual(thin.status, 'warn', thin.message);
    close(thin.measured.mcnemar_p_value, 0.25, 1e-12);
    assert.match(thin.message, /not significant at alpha = 0\.05/);
    // without a test, the drop alone decides
    const noTest = await regressionCheck(pair(100, [0, 1, 2], []), { metric: 'accuracy', max_drop: 0.02 }, '1-regression');
    assert.strictEqual(noTest.status, 'fail');
    assert.strictEqual(noTest.measured.mcnemar_p_value, undefined);
  });

  it('paired bootstrap reports ci_low, ci_high, p_value (seeded, reproducible) for f1', async () => {
    const ctx = pair(200, range(0, 40), []);
    const a = await regressionCheck(ctx, { metric: 'f1', max_drop: 0.05, test: 'bootstrap', seed: 7, resamples: 500 }, '1-regression');
    const b = await regressionCheck(ctx, { metric: 'f1', max_drop: 0.05, test: 'bootstrap', seed: 7, resamples: 500 }, '1-regression');
    assert.strictEqual(a.status, 'fail', a.message);
    assert.deepStrictEqual(a.measured, b.measured);
    assert.ok((a.measured.ci_high as number) < 0 && (a.measured.ci_low as number) < (a.measured.ci_high as number));
    assert.strictEqual(a.measured.p_value, 0);
    assert.ok((a.measured.difference as number) < -0.05);
    assert.ok('candidate_f1' in a.measured && 'production_f1' in a.measured);
  });

  it('without a production model: warn (or error when asked); bad settings: error', async () => {
    const ctx = labelsContext(['a', 'b'], outputsOf(['a', 'b'], ['a', 'b']));
    const r = await regressionCheck(ctx, { metric: 'accuracy', max_drop: 0.01, test: 'mcnemar' }, '1-regression');
    assert.strictEqual(r.status, 'warn');
    assert.match(r.message, /no production model to compare with/);
    assert.strictEqual((await regressionCheck(ctx, { metric: 'accuracy', max_drop: 0.01, on_missing_production: 'error' }, 'x')).status, 'error');
    const bad = await regressionCheck(pair(10, [], []), { metric: 'accuracy', max_drop: -1 } as never, 'x');
    assert.strictEqual(bad.status, 'error');
    assert.match((await regressionCheck(pair(10, [], []), { metric: 'accuracy', max_drop: 0.1, test: 'ttest' as 'mcnemar' }, 'x')).message, /`mcnemar` or `bootstrap`/);
  });

  it('on real models: a weaker candidate fails against the production model on the same rows', async () => {
    const ds = penguinsLike(600, 3);
    const prodFile = buildModel(file('prod.onnx'), { W: goodWeights(), metadata: { classes: JSON.stringify(CLASSES) } });
    // the candidate cannot tell Chinstrap from Gentoo (features 1 and 2 weigh the same on both)
    const candFile = buildModel(file('cand.onnx'), { W: [[4, 0, 0], [0, 2, 2.01], [0, 2, 2.01], [0, 0, 0]], metadata: { classes: JSON.stringify(CLASSES) } });
    const ctx = await contextFor(candFile, ds);
    const prod = await (await loadModel(prodFile)).outputsFor(ds, FEATURES);
    const r = await regressionCheck({ ...ctx, production: { ...prod, label: 'prod.onnx' } }, { metric: 'accuracy', max_drop: 0.01, test: 'mcnemar' }, '1-regression');
    assert.strictEqual(r.status, 'fail', r.message);
    assert.ok((r.measured.production_accuracy as number) > 0.9);
    assert.ok((r.measured.candidate_accuracy as number) < 0.75);
    assert.ok((r.measured.mcnemar_p_value as number) < 1e-10);
    const same = await regressionCheck({ ...ctx, production: { ...ctx.outputs!, label: 'itself' } }, { metric: 'accuracy', max_drop: 0, test: 'mcnemar' }, '1-regression');
    assert.strictEqual(same.status, 'pass');
    assert.strictEqual(same.measured.mcnemar_p_value, 1);
  });
});

// ---------------------------------------------------------------------------------------------------------------

describe('checks: output validation', function () {
  this.timeout(20000);
  const ds = penguinsLike(300);
  const spec = { shape: [null, 3] as Array<number | null>, range: [0, 1] as [number, number], sum_to_one: true, finite: true };

  it('passes a softmax model and reports the measured shape and counts', async () => {
    const ctx = await contextFor(buildModel(file('softmax.onnx'), { W: goodWeights() }), ds, FEATURES, CLASSES);
    const r = await outputCheck(ctx, spec, '3-output');
    assertResultShape(r, '3-output', 'output');
    assert.strictEqual(r.status, 'pass', r.message);
    assert.deepStrictEqual(r.measured.output_shape, [300, 3]);
    assert.strictEqual(r.measured.nan_count, 0);
    assert.strictEqual(r.measured.out_of_range_count, 0);
    assert.strictEqual(r.measured.rows_not_summing_to_one, 0);
    assert.ok((r.measured.max_sum_deviation as number) < 1e-6);
    assert.deepStrictEqual(r.threshold, { ...spec, tolerance: 1e-4 });
    // the same model meets an accuracy floor (3% of the labels are flipped on purpose) and a rule on its outputs
    const acc = await metricCheck(ctx, { name: 'accuracy', min: 0.9 }, '1-metric');
    assert.strictEqual(acc.status, 'pass', acc.message);
    assert.ok((acc.measured.accuracy as number) > 0.9 && (acc.measured.accuracy as number) < 1);
    // without class names the outputs are class_0…: the metric refuses to score them against the labels
    const unnamed = await contextFor(file('softmax.onnx'), ds);
    const refused = await metricCheck(unnamed, { name: 'accuracy', min: 0.9 }, '1-metric');
    assert.strictEqual(refused.status, 'error');
    assert.match(refused.message, /no label in `species` \("Adelie", "Chinstrap", "Gentoo"\) is one of the model's classes \("class_0", "class_1", "class_2"\): set `data.classes`/);
    const wrongShape = await outputCheck(ctx, { shape: [null, 4] }, '3-output');
    assert.strictEqual(wrongShape.status, 'fail');
    assert.match(wrongShape.message, /shape \[300, 3\], not \[N, 4\]/);
  });

  it('fails a model that outputs NaN (Log of a negative input), with the first offending rows', async () => {
    const x = penguinsLike(50);
    const first = x.columns.get(FEATURES[0])!.values as Float64Array;
    const negative = [3, 17, 40];
    for (let i = 0; i < first.length; i++) first[i] = negative.includes(i) ? -1 : Math.abs(first[i]) + 0.01;
    const ctx = await contextFor(buildModel(file('nan.onnx'), { W: goodWeights(), nanWhenFirstNegative: true }), x);
    const r = await outputCheck(ctx, {}, '1-output'); // `finite` is on by default
    assert.strictEqual(r.status, 'fail', r.message);
    assert.strictEqual(r.measured.nan_count, 9);
    assert.strictEqual(r.measured.inf_count, 0);
    const ev = r.evidence as { offending_rows: number; first_rows: Array<{ row: number; values: number[]; problems: string[] }> };
    assert.strictEqual(ev.offending_rows, 3);
    assert.deepStrictEqual(ev.first_rows.map(o => o.row), negative);
    assert.ok(ev.first_rows[0].values.every(Number.isNaN));
    assert.match(r.message, /9 NaN and 0 infinite values/);
    assert.strictEqual((await outputCheck(ctx, { finite: false }, '1-output')).status, 'pass');
  });

  it('float32 rounding at a bound is not out of range (skl2onnx forests give 1.0000001); a real excess is, with its digits', () => {
    const opts = { range: [0, 1] as [number, number], sumToOne: true, tolerance: 1e-4, finite: true };
    const rounding = evaluateOutput({ data: Float32Array.from([1.0000001, 0, 0, 0.5, 0.5, 0]), dims: [2, 3] }, opts, 'model');
    assert.strictEqual(rounding.status, 'pass', rounding.message);
    const excess = evaluateOutput({ data: Float32Array.from([1.001, 0, 0, 0.5, 0.5, 0]), dims: [2, 3] }, { ...opts, sumToOne: false }, 'model');
    assert.strictEqual(excess.status, 'fail');
    assert.match(excess.message, /1 values outside \[0, 1\] \(min 0, max 1\.00100004673/);
  });

  it('fails raw logits: values outside [0, 1] and rows not summing to 1', async () => {
    const ctx = await contextFor(buildModel(file('logits.onnx'), { W: goodWeights(), softmax: false, b: [0.5, -0.5, 0] }), ds);
    const r = await outputCheck(ctx, spec, '1-output');
    assert.strictEqual(r.status, 'fail');
    assert.ok((r.measured.out_of_range_count as number) > 0);
    assert.ok((r.measured.rows_not_summing_to_one as number) > 250);
    assert.ok((r.measured.max_value as number) > 1 && (r.measured.min_value as number) < 0);
    assert.match(r.message, /values outside \[0, 1\]/);
    assert.match(r.message, /rows do not sum to 1/);
    assert.strictEqual((r.evidence as { first_rows: unknown[] }).first_rows.length, 10);
    // the tolerance is configurable
    const loose = await outputCheck(ctx, { sum_to_one: true, tolerance: 100 }, '1-output');
    assert.strictEqual(loose.status, 'pass');
  });

  it('checks the scores of a predictions file when there is no model, and errors with neither', async () => {
    const outputs = outputsOf(['a', 'b'], ['a', 'b'], [[0.7, 0.3], [0.2, 0.9]]);
    const r = await outputCheck({ ...labelsContext(['a', 'b'], outputs) }, { sum_to_one: true }, '1-output');
    assert.strictEqual(r.status, 'fail');
    assert.strictEqual(r.measured.rows_not_summing_to_one, 1);
    assert.strictEqual((r.evidence as { source: string }).source, 'predictions');
    const none = await outputCheck(labelsContext(['a']), {}, '1-output');
    assert.strictEqual(none.status, 'error');
    assert.match((await outputCheck(labelsContext(['a'], outputs), { range: [1, 0] }, 'x')).message, /min ≤ max/);
  });
});

// ---------------------------------------------------------------------------------------------------------------

describe('checks: perturbation and monotonic features', function () {
  this.timeout(20000);
  const ds = penguinsLike(400, 5);

  it('small noise moves a smooth model little (pass); a tiny budget fails; seeded and reproducible', async () => {
    const ctx = await contextFor(buildModel(file('smooth.onnx'), { W: goodWeights(1) }), ds);
    const spec = { noise: 0.05, max_mean_change: 0.05, samples: 200, seed: 3 };
    const r = await perturbationCheck(ctx, spec, '4-perturbation');
    assertResultShape(r, '4-perturbation', 'perturbation');
    assert.strictEqual(r.status, 'pass', r.message);
    assert.ok((r.measured.mean_change as number) > 0 && (r.measured.mean_change as number) < 0.05);
    assert.ok((r.measured.max_change as number) >= (r.measured.mean_change as number));
    assert.deepStrictEqual((await perturbationCheck(ctx, spec, '4-perturbation')).measured, r.measured);
    assert.notDeepStrictEqual((await perturbationCheck(ctx, { ...spec, seed: 4 }, 'x')).measured, r.measured);
    const tight = await perturbationCheck(ctx, { ...spec, max_mean_change: 1e-6 }, 'x');
    assert.strictEqual(tight.status, 'fail');
    assert.match(tight.message, /changes the output by .* on average/);
    // ten times the noise moves the output several times more (the model is smooth: roughly proportionally)
    const loud = await perturbationCheck(ctx, { ...spec, noise: 0.5, max_mean_change: 1 }, 'x');
    assert.ok((loud.measured.mean_change as number) > 5 * (r.measured.mean_change as number), `${String(loud.measured.mean_change)} vs ${String(r.measured.mean_change)}`);
  });

  it('monotonic: passes the right direction, fails the wrong one with offending rows, warns when the feature is ignored', async () => {
    const ctx = await contextFor(buildModel(file('mono.onnx'), { W: goodWeights(), metadata: { classes: JSON.stringify(CLASSES) } }), ds);
    // P(Adelie) rises with bill_length_mm (weight +4 on Adelie only): increasing holds
    const ok = await perturbationCheck(ctx, { monotonic: { bill_length_mm: 'increasing' }, class: 'Adelie' }, '1-perturbation');
    assert.strictEqual(ok.status, 'pass', ok.message);
    assert.deepStrictEqual((ok.measured.monotonic as Record<string, { violation_rate: number }>).bill_length_mm.violation_rate, 0);
    // the same feature declared decreasing: every row moves the wrong way
    const wrong = await perturbationCheck(ctx, { monotonic: { bill_length_mm: 'decreasing' } }, '1-perturbation'); // default class: the first (Adelie)
    assert.strictEqual(wrong.status, 'fail');
    const m = (wrong.measured.monotonic as Record<string, { violation_rate: number; violations: number; rows: number }>).bill_length_mm;
    assert.strictEqual(m.violation_rate, 1);
    assert.strictEqual(m.rows, 400);
    const rows = (wrong.evidence as { violations: Record<string, Array<{ row: number; score_before: number; score_after: number }>> }).violations.bill_length_mm;
    assert.strictEqual(rows.length, 10);
    assert.ok(rows.every(r => r.score_after > r.score_before));
    assert.match(wrong.message, /`bill_length_mm` should be decreasing for Adelie/);
    // body_mass_g has weight 0: the score never moves → warn (the constraint holds only trivially)
    const ignored = await perturbationCheck(ctx, { monotonic: { body_mass_g: 'increasing' } }, '1-perturbation');
    assert.strictEqual(ignored.status, 'warn', ignored.message);
    assert.strictEqual((ignored.measured.monotonic as Record<string, { unchanged_rate: number }>).body_mass_g.unchanged_rate, 1);
    assert.match(ignored.message, /ignores it/);
  });

  it('monotonic in the wrong direction: a model whose Gentoo score falls with flipper length', async () => {
    const W = goodWeights();
    W[2][2] = -4; // flipper_length_mm lowers P(Gentoo)
    const ctx = await contextFor(buildModel(file('backwards.onnx'), { W, metadata: { classes: JSON.stringify(CLASSES) } }), ds);
    const r = await perturbationCheck(ctx, { monotonic: { flipper_length_mm: 'increasing' }, class: 'Gentoo', noise: 0.01, max_mean_change: 0.5 }, '1-perturbation');
    assert.strictEqual(r.status, 'fail');
    // dP(Gentoo)/dx = −4·P(1 − P) < 0 on every row; rows where P(Gentoo) is saturated near 0 move less than the tolerance
    const v = (r.measured.monotonic as Record<string, { violation_rate: number; unchanged_rate: number }>).flipper_length_mm;
    assert.ok(v.violation_rate > 0.9, String(v.violation_rate));
    assert.ok(Math.abs(v.violation_rate + v.unchanged_rate - 1) < 1e-12);
    assert.ok(typeof r.measured.mean_change === 'number');
  });

  it('wrong settings are errors: unknown feature, unknown class, noise without a budget, no model', async () => {
    const ctx = await contextFor(buildModel(file('settings.onnx'), { W: goodWeights(), metadata: { classes: JSON.stringify(CLASSES) } }), ds);
    assert.match((await perturbationCheck(ctx, { monotonic: { beak: 'increasing' } }, 'x')).message, /monotonic feature `beak` is not one of the model's features/);
    assert.match((await perturbationCheck(ctx, { monotonic: { bill_length_mm: 'up' as 'increasing' } }, 'x')).message, /`increasing` or `decreasing`, got "up"/);
    assert.match((await perturbationCheck(ctx, { monotonic: { bill_length_mm: 'increasing' }, class: 'Emperor' }, 'x')).message, /`perturbation.class` Emperor is not one of the model's classes \("Adelie", "Chinstrap", "Gentoo"\)/);
    assert.match((await perturbationCheck(ctx, { noise: 0.1 }, 'x')).message, /needs `max_mean_change`/);
    assert.match((await perturbationCheck(ctx, {}, 'x')).message, /needs `noise`/);
    const noModel = await perturbationCheck({ ...ctx, predict: undefined }, { noise: 0.1, max_mean_change: 0.1 }, 'x');
    assert.strictEqual(noModel.status, 'error');
    assert.match(noModel.message, /runs the model/);
  });
});

// ---------------------------------------------------------------------------------------------------------------

describe('checks: latency and size budgets', function () {
  this.timeout(20000);

  it('latency at batch 1 (measureLatency) and at a larger batch', async () => {
    const f = buildModel(file('latency.onnx'), { W: goodWeights() });
    const ctx: GateContext = { root, eval: penguinsLike(3), label: 'species', features: FEATURES, modelFile: f };
    const r = await latencyCheck(ctx, { p95_ms: 1000, runs: 30 }, '5-latency');
    assertResultShape(r, '5-latency', 'latency');
    assert.strictEqual(r.status, 'pass', r.message);
    for (const k of ['latency_p50_ms', 'latency_p95_ms', 'throughput_per_s']) assert.ok((r.measured[k] as number) > 0, k);
    assert.ok((r.measured.latency_p95_ms as number) >= (r.measured.latency_p50_ms as number));
    assert.deepStrictEqual(r.threshold, { p95_ms: 1000 });
    const slow = await latencyCheck(ctx, { p50_ms: 1e-9, runs: 10 }, '5-latency');
    assert.strictEqual(slow.status, 'fail');
    assert.match(slow.message, /p50 .* ms > 1e-9 ms/);
    const batch = await latencyCheck(ctx, { batch: 64, p95_ms: 1000, runs: 10 }, '5-latency');
    assert.strictEqual(batch.status, 'pass', batch.message);
    assert.strictEqual(batch.measured.batch, 64);
    assert.match((await latencyCheck(ctx, {}, 'x')).message, /needs a budget/);
    assert.match((await latencyCheck({ ...ctx, modelFile: undefined }, { p95_ms: 1 }, 'x')).message, /needs the candidate's ONNX model/);
    fs.writeFileSync(file('bad-latency.onnx'), 'nope');
    const bad = await latencyCheck({ ...ctx, modelFile: file('bad-latency.onnx') }, { p95_ms: 1 }, 'x');
    assert.strictEqual(bad.status, 'error');
    assert.match(bad.message, /not a valid ONNX model/);
  });

  it('size in MB (1 MB = 1,048,576 bytes)', async () => {
    const f = buildModel(file('size.onnx'), { W: goodWeights() });
    const ctx: GateContext = { root, eval: penguinsLike(3), label: 'species', features: FEATURES, modelFile: f };
    const bytes = fs.statSync(f).size;
    const r = await sizeCheck(ctx, { max_mb: 1 }, '6-size');
    assertResultShape(r, '6-size', 'size');
    assert.strictEqual(r.status, 'pass');
    assert.deepStrictEqual(r.measured, { model_size_mb: bytes / 1048576, model_size_bytes: bytes });
    const over = await sizeCheck(ctx, { max_mb: bytes / 1048576 / 2 }, '6-size');
    assert.strictEqual(over.status, 'fail');
    assert.match(over.message, /size\.onnx is .* MB, over the budget/);
    assert.strictEqual((await sizeCheck(ctx, { max_mb: 0 }, 'x')).status, 'error');
    assert.strictEqual((await sizeCheck({ ...ctx, modelFile: file('gone.onnx') }, { max_mb: 1 }, 'x')).status, 'error');
  });
});
});
