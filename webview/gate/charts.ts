/**
 * Bar charts of a check's evidence, as SVG built node by node (labels are text nodes, never markup; colours come from
 * gate.css through the `--vscode-charts-*` variables, so the theme applies and a theme switch needs no redraw):
 * - drift: one chart per statistic (PSI, Jensen–Shannon, Wasserstein, KS), a bar per column against the threshold,
 *   drifted columns marked (bar class `over` and the word "drifted" beside the label);
 * - bias: one chart per sensitive attribute and compared rate (selection rate, TPR, FPR), a bar per group, with the
 *   lowest and highest groups marked when the gap between them breaks a bound.
 *
 * The specs (driftCharts, biasCharts) are pure; renderChart needs a document.
 */
import type { CheckResult } from '../../src/protocol/gate';
import { num } from '../compare/format';
import { t } from '../compare/l10n';

export interface Bar {
  label: string;
  /** Bar length in chart units (null: nothing to draw, e.g. a column whose type changed). */
  value: number | null;
  /** The value as shown beside the bar. */
  text: string;
  /** Beyond the threshold (or one of the groups whose gap breaks a bound). */
  over: boolean;
  /** A word beside the label ("drifted", "lowest", …): the mark that does not rely on colour. */
  note?: string;
}

export interface ChartSpec {
  /** Stable id within the check: `drift-psi`, `bias-sex-selection_rate`. */
  id: string;
  title: string;
  caption: string;
  bars: Bar[];
  /** Upper end of the axis. */
  domain: number;
  threshold?: { value: number; text: string };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** −log₁₀ p, capped so p = 0 still draws (and a p below 1e-300 is off the scale anyway). */
const KS_CAP = 300;
function minusLog10(p: number): number {
  return p <= 0 ? KS_CAP : Math.min(KS_CAP, -Math.log10(p));
}

function domainOf(values: Array<number | null>, threshold?: number): number {
  const m = Math.max(0, ...values.filter(finite), threshold !== undefined ? threshold * 1.2 : 0);
  return m > 0 ? m : 1;
}

/** Charts of a drift check: per statistic the policy bounds (or that was measured), a bar per column. */
export function driftCharts(check: CheckResult): ChartSpec[] {
  const columns = check.measured.columns;
  if (!isObject(columns)) return [];
  const rows = Object.entries(columns).filter((e): e is [string, Record<string, unknown>] => isObject(e[1]));
  if (rows.length === 0) return [];
  const th = check.threshold;
  const bound = (key: string, field: string): number | undefined => {
    const o = th[key];
    return isObject(o) && finite(o[field]) ? o[field] : undefined;
  };
  const drifted = (r: Record<string, unknown>) => r.drifted === true;
  const failedOn = (r: Record<string, unknown>, measure: string) => Array.isArray(r.failed) && (r.failed as unknown[]).includes(measure);
  const measureName: Record<string, string> = { ks: 'KS', psi: 'PSI', wasserstein: 'Wasserstein', jensen_shannon: 'Jensen–Shannon' };
  // In each chart: "drifted" when this statistic says so; "drifted by PSI" when only another one does.
  const note = (r: Record<string, unknown>, measure: string): string | undefined => {
    if (!drifted(r)) return undefined;
    if (r.kind === 'type_changed') return t('drifted (type changed)');
    if (failedOn(r, measure)) return t('drifted');
    const others = Array.isArray(r.failed) ? (r.failed as unknown[]).map(f => measureName[String(f)] ?? String(f)) : [];
    return others.length ? t('drifted by {0}', others.join(', ')) : t('drifted');
  };
  const charts: ChartSpec[] = [];

  const ratio = (measure: 'psi' | 'jensen_shannon' | 'wasserstein', field: string, title: string, caption: string) => {
    const max = bound(measure, 'max');
    if (!rows.some(([, r]) => finite(r[field]))) return;
    const bars = rows.map(([name, r]): Bar => ({
      label: name, value: finite(r[field]) ? r[field] : null, text: finite(r[field]) ? num(r[field]) : t('n/a'),
      over: failedOn(r, measure), note: note(r, measure),
    }));
    charts.push({
      id: `drift-${measure}`, title, caption, bars, domain: domainOf(bars.map(b => b.value), max),
      threshold: max === undefined ? undefined : { value: max, text: t('max {0}', num(max)) },
    });
  };
  ratio('psi', 'psi', t('PSI per column'), t('Population Stability Index of each column, evaluation data against the reference; a bar past the line drifted.'));
  ratio('jensen_shannon', 'jensen_shannon', t('Jensen–Shannon distance per column'), t('Jensen–Shannon distance (base 2) of each column\'s histogram against the reference; a bar past the line drifted.'));
  const normalized = isObject(th.wasserstein) && th.wasserstein.normalized === true;
  ratio('wasserstein', normalized ? 'wasserstein_normalized' : 'wasserstein',
    normalized ? t('Wasserstein distance (normalized) per column') : t('Wasserstein distance per column'),
    normalized ? t('Wasserstein-1 distance divided by the reference\'s standard deviation; a bar past the line drifted.') : t('Wasserstein-1 distance in the column\'s units; a bar past the line drifted.'));

  if (rows.some(([, r]) => finite(r.ks_p_value))) {
    const alpha = bound('ks', 'alpha');
    const bars = rows.map(([name, r]): Bar => {
      const p = r.ks_p_value;
      return finite(p)
        ? { label: name, value: minusLog10(p), text: t('p = {0}, D = {1}', formatP(p), finite(r.ks_statistic) ? num(r.ks_statistic) : '—'), over: failedOn(r, 'ks'), note: note(r, 'ks') }
        : { label: name, value: null, text: t('n/a'), over: false, note: note(r, 'ks') };
    });
    const line = alpha !== undefined && alpha > 0 ? minusLog10(alpha) : undefined;
    charts.push({
      id: 'drift-ks', title: t('Kolmogorov–Smirnov test per column'),
      caption: t('Bar length is −log₁₀ of the KS p-value: the longer the bar, the stronger the evidence that the column\'s distribution changed; a bar past the α line drifted.'),
      bars, domain: domainOf(bars.map(b => b.value), line),
      threshold: line === undefined ? undefined : { value: line, text: t('α = {0}', num(alpha!)) },
    });
  }
  return charts;
}

function formatP(p: number): string {
  if (p === 0) return '0';
  return p < 1e-3 ? p.toExponential(1) : String(Number(p.toPrecision(3)));
}

interface GroupRow {
  group: string;
  count: number;
  selection_rate?: number;
  true_positive_rate?: number;
  false_positive_rate?: number;
}

type Rate = 'selection_rate' | 'true_positive_rate' | 'false_positive_rate';

/** The rate each bias metric compares, and the measured difference / ratio that bounds it. */
const FAMILIES: Array<{ rate: Rate; metrics: string[]; difference: string; ratio?: string }> = [
  { rate: 'selection_rate', metrics: ['demographic_parity_difference', 'demographic_parity_ratio'], difference: 'demographic_parity_difference', ratio: 'demographic_parity_ratio' },
  { rate: 'true_positive_rate', metrics: ['equal_opportunity_difference', 'equal_opportunity_ratio', 'equalized_odds_difference'], difference: 'equal_opportunity_difference', ratio: 'equal_opportunity_ratio' },
  { rate: 'false_positive_rate', metrics: ['equalized_odds_difference'], difference: 'false_positive_rate_difference' },
];

function rateTitle(rate: Rate, attribute: string): string {
  switch (rate) {
    case 'selection_rate': return t('Selection rate per group of "{0}"', attribute);
    case 'true_positive_rate': return t('True positive rate per group of "{0}"', attribute);
    case 'false_positive_rate': return t('False positive rate per group of "{0}"', attribute);
  }
}

/** Charts of a bias check: per sensitive attribute, a chart per rate the bounded metrics compare, a bar per group. */
export function biasCharts(check: CheckResult): ChartSpec[] {
  const ev = check.evidence;
  if (!isObject(ev) || !isObject(ev.groups)) return [];
  const th = check.threshold;
  const bounded = Object.keys(th).filter(k => isObject(th[k]));
  const perAttribute = isObject(check.measured.sensitive_features) ? check.measured.sensitive_features : {};
  const charts: ChartSpec[] = [];
  for (const [attribute, raw] of Object.entries(ev.groups)) {
    if (!Array.isArray(raw)) continue;
    const groups = raw.filter((g): g is GroupRow => isObject(g) && typeof g.group === 'string');
    if (groups.length === 0) continue;
    const measured = isObject(perAttribute[attribute]) ? perAttribute[attribute] : {};
    const families = FAMILIES.filter(f => f.metrics.some(m => bounded.includes(m)));
    for (const f of families.length > 0 ? families : FAMILIES.slice(0, 2)) {
      if (!groups.some(g => finite(g[f.rate]))) continue;
      // Which bounds of this family the attribute breaks (then its lowest and highest groups are the ones to see).
      const broken = f.metrics.filter(m => {
        const b = th[m];
        const v = measured[m];
        if (!isObject(b) || !finite(v)) return false;
        return (finite(b.max) && v > b.max) || (finite(b.min) && v < b.min);
      });
      const values = groups.map(g => (finite(g[f.rate]) ? g[f.rate]! : null));
      const present = values.filter(finite);
      const lo = present.length ? Math.min(...present) : NaN;
      const hi = present.length ? Math.max(...present) : NaN;
      const bars = groups.map((g, i): Bar => {
        const v = values[i];
        const edge = broken.length > 0 && v !== null && (v === lo || v === hi) && lo !== hi;
        return {
          label: g.group, value: v, text: v === null ? t('n/a') : t('{0} (n = {1})', num(v), g.count),
          over: edge, note: edge ? (v === lo ? t('lowest') : t('highest')) : undefined,
        };
      });
      const parts: string[] = [];
      const diff = measured[f.difference];
      if (finite(diff)) parts.push(t('difference {0}', num(diff)));
      const ratio = f.ratio ? measured[f.ratio] : undefined;
      if (finite(ratio)) parts.push(t('ratio {0}', num(ratio)));
      for (const m of f.metrics) {
        const b = th[m];
        if (isObject(b) && finite(b.max)) parts.push(t('{0} ≤ {1}', m, num(b.max)));
        if (isObject(b) && finite(b.min)) parts.push(t('{0} ≥ {1}', m, num(b.min)));
      }
      charts.push({
        id: `bias-${attribute}-${f.rate}`, title: rateTitle(f.rate, attribute),
        caption: broken.length > 0
          ? t('{0}. The bound is broken: the lowest and highest groups are marked.', parts.join(', '))
          : t('{0}.', parts.join(', ')),
        bars, domain: 1,
      });
    }
  }
  return charts;
}

/** The charts of a check (none for kinds without per-column or per-group evidence). */
export function chartsOf(check: CheckResult): ChartSpec[] {
  if (check.kind === 'drift') return driftCharts(check);
  if (check.kind === 'bias') return biasCharts(check);
  return [];
}

// Rendering ------------------------------------------------------------------------------------------------------

const SVG = 'http://www.w3.org/2000/svg';
const WIDTH = 720;
const LABEL_W = 200;
const VALUE_W = 230;
const ROW_H = 22;
const BAR_H = 14;
const TOP = 18;
const BOTTOM = 8;

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>, text?: string): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

/** Labels longer than the label column are cut (the full text stays in the bar's tooltip). */
function clip(s: string, max = 28): string {
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

/** A `<figure>` with the chart (SVG, `role="img"`) and its caption. */
export function renderChart(spec: ChartSpec, idPrefix: string): HTMLElement {
  const figure = document.createElement('figure');
  figure.className = 'chart';
  figure.dataset.chart = spec.id;
  const titleId = `${idPrefix}-${spec.id}-title`;
  const caption = document.createElement('figcaption');
  const strong = document.createElement('span');
  strong.className = 'chart-title';
  strong.id = titleId;
  strong.textContent = spec.title;
  const desc = document.createElement('span');
  desc.className = 'chart-caption';
  desc.textContent = spec.caption;
  caption.append(strong, ' ', desc);

  const plotW = WIDTH - LABEL_W - VALUE_W;
  const height = TOP + spec.bars.length * ROW_H + BOTTOM;
  const root = svg('svg', { viewBox: `0 0 ${WIDTH} ${height}`, width: WIDTH, height, role: 'img', 'aria-labelledby': titleId, class: 'bars' });
  const x = (v: number) => LABEL_W + Math.max(0, Math.min(1, v / spec.domain)) * plotW;
  root.append(svg('line', { class: 'axis', x1: LABEL_W, x2: LABEL_W, y1: TOP - 4, y2: height - BOTTOM + 2 }));
  // The threshold goes under the bars and their values, so a value it crosses stays readable.
  if (spec.threshold) {
    const tx = x(spec.threshold.value);
    root.append(svg('line', { class: 'threshold', x1: tx, x2: tx, y1: TOP - 6, y2: height - BOTTOM + 2 }));
    root.append(svg('text', { class: 'threshold-label', x: tx, y: TOP - 8, 'text-anchor': 'middle' }, spec.threshold.text));
  }
  spec.bars.forEach((b, i) => {
    const y = TOP + i * ROW_H;
    const g = svg('g', { class: b.over ? 'row over' : 'row', 'data-label': b.label });
    g.append(svg('title', {}, `${b.label}: ${b.text}${b.note ? ` (${b.note})` : ''}`));
    g.append(svg('text', { class: 'label', x: LABEL_W - 8, y: y + BAR_H - 2, 'text-anchor': 'end' }, clip(b.label)));
    if (b.value !== null) {
      const w = Math.max(1, x(b.value) - LABEL_W);
      g.append(svg('rect', { class: b.over ? 'bar over' : 'bar', x: LABEL_W, y: y + 1, width: w, height: BAR_H, 'data-value': b.value }));
    }
    const valueText = svg('text', { class: 'value', x: (b.value === null ? LABEL_W : x(b.value)) + 6, y: y + BAR_H - 2 }, b.text);
    if (b.note) valueText.append(svg('tspan', { class: 'note', dx: 6 }, `⚠ ${b.note}`));
    g.append(valueText);
    root.append(g);
  });
  figure.append(caption, root);
  return figure;
}
