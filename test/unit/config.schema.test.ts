import * as assert from 'assert';
import { validateExperiment, type Problem } from '../../src/core/config';
import { fixture, site, codes, applyEdits } from './configFixtures';


/** The only problem with `code` in the fixture (fails if there is none or more than one). */
function only(text: string, code: string): Problem {
  const found = validateExperiment(text).problems.filter(p => p.code === code);
  assert.strictEqual(found.length, 1, `one ${code} expected, got ${JSON.stringify(validateExperiment(text).problems)}`);
  return found[0];
}

/** Apply the problem's preferred (single) fix and validate again. */
function applyFix(text: string, p: Problem): string {
  assert.ok(p.fixes && p.fixes.length === 1, `one fix expected on ${p.code}`);
  assert.strictEqual(p.fixes[0].preferred, true);
  return applyEdits(text, p.fixes[0].edits);
}

describe('validateExperiment: the schema', () => {
  describe('unknown keys', () => {
    it('suggests the close known key (`hypotesis` → `hypothesis`) and renames it with its fix', () => {
      const text = fixture('unknown-key-typo.yaml');
      const p = only(text, 'unknown-key');
      assert.strictEqual(p.severity, 'error');
      assert.strictEqual(site(text, p), 'hypotesis');
      assert.strictEqual(p.message, 'Unknown key `hypotesis` in `experiment`. Did you mean `hypothesis`?');
      assert.strictEqual(p.fixes?.[0].title, 'Rename `hypotesis` to `hypothesis`');
      const fixed = applyFix(text, p);
      assert.strictEqual(fixed, text.replace('hypotesis:', 'hypothesis:'));
      assert.deepStrictEqual(validateExperiment(fixed).problems, [], 'the rename also satisfies the missing `hypothesis`');
    });

    it('also reports the required key the typo leaves missing', () => {
      assert.deepStrictEqual(codes(validateExperiment(fixture('unknown-key-typo.yaml')).problems), ['missing-key', 'unknown-key']);
    });

    it('lists the expected keys when the unknown key is close to none of them', () => {
      const text = fixture('unknown-key-far.yaml');
      const p = only(text, 'unknown-key');
      assert.strictEqual(site(text, p), 'owner');
      assert.match(p.message, /^Unknown key `owner` in `experiment`\. Expected one of: `id`, `name`, .*`results`\.$/);
      assert.ok(!/Did you mean/.test(p.message));
      assert.ok(!p.fixes?.length, 'no rename without a good guess');
    });

    it('rejects unknown keys at the top level too', () => {
      const text = 'experiment:\n  id: "exp_20250101_001"\n  name: n\n  hypothesis: h\n  parameters:\n    model_type: mlp\nexperimnet_notes: x\n';
      const p = only(text, 'unknown-key');
      assert.strictEqual(site(text, p), 'experimnet_notes');
      assert.match(p.message, /^Unknown top-level key `experimnet_notes`: the top level allows only `experiment`\.$/);
    });
  });

  describe('missing required keys', () => {
    const text = fixture('missing-key.yaml');

    it('reports the missing key on the key of the mapping that lacks it', () => {
      const p = only(text, 'missing-key');
      assert.strictEqual(p.severity, 'error');
      assert.strictEqual(site(text, p), 'experiment');
      assert.strictEqual(p.message, '`experiment` is missing the required key `hypothesis` (a string).');
    });

    it('offers a fix whose edits yield a document without that problem', () => {
      const p = only(text, 'missing-key');
      assert.strictEqual(p.fixes?.[0].title, 'Add the missing key `hypothesis`');
      const fixed = applyFix(text, p);
      assert.strictEqual(fixed, text + '  hypothesis: "TODO: hypothesis"\n');
      assert.deepStrictEqual(validateExperiment(fixed).problems, []);
    });

    it('inserts a missing mapping with its own required keys', () => {
      const noParams = 'experiment:\n  id: "exp_20250101_001"\n  name: n\n  hypothesis: h\n\n# end\n';
      const fixed = applyFix(noParams, only(noParams, 'missing-key'));
      assert.strictEqual(fixed, 'experiment:\n  id: "exp_20250101_001"\n  name: n\n  hypothesis: h\n  parameters:\n    model_type: "random_forest"\n\n# end\n');
      assert.deepStrictEqual(validateExperiment(fixed).problems, []);
    });

    it('keeps CRLF line ends when inserting the key', () => {
      const crlf = text.replace(/\n/g, '\r\n');
      const fixed = applyFix(crlf, only(crlf, 'missing-key'));
      assert.strictEqual(fixed, crlf + '  hypothesis: "TODO: hypothesis"\r\n');
      assert.ok(!/\r\r|[^\r]\n/.test(fixed), 'only CRLF line ends');
      assert.deepStrictEqual(validateExperiment(fixed).problems, []);
    });

    it('reports a missing nested key (`run.command`) on its parent key', () => {
      const run = 'experiment:\n  id: "exp_20250101_001"\n  name: n\n  hypothesis: h\n  parameters:\n    model_type: mlp\n  run:\n    cwd: src\n';
      const p = only(run, 'missing-key');
      assert.strictEqual(site(run, p), 'run');
      assert.match(p.message, /^`experiment\.run` is missing the required key `command` \(a list\)\.$/);
    });

    it('offers no insertion into a flow mapping', () => {
      const flow = 'experiment: {id: "exp_20250101_001", name: n, hypothesis: h}\n';
      assert.strictEqual(only(flow, 'missing-key').fixes, undefined);
    });
  });

  describe('wrong types', () => {
    it('removes the quotes around a quoted number', () => {
      const text = fixture('wrong-type-quoted-number.yaml');
      const p = only(text, 'wrong-type');
      assert.strictEqual(site(text, p), '"0.01"');
      assert.strictEqual(p.message, '`experiment.parameters.learning_rate` must be a number, but it is a quoted string.');
      assert.strictEqual(p.fixes?.[0].title, 'Remove the quotes: use the number 0.01');
      const fixed = applyFix(text, p);
      assert.strictEqual(fixed, text.replace('learning_rate: "0.01"', 'learning_rate: 0.01'));
      assert.deepStrictEqual(validateExperiment(fixed).problems, []);
    });

    it('does not offer to unquote a fraction where an integer is expected', () => {
      const text = fixture('wrong-type-quoted-number.yaml').replace('batch_size: 32', 'batch_size: "32.5"');
      const p = validateExperiment(text).problems.find(q => q.code === 'wrong-type' && site(text, q) === '"32.5"');
      assert.ok(p);
      assert.match(p.message, /must be an integer, but it is a quoted string/);
      assert.strictEqual(p.fixes, undefined);
    });

    it('quotes a version YAML reads as a number (`3.10` → `"3.10"`, not 3.1)', () => {
      const text = fixture('wrong-type-number-version.yaml');
      const p = only(text, 'wrong-type');
      assert.strictEqual(site(text, p), '3.10');
      assert.strictEqual(p.message, '`experiment.environment.python_version` must be a string, but it is a number.');
      assert.strictEqual(p.fixes?.[0].title, 'Quote it as the string "3.10"');
      const fixed = applyFix(text, p);
      assert.ok(fixed.includes('python_version: "3.10"\n'));
      assert.deepStrictEqual(validateExperiment(fixed).problems, []);
    });

    it('converts a shell-string `run.command` into an argv list', () => {
      const text = fixture('wrong-type-shell-command.yaml');
      const p = only(text, 'wrong-type');
      assert.strictEqual(site(text, p), 'python train.py --epochs 10');
      assert.match(p.message, /^`experiment\.run\.command` has the wrong type: `run\.command` is an argv list/);
      assert.strictEqual(p.fixes?.[0].title, 'Convert to an argv list: ["python","train.py","--epochs","10"]');
      const fixed = applyFix(text, p);
      assert.ok(fixed.includes('    command: ["python", "train.py", "--epochs", "10"]\n'));
      assert.deepStrictEqual(validateExperiment(fixed).problems, []);
    });

    it('keeps the line break after a block-scalar command it converts', () => {
      const text = 'experiment:\n  id: "exp_20250101_001"\n  name: n\n  hypothesis: h\n  parameters:\n    model_type: mlp\n'
        + '  run:\n    command: |\n      python train.py\n    cwd: src\n';
      const p = only(text, 'wrong-type');
      assert.strictEqual(site(text, p), '|\n      python train.py');
      const fixed = applyFix(text, p);
      assert.ok(fixed.endsWith('    command: ["python", "train.py"]\n    cwd: src\n'), JSON.stringify(fixed));
      assert.deepStrictEqual(validateExperiment(fixed).problems, []);
    });

    it('names the expected and the actual type', () => {
      const text = 'experiment:\n  id: "exp_20250101_001"\n  name: n\n  hypothesis: h\n  parameters: [mlp]\n';
      const p = only(text, 'wrong-type');
      assert.strictEqual(site(text, p), '[mlp]');
      assert.strictEqual(p.message, '`experiment.parameters` must be a mapping (key: value lines), but it is a list.');
    });
  });

  describe('invalid values', () => {
    it('rejects an id that is not exp_YYYYMMDD_NNN, with the expected form', () => {
      const text = fixture('invalid-id.yaml');
      const p = only(text, 'invalid-value');
      assert.strictEqual(p.severity, 'error');
      assert.strictEqual(site(text, p), '"experiment-12"');
      assert.match(p.message, /^`experiment\.id` is not valid \(`experiment-12`\): an experiment id looks like `exp_YYYYMMDD_NNN`/);
    });

    it('rejects an empty name', () => {
      const text = 'experiment:\n  id: "exp_20250101_001"\n  name: ""\n  hypothesis: h\n  parameters:\n    model_type: mlp\n';
      const p = only(text, 'invalid-value');
      assert.strictEqual(site(text, p), '""');
      assert.strictEqual(p.message, '`experiment.name` must not be empty.');
    });

    it('reports a value out of range (dropout 1.5) with the bound', () => {
      const text = fixture('out-of-range.yaml');
      const p = only(text, 'out-of-range');
      assert.strictEqual(p.severity, 'error');
      assert.strictEqual(site(text, p), '1.5');
      assert.strictEqual(p.message, '`experiment.parameters.dropout` must be < 1 (it is 1.5).');
    });

    it('rejects an environment key that does not end in `_version`, on the key', () => {
      const text = fixture('environment-key.yaml');
      const p = only(text, 'invalid-value');
      assert.strictEqual(site(text, p), 'tensorflow');
      assert.match(p.message, /^Key `tensorflow` in `experiment\.environment` is not allowed: .*end in `_version`/);
    });

    it('accepts any other `<name>_version` key in the environment', () => {
      const text = fixture('environment-key.yaml').replace('tensorflow:', 'tensorflow_version:');
      assert.deepStrictEqual(validateExperiment(text).problems, []);
    });
  });
});
