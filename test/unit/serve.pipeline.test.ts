import * as assert from 'assert';
import { validateDataSchema } from '../../src/core/config/dataSchema';
import { compilePostprocessor, compilePreprocessor } from '../../src/core/serve/pipeline';
import type { PreprocessStep } from '../../src/core/serve/spec';
import { datasetOf } from './checkData';

const reference = datasetOf({ a: [1, 2, 3, 10], b: [2, 4, 6, 8], island: ['Biscoe', 'Dream', 'Biscoe', 'Torgersen'] });

function pre(features: string[], steps: PreprocessStep[], schemaText?: string) {
  const schema = schemaText ? validateDataSchema(schemaText).schema! : undefined;
  return compilePreprocessor({ features, preprocess: steps, ...(schema ? { input: { file: 'x.data.yaml', schema } } : {}) }, reference);
}

describe('serve: the compiled pipeline', () => {
  it('impute (median, mean, constant) from the reference data, then standardize and clip, in the declared order', () => {
    const p = pre(['a', 'b'], [
      { kind: 'impute', columns: ['a'], strategy: 'median' },
      { kind: 'impute', columns: ['b'], strategy: 'mean' },
      { kind: 'standardize', columns: ['b'] },
      { kind: 'clip', columns: ['a'], min: 0, max: 2.4 },
    ]);
    const { matrix, errors } = p.prepare([{ a: null, b: null }, { a: 1, b: 8 }]);
    assert.deepStrictEqual(errors, []);
    // median of a = 2.5 → clipped to 2.4; mean of b = 5 → standardized 0; b = 8 → (8 − 5) / sqrt(5)
    assert.deepStrictEqual(Array.from(matrix), [Math.fround(2.4), 0, 1, Math.fround(3 / Math.sqrt(5))]);
    const c = pre(['a'], [{ kind: 'impute', columns: ['a'], strategy: 'constant', value: -1 }]);
    assert.deepStrictEqual(Array.from(c.prepare([{}]).matrix), [-1]);
  });

  it('standardize with given statistics needs no reference; one_hot and category_map make numbers of categories', () => {
    const p = compilePreprocessor({
      features: ['a', 'island_Biscoe', 'island_Dream', 'island_Torgersen', 'sex'],
      preprocess: [
        { kind: 'standardize', columns: ['a'], mean: { a: 1 }, std: { a: 2 } },
        { kind: 'one_hot', column: 'island', categories: ['Biscoe', 'Dream', 'Torgersen'] },
        { kind: 'category_map', column: 'sex', map: { MALE: 0, FEMALE: 1 } },
      ],
    });
    const ok = p.prepare([{ a: 5, island: 'Dream', sex: 'FEMALE' }]);
    assert.deepStrictEqual(Array.from(ok.matrix), [2, 0, 1, 0, 1]);
    const bad = p.prepare([{ a: 5, island: 'Atlantis', sex: 'FEMALE' }, { a: 5, island: 'Dream', sex: 'X' }]);
    assert.deepStrictEqual(bad.errors.map(e => [e.row, e.field, e.rule]), [[0, 'island', 'category'], [1, 'sex', 'category']]);
  });

  it('one_hot takes its categories from the input schema when not listed; extra fields follow allow_extra_columns', () => {
    const schema = 'columns:\n  island: { type: category, allowed: [Biscoe, Dream] }\n';
    const p = pre(['island_Biscoe', 'island_Dream'], [{ kind: 'one_hot', column: 'island' }], schema);
    assert.deepStrictEqual(Array.from(p.prepare([{ island: 'Biscoe' }]).matrix), [1, 0]);
    assert.deepStrictEqual(p.prepare([{ island: 'Dream', extra: 1 }]).errors, []);
    const strict = pre(['island_Biscoe', 'island_Dream'], [{ kind: 'one_hot', column: 'island' }], `${schema}allow_extra_columns: false\n`);
    assert.strictEqual(strict.prepare([{ island: 'Dream', extra: 1 }]).errors[0].rule, 'extra');
  });

  it('fields the model does not use are optional but validated; an integer column refuses fractions', () => {
    const p = pre(['a'], [], 'columns:\n  a: { type: number, min: 0 }\n  n: { type: integer }\n  label: { type: category, allowed: [x, y] }\n');
    assert.deepStrictEqual(p.prepare([{ a: 1 }]).errors, []);
    assert.deepStrictEqual(p.prepare([{ a: 1, n: 1.5, label: 'z' }]).errors.map(e => [e.field, e.rule]), [['n', 'type'], ['label', 'allowed']]);
    assert.deepStrictEqual(p.prepare([{ a: -1 }]).errors.map(e => [e.field, e.rule]), [['a', 'range']]);
    assert.deepStrictEqual(p.prepare([[1]]).errors.map(e => [e.row, e.field, e.rule]), [[0, '', 'type']]);
  });

  it('without reference data, a step that needs it is refused with a sentence', () => {
    assert.throws(() => compilePreprocessor({ features: ['a'], preprocess: [{ kind: 'impute', columns: ['a'], strategy: 'mean' }] }), /needs reference data/);
  });

  it('postprocess: argmax → class names, threshold of the positive class, per-group thresholds, top-k', () => {
    const classes = ['Adelie', 'Chinstrap', 'Gentoo'];
    const scores = Float32Array.from([0.3, 0.5, 0.2, 0.3, 0.5, 0.2]);
    const instances = [{ island: 'Biscoe' }, { island: 'Dream' }];
    assert.deepStrictEqual(compilePostprocessor({ group_thresholds: {} }, classes).answer(scores, 2, 3, instances).map(o => o.prediction), ['Chinstrap', 'Chinstrap']);
    const withThreshold = compilePostprocessor({ positive_class: 'Adelie', threshold: 0.25, group_thresholds: { island: { Dream: 0.4 } }, top_k: 2 }, classes);
    const out = withThreshold.answer(scores, 2, 3, instances);
    assert.deepStrictEqual(out.map(o => o.prediction), ['Adelie', 'Chinstrap']);
    assert.deepStrictEqual(out[0].top_k!.map(x => x.class), ['Chinstrap', 'Adelie']);
    // a row without the group's value is the bias check's `(missing)` group, whose threshold edd monitor may suggest
    const missing = compilePostprocessor({ positive_class: 'Adelie', group_thresholds: { island: { '(missing)': 0.25 } } }, classes);
    assert.deepStrictEqual(missing.answer(scores, 2, 3, [{ island: null }, { island: 'Dream' }]).map(o => o.prediction), ['Adelie', 'Chinstrap']);
    // One probability per row: P(positive) of a binary model.
    const binary = compilePostprocessor({ group_thresholds: {} }, ['no', 'yes']).answer(Float32Array.from([0.8]), 1, 1, [{}]);
    assert.strictEqual(binary[0].prediction, 'yes');
    assert.throws(() => compilePostprocessor({ positive_class: 'Emperor', group_thresholds: {} }, classes), /Emperor/);
  });
});
