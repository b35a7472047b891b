import { randomUUID } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import type { Database, SqlJsStatic, SqlValue } from 'sql.js';
import { StoreDb } from './db';
import { StoreCorruptError, StoreError, StoreVersionError } from './errors';
import { headerProblem, keepCorruptCopy, readFile, removeOrphanTemps, sameSignature, signatureOfBytes, statSignature, writeAtomic, type DiskSignature, type Layout } from './fileio';
import { FileLock } from './lock';
import { MetricHistories, runsFolderOf } from './history';
import { RunFiles, type RunFileFields } from './runFiles';
import { applyOp, artifactOp, createRunOp, experimentOp, hypothesisOp, LEGACY_POINTS, metricsOp, RUN_COLUMNS, updateRunOp, type Op } from './ops';
import { aliasOp, auditLog, findVersion, gateReportOp, getGateReport, listGateReports, listModels, listVersions, promoteOp, registerOp, rollbackOp, rollbackTarget, versionByIdFull } from './registryOps';
import type { AuditEntry, GateReportQuery, ModelRecord, ModelVersionRecord, NewGateReport, StoredGateReport } from './registryTypes';
import { migrate, requiredTables, SCHEMA_VERSION, userVersion } from './schema';
import { loadSqlJs } from './sqljs';
import type {
  ArtifactRecord, ExperimentInput, ExperimentRecord, ExperimentSummary, JsonObject, ListRunsOptions, MetricPoint, NewRun,
  RunPatch, RunRecord, RunStatus, RunSummary, StoreChange, StoreSaved, StoredMetricPoint, Unsubscribe,
  HypothesisStatus,
} from './types';

/** Options of `RunStore.open`. */
export interface RunStoreOptions {
  /**
   * Path of sql.js's `sql-wasm.wasm`. Default: the installed package's file
   * (`require.resolve('sql.js/dist/sql-wasm.wasm')`). A bundle that ships without `node_modules` (the extension's
   * .vsix) copies that file next to the bundle and passes its path here.
   */
  wasmPath?: string;
  /** Debounce of `scheduleSave()`: the save happens this long after the last change (default 1000 ms). */
  saveDelayMs?: number;
  /** ... but no later than this after the first unsaved change, even while changes keep coming (default 5000 ms). */
  maxSaveDelayMs?: number;
  /** Every mutation calls `scheduleSave()` (default true). With false, only `save()` and `close()` write. */
  autoSave?: boolean;
  /** How long a save waits for another process's lock before failing with `StoreLockError` (default 10000 ms). */
  lockTimeoutMs?: number;
  /** A lock older than this is considered abandoned even if its process id is alive (default 30000 ms). */
  staleLockMs?: number;
  /**
   * How thoroughly `open` checks an existing file: `quick` (default) also runs SQLite's `PRAGMA quick_check`
   * (≈ 100 ms for 1M metric points); `header` checks only the header and the file length (truncation).
   * Files loaded later from another process's save get the `header` check.
   */
  verify?: 'quick' | 'header';
  /** Never write (no lock, no save, no folder creation); mutations throw. For listing from the CLI. */
  readOnly?: boolean;
}

type Options = Required<Omit<RunStoreOptions, 'wasmPath'>> & { wasmPath: string | undefined };

const DEFAULTS: Omit<Options, 'wasmPath'> = {
  saveDelayMs: 1000,
  maxSaveDelayMs: 5000,
  autoSave: true,
  lockTimeoutMs: 10_000,
  staleLockMs: 30_000,
  verify: 'quick',
  readOnly: false,
};

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
const metricValue = (v: SqlValue): number => (v === null ? NaN : (v as number));

/**
 * The workspace's record of experiments, runs, metrics and artifacts: one SQLite file (default `.edd/edd.sqlite`)
 * held in memory with sql.js and written back atomically.
 *
 * - Reads are synchronous and see this process's changes at once.
 * - Mutations are synchronous on the in-memory copy; they are kept in a journal until a save has written them.
 *   With `autoSave` (default) each mutation schedules a debounced save; `save()` writes now; `close()` flushes.
 * - Several processes (the extension, CLIs) may write the same file: a save takes `<file>.lock`, and if another
 *   process saved since we read the file, loads its copy, re-applies our journal to it and writes the result, so no
 *   process loses a run. `reloadIfChanged()` loads another process's saves without writing (call it from a file
 *   watcher); `onDidChange` reports both local and external changes.
 * - A damaged file throws `StoreCorruptError` (a copy is kept, the file is never replaced by an empty store); a file
 *   from a newer EDD throws `StoreVersionError`; older schema versions are migrated in memory and written on the
 *   next save.
 */
export class RunStore {
  /** Where the store lives, relative to the workspace folder. */
  static readonly DEFAULT_RELATIVE_PATH = path.join('.edd', 'edd.sqlite');
  /** The schema version this build reads and writes. */
  static readonly SCHEMA_VERSION = SCHEMA_VERSION;

  /** The default store file of a workspace folder. */
  static defaultPath(workspaceFolder: string): string {
    return path.join(workspaceFolder, RunStore.DEFAULT_RELATIVE_PATH);
  }

  /**
   * Opens the store at `file`, or starts a new one if the file does not exist (its folder is created; the file is
   * written on the first save). Loads sql.js on first use.
   * @throws StoreCorruptError if the file is damaged (a copy is kept next to it; the file is left untouched)
   * @throws StoreVersionError if the file was written by a newer EDD
   * @throws StoreError if the file is an SQLite database that is not an EDD store
   */
  static async open(file: string, options: RunStoreOptions = {}): Promise<RunStore> {
    const absolute = path.resolve(file);
    const opts: Options = { ...DEFAULTS, ...stripUndefined(options), wasmPath: options.wasmPath };
    // compiling the wasm and reading the file overlap
    const [SQL, disk] = await Promise.all([
      loadSqlJs(opts.wasmPath),
      (opts.readOnly ? Promise.resolve() : fs.promises.mkdir(path.dirname(absolute), { recursive: true })).then(() => readFile(absolute)),
    ]);
    if (!disk) {
      const db = new StoreDb(new SQL.Database());
      migrate(db.raw);
      return new RunStore(absolute, SQL, db, undefined, false, opts);
    }
    const loaded = await loadImage(SQL, absolute, disk.bytes, opts.verify);
    return new RunStore(absolute, SQL, loaded.db, disk, loaded.migrated, opts);
  }

  private db: StoreDb;
  private journal: Op[] = [];
  /** Unsaved changes that are not in the journal (a migration). */
  private dirty: boolean;
  private signature: DiskSignature | undefined;
  private layout: Layout;
  private saveId: string | null;
  private gen: number;
  private chain: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private dueAt = 0;
  private firstPendingAt: number | undefined;
  private state: 'open' | 'closing' | 'closed' = 'open';
  private pendingLocal: { runIds: Set<string>; experiments: boolean; registry: boolean } | undefined;
  private readonly changeListeners = new Set<(change: StoreChange) => void>();
  private readonly saveListeners = new Set<(saved: StoreSaved) => void>();
  private readonly errorListeners = new Set<(error: Error) => void>();
  private readonly lockPath: string;
  private readonly history: MetricHistories;
  private readonly runFiles: RunFiles;

  private constructor(
    /** Absolute path of the store file. */
    readonly file: string,
    private readonly SQL: SqlJsStatic,
    db: StoreDb,
    disk: { bytes: Uint8Array; stat: fs.Stats } | undefined,
    migrated: boolean,
    private readonly options: Options,
  ) {
    this.db = db;
    this.layout = layoutOf(db);
    this.signature = disk && signatureOfBytes(disk.stat, disk.bytes, this.layout);
    this.dirty = migrated;
    const meta = readMeta(db);
    this.saveId = meta.saveId;
    this.gen = meta.generation;
    this.lockPath = `${file}.lock`;
    this.history = new MetricHistories(runsFolderOf(file));
    this.runFiles = new RunFiles(runsFolderOf(file));
  }

  /** How many saves (by any process) the loaded copy has seen. */
  get generation(): number {
    return this.gen;
  }

  /** True if there are changes a save has not written yet. */
  get hasUnsavedChanges(): boolean {
    return this.dirty || this.journal.length > 0 || this.runFiles.hasPending;
  }

  // -------------------------------------------------------------------------------------------------------------
  // Mutations

  /** Creates the experiment or updates the fields given (others keep their value). */
  upsertExperiment(experiment: ExperimentInput): ExperimentRecord {
    const op = experimentOp(experiment, Date.now());
    this.apply(op, [], true);
    return this.getExperiment(experiment.id)!;
  }

  /**
   * Sets the conclusion of an experiment's hypothesis and what decided it (the experiment is created if missing).
   * @throws TypeError for a status that is not one of {@link HYPOTHESIS_STATUSES}
   */
  setHypothesisStatus(experimentId: string, status: HypothesisStatus, decidedBy: string | null): ExperimentRecord {
    const op = hypothesisOp(experimentId, status, decidedBy, Date.now());
    this.apply(op, [], true);
    return this.getExperiment(experimentId)!;
  }

  /**
   * Records a new run (status `queued` unless given) and returns it. Its experiment is created if it does not exist.
   * @throws if a run with the given `id` exists, or a field has the wrong type
   */
  createRun(run: NewRun): RunRecord {
    if (typeof run !== 'object' || run === null) throw new TypeError('createRun takes a run object');
    const { op, record } = createRunOp(run, randomUUID(), Date.now());
    if (op.kind !== 'createRun') throw new Error('unreachable');
    // the two large fields go to the run's file, not the index
    const fields: RunFileFields = {};
    for (const [column, field] of LARGE_COLUMNS) {
      const i = (RUN_COLUMNS as readonly string[]).indexOf(column);
      if (op.row[i] !== null) fields[field] = op.row[i] as string;
      op.row[i] = null;
    }
    this.apply(op, [record.id], true, false, () => {
      if (Object.keys(fields).length) this.runFiles.set(record.id, fields);
    });
    return record;
  }

  /** Writes the fields present in `patch` and returns the updated run. @throws StoreNotFoundError for an unknown run */
  updateRun(id: string, patch: RunPatch): RunRecord {
    const op = updateRunOp(id, patch);
    if (op.kind !== 'updateRun') throw new Error('unreachable');
    const fields: RunFileFields = {};
    for (const set of op.sets) {
      const large = LARGE_COLUMNS.find(([column]) => column === set[0]);
      if (!large) continue;
      fields[large[1]] = set[1] as string | null;
      set[1] = null; // clears the column of a run recorded before version 5; the value goes to the run's file
    }
    this.apply(op, [id], false, false, () => {
      if (Object.keys(fields).length) this.runFiles.set(id, fields);
    });
    return this.getRun(id)!;
  }

  /**
   * Adds metric points in one transaction (all or none). A point with the same run, key and step as a stored one
   * replaces it. @throws StoreNotFoundError if a point names an unknown run; TypeError for a malformed point
   */
  addMetrics(points: readonly MetricPoint[]): void {
    this.assertWritable();
    const { op, points: cols } = metricsOp(points, Date.now());
    if (cols.runIds.length === 0) return;
    const runIds: string[] = [];
    for (const id of cols.runIds) if (id !== runIds[runIds.length - 1]) runIds.push(id);
    // The index gets the final values; the points go to the runs' history files, inside the same transaction so
    // that a failed append (disk full) leaves no final value without its point.
    this.apply(op, [...new Set(runIds)], false, false, () => this.history.append(cols.runIds, cols.keys, cols.steps, cols.values, cols.times));
  }

  /** Records (or replaces) an artifact of a run. @throws StoreNotFoundError for an unknown run */
  addArtifact(artifact: ArtifactRecord): void {
    this.apply(artifactOp(artifact), [artifact.runId], false);
  }

  /** Deletes a run with its metrics and artifacts (not the files). Returns false if there was no such run. */
  deleteRun(id: string): boolean {
    this.assertWritable();
    if (this.db.runSeq(id) === undefined) return false;
    this.apply({ kind: 'deleteRun', id }, [id], false);
    return true;
  }

  // -------------------------------------------------------------------------------------------------------------
  // Gate reports and the model registry. These record decisions; the rules (may this version be promoted?) are in
  // src/core/registry, which is what callers should use.

  /** Stores a gate report with what it was about (run, model version, the model file's sha256). */
  addGateReport(report: NewGateReport): StoredGateReport {
    const op = gateReportOp(report, randomUUID(), Date.now());
    this.apply(op, report.runId ? [report.runId] : [], false, true);
    return getGateReport(this.db, op.kind === 'gateReport' ? (op.row[0] as string) : '')!;
  }

  /** Gate reports, newest first, linked to any of the given run, file hash or model version. */
  listGateReports(query: GateReportQuery = {}): StoredGateReport[] {
    this.assertOpen();
    return listGateReports(this.db, query);
  }

  getGateReport(id: string): StoredGateReport | undefined {
    this.assertOpen();
    return getGateReport(this.db, id);
  }

  listModels(): ModelRecord[] {
    this.assertOpen();
    return listModels(this.db);
  }

  /** A model's versions, newest first. */
  listModelVersions(model: string): ModelVersionRecord[] {
    this.assertOpen();
    return listVersions(this.db, model);
  }

  /** A version by number, alias, stage (`production`, `staging`), `latest`, or id. */
  findModelVersion(model: string, ref: string | number): ModelVersionRecord | undefined {
    this.assertOpen();
    return findVersion(this.db, model, ref);
  }

  modelVersionById(id: string): ModelVersionRecord | undefined {
    this.assertOpen();
    return versionByIdFull(this.db, id);
  }

  /** The audit log, oldest first (one model's, or all). */
  auditLog(model?: string): AuditEntry[] {
    this.assertOpen();
    return auditLog(this.db, model);
  }

  /** What `rollbackModel` would do: the current production version and the one it restores; undefined if it cannot. */
  rollbackPlan(model: string): { current: number; target: number } | undefined {
    this.assertOpen();
    return rollbackTarget(this.db, model);
  }

  /** Records a new version (stage `none`); its number is the model's highest + 1 in the file it is saved into. */
  registerModelVersion(v: Omit<Parameters<typeof registerOp>[0], 'id' | 'auditId'>): ModelVersionRecord {
    const op = registerOp({ ...v, id: randomUUID(), auditId: randomUUID() }, Date.now());
    this.apply(op, [], false, true);
    return versionByIdFull(this.db, (op as { id: string }).id)!;
  }

  /** Moves a version to a stage (to production: the previous production version is archived), with the audit entries. */
  setModelStage(p: Omit<Parameters<typeof promoteOp>[0], 'auditId'>): ModelVersionRecord {
    this.apply(promoteOp({ ...p, auditId: randomUUID() }, Date.now()), [], false, true);
    return versionByIdFull(this.db, p.versionId)!;
  }

  /** Points an alias at a version (an alias names one version per model; it moves from the previous one). */
  setModelAlias(a: Omit<Parameters<typeof aliasOp>[0], 'auditId'>): ModelVersionRecord {
    this.apply(aliasOp({ ...a, auditId: randomUUID() }, Date.now()), [], false, true);
    return versionByIdFull(this.db, a.versionId)!;
  }

  /** Restores the previous production version (the current one is archived). @throws StoreNotFoundError if there is none */
  rollbackModel(r: Omit<Parameters<typeof rollbackOp>[0], 'auditId'>): ModelVersionRecord {
    this.apply(rollbackOp({ ...r, auditId: randomUUID() }, Date.now()), [], false, true);
    return findVersion(this.db, r.model, 'production')!;
  }

  private apply(op: Op, runIds: string[], experiments: boolean, registry = false, alsoDo?: () => void): void {
    this.assertWritable();
    this.db.transaction(() => {
      applyOp(this.db, op, true);
      alsoDo?.();
    });
    this.journal.push(op);
    this.queueLocalChange(runIds, experiments, registry);
    if (this.options.autoSave) this.scheduleSave();
  }

  // -------------------------------------------------------------------------------------------------------------
  // Reads

  getExperiment(id: string): ExperimentRecord | undefined {
    this.assertOpen();
    const row = this.db.one(`SELECT ${EXPERIMENT_COLUMNS} FROM experiments WHERE id = ?`, [id]);
    return row && decodeExperiment(row);
  }

  /** All experiments (by name), with their run count and newest run time: the first level of the runs tree. */
  listExperiments(): ExperimentSummary[] {
    this.assertOpen();
    const rows = this.db.all(
      `SELECT ${EXPERIMENT_COLUMNS},
         (SELECT COUNT(*) FROM runs r WHERE r.experiment_id = e.id),
         (SELECT MAX(r.created_at) FROM runs r WHERE r.experiment_id = e.id)
       FROM experiments e ORDER BY e.name COLLATE NOCASE, e.id`,
    );
    return rows.map(row => ({ ...decodeExperiment(row), runCount: row[9] as number, lastRunAt: row[10] as number | null }));
  }

  /** A run with all its fields (the config snapshot and environment are read from the run's file). */
  getRun(id: string): RunRecord | undefined {
    this.assertOpen();
    const row = this.db.one(`SELECT ${RECORD_COLUMNS.join(', ')} FROM runs WHERE id = ?`, [id]);
    if (!row) return undefined;
    const run = decodeRow<RunRecord>(RECORD_COLUMNS, row);
    // the index's columns hold a value only for a run recorded before version 5 and not yet moved to its file
    const files = this.runFiles.read(id);
    if (files.configSnapshot !== undefined && run.configSnapshot === null) run.configSnapshot = files.configSnapshot;
    if (files.environment !== undefined && run.environment === null) run.environment = files.environment === null ? null : (JSON.parse(files.environment) as JsonObject);
    return run;
  }

  /** Runs, newest first, with the final value of each metric (the value at its highest step). */
  listRuns(options: ListRunsOptions = {}): RunSummary[] {
    this.assertOpen();
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
    const limit = options.limit ?? -1;
    const offset = options.offset ?? 0;
    if (!Number.isSafeInteger(limit) || !Number.isSafeInteger(offset) || offset < 0) throw new TypeError('limit and offset must be non-negative integers');
    const page = `SELECT %COLUMNS% FROM runs ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY created_at DESC, seq DESC LIMIT ? OFFSET ?`;
    const pageParams = [...params, limit < 0 ? -1 : limit, offset];
    const rows = this.db.all(page.replace('%COLUMNS%', SUMMARY_COLUMNS.join(', ')), pageParams);
    const bySeq = new Map<number, RunSummary>();
    const runs = rows.map(row => {
      const run = decodeRow<RunSummary>(SUMMARY_COLUMNS, row, 1);
      run.finalMetrics = {};
      bySeq.set(row[0] as number, run);
      return run;
    });
    if (runs.length === 0) return runs;
    const finals = this.db.all(
      `WITH page AS (${page.replace('%COLUMNS%', 'seq')})
       SELECT f.run_seq, k.name, f.value FROM page JOIN metric_final f ON f.run_seq = page.seq JOIN metric_keys k ON k.id = f.key_id
       ORDER BY k.name`,
      pageParams,
    );
    for (const [seq, key, value] of finals) bySeq.get(seq as number)!.finalMetrics[key as string] = metricValue(value);
    return runs;
  }

  /** The final value of each of a run's metrics (as in `listRuns`), without listing the other runs; `{}` for an unknown run. */
  finalMetrics(runId: string): Record<string, number> {
    this.assertOpen();
    const seq = this.db.runSeq(runId);
    const out: Record<string, number> = {};
    if (seq === undefined) return out;
    for (const [key, value] of this.db.all('SELECT k.name, f.value FROM metric_final f JOIN metric_keys k ON k.id = f.key_id WHERE f.run_seq = ? ORDER BY k.name', [seq])) {
      out[key as string] = metricValue(value);
    }
    return out;
  }

  /**
   * A run's metric points, by key then step; only `key`'s if given. Read from the run's history file on each call
   * (plus, until the first save moves them out, the points of a store migrated from version 4).
   */
  getMetrics(runId: string, key?: string): StoredMetricPoint[] {
    this.assertOpen();
    const seq = this.db.runSeq(runId);
    if (seq === undefined) return [];
    const points: StoredMetricPoint[] = [];
    if (this.db.hasTable(LEGACY_POINTS)) {
      const keyFilter = key === undefined ? '' : ' AND k.name = ?';
      for (const [name, step, value, time] of this.db.all(`SELECT k.name, p.step, p.value, p.time FROM ${LEGACY_POINTS} p JOIN metric_keys k ON k.id = p.key_id WHERE p.run_seq = ?${keyFilter}`, key === undefined ? [seq] : [seq, key])) {
        points.push({ key: name as string, step: step as number, value: metricValue(value), time: time as number | null });
      }
    }
    for (const p of this.history.read(runId, key)) points.push(p);
    return latestByKeyAndStep(points);
  }

  /** The metric keys a run has points for, sorted. */
  metricKeys(runId: string): string[] {
    this.assertOpen();
    const seq = this.db.runSeq(runId);
    if (seq === undefined) return [];
    return this.db.all('SELECT key_id FROM metric_final WHERE run_seq = ?', [seq]).map(r => this.db.keyName(r[0] as number)).sort();
  }

  /** A run's artifacts, by path. */
  getArtifacts(runId: string): ArtifactRecord[] {
    this.assertOpen();
    return this.db.all('SELECT run_id, path, kind, sha256, size FROM artifacts WHERE run_id = ? ORDER BY path', [runId]).map(r => ({
      runId: r[0] as string,
      path: r[1] as string,
      kind: r[2] as string | null,
      sha256: r[3] as string | null,
      size: r[4] as number | null,
    }));
  }

  // -------------------------------------------------------------------------------------------------------------
  // Saving and loading

  /** Saves after `saveDelayMs` without further changes (at most `maxSaveDelayMs` after the first). Errors go to `onDidFailSave`. */
  scheduleSave(): void {
    if (this.state !== 'open' || this.options.readOnly) return;
    const now = Date.now();
    this.firstPendingAt ??= now;
    this.dueAt = Math.min(now + this.options.saveDelayMs, this.firstPendingAt + this.options.maxSaveDelayMs);
    if (!this.timer) this.armTimer();
  }

  // One timer, re-armed when it fires early, instead of clearTimeout/setTimeout on each of thousands of mutations.
  private armTimer(): void {
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (Date.now() < this.dueAt) return this.armTimer();
      this.firstPendingAt = undefined;
      this.save().catch((e: Error) => {
        for (const l of this.errorListeners) callSafely(l, e);
      });
    }, Math.max(0, this.dueAt - Date.now()));
  }

  private cancelTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.firstPendingAt = undefined;
  }

  /**
   * Writes all changes now (a no-op without changes): under the lock, merging with another process's save if there
   * was one, then an atomic replace of the file. Resolves once the data is on disk.
   * @throws StoreLockError if another process holds the lock longer than `lockTimeoutMs`
   * @throws StoreCorruptError if the file on disk was damaged since we read it (nothing is written)
   */
  save(): Promise<void> {
    if (this.state === 'closed') return Promise.reject(new Error(`the run store ${this.file} is closed`));
    this.cancelTimer();
    return this.exclusive(() => this.writeNow());
  }

  private async writeNow(): Promise<void> {
    if (this.options.readOnly || !this.hasUnsavedChanges) return;
    // the folder may have been deleted since open (the file is then written anew, with everything we hold)
    await fs.promises.mkdir(path.dirname(this.file), { recursive: true });
    const lock = await FileLock.acquire(this.lockPath, this.file, { timeoutMs: this.options.lockTimeoutMs, staleMs: this.options.staleLockMs });
    try {
      let merged = false;
      if (!sameSignature(await statSignature(this.file, this.layout), this.signature)) {
        const disk = await readFile(this.file);
        if (disk) merged = await this.adopt(disk);
        else this.signature = undefined; // deleted since we read it: ours becomes the file
      }
      // The points appended since the last save become durable before the index that summarises them.
      await this.history.sync();
      // Synchronous from here to the export: no mutation can slip in between.
      this.runFiles.flush();
      if (this.db.hasTable(LEGACY_POINTS)) moveLegacyHistories(this.db, this.history);
      moveLegacyRunFiles(this.db, this.runFiles);
      const generation = this.gen + 1;
      const saveId = randomUUID();
      this.db.run("INSERT OR REPLACE INTO meta (key, value) VALUES ('generation', ?), ('save_id', ?), ('saved_at', ?), ('saved_by', ?)", [
        String(generation), saveId, String(Date.now()), `pid ${process.pid}`,
      ]);
      const bytes = this.db.export();
      const exported = this.journal.length;
      const wasDirty = this.dirty;
      this.dirty = false;
      try {
        await removeOrphanTemps(this.file);
        this.signature = signatureOfBytes(await writeAtomic(this.file, bytes), bytes, this.layout);
      } catch (e) {
        this.dirty ||= wasDirty;
        throw e;
      }
      // Mutations made while the file was being written stay in the journal for the next save.
      const deleted = this.journal.slice(0, exported).flatMap(op => (op.kind === 'deleteRun' ? [op.id] : []));
      this.journal.splice(0, exported);
      // A deleted run's history goes once its deletion is on disk (not if the id was recorded again since).
      for (const id of deleted) {
        if (this.db.runSeq(id) !== undefined) continue;
        await this.history.remove(id);
        await this.runFiles.remove(id);
      }
      this.gen = generation;
      this.saveId = saveId;
      const saved: StoreSaved = { generation, bytes: bytes.byteLength, merged };
      for (const l of this.saveListeners) callSafely(l, saved);
    } finally {
      await lock.release();
    }
  }

  /**
   * Loads another process's saves, if the file changed since we read or wrote it, keeping our unsaved changes on
   * top. Resolves to true if something was loaded (listeners get an `external` change).
   * @throws StoreCorruptError if the file on disk is damaged (our copy stays as it was)
   */
  reloadIfChanged(): Promise<boolean> {
    if (this.state === 'closed') return Promise.reject(new Error(`the run store ${this.file} is closed`));
    return this.exclusive(async () => {
      const onDisk = await statSignature(this.file, this.layout);
      if (!onDisk || sameSignature(onDisk, this.signature)) return false;
      const disk = await readFile(this.file);
      return disk ? this.adopt(disk) : false;
    });
  }

  /** Makes `disk` our copy, with the journal re-applied. False if it is the version we already have. */
  private async adopt(disk: { bytes: Uint8Array; stat: fs.Stats }): Promise<boolean> {
    const loaded = tryLoadImage(this.SQL, this.file, disk.bytes, 'header');
    if ('corrupt' in loaded) throw new StoreCorruptError(this.file, loaded.corrupt, await keepCorruptCopy(this.file, disk.bytes));
    const fresh = loaded.db;
    const meta = readMeta(fresh);
    if (meta.saveId !== null && meta.saveId === this.saveId && !loaded.migrated) {
      fresh.close();
      this.signature = signatureOfBytes(disk.stat, disk.bytes, this.layout);
      return false;
    }
    try {
      fresh.transaction(() => {
        for (const op of this.journal) applyOp(fresh, op, false);
      });
    } catch (e) {
      fresh.close();
      if (isCorruption(e)) throw new StoreCorruptError(this.file, `SQLite: ${(e as Error).message}`, await keepCorruptCopy(this.file, disk.bytes));
      throw e;
    }
    this.db.close();
    this.db = fresh;
    this.layout = layoutOf(fresh);
    this.signature = signatureOfBytes(disk.stat, disk.bytes, this.layout);
    this.saveId = meta.saveId;
    this.gen = meta.generation;
    this.dirty ||= loaded.migrated;
    this.flushLocalChange();
    this.emitChange({ origin: 'external', experiments: true, registry: true });
    return true;
  }

  /** Saves pending changes and releases the in-memory database. If the save fails the store stays open (retry or inspect). */
  async close(): Promise<void> {
    if (this.state === 'closed') return;
    this.cancelTimer();
    this.state = 'closing';
    try {
      while (!this.options.readOnly && this.hasUnsavedChanges) await this.exclusive(() => this.writeNow());
      await this.chain;
    } catch (e) {
      this.state = 'open';
      throw e;
    }
    this.state = 'closed';
    this.db.close();
    this.changeListeners.clear();
    this.saveListeners.clear();
    this.errorListeners.clear();
  }

  private exclusive<T>(task: () => Promise<T>): Promise<T> {
    const run = this.chain.then(task);
    this.chain = run.catch(() => undefined);
    return run;
  }

  // -------------------------------------------------------------------------------------------------------------
  // Events

  /** Called after changes: local ones batched per tick, external ones when `reloadIfChanged` or a save loaded them. */
  onDidChange(listener: (change: StoreChange) => void): Unsubscribe {
    return subscribe(this.changeListeners, listener);
  }

  /** Called after each successful save. */
  onDidSave(listener: (saved: StoreSaved) => void): Unsubscribe {
    return subscribe(this.saveListeners, listener);
  }

  /** Called when a scheduled (debounced) save fails; the changes stay unsaved and the next save retries them. */
  onDidFailSave(listener: (error: Error) => void): Unsubscribe {
    return subscribe(this.errorListeners, listener);
  }

  private queueLocalChange(runIds: string[], experiments: boolean, registry: boolean): void {
    if (!this.pendingLocal) {
      this.pendingLocal = { runIds: new Set(), experiments: false, registry: false };
      queueMicrotask(() => this.flushLocalChange());
    }
    for (const id of runIds) this.pendingLocal.runIds.add(id);
    this.pendingLocal.experiments ||= experiments;
    this.pendingLocal.registry ||= registry;
  }

  private flushLocalChange(): void {
    const pending = this.pendingLocal;
    if (!pending) return;
    this.pendingLocal = undefined;
    this.emitChange({ origin: 'local', runIds: [...pending.runIds], experiments: pending.experiments, ...(pending.registry ? { registry: true } : {}) });
  }

  private emitChange(change: StoreChange): void {
    if (this.state === 'closed') return;
    for (const l of this.changeListeners) callSafely(l, change);
  }

  private assertOpen(): void {
    if (this.state === 'closed') throw new Error(`the run store ${this.file} is closed`);
  }

  private assertWritable(): void {
    if (this.state !== 'open') throw new Error(`the run store ${this.file} is ${this.state}`);
    if (this.options.readOnly) throw new Error(`the run store ${this.file} was opened read-only`);
  }
}

// ---------------------------------------------------------------------------------------------------------------

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function subscribe<T>(set: Set<T>, listener: T): Unsubscribe {
  set.add(listener);
  return { dispose: () => void set.delete(listener) };
}

// A listener's exception must not break the store's bookkeeping (a save is already on disk when listeners run).
function callSafely<T>(listener: (arg: T) => void, arg: T): void {
  try {
    listener(arg);
  } catch {
    // ignored on purpose
  }
}

/**
 * Moves the metric points of a store migrated from version 4 out of the index into the runs' history files (written
 * before what each file already holds, so points appended since the migration still win), then drops them from the
 * index. Synchronous, so that no append of this process interleaves with the rewrite of a file. A crash after some
 * files were written leaves the points in the file on disk too; the next save writes them again (same values).
 */
function moveLegacyHistories(db: StoreDb, history: MetricHistories): void {
  const seqs = db.all(`SELECT DISTINCT p.run_seq, r.id FROM ${LEGACY_POINTS} p JOIN runs r ON r.seq = p.run_seq`);
  for (const [seq, id] of seqs) {
    const points = db.all(`SELECT k.name, p.step, p.value, p.time FROM ${LEGACY_POINTS} p JOIN metric_keys k ON k.id = p.key_id WHERE p.run_seq = ? ORDER BY p.key_id, p.step`, [seq])
      .map(([key, step, value, time]) => ({ key: key as string, step: step as number, value: metricValue(value), time: time as number | null }));
    history.prependSync(id as string, MetricHistories.lines(points));
  }
  db.raw.exec(`DROP TABLE ${LEGACY_POINTS}`);
}

/**
 * Points by key, then step; of several with the same key and step the last one written wins. Histories are mostly
 * written in step order, so each key's points are usually sorted already and nothing is copied.
 */
function latestByKeyAndStep(points: StoredMetricPoint[]): StoredMetricPoint[] {
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

/** The run columns whose values live in the run's file (`run.json`) from version 5 on. */
const LARGE_COLUMNS: readonly [column: string, field: keyof RunFileFields][] = [['config_snapshot', 'configSnapshot'], ['environment', 'environment']];

/**
 * Moves the config snapshots and environments of runs recorded before version 5 from the index to their files, once:
 * the `meta` row `run_files` says it is done (a version 5 process never writes those columns, and an older EDD cannot
 * write a version 5 file, so none come back).
 */
function moveLegacyRunFiles(db: StoreDb, files: RunFiles): void {
  if (db.one("SELECT 1 FROM meta WHERE key = 'run_files' AND value = 'moved'")) return;
  const rows = db.all('SELECT id, config_snapshot, environment FROM runs WHERE config_snapshot IS NOT NULL OR environment IS NOT NULL');
  for (const [id, snapshot, environment] of rows) {
    const fields: RunFileFields = {};
    if (snapshot !== null) fields.configSnapshot = snapshot as string;
    if (environment !== null) fields.environment = environment as string;
    files.write(id as string, fields);
  }
  if (rows.length) db.run('UPDATE runs SET config_snapshot = NULL, environment = NULL WHERE config_snapshot IS NOT NULL OR environment IS NOT NULL');
  db.run("INSERT OR REPLACE INTO meta (key, value) VALUES ('run_files', 'moved')");
}

function readMeta(db: StoreDb): { generation: number; saveId: string | null } {
  const rows = new Map(db.all("SELECT key, value FROM meta WHERE key IN ('generation', 'save_id')").map(r => [r[0] as string, r[1] as string]));
  return { generation: Number(rows.get('generation') ?? 0) || 0, saveId: rows.get('save_id') ?? null };
}

function layoutOf(db: StoreDb): Layout {
  const pageSize = db.one('PRAGMA page_size')![0] as number;
  const metaPage = db.one("SELECT rootpage FROM sqlite_master WHERE type = 'table' AND name = 'meta'")![0] as number;
  return { pageSize, metaPage };
}

function isCorruption(e: unknown): boolean {
  const code = (e as { code?: unknown })?.code;
  if (typeof code === 'string' && /^SQLITE_(CORRUPT|NOTADB)/.test(code)) return true;
  return /malformed|not a database|database corrupt/i.test(String((e as Error)?.message));
}

async function loadImage(SQL: SqlJsStatic, file: string, bytes: Uint8Array, verify: 'quick' | 'header'): Promise<{ db: StoreDb; migrated: boolean }> {
  const loaded = tryLoadImage(SQL, file, bytes, verify);
  if ('corrupt' in loaded) throw new StoreCorruptError(file, loaded.corrupt, await keepCorruptCopy(file, bytes));
  return loaded;
}

/** Opens a file image and brings it to the current schema; `corrupt` with the reason if it is damaged. */
function tryLoadImage(SQL: SqlJsStatic, file: string, bytes: Uint8Array, verify: 'quick' | 'header'): { db: StoreDb; migrated: boolean } | { corrupt: string } {
  const problem = headerProblem(bytes);
  if (problem) return { corrupt: problem };
  let raw: Database | undefined;
  let db: StoreDb | undefined;
  const fail = (reason: string) => {
    closeQuietly(db, raw);
    return { corrupt: reason };
  };
  try {
    raw = new SQL.Database(bytes);
    db = new StoreDb(raw);
    if (verify === 'quick') {
      const messages = (raw.exec('PRAGMA quick_check')[0]?.values ?? []).map(v => String(v[0]));
      if (messages.length !== 1 || messages[0] !== 'ok') return fail(`SQLite's integrity check failed: ${messages.slice(0, 3).join('; ')}`);
    }
    const version = userVersion(raw);
    if (version > SCHEMA_VERSION) {
      closeQuietly(db, raw);
      throw new StoreVersionError(file, version, SCHEMA_VERSION);
    }
    const tables = new Set(db.all("SELECT name FROM sqlite_master WHERE type = 'table'").map(r => r[0] as string));
    if (version === 0 && tables.size > 0) {
      closeQuietly(db, raw);
      throw new StoreError(
        `${file} is an SQLite database but not an EDD run store (it has tables ${[...tables].slice(0, 5).join(', ')} and no EDD schema version). ` +
          'Move it elsewhere or point EDD at another file; it was not modified.',
        file,
      );
    }
    const missing = version === 0 ? [] : requiredTables(version).filter(t => !tables.has(t));
    if (missing.length) return fail(`tables missing for schema version ${version}: ${missing.join(', ')}`);
    return { db, migrated: migrate(raw) > 0 };
  } catch (e) {
    if (e instanceof StoreError) throw e;
    if (isCorruption(e)) return fail(`SQLite: ${(e as Error).message}`);
    closeQuietly(db, raw);
    throw e;
  }
}

function closeQuietly(db: StoreDb | undefined, raw: Database | undefined): void {
  try {
    if (db) db.close();
    else raw?.close();
  } catch {
    // the image was unusable anyway
  }
}
