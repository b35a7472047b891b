/** Running experiment configs and recording them: the glue between the runner and the store, used by CLI and extension. */
export { readRunSpec, ConfigNotRunnableError } from './spec';
export type { RunSpec } from './spec';
export { executeRun, runFolder } from './execute';
export type { ExecuteOptions, ExecuteResult } from './execute';
export { planReproduction, environmentDifferences, metricDifferences, findRun, RunNotFoundError } from './reproduce';
export type { Difference, ReproductionPlan, MetricDifference } from './reproduce';
export { currentOwner, isOrphaned, orphanedRuns, recoverInterruptedRuns } from './recover';
export type { RecoveredRun } from './recover';
export { onnxProblem } from './onnx';
