import * as assert from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const root = path.resolve(__dirname, '../../..');
const cli = path.join(root, 'dist/cli.js');

/**
 * The end of `npm start` (examples/penguins/gate-demo.js) in a copy of the example: trains the three candidates with
 * `edd run`, then the gates and the registry loop. It must end as the README says, and again when run a second time.
 */
describe('example: npm start\'s gate and registry demo', function () {
  this.timeout(180_000);
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edd-demo-'));
    fs.cpSync(path.join(root, 'examples'), path.join(dir, 'examples'), { recursive: true });
    // The configs name node_modules/vega-datasets/data/penguins.json, and a config's data files must really be inside
    // the workspace (no symbolic link out of it): that package is copied, the others (onnxruntime-node…) linked.
    fs.mkdirSync(path.join(dir, 'node_modules'));
    for (const name of fs.readdirSync(path.join(root, 'node_modules'))) {
      const from = path.join(root, 'node_modules', name);
      if (name === 'vega-datasets') fs.cpSync(fs.realpathSync(from), path.join(dir, 'node_modules', name), { recursive: true });
      else fs.symlinkSync(from, path.join(dir, 'node_modules', name), 'dir');
    }
    fs.mkdirSync(path.join(dir, 'dist'));
    for (const f of fs.readdirSync(path.join(root, 'dist'))) {
      if (f.endsWith('.js') || f.endsWith('.wasm')) fs.copyFileSync(path.join(root, 'dist', f), path.join(dir, 'dist', f));
    }
    for (const config of ['baseline', 'short-training', 'higher-lr']) {
      const r = spawnSync(process.execPath, [cli, 'run', `examples/penguins/experiments/${config}.yaml`, '--quiet'], { cwd: dir, encoding: 'utf8' });
      assert.strictEqual(r.status, 0, `${config}: ${r.stderr}`);
    }
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const demo = () => spawnSync(process.execPath, ['examples/penguins/gate-demo.js'], { cwd: dir, encoding: 'utf8', env: { ...process.env, EDD_USER: 'Demo <demo@example.com>' } });
  const json = (args: string[]) => JSON.parse(spawnSync(process.execPath, [cli, ...args, '--json'], { cwd: dir, encoding: 'utf8' }).stdout);

  it('gates, refuses the failed version, promotes, shadows, rolls back, and prints the history', () => {
    const r = demo();
    assert.strictEqual(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /→ exit 1: refused by its failed gate, as expected/);
    assert.match(r.stderr, /Promotion of penguins@2 to production refused: its latest gate/);
    assert.match(r.stdout, /Shadow evaluation of penguins@2 against penguins@3 on 100 rows/);
    const [model] = json(['models', 'penguins']);
    assert.deepStrictEqual(model.versions.map((v: { version: number; stage: string; gate: string; aliases: string[] }) => [v.version, v.stage, v.gate, v.aliases]),
      [[3, 'archived', 'passed', []], [2, 'none', 'failed', []], [1, 'production', 'passed', ['champion']]]);
    assert.deepStrictEqual(json(['audit', 'penguins']).map((e: { action: string; version: number }) => `${e.action} v${e.version}`), [
      'register v1', 'register v2', 'register v3', 'promote-refused v2', 'promote v1', 'alias v1', 'archive v1', 'promote v3', 'archive v3', 'rollback v1',
    ]);
  });

  it('runs again to the same end (the same files name the same versions)', () => {
    const r = demo();
    assert.strictEqual(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /penguins@1 \(already registered\)/);
    const [model] = json(['models', 'penguins']);
    assert.strictEqual(model.versions.length, 3);
    assert.strictEqual(model.production_version, 1);
  });
});
