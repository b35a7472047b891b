import * as assert from 'assert';
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { buildComparison, goalOf, suggestVerdict } from '../../src/core/compare/build';
import { comparisonJson, comparisonMarkdown } from '../../src/core/compare/render';
import { readPredictions, PredictionsError } from '../../src/core/compare/predictions';
import { significanceOnPredictions } from '../../src/core/compare/significance';
import { welchTTest } from '../../src/core/stats/ttest';
import { RunStore } from '../../src/core/store';

const root = path.resolve(__dirname, '../../..');
const model = path.join(root, 'test/fixtures/workspace/models/penguins.onnx');

/** Predictions of 100 examples: the run is right on example i when i < correct (so a better run is right on a superset). */
function predictionsCsv(correct: number): string {
  const rows = ['row_id,y_true,y_pred,score_yes,score_no'];
  for (let i = 0; i < 100; i++) {
    const truth = i % 2 ? 'yes' : 'no';
    const pred = i < correct ? truth : truth === 'yes' ? 'no' : 'yes';
    rows.push(`${i},${truth},${pred},${pred === 'yes' ? 0.9 : 0.1},${pred === 'yes' ? 0.1 : 0.9}`);
  }
  return rows.join('\n') + '\n';
}

describe('compare: the comparison model from a real store', function () {
  this.timeout(60000);
  let dir: string;
  let store: RunStore;
  const ids: Record<string, string> = {};

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edd-compare-'));
    store = await RunStore.open(path.join(dir, '.edd/edd.sqlite'));
    // Two designs, three seeds each: B is better on val_accuracy by about 0.05, and has a lower loss.
    const accA = [0.81, 0.83, 0.82];
    const accB = [0.87, 0.88, 0.86];
    for (const [exp, accs, lr] of [['exp_a', accA, 0.1], ['exp_b', accB, 0.3]] as const) {
      accs.forEach((acc, seed) => {
        const r = store.createRun({ experimentId: exp, status: 'finished', seed, params: { learning_rate: lr, epochs: 3, optimizer: 'sgd' }, durationMs: 1000 * (seed + 1), peakMemoryBytes: 50 * 1048576 });
        ids[`${exp}_${seed}`] = r.id;
        store.addMetrics([1, 2, 3].flatMap(step => [
          { runId: r.id, key: 'val_accuracy', step, value: acc - (3 - step) * 0.01 },
          { runId: r.id, key: 'loss', step, value: (lr === 0.1 ? 0.6 : 0.4) / step + seed * 0.001 },
        ]));
        // Only seed 0 of each has predictions and a model.
        if (seed === 0) {
          const pred = path.join(dir, `${exp}-predictions.csv`);
          fs.writeFileSync(pred, predictionsCsv(exp === 'exp_a' ? 70 : 90));
          store.addArtifact({ runId: r.id, path: path.basename(pred), kind: 'predictions', sha256: null, size: null });
          fs.copyFileSync(model, path.join(dir, `${exp}.onnx`));
          store.addArtifact({ runId: r.id, path: `${exp}.onnx`, kind: 'model', sha256: null, size: null });
        }
      });
    }
    await store.save();
  });
  after(async () => {
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('infers whether higher or lower is better from the metric name, and takes overrides', () => {
    assert.strictEqual(goalOf('val_loss'), 'min');
    assert.strictEqual(goalOf('latency_ms'), 'min');
    assert.strictEqual(goalOf('val_accuracy'), 'max');
    assert.strictEqual(goalOf('val_accuracy', { val_accuracy: 'min' }), 'min');
  });

  it('puts params side by side and marks what differs', async () => {
    const c = await buildComparison(store, ['exp_a', 'exp_b'], { workspaceRoot: dir, measureLatency: false });
    assert.strictEqual(c.runs.length, 6);
    const byKey = Object.fromEntries(c.params.map(p => [p.key, p]));
    assert.strictEqual(byKey.learning_rate.differs, true);
    assert.strictEqual(byKey.optimizer.differs, false);
    assert.deepStrictEqual(byKey.learning_rate.values, ['0.1', '0.1', '0.1', '0.3', '0.3', '0.3']);
  });

  it('gives final, best and last values, deltas to the baseline and the best run per metric', async () => {
    const c = await buildComparison(store, [ids.exp_a_0, ids.exp_b_0], { workspaceRoot: dir, measureLatency: false });
    const acc = c.metrics.find(m => m.key === 'val_accuracy')!;
    assert.deepStrictEqual(acc.final, [0.81, 0.87]);
    assert.deepStrictEqual(acc.best, [0.81, 0.87]);
    assert.ok(Math.abs(acc.delta[1]! - 0.06) < 1e-12 && acc.delta[0] === 0);
    assert.strictEqual(acc.bestRun, 1);
    const loss = c.metrics.find(m => m.key === 'loss')!;
    assert.strictEqual(loss.goal, 'min');
    assert.strictEqual(loss.bestRun, 1, 'the lower loss wins');
    assert.ok(c.curveMetrics.includes('val_accuracy'));
    const withBaseline = await buildComparison(store, [ids.exp_a_0, ids.exp_b_0], { workspaceRoot: dir, measureLatency: false, baseline: ids.exp_b_0 });
    assert.strictEqual(withBaseline.baselineIndex, 1);
    assert.ok(Math.abs(withBaseline.metrics.find(m => m.key === 'val_accuracy')!.delta[0]! + 0.06) < 1e-12);
  });

  it('tests two experiments with Welch\'s t across seeds (the same numbers as welchTTest)', async () => {
    const c = await buildComparison(store, ['exp_a', 'exp_b'], { workspaceRoot: dir, measureLatency: false });
    const w = c.significance.find(s => s.test === 'welch_t' && s.metric === 'val_accuracy')!;
    const direct = welchTTest([0.87, 0.88, 0.86], [0.81, 0.83, 0.82]);
    assert.ok(Math.abs(w.statistic! - direct.statistic) < 1e-12);
    assert.ok(Math.abs(w.p_value! - direct.pValue) < 1e-12);
    assert.deepStrictEqual(w.n, [3, 3]);
    assert.strictEqual(w.outcome, 'better');
    assert.match(w.verdict, /^B better than A, p = 0\.00\d$/);
    const loss = c.significance.find(s => s.test === 'welch_t' && s.metric === 'loss')!;
    assert.strictEqual(loss.outcome, 'better', 'a lower loss is better');
  });

  it('tests two runs with predictions: McNemar, paired bootstrap (seeded), Wilson intervals, recomputed metrics', async () => {
    const c = await buildComparison(store, [ids.exp_a_0, ids.exp_b_0], { workspaceRoot: dir, measureLatency: false, seed: 7 });
    const m = c.significance.find(s => s.test.startsWith('mcnemar'))!;
    // 20 examples only B gets right, none only A: exact McNemar p = 2 * 0.5^20 (statsmodels mcnemar(exact=True)).
    assert.strictEqual(m.test, 'mcnemar_exact');
    assert.deepStrictEqual(m.discordant, [0, 20]);
    assert.ok(Math.abs(m.p_value! - 2 * 0.5 ** 20) < 1e-15);
    assert.strictEqual(m.outcome, 'better');
    // the exact p-value decides; the corrected chi-square is beside it: (|0 − 20| − 1)²/20 = 18.05
    assert.strictEqual(m.decided_by, 'exact');
    assert.strictEqual(m.p_value_exact, m.p_value);
    assert.ok(Math.abs(m.chi2_statistic! - 18.05) < 1e-12);
    assert.ok(m.p_value_chi2! > 0 && m.p_value_chi2! < 1e-4);
    const boot = c.significance.find(s => s.test === 'paired_bootstrap')!;
    assert.ok(Math.abs(boot.difference! - 0.2) < 1e-12);
    assert.ok(boot.ci_low! > 0 && boot.ci_high! <= 0.4);
    const again = await buildComparison(store, [ids.exp_a_0, ids.exp_b_0], { workspaceRoot: dir, measureLatency: false, seed: 7 });
    assert.deepStrictEqual(again.significance.find(s => s.test === 'paired_bootstrap'), boot, 'same seed, same interval');
    const wilson = c.intervals.find(i => i.runId === ids.exp_b_0)!;
    assert.strictEqual(wilson.rate, 0.9);
    assert.ok(wilson.wilson_low < 0.9 && wilson.wilson_high > 0.9);
    const ev = c.evaluation!.find(e => e.runId === ids.exp_b_0)!;
    assert.strictEqual(ev.accuracy, 0.9);
    assert.ok(ev.roc_auc! > 0.5);
  });

  it('McNemar decides on the exact p-value at every size, with the chi-square beside it (statsmodels: b = 15, c = 29)', () => {
    // statsmodels mcnemar([[0, 15], [29, 0]]): exact=True p = 0.048766765904474596; exact=False (corrected)
    // statistic 3.840909090909091, p = 0.050016395485646. 44 discordant examples: the old rule (chi-square from 25 on)
    // said "no significant difference"; the exact test, valid at every size, says B is better at alpha 0.05.
    const yTrue = Array.from({ length: 60 }, () => 'y');
    const predA = yTrue.map((_, i) => (i < 15 ? 'y' : i < 44 ? 'n' : 'y'));
    const predB = yTrue.map((_, i) => (i < 15 ? 'n' : 'y'));
    const [m] = significanceOnPredictions('A', 'B', { yTrue, predA, predB }, 0.05, 1, 200);
    assert.deepStrictEqual(m.discordant, [15, 29]);
    assert.strictEqual(m.test, 'mcnemar_exact');
    assert.strictEqual(m.decided_by, 'exact');
    assert.ok(Math.abs(m.p_value! - 0.048766765904474596) < 1e-12);
    assert.ok(Math.abs(m.chi2_statistic! - 3.840909090909091) < 1e-12);
    assert.ok(Math.abs(m.p_value_chi2! - 0.050016395485646) < 1e-12);
    assert.strictEqual(m.outcome, 'better');
  });

  it('measures model size and inference latency by running the ONNX artifact', async () => {
    const c = await buildComparison(store, [ids.exp_a_0, ids.exp_b_0], { workspaceRoot: dir });
    const cost = c.costs[0];
    assert.strictEqual(cost.model_size_bytes, fs.statSync(model).size);
    assert.ok(cost.latency_p50_ms! > 0 && cost.latency_p95_ms! >= cost.latency_p50_ms!);
    assert.ok(cost.throughput_per_s! > 0);
    assert.strictEqual(cost.duration_s, 1);
    assert.strictEqual(cost.peak_memory_mb, 50);
  });

  it('reports a corrupt model as a cost error, not a crash', async () => {
    fs.writeFileSync(path.join(dir, 'exp_a.onnx'), 'not a model');
    const c = await buildComparison(store, [ids.exp_a_0, ids.exp_b_0], { workspaceRoot: dir });
    assert.match(c.costs[0].latency_error!, /not a valid ONNX model/);
    fs.copyFileSync(model, path.join(dir, 'exp_a.onnx'));
  });

  it('suggests the hypothesis verdict from the deciding test', async () => {
    const c = await buildComparison(store, ['exp_a', 'exp_b'], { workspaceRoot: dir, measureLatency: false });
    const v = suggestVerdict(c, 'exp_b', 'val_accuracy')!;
    assert.strictEqual(v.status, 'supported');
    assert.match(v.decidedBy, /^welch_t on val_accuracy: B better than A, p = /);
  });

  it('refuses fewer than two runs and unknown ids with a clear message', async () => {
    await assert.rejects(buildComparison(store, [ids.exp_a_0], { workspaceRoot: dir }), /at least two runs/);
    await assert.rejects(buildComparison(store, [ids.exp_a_0, 'nope'], { workspaceRoot: dir }), /nope is neither an experiment nor a run/);
  });

  it('renders JSON with scipy/statsmodels names and Markdown tables', async () => {
    const c = await buildComparison(store, ['exp_a', 'exp_b'], { workspaceRoot: dir, measureLatency: false });
    const json = comparisonJson(c) as { significance: Array<Record<string, unknown>>; intervals: Array<Record<string, unknown>>; costs: Array<Record<string, unknown>> };
    const welch = json.significance.find(s => s.test === 'welch_t')!;
    for (const k of ['welch_t', 'df', 'p_value', 'ci_low', 'ci_high']) assert.ok(k in welch, `welch has ${k}`);
    const mc = json.significance.find(s => String(s.test).startsWith('mcnemar'))!;
    for (const k of ['mcnemar_statistic', 'mcnemar_p_value', 'mcnemar_exact_p_value', 'mcnemar_chi2_statistic', 'mcnemar_chi2_p_value', 'decided_by']) assert.ok(k in mc, `mcnemar has ${k}`);
    for (const k of ['wilson_low', 'wilson_high']) assert.ok(k in json.intervals[0]);
    for (const k of ['duration_s', 'peak_memory_mb', 'model_size_bytes', 'latency_p50_ms', 'latency_p95_ms']) assert.ok(k in json.costs[0], `costs have ${k}`);
    const md = comparisonMarkdown(c);
    assert.match(md, /## Params \(only what differs\)/);
    assert.match(md, /\| learning_rate \| 0\.1 \|/);
    assert.doesNotMatch(md, /\| optimizer \|/, 'unchanged params are left out');
  });
});

describe('compare: predictions files', () => {
  it('reads y_true, y_pred, scores and extra columns; bad rows name their line', () => {
    const p = readPredictions('p.csv', 'row_id,y_true,y_pred,score_a,sex\n1,a,a,0.9,F\n2,b,"a",0.2,M\n');
    assert.deepStrictEqual(p.yPred, ['a', 'a']);
    assert.deepStrictEqual(p.scores.a, [0.9, 0.2]);
    assert.deepStrictEqual(p.extra.sex, ['F', 'M']);
    assert.throws(() => readPredictions('p.csv', 'y_true,y_pred\na,a\nb\n'), (e: Error) => e instanceof PredictionsError && /p\.csv:3: 1 fields, but the header has 2/.test(e.message));
    assert.throws(() => readPredictions('p.csv', 'label,pred\na,a\n'), /needs `y_true` and `y_pred`/);
    assert.throws(() => readPredictions('p.csv', 'y_true,y_pred,score_a\na,a,high\n'), /p\.csv:2: `score_a` is "high", not a number/);
    // a maintained parser: a quoted field keeps its comma, quote and CRLF; CRLF line ends; blank lines skipped
    const q = readPredictions('q.csv', 'y_true,y_pred,note\r\na,a,"x, ""y""\r\nz"\r\n\r\nb,b,plain\r\n');
    assert.deepStrictEqual(q.extra.note, ['x, "y"\r\nz', 'plain']);
    assert.deepStrictEqual(q.yTrue, ['a', 'b']);
    assert.throws(() => readPredictions('q.csv', 'y_true,y_pred\na,a\n"b,b\n'), (e: Error) => e instanceof PredictionsError && /q\.csv:\d+: not valid CSV/.test(e.message));
  });
});

describe('edd compare (CLI, as a real process)', function () {
  this.timeout(60000);
  it('prints JSON for two experiments, and --conclude stores the verdict', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edd-compare-cli-'));
    const store = await RunStore.open(path.join(dir, '.edd/edd.sqlite'));
    for (const [exp, vals] of [['exp_a', [0.8, 0.81, 0.79]], ['exp_b', [0.9, 0.91, 0.89]]] as const) {
      for (const v of vals) {
        const r = store.createRun({ experimentId: exp, status: 'finished' });
        store.addMetrics([{ runId: r.id, key: 'val_accuracy', step: 1, value: v }]);
      }
    }
    await store.close();
    const run = (args: string[]) => new Promise<{ code: number; stdout: string; stderr: string }>(resolve => {
      execFile(process.execPath, [path.join(root, 'dist/cli.js'), 'compare', ...args], { cwd: dir }, (err, stdout, stderr) => resolve({ code: err ? Number(err.code) : 0, stdout, stderr }));
    });
    const r = await run(['exp_a', 'exp_b', '--json', '--conclude']);
    assert.strictEqual(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.strictEqual(out.significance[0].test, 'welch_t');
    assert.strictEqual(out.significance[0].outcome, 'better');
    assert.strictEqual(out.hypotheses.find((h: { experiment_id: string }) => h.experiment_id === 'exp_b').status, 'supported');
    const again = await RunStore.open(path.join(dir, '.edd/edd.sqlite'), { readOnly: true });
    assert.strictEqual(again.getExperiment('exp_b')?.hypothesisStatus, 'supported');
    await again.close();
    const md = await run(['exp_a', 'exp_b', '--markdown']);
    assert.match(md.stdout, /\| welch_t \| val_accuracy \|/);
    assert.strictEqual((await run(['exp_a'])).code, 0, 'one experiment compares its seeds');
    assert.strictEqual((await run(['missing_exp', 'exp_a'])).code, 2);
    // --goal flips what "better" means
    const flipped = JSON.parse((await run(['exp_a', 'exp_b', '--json', '--goal', 'val_accuracy=min'])).stdout);
    assert.strictEqual(flipped.significance[0].outcome, 'worse');
    assert.strictEqual((await run(['exp_a', 'exp_b', '--goal', 'val_accuracy'])).code, 2);
    // --open hands the editor a URI through its CLI, as argv (a stand-in editor CLI records what it got)
    const fake = path.join(dir, 'fake-code.js');
    const got = path.join(dir, 'got.json');
    fs.writeFileSync(fake, `#!/usr/bin/env node\nrequire('fs').writeFileSync(${JSON.stringify(got)}, JSON.stringify(process.argv.slice(2)));\n`, { mode: 0o755 });
    const opened = await new Promise<number>(resolve => {
      execFile(process.execPath, [path.join(root, 'dist/cli.js'), 'compare', 'exp_a', 'exp_b', '--open', '--no-latency'], { cwd: dir, env: { ...process.env, EDD_CODE_CLI: fake } }, err => resolve(err ? Number(err.code) : 0));
    });
    assert.strictEqual(opened, 0);
    const argv = JSON.parse(fs.readFileSync(got, 'utf8')) as string[];
    assert.strictEqual(argv[0], '--open-url');
    assert.match(argv[1], /^vscode:\/\/edd\.edd\/compare\?runs=[0-9a-f-%C]+&baseline=/);
    assert.strictEqual((await run(['exp_a', 'exp_b', '--json', '--markdown'])).code, 2);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
