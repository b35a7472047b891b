import * as assert from 'assert';
import { execFileSync, spawnSync } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { captureEnvironment, datasetFingerprint, DatasetError, isPythonCommand, parsePorcelainZ } from '../../src/core/runner/environment';

const hasPython = spawnSync('python3', ['--version']).status === 0;
const hasGit = spawnSync('git', ['--version']).status === 0;

describe('runner: environment capture', function () {
  this.timeout(60_000);
  let dir: string;
  beforeEach(() => (dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'edd-env-')))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const git = (...args: string[]) =>
    execFileSync('git', ['-c', 'user.name=EDD Test', '-c', 'user.email=edd@example.com', '-c', 'init.defaultBranch=main', '-c', 'commit.gpgsign=false', ...args], { cwd: dir, encoding: 'utf8' });

  it('always records OS and Node; no python or git for a node command outside a repository', async () => {
    const env = await captureEnvironment({ workspaceRoot: dir, command: ['node', 'train.js'] });
    assert.deepStrictEqual(env.os, { platform: process.platform, release: os.release(), arch: process.arch });
    assert.strictEqual(env.node, process.version);
    assert.strictEqual(env.python, undefined);
    // os.tmpdir() is not inside a repository here; if it were, git would be reported, which is also right
    if (spawnSync('git', ['rev-parse'], { cwd: dir }).status !== 0) assert.strictEqual(env.git, undefined);
  });

  it('recognises Python commands', () => {
    for (const p of ['python', 'python3', 'python3.11', '/usr/bin/python3', '.venv/bin/python', 'C:\\Python311\\python.exe']) assert.ok(isPythonCommand(p), p);
    for (const p of ['node', 'pythonista', 'bash', 'ipython', '/opt/python/bin/uv', undefined]) assert.ok(!isPythonCommand(p), String(p));
  });

  it('captures the Python version, executable and packages (stdlib only)', async function () {
    if (!hasPython) this.skip();
    fs.writeFileSync(path.join(dir, 'json.py'), 'raise SystemExit("workspace json.py must not shadow the stdlib")\n');
    const t0 = performance.now();
    const env = await captureEnvironment({ workspaceRoot: dir, command: ['python3', 'train.py'] });
    const ms = performance.now() - t0;
    assert.ok(env.python, 'python captured');
    assert.match(env.python.version, /^3\.\d+\.\d+/);
    assert.ok(path.isAbsolute(env.python.executable), env.python.executable);
    assert.strictEqual(typeof env.python.packages, 'object');
    for (const [k, v] of Object.entries(env.python.packages)) assert.ok(typeof k === 'string' && typeof v === 'string');
    console.log(`      (python ${env.python.version}, ${Object.keys(env.python.packages).length} packages, ${ms.toFixed(0)} ms)`);
  });

  it('omits Python when the interpreter cannot be run (never throws)', async () => {
    const env = await captureEnvironment({ workspaceRoot: dir, command: ['/nonexistent/bin/python3', 'train.py'] });
    assert.strictEqual(env.python, undefined);
    fs.writeFileSync(path.join(dir, 'python'), '#!/bin/sh\necho not json\n', { mode: 0o755 });
    const env2 = await captureEnvironment({ workspaceRoot: dir, command: ['./python'] });
    assert.strictEqual(env2.python, undefined);
  });

  it('records the git commit, branch and dirty files of the workspace', async function () {
    assert.ok(hasGit, 'these tests need git on PATH (the project is a git repository; CI has it)');
    git('init', '-q');
    fs.writeFileSync(path.join(dir, 'train.py'), 'print(1)\n');
    fs.mkdirSync(path.join(dir, 'src'));
    fs.writeFileSync(path.join(dir, 'src', 'model.py'), 'x = 1\n');
    git('add', '.');
    git('commit', '-q', '-m', 'initial');
    const head = git('rev-parse', 'HEAD').trim();

    const clean = await captureEnvironment({ workspaceRoot: dir, command: ['node'] });
    assert.deepStrictEqual(clean.git, { commit: head, branch: 'main', dirty: false, dirtyFiles: [] });

    fs.appendFileSync(path.join(dir, 'src', 'model.py'), 'y = 2\n');
    fs.writeFileSync(path.join(dir, 'new file.txt'), 'untracked\n');
    const dirty = await captureEnvironment({ workspaceRoot: dir, command: ['node'] });
    assert.strictEqual(dirty.git?.commit, head);
    assert.strictEqual(dirty.git?.dirty, true);
    assert.deepStrictEqual(dirty.git?.dirtyFiles, ['new file.txt', 'src/model.py']);

    git('checkout', '-q', '--detach');
    const detached = await captureEnvironment({ workspaceRoot: dir, command: ['node'] });
    assert.strictEqual(detached.git?.branch, null);
  });

  it('finds the repository from a subfolder, through a worktree\'s .git file, and through GIT_DIR; starts no git outside one', async function () {
    assert.ok(hasGit, 'these tests need git on PATH (the project is a git repository; CI has it)');
    const repo = path.join(dir, 'repo');
    fs.mkdirSync(path.join(repo, 'sub/deeper'), { recursive: true });
    execFileSync('git', ['init', '-q', repo]);
    const fromSub = await captureEnvironment({ workspaceRoot: path.join(repo, 'sub/deeper'), command: ['node'] });
    assert.strictEqual(fromSub.git?.commit, null, 'a repository without commits, found from two folders down');
    // A worktree: .git is a file naming the repository's git folder.
    const linked = path.join(dir, 'linked');
    fs.mkdirSync(linked);
    fs.writeFileSync(path.join(linked, '.git'), `gitdir: ${path.join(repo, '.git')}\n`);
    assert.notStrictEqual((await captureEnvironment({ workspaceRoot: linked, command: ['node'] })).git, undefined);
    // GIT_DIR names a repository that no .git above the workspace leads to.
    const plain = path.join(dir, 'plain');
    fs.mkdirSync(plain);
    process.env.GIT_DIR = path.join(repo, '.git');
    try {
      assert.notStrictEqual((await captureEnvironment({ workspaceRoot: plain, command: ['node'] })).git, undefined);
    } finally {
      delete process.env.GIT_DIR;
    }
    // Outside any repository (when the temporary folder is outside one), git is not even started: a `git` first on
    // PATH that records being run is never run.
    if (spawnSync('git', ['rev-parse'], { cwd: plain }).status === 0) return;
    const bin = path.join(dir, 'bin');
    fs.mkdirSync(bin);
    fs.writeFileSync(path.join(bin, 'git'), `#!/bin/sh\ntouch ${JSON.stringify(path.join(dir, 'git-was-run'))}\nexit 128\n`, { mode: 0o755 });
    const PATH = process.env.PATH;
    process.env.PATH = `${bin}${path.delimiter}${PATH}`;
    try {
      assert.strictEqual((await captureEnvironment({ workspaceRoot: plain, command: ['node'] })).git, undefined);
    } finally {
      process.env.PATH = PATH;
    }
    assert.ok(!fs.existsSync(path.join(dir, 'git-was-run')));
  });

  it('handles a repository without commits', async function () {
    assert.ok(hasGit, 'these tests need git on PATH (the project is a git repository; CI has it)');
    git('init', '-q');
    fs.writeFileSync(path.join(dir, 'a.txt'), 'a');
    const env = await captureEnvironment({ workspaceRoot: dir, command: ['node'] });
    assert.deepStrictEqual(env.git, { commit: null, branch: 'main', dirty: true, dirtyFiles: ['a.txt'] });
  });

  it('parses porcelain -z output, renames included', () => {
    assert.deepStrictEqual(parsePorcelainZ(' M src/a.py\0R  new.py\0old.py\0?? data/\0'), ['data/', 'new.py', 'src/a.py']);
    assert.deepStrictEqual(parsePorcelainZ(''), []);
  });
});

describe('runner: datasetFingerprint', function () {
  this.timeout(60_000);
  let ws: string;
  before(() => {
    ws = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'edd-data-')));
    fs.mkdirSync(path.join(ws, 'data', 'images'), { recursive: true });
    fs.writeFileSync(path.join(ws, 'data', 'train.csv'), 'x,y\n1,0\n2,1\n');
    fs.writeFileSync(path.join(ws, 'data', 'test.csv'), 'x,y\n3,1\n');
    fs.writeFileSync(path.join(ws, 'data', 'images', 'a.bin'), Buffer.alloc(2 * 1024 * 1024, 3));
  });
  after(() => fs.rmSync(ws, { recursive: true, force: true }));

  it('is stable, independent of the order of the list, and has per-file hashes', async () => {
    const a = await datasetFingerprint(['data/train.csv', 'data/test.csv'], ws);
    const b = await datasetFingerprint(['data/test.csv', './data/train.csv', path.join(ws, 'data/train.csv')], ws);
    assert.deepStrictEqual(a, b);
    assert.match(a.sha256, /^[0-9a-f]{64}$/);
    assert.deepStrictEqual(a.files.map(f => [f.path, f.sizeBytes]), [['data/test.csv', 8], ['data/train.csv', 12]]);
    assert.strictEqual(a.totalBytes, 20);
    assert.strictEqual(a.files[1].sha256, createHash('sha256').update('x,y\n1,0\n2,1\n').digest('hex'));
  });

  it('changes when one byte changes, and when a file is renamed', async () => {
    const before = await datasetFingerprint(['data/train.csv', 'data/test.csv'], ws);
    const file = path.join(ws, 'data', 'train.csv');
    const original = fs.readFileSync(file);
    try {
      const changed = Buffer.from(original);
      changed[5] = changed[5] ^ 1;
      fs.writeFileSync(file, changed);
      const after = await datasetFingerprint(['data/train.csv', 'data/test.csv'], ws);
      assert.notStrictEqual(after.sha256, before.sha256);
      assert.strictEqual(after.files[0].sha256, before.files[0].sha256, 'test.csv unchanged');
      assert.notStrictEqual(after.files[1].sha256, before.files[1].sha256);
    } finally {
      fs.writeFileSync(file, original);
    }
    assert.strictEqual((await datasetFingerprint(['data/train.csv', 'data/test.csv'], ws)).sha256, before.sha256, 'back to the original');
    fs.copyFileSync(path.join(ws, 'data', 'test.csv'), path.join(ws, 'data', 'test2.csv'));
    try {
      const renamed = await datasetFingerprint(['data/train.csv', 'data/test2.csv'], ws);
      assert.notStrictEqual(renamed.sha256, before.sha256);
    } finally {
      fs.rmSync(path.join(ws, 'data', 'test2.csv'));
    }
  });

  it('expands a folder to the files below it', async () => {
    const fp = await datasetFingerprint(['data'], ws);
    assert.deepStrictEqual(fp.files.map(f => f.path), ['data/images/a.bin', 'data/test.csv', 'data/train.csv']);
    assert.strictEqual(fp.totalBytes, 2 * 1024 * 1024 + 20);
  });

  it('names a missing file, refuses paths outside the workspace', async () => {
    await assert.rejects(datasetFingerprint(['data/train.csv', 'data/missing.csv'], ws), (e: unknown) =>
      e instanceof DatasetError && e.code === 'not-found' && e.file === 'data/missing.csv' && /dataset file not found: data\/missing\.csv/.test(e.message));
    for (const p of ['../secret.csv', '/etc/hostname', 'data/../../x.csv', '.']) {
      await assert.rejects(datasetFingerprint([p], ws), (e: unknown) => e instanceof DatasetError && e.code === 'outside-workspace' && e.message.includes(p), p);
    }
  });
});
