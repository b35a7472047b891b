import * as fs from 'fs';
import * as path from 'path';
import { inert } from '../core/inert';
import { t } from '../core/l10n';
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

/** Opens the store; a damaged or foreign file is a usage error with the store's own message (exit 2, no stack). */
export async function openStore(file: string, options: RunStoreOptions = {}): Promise<RunStore> {
  try {
    return await RunStore.open(file, options);
  } catch (e) {
    if (e instanceof StoreError) throw usageErrorFrom(e as Error);
    throw e;
  }
}
