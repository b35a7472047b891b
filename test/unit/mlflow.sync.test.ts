import * as assert from 'assert';
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { flattenParams, syncStatePath } from '../../src/core/mlflow';
import { RunStore } from '../../src/core/store';
import { assertSameRuns, python, WRITER, type Expected, type ExpectedRun } from './mlflowFixtures';
import { freePort, MlflowServer } from './mlflowServer';
import { CLI, edd } from './registryFixtures';

/** A store of finished EDD runs: nested params (more than one log-batch of params), tags, NaN, a config snapshot. */
async function storeWithRuns(file: string, runs: number, pointsPerKey: number): Promise<string[]> {
  const store = await RunStore.open(file);
  const ids: string[] = [];
  for (let r = 0; r < runs; r++) {
    const params: Record<string, unknown> = { lr: 0.1 / (r + 1), model: { depth: 3 + r, kind: 'tree' } };
    for (let i = 0; i < 120; i++) params[`p${i}`] = i;
    const run = store.createRun({
      experimentId: 'penguins-sync', status: r % 3 === 2 ? 'failed' : 'finished', params, startedAt: 1_700_000_000_000 + r * 1000, endedAt: 1_700_000_000_500 + r * 1000,
      tags: { team: 'vision', sweep_id: 's1' }, seed: r, gitCommit: `c0ffee${r}`, configSnapshot: `experiment:\n  id: penguins-sync\n# run ${r}\n`,
    });
    const points = [];
    for (const key of ['loss', 'val/acc', 'lr']) {
      for (let s = 0; s < pointsPerKey; s++) points.push({ runId: run.id, key, step: s, value: key === 'loss' && s === 1 ? NaN : 1 / (s + 1) + r, time: 1_700_000_000_000 + s });
    }
    store.addMetrics(points);
    ids.push(run.id);
  }
  await store.close();
  return ids;
}

describe('edd sync mlflow: push to and pull from a real MLflow 3.17 server (SQLite backend, started by the test)', function () {
  this.timeout(600_000);
  let dir: string;
  let server: MlflowServer;
  const readBack = (...flags: string[]) => {
    python([WRITER, server.url, path.join(dir, 'server.json'), '--dump', ...flags], dir, { MLFLOW_TRACKING_URI: server.url });
    return JSON.parse(fs.readFileSync(path.join(dir, 'server.json'), 'utf8')) as Expected;
  };
  const byEddId = (e: Expected) => {
    const map = new Map<string, ExpectedRun[]>();
    for (const x of e.experiments) for (const r of x.runs) if (r.tags['edd.run_id']) map.set(r.tags['edd.run_id'], [...(map.get(r.tags['edd.run_id']) ?? []), r]);
    return map;
  };

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edd-mlflow-sync-'));
    server = new MlflowServer(path.join(dir, 'server'), await freePort());
    await server.start();
  });
  after(async () => {
    await server?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('pushes runs (params in batches of 100, every metric point, tags, status, the config as an artifact); MLflow\'s client reads them back; a second push sends nothing', async () => {
    const file = path.join(dir, 'a', '.edd', 'edd.sqlite');
    const ids = await storeWithRuns(file, 3, 700);
    const registry = await RunStore.open(file);
    const versions = ids.slice(0, 2).map(runId => registry.registerModelVersion({ model: 'penguins-sync', runId, file: `models/penguins-sync/${runId}.onnx`, sha256: 'a'.repeat(64), size: 1, actor: 'kim' }));
    registry.setModelStage({ versionId: versions[1].id, to: 'production', actor: 'kim', reason: 'better' });
    registry.setModelAlias({ versionId: versions[1].id, alias: 'champion', actor: 'kim' });
    registry.setModelAlias({ versionId: versions[0].id, alias: 'challenger', actor: 'kim' });
    await registry.close();
    const r = await edd(['sync', 'mlflow', '--tracking-uri', server.url, '--push', '--json', '--store', file], dir);
    assert.strictEqual(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { push: { pushed: number; metricPoints: number; warnings: string[] } };
    assert.strictEqual(out.push.pushed, 3);
    assert.strictEqual(out.push.metricPoints, 3 * 3 * 700);
    assert.deepStrictEqual(out.push.warnings, []);
    const back = readBack('--registry');
    const seen = byEddId(back);
    // registry promotions mirrored as aliases: the production version and EDD's own aliases
    const model = back.models.find(m => m.name === 'penguins-sync')!;
    const mlflowRunOf = (id: string) => seen.get(id)![0].run_id;
    assert.deepStrictEqual(model.versions.map(v => [v.run_id, v.aliases]), [[mlflowRunOf(ids[0]), ['challenger']], [mlflowRunOf(ids[1]), ['champion', 'production']]]);
    const store = await RunStore.open(file, { readOnly: true });
    try {
      for (const id of ids) {
        const remote = seen.get(id) ?? [];
        assert.strictEqual(remote.length, 1, `run ${id} on the server once`);
        const run = store.getRun(id)!;
        const want = Object.fromEntries(flattenParams(run.params).map(p => [p.key, p.value]));
        assert.deepStrictEqual(remote[0].params, want);
        assert.strictEqual(Object.keys(want).length, 123);
        assert.strictEqual(remote[0].status, run.status === 'failed' ? 'FAILED' : 'FINISHED');
        assert.strictEqual(remote[0].start_time, run.startedAt);
        assert.strictEqual(remote[0].end_time, run.endedAt);
        assert.strictEqual(remote[0].tags.team, 'vision');
        assert.strictEqual(remote[0].tags['mlflow.source.git.commit'], run.gitCommit);
        for (const key of ['loss', 'val/acc', 'lr']) {
          const local = store.getMetrics(id, key);
          const got: Array<[number, number, number | string]> = remote[0].history[key];
          assert.strictEqual(got.length, local.length, `${key} of ${id}`);
          got.forEach(([step, time, value], i) => {
            assert.strictEqual(step, local[i].step);
            assert.strictEqual(time, local[i].time);
            assert.ok(Object.is(value === 'nan' ? NaN : value, local[i].value), `${key}@${step}`);
          });
        }
        const artifact = fs.readdirSync(path.join(server.dir, 'artifacts'), { recursive: true }).map(String).filter(p => p.endsWith(path.join(remote[0].run_id, 'artifacts', 'edd', 'config.yaml')));
        assert.strictEqual(artifact.length, 1, 'config snapshot uploaded through the artifact proxy');
        assert.strictEqual(fs.readFileSync(path.join(server.dir, 'artifacts', artifact[0]), 'utf8'), run.configSnapshot);
      }
    } finally {
      await store.close();
    }
    const again = await edd(['sync', 'mlflow', '--tracking-uri', server.url, '--push', '--json', '--store', file], dir);
    assert.strictEqual(again.code, 0, again.stderr);
    assert.deepStrictEqual((JSON.parse(again.stdout) as { push: { pushed: number; alreadyPushed: number } }).push, { ...(JSON.parse(again.stdout) as { push: object }).push, pushed: 0, alreadyPushed: 3 });
  });

  it('pulls runs written with MLflow\'s client into another clone, value by value, marked remote; pulling again changes nothing', async () => {
    python([WRITER, server.url, path.join(dir, 'written.json')], dir, { MLFLOW_TRACKING_URI: server.url });
    const expected = readBack();
    const file = path.join(dir, 'b', '.edd', 'edd.sqlite');
    const r = await edd(['sync', 'mlflow', '--tracking-uri', server.url, '--pull', '--json', '--store', file], dir);
    assert.strictEqual(r.code, 0, r.stderr);
    const store = await RunStore.open(file, { readOnly: true });
    try {
      assertSameRuns(store, expected, 'mlflow-remote');
      assert.strictEqual(store.listRuns({ tags: { 'edd.origin': 'mlflow-remote' } }).length, 3 + 3, 'the fixture\'s three runs and the three pushed from the other clone');
    } finally {
      await store.close();
    }
    const again = await edd(['sync', 'mlflow', '--tracking-uri', server.url, '--pull', '--json', '--store', file], dir);
    const pulled = (JSON.parse(again.stdout) as { pull: { fetched: number; unchanged: number; runsCreated: number } }).pull;
    assert.deepStrictEqual([pulled.fetched, pulled.unchanged, pulled.runsCreated], [0, 6, 0]);
    // the clone that pushed sees its own runs as its own
    const own = await edd(['sync', 'mlflow', '--tracking-uri', server.url, '--pull', '--json', '--store', path.join(dir, 'a', '.edd', 'edd.sqlite')], dir);
    assert.strictEqual((JSON.parse(own.stdout) as { pull: { own: number; runsCreated: number } }).pull.own, 3);
  });

  it('a server killed in the middle of a push: the push fails (exit 1), resumes after a restart, and nothing is lost or sent twice', async () => {
    const file = path.join(dir, 'c', '.edd', 'edd.sqlite');
    // 5 runs × 3 batches of points: enough for two runs done and one cut off between batches when the server dies.
    // (12 runs × 4,500 points cost ~90 s of MLflow's ~1.5 s per 1,000-point log-batch on a loaded machine.)
    const ids = await storeWithRuns(file, 5, 700);
    const push = spawn(process.execPath, [CLI, 'sync', 'mlflow', '--tracking-uri', server.url, '--push', '--retries', '2', '--store', file], { cwd: dir });
    let stderr = '';
    push.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number>(resolve => push.on('exit', code => resolve(code ?? -1)));
    const state = syncStatePath(file);
    const deadline = Date.now() + 180_000;
    const progress = () => {
      try {
        const s = JSON.parse(fs.readFileSync(state, 'utf8')) as { servers: Record<string, { pushed: Record<string, { done?: boolean; metricsSent: number }> }> };
        return Object.values(Object.values(s.servers)[0]?.pushed ?? {});
      } catch {
        return [];
      }
    };
    while (!(progress().filter(p => p.done).length >= 2 && progress().some(p => !p.done && p.metricsSent > 0))) {
      assert.ok(Date.now() < deadline, 'the push never got under way');
      assert.strictEqual(push.exitCode, null, `the push ended before the server was killed: ${stderr}`);
      await new Promise(r => setTimeout(r, 20));
    }
    await server.stop('SIGKILL');
    assert.strictEqual(await exited, 1, stderr);
    assert.match(stderr, /did not answer .* after 3 attempts/);
    assert.match(stderr, /run the same command again to resume/);
    const before = progress();
    assert.ok(before.some(p => !p.done), 'killed in the middle');
    await server.start();
    const resumed = await edd(['sync', 'mlflow', '--tracking-uri', server.url, '--push', '--json', '--store', file], dir);
    assert.strictEqual(resumed.code, 0, resumed.stderr);
    const seen = byEddId(readBack());
    for (const id of ids) {
      const remote = seen.get(id) ?? [];
      assert.strictEqual(remote.length, 1, `run ${id} exactly once on the server`);
      for (const key of ['loss', 'val/acc', 'lr']) assert.strictEqual(remote[0].history[key].length, 700, `${key} of ${id}: no point lost or doubled`);
      assert.strictEqual(Object.keys(remote[0].params).length, 123);
      assert.strictEqual(remote[0].status === 'RUNNING', false);
    }
  });
});
