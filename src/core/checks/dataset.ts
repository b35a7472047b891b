/**
 * Reading evaluation / reference data for the gate (CSV and JSONL), column by column, plus the small helpers the data
 * checks (bias, drift, anomalies, data_schema) share.
 *
 * Formats:
 * - CSV (`.csv`, or `.tsv` with tabs), parsed by `csv-parse`: a header row, then one row per record. RFC 4180
 *   quoting: a field in double quotes may contain the delimiter, line breaks (kept exactly: CR, LF or CRLF) and `""`
 *   (an escaped quote). Records end at CRLF, LF or CR; a UTF-8 BOM is skipped; empty lines are skipped. A quote
 *   inside an unquoted field, and a quoted field followed by more text before the delimiter (`"a"b`), are kept as
 *   they stand, quotes included. An empty header name becomes `Unnamed: <index>` (as pandas names the index column
 *   that `to_csv` writes).
 * - JSONL (`.jsonl`, `.ndjson`, `.json`): one JSON object per line. Keys become columns in order of first
 *   appearance; a key absent from a row is a missing value there. Booleans are read as the strings `true`/`false`,
 *   nested arrays/objects as their JSON text.
 *
 * Types: a column is numeric when every non-missing value is a number by {@link parseDecimal} (decimals and the
 * infinities; hexadecimal and the like are text); otherwise it is a string column and keeps each value's original
 * text. Missing values are empty or whitespace-only cells, JSON `null`, and the tokens {@link MISSING_TOKENS}; they
 * are NaN in numeric columns and null in string columns. The label column (`options.label`) is always read as
 * strings (class names), in canonical form for numbers (`1.0` → `1`), so it compares with the model's class names.
 *
 * Memory: files are read as a stream (csv-parse, or readline for JSONL, over fs.createReadStream); numeric columns
 * are Float64Arrays grown by doubling (8 bytes a value), string columns arrays. 100,000 rows × 20 numeric columns
 * ≈ 16 MB once read.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as readline from 'readline';
import { parse as csvParser, type CsvError } from 'csv-parse';
import { t } from '../l10n';
import { confinePath } from '../runner/paths';
import { nameList } from './format';
import { CheckInputError, guardCheck, thresholdOf, type CheckOutcome } from './harness';
import type { CheckResult, Column, Dataset, GateContext } from './types';

/** Cell texts read as missing values (besides empty / whitespace-only cells). */
export const MISSING_TOKENS: ReadonlySet<string> = new Set(['NA', 'N/A', 'NaN', 'nan', 'null', 'NULL', 'None']);

/**
 * A data file that cannot be read as a data set, or lacks a column the gate needs. `message` (translated) starts with
 * `file:line: ` when a line is at fault, else with `file: `; `file` and `line` repeat them for callers.
 */
export class DatasetError extends CheckInputError {
  constructor(message: string, readonly file: string, readonly line?: number) {
    super(message);
    this.name = 'DatasetError';
  }
}

export interface ReadDatasetOptions {
  /** The label column: must exist (else DatasetError naming the columns); read as strings. */
  label?: string;
  /** Override the format guessed from the extension. */
  format?: 'csv' | 'tsv' | 'jsonl';
  /** How messages (and `Dataset.file`) name the file, e.g. workspace-relative; default: the path given. */
  shown?: string;
  /**
   * Workspace root: the file must be inside it, symbolic links included, or it is refused before it is opened
   * (a policy must not be a way to read, and copy into a report, a file elsewhere on the machine).
   */
  root?: string;
}

/** The spellings of infinity read as numbers (compared after trimming and lower-casing), as pandas reads them. */
const INFINITIES: ReadonlyMap<string, number> = new Map([
  ['inf', Infinity], ['+inf', Infinity], ['-inf', -Infinity],
  ['infinity', Infinity], ['+infinity', Infinity], ['-infinity', -Infinity],
]);

/**
 * The number rule of data files, in one place: the number a cell's text stands for, or NaN when it is text.
 * Numbers are decimals (`12`, `-0.5`, `.5`, `1e3`, `+7`; one too large for a double is ±Infinity) and the
 * infinities `inf`, `infinity` with an optional sign, in any case (`Inf`, `-INF`, `Infinity`). Whitespace around a
 * number is allowed, as pandas allows it. Hexadecimal, octal and binary literals (`0x1F`, ` 0x1F `, `0o7`, `0b11`),
 * which `Number()` would take, are text. Missing-value tokens (`NaN`, `NA`, …) are handled before this.
 */
export function parseDecimal(s: string): number {
  const v = Number(s);
  if (v !== v) {
    // Number() knows only "Infinity"; the other spellings are short and start with a sign, i/I, or whitespace.
    return s.length <= 16 ? INFINITIES.get(s.trim().toLowerCase()) ?? NaN : NaN;
  }
  // A first character outside '+'..'9' in a text Number() accepts is whitespace (or the I of Infinity).
  const c0 = s.charCodeAt(0);
  const text = c0 < 0x2b || c0 > 0x39 ? s.trimStart() : s;
  if (text.length === 0) return NaN; // '' and whitespace are 0 to Number()
  if (text.length > 2 && text.charCodeAt(0) === 0x30) {
    const c = text.charCodeAt(1) | 0x20;
    if (c === 0x78 || c === 0x6f || c === 0x62) return NaN; // 0x, 0o, 0b
  }
  return v;
}

function isMissingText(s: string): boolean {
  if (s.length === 0) return true;
  if (MISSING_TOKENS.has(s)) return true;
  const c = s.charCodeAt(0);
  return (c === 0x20 || c === 0x09) && s.trim() === '';
}

/**
 * True when `s` is certainly how JavaScript prints its number (so the text need not be kept): up to 15 characters of
 * `-?(0|[1-9][0-9]*)(.[0-9]*[1-9])?`, not `-0`, not below 1e-6 (printed with an exponent). False means "compare
 * with String(v)"; no allocation either way.
 */
export function isCanonicalNumberText(s: string): boolean {
  const n = s.length;
  if (n === 0 || n > 15) return false;
  let i = 0;
  if (s.charCodeAt(0) === 0x2d) { i = 1; if (n === 1) return false; }
  const first = s.charCodeAt(i);
  if (first < 0x30 || first > 0x39) return false;
  if (first === 0x30) {
    if (i + 1 === n) return i === 0;
    if (s.charCodeAt(i + 1) !== 0x2e) return false;
  }
  let dot = -1;
  for (let k = i + 1; k < n; k++) {
    const c = s.charCodeAt(k);
    if (c === 0x2e) { if (dot >= 0) return false; dot = k; } else if (c < 0x30 || c > 0x39) return false;
  }
  if (dot >= 0) {
    const last = s.charCodeAt(n - 1);
    if (last === 0x30 || last === 0x2e) return false;
    if (first === 0x30) {
      let zeros = 0;
      for (let k = dot + 1; k < n && s.charCodeAt(k) === 0x30; k++) zeros++;
      if (zeros >= 6) return false;
    }
  }
  return true;
}

/** One column while the file is read: numeric until a non-numeric value arrives, then strings. */
class ColumnBuilder {
  kind: 'number' | 'string' = 'number';
  private nums = new Float64Array(256);
  /** Original text of numbers whose text is not their canonical form ("007", "1.50"), to restore on conversion. */
  private raw: Map<number, string> | null = null;
  private strs: Array<string | null> | null = null;
  length = 0;

  pushMissing(): void {
    if (this.kind === 'number') this.pushNumber(NaN);
    else { (this.strs as Array<string | null>).push(null); this.length++; }
  }

  /** Adds n missing values (a JSONL key that appears for the first time after n rows). */
  fillMissing(n: number): void {
    for (let i = 0; i < n; i++) this.pushMissing();
  }

  private pushNumber(v: number): void {
    if (this.length === this.nums.length) {
      const bigger = new Float64Array(this.nums.length * 2);
      bigger.set(this.nums);
      this.nums = bigger;
    }
    this.nums[this.length++] = v;
  }

  /** Adds a cell's text (CSV, or a JSON string). */
  pushText(s: string): void {
    if (isMissingText(s)) { this.pushMissing(); return; }
    if (this.kind === 'number') {
      const v = parseDecimal(s);
      if (!Number.isNaN(v)) {
        if (!isCanonicalNumberText(s) && String(v) !== s) (this.raw ??= new Map()).set(this.length, s);
        this.pushNumber(v);
        return;
      }
      this.toStrings();
    }
    (this.strs as Array<string | null>).push(s);
    this.length++;
  }

  /** Adds a JSON number. */
  pushJsonNumber(v: number): void {
    if (this.kind === 'number') this.pushNumber(v);
    else { (this.strs as Array<string | null>).push(String(v)); this.length++; }
  }

  private toStrings(): void {
    const strs = new Array<string | null>(this.length);
    for (let i = 0; i < this.length; i++) {
      const v = this.nums[i];
      strs[i] = Number.isNaN(v) ? null : (this.raw?.get(i) ?? String(v));
    }
    this.strs = strs;
    this.raw = null;
    this.nums = new Float64Array(0);
    this.kind = 'string';
  }

  /** The finished column; `asLabel` forces strings in canonical number form. */
  finish(asLabel: boolean): Column {
    if (this.kind === 'number') {
      if (asLabel) {
        const strs = new Array<string | null>(this.length);
        for (let i = 0; i < this.length; i++) strs[i] = Number.isNaN(this.nums[i]) ? null : String(this.nums[i]);
        return { kind: 'string', values: strs };
      }
      return { kind: 'number', values: this.nums.length === this.length ? this.nums : this.nums.slice(0, this.length) };
    }
    return { kind: 'string', values: this.strs as Array<string | null> };
  }
}

function formatOf(file: string, options: ReadDatasetOptions): 'csv' | 'tsv' | 'jsonl' {
  if (options.format) return options.format;
  const ext = path.extname(file).toLowerCase();
  if (ext === '.jsonl' || ext === '.ndjson' || ext === '.json') return 'jsonl';
  if (ext === '.tsv' || ext === '.tab') return 'tsv';
  return 'csv';
}

function openLines(file: string): { rl: readline.Interface; failed: () => Error | undefined } {
  let error: Error | undefined;
  const stream = fs.createReadStream(file, { encoding: 'utf8', highWaterMark: 1 << 20 });
  const rl = readline.createInterface({ input: stream, crlfDelay: Infinity });
  stream.on('error', e => { error = e; rl.close(); });
  return { rl, failed: () => error };
}

function describeReadError(file: string, e: Error): DatasetError {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return new DatasetError(t('{0}: file not found; check the path (relative paths resolve against the workspace root).', file), file);
  if (code === 'EISDIR') return new DatasetError(t('{0}: this is a folder, not a data file; give the path of a CSV, TSV or JSONL file.', file), file);
  return new DatasetError(t('{0}: cannot read the file ({1}); check that it exists and that you may read it.', file, e.message), file);
}

/** Reads a CSV/TSV or JSONL file into a {@link Dataset}. Throws {@link DatasetError} with file:line on bad input. */
export async function readDataset(file: string, options: ReadDatasetOptions = {}): Promise<Dataset> {
  const format = formatOf(file, options);
  const shown = options.shown ?? file;
  if (options.root !== undefined) {
    const c = confinePath(options.root, file);
    if (!c.inside) throw new DatasetError(t('{0}: outside the workspace ({1}); EDD only reads data files inside it.', shown, options.root), shown);
    file = c.real;
  }
  try {
    await fs.promises.access(file, fs.constants.R_OK);
    const st = await fs.promises.stat(file);
    if (st.isDirectory()) throw Object.assign(new Error('directory'), { code: 'EISDIR' });
  } catch (e) {
    throw describeReadError(shown, e as Error);
  }
  const { names, builders, rows } = format === 'jsonl' ? await readJsonl(file, shown) : await readCsv(file, format === 'tsv' ? '\t' : ',', shown);
  if (options.label !== undefined && !names.includes(options.label)) {
    throw new DatasetError(t('{0}: no label column "{1}"; the columns are {2}. Set `data.label` to one of them, or rename the column in the file.', shown, options.label, nameList(names)), shown);
  }
  const columns = new Map<string, Column>();
  names.forEach((name, i) => columns.set(name, builders[i].finish(name === options.label)));
  return { file: shown, rows, names, columns };
}

async function readCsv(file: string, delimiter: string, shown: string): Promise<{ names: string[]; builders: ColumnBuilder[]; rows: number }> {
  const what = delimiter === '\t' ? 'TSV' : 'CSV';
  let names: string[] | null = null;
  let builders: ColumnBuilder[] = [];
  let rows = 0;
  // Where the next record starts: csv-parse reports the line a record ends on and the empty lines skipped so far.
  let endLine = 0;
  let emptyLines = 0;
  const startOf = (info: { empty_lines: number }) => endLine + 1 + info.empty_lines - emptyLines;
  const onRecord = (fields: string[], info: { lines: number; empty_lines: number }): null => {
    const line = startOf(info);
    endLine = info.lines;
    emptyLines = info.empty_lines;
    if (names === null) {
      names = fields.map((f, i) => (f.length === 0 ? `Unnamed: ${i}` : f));
      const seen = new Set<string>();
      for (const n of names) {
        if (seen.has(n)) throw new DatasetError(t('{0}:{1}: duplicate column name "{2}" in the header; rename one of them.', shown, line, n), shown, line);
        seen.add(n);
      }
      builders = names.map(() => new ColumnBuilder());
      return null;
    }
    if (fields.length !== names.length) {
      throw new DatasetError(
        t('{0}:{1}: expected {2} fields as in the header, found {3}; quote fields that contain "{4}" or a line break (as in "a{4}b"), or fix the row.',
          shown, line, names.length, fields.length, delimiter === '\t' ? '\\t' : delimiter),
        shown, line,
      );
    }
    for (let j = 0; j < fields.length; j++) builders[j].pushText(fields[j]);
    rows++;
    return null; // consumed here: nothing to queue downstream
  };
  const parser = csvParser({
    delimiter, bom: true, skip_empty_lines: true, relax_quotes: true, relax_column_count: true,
    record_delimiter: ['\r\n', '\n', '\r'], on_record: onRecord,
  });
  const input = fs.createReadStream(file, { highWaterMark: 1 << 20 });
  let readError: Error | undefined;
  await new Promise<void>((resolve, reject) => {
    input.on('error', e => { readError = e; parser.destroy(); reject(e); });
    parser.on('error', reject);
    parser.on('end', resolve);
    parser.resume();
    input.pipe(parser);
  }).catch((e: Error) => {
    input.destroy();
    if (readError) throw describeReadError(shown, readError);
    if (e instanceof DatasetError) throw e;
    const code = (e as CsvError).code;
    if (code === 'CSV_QUOTE_NOT_CLOSED') {
      const line = startOf(e as CsvError & { empty_lines: number });
      throw new DatasetError(t('{0}:{1}: a quoted field starts on this line but is never closed (missing closing "); add the closing quote, and write a quote inside a field as "".', shown, line), shown, line);
    }
    const line = (e as CsvError & { lines?: number }).lines;
    throw new DatasetError(t('{0}:{1}: cannot read this {2} record ({3}).', shown, line ?? endLine + 1, what, e.message), shown, line ?? endLine + 1);
  });
  if (names === null) throw new DatasetError(t('{0}: the file is empty; a {1} file needs a header row with the column names.', shown, what), shown);
  return { names, builders, rows };
}

async function readJsonl(file: string, shown: string): Promise<{ names: string[]; builders: ColumnBuilder[]; rows: number }> {
  const { rl, failed } = openLines(file);
  const names: string[] = [];
  const builders: ColumnBuilder[] = [];
  const index = new Map<string, number>();
  let lineNo = 0;
  let rows = 0;
  for await (let line of rl) {
    lineNo++;
    if (lineNo === 1 && line.charCodeAt(0) === 0xfeff) line = line.slice(1);
    if (line.trim() === '') continue;
    let obj: unknown;
    try {
      obj = JSON.parse(line);
    } catch (e) {
      throw new DatasetError(t('{0}:{1}: invalid JSON ({2}); each line must be one JSON object such as {"x": 1.5, "label": "a"}.', shown, lineNo, (e as Error).message), shown, lineNo);
    }
    if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) {
      throw new DatasetError(Array.isArray(obj)
        ? t('{0}:{1}: expected a JSON object ({"column": value, …}), found an array; write each row as one object such as {"x": 1.5, "label": "a"}.', shown, lineNo)
        : t('{0}:{1}: expected a JSON object ({"column": value, …}), found {2}; write each row as one object such as {"x": 1.5, "label": "a"}.', shown, lineNo, JSON.stringify(obj)),
      shown, lineNo);
    }
    for (const key of Object.keys(obj)) {
      if (!index.has(key)) {
        index.set(key, names.length);
        names.push(key);
        const b = new ColumnBuilder();
        b.fillMissing(rows);
        builders.push(b);
      }
    }
    const record = obj as Record<string, unknown>;
    for (let j = 0; j < names.length; j++) {
      const b = builders[j];
      const v = record[names[j]];
      if (v === undefined || v === null) b.pushMissing();
      else if (typeof v === 'number') {
        if (Number.isFinite(v)) b.pushJsonNumber(v); else b.pushMissing();
      } else if (typeof v === 'string') b.pushText(v);
      else if (typeof v === 'boolean') b.pushText(v ? 'true' : 'false');
      else b.pushText(JSON.stringify(v));
    }
    rows++;
  }
  const err = failed();
  if (err) throw describeReadError(shown, err);
  return { names, builders, rows };
}

/** The first non-missing value of a string column that is not a decimal number, with its 1-based row. */
export function firstNonNumeric(col: Column): { row: number; value: string } | undefined {
  if (col.kind === 'number') return undefined;
  for (let i = 0; i < col.values.length; i++) {
    const v = col.values[i];
    if (v !== null && Number.isNaN(parseDecimal(v))) return { row: i + 1, value: v };
  }
  return undefined;
}

/**
 * The feature columns as a row-major float32 matrix (rows × features), for the model's input; missing values are NaN.
 * Throws DatasetError naming a missing column (with the available ones) or a non-numeric one (with an example).
 */
export function featureMatrix(ds: Dataset, features: readonly string[]): Float32Array {
  const cols: Float64Array[] = [];
  for (const name of features) {
    const col = ds.columns.get(name);
    if (!col) throw new DatasetError(t('{0}: feature column "{1}" is missing; the columns are {2}. Fix the name in `data.features`.', ds.file, name, nameList(ds.names)), ds.file);
    if (col.kind !== 'number') {
      const bad = firstNonNumeric(col);
      throw new DatasetError(
        bad
          ? t('{0}: feature column "{1}" is not numeric (row {2}: "{3}"); encode it as numbers or remove it from `data.features`.', ds.file, name, bad.row, bad.value)
          : t('{0}: feature column "{1}" is not numeric; encode it as numbers or remove it from `data.features`.', ds.file, name),
        ds.file,
      );
    }
    cols.push(col.values);
  }
  const f = cols.length;
  const out = new Float32Array(ds.rows * f);
  for (let j = 0; j < f; j++) {
    const values = cols[j];
    for (let i = 0, o = j; i < ds.rows; i++, o += f) out[o] = values[i];
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Shared by the data checks.

const sortedCache = new WeakMap<Float64Array, Float64Array>();

/**
 * Sorts finite/infinite doubles ascending (no NaN), in place for small arrays, else into a new array: an LSD radix
 * sort on the IEEE-754 bits (mapped so that unsigned order is numeric order), six 11-bit passes, a pass skipped when
 * every key has the same digit. About twice as fast as the typed-array sort from 10⁴ values on; −0 sorts before +0.
 */
export function sortFloat64(a: Float64Array): Float64Array {
  const n = a.length;
  if (n < 4096) return a.sort();
  const words = new Uint32Array(a.buffer, a.byteOffset, n * 2);
  let lo = new Uint32Array(n), hi = new Uint32Array(n);
  const B = 2048;
  const counts = new Uint32Array(6 * B);
  for (let i = 0; i < n; i++) {
    let l = words[2 * i], h = words[2 * i + 1];
    if (h & 0x80000000) { h = ~h >>> 0; l = ~l >>> 0; } else h = (h | 0x80000000) >>> 0;
    lo[i] = l; hi[i] = h;
    counts[l & 2047]++; counts[B + ((l >>> 11) & 2047)]++; counts[2 * B + (l >>> 22)]++;
    counts[3 * B + (h & 2047)]++; counts[4 * B + ((h >>> 11) & 2047)]++; counts[5 * B + (h >>> 22)]++;
  }
  let lo2 = new Uint32Array(n), hi2 = new Uint32Array(n);
  for (let pass = 0; pass < 6; pass++) {
    const base = pass * B;
    let sum = 0, trivial = false;
    for (let d = 0; d < B; d++) {
      const c = counts[base + d];
      if (c === n) { trivial = true; break; }
      counts[base + d] = sum;
      sum += c;
    }
    if (trivial) continue;
    const key = pass < 3 ? lo : hi;
    const shift = (pass % 3) * 11;
    for (let i = 0; i < n; i++) {
      const p = counts[base + ((key[i] >>> shift) & 2047)]++;
      lo2[p] = lo[i]; hi2[p] = hi[i];
    }
    let t = lo; lo = lo2; lo2 = t;
    t = hi; hi = hi2; hi2 = t;
  }
  const out = new Float64Array(n);
  const o = new Uint32Array(out.buffer);
  for (let i = 0; i < n; i++) {
    const h = hi[i], l = lo[i];
    if (h & 0x80000000) { o[2 * i + 1] = h & 0x7fffffff; o[2 * i] = l; } else { o[2 * i + 1] = ~h >>> 0; o[2 * i] = ~l >>> 0; }
  }
  return out;
}

/**
 * The non-missing values of a numeric column, sorted ascending ({@link sortFloat64}, no per-value allocation). Cached per
 * column array, so drift and anomalies on the same data sort each column once. Do not mutate the result.
 */
export function sortedValues(values: Float64Array): Float64Array {
  let s = sortedCache.get(values);
  if (!s) {
    let n = 0;
    for (let i = 0; i < values.length; i++) if (values[i] === values[i]) n++;
    s = new Float64Array(n);
    let k = 0;
    for (let i = 0; i < values.length; i++) { const v = values[i]; if (v === v) s[k++] = v; }
    s = sortFloat64(s);
    sortedCache.set(values, s);
  }
  return s;
}

/**
 * The finite part of a sorted sample (a view, no copy): the infinities, which sort to the ends, left out. Means,
 * standard deviations, quantile fences and distances are taken on it; the checks count the infinities apart.
 */
export function finitePart(sorted: Float64Array): Float64Array {
  let lo = 0, hi = sorted.length;
  while (lo < hi && sorted[lo] === -Infinity) lo++;
  while (hi > lo && sorted[hi - 1] === Infinity) hi--;
  return lo === 0 && hi === sorted.length ? sorted : sorted.subarray(lo, hi);
}

/** A number for a JSON report: ±Infinity (which JSON.stringify turns into null) as the text "Infinity"/"-Infinity". */
export function jsonNumber(x: number): number | string {
  return Number.isFinite(x) ? x : String(x);
}

/**
 * Runs a check body: times it, echoes the spec as `threshold`, and turns any exception into status `error` (a
 * {@link CheckInputError} or {@link DatasetError} with its own message; anything else as an internal error) — a check
 * never throws.
 */
export async function runCheck(
  kind: string, id: string, title: string, spec: unknown, body: () => Promise<CheckOutcome> | CheckOutcome,
): Promise<CheckResult> {
  return guardCheck(kind, id, title, thresholdOf(spec), body);
}

/**
 * Resolves `columns: 'all' | string[]` against data sets: each listed column must exist in every given data set
 * (CheckInputError naming it, the file and the available ones). 'all' (or absent) → `all()`.
 */
export function selectColumns(
  kind: string, value: unknown, sets: ReadonlyArray<{ ds: Dataset; role: 'reference' | 'evaluation' }>, all: () => string[],
): string[] {
  if (value === undefined || value === null || value === 'all') return all();
  if (!Array.isArray(value) || value.some(v => typeof v !== 'string')) {
    throw new CheckInputError(t('`{0}.columns` must be `all` or a list of column names (e.g. [age, income]), got {1}.', kind, JSON.stringify(value)));
  }
  for (const name of value as string[]) {
    for (const { ds, role } of sets) {
      if (ds.columns.has(name)) continue;
      throw new CheckInputError(role === 'reference'
        ? t('{0}: column "{1}" is not in the reference data ({2}); its columns are {3}. Fix the name in `{0}.columns`.', kind, name, ds.file, nameList(ds.names))
        : t('{0}: column "{1}" is not in the evaluation data ({2}); its columns are {3}. Fix the name in `{0}.columns`.', kind, name, ds.file, nameList(ds.names)));
    }
  }
  return [...new Set(value as string[])];
}

/** ctx.label, or a CheckInputError for a check that needs the label in a gate without one (a data-only policy). */
export function labelOf(ctx: GateContext): string {
  if (ctx.label !== undefined) return ctx.label;
  throw new CheckInputError(t('this check compares predictions with the label, and the policy names no label column: set `data.label` in the policy.'));
}

/** ctx.eval's label or sensitive column, or a CheckInputError naming it, the file, the available ones and the fix. */
export function requireColumn(kind: string, ctx: GateContext, name: string, role: 'label' | 'sensitive'): Column {
  const col = ctx.eval.columns.get(name);
  if (col) return col;
  const { file, names } = ctx.eval;
  throw new CheckInputError(role === 'label'
    ? t('{0}: the label column "{1}" is not in the evaluation data ({2}); its columns are {3}. Fix `data.label` in the policy.', kind, name, file, nameList(names))
    : t('{0}: the sensitive column "{1}" is not in the evaluation data ({2}); its columns are {3}. Fix the name in `{0}.sensitive`.', kind, name, file, nameList(names)));
}
