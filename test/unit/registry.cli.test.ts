import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { RunStore } from '../../src/core/store';
import { edd, FIXTURE_MODEL, flippedModel, root } from './registryFixtures';

describe('edd models / register / promote / alias / rollback / audit / shadow (the CLI, as a real process)', function () {
  this.timeout(60_000);
  let dir: string;
  const runs: Record<string, string> = {};

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edd-registry-cli-'));
    fs.cpSync(path.join(root, 'examples/penguins/data'), path.join(dir, 'data'), { recursive: true });
    flippedModel(path.join(dir, 'flipped.onnx'));
    const store = await RunStore.open(RunStore.defaultPath(dir));
    for (const [name, model] of [['good', FIXTURE_MODEL], ['bad', path.join(dir, 'flipped.onnx')]] as const) {
      const r = store.createRun({ experimentId: `exp-${name}`, status: 'finished' });
      store.addMetrics([{ runId: r.id, key: 'val_accuracy', step: 1, value: name === 'good' ? 0.97 : 0.2 }]);
      fs.mkdirSync(path.join(dir, 'runs', r.id), { recursive: true });
      fs.copyFileSync(model, path.join(dir, 'runs', r.id, 'model.onnx'));
      store.addArtifact({ runId: r.id, path: `runs/${r.id}/model.onnx`, kind: 'model', sha256: null, size: null });
      runs[name] = r.id;
    }
    await store.close();
    fs.writeFileSync(path.join(dir, 'penguins.policy.yaml'), `model: penguins
data:
  eval: data/eval.csv
  label: species
  features: [bill_length_mm, bill_depth_mm, flipper_length_mm, body_mass_g]
checks:
  - metric: { name: accuracy, min: 0.9 }
`);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('walks the whole loop: register two versions, refuse the failed one (exit 1), promote, rollback, read the audit log', async () => {
    const empty = await edd(['models'], dir);
    assert.strictEqual(empty.code, 0);
    assert.match(empty.stdout, /No models registered/);

    const r1 = await edd(['register', runs.good.slice(0, 8), '--model', 'penguins', '--json'], dir);
    assert.strictEqual(r1.code, 0, r1.stderr);
    const v1 = JSON.parse(r1.stdout);
    assert.deepStrictEqual([v1.model, v1.version, v1.stage, v1.run_id], ['penguins', 1, 'none', runs.good]);
    const r2 = await edd(['register', '--experiment', 'exp-bad', '--model', 'penguins'], dir);
    assert.strictEqual(r2.code, 0, r2.stderr);
    assert.match(r2.stdout, /Registered penguins@2 from run/);

    // gate both; the reports are stored with the versions
    assert.strictEqual((await edd(['gate', 'penguins.policy.yaml', '--model', 'penguins@1'], dir)).code, 0);
    assert.strictEqual((await edd(['gate', 'penguins.policy.yaml', '--model', 'penguins@2'], dir)).code, 1);
    const models = JSON.parse((await edd(['models', '--json'], dir)).stdout);
    assert.deepStrictEqual(models[0].versions.map((v: { version: number; gate: string }) => [v.version, v.gate]), [[2, 'failed'], [1, 'passed']]);

    const refused = await edd(['promote', 'penguins@2', '--to', 'production', '--reason', 'ship'], dir);
    assert.strictEqual(refused.code, 1);
    assert.match(refused.stderr, /Promotion of penguins@2 to production refused: its latest gate \(penguins\.policy\.yaml, .*\) failed: 1-metric accuracy ≥ 0\.9/);
    const noReason = await edd(['promote', 'penguins@1', '--to', 'production'], dir);
    assert.strictEqual(noReason.code, 2);
    assert.match(noReason.stderr, /needs a reason/);
    const p1 = await edd(['promote', 'penguins@1', '--to', 'production', '--reason', 'passed its gate', '--alias', 'champion'], dir);
    assert.strictEqual(p1.code, 0, p1.stderr);
    assert.match(p1.stdout, /penguins@1 is now in production \(gate: passed; by Tester <t@example\.com>\)/);
    const forced = await edd(['promote', 'penguins@2', '--to', 'production', '--force', '--reason', 'hotfix, accepted by the lead', '--user', 'Lead <lead@example.com>'], dir);
    assert.strictEqual(forced.code, 0, forced.stderr);
    assert.match(forced.stdout, /penguins@1 was archived\./);
    assert.match(forced.stdout, /Overridden \(recorded in the audit log\)/);
    const rb = await edd(['rollback', 'penguins', '--reason', 'accuracy dropped'], dir);
    assert.strictEqual(rb.code, 0, rb.stderr);
    assert.match(rb.stdout, /Rolled back penguins: v1 is in production again, v2 was archived\./);
    const again = await edd(['rollback', 'penguins'], dir);
    assert.strictEqual(again.code, 2);

    const audit = JSON.parse((await edd(['audit', 'penguins', '--json'], dir)).stdout);
    assert.deepStrictEqual(audit.map((e: { action: string; version: number }) => `${e.action} v${e.version}`), [
      'register v1', 'register v2', 'promote-refused v2', 'promote v1', 'alias v1', 'archive v1', 'promote v2', 'archive v2', 'rollback v1',
    ]);
    const forcedEntry = audit[6];
    assert.deepStrictEqual([forcedEntry.forced, forcedEntry.actor, forcedEntry.reason, forcedEntry.details.gate], [true, 'Lead <lead@example.com>', 'hotfix, accepted by the lead', 'failed']);
    const text = await edd(['audit'], dir);
    assert.match(text.stdout, /promote v2 none → production \[FORCED over a failed or missing gate\] {2}by Lead <lead@example\.com> — hotfix, accepted by the lead/);

    const shadow = await edd(['shadow', 'penguins@2', '--json'], dir);
    assert.strictEqual(shadow.code, 1, shadow.stderr);
    const s = JSON.parse(shadow.stdout);
    assert.deepStrictEqual(s.production, { model: 'penguins', version: 1 });
    assert.ok(s.measured.agreement_rate < 0.9 && s.measured.mcnemar_p_value < 0.001, JSON.stringify(s.measured));
    assert.strictEqual(s.evidence.disagreements.length, Math.min(50, s.evidence.disagreement_count));
  });

  it('bad references and usage: exit 2 with what to do', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['promote', 'penguins@9', '--to', 'staging'], /Model penguins has no version 9 \(versions: 2, 1\)/],
      [['promote', 'nope@1', '--to', 'staging'], /There is no model nope in the registry \(models: penguins\)/],
      [['promote', 'penguins@1', '--to', 'prod'], /--to must be staging, production or archived/],
      [['promote', '@1', '--to', 'staging'], /is not a model reference/],
      [['register', 'zzzz', '--model', 'penguins'], /No run with id zzzz/],
      [['register', runs.good], /Usage: edd register/],
      [['alias', 'penguins@1', '42'], /cannot be an alias/],
      [['models', '--bogus'], /Unknown option --bogus/],
    ];
    for (const [args, message] of cases) {
      const r = await edd(args, dir);
      assert.strictEqual(r.code, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, message, args.join(' '));
    }
    const noStore = fs.mkdtempSync(path.join(os.tmpdir(), 'edd-nostore-'));
    try {
      const r = await edd(['models'], noStore);
      assert.strictEqual(r.code, 2);
      assert.match(r.stderr, /No run store at \.edd\/edd\.sqlite/);
    } finally {
      fs.rmSync(noStore, { recursive: true, force: true });
    }
  });
});
