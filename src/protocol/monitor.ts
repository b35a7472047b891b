/**
 * Messages of the Monitoring panel. The host is src/extension/monitor/panel.ts; the webview is webview/monitor/.
 * Both import this module; every message is checked with the guards below when it arrives.
 */
import type { Alert, MonitorResult, WindowReport } from '../core/monitor';
import { isMessage, type ReadyMessage } from './messages';

export type { Alert, MonitorResult, WindowReport };

/** The layers the panel shows, one tab each. */
export const LAYERS = ['application', 'model', 'bias', 'business', 'infrastructure'] as const;
export type Layer = (typeof LAYERS)[number];

/** What the webview keeps across reloads; the serializer restores the panel from it. */
export interface MonitorViewState {
  /** The service spec (a URI string). */
  specUri: string;
  layer: Layer;
  /** The last result shown, so a reload shows it again before the log is read anew. */
  result?: MonitorResult;
}

/** Host → webview. */
export type HostMessage =
  /** The monitoring of `specUri` (after `ready` and after every refresh). */
  | { type: 'result'; specUri: string; result: MonitorResult }
  /** Something went wrong on the host side (an unreadable spec or log); shown as text. */
  | { type: 'error'; message: string };

/** Webview → host. */
export type WebviewMessage =
  | ReadyMessage
  /** Read the log again. */
  | { type: 'refresh' }
  /** "Create Experiment from Alert" on the alert at `index` of `result.alerts`. */
  | { type: 'createExperiment'; index: number }
  /** Every change of the view state (a record for the serializer only). */
  | { type: 'stateChanged'; state: MonitorViewState };

const isString = (v: unknown): v is string => typeof v === 'string';
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isNumber = (v: unknown): v is number => typeof v === 'number';

export function isAlert(v: unknown): v is Alert {
  return isObject(v) && isString(v.window_start) && isString(v.layer) && isString(v.metric) && isNumber(v.value) && isNumber(v.threshold)
    && (v.direction === 'above' || v.direction === 'below') && isString(v.message) && (v.column === undefined || isString(v.column));
}

export function isWindowReport(v: unknown): v is WindowReport {
  return isObject(v) && isString(v.start) && isNumber(v.start_ms) && isNumber(v.end_ms) && isObject(v.application) && isObject(v.model)
    && isObject(v.bias) && isObject(v.business) && (v.infrastructure === null || isObject(v.infrastructure)) && Array.isArray(v.alerts) && v.alerts.every(isAlert);
}

export function isMonitorResult(v: unknown): v is MonitorResult {
  return isObject(v) && isString(v.model) && isNumber(v.window_ms) && Array.isArray(v.windows) && v.windows.every(isWindowReport)
    && Array.isArray(v.alerts) && v.alerts.every(isAlert) && isObject(v.read);
}

export function isMonitorViewState(v: unknown): v is MonitorViewState {
  return isObject(v) && isString(v.specUri) && (LAYERS as readonly unknown[]).includes(v.layer) && (v.result === undefined || isMonitorResult(v.result));
}

/** Guard for messages arriving at the host. */
export function isWebviewMessage(v: unknown): v is WebviewMessage {
  if (!isMessage(v)) return false;
  const m = v as unknown as Record<string, unknown>;
  switch (m.type) {
    case 'ready': return true;
    case 'refresh': return true;
    case 'createExperiment': return Number.isInteger(m.index) && (m.index as number) >= 0;
    case 'stateChanged': return isMonitorViewState(m.state);
    default: return false;
  }
}

/** Guard for messages arriving in the webview (a bad message must not crash the page). */
export function isHostMessage(v: unknown): v is HostMessage {
  if (!isMessage(v)) return false;
  const m = v as unknown as Record<string, unknown>;
  switch (m.type) {
    case 'result': return isString(m.specUri) && isMonitorResult(m.result);
    case 'error': return isString(m.message);
    default: return false;
  }
}
