import { randomUUID } from 'crypto';
import * as path from 'path';
import { StoreEngine } from './engine';
import { DEFAULT_STORE_RELATIVE_PATH } from './location';
import type { CurveColumns, MetricHistories } from './history';
import { takeLargeFieldsOfRow, takeLargeFieldsOfSets, type RunFiles } from './runFiles';
import { artifactOp, createRunOp, experimentOp, hypothesisOp, metricsOp, updateRunOp, type Op } from './ops';
import { RegistryStore } from './registryStore';
import { finalMetrics, findRunByExternalId, getArtifacts, getExperiment, getRunRow, latestByKeyAndStep, legacyPoints, listExperiments, listRunsAcross, metricKeys } from './runQueries';
import type {
  AliasChange, AuditEntry, AuditVerification, GateReportQuery, ModelRecord, ModelVersionRecord, NewGateReport, NewModelVersion, RefusedPromotion, CanaryDecision, RollbackPlan,
  RollbackRequest, StageChange, StoredGateReport, ThresholdsChange,
} from './registryTypes';
import { SCHEMA_VERSION } from './schema';
import type { StoreDb } from './db';
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
  /**
   * Runs per segment file (default 4096): a save seals the oldest runs into an immutable segment while the index
   * file holds more than twice this many, so that saves and opens do not grow with history. Smaller in tests.
   */
  segmentRuns?: number;
  /**
   * A save appends its changes to the index's operation log (`<file>.oplog`); the save that would take the log past
   * this many bytes (default 256 KiB, a few hundred runs) checkpoints instead: rewrites the index file and starts a new
   * log. An open replays the log (~0.1 ms per run recorded in it), a checkpoint costs about one save of old (~20 ms at
   * 8k runs in the head), so this bounds the one and amortises the other. Smaller in tests.
   */
  logCheckpointBytes?: number;
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
  segmentRuns: 4096,
  logCheckpointBytes: 256 * 1024,
};

/**
 * The workspace's record of experiments, runs, metrics and artifacts: an SQLite index (default `.edd/edd.sqlite`, the
 * head: the newest runs, experiments, registry) held in memory with sql.js and written back atomically, immutable
 * segment files with the older runs (read when a query needs them; see segments.ts), and per-run files for metric
 * histories, config snapshots and environments. The file engine under it is engine.ts.
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
  static readonly DEFAULT_RELATIVE_PATH = DEFAULT_STORE_RELATIVE_PATH;
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
    const holder: { store?: RunStore } = {};
    const engine = await StoreEngine.open(absolute, opts, () => holder.store?.externalChange());
    holder.store = new RunStore(absolute, engine, opts);
    return holder.store;
  }

  private chain: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private dueAt = 0;
  private firstPendingAt: number | undefined;
  private state: 'open' | 'closing' | 'closed' = 'open';
  private pendingLocal: { runIds: Set<string>; experiments: boolean; registry: boolean } | undefined;
  private readonly changeListeners = new Set<(change: StoreChange) => void>();
  private readonly saveListeners = new Set<(saved: StoreSaved) => void>();
  private readonly errorListeners = new Set<(error: Error) => void>();
  private readonly registry = new RegistryStore({
    db: () => this.db,
    apply: (op, runIds) => this.apply(op, runIds, false, true),
    assertOpen: () => this.assertOpen(),
  });

  private constructor(
    /** Absolute path of the store file. */
    readonly file: string,
    private readonly engine: StoreEngine,
    private readonly options: Options,
  ) {}

  private get db(): StoreDb {
    return this.engine.db;
  }

  private get history(): MetricHistories {
    return this.engine.history;
  }

  private get runFiles(): RunFiles {
    return this.engine.runFiles;
  }

  /** How many saves (by any process) the loaded copy has seen. */
  get generation(): number {
    return this.engine.generation;
  }

  /** True if there are changes a save has not written yet. */
  get hasUnsavedChanges(): boolean {
    return this.engine.hasUnsavedChanges;
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
    // the two large fields go to the run's file, not the index
    const fields = takeLargeFieldsOfRow(op.row);
    this.apply(op, [record.id], true, false, () => {
      if (Object.keys(fields).length) this.runFiles.set(record.id, fields);
    });
    return record;
  }

  /** Writes the fields present in `patch` and returns the updated run. @throws StoreNotFoundError for an unknown run */
  updateRun(id: string, patch: RunPatch): RunRecord {
    const op = updateRunOp(id, patch);
    const fields = takeLargeFieldsOfSets(op.sets);
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
    if (!this.sourceOf(id)) return false;
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

  /** Records per-group thresholds written into a service spec (an audit entry; the registry itself does not change). */
  recordThresholds(change: ThresholdsChange): AuditEntry {
    return this.registry.recordThresholds(change);
  }

  /** Restores the previous production version (the current one is archived). @throws StoreNotFoundError if there is none */
  rollbackModel(request: RollbackRequest): ModelVersionRecord {
    return this.registry.rollbackModel(request);
  }

  private apply(op: Op, runIds: string[], experiments: boolean, registry = false, alsoDo?: () => void): void {
    this.assertWritable();
    this.engine.apply(op, alsoDo);
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
    const source = this.sourceOf(id);
    const run = source && getRunRow(source.db, id);
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
    const id = findRunByExternalId(this.db, externalId)?.id ?? this.engine.segments.findExternal(this.db, externalId);
    return id === undefined ? undefined : this.getRun(id);
  }

  /** Runs, newest first, with the final value of each metric (the value at its highest step). */
  listRuns(options: ListRunsOptions = {}): RunSummary[] {
    this.assertOpen();
    return listRunsAcross(this.db, this.engine.segments, options);
  }

  /** The final value of each of a run's metrics (as in `listRuns`), without listing the other runs; `{}` for an unknown run. */
  finalMetrics(runId: string): Record<string, number> {
    this.assertOpen();
    const source = this.sourceOf(runId);
    return source ? finalMetrics(source.db, runId) : {};
  }

  /**
   * A run's metric points, by key then step; only `key`'s if given. Read from the run's history file on each call
   * (plus, until the first save moves them out, the points of a store migrated from version 4).
   */
  getMetrics(runId: string, key?: string): StoredMetricPoint[] {
    this.assertOpen();
    const source = this.sourceOf(runId);
    if (!source) return [];
    const points = source.db === this.db ? legacyPoints(this.db, source.seq, key) : [];
    for (const p of this.history.read(runId, key)) points.push(p);
    return latestByKeyAndStep(points);
  }
  /**
   * One metric's points of a run as columns, by step (what `getMetrics(runId, key)` gives, without an object per
   * point): what curves are drawn from.
   */
  getCurve(runId: string, key: string): CurveColumns {
    this.assertOpen();
    const source = this.sourceOf(runId);
    if (!source) return { steps: new Float64Array(0), values: new Float64Array(0) };
    return this.history.readColumns(runId, key, source.db === this.db ? legacyPoints(this.db, source.seq, key) : []);
  }

  /** The metric keys a run has points for, sorted. */
  metricKeys(runId: string): string[] {
    this.assertOpen();
    const source = this.sourceOf(runId);
    return source ? metricKeys(source.db, runId) : [];
  }

  /** Where a run's row is: the index file, or (a run sealed long ago) its segment. */
  private sourceOf(id: string): { db: StoreDb; seq: number } | undefined {
    const seq = this.db.runSeq(id);
    if (seq !== undefined) return { db: this.db, seq };
    return this.engine.segments.locate(this.db, id);
  }

  /** A run's artifacts, by path. */
  getArtifacts(runId: string): ArtifactRecord[] {
    this.assertOpen();
    const source = this.sourceOf(runId);
    return source ? getArtifacts(source.db, runId) : [];
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
   * was one, then one record appended to the operation log (or, when the log is full, a checkpoint: an atomic replace
   * of the index file). Resolves once the data is on disk.
   * @throws StoreLockError if another process holds the lock longer than `lockTimeoutMs`
   * @throws StoreCorruptError if the file on disk was damaged since we read it (nothing is written)
   */
  save(): Promise<void> {
    if (this.state === 'closed') return Promise.reject(new Error(`the run store ${this.file} is closed`));
    this.cancelTimer();
    return this.exclusive(() => this.writeNow());
  }

  /**
   * Saves and rewrites the index file with everything, the operation log's records included, so that the file alone
   * is the whole store (for a backup, or a tool that reads it with SQLite).
   */
  checkpoint(): Promise<void> {
    if (this.state === 'closed') return Promise.reject(new Error(`the run store ${this.file} is closed`));
    if (this.options.readOnly) return Promise.reject(new Error(`the run store ${this.file} was opened read-only`));
    this.cancelTimer();
    return this.exclusive(() => this.writeNow(true));
  }

  private async writeNow(checkpoint = false): Promise<void> {
    await this.engine.save(saved => {
      for (const l of this.saveListeners) callSafely(l, saved);
    }, checkpoint);
  }

  /**
   * Loads another process's saves, if the file changed since we read or wrote it, keeping our unsaved changes on
   * top. Resolves to true if something was loaded (listeners get an `external` change).
   * @throws StoreCorruptError if the file on disk is damaged (our copy stays as it was)
   */
  reloadIfChanged(): Promise<boolean> {
    if (this.state === 'closed') return Promise.reject(new Error(`the run store ${this.file} is closed`));
    return this.exclusive(() => this.engine.reload());
  }

  /** The engine loaded another process's save: local changes queued so far are reported first. */
  private externalChange(): void {
    this.flushLocalChange();
    this.emitChange({ origin: 'external', experiments: true, registry: true });
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
    this.engine.close();
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

/** The run columns whose values live in the run's file (`run.json`) from version 5 on. */
