import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { curveCacheFile, curveCacheFolder, readCurveCache, writeCurveCache } from './curveCache';
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
/** A history this large (about 20,000 points) or larger is read through curve caches; a smaller one parses in a few ms. */
export const CACHE_FROM_BYTES = 1024 * 1024;
let readChunk: Buffer | undefined;

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
/** One metric's points as columns: steps ascending, each step once. */
export interface CurveColumns {
  steps: Float64Array;
  values: Float64Array;
}

/** Growable columns of (step, value) in file order. */
class ColumnBuilder {
  steps: Float64Array = new Float64Array(1024);
  values: Float64Array = new Float64Array(1024);
  length = 0;

  push(step: number, value: number): void {
    if (this.length === this.steps.length) this.grow(this.length * 2);
    this.steps[this.length] = step;
    this.values[this.length++] = value;
  }

  /** Columns holding `steps` and `values` (taken, not copied), to push more points after. */
  static of(steps: Float64Array, values: Float64Array): ColumnBuilder {
    const b = new ColumnBuilder();
    b.steps = steps;
    b.values = values;
    b.length = steps.length;
    return b;
  }

  pushColumns(steps: Float64Array, values: Float64Array): void {
    if (this.length + steps.length > this.steps.length) this.grow(Math.max(this.length * 2, this.length + steps.length + 1024));
    this.steps.set(steps, this.length);
    this.values.set(values, this.length);
    this.length += steps.length;
  }

  private grow(capacity: number): void {
    const steps = new Float64Array(capacity);
    const values = new Float64Array(capacity);
    steps.set(this.steps.subarray(0, this.length));
    values.set(this.values.subarray(0, this.length));
    this.steps = steps;
    this.values = values;
  }
}

/**
 * Points by step, the last one written winning among several at one step (`latestByKeyAndStep`'s rule for one key).
 * Histories are mostly written in step order: then the columns are only trimmed to length.
 */
export function latestByStep(steps: Float64Array, values: Float64Array, length: number): CurveColumns {
  let ordered = true;
  for (let i = 1; i < length && ordered; i++) ordered = steps[i] > steps[i - 1];
  // (columns that are exactly the points, as read from a curve cache, are given as they are: they are this read's own)
  if (ordered) return length === steps.length && length === values.length ? { steps, values } : { steps: steps.slice(0, length), values: values.slice(0, length) };
  const order = new Uint32Array(length);
  for (let i = 0; i < length; i++) order[i] = i;
  order.sort((a, b) => steps[a] - steps[b] || a - b); // by step, then as written
  const outSteps = new Float64Array(length);
  const outValues = new Float64Array(length);
  let n = 0;
  for (let k = 0; k < length; k++) {
    const i = order[k];
    if (k + 1 < length && steps[order[k + 1]] === steps[i]) continue;
    outSteps[n] = steps[i];
    outValues[n++] = values[i];
  }
  return { steps: outSteps.slice(0, n), values: outValues.slice(0, n) };
}

const POW10 = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22];
/** Where the last `scanNumber` stopped: the first byte after the number. */
let scanEnd = 0;

/**
 * The number at `buf[from]` in the form the writer gives a finite double (`String(v)`: `-`, digits, `.` digits,
 * `e±` digits), read up to the first byte that is not part of it (`scanEnd`); NaN when the bytes there are not that
 * form (the caller then reads the line the slow way). A mantissa up to 2^53 and a power of ten up to 22 are both
 * exact doubles, so one multiplication or division rounds as `Number()` does; other numbers (17 digits) are given
 * to `Number()`, which reads the same ASCII text.
 */
function scanNumber(buf: Buffer, from: number): number {
  let i = from;
  const negative = buf[i] === 0x2d;
  if (negative) i++;
  const intStart = i;
  let m = 0;
  let c = buf[i];
  while (c >= 0x30 && c <= 0x39) {
    m = m * 10 + (c - 0x30);
    c = buf[++i];
  }
  if (i === intStart) return NaN;
  let scale = 0;
  if (c === 0x2e) {
    c = buf[++i];
    const fracStart = i;
    while (c >= 0x30 && c <= 0x39) {
      m = m * 10 + (c - 0x30);
      c = buf[++i];
    }
    scale = fracStart - i;
    if (scale === 0) return NaN;
  }
  if (c === 0x65 || c === 0x45) {
    c = buf[++i];
    const negativeExp = c === 0x2d;
    if (c === 0x2d || c === 0x2b) c = buf[++i];
    const expStart = i;
    let e = 0;
    while (c >= 0x30 && c <= 0x39 && i - expStart < 4) {
      e = e * 10 + (c - 0x30);
      c = buf[++i];
    }
    if (i === expStart) return NaN;
    scale += negativeExp ? -e : e;
  }
  scanEnd = i;
  if (m <= 9007199254740992 && scale >= -22 && scale <= 22) {
    const v = scale === 0 ? m : scale > 0 ? m * POW10[scale] : m / POW10[-scale];
    return negative ? -v : v;
  }
  return Number(buf.toString('latin1', from, i));
}

/**
 * Adds the points of the whole lines in `buf[0, end)` that start with `prefix` (the encoded `["key",`) to `out`,
 * reading the usual line (`["key",12,0.31,1700000000000]`) straight from the bytes; any other line with that prefix
 * (a quoted NaN or ±Infinity, a torn or foreign line) is decoded and read by `parseLines`, so both readers keep and
 * skip the same lines. Other keys' lines are skipped undecoded.
 */
function parseColumnLines(buf: Buffer, end: number, prefix: Buffer, keyPrefix: string, out: ColumnBuilder): void {
  const p0 = prefix[0];
  const plen = prefix.length;
  let slow: StoredMetricPoint[] | undefined;
  for (let start = 0; start < end; ) {
    let same = buf[start] === p0;
    for (let k = 1; same && k < plen; k++) same = buf[start + k] === prefix[k];
    if (same) {
      const step = scanNumber(buf, start + plen);
      if (buf[scanEnd] === 0x2c && Number.isSafeInteger(step) && buf[scanEnd + 1] !== 0x22) {
        const value = scanNumber(buf, scanEnd + 1);
        if (value === value && buf[scanEnd] === 0x2c) {
          const t = scanEnd + 1;
          let timeOk: boolean;
          if (buf[t] === 0x6e && buf[t + 1] === 0x75 && buf[t + 2] === 0x6c && buf[t + 3] === 0x6c) {
            scanEnd = t + 4;
            timeOk = true;
          } else {
            const time = scanNumber(buf, t);
            timeOk = time === time;
          }
          if (timeOk && buf[scanEnd] === 0x5d && buf[scanEnd + 1] === 0x0a) {
            out.push(step, value);
            start = scanEnd + 2;
            continue;
          }
        }
      }
      const nl = buf.indexOf(0x0a, start);
      slow ??= [];
      slow.length = 0;
      parseLines(buf.toString('utf8', start, nl + 1), keyPrefix, slow);
      for (const p of slow) out.push(p.step, p.value);
      start = nl + 1;
      continue;
    }
    start = buf.indexOf(0x0a, start) + 1;
  }
}

export class MetricHistories {
  /** Runs appended to since the last `sync` (their files get an fsync on the next save). */
  private readonly unsynced = new Set<string>();
  /** Runs whose file is known to end with a newline (checked once per process, before the first append). */
  private readonly clean = new Set<string>();
  private readonly keyJson = new Map<string, string>();
  /** Keys appended to per run since their curve cache was last brought up to date by this process. */
  private readonly appendedKeys = new Map<string, Set<string>>();
  /** Runs synced by the last `sync` whose history is long enough for curve caches, with its size then. */
  private readonly syncedLong = new Map<string, number>();
  /** The history's size when this process last brought a key's curve cache up to date (`run id \0 key`). */
  private readonly cachedAt = new Map<string, number>();

  /** `writeCaches`: whether reading a curve may write its cache (not for a store opened read-only). */
  constructor(readonly folder: string, private readonly writeCaches = true) {}

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
      if (this.writeCaches) {
        let appended = this.appendedKeys.get(runIds[i]);
        if (!appended) this.appendedKeys.set(runIds[i], (appended = new Set()));
        appended.add(keys[i]);
      }
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
          if (this.writeCaches) {
            const { size } = await fh.stat();
            if (size >= CACHE_FROM_BYTES) this.syncedLong.set(runId, size);
            else this.appendedKeys.delete(runId); // (a short history's keys: those appended next are the ones logged)
          }
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
   * Brings the curve caches of the long histories written since the last call up to date (called after a save, outside
   * the lock), so that the first view of a long curve recorded by this process reads its cache instead of parsing the
   * whole history. A key's cache is refreshed once its history grew by 1 MB and by a quarter since its last refresh:
   * each byte is parsed about once over a run, and at most a fifth of a history is left for the first view to parse.
   * Best effort: a history that cannot be read now is read when shown.
   */
  refreshCurveCaches(): void {
    const runs = [...this.syncedLong];
    this.syncedLong.clear();
    for (const [runId, size] of runs) {
      const keys = this.appendedKeys.get(runId);
      if (!keys) continue;
      for (const key of [...keys]) {
        const id = `${runId}\0${key}`;
        const at = this.cachedAt.get(id) ?? 0;
        if (size - at < Math.max(CACHE_FROM_BYTES, at / 4)) continue;
        try {
          this.readColumns(runId, key);
        } catch {
          continue;
        }
        this.cachedAt.set(id, size);
        keys.delete(key);
      }
      if (keys.size === 0) this.appendedKeys.delete(runId);
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
   * One metric's points in the lines of `fd` from byte `from` (a line start) on, in file order, as columns
   * (`getCurve` orders them): the lines are matched on the bytes of the encoded key and parsed without decoding, as
   * a million-point curve is read on every comparison. Skips what `read` skips; read in chunks like `read`. Answers
   * where the last whole line read ends (a torn last line is left for the next read).
   */
  private readColumnsFrom(fd: number, from: number, key: string, out: ColumnBuilder): number {
    const keyPrefix = `[${JSON.stringify(key)},`;
    const prefix = Buffer.from(keyPrefix, 'utf8');
    // One buffer for every call (this is synchronous): a comparison of 1,000 runs reads 1,000 small files, and a
    // fresh 4 MB buffer for each was most of its time.
    const chunk = (readChunk ??= Buffer.allocUnsafe(READ_CHUNK));
    let carry = 0;
    let position = from; // of the next byte to read
    let covered = from;
    for (;;) {
      const n = fs.readSync(fd, chunk, carry, chunk.length - carry, position);
      if (n === 0) break;
      position += n;
      const end = carry + n;
      const lastNewline = chunk.lastIndexOf(0x0a, end - 1);
      if (lastNewline >= 0) parseColumnLines(chunk, lastNewline + 1, prefix, keyPrefix, out);
      const rest = end - (lastNewline + 1);
      if (rest === chunk.length) {
        carry = 0;
        continue;
      }
      if (lastNewline >= 0) covered = position - rest;
      chunk.copy(chunk, 0, lastNewline + 1, end);
      carry = rest;
    }
    return covered;
  }

  /**
   * One metric's points by step (a later point at a step replaces an earlier one), as columns; `before` (points not
   * in the file: a version 4 store's) count as written first. A history of `CACHE_FROM_BYTES` or more is read through
   * the metric's curve cache (curveCache.ts): the points the cache holds, then the lines written after them.
   */
  readColumns(runId: string, key: string, before: readonly { step: number; value: number }[] = []): CurveColumns {
    const out = new ColumnBuilder();
    for (const p of before) out.push(p.step, p.value);
    let fd: number;
    try {
      fd = fs.openSync(this.fileOf(runId), 'r');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return latestByStep(out.steps, out.values, out.length);
      throw e;
    }
    try {
      const stat = fs.fstatSync(fd);
      if (stat.size < CACHE_FROM_BYTES) {
        this.readColumnsFrom(fd, 0, key, out);
        return latestByStep(out.steps, out.values, out.length);
      }
      const cacheFile = curveCacheFile(path.dirname(this.fileOf(runId)), key);
      const cached = readCurveCache(cacheFile, key, fd, stat);
      const own = cached ? ColumnBuilder.of(cached.steps, cached.values) : new ColumnBuilder();
      const from = cached?.covered ?? 0;
      const covered = this.readColumnsFrom(fd, from, key, own);
      // A history still being written is cached again only once enough was added to make its parse worth keeping.
      if (this.writeCaches && (!cached || covered - from >= CACHE_FROM_BYTES)) {
        writeCurveCache(cacheFile, key, fd, stat, covered, own.steps.subarray(0, own.length), own.values.subarray(0, own.length));
      }
      if (out.length === 0) return latestByStep(own.steps, own.values, own.length);
      out.pushColumns(own.steps.subarray(0, own.length), own.values.subarray(0, own.length));
      return latestByStep(out.steps, out.values, out.length);
    } finally {
      fs.closeSync(fd);
    }
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
    // (its inode changed, so the caches would not be used; they go rather than linger)
    fs.rmSync(curveCacheFolder(path.dirname(file)), { recursive: true, force: true });
  }

  /** Deletes a run's history (once its deletion is saved in the index). */
  async remove(runId: string): Promise<void> {
    this.unsynced.delete(runId);
    this.appendedKeys.delete(runId);
    this.syncedLong.delete(runId);
    this.clean.delete(runId);
    await fs.promises.rm(this.fileOf(runId), { force: true });
    await fs.promises.rm(curveCacheFolder(path.dirname(this.fileOf(runId))), { recursive: true, force: true });
  }

  /** The lines of `points` in this file format (for the v4 migration and tools that write histories directly). */
  static lines(points: readonly { key: string; step: number; value: number; time: number | null }[]): string {
    let out = '';
    for (const p of points) out += `[${JSON.stringify(p.key)},${p.step},${encodeValue(p.value)},${p.time ?? 'null'}]\n`;
    return out;
  }
}
