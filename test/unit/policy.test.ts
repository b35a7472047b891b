import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { gateInputs, isPolicyFile, loadPolicy, PolicyError, validatePolicy } from '../../src/core/checks/policy';
import { gateJUnit } from '../../src/core/checks/junit';
import type { GateReport } from '../../src/core/checks/types';
import { completeAt, hoverAt } from '../../src/core/config';
import { promotionSchemaJson } from '../../src/core/checks/policy';

const root = path.resolve(__dirname, '../../..');
const example = path.join(root, 'examples/penguins/penguins.policy.yaml');

/** The issue's example policy, unchanged: the schema must accept it. */
const issueExample = `model: penguins            # registry model; the candidate is a version or a run's model artifact
data:
  eval: data/eval.csv      # features + label (+ sensitive columns); CSV or JSONL
  reference: data/train.csv
  label: species
predictions: null          # or a file with y_true, y_pred (+ scores): gate predictions made elsewhere
checks:
  - metric: { name: f1, average: macro, min: 0.90 }
  - regression: { metric: accuracy, max_drop: 0.01, test: mcnemar, alpha: 0.05 }   # vs the production version
  - output: { shape: [null, 3], range: [0, 1], sum_to_one: true, finite: true }
  - perturbation: { noise: 0.01, max_mean_change: 0.05, monotonic: { flipper_length_mm: increasing } }
  - rule: { when: "island == 'Torgersen'", expect: "pred != 'Gentoo'", max_violations: 0 }  # business rule
  - bias: { sensitive: sex, demographic_parity_difference: { max: 0.1 }, equal_opportunity_difference: { max: 0.1 }, demographic_parity_ratio: { min: 0.8 } }
  - data_schema: { file: schemas/penguins.data.yaml }     # types, ranges, allowed values, nulls
  - drift: { columns: all, ks: { alpha: 0.05 }, psi: { max: 0.2, bins: 10 }, wasserstein: {}, jensen_shannon: { max: 0.1 } }
  - anomalies: { method: iqr, k: 3, max_rate: 0.01 }     # or zscore
  - latency: { batch: 1, p95_ms: 2 }
  - size: { max_mb: 20 }
`;

describe('promotion policies: schema and validation', () => {
  it('accepts the issue\'s example policy unchanged, with every check placed on its own list item', () => {
    const { problems, policy } = validatePolicy(issueExample);
    assert.deepStrictEqual(problems.map(p => `${p.code} ${p.message}`), []);
    assert.deepStrictEqual(policy!.checks.map(c => c.kind), ['metric', 'regression', 'output', 'perturbation', 'rule', 'bias', 'data_schema', 'drift', 'anomalies', 'latency', 'size']);
    const bias = policy!.checks[5];
    assert.match(issueExample.slice(bias.source.offset, bias.source.offset + bias.source.length), /^bias: \{ sensitive: sex/);
  });

  it('accepts the example project\'s policy', () => {
    assert.ok(loadPolicy(example).policy.checks.length >= 8);
  });

  it('reports a misspelled check kind and an unknown metric at their exact place', () => {
    const text = 'data:\n  eval: e.csv\nchecks:\n  - metrc: { name: f1 }\n  - metric: { name: f2 }\n';
    const { problems } = validatePolicy(text);
    const at = (code: string) => problems.filter(p => p.code === code).map(p => text.slice(p.offset, p.offset + p.length));
    assert.deepStrictEqual(at('unknown-key'), ['metrc']);
    assert.match(problems.find(p => p.code === 'unknown-key')!.message, /Did you mean `metric`\?/);
    assert.deepStrictEqual(at('invalid-value'), ['f2']);
  });

  it('a data-only policy (data.eval, data.reference, no label, no predictions) is valid and takes no candidate', () => {
    const text = 'data:\n  eval: e.csv\n  reference: r.csv\nchecks:\n  - data_schema: { file: s.yaml }\n  - drift: { ks: { alpha: 0.05 } }\n  - anomalies: { method: iqr, max_rate: 0.01 }\n  - rule: { when: "x > 0", expect: "y > 0" }\n';
    const { problems, policy } = validatePolicy(text);
    assert.deepStrictEqual(problems, []);
    assert.deepStrictEqual(gateInputs(policy!), { evalFile: 'e.csv', candidate: 'data' });
  });

  it('in a data-only policy, a check that needs the model or the label, and drift without reference, are problems on their lines', () => {
    const text = 'data:\n  eval: e.csv\nchecks:\n  - metric: { name: f1, min: 0.9 }\n  - output: { finite: true }\n  - bias: { sensitive: sex, demographic_parity_difference: { max: 0.1 } }\n  - latency: { p95_ms: 2 }\n  - drift: { ks: { alpha: 0.05 } }\n  - anomalies: { method: iqr, max_rate: 0.01 }\n';
    const { problems, policy } = validatePolicy(text);
    assert.strictEqual(policy, undefined, 'a policy with these problems cannot run');
    const shown = problems.map(p => [text.slice(p.offset, p.offset + p.length), p.code, p.severity]);
    assert.deepStrictEqual(shown, [
      ['metric', 'missing-key', 'error'], ['output', 'missing-key', 'error'], ['bias', 'missing-key', 'error'],
      ['latency', 'missing-key', 'error'], ['drift', 'missing-key', 'error'],
    ]);
    assert.match(problems[0].message, /`metric` compares the candidate's predictions with the label: set `data\.label`/);
    assert.match(problems[1].message, /`output` checks the candidate model, but this policy has no `data\.label` and no `predictions`/);
    assert.match(problems[4].message, /set `data\.reference`/);
    // with a label the same model checks are fine (the model comes with the gate run)
    const model = validatePolicy(text.replace('  eval: e.csv\n', '  eval: e.csv\n  reference: r.csv\n  label: y\n'));
    assert.deepStrictEqual(model.problems, []);
    assert.strictEqual(gateInputs(model.policy!).candidate, 'candidate');
    // loadPolicy turns them into file:line:col lines
    const file = path.join(root, 'out', 'data-only.policy.yaml');
    fs.writeFileSync(file, text);
    assert.throws(() => loadPolicy(file, 'data-only.policy.yaml'), (e: Error) => /data-only\.policy\.yaml:4:5 missing-key `metric` compares/.test(e.message) && /data-only\.policy\.yaml:8:5 missing-key `drift`/.test(e.message));
  });

  it('a predictions file alone (no data.eval) is the evaluation data; neither eval nor predictions is a problem', () => {
    const text = 'predictions: preds.csv\nchecks:\n  - metric: { name: accuracy, min: 0.9 }\n  - bias: { sensitive: sex, demographic_parity_difference: { max: 0.1 } }\n';
    const { problems, policy } = validatePolicy(text);
    assert.deepStrictEqual(problems, []);
    assert.deepStrictEqual(gateInputs(policy!), { evalFile: 'preds.csv', label: 'y_true', candidate: 'predictions' });
    assert.deepStrictEqual(gateInputs(policy!, 'other.csv').evalFile, 'other.csv', '--predictions replaces the file');
    const named = validatePolicy('data: { label: species }\n' + text);
    assert.deepStrictEqual(gateInputs(named.policy!).label, 'species');
    const none = validatePolicy('data:\n  label: y\nchecks:\n  - metric: { name: accuracy, min: 0.9 }\n');
    assert.strictEqual(none.policy, undefined);
    assert.strictEqual(none.problems.length, 1);
    assert.strictEqual(none.problems[0].offset, 0); // on the `data` key
    assert.match(none.problems[0].message, /names no data to check: set `data\.eval` .* or `predictions:`/);
  });

  it('refuses two kinds in one check item, and an empty check list', () => {
    const two = validatePolicy('data: { eval: e.csv, label: y }\nchecks:\n  - { metric: { name: f1 }, size: { max_mb: 1 } }\n');
    assert.ok(two.problems.some(p => /each check is one key/.test(p.message)), JSON.stringify(two.problems));
    const none = validatePolicy('data: { eval: e.csv, label: y }\nchecks: []\n');
    assert.ok(none.problems.some(p => /at least 1 item/.test(p.message)));
  });

  it('loadPolicy throws PolicyError with file:line:col lines', () => {
    const file = path.join(root, 'out', 'bad.policy.yaml');
    fs.writeFileSync(file, 'data:\n  eval: e.csv\n  label: y\nchecks:\n  - size: { max_mb: -1 }\n');
    assert.throws(() => loadPolicy(file, 'bad.policy.yaml'), (e: Error) => e instanceof PolicyError && /bad\.policy\.yaml:5:\d+ out-of-range/.test(e.message));
  });

  it('recognises policy files by name, folder or marker', () => {
    assert.ok(isPolicyFile('/w/penguins.policy.yaml'));
    assert.ok(isPolicyFile('/w/policies/prod.yml'));
    assert.ok(isPolicyFile('/w/gate.yaml', '# edd: policy\ndata: {}\n'));
    assert.ok(!isPolicyFile('/w/experiments/a.yaml', 'experiment:\n'));
  });

  it('a prediction log\'s time range (since/until): a bad value at the value, without a log at the key, completion and hover from the schema', () => {
    const dir = fs.mkdtempSync(path.join(root, 'out', 'policy-range-'));
    try {
      fs.mkdirSync(path.join(dir, 'log'));
      fs.writeFileSync(path.join(dir, 'rows.csv'), 'y_true,y_pred\na,a\n');
      const policy = (predictions: string, range: string) => `data:\n  label: y_true\npredictions: ${predictions}\n${range}checks:\n  - metric: { name: accuracy, min: 0.5 }\n`;
      const problems = (text: string) => validatePolicy(text, { root: dir }).problems.map(p => {
        const line = text.slice(0, p.offset).split('\n').length, col = p.offset - text.lastIndexOf('\n', p.offset - 1);
        return `${line}:${col} ${p.code} ${text.slice(p.offset, p.offset + p.length)} | ${p.message}`;
      });
      for (const range of ['since: 24h\n', 'since: 7d\nuntil: 1h\n', 'since: 2026-12-06T08:00Z\nuntil: "2026-12-07T08:00:00Z"\n']) {
        const v = validatePolicy(policy('log', range), { root: dir });
        assert.deepStrictEqual(v.problems, [], range);
        assert.ok(v.policy?.since !== undefined);
      }
      assert.deepStrictEqual(problems(policy('log', 'since: yesterday\nuntil: 0h\n')), [
        '4:8 invalid-value yesterday | since: "yesterday" is neither a duration back from now (24h, 7d) nor a time (2026-12-06T08:00Z).',
        '5:8 invalid-value 0h | until: "0h" is neither a duration back from now (24h, 7d) nor a time (2026-12-06T08:00Z).',
      ]);
      assert.match(problems(policy('log', 'since: 1h\nuntil: 2h\n')).join('\n'), /^5:8 invalid-value 2h \| `until` \(2h\) is not after `since` \(1h\)/);
      assert.match(problems(policy('rows.csv', 'since: 1h\n')).join('\n'), /^4:1 invalid-value since \| `since` selects a time range of a prediction log, but `predictions:` \(rows\.csv\) is a file/);
      assert.match(problems('data:\n  eval: rows.csv\n  label: y_true\nuntil: 1h\nchecks:\n  - metric: { name: accuracy, min: 0.5 }\n').join('\n'), /^4:1 missing-key until \| `until` selects a time range of a prediction log: set `predictions:`/);
      assert.match(problems(policy('log', 'since: 24\n')).join('\n'), /^4:8 wrong-type 24 \| `since` must be a string/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    const text = 'predictions: .edd/serving/penguins\n\n';
    const labels = completeAt(text, text.length - 1, promotionSchemaJson).map(e => e.label);
    assert.ok(labels.includes('since') && labels.includes('until'), labels.join(','));
    const h = hoverAt('predictions: log\nsince: 24h\n', 'predictions: log\nsi'.length, promotionSchemaJson);
    assert.match(h?.contents ?? '', /duration back from when the gate runs/);
  });

  it('completes and explains policy keys from the schema', () => {
    const text = 'data:\n  eval: e.csv\n  \n';
    const labels = completeAt(text, text.indexOf('  \n') + 2, promotionSchemaJson).map(e => e.label);
    assert.ok(labels.includes('label') && labels.includes('reference') && !labels.includes('eval'), labels.join(','));
    const h = hoverAt('checks:\n  - drift: { columns: all }\n', 14, promotionSchemaJson);
    assert.ok(h === undefined || /drift/i.test(h.contents));
  });
});

describe('gate report as JUnit XML', () => {
  const report: GateReport = {
    policy: 'p.policy.yaml', passed: false, summary: { pass: 1, fail: 1, warn: 0, error: 1 }, startedAt: '2026-12-01T00:00:00.000Z', durationMs: 1234, candidate: { onnx: 'm.onnx' },
    checks: [
      { id: '1-metric', kind: 'metric', title: 'f1 (macro) ≥ 0.9', status: 'pass', measured: { f1: 0.95 }, threshold: { min: 0.9 }, message: 'f1 0.95 ≥ 0.9', durationMs: 3 },
      { id: '2-rule', kind: 'rule', title: "island == 'Torgersen' → pred != \"Gentoo\" & <x>", status: 'fail', measured: { violations: 2 }, threshold: { max_violations: 0 }, message: '2 rows break the rule', durationMs: 5 },
      { id: '3-size', kind: 'size', title: 'size', status: 'error', measured: {}, threshold: {}, message: 'no model', durationMs: 0 },
    ],
  };

  it('has one test case per check, failures and errors counted, user text escaped', () => {
    const xml = gateJUnit(report);
    assert.match(xml, /<testsuite name="edd gate p\.policy\.yaml" tests="3" failures="1" errors="1"/);
    assert.strictEqual((xml.match(/<testcase /g) ?? []).length, 3);
    assert.match(xml, /<failure message="2 rows break the rule" type="rule">/);
    assert.match(xml, /<error message="no model" type="size">/);
    assert.match(xml, /name="2-rule island == &apos;Torgersen&apos; → pred != &quot;Gentoo&quot; &amp; &lt;x&gt;"/);
    assert.doesNotMatch(xml, /<x>/);
  });
});
