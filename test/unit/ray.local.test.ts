// The parts of the Ray executor that need no cluster: argv quoting through a real sh, the workspace zip read by
// Python's zipfile (what Ray unpacks it with), and the errors for an address that is wrong or not answering.
import * as assert from 'assert';
import { execFile, spawnSync } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { RayError, RayJobsClient, RayTrialExecutor, shJoin, shQuote, workspaceFiles, workspacePackage } from '../../src/core/remote';
import { RunStore } from '../../src/core/store';
import { runSweep } from '../../src/core/sweep';
import { HOSTILE_ARGS } from '../harness/ray';

const root = path.resolve(__dirname, '../../..');
const python = path.join(root, '.venv', 'bin', 'python');

/** A port nothing listens on (bound, then released). */
function closedPort(): Promise<number> {
  return new Promise(resolve => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

describe('ray: quoting, packaging and errors without a cluster', function () {
  this.timeout(60_000);
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edd-ray-local-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('quotes every argv element so POSIX sh hands it over unchanged', () => {
    const line = `printf '%s\\0' ${shJoin(HOSTILE_ARGS)}`;
    for (const shell of ['/bin/sh', '/bin/dash', '/bin/bash'].filter(s => fs.existsSync(s))) {
      const r = spawnSync(shell, ['-c', line], { cwd: dir, encoding: 'utf8' });
      assert.strictEqual(r.status, 0, `${shell}: ${r.stderr}`);
      assert.deepStrictEqual(r.stdout.split('\0').slice(0, -1), HOSTILE_ARGS, shell);
    }
    assert.deepStrictEqual(fs.readdirSync(dir), [], 'nothing was run or redirected');
    assert.strictEqual(shQuote('train.py'), 'train.py', 'plain words stay readable');
    assert.throws(() => shQuote('a\0b'), /NUL/);
  });

  it('zips the workspace as git sees it, deterministically, and Python reads the zip back byte for byte', async () => {
    fs.mkdirSync(path.join(dir, 'src'));
    fs.writeFileSync(path.join(dir, 'src', 'train.py'), 'print("hi")\n'.repeat(100));
    fs.writeFileSync(path.join(dir, 'ünï.txt'), Buffer.from([0, 1, 2, 255]));
    fs.writeFileSync(path.join(dir, '.gitignore'), 'data/\n');
    for (const d of ['data', '.edd', 'node_modules', '.venv']) {
      fs.mkdirSync(path.join(dir, d));
      fs.writeFileSync(path.join(dir, d, 'big.bin'), 'x');
    }
    assert.strictEqual(spawnSync('git', ['init', '-q'], { cwd: dir }).status, 0);
    assert.deepStrictEqual(await workspaceFiles(dir), ['.gitignore', 'src/train.py', 'ünï.txt']);
    const a = await workspacePackage(dir);
    const b = await workspacePackage(dir);
    assert.strictEqual(a.uri, b.uri, 'same files, same package name: Ray is not asked to store it twice');
    assert.match(a.uri, /^gcs:\/\/_ray_pkg_[0-9a-f]{40}\.zip$/);
    const zipPath = path.join(os.tmpdir(), `edd-ray-${process.pid}.zip`);
    fs.writeFileSync(zipPath, a.zip);
    const read = spawnSync(python, ['-c', 'import sys,zipfile,json,hashlib; z=zipfile.ZipFile(sys.argv[1]); assert z.testzip() is None; print(json.dumps({n: hashlib.sha256(z.read(n)).hexdigest() for n in z.namelist()}))', zipPath], { encoding: 'utf8' });
    fs.rmSync(zipPath);
    assert.strictEqual(read.status, 0, read.stderr);
    const expected: Record<string, string> = {};
    for (const f of ['.gitignore', 'src/train.py', 'ünï.txt']) expected[f] = crypto.createHash('sha256').update(fs.readFileSync(path.join(dir, f))).digest('hex');
    assert.deepStrictEqual(JSON.parse(read.stdout), expected);
  });

  it('says which address could not be reached, and refuses one that is not a URL', async () => {
    const port = await closedPort();
    const client = new RayJobsClient(`http://127.0.0.1:${port}`);
    await assert.rejects(client.version(), (e: RayError) => e instanceof RayError && e.kind === 'unreachable' && e.message.includes(`http://127.0.0.1:${port}`) && /ECONNREFUSED/.test(e.message));
    assert.throws(() => new RayJobsClient('127.0.0.1:8265'), (e: RayError) => e.kind === 'bad-address');
    assert.throws(() => new RayJobsClient('ftp://127.0.0.1:8265'), (e: RayError) => e.kind === 'bad-address');
  });

  it('reports a server that is not Ray, and a request that times out', async () => {
    const server = net.createServer(socket => {
      socket.once('data', d => {
        if (d.toString().includes('/api/version')) socket.end('HTTP/1.1 200 OK\r\ncontent-type: text/html\r\nconnection: close\r\n\r\n<html>hello</html>');
        // Any other request gets no answer at all.
      });
    });
    await new Promise<void>(r => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
    try {
      await assert.rejects(new RayJobsClient(url).version(), (e: RayError) => e.kind === 'bad-answer' && /Ray dashboard/.test(e.message));
      await assert.rejects(new RayJobsClient(url, { timeoutMs: 300 }).getJob('x'), (e: RayError) => e.kind === 'timeout');
    } finally {
      server.close();
      server.unref();
    }
  });

  it('a sweep trial on an unreachable cluster fails with the address in its error, and records no run', async () => {
    fs.copyFileSync(path.join(root, 'test/fixtures/sweep/train.js'), path.join(dir, 'train.js'));
    fs.writeFileSync(path.join(dir, 'grid.yaml'), fs.readFileSync(path.join(root, 'test/fixtures/sweep/grid.yaml'), 'utf8')
      .replace(/ {4}parameters:\n(.|\n)*?seeds: \[0, 1, 2\]/, '    parameters:\n      parameters.batch_size: { values: [16, 32] }\n    seeds: [0]'));
    const port = await closedPort();
    const store = await RunStore.open(path.join(dir, '.edd/edd.sqlite'));
    try {
      const result = await runSweep({ store, workspaceRoot: dir, configPath: 'grid.yaml', executor: new RayTrialExecutor(`http://127.0.0.1:${port}`) });
      assert.deepStrictEqual([...result.outcomes].map(([i, o]) => [i, o.status, o.runId]), [[0, 'failed', null], [1, 'failed', null]]);
      for (const o of result.outcomes.values()) assert.match(o.error ?? '', new RegExp(`Cannot reach the Ray cluster at http://127\\.0\\.0\\.1:${port}`));
      assert.deepStrictEqual(store.listRuns(), [], 'a cluster that was never reached leaves no run behind');
    } finally {
      await store.close();
    }
  });

  it('edd run --on ray with an unreachable address exits 2 with the address in the message and records nothing', async () => {
    fs.mkdirSync(path.join(dir, 'experiments'));
    fs.copyFileSync(path.join(root, 'test/fixtures/workspace/experiments/quick.yaml'), path.join(dir, 'experiments/quick.yaml'));
    const port = await closedPort();
    const run = (args: string[]) => new Promise<{ code: number; stderr: string }>(resolve => {
      execFile(process.execPath, [path.join(root, 'dist/cli.js'), 'run', ...args], { cwd: dir, env: { ...process.env, EDD_LOCALE: 'en' } }, (err, _out, stderr) => {
        resolve({ code: err ? Number(err.code) : 0, stderr });
      });
    });
    const r = await run(['experiments/quick.yaml', '--on', 'ray', '--address', `http://127.0.0.1:${port}`]);
    assert.strictEqual(r.code, 2, r.stderr);
    assert.match(r.stderr, new RegExp(`Cannot reach the Ray cluster at http://127\\.0\\.0\\.1:${port} \\(ECONNREFUSED\\)`));
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    const store = await RunStore.open(path.join(dir, '.edd/edd.sqlite'));
    assert.strictEqual(store.listRuns().length, 0, 'no run is recorded for a cluster that was never reached');
    await store.close();

    const usage = await run(['experiments/quick.yaml', '--on', 'kubernetes']);
    assert.strictEqual(usage.code, 2);
    assert.match(usage.stderr, /--on accepts only `ray`/);
    assert.match((await run(['experiments/quick.yaml', '--on', 'ray'])).stderr, /--on ray needs --address/);
    assert.match((await run(['experiments/quick.yaml', '--address', 'http://x:1'])).stderr, /--address is only for --on ray/);
    const bad = await run(['experiments/quick.yaml', '--on', 'ray', '--address', 'localhost:8265']);
    assert.strictEqual(bad.code, 2);
    assert.match(bad.stderr, /is not a Ray dashboard address/);
  });
});
