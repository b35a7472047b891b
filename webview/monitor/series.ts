/**
 * The Monitoring panel's charts, per layer, from a monitoring result: pure data (no DOM), so the DOM tests can check
 * them. A chart has one or more series over the windows, the alert threshold (drawn as a dashed line) and the windows
 * where an alert of that chart fired (drawn as markers, and listed as text).
 */
import type { Layer, MonitorResult, WindowReport } from '../../src/protocol/monitor';
import { t } from '../compare/l10n';

export interface Series {
  label: string;
  values: Array<number | null>;
}

export interface ChartSpec {
  id: string;
  title: string;
  series: Series[];
  thresholds: number[];
  /** Indices of the windows with an alert of this chart. */
  alertWindows: number[];
}

const num = (v: number | null | undefined): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

function alertIndices(r: MonitorResult, match: (metric: string) => boolean): number[] {
  const out: number[] = [];
  r.windows.forEach((w, i) => { if (w.alerts.some(a => match(a.metric))) out.push(i); });
  return out;
}

function keysOf(windows: readonly WindowReport[], pick: (w: WindowReport) => Record<string, unknown>): string[] {
  const keys = new Set<string>();
  for (const w of windows) for (const k of Object.keys(pick(w))) keys.add(k);
  return [...keys].sort();
}

export function chartsOf(r: MonitorResult, layer: Layer): ChartSpec[] {
  const w = r.windows;
  const th = r.thresholds ?? { kpis: [] };
  const defined = (...xs: Array<number | undefined>) => xs.filter((x): x is number => x !== undefined);
  switch (layer) {
    case 'application':
      return [
        { id: 'throughput', title: t('Throughput (predictions per second)'), series: [{ label: t('per second'), values: w.map(x => x.application.throughput_per_s) }], thresholds: [], alertWindows: [] },
        { id: 'error_rate', title: t('Error rate (5xx share)'), series: [{ label: t('error rate'), values: w.map(x => x.application.error_rate) }], thresholds: defined(th.error_rate), alertWindows: alertIndices(r, m => m === 'error_rate') },
        {
          id: 'latency', title: t('Latency (ms)'),
          series: (['p50', 'p95', 'p99'] as const).map(p => ({ label: p, values: w.map(x => num(x.application.latency_ms?.[p])) })),
          thresholds: defined(th.latency_p95_ms), alertWindows: alertIndices(r, m => m === 'latency_p95_ms'),
        },
      ];
    case 'model': {
      const cols = keysOf(w, x => x.model.drift);
      return [
        {
          id: 'quality', title: t('Accuracy and macro F1 (labelled predictions)'),
          series: [{ label: t('accuracy'), values: w.map(x => num(x.model.accuracy)) }, { label: t('macro F1'), values: w.map(x => num(x.model.macro_f1)) }],
          thresholds: defined(th.accuracy_min), alertWindows: alertIndices(r, m => m === 'accuracy'),
        },
        { id: 'prediction_psi', title: t('Prediction shift (PSI of predicted classes)'), series: [{ label: 'PSI', values: w.map(x => num(x.model.prediction_psi)) }], thresholds: defined(th.prediction_psi), alertWindows: alertIndices(r, m => m === 'prediction_psi') },
        {
          id: 'drift', title: t('Input drift (PSI per column)'),
          series: cols.map(c => ({ label: c, values: w.map(x => num(x.model.drift[c]?.psi)) })),
          thresholds: defined(th.drift?.psi), alertWindows: alertIndices(r, m => m.startsWith('drift_')),
        },
      ];
    }
    case 'bias': {
      const cols = keysOf(w, x => x.bias);
      return [
        { id: 'dp', title: t('Demographic parity difference'), series: cols.map(c => ({ label: c, values: w.map(x => num(x.bias[c]?.demographic_parity_difference)) })), thresholds: defined(th.bias?.demographic_parity_difference), alertWindows: alertIndices(r, m => m === 'demographic_parity_difference') },
        { id: 'eo', title: t('Equal opportunity difference'), series: cols.map(c => ({ label: c, values: w.map(x => num(x.bias[c]?.equal_opportunity_difference)) })), thresholds: defined(th.bias?.equal_opportunity_difference), alertWindows: alertIndices(r, m => m === 'equal_opportunity_difference') },
      ];
    }
    case 'business':
      return keysOf(w, x => x.business).map(k => {
        const spec = th.kpis?.find(x => x.name === k);
        return { id: `kpi-${k}`, title: k, series: [{ label: k, values: w.map(x => num(x.business[k])) }], thresholds: defined(spec?.min, spec?.max), alertWindows: alertIndices(r, m => m === k) };
      });
    case 'infrastructure':
      return [
        { id: 'cpu', title: t('CPU (%)'), series: [{ label: t('mean'), values: w.map(x => num(x.infrastructure?.cpu_percent_mean)) }, { label: t('max'), values: w.map(x => num(x.infrastructure?.cpu_percent_max)) }], thresholds: [], alertWindows: [] },
        { id: 'memory', title: t('Memory (MB)'), series: [{ label: t('resident'), values: w.map(x => (x.infrastructure ? x.infrastructure.rss_bytes_max / 1048576 : null)) }, { label: t('heap'), values: w.map(x => (x.infrastructure ? x.infrastructure.heap_bytes_max / 1048576 : null)) }], thresholds: [], alertWindows: [] },
      ];
  }
}
