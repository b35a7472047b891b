/**
 * sha256 of files and folders, streamed (a 10 GB dataset file is never held in memory).
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as fsp from 'fs/promises';
import * as path from 'path';

export interface FileHash {
  sha256: string;
  sizeBytes: number;
}

/** sha256 (hex) and size of one file, streamed. Rejects with the fs error (ENOENT, EISDIR, …). */
export function hashFile(absPath: string): Promise<FileHash> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    let size = 0;
    const s = fs.createReadStream(absPath, { highWaterMark: 1024 * 1024 });
    s.on('data', (chunk: string | Buffer) => {
      const b = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      size += b.length;
      h.update(b);
    });
    s.on('error', reject);
    s.on('end', () => resolve({ sha256: h.digest('hex'), sizeBytes: size }));
  });
}

/** Every regular file below `dir` (following symbolic links to files and folders), as sorted `/`-paths relative to `dir`. */
export async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const visited = new Set<string>();
  async function walk(abs: string, rel: string): Promise<void> {
    const real = await fsp.realpath(abs);
    if (visited.has(real)) return; // symlink loop
    visited.add(real);
    for (const entry of await fsp.readdir(abs, { withFileTypes: true })) {
      const childAbs = path.join(abs, entry.name);
      const childRel = rel === '' ? entry.name : `${rel}/${entry.name}`;
      let isDir = entry.isDirectory();
      let isFile = entry.isFile();
      if (entry.isSymbolicLink()) {
        const st = await fsp.stat(childAbs).catch(() => undefined);
        isDir = st?.isDirectory() ?? false;
        isFile = st?.isFile() ?? false;
      }
      if (isDir) await walk(childAbs, childRel);
      else if (isFile) out.push(childRel);
    }
  }
  await walk(dir, '');
  return out.sort(compareCodeUnits);
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
 * is the sum).
 */
export async function hashPath(absPath: string): Promise<FileHash & { files?: number }> {
  const st = await fsp.stat(absPath);
  if (!st.isDirectory()) return hashFile(absPath);
  const entries: Array<{ path: string; sha256: string }> = [];
  let size = 0;
  for (const rel of await listFiles(absPath)) {
    const fh = await hashFile(path.join(absPath, ...rel.split('/')));
    entries.push({ path: rel, sha256: fh.sha256 });
    size += fh.sizeBytes;
  }
  return { sha256: combineHashes(entries), sizeBytes: size, files: entries.length };
}
