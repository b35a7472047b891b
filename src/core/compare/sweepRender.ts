import { markdownCell } from '../inert';
import { t } from '../l10n';
import type { SweepComparison } from './sweep';
import { IMPORTANCE_BINS, IMPORTANCE_MAX_LEVELS, MAX_PAIRWISE_GROUPS } from './sweep';

/** How the importance was computed, in words (the CLI prints it above the numbers; the panel says the same). */
export function importanceMethodText(metric: string): string {
  return t('Share of the variance of {0} each parameter explains: one-way ANOVA η² = SS between the parameter\'s values / SS total, over the finished runs (numeric parameters with more than {1} values are cut into {2} quantile bins). Main effects only: interactions and seed noise are the rest. p is the F test\'s p-value (whether the parameter\'s values differ at all), not corrected for the number of parameters.',
    metric, IMPORTANCE_MAX_LEVELS, IMPORTANCE_BINS);
}

const nan = (v: number): number | null => (Number.isFinite(v) ? v : null);
const finite = (v: number): number | string | null => (Number.isNaN(v) ? null : Number.isFinite(v) ? v : String(v));

/** `edd compare --sweep --json`: snake_case keys, statistics named as scipy / statsmodels name them. */
export function sweepJson(s: SweepComparison): Record<string, unknown> {
  return {
    sweep_id: s.sweepId,
    metric: s.metric,
    goal: s.goal,
    metric_from: s.metricFrom,
    sweep_config: s.configPath,
    parameters: s.parameters,
    runs: s.runs.map(r => ({ run_id: r.runId, trial_index: r.trialIndex, seed: r.seed, status: r.status, params: r.params, value: r.value })),
    runs_used: s.used,
    best_trial: s.best && {
      trial_index: s.best.trialIndex, params: s.best.params, n: s.best.n, mean: s.best.mean, sd: nan(s.best.sd), best_run_id: s.best.runId, best_run_value: s.best.value,
    },
    group_by: s.groupBy,
    groups: s.groups.map(g => ({ value: g.value, n: g.n, mean: g.mean, sd: nan(g.sd), run_ids: g.runIds })),
    pairs: s.pairs.map(p => ({
      a: s.groups[p.a].value, b: s.groups[p.b].value, mean_difference: p.difference, welch_t: finite(p.statistic), df: finite(p.df), p_value: finite(p.pValue), p_holm: finite(p.pHolm),
      reject: p.pHolm <= s.alpha,
    })),
    pairs_omitted: s.pairsOmitted,
    alpha: s.alpha,
    correction: 'holm',
    importance_method: s.importanceMethod,
    importance_binning: { max_levels: s.importanceBinning.maxLevels, bins: s.importanceBinning.bins },
    importance: s.importance.map(i => ({ parameter: i.parameter, eta_squared: finite(i.etaSquared), f_statistic: finite(i.statistic), p_value: finite(i.pValue), df_between: i.dfBetween, df_within: i.dfWithin, levels: i.levels, binned: i.binned })),
  };
}

const num = (v: number | null | undefined): string => {
  if (v === null || v === undefined || Number.isNaN(v)) return '—';
  if (!Number.isFinite(v)) return String(v);
  if (Number.isInteger(v)) return String(v);
  return Math.abs(v) >= 1e4 || Math.abs(v) < 1e-3 ? v.toExponential(2) : v.toFixed(4).replace(/0+$/, '').replace(/\.$/, '');
};
const cell = markdownCell;
const shown = (v: string | null): string => (v === null ? t('(none)') : cell(v));

const h2 = (title: string): string => `## ${title}`;

function table(header: string[], rows: string[][]): string {
  return [`| ${header.map(cell).join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map(r => `| ${r.join(' | ')} |`)].join('\n');
}

/** `edd compare --sweep` as Markdown: the best trial, the groups with their tests, the importance. */
export function sweepMarkdown(s: SweepComparison): string {
  const goal = s.goal === 'max' ? t('maximize') : t('minimize');
  const from = s.metricFrom === 'config' ? t('from {0}', cell(s.configPath ?? '')) : s.metricFrom === 'options' ? t('from the options') : t('the first metric logged; name it with --metric');
  const out: string[] = [];
  out.push(h2(t('Sweep {0}', cell(s.sweepId))), '',
    t('{0} runs, {1} finished with {2}. Metric: {2} ({3}, {4}).', s.runs.length, s.used, cell(s.metric), goal, from));
  out.push('', h2(t('Best trial')), '');
  if (!s.best) out.push(t('No finished run has a value of {0} yet.', cell(s.metric)));
  else {
    const b = s.best;
    out.push(t('Trial {0}: {1} = {2} ± {3} (n = {4}); its best run {5} has {6}.',
      b.trialIndex === null ? '—' : String(b.trialIndex), cell(s.metric), num(b.mean), num(b.sd), b.n, cell(b.runId.slice(0, 8)), num(b.value)));
    const params = Object.entries(b.params);
    if (params.length) out.push('', table([t('parameter'), t('value')], params.map(([k, v]) => [cell(k), v === null ? '—' : cell(String(v))])));
  }
  if (s.groupBy !== null) {
    out.push('', h2(t('Groups by {0}', cell(s.groupBy))), '',
      t('Mean ± sd of {0} per group; Welch\'s t between every pair of groups, p-values adjusted with Holm\'s method over the {1} pairs (α = {2}).', cell(s.metric), s.pairs.length, s.alpha));
    out.push('', table([s.groupBy, 'n', t('mean ± sd')], s.groups.map(g => [shown(g.value), String(g.n), `${num(g.mean)} ± ${num(g.sd)}`])));
    if (s.pairsOmitted) out.push('', t('More than {0} groups: the pairwise tests are left out. Group by a parameter with fewer values.', MAX_PAIRWISE_GROUPS));
    else if (s.pairs.length) {
      out.push('', table(['A', 'B', t('mean A − B'), 't', 'df', 'p', t('p (Holm)'), t('significant')], s.pairs.map(p => [
        shown(s.groups[p.a].value), shown(s.groups[p.b].value), num(p.difference), num(p.statistic), num(p.df), num(p.pValue), num(p.pHolm), p.pHolm <= s.alpha ? t('yes') : t('no'),
      ])));
    }
  }
  out.push('', h2(t('Parameter importance')), '', importanceMethodText(cell(s.metric)));
  if (s.importance.length === 0) out.push('', t('No parameter varies across the runs.'));
  else out.push('', table([t('parameter'), 'η²', 'F', 'p', t('levels')], s.importance.map(i => [cell(i.parameter), num(i.etaSquared), num(i.statistic), num(i.pValue), i.binned ? t('{0} (binned)', i.levels) : String(i.levels)])));
  return out.join('\n') + '\n';
}
