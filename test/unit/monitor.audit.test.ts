import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { RunStore } from '../../src/core/store';
import { HOUR, penguins, records, workspace, writeSegment, type PenguinRow } from './monitor.fixtures';
import { edd, tamper } from './registryFixtures';

/** A model that favours Adelie for males (as in monitor.cli.test.ts): demographic parity is broken by sex. */
function biasedBySex(r: PenguinRow): { prediction: string; probabilities: number[] } {
  const p = Math.min(0.95, (r.species === 'Adelie' ? 0.7 : 0.2) + (r.sex === 'MALE' ? 0.25 : -0.15));
  const rest = (1 - p) / 2;
  const probabilities = [p, r.species === 'Gentoo' ? rest * 0.5 : rest * 1.5, r.species === 'Gentoo' ? rest * 1.5 : rest * 0.5];
  return { prediction: ['Adelie', 'Chinstrap', 'Gentoo'][probabilities.indexOf(Math.max(...probabilities))], probabilities };
}

/** A store where penguins v2 is in production (v1 archived), as `edd serve` would serve it. */
async function registry(dir: string): Promise<string> {
  const file = path.join(dir, '.edd/edd.sqlite');
  const store = await RunStore.open(file, { autoSave: false });
  try {
    for (const digit of ['1', '2']) {
      const v = store.registerModelVersion({ model: 'penguins', file: `models/penguins/${digit}.onnx`, sha256: digit.repeat(64), size: 1, actor: 'setup' });
      store.setModelStage({ versionId: v.id, to: 'production', actor: 'setup' });
    }
    await store.save();
  } finally {
    await store.close();
  }
  return file;
}

interface Entry { seq: number; action: string; model: string; version: number | null; actor: string; reason: string | null; details: Record<string, unknown> }

describe('edd monitor: applied thresholds go into the audit log (issue 13 item 6)', function () {
  this.timeout(60000);
  let dir: string;
  beforeEach(() => {
    dir = workspace();
    const a = Math.floor((Date.now() - 3 * HOUR) / HOUR) * HOUR;
    writeSegment(dir, records(penguins(), { start: a, step: 10_000, feedback: true, predict: biasedBySex }), a);
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('--apply records a `thresholds` entry with the served version and the numbers; verify passes; a rewrite is detected', async () => {
    const storeFile = await registry(dir);
    const apply = await edd(['monitor', 'penguins.service.yaml', '--suggest-thresholds', '--apply', '--json', '--user', 'Tester <t@example.com>', '--reason', 'parity alert'], dir);
    assert.strictEqual(apply.code, 0, apply.stderr + apply.stdout);
    const s = JSON.parse(apply.stdout);
    assert.ok(s.applied && s.audit, apply.stdout);

    const log = JSON.parse((await edd(['audit', 'penguins', '--json'], dir)).stdout) as Entry[];
    const e = log[log.length - 1];
    assert.deepStrictEqual([e.seq, e.action, e.model, e.version, e.actor, e.reason], [s.audit.seq, 'thresholds', 'penguins', 2, 'Tester <t@example.com>', 'parity alert']);
    assert.deepStrictEqual(e.details, {
      spec: 'penguins.service.yaml', served: 'production', column: 'sex', metric: 'demographic_parity_difference', bound: 0.1, positive_class: 'Adelie',
      rows: s.rows, thresholds: s.thresholds, previous: null, before: s.before, after: s.after, auto: false,
    });
    const written = fs.readFileSync(path.join(dir, 'penguins.service.yaml'), 'utf8');
    for (const [group, th] of Object.entries(s.thresholds as Record<string, number>)) assert.ok(written.includes(`${group}: ${th}`), written);

    const text = await edd(['audit'], dir);
    assert.match(text.stdout, /#\d+ .* penguins {2}thresholds for v2 written to penguins\.service\.yaml \(sex: .*FEMALE [\d.]+, MALE [\d.]+\); demographic_parity_difference [\d.]+ → [\d.]+, accuracy [\d.]+ → [\d.]+ {2}by Tester/);
    const verify = await edd(['audit', '--verify'], dir);
    assert.strictEqual(verify.code, 0, verify.stdout + verify.stderr);
    assert.match(verify.stdout, /^Audit log OK: 6 entries/);

    // Making the numbers look better after the fact breaks the entry's hash.
    await tamper(storeFile, `UPDATE audit_log SET details = replace(details, '"auto":false', '"auto":true') WHERE action = 'thresholds'`);
    const broken = await edd(['audit', '--verify', '--json'], dir);
    assert.strictEqual(broken.code, 1, broken.stdout);
    const v = JSON.parse(broken.stdout);
    assert.deepStrictEqual([v.ok, v.problem.kind, v.problem.entry.action, v.problem.entry.seq], [false, 'content', 'thresholds', s.audit.seq]);
  });

  it('auto_correct: true records the entry too (auto), and a second apply names the thresholds it replaced', async () => {
    await registry(dir);
    const spec = path.join(dir, 'penguins.service.yaml');
    fs.writeFileSync(spec, fs.readFileSync(spec, 'utf8').replace('auto_correct: false', 'auto_correct: true'));
    const r = await edd(['monitor', 'penguins.service.yaml'], dir, { EDD_USER: 'cron' });
    assert.strictEqual(r.code, 0, r.stderr);
    assert.match(r.stdout, /Recorded in the audit log as entry #6\./);
    const first = (JSON.parse((await edd(['audit', '--json'], dir)).stdout) as Entry[]).at(-1)!;
    assert.deepStrictEqual([first.action, first.version, first.actor, first.details.auto], ['thresholds', 2, 'cron', true]);

    // The log still shows the bias (the thresholds act on new predictions only), so a second run fits them again.
    const again = await edd(['monitor', 'penguins.service.yaml', '--suggest-thresholds', '--apply'], dir, { EDD_USER: 'cron' });
    assert.strictEqual(again.code, 0, again.stderr + again.stdout);
    assert.match(again.stdout, /audit log entry #7/);
    const second = (JSON.parse((await edd(['audit', '--json'], dir)).stdout) as Entry[]).at(-1)!;
    assert.deepStrictEqual(second.details.previous, first.details.thresholds);
    assert.strictEqual((await edd(['audit', '--verify'], dir)).code, 0);
  });

  it('without a registered model the entry names no version (the store is made for it)', async () => {
    const apply = await edd(['monitor', 'penguins.service.yaml', '--suggest-thresholds', '--apply', '--json'], dir, { EDD_USER: 'batch' });
    assert.strictEqual(apply.code, 0, apply.stderr);
    const log = JSON.parse((await edd(['audit', '--json'], dir)).stdout) as Entry[];
    assert.deepStrictEqual(log.map(e => [e.action, e.model, e.version]), [['thresholds', 'penguins', null]]);
    assert.match((await edd(['audit'], dir)).stdout, /thresholds for v— written to penguins\.service\.yaml/);
  });
});
