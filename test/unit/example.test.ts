/**
 * The penguins example (examples/penguins): train.js run as a real child process, its metrics protocol, its
 * artifacts, and its model.onnx executed by onnxruntime-node against predictions.csv.
 */
import * as assert from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { onnx } from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import * as YAML from 'yaml';

const root = path.resolve(__dirname, '../../..');
const example = path.join(root, 'examples', 'penguins');
const script = path.join(example, 'train.js');
const experiments = path.join(example, 'experiments');
const CLASSES = ['Adelie', 'Chinstrap', 'Gentoo'];
const FEATURES = ['Beak Length (mm)', 'Beak Depth (mm)', 'Flipper Length (mm)', 'Body Mass (g)'];
const HEADER = ['row_id', 'y_true', 'y_pred', 'score_Adelie', 'score_Chinstrap', 'score_Gentoo', 'sex', 'island'];

type Rec = Record<string, unknown>;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  /** The JSON objects of the `EDD {…}` lines, in order. */
  records: Rec[];
  /** The other lines of stdout. */
  log: string[];
  ms: number;
}

/** Run train.js with a config and an artifact directory (env like `edd run` gives it). */
function train(config: string, artifactDir: string | undefined, opts: { cwd?: string; env?: NodeJS.ProcessEnv; args?: string[] } = {}): Run {
  const env: NodeJS.ProcessEnv = { ...process.env, EDD_CONFIG: config, ...opts.env };
  delete env.EDD_METRICS_FILE;
  if (opts.env?.EDD_METRICS_FILE) env.EDD_METRICS_FILE = opts.env.EDD_METRICS_FILE;
  if (artifactDir === undefined) delete env.EDD_ARTIFACT_DIR;
  else env.EDD_ARTIFACT_DIR = artifactDir;
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [script, ...(opts.args ?? [])], { cwd: opts.cwd ?? root, env, encoding: 'utf8', timeout: 60_000 });
  const ms = Date.now() - t0;
  assert.ifError(r.error);
  const lines = r.stdout.split('\n').filter(l => l !== '');
  const records = lines.filter(l => l.startsWith('EDD ')).map(l => JSON.parse(l.slice(4)) as Rec);
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, records, log: lines.filter(l => !l.startsWith('EDD ')), ms };
}

function ok(run: Run): Run {
  assert.strictEqual(run.code, 0, `train.js failed (exit ${run.code}):\n${run.stderr}\n${run.stdout.slice(-2000)}`);
  return run;
}

/** A copy of an example config with some fields changed, in `dir`. */
function variant(dir: string, base: string, name: string, change: (exp: Rec) => void): string {
  const doc = YAML.parse(fs.readFileSync(path.join(experiments, base), 'utf8')) as { experiment: Rec };
  change(doc.experiment);
  const file = path.join(dir, name);
  fs.writeFileSync(file, YAML.stringify(doc));
  return file;
}

function writeConfig(dir: string, name: string, text: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
}

interface Prediction {
  row_id: number;
  y_true: string;
  y_pred: string;
  scores: number[];
  sex: string;
  island: string;
}

function readPredictions(file: string): { header: string[]; rows: Prediction[] } {
  const lines = fs.readFileSync(file, 'utf8').trimEnd().split('\n');
  const header = lines[0].split(',');
  const rows = lines.slice(1).map(l => {
    const f = l.split(',');
    return { row_id: Number(f[0]), y_true: f[1], y_pred: f[2], scores: f.slice(3, 6).map(Number), sex: f[6], island: f[7] };
  });
  return { header, rows };
}

function metrics(run: Run, name: string): Map<number, number> {
  const out = new Map<number, number>();
  for (const r of run.records) {
    if (r.metric === name) {
      assert.strictEqual(typeof r.value, 'number', `${name} value`);
      assert.ok(Number.isInteger(r.step), `${name} step`);
      assert.ok(!out.has(r.step as number), `${name} reported twice at step ${String(r.step)}`);
      out.set(r.step as number, r.value as number);
    }
  }
  return out;
}

function artifacts(run: Run): Map<string, string> {
  return new Map(run.records.filter(r => 'artifact' in r).map(r => [r.kind as string, r.artifact as string]));
}

function penguins(): Rec[] {
  // vega-datasets' `exports` refuses `vega-datasets/data/…`: go through the package entry.
  let dir = path.dirname(require.resolve('vega-datasets'));
  while (!fs.existsSync(path.join(dir, 'data', 'penguins.json'))) dir = path.dirname(dir);
  return JSON.parse(fs.readFileSync(path.join(dir, 'data', 'penguins.json'), 'utf8')) as Rec[];
}

describe('example: penguins (examples/penguins/train.js)', function () {
  this.timeout(60_000);
  let tmp: string;
  let shortConfig: string;
  let shortDir: string;
  let short: Run;
  const EPOCHS = 5;

  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'edd-penguins-'));
    shortConfig = variant(tmp, 'baseline.yaml', 'short.yaml', exp => {
      (exp.parameters as Rec).epochs = EPOCHS;
    });
    shortDir = path.join(tmp, 'short');
    short = ok(train(shortConfig, shortDir));
  });

  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  describe('metrics protocol', () => {
    it('reports every hyperparameter once, before the first metric', () => {
      const params = short.records.filter(r => 'param' in r);
      const firstMetric = short.records.findIndex(r => 'metric' in r);
      assert.ok(short.records.findIndex(r => 'param' in r) < firstMetric);
      assert.ok(short.records.slice(firstMetric).every(r => !('param' in r)), 'no param after the first metric');
      assert.deepStrictEqual(Object.fromEntries(params.map(r => [r.param, r.value])), {
        model_type: 'logistic_regression',
        learning_rate: 0.1,
        epochs: EPOCHS,
        batch_size: 32,
        weight_decay: 0.0001,
        random_seed: 42,
      });
    });

    it('reports loss, train_accuracy, val_loss, val_accuracy and val_f1_macro at every epoch', () => {
      for (const name of ['loss', 'train_accuracy', 'val_loss', 'val_accuracy', 'val_f1_macro']) {
        const m = metrics(short, name);
        assert.deepStrictEqual([...m.keys()], Array.from({ length: EPOCHS }, (_, i) => i + 1), name);
        for (const v of m.values()) {
          assert.ok(Number.isFinite(v) && v >= 0, `${name} = ${v}`);
          if (name !== 'loss' && name !== 'val_loss') assert.ok(v <= 1, `${name} = ${v}`);
        }
      }
      const loss = metrics(short, 'loss');
      assert.ok(loss.get(EPOCHS)! < loss.get(1)!, 'the training loss decreases');
    });

    it('reports progress epoch/epochs, increasing, ending at 1', () => {
      const progress = short.records.filter(r => 'progress' in r).map(r => r.progress as number);
      assert.deepStrictEqual(progress, Array.from({ length: EPOCHS }, (_, i) => (i + 1) / EPOCHS));
    });

    it('reports test_accuracy and test_f1_macro once, at the last step, equal to metrics.json', () => {
      const summary = JSON.parse(fs.readFileSync(path.join(shortDir, 'metrics.json'), 'utf8'));
      for (const name of ['test_accuracy', 'test_f1_macro', 'test_loss']) {
        const m = metrics(short, name);
        assert.deepStrictEqual([...m.keys()], [EPOCHS], name);
        assert.strictEqual(m.get(EPOCHS), summary.metrics[name], name);
      }
      assert.strictEqual(summary.metrics.val_f1_macro, metrics(short, 'val_f1_macro').get(EPOCHS));
    });

    it('writes only protocol lines and log lines on stdout, nothing on stderr', () => {
      assert.strictEqual(short.stderr, '');
      for (const l of short.stdout.split('\n').filter(x => x.startsWith('EDD'))) assert.match(l, /^EDD \{.*\}$/);
      assert.ok(short.log.some(l => /^test: /.test(l)), short.log.join('\n'));
    });

    it('appends the same records to $EDD_METRICS_FILE instead when it is set', () => {
      const file = path.join(tmp, 'metrics.jsonl');
      const run = ok(train(shortConfig, path.join(tmp, 'to-file'), { env: { EDD_METRICS_FILE: file } }));
      assert.deepStrictEqual(run.records, []);
      const fromFile = fs.readFileSync(file, 'utf8').trimEnd().split('\n').map(l => JSON.parse(l) as Rec);
      const strip = (rs: Rec[]) => rs.filter(r => !('artifact' in r));
      assert.deepStrictEqual(strip(fromFile), strip(short.records));
      assert.strictEqual(fromFile.filter(r => 'artifact' in r).length, 3);
    });
  });

  describe('artifacts', () => {
    it('reports model, predictions and metrics files that exist in EDD_ARTIFACT_DIR', () => {
      const a = artifacts(short);
      assert.deepStrictEqual([...a.keys()].sort(), ['metrics', 'model', 'predictions']);
      const expected: Record<string, string> = { model: 'model.onnx', predictions: 'predictions.csv', metrics: 'metrics.json' };
      for (const [kind, p] of a) {
        assert.ok(path.isAbsolute(p), `outside the cwd the path is absolute: ${p}`);
        assert.strictEqual(p, path.join(shortDir, expected[kind]));
        assert.ok(fs.statSync(p).size > 0, p);
      }
    });

    it('reports artifact paths relative to the cwd (the workspace root) when inside it, and finds its data from any cwd', () => {
      const ws = path.join(tmp, 'workspace');
      fs.mkdirSync(ws);
      const run = ok(train(shortConfig, path.join(ws, '.edd', 'runs', 'r1')));
      assert.ok(path.isAbsolute(artifacts(run).get('model')!));
      const inWs = ok(train(shortConfig, path.join(ws, '.edd', 'runs', 'r2'), { cwd: ws }));
      assert.deepStrictEqual(Object.fromEntries(artifacts(inWs)), {
        model: '.edd/runs/r2/model.onnx',
        predictions: '.edd/runs/r2/predictions.csv',
        metrics: '.edd/runs/r2/metrics.json',
      });
      assert.ok(fs.existsSync(path.join(ws, '.edd', 'runs', 'r2', 'model.onnx')));
      assert.deepStrictEqual(fs.readFileSync(path.join(ws, '.edd', 'runs', 'r2', 'predictions.csv')), fs.readFileSync(path.join(shortDir, 'predictions.csv')));
    });

    it('predictions.csv: the header, one row per test example with the config\'s test_size, distinct row ids, scores summing to 1', () => {
      const { header, rows } = readPredictions(path.join(shortDir, 'predictions.csv'));
      assert.deepStrictEqual(header, HEADER);
      assert.strictEqual(rows.length, 50);
      assert.strictEqual(new Set(rows.map(r => r.row_id)).size, rows.length);
      const table = penguins();
      for (const r of rows) {
        const src = table[r.row_id];
        assert.strictEqual(r.y_true, src.Species, `row ${r.row_id}`);
        assert.strictEqual(r.sex, src.Sex);
        assert.strictEqual(r.island, src.Island);
        assert.ok(CLASSES.includes(r.y_pred));
        assert.strictEqual(r.y_pred, CLASSES[r.scores.indexOf(Math.max(...r.scores))]);
        assert.ok(r.scores.every(s => s >= 0 && s <= 1));
        assert.ok(Math.abs(r.scores.reduce((a, b) => a + b, 0) - 1) < 1e-5, `row ${r.row_id} scores ${r.scores.join(' ')}`);
      }
    });

    it('metrics.json: split sizes of the config, the data fingerprint, the confusion matrix of the test set', () => {
      const s = JSON.parse(fs.readFileSync(path.join(shortDir, 'metrics.json'), 'utf8'));
      assert.strictEqual(s.experiment_id, 'exp_20250101_001');
      assert.deepStrictEqual([s.data.rows_total, s.data.rows_complete, s.data.train_size, s.data.val_size, s.data.test_size], [344, 333, 233, 50, 50]);
      assert.match(s.data.sha256, /^[0-9a-f]{64}$/);
      assert.deepStrictEqual(s.classes, CLASSES);
      const counts = s.test_confusion_matrix.counts as number[][];
      assert.strictEqual(counts.flat().reduce((a, b) => a + b, 0), 50);
      assert.strictEqual(counts.reduce((a, row, i) => a + row[i], 0) / 50, s.metrics.test_accuracy);
    });
  });

  describe('model.onnx', () => {
    it('is ONNX IR 7, opset 13: Sub → Div → MatMul → Add → Softmax(axis=1), float32 raw initializers, class and feature names in metadata', () => {
      const m = onnx.ModelProto.decode(fs.readFileSync(path.join(shortDir, 'model.onnx')));
      assert.strictEqual(Number(m.irVersion), 7);
      assert.deepStrictEqual(m.opsetImport.map(o => [o.domain, Number(o.version)]), [['', 13]]);
      const g = m.graph!;
      const nodes = g.node ?? [];
      const initializers = g.initializer ?? [];
      assert.deepStrictEqual(nodes.map(n => n.opType), ['Sub', 'Div', 'MatMul', 'Add', 'Softmax']);
      const axis = (nodes[4].attribute ?? []).find(a => a.name === 'axis')!;
      assert.strictEqual(Number(axis.i), 1);
      const dims = (t: onnx.ITensorProto) => (t.dims ?? []).map(Number);
      assert.deepStrictEqual(Object.fromEntries(initializers.map(t => [t.name, dims(t)])), { mean: [4], std: [4], W: [4, 3], b: [3] });
      for (const t of initializers) {
        assert.strictEqual(t.dataType, onnx.TensorProto.DataType.FLOAT);
        assert.strictEqual(t.rawData?.length, 4 * dims(t).reduce((a, b) => a * b, 1));
      }
      const meta = Object.fromEntries(m.metadataProps.map(p => [p.key, p.value]));
      assert.deepStrictEqual(JSON.parse(meta.class_names!), CLASSES);
      assert.deepStrictEqual(JSON.parse(meta.feature_names!), FEATURES);
    });

    it('loads in onnxruntime-node: input features float32 [N,4], output probabilities float32 [N,3]', async () => {
      const session = await ort.InferenceSession.create(path.join(shortDir, 'model.onnx'), { executionProviders: ['cpu'] });
      try {
        assert.deepStrictEqual(session.inputNames, ['features']);
        assert.deepStrictEqual(session.outputNames, ['probabilities']);
        const [input] = session.inputMetadata;
        const [output] = session.outputMetadata;
        assert.ok(input.isTensor && output.isTensor);
        assert.deepStrictEqual([input.name, input.type, input.shape], ['features', 'float32', ['N', 4]]);
        assert.deepStrictEqual([output.name, output.type, output.shape], ['probabilities', 'float32', ['N', 3]]);
      } finally {
        await session.release();
      }
    });

    it('on the raw test measurements gives the probabilities and the y_pred of predictions.csv, rows summing to 1', async () => {
      const { rows } = readPredictions(path.join(shortDir, 'predictions.csv'));
      const table = penguins();
      const x = Float32Array.from(rows.flatMap(r => FEATURES.map(f => table[r.row_id][f] as number)));
      const session = await ort.InferenceSession.create(path.join(shortDir, 'model.onnx'), { executionProviders: ['cpu'] });
      try {
        const out = await session.run({ features: new ort.Tensor('float32', x, [rows.length, 4]) });
        const p = out.probabilities;
        assert.deepStrictEqual(p.dims, [rows.length, 3]);
        const data = p.data as Float32Array;
        rows.forEach((r, i) => {
          const probs = Array.from(data.subarray(3 * i, 3 * i + 3));
          assert.ok(probs.every(v => Number.isFinite(v) && v >= 0 && v <= 1), `row ${r.row_id}: ${probs.join(' ')}`);
          assert.ok(Math.abs(probs.reduce((a, b) => a + b, 0) - 1) < 1e-5, `row ${r.row_id} sums to ${probs.reduce((a, b) => a + b, 0)}`);
          assert.strictEqual(CLASSES[probs.indexOf(Math.max(...probs))], r.y_pred, `row ${r.row_id}`);
          probs.forEach((v, k) => assert.ok(Math.abs(v - r.scores[k]) < 1e-5, `row ${r.row_id} class ${CLASSES[k]}: onnx ${v} csv ${r.scores[k]}`));
        });
      } finally {
        await session.release();
      }
    });
  });

  describe('the example configs', () => {
    const configs = fs.readdirSync(experiments).filter(f => f.endsWith('.yaml')).sort();

    it('have distinct experiment ids and run [node, examples/penguins/train.js] from the workspace root', () => {
      assert.ok(configs.length >= 3, configs.join(', '));
      const ids = new Set<string>();
      for (const f of configs) {
        const exp = (YAML.parse(fs.readFileSync(path.join(experiments, f), 'utf8')) as { experiment: Rec }).experiment;
        assert.ok(!ids.has(exp.id as string), `duplicate id ${String(exp.id)}`);
        ids.add(exp.id as string);
        const run = exp.run as Rec;
        assert.deepStrictEqual(run.command, ['node', 'examples/penguins/train.js'], f);
        assert.strictEqual(run.cwd, '.', f);
        for (const file of (exp.data as Rec).files as string[]) assert.ok(fs.existsSync(path.join(root, file)), `${f}: data file ${file}`);
      }
    });

    // short-training.yaml under-trains on purpose (comparisons and gates need a worse model to find).
    const floor = (f: string) => (f === 'short-training.yaml' ? 0.75 : 0.9);
    for (const f of configs) {
      it(`${f}: trains to test accuracy and macro F1 ≥ ${floor(f)}, with its split sizes`, () => {
        const out = path.join(tmp, 'full-' + f);
        const run = ok(train(path.join(experiments, f), out));
        const exp = (YAML.parse(fs.readFileSync(path.join(experiments, f), 'utf8')) as { experiment: Rec }).experiment;
        const epochs = (exp.parameters as Rec).epochs as number;
        const acc = metrics(run, 'test_accuracy').get(epochs)!;
        const f1 = metrics(run, 'test_f1_macro').get(epochs)!;
        assert.ok(acc >= floor(f), `test accuracy ${acc}`);
        assert.ok(f1 >= floor(f), `test macro F1 ${f1}`);
        const s = JSON.parse(fs.readFileSync(path.join(out, 'metrics.json'), 'utf8'));
        const data = exp.data as Rec;
        assert.deepStrictEqual([s.data.train_size, s.data.val_size, s.data.test_size], [data.train_size, data.val_size, data.test_size]);
        assert.ok(run.ms < 30_000, `${run.ms} ms`);
      });
    }
  });

  describe('reproducibility', () => {
    it('the same config gives byte-identical predictions.csv, model.onnx and metrics.json', () => {
      const again = path.join(tmp, 'again');
      ok(train(shortConfig, again));
      for (const f of ['predictions.csv', 'model.onnx', 'metrics.json']) {
        assert.ok(fs.readFileSync(path.join(again, f)).equals(fs.readFileSync(path.join(shortDir, f))), f);
      }
    });

    it('another random_seed changes the probabilities but keeps the test rows (the split belongs to the data version)', () => {
      const cfg = variant(tmp, 'baseline.yaml', 'seed7.yaml', exp => {
        exp.random_seed = 7;
        (exp.parameters as Rec).epochs = EPOCHS;
      });
      const out = path.join(tmp, 'seed7');
      ok(train(cfg, out));
      const a = readPredictions(path.join(shortDir, 'predictions.csv')).rows;
      const b = readPredictions(path.join(out, 'predictions.csv')).rows;
      assert.deepStrictEqual(b.map(r => r.row_id), a.map(r => r.row_id));
      assert.notDeepStrictEqual(b.map(r => r.scores), a.map(r => r.scores));
    });
  });

  describe('bad configs and command lines: exit 2 and one clear message on stderr', () => {
    const cases: [string, string | null, RegExp][] = [
      ['no config at all', null, /no config: pass `--config <experiment\.yaml>` or set EDD_CONFIG/],
      ['a missing file', '<missing>', /cannot read the config .*: no such file/],
      ['invalid YAML', 'experiment: [\n', /is not valid YAML: .*line 2, column 1/],
      ['no experiment', 'foo: 1\n', /the top-level key `experiment` \(a mapping\) is missing/],
      ['no parameters', 'experiment:\n  id: x\n', /`experiment\.parameters` \(a mapping\) is missing/],
      ['learning_rate not a number', 'experiment:\n  parameters:\n    model_type: logistic_regression\n    learning_rate: fast\n    epochs: 2\n    batch_size: 8\n',
        /`experiment\.parameters\.learning_rate` must be a number, got the string "fast"/],
      ['learning_rate 0', 'experiment:\n  parameters:\n    model_type: logistic_regression\n    learning_rate: 0\n    epochs: 2\n    batch_size: 8\n',
        /`experiment\.parameters\.learning_rate` must be > 0, got 0/],
      ['epochs missing', 'experiment:\n  parameters:\n    model_type: logistic_regression\n    learning_rate: 0.1\n    batch_size: 8\n',
        /`experiment\.parameters\.epochs` is required/],
      ['fractional batch_size', 'experiment:\n  parameters:\n    model_type: logistic_regression\n    learning_rate: 0.1\n    epochs: 2\n    batch_size: 8.5\n',
        /`experiment\.parameters\.batch_size` must be an integer, got 8\.5/],
      ['negative weight_decay', 'experiment:\n  parameters:\n    model_type: logistic_regression\n    learning_rate: 0.1\n    epochs: 2\n    batch_size: 8\n    weight_decay: -1\n',
        /`experiment\.parameters\.weight_decay` must be ≥ 0, got -1/],
      ['negative seed', 'experiment:\n  random_seed: -3\n  parameters:\n    model_type: logistic_regression\n    learning_rate: 0.1\n    epochs: 2\n    batch_size: 8\n',
        /`experiment\.random_seed` must be ≥ 0, got -3/],
      ['another model type', 'experiment:\n  parameters:\n    model_type: random_forest\n    learning_rate: 0.1\n    epochs: 2\n    batch_size: 8\n',
        /`experiment\.parameters\.model_type` is the string "random_forest"; this script trains only "logistic_regression"/],
      ['batch larger than the training set', 'experiment:\n  parameters:\n    model_type: logistic_regression\n    learning_rate: 0.1\n    epochs: 2\n    batch_size: 500\n',
        /`experiment\.parameters\.batch_size` \(500\) is larger than the training set \(233 rows\)/],
      ['split larger than the data', 'experiment:\n  parameters:\n    model_type: logistic_regression\n    learning_rate: 0.1\n    epochs: 2\n    batch_size: 8\n  data:\n    train_size: 300\n    val_size: 50\n    test_size: 50\n',
        /train_size \+ val_size \+ test_size = 400, but the data set has only 333 complete rows/],
      ['partial split sizes', 'experiment:\n  parameters:\n    model_type: logistic_regression\n    learning_rate: 0.1\n    epochs: 2\n    batch_size: 8\n  data:\n    train_size: 100\n',
        /gives `train_size` but not all of train_size, val_size, test_size/],
    ];
    cases.forEach(([title, text, message], i) => {
      it(title, () => {
        const out = path.join(tmp, `bad-${i}`);
        let config = '';
        if (text === '<missing>') config = path.join(tmp, 'does-not-exist.yaml');
        else if (text !== null) config = writeConfig(tmp, `bad-${i}.yaml`, text);
        const run = train(config, out);
        assert.strictEqual(run.code, 2, run.stderr + run.stdout);
        assert.match(run.stderr, message);
        assert.match(run.stderr, /^penguins\/train\.js: config error: /);
        assert.ok(!run.stderr.includes('    at '), 'no stack trace for a config error');
        assert.ok(!run.records.some(r => 'metric' in r || 'artifact' in r), 'no metric or artifact reported');
        assert.ok(!fs.existsSync(out), 'no artifact directory');
      });
    });

    it('an unknown argument', () => {
      const run = train(shortConfig, path.join(tmp, 'bad-arg'), { args: ['--epochs', '3'] });
      assert.strictEqual(run.code, 2);
      assert.match(run.stderr, /unknown argument `--epochs`/);
    });

    it('--config overrides $EDD_CONFIG', () => {
      const run = ok(train(path.join(tmp, 'does-not-exist.yaml'), path.join(tmp, 'by-arg'), { args: ['--config', shortConfig] }));
      assert.strictEqual(metrics(run, 'loss').size, EPOCHS);
    });
  });
});
