/**
 * Messages of the comparison panel. The host is src/extension/compare/panel.ts; the webview is webview/compare/.
 * Both import this module. Every message is checked with the guards below when it arrives.
 */
import type { CurveFrame } from '../core/compare/downsample';
import type { Comparison } from '../core/compare/model';
import type { SweepComparison } from '../core/compare/sweep';
import { isMessage, type ReadyMessage } from './messages';

export type { Comparison, CurveFrame, SweepComparison };
export type { SweepRun } from '../core/compare/sweep';

/** What the webview asks curves for: the plot's size, so the host sends no more points than it can draw. */
export interface CurveRequest {
  metric: string;
  /** Increases with every request; the reply carries it back, and a reply older than the last request is dropped. */
  seq: number;
  /** Width of the plot area in CSS pixels. */
  width: number;
  /** Device pixels per CSS pixel (`window.devicePixelRatio`): the host reduces to device pixel columns. */
  pixelRatio: number;
  /** The zoomed x range (steps) to send the detail of; absent: all of it. */
  range?: [number, number];
}

/** State the webview keeps across reloads (vscode `setState`) and that the serializer restores. */
export interface CompareViewState {
  runIds: string[];
  baselineRunId?: string;
  onlyChanged: boolean;
  /** Metric whose curves are shown. */
  curveMetric?: string;
  /** Which value the metric table shows. */
  valueKind: 'final' | 'best' | 'last';
}

/** Host → webview. */
export type HostMessage =
  /** The whole comparison (after `ready`, and whenever it changes — e.g. a selected run logs new metrics). */
  | { type: 'comparison'; comparison: Comparison; state: CompareViewState }
  /**
   * Curves of one metric for every compared run over the asked range, reduced to what the plot can draw (reply to
   * `requestCurves`, with its `seq`).
   */
  | { type: 'curves'; seq: number; frame: CurveFrame }
  /** Something went wrong on the host side; shown in the panel as text. */
  | { type: 'error'; message: string }
  /**
   * The sweep views (after `comparison`, when every compared run carries the same `sweep_id` tag; again after
   * `setSweepGroupBy`): best trial, groups with Holm-adjusted Welch tests, importance, and the runs for the
   * parallel-coordinates chart, the scatter and the run table.
   */
  | { type: 'sweep'; sweep: SweepComparison };

/** Webview → host. */
export type WebviewMessage =
  | ReadyMessage
  | { type: 'setBaseline'; runId: string }
  | ({ type: 'requestCurves' } & CurveRequest)
  | { type: 'stateChanged'; state: CompareViewState }
  /** Save an export: the webview builds the text (CSV or Markdown), the host asks where to save it. */
  | { type: 'export'; format: 'csv' | 'markdown'; content: string }
  | { type: 'setHypothesis'; experimentId: string; status: 'supported' | 'refuted' | 'inconclusive' | 'open'; decidedBy: string }
  | { type: 'openRun'; runId: string }
  /** Group the sweep's runs by another parameter or tag: the host replies with a new `sweep`. */
  | { type: 'setSweepGroupBy'; groupBy: string };

const isString = (v: unknown): v is string => typeof v === 'string';
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isRange = (v: unknown): v is [number, number] =>
  Array.isArray(v) && v.length === 2 && Number.isFinite(v[0]) && Number.isFinite(v[1]) && (v[0] as number) <= (v[1] as number);

/** Checks a `requestCurves` (beyond its type): a plot between 1 and 100,000 CSS pixels wide, a sane pixel ratio. */
export function isCurveRequest(v: unknown): v is CurveRequest {
  if (typeof v !== 'object' || v === null) return false;
  const m = v as Record<string, unknown>;
  return isString(m.metric) && isCount(m.seq)
    && typeof m.width === 'number' && Number.isFinite(m.width) && m.width >= 1 && m.width <= 100_000
    && typeof m.pixelRatio === 'number' && Number.isFinite(m.pixelRatio) && m.pixelRatio > 0 && m.pixelRatio <= 16
    && (m.range === undefined || isRange(m.range));
}

/**
 * Checks a curve frame's structure: one y array per run, each as long as x, all Float64Arrays (NaN: no point), x
 * ascending and finite, no ±Infinity. The values are checked too (the webview draws them): a frame is at most a few
 * points per pixel column per run.
 */
export function isCurveFrame(v: unknown): v is CurveFrame {
  if (typeof v !== 'object' || v === null) return false;
  const f = v as Record<string, unknown>;
  if (!isString(f.metric) || !(f.xs instanceof Float64Array) || !Array.isArray(f.ys) || !Array.isArray(f.runIds) || !Array.isArray(f.points)) return false;
  if (!(f.extent === null || isRange(f.extent)) || !(f.range === null || isRange(f.range)) || !isCount(f.columns)) return false;
  if (typeof f.reduced !== 'boolean' || typeof f.snapped !== 'boolean') return false;
  const xs = f.xs;
  const n = xs.length;
  for (let i = 0; i < n; i++) if (!Number.isFinite(xs[i]) || (i > 0 && !(xs[i] > xs[i - 1]))) return false;
  if (f.runIds.length !== f.ys.length || f.points.length !== f.ys.length || !f.runIds.every(isString) || !f.points.every(isCount)) return false;
  for (const y of f.ys as unknown[]) {
    if (!(y instanceof Float64Array) || y.length !== n) return false;
    for (let i = 0; i < n; i++) if (y[i] === Infinity || y[i] === -Infinity) return false;
  }
  return true;
}

export function isCompareViewState(v: unknown): v is CompareViewState {
  if (typeof v !== 'object' || v === null) return false;
  const s = v as Record<string, unknown>;
  return Array.isArray(s.runIds) && s.runIds.every(isString) && typeof s.onlyChanged === 'boolean'
    && (s.baselineRunId === undefined || isString(s.baselineRunId))
    && (s.curveMetric === undefined || isString(s.curveMetric))
    && (s.valueKind === 'final' || s.valueKind === 'best' || s.valueKind === 'last');
}

/** Guard for messages arriving at the host. */
export function isWebviewMessage(v: unknown): v is WebviewMessage {
  if (!isMessage(v)) return false;
  const m = v as unknown as Record<string, unknown>;
  switch (m.type) {
    case 'ready': return true;
    case 'setBaseline': return isString(m.runId);
    case 'requestCurves': return isCurveRequest(m);
    case 'stateChanged': return isCompareViewState(m.state);
    case 'export': return (m.format === 'csv' || m.format === 'markdown') && isString(m.content) && m.content.length < 50_000_000;
    case 'setHypothesis': return isString(m.experimentId) && ['supported', 'refuted', 'inconclusive', 'open'].includes(m.status as string) && isString(m.decidedBy);
    case 'openRun': return isString(m.runId);
    case 'setSweepGroupBy': return isString(m.groupBy) && m.groupBy.length > 0 && m.groupBy.length < 1000;
    default: return false;
  }
}

/**
 * Guard for messages arriving in the webview (the comparison is checked shallowly: the host is trusted, but a bad
 * message must not crash the page; a curve frame is checked whole, as it goes straight to the chart).
 */
export function isHostMessage(v: unknown): v is HostMessage {
  if (!isMessage(v)) return false;
  const m = v as unknown as Record<string, unknown>;
  switch (m.type) {
    case 'comparison': return typeof m.comparison === 'object' && m.comparison !== null && Array.isArray((m.comparison as Comparison).runs) && isCompareViewState(m.state);
    case 'curves': return isCount(m.seq) && isCurveFrame(m.frame);
    case 'error': return isString(m.message);
    case 'sweep': return isSweepComparison(m.sweep);
    default: return false;
  }
}

/**
 * Checks the parts of a sweep the views index into (shallowly elsewhere: the host is trusted, but a bad message must
 * not crash the page): every run's params have an entry per parameter, values are numbers or null, pairs and
 * groups point at existing groups.
 */
export function isSweepComparison(v: unknown): v is SweepComparison {
  if (typeof v !== 'object' || v === null) return false;
  const s = v as Record<string, unknown>;
  if (!isString(s.sweepId) || !isString(s.metric) || (s.goal !== 'min' && s.goal !== 'max')) return false;
  if (!Array.isArray(s.parameters) || !s.parameters.every(isString) || !Array.isArray(s.runs) || !Array.isArray(s.groups) || !Array.isArray(s.pairs) || !Array.isArray(s.importance)) return false;
  const parameters = s.parameters as string[];
  const okRun = (r: unknown): boolean => {
    if (typeof r !== 'object' || r === null) return false;
    const x = r as Record<string, unknown>;
    return isString(x.runId) && (x.value === null || typeof x.value === 'number') && typeof x.params === 'object' && x.params !== null
      && parameters.every(p => p in (x.params as object));
  };
  const groups = s.groups.length;
  return s.runs.every(okRun)
    && s.groups.every(g => typeof g === 'object' && g !== null && Array.isArray((g as { runIds: unknown }).runIds))
    && s.pairs.every(p => typeof p === 'object' && p !== null && isCount((p as { a: unknown }).a) && isCount((p as { b: unknown }).b) && (p as { a: number }).a < groups && (p as { b: number }).b < groups)
    && s.importance.every(i => typeof i === 'object' && i !== null && isString((i as { parameter: unknown }).parameter));
}
