import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { canaryDir, REQUEST_FILE, type CanaryRequest } from '../../src/core/serve/canary';
import {
  CanaryPlanError, canaryStartPlan, canaryStatusLines, readCanaryStatus, requestCanaryStart, requestCanaryStop, waitForCanaryStatus,
} from '../../src/core/serve/canaryControl';
import { startServer, type RunningServer } from '../../src/core/serve/server';
import { canaryPlan, loadServiceSpec } from '../../src/core/serve/spec';
import { servingWorkspace } from './serve.fixtures';

describe('serve: canary control shared by `edd canary` and the editor', function () {
  this.timeout(60_000);

  it('a plan keeps only what was given (the server fills in the defaults); bad numbers are refused, one sentence each', () => {
    assert.deepStrictEqual(canaryStartPlan(4), { version: 4 });
    assert.deepStrictEqual(canaryStartPlan(4, { percent: 25, step: 5, interval: '5m' }), { version: 4, percent: 25, step: 5, interval: '5m' });
    assert.deepStrictEqual(canaryPlan(canaryStartPlan(4)), canaryPlan({ version: 4, percent: 10, step: 10, interval: '60s' }), 'the defaults of edd canary start');
    assert.throws(() => canaryStartPlan(0, { percent: 150, interval: 'soon' }), (e: unknown) => {
      assert.ok(e instanceof CanaryPlanError);
      assert.strictEqual(e.problems.length, 3, e.message);
      assert.match(e.message, /--percent must be above 0 and at most 100, not 150/);
      assert.match(e.message, /--interval must be a duration/);
      return true;
    });
  });

  describe('against a real server', () => {
    let dir: string;
    let server: RunningServer;
    before(async () => {
      ({ dir } = await servingWorkspace());
      server = await startServer({ spec: loadServiceSpec('penguins.service.yaml', dir), port: 0, pollMs: 50 });
    });
    after(async () => {
      await server?.close();
      fs.rmSync(dir, { recursive: true, force: true });
    });

    it('a start request is answered by the server; status lines name the share; a stop request ends it', async () => {
      assert.strictEqual(readCanaryStatus(dir, 'penguins'), undefined);
      assert.strictEqual(requestCanaryStop(dir, { model: 'penguins', actor: 'tester' }), undefined, 'nothing to stop: no request written');
      assert.ok(!fs.existsSync(path.join(canaryDir(dir, 'penguins'), REQUEST_FILE)));

      const request = requestCanaryStart(dir, { model: 'penguins', plan: canaryStartPlan(2, { percent: 25, interval: '1h' }), actor: 'tester', reason: '  try two  ' });
      const written = JSON.parse(fs.readFileSync(path.join(canaryDir(dir, 'penguins'), REQUEST_FILE), 'utf8')) as CanaryRequest;
      assert.deepStrictEqual([written.id, written.action, written.reason, written.plan], [request.id, 'start', 'try two', { version: 2, percent: 25, interval: '1h' }]);
      const s = await waitForCanaryStatus(dir, 'penguins', 20, x => x.id === request.id);
      assert.ok(s, 'the server answered');
      assert.deepStrictEqual([s.state, s.share, s.version, s.plan.step], ['running', 25, 2, 10]);
      assert.strictEqual(server.canary.current?.share, 25);
      const lines = canaryStatusLines(s);
      assert.strictEqual(lines[0], 'Canary of penguins@2: running at 25%');
      assert.ok(lines.some(l => /plan: start 25%, \+10% every 1h/.test(l)), lines.join('\n'));

      const before = requestCanaryStop(dir, { model: 'penguins', actor: 'tester', reason: 'enough' });
      assert.strictEqual(before?.id, request.id);
      const ended = await waitForCanaryStatus(dir, 'penguins', 20, x => x.state !== 'running');
      assert.strictEqual(ended?.state, 'stopped');
      assert.strictEqual(ended?.reason, 'enough');
    });

    it('waiting gives up after its deadline when no answer comes', async () => {
      const t0 = Date.now();
      assert.strictEqual(await waitForCanaryStatus(dir, 'nobody', 0.3, () => true), undefined);
      assert.ok(Date.now() - t0 >= 250);
    });
  });
});
