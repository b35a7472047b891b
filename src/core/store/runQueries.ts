import type { SqlValue } from 'sql.js';
import type { StoreDb } from './db';
import { goneKey, type Segments } from './segments';
import { LEGACY_POINTS, RUN_COLUMNS } from './ops';
import type { ArtifactRecord, ExperimentRecord, ExperimentSummary, HypothesisStatus, JsonObject, ListRunsOptions, RunRecord, RunStatus, RunSummary, StoredMetricPoint } from './types';

// The run store's reads over its index: experiments, runs with their final metrics, metric keys, artifacts. Functions
// of the current in-memory copy (`StoreDb`), which `RunStore` replaces when it merges another process's save.

// Column lists and decoders for the two shapes of run rows we read.
const RECORD_COLUMNS = RUN_COLUMNS as readonly string[];
const SUMMARY_COLUMNS = ['seq', ...RUN_COLUMNS.filter(c => c !== 'config_snapshot' && c !== 'environment')];

type Decoder = (v: SqlValue) => unknown;
const asText: Decoder = v => (v === null ? null : String(v));
const asNumber: Decoder = v => (v === null ? null : Number(v));
const asBool: Decoder = v => (v === null ? null : v !== 0);
const asJson: Decoder = v => (v === null ? null : (JSON.parse(String(v)) as JsonObject));
const COLUMN_FIELDS: Record<string, [field: string, decode: Decoder]> = {
  id: ['id', asText],
  experiment_id: ['experimentId', asText],
  config_path: ['configPath', asText],
  config_snapshot: ['configSnapshot', asText],
  params: ['params', v => (v === null ? {} : asJson(v))],
  status: ['status', asText],
  created_at: ['createdAt', asNumber],
  started_at: ['startedAt', asNumber],
  ended_at: ['endedAt', asNumber],
  duration_ms: ['durationMs', asNumber],
  exit_code: ['exitCode', asNumber],
  git_commit: ['gitCommit', asText],
  git_dirty: ['gitDirty', asBool],
  environment: ['environment', asJson],
  seed: ['seed', asNumber],
  dataset_fingerprint: ['datasetFingerprint', asText],
  peak_memory_bytes: ['peakMemoryBytes', asNumber],
  log_path: ['logPath', asText],
  error: ['error', asText],
  owner_pid: ['ownerPid', asNumber],
  owner_start: ['ownerStartTime', asNumber],
  owner_host: ['ownerHost', asText],
  tags: ['tags', v => (v === null ? {} : asJson(v))],
  external_id: ['externalId', asText],
};

function decodeRow<T>(columns: readonly string[], row: SqlValue[], from = 0): T {
  const out: Record<string, unknown> = {};
  for (let i = from; i < columns.length; i++) {
    const [field, decode] = COLUMN_FIELDS[columns[i]];
    out[field] = decode(row[i]);
  }
  return out as T;
}

const EXPERIMENT_COLUMNS = 'id, name, hypothesis, config_path, hypothesis_status, created_at, updated_at, hypothesis_decided_by, hypothesis_decided_at';

function decodeExperiment(row: SqlValue[]): ExperimentRecord {
  return {
    id: row[0] as string,
    name: row[1] as string,
    hypothesis: row[2] as string | null,
    configPath: row[3] as string | null,
    hypothesisStatus: row[4] as HypothesisStatus | null,
    createdAt: row[5] as number,
    updatedAt: row[6] as number,
    hypothesisDecidedBy: (row[7] ?? null) as string | null,
    hypothesisDecidedAt: (row[8] ?? null) as number | null,
  };
}

/** `NULL` in a value column is how SQLite stores NaN. */
export const metricValue = (v: SqlValue): number => (v === null ? NaN : (v as number));

export function getExperiment(db: StoreDb, id: string): ExperimentRecord | undefined {
      const row = db.one(`SELECT ${EXPERIMENT_COLUMNS} FROM experiments WHERE id = ?`, [id]);
  return row && decodeExperiment(row);
}

/** All experiments (by name), with their run count and newest run time: the first level of the runs tree. */
export function listExperiments(db: StoreDb): ExperimentSummary[] {
      const rows = db.all(
    `SELECT ${EXPERIMENT_COLUMNS},
       (SELECT COUNT(*) FROM runs r WHERE r.experiment_id = e.id) + (SELECT COALESCE(SUM(s.runs), 0) FROM segment_experiments s WHERE s.experiment_id = e.id),
       MAX(COALESCE((SELECT MAX(r.created_at) FROM runs r WHERE r.experiment_id = e.id), -1e300),
           COALESCE((SELECT MAX(s.last_at) FROM segment_experiments s WHERE s.experiment_id = e.id AND s.runs > 0), -1e300))
     FROM experiments e ORDER BY e.name COLLATE NOCASE, e.id`,
  );
  return rows.map(row => ({ ...decodeExperiment(row), runCount: row[9] as number, lastRunAt: row[10] === -1e300 ? null : (row[10] as number) }));
}

/** Runs, newest first, with the final value of each metric (the value at its highest step). */
export function listRuns(db: StoreDb, options: ListRunsOptions = {}): RunSummary[] {
  return listRunsKeyed(db, options).map(r => r.run);
}

/**
 * `listRuns` over the head and its segments: each source gives its first `offset + limit` matches (a segment as many
 * more as there are hidden sealed runs), merged newest first. Segments are read newest first and only while one could
 * still hold a run of the page: a segment whose newest run is older than the page's last one is not read.
 */
export function listRunsAcross(head: StoreDb, segments: Segments, options: ListRunsOptions = {}): RunSummary[] {
  const limit = options.limit ?? -1;
  const offset = options.offset ?? 0;
  if (!Number.isSafeInteger(limit) || !Number.isSafeInteger(offset) || offset < 0) throw new TypeError('limit and offset must be non-negative integers');
  let list = segments.list(head);
  if (list.length === 0) return listRuns(head, options);
  if (options.experimentId !== undefined) {
    const holding = new Set(head.all('SELECT segment FROM segment_experiments WHERE experiment_id = ? AND runs > 0', [options.experimentId]).map(r => r[0] as number));
    list = list.filter(s => holding.has(s.id));
  }
  const wanted = limit < 0 ? -1 : offset + limit;
  if (wanted === 0) return [];
  const gone = segments.gone(head);
  const merged = listRunsKeyed(head, { ...options, offset: 0, limit: wanted });
  const newerFirst = (a: KeyedRun, b: KeyedRun) => b.run.createdAt - a.run.createdAt || b.seq - a.seq;
  for (const segment of list) {
    if (wanted >= 0 && merged.length >= wanted) {
      merged.sort(newerFirst);
      merged.length = wanted;
      if (segment.maxAt !== null && segment.maxAt < merged[wanted - 1].run.createdAt) break;
    }
    for (const r of listRunsKeyed(segments.load(segment), { ...options, offset: 0, limit: wanted < 0 ? -1 : wanted + gone.size })) {
      if (!gone.has(goneKey(segment.id, r.run.id))) merged.push(r);
    }
  }
  merged.sort(newerFirst);
  return merged.slice(offset, wanted < 0 ? undefined : wanted).map(r => r.run);
}

interface KeyedRun {
  run: RunSummary;
  seq: number;
}

function listRunsKeyed(db: StoreDb, options: ListRunsOptions = {}): KeyedRun[] {
      const where: string[] = [];
  const params: SqlValue[] = [];
  if (options.experimentId !== undefined) {
    where.push('experiment_id = ?');
    params.push(options.experimentId);
  }
  if (options.status !== undefined) {
    where.push('status = ?');
    params.push(options.status satisfies RunStatus);
  }
  for (const [key, value] of Object.entries(options.tags ?? {})) {
    where.push('json_extract(tags, ?) = ?');
    params.push(`$.${JSON.stringify(key)}`, value);
  }
  const limit = options.limit ?? -1;
  const offset = options.offset ?? 0;
  if (!Number.isSafeInteger(limit) || !Number.isSafeInteger(offset) || offset < 0) throw new TypeError('limit and offset must be non-negative integers');
  const page = `SELECT %COLUMNS% FROM runs ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY created_at DESC, seq DESC LIMIT ? OFFSET ?`;
  const pageParams = [...params, limit < 0 ? -1 : limit, offset];
  const rows = db.all(page.replace('%COLUMNS%', SUMMARY_COLUMNS.join(', ')), pageParams);
  const bySeq = new Map<number, RunSummary>();
  const runs = rows.map(row => {
    const run = decodeRow<RunSummary>(SUMMARY_COLUMNS, row, 1);
    run.finalMetrics = {};
    bySeq.set(row[0] as number, run);
    return { run, seq: row[0] as number };
  });
  if (runs.length === 0) return runs;
  const finals = db.all(
    `WITH page AS (${page.replace('%COLUMNS%', 'seq')})
     SELECT f.run_seq, k.name, f.value FROM page JOIN metric_final f ON f.run_seq = page.seq JOIN metric_keys k ON k.id = f.key_id
     ORDER BY k.name`,
    pageParams,
  );
  for (const [seq, key, value] of finals) bySeq.get(seq as number)!.finalMetrics[key as string] = metricValue(value);
  return runs;
}

/** The run recorded with this external id (`mlflow:<run id>`), if any. */
export function findRunByExternalId(db: StoreDb, externalId: string): RunRecord | undefined {
  const row = db.one(`SELECT ${RECORD_COLUMNS.join(', ')} FROM runs WHERE external_id = ?`, [externalId]);
  return row ? decodeRow<RunRecord>(RECORD_COLUMNS, row) : undefined;
}

/** The final value of each of a run's metrics (as in `listRuns`), without listing the other runs; `{}` for an unknown run. */
export function finalMetrics(db: StoreDb, runId: string): Record<string, number> {
      const seq = db.runSeq(runId);
  const out: Record<string, number> = {};
  if (seq === undefined) return out;
  for (const [key, value] of db.all('SELECT k.name, f.value FROM metric_final f JOIN metric_keys k ON k.id = f.key_id WHERE f.run_seq = ? ORDER BY k.name', [seq])) {
    out[key as string] = metricValue(value);
  }
  return out;
}

/** The metric keys a run has points for, sorted. */
export function metricKeys(db: StoreDb, runId: string): string[] {
      const seq = db.runSeq(runId);
  if (seq === undefined) return [];
  return db.all('SELECT key_id FROM metric_final WHERE run_seq = ?', [seq]).map(r => db.keyName(r[0] as number)).sort();
}

/** A run's artifacts, by path. */
export function getArtifacts(db: StoreDb, runId: string): ArtifactRecord[] {
      return db.all('SELECT run_id, path, kind, sha256, size FROM artifacts WHERE run_id = ? ORDER BY path', [runId]).map(r => ({
    runId: r[0] as string,
    path: r[1] as string,
    kind: r[2] as string | null,
    sha256: r[3] as string | null,
    size: r[4] as number | null,
  }));
}


/** The points of a run still in a migrated version 4 index (until the first save moves them to the run's file). */
export function legacyPoints(db: StoreDb, seq: number, key: string | undefined): StoredMetricPoint[] {
  if (!db.hasTable(LEGACY_POINTS)) return [];
  const keyFilter = key === undefined ? '' : ' AND k.name = ?';
  return db.all(`SELECT k.name, p.step, p.value, p.time FROM ${LEGACY_POINTS} p JOIN metric_keys k ON k.id = p.key_id WHERE p.run_seq = ?${keyFilter}`, key === undefined ? [seq] : [seq, key])
    .map(([name, step, value, time]) => ({ key: name as string, step: step as number, value: metricValue(value), time: time as number | null }));
}

/** A run's row with all its columns (the config snapshot and environment only for a run not yet moved to its file). */
export function getRunRow(db: StoreDb, id: string): RunRecord | undefined {
  const row = db.one(`SELECT ${RECORD_COLUMNS.join(', ')} FROM runs WHERE id = ?`, [id]);
  return row && decodeRow<RunRecord>(RECORD_COLUMNS, row);
}

/**
 * Points by key, then step; of several with the same key and step the last one written wins. Histories are mostly
 * written in step order, so each key's points are usually sorted already and nothing is copied.
 */
export function latestByKeyAndStep(points: StoredMetricPoint[]): StoredMetricPoint[] {
  const byKey = new Map<string, StoredMetricPoint[]>();
  for (const p of points) {
    let list = byKey.get(p.key);
    if (!list) byKey.set(p.key, (list = []));
    list.push(p);
  }
  const out: StoredMetricPoint[] = [];
  for (const key of [...byKey.keys()].sort()) {
    let list = byKey.get(key)!;
    let ordered = true;
    for (let i = 1; i < list.length && ordered; i++) ordered = list[i].step > list[i - 1].step;
    if (!ordered) {
      list = list.sort((a, b) => a.step - b.step); // stable: equal steps stay in the order written
      list = list.filter((p, i) => i === list.length - 1 || list[i + 1].step !== p.step);
    }
    for (const p of list) out.push(p);
  }
  return out;
}
