import type { SqlValue } from 'sql.js';
import type { StoreDb } from './db';
import { StoreNotFoundError } from './errors';
import { applyRegistryOp, type RegistryOp } from './registryOps';
import { HYPOTHESIS_STATUSES, RUN_STATUSES, type HypothesisStatus, type ArtifactRecord, type ExperimentInput, type JsonObject, type MetricPoint, type NewRun, type RunPatch, type RunRecord, type RunStatus } from './types';

// Every mutation is an `Op`: validated and encoded once, applied to the in-memory copy, and kept in the journal until
// a save has written it. When another process wrote the file in between, the save loads that copy and applies the
// journal to it again (`replay`), so both processes' changes end up in the file. Ops hold encoded values only (no
// caller objects), so a caller mutating its objects afterwards cannot change what is replayed.

/** Metric points in columns (cheaper to keep in the journal than a million small objects). */
export interface MetricColumns {
  runIds: string[];
  keys: string[];
  steps: Float64Array;
  values: Float64Array;
  times: Float64Array;
}

export type Op =
  | { kind: 'experiment'; id: string; name?: string; hypothesis?: string | null; configPath?: string | null; now: number }
  | { kind: 'createRun'; row: SqlValue[]; explicitId?: boolean }
  | { kind: 'updateRun'; id: string; sets: [column: string, value: SqlValue][] }
  | { kind: 'metrics'; points: MetricColumns }
  | { kind: 'artifact'; row: SqlValue[] }
  | { kind: 'deleteRun'; id: string }
  | { kind: 'hypothesis'; id: string; status: HypothesisStatus; decidedBy: string | null; now: number }
  | RegistryOp;

export { StoreNotFoundError };

/** Where a version 4 store's metric points wait, after the migration, to be moved into the runs' history files. */
export const LEGACY_POINTS = 'metric_points_v4';

// ---------------------------------------------------------------------------------------------------------------
// Columns and encoding

/** `runs` columns in insert order (everything except `seq`). */
export const RUN_COLUMNS = [
  'id', 'experiment_id', 'config_path', 'config_snapshot', 'params', 'status', 'created_at', 'started_at', 'ended_at',
  'duration_ms', 'exit_code', 'git_commit', 'git_dirty', 'environment', 'seed', 'dataset_fingerprint',
  'peak_memory_bytes', 'log_path', 'error', 'owner_pid', 'owner_start', 'owner_host', 'tags', 'external_id',
] as const;

type Encoder = (value: unknown, field: string) => SqlValue;

const text: Encoder = (v, f) => {
  if (v === null) return null;
  if (typeof v !== 'string') throw new TypeError(`${f} must be a string or null, got ${describe(v)}`);
  return v;
};
const num: Encoder = (v, f) => {
  if (v === null) return null;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new TypeError(`${f} must be a finite number or null, got ${describe(v)}`);
  return v;
};
const int: Encoder = (v, f) => {
  if (v === null) return null;
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw new TypeError(`${f} must be an integer or null, got ${describe(v)}`);
  return v;
};
const bool: Encoder = (v, f) => {
  if (v === null) return null;
  if (typeof v !== 'boolean') throw new TypeError(`${f} must be true, false or null, got ${describe(v)}`);
  return v ? 1 : 0;
};
const jsonObject = (nullable: boolean): Encoder => (v, f) => {
  if (v === null && nullable) return null;
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new TypeError(`${f} must be an object${nullable ? ' or null' : ''}, got ${describe(v)}`);
  return JSON.stringify(v);
};
const stringMap: Encoder = (v, f) => {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new TypeError(`${f} must be an object of strings, got ${describe(v)}`);
  for (const [k, s] of Object.entries(v)) {
    if (typeof s !== 'string') throw new TypeError(`${f}.${k} must be a string, got ${describe(s)}`);
  }
  return JSON.stringify(v);
};
const status: Encoder = (v, f) => {
  if (!RUN_STATUSES.includes(v as RunStatus)) throw new TypeError(`${f} must be one of ${RUN_STATUSES.join(', ')}, got ${describe(v)}`);
  return v as string;
};

/** The patchable run fields: property → column and encoder. */
const RUN_FIELDS: Record<keyof RunPatch, [column: string, encode: Encoder]> = {
  configPath: ['config_path', text],
  configSnapshot: ['config_snapshot', text],
  params: ['params', jsonObject(false)],
  status: ['status', status],
  startedAt: ['started_at', num],
  endedAt: ['ended_at', num],
  durationMs: ['duration_ms', num],
  exitCode: ['exit_code', int],
  gitCommit: ['git_commit', text],
  gitDirty: ['git_dirty', bool],
  environment: ['environment', jsonObject(true)],
  seed: ['seed', int],
  datasetFingerprint: ['dataset_fingerprint', text],
  peakMemoryBytes: ['peak_memory_bytes', num],
  logPath: ['log_path', text],
  error: ['error', text],
  ownerPid: ['owner_pid', int],
  ownerStartTime: ['owner_start', int],
  ownerHost: ['owner_host', text],
  tags: ['tags', stringMap],
  externalId: ['external_id', text],
};

function describe(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v);
  if (typeof v === 'number' || typeof v === 'boolean' || v === null || v === undefined) return String(v);
  return Array.isArray(v) ? 'an array' : typeof v;
}

function requireId(v: unknown, field: string): string {
  if (typeof v !== 'string' || v.length === 0) throw new TypeError(`${field} must be a non-empty string, got ${describe(v)}`);
  return v;
}

// ---------------------------------------------------------------------------------------------------------------
// Building ops (validation happens here, before anything is applied)

export function experimentOp(e: ExperimentInput, now: number): Op {
  if (typeof e !== 'object' || e === null) throw new TypeError('upsertExperiment takes an experiment object');
  const op: Op = { kind: 'experiment', id: requireId(e.id, 'experiment id'), now };
  if (e.name !== undefined) op.name = requireId(e.name, 'experiment name');
  if (e.hypothesis !== undefined) op.hypothesis = text(e.hypothesis, 'hypothesis') as string | null;
  if (e.configPath !== undefined) op.configPath = text(e.configPath, 'configPath') as string | null;
  return op;
}

export function hypothesisOp(id: string, status: HypothesisStatus, decidedBy: string | null, now: number): Op {
  if (!HYPOTHESIS_STATUSES.includes(status)) throw new TypeError(`hypothesis status must be one of ${HYPOTHESIS_STATUSES.join(', ')}, got ${describe(status)}`);
  return { kind: 'hypothesis', id: requireId(id, 'experiment id'), status, decidedBy: text(decidedBy, 'decidedBy') as string | null, now };
}

export function createRunOp(r: NewRun, id: string, now: number): { op: Extract<Op, { kind: 'createRun' }>; record: RunRecord } {
  const record: RunRecord = {
    id: r.id === undefined ? id : requireId(r.id, 'run id'),
    experimentId: requireId(r.experimentId, 'experimentId'),
    configPath: r.configPath ?? null,
    configSnapshot: r.configSnapshot ?? null,
    params: r.params ?? {},
    status: r.status ?? 'queued',
    createdAt: r.createdAt ?? now,
    startedAt: r.startedAt ?? null,
    endedAt: r.endedAt ?? null,
    durationMs: r.durationMs ?? null,
    exitCode: r.exitCode ?? null,
    gitCommit: r.gitCommit ?? null,
    gitDirty: r.gitDirty ?? null,
    environment: r.environment ?? null,
    seed: r.seed ?? null,
    datasetFingerprint: r.datasetFingerprint ?? null,
    peakMemoryBytes: r.peakMemoryBytes ?? null,
    logPath: r.logPath ?? null,
    error: r.error ?? null,
    ownerPid: r.ownerPid ?? null,
    ownerStartTime: r.ownerStartTime ?? null,
    ownerHost: r.ownerHost ?? null,
    tags: r.tags ?? {},
    externalId: r.externalId ?? null,
  };
  const row: SqlValue[] = [record.id, record.experimentId];
  for (const column of RUN_COLUMNS.slice(2)) {
    if (column === 'created_at') {
      row.push(num(record.createdAt, 'createdAt'));
      continue;
    }
    const field = (Object.keys(RUN_FIELDS) as (keyof RunPatch)[]).find(k => RUN_FIELDS[k][0] === column)!;
    row.push(RUN_FIELDS[field][1](record[field], field));
  }
  // What the caller gets back is what a read would return (JSON round trip), not the caller's own objects.
  record.params = JSON.parse(row[RUN_COLUMNS.indexOf('params')] as string) as JsonObject;
  const env = row[RUN_COLUMNS.indexOf('environment')];
  record.environment = env === null ? null : (JSON.parse(env as string) as JsonObject);
  record.tags = JSON.parse(row[RUN_COLUMNS.indexOf('tags')] as string) as Record<string, string>;
  return { op: { kind: 'createRun', row, ...(r.id !== undefined ? { explicitId: true } : {}) }, record };
}

export function updateRunOp(id: string, patch: RunPatch): Extract<Op, { kind: 'updateRun' }> {
  requireId(id, 'run id');
  if (typeof patch !== 'object' || patch === null) throw new TypeError('the run patch must be an object');
  const sets: [string, SqlValue][] = [];
  for (const [field, value] of Object.entries(patch)) {
    if (value === undefined) continue;
    const spec = RUN_FIELDS[field as keyof RunPatch];
    if (!spec) throw new TypeError(`unknown or read-only run field "${field}"; writable fields: ${Object.keys(RUN_FIELDS).join(', ')}`);
    sets.push([spec[0], spec[1](value, field)]);
  }
  return { kind: 'updateRun', id, sets };
}

/**
 * Validates metric points. Returns them in columns (what is appended to the runs' history files) and the op the index
 * gets: only the last point per run and key (the highest step; a later point wins a tie), for `metric_final`.
 */
export function metricsOp(points: readonly MetricPoint[], now: number): { op: Op; points: MetricColumns } {
  if (!Array.isArray(points)) throw new TypeError('addMetrics takes an array of metric points');
  const n = points.length;
  const cols: MetricColumns = { runIds: new Array<string>(n), keys: new Array<string>(n), steps: new Float64Array(n), values: new Float64Array(n), times: new Float64Array(n) };
  const finals = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const p = points[i];
    if (typeof p !== 'object' || p === null) throw new TypeError(`metric point ${i} is not an object`);
    const { runId, key, step, value, time } = p;
    if (typeof runId !== 'string' || runId.length === 0) throw new TypeError(`metric point ${i}: runId must be a non-empty string, got ${describe(runId)}`);
    if (typeof key !== 'string' || key.length === 0) throw new TypeError(`metric point ${i}: key must be a non-empty string, got ${describe(key)}`);
    if (typeof step !== 'number' || !Number.isSafeInteger(step)) throw new TypeError(`metric point ${i} (${key}): step must be an integer, got ${describe(step)}`);
    if (typeof value !== 'number') throw new TypeError(`metric point ${i} (${key}): value must be a number, got ${describe(value)}`);
    if (time !== undefined && (typeof time !== 'number' || !Number.isFinite(time))) throw new TypeError(`metric point ${i} (${key}): time must be epoch milliseconds, got ${describe(time)}`);
    cols.runIds[i] = runId;
    cols.keys[i] = key;
    cols.steps[i] = step;
    cols.values[i] = value;
    cols.times[i] = time ?? now;
    const k = `${runId}\0${key}`;
    const prev = finals.get(k);
    if (prev === undefined || step >= cols.steps[prev]) finals.set(k, i);
  }
  const m = finals.size;
  const last: MetricColumns = { runIds: new Array<string>(m), keys: new Array<string>(m), steps: new Float64Array(m), values: new Float64Array(m), times: new Float64Array(m) };
  let j = 0;
  for (const i of finals.values()) {
    last.runIds[j] = cols.runIds[i];
    last.keys[j] = cols.keys[i];
    last.steps[j] = cols.steps[i];
    last.values[j] = cols.values[i];
    last.times[j] = cols.times[i];
    j++;
  }
  return { op: { kind: 'metrics', points: last }, points: cols };
}

export function artifactOp(a: ArtifactRecord): Op {
  if (typeof a !== 'object' || a === null) throw new TypeError('the artifact must be an object');
  const size = a.size ?? null;
  if (size !== null && (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0)) throw new TypeError(`artifact size must be a non-negative integer or null, got ${describe(size)}`);
  return {
    kind: 'artifact',
    row: [requireId(a.runId, 'artifact runId'), requireId(a.path, 'artifact path'), text(a.kind ?? null, 'artifact kind'), text(a.sha256 ?? null, 'artifact sha256'), size],
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Applying ops. `strict`: the live call (throw on a missing run); otherwise a replay onto another process's copy,
// where a run that process deleted is simply skipped.

const FINAL_UPSERT =
  'INSERT INTO metric_final (run_seq, key_id, step, value, time) VALUES (?, ?, ?, ?, ?) ' +
  'ON CONFLICT (run_seq, key_id) DO UPDATE SET step = excluded.step, value = excluded.value, time = excluded.time ' +
  'WHERE excluded.step >= metric_final.step';

export function applyOp(db: StoreDb, op: Op, strict: boolean): void {
  switch (op.kind) {
    case 'experiment':
      return applyExperiment(db, op);
    case 'hypothesis':
      db.run('INSERT OR IGNORE INTO experiments (id, name, created_at, updated_at) VALUES (?, ?, ?, ?)', [op.id, op.id, op.now, op.now]);
      db.run('UPDATE experiments SET hypothesis_status = ?, hypothesis_decided_by = ?, hypothesis_decided_at = ?, updated_at = ? WHERE id = ?',
        [op.status, op.decidedBy, op.now, op.now, op.id]);
      return;
    case 'createRun': {
      const id = op.row[0] as string;
      const experimentId = op.row[1] as string;
      const createdAt = op.row[RUN_COLUMNS.indexOf('created_at')] as number;
      if (strict && db.runSeq(id) !== undefined) throw new Error(`a run with id ${id} already exists`);
      const externalId = op.row[RUN_COLUMNS.indexOf('external_id')];
      if (strict && externalId !== null && db.one('SELECT 1 FROM runs WHERE external_id = ?', [externalId])) {
        throw new Error(`a run with external id ${String(externalId)} already exists`);
      }
      // Only a caller-chosen id can collide with a sealed run (generated ones are random UUIDs), so only then are
      // the segments read.
      if (strict && (op.explicitId || externalId !== null) && db.sealedHas(op.explicitId ? id : null, externalId as string | null)) {
        throw new Error(`a run with ${op.explicitId && db.sealedHas(id, null) ? `id ${id}` : `external id ${String(externalId)}`} already exists`);
      }
      db.run('INSERT OR IGNORE INTO experiments (id, name, created_at, updated_at) VALUES (?, ?, ?, ?)', [experimentId, experimentId, createdAt, createdAt]);
      // Run numbers keep growing after the runs holding the highest ones were sealed (meta seq_floor).
      db.run(
        `INSERT OR IGNORE INTO runs (seq, ${RUN_COLUMNS.join(', ')}) VALUES (` +
          "(SELECT MAX(COALESCE((SELECT MAX(seq) FROM runs), 0), COALESCE((SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'seq_floor'), 0)) + 1), " +
          `${RUN_COLUMNS.map(() => '?').join(', ')})`,
        op.row,
      );
      return;
    }
    case 'updateRun': {
      if (db.runSeqForWrite(op.id) === undefined) {
        if (strict) throw new StoreNotFoundError(`no run with id ${op.id}`);
        return;
      }
      if (op.sets.length === 0) return;
      db.run(`UPDATE runs SET ${op.sets.map(([c]) => `${c} = ?`).join(', ')} WHERE id = ?`, [...op.sets.map(([, v]) => v), op.id]);
      if (strict && db.changes() === 0) throw new StoreNotFoundError(`no run with id ${op.id}`);
      return;
    }
    case 'metrics':
      return applyMetrics(db, op.points, strict);
    case 'artifact': {
      const runId = op.row[0] as string;
      if (db.runSeqForWrite(runId) === undefined) {
        if (strict) throw new StoreNotFoundError(`no run with id ${runId} (adding artifact ${op.row[1] as string})`);
        return;
      }
      db.run('INSERT OR REPLACE INTO artifacts (run_id, path, kind, sha256, size) VALUES (?, ?, ?, ?, ?)', op.row);
      return;
    }
    case 'deleteRun': {
      const seq = db.runSeqForWrite(op.id);
      if (seq === undefined) return;
      if (db.hasTable(LEGACY_POINTS)) db.run(`DELETE FROM ${LEGACY_POINTS} WHERE run_seq = ?`, [seq]);
      db.run('DELETE FROM metric_final WHERE run_seq = ?', [seq]);
      db.run('DELETE FROM artifacts WHERE run_id = ?', [op.id]);
      db.run('DELETE FROM runs WHERE seq = ?', [seq]);
      db.forgetRun(op.id);
      return;
    }
    default:
      return applyRegistryOp(db, op, strict);
  }
}

function applyExperiment(db: StoreDb, op: Extract<Op, { kind: 'experiment' }>): void {
  const row = db.one('SELECT name, hypothesis, config_path FROM experiments WHERE id = ?', [op.id]);
  if (!row) {
    db.run('INSERT INTO experiments (id, name, hypothesis, config_path, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)', [
      op.id, op.name ?? op.id, op.hypothesis ?? null, op.configPath ?? null, op.now, op.now,
    ]);
    return;
  }
  const name = op.name ?? (row[0] as string);
  const hypothesis = op.hypothesis !== undefined ? op.hypothesis : (row[1] as string | null);
  const configPath = op.configPath !== undefined ? op.configPath : (row[2] as string | null);
  if (name === row[0] && hypothesis === row[1] && configPath === row[2]) return;
  db.run('UPDATE experiments SET name = ?, hypothesis = ?, config_path = ?, updated_at = ? WHERE id = ?', [name, hypothesis, configPath, op.now, op.id]);
}

/** Upserts the final value per run and key (the points themselves are in the runs' history files). */
function applyMetrics(db: StoreDb, p: MetricColumns, strict: boolean): void {
  const n = p.runIds.length;
  // Resolve ids first, so that an unknown run fails before anything is written.
  const seqs = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const seq = db.runSeqForWrite(p.runIds[i]);
    if (seq === undefined && strict) throw new StoreNotFoundError(`metric point (${p.keys[i]}): no run with id ${p.runIds[i]}`);
    seqs[i] = seq ?? -1;
  }
  const upsert = db.prepare(FINAL_UPSERT);
  for (let i = 0; i < n; i++) {
    // SQLite stores NaN as NULL; reads turn NULL back into NaN.
    if (seqs[i] >= 0) upsert.run([seqs[i], db.keyId(p.keys[i]), p.steps[i], p.values[i], p.times[i]]);
  }
}
