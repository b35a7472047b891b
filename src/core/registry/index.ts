// The model registry: versions of models registered from runs, stages, aliases, approvals, rollback and the audit
// log (records in the run store), and the gate run against the store (reports stored with runs and versions).
export { RegistryError, parseModelRef, resolveVersion, versionFile, resolveActor, modelArtifactOf, findRun, registerRun, gateStatus, planPromotion, promote, promotionOutcome, recordRefusal, describeAuditProblem, setAlias, rollback, rollbackOutcome, recordThresholdChange, describeThresholdsEntry } from './registry';
export type { ThresholdRecord } from './registry';
export type { GateState, PromotionPlan, PromotionOutcome } from './registry';
export { gateWithStore, shadowEvaluate, findPolicyFiles, validPolicies, policiesForModel, gateRequired } from './gate';
export type { GateTarget, StoreGateOptions, StoreGateResult } from './gate';
