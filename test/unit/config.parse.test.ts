import * as assert from 'assert';
import { placeProblems, validateExperiment } from '../../src/core/config';
import { fixture, site, codes, applyEdits } from './configFixtures';


describe('validateExperiment: reading the YAML', () => {
  describe('the valid MLOps example', () => {
    const text = fixture('valid-mlops-example.yaml');

    it('has no problems', () => {
      assert.deepStrictEqual(validateExperiment(text).problems, []);
    });

    it('reports where its experiment id is declared', () => {
      const { experimentId } = validateExperiment(text);
      assert.ok(experimentId);
      assert.strictEqual(experimentId.id, 'exp_20250101_001');
      assert.strictEqual(site(text, experimentId), '"exp_20250101_001"');
    });

    it('returns the parsed value', () => {
      const { value } = validateExperiment(text) as { value: { experiment: { parameters: { batch_size: number } } } };
      assert.strictEqual(value.experiment.parameters.batch_size, 32);
    });
  });

  describe('YAML syntax errors', () => {
    it('reports `key: a: b` on the value, and nothing from the schema', () => {
      const text = fixture('yaml-syntax.yaml');
      const { problems } = validateExperiment(text);
      assert.deepStrictEqual(codes(problems), ['yaml-syntax']);
      const [p] = problems;
      assert.strictEqual(p.severity, 'error');
      assert.match(p.message, /^YAML syntax error: a mapping cannot be nested on the same line as its key/);
      assert.strictEqual(site(text, p), 'm');
      const [placed] = placeProblems(text, problems);
      assert.deepStrictEqual([placed.line, placed.column], [6, 17]);
      assert.ok(text.split('\n')[5].slice(placed.column - 1).startsWith('mlp: large'));
    });

    it('reports a tab used as indentation on the tab', () => {
      const text = 'experiment:\n  id: "exp_20250101_001"\n  parameters:\n\tmodel_type: mlp\n';
      const { problems } = validateExperiment(text);
      assert.deepStrictEqual(codes(problems), ['yaml-syntax']);
      assert.match(problems[0].message, /tabs cannot indent YAML/);
      assert.strictEqual(site(text, problems[0]), '\t');
    });

    it('reports an unclosed quote at a valid position (the end of the text)', () => {
      const text = 'experiment:\n  id: "exp_20250101_001\n  name: x\n';
      const { problems } = validateExperiment(text);
      assert.deepStrictEqual(codes(problems), ['yaml-syntax']);
      assert.match(problems[0].message, /a closing character is missing/);
      assert.ok(problems[0].offset <= text.length && problems[0].length >= 1);
    });
  });

  describe('duplicate keys', () => {
    const text = fixture('duplicate-key.yaml');

    it('reports the second key, naming the line of the first', () => {
      const { problems } = validateExperiment(text);
      assert.deepStrictEqual(codes(problems), ['duplicate-key']);
      const [p] = problems;
      assert.strictEqual(p.severity, 'error');
      assert.strictEqual(site(text, p), 'name');
      assert.strictEqual(p.offset, text.indexOf('  name: "second_name"') + 2);
      assert.match(p.message, /Duplicate key `name`: it is already defined above \(line 3\)/);
    });

    it('offers a fix that removes the duplicate line', () => {
      const [p] = validateExperiment(text).problems;
      assert.strictEqual(p.fixes?.length, 1);
      assert.match(p.fixes[0].title, /Remove this duplicate `name` entry/);
      const fixed = applyEdits(text, p.fixes[0].edits);
      assert.strictEqual(fixed, text.replace('  name: "second_name"\n', ''));
      assert.deepStrictEqual(validateExperiment(fixed).problems, []);
    });

    it('removes a duplicate block together with its nested lines', () => {
      const dup = 'experiment:\n  id: "exp_20250101_001"\n  name: n\n  hypothesis: h\n  parameters:\n    model_type: mlp\n'
        + '  parameters:\n    model_type: rf\n    epochs: 3\n  data:\n    train_size: 5\n';
      const [p] = validateExperiment(dup).problems;
      assert.strictEqual(p.code, 'duplicate-key');
      assert.strictEqual(applyEdits(dup, p.fixes![0].edits), dup.replace('  parameters:\n    model_type: rf\n    epochs: 3\n', ''));
    });

    it('keeps CRLF line ends when removing a duplicate', () => {
      const crlf = 'experiment:\r\n  id: "exp_20250101_001"\r\n  name: n\r\n  hypothesis: h\r\n  name: m # again\r\n  parameters:\r\n    model_type: mlp\r\n';
      const [p] = validateExperiment(crlf).problems;
      assert.strictEqual(applyEdits(crlf, p.fixes![0].edits), crlf.replace('  name: m # again\r\n', ''));
    });

    it('offers no line-removing fix for a duplicate inside a flow mapping `{…}`', () => {
      const flow = 'experiment:\n  id: "exp_20250101_001"\n  name: n\n  hypothesis: h\n  parameters: {model_type: mlp, epochs: 1, epochs: 2}\n';
      const problems = validateExperiment(flow).problems;
      assert.deepStrictEqual(codes(problems), ['duplicate-key']);
      assert.strictEqual(site(flow, problems[0]), 'epochs');
      assert.strictEqual(problems[0].offset, flow.lastIndexOf('epochs'));
      assert.strictEqual(problems[0].fixes, undefined);
    });
  });

  describe('alias bombs', () => {
    it('refuses a 9-level "billion laughs" quickly', () => {
      const text = fixture('alias-bomb.yaml');
      const started = performance.now();
      const result = validateExperiment(text);
      const ms = performance.now() - started;
      console.log(`      billion laughs (9 levels, 9^9 strings if expanded): ${ms.toFixed(1)} ms`);
      assert.deepStrictEqual(codes(result.problems), ['alias-limit']);
      const [p] = result.problems;
      assert.strictEqual(p.severity, 'error');
      assert.match(p.message, /alias bomb/);
      assert.match(p.message, /more than 100 times/);
      assert.strictEqual(site(text, p), 'experiment:');
      assert.strictEqual(result.value, undefined);
      assert.strictEqual(result.experimentId, undefined);
    });

    it('accepts a few ordinary aliases', () => {
      const text = 'experiment:\n  id: "exp_20250101_001"\n  name: &n shared\n  hypothesis: *n\n  parameters:\n    model_type: *n\n';
      const result = validateExperiment(text);
      assert.deepStrictEqual(result.problems, []);
      assert.strictEqual((result.value as { experiment: { hypothesis: string } }).experiment.hypothesis, 'shared');
    });

    it('honours the maxAliasCount option', () => {
      const text = 'experiment:\n  id: "exp_20250101_001"\n  name: &n shared\n  hypothesis: *n\n  parameters:\n    model_type: *n\n';
      const { problems } = validateExperiment(text, { maxAliasCount: 1 });
      assert.deepStrictEqual(codes(problems), ['alias-limit']);
      assert.match(problems[0].message, /more than 1 times/);
    });
  });

  describe('documents that are not a mapping', () => {
    it('reports an empty file', () => {
      const { problems, experimentId } = validateExperiment(fixture('empty.yaml'));
      assert.deepStrictEqual(codes(problems), ['not-a-mapping']);
      assert.strictEqual(problems[0].severity, 'error');
      assert.deepStrictEqual([problems[0].offset, problems[0].length], [0, 1]);
      assert.match(problems[0].message, /The file is empty/);
      assert.strictEqual(experimentId, undefined);
    });

    it('reports a file holding only comments as empty', () => {
      const { problems } = validateExperiment('# edd: experiment\n# nothing yet\n');
      assert.deepStrictEqual(codes(problems), ['not-a-mapping']);
      assert.match(problems[0].message, /The file is empty/);
    });

    it('reports a list at the top level on the first line', () => {
      const text = fixture('top-level-list.yaml');
      const { problems } = validateExperiment(text);
      assert.deepStrictEqual(codes(problems), ['not-a-mapping']);
      assert.strictEqual(site(text, problems[0]), '- experiment:');
      assert.match(problems[0].message, /this file holds a list/);
    });

    it('reports a single scalar', () => {
      const { problems } = validateExperiment('just some text\n');
      assert.deepStrictEqual(codes(problems), ['not-a-mapping']);
      assert.match(problems[0].message, /this file holds a single value/);
    });
  });
});
