import * as fs from 'fs';
import * as path from 'path';
import { inert } from '../core/inert';
import { t } from '../core/l10n';
import { DEFAULT_STORE_RELATIVE_PATH } from '../core/store/location';
import { UsageError, type Io } from './io';

// Apart from store.ts (which opens the store): `edd runs` finds there is no store without loading the store's code.

/** The store file of the store commands: `--store PATH`, default `.edd/edd.sqlite` under the current folder. */
export function storePath(io: Io, explicit: string | undefined): string {
  return path.resolve(io.cwd, explicit ?? DEFAULT_STORE_RELATIVE_PATH);
}

/** The store file, which must exist (commands that read runs): a usage error saying how to make one otherwise. */
export function existingStorePath(io: Io, explicit: string | undefined): string {
  const file = storePath(io, explicit);
  if (!fs.existsSync(file)) throw new UsageError(t('No run store at {0}: run an experiment first (`edd run <config.yaml>`).', inert(path.relative(io.cwd, file) || file)));
  return file;
}
