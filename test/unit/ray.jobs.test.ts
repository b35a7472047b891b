// Runs on a real Ray head (started here on 127.0.0.1 from the Python test environment, stopped at the end): metrics
// arrive in the local store while the job runs, eight jobs at once with one cancelled and one crashing, the
// environment names the cluster and the node, Ray's own error messages reach the user, and `edd run --on ray`.
import * as assert from 'assert';
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { executeRayRun, RayError, RayJobsClient, RayTrialExecutor, type RayRunInfo } from '../../src/core/remote';
import { RunStore } from '../../src/core/store';
import { LocalExecutor } from '../../src/core/sweep';
import { HOSTILE_ARGS, startRayHead, type RayHead } from '../harness/ray';

const root = path.resolve(__dirname, '../../..');

const TRAIN = `
import json, os, sys, time
def emit(obj):
    print("EDD " + json.dumps(obj), flush=True)
mode = sys.argv[1]
emit({"param": "argv", "value": sys.argv[2:]})
cfg = json.load(open(os.environ["EDD_CONFIG_JSON"]))
emit({"param": "config_lr", "value": cfg["experiment"]["parameters"]["learning_rate"]})
if mode == "live":
    go = os.environ["GO_FILE"]
    emit({"metric": "loss", "value": 1.0, "step": 0})
    # The file protocol (what the Python helper writes) comes back too.
    with open(os.environ["EDD_METRICS_FILE"], "a") as f:
        f.write(json.dumps({"metric": "acc", "value": 0.5, "step": 0}) + "\\n")
    deadline = time.time() + 120
    while not os.path.exists(go) and time.time() < deadline:
        time.sleep(0.05)
    emit({"metric": "loss", "value": 0.5, "step": 1})
elif mode == "quick":
    for i in range(3):
        emit({"metric": "loss", "value": 1.0 / (i + 1), "step": i})
        time.sleep(0.1)
    emit({"metric": "score", "value": float(sys.argv[2])})
elif mode == "slow":
    for i in range(1200):
        emit({"metric": "loss", "value": 1.0 / (i + 1), "step": i})
        time.sleep(0.1)
elif mode == "chatty":
    # About 3 MB of log with a metric every 100 lines: every line must come back once, in order.
    for i in range(30000):
        if i % 100 == 0:
            emit({"metric": "tick", "value": i, "step": i // 100})
        print("log line %06d %s" % (i, "x" * 80))
    sys.stdout.flush()
elif mode == "crash":
    print("about to fail", flush=True)
    sys.exit(3)
`;

function config(id: string, command: string[], env: Record<string, string> = {}): string {
  return [
    'experiment:',
    `  id: "${id}"`,
    '  name: "on_ray"',
    '  hypothesis: "Runs on a Ray cluster record like local runs"',
    '  parameters:',
    '    model_type: "mlp"',
    '    learning_rate: 0.1',
    '  run:',
    `    command: ${JSON.stringify(command)}`,
    '    timeout: 300',
    ...(Object.keys(env).length ? ['    env:', ...Object.entries(env).map(([k, v]) => `      ${k}: ${JSON.stringify(v)}`)] : []),
    '',
  ].join('\n');
}

async function until(cond: () => boolean | Promise<boolean>, what: string, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise(r => setTimeout(r, 50));
  }
}

describe('ray: runs on a real Ray head', function () {
  this.timeout(180_000);
  let head: RayHead;
  let dir: string;
  let store: RunStore;
  let client: RayJobsClient;

  before(async function () {
    this.timeout(180_000);
    head = await startRayHead();
    client = new RayJobsClient(head.address);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edd-ray-ws-'));
    fs.writeFileSync(path.join(dir, 'train.py'), TRAIN);
    fs.mkdirSync(path.join(dir, 'experiments'));
    store = await RunStore.open(path.join(dir, '.edd/edd.sqlite'));
  });

  after(async function () {
    this.timeout(90_000);
    await store?.close();
    await head?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('streams metrics into the local store while the job runs, with the argv intact and the cluster and node recorded', async () => {
    const go = path.join(dir, 'go');
    // A config's command may not hold an empty argument; every other hostile one goes through.
    const args = HOSTILE_ARGS.filter(a => a !== '');
    const text = config('exp_20250110_101', ['python', 'train.py', 'live', ...args], { GO_FILE: go });
    fs.writeFileSync(path.join(dir, 'experiments/live.yaml'), text);
    let submitted = 0;
    let firstMetric = 0;
    let runId = '';
    const pending = executeRayRun({
      store, workspaceRoot: dir, configPath: 'experiments/live.yaml', address: head.address, pollMs: 200, flushMs: 100,
      onStart: run => {
        runId = run.id;
        submitted = Date.now();
      },
      onEvent: e => {
        if (e.type === 'metric' && !firstMetric) firstMetric = Date.now();
      },
    });
    // The job waits for the go file: the metric must be in the store (and saved) while the job is still RUNNING.
    await until(() => runId !== '' && store.getMetrics(runId, 'loss').length === 1 && store.getMetrics(runId, 'acc').length === 1, 'the first metrics in the store');
    const live = store.getRun(runId)!;
    assert.strictEqual(live.status, 'running');
    const info = (live.environment as { ray?: RayRunInfo }).ray!;
    assert.strictEqual((await client.getJob(info.submission_id)).status, 'RUNNING', 'the metrics arrived before the job ended');
    // Saved too: another process (the editor) reading the store sees the metric while the job runs.
    await until(async () => {
      const other = await RunStore.open(path.join(dir, '.edd/edd.sqlite'), { readOnly: true });
      const n = other.getMetrics(runId, 'loss').length;
      await other.close();
      return n === 1;
    }, 'the first metric saved');
    console.log(`      submit → first metric: ${firstMetric - submitted} ms (head started in ${head.startupMs} ms)`);
    fs.writeFileSync(go, '');
    const r = await pending;
    assert.strictEqual(r.run.status, 'finished', r.run.error ?? '');
    assert.strictEqual(r.run.exitCode, 0);
    assert.deepStrictEqual(store.getMetrics(runId, 'loss').map(p => [p.step, p.value]), [[0, 1], [1, 0.5]]);
    assert.deepStrictEqual(r.finalMetrics, { loss: 0.5, acc: 0.5 });
    const run = store.getRun(runId)!;
    assert.deepStrictEqual(run.params.argv, args, 'every argument reached the script as written');
    assert.strictEqual(run.params.config_lr, 0.1, '$EDD_CONFIG_JSON was written on the node');
    for (const f of ['pwned', 'pwned2', 'pwned3', 'out']) assert.ok(!fs.existsSync(path.join(dir, f)), `${f}: nothing was run by the shell`);
    const ray = (run.environment as { ray: RayRunInfo }).ray;
    assert.strictEqual(ray.address, head.address);
    assert.strictEqual(ray.job_status, 'SUCCEEDED');
    assert.match(ray.node_id ?? '', /^[0-9a-f]{40,}$/);
    const job = await client.getJob(ray.submission_id);
    assert.strictEqual(ray.node_id, job.driver_node_id, 'the node Ray says the driver ran on');
    assert.ok(ray.node_address, 'the node address');
    assert.match(ray.working_dir, /^gcs:\/\/_ray_pkg_[0-9a-f]{40}\.zip$/);
    assert.strictEqual(job.metadata?.edd_run_id, runId);
    assert.match(fs.readFileSync(path.join(dir, run.logPath!), 'utf8'), /Running entrypoint/);
  });

  it('runs eight jobs at once: one cancelled midway is recorded cancelled and its job STOPPED, one crash is recorded failed with its log', async () => {
    const executor = new RayTrialExecutor(head.address, { pollMs: 300 });
    await executor.prepare(dir);
    const modes = ['quick', 'quick', 'slow', 'quick', 'crash', 'quick', 'quick', 'quick'];
    const controllers = modes.map(() => new AbortController());
    const runIds: string[] = [];
    const metrics = modes.map(() => 0);
    const outcomes = await Promise.all(modes.map((mode, i) => {
      const command = mode === 'quick' ? ['python', 'train.py', mode, String(i)] : ['python', 'train.py', mode];
      return executor.start({ index: i, overrides: {}, seed: i }, {
        store, workspaceRoot: dir, configPath: 'experiments/trial.yaml', configText: config('exp_20250110_102', command),
        tags: { sweep_id: 'sw-ray', trial_index: String(i) },
        onRunCreated: id => (runIds[i] = id),
        onMetric: () => {
          metrics[i]++;
          // Cancel the slow trial once it is well under way.
          if (mode === 'slow' && metrics[i] === 5) controllers[i].abort();
        },
      }, controllers[i].signal);
    }));
    const statuses = outcomes.map(o => o.status);
    assert.deepStrictEqual(statuses, ['finished', 'finished', 'cancelled', 'finished', 'failed', 'finished', 'finished', 'finished'], JSON.stringify(outcomes.map(o => o.error ?? '')));
    assert.strictEqual(new Set(outcomes.map(o => o.runId)).size, 8, 'eight distinct runs');
    for (const [i, o] of outcomes.entries()) {
      const run = store.getRun(o.runId!)!;
      assert.strictEqual(run.status, o.status);
      assert.deepStrictEqual(run.tags, { sweep_id: 'sw-ray', trial_index: String(i) });
      if (modes[i] === 'quick') assert.deepStrictEqual(o.finalMetrics, { loss: 1 / 3, score: i });
    }
    const slow = store.getRun(outcomes[2].runId!)!;
    assert.ok(store.getMetrics(slow.id, 'loss').length >= 5, 'metrics before the cancel are kept');
    assert.ok(store.getMetrics(slow.id, 'loss').length < 1200, 'the slow job did not run to its end');
    const stopped = await client.getJob((slow.environment as { ray: RayRunInfo }).ray.submission_id);
    assert.strictEqual(stopped.status, 'STOPPED');
    const crash = store.getRun(outcomes[4].runId!)!;
    assert.strictEqual(crash.exitCode, 3);
    assert.match(crash.error ?? '', /about to fail/, 'the error carries the tail of the log');
    assert.strictEqual((await client.getJob((crash.environment as { ray: RayRunInfo }).ray.submission_id)).status, 'FAILED');
    assert.strictEqual(store.listRuns({ tags: { sweep_id: 'sw-ray' } }).length, 8);
  });

  it('a trial that cannot start fails its run the same way on Ray as locally, with the error, and leaves no run running', async () => {
    const ray = new RayTrialExecutor(head.address, { pollMs: 300 });
    await ray.prepare(dir);
    const local = new LocalExecutor();
    const cases = [
      // Fails after the run is recorded, before anything is submitted: its data cannot be fingerprinted.
      { name: 'missing-data', text: config('exp_20250110_105', ['python', 'train.py', 'quick', '1']).replace('  run:', '  data:\n    files: [missing.csv]\n  run:'), error: /dataset file not found: missing\.csv/ },
      // Refused while the job is built (a NUL byte cannot travel in an argument).
      { name: 'nul-argument', text: config('exp_20250110_105', ['python', 'train.py', 'a\u0000b']), error: /NUL character|null bytes/ },
    ];
    for (const c of cases) {
      for (const [where, executor] of [['ray', ray], ['local', local]] as const) {
        const tags = { sweep_id: `sw-cannot-start-${c.name}-${where}`, trial_index: '0' };
        const created: string[] = [];
        const outcome = await executor.start({ index: 0, overrides: {}, seed: 0 }, {
          store, workspaceRoot: dir, configPath: 'experiments/trial.yaml', configText: c.text, tags, onRunCreated: id => created.push(id),
        }, new AbortController().signal);
        const what = `${c.name} on ${where}: ${JSON.stringify(outcome)}`;
        assert.strictEqual(outcome.status, 'failed', what);
        assert.match(outcome.error ?? '', c.error, what);
        const runs = store.listRuns({ tags });
        assert.strictEqual(runs.length, 1, what);
        assert.strictEqual(outcome.runId, runs[0].id, what);
        assert.strictEqual(runs[0].status, 'failed', what);
        assert.match(runs[0].error ?? '', c.error, what);
      }
    }
    assert.deepStrictEqual(store.listRuns().filter(r => r.status === 'running' || r.status === 'queued').map(r => r.id), []);
  });

  it('records a job stopped outside EDD (the dashboard, `ray job stop`) as failed, saying so', async () => {
    let submission = '';
    let stopped = false;
    let runId = '';
    const r = await executeRayRun({
      store, workspaceRoot: dir, configPath: 'experiments/outside.yaml', configText: config('exp_20250110_104', ['python', 'train.py', 'slow']),
      address: head.address, pollMs: 200,
      onStart: run => (runId = run.id),
      onEvent: e => {
        if (e.type !== 'metric' || stopped) return;
        stopped = true;
        submission = (store.getRun(runId)!.environment as { ray: RayRunInfo }).ray.submission_id;
        void client.stopJob(submission);
      },
    });
    assert.strictEqual(r.run.status, 'failed');
    assert.match(r.run.error ?? '', /stopped outside EDD/);
    assert.strictEqual((await client.getJob(submission)).status, 'STOPPED');
  });

  it('brings back a large log whole, in order (the log is read less often as it grows)', async () => {
    const lines: string[] = [];
    const ticks: number[] = [];
    const r = await executeRayRun({
      store, workspaceRoot: dir, configPath: 'experiments/chatty.yaml', configText: config('exp_20250110_105', ['python', 'train.py', 'chatty']),
      address: head.address, pollMs: 100,
      onEvent: e => {
        if (e.type === 'log' && e.text.startsWith('log line ')) lines.push(e.text.slice(9, 15));
        if (e.type === 'metric') ticks.push(e.step!);
      },
    });
    assert.strictEqual(r.run.status, 'finished', r.run.error ?? '');
    assert.strictEqual(lines.length, 30000);
    assert.ok(lines.every((l, i) => Number(l) === i), 'every line once, in order');
    assert.deepStrictEqual(ticks, Array.from({ length: 300 }, (_, i) => i));
    assert.strictEqual(store.getMetrics(r.run.id, 'tick').length, 300);
  });

  it("passes Ray's own message on for a refused request", async () => {
    await assert.rejects(client.getJob('edd-no-such-job'), (e: RayError) => e instanceof RayError && e.kind === 'http' && e.status === 404 && /edd-no-such-job/.test(e.message));
    await assert.rejects(client.submitJob({ entrypoint: 'true', submission_id: 'edd-bad-env', runtime_env: { working_dir: 'not a uri' } as never }).then(id => client.getJob(id)).then(j => {
      if (j.status === 'FAILED') throw new RayError('http', j.message ?? '');
    }), (e: Error) => /not a valid URI|working_dir/.test(e.message));
  });

  it('edd run --on ray records the run on the cluster (exit 0, --json)', async () => {
    fs.writeFileSync(path.join(dir, 'experiments/cli.yaml'), config('exp_20250110_103', ['python', 'train.py', 'quick', '7']));
    const r = await new Promise<{ code: number; stdout: string; stderr: string }>(resolve => {
      execFile(process.execPath, [path.join(root, 'dist/cli.js'), 'run', 'experiments/cli.yaml', '--on', 'ray', '--address', head.address, '--json', '--store', path.join(dir, '.edd/cli.sqlite')],
        { cwd: dir, env: { ...process.env, EDD_LOCALE: 'en' } }, (err, stdout, stderr) => resolve({ code: err ? Number(err.code) : 0, stdout, stderr }));
    });
    assert.strictEqual(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { status: string; final_metrics: Record<string, number>; run_id: string };
    assert.strictEqual(out.status, 'finished');
    assert.deepStrictEqual(out.final_metrics, { loss: 1 / 3, score: 7 });
    const cliStore = await RunStore.open(path.join(dir, '.edd/cli.sqlite'), { readOnly: true });
    assert.strictEqual((cliStore.getRun(out.run_id)!.environment as { ray: RayRunInfo }).ray.address, head.address);
    await cliStore.close();
  });

  it('edd sweep --on ray runs every trial as a job, tagged, each with its own overrides', async () => {
    const base = config('exp_20250110_104', ['python', 'train.py', 'quick', '5']).replace('  run:', [
      '  sweep:',
      '    method: grid',
      '    metric: { name: score, goal: maximize }',
      '    parameters:',
      '      parameters.learning_rate: { values: [0.1, 0.2] }',
      '    max_parallel: 2',
      '  run:',
    ].join('\n'));
    fs.writeFileSync(path.join(dir, 'experiments/sweep.yaml'), base);
    const file = path.join(dir, '.edd/sweep.sqlite');
    const r = await new Promise<{ code: number; stdout: string; stderr: string }>(resolve => {
      execFile(process.execPath, [path.join(root, 'dist/cli.js'), 'sweep', 'experiments/sweep.yaml', '--on', 'ray', '--address', head.address, '--json', '--store', file],
        { cwd: dir, env: { ...process.env, EDD_LOCALE: 'en' } }, (err, stdout, stderr) => resolve({ code: err ? Number(err.code) : 0, stdout, stderr }));
    });
    assert.strictEqual(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { sweep_id: string; trials: Array<{ trial_index: number; status: string; run_id: string }> };
    assert.deepStrictEqual(out.trials.map(x => [x.trial_index, x.status]), [[0, 'finished'], [1, 'finished']]);
    const s = await RunStore.open(file, { readOnly: true });
    const runs = s.listRuns({ tags: { sweep_id: out.sweep_id } });
    assert.deepStrictEqual(runs.map(x => [x.tags.trial_index, x.params.config_lr]).sort(), [['0', 0.1], ['1', 0.2]]);
    for (const x of runs) assert.strictEqual((s.getRun(x.id)!.environment as { ray: RayRunInfo }).ray.address, head.address);
    await s.close();
  });
});
