import { createHash, randomBytes } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';

/**
 * Where the bytes that change on every save are: the header (page 1) and the `meta` table's page, which holds a
 * random id per save. Taken from our own copy; if another process's file is laid out differently the probe differs,
 * which only costs a reload.
 */
export interface Layout {
  pageSize: number;
  metaPage: number;
}

/**
 * What identifies one version of the file on disk. Inode, size and mtime alone are not enough: the inode of a
 * replaced file is reused by the next temp file (seen here on ext4), sizes are whole pages, and mtime may be
 * jiffy-grained, so a file replaced twice within a few milliseconds can look unchanged. `probe` hashes the header
 * and the meta page, which differ on every save.
 */
export interface DiskSignature {
  dev: number;
  ino: number;
  size: number;
  mtimeMs: number;
  probe: string;
}

export function sameSignature(a: DiskSignature | undefined, b: DiskSignature | undefined): boolean {
  if (!a || !b) return a === b;
  return a.dev === b.dev && a.ino === b.ino && a.size === b.size && a.mtimeMs === b.mtimeMs && a.probe === b.probe;
}

function probeOf(header: Uint8Array, metaPage: Uint8Array): string {
  return createHash('sha1').update(header).update(metaPage).digest('hex');
}

function metaRange(layout: Layout): [start: number, end: number] {
  const start = (layout.metaPage - 1) * layout.pageSize;
  return [start, start + layout.pageSize];
}

/** The signature of a file image held in memory (`st`: the stat of the file it was read from or written to). */
export function signatureOfBytes(st: fs.Stats, bytes: Uint8Array, layout: Layout): DiskSignature {
  const [start, end] = metaRange(layout);
  return { dev: st.dev, ino: st.ino, size: st.size, mtimeMs: st.mtimeMs, probe: probeOf(bytes.subarray(0, 100), bytes.subarray(start, end)) };
}

/** The file opened for reading, or `undefined` if it does not exist (other errors are thrown). */
export async function openIfExists(file: string): Promise<fs.promises.FileHandle | undefined> {
  try {
    return await fs.promises.open(file, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/**
 * The signature of the file on disk (reads only the header and the meta page), or `undefined` if it is missing.
 * Synchronous: a few tiny calls, cheaper than their round trips through libuv's thread pool (it runs at every save and
 * every poll for another process's saves; in the editor the store lives in a worker).
 */
export function statSignature(file: string, layout: Layout): DiskSignature | undefined {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  try {
    const st = fs.fstatSync(fd);
    const [start, end] = metaRange(layout);
    const header = Buffer.alloc(100);
    const page = Buffer.alloc(end - start);
    const h = fs.readSync(fd, header, 0, 100, 0);
    const m = fs.readSync(fd, page, 0, page.length, start);
    return { dev: st.dev, ino: st.ino, size: st.size, mtimeMs: st.mtimeMs, probe: probeOf(header.subarray(0, h), page.subarray(0, m)) };
  } finally {
    fs.closeSync(fd);
  }
}

/** Reads the file and its stat from one open handle (so they describe the same version), or `undefined` if missing. */
export async function readFile(file: string): Promise<{ bytes: Uint8Array; stat: fs.Stats } | undefined> {
  const fh = await openIfExists(file);
  if (!fh) return undefined;
  try {
    const stat = await fh.stat();
    const bytes = await fh.readFile();
    return { bytes: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), stat };
  } finally {
    await fh.close();
  }
}

const TEMP_MARK = '.tmp-';

/**
 * Writes `bytes` to `file` so that a reader (or a crash at any instant) sees either the old file or the new one,
 * never a mix: a temp file in the same folder, fsync, rename over the file, fsync the folder (where the OS allows it).
 */
export async function writeAtomic(file: string, bytes: Uint8Array): Promise<fs.Stats> {
  const temp = `${file}${TEMP_MARK}${process.pid}-${randomBytes(4).toString('hex')}`;
  let fh: fs.promises.FileHandle | undefined = await fs.promises.open(temp, 'wx', 0o644);
  try {
    let written = 0;
    while (written < bytes.byteLength) {
      const { bytesWritten } = await fh.write(bytes, written, bytes.byteLength - written);
      written += bytesWritten;
    }
    await fh.sync();
    // rename keeps the inode, size and mtime, so this is the stat of the file once it is in place
    const stat = await fh.stat();
    await fh.close();
    fh = undefined;
    await renameWithRetry(temp, file);
    await syncDirectory(path.dirname(file));
    return stat;
  } catch (e) {
    await fh?.close().catch(() => undefined);
    await fs.promises.unlink(temp).catch(() => undefined);
    throw e;
  }
}

// Windows refuses to replace a file another process has open (a virus scanner, a reader mid-read) for a moment.
async function renameWithRetry(from: string, to: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fs.promises.rename(from, to);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if ((code !== 'EPERM' && code !== 'EBUSY' && code !== 'EACCES') || attempt >= 20 || process.platform !== 'win32') throw e;
      await new Promise(r => setTimeout(r, 10 + attempt * 10));
    }
  }
}

/** Makes the rename durable. Not possible on Windows (opening a folder fails), where NTFS journals renames anyway. */
async function syncDirectory(dir: string): Promise<void> {
  let fh: fs.promises.FileHandle | undefined;
  try {
    fh = await fs.promises.open(dir, 'r');
    await fh.sync();
  } catch {
    // EISDIR / EPERM / EINVAL on platforms without directory fsync
  } finally {
    await fh?.close().catch(() => undefined);
  }
}

/** True if a process with this id exists (on this machine). */
export function pidAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes temp files that writers killed mid-save left beside `files` (all in one folder; only those of processes
 * that no longer exist). Synchronous: one small readdir per save, usually nothing to remove.
 */
export function removeOrphanTemps(...files: string[]): void {
  const dir = path.dirname(files[0]);
  const prefixes = files.map(f => path.basename(f) + TEMP_MARK);
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const prefix = prefixes.find(p => name.startsWith(p));
    if (!prefix) continue;
    const pid = Number(name.slice(prefix.length).split('-')[0]);
    if (pid === process.pid || pidAlive(pid)) continue;
    try {
      fs.unlinkSync(path.join(dir, name));
    } catch {
      // removed by another process meanwhile
    }
  }
}

const SQLITE_MAGIC = 'SQLite format 3\0';

/** Cheap structural checks of an SQLite file image; the reason it is unusable, or `undefined` if it looks whole. */
export function headerProblem(bytes: Uint8Array): string | undefined {
  if (bytes.byteLength === 0) return 'the file is empty (0 bytes)';
  if (bytes.byteLength < 100 || Buffer.from(bytes.buffer, bytes.byteOffset, 16).toString('latin1') !== SQLITE_MAGIC) {
    return `not an SQLite database: the file (${bytes.byteLength} bytes) does not start with the SQLite header`;
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pageSize = view.getUint16(16);
  if (pageSize === 1) pageSize = 65536;
  if (pageSize < 512 || pageSize > 65536 || (pageSize & (pageSize - 1)) !== 0) return `the header has an invalid page size (${pageSize})`;
  if (bytes.byteLength % pageSize !== 0) {
    return `the file is truncated: ${bytes.byteLength} bytes is not a whole number of ${pageSize}-byte pages`;
  }
  const changeCounter = view.getUint32(24);
  const pageCount = view.getUint32(28);
  const validFor = view.getUint32(92);
  // The page count in the header is only meaningful when it was written by the same transaction as the counter.
  if (validFor === changeCounter && pageCount > 0 && bytes.byteLength < pageCount * pageSize) {
    return `the file is truncated: ${bytes.byteLength} bytes, but its header says ${pageCount} pages of ${pageSize} bytes (${pageCount * pageSize} bytes)`;
  }
  return undefined;
}

/**
 * Keeps a copy of a damaged store next to it (`<file>.corrupt-<timestamp>`), from the bytes that were read, and returns
 * its path. If an identical copy is already there (the same damaged file opened again) that one is returned.
 */
export async function keepCorruptCopy(file: string, bytes: Uint8Array): Promise<string | undefined> {
  const dir = path.dirname(file);
  const base = path.basename(file) + '.corrupt-';
  const digest = createHash('sha256').update(bytes).digest('hex');
  try {
    for (const name of await fs.promises.readdir(dir)) {
      if (!name.startsWith(base)) continue;
      const candidate = path.join(dir, name);
      const st = await fs.promises.stat(candidate);
      if (st.size !== bytes.byteLength) continue;
      if (createHash('sha256').update(await fs.promises.readFile(candidate)).digest('hex') === digest) return candidate;
    }
  } catch {
    // fall through and try to write a new copy
  }
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  for (let n = 0; n < 100; n++) {
    const candidate = path.join(dir, base + stamp + (n ? `-${n}` : ''));
    try {
      await fs.promises.writeFile(candidate, bytes, { flag: 'wx' });
      return candidate;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') return undefined;
    }
  }
  return undefined;
}
