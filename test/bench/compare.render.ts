/**
 * Benchmark: the comparison panel's webview in headless Chromium (the real bundle, under the strict CSP).
 *
 *   npm run bench:compare
 *
 * (a) first render of a comparison of 100 runs × 30 metrics (+ 40 params, significance, intervals and costs for
 *     every run): from posting the `comparison` message in the page to the first paint after the render (the app's
 *     `edd-compare-rendered` event, dispatched after a frame) — a fresh page per sample;
 * (b) the same comparison again on the same page (a live update);
 * (c) one curve of 100,000 points: from posting `curves` to the chart drawn and painted;
 * (d) 100 curves of 10,000 points (1,000,000 points; every run drawn) — reported, no target.
 *
 * Prints the medians against the targets with PASS/MISS; never fails on a miss (exit code 0). Exits non-zero only
 * when something is broken (the page does not render).
 */
import type { HostMessage } from '../../src/protocol/compare';
import { comparisonMessage, curve, curvesMessage, largeComparison } from '../webview/fixtures';
import { openPanel, startHarness, type Harness, type Panel } from '../webview/harness';
import { stats, type Stats } from './stats';

const REPS = 7;
const TARGET_RENDER_MS = 500;
const TARGET_CURVE_MS = 100;


/** Posts `msg` in the page and resolves with the ms until the app reports the render of `what` painted. */
async function timeInPage(p: Panel, msg: HostMessage, what: 'comparison' | 'curves'): Promise<number> {
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
    window.postMessage(m, '*');
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
  try {
    const c = largeComparison(100, 30, 40);
    const msg = comparisonMessage(c);
    const metric = c.curveMetrics[0];
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

    const one = curvesMessage(metric, [curve(c.runs[0].runId, metric, 100_000, 1)]);
    const curveTimes: number[] = [];
    for (let i = 0; i < REPS; i++) {
      curveTimes.push(await sample(h, async p => {
        await p.sendAndWait(msg);
        return timeInPage(p, one, 'curves');
      }));
    }
    rows.push({ name: 'curve of 100,000 points drawn', s: stats(curveTimes), target: TARGET_CURVE_MS });

    const many = curvesMessage(metric, c.runs.map((r, i) => curve(r.runId, metric, 10_000, i + 1)));
    const manyTimes: number[] = [];
    for (let i = 0; i < 3; i++) {
      manyTimes.push(await sample(h, async p => {
        await p.sendAndWait(msg);
        return timeInPage(p, many, 'curves');
      }));
    }
    rows.push({ name: '100 curves × 10,000 points drawn', s: stats(manyTimes) });
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
}

const started = performance.now();
main().then(() => console.log(`\n(${((performance.now() - started) / 1000).toFixed(1)} s)`), err => {
  console.error(err);
  process.exitCode = 1;
});
