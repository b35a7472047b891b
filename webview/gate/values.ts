/**
 * What a check's card shows, derived from its CheckResult (pure, no DOM: the DOM tests also run it on Node).
 * Measured values and thresholds are free-form records keyed as the policy and scikit-learn / Fairlearn / scipy name
 * them; these helpers turn them into labelled, formatted entries without knowing every check.
 */
import type { CheckResult, CheckStatus, GateReport } from '../../src/protocol/gate';
import { num } from '../compare/format';
import { t } from '../compare/l10n';

export interface Entry {
  label: string;
  value: string;
}

/** The status in words (shown beside its icon: the status is never told by colour alone). */
export function statusText(s: CheckStatus): string {
  switch (s) {
    case 'pass': return t('Passed');
    case 'fail': return t('Failed');
    case 'warn': return t('Warning');
    case 'error': return t('Could not run');
  }
}

/** A glyph per status (decorative; the text of statusText is beside it). */
export function statusGlyph(s: CheckStatus): string {
  switch (s) {
    case 'pass': return '✓';
    case 'fail': return '✗';
    case 'warn': return '⚠';
    case 'error': return '⊘';
  }
}

/** Whether a check counts against the gate (what "Failed only" keeps). */
export function isFailing(c: CheckResult): boolean {
  return c.status === 'fail' || c.status === 'error';
}

const isScalar = (v: unknown): v is string | number | boolean | null => v === null || ['string', 'number', 'boolean'].includes(typeof v);

/** A value as text: numbers with four significant digits, lists of scalars joined, null as "—". */
export function formatValue(v: unknown): string {
  if (v === null || v === undefined) return '—';
  if (typeof v === 'number') return num(v);
  if (typeof v === 'boolean') return v ? t('yes') : t('no');
  if (typeof v === 'string') return v;
  if (Array.isArray(v) && v.every(isScalar)) return `[${v.map(x => (x === null ? 'N' : formatValue(x))).join(', ')}]`;
  return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'number' && Number.isFinite(x) && !Number.isInteger(x) ? Number(x.toPrecision(4)) : x));
}

/** Entries that fit one line (scalars and short lists of scalars). */
function isShort(v: unknown): boolean {
  return isScalar(v) || (Array.isArray(v) && v.length <= 12 && v.every(isScalar));
}

/** The measured values that fit beside the threshold: top-level scalars and short lists. */
export function measuredEntries(measured: Record<string, unknown>): Entry[] {
  return Object.entries(measured).filter(([, v]) => isShort(v)).map(([k, v]) => ({ label: k, value: formatValue(v) }));
}

/** The measured values too large for a line (per column, per attribute, …): shown with the evidence. */
export function nestedMeasured(measured: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(measured).filter(([, v]) => !isShort(v)));
}

/**
 * The thresholds flattened: `{ min: 0.9 }` → `min: ≥ 0.9`; `{ psi: { max: 0.25, bins: 5 } }` → `psi: ≤ 0.25`,
 * `psi.bins: 5`; other keys as they are.
 */
export function thresholdEntries(threshold: Record<string, unknown>): Entry[] {
  const out: Entry[] = [];
  const walk = (obj: Record<string, unknown>, prefix: string, depth: number): void => {
    for (const [k, v] of Object.entries(obj)) {
      const path = prefix ? `${prefix}.${k}` : k;
      if (typeof v === 'object' && v !== null && !Array.isArray(v) && depth < 3) {
        if (Object.keys(v).length === 0) out.push({ label: path, value: t('(no bound: measured only)') });
        else walk(v as Record<string, unknown>, path, depth + 1);
      } else if ((k === 'min' || k === 'max') && typeof v === 'number') {
        out.push({ label: prefix || k, value: `${k === 'min' ? '≥' : '≤'} ${num(v)}` });
      } else {
        out.push({ label: path, value: formatValue(v) });
      }
    }
  };
  walk(threshold, '', 0);
  return out;
}

/** The candidate in words: the run, the model file, the predictions file. */
export function candidateText(c: GateReport['candidate']): string {
  const parts: string[] = [];
  if (c.model) parts.push(t('model {0}', c.model));
  if (c.run) parts.push(t('run {0}', c.run.slice(0, 8)));
  if (c.onnx) parts.push(c.onnx);
  if (c.predictions) parts.push(t('predictions {0}', c.predictions));
  return parts.join(' · ');
}

/** Milliseconds as `215 ms` or `3.2 s`. */
export function durationText(ms: number): string {
  if (!Number.isFinite(ms)) return '';
  if (ms < 1000) return t('{0} ms', Math.round(ms));
  return t('{0} s', Number((ms / 1000).toPrecision(3)));
}
