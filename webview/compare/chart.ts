/**
 * Line chart of one metric by step for every run (uPlot on a canvas), with a keyboard-operable legend.
 *
 * Series colours come from the theme (`--vscode-charts-*`), read when the chart is built and again when VS Code
 * switches theme; beyond six runs the colours repeat with a different dash pattern, which the legend swatch shows.
 * Drawing uses the reduced data of downsample.ts, recomputed for the plot's width and for the zoomed range, so a
 * zoom shows the detail of the full series.
 */
import uPlot from 'uplot';
import { h, setChildren } from './dom';
import { align, extent, type Series } from './downsample';
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

export interface ChartSeries {
  label: string;
  runId: string;
  isBaseline: boolean;
  /** Null when the run logged no point of the metric (listed in the legend, not drawn). */
  curve: Series | null;
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
  private fullRange: [number, number] | null = null;
  private range: [number, number] | null = null;
  private settingData = false;
  private focused = -1;
  private width = 0;
  private readonly resizeObserver: ResizeObserver | undefined;
  private readonly themeObserver: MutationObserver | undefined;
  /** Called after each draw of the canvas. */
  onDrawn: (() => void) | undefined;

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
          this.rebucket(this.range, false);
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

  /** Shows `series` of `metric` (all of them: the number of runs is not capped). */
  show(metric: string, series: ChartSeries[]): void {
    // A live update of the same metric keeps the hidden series and the zoom.
    const zoom = metric === this.metric ? this.range : null;
    if (metric !== this.metric) this.hidden.clear();
    this.metric = metric;
    this.series = series;
    this.build();
    const plot = this.plot;
    if (zoom && plot) {
      requestAnimationFrame(() => {
        if (this.plot === plot) this.rebucket(zoom, true);
      });
    }
  }

  clear(): void {
    this.plot?.destroy();
    this.plot = undefined;
    this.series = [];
    this.drawn = [];
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

  /** The plot area's width in CSS pixels (= the number of pixel columns to reduce to). */
  private plotColumns(): number {
    const bbox = this.plot?.bbox;
    if (bbox && bbox.width > 0) return Math.ceil(bbox.width / (window.devicePixelRatio || 1));
    return Math.max(100, this.width - 80);
  }

  private build(): void {
    this.plot?.destroy();
    this.plot = undefined;
    this.focused = -1;
    this.drawn = this.series.filter(s => s.curve && s.curve.steps.length > 0);
    this.fullRange = extent(this.drawn.map(s => s.curve!));
    this.range = null;
    this.resetButton.hidden = true;
    this.el.dataset.zoom = '';
    this.renderLegend();
    if (this.drawn.length === 0 || !this.fullRange) {
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
    const estimate = Math.max(100, this.width - 90); // the y axis and its label take ~90 px
    const aligned = align(this.drawn.map(s => s.curve!), estimate);
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
        // A drag zoom sets the x scale; the reduced data is then recomputed for the zoomed range (after uPlot's
        // own update has finished: changing the data inside its hook would corrupt its state).
        setScale: [(_u, key) => {
          if (key === 'x' && !this.settingData) requestAnimationFrame(() => this.onXScale());
        }],
        setSeries: [(_u, idx, o) => {
          if (o && 'focus' in o) this.focused = o.focus && idx !== null ? idx : -1;
        }],
        setCursor: [u => this.updateReadout(u)],
      },
    };
    const plot = new uPlot(opts, aligned.data as uPlot.AlignedData, this.plotEl);
    this.plot = plot;
    // The reduction used an estimate of the plot's width; once drawn, the real width is known.
    requestAnimationFrame(() => {
      if (this.plot === plot && aligned.reduced && Math.abs(this.plotColumns() - estimate) > 4) this.rebucket(this.range, false);
    });
  }

  private onXScale(): void {
    const u = this.plot;
    if (!u) return;
    const { min, max } = u.scales.x;
    if (min === undefined || max === undefined || min === null || max === null || !(max > min)) return;
    const xs = u.data[0];
    const near = (a: number, b: number): boolean => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
    if (this.range === null && xs.length > 0 && near(min, xs[0]) && near(max, xs[xs.length - 1])) return; // not zoomed
    if (this.range !== null && near(min, this.range[0]) && near(max, this.range[1])) return; // already reduced for it
    this.rebucket([min, max], true);
  }

  /** Re-reduces the series for the zoomed `range` (null: all of it) at the plot's current width. */
  private rebucket(range: [number, number] | null, zoomed: boolean): void {
    const u = this.plot;
    if (!u || !this.fullRange) return;
    const aligned = align(this.drawn.map(s => s.curve!), this.plotColumns(), range ?? this.fullRange);
    if (zoomed) {
      this.range = range;
      this.resetButton.hidden = range === null;
      // The x range shown, for tests and for anyone reading the DOM (the axes are drawn on the canvas).
      this.el.dataset.zoom = range === null ? '' : `${range[0]},${range[1]}`;
    }
    this.settingData = true;
    try {
      if (range === null) u.setData(aligned.data as uPlot.AlignedData, true);
      else {
        u.batch(() => {
          u.setData(aligned.data as uPlot.AlignedData, false);
          u.setScale('x', { min: range[0], max: range[1] });
        });
      }
    } finally {
      this.settingData = false;
    }
  }

  private resetZoom(): void {
    if (this.range !== null) this.rebucket(null, true);
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
