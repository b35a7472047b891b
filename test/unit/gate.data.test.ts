/**
 * Gates without a model (issue 10 item 11), through the core: a data-only policy and a predictions-only policy, with
 * real policy files and CSVs on disk.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { runGate } from '../../src/core/checks/gate';

const root = path.resolve(__dirname, '../../..');

describe('gate: data-only and predictions-only policies (core)', function () {
  this.timeout(30000);
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edd-gate-data-'));
    fs.cpSync(path.join(root, 'examples/penguins/data'), path.join(dir, 'data'), { recursive: true });
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const rows = (lines: string[]) => lines.length - 1;
  const write = (name: string, text: string) => { fs.writeFileSync(path.join(dir, name), text); return path.join(dir, name); };

  it('a data-only policy runs its data checks with no candidate, and reports a drifted column', async () => {
    const lines = fs.readFileSync(path.join(dir, 'data/eval.csv'), 'utf8').trim().split('\n');
    // flipper length in centimetres instead of millimetres: a broken pipeline step
    write('data/cm.csv', [lines[0], ...lines.slice(1).map(l => { const c = l.split(','); c[3] = String(Number(c[3]) / 10); return c.join(','); })].join('\n') + '\n');
    const policy = write('cm.policy.yaml', `data:
  eval: data/cm.csv
  reference: data/reference.csv
checks:
  - drift: { columns: all, psi: { max: 0.2 } }
  - anomalies: { method: zscore, max_rate: 0.5 }
  - rule: { when: "island == 'Torgersen'", expect: "bill_length_mm > 30" }
`);
    const report = await runGate(policy, { root: dir });
    assert.strictEqual(report.passed, false);
    assert.deepStrictEqual(report.checks.map(c => `${c.kind} ${c.status}`), ['drift fail', 'anomalies fail', 'rule pass']);
    // no label: every shared column is compared, species too; the centimetres drift most
    assert.strictEqual((report.checks[0].measured.drifted_columns as string[])[0], 'flipper_length_mm');
    assert.strictEqual(report.checks[1].measured.rows_with_anomalies, rows(lines));
    assert.ok('species' in (report.checks[0].measured.columns as object));
  });

  it('a model given with a data-only policy is not loaded (no check reads it)', async () => {
    const policy = write('schema.policy.yaml', 'data:\n  eval: data/eval.csv\nchecks:\n  - data_schema: { file: data/penguins.data.yaml }\n');
    const report = await runGate(policy, { root: dir, onnx: 'no-such-model.onnx' });
    assert.strictEqual(report.passed, true, JSON.stringify(report.checks));
  });

  it('a predictions-only policy reads the label and the sensitive column from the predictions file', async () => {
    const rows = fs.readFileSync(path.join(dir, 'data/eval.csv'), 'utf8').trim().split('\n').slice(1).map(l => l.split(','));
    // wrong on every FEMALE Adelie: a biased model
    write('preds.csv', ['row_id,y_true,y_pred,sex', ...rows.map(c => `${c[0]},${c[5]},${c[5] === 'Adelie' && c[7] === 'FEMALE' ? 'Gentoo' : c[5]},${c[7]}`)].join('\n') + '\n');
    const policy = write('preds.policy.yaml', `predictions: preds.csv
checks:
  - metric: { name: accuracy, min: 0.5 }
  - bias: { sensitive: sex, positive_label: Adelie, equal_opportunity_difference: { max: 0.1 } }
`);
    const report = await runGate(policy, { root: dir });
    assert.deepStrictEqual(report.checks.map(c => `${c.kind} ${c.status}`), ['metric pass', 'bias fail']);
    const femaleAdelie = rows.filter(c => c[5] === 'Adelie' && c[7] === 'FEMALE').length;
    assert.ok(femaleAdelie > 0);
    assert.strictEqual(report.checks[0].measured.accuracy, (rows.length - femaleAdelie) / rows.length);
    assert.strictEqual(report.checks[1].measured.equal_opportunity_difference, 1); // recall 0 for FEMALE, 1 for MALE
    assert.deepStrictEqual(report.candidate, { onnx: undefined, predictions: 'preds.csv' });
  });
});
