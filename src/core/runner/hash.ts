/**
 * sha256 of files and folders, streamed (a 10 GB dataset file is never held in memory).
 *
 * Only regular files are read, and that is checked on the opened descriptor (a path can be swapped between a stat
 * and an open): a symbolic link to `/dev/zero` or a FIFO would otherwise be read forever. The open itself is
 * non-blocking, because opening a FIFO with no writer blocks until one appears. What is hashed can be bounded in
 * bytes, files and time, and cancelled, so a run always ends.
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as fsp from 'fs/promises';
import * as path from 'path';
import { isInside } from './paths';

export interface FileHash {
  sha256: string;
  sizeBytes: number;
}

/** Bounds on what one {@link hashPath} call reads. Every field is optional (no bound). */
export interface HashLimits {
  /** Refuse a file or folder larger than this (bytes, summed over a folder's files). */
  maxBytes?: number;
  /** Refuse a folder with more files than this. */
  maxFiles?: number;
  /** Give up at this wall-clock time (epoch ms). */
  deadline?: number;
  /** Give up when this is aborted (the user cancelled). */
  signal?: AbortSignal;
  /**
   * Follow symbolic links only when their target is inside this folder (absolute). A link leading outside is not
   * read: as the path itself, the hash is refused (`outside`); inside a folder, it is skipped and listed in `skipped`.
   */
  within?: string;
}

export type HashLimitCode = 'not-regular' | 'too-large' | 'too-many-files' | 'timeout' | 'cancelled' | 'outside';

/** Hashing stopped or was refused for a reason the user can act on; `message` says which file and why (English). */
export class HashLimitError extends Error {
  constructor(readonly code: HashLimitCode, message: string, /** For `not-regular`: what the path is, e.g. `a FIFO (named pipe)`. */ readonly what?: string) {
    super(message);
    this.name = 'HashLimitError';
  }
}

const CHUNK = 1024 * 1024;
// O_NONBLOCK does nothing for regular files; for a FIFO it makes the open return at once instead of waiting for a writer.
const OPEN_FLAGS = fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0);

/** Shared by the files of one folder: bytes and files so far, against the limits. */
interface Budget {
  limits: HashLimits;
  bytes: number;
}

function fileKind(st: fs.Stats): string {
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isSocket()) return 'a socket';
  if (st.isDirectory()) return 'a folder';
  return 'a special file';
}

export function formatBytes(n: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${n} bytes` : `${Number.isInteger(v) ? v : v.toFixed(1)} ${units[i]}`;
}

function checkTime(limits: HashLimits, what: string): void {
  if (limits.signal?.aborted) throw new HashLimitError('cancelled', `hashing ${what} was cancelled`);
  if (limits.deadline !== undefined && Date.now() > limits.deadline) throw new HashLimitError('timeout', `hashing ${what} took too long and was stopped`);
}

async function hashOne(absPath: string, budget: Budget): Promise<FileHash> {
  const { limits } = budget;
  checkTime(limits, absPath);
  const fh = await fsp.open(absPath, OPEN_FLAGS);
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new HashLimitError('not-regular', `${absPath} is ${fileKind(st)}, not a regular file; only regular files are hashed`, fileKind(st));
    if (limits.maxBytes !== undefined && budget.bytes + st.size > limits.maxBytes) {
      throw new HashLimitError('too-large', `${absPath} is larger than the hashing limit of ${formatBytes(limits.maxBytes)}`);
    }
    const h = createHash('sha256');
    const buf = Buffer.allocUnsafe(Math.min(CHUNK, Math.max(st.size, 1)));
    // Read what the file held when opened: a file that keeps growing (a leftover still writing) must not keep us here.
    let size = 0;
    while (size < st.size) {
      const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, st.size - size), null);
      if (bytesRead === 0) break;
      h.update(bytesRead === buf.length ? buf : buf.subarray(0, bytesRead));
      size += bytesRead;
      checkTime(limits, absPath);
    }
    budget.bytes += size;
    return { sha256: h.digest('hex'), sizeBytes: size };
  } finally {
    await fh.close();
  }
}

/** sha256 (hex) and size of one regular file, streamed. Rejects with the fs error (ENOENT, …) or a {@link HashLimitError}. */
export function hashFile(absPath: string, limits: HashLimits = {}): Promise<FileHash> {
  return hashOne(absPath, { limits, bytes: 0 });
}

/**
 * Every regular file below `dir` (following symbolic links to files and folders, only inside `within` when it is
 * given), as sorted `/`-paths relative to `dir`. Links that lead outside `within` are listed in `skipped`.
 */
export async function listFiles(dir: string, within?: string): Promise<string[]> {
  return (await walkFiles(dir, { within })).files;
}

async function walkFiles(dir: string, limits: HashLimits): Promise<{ files: string[]; skipped: string[] }> {
  const out: string[] = [];
  const skipped: string[] = [];
  const visited = new Set<string>();
  const within = limits.within === undefined ? undefined : await fsp.realpath(limits.within).catch(() => limits.within!);
  async function walk(abs: string, rel: string): Promise<void> {
    checkTime(limits, dir);
    const real = await fsp.realpath(abs);
    if (visited.has(real)) return; // symlink loop
    visited.add(real);
    for (const entry of await fsp.readdir(abs, { withFileTypes: true })) {
      const childAbs = path.join(abs, entry.name);
      const childRel = rel === '' ? entry.name : `${rel}/${entry.name}`;
      let isDir = entry.isDirectory();
      let isFile = entry.isFile();
      if (entry.isSymbolicLink()) {
        const target = await fsp.realpath(childAbs).catch(() => undefined);
        if (target !== undefined && within !== undefined && !isInside(within, target)) {
          skipped.push(childRel);
          continue;
        }
        const st = target === undefined ? undefined : await fsp.stat(target).catch(() => undefined);
        isDir = st?.isDirectory() ?? false;
        isFile = st?.isFile() ?? false;
      }
      if (isDir) await walk(childAbs, childRel);
      else if (isFile) {
        out.push(childRel);
        if (limits.maxFiles !== undefined && out.length > limits.maxFiles) {
          throw new HashLimitError('too-many-files', `${dir} has more than ${limits.maxFiles} files, the hashing limit`);
        }
      }
    }
  }
  await walk(dir, '');
  return { files: out.sort(compareCodeUnits), skipped: skipped.sort(compareCodeUnits) };
}

/** Plain code-unit order (locale-independent, so a fingerprint is the same on every machine). */
export function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Combine per-file hashes into one: sha256 over `<relative path>\0<sha256 hex>\n` for each file in code-unit
 * order of the paths. Any change to a path, a byte of content, or the set of files changes the result.
 */
export function combineHashes(entries: Array<{ path: string; sha256: string }>): string {
  const h = createHash('sha256');
  for (const e of [...entries].sort((a, b) => compareCodeUnits(a.path, b.path))) h.update(`${e.path}\0${e.sha256}\n`);
  return h.digest('hex');
}

/**
 * sha256 and size of a file, or of a folder (every file below it, combined with {@link combineHashes}; the size
 * is the sum), within `limits`. `skipped`: links inside the folder that lead outside `limits.within`.
 */
export async function hashPath(absPath: string, limits: HashLimits = {}): Promise<FileHash & { files?: number; skipped?: string[] }> {
  if (limits.within !== undefined) {
    const [real, within] = await Promise.all([fsp.realpath(absPath), fsp.realpath(limits.within).catch(() => limits.within!)]);
    if (!isInside(within, real)) throw new HashLimitError('outside', `${absPath} is a link to ${real}, outside ${limits.within}; only links inside it are followed`);
  }
  const st = await fsp.stat(absPath);
  const budget: Budget = { limits, bytes: 0 };
  if (!st.isDirectory()) return hashOne(absPath, budget);
  const entries: Array<{ path: string; sha256: string }> = [];
  const { files, skipped } = await walkFiles(absPath, limits);
  for (const rel of files) {
    const fh = await hashOne(path.join(absPath, ...rel.split('/')), budget);
    entries.push({ path: rel, sha256: fh.sha256 });
  }
  return { sha256: combineHashes(entries), sizeBytes: budget.bytes, files: entries.length, ...(skipped.length ? { skipped } : {}) };
}
