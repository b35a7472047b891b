/**
 * Curves → uPlot's aligned data (one shared x array, one y array per series), reduced for drawing.
 *
 * Every series is kept (the number of runs is never capped); the points of each are reduced to at most two per
 * pixel column: the minimum and the maximum of the points falling in the column, in their original order. A line
 * drawn through them covers exactly the pixels the full series would, so spikes and divergences stay visible. When
 * the series are small enough they are aligned on the union of their steps and drawn exactly.
 */

export interface Series {
  steps: ArrayLike<number>;
  values: ArrayLike<number>;
}

export interface Aligned {
  /** `[xs, ys0, ys1, …]`: uPlot.AlignedData. Missing points are null (drawn with spanGaps). */
  data: [number[], ...Array<Array<number | null>>];
  /** Whether points were reduced (the x of a point is then exact to one pixel column). */
  reduced: boolean;
  /** Points in the input within the range, and points in the output. */
  inputPoints: number;
  outputPoints: number;
}

/** The finite x range over all series, or null when no series has a point. */
export function extent(series: Series[]): [number, number] | null {
  let lo = Infinity;
  let hi = -Infinity;
  for (const s of series) {
    const n = Math.min(s.steps.length, s.values.length);
    for (let i = 0; i < n; i++) {
      const x = s.steps[i];
      if (x < lo) lo = x;
      if (x > hi) hi = x;
    }
  }
  return lo <= hi ? [lo, hi] : null;
}

/**
 * Aligns `series` for a plot `columns` pixels wide, over x in `range` (default: all of it). Non-finite values
 * (NaN, ±Infinity after a divergence) are left out.
 */
export function align(series: Series[], columns: number, range?: [number, number]): Aligned {
  const cols = Math.max(1, Math.floor(columns));
  const ext = range ?? extent(series);
  if (!ext) return { data: [[], ...series.map(() => [])], reduced: false, inputPoints: 0, outputPoints: 0 };
  const [lo, hi] = ext;

  let input = 0;
  let longest = 0;
  for (const s of series) {
    const n = countInRange(s, lo, hi);
    input += n;
    if (n > longest) longest = n;
  }
  if (longest <= 2 * cols) {
    const exact = alignExact(series, lo, hi, 4 * cols);
    if (exact) return { ...exact, inputPoints: input };
  }
  return { ...alignBuckets(series, lo, hi, cols), inputPoints: input };
}

function countInRange(s: Series, lo: number, hi: number): number {
  const n = Math.min(s.steps.length, s.values.length);
  let k = 0;
  for (let i = 0; i < n; i++) {
    const x = s.steps[i];
    if (x >= lo && x <= hi) k++;
  }
  return k;
}

/** Union of the steps, when it has at most `limit` entries; null otherwise. */
function alignExact(series: Series[], lo: number, hi: number, limit: number): Omit<Aligned, 'inputPoints'> | null {
  // Common case: every run logged at the same steps.
  let xs: number[] | null = null;
  const first = series.find(s => s.steps.length > 0);
  if (first && series.every(s => s.steps.length === 0 || sameSteps(s.steps, first.steps))) {
    xs = [];
    for (let i = 0; i < first.steps.length; i++) if (first.steps[i] >= lo && first.steps[i] <= hi) xs.push(first.steps[i]);
    if (!isSorted(xs)) xs = uniqueSorted(xs);
  } else {
    const all: number[] = [];
    for (const s of series) {
      const n = Math.min(s.steps.length, s.values.length);
      for (let i = 0; i < n; i++) if (s.steps[i] >= lo && s.steps[i] <= hi) all.push(s.steps[i]);
    }
    xs = uniqueSorted(all);
  }
  if (xs.length > limit) return null;
  const index = new Map<number, number>();
  xs.forEach((x, i) => index.set(x, i));
  let out = 0;
  const ys = series.map(s => {
    const y: Array<number | null> = new Array<number | null>(xs!.length).fill(null);
    const n = Math.min(s.steps.length, s.values.length);
    for (let i = 0; i < n; i++) {
      const j = index.get(s.steps[i]);
      const v = s.values[i];
      if (j !== undefined && Number.isFinite(v)) {
        if (y[j] === null) out++;
        y[j] = v; // a step logged twice: the later value wins, as in the store
      }
    }
    return y;
  });
  return { data: [xs, ...ys], reduced: false, outputPoints: out };
}

function alignBuckets(series: Series[], lo: number, hi: number, cols: number): Omit<Aligned, 'inputPoints'> {
  const width = hi > lo ? (hi - lo) / cols : 1;
  const xs: number[] = new Array<number>(2 * cols);
  for (let b = 0; b < cols; b++) {
    xs[2 * b] = lo + (b + 0.25) * width;
    xs[2 * b + 1] = lo + (b + 0.75) * width;
  }
  const minV = new Float64Array(cols);
  const maxV = new Float64Array(cols);
  const minI = new Int32Array(cols);
  const maxI = new Int32Array(cols);
  let out = 0;
  const ys = series.map(s => {
    minI.fill(-1);
    maxI.fill(-1);
    const n = Math.min(s.steps.length, s.values.length);
    for (let i = 0; i < n; i++) {
      const x = s.steps[i];
      const v = s.values[i];
      if (!(x >= lo && x <= hi) || !Number.isFinite(v)) continue;
      let b = Math.floor((x - lo) / width);
      if (b >= cols) b = cols - 1;
      if (minI[b] < 0) {
        minI[b] = maxI[b] = i;
        minV[b] = maxV[b] = v;
      } else if (v < minV[b]) {
        minV[b] = v;
        minI[b] = i;
      } else if (v > maxV[b]) {
        maxV[b] = v;
        maxI[b] = i;
      }
    }
    const y: Array<number | null> = new Array<number | null>(2 * cols).fill(null);
    for (let b = 0; b < cols; b++) {
      if (minI[b] < 0) continue;
      if (minI[b] === maxI[b]) {
        y[2 * b] = minV[b];
        out++;
      } else if (minI[b] < maxI[b]) {
        y[2 * b] = minV[b];
        y[2 * b + 1] = maxV[b];
        out += 2;
      } else {
        y[2 * b] = maxV[b];
        y[2 * b + 1] = minV[b];
        out += 2;
      }
    }
    return y;
  });
  return { data: [xs, ...ys], reduced: true, outputPoints: out };
}

function sameSteps(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function isSorted(xs: number[]): boolean {
  for (let i = 1; i < xs.length; i++) if (!(xs[i] > xs[i - 1])) return false;
  return true;
}

function uniqueSorted(xs: number[]): number[] {
  const s = Float64Array.from(xs).sort();
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) if (i === 0 || s[i] !== s[i - 1]) out.push(s[i]);
  return out;
}
