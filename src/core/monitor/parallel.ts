/**
 * `edd monitor` on worker threads: JSON.parse of the records is most of its time, the per-window statistics most of
 * the rest, and both split cleanly.
 *
 * Reading: the segments are independent. Each worker (monitorWorker.ts) reads one segment at a time into its own
 * aggregator and sends back the aggregator's state (PartialState: counts and typed arrays, moved without a copy); the
 * segments' states are merged here in log order, so the result is the one a single reader gets, number for number.
 * The rows' feedback join keys (a string per row, slow to move and to hash again) stay with the worker that read them:
 * once every segment is in, the feedback's keys go to the workers and each answers which rows they label. A worker is
 * given its next segment only when it has sent the last one's state and at most two states per worker wait for their
 * turn to be merged, so memory is what the rows need and not more.
 *
 * Reporting: the windows are independent. They are split into one contiguous run per worker, about equal in rows;
 * each worker gets its run's rows and computes their reports with the same code (MonitorAggregator.finish).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Worker } from 'worker_threads';
import type { Dataset } from '../checks/types';
import type { MonitorAggregator, PartialState, Reference, WindowReport } from './aggregate';
import type { MonitoringOptions } from './options';
import { readSegments, type ReadStats, type Segment } from './log';

/** What a worker needs to build its aggregators: the main aggregator's constructor arguments. */
export interface WorkerSetup {
  options: MonitoringOptions;
  classes: readonly string[];
  columns: ReadonlyArray<{ name: string; kind: 'number' | 'string' }>;
  since?: number;
  until?: number;
}

export type WorkerRequest =
  | { seq: number; segment: Segment }
  | { join: string[] }
  | { report: PartialState; reference?: { data: Dataset; label?: string } };
export type WorkerAnswer =
  | { seq: number; state: PartialState; stats: ReadStats }
  | { error: { message: string; code?: string } }
  /** Per segment read, each row's index in the feedback keys, or −1. */
  | { joined: Array<{ seq: number; matches: Int32Array }> }
  | { reports: WindowReport[] };

/** Below this much log a thread's start costs more than it saves. */
const MIN_BYTES = 8 * 1024 * 1024;

/**
 * The worker's script beside this module's (dist/ for the extension's bundles, out/src/core/monitor/ for the compiled
 * tests) or one folder up (the CLI's chunks are in dist/cli/).
 */
export function workerScript(): string | undefined {
  for (const folder of [__dirname, path.dirname(__dirname)]) {
    const file = path.join(folder, 'monitorWorker.js');
    if (fs.existsSync(file)) return file;
  }
  return undefined;
}

/**
 * How many worker threads to read `segments` with: 0 (all here) for a small log, one segment, one CPU, or no worker
 * script; else one per CPU, at most one per segment. `threads` overrides (tests).
 */
export function readerThreads(segments: readonly Segment[], threads?: number): number {
  if (segments.length < 2 || !workerScript()) return 0;
  if (threads !== undefined) return Math.min(threads, segments.length);
  let bytes = 0;
  for (const s of segments) {
    try { bytes += fs.statSync(s.file).size; } catch { /* gone since listed: the reader says so */ }
  }
  const cpus = os.availableParallelism();
  return bytes < MIN_BYTES || cpus < 2 ? 0 : Math.min(cpus, segments.length);
}

function addStats(to: ReadStats, s: ReadStats): void {
  to.segments += s.segments;
  to.lines += s.lines;
  to.torn += s.torn;
  to.bad += s.bad;
  to.bytes += s.bytes;
  for (const at of s.badAt) if (to.badAt.length < 5) to.badAt.push(at);
}

const failure = (m: { error: { message: string; code?: string } }) => Object.assign(new Error(m.error.message), m.error.code ? { code: m.error.code } : {});

/** Reads the log into an aggregator and reports its windows, on `threads` worker threads (with 0, here). */
export class LogWorkers {
  private readonly workers: Worker[];

  constructor(setup: WorkerSetup, threads: number) {
    const script = threads > 0 ? workerScript() : undefined;
    this.workers = script ? Array.from({ length: threads }, () => new Worker(script, { workerData: setup })) : [];
  }

  /**
   * Listens to every worker's answers until `on` returns true (all is done); an error answer, a crash or an exit of a
   * worker rejects.
   */
  private exchange(on: (w: Worker, m: WorkerAnswer) => boolean): Promise<void> {
    return new Promise((resolve, reject) => {
      const stops: Array<() => void> = [];
      const end = (e?: unknown) => { for (const stop of stops) stop(); if (e) reject(e); else resolve(); };
      for (const w of this.workers) {
        const message = (m: WorkerAnswer) => {
          if ('error' in m) { end(failure(m)); return; }
          try {
            if (on(w, m)) end();
          } catch (e) { end(e); }
        };
        const exit = (code: number) => end(new Error(`monitor worker thread exited with code ${code}`));
        w.on('message', message).on('error', end).on('exit', exit);
        stops.push(() => { w.off('message', message); w.off('error', end); w.off('exit', exit); });
      }
    });
  }

  /** Adds every record of `segments` to `aggregator` (built from the same setup as the workers'), in log order. */
  async read(segments: readonly Segment[], aggregator: MonitorAggregator, stats: ReadStats): Promise<void> {
    const threads = this.workers.length;
    if (!threads) { readSegments(segments, r => aggregator.add(r), stats); return; }
    const done = new Map<number, { state: PartialState; stats: ReadStats }>();
    // Where each segment's rows begin among the aggregator's.
    const firstRow: number[] = [];
    let next = 0, merged = 0;
    const idle: Worker[] = [];
    const give = (w: Worker) => {
      if (next < segments.length && next - merged < 2 * threads) { w.postMessage({ seq: next, segment: segments[next] } satisfies WorkerRequest); next++; return true; }
      return false;
    };
    const reading = this.exchange((w, m) => {
      if (!('seq' in m)) return false;
      done.set(m.seq, m);
      for (let d = done.get(merged); d; d = done.get(merged)) {
        done.delete(merged++);
        firstRow.push(aggregator.rows);
        aggregator.merge(d.state);
        addStats(stats, d.stats);
      }
      if (!give(w)) idle.push(w);
      while (idle.length && give(idle[0])) idle.shift();
      return merged === segments.length;
    });
    for (const w of this.workers) if (!give(w)) idle.push(w);
    await reading;

    const keys = aggregator.feedbackKeys();
    const matches = new Int32Array(aggregator.rows).fill(-1);
    if (keys.length) {
      let answers = 0;
      const joining = this.exchange((_, m) => {
        if (!('joined' in m)) return false;
        for (const { seq, matches: part } of m.joined) matches.set(part, firstRow[seq]);
        return ++answers === this.workers.length;
      });
      for (const w of this.workers) w.postMessage({ join: keys } satisfies WorkerRequest);
      await joining;
    }
    aggregator.applyJoin(keys, matches);
  }

  /** Every window's report, oldest first: {@link MonitorAggregator.finish}, its windows split among the workers. */
  async finish(aggregator: MonitorAggregator, reference?: Reference): Promise<WindowReport[]> {
    const threads = this.workers.length;
    if (threads < 2) return aggregator.finish(reference);
    const weights = [...aggregator.rowsPerWindow()].sort((a, b) => a[0] - b[0]);
    const total = weights.reduce((s, [, n]) => s + n + 1, 0);
    const runs: number[][] = [[]];
    let acc = 0;
    for (const [start, n] of weights) {
      if (acc >= (total * runs.length) / threads && runs.length < threads) runs.push([]);
      runs[runs.length - 1].push(start);
      acc += n + 1;
    }
    const parts = new Map<Worker, WindowReport[]>();
    const reporting = this.exchange((w, m) => {
      if (!('reports' in m)) return false;
      parts.set(w, m.reports);
      return parts.size === runs.length;
    });
    runs.forEach((starts, i) => {
      const { state, transfer } = aggregator.exportWindows(starts);
      this.workers[i].postMessage({ report: state, reference } satisfies WorkerRequest, transfer);
    });
    await reporting;
    return [...parts.values()].flat().sort((a, b) => a.start_ms - b.start_ms);
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map(w => w.terminate()));
  }
}
