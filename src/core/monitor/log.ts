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
}

const CHUNK = 1 << 20;
const NEWLINE = 10;

/**
 * Calls `onRecord` with every JSON object of the segments, in order. Lines are cut on the newline byte and decoded
 * one at a time, so a multi-byte character is never split.
 */
export function readSegments(segments: readonly Segment[], onRecord: (record: Record<string, unknown>) => void, stats: ReadStats): void {
  const buf = Buffer.allocUnsafe(CHUNK);
  for (const seg of segments) {
    stats.segments++;
    const fd = fs.openSync(seg.file, 'r');
    try {
      let carry: Buffer | null = null;
      let lineNo = 0;
      const line = (bytes: Buffer, last: boolean) => {
        lineNo++;
        if (bytes.length === 0) return;
        stats.lines++;
        let rec: unknown;
        try {
          rec = JSON.parse(bytes.toString('utf8'));
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
        let from = 0;
        for (let i = buf.indexOf(NEWLINE, 0); i !== -1 && i < n; i = buf.indexOf(NEWLINE, i + 1)) {
          const piece = buf.subarray(from, i);
          if (carry) { line(Buffer.concat([carry, piece]), false); carry = null; } else line(piece, false);
          from = i + 1;
        }
        if (from < n) {
          const rest = Buffer.from(buf.subarray(from, n));
          carry = carry ? Buffer.concat([carry, rest]) : rest;
        }
      }
      // No newline at the end: the writer stopped mid-record, or wrote the last record without one.
      if (carry) line(carry, true);
    } finally {
      fs.closeSync(fd);
    }
  }
}

export function emptyStats(): ReadStats {
  return { segments: 0, skipped: 0, lines: 0, torn: 0, bad: 0, badAt: [], bytes: 0 };
}
