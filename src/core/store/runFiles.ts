import * as fs from 'fs';
import * as path from 'path';
import type { SqlValue } from 'sql.js';
import { runFolderName } from './history';
import { RUN_COLUMNS } from './ops';
import type { JsonObject } from './types';

// A run's two large fields, its config snapshot and its environment (KBs each: the config text, the package list),
// live in `<runs>/<run id>/run.json` instead of the SQLite index: they are read one run at a time (reproduce, the
// tooltip, compare), never listed, and in the index they made every save rewrite KBs per run ever recorded. The file
// is written at the save after the change (temp file, fsync, rename), before the index; until then this process reads
// the pending values.

const FILE_NAME = 'run.json';

/** What `run.json` holds; a missing field means "not set here" (see the legacy columns in the index). */
export interface RunFileFields {
  configSnapshot?: string | null;
  /** The environment as JSON text (as encoded for the index). */
  environment?: string | null;
}

/** The index columns whose values go to the run's file, and the field each becomes there. */
const LARGE_COLUMNS: readonly [column: string, field: keyof RunFileFields][] = [['config_snapshot', 'configSnapshot'], ['environment', 'environment']];

/** Takes the large fields out of a `createRun` op's row (they become null there) for the run's file. */
export function takeLargeFieldsOfRow(row: SqlValue[]): RunFileFields {
  const fields: RunFileFields = {};
  for (const [column, field] of LARGE_COLUMNS) {
    const i = (RUN_COLUMNS as readonly string[]).indexOf(column);
    if (row[i] !== null) fields[field] = row[i] as string;
    row[i] = null;
  }
  return fields;
}

/**
 * Takes the large fields out of an `updateRun` op's column values for the run's file; the column is set to null (it
 * clears the column of a run recorded before version 5).
 */
export function takeLargeFieldsOfSets(sets: [column: string, value: SqlValue][]): RunFileFields {
  const fields: RunFileFields = {};
  for (const set of sets) {
    const large = LARGE_COLUMNS.find(([column]) => column === set[0]);
    if (!large) continue;
    fields[large[1]] = set[1] as string | null;
    set[1] = null;
  }
  return fields;
}

export class RunFiles {
  private readonly pending = new Map<string, RunFileFields>();

  constructor(readonly folder: string) {}

  fileOf(runId: string): string {
    return path.join(this.folder, runFolderName(runId), FILE_NAME);
  }

  get hasPending(): boolean {
    return this.pending.size > 0;
  }

  /** Records new values, written by the next `flush`. */
  set(runId: string, fields: RunFileFields): void {
    this.pending.set(runId, { ...this.pending.get(runId), ...fields });
  }

  /** The fields set for a run: pending values over the file's. */
  read(runId: string): RunFileFields {
    return { ...readFields(this.fileOf(runId)), ...this.pending.get(runId) };
  }

  /** Writes the pending values (each file merged with what it holds) and forgets them. Synchronous, see `write`. */
  flush(): void {
    for (const [runId, fields] of [...this.pending]) {
      this.write(runId, fields);
      if (this.pending.get(runId) === fields) this.pending.delete(runId);
    }
  }

  /**
   * `flush` in two steps, so that the fsyncs can wait together with the caller's other fsyncs: the pending values are
   * written to temp files now (synchronously, from what is pending at this instant); the returned commit fsyncs them
   * and renames them into place.
   */
  stage(): () => Promise<void> {
    const staged = [...this.pending].map(([runId, fields]) => ({ runId, fields, ...this.writeTemp(runId, fields) }));
    return async () => {
      try {
        await Promise.all(staged.map(s => new Promise<void>((resolve, reject) => fs.fsync(s.fd, e => (e ? reject(e) : resolve())))));
      } finally {
        for (const s of staged) fs.closeSync(s.fd);
      }
      for (const s of staged) {
        fs.renameSync(s.temp, s.file);
        if (this.pending.get(s.runId) === s.fields) this.pending.delete(s.runId);
      }
    };
  }

  /**
   * Merges `fields` into a run's file, atomically. Synchronous (a few per save), so that two writes of one run from
   * this process never interleave between the read and the rename.
   */
  write(runId: string, fields: RunFileFields): void {
    const { file, temp, fd } = this.writeTemp(runId, fields);
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(temp, file);
  }

  /** The merged content written to the run's temp file, left open (not yet synced or renamed). */
  private writeTemp(runId: string, fields: RunFileFields): { file: string; temp: string; fd: number } {
    const file = this.fileOf(runId);
    const merged = { ...readFields(file), ...fields };
    const json: Record<string, unknown> = {};
    if (merged.configSnapshot !== undefined) json.configSnapshot = merged.configSnapshot;
    if (merged.environment !== undefined) json.environment = merged.environment === null ? null : (JSON.parse(merged.environment) as JsonObject);
    const temp = `${file}.tmp-${process.pid}`;
    let fd: number;
    try {
      fd = fs.openSync(temp, 'w');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      fs.mkdirSync(path.dirname(file), { recursive: true }); // (usually made by the run's first metric points)
      fd = fs.openSync(temp, 'w');
    }
    try {
      fs.writeSync(fd, JSON.stringify(json));
    } catch (e) {
      fs.closeSync(fd);
      throw e;
    }
    return { file, temp, fd };
  }

  async remove(runId: string): Promise<void> {
    this.pending.delete(runId);
    await fs.promises.rm(this.fileOf(runId), { force: true });
  }
}

function readFields(file: string): RunFileFields {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw e;
  }
  let json: { configSnapshot?: unknown; environment?: unknown };
  try {
    json = JSON.parse(text) as typeof json;
  } catch {
    // written by rename, so never torn by us; a file edited by hand into nonsense reads as "nothing recorded"
    return {};
  }
  const out: RunFileFields = {};
  if (typeof json.configSnapshot === 'string' || json.configSnapshot === null) out.configSnapshot = json.configSnapshot;
  if (json.environment === null) out.environment = null;
  else if (typeof json.environment === 'object' && !Array.isArray(json.environment)) out.environment = JSON.stringify(json.environment);
  return out;
}
