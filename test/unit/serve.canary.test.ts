import * as assert from 'assert';
import { execFile } from 'child_process';
import { randomUUID } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { onnx } from 'onnx-proto';
import { canaryDir, readJsonFile, REQUEST_FILE, STATUS_FILE, writeJsonAtomic, bucketOf, type CanaryRequest, type CanaryStatus } from '../../src/core/serve/canary';
import { listSegments, readLogLines, type EventRecord, type LogRecord, type PredictionRecord } from '../../src/core/serve/predictionLog';
import { startServer, type RunningServer } from '../../src/core/serve/server';
import { loadServiceSpec, ServiceSpecError, type RawCanary } from '../../src/core/serve/spec';
import { RunStore, type AuditEntry } from '../../src/core/store';
import { until } from './processes';
import { CLI, FIXTURE_MODEL, root } from './registryFixtures';
import { promoteElsewhere, servingWorkspace, SPEC } from './serve.fixtures';

/** The fixture model with another doc string: other bytes (a new version), the same answers. */
function sameAnswersModel(dest: string): string {
  const model = onnx.ModelProto.decode(fs.readFileSync(FIXTURE_MODEL));
  model.docString = 'retrained: same answers';
  fs.writeFileSync(dest, onnx.ModelProto.encode(model).finish());
  return dest;
}

/**
 * The fixture model, broken for short flippers: `features + 0·sqrt(features − [0, 0, 177.5, 0])` is NaN when
 * flipper_length_mm < 177.5, so those answers fail the output validation (500). Warm-up rows all have longer flippers.
 */
function nanBelowModel(dest: string): string {
  const model = onnx.ModelProto.decode(fs.readFileSync(FIXTURE_MODEL));
  const g = model.graph!;
  g.initializer!.push(
    onnx.TensorProto.create({ name: 'cut', dims: [4], dataType: onnx.TensorProto.DataType.FLOAT, floatData: [0, 0, 177.5, 0] }),
    onnx.TensorProto.create({ name: 'zero', dims: [1], dataType: onnx.TensorProto.DataType.FLOAT, floatData: [0] }),
  );
  const first = g.node![0];
  first.input![0] = 'guarded';
  g.node!.unshift(
    onnx.NodeProto.create({ opType: 'Sub', input: ['features', 'cut'], output: ['below'] }),
    onnx.NodeProto.create({ opType: 'Sqrt', input: ['below'], output: ['root'] }),
    onnx.NodeProto.create({ opType: 'Mul', input: ['root', 'zero'], output: ['nothing'] }),
    onnx.NodeProto.create({ opType: 'Add', input: ['features', 'nothing'], output: ['guarded'] }),
  );
  fs.writeFileSync(dest, onnx.ModelProto.encode(model).finish());
  return dest;
}

interface Row { instance: Record<string, number>; species: string }

/** The example's reference rows: the features and `row_id` (the sticky key), with their species for feedback. */
function referenceRows(): Row[] {
  const [head, ...lines] = fs.readFileSync(path.join(root, 'examples/penguins/data/reference.csv'), 'utf8').trim().split('\n');
  const cols = head.split(',');
  return lines.map(l => {
    const v = l.split(',');
    const get = (c: string) => v[cols.indexOf(c)];
    const instance: Record<string, number> = { row_id: Number(get('row_id')) };
    for (const f of ['bill_length_mm', 'bill_depth_mm', 'flipper_length_mm', 'body_mass_g']) instance[f] = Number(get(f));
    return { instance, species: get('species') };
  });
}

interface Answered { status: number; version: number; requestId: string; prediction: string; row: Row }

describe('serve: canary and shadow on a real server, registry and onnxruntime', function () {
  this.timeout(120_000);
  let dir: string;
  let storeFile: string;
  let server: RunningServer;
  const rows = referenceRows();
  let next = 0;

  before(async () => {
    ({ dir, storeFile } = await servingWorkspace(SPEC, tmp => [sameAnswersModel(path.join(tmp, 'same.onnx')), nanBelowModel(path.join(tmp, 'nan.onnx'))]));
    server = await startServer({ spec: loadServiceSpec('penguins.service.yaml', dir), port: 0, pollMs: 50 });
  });
  after(async () => {
    await server?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const statusFile = () => path.join(canaryDir(dir, 'penguins'), STATUS_FILE);
  const status = () => readJsonFile<CanaryStatus>(statusFile());

  /** Ask the server as `edd canary start` does, and wait until it answered. */
  async function startCanary(plan: RawCanary): Promise<CanaryStatus> {
    const request: CanaryRequest = { id: randomUUID(), action: 'start', model: 'penguins', time: Date.now(), actor: 'tester', plan };
    writeJsonAtomic(path.join(canaryDir(dir, 'penguins'), REQUEST_FILE), request);
    await until(() => status()?.id === request.id, 'the server to take the canary request');
    return status()!;
  }

  async function stopCanary(): Promise<void> {
    const request: CanaryRequest = { id: randomUUID(), action: 'stop', model: 'penguins', time: Date.now(), actor: 'tester' };
    writeJsonAtomic(path.join(canaryDir(dir, 'penguins'), REQUEST_FILE), request);
    await until(() => status()?.state !== 'running', 'the canary to stop');
  }

  async function predict(row: Row, requestId = randomUUID()): Promise<Answered> {
    const res = await fetch(`${server.url}/v1/models/penguins:predict`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-request-id': requestId }, body: JSON.stringify({ instances: [row.instance] }) });
    const json = await res.json() as { model_version: number; predictions: Array<{ prediction: string }> };
    return { status: res.status, version: json.model_version, requestId, prediction: json.predictions?.[0]?.prediction, row };
  }

  /** `n` requests over the reference rows, `concurrency` at a time. */
  async function load(n: number, concurrency = 8, each?: (a: Answered) => Promise<void>): Promise<Answered[]> {
    const out: Answered[] = [];
    let sent = 0;
    await Promise.all(Array.from({ length: concurrency }, async () => {
      while (sent < n) {
        sent++;
        const a = await predict(rows[next++ % rows.length]);
        out.push(a);
        if (each) await each(a);
      }
    }));
    return out;
  }

  const records = (): LogRecord[] => listSegments(path.join(dir, '.edd/serving/penguins')).flatMap(f => readLogLines(fs.readFileSync(f, 'utf8')));
  async function audit(): Promise<AuditEntry[]> {
    const store = await RunStore.open(storeFile, { readOnly: true, autoSave: false });
    try {
      return store.auditLog('penguins');
    } finally {
      await store.close();
    }
  }

  it('splits by a hash of the request id within a binomial tolerance (2,000 requests at 10%)', async () => {
    const s = await startCanary({ version: 4, percent: 10, interval: '1h' });
    assert.strictEqual(s.state, 'running', s.reason);
    assert.strictEqual(s.share, 10);
    const answers = await load(2000, 16);
    assert.ok(answers.every(a => a.status === 200));
    const onCanary = answers.filter(a => a.version === 4).length;
    const sd = Math.sqrt(2000 * 0.1 * 0.9);
    assert.ok(Math.abs(onCanary - 200) <= 4 * sd, `${onCanary} of 2000 on the canary; 200 ± ${Math.round(4 * sd)} expected`);
    // The split is the hash's: the same id meets the same version again.
    for (const a of answers.slice(0, 50)) assert.strictEqual((await predict(a.row, a.requestId as `${string}-${string}-${string}-${string}-${string}`)).version, a.version);
    const logged = records().filter((r): r is PredictionRecord => r.type === 'prediction' && r.slot === 'canary');
    assert.ok(logged.length >= onCanary && logged.every(r => r.version === 4));
    await stopCanary();
    assert.strictEqual(status()!.state, 'stopped');
    assert.ok((await load(50)).every(a => a.version === 1), 'after the stop every request is answered by production');
  });

  it('a sticky key keeps each key on one version, whatever the request id', async () => {
    await startCanary({ version: 4, percent: 50, interval: '1h', sticky_key: 'row_id' });
    const seen = new Map<number, Set<number>>();
    for (let round = 0; round < 4; round++) {
      for (const row of rows.slice(0, 60)) {
        const a = await predict(row);
        const set = seen.get(row.instance.row_id) ?? new Set<number>();
        set.add(a.version);
        seen.set(row.instance.row_id, set);
      }
    }
    assert.ok([...seen.values()].every(s => s.size === 1), 'a key met two versions');
    const onCanary = [...seen.values()].filter(s => s.has(4)).length;
    assert.ok(onCanary > 10 && onCanary < 50, `${onCanary} of 60 keys on the canary at 50%`);
    assert.strictEqual(bucketOf('row_id\u0000240') < 5000, seen.get(240)!.has(4));
    await stopCanary();
  });

  it('shadow: production answers every request, the candidate\'s answer is only logged with slot "shadow"', async () => {
    const s = await startCanary({ version: 2, mode: 'shadow', interval: '1h' });
    assert.strictEqual(s.state, 'running', s.reason);
    const answers = await load(60);
    assert.ok(answers.every(a => a.status === 200 && a.version === 1), 'an answer came from the shadow');
    const ids = new Set(answers.map(a => a.requestId));
    await until(() => records().filter(r => r.type === 'prediction' && r.slot === 'shadow' && ids.has(r.request_id)).length === 60, 'every shadow answer in the log');
    const shadow = records().filter((r): r is PredictionRecord => r.type === 'prediction' && r.slot === 'shadow' && ids.has(r.request_id));
    assert.ok(shadow.every(r => r.version === 2));
    // The flipped model disagrees with production: its answers are not what the clients got.
    const byId = new Map(answers.map(a => [a.requestId, a.prediction]));
    assert.ok(shadow.some(r => r.outputs!.prediction !== byId.get(r.request_id)));
    await stopCanary();
  });

  it('rolls back at once on a breached guard (prediction PSI), with the numbers in the audit log', async () => {
    await startCanary({ version: 2, percent: 50, step: 10, interval: '200ms', min_requests: 100 });
    await load(800, 8);
    await until(() => status()?.state === 'rolled_back', 'the guard to roll the canary back', 20_000);
    const s = status()!;
    assert.strictEqual(s.share, 0);
    assert.ok(s.last!.breached.includes('prediction_psi'), JSON.stringify(s.last));
    assert.match(s.reason!, /prediction PSI/);
    assert.ok((await load(40)).every(a => a.version === 1), 'after the rollback production answers everything');
    const entry = (await audit()).filter(e => e.action === 'canary' && e.version === 2 && e.details.decision === 'rollback').at(-1);
    assert.ok(entry, 'no rollback entry in the audit log');
    assert.match(entry.reason!, /rolled back at 50%: Guard breached: prediction PSI/);
    const report = entry.details.report as { prediction_psi: number; breached: string[] };
    assert.ok(report.prediction_psi > 0.25 && report.breached.includes('prediction_psi'));
    const event = records().filter((r): r is EventRecord => r.type === 'event' && r.kind === 'canary' && r.decision === 'rollback').at(-1);
    assert.ok(event && (event.details!.report as { prediction_psi: number }).prediction_psi === report.prediction_psi);
  });

  it('rolls back on lower accuracy once feedback arrived (Welch\'s one-sided test)', async () => {
    // The PSI guard is opened wide: accuracy alone must catch the flipped model.
    await startCanary({ version: 2, percent: 50, step: 10, interval: '300ms', min_requests: 10, guards: { prediction_psi: 1000, latency_p95_ratio: 20, min_feedback: 20 } });
    await load(600, 8, async a => {
      await fetch(`${server.url}/v1/feedback`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ request_id: a.requestId, label: a.row.species }) });
    });
    await until(() => status()?.state === 'rolled_back', 'the accuracy guard to roll the canary back', 30_000);
    const s = status()!;
    assert.deepStrictEqual(s.last!.breached, ['accuracy'], JSON.stringify(s.last));
    assert.ok(s.last!.accuracy.p_value! < 0.05);
    assert.ok(s.last!.accuracy.candidate.accuracy! < s.last!.accuracy.production.accuracy!);
  });

  it('rolls back on a higher error rate: a candidate whose answers fail the output validation for some inputs', async () => {
    await startCanary({ version: 5, percent: 50, interval: '200ms', min_requests: 20, guards: { latency_p95_ratio: 20 } });
    const short = rows.filter(r => r.instance.flipper_length_mm >= 185).slice(0, 40).map(r => ({ ...r, instance: { ...r.instance, flipper_length_mm: 170 } }));
    const answers: Answered[] = [];
    for (let i = 0; i < 200 && status()?.state === 'running'; i++) answers.push(await predict(short[i % short.length]));
    await until(() => status()?.state === 'rolled_back', 'the error-rate guard to roll the canary back', 20_000);
    assert.ok(answers.some(a => a.status === 500 && a.version === undefined), 'the broken candidate answered some requests with 500');
    const s = status()!;
    assert.ok(s.last!.breached.includes('error_rate'), JSON.stringify(s.last));
    assert.strictEqual(s.last!.candidate.error_rate, 1);
    assert.strictEqual(s.last!.production.error_rate, 0);
    assert.match(s.reason!, /error rate 1\.000 against production's 0\.000/);
    const entry = (await audit()).filter(e => e.action === 'canary' && e.version === 5 && e.details.decision === 'rollback').at(-1);
    assert.ok(entry && (entry.details.report as { breached: string[] }).breached.includes('error_rate'));
  });

  it('refuses a version that fails its warm-up (its output breaks the spec\'s rules), recorded in the audit log', async () => {
    const s = await startCanary({ version: 3, percent: 10 });
    assert.strictEqual(s.state, 'refused');
    assert.match(s.reason!, /version 3 cannot serve/);
    assert.ok((await audit()).some(e => e.action === 'canary' && e.version === 3 && e.details.decision === 'refused'));
  });

  it('edd canary start|status|stop reach the running server; bad numbers are usage errors', async () => {
    // Not spawnSync: the server runs in this process and must go on polling while the CLI waits for its answer.
    const cli = (...args: string[]) => new Promise<{ status: number; stdout: string; stderr: string }>(resolve => {
      execFile(process.execPath, [CLI, 'canary', ...args], { cwd: dir, encoding: 'utf8', env: { ...process.env, EDD_USER: 'Tester <t@example.com>' } }, (err, stdout, stderr) => {
        resolve({ status: err ? (typeof err.code === 'number' ? err.code : 70) : 0, stdout, stderr });
      });
    });
    const started = await cli('start', 'penguins@4', '--percent', '20', '--interval', '1h');
    assert.strictEqual(started.status, 0, started.stdout + started.stderr);
    assert.match(started.stdout, /Canary of penguins@4: running at 20%/);
    const st = JSON.parse((await cli('status', 'penguins', '--json')).stdout) as CanaryStatus;
    assert.strictEqual(st.state, 'running');
    assert.strictEqual(st.plan.percent, 20);
    const stopped = await cli('stop', 'penguins', '--reason', 'enough');
    assert.strictEqual(stopped.status, 0, stopped.stderr);
    assert.match(stopped.stdout, /stopped/);
    assert.match(stopped.stdout, /reason: enough/);
    const bad = await cli('start', 'penguins@4', '--percent', '150');
    assert.strictEqual(bad.status, 2);
    assert.match(bad.stderr, /--percent must be above 0 and at most 100, not 150/);
    const missing = await cli('start', 'penguins@9');
    assert.strictEqual(missing.status, 2);
    const audited = (await audit()).filter(e => e.action === 'canary' && e.version === 4 && e.details.canary === st.id);
    assert.deepStrictEqual(audited.map(e => [e.details.decision, e.actor]), [['start', 'Tester <t@example.com>'], ['stop', 'Tester <t@example.com>']]);
  });

  it('a canary whose version is promoted by someone else ends once the server switched to it', async () => {
    await startCanary({ version: 4, percent: 10, interval: '1h' });
    await promoteElsewhere(storeFile, 4);
    await until(() => status()?.state === 'stopped', 'the canary to end after the outside promotion');
    assert.match(status()!.reason!, /version 4 became the served version outside the canary/);
    assert.strictEqual(server.service.current!.version.version, 4);
    await promoteElsewhere(storeFile, 1);
    await until(() => server.service.current!.version.version === 1, 'the server to switch back to version 1');
  });

  it('steps up over short intervals and promotes at 100% through the registry; the blue-green switch takes over', async () => {
    // Latency on a 2-core machine shared with other jobs swings by tens of ms, and the rows are sent in the file's
    // order (grouped by species), so a window's prediction mix differs between the two slots by chance (PSI 0.28 seen
    // once): this test is about the steps, the guards have their own tests.
    await startCanary({ version: 4, percent: 30, step: 35, interval: '200ms', min_requests: 100, guards: { latency_p95_ratio: 20, latency_p95_slack_ms: 100, prediction_psi: 10 } });
    const shares = new Set<number>();
    let stop = false;
    const traffic = (async () => {
      while (!stop) {
        await load(20, 4);
        shares.add(status()!.share);
      }
    })();
    try {
      await until(() => status()?.state === 'promoted', 'the canary to be promoted', 30_000);
    } catch (e) {
      throw new Error(`${(e as Error).message}: ${JSON.stringify(status())}`);
    } finally {
      stop = true;
      await traffic;
    }
    const decisions = status()!.decisions.map(d => `${d.decision} ${d.share}`);
    assert.deepStrictEqual(decisions, ['start 30', 'step 65', 'promote 100']);
    assert.strictEqual(server.service.current!.version.version, 4);
    assert.ok((await load(30)).every(a => a.version === 4));
    const log = await audit();
    const promoted = log.filter(e => e.action === 'promote' && e.version === 4).at(-1)!;
    assert.strictEqual(promoted.toStage, 'production');
    assert.match(promoted.reason!, /canary of version 4 passed every step/);
    assert.ok(log.some(e => e.action === 'archive' && e.version === 1));
    const store = await RunStore.open(storeFile, { readOnly: true, autoSave: false });
    assert.strictEqual(store.findModelVersion('penguins', 'production')!.version, 4);
    assert.ok(store.verifyAuditLog().ok, 'canary entries keep the audit log verifiable');
    await store.close();
  });
});

describe('serve: the spec\'s canary section', () => {
  it('fills in the defaults, accepts a sub-second interval and refuses a zero one', async () => {
    const { dir } = await servingWorkspace(`${SPEC}canary:\n  version: 2\n  interval: 200ms\n  guards: { prediction_psi: 0.5 }\n`);
    try {
      const spec = loadServiceSpec('penguins.service.yaml', dir);
      assert.deepStrictEqual(spec.canary, {
        version: 2, percent: 10, step: 10, interval: '200ms', interval_ms: 200, mode: 'canary', min_requests: 100,
        guards: { error_rate_delta: 0.02, latency_p95_ratio: 2, latency_p95_slack_ms: 10, prediction_psi: 0.5, accuracy_p_value: 0.05, min_feedback: 30 },
      });
      const server = await startServer({ spec, port: 0, pollMs: 50 });
      try {
        assert.strictEqual(server.canary.current?.state, 'running', 'the spec\'s canary starts with the server');
        assert.strictEqual(server.canary.current?.share, 10);
      } finally {
        await server.close();
      }
      assert.strictEqual(readJsonFile<CanaryStatus>(path.join(canaryDir(dir, 'penguins'), STATUS_FILE))!.state, 'stopped');
      // It ran (and ended with the server): a restart does not run it again.
      const again = await startServer({ spec, port: 0, pollMs: 50 });
      try {
        assert.strictEqual(again.canary.current, undefined);
      } finally {
        await again.close();
      }
      fs.writeFileSync(path.join(dir, 'bad.service.yaml'), `${SPEC}canary:\n  version: 2\n  interval: 0s\n  mode: blue\n`);
      assert.throws(() => loadServiceSpec('bad.service.yaml', dir), (e: ServiceSpecError) => {
        const text = e.details.join('\n');
        return /canary\.interval` must be longer than zero/.test(text) && /bad\.service\.yaml:\d+:\d+ .*mode/.test(text);
      });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
