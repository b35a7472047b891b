import { isAscii } from 'buffer';
import { createHash } from 'crypto';
import * as fs from 'fs';
import { createRequire } from 'module';
import * as os from 'os';
import * as path from 'path';
import * as vm from 'vm';

// A V8 code cache for a CommonJS bundle of the CLI (`edd run`'s, dist/cli/run.cjs). The first run compiles the
// bundle as Node would and, once the code that matters has run (`codeCacheReady`, called by the bundle), saves what V8
// compiled — the bytecode of every function run so far — in the user's cache folder; later runs hand it back to V8,
// which then skips parsing and compiling those functions. Node 20 has no compile cache of its own (Node 22's
// `module.enableCompileCache()` does this for every module); `vm.Script`'s `cachedData` is the API under it.
//
// What keeps a cache from ever running other code than the file's:
// - its name carries a hash of the bundle's path and a SHA-256 of its content (a rebuilt or updated bundle gets a new
//   name: V8 itself compares only the source's length), of Node's and V8's versions and of the architecture (V8 also
//   refuses data made by another version or with other flags: the file is then remade);
// - the file holds a SHA-256 of the data and is used only when it matches: V8 does not check the data itself (a
//   damaged cache file made `node` abort with a fatal error while deserializing it);
// - it is read only from a folder of the user's own that nobody else may write to (owner = this user, no group or
//   other write permission), and only when the file itself is the user's; EDD creates the folder 0700 and the files
//   0600 (written to a temporary name, then renamed);
// - `EDD_CODE_CACHE=off` turns it off; `EDD_CACHE_DIR` names another folder (tests, read-only homes).
// Anything that goes wrong with the cache (no home, a full disk, a refused read) only means the bundle is compiled
// without it.

/** Bump when what is cached or how it is named changes. */
const FORMAT = 1;
/** A cache file: this, the SHA-256 of the data (32 bytes), the data (V8's). */
const MAGIC = Buffer.from('EDDCODE1', 'latin1');
const DIGEST_BYTES = 32;
const HOOK = Symbol.for('edd.codeCache');

/** How the bundle was compiled: with the cache (`used`), without one (`none`), V8 refused it (`rejected`), or `off`. */
export type CodeCacheStatus = 'used' | 'none' | 'rejected' | 'off';

/** The folder for code caches: `EDD_CACHE_DIR`, else the platform's per-user cache folder; undefined when turned off. */
export function codeCacheDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string | undefined {
  if ((env.EDD_CODE_CACHE ?? '').toLowerCase() === 'off') return undefined;
  if (env.EDD_CACHE_DIR) return path.resolve(env.EDD_CACHE_DIR);
  let home: string;
  try {
    home = os.homedir();
  } catch {
    return undefined; // no home (a user without a passwd entry, no HOME): no cache
  }
  if (platform === 'win32') return path.join(env.LOCALAPPDATA || path.join(home, 'AppData', 'Local'), 'edd', 'Cache', 'code');
  if (platform === 'darwin') return path.join(home, 'Library', 'Caches', 'edd', 'code');
  return path.join(env.XDG_CACHE_HOME || path.join(home, '.cache'), 'edd', 'code');
}

/** True when `stat` belongs to this user and nobody else may write to it (always true where there are no uids). */
function ownedAndPrivate(stat: fs.Stats): boolean {
  if (typeof process.getuid !== 'function') return true;
  return stat.uid === process.getuid() && (stat.mode & 0o022) === 0;
}

const hash = (text: string) => createHash('sha256').update(text).digest('hex');
const digest = (data: Uint8Array) => createHash('sha256').update(data).digest();

/** The cache file's name for this bundle and content: `<bundle>-<path hash>-<content and runtime hash>.v8`. */
export function codeCacheName(file: string, content: Uint8Array): string {
  const where = hash(path.resolve(file)).slice(0, 12);
  const what = hash(JSON.stringify([FORMAT, digest(content).toString('hex'), process.version, process.versions.v8, process.arch]));
  return `${path.basename(file).replace(/\.[^.]*$/, '')}-${where}-${what.slice(0, 32)}.v8`;
}

/** The cache's data; `damaged` when the file is there but its checksum does not match; undefined when none is usable. */
function readCache(dir: string, name: string): Buffer | 'damaged' | undefined {
  let file: Buffer;
  try {
    if (!ownedAndPrivate(fs.statSync(dir))) return undefined;
    const fd = fs.openSync(path.join(dir, name), 'r');
    try {
      if (!ownedAndPrivate(fs.fstatSync(fd))) return undefined;
      file = fs.readFileSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return undefined;
  }
  const head = MAGIC.length + DIGEST_BYTES;
  if (file.length <= head || !file.subarray(0, MAGIC.length).equals(MAGIC)) return 'damaged';
  const data = file.subarray(head);
  return digest(data).equals(file.subarray(MAGIC.length, head)) ? data : 'damaged';
}

function writeCache(dir: string, name: string, data: Buffer): void {
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    if (!ownedAndPrivate(fs.statSync(dir))) return;
    const target = path.join(dir, name);
    const temp = `${target}.${process.pid}.tmp`;
    fs.writeFileSync(temp, Buffer.concat([MAGIC, digest(data), data]), { mode: 0o600 });
    fs.renameSync(temp, target);
    // The caches of earlier builds of the same bundle (same path, other content) are of no more use.
    const prefix = name.slice(0, name.lastIndexOf('-') + 1);
    for (const f of fs.readdirSync(dir)) if (f !== name && f.startsWith(prefix) && f.endsWith('.v8')) fs.rmSync(path.join(dir, f), { force: true });
  } catch {
    // No cache this time: the next run compiles again.
  }
}

/**
 * Run the CommonJS bundle `file` in this process as `require` would, compiled with its code cache when there is a
 * valid one. Unless one was used, the bundle saves a cache when it calls `codeCacheReady()`.
 */
export function runWithCodeCache(file: string, env: NodeJS.ProcessEnv = process.env): CodeCacheStatus {
  const content = fs.readFileSync(file);
  // esbuild writes ASCII (other characters escaped), which decodes faster as Latin-1 than as UTF-8 (~1.5 ms here).
  const source = isAscii(content) ? content.toString('latin1') : content.toString('utf8');
  const dir = codeCacheDir(env);
  const name = dir === undefined ? '' : codeCacheName(file, content);
  const cache = dir === undefined ? undefined : readCache(dir, name);
  const cachedData = cache === 'damaged' ? undefined : cache;
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, { filename: file, cachedData });
  const status: CodeCacheStatus = dir === undefined ? 'off' : cache === 'damaged' || script.cachedDataRejected ? 'rejected' : cachedData === undefined ? 'none' : 'used';
  let saved = status === 'used' || status === 'off';
  (globalThis as Record<symbol, unknown>)[HOOK] = {
    ready(): void {
      if (saved || dir === undefined) return;
      saved = true;
      writeCache(dir, name, script.createCachedData());
    },
  };
  const wrapper = script.runInThisContext() as (exports: unknown, require: NodeRequire, module: unknown, filename: string, dirname: string) => void;
  const module = { exports: {}, filename: file, id: file, loaded: false };
  wrapper.call(module.exports, module.exports, createRequire(file), module, file, path.dirname(file));
  module.loaded = true;
  return status;
}

/**
 * Called by a bundle started by `runWithCodeCache` once the code worth caching has run (and before anything changes
 * V8's flags: a cache made after that is refused by a process that has not changed them). Does nothing otherwise.
 */
export function codeCacheReady(): void {
  (globalThis as Record<symbol, { ready?: () => void } | undefined>)[HOOK]?.ready?.();
}
