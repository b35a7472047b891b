/**
 * Is this file an ONNX model? A run's artifact of kind `model` is registered and copied as a model only when it is:
 * a CSV or a pickle reported as `kind: model` would otherwise become a registry version that no gate can run.
 *
 * A cheap look at the first bytes (an ONNX file is a protobuf `ModelProto`, whose first field is one of its own)
 * refuses text and other formats without loading onnxruntime; the real check is onnxruntime-node loading it.
 */
import * as fs from 'fs';
import { t } from '../l10n';
import { explainOrtError, loadOnnxRuntime } from '../compare/latency';

/** ModelProto's field numbers and the protobuf wire type each is written with (0 varint, 2 length-delimited). */
const MODEL_FIELDS = new Map<number, number>([[1, 0], [2, 2], [3, 2], [4, 2], [5, 0], [6, 2], [7, 2], [8, 2], [14, 2], [20, 2], [25, 2]]);

/** Why the first bytes cannot start an ONNX model, or undefined when they can. */
function headerProblem(head: Buffer): string | undefined {
  if (head.length === 0) return t('the file is empty');
  let tag = 0;
  for (let i = 0, shift = 0; i < Math.min(head.length, 5); i++, shift += 7) {
    tag |= (head[i] & 0x7f) << shift;
    if ((head[i] & 0x80) === 0) {
      if (MODEL_FIELDS.get(tag >>> 3) === (tag & 7)) return undefined;
      break;
    }
  }
  return t('it does not start like an ONNX model (a protobuf ModelProto)');
}

/**
 * Undefined when `file` loads as an ONNX model in onnxruntime (CPU); otherwise a sentence saying why not (English or
 * the user's language, without the file name).
 */
export async function onnxProblem(file: string): Promise<string | undefined> {
  let bytes: Buffer;
  try {
    const st = await fs.promises.stat(file);
    if (!st.isFile()) return t('it is not a regular file');
    const fd = await fs.promises.open(file, 'r');
    try {
      const head = Buffer.alloc(8);
      const { bytesRead } = await fd.read(head, 0, head.length, 0);
      const problem = headerProblem(head.subarray(0, bytesRead));
      if (problem) return problem;
    } finally {
      await fd.close();
    }
    bytes = await fs.promises.readFile(file);
  } catch (e) {
    return (e as Error).message;
  }
  try {
    const session = await loadOnnxRuntime().InferenceSession.create(new Uint8Array(bytes), { executionProviders: ['cpu'] });
    await session.release();
    return undefined;
  } catch (e) {
    return explainOrtError(file, e).message.slice(file.length + 2);
  }
}
