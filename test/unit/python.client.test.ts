import * as assert from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { executeRun } from '../../src/core/runs';
import { RunStore } from '../../src/core/store';

// The Python client (python/edd, standard library only) inside a real run: `edd run` starts python3, the script
// reads its config with edd.config() and reports through the client; the store has what it reported.
const root = path.resolve(__dirname, '../../..');
const python = process.env.EDD_PYTHON || 'python3';
const hasPython = spawnSync(python, ['-c', 'import sys; assert sys.version_info >= (3, 9)']).status === 0;

const TRAIN = `
import os, sys
import edd

cfg = edd.config()
seed = edd.seed_everything()
with edd.run():
    edd.log_param("model_type_seen", cfg.parameters.model_type)
    edd.log_param("trees", cfg.parameters.get("n_estimators"))
    for epoch in range(cfg.parameters.epochs):
        edd.log_metrics({"loss": 1.0 / (epoch + 1), "val_accuracy": 0.5 + epoch / 10}, step=epoch)
        edd.progress((epoch + 1) / cfg.parameters.epochs)
    os.makedirs("out", exist_ok=True)
    with open("out/model.txt", "w") as f:
        f.write("weights")
    edd.log_artifact("out/model.txt", kind="weights")
    if cfg.parameters.get("explode"):
        raise RuntimeError("diverged at epoch %d" % cfg.parameters.epochs)
`;

function config(id: string, extra: string): string {
  return `experiment:
  id: "${id}"
  name: "py"
  hypothesis: "the client reports"
  random_seed: 11
  parameters:
    model_type: "random_forest"
    epochs: 4
    n_estimators: 300
${extra}
  run:
    command: [${JSON.stringify(python)}, train.py]
    env: { PYTHONPATH: ${JSON.stringify(path.join(root, 'python'))}, PYTHONHASHSEED: "11" }
    timeout: 60
`;
}

describe('python client: a real run of a Python script through edd', function () {
  this.timeout(60000);
  let dir: string;
  let store: RunStore;
  before(function () {
    assert.ok(hasPython, `${python}: no Python ≥ 3.9 (set EDD_PYTHON); npm test's setup checks for one`);
  });
  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edd-py-'));
    fs.writeFileSync(path.join(dir, 'train.py'), TRAIN);
    store = await RunStore.open(path.join(dir, '.edd/edd.sqlite'));
  });
  afterEach(async () => {
    await store?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('edd.config() gives the typed config; metrics per step, params, seed and artifacts are recorded', async () => {
    fs.writeFileSync(path.join(dir, 'ok.yaml'), config('exp_20260101_001', ''));
    const r = await executeRun({ store, workspaceRoot: dir, configPath: 'ok.yaml' });
    assert.strictEqual(r.run.status, 'finished', r.run.error ?? '');
    assert.deepStrictEqual(r.protocolErrors, []);
    const run = store.getRun(r.run.id)!;
    assert.strictEqual(run.params.model_type_seen, 'random_forest');
    assert.strictEqual(run.params.trees, 300, 'a hyperparameter outside the schema reaches the script');
    assert.strictEqual(run.params.seed, 11, 'seed_everything took the config random_seed');
    assert.deepStrictEqual(store.getMetrics(run.id, 'val_accuracy').map(p => [p.step, p.value]), [[0, 0.5], [1, 0.6], [2, 0.7], [3, 0.8]]);
    const [artifact] = store.getArtifacts(run.id);
    assert.strictEqual(artifact.kind, 'weights');
    assert.strictEqual(artifact.size, 7);
  });

  it('an exception inside edd.run() ends the run failed with the failure and its traceback recorded', async () => {
    fs.writeFileSync(path.join(dir, 'bad.yaml'), config('exp_20260101_002', '    explode: true'));
    const r = await executeRun({ store, workspaceRoot: dir, configPath: 'bad.yaml' });
    assert.strictEqual(r.run.status, 'failed');
    const run = store.getRun(r.run.id)!;
    assert.deepStrictEqual(run.params.failure, { type: 'RuntimeError', message: 'diverged at epoch 4' });
    const tb = store.getArtifacts(run.id).find(a => a.kind === 'traceback');
    assert.ok(tb, 'the traceback is an artifact');
    const text = fs.readFileSync(path.join(dir, tb.path), 'utf8');
    assert.match(text, /Traceback \(most recent call last\)/);
    assert.match(text, /RuntimeError: diverged at epoch 4/);
    assert.strictEqual(store.getMetrics(run.id, 'loss').length, 4, 'what was logged before the failure is kept');
  });
});

describe('python client: pytest suite (python/tests)', function () {
  this.timeout(120000);
  it('passes in the project test environment (.venv)', function () {
    const venvPython = path.join(root, '.venv', 'bin', 'python');
    assert.ok(fs.existsSync(venvPython), `${venvPython} is missing: npm test (or node test/harness/setup.js) makes it first`);
    const r = spawnSync(venvPython, ['-m', 'pytest', '-q', '-p', 'no:cacheprovider', path.join(root, 'python', 'tests')], { encoding: 'utf8', cwd: root });
    assert.strictEqual(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /\d+ passed/);
  });
});
