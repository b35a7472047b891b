import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import type { StoredMetricPoint } from './types';

// Metric histories live outside the SQLite index, one append-only file per run (`<runs>/<run id>/metrics.jsonl`),
// so that recording a run never rewrites the points of the runs before it. A line is one point:
// `["loss",12,0.31,1700000000000]` (key, step, value, time); NaN and ±Infinity are written as strings, as JSON has
// no literal for them. Each run's file has one writer at a time in practice (the run's process); appends are single
// `write` calls on an O_APPEND descriptor, so even two writers never interleave within a line. A process killed in
// the middle of an append leaves a torn last line: readers skip it, and the next append starts on a new line.

const FILE_NAME = 'metrics.jsonl';

/** A run id as a folder name: ids that are plain names are used as they are; anything else (a `/`, `..`) is hashed. */
export function runFolderName(runId: string): string {
  if (/^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/.test(runId)) return runId;
  return `_${createHash('sha256').update(runId).digest('hex').slice(0, 40)}`;
}

/**
 * The folder that holds a store's per-run files: `runs` next to the default `edd.sqlite` (the same `.edd/runs/<id>/`
 * folder that holds a run's log and artifacts), `<file>.runs` for any other file name, so that two stores in one folder
 * never share histories.
 */
export function runsFolderOf(storeFile: string): string {
  const dir = path.dirname(storeFile);
  return path.basename(storeFile) === 'edd.sqlite' ? path.join(dir, 'runs') : `${storeFile}.runs`;
}

function encodeValue(v: number): string {
  return Number.isFinite(v) ? String(v) : `"${String(v)}"`;
}

function decodeValue(v: unknown): number {
  return typeof v === 'number' ? v : Number(v);
}

export class MetricHistories {
  /** Runs appended to since the last `sync` (their files get an fsync on the next save). */
  private readonly unsynced = new Set<string>();
  /** Runs whose file is known to end with a newline (checked once per process, before the first append). */
  private readonly clean = new Set<string>();
  private readonly keyJson = new Map<string, string>();

  constructor(readonly folder: string) {}

  fileOf(runId: string): string {
    return path.join(this.folder, runFolderName(runId), FILE_NAME);
  }

  /** Appends points to their runs' files (one write per run). Synchronous, so that a read right after sees them. */
  append(runIds: readonly string[], keys: readonly string[], steps: Float64Array, values: Float64Array, times: Float64Array): void {
    const byRun = new Map<string, string[]>();
    for (let i = 0; i < runIds.length; i++) {
      let lines = byRun.get(runIds[i]);
      if (!lines) byRun.set(runIds[i], (lines = []));
      let key = this.keyJson.get(keys[i]);
      if (key === undefined) this.keyJson.set(keys[i], (key = JSON.stringify(keys[i])));
      lines.push(`[${key},${steps[i]},${encodeValue(values[i])},${times[i]}]\n`);
    }
    for (const [runId, lines] of byRun) this.appendText(runId, lines.join(''));
  }

  /** Appends text made of whole lines to a run's file, starting a new line first if the file ends in a torn one. */
  appendText(runId: string, text: string): void {
    const file = this.fileOf(runId);
    let fd: number;
    try {
      fd = fs.openSync(file, 'a+');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fd = fs.openSync(file, 'a+');
    }
    try {
      if (!this.clean.has(runId)) {
        const size = fs.fstatSync(fd).size;
        if (size > 0) {
          const last = Buffer.alloc(1);
          fs.readSync(fd, last, 0, 1, size - 1);
          if (last[0] !== 0x0a) text = '\n' + text;
        }
        this.clean.add(runId);
      }
      fs.writeSync(fd, text);
    } finally {
      fs.closeSync(fd);
    }
    this.unsynced.add(runId);
  }

  /** Makes the appends since the last call durable (fsync of each file written). */
  async sync(): Promise<void> {
    const runIds = [...this.unsynced];
    this.unsynced.clear();
    for (const runId of runIds) {
      let fh: fs.promises.FileHandle | undefined;
      try {
        fh = await fs.promises.open(this.fileOf(runId), 'r+');
        await fh.sync();
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
          this.unsynced.add(runId);
          throw e;
        }
      } finally {
        await fh?.close().catch(() => undefined);
      }
    }
  }

  /**
   * A run's points as written, in file order (later lines replace earlier ones with the same key and step; the
   * caller sorts). A torn or unreadable line is skipped.
   */
  read(runId: string, key?: string): StoredMetricPoint[] {
    let text: string;
    try {
      text = fs.readFileSync(this.fileOf(runId), 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
    const out: StoredMetricPoint[] = [];
    const keyPrefix = key === undefined ? undefined : `[${JSON.stringify(key)},`;
    let start = 0;
    for (let nl = text.indexOf('\n'); nl >= 0; start = nl + 1, nl = text.indexOf('\n', start)) {
      if (keyPrefix !== undefined && !text.startsWith(keyPrefix, start)) continue;
      let row: unknown;
      try {
        row = JSON.parse(text.slice(start, nl));
      } catch {
        continue; // a line torn by a crash, followed by later appends
      }
      if (!Array.isArray(row) || typeof row[0] !== 'string' || typeof row[1] !== 'number') continue;
      out.push({ key: row[0], step: row[1], value: decodeValue(row[2]), time: typeof row[3] === 'number' ? row[3] : null });
    }
    return out;
  }

  /**
   * Replaces a run's file with `text` followed by what the file holds now, atomically (temp file, fsync, rename).
   * Used once per run, to move a version 4 store's points out of the index; synchronous so that no append of this
   * process can fall between the read and the rename.
   */
  prependSync(runId: string, text: string): void {
    const file = this.fileOf(runId);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    let existing = '';
    try {
      existing = fs.readFileSync(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    if (existing.length > 0 && !existing.endsWith('\n')) existing += '\n';
    const temp = `${file}.tmp-${process.pid}`;
    const fd = fs.openSync(temp, 'w');
    try {
      fs.writeSync(fd, text + existing);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(temp, file);
    this.clean.add(runId);
  }

  /** Deletes a run's history (once its deletion is saved in the index). */
  async remove(runId: string): Promise<void> {
    this.unsynced.delete(runId);
    this.clean.delete(runId);
    await fs.promises.rm(this.fileOf(runId), { force: true });
  }

  /** The lines of `points` in this file format (for the v4 migration and tools that write histories directly). */
  static lines(points: readonly { key: string; step: number; value: number; time: number | null }[]): string {
    let out = '';
    for (const p of points) out += `[${JSON.stringify(p.key)},${p.step},${encodeValue(p.value)},${p.time ?? 'null'}]\n`;
    return out;
  }
}
