/**
 * The tables of the panel as grid specifications (columns and a cell filler) over a Comparison. Every user string
 * goes into `textContent` or `title` (see dom.ts).
 */
import type { ComparedRun, Comparison, HypothesisVerdict, SignificanceResult } from '../../src/core/compare/model';
import { h, icon, srOnly } from './dom';
import * as f from './format';
import { cellButton, type GridColumn, type GridSpec } from './grid';
import { t } from './l10n';
import { bestIndex, isBetter, metricDeltas, metricValues, visibleParams, type ValueKind } from './view';

export type Status = HypothesisVerdict['status'];

export interface TableContext {
  comparison: Comparison;
  labels: string[];
  openRun(runId: string): void;
}

const RUN_COLUMN = 136;

function header(text: string, title?: string): (th: HTMLTableCellElement) => void {
  return th => {
    th.textContent = text;
    if (title) th.title = title;
  };
}

function col(width: number, text: string, className?: string, title?: string): GridColumn {
  return { width, header: header(text, title), className };
}

function statusText(s: ComparedRun['status']): string {
  switch (s) {
    case 'queued': return t('queued');
    case 'running': return t('running');
    case 'finished': return t('finished');
    case 'failed': return t('failed');
    case 'cancelled': return t('cancelled');
    case 'interrupted': return t('interrupted');
  }
}

/** Header cell of a run column: its label (a button that opens the run) and its status, with the baseline marked. */
function runHeader(ctx: TableContext, i: number): (th: HTMLTableCellElement) => void {
  return th => {
    const run = ctx.comparison.runs[i];
    const label = ctx.labels[i];
    th.className = `run-header${i === ctx.comparison.baselineIndex ? ' baseline' : ''}`;
    th.title = `${label}\n${run.runId}\n${statusText(run.status)}`;
    const open = cellButton(label, () => ctx.openRun(run.runId), { className: 'run-link', title: t('Open run {0}', label) });
    th.append(h('div', { class: 'line' }, open), h('div', { class: `line sub status-${run.status}` },
      statusText(run.status),
      i === ctx.comparison.baselineIndex ? h('span', { class: 'badge' }, t('baseline')) : null));
  };
}

function runColumns(ctx: TableContext): GridColumn[] {
  return ctx.comparison.runs.map((_, i) => ({ width: RUN_COLUMN, header: runHeader(ctx, i), className: 'num' }));
}

function missing(cell: HTMLElement): void {
  cell.classList.add('missing');
  cell.append(h('span', { attrs: { 'aria-hidden': 'true' } }, '—'), srOnly(t('not logged')));
}

export function paramsSpec(ctx: TableContext, onlyChanged: boolean): GridSpec {
  const c = ctx.comparison;
  const rows = visibleParams(c.params, onlyChanged);
  const base = c.baselineIndex;
  return {
    label: t('Params of the compared runs'),
    columns: [col(220, t('Param')), ...runColumns(ctx).map(x => ({ ...x, className: 'text' }))],
    rowCount: rows.length,
    headerLines: 2,
    cell(r, ci, cell) {
      const p = rows[r];
      if (ci === 0) {
        cell.textContent = p.key;
        cell.title = p.key;
        if (p.differs) cell.classList.add('differs');
        return;
      }
      const v = p.values[ci - 1];
      if (v === null || v === undefined) {
        missing(cell);
        return;
      }
      cell.textContent = v;
      cell.title = v;
      if (p.differs && base >= 0 && ci - 1 !== base && v !== p.values[base]) {
        cell.classList.add('changed');
        cell.title = t('{0} (baseline: {1})', v, p.values[base] ?? t('not set'));
      }
    },
  };
}

export function metricsSpec(ctx: TableContext, kind: ValueKind): GridSpec {
  const c = ctx.comparison;
  const base = c.baselineIndex;
  const rows = c.metrics.map(m => ({ m, values: metricValues(m, kind), deltas: metricDeltas(m, kind, base), best: bestIndex(m, kind) }));
  return {
    label: t('Metrics of the compared runs ({0} values)', kind),
    columns: [col(220, t('Metric')), ...runColumns(ctx)],
    rowCount: rows.length,
    rowLines: 2,
    headerLines: 2,
    cell(r, ci, cell) {
      const row = rows[r];
      if (ci === 0) {
        cell.title = row.m.key;
        cell.append(h('div', { class: 'line' }, row.m.key),
          h('div', { class: 'line sub' }, row.m.goal === 'max' ? t('higher is better') : t('lower is better')));
        return;
      }
      const i = ci - 1;
      const v = row.values[i];
      if (v === null || v === undefined) {
        missing(cell);
        return;
      }
      const line1 = h('div', { class: 'line' }, h('span', { class: 'value', title: String(v) }, f.num(v)));
      if (row.best === i) {
        cell.classList.add('best');
        line1.prepend(h('span', { class: 'best-mark', title: t('Best run for {0}', row.m.key) }, icon('★', 'star'), t('best')), ' ');
      }
      cell.append(line1);
      const d = row.deltas[i];
      if (i === base) cell.append(h('div', { class: 'line sub' }, t('baseline')));
      else if (d !== null && d !== undefined) {
        const cls = d === 0 ? 'same' : isBetter(d, row.m.goal) ? 'better' : 'worse';
        const words = d === 0 ? t('same as baseline') : cls === 'better' ? t('better than baseline') : t('worse than baseline');
        cell.append(h('div', { class: `line sub delta ${cls}`, title: `${words}: ${d}` }, `Δ ${f.signed(d)}`, srOnly(` (${words})`)));
      }
    },
  };
}

/** The experiment whose hypothesis a significance result speaks about: side B (the challenger). */
export function experimentOf(c: Comparison, r: SignificanceResult): string | undefined {
  const run = c.runs.find(x => x.runId === r.b);
  if (run) return run.experimentId;
  if (c.hypotheses.some(hy => hy.experimentId === r.b) || c.runs.some(x => x.experimentId === r.b)) return r.b;
  return undefined;
}

/** The words that go with a hypothesis decided by `r`, e.g. "welch_t on val_accuracy: B better than A, p = 0.003". */
export function decidedBy(r: SignificanceResult): string {
  return `${r.test} on ${r.metric}: ${r.verdict}`;
}

function suggested(r: SignificanceResult): Status | undefined {
  return r.outcome === 'better' ? 'supported' : r.outcome === 'worse' ? 'refuted' : r.outcome === 'none' ? 'inconclusive' : undefined;
}

function side(c: Comparison, labels: string[], id: string): string {
  const i = c.runs.findIndex(x => x.runId === id);
  return i >= 0 ? labels[i] : id;
}

/** A cell naming a run by its label, with the full run id in the tooltip. */
function runCell(cell: HTMLElement, label: string, runId: string): void {
  cell.textContent = label;
  cell.title = `${label}\n${runId}`;
}

export function significanceSpec(ctx: TableContext, conclude: (experimentId: string, status: Status, decidedBy: string) => void): GridSpec {
  const c = ctx.comparison;
  const rows = c.significance;
  const status = new Map(c.hypotheses.map(x => [x.experimentId, x.status]));
  return {
    label: t('Significance tests'),
    columns: [
      col(180, t('Metric')), col(130, t('Test')), col(160, t('A')), col(160, t('B')), col(90, t('n'), 'num'),
      col(96, t('Statistic'), 'num'), col(64, t('df'), 'num'), col(90, t('p-value'), 'num'),
      col(190, t('CI of B − A'), 'num'), col(340, t('Verdict')), col(330, t('Conclude the hypothesis of B')), col(230, t('Details')),
    ],
    rowCount: rows.length,
    cell(ri, ci, cell) {
      const r = rows[ri];
      const text = (s: string, title = s): void => {
        cell.textContent = s;
        cell.title = title;
      };
      switch (ci) {
        case 0: return text(r.metric);
        case 1: return text(r.test);
        case 2: return text(side(c, ctx.labels, r.a), r.a);
        case 3: return text(side(c, ctx.labels, r.b), r.b);
        case 4: return text(Array.isArray(r.n) ? `${r.n[0]} / ${r.n[1]}` : String(r.n));
        case 5: return text(f.num(r.statistic), r.statistic === null ? t('not defined') : String(r.statistic));
        case 6: return text(f.num(r.df ?? null));
        case 7: {
          text(f.pValue(r.p_value), r.p_value === null ? t('not defined') : String(r.p_value));
          if (r.p_value !== null && r.p_value < r.alpha) cell.classList.add('significant');
          return;
        }
        case 8: {
          if (r.ci_low === null || r.ci_low === undefined || r.ci_high === null || r.ci_high === undefined) return;
          const conf = r.confidence !== undefined ? `${f.percent(r.confidence)} ` : '';
          return text(`${conf}[${f.num(r.ci_low)}, ${f.num(r.ci_high)}]`, `[${r.ci_low}, ${r.ci_high}]`);
        }
        case 9: {
          cell.classList.add(`outcome-${r.outcome}`);
          return text(r.verdict);
        }
        case 10: {
          const exp = experimentOf(c, r);
          if (!exp) {
            cell.append(h('span', { class: 'sub' }, t('no experiment to conclude')));
            return;
          }
          const now = status.get(exp);
          const hint = suggested(r);
          const by = decidedBy(r);
          const mk = (s: Status, label: string): HTMLButtonElement => cellButton(label, () => conclude(exp, s, by), {
            className: s === hint ? 'primary' : undefined,
            pressed: now === s,
            title: t('Mark the hypothesis of {0} as {1}, decided by: {2}', exp, label, by),
          });
          cell.classList.add('actions');
          cell.append(mk('supported', t('Supported')), mk('refuted', t('Refuted')), mk('inconclusive', t('Inconclusive')));
          return;
        }
        case 11: {
          const parts: string[] = [];
          if (r.discordant) parts.push(t('discordant: {0} only A right, {1} only B right', r.discordant[0], r.discordant[1]));
          if (r.resamples !== undefined) parts.push(t('{0} resamples', r.resamples.toLocaleString()));
          if (r.difference !== null && r.difference !== undefined) parts.push(t('difference {0}', f.signed(r.difference)));
          parts.push(t('α = {0}', r.alpha));
          return text(parts.join('; '));
        }
      }
    },
  };
}

export function intervalsSpec(ctx: TableContext): GridSpec {
  const c = ctx.comparison;
  const rows = c.intervals;
  return {
    label: t('Wilson intervals'),
    columns: [col(220, t('Run')), col(150, t('Metric')), col(130, t('Successes / n'), 'num'), col(90, t('Rate'), 'num'),
      col(190, t('Wilson interval'), 'num'), col(100, t('Confidence'), 'num'), { width: 220, header: header(t('Interval on 0–1')), className: 'bar-cell' }],
    rowCount: rows.length,
    cell(ri, ci, cell) {
      const r = rows[ri];
      switch (ci) {
        case 0: return runCell(cell, side(c, ctx.labels, r.runId), r.runId);
        case 1: cell.textContent = r.metric; cell.title = r.metric; return;
        case 2: cell.textContent = `${r.successes} / ${r.n}`; return;
        case 3: cell.textContent = f.num(r.rate); cell.title = String(r.rate); return;
        case 4: cell.textContent = `[${f.num(r.wilson_low)}, ${f.num(r.wilson_high)}]`; cell.title = `[${r.wilson_low}, ${r.wilson_high}]`; return;
        case 5: cell.textContent = f.percent(r.confidence); return;
        case 6: {
          const clamp = (x: number): number => Math.min(1, Math.max(0, x));
          const track = h('div', { class: 'interval-track', attrs: { 'aria-hidden': 'true' } });
          const range = h('div', { class: 'interval-range' });
          range.style.left = `${clamp(r.wilson_low) * 100}%`;
          range.style.width = `${(clamp(r.wilson_high) - clamp(r.wilson_low)) * 100}%`;
          const dot = h('div', { class: 'interval-point' });
          dot.style.left = `${clamp(r.rate) * 100}%`;
          track.append(range, dot);
          cell.append(track);
          return;
        }
      }
    },
  };
}

export function evaluationSpec(ctx: TableContext): GridSpec {
  const c = ctx.comparison;
  const rows = c.evaluation ?? [];
  const best = (key: 'accuracy' | 'f1' | 'roc_auc'): number => {
    let b = -1;
    rows.forEach((r, i) => {
      const v = r[key];
      if (v !== null && (b < 0 || v > (rows[b][key] as number))) b = i;
    });
    return b;
  };
  const bests = { accuracy: best('accuracy'), f1: best('f1'), roc_auc: best('roc_auc') };
  return {
    label: t('Metrics recomputed from the predictions'),
    columns: [col(220, t('Run')), col(110, t('Examples'), 'num'), col(130, t('Accuracy'), 'num'), col(130, t('Macro F1'), 'num'), col(130, t('ROC AUC (macro)'), 'num')],
    rowCount: rows.length,
    cell(ri, ci, cell) {
      const r = rows[ri];
      const value = (key: 'accuracy' | 'f1' | 'roc_auc'): void => {
        const v = r[key];
        if (v === null) return missing(cell);
        cell.title = String(v);
        if (bests[key] === ri && rows.length > 1) {
          cell.classList.add('best');
          cell.append(h('span', { class: 'best-mark' }, icon('★', 'star'), t('best')), ' ');
        }
        cell.append(f.num(v));
      };
      switch (ci) {
        case 0: return runCell(cell, side(c, ctx.labels, r.runId), r.runId);
        case 1: cell.textContent = r.n.toLocaleString(); return;
        case 2: return value('accuracy');
        case 3: return value('f1');
        case 4: return value('roc_auc');
      }
    },
  };
}

export function costSpec(ctx: TableContext): GridSpec {
  const c = ctx.comparison;
  const rows = c.costs;
  return {
    label: t('Cost of the compared runs'),
    columns: [col(220, t('Run')), col(110, t('Training time'), 'num'), col(110, t('Peak memory'), 'num'), col(110, t('Model size'), 'num'),
      col(110, t('Latency p50'), 'num'), col(110, t('Latency p95'), 'num'), col(120, t('Throughput'), 'num', t('Examples per second at batch 256')),
      col(420, t('Note'))],
    rowCount: rows.length,
    cell(ri, ci, cell) {
      const r = rows[ri];
      const text = (s: string, title?: string): void => {
        if (s === '') {
          missing(cell);
          return;
        }
        cell.textContent = s;
        if (title) cell.title = title;
      };
      switch (ci) {
        case 0: return runCell(cell, side(c, ctx.labels, r.runId), r.runId);
        case 1: return text(f.duration(r.duration_s), r.duration_s === null ? undefined : t('{0} seconds', r.duration_s));
        case 2: return text(f.megabytes(r.peak_memory_mb), r.peak_memory_mb === null ? undefined : t('{0} MB', r.peak_memory_mb));
        case 3: return text(f.bytes(r.model_size_bytes), r.model_path ?? undefined);
        case 4: return text(f.ms(r.latency_p50_ms));
        case 5: return text(f.ms(r.latency_p95_ms));
        case 6: return text(f.perSecond(r.throughput_per_s));
        case 7: {
          if (r.latency_error) {
            cell.classList.add('note');
            cell.textContent = r.latency_error;
            cell.title = r.latency_error;
          }
          return;
        }
      }
    },
  };
}

function statusLabel(s: Status): [string, string] {
  switch (s) {
    case 'open': return ['○', t('open')];
    case 'supported': return ['✓', t('supported')];
    case 'refuted': return ['✗', t('refuted')];
    case 'inconclusive': return ['?', t('inconclusive')];
  }
}

export function hypothesesSpec(ctx: TableContext, reopen: (experimentId: string) => void): GridSpec {
  const rows = ctx.comparison.hypotheses;
  return {
    label: t('Hypotheses of the compared experiments'),
    columns: [col(220, t('Experiment')), col(150, t('Status')), col(480, t('Decided by')), col(190, t('Decided at')), col(120, t('Action'))],
    rowCount: rows.length,
    cell(ri, ci, cell) {
      const r = rows[ri];
      switch (ci) {
        case 0: cell.textContent = r.experimentId; cell.title = r.experimentId; return;
        case 1: {
          const [glyph, word] = statusLabel(r.status);
          cell.classList.add(`hypothesis-${r.status}`);
          cell.append(icon(glyph, 'status-icon'), ' ', word);
          return;
        }
        case 2: if (r.decidedBy) { cell.textContent = r.decidedBy; cell.title = r.decidedBy; } return;
        case 3: cell.textContent = f.dateTime(r.decidedAt); return;
        case 4: if (r.status !== 'open') cell.append(cellButton(t('Reopen'), () => reopen(r.experimentId), { title: t('Set the hypothesis of {0} back to open', r.experimentId) })); return;
      }
    },
  };
}
