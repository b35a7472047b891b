import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { crc32 } from 'zlib';
import { pidAlive } from './fileio';

// A cache of one metric's points from a run's history file (`metrics.jsonl`), as binary columns beside it
// (`<run folder>/curves/<hash of the key>.bin`): parsing the text of a million-point curve costs about as much as
// everything else in drawing it (its values are 17-digit decimals), and a comparison reads the same curves again on
// every view and zoom. The history file stays the only source of truth: a cache covers the file's first `covered`
// bytes (up to a newline), is used only while those bytes are still the ones it was built from (same file, the 32
// bytes before `covered` unchanged, a CRC-32 over the whole cache), and the lines after `covered` are parsed on each
// read. A cache is written whole to a temp file and renamed over the old one, so several readers at once each leave
// a complete one; it is not fsynced, as a cache lost or torn by a crash fails its checks and is built again.
//
// Layout (little-endian header, then the columns in the platform's order, which is little-endian everywhere Node runs
// VS Code):
//   0  8   magic `EDDCURV1`
//   8  4   CRC-32 of every byte after this field
//  12  4   byte length of the key (UTF-8)
//  16  8   covered: bytes of the history file read (f64)
//  24  8   number of points (f64)
//  32  8   the history file's inode number when read (f64)
//  40  32  the 32 bytes of the history file before `covered` (zero padded at the start of a file)
//  72  …   the key, zero padded to a multiple of 8; then the steps, then the values (f64 each), in file order
//          (repeated steps are kept: the reader resolves them as it would from the text)

const MAGIC = Buffer.from('EDDCURV1', 'latin1');
const HEADER = 72;
const TAIL = 32;
let tempCounter = 0;

export interface CachedCurve {
  covered: number;
  steps: Float64Array;
  values: Float64Array;
}

/** Where a metric's cache lives in a run's folder. */
export function curveCacheFile(runFolder: string, key: string): string {
  return path.join(runFolder, 'curves', `${createHash('sha256').update(key).digest('hex').slice(0, 32)}.bin`);
}

/** The folder of a run's curve caches (removed with its history). */
export function curveCacheFolder(runFolder: string): string {
  return path.join(runFolder, 'curves');
}

/** The `TAIL` bytes of the history file before `covered`. */
function tailOf(historyFd: number, covered: number): Buffer {
  const tail = Buffer.alloc(TAIL);
  const from = Math.max(0, covered - TAIL);
  readFully(historyFd, tail.subarray(TAIL - (covered - from)), from);
  return tail;
}

function readFully(fd: number, into: Uint8Array, position: number): boolean {
  let done = 0;
  while (done < into.length) {
    const n = fs.readSync(fd, into, done, into.length - done, position + done);
    if (n === 0) return false;
    done += n;
  }
  return true;
}

/**
 * The cache of `key` in `file` if it is whole and still describes the start of the history file open as
 * `historyFd` (of `historyStat`); undefined otherwise (missing, torn, damaged, for another key, or the history file
 * was replaced or rewritten since).
 */
export function readCurveCache(file: string, key: string, historyFd: number, historyStat: fs.Stats): CachedCurve | undefined {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return undefined;
  }
  let bytes: Uint8Array;
  try {
    const size = fs.fstatSync(fd).size;
    if (size < HEADER) return undefined;
    // its own ArrayBuffer, so the columns are aligned views of it
    bytes = new Uint8Array(new ArrayBuffer(size));
    if (!readFully(fd, bytes, 0)) return undefined;
  } catch {
    return undefined;
  } finally {
    fs.closeSync(fd);
  }
  const buf = Buffer.from(bytes.buffer, 0, bytes.length);
  if (!buf.subarray(0, 8).equals(MAGIC)) return undefined;
  const keyLength = buf.readUInt32LE(12);
  const covered = buf.readDoubleLE(16);
  const count = buf.readDoubleLE(24);
  const keyEnd = HEADER + keyLength;
  const dataStart = HEADER + pad8(keyLength);
  if (!Number.isSafeInteger(count) || count < 0 || bytes.length !== dataStart + 16 * count) return undefined;
  if (!Number.isSafeInteger(covered) || covered > historyStat.size || buf.readDoubleLE(32) !== historyStat.ino) return undefined;
  if (buf.toString('utf8', HEADER, keyEnd) !== key) return undefined;
  if (crc32(bytes.subarray(12)) !== buf.readUInt32LE(8)) return undefined;
  if (!tailOf(historyFd, covered).equals(buf.subarray(40, 40 + TAIL))) return undefined;
  return {
    covered,
    steps: new Float64Array(bytes.buffer, dataStart, count),
    values: new Float64Array(bytes.buffer, dataStart + 8 * count, count),
  };
}

/**
 * Writes the cache of `key`: its points in the history file's first `covered` bytes (`historyFd`, of `historyStat`).
 * Best effort: a cache that cannot be written (a read-only folder, a full disk) is only a slower next read.
 */
export function writeCurveCache(file: string, key: string, historyFd: number, historyStat: fs.Stats, covered: number, steps: Float64Array, values: Float64Array): void {
  const keyBytes = Buffer.from(key, 'utf8');
  const head = Buffer.alloc(HEADER + pad8(keyBytes.length));
  MAGIC.copy(head, 0);
  head.writeUInt32LE(keyBytes.length, 12);
  head.writeDoubleLE(covered, 16);
  head.writeDoubleLE(steps.length, 24);
  head.writeDoubleLE(historyStat.ino, 32);
  const temp = `${file}.tmp-${process.pid}-${++tempCounter}`;
  let fd: number | undefined;
  try {
    tailOf(historyFd, covered).copy(head, 40);
    keyBytes.copy(head, HEADER);
    const stepBytes = new Uint8Array(steps.buffer, steps.byteOffset, steps.byteLength);
    const valueBytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
    head.writeUInt32LE(crc32(valueBytes, crc32(stepBytes, crc32(head.subarray(12)))), 8);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fd = fs.openSync(temp, 'w');
    for (const part of [head, stepBytes, valueBytes]) {
      for (let done = 0; done < part.length; ) done += fs.writeSync(fd, part, done, part.length - done);
    }
    fs.closeSync(fd);
    fd = undefined;
    fs.renameSync(temp, file);
    removeDeadWritersTemps(file);
  } catch {
    try {
      if (fd !== undefined) fs.closeSync(fd);
      fs.rmSync(temp, { force: true });
    } catch {
      // (left for nobody: a temp name is never read)
    }
  }
}

function pad8(n: number): number {
  return Math.ceil(n / 8) * 8;
}

/** Temp files of this cache left by a writer that was killed between its write and its rename. */
function removeDeadWritersTemps(file: string): void {
  const prefix = `${path.basename(file)}.tmp-`;
  for (const name of fs.readdirSync(path.dirname(file))) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(name.slice(prefix.length).split('-')[0]);
    if (pid === process.pid || pidAlive(pid)) continue;
    fs.rmSync(path.join(path.dirname(file), name), { force: true });
  }
}
