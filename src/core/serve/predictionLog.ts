/**
 * The prediction log: append-only JSONL segments that `edd monitor` (and `edd gate --predictions`) read.
 *
 * Layout (fixed; a batch job elsewhere may write the same): a folder (default `.edd/serving/<model>/`) of segments
 * named `predictions-<epoch ms of the segment's first record>-<pid>.jsonl`, one JSON object per line, of the types
 * {@link LogRecord} lists. A segment is closed and the next one started once it is larger than `segment_mb`;
 * segments last modified more than `retention_days` ago are deleted when a segment is started.
 *
 * Crash safety: the file is opened with O_APPEND and every batch of lines goes out in one synchronous write() of whole
 * lines. `append` batches records until the end of the current turn of the event loop (or {@link MAX_BATCH_BYTES});
 * the server calls `flush()` before it answers a request, so every answered request is on disk (in the kernel's page
 * cache: a kill -9 of the server loses nothing answered; a power cut may lose what the OS had not yet written). A
 * kill loses at most the lines of the request being answered, and at worst leaves a torn last line, which readers
 * skip ({@link readLogLines}). Nothing earlier is ever rewritten.
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';

export interface PredictionRecord {
  type: 'prediction';
  request_id: string;
  /** The instance's index in its request. */
  row: number;
  /** Epoch milliseconds. */
  time: number;
  model: string;
  version: number | null;
  /** `blue` or `green`, or `canary` / `shadow` for a candidate (./canary.ts). */
  slot: string;
  latency_ms: number;
  status: number;
  /** After redaction (hashed or dropped columns). */
  inputs: Record<string, unknown>;
  outputs?: { prediction: string | number; probabilities?: number[]; top_k?: Array<{ class: string; probability: number }> };
  error?: string;
}

export interface FeedbackRecord { type: 'feedback'; request_id: string; row: number; time: number; label: unknown }

export interface SampleRecord { type: 'sample'; time: number; cpu_percent: number; rss_bytes: number; heap_bytes: number; in_flight: number }

export interface EventRecord {
  type: 'event';
  time: number;
  kind: 'switch' | 'warmup_failed' | 'start' | 'stop' | 'canary';
  from_version?: number | null;
  to_version?: number | null;
  message?: string;
  /** A canary's decision (`start`, `step`, `check`, `promote`, `rollback`, `stop`, `refused`) … */
  decision?: string;
  /** … and the numbers that made it. */
  details?: Record<string, unknown>;
}

export type LogRecord = PredictionRecord | FeedbackRecord | SampleRecord | EventRecord;

/** A batch is written as soon as it reaches this size, without waiting for the end of the turn. */
const MAX_BATCH_BYTES = 256 * 1024;
const SEGMENT = /^predictions-(\d+)-(\d+)\.jsonl$/;

export interface PredictionLogOptions {
  dir: string;
  segmentMb: number;
  retentionDays: number;
  /** Columns written as their SHA-256 (hex) and columns left out. */
  redact?: { hash: readonly string[]; drop: readonly string[] };
  /** For tests: the clock. */
  now?: () => number;
}

/** The segments of a log folder, oldest first (by the time in their name, then pid). */
export function listSegments(dir: string): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .map(n => ({ n, m: SEGMENT.exec(n) }))
    .filter((x): x is { n: string; m: RegExpExecArray } => x.m !== null)
    .sort((a, b) => Number(a.m[1]) - Number(b.m[1]) || Number(a.m[2]) - Number(b.m[2]))
    .map(x => path.join(dir, x.n));
}

/** The records of one segment's text; a torn last line (a write cut by a kill) is skipped, as readers must. */
export function readLogLines(text: string): LogRecord[] {
  const out: LogRecord[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    try {
      out.push(JSON.parse(line) as LogRecord);
    } catch {
      // a torn line
    }
  }
  return out;
}

export class PredictionLog {
  private fd: number | undefined;
  private size = 0;
  private pending: string[] = [];
  private pendingBytes = 0;
  private scheduled = false;
  private closed = false;
  private readonly limit: number;
  private readonly hash: ReadonlySet<string>;
  private readonly drop: ReadonlySet<string>;
  private readonly now: () => number;
  /** Set when a write failed: the server keeps answering, and reports it once. */
  lastError: Error | undefined;

  constructor(private readonly options: PredictionLogOptions) {
    this.limit = Math.max(1, options.segmentMb * 1024 * 1024);
    this.hash = new Set(options.redact?.hash ?? []);
    this.drop = new Set(options.redact?.drop ?? []);
    this.now = options.now ?? Date.now;
    fs.mkdirSync(options.dir, { recursive: true });
  }

  /** The inputs as the log keeps them: hashed and dropped columns applied (the same object when there are none). */
  redact(inputs: Record<string, unknown>): Record<string, unknown> {
    if (this.hash.size === 0 && this.drop.size === 0) return inputs;
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(inputs)) {
      if (this.drop.has(k)) continue;
      const v = inputs[k];
      out[k] = this.hash.has(k) && v !== null && v !== undefined ? createHash('sha256').update(String(v)).digest('hex') : v;
    }
    return out;
  }

  /** Queue one record; it is written at the end of this turn of the event loop. */
  append(record: LogRecord): void {
    if (this.closed) return;
    const line = JSON.stringify(record) + '\n';
    this.pending.push(line);
    this.pendingBytes += line.length;
    if (this.pendingBytes >= MAX_BATCH_BYTES) this.flush();
    else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Write what is queued now, in one write() (a new segment first when the current one is full). */
  flush(): void {
    this.scheduled = false;
    if (this.pending.length === 0) return;
    const data = Buffer.from(this.pending.join(''), 'utf8');
    const first = this.pending[0];
    this.pending = [];
    this.pendingBytes = 0;
    try {
      if (this.fd === undefined || this.size >= this.limit) this.startSegment(first);
      fs.writeSync(this.fd!, data);
      this.size += data.length;
    } catch (e) {
      this.lastError = e as Error;
    }
  }

  private startSegment(firstLine: string): void {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
    let time = this.now();
    const m = /"time":(\d+)/.exec(firstLine);
    if (m) time = Number(m[1]);
    let file = path.join(this.options.dir, `predictions-${time}-${process.pid}.jsonl`);
    // Two segments started in the same millisecond by one process: the next millisecond keeps names unique and sorted.
    while (fs.existsSync(file)) file = path.join(this.options.dir, `predictions-${++time}-${process.pid}.jsonl`);
    this.fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_APPEND, 0o644);
    this.size = 0;
    this.deleteExpired();
  }

  /** Delete segments last written more than `retentionDays` ago. */
  deleteExpired(): void {
    const cutoff = this.now() - this.options.retentionDays * 86_400_000;
    for (const f of listSegments(this.options.dir)) {
      try {
        if (fs.statSync(f).mtimeMs < cutoff) fs.unlinkSync(f);
      } catch {
        // another process removed it first
      }
    }
  }

  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
  }
}
