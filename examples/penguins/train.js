#!/usr/bin/env node
/*
 * Palmer penguins: species from four body measurements with a multinomial logistic regression (softmax), trained by
 * mini-batch gradient descent with L2, in plain Node. Reports to EDD through the metrics protocol (DESIGN.md):
 *
 *   EDD {"param": "learning_rate", "value": 0.1}
 *   EDD {"metric": "loss", "value": 0.31, "step": 12}
 *   EDD {"progress": 0.06}
 *   EDD {"artifact": "path", "kind": "model"}
 *
 * on stdout (or the same JSON objects appended to $EDD_METRICS_FILE when it is set); every other line is log.
 *
 * Inputs:  the experiment config named by `--config <file>` or $EDD_CONFIG (YAML, see experiments/*.yaml);
 *          the data set: the penguins.json the config names under data.files when it exists (relative to the cwd),
 *          else `data/penguins.json` of the npm package vega-datasets (found from this file, whatever the cwd).
 * Outputs: model.onnx, predictions.csv, metrics.json in $EDD_ARTIFACT_DIR (by hand: examples/penguins/out/<timestamp>).
 * Exit:    0 on success, 2 for a bad config or command line, 1 for any other failure.
 *
 * Deterministic: the same config gives byte-identical artifacts.
 */
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const path = require('path');

const CLASSES = ['Adelie', 'Chinstrap', 'Gentoo'];
const FEATURES = ['Beak Length (mm)', 'Beak Depth (mm)', 'Flipper Length (mm)', 'Body Mass (g)'];
const SEXES = ['MALE', 'FEMALE'];
/**
 * Seed of the train/val/test split. It is part of the data design (`data.dataset_version: v1.0.0`), not of the
 * training: every config evaluates on the same test penguins, so per-example comparisons (McNemar, paired bootstrap)
 * between runs are valid. `random_seed` drives the weight initialisation and the mini-batch order. A config may set
 * `parameters.split_seed` to draw another split.
 */
const DEFAULT_SPLIT_SEED = 20250101;
/** Proportions used when the config gives no `data.*_size`. */
const DEFAULT_PROPORTIONS = { train: 0.7, val: 0.15 };
const KNOWN_PARAMETERS = new Set(['model_type', 'learning_rate', 'epochs', 'batch_size', 'weight_decay', 'optimizer', 'split_seed']);

class ConfigError extends Error {}

// ---------------------------------------------------------------------------------------------------------------
// Reporting

const metricsFile = process.env.EDD_METRICS_FILE || '';

/** One protocol record: a line `EDD {json}` on stdout, or a JSON line appended to $EDD_METRICS_FILE. */
function emit(record) {
  const json = JSON.stringify(record);
  if (metricsFile) fs.appendFileSync(metricsFile, json + '\n');
  else process.stdout.write('EDD ' + json + '\n');
}

function log(message) {
  process.stdout.write(message + '\n');
}

// ---------------------------------------------------------------------------------------------------------------
// Command line and config

function parseArgs(argv) {
  const out = { config: undefined, help: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '-h' || a === '--help') out.help = true;
    else if (a === '--config') {
      if (i + 1 >= argv.length) throw new ConfigError('`--config` needs a file name');
      out.config = argv[++i];
    } else if (a.startsWith('--config=')) out.config = a.slice('--config='.length);
    else throw new ConfigError(`unknown argument \`${a}\` (usage: node examples/penguins/train.js [--config <experiment.yaml>])`);
  }
  return out;
}

const USAGE = [
  'usage: node examples/penguins/train.js [--config <experiment.yaml>]',
  '',
  'The config defaults to $EDD_CONFIG. Artifacts go to $EDD_ARTIFACT_DIR (default: examples/penguins/out/<timestamp>).',
  'Metrics are written as `EDD {json}` lines on stdout, or appended to $EDD_METRICS_FILE when it is set.',
].join('\n');

function describe(value) {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'string') return `the string ${JSON.stringify(value)}`;
  if (typeof value === 'object') return 'a mapping';
  return `${typeof value} ${String(value)}`;
}

function isObject(v) {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A number from the config, checked; `fallback` when absent (undefined = required). */
function num(obj, key, where, { integer = false, min, exclusiveMin = false, fallback } = {}) {
  const v = obj[key];
  if (v === undefined || v === null) {
    if (fallback !== undefined) return fallback;
    throw new ConfigError(`\`${where}.${key}\` is required`);
  }
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new ConfigError(`\`${where}.${key}\` must be a number, got ${describe(v)}`);
  if (integer && !Number.isSafeInteger(v)) throw new ConfigError(`\`${where}.${key}\` must be an integer, got ${v}`);
  if (min !== undefined && (exclusiveMin ? v <= min : v < min)) {
    throw new ConfigError(`\`${where}.${key}\` must be ${exclusiveMin ? '>' : '≥'} ${min}, got ${v}`);
  }
  return v;
}

function loadConfig(file) {
  let text;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError(`cannot read the config ${file}: ${e.code === 'ENOENT' ? 'no such file' : e.message}`);
  }
  let YAML;
  try {
    YAML = require('yaml');
  } catch {
    throw new Error('the npm package `yaml` is not installed: run `npm install` in the repository');
  }
  const doc = YAML.parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) throw new ConfigError(`${file} is not valid YAML: ${doc.errors[0].message.split('\n')[0].replace(/:$/, '')}`);
  const root = doc.toJS({ maxAliasCount: 100 });
  if (!isObject(root) || !isObject(root.experiment)) throw new ConfigError(`${file}: the top-level key \`experiment\` (a mapping) is missing`);
  const exp = root.experiment;
  if (!isObject(exp.parameters)) throw new ConfigError(`${file}: \`experiment.parameters\` (a mapping) is missing`);
  const p = exp.parameters;
  const W = 'experiment.parameters';

  if (p.model_type !== undefined && p.model_type !== 'logistic_regression') {
    throw new ConfigError(`\`${W}.model_type\` is ${describe(p.model_type)}; this script trains only "logistic_regression"`);
  }
  if (p.optimizer !== undefined && p.optimizer !== 'sgd') {
    throw new ConfigError(`\`${W}.optimizer\` is ${describe(p.optimizer)}; this script implements only "sgd" (mini-batch gradient descent)`);
  }
  const params = {
    model_type: 'logistic_regression',
    learning_rate: num(p, 'learning_rate', W, { min: 0, exclusiveMin: true }),
    epochs: num(p, 'epochs', W, { integer: true, min: 1 }),
    batch_size: num(p, 'batch_size', W, { integer: true, min: 1 }),
    weight_decay: num(p, 'weight_decay', W, { min: 0, fallback: 0 }),
  };
  const randomSeed = num(exp, 'random_seed', 'experiment', { integer: true, min: 0, fallback: 42 });
  const splitSeed = num(p, 'split_seed', W, { integer: true, min: 0, fallback: DEFAULT_SPLIT_SEED });
  const ignored = Object.keys(p).filter(k => !KNOWN_PARAMETERS.has(k));

  let sizes;
  const data = exp.data === undefined ? {} : exp.data;
  if (!isObject(data)) throw new ConfigError('`experiment.data` must be a mapping');
  const given = ['train_size', 'val_size', 'test_size'].filter(k => data[k] !== undefined);
  if (given.length > 0 && given.length < 3) {
    throw new ConfigError(`\`experiment.data\` gives ${given.map(k => '`' + k + '`').join(', ')} but not all of train_size, val_size, test_size`);
  }
  if (given.length === 3) {
    sizes = {
      train: num(data, 'train_size', 'experiment.data', { integer: true, min: 1 }),
      val: num(data, 'val_size', 'experiment.data', { integer: true, min: 1 }),
      test: num(data, 'test_size', 'experiment.data', { integer: true, min: 1 }),
    };
  }
  const files = Array.isArray(data.files) ? data.files.filter(f => typeof f === 'string') : [];
  return {
    id: typeof exp.id === 'string' ? exp.id : '',
    name: typeof exp.name === 'string' ? exp.name : '',
    params,
    randomSeed,
    splitSeed,
    splitSeedGiven: p.split_seed !== undefined,
    sizes,
    files,
    ignored,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Data

/**
 * The penguins table of vega-datasets. `require.resolve('vega-datasets/data/penguins.json')` is refused by the package's
 * `exports` map (ERR_PACKAGE_PATH_NOT_EXPORTED), so resolve the package itself from this file and take its `data/`.
 */
function findDataFile(named) {
  // The file the config names under data.files comes first: a copy of this example made by EDD: Create Example
  // Project has no node_modules and carries penguins.json in its own data/ folder.
  const own = named.map(f => path.resolve(f)).find(f => path.basename(f) === 'penguins.json' && fs.existsSync(f));
  if (own) return own;
  try {
    return require.resolve('vega-datasets/data/penguins.json', { paths: [__dirname] });
  } catch {
    // fall through: subpath not exported
  }
  let entry;
  try {
    entry = require.resolve('vega-datasets', { paths: [__dirname] });
  } catch {
    throw new Error('the npm package `vega-datasets` is not installed: run `npm install` in the repository (it holds data/penguins.json)');
  }
  for (let dir = path.dirname(entry); ; dir = path.dirname(dir)) {
    const pkg = path.join(dir, 'package.json');
    if (fs.existsSync(pkg) && JSON.parse(fs.readFileSync(pkg, 'utf8')).name === 'vega-datasets') {
      const file = path.join(dir, 'data', 'penguins.json');
      if (!fs.existsSync(file)) throw new Error(`vega-datasets at ${dir} has no data/penguins.json`);
      return file;
    }
    if (path.dirname(dir) === dir) throw new Error(`cannot find the package root of vega-datasets from ${entry}`);
  }
}

/** Rows with every field present: row_id (index in the file), x (4 raw numbers), y (class index), sex, island. */
function loadRows(file) {
  const bytes = fs.readFileSync(file);
  const table = JSON.parse(bytes.toString('utf8'));
  if (!Array.isArray(table)) throw new Error(`${file}: expected a JSON array of records`);
  const rows = [];
  table.forEach((r, i) => {
    const y = CLASSES.indexOf(r.Species);
    const x = FEATURES.map(f => r[f]);
    const complete = y >= 0 && x.every(v => typeof v === 'number' && Number.isFinite(v)) &&
      SEXES.includes(r.Sex) && typeof r.Island === 'string' && r.Island !== '';
    if (complete) rows.push({ row_id: i, x, y, sex: r.Sex, island: r.Island });
  });
  return { rows, total: table.length, sha256: crypto.createHash('sha256').update(bytes).digest('hex') };
}

// ---------------------------------------------------------------------------------------------------------------
// Seeded randomness (mulberry32) and the split

function rng(seed) {
  let a = (seed >>> 0) ^ Math.floor(seed / 4294967296); // keep the high bits of seeds ≥ 2^32
  return function next() {
    a = (a + 0x6d2b79f5) | 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffle(array, next) {
  for (let i = array.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [array[i], array[j]] = [array[j], array[i]];
  }
  return array;
}

function gaussian(next) {
  const u = 1 - next(); // (0, 1]
  const v = next();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

function split(rows, sizes, seed) {
  const n = rows.length;
  if (!sizes) {
    const train = Math.floor(n * DEFAULT_PROPORTIONS.train);
    const val = Math.floor(n * DEFAULT_PROPORTIONS.val);
    sizes = { train, val, test: n - train - val };
  }
  const need = sizes.train + sizes.val + sizes.test;
  if (need > n) {
    throw new ConfigError(`\`experiment.data\`: train_size + val_size + test_size = ${need}, but the data set has only ${n} complete rows`);
  }
  const order = shuffle(rows.slice(), rng(seed));
  return {
    train: order.slice(0, sizes.train),
    val: order.slice(sizes.train, sizes.train + sizes.val),
    test: order.slice(sizes.train + sizes.val, need),
    unused: n - need,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Model: standardisation + softmax regression

function standardisation(train) {
  const d = FEATURES.length;
  const mean = new Array(d).fill(0);
  const std = new Array(d).fill(0);
  for (const r of train) for (let j = 0; j < d; j++) mean[j] += r.x[j];
  for (let j = 0; j < d; j++) mean[j] /= train.length;
  for (const r of train) for (let j = 0; j < d; j++) std[j] += (r.x[j] - mean[j]) ** 2;
  for (let j = 0; j < d; j++) {
    std[j] = Math.sqrt(std[j] / train.length);
    if (!(std[j] > 0)) std[j] = 1; // constant feature: leave it centred
  }
  return { mean, std };
}

function softmaxInPlace(z) {
  let max = -Infinity;
  for (const v of z) if (v > max) max = v;
  let sum = 0;
  for (let k = 0; k < z.length; k++) {
    z[k] = Math.exp(z[k] - max);
    sum += z[k];
  }
  for (let k = 0; k < z.length; k++) z[k] /= sum;
  return z;
}

/** p = softmax(x·W + b), x standardised. */
function forward(x, W, b) {
  const z = b.slice();
  for (let k = 0; k < z.length; k++) for (let j = 0; j < x.length; j++) z[k] += x[j] * W[j][k];
  return softmaxInPlace(z);
}

function argmax(p) {
  let best = 0;
  for (let k = 1; k < p.length; k++) if (p[k] > p[best]) best = k;
  return best;
}

/** Cross-entropy, accuracy, macro F1, per-class report and confusion matrix of predicted probabilities. */
function evaluate(probs, labels) {
  const K = CLASSES.length;
  const confusion = CLASSES.map(() => new Array(K).fill(0));
  let loss = 0;
  for (let i = 0; i < probs.length; i++) {
    loss -= Math.log(Math.max(probs[i][labels[i]], 1e-15));
    confusion[labels[i]][argmax(probs[i])]++;
  }
  let correct = 0;
  const perClass = {};
  let f1Sum = 0;
  for (let k = 0; k < K; k++) {
    correct += confusion[k][k];
    const tp = confusion[k][k];
    const predicted = confusion.reduce((s, row) => s + row[k], 0);
    const actual = confusion[k].reduce((s, v) => s + v, 0);
    const precision = predicted > 0 ? tp / predicted : 0;
    const recall = actual > 0 ? tp / actual : 0;
    const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
    perClass[CLASSES[k]] = { precision, recall, f1, support: actual };
    f1Sum += f1;
  }
  return { loss: loss / probs.length, accuracy: correct / probs.length, f1Macro: f1Sum / K, perClass, confusion };
}

function train(cfg, sets, scale, log) {
  const { learning_rate: lr, epochs, batch_size: batchSize, weight_decay: wd } = cfg.params;
  const d = FEATURES.length;
  const K = CLASSES.length;
  const next = rng(cfg.randomSeed);
  const W = Array.from({ length: d }, () => Array.from({ length: K }, () => 0.01 * gaussian(next)));
  const b = new Array(K).fill(0);
  const z = r => r.x.map((v, j) => (v - scale.mean[j]) / scale.std[j]);
  const Xtr = sets.train.map(z);
  const Ytr = sets.train.map(r => r.y);
  const Xval = sets.val.map(z);
  const Yval = sets.val.map(r => r.y);
  const order = Xtr.map((_, i) => i);
  let last;

  for (let epoch = 1; epoch <= epochs; epoch++) {
    shuffle(order, next);
    for (let start = 0; start < order.length; start += batchSize) {
      const batch = order.slice(start, start + batchSize);
      const gW = Array.from({ length: d }, () => new Array(K).fill(0));
      const gb = new Array(K).fill(0);
      for (const i of batch) {
        const p = forward(Xtr[i], W, b);
        p[Ytr[i]] -= 1; // dL/dz of the cross-entropy
        for (let k = 0; k < K; k++) {
          gb[k] += p[k];
          for (let j = 0; j < d; j++) gW[j][k] += Xtr[i][j] * p[k];
        }
      }
      const m = batch.length;
      for (let k = 0; k < K; k++) {
        b[k] -= (lr * gb[k]) / m;
        for (let j = 0; j < d; j++) W[j][k] -= lr * (gW[j][k] / m + wd * W[j][k]); // L2 on the weights, not the bias
      }
    }
    const tr = evaluate(Xtr.map(x => forward(x, W, b)), Ytr);
    const va = evaluate(Xval.map(x => forward(x, W, b)), Yval);
    if (!Number.isFinite(tr.loss)) throw new Error(`training diverged at epoch ${epoch} (loss ${tr.loss}); lower the learning rate`);
    emit({ metric: 'loss', value: tr.loss, step: epoch });
    emit({ metric: 'train_accuracy', value: tr.accuracy, step: epoch });
    emit({ metric: 'val_loss', value: va.loss, step: epoch });
    emit({ metric: 'val_accuracy', value: va.accuracy, step: epoch });
    emit({ metric: 'val_f1_macro', value: va.f1Macro, step: epoch });
    emit({ progress: epoch / epochs });
    if (epoch === 1 || epoch === epochs || epoch % Math.max(1, Math.round(epochs / 10)) === 0) {
      log(`epoch ${String(epoch).padStart(String(epochs).length)}/${epochs}  loss ${tr.loss.toFixed(4)}  train_acc ${tr.accuracy.toFixed(4)}  ` +
        `val_loss ${va.loss.toFixed(4)}  val_acc ${va.accuracy.toFixed(4)}  val_f1 ${va.f1Macro.toFixed(4)}`);
    }
    last = { train: tr, val: va };
  }
  return { W, b, last };
}

// ---------------------------------------------------------------------------------------------------------------
// The exported model, and the same computation in float32 for predictions.csv

/** Parameters as the ONNX file stores them (float32). */
function float32Model(scale, W, b) {
  return {
    mean: scale.mean.map(Math.fround),
    std: scale.std.map(Math.fround),
    W: W.map(row => row.map(Math.fround)),
    b: b.map(Math.fround),
  };
}

/** What model.onnx computes for one row of raw measurements (float32 steps, softmax in double). */
function predictRaw(m, raw) {
  const x = raw.map((v, j) => Math.fround(Math.fround(Math.fround(v) - m.mean[j]) / m.std[j]));
  const z = m.b.map((bk, k) => {
    let s = 0;
    for (let j = 0; j < x.length; j++) s = Math.fround(s + Math.fround(x[j] * m.W[j][k]));
    return Math.fround(s + bk);
  });
  return softmaxInPlace(z);
}

function floatBytes(values) {
  const buf = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => buf.writeFloatLE(v, i * 4));
  return buf;
}

function buildOnnx(m, cfg) {
  let onnx;
  try {
    ({ onnx } = require('onnx-proto'));
  } catch {
    throw new Error('the npm package `onnx-proto` is not installed: run `npm install` in the repository');
  }
  const FLOAT = onnx.TensorProto.DataType.FLOAT;
  const d = FEATURES.length;
  const K = CLASSES.length;
  const tensor = (name, dims, values) => onnx.TensorProto.create({ name, dims, dataType: FLOAT, rawData: floatBytes(values) });
  const valueInfo = (name, dims, doc) => onnx.ValueInfoProto.create({
    name,
    docString: doc,
    type: { tensorType: { elemType: FLOAT, shape: { dim: dims.map(x => (typeof x === 'string' ? { dimParam: x } : { dimValue: x })) } } },
  });
  const node = (opType, input, output, attribute = []) => onnx.NodeProto.create({ opType, input, output, name: output[0], attribute });
  const graph = onnx.GraphProto.create({
    name: 'penguins_softmax_regression',
    node: [
      node('Sub', ['features', 'mean'], ['centered']),
      node('Div', ['centered', 'std'], ['standardized']),
      node('MatMul', ['standardized', 'W'], ['scores']),
      node('Add', ['scores', 'b'], ['logits']),
      node('Softmax', ['logits'], ['probabilities'], [onnx.AttributeProto.create({ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: 1 })]),
    ],
    initializer: [
      tensor('mean', [d], m.mean),
      tensor('std', [d], m.std),
      tensor('W', [d, K], m.W.flat()),
      tensor('b', [K], m.b),
    ],
    input: [valueInfo('features', ['N', d], `raw measurements, columns in order: ${FEATURES.join(', ')}`)],
    output: [valueInfo('probabilities', ['N', K], `class probabilities, columns in order: ${CLASSES.join(', ')}`)],
  });
  const model = onnx.ModelProto.create({
    irVersion: 7,
    opsetImport: [{ domain: '', version: 13 }],
    producerName: 'edd-example-penguins',
    producerVersion: '1.0.0',
    domain: 'dev.edd.examples',
    modelVersion: 1,
    docString: 'Palmer penguins species classifier: standardisation + multinomial logistic regression (softmax).',
    graph,
    metadataProps: [
      { key: 'class_names', value: JSON.stringify(CLASSES) },
      { key: 'feature_names', value: JSON.stringify(FEATURES) },
      { key: 'experiment_id', value: cfg.id },
      { key: 'random_seed', value: String(cfg.randomSeed) },
    ],
  });
  const err = onnx.ModelProto.verify(model);
  if (err) throw new Error(`internal error: invalid ONNX model: ${err}`);
  return Buffer.from(onnx.ModelProto.encode(model).finish());
}

// ---------------------------------------------------------------------------------------------------------------

function csvField(v) {
  const s = String(v);
  return /[",\n\r]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
}

function score(p) {
  return String(Number(p.toPrecision(7)));
}

/** Artifact path for the protocol: relative to the cwd (the workspace root when EDD runs it) if inside it, else absolute. */
function reportedPath(file) {
  const rel = path.relative(process.cwd(), file);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel.split(path.sep).join('/') : file;
}

function main() {
  const started = process.hrtime.bigint();
  const args = parseArgs(process.argv.slice(2));
  if (args.help) {
    log(USAGE);
    return 0;
  }
  const configArg = args.config || process.env.EDD_CONFIG;
  if (!configArg) throw new ConfigError('no config: pass `--config <experiment.yaml>` or set EDD_CONFIG\n' + USAGE);
  const configFile = path.resolve(configArg);
  const cfg = loadConfig(configFile);
  log(`penguins: experiment ${cfg.id || '(no id)'} ${cfg.name} — config ${configArg}`);
  for (const k of cfg.ignored) log(`warning: parameter \`${k}\` is not used by this script (ignored)`);

  const dataFile = findDataFile(cfg.files);
  const data = loadRows(dataFile);
  log(`data: ${dataFile} — ${data.total} rows, ${data.rows.length} complete (${data.total - data.rows.length} with a missing value dropped)`);
  const sets = split(data.rows, cfg.sizes, cfg.splitSeed);
  if (cfg.params.batch_size > sets.train.length) {
    throw new ConfigError(`\`experiment.parameters.batch_size\` (${cfg.params.batch_size}) is larger than the training set (${sets.train.length} rows)`);
  }
  log(`split (seed ${cfg.splitSeed}): train ${sets.train.length}, val ${sets.val.length}, test ${sets.test.length}` +
    (sets.unused > 0 ? `, ${sets.unused} rows unused` : ''));

  emit({ param: 'model_type', value: cfg.params.model_type });
  emit({ param: 'learning_rate', value: cfg.params.learning_rate });
  emit({ param: 'epochs', value: cfg.params.epochs });
  emit({ param: 'batch_size', value: cfg.params.batch_size });
  emit({ param: 'weight_decay', value: cfg.params.weight_decay });
  emit({ param: 'random_seed', value: cfg.randomSeed });
  if (cfg.splitSeedGiven) emit({ param: 'split_seed', value: cfg.splitSeed });

  const scale = standardisation(sets.train);
  const { W, b, last } = train(cfg, sets, scale, log);

  // Test set, computed exactly as the exported model computes it.
  const m = float32Model(scale, W, b);
  const testProbs = sets.test.map(r => predictRaw(m, r.x));
  const te = evaluate(testProbs, sets.test.map(r => r.y));
  emit({ metric: 'test_loss', value: te.loss, step: cfg.params.epochs });
  emit({ metric: 'test_accuracy', value: te.accuracy, step: cfg.params.epochs });
  emit({ metric: 'test_f1_macro', value: te.f1Macro, step: cfg.params.epochs });
  log(`test: loss ${te.loss.toFixed(4)}  accuracy ${te.accuracy.toFixed(4)}  f1_macro ${te.f1Macro.toFixed(4)}  (${sets.test.length} rows)`);

  const outDir = process.env.EDD_ARTIFACT_DIR
    ? path.resolve(process.env.EDD_ARTIFACT_DIR)
    : path.join(__dirname, 'out', new Date().toISOString().replace(/[:.]/g, '-'));
  fs.mkdirSync(outDir, { recursive: true });

  const modelFile = path.join(outDir, 'model.onnx');
  fs.writeFileSync(modelFile, buildOnnx(m, cfg));

  const predFile = path.join(outDir, 'predictions.csv');
  const header = ['row_id', 'y_true', 'y_pred', ...CLASSES.map(c => 'score_' + c), 'sex', 'island'];
  const lines = [header.join(',')];
  sets.test.forEach((r, i) => {
    const p = testProbs[i];
    lines.push([r.row_id, CLASSES[r.y], CLASSES[argmax(p)], ...p.map(score), r.sex, r.island].map(csvField).join(','));
  });
  fs.writeFileSync(predFile, lines.join('\n') + '\n');

  const metricsJson = path.join(outDir, 'metrics.json');
  const summary = {
    experiment_id: cfg.id,
    name: cfg.name,
    parameters: cfg.params,
    random_seed: cfg.randomSeed,
    split_seed: cfg.splitSeed,
    data: {
      source: 'vega-datasets data/penguins.json',
      sha256: data.sha256,
      rows_total: data.total,
      rows_complete: data.rows.length,
      train_size: sets.train.length,
      val_size: sets.val.length,
      test_size: sets.test.length,
    },
    classes: CLASSES,
    features: FEATURES,
    metrics: {
      loss: last.train.loss,
      train_accuracy: last.train.accuracy,
      val_loss: last.val.loss,
      val_accuracy: last.val.accuracy,
      val_f1_macro: last.val.f1Macro,
      test_loss: te.loss,
      test_accuracy: te.accuracy,
      test_f1_macro: te.f1Macro,
    },
    test_per_class: te.perClass,
    test_confusion_matrix: { rows: 'true class', columns: 'predicted class', order: CLASSES, counts: te.confusion },
    standardization: { mean: scale.mean, std: scale.std },
  };
  fs.writeFileSync(metricsJson, JSON.stringify(summary, null, 2) + '\n');

  emit({ artifact: reportedPath(modelFile), kind: 'model' });
  emit({ artifact: reportedPath(predFile), kind: 'predictions' });
  emit({ artifact: reportedPath(metricsJson), kind: 'metrics' });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  log(`artifacts: ${outDir}`);
  log(`done in ${(ms / 1000).toFixed(2)} s`);
  return 0;
}

// The gate's evaluation data (make-gate-data.js) uses the same rows and split.
module.exports = { loadRows, split, findDataFile, FEATURES, CLASSES, DEFAULT_SPLIT_SEED };

if (require.main === module) {
  try {
    process.exitCode = main();
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`penguins/train.js: config error: ${e.message}\n`);
      process.exitCode = 2;
    } else {
      process.stderr.write(`penguins/train.js: error: ${e && e.stack ? e.stack : e}\n`);
      process.exitCode = 1;
    }
  }
}
