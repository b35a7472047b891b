// Helpers for tests that start real processes and check which of them are left.
import * as fs from 'fs';

const linux = process.platform === 'linux';

/** A living, non-zombie process. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  if (!linux) return true;
  try {
    return !/^\S+ \(.*\) [ZX]/.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

export async function until(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise(r => setTimeout(r, 10));
  }
}

/**
 * A node one-liner that starts a sleeper two forks away in its own session (the intermediate exits at once, so the
 * sleeper is re-parented and was never a descendant the runner saw) and prints the sleeper's pid.
 */
export const DOUBLE_FORK =
  "const c=require('child_process').spawn(process.execPath,['-e','setInterval(()=>{},1000)'],{detached:true,stdio:'ignore'});c.unref();console.log(c.pid)";

/** SIGKILL each of `pids` that is still there (the `after` hook of suites that start processes). */
export function killAll(pids: readonly number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone, as it should be */
    }
  }
}
