/**
 * What monitoring reads from a service spec: the plain `monitoring` object (as the service spec's YAML holds it) and
 * the few top-level fields it needs (model name, features, classes). The service spec's own loader lives with
 * `edd serve`; this module checks only what monitoring uses, so the two can be wired together with one call
 * ({@link parseMonitoring} on `spec.monitoring`).
 */
import { t } from '../l10n';
import type { MonitoringSpec } from '../serve/spec';
import { parseDuration as parseDurationText } from '../duration';

/** A mistake in the `monitoring` section or in a monitoring option: the message names the key and the fix. */
export class MonitorInputError extends Error {
  constructor(message: string, readonly key?: string) {
    super(message);
    this.name = 'MonitorInputError';
  }
}

/** The alert thresholds and KPIs of a service spec's `monitoring` section (one shape, the service spec's). */
export type MonitoringAlerts = MonitoringSpec['alerts'];
export type KpiSpec = MonitoringAlerts['kpis'][number];

/** The `monitoring` section, checked, with defaults applied. Paths are as written (relative to the workspace root). */
export interface MonitoringOptions {
  /** Window length in milliseconds (default 1 hour). */
  windowMs: number;
  reference?: string;
  label?: string;
  sensitive: string[];
  positiveClass?: string;
  alerts: MonitoringAlerts;
  /** The prediction log's folder (default `.edd/serving/<model>`). */
  logDir: string;
  autoCorrect: boolean;
}

/** The part of a service spec monitoring needs. */
export interface ServiceView {
  /** The spec file, as given. */
  file: string;
  model: string;
  features: string[];
  classes: string[];
  monitoring: MonitoringOptions;
  /** What the spec serves: its `alias`, else its `stage` (default `production`), as `findModelVersion` takes it. */
  served: string;
  /** `postprocess.group_thresholds` as the spec has it now (what an applied suggestion replaces). */
  groupThresholds: Record<string, Record<string, number>>;
}

/** `90s`, `15m`, `1h`, `24h`, `7d`, `1w` (or a plain number of milliseconds) → milliseconds; `key` names it in the error. */
export function parseDuration(text: string | number, key: string): number {
  if (typeof text === 'number' && Number.isFinite(text) && text > 0) return text;
  const ms = parseDurationText(String(text));
  if (ms === undefined) throw new MonitorInputError(t('{0}: {1} is not a duration; write a number and a unit, e.g. 30m, 1h, 24h or 7d', key, JSON.stringify(text)), key);
  return ms;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function num(obj: Record<string, unknown>, key: string, where: string): number | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new MonitorInputError(t('{0}: must be a number, got {1}', `${where}.${key}`, JSON.stringify(v)), `${where}.${key}`);
  return v;
}

function str(obj: Record<string, unknown>, key: string, where: string): string | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') throw new MonitorInputError(t('{0}: must be text, got {1}', `${where}.${key}`, JSON.stringify(v)), `${where}.${key}`);
  return String(v);
}

function section(obj: Record<string, unknown>, key: string, where: string): Record<string, unknown> {
  const v = obj[key];
  if (v === undefined || v === null) return {};
  if (!isObject(v)) throw new MonitorInputError(t('{0}: must be a mapping (key: value lines)', `${where}.${key}`), `${where}.${key}`);
  return v;
}

/** Checks the plain `monitoring` object of a service spec for model `model`; `undefined` gives the defaults. */
export function parseMonitoring(raw: unknown, model: string): MonitoringOptions {
  const W = 'monitoring';
  if (raw !== undefined && raw !== null && !isObject(raw)) throw new MonitorInputError(t('{0}: must be a mapping (key: value lines)', W), W);
  const m = (raw ?? {}) as Record<string, unknown>;
  const a = section(m, 'alerts', W);
  const drift = section(a, 'drift', `${W}.alerts`);
  const bias = section(a, 'bias', `${W}.alerts`);
  const kpisRaw = a.kpis ?? [];
  if (!Array.isArray(kpisRaw)) throw new MonitorInputError(t('{0}: must be a list of {name, expr, min, max}', `${W}.alerts.kpis`), `${W}.alerts.kpis`);
  const kpis = kpisRaw.map((k, i): KpiSpec => {
    const where = `${W}.alerts.kpis[${i}]`;
    if (!isObject(k) || typeof k.expr !== 'string' || k.expr.trim() === '') throw new MonitorInputError(t('{0}: needs expr, e.g. {1}', where, '{ name: adelie_share, expr: "mean(prediction == \'Adelie\')", min: 0.1 }'), where);
    return { name: str(k, 'name', where) ?? k.expr, expr: k.expr, min: num(k, 'min', where), max: num(k, 'max', where) };
  });
  const sensitiveRaw = m.sensitive ?? [];
  const sensitive = typeof sensitiveRaw === 'string' ? [sensitiveRaw] : sensitiveRaw;
  if (!Array.isArray(sensitive) || !sensitive.every(s => typeof s === 'string')) throw new MonitorInputError(t('{0}: must be a column name or a list of them', `${W}.sensitive`), `${W}.sensitive`);
  const log = section(m, 'log', W);
  const auto = m.auto_correct;
  if (auto !== undefined && typeof auto !== 'boolean') throw new MonitorInputError(t('{0}: must be true or false', `${W}.auto_correct`), `${W}.auto_correct`);
  return {
    windowMs: m.window === undefined ? 3_600_000 : parseDuration(m.window as string, `${W}.window`),
    reference: str(m, 'reference', W),
    label: str(m, 'label', W),
    sensitive: sensitive as string[],
    positiveClass: str(m, 'positive_class', W),
    alerts: {
      error_rate: num(a, 'error_rate', `${W}.alerts`),
      latency_p95_ms: num(a, 'latency_p95_ms', `${W}.alerts`),
      drift: Object.keys(drift).length ? { psi: num(drift, 'psi', `${W}.alerts.drift`), ks_p_value: num(drift, 'ks_p_value', `${W}.alerts.drift`) } : undefined,
      prediction_psi: num(a, 'prediction_psi', `${W}.alerts`),
      accuracy_min: num(a, 'accuracy_min', `${W}.alerts`),
      bias: Object.keys(bias).length ? {
        demographic_parity_difference: num(bias, 'demographic_parity_difference', `${W}.alerts.bias`),
        equal_opportunity_difference: num(bias, 'equal_opportunity_difference', `${W}.alerts.bias`),
      } : undefined,
      kpis,
    },
    logDir: str(log, 'dir', `${W}.log`) ?? `.edd/serving/${model}`,
    autoCorrect: auto === true,
  };
}
