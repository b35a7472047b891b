import { createHash, randomBytes } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import type { SqlJsStatic } from 'sql.js';
import { StoreDb } from './db';
import { StoreCorruptError } from './errors';
import { headerProblem, pidAlive, writeAtomic } from './fileio';
import { RUN_COLUMNS } from './ops';
import { SCHEMA_VERSION, userVersion } from './schema';

// Old runs leave the head index for immutable segment files, so that a save (which rewrites the head) and an open
// (which reads and checks the head) cost what the newest runs weigh, not what the whole history weighs. A segment is
// an SQLite image with the four run tables (runs, metric_final, metric_keys, artifacts) of the runs sealed into it,
// written once (temp, fsync, rename) under the store's lock before the head that lists it, never modified after.
// The head lists each segment with its length and SHA-256 (checked when it is first read), its time range, and per
// experiment its run count and newest run, so the first level of the runs tree needs no segment. Writing to a sealed
// run (update, metrics, artifact, delete) copies it back into the head first and notes its id in `sealed_gone`,
// which hides the segment's copy from every read.

/** Where a store's segments live: `.edd/segments/` for `.edd/edd.sqlite`, `<file>.segments/` otherwise. */
export function segmentsFolderOf(storeFile: string): string {
  const dir = path.dirname(storeFile);
  return path.basename(storeFile) === 'edd.sqlite' ? path.join(dir, 'segments') : `${storeFile}.segments`;
}

export interface SegmentRow {
  id: number;
  file: string;
  bytes: number;
  sha256: string;
  maxAt: number | null;
}

export const goneKey = (segment: number, id: string): string => `${segment}\0${id}`;

const SEALED_TABLES = ['runs', 'metric_final', 'metric_keys', 'artifacts'];
const RUN_SELECT = `seq, ${RUN_COLUMNS.join(', ')}`;

/** The segments of one store: read on first use and kept (they never change), shared by every copy of the head. */
export class Segments {
  private readonly loaded = new Map<string, StoreDb>();

  constructor(private readonly SQL: SqlJsStatic, readonly folder: string) {}

  /** The head's segments, newest runs first. */
  list(head: StoreDb): SegmentRow[] {
    return head.all('SELECT id, file, bytes, sha256, max_at FROM segments ORDER BY max_at DESC, id DESC').map(r => ({
      id: r[0] as number, file: r[1] as string, bytes: r[2] as number, sha256: r[3] as string, maxAt: r[4] as number | null,
    }));
  }

  /** A segment's tables, read and checked (length, SHA-256, header) on first use. @throws StoreCorruptError */
  load(segment: SegmentRow): StoreDb {
    const cached = this.loaded.get(segment.file);
    if (cached) return cached;
    const file = path.join(this.folder, segment.file);
    let bytes: Buffer;
    try {
      bytes = fs.readFileSync(file);
    } catch (e) {
      throw new StoreCorruptError(file, `a segment of the index cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, undefined);
    }
    // The segment file itself is the kept copy: nothing ever writes or removes a segment the head lists.
    let problem: string | undefined;
    if (bytes.byteLength !== segment.bytes) problem = `the segment is ${bytes.byteLength} bytes, the index says ${segment.bytes}`;
    else if (createHash('sha256').update(bytes).digest('hex') !== segment.sha256) problem = 'the segment\'s SHA-256 differs from the one the index recorded';
    else problem = headerProblem(bytes);
    if (problem) throw new StoreCorruptError(file, problem, file);
    const db = new StoreDb(new this.SQL.Database(bytes));
    const version = userVersion(db.raw);
    if (version !== SCHEMA_VERSION) {
      db.close();
      throw new StoreCorruptError(file, `the segment has schema version ${version}, this EDD reads ${SCHEMA_VERSION}`, file);
    }
    this.loaded.set(segment.file, db);
    return db;
  }

  /**
   * The segments' copies the head hides (copied back or deleted), as `goneKey(segment, id)`. A run copied back and
   * later sealed again is hidden only in the segment it was copied from.
   */
  gone(head: StoreDb): Set<string> {
    return new Set(head.all('SELECT segment, id FROM sealed_gone').map(r => goneKey(r[0] as number, r[1] as string)));
  }

  /** Where a sealed run is (not one that was copied back or deleted). */
  locate(head: StoreDb, id: string): { segment: SegmentRow; db: StoreDb; seq: number } | undefined {
    const list = this.list(head);
    if (list.length === 0) return undefined;
    const hidden = new Set(head.all('SELECT segment FROM sealed_gone WHERE id = ?', [id]).map(r => r[0] as number));
    for (const segment of list) {
      if (hidden.has(segment.id)) continue;
      const db = this.load(segment);
      const seq = db.runSeq(id);
      if (seq !== undefined) return { segment, db, seq };
    }
    return undefined;
  }

  /** The id of the sealed run with this external id, if any. */
  findExternal(head: StoreDb, externalId: string): string | undefined {
    const list = this.list(head);
    if (list.length === 0) return undefined;
    const gone = this.gone(head);
    for (const segment of list) {
      for (const [id] of this.load(segment).all('SELECT id FROM runs WHERE external_id = ?', [externalId])) {
        if (!gone.has(goneKey(segment.id, id as string))) return id as string;
      }
    }
    return undefined;
  }

  /**
   * Copies a sealed run (row, final values, artifacts) back into the head, hides the segment's copy, and returns its
   * row number (unchanged: numbers are unique across head and segments). Called inside the caller's transaction.
   */
  copyBack(head: StoreDb, id: string): number | undefined {
    const found = this.locate(head, id);
    if (!found) return undefined;
    const { db, seq, segment } = found;
    const row = db.one(`SELECT ${RUN_SELECT} FROM runs WHERE seq = ?`, [seq])!;
    head.run(`INSERT INTO runs (${RUN_SELECT}) VALUES (${row.map(() => '?').join(', ')})`, row);
    for (const [keyId, step, value, time] of db.all('SELECT key_id, step, value, time FROM metric_final WHERE run_seq = ?', [seq])) {
      head.run('INSERT INTO metric_final (run_seq, key_id, step, value, time) VALUES (?, ?, ?, ?, ?)', [seq, head.keyId(db.keyName(keyId as number)), step, value, time]);
    }
    for (const artifact of db.all('SELECT run_id, path, kind, sha256, size FROM artifacts WHERE run_id = ?', [id])) {
      head.run('INSERT OR REPLACE INTO artifacts (run_id, path, kind, sha256, size) VALUES (?, ?, ?, ?, ?)', artifact);
    }
    head.run('INSERT OR REPLACE INTO sealed_gone (id, segment) VALUES (?, ?)', [id, segment.id]);
    // the segment's count for the experiment loses the run, and its newest run is the newest one still there
    const experimentId = row[1 + RUN_COLUMNS.indexOf('experiment_id')] as string;
    const gone = this.gone(head);
    let runs = 0;
    let lastAt: number | null = null;
    for (const [other, at] of db.all('SELECT id, created_at FROM runs WHERE experiment_id = ?', [experimentId])) {
      if (gone.has(goneKey(segment.id, other as string))) continue;
      runs++;
      lastAt = Math.max(lastAt ?? -Infinity, at as number);
    }
    head.run('UPDATE segment_experiments SET runs = ?, last_at = ? WHERE segment = ? AND experiment_id = ?', [runs, lastAt, segment.id, experimentId]);
    return seq;
  }

  /**
   * Seals the `count` oldest runs of the head that are over (not queued or running) into a new segment file, then
   * removes them from the head and lists the segment there. The caller holds the store's lock. Returns false if there
   * was nothing to seal, or `stillSealable` said no once the file was written (the head is then left as it was).
   */
  async seal(head: StoreDb, count: number, generation: number, stillSealable: (ids: Set<string>) => boolean): Promise<boolean> {
    const seqs = head.all("SELECT seq FROM runs WHERE status NOT IN ('queued', 'running') ORDER BY created_at, seq LIMIT ?", [count]).map(r => r[0] as number);
    if (seqs.length === 0) return false;
    const segment = new StoreDb(new this.SQL.Database());
    let bytes: Uint8Array;
    let ids: string[];
    try {
      const schema = head.all(`SELECT sql FROM sqlite_master WHERE tbl_name IN (${SEALED_TABLES.map(() => '?').join(', ')}) AND sql IS NOT NULL ORDER BY type DESC`, SEALED_TABLES);
      segment.raw.exec(schema.map(r => `${r[0] as string};`).join('\n'));
      segment.raw.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`);
      ids = segment.transaction(() => {
        const out: string[] = [];
        for (const key of head.all('SELECT id, name FROM metric_keys')) segment.run('INSERT INTO metric_keys (id, name) VALUES (?, ?)', key);
        for (const seq of seqs) {
          const row = head.one(`SELECT ${RUN_SELECT} FROM runs WHERE seq = ?`, [seq])!;
          segment.run(`INSERT INTO runs (${RUN_SELECT}) VALUES (${row.map(() => '?').join(', ')})`, row);
          for (const f of head.all('SELECT run_seq, key_id, step, value, time FROM metric_final WHERE run_seq = ?', [seq])) {
            segment.run('INSERT INTO metric_final (run_seq, key_id, step, value, time) VALUES (?, ?, ?, ?, ?)', f);
          }
          for (const a of head.all('SELECT run_id, path, kind, sha256, size FROM artifacts WHERE run_id = ?', [row[1]])) {
            segment.run('INSERT INTO artifacts (run_id, path, kind, sha256, size) VALUES (?, ?, ?, ?, ?)', a);
          }
          out.push(row[1] as string);
        }
        return out;
      });
      bytes = segment.export();
    } catch (e) {
      segment.close();
      throw e;
    }
    const name = `${String(generation).padStart(8, '0')}-${randomBytes(4).toString('hex')}.sqlite`;
    await fs.promises.mkdir(this.folder, { recursive: true });
    // the segment is on disk (synced) before the head that lists it
    await writeAtomic(path.join(this.folder, name), bytes);
    if (!stillSealable(new Set(ids))) {
      segment.close();
      return false;
    }
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const range = segment.one('SELECT MIN(created_at), MAX(created_at), MAX(seq), COUNT(*) FROM runs')!;
    const perExperiment = segment.all('SELECT experiment_id, COUNT(*), MAX(created_at) FROM runs GROUP BY experiment_id');
    head.transaction(() => {
      head.run('INSERT INTO segments (file, bytes, sha256, runs, min_at, max_at, max_seq) VALUES (?, ?, ?, ?, ?, ?, ?)', [name, bytes.byteLength, sha256, range[3], range[0], range[1], range[2]]);
      const id = head.one('SELECT last_insert_rowid()')![0] as number;
      for (const [experimentId, runs, lastAt] of perExperiment) {
        head.run('INSERT INTO segment_experiments (segment, experiment_id, runs, last_at) VALUES (?, ?, ?, ?)', [id, experimentId, runs, lastAt]);
      }
      for (let i = 0; i < seqs.length; i++) {
        head.run('DELETE FROM metric_final WHERE run_seq = ?', [seqs[i]]);
        head.run('DELETE FROM artifacts WHERE run_id = ?', [ids[i]]);
        head.run('DELETE FROM runs WHERE seq = ?', [seqs[i]]);
        head.forgetRun(ids[i]);
      }
      const floor = Number(head.one("SELECT value FROM meta WHERE key = 'seq_floor'")?.[0] ?? 0);
      head.run("INSERT OR REPLACE INTO meta (key, value) VALUES ('seq_floor', ?)", [String(Math.max(floor, range[2] as number))]);
    });
    this.loaded.set(name, segment);
    return true;
  }

  /**
   * Removes segment files the head does not list (left by a writer killed between a segment and its head) and temp
   * files of dead writers. Under the lock, on the newest head: a segment is only ever written under the lock.
   */
  async removeOrphans(head: StoreDb): Promise<void> {
    const listed = new Set(this.list(head).map(s => s.file));
    let names: string[];
    try {
      names = await fs.promises.readdir(this.folder);
    } catch {
      return;
    }
    for (const name of names) {
      const temp = /^\d{8}-[0-9a-f]{8}\.sqlite\.tmp-(\d+)-/.exec(name);
      const orphan = temp ? Number(temp[1]) !== process.pid && !pidAlive(Number(temp[1])) : /^\d{8}-[0-9a-f]{8}\.sqlite$/.test(name) && !listed.has(name);
      if (orphan) await fs.promises.unlink(path.join(this.folder, name)).catch(() => undefined);
    }
  }

  close(): void {
    for (const db of this.loaded.values()) db.close();
    this.loaded.clear();
  }
}
