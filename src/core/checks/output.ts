/**
 * `output` check: the raw model output on every evaluation row — its shape, its value range, NaN/Inf, and rows
 * summing to one. With a model (`ctx.modelFile`) the output is the model's own tensor (before any post-processing);
 * with only a predictions file it is the `score_<class>` columns, shape [rows, classes].
 *
 * Without any setting the check still requires finite values: `finite` defaults to true (a NaN or infinite score is
 * never acceptable to ship); `finite: false` turns that off.
 */
import { t } from '../l10n';
import { fmt } from './format';
import { CheckInputError, guardCheck, optionalBoolean, optionalNumber, specObject } from './harness';
import { loadModel, type RawOutput } from './model';
import type { CheckResult, GateContext } from './types';

export interface OutputSpec {
  /** Expected shape; `null` matches any size (the batch dimension), e.g. `[null, 3]`. */
  shape?: Array<number | null>;
  /** Every value within [min, max]. */
  range?: [number, number];
  /** Each row (the last dimension) sums to 1 within `tolerance`. */
  sum_to_one?: boolean;
  /** Tolerance of `sum_to_one`, default 1e-4. */
  tolerance?: number;
  /** No NaN or ±Inf. Default true. */
  finite?: boolean;
}

/** Rows listed in the evidence. */
const MAX_EVIDENCE_ROWS = 10;
/** Values shown per offending row. */
const MAX_VALUES = 10;

/** The `output` check. */
export async function outputCheck(ctx: GateContext, spec: OutputSpec, id: string): Promise<CheckResult> {
  const raw = (spec ?? {}) as unknown as Record<string, unknown>;
  const threshold: Record<string, unknown> = { ...raw };
  if (threshold.finite === undefined) threshold.finite = true;
  if (threshold.sum_to_one === true && threshold.tolerance === undefined) threshold.tolerance = 1e-4;
  const parts: string[] = [];
  if (Array.isArray(raw.shape)) parts.push(t('shape {0}', `[${raw.shape.map(d => (d === null ? 'N' : String(d))).join(', ')}]`));
  if (Array.isArray(raw.range)) parts.push(t('values in [{0}, {1}]', String(raw.range[0]), String(raw.range[1])));
  if (raw.sum_to_one === true) parts.push(t('rows sum to 1'));
  if (raw.finite !== false) parts.push(t('no NaN/Inf'));
  const title = parts.length > 0 ? t('output: {0}', parts.join(', ')) : t('output: reported only');
  return guardCheck('output', id, title, threshold, async () => {
    const s = specObject('output', spec ?? {});
    const shape = s.shape;
    if (shape !== undefined && (!Array.isArray(shape) || !shape.every(d => d === null || (Number.isInteger(d) && (d as number) >= 0)))) {
      throw new CheckInputError(t('`output.shape` must be a list of sizes or null, e.g. [null, 3].'));
    }
    const range = s.range;
    if (range !== undefined && (!Array.isArray(range) || range.length !== 2 || !range.every(v => typeof v === 'number' && !Number.isNaN(v)) || (range[0] as number) > (range[1] as number))) {
      throw new CheckInputError(t('`output.range` must be [min, max] with min ≤ max, e.g. [0, 1].'));
    }
    const tolerance = optionalNumber(s, 'tolerance', 'output') ?? 1e-4;
    if (!(tolerance > 0)) throw new CheckInputError(t('`output.tolerance` must be > 0.'));
    const sumToOne = optionalBoolean(s, 'sum_to_one', 'output') ?? false;
    const finite = optionalBoolean(s, 'finite', 'output') ?? true;

    let out: RawOutput;
    let source: 'model' | 'predictions';
    if (ctx.modelFile) {
      const model = await loadModel(ctx.modelFile);
      out = await model.rawOutputFor(ctx.eval, ctx.features);
      source = 'model';
    } else if (ctx.outputs && ctx.outputs.classes.length > 0 && ctx.outputs.scores.length === ctx.outputs.yPred.length * ctx.outputs.classes.length) {
      out = { data: ctx.outputs.scores, dims: [ctx.outputs.yPred.length, ctx.outputs.classes.length] };
      source = 'predictions';
    } else {
      throw new CheckInputError(t('the output check needs the model (an ONNX file) or class scores (`score_<class>` columns in the predictions file).'));
    }
    return evaluateOutput(out, { shape: shape as Array<number | null> | undefined, range: range as [number, number] | undefined, sumToOne, tolerance, finite }, source);
  });
}

/**
 * Model outputs are float32: a probability summed from float32 parts lands on 1.0000001 (one float32 step above 1)
 * when every tree agrees. Two float32 steps at a bound are rounding, not a value out of range.
 */
export function float32Slack(bound: number): number {
  return Math.max(Math.abs(bound), 2 ** -126) * 2 ** -22;
}

/** The verdict on a raw output (exported for tests and for callers holding an output already). */
export function evaluateOutput(
  out: RawOutput,
  opts: { shape?: Array<number | null>; range?: [number, number]; sumToOne: boolean; tolerance: number; finite: boolean },
  source: 'model' | 'predictions',
): { status: 'pass' | 'fail'; measured: Record<string, unknown>; evidence: unknown; message: string } {
  const { data, dims } = out;
  const rows = dims[0] ?? 0;
  const perRow = rows > 0 ? data.length / rows : 0;
  const lastDim = dims.length > 1 ? dims[dims.length - 1] : 1;
  let nan = 0, inf = 0, outOfRange = 0, notSumming = 0;
  let minV = Infinity, maxV = -Infinity, maxDev = 0;
  const offending: Array<{ row: number; values: number[]; problems: string[] }> = [];
  const badRows = new Set<number>();
  for (let i = 0; i < rows; i++) {
    const problems: string[] = [];
    let rowNan = 0, rowInf = 0, rowOut = 0;
    for (let k = 0; k < perRow; k++) {
      const v = data[i * perRow + k];
      if (Number.isNaN(v)) { rowNan++; continue; }
      if (!Number.isFinite(v)) rowInf++;
      else {
        if (v < minV) minV = v;
        if (v > maxV) maxV = v;
      }
      if (opts.range && (v < opts.range[0] - float32Slack(opts.range[0]) || v > opts.range[1] + float32Slack(opts.range[1]))) rowOut++;
    }
    nan += rowNan; inf += rowInf; outOfRange += rowOut;
    if (opts.finite && rowNan > 0) problems.push(t('{0} NaN', rowNan));
    if (opts.finite && rowInf > 0) problems.push(t('{0} infinite', rowInf));
    if (rowOut > 0) problems.push(t('{0} out of range', rowOut));
    if (opts.sumToOne) {
      // Sum over the last dimension: one group per "row" of probabilities.
      for (let g = 0; g < perRow; g += lastDim) {
        let sum = 0;
        for (let k = 0; k < lastDim; k++) sum += data[i * perRow + g + k];
        const dev = Math.abs(sum - 1);
        if (!(dev <= opts.tolerance)) {
          notSumming++;
          problems.push(t('sums to {0}', fmt(sum)));
        }
        if (Number.isFinite(dev) && dev > maxDev) maxDev = dev;
      }
    }
    if (problems.length > 0) {
      badRows.add(i);
      if (offending.length < MAX_EVIDENCE_ROWS) {
        offending.push({ row: i, values: Array.from(data.subarray(i * perRow, i * perRow + Math.min(perRow, MAX_VALUES))), problems });
      }
    }
  }
  const shapeOk = !opts.shape || (opts.shape.length === dims.length && opts.shape.every((d, j) => d === null || d === dims[j]));
  const measured: Record<string, unknown> = { output_shape: dims, rows, nan_count: nan, inf_count: inf };
  if (opts.range) measured.out_of_range_count = outOfRange;
  if (opts.sumToOne) {
    measured.rows_not_summing_to_one = notSumming;
    measured.max_sum_deviation = maxDev;
  }
  measured.min_value = minV === Infinity ? null : minV;
  measured.max_value = maxV === -Infinity ? null : maxV;
  const failures: string[] = [];
  if (!shapeOk) failures.push(t('the output has shape [{0}], not [{1}]', dims.join(', '), opts.shape!.map(d => (d === null ? 'N' : String(d))).join(', ')));
  if (opts.finite && nan + inf > 0) failures.push(t('{0} NaN and {1} infinite values', nan, inf));
  // min and max with all their digits: rounded, 1.001 would read as "max 1" beside "outside [0, 1]"
  if (opts.range && outOfRange > 0) failures.push(t('{0} values outside [{1}, {2}] (min {3}, max {4})', outOfRange, fmt(opts.range[0]), fmt(opts.range[1]), String(minV), String(maxV)));
  if (opts.sumToOne && notSumming > 0) failures.push(t('{0} rows do not sum to 1 (largest deviation {1})', notSumming, fmt(maxDev)));
  const evidence = { source, offending_rows: badRows.size, first_rows: offending };
  if (failures.length === 0) {
    const message = source === 'model'
      ? t('the model\'s output on {0} rows has shape [{1}] and passes every output check.', rows, dims.join(', '))
      : t('the predictions\' scores on {0} rows (shape [{1}]) pass every output check.', rows, dims.join(', '));
    return { status: 'pass', measured, evidence, message };
  }
  return {
    status: 'fail', measured, evidence,
    message: t('the output on {0} rows has {1}: check the model\'s last layer (softmax, clipping) and its inputs; the first offending rows are in the evidence.', rows, failures.join('; ')),
  };
}
