/**
 * `edd monitor` in the core: read the prediction log of a service, aggregate it per window, raise alerts
 * (src/core/monitor/aggregate.ts), suggest bias-correcting thresholds (thresholds.ts), turn an alert into an
 * experiment (experiment.ts).
 */
import * as path from 'path';
import { readDataset } from '../checks/dataset';
import { MonitorAggregator, type Alert, type WindowReport } from './aggregate';
import { emptyStats, listSegments, segmentsSince, type ReadStats } from './log';
import { LogWorkers, readerThreads } from './parallel';
import type { MonitoringAlerts, ServiceView } from './options';

export { MonitorAggregator, biasOf } from './aggregate';
export type { Alert, WindowReport, WindowRows, DriftEntry, BiasEntry, GroupEntry } from './aggregate';
export { listSegments, segmentsSince, readSegments, emptyStats } from './log';
export type { Segment, ReadStats } from './log';
export { parseMonitoring, parseDuration, MonitorInputError } from './options';
export type { MonitoringOptions, MonitoringAlerts, KpiSpec, ServiceView } from './options';
export { loadServiceView, locateKey, alertKeyPath } from './service';
export { evaluateKpi, splitKpi } from './kpi';

export interface MonitorOptions {
  /** Workspace root: the reference and the log folder resolve against it. */
  root: string;
  /** Only records at or after this time (epoch ms). */
  since?: number;
  until?: number;
  /** Overrides the spec's window (ms). */
  windowMs?: number;
  /** Worker threads that read the log (default: one per CPU for a large log, else none; see parallel.ts). */
  threads?: number;
}

export interface MonitorResult {
  model: string;
  spec: string;
  log_dir: string;
  window_ms: number;
  since: string | null;
  read: ReadStats;
  /** Feedback records whose prediction was not in the range read. */
  unmatched_feedback: number;
  windows: WindowReport[];
  alerts: Alert[];
  /** The spec's alert thresholds (the panel draws them). */
  thresholds: MonitoringAlerts;
}

/** Read the log and aggregate it: also returns the aggregator, whose window rows the threshold suggestion uses. */
export async function monitorService(service: ServiceView, options: MonitorOptions): Promise<{ result: MonitorResult; aggregator: MonitorAggregator }> {
  const m = { ...service.monitoring, ...(options.windowMs ? { windowMs: options.windowMs } : {}) };
  const reference = m.reference
    ? await readDataset(path.resolve(options.root, m.reference), { shown: m.reference, root: options.root, ...(m.label ? { label: m.label } : {}) })
    : undefined;
  const columns: Array<{ name: string; kind: 'number' | 'string' }> = [];
  if (reference) {
    for (const name of reference.names) {
      if (name === m.label || name === 'row_id') continue;
      columns.push({ name, kind: reference.columns.get(name)!.kind });
    }
  } else {
    for (const f of service.features) columns.push({ name: f, kind: 'number' });
  }
  for (const s of m.sensitive) if (!columns.some(c => c.name === s)) columns.push({ name: s, kind: 'string' });
  const aggregator = new MonitorAggregator(m, service.classes, columns, options.since, options.until);
  const dir = path.resolve(options.root, m.logDir);
  const all = listSegments(dir);
  const segments = segmentsSince(all, options.since);
  const read = emptyStats();
  read.skipped = all.length - segments.length;
  read.threads = readerThreads(segments, options.threads);
  const workers = new LogWorkers({ options: m, classes: service.classes, columns, since: options.since, until: options.until }, read.threads);
  let windows: WindowReport[];
  try {
    await workers.read(segments, aggregator, read);
    windows = await workers.finish(aggregator, reference ? { data: reference, label: m.label } : undefined);
  } finally {
    await workers.close();
  }
  return {
    result: {
      model: service.model, spec: service.file, log_dir: m.logDir, window_ms: m.windowMs,
      since: options.since === undefined ? null : new Date(options.since).toISOString(),
      read, unmatched_feedback: aggregator.unmatchedFeedback, windows, alerts: windows.flatMap(w => w.alerts), thresholds: m.alerts,
    },
    aggregator,
  };
}
