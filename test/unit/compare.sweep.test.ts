import * as assert from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CompareError } from '../../src/core/compare/build';
import { buildSweepComparison, commonSweepId, sweepMetricOf, sweepOfComparison } from '../../src/core/compare/sweep';
import { isHostMessage, isWebviewMessage } from '../../src/protocol/compare';
import { sweepJson, sweepMarkdown } from '../../src/core/compare/sweepRender';
import { fUpperTail, holm, oneWayAnova, welchTTest } from '../../src/core/stats';
import { RunStore } from '../../src/core/store';

const root = path.resolve(__dirname, '../../..');
const cli = path.join(root, 'dist', 'cli.js');

const LRS = [0.001, 0.01, 0.1];
const MODELS = ['logistic_regression', 'random_forest', '<b>svm</b>'];
/** The metric: learning rate matters most (0.01 best), the model a little, seeds add noise. */
function accuracy(lr: number, model: string, seed: number): number {
  const byLr = lr === 0.01 ? 0.9 : lr === 0.1 ? 0.84 : 0.8;
  const byModel = model === 'random_forest' ? 0.01 : model === 'logistic_regression' ? 0 : -0.005;
  return byLr + byModel + [0.004, -0.003, 0.001][seed] * (1 + LRS.indexOf(lr));
}

const CONFIG = `experiment:
  id: grid
  parameters:
    learning_rate: 0.01
    model_type: logistic_regression
  sweep:
    method: grid
    metric: { name: val_accuracy, goal: maximize }
    parameters:
      parameters.learning_rate: { values: [0.001, 0.01, 0.1] }
      parameters.model_type: { values: [logistic_regression, random_forest, "<b>svm</b>"] }
    seeds: [0, 1, 2]
`;

describe('compare --sweep: a 3 × 3 grid × 3 seeds sweep from a real store', function () {
  this.timeout(60000);
  let dir: string;
  let storeFile: string;
  let store: RunStore;
  const ids: string[] = [];

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edd-sweepcmp-'));
    fs.mkdirSync(path.join(dir, 'experiments'));
    fs.writeFileSync(path.join(dir, 'experiments/grid.yaml'), CONFIG);
    storeFile = path.join(dir, '.edd/edd.sqlite');
    store = await RunStore.open(storeFile);
    let trial = 0;
    for (const lr of LRS) {
      for (const model of MODELS) {
        for (const seed of [0, 1, 2]) {
          const r = store.createRun({
            experimentId: 'grid', status: 'finished', seed, params: { parameters: { learning_rate: lr, model_type: model, epochs: 5 } },
            tags: { sweep_id: 'sw-1', trial_index: String(trial), sweep_config: 'experiments/grid.yaml' },
          });
          ids.push(r.id);
          store.addMetrics([
            { runId: r.id, key: 'val_accuracy', step: 1, value: 0.5 },
            { runId: r.id, key: 'val_accuracy', step: 2, value: accuracy(lr, model, seed) },
            { runId: r.id, key: 'loss', step: 2, value: 1 - accuracy(lr, model, seed) },
          ]);
        }
        trial++;
      }
    }
    // A crashed trial without the metric, and a run of another sweep: neither counts.
    store.createRun({ experimentId: 'grid', status: 'failed', seed: 0, params: { parameters: { learning_rate: 0.5, model_type: 'x', epochs: 5 } }, tags: { sweep_id: 'sw-1', trial_index: '9' } });
    const other = store.createRun({ experimentId: 'grid', status: 'finished', seed: 0, params: { parameters: { learning_rate: 0.01 } }, tags: { sweep_id: 'sw-2', trial_index: '0' } });
    store.addMetrics([{ runId: other.id, key: 'val_accuracy', step: 1, value: 0.99 }]);
    await store.save();
  });
  after(async () => {
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('reads the metric and goal from the sweep config the runs point at', () => {
    assert.deepStrictEqual(sweepMetricOf(CONFIG), { metric: 'val_accuracy', goal: 'max' });
    assert.deepStrictEqual(sweepMetricOf('experiment:\n  sweep:\n    metric: { name: val_loss, goal: minimize }\n'), { metric: 'val_loss', goal: 'min' });
    assert.strictEqual(sweepMetricOf('experiment: {}\n'), undefined);
    const s = buildSweepComparison(store, 'sw-1', { workspaceRoot: dir });
    assert.strictEqual(s.metric, 'val_accuracy');
    assert.strictEqual(s.goal, 'max');
    assert.strictEqual(s.metricFrom, 'config');
    assert.strictEqual(s.runs.length, 28);
    assert.strictEqual(s.used, 27, 'the failed run is left out');
    // Only what varies: the epochs are the same everywhere; the seeds vary, so `seed` is a factor too.
    assert.deepStrictEqual(s.parameters, ['parameters.learning_rate', 'parameters.model_type', 'seed']);
  });

  it('the best trial is the best mean over its seeds, with its best run', () => {
    const s = buildSweepComparison(store, 'sw-1', { workspaceRoot: dir });
    const b = s.best!;
    assert.strictEqual(b.trialIndex, 4); // lr 0.01 × random_forest
    assert.deepStrictEqual(b.params, { 'parameters.learning_rate': 0.01, 'parameters.model_type': 'random_forest' });
    assert.strictEqual(b.n, 3);
    const vs = [0, 1, 2].map(seed => accuracy(0.01, 'random_forest', seed));
    assert.ok(Math.abs(b.mean - vs.reduce((x, y) => x + y) / 3) < 1e-12);
    assert.strictEqual(b.value, Math.max(...vs));
    assert.strictEqual(b.runId, ids[4 * 3 + vs.indexOf(Math.max(...vs))]);
  });

  it('groups by a parameter: mean ± sd and n, Welch between every pair, Holm over the pairs', () => {
    const s = buildSweepComparison(store, 'sw-1', { workspaceRoot: dir, groupBy: 'learning_rate' });
    assert.strictEqual(s.groupBy, 'parameters.learning_rate', 'the last part of a dotted key names it');
    assert.deepStrictEqual(s.groups.map(g => g.value), ['0.001', '0.01', '0.1'], 'numeric order');
    assert.deepStrictEqual(s.groups.map(g => g.n), [9, 9, 9]);
    const per = LRS.map(lr => MODELS.flatMap(m => [0, 1, 2].map(seed => accuracy(lr, m, seed))));
    assert.strictEqual(s.pairs.length, 3);
    const ps = [[0, 1], [0, 2], [1, 2]].map(([a, b]) => welchTTest(per[a], per[b]).pValue);
    const adjusted = holm(ps).adjusted;
    s.pairs.forEach((p, i) => {
      assert.ok(Math.abs(p.pValue - ps[i]) < 1e-15);
      assert.strictEqual(p.pHolm, adjusted[i]);
      assert.ok(p.pHolm >= p.pValue);
    });
    const sd0 = Math.sqrt(per[0].reduce((acc, x) => acc + (x - s.groups[0].mean) ** 2, 0) / 8);
    assert.ok(Math.abs(s.groups[0].sd - sd0) < 1e-12);
    // Learning rates differ by far more than the noise: every pair is significant after the correction.
    assert.ok(s.pairs.every(p => p.pHolm < 0.05));
  });

  it('groups by a tag or the seed; an unknown group names what there is', () => {
    const byTrial = buildSweepComparison(store, 'sw-1', { workspaceRoot: dir, groupBy: 'trial_index' });
    assert.strictEqual(byTrial.groups.length, 9);
    assert.strictEqual(byTrial.pairs.length, 36);
    const bySeed = buildSweepComparison(store, 'sw-1', { workspaceRoot: dir, groupBy: 'seed' });
    assert.deepStrictEqual(bySeed.groups.map(g => g.value), ['0', '1', '2']);
    assert.throws(() => buildSweepComparison(store, 'sw-1', { groupBy: 'momentum' }), (e: Error) => e instanceof CompareError && /momentum/.test(e.message) && /parameters\.learning_rate/.test(e.message));
  });

  it('importance: η² of each parameter equals a one-way ANOVA of the metric by its values; learning rate first', () => {
    const s = buildSweepComparison(store, 'sw-1', { workspaceRoot: dir });
    assert.deepStrictEqual(s.importance.map(i => i.parameter), ['parameters.learning_rate', 'parameters.model_type', 'seed']);
    const byLr = LRS.map(lr => MODELS.flatMap(m => [0, 1, 2].map(seed => accuracy(lr, m, seed))));
    const a = oneWayAnova(byLr);
    assert.ok(Math.abs(s.importance[0].etaSquared - a.etaSquared) < 1e-12);
    assert.ok(Math.abs(s.importance[0].statistic - a.statistic) < 1e-6 * a.statistic);
    assert.ok(s.importance[0].pValue > 0 && Math.abs(s.importance[0].pValue / a.pValue - 1) < 1e-6, `p ${s.importance[0].pValue} vs ${a.pValue}`);
    assert.ok(s.importance[0].etaSquared > 0.9);
    // In a balanced grid the main effects cannot explain more than everything.
    assert.ok(s.importance.reduce((x, i) => x + i.etaSquared, 0) <= 1 + 1e-12);
    assert.strictEqual(s.importanceMethod, 'anova-eta-squared');
    // Default grouping: the most important parameter.
    assert.strictEqual(s.groupBy, 'parameters.learning_rate');
  });

  it('a numeric parameter with many values is cut into quantile bins', async () => {
    const f = path.join(dir, 'random.sqlite');
    const st = await RunStore.open(f);
    try {
      for (let i = 0; i < 40; i++) {
        const lr = 10 ** (-4 + (3 * i) / 39);
        const r = st.createRun({ experimentId: 'r', status: 'finished', seed: 0, params: { lr }, tags: { sweep_id: 'rand', trial_index: String(i) } });
        st.addMetrics([{ runId: r.id, key: 'val_loss', step: 1, value: Math.abs(Math.log10(lr) + 2) }]);
      }
      const s = buildSweepComparison(st, 'rand', { metric: 'val_loss' });
      assert.strictEqual(s.goal, 'min');
      assert.strictEqual(s.metricFrom, 'options');
      assert.strictEqual(s.importance[0].binned, true);
      assert.strictEqual(s.importance[0].levels, 5);
      assert.strictEqual(s.best!.trialIndex, 26); // lr closest to 1e-2
    } finally {
      await st.close();
    }
  });

  it('an unknown sweep is a CompareError naming the sweeps there are', () => {
    assert.throws(() => buildSweepComparison(store, 'nope'), (e: Error) => e instanceof CompareError && /nope/.test(e.message) && /sw-1/.test(e.message) && /sw-2/.test(e.message));
  });

  it('commonSweepId: the panel shows the sweep views only when every compared run is of one sweep', () => {
    assert.strictEqual(commonSweepId(store, ids.slice(0, 5)), 'sw-1');
    const other = store.listRuns({ tags: { sweep_id: 'sw-2' } })[0].id;
    assert.strictEqual(commonSweepId(store, [ids[0], other]), undefined);
    assert.strictEqual(commonSweepId(store, []), undefined);
  });

  it('the panel hook: sweepOfComparison gives the sweep of one sweep\'s runs; the protocol guards accept it and refuse bad indexes', () => {
    const sweep = sweepOfComparison(store, ids, { workspaceRoot: dir })!;
    assert.strictEqual(sweep.sweepId, 'sw-1');
    const other = store.listRuns({ tags: { sweep_id: 'sw-2' } })[0].id;
    assert.strictEqual(sweepOfComparison(store, [ids[0], other]), undefined);
    assert.strictEqual(sweepOfComparison(store, ids, { groupBy: 'momentum' }), undefined, 'a grouping that no longer exists: no sweep, not an error');
    // As the webview receives it: through JSON (NaN becomes null).
    const wire = JSON.parse(JSON.stringify({ type: 'sweep', sweep })) as unknown;
    assert.ok(isHostMessage(wire));
    const bad = JSON.parse(JSON.stringify({ type: 'sweep', sweep })) as { sweep: { pairs: Array<{ b: number }>; runs: Array<{ params: Record<string, unknown> }> } };
    bad.sweep.pairs[0].b = 99;
    assert.ok(!isHostMessage(bad));
    const missing = JSON.parse(JSON.stringify({ type: 'sweep', sweep })) as typeof bad;
    delete missing.sweep.runs[0].params.seed;
    assert.ok(!isHostMessage(missing));
    assert.ok(isWebviewMessage({ type: 'setSweepGroupBy', groupBy: 'seed' }));
    assert.ok(!isWebviewMessage({ type: 'setSweepGroupBy', groupBy: '' }));
    assert.ok(!isWebviewMessage({ type: 'setSweepGroupBy' }));
  });

  it('Markdown and JSON: user strings are inert, numbers as computed', () => {
    const s = buildSweepComparison(store, 'sw-1', { workspaceRoot: dir, groupBy: 'model_type' });
    const md = sweepMarkdown(s);
    assert.ok(!md.includes('<b>'), 'HTML in a param value is escaped');
    assert.match(md, /one-way ANOVA η²/);
    assert.match(md, /Holm/);
    const j = sweepJson(s) as { groups: Array<{ value: string }>; pairs: Array<{ p_holm: number }>; best_trial: { trial_index: number } };
    assert.deepStrictEqual(j.groups.map(g => g.value), ['<b>svm</b>', 'logistic_regression', 'random_forest']);
    assert.strictEqual(j.best_trial.trial_index, 4);
    assert.strictEqual(j.pairs.length, 3);
  });

  function edd(args: string[]): { status: number | null; stdout: string; stderr: string } {
    return spawnSync(process.execPath, [cli, 'compare', ...args, '--store', storeFile], { cwd: dir, encoding: 'utf8', env: { ...process.env, EDD_LOCALE: 'en' }, timeout: 60_000 });
  }

  it('CLI: edd compare --sweep prints the best trial, the groups with Holm-adjusted p and the importance', () => {
    const r = edd(['--sweep', 'sw-1', '--group-by', 'model_type']);
    assert.strictEqual(r.status, 0, r.stderr);
    assert.match(r.stdout, /## Best trial\n\nTrial 4: val_accuracy = 0\.91\d* ± /);
    assert.match(r.stdout, /## Groups by parameters\.model_type/);
    assert.match(r.stdout, /p \(Holm\)/);
    assert.match(r.stdout, /## Parameter importance\n\nShare of the variance of val_accuracy/);
    assert.match(r.stdout, /\| parameter \| η² \| F \| p \| levels \|/);
    const j = edd(['--sweep', 'sw-1', '--json']);
    assert.strictEqual(j.status, 0, j.stderr);
    const out = JSON.parse(j.stdout) as ReturnType<typeof sweepJson> & { importance: Array<{ parameter: string; eta_squared: number; f_statistic: number; p_value: number; df_between: number; df_within: number }> };
    assert.strictEqual(out.metric, 'val_accuracy');
    assert.strictEqual(out.correction, 'holm');
    assert.strictEqual(out.importance[0].parameter, 'parameters.learning_rate');
    const lr = out.importance[0];
    assert.ok(lr.p_value > 0 && lr.p_value < 1e-6, `p ${lr.p_value}`);
    assert.strictEqual(lr.p_value, fUpperTail(lr.f_statistic, lr.df_between, lr.df_within));
  });

  it('CLI: an unknown sweep id, an unknown group and run ids with --sweep exit 2 with a message', () => {
    let r = edd(['--sweep', 'nope']);
    assert.strictEqual(r.status, 2);
    assert.match(r.stderr, /No runs belong to sweep "nope"\. Sweeps in this store: sw-1, sw-2\./);
    assert.doesNotMatch(r.stderr, /at .*\.js:\d+/, 'no stack trace');
    r = edd(['--sweep', 'sw-1', '--group-by', 'momentum']);
    assert.strictEqual(r.status, 2);
    assert.match(r.stderr, /no parameter or tag "momentum"/);
    r = edd(['--sweep', 'sw-1', 'run-1']);
    assert.strictEqual(r.status, 2);
    r = edd(['--sweep', 'sw-2', '--goal', 'sideways']);
    assert.strictEqual(r.status, 2);
  });
});
