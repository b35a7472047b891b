import { markdownCell } from '../inert';
import type { Comparison, SignificanceResult } from './model';

/**
 * The comparison as `edd compare --json` prints it: snake_case keys named as scipy / statsmodels name the
 * statistics (`welch_t`, `df`, `p_value`, `ci_low`, `ci_high`, `mcnemar_statistic`, `mcnemar_p_value`,
 * `wilson_low`, `wilson_high`), values keyed by run id.
 */
export function comparisonJson(c: Comparison): Record<string, unknown> {
  const ids = c.runs.map(r => r.runId);
  const byRun = <T>(values: T[]) => Object.fromEntries(values.map((v, i) => [ids[i], v]));
  return {
    baseline: ids[c.baselineIndex],
    runs: c.runs.map(r => ({ run_id: r.runId, experiment_id: r.experimentId, label: r.label, status: r.status, seed: r.seed, is_baseline: r.isBaseline })),
    params: c.params.map(p => ({ key: p.key, differs: p.differs, values: byRun(p.values) })),
    metrics: c.metrics.map(m => ({
      key: m.key, goal: m.goal, best_run: m.bestRun === null ? null : ids[m.bestRun],
      final: byRun(m.final), best: byRun(m.best), last: byRun(m.last), delta: byRun(m.delta),
    })),
    evaluation: (c.evaluation ?? []).map(e => ({ run_id: e.runId, n: e.n, accuracy: e.accuracy, f1: e.f1, roc_auc: e.roc_auc })),
    significance: c.significance.map(significanceJson),
    intervals: c.intervals.map(i => ({
      run_id: i.runId, metric: i.metric, successes: i.successes, n: i.n, rate: i.rate, wilson_low: i.wilson_low, wilson_high: i.wilson_high, confidence: i.confidence,
    })),
    costs: c.costs.map(k => ({
      run_id: k.runId, duration_s: k.duration_s, peak_memory_mb: k.peak_memory_mb, model_path: k.model_path, model_size_bytes: k.model_size_bytes,
      latency_p50_ms: k.latency_p50_ms, latency_p95_ms: k.latency_p95_ms, throughput_per_s: k.throughput_per_s, ...(k.latency_error ? { latency_error: k.latency_error } : {}),
    })),
    hypotheses: c.hypotheses.map(h => ({ experiment_id: h.experimentId, status: h.status, decided_by: h.decidedBy, decided_at: h.decidedAt === null ? null : new Date(h.decidedAt).toISOString() })),
  };
}

function significanceJson(s: SignificanceResult): Record<string, unknown> {
  const common = { test: s.test, metric: s.metric, a: s.a, b: s.b, n: s.n, alpha: s.alpha, verdict: s.verdict, outcome: s.outcome };
  if (s.test === 'welch_t') {
    return { ...common, welch_t: s.statistic, df: s.df ?? null, p_value: s.p_value, mean_difference: s.difference ?? null, ci_low: s.ci_low ?? null, ci_high: s.ci_high ?? null, confidence: s.confidence ?? null };
  }
  if (s.test.startsWith('mcnemar')) {
    return {
      ...common, mcnemar_statistic: s.statistic, mcnemar_p_value: s.p_value, exact: s.test === 'mcnemar_exact',
      ...(s.discordant ? { b_only_correct: s.discordant[1], a_only_correct: s.discordant[0] } : {}),
      ...(s.decided_by ? { mcnemar_exact_p_value: s.p_value_exact ?? null, mcnemar_chi2_statistic: s.chi2_statistic ?? null, mcnemar_chi2_p_value: s.p_value_chi2 ?? null, decided_by: s.decided_by } : {}),
    };
  }
  return { ...common, statistic: s.statistic, p_value: s.p_value, difference: s.difference ?? null, ci_low: s.ci_low ?? null, ci_high: s.ci_high ?? null, confidence: s.confidence ?? null };
}

const num = (v: number | null | undefined, digits = 4): string => {
  if (v === null || v === undefined) return '—';
  if (!Number.isFinite(v)) return String(v);
  if (Number.isInteger(v)) return String(v);
  return Math.abs(v) >= 1e4 || Math.abs(v) < 1e-3 ? v.toExponential(2) : v.toFixed(digits).replace(/0+$/, '').replace(/\.$/, '');
};

/** Every user string (ids, labels, metric and param names, values, messages) goes into a cell through this. */
const cell = markdownCell;

function table(header: string[], rows: string[][]): string {
  return [`| ${header.map(cell).join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map(r => `| ${r.join(' | ')} |`)].join('\n');
}

/** The comparison as Markdown (`edd compare --markdown`, and the panel's export). */
export function comparisonMarkdown(c: Comparison, { onlyChanged = true } = {}): string {
  const heads = ['', ...c.runs.map(r => `${r.label}${r.isBaseline ? ' (baseline)' : ''}`)];
  const out: string[] = [];
  out.push('## Runs', '', table(['run', 'experiment', 'status', 'seed'], c.runs.map(r => [cell(r.runId.slice(0, 8)), cell(r.experimentId), cell(r.status), r.seed === null ? '—' : String(r.seed)])));
  const params = c.params.filter(p => !onlyChanged || p.differs);
  if (params.length) out.push('', onlyChanged ? '## Params (only what differs)' : '## Params', '', table(heads, params.map(p => [cell(p.key), ...p.values.map(v => (v === null ? '—' : cell(v)))])));
  out.push('', '## Metrics (final value; **best**; Δ to the baseline)', '', table(heads, c.metrics.map(m => [
    `${cell(m.key)} (${m.goal === 'max' ? '↑' : '↓'})`,
    ...m.final.map((v, i) => {
      const text = `${num(v)}${i !== c.baselineIndex && m.delta[i] !== null ? ` (${m.delta[i]! >= 0 ? '+' : ''}${num(m.delta[i])})` : ''}`;
      return i === m.bestRun ? `**${text}**` : text;
    }),
  ])));
  if (c.significance.length) {
    out.push('', '## Significance', '', table(['test', 'metric', 'A', 'B', 'n', 'statistic', 'p-value', 'CI of B − A', 'verdict'], c.significance.map(s => [
      s.test, cell(s.metric), cell(labelOf(c, s.a)), cell(labelOf(c, s.b)), Array.isArray(s.n) ? s.n.join(' / ') : String(s.n), num(s.statistic), num(s.p_value),
      s.ci_low !== undefined && s.ci_low !== null ? `[${num(s.ci_low)}, ${num(s.ci_high)}]` : '—', cell(s.verdict),
    ])));
  }
  if (c.intervals.length) {
    out.push('', '## Accuracy with Wilson 95% intervals', '', table(['run', 'accuracy', 'interval', 'n'], c.intervals.map(i => [cell(labelOf(c, i.runId)), num(i.rate), `[${num(i.wilson_low)}, ${num(i.wilson_high)}]`, String(i.n)])));
  }
  out.push('', '## Cost', '', table(['run', 'duration (s)', 'peak memory (MB)', 'model size (bytes)', 'latency p50 (ms)', 'latency p95 (ms)', 'throughput (/s, batch 256)'], c.costs.map(k => [
    cell(labelOf(c, k.runId)), num(k.duration_s, 2), num(k.peak_memory_mb, 1), k.model_size_bytes === null ? '—' : String(k.model_size_bytes),
    num(k.latency_p50_ms), num(k.latency_p95_ms), k.throughput_per_s === null ? (k.latency_error ? cell(k.latency_error) : '—') : num(Math.round(k.throughput_per_s)),
  ])));
  if (c.hypotheses.length) out.push('', '## Hypotheses', '', table(['experiment', 'status', 'decided by'], c.hypotheses.map(h => [cell(h.experimentId), cell(h.status), h.decidedBy ? cell(h.decidedBy) : '—'])));
  return out.join('\n') + '\n';
}

function labelOf(c: Comparison, id: string): string {
  return c.runs.find(r => r.runId === id)?.label ?? id;
}
