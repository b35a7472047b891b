/**
 * The comparison of a sweep's runs (runs tagged `sweep_id`, `trial_index`, `sweep_config`): the best trial, the runs
 * grouped by a parameter or tag with mean ± sd and n of the sweep's metric, Welch's t between every pair of groups
 * with Holm's correction, and how much of the metric's variance each parameter explains. Shared by
 * `edd compare --sweep` and the comparison panel's sweep views; pure data, no rendering.
 */
import * as fs from 'fs';
import * as path from 'path';
import { parse } from 'yaml';
import { t } from '../l10n';
import { holm } from '../stats/holm';
import { mean, variance } from '../stats/descriptive';
import { oneWayAnova } from '../stats/anova';
import { welchTTest } from '../stats/ttest';
import type { RunStore, RunSummary } from '../store';
import { CompareError, goalOf } from './build';

export type Goal = 'min' | 'max';
export type ParamValue = string | number | boolean | null;

/** Parameters with more distinct numeric values than this are cut into {@link IMPORTANCE_BINS} quantile bins. */
export const IMPORTANCE_MAX_LEVELS = 10;
export const IMPORTANCE_BINS = 5;
/** Pairwise tests are left out above this many groups (n·(n−1)/2 tests would be unreadable and slow). */
export const MAX_PAIRWISE_GROUPS = 50;

export interface SweepRun {
  runId: string;
  trialIndex: number | null;
  seed: number | null;
  status: string;
  /** The run's flattened params (dotted keys), only the ones that vary across the sweep. */
  params: Record<string, ParamValue>;
  /** The run's final value of the sweep's metric; null when it has none (not finished, crashed, not logged). */
  value: number | null;
}

export interface SweepGroup {
  /** The parameter's (or tag's) value as text; null for runs without it. */
  value: string | null;
  n: number;
  mean: number;
  /** Sample standard deviation (ddof 1); NaN with one run. */
  sd: number;
  runIds: string[];
}

export interface SweepPair {
  /** Indexes into `groups`. */
  a: number;
  b: number;
  /** mean(a) − mean(b). */
  difference: number;
  statistic: number;
  df: number;
  pValue: number;
  /** Holm-adjusted over every pair of this grouping. */
  pHolm: number;
}

export interface SweepImportance {
  parameter: string;
  /** Share of the metric's total sum of squares explained by the parameter's levels (one-way ANOVA η²). */
  etaSquared: number;
  /** F statistic of the same ANOVA (scipy.stats.f_oneway). */
  statistic: number;
  /** p-value of F (scipy's `f_oneway(...).pvalue`): whether the levels differ at all; not corrected across parameters. */
  pValue: number;
  dfBetween: number;
  dfWithin: number;
  levels: number;
  /** True when the parameter's values were cut into quantile bins (more than IMPORTANCE_MAX_LEVELS values). */
  binned: boolean;
}

export interface SweepBest {
  trialIndex: number | null;
  params: Record<string, ParamValue>;
  n: number;
  mean: number;
  sd: number;
  /** The trial's best single run. */
  runId: string;
  value: number;
}

export interface SweepComparison {
  sweepId: string;
  metric: string;
  goal: Goal;
  /** Where the metric and goal came from: the sweep config's `experiment.sweep.metric`, or the caller's options. */
  metricFrom: 'config' | 'options' | 'default';
  configPath: string | null;
  /** The parameters that vary across the runs (dotted keys), in order; `seed` last when the runs' seeds vary. */
  parameters: string[];
  runs: SweepRun[];
  /** Runs used in the statistics (finished, with a finite value of the metric). */
  used: number;
  best: SweepBest | null;
  groupBy: string | null;
  groups: SweepGroup[];
  pairs: SweepPair[];
  /** True when there were more than MAX_PAIRWISE_GROUPS groups and the pairs were left out. */
  pairsOmitted: boolean;
  alpha: number;
  /** Sorted by η², largest first. */
  importance: SweepImportance[];
  /** How `importance` was computed (a stable id; the CLI and the panel say it in words). */
  importanceMethod: 'anova-eta-squared';
  /** Numeric parameters with more distinct values than `maxLevels` were cut into `bins` quantile bins. */
  importanceBinning: { maxLevels: number; bins: number };
}

export interface SweepOptions {
  /** Metric and goal when the sweep config does not name them. */
  metric?: string;
  goal?: Goal;
  /** A parameter (dotted key, or its last part), a tag, or `seed`; default: the most important parameter. */
  groupBy?: string;
  alpha?: number;
  /** Where relative `sweep_config` paths are resolved. */
  workspaceRoot?: string;
}

function flatten(obj: unknown, prefix: string, out: Record<string, ParamValue>): void {
  if (obj !== null && typeof obj === 'object' && !Array.isArray(obj)) {
    for (const [k, v] of Object.entries(obj)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
    return;
  }
  out[prefix] = obj === null || typeof obj === 'string' || typeof obj === 'number' || typeof obj === 'boolean' ? obj : JSON.stringify(obj);
}

const text = (v: ParamValue | undefined): string | null => (v === undefined || v === null ? null : typeof v === 'string' ? v : String(v));

/** The metric and goal of a sweep config's `experiment.sweep.metric` (W&B's `{name, goal: maximize|minimize}`). */
export function sweepMetricOf(configText: string): { metric: string; goal: Goal } | undefined {
  let doc: unknown;
  try {
    doc = parse(configText, { maxAliasCount: 100 });
  } catch {
    return undefined;
  }
  const metric = (((doc as Record<string, unknown> | null)?.experiment as Record<string, unknown> | undefined)?.sweep as Record<string, unknown> | undefined)?.metric as Record<string, unknown> | undefined;
  if (!metric || typeof metric.name !== 'string') return undefined;
  const goal = metric.goal === 'minimize' ? 'min' : metric.goal === 'maximize' ? 'max' : undefined;
  return { metric: metric.name, goal: goal ?? goalOf(metric.name) };
}

/** The sweep id shared by all `runIds`, if they all carry the same `sweep_id` tag (the panel shows the sweep views then). */
export function commonSweepId(store: RunStore, runIds: readonly string[]): string | undefined {
  let id: string | undefined;
  for (const runId of runIds) {
    const tag = store.getRun(runId)?.tags.sweep_id;
    if (!tag || (id !== undefined && tag !== id)) return undefined;
    id = tag;
  }
  return id;
}

function groupKeyOf(name: string, parameters: string[], runs: readonly RunSummary[]): { kind: 'param' | 'tag' | 'seed'; key: string } | undefined {
  if (parameters.includes(name)) return { kind: 'param', key: name };
  if (name === 'seed') return { kind: 'seed', key: 'seed' };
  if (runs.some(r => name in r.tags)) return { kind: 'tag', key: name };
  const suffix = parameters.filter(p => p.endsWith(`.${name}`));
  if (suffix.length === 1) return { kind: 'param', key: suffix[0] };
  return undefined;
}

/** Sorted group values: numerically when every value is a number, else as text; missing values last. */
function sortValues(values: Array<string | null>): Array<string | null> {
  const present = values.filter((v): v is string => v !== null);
  const numeric = present.every(v => v.trim() !== '' && Number.isFinite(Number(v)));
  present.sort(numeric ? (a, b) => Number(a) - Number(b) : (a, b) => a.localeCompare(b));
  return values.includes(null) ? [...present, null] : present;
}

/**
 * Levels of a parameter for the ANOVA: each distinct value, or — for a numeric parameter with more than
 * IMPORTANCE_MAX_LEVELS distinct values (a random sweep's learning rate) — IMPORTANCE_BINS bins of about equal count
 * by rank (equal values always share a bin).
 */
function levelsOf(values: ParamValue[]): { levels: number[]; count: number; binned: boolean } {
  const keys = values.map(v => (v === null ? '\u0000' : typeof v === 'string' ? `s${v}` : `n${String(v)}`));
  const distinct = [...new Set(keys)];
  const numeric = values.every(v => typeof v === 'number');
  if (!numeric || distinct.length <= IMPORTANCE_MAX_LEVELS) {
    const index = new Map(distinct.map((k, i) => [k, i]));
    return { levels: keys.map(k => index.get(k)!), count: distinct.length, binned: false };
  }
  const order = values.map((_, i) => i).sort((a, b) => (values[a] as number) - (values[b] as number));
  const levels = new Array<number>(values.length);
  let firstRank = 0;
  order.forEach((i, rank) => {
    if (rank === 0 || values[i] !== values[order[rank - 1]]) firstRank = rank;
    levels[i] = Math.floor((firstRank * IMPORTANCE_BINS) / values.length);
  });
  return { levels, count: new Set(levels).size, binned: true };
}

function importanceOf(parameter: string, values: ParamValue[], metric: number[]): SweepImportance {
  const { levels, count, binned } = levelsOf(values);
  const groups: number[][] = Array.from({ length: Math.max(...levels, 0) + 1 }, () => []);
  levels.forEach((l, i) => groups[l].push(metric[i]));
  const a = oneWayAnova(groups);
  return { parameter, etaSquared: a.etaSquared, statistic: a.statistic, pValue: a.pValue, dfBetween: a.dfBetween, dfWithin: a.dfWithin, levels: count, binned };
}

function better(goal: Goal, a: number, b: number): boolean {
  return goal === 'max' ? a > b : a < b;
}

/** The comparison of the sweep `sweepId` in `store`. Throws CompareError (a user error) for an unknown sweep or group. */
export function buildSweepComparison(store: RunStore, sweepId: string, options: SweepOptions = {}): SweepComparison {
  const all = store.listRuns({ tags: { sweep_id: sweepId } });
  if (all.length === 0) {
    const known = [...new Set(store.listRuns().map(r => r.tags.sweep_id).filter((x): x is string => !!x))].sort();
    throw new CompareError(known.length
      ? t('No runs belong to sweep "{0}". Sweeps in this store: {1}.', sweepId, known.slice(0, 10).join(', '))
      : t('No runs belong to sweep "{0}", and this store has no sweeps. Start one with "edd sweep <config>".', sweepId));
  }
  all.sort((a, b) => Number(a.tags.trial_index ?? Infinity) - Number(b.tags.trial_index ?? Infinity) || (a.seed ?? 0) - (b.seed ?? 0) || a.createdAt - b.createdAt);

  // The metric: the sweep config's, then the caller's, then the only / first metric the runs logged.
  const configTag = all.find(r => r.tags.sweep_config)?.tags.sweep_config ?? null;
  let fromConfig: { metric: string; goal: Goal } | undefined;
  if (configTag) {
    const file = path.resolve(options.workspaceRoot ?? process.cwd(), configTag);
    let configText: string | null = null;
    try {
      configText = fs.readFileSync(file, 'utf8');
    } catch {
      configText = store.getRun(all[0].id)?.configSnapshot ?? null;
    }
    if (configText !== null) fromConfig = sweepMetricOf(configText);
  }
  let metric: string;
  let goal: Goal;
  let metricFrom: SweepComparison['metricFrom'];
  if (fromConfig) {
    metric = fromConfig.metric;
    goal = fromConfig.goal;
    metricFrom = 'config';
  } else if (options.metric) {
    metric = options.metric;
    goal = options.goal ?? goalOf(metric);
    metricFrom = 'options';
  } else {
    const keys = [...new Set(all.flatMap(r => Object.keys(r.finalMetrics)))].sort();
    if (keys.length === 0) throw new CompareError(t('The runs of sweep "{0}" logged no metrics yet.', sweepId));
    metric = keys[0];
    goal = options.goal ?? goalOf(metric);
    metricFrom = 'default';
  }

  const flat = all.map(r => {
    const out: Record<string, ParamValue> = {};
    flatten(r.params, '', out);
    return out;
  });
  const keys = [...new Set(flat.flatMap(p => Object.keys(p)))].sort();
  const parameters = keys.filter(k => new Set(flat.map(p => JSON.stringify(p[k] ?? null))).size > 1);
  if (!parameters.includes('seed') && new Set(all.map(r => r.seed)).size > 1) parameters.push('seed');

  const runs: SweepRun[] = all.map((r, i) => {
    const v = r.finalMetrics[metric];
    const params: Record<string, ParamValue> = {};
    for (const p of parameters) params[p] = p === 'seed' && !('seed' in flat[i]) ? r.seed : flat[i][p] ?? null;
    const trial = Number(r.tags.trial_index);
    return {
      runId: r.id, trialIndex: r.tags.trial_index !== undefined && Number.isSafeInteger(trial) ? trial : null, seed: r.seed, status: r.status, params,
      value: r.status === 'finished' && Number.isFinite(v) ? v : null,
    };
  });
  const used = runs.filter(r => r.value !== null);
  const values = used.map(r => r.value!);

  // Best trial: the best mean over its seeds.
  let best: SweepBest | null = null;
  const trials = new Map<string, SweepRun[]>();
  for (const r of used) {
    const k = r.trialIndex === null ? `run:${r.runId}` : `trial:${r.trialIndex}`;
    trials.set(k, [...(trials.get(k) ?? []), r]);
  }
  for (const rs of trials.values()) {
    const vs = rs.map(r => r.value!);
    const m = mean(vs);
    if (best && !better(goal, m, best.mean)) continue;
    const top = rs.reduce((x, y) => (better(goal, y.value!, x.value!) ? y : x));
    const params = { ...rs[0].params };
    delete params.seed;
    best = { trialIndex: rs[0].trialIndex, params, n: rs.length, mean: m, sd: Math.sqrt(variance(vs)), runId: top.runId, value: top.value! };
  }

  const importance = parameters.map(p => importanceOf(p, used.map(r => r.params[p]), values))
    .sort((a, b) => (Number.isNaN(b.etaSquared) ? -1 : b.etaSquared) - (Number.isNaN(a.etaSquared) ? -1 : a.etaSquared));

  // Grouping: the asked parameter or tag, else the most important parameter other than the seed.
  let groupBy: string | null = null;
  let groupValue: ((r: SweepRun) => string | null) | undefined;
  if (options.groupBy !== undefined) {
    const g = groupKeyOf(options.groupBy, parameters, all);
    if (!g) {
      const choices = [...parameters, ...new Set(all.flatMap(r => Object.keys(r.tags)))];
      throw new CompareError(t('Sweep "{0}" has no parameter or tag "{1}" that varies. Choose one of: {2}.', sweepId, options.groupBy, choices.join(', ')));
    }
    groupBy = g.key;
    const tagOf = new Map(all.map(r => [r.id, r.tags[g.key]]));
    groupValue = g.kind === 'tag' ? r => tagOf.get(r.runId) ?? null : g.kind === 'seed' ? r => text(r.seed) : r => text(r.params[g.key]);
  } else {
    const top = importance.find(i => i.parameter !== 'seed' && !i.binned) ?? importance.find(i => i.parameter !== 'seed');
    if (top) {
      groupBy = top.parameter;
      groupValue = r => text(r.params[top.parameter]);
    }
  }
  const groups: SweepGroup[] = [];
  if (groupValue) {
    const byValue = new Map<string | null, SweepRun[]>();
    for (const r of used) {
      const v = groupValue(r);
      byValue.set(v, [...(byValue.get(v) ?? []), r]);
    }
    for (const v of sortValues([...byValue.keys()])) {
      const rs = byValue.get(v)!;
      const vs = rs.map(r => r.value!);
      groups.push({ value: v, n: vs.length, mean: mean(vs), sd: Math.sqrt(variance(vs)), runIds: rs.map(r => r.runId) });
    }
  }
  const alpha = options.alpha ?? 0.05;
  const pairs: SweepPair[] = [];
  const pairsOmitted = groups.length > MAX_PAIRWISE_GROUPS;
  if (!pairsOmitted) {
    const valueOf = new Map(used.map(r => [r.runId, r.value!]));
    const valuesOf = groups.map(g => g.runIds.map(id => valueOf.get(id)!));
    for (let a = 0; a < groups.length; a++) {
      for (let b = a + 1; b < groups.length; b++) {
        const w = welchTTest(valuesOf[a], valuesOf[b]);
        pairs.push({ a, b, difference: w.difference, statistic: w.statistic, df: w.df, pValue: w.pValue, pHolm: NaN });
      }
    }
    const adjusted = holm(pairs.map(p => p.pValue), alpha).adjusted;
    pairs.forEach((p, i) => { p.pHolm = adjusted[i]; });
  }

  return {
    sweepId, metric, goal, metricFrom, configPath: configTag, parameters, runs, used: used.length, best, groupBy, groups, pairs, pairsOmitted, alpha,
    importance, importanceMethod: 'anova-eta-squared', importanceBinning: { maxLevels: IMPORTANCE_MAX_LEVELS, bins: IMPORTANCE_BINS },
  };
}

/**
 * The sweep views of a comparison: the sweep of `runIds` when they all belong to one, else undefined. A sweep that
 * cannot be built (no metric logged yet) is left out rather than failing the comparison.
 */
export function sweepOfComparison(store: RunStore, runIds: readonly string[], options: SweepOptions = {}): SweepComparison | undefined {
  const id = commonSweepId(store, runIds);
  if (id === undefined) return undefined;
  try {
    return buildSweepComparison(store, id, options);
  } catch (e) {
    if (e instanceof CompareError) return undefined;
    throw e;
  }
}
