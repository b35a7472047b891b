// MLflow's file store: `mlruns/<experiment id>/meta.yaml`, `mlruns/<experiment id>/<run id>/meta.yaml`, and per run
// `params/`, `tags/` (one file per key, the file's whole text is the value) and `metrics/` (one file per key, lines
// `timestamp value step`). A key with `/` is a path of sub-folders. The registry is under `mlruns/models/<name>/`:
// the model's `meta.yaml`, `version-<n>/meta.yaml` per version (a deleted version stays, with the stage
// `Deleted_Internal`; a deleted model's folder is removed) and `aliases/<alias>` holding the version number — the
// folder MLflow's FileStore reads aliases from (the model's meta.yaml has an `aliases:` copy too, written at its
// last update, which can be stale).
import * as fs from 'fs';
import * as path from 'path';
import { LineCounter, parseDocument } from 'yaml';
import { t } from '../l10n';
import { mlflowStatus, MlflowInputError, type MlflowData, type MlflowMetric, type MlflowModel, type MlflowRun } from './types';

/** Folders of `mlruns/` that are not experiments. */
const NOT_EXPERIMENTS = new Set(['.trash', 'models', '.git']);

/** Reads an `mlruns` folder. @throws MlflowInputError naming the file (and line) of the first bad input */
export async function readMlflowFileStore(root: string): Promise<MlflowData> {
  const data: MlflowData = { source: root, experiments: [], runs: [], models: [] };
  const entries = await fs.promises.readdir(root, { withFileTypes: true });
  for (const entry of entries) {
    if (!entry.isDirectory() || NOT_EXPERIMENTS.has(entry.name)) continue;
    const dir = path.join(root, entry.name);
    const metaFile = path.join(dir, 'meta.yaml');
    if (!fs.existsSync(metaFile)) continue;
    const meta = await readMeta(metaFile, ['experiment_id', 'name']);
    if (meta.lifecycle_stage === 'deleted') continue;
    const experiment = { id: String(meta.experiment_id), name: String(meta.name), artifactLocation: optional(meta.artifact_location) };
    data.experiments.push(experiment);
    for (const runEntry of await fs.promises.readdir(dir, { withFileTypes: true })) {
      if (!runEntry.isDirectory()) continue;
      const runDir = path.join(dir, runEntry.name);
      if (!fs.existsSync(path.join(runDir, 'meta.yaml'))) continue;
      const run = await readRun(runDir, experiment);
      if (run) data.runs.push(run);
    }
  }
  data.models = await readModels(path.join(root, 'models'));
  if (data.experiments.length === 0) {
    throw new MlflowInputError(t('{0} is not an MLflow file store: no experiment folder with a meta.yaml in it. Give the mlruns folder (or an mlflow.db).', root));
  }
  return data;
}

type Meta = Record<string, unknown>;

async function readMeta(file: string, required: readonly string[]): Promise<Meta> {
  const text = await fs.promises.readFile(file, 'utf8');
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: false });
  const error = doc.errors[0];
  if (error) {
    const pos = error.linePos?.[0];
    throw new MlflowInputError(t('{0}:{1}:{2}: this meta.yaml is not valid YAML ({3}); it may be truncated. Restore it from a backup or delete the run folder.', file, pos?.line ?? 1, pos?.col ?? 1, error.message.split('\n')[0]));
  }
  const meta = doc.toJS({ maxAliasCount: 100 }) as unknown;
  const lastLine = lineCounter.linePos(text.length).line;
  if (typeof meta !== 'object' || meta === null || Array.isArray(meta)) {
    throw new MlflowInputError(t('{0}:1: this meta.yaml is not a mapping of MLflow fields; it may be truncated or overwritten.', file));
  }
  const absent = required.filter(k => (meta as Meta)[k] === undefined || (meta as Meta)[k] === null);
  if (absent.length) {
    throw new MlflowInputError(t('{0}:{1}: this meta.yaml ends without {2}; it is probably truncated. Restore it from a backup or delete the run folder.', file, lastLine, absent.join(', ')));
  }
  return meta as Meta;
}

/** The registered models of a file store (none when it has no `models` folder). */
async function readModels(dir: string): Promise<MlflowModel[]> {
  let entries: fs.Dirent[];
  try {
    entries = await fs.promises.readdir(dir, { withFileTypes: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  const models: MlflowModel[] = [];
  for (const entry of entries.filter(e => e.isDirectory()).sort((a, b) => a.name.localeCompare(b.name))) {
    const modelDir = path.join(dir, entry.name);
    if (!fs.existsSync(path.join(modelDir, 'meta.yaml'))) continue;
    const meta = await readMeta(path.join(modelDir, 'meta.yaml'), ['name']);
    const aliases = await readKeyFiles(path.join(modelDir, 'aliases'));
    const model: MlflowModel = { name: String(meta.name), versions: [] };
    for (const v of await fs.promises.readdir(modelDir, { withFileTypes: true })) {
      if (!v.isDirectory() || !/^version-\d+$/.test(v.name) || !fs.existsSync(path.join(modelDir, v.name, 'meta.yaml'))) continue;
      const vm = await readMeta(path.join(modelDir, v.name, 'meta.yaml'), ['version']);
      const stage = optional(vm.current_stage) ?? 'None';
      if (stage.startsWith('Deleted')) continue;
      const version = Number(vm.version);
      model.versions.push({
        version, stage, runId: optional(vm.run_id), source: optional(vm.source), user: optional(vm.user_id), createdAt: optionalNumber(vm.creation_timestamp),
        aliases: Object.entries(aliases).filter(([, n]) => Number(n.trim()) === version).map(([a]) => a).sort(),
      });
    }
    model.versions.sort((a, b) => a.version - b.version);
    models.push(model);
  }
  return models;
}

const optional = (v: unknown): string | null => (v === undefined || v === null || v === '' ? null : String(v));
const optionalNumber = (v: unknown): number | null => (v === undefined || v === null || v === '' ? null : Number(v));

async function readRun(dir: string, experiment: { id: string; name: string }): Promise<MlflowRun | undefined> {
  const metaFile = path.join(dir, 'meta.yaml');
  const meta = await readMeta(metaFile, ['run_id', 'status']);
  if (meta.lifecycle_stage === 'deleted') return undefined;
  const status = mlflowStatus(meta.status);
  if (!status) throw new MlflowInputError(t('{0}: status {1} is not an MLflow run status (1 to 5, or RUNNING, SCHEDULED, FINISHED, FAILED, KILLED).', metaFile, String(meta.status)));
  const tags = await readKeyFiles(path.join(dir, 'tags'));
  const metrics: MlflowMetric[] = [];
  for (const [key, file] of await keyFiles(path.join(dir, 'metrics'))) metrics.push(...(await readMetricFile(file, key)));
  return {
    runId: String(meta.run_id), experimentId: experiment.id, experimentName: experiment.name,
    name: optional(meta.run_name) ?? tags['mlflow.runName'] ?? null, status,
    startTime: optionalNumber(meta.start_time), endTime: optionalNumber(meta.end_time), user: optional(meta.user_id), artifactUri: optional(meta.artifact_uri),
    params: await readKeyFiles(path.join(dir, 'params')), tags, metrics,
  };
}

/** The files under `dir`, keyed by their path relative to it with `/` (MLflow's key for `a/b` is the file `a/b`). */
async function keyFiles(dir: string): Promise<Array<[string, string]>> {
  const out: Array<[string, string]> = [];
  const walk = async (sub: string, prefix: string) => {
    let entries: fs.Dirent[];
    try {
      entries = await fs.promises.readdir(sub, { withFileTypes: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw e;
    }
    for (const e of entries) {
      const key = prefix ? `${prefix}/${e.name}` : e.name;
      if (e.isDirectory()) await walk(path.join(sub, e.name), key);
      else out.push([key, path.join(sub, e.name)]);
    }
  };
  await walk(dir, '');
  return out;
}

async function readKeyFiles(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [key, file] of await keyFiles(dir)) out[key] = await fs.promises.readFile(file, 'utf8');
  return out;
}

const NUMBER = /^[-+]?(\d+\.?\d*([eE][-+]?\d+)?|\.\d+([eE][-+]?\d+)?|nan|inf|infinity)$/i;

/** A metric file: `timestamp value step` per line (older MLflow wrote `timestamp value`, step 0). */
export async function readMetricFile(file: string, key: string): Promise<MlflowMetric[]> {
  const text = await fs.promises.readFile(file, 'utf8');
  const out: MlflowMetric[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '') continue;
    const parts = line.split(/\s+/);
    const [ts, value, step] = parts;
    const bad = parts.length < 2 || parts.length > 3 || !/^-?\d+$/.test(ts) || !NUMBER.test(value) || (step !== undefined && !/^-?\d+$/.test(step));
    if (bad) {
      throw new MlflowInputError(t('{0}:{1}: expected `timestamp value step` (integers and a number), found {2}. Fix or remove the line, then import again.', file, i + 1, JSON.stringify(line.slice(0, 80))));
    }
    out.push({ key, timestamp: Number(ts), value: parseNumber(value), step: step === undefined ? 0 : Number(step) });
  }
  return out;
}

function parseNumber(text: string): number {
  const lower = text.toLowerCase().replace(/^\+/, '');
  if (lower === 'nan') return NaN;
  if (lower === 'inf' || lower === 'infinity') return Infinity;
  if (lower === '-inf' || lower === '-infinity') return -Infinity;
  return Number(text);
}
