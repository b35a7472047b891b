import { randomUUID } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import type { SqlJsStatic } from 'sql.js';
import { StoreDb } from './db';
import { StoreCorruptError } from './errors';
import { keepCorruptCopy, readFile, removeOrphanTemps, sameSignature, signatureOfBytes, statSignature, writeAtomic, type DiskSignature, type Layout } from './fileio';
import { FileLock } from './lock';
import { MetricHistories, runsFolderOf } from './history';
import { RunFiles, type RunFileFields } from './runFiles';
import { applyOp, artifactOp, createRunOp, experimentOp, hypothesisOp, LEGACY_POINTS, metricsOp, RUN_COLUMNS, updateRunOp, type Op } from './ops';
import { RegistryStore } from './registryStore';
import { finalMetrics, findRunByExternalId, getArtifacts, getExperiment, getRunRow, latestByKeyAndStep, legacyPoints, listExperiments, listRuns, metricKeys, metricValue } from './runQueries';
import type {
  AliasChange, AuditEntry, AuditVerification, GateReportQuery, ModelRecord, ModelVersionRecord, NewGateReport, NewModelVersion, RefusedPromotion, CanaryDecision, RollbackPlan,
  RollbackRequest, StageChange, StoredGateReport,
} from './registryTypes';
import { isCorruption, layoutOf, loadImage, readMeta, tryLoadImage } from './image';
import { migrate, SCHEMA_VERSION } from './schema';
import { loadSqlJs } from './sqljs';
import type {
  ArtifactRecord, ExperimentInput, ExperimentRecord, ExperimentSummary, JsonObject, ListRunsOptions, MetricPoint, NewRun,
  RunPatch, RunRecord, RunSummary, StoreChange, StoreSaved, StoredMetricPoint, Unsubscribe,
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
  private readonly registry = new RegistryStore({
    db: () => this.db,
    apply: (op, runIds) => this.apply(op, runIds, false, true),
    assertOpen: () => this.assertOpen(),
  });

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

  /**
   * Sets a run's final values from its history file. Points are appended to the file at once but reach the index's
   * summary only with the next save: a process killed in between leaves points without final values, which the
   * recovery of an interrupted run restores with this.
   */
  restoreFinalMetrics(runId: string): void {
    this.assertWritable();
    const history = this.getMetrics(runId);
    if (history.length === 0) return;
    // metricsOp keeps the last point per key for the index; the points are already in the file, so nothing is appended.
    const { op } = metricsOp(history.map(p => ({ runId, key: p.key, step: p.step, value: p.value, time: p.time ?? undefined })), Date.now());
    this.apply(op, [runId], false);
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
    return this.registry.addGateReport(report);
  }

  /** Gate reports, newest first, linked to any of the given run, file hash or model version. */
  listGateReports(query: GateReportQuery = {}): StoredGateReport[] {
    return this.registry.listGateReports(query);
  }

  getGateReport(id: string): StoredGateReport | undefined {
    return this.registry.getGateReport(id);
  }

  listModels(): ModelRecord[] {
    return this.registry.listModels();
  }

  /** A model's versions, newest first. */
  listModelVersions(model: string): ModelVersionRecord[] {
    return this.registry.listModelVersions(model);
  }

  /** A version by number, alias, stage (`production`, `staging`), `latest`, or id. */
  findModelVersion(model: string, ref: string | number): ModelVersionRecord | undefined {
    return this.registry.findModelVersion(model, ref);
  }

  modelVersionById(id: string): ModelVersionRecord | undefined {
    return this.registry.modelVersionById(id);
  }

  /** The audit log, oldest first (one model's, or all). */
  auditLog(model?: string): AuditEntry[] {
    return this.registry.auditLog(model);
  }

  /** What `rollbackModel` would do: the current production version and the one it restores; undefined if it cannot. */
  rollbackPlan(model: string): RollbackPlan | undefined {
    return this.registry.rollbackPlan(model);
  }

  /** Records a new version (stage `none`); its number is the model's highest + 1 in the file it is saved into. */
  registerModelVersion(version: NewModelVersion): ModelVersionRecord {
    return this.registry.registerModelVersion(version);
  }

  /** Moves a version to a stage (to production: the previous production version is archived), with the audit entries. */
  setModelStage(change: StageChange): ModelVersionRecord {
    return this.registry.setModelStage(change);
  }

  /** Records a promotion the rules refused (nothing else changes). */
  recordRefusedPromotion(refused: RefusedPromotion): void {
    this.registry.recordRefusedPromotion(refused);
  }

  /** Records a canary or shadow decision with its numbers (nothing else changes); returns the audit entry's id. */
  recordCanaryDecision(decision: CanaryDecision): string {
    return this.registry.recordCanaryDecision(decision);
  }

  /** One audit entry by id (e.g. to learn after a save whether a promotion was applied or overtaken). */
  auditEntry(id: string): AuditEntry | undefined {
    return this.registry.auditEntry(id);
  }

  /** Checks the audit log's hash chain and that every version's stage and alias agree with the log. */
  verifyAuditLog(): AuditVerification {
    return this.registry.verifyAuditLog();
  }

  /** Points an alias at a version (an alias names one version per model; it moves from the previous one). */
  setModelAlias(change: AliasChange): ModelVersionRecord {
    return this.registry.setModelAlias(change);
  }

  /** Restores the previous production version (the current one is archived). @throws StoreNotFoundError if there is none */
  rollbackModel(request: RollbackRequest): ModelVersionRecord {
    return this.registry.rollbackModel(request);
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
    return getExperiment(this.db, id);
  }

  /** All experiments (by name), with their run count and newest run time: the first level of the runs tree. */
  listExperiments(): ExperimentSummary[] {
    this.assertOpen();
    return listExperiments(this.db);
  }

  /** A run with all its fields (the config snapshot and environment are read from the run's file). */
  getRun(id: string): RunRecord | undefined {
    this.assertOpen();
    const run = getRunRow(this.db, id);
    if (!run) return undefined;
    // the index's columns hold a value only for a run recorded before version 5 and not yet moved to its file
    const files = this.runFiles.read(id);
    if (files.configSnapshot !== undefined && run.configSnapshot === null) run.configSnapshot = files.configSnapshot;
    if (files.environment !== undefined && run.environment === null) run.environment = files.environment === null ? null : (JSON.parse(files.environment) as JsonObject);
    return run;
  }

  /** The run recorded with this external id (`mlflow:<run id>`), with all its fields; `undefined` if none. */
  findRunByExternalId(externalId: string): RunRecord | undefined {
    this.assertOpen();
    const row = findRunByExternalId(this.db, externalId);
    return row ? this.getRun(row.id) : undefined;
  }

  /** Runs, newest first, with the final value of each metric (the value at its highest step). */
  listRuns(options: ListRunsOptions = {}): RunSummary[] {
    this.assertOpen();
    return listRuns(this.db, options);
  }

  /** The final value of each of a run's metrics (as in `listRuns`), without listing the other runs; `{}` for an unknown run. */
  finalMetrics(runId: string): Record<string, number> {
    this.assertOpen();
    return finalMetrics(this.db, runId);
  }

  /**
   * A run's metric points, by key then step; only `key`'s if given. Read from the run's history file on each call
   * (plus, until the first save moves them out, the points of a store migrated from version 4).
   */
  getMetrics(runId: string, key?: string): StoredMetricPoint[] {
    this.assertOpen();
    const seq = this.db.runSeq(runId);
    if (seq === undefined) return [];
    const points = legacyPoints(this.db, seq, key);
    for (const p of this.history.read(runId, key)) points.push(p);
    return latestByKeyAndStep(points);
  }
  /** The metric keys a run has points for, sorted. */
  metricKeys(runId: string): string[] {
    this.assertOpen();
    return metricKeys(this.db, runId);
  }

  /** A run's artifacts, by path. */
  getArtifacts(runId: string): ArtifactRecord[] {
    this.assertOpen();
    return getArtifacts(this.db, runId);
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
