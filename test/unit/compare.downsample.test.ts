import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { buildComparison, curvesOf } from '../../src/core/compare/build';
import { ColumnReducer, columnsFor, curveFrame, MAX_COLUMNS, reduceSeries } from '../../src/core/compare/downsample';
import type { Curve } from '../../src/core/compare/model';
import { isHostMessage, isWebviewMessage } from '../../src/protocol/compare';
import { RunStore } from '../../src/core/store';
import { mulberry32 } from '../../src/core/stats';

/** Deterministic pseudo-random numbers (mulberry32). */

/** Irregular steps, a noisy signal and one spike at `spikeAt`. */
function noisy(n: number, seed: number, spikeAt = -1): { steps: number[]; values: number[] } {
  const r = mulberry32(seed);
  const steps: number[] = [];
  const values: number[] = [];
  let x = 0;
  for (let i = 0; i < n; i++) {
    x += 1 + Math.floor(r() * 3);
    steps.push(x);
    values.push(Math.sin(i / 500) + r() * 0.2 + (i === spikeAt ? 50 : 0));
  }
  return { steps, values };
}

const isAscending = (xs: ArrayLike<number>): boolean => Array.from(xs).every((x, i) => i === 0 || x > xs[i - 1]);
/** A frame's y array as the chart draws it: null where the run has no point. */
const drawn = (y: Float64Array): Array<number | null> => Array.from(y, v => (Number.isNaN(v) ? null : v));

describe('compare: curves reduced on the host to what the plot draws', () => {
  it('keeps the min and the max of every pixel column (a one-step spike stays), at their own steps', () => {
    const { steps, values } = noisy(100_000, 3, 77_777);
    const cols = 640;
    const lo = steps[0];
    const hi = steps[steps.length - 1];
    const out = reduceSeries(steps, values, cols, [lo, hi]);
    assert.strictEqual(out.input, 100_000);
    assert.ok(out.steps.length <= 2 * cols + 2, `${out.steps.length} points`);
    assert.ok(isAscending(out.steps));
    const at = new Map(steps.map((s, i) => [s, values[i]]));
    out.steps.forEach((s, i) => assert.strictEqual(out.values[i], at.get(s), `the value at step ${s} is the logged one`));
    // Brute force: every column's min and max are in the output.
    const w = (hi - lo) / cols;
    const kept = new Set(out.steps);
    const columns = new Map<number, { min: number; max: number }>();
    steps.forEach((s, i) => {
      const b = Math.min(cols - 1, Math.floor((s - lo) / w));
      const c = columns.get(b) ?? { min: Infinity, max: -Infinity };
      c.min = Math.min(c.min, values[i]);
      c.max = Math.max(c.max, values[i]);
      columns.set(b, c);
    });
    for (const [b, c] of columns) {
      const inCol = out.steps.map((s, i) => [s, out.values[i]]).filter(([s]) => Math.min(cols - 1, Math.floor((s - lo) / w)) === b).map(([, v]) => v);
      assert.strictEqual(Math.min(...inCol), c.min, `column ${b} min`);
      assert.strictEqual(Math.max(...inCol), c.max, `column ${b} max`);
    }
    assert.ok(kept.has(steps[77_777]) && out.values.includes(Math.max(...values)), 'the spike is kept');
  });

  it('keeps the first and the last point of the range', () => {
    // Monotonic values: each column's min and max are its first and last, but the very first and last must stay.
    const steps = Array.from({ length: 10_000 }, (_, i) => i);
    const values = steps.map(i => Math.cos(i / 50));
    const out = reduceSeries(steps, values, 7, [0, 9_999]);
    assert.strictEqual(out.steps[0], 0);
    assert.strictEqual(out.values[0], 1);
    assert.strictEqual(out.steps[out.steps.length - 1], 9_999);
    assert.strictEqual(out.values[out.values.length - 1], values[9_999]);
    assert.ok(out.steps.length <= 2 * 7 + 2);
    // In a zoomed range: the first and last point inside it.
    const zoom = reduceSeries(steps, values, 3, [1_000.5, 2_000.5]);
    assert.strictEqual(zoom.steps[0], 1_001);
    assert.strictEqual(zoom.steps[zoom.steps.length - 1], 2_000);
    assert.strictEqual(zoom.input, 1_000);
  });

  it('leaves NaN and ±Infinity out (the line spans the gap) and counts only finite points', () => {
    const steps = Array.from({ length: 1_000 }, (_, i) => i);
    const values = steps.map(i => (i % 10 === 0 ? NaN : i === 501 ? Infinity : i === 502 ? -Infinity : i));
    const out = reduceSeries(steps, values, 10, [0, 999]);
    assert.ok(out.values.every(Number.isFinite));
    assert.strictEqual(out.input, 1_000 - 100 - 2);
    assert.strictEqual(out.steps[0], 1, 'the first finite point');
    // Unreduced too: more columns than points.
    const few = reduceSeries([0, 1, 2, 3], [1, NaN, 3, Infinity], 100, [0, 3]);
    assert.deepStrictEqual([few.steps, few.values], [[0, 2], [1, 3]]);
  });

  it('returns x ascending for input in any order; a repeated step keeps its later value', () => {
    const unchanged = reduceSeries([5, 1, 3, 3], [50, 10, 30, 31], 100, [0, 10]);
    assert.deepStrictEqual([unchanged.steps, unchanged.values], [[1, 3, 5], [10, 31, 50]]);
    const r = mulberry32(9);
    const steps = Array.from({ length: 5_000 }, (_, i) => i).sort(() => r() - 0.5);
    const values = steps.map(s => Math.sin(s));
    const out = reduceSeries(steps, values, 50, [0, 4_999]);
    assert.ok(isAscending(out.steps));
    assert.strictEqual(out.steps[0], 0);
    assert.strictEqual(out.steps[out.steps.length - 1], 4_999);
  });

  it('handles no points, one column, and more columns than points (unchanged)', () => {
    assert.deepStrictEqual(reduceSeries([], [], 100, [0, 1]), { steps: [], values: [], input: 0 });
    const steps = Array.from({ length: 1_000 }, (_, i) => i);
    const values = steps.map(i => (i === 400 ? -5 : i === 600 ? 7 : 1));
    const one = reduceSeries(steps, values, 1, [0, 999]);
    assert.deepStrictEqual([one.steps, one.values], [[0, 400, 600, 999], [1, -5, 7, 1]], 'first, min, max, last');
    const wide = reduceSeries(steps, values, 500, [0, 999]);
    assert.deepStrictEqual([wide.steps, wide.values], [steps, values], '2 points per column or fewer: every point');
    const flat = reduceSeries([3, 3], [1, 2], 1, [3, 3]);
    assert.deepStrictEqual([flat.steps, flat.values], [[3], [2]], 'one x: its later value');
  });

  it('reduces a stream of chunks to the same points as the whole series (input streamed from a file)', () => {
    const { steps, values } = noisy(50_000, 4, 123);
    const range: [number, number] = [steps[0], steps[steps.length - 1]];
    const whole = reduceSeries(steps, values, 300, range);
    const streamed = new ColumnReducer(range[0], range[1], 300);
    for (let i = 0; i < steps.length; i += 4_096) streamed.add(steps.slice(i, i + 4_096), values.slice(i, i + 4_096));
    assert.deepStrictEqual(streamed.result(), whole);
  });

  it('pixel columns: CSS width × device pixel ratio, at least 1, at most MAX_COLUMNS', () => {
    assert.strictEqual(columnsFor(800, 1), 800);
    assert.strictEqual(columnsFor(800, 2), 1600);
    assert.strictEqual(columnsFor(0.2, 1), 1);
    assert.strictEqual(columnsFor(100_000, 4), MAX_COLUMNS);
    assert.strictEqual(columnsFor(800, NaN), 800);
  });
});

describe('compare: curve frames for the panel', () => {
  const curve = (runId: string, steps: number[], values: number[]): Curve => ({ runId, metric: 'loss', steps, values });

  it('keeps every run in order; runs logged at the same steps share them exactly', () => {
    const runs = Array.from({ length: 300 }, (_, i) => curve(`r${i}`, [0, 1, 2], [i, i + 1, NaN]));
    runs.push(curve('empty', [], []));
    const f = curveFrame('loss', runs, 500);
    assert.deepStrictEqual(f.runIds, [...runs.map(r => r.runId)]);
    assert.deepStrictEqual(Array.from(f.xs), [0, 1]);
    assert.deepStrictEqual(drawn(f.ys[299]), [299, 300]);
    assert.deepStrictEqual(drawn(f.ys[300]), [null, null], 'a run without points is listed with no values');
    assert.deepStrictEqual(f.points.slice(299), [3, 0]);
    assert.strictEqual(f.reduced, false);
    assert.deepStrictEqual(f.extent, [0, 1], 'the extent of the finite points');
  });

  it('aligns runs with different steps on the union of their steps', () => {
    const f = curveFrame('loss', [curve('a', [0, 2, 4], [1, 2, 3]), curve('b', [1, 2, 5], [7, 8, 9])], 500);
    assert.deepStrictEqual(Array.from(f.xs), [0, 1, 2, 4, 5]);
    assert.deepStrictEqual(f.ys.map(drawn), [[1, null, 2, 3, null], [null, 7, 8, null, 9]]);
    assert.deepStrictEqual([f.extent, f.range], [[0, 5], [0, 5]]);
  });

  it('a zoomed range gets the detail of that range only, reduced the same way', () => {
    const { steps, values } = noisy(200_000, 5, 150_000);
    const full = curveFrame('loss', [curve('a', steps, values)], 400);
    assert.ok(full.reduced && full.xs.length <= 2 * 400 + 2);
    const lo = steps[149_000];
    const hi = steps[151_000];
    const detail = curveFrame('loss', [curve('a', steps, values)], 400, [lo, hi]);
    assert.deepStrictEqual(detail.range, [lo, hi]);
    assert.deepStrictEqual(detail.extent, full.extent, 'the extent stays the whole series\'');
    assert.ok(detail.xs[0] >= lo && detail.xs[detail.xs.length - 1] <= hi);
    assert.ok(detail.xs.length <= 2 * 400 + 2);
    assert.ok(detail.ys[0].includes(values[150_000]), 'the spike is in the detail');
    const close = curveFrame('loss', [curve('a', steps, values)], 400, [steps[1_000], steps[1_100]]);
    assert.strictEqual(close.reduced, false, 'zoomed in enough: every point');
    assert.deepStrictEqual(Array.from(close.xs), steps.slice(1_000, 1_101));
  });

  it('places many reduced runs on slots of their pixel column: values exact, x within its column, bounded size', () => {
    const runs = Array.from({ length: 100 }, (_, i) => {
      const { steps, values } = noisy(20_000, 10 + i, 5_000 + i);
      return curve(`r${i}`, steps, values);
    });
    const cols = 300;
    const f = curveFrame('loss', runs, cols);
    assert.strictEqual(f.snapped, true);
    assert.ok(f.xs.length <= 4 * cols, `${f.xs.length} x slots`);
    assert.ok(isAscending(f.xs));
    const [lo, hi] = f.range!;
    const w = (hi - lo) / cols;
    runs.forEach((r, k) => {
      const reduced = reduceSeries(r.steps, r.values, cols, [lo, hi]);
      const points: Array<[number, number]> = [];
      f.ys[k].forEach((v, i) => { if (!Number.isNaN(v)) points.push([f.xs[i], v]); });
      assert.deepStrictEqual(points.map(d => d[1]), reduced.values, `run ${k}: the reduced values in order`);
      points.forEach(([x], i) => {
        const col = (s: number): number => Math.min(cols - 1, Math.floor((s - lo) / w));
        assert.strictEqual(col(x), col(reduced.steps[i]), `run ${k}: point ${i} in its column`);
      });
    });
  });

  it('no point at all: an empty frame', () => {
    const f = curveFrame('loss', [curve('a', [1, 2], [NaN, NaN])], 100);
    assert.deepStrictEqual([f.xs.length, f.ys.map(y => y.length), f.extent, f.range], [0, [0], null, null]);
  });

  it('reads a 20,000-step metric from a real store and sends at most two points per column', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edd-curves-'));
    const store = await RunStore.open(path.join(dir, '.edd/edd.sqlite'));
    try {
      const a = store.createRun({ experimentId: 'exp_a', status: 'finished' });
      const b = store.createRun({ experimentId: 'exp_b', status: 'finished' });
      const { steps, values } = noisy(20_000, 6, 12_345);
      store.addMetrics(steps.map((step, i) => ({ runId: a.id, key: 'loss', step, value: values[i] })));
      store.addMetrics([{ runId: b.id, key: 'loss', step: 1, value: 2 }, { runId: b.id, key: 'loss', step: 2, value: 1 }]);
      const curves = curvesOf(store, [a.id, b.id], 'loss');
      const f = curveFrame('loss', curves, columnsFor(500, 1));
      assert.deepStrictEqual(f.points, [20_000, 2]);
      const drawnA = f.ys[0].filter(v => !Number.isNaN(v)).length;
      assert.ok(drawnA <= 2 * 500 + 2, `${drawnA} points of run a`);
      assert.ok(f.ys[0].includes(values[12_345]), 'the spike');
      assert.deepStrictEqual(Array.from(f.ys[1].filter(v => !Number.isNaN(v))), [2, 1], 'the short run: every point');
      const bytes = f.xs.byteLength + f.ys.reduce((n, y) => n + y.byteLength, 0);
      assert.ok(bytes < 40_000, `the message is small: ${bytes} bytes of points`);
    } finally {
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('compare: curve messages are checked on arrival', () => {
  const request = { type: 'requestCurves', metric: 'loss', seq: 3, width: 812, pixelRatio: 2 };

  it('host side: requestCurves needs a metric, a seq, a sane width and pixel ratio, and an ordered finite range', () => {
    assert.ok(isWebviewMessage(request));
    assert.ok(isWebviewMessage({ ...request, range: [10, 20.5] }));
    for (const bad of [
      { ...request, metric: 1 }, { ...request, seq: -1 }, { ...request, seq: 1.5 }, { ...request, width: 0 }, { ...request, width: NaN },
      { ...request, width: 1e9 }, { ...request, pixelRatio: 0 }, { ...request, pixelRatio: '2' }, { ...request, range: [20, 10] },
      { ...request, range: [0, Infinity] }, { ...request, range: [1] }, { ...request, range: 'all' }, { type: 'requestCurves', metric: 'loss' },
    ]) assert.strictEqual(isWebviewMessage(bad), false, JSON.stringify(bad));
  });

  it('webview side: a frame needs one y array per run as long as x, numbers or null, x ascending', () => {
    const frame = curveFrame('loss', [{ runId: 'a', metric: 'loss', steps: [0, 1, 2], values: [3, 2, 1] }, { runId: 'b', metric: 'loss', steps: [1], values: [5] }], 100);
    assert.ok(isHostMessage({ type: 'curves', seq: 1, frame }));
    const f64 = (...v: number[]): Float64Array => Float64Array.from(v);
    assert.ok(isHostMessage({ type: 'curves', seq: 1, frame: { ...frame, ys: [f64(3, 2, 1), f64(NaN, 5, NaN)] } }), 'NaN is no point');
    for (const patch of [
      { ys: [f64(3, 2, 1)] }, { ys: [f64(3, 2), f64(NaN, 5, NaN)] }, { ys: [[3, 2, 1], f64(NaN, 5, NaN)] }, { ys: [f64(3, Infinity, 1), f64(NaN, 5, NaN)] },
      { xs: f64(0, 2, 1) }, { xs: [0, 1, 2] }, { xs: f64(0, NaN, 2) }, { runIds: ['a', 2] }, { points: [3] }, { range: [2, 0] }, { metric: null }, { reduced: 'no' },
    ]) assert.strictEqual(isHostMessage({ type: 'curves', seq: 1, frame: { ...frame, ...patch } }), false, JSON.stringify(patch));
    assert.strictEqual(isHostMessage({ type: 'curves', frame }), false, 'no seq');
    assert.strictEqual(isHostMessage({ type: 'curves', seq: 1, metric: 'loss', curves: [] }), false, 'the old whole-curves shape');
  });
});

describe('compare: building a comparison of runs with long metric histories', function () {
  this.timeout(120000);

  it('gives best, last and final of a 200,000-step metric (read in one pass; no spread of every value)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edd-long-'));
    const store = await RunStore.open(path.join(dir, '.edd/edd.sqlite'));
    try {
      const a = store.createRun({ experimentId: 'exp_a', status: 'finished' });
      const b = store.createRun({ experimentId: 'exp_b', status: 'finished' });
      const n = 200_000;
      store.addMetrics(Array.from({ length: n }, (_, i) => ({ runId: a.id, key: 'loss', step: i, value: i === 1_234 ? 0.001 : 1 / (i + 1) + 0.01, time: 1_000 + i })));
      // Logged last (by time) at an earlier step: `last` is by time, `final` by step.
      store.addMetrics([{ runId: a.id, key: 'loss', step: 10, value: NaN, time: 10_000_000 }, { runId: a.id, key: 'accuracy', step: 1, value: 0.5, time: 1 }]);
      store.addMetrics([{ runId: b.id, key: 'loss', step: 1, value: 0.7, time: 5 }, { runId: b.id, key: 'loss', step: 2, value: 0.6, time: 6 }]);
      const c = await buildComparison(store, [a.id, b.id], { workspaceRoot: dir, measureLatency: false });
      const loss = c.metrics.find(m => m.key === 'loss')!;
      assert.deepStrictEqual(loss.best, [0.001, 0.6]);
      assert.ok(Number.isNaN(loss.last[0]!) && loss.last[1] === 0.6, JSON.stringify(loss.last));
      assert.strictEqual(loss.final[0], 1 / n + 0.01);
      assert.deepStrictEqual(c.curveMetrics, ['loss'], 'accuracy has one step: no curve');
      assert.deepStrictEqual(c.metrics.find(m => m.key === 'accuracy')!.best, [0.5, null]);
    } finally {
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
