/**
 * Reading a service spec (`*.service.yaml`) for monitoring. The spec is first checked exactly as `edd serve` and `edd
 * validate` check it (`validateService`: the service schema, paths inside the workspace, the cross-field rules), so a
 * spec monitoring accepts is one the server accepts; then only what monitoring needs is taken from it.
 */
import * as fs from 'fs';
import { t } from '../l10n';
import { locate, readYaml, span } from '../config/yamlAst';
import { LineIndex } from '../config/lines';
import { placeProblems } from '../config/validate';
import { validateService } from '../serve/spec';
import { MonitorInputError, parseMonitoring, type ServiceView } from './options';

/** Where `segments` (keys from the document root) sits in the text: [offset, length], or undefined. */
export function locateKey(text: string, segments: readonly string[]): [number, number] | undefined {
  const read = readYaml(text);
  const found = locate(read.doc, segments);
  return span(found?.key ?? found?.value ?? undefined);
}

/** Service spec → what monitoring needs. Throws MonitorInputError (file:line:col) on unreadable or invalid input. */
export function loadServiceView(file: string, shown = file, root?: string): ServiceView {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new MonitorInputError(t('{0}: cannot read the service spec ({1})', shown, (e as Error).message));
  }
  const invalid = placeProblems(text, validateService(text, { root }).problems.filter(p => p.severity === 'error'))[0];
  if (invalid) throw new MonitorInputError(`${shown}:${invalid.line}:${invalid.column}: ${invalid.message}`);
  const read = readYaml(text);
  const lines = new LineIndex(text);
  const at = (offset: number) => { const p = lines.position(offset); return `${shown}:${p.line + 1}:${p.character + 1}`; };
  const first = read.problems.find(p => p.severity === 'error');
  if (first || !read.readable) throw new MonitorInputError(first ? `${at(first.offset)}: ${first.message}` : t('{0}: not readable as YAML', at(0)));
  const v = read.value as Record<string, unknown> | null;
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new MonitorInputError(t('{0}: a service spec is a mapping with model, features, classes and monitoring', `${shown}:1:1`));
  const where = (key: string) => { const s = locateKey(text, key.split('.')); return s ? at(s[0]) : `${shown}:1:1`; };
  if (typeof v.model !== 'string' || !v.model) throw new MonitorInputError(t('{0}: `model` must name the registered model, e.g. model: penguins', where('model')));
  const list = (key: string): string[] => {
    const x = v[key] ?? [];
    if (!Array.isArray(x) || !x.every(s => typeof s === 'string' || typeof s === 'number')) throw new MonitorInputError(t('{0}: `{1}` must be a list of names', where(key), key));
    return x.map(String);
  };
  try {
    const served = typeof v.alias === 'string' ? v.alias : typeof v.stage === 'string' ? v.stage : 'production';
    const post = v.postprocess as { group_thresholds?: Record<string, Record<string, number>> } | undefined;
    return {
      file, model: v.model, features: list('features'), classes: list('classes'), monitoring: parseMonitoring(v.monitoring, v.model), served,
      groupThresholds: post?.group_thresholds ?? {},
    };
  } catch (e) {
    if (e instanceof MonitorInputError && e.key) throw new MonitorInputError(`${where(e.key.replace(/\[\d+\]/g, ''))}: ${e.message}`, e.key);
    throw e;
  }
}

/**
 * The keys (from the document root) of the threshold an alert broke, for a Problem on that line: e.g. a PSI drift
 * alert → monitoring.alerts.drift.psi; a KPI → its entry in monitoring.alerts.kpis.
 */
export function alertKeyPath(alert: { metric: string; layer: string }, kpis: ReadonlyArray<{ name: string }>): string[] {
  const base = ['monitoring', 'alerts'];
  switch (alert.metric) {
    case 'error_rate': case 'latency_p95_ms': case 'prediction_psi': return [...base, alert.metric];
    case 'accuracy': return [...base, 'accuracy_min'];
    case 'drift_psi': return [...base, 'drift', 'psi'];
    case 'drift_ks_p_value': return [...base, 'drift', 'ks_p_value'];
    case 'demographic_parity_difference': case 'equal_opportunity_difference': return [...base, 'bias', alert.metric];
  }
  const k = kpis.findIndex(x => x.name === alert.metric);
  return k >= 0 ? [...base, 'kpis', String(k)] : ['monitoring'];
}
