import * as assert from 'assert';
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ConfigNotRunnableError, environmentDifferences, executeRun, metricDifferences, planReproduction } from '../../src/core/runs';
import { RunStore } from '../../src/core/store';

const root = path.resolve(__dirname, '../../..');
const fixture = path.join(root, 'test/fixtures/workspace');

/** A fresh workspace with the runnable fixture configs and their scripts. */
function workspace(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edd-runs-'));
  fs.mkdirSync(path.join(dir, 'experiments'));
  for (const f of ['quick.yaml', 'slow.yaml']) fs.copyFileSync(path.join(fixture, 'experiments', f), path.join(dir, 'experiments', f));
  fs.cpSync(path.join(fixture, 'scripts'), path.join(dir, 'scripts'), { recursive: true });
  return dir;
}

function cli(args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise(resolve => {
    execFile(process.execPath, [path.join(root, 'dist/cli.js'), ...args], { cwd }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

describe('runs: executeRun records a real run in a real store', function () {
  this.timeout(60000);
  let dir: string;
  let store: RunStore;
  beforeEach(async () => {
    dir = workspace();
    store = await RunStore.open(path.join(dir, '.edd/edd.sqlite'));
  });
  afterEach(async () => {
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('records status, params, metrics per step, artifacts, environment, log and outcome', async () => {
    const r = await executeRun({ store, workspaceRoot: dir, configPath: 'experiments/quick.yaml' });
    assert.strictEqual(r.run.status, 'finished');
    assert.strictEqual(r.run.exitCode, 0);
    assert.deepStrictEqual(r.finalMetrics, { loss: 1 / 3, val_accuracy: 0.8 });
    const run = store.getRun(r.run.id)!;
    assert.strictEqual(run.params.optimizer, 'sgd', 'param records join the config params');
    assert.strictEqual(run.params.learning_rate, 0.1);
    assert.strictEqual(run.seed, 42);
    assert.match(run.configSnapshot!, /exp_20250110_001/);
    assert.ok(run.durationMs! > 0 && run.peakMemoryBytes! > 0);
    assert.strictEqual((run.environment as { node: string }).node, process.version);
    assert.deepStrictEqual(store.getMetrics(run.id, 'val_accuracy').map(p => [p.step, p.value]), [[1, 0.6], [2, 0.7], [3, 0.8]]);
    const [artifact] = store.getArtifacts(run.id);
    assert.strictEqual(artifact.kind, null, 'model.bin is not an ONNX model: recorded as a plain artifact');
    assert.match(r.warnings.join('\n'), /model\.bin was reported as a model but is not an ONNX model/);
    assert.strictEqual(artifact.size, 18);
    assert.match(artifact.sha256!, /^[0-9a-f]{64}$/);
    assert.match(fs.readFileSync(path.join(dir, run.logPath!), 'utf8'), /epoch 3/);
    // saved: another process opening the file sees the run
    const other = await RunStore.open(path.join(dir, '.edd/edd.sqlite'), { readOnly: true });
    assert.strictEqual(other.getRun(run.id)?.status, 'finished');
    await other.close();
  });

  it('cancels through an AbortSignal and records `cancelled`', async () => {
    const controller = new AbortController();
    const r = await executeRun({
      store, workspaceRoot: dir, configPath: 'experiments/slow.yaml', signal: controller.signal,
      onEvent: e => { if (e.type === 'metric' && e.step === 3) controller.abort(); },
    });
    assert.strictEqual(r.run.status, 'cancelled');
    assert.ok(store.getMetrics(r.run.id, 'loss').length >= 3, 'metrics before the cancel are kept');
  });

  it('records a crash as `failed` with the tail of the log', async () => {
    fs.writeFileSync(path.join(dir, 'scripts/crash.js'), 'console.log("about to fail"); process.exit(3);\n');
    fs.writeFileSync(path.join(dir, 'experiments/crash.yaml'), fs.readFileSync(path.join(dir, 'experiments/quick.yaml'), 'utf8')
      .replace('exp_20250110_001', 'exp_20250110_009').replace('scripts/train-quick.js', 'scripts/crash.js'));
    const r = await executeRun({ store, workspaceRoot: dir, configPath: 'experiments/crash.yaml' });
    assert.strictEqual(r.run.status, 'failed');
    assert.strictEqual(r.run.exitCode, 3);
    assert.match(r.run.error!, /about to fail/);
  });

  it('refuses a config with errors or without run.command, recording nothing', async () => {
    fs.writeFileSync(path.join(dir, 'experiments/bad.yaml'), 'experiment:\n  id: "exp_20250110_003"\n  name: n\n  hypotesis: h\n  parameters:\n    model_type: m\n');
    await assert.rejects(executeRun({ store, workspaceRoot: dir, configPath: 'experiments/bad.yaml' }), (e: Error) => e instanceof ConfigNotRunnableError && /bad\.yaml:4:3 unknown-key/.test(e.message));
    fs.writeFileSync(path.join(dir, 'experiments/norun.yaml'), 'experiment:\n  id: "exp_20250110_004"\n  name: n\n  hypothesis: h\n  parameters:\n    model_type: m\n');
    await assert.rejects(executeRun({ store, workspaceRoot: dir, configPath: 'experiments/norun.yaml' }), /has no `experiment\.run\.command`/);
    assert.deepStrictEqual(store.listRuns({}), []);
  });

  it('plans a reproduction: shows the edited config and the data fingerprint change, then runs the snapshot', async () => {
    fs.writeFileSync(path.join(dir, 'data.csv'), 'a,b\n1,2\n');
    const cfg = path.join(dir, 'experiments/quick.yaml');
    fs.writeFileSync(cfg, fs.readFileSync(cfg, 'utf8').replace('  run:', '  data:\n    files: [data.csv]\n  run:'));
    const first = await executeRun({ store, workspaceRoot: dir, configPath: 'experiments/quick.yaml' });
    assert.match(first.run.datasetFingerprint!, /^[0-9a-f]{64}$/);
    fs.writeFileSync(path.join(dir, 'data.csv'), 'a,b\n1,3\n');
    fs.writeFileSync(cfg, fs.readFileSync(cfg, 'utf8').replace('learning_rate: 0.1', 'learning_rate: 0.2'));
    const plan = await planReproduction(store, dir, first.run.id.slice(0, 8));
    assert.deepStrictEqual(plan.differences.map(d => d.kind).sort(), ['config-file', 'data']);
    const again = await executeRun({ store, workspaceRoot: dir, configPath: plan.original.configPath!, configText: plan.original.configSnapshot!, extraParams: { reproduces: first.run.id } });
    assert.strictEqual(store.getRun(again.run.id)!.params.learning_rate, 0.1, 'the snapshot ran, not the edited file');
    assert.deepStrictEqual(metricDifferences(first.finalMetrics, again.finalMetrics).map(d => d.delta), [0, 0]);
  });

  it('environmentDifferences names git, packages and versions that changed', () => {
    const original = { gitCommit: 'aaa', gitDirty: false, datasetFingerprint: 'f1', environment: { node: 'v20.1.0', os: { platform: 'linux', release: '6.1' }, python: { version: '3.11.4', packages: { numpy: '1.26.0', torch: '2.1.0' } } } };
    const now = { node: 'v20.1.0', os: { platform: 'linux', release: '6.1', arch: 'x64' }, python: { version: '3.11.4', executable: 'python3', packages: { numpy: '2.0.0', torch: '2.1.0', pandas: '2.2.0' } }, git: { commit: 'bbb', branch: 'main', dirty: true, dirtyFiles: ['train.py'] } };
    const d = environmentDifferences(original as never, now as never, 'f1');
    assert.deepStrictEqual(d.map(x => `${x.kind}:${x.original}→${x.now}`), ['git-commit:aaa→bbb', 'git-dirty:(none)→train.py', 'package:1.26.0→2.0.0', 'package:(none)→2.2.0']);
  });
});

describe('edd run / edd runs (the CLI, as a real process)', function () {
  this.timeout(60000);
  let dir: string;
  before(() => {
    dir = workspace();
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('edd run prints the run and its final metrics; exit code 0', async () => {
    const r = await cli(['run', 'experiments/quick.yaml'], dir);
    assert.strictEqual(r.code, 0, r.stderr);
    assert.match(r.stdout, /^[0-9a-f-]{36} exp_20250110_001 finished \d+\.\d s\n {2}loss = 0\.3333\n {2}val_accuracy = 0\.8000\n$/);
    assert.match(r.stderr, /epoch 2/, 'the training log streams to stderr');
  });

  it('edd run --json; exit code is the training\'s', async () => {
    fs.writeFileSync(path.join(dir, 'scripts/exit7.js'), 'process.exit(7);\n');
    fs.writeFileSync(path.join(dir, 'experiments/exit7.yaml'), fs.readFileSync(path.join(dir, 'experiments/quick.yaml'), 'utf8')
      .replace('exp_20250110_001', 'exp_20250110_007').replace('scripts/train-quick.js', 'scripts/exit7.js'));
    const r = await cli(['run', 'experiments/exit7.yaml', '--json'], dir);
    assert.strictEqual(r.code, 7);
    const out = JSON.parse(r.stdout);
    assert.strictEqual(out.status, 'failed');
    assert.strictEqual(out.exit_code, 7);
    assert.deepStrictEqual(Object.keys(out), ['run_id', 'experiment_id', 'status', 'exit_code', 'duration_s', 'peak_memory_mb', 'final_metrics', 'artifacts', 'error', 'warnings']);
  });

  it('edd runs lists newest first, filters by experiment, and --json has the documented keys', async () => {
    const text = await cli(['runs'], dir);
    assert.strictEqual(text.code, 0);
    const lines = text.stdout.trim().split('\n');
    assert.strictEqual(lines.length, 2);
    assert.match(lines[0], /exp_20250110_007 {2}failed/);
    const json = JSON.parse((await cli(['runs', '--experiment', 'exp_20250110_001', '--json'], dir)).stdout);
    assert.strictEqual(json.length, 1);
    assert.deepStrictEqual(Object.keys(json[0]), ['run_id', 'experiment_id', 'status', 'started_at', 'duration_s', 'exit_code', 'seed', 'sweep_id', 'trial_index', 'final_metrics', 'origin', 'external_id']);
    assert.strictEqual(json[0].final_metrics.val_accuracy, 0.8);
  });

  it('edd run --reproduce RUN_ID prints the differences and the metric comparison', async () => {
    const [first] = JSON.parse((await cli(['runs', '--experiment', 'exp_20250110_001', '--json'], dir)).stdout);
    const r = await cli(['run', '--reproduce', first.run_id.slice(0, 8), '--json'], dir);
    assert.strictEqual(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.strictEqual(out.reproduces, first.run_id);
    assert.deepStrictEqual(out.metric_differences.map((d: { key: string; delta: number }) => `${d.key}:${d.delta}`), ['loss:0', 'val_accuracy:0']);
  });

  it('usage errors exit 2: no config, a config with errors, an unknown run id', async () => {
    assert.strictEqual((await cli(['run'], dir)).code, 2);
    fs.writeFileSync(path.join(dir, 'experiments/typo.yaml'), 'experiment:\n  id: "exp_20250110_005"\n  name: n\n  hypotesis: h\n  parameters:\n    model_type: m\n');
    const bad = await cli(['run', 'experiments/typo.yaml'], dir);
    assert.strictEqual(bad.code, 2);
    assert.match(bad.stderr, /experiments\/typo\.yaml:4:3 unknown-key/);
    const unknown = await cli(['run', '--reproduce', 'ffffffff'], dir);
    assert.strictEqual(unknown.code, 2);
    assert.doesNotMatch(unknown.stderr, /at .*\.js:\d+/, 'a clear message, not a stack trace');
    assert.match(unknown.stderr, /No run with id ffffffff/);
  });
});
