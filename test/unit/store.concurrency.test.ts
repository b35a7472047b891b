import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import initSqlJs from 'sql.js';
import { RunStore, StoreLockError, type StoreChange, type StoreSaved } from '../../src/core/store';
import { FileLock } from '../../src/core/store/lock';
import { deadPid, spawnWriter, tempFolder, waitFor, type Writer } from '../store/helpers';

/** The files next to the store, without `runs/` (the runs' metric histories, checked on their own). */
/** The files next to the store, without `runs/`; `segments/`'s files listed as `segments/<name>`. */
function siblings(file: string): string[] {
  const dir = path.dirname(file);
  return fs.readdirSync(dir).filter(n => n !== 'runs').flatMap(n => (n === 'segments' ? fs.readdirSync(path.join(dir, n)).map(s => `segments/${s}`) : [n])).sort();
}

async function runIds(file: string, experimentId?: string): Promise<Set<string>> {
  const store = await RunStore.open(file, { readOnly: true });
  try {
    return new Set(store.listRuns({ experimentId }).map(r => r.id));
  } finally {
    await store.close();
  }
}

describe('run store: several writers', function () {
  this.timeout(120_000);
  let folder: ReturnType<typeof tempFolder>;
  const open: RunStore[] = [];
  const children: Writer[] = [];

  beforeEach(() => (folder = tempFolder()));
  afterEach(async () => {
    for (const w of children.splice(0)) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
    for (const s of open.splice(0)) await s.close().catch(() => undefined);
    folder.cleanup();
  });

  async function openStore(options = {}): Promise<RunStore> {
    const s = await RunStore.open(folder.file, { autoSave: false, ...options });
    open.push(s);
    return s;
  }

  describe('in one process (two store objects, as the extension and a CLI would be)', () => {
    it('reloadIfChanged picks up the other writer\'s saves, once, and reports an external change', async () => {
      const a = await openStore();
      const b = await openStore();
      const changes: StoreChange[] = [];
      b.onDidChange(c => changes.push(c));
      assert.strictEqual(await b.reloadIfChanged(), false, 'no file yet');
      const run = a.createRun({ experimentId: 'e' });
      a.addMetrics([{ runId: run.id, key: 'loss', step: 3, value: 0.5 }]);
      await a.save();
      assert.strictEqual(await b.reloadIfChanged(), true);
      assert.deepStrictEqual(b.listRuns().map(r => [r.id, r.finalMetrics]), [[run.id, { loss: 0.5 }]]);
      assert.deepStrictEqual(changes, [{ origin: 'external', experiments: true, registry: true }]);
      assert.strictEqual(await b.reloadIfChanged(), false, 'nothing new');
      assert.strictEqual(b.generation, 1);
      // our own save is not "a change on disk" for us
      b.createRun({ experimentId: 'e' });
      await b.save();
      assert.strictEqual(await b.reloadIfChanged(), false);
      assert.strictEqual(await a.reloadIfChanged(), true);
      assert.strictEqual(a.listRuns().length, 2);
    });

    it('a save over another writer\'s save merges both: no run is lost', async () => {
      const a = await openStore();
      const b = await openStore();
      const saves: StoreSaved[] = [];
      b.onDidSave(s => saves.push(s));
      const ra = a.createRun({ experimentId: 'e', params: { by: 'a' } });
      a.addMetrics([{ runId: ra.id, key: 'loss', step: 0, value: 1 }]);
      await a.save();
      const rb = b.createRun({ experimentId: 'e', params: { by: 'b' } });
      b.addMetrics([{ runId: rb.id, key: 'loss', step: 0, value: 2 }]);
      await b.save();
      assert.deepStrictEqual(saves.map(s => [s.generation, s.merged]), [[2, true]]);
      assert.deepStrictEqual(await runIds(folder.file), new Set([ra.id, rb.id]));
      assert.deepStrictEqual(b.getMetrics(ra.id).map(p => p.value), [1], 'b now sees a\'s run too');
    });

    it('updates of different fields of one run by two writers are both kept', async () => {
      const a = await openStore();
      const run = a.createRun({ experimentId: 'e', status: 'running' });
      await a.save();
      const b = await openStore();
      a.updateRun(run.id, { status: 'finished', exitCode: 0 });
      b.updateRun(run.id, { peakMemoryBytes: 123_456, logPath: 'log.txt' });
      b.addArtifact({ runId: run.id, path: 'model.onnx', kind: 'model', sha256: null, size: 1 });
      await a.save();
      await b.save();
      const merged = (await openStore({ readOnly: true })).getRun(run.id)!;
      assert.deepStrictEqual([merged.status, merged.exitCode, merged.peakMemoryBytes, merged.logPath], ['finished', 0, 123_456, 'log.txt']);
      assert.deepStrictEqual(b.getArtifacts(run.id).map(x => x.path), ['model.onnx']);
    });

    it('a run one writer deleted stays deleted when another writer updates it', async () => {
      const a = await openStore();
      const run = a.createRun({ experimentId: 'e' });
      await a.save();
      const b = await openStore();
      a.deleteRun(run.id);
      await a.save();
      b.updateRun(run.id, { status: 'finished' });
      b.addMetrics([{ runId: run.id, key: 'loss', step: 0, value: 1 }]);
      await b.save();
      assert.strictEqual(b.getRun(run.id), undefined);
      assert.deepStrictEqual(await runIds(folder.file), new Set());
    });

    it('unsaved changes survive a reload and are saved afterwards', async () => {
      const a = await openStore();
      const b = await openStore();
      const mine = b.createRun({ experimentId: 'e' });
      b.addMetrics([{ runId: mine.id, key: 'acc', step: 1, value: 0.9 }]);
      const theirs = a.createRun({ experimentId: 'e' });
      await a.save();
      assert.strictEqual(await b.reloadIfChanged(), true);
      assert.deepStrictEqual(new Set(b.listRuns().map(r => r.id)), new Set([mine.id, theirs.id]));
      assert.strictEqual(b.hasUnsavedChanges, true);
      await b.save();
      const after = await openStore({ readOnly: true });
      assert.deepStrictEqual(after.listRuns().find(r => r.id === mine.id)?.finalMetrics, { acc: 0.9 });
      assert.strictEqual(after.listRuns().length, 2);
    });
  });

  describe('separate processes', () => {
    it('two child processes and this one write the same store at once: every run of every writer is there', async () => {
      const perWriter = 25;
      const writers = ['w1', 'w2'].map(tag => spawnWriter({ file: folder.file, runs: perWriter, points: 200, experimentId: 'shared', tag, waitForGo: true, pauseMs: 10, logCheckpointBytes: tag === 'w1' ? 4096 : undefined }));
      children.push(...writers);
      const mine: string[] = [];
      const store = await openStore();
      let merges = 0;
      store.onDidSave(s => (merges += s.merged ? 1 : 0));
      await waitFor(() => writers.every(w => w.ready()), 'the writers to open the store');
      for (const w of writers) w.child.stdin!.end('go\n');
      for (let i = 0; i < perWriter; i++) {
        const run = store.createRun({ experimentId: 'shared', params: { writer: 'main', i } });
        store.addMetrics(Array.from({ length: 200 }, (_, s) => ({ runId: run.id, key: s % 2 ? 'loss' : 'accuracy', step: s >> 1, value: s })));
        await store.save();
        mine.push(run.id);
        await new Promise(r => setTimeout(r, Math.random() * 10));
      }
      const exits = await Promise.all(writers.map(w => w.exited));
      writers.forEach((w, i) => assert.deepStrictEqual(exits[i], { code: 0, signal: null }, w.stderr()));
      writers.forEach(w => assert.ok(w.done() && w.saved.length === perWriter, w.stderr()));

      const expected = new Set([...mine, ...writers.flatMap(w => w.saved)]);
      assert.strictEqual(expected.size, 3 * perWriter);
      const final = await openStore({ readOnly: true });
      const runs = final.listRuns({ experimentId: 'shared' });
      assert.deepStrictEqual(new Set(runs.map(r => r.id)), expected);
      for (const r of runs) {
        assert.strictEqual(final.getMetrics(r.id).length, 200, `metrics of ${r.id}`);
        assert.deepStrictEqual(Object.keys(r.finalMetrics), ['accuracy', 'loss']);
      }
      const byWriter = new Map<string, number>();
      for (const r of runs) byWriter.set(String(r.params.writer), (byWriter.get(String(r.params.writer)) ?? 0) + 1);
      assert.deepStrictEqual(Object.fromEntries(byWriter), { main: perWriter, w1: perWriter, w2: perWriter });
      assert.strictEqual(runs.filter(r => r.params.writer !== 'main').every(r => r.status === 'finished'), true);
      assert.deepStrictEqual(siblings(folder.file).filter(n => n !== 'edd.sqlite.oplog'), ['edd.sqlite'], 'no lock or temp file left');
      const merged = [merges, ...writers.map(w => w.merged())];
      console.log(`      saves that merged another process's save (this process, w1, w2): ${merged.join(', ')} of ${perWriter} each`);
      assert.ok(merged.reduce((a, b) => a + b) > 0, 'the writers did overlap');
      // and this process sees everything after a reload
      await store.reloadIfChanged();
      assert.strictEqual(store.listRuns().length, 3 * perWriter);
    });

    it('kill -9 of a writer at random moments of its save loop: the store always opens and keeps every reported run', async () => {
      const iterations = 20;
      const reported = new Set<string>();
      let killedHoldingLock = 0;
      let tempsLeft = 0;
      for (let i = 0; i < iterations; i++) {
        // segments of 3 runs: the kills also land while old runs are being sealed into segment files
        const w = spawnWriter({ file: folder.file, runs: 0, points: 4000, experimentId: 'kill', tag: `k${i}`, segmentRuns: 3 });
        children.push(w);
        await waitFor(() => w.saved.length >= 1 || w.child.exitCode !== null, `writer ${i}'s first save`);
        assert.strictEqual(w.child.exitCode, null, w.stderr());
        // fault injection, not waiting for a condition: the kill lands anywhere in the next saves
        await new Promise(r => setTimeout(r, Math.random() * 60));
        w.child.kill('SIGKILL');
        const exit = await w.exited;
        assert.strictEqual(exit.signal, 'SIGKILL', w.stderr());
        for (const id of w.saved) reported.add(id);
        if (fs.existsSync(folder.file + '.lock')) killedHoldingLock++;
        if (siblings(folder.file).some(n => n.includes('.tmp-'))) tempsLeft++;

        const present = await runIds(folder.file, 'kill'); // opens with the full integrity check
        for (const id of reported) assert.ok(present.has(id), `run ${id} was reported saved but is missing after kill ${i}`);
      }
      console.log(`      ${iterations} kills: ${reported.size} runs reported saved, ${killedHoldingLock} kills left the lock behind, ${tempsLeft} left a temp file`);
      assert.ok(reported.size >= iterations);

      // a writer after all that recovers the abandoned lock and cleans up the dead writers' temp files
      const last = spawnWriter({ file: folder.file, runs: 2, points: 10, experimentId: 'kill', tag: 'last', segmentRuns: 3 });
      children.push(last);
      assert.deepStrictEqual(await last.exited, { code: 0, signal: null }, last.stderr());
      // and removes segment files a writer killed between a segment and its head left unlisted
      const segments = siblings(folder.file).filter(n => n.startsWith('segments/'));
      assert.ok(segments.length >= 2, 'runs were sealed');
      assert.deepStrictEqual(siblings(folder.file).filter(n => !n.startsWith('segments/') && n !== 'edd.sqlite.oplog'), ['edd.sqlite']);
      assert.ok(segments.every(n => /^segments\/\d{8}-[0-9a-f]{8}\.sqlite$/.test(n)), segments.join(', '));
      const SQL = await initSqlJs();
      const head = new SQL.Database(fs.readFileSync(folder.file));
      assert.deepStrictEqual(segments, head.exec('SELECT file FROM segments ORDER BY file')[0].values.map(r => `segments/${r[0] as string}`));
      head.close();
      const present = await runIds(folder.file, 'kill');
      for (const id of [...reported, ...last.saved]) assert.ok(present.has(id));
      // a reported run is a saved one: its points were flushed with it, whatever torn line the kill left after them
      const final = await openStore({ readOnly: true });
      for (const id of reported) assert.strictEqual(final.getMetrics(id).length, 4000, `points of ${id}`);
      await final.close();
    });
  });

  describe('the lock file', () => {
    const lockFile = () => folder.file + '.lock';

    async function saveOneRun(options = {}): Promise<{ store: RunStore; ms: number }> {
      const store = await openStore(options);
      store.createRun({ experimentId: 'e' });
      const started = Date.now();
      await store.save();
      return { store, ms: Date.now() - started };
    }

    it('is taken only during a save (holding pid and host) and removed after it', async () => {
      const store = await openStore();
      store.createRun({ experimentId: 'e' });
      assert.ok(!fs.existsSync(lockFile()));
      let seen: { pid: number; hostname: string; time: number } | undefined;
      // save listeners run before the lock is released
      store.onDidSave(() => (seen = JSON.parse(fs.readFileSync(lockFile(), 'utf8'))));
      await store.save();
      assert.deepStrictEqual([seen?.pid, seen?.hostname], [process.pid, os.hostname()]);
      assert.ok(!fs.existsSync(lockFile()));
    });

    it('a lock left by a dead process is broken at once', async () => {
      fs.mkdirSync(path.dirname(lockFile()), { recursive: true });
      fs.writeFileSync(lockFile(), JSON.stringify({ pid: await deadPid(), hostname: os.hostname(), time: Date.now(), token: 'old' }));
      const { ms } = await saveOneRun({ lockTimeoutMs: 5000 });
      assert.ok(ms < 2000, `took ${ms} ms`);
      assert.ok(!fs.existsSync(lockFile()));
      assert.strictEqual((await runIds(folder.file)).size, 1);
    });

    it('a lock older than staleLockMs is broken even if its pid is alive', async () => {
      fs.mkdirSync(path.dirname(lockFile()), { recursive: true });
      fs.writeFileSync(lockFile(), JSON.stringify({ pid: process.pid, hostname: os.hostname(), time: Date.now() - 60_000, token: 'old' }));
      await saveOneRun({ staleLockMs: 30_000, lockTimeoutMs: 5000 });
      assert.ok(!fs.existsSync(lockFile()));
    });

    it('a lock held longer than staleLockMs refreshes itself, so a long save is never broken as stale', async () => {
      fs.mkdirSync(path.dirname(lockFile()), { recursive: true });
      const staleMs = 300;
      const lock = await FileLock.acquire(lockFile(), folder.file, { timeoutMs: 1000, staleMs });
      const taken = (JSON.parse(fs.readFileSync(lockFile(), 'utf8')) as { time: number }).time;
      // held for more than three times staleMs: without the refresh its time would be that old
      await waitFor(() => Date.now() - taken > 3 * staleMs, 'the lock to be held past staleMs', 5000);
      const now = (JSON.parse(fs.readFileSync(lockFile(), 'utf8')) as { time: number }).time;
      assert.ok(Date.now() - now < staleMs, `refreshed ${Date.now() - now} ms ago`);
      // another writer (same pid here, so only the age could make the lock look abandoned) waits and gives up
      await assert.rejects(FileLock.acquire(lockFile(), folder.file, { timeoutMs: 4 * staleMs, staleMs }), StoreLockError);
      await lock.release();
      assert.ok(!fs.existsSync(lockFile()));
      const next = await FileLock.acquire(lockFile(), folder.file, { timeoutMs: 1000, staleMs });
      await next.release();
    });

    it('an unreadable lock (its writer died before writing it) is broken once it is a second old', async () => {
      fs.mkdirSync(path.dirname(lockFile()), { recursive: true });
      fs.writeFileSync(lockFile(), '');
      const old = new Date(Date.now() - 5000);
      fs.utimesSync(lockFile(), old, old);
      await saveOneRun({ lockTimeoutMs: 5000 });
      assert.ok(!fs.existsSync(lockFile()));
    });

    it('a live lock makes the save wait, then fail with StoreLockError; the next save succeeds', async () => {
      fs.mkdirSync(path.dirname(lockFile()), { recursive: true });
      const held = JSON.stringify({ pid: process.pid, hostname: os.hostname(), time: Date.now(), token: 'live' });
      fs.writeFileSync(lockFile(), held);
      const store = await openStore({ lockTimeoutMs: 300 });
      store.createRun({ experimentId: 'e' });
      const started = Date.now();
      await assert.rejects(store.save(), (e: unknown) => {
        assert.ok(e instanceof StoreLockError);
        assert.match(e.message, new RegExp(`lock .*edd\\.sqlite\\.lock is held by process ${process.pid} .*delete`));
        return true;
      });
      assert.ok(Date.now() - started >= 300);
      assert.strictEqual(fs.readFileSync(lockFile(), 'utf8'), held, 'someone else\'s lock is left alone');
      assert.ok(!fs.existsSync(folder.file), 'nothing written');
      assert.strictEqual(store.hasUnsavedChanges, true);
      fs.unlinkSync(lockFile());
      await store.save();
      assert.strictEqual((await runIds(folder.file)).size, 1);
    });

    it('a waiting save proceeds as soon as the holder releases the lock', async () => {
      fs.mkdirSync(path.dirname(lockFile()), { recursive: true });
      fs.writeFileSync(lockFile(), JSON.stringify({ pid: process.pid, hostname: os.hostname(), time: Date.now(), token: 'live' }));
      const store = await openStore({ lockTimeoutMs: 10_000 });
      store.createRun({ experimentId: 'e' });
      let done = false;
      const saving = store.save().then(() => (done = true));
      await new Promise(r => setTimeout(r, 50));
      assert.strictEqual(done, false);
      fs.unlinkSync(lockFile());
      await saving;
      assert.strictEqual((await runIds(folder.file)).size, 1);
    });

    it('temp files of dead writers are removed by the next save; a live writer\'s temp file is kept', async () => {
      await saveOneRun();
      const dead = `${folder.file}.tmp-${await deadPid()}-abcd1234`;
      const live = `${folder.file}.tmp-${process.pid}-live0000`;
      fs.writeFileSync(dead, 'partial');
      fs.writeFileSync(live, 'in progress');
      const store = open[0];
      store.createRun({ experimentId: 'e' });
      await store.save();
      assert.ok(!fs.existsSync(dead));
      assert.ok(fs.existsSync(live));
      fs.unlinkSync(live);
    });
  });
});
