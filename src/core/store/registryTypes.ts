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

/**
 * What a registry change was. `promote-refused`: a promotion the rules refused (a failed or missing gate without an
 * override), or one that lost a race with a concurrent promotion to production; it changes nothing but is recorded.
 * `canary`: a decision of a canary or shadow deployment (start, step, rollback, stop) with the numbers that made it;
 * it changes no stage or alias (a canary's promotion is a `promote` entry of its own).
 * `thresholds`: per-group decision thresholds written into a service spec's `postprocess` (`edd monitor
 * --suggest-thresholds --apply` or `auto_correct`); it changes how the served version decides, not the registry.
 */
export type AuditAction = 'register' | 'promote' | 'archive' | 'alias' | 'rollback' | 'promote-refused' | 'canary' | 'thresholds';

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
  /** SHA-256 of the previous entry (null for the first) and of this entry's content with it: the hash chain. */
  prevHash: string | null;
  hash: string | null;
}

/** An entry as a verification names it. */
export interface AuditEntryRef {
  seq: number;
  id: string;
  at: number;
  action: string;
  model: string;
  version: number | null;
}

/**
 * The first thing `verifyAuditLog` found wrong:
 * - `gap`: an entry is missing (the log jumps to `entry`); `unchained`: an entry has no hash;
 * - `link`: an entry does not name the previous entry's hash (one was deleted, inserted or reordered before it);
 * - `content`: an entry's content does not match its own hash (it was rewritten);
 * - `tail`: the log ends before the last entry the store recorded (entries were deleted from the end);
 * - `stage`: a version's stage is not what the log leaves it in; `unrecorded`: a version without a registration;
 *   `missing-version`: the log registers a version the registry no longer has; `alias`: an alias disagrees with the log.
 */
export type AuditProblem =
  | { kind: 'gap'; entry: AuditEntryRef; expectedSeq: number }
  | { kind: 'unchained' | 'link' | 'content'; entry: AuditEntryRef }
  | { kind: 'tail'; lastSeq: number; recordedSeq: number | null }
  | { kind: 'stage'; model: string; version: number; stage: Stage; logged: Stage; entry: AuditEntryRef }
  | { kind: 'unrecorded'; model: string; version: number; stage: Stage }
  | { kind: 'missing-version'; model: string; version: number }
  | { kind: 'alias'; model: string; alias: string; version: number | null; logged: number | null; entry?: AuditEntryRef };

/** What `verifyAuditLog` found. */
export interface AuditVerification {
  ok: boolean;
  /** Entries whose chain was checked (all of them when `ok`). */
  entries: number;
  /** Model versions whose stage was checked against the log. */
  versions: number;
  /** Hash of the last good entry (the whole log's head when `ok`): keep it elsewhere to detect a recomputed chain. */
  head: string | null;
  /** Entries #1..`through` existed before the chain was introduced and were chained when the store was migrated (`at`). */
  migrated: { through: number; at: number } | null;
  problem: AuditProblem | null;
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
  /** The id the audit entry gets (to find out after the save whether a concurrent promotion overtook this one). */
  auditId?: string;
}

/** What `recordCanaryDecision` takes: the version under canary, and the decision with its numbers in `details`. */
export interface CanaryDecision {
  versionId: string;
  actor: string;
  reason?: string | null;
  details: Record<string, unknown>;
}

/** What `recordRefusedPromotion` takes: the promotion the rules refused, and why. */
export interface RefusedPromotion {
  versionId: string;
  to: Stage;
  actor: string;
  reason?: string | null;
  /** The refusals and the gate's verdicts. */
  details: Record<string, unknown>;
}

/** What `setModelAlias` takes. */
export interface AliasChange {
  versionId: string;
  alias: string;
  actor: string;
  reason?: string | null;
  /** The audit id of the promotion this alias goes with: the alias does not move when that promotion is overtaken. */
  withPromotion?: string;
}

/** What `recordThresholds` takes: thresholds written into a service spec for the version it serves. */
export interface ThresholdsChange {
  model: string;
  /** The version the spec served when they were written (null: the model has no such version in this store). */
  version: number | null;
  actor: string;
  reason?: string | null;
  /** The spec, the column, the metric and bound, the thresholds written and those they replaced, before/after numbers. */
  details: Record<string, unknown>;
}

/** What `rollbackModel` takes. */
export interface RollbackRequest {
  model: string;
  actor: string;
  reason?: string | null;
  /** The id the audit entry gets (a rollback overtaken by another change to production leaves none). */
  auditId?: string;
}

/** What a rollback of a model would do: the current production version and the one it restores. */
export interface RollbackPlan {
  current: number;
  target: number;
}
