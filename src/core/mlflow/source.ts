import * as fs from 'fs';
import * as path from 'path';
import { t } from '../l10n';
import { readMlflowFileStore } from './fileSource';
import { readMlflowSqlite, sqlitePathOf } from './sqliteSource';
import { MlflowInputError, type MlflowData } from './types';

/** Reads what `where` names: an `mlruns` folder, an `mlflow.db` file, or `sqlite:///path` (relative to `cwd`). */
export async function readMlflowSource(where: string, cwd: string): Promise<MlflowData> {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(where) && !where.startsWith('sqlite:///') && !where.startsWith('file://')) {
    throw new MlflowInputError(t('{0}: import reads an mlruns folder, an mlflow.db file or sqlite:///path. For a tracking server use `edd sync mlflow --tracking-uri URL --pull`.', where));
  }
  const target = path.resolve(cwd, where.startsWith('file://') ? new URL(where).pathname : sqlitePathOf(where));
  let stat: fs.Stats;
  try {
    stat = await fs.promises.stat(target);
  } catch {
    throw new MlflowInputError(t('{0} does not exist. Give an mlruns folder, an mlflow.db file or sqlite:///path.', target));
  }
  return stat.isDirectory() ? readMlflowFileStore(target) : readMlflowSqlite(target);
}
