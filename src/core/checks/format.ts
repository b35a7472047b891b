/**
 * How the checks write numbers and lists of names into their messages, so every check reads the same:
 * `fmt(0.123456)` → `0.1235`, `fmt(0.0000123456)` → `1.235e-5`; `nameList(['a', 'b'])` → `"a", "b"`.
 */
import { t } from '../l10n';

/**
 * A number for messages: four significant digits (as the gate report shows them), in exponent form below 1e-4 and
 * from 1e6 on (`1.235e-5`, `2.5e+6`), without trailing zeros; `NaN` and `Infinity` as such.
 */
export function fmt(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const rounded = Number(v.toPrecision(4));
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-4 || a >= 1e6) ? rounded.toExponential() : String(rounded);
}

/**
 * Names for messages, each in double quotes (so a leading space or an empty name shows): `"a", "b", "c"`; past `max`
 * names, `"a", "b", … (12 more)`; `(none)` for an empty list.
 */
export function nameList(names: readonly string[], max = 30): string {
  if (names.length === 0) return t('(none)');
  const shown = names.slice(0, max).map(n => `"${n}"`).join(', ');
  return names.length > max ? t('{0}, … ({1} more)', shown, names.length - max) : shown;
}
