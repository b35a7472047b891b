/**
 * Runs whose owner died. A run is recorded by one process (an `edd run`, an editor's extension host); when that
 * process is killed (SIGKILL, a crash, a closed laptop lid that never came back) the run stays `running` forever and
 * its training — in its own session, so it survives — keeps the GPU busy. The next process that opens the store finds
 * such runs by their recorded owner (pid, process start time, host), stops every process still carrying the run's
 * `EDD_RUN_ID`, and records the run `interrupted`, keeping the points it wrote. A run whose training was started
 * before it was in the store (`edd run`) is found the same way by its launch record (launch.ts).
 */
import * as os from 'os';
import * as path from 'path';
import { t } from '../l10n';
import { procfsAvailable, readProcStat, stillAlive } from '../runner/procfs';
import { stopRunProcesses } from '../runner/reap';
import type { RunRecord, RunStore, RunSummary } from '../store';
import { launchRecordFiles, readLaunchRecord, removeLaunchRecord, type LaunchRecord } from './launch';

/** The owner fields of this process, for a run it is about to record. */
export function currentOwner(): Pick<RunRecord, 'ownerPid' | 'ownerStartTime' | 'ownerHost'> {
  return { ownerPid: process.pid, ownerStartTime: readProcStat(process.pid)?.startTime ?? null, ownerHost: os.hostname() };
}

/** True when `(pid, start time)` names a living process here; without /proc, whether the pid exists at all. */
function ownerAlive(pid: number, startTime: number | null): boolean {
  if (procfsAvailable && startTime !== null) return stillAlive(pid, startTime);
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * A queued or running run whose owner is known to be gone. A run without a recorded owner (written by an older EDD)
 * or owned on another host (a store on a shared disk) is never called orphaned: nothing here can tell.
 */
export function isOrphaned(run: Pick<RunRecord, 'status' | 'ownerPid' | 'ownerStartTime' | 'ownerHost'>): boolean {
  if (run.status !== 'queued' && run.status !== 'running') return false;
  if (run.ownerPid === null || run.ownerHost !== os.hostname()) return false;
  return !ownerAlive(run.ownerPid, run.ownerStartTime);
}

/** The store's runs left queued or running by an owner that is gone. */
export function orphanedRuns(store: RunStore): RunSummary[] {
  return [...store.listRuns({ status: 'running' }), ...store.listRuns({ status: 'queued' })].filter(isOrphaned);
}

/** The launch records of `store` whose owner is gone (usually none: the folder does not exist). */
export function orphanedLaunches(store: Pick<RunStore, 'file'>): { file: string; record: LaunchRecord }[] {
  const out: { file: string; record: LaunchRecord }[] = [];
  for (const file of launchRecordFiles(store.file)) {
    const record = readLaunchRecord(file);
    if (record?.store !== path.basename(store.file)) continue;
    if (isOrphaned({ status: 'running', ownerPid: record.run.ownerPid, ownerStartTime: record.run.ownerStartTime, ownerHost: record.run.ownerHost })) out.push({ file, record });
  }
  return out;
}

/** Whether {@link recoverInterruptedRuns} has anything to do. */
export function needsRecovery(store: RunStore): boolean {
  return orphanedLaunches(store).length > 0 || orphanedRuns(store).length > 0;
}

export interface RecoveredRun {
  run: RunRecord;
  /** Pids of the run's leftover processes that were stopped. */
  stopped: number[];
}

/**
 * Stops what is left of every orphaned run and records it `interrupted` (its metrics, params and artifacts stay),
 * then saves. Returns what it did; nothing when there was nothing to do. The store must be writable.
 */
export async function recoverInterruptedRuns(store: RunStore, options: { graceMs?: number } = {}): Promise<RecoveredRun[]> {
  const out: RecoveredRun[] = [];
  const launches = orphanedLaunches(store);
  for (const { record } of launches) {
    // A run already in the store was saved before its owner died: the orphaned runs below take care of it.
    if (store.getRun(record.run.id)) continue;
    const stopped = await stopRunProcesses(record.run.id, { graceMs: options.graceMs ?? 2000 });
    store.upsertExperiment(record.experiment);
    const run = store.createRun({
      ...record.run,
      status: 'interrupted',
      endedAt: Date.now(),
      error: t('The process that started this run (pid {0}) ended before it could record the run; the run was marked interrupted and its leftover processes were stopped.', record.run.ownerPid ?? '?'),
    });
    out.push({ run, stopped });
  }
  for (const r of orphanedRuns(store)) {
    const stopped = await stopRunProcesses(r.id, { graceMs: options.graceMs ?? 2000 });
    store.restoreFinalMetrics(r.id);
    const run = store.updateRun(r.id, {
      status: 'interrupted',
      endedAt: Date.now(),
      error: t('The process that recorded this run (pid {0}) ended before the run did; the run was marked interrupted and its leftover processes were stopped.', r.ownerPid ?? '?'),
    });
    out.push({ run, stopped });
  }
  if (out.length) await store.save();
  for (const { file } of launches) await removeLaunchRecord(file);
  return out;
}
