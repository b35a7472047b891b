import * as assert from 'assert';
import { anomaliesCheck } from '../../src/core/checks/anomalies';
import { fmt, nameList } from '../../src/core/checks/format';
import {
  CheckInputError, optionalBoolean, optionalInteger, optionalNumber, optionalObject, rejectUnknownOptions, specObject,
} from '../../src/core/checks/harness';
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

  it('the option readers: absent or null is undefined; a wrong value names the option path, the value and what it must be', () => {
    const fails = (f: () => unknown, message: string) =>
      assert.throws(f, (e: Error) => e instanceof CheckInputError && e.message === message, message);
    const s = { n: 0.5, i: 3, b: false, o: { max: 0.2 }, nul: null, text: '1', half: 2.5, inf: Infinity, list: [1] };
    assert.strictEqual(optionalNumber(s, 'n', 'metric'), 0.5);
    assert.strictEqual(optionalNumber(s, 'nul', 'metric'), undefined);
    assert.strictEqual(optionalNumber(s, 'absent', 'metric'), undefined);
    assert.strictEqual(optionalNumber(undefined, 'max', 'drift.psi'), undefined, 'an unset mapping has no options');
    fails(() => optionalNumber(s, 'text', 'metric'), '`metric.text` must be a number, got "1".');
    fails(() => optionalNumber(s, 'inf', 'drift.psi'), '`drift.psi.inf` must be a number, got Infinity.');
    assert.strictEqual(optionalInteger(s, 'i', 'latency', 1), 3);
    assert.strictEqual(optionalInteger(s, 'absent', 'latency', 1), undefined);
    fails(() => optionalInteger(s, 'half', 'regression'), '`regression.half` must be an integer, got 2.5.');
    fails(() => optionalInteger(s, 'i', 'latency', 4), '`latency.i` must be an integer ≥ 4, got 3.');
    fails(() => optionalInteger({ runs: 0 }, 'runs', 'latency', 1), '`latency.runs` must be a positive integer, got 0.');
    fails(() => optionalInteger(s, 'i', 'drift.psi', 5, 10), '`drift.psi.i` must be an integer from 5 to 10, got 3.');
    fails(() => optionalInteger(s, 'text', 'latency', 1), '`latency.text` must be a number, got "1".');
    assert.strictEqual(optionalBoolean(s, 'b', 'output'), false);
    assert.strictEqual(optionalBoolean(s, 'nul', 'output'), undefined);
    fails(() => optionalBoolean(s, 'text', 'output'), '`output.text` must be true or false, got "1".');
    assert.deepStrictEqual(optionalObject(s, 'o', 'drift', '{ max: 0.2 }'), { max: 0.2 });
    assert.strictEqual(optionalObject(s, 'absent', 'drift', '{ max: 0.2 }'), undefined);
    fails(() => optionalObject(s, 'list', 'drift', '{ max: 0.2 }'), '`drift.list` must be a mapping such as `list: { max: 0.2 }`, got [1].');
    rejectUnknownOptions('drift', { ks: {} }, ['ks', 'psi']);
    fails(() => rejectUnknownOptions('drift', { ks: {}, kss: {} }, ['ks', 'psi']), 'drift: unknown option "kss"; the options are "ks", "psi".');
    fails(() => rejectUnknownOptions('data_schema', { fil: 'x' }, ['file']), 'data_schema: unknown option "fil"; the only option is "file".');
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
