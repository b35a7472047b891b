import * as assert from 'assert';
import { RunStore, StoreNotFoundError, type MetricPoint, type StoreChange } from '../../src/core/store';
import { tempFolder } from '../store/helpers';

describe('run store: records and listings', () => {
  let folder: ReturnType<typeof tempFolder>;
  let store: RunStore;

  beforeEach(async () => {
    folder = tempFolder();
    store = await RunStore.open(folder.file, { autoSave: false });
  });

  afterEach(async () => {
    await store.close().catch(() => undefined);
    folder.cleanup();
  });

  async function reopen(): Promise<RunStore> {
    await store.close();
    store = await RunStore.open(folder.file, { autoSave: false });
    return store;
  }

  describe('experiments', () => {
    it('creates, updates only the given fields, and keeps created/updated times', () => {
      const created = store.upsertExperiment({ id: 'exp-a', name: 'Baseline', hypothesis: 'Dropout helps', configPath: 'experiments/a.yaml' });
      assert.deepStrictEqual(
        { ...created, createdAt: 0, updatedAt: 0 },
        { id: 'exp-a', name: 'Baseline', hypothesis: 'Dropout helps', configPath: 'experiments/a.yaml', hypothesisStatus: null, hypothesisDecidedBy: null, hypothesisDecidedAt: null, createdAt: 0, updatedAt: 0 },
      );
      assert.strictEqual(typeof created.createdAt, 'number');
      const updated = store.upsertExperiment({ id: 'exp-a', hypothesis: null });
      assert.strictEqual(updated.name, 'Baseline');
      assert.strictEqual(updated.configPath, 'experiments/a.yaml');
      assert.strictEqual(updated.hypothesis, null);
      assert.strictEqual(updated.createdAt, created.createdAt);
      assert.ok(updated.updatedAt >= created.updatedAt);
      assert.strictEqual(store.upsertExperiment({ id: 'exp-b' }).name, 'exp-b', 'the name defaults to the id');
    });

    it('lists experiments by name with run count and newest run time', () => {
      store.upsertExperiment({ id: 'z', name: 'beta' });
      store.upsertExperiment({ id: 'y', name: 'Alpha' });
      store.upsertExperiment({ id: 'x', name: 'gamma' });
      store.createRun({ experimentId: 'z', createdAt: 1000 });
      store.createRun({ experimentId: 'z', createdAt: 3000 });
      store.createRun({ experimentId: 'y', createdAt: 2000 });
      const list = store.listExperiments();
      assert.deepStrictEqual(list.map(e => [e.id, e.runCount, e.lastRunAt]), [['y', 1, 2000], ['z', 2, 3000], ['x', 0, null]]);
    });

    it('a run for an unknown experiment creates the experiment', () => {
      store.createRun({ experimentId: 'new-exp' });
      assert.deepStrictEqual(store.listExperiments().map(e => [e.id, e.name, e.runCount]), [['new-exp', 'new-exp', 1]]);
    });

    it('rejects malformed input with a message naming the field', () => {
      assert.throws(() => store.upsertExperiment({ id: '' }), /experiment id must be a non-empty string/);
      assert.throws(() => store.upsertExperiment({ id: 'a', hypothesis: 3 as unknown as string }), /hypothesis must be a string or null, got 3/);
    });
  });

  describe('runs', () => {
    it('creates a run with defaults and a UUID, and reads it back', async () => {
      const run = store.createRun({ experimentId: 'e', params: { lr: 0.01, layers: [64, 32] }, configSnapshot: 'experiment:\n  id: e\n' });
      assert.match(run.id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      assert.strictEqual(run.status, 'queued');
      assert.strictEqual(run.startedAt, null);
      assert.deepStrictEqual(store.getRun(run.id), run);
      assert.deepStrictEqual((await reopen()).getRun(run.id), run);
    });

    it('stores every field of the record', async () => {
      const full = {
        id: '11111111-2222-4333-8444-555555555555',
        experimentId: 'e',
        configPath: 'experiments/e.yaml',
        configSnapshot: 'yaml text',
        params: { lr: 0.1, optimizer: { name: 'adam', betas: [0.9, 0.999] } },
        status: 'failed' as const,
        createdAt: 1_700_000_000_000,
        startedAt: 1_700_000_000_500,
        endedAt: 1_700_000_060_500,
        durationMs: 60_000,
        exitCode: 137,
        gitCommit: 'a'.repeat(40),
        gitDirty: false,
        environment: { python: '3.12.1', packages: { torch: '2.5.0' } },
        seed: 4_294_967_295,
        datasetFingerprint: 'sha256:abc',
        peakMemoryBytes: 12_884_901_888,
        logPath: '.edd/runs/1/log.txt',
        error: 'CUDA out of memory',
        ownerPid: 4242,
        ownerStartTime: 987_654_321,
        ownerHost: 'gpu-box',
        tags: { sweep_id: 's1', trial_index: '3', 'edd.origin': 'mlflow' },
        externalId: 'mlflow:0a1b2c',
      };
      assert.deepStrictEqual(store.createRun(full), full);
      assert.deepStrictEqual((await reopen()).getRun(full.id), full);
    });

    it('updates only the patched fields; null clears a field', () => {
      const run = store.createRun({ experimentId: 'e', seed: 1, gitCommit: 'abc' });
      const updated = store.updateRun(run.id, { status: 'running', startedAt: 5, gitCommit: null, seed: undefined });
      assert.deepStrictEqual(updated, { ...run, status: 'running', startedAt: 5, gitCommit: null });
    });

    it('rejects unknown runs, unknown fields, bad types and duplicate ids', () => {
      const run = store.createRun({ experimentId: 'e' });
      assert.throws(() => store.updateRun('nope', { status: 'finished' }), StoreNotFoundError);
      assert.throws(() => store.updateRun(run.id, { statu: 'x' } as never), /unknown or read-only run field "statu"/);
      assert.throws(() => store.updateRun(run.id, { status: 'done' as never }), /status must be one of queued, running, finished, failed, cancelled, interrupted, got "done"/);
      assert.throws(() => store.updateRun(run.id, { exitCode: 1.5 }), /exitCode must be an integer/);
      assert.throws(() => store.updateRun(run.id, { startedAt: NaN }), /startedAt must be a finite number/);
      assert.throws(() => store.createRun({ id: run.id, experimentId: 'e' }), /already exists/);
      assert.strictEqual(store.listRuns().length, 1);
    });

    it('lists runs newest first, per experiment, by status, with limit and offset', () => {
      const ids: string[] = [];
      for (let i = 0; i < 10; i++) ids.push(store.createRun({ experimentId: i % 2 ? 'odd' : 'even', createdAt: 1000 + i, status: i < 3 ? 'finished' : 'queued' }).id);
      assert.deepStrictEqual(store.listRuns().map(r => r.id), [...ids].reverse());
      assert.deepStrictEqual(store.listRuns({ experimentId: 'odd' }).map(r => r.id), [ids[9], ids[7], ids[5], ids[3], ids[1]]);
      assert.deepStrictEqual(store.listRuns({ experimentId: 'odd', limit: 2, offset: 1 }).map(r => r.id), [ids[7], ids[5]]);
      assert.deepStrictEqual(store.listRuns({ status: 'finished' }).map(r => r.id), [ids[2], ids[1], ids[0]]);
      assert.deepStrictEqual(store.listRuns({ experimentId: 'none' }), []);
      const summary = store.listRuns({ limit: 1 })[0];
      assert.ok(!('configSnapshot' in summary) && !('environment' in summary), 'listings leave out the large fields');
    });

    it('filters by tags, finds a run by its external id, and refuses a second run with the same external id', async () => {
      const a = store.createRun({ experimentId: 'e', tags: { sweep_id: 's1', trial_index: '0' }, createdAt: 1 });
      const b = store.createRun({ experimentId: 'e', tags: { sweep_id: 's1', trial_index: '1', 'a.b': 'dotted' }, createdAt: 2 });
      store.createRun({ experimentId: 'e', tags: { sweep_id: 's2' }, createdAt: 3 });
      const imported = store.createRun({ experimentId: 'e', externalId: 'mlflow:abc', createdAt: 4 });
      assert.deepStrictEqual(store.listRuns({ tags: { sweep_id: 's1' } }).map(r => r.id), [b.id, a.id]);
      assert.deepStrictEqual(store.listRuns({ tags: { sweep_id: 's1', trial_index: '0' } }).map(r => r.id), [a.id]);
      assert.deepStrictEqual(store.listRuns({ tags: { 'a.b': 'dotted' } }).map(r => r.id), [b.id], 'a key with a dot is one key');
      assert.deepStrictEqual(store.listRuns({ tags: { sweep_id: 's1' } })[0].tags, { sweep_id: 's1', trial_index: '1', 'a.b': 'dotted' });
      assert.strictEqual(store.findRunByExternalId('mlflow:abc')?.id, imported.id);
      assert.strictEqual(store.findRunByExternalId('mlflow:none'), undefined);
      assert.throws(() => store.createRun({ experimentId: 'e', externalId: 'mlflow:abc' }), /UNIQUE|already/);
      assert.throws(() => store.updateRun(a.id, { tags: { n: 1 as unknown as string } }), /tags\.n must be a string, got 1/);
      store.updateRun(a.id, { tags: { sweep_id: 's1', trial_index: '0', state: 'done' } });
      assert.deepStrictEqual((await reopen()).getRun(a.id)?.tags, { sweep_id: 's1', trial_index: '0', state: 'done' });
    });

    it('deletes a run with its metrics and artifacts', async () => {
      const a = store.createRun({ experimentId: 'e' });
      const b = store.createRun({ experimentId: 'e' });
      store.addMetrics([{ runId: a.id, key: 'loss', step: 0, value: 1 }, { runId: b.id, key: 'loss', step: 0, value: 2 }]);
      store.addArtifact({ runId: a.id, path: 'model.onnx', kind: 'model', sha256: null, size: 1 });
      assert.strictEqual(store.deleteRun(a.id), true);
      assert.strictEqual(store.deleteRun(a.id), false);
      assert.strictEqual(store.getRun(a.id), undefined);
      assert.deepStrictEqual(store.getMetrics(a.id), []);
      assert.deepStrictEqual(store.getArtifacts(a.id), []);
      await reopen();
      assert.deepStrictEqual(store.listRuns().map(r => [r.id, r.finalMetrics]), [[b.id, { loss: 2 }]]);
      assert.deepStrictEqual(store.listExperiments()[0].runCount, 1);
    });
  });

  describe('metrics', () => {
    it('final value of each metric is the value at its highest step, not the last one written', async () => {
      const run = store.createRun({ experimentId: 'e' });
      const other = store.createRun({ experimentId: 'e' });
      store.addMetrics([
        { runId: run.id, key: 'loss', step: 10, value: 0.5 },
        { runId: run.id, key: 'loss', step: 3, value: 0.9 },
        { runId: run.id, key: 'accuracy', step: 1, value: 0.7 },
        { runId: other.id, key: 'loss', step: 1, value: 2 },
      ]);
      store.addMetrics([{ runId: run.id, key: 'loss', step: 7, value: 0.6 }]);
      store.addMetrics([{ runId: run.id, key: 'accuracy', step: 2, value: 0.8 }]);
      const byId = () => new Map(store.listRuns().map(r => [r.id, r.finalMetrics]));
      assert.deepStrictEqual(byId().get(run.id), { accuracy: 0.8, loss: 0.5 });
      assert.deepStrictEqual(byId().get(other.id), { loss: 2 });
      assert.deepStrictEqual(store.finalMetrics(run.id), { accuracy: 0.8, loss: 0.5 });
      assert.deepStrictEqual(store.finalMetrics('unknown'), {});
      await reopen();
      assert.deepStrictEqual(byId().get(run.id), { accuracy: 0.8, loss: 0.5 });
    });

    it('a point at an existing step replaces it (also the final value)', () => {
      const run = store.createRun({ experimentId: 'e' });
      store.addMetrics([{ runId: run.id, key: 'loss', step: 1, value: 1 }, { runId: run.id, key: 'loss', step: 2, value: 2 }]);
      store.addMetrics([{ runId: run.id, key: 'loss', step: 2, value: 20, time: 5 }, { runId: run.id, key: 'loss', step: 1, value: 10, time: 5 }]);
      assert.deepStrictEqual(store.getMetrics(run.id), [
        { key: 'loss', step: 1, value: 10, time: 5 },
        { key: 'loss', step: 2, value: 20, time: 5 },
      ]);
      assert.deepStrictEqual(store.listRuns()[0].finalMetrics, { loss: 20 });
    });

    it('keeps NaN and ±Infinity', async () => {
      const run = store.createRun({ experimentId: 'e' });
      store.addMetrics([
        { runId: run.id, key: 'loss', step: 0, value: NaN },
        { runId: run.id, key: 'grad', step: 0, value: Infinity },
        { runId: run.id, key: 'grad', step: 1, value: -Infinity },
      ]);
      await reopen();
      assert.deepStrictEqual(store.getMetrics(run.id).map(p => p.value), [Infinity, -Infinity, NaN]);
      assert.deepStrictEqual(store.listRuns()[0].finalMetrics, { grad: -Infinity, loss: NaN });
    });

    it('reads points by key and step, lists keys, and defaults the time to now', () => {
      const run = store.createRun({ experimentId: 'e' });
      const before = Date.now();
      const points: MetricPoint[] = [];
      // more than one multi-row INSERT (64 rows) plus a remainder, keys interleaved, steps out of order
      for (let s = 199; s >= 0; s--) points.push({ runId: run.id, key: 'val/loss', step: s, value: s / 10 }, { runId: run.id, key: 'train/loss', step: s, value: -s });
      store.addMetrics(points);
      const val = store.getMetrics(run.id, 'val/loss');
      assert.strictEqual(val.length, 200);
      assert.deepStrictEqual(val.map(p => p.step), Array.from({ length: 200 }, (_, i) => i));
      assert.strictEqual(val[42].value, 4.2);
      assert.ok(val.every(p => p.time! >= before && p.time! <= Date.now()));
      assert.strictEqual(store.getMetrics(run.id).length, 400);
      assert.deepStrictEqual(store.getMetrics(run.id, 'missing'), []);
      assert.deepStrictEqual(store.metricKeys(run.id), ['train/loss', 'val/loss']);
      assert.deepStrictEqual(store.metricKeys('unknown'), []);
    });

    it('a batch is all or nothing: a bad point or an unknown run adds nothing', () => {
      const run = store.createRun({ experimentId: 'e' });
      const good = { runId: run.id, key: 'loss', step: 0, value: 1 };
      assert.throws(() => store.addMetrics([good, { runId: run.id, key: 'loss', step: 1.5, value: 1 }]), /metric point 1 \(loss\): step must be an integer, got 1.5/);
      assert.throws(() => store.addMetrics([good, { runId: run.id, key: 'loss', step: 2, value: '1' as never }]), /value must be a number/);
      assert.throws(() => store.addMetrics([good, { runId: 'ghost', key: 'loss', step: 1, value: 1 }]), StoreNotFoundError);
      assert.deepStrictEqual(store.getMetrics(run.id), []);
      assert.deepStrictEqual(store.metricKeys(run.id), []);
      store.addMetrics([good, { runId: run.id, key: 'acc', step: 0, value: 1 }]);
      assert.deepStrictEqual(store.metricKeys(run.id), ['acc', 'loss']);
    });
  });

  describe('artifacts', () => {
    it('adds, replaces by path, and lists by path', async () => {
      const run = store.createRun({ experimentId: 'e' });
      store.addArtifact({ runId: run.id, path: 'preds.csv', kind: 'predictions', sha256: 'aa', size: 10 });
      store.addArtifact({ runId: run.id, path: 'model.onnx', kind: 'model', sha256: 'bb', size: 255 });
      store.addArtifact({ runId: run.id, path: 'preds.csv', kind: 'predictions', sha256: 'cc', size: 12 });
      await reopen();
      assert.deepStrictEqual(store.getArtifacts(run.id), [
        { runId: run.id, path: 'model.onnx', kind: 'model', sha256: 'bb', size: 255 },
        { runId: run.id, path: 'preds.csv', kind: 'predictions', sha256: 'cc', size: 12 },
      ]);
      assert.throws(() => store.addArtifact({ runId: 'ghost', path: 'x', kind: null, sha256: null, size: null }), StoreNotFoundError);
      assert.throws(() => store.addArtifact({ runId: run.id, path: 'x', kind: null, sha256: null, size: -1 }), /size must be a non-negative integer/);
    });
  });

  describe('change listeners', () => {
    it('reports local changes once per tick with the runs touched', async () => {
      const changes: StoreChange[] = [];
      const sub = store.onDidChange(c => changes.push(c));
      const run = store.createRun({ experimentId: 'e' });
      store.addMetrics([{ runId: run.id, key: 'loss', step: 0, value: 1 }]);
      store.updateRun(run.id, { status: 'running' });
      assert.strictEqual(changes.length, 0, 'delivered after the current tick');
      await Promise.resolve();
      assert.deepStrictEqual(changes, [{ origin: 'local', runIds: [run.id], experiments: true }]);
      store.upsertExperiment({ id: 'e', name: 'E' });
      await Promise.resolve();
      assert.deepStrictEqual(changes[1], { origin: 'local', runIds: [], experiments: true });
      sub.dispose();
      store.deleteRun(run.id);
      await Promise.resolve();
      assert.strictEqual(changes.length, 2);
    });

    it('a throwing listener does not break the store', async () => {
      store.onDidChange(() => {
        throw new Error('listener bug');
      });
      store.createRun({ experimentId: 'e' });
      await Promise.resolve();
      await store.save();
      assert.strictEqual(store.listRuns().length, 1);
    });
  });

  describe('lifecycle', () => {
    it('a read-only store refuses mutations and never writes', async () => {
      store.createRun({ experimentId: 'e' });
      await store.close();
      store = await RunStore.open(folder.file, { readOnly: true });
      assert.throws(() => store.createRun({ experimentId: 'e' }), /read-only/);
      assert.strictEqual(store.listRuns().length, 1);
    });

    it('a closed store refuses reads and writes; close is idempotent', async () => {
      await store.close();
      await store.close();
      assert.throws(() => store.listRuns(), /closed/);
      assert.throws(() => store.createRun({ experimentId: 'e' }), /closed/);
      await assert.rejects(store.save(), /closed/);
    });
  });
});

describe('run store: hypothesis verdicts', () => {
  it('sets the status with the test that decided it, survives a save and reopen, and refuses unknown statuses', async () => {
    const fs = await import('fs');
    const os = await import('os');
    const path = await import('path');
    const { RunStore } = await import('../../src/core/store');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edd-hyp-'));
    const file = path.join(dir, 'edd.sqlite');
    const store = await RunStore.open(file);
    store.upsertExperiment({ id: 'exp_b', name: 'B', hypothesis: 'B beats A' });
    const e = store.setHypothesisStatus('exp_b', 'supported', 'welch_t on val_accuracy: B better than A, p = 0.003');
    assert.strictEqual(e.hypothesisStatus, 'supported');
    assert.match(e.hypothesisDecidedBy!, /welch_t/);
    assert.ok(e.hypothesisDecidedAt! > 0);
    assert.throws(() => store.setHypothesisStatus('exp_b', 'proven' as never, null), /must be one of open, supported, refuted, inconclusive/);
    await store.close();
    const again = await RunStore.open(file, { readOnly: true });
    assert.strictEqual(again.getExperiment('exp_b')?.hypothesisStatus, 'supported');
    assert.strictEqual(again.listExperiments()[0].hypothesisStatus, 'supported');
    await again.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
