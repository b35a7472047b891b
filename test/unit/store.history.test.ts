import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import initSqlJs from 'sql.js';
import { RunStore, SCHEMA_VERSION } from '../../src/core/store';
import { curveCacheFile, readCurveCache, writeCurveCache } from '../../src/core/store/curveCache';
import { CACHE_FROM_BYTES, MetricHistories } from '../../src/core/store/history';
import { tempFolder } from '../store/helpers';

// Metric histories in per-run append-only files (src/core/store/history.ts), and the move of a version 4 store's
// points out of the index.

/** A store written by EDD at schema version 4 (generated with that release's code; see test/store/v4-store.sqlite). */
const V4_FILE = path.resolve(__dirname, '../../../test/store/v4-store.sqlite');

/** A seeded generator in [0, 1), so a failure can be replayed. */
function lcg(seed: number): () => number {
  let x = seed >>> 0;
  return () => ((x = (Math.imul(x, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

/** `getCurve` gives the steps and values of `getMetrics` for the key, bit for bit (NaN, -0). */
function assertSameCurve(store: RunStore, runId: string, key: string): void {
  const points = store.getMetrics(runId, key);
  const curve = store.getCurve(runId, key);
  assert.strictEqual(curve.steps.length, points.length, `${runId} ${key}: number of points`);
  assert.strictEqual(curve.values.length, points.length);
  for (let i = 0; i < points.length; i++) {
    if (!Object.is(curve.steps[i], points[i].step) || !Object.is(curve.values[i], points[i].value)) {
      assert.fail(`${runId} ${key} point ${i}: got (${curve.steps[i]}, ${curve.values[i]}), expected (${points[i].step}, ${points[i].value})`);
    }
  }
}

describe('run store: metric histories', () => {
  let folder: ReturnType<typeof tempFolder>;
  beforeEach(() => (folder = tempFolder()));
  afterEach(() => folder.cleanup());

  const historyOf = (id: string) => path.join(path.dirname(folder.file), 'runs', id, 'metrics.jsonl');

  it('appends each batch to the run\'s own file; the index holds only the final values', async () => {
    const store = await RunStore.open(folder.file, { autoSave: false });
    const run = store.createRun({ id: 'r1', experimentId: 'e' });
    store.addMetrics(Array.from({ length: 5000 }, (_, i) => ({ runId: run.id, key: 'loss', step: i, value: 1 / (i + 1), time: 1000 + i })));
    const first = fs.readFileSync(historyOf('r1'));
    assert.strictEqual(first.toString().split('\n').length - 1, 5000);
    store.addMetrics([{ runId: run.id, key: 'loss', step: 5000, value: NaN, time: 9 }, { runId: run.id, key: 'acc', step: 0, value: -Infinity, time: 9 }]);
    const second = fs.readFileSync(historyOf('r1'));
    assert.ok(second.subarray(0, first.length).equals(first), 'appended, not rewritten');
    await store.close();

    const SQL = await initSqlJs();
    const db = new SQL.Database(fs.readFileSync(folder.file));
    assert.deepStrictEqual(db.exec("SELECT name FROM sqlite_master WHERE name LIKE 'metric_points%'"), []);
    assert.ok(fs.statSync(folder.file).size < 200_000, `the index is small (${fs.statSync(folder.file).size} bytes)`);

    const reopened = await RunStore.open(folder.file, { readOnly: true });
    const loss = reopened.getMetrics('r1', 'loss');
    assert.strictEqual(loss.length, 5001);
    assert.deepStrictEqual([loss[0].step, loss[0].value, loss[0].time], [0, 1, 1000]);
    assert.ok(Number.isNaN(loss[5000].value));
    assert.deepStrictEqual(reopened.getMetrics('r1', 'acc').map(p => p.value), [-Infinity]);
    assert.deepStrictEqual(reopened.metricKeys('r1'), ['acc', 'loss']);
    assert.ok(Number.isNaN(reopened.listRuns()[0].finalMetrics.loss));
    await reopened.close();
  });

  it('a torn last line (a writer killed mid-append) is skipped, and the next append starts on a new line', async () => {
    const store = await RunStore.open(folder.file, { autoSave: false });
    store.createRun({ id: 'r1', experimentId: 'e' });
    store.addMetrics([{ runId: 'r1', key: 'loss', step: 0, value: 0.5, time: 1 }]);
    await store.close();
    fs.appendFileSync(historyOf('r1'), '["loss",1,0.4');
    const next = await RunStore.open(folder.file, { autoSave: false });
    assert.deepStrictEqual(next.getMetrics('r1').map(p => [p.step, p.value]), [[0, 0.5]]);
    next.addMetrics([{ runId: 'r1', key: 'loss', step: 2, value: 0.3, time: 3 }]);
    assert.deepStrictEqual(next.getMetrics('r1').map(p => [p.step, p.value]), [[0, 0.5], [2, 0.3]]);
    await next.close();
  });

  it('a later point at the same step replaces the earlier one; points come back by key, then step', async () => {
    const store = await RunStore.open(folder.file, { autoSave: false });
    store.createRun({ id: 'r1', experimentId: 'e' });
    store.addMetrics([{ runId: 'r1', key: 'b', step: 2, value: 1 }, { runId: 'r1', key: 'a', step: 1, value: 1 }, { runId: 'r1', key: 'b', step: 1, value: 1 }]);
    store.addMetrics([{ runId: 'r1', key: 'b', step: 2, value: 7 }]);
    assert.deepStrictEqual(store.getMetrics('r1').map(p => [p.key, p.step, p.value]), [['a', 1, 1], ['b', 1, 1], ['b', 2, 7]]);
    await store.close();
  });

  it('keys with quotes, backslashes, commas and non-ASCII text read back as written', async () => {
    const store = await RunStore.open(folder.file, { autoSave: false });
    store.createRun({ id: 'r1', experimentId: 'e' });
    const keys = ['a",b', 'back\\slash\\', '정확도', 'x\\",y'];
    store.addMetrics(keys.map((key, i) => ({ runId: 'r1', key, step: i, value: i + 0.5, time: 7 })));
    assert.deepStrictEqual(store.getMetrics('r1').map(p => [p.key, p.step, p.value]), keys.map((key, i) => [key, i, i + 0.5] as const).sort((a, b) => (a[0] < b[0] ? -1 : 1)));
    for (const key of keys) assert.strictEqual(store.getMetrics('r1', key).length, 1, key);
    await store.close();
  });

  it('reads a history larger than its 4 MB read chunk, with lines and multi-byte keys across chunk boundaries', async () => {
    const store = await RunStore.open(folder.file, { autoSave: false });
    store.createRun({ id: 'r1', experimentId: 'e' });
    const n = 240_000;
    store.addMetrics(Array.from({ length: n }, (_, i) => ({ runId: 'r1', key: i % 2 ? '검증/손실' : 'train/loss', step: i >> 1, value: i / 7, time: 1_700_000_000_000 + i })));
    assert.ok(fs.statSync(historyOf('r1')).size > 2 * 4 * 1024 * 1024);
    const points = store.getMetrics('r1');
    assert.strictEqual(points.length, n);
    const korean = store.getMetrics('r1', '검증/손실');
    assert.strictEqual(korean.length, n / 2);
    assert.ok(korean.every((p, i) => p.step === i && p.value === (2 * i + 1) / 7 && p.time === 1_700_000_000_000 + 2 * i + 1));
    await store.close();
  });

  it('getCurve reads each key\'s columns as getMetrics does, on randomized files (escapes, NaN, ±Infinity, repeats, torn and foreign lines, chunk boundaries)', async () => {
    const keys = ['loss', 'a",b', 'back\\slash\\', 'x\\",y', '정확도/검증', 'emoji 🎯', 'c]\\n,"', 'loss2', 'los'];
    const special = [NaN, Infinity, -Infinity, -0, 0, 1e-300, 1.7976931348623157e308, 5e-324, 123456789012345680000, 0.1 + 0.2, 1e21, 1e-7, 2 ** 53 + 2, 123456789.12345679];
    const foreign = (key: string): string[] => {
      const k = JSON.stringify(key);
      return [`[${k},1.5,2,3]`, `[${k},1,2]`, `[${k},,2,3]`, `[${k},1,"x",3]`, `[${k},1,NaN,3]`, `[${k},1,2,NaN]`, `[${k},1,2,3,4]`, `[${k},1e21,2,3]`,
        `[${k},0x10,"12",null]`, `[${k},2,"",5]`, `[${k},3,"NaN",null]`, `[${k},4,"nan",1]`, `[${k}, 5 ,.5,1]`, `[${k},6,5.,1]`, `[${k},7,-1.25E+3,-0]`, `[${k},8,1e400,1]`, `[${k}`, ''];
    };
    for (let seed = 1; seed <= 12; seed++) {
      const rand = lcg(seed);
      const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
      const store = await RunStore.open(folder.file, { autoSave: false });
      const id = `r${seed}`;
      store.createRun({ id, experimentId: 'e' });
      // big files cross the 4 MB read chunk several times, at random places in a line
      const n = seed % 4 === 0 ? 100_000 : 2_000;
      const ordered = seed % 3 === 0;
      const randomLines = (from: number, to: number): string => {
        let text = '';
        for (let i = from; i < to; i++) {
          const r = rand();
          if (r < 0.01) text += pick(foreign(pick(keys))) + '\n';
          else if (r < 0.012) text += `["${pick(keys)}",${i},0.`.slice(0, 3 + Math.floor(rand() * 12)) + '\n'; // torn, then a new line
          else {
            const step = ordered ? i : rand() < 0.3 ? Math.floor(rand() * 50) - 10 : Math.floor(rand() * n);
            const value = rand() < 0.1 ? pick(special) : rand() < 0.5 ? rand() : Math.round(rand() * 1e6) / 1e3 - 500;
            text += MetricHistories.lines([{ key: pick(keys), step, value, time: rand() < 0.1 ? null : 1_700_000_000_000 + i }]);
          }
        }
        return text;
      };
      const torn = `[${JSON.stringify(keys[0])},${n},0.12`; // a torn last line
      fs.mkdirSync(path.dirname(historyOf(id)), { recursive: true });
      fs.writeFileSync(historyOf(id), randomLines(0, n) + torn);
      if (n > 2_000) assert.ok(fs.statSync(historyOf(id)).size > 4 * 1024 * 1024);
      for (const key of [...keys, 'missing']) assertSameCurve(store, id, key);
      if (n > 2_000) {
        // the big files are read through curve caches: written by the first read, used by the next ones, and
        // completed by the lines appended after them (a few: parsed on each read; a lot: cached again)
        assert.strictEqual(fs.readdirSync(path.join(path.dirname(historyOf(id)), 'curves')).length, keys.length + 1);
        for (const key of [...keys, 'missing']) assertSameCurve(store, id, key);
        store.addMetrics(keys.map((key, i) => ({ runId: id, key, step: i, value: special[i % special.length] })));
        for (const key of keys) assertSameCurve(store, id, key);
        const more = randomLines(n, n + 30_000) + torn;
        assert.ok(Buffer.byteLength(more) > CACHE_FROM_BYTES);
        fs.appendFileSync(historyOf(id), more);
        for (const key of keys) assertSameCurve(store, id, key);
        for (const key of keys) assertSameCurve(store, id, key);
      }
      await store.close();
    }
  });

  it('a curve cache\'s temp file left by a killed writer is removed by the next write of that cache (a live writer\'s is kept)', async () => {
    const store = await RunStore.open(folder.file, { autoSave: false });
    store.createRun({ id: 'rt', experimentId: 'e' });
    store.addMetrics(Array.from({ length: 40_000 }, (_, i) => ({ runId: 'rt', key: 'loss', step: i, value: i / 7, time: 1_700_000_000_000 + i })));
    const cache = curveCacheFile(path.dirname(historyOf('rt')), 'loss');
    fs.mkdirSync(path.dirname(cache), { recursive: true });
    // a pid above Linux's pid_max (2^22) cannot be alive; this process's parent is
    const dead = `${cache}.tmp-9999999-1`;
    const live = `${cache}.tmp-${process.ppid}-1`;
    for (const f of [dead, live]) fs.writeFileSync(f, 'partial');
    assertSameCurve(store, 'rt', 'loss');
    assert.ok(fs.existsSync(cache), 'the read wrote the cache');
    assert.ok(!fs.existsSync(dead), 'the dead writer\'s temp file is gone');
    assert.ok(fs.existsSync(live), 'a live writer\'s temp file is left alone');
    fs.rmSync(live);
    await store.close();
  });

  it('a long history\'s curve cache is used while it describes the file, and never once it is damaged, stale or for another key', async () => {
    const store = await RunStore.open(folder.file, { autoSave: false });
    store.createRun({ id: 'r1', experimentId: 'e' });
    const n = 40_000;
    const rand = lcg(7);
    store.addMetrics(Array.from({ length: n }, (_, i) => ({ runId: 'r1', key: i % 4 ? 'loss' : 'acc', step: i, value: rand(), time: 1_700_000_000_000 + i })));
    const history = historyOf('r1');
    assert.ok(fs.statSync(history).size > CACHE_FROM_BYTES);
    const runFolder = path.dirname(history);
    const lossCache = curveCacheFile(runFolder, 'loss');
    const accCache = curveCacheFile(runFolder, 'acc');
    assertSameCurve(store, 'r1', 'loss');
    assert.ok(fs.existsSync(lossCache), 'the first read wrote the cache');
    const truth = store.getMetrics('r1', 'loss').map(p => p.value);

    // A cache with other values (and a valid checksum) is what the next read gives: the reader does use it …
    const fd = fs.openSync(history, 'r');
    const stat = fs.fstatSync(fd);
    const steps = Float64Array.from(truth, (_, i) => i * 4 + 1).filter(x => x < n);
    const forged = steps.map(() => 42);
    writeCurveCache(lossCache, 'loss', fd, stat, stat.size, steps, forged);
    fs.closeSync(fd);
    assert.ok(store.getCurve('r1', 'loss').values.every(v => v === 42));
    const forgedBytes = fs.readFileSync(lossCache);
    const withForged = (edit: (b: Buffer) => Buffer): void => {
      fs.writeFileSync(lossCache, edit(Buffer.from(forgedBytes)));
    };
    // … and none that fails a check: a flipped bit in a value, a torn cache, another key's cache under this name
    withForged(b => { b[b.length - 3] ^= 1; return b; });
    assert.deepStrictEqual([...store.getCurve('r1', 'loss').values], truth, 'a damaged cache is not used');
    withForged(b => b.subarray(0, b.length - 8));
    assert.deepStrictEqual([...store.getCurve('r1', 'loss').values], truth, 'a torn cache is not used');
    store.getCurve('r1', 'acc');
    fs.copyFileSync(accCache, lossCache);
    assert.deepStrictEqual([...store.getCurve('r1', 'loss').values], truth, 'another key\'s cache is not used');
    // a history replaced by another file, or rewritten in place, is read again from its text
    withForged(b => b);
    const text = fs.readFileSync(history);
    fs.writeFileSync(`${history}.new`, text);
    fs.renameSync(`${history}.new`, history);
    assert.deepStrictEqual([...store.getCurve('r1', 'loss').values], truth, 'a new file (another inode) is read again');
    const rewritten = fs.readFileSync(lossCache);
    const fd2 = fs.openSync(history, 'r');
    writeCurveCache(lossCache, 'loss', fd2, fs.fstatSync(fd2), text.length, steps, forged);
    fs.closeSync(fd2);
    assert.ok(store.getCurve('r1', 'loss').values.every(v => v === 42), 'a cache for the new file is used');
    const changed = Buffer.from(text);
    const digit = text.lastIndexOf(0x2c) - 1; // the last digit of the last line's value
    changed[digit] = changed[digit] === 0x35 ? 0x36 : 0x35;
    fs.writeFileSync(history, changed); // same inode, same length
    assertSameCurve(store, 'r1', 'loss');
    assert.ok(store.getCurve('r1', 'loss').values.every(v => v !== 42), 'a file whose end changed is read again');
    assert.ok(!fs.readFileSync(lossCache).equals(rewritten));

    // a store opened read-only reads through a valid cache but writes none
    await store.save();
    fs.rmSync(path.join(runFolder, 'curves'), { recursive: true });
    const reader = await RunStore.open(folder.file, { readOnly: true });
    assertSameCurve(reader, 'r1', 'loss');
    assert.ok(!fs.existsSync(lossCache));
    await reader.close();

    // the caches go with the run
    assertSameCurve(store, 'r1', 'loss');
    assert.ok(fs.existsSync(lossCache));
    store.deleteRun('r1');
    await store.close();
    assert.ok(!fs.existsSync(path.join(runFolder, 'curves')));
  });

  it('a save brings the curve caches of the long histories it wrote up to date, after each 1 MB and quarter more', async () => {
    const store = await RunStore.open(folder.file, { autoSave: false });
    store.createRun({ id: 'r1', experimentId: 'e' });
    store.createRun({ id: 'short', experimentId: 'e' });
    const rand = lcg(3);
    let step = 0;
    const log = (points: number): void => {
      const batch = [];
      for (let i = 0; i < points; i++, step++) batch.push({ runId: 'r1', key: step % 3 ? 'loss' : 'acc', step, value: rand(), time: 1_700_000_000_000 + step });
      store.addMetrics(batch);
      store.addMetrics([{ runId: 'short', key: 'loss', step, value: rand() }]);
    };
    const history = historyOf('r1');
    const coveredOf = (key: string): number | undefined => {
      const fd = fs.openSync(history, 'r');
      try {
        return readCurveCache(curveCacheFile(path.dirname(history), key), key, fd, fs.fstatSync(fd))?.covered;
      } finally {
        fs.closeSync(fd);
      }
    };
    log(10_000);
    await store.save();
    assert.ok(fs.statSync(history).size < CACHE_FROM_BYTES);
    assert.ok(!fs.existsSync(path.join(path.dirname(history), 'curves')), 'no cache for a short history');
    log(40_000);
    await store.save();
    const size = fs.statSync(history).size;
    assert.ok(size > CACHE_FROM_BYTES);
    assert.deepStrictEqual([coveredOf('loss'), coveredOf('acc')], [size, size], 'the save cached the whole history');
    assert.ok(!fs.existsSync(path.join(path.dirname(historyOf('short')), 'curves')));
    log(1_000); // less than 1 MB more: parsed after the cache when read
    await store.save();
    assert.deepStrictEqual([coveredOf('loss'), coveredOf('acc')], [size, size]);
    assertSameCurve(store, 'r1', 'loss');
    assert.strictEqual(coveredOf('loss'), size, 'a read does not rewrite the cache for a short tail either');
    log(40_000);
    await store.save();
    const grown = fs.statSync(history).size;
    assert.ok(grown - size > Math.max(CACHE_FROM_BYTES, size / 4));
    assert.deepStrictEqual([coveredOf('loss'), coveredOf('acc')], [grown, grown]);
    assertSameCurve(store, 'r1', 'loss');
    assertSameCurve(store, 'r1', 'acc');
    await store.close();
  });

  it('a run id that is not a plain name cannot reach outside the runs folder', async () => {
    const store = await RunStore.open(folder.file, { autoSave: false });
    const id = '../../escape';
    store.createRun({ id, experimentId: 'e' });
    store.addMetrics([{ runId: id, key: 'loss', step: 0, value: 1 }]);
    await store.close();
    const names = fs.readdirSync(path.join(path.dirname(folder.file), 'runs'));
    assert.strictEqual(names.length, 1);
    assert.match(names[0], /^_[0-9a-f]{40}$/);
    assert.ok(!fs.existsSync(path.join(folder.dir, 'escape')));
    const reopened = await RunStore.open(folder.file, { readOnly: true });
    assert.strictEqual(reopened.getMetrics(id).length, 1);
    await reopened.close();
  });

  it('a store not named edd.sqlite keeps its histories in <file>.runs, apart from another store in the folder', async () => {
    const a = await RunStore.open(path.join(folder.dir, 'a.sqlite'), { autoSave: false });
    const b = await RunStore.open(path.join(folder.dir, 'b.sqlite'), { autoSave: false });
    for (const [s, v] of [[a, 1], [b, 2]] as const) {
      s.createRun({ id: 'same', experimentId: 'e' });
      s.addMetrics([{ runId: 'same', key: 'loss', step: 0, value: v }]);
    }
    assert.deepStrictEqual([a.getMetrics('same')[0].value, b.getMetrics('same')[0].value], [1, 2]);
    assert.ok(fs.existsSync(path.join(folder.dir, 'a.sqlite.runs', 'same', 'metrics.jsonl')));
    await a.close();
    await b.close();
  });

  it('deleting a run removes its history once the deletion is saved, and leaves the rest of its folder', async () => {
    const store = await RunStore.open(folder.file, { autoSave: false });
    store.createRun({ id: 'r1', experimentId: 'e' });
    store.addMetrics([{ runId: 'r1', key: 'loss', step: 0, value: 1 }]);
    await store.save();
    const log = path.join(path.dirname(historyOf('r1')), 'log.txt');
    fs.writeFileSync(log, 'the run log');
    store.deleteRun('r1');
    assert.ok(fs.existsSync(historyOf('r1')), 'not before the save');
    await store.close();
    assert.ok(!fs.existsSync(historyOf('r1')));
    assert.ok(fs.existsSync(log));
  });

  it('config snapshots and environments are kept in the run\'s run.json, not in the index', async () => {
    const store = await RunStore.open(folder.file, { autoSave: false });
    store.createRun({ id: 'r1', experimentId: 'e', configSnapshot: 'a: 1\n', environment: { node: 'v20' } });
    assert.throws(() => store.createRun({ id: 'r1', experimentId: 'e', configSnapshot: 'other' }), /already exists/);
    assert.deepStrictEqual([store.getRun('r1')!.configSnapshot, store.getRun('r1')!.environment], ['a: 1\n', { node: 'v20' }], 'read before the save');
    await store.save();
    const runJson = path.join(path.dirname(historyOf('r1')), 'run.json');
    assert.deepStrictEqual(JSON.parse(fs.readFileSync(runJson, 'utf8')), { configSnapshot: 'a: 1\n', environment: { node: 'v20' } });
    store.updateRun('r1', { environment: null, status: 'finished' });
    assert.strictEqual(store.getRun('r1')!.environment, null);
    await store.checkpoint(); // (so that the index file holds the update, which a save appends to the log)
    await store.close();
    assert.deepStrictEqual(JSON.parse(fs.readFileSync(runJson, 'utf8')), { configSnapshot: 'a: 1\n', environment: null });
    const SQL = await initSqlJs();
    const db = new SQL.Database(fs.readFileSync(folder.file));
    assert.deepStrictEqual(db.exec('SELECT config_snapshot, environment, status FROM runs')[0].values, [[null, null, 'finished']]);
    const reopened = await RunStore.open(folder.file, { readOnly: true });
    assert.deepStrictEqual([reopened.getRun('r1')!.configSnapshot, reopened.getRun('r1')!.environment], ['a: 1\n', null]);
    await reopened.close();
  });

  describe('a version 4 store', () => {
    it('opens with every record, moves its points to per-run files on the first save, and keeps the registry', async () => {
      fs.mkdirSync(path.dirname(folder.file), { recursive: true });
      fs.copyFileSync(V4_FILE, folder.file);
      const original = fs.readFileSync(folder.file);
      const store = await RunStore.open(folder.file, { autoSave: false });
      const check = (s: RunStore) => {
        assert.deepStrictEqual(s.listRuns().map(r => [r.id, r.status]), [['run-three', 'queued'], ['run-two', 'failed'], ['run-one', 'finished']]);
        const loss = s.getMetrics('run-one', 'loss');
        assert.strictEqual(loss.length, 50);
        assert.ok(Number.isNaN(loss[3].value), 'the later NaN replaced step 3');
        assert.deepStrictEqual([loss[49].step, loss[49].value, loss[49].time], [49, 1 / 50, 1700000000049]);
        assert.deepStrictEqual(s.getMetrics('run-one', 'weird').map(p => p.value), [Infinity, -Infinity]);
        assertSameCurve(s, 'run-one', 'loss');
        assertSameCurve(s, 'run-one', 'weird');
        assert.strictEqual(s.getMetrics('run-one').length, 102);
        assert.deepStrictEqual(s.getMetrics('run-two').map(p => [p.key, p.value]), [['loss', 2.5]]);
        assert.deepStrictEqual(s.listRuns({ experimentId: 'exp_a', status: 'finished' })[0].finalMetrics, { accuracy: 49 / 50, loss: 1 / 50, weird: -Infinity });
        assert.strictEqual(s.getRun('run-one')!.configSnapshot, 'experiment:\n  id: exp_a\n');
        assert.deepStrictEqual(s.getRun('run-one')!.environment, { node: 'v20', packages: { numpy: '2.1' } });
        assert.deepStrictEqual(s.getArtifacts('run-one').map(a => a.kind), ['model']);
        assert.deepStrictEqual(s.findModelVersion('penguins', 'champion')?.stage, 'production');
        assert.deepStrictEqual(s.auditLog('penguins').map(e => e.action), ['register', 'promote', 'alias']);
        assert.strictEqual(s.listGateReports({ runId: 'run-one' }).length, 1);
      };
      check(store);
      assert.ok(fs.readFileSync(folder.file).equals(original), 'opening alone does not write');
      // a point recorded after the migration, before the first save, must win over the moved ones
      store.addMetrics([{ runId: 'run-one', key: 'loss', step: 49, value: 0.001, time: 5 }]);
      await store.close();

      const SQL = await initSqlJs();
      const db = new SQL.Database(fs.readFileSync(folder.file));
      assert.strictEqual(db.exec('PRAGMA user_version')[0].values[0][0], SCHEMA_VERSION);
      assert.deepStrictEqual(db.exec("SELECT name FROM sqlite_master WHERE name LIKE 'metric_points%'"), []);
      assert.deepStrictEqual(fs.readdirSync(path.join(path.dirname(folder.file), 'runs')).sort(), ['run-one', 'run-two']);
      assert.deepStrictEqual(db.exec('SELECT COUNT(*) FROM runs WHERE config_snapshot IS NOT NULL OR environment IS NOT NULL')[0].values, [[0]]);
      assert.deepStrictEqual(fs.readdirSync(path.join(path.dirname(folder.file), 'runs', 'run-one')).sort(), ['metrics.jsonl', 'run.json']);
      const reopened = await RunStore.open(folder.file, { readOnly: true });
      assert.strictEqual(reopened.hasUnsavedChanges, false);
      assert.strictEqual(reopened.getCurve('run-one', 'loss').values[49], 0.001);
      assert.deepStrictEqual(reopened.getMetrics('run-one', 'loss')[49].value, 0.001);
      assert.strictEqual(reopened.getMetrics('run-one').length, 102);
      assert.strictEqual(reopened.getRun('run-one')!.configSnapshot, 'experiment:\n  id: exp_a\n');
      assert.deepStrictEqual(reopened.getRun('run-one')!.environment, { node: 'v20', packages: { numpy: '2.1' } });
      assert.deepStrictEqual(reopened.auditLog('penguins').map(e => e.action), ['register', 'promote', 'alias']);
      await reopened.close();
    });
  });
});
