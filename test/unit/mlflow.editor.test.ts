import * as assert from 'assert';
import * as fs from 'fs';
import * as http from 'http';
import * as os from 'os';
import * as path from 'path';
import type { AddressInfo } from 'net';
import { StoreWorkerClient } from '../../src/extension/runs/storeClient';
import type { ExecuteOpResult } from '../../src/extension/runs/storeOps';
import { LIVE_CONFIG, PAUSING_TRAINING, serverRunsByEddId, waitForLivePoints } from './mlflowFixtures';
import { freePort, MlflowServer } from './mlflowServer';

const script = path.resolve(__dirname, '../../src/extension/runs/storeWorker.js');

/**
 * The editor's Run Experiment: RunController sends the `execute` operation to the store worker with edd.tracking.uri
 * and the credentials from secret storage. Driven here through the same worker client, against a real mlflow server.
 */
describe('the editor\'s runs log live to a real MLflow 3.17 server (store worker execute with a tracking URI)', function () {
  this.timeout(600_000);
  let dir: string;
  let server: MlflowServer;
  let client: StoreWorkerClient;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edd-mlflow-editor-'));
    fs.writeFileSync(path.join(dir, 'train.js'), PAUSING_TRAINING);
    fs.writeFileSync(path.join(dir, 'live.yaml'), LIVE_CONFIG('exp_20250101_601'));
    fs.writeFileSync(path.join(dir, 'offline.yaml'), LIVE_CONFIG('exp_20250101_602'));
    server = new MlflowServer(path.join(dir, 'server'), await freePort());
    await server.start();
    client = new StoreWorkerClient(script);
  });
  after(async () => {
    await client?.dispose();
    await server?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const storeFile = () => path.join(dir, '.edd', 'edd.sqlite');

  it('points reach the server while the run goes on, then the run is there once, finished, with every point', async () => {
    const store = await client.open(storeFile());
    let settled = false;
    const running = store.opWith('execute', {}, { workspaceRoot: dir, configPath: path.join(dir, 'live.yaml'), tracking: { trackingUri: server.url, credentials: {} } })
      .finally(() => (settled = true));
    await waitForLivePoints(server.url, 'exp_20250101_601', 1000, () => assert.ok(!settled, 'the run ended before its points were seen on the server'));
    fs.writeFileSync(path.join(dir, 'release'), '');
    const result = await running;
    fs.rmSync(path.join(dir, 'release'));
    assert.strictEqual(result.run.status, 'finished');
    assert.strictEqual(result.liveLogging, undefined);
    const remote = serverRunsByEddId(server.url, dir).get(result.run.id) ?? [];
    assert.strictEqual(remote.length, 1, 'one MLflow run');
    assert.strictEqual(remote[0].status, 'FINISHED');
    assert.strictEqual(remote[0].params.lr, '0.5');
    const local = await store.getMetrics(result.run.id, 'loss');
    assert.strictEqual(local.length, 1510);
    assert.deepStrictEqual(remote[0].history.loss.map(([step, time, value]) => [step, time, value]), local.map(p => [p.step, p.time, p.value]), 'every point once, as stored');
    const sync = await store.op('syncMlflow', { trackingUri: server.url });
    assert.deepStrictEqual([sync.pushed.pushed, sync.pushed.alreadyPushed], [0, 1], 'the editor\'s sync does not send the live run again');
  });

  it('a server that refuses: the run is recorded here with a warning that never shows the token; the next sync sends it once', async () => {
    // A stand-in for a tracking server that is down behind its proxy: it records what it was sent and answers 503.
    const authorization: string[] = [];
    const down = http.createServer((req, res) => {
      authorization.push(req.headers.authorization ?? '');
      req.resume();
      res.writeHead(503).end('unavailable');
    });
    await new Promise<void>(resolve => down.listen(0, '127.0.0.1', resolve));
    const token = 'tok-7f3a9c-secret';
    let result: ExecuteOpResult;
    try {
      fs.writeFileSync(path.join(dir, 'release'), '');
      const store = await client.open(storeFile());
      result = await store.opWith('execute', {}, {
        workspaceRoot: dir, configPath: path.join(dir, 'offline.yaml'),
        tracking: { trackingUri: `http://127.0.0.1:${(down.address() as AddressInfo).port}`, credentials: { token } },
      });
    } finally {
      fs.rmSync(path.join(dir, 'release'), { force: true });
      await new Promise(resolve => down.close(resolve));
    }
    assert.ok(authorization.length > 0 && authorization.every(a => a === `Bearer ${token}`), `the stored token goes with every request: ${JSON.stringify(authorization)}`);
    assert.strictEqual(result.run.status, 'finished');
    assert.match(result.liveLogging ?? '', /Live logging to http:\/\/127\.0\.0\.1:\d+ stopped .*edd sync mlflow --push/);
    assert.ok(result.warnings.includes(result.liveLogging!));
    assert.ok(!JSON.stringify(result).includes(token), 'the token is in no message');
    const store = await client.open(storeFile());
    assert.strictEqual((await store.getMetrics(result.run.id, 'loss')).length, 1510, 'the run is whole in the store');
    const sync = await store.op('syncMlflow', { trackingUri: server.url });
    assert.strictEqual(sync.pushed.pushed, 1);
    const again = await store.op('syncMlflow', { trackingUri: server.url });
    assert.strictEqual(again.pushed.pushed, 0);
    const remote = serverRunsByEddId(server.url, dir).get(result.run.id) ?? [];
    assert.strictEqual(remote.length, 1, 'sent once');
    assert.strictEqual(remote[0].history.loss.length, 1510);
  });
});
