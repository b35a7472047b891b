// Team sync through an MLflow tracking server. Push: EDD's own finished runs become MLflow runs (runs/create, then
// runs/log-batch within MLflow's limits, the config snapshot as an artifact, runs/update). Pull: runs/search and
// metrics/get-history into the store, marked `edd.origin: mlflow-remote` with the external id `mlflow:<run id>`.
//
// Resumable and idempotent: progress is written to `.edd/mlflow-sync.json` after every request, each pushed run
// carries the tag `edd.run_id` (so a run created just before a crash is found again instead of created twice), and
// a batch re-sent after a lost answer holds the same points (MLflow keeps one copy of an identical point).
import * as fs from 'fs';
import * as path from 'path';
import { t } from '../l10n';
import type { JsonObject, RunRecord, RunStatus, RunStore, StoredMetricPoint } from '../store';
import { importMlflow, type ImportResult } from './importer';
import { MlflowApiError, MlflowRest, type RestOptions } from './rest';
import { mlflowStatus, type MlflowData, type MlflowMetric, type MlflowRun } from './types';

/** MLflow's per-request limits of runs/log-batch. */
export const LIMITS = { metrics: 1000, params: 100, tags: 100 } as const;

interface RunProgress {
  mlflowRunId: string;
  /** Created by live logging during `edd run`: some points may be on the server already, in no particular order. */
  live?: boolean;
  paramsSent?: boolean;
  tagsSent?: boolean;
  metricsSent: number;
  artifactSent?: boolean;
  done?: boolean;
}

interface ServerState {
  experiments: Record<string, string>;
  pushed: Record<string, RunProgress>;
  /** MLflow run id → its end time when pulled (a finished run that has not changed is not fetched again). */
  pulled: Record<string, number | null>;
  /** EDD model version id → the MLflow model version it was registered as. */
  versions?: Record<string, string>;
}

interface SyncStateFile {
  version: 1;
  servers: Record<string, ServerState>;
}

/** The sync state file of a store: `.edd/mlflow-sync.json` beside `edd.sqlite`. */
export function syncStatePath(storeFile: string): string {
  return path.join(path.dirname(storeFile), 'mlflow-sync.json');
}

export class SyncState {
  private data: SyncStateFile;
  constructor(private readonly file: string) {
    let parsed: SyncStateFile | undefined;
    try {
      parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as SyncStateFile;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
        // A damaged state file only costs a slower sync: the `edd.run_id` tags find what was pushed.
        fs.renameSync(file, `${file}.damaged-${Date.now()}`);
      }
    }
    this.data = parsed?.version === 1 && typeof parsed.servers === 'object' ? parsed : { version: 1, servers: {} };
  }

  server(url: string): ServerState {
    const s = (this.data.servers[url] ??= { experiments: {}, pushed: {}, pulled: {} });
    s.pulled ??= {};
    return s;
  }

  save(): void {
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    const tmp = `${this.file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(this.data));
    fs.renameSync(tmp, this.file);
  }
}

export interface SyncOptions extends RestOptions {
  trackingUri: string;
  /** Push only these runs (the end of a live-logged run). */
  only?: readonly string[];
  /** Called after each run pushed or pulled (for progress). */
  onProgress?: (what: 'pushed' | 'pulled', done: number, total: number) => void;
}

export interface PushResult {
  pushed: number;
  alreadyPushed: number;
  /** Runs skipped because they are not finished yet, or came from MLflow. */
  skipped: number;
  metricPoints: number;
  /** Aliases set on the server's registered models (EDD's aliases and stages of pushed runs' versions). */
  aliases: number;
  requests: number;
  warnings: string[];
}

const TO_MLFLOW: Record<RunStatus, string> = { queued: 'SCHEDULED', running: 'RUNNING', finished: 'FINISHED', failed: 'FAILED', cancelled: 'KILLED', interrupted: 'KILLED' };
const TERMINAL: readonly RunStatus[] = ['finished', 'failed', 'cancelled', 'interrupted'];

type RestRun = {
  info: { run_id: string; experiment_id: string; run_name?: string; status?: string; start_time?: number | string; end_time?: number | string; user_id?: string; artifact_uri?: string; lifecycle_stage?: string };
  data?: { metrics?: Array<{ key: string }>; params?: Array<{ key: string; value: string }>; tags?: Array<{ key: string; value: string }> };
};

/** A metric value for MLflow's JSON: protobuf's JSON mapping writes NaN and the infinities as strings. */
function jsonValue(v: number): number | string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return 'Infinity';
  if (v === -Infinity) return '-Infinity';
  return v;
}

function fromJsonValue(v: unknown): number {
  if (typeof v === 'number') return v;
  if (v === 'NaN') return NaN;
  if (v === 'Infinity') return Infinity;
  if (v === '-Infinity') return -Infinity;
  return Number(v);
}

/** EDD params (a JSON object, possibly nested) as MLflow's flat string params: `a.b` for nesting. */
export function flattenParams(params: JsonObject, prefix = '', out: Array<{ key: string; value: string }> = []): Array<{ key: string; value: string }> {
  for (const [k, v] of Object.entries(params)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) flattenParams(v as JsonObject, key, out);
    else out.push({ key, value: typeof v === 'string' ? v : JSON.stringify(v) });
  }
  return out;
}

const chunks = <T>(items: readonly T[], size: number): T[][] => {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
};

/** Pushes the store's finished runs that the server does not have yet (or has only partly). */
export async function pushRuns(store: RunStore, options: SyncOptions): Promise<PushResult> {
  const rest = new MlflowRest(options.trackingUri, options);
  const state = new SyncState(syncStatePath(store.file));
  const server = state.server(rest.url);
  const result: PushResult = { pushed: 0, alreadyPushed: 0, skipped: 0, metricPoints: 0, aliases: 0, requests: 0, warnings: [] };
  const runs = store.listRuns().reverse();
  const candidates = runs.filter(r => TERMINAL.includes(r.status) && !r.externalId?.startsWith('mlflow:') && (!options.only || options.only.includes(r.id)));
  result.skipped = runs.length - candidates.length;
  let artifactsRefused = false;
  let done = 0;
  for (const summary of candidates) {
    const progress0 = server.pushed[summary.id];
    if (progress0?.done) {
      result.alreadyPushed++;
      continue;
    }
    const run = store.getRun(summary.id)!;
    const experimentId = await ensureExperiment(rest, server, run.experimentId, result);
    state.save();
    let progress = progress0;
    if (!progress) {
      const found = await rest.post<{ runs?: RestRun[] }>('runs/search', { experiment_ids: [experimentId], filter: `tags.\`edd.run_id\` = '${run.id}'`, max_results: 1 });
      result.requests++;
      let mlflowRunId = found.runs?.[0]?.info.run_id;
      if (!mlflowRunId) {
        const created = await rest.post<{ run: RestRun }>('runs/create', {
          experiment_id: experimentId, start_time: run.startedAt ?? run.createdAt, run_name: `${run.experimentId}-${run.id.slice(0, 8)}`,
          tags: [{ key: 'edd.run_id', value: run.id }],
        });
        result.requests++;
        mlflowRunId = created.run.info.run_id;
      }
      progress = server.pushed[run.id] = { mlflowRunId, metricsSent: 0 };
      state.save();
    }
    const runId = progress.mlflowRunId;
    if (!progress.paramsSent) {
      for (const batch of chunks(flattenParams(run.params), LIMITS.params)) {
        await rest.post('runs/log-batch', { run_id: runId, params: batch });
        result.requests++;
      }
      progress.paramsSent = true;
      state.save();
    }
    if (!progress.tagsSent) {
      for (const batch of chunks(tagsOf(run), LIMITS.tags)) {
        await rest.post('runs/log-batch', { run_id: runId, tags: batch });
        result.requests++;
      }
      progress.tagsSent = true;
      state.save();
    }
    let points = store.getMetrics(run.id);
    if (progress.live) {
      // Live logging sent some points in the order they came: send only what the server does not hold yet.
      const held = new Set<string>();
      for (const key of new Set(points.map(p => p.key))) for (const m of await history(rest, runId, key)) held.add(`${m.key}\0${m.step}\0${m.timestamp}`);
      result.requests += new Set(points.map(p => p.key)).size;
      points = points.filter(p => !held.has(`${p.key}\0${p.step}\0${metricJson(p, run).timestamp}`));
      let sent = 0;
      for (const batch of chunks(points, LIMITS.metrics)) {
        await rest.post('runs/log-batch', { run_id: runId, metrics: batch.map(p => metricJson(p, run)) });
        result.requests++;
        sent += batch.length;
        result.metricPoints += batch.length;
      }
      progress.live = false;
      progress.metricsSent = sent;
      points = points.slice(0, sent);
      state.save();
    }
    while (progress.metricsSent < points.length) {
      const batch = points.slice(progress.metricsSent, progress.metricsSent + LIMITS.metrics);
      await rest.post('runs/log-batch', { run_id: runId, metrics: batch.map(p => metricJson(p, run)) });
      result.requests++;
      progress.metricsSent += batch.length;
      result.metricPoints += batch.length;
      state.save();
    }
    if (!progress.artifactSent && run.configSnapshot && !artifactsRefused) {
      artifactsRefused = !(await putConfig(rest, runId, run.configSnapshot, result));
      if (!artifactsRefused) progress.artifactSent = true;
      state.save();
    }
    await rest.post('runs/update', { run_id: runId, status: TO_MLFLOW[run.status], end_time: run.endedAt ?? undefined });
    result.requests++;
    progress.done = true;
    state.save();
    result.pushed++;
    options.onProgress?.('pushed', ++done, candidates.length);
  }
  await pushRegistry(store, rest, server, state, result);
  return result;
}

/**
 * Mirrors the registry of pushed runs: each EDD version becomes an MLflow model version of the same model (source
 * `runs:/<run>/model`, tagged `edd.version_id` so a retry finds it), and its aliases and stage (`staging`,
 * `production`) become MLflow aliases — MLflow 3's replacement for stages. Aliases only move, never get removed.
 */
async function pushRegistry(store: RunStore, rest: MlflowRest, server: ServerState, state: SyncState, result: PushResult): Promise<void> {
  const versions = (server.versions ??= {});
  for (const model of store.listModels()) {
    for (const v of [...store.listModelVersions(model.name)].reverse()) {
      const pushedRun = v.runId ? server.pushed[v.runId] : undefined;
      if (!pushedRun?.done || v.sourcePath?.startsWith('mlflow:')) continue;
      let mlflowVersion: string | undefined = versions[v.id];
      if (!mlflowVersion) {
        try {
          await rest.post('registered-models/create', { name: model.name });
        } catch (e) {
          if (!(e instanceof MlflowApiError) || e.code !== 'RESOURCE_ALREADY_EXISTS') throw e;
        }
        const found = await rest.get<{ model_versions?: Array<{ version: string }> }>('model-versions/search', { filter: `name = '${model.name}' and tags.\`edd.version_id\` = '${v.id}'` });
        mlflowVersion = found.model_versions?.[0]?.version;
        if (!mlflowVersion) {
          const created = await rest.post<{ model_version: { version: string } }>('model-versions/create', {
            name: model.name, source: `runs:/${pushedRun.mlflowRunId}/model`, run_id: pushedRun.mlflowRunId, tags: [{ key: 'edd.version_id', value: v.id }, { key: 'edd.version', value: String(v.version) }],
          });
          mlflowVersion = created.model_version.version;
        }
        result.requests += 3;
        versions[v.id] = mlflowVersion;
        state.save();
      }
      const aliases = [...v.aliases, ...(v.stage === 'staging' || v.stage === 'production' ? [v.stage] : [])];
      for (const alias of aliases) {
        await rest.post('registered-models/alias', { name: model.name, alias, version: mlflowVersion });
        result.requests++;
        result.aliases++;
      }
    }
  }
}

function tagsOf(run: RunRecord): Array<{ key: string; value: string }> {
  const tags: Record<string, string> = { ...run.tags, 'edd.experiment': run.experimentId };
  if (run.gitCommit) tags['mlflow.source.git.commit'] = run.gitCommit;
  if (run.seed !== null) tags['edd.seed'] = String(run.seed);
  return Object.entries(tags).map(([key, value]) => ({ key, value }));
}

// The time of a point logged without one is the run's start, so that a re-sent batch is identical.
export const metricJson = (p: Pick<StoredMetricPoint, 'key' | 'value' | 'step'> & { time?: number | null }, run: RunRecord) => ({ key: p.key, value: jsonValue(p.value), timestamp: p.time ?? run.startedAt ?? run.createdAt, step: p.step });

export async function ensureExperiment(rest: MlflowRest, server: ServerState, name: string, result: Pick<PushResult, 'requests'>): Promise<string> {
  const known = server.experiments[name];
  if (known) return known;
  let id: string | undefined;
  try {
    id = (await rest.get<{ experiment: { experiment_id: string } }>('experiments/get-by-name', { experiment_name: name })).experiment.experiment_id;
  } catch (e) {
    if (!(e instanceof MlflowApiError) || e.code !== 'RESOURCE_DOES_NOT_EXIST') throw e;
  }
  result.requests++;
  if (!id) {
    try {
      id = (await rest.post<{ experiment_id: string }>('experiments/create', { name })).experiment_id;
    } catch (e) {
      // created by a teammate (or by our own request whose answer was lost) in the meantime
      if (!(e instanceof MlflowApiError) || e.code !== 'RESOURCE_ALREADY_EXISTS') throw e;
      id = (await rest.get<{ experiment: { experiment_id: string } }>('experiments/get-by-name', { experiment_name: name })).experiment.experiment_id;
    }
    result.requests++;
  }
  server.experiments[name] = id;
  return id;
}

/** Uploads the config snapshot as `edd/config.yaml`; false when the server does not proxy artifacts. */
async function putConfig(rest: MlflowRest, runId: string, snapshot: string, result: PushResult): Promise<boolean> {
  const info = await rest.get<{ run: RestRun }>('runs/get', { run_id: runId });
  result.requests++;
  const uri = info.run.info.artifact_uri ?? '';
  const m = /^mlflow-artifacts:\/(?:\/[^/]*)?\/?(.*)$/.exec(uri);
  if (!m) {
    result.warnings.push(t('The server stores artifacts at {0}, which EDD cannot upload to; config snapshots were not sent (start it with --serve-artifacts).', uri));
    return false;
  }
  try {
    await rest.putArtifact(`${m[1].replace(/\/$/, '')}/edd/config.yaml`, snapshot);
    result.requests++;
    return true;
  } catch (e) {
    if (!(e instanceof MlflowApiError)) throw e;
    result.warnings.push(t('The server refused the config snapshot upload ({0}); runs were pushed without it.', e.message));
    return false;
  }
}

export interface PullResult extends ImportResult {
  fetched: number;
  unchanged: number;
  own: number;
}

/** Pulls the server's runs (other than the ones this store pushed) into the store, marked remote. */
export async function pullRuns(store: RunStore, options: SyncOptions): Promise<PullResult> {
  const rest = new MlflowRest(options.trackingUri, options);
  const state = new SyncState(syncStatePath(store.file));
  const server = state.server(rest.url);
  const experiments: MlflowData['experiments'] = [];
  let token: string | undefined;
  do {
    const page = await rest.post<{ experiments?: Array<{ experiment_id: string; name: string; artifact_location?: string; lifecycle_stage?: string }>; next_page_token?: string }>(
      'experiments/search', { max_results: 1000, page_token: token });
    for (const e of page.experiments ?? []) if (e.lifecycle_stage !== 'deleted') experiments.push({ id: e.experiment_id, name: e.name, artifactLocation: e.artifact_location ?? null });
    token = page.next_page_token || undefined;
  } while (token);
  const names = new Map(experiments.map(e => [e.id, e.name]));
  const runs: MlflowRun[] = [];
  let own = 0;
  let unchanged = 0;
  const listed: RestRun[] = [];
  if (experiments.length) {
    do {
      const page = await rest.post<{ runs?: RestRun[]; next_page_token?: string }>('runs/search', { experiment_ids: experiments.map(e => e.id), max_results: 1000, page_token: token, run_view_type: 'ACTIVE_ONLY' });
      listed.push(...(page.runs ?? []));
      token = page.next_page_token || undefined;
    } while (token);
  }
  for (const r of listed) {
    const tags = Object.fromEntries((r.data?.tags ?? []).map(x => [x.key, x.value]));
    if (tags['edd.run_id'] && store.getRun(tags['edd.run_id'])) {
      own++;
      continue;
    }
    const status = mlflowStatus(r.info.status) ?? 'RUNNING';
    const endTime = r.info.end_time === undefined || r.info.end_time === null ? null : Number(r.info.end_time);
    const id = r.info.run_id;
    if (status !== 'RUNNING' && id in server.pulled && server.pulled[id] === endTime && store.findRunByExternalId(`mlflow:${id}`)) {
      unchanged++;
      continue;
    }
    const metrics: MlflowMetric[] = [];
    for (const key of new Set((r.data?.metrics ?? []).map(m => m.key))) metrics.push(...(await history(rest, id, key)));
    runs.push({
      runId: id, experimentId: r.info.experiment_id, experimentName: names.get(r.info.experiment_id) ?? r.info.experiment_id, name: r.info.run_name ?? null, status,
      startTime: r.info.start_time === undefined ? null : Number(r.info.start_time), endTime, user: r.info.user_id ?? null, artifactUri: r.info.artifact_uri ?? null,
      params: Object.fromEntries((r.data?.params ?? []).map(x => [x.key, x.value])), tags, metrics,
    });
  }
  const imported = await importMlflow(store, { source: rest.url, experiments, runs, models: [] }, { origin: 'mlflow-remote' });
  for (const r of runs) server.pulled[r.runId] = r.status === 'RUNNING' ? null : r.endTime;
  state.save();
  options.onProgress?.('pulled', runs.length, runs.length);
  return { ...imported, fetched: runs.length, unchanged, own };
}

async function history(rest: MlflowRest, runId: string, key: string): Promise<MlflowMetric[]> {
  const out: MlflowMetric[] = [];
  let token: string | undefined;
  do {
    const page = await rest.get<{ metrics?: Array<{ key: string; value: unknown; timestamp: number | string; step?: number | string }>; next_page_token?: string }>(
      'metrics/get-history', { run_id: runId, metric_key: key, max_results: 25000, page_token: token });
    for (const m of page.metrics ?? []) out.push({ key: m.key, value: fromJsonValue(m.value), timestamp: Number(m.timestamp), step: Number(m.step ?? 0) });
    token = page.next_page_token || undefined;
  } while (token);
  return out;
}
