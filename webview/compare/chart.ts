/**
 * Line chart of one metric by step for every run (uPlot on a canvas), with a keyboard-operable legend.
 *
 * Series colours come from the theme (`--vscode-charts-*`), read when the chart is built and again when VS Code
 * switches theme; beyond six runs the colours repeat with a different dash pattern, which the legend swatch shows.
 * The chart draws what the host sends: curve frames already reduced (in src/core/compare/downsample.ts) to about
 * two points per pixel column of this plot. It asks for a frame with the plot's width, and on a zoom asks for the
 * detail of the zoomed range (showing the coarse frame stretched until the detail arrives).
 */
import uPlot from 'uplot';
import type { CurveFrame } from '../../src/protocol/compare';
import { h, setChildren } from './dom';
import { num } from './format';
import { t } from './l10n';

const PALETTE: Array<[string, string]> = [
  ['--vscode-charts-blue', '#3794ff'],
  ['--vscode-charts-orange', '#d18616'],
  ['--vscode-charts-green', '#89d185'],
  ['--vscode-charts-purple', '#b180d7'],
  ['--vscode-charts-red', '#f14c4c'],
  ['--vscode-charts-yellow', '#cca700'],
];
const DASHES: number[][] = [[], [6, 3], [2, 3], [10, 3, 2, 3]];
const DASH_STYLES = ['solid', 'dashed', 'dotted', 'double'];
const HEIGHT = 320;
/** uPlot's plot area is the chart's width less the y axis (size 60), its label (30) and the right padding. */
const CHROME_PX = 100;

export interface ChartSeries {
  label: string;
  runId: string;
  isBaseline: boolean;
  /** Index of the run's y array in the frames; -1 when the run logged no point of the metric (listed, not drawn). */
  index: number;
}

export interface ChartStyle {
  stroke: string;
  dash: number[];
  dashStyle: string;
}

/** Colour and dash of series `i` from the current theme. */
export function seriesStyle(i: number, css: CSSStyleDeclaration): ChartStyle {
  const [name, fallback] = PALETTE[i % PALETTE.length];
  const k = Math.floor(i / PALETTE.length) % DASHES.length;
  return { stroke: css.getPropertyValue(name).trim() || fallback, dash: DASHES[k], dashStyle: DASH_STYLES[k] };
}

const near = (a: number, b: number): boolean => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));

function nearRange(a: [number, number], b: [number, number]): boolean {
  return near(a[0], b[0]) && near(a[1], b[1]);
}

function themeColor(css: CSSStyleDeclaration, name: string, fallback: string): string {
  return css.getPropertyValue(name).trim() || fallback;
}

export class Chart {
  readonly el: HTMLDivElement;
  private readonly plotEl: HTMLDivElement;
  private readonly legendEl: HTMLUListElement;
  private readonly readoutEl: HTMLParagraphElement;
  private readonly resetButton: HTMLButtonElement;
  private plot: uPlot | undefined;
  private series: ChartSeries[] = [];
  private drawn: ChartSeries[] = [];
  private hidden = new Set<string>();
  private metric = '';
  private full: CurveFrame | undefined;
  private range: [number, number] | null = null;
  /** Plot width (CSS px) the shown frames were asked for. */
  private askedWidth = 0;
  /** The chart's width less its plot area's, as measured on the last plot drawn. */
  private chromePx = CHROME_PX;
  private settingData = false;
  private focused = -1;
  private width = 0;
  private readonly resizeObserver: ResizeObserver | undefined;
  private readonly themeObserver: MutationObserver | undefined;
  /** Called after each draw of the canvas. */
  onDrawn: (() => void) | undefined;
  /** Asks the host for a frame of `range` (null: all of it) for a plot `width` CSS pixels wide. */
  onRequest: ((range: [number, number] | null, width: number) => void) | undefined;

  constructor() {
    this.el = h('div', { class: 'chart' });
    this.plotEl = h('div', { class: 'chart-plot', role: 'img' });
    this.readoutEl = h('p', { class: 'chart-readout' });
    this.resetButton = h('button', { class: 'link-button', hidden: true, on: { click: () => this.resetZoom() } }, t('Reset zoom'));
    this.resetButton.type = 'button';
    this.legendEl = h('ul', { class: 'legend', attrs: { 'aria-label': t('Runs in the chart') } });
    this.legendEl.addEventListener('keydown', ev => this.onLegendKey(ev));
    this.el.append(this.plotEl, h('div', { class: 'chart-tools' }, this.readoutEl, this.resetButton), this.legendEl);
    if (typeof ResizeObserver !== 'undefined') {
      this.resizeObserver = new ResizeObserver(() => {
        const w = this.plotEl.clientWidth;
        if (this.plot && w > 0 && Math.abs(w - this.width) >= 1) {
          this.width = w;
          this.plot.setSize({ width: w, height: HEIGHT });
          this.refetchIfResized();
        }
      });
      this.resizeObserver.observe(this.plotEl);
    }
    // VS Code switches theme by changing the body's class and the variables on <html>: rebuild with new colours.
    if (typeof MutationObserver !== 'undefined') {
      this.themeObserver = new MutationObserver(() => {
        if (this.plot) this.build();
      });
      this.themeObserver.observe(document.body, { attributes: true, attributeFilter: ['class'] });
      this.themeObserver.observe(document.documentElement, { attributes: true, attributeFilter: ['style', 'class'] });
    }
  }

  /** The plot area's width in CSS pixels, to ask the host for frames (an estimate until the plot is drawn). */
  plotWidth(): number {
    const bbox = this.plot?.bbox;
    if (bbox && bbox.width > 0) return Math.round(bbox.width / (window.devicePixelRatio || 1));
    return Math.max(50, (this.plotEl.clientWidth || 600) - this.chromePx);
  }

  /**
   * Shows `series` of `metric` (all of them: the number of runs is not capped) from `frame`, a frame of the whole
   * x range asked for a plot `width` CSS pixels wide.
   */
  show(metric: string, series: ChartSeries[], frame: CurveFrame, width: number): void {
    // A live update of the same metric keeps the hidden series and the zoom (whose detail is asked for again).
    const zoom = metric === this.metric ? this.range : null;
    if (metric !== this.metric) this.hidden.clear();
    this.metric = metric;
    this.series = series;
    this.full = frame;
    this.askedWidth = width;
    this.build();
    const plot = this.plot;
    if (zoom && plot) {
      requestAnimationFrame(() => {
        if (this.plot !== plot) return;
        this.zoomTo(zoom);
        this.onRequest?.(zoom, this.plotWidth());
      });
    } else if (plot) {
      // The frame was asked for an estimate of the plot's width; once drawn, the real width is known.
      requestAnimationFrame(() => {
        if (this.plot === plot) this.refetchIfResized();
      });
    }
  }

  /** Draws the detail of a zoomed range (a reply to `onRequest` with a range); dropped unless that range is shown. */
  detail(frame: CurveFrame, width: number): void {
    const u = this.plot;
    const range = this.range;
    if (!u || !range || !frame.range || frame.metric !== this.metric || !nearRange(frame.range, range)) return;
    this.askedWidth = width;
    this.settingData = true;
    try {
      u.batch(() => {
        u.setData(this.dataOf(frame), false);
        u.setScale('x', { min: range[0], max: range[1] });
      });
    } finally {
      this.settingData = false;
    }
    // Which detail is drawn, for tests (the axes are on the canvas).
    this.el.dataset.detail = `${frame.range[0]},${frame.range[1]}`;
  }

  clear(): void {
    this.plot?.destroy();
    this.plot = undefined;
    this.series = [];
    this.drawn = [];
    this.full = undefined;
    this.range = null;
    this.plotEl.replaceChildren();
    this.legendEl.replaceChildren();
    this.readoutEl.textContent = '';
    this.resetButton.hidden = true;
  }

  destroy(): void {
    this.clear();
    this.resizeObserver?.disconnect();
    this.themeObserver?.disconnect();
  }

  private dataOf(frame: CurveFrame): uPlot.AlignedData {
    // uPlot takes null (not NaN) for a run without a point at an x.
    let points = 0;
    const ys = this.drawn.map(s => {
      const src = frame.ys[s.index];
      const y = new Array<number | null>(src.length);
      for (let i = 0; i < src.length; i++) {
        const v = src[i];
        if (Number.isNaN(v)) y[i] = null;
        else { y[i] = v; points++; }
      }
      return y;
    });
    // What is drawn, for tests and for anyone reading the DOM: the points, and the x range of the data.
    this.el.dataset.drawn = String(points);
    this.el.dataset.xs = frame.xs.length ? `${frame.xs[0]},${frame.xs[frame.xs.length - 1]}` : '';
    return [Array.from(frame.xs), ...ys] as uPlot.AlignedData;
  }

  /**
   * Asks for the shown range again when the plot is now wider or narrower than asked for by more than a few pixels
   * (2% more or fewer columns than pixels draw the same).
   */
  private refetchIfResized(): void {
    if (!this.plot) return;
    const w = this.plotWidth();
    if (this.plotEl.clientWidth > w) this.chromePx = this.plotEl.clientWidth - w;
    if (Math.abs(w - this.askedWidth) > Math.max(8, 0.02 * w)) {
      this.askedWidth = w;
      this.onRequest?.(this.range, w);
    }
  }

  private build(): void {
    this.plot?.destroy();
    this.plot = undefined;
    this.focused = -1;
    const frame = this.full;
    this.drawn = frame ? this.series.filter(s => s.index >= 0 && s.index < frame.ys.length) : [];
    this.range = null;
    this.resetButton.hidden = true;
    this.el.dataset.zoom = '';
    this.el.dataset.detail = '';
    this.renderLegend();
    if (!frame || this.drawn.length === 0 || frame.xs.length === 0) {
      setChildren(this.plotEl, h('p', { class: 'empty' }, t('No points of {0} were logged by the compared runs.', this.metric)));
      this.plotEl.setAttribute('aria-label', t('No curve of {0}', this.metric));
      this.onDrawn?.();
      return;
    }
    this.plotEl.replaceChildren();
    this.plotEl.setAttribute('aria-label', t('Line chart of {0} by step for {1} runs', this.metric, this.drawn.length));
    this.width = this.plotEl.clientWidth || 600;
    const css = getComputedStyle(document.body);
    const fg = themeColor(css, '--vscode-foreground', '#cccccc');
    const gridColor = themeColor(css, '--vscode-editorWidget-border', themeColor(css, '--vscode-panel-border', 'rgba(128,128,128,0.35)'));
    const family = themeColor(css, '--vscode-font-family', 'sans-serif');
    const font = `11px ${family}`;
    const many = this.drawn.length > 20;
    const index = new Map(this.series.map((s, i) => [s, i]));
    const opts: uPlot.Options = {
      width: this.width,
      height: HEIGHT,
      scales: { x: { time: false } },
      legend: { show: false },
      focus: { alpha: 0.3 },
      cursor: {
        focus: { prox: 24 },
        points: { show: !many },
        drag: { x: true, y: false },
        bind: {
          dblclick: () => () => {
            this.resetZoom();
            return null;
          },
        },
      },
      axes: [
        { stroke: fg, font, labelFont: font, label: t('step'), grid: { stroke: gridColor, width: 1 }, ticks: { stroke: gridColor, width: 1 } },
        { stroke: fg, font, labelFont: font, label: this.metric, size: 60, grid: { stroke: gridColor, width: 1 }, ticks: { stroke: gridColor, width: 1 } },
      ],
      series: [
        { label: t('step') },
        ...this.drawn.map(s => {
          const st = seriesStyle(index.get(s)!, css);
          return {
            label: s.label,
            stroke: st.stroke,
            dash: st.dash,
            // Whole-pixel widths: a 1.25 px line took 2.6× as long to rasterise (100 runs × 10,000 points: 885 → 340 ms).
            width: s.isBaseline ? 2 : 1,
            spanGaps: true,
            show: !this.hidden.has(s.runId),
            points: { show: false },
          } satisfies uPlot.Series;
        }),
      ],
      hooks: {
        draw: [() => this.onDrawn?.()],
        // A drag zoom sets the x scale; the detail of the zoomed range is then asked for (after uPlot's own update
        // has finished: changing the data inside its hook would corrupt its state).
        setScale: [(_u, key) => {
          if (key === 'x' && !this.settingData) requestAnimationFrame(() => this.onXScale());
        }],
        setSeries: [(_u, idx, o) => {
          if (o && 'focus' in o) this.focused = o.focus && idx !== null ? idx : -1;
        }],
        setCursor: [u => this.updateReadout(u)],
      },
    };
    this.plot = new uPlot(opts, this.dataOf(frame), this.plotEl);
  }

  private onXScale(): void {
    const u = this.plot;
    if (!u) return;
    const { min, max } = u.scales.x;
    if (min === undefined || max === undefined || min === null || max === null || !(max > min)) return;
    const xs = u.data[0];
    if (this.range === null && xs.length > 0 && near(min, xs[0]) && near(max, xs[xs.length - 1])) return; // not zoomed
    if (this.range !== null && near(min, this.range[0]) && near(max, this.range[1])) return; // already asked for it
    const range: [number, number] = [min, max];
    this.zoomTo(range);
    this.onRequest?.(range, this.plotWidth());
  }

  /** Shows `range` (with the data at hand until its detail arrives). */
  private zoomTo(range: [number, number]): void {
    const u = this.plot;
    if (!u) return;
    this.range = range;
    this.resetButton.hidden = false;
    // The x range shown, for tests and for anyone reading the DOM (the axes are drawn on the canvas).
    this.el.dataset.zoom = `${range[0]},${range[1]}`;
    this.settingData = true;
    try {
      u.setScale('x', { min: range[0], max: range[1] });
    } finally {
      this.settingData = false;
    }
  }

  /** Back to the whole range: the full frame is still here, nothing to ask for. */
  private resetZoom(): void {
    const u = this.plot;
    if (this.range === null || !u || !this.full) return;
    this.range = null;
    this.resetButton.hidden = true;
    this.el.dataset.zoom = '';
    this.el.dataset.detail = '';
    this.settingData = true;
    try {
      u.setData(this.dataOf(this.full), true);
    } finally {
      this.settingData = false;
    }
  }

  private updateReadout(u: uPlot): void {
    const idx = u.cursor.idx;
    const left = u.cursor.left;
    if (idx === null || idx === undefined || left === undefined || left < 0) {
      this.readoutEl.textContent = '';
      return;
    }
    const step = u.posToVal(left, 'x');
    const s = this.focused > 0 ? this.focused : -1;
    if (s < 0) {
      this.readoutEl.textContent = t('step ≈ {0}', num(Math.round(step)));
      return;
    }
    const v = (u.data[s] as Array<number | null>)[idx];
    this.readoutEl.textContent = t('{0}: {1} at step ≈ {2}', this.drawn[s - 1]?.label ?? '', v === null || v === undefined ? '—' : num(v), num(Math.round(step)));
  }

  private renderLegend(): void {
    const css = getComputedStyle(document.body);
    const drawnIndex = new Map(this.drawn.map((s, i) => [s, i + 1]));
    const items = this.series.map((s, i) => {
      const st = seriesStyle(i, css);
      const swatch = h('span', { class: 'swatch', attrs: { 'aria-hidden': 'true' } });
      swatch.style.borderTopColor = st.stroke;
      swatch.style.borderTopStyle = st.dashStyle;
      const plotted = drawnIndex.get(s);
      const shown = plotted !== undefined && !this.hidden.has(s.runId);
      const b = h('button', {
        class: 'legend-item',
        tabIndex: i === 0 ? 0 : -1,
        title: s.label,
        attrs: { 'aria-pressed': plotted === undefined ? null : String(shown), 'aria-disabled': plotted === undefined ? 'true' : null },
      }, swatch, h('span', { class: 'legend-label' }, s.label), s.isBaseline ? h('span', { class: 'legend-note' }, t('baseline')) : null,
      plotted === undefined ? h('span', { class: 'legend-note' }, t('no points')) : null);
      b.type = 'button';
      if (plotted !== undefined) {
        b.addEventListener('click', () => {
          const show = this.hidden.has(s.runId);
          if (show) this.hidden.delete(s.runId);
          else this.hidden.add(s.runId);
          b.setAttribute('aria-pressed', String(show));
          this.plot?.setSeries(plotted, { show });
        });
      }
      return h('li', null, b);
    });
    this.legendEl.replaceChildren(...items);
  }

  /** Arrow keys move between legend items (one tab stop for the whole legend). */
  private onLegendKey(ev: KeyboardEvent): void {
    const buttons = [...this.legendEl.querySelectorAll<HTMLButtonElement>('button.legend-item')];
    const i = buttons.indexOf(ev.target as HTMLButtonElement);
    if (i < 0) return;
    let j = i;
    if (ev.key === 'ArrowRight' || ev.key === 'ArrowDown') j = Math.min(buttons.length - 1, i + 1);
    else if (ev.key === 'ArrowLeft' || ev.key === 'ArrowUp') j = Math.max(0, i - 1);
    else if (ev.key === 'Home') j = 0;
    else if (ev.key === 'End') j = buttons.length - 1;
    else return;
    ev.preventDefault();
    buttons[i].tabIndex = -1;
    buttons[j].tabIndex = 0;
    buttons[j].focus();
  }
}
