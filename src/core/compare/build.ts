import * as fs from 'fs';
import * as path from 'path';
import { t } from '../l10n';
import type { ArtifactRecord, RunRecord, RunStore } from '../store';
import { measureLatency, ModelRunError, type Latency } from './latency';
import type {
  Comparison, ComparedRun, CostRow, Curve, EvaluationRow, Goal, HypothesisVerdict, MetricRow, ParamRow, RateInterval, SignificanceResult,
} from './model';
import { pairPredictions, readPredictions, type Predictions } from './predictions';
import { evaluatePredictions, significanceBetweenGroups, significanceOnPredictions, wilsonOnPredictions } from './significance';

export interface CompareOptions {
  /** Workspace root: artifact paths are relative to it. */
  workspaceRoot: string;
  /** Run id (or unique prefix) of the baseline; default: the first compared run. */
  baseline?: string;
  /** Whether higher or lower is better, per metric; the rest is inferred from the name. */
  goals?: Record<string, Goal>;
  /** Significance level. Default 0.05. */
  alpha?: number;
  /** Run the model artifacts to measure latency (default true). */
  measureLatency?: boolean;
  /** Seed of the paired bootstrap (default 20250101, so a comparison is reproducible). */
  seed?: number;
  bootstrapResamples?: number;
  /** Latency per model file (path + mtime): a panel that rebuilds while a run goes on measures each model once. */
  latencyCache?: Map<string, Latency | Error>;
}

/** A name that says smaller is better: losses, errors, latencies, durations, perplexity. */
const lowerIsBetter = /(loss|error|err$|mse|mae|rmse|latency|time|duration|perplexity|memory|size)/i;

export function goalOf(metric: string, goals?: Record<string, Goal>): Goal {
  return goals?.[metric] ?? (lowerIsBetter.test(metric) ? 'min' : 'max');
}

/** Which runs a target names: an experiment id (all its finished runs, as seeds of one design) or a run id / prefix. */
export interface ResolvedTargets {
  runs: RunRecord[];
  /** Groups for Welch's t: one per experiment target with its runs (empty when only runs were named). */
  groups: Array<{ experimentId: string; runs: RunRecord[] }>;
}

export class CompareError extends Error {}

export function resolveTargets(store: RunStore, targets: readonly string[]): ResolvedTargets {
  const runs: RunRecord[] = [];
  const groups: ResolvedTargets['groups'] = [];
  const seen = new Set<string>();
  let all: RunRecord[] | undefined;
  for (const target of targets) {
    if (store.getExperiment(target)) {
      const members = store.listRuns({ experimentId: target, status: 'finished' }).map(r => store.getRun(r.id)!).reverse();
      if (members.length === 0) throw new CompareError(t('Experiment {0} has no finished runs to compare.', target));
      groups.push({ experimentId: target, runs: members });
      for (const r of members) if (!seen.has(r.id)) { seen.add(r.id); runs.push(r); }
      continue;
    }
    let run = store.getRun(target);
    if (!run && target.length >= 4) {
      all ??= store.listRuns({}).map(r => r as unknown as RunRecord);
      const matches = all.filter(r => r.id.startsWith(target));
      if (matches.length > 1) throw new CompareError(t('Run id prefix {0} is ambiguous: {1} runs start with it.', target, matches.length));
      if (matches.length === 1) run = store.getRun(matches[0].id);
    }
    if (!run) throw new CompareError(t('{0} is neither an experiment nor a run in this store. `edd runs` lists them.', target));
    if (!seen.has(run.id)) { seen.add(run.id); runs.push(run); }
  }
  if (runs.length < 2) throw new CompareError(t('A comparison needs at least two runs; these targets name {0}.', runs.length));
  return { runs, groups };
}

function display(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

function label(run: RunRecord, all: RunRecord[]): string {
  const sameExperiment = all.filter(r => r.experimentId === run.experimentId).length;
  if (sameExperiment === 1) return run.experimentId;
  return run.seed !== null ? `${run.experimentId} (seed ${run.seed})` : `${run.experimentId} ${run.id.slice(0, 8)}`;
}

function artifactFile(root: string, a: ArtifactRecord): string {
  return path.isAbsolute(a.path) ? a.path : path.join(root, a.path);
}

function modelArtifact(artifacts: ArtifactRecord[]): ArtifactRecord | undefined {
  return artifacts.find(a => a.kind === 'model' && a.path.endsWith('.onnx')) ?? artifacts.find(a => a.path.endsWith('.onnx'));
}

function predictionsArtifact(artifacts: ArtifactRecord[]): ArtifactRecord | undefined {
  return artifacts.find(a => a.kind === 'predictions') ?? artifacts.find(a => /predictions.*\.csv$/i.test(a.path));
}

/**
 * Build the comparison of the targets' runs: params side by side, metrics (final, best, last, deltas to the
 * baseline, the best run per metric), significance (Welch across seeds of experiments; McNemar and a paired
 * bootstrap on per-example predictions), Wilson intervals, resources and model complexity (measured latency).
 */
export async function buildComparison(store: RunStore, targets: readonly string[], options: CompareOptions): Promise<Comparison> {
  const { runs, groups } = resolveTargets(store, targets);
  const alpha = options.alpha ?? 0.05;
  let baselineIndex = 0;
  if (options.baseline) {
    baselineIndex = runs.findIndex(r => r.id === options.baseline || r.id.startsWith(options.baseline!) || r.experimentId === options.baseline);
    if (baselineIndex < 0) throw new CompareError(t('The baseline {0} is not one of the compared runs.', options.baseline));
  }
  const compared: ComparedRun[] = runs.map((r, i) => ({
    runId: r.id, experimentId: r.experimentId, label: label(r, runs), status: r.status, startedAt: r.startedAt, seed: r.seed, isBaseline: i === baselineIndex,
  }));

  // Params: the union of keys, "differs" when not every run has the same value.
  const paramKeys = [...new Set(runs.flatMap(r => Object.keys(r.params)))].sort();
  const params: ParamRow[] = paramKeys.map(key => {
    const values = runs.map(r => (key in r.params ? display(r.params[key]) : null));
    return { key, values, differs: new Set(values).size > 1 };
  });

  // Metrics: final (highest step), best (over all steps, by goal), last (latest logged). One pass over each run's
  // points (they were filtered once per metric: 30 metrics × a million points was 30 million visits).
  const summaries = runs.map(r => summarise(store.getMetrics(r.id)));
  const finals = runs.map(r => store.finalMetrics(r.id));
  const metricKeys = [...new Set(finals.flatMap(f => Object.keys(f)))].sort();
  const curveMetrics: string[] = [];
  const metrics: MetricRow[] = metricKeys.map(key => {
    const goal = goalOf(key, options.goals);
    const final = finals.map(f => (key in f ? f[key] : null));
    let multiStep = false;
    const best = summaries.map(sm => {
      const k = sm.get(key);
      if (!k || k.finite === 0) return null;
      if (k.finite > 1) multiStep = true;
      return goal === 'max' ? k.max : k.min;
    });
    const last = summaries.map(sm => sm.get(key)?.last ?? null);
    if (multiStep) curveMetrics.push(key);
    const base = final[baselineIndex];
    const delta = final.map(v => (v === null || base === null ? null : v - base));
    let bestRun: number | null = null;
    final.forEach((v, i) => {
      if (v === null || !Number.isFinite(v)) return;
      const current = bestRun === null ? null : final[bestRun];
      if (current === null || (goal === 'max' ? v > current! : v < current!)) bestRun = i;
    });
    return { key, goal, final, best, last, delta, bestRun };
  });

  // Significance between experiments (seeds): Welch's t on the final value of every metric both sides have.
  const significance: SignificanceResult[] = [];
  if (groups.length >= 2) {
    const baseGroup = groups.find(g => g.runs.some(r => r.id === runs[baselineIndex].id)) ?? groups[0];
    for (const g of groups) {
      if (g === baseGroup) continue;
      if (baseGroup.runs.length < 2 || g.runs.length < 2) {
        // One row, not one per metric: the reason is the same for all of them.
        significance.push({
          test: 'welch_t', metric: t('(all metrics)'), a: baseGroup.experimentId, b: g.experimentId, n: [baseGroup.runs.length, g.runs.length],
          statistic: null, df: null, p_value: null, alpha, outcome: 'undecidable',
          verdict: t('cannot test: Welch\'s t needs at least two runs (seeds) on each side; {0} has {1}, {2} has {3}', baseGroup.experimentId, baseGroup.runs.length, g.experimentId, g.runs.length),
        });
        continue;
      }
      for (const m of metrics) {
        const a = baseGroup.runs.map(r => store.finalMetrics(r.id)[m.key]).filter((v): v is number => Number.isFinite(v));
        const b = g.runs.map(r => store.finalMetrics(r.id)[m.key]).filter((v): v is number => Number.isFinite(v));
        if (a.length === 0 || b.length === 0) continue;
        significance.push(significanceBetweenGroups(baseGroup.experimentId, g.experimentId, m.key, a, b, m.goal, alpha));
      }
    }
  }

  // Per-example predictions: McNemar on correctness and a paired bootstrap of accuracy, baseline vs each run.
  const artifacts = runs.map(r => store.getArtifacts(r.id));
  const predictions: Array<Predictions | Error | undefined> = artifacts.map(list => {
    const a = predictionsArtifact(list);
    if (!a) return undefined;
    try {
      return readPredictions(artifactFile(options.workspaceRoot, a));
    } catch (e) {
      return e as Error;
    }
  });
  const intervals: RateInterval[] = [];
  const evaluation: EvaluationRow[] = [];
  predictions.forEach((p, i) => {
    if (!p || p instanceof Error) return;
    intervals.push(wilsonOnPredictions(runs[i].id, p, 0.95));
    evaluation.push(evaluatePredictions(runs[i].id, p));
  });
  const basePred = predictions[baselineIndex];
  runs.forEach((r, i) => {
    if (i === baselineIndex) return;
    const p = predictions[i];
    if (!basePred || !p) return;
    const a = runs[baselineIndex].id;
    if (basePred instanceof Error || p instanceof Error) {
      const err = basePred instanceof Error ? basePred : (p as Error);
      significance.push({ test: 'mcnemar', metric: 'accuracy', a, b: r.id, n: 0, statistic: null, p_value: null, verdict: t('cannot test: {0}', err.message), outcome: 'undecidable', alpha });
      return;
    }
    try {
      const paired = pairPredictions(basePred, p);
      significance.push(...significanceOnPredictions(a, r.id, paired, alpha, options.seed ?? 20250101, options.bootstrapResamples ?? 2000));
    } catch (e) {
      significance.push({ test: 'mcnemar', metric: 'accuracy', a, b: r.id, n: 0, statistic: null, p_value: null, verdict: t('cannot test: {0}', (e as Error).message), outcome: 'undecidable', alpha });
    }
  });

  // Cost: resources while training; model size and measured inference latency.
  const costs: CostRow[] = [];
  for (let i = 0; i < runs.length; i++) {
    const r = runs[i];
    const model = modelArtifact(artifacts[i]);
    const row: CostRow = {
      runId: r.id,
      duration_s: r.durationMs === null ? null : r.durationMs / 1000,
      peak_memory_mb: r.peakMemoryBytes === null ? null : r.peakMemoryBytes / 1048576,
      model_path: model?.path ?? null,
      model_size_bytes: model?.size ?? null,
      latency_p50_ms: null,
      latency_p95_ms: null,
      throughput_per_s: null,
    };
    if (model && options.measureLatency !== false) {
      const file = artifactFile(options.workspaceRoot, model);
      try {
        const stat = fs.statSync(file);
        if (row.model_size_bytes === null) row.model_size_bytes = stat.size;
        const key = `${file}:${stat.mtimeMs}:${stat.size}`;
        let l = options.latencyCache?.get(key);
        if (!l) {
          l = await measureLatency(file).catch((e: Error) => e);
          options.latencyCache?.set(key, l);
        }
        if (l instanceof Error) throw l;
        row.latency_p50_ms = l.p50Ms;
        row.latency_p95_ms = l.p95Ms;
        row.throughput_per_s = l.throughputPerS;
      } catch (e) {
        row.latency_error = e instanceof ModelRunError ? e.message : t('latency not measured: {0}', (e as Error).message);
      }
    }
    costs.push(row);
  }

  const experimentIds = [...new Set(runs.map(r => r.experimentId))];
  const hypotheses: HypothesisVerdict[] = experimentIds.map(id => {
    const e = store.getExperiment(id);
    return { experimentId: id, status: e?.hypothesisStatus ?? 'open', decidedBy: e?.hypothesisDecidedBy ?? null, decidedAt: e?.hypothesisDecidedAt ?? null };
  });

  return { runs: compared, baselineIndex, params, metrics, significance, intervals, costs, curveMetrics, hypotheses, evaluation, builtAt: Date.now() };
}

interface KeySummary {
  /** Finite values, and their min and max. */
  finite: number;
  min: number;
  max: number;
  /** The value logged last (by time, then step); may be NaN. */
  last: number;
  lastTime: number;
  lastStep: number;
}

function summarise(points: ReadonlyArray<{ key: string; step: number; value: number; time: number | null }>): Map<string, KeySummary> {
  const out = new Map<string, KeySummary>();
  for (const p of points) {
    let k = out.get(p.key);
    const time = p.time ?? 0;
    if (!k) {
      k = { finite: 0, min: Infinity, max: -Infinity, last: p.value, lastTime: time, lastStep: p.step };
      out.set(p.key, k);
    } else if (time > k.lastTime || (time === k.lastTime && p.step >= k.lastStep)) {
      k.last = p.value;
      k.lastTime = time;
      k.lastStep = p.step;
    }
    if (Number.isFinite(p.value)) {
      k.finite++;
      if (p.value < k.min) k.min = p.value;
      if (p.value > k.max) k.max = p.value;
    }
  }
  return out;
}

/** Curves of one metric for the compared runs (every point; `curveFrame` reduces them for a plot). */
export function curvesOf(store: RunStore, runIds: readonly string[], metric: string): Curve[] {
  return runIds.map(runId => {
    const { steps, values } = store.getCurve(runId, metric);
    return { runId, metric, steps, values };
  });
}

/**
 * The verdict a comparison suggests for experiment `experimentId`'s hypothesis (that it beats the baseline): the
 * first decisive test on `metric` (or any metric) that compares it with the baseline.
 */
export function suggestVerdict(c: Comparison, experimentId: string, metric?: string): { status: HypothesisVerdict['status']; decidedBy: string } | undefined {
  const base = c.runs[c.baselineIndex];
  const ids = new Set(c.runs.filter(r => r.experimentId === experimentId).map(r => r.runId));
  const relevant = c.significance.filter(s => (s.b === experimentId || ids.has(s.b)) && (s.a === base.experimentId || s.a === base.runId) && (!metric || s.metric === metric) && s.outcome !== 'undecidable');
  if (relevant.length === 0) return undefined;
  const decisive = relevant.find(s => s.outcome === 'better' || s.outcome === 'worse') ?? relevant[0];
  const status = decisive.outcome === 'better' ? 'supported' : decisive.outcome === 'worse' ? 'refuted' : 'inconclusive';
  return { status, decidedBy: `${decisive.test} on ${decisive.metric}: ${decisive.verdict}` };
}
