import * as assert from 'assert';
import { validateExperiment, type ValidateOptions, type ValidationResult } from '../../src/core/config';

// Generated inputs. Timings are printed for the record, never asserted (machines differ); mocha's 60 s timeout
// is the only limit.

const head = 'experiment:\n  id: "exp_20250101_001"\n  name: "large"\n  hypothesis: "Large files validate"\n  parameters:\n    model_type: "mlp"\n';

function timed(label: string, text: string, options?: ValidateOptions): ValidationResult {
  const started = performance.now();
  const result = validateExperiment(text, options);
  const ms = performance.now() - started;
  const lines = text.split('\n').length;
  console.log(`      ${label}: ${(text.length / 1e6).toFixed(1)} MB, ${lines} lines, ${result.problems.length} problems, ${ms.toFixed(0)} ms`);
  return result;
}

function lines(n: number, line: (i: number) => string): string {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(line(i));
  return out.join('\n') + '\n';
}

describe('validateExperiment: large inputs', () => {
  it('validates a 40k-line config (40k custom hyperparameters, just under the 1 MB limit) without problems', () => {
    const text = head + lines(40_000, i => `    param_${i}: ${i}`);
    assert.ok(text.length < 1024 * 1024);
    const result = timed('40k parameters', text);
    assert.deepStrictEqual(result.problems, []);
    assert.strictEqual(Object.keys((result.value as { experiment: { parameters: object } }).experiment.parameters).length, 40_001);
  });

  it('refuses a ~10 MB config (results with 200k metrics) with one problem, without parsing it', () => {
    let body = '';
    for (let i = 0; body.length < 10 * 1024 * 1024; i++) body += `    metric_number_${i}_with_a_long_name: 0.${i % 1000}\n`;
    const text = head + '  results:\n' + body;
    assert.deepStrictEqual(timed('10 MB of results', text).problems.map(p => p.code), ['file-too-large']);
  });

  it('validates a 1 MB single-line string value, and refuses a 10 MB one', () => {
    assert.deepStrictEqual(timed('1 MB description', head + '  description: "' + 'x'.repeat(1000 * 1000) + '"\n').problems, []);
    assert.deepStrictEqual(timed('10 MB description', head + '  description: "' + 'x'.repeat(10 * 1024 * 1024) + '"\n').problems.map(p => p.code), ['file-too-large']);
  });

  it('stays linear on a 20k-key mapping full of duplicate keys', () => {
    const dupes = (n: number) => head + lines(n, i => `    k${i % (n / 10)}: ${i}`);
    const small = timed('10k keys, 9k duplicates', dupes(10_000));
    const large = timed('20k keys, 18k duplicates', dupes(20_000));
    timed('40k keys, 36k duplicates', dupes(40_000));
    for (const r of [small, large]) {
      assert.strictEqual(r.problems.length, 1001, '1000 problems and the summary');
      assert.ok(r.problems.slice(0, 1000).every(p => p.code === 'duplicate-key'));
    }
    assert.strictEqual(large.problems[1000].message, '17000 more problems are not shown.');
  });

  it('stays linear on a mapping with thousands of schema errors (unknown keys, wrong types)', () => {
    const unknown = (n: number) => head + lines(n, i => `  extra_${i}: ${i}`);
    const wrongType = (n: number) => head + '  results:\n' + lines(n, i => `    m${i}: "0.5"`);
    for (const n of [10_000, 20_000, 40_000]) {
      assert.strictEqual(timed(`${n / 1000}k unknown keys`, unknown(n)).problems[0].code, 'unknown-key');
      assert.strictEqual(timed(`${n / 1000}k quoted numbers`, wrongType(n)).problems[0].code, 'wrong-type');
    }
  });

  describe('the maxProblems cap', () => {
    const text = head + '  results:\n' + lines(50, i => `    m${i}: "0.5"`);

    it('keeps the first problems and adds a final `file-too-large` info problem', () => {
      const all = validateExperiment(text).problems;
      assert.strictEqual(all.length, 50);
      const capped = validateExperiment(text, { maxProblems: 10 }).problems;
      assert.strictEqual(capped.length, 11);
      assert.deepStrictEqual(capped.slice(0, 10), all.slice(0, 10));
      const last = capped[10];
      assert.strictEqual(last.code, 'file-too-large');
      assert.strictEqual(last.severity, 'info');
      assert.strictEqual(last.message, '40 more problems are not shown.');
      assert.strictEqual(last.offset, capped[9].offset, 'placed on the last problem shown');
    });

    it('adds nothing when the problems fit', () => {
      const problems = validateExperiment(text, { maxProblems: 50 }).problems;
      assert.strictEqual(problems.length, 50);
      assert.ok(problems.every(p => p.code === 'wrong-type'));
    });

    it('defaults to 1000', () => {
      const many = head + '  results:\n' + lines(1500, i => `    m${i}: "0.5"`);
      const problems = validateExperiment(many).problems;
      assert.strictEqual(problems.length, 1001);
      assert.strictEqual(problems[1000].message, '500 more problems are not shown.');
    });
  });
});
