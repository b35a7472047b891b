import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import initSqlJs from 'sql.js';
import { logFileOf, RunStore, SCHEMA_VERSION } from '../../src/core/store';
import { readHeadMeta } from '../../src/core/store/headMeta';
import { runFolderName } from '../../src/core/store/history';
import { QuickRunStore, type RunRecorder } from '../../src/core/store/quickStore';
import type { RunRecord } from '../../src/core/store/types';
import { tempFolder } from '../store/helpers';
import { edd, nodeConfig } from './eddProcess';

// `edd run` of a training that is over at once records its run by appending to the store's log without SQLite
// (src/core/store/quickStore.ts, headMeta.ts). What it writes must be what RunStore writes for the same calls, in any
// state another process leaves the store in; where it cannot write, RunStore does.

/** The calls executeRun makes for one run, on any recorder; the run's id is given so two stores can be compared. */
function recordRun(store: RunRecorder, id: string, i = 0): void {
  store.upsertExperiment({ id: 'exp_quick', name: 'quick', hypothesis: 'the log alone records a run', configPath: 'e.yaml' });
  store.createRun({
    id, experimentId: 'exp_quick', configPath: 'e.yaml', configSnapshot: `experiment:\n  id: exp_quick # ${i}\n`, params: { lr: 0.1, i },
    status: 'running', seed: 7, tags: { who: 'test' }, startedAt: 1000 + i, environment: { python: '3.11', packages: ['a', 'b'] },
    gitCommit: null, gitDirty: null, datasetFingerprint: 'abc', logPath: `.edd/runs/${id}/run.log`, ownerPid: 123, ownerStartTime: 456, ownerHost: 'h',
  });
  store.addMetrics([
    { runId: id, key: 'loss', step: 0, value: 1, time: 10 },
    { runId: id, key: 'loss', step: 1, value: 0.5, time: 11 },
    { runId: id, key: 'acc', step: 0, value: Number.NaN, time: 12 },
    { runId: id, key: 'acc', step: 2, value: 0.9, time: 13 },
  ]);
  store.addMetrics([
    { runId: id, key: 'loss', step: 1, value: 0.25, time: 14 }, // the same step again: the later value stands
    { runId: id, key: 'inf', step: 0, value: Number.POSITIVE_INFINITY, time: 15 },
  ]);
  store.addArtifact({ runId: id, path: 'model.onnx', kind: 'model', sha256: 'f'.repeat(64), size: 10 });
  store.addArtifact({ runId: id, path: 'notes.txt', kind: null, sha256: null, size: null });
  store.updateRun(id, { status: 'finished', endedAt: 2000 + i, durationMs: 1000, exitCode: 0, peakMemoryBytes: 1e6, error: null, params: { lr: 0.1, i, extra: true } });
}

/** Everything a reader gets of a run. */
async function readBack(file: string, id: string) {
  const s = await RunStore.open(file, { readOnly: true });
  try {
    const run = s.getRun(id);
    return {
      run: run && { ...run, createdAt: 0 },
      experiment: s.getExperiment('exp_quick') && { ...s.getExperiment('exp_quick')!, createdAt: 0, updatedAt: 0 },
      finals: s.finalMetrics(id),
      metrics: s.getMetrics(id),
      artifacts: s.getArtifacts(id),
      listed: s.listRuns().map(r => r.id),
    };
  } finally {
    await s.close();
  }
}

/** A store with `n` runs saved by RunStore (a head and a log). */
async function seeded(file: string, n: number): Promise<void> {
  const s = await RunStore.open(file, { autoSave: false });
  for (let i = 0; i < n; i++) {
    recordRun(s, `seed-${i}`, i);
    await s.save();
  }
  await s.close();
}

describe('run store: recording a run without SQLite (quickStore.ts)', function () {
  this.timeout(60_000);
  let a: ReturnType<typeof tempFolder>;
  let b: ReturnType<typeof tempFolder>;
  beforeEach(() => {
    a = tempFolder();
    b = tempFolder();
  });
  afterEach(() => {
    a.cleanup();
    b.cleanup();
  });

  describe('the head read without SQLite (headMeta.ts)', () => {
    it('gives the schema version and the meta rows SQLite gives, for a new store, one with many runs, and after a checkpoint', async () => {
      const SQL = await initSqlJs();
      const check = () => {
        const bytes = fs.readFileSync(a.file);
        const db = new SQL.Database(bytes);
        try {
          const expected = new Map(db.exec('SELECT key, value FROM meta')[0].values.map(r => [r[0] as string, r[1] as string]));
          const got = readHeadMeta(bytes);
          assert.ok(got, 'read');
          assert.strictEqual(got.userVersion, db.exec('PRAGMA user_version')[0].values[0][0]);
          assert.deepStrictEqual(got.meta, expected);
          assert.ok(got.meta.get('log_id'));
        } finally {
          db.close();
        }
      };
      await seeded(a.file, 1);
      check();
      // enough runs and tables that sqlite_master and the tables span interior pages
      const s = await RunStore.open(a.file, { autoSave: false });
      for (let i = 0; i < 400; i++) s.createRun({ experimentId: `e${i % 7}`, status: 'finished', params: { i, text: 'x'.repeat(200) } });
      await s.checkpoint();
      await s.close();
      check();
    });

    it('answers undefined, never a wrong value, for what it does not read: not SQLite, cut off, UTF-16, a value on overflow pages', async () => {
      const SQL = await initSqlJs();
      assert.strictEqual(readHeadMeta(Buffer.from('not a database at all, not at all, not at all, not at all, not at all, not at all, not at all.')), undefined);
      await seeded(a.file, 1);
      const bytes = fs.readFileSync(a.file);
      assert.strictEqual(readHeadMeta(bytes.subarray(0, 50)), undefined);
      assert.strictEqual(readHeadMeta(bytes.subarray(0, 4096)), undefined, 'the meta table is on a page not in these bytes');
      const utf16 = new SQL.Database();
      utf16.exec("PRAGMA encoding = 'UTF-16le'; CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT); INSERT INTO meta VALUES ('log_id', 'x');");
      assert.strictEqual(readHeadMeta(utf16.export()), undefined);
      utf16.close();
      const long = new SQL.Database();
      long.exec(`CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT); INSERT INTO meta VALUES ('log_id', '${'y'.repeat(9000)}');`);
      assert.strictEqual(readHeadMeta(long.export()), undefined);
      long.close();
    });
  });

  it('writes what RunStore writes for the same calls: the run, its large fields, final values, points (NaN, ±Infinity), artifacts, the experiment', async () => {
    await seeded(a.file, 2);
    await seeded(b.file, 2);
    const full = await RunStore.open(a.file, { autoSave: false });
    recordRun(full, 'the-run');
    await full.save();
    await full.close();
    const quick = await QuickRunStore.open(b.file, { openFull: () => assert.fail('no fallback expected') });
    assert.ok(quick, 'the quick way is open for a store RunStore wrote');
    recordRun(quick, 'the-run');
    const before = fs.statSync(b.file);
    await quick.save();
    assert.strictEqual(quick.fellBack, false);
    assert.strictEqual(fs.statSync(b.file).mtimeMs, before.mtimeMs, 'the index file is not rewritten: a record is appended to its log');
    const [x, y] = [await readBack(a.file, 'the-run'), await readBack(b.file, 'the-run')];
    assert.deepStrictEqual(y, x);
    assert.deepStrictEqual(y.finals, { acc: 0.9, inf: Number.POSITIVE_INFINITY, loss: 0.25 });
    assert.strictEqual(y.run!.configSnapshot, 'experiment:\n  id: exp_quick # 0\n');
    // the same files beside the index: the run's file (its large fields) and its history
    const files = (f: string) => {
      const dir = path.join(path.dirname(f), 'runs', runFolderName('the-run'));
      return Object.fromEntries(fs.readdirSync(dir).filter(n => !n.startsWith('.')).sort().map(n => [n, fs.readFileSync(path.join(dir, n), 'utf8')]));
    };
    const [fa, fb] = [files(a.file), files(b.file)];
    assert.ok(fb['run.json'] && fb['run.json'].includes('exp_quick # 0'), 'the config snapshot is in run.json');
    assert.deepStrictEqual(Object.keys(fb), Object.keys(fa));
    assert.deepStrictEqual(fb, fa);
    // and what the recorder answers itself (what `edd run` prints) is what the store then says
    assert.deepStrictEqual(quick.finalMetrics('the-run'), y.finals);
    assert.deepStrictEqual({ ...quick.getRun('the-run')!, createdAt: 0 }, y.run as RunRecord);
  });

  it('appends after other processes\' saves and across a checkpoint made between its open and its save', async () => {
    await seeded(a.file, 2);
    const quick = await QuickRunStore.open(a.file, { openFull: () => assert.fail('no fallback expected') });
    assert.ok(quick);
    const other = await RunStore.open(a.file, { autoSave: false });
    recordRun(other, 'other-1', 1);
    await other.save();
    recordRun(other, 'other-2', 2);
    await other.checkpoint(); // a new head and a new log: the quick recorder's view at open is out of date
    recordRun(quick, 'mine');
    await quick.save();
    recordRun(other, 'other-3', 3);
    await other.save(); // a RunStore save after the quick record: merges it
    await other.close();
    const back = await readBack(a.file, 'mine');
    assert.deepStrictEqual(new Set(back.listed), new Set(['seed-0', 'seed-1', 'other-1', 'other-2', 'mine', 'other-3']));
    assert.deepStrictEqual(back.finals, { acc: 0.9, inf: Number.POSITIVE_INFINITY, loss: 0.25 });
    assert.strictEqual(back.metrics.length, 5, 'each point once in the history file');
  });

  it('reads only what other processes appended since it last looked, and saves twice in a row', async () => {
    await seeded(a.file, 2);
    const quick = await QuickRunStore.open(a.file, { openFull: () => assert.fail('no fallback expected') });
    assert.ok(quick);
    const other = await RunStore.open(a.file, { autoSave: false });
    recordRun(other, 'other-1', 1);
    await other.save(); // appended to the log the quick recorder saw at its open
    recordRun(quick, 'mine-1', 1);
    await quick.save();
    recordRun(other, 'other-2', 2);
    await other.save();
    recordRun(quick, 'mine-2', 2);
    await quick.save();
    recordRun(quick, 'mine-3', 3);
    await quick.save(); // nothing new in the log since its own append
    await other.close();
    const back = await readBack(a.file, 'mine-2');
    assert.deepStrictEqual(new Set(back.listed), new Set(['seed-0', 'seed-1', 'other-1', 'mine-1', 'other-2', 'mine-2', 'mine-3']));
    assert.deepStrictEqual(back.finals, { acc: 0.9, inf: Number.POSITIVE_INFINITY, loss: 0.25 });
    // the generations count every save, in order
    const { records } = await import('../../src/core/store/oplog').then(m => m.readLog(logFileOf(a.file), readHeadMeta(fs.readFileSync(a.file))!.meta.get('log_id')!)) as { records: { generation: number }[] };
    const gens = records.map(r => r.generation);
    assert.deepStrictEqual(gens, gens.map((_, i) => gens[0] + i));
  });

  it('replaces a log left by a crashed checkpoint (another head\'s) instead of appending to it', async () => {
    await seeded(a.file, 2);
    const log = logFileOf(a.file);
    const stale = fs.readFileSync(log);
    const s = await RunStore.open(a.file, { autoSave: false });
    await s.checkpoint(); // new head, old log removed
    await s.close();
    fs.writeFileSync(log, stale); // as if the checkpoint died before removing it
    const quick = await QuickRunStore.open(a.file, { openFull: () => assert.fail('no fallback expected') });
    assert.ok(quick);
    recordRun(quick, 'mine');
    await quick.save();
    assert.notDeepStrictEqual(fs.readFileSync(log).subarray(0, 64), stale.subarray(0, 64), 'a new log, named by the head');
    const back = await readBack(a.file, 'mine');
    assert.deepStrictEqual(new Set(back.listed), new Set(['seed-0', 'seed-1', 'mine']));
  });

  it('is not used where RunStore must write: no index yet, another schema, a damaged log, a log near its checkpoint', async () => {
    const none = { openFull: () => assert.fail('not opened') };
    assert.strictEqual(await QuickRunStore.open(a.file, none), undefined, 'no index file yet');
    await seeded(a.file, 2);
    assert.ok(await QuickRunStore.open(a.file, none));
    // a head of another schema version (user_version, bytes 60-63 of the file)
    const bytes = fs.readFileSync(a.file);
    const other = Buffer.from(bytes);
    other.writeInt32BE(SCHEMA_VERSION + 1, 60);
    fs.writeFileSync(a.file, other);
    assert.strictEqual(await QuickRunStore.open(a.file, none), undefined, 'another schema');
    fs.writeFileSync(a.file, bytes);
    // a damaged record with one after it
    const log = logFileOf(a.file);
    const good = fs.readFileSync(log);
    const s = await RunStore.open(a.file, { autoSave: false });
    recordRun(s, 'extra');
    await s.save();
    await s.close();
    const damaged = fs.readFileSync(log);
    damaged[64 + 12] ^= 0xff;
    fs.writeFileSync(log, damaged);
    assert.strictEqual(await QuickRunStore.open(a.file, none), undefined, 'a damaged log');
    fs.writeFileSync(log, good);
    assert.ok(await QuickRunStore.open(a.file, none));
    assert.strictEqual(await QuickRunStore.open(a.file, { ...none, logCheckpointBytes: good.length + 1000 }), undefined, 'near the checkpoint size');
  });

  it('when the log needs a checkpoint by its save, RunStore saves the calls once (no point twice) and takes over', async () => {
    await seeded(a.file, 2);
    let opened: RunStore | undefined;
    const limit = fs.statSync(logFileOf(a.file)).size + 64 * 1024 + 2000;
    const quick = await QuickRunStore.open(a.file, { logCheckpointBytes: limit, openFull: async () => (opened = await RunStore.open(a.file, { autoSave: false })) });
    assert.ok(quick);
    // another process fills the log meanwhile
    const other = await RunStore.open(a.file, { autoSave: false, logCheckpointBytes: 10 * limit });
    for (let i = 0; i < 200; i++) {
      recordRun(other, `other-${i}`, i);
      await other.save();
      if (fs.statSync(logFileOf(a.file)).size > limit) break;
    }
    await other.close();
    recordRun(quick, 'mine');
    await quick.save();
    assert.strictEqual(quick.fellBack, true);
    assert.ok(opened);
    // it goes on through RunStore
    quick.updateRun('mine', { error: 'a later note' });
    await quick.save();
    await opened.close();
    const back = await readBack(a.file, 'mine');
    assert.strictEqual(back.run!.error, 'a later note');
    assert.strictEqual(back.metrics.length, 5, 'each point once');
    assert.deepStrictEqual(back.finals, { acc: 0.9, inf: Number.POSITIVE_INFINITY, loss: 0.25 });
  });

  it('`edd run` of a training that is over at once records it without starting SQLite; the first run of a workspace and a longer training use it', async () => {
    const hook = path.join(a.dir, 'wasm-hook.js');
    fs.writeFileSync(hook, "for (const n of ['compile', 'instantiate']) { const real = WebAssembly[n]; WebAssembly[n] = function (...a) { process.stderr.write('[wasm ' + n + ']\\n'); return real.apply(this, a); }; }\n");
    const cli = (args: string[]) => edd(args, a.dir, { env: { EDD_LOCALE: 'en' }, require: hook });
    nodeConfig(a.dir, 'quick', { script: "console.log('EDD ' + JSON.stringify({ metric: 'acc', value: 0.75, step: 3 }))" });
    nodeConfig(a.dir, 'slow', { id: 'exp_20250101_002', script: "console.log('EDD ' + JSON.stringify({ metric: 'acc', value: 0.5, step: 1 })); setTimeout(() => {}, 600)" });
    const first = await cli(['run', 'quick.yaml', '--json']);
    assert.strictEqual(first.code, 0, first.stderr);
    assert.match(first.stderr, /\[wasm /, 'no index file yet: RunStore creates it');
    const second = await cli(['run', 'quick.yaml', '--json']);
    assert.strictEqual(second.code, 0, second.stderr);
    assert.doesNotMatch(second.stderr, /\[wasm /, 'recorded without SQLite');
    assert.deepStrictEqual(JSON.parse(second.stdout).final_metrics, { acc: 0.75 });
    const slow = await cli(['run', 'slow.yaml', '--json']);
    assert.strictEqual(slow.code, 0, slow.stderr);
    assert.match(slow.stderr, /\[wasm /, 'a training still running after the first-save delay: the store opens while it runs');
    // four at once, and this process saving through RunStore meanwhile: the lock orders the appends, none is lost
    const store = await RunStore.open(path.join(a.dir, '.edd', 'edd.sqlite'), { autoSave: false });
    const together = Promise.all([1, 2, 3, 4].map(() => cli(['run', 'quick.yaml', '--json'])));
    for (let i = 0; i < 5; i++) {
      store.createRun({ id: `local-${i}`, experimentId: 'exp_local', status: 'finished' });
      await store.save();
    }
    await store.close();
    const four = await together;
    for (const r of four) assert.strictEqual(r.code, 0, r.stderr);
    const runs = await cli(['runs', '--json', '--limit', '100']);
    const listed = JSON.parse(runs.stdout) as { run_id: string; status: string; final_metrics: Record<string, number> }[];
    const byId = new Map(listed.map(r => [r.run_id, [r.status, r.final_metrics]]));
    assert.strictEqual(listed.length, 3 + 4 + 5);
    assert.deepStrictEqual(byId.get(JSON.parse(slow.stdout).run_id), ['finished', { acc: 0.5 }]);
    for (const r of [first, second, ...four]) assert.deepStrictEqual(byId.get(JSON.parse(r.stdout).run_id), ['finished', { acc: 0.75 }]);
    assert.deepStrictEqual(fs.readdirSync(path.join(a.dir, '.edd', 'launching')), [], 'no launch record left');
  });
});
