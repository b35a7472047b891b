/**
 * `perturbation` check: how the model's output moves when its inputs move.
 *
 * - Noise: every sampled row gets Gaussian noise N(0, (noise·σⱼ)²) on each feature j, σⱼ being the feature's
 *   standard deviation on the evaluation rows (population σ, numpy's default). `mean_change` is the mean absolute
 *   change of the output probabilities over all sampled rows and outputs, `max_change` the largest; the check fails
 *   when `mean_change` > `max_mean_change`.
 * - Monotonic features: each sampled row is moved by +`step`·σⱼ (default 0.5σ) on feature j alone; for
 *   `increasing`, the score of `class` must not go down by more than `tolerance` (default 1e-5), for `decreasing`
 *   not up. `violation_rate` is the share of sampled rows where it moves the wrong way; the check fails when it
 *   exceeds `max_violation_rate` (default 0). A feature that never moves the score at all (the model ignores it)
 *   reports `warn`: the constraint holds only trivially.
 *
 * `class` defaults to the FIRST class of the model's output (for a single-probability binary model, the positive
 * class). Rows with a missing feature value are not sampled. Deterministic for a given `seed` (default 0).
 */
import { t } from '../l10n';
import { mulberry32, type Random } from '../stats';
import { featureMatrix } from './dataset';
import { fmt, nameList } from './format';
import { CheckInputError, guardCheck, optionalInteger, optionalNumber, optionalObject, specObject } from './harness';
import type { CheckResult, GateContext } from './types';

export interface PerturbationSpec {
  /** Noise std as a fraction of each feature's std on the evaluation data. */
  noise?: number;
  /** Largest allowed mean absolute change of the output probabilities. */
  max_mean_change?: number;
  /** Rows sampled (default min(rows, 1000)). */
  samples?: number;
  seed?: number;
  monotonic?: Record<string, 'increasing' | 'decreasing'>;
  /** Class whose score the monotonic constraints apply to; default the first class. */
  class?: string;
  /** Monotonic step in standard deviations (default 0.5). */
  step?: number;
  /** Score changes within ± tolerance count as "no change" (default 1e-5). */
  tolerance?: number;
  /** Allowed share of rows violating a monotonic constraint (default 0). */
  max_violation_rate?: number;
}

const DEFAULT_SAMPLES = 1000;
const MAX_EVIDENCE = 10;

function gaussian(random: Random): number {
  const u = 1 - random(); // (0, 1]
  const v = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** `k` distinct indices of `pool`, seeded, in ascending order. */
function sample(pool: number[], k: number, random: Random): number[] {
  const a = pool.slice();
  for (let i = 0; i < k; i++) {
    const j = i + Math.floor(random() * (a.length - i));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a.slice(0, k).sort((x, y) => x - y);
}

/** The `perturbation` check. */
export async function perturbationCheck(ctx: GateContext, spec: PerturbationSpec, id: string): Promise<CheckResult> {
  const raw = (spec ?? {}) as unknown as Record<string, unknown>;
  const threshold: Record<string, unknown> = {};
  for (const k of ['noise', 'max_mean_change', 'monotonic', 'class', 'max_violation_rate']) if (raw[k] !== undefined) threshold[k] = raw[k];
  const parts: string[] = [];
  if (raw.noise !== undefined) parts.push(t('noise {0}σ moves the output ≤ {1} on average', String(raw.noise), String(raw.max_mean_change ?? '?')));
  if (raw.monotonic && typeof raw.monotonic === 'object') parts.push(t('monotonic in {0}', nameList(Object.keys(raw.monotonic))));
  const title = t('perturbation: {0}', parts.join('; ') || '?');
  return guardCheck('perturbation', id, title, threshold, async () => {
    const s = specObject('perturbation', spec);
    const noise = optionalNumber(s, 'noise', 'perturbation');
    const maxMean = optionalNumber(s, 'max_mean_change', 'perturbation');
    const step = optionalNumber(s, 'step', 'perturbation') ?? 0.5;
    const tolerance = optionalNumber(s, 'tolerance', 'perturbation') ?? 1e-5;
    const maxRate = optionalNumber(s, 'max_violation_rate', 'perturbation') ?? 0;
    const seed = optionalInteger(s, 'seed', 'perturbation') ?? 0;
    if (noise !== undefined && !(noise > 0)) throw new CheckInputError(t('`perturbation.noise` must be > 0 (a fraction of each feature\'s standard deviation, e.g. 0.05).'));
    if (noise !== undefined && maxMean === undefined) throw new CheckInputError(t('`perturbation.noise` needs `max_mean_change` (the largest allowed mean change of the output).'));
    if (maxMean !== undefined && noise === undefined) throw new CheckInputError(t('`perturbation.max_mean_change` needs `noise`.'));
    if (!(step > 0)) throw new CheckInputError(t('`perturbation.step` must be > 0.'));
    if (!(tolerance >= 0)) throw new CheckInputError(t('`perturbation.tolerance` must be ≥ 0.'));
    const monotonic = Object.entries(optionalObject(s, 'monotonic', 'perturbation', '{ <feature>: increasing }') ?? {});
    if (noise === undefined && monotonic.length === 0) throw new CheckInputError(t('the perturbation check needs `noise` (with `max_mean_change`) or `monotonic`.'));
    for (const [f, dir] of monotonic) {
      if (dir !== 'increasing' && dir !== 'decreasing') throw new CheckInputError(t('`perturbation.monotonic.{0}` must be `increasing` or `decreasing`, got {1}.', f, JSON.stringify(dir) ?? String(dir)));
      if (!ctx.features.includes(f)) throw new CheckInputError(t('monotonic feature `{0}` is not one of the model\'s features ({1}).', f, nameList(ctx.features)));
    }
    if (!ctx.predict) throw new CheckInputError(t('the perturbation check runs the model: give an ONNX model (it cannot run on a predictions file).'));
    const predict = ctx.predict;

    const d = ctx.features.length;
    const X = featureMatrix(ctx.eval, ctx.features);
    const valid: number[] = [];
    for (let i = 0; i < ctx.eval.rows; i++) {
      let ok = true;
      for (let j = 0; j < d && ok; j++) ok = Number.isFinite(X[i * d + j]);
      if (ok) valid.push(i);
    }
    if (valid.length === 0) throw new CheckInputError(t('no evaluation row has all {0} features present: nothing to perturb.', d));
    const samplesSpec = optionalInteger(s, 'samples', 'perturbation', 1);
    const n = Math.min(valid.length, samplesSpec ?? DEFAULT_SAMPLES);
    const random = mulberry32(seed);
    const chosen = n === valid.length ? valid : sample(valid, n, random);

    // Feature std on the evaluation rows that have every feature.
    const std = new Float64Array(d);
    for (let j = 0; j < d; j++) {
      let sum = 0, ss = 0;
      for (const i of valid) sum += X[i * d + j];
      const mean = sum / valid.length;
      for (const i of valid) ss += (X[i * d + j] - mean) ** 2;
      std[j] = Math.sqrt(ss / valid.length);
    }
    const base = new Float32Array(n * d);
    chosen.forEach((row, r) => base.set(X.subarray(row * d, (row + 1) * d), r * d));
    const out0 = await predict(base, n);
    const k = out0.length / n;
    if (!Number.isInteger(k) || k < 1) throw new CheckInputError(t('the model returned {0} values for {1} rows.', out0.length, n));

    const measured: Record<string, unknown> = {};
    const evidence: Record<string, unknown> = { rows_sampled: n, seed };
    const failures: string[] = [];
    const warnings: string[] = [];
    let nonFinite = 0;

    if (noise !== undefined && maxMean !== undefined) {
      const noisy = new Float32Array(base);
      for (let r = 0; r < n; r++) for (let j = 0; j < d; j++) noisy[r * d + j] += noise * std[j] * gaussian(random);
      const out1 = await predict(noisy, n);
      let sum = 0, count = 0, max = 0, maxRow = -1;
      for (let r = 0; r < n; r++) {
        let rowOk = true;
        for (let c = 0; c < k; c++) if (!Number.isFinite(out0[r * k + c]) || !Number.isFinite(out1[r * k + c])) rowOk = false;
        if (!rowOk) { nonFinite++; continue; }
        for (let c = 0; c < k; c++) {
          const delta = Math.abs(out1[r * k + c] - out0[r * k + c]);
          sum += delta;
          count++;
          if (delta > max) { max = delta; maxRow = chosen[r]; }
        }
      }
      if (count === 0) throw new CheckInputError(t('the model\'s output is NaN or infinite on every sampled row: run the output check.'));
      const mean = sum / count;
      measured.mean_change = mean;
      measured.max_change = max;
      evidence.noise_std = Object.fromEntries(ctx.features.map((f, j) => [f, noise * std[j]]));
      if (maxRow >= 0) evidence.max_change_row = maxRow;
      if (mean > maxMean) failures.push(t('noise of {0}σ changes the output by {1} on average (max {2}), more than {3}', fmt(noise), fmt(mean), fmt(max), fmt(maxMean)));
    }

    if (monotonic.length > 0) {
      const classes = ctx.outputs?.classes;
      let col = 0;
      let sign = 1;
      let className: string = classes?.[0] ?? t('output 0');
      if (s.class !== undefined) {
        if (typeof s.class !== 'string') throw new CheckInputError(t('`perturbation.class` must be a class name.'));
        const idx = classes ? classes.indexOf(s.class) : -1;
        if (idx < 0) throw new CheckInputError(classes ? t('`perturbation.class` {0} is not one of the model\'s classes ({1}).', s.class, nameList(classes)) : t('`perturbation.class` needs the model\'s class names, which are not known.'));
        className = s.class;
        if (k === 1 && classes!.length === 2) { col = 0; sign = idx === 1 ? 1 : -1; } else col = idx;
      } else if (k === 1 && classes?.length === 2) {
        className = classes[1];
      }
      if (col >= k) throw new CheckInputError(t('the model outputs {0} values per row; class {1} has none.', k, className));
      const scoreOf = (out: Float32Array, r: number) => sign * out[r * k + col];
      const perFeature: Record<string, unknown> = {};
      const offenders: Record<string, unknown[]> = {};
      evidence.class = className;
      for (const [feature, dir] of monotonic as Array<[string, 'increasing' | 'decreasing']>) {
        const j = ctx.features.indexOf(feature);
        const delta = std[j] > 0 ? step * std[j] : step;
        const up = new Float32Array(base);
        for (let r = 0; r < n; r++) up[r * d + j] += delta;
        const outUp = await predict(up, n);
        let violations = 0, unchanged = 0, counted = 0;
        const rows: unknown[] = [];
        for (let r = 0; r < n; r++) {
          const before = scoreOf(out0, r);
          const after = scoreOf(outUp, r);
          if (!Number.isFinite(before) || !Number.isFinite(after)) continue;
          counted++;
          const change = after - before;
          if (Math.abs(change) <= tolerance) unchanged++;
          const wrong = dir === 'increasing' ? change < -tolerance : change > tolerance;
          if (wrong) {
            violations++;
            if (rows.length < MAX_EVIDENCE) rows.push({ row: chosen[r], [feature]: base[r * d + j], step: delta, score_before: before, score_after: after });
          }
        }
        if (counted === 0) throw new CheckInputError(t('the model\'s output is NaN or infinite on every sampled row: run the output check.'));
        const rate = violations / counted;
        perFeature[feature] = { direction: dir, violation_rate: rate, violations, unchanged_rate: unchanged / counted, rows: counted };
        if (rows.length > 0) offenders[feature] = rows;
        if (rate > maxRate) {
          failures.push(t('`{0}` should be {1} for {2}, but raising it by {3} moves the score the wrong way on {4} of {5} rows', feature, dir, className, fmt(delta), violations, counted));
        } else if (unchanged === counted) {
          warnings.push(t('the score of {0} does not change when `{1}` rises: the model ignores it, so the {2} constraint holds only trivially', className, feature, dir));
        }
      }
      measured.monotonic = perFeature;
      if (Object.keys(offenders).length > 0) evidence.violations = offenders;
    }
    if (nonFinite > 0) evidence.non_finite_rows = nonFinite;

    if (failures.length > 0) {
      return { status: 'fail', measured, evidence, message: t('{0}; the offending rows are in the evidence.', failures.join('; ')) };
    }
    if (warnings.length > 0) return { status: 'warn', measured, evidence, message: t('{0}.', warnings.join('; ')) };
    const summary: string[] = [];
    if (measured.mean_change !== undefined) summary.push(t('noise of {0}σ changes the output by {1} on average', fmt(noise!), fmt(measured.mean_change as number)));
    if (monotonic.length > 0) summary.push(t('{0} monotonic as required', nameList(monotonic.map(([f]) => f))));
    return { status: 'pass', measured, evidence, message: t('{0} ({1} rows).', summary.join('; '), n) };
  });
}
