/**
 * The Monitoring panel: a tab per layer (application, model, bias, business, infrastructure), a uPlot time series per
 * chart with the alert threshold as a dashed line and the alert windows as markers, and the alerts as a text list,
 * each with "Create experiment". It reaches the extension only through the `Host` it is given (a fake in DOM tests).
 *
 * Keyboard: the layer tabs are a tablist (←/→, Home, End move and select); every alert's button is reachable with Tab.
 * State kept with `setState` (restored after a reload): the spec, the layer and the last result.
 */
import uPlot from 'uplot';
import type { Layer, MonitorViewState, HostMessage, MonitorResult, WebviewMessage } from '../../src/protocol/monitor';
import { isMonitorViewState, LAYERS } from '../../src/protocol/monitor';
import { h, setChildren } from '../compare/dom';
import { t } from '../compare/l10n';
import type { Host } from '../host';
import { chartsOf, type ChartSpec } from './series';

export type MonitorHost = Host<WebviewMessage, MonitorViewState>;

const LAYER_NAMES: Record<Layer, () => string> = {
  application: () => t('Application'),
  model: () => t('Model'),
  bias: () => t('Bias'),
  business: () => t('Business'),
  infrastructure: () => t('Infrastructure'),
};

const PALETTE = ['--vscode-charts-blue', '--vscode-charts-green', '--vscode-charts-purple', '--vscode-charts-orange', '--vscode-charts-yellow'];

function themeColor(name: string, fallback: string): string {
  return getComputedStyle(document.body).getPropertyValue(name).trim() || fallback;
}

export class MonitorApp {
  private state: MonitorViewState | undefined;
  private renders = 0;
  private readonly header: HTMLElement;
  private readonly errorEl: HTMLDivElement;
  private readonly tabs: HTMLDivElement;
  private readonly body: HTMLDivElement;
  private readonly alertsEl: HTMLElement;
  private plots: uPlot[] = [];

  constructor(root: HTMLElement, private readonly host: MonitorHost) {
    const saved = host.getState();
    this.state = isMonitorViewState(saved) ? saved : undefined;
    this.header = h('header', { class: 'toolbar' });
    this.errorEl = h('div', { class: 'error', role: 'alert', hidden: true });
    this.tabs = h('div', { class: 'tabs', role: 'tablist', attrs: { 'aria-label': t('Monitoring layers') } });
    this.body = h('div', { class: 'charts', role: 'tabpanel', id: 'layer-panel' });
    this.alertsEl = h('section', { class: 'alerts', attrs: { 'aria-label': t('Alerts') } });
    setChildren(root, this.header, this.errorEl, this.tabs, this.body, this.alertsEl);
    if (this.state?.result) this.render();
    else setChildren(this.body, h('p', { class: 'empty' }, t('Reading the prediction log…')));
  }

  handle(msg: HostMessage): void {
    switch (msg.type) {
      case 'result':
        this.errorEl.hidden = true;
        this.update({ specUri: msg.specUri, layer: this.state?.layer ?? 'model', result: msg.result });
        this.render();
        return;
      case 'error':
        this.errorEl.textContent = msg.message;
        this.errorEl.hidden = false;
        return;
    }
  }

  private update(next: MonitorViewState): void {
    this.state = next;
    this.host.setState(next);
    this.host.post({ type: 'stateChanged', state: next });
  }

  private selectLayer(layer: Layer, focus: boolean): void {
    if (!this.state) return;
    this.update({ ...this.state, layer });
    this.render();
    if (focus) (this.tabs.querySelector(`[data-layer="${layer}"]`) as HTMLElement | null)?.focus();
  }

  private render(): void {
    const s = this.state!;
    const r = s.result!;
    const last = r.windows.at(-1);
    setChildren(this.header,
      h('h1', null, t('Monitoring: {0}', r.model)),
      h('span', { class: 'summary' }, t('{0} windows, {1} records, {2} alerts', r.windows.length, r.read.lines, r.alerts.length)),
      last ? h('span', { class: 'summary' }, t('last window {0}', last.start.slice(0, 16).replace('T', ' '))) : null,
      h('button', { id: 'refresh', class: 'secondary', on: { click: () => this.host.post({ type: 'refresh' }) } }, t('Refresh')));
    setChildren(this.tabs, ...LAYERS.map(layer => {
      const alerts = r.alerts.filter(a => a.layer === layer).length;
      return h('button', {
        role: 'tab', id: `tab-${layer}`, tabIndex: layer === s.layer ? 0 : -1,
        attrs: { 'aria-selected': layer === s.layer ? 'true' : 'false', 'aria-controls': 'layer-panel', 'data-layer': layer },
        on: {
          click: () => this.selectLayer(layer, false),
          keydown: (e: KeyboardEvent) => {
            const i = LAYERS.indexOf(layer);
            const to = e.key === 'ArrowRight' ? LAYERS[(i + 1) % LAYERS.length] : e.key === 'ArrowLeft' ? LAYERS[(i + LAYERS.length - 1) % LAYERS.length]
              : e.key === 'Home' ? LAYERS[0] : e.key === 'End' ? LAYERS[LAYERS.length - 1] : undefined;
            if (to) { e.preventDefault(); this.selectLayer(to, true); }
          },
        },
      }, LAYER_NAMES[layer](), alerts ? h('span', { class: 'badge', attrs: { 'aria-label': t('{0} alerts', alerts) } }, String(alerts)) : null);
    }));
    this.body.setAttribute('aria-labelledby', `tab-${s.layer}`);
    for (const p of this.plots) p.destroy();
    this.plots = [];
    const charts = chartsOf(r, s.layer);
    setChildren(this.body, ...(charts.length ? charts.map(c => this.chart(c, r)) : [h('p', { class: 'empty' }, t('Nothing to show for this layer (no data in the windows read).'))]));
    setChildren(this.alertsEl, h('h2', null, t('Alerts')), r.alerts.length === 0
      ? h('p', { class: 'empty' }, t('No alerts.'))
      : h('ul', null, ...r.alerts.map((a, i) => h('li', { class: `alert layer-${a.layer}` },
        h('span', { class: 'when' }, a.window_start.slice(0, 16).replace('T', ' ')), ' ',
        h('span', { class: 'what' }, a.message), ' ',
        h('button', { class: 'secondary', attrs: { 'data-alert': i }, on: { click: () => this.host.post({ type: 'createExperiment', index: i }) } }, t('Create experiment'))))));
    this.renders++;
    const app = this.body.parentElement as HTMLElement;
    requestAnimationFrame(() => setTimeout(() => { app.dataset.eddRendered = String(this.renders); }, 0));
  }

  private chart(c: ChartSpec, r: MonitorResult): HTMLElement {
    const plotEl = h('div', { class: 'plot', role: 'img', attrs: { 'aria-label': t('{0} over {1} windows', c.title, r.windows.length) } });
    // The latest value each series has (accuracy waits for feedback, so its last windows are often empty).
    const latest = c.series.map(s => `${s.label} ${fmt([...s.values].reverse().find(v => v !== null) ?? null)}`).join(', ');
    const fig = h('figure', { class: 'chart', id: `chart-${c.id}`, attrs: { 'data-alerts': c.alertWindows.length } },
      h('figcaption', null, h('span', { class: 'title' }, c.title), ' ', h('span', { class: 'latest' }, latest),
        c.thresholds.length ? h('span', { class: 'threshold' }, ' — ', t('threshold {0}', c.thresholds.join(', '))) : null,
        c.alertWindows.length ? h('span', { class: 'alerted' }, ' — ', t('{0} windows with alerts', c.alertWindows.length)) : null),
      plotEl);
    requestAnimationFrame(() => this.draw(plotEl, c, r));
    return fig;
  }

  private draw(el: HTMLElement, c: ChartSpec, r: MonitorResult): void {
    if (!el.isConnected) return;
    const xs = r.windows.map(w => w.start_ms / 1000);
    const fg = themeColor('--vscode-foreground', '#cccccc');
    const grid = themeColor('--vscode-editorWidget-border', 'rgba(128,128,128,0.35)');
    const red = themeColor('--vscode-charts-red', '#f14c4c');
    const font = `11px ${themeColor('--vscode-font-family', 'sans-serif')}`;
    const data: Array<Array<number | null>> = [xs, ...c.series.map(s => s.values)];
    const series: uPlot.Series[] = [{}, ...c.series.map((s, i) => ({ label: s.label, stroke: themeColor(PALETTE[i % PALETTE.length], '#3794ff'), width: 2, spanGaps: true }))];
    for (const th of c.thresholds) {
      data.push(xs.map(() => th));
      series.push({ label: t('threshold'), stroke: red, dash: [6, 4], width: 1, points: { show: false } });
    }
    if (c.alertWindows.length && c.series.length) {
      // The marker sits on the series furthest from normal in that window (the one that alerted, e.g. the drifted column).
      const at = (i: number) => {
        const vs = c.series.map(s => s.values[i]).filter((v): v is number => v !== null);
        return vs.length ? Math.max(...vs) : c.thresholds[0] ?? 0;
      };
      data.push(xs.map((_, i) => (c.alertWindows.includes(i) ? at(i) : null)));
      series.push({ label: t('alert'), stroke: red, fill: red, width: 0, paths: () => null, points: { show: true, size: 10, stroke: red, fill: red } });
    }
    const plot = new uPlot({
      width: el.clientWidth || 600, height: 180, legend: { show: true },
      axes: [
        { stroke: fg, font, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } },
        { stroke: fg, font, size: 60, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } },
      ],
      series,
    }, data as uPlot.AlignedData, el);
    this.plots.push(plot);
  }
}

function fmt(v: number | null): string {
  if (v === null) return '—';
  return Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(2) : v.toFixed(3);
}
