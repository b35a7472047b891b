/**
 * Messages of the comparison panel. The host is src/extension/compare/panel.ts; the webview is webview/compare/.
 * Both import this module. Every message is checked with the guards below when it arrives.
 */
import type { Comparison, Curve } from '../core/compare/model';
import { isMessage, type ReadyMessage } from './messages';

export type { Comparison, Curve };

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
  /** Curves of one metric for every compared run (reply to `requestCurves`). */
  | { type: 'curves'; metric: string; curves: Curve[] }
  /** Something went wrong on the host side; shown in the panel as text. */
  | { type: 'error'; message: string };

/** Webview → host. */
export type WebviewMessage =
  | ReadyMessage
  | { type: 'setBaseline'; runId: string }
  | { type: 'requestCurves'; metric: string }
  | { type: 'stateChanged'; state: CompareViewState }
  /** Save an export: the webview builds the text (CSV or Markdown), the host asks where to save it. */
  | { type: 'export'; format: 'csv' | 'markdown'; content: string }
  | { type: 'setHypothesis'; experimentId: string; status: 'supported' | 'refuted' | 'inconclusive' | 'open'; decidedBy: string }
  | { type: 'openRun'; runId: string };

const isString = (v: unknown): v is string => typeof v === 'string';

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
    case 'requestCurves': return isString(m.metric);
    case 'stateChanged': return isCompareViewState(m.state);
    case 'export': return (m.format === 'csv' || m.format === 'markdown') && isString(m.content) && m.content.length < 50_000_000;
    case 'setHypothesis': return isString(m.experimentId) && ['supported', 'refuted', 'inconclusive', 'open'].includes(m.status as string) && isString(m.decidedBy);
    case 'openRun': return isString(m.runId);
    default: return false;
  }
}

/** Guard for messages arriving in the webview (shallow: the host is trusted, but a bad message must not crash the page). */
export function isHostMessage(v: unknown): v is HostMessage {
  if (!isMessage(v)) return false;
  const m = v as unknown as Record<string, unknown>;
  switch (m.type) {
    case 'comparison': return typeof m.comparison === 'object' && m.comparison !== null && Array.isArray((m.comparison as Comparison).runs) && isCompareViewState(m.state);
    case 'curves': return isString(m.metric) && Array.isArray(m.curves);
    case 'error': return isString(m.message);
    default: return false;
  }
}
