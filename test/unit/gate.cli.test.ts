import * as assert from 'assert';
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const root = path.resolve(__dirname, '../../..');

function gate(args: string[], cwd: string, env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise(resolve => {
    execFile(process.execPath, [path.join(root, 'dist/cli.js'), 'gate', ...args], { cwd, env: { ...process.env, ...env } }, (err, stdout, stderr) => {
      resolve({ code: err ? Number(err.code) : 0, stdout, stderr });
    });
  });
}

/** A workspace with the example's gate data, a trained penguins model, and policies written by the tests. */
function workspace(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edd-gate-'));
  fs.cpSync(path.join(root, 'examples/penguins/data'), path.join(dir, 'data'), { recursive: true });
  fs.copyFileSync(path.join(root, 'test/fixtures/workspace/models/penguins.onnx'), path.join(dir, 'model.onnx'));
  return dir;
}

const policy = (checks: string, features = '[bill_length_mm, bill_depth_mm, flipper_length_mm, body_mass_g]') => `data:
  eval: data/eval.csv
  reference: data/reference.csv
  label: species
  features: ${features}
checks:
${checks}`;

describe('edd gate (the CLI, as a real process)', function () {
  this.timeout(60000);
  let dir: string;
  before(() => { dir = workspace(); });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('passes (exit 0) and reports measured values under scikit-learn/Fairlearn/scipy names, with JUnit', async () => {
    fs.writeFileSync(path.join(dir, 'ok.policy.yaml'), policy(`  - metric: { name: f1, average: macro, min: 0.8 }
  - output: { shape: [null, 3], range: [0, 1], sum_to_one: true, finite: true }
  - bias: { sensitive: sex, positive_label: Adelie, demographic_parity_difference: { max: 0.5 } }
  - drift: { columns: [bill_length_mm, body_mass_g], ks: { alpha: 0.001 } }
  - data_schema: { file: data/penguins.data.yaml }
  - size: { max_mb: 1 }
`));
    const r = await gate(['ok.policy.yaml', '--onnx', 'model.onnx', '--json', '--junit', 'gate.xml'], dir);
    assert.strictEqual(r.code, 0, r.stdout + r.stderr);
    const report = JSON.parse(r.stdout);
    assert.strictEqual(report.passed, true);
    const byKind = Object.fromEntries(report.checks.map((c: { kind: string }) => [c.kind, c]));
    assert.ok(byKind.metric.measured.f1 >= 0.8);
    assert.ok('demographic_parity_difference' in byKind.bias.measured);
    const col = byKind.drift.measured.columns.bill_length_mm;
    assert.ok('ks_statistic' in col && 'ks_p_value' in col, JSON.stringify(col));
    assert.ok(byKind.size.measured.model_size_bytes > 0);
    const xml = fs.readFileSync(path.join(dir, 'gate.xml'), 'utf8');
    assert.strictEqual((xml.match(/<testcase /g) ?? []).length, 6);
    assert.match(xml, /failures="0" errors="0"/);
  });

  it('fails (exit 1) for the right reason, and JUnit lists the failure', async () => {
    fs.writeFileSync(path.join(dir, 'strict.policy.yaml'), policy(`  - rule: { when: "island == 'Torgersen'", expect: "pred == 'Gentoo'" }
  - metric: { name: accuracy, min: 0.5 }
`));
    const r = await gate(['strict.policy.yaml', '--onnx', 'model.onnx', '--junit', 'strict.xml'], dir);
    assert.strictEqual(r.code, 1);
    assert.match(r.stdout, /✖ fail {2}1-rule/);
    assert.match(r.stdout, /✔ pass {2}2-metric/);
    assert.match(r.stdout, /FAILED: 1 failed, 0 error\(s\), 1 passed\./);
    assert.match(fs.readFileSync(path.join(dir, 'strict.xml'), 'utf8'), /<failure message="[^"]+" type="rule">/);
  });

  it('gates a predictions file made elsewhere', async () => {
    const rows = fs.readFileSync(path.join(dir, 'data/eval.csv'), 'utf8').trim().split('\n').slice(1);
    fs.writeFileSync(path.join(dir, 'preds.csv'), ['y_true,y_pred', ...rows.map(l => { const c = l.split(','); return `${c[5]},${c[5]}`; })].join('\n') + '\n');
    fs.writeFileSync(path.join(dir, 'pred.policy.yaml'), policy('  - metric: { name: accuracy, min: 0.99 }\n'));
    const r = await gate(['pred.policy.yaml', '--predictions', 'preds.csv', '--json'], dir);
    assert.strictEqual(r.code, 0, r.stdout + r.stderr);
    assert.strictEqual(JSON.parse(r.stdout).checks[0].measured.accuracy, 1);
  });

  it('runs a data-only policy with no model, no label and no predictions: exit 0 when clean, 1 when drift is found', async () => {
    const dataOnly = (evalFile: string) => `data:
  eval: ${evalFile}
  reference: data/reference.csv
checks:
  - data_schema: { file: data/penguins.data.yaml }
  - drift: { columns: [bill_length_mm, body_mass_g], ks: { alpha: 0.001 } }
  - anomalies: { method: iqr, k: 3, max_rate: 0.05 }
`;
    fs.writeFileSync(path.join(dir, 'data.policy.yaml'), dataOnly('data/eval.csv'));
    const clean = await gate(['data.policy.yaml', '--json'], dir);
    assert.strictEqual(clean.code, 0, clean.stdout + clean.stderr);
    const report = JSON.parse(clean.stdout);
    assert.deepStrictEqual(report.checks.map((c: { kind: string; status: string }) => `${c.kind} ${c.status}`), ['data_schema pass', 'drift pass', 'anomalies pass']);
    assert.deepStrictEqual(report.candidate, {});
    // the same data with body mass 600 g higher: drift, and the gate stops the pipeline
    const lines = fs.readFileSync(path.join(dir, 'data/eval.csv'), 'utf8').trim().split('\n');
    const heavier = [lines[0], ...lines.slice(1).map(l => { const c = l.split(','); c[4] = String(Number(c[4]) + 600); return c.join(','); })];
    fs.writeFileSync(path.join(dir, 'data/heavier.csv'), heavier.join('\n') + '\n');
    fs.writeFileSync(path.join(dir, 'drifted.policy.yaml'), dataOnly('data/heavier.csv'));
    const drifted = await gate(['drifted.policy.yaml'], dir);
    assert.strictEqual(drifted.code, 1, drifted.stdout + drifted.stderr);
    assert.match(drifted.stdout, /✖ fail {2}2-drift/);
    assert.match(drifted.stdout, /body_mass_g/);
    // a model check in such a policy is refused at its line before anything runs
    fs.writeFileSync(path.join(dir, 'mixed.policy.yaml'), dataOnly('data/eval.csv') + '  - size: { max_mb: 1 }\n');
    const mixed = await gate(['mixed.policy.yaml', '--onnx', 'model.onnx'], dir);
    assert.strictEqual(mixed.code, 2);
    assert.match(mixed.stderr, /mixed\.policy\.yaml:8:5 missing-key `size` checks the candidate model/);
  });

  it('runs a predictions-only policy: the predictions file carries the label and the sensitive column, no data.eval', async () => {
    const rows = fs.readFileSync(path.join(dir, 'data/eval.csv'), 'utf8').trim().split('\n').slice(1).map(l => l.split(','));
    // a model that is always right except on three rows
    fs.writeFileSync(path.join(dir, 'scored.csv'), ['y_true,y_pred,sex', ...rows.map((c, i) => `${c[5]},${i < 3 ? 'Gentoo' : c[5]},${c[7]}`)].join('\n') + '\n');
    fs.writeFileSync(path.join(dir, 'scored.policy.yaml'), `predictions: scored.csv
checks:
  - metric: { name: accuracy, min: 0.9 }
  - bias: { sensitive: sex, positive_label: Adelie, demographic_parity_difference: { max: 0.5 } }
`);
    const r = await gate(['scored.policy.yaml', '--json'], dir);
    assert.strictEqual(r.code, 0, r.stdout + r.stderr);
    const report = JSON.parse(r.stdout);
    assert.deepStrictEqual(report.checks.map((c: { kind: string; status: string }) => `${c.kind} ${c.status}`), ['metric pass', 'bias pass']);
    const wrong = rows.slice(0, 3).filter(c => c[5] !== 'Gentoo').length;
    assert.strictEqual(report.checks[0].measured.accuracy, (rows.length - wrong) / rows.length);
    assert.ok('demographic_parity_difference' in report.checks[1].measured);
    assert.strictEqual(report.candidate.predictions, 'scored.csv');
  });

  it('exits 2 with file:line for a bad policy, and with a clear message for a model of the wrong width', async () => {
    fs.writeFileSync(path.join(dir, 'bad.policy.yaml'), policy('  - metrc: { name: f1 }\n'));
    const bad = await gate(['bad.policy.yaml', '--onnx', 'model.onnx'], dir);
    assert.strictEqual(bad.code, 2);
    assert.match(bad.stderr, /bad\.policy\.yaml:7:5 unknown-key Unknown key `metrc` in `checks\[0\]`\. Did you mean `metric`\?/);
    fs.writeFileSync(path.join(dir, 'narrow.policy.yaml'), policy('  - metric: { name: f1, min: 0.5 }\n', '[bill_length_mm, bill_depth_mm, flipper_length_mm]'));
    const narrow = await gate(['narrow.policy.yaml', '--onnx', 'model.onnx'], dir);
    assert.strictEqual(narrow.code, 2);
    assert.match(narrow.stderr, /expects 4 input features but the policy gives 3/);
    assert.doesNotMatch(narrow.stderr, /at .*\.js:\d+/, 'no stack trace');
    const missing = await gate(['narrow.policy.yaml'.replace('narrow', 'nope'), '--onnx', 'model.onnx'], dir);
    assert.strictEqual(missing.code, 2);
    assert.strictEqual((await gate(['ok.policy.yaml', '--onnx', 'model.onnx', '--run', 'x'], dir)).code, 2);
    fs.writeFileSync(path.join(dir, 'empty.csv'), '');
    const empty = await gate(['ok.policy.yaml', '--predictions', 'empty.csv'], dir);
    assert.strictEqual(empty.code, 2, 'an empty predictions file is a bad input');
    assert.match(empty.stderr, /empty\.csv: the file is empty; expected a header with y_true and y_pred/);
    assert.doesNotMatch(empty.stderr, /at .*\.js:\d+/, 'no stack trace');
  });

  it('exits 2 with file:line for a bad row in the evaluation data, in English and with EDD_LOCALE=ko in Korean', async () => {
    const lines = fs.readFileSync(path.join(dir, 'data/eval.csv'), 'utf8').split('\n');
    lines[4] = lines[4].split(',').slice(0, -1).join(','); // line 5: one field short
    fs.writeFileSync(path.join(dir, 'data/short-row.csv'), lines.join('\n'));
    const fields = lines[0].split(',').length;
    fs.writeFileSync(path.join(dir, 'short.policy.yaml'), policy('  - metric: { name: f1, min: 0.5 }\n').replace('data/eval.csv', 'data/short-row.csv'));
    const file = 'data/short-row.csv'; // named relative to the workspace root, as the policy names it
    const en = await gate(['short.policy.yaml', '--onnx', 'model.onnx'], dir, { EDD_LOCALE: 'en' });
    assert.strictEqual(en.code, 2);
    assert.ok(en.stderr.includes(`${file}:5: expected ${fields} fields as in the header, found ${fields - 1}; quote fields that contain ","`), en.stderr);
    const ko = await gate(['short.policy.yaml', '--onnx', 'model.onnx'], dir, { EDD_LOCALE: 'ko' });
    assert.strictEqual(ko.code, 2);
    assert.ok(ko.stderr.includes(`${file}:5: 헤더에 맞게 필드가 ${fields}개여야 하지만 ${fields - 1}개입니다.`), ko.stderr);
    assert.doesNotMatch(ko.stderr, /expected|found|fix the row/);
    assert.doesNotMatch(ko.stderr, /at .*\.js:\d+/, 'no stack trace');
  });
});
