import * as assert from 'assert';
import { execFile, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { cloneExample } from './exampleFixtures';

const root = path.resolve(__dirname, '../../..');
const cli = path.join(root, 'dist/cli.js');

/**
 * The end of `npm start` (examples/penguins/gate-demo.js, then serve-demo.js) in a copy of the example: trains the
 * three candidates with `edd run`, then the gates and the registry loop. It must end as the README says, and again
 * when run a second time; then the serving demo: traffic, a drifted segment, two canaries.
 */
describe('example: npm start\'s gate, registry and serving demo', function () {
  this.timeout(180_000);
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edd-demo-'));
    cloneExample(dir);
    fs.mkdirSync(path.join(dir, 'dist'));
    for (const f of fs.readdirSync(path.join(root, 'dist'))) {
      if (f.endsWith('.js') || f.endsWith('.wasm')) fs.copyFileSync(path.join(root, 'dist', f), path.join(dir, 'dist', f));
    }
    fs.cpSync(path.join(root, 'dist', 'cli'), path.join(dir, 'dist', 'cli'), { recursive: true }); // the CLI's chunks
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

  it('serves production, rolls one canary back by a guard and promotes another, with the drift in the log', async () => {
    // Async: the demo's server and load generator are other processes, and this one must not block while they run.
    const r = await new Promise<{ status: number | null; stdout: string; stderr: string }>(resolve => {
      execFile(process.execPath, ['examples/penguins/serve-demo.js'], { cwd: dir, encoding: 'utf8', env: { ...process.env, EDD_USER: 'Demo <demo@example.com>' } }, (err, stdout, stderr) => {
        resolve({ status: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
      });
    });
    assert.strictEqual(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /Serving penguins version 1 at http:\/\/127\.0\.0\.1:\d+/);
    assert.match(r.stdout, /→ canary of penguins@2: (rolled_back|refused) as expected/);
    assert.match(r.stdout, /→ canary of penguins@3: promoted as expected/);
    assert.match(r.stdout, /→ \d+ requests in all, 0 failed/);
    // edd monitor over the log: the drifted segment's alert on flipper_length_mm
    assert.match(r.stdout, /\$ edd monitor [^\n]*--check[\s\S]*Alerts:[\s\S]*flipper_length_mm/);
    const audit = json(['audit', 'penguins']) as Array<{ action: string; version: number; reason: string; details: { decision?: string; report?: { breached: string[] } } }>;
    const v2 = audit.filter(e => e.action === 'canary' && e.version === 2).at(-1)!;
    assert.ok(['rollback', 'refused'].includes(v2.details.decision!), JSON.stringify(v2));
    if (v2.details.decision === 'rollback') {
      assert.match(v2.reason, /rolled back at \d+%: Guard breached: /);
      assert.ok(v2.details.report!.breached.length > 0);
    }
    assert.ok(audit.some(e => e.action === 'promote' && e.version === 3 && /canary of version 3 passed every step/.test(e.reason)));
    // The demo puts the registry back as gate-demo.js leaves it.
    assert.strictEqual(json(['models', 'penguins'])[0].production_version, 1);
    // The log: canary answers, and the drifted segment's flipper_length_mm well above the normal traffic's.
    const logDir = path.join(dir, '.edd/serving/penguins');
    const records = fs.readdirSync(logDir).filter(f => f.endsWith('.jsonl')).sort()
      .flatMap(f => fs.readFileSync(path.join(logDir, f), 'utf8').split('\n').filter(Boolean).map(l => JSON.parse(l) as { type: string; slot?: string; inputs?: { flipper_length_mm: number } }));
    const predictions = records.filter(x => x.type === 'prediction');
    assert.ok(predictions.some(x => x.slot === 'canary'));
    const mean = (xs: Array<{ inputs?: { flipper_length_mm: number } }>) => xs.reduce((a, x) => a + x.inputs!.flipper_length_mm, 0) / xs.length;
    const served = predictions.filter(x => x.slot !== 'shadow');
    assert.ok(mean(served.slice(-300)) - mean(served.slice(0, 400)) > 15, 'the drifted segment (the last 300 answers) is in the log');
  });
});
