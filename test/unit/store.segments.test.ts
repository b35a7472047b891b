import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { RunStore, StoreCorruptError, type RunSummary } from '../../src/core/store';
import { spawnWriter, tempFolder, waitFor } from '../store/helpers';

// Old runs sealed into immutable segment files (src/core/store/segments.ts): every read sees head and segments as one
// store, a write to a sealed run copies it back, a damaged segment is detected and kept, a single-file store converts.

const SEGMENT = 10;

function segmentFiles(file: string): string[] {
  const dir = path.join(path.dirname(file), 'segments');
  return fs.existsSync(dir) ? fs.readdirSync(dir).filter(n => n.endsWith('.sqlite')).sort() : [];
}

/** `n` finished runs in two experiments, created 1 ms apart (so "newest first" has one answer), each with a final loss. */
async function fill(store: RunStore, n: number, from = 0): Promise<string[]> {
  const ids: string[] = [];
  for (let i = from; i < from + n; i++) {
    const run = store.createRun({
      experimentId: `exp_${i % 2}`, status: 'finished', createdAt: 1_700_000_000_000 + i, params: { i }, tags: { parity: String(i % 2), i: String(i) },
      externalId: `ext:${i}`,
    });
    store.addMetrics([{ runId: run.id, key: 'loss', step: 0, value: i }]);
    store.addArtifact({ runId: run.id, path: `model-${i}.onnx`, kind: 'model', sha256: null, size: i });
    ids.push(run.id);
  }
  await store.save();
  return ids;
}

const order = (runs: RunSummary[]) => runs.map(r => r.params.i as number);

describe('run store: segments', () => {
  let folder: ReturnType<typeof tempFolder>;
  beforeEach(() => (folder = tempFolder()));
  afterEach(() => folder.cleanup());

  it('seals old runs into segments and reads head and segments as one store', async () => {
    const store = await RunStore.open(folder.file, { autoSave: false, segmentRuns: SEGMENT });
    const ids = await fill(store, 65);
    // while the head holds more than 2 × 10 runs, the oldest 10 are sealed: 65 → 5 segments and 15 runs in the head
    assert.strictEqual(segmentFiles(folder.file).length, 5);
    await store.close();

    const reopened = await RunStore.open(folder.file, { autoSave: false, segmentRuns: SEGMENT });
    const experiments = reopened.listExperiments();
    assert.deepStrictEqual(experiments.map(e => [e.id, e.runCount, e.lastRunAt]), [['exp_0', 33, 1_700_000_000_064], ['exp_1', 32, 1_700_000_000_063]]);
    const all = reopened.listRuns();
    assert.deepStrictEqual(order(all), Array.from({ length: 65 }, (_, i) => 64 - i));
    assert.strictEqual(all[64].finalMetrics.loss, 0);
    // pages across the boundary, filters by experiment, status and tags
    assert.deepStrictEqual(order(reopened.listRuns({ limit: 5, offset: 38 })), [26, 25, 24, 23, 22]);
    assert.deepStrictEqual(order(reopened.listRuns({ experimentId: 'exp_1', limit: 3, offset: 15 })), [33, 31, 29]);
    assert.deepStrictEqual(order(reopened.listRuns({ tags: { i: '3' } })), [3]);
    assert.strictEqual(reopened.listRuns({ tags: { parity: '0' }, status: 'finished' }).length, 33);
    // a sealed run's record, final values, keys, artifacts, history; by external id
    const oldest = reopened.getRun(ids[0])!;
    assert.deepStrictEqual([oldest.params, oldest.tags.i, oldest.externalId], [{ i: 0 }, '0', 'ext:0']);
    assert.deepStrictEqual(reopened.finalMetrics(ids[1]), { loss: 1 });
    assert.deepStrictEqual(reopened.metricKeys(ids[1]), ['loss']);
    assert.deepStrictEqual(reopened.getArtifacts(ids[2]).map(a => a.path), ['model-2.onnx']);
    assert.deepStrictEqual(reopened.getMetrics(ids[3]).map(p => p.value), [3]);
    assert.strictEqual(reopened.findRunByExternalId('ext:4')?.id, ids[4]);
    assert.strictEqual(reopened.findRunByExternalId('ext:none'), undefined);
    // ids and external ids stay unique across segments
    assert.throws(() => reopened.createRun({ experimentId: 'exp_0', id: ids[0] }), /already exists/);
    assert.throws(() => reopened.createRun({ experimentId: 'exp_0', externalId: 'ext:1' }), /already exists/);
    await reopened.close();
  });

  it('an update, metrics, an artifact or a deletion of a sealed run copies it back into the head; the segment is not changed', async () => {
    const store = await RunStore.open(folder.file, { autoSave: false, segmentRuns: SEGMENT });
    const ids = await fill(store, 40);
    const before = segmentFiles(folder.file).map(n => fs.readFileSync(path.join(path.dirname(folder.file), 'segments', n)));
    store.updateRun(ids[0], { error: 'looked at again', tags: { reviewed: 'yes' } });
    store.addMetrics([{ runId: ids[1], key: 'acc', step: 3, value: 0.5 }]);
    store.addArtifact({ runId: ids[2], path: 'report.html', kind: null, sha256: null, size: null });
    assert.ok(store.deleteRun(ids[3]));
    await store.save();
    await store.close();

    const reopened = await RunStore.open(folder.file, { autoSave: false, segmentRuns: SEGMENT });
    assert.strictEqual(reopened.getRun(ids[0])?.error, 'looked at again');
    assert.deepStrictEqual(reopened.listRuns({ tags: { reviewed: 'yes' } }).map(r => r.id), [ids[0]]);
    assert.deepStrictEqual(reopened.finalMetrics(ids[1]), { acc: 0.5, loss: 1 });
    assert.deepStrictEqual(reopened.getArtifacts(ids[2]).map(a => a.path), ['model-2.onnx', 'report.html']);
    assert.strictEqual(reopened.getRun(ids[3]), undefined);
    assert.strictEqual(reopened.findRunByExternalId('ext:3'), undefined);
    // each run once, in its place; the counts lost the deleted run only
    const all = reopened.listRuns();
    assert.strictEqual(all.length, 39);
    assert.strictEqual(new Set(all.map(r => r.id)).size, 39);
    assert.deepStrictEqual(order(all).slice(-3), [2, 1, 0]);
    assert.deepStrictEqual(reopened.listExperiments().map(e => e.runCount), [20, 19]);
    const after = segmentFiles(folder.file).slice(0, before.length).map(n => fs.readFileSync(path.join(path.dirname(folder.file), 'segments', n)));
    assert.deepStrictEqual(after, before);
    await reopened.close();
  });

  it('a damaged segment is detected when it is read, and left where it is', async () => {
    const store = await RunStore.open(folder.file, { autoSave: false, segmentRuns: SEGMENT });
    const ids = await fill(store, 30);
    await store.close();
    const [first] = segmentFiles(folder.file);
    const segment = path.join(path.dirname(folder.file), 'segments', first);
    const bytes = fs.readFileSync(segment);
    bytes[bytes.length - 100] ^= 0xff;
    fs.writeFileSync(segment, bytes);

    // the head opens (the segment is not read for the first level of the tree or the newest runs)
    const reopened = await RunStore.open(folder.file, { autoSave: false, segmentRuns: SEGMENT });
    assert.deepStrictEqual(reopened.listExperiments().map(e => e.runCount), [15, 15]);
    assert.strictEqual(reopened.listRuns({ limit: 5 }).length, 5);
    assert.throws(() => reopened.getRun(ids[0]), (e: unknown) => e instanceof StoreCorruptError && /SHA-256/.test(e.message) && e.backupPath === segment);
    assert.throws(() => reopened.listRuns(), StoreCorruptError);
    await reopened.close();
    assert.deepStrictEqual(fs.readFileSync(segment), bytes);
  });

  it('a single-file store (schema 8) opens with every run and is sealed into segments by its first save', async () => {
    // a store written without segments is what an EDD before version 9 leaves: one index holding every run
    const big = await RunStore.open(folder.file, { autoSave: false, segmentRuns: 1000 });
    const ids = await fill(big, 45);
    await big.close();
    assert.deepStrictEqual(segmentFiles(folder.file), []);
    const sizeBefore = fs.statSync(folder.file).size;

    const store = await RunStore.open(folder.file, { autoSave: false, segmentRuns: SEGMENT });
    assert.strictEqual(store.listRuns().length, 45);
    store.updateRun(ids[44], { error: 'x' });
    await store.save();
    assert.strictEqual(segmentFiles(folder.file).length, 3);
    assert.ok(fs.statSync(folder.file).size < sizeBefore, 'the head shrank');
    assert.deepStrictEqual(order(store.listRuns()), Array.from({ length: 45 }, (_, i) => 44 - i));
    await store.close();
  });

  it('a version 4 store: its points and snapshots leave the index before its runs are sealed', async () => {
    fs.mkdirSync(path.dirname(folder.file), { recursive: true });
    fs.copyFileSync(path.resolve(__dirname, '../../../test/store/v4-store.sqlite'), folder.file);
    const store = await RunStore.open(folder.file, { autoSave: false, segmentRuns: 1 });
    const ids = store.listRuns().map(r => r.id);
    const before = ids.map(id => ({ run: store.getRun(id), metrics: store.getMetrics(id), finals: store.finalMetrics(id), artifacts: store.getArtifacts(id) }));
    assert.ok(before.some(b => b.metrics.length > 0 && b.run?.configSnapshot));
    // a third run: more than 2 × 1 runs in the head, so the first save seals the oldest one that is over
    store.createRun({ experimentId: 'exp_a', status: 'finished' });
    await store.close();
    assert.ok(segmentFiles(folder.file).length >= 1);

    const reopened = await RunStore.open(folder.file, { autoSave: false, segmentRuns: 1 });
    assert.deepStrictEqual(ids.map(id => ({ run: reopened.getRun(id), metrics: reopened.getMetrics(id), finals: reopened.finalMetrics(id), artifacts: reopened.getArtifacts(id) })), before);
    assert.deepStrictEqual(reopened.auditLog('penguins').map(e => e.action), ['register', 'promote', 'alias']);
    await reopened.close();
  });

  it('two processes: one seals while the other writes to the runs being sealed; nothing is lost', async function () {
    this.timeout(120_000);
    const store = await RunStore.open(folder.file, { autoSave: false, segmentRuns: SEGMENT });
    const ids = await fill(store, 20);
    // this process changes its old runs but has not saved; another process then adds runs and seals the old ones
    for (const id of ids) store.updateRun(id, { error: 'mine' });
    const writer = spawnWriter({ file: folder.file, runs: 15, points: 4, experimentId: 'other', tag: 'w', segmentRuns: SEGMENT });
    await writer.exited;
    assert.strictEqual(writer.stderr(), '');
    await waitFor(() => writer.done(), 'the writer to finish');
    assert.ok(segmentFiles(folder.file).length >= 1, 'the other process sealed a segment');
    await store.save();
    await store.close();

    const reopened = await RunStore.open(folder.file, { autoSave: false, segmentRuns: SEGMENT });
    const all = reopened.listRuns();
    assert.strictEqual(all.length, 35);
    assert.strictEqual(new Set(all.map(r => r.id)).size, 35);
    for (const id of ids) assert.strictEqual(reopened.getRun(id)?.error, 'mine', id);
    assert.deepStrictEqual(reopened.listExperiments().map(e => [e.id, e.runCount]), [['exp_0', 10], ['exp_1', 10], ['other', 15]]);
    await reopened.close();
  });
});
