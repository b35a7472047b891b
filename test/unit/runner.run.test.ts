import * as assert from 'assert';
import { spawnSync } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { hashFile } from '../../src/core/runner/hash';
import { ProtocolErrorEvent } from '../../src/core/runner/protocol';
import { RunEvent, RunOptions, RunRefusedError, startRun } from '../../src/core/runner/runner';
import { alive, killAll, until } from './processes';

const root = path.resolve(__dirname, '../../..');
const fixture = (name: string) => path.join(root, 'test', 'fixtures', 'runner', name);
const node = process.execPath;
const linux = process.platform === 'linux';

describe('runner: startRun with real child processes', function () {
  this.timeout(60_000);
  let ws: string;
  let n = 0;
  /** Processes a test started that must not outlive the suite. */
  const leftovers: number[] = [];

  before(() => (ws = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'edd-run-')))));
  after(() => {
    killAll(leftovers);
    fs.rmSync(ws, { recursive: true, force: true });
  });

  function start(command: string[], extra: Partial<RunOptions> = {}) {
    const id = `run${++n}`;
    const events: RunEvent[] = [];
    const options: RunOptions = {
      command,
      workspaceRoot: ws,
      runId: id,
      artifactDir: `.edd/runs/${id}/artifacts`,
      metricsFile: `.edd/runs/${id}/metrics.jsonl`,
      logFile: `.edd/runs/${id}/log.txt`,
      onEvent: e => events.push(e),
      ...extra,
    };
    const handle = startRun(options);
    if (handle.pid !== undefined) leftovers.push(handle.pid);
    return { handle, events, id, logFile: path.join(ws, `.edd/runs/${id}/log.txt`), of: <K extends RunEvent['type']>(type: K) => events.filter((e): e is Extract<RunEvent, { type: K }> => e.type === type) };
  }

  it('runs a script to the end: metrics (stdout and file), params, progress, artifacts, env, log file', async () => {
    fs.mkdirSync(path.join(ws, 'train'), { recursive: true });
    const r = start([node, fixture('success.js')], { cwd: 'train', configPath: 'experiments/exp.yaml', env: { EXTRA_VAR: 'yes', N: 3 } });
    const out = await r.handle.done;
    assert.strictEqual(out.status, 'finished', JSON.stringify(out));
    assert.strictEqual(out.exitCode, 0);
    assert.strictEqual(out.signal, null);
    assert.strictEqual(out.error, undefined);
    assert.ok(out.durationMs > 0 && out.durationMs < 30_000, String(out.durationMs));
    assert.ok(typeof r.handle.pid === 'number');

    const metrics = r.of('metric');
    const loss = metrics.filter(m => m.name === 'loss');
    assert.deepStrictEqual(loss.map(m => [m.step, m.value, m.source]), [0, 1, 2, 3, 4].map(s => [s, 1 / (s + 1), 'stdout']));
    const acc = metrics.filter(m => m.name === 'acc');
    assert.deepStrictEqual(acc.map(m => [m.step, m.value, m.source, m.line]), [0, 1, 2, 3, 4].map(s => [s, s / 10, 'file', s + 1]));
    const final = metrics.find(m => m.name === 'final');
    assert.ok(final && final.value === 42 && final.step === undefined, 'the unterminated last line of the metrics file is read at exit');

    const params = Object.fromEntries(r.of('param').map(p => [p.name, p.value]));
    assert.deepStrictEqual(params.lr, 0.01);
    assert.deepStrictEqual(params.layers, [64, 32]);
    assert.strictEqual(params.run_id, r.id, 'EDD_RUN_ID');
    assert.strictEqual(params.config, path.join(ws, 'experiments/exp.yaml'), 'EDD_CONFIG is absolute');
    assert.strictEqual(params.cwd, path.join(ws, 'train'));
    assert.strictEqual(params.extra, 'yes');

    assert.deepStrictEqual(r.of('progress').map(p => p.value), [0.2, 0.4, 0.6, 0.8, 1]);

    // Each source is in order; stdout and the metrics file interleave in arrival order: compare sorted.
    const byPath = <T extends { path?: string; workspacePath?: string }>(list: T[]) => [...list].sort((a, b) => (a.workspacePath ?? a.path ?? '').localeCompare(b.workspacePath ?? b.path ?? ''));
    const arts = byPath(r.of('artifact'));
    assert.deepStrictEqual(arts.map(a => [a.workspacePath, a.kind, a.source]), [
      [`.edd/runs/${r.id}/artifacts/model.bin`, 'model', 'stdout'],
      ['train/notes.txt', 'report', 'file'],
    ]);
    assert.deepStrictEqual(byPath(out.artifacts).map(a => [a.path, a.kind, a.sizeBytes, a.sha256]), [
      [`.edd/runs/${r.id}/artifacts/model.bin`, 'model', 11, createHash('sha256').update('hello model').digest('hex')],
      ['train/notes.txt', 'report', 5, createHash('sha256').update('notes').digest('hex')],
    ]);

    const logs = r.of('log');
    assert.deepStrictEqual(logs.filter(l => l.stream === 'stdout').map(l => l.text), ['starting training', 'done']);
    assert.deepStrictEqual(logs.filter(l => l.stream === 'stderr').map(l => l.text), ['a warning on stderr']);
    assert.deepStrictEqual(r.of('protocol-error'), []);
    const logText = fs.readFileSync(r.logFile, 'utf8');
    assert.deepStrictEqual(logText.split('\n').sort(), ['', 'a warning on stderr', 'done', 'starting training']);
    assert.deepStrictEqual(out.counts, { metrics: 11, params: 6, artifacts: 2, progress: 5, protocolErrors: 0, logLines: 3 });
    assert.strictEqual(fs.readFileSync(path.join(ws, `.edd/runs/${r.id}/metrics.jsonl`), 'utf8').split('\n').length, 7);
    assert.ok(Date.parse(out.endedAt) >= Date.parse(out.startedAt));
  });

  it('reports a crash (exit 3) as failed with the tail of the log', async () => {
    const r = start([node, fixture('crash.js')], { logTailLines: 5 });
    const out = await r.handle.done;
    assert.strictEqual(out.status, 'failed');
    assert.strictEqual(out.exitCode, 3);
    assert.strictEqual(out.errorCode, 'exit-code');
    assert.match(out.error!, /^exited with code 3; last output:\n/);
    assert.match(out.error!, /ValueError: shapes do not match$/);
    assert.match(out.error!, /epoch 30/);
    assert.doesNotMatch(out.error!, /epoch 25\n/, 'only the last lines');
    assert.strictEqual(out.logTail.length, 5);
    assert.strictEqual(r.of('metric').length, 1, 'metrics before the crash are kept');
  });

  it('cancel stops the whole tree: the child, its grandchild, and a grandchild that left the process group', async function () {
    if (!linux) this.skip();
    const r = start([node, fixture('tree.js')]);
    await until(() => r.of('param').length >= 3, 'the pids of the tree');
    const pids = Object.fromEntries(r.of('param').map(p => [p.name, p.value as number]));
    leftovers.push(pids.grandchild, pids.escaped);
    for (const name of ['self', 'grandchild', 'escaped']) assert.ok(alive(pids[name]), `${name} runs before cancel`);
    const t0 = Date.now();
    r.handle.cancel();
    r.handle.cancel(); // idempotent
    const out = await r.handle.done;
    const ms = Date.now() - t0;
    assert.strictEqual(out.status, 'cancelled');
    assert.strictEqual(out.signal, 'SIGTERM');
    assert.strictEqual(out.error, undefined);
    for (const name of ['self', 'grandchild', 'escaped']) assert.ok(!alive(pids[name]), `${name} (pid ${pids[name]}) is gone after cancel`);
    console.log(`      (cancel → tree gone and outcome: ${ms} ms)`);
    // Orphaned grandchildren are zombies until init reaps them (here PID 1 reaps every second or two):
    // process.kill(pid, 0) fails once they are reaped.
    const t1 = Date.now();
    await until(() => [pids.grandchild, pids.escaped].every(pid => {
      try {
        process.kill(pid, 0);
        return false;
      } catch (e) {
        return (e as NodeJS.ErrnoException).code === 'ESRCH';
      }
    }), 'process.kill(pid, 0) to fail with ESRCH for both grandchildren', 20_000);
    console.log(`      (grandchildren reaped by init ${Date.now() - t1} ms later)`);
  });

  it('escalates to SIGKILL after the grace period for a process that ignores SIGTERM', async function () {
    if (!linux) this.skip();
    const r = start([node, fixture('ignore-term.js')], { killGraceMs: 300 });
    await until(() => r.of('log').some(l => l.text === 'ready'), 'ready');
    r.handle.cancel();
    const out = await r.handle.done;
    assert.strictEqual(out.status, 'cancelled');
    assert.strictEqual(out.signal, 'SIGKILL');
    assert.ok(!alive(r.handle.pid!));
    assert.ok(r.of('log').some(l => l.text === 'ignoring SIGTERM'));
  });

  it('fails a run that exceeds its timeout, and stops it', async () => {
    const t0 = Date.now();
    const r = start([node, fixture('sleep.js')], { timeoutS: 0.5 });
    const out = await r.handle.done;
    assert.strictEqual(out.status, 'failed');
    assert.strictEqual(out.errorCode, 'timeout');
    assert.strictEqual(out.error, 'timed out after 0.5 s');
    assert.ok(Date.now() - t0 >= 500);
    assert.ok(!alive(r.handle.pid!));
  });

  it('reports a command that does not exist as failed: command not found', async () => {
    const r = start(['edd-no-such-command-xyz', '--help']);
    assert.strictEqual(r.handle.pid, undefined);
    r.handle.cancel(); // harmless
    const out = await r.handle.done;
    assert.strictEqual(out.status, 'failed');
    assert.strictEqual(out.error, 'command not found: edd-no-such-command-xyz');
    assert.strictEqual(out.errorCode, 'command-not-found');
    assert.strictEqual(out.exitCode, null);
  });

  it('reports a process killed by a signal it did not get from us as failed (with a hint for SIGKILL)', async () => {
    const out = await start([node, '-e', 'console.log("allocating"); process.kill(process.pid, "SIGKILL")']).handle.done;
    assert.strictEqual(out.status, 'failed');
    assert.strictEqual(out.signal, 'SIGKILL');
    assert.strictEqual(out.exitCode, null);
    assert.strictEqual(out.errorCode, 'signal');
    assert.strictEqual(out.error, 'killed by signal SIGKILL (the system may have run out of memory); last output:\nallocating');
  });

  it('reports an argument Node refuses (NUL byte) as failed, without throwing', async () => {
    const r = start([node, 'a\0b']);
    const out = await r.handle.done;
    assert.strictEqual(out.status, 'failed');
    assert.strictEqual(out.errorCode, 'spawn-failed');
    assert.match(out.error!, /^could not start /);
  });

  it('reports a file that is not executable as permission denied', async function () {
    if (!linux) this.skip();
    fs.writeFileSync(path.join(ws, 'train.py'), 'print(1)\n', { mode: 0o644 });
    const out = await start(['./train.py']).handle.done;
    assert.strictEqual(out.status, 'failed');
    assert.strictEqual(out.errorCode, 'permission-denied');
    assert.match(out.error!, /permission denied: \.\/train\.py/);
  });

  it('passes argv literally, without a shell (spaces, quotes, $HOME, ;, globs, backticks)', async () => {
    const args = ['a b', '"quoted"', "it's", '$HOME', '${PATH}', 'x; rm -rf /', '*', '`id`', '$(id)', '|', '&&', '>out.txt', '', 'ünï'];
    const r = start([node, fixture('argv.js'), ...args]);
    const out = await r.handle.done;
    assert.strictEqual(out.status, 'finished');
    assert.deepStrictEqual(r.of('param')[0].value, args);
    assert.ok(!fs.existsSync(path.join(ws, 'out.txt')), 'no redirection happened');
  });

  it('refuses a cwd or artifact dir outside the workspace, and a missing cwd, before spawning anything', () => {
    const refused = (o: Partial<RunOptions>, code: string) =>
      assert.throws(() => start([node, fixture('argv.js')], o), (e: unknown) => e instanceof RunRefusedError && e.code === code, JSON.stringify(o));
    refused({ cwd: '..' }, 'cwd-outside-workspace');
    refused({ cwd: '../' + path.basename(ws) + '-other' }, 'cwd-outside-workspace');
    refused({ cwd: '/tmp' }, 'cwd-outside-workspace');
    refused({ cwd: 'sub/../../x' }, 'cwd-outside-workspace');
    refused({ cwd: 'does-not-exist' }, 'cwd-missing');
    refused({ artifactDir: '../artifacts' }, 'artifact-dir-outside-workspace');
    refused({ artifactDir: os.tmpdir() }, 'artifact-dir-outside-workspace');
    refused({ timeoutS: 0 }, 'invalid-timeout');
    refused({ timeoutS: NaN }, 'invalid-timeout');
    refused({ command: [] }, 'empty-command');
    refused({ command: [''] }, 'empty-command');
    assert.ok(!fs.existsSync(path.join(path.dirname(ws), 'artifacts')));
  });

  it('accepts an absolute cwd inside the workspace', async () => {
    const out = await start([node, fixture('argv.js')], { cwd: ws }).handle.done;
    assert.strictEqual(out.status, 'finished');
  });

  it('ignores artifacts outside the workspace with a protocol-error, hashes the ones inside', async () => {
    const r = start([node, fixture('artifact-outside.js')]);
    const out = await r.handle.done;
    assert.strictEqual(out.status, 'finished');
    const errs = r.of('protocol-error').sort((a, b) => a.source.localeCompare(b.source) || a.line - b.line);
    assert.deepStrictEqual(errs.map(e => [e.code, e.source, e.line]), [
      ['outside-workspace', 'file', 1],
      ['outside-workspace', 'stdout', 1],
      ['outside-workspace', 'stdout', 2],
    ]);
    assert.match(errs[1].message, /artifact "\.\.\/\.\.\/\.\.\/\.\.\/\.\.\/\.\.\/etc\/passwd" is outside the workspace/);
    assert.deepStrictEqual(r.of('artifact').map(a => a.workspacePath), ['inside.txt', 'never-written.bin']);
    assert.deepStrictEqual(out.artifacts.map(a => [a.path, a.sizeBytes, a.error]), [['inside.txt', 2, undefined], ['never-written.bin', undefined, 'not found']]);
    assert.strictEqual(out.counts.protocolErrors, 3);
  });

  it('parses a flood of 100,000 metric lines on stdout completely', async () => {
    const t0 = performance.now();
    let metrics = 0;
    let logs = 0;
    const r = start([node, fixture('flood.js'), '100000', 'stdout'], {
      onEvent: e => {
        if (e.type === 'metric') metrics++;
        else if (e.type === 'log') logs++;
      },
    });
    const out = await r.handle.done;
    const ms = performance.now() - t0;
    assert.strictEqual(out.status, 'finished');
    assert.strictEqual(metrics, 100_000);
    assert.strictEqual(logs, 1000);
    assert.strictEqual(out.counts.metrics, 100_000);
    assert.strictEqual(out.counts.protocolErrors, 0);
    console.log(`      (100,000 metric lines + 1,000 log lines on stdout: ${ms.toFixed(0)} ms end to end, incl. node start-up)`);
  });

  it('parses a flood of 100,000 metric lines in the metrics file completely', async () => {
    const t0 = performance.now();
    let metrics = 0;
    let lastStep = -1;
    let ordered = true;
    const r = start([node, fixture('flood.js'), '100000', 'file'], {
      onEvent: e => {
        if (e.type !== 'metric') return;
        metrics++;
        if (e.step !== lastStep + 1) ordered = false;
        lastStep = e.step!;
      },
    });
    const out = await r.handle.done;
    const ms = performance.now() - t0;
    assert.strictEqual(out.status, 'finished');
    assert.strictEqual(metrics, 100_000);
    assert.ok(ordered, 'in file order');
    console.log(`      (100,000 metric lines via $EDD_METRICS_FILE: ${ms.toFixed(0)} ms end to end)`);
  });

  it('turns malformed protocol lines into protocol-error events with line numbers (stdout and file)', async () => {
    const r = start([node, fixture('malformed.js')]);
    const out = await r.handle.done;
    assert.strictEqual(out.status, 'finished');
    const errs = r.of('protocol-error');
    const key = (e: ProtocolErrorEvent) => `${e.source}:${e.line}:${e.code}`;
    assert.deepStrictEqual(errs.filter(e => e.source === 'stdout').map(key), [
      'stdout:3:non-finite', 'stdout:4:wrong-type', 'stdout:5:missing-field', 'stdout:6:invalid-json', 'stdout:7:out-of-range',
      'stdout:8:unknown-record', 'stdout:9:not-an-object', 'stdout:10:wrong-type', 'stdout:11:non-finite', 'stdout:12:ambiguous-record',
    ]);
    assert.deepStrictEqual(errs.filter(e => e.source === 'file').map(key), ['file:3:invalid-json', 'file:4:non-finite']);
    assert.strictEqual(errs.find(e => e.line === 6)!.text, 'EDD {not json');
    assert.deepStrictEqual(r.of('metric').map(m => [m.source, m.line, m.name]).sort(), [['file', 1, 'acc'], ['stdout', 2, 'loss']]);
    assert.deepStrictEqual(r.of('param').map(p => [p.line, p.name]), [[13, 'lr']]);
    // the bad lines stay visible in the log, next to the ordinary ones
    const log = r.of('log').map(l => l.line);
    assert.deepStrictEqual(log, [1, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  });

  it('reassembles protocol lines written in pieces (partial lines, CRLF across chunks, split UTF-8)', async () => {
    const r = start([node, fixture('chunked.js')]);
    await r.handle.done;
    assert.deepStrictEqual(r.of('metric').map(m => [m.name, m.value, m.step]), [['loss', 0.25, 3]]);
    assert.deepStrictEqual(r.of('log').map(l => l.text), ['log café']);
    assert.deepStrictEqual(r.of('progress').map(p => p.value), [0.5], 'the last line without newline');
  });

  it('measures the peak memory of the tree (a script that holds ~50 MB)', async function () {
    if (!linux) this.skip();
    const out = await start([node, fixture('alloc.js')]).handle.done;
    assert.strictEqual(out.status, 'finished');
    assert.ok(out.peakMemoryBytes !== undefined && out.peakMemoryBytes > 50 * 1024 * 1024, String(out.peakMemoryBytes));
    console.log(`      (peak memory: ${(out.peakMemoryBytes! / 1048576).toFixed(0)} MB)`);
  });

  it('ends a run whose main process exited while a grandchild still holds stdout (the leftover is stopped)', async function () {
    if (!linux) this.skip();
    const t0 = Date.now();
    const r = start([node, fixture('exit-leaves-child.js')]);
    const out = await r.handle.done;
    assert.strictEqual(out.status, 'finished');
    const leftover = r.of('param').find(p => p.name === 'leftover')!.value as number;
    leftovers.push(leftover);
    assert.ok(!alive(leftover), 'the leftover grandchild was stopped');
    assert.ok(Date.now() - t0 < 10_000);
  });

  it('runs a Python script: unbuffered stdout (metrics arrive live), NaN from json.dumps, tqdm-style \\r progress', async function () {
    if (spawnSync('python3', ['--version']).status !== 0) this.skip();
    const r = start(['python3', fixture('train.py'), 'wait']);
    // print() without flush: the metrics must arrive while the script still runs (PYTHONUNBUFFERED)
    await until(() => r.of('log').some(l => l.text === 'waiting for cancel'), 'live output from Python');
    assert.deepStrictEqual(r.of('metric').filter(m => m.source === 'stdout').map(m => m.value), [1, 0.5, 1 / 3]);
    r.handle.cancel();
    const out = await r.handle.done;
    assert.strictEqual(out.status, 'cancelled');
    assert.deepStrictEqual(r.of('metric').filter(m => m.source === 'file').map(m => m.name), ['val_acc', 'val_acc', 'val_acc']);
    const nan = r.of('protocol-error');
    assert.deepStrictEqual(nan.map(e => [e.code, e.line]), [['non-finite', 5]]);
    assert.deepStrictEqual(r.of('log').filter(l => l.stream === 'stderr').map(l => l.text), ['', '33%|#|', '66%|##|', '99%|###|']);
  });

  it('survives a listener that throws', async () => {
    const r = start([node, fixture('success.js')], { onEvent: () => { throw new Error('listener bug'); } });
    const out = await r.handle.done;
    assert.strictEqual(out.status, 'finished');
  });

  it('exports hashFile (sha256 + size, streamed)', async () => {
    const f = path.join(ws, 'h.bin');
    fs.writeFileSync(f, Buffer.alloc(3 * 1024 * 1024, 7));
    const h = await hashFile(f);
    assert.strictEqual(h.sizeBytes, 3 * 1024 * 1024);
    assert.strictEqual(h.sha256, createHash('sha256').update(fs.readFileSync(f)).digest('hex'));
  });
});
