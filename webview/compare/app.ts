/**
 * The comparison panel: keeps the view state, turns host messages into DOM, and user actions into messages. It
 * reaches the extension only through the `Host` it is given (a fake one in DOM tests).
 *
 * State: the webview's own choices (only-changed, value kind, curve metric, collapsed sections) win over the state
 * in a `comparison` message once the webview has any (restored with `getState`, or set by the user), so a live
 * update never resets a toggle; the runs and the baseline always come from the comparison.
 */
import type { Comparison } from '../../src/core/compare/model';
import type { CompareViewState, CurveFrame, HostMessage, WebviewMessage } from '../../src/protocol/compare';
import { isCompareViewState } from '../../src/protocol/compare';
import type { Host } from '../host';
import { Chart, type ChartSeries } from './chart';
import { h, setChildren } from './dom';
import { toCsv, toMarkdown } from './export';
import { dateTime } from './format';
import { Grid } from './grid';
import { t } from './l10n';
import { costSpec, evaluationSpec, hypothesesSpec, intervalsSpec, metricsSpec, paramsSpec, significanceSpec, type TableContext } from './tables';
import { SweepView, type SweepViewState } from './sweep';
import * as ui from './ui';
import { uniqueLabels, type ValueKind } from './view';

export type CompareHost = Host<WebviewMessage, CompareViewState>;

type SectionId = 'params' | 'metrics' | 'evaluation' | 'significance' | 'intervals' | 'cost' | 'curves' | 'hypotheses';

/** What the webview stores with `setState`: the protocol's state plus what only the webview cares about. */
interface LocalState extends CompareViewState {
  collapsed?: SectionId[];
  /** The sweep views' brushes, scatter parameter and grouping (checked by the sweep view when restored). */
  sweep?: SweepViewState;
}

/** Dispatched on `document` after a render has been painted (the tests and the benchmark wait for it). */
export const RENDERED_EVENT = 'edd-compare-rendered';
export interface RenderedDetail {
  what: 'comparison' | 'curves';
  seq: number;
  /** `performance.now()` when it was painted. */
  time: number;
}

function viewState(s: LocalState): CompareViewState {
  const out: CompareViewState = { runIds: s.runIds, onlyChanged: s.onlyChanged, valueKind: s.valueKind };
  if (s.baselineRunId !== undefined) out.baselineRunId = s.baselineRunId;
  if (s.curveMetric !== undefined) out.curveMetric = s.curveMetric;
  return out;
}

function sameViewState(a: CompareViewState, b: CompareViewState): boolean {
  return JSON.stringify(viewState(a)) === JSON.stringify(viewState(b));
}

/** After the next paint: a frame, then a task (rAF callbacks run before the frame is painted). */
function afterPaint(fn: () => void): void {
  requestAnimationFrame(() => setTimeout(fn, 0));
}

class Section {
  readonly el: HTMLElement;
  readonly tools: HTMLDivElement;
  readonly body: HTMLDivElement;
  private readonly toggle: HTMLButtonElement;
  private readonly summary: HTMLSpanElement;
  dirty = true;

  constructor(readonly id: SectionId, title: string, open: boolean, onToggle: (open: boolean) => void) {
    const headingId = `h-${id}`;
    this.summary = h('span', { class: 'section-summary' });
    this.toggle = h('button', { class: 'section-toggle', id: headingId, attrs: { 'aria-expanded': String(open), 'aria-controls': `body-${id}` } },
      h('span', { class: 'chevron', attrs: { 'aria-hidden': 'true' } }), title);
    this.toggle.type = 'button';
    this.tools = h('div', { class: 'section-tools' });
    this.body = h('div', { class: 'section-body', id: `body-${id}` });
    this.body.hidden = !open;
    this.tools.hidden = !open;
    this.el = h('section', { class: 'section', id: `sec-${id}`, attrs: { 'aria-labelledby': headingId } },
      h('div', { class: 'section-head' }, h('h2', null, this.toggle), this.summary), this.tools, this.body);
    this.toggle.addEventListener('click', () => {
      const now = !this.open;
      this.toggle.setAttribute('aria-expanded', String(now));
      this.body.hidden = !now;
      this.tools.hidden = !now;
      onToggle(now);
    });
  }

  get open(): boolean {
    return this.toggle.getAttribute('aria-expanded') === 'true';
  }

  setSummary(text: string): void {
    this.summary.textContent = text;
  }

  hide(hidden: boolean): void {
    this.el.hidden = hidden;
  }
}

export class CompareApp {
  private comparison: Comparison | undefined;
  private labels: string[] = [];
  private state: LocalState;
  /** Whether `state` holds choices of the webview (restored or made here) that outrank a message's state. */
  private ownState: boolean;
  /** The metric whose full-range frame is drawn. */
  private curves: { metric: string } | undefined;
  /** The last `requestCurves` sent: an older reply is dropped (a late one for another metric, range or width). */
  private lastRequest: { seq: number; metric: string; ranged: boolean; width: number } | undefined;
  private requestSeq = 0;
  private seq = 0;
  private curveSeq = 0;
  private pendingCurveMark = false;

  private readonly title: HTMLHeadingElement;
  private readonly subtitle: HTMLParagraphElement;
  private readonly errorEl: HTMLDivElement;
  private readonly waiting: HTMLParagraphElement;
  private readonly baseline: ui.Select;
  private readonly exportCsv: HTMLElement;
  private readonly exportMd: HTMLElement;
  private readonly onlyChanged: ui.Checkbox;
  private readonly valueKind: ui.RadioGroup<ValueKind>;
  private readonly curveMetric: ui.Select;
  private readonly sections: Record<SectionId, Section>;
  private readonly grids: Partial<Record<SectionId, Grid>> = {};
  private readonly chart: Chart;
  private readonly curveStatus: HTMLParagraphElement;
  private readonly sweep: SweepView;

  constructor(private readonly root: HTMLElement, private readonly host: CompareHost) {
    const saved = host.getState();
    this.ownState = isCompareViewState(saved);
    this.state = isCompareViewState(saved) ? { ...(saved as LocalState) } : { runIds: [], onlyChanged: false, valueKind: 'final' };
    if (!Array.isArray(this.state.collapsed)) this.state.collapsed = [];

    this.title = h('h1', null, t('Run comparison'));
    this.subtitle = h('p', { class: 'subtitle' });
    this.baseline = ui.select(t('Baseline run'), v => this.setBaseline(v), 'baseline-select');
    this.exportCsv = ui.button(t('Export CSV'), () => this.export('csv'), { secondary: true, id: 'export-csv', disabled: true });
    this.exportMd = ui.button(t('Export Markdown'), () => this.export('markdown'), { secondary: true, id: 'export-markdown', disabled: true });
    const baselineLabel = h('label', { class: 'control-label', attrs: { for: 'baseline-select' } }, t('Baseline'));
    baselineLabel.addEventListener('click', () => this.baseline.el.focus());
    this.errorEl = h('div', { class: 'error', role: 'alert', hidden: true });
    this.waiting = h('p', { class: 'waiting' }, t('Waiting for the comparison…'));

    const collapsed = new Set(this.state.collapsed);
    const section = (id: SectionId, title: string): Section => new Section(id, title, !collapsed.has(id), open => this.onSectionToggle(id, open));
    this.sections = {
      params: section('params', t('Params')),
      metrics: section('metrics', t('Metrics')),
      evaluation: section('evaluation', t('Evaluation on predictions')),
      significance: section('significance', t('Significance')),
      intervals: section('intervals', t('Intervals')),
      cost: section('cost', t('Cost')),
      curves: section('curves', t('Curves')),
      hypotheses: section('hypotheses', t('Hypotheses')),
    };

    this.onlyChanged = ui.checkbox(t('Only what changed'), this.state.onlyChanged, v => {
      this.update({ onlyChanged: v });
      this.renderSection('params');
    }, 'only-changed');
    this.sections.params.tools.append(this.onlyChanged.el);

    this.valueKind = ui.radioGroup<ValueKind>('value-kind', t('Value shown'), [
      { value: 'final', label: t('Final (highest step)') },
      { value: 'best', label: t('Best over all steps') },
      { value: 'last', label: t('Last logged') },
    ], this.state.valueKind, v => {
      this.update({ valueKind: v });
      this.renderSection('metrics');
    });
    this.valueKind.el.id = 'value-kind';
    this.sections.metrics.tools.append(this.valueKind.el);

    this.curveMetric = ui.select(t('Metric of the curves'), v => this.setCurveMetric(v), 'curve-metric');
    const curveLabel = h('label', { class: 'control-label', attrs: { for: 'curve-metric' } }, t('Metric'));
    curveLabel.addEventListener('click', () => this.curveMetric.el.focus());
    this.curveStatus = h('p', { class: 'curve-status', attrs: { 'aria-live': 'polite' } });
    this.sections.curves.tools.append(curveLabel, this.curveMetric.el, this.curveStatus);
    this.chart = new Chart();
    this.chart.onDrawn = () => this.onChartDrawn();
    this.chart.onRequest = (range, width) => {
      if (this.state.curveMetric) this.requestCurves(this.state.curveMetric, range, width);
    };
    this.sections.curves.body.append(this.chart.el);

    const header = h('header', { class: 'toolbar' },
      h('div', { class: 'titles' }, this.title, this.subtitle),
      h('div', { class: 'controls' }, baselineLabel, this.baseline.el, this.exportCsv, this.exportMd));
    this.sweep = new SweepView(root, host, this.state.sweep, s => this.update({ sweep: s }, false));
    const main = h('main', { class: 'sections' }, this.sweep.el, ...Object.values(this.sections).map(s => s.el));
    for (const s of Object.values(this.sections)) s.hide(true);
    setChildren(root, header, this.errorEl, this.waiting, main);
  }

  /** Handles one message from the host (already validated with `isHostMessage`). */
  handle(msg: HostMessage): void {
    switch (msg.type) {
      case 'comparison': return this.onComparison(msg.comparison, msg.state);
      case 'curves': return this.onCurves(msg.seq, msg.frame);
      case 'error': return this.showError(msg.message);
      case 'sweep': return this.sweep.show(msg.sweep);
    }
  }

  private post(m: WebviewMessage): void {
    this.host.post(m);
  }

  /** Changes the state: stored with `setState`, and told to the host unless only the webview cares. */
  private update(patch: Partial<LocalState>, tellHost = true): void {
    this.state = { ...this.state, ...patch };
    this.ownState = true;
    this.host.setState(this.state);
    if (tellHost) this.post({ type: 'stateChanged', state: viewState(this.state) });
  }

  private onComparison(c: Comparison, incoming: CompareViewState): void {
    this.comparison = c;
    this.labels = uniqueLabels(c.runs);
    this.errorEl.hidden = true;
    const src: LocalState = this.ownState ? this.state : { ...incoming, collapsed: this.state.collapsed };
    const next: LocalState = {
      ...src,
      runIds: incoming.runIds.length > 0 ? incoming.runIds : c.runs.map(r => r.runId),
      baselineRunId: c.runs[c.baselineIndex]?.runId ?? incoming.baselineRunId,
      collapsed: this.state.collapsed,
      ...(this.state.sweep ? { sweep: this.state.sweep } : {}),
    };
    if (next.curveMetric === undefined || !c.curveMetrics.includes(next.curveMetric)) next.curveMetric = c.curveMetrics[0];
    if (JSON.stringify(next) !== JSON.stringify(this.state)) {
      this.state = next;
      this.host.setState(next);
    }
    this.ownState = true;
    if (!sameViewState(next, incoming)) this.post({ type: 'stateChanged', state: viewState(next) });

    this.onlyChanged.checked = next.onlyChanged;
    if (this.valueKind.value !== next.valueKind) this.valueKind.value = next.valueKind;
    this.renderHeader();
    this.waiting.hidden = c.runs.length > 0;
    if (c.runs.length === 0) this.waiting.textContent = t('No runs are selected for comparison.');
    for (const s of Object.values(this.sections)) {
      s.dirty = true;
      s.hide(c.runs.length === 0);
    }
    // Only comparisons of runs with predictions artifacts have it.
    if (!c.evaluation || c.evaluation.length === 0) this.sections.evaluation.hide(true);
    for (const id of Object.keys(this.sections) as SectionId[]) if (this.sections[id].open) this.renderSection(id);
    this.markRendered('comparison');
  }

  private renderHeader(): void {
    const c = this.comparison!;
    this.title.textContent = c.runs.length === 1 ? t('Comparing 1 run') : t('Comparing {0} runs', c.runs.length);
    const base = c.runs[c.baselineIndex];
    this.subtitle.textContent = base
      ? t('Baseline: {0} · built {1}', this.labels[c.baselineIndex], dateTime(c.builtAt))
      : t('Built {0}', dateTime(c.builtAt));
    this.baseline.setOptions(c.runs.map((r, i) => ({ value: r.runId, label: this.labels[i], description: r.experimentId })), base?.runId);
    const none = c.runs.length === 0;
    (this.exportCsv as HTMLElement & { disabled: boolean }).disabled = none;
    (this.exportMd as HTMLElement & { disabled: boolean }).disabled = none;
  }

  private context(): TableContext {
    return { comparison: this.comparison!, labels: this.labels, openRun: runId => this.post({ type: 'openRun', runId }) };
  }

  private grid(id: SectionId, className: string): Grid {
    let g = this.grids[id];
    if (!g) {
      g = new Grid(className);
      g.el.id = `grid-${id}`;
      this.grids[id] = g;
      this.sections[id].body.append(g.el);
    }
    return g;
  }

  private empty(id: SectionId, text: string | null): void {
    const s = this.sections[id];
    let p = s.body.querySelector<HTMLParagraphElement>(':scope > p.empty');
    if (text === null) {
      p?.remove();
      this.grids[id]?.el.removeAttribute('hidden');
      return;
    }
    if (!p) {
      p = h('p', { class: 'empty' });
      s.body.prepend(p);
    }
    p.textContent = text;
    if (this.grids[id]) this.grids[id]!.el.hidden = true;
  }

  private renderSection(id: SectionId): void {
    const c = this.comparison;
    const s = this.sections[id];
    if (!c) return;
    if (!s.open) {
      s.dirty = true;
      return;
    }
    s.dirty = false;
    const ctx = this.context();
    switch (id) {
      case 'params': {
        const changed = c.params.filter(p => p.differs).length;
        s.setSummary(t('{0} params, {1} differ', c.params.length, changed));
        const spec = paramsSpec(ctx, this.state.onlyChanged);
        this.grid(id, 'runs-grid').update(spec);
        this.empty(id, spec.rowCount > 0 ? null : c.params.length === 0 ? t('The runs have no params.') : t('All {0} params are equal across the runs.', c.params.length));
        return;
      }
      case 'metrics': {
        s.setSummary(t('{0} metrics', c.metrics.length));
        this.grid(id, 'runs-grid').update(metricsSpec(ctx, this.state.valueKind));
        this.empty(id, c.metrics.length > 0 ? null : t('The runs logged no metrics.'));
        return;
      }
      case 'evaluation': {
        const rows = c.evaluation ?? [];
        s.setSummary(t('{0} runs with predictions', rows.length));
        this.grid(id, 'list-grid').update(evaluationSpec(ctx));
        return;
      }
      case 'significance': {
        s.setSummary(t('{0} tests', c.significance.length));
        this.grid(id, 'list-grid').update(significanceSpec(ctx, (experimentId, status, decidedBy) => this.post({ type: 'setHypothesis', experimentId, status, decidedBy })));
        this.empty(id, c.significance.length > 0 ? null : t('No significance test applies to these runs (Welch needs several seeds per experiment; McNemar and the bootstrap need predictions).'));
        return;
      }
      case 'intervals': {
        s.setSummary(t('{0} intervals', c.intervals.length));
        this.grid(id, 'list-grid').update(intervalsSpec(ctx));
        this.empty(id, c.intervals.length > 0 ? null : t('No run has predictions to compute an interval from.'));
        return;
      }
      case 'cost': {
        s.setSummary('');
        this.grid(id, 'list-grid').update(costSpec(ctx));
        this.empty(id, c.costs.length > 0 ? null : t('No cost was recorded for these runs.'));
        return;
      }
      case 'hypotheses': {
        const open = c.hypotheses.filter(x => x.status === 'open').length;
        s.setSummary(t('{0} experiments, {1} open', c.hypotheses.length, open));
        this.grid(id, 'list-grid').update(hypothesesSpec(ctx, experimentId => this.post({ type: 'setHypothesis', experimentId, status: 'open', decidedBy: '' })));
        this.empty(id, c.hypotheses.length > 0 ? null : t('No hypothesis is recorded for these experiments.'));
        return;
      }
      case 'curves': {
        const metrics = c.curveMetrics;
        s.setSummary(t('{0} metrics with curves', metrics.length));
        this.curveMetric.setOptions(metrics.map(m => ({ value: m, label: m })), this.state.curveMetric);
        this.curveMetric.el.hidden = metrics.length === 0;
        if (metrics.length === 0 || !this.state.curveMetric) {
          this.chart.clear();
          this.curves = undefined;
          this.curveStatus.textContent = t('No metric was logged at more than one step.');
          return;
        }
        // Curves are fetched per metric; a new comparison (live update) fetches the shown metric again.
        this.requestCurves(this.state.curveMetric);
        return;
      }
    }
  }

  private onSectionToggle(id: SectionId, open: boolean): void {
    const collapsed = new Set(this.state.collapsed ?? []);
    if (open) collapsed.delete(id);
    else collapsed.add(id);
    this.update({ collapsed: [...collapsed] }, false);
    if (open && this.sections[id].dirty) this.renderSection(id);
  }

  private setBaseline(runId: string): void {
    const c = this.comparison;
    if (!c || !runId || c.runs[c.baselineIndex]?.runId === runId || !c.runs.some(r => r.runId === runId)) return;
    this.post({ type: 'setBaseline', runId });
    this.update({ baselineRunId: runId });
  }

  private setCurveMetric(metric: string): void {
    if (!metric || metric === this.state.curveMetric) return;
    this.update({ curveMetric: metric });
    this.requestCurves(metric);
  }

  /** Asks for the curves of `metric` over `range` (default: all of it) at the plot's width. */
  private requestCurves(metric: string, range: [number, number] | null = null, width = this.chart.plotWidth()): void {
    if (!range && (!this.curves || this.curves.metric !== metric)) this.curveStatus.textContent = t('Loading the curves of {0}…', metric);
    const seq = ++this.requestSeq;
    this.lastRequest = { seq, metric, ranged: range !== null, width };
    this.post({ type: 'requestCurves', metric, seq, width, pixelRatio: window.devicePixelRatio || 1, ...(range ? { range } : {}) });
  }

  private onCurves(seq: number, frame: CurveFrame): void {
    const c = this.comparison;
    const asked = this.lastRequest;
    // A late reply: for a metric no longer shown, or overtaken by a newer request (another zoom, a resize).
    if (!c || !asked || seq !== asked.seq || frame.metric !== asked.metric || frame.metric !== this.state.curveMetric) return;
    if (asked.ranged) {
      this.chart.detail(frame, asked.width);
      return;
    }
    this.curves = { metric: frame.metric };
    const index = new Map(frame.runIds.map((id, i) => [id, i]));
    const logged = (i: number | undefined): boolean => i !== undefined && frame.points[i] > 0;
    const series: ChartSeries[] = c.runs.map((r, i) => {
      const k = index.get(r.runId);
      index.delete(r.runId);
      return { label: this.labels[i], runId: r.runId, isBaseline: i === c.baselineIndex, index: logged(k) ? k! : -1 };
    });
    for (const [runId, k] of index) series.push({ label: runId, runId, isBaseline: false, index: logged(k) ? k : -1 });
    const points = frame.points.reduce((n, x) => n + x, 0);
    const withPoints = series.filter(x => x.index >= 0).length;
    this.curveStatus.textContent = t('{0}: {1} runs, {2} points', frame.metric, withPoints, points.toLocaleString());
    this.curveSeq++;
    this.pendingCurveMark = true;
    this.chart.show(frame.metric, series, frame, asked.width);
  }

  private onChartDrawn(): void {
    if (!this.pendingCurveMark) return;
    this.pendingCurveMark = false;
    const seq = this.curveSeq;
    afterPaint(() => this.dispatchRendered('curves', seq, 'eddCurves'));
  }

  private showError(message: string): void {
    this.errorEl.textContent = message;
    this.errorEl.hidden = false;
  }

  private export(format: 'csv' | 'markdown'): void {
    const c = this.comparison;
    if (!c) return;
    const o = { onlyChanged: this.state.onlyChanged, valueKind: this.state.valueKind };
    this.post({ type: 'export', format, content: format === 'csv' ? toCsv(c, o) : toMarkdown(c, o) });
  }

  private markRendered(what: 'comparison'): void {
    const seq = ++this.seq;
    afterPaint(() => this.dispatchRendered(what, seq, 'eddRendered'));
  }

  private dispatchRendered(what: RenderedDetail['what'], seq: number, attr: 'eddRendered' | 'eddCurves'): void {
    const time = performance.now();
    this.root.dataset[attr] = String(seq);
    document.dispatchEvent(new CustomEvent<RenderedDetail>(RENDERED_EVENT, { detail: { what, seq, time } }));
  }
}
