import * as assert from 'assert';
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { validateExperiment } from '../../src/core/config';
import { HOUR, penguins, records, repo, workspace, writeSegment, type PenguinRow } from './monitor.fixtures';

function edd(args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise(resolve => {
    execFile(process.execPath, [path.join(repo, 'dist/cli.js'), 'monitor', ...args], { cwd, env: { ...process.env, EDD_LOCALE: 'en' } }, (err, stdout, stderr) => {
      resolve({ code: err ? Number(err.code) : 0, stdout, stderr });
    });
  });
}

/** A model that favours Adelie for males: selection rates differ by sex. */
function biasedBySex(r: PenguinRow): { prediction: string; probabilities: number[] } {
  const adelie = r.species === 'Adelie' ? 0.7 : 0.2;
  const p = Math.min(0.95, adelie + (r.sex === 'MALE' ? 0.25 : -0.15));
  const rest = (1 - p) / 2;
  const probabilities = [p, r.species === 'Gentoo' ? rest * 0.5 : rest * 1.5, r.species === 'Gentoo' ? rest * 1.5 : rest * 0.5];
  const prediction = ['Adelie', 'Chinstrap', 'Gentoo'][probabilities.indexOf(Math.max(...probabilities))];
  return { prediction, probabilities };
}

const hourAgo = (h: number) => Math.floor((Date.now() - h * HOUR) / HOUR) * HOUR;

describe('edd monitor (the CLI, as a real process)', function () {
  this.timeout(60000);
  let dir: string;
  beforeEach(() => { dir = workspace(); });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('--check exits 0 on a quiet log and 1 when an alert fires; --json has the windows and alerts', async () => {
    const rows = penguins();
    const a = hourAgo(4);
    writeSegment(dir, records(rows, { start: a, step: 10_000, feedback: true, tag: 'a' }), a);
    const quiet = await edd(['penguins.service.yaml', '--since', '24h', '--check'], dir);
    assert.strictEqual(quiet.code, 0, quiet.stderr + quiet.stdout);
    assert.match(quiet.stdout, /No alerts\./);
    const drifted = rows.map(r => ({ ...r, flipper_length_mm: r.flipper_length_mm === null ? null : Number(r.flipper_length_mm) + 25 }));
    writeSegment(dir, records(drifted, { start: a + HOUR, step: 10_000, tag: 'b' }), a + HOUR);
    const loud = await edd(['penguins.service.yaml', '--since', '24h', '--check'], dir);
    assert.strictEqual(loud.code, 1, loud.stderr);
    assert.match(loud.stdout, /drift_psi \(flipper_length_mm\) = [\d.]+ is above the alert threshold 0\.2/);
    const json = await edd(['penguins.service.yaml', '--json'], dir);
    assert.strictEqual(json.code, 0, json.stderr);
    const out = JSON.parse(json.stdout);
    assert.strictEqual(out.windows.length, 2);
    assert.strictEqual(out.read.lines, rows.length * 3);
    assert.ok(out.alerts.some((x: { column?: string }) => x.column === 'flipper_length_mm'));
    // without --check an alert is reported but the exit code stays 0
    assert.strictEqual((await edd(['penguins.service.yaml'], dir)).code, 0);
  });

  it('--new-experiment writes a valid experiment config from the alert', async () => {
    const rows = penguins();
    const a = hourAgo(3);
    const drifted = rows.map(r => ({ ...r, flipper_length_mm: r.flipper_length_mm === null ? null : Number(r.flipper_length_mm) + 25 }));
    writeSegment(dir, records(drifted, { start: a, step: 10_000 }), a);
    const r = await edd(['penguins.service.yaml', '--new-experiment', 'experiments/retrain.yaml'], dir);
    assert.strictEqual(r.code, 0, r.stderr);
    const text = fs.readFileSync(path.join(dir, 'experiments/retrain.yaml'), 'utf8');
    assert.match(text, /drift_psi in `flipper_length_mm` since \d{4}-\d\d-\d\d/);
    assert.match(text, /Retraining on the last 30 days restores macro F1/);
    assert.deepStrictEqual(validateExperiment(text).problems.filter(p => p.severity === 'error'), []);
    const again = await edd(['penguins.service.yaml', '--new-experiment', 'experiments/retrain.yaml'], dir);
    assert.strictEqual(again.code, 2);
    assert.match(again.stderr, /exists/);
  });

  it('--suggest-thresholds prints before/after and --apply writes them into the spec', async () => {
    const rows = penguins();
    const a = hourAgo(3);
    writeSegment(dir, records(rows, { start: a, step: 10_000, feedback: true, predict: biasedBySex }), a);
    const show = await edd(['penguins.service.yaml', '--suggest-thresholds', '--metric', 'demographic_parity_difference'], dir);
    assert.strictEqual(show.code, 0, show.stderr + show.stdout);
    assert.match(show.stdout, /before: demographic_parity_difference = [\d.]+/);
    assert.match(show.stdout, /Add --apply/);
    const before = fs.readFileSync(path.join(dir, 'penguins.service.yaml'), 'utf8');
    assert.ok(!before.includes('group_thresholds'));
    const apply = await edd(['penguins.service.yaml', '--suggest-thresholds', '--apply', '--json'], dir);
    assert.strictEqual(apply.code, 0, apply.stderr);
    const s = JSON.parse(apply.stdout);
    assert.ok(s.applied);
    assert.ok(s.before.metric > 0.1 && s.after.metric <= 0.1, JSON.stringify(s));
    const after = fs.readFileSync(path.join(dir, 'penguins.service.yaml'), 'utf8');
    assert.ok(after.includes('group_thresholds:\n    sex:\n'), after);
    assert.ok(after.includes('# reference rows for drift'));
  });

  it('auto_correct: true answers a bias alert by writing the thresholds into the spec', async () => {
    const spec = path.join(dir, 'penguins.service.yaml');
    fs.writeFileSync(spec, fs.readFileSync(spec, 'utf8').replace('auto_correct: false', 'auto_correct: true'));
    const a = hourAgo(3);
    writeSegment(dir, records(penguins(), { start: a, step: 10_000, feedback: true, predict: biasedBySex }), a);
    const r = await edd(['penguins.service.yaml'], dir);
    assert.strictEqual(r.code, 0, r.stderr);
    assert.match(r.stdout, /demographic_parity_difference \(sex\)/);
    assert.match(r.stdout, /auto_correct: wrote per-group thresholds for sex/);
    assert.ok(fs.readFileSync(spec, 'utf8').includes('group_thresholds:\n    sex:\n'));
  });

  it('bad input: usage errors exit 2 with the file and the fix', async () => {
    const none = await edd([], dir);
    assert.strictEqual(none.code, 2);
    const bad = await edd(['penguins.service.yaml', '--since', 'yesterday'], dir);
    assert.strictEqual(bad.code, 2);
    assert.match(bad.stderr, /--since: "yesterday" is not a duration/);
    assert.doesNotMatch(bad.stderr, /at .*\.js:\d+/);
    fs.writeFileSync(path.join(dir, 'penguins.service.yaml'), 'model: penguins\nfeatures: [bill_length_mm]\nmonitoring:\n  reference: data/missing.csv\n');
    const missing = await edd(['penguins.service.yaml'], dir);
    assert.strictEqual(missing.code, 2);
    assert.match(missing.stderr, /data\/missing\.csv: file not found/);
    fs.writeFileSync(path.join(dir, 'penguins.service.yaml'), 'model: penguins\nmonitoring:\n  window: 1h\n');
    const invalid = await edd(['penguins.service.yaml'], dir);
    assert.strictEqual(invalid.code, 2, 'a spec edd serve would refuse is refused here too');
    assert.match(invalid.stderr, /penguins\.service\.yaml:1:1: .*`features`/);
  });
});
