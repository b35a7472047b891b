// Writes what was read from MLflow (a file store, a database, or a tracking server) into EDD's store. The MLflow run
// id is the run's external id (`mlflow:<id>`), so importing again updates the same runs and never duplicates one;
// a registered version is known by its source path `mlflow:models:/<name>/<version>`.
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { fileURLToPath } from 'url';
import { t } from '../l10n';
import { hashFile } from '../runner/hash';
import { NAME_PATTERN, type JsonObject, type MetricPoint, type RunRecord, type RunStatus, type RunStore, type Stage } from '../store';
import type { MlflowData, MlflowModel, MlflowRun, MlflowStatus } from './types';

/** `mlflow-import`: read from files; `mlflow-remote`: pulled from a tracking server. */
export type Origin = 'mlflow-import' | 'mlflow-remote';

export interface ImportOptions {
  origin: Origin;
  /** Copy the files of local artifact folders into the store's folder (`.edd/artifacts/mlflow/<run id>/`). */
  copyArtifacts?: boolean;
}

export interface ImportResult {
  experiments: number;
  runsCreated: number;
  runsUpdated: number;
  /** Metric points written (points already stored with the same value and time are not written again). */
  points: number;
  /** Points MLflow had at a step that already had a later value: EDD keeps one value per metric and step. */
  pointsCollapsed: number;
  versionsCreated: number;
  stageChanges: number;
  aliasesSet: number;
  artifactsCopied: number;
  /** Things imported partly or not at all, one line each. */
  warnings: string[];
}

/** The external id of an MLflow run in EDD's store. */
export const externalIdOf = (runId: string) => `mlflow:${runId}`;

const STATUS: Record<MlflowStatus, RunStatus> = { RUNNING: 'running', SCHEDULED: 'queued', FINISHED: 'finished', FAILED: 'failed', KILLED: 'cancelled' };
const STAGE: Record<string, Stage> = { none: 'none', staging: 'staging', production: 'production', archived: 'archived' };

/**
 * MLflow params are strings; a number or boolean written as MLflow writes it becomes that value (so an imported `lr`
 * compares with a config's `lr`), anything else stays a string. Only text that converts back to itself is converted.
 */
export function paramValue(text: string): unknown {
  if (text === 'true' || text === 'false') return text === 'true';
  const n = Number(text);
  if (text.trim() !== '' && Number.isFinite(n) && String(n) === text) return n;
  return text;
}

/** Imports `data` into `store` (created or updated in place). Registry changes are recorded as imported. */
export async function importMlflow(store: RunStore, data: MlflowData, options: ImportOptions): Promise<ImportResult> {
  const result: ImportResult = {
    experiments: 0, runsCreated: 0, runsUpdated: 0, points: 0, pointsCollapsed: 0, versionsCreated: 0, stageChanges: 0, aliasesSet: 0, artifactsCopied: 0, warnings: [],
  };
  const used = new Set(data.runs.map(r => r.experimentName));
  for (const e of data.experiments) {
    if (!used.has(e.name)) continue;
    store.upsertExperiment({ id: e.name, name: e.name });
    result.experiments++;
  }
  const eddIds = new Map<string, string>();
  for (const run of data.runs) {
    const id = importRun(store, run, options.origin, result);
    eddIds.set(run.runId, id);
    if (run.artifactUri) {
      store.addArtifact({ runId: id, path: run.artifactUri, kind: 'mlflow-artifacts', sha256: null, size: null });
      if (options.copyArtifacts) await copyArtifacts(store, id, run, result);
    }
  }
  for (const model of data.models) await importModel(store, model, data, eddIds, result);
  return result;
}

function importRun(store: RunStore, run: MlflowRun, origin: Origin, result: ImportResult): string {
  const externalId = externalIdOf(run.runId);
  const params: JsonObject = {};
  for (const [k, v] of Object.entries(run.params)) params[k] = paramValue(v);
  const tags: Record<string, string> = { ...run.tags, 'edd.origin': origin, 'mlflow.experiment': run.experimentName };
  // MLflow's own tags carry what EDD's run record has no field for (user, run name, note); kept there rather than in
  // the run's environment, which would cost one more file per run (10,000 runs: ~10k more fsyncs at the save).
  if (run.name) tags['mlflow.runName'] ??= run.name;
  if (run.user) tags['mlflow.user'] ??= run.user;
  const fields = {
    status: STATUS[run.status],
    startedAt: run.startTime,
    endedAt: run.endTime,
    durationMs: run.startTime !== null && run.endTime !== null ? Math.max(0, run.endTime - run.startTime) : null,
    gitCommit: run.tags['mlflow.source.git.commit'] ?? null,
    params,
    tags,
  };
  const existing = store.findRunByExternalId(externalId);
  let id: string;
  if (existing) {
    id = existing.id;
    store.updateRun(id, fields);
    result.runsUpdated++;
  } else {
    id = store.createRun({ experimentId: run.experimentName, externalId, createdAt: run.startTime ?? Date.now(), ...fields }).id;
    result.runsCreated++;
  }
  writeMetrics(store, id, run, existing, result);
  return id;
}

function writeMetrics(store: RunStore, id: string, run: MlflowRun, existing: RunRecord | undefined, result: ImportResult): void {
  // Logged order: when MLflow holds two values at one step, the later one is what EDD keeps.
  const sorted = [...run.metrics].sort((a, b) => a.timestamp - b.timestamp);
  const latest = new Map<string, MetricPoint>();
  for (const m of sorted) latest.set(`${m.key}\0${m.step}`, { runId: id, key: m.key, step: m.step, value: m.value, time: m.timestamp });
  result.pointsCollapsed += sorted.length - latest.size;
  result.points += addNewPoints(store, id, [...latest.values()], existing !== undefined);
}

/**
 * Adds the points a re-imported run does not hold yet with the same value and time (a point that replaced nothing
 * would still be appended to the run's history file). Returns how many were written.
 */
export function addNewPoints(store: RunStore, id: string, points: MetricPoint[], existing: boolean): number {
  if (existing) {
    const stored = new Set(store.getMetrics(id).map(p => pointKey(p.key, p.step, p.value, p.time)));
    points = points.filter(p => !stored.has(pointKey(p.key, p.step, p.value, p.time ?? null)));
  }
  if (points.length) store.addMetrics(points);
  return points.length;
}

const pointKey = (key: string, step: number, value: number, time: number | null) => `${key}\0${step}\0${Object.is(value, NaN) ? 'NaN' : value}\0${time}`;

/** A local path from an artifact URI (`file://…` or a plain path); undefined for remote stores (s3, mlflow-artifacts, …). */
export function localPathOf(uri: string): string | undefined {
  if (uri.startsWith('file://')) return fileURLToPath(uri);
  if (path.isAbsolute(uri)) return uri;
  return undefined;
}

async function copyArtifacts(store: RunStore, id: string, run: MlflowRun, result: ImportResult): Promise<void> {
  const from = localPathOf(run.artifactUri!);
  if (!from) {
    result.warnings.push(t('Run {0}: artifacts at {1} are not on this machine and were not copied.', run.runId, run.artifactUri!));
    return;
  }
  if (!fs.existsSync(from)) return;
  const to = path.join(path.dirname(store.file), 'artifacts', 'mlflow', run.runId);
  for (const file of await listTree(from)) {
    const dest = path.join(to, path.relative(from, file));
    await fs.promises.mkdir(path.dirname(dest), { recursive: true });
    await fs.promises.copyFile(file, dest);
    const { sha256, sizeBytes: size } = await hashFile(dest);
    store.addArtifact({ runId: id, path: dest, kind: file.endsWith('.onnx') ? 'model' : null, sha256, size });
    result.artifactsCopied++;
  }
}

async function listTree(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await fs.promises.readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...(await listTree(p)));
    else if (e.isFile()) out.push(p);
  }
  return out.sort();
}

/** The source path an imported version is recorded under (and found by on the next import). */
export const versionSourceOf = (model: string, version: number) => `mlflow:models:/${model}/${version}`;

async function importModel(store: RunStore, model: MlflowModel, data: MlflowData, eddIds: Map<string, string>, result: ImportResult): Promise<void> {
  if (!NAME_PATTERN.test(model.name)) {
    result.warnings.push(t('Registered model {0} was not imported: EDD model names are letters, digits, ".", "_" or "-".', JSON.stringify(model.name)));
    return;
  }
  for (const v of model.versions) {
    const source = versionSourceOf(model.name, v.version);
    // Stored in the audit log (data, not a message): the same words whatever the importer's language.
    const actor = `${v.user || 'mlflow'} (imported from MLflow)`;
    const reason = `Imported from MLflow: ${model.name} version ${v.version} (${v.source ?? '—'}).`;
    let version = store.listModelVersions(model.name).find(x => x.sourcePath === source);
    if (!version) {
      const runId = v.runId ? (eddIds.get(v.runId) ?? store.findRunByExternalId(externalIdOf(v.runId))?.id ?? null) : null;
      const file = await modelFile(store, model.name, v.source, data);
      if (!file.onnx) result.warnings.push(t('{0} version {1}: no local ONNX file at {2}; recorded without a model file (gates and serving cannot run it).', model.name, v.version, v.source ?? '—'));
      version = store.registerModelVersion({
        model: model.name, runId, sourcePath: source, file: file.file, sha256: file.sha256, size: file.size,
        metrics: runId ? store.finalMetrics(runId) : {}, actor, reason,
      });
      result.versionsCreated++;
    }
    const stage = STAGE[v.stage.toLowerCase()];
    if (stage === undefined) {
      result.warnings.push(t('{0} version {1}: unknown MLflow stage {2}; left as it was.', model.name, v.version, v.stage));
    } else if (stage !== version.stage && stage !== 'none') {
      version = store.setModelStage({ versionId: version.id, to: stage, actor, reason, details: { imported: 'mlflow', mlflowVersion: v.version } });
      result.stageChanges++;
    }
    for (const alias of v.aliases) {
      if (version.aliases.includes(alias)) continue;
      if (!NAME_PATTERN.test(alias) || /^\d+$/.test(alias)) {
        result.warnings.push(t('{0} version {1}: alias {2} is not a name EDD accepts; not imported.', model.name, v.version, JSON.stringify(alias)));
        continue;
      }
      version = store.setModelAlias({ versionId: version.id, alias, actor, reason });
      result.aliasesSet++;
    }
  }
}

/**
 * The registry's file for an imported version: the ONNX file in the version's local source folder, copied as
 * `edd register` copies one (`models/<model>/<sha256>.onnx`). MLflow versions usually hold a pickled or MLmodel
 * flavour EDD cannot run; those are recorded with their MLflow source as the file and the source text's hash.
 */
async function modelFile(store: RunStore, model: string, source: string | null, data: MlflowData): Promise<{ file: string; sha256: string; size: number; onnx: boolean }> {
  const local = source ? localSource(source, data) : undefined;
  if (local && fs.existsSync(local)) {
    const onnx = fs.statSync(local).isFile() ? (local.endsWith('.onnx') ? [local] : []) : (await listTree(local)).filter(f => f.endsWith('.onnx'));
    if (onnx.length) {
      const { sha256, sizeBytes: size } = await hashFile(onnx[0]);
      const file = path.join('models', model, `${sha256}.onnx`);
      const dest = path.join(path.dirname(store.file), file);
      await fs.promises.mkdir(path.dirname(dest), { recursive: true });
      if (!fs.existsSync(dest)) await fs.promises.copyFile(onnx[0], dest);
      return { file, sha256, size, onnx: true };
    }
  }
  const text = source ?? 'mlflow';
  return { file: `mlflow:${text}`, sha256: createHash('sha256').update(text).digest('hex'), size: 0, onnx: false };
}

/** `runs:/<id>/<path>` against the run's local artifact folder, or a local path/`file://` URI. */
function localSource(source: string, data: MlflowData): string | undefined {
  const m = /^runs:\/([^/]+)\/?(.*)$/.exec(source);
  if (m) {
    const uri = data.runs.find(r => r.runId === m[1])?.artifactUri;
    const base = uri ? localPathOf(uri) : undefined;
    return base ? path.join(base, m[2]) : undefined;
  }
  return localPathOf(source);
}
