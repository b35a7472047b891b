// MLflow's SQLite backend (`mlflow.db`), read with sql.js (the engine of EDD's own store) so nothing native is needed.
// Columns are read by name (PRAGMA table_info): newer MLflow versions add columns (`workspace`, `deleted_time`) that
// this reader ignores; a column it needs and cannot find is a clear error rather than a wrong import.
import * as fs from 'fs';
import type { Database, SqlValue } from 'sql.js';
import { t } from '../l10n';
import { loadSqlJs } from '../store/sqljs';
import { mlflowStatus, MlflowInputError, type MlflowData, type MlflowMetric, type MlflowModel, type MlflowRun } from './types';

/**
 * The alembic revisions of MLflow's schema this reader was tested against: MLflow 3.17.2's migration chain from
 * `b7c8d9e0f1a2` to its head `dc11669786a5` (the test data is written by 3.17.2). An older database is brought
 * forward with `mlflow db upgrade`; a newer one may have moved what is read here, so it is refused, not guessed at.
 */
export const TESTED_REVISIONS: readonly string[] = [
  'b7c8d9e0f1a2', '5d2d30f0abce', 'c9d4e5f6a7b8', '2c33131f4dae', 'd3e4f5a6b7c8', 'd0e1f2a3b4c5', 'c8d9e0f1a2b3', '1b5f0d9ad7c1',
  'e1f2a3b4c5d6', '76601a5f987d', 'c3d6457b6d8a', 'a5b4c3d2e1f0', 'ae8bbe7743c9', '7d34483879f0', 'da6fb0208061', '89d3d66ed43f',
  'b7e4c1a90f23', 'a8b9c0d1e2f3', 'c1d2e3f4a5b6', 'c3d9e7f1a2b4', '6f8d9c3b2a1e', '1971f2d9a75b', '17e22815139b', 'b7e2c1a4d9f3',
  '75868b020152', 'dc11669786a5',
];

const SQLITE_HEADER = 'SQLite format 3\0';

/** The path an argument names: `sqlite:///relative`, `sqlite:////absolute`, or the path itself. */
export function sqlitePathOf(uri: string): string {
  return uri.startsWith('sqlite:///') ? uri.slice('sqlite:///'.length) : uri;
}

/** Reads an MLflow SQLite database. @throws MlflowInputError for a file that is not MLflow's or of an untested schema */
export async function readMlflowSqlite(file: string): Promise<MlflowData> {
  let bytes: Uint8Array;
  try {
    bytes = await fs.promises.readFile(file);
  } catch (e) {
    throw new MlflowInputError(t('Cannot read {0}: {1}', file, (e as Error).message));
  }
  if (Buffer.from(bytes.subarray(0, 16)).toString('latin1') !== SQLITE_HEADER) {
    throw new MlflowInputError(t('{0} is not an SQLite database, so not an MLflow database: give an mlflow.db, sqlite:///path, or an mlruns folder.', file));
  }
  const SQL = await loadSqlJs();
  const db = new SQL.Database(bytes);
  try {
    return readDb(db, file);
  } catch (e) {
    if (e instanceof MlflowInputError) throw e;
    throw new MlflowInputError(t('{0} could not be read as an MLflow database: {1}', file, (e as Error).message));
  } finally {
    db.close();
  }
}

class Tables {
  private readonly columns = new Map<string, Set<string>>();
  constructor(private readonly db: Database, private readonly file: string) {
    const names = db.exec("SELECT name FROM sqlite_master WHERE type = 'table'")[0]?.values.map(r => String(r[0])) ?? [];
    for (const name of names) {
      const info = db.exec(`PRAGMA table_info("${name.replace(/"/g, '""')}")`)[0]?.values ?? [];
      this.columns.set(name, new Set(info.map(r => String(r[1]))));
    }
  }

  has(table: string): boolean {
    return this.columns.has(table);
  }

  /** `SELECT` the named columns of `table`; a column listed in `optional` that is absent reads as NULL. */
  select(table: string, wanted: readonly string[], optional: readonly string[] = [], where = ''): SqlValue[][] {
    return this.db.exec(this.query(table, wanted, optional, where))[0]?.values ?? [];
  }

  /** The `SELECT` of {@link select}, for a prepared statement. */
  query(table: string, wanted: readonly string[], optional: readonly string[] = [], where = ''): string {
    const have = this.columns.get(table);
    if (!have) throw new MlflowInputError(t('{0} has no table `{1}`: it is not an MLflow database, or one from an MLflow version EDD cannot read.', this.file, table));
    const missing = wanted.filter(c => !have.has(c) && !optional.includes(c));
    if (missing.length) throw new MlflowInputError(t('{0}: the table `{1}` has no column {2}. The database is from an MLflow version EDD cannot read; upgrade it with `mlflow db upgrade`.', this.file, table, missing.join(', ')));
    const list = wanted.map(c => (have.has(c) ? `"${c}"` : 'NULL')).join(', ');
    return `SELECT ${list} FROM "${table}" ${where}`;
  }
}

const str = (v: SqlValue): string | null => (v === null || v === undefined ? null : String(v));
const num = (v: SqlValue): number | null => (v === null || v === undefined ? null : Number(v));

function readDb(db: Database, file: string): MlflowData {
  const tables = new Tables(db, file);
  const missing = ['experiments', 'runs', 'alembic_version'].filter(n => !tables.has(n));
  if (missing.length) {
    throw new MlflowInputError(t('{0} is an SQLite database but not MLflow\'s: it has no {1} table. Give the database an MLflow tracking server or `mlflow.set_tracking_uri("sqlite:///…")` writes.', file, missing.join(', ')));
  }
  const revision = str(tables.select('alembic_version', ['version_num'])[0]?.[0] ?? null);
  if (revision === null || !TESTED_REVISIONS.includes(revision)) {
    throw new MlflowInputError(t('{0} has MLflow schema revision {1}, which EDD has not been tested with (it reads the schema of MLflow 3.17). For an older database run `mlflow db upgrade sqlite:///{0}` with MLflow 3.17, then import again.', file, revision ?? '—'));
  }

  const experiments: MlflowData['experiments'] = [];
  const expNames = new Map<string, string>();
  for (const [id, name, location, stage] of tables.select('experiments', ['experiment_id', 'name', 'artifact_location', 'lifecycle_stage'])) {
    if (stage === 'deleted') continue;
    experiments.push({ id: String(id), name: String(name), artifactLocation: str(location) });
    expNames.set(String(id), String(name));
  }

  const runs = new Map<string, MlflowRun>();
  for (const [id, name, status, start, end, user, artifact, expId, stage] of tables.select('runs', ['run_uuid', 'name', 'status', 'start_time', 'end_time', 'user_id', 'artifact_uri', 'experiment_id', 'lifecycle_stage'])) {
    const experimentName = expNames.get(String(expId));
    if (stage === 'deleted' || experimentName === undefined) continue;
    const runId = String(id);
    const parsed = mlflowStatus(status);
    if (!parsed) throw new MlflowInputError(t('{0}: run {1} has the status {2}, which MLflow does not define.', file, runId, String(status)));
    runs.set(runId, {
      runId, experimentId: String(expId), experimentName, name: str(name), status: parsed, startTime: num(start), endTime: num(end), user: str(user),
      artifactUri: str(artifact), params: {}, tags: {}, metrics: [],
    });
  }
  for (const [key, value, id] of tables.select('params', ['key', 'value', 'run_uuid'])) {
    const run = runs.get(String(id));
    if (run) run.params[String(key)] = String(value ?? '');
  }
  for (const [key, value, id] of tables.select('tags', ['key', 'value', 'run_uuid'])) {
    const run = runs.get(String(id));
    if (run) run.tags[String(key)] = String(value ?? '');
  }
  // Ordered by run, so consecutive rows go to the same array without a map lookup per point (1M points: the hot loop).
  let current: MlflowRun | undefined;
  let currentId: unknown;
  const stmt = db.prepare(tables.query('metrics', ['run_uuid', 'key', 'value', 'timestamp', 'step', 'is_nan'], ['is_nan'], 'ORDER BY run_uuid'));
  try {
    while (stmt.step()) {
      const [id, key, value, timestamp, step, isNan] = stmt.get();
      if (id !== currentId) {
        currentId = id;
        current = runs.get(String(id));
      }
      if (!current) continue;
      const point: MlflowMetric = { key: String(key), value: isNan ? NaN : Number(value), timestamp: Number(timestamp), step: Number(step ?? 0) };
      current.metrics.push(point);
    }
  } finally {
    stmt.free();
  }

  return { source: file, experiments, runs: [...runs.values()], models: readModels(tables) };
}

function readModels(tables: Tables): MlflowModel[] {
  if (!tables.has('registered_models') || !tables.has('model_versions')) return [];
  const models = new Map<string, MlflowModel>();
  for (const [name] of tables.select('registered_models', ['name'])) models.set(String(name), { name: String(name), versions: [] });
  for (const [name, version, stage, runId, source, user, created] of tables.select('model_versions', ['name', 'version', 'current_stage', 'run_id', 'source', 'user_id', 'creation_time'], [], 'ORDER BY version')) {
    const model = models.get(String(name));
    // MLflow marks a deleted version `Deleted_Internal` before it removes the row
    if (!model || String(stage).startsWith('Deleted')) continue;
    model.versions.push({ version: Number(version), stage: String(stage ?? 'None'), runId: str(runId), source: str(source), user: str(user), createdAt: num(created), aliases: [] });
  }
  if (tables.has('registered_model_aliases')) {
    for (const [name, alias, version] of tables.select('registered_model_aliases', ['name', 'alias', 'version'])) {
      const v = models.get(String(name))?.versions.find(x => x.version === Number(version));
      if (v) v.aliases.push(String(alias));
    }
  }
  for (const m of models.values()) for (const v of m.versions) v.aliases.sort();
  return [...models.values()];
}
