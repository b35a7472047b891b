/**
 * The run's process tree on Linux, from /proc: descendants (for memory and for stopping processes that left the
 * process group), their resident memory, and their start time (so a recorded pid that the kernel has since
 * reused for an unrelated process is never signalled).
 *
 * Everything degrades to "unknown" (`undefined`, empty lists) where /proc is not available.
 */
import * as fs from 'fs';

export interface ProcInfo {
  pid: number;
  ppid: number;
  pgrp: number;
  /** One-letter state (`R`, `S`, `Z` zombie, …). */
  state: string;
  /** Start time in clock ticks since boot: (pid, startTime) identifies a process for its whole life. */
  startTime: number;
  rssBytes: number;
}

export const procfsAvailable: boolean = process.platform === 'linux' && fs.existsSync('/proc/self/stat');

/** /proc/<pid>/task/<tid>/children exists (CONFIG_PROC_CHILDREN); otherwise the tree comes from a full scan. */
const childrenFiles: boolean = procfsAvailable && fs.existsSync(`/proc/${process.pid}/task/${process.pid}/children`);

let pageSizeCache: number | undefined;

/** The kernel page size, derived from this process's own RSS (Node has no sysconf); 4096 if unsure. */
export function pageSize(): number {
  if (pageSizeCache !== undefined) return pageSizeCache;
  pageSizeCache = 4096;
  try {
    const pages = Number(fs.readFileSync('/proc/self/statm', 'utf8').split(' ')[1]);
    const rss = process.memoryUsage().rss;
    if (pages > 0) {
      const ratio = rss / pages;
      let best = 4096;
      for (const candidate of [4096, 16384, 65536]) if (Math.abs(Math.log2(ratio / candidate)) < Math.abs(Math.log2(ratio / best))) best = candidate;
      pageSizeCache = best;
    }
  } catch {
    /* keep 4096 */
  }
  return pageSizeCache;
}

/** Parse /proc/<pid>/stat; `undefined` if the process does not exist (or /proc is unavailable). */
export function readProcStat(pid: number): ProcInfo | undefined {
  if (!procfsAvailable) return undefined;
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // "pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime cutime cstime
  //  priority nice num_threads itrealvalue starttime vsize rss …"; comm may contain spaces and parentheses.
  const close = text.lastIndexOf(')');
  if (close < 0) return undefined;
  const f = text.slice(close + 2).split(' ');
  // f[0] is field 3 (state): field n is f[n - 3].
  return {
    pid,
    state: f[0],
    ppid: Number(f[1]),
    pgrp: Number(f[2]),
    startTime: Number(f[19]),
    rssBytes: Number(f[21]) * pageSize(),
  };
}

/** Peak resident set size (VmHWM) of one process in bytes, if known. */
export function readPeakRss(pid: number): number | undefined {
  if (!procfsAvailable) return undefined;
  try {
    const m = /^VmHWM:\s+(\d+)\s*kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

function childrenOf(pid: number): number[] {
  const out: number[] = [];
  let tids: string[];
  try {
    tids = fs.readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      for (const c of fs.readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').split(' ')) if (c !== '' && c !== '\n') out.push(Number(c));
    } catch {
      /* thread gone */
    }
  }
  return out;
}

/** The pids in /proc (empty when it cannot be read). */
function procPids(): number[] {
  let names: string[];
  try {
    names = fs.readdirSync('/proc');
  } catch {
    return [];
  }
  return names.filter(n => /^\d+$/.test(n)).map(Number);
}

function allProcesses(): ProcInfo[] {
  const out: ProcInfo[] = [];
  for (const pid of procPids()) {
    const info = readProcStat(pid);
    if (info) out.push(info);
  }
  return out;
}

/**
 * `rootPid` and all its living descendants (by parent links), root first. With the full-scan fallback, members of
 * the root's process group whose parent has died are included too. Empty when the root is gone or /proc is
 * unavailable.
 */
export function processTree(rootPid: number): ProcInfo[] {
  const root = readProcStat(rootPid);
  if (!root) return [];
  const out: ProcInfo[] = [root];
  const seen = new Set<number>([rootPid]);
  if (childrenFiles) {
    for (let i = 0; i < out.length; i++) {
      for (const c of childrenOf(out[i].pid)) {
        if (seen.has(c)) continue;
        const info = readProcStat(c);
        if (!info) continue;
        seen.add(c);
        out.push(info);
      }
    }
    return out;
  }
  const all = allProcesses();
  const byParent = new Map<number, ProcInfo[]>();
  for (const p of all) {
    const list = byParent.get(p.ppid);
    if (list) list.push(p);
    else byParent.set(p.ppid, [p]);
  }
  for (let i = 0; i < out.length; i++) {
    for (const c of byParent.get(out[i].pid) ?? []) {
      if (seen.has(c.pid)) continue;
      seen.add(c.pid);
      out.push(c);
    }
  }
  for (const p of all) {
    if (p.pgrp === rootPid && !seen.has(p.pid)) {
      seen.add(p.pid);
      out.push(p);
    }
  }
  return out;
}

/** True when (pid, startTime) still names a living, non-zombie process. */
export function stillAlive(pid: number, startTime: number): boolean {
  const info = readProcStat(pid);
  return info !== undefined && info.startTime === startTime && info.state !== 'Z' && info.state !== 'X';
}

/** This process and its ancestors: never signalled by a sweep, whatever their environment says. */
function selfAndAncestors(): Set<number> {
  const out = new Set<number>([process.pid]);
  let pid = process.ppid;
  while (pid > 1 && !out.has(pid)) {
    out.add(pid);
    const info = readProcStat(pid);
    if (!info) break;
    pid = info.ppid;
  }
  return out;
}

/**
 * Living processes whose environment names `runId` as `EDD_RUN_ID`: the runner sets it for the training, and every
 * descendant inherits it even after leaving the process group, the session or the parent (double fork, `setsid`,
 * `nohup … &`). Only same-user processes are found (others' environments are unreadable), and never this process or
 * its ancestors (an `edd` started from inside a training carries its id too). Empty without /proc.
 */
export function processesOfRun(runId: string): ProcInfo[] {
  if (!procfsAvailable || runId === '' || runId.includes('\0')) return [];
  const needle = Buffer.from(`EDD_RUN_ID=${runId}\0`);
  const spared = selfAndAncestors();
  const out: ProcInfo[] = [];
  for (const pid of procPids()) {
    if (spared.has(pid)) continue;
    let env: Buffer;
    try {
      env = fs.readFileSync(`/proc/${pid}/environ`);
    } catch {
      continue; // another user's process, or gone
    }
    const at = env.indexOf(needle);
    if (at < 0 || (at > 0 && env[at - 1] !== 0)) continue;
    const info = readProcStat(pid);
    if (info && info.state !== 'Z' && info.state !== 'X') out.push(info);
  }
  return out;
}
