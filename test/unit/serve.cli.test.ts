import * as assert from 'assert';
import { spawn, type ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { listSegments, readLogLines, type LogRecord } from '../../src/core/serve/predictionLog';
import { alive, killAll, until } from './processes';
import { CLI, edd } from './registryFixtures';
import { ADELIE, GENTOO, servingWorkspace } from './serve.fixtures';

/** `edd serve` as a real process on a free port; resolves with its URL once it prints it. */
function serve(dir: string, args: string[] = []): Promise<{ child: ChildProcess; url: string; stderr: () => string }> {
  const child = spawn(process.execPath, [CLI, 'serve', 'penguins.service.yaml', '--port', '0', ...args], { cwd: dir, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr!.on('data', d => { err += d; });
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', d => {
      out += d;
      const m = /(http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) resolve({ child, url: m[1], stderr: () => err });
    });
    child.on('exit', code => reject(new Error(`edd serve exited with ${code}: ${err}`)));
  });
}

function records(dir: string): LogRecord[] {
  return listSegments(path.join(dir, '.edd/serving/penguins')).flatMap(f => readLogLines(fs.readFileSync(f, 'utf8')));
}

describe('serve: `edd serve` as a real process', function () {
  this.timeout(60_000);
  const pids: number[] = [];
  let dir: string;
  before(async () => ({ dir } = await servingWorkspace()));
  after(() => {
    killAll(pids);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('the prediction log keeps every answered request after kill -9; a torn last line is skipped', async () => {
    const { child, url } = await serve(dir);
    pids.push(child.pid!);
    const ids: string[] = [];
    await Promise.all(Array.from({ length: 8 }, async () => {
      for (let i = 0; i < 25; i++) {
        const res = await fetch(`${url}/v1/models/penguins:predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ instances: [ADELIE, GENTOO] }) });
        assert.strictEqual(res.status, 200);
        ids.push(((await res.json()) as { request_id: string }).request_id);
      }
    }));
    child.kill('SIGKILL');
    await until(() => !alive(child.pid!), 'the server to die');
    // A write cut by a kill leaves a partial line: append one to show readers skip it.
    const segs = listSegments(path.join(dir, '.edd/serving/penguins'));
    fs.appendFileSync(segs[segs.length - 1], '{"type":"prediction","request_id":"torn","ro');
    const logged = new Set(records(dir).filter(r => r.type === 'prediction' && r.status === 200).map(r => (r as { request_id: string }).request_id));
    assert.strictEqual(ids.length, 200);
    for (const id of ids) assert.ok(logged.has(id), `request ${id} answered but not in the log`);
    assert.strictEqual(records(dir).filter(r => r.type === 'prediction').length, 400);
  });

  it('--stop-with-stdin: the server stops cleanly when its parent goes (its stdin closes); without it, it serves on', async () => {
    const plain = await serve(dir);
    pids.push(plain.child.pid!);
    const watched = await serve(dir, ['--stop-with-stdin']);
    pids.push(watched.child.pid!);
    const exited = new Promise<number | null>(resolve => watched.child.on('exit', c => resolve(c)));
    plain.child.stdin!.end();
    watched.child.stdin!.end();
    assert.strictEqual(await exited, 0);
    assert.ok(records(dir).some(r => r.type === 'event' && r.kind === 'stop'));
    const res = await fetch(`${plain.url}/v2/health/live`);
    assert.strictEqual(res.status, 200, 'the server without the option still serves after its stdin closed');
    plain.child.kill('SIGINT');
  });

  it('Ctrl+C stops cleanly: exit 0 and a stop event in the log', async () => {
    const { child } = await serve(dir);
    pids.push(child.pid!);
    const code = await new Promise<number | null>(resolve => {
      child.on('exit', c => resolve(c));
      child.kill('SIGINT');
    });
    assert.strictEqual(code, 0);
    assert.ok(records(dir).some(r => r.type === 'event' && r.kind === 'stop'));
  });

  it('refuses to start off loopback without EDD_SERVE_TOKEN (exit 2, saying what to do)', async () => {
    const r = await edd(['serve', 'penguins.service.yaml', '--host', '0.0.0.0', '--port', '0'], dir, { EDD_SERVE_TOKEN: '' });
    assert.strictEqual(r.code, 2);
    assert.match(r.stderr, /EDD_SERVE_TOKEN/);
    assert.doesNotMatch(r.stderr, /at .*\.js:\d+/);
  });

  it('a bad spec is exit 2 with file:line:col', async () => {
    fs.writeFileSync(path.join(dir, 'bad.service.yaml'), 'model: penguins\nfeatures: [a]\nstage: live\n');
    const r = await edd(['serve', 'bad.service.yaml', '--port', '0'], dir);
    assert.strictEqual(r.code, 2);
    assert.match(r.stderr, /bad\.service\.yaml:3:8/);
  });
});
