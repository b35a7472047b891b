/**
 * The sweep views of the comparison panel (shown when the host sends a `sweep`): the best trial, a
 * parallel-coordinates chart (one axis per varying parameter, then the metric; brushing an axis filters the run
 * table below it), a parameter-vs-metric scatter, the groups with Holm-adjusted Welch tests, and the parameter
 * importance with how it was computed.
 *
 * Lines and points are drawn on canvases (1,000 runs are 1,000 polylines: cheap to redraw on every brush move);
 * every axis is also a focusable slider-like element, so the brushes work from the keyboard (arrows move a brush,
 * Shift+arrows resize it, Enter makes one, Escape or Delete clears it) and say their range to a screen reader. The
 * run table is the accessible form of the chart. All user strings (parameter names and values) are text.
 */
import type { SweepComparison, SweepRun } from '../../src/protocol/compare';
import type { CompareHost } from './app';
import { h, setChildren } from './dom';
import { num as formatNumber, pValue as formatP } from './format';
import { Grid, type GridSpec } from './grid';
import { t } from './l10n';
import * as ui from './ui';

/** Dispatched on `document` after the sweep views or a brush's effect have been painted (tests and the benchmark wait for it). */
export const SWEEP_RENDERED_EVENT = 'edd-sweep-rendered';
export interface SweepRenderedDetail {
  what: 'sweep' | 'brush';
  seq: number;
  time: number;
}

const PLOT_HEIGHT = 240;
const PAD_TOP = 28;
const PAD_BOTTOM = 22;
/** Keyboard brush steps, as a share of the axis. */
const STEP = 0.05;

interface Axis {
  key: string;
  label: string;
  kind: 'number' | 'log' | 'category';
  /** Position of each used run on the axis, 0 (bottom) … 1 (top); NaN when the run has no value. */
  pos: Float64Array;
  ticks: Array<{ at: number; label: string }>;
  /** The brushed range in axis units (0…1), or null. */
  brush: [number, number] | null;
  el?: HTMLDivElement;
  brushEl?: HTMLDivElement;
}

type Value = string | number | boolean | null;

/**
 * What the sweep views keep across a reload of the webview (inside the panel's `setState`): the brushes, the scatter's
 * parameter and the grouping the user chose, for the sweep they were chosen on.
 */
export interface SweepViewState {
  sweepId: string;
  /** Brushed ranges in axis units (0…1) by axis key. */
  brushes: Record<string, [number, number]>;
  scatterParam?: string;
  groupBy?: string;
}

/** A restored state checked field by field: `getState` returns whatever an older version of the panel stored. */
function readSweepState(v: unknown): SweepViewState | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const s = v as Record<string, unknown>;
  if (typeof s.sweepId !== 'string') return undefined;
  const brushes: Record<string, [number, number]> = {};
  if (typeof s.brushes === 'object' && s.brushes !== null) {
    for (const [k, b] of Object.entries(s.brushes)) {
      if (Array.isArray(b) && b.length === 2 && b.every(x => typeof x === 'number' && x >= 0 && x <= 1) && b[0] <= b[1]) brushes[k] = [b[0], b[1]];
    }
  }
  return {
    sweepId: s.sweepId, brushes,
    ...(typeof s.scatterParam === 'string' ? { scatterParam: s.scatterParam } : {}),
    ...(typeof s.groupBy === 'string' ? { groupBy: s.groupBy } : {}),
  };
}

function themeColor(name: string, fallback: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback;
}

function afterPaint(fn: () => void): void {
  requestAnimationFrame(() => setTimeout(fn, 0));
}

/** Undefined numbers (NaN, or null once postMessage's JSON has carried a NaN) are shown as a dash. */
const dash = (s: string): string => (s === '' || s === 'NaN' ? '—' : s);
const num = (v: number | null | undefined): string => dash(formatNumber(v));
const pValue = (v: number | null | undefined): string => dash(formatP(v));

const text = (v: Value): string => (v === null ? '—' : typeof v === 'number' ? num(v) : String(v));

/** An axis over `values`: linear, logarithmic (positive numbers spanning ≥ 2 decades) or categorical. */
function makeAxis(key: string, label: string, values: Value[]): Axis {
  const pos = new Float64Array(values.length);
  const numbers = values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  const numeric = numbers.length > 0 && values.every(v => v === null || typeof v === 'number');
  if (numeric) {
    const lo = Math.min(...numbers);
    const hi = Math.max(...numbers);
    const log = lo > 0 && hi / lo >= 100;
    const f = log ? Math.log10 : (x: number) => x;
    const a = f(lo);
    const b = f(hi);
    values.forEach((v, i) => { pos[i] = typeof v === 'number' ? (b > a ? (f(v) - a) / (b - a) : 0.5) : NaN; });
    const distinct = [...new Set(numbers)].sort((x, y) => x - y);
    const ticks = distinct.length <= 6 ? distinct : [lo, hi];
    return { key, label, kind: log ? 'log' : 'number', pos, brush: null, ticks: ticks.map(v => ({ at: b > a ? (f(v) - a) / (b - a) : 0.5, label: num(v) })) };
  }
  const cats = [...new Set(values.map(v => (v === null ? null : String(v))))].filter((v): v is string => v !== null).sort((x, y) => x.localeCompare(y));
  const index = new Map(cats.map((c, i) => [c, i]));
  const at = (i: number) => (cats.length === 1 ? 0.5 : i / (cats.length - 1));
  values.forEach((v, i) => { pos[i] = v === null ? NaN : at(index.get(String(v))!); });
  return { key, label, kind: 'category', pos, brush: null, ticks: cats.map((c, i) => ({ at: at(i), label: c })) };
}

export class SweepView {
  readonly el: HTMLElement;
  private sweep: SweepComparison | undefined;
  private used: SweepRun[] = [];
  private axes: Axis[] = [];
  private visible: number[] = [];
  private bestRuns = new Set<string>();
  private seq = 0;
  private brushSeq = 0;
  private scatterParam: string | undefined;
  /** Restored from the panel's state, applied when its sweep arrives (then dropped). */
  private restored: SweepViewState | undefined;
  private groupBy: string | undefined;

  private readonly title: HTMLHeadingElement;
  private readonly summary: HTMLParagraphElement;
  private readonly best: HTMLParagraphElement;
  private readonly pcWrap: HTMLDivElement;
  private readonly pcCanvas: HTMLCanvasElement;
  private readonly pcAxes: HTMLDivElement;
  private readonly pcStatus: HTMLParagraphElement;
  private readonly clearBrushes: HTMLButtonElement;
  private readonly runGrid: Grid;
  private readonly scatterSelect: ui.Select;
  private readonly scatterCanvas: HTMLCanvasElement;
  private readonly scatterStatus: HTMLParagraphElement;
  private readonly groupSelect: ui.Select;
  private readonly groupNote: HTMLParagraphElement;
  private readonly groupGrid: Grid;
  private readonly method: HTMLParagraphElement;
  private readonly importanceGrid: Grid;

  constructor(
    private readonly root: HTMLElement,
    private readonly host: CompareHost,
    saved?: unknown,
    private readonly onState: (state: SweepViewState) => void = () => {},
  ) {
    this.restored = readSweepState(saved);
    this.title = h('h2', { id: 'h-sweep' }, t('Sweep'));
    this.summary = h('p', { class: 'sweep-summary' });
    this.best = h('p', { class: 'sweep-best', id: 'sweep-best' });
    this.pcCanvas = h('canvas', { class: 'pc-canvas', attrs: { 'aria-hidden': 'true' } });
    this.pcAxes = h('div', { class: 'pc-axes', role: 'group', attrs: { 'aria-label': t('Parallel coordinates: one axis per parameter, then the metric. Brush an axis to filter the runs.') } });
    this.pcWrap = h('div', { class: 'pc-wrap', id: 'sweep-parallel' }, this.pcCanvas, this.pcAxes);
    this.pcStatus = h('p', { class: 'pc-status', id: 'sweep-brush-status', attrs: { 'aria-live': 'polite' } });
    this.clearBrushes = h('button', { class: 'link-button', id: 'sweep-clear-brushes' }, t('Clear the brushes'));
    this.clearBrushes.type = 'button';
    this.clearBrushes.addEventListener('click', () => {
      for (const a of this.axes) a.brush = null;
      this.onBrush();
    });
    this.runGrid = new Grid('list-grid');
    this.runGrid.el.id = 'grid-sweep-runs';
    this.scatterSelect = ui.select(t('Parameter on the x axis'), v => { this.scatterParam = v; this.drawScatter(); this.save(); }, 'sweep-scatter-param');
    this.scatterCanvas = h('canvas', { class: 'scatter-canvas', id: 'sweep-scatter', attrs: { role: 'img' } });
    this.scatterStatus = h('p', { class: 'scatter-status' });
    this.groupSelect = ui.select(t('Group the runs by'), v => {
      if (v && v !== this.sweep?.groupBy) {
        this.groupBy = v;
        this.save();
        this.host.post({ type: 'setSweepGroupBy', groupBy: v });
      }
    }, 'sweep-group-by');
    this.groupNote = h('p', { class: 'sweep-note' });
    this.groupGrid = new Grid('list-grid');
    this.groupGrid.el.id = 'grid-sweep-groups';
    this.method = h('p', { class: 'sweep-note', id: 'sweep-importance-method' });
    this.importanceGrid = new Grid('list-grid');
    this.importanceGrid.el.id = 'grid-sweep-importance';

    const label = (forId: string, s: string): HTMLLabelElement => h('label', { class: 'control-label', attrs: { for: forId } }, s);
    this.el = h('section', { class: 'section sweep', id: 'sec-sweep', hidden: true, attrs: { 'aria-labelledby': 'h-sweep' } },
      h('div', { class: 'section-head' }, this.title), this.summary, this.best,
      h('h3', null, t('Parallel coordinates')), this.pcWrap, h('div', { class: 'section-tools' }, this.pcStatus, this.clearBrushes), this.runGrid.el,
      h('h3', null, t('Parameter vs metric')), h('div', { class: 'section-tools' }, label('sweep-scatter-param', t('Parameter')), this.scatterSelect.el), this.scatterCanvas, this.scatterStatus,
      h('h3', null, t('Groups')), h('div', { class: 'section-tools' }, label('sweep-group-by', t('Group by')), this.groupSelect.el), this.groupNote, this.groupGrid.el,
      h('h3', null, t('Parameter importance')), this.method, this.importanceGrid.el);

    if (typeof MutationObserver !== 'undefined') {
      // VS Code changes the theme by rewriting the variables on <html> and the class of <body>.
      const redraw = new MutationObserver(() => this.draw());
      redraw.observe(document.documentElement, { attributes: true, attributeFilter: ['style', 'class'] });
      redraw.observe(document.body, { attributes: true, attributeFilter: ['class'] });
    }
    window.addEventListener('resize', () => this.draw());
  }

  /** Renders a sweep (brushes on axes that still exist are kept, so a live update does not lose the filter). */
  show(sweep: SweepComparison): void {
    const kept = new Map(this.axes.filter(a => a.brush).map(a => [a.key, a.brush!]));
    // After a reload, the first sweep of the same id gets back what the user had chosen on it.
    const restored = this.restored?.sweepId === sweep.sweepId ? this.restored : undefined;
    this.restored = undefined;
    if (restored) {
      for (const [k, b] of Object.entries(restored.brushes)) kept.set(k, b);
      this.scatterParam = restored.scatterParam;
      this.groupBy = restored.groupBy;
      // The host groups; it is asked again for the chosen grouping (once: a grouping it cannot make is not retried).
      if (restored.groupBy !== undefined && restored.groupBy !== sweep.groupBy && this.groupChoices(sweep).includes(restored.groupBy)) {
        this.host.post({ type: 'setSweepGroupBy', groupBy: restored.groupBy });
      }
    } else if (sweep.sweepId !== this.sweep?.sweepId) {
      this.groupBy = undefined;
    }
    this.sweep = sweep;
    this.el.hidden = false;
    this.used = sweep.runs.filter(r => r.value !== null);
    const best = sweep.best;
    this.bestRuns = new Set(best ? this.used.filter(r => (best.trialIndex === null ? r.runId === best.runId : r.trialIndex === best.trialIndex)).map(r => r.runId) : []);
    this.axes = [
      ...sweep.parameters.map(p => makeAxis(p, p, this.used.map(r => r.params[p]))),
      makeAxis('\u0000metric', sweep.metric, this.used.map(r => r.value)),
    ];
    for (const a of this.axes) a.brush = kept.get(a.key) ?? null;

    this.title.textContent = t('Sweep {0}', sweep.sweepId);
    this.summary.textContent = sweep.goal === 'max'
      ? t('{0} runs, {1} with {2} (higher is better).', sweep.runs.length, sweep.used, sweep.metric)
      : t('{0} runs, {1} with {2} (lower is better).', sweep.runs.length, sweep.used, sweep.metric);
    this.best.textContent = best
      ? t('Best trial: {0} — {1} = {2} ± {3} (n = {4}): {5}', best.trialIndex === null ? '—' : best.trialIndex, sweep.metric, num(best.mean), num(best.sd), best.n,
        Object.entries(best.params).map(([k, v]) => `${k} = ${text(v)}`).join(', ') || '—')
      : t('No finished run has a value of {0} yet.', sweep.metric);

    this.buildAxes();
    const params = sweep.parameters;
    if (!this.scatterParam || !params.includes(this.scatterParam)) this.scatterParam = sweep.importance.find(i => i.parameter !== 'seed')?.parameter ?? params[0];
    this.scatterSelect.setOptions(params.map(p => ({ value: p, label: p })), this.scatterParam);
    this.renderGroups();
    this.renderImportance();
    this.filter();
    this.draw();
    this.renderRuns();
    const seq = ++this.seq;
    afterPaint(() => this.mark('sweep', seq, 'eddSweep'));
  }

  private buildAxes(): void {
    const els = this.axes.map((a, k) => {
      const brushEl = h('div', { class: 'pc-brush', hidden: true });
      const el = h('div', {
        class: 'pc-axis', tabIndex: 0, role: 'slider',
        attrs: { 'data-axis': k, 'aria-label': t('Brush on {0}', a.label), 'aria-valuemin': 0, 'aria-valuemax': 100 },
      }, h('span', { class: 'pc-axis-label', title: a.label }, a.label), brushEl);
      a.el = el;
      a.brushEl = brushEl;
      el.addEventListener('keydown', e => this.onAxisKey(a, e));
      el.addEventListener('pointerdown', e => this.onAxisPointer(a, e));
      return el;
    });
    setChildren(this.pcAxes, ...els);
  }

  private plotBox(): { width: number; top: number; height: number } {
    const width = Math.max(200, this.pcWrap.clientWidth || 800);
    return { width, top: PAD_TOP, height: PLOT_HEIGHT - PAD_TOP - PAD_BOTTOM };
  }

  private axisX(k: number, width: number): number {
    const n = this.axes.length;
    const margin = 90;
    return n === 1 ? width / 2 : margin + (k * (width - 2 * margin)) / (n - 1);
  }

  /** Keyboard brushing: Enter makes a brush over the middle half; arrows move it; Shift+arrows resize it. */
  private onAxisKey(a: Axis, e: KeyboardEvent): void {
    let b = a.brush;
    switch (e.key) {
      case 'Enter':
      case ' ':
        b = b ?? [0.25, 0.75];
        break;
      case 'ArrowUp':
      case 'ArrowDown': {
        const d = e.key === 'ArrowUp' ? STEP : -STEP;
        b = b ?? [0.25, 0.75];
        if (e.shiftKey) b = [Math.max(0, b[0] - d / 2), Math.min(1, b[1] + d / 2)];
        else {
          const shift = Math.max(-b[0], Math.min(1 - b[1], d));
          b = [b[0] + shift, b[1] + shift];
        }
        if (b[1] - b[0] < STEP / 2) b = [b[0], b[0] + STEP / 2];
        break;
      }
      case 'Escape':
      case 'Delete':
      case 'Backspace':
        if (!b) return;
        b = null;
        break;
      default:
        return;
    }
    e.preventDefault();
    a.brush = b;
    this.onBrush();
  }

  /** Pointer brushing: drag along an axis; a click without a drag clears its brush. */
  private onAxisPointer(a: Axis, e: PointerEvent): void {
    const el = a.el!;
    const box = this.plotBox();
    const rect = this.pcWrap.getBoundingClientRect();
    const toAxis = (clientY: number): number => Math.max(0, Math.min(1, 1 - (clientY - rect.top - box.top) / box.height));
    const start = toAxis(e.clientY);
    let moved = false;
    el.setPointerCapture?.(e.pointerId);
    el.focus();
    const move = (ev: PointerEvent): void => {
      const now = toAxis(ev.clientY);
      if (!moved && Math.abs(now - start) < 0.01) return;
      moved = true;
      a.brush = [Math.min(start, now), Math.max(start, now)];
      this.onBrush();
    };
    const up = (): void => {
      el.removeEventListener('pointermove', move);
      el.removeEventListener('pointerup', up);
      el.removeEventListener('pointercancel', up);
      if (!moved && a.brush) {
        a.brush = null;
        this.onBrush();
      }
    };
    el.addEventListener('pointermove', move);
    el.addEventListener('pointerup', up);
    el.addEventListener('pointercancel', up);
    e.preventDefault();
  }

  /** Stores the user's choices with the panel's state (they survive a reload of the webview). */
  private save(): void {
    if (!this.sweep) return;
    const brushes: Record<string, [number, number]> = {};
    for (const a of this.axes) if (a.brush) brushes[a.key] = a.brush;
    this.onState({
      sweepId: this.sweep.sweepId, brushes,
      ...(this.scatterParam !== undefined ? { scatterParam: this.scatterParam } : {}),
      ...(this.groupBy !== undefined ? { groupBy: this.groupBy } : {}),
    });
  }

  private groupChoices(s: SweepComparison): string[] {
    return [...s.parameters, 'trial_index'];
  }

  private onBrush(): void {
    this.save();
    this.filter();
    this.draw();
    this.renderRuns();
    const seq = ++this.brushSeq;
    afterPaint(() => this.mark('brush', seq, 'eddBrush'));
  }

  /** The runs inside every brushed range (a run without a value on a brushed axis is out). */
  private filter(): void {
    const brushed = this.axes.filter(a => a.brush);
    this.visible = [];
    for (let i = 0; i < this.used.length; i++) {
      let inside = true;
      for (const a of brushed) {
        const p = a.pos[i];
        if (!(p >= a.brush![0] - 1e-9 && p <= a.brush![1] + 1e-9)) { inside = false; break; }
      }
      if (inside) this.visible.push(i);
    }
    const total = this.used.length;
    this.pcStatus.textContent = brushed.length === 0 ? t('{0} runs; drag along an axis (or focus it and press Enter, then the arrows) to filter them.', total) : t('{0} of {1} runs in the brushed ranges.', this.visible.length, total);
    this.clearBrushes.hidden = brushed.length === 0;
    this.root.dataset.eddBrushed = String(this.visible.length);
  }

  private draw(): void {
    if (!this.sweep || this.el.hidden) return;
    this.drawParallel();
    this.drawScatter();
  }

  private sizeCanvas(c: HTMLCanvasElement, width: number, height: number): CanvasRenderingContext2D {
    const ratio = window.devicePixelRatio || 1;
    if (c.width !== Math.round(width * ratio) || c.height !== Math.round(height * ratio)) {
      c.width = Math.round(width * ratio);
      c.height = Math.round(height * ratio);
      c.style.width = `${width}px`;
      c.style.height = `${height}px`;
    }
    const ctx = c.getContext('2d')!;
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, width, height);
    return ctx;
  }

  private drawParallel(): void {
    const box = this.plotBox();
    const ctx = this.sizeCanvas(this.pcCanvas, box.width, PLOT_HEIGHT);
    const fg = themeColor('--vscode-foreground', '#cccccc');
    const muted = themeColor('--vscode-descriptionForeground', '#9d9d9d');
    const active = themeColor('--vscode-charts-blue', '#3794ff');
    const bestColor = themeColor('--vscode-charts-green', '#89d185');
    const xs = this.axes.map((_, k) => this.axisX(k, box.width));
    const y = (p: number) => box.top + (1 - p) * box.height;
    const inside = new Uint8Array(this.used.length);
    for (const i of this.visible) inside[i] = 1;
    const brushed = this.axes.some(a => a.brush);
    const path = (i: number): void => {
      let started = false;
      for (let k = 0; k < this.axes.length; k++) {
        const p = this.axes[k].pos[i];
        if (Number.isNaN(p)) { started = false; continue; }
        if (started) ctx.lineTo(xs[k], y(p));
        else ctx.moveTo(xs[k], y(p));
        started = true;
      }
    };
    // Filtered-out runs first, faint; then the runs in the brushes; the best trial's runs on top.
    ctx.lineWidth = 1;
    if (brushed) {
      ctx.globalAlpha = 0.15;
      ctx.strokeStyle = muted;
      ctx.beginPath();
      for (let i = 0; i < this.used.length; i++) if (!inside[i]) path(i);
      ctx.stroke();
    }
    ctx.globalAlpha = this.used.length > 200 ? 0.35 : 0.7;
    ctx.strokeStyle = active;
    ctx.beginPath();
    for (const i of this.visible) if (!this.bestRuns.has(this.used[i].runId)) path(i);
    ctx.stroke();
    ctx.globalAlpha = 1;
    ctx.lineWidth = 2;
    ctx.strokeStyle = bestColor;
    ctx.beginPath();
    for (const i of this.visible) if (this.bestRuns.has(this.used[i].runId)) path(i);
    ctx.stroke();
    // Axes and their ticks.
    ctx.lineWidth = 1;
    ctx.strokeStyle = muted;
    ctx.fillStyle = fg;
    ctx.font = `11px ${themeColor('--vscode-font-family', 'sans-serif')}`;
    ctx.textBaseline = 'middle';
    this.axes.forEach((a, k) => {
      ctx.beginPath();
      ctx.moveTo(xs[k], y(0));
      ctx.lineTo(xs[k], y(1));
      ctx.stroke();
      const step = Math.max(1, Math.ceil(a.ticks.length / 8));
      a.ticks.forEach((tk, j) => {
        if (j % step !== 0 && j !== a.ticks.length - 1) return;
        const label = tk.label.length > 14 ? `${tk.label.slice(0, 13)}…` : tk.label;
        ctx.fillText(label, xs[k] + 4, y(tk.at));
      });
      // The focusable axis element over the axis line, and its brush.
      const el = a.el!;
      el.style.left = `${xs[k] - 14}px`;
      el.style.top = '0px';
      el.style.height = `${PLOT_HEIGHT}px`;
      const b = a.brush;
      a.brushEl!.hidden = !b;
      if (b) {
        a.brushEl!.style.top = `${y(b[1])}px`;
        a.brushEl!.style.height = `${Math.max(2, (b[1] - b[0]) * box.height)}px`;
      }
      el.setAttribute('aria-valuenow', b ? String(Math.round(50 * (b[0] + b[1]))) : '50');
      el.setAttribute('aria-valuetext', b ? this.rangeText(a, b) : t('no brush'));
      el.classList.toggle('brushed', !!b);
    });
  }

  /** The brushed range in the axis' own values (for the screen reader and the tests). */
  private rangeText(a: Axis, b: [number, number]): string {
    if (a.kind === 'category') {
      const inside = a.ticks.filter(tk => tk.at >= b[0] - 1e-9 && tk.at <= b[1] + 1e-9).map(tk => tk.label);
      return inside.length ? inside.join(', ') : t('no value');
    }
    const values = this.used.map((r, i) => ({ p: a.pos[i], v: a.key === '\u0000metric' ? r.value : r.params[a.key] })).filter(x => !Number.isNaN(x.p));
    const lo = values.filter(x => x.p >= b[0] - 1e-9 && x.p <= b[1] + 1e-9).map(x => x.v as number);
    return lo.length ? t('{0} to {1}', num(Math.min(...lo)), num(Math.max(...lo))) : t('no value');
  }

  private drawScatter(): void {
    const s = this.sweep;
    const p = this.scatterParam;
    if (!s || !p || this.el.hidden) return;
    const width = Math.max(200, this.pcWrap.clientWidth || 800);
    const height = 220;
    const ctx = this.sizeCanvas(this.scatterCanvas, width, height);
    const axis = makeAxis(p, p, this.used.map(r => r.params[p]));
    const metric = this.axes[this.axes.length - 1];
    const left = 60;
    const right = 20;
    const top = 12;
    const bottom = 28;
    // Inset so the points at the ends of the range are not drawn over the axes.
    const x = (q: number) => left + (0.04 + 0.92 * q) * (width - left - right);
    const y = (q: number) => top + (0.96 - 0.92 * q) * (height - top - bottom);
    const inside = new Uint8Array(this.used.length);
    for (const i of this.visible) inside[i] = 1;
    const muted = themeColor('--vscode-descriptionForeground', '#9d9d9d');
    const fg = themeColor('--vscode-foreground', '#cccccc');
    ctx.strokeStyle = muted;
    ctx.beginPath();
    ctx.moveTo(left, top);
    ctx.lineTo(left, height - bottom);
    ctx.lineTo(width - right, height - bottom);
    ctx.stroke();
    // Categorical values are spread a little (deterministically) so the seeds of one value do not hide each other.
    const jitter = (i: number) => (axis.kind === 'category' ? ((((i * 2654435761) >>> 0) % 1000) / 1000 - 0.5) * 0.04 : 0);
    for (const pass of [0, 1, 2]) {
      ctx.fillStyle = pass === 0 ? muted : pass === 1 ? themeColor('--vscode-charts-blue', '#3794ff') : themeColor('--vscode-charts-green', '#89d185');
      ctx.globalAlpha = pass === 0 ? 0.25 : 0.8;
      ctx.beginPath();
      for (let i = 0; i < this.used.length; i++) {
        const best = this.bestRuns.has(this.used[i].runId);
        const kind = !inside[i] ? 0 : best ? 2 : 1;
        if (kind !== pass || Number.isNaN(axis.pos[i])) continue;
        const px = x(axis.pos[i] + jitter(i));
        const py = y(metric.pos[i]);
        ctx.moveTo(px + 3, py);
        ctx.arc(px, py, 3, 0, 2 * Math.PI);
      }
      ctx.fill();
    }
    ctx.globalAlpha = 1;
    ctx.fillStyle = fg;
    ctx.font = `11px ${themeColor('--vscode-font-family', 'sans-serif')}`;
    ctx.textBaseline = 'top';
    const step = Math.max(1, Math.ceil(axis.ticks.length / 8));
    axis.ticks.forEach((tk, j) => { if (j % step === 0 || j === axis.ticks.length - 1) ctx.fillText(tk.label.length > 14 ? `${tk.label.slice(0, 13)}…` : tk.label, x(tk.at) - 10, height - bottom + 6); });
    ctx.textBaseline = 'middle';
    for (const tk of metric.ticks) ctx.fillText(tk.label, 4, y(tk.at));
    const label = t('{0} against {1}: {2} runs, {3} in the brushed ranges', s.metric, p, this.used.length, this.visible.length);
    this.scatterCanvas.setAttribute('aria-label', label);
    this.scatterStatus.textContent = label;
  }

  private renderRuns(): void {
    const s = this.sweep!;
    const params = s.parameters;
    const rows = this.visible;
    const spec: GridSpec = {
      label: t('Runs in the brushed ranges'),
      columns: [
        { width: 170, header: th => { th.textContent = t('Run'); } },
        { width: 60, header: th => { th.textContent = t('Trial'); }, className: 'num' },
        ...params.map(p => ({ width: 130, header: (th: HTMLTableCellElement) => { th.textContent = p; } })),
        { width: 110, header: th => { th.textContent = s.metric; }, className: 'num' },
      ],
      rowCount: rows.length,
      cell: (row, col, cell) => {
        const r = this.used[rows[row]];
        if (col === 0) cell.textContent = this.bestRuns.has(r.runId) ? t('{0} ★ best trial', r.runId.slice(0, 8)) : r.runId.slice(0, 8);
        else if (col === 1) cell.textContent = r.trialIndex === null ? '—' : String(r.trialIndex);
        else if (col <= params.length + 1) cell.textContent = text(r.params[params[col - 2]]);
        else cell.textContent = num(r.value);
      },
    };
    this.runGrid.update(spec);
  }

  private renderGroups(): void {
    const s = this.sweep!;
    const choices = this.groupChoices(s);
    this.groupSelect.setOptions(choices.map(c => ({ value: c, label: c })), s.groupBy ?? undefined);
    const bestGroup = s.groups.reduce<number>((b, g, i) => (b < 0 || (s.goal === 'max' ? g.mean > s.groups[b].mean : g.mean < s.groups[b].mean) ? i : b), -1);
    const vsBest = (i: number) => s.pairs.find(p => (p.a === i && p.b === bestGroup) || (p.b === i && p.a === bestGroup));
    this.groupNote.textContent = s.groupBy === null ? t('No parameter varies: nothing to group by.')
      : s.pairsOmitted ? t('More than {0} groups: the pairwise tests are left out.', 50)
        : t('Welch\'s t between every pair of the {0} groups, p-values adjusted with Holm\'s method over the {1} pairs (α = {2}); shown against the best group.', s.groups.length, s.pairs.length, s.alpha);
    this.groupGrid.update({
      label: t('Groups of runs by {0}', s.groupBy ?? '—'),
      columns: [
        { width: 160, header: th => { th.textContent = s.groupBy ?? ''; } },
        { width: 50, header: th => { th.textContent = 'n'; }, className: 'num' },
        { width: 160, header: th => { th.textContent = t('mean ± sd'); }, className: 'num' },
        { width: 130, header: th => { th.textContent = t('vs best group'); }, className: 'num' },
        { width: 110, header: th => { th.textContent = t('p (Holm)'); }, className: 'num' },
        { width: 170, header: th => { th.textContent = t('verdict'); } },
      ],
      rowCount: s.groups.length,
      cell: (row, col, cell) => {
        const g = s.groups[row];
        const pair = vsBest(row);
        const diff = pair ? (pair.a === row ? pair.difference : -pair.difference) : null;
        switch (col) {
          case 0: cell.textContent = g.value ?? t('(none)'); break;
          case 1: cell.textContent = String(g.n); break;
          case 2: cell.textContent = `${num(g.mean)} ± ${num(g.sd)}`; break;
          case 3: cell.textContent = row === bestGroup ? t('best group') : diff === null ? '—' : num(diff); break;
          case 4: cell.textContent = pair ? pValue(pair.pHolm) : '—'; break;
          // NaN travels as null through postMessage's JSON: both mean the test was undefined.
          case 5: cell.textContent = row === bestGroup ? '★' : !pair || typeof pair.pHolm !== 'number' || Number.isNaN(pair.pHolm) ? t('not testable (needs 2 runs per group)') : pair.pHolm <= s.alpha ? t('differs from the best') : t('no significant difference'); break;
        }
      },
    });
  }

  private renderImportance(): void {
    const s = this.sweep!;
    this.method.textContent = t('Share of the variance of {0} each parameter explains: one-way ANOVA η² = SS between the parameter\'s values / SS total, over the finished runs (numeric parameters with more than {1} values are cut into {2} quantile bins). Main effects only: interactions and seed noise are the rest. p is the F test\'s p-value (whether the parameter\'s values differ at all), not corrected for the number of parameters.', s.metric, s.importanceBinning.maxLevels, s.importanceBinning.bins);
    this.importanceGrid.update({
      label: t('Parameter importance'),
      columns: [
        { width: 200, header: th => { th.textContent = t('Parameter'); } },
        { width: 200, header: th => { th.textContent = 'η²'; }, className: 'num' },
        { width: 90, header: th => { th.textContent = 'F'; }, className: 'num' },
        { width: 90, header: th => { th.textContent = 'p'; }, className: 'num' },
        { width: 110, header: th => { th.textContent = t('levels'); }, className: 'num' },
      ],
      rowCount: s.importance.length,
      cell: (row, col, cell) => {
        const i = s.importance[row];
        if (col === 0) cell.textContent = i.parameter;
        else if (col === 1) {
          const meter = h('meter', { class: 'eta', attrs: { min: 0, max: 1, 'aria-hidden': 'true' } });
          meter.value = Number.isFinite(i.etaSquared) ? i.etaSquared : 0;
          setChildren(cell, meter, ` ${Number.isFinite(i.etaSquared) ? `${(100 * i.etaSquared).toFixed(1)}%` : '—'}`);
        } else if (col === 2) cell.textContent = num(i.statistic);
        else if (col === 3) cell.textContent = pValue(i.pValue);
        else cell.textContent = i.binned ? t('{0} (binned)', i.levels) : String(i.levels);
      },
    });
  }

  private mark(what: SweepRenderedDetail['what'], seq: number, attr: 'eddSweep' | 'eddBrush'): void {
    this.root.dataset[attr] = String(seq);
    document.dispatchEvent(new CustomEvent<SweepRenderedDetail>(SWEEP_RENDERED_EVENT, { detail: { what, seq, time: performance.now() } }));
  }
}
