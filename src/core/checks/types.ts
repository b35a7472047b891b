/**
 * Gate checks: shared types. A promotion policy (schemas/promotion.schema.json) lists checks; each check reads the
 * evaluation data (and the reference data, the model, or a predictions file) and produces a CheckResult. The gate
 * (src/core/checks/gate.ts) runs them and assembles the report that `edd gate --json` prints.
 */

import type { LogReplaySummary } from '../monitor/replay';

export type CheckStatus = 'pass' | 'fail' | 'warn' | 'error';

/** One column of a data set: numbers (NaN = missing) or strings (null = missing). */
export type Column = { kind: 'number'; values: Float64Array } | { kind: 'string'; values: Array<string | null> };

/** A data set read from CSV or JSONL, column by column (compact: 100,000 rows × 20 features ≈ 16 MB). */
export interface Dataset {
  file: string;
  rows: number;
  /** Column names in file order. */
  names: string[];
  columns: Map<string, Column>;
}

/** Predictions of the model under test on the evaluation rows (row i of `eval`). */
export interface ModelOutputs {
  /** Class names in output order (from the model's metadata, or `score_<class>` columns). */
  classes: string[];
  /** Class probabilities, rows × classes, row-major. */
  scores: Float32Array;
  /** Predicted class per row (argmax). */
  yPred: string[];
}

/** Runs the model on feature rows (row-major float32, rows × features); only for checks that perturb inputs. */
export type Predict = (features: Float32Array, rows: number) => Promise<Float32Array>;

/** Everything a check may read. Missing pieces make checks that need them report `error` with the reason. */
export interface GateContext {
  /** Workspace root; relative paths in the policy resolve against it. */
  root: string;
  eval: Dataset;
  reference?: Dataset;
  /** Name of the label column in `eval` (and `reference`); none in a data-only gate (see {@link labelOf}). */
  label?: string;
  /** Feature columns, in the model's input order. */
  features: string[];
  /** Outputs of the candidate on `eval` (from running the ONNX model, or from a predictions file). */
  outputs?: ModelOutputs;
  /** The candidate's ONNX file (model checks: output, perturbation, latency, size). */
  modelFile?: string;
  predict?: Predict;
  /** Outputs of the production model on the same rows (regression check). */
  production?: ModelOutputs & { label: string };
}

/** The result of one check, as the report and the JUnit file show it. */
export interface CheckResult {
  /** Stable id: `<index>-<kind>` (e.g. `3-bias`); Test Explorer items and JUnit test cases use it. */
  id: string;
  /** The policy key: `metric`, `regression`, `output`, `perturbation`, `rule`, `bias`, `data_schema`, `drift`, `anomalies`, `latency`, `size`. */
  kind: string;
  /** Human title, e.g. "f1 (macro) ≥ 0.9". */
  title: string;
  status: CheckStatus;
  /** Measured values under snake_case keys named as scikit-learn / Fairlearn / scipy name them. */
  measured: Record<string, unknown>;
  /** The thresholds the policy set. */
  threshold: Record<string, unknown>;
  /** What supports the verdict: the worst group, offending rows, drifted columns, … (small: at most ~50 items). */
  evidence?: unknown;
  /** One sentence for the user: what was measured against what, and what to do when it fails. */
  message: string;
  durationMs: number;
  /** Where the check is declared in the policy (offset/length of its list item), for diagnostics. */
  source?: { offset: number; length: number };
}

export interface GateReport {
  policy: string;
  passed: boolean;
  /** Counts per status. */
  summary: Record<CheckStatus, number>;
  checks: CheckResult[];
  startedAt: string;
  durationMs: number;
  candidate: { model?: string; run?: string; onnx?: string; predictions?: string };
  /** When the predictions were a prediction log (`.edd/serving/<model>/`): the range read and what was left out. */
  log?: LogReplaySummary;
}
