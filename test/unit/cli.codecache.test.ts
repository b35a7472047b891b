import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { codeCacheDir, codeCacheReady, runWithCodeCache } from '../../src/cli/codeCache';
import { edd, nodeConfig } from './eddProcess';

/** What the test bundles report: each run pushes its value here. */
const seen = (): unknown[] => ((globalThis as Record<string, unknown>).__eddCodeCacheTest ??= []) as unknown[];

/** A CommonJS bundle with a few functions (what a cache holds) that reports `value` when run. */
function bundleSource(value: number): string {
  return [
    "'use strict';",
    'function fib(n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }',
    'function greet(who) { return `value ${who}`; }',
    `const value = ${value};`,
    'module.exports = { value, fib: fib(10), text: greet(value), dir: __dirname, req: typeof require };',
    'globalThis.__eddCodeCacheTest.push(module.exports);',
    '',
  ].join('\n');
}

const caches = (dir: string) => (fs.existsSync(dir) ? fs.readdirSync(dir).filter(f => f.endsWith('.v8')) : []);

describe('the V8 code cache of `edd run`\'s bundle (src/cli/codeCache.ts)', function () {
  let tmp: string;
  let bundle: string;
  let cacheDir: string;
  let env: NodeJS.ProcessEnv;
  const run = () => {
    seen(); // the array the bundle pushes to
    const status = runWithCodeCache(bundle, env);
    return { status, result: seen().at(-1) as { value: number; fib: number; text: string; dir: string; req: string } };
  };

  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'edd-codecache-'));
    bundle = path.join(tmp, 'run.cjs');
    fs.writeFileSync(bundle, bundleSource(1));
    cacheDir = path.join(tmp, 'cache', 'edd');
    env = { EDD_CACHE_DIR: cacheDir };
  });
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('compiles without a cache, saves one when the bundle says it is ready, and is compiled from it next time', () => {
    const first = run();
    assert.strictEqual(first.status, 'none');
    assert.deepStrictEqual(first.result, { value: 1, fib: 55, text: 'value 1', dir: tmp, req: 'function' });
    assert.deepStrictEqual(caches(cacheDir), [], 'nothing is saved before the bundle is ready');
    codeCacheReady();
    const [file] = caches(cacheDir);
    assert.ok(file, 'a cache file is saved');
    assert.match(file, /^run-[0-9a-f]{12}-[0-9a-f]{32}\.v8$/);
    if (process.platform !== 'win32') {
      assert.strictEqual(fs.statSync(cacheDir).mode & 0o777, 0o700);
      assert.strictEqual(fs.statSync(path.join(cacheDir, file)).mode & 0o777, 0o600);
    }
    const before = fs.statSync(path.join(cacheDir, file));
    const second = run();
    assert.strictEqual(second.status, 'used');
    assert.deepStrictEqual(second.result, first.result);
    codeCacheReady();
    const after = fs.statSync(path.join(cacheDir, file));
    assert.strictEqual(after.mtimeMs, before.mtimeMs, 'a cache that was used is not written again');
    assert.strictEqual(after.ino, before.ino);
  });

  it('a rebuilt bundle of the same length runs its own code under a new cache, and the old cache goes', () => {
    run();
    codeCacheReady();
    const [old] = caches(cacheDir);
    const source = bundleSource(2);
    assert.strictEqual(source.length, bundleSource(1).length, 'same length (V8 alone would take the old cache)');
    fs.writeFileSync(bundle, source);
    const rebuilt = run();
    assert.strictEqual(rebuilt.status, 'none');
    assert.strictEqual(rebuilt.result.value, 2);
    assert.strictEqual(rebuilt.result.text, 'value 2');
    codeCacheReady();
    const now = caches(cacheDir);
    assert.strictEqual(now.length, 1);
    assert.notStrictEqual(now[0], old);
    assert.strictEqual(run().status, 'used');
  });

  it('a damaged or cut-off cache file is never handed to V8 (it aborts the process on bad data): compiled afresh and remade', () => {
    run();
    codeCacheReady();
    const file = path.join(cacheDir, caches(cacheDir)[0]);
    const good = fs.readFileSync(file);
    const damaged = Buffer.from(good);
    for (let i = Math.floor(good.length / 2); i < Math.floor(good.length / 2) + 64; i++) damaged[i] ^= 0x5a;
    for (const bad of [damaged, good.subarray(0, good.length - 100), good.subarray(0, 20), Buffer.alloc(0)]) {
      fs.writeFileSync(file, bad);
      const r = run();
      assert.strictEqual(r.status, 'rejected');
      assert.strictEqual(r.result.fib, 55);
      codeCacheReady();
      assert.strictEqual(run().status, 'used', 'remade');
    }
  });

  it('a cache folder or file others may write to, or a file of another user, is neither read nor written', () => {
    run();
    codeCacheReady();
    const file = path.join(cacheDir, caches(cacheDir)[0]);
    if (typeof process.getuid !== 'function') {
      // Windows: no owner or mode bits, so nothing to refuse; the cache is used
      assert.strictEqual(run().status, 'used');
      return;
    }
    fs.chmodSync(cacheDir, 0o777);
    const before = fs.statSync(file).mtimeMs;
    assert.strictEqual(run().status, 'none');
    codeCacheReady();
    assert.strictEqual(fs.statSync(file).mtimeMs, before, 'not rewritten in a folder others may write to');
    fs.chmodSync(cacheDir, 0o700);
    fs.chmodSync(file, 0o666);
    assert.strictEqual(run().status, 'none', 'a cache file others may write to is not read');
    fs.chmodSync(file, 0o600);
    if (process.getuid!() === 0) { // root may hand the file to someone else
      fs.chownSync(file, 1, 1);
      assert.strictEqual(run().status, 'none', 'a cache file of another user is not read');
      fs.chownSync(file, 0, 0);
    }
    assert.strictEqual(run().status, 'used');
  });

  it('EDD_CODE_CACHE=off compiles without one and writes nothing; an unusable folder only means no cache', () => {
    env = { EDD_CACHE_DIR: cacheDir, EDD_CODE_CACHE: 'off' };
    assert.strictEqual(codeCacheDir(env), undefined);
    assert.strictEqual(run().status, 'off');
    codeCacheReady();
    assert.ok(!fs.existsSync(cacheDir));
    const notAFolder = path.join(tmp, 'a-file');
    fs.writeFileSync(notAFolder, 'x');
    env = { EDD_CACHE_DIR: notAFolder };
    const r = run();
    assert.strictEqual(r.status, 'none');
    assert.strictEqual(r.result.fib, 55);
    codeCacheReady(); // cannot write: nothing thrown
    assert.strictEqual(fs.readFileSync(notAFolder, 'utf8'), 'x');
  });

  it('the per-user default folder follows the platform (XDG_CACHE_HOME on Linux, LOCALAPPDATA on Windows)', () => {
    const home = os.homedir();
    assert.strictEqual(codeCacheDir({ XDG_CACHE_HOME: path.join('x', 'cache') }, 'linux'), path.join('x', 'cache', 'edd', 'code'));
    assert.strictEqual(codeCacheDir({}, 'linux'), path.join(home, '.cache', 'edd', 'code'));
    assert.strictEqual(codeCacheDir({}, 'darwin'), path.join(home, 'Library', 'Caches', 'edd', 'code'));
    assert.strictEqual(codeCacheDir({ LOCALAPPDATA: path.join('x', 'local') }, 'win32'), path.join('x', 'local', 'edd', 'Cache', 'code'));
    assert.strictEqual(codeCacheDir({}, 'win32'), path.join(home, 'AppData', 'Local', 'edd', 'Cache', 'code'));
    assert.strictEqual(codeCacheDir({ EDD_CACHE_DIR: 'rel' }, 'darwin'), path.resolve('rel'));
    assert.strictEqual(codeCacheDir({ EDD_CACHE_DIR: 'rel', EDD_CODE_CACHE: 'OFF' }, 'linux'), undefined);
  });

  describe('through the real CLI (node dist/cli.js run …)', function () {
    this.timeout(60000);
    const cli = (args: string[], cwd: string, extra: NodeJS.ProcessEnv) => edd(args, cwd, { env: { EDD_CODE_CACHE: '', ...extra } });

    it('the first `edd run` saves the cache, the next ones use it (not rewritten), a damaged one is remade, and every run is recorded', async () => {
      const work = path.join(tmp, 'ws');
      fs.mkdirSync(work);
      nodeConfig(work, 'trivial');
      const extra = { EDD_CACHE_DIR: cacheDir };
      const first = await cli(['run', 'trivial.yaml', '--quiet'], work, extra);
      assert.strictEqual(first.code, 0, first.stderr);
      const saved = caches(cacheDir);
      assert.strictEqual(saved.length, 1, 'one cache file');
      assert.match(saved[0], /^run-/);
      const file = path.join(cacheDir, saved[0]);
      const before = fs.statSync(file);
      const second = await cli(['run', 'trivial.yaml', '--quiet'], work, extra);
      assert.strictEqual(second.code, 0, second.stderr);
      assert.strictEqual(fs.statSync(file).mtimeMs, before.mtimeMs, 'used, not rewritten');
      fs.writeFileSync(file, fs.readFileSync(file).subarray(0, 1000));
      const third = await cli(['run', 'trivial.yaml', '--quiet'], work, extra);
      assert.strictEqual(third.code, 0, third.stderr);
      assert.ok(fs.statSync(file).size > 1000, 'the damaged cache was remade');
      const runs = await cli(['runs', '--json'], work, extra);
      assert.strictEqual(runs.code, 0, runs.stderr);
      const listed = JSON.parse(runs.stdout) as { status: string }[];
      assert.deepStrictEqual(listed.map(r => r.status), ['finished', 'finished', 'finished']);
      // Usage errors, --help and --version of `edd run`'s bundle behave as the rest of the CLI's.
      const usage = await cli(['run'], work, extra);
      assert.strictEqual(usage.code, 2);
      assert.match(usage.stderr, /^edd: Usage: edd run <config\.yaml>/m);
      assert.match(usage.stderr, /Run `edd --help` for usage\./);
    });
  });
});
