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

/** The `monitoring` section as the service schema lets it be written (RawService's). */
interface RawMonitoring {
  window?: string;
  reference?: string;
  label?: string;
  sensitive?: string[];
  positive_class?: string;
  alerts?: Partial<MonitoringAlerts>;
  log?: { dir?: string };
  auto_correct?: boolean;
}

/**
 * The `monitoring` object of a service spec for model `model`, with defaults applied (`undefined` gives the
 * defaults). It does not check the values again: the spec has passed `validateService` (loadServiceView runs it
 * first), whose schema and rules refuse every wrong type, a bad window and a KPI without name or expression, each at
 * its line.
 */
export function parseMonitoring(raw: unknown, model: string): MonitoringOptions {
  const m = (raw ?? {}) as RawMonitoring;
  const a = m.alerts ?? {};
  return {
    windowMs: m.window === undefined ? 3_600_000 : parseDuration(m.window, 'monitoring.window'),
    reference: m.reference,
    label: m.label,
    sensitive: m.sensitive ?? [],
    positiveClass: m.positive_class,
    alerts: {
      error_rate: a.error_rate,
      latency_p95_ms: a.latency_p95_ms,
      drift: a.drift && Object.keys(a.drift).length ? { psi: a.drift.psi, ks_p_value: a.drift.ks_p_value } : undefined,
      prediction_psi: a.prediction_psi,
      accuracy_min: a.accuracy_min,
      bias: a.bias && Object.keys(a.bias).length ? {
        demographic_parity_difference: a.bias.demographic_parity_difference,
        equal_opportunity_difference: a.bias.equal_opportunity_difference,
      } : undefined,
      kpis: (a.kpis ?? []).map(k => ({ name: k.name, expr: k.expr, min: k.min, max: k.max })),
    },
    logDir: m.log?.dir ?? `.edd/serving/${model}`,
    autoCorrect: m.auto_correct === true,
  };
}
