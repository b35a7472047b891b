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

const READ_CHUNK = 4 * 1024 * 1024;

/**
 * Parses whole lines (`text` ends with a newline) into `out`. Hand-rolled rather than JSON.parse per line, which
 * was 6 s for a 1M-point curve; a line this does not recognise as a whole point (torn) is skipped.
 */
function parseLines(text: string, keyPrefix: string | undefined, out: StoredMetricPoint[]): void {
  let start = 0;
  for (let nl = text.indexOf('\n'); nl >= 0; start = nl + 1, nl = text.indexOf('\n', start)) {
    if (keyPrefix !== undefined && !text.startsWith(keyPrefix, start)) continue;
    if (text.charCodeAt(start) !== 0x5b || text.charCodeAt(start + 1) !== 0x22 || text.charCodeAt(nl - 1) !== 0x5d) continue; // [" … ]
    // the key ends at the first unescaped `",` (JSON escapes a quote or backslash inside it)
    let keyEnd = text.indexOf('",', start + 2);
    while (keyEnd > 0 && isEscaped(text, keyEnd)) keyEnd = text.indexOf('",', keyEnd + 1);
    if (keyEnd < 0 || keyEnd > nl) continue;
    const rawKey = text.slice(start + 2, keyEnd);
    let key: string;
    if (rawKey.includes('\\')) {
      try {
        key = JSON.parse(`"${rawKey}"`) as string;
      } catch {
        continue;
      }
    } else {
      key = rawKey;
    }
    const fields = text.slice(keyEnd + 2, nl - 1).split(',');
    if (fields.length !== 3 || fields[0] === '' || fields[1] === '' || fields[2] === '') continue;
    const step = Number(fields[0]);
    const value = fields[1].charCodeAt(0) === 0x22 ? Number(fields[1].slice(1, -1)) : Number(fields[1]);
    const time = fields[2] === 'null' ? null : Number(fields[2]);
    if (!Number.isSafeInteger(step) || (Number.isNaN(value) && fields[1] !== '"NaN"') || (time !== null && Number.isNaN(time))) continue;
    out.push({ key, step, value, time });
  }
}

/** Whether the quote at `i` is escaped (an odd number of backslashes before it). */
function isEscaped(text: string, i: number): boolean {
  let n = 0;
  while (text.charCodeAt(i - 1 - n) === 0x5c) n++;
  return n % 2 === 1;
}

/** fsyncs in flight at once (libuv runs four at a time by default; a few more keep its queue full). */
const SYNC_CONCURRENCY = 8;

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

  /**
   * Makes the appends since the last call durable (fsync of each file written). The fsyncs run several at a time: a
   * file system commits its journal once for the fsyncs waiting together, so 10,000 files (an import) cost a few
   * commits' time instead of 10,000 in a row.
   */
  async sync(): Promise<void> {
    const runIds = [...this.unsynced];
    this.unsynced.clear();
    let next = 0;
    let failure: unknown;
    const worker = async () => {
      while (next < runIds.length && failure === undefined) {
        const runId = runIds[next++];
        let fh: fs.promises.FileHandle | undefined;
        try {
          fh = await fs.promises.open(this.fileOf(runId), 'r+');
          await fh.sync();
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
            failure ??= e;
            this.unsynced.add(runId);
          }
        } finally {
          await fh?.close().catch(() => undefined);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(SYNC_CONCURRENCY, runIds.length) }, worker));
    if (failure !== undefined) {
      // the files not reached are still to be synced by the next save
      for (const runId of runIds.slice(next)) this.unsynced.add(runId);
      throw failure;
    }
  }

  /**
   * A run's points as written, in file order (later lines replace earlier ones with the same key and step; the
   * caller sorts). A torn or unreadable line is skipped. Read in chunks, so no buffer or string grows with the file.
   */
  read(runId: string, key?: string): StoredMetricPoint[] {
    let fd: number;
    try {
      fd = fs.openSync(this.fileOf(runId), 'r');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
    const out: StoredMetricPoint[] = [];
    const keyPrefix = key === undefined ? undefined : `[${JSON.stringify(key)},`;
    try {
      const chunk = Buffer.allocUnsafe(READ_CHUNK);
      let carry = 0; // bytes of an unfinished line kept at the start of `chunk`
      for (;;) {
        const n = fs.readSync(fd, chunk, carry, chunk.length - carry, null);
        if (n === 0) break; // what is left after the last newline is a torn line
        const end = carry + n;
        // (never a negative offset here: lastIndexOf would count it from the end of the buffer)
        const lastNewline = chunk.lastIndexOf(0x0a, end - 1);
        if (lastNewline >= 0) parseLines(chunk.toString('utf8', 0, lastNewline + 1), keyPrefix, out);
        const rest = end - (lastNewline + 1);
        if (rest === chunk.length) {
          carry = 0; // a "line" longer than a chunk is not ours: skip it
          continue;
        }
        chunk.copy(chunk, 0, lastNewline + 1, end);
        carry = rest;
      }
    } finally {
      fs.closeSync(fd);
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
