/**
 * The workspace as a Ray working-directory package: a zip uploaded once to the cluster (`PUT /api/packages/gcs/…`)
 * and named by the SHA-1 of its bytes, as Ray's own SDK names packages, so an unchanged workspace is not uploaded
 * again. The zip is deterministic (sorted entries, fixed timestamps) for that reason.
 */
import { execFile } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import * as zlib from 'zlib';
import { t } from '../l10n';

/** Never shipped: run records, version control, installed dependencies (the cluster has its own), caches. */
const ALWAYS_EXCLUDED = new Set(['.edd', '.git', 'node_modules', '.venv', 'venv', '__pycache__', '.mypy_cache', '.pytest_cache']);

/** Ray keeps packages in its GCS, whose limit is gRPC's message size (512 MiB); stay well below it. */
export const MAX_PACKAGE_BYTES = 256 * 1024 * 1024;

/**
 * The workspace's files, `/`-relative and sorted: in a git repository what git would track (`.gitignore` applies,
 * untracked files that are not ignored included), elsewhere every regular file outside the always-excluded folders.
 * Symbolic links are not followed (a link to a dataset elsewhere would otherwise be uploaded whole).
 */
export async function workspaceFiles(root: string): Promise<string[]> {
  const fromGit = await new Promise<string[] | undefined>(resolve => {
    execFile('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: root, maxBuffer: 256 * 1024 * 1024 }, (err, stdout) => {
      resolve(err ? undefined : stdout.split('\0').filter(Boolean));
    });
  });
  const keep = (rel: string) => !rel.split('/').some(part => ALWAYS_EXCLUDED.has(part));
  if (fromGit) {
    const files: string[] = [];
    for (const rel of fromGit.filter(keep)) {
      // Tracked but deleted, or a link: not part of the package.
      const st = await fs.promises.lstat(path.join(root, rel)).catch(() => undefined);
      if (st?.isFile()) files.push(rel);
    }
    return files.sort();
  }
  const out: string[] = [];
  const walk = async (abs: string, rel: string) => {
    for (const entry of await fs.promises.readdir(abs, { withFileTypes: true })) {
      if (ALWAYS_EXCLUDED.has(entry.name)) continue;
      const childRel = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) await walk(path.join(abs, entry.name), childRel);
      else if (entry.isFile()) out.push(childRel);
    }
  };
  await walk(root, '');
  return out.sort();
}

interface Entry {
  name: Buffer;
  crc: number;
  size: number;
  compressed: number;
  method: number;
  offset: number;
}

// 1980-01-01 00:00 in DOS time: the same bytes for the same files, whenever they were written.
const DOS_TIME = 0;
const DOS_DATE = (0 << 9) | (1 << 5) | 1;

/** A zip of `files` (paths relative to `root`); deflated, or stored when deflate does not help. ZIP64 is not needed below 4 GiB. */
export async function zipFiles(root: string, files: readonly string[]): Promise<Buffer> {
  const parts: Buffer[] = [];
  const entries: Entry[] = [];
  let offset = 0;
  let total = 0;
  for (const rel of files) {
    const data = await fs.promises.readFile(path.join(root, rel));
    total += data.length;
    if (total > MAX_PACKAGE_BYTES) {
      throw new Error(t('The workspace is larger than {0} MiB, too large to send to the Ray cluster as its working directory. Add the large files (data, checkpoints) to .gitignore and read them on the cluster from shared storage.', MAX_PACKAGE_BYTES / 1048576));
    }
    const deflated = zlib.deflateRawSync(data);
    const method = deflated.length < data.length ? 8 : 0;
    const body = method === 8 ? deflated : data;
    const name = Buffer.from(rel, 'utf8');
    const entry: Entry = { name, crc: zlib.crc32(data), size: data.length, compressed: body.length, method, offset };
    const header = Buffer.alloc(30);
    header.writeUInt32LE(0x04034b50, 0);
    header.writeUInt16LE(20, 4); // version needed
    header.writeUInt16LE(0x0800, 6); // UTF-8 names
    header.writeUInt16LE(method, 8);
    header.writeUInt16LE(DOS_TIME, 10);
    header.writeUInt16LE(DOS_DATE, 12);
    header.writeUInt32LE(entry.crc, 14);
    header.writeUInt32LE(entry.compressed, 18);
    header.writeUInt32LE(entry.size, 22);
    header.writeUInt16LE(name.length, 26);
    header.writeUInt16LE(0, 28);
    parts.push(header, name, body);
    offset += header.length + name.length + body.length;
    entries.push(entry);
  }
  const centralStart = offset;
  for (const e of entries) {
    const c = Buffer.alloc(46);
    c.writeUInt32LE(0x02014b50, 0);
    c.writeUInt16LE((3 << 8) | 20, 4); // made by: Unix, 2.0 (so the mode below is read)
    c.writeUInt16LE(20, 6);
    c.writeUInt16LE(0x0800, 8);
    c.writeUInt16LE(e.method, 10);
    c.writeUInt16LE(DOS_TIME, 12);
    c.writeUInt16LE(DOS_DATE, 14);
    c.writeUInt32LE(e.crc, 16);
    c.writeUInt32LE(e.compressed, 20);
    c.writeUInt32LE(e.size, 24);
    c.writeUInt16LE(e.name.length, 28);
    c.writeUInt16LE(0, 30);
    c.writeUInt16LE(0, 32);
    c.writeUInt16LE(0, 34);
    c.writeUInt16LE(0, 36);
    c.writeUInt32LE((0o100644 << 16) >>> 0, 38);
    c.writeUInt32LE(e.offset, 42);
    parts.push(c, e.name);
    offset += c.length + e.name.length;
  }
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(offset - centralStart, 12);
  end.writeUInt32LE(centralStart, 16);
  parts.push(end);
  return Buffer.concat(parts);
}

/** The workspace zipped, with the content-addressed URI Ray expects (`gcs://_ray_pkg_<sha1>.zip`). */
export async function workspacePackage(root: string): Promise<{ uri: string; zip: Buffer; files: number }> {
  const files = await workspaceFiles(root);
  const zip = await zipFiles(root, files);
  const sha1 = crypto.createHash('sha1').update(zip).digest('hex');
  return { uri: `gcs://_ray_pkg_${sha1}.zip`, zip, files: files.length };
}
