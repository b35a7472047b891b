/**
 * Stopping what is left of a run: every process that carries the run's `EDD_RUN_ID` (see `processesOfRun`), however it
 * left the process tree. Used at the end of a run, on cancel and timeout, and by the recovery sweep for runs whose
 * owner died.
 */
import { processesOfRun, stillAlive, type ProcInfo } from './procfs';

const delay = (ms: number) => new Promise<void>(resolve => setTimeout(resolve, ms));

function signal(list: readonly ProcInfo[], sig: NodeJS.Signals): void {
  for (const p of list) {
    // (pid, start time) checked right before the signal: a pid the kernel reused for something else is left alone.
    if (!stillAlive(p.pid, p.startTime)) continue;
    try {
      process.kill(p.pid, sig);
    } catch {
      /* gone, or not ours */
    }
  }
}

/**
 * SIGTERM every process of the run, SIGKILL what is still there after `graceMs`, and wait (up to `killWaitMs`) for
 * them to go. Returns the pids that were found. Processes that appear while stopping (a forking leftover) are
 * picked up by the rescans.
 */
export async function stopRunProcesses(runId: string, options: { graceMs?: number; killWaitMs?: number } = {}): Promise<number[]> {
  const found = new Map<number, ProcInfo>();
  const scan = () => {
    const now = processesOfRun(runId);
    for (const p of now) found.set(p.pid, p);
    return now;
  };
  let live = scan();
  if (live.length === 0) return [];
  const waitGone = async (ms: number, sig: NodeJS.Signals) => {
    const deadline = Date.now() + ms;
    const sent = new Set<string>();
    for (;;) {
      // Each process gets the signal once (a second SIGTERM would interrupt its own clean-up).
      const fresh = live.filter(p => !sent.has(`${p.pid}:${p.startTime}`));
      for (const p of fresh) sent.add(`${p.pid}:${p.startTime}`);
      signal(fresh, sig);
      await delay(25);
      live = scan();
      if (live.length === 0 || Date.now() >= deadline) return live.length === 0;
    }
  };
  if (!(await waitGone(options.graceMs ?? 5000, 'SIGTERM'))) await waitGone(options.killWaitMs ?? 2000, 'SIGKILL');
  return [...found.keys()];
}
