/**
 * `npm run bench:gate`: 100,000 evaluation rows × 20 features through the gate — model outputs (onnxruntime-node),
 * bias, drift and perturbation — end to end, and the drift/bias statistics alone in values per second.
 * Prints figures against the targets (≤ 5 s end to end; ≥ 10M values/s); never fails on a miss.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { performance } from 'perf_hooks';
import { runGate } from '../../src/core/checks/gate';
import { readDataset } from '../../src/core/checks/dataset';
import { driftCheck } from '../../src/core/checks/drift';
import { biasCheck } from '../../src/core/checks/bias';
import type { GateContext } from '../../src/core/checks/types';
import { mulberry32 } from '../../src/core/stats/prng';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { onnx } = require('onnx-proto');

const ROWS = 100_000;
const FEATURES = 20;
const CLASSES = ['a', 'b', 'c'];

/** Seeded randomness: the project's mulberry32, so every run sees the same data. */
const rng = mulberry32;

/** A 20 → 3 softmax model (MatMul + Add + Softmax) with seeded weights. */
function model(file: string): void {
  const r = rng(7);
  const FLOAT = onnx.TensorProto.DataType.FLOAT;
  const floats = (n: number) => Buffer.from(new Float32Array(Array.from({ length: n }, () => r() - 0.5)).buffer);
  const info = (name: string, dims: Array<string | number>) => onnx.ValueInfoProto.create({
    name, type: { tensorType: { elemType: FLOAT, shape: { dim: dims.map(d => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) } } },
  });
  const graph = onnx.GraphProto.create({
    name: 'bench',
    node: [
      onnx.NodeProto.create({ opType: 'MatMul', input: ['x', 'W'], output: ['s'], name: 's' }),
      onnx.NodeProto.create({ opType: 'Add', input: ['s', 'b'], output: ['l'], name: 'l' }),
      onnx.NodeProto.create({ opType: 'Softmax', input: ['l'], output: ['probabilities'], name: 'p', attribute: [onnx.AttributeProto.create({ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: 1 })] }),
    ],
    initializer: [
      onnx.TensorProto.create({ name: 'W', dims: [FEATURES, 3], dataType: FLOAT, rawData: floats(FEATURES * 3) }),
      onnx.TensorProto.create({ name: 'b', dims: [3], dataType: FLOAT, rawData: floats(3) }),
    ],
    input: [info('x', ['N', FEATURES])],
    output: [info('probabilities', ['N', 3])],
  });
  const m = onnx.ModelProto.create({ irVersion: 7, opsetImport: [{ domain: '', version: 13 }], graph, metadataProps: [{ key: 'classes', value: JSON.stringify(CLASSES) }] });
  fs.writeFileSync(file, Buffer.from(onnx.ModelProto.encode(m).finish()));
}

function csv(file: string, rows: number, seed: number, shift: number): void {
  const r = rng(seed);
  const out = fs.createWriteStream(file);
  const names = Array.from({ length: FEATURES }, (_, j) => `f${j}`);
  const lines: string[] = [[...names, 'label', 'group'].join(',')];
  for (let i = 0; i < rows; i++) {
    const x = names.map((_, j) => (r() * 2 - 1 + (j === 0 ? shift : 0)).toFixed(4));
    lines.push([...x, CLASSES[i % 3], i % 2 ? 'g1' : 'g2'].join(','));
    if (lines.length >= 10000) { out.write(lines.join('\n') + '\n'); lines.length = 0; }
  }
  out.end(lines.join('\n') + '\n');
  return;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edd-bench-gate-'));
  model(path.join(dir, 'model.onnx'));
  csv(path.join(dir, 'eval.csv'), ROWS, 1, 0.1);
  csv(path.join(dir, 'ref.csv'), ROWS, 2, 0);
  await new Promise(r => setTimeout(r, 500)); // let the write streams finish
  const features = Array.from({ length: FEATURES }, (_, j) => `f${j}`);
  fs.writeFileSync(path.join(dir, 'bench.policy.yaml'), `data:
  eval: eval.csv
  reference: ref.csv
  label: label
  features: [${features.join(', ')}]
checks:
  - metric: { name: accuracy, min: 0 }
  - bias: { sensitive: group, positive_label: a, demographic_parity_difference: { max: 1 } }
  - drift: { columns: [${features.join(', ')}], ks: { alpha: 0.01 }, psi: { max: 0.2 }, wasserstein: {}, jensen_shannon: { max: 0.5 } }
  - perturbation: { noise: 0.01, max_mean_change: 0.5, samples: 1000 }
`);
  const e2e: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    const report = await runGate(path.join(dir, 'bench.policy.yaml'), { root: dir, onnx: 'model.onnx' });
    e2e.push(performance.now() - t0);
    if (i === 0) console.log(`checks: ${report.checks.map(c => `${c.id} ${c.status} ${c.durationMs} ms`).join('; ')}`);
  }
  const yPred = Array.from({ length: ROWS }, (_, i) => CLASSES[(i * 7) % 3]);
  const driftMs: number[] = [];
  const biasMs: number[] = [];
  for (let i = 0; i < 5; i++) {
    // fresh data sets each time: the checks cache sorted columns, and a warm cache would flatter the figure
    const evalData = await readDataset(path.join(dir, 'eval.csv'), { label: 'label' });
    const reference = await readDataset(path.join(dir, 'ref.csv'), { label: 'label' });
    const ctx: GateContext = { root: dir, eval: evalData, reference, label: 'label', features, outputs: { classes: CLASSES, scores: new Float32Array(ROWS * 3), yPred } };
    let t0 = performance.now();
    await driftCheck(ctx, { columns: features, ks: { alpha: 0.01 }, psi: { max: 0.2 }, wasserstein: {}, jensen_shannon: { max: 0.5 } } as never, 'drift');
    driftMs.push(performance.now() - t0);
    t0 = performance.now();
    await biasCheck(ctx, { sensitive: 'group', positive_label: 'a', demographic_parity_difference: { max: 1 }, equal_opportunity_difference: { max: 1 } } as never, 'bias');
    biasMs.push(performance.now() - t0);
  }
  const driftValues = 2 * ROWS * FEATURES; // reference + eval values per run
  const biasValues = 3 * ROWS; // label, prediction, group per row
  const rate = (values: number, ms: number) => values / (ms / 1000);
  const e = median(e2e);
  const d = median(driftMs);
  const b = median(biasMs);
  console.log(`\n100,000 rows × 20 features (medians)`);
  console.log(`end to end (read data, run the model, metric + bias + drift + perturbation): ${e.toFixed(0)} ms  target ≤ 5000 ms  ${e <= 5000 ? 'PASS' : 'MISS'}`);
  console.log(`drift statistics alone: ${d.toFixed(0)} ms = ${(rate(driftValues, d) / 1e6).toFixed(1)}M values/s  target ≥ 10M/s  ${rate(driftValues, d) >= 1e7 ? 'PASS' : 'MISS'}`);
  console.log(`bias statistics alone: ${b.toFixed(1)} ms = ${(rate(biasValues, b) / 1e6).toFixed(1)}M values/s  target ≥ 10M/s  ${rate(biasValues, b) >= 1e7 ? 'PASS' : 'MISS'}`);
  fs.rmSync(dir, { recursive: true, force: true });
}

main().catch(e => {
  console.error(e);
  process.exit(1);
});
