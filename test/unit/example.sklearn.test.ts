/**
 * The scikit-learn example (examples/penguins-sklearn) in a copy of the repository's relevant parts: train.py run by
 * `edd run` with the project's Python test environment (.venv), the run as the store records it, and the exported
 * model.onnx giving the same probabilities in onnxruntime-node (what the gate runs) as in onnxruntime for Python.
 * Without .venv (`npm test` creates it before the unit tier) these tests fail, saying how to make it; the demo's own
 * answer to a missing .venv is tested always.
 */
import * as assert from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as ort from 'onnxruntime-node';
import { RunStore } from '../../src/core/store';

const root = path.resolve(__dirname, '../../..');
const cli = path.join(root, 'dist/cli.js');
const example = 'examples/penguins-sklearn';
const venvPython = path.join(root, '.venv', 'bin', 'python');
const CLASSES = ['Adelie', 'Chinstrap', 'Gentoo'];
const FEATURES = ['bill_length_mm', 'bill_depth_mm', 'flipper_length_mm', 'body_mass_g'];

/** A workspace with the example, the Python client, the built CLI and (when `venv`) a link to the test .venv. */
function workspace(venv: boolean): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edd-sklearn-'));
  fs.cpSync(path.join(root, example), path.join(dir, example), { recursive: true, filter: f => !/(__pycache__|[\\/]out)$/.test(f) });
  fs.copyFileSync(path.join(root, 'examples', 'demo-cli.js'), path.join(dir, 'examples', 'demo-cli.js')); // the examples' shared edd() helper
  fs.cpSync(path.join(root, 'python', 'edd'), path.join(dir, 'python', 'edd'), { recursive: true, filter: f => !f.endsWith('__pycache__') });
  fs.symlinkSync(fs.realpathSync(path.join(root, 'node_modules')), path.join(dir, 'node_modules'), 'dir');
  fs.mkdirSync(path.join(dir, 'dist'));
  for (const f of fs.readdirSync(path.join(root, 'dist'))) {
    if (f.endsWith('.js') || f.endsWith('.wasm')) fs.copyFileSync(path.join(root, 'dist', f), path.join(dir, 'dist', f));
  }
  fs.cpSync(path.join(root, 'dist', 'cli'), path.join(dir, 'dist', 'cli'), { recursive: true }); // the CLI's chunks
  if (venv) fs.symlinkSync(fs.realpathSync(path.join(root, '.venv')), path.join(dir, '.venv'), 'dir');
  return dir;
}

/** The evaluation rows of the gate (data/eval.csv) as the float32 matrix the gate feeds the model. */
function evalMatrix(): { matrix: Float32Array; rows: number; labels: string[] } {
  const [header, ...lines] = fs.readFileSync(path.join(root, example, 'data', 'eval.csv'), 'utf8').trim().split('\n');
  const names = header.split(',');
  const cols = FEATURES.map(f => names.indexOf(f));
  const matrix = new Float32Array(lines.length * FEATURES.length);
  lines.forEach((line, i) => {
    const cells = line.split(',');
    cols.forEach((c, j) => { matrix[i * FEATURES.length + j] = cells[c] === '' ? NaN : Number(cells[c]); });
  });
  return { matrix, rows: lines.length, labels: lines.map(l => l.split(',')[names.indexOf('species')]) };
}

describe('example: penguins with scikit-learn (examples/penguins-sklearn)', function () {
  this.timeout(240_000);

  it('npm start\'s sklearn part says how to create the Python environment when .venv is missing, and exits 0', () => {
    const dir = workspace(false);
    try {
      const r = spawnSync(process.execPath, [path.join(example, 'demo.js')], { cwd: dir, encoding: 'utf8' });
      assert.strictEqual(r.status, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /penguins-sklearn: skipped \(no \.venv\/bin\/python\): `npm test` or `node test\/harness\/setup\.js` creates the Python environment/);
      assert.ok(!fs.existsSync(path.join(dir, '.edd')), 'nothing was run');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('its configs and policy validate', () => {
    const r = spawnSync(process.execPath, [cli, 'validate', example], { cwd: root, encoding: 'utf8' });
    assert.strictEqual(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout + r.stderr, /5 file\(s\) checked: 0 error\(s\), 0 warning\(s\)/);
  });

  describe('trained by `edd run` with the Python client', function () {
    let dir: string;
    let run: { run_id: string; status: string; final_metrics: Record<string, number>; artifacts: Array<{ path: string; kind: string | null; sha256: string | null }> };
    let model: string;

    before(function () {
      assert.ok(fs.existsSync(venvPython), `${venvPython} does not exist: `+"`npm test` (or `node test/harness/setup.js`) creates the Python test environment");
      dir = workspace(true);
      const r = spawnSync(process.execPath, [cli, 'run', `${example}/experiments/gradient-boosting.yaml`, '--json'], { cwd: dir, encoding: 'utf8' });
      assert.strictEqual(r.status, 0, `edd run failed (exit ${r.status}):\n${r.stderr}\n${r.stdout}`);
      run = JSON.parse(r.stdout);
      const artifact = run.artifacts.find(a => a.kind === 'model');
      assert.ok(artifact, `no model artifact in ${JSON.stringify(run.artifacts)}`);
      model = path.resolve(dir, artifact.path);
    });
    after(() => {
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    it('records the run: params, final metrics, the boosting curve, the seed and its artifacts', async () => {
      assert.strictEqual(run.status, 'finished');
      const m = run.final_metrics;
      for (const key of ['train', 'val', 'test'].flatMap(p => [`${p}_accuracy`, `${p}_f1_macro`, `${p}_log_loss`])) {
        assert.ok(Number.isFinite(m[key]), `final metric ${key}: ${m[key]}`);
      }
      assert.ok(m.val_accuracy >= 0.9 && m.test_f1_macro >= 0.9, `penguins are easy: ${JSON.stringify(m)}`);
      assert.ok(m.test_log_loss > 0 && m.test_log_loss < 0.5);
      assert.deepStrictEqual(run.artifacts.map(a => [path.basename(a.path), a.kind]), [['model.onnx', 'model'], ['predictions.csv', 'predictions'], ['metrics.json', 'metrics']]);
      assert.ok(run.artifacts.every(a => /^[0-9a-f]{64}$/.test(a.sha256 ?? '')), 'every artifact is hashed');

      const store = await RunStore.open(path.join(dir, '.edd', 'edd.sqlite'), { readOnly: true });
      try {
        const rec = store.getRun(run.run_id)!;
        assert.strictEqual(rec.seed, 1);
        assert.strictEqual(rec.experimentId, 'exp_20250301_002');
        // Params from the config, then the script's own records (the effective settings and the seed it used).
        assert.deepStrictEqual(
          [rec.params.model_type, rec.params.n_estimators, rec.params.learning_rate, rec.params.max_depth, rec.params.subsample, rec.params.impute, rec.params.seed],
          ['gradient_boosting', 60, 0.1, 2, 0.8, 'median', 1],
        );
        assert.ok(!('failure' in rec.params), 'no failure recorded');
        // One point per boosting stage, steps 1…60; the last one is the final value.
        const curve = store.getMetrics(run.run_id, 'val_log_loss');
        assert.deepStrictEqual(curve.map(p => p.step), Array.from({ length: 60 }, (_, i) => i + 1));
        assert.ok(curve[0].value > curve[59].value, `the validation loss falls over the stages: ${curve[0].value} → ${curve[59].value}`);
        assert.strictEqual(curve[59].value, m.val_log_loss);
        assert.strictEqual(store.getMetrics(run.run_id, 'train_loss').length, 60);
        assert.strictEqual((rec.environment as { python?: { packages: Record<string, string> } }).python?.packages['scikit-learn'], '1.9.1');
      } finally {
        await store.close();
      }

      // predictions.csv: the 70 test penguins (the gate's eval rows), scored by the exported model.
      const preds = fs.readFileSync(path.join(path.dirname(model), 'predictions.csv'), 'utf8').trim().split('\n');
      assert.strictEqual(preds[0], 'row_id,y_true,y_pred,score_Adelie,score_Chinstrap,score_Gentoo,sex,island');
      assert.strictEqual(preds.length, 71);
      const evalIds = fs.readFileSync(path.join(root, example, 'data', 'eval.csv'), 'utf8').trim().split('\n').slice(1).map(l => l.split(',')[0]);
      assert.deepStrictEqual(preds.slice(1).map(l => l.split(',')[0]), evalIds);
    });

    it('model.onnx: one float32 input [N, 4], probabilities [N, 3] (no ZipMap), class names in its metadata; the gate passes it', () => {
      const r = spawnSync(process.execPath, [cli, 'gate', `${example}/penguins-sklearn.policy.yaml`, '--run', run.run_id, '--json', '--no-record'], { cwd: dir, encoding: 'utf8' });
      assert.strictEqual(r.status, 0, r.stdout + r.stderr);
      const report = JSON.parse(r.stdout) as { checks: Array<{ id: string; status: string }> };
      assert.ok(report.checks.length >= 9 && report.checks.every(c => c.status === 'pass'), JSON.stringify(report.checks.map(c => [c.id, c.status])));
      assert.match(fs.readFileSync(model).toString('latin1'), /class_names.{1,4}\["Adelie", "Chinstrap", "Gentoo"\]/s);
    });

    it('gives the same probabilities in onnxruntime-node as in onnxruntime for Python, within 1e-5, on the evaluation rows', async () => {
      const { matrix, rows, labels } = evalMatrix();
      const session = await ort.InferenceSession.create(model, { executionProviders: ['cpu'] });
      let fromNode: Float32Array;
      try {
        assert.deepStrictEqual(session.inputNames, ['features']);
        assert.ok(session.outputNames.includes('probabilities'), session.outputNames.join(', '));
        const out = await session.run({ features: new ort.Tensor('float32', matrix, [rows, FEATURES.length]) }, ['probabilities']);
        assert.deepStrictEqual(out.probabilities.dims, [rows, 3]);
        fromNode = out.probabilities.data as Float32Array;
      } finally {
        await session.release();
      }

      // The very same float32 bytes go to Python, and its float32 answer comes back as bytes: no text rounding.
      const input = path.join(dir, 'eval.f32');
      const output = path.join(dir, 'probabilities.f32');
      fs.writeFileSync(input, Buffer.from(matrix.buffer, matrix.byteOffset, matrix.byteLength));
      const script = [
        'import sys, numpy as np, onnxruntime as ort',
        's = ort.InferenceSession(sys.argv[1], providers=["CPUExecutionProvider"])',
        'x = np.fromfile(sys.argv[2], dtype="<f4").reshape(-1, 4)',
        'p = s.run(["probabilities"], {"features": x})[0]',
        'np.ascontiguousarray(p, dtype="<f4").tofile(sys.argv[3])',
        'print(ort.__version__, p.shape)',
      ].join('\n');
      const py = spawnSync(venvPython, ['-c', script, model, input, output], { encoding: 'utf8' });
      assert.strictEqual(py.status, 0, py.stderr);
      const b = fs.readFileSync(output);
      const fromPython = new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
      assert.strictEqual(fromPython.length, rows * 3, py.stdout);

      let worst = 0;
      for (let i = 0; i < fromNode.length; i++) worst = Math.max(worst, Math.abs(fromNode[i] - fromPython[i]));
      assert.ok(worst <= 1e-5, `largest difference ${worst} over ${rows} rows`);
      // And they are real predictions, not two copies of nothing: the argmax matches the label on most rows.
      const correct = labels.filter((label, i) => CLASSES[[0, 1, 2].reduce((a, k) => (fromNode[i * 3 + k] > fromNode[i * 3 + a] ? k : a), 0)] === label).length;
      assert.ok(correct / rows >= 0.9, `${correct}/${rows} rows predicted right`);
    });
  });
});
