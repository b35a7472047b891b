import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { completeAt, hoverAt } from '../../src/core/config';

const fixtures = path.resolve(__dirname, '../../../test/fixtures/configs');
const example = fs.readFileSync(path.join(fixtures, 'valid-mlops-example.yaml'), 'utf8');

/** `text` without its `|` cursor marker, and the cursor's offset. */
function cursor(marked: string): [string, number] {
  const at = marked.indexOf('|');
  assert.ok(at !== -1, 'the text has a | cursor');
  return [marked.slice(0, at) + marked.slice(at + 1), at];
}

const labels = (marked: string) => completeAt(...cursor(marked)).map(e => e.label);

describe('completeAt', () => {
  describe('keys', () => {
    it('offers `experiment` in an empty document', () => {
      const [entry] = completeAt('', 0);
      assert.strictEqual(entry.label, 'experiment');
      assert.strictEqual(entry.kind, 'property');
      assert.strictEqual(entry.insertText, 'experiment:\n  id: ${1}');
      assert.strictEqual(entry.snippet, true);
    });

    it('offers the keys of the enclosing mapping, without those already present', () => {
      const marked = example.replace('  data:', '  |\n  data:');
      assert.deepStrictEqual(labels(marked), ['description', 'tags', 'random_seed', 'run', 'sweep']);
    });

    it('replaces the partly typed word and marks required keys', () => {
      const entries = completeAt(...cursor('experiment:\n  id: "exp_20250101_001"\n  hyp|\n'));
      const hypothesis = entries.find(e => e.label === 'hypothesis');
      assert.ok(hypothesis);
      assert.strictEqual(hypothesis.replaceLength, 3);
      assert.strictEqual(hypothesis.preselect, true);
      assert.strictEqual(hypothesis.detail, 'string · required');
      assert.match(hypothesis.documentation ?? '', /falsifiable statement/);
      const objective = entries.find(e => e.label === 'objective');
      assert.strictEqual(objective?.preselect, false);
      assert.ok(!entries.some(e => e.label === 'id'), 'id is already there');
    });

    it('offers nested keys by indentation, looking at keys below the cursor too', () => {
      assert.deepStrictEqual(labels('experiment:\n  parameters:\n    |\n    model_type: mlp\n    epochs: 3\n'),
        ['learning_rate', 'batch_size', 'optimizer', 'weight_decay', 'dropout']);
      assert.deepStrictEqual(labels('experiment:\n  run:\n    |\n'), ['command', 'cwd', 'env', 'timeout']);
    });

    it('builds snippets from the schema: mapping with its first required key, list, default', () => {
      const byLabel = new Map(completeAt(...cursor('experiment:\n  |\n')).map(e => [e.label, e.insertText]));
      assert.strictEqual(byLabel.get('parameters'), 'parameters:\n    model_type: ${1}');
      assert.strictEqual(byLabel.get('tags'), 'tags: [${1}]');
      assert.strictEqual(byLabel.get('random_seed'), 'random_seed: ${1:42}');
      assert.strictEqual(byLabel.get('data'), 'data:\n    ${1}');
    });

    it('offers nothing under an unknown key', () => {
      assert.deepStrictEqual(labels('experiment:\n  nope:\n    |\n'), []);
    });
  });

  describe('values', () => {
    it('offers the examples of the key on the cursor line', () => {
      const entries = completeAt(...cursor('experiment:\n  parameters:\n    model_type: |\n'));
      assert.deepStrictEqual(entries.map(e => e.label), ['random_forest', 'logistic_regression', 'gradient_boosting', 'mlp', 'resnet50', 'transformer']);
      assert.ok(entries.every(e => e.kind === 'value' && !e.snippet && e.replaceLength === 0));
    });

    it('offers the default first and preselected', () => {
      const [entry, ...rest] = completeAt(...cursor('experiment:\n  random_seed: 4|\n'));
      assert.deepStrictEqual([entry.label, entry.preselect, entry.replaceLength, entry.detail], ['42', true, 1, 'integer']);
      assert.deepStrictEqual(rest, []);
    });

    it('quotes string values YAML would read otherwise, and replaces the opening quote', () => {
      const [entry] = completeAt(...cursor('experiment:\n  environment:\n    python_version: "3|\n'));
      assert.strictEqual(entry.label, '"3.11"');
      assert.strictEqual(entry.replaceLength, 2);
    });

    it('offers nothing for a key the schema does not describe', () => {
      assert.deepStrictEqual(labels('experiment:\n  nope: |\n'), []);
    });
  });
});

describe('hoverAt', () => {
  const at = (needle: string, within = 0) => example.indexOf(needle) + within;

  it('describes the key under the cursor with its path, type and documentation, over the key range', () => {
    const hover = hoverAt(example, at('learning_rate', 5));
    assert.ok(hover);
    assert.strictEqual(example.slice(hover.offset, hover.offset + hover.length), 'learning_rate');
    assert.strictEqual(hover.contents, '**experiment.parameters.learning_rate** — `number`\n\nStep size of the optimiser. Must be > 0; values above 1 are unusual and flagged.');
  });

  it('also answers on the value, and says when a key is required', () => {
    const hover = hoverAt(example, at('"exp_20250101_001"', 3));
    assert.ok(hover);
    assert.strictEqual(example.slice(hover.offset, hover.offset + hover.length), 'id');
    assert.match(hover.contents, /^\*\*experiment\.id\*\* — `string`/);
    assert.match(hover.contents, /Required\.$/);
  });

  it('shows the default', () => {
    const text = 'experiment:\n  random_seed: 7 # my seed\n';
    const hover = hoverAt(text, text.indexOf('seed'));
    assert.match(hover?.contents ?? '', /\n\nDefault: `42`$/);
  });

  it('gives nothing on indentation, on a trailing comment or on an unknown key', () => {
    const text = 'experiment:\n  random_seed: 7 # my seed\n  owner: me\n';
    assert.strictEqual(hoverAt(text, text.indexOf('random_seed') - 1), undefined);
    assert.strictEqual(hoverAt(text, text.indexOf('my seed')), undefined);
    assert.strictEqual(hoverAt(text, text.indexOf('owner')), undefined);
  });

  it('follows nested mappings (run.command)', () => {
    const text = 'experiment:\n  run:\n    command: [python, train.py]\n';
    const hover = hoverAt(text, text.indexOf('command') + 2);
    assert.ok(hover);
    assert.strictEqual(text.slice(hover.offset, hover.offset + hover.length), 'command');
    assert.match(hover.contents, /^\*\*experiment\.run\.command\*\* — `array`/);
  });
});
