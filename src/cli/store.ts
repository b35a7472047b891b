import * as v8 from 'v8';
import { inert } from '../core/inert';
import { t } from '../core/l10n';
import { needsRecovery, recoverInterruptedRuns } from '../core/runs/recover';
import { RunStore, StoreError, type RunStoreOptions } from '../core/store';
import { usageErrorFrom, type Io } from './io';

export { existingStorePath, storePath } from './storePath';

/**
 * Opens the store; a damaged or foreign file is a usage error with the store's own message (exit 2, no stack).
 *
 * Runs left queued or running by a process that died, and runs whose training such a process started before it
 * could record them (launch records, see src/core/runs/launch.ts), are recovered first (their leftover processes
 * stopped, the runs marked interrupted), also when the caller only reads: a read-only caller gets a second, writable opening
 * for that, and then sees the result. `io` receives a line per recovered run.
 */
export async function openStore(file: string, options: RunStoreOptions = {}, io?: Io): Promise<RunStore> {
  const store = await openOrUsageError(file, options);
  try {
    if (needsRecovery(store)) {
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

/**
 * For the commands that open the store and are soon done (`edd run`, `edd runs`): sql.js's wasm is compiled by
 * Liftoff only. By default V8 also recompiles the hot functions with TurboFan on background threads, and the main
 * thread ended up waiting for those compiles (node drains background tasks when its event loop has nothing else
 * pending): `edd run` of a trivial command sat ~150 ms idle after opening the store, more on a busy machine, for
 * code too short-lived to gain from TurboFan. SQL-heavy work runs a few per cent slower on Liftoff code. Set before the first store opens;
 * it changes nothing for wasm already compiled.
 */
export function preferQuickWasmStart(): void {
  v8.setFlagsFromString('--liftoff-only');
}
