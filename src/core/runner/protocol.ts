/**
 * The EDD metrics protocol (see DESIGN.md, "Metrics protocol").
 *
 * A training script reports without a client library, either on stdout:
 *
 *     EDD {"metric": "loss", "value": 0.31, "step": 12}
 *     EDD {"param": "lr", "value": 0.01}
 *     EDD {"artifact": "model.onnx", "kind": "model"}
 *     EDD {"progress": 0.4}
 *
 * or by appending the same JSON objects, one per line and without the `EDD ` prefix, to `$EDD_METRICS_FILE`.
 * Every other stdout/stderr line is the run's log.
 *
 * This module is pure parsing plus two stream helpers: {@link LineSplitter} (chunks → lines) and
 * {@link FileTailer} (an appended-to file → lines). Nothing here throws on bad input: a malformed record becomes a
 * `protocol-error` event that names the line.
 */
import * as fs from 'fs';
import * as fsp from 'fs/promises';

// ---------------------------------------------------------------------------------------------------------------
// Events

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** Where a record came from: a stdout line, or a line of `$EDD_METRICS_FILE`. */
export type EventSource = 'stdout' | 'file';

interface RecordBase {
  source: EventSource;
  /** 1-based line number within its source (stdout counts every stdout line, log lines included). */
  line: number;
  /** `Date.now()` when EDD read the line. */
  time: number;
}

export interface MetricEvent extends RecordBase {
  type: 'metric';
  name: string;
  /** Always finite. */
  value: number;
  /** Non-negative integer when the script gave one; `undefined` otherwise (the store decides how to order those). */
  step?: number;
}

export interface ParamEvent extends RecordBase {
  type: 'param';
  name: string;
  /** Any JSON value (numbers finite, also inside arrays and objects). */
  value: JsonValue;
}

export interface ArtifactEvent extends RecordBase {
  type: 'artifact';
  /** The path exactly as the script wrote it. */
  path: string;
  kind?: string;
  /** Filled by the runner: the path resolved against the run's cwd (always inside the workspace). */
  absolutePath?: string;
  /** Filled by the runner: the path relative to the workspace root, `/`-separated. */
  workspacePath?: string;
}

export interface ProgressEvent extends RecordBase {
  type: 'progress';
  /** In [0, 1]. */
  value: number;
  message?: string;
}

export type ProtocolErrorCode =
  | 'invalid-json'
  | 'not-an-object'
  | 'unknown-record'
  | 'ambiguous-record'
  | 'missing-field'
  | 'wrong-type'
  | 'non-finite'
  | 'out-of-range'
  | 'line-too-long'
  | 'outside-workspace';

export interface ProtocolErrorEvent extends RecordBase {
  type: 'protocol-error';
  code: ProtocolErrorCode;
  /** English, one sentence, names the field: `"value" must be a finite number, got NaN`. */
  message: string;
  /** The offending line (capped at {@link MAX_ERROR_TEXT} characters). */
  text: string;
}

export type ProtocolRecord = MetricEvent | ParamEvent | ArtifactEvent | ProgressEvent;
export type ProtocolEvent = ProtocolRecord | ProtocolErrorEvent;

/** The stdout prefix that marks a protocol line. */
export const PREFIX = 'EDD ';
/** Record kinds, by their discriminating key. */
export const RECORD_KEYS = ['metric', 'param', 'artifact', 'progress'] as const;
/** `protocol-error` events quote at most this many characters of the line. */
export const MAX_ERROR_TEXT = 1000;
/** Default cap for one line (stdout, stderr or metrics file); the rest of a longer line is dropped. */
export const DEFAULT_MAX_LINE_BYTES = 1024 * 1024;

// ---------------------------------------------------------------------------------------------------------------
// Parsing

/** Marker for `NaN` / `Infinity` / `-Infinity` tokens (Python's `json.dumps` writes them by default). */
const NON_FINITE = '\u0000edd-non-finite:';

/**
 * A stdout line: `undefined` when it is a log line (does not start with `EDD `), otherwise the record or a
 * `protocol-error`. The prefix must start the line; `EDD` must be upper case.
 */
export function parseStdoutLine(text: string, line: number, time: number = Date.now()): ProtocolEvent | undefined {
  if (!text.startsWith(PREFIX)) return undefined;
  return parseRecordText(text.slice(PREFIX.length), { source: 'stdout', line, time }, text);
}

/**
 * A line of `$EDD_METRICS_FILE`: `undefined` for a blank line, otherwise the record or a `protocol-error`.
 * An `EDD ` prefix is tolerated (scripts that tee their stdout protocol lines into the file).
 */
export function parseMetricsFileLine(text: string, line: number, time: number = Date.now()): ProtocolEvent | undefined {
  const trimmed = text.trim();
  if (trimmed === '') return undefined;
  const json = trimmed.startsWith(PREFIX) ? trimmed.slice(PREFIX.length) : trimmed;
  return parseRecordText(json, { source: 'file', line, time }, text);
}

/** The error event for a line that was cut at the line-length cap. */
export function lineTooLong(source: EventSource, line: number, text: string, maxLineBytes: number, time: number = Date.now()): ProtocolErrorEvent {
  return protocolError({ source, line, time }, text, 'line-too-long', `protocol line longer than ${maxLineBytes} bytes (the rest was dropped)`);
}

function protocolError(base: RecordBase, text: string, code: ProtocolErrorCode, message: string): ProtocolErrorEvent {
  return {
    type: 'protocol-error',
    ...base,
    code,
    message,
    text: text.length > MAX_ERROR_TEXT ? text.slice(0, MAX_ERROR_TEXT) + '…' : text,
  };
}

/** Parse and validate one JSON record (without prefix). `raw` is the whole line, for error events. */
export function parseRecordText(json: string, base: RecordBase, raw: string = json): ProtocolEvent {
  let obj: unknown;
  try {
    obj = JSON.parse(json);
  } catch (e) {
    const sanitized = /NaN|Infinity/.test(json) ? markNonFinite(json) : undefined;
    try {
      if (sanitized === undefined) throw e;
      obj = JSON.parse(sanitized);
    } catch {
      return protocolError(base, raw, 'invalid-json', `invalid JSON: ${(e as Error).message}`);
    }
  }
  return validateRecord(obj, base, raw);
}

/** Validate an already-parsed record. */
export function validateRecord(obj: unknown, base: RecordBase, raw: string): ProtocolEvent {
  const fail = (code: ProtocolErrorCode, message: string) => protocolError(base, raw, code, message);
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) {
    return fail('not-an-object', `a protocol record must be a JSON object, got ${describe(obj)}`);
  }
  const rec = obj as Record<string, unknown>;
  const kinds = RECORD_KEYS.filter(k => Object.prototype.hasOwnProperty.call(rec, k));
  if (kinds.length === 0) {
    return fail('unknown-record', `unknown record: expected one of the keys ${RECORD_KEYS.map(k => `"${k}"`).join(', ')}`);
  }
  if (kinds.length > 1) {
    return fail('ambiguous-record', `a record has exactly one of ${kinds.map(k => `"${k}"`).join(', ')}, not several`);
  }

  const nonEmptyString = (key: string): string | ProtocolErrorEvent => {
    const v = rec[key];
    if (v === undefined || v === null) return fail('missing-field', `"${key}" is required`);
    if (typeof v !== 'string') return fail('wrong-type', `"${key}" must be a string, got ${describe(v)}`);
    if (v.trim() === '') return fail('missing-field', `"${key}" must not be empty`);
    return v;
  };
  const finiteNumber = (key: string, required: boolean): number | undefined | ProtocolErrorEvent => {
    const v = rec[key];
    if (v === undefined || v === null) return required ? fail('missing-field', `"${key}" is required`) : undefined;
    if (isNonFiniteMarker(v) || (typeof v === 'number' && !Number.isFinite(v))) {
      return fail('non-finite', `"${key}" must be a finite number, got ${describe(v)}`);
    }
    if (typeof v !== 'number') return fail('wrong-type', `"${key}" must be a number, got ${describe(v)}`);
    return v;
  };
  const optionalString = (key: string): string | undefined | ProtocolErrorEvent => {
    const v = rec[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string') return fail('wrong-type', `"${key}" must be a string, got ${describe(v)}`);
    return v;
  };
  const isErr = (v: unknown): v is ProtocolErrorEvent => typeof v === 'object' && v !== null && (v as ProtocolErrorEvent).type === 'protocol-error';

  switch (kinds[0]) {
    case 'metric': {
      const name = nonEmptyString('metric');
      if (isErr(name)) return name;
      const value = finiteNumber('value', true);
      if (isErr(value)) return value;
      const step = finiteNumber('step', false);
      if (isErr(step)) return step;
      if (step !== undefined && (!Number.isInteger(step) || step < 0)) {
        return fail('wrong-type', `"step" must be a non-negative integer, got ${describe(step)}`);
      }
      const ev: MetricEvent = { type: 'metric', ...base, name, value: value as number };
      if (step !== undefined) ev.step = step;
      return ev;
    }
    case 'param': {
      const name = nonEmptyString('param');
      if (isErr(name)) return name;
      if (!Object.prototype.hasOwnProperty.call(rec, 'value')) return fail('missing-field', '"value" is required');
      const bad = findNonFinite(rec.value, 'value');
      if (bad) return fail('non-finite', `"${bad.path}" must be a finite number, got ${bad.got}`);
      return { type: 'param', ...base, name, value: rec.value as JsonValue };
    }
    case 'artifact': {
      const p = nonEmptyString('artifact');
      if (isErr(p)) return p;
      const kind = optionalString('kind');
      if (isErr(kind)) return kind;
      const ev: ArtifactEvent = { type: 'artifact', ...base, path: p };
      if (kind !== undefined) ev.kind = kind;
      return ev;
    }
    case 'progress': {
      const value = finiteNumber('progress', true);
      if (isErr(value)) return value;
      if ((value as number) < 0 || (value as number) > 1) {
        return fail('out-of-range', `"progress" must be between 0 and 1, got ${value}`);
      }
      const message = optionalString('message');
      if (isErr(message)) return message;
      const ev: ProgressEvent = { type: 'progress', ...base, value: value as number };
      if (message !== undefined) ev.message = message;
      return ev;
    }
  }
  /* istanbul ignore next: kinds[0] is one of RECORD_KEYS */
  return fail('unknown-record', 'unknown record');
}

function isNonFiniteMarker(v: unknown): v is string {
  return typeof v === 'string' && v.startsWith(NON_FINITE);
}

function describe(v: unknown): string {
  if (isNonFiniteMarker(v)) return v.slice(NON_FINITE.length);
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v)}`;
  if (typeof v === 'number') return String(v);
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${String(v)}`;
}

function findNonFinite(v: unknown, at: string): { path: string; got: string } | undefined {
  if (isNonFiniteMarker(v)) return { path: at, got: v.slice(NON_FINITE.length) };
  if (typeof v === 'number' && !Number.isFinite(v)) return { path: at, got: String(v) };
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const bad = findNonFinite(v[i], `${at}[${i}]`);
      if (bad) return bad;
    }
  } else if (v !== null && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      const bad = findNonFinite(x, `${at}.${k}`);
      if (bad) return bad;
    }
  }
  return undefined;
}

/**
 * Replace the bare tokens `NaN`, `Infinity` and `-Infinity` outside JSON strings by marker strings, so that a
 * record such as `{"metric": "loss", "value": NaN}` is reported as "not finite" rather than "invalid JSON".
 */
function markNonFinite(json: string): string {
  let out = '';
  let last = 0;
  let inString = false;
  for (let i = 0; i < json.length; i++) {
    const c = json.charCodeAt(i);
    if (inString) {
      if (c === 0x5c /* \ */) i++;
      else if (c === 0x22 /* " */) inString = false;
      continue;
    }
    if (c === 0x22) {
      inString = true;
      continue;
    }
    for (const token of ['-Infinity', 'Infinity', 'NaN']) {
      if (json.startsWith(token, i) && !/[A-Za-z0-9_]/.test(json[i + token.length] ?? '') && !/[A-Za-z0-9_.]/.test(json[i - 1] ?? '')) {
        out += json.slice(last, i) + JSON.stringify(NON_FINITE + token);
        i += token.length - 1;
        last = i + 1;
        break;
      }
    }
  }
  return out + json.slice(last);
}

// ---------------------------------------------------------------------------------------------------------------
// Line splitting

export interface SplitLine {
  /** The line without its terminator, decoded as UTF-8 (invalid bytes become U+FFFD). */
  text: string;
  /** 1-based. */
  line: number;
  /** The line was longer than the cap; `text` holds its first `maxLineBytes` bytes. */
  truncated: boolean;
}

export interface LineSplitterOptions {
  /** Keep at most this many bytes of one line (default {@link DEFAULT_MAX_LINE_BYTES}). */
  maxLineBytes?: number;
  /**
   * Also end a line at a lone `\r` (progress bars such as tqdm redraw with `\r`; without this a whole training
   * run's progress bar is one line). `\r\n` is always one terminator. Default false.
   */
  splitOnCR?: boolean;
}

const LF = 0x0a;
const CR = 0x0d;

/**
 * Incremental splitter for a chunked byte stream. Handles lines split across chunks (also inside a multi-byte
 * UTF-8 character), `\n` and `\r\n` (also split across chunks), and caps huge lines without buffering them.
 */
export class LineSplitter {
  private readonly maxLineBytes: number;
  private readonly splitOnCR: boolean;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private overflow = false;
  /** splitOnCR: the previous chunk ended with `\r`, so a leading `\n` in the next chunk belongs to it. */
  private skipLF = false;
  private count = 0;

  constructor(private readonly onLine: (line: SplitLine) => void, options: LineSplitterOptions = {}) {
    this.maxLineBytes = Math.max(1, options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES);
    this.splitOnCR = options.splitOnCR ?? false;
  }

  /** Lines emitted so far. */
  get lines(): number {
    return this.count;
  }

  push(chunk: Buffer | string): void {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    let pos = 0;
    if (this.skipLF) {
      this.skipLF = false;
      if (buf.length > 0 && buf[0] === LF) pos = 1;
    }
    // Next CR at or after pos (-1: none left in this chunk); recomputed only when passed, so a chunk without CR
    // is scanned once, not once per line.
    let nextCR = this.splitOnCR ? buf.indexOf(CR, pos) : -1;
    while (pos < buf.length) {
      const lf = buf.indexOf(LF, pos);
      if (nextCR !== -1 && nextCR < pos) nextCR = buf.indexOf(CR, pos);
      if (nextCR !== -1 && (lf === -1 || nextCR < lf - 1)) {
        // A lone CR ends the line (CR immediately before LF is a CRLF: handled below).
        this.append(buf, pos, nextCR);
        this.emit();
        pos = nextCR + 1;
        if (pos === buf.length) this.skipLF = true;
        continue;
      }
      if (lf === -1) {
        this.append(buf, pos, buf.length, true);
        return;
      }
      this.append(buf, pos, lf);
      this.emit();
      pos = lf + 1;
    }
  }

  /** Emit the last line if the stream did not end with a terminator. */
  end(): void {
    if (this.pendingBytes > 0 || this.overflow) this.emit();
    this.skipLF = false;
  }

  private append(buf: Buffer, start: number, end: number, keep = false): void {
    if (this.overflow || end <= start) return;
    const room = this.maxLineBytes - this.pendingBytes;
    if (end - start > room) {
      end = start + room;
      this.overflow = true;
    }
    if (end <= start) return;
    // A partial line outlives this call: copy it (the caller may reuse its buffer).
    const part = keep ? Buffer.from(buf.subarray(start, end)) : buf.subarray(start, end);
    this.pending.push(part);
    this.pendingBytes += part.length;
  }

  private emit(): void {
    const bytes = this.pending.length === 1 ? this.pending[0] : Buffer.concat(this.pending, this.pendingBytes);
    let text = this.pending.length === 0 ? '' : bytes.toString('utf8');
    if (text.endsWith('\r')) text = text.slice(0, -1);
    const truncated = this.overflow;
    this.pending = [];
    this.pendingBytes = 0;
    this.overflow = false;
    this.count++;
    this.onLine({ text, line: this.count, truncated });
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Tailing the metrics file

export interface FileTailerOptions extends LineSplitterOptions {
  /** Polling interval, the fallback when `fs.watch` misses events or is unavailable (default 250 ms). */
  pollMs?: number;
  /** Read errors other than "file does not exist yet" (default: ignored). */
  onError?: (error: Error) => void;
}

/**
 * Follows a file that another process appends to, and emits its complete lines. Reads only the appended bytes
 * (from the last offset), woken by `fs.watch` and by polling. If the file shrinks (rewritten from scratch), it
 * starts again from the beginning. {@link stop} reads whatever is left and emits the last unterminated line.
 */
export class FileTailer {
  private readonly splitter: LineSplitter;
  private readonly pollMs: number;
  private offset = 0;
  private watcher: fs.FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private busy: Promise<void> | undefined;
  private rerun = false;
  private stopped = false;

  constructor(readonly file: string, onLine: (line: SplitLine) => void, private readonly options: FileTailerOptions = {}) {
    this.splitter = new LineSplitter(onLine, options);
    this.pollMs = options.pollMs ?? 250;
  }

  start(): void {
    if (this.stopped || this.timer) return;
    try {
      this.watcher = fs.watch(this.file, { persistent: false }, () => void this.drain());
      this.watcher.on('error', () => this.closeWatcher());
    } catch {
      this.watcher = undefined; // not there yet, or no inotify: polling covers it
    }
    this.timer = setInterval(() => void this.drain(), this.pollMs);
    this.timer.unref();
    void this.drain();
  }

  /** Stop watching, read to the end of the file, emit the final partial line. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.closeWatcher();
    await this.drain(true);
    this.splitter.end();
  }

  /** Bytes consumed so far. */
  get position(): number {
    return this.offset;
  }

  private closeWatcher(): void {
    try {
      this.watcher?.close();
    } catch {
      /* already closed */
    }
    this.watcher = undefined;
  }

  /** One reader at a time; a wake-up during a read schedules one more pass. */
  private drain(final = false): Promise<void> {
    if (this.stopped && !final) return this.busy ?? Promise.resolve();
    if (this.busy) {
      this.rerun = true;
      return this.busy.then(() => this.drain(final));
    }
    this.busy = (async () => {
      do {
        this.rerun = false;
        await this.readAvailable();
      } while (this.rerun);
    })().finally(() => {
      this.busy = undefined;
    });
    return this.busy;
  }

  private async readAvailable(): Promise<void> {
    let fh: fsp.FileHandle;
    try {
      fh = await fsp.open(this.file, 'r');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') this.options.onError?.(e as Error);
      return;
    }
    try {
      const st = await fh.stat();
      if (st.size < this.offset) this.offset = 0; // truncated or replaced
      for (;;) {
        const buf = Buffer.allocUnsafe(256 * 1024);
        const { bytesRead } = await fh.read(buf, 0, buf.length, this.offset);
        if (bytesRead === 0) break;
        this.offset += bytesRead;
        this.splitter.push(buf.subarray(0, bytesRead));
      }
    } catch (e) {
      this.options.onError?.(e as Error);
    } finally {
      await fh.close().catch(() => undefined);
    }
  }
}
