/**
 * Benchmark: the comparison panel, host side (Node) and webview (the real bundle in headless Chromium, under the
 * strict CSP).
 *
 *   npm run bench:compare
 *
 * (a) first render of a comparison of 100 runs × 30 metrics (+ 40 params, significance, intervals and costs for
 *     every run): from posting the `comparison` message in the page to the first paint after the render (the app's
 *     `edd-compare-rendered` event, dispatched after a frame) — a fresh page per sample;
 * (b) the same comparison again on the same page (a live update);
 * (c) curves, end to end, for 1 run × 1,000,000 points, 1 run × 100,000, 1,000 runs × 1,000 and 100 runs × 10,000:
 *     worker = what the panel's host does: ask the store worker (the real one, dist/storeWorker.js, owning the real
 *             store) for the frame; it reads the points (`curvesOf`), reduces them for the plot the webview asked for
 *             (`curveFrame`) and posts the frame back (cold: points read again; zoom: the worker's cached points);
 *     host  = the worker's answer + serialise the message as VS Code's postMessage does (JSON, typed arrays'
 *             buffers beside it); `store read` and `reduce` are the same two steps timed apart in this process;
 *             `first …` = the same with the curve caches removed (the first view of a long curve parses its history
 *             and writes its cache; later views read the cache);
 *     page  = rebuild the message in the page, post it (the structured clone a webview's message goes through) and
 *             render until painted;
 *     total = worker (cold) + serialise + page, against the target; and the ratio of total to raw uPlot drawing every point of the same
 *     curves in the same browser (a plain page with uPlot alone, same plot size, data built before the clock starts).
 * (d) a sweep of 1,000 runs (src/core/compare/sweep.ts over a real store; webview/compare/sweep.ts in the page):
 *     host  = buildSweepComparison (best trial, groups with Welch + Holm, η² per parameter);
 *     first complete view = posting the comparison of the 1,000 runs and the sweep until both are painted (tables,
 *             parallel coordinates, scatter, groups, importance), a fresh page per sample;
 *     views alone = the sweep message again on that page, until painted;
 *     brush = a keyboard brush step on a parallel-coordinates axis until the chart, the scatter and the filtered
 *             run table are painted.
 *
 * `node out/test/bench/compare.render.js --sweep` runs (d) alone.
 *
 * Prints medians of several runs against the targets with PASS/MISS; never fails on a miss (exit code 0). Exits
 * non-zero only when something is broken (the page does not render).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { curvesOf } from '../../src/core/compare/build';
import { columnsFor, curveFrame } from '../../src/core/compare/downsample';
import type { CurveRequest, HostMessage } from '../../src/protocol/compare';
import { RunStore } from '../../src/core/store';
import { runFolderName } from '../../src/core/store/history';
import { buildSweepComparison } from '../../src/core/compare/sweep';
import { StoreWorkerClient } from '../../src/extension/runs/storeClient';
import { comparisonMessage, curve, largeComparison } from '../webview/fixtures';
import { openPanel, ROOT, startHarness, type Harness, type Panel } from '../webview/harness';
import { stats, type Stats } from './stats';

const REPS = 7;
const TARGET_RENDER_MS = 500;
const CURVE_SCENARIOS: Array<{ name: string; runs: number; points: number; target?: number; reps: number }> = [
  { name: '1 run × 1,000,000 points', runs: 1, points: 1_000_000, target: 300, reps: 5 },
  { name: '1 run × 100,000 points', runs: 1, points: 100_000, target: 100, reps: 7 },
  { name: '1,000 runs × 1,000 points', runs: 1_000, points: 1_000, target: 1_000, reps: 5 },
  { name: '100 runs × 10,000 points', runs: 100, points: 10_000, reps: 3 },
];


/** A message as VS Code's postMessage carries it (engines ≥ 1.57): JSON text, with typed arrays' buffers beside it. */
interface Wire {
  json: string;
  buffers: Float64Array[];
}

function toWire(msg: HostMessage): Wire {
  const buffers: Float64Array[] = [];
  const json = JSON.stringify(msg, (_k, v: unknown) => (v instanceof Float64Array ? { $buffer: buffers.push(v) - 1 } : v));
  return { json, buffers };
}

/**
 * Posts `msg` in the page (rebuilding it there first from its wire form, as the webview receives it) and resolves
 * with the ms until the app reports the render of `what` painted.
 */
async function timeInPage(p: Panel, msg: HostMessage | Wire, what: 'comparison' | 'curves'): Promise<number> {
  return p.page.evaluate(([m, w]) => new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${w as string} render within 30 s`)), 30_000);
    const on = (e: Event): void => {
      const d = (e as CustomEvent<{ what: string; time: number }>).detail;
      if (d.what !== w) return;
      document.removeEventListener('edd-compare-rendered', on);
      clearTimeout(timer);
      resolve(d.time - t0);
    };
    document.addEventListener('edd-compare-rendered', on);
    const t0 = performance.now();
    const wire = m as { json?: unknown; buffers?: Float64Array[] };
    const data = typeof wire.json === 'string'
      ? JSON.parse(wire.json, (_k, v: unknown) => (typeof v === 'object' && v !== null && '$buffer' in v ? wire.buffers![(v as { $buffer: number }).$buffer] : v)) as unknown
      : m;
    window.postMessage(data, '*');
  }), [msg, what] as const);
}

async function sample(h: Harness, fn: (p: Panel) => Promise<number>): Promise<number> {
  const p = await openPanel(h, { viewport: { width: 1400, height: 900 } });
  try {
    return await fn(p);
  } finally {
    await p.close();
  }
}

async function main(): Promise<void> {
  const h = await startHarness();
  const rows: Array<{ name: string; s: Stats; target?: number }> = [];
  const curveRows: CurveRow[] = [];
  try {
    // `--sweep`: only (d), the sweep views; `--curves`: only (c), the curves.
    const sweepOnly = process.argv.includes('--sweep');
    const curvesOnly = process.argv.includes('--curves');
    if (!sweepOnly && !curvesOnly) {
      const c = largeComparison(100, 30, 40);
      const msg = comparisonMessage(c);
      const cells = c.runs.length * (c.metrics.length + c.params.length);
      console.log(`comparison: ${c.runs.length} runs × ${c.metrics.length} metrics, ${c.params.length} params (${cells.toLocaleString()} cells), ${c.significance.length} tests, ${c.costs.length} cost rows; ${REPS} samples each\n`);

      const first: number[] = [];
      const update: number[] = [];
      for (let i = 0; i < REPS; i++) {
        first.push(await sample(h, async p => {
          const ms = await timeInPage(p, msg, 'comparison');
          update.push(await timeInPage(p, { ...msg, comparison: { ...c, builtAt: c.builtAt + 1 } } as HostMessage, 'comparison'));
          return ms;
        }));
      }
      rows.push({ name: 'first render, 100 runs × 30 metrics', s: stats(first), target: TARGET_RENDER_MS });
      rows.push({ name: 're-render on a live update (same page)', s: stats(update) });
    }
    if (!curvesOnly) rows.push(...await sweepRows(h));

    if (!sweepOnly) for (const sc of CURVE_SCENARIOS) curveRows.push(await curveScenario(h, sc));
  } finally {
    await h.close();
  }

  const fmt = (v: number): string => `${v.toFixed(1)} ms`;
  const table = [['measurement', 'median', 'min', 'max', 'target', 'result'], ...rows.map(r => [
    r.name, fmt(r.s.median), fmt(r.s.min), fmt(r.s.max), r.target ? `≤ ${r.target} ms` : '—', r.target ? (r.s.median <= r.target ? 'PASS' : 'MISS') : '—',
  ])];
  const widths = table[0].map((_, i) => Math.max(...table.map(r => r[i].length)));
  for (const [k, r] of table.entries()) {
    console.log(r.map((x, i) => (i === 0 ? x.padEnd(widths[i]) : x.padStart(widths[i]))).join('  '));
    if (k === 0) console.log(widths.map(w => '-'.repeat(w)).join('  '));
  }
  if (curveRows.length === 0) return;
  console.log('\ncurves, end to end (medians; worker = the store worker reads + reduces + answers the host; total = worker + serialise + page; page = parse + render until painted)\n');
  // The store read (the per-run metric files' parser) is shown apart; `points cached` is the same request once the
  // worker holds the points (a zoom, another width): the worker's answer + serialise + page, without the read.
  // `first …`: the first view of the curves, their histories parsed and their curve caches written; the other
  // columns read through the caches (every later view, until 1 MB more is appended to a history).
  const ctable = [['curves', 'first read', 'store read', 'reduce', 'first worker', 'worker', 'zoom', 'serialise', 'message', 'page', 'first total', 'result', 'total', 'target', 'result', 'raw uPlot', 'total / raw', 'points cached', 'result', '/ raw'], ...curveRows.map(r => {
    const rest = r.zoom + r.serialise + r.page;
    const verdict = (ms: number): string => (r.target ? (ms <= r.target ? 'PASS' : 'MISS') : '—');
    return [
      r.name, fmt(r.firstRead), fmt(r.read), fmt(r.reduce), fmt(r.workerFirst), fmt(r.worker), fmt(r.zoom), fmt(r.serialise), `${(r.bytes / 1024).toFixed(0)} KB`, fmt(r.page),
      fmt(r.totalFirst), verdict(r.totalFirst), fmt(r.total), r.target ? `≤ ${r.target} ms` : '—', verdict(r.total), fmt(r.raw), `${(r.total / r.raw).toFixed(2)}×`,
      fmt(rest), verdict(rest), `${(rest / r.raw).toFixed(2)}×`,
    ];
  })];
  const cw = ctable[0].map((_, i) => Math.max(...ctable.map(r => r[i].length)));
  for (const [k, r] of ctable.entries()) {
    console.log(r.map((x, i) => (i === 0 ? x.padEnd(cw[i]) : x.padStart(cw[i]))).join('  '));
    if (k === 0) console.log(cw.map(w => '-'.repeat(w)).join('  '));
  }
  console.log('\n(points drawn per run: at most about two per pixel column of the plot; the raw uPlot draws every point.)');
}

const TARGET_SWEEP_VIEW_MS = 500;
const TARGET_BRUSH_MS = 100;

/** (d): the sweep views with 1,000 runs. */
async function sweepRows(h: Harness): Promise<Array<{ name: string; s: Stats; target?: number }>> {
  const runs = 1_000;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edd-bench-sweep-'));
  const store = await RunStore.open(path.join(dir, 'edd.sqlite'));
  const host: number[] = [];
  let sweep;
  try {
    // A random sweep: log-uniform learning rate (binned for η²), three models, four batch sizes, three seeds.
    let x = 12345;
    const rand = () => ((x = (x * 1103515245 + 12345) % 2147483648) / 2147483648);
    for (let i = 0; i < runs; i++) {
      const lr = 10 ** (-4 + 3 * rand());
      const model = ['logistic_regression', 'random_forest', 'svm'][i % 3];
      const batch = [32, 64, 128, 256][Math.floor(i / 3) % 4];
      const r = store.createRun({ experimentId: 'sweep', status: 'finished', seed: i % 3, params: { parameters: { learning_rate: lr, model_type: model, batch_size: batch } }, tags: { sweep_id: 'bench', trial_index: String(Math.floor(i / 3)) } });
      store.addMetrics([{ runId: r.id, key: 'val_accuracy', step: 1, value: 0.9 - Math.abs(Math.log10(lr) + 2) * 0.05 + (model === 'random_forest' ? 0.01 : 0) + rand() * 0.01 }]);
    }
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      sweep = buildSweepComparison(store, 'bench', { metric: 'val_accuracy', goal: 'max', groupBy: 'model_type' });
      host.push(performance.now() - t0);
    }
  } finally {
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const comparison = comparisonMessage(largeComparison(runs, 3, 4));
  const sweepMsg: HostMessage = { type: 'sweep', sweep: sweep! };
  const first: number[] = [];
  const brush: number[] = [];
  const again: number[] = [];
  for (let i = 0; i < 5; i++) {
    first.push(await sample(h, async p => {
      const ms = await p.page.evaluate(([c, s]) => new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no sweep render within 30 s')), 30_000);
        const done = { comparison: 0, sweep: 0 };
        const check = (): void => {
          if (!done.comparison || !done.sweep) return;
          clearTimeout(timer);
          resolve(Math.max(done.comparison, done.sweep) - t0);
        };
        document.addEventListener('edd-compare-rendered', e => { if ((e as CustomEvent<{ what: string; time: number }>).detail.what === 'comparison') { done.comparison = (e as CustomEvent<{ time: number }>).detail.time; check(); } });
        document.addEventListener('edd-sweep-rendered', e => { if ((e as CustomEvent<{ what: string; time: number }>).detail.what === 'sweep') { done.sweep = (e as CustomEvent<{ time: number }>).detail.time; check(); } });
        const t0 = performance.now();
        window.postMessage(c, '*');
        window.postMessage(s, '*');
      }), [comparison, sweepMsg] as const);
      // Brush steps on the learning-rate axis (Enter makes the brush, then it moves up and down).
      const steps = await p.page.evaluate(() => new Promise<number[]>(resolve => {
        const axis = document.querySelector<HTMLElement>('.pc-axis[data-axis="0"]')!;
        const keys = ['Enter', ...Array.from({ length: 20 }, (_, k) => (k % 10 < 5 ? 'ArrowUp' : 'ArrowDown'))];
        const times: number[] = [];
        let t0 = 0;
        const next = (): void => {
          const key = keys[times.length];
          if (key === undefined) { resolve(times); return; }
          t0 = performance.now();
          axis.dispatchEvent(new KeyboardEvent('keydown', { key, bubbles: true }));
        };
        document.addEventListener('edd-sweep-rendered', e => {
          if ((e as CustomEvent<{ what: string }>).detail.what !== 'brush') return;
          times.push((e as CustomEvent<{ time: number }>).detail.time - t0);
          next();
        });
        next();
      }));
      brush.push(...steps);
      // The sweep views alone, on the page that already shows the comparison (a regrouping or a live update).
      again.push(await p.page.evaluate(m => new Promise<number>(resolve => {
        document.addEventListener('edd-sweep-rendered', e => {
          if ((e as CustomEvent<{ what: string }>).detail.what === 'sweep') resolve((e as CustomEvent<{ time: number }>).detail.time - t0);
        });
        const t0 = performance.now();
        window.postMessage(m, '*');
      }), sweepMsg));
      return ms;
    }));
  }
  const filtered = sweep!.runs.length;
  console.log(`sweep: ${filtered} runs, ${sweep!.parameters.length} parameters, ${sweep!.groups.length} groups, ${sweep!.pairs.length} pairs\n`);
  return [
    { name: `sweep host: buildSweepComparison, ${runs} runs`, s: stats(host) },
    { name: `sweep first complete view, ${runs} runs (comparison + sweep views)`, s: stats(first), target: TARGET_SWEEP_VIEW_MS },
    { name: `sweep views alone, ${runs} runs (comparison already shown)`, s: stats(again) },
    { name: `sweep brush step, ${runs} runs (chart + scatter + table painted)`, s: stats(brush), target: TARGET_BRUSH_MS },
  ];
}

/** Removes the runs' curve caches, so that the next read of their curves parses the histories (a first view). */
function removeCurveCaches(runsFolder: string, ids: readonly string[]): void {
  for (const id of ids) fs.rmSync(path.join(runsFolder, runFolderName(id), 'curves'), { recursive: true, force: true });
}

interface CurveRow {
  name: string;
  target?: number;
  firstRead: number;
  read: number;
  workerFirst: number;
  totalFirst: number;
  reduce: number;
  worker: number;
  zoom: number;
  serialise: number;
  bytes: number;
  page: number;
  total: number;
  raw: number;
}

const VIEWPORT = { width: 1400, height: 900 };
const median = (xs: number[]): number => stats(xs).median;

/**
 * One curve scenario: a real store holding `runs` runs × `points` points of one metric; per sample a fresh panel
 * asks for the curves with its plot's width, the host side is timed in Node and the page side in the page.
 */
async function curveScenario(h: Harness, sc: (typeof CURVE_SCENARIOS)[number]): Promise<CurveRow> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edd-bench-curves-'));
  const file = path.join(dir, '.edd', 'edd.sqlite');
  const store = await RunStore.open(file, { autoSave: false });
  const client = new StoreWorkerClient(path.join(ROOT, 'dist', 'storeWorker.js'));
  try {
    const base = largeComparison(sc.runs, 3, 3, 11);
    const metric = base.curveMetrics[0];
    const ids: string[] = [];
    for (let i = 0; i < sc.runs; i++) {
      const run = store.createRun({ experimentId: `exp-${i % 10}`, status: 'finished' });
      ids.push(run.id);
      const cv = curve(run.id, metric, sc.points, i + 1);
      store.addMetrics(cv.steps.map((step, k) => ({ runId: run.id, key: metric, step, value: cv.values[k] })));
    }
    await store.save();
    const remote = await client.open(file);
    const c = { ...base, runs: base.runs.map((r, i) => ({ ...r, runId: ids[i] })) };
    const msg = comparisonMessage(c);
    const runsFolder = path.join(path.dirname(file), 'runs');
    const firstRead: number[] = [];
    const workerFirst: number[] = [];
    const read: number[] = [];
    const reduce: number[] = [];
    const worker: number[] = [];
    const zoom: number[] = [];
    const serialise: number[] = [];
    const page: number[] = [];
    let bytes = 0;
    let plotWidth = 0;
    for (let i = 0; i < sc.reps; i++) {
      const p = await openPanel(h, { viewport: VIEWPORT });
      try {
        await p.sendAndWait(msg);
        await p.page.waitForFunction(() => window.__edd.posted.some(m => m.type === 'requestCurves'));
        const req = (await p.posted()).find((m): m is Extract<typeof m, { type: 'requestCurves' }> => m.type === 'requestCurves')! as CurveRequest;
        plotWidth = req.width;
        // The first view of a run's long curve parses its history and writes the curve cache; the next ones read the
        // cache (src/core/store/curveCache.ts). Both are timed: first with the caches removed, then again.
        const f0 = performance.now();
        removeCurveCaches(runsFolder, ids);
        curvesOf(store, ids, metric);
        firstRead.push(performance.now() - f0);
        const t0 = performance.now();
        const curves = curvesOf(store, ids, metric);
        const t1 = performance.now();
        curveFrame(metric, curves, columnsFor(req.width, req.pixelRatio), req.range);
        const t2 = performance.now();
        read.push(t1 - t0);
        reduce.push(t2 - t1);
        // A change to the store empties the worker's cached points: this sample reads them again (cold), once
        // without the curve caches on disk (a first view) and once with them.
        await remote.upsertExperiment({ id: `bench-${i}-first` });
        removeCurveCaches(runsFolder, ids);
        const wf = performance.now();
        await remote.op('curveFrame', ids, metric, columnsFor(req.width, req.pixelRatio), req.range);
        workerFirst.push(performance.now() - wf);
        await remote.upsertExperiment({ id: `bench-${i}` });
        const w0 = performance.now();
        const frame = await remote.op('curveFrame', ids, metric, columnsFor(req.width, req.pixelRatio), req.range);
        const w1 = performance.now();
        // a zoom: the same points, a narrower range
        const [lo, hi] = frame.range ?? [0, sc.points];
        await remote.op('curveFrame', ids, metric, columnsFor(req.width, req.pixelRatio), [lo, lo + (hi - lo) / 10]);
        const w2 = performance.now();
        worker.push(w1 - w0);
        zoom.push(w2 - w1);
        const s0 = performance.now();
        const wire = toWire({ type: 'curves', seq: req.seq, frame });
        serialise.push(performance.now() - s0);
        bytes = wire.json.length + wire.buffers.reduce((n, b) => n + b.byteLength, 0);
        page.push(await timeInPage(p, wire, 'curves'));
      } finally {
        await p.close();
      }
    }
    const raw = await rawUplot(h, sc.runs, sc.points, plotWidth, sc.reps);
    const r = {
      firstRead: median(firstRead), read: median(read), reduce: median(reduce), workerFirst: median(workerFirst), worker: median(worker),
      zoom: median(zoom), serialise: median(serialise), page: median(page),
    };
    return { name: sc.name, target: sc.target, ...r, bytes, total: r.worker + r.serialise + r.page, totalFirst: r.workerFirst + r.serialise + r.page, raw };
  } finally {
    await client.dispose();
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The peer: uPlot alone on a plain page, drawing every point of `runs` curves of `points` steps (the same shape as
 * the fixture's curves) in a plot as wide as the panel's; from `new uPlot` to the first paint after it (median).
 */
async function rawUplot(h: Harness, runs: number, points: number, plotWidth: number, reps: number): Promise<number> {
  const context = await h.browser.newContext({ viewport: VIEWPORT });
  try {
    const page = await context.newPage();
    await page.setContent('<!DOCTYPE html><html><body><div id="plot"></div></body></html>');
    await page.addStyleTag({ path: path.join(ROOT, 'node_modules', 'uplot', 'dist', 'uPlot.min.css') });
    await page.addScriptTag({ path: path.join(ROOT, 'node_modules', 'uplot', 'dist', 'uPlot.iife.min.js') });
    const times: number[] = [];
    for (let i = 0; i < reps; i++) {
      times.push(await page.evaluate(([n, k, w]) => {
        const xs = Array.from({ length: n }, (_, j) => j);
        const ys = Array.from({ length: k }, (_, s) => xs.map(j => Math.exp(-j / (n / 4)) + 0.05 * Math.abs(Math.sin(j * 12.9898 + s))));
        const el = document.getElementById('plot')!;
        el.replaceChildren();
        type U = new (o: unknown, d: unknown, e: HTMLElement) => unknown;
        const UPlot = (window as unknown as { uPlot: U }).uPlot;
        return new Promise<number>(resolve => {
          const t0 = performance.now();
          new UPlot({
            width: w + 100, height: 320, scales: { x: { time: false } }, legend: { show: false },
            series: [{}, ...ys.map(() => ({ stroke: '#3794ff', width: 1, spanGaps: true, points: { show: false } }))],
          }, [xs, ...ys], el);
          requestAnimationFrame(() => setTimeout(() => resolve(performance.now() - t0), 0));
        });
      }, [points, runs, plotWidth] as const));
    }
    return median(times);
  } finally {
    await context.close();
  }
}

const started = performance.now();
main().then(() => console.log(`\n(${((performance.now() - started) / 1000).toFixed(1)} s)`), err => {
  console.error(err);
  process.exitCode = 1;
});
