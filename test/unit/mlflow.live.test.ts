import * as assert from 'assert';
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { RunStore } from '../../src/core/store';
import { LIVE_CONFIG as CONFIG, PAUSING_TRAINING as SCRIPT, serverRunsByEddId, waitForLivePoints } from './mlflowFixtures';
import { freePort, MlflowServer } from './mlflowServer';
import { CLI, edd } from './registryFixtures';

describe('edd run with a tracking URI: live logging to a real MLflow 3.17 server', function () {
  this.timeout(600_000);
  let dir: string;
  let server: MlflowServer;
  const readBack = () => serverRunsByEddId(server.url, dir);

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edd-mlflow-live-'));
    fs.writeFileSync(path.join(dir, 'train.js'), SCRIPT);
    fs.writeFileSync(path.join(dir, 'live.yaml'), CONFIG('exp_20250101_501'));
    fs.writeFileSync(path.join(dir, 'offline.yaml'), CONFIG('exp_20250101_502'));
    server = new MlflowServer(path.join(dir, 'server'), await freePort());
    await server.start();
  });
  after(async () => {
    await server?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('points reach the server while the run goes on; at the end the run is there once with every point and its status; a later push sends nothing', async () => {
    const run = spawn(process.execPath, [CLI, 'run', 'live.yaml', '--json', '--tracking-uri', server.url], { cwd: dir });
    let stdout = '';
    let stderr = '';
    run.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    run.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number>(resolve => run.on('exit', code => resolve(code ?? -1)));
    // the training is paused after 1,500 points: they must be on the server, in a RUNNING run, before it goes on
    await waitForLivePoints(server.url, 'exp_20250101_501', 1000, () => assert.strictEqual(run.exitCode, null, `edd run ended early: ${stderr}`));
    fs.writeFileSync(path.join(dir, 'release'), '');
    assert.strictEqual(await exited, 0, stderr);
    fs.rmSync(path.join(dir, 'release'));
    const out = JSON.parse(stdout) as { run_id: string; warnings: string[] };
    assert.deepStrictEqual(out.warnings, []);
    const remote = readBack().get(out.run_id) ?? [];
    assert.strictEqual(remote.length, 1, 'one MLflow run');
    assert.strictEqual(remote[0].status, 'FINISHED');
    assert.strictEqual(remote[0].params.lr, '0.5');
    const store = await RunStore.open(path.join(dir, '.edd', 'edd.sqlite'), { readOnly: true });
    try {
      const local = store.getMetrics(out.run_id, 'loss');
      assert.strictEqual(local.length, 1510);
      assert.deepStrictEqual(remote[0].history.loss.map(([step, time]) => [step, time]), local.map(p => [p.step, p.time]), 'every point once, with the stored time');
    } finally {
      await store.close();
    }
    const push = await edd(['sync', 'mlflow', '--tracking-uri', server.url, '--push', '--json'], dir);
    assert.strictEqual(push.code, 0, push.stderr);
    const pushed = (JSON.parse(push.stdout) as { push: { pushed: number; alreadyPushed: number } }).push;
    assert.deepStrictEqual([pushed.pushed, pushed.alreadyPushed], [0, 1], 'the live run is not pushed twice');
  });

  it('a server that does not answer: the run is recorded here with a warning, and a later push sends it once, whole', async () => {
    const nowhere = `http://127.0.0.1:${await freePort()}`;
    fs.writeFileSync(path.join(dir, 'release'), '');
    const r = await edd(['run', 'offline.yaml', '--json', '--tracking-uri', nowhere], dir);
    assert.strictEqual(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { run_id: string; status: string; warnings: string[] };
    assert.strictEqual(out.status, 'finished');
    assert.match(out.warnings.join('\n'), /Live logging to .* stopped .*edd sync mlflow --push/);
    const push = await edd(['sync', 'mlflow', '--tracking-uri', server.url, '--push', '--json'], dir);
    assert.strictEqual(push.code, 0, push.stderr);
    assert.strictEqual((JSON.parse(push.stdout) as { push: { pushed: number } }).push.pushed, 1);
    const remote = readBack().get(out.run_id) ?? [];
    assert.strictEqual(remote.length, 1);
    assert.strictEqual(remote[0].history.loss.length, 1510);
  });
});
