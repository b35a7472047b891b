/**
 * Messages of the gate report panel. The host is src/extension/gate/reportPanel.ts; the webview is webview/gate/.
 * Both import this module. Every message is checked with the guards below when it arrives.
 */
import type { CheckResult, CheckStatus, GateReport } from '../core/checks/types';
import { isMessage, type ReadyMessage } from './messages';

export type { CheckResult, CheckStatus, GateReport };

/** What the webview keeps across reloads (vscode `setState`); the serializer restores the panel from it. */
export interface GateViewState {
  /** Show only the checks that did not pass (`fail` and `error`). */
  failedOnly: boolean;
  /** Ids of the checks whose evidence is open. */
  expanded: string[];
  /** The report shown (so a reload of the window can show it again without running the gate). */
  report?: GateReport;
  /** The policy file the report is of (a URI string), for "Go to check in policy" and "Run again". */
  policyUri?: string;
}

/** Host → webview. */
export type HostMessage =
  /**
   * The report to show (after `ready`, and after every full run of the gate). `report: null` is the empty state:
   * no gate has run yet (for `policyUri`, when given).
   */
  | { type: 'report'; report: GateReport | null; policyUri?: string }
  /** Something went wrong on the host side; shown in the panel as text. */
  | { type: 'error'; message: string };

/** Webview → host. */
export type WebviewMessage =
  | ReadyMessage
  /** "Go to check in policy": the host opens the policy and selects the check's list item (its `source`). */
  | { type: 'revealCheck'; checkId: string }
  /** "Run again" (or "Check Promotion" in the empty state): run the gate of the shown policy. */
  | { type: 'rerun' }
  /** Every change of the view state (a record for the serializer only). */
  | { type: 'stateChanged'; state: GateViewState };

const isString = (v: unknown): v is string => typeof v === 'string';
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const STATUSES: readonly string[] = ['pass', 'fail', 'warn', 'error'] satisfies CheckStatus[];

/** The shape of one check result (values inside `measured`, `threshold` and `evidence` are free-form data). */
export function isCheckResult(v: unknown): v is CheckResult {
  if (!isObject(v)) return false;
  return isString(v.id) && isString(v.kind) && isString(v.title) && STATUSES.includes(v.status as string)
    && isObject(v.measured) && isObject(v.threshold) && isString(v.message) && typeof v.durationMs === 'number'
    && (v.source === undefined || (isObject(v.source) && typeof v.source.offset === 'number' && typeof v.source.length === 'number'));
}

/** The shape of a gate report, as `edd gate --json` prints it. */
export function isGateReport(v: unknown): v is GateReport {
  if (!isObject(v)) return false;
  return isString(v.policy) && typeof v.passed === 'boolean' && isObject(v.summary)
    && STATUSES.every(s => typeof (v.summary as Record<string, unknown>)[s] === 'number')
    && Array.isArray(v.checks) && v.checks.every(isCheckResult)
    && isString(v.startedAt) && typeof v.durationMs === 'number' && isObject(v.candidate);
}

export function isGateViewState(v: unknown): v is GateViewState {
  if (!isObject(v)) return false;
  return typeof v.failedOnly === 'boolean' && Array.isArray(v.expanded) && v.expanded.every(isString)
    && (v.report === undefined || isGateReport(v.report))
    && (v.policyUri === undefined || isString(v.policyUri));
}

/** Guard for messages arriving at the host. */
export function isWebviewMessage(v: unknown): v is WebviewMessage {
  if (!isMessage(v)) return false;
  const m = v as unknown as Record<string, unknown>;
  switch (m.type) {
    case 'ready': return true;
    case 'revealCheck': return isString(m.checkId) && m.checkId.length < 200;
    case 'rerun': return true;
    case 'stateChanged': return isGateViewState(m.state);
    default: return false;
  }
}

/** Guard for messages arriving in the webview (a bad message must not crash the page). */
export function isHostMessage(v: unknown): v is HostMessage {
  if (!isMessage(v)) return false;
  const m = v as unknown as Record<string, unknown>;
  switch (m.type) {
    case 'report': return (m.report === null || isGateReport(m.report)) && (m.policyUri === undefined || isString(m.policyUri));
    case 'error': return isString(m.message);
    default: return false;
  }
}
