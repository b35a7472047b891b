// The run store: experiments, runs, metric summaries, artifacts and the registry in an SQLite index per workspace
// (sql.js, loaded on first open; saves append to its operation log, `<file>.oplog`) whose old runs are sealed into immutable segment files; metric histories, config snapshots and environments in per-run files. Importing this
// module does not load sql.js.
export { RunStore } from './runStore';
export { logFileOf } from './oplog';
export type { RunStoreOptions } from './runStore';
export { StoreError, StoreCorruptError, StoreVersionError, StoreLockError } from './errors';
export { StoreNotFoundError } from './errors';
export { STAGES } from './registryTypes';
export type {
  Stage, ModelRecord, ModelVersionRecord, AuditAction, AuditEntry, AuditEntryRef, AuditProblem, AuditVerification, StoredGateReport, NewGateReport, GateReportQuery,
  NewModelVersion, StageChange, AliasChange, RollbackRequest, RollbackPlan, RefusedPromotion, CanaryDecision, ThresholdsChange,
} from './registryTypes';
export { NAME_PATTERN } from './registryOps';
export { SCHEMA_VERSION, MIGRATIONS } from './schema';
export type { Migration } from './schema';
export { defaultWasmPath } from './sqljs';
export { RUN_STATUSES, HYPOTHESIS_STATUSES } from './types';
export type {
  RunStatus, HypothesisStatus, JsonObject, ExperimentInput, ExperimentRecord, ExperimentSummary, RunRecord, NewRun, RunPatch, RunSummary,
  MetricPoint, StoredMetricPoint, ArtifactRecord, ListRunsOptions, StoreChange, StoreSaved, Unsubscribe,
} from './types';
