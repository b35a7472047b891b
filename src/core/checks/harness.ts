import { t } from '../l10n';
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

/**
 * A check's entry in the policy as a mapping of options; a {@link CheckInputError} for anything else (`- metric:` with
 * nothing after it, a scalar, a list), so the check reports `error` instead of crashing.
 */
export function specObject(kind: string, spec: unknown): Record<string, unknown> {
  if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) {
    throw new CheckInputError(t('the `{0}` check needs a mapping of options, got {1}; write it as `{0}: { … }`.', kind, JSON.stringify(spec) ?? String(spec)));
  }
  return spec as Record<string, unknown>;
}

/** The policy entry as the report's `threshold`: a copy of the mapping (anything else wrapped as `{ spec }`). */
export function thresholdOf(spec: unknown): Record<string, unknown> {
  return spec !== null && typeof spec === 'object' && !Array.isArray(spec) ? { ...(spec as Record<string, unknown>) } : { spec };
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
