import * as assert from 'assert';
import { duplicateIdProblems, validateExperiment, versionPattern, type IdEntry, type Problem } from '../../src/core/config';
import { fixture, site, applyEdits } from './configFixtures';


/** All problems of the fixture, as [code, severity, site] triples. */
function triples(text: string, options = {}): Array<[string, string, string]> {
  return validateExperiment(text, options).problems.map(p => [p.code, p.severity, site(text, p)]);
}

function only(text: string, code: string, options = {}): Problem {
  const found = validateExperiment(text, options).problems.filter(p => p.code === code);
  assert.strictEqual(found.length, 1, `one ${code} expected, got ${JSON.stringify(validateExperiment(text, options).problems)}`);
  return found[0];
}

const example = fixture('valid-mlops-example.yaml');

describe('validateExperiment: business rules', () => {
  describe('f1_score consistency', () => {
    const text = fixture('f1-inconsistent.yaml');

    it('reports f1_score that differs from 2PR/(P+R) by more than 0.005, as an error', () => {
      assert.deepStrictEqual(triples(text), [['f1-inconsistent', 'error', '0.9']]);
      const p = only(text, 'f1-inconsistent');
      assert.strictEqual(p.message,
        '`f1_score` 0.9 does not agree with precision 0.8 and recall 0.6: 2·P·R/(P+R) = 0.6857 (difference 0.2143, more than 0.005).');
    });

    it('fixes it to 2PR/(P+R) rounded to 4 places', () => {
      const p = only(text, 'f1-inconsistent');
      const expected = Math.round(((2 * 0.8 * 0.6) / (0.8 + 0.6)) * 10000) / 10000;
      assert.strictEqual(expected, 0.6857);
      assert.strictEqual(p.fixes?.[0].title, 'Set `f1_score` to 0.6857');
      const fixed = applyEdits(text, p.fixes[0].edits);
      assert.ok(fixed.includes('    f1_score: 0.6857\n'));
      assert.deepStrictEqual(validateExperiment(fixed).problems, []);
    });

    it('accepts a rounded f1_score within the tolerance (0.85 for 0.8495)', () => {
      assert.ok(example.includes('f1_score: 0.85'));
      assert.deepStrictEqual(triples(example), []);
    });

    it('reports just beyond the tolerance and not just within it', () => {
      // precision = recall = 0.8 → f1 = 0.8
      const results = (f1: number) => example.replace('precision: 0.83', 'precision: 0.8').replace('recall: 0.87', 'recall: 0.8').replace('f1_score: 0.85', `f1_score: ${f1}`);
      assert.deepStrictEqual(triples(results(0.804)), []);
      assert.deepStrictEqual(triples(results(0.806)), [['f1-inconsistent', 'error', '0.806']]);
    });

    it('uses the f1Tolerance option', () => {
      assert.deepStrictEqual(triples(text, { f1Tolerance: 0.25 }), []);
      const strict = only(example, 'f1-inconsistent', { f1Tolerance: 0 });
      assert.strictEqual(site(example, strict), '0.85');
      assert.match(strict.message, /2·P·R\/\(P\+R\) = 0\.8495 \(difference 0\.0005, more than 0\)/);
    });

    it('accepts f1_score 0 when precision and recall are both 0', () => {
      const zero = example.replace('precision: 0.83', 'precision: 0').replace('recall: 0.87', 'recall: 0').replace('f1_score: 0.85', 'f1_score: 0');
      assert.deepStrictEqual(triples(zero), []);
    });
  });

  describe('metrics outside [0, 1]', () => {
    it('reports a percentage written as a ratio, suggesting the ratio', () => {
      const text = fixture('metric-out-of-range.yaml');
      assert.deepStrictEqual(triples(text), [['metric-out-of-range', 'error', '85']]);
      assert.strictEqual(only(text, 'metric-out-of-range').message,
        '`results.accuracy` is 85, but it is a ratio and must be between 0 and 1 (a percentage? write 0.85).');
    });

    it('reports a negative ratio and ratio-named custom metrics', () => {
      const text = example.replace('recall: 0.87', 'recall: -0.1').replace('accuracy: 0.85', 'accuracy: 0.85\n    top5_accuracy: 1.2\n    loss: 2.5');
      assert.deepStrictEqual(triples(text), [['metric-out-of-range', 'error', '1.2'], ['metric-out-of-range', 'error', '-0.1']]);
      const recall = validateExperiment(text).problems[1];
      assert.strictEqual(recall.message, '`results.recall` is -0.1, but it is a ratio and must be between 0 and 1.');
    });
  });

  describe('learning rate', () => {
    it('rejects learning_rate ≤ 0 as an error', () => {
      const text = fixture('learning-rate-not-positive.yaml');
      assert.deepStrictEqual(triples(text), [['learning-rate-not-positive', 'error', '0']]);
      assert.match(only(text, 'learning-rate-not-positive').message, /^`learning_rate` must be greater than 0 \(it is 0\)/);
      assert.deepStrictEqual(triples(text.replace('learning_rate: 0', 'learning_rate: -0.01')), [['learning-rate-not-positive', 'error', '-0.01']]);
    });

    it('warns about learning_rate > 1', () => {
      const text = fixture('learning-rate-large.yaml');
      assert.deepStrictEqual(triples(text), [['learning-rate-large', 'warning', '5']]);
      assert.match(only(text, 'learning-rate-large').message, /^`learning_rate` is 5, larger than 1: training will probably diverge/);
    });

    it('accepts exactly 1', () => {
      assert.deepStrictEqual(triples(fixture('learning-rate-large.yaml').replace('learning_rate: 5', 'learning_rate: 1')), []);
    });
  });

  describe('sizes, batch and epochs', () => {
    it('rejects non-positive epochs and data sizes', () => {
      const text = fixture('not-positive.yaml');
      assert.deepStrictEqual(triples(text), [['not-positive', 'error', '0'], ['not-positive', 'error', '-100']]);
      const [epochs, train] = validateExperiment(text).problems;
      assert.strictEqual(epochs.message, '`epochs` must be a positive number (it is 0).');
      assert.strictEqual(train.message, '`data.train_size` must be a positive number of examples (it is -100).');
    });

    it('rejects a non-positive batch_size, val_size and test_size', () => {
      const text = example.replace('batch_size: 32', 'batch_size: 0').replace('val_size: 2000', 'val_size: -5').replace('test_size: 2000', 'test_size: 0');
      assert.deepStrictEqual(triples(text).map(t => t[0]), ['not-positive', 'not-positive', 'not-positive']);
      assert.deepStrictEqual(validateExperiment(text).problems.map(p => p.message.split(' ')[0]), ['`batch_size`', '`data.val_size`', '`data.test_size`']);
    });

    it('rejects a batch larger than the training set', () => {
      const text = fixture('batch-exceeds-train.yaml');
      assert.deepStrictEqual(triples(text), [['batch-exceeds-train', 'error', '512']]);
      assert.match(only(text, 'batch-exceeds-train').message, /^`batch_size` \(512\) is larger than `data\.train_size` \(100\)/);
    });

    it('accepts a batch equal to the training set', () => {
      assert.deepStrictEqual(triples(fixture('batch-exceeds-train.yaml').replace('batch_size: 512', 'batch_size: 100')), []);
    });
  });

  describe('versions', () => {
    it('rejects unparseable dataset and environment versions', () => {
      const text = fixture('version-unparseable.yaml');
      assert.deepStrictEqual(triples(text), [['version-unparseable', 'error', '"latest"'], ['version-unparseable', 'error', '"eleven"']]);
      const [dataset, cuda] = validateExperiment(text).problems;
      assert.strictEqual(dataset.message, '`data.dataset_version` "latest" is not a version; use a form like `v1.2.3`.');
      assert.match(cuda.message, /^`environment\.cuda_version` "eleven" is not a version/);
    });

    for (const v of ['v1.2.3', '3.9.7', '11.3', '2.1.0+cu118', '3.12.0rc1', '1.0.0-rc.1', '12']) {
      it(`accepts the version ${v}`, () => {
        assert.ok(versionPattern.test(v));
        const text = example.replace('"v1.2.3"', JSON.stringify(v)).replace('cuda_version: "11.3"', `cuda_version: ${JSON.stringify(v)}`);
        assert.deepStrictEqual(triples(text), []);
      });
    }

    for (const v of ['latest', '1..2', 'three', '3.9.', 'v']) {
      it(`rejects the version ${JSON.stringify(v)}`, () => {
        assert.ok(!versionPattern.test(v));
        const text = example.replace('cuda_version: "11.3"', `cuda_version: ${JSON.stringify(v)}`);
        assert.deepStrictEqual(triples(text), [['version-unparseable', 'error', JSON.stringify(v)]]);
      });
    }
  });

  describe('parameter names', () => {
    it('warns about a parameter name close to a known one, with a rename fix', () => {
      const text = fixture('likely-typo.yaml');
      assert.deepStrictEqual(triples(text), [['likely-typo', 'warning', 'learnig_rate']]);
      const p = only(text, 'likely-typo');
      assert.strictEqual(p.message, 'Parameter `learnig_rate` is not a known parameter; did you mean `learning_rate`?');
      const fixed = applyEdits(text, p.fixes![0].edits);
      assert.strictEqual(fixed, text.replace('learnig_rate:', 'learning_rate:'));
      assert.deepStrictEqual(validateExperiment(fixed).problems, []);
    });

    it('accepts custom hyperparameters unlike any known one', () => {
      const text = example.replace('epochs: 100', 'epochs: 100\n    n_estimators: 200\n    max_depth: 12\n    criterion: gini');
      assert.deepStrictEqual(triples(text), []);
    });
  });

  describe('run.cwd', () => {
    const text = fixture('cwd-outside-workspace.yaml');

    it('rejects a cwd that leaves the workspace with `..`', () => {
      assert.deepStrictEqual(triples(text), [['cwd-outside-workspace', 'error', '"../outside"']]);
      assert.match(only(text, 'cwd-outside-workspace').message, /^`run\.cwd` "\.\.\/outside" must be a path inside the workspace/);
    });

    for (const cwd of ['/tmp', 'C:\\\\work', 'src/../..', 'src\\\\..\\\\..']) {
      it(`rejects ${cwd}`, () => {
        assert.deepStrictEqual(triples(text.replace('"../outside"', `"${cwd}"`)).map(t => t[0]), ['cwd-outside-workspace']);
      });
    }

    for (const cwd of ['src', 'training/..data', './scripts']) {
      it(`accepts ${cwd}`, () => {
        assert.deepStrictEqual(triples(text.replace('"../outside"', `"${cwd}"`)), []);
      });
    }
  });
});

describe('duplicateIdProblems', () => {
  const entry = (file: string, id: string, line = 2, offset = 18): IdEntry => ({ file, id, line, offset, length: id.length + 2 });

  it('reports every site of an id used in two files, naming the other file and line', () => {
    const a = validateExperiment(example).experimentId!;
    const b = validateExperiment(fixture('duplicate-experiment-id.yaml')).experimentId!;
    assert.strictEqual(a.id, b.id);
    const out = duplicateIdProblems([
      { ...a, file: 'experiments/valid-mlops-example.yaml', line: 2 },
      { ...b, file: 'experiments/duplicate-experiment-id.yaml', line: 2 },
      entry('experiments/other.yaml', 'exp_20250301_001'),
    ]);
    assert.deepStrictEqual([...out.keys()].sort(), ['experiments/duplicate-experiment-id.yaml', 'experiments/valid-mlops-example.yaml']);
    const [p] = out.get('experiments/valid-mlops-example.yaml')!;
    assert.strictEqual(p.code, 'duplicate-experiment-id');
    assert.strictEqual(p.severity, 'error');
    assert.strictEqual(site(example, p), '"exp_20250101_001"');
    assert.strictEqual(p.message, 'Experiment id `exp_20250101_001` is also used in experiments/duplicate-experiment-id.yaml:2. Each experiment needs its own id.');
  });

  it('lists all the other files when an id is used three times', () => {
    const out = duplicateIdProblems([entry('a.yaml', 'exp_1'), entry('b.yaml', 'exp_1', 5), entry('c.yaml', 'exp_1', 7)]);
    assert.match(out.get('a.yaml')![0].message, /also used in b\.yaml:5, c\.yaml:7\./);
  });

  it('ignores unique ids and an id repeated inside one file', () => {
    assert.strictEqual(duplicateIdProblems([entry('a.yaml', 'exp_1'), entry('b.yaml', 'exp_2')]).size, 0);
    assert.strictEqual(duplicateIdProblems([entry('a.yaml', 'exp_1'), entry('a.yaml', 'exp_1', 9)]).size, 0);
  });
});
