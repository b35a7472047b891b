import { t } from '../l10n';
import { nameList } from './format';
import type { CheckResult, CheckStatus } from './types';

/**
 * A check cannot run on these inputs (a missing column, a bad setting, a model that does not fit): the check reports
 * status `error` with this message, which says what to fix. `DatasetError` and `ModelError` are kinds of it.
 */
export class CheckInputError extends Error {
  constructor(message: string, readonly evidence?: unknown) {
    super(message);
    this.name = 'CheckInputError';
  }
}

/** What a check body returns; {@link guardCheck} adds id, kind, threshold and the duration. */
export interface CheckOutcome {
  status: CheckStatus;
  measured: Record<string, unknown>;
  evidence?: unknown;
  message: string;
  /** Overrides the title given to {@link guardCheck} (e.g. once the default average is known). */
  title?: string;
}

/** A setting's value as messages show it: its JSON text (`"high"`, `[1,2]`); numbers as such (YAML's `.inf` is `Infinity`). */
function shown(v: unknown): string {
  return typeof v === 'number' ? String(v) : (JSON.stringify(v) ?? String(v));
}

function isMapping(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/**
 * A check's entry in the policy as a mapping of options; a {@link CheckInputError} for anything else (`- metric:` with
 * nothing after it, a scalar, a list), so the check reports `error` instead of crashing.
 */
export function specObject(kind: string, spec: unknown): Record<string, unknown> {
  if (!isMapping(spec)) {
    throw new CheckInputError(t('the `{0}` check needs a mapping of options, got {1}; write it as `{0}: { … }`.', kind, shown(spec)));
  }
  return spec;
}

// ---------------------------------------------------------------------------------------------------------------
// The option readers every check uses. `where` is the path of the mapping that holds the option, as the messages
// name it: `latency` for `latency.p95_ms`, `drift.psi` for `drift.psi.max`. An absent or null option is `undefined`;
// a value of the wrong type is a CheckInputError that names the option, the value and what it must be.

/** Throws a {@link CheckInputError} for the first key of `spec` that is not one of `known` (a typo, a stray option). */
export function rejectUnknownOptions(kind: string, spec: Record<string, unknown>, known: readonly string[]): void {
  for (const key of Object.keys(spec)) {
    if (known.includes(key)) continue;
    throw new CheckInputError(known.length === 1
      ? t('{0}: unknown option "{1}"; the only option is {2}.', kind, key, nameList(known))
      : t('{0}: unknown option "{1}"; the options are {2}.', kind, key, nameList(known)));
  }
}

/** `spec[key]` as an optional finite number (`spec` itself may be absent: an unset `psi:` has no `max`). */
export function optionalNumber(spec: Record<string, unknown> | undefined, key: string, where: string): number | undefined {
  const v = spec?.[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new CheckInputError(t('`{0}.{1}` must be a number, got {2}.', where, key, shown(v)));
  return v;
}

/**
 * `spec[key]` as an optional integer from `min` to `max` (both inclusive; a finite `max` needs a finite `min`), e.g.
 * `optionalInteger(s, 'runs', 'latency', 1)` for a positive count.
 */
export function optionalInteger(
  spec: Record<string, unknown> | undefined, key: string, where: string, min = -Infinity, max = Infinity,
): number | undefined {
  const v = optionalNumber(spec, key, where);
  if (v === undefined || (Number.isInteger(v) && v >= min && v <= max)) return v;
  throw new CheckInputError(Number.isFinite(max)
    ? t('`{0}.{1}` must be an integer from {2} to {3}, got {4}.', where, key, min, max, v)
    : min === 1
      ? t('`{0}.{1}` must be a positive integer, got {2}.', where, key, v)
      : Number.isFinite(min)
        ? t('`{0}.{1}` must be an integer ≥ {2}, got {3}.', where, key, min, v)
        : t('`{0}.{1}` must be an integer, got {2}.', where, key, v));
}

/** `spec[key]` as an optional `true` / `false`. */
export function optionalBoolean(spec: Record<string, unknown> | undefined, key: string, where: string): boolean | undefined {
  const v = spec?.[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw new CheckInputError(t('`{0}.{1}` must be true or false, got {2}.', where, key, shown(v)));
  return v;
}

/**
 * `spec[key]` as an optional mapping (`psi: { max: 0.2 }`); `example` is a value the message suggests instead of a
 * wrong one (`{ max: 0.2 }`).
 */
export function optionalObject(spec: Record<string, unknown>, key: string, where: string, example: string): Record<string, unknown> | undefined {
  const v = spec[key];
  if (v === undefined || v === null) return undefined;
  if (!isMapping(v)) throw new CheckInputError(t('`{0}.{1}` must be a mapping such as `{1}: {2}`, got {3}.', where, key, example, shown(v)));
  return v;
}

/** The policy entry as the report's `threshold`: a copy of the mapping (anything else wrapped as `{ spec }`). */
export function thresholdOf(spec: unknown): Record<string, unknown> {
  return isMapping(spec) ? { ...spec } : { spec };
}

/**
 * Run a check body, time it, and turn what it throws into status `error`: a {@link CheckInputError} keeps its message
 * (and evidence); anything else is reported as an internal error of the check. Never throws.
 */
export async function guardCheck(
  kind: string, id: string, title: string, threshold: Record<string, unknown>, body: () => Promise<CheckOutcome> | CheckOutcome,
): Promise<CheckResult> {
  const t0 = process.hrtime.bigint();
  const ms = () => Number(process.hrtime.bigint() - t0) / 1e6;
  try {
    const r = await body();
    return { id, kind, title: r.title ?? title, status: r.status, measured: r.measured, threshold, ...(r.evidence !== undefined ? { evidence: r.evidence } : {}), message: r.message, durationMs: ms() };
  } catch (e) {
    const known = e instanceof CheckInputError;
    const message = known ? e.message : t('internal error in the {0} check: {1}', kind, e instanceof Error ? e.message : String(e));
    const evidence = known ? e.evidence : undefined;
    return { id, kind, title, status: 'error', measured: {}, threshold, ...(evidence !== undefined ? { evidence } : {}), message, durationMs: ms() };
  }
}
