import * as assert from 'assert';
import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { registerRun, RegistryError } from '../../src/core/registry';
import { readProcStat } from '../../src/core/runner/procfs';
import { currentOwner, executeRun, isOrphaned, recoverInterruptedRuns } from '../../src/core/runs';
import { writeLaunchRecord } from '../../src/core/runs/launch';
import { needsRecovery } from '../../src/core/runs/recover';
import { RunStore, SCHEMA_VERSION } from '../../src/core/store';
import { alive, DOUBLE_FORK, until } from './processes';

const root = path.resolve(__dirname, '../../..');
const cliJs = path.join(root, 'dist/cli.js');
const linux = process.platform === 'linux';
const FIXTURE_MODEL = path.join(root, 'test/fixtures/workspace/models/penguins.onnx');

/** A workspace with `experiments/exp.yaml` running `node scripts/train.js`, whose text is `script`. */
function workspace(script: string): string {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'edd-recover-')));
  fs.mkdirSync(path.join(dir, 'experiments'));
  fs.mkdirSync(path.join(dir, 'scripts'));
  fs.writeFileSync(path.join(dir, 'scripts/train.js'), script);
  fs.writeFileSync(path.join(dir, 'experiments/exp.yaml'), [
    'experiment:',
    '  id: "exp_20250301_001"',
    '  name: "recover"',
    '  hypothesis: "A killed edd leaves nothing running"',
    '  parameters:',
    '    model_type: "mlp"',
    '    learning_rate: 0.1',
    '  run:',
    '    command: [node, scripts/train.js]',
    '',
  ].join('\n'));
  return dir;
}

/** `edd args…` in `cwd`; SIGKILLed after a minute (a command that never ends fails its test instead of hanging it). */
function cli(args: string[], cwd: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise(resolve => {
    const child = spawn(process.execPath, [cliJs, ...args], { cwd, env: { ...process.env, EDD_LOCALE: 'en' }, timeout: 60_000, killSignal: 'SIGKILL' });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', b => (stdout += b));
    child.stderr.on('data', b => (stderr += b));
    child.on('close', code => resolve({ code, stdout, stderr }));
  });
}

/** A process that was alive (its pid and start time are known) and is now gone. */
async function deadOwner(): Promise<{ ownerPid: number; ownerStartTime: number | null; ownerHost: string }> {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  await until(() => readProcStat(child.pid!) !== undefined || !linux, 'the child to start');
  const start = readProcStat(child.pid!)?.startTime ?? null;
  child.kill('SIGKILL');
  await new Promise(r => child.once('exit', r));
  return { ownerPid: child.pid!, ownerStartTime: start, ownerHost: os.hostname() };
}

/**
 * A training that starts a child escaping its session (a double fork), writes both pids to `pids.json`, prints
 * `metricLines` (script lines) before or after that as `printFirst` says, and runs until stopped.
 */
function escapingTraining(metricLines: string[], printFirst: boolean): string {
  const pids = [
    `const o = require('child_process').spawnSync(process.execPath, ['-e', ${JSON.stringify(DOUBLE_FORK)}]);`,
    "fs.writeFileSync('pids.json', JSON.stringify({ training: process.pid, escaped: Number(String(o.stdout).trim()) }));",
  ];
  return ["const fs = require('fs');", ...(printFirst ? [pids[0], ...metricLines, pids[1]] : [...pids, ...metricLines]), 'setInterval(() => {}, 1000);', ''].join('\n');
}

describe('runs: runs whose owner died are found, their leftovers stopped, and marked interrupted', function () {
  this.timeout(90_000);
  const dirs: string[] = [];
  const leftovers: number[] = [];
  after(() => {
    for (const pid of leftovers) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  /** SIGKILLs `edd` once its training wrote `pids.json`; the training and its escaped child outlive it. */
  async function killEdd(edd: ChildProcess, dir: string): Promise<{ training: number; escaped: number }> {
    const pids = JSON.parse(fs.readFileSync(path.join(dir, 'pids.json'), 'utf8')) as { training: number; escaped: number };
    leftovers.push(pids.training, pids.escaped);
    edd.kill('SIGKILL');
    await new Promise(r => edd.once('exit', r));
    assert.ok(alive(pids.training) && alive(pids.escaped), 'the training outlives a SIGKILLed edd (it is in its own session)');
    return pids;
  }

  /** `edd runs` recovers the run once: its two processes stopped, the run listed interrupted. Returns its JSON row. */
  async function recoveredByEddRuns(dir: string, runId: string, pids: { training: number; escaped: number }): Promise<{ run_id: string; experiment_id: string; status: string; seed: number | null; final_metrics: Record<string, number> }> {
    const r = await cli(['runs', '--json'], dir);
    assert.strictEqual(r.code, 0, r.stderr);
    const [row] = JSON.parse(r.stdout) as Array<{ run_id: string; experiment_id: string; status: string; seed: number | null; final_metrics: Record<string, number> }>;
    assert.strictEqual(row.run_id, runId);
    assert.strictEqual(row.seed, 42, 'the seed is listed (the config default)');
    assert.strictEqual(row.status, 'interrupted');
    assert.match(r.stderr, new RegExp(`Run ${runId} of exp_20250301_001 was left unfinished by a process that is gone: marked interrupted, 2 leftover process\\(es\\) stopped\\.`));
    assert.ok(!alive(pids.training), 'the training was stopped');
    assert.ok(!alive(pids.escaped), 'the child that left its session was stopped');
    const text = await cli(['runs'], dir);
    assert.match(text.stdout, new RegExp(`^${runId}  exp_20250301_001  interrupted  `, 'm'));
    assert.strictEqual(text.stderr, '', 'recovered once');
    return row;
  }

  it('recoverInterruptedRuns: a dead owner → interrupted with its points; a live or unknown owner is left alone', async function () {
    if (!linux) this.skip();
    const dir = workspace('');
    dirs.push(dir);
    const store = await RunStore.open(path.join(dir, '.edd/edd.sqlite'));
    try {
      store.upsertExperiment({ id: 'e' });
      const dead = await deadOwner();
      const orphan = store.createRun({ experimentId: 'e', status: 'running', startedAt: Date.now(), ...dead });
      store.addMetrics([{ runId: orphan.id, key: 'loss', step: 1, value: 0.5 }, { runId: orphan.id, key: 'loss', step: 2, value: 0.25 }]);
      const mine = store.createRun({ experimentId: 'e', status: 'running', ...currentOwner() });
      const unknown = store.createRun({ experimentId: 'e', status: 'running' });
      const elsewhere = store.createRun({ experimentId: 'e', status: 'running', ...dead, ownerHost: `${os.hostname()}-other` });
      const done = store.createRun({ experimentId: 'e', status: 'finished', ...dead });
      // The orphan's training, still going in its own session.
      const s = spawnSync(process.execPath, ['-e', DOUBLE_FORK], { env: { ...process.env, EDD_RUN_ID: orphan.id }, encoding: 'utf8' });
      const training = Number(s.stdout.trim());
      leftovers.push(training);
      assert.ok(isOrphaned(store.getRun(orphan.id)!));

      const recovered = await recoverInterruptedRuns(store);
      assert.deepStrictEqual(recovered.map(r => r.run.id), [orphan.id]);
      assert.deepStrictEqual(recovered[0].stopped, [training]);
      assert.ok(!alive(training), 'the leftover training was stopped');
      const after = store.getRun(orphan.id)!;
      assert.strictEqual(after.status, 'interrupted');
      assert.match(after.error!, new RegExp(`pid ${dead.ownerPid}\\)`));
      assert.ok(after.endedAt !== null);
      assert.deepStrictEqual(store.finalMetrics(orphan.id), { loss: 0.25 }, 'the points it wrote stay');
      for (const r of [mine, unknown, elsewhere]) assert.strictEqual(store.getRun(r.id)!.status, 'running', r.id);
      assert.strictEqual(store.getRun(done.id)!.status, 'finished');
      assert.deepStrictEqual(await recoverInterruptedRuns(store), [], 'nothing left to do');
    } finally {
      await store.close();
    }
    // Saved, at the schema version that knows `interrupted`.
    const again = await RunStore.open(path.join(dir, '.edd/edd.sqlite'), { readOnly: true });
    assert.strictEqual(again.listRuns({ status: 'interrupted' }).length, 1);
    assert.strictEqual(RunStore.SCHEMA_VERSION, SCHEMA_VERSION);
    await again.close();
  });

  it('a SIGKILLed `edd run`: the next `edd runs` stops the training and its escaped child, and shows the run interrupted with its points', async function () {
    if (!linux) this.skip();
    const dir = workspace(escapingTraining(["for (let step = 1; step <= 3; step++) console.log('EDD ' + JSON.stringify({ metric: 'loss', value: 1 / step, step }));"], false));
    dirs.push(dir);
    const edd: ChildProcess = spawn(process.execPath, [cliJs, 'run', 'experiments/exp.yaml'], { cwd: dir, stdio: 'ignore', env: { ...process.env, EDD_LOCALE: 'en' } });
    leftovers.push(edd.pid!);
    const storeFile = path.join(dir, '.edd/edd.sqlite');
    // Wait until the points are saved, as they are while a run goes on.
    let runId = '';
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (fs.existsSync(storeFile) && fs.existsSync(path.join(dir, 'pids.json'))) {
        const s = await RunStore.open(storeFile, { readOnly: true });
        const run = s.listRuns()[0];
        const points = run ? s.getMetrics(run.id).length : 0;
        await s.close();
        if (points === 3) {
          runId = run.id;
          break;
        }
      }
      if (Date.now() > deadline) throw new Error('timed out waiting for the run to save its points');
      await new Promise(r => setTimeout(r, 50));
    }
    const pids = await killEdd(edd, dir);
    const row = await recoveredByEddRuns(dir, runId, pids);
    assert.deepStrictEqual(row.final_metrics, { loss: 1 / 3 });
  });

  it('recoverInterruptedRuns: a launch record whose owner died → its processes stopped, the run recorded interrupted from it, the record removed', async function () {
    if (!linux) this.skip();
    const dir = workspace('');
    dirs.push(dir);
    const storeFile = path.join(dir, '.edd/edd.sqlite');
    const launching = path.join(dir, '.edd/launching');
    const dead = await deadOwner();
    const experiment = { id: 'exp_launch', name: 'launch', hypothesis: 'h', configPath: 'experiments/exp.yaml' };
    const record = (id: string, owner: typeof dead) => ({ experiment, run: { id, experimentId: 'exp_launch', configPath: 'experiments/exp.yaml', params: { lr: 0.1 }, seed: 7, status: 'running' as const, startedAt: 1_700_000_000_000, logPath: `.edd/runs/${id}/run.log`, ...owner } });
    await writeLaunchRecord(storeFile, record('launched-dead', dead));
    await writeLaunchRecord(storeFile, record('launched-live', { ...currentOwner(), ownerPid: process.pid, ownerHost: os.hostname() }));
    await writeLaunchRecord(path.join(dir, '.edd/other.sqlite'), record('other-store', dead));
    await writeLaunchRecord(storeFile, record('saved-before-death', dead));
    // The dead owner's training, in its own session.
    const s = spawnSync(process.execPath, ['-e', DOUBLE_FORK], { env: { ...process.env, EDD_RUN_ID: 'launched-dead' }, encoding: 'utf8' });
    const training = Number(s.stdout.trim());
    leftovers.push(training);
    const store = await RunStore.open(storeFile);
    try {
      // This one made it into the store before its owner died: the orphaned runs' path handles it.
      store.createRun({ id: 'saved-before-death', experimentId: 'exp_launch', status: 'running', ...dead });
      assert.ok(needsRecovery(store));
      const recovered = await recoverInterruptedRuns(store);
      assert.deepStrictEqual(recovered.map(r => r.run.id).sort(), ['launched-dead', 'saved-before-death']);
      assert.deepStrictEqual(recovered.find(r => r.run.id === 'launched-dead')!.stopped, [training]);
      assert.ok(!alive(training), 'the training nobody recorded was stopped');
      const run = store.getRun('launched-dead')!;
      assert.strictEqual(run.status, 'interrupted');
      assert.strictEqual(run.experimentId, 'exp_launch');
      assert.deepStrictEqual(run.params, { lr: 0.1 });
      assert.strictEqual(run.seed, 7);
      assert.strictEqual(run.startedAt, 1_700_000_000_000);
      assert.match(run.error!, new RegExp(`pid ${dead.ownerPid}\\) ended before it could record the run`));
      assert.strictEqual(store.getExperiment('exp_launch')?.hypothesis, 'h');
      assert.strictEqual(store.getRun('saved-before-death')!.status, 'interrupted');
      assert.strictEqual(store.getRun('launched-live'), undefined, 'a live owner is left alone');
      assert.deepStrictEqual(fs.readdirSync(launching).sort(), ['launched-live.json', 'other-store.json'], 'only the handled records are removed');
      assert.ok(!needsRecovery(store));
    } finally {
      await store.close();
    }
    const again = await RunStore.open(storeFile, { readOnly: true });
    assert.strictEqual(again.getRun('launched-dead')?.status, 'interrupted', 'saved');
    await again.close();
  });

  it('a SIGKILLed `edd run` whose training started before the run was saved: the next `edd runs` stops the training and records the run interrupted', async function () {
    if (!linux) this.skip();
    const dir = workspace(escapingTraining(["console.log('EDD ' + JSON.stringify({ metric: 'loss', value: 0.5, step: 1 }));"], true));
    dirs.push(dir);
    const storeFile = path.join(dir, '.edd/edd.sqlite');
    // Another (live) process holds the store's lock: `edd run` cannot save the run, but its training starts.
    fs.mkdirSync(path.dirname(storeFile), { recursive: true });
    fs.writeFileSync(`${storeFile}.lock`, JSON.stringify({ pid: process.pid, hostname: os.hostname(), time: Date.now(), token: 'test' }));
    const edd: ChildProcess = spawn(process.execPath, [cliJs, 'run', 'experiments/exp.yaml'], { cwd: dir, stdio: 'ignore', env: { ...process.env, EDD_LOCALE: 'en' } });
    leftovers.push(edd.pid!);
    const launching = path.join(dir, '.edd/launching');
    await until(() => fs.existsSync(path.join(dir, 'pids.json')), 'the training to start', 30_000);
    const [record] = fs.readdirSync(launching);
    const runId = record.replace(/\.json$/, '');
    const pids = await killEdd(edd, dir);
    assert.ok(!fs.existsSync(storeFile) || (await (async () => {
      const s = await RunStore.open(storeFile, { readOnly: true });
      const none = s.getRun(runId) === undefined;
      await s.close();
      return none;
    })()), 'the run never reached the store');
    fs.rmSync(`${storeFile}.lock`);

    const row = await recoveredByEddRuns(dir, runId, pids);
    assert.strictEqual(row.experiment_id, 'exp_20250301_001');
    assert.deepStrictEqual(fs.readdirSync(launching), [], 'the launch record is gone');
  });

  it('what the training reports before `edd run` has its store open is recorded, in order, after the "started" line', async () => {
    const dir = workspace([
      "const fs = require('fs');",
      "for (let step = 1; step <= 3; step++) console.log('EDD ' + JSON.stringify({ metric: 'loss', value: 1 / step, step }));",
      "console.log('EDD ' + JSON.stringify({ param: 'batch', value: 32 }));",
      "console.log('plain output');",
      "fs.writeFileSync('printed', '');",
      "const wait = setInterval(() => { if (fs.existsSync('go')) { clearInterval(wait); console.log('EDD ' + JSON.stringify({ metric: 'loss', value: 0.1, step: 4 })); } }, 10);",
      '',
    ].join('\n'));
    dirs.push(dir);
    const storeFile = path.join(dir, '.edd/edd.sqlite');
    fs.mkdirSync(path.dirname(storeFile), { recursive: true });
    fs.writeFileSync(`${storeFile}.lock`, JSON.stringify({ pid: process.pid, hostname: os.hostname(), time: Date.now(), token: 'test' }));
    const result = cli(['run', 'experiments/exp.yaml', '--json'], dir);
    const text = cli(['run', 'experiments/exp.yaml'], dir);
    await until(() => fs.existsSync(path.join(dir, 'printed')), 'the training to print', 30_000);
    await until(() => fs.readdirSync(path.join(dir, '.edd/launching')).length === 2, 'both launch records', 30_000);
    assert.ok(!fs.existsSync(storeFile), 'nothing saved yet: the lock is held');
    fs.rmSync(`${storeFile}.lock`);
    // While the trainings go on, their runs are saved `running` and their launch records removed.
    await until(() => fs.readdirSync(path.join(dir, '.edd/launching')).length === 0, 'the launch records to go', 30_000);
    const during = await RunStore.open(storeFile, { readOnly: true });
    assert.deepStrictEqual(during.listRuns().map(r => r.status), ['running', 'running']);
    await during.close();
    fs.writeFileSync(path.join(dir, 'go'), '');
    const [r, t] = await Promise.all([result, text]);
    assert.strictEqual(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { run_id: string; status: string; final_metrics: Record<string, number> };
    assert.strictEqual(out.status, 'finished');
    assert.deepStrictEqual(out.final_metrics, { loss: 0.1 });
    const store = await RunStore.open(storeFile, { readOnly: true });
    try {
      assert.deepStrictEqual(store.getMetrics(out.run_id).map(p => [p.step, p.value]), [[1, 1], [2, 0.5], [3, 1 / 3], [4, 0.1]]);
      assert.strictEqual(store.getRun(out.run_id)!.params.batch, 32);
    } finally {
      await store.close();
    }
    assert.strictEqual(t.code, 0, t.stderr);
    assert.match(t.stderr, /^Run \S+ started \(exp_20250301_001\)\.\nplain output\n/, 'the output waited for the run to be recorded');
    assert.deepStrictEqual(fs.readdirSync(path.join(dir, '.edd/launching')), []);
  });

  it('`edd run` whose store cannot be opened stops the training it started, leaves no launch record and exits 2; a bad config starts nothing', async () => {
    const dir = workspace([
      "require('fs').writeFileSync('started-' + process.pid, '');",
      'setInterval(() => {}, 1000);',
      '',
    ].join('\n'));
    dirs.push(dir);
    fs.mkdirSync(path.join(dir, '.edd'));
    fs.writeFileSync(path.join(dir, '.edd/edd.sqlite'), 'not a database');
    const r = await cli(['run', 'experiments/exp.yaml'], dir);
    assert.strictEqual(r.code, 2, r.stderr);
    assert.match(r.stderr, /^edd: The EDD run store .*edd\.sqlite is damaged/m);
    for (const f of fs.readdirSync(dir).filter(f => f.startsWith('started-'))) {
      const pid = Number(f.slice('started-'.length));
      leftovers.push(pid);
      assert.ok(!alive(pid), 'the training was stopped');
    }
    assert.deepStrictEqual(fs.readdirSync(path.join(dir, '.edd/launching')), []);

    // A config that fails validation: nothing runs, nothing is written.
    fs.rmSync(path.join(dir, '.edd'), { recursive: true });
    fs.appendFileSync(path.join(dir, 'experiments/exp.yaml'), '  unknown_key: 1\n');
    const bad = await cli(['run', 'experiments/exp.yaml'], dir);
    assert.strictEqual(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, /experiments\/exp\.yaml:\d+:\d+ /);
    assert.deepStrictEqual(fs.readdirSync(dir).filter(f => f.startsWith('started-')), [], 'no training was started');
    assert.ok(!fs.existsSync(path.join(dir, '.edd/launching')) && !fs.existsSync(path.join(dir, '.edd/runs')), 'nothing was written for the run');
  });

  it('SIGTERM to `edd run` while it hashes a huge artifact ends the command (exit 130), the artifact recorded unhashed', async function () {
    if (!linux) this.skip();
    const dir = workspace([
      "const fs = require('fs'), path = require('path'), f = path.join(process.env.EDD_ARTIFACT_DIR, 'huge.bin');",
      'fs.closeSync(fs.openSync(f, "w")); fs.truncateSync(f, 40 * 1024 ** 3);',
      "console.log('EDD ' + JSON.stringify({ metric: 'loss', value: 0.5, step: 1 }));",
      "console.log('EDD ' + JSON.stringify({ artifact: f }));",
      '',
    ].join('\n'));
    dirs.push(dir);
    const edd = spawn(process.execPath, [cliJs, 'run', 'experiments/exp.yaml', '--json'], { cwd: dir, env: { ...process.env, EDD_LOCALE: 'en' } });
    leftovers.push(edd.pid!);
    let stdout = '';
    edd.stdout.on('data', b => (stdout += b));
    const exited = new Promise<number | null>(r => edd.once('exit', code => r(code)));
    const hashing = () => {
      try {
        return fs.readdirSync(`/proc/${edd.pid}/fd`).some(fd => {
          try {
            return fs.readlinkSync(`/proc/${edd.pid}/fd/${fd}`).endsWith('/huge.bin');
          } catch {
            return false;
          }
        });
      } catch {
        return false;
      }
    };
    await until(hashing, '`edd run` to start hashing huge.bin', 30_000);
    const t0 = Date.now();
    edd.kill('SIGTERM');
    const code = await exited;
    assert.ok(Date.now() - t0 < 10_000, `ended ${Date.now() - t0} ms after SIGTERM`);
    assert.strictEqual(code, 130);
    const out = JSON.parse(stdout) as { status: string; artifacts: Array<{ path: string; sha256: string | null; error?: string }>; warnings: string[] };
    assert.strictEqual(out.status, 'finished', 'the training itself had finished');
    assert.strictEqual(out.artifacts[0].sha256, null);
    assert.strictEqual(out.artifacts[0].error, 'not hashed: cancelled');
    assert.ok(out.warnings.some(w => /huge\.bin: not hashed: cancelled/.test(w)), JSON.stringify(out.warnings));
  });

  it('a CSV reported as `kind: model` is recorded as a plain artifact with a warning; the registry refuses a non-ONNX model', async () => {
    const dir = workspace([
      "const fs = require('fs'), path = require('path'), d = process.env.EDD_ARTIFACT_DIR;",
      "fs.writeFileSync(path.join(d, 'model.csv'), 'row_id,score\\n1,0.5\\n');",
      `fs.copyFileSync(${JSON.stringify(FIXTURE_MODEL)}, path.join(d, 'model.onnx'));`,
      "console.log('EDD ' + JSON.stringify({ artifact: path.join(d, 'model.csv'), kind: 'model' }));",
      "console.log('EDD ' + JSON.stringify({ artifact: path.join(d, 'model.onnx'), kind: 'model' }));",
      '',
    ].join('\n'));
    dirs.push(dir);
    const store = await RunStore.open(path.join(dir, '.edd/edd.sqlite'));
    try {
      const r = await executeRun({ store, workspaceRoot: dir, configPath: 'experiments/exp.yaml' });
      assert.strictEqual(r.run.status, 'finished');
      const kinds = Object.fromEntries(store.getArtifacts(r.run.id).map(a => [path.basename(a.path), a.kind]));
      assert.deepStrictEqual(kinds, { 'model.csv': null, 'model.onnx': 'model' });
      assert.strictEqual(r.warnings.length, 1, r.warnings.join('\n'));
      assert.match(r.warnings[0], /^Artifact \.edd\/runs\/.*\/model\.csv was reported as a model but is not an ONNX model \(.+\); it was recorded as a plain artifact\.$/);

      // A store from before this check names a CSV disguised as model.onnx as the model: registering it is refused.
      const fake = store.createRun({ experimentId: 'exp_20250301_001', status: 'finished' });
      fs.writeFileSync(path.join(dir, 'fake.onnx'), 'row_id,score\n1,0.5\n');
      store.addArtifact({ runId: fake.id, path: 'fake.onnx', kind: 'model', sha256: null, size: null });
      await assert.rejects(registerRun(store, { root: dir, runId: fake.id, model: 'm', actor: 'a' }), (e: unknown) =>
        e instanceof RegistryError && e.kind === 'invalid' && /^The model artifact fake\.onnx of run .* is not an ONNX model \(.+\); only an ONNX model can be registered\.$/.test(e.message));
      assert.strictEqual(store.listModels().length, 0);
      const v = await registerRun(store, { root: dir, runId: r.run.id, model: 'm', actor: 'a' });
      assert.strictEqual(v.version, 1, 'the real ONNX model registers');
    } finally {
      await store.close();
    }
  });
});
