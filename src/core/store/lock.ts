import { randomUUID } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import { StoreLockError } from './errors';
import { pidAlive } from './fileio';

// An advisory lock between the processes that write one store (the extension, any number of CLIs): the file
// `<store>.lock`, created with O_EXCL, holding who took it. It is held only for a save's read-merge-write (tens to
// hundreds of milliseconds), never while the store is merely open. A holder that died (kill -9, crash, power loss)
// leaves the file behind; it is broken when its process is gone or when it is older than `staleMs`. A live holder
// rewrites its `time` every `staleMs / 3` while it holds the lock, so a save that takes long (a big first migration,
// a slow disk) is never taken for an abandoned one, and another host cannot break it.

/** The content of a lock file. */
export interface LockInfo {
  pid: number;
  hostname: string;
  /** When it was taken (epoch ms). */
  time: number;
  token: string;
}

export interface LockOptions {
  timeoutMs: number;
  staleMs: number;
}

/** A lock file that cannot be parsed is one whose writer died between creating it and writing it. */
const UNREADABLE_GRACE_MS = 1000;

export class FileLock {
  private refresher: NodeJS.Timeout | undefined;
  /** The refresh in flight, awaited by `release` so it cannot write the file after the release removed it. */
  private refreshing: Promise<void> = Promise.resolve();

  private constructor(readonly lockPath: string, private content: string, private readonly info: LockInfo, staleMs: number) {
    this.refresher = setInterval(() => {
      this.refreshing = this.refreshing.then(() => this.refresh());
    }, Math.max(10, Math.floor(staleMs / 3)));
    this.refresher.unref();
  }

  /** Writes a new `time` into the lock file if it is still ours. */
  private async refresh(): Promise<void> {
    const content = JSON.stringify({ ...this.info, time: Date.now() } satisfies LockInfo);
    try {
      if ((await fs.promises.readFile(this.lockPath, 'utf8')) !== this.content) return; // broken and retaken: not ours to touch
      // Written beside and renamed over: a reader never sees the file truncated and half written (an empty lock
      // would look unreadable to another process deciding whether it is abandoned).
      const temp = `${this.lockPath}.${this.info.token}.tmp`;
      await fs.promises.writeFile(temp, content);
      await fs.promises.rename(temp, this.lockPath).catch(async e => {
        await fs.promises.unlink(temp).catch(() => undefined);
        throw e;
      });
      this.content = content;
    } catch {
      // released or broken meanwhile
    }
  }

  /** Takes the lock, waiting (polling with backoff) up to `timeoutMs` for a live holder to release it. */
  static async acquire(lockPath: string, storeFile: string, options: LockOptions): Promise<FileLock> {
    const info: LockInfo = { pid: process.pid, hostname: os.hostname(), time: Date.now(), token: randomUUID() };
    const content = JSON.stringify(info);
    const started = Date.now();
    let delay = 2;
    for (;;) {
      // Synchronous: three tiny calls, where a round trip each through libuv's thread pool cost more than the calls.
      try {
        const fd = fs.openSync(lockPath, 'wx', 0o644);
        try {
          fs.writeSync(fd, content);
        } finally {
          fs.closeSync(fd);
        }
        return new FileLock(lockPath, content, info, options.staleMs);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      const holder = await readLock(lockPath);
      if (holder === undefined) continue; // released between our attempt and the read
      if (isStale(holder, options.staleMs)) {
        await breakLock(lockPath, holder.raw);
        continue;
      }
      const waited = Date.now() - started;
      if (waited >= options.timeoutMs) throw new StoreLockError(storeFile, lockPath, describeHolder(holder), waited);
      await new Promise(r => setTimeout(r, delay + Math.random() * delay));
      delay = Math.min(delay * 1.5, 50);
    }
  }

  /** Releases the lock if it is still ours (a lock broken as stale and retaken by someone else is left alone). */
  async release(): Promise<void> {
    clearInterval(this.refresher);
    this.refresher = undefined;
    await this.refreshing;
    try {
      if (fs.readFileSync(this.lockPath, 'utf8') === this.content) fs.unlinkSync(this.lockPath);
    } catch {
      // already gone
    }
  }
}

interface Holder {
  raw: string;
  info: LockInfo | undefined;
  mtimeMs: number;
}

async function readLock(lockPath: string): Promise<Holder | undefined> {
  try {
    const [raw, st] = await Promise.all([fs.promises.readFile(lockPath, 'utf8'), fs.promises.stat(lockPath)]);
    let info: LockInfo | undefined;
    try {
      const parsed = JSON.parse(raw) as LockInfo;
      if (typeof parsed.pid === 'number' && typeof parsed.time === 'number') info = parsed;
    } catch {
      info = undefined;
    }
    return { raw, info, mtimeMs: st.mtimeMs };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/** Whether a lock's holder is gone: its process no longer exists (same machine), or it is older than `staleMs`. */
export function isStale(holder: { info: LockInfo | undefined; mtimeMs: number }, staleMs: number, now = Date.now()): boolean {
  const { info } = holder;
  if (!info) return now - holder.mtimeMs > UNREADABLE_GRACE_MS;
  if (info.hostname === os.hostname() && !pidAlive(info.pid)) return true;
  return now - info.time > staleMs;
}

// Two processes can find the same stale lock at once. Deleting it outright would let the slower one delete the lock the
// faster one has just taken, so the stale file is renamed to a unique name first and checked: if what was moved is not
// the stale content, it was a fresh lock and it is put back (link fails if a third process took the lock meanwhile).
async function breakLock(lockPath: string, staleContent: string): Promise<void> {
  const aside = `${lockPath}.stale-${process.pid}-${randomUUID().slice(0, 8)}`;
  try {
    await fs.promises.rename(lockPath, aside);
  } catch {
    return; // someone else broke or released it
  }
  try {
    const moved = await fs.promises.readFile(aside, 'utf8');
    if (moved !== staleContent) await fs.promises.link(aside, lockPath).catch(() => undefined);
  } finally {
    await fs.promises.unlink(aside).catch(() => undefined);
  }
}

function describeHolder(h: Holder): string {
  if (!h.info) return 'an unknown process (the lock file is unreadable)';
  const age = Math.round((Date.now() - h.info.time) / 1000);
  const where = h.info.hostname === os.hostname() ? '' : ` on ${h.info.hostname}`;
  return `process ${h.info.pid}${where} (taken ${age} s ago)`;
}
