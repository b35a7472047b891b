/**
 * The `experiment.sweep` block (a subset of W&B's sweep configuration, so existing sweep files mostly drop in) and its
 * expansion into trials. Pure: reads the parsed config, never the file system.
 */
import { t } from '../l10n';
import { mulberry32, type Random } from '../stats/prng';
import type { Trial } from './executor';

/** The distributions EDD samples (W&B's names). `log_uniform` takes natural-log bounds, as in W&B. */
export const DISTRIBUTIONS = ['int_uniform', 'uniform', 'q_uniform', 'log_uniform_values', 'log_uniform', 'normal'] as const;
export type Distribution = (typeof DISTRIBUTIONS)[number];

/** One swept parameter. */
export type SweepParameter =
  | { kind: 'values'; values: unknown[] }
  | { kind: 'value'; value: unknown }
  | { kind: 'distribution'; distribution: Distribution; min: number; max: number; q: number; mu: number; sigma: number };

export interface SweepSpec {
  method: 'grid' | 'random';
  metric?: { name: string; goal: 'maximize' | 'minimize' };
  /** By dotted path inside `experiment`, in the order the config lists them. */
  parameters: Map<string, SweepParameter>;
  /** Replicates of every configuration; `[base seed]` when the config gives none. */
  seeds: number[];
  /** Seed of the random search (`sampling_seed`, default the experiment's `random_seed`, default 42). */
  samplingSeed: number;
  /** Largest number of trials (runs, replicates included). */
  runCap?: number;
  maxParallel?: number;
  earlyTerminate?: { type: 'median'; minSteps: number };
}

/** The sweep block cannot be used as it is (the editor shows the same problem at its key). */
export class SweepSpecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SweepSpecError';
  }
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** The parameter's distribution as W&B infers it: explicit, or `int_uniform`/`uniform` from integer/number bounds. */
export function distributionOf(p: Obj): Distribution | undefined {
  if (typeof p.distribution === 'string') return (DISTRIBUTIONS as readonly string[]).includes(p.distribution) ? (p.distribution as Distribution) : undefined;
  if (isNum(p.min) && isNum(p.max)) return Number.isInteger(p.min) && Number.isInteger(p.max) ? 'int_uniform' : 'uniform';
  return undefined;
}

/** True when the experiment config has a `sweep` block. */
export function hasSweep(config: unknown): boolean {
  return isObj(config) && isObj(config.experiment) && isObj(config.experiment.sweep);
}

/**
 * Read `experiment.sweep` from a parsed config (one that validated: the schema already checked the shapes, so this
 * only refuses what would make the expansion meaningless).
 */
export function readSweepSpec(config: unknown): SweepSpec {
  const exp = isObj(config) && isObj(config.experiment) ? config.experiment : undefined;
  const s = exp && isObj(exp.sweep) ? exp.sweep : undefined;
  if (!exp || !s) throw new SweepSpecError(t('The config has no `experiment.sweep` block: add one (see the README, “Sweeps”).'));
  const method = s.method === 'random' ? 'random' : 'grid';
  const parameters = new Map<string, SweepParameter>();
  for (const [key, raw] of Object.entries(isObj(s.parameters) ? s.parameters : {})) {
    if (!isObj(raw)) throw new SweepSpecError(t('`sweep.parameters.{0}` must be a mapping such as `{values: [1, 2]}`.', key));
    if (Array.isArray(raw.values)) parameters.set(key, { kind: 'values', values: raw.values });
    else if ('value' in raw) parameters.set(key, { kind: 'value', value: raw.value });
    else {
      const distribution = distributionOf(raw);
      if (!distribution) throw new SweepSpecError(t('`sweep.parameters.{0}` has no `values`, `value` or `distribution`.', key));
      parameters.set(key, {
        kind: 'distribution', distribution,
        min: isNum(raw.min) ? raw.min : 0, max: isNum(raw.max) ? raw.max : 1,
        q: isNum(raw.q) ? raw.q : 1, mu: isNum(raw.mu) ? raw.mu : 0, sigma: isNum(raw.sigma) ? raw.sigma : 1,
      });
    }
  }
  const baseSeed = Number.isInteger(exp.random_seed) ? (exp.random_seed as number) : 42;
  const seeds = Array.isArray(s.seeds) && s.seeds.length ? s.seeds.filter((x): x is number => Number.isInteger(x)) : [baseSeed];
  const metric = isObj(s.metric) && typeof s.metric.name === 'string'
    ? { name: s.metric.name, goal: s.metric.goal === 'minimize' ? 'minimize' as const : 'maximize' as const }
    : undefined;
  const et = isObj(s.early_terminate) && s.early_terminate.type === 'median'
    ? { type: 'median' as const, minSteps: Number.isInteger(s.early_terminate.min_steps) ? (s.early_terminate.min_steps as number) : 0 }
    : undefined;
  return {
    method, metric, parameters, seeds,
    samplingSeed: Number.isInteger(s.sampling_seed) ? (s.sampling_seed as number) : baseSeed,
    runCap: Number.isInteger(s.run_cap) ? (s.run_cap as number) : undefined,
    maxParallel: Number.isInteger(s.max_parallel) ? (s.max_parallel as number) : undefined,
    earlyTerminate: et,
  };
}

/** Number of configurations a grid enumerates (before seeds and `run_cap`); `NaN` if a parameter is not a grid one. */
export function gridSize(spec: Pick<SweepSpec, 'parameters'>): number {
  let n = 1;
  for (const p of spec.parameters.values()) {
    if (p.kind === 'values') n *= p.values.length;
    else if (p.kind === 'distribution') return NaN;
  }
  return n;
}

/** How many trials (runs) the sweep has: grid × seeds, or `run_cap` for random; both capped by `run_cap`. */
export function trialCount(spec: SweepSpec): number {
  const all = spec.method === 'grid' ? gridSize(spec) * spec.seeds.length : (spec.runCap ?? 0);
  return spec.runCap === undefined ? all : Math.min(all, spec.runCap);
}

/**
 * The sweep's trials, in a fixed order: every configuration followed by its replicates (one per seed). A grid walks
 * the parameters in the order the config lists them, the last one varying fastest. A random search draws each
 * configuration from a generator seeded with `samplingSeed`, so the same config always yields the same trials;
 * `run_cap` bounds the total number of runs, replicates included.
 */
export function expandTrials(spec: SweepSpec): Trial[] {
  const total = trialCount(spec);
  const configs: Record<string, unknown>[] = [];
  const needed = Math.ceil(total / spec.seeds.length);
  if (spec.method === 'grid') {
    if (Number.isNaN(total)) throw new SweepSpecError(t('A grid sweep takes `values` or `value` for every parameter, not a distribution: use `method: random`, or list the values.'));
    const entries = [...spec.parameters];
    const sizes = entries.map(([, p]) => (p.kind === 'values' ? p.values.length : 1));
    for (let c = 0; c < needed; c++) {
      const o: Record<string, unknown> = {};
      let rest = c;
      for (let i = entries.length - 1; i >= 0; i--) {
        const [key, p] = entries[i];
        const at = rest % sizes[i];
        rest = Math.floor(rest / sizes[i]);
        o[key] = p.kind === 'values' ? p.values[at] : p.kind === 'value' ? p.value : undefined;
      }
      configs.push(Object.fromEntries(entries.map(([k]) => [k, o[k]])));
    }
  } else {
    const random = mulberry32(spec.samplingSeed);
    for (let c = 0; c < needed; c++) {
      const o: Record<string, unknown> = {};
      for (const [key, p] of spec.parameters) o[key] = sample(p, random);
      configs.push(o);
    }
  }
  const trials: Trial[] = [];
  for (const overrides of configs) {
    for (const seed of spec.seeds) {
      if (trials.length === total) break;
      trials.push({ index: trials.length, overrides, seed });
    }
  }
  return trials;
}

/** One draw of a parameter. */
export function sample(p: SweepParameter, random: Random): unknown {
  if (p.kind === 'value') return p.value;
  if (p.kind === 'values') return p.values[Math.floor(random() * p.values.length)];
  const { min, max } = p;
  const u = random();
  switch (p.distribution) {
    case 'int_uniform':
      return Math.ceil(min) + Math.floor(u * (Math.floor(max) - Math.ceil(min) + 1));
    case 'uniform':
      return min + u * (max - min);
    case 'q_uniform': {
      const v = Math.round((min + u * (max - min)) / p.q) * p.q;
      // Rounding to the grid can leave 0.30000000000000004; keep as many decimals as q has.
      return Number(v.toFixed(decimals(p.q)));
    }
    case 'log_uniform_values':
      return Math.exp(Math.log(min) + u * (Math.log(max) - Math.log(min)));
    case 'log_uniform':
      // W&B's log_uniform: min and max are natural logarithms of the bounds (exp(min) ≤ value ≤ exp(max)).
      return Math.exp(min + u * (max - min));
    case 'normal': {
      // Box–Muller with a second uniform; 1 − u keeps the logarithm finite.
      const v = random();
      return p.mu + p.sigma * Math.sqrt(-2 * Math.log(1 - u)) * Math.cos(2 * Math.PI * v);
    }
  }
}

function decimals(x: number): number {
  const s = String(x);
  const e = s.match(/e-(\d+)$/);
  if (e) return Number(e[1]);
  const dot = s.indexOf('.');
  return dot === -1 ? 0 : s.length - dot - 1;
}

/** Trial values under their dotted keys, plus the seed: what `edd sweep --dry-run --json` prints per trial. */
export function trialJson(trial: Trial): { trial_index: number; seed: number; overrides: Record<string, unknown> } {
  return { trial_index: trial.index, seed: trial.seed, overrides: trial.overrides };
}
