// Public record types of the run store. All timestamps are epoch milliseconds (numbers); JSON columns come back
// parsed. `null` means "not recorded".

/**
 * Lifecycle of a run. `queued` → `running` → one of the terminal states; `interrupted`: the process that owned the run
 * died before it could record the end (found and set by the next process that opens the store).
 */
export type RunStatus = 'queued' | 'running' | 'finished' | 'failed' | 'cancelled' | 'interrupted';

/** The run statuses, in lifecycle order. */
export const RUN_STATUSES: readonly RunStatus[] = ['queued', 'running', 'finished', 'failed', 'cancelled', 'interrupted'];

/** Where an experiment's hypothesis stands. */
export type HypothesisStatus = 'open' | 'supported' | 'refuted' | 'inconclusive';

export const HYPOTHESIS_STATUSES: readonly HypothesisStatus[] = ['open', 'supported', 'refuted', 'inconclusive'];

/** A JSON object as stored in the `params` and `environment` columns. */
export type JsonObject = { [key: string]: unknown };

/** What `upsertExperiment` takes. Fields left out keep their stored value (or their default on insert). */
export interface ExperimentInput {
  /** The experiment id from the config (`experiment.id`). */
  id: string;
  /** Display name; defaults to the id. */
  name?: string;
  hypothesis?: string | null;
  /** Workspace-relative path of the experiment's config file. */
  configPath?: string | null;
}

/** An experiment row. */
export interface ExperimentRecord {
  id: string;
  name: string;
  hypothesis: string | null;
  configPath: string | null;
  /** The hypothesis conclusion: `open`, `supported`, `refuted` or `inconclusive` (`null` = never concluded = open). */
  hypothesisStatus: HypothesisStatus | null;
  /** The comparison that set the status, e.g. "welch_t on val_accuracy: B better than A, p = 0.003". */
  hypothesisDecidedBy: string | null;
  hypothesisDecidedAt: number | null;
  createdAt: number;
  updatedAt: number;
}

/** An experiment with the aggregates the tree's first level shows. */
export interface ExperimentSummary extends ExperimentRecord {
  runCount: number;
  /** Creation time of the experiment's newest run, or `null` without runs. */
  lastRunAt: number | null;
}

/** A run as stored. */
export interface RunRecord {
  /** UUID (so that two processes creating runs at the same time never collide). */
  id: string;
  experimentId: string;
  configPath: string | null;
  /** The config file's text when the run started. */
  configSnapshot: string | null;
  /** Resolved hyperparameters (including the ones the script reported with `{"param": ...}`). */
  params: JsonObject;
  status: RunStatus;
  /** When the run was created (queued). Runs are listed newest first by this. */
  createdAt: number;
  startedAt: number | null;
  endedAt: number | null;
  durationMs: number | null;
  exitCode: number | null;
  gitCommit: string | null;
  gitDirty: boolean | null;
  /** Interpreter, package versions, platform, ... as captured by the runner. */
  environment: JsonObject | null;
  seed: number | null;
  datasetFingerprint: string | null;
  peakMemoryBytes: number | null;
  /** Path of the captured stdout/stderr log. */
  logPath: string | null;
  /** Why the run failed (a message for the user), when it did. */
  error: string | null;
  /** The process recording the run while it is queued or running: its pid, start time (clock ticks since boot, from
   * /proc) and host name; together they tell whether it is still alive. */
  ownerPid: number | null;
  ownerStartTime: number | null;
  ownerHost: string | null;
  /** Free-form labels, e.g. `sweep_id`, `trial_index` (sweeps), `edd.origin` (imported or pulled runs). */
  tags: Record<string, string>;
  /** The run's id in the system it came from (`mlflow:<run id>`), unique in the store; `null` for EDD's own runs. */
  externalId: string | null;
}

/** What `createRun` takes: `experimentId` is required, everything else has a default (`id`: a new UUID). */
export type NewRun = Partial<RunRecord> & { experimentId: string };

/** What `updateRun` takes: any field except the identity ones. Only the fields present are written. */
export type RunPatch = Partial<Omit<RunRecord, 'id' | 'experimentId' | 'createdAt'>>;

/** A run in a listing: the record without its two large fields, plus the final value of each metric. */
export interface RunSummary extends Omit<RunRecord, 'configSnapshot' | 'environment'> {
  /** For each metric key, the value at the run's highest step for that key (NaN if the value logged was NaN). */
  finalMetrics: Record<string, number>;
}

/**
 * One metric value. A second point with the same run, key and step replaces the first (so re-sending a batch is
 * harmless). `NaN` and `±Infinity` are kept (a diverged loss is data).
 */
export interface MetricPoint {
  runId: string;
  key: string;
  /** Integer step (epoch, iteration, ...). */
  step: number;
  value: number;
  /** When the value was logged; defaults to the time of `addMetrics`. */
  time?: number;
}

/** A metric point read back for one run. */
export interface StoredMetricPoint {
  key: string;
  step: number;
  value: number;
  time: number | null;
}

/** A file a run produced (model, predictions, plot, ...). `(runId, path)` is unique; adding it again replaces it. */
export interface ArtifactRecord {
  runId: string;
  /** Workspace-relative (or absolute) path of the file. */
  path: string;
  /** `model`, `predictions`, `plot`, ... as reported by the script; free text. */
  kind: string | null;
  sha256: string | null;
  size: number | null;
}

/** Options of `listRuns`. Runs are ordered newest first (`createdAt` descending). */
export interface ListRunsOptions {
  experimentId?: string;
  status?: RunStatus;
  /** Only runs carrying every one of these tags with these values. */
  tags?: Record<string, string>;
  limit?: number;
  offset?: number;
}

/** What a change listener receives. */
export interface StoreChange {
  /** `local`: a mutation through this object; `external`: another process's writes were loaded. */
  origin: 'local' | 'external';
  /** The runs a local change touched (created, updated, metrics, artifacts, deleted); absent: anything may have changed. */
  runIds?: readonly string[];
  /** True when experiments may have changed (always true for `external`). */
  experiments: boolean;
  /** True when models, versions, aliases, the audit log or gate reports may have changed (always true for `external`). */
  registry?: boolean;
}

/** What a save listener receives. */
export interface StoreSaved {
  /** The store's save counter after this save (it counts the saves of all processes). */
  generation: number;
  /** Bytes written: the record appended to the operation log, or the index file at a checkpoint. */
  bytes: number;
  /** True when another process had written the file since we read it and our changes were merged onto its copy. */
  merged: boolean;
}

/** A listener registration; call `dispose()` to remove it (the same shape as VS Code's `Disposable`). */
export interface Unsubscribe {
  dispose(): void;
}
