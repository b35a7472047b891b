/**
 * The four layers of monitoring per time window, from the prediction log (src/core/monitor/log.ts).
 *
 * One pass over the records keeps, per answered instance (status 200), only numbers: its window, its predicted class,
 * its class probabilities, each input column as a number or a category index, and its label once feedback arrives
 * (joined by request id + row; feedback may come windows later). Latencies and status counts are kept per window,
 * server samples as running sums. The statistics are then computed per window with the gate's own functions on those
 * rows, so a monitoring number and the gate's number on the same rows are the same number:
 * - model: drift per input column against the reference with the drift check's `numericDrift` (KS, PSI) and
 *   `categoricalDrift` (PSI); the prediction shift is the PSI of the predicted classes against the reference's label
 *   shares; accuracy and macro F1 of the labelled rows with src/core/stats/classification.ts;
 * - bias: the bias check's `fairnessMetrics` per sensitive column — the selection rate over every answered instance
 *   and the true-positive rate over the labelled ones;
 * - business: KPI expressions (src/core/monitor/kpi.ts, the rule language);
 * - application: throughput, error rate (5xx share; 4xx, the caller's fault, is reported apart), latency p50/p95/p99
 *   (numpy `linear` quantiles);
 * - infrastructure: CPU and memory from the server's `sample` records.
 *
 * Windows are aligned on multiples of the window length since the epoch, so two runs agree on their edges.
 */
import { t } from '../l10n';
import { categoricalDrift, numericDrift } from '../checks/drift';
import { fairnessMetrics, sortLabels } from '../checks/bias';
import { sortFloat64, sortedValues } from '../checks/dataset';
import type { Column, Dataset } from '../checks/types';
import { accuracy, precisionRecallF1, quantileSorted } from '../stats';
import { evaluateKpi } from './kpi';
import type { MonitoringOptions } from './options';

/** A growable Float64Array (amortised doubling). */
class F64 {
  a = new Float64Array(1024);
  n = 0;
  push(v: number): void {
    if (this.n === this.a.length) { const b = new Float64Array(this.a.length * 2); b.set(this.a); this.a = b; }
    this.a[this.n++] = v;
  }
  append(v: Float64Array): void {
    if (this.n + v.length > this.a.length) { const b = new Float64Array(Math.max(this.a.length * 2, this.n + v.length)); b.set(this.a.subarray(0, this.n)); this.a = b; }
    this.a.set(v, this.n);
    this.n += v.length;
  }
  view(): Float64Array { return this.a.subarray(0, this.n); }
}

class I32 {
  a = new Int32Array(1024);
  n = 0;
  push(v: number): void {
    if (this.n === this.a.length) { const b = new Int32Array(this.a.length * 2); b.set(this.a); this.a = b; }
    this.a[this.n++] = v;
  }
  /** Appends `v` with each code c ≥ 0 replaced by `map[c]` (a reader's dictionary codes → this one's). */
  appendMapped(v: Int32Array, map: Int32Array): void {
    if (this.n + v.length > this.a.length) { const b = new Int32Array(Math.max(this.a.length * 2, this.n + v.length)); b.set(this.a.subarray(0, this.n)); this.a = b; }
    for (let i = 0; i < v.length; i++) { const c = v[i]; this.a[this.n++] = c < 0 ? c : map[c]; }
  }
  view(): Int32Array { return this.a.subarray(0, this.n); }
}

/** Category text ↔ index. */
class Dictionary {
  readonly names: string[] = [];
  private readonly index = new Map<string, number>();
  of(s: string): number {
    let i = this.index.get(s);
    if (i === undefined) { i = this.names.length; this.names.push(s); this.index.set(s, i); }
    return i;
  }
}

interface TrackedColumn {
  name: string;
  kind: 'number' | 'string';
  numbers: F64;
  /** Category index, −1 = missing. */
  codes: I32;
  dict: Dictionary;
}

interface WindowAcc {
  start: number;
  records: number;
  requests: number;
  /** The request id of the window's first and last prediction record (requests are counted by changes of id). */
  firstRequest: unknown;
  lastRequest: unknown;
  clientErrors: number;
  serverErrors: number;
  latencies: F64;
  versions: Set<number>;
  /** The finite CPU figures in log order: summed at the end, so parts of the log read apart add up to the same mean. */
  cpu: F64;
  samples: number; cpuMax: number; rssMax: number; heapMax: number; inFlightMax: number;
  events: Array<Record<string, unknown>>;
}

/**
 * What an aggregator accumulated from part of the log (one segment, read by a worker thread), as plain data and
 * typed arrays that move between threads without a copy; {@link MonitorAggregator.merge} adds it to another
 * aggregator exactly as if that one had read the same records itself. Codes are the part's own dictionaries'.
 */
export interface PartialState {
  windows: Array<Omit<WindowAcc, 'latencies' | 'versions' | 'cpu'> & { latencies: Float64Array; versions: number[]; cpu: Float64Array }>;
  labels: string[];
  rowWindow: Float64Array;
  rowPred: Int32Array;
  rowScores: Float64Array;
  columns: Array<{ numbers: Float64Array; codes: Int32Array; names: string[] }>;
  /** The rows' feedback join keys stay with the reader ({@link PartialState}'s rows are joined there: see `join`). */
  feedback: Array<[string, string]>;
  /** Rows already joined to their feedback (label codes, −1 = none): windows sent out to be reported on. */
  rowLabel?: Int32Array;
}

/** The reference data's side of the comparison: sorted numeric columns, category lists, label shares. */
export interface Reference {
  data: Dataset;
  label?: string;
}

export interface DriftEntry {
  kind: 'numeric' | 'categorical';
  n: number;
  psi: number;
  ks_statistic?: number;
  ks_p_value?: number;
}

export interface GroupEntry {
  group: string;
  count: number;
  selection_rate: number;
  labelled: number;
  true_positive_rate: number | null;
}

export interface BiasEntry {
  positive_class: string;
  groups: GroupEntry[];
  demographic_parity_difference: number | null;
  equal_opportunity_difference: number | null;
}

export interface Alert {
  window_start: string;
  layer: 'application' | 'model' | 'bias' | 'business' | 'infrastructure';
  metric: string;
  column?: string;
  value: number;
  threshold: number;
  /** `above`: the value exceeded the threshold; `below`: it fell under it. */
  direction: 'above' | 'below';
  message: string;
}

export interface WindowReport {
  start: string;
  start_ms: number;
  end_ms: number;
  versions: number[];
  application: {
    records: number; requests: number; throughput_per_s: number; error_rate: number; client_error_rate: number;
    latency_ms: { p50: number; p95: number; p99: number } | null;
  };
  model: {
    rows: number; labelled: number; accuracy: number | null; macro_f1: number | null;
    prediction_psi: number | null; prediction_shares: Record<string, number>;
    drift: Record<string, DriftEntry>;
  };
  bias: Record<string, BiasEntry>;
  business: Record<string, number | null>;
  infrastructure: { samples: number; cpu_percent_mean: number; cpu_percent_max: number; rss_bytes_max: number; heap_bytes_max: number; in_flight_max: number } | null;
  events: Array<Record<string, unknown>>;
  alerts: Alert[];
}

/** The answered instances of one window as the gate sees data: a Dataset with the inputs, and the outputs. */
export interface WindowRows {
  data: Dataset;
  classes: string[];
  yPred: string[];
  yTrue: Array<string | null>;
  scores: Float32Array;
}

/** One pass over the log's records; `finish()` computes the windows. */
export class MonitorAggregator {
  private readonly windows = new Map<number, WindowAcc>();
  private readonly columns: TrackedColumn[];
  private readonly labels = new Dictionary();
  private readonly rowWindow = new F64();
  private readonly rowPred = new I32();
  private readonly rowLabel = new I32();
  private readonly rowScores = new F64();
  /** Per answered row, its request id and row (the join key of feedback). */
  private readonly rowKeys: string[] = [];
  /** Feedback by join key; joined to the rows in {@link windowRows} (feedback is much rarer than predictions). */
  private readonly feedbackLabels = new Map<string, string>();
  private joined = false;
  /** Rows were merged from parts whose join keys stayed with their readers: only {@link applyJoin} can join them. */
  private keysElsewhere = false;
  private unmatched = 0;
  readonly classes: string[];
  /** Answered instances added so far. */
  get rows(): number { return this.rowPred.n; }
  /** Feedback whose prediction was not among the rows read (another range, or never logged). */
  get unmatchedFeedback(): number { this.joinFeedback(); return this.unmatched; }

  constructor(
    private readonly options: MonitoringOptions,
    classes: readonly string[],
    columns: ReadonlyArray<{ name: string; kind: 'number' | 'string' }>,
    private readonly since?: number,
    private readonly until?: number,
  ) {
    this.classes = [...classes];
    for (const c of classes) this.labels.of(c);
    this.columns = columns.map(c => ({ name: c.name, kind: c.kind, numbers: new F64(), codes: new I32(), dict: new Dictionary() }));
  }

  private windowOf(time: number): WindowAcc {
    const start = Math.floor(time / this.options.windowMs) * this.options.windowMs;
    let w = this.windows.get(start);
    if (!w) {
      w = {
        start, records: 0, requests: 0, firstRequest: undefined, lastRequest: undefined, clientErrors: 0, serverErrors: 0, latencies: new F64(), versions: new Set(),
        cpu: new F64(), samples: 0, cpuMax: 0, rssMax: 0, heapMax: 0, inFlightMax: 0, events: [],
      };
      this.windows.set(start, w);
    }
    return w;
  }

  private inRange(time: unknown): time is number {
    return typeof time === 'number' && Number.isFinite(time) && (this.since === undefined || time >= this.since) && (this.until === undefined || time < this.until);
  }

  add(r: Record<string, unknown>): void {
    switch (r.type) {
      // A shadow's answer was never served: it shares the request id of the answer production gave, so counting it
      // would double the traffic and join the feedback to the wrong prediction.
      case 'prediction': return r.slot === 'shadow' ? undefined : this.prediction(r);
      case 'feedback': return this.feedback(r);
      case 'sample': {
        if (!this.inRange(r.time)) return;
        const w = this.windowOf(r.time);
        w.samples++;
        const cpu = Number(r.cpu_percent);
        if (Number.isFinite(cpu)) { w.cpu.push(cpu); w.cpuMax = Math.max(w.cpuMax, cpu); }
        w.rssMax = Math.max(w.rssMax, Number(r.rss_bytes) || 0);
        w.heapMax = Math.max(w.heapMax, Number(r.heap_bytes) || 0);
        w.inFlightMax = Math.max(w.inFlightMax, Number(r.in_flight) || 0);
        return;
      }
      case 'event':
        if (this.inRange(r.time)) this.windowOf(r.time).events.push(r);
        return;
    }
  }

  private prediction(r: Record<string, unknown>): void {
    if (!this.inRange(r.time)) return;
    const w = this.windowOf(r.time);
    if (w.records++ === 0) w.firstRequest = r.request_id;
    if (r.request_id !== w.lastRequest) { w.requests++; w.lastRequest = r.request_id; }
    if (typeof r.version === 'number') w.versions.add(r.version);
    const status = typeof r.status === 'number' ? r.status : 200;
    if (typeof r.latency_ms === 'number') w.latencies.push(r.latency_ms);
    if (status >= 500) { w.serverErrors++; return; }
    if (status >= 400) { w.clientErrors++; return; }
    const outputs = r.outputs as Record<string, unknown> | undefined;
    const pred = outputs?.prediction;
    if (pred === undefined || pred === null) return;
    this.rowWindow.push(w.start);
    this.rowPred.push(this.labels.of(String(pred)));
    const probs = Array.isArray(outputs!.probabilities) ? outputs!.probabilities as unknown[] : [];
    for (let k = 0; k < this.classes.length; k++) { const p = probs[k]; this.rowScores.push(typeof p === 'number' ? p : NaN); }
    const inputs = (r.inputs ?? {}) as Record<string, unknown>;
    for (const c of this.columns) {
      const v = inputs[c.name];
      if (c.kind === 'number') c.numbers.push(typeof v === 'number' ? v : v === null || v === undefined || v === '' ? NaN : Number(v));
      else c.codes.push(v === null || v === undefined || v === '' ? -1 : c.dict.of(String(v)));
    }
    this.rowLabel.push(-1);
    this.rowKeys.push(r.row === 0 || r.row === undefined ? String(r.request_id) : `${String(r.request_id)}\u0000${String(r.row)}`);
  }

  private feedback(r: Record<string, unknown>): void {
    if (r.label === undefined || r.label === null) return;
    this.joined = false;
    this.feedbackLabels.set(r.row === 0 || r.row === undefined ? String(r.request_id) : `${String(r.request_id)}\u0000${String(r.row)}`, String(r.label));
  }

  /**
   * The windows starting at `starts`, their rows joined to the feedback, as a {@link PartialState} another
   * aggregator merges to report on them ({@link finish} there gives these windows' reports, the same as here).
   */
  exportWindows(starts: readonly number[]): { state: PartialState; transfer: ArrayBuffer[] } {
    this.joinFeedback();
    const wanted = new Set(starts);
    const rw = this.rowWindow.a;
    const idx: number[] = [];
    for (let i = 0; i < this.rowPred.n; i++) if (wanted.has(rw[i])) idx.push(i);
    const n = idx.length, k = this.classes.length;
    const pickF = (src: Float64Array) => { const out = new Float64Array(n); for (let j = 0; j < n; j++) out[j] = src[idx[j]]; return out; };
    const pickI = (src: Int32Array) => { const out = new Int32Array(n); for (let j = 0; j < n; j++) out[j] = src[idx[j]]; return out; };
    const scores = new Float64Array(n * k);
    for (let j = 0; j < n; j++) for (let q = 0; q < k; q++) scores[j * k + q] = this.rowScores.a[idx[j] * k + q];
    const windows = starts.map(s => this.windows.get(s)!).map(w => ({ ...w, latencies: w.latencies.view().slice(), versions: [...w.versions], cpu: w.cpu.view().slice() }));
    const state: PartialState = {
      windows, labels: this.labels.names,
      rowWindow: pickF(rw), rowPred: pickI(this.rowPred.a), rowScores: scores, rowLabel: pickI(this.rowLabel.a),
      columns: this.columns.map(c => (c.kind === 'number' ? { numbers: pickF(c.numbers.a), codes: new Int32Array(0), names: [] } : { numbers: new Float64Array(0), codes: pickI(c.codes.a), names: c.dict.names })),
      feedback: [],
    };
    const transfer = [...windows.flatMap(w => [w.latencies.buffer, w.cpu.buffer]), state.rowWindow.buffer, state.rowPred.buffer, state.rowScores.buffer, state.rowLabel!.buffer,
      ...state.columns.flatMap(c => [c.numbers.buffer, c.codes.buffer])] as ArrayBuffer[];
    return { state, transfer };
  }

  /** Answered instances per window start (the weight of a window's report). */
  rowsPerWindow(): Map<number, number> {
    const out = new Map<number, number>();
    for (const start of this.windows.keys()) out.set(start, 0);
    const rw = this.rowWindow.a;
    for (let i = 0; i < this.rowPred.n;) {
      let j = i + 1;
      while (j < this.rowPred.n && rw[j] === rw[i]) j++;
      out.set(rw[i], out.get(rw[i])! + j - i);
      i = j;
    }
    return out;
  }

  /** The feedback's join keys in the order {@link applyJoin} takes matches to them. */
  feedbackKeys(): string[] {
    return [...this.feedbackLabels.keys()];
  }

  /**
   * Joins the feedback to rows whose keys are elsewhere (merged parts: the readers match their rows' keys to
   * {@link feedbackKeys} with {@link matchFeedback}): `matches[i]` is row i's feedback key index, or −1. Labels get
   * their codes in row order, as {@link joinFeedback} gives them.
   */
  applyJoin(keys: readonly string[], matches: Int32Array): void {
    this.joined = true;
    this.unmatched = 0;
    if (this.feedbackLabels.size === 0) return;
    let matched = 0;
    for (let i = 0; i < this.rowLabel.n; i++) {
      const f = matches[i];
      if (f >= 0) { this.rowLabel.a[i] = this.labels.of(this.feedbackLabels.get(keys[f])!); matched++; }
    }
    this.unmatched = Math.max(0, this.feedbackLabels.size - matched);
  }

  private joinFeedback(): void {
    if (this.joined) return;
    if (this.keysElsewhere) throw new Error('monitor: feedback added after the rows read by worker threads were joined');
    this.joined = true;
    if (this.feedbackLabels.size === 0) return;
    let matched = 0;
    for (let i = 0; i < this.rowKeys.length; i++) {
      const label = this.feedbackLabels.get(this.rowKeys[i]);
      if (label !== undefined) { this.rowLabel.a[i] = this.labels.of(label); matched++; }
    }
    this.unmatched = Math.max(0, this.feedbackLabels.size - matched);
  }

  /**
   * This aggregator's records as a {@link PartialState}, and the buffers to transfer with it; the rows' join keys
   * are returned apart, for {@link matchFeedback}. Use the aggregator no further.
   */
  exportState(): { state: PartialState; transfer: ArrayBuffer[]; keys: string[] } {
    const windows = [...this.windows.values()].map(w => ({ ...w, latencies: w.latencies.view(), versions: [...w.versions], cpu: w.cpu.view() }));
    const state: PartialState = {
      windows, labels: this.labels.names,
      rowWindow: this.rowWindow.view(), rowPred: this.rowPred.view(), rowScores: this.rowScores.view(),
      columns: this.columns.map(c => ({ numbers: c.numbers.view(), codes: c.codes.view(), names: c.dict.names })),
      feedback: [...this.feedbackLabels],
    };
    const transfer = [...windows.flatMap(w => [w.latencies.buffer, w.cpu.buffer]), state.rowWindow.buffer, state.rowPred.buffer, state.rowScores.buffer,
      ...state.columns.flatMap(c => [c.numbers.buffer, c.codes.buffer])] as ArrayBuffer[];
    return { state, transfer, keys: this.rowKeys };
  }

  /**
   * Adds the records of a part read elsewhere (the next part of the log: parts must come in log order) as if they had
   * been added here one by one: the same counts, the same rows in the same order, the same dictionaries.
   */
  merge(p: PartialState): void {
    for (const pw of p.windows) {
      const w = this.windowOf(pw.start);
      if (pw.records > 0) {
        // The part counted its first record as a new request if its id was set; here it is new if it differs from the
        // id of this window's last record so far.
        w.requests += pw.requests - (pw.firstRequest !== undefined ? 1 : 0) + (pw.firstRequest !== w.lastRequest ? 1 : 0);
        if (w.records === 0) w.firstRequest = pw.firstRequest;
        w.lastRequest = pw.lastRequest;
      }
      w.records += pw.records;
      w.clientErrors += pw.clientErrors;
      w.serverErrors += pw.serverErrors;
      w.latencies.append(pw.latencies);
      for (const v of pw.versions) w.versions.add(v);
      w.cpu.append(pw.cpu);
      w.samples += pw.samples;
      w.cpuMax = Math.max(w.cpuMax, pw.cpuMax);
      w.rssMax = Math.max(w.rssMax, pw.rssMax);
      w.heapMax = Math.max(w.heapMax, pw.heapMax);
      w.inFlightMax = Math.max(w.inFlightMax, pw.inFlightMax);
      for (const e of pw.events) w.events.push(e);
    }
    const codes = (names: string[], dict: Dictionary) => Int32Array.from(names, n => dict.of(n));
    this.rowWindow.append(p.rowWindow);
    this.rowPred.appendMapped(p.rowPred, codes(p.labels, this.labels));
    this.rowScores.append(p.rowScores);
    this.columns.forEach((c, i) => {
      const pc = p.columns[i];
      if (c.kind === 'number') c.numbers.append(pc.numbers);
      else c.codes.appendMapped(pc.codes, codes(pc.names, c.dict));
    });
    if (p.rowLabel) {
      this.rowLabel.appendMapped(p.rowLabel, codes(p.labels, this.labels));
    } else {
      for (let i = 0; i < p.rowPred.length; i++) this.rowLabel.push(-1);
      this.keysElsewhere = true;
    }
    if (p.feedback.length) {
      this.joined = false;
      for (const [k, v] of p.feedback) this.feedbackLabels.set(k, v);
    }
  }

  /** The rows of each window, as the gate's data structures (for the statistics and for tests that compare). */
  windowRows(): Map<number, WindowRows> {
    this.joinFeedback();
    const byWindow = new Map<number, number[]>();
    const rw = this.rowWindow.a;
    for (let i = 0; i < this.rowPred.n; i++) {
      let list = byWindow.get(rw[i]);
      if (!list) { list = []; byWindow.set(rw[i], list); }
      list.push(i);
    }
    const out = new Map<number, WindowRows>();
    const k = this.classes.length;
    for (const [start, idx] of byWindow) {
      const columns = new Map<string, Column>();
      for (const c of this.columns) {
        if (c.kind === 'number') {
          const v = new Float64Array(idx.length);
          for (let j = 0; j < idx.length; j++) v[j] = c.numbers.a[idx[j]];
          columns.set(c.name, { kind: 'number', values: v });
        } else {
          columns.set(c.name, { kind: 'string', values: idx.map(i => (c.codes.a[i] < 0 ? null : c.dict.names[c.codes.a[i]])) });
        }
      }
      const scores = new Float32Array(idx.length * k);
      for (let j = 0; j < idx.length; j++) for (let q = 0; q < k; q++) scores[j * k + q] = this.rowScores.a[idx[j] * k + q];
      out.set(start, {
        data: { file: '(prediction log)', rows: idx.length, names: this.columns.map(c => c.name), columns },
        classes: this.classes,
        yPred: idx.map(i => this.labels.names[this.rowPred.a[i]]),
        yTrue: idx.map(i => (this.rowLabel.a[i] < 0 ? null : this.labels.names[this.rowLabel.a[i]])),
        scores,
      });
    }
    return out;
  }

  /** Every window's report, oldest first. */
  finish(reference?: Reference): WindowReport[] {
    const rows = this.windowRows();
    const refSorted = new Map<string, Float64Array | Array<string | null>>();
    if (reference) {
      for (const c of this.columns) {
        const col = reference.data.columns.get(c.name);
        if (!col || c.name === reference.label) continue;
        if (c.kind === 'number' && col.kind === 'number') refSorted.set(c.name, sortedValues(col.values));
        else if (c.kind === 'string' && col.kind === 'string') refSorted.set(c.name, col.values);
      }
    }
    const refLabels = reference?.label ? reference.data.columns.get(reference.label) : undefined;
    const refLabelValues = refLabels ? (refLabels.kind === 'string' ? refLabels.values : [...refLabels.values].map(v => (Number.isNaN(v) ? null : String(v)))) : undefined;
    return [...this.windows.values()].sort((a, b) => a.start - b.start).map(w => this.report(w, rows.get(w.start), refSorted, refLabelValues));
  }

  private report(w: WindowAcc, rows: WindowRows | undefined, refCols: Map<string, Float64Array | Array<string | null>>, refLabels: Array<string | null> | undefined): WindowReport {
    const o = this.options;
    const seconds = o.windowMs / 1000;
    const lat = w.latencies.n ? sortFloat64(Float64Array.from(w.latencies.view())) : null;
    const startIso = new Date(w.start).toISOString();
    const alerts: Alert[] = [];
    const alert = (layer: Alert['layer'], metric: string, value: number, threshold: number, direction: Alert['direction'], column?: string) => {
      const where = column ? `${metric} (${column})` : metric;
      alerts.push({
        window_start: startIso, layer, metric, ...(column ? { column } : {}), value, threshold, direction,
        message: direction === 'above'
          ? t('{0}: {1} = {2} is above the alert threshold {3}', layer, where, round(value), threshold)
          : t('{0}: {1} = {2} is below the alert threshold {3}', layer, where, round(value), threshold),
      });
    };
    const application = {
      records: w.records, requests: w.requests, throughput_per_s: w.records / seconds,
      error_rate: w.records ? w.serverErrors / w.records : 0, client_error_rate: w.records ? w.clientErrors / w.records : 0,
      latency_ms: lat ? { p50: quantileSorted(lat, 0.5), p95: quantileSorted(lat, 0.95), p99: quantileSorted(lat, 0.99) } : null,
    };
    if (o.alerts.error_rate !== undefined && application.error_rate > o.alerts.error_rate) alert('application', 'error_rate', application.error_rate, o.alerts.error_rate, 'above');
    if (o.alerts.latency_p95_ms !== undefined && application.latency_ms && application.latency_ms.p95 > o.alerts.latency_p95_ms) alert('application', 'latency_p95_ms', application.latency_ms.p95, o.alerts.latency_p95_ms, 'above');

    const model: WindowReport['model'] = { rows: rows?.data.rows ?? 0, labelled: 0, accuracy: null, macro_f1: null, prediction_psi: null, prediction_shares: {}, drift: {} };
    const bias: Record<string, BiasEntry> = {};
    const business: Record<string, number | null> = {};
    if (rows && rows.data.rows > 0) {
      const n = rows.data.rows;
      const counts = new Map<string, number>();
      for (const p of rows.yPred) counts.set(p, (counts.get(p) ?? 0) + 1);
      for (const [cls, c] of [...counts].sort((a, b) => (a[0] < b[0] ? -1 : 1))) model.prediction_shares[cls] = c / n;
      if (refLabels) model.prediction_psi = categoricalDrift(refLabels, rows.yPred).psi;
      for (const [name, ref] of refCols) {
        const col = rows.data.columns.get(name)!;
        if (col.kind === 'number') {
          const cur = sortedValues(col.values);
          if (cur.length === 0 || (ref as Float64Array).length === 0) continue;
          const d = numericDrift(ref as Float64Array, cur);
          model.drift[name] = { kind: 'numeric', n: cur.length, psi: d.psi, ks_statistic: d.ks_statistic, ks_p_value: d.ks_p_value };
        } else {
          model.drift[name] = { kind: 'categorical', n, psi: categoricalDrift(ref as Array<string | null>, col.values).psi };
        }
      }
      const lt: string[] = [], lp: string[] = [];
      for (let i = 0; i < n; i++) if (rows.yTrue[i] !== null) { lt.push(rows.yTrue[i]!); lp.push(rows.yPred[i]); }
      model.labelled = lt.length;
      if (lt.length) {
        model.accuracy = accuracy(lt, lp);
        model.macro_f1 = precisionRecallF1(lt, lp, { average: 'macro' }).f1;
      }
      const positive = o.positiveClass ?? sortLabels(this.classes.length ? this.classes : rows.yPred)[0];
      for (const s of o.sensitive) {
        const col = rows.data.columns.get(s);
        if (!col) continue;
        bias[s] = biasOf(rows, col, positive);
      }
      for (const k of o.alerts.kpis) business[k.name] = evaluateKpi(k.expr, rows);
    }
    const d = o.alerts.drift;
    if (d) {
      for (const [name, e] of Object.entries(model.drift)) {
        if (d.psi !== undefined && e.psi > d.psi) alert('model', 'drift_psi', e.psi, d.psi, 'above', name);
        if (d.ks_p_value !== undefined && e.ks_p_value !== undefined && e.ks_p_value < d.ks_p_value) alert('model', 'drift_ks_p_value', e.ks_p_value, d.ks_p_value, 'below', name);
      }
    }
    if (o.alerts.prediction_psi !== undefined && model.prediction_psi !== null && model.prediction_psi > o.alerts.prediction_psi) alert('model', 'prediction_psi', model.prediction_psi, o.alerts.prediction_psi, 'above');
    if (o.alerts.accuracy_min !== undefined && model.accuracy !== null && model.accuracy < o.alerts.accuracy_min) alert('model', 'accuracy', model.accuracy, o.alerts.accuracy_min, 'below');
    const b = o.alerts.bias;
    if (b) {
      for (const [col, e] of Object.entries(bias)) {
        if (b.demographic_parity_difference !== undefined && e.demographic_parity_difference !== null && e.demographic_parity_difference > b.demographic_parity_difference) {
          alert('bias', 'demographic_parity_difference', e.demographic_parity_difference, b.demographic_parity_difference, 'above', col);
        }
        if (b.equal_opportunity_difference !== undefined && e.equal_opportunity_difference !== null && e.equal_opportunity_difference > b.equal_opportunity_difference) {
          alert('bias', 'equal_opportunity_difference', e.equal_opportunity_difference, b.equal_opportunity_difference, 'above', col);
        }
      }
    }
    for (const k of o.alerts.kpis) {
      const v = business[k.name];
      if (v === null || v === undefined) continue;
      if (k.min !== undefined && v < k.min) alert('business', k.name, v, k.min, 'below');
      if (k.max !== undefined && v > k.max) alert('business', k.name, v, k.max, 'above');
    }
    return {
      start: startIso, start_ms: w.start, end_ms: w.start + o.windowMs, versions: [...w.versions].sort((x, y) => x - y),
      application, model, bias, business,
      infrastructure: w.samples ? {
        samples: w.samples, cpu_percent_mean: sum(w.cpu.view()) / w.samples, cpu_percent_max: w.cpuMax, rss_bytes_max: w.rssMax, heap_bytes_max: w.heapMax, in_flight_max: w.inFlightMax,
      } : null,
      events: w.events,
      alerts,
    };
  }
}

/**
 * Bias of one window for one sensitive column with the bias check's `fairnessMetrics`: once over every answered row
 * (the selection rate needs no label; the truth is a placeholder that is never the positive class), once over the
 * labelled rows (the true-positive rate).
 */
export function biasOf(rows: WindowRows, col: Column, positive: string, yPred: readonly string[] = rows.yPred): BiasEntry {
  const groups = col.kind === 'string' ? col.values.map(v => v ?? '(missing)') : [...col.values].map(v => (Number.isNaN(v) ? '(missing)' : String(v)));
  const placeholder = new Array<string>(groups.length).fill('\u0000');
  const all = fairnessMetrics(placeholder, yPred, groups, positive);
  const labelled = fairnessMetrics(rows.yTrue, yPred, groups, positive);
  const byGroup = new Map(labelled.groups.map(g => [g.group, g]));
  const anyLabels = labelled.groups.length > 0;
  return {
    positive_class: positive,
    groups: all.groups.map(g => {
      const l = byGroup.get(g.group);
      return { group: g.group, count: g.count, selection_rate: g.selection_rate, labelled: l?.count ?? 0, true_positive_rate: l && l.positives > 0 ? l.true_positive_rate : null };
    }),
    demographic_parity_difference: all.groups.length ? all.demographic_parity_difference : null,
    equal_opportunity_difference: anyLabels ? labelled.equal_opportunity_difference : null,
  };
}

/** For each of `rowKeys`, the index of its key in `feedbackKeys`, or −1 (the reader's side of {@link MonitorAggregator.applyJoin}). */
export function matchFeedback(rowKeys: readonly string[], feedbackKeys: readonly string[]): Int32Array {
  const index = new Map<string, number>();
  feedbackKeys.forEach((k, i) => index.set(k, i));
  const out = new Int32Array(rowKeys.length);
  for (let i = 0; i < rowKeys.length; i++) out[i] = index.get(rowKeys[i]) ?? -1;
  return out;
}

/** Left to right, as a running total over the log would add them. */
function sum(v: Float64Array): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i];
  return s;
}

function round(v: number): string {
  return Math.abs(v) >= 100 ? v.toFixed(1) : Math.abs(v) < 0.001 && v !== 0 ? v.toExponential(2) : v.toFixed(4);
}
