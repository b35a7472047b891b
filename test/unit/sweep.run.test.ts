import * as assert from 'assert';
import { execFile, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { RunStore } from '../../src/core/store';
import { LocalExecutor, SWEEP_TAGS, isTrialDone, runSweep, sweepProgress, sweepRuns, type SweepEvent, type TrialExecutor } from '../../src/core/sweep';
import { until } from './processes';

const root = path.resolve(__dirname, '../../..');
const cliJs = path.join(root, 'dist/cli.js');

/** A fresh workspace with the sweep fixture; `edit` rewrites its config. */
function workspace(edit: (text: string) => string = s => s): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edd-sweep-'));
  fs.copyFileSync(path.join(root, 'test/fixtures/sweep/train.js'), path.join(dir, 'train.js'));
  fs.writeFileSync(path.join(dir, 'grid.yaml'), edit(fs.readFileSync(path.join(root, 'test/fixtures/sweep/grid.yaml'), 'utf8')));
  return dir;
}

function cli(args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise(resolve => {
    execFile(process.execPath, [cliJs, ...args], { cwd }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

async function runs(dir: string) {
  const store = await RunStore.open(path.join(dir, '.edd/edd.sqlite'), { readOnly: true });
  try {
    return store.listRuns();
  } finally {
    await store.close();
  }
}

/** Trial indexes of the finished runs, and how often each one finished. */
function finishedTrials(list: Awaited<ReturnType<typeof runs>>): Map<number, number> {
  const m = new Map<number, number>();
  for (const r of list) if (r.status === 'finished') m.set(Number(r.tags.trial_index), (m.get(Number(r.tags.trial_index)) ?? 0) + 1);
  return m;
}

describe('edd sweep runs trials as tagged runs', function () {
  this.timeout(180000);
  const dirs: string[] = [];
  after(() => {
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  it('--dry-run --json lists every trial with its overrides under dotted keys and its seed', async () => {
    const dir = workspace();
    dirs.push(dir);
    const r = await cli(['sweep', 'grid.yaml', '--dry-run', '--json'], dir);
    assert.strictEqual(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.strictEqual(out.trials.length, 27);
    assert.deepStrictEqual(out.trials[26], { trial_index: 26, seed: 2, overrides: { 'parameters.learning_rate': 0.1, 'parameters.batch_size': 64 } });
    assert.ok(!fs.existsSync(path.join(dir, '.edd')), 'a dry run records nothing');
  });

  it('a 3 × 3 grid × 3 seeds with parallelism 2: 27 runs, each trial once, tagged, seeded, overrides in params', async () => {
    const dir = workspace();
    dirs.push(dir);
    const started = Date.now();
    const r = await cli(['sweep', 'grid.yaml', '--parallel', '2'], dir);
    const wallS = (Date.now() - started) / 1000;
    assert.strictEqual(r.code, 0, r.stderr);
    const sweepId = /sweep (sw-[0-9a-f]{12})/.exec(r.stdout)?.[1];
    assert.ok(sweepId, r.stdout);
    const list = await runs(dir);
    assert.strictEqual(list.length, 27);
    assert.ok(list.every(x => x.status === 'finished' && x.tags.sweep_id === sweepId && x.tags.sweep_config === 'grid.yaml' && x.tags.sweep_trials === '27'));
    assert.deepStrictEqual(sweepProgress(list), { done: 27, running: 0, failed: 0, cancelled: 0, total: 27 });
    const finished = finishedTrials(list);
    assert.deepStrictEqual([...finished.keys()].sort((a, b) => a - b), [...Array(27).keys()]);
    assert.ok([...finished.values()].every(n => n === 1));
    const t5 = list.find(x => x.tags.trial_index === '5')!;
    assert.strictEqual(t5.seed, 2);
    assert.strictEqual(t5.params.learning_rate, 0.001);
    assert.strictEqual(t5.params.batch_size, 32);
    // The runs' own record says at most two ran at once.
    const edges = list.flatMap(x => [[x.startedAt!, 1], [x.endedAt!, -1]]).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    let now = 0;
    let peak = 0;
    for (const [, d] of edges) peak = Math.max(peak, (now += d));
    assert.ok(peak <= 2, `peak concurrency ${peak}`);
    const json = JSON.parse((await cli(['runs', '--json'], dir)).stdout);
    assert.deepStrictEqual(new Set(json.map((x: { sweep_id: string }) => x.sweep_id)), new Set([sweepId]));
    assert.deepStrictEqual(json.map((x: { trial_index: number }) => x.trial_index).sort((a: number, b: number) => a - b), [...Array(27).keys()]);
    console.log(`      27-run sweep, parallelism 2: ${wallS.toFixed(1)} s wall`);
  });

  it('resumes after kill -9 of edd sweep: the finished trials are skipped, the rest run, 27 trials finish once each', async () => {
    const dir = workspace(s => s.replace('step_ms: 0', 'step_ms: 80'));
    dirs.push(dir);
    const child = spawn(process.execPath, [cliJs, 'sweep', 'grid.yaml', '--parallel', '2'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', d => (stdout += d));
    child.stderr.on('data', d => (stderr += d));
    const exited = new Promise(resolve => child.on('exit', resolve));
    await until(() => (stderr.match(/: finished/g) ?? []).length >= 6, 'six finished trials', 60000);
    child.kill('SIGKILL');
    await exited;
    const sweepId = /sweep (sw-[0-9a-f]{12})/.exec(stdout)![1];
    const before = finishedTrials(await runs(dir));
    assert.ok(before.size >= 6 && before.size < 27, `finished before the kill: ${before.size}`);

    const r = await cli(['sweep', 'grid.yaml', '--resume', sweepId, '--parallel', '2'], dir);
    assert.strictEqual(r.code, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`Sweep ${sweepId}: 27 trial\\(s\\), ${before.size} already done`));
    const list = await runs(dir);
    const after = finishedTrials(list);
    assert.deepStrictEqual([...after.keys()].sort((a, b) => a - b), [...Array(27).keys()]);
    assert.ok([...after.values()].every(n => n === 1), 'no trial finished twice');
    // The runs the kill left behind are marked interrupted, and their processes are gone.
    const leftover = list.filter(x => x.status !== 'finished');
    assert.ok(leftover.every(x => x.status === 'interrupted'), JSON.stringify(leftover.map(x => x.status)));
    assert.ok(list.every(x => x.tags.sweep_id === sweepId));
    // Resuming after the config changed what a trial runs is refused: the sweep would mix two designs.
    fs.writeFileSync(path.join(dir, 'grid.yaml'), fs.readFileSync(path.join(dir, 'grid.yaml'), 'utf8').replace('values: [0.001, 0.01, 0.1]', 'values: [0.002, 0.01, 0.1]'));
    const changed = await cli(['sweep', 'grid.yaml', '--resume', sweepId], dir);
    assert.strictEqual(changed.code, 2, changed.stderr);
    assert.match(changed.stderr, /grid\.yaml changed since sweep sw-[0-9a-f]{12} started \(trial [0-8] now has other values\)/);
  });

  it('SIGTERM cancels the sweep: running trials stop and are recorded cancelled, no trial starts after, exit 130', async () => {
    const dir = workspace(s => s.replace('step_ms: 0', 'step_ms: 200').replace('epochs: 5', 'epochs: 500'));
    dirs.push(dir);
    const child = spawn(process.execPath, [cliJs, 'sweep', 'grid.yaml', '--parallel', '2'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', d => (stderr += d));
    const code = new Promise<number | null>(resolve => child.on('exit', c => resolve(c)));
    await until(() => (stderr.match(/ started: run /g) ?? []).length >= 2, 'two trials started', 30000);
    child.kill('SIGTERM');
    assert.strictEqual(await code, 130, stderr);
    const list = await runs(dir);
    assert.strictEqual(list.length, 2);
    assert.ok(list.every(x => x.status === 'cancelled'), JSON.stringify(list.map(x => x.status)));
    assert.match(stderr, /Resume with: edd sweep grid\.yaml --resume sw-/);
  });

  it('median early stopping stops a trial that is clearly worse and records it as stopped; resume counts it done', async () => {
    const dir = workspace(s => s
      .replace('epochs: 5', 'epochs: 40').replace('step_ms: 0', 'step_ms: 25')
      .replace(/ {4}parameters:\n(.|\n)*?seeds: \[0, 1, 2\]/, '    parameters:\n      parameters.handicap: { values: [0, 0.01, 0.5] }\n    seeds: [0]')
      .replace('max_parallel: 2', 'max_parallel: 1\n    early_terminate: { type: median, min_steps: 3 }'));
    dirs.push(dir);
    const store = await RunStore.open(path.join(dir, '.edd/edd.sqlite'));
    try {
      const events: SweepEvent[] = [];
      const result = await runSweep({ store, workspaceRoot: dir, configPath: 'grid.yaml', executor: new LocalExecutor(), onEvent: e => events.push(e) });
      assert.deepStrictEqual([...result.outcomes].map(([i, o]) => [i, o.status, o.stoppedEarly]), [
        [0, 'finished', false], [1, 'finished', false], [2, 'cancelled', true],
      ]);
      const stopped = store.getRun(result.outcomes.get(2)!.runId!)!;
      assert.strictEqual(stopped.tags[SWEEP_TAGS.stopped], 'median');
      assert.match(stopped.error ?? '', /median rule\): val_accuracy = [0-9.]+ at step 3 is worse than the median/);
      // Stopped long before its 40 steps; the trials that were ahead ran all of them.
      assert.ok(store.getMetrics(stopped.id, 'val_accuracy').length < 20);
      assert.strictEqual(store.getMetrics(result.outcomes.get(0)!.runId!, 'val_accuracy').length, 40);
      assert.ok(isTrialDone(stopped));
      assert.strictEqual(sweepRuns(store, result.sweepId).length, 3);
      const again = await runSweep({ store, workspaceRoot: dir, configPath: 'grid.yaml', executor: new LocalExecutor(), resume: result.sweepId });
      assert.strictEqual(again.skipped, 3);
      assert.strictEqual(again.outcomes.size, 0);
    } finally {
      await store.close();
    }
  });

  it('resume: early stopping judges the new trials against the earlier session\'s finished trials, loaded from the store', async () => {
    const dir = workspace(s => s
      .replace('epochs: 5', 'epochs: 40').replace('step_ms: 0', 'step_ms: 5')
      .replace(/ {4}parameters:\n(.|\n)*?seeds: \[0, 1, 2\]/, '    parameters:\n      parameters.handicap: { values: [0, 0.01, 0.5] }\n    seeds: [0]')
      .replace('max_parallel: 2', 'max_parallel: 1\n    early_terminate: { type: median, min_steps: 3 }'));
    dirs.push(dir);
    const store = await RunStore.open(path.join(dir, '.edd/edd.sqlite'));
    try {
      // The first session runs the two good trials to their end, then is cancelled before the bad one starts.
      const cancel = new AbortController();
      const first = await runSweep({
        store, workspaceRoot: dir, configPath: 'grid.yaml', executor: new LocalExecutor(), signal: cancel.signal,
        onEvent: e => { if (e.type === 'trial-end' && e.trial.index === 1) cancel.abort(); },
      });
      assert.deepStrictEqual([...first.outcomes].map(([i, o]) => [i, o.status]), [[0, 'finished'], [1, 'finished']]);
      // Alone in its session, the bad trial has only the two earlier trials to be compared with.
      const again = await runSweep({ store, workspaceRoot: dir, configPath: 'grid.yaml', executor: new LocalExecutor(), resume: first.sweepId });
      assert.strictEqual(again.skipped, 2);
      const bad = again.outcomes.get(2)!;
      assert.deepStrictEqual([bad.status, bad.stoppedEarly], ['cancelled', true], bad.error);
      assert.match(bad.error ?? '', /median rule\): val_accuracy = [0-9.]+ at step 3 is worse than the median [0-9.]+ of 2 other trials/);
      const points = store.getMetrics(bad.runId!, 'val_accuracy');
      assert.ok(points.length < 20, `stopped after ${points.length} of 40 steps`);
      assert.strictEqual(store.getRun(bad.runId!)!.tags[SWEEP_TAGS.stopped], 'median');
    } finally {
      await store.close();
    }
  });

  it('another executor plugs in through the interface; one that throws fails its trial only', async () => {
    const dir = workspace(s => s.replace(/ {4}parameters:\n(.|\n)*?seeds: \[0, 1, 2\]/, '    parameters:\n      parameters.batch_size: { values: [16, 32, 64] }\n    seeds: [0]'));
    dirs.push(dir);
    const local = new LocalExecutor();
    const seen: string[] = [];
    const executor: TrialExecutor = {
      start: (trial, context, signal) => {
        seen.push(`${trial.index}:${context.tags.sweep_id === undefined ? '?' : 'tagged'}:${/batch_size: (\d+)/.exec(context.configText)?.[1]}`);
        if (trial.index === 1) return Promise.reject(new Error('cluster unreachable'));
        return local.start(trial, context, signal);
      },
    };
    const store = await RunStore.open(path.join(dir, '.edd/edd.sqlite'));
    try {
      const result = await runSweep({ store, workspaceRoot: dir, configPath: path.join(dir, 'grid.yaml'), executor, parallel: 3 });
      assert.deepStrictEqual(seen.sort(), ['0:tagged:16', '1:tagged:32', '2:tagged:64']);
      assert.deepStrictEqual([...result.outcomes].sort(([a], [b]) => a - b).map(([i, o]) => [i, o.status, o.error ?? null]), [
        [0, 'finished', null], [1, 'failed', 'cluster unreachable'], [2, 'finished', null],
      ]);
    } finally {
      await store.close();
    }
  });

  it('a failing trial fails alone (exit 1), and resuming an unknown sweep is a usage error (exit 2)', async () => {
    const dir = workspace(s => s
      .replace('handicap: 0', 'handicap: 0\n    fail: false')
      .replace(/ {4}parameters:\n(.|\n)*?seeds: \[0, 1, 2\]/, '    parameters:\n      parameters.fail: { values: [false, true] }\n    seeds: [0]'));
    dirs.push(dir);
    const r = await cli(['sweep', 'grid.yaml', '--json'], dir);
    assert.strictEqual(r.code, 1, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.deepStrictEqual(out.trials.map((x: { status: string }) => x.status), ['finished', 'failed']);
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'edd-sweep-'));
    dirs.push(empty);
    const missing = await cli(['sweep', 'nothing.yaml'], empty);
    assert.strictEqual(missing.code, 2);
    assert.match(missing.stderr, /Cannot read nothing\.yaml/);
    assert.deepStrictEqual(fs.readdirSync(empty), [], 'no store is created for a config that cannot be read');
    const bad = await cli(['sweep', 'grid.yaml', '--resume', 'sw-000000000000'], dir);
    assert.strictEqual(bad.code, 2);
    assert.match(bad.stderr, /No runs of sweep sw-000000000000/);
  });
});
