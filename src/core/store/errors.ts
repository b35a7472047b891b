/** Base class of the errors the run store throws on purpose (as opposed to bugs). `file` is the store's path. */
export class StoreError extends Error {
  constructor(message: string, readonly file: string) {
    super(message);
    this.name = new.target.name;
  }
}

/**
 * The store file exists but cannot be read as an EDD store: not SQLite, truncated, or failing SQLite's checks.
 * The store never starts over on top of such a file: it leaves the file untouched and keeps a byte-for-byte copy
 * at `backupPath` (`<file>.corrupt-<timestamp>`) before throwing, so nothing the user had is lost.
 */
export class StoreCorruptError extends StoreError {
  constructor(file: string, readonly reason: string, readonly backupPath: string | undefined) {
    super(
      `The EDD run store ${file} is damaged (${reason}). ` +
        (backupPath ? `A copy was kept at ${backupPath}. ` : 'No backup copy could be written. ') +
        `To start a new store, move ${file} out of the way (EDD creates a new one on the next run); ` +
        'to recover runs, restore the file from a backup or open the copy with the sqlite3 tool (".recover").',
      file,
    );
  }
}

/** The file was written by a newer EDD (its schema version is higher than this build knows). It is not modified. */
export class StoreVersionError extends StoreError {
  constructor(file: string, readonly fileVersion: number, readonly supportedVersion: number) {
    super(
      `The EDD run store ${file} has schema version ${fileVersion}, but this EDD only knows versions up to ` +
        `${supportedVersion}. Update the EDD extension and CLI; the file was not modified.`,
      file,
    );
  }
}

/** Another live process held the store's lock file for longer than the lock timeout. */
export class StoreLockError extends StoreError {
  constructor(file: string, readonly lockPath: string, holder: string, waitedMs: number) {
    super(
      `Could not save the EDD run store ${file}: the lock ${lockPath} is held by ${holder} ` +
        `(waited ${Math.round(waitedMs)} ms). If no EDD process (extension or CLI) is running, delete ${lockPath}.`,
      file,
    );
  }
}

/** Thrown for a mutation that refers to something that is not there (live only; a replay skips it). */
export class StoreNotFoundError extends Error {
  override name = 'StoreNotFoundError';
}
