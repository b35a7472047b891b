/**
 * The candidate model as the gate runs it: an ONNX file executed by onnxruntime-node (CPU), with its input and output
 * checked against the policy BEFORE anything runs, so a wrong model fails with a sentence the user can act on
 * ("model.onnx expects 20 input features but the policy gives 4 (…)") rather than onnxruntime's own message.
 *
 * Also here: what the model checks share (the label column as strings).
 */
import * as fs from 'fs';
import * as path from 'path';
import { t } from '../l10n';
import { explainOrtError, loadOnnxRuntime } from '../compare/latency';
import { featureMatrix } from './dataset';
import { nameList } from './format';
import { CheckInputError } from './harness';
import type { Column, Dataset, ModelOutputs, Predict } from './types';

type OrtSession = import('onnxruntime-node').InferenceSession;
type OrtTensor = import('onnxruntime-node').Tensor;

/** A model that cannot be loaded or run, or does not fit the policy. `message` is one sentence for the user. */
export class ModelError extends CheckInputError {
  constructor(
    readonly file: string,
    message: string,
    /** `not_found`, `invalid` (not an ONNX model), `input` (inputs do not fit the features), `output`, `runtime`. */
    readonly code: 'not_found' | 'invalid' | 'input' | 'output' | 'runtime' = 'runtime',
  ) {
    super(message);
    this.name = 'ModelError';
  }
}

/** Input or output of the model as onnxruntime reports it. `shape` entries are sizes or symbolic names ('N'). */
export interface TensorInfo {
  name: string;
  /** `float32`, `int64`, … ; `null` for non-tensor values (sequences, maps such as skl2onnx's ZipMap). */
  type: string | null;
  shape: Array<number | string>;
}

/** The raw model output for a set of rows: row-major data and its dimensions (the first one is the row count). */
export interface RawOutput {
  data: Float32Array;
  dims: number[];
}

/** Rows per onnxruntime call: 100,000 rows × 20 features run as 25 calls of ~330 KB each. */
export const RUN_BATCH = 4096;

/** A loaded ONNX model. Obtain with {@link loadModel}; `release()` when done (or {@link releaseModels}). */
export interface LoadedModel {
  file: string;
  sizeBytes: number;
  inputs: TensorInfo[];
  outputs: TensorInfo[];
  /** The output the gate reads (the class probabilities): a float tensor, preferring a name with `prob`. */
  output: TensorInfo | null;
  /** The model's `metadata_props` (key → value). */
  metadata: Record<string, string>;
  /** Class names from the metadata (`classes` or `class_names`: a JSON array or a comma-separated list), or null. */
  classes: string[] | null;
  /** Feature names from the metadata (`feature_names` / `features`), or null. Informational: the policy decides. */
  featureNames: string[] | null;
  /**
   * Throws a {@link ModelError} unless the model has exactly one float32 input of shape [batch, n] with
   * n === features.length (a symbolic n is accepted) and a float tensor output of rank 1 or 2. Runs nothing.
   */
  check(features: readonly string[]): void;
  /** Runs `rows` rows (row-major float32, rows × width) in batches of {@link RUN_BATCH}; returns the read output. */
  run(matrix: Float32Array, rows: number): Promise<Float32Array>;
  /** As {@link run}, with the output's dimensions ([rows, …]). Checks the input width only, not the output. */
  runRaw(matrix: Float32Array, rows: number): Promise<RawOutput>;
  /** The raw output on the rows of `ds` (cached per data set and feature list). */
  rawOutputFor(ds: Dataset, features: readonly string[]): Promise<RawOutput>;
  /**
   * Class probabilities and predicted classes for the rows of `ds`. See {@link resolveClasses} for where the class
   * names come from; `label` (the label column) only serves the fallback naming.
   */
  outputsFor(ds: Dataset, features: readonly string[], classes?: readonly string[], label?: string): Promise<ModelOutputs>;
  /** The model as a {@link Predict} function, for checks that perturb inputs. */
  predictFn(): Predict;
  release(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------------------------
// Metadata: onnxruntime-node does not expose `metadata_props`, so read them from the protobuf directly. Only the
// top level of ModelProto is walked (field 14 = metadata_props, StringStringEntryProto key = 1, value = 2); the graph
// (field 7) is skipped by its length without being decoded.

function readVarint(buf: Uint8Array, pos: number): [number, number] {
  let result = 0;
  let mul = 1;
  for (let i = 0; i < 10; i++) {
    if (pos >= buf.length) throw new RangeError('truncated varint');
    const b = buf[pos++];
    result += (b & 0x7f) * mul;
    if ((b & 0x80) === 0) return [result, pos];
    mul *= 128;
  }
  throw new RangeError('varint too long');
}

/** Walks the fields of one protobuf message; calls `onBytes` for length-delimited fields. */
function walkMessage(buf: Uint8Array, start: number, end: number, onBytes: (field: number, from: number, to: number) => void): void {
  let pos = start;
  while (pos < end) {
    const [tag, p] = readVarint(buf, pos);
    pos = p;
    const field = Math.floor(tag / 8);
    const wire = tag % 8;
    if (wire === 0) pos = readVarint(buf, pos)[1];
    else if (wire === 1) pos += 8;
    else if (wire === 5) pos += 4;
    else if (wire === 2) {
      const [len, q] = readVarint(buf, pos);
      if (q + len > end) throw new RangeError('truncated field');
      onBytes(field, q, q + len);
      pos = q + len;
    } else throw new RangeError(`unsupported wire type ${wire}`);
    if (pos > end) throw new RangeError('truncated message');
  }
}

/** `metadata_props` of an ONNX ModelProto; empty when there are none or the bytes cannot be walked. */
export function readOnnxMetadata(bytes: Uint8Array): Record<string, string> {
  const out: Record<string, string> = {};
  const dec = new TextDecoder();
  try {
    walkMessage(bytes, 0, bytes.length, (field, from, to) => {
      if (field !== 14) return;
      let key = '', value = '';
      walkMessage(bytes, from, to, (f, a, b) => {
        if (f === 1) key = dec.decode(bytes.subarray(a, b));
        else if (f === 2) value = dec.decode(bytes.subarray(a, b));
      });
      if (key !== '') out[key] = value;
    });
  } catch {
    // onnxruntime reports unreadable files with its own error; the metadata is optional.
  }
  return out;
}

/** A list from a metadata value: a JSON array of strings/numbers, or comma-separated names. */
function metadataList(value: string | undefined): string[] | null {
  if (value === undefined || value.trim() === '') return null;
  const s = value.trim();
  if (s.startsWith('[')) {
    try {
      const arr: unknown = JSON.parse(s);
      if (Array.isArray(arr) && arr.every(v => typeof v === 'string' || typeof v === 'number')) return arr.map(String);
    } catch {
      // fall through to the comma-separated form
    }
  }
  return s.split(',').map(x => x.trim()).filter(x => x !== '');
}

// ---------------------------------------------------------------------------------------------------------------

function tensorInfo(meta: unknown, name: string): TensorInfo {
  const m = meta as { isTensor?: boolean; type?: string; shape?: ReadonlyArray<number | string> } | undefined;
  if (!m || m.isTensor === false) return { name, type: null, shape: [] };
  return { name, type: m.type ?? null, shape: [...(m.shape ?? [])] };
}

/** Output types read as numbers (float16 would need decoding; no exporter in use produces it for probabilities). */
const FLOAT_TYPES = new Set(['float32', 'float64']);

function pickOutput(outputs: TensorInfo[]): TensorInfo | null {
  const floats = outputs.filter(o => o.type !== null && FLOAT_TYPES.has(o.type));
  return floats.find(o => /prob/i.test(o.name)) ?? floats[0] ?? null;
}

function shapeText(shape: ReadonlyArray<number | string>): string {
  return `[${shape.map(d => (typeof d === 'number' && d >= 0 ? String(d) : typeof d === 'string' && d !== '' ? d : '?')).join(', ')}]`;
}

const cache = new Map<string, { key: string; model: Promise<LoadedModel>; loaded?: LoadedModel }>();

/**
 * Load an ONNX model (CPU). Sessions are cached per file (path, size and modification time), so the gate's outputs,
 * the output check and the perturbation check share one session; {@link releaseModels} frees them all.
 * Throws {@link ModelError}: missing file, not an ONNX model (corrupt, truncated, another format).
 */
export async function loadModel(file: string): Promise<LoadedModel> {
  const abs = path.resolve(file);
  let stat: fs.Stats;
  try {
    stat = await fs.promises.stat(abs);
  } catch {
    throw new ModelError(file, t('{0}: the model file does not exist.', file), 'not_found');
  }
  if (!stat.isFile()) throw new ModelError(file, t('{0}: the model path is not a file.', file), 'not_found');
  const key = `${stat.size}:${stat.mtimeMs}`;
  const hit = cache.get(abs);
  if (hit && hit.key === key) return hit.model;
  if (hit) void hit.model.then(m => m.release(), () => undefined);
  const model = createModel(file, abs, stat.size);
  const entry: { key: string; model: Promise<LoadedModel>; loaded?: LoadedModel } = { key, model };
  cache.set(abs, entry);
  model.then(m => { entry.loaded = m; }, () => { if (cache.get(abs) === entry) cache.delete(abs); });
  return model;
}

/** Release every cached session (call when a gate run is over). */
export async function releaseModels(): Promise<void> {
  const all = [...cache.values()];
  cache.clear();
  await Promise.all(all.map(e => e.model.then(m => m.release(), () => undefined)));
}

async function createModel(file: string, abs: string, sizeBytes: number): Promise<LoadedModel> {
  const bytes = new Uint8Array(await fs.promises.readFile(abs));
  if (bytes.length === 0) throw new ModelError(file, t('{0}: the model file is empty.', file), 'invalid');
  const ort = loadOnnxRuntime();
  let session: OrtSession;
  try {
    session = await ort.InferenceSession.create(bytes, { executionProviders: ['cpu'] });
  } catch (e) {
    throw new ModelError(file, explainOrtError(file, e).message, 'invalid');
  }
  const metaOf = (list: unknown, names: readonly string[]): TensorInfo[] =>
    names.map((n, i) => {
      const arr = list as Array<{ name?: string }> | Record<string, unknown> | undefined;
      const m = Array.isArray(arr) ? (arr.find(x => x.name === n) ?? arr[i]) : arr?.[n];
      return tensorInfo(m, n);
    });
  const s = session as unknown as { inputMetadata?: unknown; outputMetadata?: unknown };
  const inputs = metaOf(s.inputMetadata, session.inputNames);
  const outputs = metaOf(s.outputMetadata, session.outputNames);
  const output = pickOutput(outputs);
  const metadata = readOnnxMetadata(bytes);
  const classes = metadataList(metadata.classes ?? metadata.class_names);
  const featureNames = metadataList(metadata.feature_names ?? metadata.features);
  const base = path.basename(file);
  const rawCache = new WeakMap<Dataset, Map<string, Promise<RawOutput>>>();
  let released = false;

  const inputProblem = (width: number | null, features?: readonly string[]): ModelError | null => {
    if (inputs.length !== 1) {
      return new ModelError(file, t('{0} has {1} inputs ({2}); EDD feeds one float32 matrix of the features (rows × features). Export the model with a single input.', base, inputs.length, nameList(inputs.map(i => i.name))), 'input');
    }
    const inp = inputs[0];
    if (inp.type === null) {
      return new ModelError(file, t('{0}: input `{1}` is not a tensor, but EDD feeds a float32 matrix of the features. Export the model with a float32 input.', base, inp.name), 'input');
    }
    if (inp.type !== 'float32') {
      return new ModelError(file, t('{0}: input `{1}` is {2}, but EDD feeds float32 features. Export the model with a float32 input.', base, inp.name, inp.type), 'input');
    }
    if (inp.shape.length !== 2) {
      return new ModelError(file, t('{0}: input `{1}` has shape {2}; EDD needs [batch, features].', base, inp.name, shapeText(inp.shape)), 'input');
    }
    const n = inp.shape[1];
    if (typeof n === 'number' && n > 0 && width !== null && n !== width) {
      if (features) {
        return new ModelError(file, t('{0} expects {1} input features but the policy gives {2} ({3}). Set `data.features` to the model\'s inputs, in order.', base, n, width, nameList(features)), 'input');
      }
      return new ModelError(file, t('{0} expects {1} input features but was given {2} per row.', base, n, width), 'input');
    }
    return null;
  };

  const outputProblem = (): ModelError | null => {
    if (output === null) {
      const nonTensor = outputs.filter(o => o.type === null).map(o => o.name);
      if (nonTensor.length > 0) {
        return new ModelError(file, t('{0} has no float tensor output: {1} is a sequence or map (for example skl2onnx\'s ZipMap). Export the classifier with `zipmap: False` so the probabilities are a tensor.', base, nameList(nonTensor)), 'output');
      }
      return new ModelError(file, t('{0} has no float output (outputs: {1}); the gate reads class probabilities as a float tensor [batch, classes].', base, nameList(outputs.map(o => `${o.name} ${o.type ?? '?'}`))), 'output');
    }
    if (output.shape.length > 2) {
      return new ModelError(file, t('{0}: output `{1}` has shape {2}; the gate reads class probabilities of shape [batch, classes].', base, output.name, shapeText(output.shape)), 'output');
    }
    return null;
  };

  const runRaw = async (matrix: Float32Array, rows: number): Promise<RawOutput> => {
    if (released) throw new ModelError(file, t('{0}: the model session was released.', base), 'runtime');
    if (!Number.isInteger(rows) || rows < 0) throw new RangeError(`rows must be a non-negative integer, got ${rows}`);
    const width = rows === 0 ? 0 : matrix.length / rows;
    if (!Number.isInteger(width)) throw new RangeError(`the matrix has ${matrix.length} values, not a multiple of ${rows} rows`);
    const problem = inputProblem(rows === 0 ? null : width);
    if (problem) throw problem;
    if (output === null) throw outputProblem()!;
    const inp = inputs[0];
    const fixedBatch = typeof inp.shape[0] === 'number' && (inp.shape[0] as number) > 0 ? (inp.shape[0] as number) : null;
    const batch = fixedBatch ?? RUN_BATCH;
    let data: Float32Array | null = null;
    let rest: number[] = [];
    let perRow = 0;
    for (let start = 0; start < rows; start += batch) {
      const n = Math.min(batch, rows - start);
      let chunk = matrix.subarray(start * width, (start + n) * width);
      if (fixedBatch !== null && n < fixedBatch) {
        const padded = new Float32Array(fixedBatch * width);
        padded.set(chunk);
        chunk = padded;
      }
      const feeds: Record<string, OrtTensor> = { [inp.name]: new ort.Tensor('float32', chunk, [fixedBatch ?? n, width]) };
      let result: Record<string, OrtTensor>;
      try {
        result = await session.run(feeds, [output.name]);
      } catch (e) {
        throw new ModelError(file, explainOrtError(file, e).message, 'runtime');
      }
      const out = result[output.name];
      const dims = out.dims.map(Number);
      if (dims[0] !== (fixedBatch ?? n)) {
        throw new ModelError(file, t('{0}: output `{1}` has shape [{2}] for a batch of {3} rows; expected one output row per input row.', base, output.name, dims.join(', '), fixedBatch ?? n), 'output');
      }
      if (data === null) {
        rest = dims.slice(1);
        perRow = rest.reduce((a, b) => a * b, 1);
        data = new Float32Array(rows * perRow);
      }
      const values = out.data as unknown as ArrayLike<number>;
      const take = n * perRow;
      if (values instanceof Float32Array) data.set(values.subarray(0, take), start * perRow);
      else for (let k = 0; k < take; k++) data[start * perRow + k] = Number(values[k]);
    }
    if (data === null) {
      const k = output.shape.length === 2 && typeof output.shape[1] === 'number' && output.shape[1] > 0 ? (output.shape[1] as number) : 1;
      return { data: new Float32Array(0), dims: output.shape.length === 1 ? [0] : [0, k] };
    }
    return { data, dims: [rows, ...rest] };
  };

  const rawOutputFor = (ds: Dataset, features: readonly string[]): Promise<RawOutput> => {
    let perDs = rawCache.get(ds);
    if (!perDs) rawCache.set(ds, (perDs = new Map()));
    const key = JSON.stringify(features);
    let p = perDs.get(key);
    if (!p) {
      const problem = inputProblem(features.length, features);
      if (problem) return Promise.reject(problem);
      let matrix: Float32Array;
      try {
        matrix = featureMatrix(ds, features);
      } catch (e) {
        return Promise.reject(e);
      }
      p = runRaw(matrix, ds.rows);
      perDs.set(key, p);
      p.catch(() => perDs!.delete(key));
    }
    return p;
  };

  const model: LoadedModel = {
    file, sizeBytes, inputs, outputs, output, metadata, classes, featureNames,
    check(features) {
      const problem = inputProblem(features.length, features) ?? outputProblem();
      if (problem) throw problem;
    },
    async run(matrix, rows) {
      return (await runRaw(matrix, rows)).data;
    },
    runRaw,
    rawOutputFor,
    async outputsFor(ds, features, policyClasses, label) {
      model.check(features);
      const raw = await rawOutputFor(ds, features);
      const width = raw.dims.length === 1 ? 1 : raw.dims[1];
      let k = width;
      let scores = raw.data;
      if (width === 1) {
        // One probability per row: P(positive class). Expand to [P(negative), P(positive)].
        k = 2;
        scores = new Float32Array(ds.rows * 2);
        for (let i = 0; i < ds.rows; i++) {
          scores[2 * i] = 1 - raw.data[i];
          scores[2 * i + 1] = raw.data[i];
        }
      }
      const labelValues = label !== undefined ? ds.columns.get(label) : undefined;
      const { classes: names } = resolveClasses(file, k, classes, policyClasses, labelValues);
      return { classes: names, scores, yPred: argmaxClasses(scores, ds.rows, names) };
    },
    predictFn() {
      return (matrix, rows) => model.run(matrix, rows);
    },
    async release() {
      if (released) return;
      released = true;
      if (cache.get(abs)?.loaded === model) cache.delete(abs);
      await session.release?.();
    },
  };
  return model;
}

/**
 * Where the class names come from, in order: the model's metadata (`classes` / `class_names`), the policy's
 * `data.classes`, else defaults. The defaults are `0`, `1`, … when the label column holds the integers 0..k−1 (so
 * numeric labels match the predictions), and `class_0`, `class_1`, … otherwise. Throws {@link ModelError} when the
 * model's or the policy's list does not have one name per output column, or when both are given and differ.
 */
export function resolveClasses(
  file: string, k: number, modelClasses: readonly string[] | null | undefined, policyClasses: readonly string[] | undefined,
  labelColumn?: Column,
): { classes: string[]; source: 'model' | 'policy' | 'default' } {
  const base = path.basename(file);
  if (modelClasses && modelClasses.length > 0) {
    if (modelClasses.length !== k) {
      throw new ModelError(file, t('{0} names {1} classes in its metadata ({2}) but outputs {3} scores per row.', base, modelClasses.length, nameList(modelClasses), k), 'output');
    }
    if (policyClasses && policyClasses.length > 0 && JSON.stringify([...policyClasses]) !== JSON.stringify([...modelClasses])) {
      throw new ModelError(file, t('{0} names its classes ({1}) in its metadata, but the policy\'s `data.classes` says ({2}). Remove `data.classes` or make it match.', base, nameList(modelClasses), nameList(policyClasses)), 'output');
    }
    return { classes: [...modelClasses], source: 'model' };
  }
  if (policyClasses && policyClasses.length > 0) {
    if (policyClasses.length !== k) {
      throw new ModelError(file, t('the policy\'s `data.classes` lists {0} classes ({1}) but {2} outputs {3} scores per row.', policyClasses.length, nameList(policyClasses), base, k), 'output');
    }
    return { classes: [...policyClasses], source: 'policy' };
  }
  if (labelColumn && labelColumn.kind === 'number') {
    let ok = true;
    for (const v of labelColumn.values) {
      if (Number.isNaN(v)) continue;
      if (!Number.isInteger(v) || v < 0 || v >= k) { ok = false; break; }
    }
    if (ok) return { classes: Array.from({ length: k }, (_, i) => String(i)), source: 'default' };
  }
  return { classes: Array.from({ length: k }, (_, i) => `class_${i}`), source: 'default' };
}

/** Argmax class per row; '' for a row whose scores are all NaN. Ties: the first class. */
export function argmaxClasses(scores: Float32Array, rows: number, classes: readonly string[]): string[] {
  const k = classes.length;
  const out = new Array<string>(rows);
  for (let i = 0; i < rows; i++) {
    let best = -1;
    let bestV = -Infinity;
    for (let j = 0; j < k; j++) {
      const v = scores[i * k + j];
      if (v > bestV || (best < 0 && v === -Infinity)) { best = j; bestV = v; }
    }
    out[i] = best < 0 ? '' : classes[best];
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Shared by the model checks

/** The label column as strings (numbers printed as JavaScript prints them: 1, 0.5); null = missing. */
export function labelStrings(ds: Dataset, label: string): Array<string | null> {
  const c = ds.columns.get(label);
  if (!c) throw new CheckInputError(t('the evaluation data has no label column `{0}` (columns: {1}).', label, nameList(ds.names)));
  if (c.kind === 'string') return c.values;
  return Array.from(c.values, v => (Number.isNaN(v) ? null : String(v)));
}
