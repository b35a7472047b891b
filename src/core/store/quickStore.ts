import { randomUUID } from 'crypto';
import * as fs from 'fs';
import { readHeadMeta } from './headMeta';
import { MetricHistories, runsFolderOf } from './history';
import { FileLock } from './lock';
import { artifactOp, createRunOp, experimentOp, metricsOp, updateRunOp, type MetricColumns, type Op } from './ops';
import { appendRecord, encodeRecord, logFileOf, readLog, LOG_HEADER_BYTES, type LogPosition } from './oplog';
import { RunFiles, takeLargeFieldsOfRow, takeLargeFieldsOfSets } from './runFiles';
import { SCHEMA_VERSION } from './schema';
import type { ArtifactRecord, ExperimentInput, MetricPoint, NewRun, RunPatch, RunRecord } from './types';

// Records a run by appending one record to the store's operation log, without SQLite: `edd run` of a training that is
// over within a moment (see executeRun) would otherwise spend more on starting sql.js and reading the index (~50 ms)
// than on the training. It writes exactly what RunStore would for the same calls — the ops come from the same
// builders (ops.ts), the large fields go to the run's file and the points to its history file as RunStore sends them —
// and appends them under the store's lock, after the points and run files are durable, as a RunStore save does. Every
// reader applies the record like any other save's.
//
// It is used only when the head can be read without SQLite (headMeta.ts) and is of this schema, with the log it names
// intact and far from its checkpoint size. Anything else at the save — the head replaced by one it cannot read, a
// damaged log, a log that needs a checkpoint — and the calls made so far are replayed on a RunStore (`openFull`),
// which saves them the usual way and takes over. What RunStore also does at a save and this leaves to the next
// RunStore save: sealing old runs, checkpoints, and the recovery of runs left `running`.

/** The part of RunStore that recording a run uses (executeRun). RunStore has it; so does QuickRunStore. */
export interface RunRecorder {
  upsertExperiment(experiment: ExperimentInput): unknown;
  createRun(run: NewRun): RunRecord;
  updateRun(id: string, patch: RunPatch): RunRecord;
  getRun(id: string): RunRecord | undefined;
  addMetrics(points: readonly MetricPoint[]): void;
  addArtifact(artifact: ArtifactRecord): void;
  scheduleSave(): void;
  save(): Promise<void>;
  finalMetrics(runId: string): Record<string, number>;
}

export interface QuickStoreOptions {
  /** Opens the store with SQLite, for when the quick way cannot save (called at most once). */
  openFull: () => Promise<RunRecorder>;
  /** Not used when the log is already within this many bytes of `logCheckpointBytes`. */
  headroomBytes?: number;
  logCheckpointBytes?: number;
  lockTimeoutMs?: number;
  staleLockMs?: number;
}

/** What the quick way needs of the head and its log, read under the lock (or undefined: use RunStore). */
interface Target {
  logId: string;
  generation: number;
  at: LogPosition | undefined;
  logEnd: number;
}

export class QuickRunStore implements RunRecorder {
  /**
   * A recorder for the store `file` that appends to its log, or undefined when the store is not in a state it can
   * write (no index yet, another schema, a log it cannot read or near its checkpoint): use RunStore then.
   */
  static async open(file: string, options: QuickStoreOptions): Promise<QuickRunStore | undefined> {
    const o = { headroomBytes: 64 * 1024, logCheckpointBytes: 256 * 1024, lockTimeoutMs: 10_000, staleLockMs: 30_000, ...options };
    const target = await readTarget(file);
    if (!target || target.logEnd + o.headroomBytes > o.logCheckpointBytes) return undefined;
    return new QuickRunStore(file, o, target);
  }

  private readonly journal: Op[] = [];
  /** Every call so far, to replay on a RunStore if this one cannot save. */
  private readonly calls: ((store: RunRecorder) => unknown)[] = [];
  private readonly history: MetricHistories;
  private readonly runFiles: RunFiles;
  /** Points for the history files, appended at the save (so that a fallback to RunStore appends them once). */
  private readonly points: MetricColumns[] = [];
  private readonly runs = new Map<string, RunRecord>();
  private readonly finals = new Map<string, Map<string, { step: number; value: number }>>();
  private full: RunRecorder | undefined;

  private constructor(readonly file: string, private readonly options: Required<QuickStoreOptions>, private target: Target) {
    this.history = new MetricHistories(runsFolderOf(file));
    this.runFiles = new RunFiles(runsFolderOf(file));
  }

  upsertExperiment(experiment: ExperimentInput): void {
    if (this.full) return void this.full.upsertExperiment(experiment);
    this.journal.push(experimentOp(experiment, Date.now()));
    this.calls.push(s => s.upsertExperiment(experiment));
  }

  createRun(run: NewRun): RunRecord {
    if (this.full) return this.full.createRun(run);
    const { op, record } = createRunOp(run, randomUUID(), Date.now());
    const fields = takeLargeFieldsOfRow(op.row);
    this.journal.push(op);
    if (Object.keys(fields).length) this.runFiles.set(record.id, fields);
    this.runs.set(record.id, record);
    // replayed with the id given here, generated or not
    this.calls.push(s => s.createRun({ ...run, id: record.id }));
    return { ...record };
  }

  updateRun(id: string, patch: RunPatch): RunRecord {
    if (this.full) return this.full.updateRun(id, patch);
    const run = this.runs.get(id);
    if (!run) throw new Error(`QuickRunStore records only its own runs; no run ${id} here`);
    const op = updateRunOp(id, patch);
    const fields = takeLargeFieldsOfSets(op.sets);
    this.journal.push(op);
    if (Object.keys(fields).length) this.runFiles.set(id, fields);
    for (const [key, value] of Object.entries(patch)) if (value !== undefined) (run as unknown as Record<string, unknown>)[key] = value;
    this.calls.push(s => s.updateRun(id, patch));
    return { ...run };
  }

  getRun(id: string): RunRecord | undefined {
    if (this.full) return this.full.getRun(id);
    const run = this.runs.get(id);
    return run && { ...run };
  }

  addMetrics(points: readonly MetricPoint[]): void {
    if (this.full) return this.full.addMetrics(points);
    const { op, points: cols } = metricsOp(points, Date.now());
    if (cols.runIds.length === 0) return;
    for (const id of new Set(cols.runIds)) if (!this.runs.has(id)) throw new Error(`QuickRunStore records only its own runs; no run ${id} here`);
    this.journal.push(op);
    this.points.push(cols);
    // the final value of each key: the value at its highest step (the later of two at the same step), as the index keeps it
    for (let i = 0; i < cols.runIds.length; i++) {
      let keys = this.finals.get(cols.runIds[i]);
      if (!keys) this.finals.set(cols.runIds[i], (keys = new Map()));
      const prev = keys.get(cols.keys[i]);
      if (!prev || cols.steps[i] >= prev.step) keys.set(cols.keys[i], { step: cols.steps[i], value: cols.values[i] });
    }
    this.calls.push(s => s.addMetrics(points));
  }

  addArtifact(artifact: ArtifactRecord): void {
    if (this.full) return this.full.addArtifact(artifact);
    if (!this.runs.has(artifact.runId)) throw new Error(`QuickRunStore records only its own runs; no run ${artifact.runId} here`);
    this.journal.push(artifactOp(artifact));
    this.calls.push(s => s.addArtifact(artifact));
  }

  /** Nothing is saved before `save` (this recorder is for a run that is already over). */
  scheduleSave(): void {
    this.full?.scheduleSave();
  }

  finalMetrics(runId: string): Record<string, number> {
    if (this.full) return this.full.finalMetrics(runId);
    const keys = this.finals.get(runId);
    const out: Record<string, number> = {};
    if (keys) for (const key of [...keys.keys()].sort()) out[key] = keys.get(key)!.value;
    return out;
  }

  /** Whether the last save went through RunStore (the quick way could not write). */
  get fellBack(): boolean {
    return this.full !== undefined;
  }

  async save(): Promise<void> {
    if (this.full) return this.full.save();
    if (this.journal.length === 0) return;
    const lock = await FileLock.acquire(`${this.file}.lock`, this.file, { timeoutMs: this.options.lockTimeoutMs, staleMs: this.options.staleLockMs });
    let appended = false;
    try {
      const target = await readTarget(this.file, this.target);
      const record = target && encodeRecord({ generation: target.generation + 1, saveId: randomUUID(), ops: this.journal });
      if (target && record && target.logEnd + record.length <= this.options.logCheckpointBytes) {
        // As a RunStore save: the points and the run files are durable (their fsyncs wait together) before the
        // record that names them.
        for (const c of this.points) this.history.append(c.runIds, c.keys, c.steps, c.values, c.times);
        const commitRunFiles = this.runFiles.stage();
        await Promise.all([this.history.sync(), commitRunFiles()]);
        const at = await appendRecord(logFileOf(this.file), target.logId, target.at, record);
        this.target = { logId: target.logId, generation: target.generation + 1, at, logEnd: at.end };
        appended = true;
      }
    } finally {
      await lock.release();
    }
    if (appended) {
      this.journal.length = 0;
      this.points.length = 0;
      this.calls.length = 0;
      this.history.refreshCurveCaches();
      return;
    }
    // The store is not as it was at open (or the log needs a checkpoint): RunStore saves it and takes over.
    const full = await this.options.openFull();
    for (const call of this.calls) call(full);
    this.calls.length = 0;
    this.full = full;
    await full.save();
  }
}

/**
 * The head's log and generation and where the log ends, if the head is readable without SQLite and of this schema.
 * With `known` (what an earlier call found), a log that is still the same file is read only after where it ended then.
 */
async function readTarget(file: string, known?: Target): Promise<Target | undefined> {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch {
    return undefined;
  }
  const head = readHeadMeta(bytes);
  if (!head || head.userVersion !== SCHEMA_VERSION) return undefined;
  const logId = head.meta.get('log_id');
  const generation = Number(head.meta.get('generation'));
  // `run_files` = moved: the index holds no large fields of older runs that a RunStore save would first move out
  if (!logId || !Number.isSafeInteger(generation) || head.meta.get('run_files') !== 'moved') return undefined;
  // only the same file, grown or not (a log replaced under the same id is read whole)
  const sameLog = (at: LogPosition) => {
    const st = fs.statSync(logFileOf(file), { throwIfNoEntry: false });
    return st !== undefined && st.dev === at.dev && st.ino === at.ino && st.size >= at.end;
  };
  const since = known?.logId === logId && known.at && sameLog(known.at) ? known.at : undefined;
  const log = await readLog(logFileOf(file), logId, since?.end, since).catch(() => undefined);
  if (!log || log.kind === 'corrupt') return undefined;
  if (log.kind !== 'records') return { logId, generation, at: undefined, logEnd: LOG_HEADER_BYTES }; // none yet (or another head's): started anew
  const last = log.records[log.records.length - 1];
  const before = since ? known!.generation : generation;
  return { logId, generation: last ? last.generation : before, at: log.position, logEnd: log.position.end };
}
