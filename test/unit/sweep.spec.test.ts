import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { parse } from 'yaml';
import { completeAt, hoverAt, validateExperiment, type Problem } from '../../src/core/config';
import { MedianStopper, expandTrials, sweepProgress, readSweepSpec, sweepIdOf, trialConfigText, trialCount } from '../../src/core/sweep';

const root = path.resolve(__dirname, '../../..');
const gridText = fs.readFileSync(path.join(root, 'test/fixtures/sweep/grid.yaml'), 'utf8');

/** The grid fixture with its `sweep:` block replaced by `block` (indented under `experiment:`). */
function withSweep(block: string): string {
  const head = gridText.slice(0, gridText.indexOf('  sweep:\n'));
  return head + block.replace(/^/gm, '  ').trimEnd() + '\n';
}

const sweepProblems = (text: string): Problem[] => validateExperiment(text).problems.filter(p => p.code.startsWith('sweep-') || p.severity === 'error');
const at = (text: string, p: Problem) => text.slice(p.offset, p.offset + p.length);

describe('sweep spec: trials, sampling, diagnostics', () => {
  it('the fixture grid validates cleanly and expands to 3 × 3 configurations × 3 seeds, replicates adjacent', () => {
    assert.deepStrictEqual(validateExperiment(gridText).problems, []);
    const trials = expandTrials(readSweepSpec(parse(gridText)));
    assert.strictEqual(trials.length, 27);
    assert.deepStrictEqual(trials.map(t => t.index), [...Array(27).keys()]);
    assert.deepStrictEqual(trials.slice(0, 4).map(t => [t.seed, t.overrides]), [
      [0, { 'parameters.learning_rate': 0.001, 'parameters.batch_size': 16 }],
      [1, { 'parameters.learning_rate': 0.001, 'parameters.batch_size': 16 }],
      [2, { 'parameters.learning_rate': 0.001, 'parameters.batch_size': 16 }],
      [0, { 'parameters.learning_rate': 0.001, 'parameters.batch_size': 32 }],
    ]);
    const distinct = new Set(trials.map(t => JSON.stringify([t.overrides, t.seed])));
    assert.strictEqual(distinct.size, 27);
  });

  it('a trial config sets the overrides and the seed, keeps comments, and still validates', () => {
    const trial = expandTrials(readSweepSpec(parse(gridText)))[8];
    const text = trialConfigText(gridText, trial);
    const exp = parse(text).experiment;
    assert.strictEqual(exp.parameters.learning_rate, 0.001);
    assert.strictEqual(exp.parameters.batch_size, 64);
    assert.strictEqual(exp.random_seed, 2);
    assert.ok(text.startsWith('# edd: experiment\n'));
    assert.deepStrictEqual(validateExperiment(text).problems, []);
  });

  const randomBlock = (seed: number) => `sweep:
  method: random
  sampling_seed: ${seed}
  run_cap: 40
  seeds: [0, 1]
  parameters:
    parameters.learning_rate: { distribution: log_uniform_values, min: 1.0e-4, max: 1.0e-1 }
    parameters.batch_size: { distribution: int_uniform, min: 8, max: 128 }
    parameters.epochs: { distribution: q_uniform, min: 2, max: 20, q: 2 }
    parameters.step_ms: { distribution: normal, mu: 5, sigma: 1 }
    parameters.model_type: { values: [logistic_regression, random_forest] }
`;

  it('random sampling is reproducible from the sampling seed, differs with another seed, and stays in bounds', () => {
    const text = withSweep(randomBlock(11));
    assert.deepStrictEqual(validateExperiment(text).problems, []);
    const a = expandTrials(readSweepSpec(parse(text)));
    const b = expandTrials(readSweepSpec(parse(withSweep(randomBlock(11)))));
    const c = expandTrials(readSweepSpec(parse(withSweep(randomBlock(12)))));
    assert.strictEqual(a.length, 40);
    assert.deepStrictEqual(a, b);
    assert.notDeepStrictEqual(a.map(t => t.overrides), c.map(t => t.overrides));
    // Replicates share their configuration; 20 configurations are drawn for 40 runs with 2 seeds.
    for (let i = 0; i < a.length; i += 2) assert.deepStrictEqual(a[i].overrides, a[i + 1].overrides);
    assert.strictEqual(new Set(a.map(t => JSON.stringify(t.overrides))).size, 20);
    for (const { overrides: o } of a) {
      const lr = o['parameters.learning_rate'] as number;
      assert.ok(lr >= 1e-4 && lr <= 1e-1, String(lr));
      const bs = o['parameters.batch_size'] as number;
      assert.ok(Number.isInteger(bs) && bs >= 8 && bs <= 128, String(bs));
      const ep = o['parameters.epochs'] as number;
      assert.ok(ep % 2 === 0 && ep >= 2 && ep <= 20, String(ep));
      assert.ok(['logistic_regression', 'random_forest'].includes(o['parameters.model_type'] as string));
    }
  });

  it("W&B's log_uniform takes natural-log bounds: min ln(1e-4), max ln(1e-1) draws between 1e-4 and 1e-1, spread over the decades", () => {
    const text = withSweep(`sweep:
  method: random
  run_cap: 2000
  parameters:
    parameters.learning_rate: { distribution: log_uniform, min: -9.2103404, max: -2.3025851 }
`);
    assert.deepStrictEqual(validateExperiment(text).problems, []);
    const values = expandTrials(readSweepSpec(parse(text))).map(t => t.overrides['parameters.learning_rate'] as number);
    assert.ok(values.every(v => v >= 1e-4 * 0.9999999 && v <= 1e-1 * 1.0000001));
    // Log-uniform: about a third of the draws in each decade (a plain uniform would put 90% in the last one).
    for (const [lo, hi] of [[1e-4, 1e-3], [1e-3, 1e-2], [1e-2, 1e-1]]) {
      const share = values.filter(v => v >= lo && v < hi).length / values.length;
      assert.ok(Math.abs(share - 1 / 3) < 0.05, `${lo}…${hi}: ${share}`);
    }
  });

  it('grid with a distribution: an error on the parameter key', () => {
    const text = withSweep(`sweep:
  method: grid
  parameters:
    parameters.learning_rate: { distribution: log_uniform_values, min: 1.0e-4, max: 1.0e-1 }
`);
    const ps = sweepProblems(text);
    assert.deepStrictEqual(ps.map(p => [p.code, p.severity, at(text, p)]), [['sweep-grid-distribution', 'error', 'parameters.learning_rate']]);
    assert.match(ps[0].message, /log_uniform_values/);
  });

  it('random without run_cap: an error on the method', () => {
    const text = withSweep(`sweep:
  method: random
  parameters:
    parameters.learning_rate: { distribution: uniform, min: 0.001, max: 0.1 }
`);
    assert.deepStrictEqual(sweepProblems(text).map(p => [p.code, p.severity, at(text, p)]), [['sweep-run-cap-missing', 'error', 'random']]);
  });

  it('an override key the base config does not have: an error on the key, with a rename fix to the close one', () => {
    const text = withSweep(`sweep:
  method: grid
  parameters:
    parameters.learnig_rate: { values: [0.1, 0.01] }
    parameters.momentum: { values: [0.9] }
`);
    const ps = sweepProblems(text);
    assert.deepStrictEqual(ps.map(p => [p.code, p.severity, at(text, p)]), [
      ['sweep-unknown-override', 'error', 'parameters.learnig_rate'],
      ['sweep-unknown-override', 'error', 'parameters.momentum'],
    ]);
    assert.match(ps[0].message, /parameters\.learning_rate/);
    assert.strictEqual(ps[0].fixes?.[0].edits[0].newText, 'parameters.learning_rate');
    assert.strictEqual(ps[1].fixes, undefined);
  });

  it('a grid over 1,000 trials: a warning on the method with the count; under it, nothing', () => {
    const values = (n: number) => `[${Array.from({ length: n }, (_, i) => i + 1).join(', ')}]`;
    const big = withSweep(`sweep:
  method: grid
  seeds: [0, 1, 2]
  parameters:
    parameters.batch_size: ${'{ values: ' + values(20) + ' }'}
    parameters.epochs: ${'{ values: ' + values(17) + ' }'}
`);
    const ps = sweepProblems(big);
    assert.deepStrictEqual(ps.map(p => [p.code, p.severity, at(big, p)]), [['sweep-grid-large', 'warning', 'grid']]);
    assert.match(ps[0].message, /1020 trials/);
    assert.strictEqual(trialCount(readSweepSpec(parse(big))), 1020);
    const small = big.replace(values(17), values(16));
    assert.deepStrictEqual(sweepProblems(small), []);
  });

  it('schema errors land at the exact key: an unknown distribution, a bad method, an unknown sweep key', () => {
    const text = withSweep(`sweep:
  method: bayes
  run_cap: 3
  parameters:
    parameters.learning_rate: { distribution: beta, min: 0.1, max: 0.2 }
  early_stop: { type: median }
`);
    const ps = validateExperiment(text).problems.filter(p => p.severity === 'error');
    const sites = ps.map(p => [p.code, at(text, p)]);
    assert.ok(sites.some(([c, s]) => c === 'invalid-value' && s === 'bayes'), JSON.stringify(sites));
    assert.ok(sites.some(([c, s]) => c === 'invalid-value' && s === 'beta'), JSON.stringify(sites));
    assert.ok(sites.some(([c, s]) => c === 'unknown-key' && s === 'early_stop'), JSON.stringify(sites));
  });

  it('the median rule stops a trial worse than the median of at least two others at the same step, not before min_steps', () => {
    const stop = new MedianStopper('acc', 'maximize', 2);
    for (const step of [0, 1, 2]) {
      assert.strictEqual(stop.observe(0, 'acc', step, 0.8), undefined);
      assert.strictEqual(stop.observe(1, 'acc', step, 0.9), undefined);
    }
    assert.strictEqual(stop.observe(2, 'acc', 1, 0.1), undefined); // before min_steps
    assert.strictEqual(stop.observe(2, 'loss', 2, 0.1), undefined); // another metric
    assert.match(stop.observe(2, 'acc', 2, 0.1) ?? '', /median 0\.85 of 2 other trials/);
    assert.strictEqual(stop.observe(3, 'acc', 2, 0.86), undefined);
    const min = new MedianStopper('loss', 'minimize', 0);
    min.observe(0, 'loss', 0, 1);
    assert.strictEqual(min.observe(1, 'loss', 0, 5), undefined); // one other only
    min.observe(2, 'loss', 0, 2);
    assert.ok(min.observe(3, 'loss', 0, 3) !== undefined);
  });

  it('completion and hover inside the sweep block come from the schema', () => {
    const text = withSweep(`sweep:
  method: random
  run_cap: 4
  parameters:
    parameters.learning_rate:
      distribution: log_uniform
      min: -9
      max: -2
`);
    assert.deepStrictEqual(validateExperiment(text).problems, []);
    const marked = text.replace('    run_cap: 4\n', '    run_cap: 4\n    \n');
    const keys = completeAt(marked, marked.indexOf('run_cap: 4\n') + 'run_cap: 4\n    '.length).map(e => e.label);
    for (const k of ['metric', 'seeds', 'max_parallel', 'early_terminate', 'sampling_seed']) assert.ok(keys.includes(k), `${k} in ${keys.join(', ')}`);
    assert.ok(!keys.includes('method'), 'keys already present are not offered');
    const value = text.indexOf('distribution: log_uniform') + 'distribution: '.length;
    const distributions = completeAt(text.slice(0, value) + text.slice(value + 'log_uniform'.length), value).map(e => e.label);
    assert.deepStrictEqual(distributions, ['int_uniform', 'uniform', 'q_uniform', 'log_uniform_values', 'log_uniform', 'normal']);
    const hover = hoverAt(text, text.indexOf('distribution:') + 3);
    assert.match(hover?.contents ?? '', /natural logarithms/);
  });

  it('sweep progress counts each trial once, by its best run: done, running, failed, cancelled', () => {
    const run = (trial: number, status: 'finished' | 'running' | 'failed' | 'cancelled' | 'interrupted', stopped = false) =>
      ({ status, tags: { sweep_id: 'sw-1', trial_index: String(trial), ...(stopped ? { sweep_stopped: 'median' } : {}) } });
    assert.deepStrictEqual(sweepProgress([
      run(0, 'finished'), run(1, 'interrupted'), run(1, 'finished'), // resumed: done, not failed
      run(2, 'cancelled', true), // stopped early: done
      run(3, 'running'), run(4, 'failed'), run(5, 'interrupted'), run(6, 'cancelled'),
    ]), { done: 3, running: 1, failed: 2, cancelled: 1, total: null });
    // The total comes from the runs' sweep_trials tag; a resumed sweep whose config grew shows the larger count.
    const sized = (trial: number, status: 'finished' | 'running', total: string) => ({ status, tags: { sweep_id: 'sw-1', trial_index: String(trial), sweep_trials: total } });
    assert.deepStrictEqual(sweepProgress([sized(0, 'finished', '27'), sized(1, 'running', '27')]), { done: 1, running: 1, failed: 0, cancelled: 0, total: 27 });
    assert.strictEqual(sweepProgress([sized(0, 'finished', '4'), sized(5, 'finished', '6'), sized(1, 'finished', 'x')]).total, 6);
  });

  it('the sweep id is derived from the config path and the start time', () => {
    const t0 = new Date('2026-12-07T10:00:00Z');
    assert.strictEqual(sweepIdOf('a.yaml', t0), sweepIdOf('a.yaml', new Date(t0)));
    assert.notStrictEqual(sweepIdOf('a.yaml', t0), sweepIdOf('b.yaml', t0));
    assert.notStrictEqual(sweepIdOf('a.yaml', t0), sweepIdOf('a.yaml', new Date(t0.getTime() + 1)));
    assert.match(sweepIdOf('a.yaml', t0), /^sw-[0-9a-f]{12}$/);
  });
});
