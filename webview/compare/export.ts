/**
 * CSV and Markdown of the params and metrics tables, as the panel shows them (the "only what changed" filter and
 * the value kind apply; every run is included). CSV keeps full precision; Markdown is formatted for reading.
 */
import type { Comparison } from '../../src/core/compare/model';
import { num, signed } from './format';
import { bestIndex, metricDeltas, metricValues, uniqueLabels, visibleParams, type ValueKind } from './view';

export interface ExportOptions {
  onlyChanged: boolean;
  valueKind: ValueKind;
}

/** One CSV field (RFC 4180), with text that a spreadsheet would run as a formula made inert. */
export function csvField(v: string | number | null | undefined): string {
  if (v === null || v === undefined) return '';
  let s = typeof v === 'number' ? String(v) : v;
  if (typeof v === 'string' && /^[=+\-@\t\r]/.test(s) && !/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function toCsv(c: Comparison, o: ExportOptions): string {
  const labels = uniqueLabels(c.runs);
  const lines: string[] = [];
  const line = (...fields: Array<string | number | null | undefined>): void => {
    lines.push(fields.map(csvField).join(','));
  };
  line('table', 'name', 'goal', ...labels, 'best run');
  line('run', 'run_id', '', ...c.runs.map(r => r.runId), '');
  line('run', 'experiment', '', ...c.runs.map(r => r.experimentId), '');
  line('run', 'baseline', '', ...c.runs.map((_, i) => (i === c.baselineIndex ? 'yes' : '')), '');
  for (const p of visibleParams(c.params, o.onlyChanged)) line('param', p.key, '', ...p.values, '');
  for (const m of c.metrics) {
    const best = bestIndex(m, o.valueKind);
    line(`metric:${o.valueKind}`, m.key, m.goal, ...metricValues(m, o.valueKind), best === null ? '' : labels[best]);
  }
  for (const m of c.metrics) line(`delta:${o.valueKind}`, m.key, m.goal, ...metricDeltas(m, o.valueKind, c.baselineIndex), '');
  return `${lines.join('\r\n')}\r\n`;
}

/** Text for a Markdown table cell: pipes and Markdown syntax escaped, HTML shown as text, one line. */
export function mdCell(s: string): string {
  return s
    .replace(/[\\`*_[\]|#]/g, '\\$&')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/\r?\n|\r/g, ' ');
}

function mdRow(cells: string[]): string {
  return `| ${cells.join(' | ')} |`;
}

export function toMarkdown(c: Comparison, o: ExportOptions): string {
  const labels = uniqueLabels(c.runs).map(mdCell);
  const base = c.runs[c.baselineIndex];
  const out: string[] = [];
  out.push('# Run comparison', '');
  out.push(`${c.runs.length} runs; baseline: ${base ? mdCell(labels[c.baselineIndex]) : 'none'}; built ${new Date(c.builtAt).toISOString()}.`, '');
  const params = visibleParams(c.params, o.onlyChanged);
  out.push(o.onlyChanged ? '## Params (only what changed)' : '## Params', '');
  if (params.length === 0) out.push(o.onlyChanged ? 'All params are equal across the runs.' : 'No params.', '');
  else {
    out.push(mdRow(['param', ...labels]), mdRow(['---', ...labels.map(() => '---')]));
    for (const p of params) out.push(mdRow([mdCell(p.key), ...p.values.map(v => (v === null ? '—' : mdCell(v)))]));
    out.push('');
  }
  out.push(`## Metrics (${o.valueKind})`, '');
  if (c.metrics.length === 0) out.push('No metrics.', '');
  else {
    out.push('In parentheses: the difference from the baseline. ★ marks the best run.', '');
    out.push(mdRow(['metric', 'goal', ...labels]), mdRow(['---', '---', ...labels.map(() => '---:')]));
    for (const m of c.metrics) {
      const values = metricValues(m, o.valueKind);
      const deltas = metricDeltas(m, o.valueKind, c.baselineIndex);
      const best = bestIndex(m, o.valueKind);
      const cells = values.map((v, i) => {
        if (v === null) return '—';
        let s = num(v);
        if (i === best) s = `**${s}** ★`;
        const d = deltas[i];
        if (i !== c.baselineIndex && d !== null && d !== undefined) s += ` (${signed(d)})`;
        return s;
      });
      out.push(mdRow([mdCell(m.key), m.goal, ...cells]));
    }
    out.push('');
  }
  return out.join('\n');
}
