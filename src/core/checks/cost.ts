/**
 * Cost budgets: `latency` (measured by running the model on CPU with random float32 inputs, as the comparison's
 * cost figures: src/core/compare/latency.ts) and `size` (the ONNX file's size; 1 MB = 1,048,576 bytes, as the
 * rest of EDD reports memory).
 *
 * Latency at `batch: 1` (the default) is `measureLatency`'s: p50/p95 of 200 single-row runs after 20 warm-up runs,
 * throughput at batch 256. At a larger `batch` every timed run feeds that many rows, and the throughput is rows per
 * second at that batch. Timings vary between machines and runs: set budgets with headroom.
 */
import * as fs from 'fs';
import * as path from 'path';
import { t } from '../l10n';
import { measureLatency, ModelRunError } from '../compare/latency';
import { fmt } from './format';
import { CheckInputError, guardCheck, optionalInteger, optionalNumber, specObject } from './harness';
import { loadModel, ModelError } from './model';
import type { CheckResult, GateContext } from './types';

export interface LatencySpec {
  /** Rows per run, default 1. */
  batch?: number;
  p50_ms?: number;
  p95_ms?: number;
  /** Timed runs, default 200. */
  runs?: number;
}

export interface SizeSpec {
  max_mb: number;
}

const MB = 1048576;

function percentile(sorted: number[], q: number): number {
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i];
}

function needModel(ctx: GateContext, kind: string): string {
  if (!ctx.modelFile) throw new CheckInputError(t('the {0} check needs the candidate\'s ONNX model (it cannot be measured from a predictions file).', kind));
  return ctx.modelFile;
}

async function timedBatches(file: string, width: number, batch: number, runs: number): Promise<{ p50: number; p95: number; throughput: number }> {
  const model = await loadModel(file);
  const input = new Float32Array(batch * width);
  for (let i = 0; i < input.length; i++) input[i] = Math.random();
  for (let i = 0; i < Math.min(20, runs); i++) await model.run(input, batch);
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    await model.run(input, batch);
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  const total = times.reduce((a, b) => a + b, 0);
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 0.5), p95: percentile(times, 0.95), throughput: (batch * runs) / (total / 1000) };
}

/** The `latency` check. */
export async function latencyCheck(ctx: GateContext, spec: LatencySpec, id: string): Promise<CheckResult> {
  const raw = (spec ?? {}) as unknown as Record<string, unknown>;
  const threshold: Record<string, unknown> = {};
  for (const k of ['batch', 'p50_ms', 'p95_ms']) if (raw[k] !== undefined) threshold[k] = raw[k];
  const budgets = [raw.p50_ms !== undefined ? `p50 ≤ ${raw.p50_ms} ms` : '', raw.p95_ms !== undefined ? `p95 ≤ ${raw.p95_ms} ms` : ''].filter(Boolean).join(', ');
  const title = t('latency (batch {0}): {1}', String(raw.batch ?? 1), budgets || '?');
  return guardCheck('latency', id, title, threshold, async () => {
    const s = specObject('latency', spec ?? {});
    const batch = optionalInteger(s, 'batch', 'latency', 1) ?? 1;
    const p50Max = optionalNumber(s, 'p50_ms', 'latency');
    const p95Max = optionalNumber(s, 'p95_ms', 'latency');
    const runs = optionalInteger(s, 'runs', 'latency', 1) ?? 200;
    if (p50Max === undefined && p95Max === undefined) throw new CheckInputError(t('the latency check needs a budget: `p50_ms` or `p95_ms`.'));
    const file = needModel(ctx, 'latency');
    let p50: number, p95: number, throughput: number, throughputBatch: number;
    try {
      if (batch === 1) {
        const l = await measureLatency(file, { runs });
        ({ p50Ms: p50, p95Ms: p95, throughputPerS: throughput, throughputBatch } = l);
      } else {
        const model = await loadModel(file);
        model.check(ctx.features);
        ({ p50, p95, throughput } = await timedBatches(file, ctx.features.length, batch, runs));
        throughputBatch = batch;
      }
    } catch (e) {
      if (e instanceof ModelRunError) throw new ModelError(file, e.message, 'runtime');
      throw e;
    }
    const measured = { latency_p50_ms: p50, latency_p95_ms: p95, throughput_per_s: throughput, batch, runs };
    const evidence = { throughput_batch: throughputBatch, execution_provider: 'cpu' };
    const over: string[] = [];
    if (p50Max !== undefined && p50 > p50Max) over.push(t('p50 {0} ms > {1} ms', fmt(p50), fmt(p50Max)));
    if (p95Max !== undefined && p95 > p95Max) over.push(t('p95 {0} ms > {1} ms', fmt(p95), fmt(p95Max)));
    if (over.length > 0) {
      return { status: 'fail', measured, evidence, message: t('latency over budget at batch {0}: {1}; make the model smaller or raise the budget.', batch, over.join(', ')) };
    }
    return { status: 'pass', measured, evidence, message: t('latency at batch {0}: p50 {1} ms, p95 {2} ms, within budget ({3} rows/s).', batch, fmt(p50), fmt(p95), fmt(throughput)) };
  });
}

/** The `size` check. */
export async function sizeCheck(ctx: GateContext, spec: SizeSpec, id: string): Promise<CheckResult> {
  const raw = (spec ?? {}) as unknown as Record<string, unknown>;
  const threshold: Record<string, unknown> = { max_mb: raw.max_mb };
  const title = t('model size ≤ {0} MB', String(raw.max_mb ?? '?'));
  return guardCheck('size', id, title, threshold, async () => {
    const s = specObject('size', spec);
    const maxMb = optionalNumber(s, 'max_mb', 'size');
    if (maxMb === undefined || !(maxMb > 0)) throw new CheckInputError(t('`size.max_mb` must be a number > 0.'));
    const file = needModel(ctx, 'size');
    let bytes: number;
    try {
      bytes = (await fs.promises.stat(file)).size;
    } catch {
      throw new ModelError(file, t('{0}: the model file does not exist.', file), 'not_found');
    }
    const mb = bytes / MB;
    const measured = { model_size_mb: mb, model_size_bytes: bytes };
    const name = path.basename(file);
    if (mb > maxMb) {
      return { status: 'fail', measured, message: t('{0} is {1} MB, over the budget of {2} MB.', name, fmt(mb), fmt(maxMb)) };
    }
    return { status: 'pass', measured, message: t('{0} is {1} MB, within the budget of {2} MB.', name, fmt(mb), fmt(maxMb)) };
  });
}
