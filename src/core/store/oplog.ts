import * as fs from 'fs';
import * as path from 'path';
import { crc32 } from 'zlib';
import { openIfExists, writeAtomic } from './fileio';
import type { Op } from './ops';

// The index's write-ahead operation log, `<store file>.oplog`. A save no longer rewrites the index file: it appends
// the operations it journaled since the last save as one record here and fsyncs that (hundreds of bytes per run,
// whatever the store's size). The index file (the head) is rewritten only now and then — a *checkpoint*, when the log
// passes a size limit or the head's shape changes (a seal, a migration) — and names the log that continues it by a
// random id, so a log left over from before the checkpoint is recognised and ignored. What a process reads is the head
// with the log's records applied in order, the same ops and the same replay a save's merge has always used.
//
// Layout:
//   header  64 bytes: "EDDOPLOG", u32 LE format (1), the log id (36 ASCII characters), zeros
//   record  u32 LE payload length, u32 LE CRC-32 of the payload, payload: UTF-8 JSON { g, s, ops }
//
// A writer killed mid-append leaves a torn last record (short, or failing its CRC, or zeros where the file system
// extended the file before the data reached it); readers stop before it and the next writer, under the store's lock,
// cuts it off before appending. A damaged record with whole records after it is corruption, not a torn tail.

const MAGIC = 'EDDOPLOG';
const FORMAT = 1;
export const LOG_HEADER_BYTES = 64;
const RECORD_HEAD = 8;

/** The log of an index file. */
export function logFileOf(storeFile: string): string {
  return `${storeFile}.oplog`;
}

/** One save's operations. */
export interface LogRecord {
  /** The store's generation after this save. */
  generation: number;
  saveId: string;
  ops: Op[];
}

/** Identifies one version of the log on disk: the file (a checkpoint replaces it) and how far it reaches. */
export interface LogPosition {
  dev: number;
  ino: number;
  /** The end of the last whole record (what was applied); the file may be longer by a torn record. */
  end: number;
}

export type LogRead =
  | { kind: 'missing' }
  /** The file is the log of another head (a checkpoint not yet seen, or one that crashed before removing it). */
  | { kind: 'other' }
  | { kind: 'records'; records: LogRecord[]; position: LogPosition; size: number }
  | { kind: 'corrupt'; reason: string; bytes: Uint8Array };

/** Thrown by `decodeOps` consumers and by the reader for a log that is not one. */
export class LogFormatError extends Error {}

// ---------------------------------------------------------------------------------------------------------------
// Encoding. Ops hold SQL values (strings, finite numbers, null), a few typed arrays (metric columns) and, in metric
// values, NaN and ±Infinity, which JSON has no literal for.

function encodeValue(_key: string, value: unknown): unknown {
  if (typeof value === 'number' && !Number.isFinite(value)) return { $n: String(value) };
  if (value instanceof Float64Array) return { $f64: Array.from(value, v => (Number.isFinite(v) ? v : { $n: String(v) })) };
  if (value instanceof Uint8Array) return { $u8: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64') };
  return value;
}

/**
 * Turns the encoded markers back into values, in place. A walk after a plain `JSON.parse`: a reviver function made
 * parsing a log four times slower (it is called for every value).
 */
function decodeTree(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const v: unknown = value[i];
      if (typeof v === 'object' && v !== null) value[i] = decodeTree(v);
    }
    return value;
  }
  const o = value as Record<string, unknown>;
  const keys = Object.keys(o);
  if (keys.length === 1) {
    if (typeof o.$n === 'string') return Number(o.$n);
    if (Array.isArray(o.$f64)) return Float64Array.from(o.$f64 as unknown[], v => (typeof v === 'number' ? v : Number((v as { $n: string }).$n)));
    if (typeof o.$u8 === 'string') return new Uint8Array(Buffer.from(o.$u8, 'base64'));
  }
  for (const k of keys) {
    const v = o[k];
    if (typeof v === 'object' && v !== null) o[k] = decodeTree(v);
  }
  return o;
}

/** A record's bytes (length, CRC, payload). */
export function encodeRecord(record: LogRecord): Buffer {
  const payload = Buffer.from(JSON.stringify({ g: record.generation, s: record.saveId, ops: record.ops }, encodeValue), 'utf8');
  const out = Buffer.allocUnsafe(RECORD_HEAD + payload.length);
  out.writeUInt32LE(payload.length, 0);
  out.writeUInt32LE(crc32(payload), 4);
  payload.copy(out, RECORD_HEAD);
  return out;
}

function header(id: string): Buffer {
  const out = Buffer.alloc(LOG_HEADER_BYTES);
  out.write(MAGIC, 0, 'latin1');
  out.writeUInt32LE(FORMAT, 8);
  out.write(id, 12, 36, 'latin1');
  return out;
}

function allZero(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) if (bytes[i] !== 0) return false;
  return true;
}

/**
 * Parses records from `bytes`, which start at file offset `base`. Returns the records and the offset after the last
 * whole one, or the reason the log is damaged.
 */
function parseRecords(bytes: Buffer, base: number): { records: LogRecord[]; end: number } | { corrupt: string } {
  const records: LogRecord[] = [];
  let at = 0;
  while (at < bytes.length) {
    const rest = bytes.length - at;
    // A torn append reaches past the end of the file, or is followed only by the zeros of an extension whose data
    // never reached the disk. Anything else after a bad record means the file was damaged.
    if (rest < RECORD_HEAD || allZero(bytes.subarray(at))) break;
    const length = bytes.readUInt32LE(at);
    if (length === 0) return { corrupt: `a record of length 0 at byte ${base + at}` };
    if (RECORD_HEAD + length > rest) break;
    const payload = bytes.subarray(at + RECORD_HEAD, at + RECORD_HEAD + length);
    if (crc32(payload) !== bytes.readUInt32LE(at + 4)) {
      if (RECORD_HEAD + length === rest) break;
      return { corrupt: `a damaged record at byte ${base + at} (its checksum does not match) with more records after it` };
    }
    let json: { g?: unknown; s?: unknown; ops?: unknown };
    try {
      json = decodeTree(JSON.parse(payload.toString('utf8'))) as typeof json;
    } catch (e) {
      return { corrupt: `the record at byte ${base + at} is not readable (${(e as Error).message})` };
    }
    if (typeof json.g !== 'number' || typeof json.s !== 'string' || !Array.isArray(json.ops)) {
      return { corrupt: `the record at byte ${base + at} does not have the shape of a save` };
    }
    records.push({ generation: json.g, saveId: json.s, ops: json.ops as Op[] });
    at += RECORD_HEAD + length;
  }
  return { records, end: base + at };
}

/**
 * Reads the log `file` if it is the log with id `id`: its records from offset `from` (default: the first) up to the
 * last whole one. `known` (the position a reader already has) lets an unchanged log be answered from a stat alone.
 */
export async function readLog(file: string, id: string, from = LOG_HEADER_BYTES, known?: LogPosition): Promise<LogRead> {
  if (known) {
    // the common case (nobody else wrote): one stat
    let st: fs.Stats | undefined;
    try {
      st = fs.statSync(file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      return { kind: 'missing' };
    }
    if (known.dev === st.dev && known.ino === st.ino && known.end === st.size) return { kind: 'records', records: [], position: known, size: st.size };
  }
  const fh = await openIfExists(file);
  if (!fh) return { kind: 'missing' };
  try {
    const st = await fh.stat();
    const head = Buffer.alloc(LOG_HEADER_BYTES);
    const { bytesRead } = await fh.read(head, 0, LOG_HEADER_BYTES, 0);
    // A header not yet whole is a log being created by rename only, so a short one is damage — or not ours.
    if (bytesRead < LOG_HEADER_BYTES || head.toString('latin1', 0, 8) !== MAGIC) {
      const bytes = await fh.readFile();
      return { kind: 'corrupt', reason: `${path.basename(file)} does not start with the operation log's header`, bytes };
    }
    if (head.readUInt32LE(8) !== FORMAT) {
      throw new LogFormatError(`${file} is an operation log of format ${head.readUInt32LE(8)}, which this EDD does not know; update EDD`);
    }
    if (head.toString('latin1', 12, 48) !== id) return { kind: 'other' };
    const start = Math.max(from, LOG_HEADER_BYTES);
    const length = Math.max(0, st.size - start);
    const bytes = Buffer.allocUnsafe(length);
    let got = 0;
    while (got < length) {
      const { bytesRead: n } = await fh.read(bytes, got, length - got, start + got);
      if (n === 0) break;
      got += n;
    }
    const parsed = parseRecords(bytes.subarray(0, got), start);
    if ('corrupt' in parsed) {
      const whole = await fh.readFile({});
      return { kind: 'corrupt', reason: `${path.basename(file)}: ${parsed.corrupt}`, bytes: whole };
    }
    return { kind: 'records', records: parsed.records, position: { dev: st.dev, ino: st.ino, end: parsed.end }, size: start + got };
  } finally {
    await fh.close();
  }
}

/**
 * Appends one record to the log with id `id` (the caller holds the store's lock and has read the log up to `at`, so
 * nothing but a torn record lies after it), creating the log if it is missing or another head's. Durable on return.
 */
export async function appendRecord(file: string, id: string, at: LogPosition | undefined, record: Buffer): Promise<LogPosition> {
  if (at) {
    // Synchronous: a handful of small calls and one fdatasync; the round trips through libuv's thread pool cost as
    // much as the calls. (The store runs in a worker in the editor, so no UI thread waits for this.)
    let fd: number | undefined;
    try {
      fd = fs.openSync(file, 'r+');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    if (fd !== undefined) {
      try {
        const st = fs.fstatSync(fd);
        if (st.dev === at.dev && st.ino === at.ino && st.size >= at.end) {
          if (st.size > at.end) fs.ftruncateSync(fd, at.end); // a torn record left by a writer that died
          let written = 0;
          while (written < record.length) written += fs.writeSync(fd, record, written, record.length - written, at.end + written);
          fs.fdatasyncSync(fd);
          return { dev: at.dev, ino: at.ino, end: at.end + record.length };
        }
      } finally {
        fs.closeSync(fd);
      }
    }
  }
  // A new log, with this record in it: written beside, synced and renamed into place, so a reader never sees a log
  // without its header.
  const bytes = Buffer.concat([header(id), record]);
  const st = await writeAtomic(file, bytes);
  return { dev: st.dev, ino: st.ino, end: bytes.length };
}

/** Removes the log after a checkpoint wrote everything it held into the head (which names a new id). */
export async function removeLog(file: string): Promise<void> {
  await fs.promises.unlink(file).catch((e: NodeJS.ErrnoException) => {
    if (e.code !== 'ENOENT') throw e;
  });
}
