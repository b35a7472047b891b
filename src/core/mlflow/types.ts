// What EDD reads from MLflow, whichever backend it came from (the file store `mlruns/`, the SQLite database, or a
// tracking server's REST API). Times are epoch milliseconds, as MLflow keeps them.

/** An MLflow run status, as MLflow names it. */
export type MlflowStatus = 'RUNNING' | 'SCHEDULED' | 'FINISHED' | 'FAILED' | 'KILLED';

/** One metric value as MLflow logged it. */
export interface MlflowMetric {
  key: string;
  value: number;
  timestamp: number;
  step: number;
}

export interface MlflowRun {
  runId: string;
  experimentId: string;
  experimentName: string;
  name: string | null;
  status: MlflowStatus;
  startTime: number | null;
  endTime: number | null;
  user: string | null;
  artifactUri: string | null;
  params: Record<string, string>;
  tags: Record<string, string>;
  /** The full history of every metric, in any order. */
  metrics: MlflowMetric[];
}

export interface MlflowModelVersion {
  version: number;
  /** `None`, `Staging`, `Production`, `Archived` as MLflow writes them. */
  stage: string;
  runId: string | null;
  source: string | null;
  user: string | null;
  createdAt: number | null;
  aliases: string[];
}

export interface MlflowModel {
  name: string;
  versions: MlflowModelVersion[];
}

/** Everything read from one MLflow backend (deleted experiments, runs and versions already left out). */
export interface MlflowData {
  /** What was read, for messages: the file or folder. */
  source: string;
  experiments: Array<{ id: string; name: string; artifactLocation: string | null }>;
  runs: MlflowRun[];
  models: MlflowModel[];
}

/** A bad MLflow input: the message names the file (and line) and says what to do. The CLI exits 2. */
export class MlflowInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MlflowInputError';
  }
}

const STATUSES: readonly MlflowStatus[] = ['RUNNING', 'SCHEDULED', 'FINISHED', 'FAILED', 'KILLED'];

/** MLflow's status name, from its name or the file store's integer (RunStatus: 1 RUNNING … 5 KILLED). */
export function mlflowStatus(value: unknown): MlflowStatus | undefined {
  if (typeof value === 'number') return STATUSES[value - 1];
  if (typeof value === 'string') {
    if (/^[1-5]$/.test(value)) return STATUSES[Number(value) - 1];
    return STATUSES.find(s => s === value.toUpperCase());
  }
  return undefined;
}
