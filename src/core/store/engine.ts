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
import { applyOp, LEGACY_POINTS, type Op } from './ops';
import { metricValue } from './runQueries';
import { isCorruption, layoutOf, loadImage, readMeta, tryLoadImage } from './image';
import { appendRecord, encodeRecord, logFileOf, readLog, removeLog, LOG_HEADER_BYTES, type LogPosition, type LogRead, type LogRecord } from './oplog';
import { migrate } from './schema';
import { Segments, segmentsFolderOf } from './segments';
import { loadSqlJs } from './sqljs';
import type { StoreSaved } from './types';

// The file engine under RunStore: the index file (the head), its operation log (oplog.ts) and the per-run files on
// disk, the in-memory copy of the index, the journal of this process's unsaved operations, the lock, the merge with
// another process's save, and the writes: a save appends its operations to the log; now and then a checkpoint
// rewrites the head atomically and starts a new log. RunStore is the run API over it (validation, events, the save
// schedule).

export interface EngineOptions {
  wasmPath: string | undefined;
  lockTimeoutMs: number;
  staleLockMs: number;
  verify: 'quick' | 'header';
  readOnly: boolean;
  /** Runs per segment: the head is sealed down when it holds more than twice this many. */
  segmentRuns: number;
  /** The log size past which a save checkpoints (rewrites the head, which the log's records are then part of). */
  logCheckpointBytes: number;
}

/** Opens retry this many times when a checkpoint replaces the head between reading it and reading its log. */
const OPEN_ATTEMPTS = 5;

export class StoreEngine {
  /** Loads sql.js (on first use) and the file, or starts an empty index if there is none. */
  static async open(file: string, options: EngineOptions, onExternal: () => void): Promise<StoreEngine> {
    const logFile = logFileOf(file);
    // compiling the wasm and reading the file overlap
    const sqlJs = loadSqlJs(options.wasmPath);
    const folder = options.readOnly ? Promise.resolve() : fs.promises.mkdir(path.dirname(file), { recursive: true });
    for (let attempt = 1; ; attempt++) {
      const [SQL, disk] = await Promise.all([sqlJs, folder.then(() => readFile(file))]);
      if (!disk) {
        const db = new StoreDb(new SQL.Database());
        migrate(db.raw);
        return new StoreEngine(file, SQL, db, undefined, false, options, onExternal);
      }
      const loaded = await loadImage(SQL, file, disk.bytes, options.verify);
      const logId = readLogId(loaded.db);
      const log: CheckedLogRead = logId ? await readCheckedLog(logFile, logId).catch(e => {
        loaded.db.close();
        throw e;
      }) : { kind: 'missing' };
      // Another head's log: either a checkpoint replaced the head after we read it (read both again), or one that
      // crashed before removing its old log (whose records the head already holds: ignored).
      if (log.kind === 'other' && attempt < OPEN_ATTEMPTS) {
        const layout = layoutOf(loaded.db);
        if (!sameSignature(statSignature(file, layout), signatureOfBytes(disk.stat, disk.bytes, layout))) {
          loaded.db.close();
          continue;
        }
      }
      const engine = new StoreEngine(file, SQL, loaded.db, disk, loaded.migrated, options, onExternal);
      engine.logId = logId;
      if (log.kind === 'records') await engine.replay(engine.current, log.records, log.position, disk.bytes);
      return engine;
    }
  }

  private current: StoreDb;
  private journal: Op[] = [];
  /** Unsaved changes that are not in the journal (a migration). */
  private dirty: boolean;
  private signature: DiskSignature | undefined;
  private layout: Layout;
  private saveId: string | null;
  private gen: number;
  /** The log the loaded head names (null: none yet, the next save checkpoints). */
  private logId: string | null = null;
  /** How far into that log our copy has applied (undefined: nothing of it, or no file yet). */
  private logPos: LogPosition | undefined;
  private readonly lockPath: string;
  private readonly logFile: string;
  readonly history: MetricHistories;
  readonly runFiles: RunFiles;
  readonly segments: Segments;

  private constructor(
    /** Absolute path of the index file. */
    readonly file: string,
    private readonly SQL: SqlJsStatic,
    db: StoreDb,
    disk: { bytes: Uint8Array; stat: fs.Stats } | undefined,
    migrated: boolean,
    private readonly options: EngineOptions,
    /** Called after another process's save was loaded (by a reload or a save's merge). */
    private readonly onExternal: () => void,
  ) {
    this.segments = new Segments(SQL, segmentsFolderOf(file));
    db.sealed = this.segments;
    this.current = db;
    this.layout = layoutOf(db);
    this.signature = disk && signatureOfBytes(disk.stat, disk.bytes, this.layout);
    this.dirty = migrated;
    const meta = readMeta(db);
    this.saveId = meta.saveId;
    this.gen = meta.generation;
    this.lockPath = `${file}.lock`;
    this.logFile = logFileOf(file);
    this.history = new MetricHistories(runsFolderOf(file), !options.readOnly);
    this.runFiles = new RunFiles(runsFolderOf(file));
  }

  /** The in-memory copy of the index (replaced when another process's save is merged, so never kept). */
  get db(): StoreDb {
    return this.current;
  }

  /** How many saves (by any process) the loaded copy has seen. */
  get generation(): number {
    return this.gen;
  }

  get hasUnsavedChanges(): boolean {
    return this.dirty || this.journal.length > 0 || this.runFiles.hasPending;
  }

  /** Applies a mutation to the copy (with `alsoDo` inside the same transaction) and journals it for the next save. */
  apply(op: Op, alsoDo?: () => void): void {
    this.current.transaction(() => {
      applyOp(this.current, op, true);
      alsoDo?.();
    });
    this.journal.push(op);
  }

  /**
   * Writes all changes (the caller serialises saves), under the lock: merging with another process's save if there
   * was one, then either one record appended to the log or, now and then, a checkpoint (an atomic replace of the head
   * and a new log). `saved` is called with what was written (before the lock is released).
   */
  async save(saved: (what: StoreSaved) => void, forceCheckpoint = false): Promise<void> {
    if (this.options.readOnly || (!this.hasUnsavedChanges && !forceCheckpoint)) return;
    const lockOptions = { timeoutMs: this.options.lockTimeoutMs, staleMs: this.options.staleLockMs };
    const lock = await FileLock.acquire(this.lockPath, this.file, lockOptions).catch(async (e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOENT') throw e;
      // the folder was deleted since open: the file is written anew, with everything we hold
      await fs.promises.mkdir(path.dirname(this.file), { recursive: true });
      return FileLock.acquire(this.lockPath, this.file, lockOptions);
    });
    try {
      const merged = await this.catchUp();
      removeOrphanTemps(this.file, this.logFile);
      // What a v4/v5 store still holds in the index leaves it before any run is sealed (a segment has only the runs'
      // rows, final values and artifacts).
      let reshaped = false;
      if (this.current.hasTable(LEGACY_POINTS)) {
        moveLegacyHistories(this.current, this.history);
        reshaped = true;
      }
      if (moveLegacyRunFiles(this.current, this.runFiles)) reshaped = true;
      const sealed = await this.sealOldRuns();
      // Synchronous from here to the encoding of the record: what it holds is exactly the journal up to `exported`,
      // whose points were appended and whose run files were set before this instant.
      const db = this.current;
      let exported = this.journal.length;
      const generation = this.gen + 1;
      const saveId = randomUUID();
      const logEnd = this.logPos?.end ?? LOG_HEADER_BYTES;
      // (an op encodes to 30 bytes or more, so a journal of more ops than the log has room for at that size cannot fit:
      // a big import is not encoded only to be thrown away)
      const mustCheckpoint = forceCheckpoint || this.dirty || reshaped || sealed || !this.signature || this.logId === null ||
        logEnd + exported * 30 > this.options.logCheckpointBytes;
      const record = mustCheckpoint ? undefined : encodeRecord({ generation, saveId, ops: this.journal.slice(0, exported) });
      const checkpoint = !record || logEnd + record.length > this.options.logCheckpointBytes;
      let bytesWritten: number;
      if (checkpoint) {
        // The points appended since the last save become durable before the index that summarises them.
        await this.history.sync();
        // Synchronous from here to the export: the head holds exactly the journal up to `exported`.
        this.runFiles.flush();
        exported = this.journal.length;
        // The head takes in everything, and names a new log: the old one (if a crash keeps it) is then another head's.
        const logId = randomUUID();
        db.run("INSERT OR REPLACE INTO meta (key, value) VALUES ('generation', ?), ('save_id', ?), ('saved_at', ?), ('saved_by', ?), ('log_id', ?)", [
          String(generation), saveId, String(Date.now()), `pid ${process.pid}`, logId,
        ]);
        if (sealed) {
          // the sealed runs' pages are free now: without this the head would keep the size of the whole history
          db.raw.exec('VACUUM');
          this.layout = layoutOf(db);
        }
        const bytes = db.export();
        const wasDirty = this.dirty;
        this.dirty = false;
        try {
          this.signature = signatureOfBytes(await writeAtomic(this.file, bytes), bytes, this.layout);
        } catch (e) {
          this.dirty ||= wasDirty;
          throw e;
        }
        this.logId = logId;
        this.logPos = undefined;
        await removeLog(this.logFile);
        bytesWritten = bytes.byteLength;
      } else {
        // The record's points and run files become durable (their fsyncs wait together) before the record.
        const commitRunFiles = this.runFiles.stage();
        await Promise.all([this.history.sync(), commitRunFiles()]);
        this.logPos = await appendRecord(this.logFile, this.logId!, this.logPos, record!);
        bytesWritten = record.length;
      }
      // Mutations made while the file was being written stay in the journal for the next save.
      const deleted = this.journal.slice(0, exported).flatMap(op => (op.kind === 'deleteRun' ? [op.id] : []));
      this.journal.splice(0, exported);
      // A deleted run's history goes once its deletion is on disk (not if the id was recorded again since).
      for (const id of deleted) {
        if (this.current.runSeq(id) !== undefined) continue;
        await this.history.remove(id);
        await this.runFiles.remove(id);
      }
      this.gen = generation;
      this.saveId = saveId;
      saved({ generation, bytes: bytesWritten, merged });
    } finally {
      await lock.release();
    }
    // after the lock: another process's save need not wait for this
    this.history.refreshCurveCaches();
  }

  /**
   * Under the lock, before a save writes: loads what other processes saved since our copy (a new head, or records
   * appended to the log) and re-applies our journal on top. True if there was something.
   */
  private async catchUp(): Promise<boolean> {
    if (!sameSignature(statSignature(this.file, this.layout), this.signature)) {
      const disk = await readFile(this.file);
      if (disk) return this.adopt(disk);
      // deleted since we read it: ours becomes the file (a checkpoint)
      this.signature = undefined;
      this.logId = null;
      this.logPos = undefined;
      return false;
    }
    if (this.logId === null) return false;
    const log = await this.readLogAfter();
    if (log.kind === 'records' && log.records.length === 0) {
      this.logPos = log.position;
      return false;
    }
    if (log.kind !== 'records') {
      // no log (never written, or removed by hand): the next append starts it
      this.logPos = undefined;
      return false;
    }
    const disk = await readFile(this.file);
    return disk ? this.adopt(disk) : false;
  }

  /** The log's records after what we applied (a damaged log throws, with a copy kept). */
  private readLogAfter(): Promise<CheckedLogRead> {
    return readCheckedLog(this.logFile, this.logId!, this.logPos?.end, this.logPos);
  }

  /** Applies a log's records to `db` (a loaded head) and takes its position; `headBytes` for the copy kept if the records do not apply. */
  private async replay(db: StoreDb, records: LogRecord[], position: LogPosition, headBytes?: Uint8Array): Promise<void> {
    try {
      db.transaction(() => applyRecords(db, records));
    } catch (e) {
      if (isCorruption(e)) throw new StoreCorruptError(this.file, `SQLite: ${(e as Error).message}`, headBytes && (await keepCorruptCopy(this.file, headBytes)));
      throw e;
    }
    const last = records[records.length - 1];
    if (last) {
      this.gen = last.generation;
      this.saveId = last.saveId;
    }
    this.logPos = position;
  }

  /**
   * Seals the oldest runs into segments while the head holds more than twice `segmentRuns` runs (under the lock, on
   * the merged copy). A seal is dropped (its file becomes an orphan, removed by a later save) if this process wrote
   * to one of its runs while the segment was being written: the head keeps them and the next save seals again.
   */
  private async sealOldRuns(): Promise<boolean> {
    const limit = this.options.segmentRuns;
    let sealed = false;
    const headRuns = () => this.current.one('SELECT COUNT(*) FROM runs')![0] as number;
    if (headRuns() <= 2 * limit) return false;
    await this.segments.removeOrphans(this.current);
    while (headRuns() > 2 * limit) {
      const db = this.current;
      const before = this.journal.length;
      const done = await this.segments.seal(db, limit, this.gen + 1, ids => this.current === db && !this.journal.slice(before).some(op => touches(op, ids)));
      if (!done) break;
      sealed = true;
    }
    return sealed;
  }

  /** Loads another process's saves if the head or its log changed since we read or wrote them (the caller serialises this with saves). */
  async reload(): Promise<boolean> {
    const onDisk = statSignature(this.file, this.layout);
    if (!onDisk) return false;
    if (!sameSignature(onDisk, this.signature)) {
      const disk = await readFile(this.file);
      return disk ? this.adopt(disk) : false;
    }
    if (this.logId === null) return false;
    const log = await this.readLogAfter();
    if (log.kind !== 'records' || log.records.length === 0) return false;
    if (this.journal.length > 0 || this.dirty) {
      // our unsaved changes go after theirs, as they will in the file
      const disk = await readFile(this.file);
      return disk ? this.adopt(disk) : false;
    }
    // Nothing of ours pending: their records apply on top of our copy as they would on the head.
    await this.replay(this.current, log.records, log.position);
    this.onExternal();
    return true;
  }

  /** Makes `disk` (a head) with its log our copy, with the journal re-applied. False if it is the version we already have. */
  private async adopt(disk: { bytes: Uint8Array; stat: fs.Stats }): Promise<boolean> {
    const loaded = tryLoadImage(this.SQL, this.file, disk.bytes, 'header');
    if ('corrupt' in loaded) throw new StoreCorruptError(this.file, loaded.corrupt, await keepCorruptCopy(this.file, disk.bytes));
    const fresh = loaded.db;
    const meta = readMeta(fresh);
    const logId = readLogId(fresh);
    const log: CheckedLogRead = logId ? await readCheckedLog(this.logFile, logId).catch(e => {
      fresh.close();
      throw e;
    }) : { kind: 'missing' };
    const records = log.kind === 'records' ? log.records : [];
    const position = log.kind === 'records' ? log.position : undefined;
    const last = records[records.length - 1];
    const saveId = last ? last.saveId : meta.saveId;
    const layout = layoutOf(fresh);
    if (saveId !== null && saveId === this.saveId && !loaded.migrated) {
      fresh.close();
      this.layout = layout;
      this.signature = signatureOfBytes(disk.stat, disk.bytes, layout);
      this.logId = logId;
      this.logPos = position;
      return false;
    }
    // an op on a run the other process sealed copies it back from the segment
    fresh.sealed = this.segments;
    try {
      fresh.transaction(() => {
        applyRecords(fresh, records);
        for (const op of this.journal) applyOp(fresh, op, false);
      });
    } catch (e) {
      fresh.close();
      if (isCorruption(e)) throw new StoreCorruptError(this.file, `SQLite: ${(e as Error).message}`, await keepCorruptCopy(this.file, disk.bytes));
      throw e;
    }
    this.current.close();
    this.current = fresh;
    this.layout = layout;
    this.signature = signatureOfBytes(disk.stat, disk.bytes, layout);
    this.logId = logId;
    this.logPos = position;
    this.saveId = saveId;
    this.gen = last ? last.generation : meta.generation;
    this.dirty ||= loaded.migrated;
    this.onExternal();
    return true;
  }

  /** Releases the in-memory copy (unsaved changes are lost: the caller saves first). */
  close(): void {
    this.current.close();
    this.segments.close();
  }
}

/** Whether an op writes to one of these runs. */
function touches(op: Op, ids: Set<string>): boolean {
  switch (op.kind) {
    case 'updateRun':
    case 'deleteRun':
      return ids.has(op.id);
    case 'artifact':
      return ids.has(op.row[0] as string);
    case 'metrics':
      return op.points.runIds.some(id => ids.has(id));
    default:
      return false;
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
 * Moves the config snapshots and environments of runs recorded before version 5 from the index to their files, once
 * (true if it did, which the head must then record):
 * the `meta` row `run_files` says it is done (a version 5 process never writes those columns, and an older EDD cannot
 * write a version 5 file, so none come back).
 */
function moveLegacyRunFiles(db: StoreDb, files: RunFiles): boolean {
  if (db.one("SELECT 1 FROM meta WHERE key = 'run_files' AND value = 'moved'")) return false;
  const rows = db.all('SELECT id, config_snapshot, environment FROM runs WHERE config_snapshot IS NOT NULL OR environment IS NOT NULL');
  for (const [id, snapshot, environment] of rows) {
    const fields: RunFileFields = {};
    if (snapshot !== null) fields.configSnapshot = snapshot as string;
    if (environment !== null) fields.environment = environment as string;
    files.write(id as string, fields);
  }
  if (rows.length) db.run('UPDATE runs SET config_snapshot = NULL, environment = NULL WHERE config_snapshot IS NOT NULL OR environment IS NOT NULL');
  db.run("INSERT OR REPLACE INTO meta (key, value) VALUES ('run_files', 'moved')");
  return true;
}

type CheckedLogRead = Exclude<LogRead, { kind: 'corrupt' }>;

/** `readLog`, with a damaged log thrown as `StoreCorruptError` (naming the log, a copy kept beside it). */
async function readCheckedLog(logFile: string, id: string, from?: number, known?: LogPosition): Promise<CheckedLogRead> {
  const log = await readLog(logFile, id, from, known);
  if (log.kind === 'corrupt') throw new StoreCorruptError(logFile, log.reason, await keepCorruptCopy(logFile, log.bytes));
  return log;
}

/** Applies a log's records to `db`, in order, as a replay (a run another process deleted is skipped). */
function applyRecords(db: StoreDb, records: readonly LogRecord[]): void {
  for (const record of records) for (const op of record.ops) applyOp(db, op, false);
}

/** The id of the log that continues a head (none before its first checkpoint by a build with logs). */
function readLogId(db: StoreDb): string | null {
  return (db.one("SELECT value FROM meta WHERE key = 'log_id'")?.[0] as string | undefined) ?? null;
}
