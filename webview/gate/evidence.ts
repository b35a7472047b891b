/**
 * Free-form evidence (and the larger measured values) as DOM: a list of records becomes a table, a record a
 * definition list, a list of scalars one line. Every value is a text node (see ../compare/dom.ts).
 */
import { h, type Child } from '../compare/dom';
import { t } from '../compare/l10n';
import { formatValue } from './values';

const MAX_DEPTH = 4;
const MAX_COLUMNS = 12;
const MAX_ROWS = 100;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isScalar = (v: unknown) => v === null || ['string', 'number', 'boolean'].includes(typeof v);

/** A cell of a records table: scalars formatted, anything nested as compact JSON text. */
function cellText(v: unknown): string {
  return v === undefined ? '' : formatValue(v);
}

function table(records: Array<Record<string, unknown>>): HTMLElement {
  const keys: string[] = [];
  for (const r of records) for (const k of Object.keys(r)) if (!keys.includes(k)) keys.push(k);
  const shown = keys.slice(0, MAX_COLUMNS);
  const rows = records.slice(0, MAX_ROWS);
  const el = h('table', { class: 'evidence-table' },
    h('thead', null, h('tr', null, ...shown.map(k => h('th', { attrs: { scope: 'col' } }, k)))),
    h('tbody', null, ...rows.map(r => h('tr', null, ...shown.map(k => h('td', { class: typeof r[k] === 'number' ? 'num' : undefined }, cellText(r[k])))))));
  const notes: Child[] = [];
  if (records.length > rows.length) notes.push(t('{0} more rows not shown.', records.length - rows.length));
  if (keys.length > shown.length) notes.push(t('{0} more fields not shown: {1}.', keys.length - shown.length, keys.slice(MAX_COLUMNS).join(', ')));
  return notes.length ? h('div', null, h('div', { class: 'table-scroll' }, el), h('p', { class: 'muted' }, ...notes.map(n => [n, ' ']).flat())) : h('div', { class: 'table-scroll' }, el);
}

/** Renders `value` (evidence, or measured values that are too large for one line). */
export function renderValue(value: unknown, depth = 0): HTMLElement {
  if (isScalar(value) || depth >= MAX_DEPTH) return h('span', { class: 'evidence-value' }, formatValue(value));
  if (Array.isArray(value)) {
    if (value.length === 0) return h('span', { class: 'muted' }, t('(none)'));
    if (value.every(isScalar)) return h('span', { class: 'evidence-value' }, value.map(v => formatValue(v)).join(', '));
    if (value.every(isObject)) return table(value);
    return h('ol', { class: 'evidence-list' }, ...value.slice(0, MAX_ROWS).map(v => h('li', null, renderValue(v, depth + 1))));
  }
  const obj = value as Record<string, unknown>;
  const entries = Object.entries(obj);
  if (entries.length === 0) return h('span', { class: 'muted' }, t('(none)'));
  return h('dl', { class: 'evidence-dl' }, ...entries.flatMap(([k, v]) => [h('dt', null, k), h('dd', null, renderValue(v, depth + 1))]));
}
