import * as assert from 'assert';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { performance } from 'perf_hooks';
import { StoreCorruptError, RunStore } from '../../src/core/store';
import { StoreWorkerClient } from '../../src/extension/runs/storeClient';
import type { ExecuteEvent } from '../../src/extension/runs/storeOps';

const root = path.resolve(__dirname, '../../..');
const script = path.resolve(__dirname, '../../src/extension/runs/storeWorker.js');
const fixture = path.join(root, 'test/fixtures/workspace');

function workspace(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edd-store-worker-'));
  fs.mkdirSync(path.join(dir, 'experiments'));
  for (const f of ['quick.yaml', 'slow.yaml']) fs.copyFileSync(path.join(fixture, 'experiments', f), path.join(dir, 'experiments', f));
  fs.cpSync(path.join(fixture, 'scripts'), path.join(dir, 'scripts'), { recursive: true });
  return dir;
}

/** CPU time (ms) this process's main thread has used: Linux counts it per thread in 10 ms ticks. */
function mainThreadCpuMs(): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10; // utime + stime, in clock ticks of 10 ms
  } catch {
    return undefined;
  }
}

/**
 * Watches the host thread with a 5 ms timer. `wallMs` is the longest gap between ticks; on a machine shared with
 * other busy processes that also counts the time the OS gave the CPU to someone else. `busyMs` is the longest gap
 * during which this thread itself was running (its own CPU time in that gap): a freeze the extension's code causes.
 */
function stallProbe(): { stop(): { wallMs: number; busyMs: number } } {
  let lastAt = performance.now();
  let lastCpu = mainThreadCpuMs();
  let wallMs = 0;
  let busyMs = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    const cpu = mainThreadCpuMs();
    const gap = now - lastAt;
    wallMs = Math.max(wallMs, gap);
    // Without per-thread CPU time (not Linux), every gap counts as busy.
    busyMs = Math.max(busyMs, cpu === undefined || lastCpu === undefined ? gap : Math.min(gap, cpu - lastCpu));
    lastAt = now;
    lastCpu = cpu;
  }, 5);
  return { stop: () => { clearInterval(timer); return { wallMs, busyMs }; } };
}

describe('store worker: the editor\'s store lives on its own thread', function () {
  this.timeout(120000);
  let dir: string;
  let client: StoreWorkerClient;
  beforeEach(() => {
    dir = workspace();
    client = new StoreWorkerClient(script);
  });
  afterEach(async function () {
    this.timeout(120000);
    await client.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('answers store calls, runs a run there with its events, and saves on dispose', async () => {
    const file = path.join(dir, '.edd/edd.sqlite');
    const store = await client.open(file);
    const changes: string[] = [];
    client.onDidChange((f, c) => { if (f === file) changes.push(c.origin); });
    const events: ExecuteEvent[] = [];
    const r = await store.opWith('execute', { onEvent: e => events.push(e as ExecuteEvent) }, { workspaceRoot: dir, configPath: 'experiments/quick.yaml' });
    assert.strictEqual(r.run.status, 'finished');
    assert.strictEqual(events[0].type, 'start', 'the run\'s start comes first');
    assert.ok(events.some(e => e.type === 'event' && e.event.type === 'metric'), 'metric events reach the host');
    assert.deepStrictEqual((await store.getMetrics(r.run.id, 'val_accuracy')).map(p => p.value), [0.6, 0.7, 0.8]);
    assert.deepStrictEqual(await store.op('lastSteps', r.run.id), { loss: 3, val_accuracy: 3 });
    assert.ok(changes.includes('local'), 'the store\'s changes reach the host');
    await client.dispose();
    // What the worker wrote is on disk: another process (here: this thread) reads it.
    const direct = await RunStore.open(file, { autoSave: false });
    try {
      assert.strictEqual(direct.getRun(r.run.id)?.status, 'finished');
    } finally {
      await direct.close();
    }
  });

  it('takes arguments a structured clone refuses, as VS Code\'s settings are (proxies)', async () => {
    const store = await client.open(path.join(dir, '.edd/edd.sqlite'));
    const a = await store.createRun({ experimentId: 'a', status: 'finished' });
    const b = await store.createRun({ experimentId: 'b', status: 'finished' });
    const goals = new Proxy({ loss: 'min' as const }, {});
    const c = await store.op('compare', [a.id, b.id], { workspaceRoot: dir, goals, measureLatency: false });
    assert.deepStrictEqual(c.runs.map(r => r.runId), [a.id, b.id]);
  });

  it('cancels a run through the host\'s AbortSignal', async () => {
    const store = await client.open(path.join(dir, '.edd/edd.sqlite'));
    const controller = new AbortController();
    const r = await store.opWith('execute', {
      signal: controller.signal,
      onEvent: e => { const ev = e as ExecuteEvent; if (ev.type === 'event' && ev.event.type === 'metric' && ev.event.step === 3) controller.abort(); },
    }, { workspaceRoot: dir, configPath: 'experiments/slow.yaml' });
    assert.strictEqual(r.run.status, 'cancelled');
    assert.ok((await store.getMetrics(r.run.id, 'loss')).length >= 3);
  });

  it('gives the host the store\'s own errors (a damaged store is a StoreCorruptError, with its backup)', async () => {
    const file = path.join(dir, 'broken.sqlite');
    fs.writeFileSync(file, 'not a database at all, but long enough to be looked at: '.repeat(10));
    await assert.rejects(client.open(file), (e: unknown) => e instanceof StoreCorruptError && typeof e.backupPath === 'string' && fs.existsSync(e.backupPath));
  });

  it('fails what is waiting when the worker dies, and starts a new one for the next request', async () => {
    const store = await client.open(path.join(dir, '.edd/edd.sqlite'));
    const run = await store.createRun({ experimentId: 'e', status: 'finished' });
    await store.save();
    const waiting = store.opWith('execute', {}, { workspaceRoot: dir, configPath: 'experiments/slow.yaml' });
    // what a crash of the thread looks like from the host: the worker is gone
    await (client as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate();
    await assert.rejects(waiting, /store worker stopped/);
    assert.strictEqual((await store.getRun(run.id))?.experimentId, 'e', 'the next request reopens the store from its file');
  });

  it('keeps the host thread free (no stall over 50 ms) while a run writes metrics into a 50k-run store', async function () {
    this.timeout(600000);
    const file = path.join(dir, '.edd/edd.sqlite');
    // 50,000 finished runs (the last 500 with metrics: a metric history is one file per run), written with the store
    // API by another process, as the CLI would: the garbage of building them stays out of this thread's measurement.
    execFileSync(process.execPath, ['-e', `
      const { RunStore } = require(${JSON.stringify(path.resolve(__dirname, '../../src/core/store'))});
      RunStore.open(${JSON.stringify(file)}, { autoSave: false }).then(async store => {
        const points = [];
        for (let i = 0; i < 50000; i++) {
          const r = store.createRun({ experimentId: 'exp_' + (i % 20), status: 'finished', params: { i, lr: 0.001 * (i % 7), layers: [64, 32] }, startedAt: 1e12 + i, endedAt: 1e12 + i + 1 });
          if (i >= 49500) for (let s = 0; s < 5; s++) points.push({ runId: r.id, key: 'loss', step: s, value: 1 / (s + 1) }, { runId: r.id, key: 'val_accuracy', step: s, value: s / 5 });
        }
        store.addMetrics(points);
        await store.close();
      });`], { stdio: 'inherit' });

    const probe = stallProbe();
    const started = Date.now();
    const store = await client.open(file);
    const controller = new AbortController();
    let metrics = 0;
    let saves = 0;
    client.onDidChange(() => saves++);
    // The slow fixture logs a metric every 100 ms until cancelled: let it write for 3 s after its first point.
    let firstAt = 0;
    const r = await store.opWith('execute', {
      signal: controller.signal,
      onEvent: e => {
        const ev = e as ExecuteEvent;
        if (ev.type !== 'event' || ev.event.type !== 'metric') return;
        metrics++;
        firstAt ||= Date.now();
        if (Date.now() - firstAt > 3000) controller.abort();
      },
    }, { workspaceRoot: dir, configPath: 'experiments/slow.yaml' });
    // the tree's first level and a page of runs, as the Experiments view asks while the run goes on
    await store.listExperiments();
    await store.listRuns({ experimentId: 'exp_0', limit: 101 });
    await client.dispose();
    const { wallMs, busyMs } = probe.stop();
    console.log(`      50k runs: open + run (${metrics} metric events, ${saves} store changes) + close in ${Date.now() - started} ms; longest host stall: ${busyMs.toFixed(0)} ms busy, ${wallMs.toFixed(0)} ms wall clock (load average ${os.loadavg()[0].toFixed(1)})`);
    assert.strictEqual(r.run.status, 'cancelled');
    assert.ok(metrics >= 20, `the run wrote metrics (${metrics})`);
    assert.ok(busyMs <= 50, `the host thread was busy for ${busyMs.toFixed(0)} ms without a break (limit 50 ms)`);
  });
});
