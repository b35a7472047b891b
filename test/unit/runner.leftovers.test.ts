import * as assert from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { hashPath, HashLimitError } from '../../src/core/runner/hash';
import { processesOfRun } from '../../src/core/runner/procfs';
import { stopRunProcesses } from '../../src/core/runner/reap';
import { RunEvent, RunOptions, startRun } from '../../src/core/runner/runner';
import { alive, DOUBLE_FORK, until, killAll } from './processes';

const node = process.execPath;
const linux = process.platform === 'linux';


describe('runner: leftovers and artifacts that never end', function () {
  this.timeout(60_000);
  let ws: string;
  let n = 0;
  const leftovers: number[] = [];

  before(() => (ws = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'edd-left-')))));
  after(() => {
    killAll(leftovers);
    fs.rmSync(ws, { recursive: true, force: true });
  });

  function start(script: string, extra: Partial<RunOptions> = {}) {
    const id = `left${++n}-${process.pid}`;
    const events: RunEvent[] = [];
    const handle = startRun({
      command: [node, '-e', script],
      workspaceRoot: ws,
      runId: id,
      artifactDir: `.edd/runs/${id}/artifacts`,
      metricsFile: `.edd/runs/${id}/metrics.jsonl`,
      onEvent: e => events.push(e),
      ...extra,
    });
    if (handle.pid !== undefined) leftovers.push(handle.pid);
    return { handle, events, id };
  }

  it('stops a descendant that left the process group and the tree (double fork + setsid) when the run ends', async function () {
    if (!linux) this.skip();
    // The sampler runs once a minute here, so only the EDD_RUN_ID in the sleeper's environment can find it.
    const r = start(
      `setTimeout(() => { const o = require('child_process').spawnSync(process.execPath, ['-e', ${JSON.stringify(DOUBLE_FORK)}]);` +
        ` console.log('EDD ' + JSON.stringify({ param: 'sleeper', value: Number(String(o.stdout).trim()) })); }, 300);`,
      { memorySampleMs: 60_000, killGraceMs: 1000 },
    );
    const out = await r.handle.done;
    assert.strictEqual(out.status, 'finished');
    const param = r.events.find(e => e.type === 'param');
    assert.ok(param && param.type === 'param', 'the sleeper pid was reported');
    const sleeper = param.value as number;
    leftovers.push(sleeper);
    assert.ok(!alive(sleeper), `the escaped sleeper ${sleeper} is gone when the run is over`);
    assert.deepStrictEqual(processesOfRun(r.id), []);
  });

  it('stopRunProcesses finds a run by EDD_RUN_ID, never this process, and leaves other runs alone', async function () {
    if (!linux) this.skip();
    const mine = spawnSync(node, ['-e', DOUBLE_FORK], { env: { ...process.env, EDD_RUN_ID: 'sweep-a' }, encoding: 'utf8' });
    const other = spawnSync(node, ['-e', DOUBLE_FORK], { env: { ...process.env, EDD_RUN_ID: 'sweep-a2' }, encoding: 'utf8' });
    const [a, b] = [Number(mine.stdout.trim()), Number(other.stdout.trim())];
    leftovers.push(a, b);
    await until(() => processesOfRun('sweep-a').length === 1, 'the sleeper of run sweep-a to be found');
    const stopped = await stopRunProcesses('sweep-a', { graceMs: 1000 });
    assert.deepStrictEqual(stopped, [a]);
    assert.ok(!alive(a));
    assert.ok(alive(b), 'a run whose id merely starts with the same text is not touched');
    process.kill(b, 'SIGKILL');
  });

  it('ends promptly with a clear error for an artifact that is a link to /dev/zero or a FIFO', async function () {
    if (!linux) this.skip();
    const t0 = Date.now();
    const r = start(
      `const fs = require('fs'), path = require('path'), d = process.env.EDD_ARTIFACT_DIR;` +
        `fs.symlinkSync('/dev/zero', path.join(d, 'zero.bin'));` +
        `require('child_process').execFileSync('mkfifo', [path.join(d, 'pipe.bin')]);` +
        `for (const f of ['zero.bin', 'pipe.bin']) console.log('EDD ' + JSON.stringify({ artifact: path.join(d, f) }));`,
    );
    const out = await r.handle.done;
    assert.strictEqual(out.status, 'finished');
    assert.ok(Date.now() - t0 < 15_000, 'the run ended');
    const [zero, pipe] = out.artifacts;
    assert.match(zero.error!, /^not hashed: .*zero\.bin is a link to a place outside the workspace$/);
    assert.match(pipe.error!, /^not hashed: .*pipe\.bin is a FIFO \(named pipe\), not a regular file$/);
    assert.strictEqual(zero.sha256, undefined);
  });

  it('follows links only inside the workspace and bounds the bytes hashed', async () => {
    const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'edd-outside-'));
    try {
      fs.writeFileSync(path.join(outside, 'big.bin'), Buffer.alloc(4096, 1));
      const r = start(
        `const fs = require('fs'), path = require('path'), d = process.env.EDD_ARTIFACT_DIR;` +
          `fs.symlinkSync(${JSON.stringify(outside)}, path.join(d, 'tree'));` +
          `fs.mkdirSync(path.join(d, 'folder')); fs.writeFileSync(path.join(d, 'folder', 'a.txt'), 'abc');` +
          `fs.symlinkSync(${JSON.stringify(outside)}, path.join(d, 'folder', 'data'));` +
          `fs.writeFileSync(path.join(d, 'large.bin'), Buffer.alloc(5000));` +
          `for (const f of ['tree', 'folder', 'large.bin']) console.log('EDD ' + JSON.stringify({ artifact: path.join(d, f) }));`,
        { hashLimits: { maxBytes: 1000 } },
      );
      const out = await r.handle.done;
      const [tree, folder, large] = out.artifacts;
      assert.match(tree.error!, /^not hashed: .*\/tree is a link to a place outside the workspace$/);
      assert.strictEqual(folder.sizeBytes, 3, 'only the file inside the workspace');
      assert.strictEqual(folder.files, 1);
      assert.match(folder.warning!, /links that lead outside the workspace were not followed: data/);
      assert.match(large.error!, /^not hashed: .*large\.bin is larger than the limit of 1000 bytes$/);
    } finally {
      fs.rmSync(outside, { recursive: true, force: true });
    }
  });

  it('cancel during the hashing of a huge artifact ends the run at once, with the artifact unhashed', async function () {
    if (!linux) this.skip();
    // 40 GiB of holes: reading them takes tens of seconds, storing them nothing.
    const r = start(
      `const fs = require('fs'), path = require('path'), f = path.join(process.env.EDD_ARTIFACT_DIR, 'huge.bin');` +
        `fs.closeSync(fs.openSync(f, 'w')); fs.truncateSync(f, 40 * 1024 ** 3);` +
        `console.log('EDD ' + JSON.stringify({ artifact: f }));`,
    );
    const huge = path.join(ws, `.edd/runs/${r.id}/artifacts/huge.bin`);
    // Hashing has begun when this process holds the file open.
    const open = () => {
      try {
        return fs.readdirSync('/proc/self/fd').some(fd => {
          try {
            return fs.readlinkSync(`/proc/self/fd/${fd}`) === huge;
          } catch {
            return false;
          }
        });
      } catch {
        return false;
      }
    };
    await until(open, 'the hashing of huge.bin to start', 20_000);
    const t0 = Date.now();
    r.handle.cancel();
    const out = await r.handle.done;
    assert.ok(Date.now() - t0 < 5000, `the run ended ${Date.now() - t0} ms after cancel`);
    assert.strictEqual(out.artifacts[0].error, 'not hashed: cancelled');
  });

  it('hashPath refuses a FIFO without waiting for a writer, and a link outside `within`', async function () {
    if (!linux) this.skip();
    const fifo = path.join(ws, 'lonely.fifo');
    spawnSync('mkfifo', [fifo]);
    await assert.rejects(hashPath(fifo), (e: unknown) => e instanceof HashLimitError && e.code === 'not-regular' && e.what === 'a FIFO (named pipe)');
    fs.symlinkSync('/dev/zero', path.join(ws, 'zero-link'));
    await assert.rejects(hashPath(path.join(ws, 'zero-link')), (e: unknown) => e instanceof HashLimitError && e.code === 'not-regular' && e.what === 'a character device');
    fs.symlinkSync(os.tmpdir(), path.join(ws, 'tmp-link'));
    await assert.rejects(hashPath(path.join(ws, 'tmp-link'), { within: ws }), (e: unknown) => e instanceof HashLimitError && e.code === 'outside');
  });
});
