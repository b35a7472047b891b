/** Number and unit formatting for the panel (display only; exports keep full precision). */
import { t } from './l10n';

/** Four significant digits, exponent for very large or small magnitudes, integers as they are. */
export function num(v: number | null | undefined): string {
  if (v === null || v === undefined) return '';
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? '∞' : '−∞';
  if (Number.isInteger(v) && Math.abs(v) < 1e9) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e6)) return v.toExponential(2);
  return String(Number(v.toPrecision(4)));
}

/** Signed difference: `+0.0123`, `−0.5`, `0`. */
export function signed(v: number | null | undefined): string {
  if (v === null || v === undefined) return '';
  if (v === 0) return '0';
  const s = num(Math.abs(v));
  return v > 0 ? `+${s}` : `−${s}`;
}

/** p-values: three significant digits; below 0.001 in exponent form. */
export function pValue(p: number | null | undefined): string {
  if (p === null || p === undefined) return '';
  if (p === 0) return '0';
  if (p < 1e-3) return p.toExponential(1);
  return String(Number(p.toPrecision(3)));
}

export function duration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '';
  if (seconds < 60) return t('{0} s', Number(seconds.toPrecision(3)));
  const s = Math.round(seconds);
  const hh = Math.floor(s / 3600);
  const mm = Math.floor((s % 3600) / 60);
  const ss = s % 60;
  if (hh === 0) return t('{0} min {1} s', mm, String(ss).padStart(2, '0'));
  return t('{0} h {1} min', hh, String(mm).padStart(2, '0'));
}

export function bytes(b: number | null | undefined): string {
  if (b === null || b === undefined || !Number.isFinite(b)) return '';
  if (b < 1024) return t('{0} B', b);
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = b / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${Number(v.toPrecision(3))} ${units[i]}`;
}

export function megabytes(mb: number | null | undefined): string {
  return mb === null || mb === undefined ? '' : bytes(mb * 1024 * 1024);
}

export function ms(v: number | null | undefined): string {
  return v === null || v === undefined ? '' : t('{0} ms', num(v));
}

export function perSecond(v: number | null | undefined): string {
  return v === null || v === undefined ? '' : t('{0}/s', num(v));
}

export function dateTime(epochMs: number | null | undefined): string {
  if (epochMs === null || epochMs === undefined) return '';
  const d = new Date(epochMs);
  return Number.isNaN(d.getTime()) ? '' : d.toLocaleString();
}

export function percent(v: number): string {
  return `${Number((v * 100).toPrecision(3))}%`;
}
