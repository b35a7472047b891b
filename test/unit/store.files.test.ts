import * as assert from 'assert';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import initSqlJs from 'sql.js';
import { logFileOf as logOf, RunStore, SCHEMA_VERSION, StoreCorruptError, StoreError, StoreVersionError, type StoreSaved } from '../../src/core/store';
import { tempFolder, waitFor } from '../store/helpers';

const SQLITE_HEADER = Buffer.from('SQLite format 3\0', 'latin1');

/** A saved store with some content, for the damage tests. */
async function savedStore(file: string, runs = 20): Promise<string[]> {
  const store = await RunStore.open(file, { autoSave: false });
  const ids: string[] = [];
  for (let i = 0; i < runs; i++) {
    const run = store.createRun({ experimentId: `exp-${i % 3}`, params: { i, note: 'x'.repeat(200) } });
    store.addMetrics(Array.from({ length: 200 }, (_, s) => ({ runId: run.id, key: 'loss', step: s, value: 1 / (s + 1) })));
    ids.push(run.id);
  }
  await store.close();
  return ids;
}

/** The files next to the store, without `runs/` (the runs' metric histories, checked on their own). */
function siblings(file: string): string[] {
  return fs.readdirSync(path.dirname(file)).filter(n => n !== 'runs').sort();
}

describe('run store: files', () => {
  let folder: ReturnType<typeof tempFolder>;
  beforeEach(() => (folder = tempFolder()));
  afterEach(() => folder.cleanup());

  describe('opening', () => {
    it('a missing file gives a new store: the folder is created, the file on the first save', async () => {
      const store = await RunStore.open(folder.file);
      assert.ok(fs.statSync(path.dirname(folder.file)).isDirectory());
      assert.deepStrictEqual(siblings(folder.file), []);
      assert.deepStrictEqual(store.listExperiments(), []);
      store.createRun({ experimentId: 'e' });
      await store.close();
      assert.deepStrictEqual(siblings(folder.file), ['edd.sqlite']);
      assert.ok(fs.readFileSync(folder.file).subarray(0, 16).equals(SQLITE_HEADER));
    });

    it('importing the store module does not load sql.js; opening does', () => {
      const out = execFileSync(process.execPath, ['-e', `
        const loaded = () => Object.keys(require.cache).some(k => /sql-wasm/.test(k));
        const store = require(${JSON.stringify(path.resolve(__dirname, '../../src/core/store'))});
        const before = loaded();
        store.RunStore.open(${JSON.stringify(folder.file)}).then(s => s.close()).then(() => console.log(JSON.stringify([before, loaded()])));
      `], { encoding: 'utf8' });
      assert.deepStrictEqual(JSON.parse(out), [false, true]);
    });

    it('a wrong wasmPath fails with a message naming the option', async () => {
      await assert.rejects(RunStore.open(folder.file, { wasmPath: path.join(folder.dir, 'nope.wasm') }), /Cannot read the SQLite engine's wasm file .*nope\.wasm.*wasmPath/);
    });

    it('an explicit wasmPath (a copy of the wasm elsewhere) works', async () => {
      const copy = path.join(folder.dir, 'sql-wasm.wasm');
      fs.copyFileSync(require.resolve('sql.js/dist/sql-wasm.wasm'), copy);
      const store = await RunStore.open(folder.file, { wasmPath: copy });
      store.createRun({ experimentId: 'e' });
      await store.close();
      assert.strictEqual((await RunStore.open(folder.file, { readOnly: true })).listRuns().length, 1);
    });
  });

  describe('saving', () => {
    it('saves atomically: the first save and every checkpoint rename a temp file into place; the saves between append to the log', async () => {
      const store = await RunStore.open(folder.file, { autoSave: false, logCheckpointBytes: 4096 });
      let previous: number | undefined;
      let checkpoints = 0;
      let appends = 0;
      for (let i = 0; i < 30; i++) {
        const run = store.createRun({ experimentId: 'e', params: { i, text: 'x'.repeat(200) } });
        store.addMetrics(Array.from({ length: 1000 }, (_, s) => ({ runId: run.id, key: 'loss', step: s, value: s })));
        const logBefore = fs.existsSync(logOf(folder.file)) ? fs.statSync(logOf(folder.file)).size : 0;
        await store.save();
        // ext4 hands the replaced file's inode to the next temp file, so compare with the previous save only
        const ino = fs.statSync(folder.file).ino;
        if (ino !== previous) {
          checkpoints++;
          assert.ok(!fs.existsSync(logOf(folder.file)), 'a checkpoint removes the log its head took in');
        } else {
          appends++;
          assert.ok(fs.statSync(logOf(folder.file)).size > logBefore, 'the log grew');
          assert.ok(fs.statSync(logOf(folder.file)).size <= 4096, 'kept under the limit');
        }
        previous = ino;
        assert.deepStrictEqual(siblings(folder.file).filter(n => n !== 'edd.sqlite.oplog'), ['edd.sqlite'], 'no temp or lock file left');
      }
      await store.close();
      assert.ok(checkpoints >= 3 && appends >= 10, `${checkpoints} checkpoints, ${appends} appends`);
      const reopened = await RunStore.open(folder.file, { readOnly: true });
      assert.strictEqual(reopened.listRuns().length, 30);
      await reopened.close();
      // a checkpoint on request leaves the whole store in the one file
      const store2 = await RunStore.open(folder.file, { autoSave: false });
      await store2.checkpoint();
      await store2.close();
      assert.deepStrictEqual(siblings(folder.file), ['edd.sqlite']);
      const SQL = await initSqlJs();
      const db = new SQL.Database(fs.readFileSync(folder.file));
      assert.deepStrictEqual(db.exec('SELECT COUNT(*) FROM runs')[0].values, [[30]]);
      db.close();
    });

    it('save without changes does not write', async () => {
      const store = await RunStore.open(folder.file, { autoSave: false });
      store.createRun({ experimentId: 'e' });
      await store.save();
      const before = fs.statSync(folder.file);
      let saves = 0;
      store.onDidSave(() => saves++);
      await store.save();
      await store.close();
      assert.strictEqual(saves, 0);
      assert.strictEqual(fs.statSync(folder.file).ino, before.ino);
    });

    it('debounces: a burst of changes is one save, after the delay', async () => {
      const store = await RunStore.open(folder.file, { saveDelayMs: 100, maxSaveDelayMs: 10_000 });
      const saves: StoreSaved[] = [];
      store.onDidSave(s => saves.push(s));
      const started = Date.now();
      const run = store.createRun({ experimentId: 'e' });
      for (let s = 0; s < 50; s++) store.addMetrics([{ runId: run.id, key: 'loss', step: s, value: s }]);
      assert.strictEqual(saves.length, 0);
      assert.ok(!fs.existsSync(folder.file));
      await waitFor(() => saves.length > 0, 'the debounced save');
      assert.ok(Date.now() - started >= 100, 'not before the delay');
      assert.strictEqual(saves.length, 1);
      assert.strictEqual(store.hasUnsavedChanges, false);
      assert.strictEqual(saves[0].generation, 1);
      await store.close();
      assert.strictEqual(saves.length, 1, 'nothing left to flush on close');
    });

    it('debounce: a steady stream of changes still saves after maxSaveDelayMs', async () => {
      const store = await RunStore.open(folder.file, { saveDelayMs: 80, maxSaveDelayMs: 250 });
      let saves = 0;
      store.onDidSave(() => saves++);
      const run = store.createRun({ experimentId: 'e' });
      const started = Date.now();
      let step = 0;
      // a change every few milliseconds never leaves 80 ms of quiet
      await waitFor(() => {
        store.addMetrics([{ runId: run.id, key: 'loss', step: step++, value: 1 }]);
        return saves > 0;
      }, 'a save during the stream', 5000);
      const elapsed = Date.now() - started;
      assert.ok(elapsed >= 240 && elapsed < 2000, `saved after ${elapsed} ms`);
      await store.close();
    });

    it('close flushes pending changes without waiting for the delay', async () => {
      const store = await RunStore.open(folder.file, { saveDelayMs: 60_000 });
      const run = store.createRun({ experimentId: 'e' });
      const started = Date.now();
      await store.close();
      assert.ok(Date.now() - started < 5000);
      const reopened = await RunStore.open(folder.file, { readOnly: true });
      assert.strictEqual(reopened.getRun(run.id)?.id, run.id);
    });

    it('a store folder deleted while the store is open is created again by the next save', async () => {
      const store = await RunStore.open(folder.file, { autoSave: false });
      const a = store.createRun({ experimentId: 'e' });
      await store.save();
      fs.rmSync(path.dirname(folder.file), { recursive: true });
      const b = store.createRun({ experimentId: 'e' });
      await store.close();
      assert.deepStrictEqual((await RunStore.open(folder.file, { readOnly: true })).listRuns().map(r => r.id).sort(), [a.id, b.id].sort());
    });

    it('changes made while a save is writing are kept for the next save', async () => {
      const store = await RunStore.open(folder.file, { autoSave: false });
      const a = store.createRun({ experimentId: 'e' });
      // ~10 MB, so that the write takes long enough to change something in the middle of it
      store.addMetrics(Array.from({ length: 300_000 }, (_, s) => ({ runId: a.id, key: 'loss', step: s, value: Math.random() })));
      let settled = false;
      const saving = store.save().finally(() => (settled = true));
      let b: string | undefined;
      while (!b && !settled) {
        await new Promise(setImmediate);
        if (siblings(folder.file).some(n => n.includes('.tmp-'))) b = store.createRun({ experimentId: 'e' }).id;
      }
      await saving;
      assert.ok(b, 'the temp file was seen while the save was writing it');
      assert.strictEqual(store.hasUnsavedChanges, true);
      const written = await RunStore.open(folder.file, { readOnly: true });
      assert.strictEqual(written.getRun(b), undefined, 'not in the file that was being written');
      await store.close();
      const reopened = await RunStore.open(folder.file, { readOnly: true });
      assert.deepStrictEqual(new Set(reopened.listRuns().map(r => r.id)), new Set([a.id, b]));
    });
  });

  describe('damaged files', () => {
    async function expectCorrupt(file: string, reason: RegExp): Promise<StoreCorruptError> {
      const before = fs.readFileSync(file);
      const mtime = fs.statSync(file).mtimeMs;
      const error = await RunStore.open(file).then(
        () => assert.fail('opened a damaged store'),
        (e: unknown) => e,
      );
      assert.ok(error instanceof StoreCorruptError, `expected StoreCorruptError, got ${String(error)}`);
      assert.match(error.reason, reason);
      assert.strictEqual(error.file, file);
      assert.match(error.message, new RegExp(`${path.basename(file)} is damaged .*A copy was kept at .*\\.corrupt-.*move .* out of the way`));
      assert.ok(error.backupPath && path.basename(error.backupPath).startsWith('edd.sqlite.corrupt-'), String(error.backupPath));
      assert.ok(fs.readFileSync(error.backupPath).equals(before), 'the backup is a byte-for-byte copy');
      assert.ok(fs.readFileSync(file).equals(before), 'the original is untouched');
      assert.strictEqual(fs.statSync(file).mtimeMs, mtime);
      return error;
    }

    it('garbage instead of a database', async () => {
      fs.mkdirSync(path.dirname(folder.file), { recursive: true });
      fs.writeFileSync(folder.file, 'this is not a database\n'.repeat(100));
      await expectCorrupt(folder.file, /not an SQLite database/);
    });

    it('an empty file is not silently treated as a new store', async () => {
      fs.mkdirSync(path.dirname(folder.file), { recursive: true });
      fs.writeFileSync(folder.file, '');
      await expectCorrupt(folder.file, /empty/);
    });

    it('truncated at a page boundary (the header says more pages)', async () => {
      await savedStore(folder.file);
      const size = fs.statSync(folder.file).size;
      fs.truncateSync(folder.file, Math.floor(size / 2 / 4096) * 4096);
      await expectCorrupt(folder.file, /truncated: \d+ bytes, but its header says \d+ pages/);
    });

    it('truncated mid-page', async () => {
      await savedStore(folder.file);
      fs.truncateSync(folder.file, fs.statSync(folder.file).size - 1000);
      await expectCorrupt(folder.file, /truncated/);
    });

    it('damaged pages inside a file whose header is intact', async () => {
      await savedStore(folder.file);
      const bytes = fs.readFileSync(folder.file);
      for (let i = 4096 * 2; i < bytes.length - 4096; i += 4096 * 3) bytes.fill(0xa5, i, i + 512);
      fs.writeFileSync(folder.file, bytes);
      await expectCorrupt(folder.file, /integrity check failed|SQLite: /);
    });

    it('opening the same damaged file again reuses the backup instead of piling up copies', async () => {
      fs.mkdirSync(path.dirname(folder.file), { recursive: true });
      fs.writeFileSync(folder.file, 'junk'.repeat(50));
      const first = await expectCorrupt(folder.file, /not an SQLite/);
      const second = await expectCorrupt(folder.file, /not an SQLite/);
      assert.strictEqual(second.backupPath, first.backupPath);
      assert.deepStrictEqual(siblings(folder.file), ['edd.sqlite', path.basename(first.backupPath!)]);
    });

    it('a damaged file found by a later save is not overwritten', async () => {
      const store = await RunStore.open(folder.file, { autoSave: false });
      store.createRun({ experimentId: 'e' });
      await store.save();
      // another program replaces the file with something broken
      fs.writeFileSync(folder.file + '.new', 'broken');
      fs.renameSync(folder.file + '.new', folder.file);
      const run = store.createRun({ experimentId: 'e' });
      await assert.rejects(store.save(), StoreCorruptError);
      assert.strictEqual(fs.readFileSync(folder.file, 'utf8'), 'broken');
      assert.strictEqual(store.getRun(run.id)?.id, run.id, 'our copy is intact');
      assert.ok(!fs.existsSync(folder.file + '.lock'), 'the lock is released');
      await assert.rejects(store.close(), StoreCorruptError);
    });

    it('reloadIfChanged on a damaged file throws and keeps our copy', async () => {
      const store = await RunStore.open(folder.file, { autoSave: false });
      const run = store.createRun({ experimentId: 'e' });
      await store.save();
      fs.writeFileSync(folder.file + '.new', Buffer.concat([SQLITE_HEADER, Buffer.alloc(5000, 7)]));
      fs.renameSync(folder.file + '.new', folder.file);
      await assert.rejects(store.reloadIfChanged(), (e: unknown) => e instanceof StoreCorruptError && /header has an invalid page size|truncated/.test(e.reason) && fs.existsSync(e.backupPath!));
      assert.strictEqual(store.getRun(run.id)?.id, run.id);
    });

    it('an SQLite file that is not an EDD store is refused and left alone', async () => {
      const SQL = await initSqlJs();
      const db = new SQL.Database();
      db.exec('CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)');
      fs.mkdirSync(path.dirname(folder.file), { recursive: true });
      fs.writeFileSync(folder.file, db.export());
      const before = fs.readFileSync(folder.file);
      await assert.rejects(RunStore.open(folder.file), (e: unknown) => e instanceof StoreError && !(e instanceof StoreCorruptError) && /not an EDD run store .*customers/.test(e.message));
      assert.ok(fs.readFileSync(folder.file).equals(before));
    });

    it('a store from a newer EDD is refused and left alone', async () => {
      await savedStore(folder.file, 1);
      const SQL = await initSqlJs();
      const db = new SQL.Database(fs.readFileSync(folder.file));
      db.exec(`PRAGMA user_version = ${SCHEMA_VERSION + 1}`);
      fs.writeFileSync(folder.file, db.export());
      const before = fs.readFileSync(folder.file);
      await assert.rejects(RunStore.open(folder.file), (e: unknown) => e instanceof StoreVersionError && e.fileVersion === SCHEMA_VERSION + 1 && /Update the EDD extension/.test(e.message));
      assert.ok(fs.readFileSync(folder.file).equals(before));
      assert.deepStrictEqual(siblings(folder.file), ['edd.sqlite']);
    });
  });

  describe('migrations', () => {
    // A file as version 1 wrote it, built by hand (not with the code under test): the v1 schema, with a UUID and a
    // key name in each metric row, duplicate steps allowed, and a metric row whose run is gone.
    const V1 = `
      CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);
      CREATE TABLE experiments (id TEXT PRIMARY KEY, name TEXT NOT NULL, hypothesis TEXT, config_path TEXT, hypothesis_status TEXT,
        created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
      CREATE TABLE runs (id TEXT PRIMARY KEY, experiment_id TEXT NOT NULL, config_path TEXT, config_snapshot TEXT, params TEXT NOT NULL DEFAULT '{}',
        status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'finished', 'failed', 'cancelled')), created_at INTEGER NOT NULL,
        started_at INTEGER, ended_at INTEGER, duration_ms INTEGER, exit_code INTEGER, git_commit TEXT, git_dirty INTEGER, environment TEXT,
        seed INTEGER, dataset_fingerprint TEXT, peak_memory_bytes INTEGER, log_path TEXT, error TEXT);
      CREATE INDEX runs_by_experiment ON runs (experiment_id, created_at);
      CREATE TABLE metrics (run_id TEXT NOT NULL, key TEXT NOT NULL, step INTEGER NOT NULL, value REAL, time INTEGER);
      CREATE INDEX metrics_by_run_key ON metrics (run_id, key, step);
      CREATE TABLE artifacts (run_id TEXT NOT NULL, path TEXT NOT NULL, kind TEXT, sha256 TEXT, size INTEGER, PRIMARY KEY (run_id, path));
      INSERT INTO meta VALUES ('generation', '7'), ('save_id', 'v1-save');
      INSERT INTO experiments VALUES ('exp-a', 'A', 'Wider is better', 'experiments/a.yaml', NULL, 100, 100);
      INSERT INTO runs (id, experiment_id, params, status, created_at, git_dirty, environment, seed)
        VALUES ('aaaaaaaa-0000-4000-8000-000000000001', 'exp-a', '{"lr":0.1}', 'finished', 200, 1, '{"python":"3.11"}', 42),
               ('aaaaaaaa-0000-4000-8000-000000000002', 'exp-a', '{"lr":0.2}', 'failed', 300, 0, NULL, NULL);
      INSERT INTO metrics VALUES
        ('aaaaaaaa-0000-4000-8000-000000000001', 'loss', 0, 1.0, 201), ('aaaaaaaa-0000-4000-8000-000000000001', 'loss', 2, 0.4, 203),
        ('aaaaaaaa-0000-4000-8000-000000000001', 'loss', 1, 0.6, 202), ('aaaaaaaa-0000-4000-8000-000000000001', 'loss', 2, 0.3, 204),
        ('aaaaaaaa-0000-4000-8000-000000000001', 'acc', 2, 0.9, 204), ('aaaaaaaa-0000-4000-8000-000000000002', 'loss', 0, NULL, 301),
        ('deadbeef-0000-4000-8000-000000000000', 'loss', 0, 5.0, 1);
      INSERT INTO artifacts VALUES ('aaaaaaaa-0000-4000-8000-000000000001', 'model.onnx', 'model', 'ff', 255);
      PRAGMA user_version = 1;`;

    it('migrates a version 1 file to the current schema, keeping every record', async () => {
      const SQL = await initSqlJs();
      const v1 = new SQL.Database();
      v1.exec(V1);
      fs.mkdirSync(path.dirname(folder.file), { recursive: true });
      fs.writeFileSync(folder.file, v1.export());
      const original = fs.readFileSync(folder.file);

      const store = await RunStore.open(folder.file, { autoSave: false });
      const r1 = 'aaaaaaaa-0000-4000-8000-000000000001';
      const r2 = 'aaaaaaaa-0000-4000-8000-000000000002';
      assert.deepStrictEqual(store.listExperiments().map(e => [e.id, e.name, e.hypothesis, e.runCount, e.lastRunAt]), [['exp-a', 'A', 'Wider is better', 2, 300]]);
      assert.deepStrictEqual(store.listRuns().map(r => [r.id, r.status, r.params, r.gitDirty, r.finalMetrics]), [
        [r2, 'failed', { lr: 0.2 }, false, { loss: NaN }],
        [r1, 'finished', { lr: 0.1 }, true, { acc: 0.9, loss: 0.3 }],
      ]);
      assert.deepStrictEqual(store.getRun(r1)?.environment, { python: '3.11' });
      assert.deepStrictEqual(store.getMetrics(r1, 'loss').map(p => [p.step, p.value, p.time]), [[0, 1, 201], [1, 0.6, 202], [2, 0.3, 204]], 'the later duplicate step wins');
      assert.deepStrictEqual(store.getArtifacts(r1).map(a => a.path), ['model.onnx']);
      assert.strictEqual(store.generation, 7);
      assert.strictEqual(store.hasUnsavedChanges, true, 'the migration is written on the next save');
      assert.ok(fs.readFileSync(folder.file).equals(original), 'opening alone does not write');

      // new data works on the migrated schema, and the file is written at the current version
      const p3Time = Date.now();
      store.addMetrics([{ runId: r1, key: 'loss', step: 3, value: 0.25, time: p3Time }]);
      await store.close();
      const db = new SQL.Database(fs.readFileSync(folder.file));
      assert.strictEqual(db.exec('PRAGMA user_version')[0].values[0][0], SCHEMA_VERSION);
      // the points left the index for the runs' history files; the orphan ones (no run) were dropped
      assert.deepStrictEqual(db.exec("SELECT name FROM sqlite_master WHERE name LIKE 'metric_points%'"), []);
      assert.deepStrictEqual(fs.readdirSync(path.join(path.dirname(folder.file), 'runs')).sort(), [r1, r2]);
      const reopened = await RunStore.open(folder.file, { readOnly: true });
      assert.deepStrictEqual(reopened.getMetrics(r1, 'loss').map(p => [p.step, p.value, p.time]), [[0, 1, 201], [1, 0.6, 202], [2, 0.3, 204], [3, 0.25, p3Time]]);
      assert.deepStrictEqual(reopened.getMetrics(r2).map(p => [p.key, p.step, p.value]), [['loss', 0, NaN]]);
      assert.strictEqual(reopened.hasUnsavedChanges, false);
      assert.deepStrictEqual(reopened.listRuns({ limit: 1, offset: 1 })[0].finalMetrics, { acc: 0.9, loss: 0.25 });
      assert.strictEqual(reopened.generation, 8);
    });
  });
});
