/**
 * Metric curves reduced to what a plot of a given width can draw, on the host side: the comparison panel receives
 * at most about two points per pixel column of each run, never the whole series.
 *
 * Each run's points are reduced to the minimum and the maximum of the points falling in each pixel column (plus the
 * first and the last point of the range, so the line starts and ends where the data does). A line drawn through
 * them lights the same pixels as the full series in every column, so a single-step spike (a loss blowing up, a NaN
 * guard kicking in) stays visible at any zoom. LTTB (largest triangle three buckets) was not chosen: it keeps one
 * point per bucket by triangle area, which is good for the overall shape but can drop a spike whose neighbour
 * spans a larger triangle, and the extremes are what someone comparing runs looks for.
 *
 * `ColumnReducer` takes the points in chunks, so the input can be streamed from a run's metric file instead of held
 * as one array; `curveFrame` reduces the curves of all compared runs for one plot and aligns them on one x array
 * (uPlot's data layout).
 */
import type { Curve } from './model';

/** The most pixel columns a frame is reduced to (a 4K screen at 2× is 7,680 device pixels wide). */
export const MAX_COLUMNS = 8192;

const EMPTY = new Float64Array(0);

/** Pixel columns of a plot `width` CSS pixels wide on a screen of `pixelRatio` device pixels per CSS pixel. */
export function columnsFor(width: number, pixelRatio = 1): number {
  const ratio = Number.isFinite(pixelRatio) && pixelRatio > 0 ? pixelRatio : 1;
  const cols = Math.round((Number.isFinite(width) ? width : 1) * ratio);
  return Math.min(MAX_COLUMNS, Math.max(1, cols));
}

/** A run's points after reduction: steps ascending, values finite. */
export interface ReducedSeries {
  steps: number[];
  values: number[];
  /** Points with a finite value within the range, before reduction. */
  input: number;
}

/**
 * Reduces one series to the min and max of each of `columns` equal-width columns over x in [lo, hi] (plus the
 * first and last point). Feed it with `add` (any number of chunks, in any order of steps), then call `result`.
 * Points outside the range and non-finite values (NaN, ±Infinity after a divergence) are left out: the line spans
 * them, as the panel always did. When the range holds no more than two points per column, nothing is reduced.
 */
export class ColumnReducer {
  private readonly width: number;
  // The columns are allocated only once the series has more points than two per column: a thousand short runs
  // then cost no more than their points.
  private minV = EMPTY;
  private maxV = EMPTY;
  private minX = EMPTY;
  private maxX = EMPTY;
  private seen = new Uint8Array(0);
  /** Every point in range, kept until there are more than two per column (then only the columns are kept). */
  private raw: { steps: number[]; values: number[] } | null = { steps: [], values: [] };
  private firstX = Infinity;
  private firstV = NaN;
  private lastX = -Infinity;
  private lastV = NaN;
  private count = 0;

  constructor(private readonly lo: number, private readonly hi: number, private readonly columns: number) {
    this.columns = Math.max(1, Math.floor(columns));
    this.width = hi > lo ? (hi - lo) / this.columns : 1;
  }

  add(steps: ArrayLike<number>, values: ArrayLike<number>): void {
    const n = Math.min(steps.length, values.length);
    const { lo, hi } = this;
    let i = 0;
    const raw = this.raw;
    if (raw) {
      const limit = 2 * this.columns;
      for (; i < n && raw.steps.length <= limit; i++) {
        const x = steps[i];
        const v = values[i];
        if (!(x >= lo && x <= hi) || !Number.isFinite(v)) continue;
        raw.steps.push(x);
        raw.values.push(v);
      }
      if (raw.steps.length <= limit) return;
      this.raw = null;
      this.allocate();
      this.addToColumns(raw.steps, raw.values, 0, raw.steps.length);
    }
    this.addToColumns(steps, values, i, n);
  }

  private allocate(): void {
    this.minV = new Float64Array(this.columns);
    this.maxV = new Float64Array(this.columns);
    this.minX = new Float64Array(this.columns);
    this.maxX = new Float64Array(this.columns);
    this.seen = new Uint8Array(this.columns);
  }

  private addToColumns(steps: ArrayLike<number>, values: ArrayLike<number>, from: number, to: number): void {
    const { lo, hi, width, minV, maxV, minX, maxX, seen } = this;
    const last = this.columns - 1;
    let { count, firstX, firstV, lastX, lastV } = this;
    for (let i = from; i < to; i++) {
      const x = steps[i];
      const v = values[i];
      if (!(x >= lo && x <= hi) || !(v - v === 0)) continue; // v - v is NaN for NaN and ±Infinity
      count++;
      // Ties on x: the later point wins, as in the store (a step logged again replaces the first value).
      if (x <= firstX) { firstX = x; firstV = v; }
      if (x >= lastX) { lastX = x; lastV = v; }
      let b = Math.floor((x - lo) / width);
      if (b > last) b = last;
      if (seen[b] === 0) {
        seen[b] = 1;
        minV[b] = maxV[b] = v;
        minX[b] = maxX[b] = x;
      } else {
        if (v < minV[b] || (v === minV[b] && x < minX[b])) { minV[b] = v; minX[b] = x; }
        if (v > maxV[b] || (v === maxV[b] && x > maxX[b])) { maxV[b] = v; maxX[b] = x; }
      }
    }
    this.count = count;
    this.firstX = firstX;
    this.firstV = firstV;
    this.lastX = lastX;
    this.lastV = lastV;
  }

  /** Whether the series had more points in range than the plot can show (then `result` is reduced). */
  get reduced(): boolean {
    return this.raw === null;
  }

  result(): ReducedSeries {
    if (this.raw) return { ...sortedByStep(this.raw.steps, this.raw.values), input: this.raw.steps.length };
    const steps: number[] = [];
    const values: number[] = [];
    const push = (x: number, v: number): void => {
      const k = steps.length - 1;
      if (k >= 0 && steps[k] === x) { values[k] = v; return; }
      steps.push(x);
      values.push(v);
    };
    const column = (x: number): number => Math.min(this.columns - 1, Math.floor((x - this.lo) / this.width));
    const firstCol = column(this.firstX);
    const lastCol = column(this.lastX);
    // Up to four points per column (first of the range, min, max, last of the range), put in step order without an
    // array per column: thousands of columns × hundreds of runs.
    const px = new Float64Array(4);
    const pv = new Float64Array(4);
    let k = 0;
    const add = (x: number, v: number): void => {
      for (let j = 0; j < k; j++) if (px[j] === x) return;
      let j = k++;
      while (j > 0 && px[j - 1] > x) { px[j] = px[j - 1]; pv[j] = pv[j - 1]; j--; }
      px[j] = x;
      pv[j] = v;
    };
    for (let b = 0; b < this.columns; b++) {
      if (!this.seen[b]) continue;
      k = 0;
      add(this.minX[b], this.minV[b]);
      add(this.maxX[b], this.maxV[b]);
      if (b === firstCol) add(this.firstX, this.firstV);
      if (b === lastCol) add(this.lastX, this.lastV);
      for (let j = 0; j < k; j++) push(px[j], pv[j]);
    }
    return { steps, values, input: this.count };
  }
}

function sortedByStep(steps: number[], values: number[]): { steps: number[]; values: number[] } {
  let sorted = true;
  for (let i = 1; i < steps.length; i++) if (!(steps[i] > steps[i - 1])) { sorted = false; break; }
  if (sorted) return { steps, values };
  // Stable sort by step; a repeated step keeps its later value.
  const order = steps.map((_, i) => i).sort((a, b) => steps[a] - steps[b] || a - b);
  const s: number[] = [];
  const v: number[] = [];
  for (const i of order) {
    if (s.length > 0 && s[s.length - 1] === steps[i]) v[v.length - 1] = values[i];
    else { s.push(steps[i]); v.push(values[i]); }
  }
  return { steps: s, values: v };
}

/** Reduces one series (arrays of steps and values) for `columns` pixel columns over x in `range`. */
export function reduceSeries(steps: ArrayLike<number>, values: ArrayLike<number>, columns: number, range: [number, number]): ReducedSeries {
  const r = new ColumnReducer(range[0], range[1], columns);
  r.add(steps, values);
  return r.result();
}

/** The x range over the finite points of all curves, or null when none has one. */
export function curveExtent(curves: ReadonlyArray<{ steps: ArrayLike<number>; values: ArrayLike<number> }>): [number, number] | null {
  let lo = Infinity;
  let hi = -Infinity;
  for (const c of curves) {
    const n = Math.min(c.steps.length, c.values.length);
    for (let i = 0; i < n; i++) {
      if (!Number.isFinite(c.values[i])) continue;
      const x = c.steps[i];
      if (x < lo) lo = x;
      if (x > hi) hi = x;
    }
  }
  return lo <= hi ? [lo, hi] : null;
}

/** The curves of one metric for one plot: what the comparison panel draws, aligned for uPlot. */
export interface CurveFrame {
  metric: string;
  /** The x range of all the runs' points (what "Reset zoom" shows); null when no run has a point. */
  extent: [number, number] | null;
  /** The x range this frame covers: the extent, or the zoomed range it was asked for. */
  range: [number, number] | null;
  /** Pixel columns it was reduced for. */
  columns: number;
  /** `ys[i]` belongs to `runIds[i]`. */
  runIds: string[];
  /** Points each run logged (all steps, finite or not): the panel says how many there are. */
  points: number[];
  /**
   * Shared x (steps, ascending). Typed arrays: VS Code's postMessage transfers their buffers (engines ≥ 1.57) and
   * the webview's structured clone copies them at once, where a million boxed numbers took seconds to clone.
   */
  xs: Float64Array;
  /** One array per run, as long as `xs`; NaN where the run has no point at that x. */
  ys: Float64Array[];
  /**
   * Whether points were reduced. Then, if the runs' reduced steps differ too much to share one x array, the points
   * are placed on slots within their pixel column (x exact to one column; values exact).
   */
  reduced: boolean;
  /** Whether x was snapped to column slots (see `reduced`). */
  snapped: boolean;
}

/**
 * Reduces `curves` for a plot of `columns` pixel columns over `range` (default: all of it) and aligns them.
 * Every run is kept, in order (the number of runs is never capped).
 */
export function curveFrame(metric: string, curves: readonly Curve[], columns: number, range?: [number, number] | null): CurveFrame {
  const cols = Math.max(1, Math.min(MAX_COLUMNS, Math.floor(columns)));
  const extent = curveExtent(curves);
  const base = { metric, extent, columns: cols, runIds: curves.map(c => c.runId), points: curves.map(c => Math.min(c.steps.length, c.values.length)) };
  const span = range ?? extent;
  if (!span) return { ...base, range: null, xs: new Float64Array(0), ys: curves.map(() => new Float64Array(0)), reduced: false, snapped: false };
  let reduced = false;
  const series = curves.map(c => {
    const r = new ColumnReducer(span[0], span[1], cols);
    r.add(c.steps, c.values);
    if (r.reduced) reduced = true;
    return r.result();
  });
  const exact = alignExact(series, 4 * cols);
  if (exact) return { ...base, range: span, xs: exact.xs, ys: exact.ys, reduced, snapped: false };
  return { ...base, range: span, ...alignSlots(series, span, cols), reduced: true, snapped: true };
}

/** Aligns on the union of the steps when it has at most `limit` entries; null otherwise. */
function alignExact(series: ReducedSeries[], limit: number): { xs: Float64Array; ys: Float64Array[] } | null {
  const first = series.find(s => s.steps.length > 0);
  let xs: number[];
  if (!first) xs = [];
  else if (series.every(s => s.steps.length === 0 || sameSteps(s.steps, first.steps))) {
    if (first.steps.length > limit) return null;
    const shared = Float64Array.from(first.steps);
    return { xs: shared, ys: series.map(s => (s.steps.length === 0 ? new Float64Array(shared.length).fill(NaN) : Float64Array.from(s.values))) };
  } else {
    // A merge of the runs' ascending steps that stops as soon as the union is too large to draw exactly.
    xs = [];
    const pos = new Int32Array(series.length);
    for (;;) {
      let min = Infinity;
      for (let r = 0; r < series.length; r++) {
        const st = series[r].steps;
        if (pos[r] < st.length && st[pos[r]] < min) min = st[pos[r]];
      }
      if (min === Infinity) break;
      xs.push(min);
      if (xs.length > limit) return null;
      for (let r = 0; r < series.length; r++) {
        const st = series[r].steps;
        if (pos[r] < st.length && st[pos[r]] === min) pos[r]++;
      }
    }
  }
  if (xs.length > limit) return null;
  const ys = series.map(s => {
    const y = new Float64Array(xs.length).fill(NaN);
    // Both are ascending: merge instead of a lookup table.
    let j = 0;
    for (let i = 0; i < s.steps.length; i++) {
      while (xs[j] < s.steps[i]) j++;
      y[j] = s.values[i];
    }
    return y;
  });
  return { xs: Float64Array.from(xs), ys };
}

/**
 * Each column gets as many x slots as the run with the most points in it (two, three at the ends), spread over the
 * column; each run's points fill its column's slots in order.
 */
function alignSlots(series: ReducedSeries[], range: [number, number], cols: number): { xs: Float64Array; ys: Float64Array[] } {
  const [lo, hi] = range;
  const width = hi > lo ? (hi - lo) / cols : 1;
  const column = (x: number): number => Math.min(cols - 1, Math.floor((x - lo) / width));
  const slots = new Uint8Array(cols);
  for (const s of series) {
    let i = 0;
    while (i < s.steps.length) {
      const b = column(s.steps[i]);
      let j = i;
      while (j < s.steps.length && column(s.steps[j]) === b) j++;
      if (j - i > slots[b]) slots[b] = j - i;
      i = j;
    }
  }
  const offset = new Int32Array(cols + 1);
  const xs: number[] = [];
  for (let b = 0; b < cols; b++) {
    offset[b] = xs.length;
    for (let k = 0; k < slots[b]; k++) xs.push(lo + (b + (k + 0.5) / slots[b]) * width);
  }
  offset[cols] = xs.length;
  const ys = series.map(s => {
    const y = new Float64Array(xs.length).fill(NaN);
    let i = 0;
    while (i < s.steps.length) {
      const b = column(s.steps[i]);
      let k = offset[b];
      while (i < s.steps.length && column(s.steps[i]) === b) y[k++] = s.values[i++];
    }
    return y;
  });
  return { xs: Float64Array.from(xs), ys };
}

function sameSteps(a: readonly number[], b: readonly number[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
