/**
 * Launch records: what an `edd run` that starts its training before its store is open writes first, beside the store
 * file (`<store folder>/launching/<run id>.json`): the run as it will be recorded, with its owner. If that process dies
 * before the run is in the store, the next process that opens the store finds the record, stops the training by its
 * `EDD_RUN_ID` and records the run `interrupted` from it (recover.ts). Removed once the run is saved.
 *
 * Kept apart from recover.ts so that `edd runs` in a folder without a store can look for them cheaply.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { ExperimentInput, NewRun } from '../store';

export interface LaunchRecord {
  /** File name of the store the run goes into (several stores may share a folder). */
  store: string;
  experiment: ExperimentInput;
  run: NewRun & { id: string; ownerPid: number | null; ownerStartTime: number | null; ownerHost: string | null };
}

function launchFolder(storeFile: string): string {
  return path.join(path.dirname(path.resolve(storeFile)), 'launching');
}

/**
 * Writes the launch record of a run that is about to start (to a temporary name, then renamed: a reader never sees
 * half of one). Not fsynced: it only has to outlive this process, and a power cut ends the training with it.
 * Returns the file, for {@link removeLaunchRecord}.
 */
export async function writeLaunchRecord(storeFile: string, record: Omit<LaunchRecord, 'store'>): Promise<string> {
  const folder = launchFolder(storeFile);
  const file = path.join(folder, `${record.run.id}.json`);
  const temp = `${file}.${process.pid}.tmp`;
  const text = JSON.stringify({ store: path.basename(storeFile), ...record } satisfies LaunchRecord);
  await fs.promises.mkdir(folder, { recursive: true });
  await fs.promises.writeFile(temp, text);
  await fs.promises.rename(temp, file);
  return file;
}

export async function removeLaunchRecord(file: string): Promise<void> {
  await fs.promises.rm(file, { force: true });
}

/** The launch record files beside `storeFile` (of any store in that folder); usually none: the folder does not exist. */
export function launchRecordFiles(storeFile: string): string[] {
  const folder = launchFolder(storeFile);
  try {
    return fs.readdirSync(folder).filter(n => n.endsWith('.json')).map(n => path.join(folder, n));
  } catch {
    return [];
  }
}

/** The record in `file`, or undefined when it is gone (its run was saved meanwhile) or not a launch record. */
export function readLaunchRecord(file: string): LaunchRecord | undefined {
  try {
    const record = JSON.parse(fs.readFileSync(file, 'utf8')) as LaunchRecord;
    return typeof record?.store === 'string' && typeof record.run?.id === 'string' ? record : undefined;
  } catch {
    return undefined;
  }
}
