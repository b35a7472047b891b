/**
 * What the tables show, derived from the Comparison (pure; shared by the DOM and the exports, so an export is
 * exactly what the panel shows).
 */
import type { ComparedRun, MetricRow, ParamRow } from '../../src/core/compare/model';
import type { CompareViewState } from '../../src/protocol/compare';

export type ValueKind = CompareViewState['valueKind'];

export function metricValues(row: MetricRow, kind: ValueKind): Array<number | null> {
  return kind === 'final' ? row.final : kind === 'best' ? row.best : row.last;
}

/** Differences from the baseline run of the shown value (the model's `delta` for final values). */
export function metricDeltas(row: MetricRow, kind: ValueKind, baseline: number): Array<number | null> {
  if (kind === 'final' && row.delta.length === row.final.length) return row.delta;
  const v = metricValues(row, kind);
  const b = v[baseline];
  return v.map(x => (x === null || b === null || b === undefined ? null : x - b));
}

/** Index of the best run for the shown value (the model's `bestRun` for final values; ties: the first). */
export function bestIndex(row: MetricRow, kind: ValueKind): number | null {
  if (kind === 'final') return row.bestRun;
  const v = metricValues(row, kind);
  let best: number | null = null;
  for (let i = 0; i < v.length; i++) {
    const x = v[i];
    if (x === null || Number.isNaN(x)) continue;
    if (best === null || (row.goal === 'max' ? x > v[best]! : x < v[best]!)) best = i;
  }
  return best;
}

/** Whether a difference is an improvement for the metric's goal. */
export function isBetter(delta: number, goal: MetricRow['goal']): boolean {
  return goal === 'max' ? delta > 0 : delta < 0;
}

export function visibleParams(params: ParamRow[], onlyChanged: boolean): ParamRow[] {
  return onlyChanged ? params.filter(p => p.differs) : params;
}

/** Run labels made unique (a repeated label gets the start of its run id), for headers and exports. */
export function uniqueLabels(runs: ComparedRun[]): string[] {
  const count = new Map<string, number>();
  for (const r of runs) count.set(r.label, (count.get(r.label) ?? 0) + 1);
  return runs.map(r => ((count.get(r.label) ?? 0) > 1 ? `${r.label} (${r.runId.slice(0, 8)})` : r.label));
}
