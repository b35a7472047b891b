import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { freePort, MlflowServer } from './mlflowServer';
import { cloneExample } from './exampleFixtures';
import { edd } from './registryFixtures';

interface RunRow { run_id: string; experiment_id: string; status: string; origin: string; external_id: string | null; final_metrics: Record<string, number> }

/**
 * The "done when": two clones of the example sharing one local MLflow server see each other's runs. Each
 * clone runs one real experiment of the example with live logging (one with --tracking-uri, one with
 * EDD_TRACKING_URI), pulls, lists both runs (the other's marked remote) and compares its own run with the pulled one.
 * The README's team walk-through is these commands.
 */
describe('team tracking: two clones of the example share one MLflow 3.17 server', function () {
  this.timeout(600_000);
  let dir: string;
  let server: MlflowServer;
  let alice: string;
  let bob: string;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edd-mlflow-team-'));
    alice = path.join(dir, 'alice');
    bob = path.join(dir, 'bob');
    for (const clone of [alice, bob]) {
      fs.mkdirSync(clone);
      cloneExample(clone);
    }
    server = new MlflowServer(path.join(dir, 'server'), await freePort());
    await server.start();
  });
  after(async () => {
    await server?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const runs = async (clone: string): Promise<RunRow[]> => {
    const r = await edd(['runs', '--json'], clone);
    assert.strictEqual(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as RunRow[];
  };

  it('each runs, logs live, pulls the other\'s run (marked remote, with the same metrics) and compares it with its own', async () => {
    const a = await edd(['run', 'examples/penguins/experiments/short-training.yaml', '--json', '--tracking-uri', server.url], alice);
    assert.strictEqual(a.code, 0, a.stderr);
    const b = await edd(['run', 'examples/penguins/experiments/higher-lr.yaml', '--json'], bob, { EDD_TRACKING_URI: server.url });
    assert.strictEqual(b.code, 0, b.stderr);
    const aliceRun = JSON.parse(a.stdout) as { run_id: string; warnings: string[]; final_metrics: Record<string, number> };
    const bobRun = JSON.parse(b.stdout) as { run_id: string; warnings: string[]; final_metrics: Record<string, number> };
    assert.deepStrictEqual([aliceRun.warnings, bobRun.warnings], [[], []], 'both runs reached the server while they ran');

    for (const [clone, own, other, otherExperiment] of [[alice, aliceRun, bobRun, 'exp_20250101_002'], [bob, bobRun, aliceRun, 'exp_20250101_004']] as const) {
      const pull = await edd(['sync', 'mlflow', '--pull', '--json'], clone, { EDD_TRACKING_URI: server.url });
      assert.strictEqual(pull.code, 0, pull.stderr);
      const pulled = (JSON.parse(pull.stdout) as { pull: { runsCreated: number; own: number } }).pull;
      assert.deepStrictEqual([pulled.runsCreated, pulled.own], [1, 1], `${path.basename(clone)} pulls the other's run and knows its own`);
      const listed = await runs(clone);
      assert.strictEqual(listed.length, 2, JSON.stringify(listed));
      const mine = listed.find(r => r.run_id === own.run_id)!;
      assert.strictEqual(mine.origin, 'local');
      const theirs = listed.find(r => r.run_id !== own.run_id)!;
      assert.strictEqual(theirs.origin, 'remote');
      assert.match(theirs.external_id ?? '', /^mlflow:[0-9a-f]{32}$/);
      assert.strictEqual(theirs.experiment_id, otherExperiment);
      assert.strictEqual(theirs.status, 'finished');
      assert.deepStrictEqual(theirs.final_metrics, other.final_metrics, 'the teammate\'s final metrics, as their own store has them');
      const text = await edd(['runs'], clone);
      assert.match(text.stdout, new RegExp(`${theirs.run_id} .*\\(remote\\)`));

      const compare = await edd(['compare', own.run_id, theirs.run_id, '--json', '--no-latency'], clone);
      assert.strictEqual(compare.code, 0, compare.stderr);
      const cmp = JSON.parse(compare.stdout) as { runs: Array<{ run_id: string }>; metrics: Array<{ key: string; final: Record<string, number | null> }> };
      assert.deepStrictEqual(cmp.runs.map(r => r.run_id), [own.run_id, theirs.run_id]);
      const acc = cmp.metrics.find(m => m.key === 'test_accuracy');
      assert.ok(acc, `test_accuracy compared: ${JSON.stringify(cmp.metrics.map(m => m.key))}`);
      assert.deepStrictEqual(acc.final, { [own.run_id]: own.final_metrics.test_accuracy, [theirs.run_id]: other.final_metrics.test_accuracy });
    }

    // A second pull changes nothing (the finished runs are known).
    const again = await edd(['sync', 'mlflow', '--pull', '--json', '--tracking-uri', server.url], alice);
    assert.strictEqual(again.code, 0, again.stderr);
    assert.deepStrictEqual((({ runsCreated, unchanged }) => [runsCreated, unchanged])((JSON.parse(again.stdout) as { pull: { runsCreated: number; unchanged: number } }).pull), [0, 1]);
    assert.strictEqual((await runs(alice)).length, 2);
  });
});
