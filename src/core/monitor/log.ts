/**
 * Reading the prediction log: JSONL segments `predictions-<epoch ms>-<pid>.jsonl` under the log folder, in the order of
 * the time in their names, line by line through a fixed buffer (memory does not grow with the log). A segment's name
 * holds the time it was opened, so it covers records up to the next segment's time: with `since`, every segment whose
 * successor opened before `since` is skipped without being read. A writer killed mid-line leaves a torn last line;
 * it is skipped (counted in `torn`). A line that is not JSON elsewhere is counted in `bad` with its file:line.
 */
import * as fs from 'fs';
import * as path from 'path';

export interface Segment {
  file: string;
  /** Epoch ms from the name. */
  start: number;
  pid: number;
}

const SEGMENT = /^predictions-(\d+)-(\d+)\.jsonl$/;

/** The log's segments in time order (then by pid); an absent folder has none. */
export function listSegments(dir: string): Segment[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  const out: Segment[] = [];
  for (const name of names) {
    const m = SEGMENT.exec(name);
    if (m) out.push({ file: path.join(dir, name), start: Number(m[1]), pid: Number(m[2]) });
  }
  return out.sort((a, b) => a.start - b.start || a.pid - b.pid);
}

/** The segments that may hold records at or after `since`. */
export function segmentsSince(segments: readonly Segment[], since: number | undefined): Segment[] {
  if (since === undefined) return [...segments];
  return segments.filter((s, i) => i === segments.length - 1 || segments[i + 1].start > since);
}

export interface ReadStats {
  segments: number;
  /** Segments skipped by their name's time. */
  skipped: number;
  lines: number;
  torn: number;
  /** Lines that are not JSON objects (not the torn last line), the first few as file:line. */
  bad: number;
  badAt: string[];
  bytes: number;
  /** Worker threads that read the log (0: read on the main thread). */
  threads: number;
}

const CHUNK = 1 << 20;
const NEWLINE = 10;

/**
 * Calls `onRecord` with every JSON object of the segments, in order. Each chunk is decoded up to its last newline
 * (a newline byte never occurs inside a multi-byte UTF-8 character, so no character is split) and cut into lines as
 * text; the bytes after the last newline wait for the next chunk.
 */
export function readSegments(segments: readonly Segment[], onRecord: (record: Record<string, unknown>) => void, stats: ReadStats): void {
  const buf = Buffer.allocUnsafe(CHUNK);
  for (const seg of segments) {
    stats.segments++;
    const fd = fs.openSync(seg.file, 'r');
    try {
      let carry: Buffer | null = null;
      let lineNo = 0;
      const line = (text: string, last: boolean) => {
        lineNo++;
        if (text.length === 0) return;
        stats.lines++;
        let rec: unknown;
        try {
          rec = JSON.parse(text);
        } catch {
          rec = undefined;
        }
        if (typeof rec === 'object' && rec !== null && !Array.isArray(rec)) { onRecord(rec as Record<string, unknown>); return; }
        if (last) { stats.torn++; return; }
        stats.bad++;
        if (stats.badAt.length < 5) stats.badAt.push(`${seg.file}:${lineNo}`);
      };
      for (;;) {
        const n = fs.readSync(fd, buf, 0, CHUNK, null);
        if (n === 0) break;
        stats.bytes += n;
        const data: Buffer = carry ? Buffer.concat([carry, buf.subarray(0, n)]) : buf.subarray(0, n);
        const end = data.lastIndexOf(NEWLINE);
        if (end === -1) { carry = Buffer.from(data); continue; }
        const text = data.toString('utf8', 0, end + 1);
        carry = end + 1 < data.length ? Buffer.from(data.subarray(end + 1)) : null;
        let from = 0;
        for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) {
          line(text.slice(from, i), false);
          from = i + 1;
        }
      }
      // No newline at the end: the writer stopped mid-record, or wrote the last record without one.
      if (carry) line(carry.toString('utf8'), true);
    } finally {
      fs.closeSync(fd);
    }
  }
}

export function emptyStats(): ReadStats {
  return { segments: 0, skipped: 0, lines: 0, torn: 0, bad: 0, badAt: [], bytes: 0, threads: 0 };
}
