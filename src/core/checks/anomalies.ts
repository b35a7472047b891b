/**
 * The `anomalies` check: the share of evaluation rows with an out-of-range value in a numeric column.
 *
 * Policy entry:
 * ```yaml
 * - anomalies:
 *     method: iqr        # or zscore
 *     k: 1.5             # iqr: fences Q1 − k·IQR and Q3 + k·IQR (default 1.5); zscore: |z| > k (default 3)
 *     max_rate: 0.01     # fail when more than 1% of the rows have an anomaly in any checked column
 *     columns: all       # or a list; `all` = every numeric column except the label
 * ```
 *
 * - `iqr`: Q1 and Q3 are quantiles (numpy `linear`) of the reference data when the policy gives one (and the column
 *   is numeric there), else of the evaluation data itself; a value outside [Q1 − k·IQR, Q3 + k·IQR] is an anomaly.
 * - `zscore`: z = (x − mean) / std with the mean and the population standard deviation (ddof 0, as
 *   `scipy.stats.zscore`) of the same source; |z| > k is an anomaly. A zero std makes every value ≠ mean anomalous.
 * Missing values are not anomalies (the data_schema check counts them). Infinite values (`inf` in a CSV) are left out
 * of the statistics and are always anomalies (outside any finite fence, |z| = ∞); per column, `infinite` counts them. `anomaly_rate` = rows with at least one
 * anomalous value / rows; per column, the column's rate. Evidence: the first 20 offending cells (1-based data row,
 * header not counted, column, value).
 */
import { t } from '../l10n';
import { quantileSorted } from '../stats';
import { finitePart, jsonNumber, runCheck, selectColumns, sortedValues } from './dataset';
import { fmt, nameList } from './format';
import { CheckInputError, rejectUnknownOptions, specObject } from './harness';
import type { CheckResult, Column, GateContext } from './types';

export interface AnomaliesSpec {
  method: 'iqr' | 'zscore';
  k?: number;
  max_rate: number;
  columns?: 'all' | string[];
}

interface Parsed { method: 'iqr' | 'zscore'; k: number; maxRate: number; columns: unknown }

function parseSpec(raw: unknown): Parsed {
  const spec = specObject('anomalies', raw);
  rejectUnknownOptions('anomalies', spec, ['method', 'k', 'max_rate', 'columns']);
  const method = spec.method;
  if (method !== 'iqr' && method !== 'zscore') throw new CheckInputError(t('anomalies: method must be iqr or zscore, got {0}', String(JSON.stringify(method))));
  const k = spec.k === undefined || spec.k === null ? (method === 'iqr' ? 1.5 : 3) : spec.k;
  if (typeof k !== 'number' || !(k > 0) || !Number.isFinite(k)) throw new CheckInputError(t('anomalies: k must be a positive number, got {0}', String(JSON.stringify(spec.k))));
  const maxRate = spec.max_rate;
  if (typeof maxRate !== 'number' || !(maxRate >= 0 && maxRate <= 1)) {
    throw new CheckInputError(t('anomalies: max_rate must be a share between 0 and 1 (e.g. 0.01), got {0}', String(JSON.stringify(maxRate))));
  }
  return { method, k, maxRate, columns: spec.columns };
}

interface Bounds { low: number; high: number; stats: Record<string, number> }

function boundsFor(method: 'iqr' | 'zscore', k: number, source: Float64Array): Bounds | undefined {
  const sorted = finitePart(sortedValues(source));
  if (sorted.length === 0) return undefined;
  if (method === 'iqr') {
    const q1 = quantileSorted(sorted, 0.25), q3 = quantileSorted(sorted, 0.75);
    const iqr = q3 - q1;
    return { low: q1 - k * iqr, high: q3 + k * iqr, stats: { q1, q3, iqr } };
  }
  let mean = 0;
  for (let i = 0; i < sorted.length; i++) mean += sorted[i];
  mean /= sorted.length;
  let ss = 0;
  for (let i = 0; i < sorted.length; i++) { const d = sorted[i] - mean; ss += d * d; }
  const std = Math.sqrt(ss / sorted.length);
  // |x − mean| > k·std  ⇔  |z| > k  (std = 0: every x ≠ mean)
  return { low: mean - k * std, high: mean + k * std, stats: { mean, std } };
}

/** Counts anomalous values per numeric column and rows with any anomaly. Never throws. */
export async function anomaliesCheck(ctx: GateContext, spec: AnomaliesSpec | Record<string, unknown>, id: string): Promise<CheckResult> {
  let parsed: Parsed | undefined;
  try { parsed = parseSpec(spec); } catch { /* reported by the body */ }
  const title = parsed
    ? (parsed.method === 'iqr'
      ? t('anomalies (IQR fences, k = {0}): rate ≤ {1}', parsed.k, parsed.maxRate)
      : t('anomalies (|z| > {0}): rate ≤ {1}', parsed.k, parsed.maxRate))
    : 'anomalies';
  return runCheck('anomalies', id, title, spec, () => {
    const p = parseSpec(spec);
    const ds = ctx.eval;
    const columns = selectColumns('anomalies', p.columns, [{ ds, role: 'evaluation' }],
      () => ds.names.filter(n => n !== ctx.label && ds.columns.get(n)?.kind === 'number'));
    if (columns.length === 0) throw new CheckInputError(t('anomalies: the evaluation data have no numeric column to check; the columns are {0}', nameList(ds.names)));
    const numericCols: Array<{ name: string; values: Float64Array; bounds: Bounds; source: 'reference' | 'eval' }> = [];
    const perColumn: Record<string, Record<string, unknown>> = {};
    for (const name of columns) {
      const col = ds.columns.get(name) as Column;
      if (col.kind !== 'number') throw new CheckInputError(t('anomalies: column "{0}" is not numeric; list numeric columns only (or use the data_schema check for text columns)', name));
      const refCol = ctx.reference?.columns.get(name);
      const useRef = refCol?.kind === 'number' && finitePart(sortedValues(refCol.values)).length > 0;
      const bounds = boundsFor(p.method, p.k, useRef ? (refCol as Extract<Column, { kind: 'number' }>).values : col.values);
      if (!bounds) { perColumn[name] = { count: 0, rate: 0, note: t('no values') }; continue; }
      numericCols.push({ name, values: col.values, bounds, source: useRef ? 'reference' : 'eval' });
    }

    const rows = ds.rows;
    const rowFlag = new Uint8Array(rows);
    const evidence: Array<{ row: number; column: string; value: number | string; low: number; high: number; z?: number | string }> = [];
    const counts = new Map<string, number>();
    for (const c of numericCols) {
      const { low, high } = c.bounds;
      const v = c.values;
      let n = 0, infinite = 0;
      for (let i = 0; i < rows; i++) {
        const x = v[i];
        if (x < low || x > high) { n++; rowFlag[i] = 1; if (x === Infinity || x === -Infinity) infinite++; }
      }
      counts.set(c.name, n);
      perColumn[c.name] = {
        count: n, rate: rows ? n / rows : 0, ...(infinite ? { infinite } : {}), low, high, ...c.bounds.stats, statistics_from: c.source,
      };
    }
    // the first 20 offending cells in row order
    for (let i = 0; i < rows && evidence.length < 20; i++) {
      if (!rowFlag[i]) continue;
      for (const c of numericCols) {
        const x = c.values[i];
        if (x < c.bounds.low || x > c.bounds.high) {
          const item: (typeof evidence)[number] = { row: i + 1, column: c.name, value: jsonNumber(x), low: c.bounds.low, high: c.bounds.high };
          if (p.method === 'zscore') item.z = jsonNumber(c.bounds.stats.std > 0 ? (x - c.bounds.stats.mean) / c.bounds.stats.std : (x > c.bounds.stats.mean ? Infinity : -Infinity));
          evidence.push(item);
          if (evidence.length >= 20) break;
        }
      }
    }
    let flagged = 0;
    for (let i = 0; i < rows; i++) flagged += rowFlag[i];
    const rate = rows ? flagged / rows : 0;
    const sources = new Set(numericCols.map(c => c.source));
    const from = sources.size === 2 ? t('the reference data where the column is numeric there, else the evaluation data')
      : sources.has('reference') ? t('the reference data') : t('the evaluation data (no reference given)');
    const measured = { anomaly_rate: rate, rows_with_anomalies: flagged, rows, method: p.method, k: p.k, statistics_from: [...sources], columns: perColumn };
    const worst = [...counts.entries()].sort((a, b) => b[1] - a[1]).filter(e => e[1] > 0).slice(0, 3)
      .map(([n, c]) => `${n} ${fmt(c / rows)}`).join(', ');
    if (rate > p.maxRate) {
      return {
        status: 'fail', measured, evidence,
        message: p.method === 'iqr'
          ? t('{0} of {1} rows ({2}) have a value outside Q1 − {3}·IQR … Q3 + {3}·IQR (statistics from {4}), above the maximum rate {5}; worst columns: {6} — inspect the rows in the evidence for data errors or a changed input pipeline.',
            flagged, rows, fmt(rate), p.k, from, p.maxRate, worst)
          : t('{0} of {1} rows ({2}) have a value with |z| > {3} (statistics from {4}), above the maximum rate {5}; worst columns: {6} — inspect the rows in the evidence for data errors or a changed input pipeline.',
            flagged, rows, fmt(rate), p.k, from, p.maxRate, worst),
      };
    }
    return {
      status: 'pass', measured, ...(evidence.length ? { evidence } : {}),
      message: p.method === 'iqr'
        ? t('{0} of {1} rows ({2}) have a value outside Q1 − {3}·IQR … Q3 + {3}·IQR in {4} columns (statistics from {5}), within the maximum rate {6}.',
          flagged, rows, fmt(rate), p.k, numericCols.length, from, p.maxRate)
        : t('{0} of {1} rows ({2}) have a value with |z| > {3} in {4} columns (statistics from {5}), within the maximum rate {6}.',
          flagged, rows, fmt(rate), p.k, numericCols.length, from, p.maxRate),
    };
  });
}
