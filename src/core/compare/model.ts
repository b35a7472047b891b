/**
 * The comparison of runs, as data: built by src/core/compare from the store, printed by `edd compare`, and sent to
 * the comparison panel (src/protocol/compare.ts carries it unchanged). Keys of the statistics are named as scipy /
 * statsmodels name them, so the CLI's JSON reads like the reference libraries.
 */

/** Whether a larger value of a metric is better. Inferred from the name (loss/error/latency lower), configurable. */
export type Goal = 'max' | 'min';

/** One compared run (a column of the table). */
export interface ComparedRun {
  runId: string;
  experimentId: string;
  /** Short label for headers: experiment id + start time or seed. */
  label: string;
  status: 'queued' | 'running' | 'finished' | 'failed' | 'cancelled' | 'interrupted';
  startedAt: number | null;
  seed: number | null;
  isBaseline: boolean;
}

/** One parameter across the runs (a row of the params table). `values[i]` belongs to `runs[i]`. */
export interface ParamRow {
  key: string;
  /** Display strings (JSON for non-strings); `null` = the run has no such param. */
  values: Array<string | null>;
  /** True when not all runs have the same value (the "only what differs" toggle keeps these). */
  differs: boolean;
}

/** One metric across the runs. `final[i]` etc. belong to `runs[i]`; `null` = the run did not log it. */
export interface MetricRow {
  key: string;
  goal: Goal;
  /** Value at the highest step. */
  final: Array<number | null>;
  /** Best value over all steps (max or min by `goal`). */
  best: Array<number | null>;
  /** Last value logged (by time). */
  last: Array<number | null>;
  /** `final[i] - final[baseline]`. */
  delta: Array<number | null>;
  /** Index of the run with the best final value (ties: the first), or null. */
  bestRun: number | null;
}

/** A statistical comparison of B against A, with the test that decided it. */
export interface SignificanceResult {
  /** e.g. `welch_t`, `mcnemar_exact`, `mcnemar_chi2`, `paired_bootstrap`. */
  test: string;
  metric: string;
  /** The compared sides: run ids, or experiment ids for Welch across seeds. */
  a: string;
  b: string;
  /** Sample size(s): runs per side for Welch, examples for McNemar/bootstrap. */
  n: number | [number, number];
  /** The test statistic (t, chi-square, or the observed difference for the bootstrap); null when not defined. */
  statistic: number | null;
  df?: number | null;
  p_value: number | null;
  /** Confidence interval of the difference B − A, when the test gives one. */
  ci_low?: number | null;
  ci_high?: number | null;
  confidence?: number;
  /** Mean or observed difference B − A. */
  difference?: number | null;
  /** Plain words: "B better than A, p = 0.003", "no significant difference (p = 0.41)". */
  verdict: string;
  /** `better` / `worse` = B compared with A at `alpha`; `none` = not significant; `undecidable` = test not applicable. */
  outcome: 'better' | 'worse' | 'none' | 'undecidable';
  alpha: number;
  /** McNemar: examples only A got right, and only B got right. */
  discordant?: [number, number];
  /** McNemar: the exact binomial p-value (statsmodels `mcnemar(exact=True)`), valid at every size; it decides the verdict. */
  p_value_exact?: number | null;
  /** McNemar: the chi-square statistic with continuity correction and its p-value (`exact=False`), shown beside; null without discordant pairs. */
  chi2_statistic?: number | null;
  p_value_chi2?: number | null;
  /** McNemar: which p-value decided the verdict (`exact`). */
  decided_by?: 'exact' | 'chi2';
  /** Bootstrap: number of resamples. */
  resamples?: number;
}

/** Classification metrics recomputed from a run's predictions artifact (same definitions as scikit-learn). */
export interface EvaluationRow {
  runId: string;
  n: number;
  accuracy: number;
  /** Macro F1 over the labels. */
  f1: number;
  /** One-vs-rest macro ROC AUC from the `score_<class>` columns; null without scores. */
  roc_auc: number | null;
}

/** Wilson interval of a run's accuracy on its predictions. */
export interface RateInterval {
  runId: string;
  metric: string;
  successes: number;
  n: number;
  rate: number;
  wilson_low: number;
  wilson_high: number;
  confidence: number;
}

/** Cost of a run: resources while training, complexity of the model artifact. */
export interface CostRow {
  runId: string;
  duration_s: number | null;
  peak_memory_mb: number | null;
  model_path: string | null;
  model_size_bytes: number | null;
  /** Measured by running the model with onnxruntime-node (CPU); null when there is no model or it cannot run. */
  latency_p50_ms: number | null;
  latency_p95_ms: number | null;
  /** Examples per second at batch 256. */
  throughput_per_s: number | null;
  /** Why latency could not be measured, in words the user can act on. */
  latency_error?: string;
}

/**
 * One series of a metric by step for one run, every point (never capped). The panel gets it reduced to what it can
 * draw (`curveFrame` in downsample.ts).
 */
export interface Curve {
  runId: string;
  metric: string;
  /** Ascending, each step once (columns as the store reads them). */
  steps: ArrayLike<number>;
  values: ArrayLike<number>;
}

/** Hypothesis status of an experiment, and the comparison that set it. */
export interface HypothesisVerdict {
  experimentId: string;
  status: 'open' | 'supported' | 'refuted' | 'inconclusive';
  /** The test and numbers that decided it, e.g. "welch_t on val_accuracy: B better than A, p = 0.003". */
  decidedBy: string | null;
  decidedAt: number | null;
}

export interface Comparison {
  runs: ComparedRun[];
  baselineIndex: number;
  params: ParamRow[];
  metrics: MetricRow[];
  significance: SignificanceResult[];
  intervals: RateInterval[];
  costs: CostRow[];
  /** Metric keys that have curves (more than one step in at least one run); curves are fetched per metric. */
  curveMetrics: string[];
  hypotheses: HypothesisVerdict[];
  /** Metrics recomputed from predictions artifacts, for the runs that have one. */
  evaluation?: EvaluationRow[];
  /** When the comparison was built (epoch ms). */
  builtAt: number;
}
