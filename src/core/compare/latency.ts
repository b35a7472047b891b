import * as fs from 'fs';
import { t } from '../l10n';

/** Inference cost of an ONNX model, measured by running it (onnxruntime-node, CPU). */
export interface Latency {
  p50Ms: number;
  p95Ms: number;
  /** Examples per second at batch `throughputBatch`. */
  throughputPerS: number;
  runs: number;
  throughputBatch: number;
}

export interface LatencyOptions {
  /** Timed single-example runs (after `warmup`). Default 200. */
  runs?: number;
  warmup?: number;
  /** Batch for the throughput figure. Default 256. */
  throughputBatch?: number;
  throughputRuns?: number;
}

type Ort = typeof import('onnxruntime-node');
let ort: Ort | undefined;

/** onnxruntime-node is loaded on first use: its native library is large and most sessions never run a model. */
export function loadOnnxRuntime(): Ort {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  ort ??= require('onnxruntime-node') as Ort;
  return ort;
}

/** A model that cannot be run, with a message that says why in the user's terms. */
export class ModelRunError extends Error {
  constructor(readonly file: string, message: string) {
    super(`${file}: ${message}`);
    this.name = 'ModelRunError';
  }
}

/** Translate onnxruntime's own messages into what the user can act on. */
export function explainOrtError(file: string, e: unknown): ModelRunError {
  const m = e instanceof Error ? e.message : String(e);
  if (/Protobuf parsing failed|Load model .* failed|INVALID_PROTOBUF/i.test(m)) {
    return new ModelRunError(file, t('this is not a valid ONNX model (it could not be parsed). Re-export the model, or check that the artifact is the .onnx file.'));
  }
  const dims = /Got invalid dimensions for input: (\S+).*index: (\d+) Got: (\d+) Expected: (\d+)/s.exec(m);
  if (dims) {
    return new ModelRunError(file, t('input `{0}` expects {1} values in dimension {2}, but was given {3}.', dims[1], dims[4], dims[2], dims[3]));
  }
  return new ModelRunError(file, t('onnxruntime could not run the model: {0}', m.split('\n')[0]));
}

function percentile(sorted: number[], q: number): number {
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i];
}

/**
 * Measure p50/p95 latency at batch 1 and throughput at a larger batch, feeding random float32 inputs shaped after
 * the model's input metadata (the symbolic batch dimension becomes the batch size; other symbolic dims are refused).
 */
export async function measureLatency(file: string, options: LatencyOptions = {}): Promise<Latency> {
  if (!fs.existsSync(file)) throw new ModelRunError(file, t('the model file does not exist.'));
  const rt = loadOnnxRuntime();
  let session: import('onnxruntime-node').InferenceSession;
  try {
    session = await rt.InferenceSession.create(file, { executionProviders: ['cpu'], graphOptimizationLevel: 'all' });
  } catch (e) {
    throw explainOrtError(file, e);
  }
  try {
    const feeds = (batch: number): Record<string, import('onnxruntime-node').Tensor> => {
      const out: Record<string, import('onnxruntime-node').Tensor> = {};
      for (const name of session.inputNames) {
        const meta = (session as unknown as { inputMetadata?: Record<string, { type?: string; shape?: Array<number | string> }> | Array<{ name: string; type?: string; shape?: Array<number | string> }> }).inputMetadata;
        const info = Array.isArray(meta) ? meta.find(m => m.name === name) : meta?.[name];
        const shape = (info?.shape ?? [batch]).map((d, i) => {
          if (typeof d === 'number' && d > 0) return d;
          if (i === 0) return batch;
          throw new ModelRunError(file, t('input `{0}` has a symbolic dimension {1} besides the batch: EDD cannot choose its size.', name, i));
        });
        if (info?.type && info.type !== 'float32') throw new ModelRunError(file, t('input `{0}` is {1}; latency is measured for float32 inputs only.', name, info.type));
        const size = shape.reduce((a, b) => a * b, 1);
        const data = new Float32Array(size);
        for (let i = 0; i < size; i++) data[i] = Math.random();
        out[name] = new rt.Tensor('float32', data, shape);
      }
      return out;
    };
    const runs = options.runs ?? 200;
    const one = feeds(1);
    try {
      for (let i = 0; i < (options.warmup ?? 20); i++) await session.run(one);
    } catch (e) {
      throw e instanceof ModelRunError ? e : explainOrtError(file, e);
    }
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t0 = process.hrtime.bigint();
      await session.run(one);
      times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    times.sort((a, b) => a - b);
    const batch = options.throughputBatch ?? 256;
    const big = feeds(batch);
    await session.run(big);
    const tRuns = options.throughputRuns ?? 20;
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < tRuns; i++) await session.run(big);
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    return { p50Ms: percentile(times, 0.5), p95Ms: percentile(times, 0.95), throughputPerS: (batch * tRuns) / seconds, runs, throughputBatch: batch };
  } finally {
    await session.release?.();
  }
}
