import * as fs from 'fs';
import * as path from 'path';
import { inert } from '../core/inert';
import { t } from '../core/l10n';
import { orphanedRuns, recoverInterruptedRuns } from '../core/runs/recover';
import { RunStore, StoreError, type RunStoreOptions } from '../core/store';
import { UsageError, usageErrorFrom, type Io } from './io';

/** The store file of the store commands: `--store PATH`, default `.edd/edd.sqlite` under the current folder. */
export function storePath(io: Io, explicit: string | undefined): string {
  return path.resolve(io.cwd, explicit ?? RunStore.DEFAULT_RELATIVE_PATH);
}

/** The store file, which must exist (commands that read runs): a usage error saying how to make one otherwise. */
export function existingStorePath(io: Io, explicit: string | undefined): string {
  const file = storePath(io, explicit);
  if (!fs.existsSync(file)) throw new UsageError(t('No run store at {0}: run an experiment first (`edd run <config.yaml>`).', inert(path.relative(io.cwd, file) || file)));
  return file;
}

/**
 * Opens the store; a damaged or foreign file is a usage error with the store's own message (exit 2, no stack).
 *
 * Runs left queued or running by a process that died are recovered first (their leftover processes stopped, the
 * runs marked interrupted), also when the caller only reads: a read-only caller gets a second, writable opening
 * for that, and then sees the result. `io` receives a line per recovered run.
 */
export async function openStore(file: string, options: RunStoreOptions = {}, io?: Io): Promise<RunStore> {
  const store = await openOrUsageError(file, options);
  try {
    if (orphanedRuns(store).length > 0) {
      const writable = options.readOnly ? await openOrUsageError(file, { ...options, readOnly: false }) : store;
      try {
        for (const r of await recoverInterruptedRuns(writable)) {
          io?.err(r.stopped.length
            ? t('Run {0} of {1} was left unfinished by a process that is gone: marked interrupted, {2} leftover process(es) stopped.', inert(r.run.id), inert(r.run.experimentId), r.stopped.length)
            : t('Run {0} of {1} was left unfinished by a process that is gone: marked interrupted.', inert(r.run.id), inert(r.run.experimentId)));
        }
      } finally {
        if (writable !== store) await writable.close();
      }
      if (writable !== store) await store.reloadIfChanged();
    }
  } catch (e) {
    await store.close();
    throw e;
  }
  return store;
}

async function openOrUsageError(file: string, options: RunStoreOptions): Promise<RunStore> {
  try {
    return await RunStore.open(file, options);
  } catch (e) {
    if (e instanceof StoreError) throw usageErrorFrom(e as Error);
    throw e;
  }
}
