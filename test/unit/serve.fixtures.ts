// Shared by the serving tests: a workspace with a real store whose registry holds real ONNX versions of penguins,
// the example's data schema and reference rows, and a service spec.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { onnx } from 'onnx-proto';
import { promote, registerRun } from '../../src/core/registry';
import { RunStore } from '../../src/core/store';
import { FIXTURE_MODEL, flippedModel, root, workspaceWithRuns } from './registryFixtures';

export const FEATURES = ['bill_length_mm', 'bill_depth_mm', 'flipper_length_mm', 'body_mass_g'];

/** The fixture model without its Softmax: raw logits, outside [0, 1] — it fails the output validation. */
export function logitsModel(dest: string): void {
  const model = onnx.ModelProto.decode(fs.readFileSync(FIXTURE_MODEL));
  const g = model.graph!;
  g.node = g.node!.filter(n => n.opType !== 'Softmax');
  g.node[g.node.length - 1].output = ['probabilities'];
  fs.writeFileSync(dest, onnx.ModelProto.encode(model).finish());
}

export const SPEC = `model: penguins
stage: production
input: data/penguins.data.yaml
reference: data/reference.csv
features: [bill_length_mm, bill_depth_mm, flipper_length_mm, body_mass_g]
classes: [Adelie, Chinstrap, Gentoo]
output: { range: [0, 1], sum_to_one: true }
server: { body_limit_kb: 64, max_instances: 100 }
monitoring:
  label: species
  sensitive: [island, sex]
  positive_class: Adelie
`;

/**
 * A temp workspace: versions 1 (the fixture model), 2 (its weights negated) and 3 (no softmax) of `penguins`, then
 * the models `extra` writes into its temp folder (versions 4, …), version 1 in production; `penguins.service.yaml` as `spec`.
 */
export async function servingWorkspace(spec = SPEC, extra: (tmp: string) => string[] = () => []): Promise<{ dir: string; storeFile: string }> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'edd-serve-models-'));
  const flipped = path.join(tmp, 'flipped.onnx');
  const logits = path.join(tmp, 'logits.onnx');
  flippedModel(flipped);
  logitsModel(logits);
  const { dir, file, runs } = await workspaceWithRuns([FIXTURE_MODEL, flipped, logits, ...extra(tmp)]);
  fs.rmSync(tmp, { recursive: true, force: true });
  const store = await RunStore.open(file, { autoSave: false });
  for (const runId of runs) await registerRun(store, { root: dir, runId, model: 'penguins', actor: 'tester' });
  promote(store, { model: 'penguins', ref: 1, to: 'production', actor: 'tester', reason: 'first' });
  await store.close();
  fs.mkdirSync(path.join(dir, 'data'));
  for (const f of ['penguins.data.yaml', 'reference.csv']) fs.copyFileSync(path.join(root, 'examples/penguins/data', f), path.join(dir, 'data', f));
  fs.writeFileSync(path.join(dir, 'penguins.service.yaml'), spec);
  return { dir, storeFile: file };
}

/** Promote `version` to production from another store instance, as `edd promote` in another process would. */
export async function promoteElsewhere(storeFile: string, version: number): Promise<void> {
  const store = await RunStore.open(storeFile, { autoSave: false });
  promote(store, { model: 'penguins', ref: version, to: 'production', actor: 'tester', reason: `ship ${version}`, force: true });
  await store.close();
}

export const ADELIE = { bill_length_mm: 39.1, bill_depth_mm: 18.7, flipper_length_mm: 181, body_mass_g: 3750 };
export const GENTOO = { bill_length_mm: 50.2, bill_depth_mm: 14.3, flipper_length_mm: 218, body_mass_g: 5700 };
