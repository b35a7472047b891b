import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import initSqlJs from 'sql.js';
import { logFileOf, RunStore, StoreCorruptError } from '../../src/core/store';
import { tempFolder } from '../store/helpers';

// The index's operation log (src/core/store/oplog.ts): saves append records, checkpoints rewrite the index file, and a
// reader gets the index with the log applied. What a crash or a damaged disk leaves in the log, and what readers and
// writers then do.

const HEADER = 64;

/** The offsets where the log's records start (from their length fields). */
function recordStarts(log: Buffer): number[] {
  const starts: number[] = [];
  for (let at = HEADER; at + 8 <= log.length; at += 8 + log.readUInt32LE(at)) starts.push(at);
  return starts;
}

describe('run store: the operation log', () => {
  let folder: ReturnType<typeof tempFolder>;
  let log: string;
  const open: RunStore[] = [];
  beforeEach(() => {
    folder = tempFolder();
    log = logFileOf(folder.file);
  });
  afterEach(async () => {
    for (const s of open.splice(0)) await s.close().catch(() => undefined);
    folder.cleanup();
  });

  async function openStore(options: Parameters<typeof RunStore.open>[1] = {}): Promise<RunStore> {
    const s = await RunStore.open(folder.file, { autoSave: false, ...options });
    open.push(s);
    return s;
  }

  /** A store whose first save wrote the index file and whose next `n` saves appended one run each to the log. */
  async function storeWithLog(n: number): Promise<string[]> {
    const store = await RunStore.open(folder.file, { autoSave: false });
    const ids = [store.createRun({ experimentId: 'e', status: 'finished' }).id];
    await store.save();
    const head = fs.statSync(folder.file).ino;
    for (let i = 0; i < n; i++) {
      const run = store.createRun({ experimentId: 'e', status: 'running', params: { i } });
      store.addMetrics([{ runId: run.id, key: 'loss', step: 0, value: 1 / (i + 1) }]);
      store.updateRun(run.id, { status: 'finished', exitCode: 0 });
      await store.save();
      ids.push(run.id);
    }
    await store.close();
    assert.strictEqual(fs.statSync(folder.file).ino, head, 'the saves after the first appended to the log');
    return ids;
  }

  async function ids(options: Parameters<typeof RunStore.open>[1] = {}): Promise<string[]> {
    const s = await RunStore.open(folder.file, { readOnly: true, ...options });
    try {
      return s.listRuns().map(r => r.id).sort();
    } finally {
      await s.close();
    }
  }

  it('a save appends one record; a reopened store is the index file with the records applied, values exactly as written', async () => {
    const store = await openStore();
    store.createRun({ id: 'first', experimentId: 'e' });
    await store.save();
    const indexBytes = fs.readFileSync(folder.file);
    store.upsertExperiment({ id: 'e', name: 'Experiment E', hypothesis: 'lower lr helps' });
    const run = store.createRun({ id: 'second', experimentId: 'e', params: { lr: 0.01, layers: [1, 2] }, tags: { team: '한글' }, environment: { node: 'v20' }, configSnapshot: 'a: 1\n' });
    store.addMetrics([
      { runId: run.id, key: 'loss', step: 0, value: NaN },
      { runId: run.id, key: 'best', step: 0, value: Infinity },
      { runId: run.id, key: 'worst', step: 0, value: -Infinity },
      { runId: run.id, key: 'f1', step: 3, value: 0.1 + 0.2 },
    ]);
    store.addArtifact({ runId: run.id, path: 'model.onnx', kind: 'model', sha256: 'ab'.repeat(32), size: 123 });
    store.updateRun('first', { status: 'failed', error: 'line 1\nline 2' });
    const before = fs.existsSync(log) ? fs.statSync(log).size : 0;
    await store.save();
    assert.ok(fs.readFileSync(folder.file).equals(indexBytes), 'the index file was not rewritten');
    assert.strictEqual(recordStarts(fs.readFileSync(log)).length, 1);
    assert.ok(fs.statSync(log).size > before);
    await store.close();

    const reopened = await openStore({ readOnly: true });
    const second = reopened.getRun('second')!;
    assert.deepStrictEqual([second.params, second.tags, second.environment, second.configSnapshot], [{ lr: 0.01, layers: [1, 2] }, { team: '한글' }, { node: 'v20' }, 'a: 1\n']);
    const finals = reopened.finalMetrics('second');
    assert.ok(Number.isNaN(finals.loss));
    assert.deepStrictEqual([finals.best, finals.worst, finals.f1], [Infinity, -Infinity, 0.1 + 0.2]);
    assert.deepStrictEqual(reopened.getArtifacts('second').map(a => [a.path, a.sha256, a.size]), [['model.onnx', 'ab'.repeat(32), 123]]);
    assert.deepStrictEqual([reopened.getRun('first')!.status, reopened.getRun('first')!.error], ['failed', 'line 1\nline 2']);
    assert.deepStrictEqual(reopened.listExperiments().map(e => [e.id, e.name, e.hypothesis]), [['e', 'Experiment E', 'lower lr helps']]);
  });

  it('a torn last record (a writer killed mid-append) is skipped by readers and cut off by the next save', async () => {
    const saved = await storeWithLog(3);
    const whole = fs.readFileSync(log);
    const last = recordStarts(whole).pop()!;
    for (const cut of [last + 3, last + 8, last + 20, whole.length - 1]) {
      fs.writeFileSync(log, whole.subarray(0, cut));
      assert.deepStrictEqual(await ids(), saved.slice(0, 3).sort(), `cut at ${cut}: the run of the torn record is not there, the others are`);
    }
    // the next writer cuts the torn bytes off and appends after the last whole record
    const store = await openStore();
    const next = store.createRun({ experimentId: 'e' });
    await store.save();
    await store.close();
    const after = fs.readFileSync(log);
    assert.deepStrictEqual(recordStarts(after).length, 3, 'two whole records and the new one');
    assert.ok(after.subarray(0, last).equals(whole.subarray(0, last)), 'what was whole is kept byte for byte');
    assert.deepStrictEqual(await ids(), [...saved.slice(0, 3), next.id].sort());
  });

  it('zeros after the last record (a file extended before its data reached the disk) are a torn tail, not damage', async () => {
    const saved = await storeWithLog(2);
    fs.appendFileSync(log, Buffer.alloc(700));
    assert.deepStrictEqual(await ids(), saved.sort());
    const store = await openStore();
    store.createRun({ id: 'after', experimentId: 'e' });
    await store.save();
    await store.close();
    assert.deepStrictEqual(await ids(), [...saved, 'after'].sort());
  });

  it('a damaged record with records after it: StoreCorruptError naming the log, a copy kept, nothing written', async () => {
    await storeWithLog(3);
    const bytes = fs.readFileSync(log);
    const second = recordStarts(bytes)[1];
    bytes[second + 8 + 5] ^= 0xff; // a byte of the second record's payload
    fs.writeFileSync(log, bytes);
    const index = fs.readFileSync(folder.file);
    await assert.rejects(RunStore.open(folder.file), (e: unknown) => {
      assert.ok(e instanceof StoreCorruptError, String(e));
      assert.strictEqual(e.file, log);
      assert.match(e.reason, new RegExp(`damaged record at byte ${second}`));
      assert.ok(e.backupPath && fs.readFileSync(e.backupPath).equals(bytes), 'a byte-for-byte copy of the log');
      return true;
    });
    assert.ok(fs.readFileSync(log).equals(bytes) && fs.readFileSync(folder.file).equals(index), 'neither file was touched');
  });

  it('a file that is not a log where the log should be is reported, not read over', async () => {
    await storeWithLog(1);
    fs.writeFileSync(log, 'hello');
    await assert.rejects(RunStore.open(folder.file, { readOnly: true }), (e: unknown) => e instanceof StoreCorruptError && /header/.test(e.reason));
  });

  it('a checkpoint rewrites the index file with everything and removes the log; a stale log left by a crash is ignored and replaced', async () => {
    const saved = await storeWithLog(3);
    const staleLog = fs.readFileSync(log);
    const store = await openStore();
    await store.checkpoint();
    await store.close();
    assert.ok(!fs.existsSync(log));
    const SQL = await initSqlJs();
    const db = new SQL.Database(fs.readFileSync(folder.file));
    assert.deepStrictEqual(db.exec('SELECT id FROM runs ORDER BY id')[0].values.map(r => r[0]), saved.slice().sort());
    db.close();
    // a crash between writing the new index file and removing the old log: the log names the old index
    fs.writeFileSync(log, staleLog);
    assert.deepStrictEqual(await ids(), saved.slice().sort(), 'its records are not applied twice');
    const writer = await openStore();
    writer.createRun({ id: 'new', experimentId: 'e' });
    await writer.save();
    await writer.close();
    assert.deepStrictEqual(recordStarts(fs.readFileSync(log)).length, 1, 'a new log with the new record only');
    assert.deepStrictEqual(await ids(), [...saved, 'new'].sort());
  });

  it('the log is checkpointed when it would pass its limit, and the index file is the whole store after it', async () => {
    const store = await openStore({ logCheckpointBytes: 3000 });
    let checkpoints = 0;
    let last = -1;
    for (let i = 0; i < 40; i++) {
      store.createRun({ experimentId: 'e', params: { i, pad: 'x'.repeat(100) } });
      await store.save();
      const ino = fs.statSync(folder.file).ino;
      if (ino !== last) checkpoints++;
      last = ino;
      if (fs.existsSync(log)) assert.ok(fs.statSync(log).size <= 3000);
    }
    assert.ok(checkpoints >= 5, `${checkpoints} checkpoints`);
    assert.strictEqual((await ids()).length, 40);
  });

  describe('two processes (two stores on one file)', () => {
    it('a reader picks up appended records, and its own unsaved change goes after them', async () => {
      const writer = await openStore();
      writer.createRun({ id: 'r1', experimentId: 'e', status: 'running' });
      await writer.save();
      const reader = await openStore();
      const changes: string[] = [];
      reader.onDidChange(c => changes.push(c.origin));

      writer.updateRun('r1', { status: 'finished' });
      writer.createRun({ id: 'r2', experimentId: 'e' });
      await writer.save();
      assert.strictEqual(await reader.reloadIfChanged(), true);
      assert.deepStrictEqual([reader.getRun('r1')!.status, reader.getRun('r2')?.id], ['finished', 'r2']);
      assert.ok(changes.includes('external'));
      assert.strictEqual(await reader.reloadIfChanged(), false, 'nothing new: one stat');

      // both change r2; the reader saves last, so its value is the one on disk, in both copies and for a third
      writer.updateRun('r2', { error: 'from the writer' });
      await writer.save();
      reader.updateRun('r2', { error: 'from the reader' });
      reader.createRun({ id: 'r3', experimentId: 'e' });
      const merged: boolean[] = [];
      reader.onDidSave(s => merged.push(s.merged));
      await reader.save();
      assert.deepStrictEqual(merged, [true]);
      assert.strictEqual(reader.getRun('r2')!.error, 'from the reader');
      assert.strictEqual(await writer.reloadIfChanged(), true);
      assert.strictEqual(writer.getRun('r2')!.error, 'from the reader');
      const third = await RunStore.open(folder.file, { readOnly: true });
      assert.deepStrictEqual(third.listRuns().map(r => [r.id, r.status]).sort(), [['r1', 'finished'], ['r2', 'queued'], ['r3', 'queued']]);
      assert.strictEqual(third.getRun('r2')!.error, 'from the reader');
      await third.close();
    });

    it('a reader whose copy predates a checkpoint by another process reloads the new index file', async () => {
      const writer = await openStore({ logCheckpointBytes: 2000 });
      writer.createRun({ id: 'r0', experimentId: 'e' });
      await writer.save();
      const reader = await openStore();
      for (let i = 1; i <= 20; i++) {
        writer.createRun({ id: `r${i}`, experimentId: 'e', params: { pad: 'y'.repeat(150) } });
        await writer.save();
        if (i % 7 === 0) {
          await reader.reloadIfChanged();
          assert.strictEqual(reader.listRuns().length, i + 1);
        }
      }
      await reader.reloadIfChanged();
      assert.strictEqual(reader.listRuns().length, 21);
      assert.ok(fs.statSync(folder.file).size > 0);
    });

    it('the registry audit chain stays intact across appended records from two processes', async () => {
      const a = await openStore();
      const run = a.createRun({ id: 'r', experimentId: 'e', status: 'finished' });
      await a.save();
      const b = await openStore();
      a.registerModelVersion({ model: 'm', runId: run.id, file: path.join('models', 'm', 'v1.onnx'), sha256: 'cd'.repeat(32), size: 10, actor: 'alice' });
      await a.save();
      await b.reloadIfChanged();
      b.registerModelVersion({ model: 'm', runId: run.id, file: path.join('models', 'm', 'v2.onnx'), sha256: 'ef'.repeat(32), size: 11, actor: 'bob' });
      await b.save();
      await a.reloadIfChanged();
      const reopened = await RunStore.open(folder.file, { readOnly: true });
      for (const s of [a, b, reopened]) {
        assert.deepStrictEqual(s.auditLog('m').map(e => [e.action, e.actor]), [['register', 'alice'], ['register', 'bob']]);
        assert.strictEqual(s.verifyAuditLog().ok, true);
      }
      await reopened.close();
    });
  });
});
