// Record types of the model registry and of stored gate reports (tables added by schema version 4). The rules that
// decide whether a promotion is allowed live in src/core/registry; the store only records what was decided.

/** Where a model version is in its lifecycle. New versions start at `none`. */
export type Stage = 'none' | 'staging' | 'production' | 'archived';

export const STAGES: readonly Stage[] = ['none', 'staging', 'production', 'archived'];

/** A registered model: a name that versions are registered under. */
export interface ModelRecord {
  name: string;
  createdAt: number;
  /** Number of versions. */
  versionCount: number;
  /** The version in production, if any. */
  productionVersion: number | null;
  /** The newest version number, if any. */
  latestVersion: number | null;
}

/** One registered version of a model. */
export interface ModelVersionRecord {
  model: string;
  /** 1, 2, 3, … per model, in registration order. */
  version: number;
  /** Stable identity (UUID): version numbers are assigned when the registration is written, ids never change. */
  id: string;
  stage: Stage;
  /** Aliases pointing at this version (`champion`, `challenger`, …), sorted. */
  aliases: string[];
  /** The run whose model artifact was registered, if any. */
  runId: string | null;
  /** Where the model came from (the run's artifact path, workspace-relative), for the record. */
  sourcePath: string | null;
  /** The registry's own copy of the model file, relative to the store's folder (e.g. `models/penguins/<sha>.onnx`). */
  file: string;
  sha256: string;
  size: number;
  /** The run's final metrics when the version was registered. */
  metrics: Record<string, number>;
  createdAt: number;
  createdBy: string | null;
  stageChangedAt: number | null;
}

/** What a registry change was. */
export type AuditAction = 'register' | 'promote' | 'archive' | 'alias' | 'rollback';

/** One entry of the append-only audit log. */
export interface AuditEntry {
  /** Position in the log (1, 2, …); entries are never updated or deleted. */
  seq: number;
  id: string;
  at: number;
  /** Who made the change (`Name <email>` from git, a setting, or `--user`). */
  actor: string;
  action: AuditAction;
  model: string;
  version: number | null;
  fromStage: Stage | null;
  toStage: Stage | null;
  alias: string | null;
  reason: string | null;
  /** True when a promotion overrode a failed or missing gate. */
  forced: boolean;
  /** Anything else worth keeping: the gate report the decision was based on, the version a rollback replaced, … */
  details: Record<string, unknown>;
}

/** A gate report as stored: the report itself plus what it was about. */
export interface StoredGateReport {
  id: string;
  createdAt: number;
  /** Workspace-relative policy path as the report names it. */
  policy: string;
  passed: boolean;
  runId: string | null;
  model: string | null;
  version: number | null;
  /** sha256 of the ONNX file the gate ran (how a registered version finds the reports of its file). */
  modelSha256: string | null;
  /** The GateReport JSON (src/core/checks/types.ts). */
  report: unknown;
}

/** What `addGateReport` takes. */
export interface NewGateReport {
  policy: string;
  passed: boolean;
  report: unknown;
  runId?: string | null;
  model?: string | null;
  version?: number | null;
  modelSha256?: string | null;
  createdAt?: number;
}

/** Filters of `listGateReports` (newest first). A version's reports are those of its file or naming it. */
export interface GateReportQuery {
  runId?: string;
  modelSha256?: string;
  model?: string;
  version?: number;
  limit?: number;
}

/** What `registerModelVersion` takes: the model file as copied into the registry, and where it came from. */
export interface NewModelVersion {
  model: string;
  runId?: string | null;
  /** Where the file was registered from (workspace-relative). */
  sourcePath?: string | null;
  /** The registry's copy of the file. */
  file: string;
  sha256: string;
  size: number;
  metrics?: Record<string, number>;
  actor: string;
  reason?: string | null;
}

/** What `setModelStage` takes: a version (by id) and the stage it moves to, with why and who. */
export interface StageChange {
  versionId: string;
  to: Stage;
  actor: string;
  reason?: string | null;
  /** True when a refused promotion went through by override (recorded in the audit log). */
  forced?: boolean;
  /** Recorded with the audit entry (the gate's verdicts, the refusals overridden). */
  details?: Record<string, unknown>;
}

/** What `setModelAlias` takes. */
export interface AliasChange {
  versionId: string;
  alias: string;
  actor: string;
  reason?: string | null;
}

/** What `rollbackModel` takes. */
export interface RollbackRequest {
  model: string;
  actor: string;
  reason?: string | null;
}

/** What a rollback of a model would do: the current production version and the one it restores. */
export interface RollbackPlan {
  current: number;
  target: number;
}
