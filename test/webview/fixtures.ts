/**
 * Comparisons for the webview DOM tests and the render benchmark, typed against the core's model so they cannot
 * drift from what the host sends.
 */
import { columnsFor, curveFrame } from '../../src/core/compare/downsample';
import type { ComparedRun, Comparison, Curve, MetricRow, ParamRow } from '../../src/core/compare/model';
import type { CompareViewState, CurveRequest, HostMessage, SweepComparison, SweepRun } from '../../src/protocol/compare';

export const XSS = '<img src=x onerror=alert(1)>';

function run(runId: string, experimentId: string, label: string, isBaseline = false, seed: number | null = 1): ComparedRun {
  return { runId, experimentId, label, status: 'finished', startedAt: 1_700_000_000_000, seed, isBaseline };
}

function metric(key: string, goal: 'max' | 'min', final: Array<number | null>, best: Array<number | null>, last: Array<number | null>, baseline = 0): MetricRow {
  const b = final[baseline];
  const delta = final.map(v => (v === null || b === null ? null : v - b));
  let bestRun: number | null = null;
  final.forEach((v, i) => {
    if (v !== null && (bestRun === null || (goal === 'max' ? v > final[bestRun]! : v < final[bestRun]!))) bestRun = i;
  });
  return { key, goal, final, best, last, delta, bestRun };
}

/** Three runs of two experiments; the third run's label is an HTML injection attempt. */
export function smallComparison(baselineIndex = 0): Comparison {
  const runs = [
    run('run-base-0001', 'baseline', 'baseline · seed 1'),
    run('run-lr-0002', 'higher-lr', 'higher-lr · seed 1'),
    run('run-xss-0003', 'higher-lr', XSS, false, 2),
  ].map((r, i) => ({ ...r, isBaseline: i === baselineIndex }));
  const params: ParamRow[] = [
    { key: 'lr', values: ['0.01', '0.1', '0.1'], differs: true },
    { key: 'epochs', values: ['10', '10', '10'], differs: false },
    { key: 'optimizer', values: ['adam', 'adam', null], differs: true },
    { key: 'data.path', values: ['data/a,b "quoted".csv', 'data/a,b "quoted".csv', 'data/a,b "quoted".csv'], differs: false },
    { key: 'note', values: ['=cmd|x', 'plain | pipe', `<b>${XSS}</b>`], differs: true },
  ];
  const metrics: MetricRow[] = [
    metric('accuracy', 'max', [0.8, 0.85, 0.9123456], [0.81, 0.86, 0.92], [0.8, 0.85, 0.9123456], baselineIndex),
    metric('loss', 'min', [0.5, 0.4, 0.45], [0.45, 0.38, 0.44], [0.5, 0.41, 0.45], baselineIndex),
    metric('f1', 'max', [0.7, null, 0.75], [0.71, null, 0.76], [0.7, null, 0.75], baselineIndex),
  ];
  return {
    runs,
    baselineIndex,
    params,
    metrics,
    significance: [
      { test: 'welch_t', metric: 'accuracy', a: 'baseline', b: 'higher-lr', n: [3, 3], statistic: 2.5, df: 3.9, p_value: 0.03, ci_low: 0.01, ci_high: 0.09, confidence: 0.95, difference: 0.05, verdict: 'B better than A, p = 0.03', outcome: 'better', alpha: 0.05 },
      { test: 'mcnemar_exact', metric: 'accuracy', a: 'run-base-0001', b: 'run-xss-0003', n: 300, statistic: null, df: null, p_value: 0.41, verdict: `no significant difference (p = 0.41) ${XSS}`, outcome: 'none', alpha: 0.05, discordant: [12, 30] },
    ],
    intervals: [
      { runId: 'run-base-0001', metric: 'accuracy', successes: 240, n: 300, rate: 0.8, wilson_low: 0.7510, wilson_high: 0.8421, confidence: 0.95 },
      { runId: 'run-lr-0002', metric: 'accuracy', successes: 255, n: 300, rate: 0.85, wilson_low: 0.8051, wilson_high: 0.8862, confidence: 0.95 },
    ],
    costs: [
      { runId: 'run-base-0001', duration_s: 42.5, peak_memory_mb: 512, model_path: 'artifacts/model.onnx', model_size_bytes: 255, latency_p50_ms: 0.12, latency_p95_ms: 0.3, throughput_per_s: 81234 },
      { runId: 'run-lr-0002', duration_s: 3723, peak_memory_mb: 1536, model_path: null, model_size_bytes: null, latency_p50_ms: null, latency_p95_ms: null, throughput_per_s: null },
      { runId: 'run-xss-0003', duration_s: null, peak_memory_mb: null, model_path: 'm.onnx', model_size_bytes: 5_000_000, latency_p50_ms: null, latency_p95_ms: null, throughput_per_s: null, latency_error: `The model expects 20 input features but the data has 19 ${XSS}` },
    ],
    curveMetrics: ['loss', 'accuracy'],
    hypotheses: [
      { experimentId: 'baseline', status: 'open', decidedBy: null, decidedAt: null },
      { experimentId: 'higher-lr', status: 'supported', decidedBy: 'welch_t on accuracy: B better than A, p = 0.03', decidedAt: 1_700_000_500_000 },
    ],
    evaluation: [
      { runId: 'run-base-0001', n: 300, accuracy: 0.8, f1: 0.78, roc_auc: 0.91 },
      { runId: 'run-lr-0002', n: 300, accuracy: 0.85, f1: 0.84, roc_auc: null },
    ],
    builtAt: 1_700_001_000_000,
  };
}

export function stateOf(c: Comparison, patch: Partial<CompareViewState> = {}): CompareViewState {
  return { runIds: c.runs.map(r => r.runId), baselineRunId: c.runs[c.baselineIndex]?.runId, onlyChanged: false, valueKind: 'final', ...patch };
}

export function comparisonMessage(c: Comparison, patch: Partial<CompareViewState> = {}): HostMessage {
  return { type: 'comparison', comparison: c, state: stateOf(c, patch) };
}

/** Deterministic pseudo-random numbers (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `runs` runs × `metrics` metrics × `params` params, with significance, intervals and costs for every run. */
export function largeComparison(runs: number, metrics: number, params: number, seed = 7): Comparison {
  const r = rng(seed);
  const rs: ComparedRun[] = Array.from({ length: runs }, (_, i) => run(`run-${String(i).padStart(4, '0')}-${Math.floor(r() * 1e8).toString(16)}`, `exp-${i % 10}`, `exp-${i % 10} · seed ${i}`, i === 0, i));
  const ps: ParamRow[] = Array.from({ length: params }, (_, k) => {
    const differs = k % 3 === 0;
    const values = rs.map(() => (differs ? String(Math.round(r() * 1000) / 1000) : `value-${k}`));
    return { key: `param_${k}`, values, differs: differs && new Set(values).size > 1 };
  });
  const ms: MetricRow[] = Array.from({ length: metrics }, (_, k) => {
    const goal = k % 4 === 0 ? 'min' : 'max';
    const final = rs.map(() => Math.round(r() * 1e6) / 1e6);
    const best = final.map(v => v + (goal === 'max' ? 0.01 : -0.01));
    return metric(k % 4 === 0 ? `loss_${k}` : `metric_${k}`, goal, final, best, final);
  });
  return {
    runs: rs,
    baselineIndex: 0,
    params: ps,
    metrics: ms,
    significance: rs.slice(1).map((x, i) => ({
      test: 'welch_t', metric: ms[i % ms.length].key, a: rs[0].runId, b: x.runId, n: [5, 5] as [number, number], statistic: r() * 4 - 2, df: 7.5,
      p_value: r(), ci_low: -0.05, ci_high: 0.07, confidence: 0.95, difference: 0.01, verdict: 'no significant difference', outcome: 'none' as const, alpha: 0.05,
    })),
    intervals: rs.map(x => ({ runId: x.runId, metric: 'accuracy', successes: 800, n: 1000, rate: 0.8, wilson_low: 0.774, wilson_high: 0.823, confidence: 0.95 })),
    costs: rs.map(x => ({ runId: x.runId, duration_s: r() * 3600, peak_memory_mb: r() * 4096, model_path: 'model.onnx', model_size_bytes: Math.round(r() * 1e7), latency_p50_ms: r(), latency_p95_ms: r() * 2, throughput_per_s: r() * 1e5 })),
    curveMetrics: ms.map(m => m.key),
    hypotheses: Array.from({ length: 10 }, (_, i) => ({ experimentId: `exp-${i}`, status: 'open' as const, decidedBy: null, decidedAt: null })),
    builtAt: 1_700_001_000_000,
  };
}

/** A noisy decreasing loss curve of `points` steps. */
export function curve(runId: string, metric: string, points: number, seed = 1, stepEvery = 1): Curve & { steps: number[]; values: number[] } {
  const r = rng(seed);
  const steps = new Array<number>(points);
  const values = new Array<number>(points);
  for (let i = 0; i < points; i++) {
    steps[i] = i * stepEvery;
    values[i] = Math.exp(-i / (points / 4)) + 0.05 * r() + (i === Math.floor(points / 2) ? 1.5 : 0);
  }
  return { runId, metric, steps, values };
}

/** The host's reply to `request` (src/extension/compare/panel.ts does the same): `curves` reduced for the plot. */
export function curvesMessage(request: CurveRequest, curves: Curve[]): HostMessage {
  return { type: 'curves', seq: request.seq, frame: curveFrame(request.metric, curves, columnsFor(request.width, request.pixelRatio), request.range) };
}

/**
 * A sweep of `trials` trials × 3 seeds (lr × model × batch grid, cycled): the metric rises with a learning rate of
 * 0.01 and with the random forest; one model name is an HTML injection attempt. Typed against the core's model.
 */
export function sweepFixture(runs = 27, seed = 5): SweepComparison {
  const r = rng(seed);
  const lrs = [0.001, 0.01, 0.1];
  const models = ['logistic_regression', 'random_forest', XSS];
  const batches = [32, 64, 128, 256];
  const rs: SweepRun[] = Array.from({ length: runs }, (_, i) => {
    const trial = Math.floor(i / 3);
    const lr = lrs[trial % 3];
    const model = models[Math.floor(trial / 3) % 3];
    const batch = batches[Math.floor(trial / 9) % 4];
    const value = (lr === 0.01 ? 0.9 : lr === 0.1 ? 0.84 : 0.8) + (model === 'random_forest' ? 0.01 : 0) + (r() - 0.5) * 0.01;
    return {
      runId: `sweep-run-${String(i).padStart(4, '0')}-${Math.floor(r() * 1e8).toString(16)}`, trialIndex: trial, seed: i % 3, status: 'finished',
      params: { 'parameters.learning_rate': lr, 'parameters.model_type': model, ...(runs > 27 ? { 'parameters.batch_size': batch } : {}), seed: i % 3 },
      value: i === runs - 1 ? null : value,
    };
  });
  const parameters = ['parameters.learning_rate', 'parameters.model_type', ...(runs > 27 ? ['parameters.batch_size'] : []), 'seed'];
  const used = rs.filter(x => x.value !== null);
  const groups = lrs.map(lr => {
    const g = used.filter(x => x.params['parameters.learning_rate'] === lr);
    const m = g.reduce((s, x) => s + x.value!, 0) / g.length;
    return { value: String(lr), n: g.length, mean: m, sd: Math.sqrt(g.reduce((s, x) => s + (x.value! - m) ** 2, 0) / (g.length - 1)), runIds: g.map(x => x.runId) };
  });
  return {
    sweepId: 'sweep-<i>1</i>', metric: 'val_accuracy', goal: 'max', metricFrom: 'config', configPath: 'experiments/grid.yaml', parameters, runs: rs, used: used.length,
    best: { trialIndex: 1, params: { 'parameters.learning_rate': 0.01, 'parameters.model_type': 'logistic_regression' }, n: 3, mean: 0.9, sd: 0.003, runId: rs[3].runId, value: 0.904 },
    groupBy: 'parameters.learning_rate', groups,
    pairs: [
      { a: 0, b: 1, difference: -0.1, statistic: -30, df: 15.9, pValue: 1e-12, pHolm: 3e-12 },
      { a: 0, b: 2, difference: -0.04, statistic: -12, df: 15.9, pValue: 1e-8, pHolm: 2e-8 },
      { a: 1, b: 2, difference: 0.06, statistic: 18, df: 15.9, pValue: 0.02, pHolm: 0.02 },
    ],
    pairsOmitted: false, alpha: 0.05,
    importance: [
      { parameter: 'parameters.learning_rate', etaSquared: 0.93, statistic: 180, pValue: 2e-15, dfBetween: 2, dfWithin: used.length - 3, levels: 3, binned: false },
      { parameter: 'parameters.model_type', etaSquared: 0.04, statistic: 1.2, pValue: 0.31, dfBetween: 2, dfWithin: used.length - 3, levels: 3, binned: false },
      { parameter: 'seed', etaSquared: 0.01, statistic: 0.3, pValue: 0.74, dfBetween: 2, dfWithin: used.length - 3, levels: 3, binned: false },
    ],
    importanceMethod: 'anova-eta-squared',
    importanceBinning: { maxLevels: 12, bins: 4 }, // (not the defaults: the panel must say what the host used)
  };
}
