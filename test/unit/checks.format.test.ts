import * as assert from 'assert';
import { anomaliesCheck } from '../../src/core/checks/anomalies';
import { fmt, nameList } from '../../src/core/checks/format';
import { CheckInputError, specObject } from '../../src/core/checks/harness';
import { regressionCheck } from '../../src/core/checks/regression';
import type { GateContext } from '../../src/core/checks/types';
import { datasetOf } from './checkData';

describe('checks: the shared message helpers (fmt, nameList, specObject)', () => {
  it('fmt: four significant digits, exponent form below 1e-4 and from 1e6 on, no trailing zeros', () => {
    assert.strictEqual(fmt(0), '0');
    assert.strictEqual(fmt(-0), '0');
    assert.strictEqual(fmt(0.123456), '0.1235');
    assert.strictEqual(fmt(1), '1');
    assert.strictEqual(fmt(0.9), '0.9');
    assert.strictEqual(fmt(-2.5), '-2.5');
    assert.strictEqual(fmt(1234.5678), '1235');
    assert.strictEqual(fmt(999_999), '1000000');
    assert.strictEqual(fmt(0.0001), '0.0001');
    assert.strictEqual(fmt(0.0000123456), '1.235e-5');
    assert.strictEqual(fmt(1e-9), '1e-9');
    assert.strictEqual(fmt(-3.2e-12), '-3.2e-12');
    assert.strictEqual(fmt(2_500_000), '2.5e+6');
    assert.strictEqual(fmt(1234567), '1.235e+6');
    assert.strictEqual(fmt(NaN), 'NaN');
    assert.strictEqual(fmt(Infinity), 'Infinity');
    assert.strictEqual(fmt(-Infinity), '-Infinity');
  });

  it('nameList: quoted names, "(N more)" past the limit, "(none)" for an empty list', () => {
    assert.strictEqual(nameList(['a', 'b c', ' Adelie']), '"a", "b c", " Adelie"');
    assert.strictEqual(nameList([]), '(none)');
    assert.strictEqual(nameList(['x', 'y', 'z', 'w'], 2), '"x", "y", … (2 more)');
    const many = Array.from({ length: 32 }, (_, i) => `c${i}`);
    assert.match(nameList(many), /^"c0", "c1", .*"c29", … \(2 more\)$/);
    assert.strictEqual(nameList(many.slice(0, 30)), many.slice(0, 30).map(n => `"${n}"`).join(', '));
  });

  it('specObject: a mapping passes; anything else is a CheckInputError that names the check, the value and the fix', () => {
    const spec = { min: 0.9 };
    assert.strictEqual(specObject('metric', spec), spec);
    for (const [value, shown] of [[null, 'null'], [3, '3'], ['f1', '"f1"'], [[1, 2], '[1,2]'], [undefined, 'undefined']] as const) {
      assert.throws(() => specObject('metric', value), (e: Error) =>
        e instanceof CheckInputError && e.message === `the \`metric\` check needs a mapping of options, got ${shown}; write it as \`metric: { … }\`.`);
    }
  });

  it('a data check and a model check given a scalar both report status error with the same sentence', async () => {
    const ctx: GateContext = { root: '.', eval: datasetOf({ a: [1, 2, 3], label: ['x', 'y', 'x'] }), label: 'label', features: ['a'] };
    const data = await anomaliesCheck(ctx, 5 as unknown as Record<string, unknown>, '1-anomalies');
    const model = await regressionCheck(ctx, 5 as never, '2-regression');
    assert.strictEqual(data.status, 'error');
    assert.strictEqual(data.message, 'the `anomalies` check needs a mapping of options, got 5; write it as `anomalies: { … }`.');
    assert.strictEqual(model.status, 'error');
    assert.strictEqual(model.message, 'the `regression` check needs a mapping of options, got 5; write it as `regression: { … }`.');
  });
});
