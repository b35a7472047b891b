import type { Database } from 'sql.js';
import { chainExistingEntries } from './auditChain';

/**
 * One schema step. `PRAGMA user_version` holds the number of the last step applied; a store is brought up to date by
 * running the later steps in order, each in its own transaction. Never edit a released step: add a new one.
 */
export interface Migration {
  version: number;
  description: string;
  sql: string;
  /** Work SQL cannot do (hashing), run after `sql` in the same transaction. */
  run?: (db: Database) => void;
}

const STATUS_CHECK = "CHECK (status IN ('queued', 'running', 'finished', 'failed', 'cancelled'))";

const RUN_COLUMNS_V1 = `
  experiment_id TEXT NOT NULL,
  config_path TEXT,
  config_snapshot TEXT,
  params TEXT NOT NULL DEFAULT '{}',
  status TEXT NOT NULL ${STATUS_CHECK},
  created_at INTEGER NOT NULL,
  started_at INTEGER,
  ended_at INTEGER,
  duration_ms INTEGER,
  exit_code INTEGER,
  git_commit TEXT,
  git_dirty INTEGER,
  environment TEXT,
  seed INTEGER,
  dataset_fingerprint TEXT,
  peak_memory_bytes INTEGER,
  log_path TEXT,
  error TEXT`;

const RUN_COLUMN_NAMES = 'id, experiment_id, config_path, config_snapshot, params, status, created_at, started_at, ended_at, ' +
  'duration_ms, exit_code, git_commit, git_dirty, environment, seed, dataset_fingerprint, peak_memory_bytes, log_path, error';

const RUN_COLUMNS_V5 = RUN_COLUMNS_V1.replace(STATUS_CHECK, "CHECK (status IN ('queued', 'running', 'finished', 'failed', 'cancelled', 'interrupted'))") + `,
  owner_pid INTEGER,
  owner_start INTEGER,
  owner_host TEXT`;

/** The ordered list of schema steps. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'experiments, runs, metrics, artifacts',
    sql: `
      CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);
      CREATE TABLE experiments (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        hypothesis TEXT,
        config_path TEXT,
        hypothesis_status TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      CREATE TABLE runs (id TEXT PRIMARY KEY, ${RUN_COLUMNS_V1});
      CREATE INDEX runs_by_experiment ON runs (experiment_id, created_at);
      CREATE TABLE metrics (run_id TEXT NOT NULL, key TEXT NOT NULL, step INTEGER NOT NULL, value REAL, time INTEGER);
      CREATE INDEX metrics_by_run_key ON metrics (run_id, key, step);
      CREATE TABLE artifacts (
        run_id TEXT NOT NULL,
        path TEXT NOT NULL,
        kind TEXT,
        sha256 TEXT,
        size INTEGER,
        PRIMARY KEY (run_id, path)
      );`,
  },
  {
    // Measured on 1M points: a UUID and a key name in every metric row made the file 131 MB and capped inserts at
    // ~360k points/s; integer references, a clustered (run, key, step) key and no separate index give 30 MB and
    // ~1.5M points/s, and the open time of a big store follows the file size. `metric_final` keeps the value at the
    // highest step per run and key, so listing runs with their final metrics does not scan their points.
    version: 2,
    description: 'compact metrics: integer run and key references, clustered points, final values per run and key',
    sql: `
      CREATE TABLE runs_v2 (seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, ${RUN_COLUMNS_V1});
      INSERT INTO runs_v2 (${RUN_COLUMN_NAMES}) SELECT ${RUN_COLUMN_NAMES} FROM runs ORDER BY created_at, rowid;
      DROP TABLE runs;
      ALTER TABLE runs_v2 RENAME TO runs;
      -- with seq as the rowid, both indexes also order by seq: listings newest first are index scans, no sort
      CREATE INDEX runs_by_experiment ON runs (experiment_id, created_at);
      CREATE INDEX runs_by_time ON runs (created_at);
      CREATE TABLE metric_keys (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
      CREATE TABLE metric_points (
        run_seq INTEGER NOT NULL,
        key_id INTEGER NOT NULL,
        step INTEGER NOT NULL,
        value REAL,
        time INTEGER,
        PRIMARY KEY (run_seq, key_id, step)
      ) WITHOUT ROWID;
      CREATE TABLE metric_final (
        run_seq INTEGER NOT NULL,
        key_id INTEGER NOT NULL,
        step INTEGER NOT NULL,
        value REAL,
        time INTEGER,
        PRIMARY KEY (run_seq, key_id)
      ) WITHOUT ROWID;
      INSERT INTO metric_keys (name) SELECT DISTINCT key FROM metrics ORDER BY key;
      -- version 1 allowed the same step twice; the later row wins, as it does from now on
      INSERT OR REPLACE INTO metric_points (run_seq, key_id, step, value, time)
        SELECT r.seq, k.id, m.step, m.value, m.time
        FROM metrics m JOIN runs r ON r.id = m.run_id JOIN metric_keys k ON k.name = m.key
        ORDER BY m.rowid;
      -- SQLite takes the bare columns from the row that holds the MAX
      INSERT INTO metric_final (run_seq, key_id, step, value, time)
        SELECT run_seq, key_id, MAX(step), value, time FROM metric_points GROUP BY run_seq, key_id;
      DROP TABLE metrics;
      -- the version 1 shape, for people reading the file with the sqlite3 tool
      CREATE VIEW metrics AS
        SELECT r.id AS run_id, k.name AS key, p.step AS step, p.value AS value, p.time AS time
        FROM metric_points p JOIN runs r ON r.seq = p.run_seq JOIN metric_keys k ON k.id = p.key_id;`,
  },
  {
    version: 3,
    description: 'hypothesis verdicts: which test decided the status, and when',
    sql: `
      ALTER TABLE experiments ADD COLUMN hypothesis_decided_by TEXT;
      ALTER TABLE experiments ADD COLUMN hypothesis_decided_at INTEGER;`,
  },
  {
    version: 4,
    description: 'gate reports; model registry: models, versions with stages, aliases, append-only audit log',
    sql: `
      CREATE TABLE gate_reports (
        id TEXT PRIMARY KEY,
        created_at INTEGER NOT NULL,
        policy TEXT NOT NULL,
        passed INTEGER NOT NULL,
        run_id TEXT,
        model TEXT,
        version INTEGER,
        model_sha256 TEXT,
        report TEXT NOT NULL
      );
      CREATE INDEX gate_reports_by_run ON gate_reports (run_id, created_at);
      CREATE INDEX gate_reports_by_sha ON gate_reports (model_sha256, created_at);
      CREATE TABLE models (name TEXT PRIMARY KEY, created_at INTEGER NOT NULL);
      CREATE TABLE model_versions (
        model TEXT NOT NULL REFERENCES models (name),
        version INTEGER NOT NULL,
        id TEXT NOT NULL UNIQUE,
        stage TEXT NOT NULL CHECK (stage IN ('none', 'staging', 'production', 'archived')),
        run_id TEXT,
        source_path TEXT,
        file TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        size INTEGER NOT NULL,
        metrics TEXT NOT NULL DEFAULT '{}',
        created_at INTEGER NOT NULL,
        created_by TEXT,
        stage_changed_at INTEGER,
        PRIMARY KEY (model, version)
      );
      CREATE TABLE model_aliases (
        model TEXT NOT NULL,
        alias TEXT NOT NULL,
        version INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (model, alias)
      );
      CREATE TABLE audit_log (
        seq INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        at INTEGER NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        model TEXT NOT NULL,
        version INTEGER,
        from_stage TEXT,
        to_stage TEXT,
        alias TEXT,
        reason TEXT,
        forced INTEGER NOT NULL DEFAULT 0,
        details TEXT NOT NULL DEFAULT '{}'
      );
      CREATE INDEX audit_by_model ON audit_log (model, seq);
      CREATE TRIGGER audit_log_append_only_update BEFORE UPDATE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
      CREATE TRIGGER audit_log_append_only_delete BEFORE DELETE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;`,
  },
  {
    // SQLite cannot change a CHECK in place: the runs table is rebuilt with the same seq values, so metric points and
    // final values keep pointing at their runs. The owner lets the next process that opens the store tell a run whose
    // process died (left `running` forever) from one that is still going.
    version: 5,
    description: "runs: status 'interrupted', and the owner (pid, process start time, host) of a queued or running run",
    sql: `
      CREATE TABLE runs_next (seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, ${RUN_COLUMNS_V5});
      INSERT INTO runs_next (seq, ${RUN_COLUMN_NAMES}) SELECT seq, ${RUN_COLUMN_NAMES} FROM runs ORDER BY seq;
      DROP VIEW metrics;
      DROP TABLE runs;
      ALTER TABLE runs_next RENAME TO runs;
      CREATE INDEX runs_by_experiment ON runs (experiment_id, created_at);
      CREATE INDEX runs_by_time ON runs (created_at);
      CREATE VIEW metrics AS
        SELECT r.id AS run_id, k.name AS key, p.step AS step, p.value AS value, p.time AS time
        FROM metric_points p JOIN runs r ON r.seq = p.run_seq JOIN metric_keys k ON k.id = p.key_id;`,
  },
  {
    // The triggers above stop accidents, not someone who drops them: the chain (src/core/store/auditChain.ts) makes a
    // rewritten or deleted entry visible. Entries written before this step are chained by it, which the store notes
    // in meta (`audit_chain_migrated`), so a verification can say which part of the history it vouches for.
    version: 6,
    description: 'audit log hash chain: each entry keeps the previous entry\'s hash and its own; existing entries chained now',
    sql: `
      ALTER TABLE audit_log ADD COLUMN prev_hash TEXT;
      ALTER TABLE audit_log ADD COLUMN hash TEXT;
      CREATE TRIGGER audit_log_chained BEFORE INSERT ON audit_log WHEN NEW.hash IS NULL
        BEGIN SELECT RAISE(ABORT, 'audit log entries must be chained (no hash)'); END;`,
    run: db => chainExistingEntries(db, Date.now()),
  },
  {
    // Metric histories leave the index for per-run append-only files (see history.ts): a save then costs what the
    // index weighs, not what every point ever logged weighs. SQL cannot write those files, so the points wait in
    // metric_points_v4 until the first save of an EDD that knows this version moves them out (engine.ts,
    // `moveLegacyHistories`) and drops the table. Config snapshots and environments follow the same path: the
    // columns stay for the runs not yet moved, and are NULL for runs recorded from now on.
    version: 7,
    description: 'metric histories in per-run files; config snapshots and environments in per-run files',
    sql: `
      DROP VIEW IF EXISTS metrics;
      ALTER TABLE metric_points RENAME TO metric_points_v4;`,
  },
  {
    // Sweeps tag their trials (sweep id, trial index), imports and team sync keep where a run came from: free-form
    // string tags, and the run's id in the system it came from (e.g. `mlflow:<run id>`), unique so that a re-import
    // updates the run instead of adding a second one.
    version: 8,
    description: 'runs: tags (a JSON object of strings) and an external id (unique when set)',
    sql: `
      ALTER TABLE runs ADD COLUMN tags TEXT NOT NULL DEFAULT '{}';
      ALTER TABLE runs ADD COLUMN external_id TEXT;
      CREATE UNIQUE INDEX runs_by_external_id ON runs (external_id) WHERE external_id IS NOT NULL;`,
  },
  {
    // The index file stops growing with history: runs beyond the newest few thousand are sealed into immutable
    // segment files (segments.ts); this file, the head, lists them with what the first level of the runs tree needs
    // (runs and newest run per experiment) and the sealed runs that were copied back into it or deleted.
    // `seq_floor` in meta keeps run numbers growing after the runs holding the highest ones were sealed.
    version: 9,
    description: 'segments: old runs in immutable segment files listed by the head',
    sql: `
      CREATE TABLE segments (
        id INTEGER PRIMARY KEY,
        file TEXT NOT NULL UNIQUE,
        bytes INTEGER NOT NULL,
        sha256 TEXT NOT NULL,
        runs INTEGER NOT NULL,
        min_at INTEGER,
        max_at INTEGER,
        max_seq INTEGER NOT NULL
      );
      CREATE TABLE segment_experiments (
        segment INTEGER NOT NULL,
        experiment_id TEXT NOT NULL,
        runs INTEGER NOT NULL,
        last_at INTEGER,
        PRIMARY KEY (experiment_id, segment)
      ) WITHOUT ROWID;
      CREATE TABLE sealed_gone (id TEXT NOT NULL, segment INTEGER NOT NULL, PRIMARY KEY (id, segment)) WITHOUT ROWID;`,
  },
  {
    // Saves append to an operation log (`<file>.oplog`, oplog.ts) and the index is rewritten only at checkpoints; meta
    // `log_id` names the log that continues this file. No table changes: the version only keeps an older EDD, which
    // would read the index without its log, from opening the store.
    version: 10,
    description: 'saves append to an operation log; the index is rewritten at checkpoints',
    sql: "DELETE FROM meta WHERE key = 'log_id';",
  },
];

/** The schema version this build writes. */
export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;

/** The tables every store at a given version must have (a file missing them is not an EDD store). */
export function requiredTables(version: number): string[] {
  const v2 = ['meta', 'experiments', 'runs', 'metric_keys', 'metric_points', 'metric_final', 'artifacts'];
  const v4 = [...v2, 'gate_reports', 'models', 'model_versions', 'model_aliases', 'audit_log'];
  if (version >= 9) return [...v4.filter(t => t !== 'metric_points'), 'segments', 'segment_experiments', 'sealed_gone'];
  if (version >= 7) return v4.filter(t => t !== 'metric_points');
  if (version >= 4) return v4;
  return version >= 2 ? v2 : ['meta', 'experiments', 'runs', 'metrics', 'artifacts'];
}

export function userVersion(db: Database): number {
  return Number(db.exec('PRAGMA user_version')[0].values[0][0]);
}

/**
 * Applies the steps after the database's current version, up to `target` (default: the latest). Returns the number of
 * steps applied. Each step commits with its version, so a failure leaves the database at the last complete step.
 */
export function migrate(db: Database, target = SCHEMA_VERSION): number {
  let applied = 0;
  for (const m of MIGRATIONS) {
    if (m.version <= userVersion(db) || m.version > target) continue;
    db.exec('BEGIN');
    try {
      db.exec(m.sql);
      m.run?.(db);
      db.exec(`PRAGMA user_version = ${m.version}`);
      db.exec('COMMIT');
    } catch (e) {
      db.exec('ROLLBACK');
      throw e;
    }
    applied++;
  }
  return applied;
}
